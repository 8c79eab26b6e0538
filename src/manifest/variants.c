/* Variants (manifest_int.h): each one's keys, `extends` resolved into the
 * settings it runs (a scope: the defaults or its parent's, its own keys, then
 * the KEY=VALUE settings), names unique, and grids expanded into one variant
 * per combination. A value is checked once, where it is written: a bad `lr`
 * in defaults is reported at defaults, not again for every variant that
 * inherits it. */
#include "manifest_int.h"
#include "ms_data.h" /* MS_INPUT */
#include "ms_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPUT_WIDTH 785 /* 28*28 pixels + bias */

/* A variant's keys: name, task, label, extends, then the config keys (index
 * V_CFG + K_*). */
static const char *const variant_keys[] = {"name",          "task",       "label",   "extends",
                                           "grid",          "search",     "prune",      "hidden",
                                           "activation",
                                           "init",          "lr",         "momentum", "batch",
                                           "epochs",        "val_per_epoch", "early_stop",
                                           "shuffle",       "seeds",      "precision", "keep"};
enum { V_NAME, V_TASK, V_LABEL, V_EXTENDS, V_GRID, V_SEARCH, V_PRUNE, V_CFG };

const char *const *const mf_cfg_keys = variant_keys + V_CFG;

void mf_variant_release(ms_variant *v)
{
    free(v->name);
    free(v->task);
    free(v->label);
    free(v->grid_of);
    free(v->seeds);
}

/* The valid variant names of m (a variant whose name was refused has
 * none), for lookups and hints: malloc'd, *n of them. */
const char **mf_valid_names(const ms_manifest *m, int *n)
{
    const char **names = ms_calloc((size_t)m->nvariants + 1, sizeof *names);
    *n = 0;
    for (int i = 0; i < m->nvariants; i++)
        if (m->variants[i].name)
            names[(*n)++] = m->variants[i].name;
    return names;
}

/* Each of the n variants' valid names to its first variant's index. */
void mf_name_map_variants(name_map *h, const ms_variant *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i].name)
            mf_name_map_put(h, v[i].name, i);
}

/* ---- scopes ---- */

void mf_apply_key(mctx *c, scope *s, int k, const node *v)
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
    case K_KEEP: /* what a finished run stores, not how it trains */
        if (!(rc = mf_get_choice(c, v, "keep", ms_keep_names, MS_KEEP_N, &x)))
            cfg->keep = (ms_keep)x;
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

void mf_cross_check(mctx *c, const data_info *d, const scope *s, const scope *dflt)
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
        mf_perr(c, AT(vn), "val_per_epoch: must be <= %d, the steps per epoch (got %d)", steps,
                vpe);
    else if (bn)
        mf_perr(c, AT(bn), "batch: %d leaves %d steps per epoch, fewer than val_per_epoch (%d)",
                b, steps, vpe);
    else if (tn)
        mf_perr(c, AT(tn), "data.train: %d leaves %d steps per epoch at batch %d, fewer than "
                "val_per_epoch (%d)", train, steps, b, vpe);
}

/* ---- names, extends ---- */

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

struct vinfo {
    const node *val[NV], *keyn[NV];
    int parent;  /* the variant it extends, -1: the defaults */
    int state;   /* 0: not resolved, 1: resolving (on the chain), 2: resolved */
    scope base;  /* once resolved: its manifest settings (what a variant extending it starts
                    from) */
    scope sc;    /* and with the KEY=VALUE settings: what it runs */
    bool pruned; /* a search with `prune:` (grids_measure) */
    ms_prune prune;
};

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
                 o < sizeof chain ? sizeof chain - o : 1, "'%s'",
                 mf_show(q, sizeof q, x->m->variants[i].name));
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
        if (x->val[V_LABEL])
            mf_get_text(c, x->val[V_LABEL], "label", MS_LABEL_MAX, &v->label);
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

void mf_check_variants(mctx *c, const node *vs, ms_manifest *m, const data_info *d,
                       const scope *dflt, setting *st, int nst, vinfo **vi_out,
                       setting_use *use)
{
    char g[96];
    long long runs = 0;
    *vi_out = NULL;

    if (vs->type != N_SEQ) {
        mf_perr(c, AT(vs), "variants: expected a list of variants, got %s",
                mf_got(g, sizeof g, vs));
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

void mf_vinfo_free(vinfo *vi, int n)
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

typedef mf_axis axis;

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
                mf_perr(c, AT(k), "grid: unknown key '%s'%s",
                        k->type == N_SCALAR ? mf_show(q, sizeof q, k->text) : "?",
                        k->type == N_SCALAR ? ms_hint(h, sizeof h, k->text, mf_cfg_keys, K_N)
                                            : "");
                continue;
            }
            if (vals->type != N_SEQ || vals->n == 0) {
                mf_perr(c, AT(vals), "grid: %s: expected a list of values, got %s",
                        mf_cfg_keys[key], mf_got(g, sizeof g, vals));
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
static int grids_measure(mctx *c, const ms_manifest *m, vinfo *vi, const setting *st,
                         const setting_use *use, const node *vlist, axis **axes, int *naxes,
                         int *trials)
{
    int nv = m->nvariants, over = 0;
    long long runs = 0;
    for (int i = 0; i < nv; i++) {
        const node *sm = vi[i].val[V_SEARCH];
        if (sm && vi[i].val[V_GRID])
            mf_perr(c, AT(vi[i].keyn[V_SEARCH]), "search: a variant has a grid or a search, "
                    "not both (grid: at line %d)", vi[i].keyn[V_GRID]->line);
        else if (sm)
            naxes[i] = mf_search_axes(c, sm, i, st, use, &axes[i], &trials[i]);
        else
            naxes[i] = grid_axes(c, &vi[i], i, st, use, &axes[i]);
        const node *pm = vi[i].val[V_PRUNE];
        if (pm && !sm)
            mf_perr(c, AT(vi[i].keyn[V_PRUNE]), "prune: goes with a search: in the same variant "
                    "(it stops the search's weaker trials early)");
        else if (pm && trials[i]) {
            /* epochs=N on the command line sets max, as a setting wins over the manifest */
            int last[K_N], last1[K_N], last1_ok[K_N];
            mf_last_settings(use, st, i, last, last1, last1_ok);
            vi[i].pruned = mf_prune_read(c, pm, &vi[i].sc, vi[i].val[V_CFG + K_EPOCHS],
                                         last1_ok[K_EPOCHS] >= 0, axes[i], naxes[i],
                                         &vi[i].prune) == 0;
        }
        if ((naxes[i] == 0 && !trials[i]) || !m->variants[i].name || vi[i].state != 2) {
            axes_free(axes[i], naxes[i]);
            axes[i] = NULL;
            naxes[i] = trials[i] = 0; /* kept as it is */
            runs = runs_add(runs, m->variants[i].nseeds);
            continue;
        }
        long long combos = trials[i] ? trials[i] : 1;
        for (int a = 0; a < naxes[i] && !trials[i]; a++)
            combos = runs_mul(combos, axes[i][a].n);
        if (combos > MS_MANIFEST_MAX_RUNS) {
            mf_perr(c, AT(axes[i][0].at), "grid: too many combinations (limit %d)",
                    MS_MANIFEST_MAX_RUNS);
            over = 1;
        } else
            runs = runs_add(runs, trials[i] ? runs_mul(trials[i], vi[i].sc.nseeds)
                                            : grid_runs(&vi[i].sc, axes[i], naxes[i]));
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

/* Combination x of combos of a grid's axes (the first axis slowest), or
 * trial x of a search (trial: every axis' value x): in *sc the parent's
 * scope psc with the combination's values applied, in name[n] its name
 * PARENT.KEY-VALUE[.KEY-VALUE...] (a trial: PARENT.tX, from 1). 1 when one
 * of its values is bad. */
static int grid_combination(mctx *c, const scope *psc, const char *parent, const axis *ax,
                            int na, long long x, long long combos, bool trial, scope *sc,
                            char *name, size_t n)
{
    *sc = *psc;
    memset(sc->set, 0, sizeof sc->set);
    memset(sc->bad, 0, sizeof sc->bad);
    sc->own_seeds = false;
    size_t o = (size_t)snprintf(name, n, trial ? "%s.t%lld" : "%s", parent, x + 1);
    long long r = x, div = combos;
    int bad = 0;
    for (int a = 0; a < na; a++) {
        div /= trial ? 1 : ax[a].n;
        const node *val = ax[a].vals[trial ? x : r / div];
        r %= div;
        if (sc->own_seeds && ax[a].key == K_SEEDS)
            free(sc->seeds), sc->own_seeds = false;
        mf_apply_key(c, sc, ax[a].key, val);
        bad |= sc->bad[ax[a].key];
        if (trial)
            continue;
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
static void grid_expand(mctx *c, const ms_manifest *m, const ms_variant *pv, const vinfo *pi,
                        const axis *ax, int na, int trials, const data_info *d, variant_list *out)
{
    char q[72];
    long long combos = trials ? trials : 1;
    for (int a = 0; a < na && !trials; a++)
        combos *= ax[a].n; /* at most MS_MANIFEST_MAX_RUNS: counted by grids_measure */
    for (long long x = 0; x < combos; x++) {
        scope sc;
        char name[256];
        const scope *psc = &pi->sc;
        int bad = grid_combination(c, psc, pv->name, ax, na, x, combos, trials > 0, &sc, name,
                                   sizeof name);
        mf_cross_check(c, d, &sc, psc);
        if (!bad && strlen(name) > MS_NAME_MAX)
            mf_perr(c, pv->line, pv->col, "grid: the variant name '%s' is longer than %d characters",
                    mf_show(q, sizeof q, name), MS_NAME_MAX);
        ms_variant *cv = variant_list_add(out);
        memset(cv, 0, sizeof *cv);
        cv->name = ms_strdup(name);
        cv->grid_of = ms_strdup(pv->name);
        cv->trial = trials ? (int)x : 0;
        cv->trials = trials;
        cv->pruned = pi->pruned;
        cv->prune = pi->prune;
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
        if (bad && trials) /* said once: the other trials' draws would repeat it */
            break;
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
void mf_expand_grids(mctx *c, ms_manifest *m, vinfo *vi, const setting *st,
                     const setting_use *use, const data_info *d, const node *vlist,
                     const node *plist)
{
    int nv = m->nvariants;
    axis **axes = ms_calloc((size_t)nv + 1, sizeof *axes);
    int *naxes = ms_calloc((size_t)nv + 1, sizeof *naxes);
    int *trials = ms_calloc((size_t)nv + 1, sizeof *trials);
    if (grids_measure(c, m, vi, st, use, vlist, axes, naxes, trials)) {
        free(axes);
        free(naxes);
        free(trials);
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
        if (naxes[i] == 0 && !trials[i]) {
            *variant_list_add(&out) = *pv;
            memset(pv, 0, sizeof *pv);
            count[i] = 1;
            continue;
        }
        grid_expand(c, m, pv, &vi[i], axes[i], naxes[i], trials[i], d, &out);
        count[i] = out.n - first[i];
        axes_free(axes[i], naxes[i]);
    }
    free(axes);
    free(naxes);
    free(trials);
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
