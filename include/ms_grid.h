/* ms_grid: a sweep's grids as a reader looks at them (grid.c): for each
 * grid (the variants whose summary column `grid` names it), its axes (the
 * settings that differ among its variants), each configuration's metric over
 * its seeds with a t interval, ranked best first with the paired difference
 * to the best, and for two axes the cells of the pivot (export --pivot's
 * computation, export_pivot.c). Pure: computed from an ms_query snapshot
 * holding ms_grid_reads()'s parts; `plot` draws a grid (heatmap or parallel
 * coordinates) and `report` shows it from this. */
#ifndef MS_GRID_H
#define MS_GRID_H

#include "ms_query.h"
#include "ms_stats.h"

typedef struct ms_grid_axis {
    const char *key; /* the summary column: lr, batch, ... (static text) */
    int nvalues;
    char **values; /* as --where spells them, in the pivot's order (numbers ascending) */
    int numeric;   /* numbers; else text, in the order the variants come */
    int log;       /* numeric, every value > 0 and the largest >= 10x the smallest */
} ms_grid_axis;

/* A rung decision on a search's trial (the journal's row). */
typedef struct ms_grid_mark {
    int epoch, promote;
    double value; /* the trial's value there (NAN: none) */
} ms_grid_mark;

typedef struct ms_grid_config {
    const char *variant;    /* points into the snapshot */
    int *at;                /* per axis: its value's index in axes[a].values */
    double *x;              /* per axis: the value (numeric axis), else its index */
    ms_stat stat;           /* the metric over the runs with a value (the summary's mean) */
    double lo, hi;          /* the mean's t interval at the grid's level (NAN: one seed) */
    ms_comparison vs_best;  /* this minus the best configuration, paired by seed
                               (Welch when no 2 seeds pair); the best's kind is NONE */
    double epochs;          /* epochs its runs trained (the mean over its seeds) */
    /* a search's trial: its number, its learning curve (the search's metric
     * at each epoch 1..ncurve, the mean over the seeds that have it) and
     * its rung decisions from the journal */
    int trial, ncurve, nmarks;
    double *curve;
    ms_grid_mark *marks;
} ms_grid_config;

typedef struct ms_grid {
    char *name;
    const char *metric, *head; /* the metric's key and its header ("val acc (%)") */
    int acc;                   /* an accuracy: shown in % */
    int higher;                /* higher is better (accuracies) */
    double level;
    int naxes;
    ms_grid_axis *axes;
    int nconfigs;
    ms_grid_config *configs; /* best first; equal means in the manifest's order */
    double *cells; /* two axes: the pivot's means, axes[0]'s values as rows by axes[1]'s as
                      columns, row-major (NAN: no such variant or no result); else NULL */
    int search;    /* a search's trials (every variant NAME.tK): the configurations that
                      trained furthest rank first, and the figure plots the metric against
                      each setting (no pivot) */
    long long epochs_run, epochs_full; /* a search: epochs its runs trained, and would with
                                          every trial to its epochs */
    int curve_metric; /* a search: the ms_metric its curves show (its pruning metric) */
} ms_grid;

/* The parts of a snapshot the grids are computed from. */
unsigned ms_grid_reads(void);

/* 0 when key names a metric the grids can rank (final_val_acc,
 * best_val_acc, final_val_loss, train_seconds), else -1 (no message). */
int ms_grid_metric_ok(const char *key);

/* Every grid of s with at least one configuration, in the order of their
 * first variant, metric by metric (NULL: final_val_acc); *out malloc'd
 * (free with ms_grid_free; *n may be 0). -1 after a message. */
int ms_grid_find(const ms_snapshot *s, const char *metric, double level, ms_grid **out, int *n);
void ms_grid_free(ms_grid *g, int n);

/* A grid's figures (grid_plot.c draws them): how many (0: none: one axis,
 * no result, or a name that cannot name a file: only letters, digits, '_',
 * '.', '-', not starting with a dot), and figure k's name, malloc'd:
 * "G-heatmap" (two axes) or "G-parallel" (three or more); a search's
 * "G-settings", "G-curves" and (two settings or more) "G-parallel". */
int ms_grid_nfigs(const ms_grid *g);
char *ms_grid_fig_name(const ms_grid *g, int k);

#endif
