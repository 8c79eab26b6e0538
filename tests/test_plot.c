/* Tests for `mlpsweep plot` and `report`: a hand-made database and manifest
 * give PNG and SVG files of the declared names (no temporary files left), a
 * variant without runs is skipped with a warning, a figure without data is
 * not written, the manifest recorded in the database serves when none is
 * given, and without gnuplot the command fails with one exact line. The HTML
 * report holds the table, the figures, the runs, the manifest and
 * provenance, escapes what a manifest says, loads nothing from the network,
 * and renders in headless Chromium with its table and figures on screen. */
#include "ms_test.h"

#include "ms_config.h"
#include "ms_plot.h"
#include "ms_store.h"

#include <dirent.h>
#include <math.h>
#include <sys/wait.h>
#include <zlib.h>

static const char manifest[] =
    "name: study\n"
    "variants:\n"
    "  - name: base\n"
    "    seeds: [1, 2]\n"
    "  - name: other\n"
    "    hidden: [32]\n"
    "  - name: ghost\n"
    "plots:\n"
    "  - name: fig1\n"
    "    title: \"Figure 1: base against other\"\n"
    "    variants: [other, ghost]\n"
    "    reference: base\n"
    "    metrics: [loss, accuracy]\n"
    "  - name: fig2\n"
    "    variants: [ghost]\n"
    "  - name: fig3\n"
    "    variants: [other]\n"
    "    metrics: [[batch_loss, val_loss, step_loss]]\n"
    "    x: epoch\n"
    "    loss_scale: log\n";

typedef struct fx {
    char *dir, *db, *yaml;
} fx;

/* The sweep of `manifest` without 'ghost': 3 epochs of 5 validations each,
 * smooth curves that differ a little by seed; other's batch other_batch;
 * the sweep recorded with the text `recorded` (NULL: manifest). */
static void fx_make_with(fx *f, int other_batch, const char *recorded)
{
    f->dir = ms_tmpdir();
    if (asprintf(&f->db, "%s/study.db", f->dir) < 0 || asprintf(&f->yaml, "%s/study.yaml", f->dir) < 0)
        abort();
    ms_write_bytes(f->yaml, manifest, strlen(manifest), 0);
    ms_store *s;
    int64_t sweep;
    assert_int_equal(ms_store_open(f->db, MS_STORE_CREATE, &s), 0);
    assert_int_equal(
        ms_store_sweep(s, "study", f->yaml, recorded ? recorded : manifest, NULL, &sweep), 0);
    ms_config cfg[3];
    ms_run_spec keys[3];
    const char *names[3] = {"base", "base", "other"};
    for (int i = 0; i < 3; i++) {
        ms_config_default(&cfg[i]);
        cfg[i].seed = i == 1 ? 2 : 1;
        cfg[i].epochs = 3;
        if (i == 2)
            cfg[i].hidden[0] = 32, cfg[i].batch = other_batch;
        keys[i] = (ms_run_spec){names[i], "", cfg[i], NULL, NULL, 0, 0};
    }
    ms_run_info info[3];
    assert_int_equal(ms_store_register(s, sweep, keys, 3, info), 0);
    ms_provenance p = {"test", "cc", "host", 1, 1};
    for (int r = 0; r < 3; r++) {
        assert_int_equal(ms_store_start_run(s, info[r].id, &p), 0);
        for (int e = 1; e <= 3; e++) {
            ms_eval ev[5];
            for (int i = 0; i < 5; i++) {
                double t = (e - 1) * 5 + i + 1, k = 1 + 0.1 * r;
                ev[i].step = (int64_t)(e - 1) * 625 + i * 125 + 124;
                ev[i].epoch = e - 1;
                ev[i].batch_loss = 2.0 / (k * t) + 0.02 * (i % 2);
                ev[i].train_loss = 1.5 / (k * t);
                ev[i].val_loss = 1.5 / (k * t) + 0.1;
                ev[i].train_acc = 1 - 0.5 / (k * t);
                ev[i].val_acc = 1 - 0.5 / (k * t) - 0.05;
            }
            static double steps[625]; /* each step's loss: noise about a falling curve */
            for (int i = 0; i < 625; i++) {
                double at = (e - 1) * 625 + i, k = 1 + 0.1 * r;
                steps[i] = 2.0 / (k * (1 + at / 125)) + 0.05 * ((int)at % 7 - 3) / 3;
            }
            ms_epoch ep = {e, ev[4].train_loss, ev[4].train_acc, ev[4].val_loss, ev[4].val_acc, 1.0,
                           (int64_t)(e - 1) * 625, 625, steps};
            assert_int_equal(ms_store_commit_epoch(s, info[r].id, &ep, (int64_t)e * 625, ev, 5, NULL,
                                                   0, e == 3 ? MS_STOP_EPOCHS : MS_STOP_NONE),
                             0);
        }
    }
    ms_store_close(s);
}

static void fx_make_batch(fx *f, int other_batch)
{
    fx_make_with(f, other_batch, NULL);
}

static void fx_make(fx *f)
{
    fx_make_batch(f, 32);
}

static void fx_remove(fx *f)
{
    ms_rmtree(f->dir);
    free(f->dir);
    free(f->db);
    free(f->yaml);
}

/* The file's bytes (caller frees), *n its size. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open '%s'", path);
    char *buf = calloc(1, 1 << 22);
    *n = fread(buf, 1, (1 << 22) - 1, f);
    fclose(f);
    return buf;
}

static void skip_without_gnuplot(void)
{
    char *g = NULL;
    ms_capture c;
    ms_capture_start(&c);
    int rc = ms_plot_find_gnuplot(&g);
    free(ms_capture_end(&c));
    free(g);
    if (rc < 0) {
        print_message("gnuplot is not installed ('make deps'): skipped\n");
        skip();
    }
}

/* The folder holds exactly fig1 and fig3 as PNG and SVG, nothing else. */
static void check_figures(const char *dir)
{
    static const char *const want[] = {"fig1.png", "fig1.svg", "fig1.pdf",
                                       "fig3.png", "fig3.svg", "fig3.pdf"};
    enum { NWANT = sizeof want / sizeof *want };
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        int known = 0;
        for (int i = 0; i < NWANT; i++)
            known |= !strcmp(e->d_name, want[i]);
        if (!known)
            fail_msg("unexpected file '%s' in '%s'", e->d_name, dir);
        n++;
    }
    closedir(d);
    assert_int_equal(n, NWANT);
    for (int i = 0; i < NWANT; i++) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, want[i]);
        char *b = slurp(path, &len);
        if (strstr(want[i], ".png")) {
            assert_true(len > 1000);
            assert_memory_equal(b, "\x89PNG\r\n\x1a\n", 8);
        } else if (strstr(want[i], ".pdf")) {
            assert_true(len > 1000);
            assert_memory_equal(b, "%PDF-", 5);
        } else {
            assert_true(len > 1000);
            assert_non_null(strstr(b, "<svg"));
            assert_non_null(strstr(b, "</svg>"));
        }
        if (!strcmp(want[i], "fig1.svg")) {
            /* the title, and the compact legend: variants once, metrics once */
            assert_non_null(strstr(b, "Figure 1: base against other"));
            assert_non_null(strstr(b, "base (reference)"));
            assert_non_null(strstr(b, ">other<"));
            assert_non_null(strstr(b, ">val<"));
            assert_non_null(strstr(b, "accuracy (%)"));
        }
        if (!strcmp(want[i], "fig3.svg")) /* one variant: the legend names the metrics */
            assert_non_null(strstr(b, "train, 10-step mean"));
        free(b);
    }
}

/* The course's plot_loss chunks: means and population standard deviations
 * of consecutive chunks, a partial last chunk dropped. */
static void test_chunks(void **state)
{
    (void)state;
    double v[25], mean[3], sd[3];
    for (int i = 0; i < 25; i++)
        v[i] = i + 1;
    assert_int_equal(ms_plot_chunks(v, 25, 10, mean, sd), 2);
    assert_true(mean[0] == 5.5 && mean[1] == 15.5);
    /* 1..10 about 5.5: squares 2 (0.25 + 2.25 + 6.25 + 12.25 + 20.25) = 82.5, / 10 */
    assert_true(fabs(sd[0] - sqrt(8.25)) < 1e-15 && fabs(sd[1] - sqrt(8.25)) < 1e-15);
    double c[4] = {3, 3, 3, 3};
    assert_int_equal(ms_plot_chunks(c, 4, 2, mean, sd), 2);
    assert_true(mean[1] == 3 && sd[1] == 0);
    assert_int_equal(ms_plot_chunks(v, 9, 10, mean, sd), 0);
}

/* step_loss of a variant with two seeds: each step's loss averaged over the
 * seeds, then chunks of 10 steps, x at the chunk's middle step, the band one
 * standard deviation (the fixture's losses, computed again here). */
static void test_step_curve(void **state)
{
    (void)state;
    fx f;
    fx_make(&f);
    ms_store *s;
    ms_snapshot snap;
    assert_int_equal(ms_store_open(f.db, MS_STORE_READONLY, &s), 0);
    assert_int_equal(ms_snapshot_read(s, "study", MS_SNAP_CURVES | MS_SNAP_STEP_CURVES, &snap), 0);
    double *x, *mean, *lo, *hi;
    int n;
    ms_plot_curve(&snap, "base", MS_METRIC_STEP_LOSS, 0, 10, &x, &mean, &lo, &hi, &n);
    assert_int_equal(n, 3 * 625 / 10); /* 1875 steps: 187 whole chunks */
    for (int c = 0; c < n; c += 61) {
        double v[10], m = 0, var = 0;
        for (int t = 0; t < 10; t++) {
            double at = 10.0 * c + t, sum = 0;
            for (int r = 0; r < 2; r++) /* the fixture's two 'base' runs, k = 1 and 1.1 */
                sum += 2.0 / ((1 + 0.1 * r) * (1 + at / 125)) + 0.05 * ((int)at % 7 - 3) / 3;
            v[t] = sum / 2;
            m += v[t];
        }
        m /= 10;
        for (int t = 0; t < 10; t++)
            var += (v[t] - m) * (v[t] - m);
        double sd = sqrt(var / 10);
        assert_true(x[c] == 10.0 * c + 5);
        if (fabs(mean[c] - m) > 1e-12 || fabs(hi[c] - (m + sd)) > 1e-12 || fabs(lo[c] - (m - sd)) > 1e-12)
            fail_msg("chunk %d: mean %.17g band [%.17g, %.17g], expected %.17g +- %.17g", c, mean[c],
                     lo[c], hi[c], m, sd);
    }
    free(x), free(mean), free(lo), free(hi);
    /* step_average 1: every step, the mean of the seeds, no band */
    ms_plot_curve(&snap, "base", MS_METRIC_STEP_LOSS, 0, 1, &x, &mean, &lo, &hi, &n);
    assert_int_equal(n, 3 * 625);
    for (int i = 0; i < n; i += 97) {
        double sum = 0;
        for (int r = 0; r < 2; r++)
            sum += 2.0 / ((1 + 0.1 * r) * (1 + (double)i / 125)) + 0.05 * (i % 7 - 3) / 3.0;
        assert_true(x[i] == i && fabs(mean[i] - sum / 2) < 1e-15 && lo[i] == mean[i] && hi[i] == mean[i]);
    }
    free(x), free(mean), free(lo), free(hi);
    /* an evals metric: the mean of the seeds, the band their range */
    ms_plot_curve(&snap, "base", MS_METRIC_VAL_LOSS, 0, 10, &x, &mean, &lo, &hi, &n);
    assert_int_equal(n, 15);
    double a = 1.5 / 1.0 + 0.1, b = 1.5 / 1.1 + 0.1; /* first validation, t = 1 */
    assert_true(x[0] == 124 && fabs(mean[0] - (a + b) / 2) < 1e-15 && lo[0] == b && hi[0] == a);
    free(x), free(mean), free(lo), free(hi);
    ms_snapshot_release(&snap);
    ms_store_close(s);
    fx_remove(&f);
}

static void test_plot_files(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make(&f);
    char args[4096], want[4096], *out, *err;
    snprintf(args, sizeof args, "plot %s --db %s --out %s/figs/new", f.yaml, f.db, f.dir);
    int rc = ms_run_env("", args, &out, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    snprintf(want, sizeof want,
             "mlpsweep: warning: plot 'fig1': no results of variant 'ghost' in '%s', skipped\n"
             "mlpsweep: warning: plot 'fig2': no results of variant 'ghost' in '%s', skipped\n"
             "mlpsweep: warning: plot 'fig2': no data in '%s', no figure written\n"
             "2 of 3 figures written to '%s/figs/new'\n",
             f.db, f.db, f.db, f.dir);
    assert_string_equal(err, want);
    snprintf(want, sizeof want,
             "%s/figs/new/fig1.png\n%s/figs/new/fig1.svg\n%s/figs/new/fig1.pdf\n"
             "%s/figs/new/fig3.png\n%s/figs/new/fig3.svg\n%s/figs/new/fig3.pdf\n",
             f.dir, f.dir, f.dir, f.dir, f.dir, f.dir);
    assert_string_equal(out, want);
    free(out), free(err);
    snprintf(want, sizeof want, "%s/figs/new", f.dir);
    check_figures(want);

    /* Again: the figures are replaced, still nothing else in the folder. */
    assert_int_equal(ms_run_env("", args, &out, &err), 0);
    free(out), free(err);
    check_figures(want);
    fx_remove(&f);
}

/* Without MANIFEST: the manifest recorded by the sweep, the only database
 * of db/ (run from the fixture's folder), and the default folder plots/. */
static void test_recorded_manifest(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make(&f);
    char cwd[4096], want[4096], *out, *err;
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(want, sizeof want, "%s/db", f.dir);
    assert_int_equal(mkdir(want, 0755), 0);
    snprintf(want, sizeof want, "%s/db/study.db", f.dir);
    assert_int_equal(rename(f.db, want), 0);
    char *cmd = NULL; /* MS_BIN may be relative to the repository */
    if (asprintf(&cmd, "cd %s && %s%s%s plot >out 2>err", f.dir, MS_BIN[0] == '/' ? "" : cwd,
                 MS_BIN[0] == '/' ? "" : "/", MS_BIN) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    size_t n;
    snprintf(want, sizeof want, "%s/err", f.dir);
    err = slurp(want, &n);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("plot failed: %s", err);
    assert_non_null(strstr(err, "2 of 3 figures written to 'plots'\n"));
    free(err);
    snprintf(want, sizeof want, "%s/out", f.dir);
    out = slurp(want, &n);
    assert_string_equal(out, "plots/fig1.png\nplots/fig1.svg\nplots/fig1.pdf\nplots/fig3.png\n"
                             "plots/fig3.svg\nplots/fig3.pdf\n");
    free(out);
    snprintf(want, sizeof want, "%s/plots", f.dir);
    check_figures(want);
    fx_remove(&f);
}

static void test_no_gnuplot(void **state)
{
    (void)state;
    fx f;
    fx_make(&f);
    char env[8192], args[8192], path[1024], *out, *err;
    snprintf(path, sizeof path, "%s/empty", f.dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(env, sizeof env, "PATH=%s", path);
    snprintf(args, sizeof args, "plot %s --db %s --out %s/figs", f.yaml, f.db, f.dir);
    assert_int_equal(ms_run_env(env, args, &out, &err), 1);
    assert_string_equal(err, "mlpsweep: gnuplot not found; install it with 'make deps' "
                             "(Debian package gnuplot-nox)\n");
    assert_string_equal(out, "");
    free(out), free(err);
    snprintf(path, sizeof path, "%s/figs", f.dir);
    assert_int_equal(access(path, F_OK), -1); /* nothing created */
    fx_remove(&f);
}

static void test_errors(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make(&f);
    char args[8192], want[8192], *out, *err;
    /* A manifest without plots: the default figures, one per task (and one
     * for the variants without a task), each with a loss and an accuracy
     * panel. */
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s/noplots.yaml", f.dir);
    static const char text[] = "name: study\nvariants:\n  - name: base\n    task: 2c\n"
                               "    label: The baseline\n  - name: other\n    hidden: [32]\n";
    ms_write_bytes(yaml, text, strlen(text), 0);
    snprintf(args, sizeof args, "plot %s --db %s --out %s/figs", yaml, f.db, f.dir);
    assert_int_equal(ms_run_env("", args, &out, &err), 0);
    snprintf(want, sizeof want, "2 of 2 figures written to '%s/figs'\n", f.dir);
    assert_string_equal(err, want);
    free(out), free(err);
    const char *files[] = {"task_2c.png", "task_2c.svg", "other.png", "other.svg"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(want, sizeof want, "%s/figs/%s", f.dir, files[i]);
        if (access(want, F_OK) != 0)
            fail_msg("no default figure %s", files[i]);
    }
    /* --variants: only those, a figure left without any not drawn; an
     * unknown name is a usage error with the likely one */
    snprintf(args, sizeof args, "plot %s --db %s --out %s/only --variants other", yaml, f.db, f.dir);
    assert_int_equal(ms_run_env("", args, &out, &err), 0);
    snprintf(want, sizeof want, "1 of 1 figures written to '%s/only'\n", f.dir);
    assert_string_equal(err, want);
    free(out), free(err);
    snprintf(want, sizeof want, "%s/only/task_2c.png", f.dir);
    assert_int_equal(access(want, F_OK), -1);
    snprintf(args, sizeof args, "plot %s --db %s --out %s/none --variants bsae", yaml, f.db, f.dir);
    assert_int_equal(ms_run_env("", args, &out, &err), 2);
    snprintf(want, sizeof want,
             "mlpsweep: --variants: no variant 'bsae' in '%s' (did you mean 'base'?)\n", yaml);
    assert_string_equal(err, want);
    free(out), free(err);
    snprintf(want, sizeof want, "%s/figs/task_2c.svg", f.dir);
    char *svg = ms_read_file(want);
    assert_non_null(strstr(svg, "Task 2c"));
    assert_non_null(strstr(svg, "The baseline")); /* label: in the legend */
    assert_non_null(strstr(svg, "validation accuracy"));
    free(svg);
    /* A missing database. */
    snprintf(args, sizeof args, "plot %s --db %s/none.db", f.yaml, f.dir);
    assert_int_equal(ms_run_env("", args, &out, &err), 1);
    snprintf(want, sizeof want, "mlpsweep: cannot open '%s/none.db': no such database\n", f.dir);
    assert_string_equal(err, want);
    free(out), free(err);
    /* A manifest of another sweep. */
    snprintf(yaml, sizeof yaml, "%s/other.yaml", f.dir);
    static const char other[] = "name: other\nvariants:\n  - name: base\n";
    ms_write_bytes(yaml, other, strlen(other), 0);
    snprintf(args, sizeof args, "plot %s --db %s", yaml, f.db);
    assert_int_equal(ms_run_env("", args, &out, &err), 1);
    snprintf(want, sizeof want, "mlpsweep: no sweep 'other' in '%s'\n", f.db);
    assert_string_equal(err, want);
    free(out), free(err);
    fx_remove(&f);
}

/* The scripts gnuplot is given, all in one text: `plot` of the fixture
 * (its variants' batches b32 and b64) with a gnuplot on PATH that keeps a
 * copy of each script before it draws. */
static char *scripts_of(fx *f, const char *yaml_text)
{
    char *real = NULL, *yaml = NULL, *bin = NULL, *args = NULL, *env = NULL, *out, *err;
    assert_int_equal(ms_plot_find_gnuplot(&real), 0);
    if (asprintf(&bin, "%s/bin", f->dir) < 0 || asprintf(&yaml, "%s/s.yaml", f->dir) < 0)
        abort();
    assert_int_equal(mkdir(bin, 0755), 0);
    char *wrapper = NULL, *path = NULL;
    if (asprintf(&wrapper, "#!/bin/sh\ncat \"$1\" >>'%s/scripts.gp'\nexec '%s' \"$@\"\n", f->dir,
                 real) < 0 ||
        asprintf(&path, "%s/gnuplot", bin) < 0)
        abort();
    ms_write_bytes(path, wrapper, strlen(wrapper), 0);
    assert_int_equal(chmod(path, 0755), 0);
    ms_write_bytes(yaml, yaml_text, strlen(yaml_text), 0);
    if (asprintf(&env, "PATH='%s':\"$PATH\"", bin) < 0 ||
        asprintf(&args, "plot %s --db %s --out %s/figs", yaml, f->db, f->dir) < 0)
        abort();
    if (ms_run_env(env, args, &out, &err) != 0)
        fail_msg("plot: %s", err);
    free(out), free(err), free(wrapper), free(real), free(env), free(args), free(yaml);
    snprintf(path, strlen(path) + 1, "%s/scripts.gp", f->dir); /* shorter than bin/gnuplot */
    char *text = ms_read_file(path);
    assert_non_null(text);
    free(path), free(bin);
    return text;
}

static int count_of(const char *s, const char *needle);

/* Every figure's legend below its axes (none in a corner, over the curves),
 * every panel titled (the default figure's two losses too), the x axis in
 * epochs when the variants' batches differ unless the figure says steps. */
static void test_figure_script(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make_batch(&f, 64);
    static const char yaml[] = "name: study\nvariants:\n  - name: base\n    seeds: [1, 2]\n"
                               "  - name: other\n    hidden: [32]\n    batch: 64\n"
                               "plots:\n  - name: mixed\n    variants: [base, other]\n"
                               "  - name: steps\n    variants: [base, other]\n    x: step\n"
                               "  - name: alone\n    variants: [other]\n"
                               "    metrics: [[batch_loss, val_loss, step_loss]]\n";
    char *gp = scripts_of(&f, yaml);
    int panels = count_of(gp, "\nplot ");
    assert_int_equal(panels, 3 * 2 + 3 * 2 + 3 * 1); /* png, svg, pdf of each */
    assert_int_equal(count_of(gp, "set title '"), panels);
    assert_int_equal(count_of(gp, "set title ''"), 0);
    assert_int_equal(count_of(gp, "set title 'training and validation loss'"), 6);
    assert_int_equal(count_of(gp, "set title 'training and validation accuracy'"), 6);
    assert_int_equal(count_of(gp, "set title 'training batch loss, validation loss and training "
                                  "loss per step'"), 3);
    assert_int_equal(count_of(gp, "set key below"), 9);
    assert_int_equal(count_of(gp, "set key top"), 0);
    assert_int_equal(count_of(gp, "set key bottom"), 0);
    assert_null(strstr(gp, "opaque\n"));
    /* mixed: epochs (batches 32 and 64); steps: as it says; alone: one batch */
    char *steps = strstr(gp, "# mlpsweep plot steps"), *alone = strstr(gp, "# mlpsweep plot alone");
    assert_true(steps && alone && steps < alone);
    *alone = *steps = '\0';
    assert_int_equal(count_of(gp, "set xlabel 'epoch'"), 6);
    assert_int_equal(count_of(gp, "set xlabel 'training step'"), 0);
    assert_int_equal(count_of(steps + 1, "set xlabel 'training step'"), 6);
    assert_int_equal(count_of(alone + 1, "set xlabel 'training step'"), 3);
    free(gp);
    fx_remove(&f);
}

/* ---- the HTML report ---- */

/* The fixture's sweep with a label that HTML must escape, and two figures
 * with data (fig1, fig3) and one without (fig2). */
static const char report_manifest[] =
    "name: study\n"
    "variants:\n"
    "  - name: base\n"
    "    seeds: [1, 2]\n"
    "    label: \"<b>base</b> & co\"\n"
    "  - name: other\n"
    "    hidden: [32]\n"
    "plots:\n"
    "  - name: fig1\n"
    "    title: \"Figure 1: base against other\"\n"
    "    variants: [other]\n"
    "    reference: base\n"
    "  - name: fig2\n"
    "    variants: [base]\n"
    "    metrics: [[val_loss]]\n"
    "    x: epoch\n"
    "    loss_scale: log\n"
    "  - name: fig3\n"
    "    variants: [other]\n";

static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Decode base64 up to the first character outside its alphabet. */
static size_t unbase64(const char *s, unsigned char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (; *s && *s != '"'; s++) {
        if (*s == '=')
            continue;
        const char *c = strchr(abc, *s);
        assert_non_null(c);
        v = v << 6 | (unsigned)(c - abc);
        if ((bits += 6) >= 8) {
            out[n++] = (unsigned char)(v >> (bits - 8));
            bits -= 8;
        }
    }
    out[n] = 0;
    return n;
}

/* The report of the fixture, written with `report ARGS`; returns the page. */
static char *report_of(fx *f, const char *args_fmt, char **yaml)
{
    if (asprintf(yaml, "%s/report.yaml", f->dir) < 0)
        abort();
    ms_write_bytes(*yaml, report_manifest, strlen(report_manifest), 0);
    char args[8192], path[4096], *out, *err;
    snprintf(args, sizeof args, args_fmt, *yaml, f->db, f->dir);
    int rc = ms_run_env("", args, &out, &err);
    if (rc != 0)
        fail_msg("report: exit %d: %s", rc, err);
    snprintf(path, sizeof path, "%s/sub/r.html", f->dir);
    size_t n;
    char *page = slurp(path, &n);
    char want[4096];
    snprintf(want, sizeof want, "report written to '%s/sub/r.html'\n", f->dir);
    assert_non_null(strstr(err, want));
    free(out), free(err);
    return page;
}

static void test_report_page(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make(&f);
    char *yaml, args[8192], *out, *err;
    /* -o into a folder that does not exist yet: created */
    char *page = report_of(&f, "report %s --db %s -o %s/sub/r.html", &yaml);
    assert_memory_equal(page, "<!DOCTYPE html>\n", 16);
    assert_non_null(strstr(page, "<title>study: mlpsweep report</title>"));
    assert_non_null(strstr(page, "</html>\n"));
    /* the summary: one row per variant, base's two seeds as mean ± std */
    assert_non_null(strstr(page, "<th>variant</th>"));
    char *base = strstr(page, "<tr><td>base</td>"), *other = strstr(page, "<tr><td>other</td>");
    assert_non_null(base);
    assert_non_null(other);
    assert_true(strstr(base, " ± ") < other); /* in base's row */
    /* the three figures, their panels as base64 SVG images (test_report_panels) */
    assert_int_equal(count_of(page, "<figure"), 3);
    assert_non_null(strstr(page, "<span class=\"title\">Figure 1: base against other</span>"));
    /* the label, escaped wherever it appears; never as markup */
    assert_non_null(strstr(page, "(&lt;b&gt;base&lt;/b&gt; &amp; co)"));
    assert_null(strstr(page, "<b>base</b>"));
    /* each variant's runs, the manifest, provenance (the fixture's runs were
     * made by version "test" on host "host") */
    assert_non_null(strstr(page, "<h3 id=\"v-base\">"));
    /* the settings all variants share once, then each variant's that differ */
    assert_non_null(strstr(page, "<p class=\"note\">Every variant: activation sigmoid, init "
                                 "uniform, lr 0.1, momentum 0, batch 32, epochs 3, val_per_epoch 5, "
                                 "early_stop 50, shuffle true, train 20000, val 10000, dataset "
                                 "mnist, precision float32. Each variant below: the settings that "
                                 "differ between them.</p>"));
    assert_non_null(strstr(page, "</h3>\n<p>hidden 64; 50880 parameters</p>"));
    assert_non_null(strstr(page, "</h3>\n<p>hidden 32; 25440 parameters</p>"));
    assert_int_equal(count_of(page, "<td>done</td>"), 3);
    /* the manifest as the sweep ran it: the recorded one, not the file given */
    assert_non_null(strstr(page, "<pre>name: study\nvariants:\n"));
    assert_non_null(strstr(page, "    title: &quot;Figure 1: base against other&quot;\n"));
    assert_non_null(strstr(page, "report.yaml</code>, which the figures are drawn from, differs"));
    /* the header: dataset, images, precision, no setting on the command line */
    assert_non_null(strstr(page, "<li><span class=\"label\">data</span> MNIST</li>"));
    assert_non_null(strstr(page, "<li><span class=\"label\">images</span> 20,000 training, "
                                 "10,000 validation</li>"));
    assert_non_null(strstr(page, "<li><span class=\"label\">precision</span> float32</li>"));
    assert_non_null(strstr(page, "<span class=\"label\">settings</span> none on the command"));
    /* no title: the sweep's name; no claims: no section */
    assert_non_null(strstr(page, "<h1>study</h1>"));
    assert_null(strstr(page, "<section id=\"claims\">"));
    assert_null(strstr(page, "href=\"#claims\""));
    assert_non_null(strstr(page, "<th>hosts</th><td>host (3 runs)</td>"));
    assert_non_null(strstr(page, "<th>trained by</th><td>test (3 runs)</td>"));
    /* a narrow screen: its own rules; the variant column fixed while a
     * table scrolls; a figure opens full size on a tap (its own :target,
     * the image once) */
    assert_non_null(strstr(page, "@media (max-width:700px){"));
    assert_non_null(strstr(page, ".scroll tr>:first-child{position:sticky;left:0;"));
    assert_non_null(strstr(page, "figure:target{position:fixed;"));
    assert_non_null(strstr(page, "<figure id=\"fig-fig1\" class=\"plotfig\">\n<a class=\"close\" "
                                 "href=\"#figures\">× close</a><figcaption>"));
    /* self-contained: no address to load, no script */
    assert_null(strstr(page, "://"));
    assert_null(strstr(page, "<script"));
    /* -o -: the same page on stdout (but for the time it was written) */
    snprintf(args, sizeof args, "report %s --db %s -o -", yaml, f.db);
    assert_int_equal(ms_run_env("", args, &out, &err), 0);
    assert_memory_equal(out, page, 200);
    assert_int_equal(strlen(out), strlen(page));
    free(out), free(err);
    /* -o naming the database: refused, nothing touched */
    snprintf(args, sizeof args, "report %s --db %s -o %s", yaml, f.db, f.db);
    assert_int_equal(ms_run_env("", args, &out, &err), 1);
    assert_non_null(strstr(err, "refusing to overwrite it"));
    free(out), free(err);
    free(page);
    free(yaml);
    fx_remove(&f);
}

/* The SVG of the base64 image at b64 (after "base64,"), malloc'd. */
static char *svg_at(const char *b64)
{
    unsigned char *svg = malloc(strlen(b64) + 1);
    svg[unbase64(b64, svg)] = '\0';
    return (char *)svg;
}

/* A narrow screen: each figure's panels are images of their own (their
 * text legible at a phone's width), side by side in a grid of one column
 * a panel, stacked below 700px; the figure's title and note in the caption
 * above them, not in the images; a tap opens the whole figure. */
static void test_report_panels(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    fx_make(&f);
    char *yaml, *page = report_of(&f, "report %s --db %s -o %s/sub/r.html", &yaml);
    /* fig1 and fig2 two panels each, fig3 one: an image a panel */
    assert_int_equal(count_of(page, "src=\"data:image/svg+xml;base64,"), 5);
    const char *fig = strstr(page, "<figure id=\"fig-fig1\" class=\"plotfig\">");
    assert_non_null(fig);
    const char *end = strstr(fig, "</figure>"), *cap = strstr(fig, "<figcaption>");
    const char *grid = strstr(fig, "<a class=\"open\" href=\"#fig-fig1\" title=\"full size\">"
                                   "<span class=\"panels\" style=\"--n:2\">\n<img");
    assert_true(cap && grid && cap < grid && grid < end);
    assert_non_null(strstr(cap, "<span class=\"title\">Figure 1: base against other</span> "
                                "(<code>fig1</code>): mean of seeds; shaded: min to max"));
    /* its two images: the loss panel, then the accuracy panel, each alone */
    const char *b1 = strstr(grid, "base64,"), *b2 = b1 ? strstr(b1 + 7, "base64,") : NULL;
    assert_true(b1 && b2 && b2 < strstr(grid, "</span></a>"));
    char *svg1 = svg_at(b1 + 7), *svg2 = svg_at(b2 + 7);
    assert_non_null(strstr(svg1, "viewBox=\"0 0 480 "));
    assert_non_null(strstr(svg1, ">training and validation loss<"));
    assert_null(strstr(svg1, "accuracy"));
    assert_null(strstr(svg1, "Figure 1"));
    assert_non_null(strstr(svg2, ">training and validation accuracy<"));
    assert_null(strstr(svg2, "loss<"));
    free(svg1), free(svg2);
    /* wide: a column a panel; narrow: one column, the panels stacked */
    assert_non_null(strstr(page, ".panels{display:grid;grid-template-columns:repeat(var(--n),"));
    const char *media = strstr(page, "@media (max-width:700px){");
    assert_non_null(media);
    const char *stack = strstr(media, ".panels{grid-template-columns:minmax(0,1fr)}");
    assert_true(stack && stack < strstr(media, "}}\n"));
    free(page);
    free(yaml);
    fx_remove(&f);
}

/* A manifest's title and description (escaped), the settings the sweep ran
 * with (in the header and the manifest's view, though the file given has
 * none) and its claims with the verdicts `claims` prints. */
static void test_report_intro(void **state)
{
    (void)state;
    skip_without_gnuplot();
    fx f;
    char *recorded = NULL;
    if (asprintf(&recorded, "%s\n# Settings given on the command line (mlpsweep run MANIFEST "
                            "KEY=VALUE ...):\nsettings:\n  - 'epochs=3'\n",
                 manifest) < 0)
        abort();
    fx_make_with(&f, 32, recorded);
    static const char given[] =
        "name: study\ntitle: \"Base <vs> other & co\"\n"
        "description: \"Why: <i>width</i>.\\n\\nSecond paragraph.\"\n"
        "variants:\n  - name: base\n    seeds: [1, 2]\n  - name: other\n    hidden: [32]\n"
        "claims:\n  - text: \"base <beats> other\"\n    a: base\n    b: other\n"
        "    expect: higher\n  - a: base\n    b: base\n    expect: lower\n"
        "    metric: final_val_loss\n";
    char *yaml = NULL, *page, *out, *err, path[4096];
    if (asprintf(&yaml, "%s/given.yaml", f.dir) < 0)
        abort();
    ms_write_bytes(yaml, given, strlen(given), 0);
    assert_int_equal(ms_runf(&out, &err, "report %s --db %s -o %s/i.html", yaml, f.db, f.dir), 0);
    free(out), free(err);
    snprintf(path, sizeof path, "%s/i.html", f.dir);
    size_t n;
    page = slurp(path, &n);
    assert_non_null(strstr(page, "<h1>Base &lt;vs&gt; other &amp; co</h1>\n"
                                 "<p class=\"description\">Why: &lt;i&gt;width&lt;/i&gt;.</p>\n"
                                 "<p class=\"description\">Second paragraph.</p>\n"));
    assert_non_null(strstr(page, "<li><span class=\"label\">sweep</span> study</li>"));
    assert_non_null(strstr(page, "<span class=\"label\">settings</span> <code>epochs=3</code>"));
    assert_non_null(strstr(page, "settings:\n  - &#39;epochs=3&#39;\n</pre>"));
    /* the claims: each with the verdict and the numbers claims prints */
    assert_non_null(strstr(page, "<nav><a href=\"#results\">Results</a><a href=\"#claims\">"));
    assert_non_null(strstr(page, "<td class=\"name\">base &lt;beats&gt; other</td>"));
    assert_int_equal(ms_runf(&out, &err, "claims %s --db %s", yaml, f.db), 0);
    int rows = 0;
    for (const char *line = out; (line = strstr(line, "\nfinal_val_")); line++, rows++) {
        char metric[32], a[32], b[32], verdict[64], row[512];
        int na, nb;
        assert_int_equal(sscanf(line + 1, "%31s %31s %31s %d %d", metric, a, b, &na, &nb), 5);
        const char *v = strstr(line, "  A "), *eol = strchr(line + 1, '\n'); /* "  A higher   " */
        assert_true(v && v < eol);
        snprintf(verdict, sizeof verdict, "%.*s", (int)(eol - v - 13), v + 13);
        snprintf(row, sizeof row, "<td class=\"verdict %s\">%s</td><td>%s</td><td>%s</td><td>%s"
                 "</td><td>A %s</td><td class=\"num\">%d</td><td class=\"num\">%d</td>",
                 verdict[0] == 'n' ? "open" : verdict, verdict, metric, a, b,
                 v[4] == 'h' ? "higher" : "lower", na, nb);
        if (!strstr(page, row))
            fail_msg("no row '%s' in the report", row);
    }
    assert_int_equal(rows, 2);
    free(out), free(err), free(page), free(yaml), free(recorded);
    fx_remove(&f);
}

/* ---- headless Chromium ---- */

static const char *chromium(void)
{
    static const char *const paths[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/* Run Chromium headless on a file with extra flags (as root it needs
 * --no-sandbox; the others keep it off a network it does not have). */
static void chromium_run(const char *dir, const char *flags, const char *file, const char *out)
{
    char *cmd = NULL;
    if (asprintf(&cmd,
                 "%s --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                 "--disable-background-networking --disable-component-update --disable-sync "
                 "--user-data-dir=%s/chromium --hide-scrollbars %s file://%s >%s 2>%s/chromium.log",
                 chromium(), dir, flags, file, out, dir) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("chromium failed (see %s/chromium.log)", dir);
}

/* An 8-bit RGB or RGBA PNG (as Chromium writes screenshots) decoded into
 * *rgb (w x h x 3); 0, or -1 when the file is not one. */
static int png_rgb(const unsigned char *p, size_t n, int *w, int *h, unsigned char **rgb)
{
    if (n < 33 || memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return -1;
    size_t at = 8, zn = 0;
    unsigned char *z = malloc(n);
    int ch = 0;
    while (at + 12 <= n) {
        uint32_t len = (uint32_t)p[at] << 24 | p[at + 1] << 16 | p[at + 2] << 8 | p[at + 3];
        const unsigned char *type = p + at + 4, *d = p + at + 8;
        if (at + 12 + len > n)
            break;
        if (!memcmp(type, "IHDR", 4)) {
            *w = d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
            *h = d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7];
            if (d[8] != 8 || (d[9] != 2 && d[9] != 6) || d[12] != 0) {
                free(z);
                return -1;
            }
            ch = d[9] == 6 ? 4 : 3;
        } else if (!memcmp(type, "IDAT", 4)) {
            memcpy(z + zn, d, len);
            zn += len;
        }
        at += 12 + len;
    }
    size_t stride = (size_t)*w * ch, raw_n = (stride + 1) * (size_t)*h;
    unsigned char *raw = malloc(raw_n);
    uLongf got = raw_n;
    int zrc = ch ? uncompress(raw, &got, z, zn) : Z_DATA_ERROR;
    free(z);
    if (zrc != Z_OK || got != raw_n) {
        free(raw);
        return -1;
    }
    unsigned char *img = calloc(stride * (size_t)*h, 1);
    *rgb = malloc((size_t)*w * *h * 3);
    for (int y = 0; y < *h; y++) {
        const unsigned char *f = raw + (stride + 1) * y + 1;
        unsigned char *o = img + stride * y, *up = y ? o - stride : NULL;
        for (size_t x = 0; x < stride; x++) {
            int a = x >= (size_t)ch ? o[x - ch] : 0, b = up ? up[x] : 0,
                c = up && x >= (size_t)ch ? up[x - ch] : 0, v = f[x];
            switch (f[-1]) {
            case 1: v += a; break;
            case 2: v += b; break;
            case 3: v += (a + b) / 2; break;
            case 4: {
                int q = a + b - c, pa = abs(q - a), pb = abs(q - b), pc = abs(q - c);
                v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                break;
            }
            default: break;
            }
            o[x] = (unsigned char)v;
        }
        for (int x = 0; x < *w; x++)
            memcpy(*rgb + ((size_t)y * *w + x) * 3, o + (size_t)x * ch, 3);
    }
    free(raw);
    free(img);
    return 0;
}

static void test_report_browser(void **state)
{
    (void)state;
    skip_without_gnuplot();
    if (!chromium()) {
        if (getenv("CI"))
            fail_msg("chromium is not installed ('make test' installs it)");
        print_message("chromium is not installed ('make test' installs it): skipped\n");
        skip();
    }
    fx f;
    fx_make(&f);
    char *yaml, path[4096], out[4096];
    free(report_of(&f, "report %s --db %s -o %s/sub/r.html", &yaml));
    snprintf(path, sizeof path, "%s/sub/r.html", f.dir);
    /* the DOM as the browser built it */
    snprintf(out, sizeof out, "%s/dom.html", f.dir);
    chromium_run(f.dir, "--dump-dom", path, out);
    size_t n;
    char *dom = slurp(out, &n);
    assert_non_null(strstr(dom, "<h1>study</h1>"));
    assert_int_equal(count_of(dom, "<figure"), 3);
    assert_int_equal(count_of(dom, "<table>"), 1 + 2 + 1); /* summary, 2 variants, provenance */
    assert_non_null(strstr(dom, "<td>other</td>"));
    free(dom);
    /* what a reader sees: a page with text and, from the figures alone (the
     * page's own colours are greys), coloured curves */
    char flags[8192];
    snprintf(out, sizeof out, "%s/shot.png", f.dir);
    snprintf(flags, sizeof flags, "--window-size=1000,2400 --screenshot=%s", out);
    chromium_run(f.dir, flags, path, "/dev/null");
    unsigned char *png = (unsigned char *)slurp(out, &n), *rgb = NULL;
    int w = 0, h = 0;
    assert_int_equal(png_rgb(png, n, &w, &h, &rgb), 0);
    assert_int_equal(w, 1000);
    assert_int_equal(h, 2400);
    long dark = 0, colour = 0;
    for (long i = 0; i < (long)w * h; i++) {
        const unsigned char *q = rgb + 3 * i;
        int lo = q[0] < q[1] ? q[0] : q[1], hi = q[0] > q[1] ? q[0] : q[1];
        lo = q[2] < lo ? q[2] : lo;
        hi = q[2] > hi ? q[2] : hi;
        dark += hi < 128;
        colour += hi - lo > 80;
    }
    print_message("screenshot: %ld dark pixels (text, lines), %ld coloured (curves)\n", dark,
                  colour);
    assert_true(dark > 5000);
    assert_true(colour > 500);
    free(png);
    free(rgb);
    free(yaml);
    fx_remove(&f);
}

/* The page measured by the browser at a given width: a copy of the report
 * with a script that, once everything is loaded, reports one line of what a
 * reader would see to the page that frames it (headless Chromium's window is
 * never narrower than 500 px; a frame of any width is). */
typedef struct {
    int width;       /* the frame's inner width, px */
    int page;        /* the page's scroll width (no sideways scrolling: <= width) */
    int font;        /* body text size, px */
    int stacked;     /* a two-panel figure's second panel below the first */
    int panel;       /* its first panel's width, px */
    char sticky[16]; /* the position of a scrolling table's first column */
    char opened[16]; /* the figure's position once its link is followed */
    int full;        /* then its first panel's width, px */
} layout;

static const char measure_js[] =
    "<script>addEventListener('load',function(){"
    "var r=[],p=document.querySelector('figure.plotfig .panels'),im=p.querySelectorAll('img'),"
    "a=im[0].getBoundingClientRect(),b=im[1].getBoundingClientRect(),"
    "fig=p.closest('figure'),td=document.querySelector('.scroll td');"
    "r.push(innerWidth,document.documentElement.scrollWidth,"
    "parseInt(getComputedStyle(document.body).fontSize),"
    "b.top>=a.bottom-1?1:0,Math.round(a.width),getComputedStyle(td).position);"
    "location.hash=fig.id;"
    "r.push(getComputedStyle(fig).position,Math.round(im[0].getBoundingClientRect().width));"
    "parent.postMessage('layout: '+r.join(' '),'*');});</script>\n";

static const char frame_html[] =
    "<!DOCTYPE html><html><body style=\"margin:0\">"
    "<iframe src=\"measure.html\" width=\"%d\" height=\"900\" style=\"border:0\"></iframe>"
    "<script>addEventListener('message',function(e){var p=document.createElement('pre');"
    "p.id='layout';p.textContent=e.data;document.body.appendChild(p);});</script>"
    "</body></html>\n";

static layout measure(const char *dir, const char *page, int width)
{
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s/measure.html", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(page, f);
    fputs(measure_js, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/frame.html", dir);
    f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, frame_html, width);
    fclose(f);
    snprintf(out, sizeof out, "%s/measured.html", dir);
    /* virtual time: the message arrives after the load event */
    chromium_run(dir, "--window-size=1400,1000 --virtual-time-budget=10000 --dump-dom", path, out);
    size_t n;
    char *dom = slurp(out, &n), *at = strstr(dom, "<pre id=\"layout\">layout: ");
    if (!at)
        fail_msg("no layout line in the page the browser built (%s)", out);
    layout l;
    memset(&l, 0, sizeof l);
    assert_int_equal(sscanf(at, "<pre id=\"layout\">layout: %d %d %d %d %d %15s %15s %d", &l.width,
                            &l.page, &l.font, &l.stacked, &l.panel, l.sticky, l.opened, &l.full),
                     8);
    print_message("%d px: page %d px wide, text %d px, panels %s, first panel %d px; "
                  "first column %s; opened: %s, %d px\n",
                  l.width, l.page, l.font, l.stacked ? "stacked" : "side by side", l.panel,
                  l.sticky, l.opened, l.full);
    free(dom);
    return l;
}

/* Issue 27's narrow screen: at 400 px nothing scrolls sideways but tables,
 * the text is 16 px, a figure's panels stack at nearly the page's width,
 * the variant column stays put, and a tap opens the figure at full size;
 * at 1200 px the panels sit side by side. */
static void test_report_narrow(void **state)
{
    (void)state;
    skip_without_gnuplot();
    if (!chromium()) {
        if (getenv("CI"))
            fail_msg("chromium is not installed ('make test' installs it)");
        skip();
    }
    fx f;
    fx_make(&f);
    char *yaml, *page = report_of(&f, "report %s --db %s -o %s/sub/r.html", &yaml);
    layout n = measure(f.dir, page, 400), w = measure(f.dir, page, 1200);
    assert_int_equal(n.width, 400);
    assert_int_equal(w.width, 1200);
    assert_true(n.page <= 400);
    assert_int_equal(n.font, 16);
    assert_int_equal(n.stacked, 1);
    assert_true(n.panel >= 360);
    assert_string_equal(n.sticky, "sticky");
    assert_string_equal(n.opened, "fixed");
    assert_true(n.full > n.panel + 50); /* the SVG's own width, the page scrolls over it */
    assert_int_equal(w.stacked, 0);
    assert_true(w.panel >= 500);
    assert_true(w.page <= 1200);
    assert_int_equal(w.font, 15);
    free(page), free(yaml);
    fx_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_report_narrow),
        cmocka_unit_test(test_step_curve),
        cmocka_unit_test(test_plot_files),
        cmocka_unit_test(test_recorded_manifest),
        cmocka_unit_test(test_no_gnuplot),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_figure_script),
        cmocka_unit_test(test_report_page),
        cmocka_unit_test(test_report_panels),
        cmocka_unit_test(test_report_intro),
        cmocka_unit_test(test_report_browser),
    };
    return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
