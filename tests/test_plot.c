/* Tests for `mlpsweep plot`: a hand-made database and manifest give PNG and
 * SVG files of the declared names (no temporary files left), a variant
 * without runs is skipped with a warning, a figure without data is not
 * written, the manifest recorded in the database serves when none is given,
 * and without gnuplot the command fails with one exact line. */
#include "ms_test.h"

#include "ms_config.h"
#include "ms_plot.h"
#include "ms_store.h"

#include <dirent.h>
#include <math.h>
#include <sys/wait.h>

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
    "    metrics: [[batch_loss, val_loss]]\n"
    "    x: epoch\n"
    "    loss_scale: log\n";

typedef struct fx {
    char *dir, *db, *yaml;
} fx;

/* The sweep of `manifest` without 'ghost': 3 epochs of 5 validations each,
 * smooth curves that differ a little by seed. */
static void fx_make(fx *f)
{
    f->dir = ms_tmpdir();
    if (asprintf(&f->db, "%s/study.db", f->dir) < 0 || asprintf(&f->yaml, "%s/study.yaml", f->dir) < 0)
        abort();
    ms_write_bytes(f->yaml, manifest, strlen(manifest), 0);
    ms_store *s;
    int64_t sweep;
    assert_int_equal(ms_store_open(f->db, MS_STORE_CREATE, &s), 0);
    assert_int_equal(ms_store_sweep(s, "study", f->yaml, manifest, &sweep), 0);
    ms_config cfg[3];
    ms_run_spec keys[3];
    const char *names[3] = {"base", "base", "other"};
    for (int i = 0; i < 3; i++) {
        ms_config_default(&cfg[i]);
        cfg[i].seed = i == 1 ? 2 : 1;
        cfg[i].epochs = 3;
        if (i == 2)
            cfg[i].hidden[0] = 32;
        keys[i] = (ms_run_spec){names[i], "", cfg[i]};
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
            ms_epoch ep = {e, ev[4].train_loss, ev[4].train_acc, ev[4].val_loss, ev[4].val_acc, 1.0};
            assert_int_equal(ms_store_commit_epoch(s, info[r].id, &ep, (int64_t)e * 625, ev, 5, NULL,
                                                   0, e == 3 ? MS_STOP_EPOCHS : MS_STOP_NONE),
                             0);
        }
    }
    ms_store_close(s);
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
        free(b);
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_files),
        cmocka_unit_test(test_recorded_manifest),
        cmocka_unit_test(test_no_gnuplot),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
