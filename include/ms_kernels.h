/* ms_kernels: the matrix products of an MLP layer, over flat row-major arrays.
 *
 * Every fast kernel has a naive reference beside it (the test oracle). Both
 * compute each output element as ONE fused multiply-add chain over the
 * reduction index in increasing order, starting from zero, so fast and naive
 * agree bit for bit, and so does any split of the outputs over threads: work is
 * divided into fixed tiles of outputs, never across the reduction. Results do
 * not depend on the thread count.
 *
 * _f is float32 (training), _d is float64 (the gradient check runs the same
 * code in double). nthreads <= 1 runs without an OpenMP parallel region. */
#ifndef MS_KERNELS_H
#define MS_KERNELS_H

#define MS_KERNEL_DECLS(R, S)                                                                      \
    /* Y (B,N) = X (B,K) W (K,N) */                                                                \
    void ms_mm_nn_##S(R *Y, const R *X, const R *W, int B, int K, int N, int nthreads);            \
    void ms_mm_nn_ref_##S(R *Y, const R *X, const R *W, int B, int K, int N);                      \
    /* G (K,N) = X^T (K,B) D (B,N) / B: the batch-mean weight gradient */                         \
    void ms_mm_tn_##S(R *G, const R *X, const R *D, int B, int K, int N, int nthreads);            \
    void ms_mm_tn_ref_##S(R *G, const R *X, const R *D, int B, int K, int N);                      \
    /* WT (N,K) = W (K,N)^T */                                                                     \
    void ms_transpose_##S(R *WT, const R *W, int K, int N);

MS_KERNEL_DECLS(float, f)
MS_KERNEL_DECLS(double, d)

#endif
