/* Tests for ms_kernels: every fast kernel equals its naive reference bit for
 * bit, for shapes with and without partial tiles, with 1 and 2 threads. */
#include "ms_test.h"

#include "ms_kernels.h"
#include "ms_rng.h"

static const int shapes[][3] = {
    /* B, K, N: training batch, validation chunk, tails in every dimension */
    {32, 785, 64}, {32, 64, 10}, {32, 785, 128}, {32, 785, 32}, {256, 785, 64},
    {1, 1, 1},     {3, 5, 7},    {5, 785, 33},   {37, 60, 60},  {100, 64, 10},
};

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
            ms_transpose_##S(WT, W, K, N);                                                         \
            for (int k = 0; k < K; k++)                                                            \
                for (int j = 0; j < N; j++)                                                        \
                    assert_true(WT[j * K + k] == W[k * N + j]);                                    \
            free(X), free(W), free(D), free(Y1), free(Y2), free(G1), free(G2), free(WT);           \
        }                                                                                          \
    }

#include <math.h>
SHAPE_TEST(f, float)
SHAPE_TEST(d, double)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_f),
        cmocka_unit_test(test_kernels_d),
    };
    return cmocka_run_group_tests_name("kernels", tests, NULL, NULL);
}
