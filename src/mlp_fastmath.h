/* The float network's exp and tanh, inline so the activation loops
 * vectorize (an out-of-line call per element kept them scalar). Included by
 * mlp.c only. */
#ifndef MS_MLP_FASTMATH_H
#define MS_MLP_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp for float32 in plain arithmetic, so the compiler vectorizes the
 * activation loops (libm's scalar expf/tanhf dominated deep networks) and
 * every vector lane computes exactly what the scalar code does: results do not
 * depend on how a loop is split. Range reduction x = k ln2 + r with ln2 in
 * two parts (Cody-Waite), |r| <= ln2/2, then a degree-7 Taylor polynomial
 * (truncation error below 1e-8 relative) and the exponent built in the bits.
 * Finite inputs are clamped to [-87, 88], where the result is a normal float;
 * a NaN or infinite input gives NaN, so a diverging run is seen as one. */
static inline float fast_expf(float x)
{
    float nan_if_not_finite = x - x; /* 0, or NaN for NaN and +-inf */
    /* Clamp (NaN goes to -87, so the integer steps below stay defined); not
     * fminf/fmaxf: those stay library calls. */
    x = x > -87.0f ? x : -87.0f;
    x = x < 88.0f ? x : 88.0f;
    /* k = round(x / ln2): floor of a positive value by truncation (floorf
     * would not vectorize without -fno-trapping-math); k may be one off at a
     * tie, which only widens |r| a little: the polynomial stays accurate. */
    float k = (float)(int32_t)fmaf(x, 1.44269504088896341f, 128.5f) - 128.0f;
    float r = fmaf(k, -0.693359375f, x);   /* ln2 high part: exact in k * hi */
    r = fmaf(k, 2.12194440e-4f, r);        /* ln2 low part */
    float p = 1.98412698e-4f;              /* 1/7! */
    p = fmaf(p, r, 1.38888889e-3f);
    p = fmaf(p, r, 8.33333333e-3f);
    p = fmaf(p, r, 4.16666667e-2f);
    p = fmaf(p, r, 1.66666667e-1f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    uint32_t bits = (uint32_t)((int32_t)k + 127) << 23; /* 2^k: k in [-126, 127] */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale + nan_if_not_finite;
}

/* tanh: 1 - 2 / (exp(2y) + 1) for |y| >= 0.5, saturating to +-1; below, where
 * that form cancels, the Taylor series to y^15 (truncation < 1e-8 relative).
 * Measured against double tanh: at most 2.9e-7 relative error. */
static inline float fast_tanhf(float y)
{
    float big = 1.0f - 2.0f / (fast_expf(2.0f * y) + 1.0f);
    float y2 = y * y;
    float p = -1.45583438e-3f;          /* -929569/638512875 */
    p = fmaf(p, y2, 3.59212803e-3f);    /* 21844/6081075 */
    p = fmaf(p, y2, -8.86323552e-3f);   /* -1382/155925 */
    p = fmaf(p, y2, 2.18694885e-2f);    /* 62/2835 */
    p = fmaf(p, y2, -5.39682540e-2f);   /* -17/315 */
    p = fmaf(p, y2, 1.33333333e-1f);    /* 2/15 */
    p = fmaf(p, y2, -3.33333333e-1f);   /* -1/3 */
    float small = fmaf(p * y2, y, y);
    /* Select by bit mask: a ?: here is compiled as a branch, which blocks
     * vectorization. */
    uint32_t m = (uint32_t) - (int32_t)(fabsf(y) < 0.5f), bs, bb;
    memcpy(&bs, &small, sizeof bs);
    memcpy(&bb, &big, sizeof bb);
    bs = (bs & m) | (bb & ~m);
    memcpy(&small, &bs, sizeof small);
    return small;
}

#endif
