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
#include "ms_stats.h"
#include "ms_store.h"

/* Who writes the page: shown under provenance beside the runs' own. */
typedef struct ms_report_info {
    const char *version, *compiler, *isa, *host, *time; /* time: UTC, ISO 8601 */
} ms_report_info;

/* What the page shows beside the runs, gathered by the caller: the
 * manifest as the sweep ran it (its command-line settings inside; its text,
 * path and settings are shown), and the claims of the manifest with each
 * one's comparison as `mlpsweep claims` makes it (names[2i], names[2i + 1]:
 * claim i's a and b as read). */
typedef struct ms_report_input {
    const ms_manifest *ran;
    int nclaims;
    const ms_claim *claims;
    const ms_comparison *verdicts;
    const char *const *names;
    double level;
} ms_report_input;

/* The page for the current runs of `sweep` (or a scope's runs, NULL: the
 * current ones), drawing m's figures (m->plots, at least one) under m's
 * title and description, as one malloc'd NUL-terminated string (*len
 * bytes). */
int ms_report_html(ms_store *st, const char *sweep, const ms_manifest *m, const ms_scope *scope,
                   const ms_report_info *info, const ms_report_input *in, char **out,
                   size_t *len);

#endif
