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
#define NR 32
#define MS_UNUSED __attribute__((unused))

/* Below this much work (2 B K N flops) a product runs on the calling thread:
 * measured with make bench, an OpenMP team costs more than it saves on a
 * batch-32 training step. */
#define MS_PAR_MIN_FLOPS 8.0e6
/* The same for the sparse first layer, in multiply-adds actually done (about
 * 150 nonzero pixels an image). Not lower: a training step's products at
 * batch 32 (0.3 to 0.6 M) measured 1.3x faster on two threads with
 * OMP_WAIT_POLICY=active but 1.3 to 1.5x SLOWER with libgomp's default
 * policy, whose idle worker sleeps between the step's short regions. */
#define MS_PAR_MIN_SPARSE 2.0e6

/* The float instance: ms_mm_nn_ref_f, ms_mm_tn_ref_f, ms_sp_base_ref_f,
 * ms_sp_nn_ref_f, ms_sp_tn_ref_f; static tile_f, pad_strip_f, gen_nn_f,
 * gen_tn_f, gen_transpose_f, gen_sp_base_f, gen_sp_nn_f, by_column_f,
 * col_sums_f, gen_sp_tn_f, apply_sgd_f, gen_sp_tn_sgd_f, gen_tn_sgd_f. */
#define MS_T float
#define MS_SUF f
#define MS_FMA fmaf
#include "kernels_impl.h"

/* The double instance: ms_mm_nn_ref_d, ms_mm_tn_ref_d, ms_sp_base_ref_d,
 * ms_sp_nn_ref_d, ms_sp_tn_ref_d; static tile_d, pad_strip_d, gen_nn_d,
 * gen_tn_d, gen_transpose_d, gen_sp_base_d, gen_sp_nn_d, by_column_d,
 * col_sums_d, gen_sp_tn_d, apply_sgd_d, gen_sp_tn_sgd_d, gen_tn_sgd_d. */
#define MS_T double
#define MS_SUF d
#define MS_FMA fma
#include "kernels_impl.h"

/* The public names over the generic kernels: always for double, for float
 * when the build targets no SIMD instruction set. T is the element type,
 * SUF the suffix (precision.h's MS_T and MS_SUF, as arguments). */
#define GENERIC_KERNELS(T, SUF)                                                                    \
    void ms_mm_nn_##SUF(T *Y, const T *X, const T *W, int B, int K, int N, int nthreads)           \
    {                                                                                              \
        gen_nn_##SUF(Y, X, W, B, K, N, nthreads);                                                  \
    }                                                                                              \
    void ms_mm_tn_##SUF(T *G, const T *X, const T *D, int B, int K, int N, int nthreads)           \
    {                                                                                              \
        gen_tn_##SUF(G, X, D, B, K, N, nthreads);                                                  \
    }                                                                                              \
    void ms_mm_tn_sgd_##SUF(T *W, T *V, const T *X, const T *D, int B, int K, int N, T lr,         \
                            T gamma, int nthreads)                                                 \
    {                                                                                              \
        gen_tn_sgd_##SUF(W, V, X, D, B, K, N, lr, gamma, nthreads);                                \
    }                                                                                              \
    void ms_sp_base_##SUF(T *base, const T *W, int K, int N, T zero)                               \
    {                                                                                              \
        gen_sp_base_##SUF(base, W, K, N, zero);                                                    \
    }                                                                                              \
    void ms_sp_nn_##SUF(T *Y, const ms_sparse_##SUF *X, const T *base, const T *W, int ldw, int N, \
                        int nthreads)                                                              \
    {                                                                                              \
        SP_NN_##SUF(Y, X, base, W, ldw, N, nthreads);                                              \
    }                                                                                              \
    void ms_sp_tn_##SUF(T *G, const ms_sparse_##SUF *X, const T *D, int K, int N, int nthreads)    \
    {                                                                                              \
        gen_sp_tn_##SUF(G, X, D, K, N, nthreads);                                                  \
    }                                                                                              \
    void ms_sp_tn_sgd_##SUF(T *W, T *V, const ms_sparse_##SUF *X, const T *D, int K, int N, T lr,  \
                            T gamma, int nthreads)                                                 \
    {                                                                                              \
        gen_sp_tn_sgd_##SUF(W, V, X, D, K, N, lr, gamma, nthreads);                                \
    }                                                                                              \
    void ms_transpose_##SUF(T *WT, const T *W, int K, int N) { gen_transpose_##SUF(WT, W, K, N); }

/* The first layer in double on a SIMD build (precision: float64, where it
 * was half of an epoch in the generic kernel, which reloads and stores
 * each output for every pixel): a row's outputs in strips of up to
 * D_STRIP vectors held in registers while the row's pixels stream past.
 * Each output is the reference's chain: base, then one FMA per nonzero
 * pixel in order. */
#if defined(__AVX512F__)
#define DW 8
typedef __m512d dvec;
typedef __mmask8 dmask;
static inline dmask d_mask(int n) { return (dmask)(n >= DW ? 0xff : (1u << (n > 0 ? n : 0)) - 1); }
#define d_load(p, m) _mm512_maskz_loadu_pd(m, p)
#define d_store(p, m, v) _mm512_mask_storeu_pd(p, m, v)
#define d_fma(a, b, c) _mm512_fmadd_pd(a, b, c)
#define d_set1(x) _mm512_set1_pd(x)
#elif defined(__AVX2__) && defined(__FMA__)
#define DW 4
typedef __m256d dvec;
typedef __m256i dmask;
static inline dmask d_mask(int n)
{
    return _mm256_set_epi64x(n > 3 ? -1 : 0, n > 2 ? -1 : 0, n > 1 ? -1 : 0, n > 0 ? -1 : 0);
}
#define d_load(p, m) _mm256_maskload_pd(p, m)
#define d_store(p, m, v) _mm256_maskstore_pd(p, m, v)
#define d_fma(a, b, c) _mm256_fmadd_pd(a, b, c)
#define d_set1(x) _mm256_set1_pd(x)
#endif

#ifdef DW
#define D_STRIP 4 /* accumulators a strip: 4 of the 16 vector registers */

static inline __attribute__((always_inline)) void d_strip(const int NV, double *y, const uint16_t *col,
                                                          const uint8_t *val, int cnt,
                                                          const double *delta, const double *base,
                                                          const double *W, int ldw, int j0, int nr)
{
    dvec acc[D_STRIP];
    dmask m[D_STRIP];
    for (int v = 0; v < NV; v++) {
        m[v] = d_mask(nr - v * DW);
        acc[v] = d_load(base + j0 + v * DW, m[v]);
    }
    for (int i = 0; i < cnt; i++) {
        dvec d = d_set1(delta[val[i]]);
        const double *w = W + (long)col[i] * ldw + j0;
        for (int v = 0; v < NV; v++)
            acc[v] = d_fma(d, d_load(w + v * DW, m[v]), acc[v]);
    }
    for (int v = 0; v < NV; v++)
        d_store(y + j0 + v * DW, m[v], acc[v]);
}

static void simd_sp_nn_d(double *Y, const ms_sparse_d *X, const double *base, const double *W,
                         int ldw, int N, int nthreads)
{
    int par = nthreads > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(r, X->rows, {
        double *y = Y + (long)r * N;
        const uint16_t *col = X->col[r];
        const uint8_t *val = X->val[r];
        int cnt = X->count[r];
        for (int j0 = 0; j0 < N; j0 += D_STRIP * DW) {
            int nr = N - j0 < D_STRIP * DW ? N - j0 : D_STRIP * DW;
            switch ((nr + DW - 1) / DW) {
            case 1: d_strip(1, y, col, val, cnt, X->delta, base, W, ldw, j0, nr); break;
            case 2: d_strip(2, y, col, val, cnt, X->delta, base, W, ldw, j0, nr); break;
            case 3: d_strip(3, y, col, val, cnt, X->delta, base, W, ldw, j0, nr); break;
            default: d_strip(4, y, col, val, cnt, X->delta, base, W, ldw, j0, nr); break;
            }
        }
    });
}
#define SP_NN_d simd_sp_nn_d
#else
#define SP_NN_d gen_sp_nn_d
#endif

GENERIC_KERNELS(double, d)

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
/* The dense products' tiles: rows by vectors (PNV at most, MR_OF(nv) rows).
 * 8 x 2 (16 accumulators) measured faster than 6 x 4 (24) on the study's
 * shapes, GFLOP/s on one Zen 5 core: 32x64x64 250 vs 219, 256x64x64 259 vs
 * 250, 64x64x64 254 vs 240; 256x785x64 261 vs 263. */
#define PNV 2
#define MR_OF(nv) ((nv) == 2 ? 8 : 12)
/* Vectors per strip of the sparse kernels, and of the grouped first layer. */
#define NV_MAX 4
#define GROUP_NV 4
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
/* 6 x 2: 12 accumulators, the 2 vectors of B and a broadcast fit AVX2's 16
 * registers. The 3 x 4 tile used before needs 17 and spilled: GFLOP/s on one
 * Zen 5 core built for x86-64-v3, 3 x 4 against 6 x 2: 32x785x64 60 vs 118,
 * 32x64x64 72 vs 118, 256x64x64 74 vs 130, the weight gradient 57 vs 107. */
#define PNV 2
#define MR_OF(nv) ((nv) == 2 ? 6 : 8)
#define NV_MAX 4
/* 4 rows x 3 vectors: 12 accumulators, 3 of W and a broadcast. Evaluation
 * of [128] (s an epoch, Zen 5 built for x86-64-v3): rows one by one 0.122,
 * groups of 2 vectors 0.096, 3 vectors 0.084, 4 vectors (spilling) 0.119. */
#define GROUP_NV 3
#endif

#ifdef MS_SIMD

const char *ms_kernels_isa(void) { return MS_SIMD; }

/* x / b as the references divide: when b is a power of two, x * (1/b) is the
 * same correctly rounded number (scaling by 2^-n), and a multiply costs a
 * fraction of a divide. pow2 = is_pow2(b), worked out once per product. */
static inline int is_pow2(float b)
{
    return b > 0 && (int)b == b && ((int)b & ((int)b - 1)) == 0;
}

static inline vf div_by(vf x, int pow2, vf bv, vf inv) { return pow2 ? v_mul(x, inv) : v_div(x, bv); }

/* One tile: rows i0.. (mr valid of MRC; rows past mr repeat the last one, so
 * the loop has no branch) by columns j0.. (nr valid of NVC * VW, masked).
 * Out[r][j] = chain over t of A(r, t) * Bm[t][j], A(r, t) = A[r * rs + t * ts],
 * stored divided by div when div != 0. MRC and NVC are constants at every
 * call, so the accumulators live in registers. */
/* An update applied in a tile's epilogue instead of storing the product:
 * Out holds the weights, the tile's value x is their gradient;
 * mode 1: v = fma(gamma, v, x), Out = fma(-lr, v, Out); mode 2: Out =
 * fma(-lr, x, Out) (ms_sgd_update's arithmetic). */
typedef struct tile_upd {
    float *V; /* velocity, laid out as Out */
    float nlr, gamma;
    int mode;
} tile_upd;

static inline __attribute__((always_inline)) void simd_tile(const int MRC, const int NVC, float *Out,
                                                         long ldo, const float *A, long rs, long ts,
                                                         int T, const float *Bm, long ldb, int mr,
                                                         int nr, float div, int mode, float *vt,
                                                         float nlr_s, float gamma_s)
{
    vf acc[12][NV_MAX];
    const float *ar[12];
    for (int r = 0; r < MRC; r++) {
        ar[r] = A + (long)(r < mr ? r : mr - 1) * rs;
        for (int v = 0; v < NVC; v++)
            acc[r][v] = v_zero();
    }
    /* Bm always holds NVC full vectors (product_f pads a partial strip):
     * one branch-free loop, so the accumulators stay in registers (a masked
     * variant of this loop made GCC spill all of them). */
#pragma GCC unroll 4
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
    vf dv = v_set1(div), inv = v_set1(div != 0 ? 1.0f / div : 0);
    const int pow2 = is_pow2(div);
    const vf nlr = v_set1(nlr_s), gamma = v_set1(gamma_s);
    for (int r = 0; r < MRC; r++) {
        if (r >= mr)
            break;
        float *o = Out + (long)r * ldo;
        for (int v = 0; v < NVC; v++) {
            if (nr <= v * VW)
                break;
            vmask m = v_mask(nr >= (v + 1) * VW ? VW : nr - v * VW);
            vf x = div != 0 ? div_by(acc[r][v], pow2, dv, inv) : acc[r][v];
            if (mode) {
                float *vp = vt + (long)r * ldo + v * VW; /* V's tile, laid out as Out's */
                if (mode == 1) {
                    x = v_fma(gamma, v_loadm(vp, m), x);
                    v_storem(vp, m, x);
                }
                x = v_fma(nlr, x, v_loadm(o + v * VW, m));
            }
            if (nr >= (v + 1) * VW)
                v_store(o + v * VW, x);
            else
                v_storem(o + v * VW, m, x);
        }
    }
}

/* Out (M, N) = chain over t < T of A(i, t) Bm (t, j): rows split into tiles
 * of MR_OF(nv) rows by strips of PNV vectors; the last strip uses as few
 * vectors as its columns need. */
static void product_f(float *Out, const float *A, long rs, long ts, int T, const float *Bm, int M,
                      int N, float div, const tile_upd *up, int nthreads)
{
    int mode = up ? up->mode : 0;
    float *V = up ? up->V : NULL, nlr = up ? up->nlr : 0, gamma = up ? up->gamma : 0;
    int strip = PNV * VW, nstrips = (N + strip - 1) / strip;
    int tail_nv = (N - (nstrips - 1) * strip + VW - 1) / VW;
    /* When N is not a multiple of the vector width (10 outputs, 60 units),
     * the last strip's columns are copied into whole, zero-padded vectors. */
    int jt = (nstrips - 1) * strip, pw = N % VW ? tail_nv * VW : 0;
    float stack_[8192], *pad = NULL;
    if (pw) {
        pad = (size_t)T * pw <= sizeof stack_ / sizeof *stack_ ? stack_
                                                               : ms_malloc((size_t)T * pw * sizeof(float));
        for (int t = 0; t < T; t++)
            for (int j = 0; j < pw; j++)
                pad[(long)t * pw + j] = jt + j < N ? Bm[(long)t * N + jt + j] : 0;
    }
    int mr_main = MR_OF(PNV), mr_tail = MR_OF(tail_nv);
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
        int mrc = last ? mr_tail : mr_main, nv = last ? tail_nv : PNV;
        int i0 = mt * mrc, j0 = s * strip, nr = N - j0 < nv * VW ? N - j0 : nv * VW;
        int mr = M - i0 < mrc ? M - i0 : mrc;
        float *o = Out + (long)i0 * N + j0, *vt = mode == 1 ? V + (long)i0 * N + j0 : NULL;
        const float *a = A + (long)i0 * rs, *b = Bm + j0;
        long ldb = N;
        if (last && pw) {
            b = pad;
            ldb = pw;
        }
        switch (nv) {
        case 4: if (PNV >= 4) simd_tile(MR_OF(4), 4, o, N, a, rs, ts, T, b, ldb, mr, nr, div, mode, vt, nlr, gamma); break;
        case 3: if (PNV >= 3) simd_tile(MR_OF(3), 3, o, N, a, rs, ts, T, b, ldb, mr, nr, div, mode, vt, nlr, gamma); break;
        case 2: simd_tile(MR_OF(2), 2, o, N, a, rs, ts, T, b, ldb, mr, nr, div, mode, vt, nlr, gamma); break;
        default: simd_tile(MR_OF(1), 1, o, N, a, rs, ts, T, b, ldb, mr, nr, div, mode, vt, nlr, gamma); break;
        }
    });
    if (pad && pad != stack_)
        free(pad);
}

void ms_mm_nn_f(float *Y, const float *X, const float *W, int B, int K, int N, int nthreads)
{
    product_f(Y, X, K, 1, K, W, B, N, 0, NULL, nthreads);
}

void ms_mm_tn_f(float *G, const float *X, const float *D, int B, int K, int N, int nthreads)
{
    product_f(G, X, 1, K, B, D, K, N, (float)B, NULL, nthreads);
}

void ms_mm_tn_sgd_f(float *W, float *V, const float *X, const float *D, int B, int K, int N,
                    float lr, float gamma, int nthreads)
{
    tile_upd up = {V, -lr, gamma, gamma == 0 ? 2 : 1};
    product_f(W, X, 1, K, B, D, K, N, (float)B, &up, nthreads);
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

/* RR rows at a time (2, or 4 for strips of at most 2 vectors), so at least
 * eight independent chains are in flight while one waits on the FMA latency;
 * each row is still one chain over its own pixels in order. NVC vectors of
 * outputs, the last one partial when TAIL: base is read and Y written
 * masked, but W rows whole: the lanes past N read the start of the next W
 * row (there always is one: the bias row follows the last pixel's), and are
 * never stored. TAIL 2 (N below one vector): W masked too. RR, NVC and TAIL are constants at every call: the
 * accumulators live in registers. */
static inline __attribute__((always_inline)) void sp_rows(const int RR, const int NVC,
                                                          const int TAIL, float *const *y,
                                                          const uint16_t *const *c,
                                                          const uint8_t *const *p, const int *n,
                                                          int nrows, const float *base,
                                                          const float *dl, const float *w0, int ldw,
                                                          vmask mt)
{
#define SP_LOAD(q, v) (TAIL && (v) == NVC - 1 ? v_loadm((q) + (v) * VW, mt) : v_load((q) + (v) * VW))
/* TAIL 2: N < VW, the rows after the last pixel's may not hold a vector */
#define W_LOAD(q, v) (TAIL == 2 && (v) == NVC - 1 ? v_loadm((q) + (v) * VW, mt) : v_load((q) + (v) * VW))
    vf a[4][NV_MAX];
    int both = n[0];
    for (int r = 0; r < RR; r++) {
        for (int v = 0; v < NVC; v++)
            a[r][v] = SP_LOAD(base, v);
        int nr = r < nrows ? n[r] : 0;
        both = nr < both ? nr : both;
    }
    for (int i = 0; i < both; i++)
        for (int r = 0; r < RR; r++) {
            vf d = v_set1(dl[p[r][i]]);
            const float *u = w0 + (long)c[r][i] * ldw;
            for (int v = 0; v < NVC; v++)
                a[r][v] = v_fma(d, W_LOAD(u, v), a[r][v]);
        }
    for (int r = 0; r < RR; r++) {
        if (r >= nrows)
            break;
        for (int i = both; i < n[r]; i++) {
            vf d = v_set1(dl[p[r][i]]);
            const float *u = w0 + (long)c[r][i] * ldw;
            for (int v = 0; v < NVC; v++)
                a[r][v] = v_fma(d, W_LOAD(u, v), a[r][v]);
        }
        for (int v = 0; v < NVC; v++) {
            if (TAIL && v == NVC - 1)
                v_storem(y[r] + v * VW, mt, a[r][v]);
            else
                v_store(y[r] + v * VW, a[r][v]);
        }
    }
#undef SP_LOAD
#undef W_LOAD
}

/* Rows r0 .. r0+nrows-1 (at most 4), the strip of columns j0 .. j0+nr-1. */
static void sp_strip(float *Y, const ms_sparse_f *X, int r0, int nrows, const float *base,
                     const float *W, int ldw, int N, int j0, int nr)
{
    float *y[4];
    const uint16_t *c[4];
    const uint8_t *p[4];
    int n[4];
    for (int r = 0; r < 4; r++) {
        int q = r0 + (r < nrows ? r : 0);
        y[r] = Y + (long)q * N + j0;
        c[r] = X->col[q];
        p[r] = X->val[q];
        n[r] = r < nrows ? X->count[q] : 0;
    }
    int nvc = (nr + VW - 1) / VW, tail = nr % VW == 0 ? 0 : N < VW ? 2 : 1;
    vmask mt = v_mask(nr - (nvc - 1) * VW);
    const float *b = base + j0, *w0 = W + j0, *dl = X->delta;
    switch (nvc * 3 + tail) {
#define SP_CASE(NVC, TAIL)                                                                         \
    case NVC * 3 + TAIL:                                                                           \
        if (NVC <= 2)                                                                              \
            sp_rows(4, NVC, TAIL, y, c, p, n, nrows, b, dl, w0, ldw, mt);                          \
        else {                                                                                     \
            sp_rows(2, NVC, TAIL, y, c, p, n, nrows < 2 ? nrows : 2, b, dl, w0, ldw, mt);          \
            if (nrows > 2)                                                                         \
                sp_rows(2, NVC, TAIL, y + 2, c + 2, p + 2, n + 2, nrows - 2, b, dl, w0, ldw, mt);  \
        }                                                                                          \
        break;
        SP_CASE(1, 0) SP_CASE(1, 1) SP_CASE(1, 2) SP_CASE(2, 0) SP_CASE(2, 1)
        SP_CASE(3, 0) SP_CASE(3, 1) SP_CASE(4, 0) SP_CASE(4, 1)
#undef SP_CASE
    default: break;
    }
}

/* A group of MS_GROUP rows (y[u] NULL: none) over the union of their
 * pixels: each W row is read once for the group, and that traffic (L2 to
 * L1) is what bounds this product.
 * AVX-512: a row without the pixel skips it by a zero mask (merge masking
 * leaves the sum untouched, not even rounded), so each row's chain is the one
 * sp_rows computes.
 * AVX2 has no masked multiply-add (a blend after each one measured 1.9x
 * slower): a row without the pixel adds delta[0] x W = 0 x W. That leaves the
 * sum bit for bit as it was (x + 0 = x) unless the sum is -0 (-0 + +0 = +0) or
 * the weight is infinite or NaN (0 x inf = NaN): only for weights a run has
 * already lost, or sums no test of real data meets. */
static inline __attribute__((always_inline)) void sp_group(const int NVC, const int TAIL,
                                                           float *const *y, const uint16_t *col,
                                                           const uint8_t *val, int n,
                                                           const float *base, const float *dl,
                                                           const float *w0, int ldw, vmask mt)
{
    enum { G = MS_GROUP };
    vf a[G][NV_MAX];
    for (int v = 0; v < NVC; v++) {
        vf b = TAIL && v == NVC - 1 ? v_loadm(base + v * VW, mt) : v_load(base + v * VW);
        for (int u = 0; u < G; u++)
            a[u][v] = b;
    }
    for (int i = 0; i < n; i++) {
        const uint8_t *pv = val + (size_t)G * i;
        const float *wr = w0 + (long)col[i] * ldw;
        vf w[NV_MAX];
        for (int v = 0; v < NVC; v++)
            w[v] = TAIL == 2 && v == NVC - 1 ? v_loadm(wr + v * VW, mt) : v_load(wr + v * VW);
        for (int u = 0; u < G; u++) {
            vf d = v_set1(dl[pv[u]]);
#if defined(__AVX512F__)
            __mmask16 k = (__mmask16) - (pv[u] != 0);
            for (int v = 0; v < NVC; v++)
                a[u][v] = _mm512_mask3_fmadd_ps(d, w[v], a[u][v], k);
#else
            for (int v = 0; v < NVC; v++)
                a[u][v] = v_fma(d, w[v], a[u][v]);
#endif
        }
    }
    for (int u = 0; u < G; u++) {
        if (!y[u])
            continue;
        for (int v = 0; v < NVC; v++) {
            if (TAIL && v == NVC - 1)
                v_storem(y[u] + v * VW, mt, a[u][v]);
            else
                v_store(y[u] + v * VW, a[u][v]);
        }
    }
}

static void sp_group_strip(float *Y, const ms_sparse_f *X, int q, const float *base, const float *W,
                           int ldw, int N, int j0, int nr)
{
    float *y[MS_GROUP];
    for (int u = 0; u < MS_GROUP; u++) {
        int r = X->grow[MS_GROUP * q + u];
        y[u] = r < 0 ? NULL : Y + (long)r * N + j0;
    }
    uint32_t e = X->gstart[q];
    int n = (int)(X->gstart[q + 1] - e);
    const uint16_t *col = X->gcol + e;
    const uint8_t *val = X->gval + (size_t)MS_GROUP * e;
    int nvc = (nr + VW - 1) / VW, tail = nr % VW == 0 ? 0 : N < VW ? 2 : 1;
    vmask mt = v_mask(nr - (nvc - 1) * VW);
    const float *b = base + j0, *w0 = W + j0, *dl = X->delta;
    switch (nvc * 3 + tail) {
#define GROUP_CASE(NVC, TAIL)                                                                      \
    case NVC * 3 + TAIL:                                                                           \
        if (NVC <= GROUP_NV)                                                                       \
            sp_group(NVC, TAIL, y, col, val, n, b, dl, w0, ldw, mt);                               \
        break;
        GROUP_CASE(1, 0) GROUP_CASE(1, 1) GROUP_CASE(1, 2) GROUP_CASE(2, 0) GROUP_CASE(2, 1)
        GROUP_CASE(3, 0) GROUP_CASE(3, 1) GROUP_CASE(4, 0) GROUP_CASE(4, 1)
#undef GROUP_CASE
    default: break;
    }
}

void ms_sp_nn_f(float *Y, const ms_sparse_f *X, const float *base, const float *W, int ldw,
                int N, int nthreads)
{
    if (X->ngroups) {
        int groups = X->ngroups;
        int par = nthreads > 1 && groups > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_SPARSE;
        (void)par;
        /* strip by strip: a strip's part of W stays in cache across the groups.
         * The vectors are spread evenly over the strips (AVX2, 16 vectors:
         * 3,3,3,3,2,2, not 3,3,3,3,3,1): a thin strip pays a group's
         * per-pixel loads for few multiply-adds. */
        int nv = (N + VW - 1) / VW, ns = (nv + GROUP_NV - 1) / GROUP_NV;
        for (int k = 0, j0 = 0; k < ns; k++) {
            int w = (nv / ns + (k < nv % ns)) * VW, nr = N - j0 < w ? N - j0 : w;
            MS_PAR_FOR(q, groups, { sp_group_strip(Y, X, q, base, W, ldw, N, j0, nr); });
            j0 += w;
        }
        return;
    }
    int groups = (X->rows + 3) / 4;
    int par = nthreads > 1 && groups > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_SPARSE;
    (void)par;
    MS_PAR_FOR(g, groups, {
        int r0 = 4 * g, nrows = X->rows - r0 < 4 ? X->rows - r0 : 4;
        for (int j0 = 0; j0 < N; j0 += NV_MAX * VW)
            sp_strip(Y, X, r0, nrows, base, W, ldw, N, j0,
                     N - j0 < NV_MAX * VW ? N - j0 : NV_MAX * VW);
    });
}

/* The weight gradient of the sparse first layer reads the batch by pixel:
 * 64 rows at a time as bit masks, bit b of mask[k] set when row b0 + b has
 * pixel k, whose byte is vb[P b + k] (by row: written in order as the mask
 * is built, in one pass over the rows' pixels). A pixel's rows come out
 * lowest bit first, the order of its chain. */
enum { TN_ROWS = 64 };

typedef struct tn_batch {
    const uint64_t *mask; /* (P) */
    const uint8_t *vb;    /* (TN_ROWS, P) */
    int P;
    const float *dl;      /* the delta table */
    const float *D;       /* (rows, N): D's rows b0.. */
} tn_batch;

/* Where a chunk's sums go: partial sums (part, every chunk but the last,
 * and read back by the next), or the gradient / B into G, or (upd 1 and 2)
 * the weights G updated in place with velocity V. */
typedef struct tn_out {
    float *G, *V, *part;
    int first, last;
    int pow2; /* B is a power of two: / B is * (1 / B) (div_by) */
    vf nlr, gamma, bv, inv;
} tn_out;

/* KK gradient rows k0.. (nk of them valid) over the strip's NVC vectors (the
 * last partial when TAIL: masked loads and stores). Each row: zs (or its
 * partial sum), then its chain over the chunk's rows that have the pixel,
 * in order. The KK chains run side by side as far as the shortest goes,
 * then each finishes alone: no masked-out work, every chain unchanged. KK,
 * NVC, TAIL and UPD are constants at every call: the accumulators live in
 * registers. */
static inline __attribute__((always_inline)) void tn_rows(const int KK, const int NVC,
                                                          const int TAIL, const int UPD,
                                                          const tn_batch *tb, const tn_out *o,
                                                          int k0, int nk, int N, int j0,
                                                          const vf *zs, vmask mt)
{
#define TN_LOAD(q, v) (TAIL && (v) == NVC - 1 ? v_loadm((q) + (v) * VW, mt) : v_load((q) + (v) * VW))
#define TN_STORE(q, v, x)                                                                          \
    do {                                                                                           \
        if (TAIL && (v) == NVC - 1)                                                                \
            v_storem((q) + (v) * VW, mt, x);                                                       \
        else                                                                                       \
            v_store((q) + (v) * VW, x);                                                            \
    } while (0)
#define TN_STEP(u)                                                                                 \
    do {                                                                                           \
        int b_ = __builtin_ctzll(m[u]);                                                            \
        m[u] &= m[u] - 1;                                                                          \
        vf d_ = v_set1(dl[vb[(long)P * b_ + k0 + (u)]]);                                           \
        const float *dr_ = D + (long)b_ * N;                                                       \
        for (int v = 0; v < NVC; v++)                                                              \
            a[u][v] = v_fma(d_, TN_LOAD(dr_, v), a[u][v]);                                         \
    } while (0)
    /* locals: a float store may alias a vector field as far as C knows */
    const float *dl = tb->dl, *D = tb->D + j0;
    const uint8_t *vb = tb->vb;
    long P = tb->P;
    float *G = o->G, *V = o->V, *part = o->part;
    const int first = o->first, last = o->last, pow2 = o->pow2;
    const vf nlr = o->nlr, gamma = o->gamma, bv = o->bv, inv = o->inv;
    vf a[4][NV_MAX];
    uint64_t m[4];
    int both = TN_ROWS;
    for (int u = 0; u < KK; u++) {
        m[u] = u < nk ? tb->mask[k0 + u] : 0;
        int c = __builtin_popcountll(m[u]);
        both = c < both ? c : both;
        for (int v = 0; v < NVC; v++)
            a[u][v] = zs[v];
        if (!first)
            for (int v = 0; v < NVC; v++)
                a[u][v] = TN_LOAD(part + (long)(k0 + (u < nk ? u : 0)) * N + j0, v);
    }
    for (int i = 0; i < both; i++)
        for (int u = 0; u < KK; u++)
            TN_STEP(u);
    for (int u = 0; u < KK; u++) {
        if (u >= nk)
            break;
        while (m[u])
            TN_STEP(u);
        long at = (long)(k0 + u) * N + j0;
        for (int v = 0; v < NVC; v++) {
            if (!last) {
                TN_STORE(part + at, v, a[u][v]);
                continue;
            }
            vf x = div_by(a[u][v], pow2, bv, inv);
            if (UPD) { /* G is the weights: update them with the gradient x */
                vf w = TN_LOAD(G + at, v);
                if (UPD == 1) {
                    x = v_fma(gamma, TN_LOAD(V + at, v), x);
                    TN_STORE(V + at, v, x);
                }
                x = v_fma(nlr, x, w);
            }
            TN_STORE(G + at, v, x);
        }
    }
#undef TN_STEP
#undef TN_STORE
#undef TN_LOAD
}

#define TN_CASE(NVC, TAIL)                                                                         \
    case NVC * 2 + TAIL:                                                                           \
        if (upd == 1)                                                                              \
            TN_CALL(NVC, TAIL, 1);                                                                 \
        else if (upd == 2)                                                                         \
            TN_CALL(NVC, TAIL, 2);                                                                 \
        else                                                                                       \
            TN_CALL(NVC, TAIL, 0);                                                                 \
        break;
#define TN_CALL(NVC, TAIL, UPD)                                                                    \
    do {                                                                                           \
        if (NVC <= 2)                                                                              \
            tn_rows(4, NVC, TAIL, UPD, &tb, &out, k0, nk, N, j0, zs, mt);                          \
        else {                                                                                     \
            tn_rows(2, NVC, TAIL, UPD, &tb, &out, k0, nk < 2 ? nk : 2, N, j0, zs, mt);             \
            if (nk > 2)                                                                            \
                tn_rows(2, NVC, TAIL, UPD, &tb, &out, k0 + 2, nk - 2, N, j0, zs, mt);              \
        }                                                                                          \
    } while (0)

/* G = the gradient (upd 0), or G = the weights updated by it in place with
 * velocity V (upd 1: momentum; 2: plain SGD). */
static void tn_apply(float *G, float *V, const ms_sparse_f *X, const float *D, int K, int N,
                     float lr, float gamma, int upd, int nthreads)
{
    int B = X->rows, P = K - 1, chunks = (B + TN_ROWS - 1) / TN_ROWS;
    uint64_t *mask = ms_calloc((size_t)P + 1, sizeof *mask);
    uint8_t *vb = ms_malloc((size_t)(P + 1) * TN_ROWS);
    tn_out out = {G, V, NULL, 1, 1, is_pow2((float)B), v_set1(-lr), v_set1(gamma),
                  v_set1((float)B), v_set1(1.0f / (float)B)};
    if (chunks > 1) /* the chains go on from one chunk of rows to the next */
        out.part = ms_alloc_aligned((size_t)P * N * sizeof(float));
    /* zeroed past N: a strip's vectors are read whole */
    float *sum = ms_alloc_aligned((size_t)(N + NV_MAX * VW) * sizeof(float));
    col_sums_f(sum, D, B, N);
    vf z = v_set1(X->zero);
    int par = nthreads > 1 && (double)B * N * 150 >= MS_PAR_MIN_SPARSE;
    (void)par;
    int groups = (P + 3) / 4;
    for (int c = 0; c < chunks; c++) {
        int b0 = c * TN_ROWS, rows = B - b0 < TN_ROWS ? B - b0 : TN_ROWS;
        for (int b = 0; b < rows; b++) {
            const uint16_t *col = X->col[b0 + b];
            const uint8_t *val = X->val[b0 + b];
            for (int i = 0, n = X->count[b0 + b]; i < n; i++) {
                mask[col[i]] |= (uint64_t)1 << b;
                vb[(long)P * b + col[i]] = val[i];
            }
        }
        tn_batch tb = {mask, vb, P, X->delta, D + (long)b0 * N};
        out.first = c == 0;
        out.last = c == chunks - 1;
        for (int j0 = 0; j0 < N; j0 += NV_MAX * VW) {
            int nr = N - j0 < NV_MAX * VW ? N - j0 : NV_MAX * VW;
            int nvc = (nr + VW - 1) / VW, tail = nr % VW != 0;
            vmask mt = v_mask(nr - (nvc - 1) * VW);
            vf zs[NV_MAX];
            for (int v = 0; v < NV_MAX; v++)
                zs[v] = v_mul(z, v_load(sum + j0 + v * VW)); /* sum is padded */
            MS_PAR_FOR(q, groups, {
                int k0 = 4 * q, nk = P - k0 < 4 ? P - k0 : 4;
                switch (nvc * 2 + tail) {
                    TN_CASE(1, 0) TN_CASE(1, 1) TN_CASE(2, 0) TN_CASE(2, 1)
                    TN_CASE(3, 0) TN_CASE(3, 1) TN_CASE(4, 0) TN_CASE(4, 1)
                default: break;
                }
            });
        }
        memset(mask, 0, (size_t)P * sizeof *mask);
    }
    for (int j = 0; j < N; j++) {
        float g = sum[j] / (float)B, *w = G + (long)P * N + j;
        if (upd == 1) {
            V[(long)P * N + j] = fmaf(gamma, V[(long)P * N + j], g);
            g = V[(long)P * N + j];
        }
        *w = upd ? fmaf(-lr, g, *w) : g;
    }
    free(mask);
    free(vb);
    ms_free_aligned(out.part);
    ms_free_aligned(sum);
}

/* 8 x 8 blocks through AVX registers (every SIMD build has AVX), the
 * edges element by element: the deep networks transpose each weight matrix
 * every step, and the plain loop, scattering one float at a time, was 4 %
 * of a ten-layer epoch. */
static inline void transpose8(float *dst, long ldd, const float *src, long lds)
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++)
        r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4)
        for (int h = 0; h < 2; h++) {
            r[i + h] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(1, 0, 1, 0));
            r[i + h + 2] = _mm256_shuffle_ps(t[i + h], t[i + h + 2], _MM_SHUFFLE(3, 2, 3, 2));
        }
    /* r[0..3] hold columns 0, 2, 1, 3 of rows 0-3 (low half) and 4-7 of
     * the same rows (high half); r[4..7] the same for rows 4-7. */
    static const int col[4] = {0, 2, 1, 3};
    for (int c = 0; c < 4; c++) {
        _mm256_storeu_ps(dst + col[c] * ldd, _mm256_permute2f128_ps(r[c], r[c + 4], 0x20));
        _mm256_storeu_ps(dst + (col[c] + 4) * ldd, _mm256_permute2f128_ps(r[c], r[c + 4], 0x31));
    }
}

void ms_transpose_f(float *WT, const float *W, int K, int N)
{
    int K8 = K / 8 * 8, N8 = N / 8 * 8;
    for (int k = 0; k < K8; k += 8)
        for (int j = 0; j < N8; j += 8)
            transpose8(WT + (long)j * K + k, K, W + (long)k * N + j, N);
    for (int k = 0; k < K; k++)
        for (int j = k < K8 ? N8 : 0; j < N; j++)
            WT[(long)j * K + k] = W[(long)k * N + j];
}

void ms_sp_tn_f(float *G, const ms_sparse_f *X, const float *D, int K, int N, int nthreads)
{
    tn_apply(G, NULL, X, D, K, N, 0, 0, 0, nthreads);
}

void ms_sp_tn_sgd_f(float *W, float *V, const ms_sparse_f *X, const float *D, int K, int N,
                    float lr, float gamma, int nthreads)
{
    tn_apply(W, V, X, D, K, N, lr, gamma, gamma == 0 ? 2 : 1, nthreads);
}

#else /* no SIMD: the generic kernels */

const char *ms_kernels_isa(void) { return "generic"; }

#define SP_NN_f gen_sp_nn_f
GENERIC_KERNELS(float, f)

#endif
