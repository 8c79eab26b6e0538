/* ms_kernels: the matrix products of an MLP layer, over flat row-major arrays.
 *
 * Every fast kernel has a naive reference beside it (the test oracle). Both
 * compute each output element as ONE fused multiply-add chain over the
 * reduction index in increasing order, starting from a fixed value, so fast
 * and naive agree bit for bit, whatever the ISA, the register tile or the
 * split of the outputs over threads: work is divided into tiles of outputs,
 * never across the reduction. Results do not depend on the thread count.
 *
 * _f is float32, _d is float64: a run trains in either (`precision:
 * float32`, the default, or `float64`), and the gradient check runs in
 * double. The float kernels use AVX-512 or AVX2+FMA intrinsics when the
 * build targets them (ms_kernels_isa() says which), else generic C
 * (src/numeric/kernels_impl.h); the double kernels are that generic C but for the
 * first layer's forward (ms_sp_nn_d), which has AVX-512 and AVX2 versions
 * too. nthreads <= 1 runs on the caller; more starts a team of that many
 * when the product is big enough (src/numeric/par.h). */
#ifndef MS_KERNELS_H
#define MS_KERNELS_H

#include <stdint.h>

/* Floats in a row of whole vectors on every ISA (one AVX-512 register, two
 * AVX2): a row stride that is a multiple of it keeps rows on vector and
 * cache-line boundaries. */
#define MS_ROW_ALIGN 16

/* Rows per group in ms_sparse's group view. */
#define MS_GROUP 4

/* The first layer reads MNIST rows as their nonzero pixels: a pixel of value
 * 0 has the normalised value `zero` (about -0.425), the others zero + d[p].
 * Row r has count[r] nonzero pixels, columns col[r][i] (increasing) and
 * values val[r][i] (the raw byte p); the input's last column is the constant
 * bias input 1. */
#define MS_SPARSE_DECL(T, SUF)                                                                     \
    typedef struct ms_sparse_##SUF {                                                               \
        int rows;                                                                                  \
        const uint16_t *const *col;                                                                \
        const uint8_t *const *val;                                                                 \
        const int *count;                                                                          \
        T zero;         /* normalised value of a 0 pixel */                                        \
        const T *delta; /* (256) normalised value of p minus zero (delta[0] = 0) */                \
        /* Optional, the same rows in groups of MS_GROUP (ngroups 0: none):                        \
         * group q is rows grow[G q + u] (-1: none), its entries                                   \
         * gstart[q] .. gstart[q+1]-1 the union of their pixels, gcol                              \
         * increasing, row u's value in gval[G e + u] (0 where its pixel is 0).                    \
         * A kernel may read a W row once for the whole group; sums unchanged. */                  \
        int ngroups;                                                                               \
        const int *grow;                                                                           \
        const uint16_t *gcol;                                                                      \
        const uint8_t *gval;                                                                       \
        const uint32_t *gstart; /* (ngroups + 1) */                                                \
    } ms_sparse_##SUF;

#define MS_KERNEL_DECLS(T, SUF)                                                                    \
    MS_SPARSE_DECL(T, SUF)                                                                         \
    /* Y (B,N) = X (B,K) W (K,N) */                                                                \
    void ms_mm_nn_##SUF(T *Y, const T *X, const T *W, int B, int K, int N, int nthreads);          \
    void ms_mm_nn_ref_##SUF(T *Y, const T *X, const T *W, int B, int K, int N);                    \
    /* G (K,N) = X^T (K,B) D (B,N) / B: the batch-mean weight gradient */                          \
    void ms_mm_tn_##SUF(T *G, const T *X, const T *D, int B, int K, int N, int nthreads);          \
    void ms_mm_tn_ref_##SUF(T *G, const T *X, const T *D, int B, int K, int N);                    \
    /* The same gradient applied as it is made, never stored: per element                          \
     * g = G[k][j]; v = fma(gamma, v, g); W = fma(-lr, v, W) (gamma 0: W = fma(-lr,                \
     * g, W), V untouched): ms_sgd_update's arithmetic. */                                         \
    void ms_mm_tn_sgd_##SUF(T *W, T *V, const T *X, const T *D, int B, int K, int N, T lr,         \
                            T gamma, int nthreads);                                                \
    /* WT (N,K) = W (K,N)^T */                                                                     \
    void ms_transpose_##SUF(T *WT, const T *W, int K, int N);                                      \
    /* The first layer on sparse rows, W (K,N) with K = pixels + 1 (bias last).                    \
     * base (N): W[K-1][j], then one FMA chain of zero * W[k][j], k = 0..K-2.                      \
     * Y (B,N): row r = base, then one FMA chain of delta[val] * W[col][j] over                    \
     * the row's nonzero pixels in order: the product of the full input rows.  */                  \
    void ms_sp_base_##SUF(T *base, const T *W, int K, int N, T zero);                              \
    void ms_sp_base_ref_##SUF(T *base, const T *W, int K, int N, T zero);                          \
    /* W's rows may be padded: row k at W + k * ldw, ldw >= N (an evaluation                       \
     * aligns them when N is not a multiple of the vector width). */                               \
    void ms_sp_nn_##SUF(T *Y, const ms_sparse_##SUF *X, const T *base, const T *W, int ldw, int N, \
                        int nthreads);                                                             \
    void ms_sp_nn_ref_##SUF(T *Y, const ms_sparse_##SUF *X, const T *base, const T *W, int N);     \
    /* G (K,N) = X^T D / B for the sparse rows: s_j = sum_b D[b][j] (plain adds,                   \
     * b increasing); G[k][j] = (zero * s_j, then one FMA chain of delta * D[b][j]                 \
     * over the rows b whose pixel k is nonzero, b increasing) / B; bias row                       \
     * G[K-1][j] = s_j / B. */                                                                     \
    void ms_sp_tn_##SUF(T *G, const ms_sparse_##SUF *X, const T *D, int K, int N, int nthreads);   \
    /* The same gradient applied as it is made, never stored: per element                          \
     * g = G[k][j]; v = fma(gamma, v, g); W = fma(-lr, v, W) (gamma 0: W = fma(-lr,                \
     * g, W), V untouched): ms_sgd_update's arithmetic. */                                         \
    void ms_sp_tn_sgd_##SUF(T *W, T *V, const ms_sparse_##SUF *X, const T *D, int K, int N, T lr,  \
                            T gamma, int nthreads);                                                \
    void ms_sp_tn_ref_##SUF(T *G, const ms_sparse_##SUF *X, const T *D, int K, int N);

/* Declare, each with _f (float) and _d (double): ms_sparse, ms_mm_nn,
 * ms_mm_nn_ref, ms_mm_tn, ms_mm_tn_ref, ms_mm_tn_sgd, ms_transpose,
 * ms_sp_base, ms_sp_base_ref, ms_sp_nn, ms_sp_nn_ref, ms_sp_tn, ms_sp_tn_sgd,
 * ms_sp_tn_ref (src/numeric/kernels.c and src/numeric/kernels_impl.h). */
MS_KERNEL_DECLS(float, f)
MS_KERNEL_DECLS(double, d)

/* The instruction set of the float kernels: "avx512", "avx2" or "generic". */
const char *ms_kernels_isa(void);

#endif
