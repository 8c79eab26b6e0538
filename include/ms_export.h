/* ms_export: a sweep's results as tables (export.c): the summary per variant
 * and the long per-epoch and per-validation tables, as CSV, Markdown, LaTeX
 * or JSON. Renders an ms_query snapshot (the current runs of one sweep)
 * and never sees SQL. The formats and columns are documented in docs/reports.md.
 * Every function returns 0 or -1 after printing one message with ms_error(). */
#ifndef MS_EXPORT_H
#define MS_EXPORT_H

#include <stddef.h>

#include "ms_query.h"
#include "ms_store.h"

typedef enum { MS_TABLE_SUMMARY, MS_TABLE_EPOCHS, MS_TABLE_EVALS, MS_TABLE_STEPS } ms_table;
typedef enum { MS_FORMAT_CSV, MS_FORMAT_MD, MS_FORMAT_LATEX, MS_FORMAT_JSON, MS_FORMAT_HTML } ms_format;

/* "summary" | "epochs" | "evals", and "csv" | "md" | "latex" | "json" | "html"
 * (a <table> element, for a page of one's own or the report);
 * -1 (no message) for anything else. */
int ms_table_parse(const char *s, ms_table *out);
int ms_format_parse(const char *s, ms_format *out);

/* A table of a snapshot rendered in a format, as one NUL-terminated
 * malloc'd string (*len bytes without the NUL; caller frees *out); the
 * snapshot must hold the part ms_export_reads(t) names. `columns` is a
 * comma list of column keys in the order wanted, "all", or NULL for the
 * default: every column, except a summary in Markdown, LaTeX or HTML, which
 * shows the ten that fit a page (docs/reports.md). */
int ms_export_render(const ms_snapshot *s, ms_table t, ms_format f, const char *columns,
                     char **out, size_t *len);
/* The part of a snapshot table t is rendered from (MS_SNAP_SUMMARY, ...). */
unsigned ms_export_reads(ms_table t);
/* The same, read from the store: ms_snapshot_read of that part, then
 * ms_export_render. */
int ms_export(ms_store *st, const char *sweep, ms_table t, ms_format f, const char *columns,
              char **out, size_t *len);
/* 0 when every column of the list is one of the table's (NULL is fine), else
 * -1 after a message naming the first that is not: for checking the command
 * line before anything is opened. */
int ms_export_columns_check(ms_table t, const char *columns);

#endif
