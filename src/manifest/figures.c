/* Figures and claims (manifest_int.h): the `plots:` section (each figure's
 * variants, reference, panels of metrics, axes), the `claims:` section, and
 * the figures a manifest without plots gets by default. */
#include "manifest_int.h"
#include "ms_metrics.h" /* ms_compare_metrics, ms_metric_name */
#include "ms_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return mf_perr(c, AT(e), "metrics: unknown metric '%s' (expected %s)",
                   mf_show(q, sizeof q, e->text),
                   "loss, accuracy, batch_loss, step_loss, train_loss, val_loss, train_acc or "
                   "val_acc");
}

/* metrics: a list of panels, each a metric, a group (loss, accuracy) or a
 * list of metrics of one kind. */
static int get_panels(mctx *c, const node *v, ms_plot *p)
{
    char g[96];
    int bad = 0;
    if (v->type != N_SEQ)
        return mf_perr(c, AT(v), "metrics: expected a list of panels, got %s",
                       mf_got(g, sizeof g, v));
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
    p->x_epoch = MS_PLOT_X_AUTO;
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
        mf_perr(c, AT(vs), "variants: expected a list of variant names, got %s",
                mf_got(g, sizeof g, vs));
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

void mf_check_plots(mctx *c, const node *ps, ms_manifest *m, bool names_ok)
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
            mf_perr(c, AT(pn), "plots: each plot must be a mapping, got %s",
                    mf_got(g, sizeof g, pn));
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
void mf_check_claims(mctx *c, const node *cs, ms_manifest *m)
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
            mf_perr(c, AT(cn), "claims: each claim must be a mapping, got %s",
                    mf_got(g, sizeof g, cn));
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
        if (val[3] &&
            !mf_get_choice(c, val[3], "metric", ms_compare_metrics, MS_COMPARE_NMETRICS, &x))
            cl->metric = x;
        if (val[4] && !mf_get_str(c, val[4], "text", &s))
            cl->text = ms_strdup(s);
    }
    variant_names_release(&vn);
}

/* ---- default figures ---- */

/* A default figure's panels: training and validation loss, then
 * validation accuracy; no reference. */
static void default_panels(ms_plot *p)
{
    p->reference = -1;
    p->x_epoch = MS_PLOT_X_AUTO;
    p->step_average = MS_STEP_AVERAGE;
    p->npanels = 2;
    p->panels[0].nmetrics = 2;
    p->panels[0].metrics[0] = MS_METRIC_TRAIN_LOSS;
    p->panels[0].metrics[1] = MS_METRIC_VAL_LOSS;
    p->panels[1].nmetrics = 1;
    p->panels[1].metrics[0] = MS_METRIC_VAL_ACC;
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
        p->title = ms_strdup(m->title ? m->title : m->name);
    }
    p->variants = ms_malloc((size_t)m->nvariants * sizeof *p->variants);
    for (int v = 0; v < m->nvariants; v++)
        if (!task || !strcmp(m->variants[v].task, task))
            p->variants[p->nvariants++] = ms_strdup(m->variants[v].name);
    default_panels(p);
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

/* ---- figures of groups of runs (plot --all) ---- */

/* 1 when the group name g (VARIANT or VARIANT@N) is of variant v. */
static int group_of(const char *g, const char *v)
{
    size_t k = strcspn(g, "@");
    return strlen(v) == k && !strncmp(g, v, k);
}

/* A figure's variants replaced by names: each V by those of names that
 * are V (first) or V@N, marked in placed; the reference follows V. */
static void regroup(ms_plot *p, char *const *names, int n, char *placed)
{
    char **vs = NULL;
    int k = 0, cap = 0, ref = -1;
    for (int v = 0; v < p->nvariants; v++) {
        const char *name = p->variants[v];
        int first = k;
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < n; i++) {
                int own = !strcmp(names[i], name);
                if (pass == 0 ? !own : own || !group_of(names[i], name))
                    continue;
                if (k == cap)
                    vs = ms_realloc(vs, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *vs);
                vs[k++] = ms_strdup(names[i]);
                placed[i] = 1;
            }
        if (v == p->reference && k > first)
            ref = first;
        free(p->variants[v]);
    }
    free(p->variants);
    p->variants = vs;
    p->nvariants = k;
    p->reference = ref;
}

/* The figure of the names no figure of m could show: `earlier` (another
 * name if m has a figure of that name), with the default panels. */
static void earlier_plot(ms_manifest *m, char *const *names, int n, const char *placed)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!placed[i])
            k++;
    if (!k)
        return;
    m->plots = ms_realloc(m->plots, (size_t)(m->nplots + 1) * sizeof *m->plots);
    ms_plot *p = &m->plots[m->nplots];
    memset(p, 0, sizeof *p);
    for (int tries = 1; !p->name; tries++) {
        char *name = tries == 1 ? ms_strdup("earlier") : ms_xstrfmt("earlier_%d", tries);
        int taken = 0;
        for (int i = 0; i < m->nplots; i++)
            taken |= !strcmp(m->plots[i].name, name);
        if (taken)
            free(name);
        else
            p->name = name;
    }
    m->nplots++;
    p->title = ms_strdup("Variants of earlier runs");
    p->variants = ms_malloc((size_t)k * sizeof *p->variants);
    for (int i = 0; i < n; i++)
        if (!placed[i])
            p->variants[p->nvariants++] = ms_strdup(names[i]);
    default_panels(p);
}

void mf_plots_drop_empty(ms_manifest *m)
{
    int kept = 0;
    for (int i = 0; i < m->nplots; i++) {
        ms_plot *pl = &m->plots[i];
        if (pl->nvariants) {
            m->plots[kept++] = *pl;
            continue;
        }
        free(pl->variants);
        free(pl->name);
        free(pl->title);
    }
    m->nplots = kept;
}

void ms_manifest_plot_names(ms_manifest *m, char *const *names, int n)
{
    char *placed = ms_calloc((size_t)n + 1, 1);
    for (int i = 0; i < m->nplots; i++)
        regroup(&m->plots[i], names, n, placed);
    mf_plots_drop_empty(m);
    /* a variant of m no figure shows stays unshown, whatever its runs */
    for (int i = 0; i < n; i++)
        for (int v = 0; v < m->nvariants && !placed[i]; v++)
            placed[i] = (char)group_of(names[i], m->variants[v].name);
    earlier_plot(m, names, n, placed);
    free(placed);
}
