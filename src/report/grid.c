/* ms_grid: a sweep's grids, their axes, ranking and pivot (ms_grid.h).
 * The summary of a grid's variants is the export's table (export_table.h):
 * its axes are the settings ms_tab_varied finds, each in ms_tab_axis's
 * order, and a two-axis grid's cells are ms_tab_pivot's, so a heatmap shows
 * what `export --where grid=G --pivot A,B` writes. The ranking pairs each
 * configuration with the best by seed as `compare` does (ms_compare_seeds). */
#define _POSIX_C_SOURCE 200809L
#include "ms_grid.h"
#include "ms_metrics.h"
#include "ms_util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "export_table.h"

/* The metrics a grid ranks by: each a result of a run (ms_query_run_detail)
 * and a statistic of the summary. */
static const struct {
    const char *key;
    size_t off;
    int higher;
} metrics[] = {
    {"final_val_acc", offsetof(ms_query_run_detail, final_val_acc), 1},
    {"best_val_acc", offsetof(ms_query_run_detail, best_val_acc), 1},
    {"final_val_loss", offsetof(ms_query_run_detail, final_val_loss), 0},
    {"train_seconds", offsetof(ms_query_run_detail, train_seconds), 0},
};
enum { NMETRICS = sizeof metrics / sizeof *metrics };

unsigned ms_grid_reads(void)
{
    return MS_SNAP_SUMMARY | MS_SNAP_RUNS | MS_SNAP_CURVES | MS_SNAP_DECISIONS;
}

static int metric_index(const char *key)
{
    for (int i = 0; i < NMETRICS; i++)
        if (!strcmp(key, metrics[i].key))
            return i;
    return -1;
}

int ms_grid_metric_ok(const char *key) { return metric_index(key) < 0 ? -1 : 0; }

static int column_index(const table *t, const char *key)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].key, key))
            return i;
    return -1;
}

/* One configuration's runs with a value of the metric, by seed ascending. */
typedef struct seeds {
    int n;
    uint64_t *seed;
    double *v;
} seeds;

static void seed_values(const ms_snapshot *s, const char *variant, size_t off, seeds *out)
{
    out->n = 0;
    out->seed = ms_malloc(((size_t)s->nruns + 1) * sizeof *out->seed);
    out->v = ms_malloc(((size_t)s->nruns + 1) * sizeof *out->v);
    for (int i = 0; i < s->nruns; i++) {
        const ms_query_run_detail *r = &s->runs[i];
        double v = *(const double *)((const char *)r + off);
        if (strcmp(r->variant, variant) != 0 || isnan(v))
            continue;
        int k = out->n++; /* insertion: a variant has a few seeds */
        while (k > 0 && out->seed[k - 1] > (uint64_t)r->seed) {
            out->seed[k] = out->seed[k - 1];
            out->v[k] = out->v[k - 1];
            k--;
        }
        out->seed[k] = (uint64_t)r->seed;
        out->v[k] = v;
    }
}

/* The axes of t (one grid's summary) and each row's place on them. */
static void make_axes(ms_grid *g, const table *t, const int *cols)
{
    int *first = ms_malloc(((size_t)t->nrows + 1) * sizeof *first);
    char buf[32];
    for (int a = 0; a < g->naxes; a++) {
        ms_grid_axis *ax = &g->axes[a];
        const column *c = &t->cols[cols[a]];
        ax->key = c->key;
        ax->numeric = c->type != T_TEXT;
        ax->nvalues = ms_tab_axis(t, cols[a], first);
        ax->values = ms_malloc((size_t)ax->nvalues * sizeof *ax->values);
        double lo = INFINITY, hi = -INFINITY;
        for (int j = 0; j < ax->nvalues; j++) {
            const cell *v = ms_tab_at(t, first[j], cols[a]);
            ax->values[j] = ms_strdup(ms_tab_value_text(c, v, buf));
            double x = c->type == T_REAL ? v->x : (double)v->i;
            lo = fmin(lo, x);
            hi = fmax(hi, x);
        }
        ax->log = ax->numeric && lo > 0 && hi >= 10 * lo;
        for (int r = 0; r < t->nrows; r++) {
            ms_grid_config *k = &g->configs[r];
            const cell *v = ms_tab_at(t, r, cols[a]);
            const char *text = ms_tab_value_text(c, v, buf);
            int j = 0;
            while (j < ax->nvalues - 1 && strcmp(ax->values[j], text) != 0)
                j++;
            k->at[a] = j;
            k->x[a] = !ax->numeric ? j : c->type == T_REAL ? v->x : (double)v->i;
        }
    }
    free(first);
}

/* a before b in the ranking: the better mean first, no mean last; in a
 * search, the trials that trained furthest first (a pruned trial's value is
 * of fewer epochs). */
static int better(const ms_grid *g, const ms_grid_config *a, const ms_grid_config *b)
{
    if (g->search && a->epochs != b->epochs)
        return a->epochs > b->epochs;
    double x = a->stat.mean, y = b->stat.mean;
    if (isnan(x) || isnan(y))
        return !isnan(x) && isnan(y);
    return g->higher ? x > y : x < y;
}

/* Each configuration's statistics, the ranking (stable) and the paired
 * differences to the best. */
static void rank(ms_grid *g, const ms_snapshot *s, size_t off)
{
    seeds *sv = ms_malloc((size_t)g->nconfigs * sizeof *sv);
    for (int i = 0; i < g->nconfigs; i++) {
        ms_grid_config *c = &g->configs[i];
        seed_values(s, c->variant, off, &sv[i]);
        c->stat = ms_stat_of(sv[i].v, sv[i].n);
        ms_stat_interval(c->stat, g->level, &c->lo, &c->hi);
    }
    for (int i = 1; i < g->nconfigs; i++) /* insertion sort: stable, a grid is small */
        for (int j = i; j > 0 && better(g, &g->configs[j], &g->configs[j - 1]); j--) {
            ms_grid_config c = g->configs[j];
            seeds v = sv[j];
            g->configs[j] = g->configs[j - 1], sv[j] = sv[j - 1];
            g->configs[j - 1] = c, sv[j - 1] = v;
        }
    for (int i = 0; i < g->nconfigs; i++) {
        g->configs[i].vs_best = ms_compare_seeds(sv[i].seed, sv[i].v, sv[i].n, sv[0].seed,
                                                 sv[0].v, sv[0].n, g->level);
        if (i == 0)
            g->configs[i].vs_best.kind = MS_TEST_NONE;
    }
    for (int i = 0; i < g->nconfigs; i++)
        free(sv[i].seed), free(sv[i].v);
    free(sv);
}

/* Two axes: the pivot of t by them, its cells copied out (t is consumed). */
static int pivot_cells(ms_grid *g, table *t, const int *cols, int mc)
{
    if (ms_tab_pivot(t, cols[0], cols[1], mc, g->name) < 0)
        return -1;
    int nr = g->axes[0].nvalues, nc = g->axes[1].nvalues;
    g->cells = ms_malloc((size_t)nr * (size_t)nc * sizeof *g->cells);
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++) {
            const cell *c = ms_tab_at(t, i, j + 1);
            g->cells[i * nc + j] = c->null ? NAN : c->x;
        }
    return 0;
}

/* 1 when every variant of grid `name` is a trial NAME.tK of a search. */
static int is_search(const ms_snapshot *s, const char *name)
{
    size_t n = strlen(name);
    int any = 0;
    for (int k = 0; k < s->nsummary; k++) {
        const char *v = s->summary[k].variant;
        if (strcmp(s->summary[k].grid, name))
            continue;
        if (strncmp(v, name, n) || strncmp(v + n, ".t", 2) || !v[n + 2] ||
            v[n + 2 + strspn(v + n + 2, "0123456789")])
            return 0;
        any = 1;
    }
    return any;
}

/* Run r's value of metric m at each epoch, as its epoch row holds it (the
 * last validation of the epoch: steps (e-1) x spe to e x spe - 1, the last
 * epoch's validation of its final weights included), into v[0..cap): how
 * many epochs it has. */
static int run_epochs(const ms_query_run *r, int m, double *v, int cap)
{
    int64_t spe = r->batch > 0 ? (r->train + r->batch - 1) / r->batch : 0, n = 0;
    for (int k = 0; spe > 0 && k < r->n; k++) {
        int64_t e = r->evals[k].step / spe + 1;
        if (e > cap || e > n + 1)
            break;
        v[e - 1] = r->evals[k].v[m];
        n = e;
    }
    return (int)n;
}

/* A search's trials: each one's learning curve (the mean over its seeds of
 * the search's metric, up to the epochs all of them have) and its rung
 * decisions, from the snapshot's curves and journal. */
static void search_curves(ms_grid *g, const ms_snapshot *s)
{
    size_t n = strlen(g->name);
    g->curve_metric = MS_METRIC_VAL_LOSS;
    for (int i = 0; i < s->ndecisions; i++)
        for (int m = MS_METRIC_TRAIN_LOSS; m <= MS_METRIC_VAL_ACC; m++)
            if (!strcmp(s->decisions[i].search, g->name) &&
                !strcmp(s->decisions[i].metric, ms_metric_name((ms_metric)m)))
                g->curve_metric = m;
    for (int k = 0; k < g->nconfigs; k++) {
        ms_grid_config *c = &g->configs[k];
        c->trial = atoi(c->variant + n + 2); /* NAME.tK (is_search) */
        const ms_variant_curves *vc = ms_snapshot_curves(s, c->variant);
        int most = 0;
        for (int r = 0; vc && r < vc->nruns; r++)
            most = vc->runs[r].n > most ? vc->runs[r].n : most;
        double *v = ms_malloc((size_t)(most ? most : 1) * sizeof *v);
        c->curve = ms_calloc((size_t)(most ? most : 1), sizeof *c->curve);
        c->ncurve = most;
        for (int r = 0; vc && r < vc->nruns; r++) { /* summed in run order: seed order */
            int e = run_epochs(&vc->runs[r], g->curve_metric, v, most);
            c->ncurve = e < c->ncurve ? e : c->ncurve;
            for (int j = 0; j < e; j++)
                c->curve[j] += v[j] / vc->nruns;
        }
        if (!vc)
            c->ncurve = 0;
        free(v);
        for (int i = 0; i < s->ndecisions; i++) {
            const ms_query_decision *d = &s->decisions[i];
            if (d->trial != c->trial || strcmp(d->search, g->name))
                continue;
            c->marks = ms_realloc(c->marks, (size_t)(c->nmarks + 1) * sizeof *c->marks);
            c->marks[c->nmarks++] = (ms_grid_mark){d->epoch, d->promote, d->value};
        }
    }
}

/* Grid `name` of s: its summary, axes, ranking and (two axes) pivot. */
static int one_grid(const ms_snapshot *s, const char *name, int m, double level, ms_grid *g)
{
    table t = {0};
    int cols[MS_TAB_MAX_COLS], rc = 0;
    ms_tab_summary(s, name, &t);
    int mc = column_index(&t, metrics[m].key);
    *g = (ms_grid){.name = ms_strdup(name), .metric = metrics[m].key, .head = t.cols[mc].head,
                   .acc = t.cols[mc].fmt == F_ACC, .higher = metrics[m].higher, .level = level};
    g->naxes = ms_tab_varied(&t, cols);
    g->axes = ms_calloc((size_t)g->naxes + 1, sizeof *g->axes);
    g->nconfigs = t.nrows;
    g->configs = ms_calloc((size_t)t.nrows + 1, sizeof *g->configs);
    g->search = is_search(s, name);
    for (int r = 0, k = 0; k < s->nsummary; k++) /* t's rows: the grid's, in order */
        if (!strcmp(s->summary[k].grid, name)) {
            const ms_summary_row *sr = &s->summary[k];
            g->configs[r].epochs = sr->epochs.n ? sr->epochs.mean : 0;
            g->epochs_run += llround(sr->epochs.n ? sr->epochs.mean * sr->epochs.n : 0);
            g->epochs_full += sr->epochs_total * sr->seeds;
            g->configs[r].variant = sr->variant;
            g->configs[r].at = ms_calloc((size_t)g->naxes + 1, sizeof(int));
            g->configs[r++].x = ms_calloc((size_t)g->naxes + 1, sizeof(double));
        }
    make_axes(g, &t, cols);
    rank(g, s, metrics[m].off);
    if (g->search)
        search_curves(g, s);
    if (g->naxes == 2 && !g->search)
        rc = pivot_cells(g, &t, cols, mc);
    ms_tab_release(&t);
    return rc;
}

int ms_grid_find(const ms_snapshot *s, const char *metric, double level, ms_grid **out, int *n)
{
    int m = metric_index(metric ? metric : "final_val_acc");
    *out = NULL;
    *n = 0;
    if (m < 0)
        return ms_error("no grid ranking by '%s' (final_val_acc, best_val_acc, final_val_loss "
                        "or train_seconds)",
                        metric);
    ms_grid *g = ms_calloc((size_t)s->nsummary + 1, sizeof *g);
    int ng = 0;
    for (int i = 0; i < s->nsummary; i++) {
        const char *name = s->summary[i].grid;
        int seen = !*name;
        for (int j = 0; j < ng && !seen; j++)
            seen = !strcmp(g[j].name, name);
        if (seen)
            continue;
        if (one_grid(s, name, m, level, &g[ng++]) < 0) {
            ms_grid_free(g, ng);
            return -1;
        }
    }
    *out = g;
    *n = ng;
    return 0;
}

void ms_grid_free(ms_grid *g, int n)
{
    for (int i = 0; g && i < n; i++) {
        for (int a = 0; a < g[i].naxes; a++) {
            for (int j = 0; j < g[i].axes[a].nvalues; j++)
                free(g[i].axes[a].values[j]);
            free(g[i].axes[a].values);
        }
        for (int k = 0; k < g[i].nconfigs; k++) {
            ms_grid_config *c = &g[i].configs[k];
            free(c->at), free(c->x), free(c->curve), free(c->marks);
        }
        free(g[i].axes);
        free(g[i].configs);
        free(g[i].cells);
        free(g[i].name);
    }
    free(g);
}
