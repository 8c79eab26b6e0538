/* ms_fig: what the two halves of the figures share, private to src/report/.
 * plot.c gathers a figure's curves from a snapshot, runs gnuplot and
 * publishes its files; plot_script.c writes the gnuplot script that draws
 * them (panels, styles, axes, legends). */
#ifndef MS_PLOT_FIG_H
#define MS_PLOT_FIG_H

#include "ms_grid.h"
#include "ms_plot.h"

#include <stdio.h>

/* One variant's curves in a figure: at each x, for each metric, the mean,
 * minimum and maximum over the seeds that have a value there. */
typedef struct ms_fig_curves {
    const char *variant; /* what legends call it: its label, else its name */
    int nseeds; /* runs with at least one validation */
    int n;      /* points */
    double *x;
    double *mean[MS_METRIC_N], *lo[MS_METRIC_N], *hi[MS_METRIC_N];
    int *cnt[MS_METRIC_N];
} ms_fig_curves;

typedef struct ms_fig {
    const ms_plot *p;
    ms_fig_curves *cv; /* one per p->variants, n = 0 when skipped */
    const char **color;
    int seeds;      /* the most seeds of any variant drawn */
    int same_seeds; /* every variant drawn has `seeds` seeds */
    int x_epoch;    /* the x axis: p->x_epoch, or when not stated its default (gather) */
    int panel;      /* -1: every panel side by side under the figure's title (the
                     * files); else only this one, alone and untitled but for its
                     * own title (the report lays its panels out itself) */
} ms_fig;

/* The report's panel: its width in pixels and its font's size in points,
 * a narrower panel than a file's and a larger font, so that its text stays
 * legible when a phone shows it at the screen's width (~380 pixels). */
#define MS_FIG_PANEL_W 480
#define MS_FIG_PANEL_PT 12

/* The files a figure is drawn into, and gnuplot's terminal for each
 * (plot_script.c). */
enum { MS_FIG_PNG, MS_FIG_SVG, MS_FIG_PDF, MS_FIG_NFORMATS };
typedef struct ms_fig_format {
    const char *ext, *term;
    int inches; /* pdfcairo sizes a page in inches, the others in pixels */
} ms_fig_format;
extern const ms_fig_format ms_fig_formats[MS_FIG_NFORMATS];

/* plot.c: 1 when c has a point of metric m; 1 when a panel of p shows
 * step_loss. */
int ms_fig_has_metric(const ms_fig_curves *c, int m);
int ms_fig_uses_steps(const ms_plot *p);

/* plot.c: a figure drawn by gnuplot from the script `write` writes (into
 * out[k] for each format k of fmask, bit k: ms_fig_formats[k]) in outdir:
 * with svg (fmask holding MS_FIG_SVG only) its SVG's text is returned there
 * and nothing published, else each format is published as NAME.EXT. */
typedef void ms_fig_writer(FILE *f, const void *ctx, char *const out[MS_FIG_NFORMATS]);
int ms_fig_render(const char *gnuplot, const char *outdir, const char *name, unsigned fmask,
                  ms_fig_writer *write, const void *ctx, char **svg, size_t *svglen);

/* plot_script.c: s as a gnuplot string expression that runs nothing (every
 * text of a manifest or a database reaches a script through here); the
 * same for a tic's label (a format too: % doubled). */
void ms_fig_str(FILE *f, const char *s);
void ms_fig_tic(FILE *f, const char *s);
/* Text with line breaks: its lines as ms_fig_str's, joined by "\n". */
void ms_fig_lines(FILE *f, const char *s);

/* grid_plot.c: the script drawing figure k of a grid (ms_grid_nfigs;
 * ctx: an ms_grid_fig). */
typedef struct ms_grid_fig {
    const ms_grid *g;
    int k;
} ms_grid_fig;
void ms_grid_script(FILE *f, const void *grid, char *const out[MS_FIG_NFORMATS]);

/* plot_script.c: each variant drawn (n > 0) its colour, the reference
 * black; the script drawing fig (an ms_fig) into out[k] for each format k whose out[k]
 * is not NULL. */
void ms_fig_colors(ms_fig *fg);
void ms_fig_script(FILE *f, const void *fig, char *const out[MS_FIG_NFORMATS]);
/* What a figure of several seeds draws ("mean of 3 seeds; shaded: min to
 * max"), malloc'd; NULL with one seed. The files' title says it below the
 * figure's; the report's caption says it. */
char *ms_fig_note(const ms_fig *fg);

#endif
