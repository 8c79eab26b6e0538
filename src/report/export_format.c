/* ms_report, tables: the writers, one per format, of a table export.c has
 * built (export_table.h). CSV and JSON carry every number exactly (the
 * shortest text that reads back as the same double: ms_shortest; a
 * statistic becomes two columns, KEY_mean and KEY_std); Markdown and LaTeX
 * are for reading (accuracy in % with two decimals, losses with four
 * significant digits, "mean ± std"), as is HTML (a <table>). */
#define _POSIX_C_SOURCE 200809L
#include "ms_config.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_table.h"

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
int ms_export_seconds_decimals(double s)
{
    if (!(s > 0) || !isfinite(s))
        return 1;
    int d = 1 - (int)floor(log10(s));
    return d < 1 ? 1 : d > 6 ? 6 : d;
}

static void human_num(char *buf, size_t n, double mean, double std, int has_std, int fmt,
                      const char *pm)
{
    double scale = fmt == F_ACC ? 100 : 1;
    int dec;
    switch (fmt) {
    case F_ACC: dec = 2; break;
    case F_LOSS: dec = loss_decimals(mean); break;
    case F_SECONDS: dec = ms_export_seconds_decimals(mean); break;
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

/* t in a format, as one malloc'd string */
int ms_tab_write(const table *t, ms_format fmt, char **out, size_t *len)
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
