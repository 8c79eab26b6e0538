/* ms_report, figures: the gnuplot script of a figure (plot_fig.h). plot.c
 * gathers the curves and runs gnuplot; this file writes what gnuplot is
 * told: the data inline ($name << EOD blocks), then for each format the
 * terminal, the title and one panel a metric group, with its title, its
 * axes, its bands and lines, and its legend below the axes. */
#include "ms_plot.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot_fig.h"

/* ---- the script ---- */

/* A step_loss curve: the course's plot_loss averages chunks of
 * npoints_to_average steps (a figure's step_average, 10 by default) and
 * shades one standard deviation around each mean. */
#define STEP_WIDTH "1.0" /* its line width: thinner than the validation curves' */

/* A string as a gnuplot string expression of single-quoted parts: gnuplot
 * expands nothing inside single quotes (no backquotes, no escapes). A quote
 * in the text ends the part and is added as the constant "'" (the doubled ''
 * form fails at the start of a string). Every string from a manifest or a
 * database reaches the script through here, so user text stays data gnuplot
 * cannot evaluate. A control character (a line break would end the command)
 * becomes a space. Only where gnuplot takes an expression: titles, output. */
static const char *gp_esc(long cp, char buf[8])
{
    (void)buf;
    return cp == '\'' ? "' . \"'\" . '" : ms_is_control(cp) ? " " : NULL;
}

void ms_fig_str(FILE *f, const char *s)
{
    fputc('\'', f);
    ms_put_text(f, s, gp_esc);
    fputc('\'', f);
}

/* A tic's label is also a format (its position's number), so a % is doubled. */
static const char *gp_tic_esc(long cp, char buf[8])
{
    return cp == '%' ? "%%" : gp_esc(cp, buf);
}

void ms_fig_tic(FILE *f, const char *s)
{
    fputc('\'', f);
    ms_put_text(f, s, gp_tic_esc);
    fputc('\'', f);
}

/* Text with real line breaks, as single-quoted lines joined by the string
 * operator: 'line 1' . "\n" . 'line 2' (only the constant "\n" is double-quoted). */
void ms_fig_lines(FILE *f, const char *s)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char *line = ms_xstrfmt("%.*s", (int)n, s);
        ms_fig_str(f, line);
        free(line);
        if (!nl)
            break;
        fputs(" . \"\\n\" . ", f);
        s = nl + 1;
    }
}

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
#define NPALETTE ((int)(sizeof palette / sizeof palette[0]))

void ms_fig_colors(ms_fig *fg)
{
    const ms_plot *p = fg->p;
    int ncolor = 0;
    for (int v = 0; v < p->nvariants; v++)
        if (fg->cv[v].n)
            fg->color[v] = v == p->reference ? "#000000" : palette[ncolor++ % NPALETTE];
}

static const char *const metric_label[MS_METRIC_N] = {
    "training batch loss", "training loss", "validation loss", "training accuracy",
    "validation accuracy", "training loss per step"};
static const char *const metric_short[MS_METRIC_N] = {"train batches", "train", "val", "train",
                                                      "val", "train"};

/* A panel's title for metric m, and its legend entry (step_loss says how
 * many steps a point averages). Static buffers: use before the next call. */
static const char *title_of(const ms_plot *p, int m)
{
    static char buf[96];
    if (m != MS_METRIC_STEP_LOSS || p->step_average == 1)
        return metric_label[m];
    snprintf(buf, sizeof buf, "%s (mean and std of %d steps)", metric_label[m], p->step_average);
    return buf;
}

static const char *short_of(const ms_plot *p, int m)
{
    static char buf[64];
    if (m != MS_METRIC_STEP_LOSS)
        return metric_short[m];
    if (p->step_average == 1)
        return "train, each step";
    snprintf(buf, sizeof buf, "train, %d-step mean", p->step_average);
    return buf;
}

/* Dash type by role: validation solid, training dashed, batch dotted;
 * the noisy per-step loss thin and solid over its band (step_width). */
static int dash_of(ms_metric m)
{
    if (m == MS_METRIC_BATCH_LOSS)
        return 3;
    if (m == MS_METRIC_STEP_LOSS)
        return 1;
    return m == MS_METRIC_TRAIN_LOSS || m == MS_METRIC_TRAIN_ACC ? 2 : 1;
}

/* y range of a panel: the values (band included) with a margin, ignoring
 * the first 5% of the x range, the start of training, where the loss is
 * many times its later values and the accuracy far below them. Never below
 * 0, accuracy never above 100. Returns 0 when the panel has no data. */
static int panel_range(const ms_fig *fg, const ms_plot_panel *pn, int acc, int logy, double *y0,
                       double *y1)
{
    double xmin = INFINITY, xmax = -INFINITY;
    for (int v = 0; v < fg->p->nvariants; v++)
        for (int k = 0; k < fg->cv[v].n; k++) {
            xmin = fmin(xmin, fg->cv[v].x[k]);
            xmax = fmax(xmax, fg->cv[v].x[k]);
        }
    if (!(xmin <= xmax))
        return 0;
    double cut = xmin + 0.05 * (xmax - xmin), lo = INFINITY, hi = -INFINITY;
    for (int pass = 0; pass < 2 && !(lo <= hi); pass++) /* pass 1: everything */
        for (int v = 0; v < fg->p->nvariants; v++)
            for (int i = 0; i < pn->nmetrics; i++) {
                const ms_fig_curves *c = &fg->cv[v];
                int m = pn->metrics[i];
                for (int k = 0; k < c->n; k++)
                    if (c->cnt[m][k] && (pass || c->x[k] >= cut)) {
                        lo = fmin(lo, c->lo[m][k]);
                        hi = fmax(hi, c->hi[m][k]);
                    }
            }
    if (!(lo <= hi))
        return 0;
    if (logy) {
        *y0 = lo > 0 ? lo / 1.25 : 1e-3;
        *y1 = hi > 0 ? hi * 1.25 : 1;
        return 1;
    }
    double span = hi - lo, pad = acc ? 1 : 0.01;
    if (span < pad)
        span = pad;
    *y0 = fmax(0, lo - 0.08 * span);
    *y1 = hi + 0.08 * span;
    if (acc && *y1 > 100)
        *y1 = 100;
    return 1;
}

static void write_data(FILE *f, const ms_fig *fg)
{
    const ms_plot *p = fg->p;
    for (int v = 0; v < p->nvariants; v++)
        for (int m = 0; m < MS_METRIC_N; m++) {
            const ms_fig_curves *c = &fg->cv[v];
            if (!c->n || !ms_fig_has_metric(c, m))
                continue;
            fprintf(f, "$d%d_%d << EOD\n", v, m);
            for (int k = 0; k < c->n; k++)
                if (c->cnt[m][k])
                    fprintf(f, "%.17g %.17g %.17g %.17g\n", c->x[k], c->mean[m][k], c->lo[m][k],
                            c->hi[m][k]);
            fputs("EOD\n", f);
        }
}

/* A curve's legend entry: the variant (or only `what` when the figure has
 * one variant), "(reference)", and the seed count when variants differ. */
static const char *curve_label(const ms_fig *fg, int v, const char *what)
{
    static char label[256];
    const ms_fig_curves *c = &fg->cv[v];
    size_t k;
    if (what)
        k = (size_t)snprintf(label, sizeof label, "%s", what);
    else
        k = (size_t)snprintf(label, sizeof label, "%s%s", c->variant,
                             v == fg->p->reference ? " (reference)" : "");
    if (k < sizeof label && !fg->same_seeds && c->nseeds > 1)
        snprintf(label + k, sizeof label - k, ", %d seeds", c->nseeds);
    return label;
}

/* Entries of a panel's legend and the longest one, in characters. */
static void legend_size(const ms_fig *fg, const ms_plot_panel *pn, int nshown, int *count,
                        int *maxlen)
{
    int compact = nshown > 1 && pn->nmetrics > 1;
    *count = *maxlen = 0;
    for (int v = 0; v < fg->p->nvariants; v++) {
        const ms_fig_curves *c = &fg->cv[v];
        int any = 0;
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            if (!c->n || !ms_fig_has_metric(c, m))
                continue;
            any = 1;
            if (compact)
                continue;
            const char *what = nshown == 1 && pn->nmetrics > 1 ? short_of(fg->p, m) : NULL;
            int k = (int)strlen(curve_label(fg, v, what));
            ++*count;
            *maxlen = k > *maxlen ? k : *maxlen;
        }
        if (compact && any) {
            int k = (int)strlen(curve_label(fg, v, NULL));
            ++*count;
            *maxlen = k > *maxlen ? k : *maxlen;
        }
    }
    for (int i = 0; compact && i < pn->nmetrics; i++) {
        int k = (int)strlen(short_of(fg->p, pn->metrics[i]));
        ++*count;
        *maxlen = k > *maxlen ? k : *maxlen;
    }
}

/* The rows a panel's legend takes below it: gnuplot fills a row with as
 * many entries as fit the panel's width (estimates in pixels of the 11 pt
 * font: a sample line and spacing, 7.5 a character). */
static int legend_rows(const ms_fig *fg, const ms_plot_panel *pn, int nshown, int panel_w)
{
    int count, maxlen;
    legend_size(fg, pn, nshown, &count, &maxlen);
    int cols = (int)((panel_w - 40) / (maxlen * 7.5 + 75));
    cols = cols < 1 ? 1 : cols;
    return (count + cols - 1) / cols;
}

/* A panel of several metrics titled by all of them, a last word they share
 * said once ("training and validation loss"); malloc'd. */
static char *panel_title(const ms_plot *p, const ms_plot_panel *pn)
{
    if (pn->nmetrics == 1)
        return ms_strdup(title_of(p, pn->metrics[0]));
    const char *last = strrchr(metric_label[pn->metrics[0]], ' ');
    int shared = last != NULL;
    for (int i = 1; shared && i < pn->nmetrics; i++) {
        const char *l = metric_label[pn->metrics[i]], *sp = strrchr(l, ' ');
        shared = sp && !strcmp(sp, last);
    }
    char *t = ms_strdup("");
    for (int i = 0; i < pn->nmetrics; i++) {
        const char *l = metric_label[pn->metrics[i]];
        int keep = shared && i + 1 < pn->nmetrics ? (int)(strrchr(l, ' ') - l) : (int)strlen(l);
        char *next = ms_xstrfmt("%s%s%.*s", t,
                                i == 0 ? "" : i + 1 == pn->nmetrics ? " and " : ", ", keep, l);
        free(t);
        t = next;
    }
    return t;
}

/* A panel's axes and title. */
static void write_axes(FILE *f, const ms_fig *fg, const ms_plot_panel *pn)
{
    const ms_plot *p = fg->p;
    int acc = ms_metric_is_acc(pn->metrics[0]), logy = !acc && p->log_loss;
    double y0 = 0, y1 = 0;
    int ranged = panel_range(fg, pn, acc, logy, &y0, &y1);
    fprintf(f, "set xlabel '%s'\n", fg->x_epoch ? "epoch" : "training step");
    fputs("set xrange [0:*]\nset autoscale xfixmax\n", f); /* the axis ends with the data */
    fprintf(f, "set ylabel '%s'\n", acc ? "accuracy (%)" : "cross-entropy loss");
    fputs(logy ? "set logscale y\n" : "unset logscale y\n", f);
    if (ranged)
        fprintf(f, "set yrange [%.17g:%.17g]\n", y0, y1);
    else
        fputs("set yrange [*:*]\n", f);
    if (ranged && logy && y0 > 0) {
        /* 1, 2 and 5 per decade: a loss axis often spans a decade or two,
         * which gnuplot's default (one tic per decade) leaves nearly bare. */
        int e0 = (int)floor(log10(y0)), e1 = (int)ceil(log10(y1)), n = 0;
        fputs("set ytics (", f);
        for (int e = e0; e <= e1; e++)
            for (int i = 0; i < (log10(y1 / y0) > 3 ? 1 : 3); i++) {
                double t = (i == 0 ? 1 : i == 1 ? 2 : 5) * pow(10, e);
                if (t >= y0 && t <= y1)
                    fprintf(f, "%s'%g' %.17g", n++ ? ", " : "", t, t);
            }
        fputs(")\n", f);
    } else
        fputs("set ytics autofreq\n", f);
    char *title = panel_title(p, pn); /* our own words: no quote to escape */
    fprintf(f, "set title '%s'\n", title);
    free(title);
}

/* A panel's plot command: the bands, a line per variant and metric, and
 * the legend's entries. */
static void write_plot(FILE *f, const ms_fig *fg, const ms_plot_panel *pn, int nshown)
{
    const ms_plot *p = fg->p;
    int first = 1;
    fputs("plot ", f);
    /* Bands first, under every line. */
    for (int v = 0; v < p->nvariants; v++)
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            /* a step_loss band is its chunks' spread: there with one seed too,
             * none for single steps */
            int band = m == MS_METRIC_STEP_LOSS ? p->step_average > 1 : fg->cv[v].nseeds > 1;
            if (!band || !ms_fig_has_metric(&fg->cv[v], m))
                continue;
            fprintf(f, "%s$d%d_%d using 1:3:4 with filledcurves lc rgb '%s' fs transparent solid 0.18 "
                    "noborder notitle", first ? "" : ", \\\n     ", v, m, fg->color[v]);
            first = 0;
        }
    /* Several variants with several metrics: colour tells the variants and
     * dash the metrics apart, so the legend lists each once (entries drawn
     * from NaN: no data, just a line in the key). */
    int compact = nshown > 1 && pn->nmetrics > 1;
    for (int v = 0; v < p->nvariants; v++) {
        const ms_fig_curves *c = &fg->cv[v];
        const char *lw = v == p->reference ? "2.2" : "1.8";
        int drawn = 0;
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            if (!c->n || !ms_fig_has_metric(c, m))
                continue;
            fprintf(f, "%s$d%d_%d using 1:2 with lines lc rgb '%s' dt %d lw %s ",
                    first ? "" : ", \\\n     ", v, m, fg->color[v],
                    pn->nmetrics > 1 ? dash_of((ms_metric)m) : 1,
                    m == MS_METRIC_STEP_LOSS ? STEP_WIDTH : lw);
            first = 0;
            drawn = 1;
            if (compact) {
                fputs("notitle", f);
                continue;
            }
            fputs("title ", f);
            ms_fig_str(f, curve_label(fg, v, nshown == 1 && pn->nmetrics > 1 ? short_of(p, m) : NULL));
        }
        if (compact && drawn) {
            fprintf(f, ", \\\n     NaN with lines lc rgb '%s' dt 1 lw %s title ", fg->color[v], lw);
            ms_fig_str(f, curve_label(fg, v, NULL));
        }
    }
    for (int i = 0; compact && i < pn->nmetrics; i++)
        fprintf(f, ", \\\n     NaN with lines lc rgb '#555555' dt %d lw %s title '%s'",
                dash_of(pn->metrics[i]), pn->metrics[i] == MS_METRIC_STEP_LOSS ? STEP_WIDTH : "1.8",
                short_of(p, pn->metrics[i]));
    if (first) /* no data for this panel's metrics */
        fputs("NaN notitle", f);
    fputc('\n', f);
}

/* The variants drawn. */
static int shown(const ms_fig *fg)
{
    int n = 0;
    for (int v = 0; v < fg->p->nvariants; v++)
        n += fg->cv[v].n > 0;
    return n;
}

/* The most rows any panel's legend takes: every panel keeps that much
 * room below its axes, so their plotting areas line up. */
static int figure_legend_rows(const ms_fig *fg, int panel_w)
{
    int rows = 1;
    for (int i = 0; i < fg->p->npanels; i++) {
        int r = legend_rows(fg, &fg->p->panels[i], shown(fg), panel_w);
        rows = r > rows ? r : rows;
    }
    return rows;
}

/* The formats' order is their bit in draw's fmask (plot.c). */
const ms_fig_format ms_fig_formats[MS_FIG_NFORMATS] = {
    {"png", "pngcairo", 0}, {"svg", "svg dynamic", 0}, {"pdf", "pdfcairo", 1}};

char *ms_fig_note(const ms_fig *fg)
{
    if (fg->seeds <= 1)
        return NULL;
    char n[32] = "seeds";
    if (fg->same_seeds)
        snprintf(n, sizeof n, "%d seeds", fg->seeds);
    /* a step_loss band is its chunks' standard deviation instead */
    return ms_xstrfmt("mean of %s; shaded: min to max%s", n,
                      ms_fig_uses_steps(fg->p) && fg->p->step_average > 1 ? ", for steps: one std"
                                                                          : "");
}

/* The terminal of format fmt at w x h pixels and pt points, writing to out. */
static void write_terminal(FILE *f, int fmt, int w, int h, int pt, const char *out)
{
    if (ms_fig_formats[fmt].inches) /* the same shape at 100 pixels an inch */
        fprintf(f, "set terminal %s size %.1fin,%.2fin noenhanced font 'Sans,%d' background rgb "
                   "'white'\n",
                ms_fig_formats[fmt].term, w / 100.0, h / 100.0, pt);
    else
        fprintf(f, "set terminal %s size %d,%d noenhanced font 'Sans,%d' background rgb 'white'\n",
                ms_fig_formats[fmt].term, w, h, pt);
    fputs("set output ", f);
    ms_fig_str(f, out);
    fputc('\n', f);
}

/* The legend sits below each panel's axes, outside them: it hides no
 * curve. The figure grows by its rows, so the axes keep their height. One
 * panel of the report's (fg->panel) is drawn alone, without the figure's
 * title (its caption), its axes as high as a file's. */
static void write_figure(FILE *f, const ms_fig *fg, int fmt, const char *out)
{
    const ms_plot *p = fg->p;
    int alone = fg->panel >= 0;
    int pw = alone ? MS_FIG_PANEL_W : p->npanels == 1 ? 800 : 600, w = alone ? pw : pw * p->npanels;
    /* the legend's estimate is in 11 pt characters: a larger font, a narrower panel */
    int pt = alone ? MS_FIG_PANEL_PT : 11, rows = figure_legend_rows(fg, pw * 11 / pt);
    int h = alone ? 420 + 22 * rows : 480 + 20 * rows;
    write_terminal(f, fmt, w, h, pt, out);
    /* room for the tics, the x label and the legend's rows, the same in every panel */
    fprintf(f, "set key below center horizontal Left reverse width 2\nset bmargin %d\n", 4 + rows);
    if (alone) {
        write_axes(f, fg, &p->panels[fg->panel]);
        write_plot(f, fg, &p->panels[fg->panel], shown(fg));
        fputs("set output\n", f);
        return;
    }
    fprintf(f, "set multiplot layout 1,%d title ", p->npanels);
    char *note = ms_fig_note(fg);
    if (note) {
        char *t = ms_xstrfmt("%s\n(%s)", p->title, note);
        ms_fig_lines(f, t);
        free(t);
    } else
        ms_fig_lines(f, p->title);
    free(note);
    fputs(" font 'Sans,14'\n", f);
    for (int i = 0; i < p->npanels; i++) {
        write_axes(f, fg, &p->panels[i]);
        write_plot(f, fg, &p->panels[i], shown(fg));
    }
    fputs("unset multiplot\nset output\n", f);
}

void ms_fig_script(FILE *f, const void *fig, char *const out[MS_FIG_NFORMATS])
{
    const ms_fig *fg = fig;
    /* The name is checked plain (letters, digits, _ . -); a comment line
     * ending in a backslash would continue onto the next. */
    fprintf(f, "# mlpsweep plot %s\nreset\nset encoding utf8\n", fg->p->name);
    fputs("set grid xtics ytics lt 1 lc rgb '#dddddd' lw 1\n"
          "set key noopaque nobox samplen 3 spacing 1.1\n"
          "set border lc rgb '#444444'\nset tics nomirror\n",
          f);
    write_data(f, fg);
    for (int k = 0; k < MS_FIG_NFORMATS; k++)
        if (out[k])
            write_figure(f, fg, k, out[k]);
}
