/* ms_stats: Student's t and the two tests of `compare` and `claims`. */
#include "ms_stats.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* The continued fraction of the regularized incomplete beta function
 * I_x(a, b), by the modified Lentz method; converges for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = fabs(d) < tiny ? tiny : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2)); /* even step */
        d = 1 + num * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1 + num / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)); /* odd step */
        d = 1 + num * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1 + num / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

/* I_x(a, b), 0 <= x <= 1. */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lf = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lf) * beta_cf(a, b, x) / a;
    return 1 - exp(lf) * beta_cf(b, a, 1 - x) / b; /* the symmetry I_x(a,b) = 1 - I_1-x(b,a) */
}

double ms_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1 : 0;
    double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t > 0 ? 1 - tail : tail;
}

double ms_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p < 0.5)
        return -ms_t_quantile(1 - p, df);
    double lo = 0, hi = 1;
    while (ms_t_cdf(hi, df) < p && hi < 1e300)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (ms_t_cdf(mid, df) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

ms_stat ms_stat_of(const double *x, int n)
{
    ms_stat s = {NAN, NAN, 0};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) {
            sum += x[i];
            s.n++;
        }
    if (s.n == 0)
        return s;
    s.mean = sum / s.n;
    if (s.n < 2)
        return s;
    double ss = 0; /* two passes: no cancellation */
    for (int i = 0; i < n; i++)
        if (!isnan(x[i]))
            ss += (x[i] - s.mean) * (x[i] - s.mean);
    s.std = sqrt(ss / (s.n - 1));
    return s;
}

void ms_stat_interval(ms_stat s, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (s.n < 2)
        return;
    double h = ms_t_quantile(0.5 + level / 2, s.n - 1) * s.std / sqrt(s.n);
    *lo = s.mean - h;
    *hi = s.mean + h;
}

/* The interval, t and p of a difference with standard error se and df. */
static void finish(ms_comparison *c, double se, double level)
{
    if (se == 0) { /* no spread: a tie, or a difference the data leave no doubt about */
        c->lo = c->hi = c->diff;
        c->t = c->diff == 0 ? 0 : copysign(INFINITY, c->diff);
        c->p = c->diff == 0 ? 1 : 0;
        return;
    }
    double q = ms_t_quantile(0.5 + level / 2, c->df);
    c->lo = c->diff - q * se;
    c->hi = c->diff + q * se;
    c->t = c->diff / se;
    c->p = 2 * ms_t_cdf(-fabs(c->t), c->df);
}

ms_comparison ms_compare(const double *a, const double *b, int n, double level)
{
    ms_comparison c = {MS_TEST_NONE, 0, 0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    ms_stat sa = ms_stat_of(a, n), sb = ms_stat_of(b, n);
    c.na = sa.n;
    c.nb = sb.n;
    c.mean_a = sa.mean;
    c.mean_b = sb.mean;
    c.diff = c.mean_a - c.mean_b;
    /* each seed's difference, NAN where one side lacks the seed */
    double *d = ms_malloc(((size_t)n + 1) * sizeof *d);
    for (int i = 0; i < n; i++)
        d[i] = a[i] - b[i];
    ms_stat sd = ms_stat_of(d, n);
    free(d);
    if (sd.n >= 2) {
        c.kind = MS_TEST_PAIRED;
        c.n = sd.n;
        c.diff = sd.mean;
        c.df = sd.n - 1;
        finish(&c, sd.std / sqrt(sd.n), level);
        return c;
    }
    c.n = c.na + c.nb;
    if (c.na < 2 || c.nb < 2)
        return c;
    double va = sa.std * sa.std / c.na, vb = sb.std * sb.std / c.nb, se = sqrt(va + vb);
    c.kind = MS_TEST_WELCH;
    c.df = se > 0 ? (va + vb) * (va + vb) / (va * va / (c.na - 1) + vb * vb / (c.nb - 1))
                  : c.na + c.nb - 2;
    finish(&c, se, level);
    return c;
}

ms_comparison ms_compare_seeds(const uint64_t *seeds_a, const double *a, int na,
                               const uint64_t *seeds_b, const double *b, int nb, double level)
{
    double *va = ms_malloc(((size_t)na + (size_t)nb + 1) * sizeof *va);
    double *vb = ms_malloc(((size_t)na + (size_t)nb + 1) * sizeof *vb);
    int k = 0;
    for (int i = 0, j = 0; i < na || j < nb; k++) { /* merge two sorted seed lists */
        if (j >= nb || (i < na && seeds_a[i] < seeds_b[j]))
            va[k] = a[i++], vb[k] = NAN;
        else if (i >= na || seeds_b[j] < seeds_a[i])
            va[k] = NAN, vb[k] = b[j++];
        else
            va[k] = a[i++], vb[k] = b[j++];
    }
    ms_comparison c = ms_compare(va, vb, k, level);
    free(va), free(vb);
    return c;
}

ms_comparison_text ms_comparison_texts(const ms_comparison *c)
{
    static const char *const kinds[] = {"-", "paired", "Welch"};
    ms_comparison_text x = {kinds[c->kind], "-", "-", "-", "-"};
    if (c->kind != MS_TEST_NONE) {
        snprintf(x.ci, sizeof x.ci, "[%.6g, %.6g]", c->lo, c->hi);
        snprintf(x.t, sizeof x.t, "%.3g", c->t);
        snprintf(x.df, sizeof x.df, "%.3g", c->df);
        snprintf(x.p, sizeof x.p, "%.3g", c->p);
    }
    return x;
}

const char *ms_verdict(const ms_comparison *c, int sign)
{
    if (c->kind == MS_TEST_NONE || isnan(c->lo))
        return "not established";
    double lo = sign > 0 ? c->lo : -c->hi, hi = sign > 0 ? c->hi : -c->lo;
    if (lo > 0)
        return "supported";
    if (hi < 0)
        return "contradicted";
    return "not established";
}
