/* ms_gradcheck: central differences against the double-precision backward. */
#include "ms_gradcheck.h"
#include "ms_data.h"
#include "ms_mlp.h"
#include "ms_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double loss_at(const ms_shape *s, ms_activation act, const double *p, ms_work_d *w,
                      const double *X, const uint8_t *labels, int n)
{
    memcpy(w->act[0], X, (size_t)n * MS_INPUT * sizeof(double));
    double l = 0;
    ms_mlp_forward_d(s, act, p, w, n, 0, labels, &l, NULL, 1);
    return l / n;
}

void ms_gradcheck_weights(const ms_config *c, uint64_t seed, double *params)
{
    ms_shape s;
    ms_shape_init(&s, c, MS_INPUT);
    ms_rng rng;
    ms_rng_seed(&rng, seed);
    ms_mlp_init_d(&s, MS_INIT_UNIFORM, &rng, params);
}

void ms_gradcheck_analytic(const ms_config *c, const double *X, const uint8_t *labels, int n,
                           const double *params, double *grads)
{
    ms_shape s;
    ms_shape_init(&s, c, MS_INPUT);
    ms_work_d w;
    ms_work_init_d(&w, &s, n, 1);
    memcpy(w.act[0], X, (size_t)n * MS_INPUT * sizeof(double));
    ms_mlp_forward_d(&s, c->activation, params, &w, n, 1, labels, NULL, NULL, 1);
    ms_mlp_backward_d(&s, params, &w, n, labels, grads, 1);
    ms_work_release_d(&w);
}

void ms_gradcheck(const ms_config *c, const double *X, const uint8_t *labels, int n, uint64_t seed,
                  size_t stride, double eps, ms_gradcheck_result *res, int nthreads)
{
    ms_shape s;
    ms_shape_init(&s, c, MS_INPUT);
    size_t np = s.nparams;
    double *params = ms_malloc(np * sizeof(double)), *grads = ms_malloc(np * sizeof(double));
    ms_gradcheck_weights(c, seed, params);
    ms_gradcheck_analytic(c, X, labels, n, params, grads);
    ms_gradcheck_against(c, X, labels, n, params, grads, stride, eps, res, nthreads);
    free(params);
    free(grads);
}

void ms_gradcheck_against(const ms_config *c, const double *X, const uint8_t *labels, int n,
                          const double *params, const double *grads, size_t stride, double eps,
                          ms_gradcheck_result *res, int nthreads)
{
    (void)nthreads; /* unused without OpenMP */
    ms_shape s;
    ms_shape_init(&s, c, MS_INPUT);
    size_t np = s.nparams;
    if (stride < 1)
        stride = 1;
    size_t count = (np + stride - 1) / stride;
    double *err = ms_malloc(count * sizeof(double));
#pragma omp parallel num_threads(nthreads) if (nthreads > 1)
    {
        double *p = ms_malloc(np * sizeof(double));
        memcpy(p, params, np * sizeof(double));
        ms_work_d tw;
        ms_work_init_d(&tw, &s, n, 1);
#pragma omp for schedule(dynamic, 64)
        for (size_t k = 0; k < count; k++) {
            size_t i = k * stride;
            double orig = p[i];
            p[i] = orig + eps;
            double up = loss_at(&s, c->activation, p, &tw, X, labels, n);
            p[i] = orig - eps;
            double down = loss_at(&s, c->activation, p, &tw, X, labels, n);
            p[i] = orig;
            err[k] = fabs((up - down) / (2 * eps) - grads[i]);
        }
        ms_work_release_d(&tw);
        free(p);
    }
    memset(res, 0, sizeof *res);
    for (size_t k = 0; k < count; k++) {
        size_t i = k * stride;
        if (err[k] > res->max_err || isnan(err[k])) {
            res->max_err = isnan(err[k]) ? INFINITY : err[k];
            res->worst = i;
        }
        if (fabs(grads[i]) > 1e-8)
            res->nonzero++;
        if (fabs(grads[i]) > res->max_grad)
            res->max_grad = fabs(grads[i]);
    }
    res->checked = count;
    free(err);
}
