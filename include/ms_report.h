/* ms_report: a sweep's results as one self-contained HTML page (report.c):
 * the summary table (mean ± std over seeds), the figures as inline SVG, each
 * variant's runs, the manifest the sweep ran with, and provenance. The page
 * loads nothing from the network, reads on a phone and prints on A4. Every
 * section is rendered (through ms_export and ms_plot) from ONE ms_query
 * snapshot, so they agree while a sweep writes; every text from a manifest
 * or a database is escaped. Returns 0 or -1 after one message with ms_error(). */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include <stddef.h>

#include "ms_manifest.h"
#include "ms_scope.h"
#include "ms_store.h"

/* Who writes the page: shown under provenance beside the runs' own. */
typedef struct ms_report_info {
    const char *version, *compiler, *isa, *host, *time; /* time: UTC, ISO 8601 */
} ms_report_info;

/* The page for the current runs of `sweep` (or a scope's runs, NULL: the
 * current ones), drawing m's figures (m->plots, at least one), as one
 * malloc'd NUL-terminated string (*len bytes). */
int ms_report_html(ms_store *st, const char *sweep, const ms_manifest *m, const ms_scope *scope,
                   const ms_report_info *info, char **out, size_t *len);

#endif
