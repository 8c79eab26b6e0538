/* ms_export: a sweep's results as tables (export.c; the pivot in
 * export_pivot.c, the writers in export_format.c): the summary per variant
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

/* What to export: a table in a format, and which of its rows and columns.
 * Rows are chosen first (where, then sort, then top), then the columns: the
 * list, or with pivot a grid of the summary (docs/reports.md has each). */
typedef struct ms_export_opts {
    ms_table table;
    ms_format format;
    const char *columns; /* a comma list of keys in the order wanted, "all", or NULL: every
                            column, except a summary in md, latex or html: the ten of a page */
    const char *where;   /* a filter (ms_filter.h's grammar) over the table's columns; NULL: all */
    const char *sort;    /* COLUMN[,asc|desc]: stable, empty values last; NULL: the table's order */
    int top;             /* the first top rows after where and sort; 0: every row */
    const char *pivot;   /* ROW,COL: a row per value of setting ROW, a column per value of COL,
                            each cell the mean over seeds of the result `metric`; NULL: none */
    const char *metric;
} ms_export_opts;

/* 0 when o can be rendered whatever the data (its names, filter, sort and
 * pivot are well formed and fit together), else -1 after one message naming
 * the option: for checking the command line before anything is opened. */
int ms_export_check(const ms_export_opts *o);
/* o's table of a snapshot, as one NUL-terminated malloc'd string (*len bytes
 * without the NUL; caller frees *out); the snapshot must hold the part
 * ms_export_reads(o->table) names. A pivot with two variants in one cell is
 * refused (-1: the message names a setting they differ in). */
int ms_export_render(const ms_snapshot *s, const ms_export_opts *o, char **out, size_t *len);
/* The part of a snapshot table t is rendered from (MS_SNAP_SUMMARY, ...). */
unsigned ms_export_reads(ms_table t);
/* The variants o->where asks for by name (its conditions variant = NAME),
 * malloc'd copies, up to max into out (the caller frees each); how many. */
int ms_export_where_variants(const ms_export_opts *o, char **out, int max);
/* The same, read from the store: ms_snapshot_read of that part, then
 * ms_export_render. */
int ms_export(ms_store *st, const char *sweep, const ms_export_opts *o, char **out, size_t *len);

/* Decimals to print a time of s seconds with: one, or as many as show its
 * first two significant digits (0.0032, 0.050), at most six; a short run's
 * time must not read 0.0. */
int ms_export_seconds_decimals(double s);

#endif
