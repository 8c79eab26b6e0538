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
#include "ms_query.h"
#include "ms_util.h"

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
} column;

typedef struct cell {
    int null;
    char *s;
    int64_t i;
    double x;
    ms_stat st;
} cell;

typedef struct table {
    const column *cols;
    column *owned_cols; /* after project(): cols, to free */
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
    t->cells = NULL;
    t->owned_cols = NULL;
}

static const column summary_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN},
    {"task", "task", T_TEXT, F_PLAIN},
    {"seeds", "seeds", T_INT, F_PLAIN},
    {"hidden", "hidden", T_TEXT, F_HIDDEN},
    {"activation", "activation", T_TEXT, F_PLAIN},
    {"init", "init", T_TEXT, F_PLAIN},
    {"momentum", "momentum", T_REAL, F_PLAIN},
    {"lr", "lr", T_REAL, F_PLAIN},
    {"params", "params", T_INT, F_PLAIN},
    {"epochs", "epochs", T_STAT, F_COUNT},
    {"stop_reason", "stop", T_TEXT, F_PLAIN},
    {"final_val_acc", "val acc (%)", T_STAT, F_ACC},
    {"best_val_acc", "best val acc (%)", T_STAT, F_ACC},
    {"final_train_loss", "train loss", T_STAT, F_LOSS},
    {"final_val_loss", "val loss", T_STAT, F_LOSS},
    {"final_train_acc", "train acc (%)", T_STAT, F_ACC},
    {"train_seconds", "train s", T_STAT, F_SECONDS},
    {"precision", "precision", T_TEXT, F_PLAIN}, /* added 2026-11-29: columns only ever join at the end */
    {"batch", "batch", T_INT, F_PLAIN},          /* added for --pivot lr,batch */
};

static const column epochs_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN},
    {"seed", "seed", T_UINT, F_PLAIN},
    {"epoch", "epoch", T_INT, F_PLAIN},
    {"step", "step", T_INT, F_PLAIN},
    {"train_loss", "train loss", T_REAL, F_LOSS},
    {"train_acc", "train acc (%)", T_REAL, F_ACC},
    {"val_loss", "val loss", T_REAL, F_LOSS},
    {"val_acc", "val acc (%)", T_REAL, F_ACC},
    {"seconds", "seconds", T_REAL, F_SECONDS},
};

static const column evals_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN},
    {"seed", "seed", T_UINT, F_PLAIN},
    {"step", "step", T_INT, F_PLAIN},
    {"epoch", "epoch", T_INT, F_PLAIN},
    {"batch_loss", "batch loss", T_REAL, F_LOSS},
    {"train_loss", "train loss", T_REAL, F_LOSS},
    {"train_acc", "train acc (%)", T_REAL, F_ACC},
    {"val_loss", "val loss", T_REAL, F_LOSS},
    {"val_acc", "val acc (%)", T_REAL, F_ACC},
};

static const column steps_cols[] = {
    {"variant", "variant", T_TEXT, F_PLAIN},
    {"seed", "seed", T_UINT, F_PLAIN},
    {"step", "step", T_INT, F_PLAIN},
    {"epoch", "epoch", T_INT, F_PLAIN},
    {"batch_loss", "batch loss", T_REAL, F_LOSS},
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

int ms_export_columns_check(ms_table which, const char *columns)
{
    int sel[32], n;
    return columns ? select_columns(which, columns, sel, &n) : 0;
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

int ms_export(ms_store *st, const char *sweep, ms_table which, ms_format fmt, const char *columns,
              char **out, size_t *len)
{
    ms_snapshot snap;
    *out = NULL;
    *len = 0;
    if (ms_export_columns_check(which, columns) < 0 ||
        ms_snapshot_read(st, sweep, ms_export_reads(which), &snap) < 0)
        return -1;
    int rc = ms_export_render(&snap, which, fmt, columns, out, len);
    ms_snapshot_release(&snap);
    return rc;
}

int ms_export_render(const ms_snapshot *snap, ms_table which, ms_format fmt, const char *columns,
                     char **out, size_t *len)
{
    table t = {0};
    int sel[32], nsel;
    *out = NULL;
    *len = 0;
    if (select_columns(which, column_list(which, fmt, columns), sel, &nsel) < 0)
        return -1;
    if (which == MS_TABLE_SUMMARY)
        summary_table(snap, &t);
    else
        long_table(snap, which, &t);
    project(&t, sel, nsel);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        table_release(&t);
        return ms_error("out of memory");
    }
    switch (fmt) {
    case MS_FORMAT_CSV: write_csv(f, &t); break;
    case MS_FORMAT_MD: write_md(f, &t); break;
    case MS_FORMAT_LATEX: write_latex(f, &t); break;
    case MS_FORMAT_JSON: write_json(f, &t); break;
    case MS_FORMAT_HTML: write_html(f, &t); break;
    }
    if (fclose(f) != 0) {
        free(buf);
        table_release(&t);
        return ms_error("out of memory");
    }
    table_release(&t);
    *out = buf;
    *len = n;
    return 0;
}
