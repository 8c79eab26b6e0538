/* Tests for `mlpsweep compare` and `mlpsweep claims` on a hand-made sweep
 * whose answers are known: A = 0.90, 0.92, 0.94 and B = 0.88, 0.91, 0.92
 * over seeds 1-3 (differences 0.02, 0.01, 0.02: mean 1/60, t = 5, df 2,
 * 95 % interval 1/60 -+ 4.302653 / 300); C ran seed 1 only (n = 1); D ran
 * seeds 3 and 4 (one pair with A: Welch). */
#include "ms_test.h"

#include "ms_config.h"
#include "ms_store.h"

static const char manifest[] =
    "name: study\n"
    "variants:\n  - name: A\n    seeds: [1, 2, 3]\n  - name: B\n    seeds: [1, 2, 3]\n"
    "  - name: C\n  - name: D\n    seeds: [3, 4]\n"
    "claims:\n"
    "  - {a: A, b: B, expect: higher, text: \"A beats B\"}\n"
    "  - {a: A, b: B, expect: lower}\n"
    "  - {a: A, b: C, expect: higher}\n"
    "  - {a: A, b: A, expect: higher, text: a tie}\n";

static char *dir, *db, *yaml;

/* The sweep: each run one epoch whose validation accuracy is given. */
static void make_db(void)
{
    static const struct {
        const char *v;
        int seed;
        double acc;
    } runs[] = {{"A", 1, 0.90}, {"A", 2, 0.92}, {"A", 3, 0.94}, {"B", 1, 0.88}, {"B", 2, 0.91},
                {"B", 3, 0.92}, {"C", 1, 0.95}, {"D", 3, 0.80}, {"D", 4, 0.82}};
    enum { N = sizeof runs / sizeof *runs };
    dir = ms_tmpdir();
    if (asprintf(&db, "%s/s.db", dir) < 0 || asprintf(&yaml, "%s/s.yaml", dir) < 0)
        abort();
    ms_write_text(yaml, manifest);
    ms_store *s;
    int64_t sweep;
    assert_int_equal(ms_store_open(db, MS_STORE_CREATE, &s), 0);
    assert_int_equal(ms_store_sweep(s, "study", yaml, manifest, NULL, &sweep), 0);
    ms_run_spec keys[N];
    ms_run_info info[N];
    for (int i = 0; i < N; i++) {
        ms_config_default(&keys[i].cfg);
        keys[i].cfg.seed = (uint64_t)runs[i].seed;
        keys[i].cfg.epochs = 1;
        keys[i].variant = runs[i].v;
        keys[i].task = "";
        keys[i].grid = NULL;
    }
    assert_int_equal(ms_store_register(s, sweep, keys, N, info), 0);
    ms_provenance p = {"test", "cc", "host", 1, 1};
    for (int i = 0; i < N; i++) {
        assert_int_equal(ms_store_start_run(s, info[i].id, &p), 0);
        ms_eval ev = {624, 0, 0.5, 0.4, runs[i].acc + 0.01, 0.45, runs[i].acc};
        ms_epoch ep = {1, 0.4, runs[i].acc + 0.01, 0.45, runs[i].acc, 1.0, 0, 0, NULL};
        assert_int_equal(ms_store_commit_epoch(s, info[i].id, &ep, 625, &ev, 1, NULL, 0,
                                               MS_STOP_EPOCHS),
                         0);
    }
    ms_store_close(s);
}

static void test_compare_cmd(void **state)
{
    (void)state;
    char args[4096], *out, *err;
    snprintf(args, sizeof args, "compare A B --db %s", db);
    assert_int_equal(ms_run(args, &out, &err), 0);
    /* paired, t = 5, df 2; the interval 1/60 -+ 4.302653/300 */
    char want[256];
    snprintf(want, sizeof want, "[%.6g, %.6g]", 1.0 / 60 - 4.302653 / 300, 1.0 / 60 + 4.302653 / 300);
    if (!strstr(out, "final_val_acc    A                  B                    3   3 paired") ||
        !strstr(out, want) || !strstr(out, "      5      2"))
        fail_msg("compare A B printed:\n%s(want the interval %s)", out, want);
    free(out), free(err);
    /* n = 1: no test, the means alone */
    snprintf(args, sizeof args, "compare A C --db %s", db);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "   3   1 -  "));
    free(out), free(err);
    /* one pair only (seed 3): Welch over every run */
    snprintf(args, sizeof args, "compare A D --db %s", db);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_non_null(strstr(out, "   3   2 Welch"));
    free(out), free(err);
    /* errors */
    snprintf(args, sizeof args, "compare A E --db %s", db);
    assert_int_equal(ms_run(args, &out, &err), 1);
    assert_string_equal(err, "mlpsweep: no finished run of variant 'E' in sweep 'study'\n");
    free(out), free(err);
    snprintf(args, sizeof args, "compare A B --db %s --metric val_acc", db);
    assert_int_equal(ms_run(args, &out, &err), 2);
    assert_non_null(strstr(err, "unknown metric 'val_acc'"));
    free(out), free(err);
}

static void test_claims_cmd(void **state)
{
    (void)state;
    char args[8192], *out, *err;
    snprintf(args, sizeof args, "claims --db %s", db); /* the recorded manifest */
    assert_int_equal(ms_run(args, &out, &err), 0);
    const char *verdicts[] = {"A higher   supported\n    A beats B\n", "A lower    contradicted\n",
                              "A higher   not established\n", "A higher   not established\n    a tie\n"};
    const char *at = out;
    for (int i = 0; i < 4; i++) {
        const char *v = strstr(at, verdicts[i]);
        if (!v)
            fail_msg("claim %d: no '%s' after the previous one in:\n%s", i + 1, verdicts[i], out);
        at = v + 1;
    }
    free(out), free(err);
    /* a manifest without claims, a claim naming no variant */
    char path[2048];
    snprintf(path, sizeof path, "%s/none.yaml", dir);
    ms_write_text(path, "name: study\nvariants:\n  - name: A\n");
    snprintf(args, sizeof args, "claims %s --db %s", path, db);
    assert_int_equal(ms_run(args, &out, &err), 1);
    assert_non_null(strstr(err, "states no claims"));
    free(out), free(err);
    ms_write_text(path, "name: study\nvariants:\n  - name: A\nclaims:\n  - {a: A, b: Bee, expect: up}\n");
    snprintf(args, sizeof args, "claims %s --db %s", path, db);
    assert_int_equal(ms_run(args, &out, &err), 2);
    char want[8192];
    snprintf(want, sizeof want,
             "%s:5:15: b: unknown variant 'Bee'\n%s:5:28: expect: unknown value 'up' (expected "
             "higher or lower)\n",
             path, path);
    assert_string_equal(err, want);
    free(out), free(err);
}

static int setup(void **state)
{
    (void)state;
    make_db();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ms_rmtree(dir);
    free(dir), free(db), free(yaml);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_cmd),
        cmocka_unit_test(test_claims_cmd),
    };
    return cmocka_run_group_tests_name("claims", tests, setup, teardown);
}
