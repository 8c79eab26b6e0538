/* ms_filter: --where's conditions, parsed by hand (ms_filter.h has the
 * grammar). A hand parser, not SQL, so that a filter can name only the
 * columns it is given and every mistake is one message with its position. */
#define _POSIX_C_SOURCE 200809L /* strncasecmp */
#include "ms_filter.h"
#include "ms_util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_HAS };

/* Longest first, so "<=" is not read as "<". */
static const struct {
    const char *text;
    int op;
} ops[] = {{"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"==", OP_EQ}, {"=", OP_EQ},
           {"<", OP_LT},  {">", OP_GT},  {"~", OP_HAS}};

typedef struct cond {
    int col, op, numeric;
    char *text; /* the VALUE as written (a text column compares it) */
    double x;
    int is_int;
    int64_t i;
} cond;

struct ms_filter {
    int n;
    cond *c;
};

typedef struct parser {
    const char *opt, *text, *p, *scope;
    const ms_filter_col *cols;
    int ncols;
} parser;

/* "OPT 'TEXT': column N: ..." with N the character (not byte) at `at`,
 * counted from 1; the text shown without control characters. */
static int fail(const parser *ps, const char *at, const char *fmt, ...) MS_PRINTF(3, 4);
static int fail(const parser *ps, const char *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int col = 1;
    for (const char *q = ps->text; q < at; q++)
        col += ((unsigned char)*q & 0xC0) != 0x80; /* UTF-8: continuation bytes add none */
    char *shown = ms_printable(ps->text);
    ms_error("%s '%s': column %d: %s", ps->opt, shown, col, msg);
    free(shown);
    return -1;
}

static void skip_space(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

/* COLUMN: its index in cols, or -1 after a message (with the likely name). */
static int column(parser *ps)
{
    const char *at = ps->p;
    size_t k = 0;
    if (isalpha((unsigned char)*at) || *at == '_')
        while (isalnum((unsigned char)at[k]) || at[k] == '_')
            k++;
    if (!k)
        return fail(ps, at, "expected a column name");
    ps->p += k;
    for (int i = 0; i < ps->ncols; i++)
        if (strlen(ps->cols[i].name) == k && !strncmp(ps->cols[i].name, at, k))
            return i;
    char name[64], h[96];
    snprintf(name, sizeof name, "%.*s", (int)(k < 63 ? k : 63), at);
    const char **names = ms_malloc((size_t)ps->ncols * sizeof *names);
    for (int i = 0; i < ps->ncols; i++)
        names[i] = ps->cols[i].name;
    fail(ps, at, "no column '%s' in %s%s", name, ps->scope,
         ms_hint(h, sizeof h, name, names, ps->ncols));
    free(names);
    return -1;
}

/* OP, checked against the column's kind; its index in ops, or -1. */
static int operator(parser *ps, const ms_filter_col *col)
{
    const char *at = ps->p;
    for (int i = 0; i < (int)(sizeof ops / sizeof *ops); i++) {
        size_t k = strlen(ops[i].text);
        if (strncmp(at, ops[i].text, k))
            continue;
        int ordered = ops[i].op != OP_EQ && ops[i].op != OP_NE && ops[i].op != OP_HAS;
        if (!col->numeric && ordered)
            return fail(ps, at, "'%s' compares numbers, and '%s' is text (use =, != or ~)",
                        ops[i].text, col->name);
        if (col->numeric && ops[i].op == OP_HAS)
            return fail(ps, at, "'~' (contains) is for text, and '%s' holds numbers",
                        col->name);
        ps->p += k;
        return i;
    }
    return fail(ps, at, "expected an operator (=, !=, <, <=, >, >= or ~) after '%s'", col->name);
}

/* VALUE into c: a quoted text, or a word up to a space or ','. */
static int value(parser *ps, const ms_filter_col *col, const char *op, cond *c)
{
    const char *at = ps->p, *end;
    if (*at == '\'' || *at == '"') {
        end = strchr(at + 1, *at);
        if (!end)
            return fail(ps, at, "no closing %c for the value", *at);
        c->text = ms_xstrfmt("%.*s", (int)(end - at - 1), at + 1);
        ps->p = end + 1;
    } else {
        end = at + strcspn(at, " \t,");
        c->text = ms_xstrfmt("%.*s", (int)(end - at), at);
        ps->p = end;
    }
    if (!col->numeric) {
        if (end == at)
            return fail(ps, at, "expected a value after '%s'", op);
        return 0;
    }
    char *e;
    errno = 0;
    c->x = strtod(c->text, &e);
    if (!*c->text || *e || errno || !isfinite(c->x))
        return *c->text ? fail(ps, at, "expected a number after '%s', got '%s'", op, c->text)
                        : fail(ps, at, "expected a number after '%s'", op);
    errno = 0;
    long long i = strtoll(c->text, &e, 10); /* an integer: compared exactly (seeds, steps) */
    c->is_int = !*e && !errno;
    c->i = i;
    return 0;
}

/* After a condition: the end, or ',' / 'and' and another; 1 for another. */
static int separator(parser *ps)
{
    const char *before = ps->p;
    skip_space(ps);
    if (!*ps->p)
        return 0;
    if (*ps->p == ',') {
        ps->p++;
        return 1;
    }
    const char *w = ps->p;
    if (w > before && !strncasecmp(w, "and", 3) && (w[3] == ' ' || w[3] == '\t' || !w[3])) {
        ps->p += 3;
        return 1;
    }
    return fail(ps, w, "expected ',' or 'and' before '%.*s'", (int)strcspn(w, " \t,"), w);
}

static int parse(parser *ps, ms_filter *f)
{
    for (int cap = 0;;) {
        if (f->n == cap)
            f->c = ms_realloc(f->c, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *f->c);
        cond *c = &f->c[f->n];
        memset(c, 0, sizeof *c);
        skip_space(ps);
        if ((c->col = column(ps)) < 0)
            return -1;
        f->n++; /* c->text is now freed with f */
        skip_space(ps);
        const ms_filter_col *col = &ps->cols[c->col];
        c->numeric = col->numeric;
        int op = operator(ps, col);
        if (op < 0)
            return -1;
        c->op = ops[op].op;
        skip_space(ps);
        if (value(ps, col, ops[op].text, c) < 0)
            return -1;
        int more = separator(ps);
        if (more <= 0)
            return more;
    }
}

int ms_filter_parse(const char *opt, const char *text, const ms_filter_col *cols, int n,
                    const char *scope, ms_filter **out)
{
    parser ps = {opt, text, text, scope, cols, n};
    ms_filter *f = ms_calloc(1, sizeof *f);
    *out = NULL;
    if (parse(&ps, f) < 0) {
        ms_filter_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

static int holds(const cond *c, int cmp)
{
    switch (c->op) {
    case OP_EQ: return cmp == 0;
    case OP_NE: return cmp != 0;
    case OP_LT: return cmp < 0;
    case OP_LE: return cmp <= 0;
    case OP_GT: return cmp > 0;
    case OP_GE: return cmp >= 0;
    default: return cmp == 0; /* OP_HAS: 0 when the text contains the value */
    }
}

int ms_filter_match(const ms_filter *f, const ms_filter_val *row)
{
    for (int k = 0; k < f->n; k++) {
        const cond *c = &f->c[k];
        const ms_filter_val *v = &row[c->col];
        int cmp;
        if (v->null || (c->numeric ? !v->is_int && isnan(v->x) : !v->s))
            return 0;
        if (!c->numeric)
            cmp = c->op == OP_HAS ? !strstr(v->s, c->text) : strcmp(v->s, c->text);
        else if (v->is_int && c->is_int)
            cmp = (v->i > c->i) - (v->i < c->i);
        else
            cmp = (v->x > c->x) - (v->x < c->x);
        if (!holds(c, cmp))
            return 0;
    }
    return 1;
}

int ms_filter_equals(const ms_filter *f, int col, const char **out, int max)
{
    int n = 0;
    for (int k = 0; k < f->n; k++)
        if (f->c[k].col == col && f->c[k].op == OP_EQ && !f->c[k].numeric) {
            if (n < max)
                out[n] = f->c[k].text;
            n++;
        }
    return n;
}

void ms_filter_free(ms_filter *f)
{
    if (!f)
        return;
    for (int k = 0; k < f->n; k++)
        free(f->c[k].text);
    free(f->c);
    free(f);
}
