/* ms_report: results out of a study database, as tables (export.c) and
 * figures (plot.c). Both read it through ms_query (the current runs of one
 * sweep) and never see SQL. The formats and columns are
 * documented in docs/reports.md. Every function returns 0 or -1 after
 * printing one message with ms_error(). */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ms_manifest.h"
#include "ms_query.h"
#include "ms_store.h"

typedef enum { MS_TABLE_SUMMARY, MS_TABLE_EPOCHS, MS_TABLE_EVALS } ms_table;
typedef enum { MS_FORMAT_CSV, MS_FORMAT_MD, MS_FORMAT_LATEX, MS_FORMAT_JSON } ms_format;

/* "summary" | "epochs" | "evals", and "csv" | "md" | "latex" | "json";
 * -1 (no message) for anything else. */
int ms_table_parse(const char *s, ms_table *out);
int ms_format_parse(const char *s, ms_format *out);

/* A whole table of a sweep rendered in a format, as one NUL-terminated
 * malloc'd string (*len bytes without the NUL; caller frees *out). */
int ms_export(ms_store *st, const char *sweep, ms_table t, ms_format f, char **out, size_t *len);

/* The manifest the sweep last ran with, from the database (sweeps.manifest),
 * for `plot` without a MANIFEST argument. Messages name the recorded path. */
int ms_report_manifest(ms_store *st, const char *sweep, ms_manifest *m);

/* gnuplot's path from $PATH (malloc'd), or -1 with the message
 * "gnuplot not found; install it with 'make deps' (Debian package gnuplot-nox)". */
int ms_plot_find_gnuplot(char **path);

/* Draw every figure of m->plots into outdir (created if missing) as
 * NAME.png and NAME.svg, each written atomically. A variant without runs is
 * skipped with a warning, a figure without any data is skipped with a
 * warning and no file. *written counts the figures drawn (may be NULL). */
int ms_plot_all(ms_store *st, const char *sweep, const ms_manifest *m, const char *outdir,
                int *written);

#endif
