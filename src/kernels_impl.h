/* Template body of the kernels; included by kernels.c with R (the real type),
 * S (the name suffix) and FMA (fmaf or fma) defined. Defines the references,
 * the generic (plain C) kernels gen_*, and the transpose; kernels.c decides
 * which kernel each public name runs. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, S)

/* acc (MR, NR) = sum_t A(r, t) * Bm[t * ldb + j], with A(r, t) = A[r*rs + t*ts].
 * Always a full tile, so the compiler keeps the accumulators in vector
 * registers: rows past mr repeat the last row and columns past the matrix
 * come from a zero-padded copy (pad_strip); the caller stores only the valid
 * part. Each element is the same FMA chain whichever tile computes it. */
static inline void NAME(tile)(R *restrict acc, const R *restrict A, long rs, long ts, int T,
                              const R *restrict Bm, long ldb, int mr)
{
    R a[MR][NR];
    long ro[MR];
    for (int r = 0; r < MR; r++) {
        ro[r] = (r < mr ? r : mr - 1) * rs;
        for (int j = 0; j < NR; j++)
            a[r][j] = 0;
    }
    for (int t = 0; t < T; t++) {
        const R *b = Bm + (long)t * ldb;
        for (int r = 0; r < MR; r++) {
            R x = A[ro[r] + (long)t * ts];
            for (int j = 0; j < NR; j++)
                a[r][j] = FMA(x, b[j], a[r][j]);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++)
            acc[r * NR + j] = a[r][j];
}

/* The last column strip of Bm (T rows, columns j0..j0+nr) copied into buf,
 * a zero-padded (T, NR) array. */
static const R *NAME(pad_strip)(R *buf, const R *Bm, long ldb, int T, int j0, int nr)
{
    for (int t = 0; t < T; t++)
        for (int j = 0; j < NR; j++)
            buf[(size_t)t * NR + j] = j < nr ? Bm[(long)t * ldb + j0 + j] : 0;
    return buf;
}

/* Scratch for pad_strip: on the stack up to 64 KiB (every output layer of
 * the study), else from the heap; released by SCRATCH_END. */
#define SCRATCH_BEGIN(T)                                                                           \
    R stack_[(64 << 10) / sizeof(R)];                                                              \
    size_t need_ = (size_t)(T) * NR;                                                               \
    R *scratch_ = need_ <= sizeof stack_ / sizeof *stack_ ? stack_ : ms_malloc(need_ * sizeof(R))
#define SCRATCH_END()                                                                              \
    do {                                                                                           \
        if (scratch_ != stack_)                                                                    \
            free(scratch_);                                                                        \
    } while (0)

MS_UNUSED static void NAME(gen_nn)(R *Y, const R *X, const R *W, int B, int K, int N, int nthreads)
{
    int mt = (B + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    SCRATCH_BEGIN(N % NR ? K : 0);
    const R *tail = N % NR ? NAME(pad_strip)(scratch_, W, N, K, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par; /* unused without OpenMP */
    MS_PAR_FOR(tix, tiles, {
        int i0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = B - i0 < MR ? B - i0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        R acc[MR * NR];
        if (nr < NR)
            NAME(tile)(acc, X + (long)i0 * K, K, 1, K, tail, NR, mr);
        else
            NAME(tile)(acc, X + (long)i0 * K, K, 1, K, W + j0, N, mr);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++)
                Y[(long)(i0 + r) * N + j0 + j] = acc[r * NR + j];
        });
    SCRATCH_END();
}

void NAME(ms_mm_nn_ref)(R *Y, const R *X, const R *W, int B, int K, int N)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < N; j++) {
            R c = 0;
            for (int k = 0; k < K; k++)
                c = FMA(X[(long)i * K + k], W[(long)k * N + j], c);
            Y[(long)i * N + j] = c;
        }
}

MS_UNUSED static void NAME(gen_tn)(R *G, const R *X, const R *D, int B, int K, int N, int nthreads)
{
    int mt = (K + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    R inv_b = (R)B; /* divide, as the specification writes it */
    SCRATCH_BEGIN(N % NR ? B : 0);
    const R *tail = N % NR ? NAME(pad_strip)(scratch_, D, N, B, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par; /* unused without OpenMP */
    MS_PAR_FOR(tix, tiles, {
        int k0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = K - k0 < MR ? K - k0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        R acc[MR * NR];
        if (nr < NR)
            NAME(tile)(acc, X + k0, 1, K, B, tail, NR, mr);
        else
            NAME(tile)(acc, X + k0, 1, K, B, D + j0, N, mr);
        for (int r = 0; r < mr; r++)
            for (int j = 0; j < nr; j++)
                G[(long)(k0 + r) * N + j0 + j] = acc[r * NR + j] / inv_b;
        });
    SCRATCH_END();
}

void NAME(ms_mm_tn_ref)(R *G, const R *X, const R *D, int B, int K, int N)
{
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) {
            R c = 0;
            for (int b = 0; b < B; b++)
                c = FMA(X[(long)b * K + k], D[(long)b * N + j], c);
            G[(long)k * N + j] = c / (R)B;
        }
}

MS_UNUSED static void NAME(gen_transpose)(R *WT, const R *W, int K, int N)
{
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            WT[(long)j * K + k] = W[(long)k * N + j];
}


/* ---- the first layer on sparse rows ---- */

void NAME(ms_sp_base_ref)(R *base, const R *W, int K, int N, R zero)
{
    for (int j = 0; j < N; j++) {
        R c = W[(long)(K - 1) * N + j];
        for (int k = 0; k < K - 1; k++)
            c = FMA(zero, W[(long)k * N + j], c);
        base[j] = c;
    }
}

void NAME(ms_sp_nn_ref)(R *Y, const NAME(ms_sparse) *X, const R *base, const R *W, int N)
{
    for (int r = 0; r < X->rows; r++)
        for (int j = 0; j < N; j++) {
            R c = base[j];
            for (int i = 0; i < X->count[r]; i++)
                c = FMA(X->delta[X->val[r][i]], W[(long)X->col[r][i] * N + j], c);
            Y[(long)r * N + j] = c;
        }
}

void NAME(ms_sp_tn_ref)(R *G, const NAME(ms_sparse) *X, const R *D, int K, int N)
{
    int B = X->rows;
    for (int j = 0; j < N; j++) {
        R sum = 0;
        for (int b = 0; b < B; b++)
            sum += D[(long)b * N + j];
        for (int k = 0; k < K - 1; k++) {
            R c = X->zero * sum;
            for (int b = 0; b < B; b++)
                for (int i = 0; i < X->count[b]; i++) /* a linear search: the oracle stays plain */
                    if (X->col[b][i] == k)
                        c = FMA(X->delta[X->val[b][i]], D[(long)b * N + j], c);
            G[(long)k * N + j] = c / (R)B;
        }
        G[(long)(K - 1) * N + j] = sum / (R)B;
    }
}

/* Generic: the same chains, with j innermost so plain C vectorizes. */
MS_UNUSED static void NAME(gen_sp_base)(R *base, const R *W, int K, int N, R zero)
{
    for (int j = 0; j < N; j++)
        base[j] = W[(long)(K - 1) * N + j];
    for (int k = 0; k < K - 1; k++)
        for (int j = 0; j < N; j++)
            base[j] = FMA(zero, W[(long)k * N + j], base[j]);
}

MS_UNUSED static void NAME(gen_sp_nn)(R *Y, const NAME(ms_sparse) *X, const R *base, const R *W,
                                      int ldw, int N, int nthreads)
{
    int par = nthreads > 1 && (double)X->rows * N * 150 >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(r, X->rows, {
        R *y = Y + (long)r * N;
        for (int j = 0; j < N; j++)
            y[j] = base[j];
        for (int i = 0; i < X->count[r]; i++) {
            R d = X->delta[X->val[r][i]];
            const R *w = W + (long)X->col[r][i] * ldw;
            for (int j = 0; j < N; j++)
                y[j] = FMA(d, w[j], y[j]);
        }
        });
}

/* The pixels of the batch by column: rows b (increasing) and deltas of each
 * nonzero pixel k at e = start[k] .. start[k+1]-1. Caller frees the three. */
static void NAME(by_column)(const NAME(ms_sparse) *X, int P, int **start_out, int **eb_out,
                            R **ed_out)
{
    long nnz = 0;
    for (int b = 0; b < X->rows; b++)
        nnz += X->count[b];
    int *start = ms_calloc((size_t)P + 2, sizeof(int));
    int *eb = ms_malloc((size_t)(nnz ? nnz : 1) * sizeof(int));
    R *ed = ms_malloc((size_t)(nnz ? nnz : 1) * sizeof(R));
    /* locals: the stores below could alias X's arrays as far as C knows */
    for (int b = 0; b < X->rows; b++) {
        const uint16_t *col = X->col[b];
        for (int i = 0, n = X->count[b]; i < n; i++)
            start[col[i] + 2]++;
    }
    for (int k = 0; k < P; k++)
        start[k + 2] += start[k + 1];
    /* start[k + 1] is now the fill position of column k */
    const R *delta = X->delta;
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
static void NAME(col_sums)(R *restrict sum, const R *restrict D, int B, int N)
{
    for (int j = 0; j < N; j++)
        sum[j] = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < N; j++)
            sum[j] += D[(long)b * N + j];
}

MS_UNUSED static void NAME(gen_sp_tn)(R *G, const NAME(ms_sparse) *X, const R *D, int K, int N, int nthreads)
{
    int B = X->rows, P = K - 1, *start, *eb;
    R *ed, *sum = ms_malloc((size_t)N * sizeof(R));
    NAME(by_column)(X, P, &start, &eb, &ed);
    NAME(col_sums)(sum, D, B, N);
    int par = nthreads > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
    (void)par;
    MS_PAR_FOR(k, P, {
        R *g = G + (long)k * N;
        for (int j = 0; j < N; j++)
            g[j] = X->zero * sum[j];
        for (int e = start[k]; e < start[k + 1]; e++) {
            const R *d = D + (long)eb[e] * N;
            for (int j = 0; j < N; j++)
                g[j] = FMA(ed[e], d[j], g[j]);
        }
        for (int j = 0; j < N; j++)
            g[j] /= (R)B;
        });
    for (int j = 0; j < N; j++)
        G[(long)P * N + j] = sum[j] / (R)B;
    free(start);
    free(eb);
    free(ed);
    free(sum);
}

/* W and V updated by the gradient G (n), ms_sgd_update's arithmetic. */
MS_UNUSED static void NAME(apply_sgd)(R *W, R *V, const R *G, size_t n, R lr, R gamma)
{
    for (size_t i = 0; i < n; i++) {
        R g = G[i];
        if (gamma != 0) {
            V[i] = FMA(gamma, V[i], g);
            g = V[i];
        }
        W[i] = FMA(-lr, g, W[i]);
    }
}

/* Generic: the gradient into scratch, then the update. */
MS_UNUSED static void NAME(gen_sp_tn_sgd)(R *W, R *V, const NAME(ms_sparse) *X, const R *D, int K,
                                          int N, R lr, R gamma, int nthreads)
{
    size_t n = (size_t)K * N;
    R *G = ms_malloc(n * sizeof(R));
    NAME(gen_sp_tn)(G, X, D, K, N, nthreads);
    NAME(apply_sgd)(W, V, G, n, lr, gamma);
    free(G);
}

MS_UNUSED static void NAME(gen_tn_sgd)(R *W, R *V, const R *X, const R *D, int B, int K, int N,
                                       R lr, R gamma, int nthreads)
{
    size_t n = (size_t)K * N;
    R *G = ms_malloc(n * sizeof(R));
    NAME(gen_tn)(G, X, D, B, K, N, nthreads);
    NAME(apply_sgd)(W, V, G, n, lr, gamma);
    free(G);
}

#undef SCRATCH_BEGIN
#undef SCRATCH_END
#undef NAME
#undef CAT
#undef CAT_
