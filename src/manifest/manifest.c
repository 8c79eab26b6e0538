/* ms_manifest: load and validate a study manifest.
 *
 * Two stages. mf_compose() (tree.c) turns libyaml events into a small tree
 * of nodes, each with its 1-based position; structural problems (syntax,
 * aliases, tags, nesting) stop there. The checks then walk the whole tree and
 * report every semantic problem they find, so one run of the tool lists all
 * typos. This file holds the top level (name, data, defaults; the settings,
 * variants and figures in their own files, manifest_int.h says which) and
 * the API: parse, load, release, and the queries on a loaded manifest. */
#define _POSIX_C_SOURCE 200809L
#include "manifest_int.h"
#include "ms_util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const top_keys[] = {"name",   "data",   "defaults", "variants",   "plots",
                                       "settings", "claims", "title",    "description"};

/* data's keys, in the order mf_check_data reads them (val[0] is dir) */
const char *const mf_data_keys[4] = {"dir", "train", "val", "dataset"};

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

void mf_check_data(mctx *c, const node *v, ms_manifest *m, data_info *d, const node **dir_node)
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
        mf_perr(c, line, col, "data.dir: '%s' is not a directory",
                mf_show(q, sizeof q, m->data_dir));
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
    if (val[7])
        mf_get_text(c, val[7], "title", MS_LABEL_MAX, &m->title);
    if (val[8])
        mf_get_text(c, val[8], "description", MS_DESCRIPTION_MAX, &m->description);
    d.train = dflt.cfg.train_size;
    d.val = dflt.cfg.val_size;
    if (val[1])
        mf_check_data(c, val[1], m, &d, &dir_node);
    if (c->data_set[0]) { /* data.train=N: after the manifest's */
        d.train_node = &c->nodes[c->data_set[0] - 1];
        d.train_bad = mf_get_int(c, d.train_node, "data.train", 1, MS_MAX_TRAIN, &d.train) != 0;
    }
    if (c->data_set[1])
        mf_get_int(c, &c->nodes[c->data_set[1] - 1], "data.val", 1, MS_MAX_VAL, &d.val);
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
            mf_perr(c, m->variants[i].line, m->variants[i].col,
                    "variant '%s': invalid configuration", m->variants[i].name);
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
    free(m->title);
    free(m->description);
    for (int i = 0; i < m->nsettings; i++)
        free(m->settings[i]);
    free(m->settings);
    free(m->data_dir);
    memset(m, 0, sizeof *m);
}

int ms_manifest_parse(const char *path, const char *text, size_t len, ms_manifest *m,
                      int check_data_dir)
{
    return ms_manifest_parse_args(path, text, len, NULL, 0, m, check_data_dir);
}

int ms_manifest_parse_args(const char *path, const char *text, size_t len, char *const *args,
                           int nargs, ms_manifest *m, int check_data_dir)
{
    mctx c = {.path = path, .args = args, .nargs = nargs, .hint_left = HINT_BUDGET};
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
    m->settings = ms_malloc((size_t)(nst ? nst : 1) * sizeof *m->settings);
    for (int i = 0; i < nst; i++, m->nsettings++)
        m->settings[i] = st[i].text, st[i].text = NULL;
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
    }
    mf_plots_drop_empty(m);
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
            r[k].grid = v->grid_of;
            r[k].prune = v->pruned ? &v->prune : NULL;
            r[k].trial = v->trial;
            r[k].trials = v->trials;
            r[k].cfg = v->cfg;
            r[k].cfg.seed = v->seeds[j];
            r[k].cfg.train_size = m->train;
            r[k].cfg.val_size = m->val;
        }
    }
    *out = r;
    return (int)total;
}

int ms_manifest_is_key(const char *name)
{
    for (int k = 0; k < K_N; k++)
        if (!strcmp(name, mf_cfg_keys[k]))
            return 1;
    return 0;
}

int ms_manifest_only(const ms_manifest *m, const char *list, ms_run_spec *specs, int *n)
{
    if (ms_manifest_check_variants(m, list, "--only") < 0)
        return -1;
    int k = 0;
    for (int i = 0; i < *n; i++)
        if (ms_manifest_listed(m, specs[i].variant, list))
            specs[k++] = specs[i];
    *n = k;
    return 0;
}
