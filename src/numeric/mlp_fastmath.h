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

/* amp * tanh(b z) = amp sign(z) e / (e + 2) with e = expm1(x), x = 2b|z|
 * (b2 = 2b: the improved sigmoid's 4/3 is exactly twice its 2/3, so x is
 * 2 |(2/3) z| exactly): no cancellation anywhere, so one formula serves
 * every z. x is clamped to 18, where tanh is 1 in float. expm1(x) =
 * 2^k (1 + p) - 1 with x = k ln2 + r, |r| <= ln2/2 and p = expm1(r) by a
 * polynomial (below); 2^k - 1 is exact, so for k = 0 the result is p itself
 * and tiny inputs keep full relative accuracy. Measured against double tanh:
 * at most 1.7e-7 relative error. A NaN or infinite z gives NaN, as
 * fast_expf does. */
static inline float fast_scaled_tanhf(float z, float b2, float amp)
{
    float x = fabsf(b2 * z);
    x = x < 18.0f ? x : 18.0f; /* not fminf: that stays a library call */
    /* k = round(x / ln2) by the shifter: x / ln2 + 1.5 * 2^23 rounds to an
     * integer, whose value is in the low bits of the float (x >= 0, k <= 26;
     * two conversions cost more) */
    float sh = fmaf(x, 1.44269504088896341f, 12582912.0f);
    float k = sh - 12582912.0f;
    int32_t ki;
    memcpy(&ki, &sh, sizeof ki);
    ki -= 0x4B400000; /* the bits of 1.5 * 2^23 */
    float r = fmaf(k, -0.693359375f, x); /* ln2 high part: exact in k * hi */
    r = fmaf(k, 2.12194440e-4f, r);      /* ln2 low part */
    /* q(r) ~ (expm1(r) - r) / r^2: degree 4, fitted for the least largest
     * relative error of r + r^2 q(r) over |r| <= ln2/2 (1.3e-8; Taylor to the
     * same accuracy needs degree 6) */
    float q = 1.38825097e-3f;
    q = fmaf(q, r, 8.36658012e-3f);
    q = fmaf(q, r, 4.16672006e-2f);
    q = fmaf(q, r, 1.66665435e-1f);
    q = fmaf(q, r, 4.99999970e-1f);
    float p = fmaf(q, r * r, r); /* expm1(r) */
    uint32_t bits = (uint32_t)(ki + 127) << 23, tb, zb;
    float s;
    memcpy(&s, &bits, sizeof s);
    float e = fmaf(s, p, s - 1.0f);               /* expm1(x) */
    float t = amp * (e / (e + 2.0f)) + (z - z);   /* NaN for a NaN or infinite z */
    memcpy(&tb, &t, sizeof tb);
    memcpy(&zb, &z, sizeof zb);
    tb |= zb & 0x80000000u; /* the sign of z (tanh is odd; -0 stays -0) */
    memcpy(&t, &tb, sizeof t);
    return t;
}

static inline float fast_tanhf(float y) { return fast_scaled_tanhf(y, 2.0f, 1.0f); }

#endif
