/* ms_plot: a sweep's figures with gnuplot (plot.c), as the manifest's plots:
 * section describes them. Reads through ms_query and never sees SQL; user
 * text reaches gnuplot only as data it cannot evaluate. Every function
 * returns 0 or -1 after printing one message with ms_error(). */
#ifndef MS_PLOT_H
#define MS_PLOT_H

#include "ms_manifest.h"
#include "ms_store.h"

/* The manifest the sweep last ran with, from the database (sweeps.manifest),
 * for `plot` without a MANIFEST argument. Messages name the recorded path. */
int ms_report_manifest(ms_store *st, const char *sweep, ms_manifest *m);

/* gnuplot's path from $PATH (malloc'd), or -1 with the message
 * "gnuplot not found; install it with 'make deps' (Debian package gnuplot-nox)". */
int ms_plot_find_gnuplot(char **path);

/* A step_loss curve as the course's plot_loss draws it: v (n values, one
 * per step) in consecutive chunks of `chunk`, a trailing partial chunk
 * dropped; mean[i] and sd[i] (population standard deviation) of chunk i.
 * Returns the number of chunks, n / chunk. */
size_t ms_plot_chunks(const double *v, size_t n, int chunk, double *mean, double *sd);

/* The points a figure draws for one variant's metric (x in steps, or in
 * epochs with x_epoch; step_loss averaging step_average steps a point): the
 * mean over its seeds and the band (lo, hi), where every seed has a value.
 * *x, *mean, *lo, *hi malloc'd (n of each). */
int ms_plot_curve(ms_store *st, const char *sweep, const char *variant, ms_metric metric,
                  int x_epoch, int step_average, double **x, double **mean, double **lo,
                  double **hi, int *n);

/* Draw every figure of m->plots into outdir (created if missing) as
 * NAME.png, NAME.svg and NAME.pdf, each written atomically. A variant without runs is
 * skipped with a warning, a figure without any data is skipped with a
 * warning and no file. *written counts the figures drawn (may be NULL). */
int ms_plot_all(ms_store *st, const char *sweep, const ms_manifest *m, const char *outdir,
                int *written);

/* The figures of m->plots as SVG text, for a page that embeds them, drawn
 * in a private temporary folder ($TMPDIR, else /tmp) removed afterwards.
 * *out has one entry per plot (svg NULL: no data, skipped with a warning as
 * by ms_plot_all); name and title point into m. Free with ms_plot_svgs_free. */
typedef struct ms_plot_svg {
    const char *name, *title;
    char *svg;
    size_t len;
} ms_plot_svg;
int ms_plot_svgs(ms_store *st, const char *sweep, const ms_manifest *m, ms_plot_svg **out,
                 int *n);
void ms_plot_svgs_free(ms_plot_svg *figs, int n);

#endif
