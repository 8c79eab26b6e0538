/* ms_report: results out of a study database, as tables (export.c) and
 * figures (plot.c). Both only read the database, through the views and
 * tables of docs/schema.md, with prepared statements under ms_store_lock();
 * they report the current runs of one sweep. The formats and columns are
 * documented in docs/reports.md. Every function returns 0 or -1 after
 * printing one message with ms_error(). */
#ifndef MS_REPORT_H
#define MS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ms_manifest.h"
#include "ms_store.h"

typedef enum { MS_TABLE_SUMMARY, MS_TABLE_EPOCHS, MS_TABLE_EVALS } ms_table;
typedef enum { MS_FORMAT_CSV, MS_FORMAT_MD, MS_FORMAT_LATEX, MS_FORMAT_JSON } ms_format;

/* "summary" | "epochs" | "evals", and "csv" | "md" | "latex" | "json";
 * -1 (no message) for anything else. */
int ms_table_parse(const char *s, ms_table *out);
int ms_format_parse(const char *s, ms_format *out);

/* Mean and sample standard deviation (n - 1) of n values; NaNs are skipped
 * (n counts the others). mean is NAN when n = 0, std is NAN when n < 2. */
typedef struct ms_stat {
    double mean, std;
    int n;
} ms_stat;
ms_stat ms_stat_of(const double *x, int n);

/* One variant of the summary table: its settings and, over its runs
 * (seeds), the statistics of each result. */
typedef struct ms_summary_row {
    char *variant, *task, *hidden, *activation, *init;
    char *stop;          /* distinct stop reasons in run order, joined by '/'; a run that
                            has not stopped shows its status (running, pending, failed) */
    double momentum, lr;
    int64_t params;
    int seeds;           /* current runs of the variant */
    ms_stat epochs;      /* epochs run */
    ms_stat final_val_acc, best_val_acc, final_train_loss, final_val_loss, final_train_acc;
    ms_stat train_seconds;
} ms_summary_row;

/* The sweep to report on: `name` when given (it must be in the database),
 * else the database's only sweep. *out is malloc'd (caller frees). */
int ms_report_sweep(ms_store *st, const char *name, char **out);

/* The summary of a sweep, one row per variant in the order of each
 * variant's first run (runs.id), i.e. manifest order. *rows is malloc'd:
 * free it with ms_summary_free(). */
int ms_summary_read(ms_store *st, const char *sweep, ms_summary_row **rows, int *n);
void ms_summary_free(ms_summary_row *rows, int n);

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
