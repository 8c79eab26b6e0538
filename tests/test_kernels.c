/* Tests for ms_kernels: every fast kernel equals its naive reference bit for
 * bit, for shapes with and without partial tiles (1-row batches, tails in
 * every dimension, N = 10 outputs), with 1 and 2 threads, on the ISA the
 * build targets (ms_kernels_isa). The sparse first-layer kernels also equal
 * the dense product of the same rows up to rounding. */
#include "ms_test.h"

#include "ms_kernels.h"
#include "ms_rng.h"

static const int shapes[][3] = {
    /* B, K, N: training batch, validation chunk, tails in every dimension */
    {32, 785, 64}, {32, 64, 10}, {32, 785, 128}, {32, 785, 32}, {256, 785, 64},
    {1, 1, 1},     {3, 5, 7},    {5, 785, 33},   {37, 60, 60},  {100, 64, 10},
    {1, 785, 64},  {13, 64, 17}, {7, 9, 200},    {256, 64, 10}, {31, 128, 48},
    {32, 64, 64},  {8, 16, 8},   {5, 23, 41},
};

/* The update the fused kernels (ms_*_tn_sgd) must make: from the reference
 * gradient G, W (n) and the velocity pattern v0(i), the expected weights Wr
 * and velocity Vr. */
#define V0(i) (0.1 * ((i) % 7) - 0.3)
#define EXPECT_SGD(S, R)                                                                           \
    static void expect_sgd_##S(R *Wr, R *Vr, const R *G, const R *W, long n, R lr, R gamma)        \
    {                                                                                              \
        for (long i = 0; i < n; i++) {                                                             \
            R g = G[i];                                                                            \
            Vr[i] = (R)V0(i);                                                                      \
            if (gamma != 0) {                                                                      \
                Vr[i] = (R)fma(gamma, Vr[i], g);                                                   \
                g = Vr[i];                                                                         \
            }                                                                                      \
            Wr[i] = (R)fma(-lr, g, W[i]);                                                          \
        }                                                                                          \
    }
#include <math.h>
EXPECT_SGD(f, float)
EXPECT_SGD(d, double)

/* Runs CALL (a fused update of W2, V2 with lr and gamma, threads) for
 * momentum and plain SGD on 1 and 2 threads against expect_sgd. */
#define CHECK_SGD(S, R, G1, W, n, what, CALL)                                                      \
    for (int mom = 0; mom < 2; mom++) {                                                            \
        R lr = (R)0.02, gamma = mom ? (R)0.9 : 0;                                                  \
        R *W2 = malloc(sizeof(R) * (n)), *V2 = malloc(sizeof(R) * (n));                            \
        R *Wr = malloc(sizeof(R) * (n)), *Vr = malloc(sizeof(R) * (n));                            \
        expect_sgd_##S(Wr, Vr, G1, W, n, lr, gamma);                                               \
        for (int threads = 1; threads <= 2; threads++) {                                           \
            memcpy(W2, W, sizeof(R) * (n));                                                        \
            for (long i = 0; i < (n); i++)                                                         \
                V2[i] = (R)V0(i);                                                                  \
            CALL;                                                                                  \
            if (memcmp(W2, Wr, sizeof(R) * (n)) || memcmp(V2, Vr, sizeof(R) * (n)))                \
                fail_msg("%s differs from gradient + update at %dx%dx%d, mom %d, %d threads",      \
                         what, B, K, N, mom, threads);                                             \
        }                                                                                          \
        free(W2), free(V2), free(Wr), free(Vr);                                                    \
    }

#define SHAPE_TEST(S, R)                                                                           \
    static void test_kernels_##S(void **state)                                                     \
    {                                                                                              \
        (void)state;                                                                               \
        ms_rng rng;                                                                                \
        ms_rng_seed(&rng, 42);                                                                     \
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {                              \
            int B = shapes[s][0], K = shapes[s][1], N = shapes[s][2];                              \
            R *X = malloc(sizeof(R) * B * K), *W = malloc(sizeof(R) * K * N);                      \
            R *D = malloc(sizeof(R) * B * N), *Y1 = malloc(sizeof(R) * B * N);                     \
            R *Y2 = malloc(sizeof(R) * B * N), *G1 = malloc(sizeof(R) * K * N);                    \
            R *G2 = malloc(sizeof(R) * K * N), *WT = malloc(sizeof(R) * K * N);                    \
            for (int i = 0; i < B * K; i++)                                                        \
                X[i] = (R)(2 * ms_rng_uniform(&rng) - 1);                                          \
            for (int i = 0; i < K * N; i++)                                                        \
                W[i] = (R)(2 * ms_rng_uniform(&rng) - 1);                                          \
            for (int i = 0; i < B * N; i++)                                                        \
                D[i] = (R)(2 * ms_rng_uniform(&rng) - 1);                                          \
            ms_mm_nn_ref_##S(Y1, X, W, B, K, N);                                                   \
            ms_mm_tn_ref_##S(G1, X, D, B, K, N);                                                   \
            for (int threads = 1; threads <= 2; threads++) {                                       \
                memset(Y2, 0xff, sizeof(R) * B * N);                                               \
                memset(G2, 0xff, sizeof(R) * K * N);                                               \
                ms_mm_nn_##S(Y2, X, W, B, K, N, threads);                                          \
                ms_mm_tn_##S(G2, X, D, B, K, N, threads);                                          \
                if (memcmp(Y1, Y2, sizeof(R) * B * N))                                             \
                    fail_msg("mm_nn differs from the reference at %dx%dx%d, %d threads", B, K, N,  \
                             threads);                                                             \
                if (memcmp(G1, G2, sizeof(R) * K * N))                                             \
                    fail_msg("mm_tn differs from the reference at %dx%dx%d, %d threads", B, K, N,  \
                             threads);                                                             \
            }                                                                                      \
            /* The reference is itself right: compare with a plain sum in double. */               \
            for (int i = 0; i < B; i++)                                                            \
                for (int j = 0; j < N; j++) {                                                      \
                    double c = 0;                                                                  \
                    for (int k = 0; k < K; k++)                                                    \
                        c += (double)X[i * K + k] * W[k * N + j];                                  \
                    assert_true(fabs(c - Y1[i * N + j]) <= 1e-4 * (1 + fabs(c)));                  \
                }                                                                                  \
            CHECK_SGD(S, R, G1, W, (long)K * N, "mm_tn_sgd",                                       \
                      ms_mm_tn_sgd_##S(W2, V2, X, D, B, K, N, lr, gamma, threads));                \
            ms_transpose_##S(WT, W, K, N);                                                         \
            for (int k = 0; k < K; k++)                                                            \
                for (int j = 0; j < N; j++)                                                        \
                    assert_true(WT[j * K + k] == W[k * N + j]);                                    \
            free(X), free(W), free(D), free(Y1), free(Y2), free(G1), free(G2), free(WT);           \
        }                                                                                          \
    }

SHAPE_TEST(f, float)
SHAPE_TEST(d, double)


/* Sparse rows over P pixels: row r has a pattern of its own (empty, full,
 * every pixel, random density), values 1..255. */
static const int sp_shapes[][3] = {
    /* B, P (pixels; K = P + 1), N */
    {32, 784, 64}, {32, 784, 128}, {32, 784, 32}, {1, 784, 64}, {7, 784, 10}, {64, 784, 64},
    {5, 20, 1},    {9, 33, 65},    {3, 1, 16},    {64, 100, 60}, {2, 784, 300},
    /* more rows than one chunk of the gradient's bit masks (64) */
    {65, 784, 64}, {130, 200, 20}, {200, 50, 128},
};

#define SPARSE_TEST(S, R)                                                                          \
    static void test_sparse_##S(void **state)                                                      \
    {                                                                                              \
        (void)state;                                                                               \
        ms_rng rng;                                                                                \
        ms_rng_seed(&rng, 7);                                                                      \
        R delta[256];                                                                              \
        for (int p = 0; p < 256; p++)                                                              \
            delta[p] = (R)(p / 78.9);                                                              \
        for (size_t s = 0; s < sizeof sp_shapes / sizeof *sp_shapes; s++) {                        \
            int B = sp_shapes[s][0], P = sp_shapes[s][1], K = P + 1, N = sp_shapes[s][2];          \
            uint16_t *cols = malloc(sizeof(uint16_t) * B * P);                                     \
            uint8_t *vals = malloc((size_t)B * P);                                                 \
            const uint16_t **col = malloc(sizeof(*col) * B);                                       \
            const uint8_t **val = malloc(sizeof(*val) * B);                                        \
            int *count = malloc(sizeof(int) * B);                                                  \
            R *X = calloc((size_t)B * K, sizeof(R)), *W = malloc(sizeof(R) * K * N);               \
            R *D = malloc(sizeof(R) * B * N), *base1 = malloc(sizeof(R) * N);                      \
            R *base2 = malloc(sizeof(R) * N), *Y1 = malloc(sizeof(R) * B * N);                     \
            R *Y2 = malloc(sizeof(R) * B * N), *Yd = malloc(sizeof(R) * B * N);                    \
            R *G1 = malloc(sizeof(R) * K * N), *G2 = malloc(sizeof(R) * K * N);                    \
            R *Gd = malloc(sizeof(R) * K * N);                                                     \
            R zero = (R)-0.4253;                                                                   \
            for (int b = 0; b < B; b++) {                                                          \
                double dens = b % 5 == 0 ? 0 : b % 5 == 1 ? 1 : ms_rng_uniform(&rng);              \
                int n = 0;                                                                         \
                for (int k = 0; k < P; k++)                                                        \
                    if (ms_rng_uniform(&rng) < dens) {                                             \
                        cols[b * P + n] = (uint16_t)k;                                             \
                        vals[b * P + n++] = (uint8_t)(1 + ms_rng_uniform(&rng) * 254.99);          \
                    }                                                                              \
                col[b] = cols + b * P;                                                             \
                val[b] = vals + b * P;                                                             \
                count[b] = n;                                                                      \
                for (int k = 0; k < P; k++)                                                        \
                    X[(long)b * K + k] = zero;                                                     \
                for (int i = 0; i < n; i++)                                                        \
                    X[(long)b * K + col[b][i]] = zero + delta[val[b][i]];                          \
                X[(long)b * K + P] = 1;                                                            \
            }                                                                                      \
            for (long i = 0; i < (long)K * N; i++)                                                 \
                W[i] = (R)(2 * ms_rng_uniform(&rng) - 1);                                          \
            for (long i = 0; i < (long)B * N; i++)                                                 \
                D[i] = (R)(2 * ms_rng_uniform(&rng) - 1);                                          \
            ms_sparse_##S in = {B, col, val, count, zero, delta, 0, NULL, NULL, NULL, NULL};       \
            ms_sp_base_ref_##S(base1, W, K, N, zero);                                              \
            ms_sp_base_##S(base2, W, K, N, zero);                                                  \
            if (memcmp(base1, base2, sizeof(R) * N))                                               \
                fail_msg("sp_base differs from the reference at P=%d N=%d", P, N);                 \
            ms_sp_nn_ref_##S(Y1, &in, base1, W, N);                                                \
            ms_sp_tn_ref_##S(G1, &in, D, K, N);                                                    \
            for (int threads = 1; threads <= 2; threads++) {                                       \
                memset(Y2, 0xff, sizeof(R) * B * N);                                               \
                memset(G2, 0xff, sizeof(R) * K * N);                                               \
                ms_sp_nn_##S(Y2, &in, base1, W, N, N, threads);                                    \
                ms_sp_tn_##S(G2, &in, D, K, N, threads);                                           \
                if (memcmp(Y1, Y2, sizeof(R) * B * N))                                             \
                    fail_msg("sp_nn differs from the reference at %dx%dx%d, %d threads", B, K, N,  \
                             threads);                                                             \
                if (memcmp(G1, G2, sizeof(R) * K * N))                                             \
                    fail_msg("sp_tn differs from the reference at %dx%dx%d, %d threads", B, K, N,  \
                             threads);                                                             \
            }                                                                                      \
            /* The gradient applied in place: the reference gradient, then the update. */        \
            CHECK_SGD(S, R, G1, W, (long)K * N, "sp_tn_sgd",                                       \
                      ms_sp_tn_sgd_##S(W2, V2, &in, D, K, N, lr, gamma, threads));                 \
            /* The group view (rows b, B-1-b, b+1, B-2-b..., a short last group): the same sums. */\
            {                                                                                      \
                enum { G = MS_GROUP };                                                             \
                int np = (B + G - 1) / G, *grow = malloc(sizeof(int) * G * np), *ord = malloc(sizeof(int) * B); \
                uint32_t *pst = malloc(sizeof(uint32_t) * (np + 1));                               \
                uint16_t *gcol = malloc(sizeof(uint16_t) * (B * P + 1));                           \
                uint8_t *gval = malloc((size_t)G * (B * P + 1));                                   \
                uint32_t e = 0;                                                                    \
                for (int i = 0; i < B; i++) /* rows from both ends, so groups are not in order */  \
                    ord[i] = i % 2 ? B - 1 - i / 2 : i / 2;                                        \
                for (int q = 0; q < np; q++) {                                                     \
                    int at[G], rr[G];                                                              \
                    for (int u = 0; u < G; u++) {                                                  \
                        rr[u] = q * G + u < B ? ord[q * G + u] : -1;                               \
                        grow[q * G + u] = rr[u];                                                   \
                        at[u] = 0;                                                                 \
                    }                                                                              \
                    pst[q] = e;                                                                    \
                    for (;;) {                                                                     \
                        int kk = P;                                                                \
                        for (int u = 0; u < G; u++)                                                \
                            if (rr[u] >= 0 && at[u] < count[rr[u]] && col[rr[u]][at[u]] < kk)     \
                                kk = col[rr[u]][at[u]];                                            \
                        if (kk == P)                                                               \
                            break;                                                                 \
                        gcol[e] = (uint16_t)kk;                                                    \
                        for (int u = 0; u < G; u++)                                                \
                            gval[(size_t)G * e + u] = rr[u] >= 0 && at[u] < count[rr[u]] &&       \
                                                      col[rr[u]][at[u]] == kk                      \
                                                          ? val[rr[u]][at[u]++]                    \
                                                          : 0;                                     \
                        e++;                                                                       \
                    }                                                                              \
                }                                                                                  \
                pst[np] = e;                                                                       \
                free(ord);                                                                         \
                ms_sparse_##S pin = in;                                                            \
                pin.ngroups = np, pin.grow = grow, pin.gstart = pst, pin.gcol = gcol;               \
                pin.gval = gval;                                                                   \
                for (int threads = 1; threads <= 2; threads++) {                                   \
                    memset(Y2, 0xff, sizeof(R) * B * N);                                           \
                    ms_sp_nn_##S(Y2, &pin, base1, W, N, N, threads);                               \
                    if (memcmp(Y1, Y2, sizeof(R) * B * N))                                         \
                        fail_msg("sp_nn on groups differs from the reference at %dx%dx%d", B, K,    \
                                 N);                                                               \
                    /* W with padded rows (ldw a multiple of 16, plus one) */                      \
                    int ldw = (N + 15) / 16 * 16 + (threads == 2);                                 \
                    R *Wp = calloc((size_t)K * ldw, sizeof(R));                                    \
                    for (int k = 0; k < K; k++)                                                    \
                        memcpy(Wp + (long)k * ldw, W + (long)k * N, sizeof(R) * N);                \
                    memset(Y2, 0xff, sizeof(R) * B * N);                                           \
                    ms_sp_nn_##S(Y2, &pin, base1, Wp, ldw, N, threads);                            \
                    free(Wp);                                                                      \
                    if (memcmp(Y1, Y2, sizeof(R) * B * N))                                         \
                        fail_msg("sp_nn on groups differs from the reference at %dx%dx%d", B, K,    \
                                 N);                                                               \
                }                                                                                  \
                free(grow), free(pst), free(gcol), free(gval);                                     \
            }                                                                                      \
            /* The same numbers as the dense product of the full rows, up to rounding. */          \
            ms_mm_nn_ref_##S(Yd, X, W, B, K, N);                                                   \
            ms_mm_tn_ref_##S(Gd, X, D, B, K, N);                                                   \
            double tol = sizeof(R) == 4 ? 2e-4 : 1e-11;                                            \
            for (long i = 0; i < (long)B * N; i++)                                                 \
                if (!(fabs((double)Y1[i] - Yd[i]) <= tol * (1 + fabs((double)Yd[i]))))             \
                    fail_msg("sp_nn is not the dense product at %ld: %g vs %g", i, (double)Y1[i],  \
                             (double)Yd[i]);                                                       \
            for (long i = 0; i < (long)K * N; i++)                                                 \
                if (!(fabs((double)G1[i] - Gd[i]) <= tol * (1 + fabs((double)Gd[i]))))             \
                    fail_msg("sp_tn is not the dense gradient at %ld: %g vs %g", i, (double)G1[i], \
                             (double)Gd[i]);                                                       \
            free(cols), free(vals), free(col), free(val), free(count), free(X), free(W), free(D);  \
            free(base1), free(base2), free(Y1), free(Y2), free(Yd), free(G1), free(G2), free(Gd);  \
        }                                                                                          \
    }
SPARSE_TEST(f, float)
SPARSE_TEST(d, double)

static void test_isa(void **state)
{
    (void)state;
    const char *isa = ms_kernels_isa();
#if defined(__AVX512F__)
    assert_string_equal(isa, "avx512");
#elif defined(__AVX2__) && defined(__FMA__)
    assert_string_equal(isa, "avx2");
#else
    assert_string_equal(isa, "generic");
#endif
    print_message("float kernels: %s\n", isa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_f),
        cmocka_unit_test(test_kernels_d),
        cmocka_unit_test(test_sparse_f),
        cmocka_unit_test(test_sparse_d),
        cmocka_unit_test(test_isa),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
