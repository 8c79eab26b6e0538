/* Template body of the kernels; included by kernels.c with R (the real type),
 * S (the name suffix) and FMA (fmaf or fma) defined. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, S)

/* acc (mr, nr) = sum_t A(r, t) * Bm[t * ldb + j0 + j], with A(r, t) = A[r*rs + t*ts].
 * The full-size case has constant bounds so the compiler keeps the
 * accumulators in vector registers; partial tiles take the general loop,
 * which performs the same per-element operations. */
static inline void NAME(tile)(R *restrict acc, const R *restrict A, long rs, long ts, int T,
                              const R *restrict Bm, long ldb, int mr, int nr)
{
    if (mr == MR && nr == NR) {
        R a[MR][NR];
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                a[r][j] = 0;
        for (int t = 0; t < T; t++) {
            const R *b = Bm + (long)t * ldb;
            for (int r = 0; r < MR; r++) {
                R x = A[r * rs + (long)t * ts];
                for (int j = 0; j < NR; j++)
                    a[r][j] = FMA(x, b[j], a[r][j]);
            }
        }
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] = a[r][j];
        return;
    }
    for (int i = 0; i < MR * NR; i++)
        acc[i] = 0;
    for (int t = 0; t < T; t++) {
        const R *b = Bm + (long)t * ldb;
        for (int r = 0; r < mr; r++) {
            R x = A[r * rs + (long)t * ts];
            for (int j = 0; j < nr; j++)
                acc[r * NR + j] = FMA(x, b[j], acc[r * NR + j]);
        }
    }
}

void NAME(ms_mm_nn)(R *Y, const R *X, const R *W, int B, int K, int N, int nthreads)
{
    int mt = (B + MR - 1) / MR, nt = (N + NR - 1) / NR;
    int tiles = mt * nt;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && tiles > 1)
    for (int tix = 0; tix < tiles; tix++) {
        int i0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = B - i0 < MR ? B - i0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        R acc[MR * NR];
        NAME(tile)(acc, X + (long)i0 * K, K, 1, K, W + j0, N, mr, nr);
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
    int tiles = mt * nt;
    R inv_b = (R)B; /* divide, as the specification writes it */
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && tiles > 1)
    for (int tix = 0; tix < tiles; tix++) {
        int k0 = (tix / nt) * MR, j0 = (tix % nt) * NR;
        int mr = K - k0 < MR ? K - k0 : MR, nr = N - j0 < NR ? N - j0 : NR;
        R acc[MR * NR];
        NAME(tile)(acc, X + k0, 1, K, B, D + j0, N, mr, nr);
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
