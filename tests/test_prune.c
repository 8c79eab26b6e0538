/* Tests for ms_prune: rungs and brackets, the promotion rule (ties, NaN, a
 * cohort of one, goal max), SHA waiting for its cohort, and ASHA in trial
 * order taking the same decisions in whatever order the trials arrive. */
#include "ms_test.h"
#include "ms_metrics.h"
#include "ms_prune.h"

#include <math.h>

static const ms_prune asha = {MS_PRUNE_ASHA, MS_METRIC_VAL_LOSS, 0, 1, 27, 3};

static void test_rungs(void **state)
{
    (void)state;
    assert_int_equal(ms_prune_valid(&asha), 0);
    ms_prune bad = asha;
    bad.eta = 1;
    assert_int_equal(ms_prune_valid(&bad), -1);
    bad = asha;
    bad.min = 30;
    assert_int_equal(ms_prune_valid(&bad), -1);
    assert_int_equal(ms_prune_brackets(&asha), 1);
    assert_int_equal(ms_prune_rungs(&asha, 0), 4);
    const int want[4] = {1, 3, 9, 27};
    for (int r = 0; r < 4; r++)
        assert_int_equal(ms_prune_rung_epochs(&asha, 0, r), want[r]);
    ms_prune hb = {MS_PRUNE_HYPERBAND, MS_METRIC_VAL_LOSS, 0, 1, 27, 3};
    assert_int_equal(ms_prune_brackets(&hb), 4);
    assert_int_equal(ms_prune_rungs(&hb, 2), 2); /* 9 and 27 epochs */
    assert_int_equal(ms_prune_rung_epochs(&hb, 2, 0), 9);
    assert_int_equal(ms_prune_bracket_of(&hb, 6), 2);
    ms_prune odd = {MS_PRUNE_SHA, MS_METRIC_VAL_LOSS, 0, 2, 20, 3}; /* 2, 6, 18; the survivors train to 20 */
    assert_int_equal(ms_prune_rungs(&odd, 0), 3);
    assert_int_equal(ms_prune_rung_epochs(&odd, 0, 2), 18);
    const int keep[][2] = {{1, 1}, {2, 1}, {3, 1}, {5, 1}, {6, 2}, {9, 3}, {10, 3}};
    for (size_t i = 0; i < sizeof keep / sizeof *keep; i++)
        assert_int_equal(ms_prune_keep(&asha, keep[i][0]), keep[i][1]);
}

static void test_order(void **state)
{
    (void)state;
    assert_true(ms_prune_before(&asha, 0.1, 5, 0.2, 1)); /* lower loss first */
    assert_true(ms_prune_before(&asha, 0.2, 1, 0.2, 5)); /* a tie: the lower index */
    assert_false(ms_prune_before(&asha, 0.2, 5, 0.2, 1));
    assert_true(ms_prune_before(&asha, 9e9, 7, NAN, 0)); /* NaN last */
    assert_true(ms_prune_before(&asha, NAN, 0, NAN, 7));
    ms_prune acc = asha;
    acc.goal_max = 1;
    assert_true(ms_prune_before(&acc, 0.9, 5, 0.8, 1));
    assert_true(ms_prune_before(&acc, 0.0, 5, NAN, 1));
}

static void test_sha_waits(void **state)
{
    (void)state;
    ms_prune sha = asha;
    sha.type = MS_PRUNE_SHA;
    double v[6] = {0.5, 0.1, NAN, 0.1, 0.7, 0.2};
    ms_rung_state st[6] = {MS_AT_REACHED, MS_AT_REACHED, MS_AT_REACHED,
                           MS_AT_GONE,    MS_AT_REACHED, MS_AT_UNKNOWN};
    ms_rung_decision d[6];
    ms_prune_decide(&sha, 6, v, st, d);
    for (int t = 0; t < 6; t++)
        assert_int_equal(d[t].decision, MS_DECIDE_WAIT); /* trial 5 is not there yet */
    st[5] = MS_AT_REACHED;
    ms_prune_decide(&sha, 6, v, st, d);
    /* five reached (3 is gone): keep 1, the best, trial 1 */
    const ms_decision want[6] = {MS_DECIDE_STOP, MS_DECIDE_PROMOTE, MS_DECIDE_STOP,
                                 MS_DECIDE_WAIT, MS_DECIDE_STOP,    MS_DECIDE_STOP};
    const int rank[6] = {2, 0, 4, 0, 3, 1};
    for (int t = 0; t < 6; t++) {
        assert_int_equal(d[t].decision, want[t]);
        assert_int_equal(d[t].rank, rank[t]);
        assert_int_equal(d[t].cohort, t == 3 ? 0 : 5);
    }
}

/* The decisions a serial run in trial order takes: trial t alone with the
 * trials before it. */
static void serial(const ms_prune *p, int n, const double *v, const ms_rung_state *fin,
                   ms_rung_decision *out)
{
    ms_rung_state *st = malloc((size_t)n * sizeof *st);
    ms_rung_decision *d = malloc((size_t)n * sizeof *d);
    for (int t = 0; t < n; t++) {
        for (int s = 0; s < n; s++)
            st[s] = s <= t ? fin[s] : MS_AT_UNKNOWN;
        ms_prune_decide(p, n, v, st, d);
        out[t] = d[t];
    }
    free(st);
    free(d);
}

static void test_asha_any_order(void **state)
{
    (void)state;
    enum { N = 40, ORDERS = 50 };
    uint64_t rng = 12345;
    for (int round = 0; round < 20; round++) {
        double v[N];
        ms_rung_state fin[N];
        for (int t = 0; t < N; t++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            unsigned r = (unsigned)(rng >> 33);
            v[t] = r % 13 == 0 ? NAN : (double)(r % 7) / 7; /* ties and NaN on purpose */
            fin[t] = r % 5 == 0 ? MS_AT_GONE : MS_AT_REACHED;
        }
        ms_rung_decision want[N];
        serial(&asha, N, v, fin, want);
        assert_int_equal(want[0].decision, fin[0] == MS_AT_REACHED ? MS_DECIDE_PROMOTE
                                                                  : MS_DECIDE_WAIT);
        for (int o = 0; o < ORDERS; o++) {
            int order[N];
            for (int t = 0; t < N; t++)
                order[t] = t;
            for (int t = N - 1; t > 0; t--) { /* the trials arrive shuffled */
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                int j = (int)((rng >> 33) % (unsigned)(t + 1)), x = order[t];
                order[t] = order[j];
                order[j] = x;
            }
            ms_rung_state st[N];
            ms_rung_decision got[N], d[N];
            for (int t = 0; t < N; t++)
                st[t] = MS_AT_UNKNOWN, got[t].decision = MS_DECIDE_WAIT;
            for (int a = 0; a < N; a++) {
                st[order[a]] = fin[order[a]];
                ms_prune_decide(&asha, N, v, st, d);
                for (int t = 0; t < N; t++) {
                    if (got[t].decision != MS_DECIDE_WAIT) /* a decision never changes */
                        assert_int_equal(d[t].decision, got[t].decision);
                    else
                        got[t] = d[t];
                }
            }
            for (int t = 0; t < N; t++) {
                assert_int_equal(got[t].decision, want[t].decision);
                assert_int_equal(got[t].rank, want[t].rank);
                assert_int_equal(got[t].cohort, want[t].cohort);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rungs),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_sha_waits),
        cmocka_unit_test(test_asha_any_order),
    };
    return cmocka_run_group_tests_name("prune", tests, NULL, NULL);
}
