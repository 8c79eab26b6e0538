/* Template body of the kernels; included by kernels.c with R (the real type),
 * S (the name suffix) and FMA (fmaf or fma) defined. */

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

/* The last column strip of Bm (T rows, columns j0..j0+nr) copied into a
 * zero-padded (T, NR) buffer owned by the calling thread (reused, grown as
 * needed: no allocation once warm). */
static const R *NAME(pad_strip)(const R *Bm, long ldb, int T, int j0, int nr)
{
    static _Thread_local R *buf;
    static _Thread_local size_t cap;
    size_t need = (size_t)T * NR;
    if (need > cap) {
        ms_free_aligned(buf);
        buf = ms_alloc_aligned(need * sizeof(R));
        cap = need;
    }
    for (int t = 0; t < T; t++)
        for (int j = 0; j < NR; j++)
            buf[(size_t)t * NR + j] = j < nr ? Bm[(long)t * ldb + j0 + j] : 0;
    return buf;
}

void NAME(ms_mm_nn)(R *Y, const R *X, const R *W, int B, int K, int N, int nthreads)
{
    int mt = (B + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    const R *tail = N % NR ? NAME(pad_strip)(W, N, K, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (par)
    for (int tix = 0; tix < tiles; tix++) {
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
    }
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

void NAME(ms_mm_tn)(R *G, const R *X, const R *D, int B, int K, int N, int nthreads)
{
    int mt = (K + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt, jt = (nt - 1) * NR;
    R inv_b = (R)B; /* divide, as the specification writes it */
    const R *tail = N % NR ? NAME(pad_strip)(D, N, B, jt, N - jt) : NULL;
    int par = nthreads > 1 && tiles > 1 && 2.0 * B * K * N >= MS_PAR_MIN_FLOPS;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (par)
    for (int tix = 0; tix < tiles; tix++) {
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
    }
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

void NAME(ms_transpose)(R *WT, const R *W, int K, int N)
{
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            WT[(long)j * K + k] = W[(long)k * N + j];
}

#undef NAME
#undef CAT
#undef CAT_
