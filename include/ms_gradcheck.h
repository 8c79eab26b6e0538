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

#endif
