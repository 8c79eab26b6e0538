/* ms_plot: a sweep's figures with gnuplot (plot.c; its script plot_script.c),
 * as the manifest's plots: section describes them. Draws from an ms_query
 * snapshot and never sees SQL; user text reaches gnuplot only as data it
 * cannot evaluate. Every function returns 0 or -1 after printing one
 * message with ms_error(). */
#ifndef MS_PLOT_H
#define MS_PLOT_H

#include "ms_grid.h"
#include "ms_manifest.h"
#include "ms_query.h"
#include "ms_store.h"

/* What legends and the report call a variant of m: its `label:`, or NULL
 * when it has none (or m has no such variant). Points into m. */
const char *ms_plot_label(const ms_manifest *m, const char *variant);

/* gnuplot's path from $PATH (malloc'd), or -1 with the message
 * "gnuplot not found; install it with 'make deps' (Debian package gnuplot-nox)". */
int ms_plot_find_gnuplot(char **path);

/* A step_loss curve as the course's plot_loss draws it: v (n values, one
 * per step) in consecutive chunks of `chunk`, a trailing partial chunk
 * dropped; mean[i] and sd[i] (population standard deviation) of chunk i.
 * Returns the number of chunks, n / chunk. */
size_t ms_plot_chunks(const double *v, size_t n, int chunk, double *mean, double *sd);

/* The parts of a snapshot m's figures are drawn from: MS_SNAP_CURVES, and
 * MS_SNAP_STEP_CURVES when a figure shows step_loss. */
unsigned ms_plot_reads(const ms_manifest *m);

/* The points a figure draws for one variant's metric (x in steps, or in
 * epochs with x_epoch; step_loss averaging step_average steps a point): the
 * mean over its seeds and the band (lo, hi), where every seed has a value;
 * from a snapshot holding ms_plot_reads' parts. *x, *mean, *lo, *hi
 * malloc'd (n of each; n 0 for a variant without runs). */
void ms_plot_curve(const ms_snapshot *s, const char *variant, ms_metric metric, int x_epoch,
                   int step_average, double **x, double **mean, double **lo, double **hi, int *n);

/* Draw every figure of m->plots into outdir (created if missing) as
 * NAME.png, NAME.svg and NAME.pdf, then each grid's (ms_grid.h: G-heatmap
 * for two axes, G-parallel for more, by final_val_acc), each written atomically, from one
 * snapshot of the sweep (the runs of scope; NULL: the current runs). A
 * variant without runs is skipped with a warning, a figure without any data
 * is skipped with a warning and no file. *written counts the figures of
 * m->plots drawn, *grids the grids' (either may be NULL). */
int ms_plot_all(ms_store *st, const char *sweep, const ms_manifest *m, const ms_scope *scope,
                const char *outdir, int *written, int *grids);

/* The figures of m->plots as SVG text, for a page that embeds them, drawn
 * from the snapshot s (holding ms_plot_reads' parts) in a private temporary
 * folder ($TMPDIR, else /tmp) removed afterwards: one SVG per panel (the
 * page lays them out, side by side or one under the other), each titled by
 * its own title only, and a note for the caption ("mean of 3 seeds; shaded:
 * min to max", NULL with one seed) instead of the title the files draw.
 * *out has one entry per plot (npanels 0: no data, skipped with a warning as
 * by ms_plot_all); name and title point into m. Free with ms_plot_svgs_free.
 * ms_plot_grid_svgs fills a panel per figure of the grid (ms_grid_nfigs:
 * a grid's one, a search's two or three). */
typedef struct ms_plot_svg {
    const char *name, *title;
    char *svg;
    size_t len;
    int npanels;
    char *panel[MS_PLOT_MAX_PANELS];
    size_t panel_len[MS_PLOT_MAX_PANELS];
    char *note;
} ms_plot_svg;
int ms_plot_svgs(const ms_snapshot *s, const ms_manifest *m, ms_plot_svg **out, int *n);
/* The same for grids (ms_grid.h): one entry per grid of g, npanels 0 when
 * the grid has no figure (one axis); name and title are the grid's name. */
int ms_plot_grid_svgs(const ms_grid *g, int n, ms_plot_svg **out);
void ms_plot_svgs_free(ms_plot_svg *figs, int n);

#endif
