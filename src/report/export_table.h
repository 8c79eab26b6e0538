/* ms_tab: the generic table of an export, private to src/report/.
 * export.c defines the table model (a snapshot's table read into typed
 * cells, its column lists), chooses its rows (--where, --sort, --top) and
 * columns, and holds the ms_export API; export_pivot.c turns the summary
 * into a grid (--pivot ROW,COL --metric M); export_format.c renders a table
 * as CSV, Markdown, LaTeX, JSON or HTML. The types below are what the three
 * share; their functions are prefixed ms_tab_. */
#ifndef MS_EXPORT_TABLE_H
#define MS_EXPORT_TABLE_H

#include "ms_export.h"
#include "ms_stats.h"

#include <stddef.h>
#include <stdint.h>

/* ---- the generic table ---- */

enum { T_TEXT, T_INT, T_UINT, T_REAL, T_STAT };
/* How md/latex show a number: as is, accuracy in %, loss with 4 significant
 * digits, seconds, a count (epochs). */
enum { F_PLAIN, F_ACC, F_LOSS, F_SECONDS, F_COUNT, F_HIDDEN };

typedef struct column {
    const char *key;  /* CSV header / JSON key (a statistic adds _mean and _std) */
    const char *head; /* md/latex header */
    int type, fmt;
    int setting; /* SETTING: one of a variant's settings (a pivot names the one that differs) */
} column;
enum { SETTING = 1 };
enum { MS_TAB_MAX_COLS = 64 }; /* columns in a table at most (the summary's 27) */

typedef struct cell {
    int null;
    char *s;
    int64_t i;
    double x;
    ms_stat st;
} cell;

typedef struct table {
    const column *cols;
    column *owned_cols; /* after project() or ms_tab_pivot(): cols, to free */
    char **strs;        /* a pivot's column keys and heads, to free */
    int nstrs;
    int ncols, nrows, cap;
    cell *cells; /* row-major */
} table;

/* export.c: the summary of a snapshot (grid NULL: every variant, else the
 * variants of that grid only) into t. */
void ms_tab_summary(const ms_snapshot *snap, const char *grid, table *t);
/* export.c: the columns of a table (*n of them); a new row of t, its cells
 * zeroed; t's cells, columns and strings freed; a real cell (NaN: NULL). */
const column *ms_tab_cols(ms_table which, int *n);
cell *ms_tab_new_row(table *t);
void ms_tab_release(table *t);
cell ms_tab_real_cell(double x);

/* export_pivot.c: --pivot's ROW and COL and --metric's M as indexes in the
 * summary's columns (-1 after a message); t (the summary, its rows chosen)
 * made the grid, or -1 after a message when two variants fall in one cell
 * (text: the --pivot argument, for the message). */
int ms_tab_parse_pivot(const char *pivot, const char *metric, int *rc, int *cc, int *mc);
int ms_tab_pivot(table *t, int rc, int cc, int mc, const char *text);
/* export_pivot.c, what a pivot and the grid views (grid.c) share: the cell
 * of row r, column col; the values of column col over t's rows, each as the
 * first row holding it into first (numbers ascending, text in row order),
 * how many; a cell as --where would spell it (a machine format's text, ""
 * for none); the settings (not `grid`) whose values differ among t's rows
 * into cols (MS_TAB_MAX_COLS at most), how many: a grid's axes. */
const cell *ms_tab_at(const table *t, int r, int col);
int ms_tab_axis(const table *t, int col, int *first);
const char *ms_tab_value_text(const column *col, const cell *c, char buf[32]);
int ms_tab_varied(const table *t, int *cols);

/* export_format.c: t in a format, as one malloc'd string (*len bytes
 * without the NUL); -1 after a message. */
int ms_tab_write(const table *t, ms_format fmt, char **out, size_t *len);

#endif
