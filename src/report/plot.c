/* ms_report, figures: the manifest's `plots:` section drawn with gnuplot.
 *
 * For each figure: take the validation curves (the evals table) of every
 * variant it names from one snapshot of the sweep (ms_snapshot_read, read
 * before the first figure), average them over the variant's seeds (mean,
 * min, max at each step), write ONE gnuplot script holding the data inline
 * ($name << EOD blocks) that draws the figure three times, as PNG
 * (pngcairo), SVG and PDF (pdfcairo), into temporary files beside the final
 * ones, run `gnuplot SCRIPT` as a child process, and rename the files into
 * place only when gnuplot succeeded. So a reader never sees a half-written
 * figure and a failed run leaves the previous figures as they were. */
#define _GNU_SOURCE
#include "ms_plot.h"
#include "ms_query.h"
#include "ms_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- gnuplot ---- */

int ms_plot_find_gnuplot(char **path)
{
    const char *env = getenv("PATH");
    char *list = ms_strdup(env ? env : "/usr/local/bin:/usr/bin:/bin");
    *path = NULL;
    for (char *dir = list, *next; dir; dir = next) {
        next = strchr(dir, ':');
        if (next)
            *next++ = '\0';
        char *p = ms_xstrfmt("%s/gnuplot", *dir ? dir : ".");
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
            *path = p;
            break;
        }
        free(p);
    }
    free(list);
    if (!*path)
        return ms_error("gnuplot not found; install it with 'make deps' (Debian package gnuplot-nox)");
    return 0;
}

/* ---- curves ---- */

/* One variant's curves in a figure: at each x, for each metric, the mean,
 * minimum and maximum over the seeds that have a value there. */
typedef struct curves {
    const char *variant; /* what legends call it: its label, else its name */
    int nseeds; /* runs with at least one validation */
    int n;      /* points */
    double *x;
    double *mean[MS_METRIC_N], *lo[MS_METRIC_N], *hi[MS_METRIC_N];
    int *cnt[MS_METRIC_N];
} curves;

typedef struct sample {
    double x;
    int64_t step;
    double v[MS_METRIC_N];
    double slo, shi; /* step_loss: the band of its chunk (mean -/+ one std) */
} sample;

/* A step_loss curve: the course's plot_loss averages chunks of
 * npoints_to_average steps (a figure's step_average, 10 by default) and
 * shades one standard deviation around each mean. */
#define STEP_WIDTH "1.0" /* its line width: thinner than the validation curves' */

static int cmp_step(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    return x->step < y->step ? -1 : x->step > y->step;
}

/* The step_loss points of a variant's runs, appended to s at *n (room for
 * the runs' steps in all): each step's loss averaged over the seeds (a step
 * only where every seed has one), then chunks of `chunk` consecutive
 * steps: x at the chunk's middle step, the mean, and mean -/+ the standard
 * deviation (population) as the band. Other metrics NaN. */
static void step_points(const ms_query_run *runs, int nruns, int x_epoch, int chunk, sample *s,
                        size_t *n)
{
    size_t total = 0;
    int seeds = 0;
    double spe = 0;
    for (int r = 0; r < nruns; r++) {
        total += (size_t)runs[r].nsteps;
        seeds += runs[r].nsteps > 0;
        if (runs[r].batch > 0)
            spe = (double)(runs[r].train / runs[r].batch);
    }
    if (!total)
        return;
    sample *all = ms_malloc(total * sizeof *all);
    size_t k = 0;
    for (int r = 0; r < nruns; r++)
        for (int i = 0; i < runs[r].nsteps; i++) {
            all[k].step = runs[r].step[i];
            all[k++].x = runs[r].step_loss[i];
        }
    qsort(all, total, sizeof *all, cmp_step);
    /* per step over the seeds, in place: all[0..m) holds (step, mean) */
    size_t m = 0;
    for (size_t i = 0; i < total;) {
        size_t j = i;
        double sum = 0;
        int cnt = 0;
        for (; j < total && all[j].step == all[i].step; j++)
            if (isfinite(all[j].x)) {
                sum += all[j].x;
                cnt++;
            }
        if (cnt == seeds) {
            all[m].step = all[i].step;
            all[m++].x = sum / cnt;
        }
        i = j;
    }
    double *v = ms_malloc((m + 1) * sizeof *v), *mean = ms_malloc((m / chunk + 1) * sizeof *mean),
           *sd = ms_malloc((m / chunk + 1) * sizeof *sd);
    for (size_t i = 0; i < m; i++)
        v[i] = all[i].x;
    size_t nc = ms_plot_chunks(v, m, chunk, mean, sd);
    for (size_t c = 0; c < nc; c++) {
        sample *p = &s[(*n)++];
        p->step = all[c * chunk + chunk / 2].step; /* the chunk's middle step */
        p->x = x_epoch && spe > 0 ? (double)(p->step + 1) / spe : (double)p->step;
        for (int q = 0; q < MS_METRIC_N; q++)
            p->v[q] = NAN;
        p->v[MS_METRIC_STEP_LOSS] = mean[c];
        p->slo = mean[c] - sd[c];
        p->shi = mean[c] + sd[c];
    }
    free(v);
    free(mean);
    free(sd);
    free(all);
}

size_t ms_plot_chunks(const double *v, size_t n, int chunk, double *mean, double *sd)
{
    size_t nc = chunk > 0 ? n / (size_t)chunk : 0;
    for (size_t c = 0; c < nc; c++) {
        const double *x = v + c * (size_t)chunk;
        double sum = 0, var = 0;
        for (int t = 0; t < chunk; t++)
            sum += x[t];
        double mu = sum / chunk;
        for (int t = 0; t < chunk; t++)
            var += (x[t] - mu) * (x[t] - mu);
        mean[c] = mu;
        sd[c] = sqrt(var / chunk);
    }
    return nc;
}

static void curves_release(curves *c)
{
    free(c->x);
    for (int m = 0; m < MS_METRIC_N; m++) {
        free(c->mean[m]);
        free(c->lo[m]);
        free(c->hi[m]);
        free(c->cnt[m]);
    }
    memset(c, 0, sizeof *c);
}

static int cmp_sample(const void *a, const void *b)
{
    const sample *x = a, *y = b;
    return x->x < y->x ? -1 : x->x > y->x;
}

/* A variant's curves from its runs in a snapshot (vc NULL: none); with
 * steps > 0 its step_loss too, `steps` steps a point (the snapshot must
 * hold the runs' steps). */
static void make_curves(const ms_variant_curves *vc, const char *variant, int x_epoch, int steps,
                        curves *c)
{
    const ms_query_run *runs = vc ? vc->runs : NULL;
    int nruns = vc ? vc->nruns : 0;
    memset(c, 0, sizeof *c);
    c->variant = variant;
    size_t n = 0;
    for (int r = 0; r < nruns; r++)
        n += (size_t)runs[r].n + (steps > 0 ? (size_t)runs[r].nsteps / (size_t)steps : 0) + 1;
    sample *s = n ? ms_malloc(n * sizeof *s) : NULL;
    n = 0;
    for (int r = 0; r < nruns; r++) {
        const ms_query_run *q = &runs[r];
        /* the last partial batch is dropped */
        double spe = q->batch > 0 ? (double)(q->train / q->batch) : 0;
        for (int i = 0; i < q->n; i++) {
            sample *p = &s[n++];
            p->step = q->evals[i].step;
            /* epochs of training done when the validation ran */
            p->x = x_epoch && spe > 0 ? (double)(p->step + 1) / spe : (double)p->step;
            for (int m = 0; m < MS_METRIC_N; m++) /* accuracy in % */
                p->v[m] = q->evals[i].v[m] * (ms_metric_is_acc((ms_metric)m) ? 100 : 1);
        }
        c->nseeds += q->n > 0;
    }
    if (steps > 0)
        step_points(runs, nruns, x_epoch, steps, s, &n);
    if (n) {
        /* Seeds of a variant validate at the same steps: group equal x. */
        qsort(s, n, sizeof *s, cmp_sample);
        c->x = ms_malloc(n * sizeof *c->x);
        for (int m = 0; m < MS_METRIC_N; m++) {
            c->mean[m] = ms_malloc(n * sizeof(double));
            c->lo[m] = ms_malloc(n * sizeof(double));
            c->hi[m] = ms_malloc(n * sizeof(double));
            c->cnt[m] = ms_calloc(n, sizeof(int));
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && s[j].x == s[i].x)
                j++;
            int k = c->n++;
            c->x[k] = s[i].x;
            for (int m = 0; m < MS_METRIC_N; m++) {
                double sum = 0, lo = INFINITY, hi = -INFINITY;
                int cnt = 0;
                for (size_t t = i; t < j; t++) {
                    double v = s[t].v[m];
                    if (!isfinite(v))
                        continue;
                    sum += v;
                    double vlo = m == MS_METRIC_STEP_LOSS ? s[t].slo : v;
                    double vhi = m == MS_METRIC_STEP_LOSS ? s[t].shi : v;
                    lo = vlo < lo ? vlo : lo;
                    hi = vhi > hi ? vhi : hi;
                    cnt++;
                }
                /* A point only where every seed has a value: seeds that stopped
                 * early would otherwise make the mean jump where they end.
                 * (step_loss points are over the seeds already.) */
                int have = cnt;
                if (m == MS_METRIC_STEP_LOSS)
                    cnt = cnt ? c->nseeds : 0;
                if (cnt < c->nseeds)
                    cnt = 0;
                c->cnt[m][k] = cnt;
                c->mean[m][k] = cnt ? sum / have : NAN;
                c->lo[m][k] = lo;
                c->hi[m][k] = hi;
            }
            i = j;
        }
    }
    free(s);
}

void ms_plot_curve(const ms_snapshot *snap, const char *variant, ms_metric metric, int x_epoch,
                   int step_average, double **x, double **mean, double **lo, double **hi, int *n)
{
    curves c;
    make_curves(ms_snapshot_curves(snap, variant), variant, x_epoch,
                metric == MS_METRIC_STEP_LOSS ? step_average : 0, &c);
    size_t cap = (size_t)c.n + 1;
    *x = ms_malloc(cap * sizeof **x);
    *mean = ms_malloc(cap * sizeof **mean);
    *lo = ms_malloc(cap * sizeof **lo);
    *hi = ms_malloc(cap * sizeof **hi);
    *n = 0;
    for (int k = 0; k < c.n; k++)
        if (c.cnt[metric][k]) {
            (*x)[*n] = c.x[k];
            (*mean)[*n] = c.mean[metric][k];
            (*lo)[*n] = c.lo[metric][k];
            (*hi)[*n] = c.hi[metric][k];
            ++*n;
        }
    curves_release(&c);
}

static int has_metric(const curves *c, int m)
{
    for (int k = 0; k < c->n; k++)
        if (c->cnt[m][k])
            return 1;
    return 0;
}

/* ---- the script ---- */

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

static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    ms_put_text(f, s, gp_esc);
    fputc('\'', f);
}

/* Text with real line breaks, as single-quoted lines joined by the string
 * operator: 'line 1' . "\n" . 'line 2' (only the constant "\n" is double-quoted). */
static void gp_lines(FILE *f, const char *s)
{
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char *line = ms_xstrfmt("%.*s", (int)n, s);
        gp_str(f, line);
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

typedef struct figure {
    const ms_plot *p;
    curves *cv; /* one per p->variants, n = 0 when skipped */
    const char **color;
    int seeds;      /* the most seeds of any variant drawn */
    int same_seeds; /* every variant drawn has `seeds` seeds */
} figure;

/* y range of a panel: the values (band included) with a margin, ignoring
 * the first 5% of the x range, the start of training, where the loss is
 * many times its later values and the accuracy far below them. Never below
 * 0, accuracy never above 100. Returns 0 when the panel has no data. */
static int panel_range(const figure *fg, const ms_plot_panel *pn, int acc, int logy, double *y0,
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
                const curves *c = &fg->cv[v];
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

static void write_data(FILE *f, const figure *fg)
{
    const ms_plot *p = fg->p;
    for (int v = 0; v < p->nvariants; v++)
        for (int m = 0; m < MS_METRIC_N; m++) {
            const curves *c = &fg->cv[v];
            if (!c->n || !has_metric(c, m))
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
static const char *curve_label(const figure *fg, int v, const char *what)
{
    static char label[256];
    const curves *c = &fg->cv[v];
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
static void legend_size(const figure *fg, const ms_plot_panel *pn, int nshown, int *count,
                        int *maxlen)
{
    int compact = nshown > 1 && pn->nmetrics > 1;
    *count = *maxlen = 0;
    for (int v = 0; v < fg->p->nvariants; v++) {
        const curves *c = &fg->cv[v];
        int any = 0;
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            if (!c->n || !has_metric(c, m))
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

/* The legend goes into the corner of the panel where it hides the fewest
 * points of the curves and bands (ties: the usual corner, top right for a
 * loss and bottom right for an accuracy). Sizes are estimates in pixels of
 * the 11 pt font. */
static const char *key_corner(const figure *fg, const ms_plot_panel *pn, int nshown, int acc,
                              int logy, double y0, double y1, int panel_w)
{
    static const char *const names[4] = {"top right", "bottom right", "top left", "bottom left"};
    static const int order_loss[4] = {0, 3, 2, 1}, order_acc[4] = {1, 2, 3, 0};
    const int *order = acc ? order_acc : order_loss;
    int count, maxlen;
    legend_size(fg, pn, nshown, &count, &maxlen);
    double plot_w = panel_w - 110, plot_h = 320;
    double kw = (maxlen * 7.5 + 75) / plot_w, kh = (count * 18 + 14) / plot_h;
    double xmax = 0;
    for (int v = 0; v < fg->p->nvariants; v++)
        for (int k = 0; k < fg->cv[v].n; k++)
            xmax = fmax(xmax, fg->cv[v].x[k]);
    if (!(xmax > 0) || !(y1 > y0) || (logy && !(y0 > 0)))
        return names[order[0]];
    long cost[4] = {0};
    for (int v = 0; v < fg->p->nvariants; v++)
        for (int i = 0; i < pn->nmetrics; i++) {
            const curves *c = &fg->cv[v];
            int m = pn->metrics[i];
            for (int k = 0; k < c->n; k++) {
                if (!c->cnt[m][k])
                    continue;
                double ys[3] = {c->mean[m][k], c->lo[m][k], c->hi[m][k]};
                double x = c->x[k] / xmax;
                for (int j = 0; j < 3; j++) {
                    double y = logy ? (ys[j] > 0 ? log(ys[j] / y0) / log(y1 / y0) : -1)
                                    : (ys[j] - y0) / (y1 - y0);
                    int right = x >= 1 - kw, left = x <= kw, top = y >= 1 - kh, bottom = y <= kh;
                    cost[0] += right && top;
                    cost[1] += right && bottom;
                    cost[2] += left && top;
                    cost[3] += left && bottom;
                }
            }
        }
    int best = order[0];
    for (int i = 1; i < 4; i++)
        if (cost[order[i]] < cost[best])
            best = order[i];
    return names[best];
}

static void write_panel(FILE *f, const figure *fg, const ms_plot_panel *pn)
{
    const ms_plot *p = fg->p;
    int acc = ms_metric_is_acc(pn->metrics[0]), logy = !acc && p->log_loss;
    int nshown = 0;
    for (int v = 0; v < p->nvariants; v++)
        nshown += fg->cv[v].n > 0;
    double y0 = 0, y1 = 0;
    int ranged = panel_range(fg, pn, acc, logy, &y0, &y1);
    fprintf(f, "set xlabel '%s'\n", p->x_epoch ? "epoch" : "training step");
    fputs("set xrange [0:*]\nset autoscale xfixmax\n", f); /* the axis ends with the data */
    fprintf(f, "set ylabel '%s'\n", acc ? "accuracy (%)" : "cross-entropy loss");
    fputs(logy ? "set logscale y\n" : "unset logscale y\n", f);
    if (ranged)
        fprintf(f, "set yrange [%.17g:%.17g]\nset key %s\n", y0, y1,
                key_corner(fg, pn, nshown, acc, logy, y0, y1,
                           p->npanels == 1 ? 800 : 600));
    else
        fputs("set yrange [*:*]\nset key top right\n", f);
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
    if (pn->nmetrics == 1)
        fprintf(f, "set title '%s'\n", title_of(p, pn->metrics[0]));
    else
        fputs("set title ''\n", f);

    int first = 1;
    fputs("plot ", f);
    /* Bands first, under every line. */
    for (int v = 0; v < p->nvariants; v++)
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            /* a step_loss band is its chunks' spread: there with one seed too,
             * none for single steps */
            int band = m == MS_METRIC_STEP_LOSS ? p->step_average > 1 : fg->cv[v].nseeds > 1;
            if (!band || !has_metric(&fg->cv[v], m))
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
        const curves *c = &fg->cv[v];
        const char *lw = v == p->reference ? "2.2" : "1.8";
        int drawn = 0;
        for (int i = 0; i < pn->nmetrics; i++) {
            int m = pn->metrics[i];
            if (!c->n || !has_metric(c, m))
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
            gp_str(f, curve_label(fg, v, nshown == 1 && pn->nmetrics > 1 ? short_of(p, m) : NULL));
        }
        if (compact && drawn) {
            fprintf(f, ", \\\n     NaN with lines lc rgb '%s' dt 1 lw %s title ", fg->color[v], lw);
            gp_str(f, curve_label(fg, v, NULL));
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

/* The files a figure is drawn into, and gnuplot's terminal for each. */
enum { FIG_PNG, FIG_SVG, FIG_PDF };
static const struct {
    const char *ext, *term;
    int inches; /* pdfcairo sizes a page in inches, the others in pixels */
} formats[] = {{"png", "pngcairo", 0}, {"svg", "svg dynamic", 0}, {"pdf", "pdfcairo", 1}};
enum { NFORMATS = sizeof formats / sizeof *formats };

/* 1 when a panel of p shows step_loss (the steps table is read only then). */
static int uses_steps(const ms_plot *p)
{
    for (int i = 0; i < p->npanels; i++)
        for (int j = 0; j < p->panels[i].nmetrics; j++)
            if (p->panels[i].metrics[j] == MS_METRIC_STEP_LOSS)
                return 1;
    return 0;
}

static void write_figure(FILE *f, const figure *fg, int fmt, const char *out)
{
    const ms_plot *p = fg->p;
    int w = p->npanels == 1 ? 800 : 600 * p->npanels;
    if (formats[fmt].inches) /* the same shape at 100 pixels an inch */
        fprintf(f, "set terminal %s size %.1fin,5in noenhanced font 'Sans,11' background rgb "
                   "'white'\n",
                formats[fmt].term, w / 100.0);
    else
        fprintf(f, "set terminal %s size %d,500 noenhanced font 'Sans,11' background rgb 'white'\n",
                formats[fmt].term, w);
    fputs("set output ", f);
    gp_str(f, out);
    fputc('\n', f);
    fprintf(f, "set multiplot layout 1,%d title ", p->npanels);
    if (fg->seeds > 1) {
        char *t = NULL, n[32] = "seeds";
        if (fg->same_seeds)
            snprintf(n, sizeof n, "%d seeds", fg->seeds);
        /* a step_loss band is its chunks' standard deviation instead */
        t = ms_xstrfmt("%s\n(mean of %s; shaded: min to max%s)", p->title, n,
                       uses_steps(p) && p->step_average > 1 ? ", for steps: one std" : "");
        gp_lines(f, t);
        free(t);
    } else
        gp_lines(f, p->title);
    fputs(" font 'Sans,14'\n", f);
    for (int i = 0; i < p->npanels; i++)
        write_panel(f, fg, &p->panels[i]);
    fputs("unset multiplot\nset output\n", f);
}

/* ---- running gnuplot ---- */

static char *tmp_in(const char *dir, const char *name, const char *ext)
{
    char *base = ms_xstrfmt("%s.%s", name, ext);
    int fd;
    char *p = ms_temp_in(dir, base, &fd);
    free(base);
    if (p)
        close(fd); /* gnuplot opens it by name */
    return p;
}

/* The last non-empty line of a file (gnuplot's error message), malloc'd. */
static char *last_line(const char *path)
{
    FILE *f = fopen(path, "rb");
    char line[1024], *last = NULL;
    if (!f)
        return NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[strspn(line, " \t^")]) {
            free(last);
            last = ms_strdup(line);
        }
    }
    fclose(f);
    return last;
}

/* Run `gnuplot script`, its stdout and stderr into errpath; 0 on exit status 0. */
static int run_gnuplot(const char *gnuplot, const char *script, const char *errpath,
                       const char *plot)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return ms_error("cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(errpath, O_WRONLY | O_TRUNC);
        int in = open("/dev/null", O_RDONLY);
        if (fd < 0 || in < 0 || dup2(in, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        execl(gnuplot, "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return ms_error("cannot wait for gnuplot: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char *msg = last_line(errpath);
    if (WIFEXITED(status))
        ms_error("gnuplot failed on plot '%s' (exit status %d)%s%s", plot, WEXITSTATUS(status),
                 msg ? ": " : "", msg ? msg : "");
    else
        ms_error("gnuplot failed on plot '%s' (signal %d)", plot, WTERMSIG(status));
    free(msg);
    return -1;
}

static int nonempty(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* gnuplot escapes < and & in an SVG's text but not the "]]>" that XML
 * forbids there (a title holding it made an invalid SVG); its SVG has no
 * CDATA section, so every occurrence is text: rewrite it as "]]&gt;". With
 * keep, the (fixed) text is also returned there, so a caller that wants it
 * does not read the file again. */
static int fix_svg_text(const char *path, char **keep, size_t *keeplen)
{
    char *buf;
    size_t len;
    if (ms_load_file(path, &buf, &len) < 0)
        return -1;
    int rc = 0;
    if (memmem(buf, len, "]]>", 3)) {
        char *fixed = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&fixed, &n);
        if (!m) {
            free(buf);
            return ms_error("out of memory");
        }
        for (size_t i = 0; i < len; i++) {
            if (i + 2 < len && !memcmp(buf + i, "]]>", 3)) {
                fputs("]]&gt;", m);
                i += 2;
            } else {
                putc(buf[i], m);
            }
        }
        fclose(m);
        free(buf);
        buf = fixed;
        len = n;
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len)
            rc = ms_error("cannot write '%s': %s", path, strerror(errno));
        if (f && fclose(f) != 0 && rc == 0)
            rc = ms_error("cannot write '%s': %s", path, strerror(errno));
    }
    if (rc == 0 && keep) {
        *keep = buf;
        *keeplen = len;
    } else
        free(buf);
    return rc;
}

/* fsync a file so the rename publishes complete data. */
static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

const char *ms_plot_label(const ms_manifest *m, const char *variant)
{
    for (int i = 0; i < m->nvariants; i++)
        if (!strcmp(m->variants[i].name, variant))
            return m->variants[i].label;
    return NULL;
}

/* Draw one figure into outdir in the formats of fmask (bit k: formats[k]).
 * With svg (fmask holding FIG_SVG only), the SVG's text is returned there
 * and no file is published; else each format is published as NAME.EXT. */
static int draw(const ms_snapshot *snap, const ms_manifest *m, const ms_plot *p,
                const char *gnuplot, const char *outdir, unsigned fmask, char **svg, size_t *svglen,
                int *drawn)
{
    figure fg = {p, ms_calloc((size_t)p->nvariants, sizeof(curves)),
                 ms_calloc((size_t)p->nvariants, sizeof(char *)), 0, 0};
    int rc = -1, nvar = 0, ncolor = 0;
    char *script = NULL, *errf = NULL, *tmp[NFORMATS] = {0}, *dest[NFORMATS] = {0};
    *drawn = 0;
    for (int v = 0; v < p->nvariants; v++) {
        const char *name = p->variants[v], *label = ms_plot_label(m, name);
        make_curves(ms_snapshot_curves(snap, name), label ? label : name, /* the legend's text */
                    p->x_epoch, uses_steps(p) ? p->step_average : 0, &fg.cv[v]);
        if (!fg.cv[v].n) {
            ms_error("warning: plot '%s': no results of variant '%s' in '%s', skipped", p->name,
                     name, snap->db);
            continue;
        }
        fg.color[v] = v == p->reference ? "#000000" : palette[ncolor++ % NPALETTE];
        nvar++;
    }
    /* Data for the figure's metrics at all? */
    int any = 0;
    for (int v = 0; v < p->nvariants; v++)
        for (int i = 0; i < p->npanels; i++)
            for (int j = 0; j < p->panels[i].nmetrics; j++)
                any |= fg.cv[v].n && has_metric(&fg.cv[v], p->panels[i].metrics[j]);
    fg.same_seeds = 1;
    for (int v = 0; v < p->nvariants; v++)
        if (fg.cv[v].n) {
            if (fg.seeds && fg.cv[v].nseeds != fg.seeds)
                fg.same_seeds = 0;
            fg.seeds = fg.cv[v].nseeds > fg.seeds ? fg.cv[v].nseeds : fg.seeds;
        }
    if (!nvar || !any) {
        ms_error("warning: plot '%s': no data in '%s', no figure written", p->name, snap->db);
        rc = 0;
        goto out;
    }
    for (int k = 0; k < NFORMATS; k++) {
        if (!(fmask >> k & 1))
            continue;
        dest[k] = ms_xstrfmt("%s/%s.%s", outdir, p->name, formats[k].ext);
        if (!(tmp[k] = tmp_in(outdir, p->name, formats[k].ext)))
            goto out;
    }
    if (!(script = tmp_in(outdir, p->name, "gp")) || !(errf = tmp_in(outdir, p->name, "log")))
        goto out;
    FILE *f = fopen(script, "w");
    if (!f) {
        ms_error("cannot write '%s': %s", script, strerror(errno));
        goto out;
    }
    /* The name is checked plain (letters, digits, _ . -); a comment line
     * ending in a backslash would continue onto the next. */
    fprintf(f, "# mlpsweep plot %s\nreset\nset encoding utf8\n", p->name);
    fputs("set grid xtics ytics lt 1 lc rgb '#dddddd' lw 1\n"
          "set key opaque box lc rgb '#cccccc' samplen 3 spacing 1.1\n"
          "set border lc rgb '#444444'\nset tics nomirror\n",
          f);
    write_data(f, &fg);
    for (int k = 0; k < NFORMATS; k++)
        if (tmp[k])
            write_figure(f, &fg, k, tmp[k]);
    if (fclose(f) != 0) {
        ms_error("cannot write '%s': %s", script, strerror(errno));
        goto out;
    }
    if (run_gnuplot(gnuplot, script, errf, p->name) < 0)
        goto out;
    for (int k = 0; k < NFORMATS; k++)
        if (tmp[k] && !nonempty(tmp[k])) {
            ms_error("gnuplot wrote no figure for plot '%s'", p->name);
            goto out;
        }
    if (tmp[FIG_SVG] && fix_svg_text(tmp[FIG_SVG], svg, svglen))
        goto out;
    if (svg) {
        *drawn = 1;
        rc = 0;
        goto out;
    }
    for (int k = 0; k < NFORMATS; k++) {
        if (!tmp[k])
            continue;
        if (sync_file(tmp[k])) {
            ms_error("cannot write '%s': %s", dest[k], strerror(errno));
            goto out;
        }
        if (ms_publish(tmp[k], dest[k]) < 0)
            goto out;
        free(tmp[k]);
        tmp[k] = NULL;
        printf("%s\n", dest[k]);
    }
    *drawn = 1;
    rc = 0;
out:;
    char *tmps[NFORMATS + 2] = {script, errf};
    for (int k = 0; k < NFORMATS; k++) {
        tmps[2 + k] = tmp[k];
        free(dest[k]);
    }
    for (int i = 0; i < NFORMATS + 2; i++)
        if (tmps[i]) {
            unlink(tmps[i]);
            free(tmps[i]);
        }
    for (int v = 0; v < p->nvariants; v++)
        curves_release(&fg.cv[v]);
    free(fg.cv);
    free(fg.color);
    return rc;
}

unsigned ms_plot_reads(const ms_manifest *m)
{
    for (int i = 0; i < m->nplots; i++)
        if (uses_steps(&m->plots[i]))
            return MS_SNAP_CURVES | MS_SNAP_STEP_CURVES;
    return MS_SNAP_CURVES;
}

int ms_plot_all(ms_store *st, const char *sweep, const ms_manifest *m, const char *outdir,
                int *written)
{
    char *gnuplot = NULL;
    int rc = 0, n = 0;
    ms_snapshot snap;
    if (written)
        *written = 0;
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return -1;
    /* Every figure's place first, so a refused one stops the command before
     * any figure is written (ms_publish checks again when renaming). */
    const char *in[] = {ms_store_path(st)};
    for (int i = 0; i < m->nplots && rc == 0; i++)
        for (int e = 0; e < NFORMATS && rc == 0; e++) {
            char *path = ms_xstrfmt("%s/%s.%s", outdir, m->plots[i].name, formats[e].ext);
            rc = ms_output_check(path, in, 1);
            free(path);
        }
    if (rc < 0) {
        free(gnuplot);
        return -1;
    }
    if (ms_mkdir_p(outdir) < 0 || ms_snapshot_read(st, sweep, ms_plot_reads(m), &snap) < 0) {
        free(gnuplot);
        return -1;
    }
    for (int i = 0; i < m->nplots && rc == 0; i++) {
        int d = 0;
        rc = draw(&snap, m, &m->plots[i], gnuplot, outdir, (1u << NFORMATS) - 1, NULL, NULL, &d);
        n += d;
    }
    ms_snapshot_release(&snap);
    free(gnuplot);
    if (written)
        *written = n;
    return rc;
}

void ms_plot_svgs_free(ms_plot_svg *figs, int n)
{
    for (int i = 0; i < n; i++)
        free(figs[i].svg);
    free(figs);
}

int ms_plot_svgs(const ms_snapshot *snap, const ms_manifest *m, ms_plot_svg **out, int *n)
{
    *out = NULL;
    *n = 0;
    char *gnuplot = NULL;
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return -1;
    const char *base = getenv("TMPDIR");
    char *dir = ms_xstrfmt("%s/mlpsweep-figures.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        int e = errno;
        free(gnuplot);
        ms_error("cannot create a temporary folder '%s': %s", dir, strerror(e));
        free(dir);
        return -1;
    }
    ms_plot_svg *figs = ms_calloc((size_t)(m->nplots ? m->nplots : 1), sizeof *figs);
    int rc = 0;
    for (int i = 0; i < m->nplots && rc == 0; i++) {
        int d = 0;
        figs[i].name = m->plots[i].name;
        figs[i].title = m->plots[i].title;
        rc = draw(snap, m, &m->plots[i], gnuplot, dir, 1u << FIG_SVG, &figs[i].svg, &figs[i].len,
                  &d);
    }
    rmdir(dir); /* draw removed its own files */
    free(dir);
    free(gnuplot);
    if (rc < 0) {
        ms_plot_svgs_free(figs, m->nplots);
        return -1;
    }
    *out = figs;
    *n = m->nplots;
    return 0;
}
