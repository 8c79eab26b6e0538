/* ms_stats: comparing two variants over seeds (stats.c): Student's t
 * distribution (its CDF from the regularized incomplete beta function, its
 * quantile by bisection; tested against published tables), a paired t-test
 * by seed (the two sides' values aligned by seed here), and Welch's test
 * when the seeds do not pair; the mean and standard deviation every table
 * of results shows. Pure functions. */
#ifndef MS_STATS_H
#define MS_STATS_H

#include <stdint.h>

/* Mean and sample standard deviation (n - 1) of n values; NaNs are skipped
 * (n counts the others). mean is NAN when n = 0, std is NAN when n < 2. */
typedef struct ms_stat {
    double mean, std;
    int n;
} ms_stat;
ms_stat ms_stat_of(const double *x, int n);

/* The t interval of the mean of s at `level` (0.95): mean -/+ the t
 * quantile with n - 1 degrees of freedom times std / sqrt(n); NAN for both
 * when n < 2. */
void ms_stat_interval(ms_stat s, double level, double *lo, double *hi);

/* P(T <= t) for Student's t with df > 0 degrees of freedom. */
double ms_t_cdf(double t, double df);
/* The t with P(T <= t) = p, 0 < p < 1. */
double ms_t_quantile(double p, double df);

typedef enum { MS_TEST_NONE, MS_TEST_PAIRED, MS_TEST_WELCH } ms_test_kind;

/* A - B over seeds: the mean difference, its confidence interval at
 * `level` (0.95), t, degrees of freedom and the two-sided p-value. kind
 * NONE when there are too few values (a paired test needs 2 pairs, Welch 2
 * values on each side): then only n and the means are set. */
typedef struct ms_comparison {
    ms_test_kind kind;
    int n;             /* pairs (paired), else values of A + B */
    int na, nb;        /* values of A and B */
    double mean_a, mean_b, diff, lo, hi, t, df, p;
} ms_comparison;

/* Paired over the seeds both have (a[i] and b[i] for seed i, NAN: that
 * seed did not run on that side) when at least 2 pair, else Welch over
 * every value of each side. */
ms_comparison ms_compare(const double *a, const double *b, int n, double level);

/* The same from each side's values by seed: a[i] for seed seeds_a[i], in
 * increasing seed order (as ms_query_seed_values gives them), b likewise;
 * the values are aligned by seed over the union of the two seed lists
 * (NAN where one side did not run a seed), then compared. */
ms_comparison ms_compare_seeds(const uint64_t *seeds_a, const double *a, int na,
                               const uint64_t *seeds_b, const double *b, int nb, double level);

/* What the comparison says of the claim "A is higher than B" (sign +1) or
 * "lower" (-1): "supported" when the interval lies on the claimed side of 0,
 * "contradicted" when it lies on the other, else "not established". */
const char *ms_verdict(const ms_comparison *c, int sign);

/* A comparison's numbers as `compare`, `claims` and the report show them:
 * the test's name, the interval "[lo, hi]", t, df and p ("-" each without
 * a test). */
typedef struct ms_comparison_text {
    const char *test;
    char ci[64], t[16], df[16], p[16];
} ms_comparison_text;
ms_comparison_text ms_comparison_texts(const ms_comparison *c);

#endif
