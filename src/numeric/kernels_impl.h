/* Template of the kernels (precision.h): the references, the generic
 * (plain C) kernels gen_*, and the transpose; kernels.c decides which
 * kernel each public name runs. Parameters: MS_T, MS_SUF, MS_FMA (fmaf or
 * fma); kernels.c's tile MR x NR. */
#include "precision.h"
#if !defined(MS_T) || !defined(MS_SUF) || !defined(MS_FMA)
#error "kernels_impl.h: define MS_T, MS_SUF and MS_FMA first (precision.h)"
#endif

/* acc (MR, NR) = sum_t A(r, t) * Bm[t * ldb + j], with A(r, t) = A[r*rs + t*ts].
 * Always a full tile, so the compiler keeps the accumulators in vector
 * registers: rows past mr repeat the last row and columns past the matrix
 * come from a zero-padded copy (pad_strip); the caller stores only the valid
 * part. Each element is the same FMA chain whichever tile computes it. */
static inline void MS_FN(tile)(MS_T *restrict acc, const MS_T *restrict A, long rs, long ts, int T,
                               const MS_T *restrict Bm, long ldb, int mr)
{
    MS_T a[MR][NR];
    long ro[MR];
    for (int r = 0; r < MR; r++) {
        ro[r] = (r < mr ? r : mr - 1) * rs;
        for (int j = 0; j < NR; j++)
            a[r][j] = 0;
    }
    for (int t = 0; t < T; t++) {
        const MS_T *b = Bm + (long)t * ldb;
        for (int r = 0; r < MR; r++) {
            MS_T x = A[ro[r] + (long)t * ts];
            for (int j = 0; j < NR; j++)
                a[r][j] = MS_FMA(x, b[j], a[r][j]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++)
            acc[r * NR + j] = a[r][j];
}

/* The last column strip of Bm (T rows, columns j0..j0+nr) copied into buf,
 * a zero-padded (T, NR) array. */
static const MS_T *MS_FN(pad_strip)(MS_T *buf, const MS_T *Bm, long ldb, int T, int j0, int nr)
{
    for (int t = 0; t < T; t++)
        for (int j = 0; j < NR; j++)
            buf[(size_t)t * NR + j] = j < nr ? Bm[(long)t * ldb + j0 + j] : 0;
    return buf;
}

/* Scratch for pad_strip: on the stack up to 64 KiB (every output layer of
 * the study), else from the heap; released by SCRATCH_END. */
#define SCRATCH_BEGIN(T)                                                                           \
    MS_T stack_[(64 << 10) / sizeof(MS_T)];                                                        \
    size_t need_ = (size_t)(T) * NR;                                                               \
    MS_T *scratch_ =                                                                               \
        need_ <= sizeof stack_ / sizeof *stack_ ? stack_ : ms_malloc(need_ * sizeof(MS_T))
#define SCRATCH_END()                                                                              \
    do {                                                                                           \
        if (scratch_ != stack_)                                                                    \
            free(scratch_);                                                                        \
    } while (0)

MS_UNUSED static void MS_FN(gen_nn)(MS_T *Y, const MS_T *X, const MS_T *W, int B, int K, int N,
                                    int nthreads)
{
    int mt = (B + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    SCRATCH_BEGIN(N % NR ? K : 0);
    const MS_T *tail = N % NR ? MS_FN(pad_strip)(scratch_, W, N, K, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par; /* unused without OpenMP */
    MS_PAR_FOR(tix, tiles, {
        int i0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = B - i0 < MR ? B - i0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        MS_T acc[MR * NR];
        if (nr < NR)
            MS_FN(tile)(acc, X + (long)i0 * K, K, 1, K, tail, NR, mr);
        else
            MS_FN(tile)(acc, X + (long)i0 * K, K, 1, K, W + j0, N, mr);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++)
                Y[(long)(i0 + r) * N + j0 + j] = acc[r * NR + j];
        });
    SCRATCH_END();
}

void MS_FN(ms_mm_nn_ref)(MS_T *Y, const MS_T *X, const MS_T *W, int B, int K, int N)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) {
            MS_T c = 0;
            for (int k = 0; k < K; k++)
                c = MS_FMA(X[(long)i * K + k], W[(long)k * N + j], c);
            Y[(long)i * N + j] = c;
        }
}

MS_UNUSED static void MS_FN(gen_tn)(MS_T *G, const MS_T *X, const MS_T *D, int B, int K, int N,
                                    int nthreads)
{
    int mt = (K + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    MS_T inv_b = (MS_T)B; /* divide, as the specification writes it */
    SCRATCH_BEGIN(N % NR ? B : 0);
    const MS_T *tail = N % NR ? MS_FN(pad_strip)(scratch_, D, N, B, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par; /* unused without OpenMP */
    MS_PAR_FOR(tix, tiles, {
        int k0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = K - k0 < MR ? K - k0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        MS_T acc[MR * NR];
        if (nr < NR)
            MS_FN(tile)(acc, X + k0, 1, K, B, tail, NR, mr);
        else
            MS_FN(tile)(acc, X + k0, 1, K, B, D + j0, N, mr);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++)
                G[(long)(k0 + r) * N + j0 + j] = acc[r * NR + j] / inv_b;
        });
    SCRATCH_END();
}

void MS_FN(ms_mm_tn_ref)(MS_T *G, const MS_T *X, const MS_T *D, int B, int K, int N)
{
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) {
            MS_T c = 0;
            for (int b = 0; b < B; b++)
                c = MS_FMA(X[(long)b * K + k], D[(long)b * N + j], c);
            G[(long)k * N + j] = c / (MS_T)B;
        }
}

MS_UNUSED static void MS_FN(gen_transpose)(MS_T *WT, const MS_T *W, int K, int N)
{
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            WT[(long)j * K + k] = W[(long)k * N + j];
}


/* ---- the first layer on sparse rows ---- */

void MS_FN(ms_sp_base_ref)(MS_T *base, const MS_T *W, int K, int N, MS_T zero)
{
    for (int j = 0; j < N; j++) {
        MS_T c = W[(long)(K - 1) * N + j];
        for (int k = 0; k < K - 1; k++)
            c = MS_FMA(zero, W[(long)k * N + j], c);
        base[j] = c;
    }
}

void MS_FN(ms_sp_nn_ref)(MS_T *Y, const MS_FN(ms_sparse) *X, const MS_T *base, const MS_T *W, int N)
{
    for (int r = 0; r < X->rows; r++)
        for (int j = 0; j < N; j++) {
            MS_T c = base[j];
            for (int i = 0; i < X->count[r]; i++)
                c = MS_FMA(X->delta[X->val[r][i]], W[(long)X->col[r][i] * N + j], c);
            Y[(long)r * N + j] = c;
        }
}

void MS_FN(ms_sp_tn_ref)(MS_T *G, const MS_FN(ms_sparse) *X, const MS_T *D, int K, int N)
{
    int B = X->rows;
    for (int j = 0; j < N; j++) {
        MS_T sum = 0;
        for (int b = 0; b < B; b++)
            sum += D[(long)b * N + j];
        for (int k = 0; k < K - 1; k++) {
            MS_T c = X->zero * sum;
            for (int b = 0; b < B; b++)
                for (int i = 0; i < X->count[b]; i++) /* a linear search: the oracle stays plain */
                    if (X->col[b][i] == k)
                        c = MS_FMA(X->delta[X->val[b][i]], D[(long)b * N + j], c);
            G[(long)k * N + j] = c / (MS_T)B;
        }
        G[(long)(K - 1) * N + j] = sum / (MS_T)B;
    }
}

/* Generic: the same chains, with j innermost so plain C vectorizes. */
MS_UNUSED static void MS_FN(gen_sp_base)(MS_T *base, const MS_T *W, int K, int N, MS_T zero)
{
    for (int j = 0; j < N; j++)
        base[j] = W[(long)(K - 1) * N + j];
    for (int k = 0; k < K - 1; k++)
        for (int j = 0; j < N; j++)
            base[j] = MS_FMA(zero, W[(long)k * N + j], base[j]);
}

MS_UNUSED static void MS_FN(gen_sp_nn)(MS_T *Y, const MS_FN(ms_sparse) *X, const MS_T *base,
                                       const MS_T *W, int ldw, int N, int nthreads)
{
    int par = nthreads > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(r, X->rows, {
        MS_T *y = Y + (long)r * N;
        for (int j = 0; j < N; j++)
            y[j] = base[j];
        for (int i = 0; i < X->count[r]; i++) {
            MS_T d = X->delta[X->val[r][i]];
            const MS_T *w = W + (long)X->col[r][i] * ldw;
            for (int j = 0; j < N; j++)
                y[j] = MS_FMA(d, w[j], y[j]);
        }
        });
}

/* The pixels of the batch by column: rows b (increasing) and deltas of each
 * nonzero pixel k at e = start[k] .. start[k+1]-1. Caller frees the three. */
static void MS_FN(by_column)(const MS_FN(ms_sparse) *X, int P, int **start_out, int **eb_out,
                             MS_T **ed_out)
{
    long nnz = 0;
    for (int b = 0; b < X->rows; b++)
        nnz += X->count[b];
    int *start = ms_calloc((size_t)P + 2, sizeof(int));
    int *eb = ms_malloc((size_t)(nnz ? nnz : 1) * sizeof(int));
    MS_T *ed = ms_malloc((size_t)(nnz ? nnz : 1) * sizeof(MS_T));
    /* locals: the stores below could alias X's arrays as far as C knows */
    for (int b = 0; b < X->rows; b++) {
        const uint16_t *col = X->col[b];
        for (int i = 0, n = X->count[b]; i < n; i++)
            start[col[i] + 2]++;
    }
    for (int k = 0; k < P; k++)
        start[k + 2] += start[k + 1];
    /* start[k + 1] is now the fill position of column k */
    const MS_T *delta = X->delta;
    for (int b = 0; b < X->rows; b++) {
        const uint16_t *col = X->col[b];
        const uint8_t *val = X->val[b];
        for (int i = 0, n = X->count[b]; i < n; i++) {
            int e = start[col[i] + 1]++;
            eb[e] = b;
            ed[e] = delta[val[i]];
        }
    }
    *start_out = start;
    *eb_out = eb;
    *ed_out = ed;
}

/* sum (N) = column sums of D (B,N), each over b in increasing order. */
static void MS_FN(col_sums)(MS_T *restrict sum, const MS_T *restrict D, int B, int N)
{
    for (int j = 0; j < N; j++)
        sum[j] = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++)
            sum[j] += D[(long)b * N + j];
}

MS_UNUSED static void MS_FN(gen_sp_tn)(MS_T *G, const MS_FN(ms_sparse) *X, const MS_T *D, int K,
                                       int N, int nthreads)
{
    int B = X->rows, P = K - 1, *start, *eb;
    MS_T *ed, *sum = ms_malloc((size_t)N * sizeof(MS_T));
    MS_FN(by_column)(X, P, &start, &eb, &ed);
    MS_FN(col_sums)(sum, D, B, N);
    int par = nthreads > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(k, P, {
        MS_T *g = G + (long)k * N;
        for (int j = 0; j < N; j++)
            g[j] = X->zero * sum[j];
        for (int e = start[k]; e < start[k + 1]; e++) {
            const MS_T *d = D + (long)eb[e] * N;
            for (int j = 0; j < N; j++)
                g[j] = MS_FMA(ed[e], d[j], g[j]);
        }
        for (int j = 0; j < N; j++)
            g[j] /= (MS_T)B;
        });
    for (int j = 0; j < N; j++)
        G[(long)P * N + j] = sum[j] / (MS_T)B;
    free(start);
    free(eb);
    free(ed);
    free(sum);
}

/* W and V updated by the gradient G (n), ms_sgd_update's arithmetic. */
MS_UNUSED static void MS_FN(apply_sgd)(MS_T *W, MS_T *V, const MS_T *G, size_t n, MS_T lr,
                                       MS_T gamma)
{
    for (size_t i = 0; i < n; i++) {
        MS_T g = G[i];
        if (gamma != 0) {
            V[i] = MS_FMA(gamma, V[i], g);
            g = V[i];
        }
        W[i] = MS_FMA(-lr, g, W[i]);
    }
}

/* Generic: the gradient into scratch, then the update. */
MS_UNUSED static void MS_FN(gen_sp_tn_sgd)(MS_T *W, MS_T *V, const MS_FN(ms_sparse) *X,
                                           const MS_T *D, int K, int N, MS_T lr, MS_T gamma,
                                           int nthreads)
{
    size_t n = (size_t)K * N;
    MS_T *G = ms_malloc(n * sizeof(MS_T));
    MS_FN(gen_sp_tn)(G, X, D, K, N, nthreads);
    MS_FN(apply_sgd)(W, V, G, n, lr, gamma);
    free(G);
}

MS_UNUSED static void MS_FN(gen_tn_sgd)(MS_T *W, MS_T *V, const MS_T *X, const MS_T *D, int B,
                                        int K, int N, MS_T lr, MS_T gamma, int nthreads)
{
    size_t n = (size_t)K * N;
    MS_T *G = ms_malloc(n * sizeof(MS_T));
    MS_FN(gen_tn)(G, X, D, B, K, N, nthreads);
    MS_FN(apply_sgd)(W, V, G, n, lr, gamma);
    free(G);
}

#undef SCRATCH_BEGIN
#undef SCRATCH_END
#undef MS_T
#undef MS_SUF
#undef MS_FMA
