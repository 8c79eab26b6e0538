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
 * figure and a failed run leaves the previous figures as they were.
 *
 * This file gathers the curves, runs gnuplot and publishes the files; the
 * script is plot_script.c's (plot_fig.h holds what the two share). */
#define _GNU_SOURCE
#include "ms_grid.h"
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

#include "plot_fig.h"

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

typedef struct sample {
    double x;
    int64_t step;
    double v[MS_METRIC_N];
    double slo, shi; /* step_loss: the band of its chunk (mean -/+ one std) */
} sample;

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

static void curves_release(ms_fig_curves *c)
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
                        ms_fig_curves *c)
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
    ms_fig_curves c;
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

int ms_fig_has_metric(const ms_fig_curves *c, int m)
{
    for (int k = 0; k < c->n; k++)
        if (c->cnt[m][k])
            return 1;
    return 0;
}

/* 1 when a panel of p shows step_loss (the steps table is read only then). */
int ms_fig_uses_steps(const ms_plot *p)
{
    for (int i = 0; i < p->npanels; i++)
        for (int j = 0; j < p->panels[i].nmetrics; j++)
            if (p->panels[i].metrics[j] == MS_METRIC_STEP_LOSS)
                return 1;
    return 0;
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

/* A figure's x axis: as stated, else epochs when the runs it draws differ
 * in batch size (a step of one is not a step of the other), else steps. */
static int x_epoch_of(const ms_plot *p, const ms_snapshot *snap)
{
    if (p->x_epoch != MS_PLOT_X_AUTO)
        return p->x_epoch;
    int64_t batch = 0;
    for (int v = 0; v < p->nvariants; v++) {
        const ms_variant_curves *vc = ms_snapshot_curves(snap, p->variants[v]);
        for (int r = 0; vc && r < vc->nruns; r++) {
            if (batch && vc->runs[r].batch != batch)
                return 1;
            batch = vc->runs[r].batch;
        }
    }
    return 0;
}

/* The curves of p's variants from snap, their colours and seed counts into
 * fg, a variant without results skipped with a warning. 0 (warned) when
 * the figure has nothing to draw, else 1. */
static int gather(ms_fig *fg, const ms_snapshot *snap, const ms_manifest *m)
{
    const ms_plot *p = fg->p;
    int nvar = 0;
    fg->x_epoch = x_epoch_of(p, snap);
    for (int v = 0; v < p->nvariants; v++) {
        const char *name = p->variants[v], *label = ms_plot_label(m, name);
        make_curves(ms_snapshot_curves(snap, name), label ? label : name, /* the legend's text */
                    fg->x_epoch, ms_fig_uses_steps(p) ? p->step_average : 0, &fg->cv[v]);
        if (!fg->cv[v].n) {
            ms_error("warning: plot '%s': no results of variant '%s' in '%s', skipped", p->name,
                     name, snap->db);
            continue;
        }
        nvar++;
    }
    ms_fig_colors(fg);
    /* Data for the figure's metrics at all? */
    int any = 0;
    for (int v = 0; v < p->nvariants; v++)
        for (int i = 0; i < p->npanels; i++)
            for (int j = 0; j < p->panels[i].nmetrics; j++)
                any |= fg->cv[v].n && ms_fig_has_metric(&fg->cv[v], p->panels[i].metrics[j]);
    fg->same_seeds = 1;
    for (int v = 0; v < p->nvariants; v++)
        if (fg->cv[v].n) {
            if (fg->seeds && fg->cv[v].nseeds != fg->seeds)
                fg->same_seeds = 0;
            fg->seeds = fg->cv[v].nseeds > fg->seeds ? fg->cv[v].nseeds : fg->seeds;
        }
    if (!nvar || !any) {
        ms_error("warning: plot '%s': no data in '%s', no figure written", p->name, snap->db);
        return 0;
    }
    return 1;
}

/* A figure's files: the script, gnuplot's output, and for each format drawn
 * the temporary file gnuplot writes (NULL once published) and its final name. */
typedef struct fig_files {
    char *script, *errf, *tmp[MS_FIG_NFORMATS], *dest[MS_FIG_NFORMATS];
} fig_files;

static int files_make(fig_files *ff, const char *outdir, const char *name, unsigned fmask)
{
    for (int k = 0; k < MS_FIG_NFORMATS; k++) {
        if (!(fmask >> k & 1))
            continue;
        ff->dest[k] = ms_xstrfmt("%s/%s.%s", outdir, name, ms_fig_formats[k].ext);
        if (!(ff->tmp[k] = tmp_in(outdir, name, ms_fig_formats[k].ext)))
            return -1;
    }
    if (!(ff->script = tmp_in(outdir, name, "gp")) || !(ff->errf = tmp_in(outdir, name, "log")))
        return -1;
    return 0;
}

/* The temporary files removed, the names freed. */
static void files_release(fig_files *ff)
{
    char *tmps[MS_FIG_NFORMATS + 2] = {ff->script, ff->errf};
    for (int k = 0; k < MS_FIG_NFORMATS; k++) {
        tmps[2 + k] = ff->tmp[k];
        free(ff->dest[k]);
    }
    for (int i = 0; i < MS_FIG_NFORMATS + 2; i++)
        if (tmps[i]) {
            unlink(tmps[i]);
            free(tmps[i]);
        }
}

static int write_script(const fig_files *ff, ms_fig_writer *write, const void *ctx)
{
    FILE *f = fopen(ff->script, "w");
    if (!f)
        return ms_error("cannot write '%s': %s", ff->script, strerror(errno));
    write(f, ctx, ff->tmp);
    if (fclose(f) != 0)
        return ms_error("cannot write '%s': %s", ff->script, strerror(errno));
    return 0;
}

/* gnuplot run on the script, each format checked drawn; the SVG's text
 * fixed and, with svg, returned there. */
static int run_script(const fig_files *ff, const char *gnuplot, const char *name, char **svg,
                      size_t *svglen)
{
    if (run_gnuplot(gnuplot, ff->script, ff->errf, name) < 0)
        return -1;
    for (int k = 0; k < MS_FIG_NFORMATS; k++)
        if (ff->tmp[k] && !nonempty(ff->tmp[k]))
            return ms_error("gnuplot wrote no figure for plot '%s'", name);
    if (ff->tmp[MS_FIG_SVG] && fix_svg_text(ff->tmp[MS_FIG_SVG], svg, svglen))
        return -1;
    return 0;
}

/* Each format renamed into its place, its path printed. */
static int publish(fig_files *ff)
{
    for (int k = 0; k < MS_FIG_NFORMATS; k++) {
        if (!ff->tmp[k])
            continue;
        if (sync_file(ff->tmp[k]))
            return ms_error("cannot write '%s': %s", ff->dest[k], strerror(errno));
        if (ms_publish(ff->tmp[k], ff->dest[k]) < 0)
            return -1;
        free(ff->tmp[k]);
        ff->tmp[k] = NULL;
        printf("%s\n", ff->dest[k]);
    }
    return 0;
}

int ms_fig_render(const char *gnuplot, const char *outdir, const char *name, unsigned fmask,
                  ms_fig_writer *write, const void *ctx, char **svg, size_t *svglen)
{
    fig_files ff = {0};
    int rc = files_make(&ff, outdir, name, fmask) == 0 && write_script(&ff, write, ctx) == 0 &&
                     run_script(&ff, gnuplot, name, svg, svglen) == 0 &&
                     (svg || publish(&ff) == 0)
                 ? 0
                 : -1;
    files_release(&ff);
    return rc;
}

/* Draw one figure of the manifest into outdir: with svg, each panel alone
 * as SVG text into svg->panel (ms_plot_svgs), else the whole figure in
 * every format, published. */
static int draw(const ms_snapshot *snap, const ms_manifest *m, const ms_plot *p,
                const char *gnuplot, const char *outdir, ms_plot_svg *svg, int *drawn)
{
    ms_fig fg = {p, ms_calloc((size_t)p->nvariants, sizeof(ms_fig_curves)),
                 ms_calloc((size_t)p->nvariants, sizeof(char *)), 0, 0, 0, -1};
    int rc = 0, any = gather(&fg, snap, m);
    *drawn = 0;
    if (any && !svg) {
        rc = ms_fig_render(gnuplot, outdir, p->name, (1u << MS_FIG_NFORMATS) - 1, ms_fig_script,
                           &fg, NULL, NULL);
        *drawn = rc == 0;
    } else if (any) {
        for (fg.panel = 0; fg.panel < p->npanels && rc == 0; fg.panel++) {
            rc = ms_fig_render(gnuplot, outdir, p->name, 1u << MS_FIG_SVG, ms_fig_script, &fg,
                               &svg->panel[fg.panel], &svg->panel_len[fg.panel]);
            svg->npanels += rc == 0;
        }
        svg->note = rc == 0 ? ms_fig_note(&fg) : NULL;
        *drawn = rc == 0;
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
        if (ms_fig_uses_steps(&m->plots[i]))
            return MS_SNAP_CURVES | MS_SNAP_STEP_CURVES | ms_grid_reads();
    return MS_SNAP_CURVES | ms_grid_reads();
}

/* The output paths of a figure NAME in outdir checked before anything is
 * drawn (ms_publish checks again when renaming). */
static int check_paths(const char *outdir, const char *name, const char *db)
{
    const char *in[] = {db};
    int rc = 0;
    for (int e = 0; e < MS_FIG_NFORMATS && rc == 0; e++) {
        char *path = ms_xstrfmt("%s/%s.%s", outdir, name, ms_fig_formats[e].ext);
        rc = ms_output_check(path, in, 1);
        free(path);
    }
    return rc;
}

/* Each grid's figures (ms_grid_fig_name) drawn into dir: as files, or with
 * svgs (one per grid, NULL: none) as SVG text, figure k in panel k; *n
 * counts the figures. */
static int draw_grids(const ms_grid *g, int ng, const char *gnuplot, const char *dir,
                      ms_plot_svg *svgs, int *n)
{
    int rc = 0;
    for (int i = 0; i < ng && rc == 0; i++)
        for (int k = 0; k < ms_grid_nfigs(&g[i]) && k < MS_PLOT_MAX_PANELS && rc == 0; k++) {
            char *name = ms_grid_fig_name(&g[i], k);
            ms_grid_fig fig = {&g[i], k};
            rc = ms_fig_render(gnuplot, dir, name,
                               svgs ? 1u << MS_FIG_SVG : (1u << MS_FIG_NFORMATS) - 1,
                               ms_grid_script, &fig, svgs ? &svgs[i].panel[k] : NULL,
                               svgs ? &svgs[i].panel_len[k] : NULL);
            *n += rc == 0;
            if (svgs && rc == 0)
                svgs[i].npanels = k + 1;
            free(name);
        }
    return rc;
}

/* The grids' figures' places checked (see check_paths), then drawn. */
static int plot_grids(const ms_snapshot *snap, const char *gnuplot, const char *outdir,
                      const char *db, int *n)
{
    ms_grid *g;
    int ng, rc = 0;
    if (ms_grid_find(snap, NULL, 0.95, &g, &ng) < 0)
        return -1;
    for (int i = 0; i < ng && rc == 0; i++)
        for (int k = 0; k < ms_grid_nfigs(&g[i]) && rc == 0; k++) {
            char *name = ms_grid_fig_name(&g[i], k);
            rc = check_paths(outdir, name, db);
            free(name);
        }
    if (rc == 0)
        rc = draw_grids(g, ng, gnuplot, outdir, NULL, n);
    ms_grid_free(g, ng);
    return rc;
}

int ms_plot_all(ms_store *st, const char *sweep, const ms_manifest *m, const ms_scope *scope,
                const char *outdir, int *written, int *grids)
{
    char *gnuplot = NULL;
    int rc = 0, n = 0, ng = 0;
    ms_snapshot snap;
    if (written)
        *written = 0;
    if (grids)
        *grids = 0;
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return -1;
    /* Every figure's place first, so a refused one stops the command before
     * any figure is written. */
    for (int i = 0; i < m->nplots && rc == 0; i++)
        rc = check_paths(outdir, m->plots[i].name, ms_store_path(st));
    if (rc < 0 || ms_mkdir_p(outdir) < 0 ||
        ms_snapshot_read_in(st, sweep, ms_plot_reads(m), scope, &snap) < 0) {
        free(gnuplot);
        return -1;
    }
    for (int i = 0; i < m->nplots && rc == 0; i++) {
        int d = 0;
        rc = draw(&snap, m, &m->plots[i], gnuplot, outdir, NULL, &d);
        n += d;
    }
    if (rc == 0)
        rc = plot_grids(&snap, gnuplot, outdir, ms_store_path(st), &ng);
    ms_snapshot_release(&snap);
    free(gnuplot);
    if (written)
        *written = n;
    if (grids)
        *grids = ng;
    return rc;
}

void ms_plot_svgs_free(ms_plot_svg *figs, int n)
{
    for (int i = 0; i < n; i++) {
        free(figs[i].svg);
        for (int k = 0; k < figs[i].npanels; k++)
            free(figs[i].panel[k]);
        free(figs[i].note);
    }
    free(figs);
}

/* A private temporary folder for figures drawn as SVG text (malloc'd), and
 * gnuplot's path; -1 after a message. */
static int svg_dir(char **dir, char **gnuplot)
{
    if (ms_plot_find_gnuplot(gnuplot) < 0)
        return -1;
    const char *base = getenv("TMPDIR");
    *dir = ms_xstrfmt("%s/mlpsweep-figures.XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(*dir))
        return 0;
    int e = errno;
    ms_error("cannot create a temporary folder '%s': %s", *dir, strerror(e));
    free(*dir);
    free(*gnuplot);
    return -1;
}

int ms_plot_svgs(const ms_snapshot *snap, const ms_manifest *m, ms_plot_svg **out, int *n)
{
    *out = NULL;
    *n = 0;
    char *gnuplot, *dir;
    if (svg_dir(&dir, &gnuplot) < 0)
        return -1;
    ms_plot_svg *figs = ms_calloc((size_t)(m->nplots ? m->nplots : 1), sizeof *figs);
    int rc = 0;
    for (int i = 0; i < m->nplots && rc == 0; i++) {
        int d = 0;
        figs[i].name = m->plots[i].name;
        figs[i].title = m->plots[i].title;
        rc = draw(snap, m, &m->plots[i], gnuplot, dir, &figs[i], &d);
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

int ms_plot_grid_svgs(const ms_grid *g, int ng, ms_plot_svg **out)
{
    char *gnuplot, *dir;
    int drawn = 0;
    *out = NULL;
    if (svg_dir(&dir, &gnuplot) < 0)
        return -1;
    ms_plot_svg *figs = ms_calloc((size_t)ng + 1, sizeof *figs);
    for (int i = 0; i < ng; i++)
        figs[i].name = figs[i].title = g[i].name;
    int rc = draw_grids(g, ng, gnuplot, dir, figs, &drawn);
    rmdir(dir);
    free(dir);
    free(gnuplot);
    if (rc < 0) {
        ms_plot_svgs_free(figs, ng);
        return -1;
    }
    *out = figs;
    return 0;
}
