/* ms_report, tables: --pivot ROW,COL --metric M, the summary (its rows
 * chosen by export.c) as a grid: a row per value of setting ROW, a column
 * per value of COL, each cell M's mean over the seeds of the one variant
 * with both values. The table types are export_table.h's. */
#define _POSIX_C_SOURCE 200809L
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_table.h"

/* ---- --pivot ROW,COL --metric M: the summary as a grid ---- */

/* name's index in the summary's columns, or -1 after "OPT: no column ..." */
static int summary_index(const char *opt, const char *name, int *i)
{
    int nsum;
    const column *summary_cols = ms_tab_cols(MS_TABLE_SUMMARY, &nsum);
    const char *names[MS_TAB_MAX_COLS];
    char h[96];
    for (*i = 0; *i < nsum; (*i)++)
        if (!strcmp(name, summary_cols[*i].key))
            return 0;
    for (int k = 0; k < nsum; k++)
        names[k] = summary_cols[k].key;
    return ms_error("%s: no column '%s' in the summary table%s", opt, name,
                    ms_hint(h, sizeof h, name, names, nsum));
}

/* ROW and COL (columns of the summary, not results) and M (a result): their
 * indexes in the summary's columns; -1 after a message. */
int ms_tab_parse_pivot(const char *pivot, const char *metric, int *rc, int *cc, int *mc)
{
    int nsum;
    const column *summary_cols = ms_tab_cols(MS_TABLE_SUMMARY, &nsum);
    size_t k = strcspn(pivot, ",");
    if (!k || !pivot[k] || !pivot[k + 1] || strchr(pivot + k + 1, ','))
        return ms_error("--pivot: expected ROW,COL (two columns of the summary, e.g. lr,batch), "
                        "got '%s'", pivot);
    char name[2][64];
    snprintf(name[0], sizeof name[0], "%.*s", (int)(k < 63 ? k : 63), pivot);
    snprintf(name[1], sizeof name[1], "%s", pivot + k + 1);
    int *idx[2] = {rc, cc};
    for (int a = 0; a < 2; a++) {
        if (summary_index("--pivot", name[a], idx[a]) < 0)
            return -1;
        if (summary_cols[*idx[a]].type == T_STAT)
            return ms_error("--pivot: '%s' is a result; a pivot's rows and columns are "
                            "settings (e.g. lr,batch), its cells --metric", name[a]);
    }
    if (*rc == *cc)
        return ms_error("--pivot: '%s' twice", name[0]);
    if (!metric)
        return ms_error("--pivot needs --metric (the result each cell shows, e.g. final_val_acc)");
    if (summary_index("--metric", metric, mc) < 0)
        return -1;
    if (summary_cols[*mc].type != T_STAT) {
        char list[256] = "";
        for (int i = 0; i < nsum; i++)
            if (summary_cols[i].type == T_STAT)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         *list ? ", " : "", summary_cols[i].key);
        return ms_error("--metric: '%s' is not a result (expected one of %s)", metric, list);
    }
    return 0;
}

static int same_cell(const cell *a, const cell *b, int type)
{
    if (a->null || b->null)
        return a->null == b->null;
    switch (type) {
    case T_TEXT: return !strcmp(a->s, b->s);
    case T_INT:
    case T_UINT: return a->i == b->i;
    default: return a->x == b->x;
    }
}

/* a before b on a numeric axis: ascending, no value last */
static int num_before(const cell *a, const cell *b, int type)
{
    if (a->null || b->null)
        return !a->null && b->null;
    return type == T_REAL ? a->x < b->x : a->i < b->i;
}

const cell *ms_tab_at(const table *t, int r, int col)
{
    return &t->cells[(size_t)r * (size_t)t->ncols + (size_t)col];
}

/* The values of column col over t's rows, each as the first row holding it:
 * numbers ascending, text in order of appearance (the manifest's). */
int ms_tab_axis(const table *t, int col, int *first)
{
    int n = 0, type = t->cols[col].type;
    for (int r = 0; r < t->nrows; r++) {
        int j = 0;
        while (j < n && !same_cell(ms_tab_at(t, r, col), ms_tab_at(t, first[j], col), type))
            j++;
        if (j == n)
            first[n++] = r;
    }
    for (int i = 1; type != T_TEXT && i < n; i++) /* insertion sort: stable, n small */
        for (int j = i; j > 0 && num_before(ms_tab_at(t, first[j], col), ms_tab_at(t, first[j - 1], col), type);
             j--) {
            int x = first[j];
            first[j] = first[j - 1];
            first[j - 1] = x;
        }
    return n;
}

int ms_tab_varied(const table *t, int *cols)
{
    int n = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].setting || !strcmp(t->cols[i].key, "grid"))
            continue;
        int r = 1;
        while (r < t->nrows && same_cell(ms_tab_at(t, r, i), ms_tab_at(t, 0, i), t->cols[i].type))
            r++;
        if (r < t->nrows)
            cols[n++] = i;
    }
    return n;
}

static int axis_index(const table *t, int col, const int *first, int r)
{
    int j = 0;
    while (!same_cell(ms_tab_at(t, r, col), ms_tab_at(t, first[j], col), t->cols[col].type))
        j++;
    return j;
}

/* A cell as --where would spell it (a machine format's text). */
const char *ms_tab_value_text(const column *col, const cell *c, char buf[32])
{
    if (c->null)
        return "";
    switch (col->type) {
    case T_TEXT: return c->s;
    case T_INT: snprintf(buf, 32, "%lld", (long long)c->i); return buf;
    case T_UINT: snprintf(buf, 32, "%llu", (unsigned long long)c->i); return buf;
    default: return ms_shortest(buf, c->x);
    }
}

/* Rows a and b (variants) fall in one cell: refuse, naming a setting they
 * differ in and a --where that keeps one of them. */
static int pivot_clash(const table *t, int a, int b, int rc, int cc, const char *pivot)
{
    int d = -1;
    for (int i = 0; d < 0 && i < t->ncols; i++)
        if (t->cols[i].setting && i != rc && i != cc &&
            !same_cell(ms_tab_at(t, a, i), ms_tab_at(t, b, i), t->cols[i].type))
            d = i;
    int k = d >= 0 ? d : 0; /* without one: the variant's name (the summary's column 0) */
    char br[32], bc[32], ba[32], bb[32], diff[256], ex[256], msg[1024];
    const char *key = t->cols[k].key, *v = ms_tab_value_text(&t->cols[k], ms_tab_at(t, a, k), ba);
    if (v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")])
        snprintf(ex, sizeof ex, "--where \"%s='%s'\"", key, v);
    else
        snprintf(ex, sizeof ex, "--where '%s=%s'", key, v);
    if (d >= 0)
        snprintf(diff, sizeof diff, "differ in %s (%s and %s)", key, v,
                 ms_tab_value_text(&t->cols[d], ms_tab_at(t, b, d), bb));
    else
        snprintf(diff, sizeof diff, "differ in no setting the summary shows");
    snprintf(msg, sizeof msg,
             "--pivot %s: variants '%s' and '%s' both have %s=%s, %s=%s and %s: keep one with "
             "--where, e.g. %s",
             pivot, ms_tab_at(t, a, 0)->s, ms_tab_at(t, b, 0)->s, t->cols[rc].key,
             ms_tab_value_text(&t->cols[rc], ms_tab_at(t, a, rc), br), t->cols[cc].key,
             ms_tab_value_text(&t->cols[cc], ms_tab_at(t, a, cc), bc), diff, ex);
    char *shown = ms_printable(msg); /* names from a database: no control characters */
    ms_error("%s", shown);
    free(shown);
    return -1;
}

/* The grid's columns: ROW's (headed "M: ROW \ COL" for reading), then one
 * per value of COL, keyed COL=VALUE. */
static void pivot_columns(const table *t, int rc, int cc, int mc, const int *cols, int nc,
                          table *p)
{
    column *c = ms_calloc((size_t)nc + 1, sizeof *c);
    char buf[32];
    p->strs = ms_malloc((size_t)(2 * nc + 1) * sizeof *p->strs);
    c[0] = t->cols[rc];
    c[0].head = p->strs[p->nstrs++] = ms_xstrfmt("%s: %s \\ %s", t->cols[mc].head,
                                                 t->cols[rc].key, t->cols[cc].key);
    /* a mean of epochs is not a count: shown as it is, not rounded */
    int fmt = t->cols[mc].fmt == F_COUNT ? F_PLAIN : t->cols[mc].fmt;
    for (int j = 0; j < nc; j++) {
        const char *v = ms_tab_value_text(&t->cols[cc], ms_tab_at(t, cols[j], cc), buf);
        c[j + 1] = (column){NULL, NULL, T_REAL, fmt, 0};
        c[j + 1].key = p->strs[p->nstrs++] = ms_xstrfmt("%s=%s", t->cols[cc].key, v);
        c[j + 1].head = p->strs[p->nstrs++] = ms_strdup(v);
    }
    p->cols = p->owned_cols = c;
    p->ncols = nc + 1;
}

static void pivot_cells(const table *t, int rc, int mc, const int *rows, int nr,
                        const int *owner, int nc, table *p)
{
    for (int i = 0; i < nr; i++) {
        cell *c = ms_tab_new_row(p);
        c[0] = *ms_tab_at(t, rows[i], rc);
        c[0].s = c[0].s ? ms_strdup(c[0].s) : NULL;
        for (int j = 0; j < nc; j++) {
            int o = owner[i * nc + j];
            const cell *m = o >= 0 ? ms_tab_at(t, o, mc) : NULL;
            c[j + 1] = m && !m->null ? ms_tab_real_cell(m->st.mean)
                                     : (cell){1, NULL, 0, NAN, {0, 0, 0}};
        }
    }
}

/* t (the summary, its rows chosen) becomes the grid: a row per value of
 * column rc, a column per value of cc, each cell metric mc's mean over the
 * seeds of the one variant with both values (empty: none). Two variants in
 * one cell are refused (-1 after a message): which to show is the user's
 * choice, with --where. */
int ms_tab_pivot(table *t, int rc, int cc, int mc, const char *text)
{
    int *rows = ms_malloc(((size_t)t->nrows + 1) * sizeof *rows);
    int *cols = ms_malloc(((size_t)t->nrows + 1) * sizeof *cols);
    int nr = ms_tab_axis(t, rc, rows), nc = ms_tab_axis(t, cc, cols), rcd = 0;
    int *owner = ms_malloc(((size_t)nr * (size_t)nc + 1) * sizeof *owner);
    for (int i = 0; i < nr * nc; i++)
        owner[i] = -1;
    for (int r = 0; rcd == 0 && r < t->nrows; r++) {
        int *o = &owner[axis_index(t, rc, rows, r) * nc + axis_index(t, cc, cols, r)];
        if (*o >= 0)
            rcd = pivot_clash(t, *o, r, rc, cc, text);
        *o = r;
    }
    if (rcd == 0) {
        table p = {0};
        pivot_columns(t, rc, cc, mc, cols, nc, &p);
        pivot_cells(t, rc, mc, rows, nr, owner, nc, &p);
        ms_tab_release(t);
        *t = p;
    }
    free(rows);
    free(cols);
    free(owner);
    return rcd;
}
