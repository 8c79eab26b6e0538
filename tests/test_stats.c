/* Tests for ms_stats: Student's t against published table values and
 * against numerical integration of its density (an independent route), and
 * the comparison of two variants on hand-made data whose answer is known:
 * paired, Welch, a tie, n = 1 and missing seeds. */
#include "ms_test.h"

#include "ms_stats.h"

#include <math.h>

/* Student's t density, integrated from 0 by Simpson's rule: P(0 <= T <= t). */
static double t_half_mass(double t, double df)
{
    double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI), s = 0;
    int n = 20000; /* even */
    double h = t / n;
    for (int i = 0; i <= n; i++) {
        double x = i * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
        s += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
    }
    return s * h / 3;
}

static void test_t_distribution(void **state)
{
    (void)state;
    /* two-sided 95 % critical values, as printed in every t table */
    static const struct {
        double df, q;
    } crit95[] = {{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571},
                  {10, 2.228}, {20, 2.086}, {30, 2.042}, {120, 1.980}};
    for (size_t i = 0; i < sizeof crit95 / sizeof *crit95; i++) {
        double q = ms_t_quantile(0.975, crit95[i].df);
        if (fabs(q - crit95[i].q) > 0.0006)
            fail_msg("t(0.975, %g) = %.5f, the table says %.3f", crit95[i].df, q, crit95[i].q);
    }
    /* one-sided 99 % and 99.5 % */
    assert_true(fabs(ms_t_quantile(0.99, 10) - 2.764) < 0.0006);
    assert_true(fabs(ms_t_quantile(0.995, 5) - 4.032) < 0.0006);
    assert_true(fabs(ms_t_quantile(0.025, 4) + 2.776) < 0.0006); /* symmetric */
    /* df = 1 is Cauchy: P(T <= 1) = 3/4 exactly */
    assert_true(fabs(ms_t_cdf(1, 1) - 0.75) < 1e-12);
    assert_true(fabs(ms_t_cdf(0, 7) - 0.5) < 1e-15);
    /* against the density integrated numerically */
    static const double ts[] = {0.3, 1, 2, 3.656, 8}, dfs[] = {1, 2.5, 3, 4.96, 10, 60};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        for (size_t j = 0; j < sizeof dfs / sizeof *dfs; j++) {
            double want = 0.5 + t_half_mass(ts[i], dfs[j]), got = ms_t_cdf(ts[i], dfs[j]);
            if (fabs(got - want) > 1e-9)
                fail_msg("P(T <= %g), df %g: %.12f, by integration %.12f", ts[i], dfs[j], got, want);
            /* and back, where the CDF still resolves t (not in its last digits) */
            if (got < 1 - 1e-7 && fabs(ms_t_quantile(got, dfs[j]) - ts[i]) > 1e-6 * (1 + ts[i]))
                fail_msg("t(%.12f, %g) = %.9f, want %g", got, dfs[j], ms_t_quantile(got, dfs[j]),
                         ts[i]);
        }
}

static void test_compare(void **state)
{
    (void)state;
    /* paired: differences 1, 1, 2, 3: mean 1.75, sd sqrt(11/12), t 3.6556, df 3 */
    double a[] = {1, 2, 3, 4}, b[] = {0, 1, 1, 1};
    ms_comparison c = ms_compare(a, b, 4, 0.95);
    assert_int_equal(c.kind, MS_TEST_PAIRED);
    assert_int_equal(c.n, 4);
    double se = sqrt(11.0 / 12) / 2;
    assert_true(fabs(c.diff - 1.75) < 1e-12);
    assert_true(fabs(c.t - 1.75 / se) < 1e-9);
    assert_true(c.df == 3);
    assert_true(fabs(c.lo - (1.75 - 3.182446 * se)) < 1e-5); /* t(0.975, 3) = 3.182446 */
    assert_true(fabs(c.hi - (1.75 + 3.182446 * se)) < 1e-5);
    assert_true(fabs(c.p - 2 * (1 - (0.5 + t_half_mass(1.75 / se, 3)))) < 1e-8);
    assert_string_equal(ms_verdict(&c, +1), "supported");
    assert_string_equal(ms_verdict(&c, -1), "contradicted");
    /* Welch: 1, 2, 3 against 4, 5, 6, 7 (seeds not shared) */
    double w1[] = {1, 2, 3, NAN, NAN, NAN, NAN}, w2[] = {NAN, NAN, NAN, 4, 5, 6, 7};
    c = ms_compare(w1, w2, 7, 0.95);
    assert_int_equal(c.kind, MS_TEST_WELCH);
    assert_int_equal(c.na, 3);
    assert_int_equal(c.nb, 4);
    double sa = 1.0 / 3, sb = (5.0 / 3) / 4, wse = sqrt(sa + sb);
    double wdf = (sa + sb) * (sa + sb) / (sa * sa / 2 + sb * sb / 3);
    assert_true(fabs(c.diff + 3.5) < 1e-12);
    assert_true(fabs(c.t + 3.5 / wse) < 1e-9);
    assert_true(fabs(c.df - wdf) < 1e-9);
    assert_string_equal(ms_verdict(&c, -1), "supported");
    /* a tie: no difference at all */
    double t1[] = {0.9, 0.95, 0.97}, t2[] = {0.9, 0.95, 0.97};
    c = ms_compare(t1, t2, 3, 0.95);
    assert_true(c.diff == 0 && c.lo == 0 && c.hi == 0 && c.p == 1);
    assert_string_equal(ms_verdict(&c, +1), "not established");
    /* n = 1 on each side: nothing can be said */
    double o1[] = {0.97}, o2[] = {0.96};
    c = ms_compare(o1, o2, 1, 0.95);
    assert_int_equal(c.kind, MS_TEST_NONE);
    assert_true(fabs(c.diff - 0.01) < 1e-12);
    assert_string_equal(ms_verdict(&c, +1), "not established");
    /* missing seeds: seeds 2 and 3 pair, seed 1 ran for A only, seed 4 for B only */
    double m1[] = {5, 6, 7, NAN}, m2[] = {NAN, 4, 6, 9};
    c = ms_compare(m1, m2, 4, 0.95);
    assert_int_equal(c.kind, MS_TEST_PAIRED);
    assert_int_equal(c.n, 2);
    assert_true(fabs(c.diff - 1.5) < 1e-12); /* (2 + 1) / 2 */
    assert_string_equal(ms_verdict(&c, +1), "not established"); /* df 1: a wide interval */
    /* a constant difference: no doubt about it */
    double k1[] = {2, 3, 4}, k2[] = {1, 2, 3};
    c = ms_compare(k1, k2, 3, 0.95);
    assert_true(c.lo == 1 && c.hi == 1 && c.p == 0);
    assert_string_equal(ms_verdict(&c, +1), "supported");
}

/* Values by seed, aligned over the union of the seeds: the same comparison
 * as the arrays aligned by hand (NAN where a side lacks a seed). */
static void test_compare_seeds(void **state)
{
    (void)state;
    /* seed 1 for A only, 2 and 3 both, 4 for B only: test_compare's "missing seeds" */
    uint64_t sa[] = {1, 2, 3}, sb[] = {2, 3, 4};
    double a[] = {5, 6, 7}, b[] = {4, 6, 9};
    double m1[] = {5, 6, 7, NAN}, m2[] = {NAN, 4, 6, 9};
    ms_comparison c = ms_compare_seeds(sa, a, 3, sb, b, 3, 0.95), want = ms_compare(m1, m2, 4, 0.95);
    assert_memory_equal(&c, &want, sizeof c);
    assert_int_equal(c.kind, MS_TEST_PAIRED);
    assert_int_equal(c.n, 2);
    /* no seed in common: Welch over all; B's seeds interleaved with A's */
    uint64_t wa[] = {1, 3, 5}, wb[] = {2, 4, 6, 8};
    double xa[] = {1, 2, 3}, xb[] = {4, 5, 6, 7};
    double w1[] = {1, NAN, 2, NAN, 3, NAN, NAN}, w2[] = {NAN, 4, NAN, 5, NAN, 6, 7};
    c = ms_compare_seeds(wa, xa, 3, wb, xb, 4, 0.95), want = ms_compare(w1, w2, 7, 0.95);
    assert_memory_equal(&c, &want, sizeof c);
    assert_int_equal(c.kind, MS_TEST_WELCH);
    /* one side empty: its count 0, and seeds beyond 2^63 order as unsigned */
    uint64_t big[] = {1, UINT64_MAX};
    double xbig[] = {0.5, 0.7};
    c = ms_compare_seeds(big, xbig, 2, NULL, NULL, 0, 0.95);
    assert_int_equal(c.na, 2);
    assert_int_equal(c.nb, 0);
    assert_int_equal(c.kind, MS_TEST_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_distribution),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_compare_seeds),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
