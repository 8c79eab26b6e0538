/* ms_report, figures: a grid's figure as a gnuplot script (plot_fig.h).
 * Two axes: a heatmap of the metric's means, the pivot's cells (rows: the
 * first axis, top to bottom as export --pivot lists them; columns: the
 * second), each cell annotated with its value and the best one framed.
 * Three or more: parallel coordinates, one vertical axis per setting (its
 * values as tics; log spaced where they span 10x or more) and one for the
 * metric, a line per configuration coloured by the metric, the best drawn
 * last (on top). A search: the metric against each searched setting.
 * plot.c runs gnuplot and publishes the files. */
#define _POSIX_C_SOURCE 200809L
#include "ms_grid.h"
#include "ms_metrics.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_fig.h"

/* Light to dark: black text reads on every cell (heatmap); the lines of
 * parallel coordinates stand out on white from end to end. */
#define HEAT_PALETTE "(0 '#fff7bc', 0.5 '#a1dab4', 1 '#41b6c4')"
#define LINE_PALETTE "(0 '#e34a33', 0.5 '#9e9ac8', 1 '#08519c')"

/* A search's figures: the metric against each setting, the trials'
 * learning curves with their rung decisions, and (two settings or more)
 * parallel coordinates; a grid's: its heatmap or parallel coordinates. */
enum { FIG_SETTINGS, FIG_CURVES, FIG_PARALLEL };
static const char *const fig_kind[] = {"settings", "curves", "parallel"};

int ms_grid_nfigs(const ms_grid *g)
{
    const char *n = g->name;
    int any = 0;
    for (int i = 0; i < g->nconfigs; i++)
        any |= !isnan(g->configs[i].stat.mean);
    if (g->naxes < (g->search ? 1 : 2) || !any || !*n || *n == '.' || strlen(n) > 200 ||
        n[strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
        return 0;
    return g->search ? 2 + (g->naxes >= 2) : 1;
}

/* Figure k of g as what it shows. */
static int fig_of(const ms_grid *g, int k)
{
    return g->search ? k : g->naxes == 2 ? -1 : FIG_PARALLEL;
}

char *ms_grid_fig_name(const ms_grid *g, int k)
{
    if (k < 0 || k >= ms_grid_nfigs(g))
        return NULL;
    int f = fig_of(g, k);
    return ms_xstrfmt("%s-%s", g->name, f < 0 ? "heatmap" : fig_kind[f]);
}

/* A value of the metric as a cell or a tic shows it: an accuracy in %. */
static double shown(const ms_grid *g, double v) { return g->acc ? 100 * v : v; }

static void value_text(const ms_grid *g, double v, char *buf, size_t n)
{
    if (g->acc)
        snprintf(buf, n, "%.2f", 100 * v);
    else
        snprintf(buf, n, "%.4g", v);
}

/* "G: val acc (%), mean of N seeds" (or "of 1 to N seeds"). */
static void title(FILE *f, const ms_grid *g, const char *how)
{
    int lo = 0, hi = 0;
    for (int i = 0; i < g->nconfigs; i++) {
        int k = g->configs[i].stat.n;
        lo = i == 0 || k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    const char *what = g->search ? "search" : "grid";
    char *t = lo == hi ? ms_xstrfmt("%s %s: %s\nmean of %d seed%s%s", what, g->name, g->head, hi,
                                    hi == 1 ? "" : "s", how)
                       : ms_xstrfmt("%s %s: %s\nmean of %d to %d seeds%s", what, g->name,
                                    g->head, lo, hi, how);
    fputs("set title ", f);
    ms_fig_lines(f, t); /* two short lines: the figure is narrow */
    fputs(" font 'Sans,16'\n", f);
    free(t);
}

/* "set xtics (...)" of an axis' values at 0, 1, ... */
static void category_tics(FILE *f, const char *which, const ms_grid_axis *a)
{
    fprintf(f, "set %s (", which);
    for (int j = 0; j < a->nvalues; j++) {
        fputs(j ? ", " : "", f);
        ms_fig_tic(f, a->values[j]);
        fprintf(f, " %d", j);
    }
    fputs(") scale 0\n", f);
}

static void heatmap(FILE *f, const ms_grid *g)
{
    const ms_grid_axis *rows = &g->axes[0], *cols = &g->axes[1];
    int nr = rows->nvalues, nc = cols->nvalues;
    char buf[32];
    fputs("$cells << EOD\n", f);
    for (int i = 0; i < nr; i++)
        for (int j = 0; j < nc; j++) {
            double v = g->cells[i * nc + j];
            if (isnan(v))
                continue;
            value_text(g, v, buf, sizeof buf);
            fprintf(f, "%d %d %.17g \"%s\"\n", j, i, shown(g, v), buf);
        }
    fputs("EOD\n", f);
    const ms_grid_config *best = &g->configs[0];
    fprintf(f,
            "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\nset border lc rgb '#444444'\n"
            "set palette defined " HEAT_PALETTE "\nset object 1 rect center %d,%d size 0.96,0.92 "
            "front fs empty border lc rgb '#000000' lw 3\n",
            nc - 1, nr - 1, best->at[1], best->at[0]);
    category_tics(f, "xtics", cols);
    category_tics(f, "ytics", rows);
    fputs("set xlabel ", f);
    ms_fig_str(f, cols->key);
    fputs(" font 'Sans,16'\nset ylabel ", f);
    ms_fig_str(f, rows->key);
    fputs(" font 'Sans,16'\nset cblabel ", f);
    ms_fig_str(f, g->head);
    fputc('\n', f);
    title(f, g, "; framed: the best");
    fputs("plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder fc palette "
          "notitle, '' using 1:2:4 with labels font 'Sans,17' notitle\n",
          f);
}

/* Tics of a search's axis over [lo, hi] (log10 of the values on a log
 * axis): 1, 2 and 5 times the powers of ten on a log axis; else about five
 * steps of 1, 2 or 5 times a power of ten. */
static void search_tics(FILE *f, int log, double lo, double hi)
{
    int n = 0;
    if (log) {
        for (int e = (int)floor(lo); e <= (int)ceil(hi); e++)
            for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
                double x = log10(m) + e;
                if (x >= lo - 1e-9 && x <= hi + 1e-9)
                    fprintf(f, "%s\"%g\" %.17g", n++ ? ", " : "", m * pow(10, e), x);
            }
        return;
    }
    double span = hi > lo ? hi - lo : 1, step = pow(10, floor(log10(span / 5)));
    step *= span / step > 25 ? 5 : span / step > 10 ? 2 : 1;
    for (double x = ceil(lo / step) * step; x <= hi + 1e-9 * span; x += step)
        fprintf(f, "%s\"%g\" %.17g", n++ ? ", " : "", fabs(x) < 1e-12 * span ? 0 : x, x);
}

/* Parallel axis a + 1: its range and its values as tics (log10 on a log
 * axis, whose line positions are log10 too). */
static void setting_axis(FILE *f, const ms_grid *g, int a)
{
    const ms_grid_axis *ax = &g->axes[a];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < g->nconfigs; i++) {
        double x = ax->log ? log10(g->configs[i].x[a]) : g->configs[i].x[a];
        lo = fmin(lo, x);
        hi = fmax(hi, x);
    }
    double pad = hi > lo ? 0.06 * (hi - lo) : 0.5;
    fprintf(f, "set paxis %d range [%.17g:%.17g]\nset paxis %d tics (", a + 1, lo - pad, hi + pad,
            a + 1);
    if (g->search) { /* a search's values are too many to label: round ones instead */
        search_tics(f, ax->log, lo, hi);
        fputs(") right offset -0.5,0 scale 0.5 font 'Sans,14'\n", f);
        return;
    }
    for (int j = 0; j < ax->nvalues; j++) {
        double x = ax->numeric ? strtod(ax->values[j], NULL) : j;
        fputs(j ? ", " : "", f);
        ms_fig_tic(f, ax->values[j]);
        fprintf(f, " %.17g", ax->log ? log10(x) : x);
    }
    fputs(") right offset -0.5,0 scale 0.5 font 'Sans,14'\n", f); /* left of the axis */
}

static void parallel(FILE *f, const ms_grid *g)
{
    int na = g->naxes;
    double lo = INFINITY, hi = -INFINITY;
    fputs("$lines << EOD\n", f);
    for (int i = g->nconfigs - 1; i >= 0; i--) { /* the best last: drawn on top */
        const ms_grid_config *c = &g->configs[i];
        if (isnan(c->stat.mean))
            continue;
        for (int a = 0; a < na; a++)
            fprintf(f, "%.17g ", g->axes[a].log ? log10(c->x[a]) : c->x[a]);
        double v = shown(g, c->stat.mean);
        lo = fmin(lo, v), hi = fmax(hi, v);
        fprintf(f, "%.17g\n", v);
    }
    fputs("EOD\nset border 0\nunset ytics\nset xtics (", f);
    for (int a = 0; a <= na; a++) {
        char *label = a < na ? ms_xstrfmt("%s%s", g->axes[a].key, g->axes[a].log ? " (log)" : "")
                             : ms_strdup(g->head);
        fputs(a ? ", " : "", f);
        ms_fig_tic(f, label);
        fprintf(f, " %d", a + 1);
        free(label);
    }
    fprintf(f, ") scale 0 nomirror font 'Sans,15'\nset xrange [0.7:%d.4]\n", na + 1);
    for (int a = 0; a < na; a++)
        setting_axis(f, g, a);
    double pad = hi > lo ? 0.06 * (hi - lo) : 0.5;
    fprintf(f,
            "set paxis %d range [%.17g:%.17g]\nset paxis %d tics right offset -0.5,0 scale 0.5 "
            "font 'Sans,14'\nset cbrange [%.17g:%.17g]\nset palette defined " LINE_PALETTE
            "\nset style parallelaxis lw 1.5 lc rgb '#444444'\nset cblabel ",
            na + 1, lo - pad, hi + pad, na + 1, lo, hi > lo ? hi : lo + 1);
    ms_fig_str(f, g->head);
    fputc('\n', f);
    title(f, g, "");
    fprintf(f,
            "plot $lines using 1:%d with parallelaxes lw 3 lc palette notitle, for [c=2:%d] "
            "$lines using c with parallelaxes notitle\n",
            na + 1, na + 1);
}

/* A search: the metric against each searched setting, a panel each (log
 * where the values span 10x or more), each trial a point coloured by the
 * epochs it trained (the pruned ones light). */
static void settings(FILE *f, const ms_grid *g)
{
    double emax = 1;
    fputs("$trials << EOD\n", f);
    for (int i = g->nconfigs - 1; i >= 0; i--) { /* the best last: drawn on top */
        const ms_grid_config *c = &g->configs[i];
        if (isnan(c->stat.mean))
            continue;
        for (int a = 0; a < g->naxes; a++)
            fprintf(f, "%.17g ", c->x[a]);
        fprintf(f, "%.17g %.17g\n", shown(g, c->stat.mean), c->epochs);
        emax = fmax(emax, c->epochs);
    }
    fprintf(f, "EOD\nset palette defined (0 '#d9d9d9', 0.5 '#9e9ac8', 1 '#08519c')\n"
               "set cbrange [0:%.17g]\nset cblabel 'epochs trained'\nset grid lc rgb '#dddddd'\n"
               "set multiplot layout 1,%d title ",
            emax, g->naxes);
    char *t = ms_xstrfmt("Search %s: %s against each setting (darker: trained further)", g->name,
                         g->head);
    ms_fig_str(f, t);
    free(t);
    fputs(" font 'Sans,17'\n", f);
    for (int a = 0; a < g->naxes; a++) {
        const ms_grid_axis *ax = &g->axes[a];
        fputs(ax->log ? "set logscale x\n" : "unset logscale x\n", f);
        fputs("set xlabel ", f);
        ms_fig_str(f, ax->key);
        fputs(" font 'Sans,16'\nset ylabel ", f);
        ms_fig_str(f, g->head);
        /* the colour bar beside the last panel, with room for its labels */
        fprintf(f, " font 'Sans,16'\n%s\nplot $trials using %d:%d:%d with points pt 7 ps 1.6 lc "
                   "palette notitle\n",
                a + 1 < g->naxes ? "unset colorbox\nset rmargin" : "set colorbox\nset rmargin 16",
                a + 1, g->naxes + 1, g->naxes + 2);
    }
    fputs("unset multiplot\n", f);
}

/* A search's trials' learning curves: the search's metric at each epoch
 * (log epochs: the rungs are evenly spaced), a line per trial coloured by
 * the epochs it trained, and each rung decision marked where it was taken:
 * promoted (a dot) or stopped (a cross). */
static void curves(FILE *f, const ms_grid *g)
{
    double emax = 1;
    int np = 0, ns = 0;
    fputs("$curves << EOD\n", f);
    for (int i = g->nconfigs - 1; i >= 0; i--) { /* the best last: drawn on top */
        const ms_grid_config *c = &g->configs[i];
        for (int e = 0; e < c->ncurve; e++)
            fprintf(f, "%d %.17g %.17g\n", e + 1, c->curve[e], c->epochs);
        emax = fmax(emax, c->ncurve);
        for (int m = 0; m < c->nmarks; m++)
            c->marks[m].promote ? np++ : ns++;
        if (c->ncurve)
            fputs("\n", f); /* a blank line: the next trial is another line */
    }
    fputs("EOD\n", f);
    for (int p = 1; p >= 0; p--) {
        fprintf(f, "$%s << EOD\n", p ? "promoted" : "stopped");
        for (int i = 0; i < g->nconfigs; i++)
            for (int m = 0; m < g->configs[i].nmarks; m++)
                if (g->configs[i].marks[m].promote == p && !isnan(g->configs[i].marks[m].value))
                    fprintf(f, "%d %.17g\n", g->configs[i].marks[m].epoch,
                            g->configs[i].marks[m].value);
        fputs("EOD\n", f);
    }
    const char *metric = ms_metric_name((ms_metric)g->curve_metric);
    fprintf(f, "set logscale x\nset xrange [0.9:%.17g]\nset xlabel 'epoch (log scale)' font "
               "'Sans,16'\nset ylabel '%s' font 'Sans,16'\nset grid lc rgb '#dddddd'\n"
               "set palette defined (0 '#d9d9d9', 0.5 '#9e9ac8', 1 '#08519c')\nset cbrange "
               "[0:%.17g]\nset cblabel 'epochs trained'\nset key top right box opaque\n",
            emax * 1.1, metric, emax);
    char *t = ms_xstrfmt("Search %s: each trial's %s, its rung decisions marked", g->name, metric);
    fputs("set title ", f);
    ms_fig_str(f, t);
    free(t);
    fputs(" font 'Sans,17'\n", f);
    /* a loss spans decades between the first rung and the last */
    if (g->curve_metric == MS_METRIC_TRAIN_LOSS || g->curve_metric == MS_METRIC_VAL_LOSS)
        fprintf(f, "set logscale y\nset ylabel '%s (log scale)'\n", metric);
    fputs("plot $curves using 1:2:3 with lines lw 2 lc palette notitle", f);
    if (ns)
        fputs(", $stopped using 1:2 with points pt 2 ps 1.6 lw 2.5 lc rgb '#d73027' title "
              "'stopped'",
              f);
    if (np) /* on top */
        fputs(", $promoted using 1:2 with points pt 7 ps 1.3 lc rgb '#1a9850' title 'promoted'", f);
    fputc('\n', f);
}

/* The figure's size in pixels: room for each cell or axis. */
static void fig_size(const ms_grid *g, int fig, int *w, int *h)
{
    if (fig == FIG_CURVES) {
        *w = 900;
        *h = 560;
    } else if (fig == FIG_SETTINGS) {
        *w = 120 + 520 * g->naxes;
        *h = 520;
    } else if (fig == FIG_PARALLEL) {
        *w = 140 + 170 * (g->naxes + 1);
        *h = 520;
    } else { /* a heatmap */
        *w = 250 + 110 * g->axes[1].nvalues;
        *h = 170 + 70 * g->axes[0].nvalues;
    }
    *w = *w < 440 ? 440 : *w;
    *h = *h < 360 ? 360 : *h;
}

void ms_grid_script(FILE *f, const void *fig, char *const out[MS_FIG_NFORMATS])
{
    const ms_grid_fig *gf = fig;
    const ms_grid *g = gf->g;
    int kind = fig_of(g, gf->k), w, h;
    fig_size(g, kind, &w, &h);
    fputs("# mlpsweep grid figure\nreset\nset encoding utf8\n", f);
    for (int k = 0; k < MS_FIG_NFORMATS; k++) {
        if (!out[k])
            continue;
        if (ms_fig_formats[k].inches) /* the same shape at 100 pixels an inch */
            fprintf(f, "set terminal %s size %.2fin,%.2fin", ms_fig_formats[k].term, w / 100.0,
                    h / 100.0);
        else
            fprintf(f, "set terminal %s size %d,%d", ms_fig_formats[k].term, w, h);
        fputs(" noenhanced font 'Sans,15' background rgb 'white'\nset output ", f);
        ms_fig_str(f, out[k]);
        fputc('\n', f);
        if (kind == FIG_SETTINGS)
            settings(f, g);
        else if (kind == FIG_CURVES)
            curves(f, g);
        else if (kind == FIG_PARALLEL)
            parallel(f, g);
        else
            heatmap(f, g);
        fputs("set output\nreset\n", f);
    }
}
