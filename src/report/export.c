/* ms_report, tables: the summary per variant and the long per-epoch and
 * per-validation tables, rendered as CSV, Markdown, LaTeX or JSON.
 *
 * A table is read once into memory (rows of typed cells, NULL kept as
 * NULL), then one writer per format renders it. CSV and JSON carry every
 * number exactly (the shortest text that reads back as the same double:
 * ms_shortest; a statistic becomes two columns, KEY_mean
 * and KEY_std); Markdown and LaTeX are for reading (accuracy in % with two
 * decimals, losses with four significant digits, "mean ± std"). */
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

typedef struct cell {
    int null;
    char *s;
    int64_t i;
    double x;
    ms_stat st;
} cell;

typedef struct table {
    const column *cols;
    column *owned_cols; /* after project() or pivot(): cols, to free */
    char **strs;        /* a pivot's column keys and heads, to free */
    int nstrs;
    int ncols, nrows, cap;
    cell *cells; /* row-major */
} table;

static cell *new_row(table *t)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->cells = ms_realloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof *t->cells);
    }
    cell *r = &t->cells[(size_t)t->nrows++ * (size_t)t->ncols];
    memset(r, 0, (size_t)t->ncols * sizeof *r);
    return r;
}

static void table_release(table *t)
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

static const column *table_cols(ms_table which, int *n)
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
    const column *cols = table_cols(which, &ncols);
    *nsel = 0;
    if (!strcmp(list, "all")) {
        for (int i = 0; i < ncols; i++)
            sel[(*nsel)++] = i;
        return 0;
    }
    const char *names[32];
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
    table_release(t);
    t->cells = cells;
    t->cols = t->owned_cols = cols;
    t->ncols = nsel;
    t->cap = t->nrows;
}

static cell text_cell(const char *s) { return (cell){0, ms_strdup(s), 0, 0, {0, 0, 0}}; }
static cell int_cell(int64_t i) { return (cell){0, NULL, i, 0, {0, 0, 0}}; }
static cell real_cell(double x) { return (cell){isnan(x), NULL, 0, x, {0, 0, 0}}; }
static cell stat_cell(ms_stat s) { return (cell){s.n == 0, NULL, 0, 0, s}; }

static void summary_table(const ms_snapshot *snap, table *t)
{
    t->cols = summary_cols;
    t->ncols = NCOLS(summary_cols);
    for (int i = 0; i < snap->nsummary; i++) {
        const ms_summary_row *r = &snap->summary[i];
        cell *c = new_row(t);
        int k = 0;
        c[k++] = text_cell(r->variant);
        c[k++] = text_cell(r->task);
        c[k++] = int_cell(r->seeds);
        c[k++] = text_cell(r->hidden);
        c[k++] = text_cell(r->activation);
        c[k++] = text_cell(r->init);
        c[k++] = real_cell(r->momentum);
        c[k++] = real_cell(r->lr);
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
    }
}

/* The long tables: every column after the seed is an integer or a real, in
 * the order of the column list (ms_qtable's). */
static void long_table(const ms_snapshot *snap, ms_table which, table *t)
{
    const ms_qtable *q = which == MS_TABLE_EPOCHS  ? &snap->epochs
                         : which == MS_TABLE_EVALS ? &snap->evals
                                                   : &snap->steps;
    t->cols = table_cols(which, &t->ncols);
    for (int r = 0; r < q->nrows; r++) {
        const ms_qcell *in = &q->cells[(size_t)r * MS_QUERY_LONG_COLS];
        cell *c = new_row(t);
        c[0] = text_cell(in[0].s);
        for (int k = 1; k < t->ncols; k++) {
            c[k] = t->cols[k].type == T_REAL ? real_cell(in[k].x) : int_cell(in[k].i);
            c[k].null = in[k].null;
        }
    }
}

/* ---- choosing rows: --where, --sort, --top ---- */

/* What --where and --sort may name: each column by its key, and a
 * statistic also as KEY_mean and KEY_std (KEY alone is its mean), the
 * names its CSV columns have. */
enum { P_VALUE, P_MEAN, P_STD, MAX_FIELDS = 3 * 32 };
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
    const column *cols = table_cols(which, &ncols);
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

/* ---- --pivot ROW,COL --metric M: the summary as a grid ---- */

/* name's index in summary_cols, or -1 after "OPT: no column ..." */
static int summary_index(const char *opt, const char *name, int *i)
{
    const char *names[32];
    char h[96];
    for (*i = 0; *i < NCOLS(summary_cols); (*i)++)
        if (!strcmp(name, summary_cols[*i].key))
            return 0;
    for (int k = 0; k < NCOLS(summary_cols); k++)
        names[k] = summary_cols[k].key;
    return ms_error("%s: no column '%s' in the summary table%s", opt, name,
                    ms_hint(h, sizeof h, name, names, NCOLS(summary_cols)));
}

/* ROW and COL (columns of the summary, not results) and M (a result): their
 * indexes in summary_cols; -1 after a message. */
static int parse_pivot(const char *pivot, const char *metric, int *rc, int *cc, int *mc)
{
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
        for (int i = 0; i < NCOLS(summary_cols); i++)
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

static const cell *at(const table *t, int r, int col)
{
    return &t->cells[(size_t)r * (size_t)t->ncols + (size_t)col];
}

/* The values of column col over t's rows, each as the first row holding it:
 * numbers ascending, text in order of appearance (the manifest's). */
static int axis(const table *t, int col, int *first)
{
    int n = 0, type = t->cols[col].type;
    for (int r = 0; r < t->nrows; r++) {
        int j = 0;
        while (j < n && !same_cell(at(t, r, col), at(t, first[j], col), type))
            j++;
        if (j == n)
            first[n++] = r;
    }
    for (int i = 1; type != T_TEXT && i < n; i++) /* insertion sort: stable, n small */
        for (int j = i; j > 0 && num_before(at(t, first[j], col), at(t, first[j - 1], col), type);
             j--) {
            int x = first[j];
            first[j] = first[j - 1];
            first[j - 1] = x;
        }
    return n;
}

static int axis_index(const table *t, int col, const int *first, int r)
{
    int j = 0;
    while (!same_cell(at(t, r, col), at(t, first[j], col), t->cols[col].type))
        j++;
    return j;
}

/* A cell as --where would spell it (a machine format's text). */
static const char *value_text(const column *col, const cell *c, char buf[32])
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
            !same_cell(at(t, a, i), at(t, b, i), t->cols[i].type))
            d = i;
    int k = d >= 0 ? d : 0; /* without one: the variant's name (the summary's column 0) */
    char br[32], bc[32], ba[32], bb[32], diff[256], ex[256], msg[1024];
    const char *key = t->cols[k].key, *v = value_text(&t->cols[k], at(t, a, k), ba);
    if (v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")])
        snprintf(ex, sizeof ex, "--where \"%s='%s'\"", key, v);
    else
        snprintf(ex, sizeof ex, "--where '%s=%s'", key, v);
    if (d >= 0)
        snprintf(diff, sizeof diff, "differ in %s (%s and %s)", key, v,
                 value_text(&t->cols[d], at(t, b, d), bb));
    else
        snprintf(diff, sizeof diff, "differ in no setting the summary shows");
    snprintf(msg, sizeof msg,
             "--pivot %s: variants '%s' and '%s' both have %s=%s, %s=%s and %s: keep one with "
             "--where, e.g. %s",
             pivot, at(t, a, 0)->s, at(t, b, 0)->s, t->cols[rc].key,
             value_text(&t->cols[rc], at(t, a, rc), br), t->cols[cc].key,
             value_text(&t->cols[cc], at(t, a, cc), bc), diff, ex);
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
        const char *v = value_text(&t->cols[cc], at(t, cols[j], cc), buf);
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
        cell *c = new_row(p);
        c[0] = *at(t, rows[i], rc);
        c[0].s = c[0].s ? ms_strdup(c[0].s) : NULL;
        for (int j = 0; j < nc; j++) {
            int o = owner[i * nc + j];
            const cell *m = o >= 0 ? at(t, o, mc) : NULL;
            c[j + 1] = m && !m->null ? real_cell(m->st.mean) : (cell){1, NULL, 0, NAN, {0, 0, 0}};
        }
    }
}

/* t (the summary, its rows chosen) becomes the grid: a row per value of
 * column rc, a column per value of cc, each cell metric mc's mean over the
 * seeds of the one variant with both values (empty: none). Two variants in
 * one cell are refused (-1 after a message): which to show is the user's
 * choice, with --where. */
static int pivot(table *t, int rc, int cc, int mc, const char *text)
{
    int *rows = ms_malloc(((size_t)t->nrows + 1) * sizeof *rows);
    int *cols = ms_malloc(((size_t)t->nrows + 1) * sizeof *cols);
    int nr = axis(t, rc, rows), nc = axis(t, cc, cols), rcd = 0;
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
        table_release(t);
        *t = p;
    }
    free(rows);
    free(cols);
    free(owner);
    return rcd;
}

/* t's rows chosen (--where, --sort, --top), then its columns: the pivot, or
 * the --columns (or the format's default). */
static int shape(table *t, const ms_export_opts *o)
{
    fields f;
    int field, desc, sel[32], nsel, rc, cc, mc;
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
        return parse_pivot(o->pivot, o->metric, &rc, &cc, &mc) < 0 ? -1
                                                                   : pivot(t, rc, cc, mc, o->pivot);
    if (select_columns(o->table, column_list(o->table, o->format, o->columns), sel, &nsel) < 0)
        return -1;
    project(t, sel, nsel);
    return 0;
}

/* ---- machine formats: full precision ---- */

static void put_num(FILE *f, double x)
{
    char b[32];
    if (isfinite(x))
        fputs(ms_shortest(b, x), f);
}

/* In a quoted field: a quote doubled; line break and tab kept (as HTML
 * keeps them), other control characters '?' (a CSV is often read on a
 * terminal). */
static const char *csv_esc(long cp, char buf[8])
{
    (void)buf;
    switch (cp) {
    case '"': return "\"\"";
    case '\n': return "\n";
    case '\t': return "\t";
    default: return NULL;
    }
}

static void csv_text(FILE *f, const char *s)
{
    int quote = s[strcspn(s, ",\"\n")] != 0;
    if (quote)
        fputc('"', f);
    ms_put_text(f, s, csv_esc);
    if (quote)
        fputc('"', f);
}

/* The CSV/JSON keys of a table: a statistic is two, KEY_mean and KEY_std. */
static void each_key(const table *t, void (*fn)(FILE *, const char *, int), FILE *f)
{
    char k[64];
    int first = 1;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].type != T_STAT) {
            fn(f, t->cols[i].key, first);
            first = 0;
            continue;
        }
        snprintf(k, sizeof k, "%s_mean", t->cols[i].key);
        fn(f, k, first);
        snprintf(k, sizeof k, "%s_std", t->cols[i].key);
        fn(f, k, 0);
        first = 0;
    }
}

static void csv_key(FILE *f, const char *k, int first)
{
    if (!first)
        fputc(',', f);
    csv_text(f, k);
}

static void write_csv(FILE *f, const table *t)
{
    each_key(t, csv_key, f);
    fputc('\n', f);
    for (int r = 0; r < t->nrows; r++) {
        const cell *c = &t->cells[(size_t)r * (size_t)t->ncols];
        for (int i = 0; i < t->ncols; i++) {
            if (i)
                fputc(',', f);
            int type = t->cols[i].type;
            if (type == T_STAT) {
                if (!c[i].null)
                    put_num(f, c[i].st.mean);
                fputc(',', f);
                if (!c[i].null && c[i].st.n >= 2)
                    put_num(f, c[i].st.std);
            } else if (c[i].null)
                continue;
            else if (type == T_TEXT)
                csv_text(f, c[i].s);
            else if (type == T_INT)
                fprintf(f, "%lld", (long long)c[i].i);
            else if (type == T_UINT)
                fprintf(f, "%llu", (unsigned long long)c[i].i);
            else
                put_num(f, c[i].x);
        }
        fputc('\n', f);
    }
}


static void json_key(FILE *f, const char *k)
{
    ms_json_string(f, k);
    fputs(": ", f);
}

static void write_json(FILE *f, const table *t)
{
    char k[64];
    fputc('[', f);
    for (int r = 0; r < t->nrows; r++) {
        const cell *c = &t->cells[(size_t)r * (size_t)t->ncols];
        fputs(r ? ",\n  {" : "\n  {", f);
        for (int i = 0; i < t->ncols; i++) {
            const column *col = &t->cols[i];
            if (i)
                fputs(", ", f);
            if (col->type == T_STAT) {
                snprintf(k, sizeof k, "%s_mean", col->key);
                json_key(f, k);
                ms_json_num(f, c[i].null ? NAN : c[i].st.mean);
                fputs(", ", f);
                snprintf(k, sizeof k, "%s_std", col->key);
                json_key(f, k);
                ms_json_num(f, c[i].null || c[i].st.n < 2 ? NAN : c[i].st.std);
                continue;
            }
            json_key(f, col->key);
            if (c[i].null)
                fputs("null", f);
            else if (col->type == T_TEXT)
                ms_json_string(f, c[i].s);
            else if (col->type == T_INT)
                fprintf(f, "%lld", (long long)c[i].i);
            else if (col->type == T_UINT)
                fprintf(f, "%llu", (unsigned long long)c[i].i);
            else
                ms_json_num(f, c[i].x);
        }
        fputc('}', f);
    }
    fputs(t->nrows ? "\n]\n" : "]\n", f);
}

/* ---- reading formats: Markdown and LaTeX ---- */

/* Decimals that show x with 4 significant digits (at least 0, at most 12). */
static int loss_decimals(double x)
{
    if (!(fabs(x) > 0) || !isfinite(x))
        return 4;
    int d = 3 - (int)floor(log10(fabs(x)));
    return d < 0 ? 0 : d > 12 ? 12 : d;
}

/* A number for reading: the mean alone for one value, else "mean SEP std"
 * (std with the same decimals as the mean). */
static void human_num(char *buf, size_t n, double mean, double std, int has_std, int fmt,
                      const char *pm)
{
    double scale = fmt == F_ACC ? 100 : 1;
    int dec;
    switch (fmt) {
    case F_ACC: dec = 2; break;
    case F_LOSS: dec = loss_decimals(mean); break;
    case F_SECONDS: dec = 1; break;
    case F_COUNT: /* epochs: whole numbers as such (30 ± 0), else one decimal */
        dec = has_std && (mean != floor(mean) || std != floor(std)) ? 1 : 0;
        break;
    default: dec = -1; break;
    }
    if (dec < 0) {
        snprintf(buf, n, "%g", mean);
        return;
    }
    if (has_std)
        snprintf(buf, n, "%.*f%s%.*f", dec, mean * scale, pm, dec, std * scale);
    else
        snprintf(buf, n, "%.*f", dec, mean * scale);
}

/* Cell text for reading; a text cell is returned as is (the caller escapes). */
static const char *human_cell(char *buf, size_t n, const column *col, const cell *c,
                              const char *pm, const char *null)
{
    if (c->null)
        return null;
    switch (col->type) {
    case T_TEXT:
        if (col->fmt != F_HIDDEN)
            return c->s;
        ms_hidden_short(c->s, buf, n); /* as check shows it: 10x64 */
        return buf;
    case T_INT: snprintf(buf, n, "%lld", (long long)c->i); return buf;
    case T_UINT: snprintf(buf, n, "%llu", (unsigned long long)c->i); return buf;
    case T_REAL: human_num(buf, n, c->x, 0, 0, col->fmt, pm); return buf;
    default: human_num(buf, n, c->st.mean, c->st.std, c->st.n >= 2, col->fmt, pm); return buf;
    }
}

/* In a document cell a line break reads as a space (other control
 * characters are '?'). */
static const char *doc_break(long cp)
{
    return cp == '\n' || cp == '\r' ? " " : NULL;
}

static const char *md_esc(long cp, char buf[8])
{
    (void)buf;
    return cp == '|' ? "\\|" : cp == '\\' ? "\\\\" : doc_break(cp);
}

static void md_text(FILE *f, const char *s) { ms_put_text(f, s, md_esc); }

static void write_md(FILE *f, const table *t)
{
    char buf[MS_MAX_HIDDEN * 12]; /* a hidden list is the longest cell */
    fputc('|', f);
    for (int i = 0; i < t->ncols; i++) {
        fputc(' ', f);
        md_text(f, t->cols[i].head);
        fputs(" |", f);
    }
    fputs("\n|", f);
    for (int i = 0; i < t->ncols; i++)
        fputs(t->cols[i].type == T_TEXT ? "---|" : "---:|", f);
    fputc('\n', f);
    for (int r = 0; r < t->nrows; r++) {
        const cell *c = &t->cells[(size_t)r * (size_t)t->ncols];
        fputc('|', f);
        for (int i = 0; i < t->ncols; i++) {
            fputc(' ', f);
            md_text(f, human_cell(buf, sizeof buf, &t->cols[i], &c[i], " ± ", "–"));
            fputs(" |", f);
        }
        fputc('\n', f);
    }
}

static const char *latex_esc(long cp, char buf[8])
{
    switch (cp) {
    case '#': case '$': case '%': case '&': case '_': case '{': case '}':
        buf[0] = '\\';
        buf[1] = (char)cp;
        buf[2] = '\0';
        return buf;
    case '~': return "\\textasciitilde{}";
    case '^': return "\\textasciicircum{}";
    case '\\': return "\\textbackslash{}";
    case '<': return "\\textless{}";
    case '>': return "\\textgreater{}";
    case '|': return "\\textbar{}";
    default: return doc_break(cp);
    }
}

static void latex_text(FILE *f, const char *s) { ms_put_text(f, s, latex_esc); }

static void write_latex(FILE *f, const table *t)
{
    char buf[MS_MAX_HIDDEN * 12];
    fputs("\\begin{tabular}{", f);
    for (int i = 0; i < t->ncols; i++)
        fputc(t->cols[i].type == T_TEXT ? 'l' : 'r', f);
    fputs("}\n\\toprule\n", f);
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            fputs(" & ", f);
        latex_text(f, t->cols[i].head);
    }
    fputs(" \\\\\n\\midrule\n", f);
    for (int r = 0; r < t->nrows; r++) {
        const cell *c = &t->cells[(size_t)r * (size_t)t->ncols];
        for (int i = 0; i < t->ncols; i++) {
            if (i)
                fputs(" & ", f);
            const char *s = human_cell(buf, sizeof buf, &t->cols[i], &c[i], " $\\pm$ ", "--");
            if (t->cols[i].type == T_TEXT && !c[i].null)
                latex_text(f, s);
            else
                fputs(s, f); /* numbers and our own markup */
        }
        fputs(" \\\\\n", f);
    }
    fputs("\\bottomrule\n\\end{tabular}\n", f);
}

static void write_html(FILE *f, const table *t)
{
    char buf[MS_MAX_HIDDEN * 12];
    fputs("<table>\n<thead><tr>", f);
    for (int i = 0; i < t->ncols; i++) {
        fputs(t->cols[i].type == T_TEXT ? "<th>" : "<th class=\"num\">", f);
        ms_html_text(f, t->cols[i].head);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int r = 0; r < t->nrows; r++) {
        const cell *c = &t->cells[(size_t)r * (size_t)t->ncols];
        fputs("<tr>", f);
        for (int i = 0; i < t->ncols; i++) {
            fputs(t->cols[i].type == T_TEXT ? "<td>" : "<td class=\"num\">", f);
            ms_html_text(f, human_cell(buf, sizeof buf, &t->cols[i], &c[i], " ± ", "–"));
            fputs("</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
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
    int sel[32], nsel, rc, cc, mc, field, desc;
    if (o->pivot) {
        if (o->table != MS_TABLE_SUMMARY)
            return ms_error("--pivot: a pivot is of the summary table, not --table %s",
                            table_names[o->table]);
        if (o->columns || o->sort || o->top)
            return ms_error("--pivot and %s: a pivot's columns are COL's values and its rows "
                            "ROW's, in order",
                            o->columns ? "--columns" : o->sort ? "--sort" : "--top");
        if (parse_pivot(o->pivot, o->metric, &rc, &cc, &mc) < 0)
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

/* t in a format, as one malloc'd string */
static int write_table(const table *t, ms_format fmt, char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return ms_error("out of memory");
    switch (fmt) {
    case MS_FORMAT_CSV: write_csv(f, t); break;
    case MS_FORMAT_MD: write_md(f, t); break;
    case MS_FORMAT_LATEX: write_latex(f, t); break;
    case MS_FORMAT_JSON: write_json(f, t); break;
    case MS_FORMAT_HTML: write_html(f, t); break;
    }
    if (fclose(f) != 0) {
        free(buf);
        return ms_error("out of memory");
    }
    *out = buf;
    *len = n;
    return 0;
}

int ms_export_render(const ms_snapshot *snap, const ms_export_opts *o, char **out, size_t *len)
{
    table t = {0};
    *out = NULL;
    *len = 0;
    if (ms_export_check(o) < 0)
        return -1;
    if (o->table == MS_TABLE_SUMMARY)
        summary_table(snap, &t);
    else
        long_table(snap, o->table, &t);
    int rc = shape(&t, o);
    if (rc == 0)
        rc = write_table(&t, o->format, out, len);
    table_release(&t);
    return rc;
}
