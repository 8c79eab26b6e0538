/* ms_report, tables: the summary per variant and the long per-epoch and
 * per-validation tables, rendered as CSV, Markdown, LaTeX or JSON.
 *
 * A table is read once into memory (rows of typed cells, NULL kept as
 * NULL), then one writer per format renders it (export_format.c: CSV and
 * JSON carry every number exactly, Markdown and LaTeX are for reading).
 *
 * This file: the table of a snapshot, its rows chosen (--where, --sort,
 * --top) and its columns (--columns), and the API; export_pivot.c makes the
 * summary a grid (--pivot), export_format.c has the writers; export_table.h
 * is what the three share. */
#define _POSIX_C_SOURCE 200809L
#include "ms_export.h"
#include "ms_filter.h"
#include "ms_query.h"
#include "ms_util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_table.h"

/* ---- parsing names ---- */

static const char *const table_names[] = {"summary", "epochs", "evals", "steps"};
static const char *const format_names[] = {"csv", "md", "latex", "json", "html"};

int ms_table_parse(const char *s, ms_table *out)
{
    for (int i = 0; i < (int)(sizeof table_names / sizeof *table_names); i++)
        if (!strcmp(s, table_names[i])) {
            *out = (ms_table)i;
            return 0;
        }
    return -1;
}

int ms_format_parse(const char *s, ms_format *out)
{
    for (int i = 0; i < (int)(sizeof format_names / sizeof *format_names); i++)
        if (!strcmp(s, format_names[i])) {
            *out = (ms_format)i;
            return 0;
        }
    return -1;
}

/* ---- the generic table (its types: export_table.h) ---- */

cell *ms_tab_new_row(table *t)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->cells = ms_realloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *t->cells);
    }
    cell *r = &t->cells[(size_t)t->nrows++ * (size_t)t->ncols];
    memset(r, 0, (size_t)t->ncols * sizeof *r);
    return r;
}

void ms_tab_release(table *t)
{
    for (size_t i = 0; i < (size_t)t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i].s);
    free(t->cells);
    free(t->owned_cols);
    for (int i = 0; i < t->nstrs; i++)
        free(t->strs[i]);
    free(t->strs);
    t->cells = NULL;
    t->owned_cols = NULL;
    t->strs = NULL;
    t->nstrs = 0;
}

static const column summary_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN, 0},
    {"task", "task", T_TEXT, F_PLAIN, SETTING},
    {"seeds", "seeds", T_INT, F_PLAIN, 0},
    {"hidden", "hidden", T_TEXT, F_HIDDEN, SETTING},
    {"activation", "activation", T_TEXT, F_PLAIN, SETTING},
    {"init", "init", T_TEXT, F_PLAIN, SETTING},
    {"momentum", "momentum", T_REAL, F_PLAIN, SETTING},
    {"lr", "lr", T_REAL, F_PLAIN, SETTING},
    {"params", "params", T_INT, F_PLAIN, 0},
    {"epochs", "epochs", T_STAT, F_COUNT, 0},
    {"stop_reason", "stop", T_TEXT, F_PLAIN, 0},
    {"final_val_acc", "val acc (%)", T_STAT, F_ACC, 0},
    {"best_val_acc", "best val acc (%)", T_STAT, F_ACC, 0},
    {"final_train_loss", "train loss", T_STAT, F_LOSS, 0},
    {"final_val_loss", "val loss", T_STAT, F_LOSS, 0},
    {"final_train_acc", "train acc (%)", T_STAT, F_ACC, 0},
    {"train_seconds", "train s", T_STAT, F_SECONDS, 0},
    /* added 2026-11-29, and batch for --pivot lr,batch: columns only ever join at the end */
    {"precision", "precision", T_TEXT, F_PLAIN, SETTING},
    {"batch", "batch", T_INT, F_PLAIN, SETTING},
    /* schema version 4: every other setting, and the grid that made the variant */
    {"epochs_total", "max epochs", T_INT, F_PLAIN, SETTING},
    {"val_per_epoch", "val/epoch", T_INT, F_PLAIN, SETTING},
    {"early_stop", "early stop", T_INT, F_PLAIN, SETTING},
    {"shuffle", "shuffle", T_TEXT, F_PLAIN, SETTING},
    {"train_size", "train", T_INT, F_PLAIN, SETTING},
    {"val_size", "val", T_INT, F_PLAIN, SETTING},
    {"dataset", "dataset", T_TEXT, F_PLAIN, SETTING},
    {"grid", "grid", T_TEXT, F_PLAIN, SETTING},
};

static const column epochs_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN, 0},
    {"seed", "seed", T_UINT, F_PLAIN, 0},
    {"epoch", "epoch", T_INT, F_PLAIN, 0},
    {"step", "step", T_INT, F_PLAIN, 0},
    {"train_loss", "train loss", T_REAL, F_LOSS, 0},
    {"train_acc", "train acc (%)", T_REAL, F_ACC, 0},
    {"val_loss", "val loss", T_REAL, F_LOSS, 0},
    {"val_acc", "val acc (%)", T_REAL, F_ACC, 0},
    {"seconds", "seconds", T_REAL, F_SECONDS, 0},
};

static const column evals_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN, 0},
    {"seed", "seed", T_UINT, F_PLAIN, 0},
    {"step", "step", T_INT, F_PLAIN, 0},
    {"epoch", "epoch", T_INT, F_PLAIN, 0},
    {"batch_loss", "batch loss", T_REAL, F_LOSS, 0},
    {"train_loss", "train loss", T_REAL, F_LOSS, 0},
    {"train_acc", "train acc (%)", T_REAL, F_ACC, 0},
    {"val_loss", "val loss", T_REAL, F_LOSS, 0},
    {"val_acc", "val acc (%)", T_REAL, F_ACC, 0},
};

static const column steps_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN, 0},
    {"seed", "seed", T_UINT, F_PLAIN, 0},
    {"step", "step", T_INT, F_PLAIN, 0},
    {"epoch", "epoch", T_INT, F_PLAIN, 0},
    {"batch_loss", "batch loss", T_REAL, F_LOSS, 0},
};

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The summary columns Markdown and LaTeX show unless --columns says
 * otherwise: what fits a page (CSV and JSON, for programs, carry all). */
static const char page_summary[] =
    "variant,task,seeds,hidden,params,epochs,final_val_acc,best_val_acc,final_val_loss,"
    "train_seconds";

const column *ms_tab_cols(ms_table which, int *n)
{
    switch (which) {
    case MS_TABLE_EPOCHS: *n = NCOLS(epochs_cols); return epochs_cols;
    case MS_TABLE_EVALS: *n = NCOLS(evals_cols); return evals_cols;
    case MS_TABLE_STEPS: *n = NCOLS(steps_cols); return steps_cols;
    default: *n = NCOLS(summary_cols); return summary_cols;
    }
}

/* The column list a table is written with: the caller's, "all", or the
 * default for the format. */
static const char *column_list(ms_table which, ms_format fmt, const char *columns)
{
    if (columns)
        return columns;
    int page = which == MS_TABLE_SUMMARY &&
               (fmt == MS_FORMAT_MD || fmt == MS_FORMAT_LATEX || fmt == MS_FORMAT_HTML);
    return page ? page_summary : "all";
}

/* Indexes of the listed columns in ncols (sel: ncols at most); -1 after a
 * message naming an unknown or repeated one. */
static int select_columns(ms_table which, const char *list, int *sel, int *nsel)
{
    int ncols;
    const column *cols = ms_tab_cols(which, &ncols);
    *nsel = 0;
    if (!strcmp(list, "all")) {
        for (int i = 0; i < ncols; i++)
            sel[(*nsel)++] = i;
        return 0;
    }
    const char *names[MS_TAB_MAX_COLS];
    for (int i = 0; i < ncols; i++)
        names[i] = cols[i].key;
    for (const char *p = list;;) {
        size_t k = strcspn(p, ",");
        char name[64], h[96];
        snprintf(name, sizeof name, "%.*s", (int)(k < 63 ? k : 63), p);
        int found = -1;
        for (int i = 0; i < ncols; i++)
            if (!strcmp(name, cols[i].key))
                found = i;
        if (found < 0)
            return ms_error("--columns: no column '%s' in the %s table%s", name,
                            table_names[which], ms_hint(h, sizeof h, name, names, ncols));
        for (int i = 0; i < *nsel; i++)
            if (sel[i] == found)
                return ms_error("--columns: '%s' twice", name);
        sel[(*nsel)++] = found;
        if (!p[k])
            return 0;
        p += k + 1;
    }
}

/* t with only the selected columns, in their order (cells moved, not copied). */
static void project(table *t, const int *sel, int nsel)
{
    cell *cells = ms_calloc((size_t)(t->nrows ? t->nrows : 1) * (size_t)nsel, sizeof *cells);
    column *cols = ms_malloc((size_t)nsel * sizeof *cols);
    for (int j = 0; j < nsel; j++)
        cols[j] = t->cols[sel[j]];
    for (int r = 0; r < t->nrows; r++)
        for (int j = 0; j < nsel; j++) {
            cell *from = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)sel[j]];
            cells[(size_t)r * (size_t)nsel + (size_t)j] = *from;
            from->s = NULL;
        }
    ms_tab_release(t);
    t->cells = cells;
    t->cols = t->owned_cols = cols;
    t->ncols = nsel;
    t->cap = t->nrows;
}

static cell text_cell(const char *s) { return (cell){0, ms_strdup(s), 0, 0, {0, 0, 0}}; }
static cell int_cell(int64_t i) { return (cell){0, NULL, i, 0, {0, 0, 0}}; }
cell ms_tab_real_cell(double x) { return (cell){isnan(x), NULL, 0, x, {0, 0, 0}}; }
static cell stat_cell(ms_stat s) { return (cell){s.n == 0, NULL, 0, 0, s}; }

void ms_tab_summary(const ms_snapshot *snap, const char *grid, table *t)
{
    t->cols = summary_cols;
    t->ncols = NCOLS(summary_cols);
    for (int i = 0; i < snap->nsummary; i++) {
        const ms_summary_row *r = &snap->summary[i];
        if (grid && strcmp(r->grid, grid) != 0)
            continue;
        cell *c = ms_tab_new_row(t);
        int k = 0;
        c[k++] = text_cell(r->variant);
        c[k++] = text_cell(r->task);
        c[k++] = int_cell(r->seeds);
        c[k++] = text_cell(r->hidden);
        c[k++] = text_cell(r->activation);
        c[k++] = text_cell(r->init);
        c[k++] = ms_tab_real_cell(r->momentum);
        c[k++] = ms_tab_real_cell(r->lr);
        c[k++] = int_cell(r->params);
        c[k++] = stat_cell(r->epochs);
        c[k++] = text_cell(r->stop);
        c[k++] = stat_cell(r->final_val_acc);
        c[k++] = stat_cell(r->best_val_acc);
        c[k++] = stat_cell(r->final_train_loss);
        c[k++] = stat_cell(r->final_val_loss);
        c[k++] = stat_cell(r->final_train_acc);
        c[k++] = stat_cell(r->train_seconds);
        c[k++] = text_cell(r->precision);
        c[k++] = int_cell(r->batch);
        c[k++] = int_cell(r->epochs_total);
        c[k++] = int_cell(r->val_per_epoch);
        c[k++] = int_cell(r->early_stop);
        c[k++] = text_cell(r->shuffle ? "true" : "false");
        c[k++] = int_cell(r->train_size);
        c[k++] = int_cell(r->val_size);
        c[k++] = text_cell(r->dataset);
        c[k++] = text_cell(r->grid);
    }
}

/* The long tables: every column after the seed is an integer or a real, in
 * the order of the column list (ms_qtable's). */
static void long_table(const ms_snapshot *snap, ms_table which, table *t)
{
    const ms_qtable *q = which == MS_TABLE_EPOCHS  ? &snap->epochs
                         : which == MS_TABLE_EVALS ? &snap->evals
                                                   : &snap->steps;
    t->cols = ms_tab_cols(which, &t->ncols);
    for (int r = 0; r < q->nrows; r++) {
        const ms_qcell *in = &q->cells[(size_t)r * MS_QUERY_LONG_COLS];
        cell *c = ms_tab_new_row(t);
        c[0] = text_cell(in[0].s);
        for (int k = 1; k < t->ncols; k++) {
            c[k] = t->cols[k].type == T_REAL ? ms_tab_real_cell(in[k].x) : int_cell(in[k].i);
            c[k].null = in[k].null;
        }
    }
}

/* ---- choosing rows: --where, --sort, --top ---- */

/* What --where and --sort may name: each column by its key, and a
 * statistic also as KEY_mean and KEY_std (KEY alone is its mean), the
 * names its CSV columns have. */
enum { P_VALUE, P_MEAN, P_STD, MAX_FIELDS = 3 * MS_TAB_MAX_COLS };
typedef struct fields {
    int n;
    ms_filter_col cols[MAX_FIELDS];
    const char *names[MAX_FIELDS];
    int col[MAX_FIELDS], part[MAX_FIELDS];
    char name[MAX_FIELDS][48];
} fields;

static void add_field(fields *f, const column *c, int i, int part, const char *suffix)
{
    int k = f->n++;
    snprintf(f->name[k], sizeof f->name[k], "%s%s", c->key, suffix);
    f->names[k] = f->name[k];
    f->cols[k] = (ms_filter_col){f->name[k], c->type != T_TEXT};
    f->col[k] = i;
    f->part[k] = part;
}

static void table_fields(ms_table which, fields *f)
{
    int ncols;
    const column *cols = ms_tab_cols(which, &ncols);
    f->n = 0;
    for (int i = 0; i < ncols; i++) {
        int stat = cols[i].type == T_STAT;
        add_field(f, &cols[i], i, stat ? P_MEAN : P_VALUE, "");
        if (stat) {
            add_field(f, &cols[i], i, P_MEAN, "_mean");
            add_field(f, &cols[i], i, P_STD, "_std");
        }
    }
}

/* Row r's value of field k (t not yet projected), as --where and --sort
 * compare it: NULL, NaN and a single seed's std are no value. */
static ms_filter_val field_value(const table *t, const fields *f, int r, int k)
{
    const cell *c = &t->cells[(size_t)r * (size_t)t->ncols + (size_t)f->col[k]];
    ms_filter_val v = {c->null, NULL, NAN, 0, 0};
    switch (t->cols[f->col[k]].type) {
    case T_TEXT: v.s = c->s; return v;
    case T_INT:
    case T_UINT: /* seeds fit: at most INT64_MAX (MS_MAX_SEED) */
        v.is_int = 1;
        v.i = c->i;
        v.x = (double)c->i;
        return v;
    case T_REAL: v.x = c->x; break;
    default:
        v.x = f->part[k] == P_STD ? c->st.std : c->st.mean;
        v.null |= f->part[k] == P_STD && c->st.n < 2;
    }
    v.null |= isnan(v.x);
    return v;
}

/* Keep the rows whose keep[r] is set, in their order (the others freed). */
static void keep_rows(table *t, const char *keep)
{
    size_t w = (size_t)t->ncols;
    int n = 0;
    for (int r = 0; r < t->nrows; r++) {
        cell *c = &t->cells[(size_t)r * w];
        if (!keep[r]) {
            for (size_t i = 0; i < w; i++)
                free(c[i].s);
            continue;
        }
        if (n != r)
            memmove(&t->cells[(size_t)n * w], c, w * sizeof *c);
        n++;
    }
    t->nrows = n;
}

static int parse_where(ms_table which, const fields *f, const char *where, ms_filter **flt)
{
    char scope[64];
    snprintf(scope, sizeof scope, "the %s table", table_names[which]);
    return ms_filter_parse("--where", where, f->cols, f->n, scope, flt);
}

static int where_rows(table *t, ms_table which, const fields *f, const char *where)
{
    ms_filter *flt;
    if (parse_where(which, f, where, &flt) < 0)
        return -1;
    char *keep = ms_malloc((size_t)t->nrows + 1);
    ms_filter_val v[MAX_FIELDS];
    for (int r = 0; r < t->nrows; r++) {
        for (int k = 0; k < f->n; k++)
            v[k] = field_value(t, f, r, k);
        keep[r] = (char)ms_filter_match(flt, v);
    }
    keep_rows(t, keep);
    free(keep);
    ms_filter_free(flt);
    return 0;
}

/* --sort COLUMN[,asc|desc]: the field and the direction; -1 after a message. */
static int parse_sort(ms_table which, const fields *f, const char *s, int *field, int *desc)
{
    size_t k = strcspn(s, ",");
    const char *dir = s[k] ? s + k + 1 : "asc";
    if (strcmp(dir, "asc") && strcmp(dir, "desc"))
        return ms_error("--sort: expected COLUMN, COLUMN,asc or COLUMN,desc, got '%s'", s);
    *desc = !strcmp(dir, "desc");
    char name[64], h[96];
    snprintf(name, sizeof name, "%.*s", (int)(k < 63 ? k : 63), s);
    for (*field = 0; *field < f->n; (*field)++)
        if (strlen(f->name[*field]) == k && !strncmp(f->name[*field], s, k))
            return 0;
    return ms_error("--sort: no column '%s' in the %s table%s", name, table_names[which],
                    ms_hint(h, sizeof h, name, f->names, f->n));
}

typedef struct sort_key {
    ms_filter_val v;
    int row, desc;
} sort_key;

/* Empty values last in either direction; ties in table order (stable). */
static int key_cmp(const void *pa, const void *pb)
{
    const sort_key *a = pa, *b = pb;
    int c = 0;
    if (a->v.null || b->v.null)
        c = a->v.null - b->v.null;
    else {
        if (a->v.s)
            c = strcmp(a->v.s, b->v.s);
        else if (a->v.is_int)
            c = (a->v.i > b->v.i) - (a->v.i < b->v.i);
        else
            c = (a->v.x > b->v.x) - (a->v.x < b->v.x);
        c = a->desc ? -c : c;
    }
    return c ? c : a->row - b->row;
}

static void sort_rows(table *t, const fields *f, int field, int desc)
{
    if (t->nrows < 2)
        return;
    size_t w = (size_t)t->ncols;
    sort_key *k = ms_malloc((size_t)t->nrows * sizeof *k);
    for (int r = 0; r < t->nrows; r++)
        k[r] = (sort_key){field_value(t, f, r, field), r, desc};
    qsort(k, (size_t)t->nrows, sizeof *k, key_cmp);
    cell *cells = ms_malloc((size_t)t->nrows * w * sizeof *cells);
    for (int r = 0; r < t->nrows; r++)
        memcpy(&cells[(size_t)r * w], &t->cells[(size_t)k[r].row * w], w * sizeof *cells);
    free(k);
    free(t->cells);
    t->cells = cells;
    t->cap = t->nrows;
}

static void first_rows(table *t, int n)
{
    char *keep = ms_malloc((size_t)t->nrows + 1);
    for (int r = 0; r < t->nrows; r++)
        keep[r] = r < n;
    keep_rows(t, keep);
    free(keep);
}

/* t's rows chosen (--where, --sort, --top), then its columns: the pivot, or
 * the --columns (or the format's default). */
static int shape(table *t, const ms_export_opts *o)
{
    fields f;
    int field, desc, sel[MS_TAB_MAX_COLS], nsel, rc, cc, mc;
    table_fields(o->table, &f);
    if (o->where && where_rows(t, o->table, &f, o->where) < 0)
        return -1;
    if (o->sort) {
        if (parse_sort(o->table, &f, o->sort, &field, &desc) < 0)
            return -1;
        sort_rows(t, &f, field, desc);
    }
    if (o->top > 0 && o->top < t->nrows)
        first_rows(t, o->top);
    if (o->pivot)
        return ms_tab_parse_pivot(o->pivot, o->metric, &rc, &cc, &mc) < 0
                   ? -1
                   : ms_tab_pivot(t, rc, cc, mc, o->pivot);
    if (select_columns(o->table, column_list(o->table, o->format, o->columns), sel, &nsel) < 0)
        return -1;
    project(t, sel, nsel);
    return 0;
}

/* ---- API ---- */

unsigned ms_export_reads(ms_table which)
{
    switch (which) {
    case MS_TABLE_EPOCHS: return MS_SNAP_EPOCHS;
    case MS_TABLE_EVALS: return MS_SNAP_EVALS;
    case MS_TABLE_STEPS: return MS_SNAP_STEPS;
    default: return MS_SNAP_SUMMARY;
    }
}

int ms_export_check(const ms_export_opts *o)
{
    fields f;
    ms_filter *flt;
    int sel[MS_TAB_MAX_COLS], nsel, rc, cc, mc, field, desc;
    if (o->pivot) {
        if (o->table != MS_TABLE_SUMMARY)
            return ms_error("--pivot: a pivot is of the summary table, not --table %s",
                            table_names[o->table]);
        if (o->columns || o->sort || o->top)
            return ms_error("--pivot and %s: a pivot's columns are COL's values and its rows "
                            "ROW's, in order",
                            o->columns ? "--columns" : o->sort ? "--sort" : "--top");
        if (ms_tab_parse_pivot(o->pivot, o->metric, &rc, &cc, &mc) < 0)
            return -1;
    } else if (o->metric)
        return ms_error("--metric is for --pivot (the result a pivot's cells show)");
    if (o->top < 0)
        return ms_error("--top: expected an integer in 1..%d, got '%d'", INT_MAX, o->top);
    if (o->columns && select_columns(o->table, o->columns, sel, &nsel) < 0)
        return -1;
    table_fields(o->table, &f);
    if (o->where) {
        if (parse_where(o->table, &f, o->where, &flt) < 0)
            return -1;
        ms_filter_free(flt);
    }
    return o->sort ? parse_sort(o->table, &f, o->sort, &field, &desc) : 0;
}

int ms_export_where_variants(const ms_export_opts *o, char **out, int max)
{
    fields f;
    ms_filter *flt;
    table_fields(o->table, &f);
    if (!o->where || max < 1 || parse_where(o->table, &f, o->where, &flt) < 0)
        return 0; /* ms_export_check says what is wrong with it */
    const char **names = ms_malloc((size_t)max * sizeof *names);
    int n = 0;
    for (int k = 0; k < f.n; k++)
        if (!strcmp(f.names[k], "variant"))
            n = ms_filter_equals(flt, k, names, max);
    n = n < max ? n : max;
    for (int i = 0; i < n; i++) /* the texts live in flt */
        out[i] = ms_strdup(names[i]);
    free(names);
    ms_filter_free(flt);
    return n;
}

int ms_export(ms_store *st, const char *sweep, const ms_export_opts *o, char **out, size_t *len)
{
    ms_snapshot snap;
    *out = NULL;
    *len = 0;
    if (ms_export_check(o) < 0 || ms_snapshot_read(st, sweep, ms_export_reads(o->table), &snap) < 0)
        return -1;
    int rc = ms_export_render(&snap, o, out, len);
    ms_snapshot_release(&snap);
    return rc;
}

int ms_export_render(const ms_snapshot *snap, const ms_export_opts *o, char **out, size_t *len)
{
    table t = {0};
    *out = NULL;
    *len = 0;
    if (ms_export_check(o) < 0)
        return -1;
    if (o->table == MS_TABLE_SUMMARY)
        ms_tab_summary(snap, NULL, &t);
    else
        long_table(snap, o->table, &t);
    int rc = shape(&t, o);
    if (rc == 0)
        rc = ms_tab_write(&t, o->format, out, len);
    ms_tab_release(&t);
    return rc;
}
