/* ms_manifest: load and validate a study manifest.
 *
 * Two stages. mf_compose() turns libyaml events into a small tree of nodes, each
 * with its 1-based position; structural problems (syntax, aliases, tags,
 * nesting) stop there. check_*() then walk the whole tree and report every
 * semantic problem they find, so one run of the tool lists all typos.
 * A value is checked once, where it is written: a bad `lr` in defaults is
 * reported at defaults, not again for every variant that inherits it.
 * This is the only file that includes <yaml.h>. */
#define _POSIX_C_SOURCE 200809L
#include "ms_data.h" /* MS_INPUT */
#include "ms_manifest.h"
#include "ms_metrics.h" /* ms_compare_metrics */
#include "ms_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_DEPTH 64 /* the format needs 4; the limit keeps walks shallow */
#define INPUT_WIDTH 785 /* 28*28 pixels + bias */

/* ---- the node tree ---- */

enum { N_SCALAR, N_SEQ, N_MAP };

typedef struct node {
    int type;
    char *text; /* scalar value */
    bool plain; /* unquoted: only plain scalars can be numbers or booleans */
    int line, col;
    int n, cap;
    int *kids; /* indices into tree.nodes; a map alternates key, value */
} node;

typedef struct mctx {
    const char *path;
    int nerr;
    node *nodes; /* indices, not pointers, while building: realloc moves them */
    int nnodes, cap;
    /* Settings from the command line (KEY=VALUE). A node parsed from
     * args[i] has line -(i + 1): mf_perr names the argument instead of a line.
     * While a setting's value is composed, every position is at_line:at_col
     * (at_line 0: positions as parsed). */
    char *const *args;
    int nargs, at_line, at_col;
    /* Messages already printed (their hashes, in an open-addressing table of
     * capsaid slots, 0 free): a value that several grid combinations or
     * variants share is reported once. A table, not a list: a manifest can
     * make 100,000 different messages. */
    uint64_t *said;
    size_t nsaid, capsaid;
    long long hint_left; /* steps left for hints of variant names: mf_hint() */
} mctx;

static const node *mf_kid(const mctx *c, const node *n, int i) { return &c->nodes[n->kids[i]]; }

static void mf_tree_free(mctx *c)
{
    for (int i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].text);
        free(c->nodes[i].kids);
    }
    free(c->nodes);
    c->nodes = NULL;
    c->nnodes = c->cap = 0;
}

/* ---- messages ---- */

static int mf_perr(mctx *c, int line, int col, const char *fmt, ...) MS_PRINTF(4, 5);
static const char *mf_show(char *buf, size_t n, const char *s);

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

static int mf_perr(mctx *c, int line, int col, const char *fmt, ...)
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

#define AT(n) (n)->line, (n)->col

/* User text inside a message: kept on one line and short, control bytes escaped. */
static const char *mf_show(char *buf, size_t n, const char *s)
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
static const char *mf_got(char *buf, size_t n, const node *v)
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
    if (p->context)
        mf_perr(c, line, col, "syntax error: %s (%s at line %d)", problem, p->context,
             (int)p->context_mark.line + 1);
    else
        mf_perr(c, line, col, "syntax error: %s", problem);
}

/* Appends a node of type at line:col (every one at c->at_line:at_col when
 * that is set): a scalar holds text[0..len), plain (unquoted) or not. It
 * goes under parent, or with parent -1 is the root (*root: its index). */
static int mf_add_node(mctx *c, int type, int line, int col, const char *text, size_t len,
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
static int mf_compose(mctx *c, const char *text, size_t len, int *root)
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

/* ---- stage 2: checking values ---- */

/* Keys a config scope (defaults or a variant) may set, in this order. */
enum {
    K_HIDDEN, K_ACTIVATION, K_INIT, K_LR, K_MOMENTUM, K_BATCH, K_EPOCHS,
    K_VPE, K_EARLY_STOP, K_SHUFFLE, K_SEEDS, K_PRECISION, K_N
};
static const char *const top_keys[] = {"name", "data", "defaults", "variants", "plots",
                                       "settings", "claims"};
static const char *const mf_data_keys[] = {"dir", "train", "val", "dataset"};
/* A variant's keys: name, task, label, extends, then the config keys (index
 * V_CFG + K_*). */
static const char *const variant_keys[] = {"name",          "task",       "label",   "extends",
                                           "grid",          "hidden",     "activation",
                                           "init",          "lr",         "momentum", "batch",
                                           "epochs",        "val_per_epoch", "early_stop",
                                           "shuffle",       "seeds",      "precision"};
enum { V_NAME, V_TASK, V_LABEL, V_EXTENDS, V_GRID, V_CFG };
static const char *const *const mf_cfg_keys = variant_keys + V_CFG;
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void mf_variant_release(ms_variant *v)
{
    free(v->name);
    free(v->task);
    free(v->label);
    free(v->grid_of);
    free(v->seeds);
}

/* The valid variant names of m (a variant whose name was refused has
 * none), for lookups and hints: malloc'd, *n of them. */
static const char **mf_valid_names(const ms_manifest *m, int *n)
{
    const char **names = ms_calloc((size_t)m->nvariants + 1, sizeof *names);
    *n = 0;
    for (int i = 0; i < m->nvariants; i++)
        if (m->variants[i].name)
            names[(*n)++] = m->variants[i].name;
    return names;
}

/* Names to indices, by hashing: a 1 MiB manifest holds tens of thousands of
 * names, and a pass over all of them for each lookup made checking it take
 * seconds. Open addressing, at most half full; keys are not copied. */
typedef struct name_map {
    const char **key;
    int *val;
    size_t n, cap; /* cap: 0 or a power of 2 */
} name_map;

/* The index s maps to, or -1. */
static int mf_name_map_get(const name_map *h, const char *s)
{
    if (!h->cap)
        return -1;
    for (size_t j = hash_slot(ms_hash64(s), h->cap); h->key[j]; j = (j + 1) & (h->cap - 1))
        if (!strcmp(h->key[j], s))
            return h->val[j];
    return -1;
}

/* Maps s to v (>= 0) unless s is mapped already: the first index stays. */
static void mf_name_map_put(name_map *h, const char *s, int v)
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

static void mf_name_map_release(name_map *h)
{
    free(h->key);
    free(h->val);
    memset(h, 0, sizeof *h);
}

/* Each of the n variants' valid names to its first variant's index. */
static void mf_name_map_variants(name_map *h, const ms_variant *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i].name)
            mf_name_map_put(h, v[i].name, i);
}

/* " (did you mean 'x'?)" for a name that is not one of the variant names
 * cand, or "": ms_hint within a budget. A hint compares the name with every
 * candidate (up to 65 x 65 steps each), so thousands of unknown names among
 * thousands of variants took minutes (a 286 KB manifest: 31 s of CPU); past
 * HINT_BUDGET steps a manifest's messages come without the hint. */
#define HINT_BUDGET 50000000LL

static const char *mf_hint(mctx *c, char *buf, size_t n, const char *s, const char *const *cand,
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

/* ---- settings (KEY=VALUE), composed before stage 2 takes pointers ---- */

/* One setting, from the command line or the manifest's `settings:` list:
 * KEY (a config key) in one variant or all, to one value or, with several
 * (KEY=V1,V2), a grid over them. Value nodes are kept as indices until
 * every text is composed (composing moves the node array). */
typedef struct setting {
    char *variant;   /* NULL: every variant */
    int vindex;      /* the variant, once names are known; -1: every variant or unknown */
    int key;         /* K_* */
    int line, col;   /* where the whole setting is (an argument: line -(i + 1)) */
    int nvals;
    int *vals;       /* node indices, then cast to const node * by mf_settings_bind */
    const node **v;
} setting;

static void mf_settings_free(setting *st, int n)
{
    for (int i = 0; i < n; i++) {
        free(st[i].variant);
        free(st[i].vals);
        free(st[i].v);
    }
    free(st);
}

/* The top-level commas of a value: not inside [], {} or quotes. */
static int split_values(const char *s, size_t *start, size_t *len, int max)
{
    int depth = 0, n = 0;
    char quote = 0;
    size_t at = 0, i = 0;
    for (;; i++) {
        char ch = s[i];
        if (quote) {
            if (ch == quote)
                quote = 0;
            else if (!ch)
                break;
            continue;
        }
        if (ch == '\'' || ch == '"')
            quote = ch;
        else if (ch == '[' || ch == '{')
            depth++;
        else if ((ch == ']' || ch == '}') && depth > 0)
            depth--;
        else if ((ch == ',' && depth == 0) || !ch) {
            if (n == max)
                return -1;
            start[n] = at;
            len[n++] = i - at;
            at = i + 1;
            if (!ch)
                break;
        }
    }
    return n;
}

enum { MAX_GRID_VALUES = 64 };

/* Parse one "KEY=VALUE" / "VARIANT.KEY=VALUE" text at line:col (a manifest
 * position, or -(i + 1) for argument i). Appends to *st on success. */
static void setting_parse(mctx *c, const char *text, int line, int col, setting **st, int *n)
{
    char q[72], h[96];
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            mf_perr(c, line, col, "control characters are not allowed in a setting");
            return;
        }
    const char *eq = strchr(text, '=');
    if (!eq || eq == text) {
        mf_perr(c, line, col, "expected KEY=VALUE or VARIANT.KEY=VALUE (KEY one of the "
                           "variant keys: lr, momentum, hidden, ...)");
        return;
    }
    size_t klen = (size_t)(eq - text);
    char *left = ms_malloc(klen + 1);
    memcpy(left, text, klen);
    left[klen] = '\0';
    char *dot = strrchr(left, '.'), *key = left, *variant = NULL;
    if (dot) {
        *dot = '\0';
        variant = left;
        key = dot + 1;
    }
    int k = 0;
    while (k < K_N && strcmp(key, mf_cfg_keys[k]))
        k++;
    if (variant && !*variant) {
        mf_perr(c, line, col, "expected VARIANT.KEY=VALUE, got no variant before '.'");
        free(left);
        return;
    }
    if (k == K_N) {
        mf_perr(c, line, col, "unknown key '%s'%s", mf_show(q, sizeof q, key),
             ms_hint(h, sizeof h, key, mf_cfg_keys, K_N));
        free(left);
        return;
    }
    size_t start[MAX_GRID_VALUES], len[MAX_GRID_VALUES];
    const char *value = eq + 1;
    int nv = split_values(value, start, len, MAX_GRID_VALUES);
    if (nv < 0) {
        mf_perr(c, line, col, "%s: more than %d values", mf_cfg_keys[k], MAX_GRID_VALUES);
        free(left);
        return;
    }
    setting x = {variant ? ms_strdup(variant) : NULL, -1, k, line, col, 0,
                 ms_malloc((size_t)nv * sizeof(int)), NULL};
    free(left);
    int bad = 0;
    c->at_line = line;
    c->at_col = col;
    for (int i = 0; i < nv; i++) {
        int root = -1;
        if (mf_compose(c, value + start[i], len[i], &root) < 0) {
            bad = 1;
            break;
        }
        if (root < 0 || (c->nodes[root].type == N_SCALAR && c->nodes[root].plain &&
                         !c->nodes[root].text[0])) {
            mf_perr(c, line, col, "%s: a value is missing", mf_cfg_keys[k]);
            bad = 1;
            break;
        }
        x.vals[x.nvals++] = root;
    }
    c->at_line = c->at_col = 0;
    if (bad) {
        free(x.variant);
        free(x.vals);
        return;
    }
    *st = ms_realloc(*st, (size_t)(*n + 1) * sizeof **st);
    (*st)[(*n)++] = x;
}

/* Every setting: the manifest's `settings:` list (strings, in order), then
 * the command line's. root is an index: composing moves nodes. */
static void mf_settings_read(mctx *c, int root, setting **st, int *n)
{
    char g[96];
    *st = NULL;
    *n = 0;
    if (root >= 0 && c->nodes[root].type == N_MAP) {
        int list = -1;
        for (int i = 0; i + 1 < c->nodes[root].n; i += 2) {
            const node *k = &c->nodes[c->nodes[root].kids[i]];
            if (k->type == N_SCALAR && !strcmp(k->text, "settings"))
                list = c->nodes[root].kids[i + 1];
        }
        if (list >= 0 && c->nargs) /* the recorded text appends the command line's as the list */
            mf_perr(c, -1, 0, "the manifest has a settings: list already: give settings in one "
                           "place, the manifest or the command line");
        if (list >= 0 && c->nodes[list].type != N_SEQ && !(c->nodes[list].type == N_SCALAR &&
                                                           c->nodes[list].plain &&
                                                           !c->nodes[list].text[0]))
            mf_perr(c, c->nodes[list].line, c->nodes[list].col,
                 "settings: expected a list of KEY=VALUE strings, got %s",
                 mf_got(g, sizeof g, &c->nodes[list]));
        else if (list >= 0 && c->nodes[list].type == N_SEQ)
            for (int i = 0; i < c->nodes[list].n; i++) {
                int e = c->nodes[list].kids[i];
                if (c->nodes[e].type != N_SCALAR) {
                    mf_perr(c, c->nodes[e].line, c->nodes[e].col,
                         "settings: expected a KEY=VALUE string, got %s", mf_got(g, sizeof g, &c->nodes[e]));
                    continue;
                }
                char *text = ms_strdup(c->nodes[e].text); /* mf_compose may move the node */
                setting_parse(c, text, c->nodes[e].line, c->nodes[e].col, st, n);
                free(text);
            }
    }
    for (int i = 0; i < c->nargs; i++)
        setting_parse(c, c->args[i], -(i + 1), 0, st, n);
}


/* Checks a mapping's keys (scalars, known, not repeated) and returns each
 * known key's value in val[] (NULL when absent). `where` ends messages. */
static void mf_map_keys(mctx *c, const node *map, const char *const *keys, int nkeys,
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

static int mf_get_int(mctx *c, const node *v, const char *key, long long lo, long long hi, int *out)
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

static int mf_get_num(mctx *c, const node *v, const char *key, double *out)
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

static int mf_get_bool(mctx *c, const node *v, const char *key, bool *out)
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

static int mf_get_str(mctx *c, const node *v, const char *key, const char **out)
{
    char g[96];
    if (v->type != N_SCALAR)
        return mf_perr(c, AT(v), "%s: expected a string, got %s", key, mf_got(g, sizeof g, v));
    *out = v->text;
    return 0;
}

/* Names end up in file names and database keys: keep them plain. A sweep's
 * name is the database db/NAME.db, a figure's plots/NAME.png: each a plain
 * file name, so no '/', not empty, and no leading '.' ('..' made the hidden
 * file db/...db, '.' and '..' name folders). Variant names follow the same
 * rule: one rule for every name a manifest gives (merge checks shards' names
 * with it), a variant's name starts the names its grid makes, and a name
 * that may become a file name later should not be a hidden one. */
static int mf_get_name(mctx *c, const node *v, const char *key, const char **out)
{
    char q[72];
    const char *s = "";
    if (mf_get_str(c, v, key, &s))
        return -1;
    if (!*s)
        return mf_perr(c, AT(v), "%s: must not be empty", key);
    if (strlen(s) > MS_NAME_MAX) /* it becomes part of file names, temporaries included */
        return mf_perr(c, AT(v), "%s: at most %d characters (got %zu)", key, MS_NAME_MAX, strlen(s));
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return mf_perr(c, AT(v), "%s: '%s' may only contain letters, digits, '_', '.' and '-'", key,
                        mf_show(q, sizeof q, s));
    if (*s == '.')
        return mf_perr(c, AT(v), "%s: '%s' must not start with '.'", key, mf_show(q, sizeof q, s));
    *out = s;
    return 0;
}

static int mf_get_choice(mctx *c, const node *v, const char *key, const char *const *names, int n,
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
    return mf_perr(c, AT(v), "%s: unknown value '%s' (expected %s or %s)", key, mf_show(q, sizeof q, s),
                names[0], names[1]);
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

static int mf_get_hidden(mctx *c, const node *v, ms_config *cfg)
{
    char g[96];
    int bad = 0, h[MS_MAX_HIDDEN];
    if (v->type != N_SEQ)
        return mf_perr(c, AT(v), "hidden: expected a list of positive integers, got %s", mf_got(g, sizeof g, v));
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
                bad |= mf_perr(c, AT(e), "hidden: layer size must be in 1..%d (got %s)", MS_MAX_WIDTH,
                            e->text);
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

static int mf_get_seeds(mctx *c, const node *v, uint64_t **out, int *nout)
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
                bad |= mf_perr(c, AT(mf_kid(c, v, i)), "seeds: duplicate seed %s (first at line %d)",
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

/* Settings in effect at one place: defaults, or a variant on top of them. */
typedef struct scope {
    ms_config cfg;
    uint64_t *seeds;
    int nseeds;
    bool own_seeds;
    const node *set[K_N]; /* value node of each key given here and valid */
    bool bad[K_N];        /* given here but invalid */
} scope;

static void mf_apply_key(mctx *c, scope *s, int k, const node *v)
{
    ms_config *cfg = &s->cfg;
    int rc = 0, x = 0;
    double d = 0;
    const char *why;
    switch (k) {
    case K_HIDDEN:
        rc = mf_get_hidden(c, v, cfg);
        break;
    case K_ACTIVATION:
        if (!(rc = mf_get_choice(c, v, "activation", ms_activation_names, MS_ACT_N, &x)))
            cfg->activation = (ms_activation)x;
        break;
    case K_INIT:
        if (!(rc = mf_get_choice(c, v, "init", ms_init_names, MS_INIT_N, &x)))
            cfg->init = (ms_init)x;
        break;
    case K_LR:
        if (!(rc = mf_get_num(c, v, "lr", &d))) {
            if ((why = ms_lr_rule(d)))
                rc = mf_perr(c, AT(v), "lr: %s (got %s)", why, v->text);
            else
                cfg->lr = d;
        }
        break;
    case K_MOMENTUM:
        if (!(rc = mf_get_num(c, v, "momentum", &d))) {
            if ((why = ms_momentum_rule(d)))
                rc = mf_perr(c, AT(v), "momentum: %s (got %s)", why, v->text);
            else
                cfg->momentum = d;
        }
        break;
    case K_BATCH: /* the upper bound, data.train, is checked in mf_cross_check() */
        rc = mf_get_int(c, v, "batch", 1, MS_MAX_COUNT, &cfg->batch);
        break;
    case K_EPOCHS:
        rc = mf_get_int(c, v, "epochs", 1, MS_MAX_COUNT, &cfg->epochs);
        break;
    case K_VPE:
        rc = mf_get_int(c, v, "val_per_epoch", 1, MS_MAX_COUNT, &cfg->val_per_epoch);
        break;
    case K_EARLY_STOP:
        rc = mf_get_int(c, v, "early_stop", 0, MS_MAX_COUNT, &cfg->early_stop);
        break;
    case K_SHUFFLE:
        rc = mf_get_bool(c, v, "shuffle", &cfg->shuffle);
        break;
    case K_PRECISION:
        if (!(rc = mf_get_choice(c, v, "precision", ms_precision_names, MS_PREC_N, &x)))
            cfg->precision = (ms_precision)x;
        break;
    case K_SEEDS: {
        uint64_t *seeds = NULL;
        int n = 0;
        if (!(rc = mf_get_seeds(c, v, &seeds, &n))) {
            s->seeds = seeds;
            s->nseeds = n;
            s->own_seeds = true;
        }
        break;
    }
    }
    if (rc)
        s->bad[k] = true;
    else
        s->set[k] = v;
}

typedef struct data_info {
    int train, val;
    const node *train_node; /* NULL when data.train is absent */
    bool train_bad;
} data_info;

/* Checks that depend on data.train. Reported once, by the scope that wrote
 * the value (defaults checks itself fully, a variant only what it overrides),
 * at that value's position. */
/* The network's checkpoint must fit in one SQLite value: ms_max_params
 * weights (a float64 run, 16 bytes a weight, half as many as float32).
 * Reported by the scope that set hidden, at that value; or at precision
 * when float64 is what made it too large. */
static void size_check(mctx *c, const scope *s, const scope *dflt)
{
    int k = s->set[K_HIDDEN] ? K_HIDDEN : K_PRECISION;
    long long max = ms_max_params(s->cfg.precision), np = ms_config_params(&s->cfg, MS_INPUT);
    if (s->bad[K_HIDDEN] || s->bad[K_PRECISION] || (dflt && dflt->bad[K_HIDDEN]) || np <= max ||
        !s->set[k] || (k == K_PRECISION && np > MS_MAX_PARAMS))
        return;
    mf_perr(c, AT(s->set[k]), "%s: %lld weights, more than the %lld whose %scheckpoint fits in the "
         "database", mf_cfg_keys[k], np, max, s->cfg.precision == MS_PREC_F64 ? "float64 " : "");
}

static void mf_cross_check(mctx *c, const data_info *d, const scope *s, const scope *dflt)
{
    size_check(c, s, dflt);
    bool own_b = !dflt || s->set[K_BATCH], own_v = !dflt || s->set[K_VPE];
    bool bad_b = s->bad[K_BATCH] || (dflt && !s->set[K_BATCH] && dflt->bad[K_BATCH]);
    bool bad_v = s->bad[K_VPE] || (dflt && !s->set[K_VPE] && dflt->bad[K_VPE]);
    const node *bn = s->set[K_BATCH], *vn = s->set[K_VPE], *tn = d->train_node;
    int train = d->train, b = s->cfg.batch, vpe = s->cfg.val_per_epoch;

    if (d->train_bad || bad_b)
        return;
    if (b > train) {
        if (!own_b)
            return;
        if (bn)
            mf_perr(c, AT(bn), "batch: must be <= %d, the training size (got %d)", train, b);
        else if (tn) /* the built-in batch size against a small data.train */
            mf_perr(c, AT(tn), "data.train: must be >= %d, the batch size (got %d)", b, train);
        return;
    }
    if (bad_v || !(own_b || own_v))
        return;
    int steps = train / b;
    if (vpe <= steps)
        return;
    if (vn)
        mf_perr(c, AT(vn), "val_per_epoch: must be <= %d, the steps per epoch (got %d)", steps, vpe);
    else if (bn)
        mf_perr(c, AT(bn), "batch: %d leaves %d steps per epoch, fewer than val_per_epoch (%d)", b, steps,
             vpe);
    else if (tn)
        mf_perr(c, AT(tn), "data.train: %d leaves %d steps per epoch at batch %d, fewer than "
             "val_per_epoch (%d)", train, steps, b, vpe);
}

/* A path written in the manifest: a relative one is relative to the
 * manifest's folder (a manifest read from a pipe: to the current folder). */
static char *relative_to_manifest(const char *manifest, const char *path)
{
    const char *slash = strrchr(manifest, '/');
    if (path[0] == '/' || !slash || !strcmp(manifest, "-") || !strncmp(manifest, "/dev/", 5) ||
        !strncmp(manifest, "/proc/", 6))
        return ms_strdup(path);
    return ms_xstrfmt("%.*s/%s", (int)(slash - manifest), manifest, path);
}

static void mf_check_data(mctx *c, const node *v, ms_manifest *m, data_info *d, const node **dir_node)
{
    char g[96];
    const node *val[COUNT(mf_data_keys)], *keyn[COUNT(mf_data_keys)];
    const char *s = "";
    int x = 0;
    if (v->type != N_MAP) {
        mf_perr(c, AT(v), "data: expected a mapping, got %s", mf_got(g, sizeof g, v));
        return;
    }
    mf_map_keys(c, v, mf_data_keys, COUNT(mf_data_keys), val, keyn, " in data");
    if (val[0] && !mf_get_str(c, val[0], "data.dir", &s)) {
        if (!*s)
            mf_perr(c, AT(val[0]), "data.dir: must not be empty");
        else {
            free(m->data_dir);
            m->data_dir = relative_to_manifest(c->path, s);
            m->data_line = val[0]->line;
            m->data_col = val[0]->col;
            *dir_node = val[0];
        }
    }
    if (val[1]) {
        d->train_node = val[1];
        d->train_bad = mf_get_int(c, val[1], "data.train", 1, MS_MAX_TRAIN, &d->train) != 0;
    }
    if (val[2])
        mf_get_int(c, val[2], "data.val", 1, MS_MAX_VAL, &d->val);
    if (val[3] && !mf_get_choice(c, val[3], "data.dataset", ms_dataset_names, MS_DATASET_N, &x)) {
        m->dataset = x;
        m->dataset_stated = 1;
    }
}

typedef struct name_pos {
    const char *s;
    int i;
} name_pos;

static int cmp_name_pos(const void *a, const void *b)
{
    const name_pos *x = a, *y = b;
    int r = strcmp(x->s, y->s);
    return r ? r : x->i - y->i;
}

/* For each of the n variants v[], the index of the first variant with its
 * name when that is an earlier one, else -1 (a variant without a valid
 * name: -1). By sorting, n log n: a grid makes up to MS_MANIFEST_MAX_RUNS
 * names. malloc'd. */
static int *repeated_names(const ms_variant *v, int n)
{
    int k = 0;
    name_pos *np = ms_malloc((size_t)(n ? n : 1) * sizeof *np);
    int *first = ms_malloc((size_t)(n ? n : 1) * sizeof *first);
    for (int i = 0; i < n; i++) {
        first[i] = -1;
        if (v[i].name)
            np[k++] = (name_pos){v[i].name, i};
    }
    qsort(np, (size_t)k, sizeof *np, cmp_name_pos);
    for (int i = 1; i < k; i++)
        if (!strcmp(np[i].s, np[i - 1].s))
            first[np[i].i] = first[np[i - 1].i] >= 0 ? first[np[i - 1].i] : np[i - 1].i;
    free(np);
    return first;
}

/* Reports repeated variant names at the later occurrence. */
static void check_unique_names(mctx *c, const ms_manifest *m, const node *const *name_node)
{
    int *first = repeated_names(m->variants, m->nvariants);
    char q[72];
    for (int i = 0; i < m->nvariants; i++)
        if (first[i] >= 0)
            mf_perr(c, AT(name_node[i]), "duplicate variant name '%s' (first at line %d)",
                 mf_show(q, sizeof q, m->variants[i].name), name_node[first[i]]->line);
    free(first);
}

/* What mf_check_variants knows of one variant while it resolves `extends`. */
enum { NV = COUNT(variant_keys) };
typedef struct vinfo {
    const node *val[NV], *keyn[NV];
    int parent;  /* the variant it extends, -1: the defaults */
    int state;   /* 0: not resolved, 1: resolving (on the chain), 2: resolved */
    scope base;  /* once resolved: its manifest settings (what a variant extending it starts from) */
    scope sc;    /* and with the KEY=VALUE settings: what it runs */
} vinfo;

/* Which settings apply to which variant, found without a pass over all of
 * them for each variant (26,000 variants under 55,000 settings took two
 * minutes to check): those of every variant (glob) and each variant's own
 * (own[at[i]] .. own[at[i + 1] - 1]), in order, and for each key the last
 * setting of every variant (glast), the last with one value (glast1) and the
 * last valid one with one value (glast1_ok, once glob_checked). A value is
 * checked once, the first time it applies: its messages are the same for
 * every variant. ok[j]: -1 unchecked, 0 bad, 1 good. */
typedef struct setting_use {
    int nglob, *glob, *at, *own;
    signed char *ok;
    bool glob_checked;
    int glast[K_N], glast1[K_N], glast1_ok[K_N];
} setting_use;

static void mf_setting_use_init(setting_use *u, const setting *st, int nst, int nv)
{
    memset(u, 0, sizeof *u);
    u->glob = ms_malloc((size_t)(nst ? nst : 1) * sizeof *u->glob);
    u->own = ms_malloc((size_t)(nst ? nst : 1) * sizeof *u->own);
    u->at = ms_calloc((size_t)nv + 1, sizeof *u->at);
    u->ok = ms_malloc((size_t)(nst ? nst : 1));
    memset(u->ok, -1, (size_t)(nst ? nst : 1));
    for (int k = 0; k < K_N; k++)
        u->glast[k] = u->glast1[k] = u->glast1_ok[k] = -1;
    for (int j = 0; j < nst; j++)
        if (!st[j].variant) {
            u->glob[u->nglob++] = j;
            u->glast[st[j].key] = j;
            if (st[j].nvals == 1)
                u->glast1[st[j].key] = j;
        } else if (st[j].vindex >= 0)
            u->at[st[j].vindex + 1]++;
    for (int i = 0; i < nv; i++)
        u->at[i + 1] += u->at[i];
    int *fill = ms_malloc((size_t)(nv ? nv : 1) * sizeof *fill);
    memcpy(fill, u->at, (size_t)nv * sizeof *fill);
    for (int j = 0; j < nst; j++)
        if (st[j].variant && st[j].vindex >= 0)
            u->own[fill[st[j].vindex]++] = j;
    free(fill);
}

static void mf_setting_use_release(setting_use *u)
{
    free(u->glob);
    free(u->own);
    free(u->at);
    free(u->ok);
    memset(u, 0, sizeof *u);
}

/* For each key, the last setting that applies to variant i (last), the last
 * with one value (last1) and the last valid one with one value (last1_ok,
 * once they are checked); -1: none. */
static void mf_last_settings(const setting_use *u, const setting *st, int i, int *last, int *last1,
                          int *last1_ok)
{
    memcpy(last, u->glast, sizeof u->glast);
    memcpy(last1, u->glast1, sizeof u->glast1);
    memcpy(last1_ok, u->glast1_ok, sizeof u->glast1_ok);
    for (int o = u->at[i]; o < u->at[i + 1]; o++) { /* ascending: each one is later */
        int j = u->own[o], k = st[j].key;
        if (j > last[k])
            last[k] = j;
        if (st[j].nvals == 1 && j > last1[k])
            last1[k] = j;
        if (st[j].nvals == 1 && u->ok[j] == 1 && j > last1_ok[k])
            last1_ok[k] = j;
    }
}

typedef struct vctx {
    mctx *c;
    const data_info *d;
    const scope *dflt;
    vinfo *vi;
    const ms_manifest *m;
    const setting *st; /* settings, applied after a variant's own keys */
    int nst;
    setting_use *use;
} vctx;

/* Checks, in order, the settings with one value that apply to variant i
 * and were not checked yet (its own, and the first time those of every
 * variant). */
static void check_settings(vctx *x, int i)
{
    setting_use *u = x->use;
    const int *own = u->own + u->at[i];
    int nown = u->at[i + 1] - u->at[i], g = u->glob_checked ? u->nglob : 0, o = 0;
    while (g < u->nglob || o < nown) {
        int j = o == nown || (g < u->nglob && u->glob[g] < own[o]) ? u->glob[g++] : own[o++];
        const setting *t = &x->st[j];
        if (t->nvals != 1 || u->ok[j] >= 0)
            continue;
        scope tmp;
        memset(&tmp, 0, sizeof tmp);
        mf_apply_key(x->c, &tmp, t->key, t->v[0]);
        u->ok[j] = !tmp.bad[t->key];
        if (tmp.own_seeds)
            free(tmp.seeds);
        if (!t->variant && u->ok[j])
            u->glast1_ok[t->key] = j; /* ascending: each one is later */
    }
    u->glob_checked = true;
}

/* Variant i's settings: its parent's (the defaults, or the variant it
 * extends, resolved first), then its own keys. A chain that comes back to a
 * variant on it is reported once, at the `extends` that closes it. */
static const scope *resolve(vctx *x, int i)
{
    vinfo *v = &x->vi[i];
    if (v->state == 2)
        return &v->base;
    if (v->state == 1) {
        char chain[512] = "", q[72];
        size_t o = 0;
        int k = i;
        do { /* walk the chain from i back to i */
            o += (size_t)snprintf(chain + o, o < sizeof chain ? sizeof chain - o : 0, "'%s' -> ",
                                  mf_show(q, sizeof q, x->m->variants[k].name));
            k = x->vi[k].parent;
        } while (k != i && o < sizeof chain);
        snprintf(chain + (o < sizeof chain ? o : sizeof chain - 1),
                 o < sizeof chain ? sizeof chain - o : 1, "'%s'", mf_show(q, sizeof q, x->m->variants[i].name));
        mf_perr(x->c, AT(v->val[V_EXTENDS]), "extends: a cycle: %s", chain);
        v->parent = -1; /* break it: this variant starts from the defaults */
        return x->dflt;
    }
    v->state = 1;
    const scope *up = v->parent >= 0 ? resolve(x, v->parent) : x->dflt;
    scope sc = *up;
    memset(sc.set, 0, sizeof sc.set);
    memset(sc.bad, 0, sizeof sc.bad);
    sc.own_seeds = false;
    for (int k = 0; k < K_N; k++)
        if (v->val[V_CFG + k])
            mf_apply_key(x->c, &sc, k, v->val[V_CFG + k]);
    mf_cross_check(x->c, x->d, &sc, up);
    for (int k = 0; k < K_N; k++) /* an inherited bad value stays bad: no second message */
        if (!sc.set[k] && !sc.bad[k])
            sc.bad[k] = up->bad[k];
    v->base = sc;
    /* KEY=VALUE settings: after the manifest's own values, in this variant
     * only (a variant extending it starts from base). As applying each in
     * turn: a key takes its last valid setting's value, and is bad when its
     * last setting is (reported when checked). */
    check_settings(x, i);
    int last[K_N], last1[K_N], last1_ok[K_N];
    mf_last_settings(x->use, x->st, i, last, last1, last1_ok);
    scope fin = sc;
    memset(fin.set, 0, sizeof fin.set);
    fin.own_seeds = false;
    for (int k = 0; k < K_N; k++) {
        if (last1_ok[k] >= 0)
            mf_apply_key(x->c, &fin, k, x->st[last1_ok[k]].v[0]);
        if (last1[k] >= 0)
            fin.bad[k] = x->use->ok[last1[k]] != 1;
    }
    mf_cross_check(x->c, x->d, &fin, &v->base);
    v->sc = fin;
    v->state = 2;
    return &v->base;
}

/* Settings' value nodes as pointers (nothing is composed any more) and
 * their variants by name: an unknown one is reported with the likely one. */
static void mf_settings_bind(mctx *c, setting *st, int nst, const name_map *byname,
                          const char *const *names, int nnames)
{
    char q[72], h[96];
    for (int j = 0; j < nst; j++) {
        setting *t = &st[j];
        t->v = ms_malloc((size_t)t->nvals * sizeof *t->v);
        for (int i = 0; i < t->nvals; i++)
            t->v[i] = &c->nodes[t->vals[i]];
        if (!t->variant)
            continue;
        t->vindex = mf_name_map_get(byname, t->variant);
        if (t->vindex < 0)
            mf_perr(c, t->line, t->col, "no variant '%s'%s", mf_show(q, sizeof q, t->variant),
                 mf_hint(c, h, sizeof h, t->variant, names, nnames));
    }
}

/* Each variant of the list vs: its keys (into vi[], one for each variant
 * that is a mapping, m->nvariants of them), its name, task and label; then
 * repeated names. */
static void read_variants(mctx *c, const node *vs, ms_manifest *m, vinfo *vi)
{
    char g[96], q[72], where[128];
    const node **name_node = ms_calloc((size_t)vs->n, sizeof *name_node);
    for (int i = 0; i < vs->n; i++) {
        const node *vn = mf_kid(c, vs, i);
        const char *s = "";
        if (vn->type != N_MAP) {
            mf_perr(c, AT(vn), "variants: each variant must be a mapping, got %s",
                 mf_got(g, sizeof g, vn));
            continue;
        }
        /* Name the variant in messages about keys that come before its name. */
        snprintf(where, sizeof where, " in variant %d", i + 1);
        for (int j = 0; j + 1 < vn->n; j += 2) {
            const node *k = mf_kid(c, vn, j), *v = mf_kid(c, vn, j + 1);
            if (k->type == N_SCALAR && !strcmp(k->text, "name") && v->type == N_SCALAR &&
                v->text[0]) {
                snprintf(where, sizeof where, " in variant '%s'", mf_show(q, sizeof q, v->text));
                break;
            }
        }
        vinfo *x = &vi[m->nvariants];
        mf_map_keys(c, vn, variant_keys, NV, x->val, x->keyn, where);
        x->parent = -1;

        ms_variant *v = &m->variants[m->nvariants];
        name_node[m->nvariants++] = x->val[V_NAME];
        v->line = vn->line;
        v->col = vn->col;
        if (!x->val[V_NAME])
            mf_perr(c, AT(vn), "missing key 'name'%s", where);
        else if (!mf_get_name(c, x->val[V_NAME], "name", &s))
            v->name = ms_strdup(s);
        v->task = ms_strdup(x->val[V_TASK] && !mf_get_str(c, x->val[V_TASK], "task", &s) ? s : "");
        if (x->val[V_LABEL] && !mf_get_str(c, x->val[V_LABEL], "label", &s)) {
            if (!*s || strlen(s) > MS_LABEL_MAX)
                mf_perr(c, AT(x->val[V_LABEL]), "label: 1 to %d characters (got %zu)",
                     MS_LABEL_MAX, strlen(s));
            else
                v->label = ms_strdup(s);
        }
    }
    check_unique_names(c, m, name_node);
    free(name_node);
}

/* Each `extends` to the variant it names (anywhere in the list), and the
 * settings to theirs: an unknown name is reported with the likely one. */
static void link_variants(mctx *c, const ms_manifest *m, vinfo *vi, setting *st, int nst)
{
    char q[72], h[96];
    int nnames;
    const char **names = mf_valid_names(m, &nnames);
    name_map byname = {0};
    mf_name_map_variants(&byname, m->variants, m->nvariants);
    for (int i = 0; i < m->nvariants; i++) {
        const node *e = vi[i].val[V_EXTENDS];
        const char *s = "";
        if (!e || mf_get_name(c, e, "extends", &s))
            continue;
        vi[i].parent = mf_name_map_get(&byname, s);
        if (vi[i].parent < 0)
            mf_perr(c, AT(e), "extends: no variant '%s'%s", mf_show(q, sizeof q, s),
                 mf_hint(c, h, sizeof h, s, names, nnames));
    }
    mf_settings_bind(c, st, nst, &byname, names, nnames);
    mf_name_map_release(&byname);
    free(names);
}

static void mf_check_variants(mctx *c, const node *vs, ms_manifest *m, const data_info *d,
                           const scope *dflt, setting *st, int nst, vinfo **vi_out,
                           setting_use *use)
{
    char g[96];
    long long runs = 0;
    *vi_out = NULL;

    if (vs->type != N_SEQ) {
        mf_perr(c, AT(vs), "variants: expected a list of variants, got %s", mf_got(g, sizeof g, vs));
        return;
    }
    if (vs->n == 0) {
        mf_perr(c, AT(vs), "variants: must list at least one variant");
        return;
    }
    m->variants = ms_calloc((size_t)vs->n, sizeof *m->variants);
    vinfo *vi = ms_calloc((size_t)vs->n, sizeof *vi);
    read_variants(c, vs, m, vi);
    link_variants(c, m, vi, st, nst);

    mf_setting_use_init(use, st, nst, m->nvariants);
    vctx x = {c, d, dflt, vi, m, st, nst, use};
    for (int i = 0; i < m->nvariants; i++) {
        resolve(&x, i);
        const scope *sc = vi[i].state == 2 ? &vi[i].sc : dflt;
        ms_variant *v = &m->variants[i];
        v->cfg = sc->cfg;
        v->cfg.train_size = d->train;
        v->cfg.val_size = d->val;
        v->cfg.dataset = m->dataset;
        v->nseeds = sc->nseeds;
        v->seeds = ms_malloc((size_t)sc->nseeds * sizeof *v->seeds);
        memcpy(v->seeds, sc->seeds, (size_t)sc->nseeds * sizeof *v->seeds);
        runs += sc->nseeds;
    }
    *vi_out = vi; /* for the grids, after the figures */
    if (runs > MS_MANIFEST_MAX_RUNS)
        mf_perr(c, AT(vs), "variants: too many runs (%lld, limit %d)", runs, MS_MANIFEST_MAX_RUNS);
}

static void mf_vinfo_free(vinfo *vi, int n)
{
    for (int i = 0; vi && i < n; i++)
        if (vi[i].state == 2) {
            if (vi[i].base.own_seeds)
                free(vi[i].base.seeds);
            if (vi[i].sc.own_seeds)
                free(vi[i].sc.seeds);
        }
    free(vi);
}

/* ---- grids ---- */

/* One axis of a variant's grid: KEY over n values. */
typedef struct axis {
    int key, n;
    const node *const *vals;
    const node *at; /* for messages about the whole axis */
} axis;

/* A value as part of a variant name: letters, digits, '_', '.', '-' (other
 * characters as '_'); a list's items joined by 'x' ([128, 128]: 128x128). */
static void name_part(const mctx *c, char *buf, size_t n, size_t *o, const node *v)
{
    if (v->type != N_SCALAR) {
        for (int i = 0; i < v->n; i++) {
            if (i && *o + 1 < n)
                buf[(*o)++] = 'x';
            name_part(c, buf, n, o, mf_kid(c, v, i));
        }
        return;
    }
    for (const char *p = v->text; *p && *o + 1 < n; p++) {
        char ch = *p;
        buf[(*o)++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_'
                          ? ch
                          : '_';
    }
}

/* Variant i's grid: its `grid:` mapping, then the settings with several
 * values; a setting with one value for a key ends that key's grid (it was
 * applied already). *ax is malloc'd (NULL: no grid). */
static int grid_axes(mctx *c, const vinfo *v, int i, const setting *st, const setting_use *u,
                     axis **ax)
{
    char g[96], q[72], h[96];
    int n = 0;
    *ax = NULL;
    const node *gm = v->val[V_GRID];
    if (gm && gm->type != N_MAP)
        mf_perr(c, AT(gm), "grid: expected a mapping of keys to lists of values, got %s",
             mf_got(g, sizeof g, gm));
    else if (gm) {
        *ax = ms_calloc((size_t)gm->n / 2 + K_N + 1, sizeof **ax);
        for (int j = 0; j + 1 < gm->n; j += 2) {
            const node *k = mf_kid(c, gm, j), *vals = mf_kid(c, gm, j + 1);
            int key = 0;
            while (k->type == N_SCALAR && key < K_N && strcmp(k->text, mf_cfg_keys[key]))
                key++;
            if (k->type != N_SCALAR || key == K_N) {
                mf_perr(c, AT(k), "grid: unknown key '%s'%s", k->type == N_SCALAR ? mf_show(q, sizeof q, k->text) : "?",
                     k->type == N_SCALAR ? ms_hint(h, sizeof h, k->text, mf_cfg_keys, K_N) : "");
                continue;
            }
            if (vals->type != N_SEQ || vals->n == 0) {
                mf_perr(c, AT(vals), "grid: %s: expected a list of values, got %s", mf_cfg_keys[key],
                     mf_got(g, sizeof g, vals));
                continue;
            }
            int dup = 0;
            for (int a = 0; a < n; a++)
                dup |= (*ax)[a].key == key;
            if (dup) {
                mf_perr(c, AT(k), "grid: duplicate key '%s'", mf_cfg_keys[key]);
                continue;
            }
            const node **list = ms_malloc((size_t)vals->n * sizeof *list);
            for (int e = 0; e < vals->n; e++)
                list[e] = mf_kid(c, vals, e);
            (*ax)[n++] = (axis){key, vals->n, list, vals};
        }
    }
    /* The settings, as applying each in turn: the last one for a key ends
     * its grid (one value) or replaces it (several: an axis after the
     * manifest's, in the order of those last settings). */
    int last[K_N], last1[K_N], last1_ok[K_N], order[K_N], no = 0;
    mf_last_settings(u, st, i, last, last1, last1_ok);
    for (int k = 0; k < K_N; k++)
        if (last[k] >= 0)
            order[no++] = k;
    if (!no)
        return n;
    if (!*ax)
        *ax = ms_calloc(K_N + 1, sizeof **ax);
    int kept = 0;
    for (int a = 0; a < n; a++)
        if (last[(*ax)[a].key] >= 0)
            free((void *)(*ax)[a].vals);
        else
            (*ax)[kept++] = (*ax)[a];
    n = kept;
    for (int a = 1; a < no; a++) /* by the last setting's place */
        for (int b = a; b > 0 && last[order[b]] < last[order[b - 1]]; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    for (int a = 0; a < no; a++) {
        const setting *t = &st[last[order[a]]];
        if (t->nvals > 1) {
            const node **list = ms_malloc((size_t)t->nvals * sizeof *list);
            memcpy(list, t->v, (size_t)t->nvals * sizeof *list);
            (*ax)[n++] = (axis){t->key, t->nvals, list, t->v[0]};
        }
    }
    return n;
}

/* Counts of runs saturate at RUNS_SAT: a grid cannot overflow them (twelve
 * axes of a 1 MiB manifest could make 2^200 combinations). A sum of grids
 * within the limit stays far below it (10^5 combinations x 10^6 seeds each). */
#define RUNS_SAT 1000000000000000000LL /* 10^18 */

static long long runs_add(long long a, long long b) { return a + b < RUNS_SAT ? a + b : RUNS_SAT; }

static long long runs_mul(long long a, long long b)
{
    return b && a > RUNS_SAT / b ? RUNS_SAT : a * b;
}

/* The runs a variant's grid makes, from the sizes of its axes: the
 * combinations times the variant's seeds, or with a seeds axis, the other
 * axes' combinations times the seeds of all that axis' values (a value that
 * is not a list counts one; it is reported when expanded). */
static long long grid_runs(const scope *sc, const axis *ax, int na)
{
    long long combos = 1, seeds = sc->nseeds;
    for (int a = 0; a < na; a++) {
        if (ax[a].key != K_SEEDS) {
            combos = runs_mul(combos, ax[a].n);
            continue;
        }
        seeds = 0;
        for (int e = 0; e < ax[a].n; e++)
            seeds = runs_add(seeds, ax[a].vals[e]->type == N_SEQ ? ax[a].vals[e]->n : 1);
    }
    return runs_mul(combos, seeds);
}

static void axes_free(axis *ax, int na)
{
    for (int a = 0; a < na; a++)
        free((void *)ax[a].vals);
    free(ax);
}

/* Each variant's grid, as axes (naxes[i] 0: the variant is kept as it is).
 * The runs are counted from the axes' sizes: 1 when they are over
 * MS_MANIFEST_MAX_RUNS (reported at vlist, the variants list, and the axes
 * freed), before anything is expanded. */
static int grids_measure(mctx *c, const ms_manifest *m, const vinfo *vi, const setting *st,
                         const setting_use *use, const node *vlist, axis **axes, int *naxes)
{
    int nv = m->nvariants, over = 0;
    long long runs = 0;
    for (int i = 0; i < nv; i++) {
        naxes[i] = grid_axes(c, &vi[i], i, st, use, &axes[i]);
        if (naxes[i] == 0 || !m->variants[i].name || vi[i].state != 2) {
            axes_free(axes[i], naxes[i]);
            axes[i] = NULL;
            naxes[i] = 0; /* kept as it is */
            runs = runs_add(runs, m->variants[i].nseeds);
            continue;
        }
        long long combos = 1;
        for (int a = 0; a < naxes[i]; a++)
            combos = runs_mul(combos, axes[i][a].n);
        if (combos > MS_MANIFEST_MAX_RUNS) {
            mf_perr(c, AT(axes[i][0].at), "grid: too many combinations (limit %d)",
                 MS_MANIFEST_MAX_RUNS);
            over = 1;
        } else
            runs = runs_add(runs, grid_runs(&vi[i].sc, axes[i], naxes[i]));
    }
    if (runs > MS_MANIFEST_MAX_RUNS) { /* exact: a grid over the limit alone is not counted */
        mf_perr(c, AT(vlist), "variants: too many runs after the grids (%lld, limit %d)", runs,
             MS_MANIFEST_MAX_RUNS);
        over = 1;
    }
    if (over)
        for (int i = 0; i < nv; i++)
            axes_free(axes[i], naxes[i]);
    return over;
}

/* The variants the grids make, in order: v[0..n), cap allocated. */
typedef struct variant_list {
    ms_variant *v;
    int n, cap;
} variant_list;

/* A new last slot, not cleared. */
static ms_variant *variant_list_add(variant_list *l)
{
    if (l->n == l->cap)
        l->v = ms_realloc(l->v, (size_t)(l->cap *= 2) * sizeof *l->v);
    return &l->v[l->n++];
}

/* Combination x of combos of a grid's axes (the first axis slowest): in *sc
 * the parent's scope psc with the combination's values applied, in name[n]
 * its name PARENT.KEY-VALUE[.KEY-VALUE...]. 1 when one of its values is bad. */
static int grid_combination(mctx *c, const scope *psc, const char *parent, const axis *ax,
                            int na, long long x, long long combos, scope *sc, char *name,
                            size_t n)
{
    *sc = *psc;
    memset(sc->set, 0, sizeof sc->set);
    memset(sc->bad, 0, sizeof sc->bad);
    sc->own_seeds = false;
    size_t o = (size_t)snprintf(name, n, "%s", parent);
    long long r = x, div = combos;
    int bad = 0;
    for (int a = 0; a < na; a++) {
        div /= ax[a].n;
        const node *val = ax[a].vals[r / div];
        r %= div;
        if (sc->own_seeds && ax[a].key == K_SEEDS)
            free(sc->seeds), sc->own_seeds = false;
        mf_apply_key(c, sc, ax[a].key, val);
        bad |= sc->bad[ax[a].key];
        o += (size_t)snprintf(name + o, o < n ? n - o : 0, ".%s-", mf_cfg_keys[ax[a].key]);
        if (o < n)
            name_part(c, name, n, &o, val);
        if (o >= n)
            o = n - 1;
        name[o] = '\0';
    }
    return bad;
}

/* Appends to out the variants of every combination of pv's grid (ax, na;
 * psc: pv's settings), each checked as a variant setting its values. */
static void grid_expand(mctx *c, const ms_manifest *m, const ms_variant *pv, const scope *psc,
                        const axis *ax, int na, const data_info *d, variant_list *out)
{
    char q[72];
    long long combos = 1;
    for (int a = 0; a < na; a++)
        combos *= ax[a].n; /* at most MS_MANIFEST_MAX_RUNS: counted by grids_measure */
    for (long long x = 0; x < combos; x++) {
        scope sc;
        char name[256];
        int bad = grid_combination(c, psc, pv->name, ax, na, x, combos, &sc, name, sizeof name);
        mf_cross_check(c, d, &sc, psc);
        if (!bad && strlen(name) > MS_NAME_MAX)
            mf_perr(c, AT(ax[0].at), "grid: the variant name '%s' is longer than %d characters",
                 mf_show(q, sizeof q, name), MS_NAME_MAX);
        ms_variant *cv = variant_list_add(out);
        memset(cv, 0, sizeof *cv);
        cv->name = ms_strdup(name);
        cv->grid_of = ms_strdup(pv->name);
        cv->task = ms_strdup(pv->task ? pv->task : "");
        cv->label = pv->label ? ms_xstrfmt("%s (%s)", pv->label, name + strlen(pv->name) + 1)
                              : NULL;
        cv->cfg = sc.cfg;
        cv->cfg.train_size = d->train;
        cv->cfg.val_size = d->val;
        cv->cfg.dataset = m->dataset;
        cv->nseeds = sc.nseeds;
        cv->seeds = ms_malloc((size_t)sc.nseeds * sizeof *cv->seeds);
        memcpy(cv->seeds, sc.seeds, (size_t)sc.nseeds * sizeof *cv->seeds);
        cv->line = pv->line;
        cv->col = pv->col;
        if (sc.own_seeds)
            free(sc.seeds);
    }
}

/* Names unique after expansion (a grid value may repeat another variant's name). */
static void grids_check_names(mctx *c, const ms_variant *v, int n)
{
    char q[72];
    int *made = repeated_names(v, n);
    for (int i = 0; i < n; i++)
        if (made[i] >= 0)
            mf_perr(c, v[i].line, v[i].col, "grid: the variant name '%s' is made twice",
                 mf_show(q, sizeof q, v[i].name));
    free(made);
}

/* Figure p's variants with each parent's place taken by its combinations:
 * parent i (byname) made out[first[i]] .. out[first[i] + count[i] - 1]. */
static void plot_take_grids(ms_plot *p, const name_map *byname, const int *first,
                            const int *count, const ms_variant *out)
{
    int nn = 0, ref = -1, size = 0;
    for (int j = 0; j < p->nvariants; j++) {
        int i = mf_name_map_get(byname, p->variants[j]);
        size += i < 0 ? 1 : count[i];
    }
    char **vs = ms_malloc((size_t)(size ? size : 1) * sizeof *vs);
    for (int j = 0; j < p->nvariants; j++) {
        int i = mf_name_map_get(byname, p->variants[j]);
        int from = i >= 0 ? first[i] : 0, k = i >= 0 ? count[i] : 0;
        if (i < 0 || (k == 1 && !strcmp(out[from].name, p->variants[j]))) {
            if (j == p->reference)
                ref = nn;
            vs[nn++] = ms_strdup(p->variants[j]);
            continue;
        }
        for (int e = 0; e < k; e++) {
            if (j == p->reference && e == 0)
                ref = nn;
            vs[nn++] = ms_strdup(out[from + e].name);
        }
    }
    for (int j = 0; j < p->nvariants; j++)
        free(p->variants[j]);
    free(p->variants);
    p->variants = vs;
    p->nvariants = nn;
    p->reference = ref;
}

/* The figures: a parent's place (pname: the nv parents' names) taken by its
 * combinations. Counted first (plist: the plots list, for the message): a
 * grid listed in many figures would make every figure hold all its names. */
static void grids_rewrite_plots(mctx *c, ms_manifest *m, const char *const *pname, int nv,
                                const int *first, const int *count, const ms_variant *out,
                                const node *plist)
{
    name_map byname = {0};
    for (int i = 0; i < nv; i++)
        if (pname[i])
            mf_name_map_put(&byname, pname[i], i);
    long long curves = 0;
    for (int f = 0; f < m->nplots; f++)
        for (int j = 0; j < m->plots[f].nvariants; j++) {
            int i = mf_name_map_get(&byname, m->plots[f].variants[j]);
            curves += i < 0 ? 1 : count[i];
        }
    if (curves > MS_PLOT_MAX_CURVES)
        mf_perr(c, AT(plist), "plots: too many curves after the grids (%lld, limit %d)", curves,
             MS_PLOT_MAX_CURVES);
    for (int f = 0; f < m->nplots && curves <= MS_PLOT_MAX_CURVES; f++)
        plot_take_grids(&m->plots[f], &byname, first, count, out);
    mf_name_map_release(&byname);
}

/* Replace each variant that has a grid by one variant per combination of
 * its values (the first key slowest), named PARENT.KEY-VALUE[.KEY-VALUE...];
 * then each figure lists the combinations where it listed the parent.
 * The runs are counted from the axes' sizes first: a manifest over
 * MS_MANIFEST_MAX_RUNS is refused (at vlist, the variants list) before
 * anything is expanded, so any manifest is checked in a fraction of a second.
 * Likewise the figures' curves (plist: the plots list, when figures list
 * variants) against MS_PLOT_MAX_CURVES. */
static void mf_expand_grids(mctx *c, ms_manifest *m, vinfo *vi, const setting *st,
                         const setting_use *use, const data_info *d, const node *vlist,
                         const node *plist)
{
    int nv = m->nvariants;
    axis **axes = ms_calloc((size_t)nv + 1, sizeof *axes);
    int *naxes = ms_calloc((size_t)nv + 1, sizeof *naxes);
    if (grids_measure(c, m, vi, st, use, vlist, axes, naxes)) {
        free(axes);
        free(naxes);
        return;
    }

    variant_list out = {ms_calloc((size_t)nv, sizeof *out.v), 0, nv};
    int *first = ms_calloc((size_t)nv + 1, sizeof *first);
    int *count = ms_calloc((size_t)nv + 1, sizeof *count);
    const char **pname = ms_calloc((size_t)nv + 1, sizeof *pname);
    for (int i = 0; i < nv; i++)
        pname[i] = m->variants[i].name; /* stays valid: moved into out, or freed last */
    for (int i = 0; i < nv; i++) {
        ms_variant *pv = &m->variants[i];
        first[i] = out.n;
        if (naxes[i] == 0) {
            *variant_list_add(&out) = *pv;
            memset(pv, 0, sizeof *pv);
            count[i] = 1;
            continue;
        }
        grid_expand(c, m, pv, &vi[i].sc, axes[i], naxes[i], d, &out);
        count[i] = out.n - first[i];
        axes_free(axes[i], naxes[i]);
    }
    free(axes);
    free(naxes);
    grids_check_names(c, out.v, out.n);
    grids_rewrite_plots(c, m, pname, nv, first, count, out.v, plist);
    free(pname);
    for (int i = 0; i < m->nvariants; i++) /* the parents replaced */
        mf_variant_release(&m->variants[i]);
    free(m->variants);
    m->variants = out.v;
    m->nvariants = out.n;
    free(first);
    free(count);
}


static bool mf_is_null(const node *n)
{
    return n->type == N_SCALAR && n->plain &&
           (!n->text[0] || !strcmp(n->text, "~") || !strcmp(n->text, "null"));
}

/* ---- plots ---- */

static const char *const plot_keys[] = {"name", "title", "variants", "reference", "metrics", "x",
                                        "loss_scale", "step_average"};
/* The names a panel may give: the metrics (ms_metric_name, in ms_metric
 * order), then the two groups (a panel each). */
enum { G_LOSS = MS_METRIC_N, G_ACCURACY, N_METRIC_NAMES };
static const char *const x_names[] = {"step", "epoch"};
static const char *const scale_names[] = {"linear", "log"};

static void metric_names_fill(const char **names)
{
    for (int i = 0; i < MS_METRIC_N; i++)
        names[i] = ms_metric_name((ms_metric)i);
    names[G_LOSS] = "loss";
    names[G_ACCURACY] = "accuracy";
}

/* One metric name (a group only when groups is set): its index among metric_names_fill's
 * names, or -1. */
static int get_metric(mctx *c, const node *e, bool groups)
{
    char g[96], q[72], h[96];
    const char *metric_names[N_METRIC_NAMES];
    int n = groups ? N_METRIC_NAMES : MS_METRIC_N;
    metric_names_fill(metric_names);
    if (e->type != N_SCALAR || !e->text[0])
        return mf_perr(c, AT(e), "metrics: expected a metric name, got %s", mf_got(g, sizeof g, e));
    for (int i = 0; i < n; i++)
        if (!strcmp(e->text, metric_names[i]))
            return i;
    if (!groups && (!strcmp(e->text, "loss") || !strcmp(e->text, "accuracy")))
        return mf_perr(c, AT(e), "metrics: '%s' is a panel of its own, not a metric inside a panel",
                    e->text);
    if (ms_suggest(e->text, metric_names, n))
        return mf_perr(c, AT(e), "metrics: unknown metric '%s'%s", mf_show(q, sizeof q, e->text),
                    ms_hint(h, sizeof h, e->text, metric_names, n));
    return mf_perr(c, AT(e), "metrics: unknown metric '%s' (expected %s)", mf_show(q, sizeof q, e->text),
                "loss, accuracy, batch_loss, step_loss, train_loss, val_loss, train_acc or val_acc");
}

/* metrics: a list of panels, each a metric, a group (loss, accuracy) or a
 * list of metrics of one kind. */
static int get_panels(mctx *c, const node *v, ms_plot *p)
{
    char g[96];
    int bad = 0;
    if (v->type != N_SEQ)
        return mf_perr(c, AT(v), "metrics: expected a list of panels, got %s", mf_got(g, sizeof g, v));
    if (v->n == 0)
        return mf_perr(c, AT(v), "metrics: must list at least one panel");
    if (v->n > MS_PLOT_MAX_PANELS)
        return mf_perr(c, AT(v), "metrics: at most %d panels allowed (got %d)", MS_PLOT_MAX_PANELS,
                    v->n);
    for (int i = 0; i < v->n; i++) {
        const node *e = mf_kid(c, v, i);
        ms_plot_panel *pn = &p->panels[i];
        pn->nmetrics = 0;
        if (e->type != N_SEQ) {
            int k = get_metric(c, e, true);
            if (k < 0)
                bad = -1;
            else if (k == G_LOSS) {
                pn->metrics[pn->nmetrics++] = MS_METRIC_TRAIN_LOSS;
                pn->metrics[pn->nmetrics++] = MS_METRIC_VAL_LOSS;
            } else if (k == G_ACCURACY) {
                pn->metrics[pn->nmetrics++] = MS_METRIC_TRAIN_ACC;
                pn->metrics[pn->nmetrics++] = MS_METRIC_VAL_ACC;
            } else
                pn->metrics[pn->nmetrics++] = (ms_metric)k;
            continue;
        }
        if (e->n == 0) {
            bad = mf_perr(c, AT(e), "metrics: a panel must list at least one metric");
            continue;
        }
        int seen[MS_METRIC_N] = {0}, kind = -1;
        for (int j = 0; j < e->n; j++) {
            const node *f = mf_kid(c, e, j);
            int k = get_metric(c, f, false);
            if (k < 0) {
                bad = -1;
                continue;
            }
            if (seen[k]) {
                bad = mf_perr(c, AT(f), "metrics: duplicate metric '%s' in a panel",
                           ms_metric_name((ms_metric)k));
                continue;
            }
            if (kind >= 0 && kind != ms_metric_is_acc((ms_metric)k)) {
                bad = mf_perr(c, AT(f), "metrics: a panel cannot mix losses and accuracies ('%s')",
                           ms_metric_name((ms_metric)k));
                continue;
            }
            kind = ms_metric_is_acc((ms_metric)k);
            seen[k] = 1;
            pn->metrics[pn->nmetrics++] = (ms_metric)k;
        }
    }
    if (!bad)
        p->npanels = v->n;
    return bad;
}

/* The manifest's valid variant names: for hints (names, n of them) and
 * lookups (byname). */
typedef struct variant_names {
    const char **names;
    int n;
    name_map byname;
} variant_names;

static void variant_names_init(variant_names *vn, const ms_manifest *m)
{
    vn->names = mf_valid_names(m, &vn->n);
    memset(&vn->byname, 0, sizeof vn->byname);
    mf_name_map_variants(&vn->byname, m->variants, m->nvariants);
}

static void variant_names_release(variant_names *vn)
{
    free(vn->names);
    mf_name_map_release(&vn->byname);
}

/* vn: the manifest's variant names, or NULL when the variants section has
 * errors (then names are not checked, to avoid a cascade of messages). */
static int find_variant(mctx *c, const node *e, const char *key, const variant_names *vn,
                        const char **out)
{
    char q[72], h[96];
    const char *s = "";
    if (mf_get_str(c, e, key, &s))
        return -1;
    if (!*s)
        return mf_perr(c, AT(e), "%s: must not be empty", key);
    *out = s;
    if (!vn || mf_name_map_get(&vn->byname, s) >= 0)
        return 0;
    return mf_perr(c, AT(e), "%s: unknown variant '%s'%s", key, mf_show(q, sizeof q, s),
                mf_hint(c, h, sizeof h, s, vn->names, vn->n));
}

/* *name_node: the value node of the plot's valid name, or NULL. */
static void check_plot(mctx *c, const node *pn, int index, ms_plot *p, const variant_names *vn,
                       const node **name_node)
{
    char g[96], q[72], where[128];
    enum { NP = COUNT(plot_keys) };
    const node *val[NP], *keyn[NP];
    const char *s = "";
    int x = 0;
    name_map listed = {0}; /* the variants listed so far: their index */

    p->line = pn->line;
    p->col = pn->col;
    p->reference = -1;
    p->step_average = MS_STEP_AVERAGE;
    snprintf(where, sizeof where, " in plot %d", index + 1);
    for (int j = 0; j + 1 < pn->n; j += 2) {
        const node *k = mf_kid(c, pn, j), *v = mf_kid(c, pn, j + 1);
        if (k->type == N_SCALAR && !strcmp(k->text, "name") && v->type == N_SCALAR && v->text[0]) {
            snprintf(where, sizeof where, " in plot '%s'", mf_show(q, sizeof q, v->text));
            break;
        }
    }
    mf_map_keys(c, pn, plot_keys, NP, val, keyn, where);
    if (!val[0])
        mf_perr(c, AT(pn), "missing key 'name'%s", where);
    else if (!mf_get_name(c, val[0], "name", &s)) {
        p->name = ms_strdup(s);
        *name_node = val[0];
    }
    if (val[1] && !mf_get_str(c, val[1], "title", &s))
        p->title = ms_strdup(s);
    else if (p->name)
        p->title = ms_strdup(p->name);

    const node *vs = val[2];
    if (!vs)
        mf_perr(c, AT(pn), "missing key 'variants'%s", where);
    else if (vs->type != N_SEQ)
        mf_perr(c, AT(vs), "variants: expected a list of variant names, got %s", mf_got(g, sizeof g, vs));
    else if (vs->n == 0)
        mf_perr(c, AT(vs), "variants: must list at least one variant");
    else {
        /* One extra slot: a reference not listed is drawn too. */
        p->variants = ms_calloc((size_t)vs->n + 1, sizeof *p->variants);
        for (int i = 0; i < vs->n; i++) {
            const node *e = mf_kid(c, vs, i);
            if (find_variant(c, e, "variants", vn, &s))
                continue;
            if (mf_name_map_get(&listed, s) >= 0) {
                mf_perr(c, AT(e), "variants: duplicate variant '%s'", mf_show(q, sizeof q, s));
                continue;
            }
            mf_name_map_put(&listed, s, p->nvariants);
            p->variants[p->nvariants++] = ms_strdup(s);
        }
    }
    if (val[3] && !find_variant(c, val[3], "reference", vn, &s) && p->variants) {
        p->reference = mf_name_map_get(&listed, s);
        if (p->reference < 0) {
            p->reference = p->nvariants;
            p->variants[p->nvariants++] = ms_strdup(s);
        }
    }
    if (val[4])
        get_panels(c, val[4], p);
    else { /* default: train and val loss, train and val accuracy */
        p->npanels = 2;
        p->panels[0] = (ms_plot_panel){2, {MS_METRIC_TRAIN_LOSS, MS_METRIC_VAL_LOSS}};
        p->panels[1] = (ms_plot_panel){2, {MS_METRIC_TRAIN_ACC, MS_METRIC_VAL_ACC}};
    }
    if (val[5] && !mf_get_choice(c, val[5], "x", x_names, COUNT(x_names), &x))
        p->x_epoch = x;
    if (val[6] && !mf_get_choice(c, val[6], "loss_scale", scale_names, COUNT(scale_names), &x))
        p->log_loss = x;
    if (val[7])
        mf_get_int(c, val[7], "step_average", 1, MS_MAX_COUNT, &p->step_average);
    mf_name_map_release(&listed);
}

static void mf_check_plots(mctx *c, const node *ps, ms_manifest *m, bool names_ok)
{
    char g[96], q[72];
    if (mf_is_null(ps))
        return; /* `plots:` with nothing: no figures */
    if (ps->type != N_SEQ) {
        mf_perr(c, AT(ps), "plots: expected a list of plots, got %s", mf_got(g, sizeof g, ps));
        return;
    }
    variant_names vn; /* names unchecked unless every variant has a valid one */
    if (names_ok)
        variant_names_init(&vn, m);
    name_map plot_names = {0};
    m->plots = ms_calloc((size_t)ps->n + 1, sizeof *m->plots);
    const node **name_node = ms_calloc((size_t)ps->n + 1, sizeof *name_node);
    for (int i = 0; i < ps->n; i++) {
        const node *pn = mf_kid(c, ps, i);
        if (pn->type != N_MAP) {
            mf_perr(c, AT(pn), "plots: each plot must be a mapping, got %s", mf_got(g, sizeof g, pn));
            continue;
        }
        int k = m->nplots++;
        check_plot(c, pn, i, &m->plots[k], names_ok ? &vn : NULL, &name_node[k]);
        if (!name_node[k])
            continue;
        int j = mf_name_map_get(&plot_names, m->plots[k].name);
        if (j >= 0)
            mf_perr(c, AT(name_node[k]), "duplicate plot name '%s' (first at line %d)",
                 mf_show(q, sizeof q, m->plots[k].name), name_node[j]->line);
        else
            mf_name_map_put(&plot_names, m->plots[k].name, k);
    }
    free(name_node);
    mf_name_map_release(&plot_names);
    if (names_ok)
        variant_names_release(&vn);
}

/* claims: a list of {a: V, b: W, expect: higher | lower, metric: M, text: T};
 * a and b name variants (as written, before grids). */
static void mf_check_claims(mctx *c, const node *cs, ms_manifest *m)
{
    static const char *const claim_keys[] = {"a", "b", "expect", "metric", "text"};
    static const char *const expect_names[] = {"higher", "lower"};
    enum { NK = COUNT(claim_keys) };
    char g[96], where[64];
    if (mf_is_null(cs))
        return;
    if (cs->type != N_SEQ) {
        mf_perr(c, AT(cs), "claims: expected a list of claims, got %s", mf_got(g, sizeof g, cs));
        return;
    }
    variant_names vn;
    variant_names_init(&vn, m);
    m->claims = ms_calloc((size_t)cs->n + 1, sizeof *m->claims);
    for (int i = 0; i < cs->n; i++) {
        const node *cn = mf_kid(c, cs, i), *val[NK], *keyn[NK];
        const char *s = "";
        int x = 0;
        if (cn->type != N_MAP) {
            mf_perr(c, AT(cn), "claims: each claim must be a mapping, got %s", mf_got(g, sizeof g, cn));
            continue;
        }
        snprintf(where, sizeof where, " in claim %d", i + 1);
        mf_map_keys(c, cn, claim_keys, NK, val, keyn, where);
        ms_claim *cl = &m->claims[m->nclaims++];
        cl->line = cn->line;
        cl->col = cn->col;
        cl->sign = 1;
        for (int k = 0; k < 2; k++) {
            if (!val[k])
                mf_perr(c, AT(cn), "missing key '%s'%s", claim_keys[k], where);
            else if (!find_variant(c, val[k], claim_keys[k], &vn, &s))
                *(k ? &cl->b : &cl->a) = ms_strdup(s);
        }
        if (!val[2])
            mf_perr(c, AT(cn), "missing key 'expect'%s (higher or lower)", where);
        else if (!mf_get_choice(c, val[2], "expect", expect_names, 2, &x))
            cl->sign = x ? -1 : 1;
        if (val[3] && !mf_get_choice(c, val[3], "metric", ms_compare_metrics, MS_COMPARE_NMETRICS, &x))
            cl->metric = x;
        if (val[4] && !mf_get_str(c, val[4], "text", &s))
            cl->text = ms_strdup(s);
    }
    variant_names_release(&vn);
}

/* defaults: a mapping of config keys, applied to the built-in settings. */
static void check_defaults(mctx *c, const node *v, scope *dflt)
{
    char g[96];
    if (v->type != N_MAP) {
        mf_perr(c, AT(v), "defaults: expected a mapping, got %s", mf_got(g, sizeof g, v));
        return;
    }
    const node *dv[K_N], *dk[K_N];
    mf_map_keys(c, v, mf_cfg_keys, K_N, dv, dk, " in defaults");
    for (int k = 0; k < K_N; k++)
        if (dv[k])
            mf_apply_key(c, dflt, k, dv[k]);
}

/* m->data_dir must be a folder: reported at at (data.dir's value, or the
 * data key; NULL: 1:1). */
static void check_data_folder(mctx *c, const ms_manifest *m, const node *at)
{
    char q[72];
    struct stat sb;
    int line = at ? at->line : 1, col = at ? at->col : 1;
    if (stat(m->data_dir, &sb) != 0)
        mf_perr(c, line, col, "data.dir: cannot access '%s': %s", mf_show(q, sizeof q, m->data_dir),
             strerror(errno));
    else if (!S_ISDIR(sb.st_mode))
        mf_perr(c, line, col, "data.dir: '%s' is not a directory", mf_show(q, sizeof q, m->data_dir));
}

static void check_manifest(mctx *c, const node *root, ms_manifest *m, int check_data_dir,
                           setting *st, int nst)
{
    char g[96];
    const node *val[COUNT(top_keys)], *keyn[COUNT(top_keys)], *dir_node = NULL;
    data_info d = {0, 0, NULL, false};
    scope dflt;
    const char *s = "";

    memset(&dflt, 0, sizeof dflt);
    ms_config_default(&dflt.cfg);
    m->data_dir = ms_strdup("data");
    if (root->type != N_MAP) {
        mf_perr(c, AT(root), "manifest must be a mapping, got %s", mf_got(g, sizeof g, root));
        return;
    }
    mf_map_keys(c, root, top_keys, COUNT(top_keys), val, keyn, "");
    if (!val[0])
        mf_perr(c, AT(root), "missing key 'name'");
    else if (!mf_get_name(c, val[0], "name", &s))
        m->name = ms_strdup(s);
    d.train = dflt.cfg.train_size;
    d.val = dflt.cfg.val_size;
    if (val[1])
        mf_check_data(c, val[1], m, &d, &dir_node);
    m->train = d.train;
    m->val = d.val;

    /* Built-in seeds are [ms_config_default().seed]. */
    uint64_t seed1 = dflt.cfg.seed;
    dflt.seeds = &seed1;
    dflt.nseeds = 1;
    if (val[2])
        check_defaults(c, val[2], &dflt);
    mf_cross_check(c, &d, &dflt, NULL);

    vinfo *vi = NULL;
    setting_use use = {0};
    if (!val[3])
        mf_perr(c, AT(root), "missing key 'variants'");
    else
        mf_check_variants(c, val[3], m, &d, &dflt, st, nst, &vi, &use);
    if (val[4]) {
        /* Variant names are checked only when every variant has a valid one. */
        bool names_ok = val[3] && val[3]->type == N_SEQ && m->nvariants == val[3]->n;
        for (int i = 0; names_ok && i < m->nvariants; i++)
            names_ok = m->variants[i].name != NULL;
        mf_check_plots(c, val[4], m, names_ok);
    }
    if (val[6]) /* claims name the variants as written, before the grids */
        mf_check_claims(c, val[6], m);
    int nvi = m->nvariants;
    if (vi && c->nerr == 0)
        mf_expand_grids(c, m, vi, st, &use, &d, val[3], val[4]);
    mf_vinfo_free(vi, nvi);
    mf_setting_use_release(&use);
    if (dflt.own_seeds)
        free(dflt.seeds);

    if (check_data_dir && m->data_dir)
        check_data_folder(c, m, dir_node ? dir_node : keyn[1]);

    /* Safety net: the checks above should have caught everything. */
    for (int i = 0; c->nerr == 0 && i < m->nvariants; i++)
        if (ms_config_validate(&m->variants[i].cfg))
            mf_perr(c, m->variants[i].line, m->variants[i].col, "variant '%s': invalid configuration",
                 m->variants[i].name);
}

/* ---- API ---- */

void ms_manifest_release(ms_manifest *m)
{
    free(m->text);
    for (int i = 0; i < m->nvariants; i++)
        mf_variant_release(&m->variants[i]);
    free(m->variants);
    for (int i = 0; i < m->nplots; i++) {
        for (int j = 0; j < m->plots[i].nvariants; j++)
            free(m->plots[i].variants[j]);
        free(m->plots[i].variants);
        free(m->plots[i].name);
        free(m->plots[i].title);
    }
    free(m->plots);
    for (int i = 0; i < m->nclaims; i++) {
        free(m->claims[i].a);
        free(m->claims[i].b);
        free(m->claims[i].text);
    }
    free(m->claims);
    free(m->path);
    free(m->name);
    free(m->data_dir);
    memset(m, 0, sizeof *m);
}

/* The manifest's text with the command line's settings added as its
 * `settings:` list (what a sweep records: parsed alone, it gives the same
 * variants). */
static char *mf_with_settings(const char *text, size_t len, char *const *args, int nargs)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    fwrite(text, 1, len, f);
    if (len && text[len - 1] != '\n')
        fputc('\n', f);
    fputs("\n# Settings given on the command line (mlpsweep run MANIFEST KEY=VALUE ...):\n"
          "settings:\n",
          f);
    for (int i = 0; i < nargs; i++) {
        fputs("  - '", f);
        for (const char *p = args[i]; *p; p++)
            fputs(*p == '\'' ? "''" : (char[2]){*p, 0}, f);
        fputs("'\n", f);
    }
    fclose(f);
    return buf;
}

int ms_manifest_parse(const char *path, const char *text, size_t len, ms_manifest *m,
                      int check_data_dir)
{
    return ms_manifest_parse_args(path, text, len, NULL, 0, m, check_data_dir);
}

int ms_manifest_parse_args(const char *path, const char *text, size_t len, char *const *args,
                           int nargs, ms_manifest *m, int check_data_dir)
{
    mctx c = {path, 0, NULL, 0, 0, args, nargs, 0, 0, NULL, 0, 0, HINT_BUDGET};
    int root = -1;
    setting *st = NULL;
    int nst = 0;

    memset(m, 0, sizeof *m);
    m->path = ms_strdup(path);
    if (len <= MS_MANIFEST_MAX_BYTES) { /* kept: a pipe cannot be read twice */
        m->text = ms_malloc(len + 1);
        if (len)
            memcpy(m->text, text, len);
        m->text[len] = 0;
    }
    if (len > MS_MANIFEST_MAX_BYTES)
        mf_perr(&c, 1, 1, "file too large (%zu bytes, limit 1 MiB)", len);
    else if (mf_compose(&c, text ? text : "", text ? len : 0, &root) == 0) {
        if (root < 0 || mf_is_null(&c.nodes[root]))
            mf_perr(&c, 1, 1, "empty manifest");
        else {
            mf_settings_read(&c, root, &st, &nst); /* composes: nodes move */
            check_manifest(&c, &c.nodes[root], m, check_data_dir, st, nst);
        }
    }
    mf_settings_free(st, nst);
    mf_tree_free(&c);
    free(c.said);
    if (c.nerr) {
        ms_manifest_release(m);
        return -1;
    }
    if (nargs && m->text) { /* what the sweep records: the settings inside */
        char *t = mf_with_settings(m->text, strlen(m->text), args, nargs);
        if (!t)
            return ms_error("out of memory");
        free(m->text);
        m->text = t;
    }
    return 0;
}

int ms_manifest_load(const char *path, ms_manifest *m, int check_data_dir)
{
    return ms_manifest_load_args(path, NULL, 0, m, check_data_dir);
}

int ms_manifest_load_args(const char *path, char *const *args, int nargs, ms_manifest *m,
                          int check_data_dir)
{
    struct stat st;
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f)
        return ms_error("cannot open '%s': %s", path, strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return ms_error("cannot read '%s': is a directory", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > MS_MANIFEST_MAX_BYTES) {
        fclose(f);
        return ms_error_raw("%s:1:1: file too large (%lld bytes, limit 1 MiB)", path,
                            (long long)st.st_size);
    }
    /* Read one byte past the limit so pipes that are too large are caught too. */
    char *buf = ms_malloc(MS_MANIFEST_MAX_BYTES + 1);
    size_t n = fread(buf, 1, MS_MANIFEST_MAX_BYTES + 1, f);
    if (ferror(f)) {
        int e = errno;
        fclose(f);
        free(buf);
        return ms_error("cannot read '%s': %s", path, strerror(e));
    }
    fclose(f);
    int rc = ms_manifest_parse_args(path, buf, n, args, nargs, m, check_data_dir);
    free(buf);
    return rc;
}

/* One default figure of the variants whose task is `task` (NULL: all). */
static void default_plot(ms_manifest *m, const char *task)
{
    ms_plot *p = &m->plots[m->nplots++];
    memset(p, 0, sizeof *p);
    if (task && !task[0]) { /* the variants without a task, beside those with one */
        p->name = ms_strdup("other");
        p->title = ms_strdup("Variants without a task");
    } else if (task) {
        p->name = ms_xstrfmt("task_%s", task);
        for (char *c = p->name; *c; c++) /* a task is free text; a name is a file name */
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-", *c))
                *c = '_';
        p->title = ms_xstrfmt("Task %s", task);
    } else {
        p->name = ms_strdup("curves");
        p->title = ms_strdup(m->name);
    }
    p->variants = ms_malloc((size_t)m->nvariants * sizeof *p->variants);
    for (int v = 0; v < m->nvariants; v++)
        if (!task || !strcmp(m->variants[v].task, task))
            p->variants[p->nvariants++] = ms_strdup(m->variants[v].name);
    p->reference = -1;
    p->step_average = MS_STEP_AVERAGE;
    p->npanels = 2;
    p->panels[0].nmetrics = 2;
    p->panels[0].metrics[0] = MS_METRIC_TRAIN_LOSS;
    p->panels[0].metrics[1] = MS_METRIC_VAL_LOSS;
    p->panels[1].nmetrics = 1;
    p->panels[1].metrics[0] = MS_METRIC_VAL_ACC;
}

void ms_manifest_default_plots(ms_manifest *m)
{
    if (m->nplots)
        return;
    int tasks = 0;
    for (int v = 0; v < m->nvariants; v++)
        tasks |= m->variants[v].task[0] != 0;
    m->plots = ms_calloc((size_t)(m->nvariants ? m->nvariants : 1) + 1, sizeof *m->plots);
    if (!tasks) {
        default_plot(m, NULL);
        return;
    }
    for (int v = 0; v < m->nvariants; v++) { /* each task once, at its first variant */
        int seen = 0;
        for (int u = 0; u < v; u++)
            seen |= !strcmp(m->variants[u].task, m->variants[v].task);
        if (!seen)
            default_plot(m, m->variants[v].task);
    }
}

int ms_manifest_check_variants(const ms_manifest *m, const char *list, const char *opt)
{
    const char **names = ms_malloc((size_t)(m->nvariants ? m->nvariants : 1) * sizeof *names);
    for (int v = 0; v < m->nvariants; v++)
        names[v] = m->variants[v].name;
    int rc = 0;
    for (const char *p = list; *p && !rc;) {
        size_t k = strcspn(p, ",");
        char item[MS_NAME_MAX + 1], h[96];
        snprintf(item, sizeof item, "%.*s", (int)(k < MS_NAME_MAX ? k : MS_NAME_MAX), p);
        int found = k == 0; /* "a,,b": nothing between the commas */
        for (int v = 0; v < m->nvariants && !found; v++) {
            const char *g = m->variants[v].grid_of;
            found = (strlen(names[v]) == k && !strncmp(names[v], p, k)) ||
                    (g && strlen(g) == k && !strncmp(g, p, k));
        }
        if (!found)
            rc = ms_error("%s: no variant '%s' in '%s'%s", opt, item, m->path,
                          ms_hint(h, sizeof h, item, names, m->nvariants));
        p += k + (p[k] == ',');
    }
    free(names);
    return rc;
}

int ms_manifest_listed(const ms_manifest *m, const char *name, const char *list)
{
    if (ms_list_has(list, name))
        return 1;
    for (int v = 0; v < m->nvariants; v++)
        if (!strcmp(m->variants[v].name, name))
            return m->variants[v].grid_of && ms_list_has(list, m->variants[v].grid_of);
    return 0;
}

int ms_manifest_keep_variants(ms_manifest *m, const char *list)
{
    if (ms_manifest_check_variants(m, list, "--variants") < 0)
        return -1;
    int kept = 0;
    for (int i = 0; i < m->nplots; i++) {
        ms_plot *pl = &m->plots[i];
        int n = 0, ref = -1;
        for (int v = 0; v < pl->nvariants; v++) {
            if (!ms_manifest_listed(m, pl->variants[v], list)) {
                free(pl->variants[v]);
                continue;
            }
            if (v == pl->reference)
                ref = n;
            pl->variants[n++] = pl->variants[v];
        }
        pl->nvariants = n;
        pl->reference = ref;
        if (n) {
            m->plots[kept++] = *pl;
            continue;
        }
        free(pl->variants);
        free(pl->name);
        free(pl->title);
    }
    m->nplots = kept;
    return 0;
}

int ms_manifest_expand(const ms_manifest *m, ms_run_spec **out)
{
    size_t total = 0, k = 0;
    for (int i = 0; i < m->nvariants; i++)
        total += (size_t)m->variants[i].nseeds;
    ms_run_spec *r = ms_calloc(total, sizeof *r);
    for (int i = 0; i < m->nvariants; i++) {
        const ms_variant *v = &m->variants[i];
        for (int j = 0; j < v->nseeds; j++, k++) {
            r[k].variant = v->name;
            r[k].task = v->task;
            r[k].cfg = v->cfg;
            r[k].cfg.seed = v->seeds[j];
            r[k].cfg.train_size = m->train;
            r[k].cfg.val_size = m->val;
        }
    }
    *out = r;
    return (int)total;
}

/* ==== Exported for merge (issue 22): the manifest's rules on stored values ====
 *
 * A sweep or run read back from a database is checked by the functions that
 * check a manifest (mf_get_name, mf_get_str, mf_get_seeds, mf_apply_key, mf_check_data,
 * mf_cross_check, then ms_config_validate): each stored value becomes the node
 * a manifest holding it would have given them (a number or a boolean plain,
 * a text quoted), so a value passes exactly when a manifest could have
 * written it. Their messages are captured, not printed: the caller says
 * where the value came from. Kept at the end of the file, apart from the
 * checks above. */

/* A node under parent (-1: none), made by mf_add_node as the parser makes
 * one, at c->at_line:at_col; its index (nodes move as the tree grows). */
static int sv_node(mctx *c, int parent, int type, const char *text, size_t len, bool plain)
{
    int idx = c->nnodes, root = -1;
    mf_add_node(c, type, 1, 1, text ? text : "", len, plain, parent, &root);
    return idx;
}

/* A double as YAML writes a float: .inf, .nan, and a point or an exponent
 * always (3.0, not 3, which would be an integer). */
static void sv_real(char *buf, size_t n, double d)
{
    if (isnan(d))
        snprintf(buf, n, ".nan");
    else if (isinf(d))
        snprintf(buf, n, "%s.inf", d < 0 ? "-" : "");
    else {
        snprintf(buf, n, "%.17g", d);
        if (!strpbrk(buf, ".e"))
            strncat(buf, ".0", n - strlen(buf) - 1);
    }
}

/* The scalar a manifest would have for v, under parent: its index, or -1
 * after a message when no manifest holds such a value (a blob, a NUL inside
 * a text). */
static int sv_scalar(mctx *c, int parent, const ms_stored *v, const char *key)
{
    char buf[48];
    switch (v->kind) {
    case MS_SV_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)v->i);
        return sv_node(c, parent, N_SCALAR, buf, strlen(buf), true);
    case MS_SV_REAL:
        sv_real(buf, sizeof buf, v->d);
        return sv_node(c, parent, N_SCALAR, buf, strlen(buf), true);
    case MS_SV_BOOL:
        return sv_node(c, parent, N_SCALAR, v->i ? "true" : "false", v->i ? 4 : 5, true);
    case MS_SV_TEXT: /* mf_add_node would refuse a NUL too, without the key */
        if (v->len && memchr(v->s, '\0', v->len))
            return mf_perr(c, 1, 1, "%s: NUL characters are not supported", key);
        return sv_node(c, parent, N_SCALAR, v->s, v->len, false);
    case MS_SV_BLOB:
        return mf_perr(c, 1, 1, "%s: expected text or a number, got a blob", key);
    default: /* NULL: nothing written */
        return sv_node(c, parent, N_SCALAR, "", 0, true);
    }
}

/* hidden as a database holds it ("64,64"): the list of its plain items;
 * past MS_MAX_HIDDEN + 1 items the rest are not made (the count is refused
 * already). Another value: its scalar, which mf_get_hidden refuses. */
static int sv_hidden(mctx *c, const ms_stored *v)
{
    if (v->kind != MS_SV_TEXT || (v->len && memchr(v->s, '\0', v->len)))
        return sv_scalar(c, -1, v, "hidden");
    int seq = sv_node(c, -1, N_SEQ, NULL, 0, false), made = 0;
    for (size_t at = 0; at < v->len && made <= MS_MAX_HIDDEN; made++) {
        const char *comma = memchr(v->s + at, ',', v->len - at);
        size_t k = comma ? (size_t)(comma - v->s) - at : v->len - at;
        sv_node(c, seq, N_SCALAR, v->s + at, k, true);
        at += k + 1;
        if (comma && at == v->len) /* "64,": a last, empty item */
            sv_node(c, seq, N_SCALAR, "", 0, true);
    }
    return seq;
}

/* What a YAML reader lets through: UTF-8 without overlong forms, surrogates
 * or code points past U+10FFFF. */
static bool sv_utf8(const unsigned char *s)
{
    static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
    while (*s) {
        unsigned b = *s;
        int more = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                 : (b & 0xF8) == 0xF0 ? 3 : -1;
        if (more < 0)
            return false;
        uint32_t cp = more == 0 ? b : b & (0x3Fu >> more);
        for (int i = 1; i <= more; i++) {
            if ((s[i] & 0xC0) != 0x80) /* a NUL ends the loop here too */
                return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if (cp < least[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += more + 1;
    }
    return true;
}

/* The messages of one check, kept out of the error stream. */
typedef struct sv_capture {
    FILE *prev, *sink;
    char *buf;
    size_t len;
} sv_capture;

static void sv_begin(sv_capture *k)
{
    k->buf = NULL;
    k->len = 0;
    k->prev = ms_error_file();
    k->sink = ms_memstream(&k->buf, &k->len);
    ms_error_stream(k->sink);
}

/* Ends the capture; for a failed check (bad) its first message, without the
 * position mf_perr gives it (":1:1: ", the path is "") or ms_error's prefix. */
static int sv_end(sv_capture *k, int bad, char *why, size_t n)
{
    ms_error_stream(k->prev == stderr ? NULL : k->prev);
    fclose(k->sink);
    const char *m = k->buf ? k->buf : "";
    if (!strncmp(m, ":1:1: ", 6))
        m += 6;
    else if (!strncmp(m, "mlpsweep: ", 10))
        m += 10;
    if (n)
        snprintf(why, n, "%.*s", (int)strcspn(m, "\n"), *m ? m : "invalid");
    free(k->buf);
    return bad ? -1 : 0;
}

int ms_manifest_stored_name(const ms_stored *v, const char *key, char *why, size_t n)
{
    mctx c = {.path = "", .at_line = 1, .at_col = 1, .hint_left = HINT_BUDGET}; /* all at 1:1 */
    sv_capture k;
    const char *s = "";
    sv_begin(&k);
    int i = sv_scalar(&c, -1, v, key);
    if (i >= 0)
        mf_get_name(&c, &c.nodes[i], key, &s);
    int bad = c.nerr;
    mf_tree_free(&c);
    free(c.said);
    return sv_end(&k, bad, why, n);
}

int ms_manifest_stored_run(const ms_stored f[MS_SF_N], ms_config *cfg, char *why, size_t n)
{
    /* the settings a scope (defaults, a variant) holds, by their keys */
    static const int keyed[][2] = {
        {MS_SF_HIDDEN, K_HIDDEN},         {MS_SF_ACTIVATION, K_ACTIVATION}, {MS_SF_INIT, K_INIT},
        {MS_SF_LR, K_LR},                 {MS_SF_MOMENTUM, K_MOMENTUM},     {MS_SF_BATCH, K_BATCH},
        {MS_SF_EPOCHS, K_EPOCHS},         {MS_SF_VAL_PER_EPOCH, K_VPE},
        {MS_SF_EARLY_STOP, K_EARLY_STOP}, {MS_SF_SHUFFLE, K_SHUFFLE},
        {MS_SF_PRECISION, K_PRECISION}};
    /* and data's, as data.train etc. */
    static const int data[][2] = {{MS_SF_TRAIN, 1}, {MS_SF_VAL, 2}, {MS_SF_DATASET, 3}};
    mctx c = {.path = "", .at_line = 1, .at_col = 1, .hint_left = HINT_BUDGET}; /* all at 1:1 */
    sv_capture k;
    int idx[MS_SF_N];
    sv_begin(&k);

    /* every node first: taking pointers while nodes are added would not do */
    idx[MS_SF_VARIANT] = sv_scalar(&c, -1, &f[MS_SF_VARIANT], "variant");
    idx[MS_SF_TASK] = sv_scalar(&c, -1, &f[MS_SF_TASK], "task");
    idx[MS_SF_SEED] = sv_node(&c, -1, N_SEQ, NULL, 0, false); /* seeds: [SEED] */
    if (sv_scalar(&c, idx[MS_SF_SEED], &f[MS_SF_SEED], "seeds") < 0)
        idx[MS_SF_SEED] = -1;
    idx[MS_SF_HIDDEN] = sv_hidden(&c, &f[MS_SF_HIDDEN]); /* keyed[0] */
    for (int j = 1; j < COUNT(keyed); j++)
        idx[keyed[j][0]] = sv_scalar(&c, -1, &f[keyed[j][0]], mf_cfg_keys[keyed[j][1]]);
    int map = sv_node(&c, -1, N_MAP, NULL, 0, false); /* data: {train: T, val: V, ...} */
    for (int j = 0; j < COUNT(data); j++) {
        const ms_stored *v = &f[data[j][0]];
        const char *name = mf_data_keys[data[j][1]];
        char key[32];
        snprintf(key, sizeof key, "data.%s", name);
        /* MNIST's runs do not name their dataset: the default */
        if (data[j][0] == MS_SF_DATASET && v->kind == MS_SV_NULL)
            continue;
        sv_node(&c, map, N_SCALAR, name, strlen(name), true);
        sv_scalar(&c, map, v, key); /* refused: a key without a value, which mf_map_keys skips */
    }

    /* then the manifest's checks, in the order of a run's columns */
    const char *s = "";
    if (idx[MS_SF_VARIANT] >= 0)
        mf_get_name(&c, &c.nodes[idx[MS_SF_VARIANT]], "variant", &s);
    if (idx[MS_SF_TASK] >= 0 && !mf_get_str(&c, &c.nodes[idx[MS_SF_TASK]], "task", &s) &&
        !sv_utf8((const unsigned char *)s))
        mf_perr(&c, 1, 1, "task: not valid UTF-8");
    uint64_t *seeds = NULL;
    int nseeds = 0;
    if (idx[MS_SF_SEED] >= 0)
        mf_get_seeds(&c, &c.nodes[idx[MS_SF_SEED]], &seeds, &nseeds);
    scope sc;
    memset(&sc, 0, sizeof sc);
    ms_config_default(&sc.cfg);
    for (int j = 0; j < COUNT(keyed); j++) {
        if (idx[keyed[j][0]] >= 0)
            mf_apply_key(&c, &sc, keyed[j][1], &c.nodes[idx[keyed[j][0]]]);
        else
            sc.bad[keyed[j][1]] = true;
    }
    data_info d = {sc.cfg.train_size, sc.cfg.val_size, NULL, false};
    ms_manifest tm;
    const node *dir = NULL;
    memset(&tm, 0, sizeof tm);
    mf_check_data(&c, &c.nodes[map], &tm, &d, &dir);
    mf_cross_check(&c, &d, &sc, NULL);
    int bad = c.nerr;
    if (!bad) {
        *cfg = sc.cfg;
        cfg->seed = nseeds == 1 ? seeds[0] : 0;
        cfg->train_size = d.train;
        cfg->val_size = d.val;
        cfg->dataset = tm.dataset;
        bad = nseeds != 1 || ms_config_validate(cfg); /* the safety net of check_manifest */
    }
    free(seeds);
    free(tm.data_dir);
    mf_tree_free(&c);
    free(c.said);
    return sv_end(&k, bad, why, n);
}
