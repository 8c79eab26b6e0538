/* A variant's `search:`: trials drawn over a space, each a variant as a grid
 * point is (NAME.tK). Trial k's value of a key is a pure function of
 * (method, seed, k, key): a counter-based hash for random, point k of a
 * Sobol sequence digitally shifted by the seed for sobol. No stream is
 * shared, so trial k is the same in every process, shard and resume, and
 * raising `trials` keeps the trials drawn before. */
#define _POSIX_C_SOURCE 200809L
#include "manifest_int.h"
#include "ms_metrics.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const mf_search_methods[MF_SEARCH_N] = {"random", "sobol"};

static const char *const search_keys[] = {"method", "seed", "trials", "space"};
enum { S_METHOD, S_SEED, S_TRIALS, S_SPACE, S_N };

/* A key's distribution: one of these, with `step` (uniform) or `log` (int). */
static const char *const dist_keys[] = {"uniform", "loguniform", "int", "choice", "step", "log"};
enum { D_UNIFORM, D_LOGUNIFORM, D_INT, D_CHOICE, D_KINDS, D_STEP = D_KINDS, D_LOG, D_N };

/* One key of the space, checked. */
typedef struct dim {
    int key, kind; /* K_*, D_* */
    double lo, hi, step;
    bool log;
    const node *choice, *at;
} dim;

/* ---- draws ---- */

static uint64_t mix64(uint64_t z) /* splitmix64's finaliser */
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A uniform draw in [0, 1) for (seed, trial, key): 53 bits of a hash. */
static double draw_random(uint64_t seed, long long trial, const char *key)
{
    uint64_t h = mix64(mix64(seed ^ 0x6a09e667f3bcc908ull) ^ ms_hash64(key));
    return (double)(mix64(h + (uint64_t)trial * 0x9e3779b97f4a7c15ull) >> 11) * 0x1p-53;
}

/* Joe and Kuo's direction numbers (new-joe-kuo-6.21201) for dimensions 2 to
 * 13, as s, a, m_1..m_s; dimension 1 is van der Corput's. A space has at
 * most K_N - 2 keys (no seeds, no keep). */
static const unsigned char joe_kuo[][8] = {
    {1, 0, 1},          {2, 1, 1, 3},          {3, 1, 1, 3, 1},       {3, 2, 1, 1, 1},
    {4, 1, 1, 1, 3, 3}, {4, 4, 1, 3, 5, 13},   {5, 2, 1, 1, 5, 5, 17}, {5, 4, 1, 1, 5, 5, 5},
    {5, 7, 1, 1, 7, 11, 19}, {5, 11, 1, 1, 5, 1, 1}, {5, 13, 1, 1, 1, 3, 11},
    {5, 14, 1, 3, 5, 5, 31},
};

/* Point `trial` of dimension d (0-based) of the Sobol sequence, as 32 bits. */
static uint32_t sobol_bits(int d, long long trial)
{
    uint32_t v[32];
    if (d == 0) {
        for (int j = 0; j < 32; j++)
            v[j] = 1u << (31 - j);
    } else {
        const unsigned char *p = joe_kuo[d - 1];
        int s = p[0], a = p[1];
        for (int j = 0; j < 32; j++) {
            if (j < s) {
                v[j] = (uint32_t)p[2 + j] << (31 - j);
                continue;
            }
            v[j] = v[j - s] ^ (v[j - s] >> s);
            for (int i = 1; i < s; i++)
                if ((a >> (s - 1 - i)) & 1)
                    v[j] ^= v[j - i];
        }
    }
    uint64_t g = (uint64_t)trial ^ ((uint64_t)trial >> 1); /* Gray code order */
    uint32_t x = 0;
    for (int j = 0; j < 32 && g; j++, g >>= 1)
        if (g & 1)
            x ^= v[j];
    return x;
}

/* Trial `trial`'s draw in [0, 1) for dimension d of key `key`: the Sobol
 * point XORed with 32 bits of the seed's hash for that key (a digital shift:
 * each stratum of 2^-m keeps exactly one of the first 2^m points). */
static double draw_sobol(uint64_t seed, long long trial, int d, const char *key)
{
    uint32_t shift = (uint32_t)(mix64(mix64(seed ^ 0xbb67ae8584caa73bull) ^ ms_hash64(key)) >> 32);
    return (double)(sobol_bits(d, trial) ^ shift) * 0x1p-32;
}

int mf_search_sobol_max(void) { return 1 + COUNT(joe_kuo); }

double mf_search_draw(int method, uint64_t seed, long long trial, int d, const char *key)
{
    return method == MF_SEARCH_SOBOL ? draw_sobol(seed, trial, d, key)
                                     : draw_random(seed, trial, key);
}

/* ---- the space ---- */

/* The kinds a key takes: lr and momentum numbers, the counts whole numbers,
 * every key but seeds and keep a choice. */
static bool kind_fits(int key, int kind)
{
    if (key == K_SEEDS || key == K_KEEP)
        return false;
    if (kind == D_CHOICE)
        return true;
    if (kind == D_INT)
        return key == K_BATCH || key == K_EPOCHS || key == K_VPE || key == K_EARLY_STOP;
    return key == K_LR || key == K_MOMENTUM;
}

/* [lo, hi] of a distribution: two numbers, lo <= hi (whole for int). */
static int read_bounds(mctx *c, const node *v, const char *what, const dim *d, double b[2])
{
    char g[96];
    if (v->type != N_SEQ || v->n != 2)
        return mf_perr(c, AT(v), "search: space: %s: %s: expected [low, high], got %s",
                       mf_cfg_keys[d->key], what, mf_got(g, sizeof g, v));
    for (int i = 0; i < 2; i++)
        if (mf_get_num(c, mf_kid(c, v, i), what, &b[i]) < 0)
            return -1;
    if (b[0] > b[1])
        return mf_perr(c, AT(v), "search: space: %s: %s: low %g is above high %g",
                       mf_cfg_keys[d->key], what, b[0], b[1]);
    if (d->kind == D_LOGUNIFORM && b[0] <= 0)
        return mf_perr(c, AT(v), "search: space: %s: loguniform needs bounds above 0, got %g",
                       mf_cfg_keys[d->key], b[0]);
    if (d->kind == D_INT && (b[0] != floor(b[0]) || b[1] != floor(b[1]) || fabs(b[0]) > 1e9 ||
                             fabs(b[1]) > 1e9))
        return mf_perr(c, AT(v), "search: space: %s: int: expected whole numbers, got [%g, %g]",
                       mf_cfg_keys[d->key], b[0], b[1]);
    return 0;
}

/* One key of the space: KEY: {uniform: [lo, hi], step: s} and so on. */
static int read_dim(mctx *c, const node *k, const node *spec, dim *d)
{
    char q[72], h[96], g[96];
    memset(d, 0, sizeof *d);
    d->at = spec;
    d->key = 0;
    while (k->type == N_SCALAR && d->key < K_N && strcmp(k->text, mf_cfg_keys[d->key]))
        d->key++;
    if (k->type != N_SCALAR || d->key == K_N)
        return mf_perr(c, AT(k), "search: space: unknown key '%s'%s",
                       k->type == N_SCALAR ? mf_show(q, sizeof q, k->text) : "?",
                       k->type == N_SCALAR ? ms_hint(h, sizeof h, k->text, mf_cfg_keys, K_N) : "");
    const char *name = mf_cfg_keys[d->key];
    if (spec->type != N_MAP)
        return mf_perr(c, AT(spec),
                       "search: space: %s: expected a mapping such as {uniform: [0, 1]}, got %s",
                       name, mf_got(g, sizeof g, spec));
    const node *val[D_N], *keyn[D_N];
    char where[96];
    snprintf(where, sizeof where, "search: space: %s", name);
    mf_map_keys(c, spec, dist_keys, D_N, val, keyn, where);
    d->kind = -1;
    for (int i = 0; i < D_KINDS; i++)
        if (val[i] && d->kind >= 0)
            return mf_perr(c, AT(keyn[i]), "search: space: %s: one of uniform, loguniform, int "
                           "or choice, not both %s and %s", name, dist_keys[d->kind], dist_keys[i]);
        else if (val[i])
            d->kind = i;
    if (d->kind < 0)
        return mf_perr(c, AT(spec), "search: space: %s: expected uniform, loguniform, int or "
                       "choice", name);
    if (!kind_fits(d->key, d->kind))
        return mf_perr(c, AT(keyn[d->kind]), "search: space: %s cannot be searched%s%s", name,
                       d->key == K_SEEDS || d->key == K_KEEP ? "" : " with ",
                       d->key == K_SEEDS || d->key == K_KEEP ? "" : dist_keys[d->kind]);
    if (val[D_STEP] && d->kind != D_UNIFORM)
        return mf_perr(c, AT(keyn[D_STEP]), "search: space: %s: step goes with uniform", name);
    if (val[D_LOG] && d->kind != D_INT)
        return mf_perr(c, AT(keyn[D_LOG]), "search: space: %s: log goes with int (loguniform "
                       "for numbers)", name);
    if (d->kind == D_CHOICE) {
        d->choice = val[D_CHOICE];
        if (d->choice->type != N_SEQ)
            return mf_perr(c, AT(d->choice), "search: space: %s: choice: expected a list of "
                           "values, got %s", name, mf_got(g, sizeof g, d->choice));
        if (d->choice->n == 0)
            return mf_perr(c, AT(d->choice), "search: space: %s: choice: the list is empty "
                           "(give the values to choose from)", name);
        return 0;
    }
    double b[2];
    if (read_bounds(c, val[d->kind], dist_keys[d->kind], d, b) < 0)
        return -1;
    d->lo = b[0];
    d->hi = b[1];
    if (val[D_STEP]) {
        if (mf_get_num(c, val[D_STEP], "step", &d->step) < 0)
            return -1;
        if (!(d->step > 0))
            return mf_perr(c, AT(val[D_STEP]), "search: space: %s: step must be above 0, got %g",
                           name, d->step);
    }
    if (val[D_LOG]) {
        if (mf_get_bool(c, val[D_LOG], "log", &d->log) < 0)
            return -1;
        if (d->log && d->lo < 1)
            return mf_perr(c, AT(val[D_INT]), "search: space: %s: int with log needs a low "
                           "bound of 1 or more, got %g", name, d->lo);
    }
    return 0;
}

/* ---- values ---- */

/* The text of u's value on dimension d: numbers keep four significant
 * digits when that stays within [lo, hi] (readable names and columns), a
 * step's multiples and whole numbers exactly. NULL for a choice. */
static char *value_text(const dim *d, double u)
{
    char buf[64];
    if (d->kind == D_INT) {
        double span = d->log ? log(d->hi + 1) - log(d->lo) : d->hi - d->lo + 1;
        double x = d->log ? floor(exp(log(d->lo) + u * span)) : d->lo + floor(u * span);
        snprintf(buf, sizeof buf, "%.0f", x > d->hi ? d->hi : x < d->lo ? d->lo : x);
        return ms_strdup(buf);
    }
    double x;
    if (d->kind == D_UNIFORM && d->step > 0) {
        double steps = floor((d->hi - d->lo) / d->step * (1 + 1e-12));
        x = d->lo + floor(u * (steps + 1)) * d->step;
        snprintf(buf, sizeof buf, "%.12g", x);
        return ms_strdup(buf);
    }
    x = d->kind == D_LOGUNIFORM ? exp(log(d->lo) + u * (log(d->hi) - log(d->lo)))
                                : d->lo + u * (d->hi - d->lo);
    snprintf(buf, sizeof buf, "%.4g", x);
    double r = strtod(buf, NULL);
    if (r < d->lo || r > d->hi)
        snprintf(buf, sizeof buf, "%.17g", x < d->lo ? d->lo : x > d->hi ? d->hi : x);
    return ms_strdup(buf);
}

/* Nodes made for drawn values, owned by the parse (freed with its tree). */
static node *own_nodes(mctx *c, size_t n)
{
    node *b = ms_calloc(n ? n : 1, sizeof *b);
    c->extra = ms_realloc(c->extra, (size_t)(c->nextra + 1) * sizeof *c->extra);
    c->extra[c->nextra] = b;
    c->extra_n = ms_realloc(c->extra_n, (size_t)(c->nextra + 1) * sizeof *c->extra_n);
    c->extra_n[c->nextra++] = n;
    return b;
}

/* Axis a's values: trial k's draw for each k < trials. */
static void fill_axis(mctx *c, const mf_search *s, const dim *d, int nd, mf_axis *ax)
{
    const node **vals = ms_malloc((size_t)s->trials * sizeof *vals);
    node *made = d->kind == D_CHOICE ? NULL : own_nodes(c, (size_t)s->trials);
    const char *key = mf_cfg_keys[d->key];
    for (long long k = 0; k < s->trials; k++) {
        double u = mf_search_draw(s->method, s->seed, k, nd, key);
        if (d->kind == D_CHOICE) {
            int i = (int)floor(u * d->choice->n);
            vals[k] = mf_kid(c, d->choice, i < d->choice->n ? i : d->choice->n - 1);
            continue;
        }
        node *v = &made[k];
        v->type = N_SCALAR;
        v->text = value_text(d, u);
        v->plain = true;
        v->line = d->at->line;
        v->col = d->at->col;
        vals[k] = v;
    }
    *ax = (mf_axis){d->key, s->trials, vals, d->at};
}

/* ---- the search ---- */

static int by_key(const void *a, const void *b)
{
    return ((const dim *)a)->key - ((const dim *)b)->key;
}

int mf_search_read(mctx *c, const node *sm, mf_search *s, mf_axis **ax)
{
    char g[96];
    memset(s, 0, sizeof *s);
    *ax = NULL;
    if (sm->type != N_MAP)
        return mf_perr(c, AT(sm), "search: expected a mapping with method, seed, trials and "
                       "space, got %s", mf_got(g, sizeof g, sm));
    const node *val[S_N], *keyn[S_N];
    int before = c->nerr;
    mf_map_keys(c, sm, search_keys, S_N, val, keyn, "search");
    int seed = 0, trials = 0;
    if (val[S_METHOD])
        mf_get_choice(c, val[S_METHOD], "search: method", mf_search_methods, MF_SEARCH_N,
                      &s->method);
    if (val[S_SEED])
        mf_get_int(c, val[S_SEED], "search: seed", 0, 2147483647, &seed);
    if (!val[S_TRIALS])
        mf_perr(c, AT(sm), "search: trials: missing (how many trials to draw)");
    else
        mf_get_int(c, val[S_TRIALS], "search: trials", 1, MS_MANIFEST_MAX_RUNS, &trials);
    s->seed = (uint64_t)seed;
    s->trials = trials;
    const node *sp = val[S_SPACE];
    if (!sp)
        return mf_perr(c, AT(sm), "search: space: missing (the keys to search and their ranges)");
    if (sp->type != N_MAP || sp->n == 0)
        return mf_perr(c, AT(sp), "search: space: expected a mapping of keys to distributions, "
                       "got %s", mf_got(g, sizeof g, sp));
    dim *d = ms_calloc((size_t)sp->n / 2, sizeof *d);
    int nd = 0;
    for (int j = 0; j + 1 < sp->n; j += 2) {
        dim x;
        if (read_dim(c, mf_kid(c, sp, j), mf_kid(c, sp, j + 1), &x) < 0)
            continue;
        int dup = 0;
        for (int i = 0; i < nd; i++)
            dup |= d[i].key == x.key;
        if (dup)
            mf_perr(c, AT(mf_kid(c, sp, j)), "search: space: duplicate key '%s'",
                    mf_cfg_keys[x.key]);
        else
            d[nd++] = x;
    }
    if (c->nerr > before) {
        free(d);
        return -1;
    }
    /* Sobol dimensions by key, not by the order written: moving a line of
     * the manifest does not change the trials */
    qsort(d, (size_t)nd, sizeof *d, by_key);
    *ax = ms_calloc((size_t)nd + 1, sizeof **ax);
    for (int i = 0; i < nd; i++)
        fill_axis(c, s, &d[i], i, &(*ax)[i]);
    free(d);
    return nd;
}

int mf_search_axes(mctx *c, const node *sm, int i, const setting *st, const setting_use *u,
                   mf_axis **ax, int *trials)
{
    mf_search s;
    int n = mf_search_read(c, sm, &s, ax);
    *trials = n < 0 ? 0 : s.trials;
    if (n < 0)
        return 0;
    /* A setting of one value for a searched key fixes it (the setting wins,
     * as over a grid's axis); several values would make a grid of a search. */
    int last[K_N], last1[K_N], last1_ok[K_N], kept = 0;
    mf_last_settings(u, st, i, last, last1, last1_ok);
    for (int k = 0; k < K_N; k++)
        if (last[k] >= 0 && st[last[k]].nvals > 1) {
            mf_perr(c, st[last[k]].line, st[last[k]].col, "%s: several values make a grid, and "
                    "this variant searches: give one value", mf_cfg_keys[k]);
            *trials = 0;
        }
    for (int a = 0; a < n; a++)
        if (last[(*ax)[a].key] >= 0)
            free((void *)(*ax)[a].vals);
        else
            (*ax)[kept++] = (*ax)[a];
    if (!*trials) {
        for (int a = 0; a < kept; a++)
            free((void *)(*ax)[a].vals);
        free(*ax);
        *ax = NULL;
        return 0;
    }
    return kept;
}

/* ---- pruning ---- */

static const char *const prune_keys[] = {"type", "metric", "goal", "resource", "min", "max", "eta"};
enum { P_TYPE, P_METRIC, P_GOAL, P_RESOURCE, P_MIN, P_MAX, P_ETA, P_N };
static const char *const goals[] = {"min", "max"};

/* The metrics a rung can judge by: an epoch row's own (train_loss to
 * val_acc in ms_metric), not the batches' or the steps' losses. */
enum { PRUNE_M0 = MS_METRIC_TRAIN_LOSS, PRUNE_MN = MS_METRIC_VAL_ACC + 1 - PRUNE_M0 };
static int read_metric(mctx *c, const node *v, int *out)
{
    const char *names[PRUNE_MN];
    for (int i = 0; i < PRUNE_MN; i++)
        names[i] = ms_metric_name((ms_metric)(PRUNE_M0 + i));
    const char *s = "";
    char q[72], h[96];
    if (mf_get_str(c, v, "prune: metric", &s))
        return -1;
    int k = ms_name_index(names, PRUNE_MN, s);
    if (k >= 0) {
        *out = PRUNE_M0 + k;
        return 0;
    }
    return mf_perr(c, AT(v), "prune: metric: unknown metric '%s'%s (expected train_loss, "
                   "val_loss, train_acc or val_acc)", mf_show(q, sizeof q, s),
                   ms_hint(h, sizeof h, s, names, PRUNE_MN));
}

int mf_prune_read(mctx *c, const node *pm, scope *sc, const node *epochs, bool epochs_set,
                  const mf_axis *ax, int na, ms_prune *out)
{
    char g[96];
    int before = c->nerr;
    memset(out, 0, sizeof *out);
    if (pm->type != N_MAP)
        return mf_perr(c, AT(pm), "prune: expected a mapping such as {type: asha, max: 27}, "
                       "got %s", mf_got(g, sizeof g, pm));
    const node *val[P_N], *keyn[P_N];
    mf_map_keys(c, pm, prune_keys, P_N, val, keyn, "prune");
    int type = 0, metric = MS_METRIC_VAL_LOSS, goal = -1;
    int min = 1, max = sc->cfg.epochs, eta = 3;
    if (!val[P_TYPE])
        mf_perr(c, AT(pm), "prune: type: missing (sha, asha or hyperband)");
    else
        mf_get_choice(c, val[P_TYPE], "prune: type", ms_prune_type_names, MS_PRUNE_NTYPES, &type);
    if (val[P_METRIC])
        read_metric(c, val[P_METRIC], &metric);
    if (val[P_GOAL])
        mf_get_choice(c, val[P_GOAL], "prune: goal", goals, 2, &goal);
    const char *res = "epoch";
    if (val[P_RESOURCE] && !mf_get_str(c, val[P_RESOURCE], "prune: resource", &res) &&
        strcmp(res, "epoch"))
        mf_perr(c, AT(val[P_RESOURCE]), "prune: resource: unknown value '%s' (epoch is the one "
                "resource: a rung is a number of epochs)", mf_show(g, sizeof g, res));
    if (val[P_MIN])
        mf_get_int(c, val[P_MIN], "prune: min", 1, 1000000, &min);
    if (val[P_MAX] && !epochs_set)
        mf_get_int(c, val[P_MAX], "prune: max", 1, 1000000, &max);
    if (val[P_ETA] && mf_get_int(c, val[P_ETA], "prune: eta", -1000000, 1000000, &eta) == 0 &&
        eta < 2)
        mf_perr(c, AT(val[P_ETA]), "prune: eta: must be 2 or more (the trials kept at a rung "
                "are 1 in eta), got %d", eta);
    if (c->nerr == before && min > max)
        mf_perr(c, AT(val[P_MIN] ? val[P_MIN] : pm), "prune: min (%d epochs) is above max (%d)",
                min, max);
    if (val[P_MAX] && !epochs_set && epochs && sc->cfg.epochs != max)
        mf_perr(c, AT(val[P_MAX]), "prune: max (%d) and epochs (%d, line %d) differ: a pruned "
                "trial trains at most max epochs; give one of them", max, sc->cfg.epochs,
                epochs->line);
    for (int a = 0; a < na; a++)
        if (ax[a].key == K_EPOCHS)
            mf_perr(c, AT(ax[a].at), "search: space: epochs cannot be searched with prune: "
                    "(epochs are what pruning spends)");
    if (c->nerr > before)
        return -1;
    *out = (ms_prune){(ms_prune_type)type, metric,
                      goal >= 0 ? goal : ms_metric_is_acc((ms_metric)metric), min, max, eta};
    sc->cfg.epochs = max;
    return 0;
}
