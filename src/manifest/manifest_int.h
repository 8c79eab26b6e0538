/* The manifest's internals, private to src/manifest/ (the module's API is
 * include/ms_manifest.h): the node tree the checks walk, the context of one
 * parse, the settings and scopes the files hand each other, and the
 * functions they share, prefixed mf_ (described here or where they are
 * defined). Which file defines what:
 *   tree.c      the node tree from libyaml's events (the only <yaml.h>),
 *               messages, names to indices, the typed getters of values
 *   settings.c  KEY=VALUE settings: parsing, binding to variants, which apply where
 *   variants.c  variants: keys, extends, scopes (mf_apply_key), grids
 *   search.c    a variant's search: its space checked, its trials drawn
 *   figures.c   plots, their panels and metrics, claims, the default figures
 *   manifest.c  the top level (name, data, defaults) and the API: parse, load, queries
 *   stored.c    the manifest's rules on stored values (merge) */
#ifndef MS_MANIFEST_INT_H
#define MS_MANIFEST_INT_H

#include "ms_manifest.h"
#include "ms_util.h" /* MS_PRINTF */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the node tree (tree.c) ---- */

/* A node's kind: the tree's own, so only tree.c sees libyaml's. */
enum { N_SCALAR, N_SEQ, N_MAP };

typedef struct node {
    int type;
    char *text; /* scalar value */
    bool plain; /* unquoted: only plain scalars can be numbers or booleans */
    int line, col;
    int n, cap;
    int *kids; /* indices into tree.nodes; a map alternates key, value */
} node;

/* One parse (or one check of stored values): its tree and its messages. */
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
    /* Nodes made for a search's drawn values (search.c): blocks of
     * extra_n[i] nodes, outside `nodes` so that pointers to them stay put. */
    struct node **extra;
    size_t *extra_n;
    int nextra;
    /* Settings of data.train and data.val, the last of each: its value's
     * node index + 1 (composing moves nodes; 0: none, as a cleared mctx). */
    int data_set[2];
} mctx;

/* The starting budget of mctx.hint_left (mf_hint). */
#define HINT_BUDGET 50000000LL

static inline const node *mf_kid(const mctx *c, const node *n, int i)
{
    return &c->nodes[n->kids[i]];
}

#define AT(n) (n)->line, (n)->col
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

void mf_tree_free(mctx *c);
/* Prints "FILE:LINE:COL: message" (an argument's setting: "argument '...':
 * message") unless printed before, counts an error; returns -1. */
int mf_perr(mctx *c, int line, int col, const char *fmt, ...) MS_PRINTF(4, 5);
/* User text inside a message: kept on one line and short, control bytes escaped. */
const char *mf_show(char *buf, size_t n, const char *s);
/* What the user wrote, for "expected X, got Y". */
const char *mf_got(char *buf, size_t n, const node *v);
/* A node of the tree, as the parser makes one; -1 after a message for a NUL in text. */
int mf_add_node(mctx *c, int type, int line, int col, const char *text, size_t len, bool plain,
                int parent, int *root);
/* Builds the tree of a YAML text; *root is -1 for a stream without a document. */
int mf_compose(mctx *c, const char *text, size_t len, int *root);

/* Names to indices, by hashing: a 1 MiB manifest holds tens of thousands of
 * names, and a pass over all of them for each lookup made checking it take
 * seconds. Open addressing, at most half full; keys are not copied. */
typedef struct name_map {
    const char **key;
    int *val;
    size_t n, cap; /* cap: 0 or a power of 2 */
} name_map;
int mf_name_map_get(const name_map *h, const char *s);
void mf_name_map_put(name_map *h, const char *s, int v);
void mf_name_map_release(name_map *h);
/* " (did you mean 'x'?)" or "", within the parse's budget (hint_left). */
const char *mf_hint(mctx *c, char *buf, size_t n, const char *s, const char *const *cand,
                    int ncand);

/* A mapping's known keys' values (val[]) and key nodes (keyn[]), NULL when
 * absent; unknown and repeated keys are reported. */
void mf_map_keys(mctx *c, const node *map, const char *const *keys, int nkeys, const node **val,
                 const node **keyn, const char *where);
/* The typed getters: 0 and the value in *out, or -1 after a message that
 * names key. */
int mf_get_int(mctx *c, const node *v, const char *key, long long lo, long long hi, int *out);
int mf_get_num(mctx *c, const node *v, const char *key, double *out);
int mf_get_bool(mctx *c, const node *v, const char *key, bool *out);
int mf_get_str(mctx *c, const node *v, const char *key, const char **out);
/* A string of 1 to max bytes (a label, a title), copied into *out. */
int mf_get_text(mctx *c, const node *v, const char *key, size_t max, char **out);
int mf_get_name(mctx *c, const node *v, const char *key, const char **out);
int mf_get_choice(mctx *c, const node *v, const char *key, const char *const *names, int n,
                  int *out);
int mf_get_hidden(mctx *c, const node *v, ms_config *cfg);
int mf_get_seeds(mctx *c, const node *v, uint64_t **out, int *nout);
bool mf_is_null(const node *n);

/* ---- keys ---- */

/* Keys a config scope (defaults or a variant) may set, in this order. */
enum {
    K_HIDDEN, K_ACTIVATION, K_INIT, K_LR, K_MOMENTUM, K_BATCH, K_EPOCHS,
    K_VPE, K_EARLY_STOP, K_SHUFFLE, K_SEEDS, K_PRECISION, K_KEEP, K_N
};
/* The config keys' names, in K_* order (variants.c) */
extern const char *const *const mf_cfg_keys;
/* data's keys: dir, train, val, dataset (manifest.c) */
extern const char *const mf_data_keys[4];

/* ---- settings (settings.c) ---- */

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
    char *text;      /* as written: what ms_manifest.settings keeps */
} setting;

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

void mf_settings_free(setting *st, int n);
void mf_settings_read(mctx *c, int root, setting **st, int *n);
void mf_settings_bind(mctx *c, setting *st, int nst, const name_map *byname,
                      const char *const *names, int nnames);
void mf_setting_use_init(setting_use *u, const setting *st, int nst, int nv);
void mf_setting_use_release(setting_use *u);
void mf_last_settings(const setting_use *u, const setting *st, int i, int *last, int *last1,
                      int *last1_ok);
char *mf_with_settings(const char *text, size_t len, char *const *args, int nargs);

/* ---- scopes and variants (variants.c) ---- */

/* Settings in effect at one place: defaults, or a variant on top of them. */
typedef struct scope {
    ms_config cfg;
    uint64_t *seeds;
    int nseeds;
    bool own_seeds;
    const node *set[K_N]; /* value node of each key given here and valid */
    bool bad[K_N];        /* given here but invalid */
} scope;

typedef struct data_info {
    int train, val;
    const node *train_node; /* NULL when data.train is absent */
    bool train_bad;
} data_info;

/* What mf_check_variants knows of each variant, for mf_expand_grids. */
typedef struct vinfo vinfo;

void mf_variant_release(ms_variant *v);
const char **mf_valid_names(const ms_manifest *m, int *n);
void mf_name_map_variants(name_map *h, const ms_variant *v, int n);
/* Key k (K_*) of scope s from the value v: s->set[k] = v, or s->bad[k] after a message. */
void mf_apply_key(mctx *c, scope *s, int k, const node *v);
/* The checks of a scope against data.train and the checkpoint's size. */
void mf_cross_check(mctx *c, const data_info *d, const scope *s, const scope *dflt);
void mf_check_variants(mctx *c, const node *vs, ms_manifest *m, const data_info *d,
                       const scope *dflt, setting *st, int nst, vinfo **vi_out,
                       setting_use *use);
void mf_expand_grids(mctx *c, ms_manifest *m, vinfo *vi, const setting *st,
                     const setting_use *use, const data_info *d, const node *vlist,
                     const node *plist);
void mf_vinfo_free(vinfo *vi, int n);

/* ---- grids and searches (variants.c, search.c) ---- */

/* One axis of a grid: KEY over n values; of a search: KEY's value in each
 * of n trials (vals[k]: trial k's). */
typedef struct mf_axis {
    int key, n;
    const node *const *vals;
    const node *at; /* for messages about the whole axis */
} mf_axis;

enum { MF_SEARCH_RANDOM, MF_SEARCH_SOBOL, MF_SEARCH_N };
extern const char *const mf_search_methods[MF_SEARCH_N];

typedef struct mf_search {
    int method; /* MF_SEARCH_* */
    uint64_t seed;
    int trials;
} mf_search;

/* A variant's `search:` (sm) read and checked, its trials drawn: one axis
 * per key of the space, in K_* order, each of s->trials values (*ax
 * malloc'd). The number of axes, or -1 after messages. */
int mf_search_read(mctx *c, const node *sm, mf_search *s, mf_axis **ax);
/* Trial `trial`'s draw in [0, 1) for the key `key`, dimension `dim` of the
 * space (its place in K_* order among the searched keys; Sobol only). */
double mf_search_draw(int method, uint64_t seed, long long trial, int dim, const char *key);
/* The dimensions the Sobol direction numbers cover. */
int mf_search_sobol_max(void);
/* Variant i's search as the axes of its trials (*ax malloc'd, *trials of
 * them), less the keys a setting fixes; 0 axes with *trials 0 after messages. */
int mf_search_axes(mctx *c, const node *sm, int i, const setting *st, const setting_use *u,
                   mf_axis **ax, int *trials);

/* A search's `prune:` (pm) read and checked against the search's scope sc
 * (its epochs: `max` is the trials' epochs, and neither differs from the
 * variant's own `epochs` node nor is searched in ax[0..na); with epochs_set,
 * a command-line epochs=N in sc, max is N); sc->cfg.epochs set to max. 0, or -1 after messages. */
int mf_prune_read(mctx *c, const node *pm, scope *sc, const node *epochs, bool epochs_set,
                  const mf_axis *ax, int na, ms_prune *out);

/* ---- figures and claims (figures.c) ---- */

void mf_check_plots(mctx *c, const node *ps, ms_manifest *m, bool names_ok);
void mf_check_claims(mctx *c, const node *cs, ms_manifest *m);

/* ---- the top level (manifest.c) ---- */

void mf_check_data(mctx *c, const node *v, ms_manifest *m, data_info *d,
                   const node **dir_node);

/* figures.c: the figures left with no variant removed (freed), the others
 * kept in order (--variants, names of earlier runs). */
void mf_plots_drop_empty(ms_manifest *m);

#endif
