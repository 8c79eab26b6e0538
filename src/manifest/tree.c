/* The manifest's node tree (manifest_int.h): a YAML text composed from
 * libyaml's events into a small tree of nodes, each with its 1-based
 * position; structural problems (syntax, aliases, tags, nesting) stop there.
 * Then what every check uses: messages (each printed once), names to
 * indices, and the typed getters that read a value or say why not.
 * This is the only file that includes <yaml.h>. */
#include "manifest_int.h"
#include "ms_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 64 /* the format needs 4; the limit keeps walks shallow */

/* ---- the node tree ---- */

void mf_tree_free(mctx *c)
{
    for (int i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].text);
        free(c->nodes[i].kids);
    }
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = c->cap = 0;
    for (int i = 0; i < c->nextra; i++) {
        for (size_t j = 0; j < c->extra_n[i]; j++)
            free(c->extra[i][j].text);
        free(c->extra[i]);
    }
    free(c->extra);
    free(c->extra_n);
    c->extra = NULL;
    c->extra_n = NULL;
    c->nextra = 0;
}

/* ---- messages ---- */

/* The slot of hash h in a table of cap (a power of 2) slots: by its top bits. */
static size_t hash_slot(uint64_t h, size_t cap)
{
    return (size_t)((h * 0x9E3779B97F4A7C15u) >> 32) & (cap - 1);
}

/* 1 when a message of hash h was printed before; else records it. */
static int said_before(mctx *c, uint64_t h)
{
    h += !h; /* 0 marks a free slot */
    if (2 * (c->nsaid + 1) > c->capsaid) { /* at most half full */
        size_t cap = c->capsaid ? 2 * c->capsaid : 64;
        uint64_t *t = ms_calloc(cap, sizeof *t);
        for (size_t i = 0; i < c->capsaid; i++)
            if (c->said[i]) {
                size_t j = hash_slot(c->said[i], cap);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = c->said[i];
            }
        free(c->said);
        c->said = t;
        c->capsaid = cap;
    }
    size_t j = hash_slot(h, c->capsaid);
    for (; c->said[j]; j = (j + 1) & (c->capsaid - 1))
        if (c->said[j] == h)
            return 1;
    c->said[j] = h;
    c->nsaid++;
    return 0;
}

int mf_perr(mctx *c, int line, int col, const char *fmt, ...)
{
    char msg[1024], where[160], q[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->at_line)
        line = c->at_line, col = c->at_col;
    if (line < 0 && -line <= c->nargs)
        snprintf(where, sizeof where, "argument '%s'", mf_show(q, sizeof q, c->args[-line - 1]));
    else
        snprintf(where, sizeof where, "%s:%d:%d", c->path, line, col);
    c->nerr++;
    char full[1200];
    snprintf(full, sizeof full, "%s: %s", where, msg);
    if (said_before(c, ms_hash64(full)))
        return -1;
    ms_error_raw("%s", full);
    return -1;
}

/* User text inside a message: kept on one line and short, control bytes escaped. */
const char *mf_show(char *buf, size_t n, const char *s)
{
    size_t o = 0, lim = n - 4;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        char tmp[8];
        size_t k = 1;
        tmp[0] = (char)ch;
        if (ch == '\n')
            k = (size_t)snprintf(tmp, sizeof tmp, "\\n");
        else if (ch == '\t')
            k = (size_t)snprintf(tmp, sizeof tmp, "\\t");
        else if (ch < 0x20 || ch == 0x7f)
            k = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", ch);
        if (o + k > lim) {
            while (o > 0 && ((unsigned char)buf[o - 1] & 0x80)) /* no split UTF-8 */
                o--;
            memcpy(buf + o, "...", 4);
            return buf;
        }
        memcpy(buf + o, tmp, k);
        o += k;
    }
    buf[o] = '\0';
    return buf;
}

/* What the user wrote, for "expected X, got Y". */
const char *mf_got(char *buf, size_t n, const node *v)
{
    char q[72];
    if (v->type == N_MAP)
        return "a mapping";
    if (v->type == N_SEQ)
        return "a list";
    if (v->plain && !v->text[0])
        return "nothing";
    snprintf(buf, n, "%s'%s'", v->plain ? "" : "a quoted string ", mf_show(q, sizeof q, v->text));
    return buf;
}

/* ---- stage 1: YAML events to a tree ---- */

static void syntax_error(mctx *c, const yaml_parser_t *p, const char *text, size_t len)
{
    if (p->error == YAML_MEMORY_ERROR) {
        mf_perr(c, 1, 1, "out of memory while parsing");
        return;
    }
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset, not a mark: count lines ourselves. */
        size_t off = p->problem_offset < len ? p->problem_offset : len;
        int line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n')
                line++, col = 1;
            else if (((unsigned char)text[i] & 0xC0) != 0x80)
                col++;
        }
        if (p->problem_value != -1)
            mf_perr(c, line, col, "syntax error: %s (0x%X)", problem, (unsigned)p->problem_value);
        else
            mf_perr(c, line, col, "syntax error: %s", problem);
        return;
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context && c->at_line) /* a setting's value: one line, no line numbers */
        mf_perr(c, line, col, "syntax error: %s (%s that starts at character %d of the value)",
                problem, p->context, (int)p->context_mark.column + 1);
    else if (p->context)
        mf_perr(c, line, col, "syntax error: %s (%s at line %d)", problem, p->context,
                (int)p->context_mark.line + 1);
    else
        mf_perr(c, line, col, "syntax error: %s", problem);
}

/* Appends a node of type at line:col (every one at c->at_line:at_col when
 * that is set): a scalar holds text[0..len), plain (unquoted) or not. It
 * goes under parent, or with parent -1 is the root (*root: its index). */
int mf_add_node(mctx *c, int type, int line, int col, const char *text, size_t len,
                bool plain, int parent, int *root)
{
    if (c->nnodes == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->nodes = ms_realloc(c->nodes, (size_t)c->cap * sizeof *c->nodes);
    }
    int idx = c->nnodes++;
    node *n = &c->nodes[idx];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->line = c->at_line ? c->at_line : line;
    n->col = c->at_line ? c->at_col : col;
    if (type == N_SCALAR) {
        n->text = ms_malloc(len + 1);
        memcpy(n->text, text, len);
        n->text[len] = '\0';
        n->plain = plain;
        if (memchr(n->text, '\0', len)) /* "\0" escapes would cut keys short */
            return mf_perr(c, AT(n), "NUL characters are not supported");
    }
    if (parent < 0) {
        *root = idx;
        return 0;
    }
    node *up = &c->nodes[parent];
    if (up->n == up->cap) {
        up->cap = up->cap ? 2 * up->cap : 4;
        up->kids = ms_realloc(up->kids, (size_t)up->cap * sizeof *up->kids);
    }
    up->kids[up->n++] = idx;
    return 0;
}

/* The node of a libyaml event, under the innermost open collection (stack,
 * depth of them). */
static int add_node(mctx *c, int type, const yaml_event_t *ev, const int *stack, int depth,
                    int *root)
{
    bool scalar = type == N_SCALAR;
    return mf_add_node(c, type, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                       scalar ? (const char *)ev->data.scalar.value : NULL,
                       scalar ? ev->data.scalar.length : 0,
                       scalar && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
                       depth == 0 ? -1 : stack[depth - 1], root);
}

/* Builds the tree; *root is -1 for a stream without a document. */
int mf_compose(mctx *c, const char *text, size_t len, int *root)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int stack[MAX_DEPTH], depth = 0, ndocs = 0, rc = 0, done = 0;

    *root = -1;
    if (!yaml_parser_initialize(&p))
        return mf_perr(c, 1, 1, "out of memory while parsing");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done && rc == 0) {
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(c, &p, text, len);
            rc = -1;
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        const yaml_char_t *tag = NULL;
        int type = -1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1)
                rc = mf_perr(c, line, col, "only one document is allowed");
            break;
        case YAML_ALIAS_EVENT:
            /* Aliases would make one value live in several places: refuse. */
            rc = mf_perr(c, line, col, "aliases are not supported");
            break;
        case YAML_SCALAR_EVENT:
            tag = ev.data.scalar.tag;
            type = N_SCALAR;
            break;
        case YAML_SEQUENCE_START_EVENT:
            tag = ev.data.sequence_start.tag;
            type = N_SEQ;
            break;
        case YAML_MAPPING_START_EVENT:
            tag = ev.data.mapping_start.tag;
            type = N_MAP;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (type >= 0 && rc == 0) {
            if (tag)
                rc = mf_perr(c, line, col, "tags are not supported");
            else if (type != N_SCALAR && depth == MAX_DEPTH)
                rc = mf_perr(c, line, col, "nesting deeper than %d levels", MAX_DEPTH);
            else {
                int idx = c->nnodes;
                rc = add_node(c, type, &ev, stack, depth, root);
                if (type != N_SCALAR)
                    stack[depth++] = idx;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

/* ---- names to indices ---- */

/* The index s maps to, or -1. */
int mf_name_map_get(const name_map *h, const char *s)
{
    if (!h->cap)
        return -1;
    for (size_t j = hash_slot(ms_hash64(s), h->cap); h->key[j]; j = (j + 1) & (h->cap - 1))
        if (!strcmp(h->key[j], s))
            return h->val[j];
    return -1;
}

/* Maps s to v (>= 0) unless s is mapped already: the first index stays. */
void mf_name_map_put(name_map *h, const char *s, int v)
{
    if (mf_name_map_get(h, s) >= 0)
        return;
    if (2 * (h->n + 1) > h->cap) {
        name_map g = {NULL, NULL, 0, h->cap ? 2 * h->cap : 64};
        g.key = ms_calloc(g.cap, sizeof *g.key);
        g.val = ms_calloc(g.cap, sizeof *g.val);
        for (size_t i = 0; i < h->cap; i++)
            if (h->key[i])
                mf_name_map_put(&g, h->key[i], h->val[i]);
        free(h->key);
        free(h->val);
        *h = g;
    }
    size_t j = hash_slot(ms_hash64(s), h->cap);
    while (h->key[j])
        j = (j + 1) & (h->cap - 1);
    h->key[j] = s;
    h->val[j] = v;
    h->n++;
}

void mf_name_map_release(name_map *h)
{
    free(h->key);
    free(h->val);
    memset(h, 0, sizeof *h);
}

/* " (did you mean 'x'?)" for a name that is not one of the variant names
 * cand, or "": ms_hint within a budget. A hint compares the name with every
 * candidate (up to 65 x 65 steps each), so thousands of unknown names among
 * thousands of variants took minutes (a 286 KB manifest: 31 s of CPU); past
 * HINT_BUDGET steps a manifest's messages come without the hint. */
const char *mf_hint(mctx *c, char *buf, size_t n, const char *s, const char *const *cand,
                    int ncand)
{
    size_t ls = strlen(s);
    long long cost = 0, a = ls < 64 ? (long long)ls + 1 : 65;
    for (int i = 0; i < ncand && cost <= c->hint_left; i++) {
        size_t lc = strlen(cand[i]);
        cost += a * (lc < 64 ? (long long)lc + 1 : 65);
    }
    if (cost > c->hint_left) {
        c->hint_left = 0;
        return "";
    }
    c->hint_left -= cost;
    return ms_hint(buf, n, s, cand, ncand);
}

/* ---- typed getters ---- */

/* Checks a mapping's keys (scalars, known, not repeated) and returns each
 * known key's value in val[] (NULL when absent). `where` ends messages. */
void mf_map_keys(mctx *c, const node *map, const char *const *keys, int nkeys,
                 const node **val, const node **keyn, const char *where)
{
    char q[72], h[96], g[96];
    for (int i = 0; i < nkeys; i++)
        val[i] = keyn[i] = NULL;
    for (int i = 0; i + 1 < map->n; i += 2) {
        const node *k = mf_kid(c, map, i);
        if (k->type != N_SCALAR) {
            mf_perr(c, AT(k), "keys must be strings, got %s", mf_got(g, sizeof g, k));
            continue;
        }
        int j = 0;
        while (j < nkeys && strcmp(k->text, keys[j]))
            j++;
        if (j == nkeys)
            mf_perr(c, AT(k), "unknown key '%s'%s%s", mf_show(q, sizeof q, k->text), where,
                    ms_hint(h, sizeof h, k->text, keys, nkeys));
        else if (keyn[j])
            mf_perr(c, AT(k), "duplicate key '%s' (first at line %d)", keys[j], keyn[j]->line);
        else {
            keyn[j] = k;
            val[j] = mf_kid(c, map, i + 1);
        }
    }
}

static bool is_int_text(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* YAML 1.2 core schema floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float_text(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

int mf_get_int(mctx *c, const node *v, const char *key, long long lo, long long hi, int *out)
{
    char g[96];
    if (v->type != N_SCALAR || !v->plain || !is_int_text(v->text))
        return mf_perr(c, AT(v), "%s: expected an integer, got %s", key, mf_got(g, sizeof g, v));
    long long x = strtoll(v->text, NULL, 10); /* saturates on overflow: then out of range */
    if (x < lo || x > hi) {
        if (hi < INT_MAX)
            return mf_perr(c, AT(v), "%s: must be in %lld..%lld (got %s)", key, lo, hi, v->text);
        if (x < lo)
            return mf_perr(c, AT(v), "%s: must be >= %lld (got %s)", key, lo, v->text);
        return mf_perr(c, AT(v), "%s: must be <= %lld (got %s)", key, hi, v->text);
    }
    *out = (int)x;
    return 0;
}

int mf_get_num(mctx *c, const node *v, const char *key, double *out)
{
    char g[96];
    const char *t = v->type == N_SCALAR ? v->text : "";
    double x;
    if (v->type != N_SCALAR || !v->plain)
        return mf_perr(c, AT(v), "%s: expected a number, got %s", key, mf_got(g, sizeof g, v));
    const char *u = (*t == '+' || *t == '-') ? t + 1 : t;
    if (!strcmp(u, ".inf") || !strcmp(u, ".Inf") || !strcmp(u, ".INF"))
        x = *t == '-' ? -INFINITY : INFINITY;
    else if (!strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN"))
        x = NAN;
    else if (is_float_text(t))
        x = strtod(t, NULL); /* overflow gives inf, caught by the range checks */
    else
        return mf_perr(c, AT(v), "%s: expected a number, got %s", key, mf_got(g, sizeof g, v));
    *out = x;
    return 0;
}

int mf_get_bool(mctx *c, const node *v, const char *key, bool *out)
{
    char g[96];
    /* Only true/false: YAML 1.1's yes/no/on/off surprise people (Norway). */
    if (v->type == N_SCALAR && v->plain && !strcmp(v->text, "true"))
        *out = true;
    else if (v->type == N_SCALAR && v->plain && !strcmp(v->text, "false"))
        *out = false;
    else
        return mf_perr(c, AT(v), "%s: expected true or false, got %s", key, mf_got(g, sizeof g, v));
    return 0;
}

int mf_get_str(mctx *c, const node *v, const char *key, const char **out)
{
    char g[96];
    if (v->type != N_SCALAR)
        return mf_perr(c, AT(v), "%s: expected a string, got %s", key, mf_got(g, sizeof g, v));
    *out = v->text;
    return 0;
}

int mf_get_text(mctx *c, const node *v, const char *key, size_t max, char **out)
{
    const char *s = "";
    if (mf_get_str(c, v, key, &s))
        return -1;
    if (!*s || strlen(s) > max)
        return mf_perr(c, AT(v), "%s: 1 to %zu characters (got %zu)", key, max, strlen(s));
    *out = ms_strdup(s);
    return 0;
}

/* Names end up in file names and database keys: keep them plain. A sweep's
 * name is the database db/NAME.db, a figure's plots/NAME.png: each a plain
 * file name, so no '/', not empty, and no leading '.' ('..' made the hidden
 * file db/...db, '.' and '..' name folders). Variant names follow the same
 * rule: one rule for every name a manifest gives (merge checks shards' names
 * with it), a variant's name starts the names its grid makes, and a name
 * that may become a file name later should not be a hidden one. */
int mf_get_name(mctx *c, const node *v, const char *key, const char **out)
{
    char q[72];
    const char *s = "";
    if (mf_get_str(c, v, key, &s))
        return -1;
    if (!*s)
        return mf_perr(c, AT(v), "%s: must not be empty", key);
    if (strlen(s) > MS_NAME_MAX) /* it becomes part of file names, temporaries included */
        return mf_perr(c, AT(v), "%s: at most %d characters (got %zu)", key, MS_NAME_MAX,
                       strlen(s));
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return mf_perr(c, AT(v),
                           "%s: '%s' may only contain letters, digits, '_', '.' and '-'", key,
                           mf_show(q, sizeof q, s));
    if (*s == '.')
        return mf_perr(c, AT(v), "%s: '%s' must not start with '.'", key, mf_show(q, sizeof q, s));
    *out = s;
    return 0;
}

int mf_get_choice(mctx *c, const node *v, const char *key, const char *const *names, int n,
                  int *out)
{
    char q[72], h[96];
    const char *s = "";
    if (mf_get_str(c, v, key, &s))
        return -1;
    if ((*out = ms_name_index(names, n, s)) >= 0)
        return 0;
    if (ms_suggest(s, names, n))
        return mf_perr(c, AT(v), "%s: unknown value '%s'%s", key, mf_show(q, sizeof q, s),
                       ms_hint(h, sizeof h, s, names, n));
    char list[256];
    size_t o = 0;
    for (int i = 0; i < n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ",
                              names[i]);
    return mf_perr(c, AT(v), "%s: unknown value '%s' (expected %s)", key, mf_show(q, sizeof q, s),
                   list);
}

typedef struct pos_u64 {
    uint64_t v;
    int i;
} pos_u64;

static int cmp_pos_u64(const void *a, const void *b)
{
    const pos_u64 *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i - y->i;
}

int mf_get_hidden(mctx *c, const node *v, ms_config *cfg)
{
    char g[96];
    int bad = 0, h[MS_MAX_HIDDEN];
    if (v->type != N_SEQ)
        return mf_perr(c, AT(v), "hidden: expected a list of positive integers, got %s",
                       mf_got(g, sizeof g, v));
    if (v->n == 0)
        return mf_perr(c, AT(v), "hidden: must list at least one layer");
    if (v->n > MS_MAX_HIDDEN)
        return mf_perr(c, AT(v), "hidden: at most %d layers allowed (got %d)", MS_MAX_HIDDEN, v->n);
    for (int i = 0; i < v->n; i++) {
        const node *e = mf_kid(c, v, i);
        if (e->type != N_SCALAR || !e->plain || !is_int_text(e->text))
            bad |= mf_perr(c, AT(e), "hidden: expected a list of positive integers, got %s",
                           mf_got(g, sizeof g, e));
        else {
            long long x = strtoll(e->text, NULL, 10);
            if (x < 1 || x > MS_MAX_WIDTH)
                bad |= mf_perr(c, AT(e), "hidden: layer size must be in 1..%d (got %s)",
                               MS_MAX_WIDTH, e->text);
            else
                h[i] = (int)x;
        }
    }
    if (bad)
        return -1;
    /* the network's size against its checkpoint's: size_check() */
    cfg->nhidden = v->n;
    memcpy(cfg->hidden, h, (size_t)v->n * sizeof *h);
    return 0;
}

int mf_get_seeds(mctx *c, const node *v, uint64_t **out, int *nout)
{
    char g[96];
    int bad = 0;
    if (v->type != N_SEQ)
        return mf_perr(c, AT(v), "seeds: expected a list of non-negative integers, got %s",
                       mf_got(g, sizeof g, v));
    if (v->n == 0)
        return mf_perr(c, AT(v), "seeds: must list at least one seed");
    pos_u64 *s = ms_malloc((size_t)v->n * sizeof *s);
    for (int i = 0; i < v->n; i++) {
        const node *e = mf_kid(c, v, i);
        s[i].i = i;
        s[i].v = 0;
        if (e->type != N_SCALAR || !e->plain || !is_int_text(e->text)) {
            bad |= mf_perr(c, AT(e), "seeds: expected a list of non-negative integers, got %s",
                           mf_got(g, sizeof g, e));
            continue;
        }
        const char *t = e->text + (e->text[0] == '+' || e->text[0] == '-');
        errno = 0;
        unsigned long long x = strtoull(t, NULL, 10);
        if (e->text[0] == '-' && x != 0)
            bad |= mf_perr(c, AT(e), "seeds: seed must be >= 0 (got %s)", e->text);
        else if (errno == ERANGE || x > MS_MAX_SEED) /* the database's INTEGER */
            bad |= mf_perr(c, AT(e), "seeds: seed must be <= %llu (got %s)",
                           (unsigned long long)MS_MAX_SEED, e->text);
        else
            s[i].v = x;
    }
    if (!bad) {
        /* Sorting finds repeats in n log n; they are reported in list order. */
        int *first = ms_malloc((size_t)v->n * sizeof *first);
        qsort(s, (size_t)v->n, sizeof *s, cmp_pos_u64);
        for (int i = 0, run = 0; i < v->n; i++) {
            if (s[i].v != s[run].v)
                run = i; /* start of a run of equal seeds, the earliest in the list */
            first[s[i].i] = i == run ? -1 : s[run].i;
        }
        for (int i = 0; i < v->n; i++)
            if (first[i] >= 0)
                bad |= mf_perr(c, AT(mf_kid(c, v, i)),
                               "seeds: duplicate seed %s (first at line %d)",
                               mf_kid(c, v, i)->text, mf_kid(c, v, first[i])->line);
        free(first);
    }
    if (!bad) {
        /* s is sorted now: read values back in list order from the nodes. */
        uint64_t *seeds = ms_malloc((size_t)v->n * sizeof *seeds);
        for (int i = 0; i < v->n; i++) {
            const char *t = mf_kid(c, v, i)->text;
            seeds[i] = strtoull(t + (t[0] == '+' || t[0] == '-'), NULL, 10);
        }
        *out = seeds;
        *nout = v->n;
    }
    free(s);
    return bad ? -1 : 0;
}

bool mf_is_null(const node *n)
{
    return n->type == N_SCALAR && n->plain &&
           (!n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null"));
}
