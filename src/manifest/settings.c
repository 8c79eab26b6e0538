/* Settings, KEY=VALUE (manifest_int.h): from the manifest's `settings:`
 * list and the command line, each KEY in one variant or all, to one value or
 * (KEY=V1,V2) a grid over several. Their values are composed as YAML before
 * the checks take pointers into the tree (composing moves it); then bound to
 * their variants by name, and indexed by the variants they apply to. */
#define _POSIX_C_SOURCE 200809L
#include "manifest_int.h"
#include "ms_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mf_settings_free(setting *st, int n)
{
    for (int i = 0; i < n; i++) {
        free(st[i].variant);
        free(st[i].vals);
        free(st[i].v);
        free(st[i].text);
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

/* data.train=N or data.val=N: one value, kept for mf_check_data (the data
 * section's sizes, after the manifest's own). */
static void data_setting(mctx *c, int which, const char *value, int line, int col)
{
    const char *key = which ? "data.val" : "data.train";
    if (strchr(value, ',')) {
        mf_perr(c, line, col, "%s: one value (the data sizes make no grid)", key);
        return;
    }
    int root = -1;
    c->at_line = line;
    c->at_col = col;
    int bad = mf_compose(c, value, strlen(value), &root) < 0;
    c->at_line = c->at_col = 0;
    if (bad)
        return;
    if (root < 0 || (c->nodes[root].type == N_SCALAR && !c->nodes[root].text[0])) {
        mf_perr(c, line, col, "%s: a value is missing", key);
        return;
    }
    c->data_set[which] = root + 1;
}

/* Lists where the other form was meant, said once with the form to write:
 * seeds=1,2,3 (a grid of three one-seed values) for seeds=[1,2,3], and
 * lr=[0.1,0.2] (a list for a one-value key) for the grid lr=0.1,0.2. */
static int list_hints(mctx *c, const setting *x, const char *value)
{
    const char *key = mf_cfg_keys[x->key];
    int lists = 0;
    for (int i = 0; i < x->nvals; i++)
        lists += c->nodes[x->vals[i]].type == N_SEQ;
    if (x->key == K_SEEDS && x->nvals > 1 && !lists)
        return mf_perr(c, x->line, x->col, "seeds: a list of seeds is written %s%sseeds=[%s] "
                       "(several lists, seeds=[1,2],[3,4], make a grid of them)",
                       x->variant ? x->variant : "", x->variant ? "." : "", value);
    if (x->key == K_SEEDS || x->key == K_HIDDEN || x->nvals != 1 || !lists)
        return 0;
    const node *l = &c->nodes[x->vals[0]];
    char grid[256] = "";
    size_t o = 0;
    for (int i = 0; i < l->n && o < sizeof grid; i++) {
        const node *e = mf_kid(c, l, i);
        o += (size_t)snprintf(grid + o, sizeof grid - o, "%s%s", i ? "," : "",
                              e->type == N_SCALAR ? e->text : "...");
    }
    return mf_perr(c, x->line, x->col, "%s: expected one value, got a list; a grid over values "
                   "is written %s%s%s=%s", key, x->variant ? x->variant : "",
                   x->variant ? "." : "", key, grid);
}

/* The nv values of x (value[start[i]..][0..len[i])) composed as YAML, at
 * x's position; 1 after a message. */
static int compose_values(mctx *c, setting *x, const char *value, const size_t *start,
                          const size_t *len, int nv)
{
    int bad = 0;
    c->at_line = x->line;
    c->at_col = x->col;
    for (int i = 0; i < nv && !bad; i++) {
        int root = -1;
        if (mf_compose(c, value + start[i], len[i], &root) < 0) {
            bad = 1;
        } else if (root < 0 || (c->nodes[root].type == N_SCALAR && c->nodes[root].plain &&
                                !c->nodes[root].text[0])) {
            mf_perr(c, x->line, x->col, "%s: a value is missing", mf_cfg_keys[x->key]);
            bad = 1;
        } else {
            x->vals[x->nvals++] = root;
        }
    }
    c->at_line = c->at_col = 0;
    return bad;
}

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
    if (variant && !strcmp(variant, "data") && (!strcmp(key, "train") || !strcmp(key, "val"))) {
        data_setting(c, key[0] == 't' ? 0 : 1, eq + 1, line, col);
        free(left);
        return;
    }
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
                 ms_malloc((size_t)nv * sizeof(int)), NULL, ms_strdup(text)};
    free(left);
    int bad = compose_values(c, &x, value, start, len, nv);
    if (!bad)
        bad = list_hints(c, &x, value);
    if (bad) {
        free(x.variant);
        free(x.vals);
        free(x.text);
        return;
    }
    *st = ms_realloc(*st, (size_t)(*n + 1) * sizeof **st);
    (*st)[(*n)++] = x;
}

/* Every setting: the manifest's `settings:` list (strings, in order), then
 * the command line's. root is an index: composing moves nodes. */
void mf_settings_read(mctx *c, int root, setting **st, int *n)
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
                            "settings: expected a KEY=VALUE string, got %s",
                            mf_got(g, sizeof g, &c->nodes[e]));
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

/* Settings' value nodes as pointers (nothing is composed any more) and
 * their variants by name: an unknown one is reported with the likely one. */
void mf_settings_bind(mctx *c, setting *st, int nst, const name_map *byname,
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

void mf_setting_use_init(setting_use *u, const setting *st, int nst, int nv)
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

void mf_setting_use_release(setting_use *u)
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
void mf_last_settings(const setting_use *u, const setting *st, int i, int *last, int *last1,
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

/* The manifest's text with the command line's settings added as its
 * `settings:` list (what a sweep records: parsed alone, it gives the same
 * variants). */
char *mf_with_settings(const char *text, size_t len, char *const *args, int nargs)
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

int ms_manifest_setting_grid(const char *arg)
{
    const char *eq = strchr(arg, '=');
    size_t start[2], len[2];
    return eq && split_values(eq + 1, start, len, 2) != 1;
}

int ms_manifest_setting_for(const char *arg, const char *variant, const char *grid)
{
    const char *eq = strchr(arg, '='), *dot = NULL;
    for (const char *p = arg; eq && p < eq; p++)
        if (*p == '.')
            dot = p;
    if (!dot)
        return 1;
    size_t n = (size_t)(dot - arg);
    return (strlen(variant) == n && !strncmp(arg, variant, n)) ||
           (grid && strlen(grid) == n && !strncmp(arg, grid, n));
}
