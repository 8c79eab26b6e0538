/* ms_gradcheck: the assignment's numerical gradient check, run through the
 * double-precision instance of the same forward/backward code as training. */
#ifndef MS_GRADCHECK_H
#define MS_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"

typedef struct ms_gradcheck_result {
    double max_err;      /* largest |numerical - analytic| */
    size_t worst;        /* index of that weight */
    size_t checked;      /* weights compared */
    size_t nonzero;      /* of those, analytic |g| > 1e-8: guards against an all-zero pass */
    double max_grad;     /* largest |analytic| seen */
} ms_gradcheck_result;

/* Weights of c's network drawn U(-1,1) from `seed`; X (n, 785), labels (n).
 * Checks every `stride`-th weight (1 = all) with central differences of
 * half-width eps. */
void ms_gradcheck(const ms_config *c, const double *X, const uint8_t *labels, int n, uint64_t seed,
                  size_t stride, double eps, ms_gradcheck_result *res, int nthreads);

/* Its three parts, so a test can hand the check a gradient of its own (a
 * wrong one must fail): the weights, the analytic gradient, and the
 * comparison of a given gradient with central differences at params. */
void ms_gradcheck_weights(const ms_config *c, uint64_t seed, double *params);
void ms_gradcheck_analytic(const ms_config *c, const double *X, const uint8_t *labels, int n,
                           const double *params, double *grads);
void ms_gradcheck_against(const ms_config *c, const double *X, const uint8_t *labels, int n,
                          const double *params, const double *grads, size_t stride, double eps,
                          ms_gradcheck_result *res, int nthreads);

#endif
