/* The grid views (issue 24, item 3): a study of three grids on the tiny
 * data (lr x batch: two axes; lr x momentum x batch: three; hidden: one),
 * three seeds each. ms_grid_find's axes, pivot cells (against `export
 * --pivot`), ranking and paired differences (one worked by hand from the
 * stored values); `plot` writes sgd-heatmap (each cell's annotation the
 * pivot's mean) and mom-parallel (lr on a log axis) and nothing for the
 * one-axis grid; the report's Grids section holds both figures and each
 * grid's ranking. */
#include "ms_test.h"

#include "ms_grid.h"
#include "ms_query.h"
#include "ms_store.h"

#include <math.h>

static char *db, *yaml, *plots;

/* a and b within eps (this cmocka has no assert_double_equal) */
#define assert_near(a, b, eps)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (eps)))                                                             \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                                    \
    } while (0)

static int setup(void **state)
{
    ms_tiny_data_setup(state);
    char *text = NULL, *out, *err;
    yaml = ms_tpath("g.yaml");
    db = ms_tpath("g.db");
    plots = ms_tpath("plots");
    if (asprintf(&text,
                 "name: g\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: 2\n  early_stop: 0\n  seeds: [1, 2, 3]\n"
                 "variants:\n"
                 "  - name: sgd\n    grid: {lr: [0.5, 0.1], batch: [32, 16]}\n"
                 "  - name: mom\n    grid: {lr: [0.5, 0.05], momentum: [0, 0.9], batch: [32, 16]}\n"
                 "  - name: wide\n    grid: {hidden: [[8], [16]]}\n",
                 ms_tiny_data) < 0)
        abort();
    ms_write_text(yaml, text);
    free(text);
    assert_int_equal(ms_runf(&out, &err, "run '%s' --db '%s' --quiet --threads 1", yaml, db), 0);
    free(out), free(err);
    return 0;
}

static int teardown(void **state)
{
    free(db), free(yaml), free(plots);
    return ms_tiny_data_teardown(state);
}

/* The grids of the study's snapshot (and the snapshot, for its runs). */
static void grids_of(ms_snapshot *snap, ms_grid **g, int *n)
{
    ms_store *st;
    assert_int_equal(ms_store_open(db, MS_STORE_READONLY, &st), 0);
    assert_int_equal(ms_snapshot_read(st, "g", ms_grid_reads(), snap), 0);
    ms_store_close(st);
    assert_int_equal(ms_grid_find(snap, NULL, 0.95, g, n), 0);
}

/* The pivot's mean of row value r, column value c, from `export --pivot
 * lr,batch --where grid=sgd` as CSV (lr,batch=16,batch=32). */
static double pivot_mean(const char *csv, const char *r, int col)
{
    char *lines = strdup(csv), *save = NULL;
    double v = NAN;
    for (char *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t k = strcspn(l, ",");
        if (strlen(r) != k || strncmp(l, r, k) != 0)
            continue;
        const char *p = l + k;
        for (int j = 0; j <= col; j++)
            p = strchr(p, ',') + 1;
        v = strtod(p, NULL);
    }
    free(lines);
    return v;
}

static void test_grid_axes_and_pivot(void **state)
{
    (void)state;
    ms_snapshot snap;
    ms_grid *g;
    int n;
    grids_of(&snap, &g, &n);
    assert_int_equal(n, 3);
    assert_string_equal(g[0].name, "sgd");
    assert_int_equal(g[0].naxes, 2);
    assert_string_equal(g[0].axes[0].key, "lr"); /* the summary's column order */
    assert_string_equal(g[0].axes[1].key, "batch");
    assert_string_equal(g[0].axes[0].values[0], "0.1"); /* ascending, as --pivot */
    assert_string_equal(g[0].axes[0].values[1], "0.5");
    assert_string_equal(g[0].axes[1].values[0], "16");
    assert_false(g[0].axes[0].log); /* 0.1 to 0.5: under 10x */
    assert_int_equal(g[1].naxes, 3);
    assert_string_equal(g[1].axes[1].key, "lr");
    assert_true(g[1].axes[1].log); /* 0.05 to 0.5 */
    assert_int_equal(g[2].naxes, 1);
    assert_string_equal(g[2].axes[0].key, "hidden");
    assert_null(g[2].cells);
    /* each heatmap cell is export --pivot's mean, and the ranking's */
    char *csv, *err;
    assert_int_equal(ms_runf(&csv, &err,
                             "export --db '%s' --where grid=sgd --pivot lr,batch --metric "
                             "final_val_acc",
                             db),
                     0);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double cell = g[0].cells[i * 2 + j];
            assert_near(cell, pivot_mean(csv, g[0].axes[0].values[i], j), 1e-12);
            for (int k = 0; k < g[0].nconfigs; k++)
                if (g[0].configs[k].at[0] == i && g[0].configs[k].at[1] == j)
                    assert_near(g[0].configs[k].stat.mean, cell, 1e-12);
        }
    free(csv), free(err);
    ms_grid_free(g, n);
    ms_snapshot_release(&snap);
}

/* A run's final validation accuracy as the snapshot read it from the
 * database. */
static double stored(const ms_snapshot *s, const char *variant, int seed)
{
    for (int i = 0; i < s->nruns; i++)
        if (!strcmp(s->runs[i].variant, variant) && s->runs[i].seed == seed)
            return s->runs[i].final_val_acc;
    fail_msg("no run of '%s' with seed %d", variant, seed);
    return NAN;
}

static void test_grid_ranking(void **state)
{
    (void)state;
    ms_snapshot snap;
    ms_grid *g;
    int n;
    grids_of(&snap, &g, &n);
    for (int k = 0; k < n; k++) {
        assert_int_equal(g[k].configs[0].vs_best.kind, MS_TEST_NONE); /* the best: itself */
        for (int i = 1; i < g[k].nconfigs; i++) {
            assert_true(g[k].configs[i].stat.mean <= g[k].configs[i - 1].stat.mean);
            assert_int_equal(g[k].configs[i].vs_best.kind, MS_TEST_PAIRED);
            assert_int_equal(g[k].configs[i].vs_best.n, 3);
        }
    }
    /* the second of sgd against the best, by hand: three seeds' differences,
     * their mean -/+ t(0.975, 2) = 4.302652729911275 times the standard error */
    const char *best = g[0].configs[0].variant, *second = g[0].configs[1].variant;
    double d[3], sum = 0, ss = 0;
    for (int s = 0; s < 3; s++)
        sum += d[s] = stored(&snap, second, s + 1) - stored(&snap, best, s + 1);
    double mean = sum / 3;
    for (int s = 0; s < 3; s++)
        ss += (d[s] - mean) * (d[s] - mean);
    double half = 4.302652729911275 * sqrt(ss / 2) / sqrt(3);
    const ms_comparison *c = &g[0].configs[1].vs_best;
    assert_near(c->diff, mean, 1e-12);
    assert_near(c->lo, mean - half, 1e-9);
    assert_near(c->hi, mean + half, 1e-9);
    assert_true(mean <= 0);
    /* the best's own interval: its mean -/+ the same quantile times its standard error */
    double v[3], m = 0, sv = 0;
    for (int s = 0; s < 3; s++)
        m += v[s] = stored(&snap, best, s + 1) / 3;
    for (int s = 0; s < 3; s++)
        v[s] *= 3, sv += (v[s] - m) * (v[s] - m);
    assert_near(g[0].configs[0].lo, m - 4.302652729911275 * sqrt(sv / 2) / sqrt(3), 1e-9);
    ms_grid_free(g, n);
    ms_snapshot_release(&snap);
}

static int exists(const char *dir, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        abort();
    int ok = access(p, F_OK) == 0;
    free(p);
    return ok;
}

static void test_grid_plot_files(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "plot '%s' --db '%s' --out '%s'", yaml, db, plots), 0);
    assert_non_null(strstr(out, "/sgd-heatmap.svg\n"));
    assert_non_null(strstr(out, "/mom-parallel.png\n"));
    free(out), free(err);
    static const char *const want[] = {"sgd-heatmap.png", "sgd-heatmap.svg", "sgd-heatmap.pdf",
                                       "mom-parallel.png", "mom-parallel.svg", "mom-parallel.pdf"};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        assert_true(exists(plots, want[i]));
    /* one axis: no heatmap, no parallel coordinates */
    assert_false(exists(plots, "wide-heatmap.svg"));
    assert_false(exists(plots, "wide-parallel.svg"));
    assert_false(exists(plots, "sgd-parallel.svg"));
    /* every cell annotated with the pivot's mean, in % */
    ms_snapshot snap;
    ms_grid *g;
    int n;
    grids_of(&snap, &g, &n);
    char *path = NULL, *svg;
    if (asprintf(&path, "%s/sgd-heatmap.svg", plots) < 0)
        abort();
    svg = ms_read_file(path);
    for (int i = 0; i < 4; i++) {
        char label[64];
        snprintf(label, sizeof label, ">%.2f</text>", 100 * g[0].cells[i]);
        if (!strstr(svg, label))
            fail_msg("no cell annotated '%s' in %s", label, path);
    }
    assert_non_null(strstr(svg, ">lr</text>"));
    assert_non_null(strstr(svg, ">batch</text>"));
    free(svg), free(path);
    if (asprintf(&path, "%s/mom-parallel.svg", plots) < 0)
        abort();
    svg = ms_read_file(path);
    assert_non_null(strstr(svg, ">lr (log)</text>"));
    assert_non_null(strstr(svg, ">momentum</text>"));
    free(svg), free(path);
    ms_grid_free(g, n);
    ms_snapshot_release(&snap);
}

/* The report: its Grids section, the figures, and sgd's ranking row by row. */
static void test_grid_report(void **state)
{
    (void)state;
    char *page, *err;
    assert_int_equal(ms_runf(&page, &err, "report '%s' --db '%s' -o -", yaml, db), 0);
    free(err);
    const char *sec = strstr(page, "<section id=\"grids\">");
    assert_non_null(sec);
    assert_non_null(strstr(page, "<a href=\"#grids\">Grids</a>"));
    assert_non_null(strstr(sec, "<figure id=\"fig-grid-sgd\" class=\"gridfig\">"));
    assert_non_null(strstr(sec, "<figure id=\"fig-grid-mom\" class=\"gridfig\">"));
    assert_non_null(strstr(sec, "Parallel coordinates of grid mom"));
    assert_null(strstr(sec, "fig-grid-wide")); /* one axis: ranked, not drawn */
    const char *wide = strstr(sec, "<h3 id=\"grid-wide\">");
    assert_non_null(wide);
    assert_non_null(strstr(wide, "<table class=\"ranking\">"));
    /* the ranking's rows in ms_grid_find's order, the first "best" */
    ms_snapshot snap;
    ms_grid *g;
    int n;
    grids_of(&snap, &g, &n);
    const char *p = strstr(sec, "<h3 id=\"grid-sgd\">");
    for (int i = 0; i < g[0].nconfigs; i++) {
        char row[256], name[160];
        size_t o = 0; /* the name may break after each dot */
        for (const char *q = g[0].configs[i].variant; *q && o + 6 < sizeof name; q++) {
            name[o++] = *q;
            if (*q == '.' && q[1])
                o += (size_t)snprintf(name + o, sizeof name - o, "<wbr>");
        }
        name[o] = '\0';
        snprintf(row, sizeof row, "<tr><td class=\"num\">%d</td><td class=\"name\">%s</td>",
                 i + 1, name);
        p = strstr(p, row);
        if (!p)
            fail_msg("ranking row '%s' missing or out of order", row);
        char mean[64];
        snprintf(mean, sizeof mean, "<td class=\"num\">%.2f</td>", 100 * g[0].configs[i].stat.mean);
        assert_non_null(strstr(p, mean));
        if (i == 0)
            assert_non_null(strstr(p, "<td class=\"num\">best</td>"));
        else {
            char diff[64];
            snprintf(diff, sizeof diff, "<td class=\"num\">%+.2f [", /* then its interval */
                     100 * g[0].configs[i].vs_best.diff);
            assert_non_null(strstr(p, diff));
        }
    }
    ms_grid_free(g, n);
    ms_snapshot_release(&snap);
    free(page);
}

/* A pruned search's view: its trials ranked by the epochs they trained,
 * then the metric; the epochs against the full budget; the metric against
 * each setting as its figure (lr on a log axis), no heatmap; each trial's
 * learning curve with the journal's decisions marked; parallel
 * coordinates. */
static void test_search_view(void **state)
{
    (void)state;
    char *text = NULL, *out, *err, *sy = ms_tpath("s.yaml"), *sdb = ms_tpath("s.db"),
         *splots = ms_tpath("splots");
    if (asprintf(&text,
                 "name: s\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  early_stop: 0\n  seeds: [1, 2]\n"
                 "variants:\n"
                 "  - name: hunt\n"
                 "    search: {trials: 8, seed: 2, space: {lr: {loguniform: [0.01, 2.0]},"
                 " momentum: {uniform: [0, 0.9], step: 0.1}}}\n"
                 "    prune: {type: asha, min: 1, max: 4, eta: 2}\n",
                 ms_tiny_data) < 0)
        abort();
    ms_write_text(sy, text);
    free(text);
    assert_int_equal(ms_runf(&out, &err, "run '%s' --db '%s' --quiet --threads 1", sy, sdb), 0);
    free(out), free(err);
    ms_store *st;
    ms_snapshot snap;
    ms_grid *g;
    int n;
    assert_int_equal(ms_store_open(sdb, MS_STORE_READONLY, &st), 0);
    assert_int_equal(ms_snapshot_read(st, "s", ms_grid_reads(), &snap), 0);
    ms_store_close(st);
    assert_int_equal(ms_grid_find(&snap, NULL, 0.95, &g, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(g[0].search, 1);
    assert_null(g[0].cells); /* no pivot */
    assert_int_equal(g[0].epochs_full, 8 * 2 * 4);
    long trained = ms_db_count(sdb, "SELECT count(*) FROM epochs");
    assert_int_equal(g[0].epochs_run, trained);
    assert_true(trained < g[0].epochs_full);
    for (int i = 1; i < g[0].nconfigs; i++) {
        const ms_grid_config *a = &g[0].configs[i - 1], *b = &g[0].configs[i];
        assert_true(a->epochs > b->epochs ||
                    (a->epochs == b->epochs && a->stat.mean >= b->stat.mean));
    }
    assert_true(g[0].configs[0].epochs == 4);
    /* each trial's curve is its seeds' mean val_loss at each epoch (the
     * epochs table's), and its marks are the journal's decisions on it */
    assert_int_equal(g[0].curve_metric, MS_METRIC_VAL_LOSS);
    long marks = 0;
    for (int i = 0; i < g[0].nconfigs; i++) {
        const ms_grid_config *c = &g[0].configs[i];
        assert_int_equal(c->ncurve, (int)c->epochs);
        char sql[256];
        for (int e = 1; e <= c->ncurve; e++) {
            snprintf(sql, sizeof sql,
                     "SELECT round(avg(e.val_loss) * 1e12) FROM epochs e JOIN runs r ON r.id ="
                     " e.run_id WHERE r.variant = 'hunt.t%d' AND e.epoch = %d",
                     c->trial, e);
            assert_int_equal(ms_db_count(sdb, sql), (long)llround(c->curve[e - 1] * 1e12));
        }
        snprintf(sql, sizeof sql, "SELECT count(*) FROM decisions WHERE trial = %d", c->trial);
        assert_int_equal(c->nmarks, ms_db_count(sdb, sql));
        for (int m = 0; m < c->nmarks; m++) {
            assert_true(c->marks[m].epoch <= c->ncurve);
            assert_true(fabs(c->marks[m].value - c->curve[c->marks[m].epoch - 1]) < 1e-12);
            assert_true(c->marks[m].promote || c->ncurve == c->marks[m].epoch);
        }
        marks += c->nmarks;
    }
    assert_int_equal(marks, ms_db_count(sdb, "SELECT count(*) FROM decisions"));
    assert_true(marks > 4);
    ms_grid_free(g, n);
    ms_snapshot_release(&snap);
    assert_int_equal(ms_runf(&out, &err, "plot '%s' --db '%s' --out '%s'", sy, sdb, splots), 0);
    assert_non_null(strstr(out, "/hunt-settings.svg\n"));
    assert_non_null(strstr(out, "/hunt-curves.svg\n"));
    assert_non_null(strstr(out, "/hunt-parallel.svg\n"));
    free(out), free(err);
    assert_false(exists(splots, "hunt-heatmap.svg"));
    char *path = NULL;
    if (asprintf(&path, "%s/hunt-settings.svg", splots) < 0)
        abort();
    char *svg = ms_read_file(path);
    assert_non_null(strstr(svg, ">lr</text>"));
    assert_non_null(strstr(svg, ">momentum</text>"));
    assert_non_null(strstr(svg, ">epochs trained</text>"));
    free(svg), free(path);
    if (asprintf(&path, "%s/hunt-curves.svg", splots) < 0)
        abort();
    svg = ms_read_file(path);
    assert_non_null(strstr(svg, ">promoted</text>"));
    assert_non_null(strstr(svg, ">stopped</text>"));
    assert_non_null(strstr(svg, ">val_loss (log scale)</text>"));
    free(svg), free(path);
    assert_int_equal(ms_runf(&out, &err, "report '%s' --db '%s' -o -", sy, sdb), 0);
    assert_non_null(strstr(out, "Learning curves and rung decisions of search hunt"));
    assert_non_null(strstr(out, "Parallel coordinates of search hunt"));
    char want[128];
    snprintf(want, sizeof want, "<p>%ld of 64 epochs trained (", trained);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "<th class=\"num\">epochs</th>"));
    assert_non_null(strstr(out, "Each setting of search hunt"));
    free(out), free(err), free(sy), free(sdb), free(splots);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_axes_and_pivot),
        cmocka_unit_test(test_grid_ranking),
        cmocka_unit_test(test_grid_plot_files),
        cmocka_unit_test(test_grid_report),
        cmocka_unit_test(test_search_view),
    };
    return cmocka_run_group_tests_name("grid", tests, setup, teardown);
}
