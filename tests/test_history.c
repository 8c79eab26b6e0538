/* Every run a database trained stays reachable (issue 24, item 1): the
 * reading commands show the last `run`'s runs by default and every run
 * with --all, a variant's earlier settings named VARIANT@N; a name not in
 * the last run resolves to its runs from an earlier one, with a note; and
 * status counts the runs of earlier invocations. On the tiny data. */
#include "ms_test.h"

#include "ms_query.h"
#include "ms_scope.h"
#include "ms_store.h"

/* Run `mlpsweep ARGS` (a printf format); stdout and stderr into *out and
 * *err (caller frees). The exit status. */
/* The same, that must exit 0 with nothing on stderr; its stdout. */
/* A manifest of three variants x two seeds on the tiny data, with a claim;
 * its path (caller frees). */
static char *manifest(const char *name)
{
    char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/%s.yaml", ms_group_tmp, name) < 0 ||
        asprintf(&text,
                 "name: %s\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: 2\n  early_stop: 0\n  seeds: [1, 2]\n"
                 "variants:\n  - name: baseline\n"
                 "  - name: improved\n    activation: improved_sigmoid\n    init: fanin_normal\n"
                 "  - name: hidden_64\n    hidden: [16]\n"
                 "claims:\n  - a: improved\n    b: baseline\n    expect: higher\n",
                 name, ms_tiny_data) < 0)
        abort();
    ms_write_text(path, text);
    free(text);
    return path;
}

/* `run` (its notes of changed variants on stderr), which must succeed. */
static void run_quiet(const char *m, const char *db, const char *extra)
{
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "run %s %s --db %s --quiet", m, extra, db), 0);
    free(out), free(err);
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* The scenario: a sweep, then a grid on one variant from the
 * command line, then `run --only` of another with other settings. */
static char *scenario(const char *name, char **db)
{
    char *m = manifest(name);
    if (asprintf(db, "%s/%s.db", ms_group_tmp, name) < 0)
        abort();
    run_quiet(m, *db, "");
    run_quiet(m, *db, "improved.lr=0.05,0.2");
    return m;
}

/* export shows the last invocation's runs, export --all every run, each
 * group once (its seeds together), in the order of its first run. */
static void test_export_all(void **state)
{
    (void)state;
    char *db, *m = scenario("exp1", &db);
    char *out = ms_okf(0, "export --db %s --columns variant,seeds,lr", db);
    assert_string_equal(out, "variant,seeds,lr\nbaseline,2,0.1\nhidden_64,2,0.1\n"
                             "improved.lr-0.05,2,0.05\nimproved.lr-0.2,2,0.2\n");
    free(out);
    out = ms_okf(0, "export --db %s --all --columns variant,seeds,lr", db);
    assert_string_equal(out, "variant,seeds,lr\nbaseline,2,0.1\nimproved,2,0.1\nhidden_64,2,0.1\n"
                             "improved.lr-0.05,2,0.05\nimproved.lr-0.2,2,0.2\n");
    free(out);
    /* a further run with other settings for one variant only */
    run_quiet(m, db, "--only hidden_64 epochs=3");
    out = ms_okf(0, "export --db %s --all --columns variant,seeds,epochs", db);
    assert_string_equal(out, "variant,seeds,epochs_mean,epochs_std\nbaseline,2,2,0\n"
                             "improved,2,2,0\nhidden_64@1,2,2,0\nimproved.lr-0.05,2,2,0\n"
                             "improved.lr-0.2,2,2,0\nhidden_64,2,3,0\n");
    free(out);
    out = ms_okf(0, "export --db %s --columns variant,seeds,epochs", db);
    assert_string_equal(out, "variant,seeds,epochs_mean,epochs_std\nhidden_64,2,3,0\n");
    free(out);
    /* the long tables name runs the same way: 12 runs x 2 or 3 epochs */
    out = ms_okf(0, "export --db %s --all --table epochs --columns variant,seed,epoch", db);
    assert_int_equal(count_of(out, "\n"), 1 + 10 * 2 + 2 * 3);
    assert_int_equal(count_of(out, "\nhidden_64@1,"), 4);
    assert_int_equal(count_of(out, "\nhidden_64,"), 6);
    free(out);
    free(m), free(db);
}

/* compare and --where find a variant that is not in the last run among
 * the earlier runs, and say so. */
static void test_names_resolve(void **state)
{
    (void)state;
    char *db, *m = scenario("exp2", &db), *out, *err;
    run_quiet(m, db, "--only hidden_64 epochs=3");
    assert_int_equal(ms_runf(&out, &err, "compare improved.lr-0.05 improved.lr-0.2 --db %s", db), 0);
    assert_string_equal(err, "mlpsweep: note: 'improved.lr-0.05' is not in the last run; using "
                             "its 2 runs from an earlier one (--all lists every run)\n"
                             "mlpsweep: note: 'improved.lr-0.2' is not in the last run; using "
                             "its 2 runs from an earlier one (--all lists every run)\n");
    assert_non_null(strstr(out, "improved.lr-0.05   improved.lr-0.2      2   2 paired"));
    free(out), free(err);
    /* with --all the same names, no note, the same numbers */
    char *all = ms_okf(0, "compare improved.lr-0.05 improved.lr-0.2 --all --db %s", db);
    assert_int_equal(ms_runf(&out, &err, "compare improved.lr-0.05 improved.lr-0.2 --db %s", db), 0);
    assert_string_equal(all, out);
    free(all), free(out), free(err);
    /* an earlier setting of a current variant, by its --all name */
    out = ms_okf(0, "compare hidden_64 hidden_64@1 --all --db %s", db);
    assert_non_null(strstr(out, "hidden_64          hidden_64@1          2   2 paired"));
    free(out);
    assert_int_equal(ms_runf(&out, &err, "export --db %s --where variant=improved --columns variant,seeds",
                        db), 0);
    assert_string_equal(out, "variant,seeds\nimproved,2\n");
    assert_string_equal(err, "mlpsweep: note: 'improved' is not in the last run; using its 2 runs "
                             "from an earlier one (--all lists every run)\n");
    free(out), free(err);
    /* a name no run has */
    assert_int_equal(ms_runf(&out, &err, "compare nosuch hidden_64 --db %s", db), 1);
    assert_string_equal(err, "mlpsweep: no finished run of variant 'nosuch' in sweep 'exp2'\n");
    free(out), free(err);
    free(m), free(db);
}

/* status: the current runs, a line counting the others; --all every run
 * with its mark; JSON likewise. */
static void test_status(void **state)
{
    (void)state;
    char *m = manifest("exp3"), *db = ms_tpath("exp3.db"), *out;
    run_quiet(m, db, "");
    out = ms_okf(0, "status --db %s", db); /* one invocation: no line of earlier ones */
    assert_null(strstr(out, "earlier"));
    free(out);
    run_quiet(m, db, "improved.lr=0.05,0.2");
    out = ms_okf(0, "status --db %s", db);
    assert_non_null(strstr(out, "sweep 'exp3': + 2 runs of earlier invocations: --all lists "
                                "them\n"));
    free(out);
    run_quiet(m, db, "--only hidden_64 epochs=3");
    out = ms_okf(0, "status --db %s", db);
    assert_int_equal(count_of(out, "\nhidden_64 "), 2);
    assert_non_null(strstr(out, "sweep 'exp3': 2/2 runs done (0 running, 0 pending, 0 failed)"));
    assert_non_null(strstr(out, "sweep 'exp3': + 10 runs of earlier invocations: --all lists "
                                "them\n"));
    free(out);
    out = ms_okf(0, "status --db %s --all", db);
    assert_int_equal(count_of(out, " last "), 2);
    assert_int_equal(count_of(out, " earlier  "), 10);
    assert_int_equal(count_of(out, "\nhidden_64@1 "), 2);
    assert_non_null(strstr(out, "sweep 'exp3': + 10 runs of earlier invocations, marked "
                                "'earlier' above\n"));
    free(out);
    out = ms_okf(0, "status --db %s --all --json", db);
    char *json = ms_tpath("status.json"), *cmd = NULL;
    ms_write_text(json, out);
    if (asprintf(&cmd,
                 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d[\"runs\"]; "
                 "sys.exit(len(r) != 12 or sum(x[\"current\"] for x in r) != 2 or "
                 "d[\"sweeps\"][0][\"earlier_runs\"] != 10 or d[\"sweeps\"][0][\"runs\"] != 2)' %s",
                 json) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd), free(json), free(out), free(m), free(db);
}

/* claims and report: the manifest's variants not in the last run are
 * taken from an earlier one (a note each); --all reads every run. */
static void test_claims_and_report(void **state)
{
    (void)state;
    char *db, *m = scenario("exp4", &db), *out, *err;
    run_quiet(m, db, "--only hidden_64 epochs=3");
    assert_int_equal(ms_runf(&out, &err, "claims --db %s", db), 0);
    assert_string_equal(err, "mlpsweep: note: 'improved' is not in the last run; using its 2 runs "
                             "from an earlier one (--all lists every run)\n"
                             "mlpsweep: note: 'baseline' is not in the last run; using its 2 runs "
                             "from an earlier one (--all lists every run)\n");
    assert_non_null(strstr(out, "improved           baseline             2   2 paired"));
    char *all = ms_okf(0, "claims --db %s --all", db);
    assert_string_equal(all, out);
    free(all), free(out), free(err);

    char *page = ms_tpath("all.html");
    assert_int_equal(ms_runf(&out, &err, "report --db %s --all -o %s", db, page), 0);
    assert_null(strstr(err, "note:"));
    free(out), free(err);
    char *html = ms_read_file(page);
    assert_non_null(strstr(html, "12 runs of 6 variants, 12 done, 26 epochs trained; 10 of the "
                                 "runs are of earlier invocations (--all"));
    assert_non_null(strstr(html, "<h3 id=\"v-hidden_64@1\">"));
    free(html);
    assert_int_equal(ms_runf(&out, &err, "report --db %s -o %s", db, page), 0);
    assert_non_null(strstr(err, "note: 'baseline' is not in the last run"));
    html = ms_read_file(page);
    assert_non_null(strstr(html, "6 runs of 3 variants, 6 done, 14 epochs trained; 4 of the "
                                 "runs are of earlier invocations."));
    assert_null(strstr(html, "hidden_64@1"));
    free(html), free(out), free(err), free(page), free(m), free(db);
}

static int exists(const char *dir, const char *file)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, file) < 0)
        abort();
    int yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

/* plot --all: a variant's earlier settings beside it, the variants the
 * manifest lacks in the figure `earlier`; --variants may name either. */
static void test_plot(void **state)
{
    (void)state;
    char *db, *m = scenario("exp5", &db), *out, *err;
    run_quiet(m, db, "--only hidden_64 epochs=3");
    char *dir = ms_tpath("fig_all");
    assert_int_equal(ms_runf(&out, &err, "plot --db %s --all --out %s", db, dir), 0);
    assert_non_null(strstr(err, "2 of 2 figures written to '"));
    free(out), free(err);
    char *svg = NULL;
    if (asprintf(&svg, "%s/curves.svg", dir) < 0)
        abort();
    char *text = ms_read_file(svg);
    assert_non_null(strstr(text, "hidden_64@1"));
    assert_null(strstr(text, "improved.lr-0.05"));
    free(text), free(svg);
    if (asprintf(&svg, "%s/earlier.svg", dir) < 0)
        abort();
    text = ms_read_file(svg);
    assert_non_null(strstr(text, "improved.lr-0.05"));
    assert_non_null(strstr(text, "improved.lr-0.2"));
    free(text), free(svg), free(dir);

    dir = ms_tpath("fig_some");
    assert_int_equal(ms_runf(&out, &err, "plot --db %s --variants improved.lr-0.2 --out %s", db, dir),
                     0);
    assert_non_null(strstr(err, "note: 'improved.lr-0.2' is not in the last run; using its 2 "
                                "runs from an earlier one"));
    assert_true(exists(dir, "earlier.svg"));
    assert_false(exists(dir, "curves.svg"));
    free(out), free(err), free(dir);
    /* a name neither the manifest nor the database has: exit 2, one line */
    assert_int_equal(ms_runf(&out, &err, "plot --db %s --variants improvd --out x", db), 2);
    assert_non_null(strstr(err, "--variants: no variant 'improvd' in '"));
    assert_int_equal(count_of(err, "\n"), 1);
    free(out), free(err), free(m), free(db);
}

/* A variant trained with three settings: each its own group (its seeds
 * together), the current one by the variant's name, the others VARIANT@N
 * by first run; with none current, the name means the newest. */
static void test_groups(void **state)
{
    (void)state;
    char *m = manifest("grp"), *db = ms_tpath("grp.db"), *out, *err;
    run_quiet(m, db, "--only improved");
    run_quiet(m, db, "--only improved epochs=3");
    run_quiet(m, db, "--only improved epochs=1");
    out = ms_okf(0, "export --db %s --all --columns variant,seeds,epochs", db);
    assert_string_equal(out, "variant,seeds,epochs_mean,epochs_std\nimproved@1,2,2,0\n"
                             "improved@2,2,3,0\nimproved,2,1,0\n");
    free(out);
    run_quiet(m, db, "--only baseline");
    out = ms_okf(0, "export --db %s --all --columns variant,epochs", db);
    assert_string_equal(out, "variant,epochs_mean,epochs_std\nimproved@1,2,0\nimproved@2,3,0\n"
                             "improved@3,1,0\nbaseline,2,0\n");
    free(out);
    assert_int_equal(ms_runf(&out, &err, "compare improved baseline --metric epochs_done --db %s", db),
                     0);
    assert_string_equal(err, "mlpsweep: note: 'improved' is not in the last run; using its 2 runs "
                             "with the latest of its 3 earlier settings, 'improved@3' (--all "
                             "lists every run)\n");
    assert_non_null(strstr(out, "epochs_done      improved           baseline             2   2 "
                                "paired           1          2"));
    free(out), free(err);
    assert_int_equal(ms_runf(&out, &err, "compare improved baseline --all --db %s", db), 0);
    assert_string_equal(err, "mlpsweep: note: 'improved' has no runs by that name; using "
                             "'improved@3', the latest of its 3 settings\n");
    assert_non_null(strstr(out, "improved@3         baseline "));
    free(out), free(err);
    out = ms_okf(0, "compare improved@1 improved@2 --metric epochs_done --all --db %s", db);
    assert_non_null(strstr(out, "improved@1         improved@2           2   2 paired           2"
                                "          3"));
    free(out), free(m), free(db);
}

/* The reads themselves: a scope's runs and names, and how a name resolves. */
static void test_query_scope(void **state)
{
    (void)state;
    char *db, *m = scenario("exp6", &db);
    run_quiet(m, db, "--only hidden_64 epochs=3");
    ms_store *st;
    assert_int_equal(ms_store_open(db, MS_STORE_READONLY, &st), 0);
    ms_snapshot snap;
    assert_int_equal(ms_snapshot_read(st, "exp6", MS_SNAP_SUMMARY | MS_SNAP_RUNS, &snap), 0);
    assert_int_equal(snap.nsummary, 1);
    assert_int_equal(snap.nruns, 2);
    ms_snapshot_release(&snap);
    ms_scope all = {.all = 1};
    assert_int_equal(ms_snapshot_read_in(st, "exp6", ~0u, &all, &snap), 0);
    assert_int_equal(snap.nsummary, 6);
    assert_int_equal(snap.nruns, 12);
    assert_int_equal(snap.ncurves, 6);
    assert_true(snap.all);
    assert_string_equal(snap.summary[2].variant, "hidden_64@1");
    int current = 0;
    for (int i = 0; i < snap.nruns; i++)
        current += snap.runs[i].current;
    assert_int_equal(current, 2);
    ms_snapshot_release(&snap);
    /* resolved names: current, an earlier group, none */
    static const struct {
        const char *name, *group;
        ms_scope_found found;
        int runs;
    } cases[] = {{"hidden_64", "hidden_64", MS_SCOPE_CURRENT, 2},
                 {"hidden_64@1", "hidden_64@1", MS_SCOPE_EARLIER, 2},
                 {"improved.lr-0.2", "improved.lr-0.2", MS_SCOPE_EARLIER, 2},
                 {"hidden_64@2", NULL, MS_SCOPE_NONE, 0},
                 {"nosuch", NULL, MS_SCOPE_NONE, 0}};
    ms_scope some = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ms_scope_name r;
        assert_int_equal(ms_scope_resolve(st, "exp6", cases[i].name, &r), 0);
        assert_int_equal(r.found, cases[i].found);
        assert_int_equal(r.runs, cases[i].runs);
        if (cases[i].group)
            assert_string_equal(r.group, cases[i].group);
        if (r.found == MS_SCOPE_EARLIER)
            ms_scope_add(&some, r.group, cases[i].name);
        ms_scope_name_release(&r);
    }
    /* the current runs and the two groups named */
    assert_int_equal(ms_snapshot_read_in(st, "exp6", MS_SNAP_SUMMARY, &some, &snap), 0);
    assert_int_equal(snap.nsummary, 3);
    assert_string_equal(snap.summary[0].variant, "hidden_64@1");
    assert_string_equal(snap.summary[1].variant, "improved.lr-0.2");
    assert_string_equal(snap.summary[2].variant, "hidden_64");
    ms_snapshot_release(&snap);
    ms_scope_release(&some);
    char **g;
    int n;
    assert_int_equal(ms_scope_groups(st, "exp6", &g, &n), 0);
    assert_int_equal(n, 6);
    assert_string_equal(g[0], "baseline");
    assert_string_equal(g[5], "hidden_64");
    for (int i = 0; i < n; i++)
        free(g[i]);
    free(g);
    ms_store_close(st);
    free(m), free(db);
}

/* --all is a flag: a value is refused in one line, exit 2. */
static void test_bad_options(void **state)
{
    (void)state;
    static const char *const cmds[] = {"status", "export", "plot", "report", "claims",
                                       "compare a b"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *out, *err;
        assert_int_equal(ms_runf(&out, &err, "%s --all=yes --db nowhere.db", cmds[i]), 2);
        assert_int_equal(count_of(err, "\n"), 1);
        assert_non_null(strstr(err, "--all"));
        free(out), free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_all),
        cmocka_unit_test(test_names_resolve),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_claims_and_report),
        cmocka_unit_test(test_plot),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_query_scope),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests_name("history", tests, ms_tiny_data_setup,
                                       ms_tiny_data_teardown);
}
