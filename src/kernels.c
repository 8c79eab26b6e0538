/* ms_kernels: float and double instances of the layer products, and the
 * float kernels in AVX-512 or AVX2+FMA intrinsics.
 *
 * The SIMD kernels keep a tile of MR output rows by NV vectors of outputs in
 * registers and run the reduction in increasing order, one fused
 * multiply-add per element and step: the chain the references compute, so
 * results equal theirs bit for bit. Tiles are sized to the register file
 * (AVX-512: 32 registers, AVX2: 16) so no accumulator spills. */
#include "ms_kernels.h"
#include "ms_util.h"
#include "par.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* Tile of the generic kernels: MR output rows by NR output columns. */
#define MR 4
#define MS_UNUSED __attribute__((unused))

/* Below this much work (2 B K N flops) a product runs on the calling thread:
 * measured with make bench, an OpenMP team costs more than it saves on a
 * batch-32 training step. */
#define MS_PAR_MIN_FLOPS 8.0e6

#define R float
#define S f
#define FMA fmaf
#define NR 32
#include "kernels_impl.h"
#undef R
#undef S
#undef FMA
#undef NR

#define R double
#define S d
#define FMA fma
#define NR 32
#include "kernels_impl.h"
#undef R
#undef S
#undef FMA
#undef NR

void ms_mm_nn_d(double *Y, const double *X, const double *W, int B, int K, int N, int nthreads)
{
    gen_nn_d(Y, X, W, B, K, N, nthreads);
}

void ms_mm_tn_d(double *G, const double *X, const double *D, int B, int K, int N, int nthreads)
{
    gen_tn_d(G, X, D, B, K, N, nthreads);
}

void ms_sp_base_d(double *base, const double *W, int K, int N, double zero)
{
    gen_sp_base_d(base, W, K, N, zero);
}

void ms_sp_nn_d(double *Y, const ms_sparse_d *X, const double *base, const double *W, int N,
                int nthreads)
{
    gen_sp_nn_d(Y, X, base, W, N, nthreads);
}

void ms_sp_tn_d(double *G, const ms_sparse_d *X, const double *D, int K, int N, int nthreads)
{
    gen_sp_tn_d(G, X, D, K, N, nthreads);
}

/* ---- float: SIMD ---- */

#if defined(__AVX512F__)
#define MS_SIMD "avx512"
#define VW 16
typedef __m512 vf;
typedef __mmask16 vmask;
#define v_zero() _mm512_setzero_ps()
#define v_set1(x) _mm512_set1_ps(x)
#define v_load(p) _mm512_loadu_ps(p)
#define v_store(p, v) _mm512_storeu_ps(p, v)
#define v_fma(a, b, c) _mm512_fmadd_ps(a, b, c)
#define v_mul(a, b) _mm512_mul_ps(a, b)
#define v_add(a, b) _mm512_add_ps(a, b)
#define v_div(a, b) _mm512_div_ps(a, b)
#define v_loadm(p, m) _mm512_maskz_loadu_ps(m, p)
#define v_storem(p, m, v) _mm512_mask_storeu_ps(p, m, v)
static inline vmask v_mask(int n) { return (vmask)(n >= VW ? 0xffffu : (1u << (n > 0 ? n : 0)) - 1); }
/* Rows per tile by vectors per tile: 24 accumulators at most of 32 registers. */
#define MR_OF(nv) ((nv) == 4 ? 6 : (nv) == 3 ? 8 : 12)
#define NV_MAX 4
#elif defined(__AVX2__) && defined(__FMA__)
#define MS_SIMD "avx2"
#define VW 8
typedef __m256 vf;
typedef __m256i vmask;
#define v_zero() _mm256_setzero_ps()
#define v_set1(x) _mm256_set1_ps(x)
#define v_load(p) _mm256_loadu_ps(p)
#define v_store(p, v) _mm256_storeu_ps(p, v)
#define v_fma(a, b, c) _mm256_fmadd_ps(a, b, c)
#define v_mul(a, b) _mm256_mul_ps(a, b)
#define v_add(a, b) _mm256_add_ps(a, b)
#define v_div(a, b) _mm256_div_ps(a, b)
#define v_loadm(p, m) _mm256_maskload_ps(p, m)
#define v_storem(p, m, v) _mm256_maskstore_ps(p, m, v)
static inline vmask v_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
/* 12 accumulators, the vectors of B and a broadcast fit AVX2's 16 registers. */
#define MR_OF(nv) ((nv) == 4 ? 3 : (nv) == 3 ? 4 : (nv) == 2 ? 6 : 8)
#define NV_MAX 4
#endif

#ifdef MS_SIMD

const char *ms_kernels_isa(void) { return MS_SIMD; }

/* x / b as the references divide: when b is a power of two, x * (1/b) is the
 * same correctly rounded number (scaling by 2^-n), and a multiply costs a
 * fraction of a divide. */
static inline vf div_by(vf x, float b, vf bv, vf inv)
{
    return (b > 0 && (int)b == b && ((int)b & ((int)b - 1)) == 0) ? v_mul(x, inv) : v_div(x, bv);
}

/* One tile: rows i0.. (mr valid of MRC; rows past mr repeat the last one, so
 * the loop has no branch) by columns j0.. (nr valid of NVC * VW, masked).
 * Out[r][j] = chain over t of A(r, t) * Bm[t][j], A(r, t) = A[r * rs + t * ts],
 * stored divided by div when div != 0. MRC and NVC are constants at every
 * call, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void simd_tile(const int MRC, const int NVC, float *Out,
                                                         long ldo, const float *A, long rs, long ts,
                                                         int T, const float *Bm, long ldb, int mr,
                                                         int nr, float div)
{
    vf acc[12][NV_MAX];
    const float *ar[12];
    for (int r = 0; r < MRC; r++) {
        ar[r] = A + (long)(r < mr ? r : mr - 1) * rs;
        for (int v = 0; v < NVC; v++)
            acc[r][v] = v_zero();
    }
    if (nr == NVC * VW) {
        for (int t = 0; t < T; t++) {
            const float *b = Bm + (long)t * ldb;
            vf bv[NV_MAX];
            for (int v = 0; v < NVC; v++)
                bv[v] = v_load(b + v * VW);
            for (int r = 0; r < MRC; r++) {
                vf a = v_set1(ar[r][(long)t * ts]);
                for (int v = 0; v < NVC; v++)
                    acc[r][v] = v_fma(a, bv[v], acc[r][v]);
            }
        }
    } else {
        vmask m[NV_MAX];
        for (int v = 0; v < NVC; v++)
            m[v] = v_mask(nr - v * VW);
        for (int t = 0; t < T; t++) {
            const float *b = Bm + (long)t * ldb;
            vf bv[NV_MAX];
            for (int v = 0; v < NVC; v++)
                bv[v] = v_loadm(b + v * VW, m[v]);
            for (int r = 0; r < MRC; r++) {
                vf a = v_set1(ar[r][(long)t * ts]);
                for (int v = 0; v < NVC; v++)
                    acc[r][v] = v_fma(a, bv[v], acc[r][v]);
            }
        }
    }
    vf dv = v_set1(div), inv = v_set1(div != 0 ? 1.0f / div : 0);
    for (int r = 0; r < MRC; r++) {
        if (r >= mr)
            break;
        float *o = Out + (long)r * ldo;
        for (int v = 0; v < NVC; v++) {
            vf x = div != 0 ? div_by(acc[r][v], div, dv, inv) : acc[r][v];
            if (nr >= (v + 1) * VW)
                v_store(o + v * VW, x);
            else if (nr > v * VW)
                v_storem(o + v * VW, v_mask(nr - v * VW), x);
        }
    }
}

/* Out (M, N) = chain over t < T of A(i, t) Bm (t, j): rows split into tiles
 * of MR_OF(nv) rows by strips of NV_MAX vectors; the last strip uses as few
 * vectors as its columns need. */
static void product_f(float *Out, const float *A, long rs, long ts, int T, const float *Bm, int M,
                      int N, float div, int nthreads)
{
    int strip = NV_MAX * VW, nstrips = (N + strip - 1) / strip;
    int tail_nv = (N - (nstrips - 1) * strip + VW - 1) / VW;
    int mr_main = MR_OF(NV_MAX), mr_tail = MR_OF(tail_nv);
    int mt_main = (M + mr_main - 1) / mr_main, mt_tail = (M + mr_tail - 1) / mr_tail;
    /* tiles: the full strips first, then the last strip */
    int tiles = (nstrips - 1) * mt_main + mt_tail;
    int par = nthreads > 1 && tiles > 1 && 2.0 * M * T * N >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(x, tiles, {
        int s = x / mt_main, last = s >= nstrips - 1;
        if (last)
            s = nstrips - 1;
        int mt = last ? x - (nstrips - 1) * mt_main : x % mt_main;
        int mrc = last ? mr_tail : mr_main, nv = last ? tail_nv : NV_MAX;
        int i0 = mt * mrc, j0 = s * strip, nr = N - j0 < nv * VW ? N - j0 : nv * VW;
        int mr = M - i0 < mrc ? M - i0 : mrc;
        float *o = Out + (long)i0 * N + j0;
        const float *a = A + (long)i0 * rs, *b = Bm + j0;
        switch (nv) {
        case 4: simd_tile(MR_OF(4), 4, o, N, a, rs, ts, T, b, N, mr, nr, div); break;
        case 3: simd_tile(MR_OF(3), 3, o, N, a, rs, ts, T, b, N, mr, nr, div); break;
        case 2: simd_tile(MR_OF(2), 2, o, N, a, rs, ts, T, b, N, mr, nr, div); break;
        default: simd_tile(MR_OF(1), 1, o, N, a, rs, ts, T, b, N, mr, nr, div); break;
        }
        });
}

void ms_mm_nn_f(float *Y, const float *X, const float *W, int B, int K, int N, int nthreads)
{
    product_f(Y, X, K, 1, K, W, B, N, 0, nthreads);
}

void ms_mm_tn_f(float *G, const float *X, const float *D, int B, int K, int N, int nthreads)
{
    product_f(G, X, 1, K, B, D, K, N, (float)B, nthreads);
}

void ms_sp_base_f(float *base, const float *W, int K, int N, float zero)
{
    vf z = v_set1(zero);
    for (int j0 = 0; j0 < N; j0 += NV_MAX * VW) {
        int nr = N - j0 < NV_MAX * VW ? N - j0 : NV_MAX * VW;
        vmask m[NV_MAX];
        vf acc[NV_MAX];
        for (int v = 0; v < NV_MAX; v++) {
            m[v] = v_mask(nr - v * VW);
            acc[v] = v_loadm(W + (long)(K - 1) * N + j0 + v * VW, m[v]);
        }
        for (int k = 0; k < K - 1; k++)
            for (int v = 0; v < NV_MAX; v++)
                acc[v] = v_fma(z, v_loadm(W + (long)k * N + j0 + v * VW, m[v]), acc[v]);
        for (int v = 0; v < NV_MAX; v++)
            v_storem(base + j0 + v * VW, m[v], acc[v]);
    }
}

/* Two rows at a time, so two independent chains per output vector are in
 * flight (one row's chain waits on the FMA latency); each row is still one
 * chain over its own pixels in order. */
static inline __attribute__((always_inline)) void sp_rows_f(float *y0, float *y1,
                                                            const ms_sparse_f *X, int r0, int two,
                                                            const float *base, const float *W,
                                                            int N, int j0, int nr)
{
    vmask m[NV_MAX];
    vf a0[NV_MAX], a1[NV_MAX];
    for (int v = 0; v < NV_MAX; v++) {
        m[v] = v_mask(nr - v * VW);
        a0[v] = a1[v] = v_loadm(base + j0 + v * VW, m[v]);
    }
    const uint16_t *c0 = X->col[r0], *c1 = two ? X->col[r0 + 1] : NULL;
    const uint8_t *p0 = X->val[r0], *p1 = two ? X->val[r0 + 1] : NULL;
    int n0 = X->count[r0], n1 = two ? X->count[r0 + 1] : 0, both = n0 < n1 ? n0 : n1;
    const float *dl = X->delta, *w0 = W + j0;
    int i = 0;
    if (nr == NV_MAX * VW) {
        for (; i < both; i++) {
            vf d0 = v_set1(dl[p0[i]]), d1 = v_set1(dl[p1[i]]);
            const float *u0 = w0 + (long)c0[i] * N, *u1 = w0 + (long)c1[i] * N;
            for (int v = 0; v < NV_MAX; v++) {
                a0[v] = v_fma(d0, v_load(u0 + v * VW), a0[v]);
                a1[v] = v_fma(d1, v_load(u1 + v * VW), a1[v]);
            }
        }
    }
    for (int k = i; k < n0; k++) {
        vf d0 = v_set1(dl[p0[k]]);
        const float *u0 = w0 + (long)c0[k] * N;
        for (int v = 0; v < NV_MAX; v++)
            a0[v] = v_fma(d0, v_loadm(u0 + v * VW, m[v]), a0[v]);
    }
    for (int k = i; k < n1; k++) {
        vf d1 = v_set1(dl[p1[k]]);
        const float *u1 = w0 + (long)c1[k] * N;
        for (int v = 0; v < NV_MAX; v++)
            a1[v] = v_fma(d1, v_loadm(u1 + v * VW, m[v]), a1[v]);
    }
    for (int v = 0; v < NV_MAX; v++) {
        v_storem(y0 + j0 + v * VW, m[v], a0[v]);
        if (two)
            v_storem(y1 + j0 + v * VW, m[v], a1[v]);
    }
}

void ms_sp_nn_f(float *Y, const ms_sparse_f *X, const float *base, const float *W, int N,
                int nthreads)
{
    int pairs = (X->rows + 1) / 2;
    int par = nthreads > 1 && pairs > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(q, pairs, {
        int r0 = 2 * q, two = r0 + 1 < X->rows;
        float *y0 = Y + (long)r0 * N, *y1 = two ? y0 + N : y0;
        for (int j0 = 0; j0 < N; j0 += NV_MAX * VW)
            sp_rows_f(y0, y1, X, r0, two, base, W, N, j0,
                      N - j0 < NV_MAX * VW ? N - j0 : NV_MAX * VW);
        });
}

void ms_sp_tn_f(float *G, const ms_sparse_f *X, const float *D, int K, int N, int nthreads)
{
    int B = X->rows, P = K - 1, *start, *eb;
    float *ed;
    by_column_f(X, P, &start, &eb, &ed);
    float *sum = ms_alloc_aligned((size_t)N * sizeof(float));
    col_sums_f(sum, D, B, N);
    vf z = v_set1(X->zero), bv = v_set1((float)B), inv = v_set1(1.0f / (float)B);
    int par = nthreads > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par;
    for (int j0 = 0; j0 < N; j0 += NV_MAX * VW) {
        int nr = N - j0 < NV_MAX * VW ? N - j0 : NV_MAX * VW, full = nr == NV_MAX * VW;
        vmask m[NV_MAX];
        vf zs[NV_MAX], none[NV_MAX];
        for (int v = 0; v < NV_MAX; v++) {
            m[v] = v_mask(nr - v * VW);
            zs[v] = v_mul(z, v_loadm(sum + j0 + v * VW, m[v]));
            /* a column without nonzero pixels: zero * s / B, computed once */
            none[v] = div_by(zs[v], (float)B, bv, inv);
        }
        MS_PAR_FOR(k, P, {
            float *g = G + (long)k * N + j0;
            vf acc[NV_MAX];
            for (int v = 0; v < NV_MAX; v++)
                acc[v] = zs[v];
            if (full) {
                if (start[k] == start[k + 1]) {
                    for (int v = 0; v < NV_MAX; v++)
                        v_store(g + v * VW, none[v]);
                    continue;
                }
                for (int e = start[k]; e < start[k + 1]; e++) {
                    vf d = v_set1(ed[e]);
                    const float *dr = D + (long)eb[e] * N + j0;
                    for (int v = 0; v < NV_MAX; v++)
                        acc[v] = v_fma(d, v_load(dr + v * VW), acc[v]);
                }
                for (int v = 0; v < NV_MAX; v++)
                    v_store(g + v * VW, div_by(acc[v], (float)B, bv, inv));
                continue;
            }
            for (int e = start[k]; e < start[k + 1]; e++) {
                vf d = v_set1(ed[e]);
                const float *dr = D + (long)eb[e] * N + j0;
                for (int v = 0; v < NV_MAX; v++)
                    acc[v] = v_fma(d, v_loadm(dr + v * VW, m[v]), acc[v]);
            }
            for (int v = 0; v < NV_MAX; v++)
                v_storem(g + v * VW, m[v], div_by(acc[v], (float)B, bv, inv));
                });
    }
    for (int j = 0; j < N; j++)
        G[(long)P * N + j] = sum[j] / (float)B;
    free(start);
    free(eb);
    free(ed);
    ms_free_aligned(sum);
}

#else /* no SIMD: the generic kernels */

const char *ms_kernels_isa(void) { return "generic"; }

void ms_mm_nn_f(float *Y, const float *X, const float *W, int B, int K, int N, int nthreads)
{
    gen_nn_f(Y, X, W, B, K, N, nthreads);
}

void ms_mm_tn_f(float *G, const float *X, const float *D, int B, int K, int N, int nthreads)
{
    gen_tn_f(G, X, D, B, K, N, nthreads);
}

void ms_sp_base_f(float *base, const float *W, int K, int N, float zero)
{
    gen_sp_base_f(base, W, K, N, zero);
}

void ms_sp_nn_f(float *Y, const ms_sparse_f *X, const float *base, const float *W, int N,
                int nthreads)
{
    gen_sp_nn_f(Y, X, base, W, N, nthreads);
}

void ms_sp_tn_f(float *G, const ms_sparse_f *X, const float *D, int K, int N, int nthreads)
{
    gen_sp_tn_f(G, X, D, K, N, nthreads);
}

#endif
