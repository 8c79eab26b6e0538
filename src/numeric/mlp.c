/* ms_mlp: float and double instances of the network code (mlp_impl.h). */
#include "ms_mlp.h"
#include "ms_kernels.h"
#include "ms_util.h"

#include <math.h>
#include <string.h>

void ms_shape_init(ms_shape *s, const ms_config *c, int input_width)
{
    memset(s, 0, sizeof *s);
    s->nlayers = c->nhidden + 1;
    s->width[0] = input_width;
    for (int l = 0; l < c->nhidden; l++)
        s->width[l + 1] = c->hidden[l];
    s->width[s->nlayers] = MS_CLASSES;
    size_t off = 0;
    for (int l = 0; l < s->nlayers; l++) {
        s->off[l] = off;
        off += (size_t)s->width[l] * s->width[l + 1];
        if (s->width[l + 1] > s->maxw)
            s->maxw = s->width[l + 1];
    }
    s->off[s->nlayers] = off;
    s->nparams = off;
}

/* The next n first weights (ms_mlp_init), in double for both instances:
 * the same numbers, in the same order, as n single draws. */
static void draw(ms_init init, ms_rng *rng, int fan_in, double *out, size_t n)
{
    if (init == MS_INIT_FANIN_NORMAL) {
        for (size_t i = 0; i < n; i++)
            out[i] = ms_rng_normal(rng) / sqrt((double)fan_in);
        return;
    }
    ms_rng_uniform_n(rng, out, n);
    for (size_t i = 0; i < n; i++)
        out[i] = 2.0 * out[i] - 1.0;
}

#include "mlp_fastmath.h"

float ms_fast_expf(float x) { return fast_expf(x); }
float ms_fast_tanhf(float y) { return fast_tanhf(y); }

/* amp * tanh(b z) with b2 = 2b, in double with libm's tanh */
static inline double scaled_tanh(double z, double b2, double amp) { return amp * tanh(b2 * 0.5 * z); }

/* The float instance: ms_mlp_init_f, ms_work_init_f, ms_work_release_f,
 * ms_xent_f, ms_mlp_forward_f, ms_mlp_backward_f, ms_sgd_update_f,
 * ms_mlp_backward_update_f; static activate_f, backward_f. */
#define MS_T float
#define MS_SUF f
#define MS_FMA fmaf
#define MS_EXP fast_expf
#define MS_TANHS fast_scaled_tanhf
#include "mlp_impl.h"

/* The double instance (precision: float64, and the gradient check): the C
 * library's exp and tanh, through glibc's vector math library (libmvec, a
 * few ulp at most) where the build targets AVX-512 or AVX2, else libm's
 * scalar functions. Every element goes through the same function (the tail
 * of an array through a padded vector), so a value does not depend on where
 * it lies. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define MVEC_W 8
typedef __m512d mvec;
__m512d _ZGVeN8v_exp(__m512d x);
__m512d _ZGVeN8v_tanh(__m512d x);
#define MVEC_EXP _ZGVeN8v_exp
#define MVEC_TANH _ZGVeN8v_tanh
#define MVEC_LOAD _mm512_loadu_pd
#define MVEC_STORE _mm512_storeu_pd
#define MVEC_SCALE(s, v) _mm512_mul_pd(_mm512_set1_pd(s), v)
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MVEC_W 4
typedef __m256d mvec;
__m256d _ZGVdN4v_exp(__m256d x);
__m256d _ZGVdN4v_tanh(__m256d x);
#define MVEC_EXP _ZGVdN4v_exp
#define MVEC_TANH _ZGVdN4v_tanh
#define MVEC_LOAD _mm256_loadu_pd
#define MVEC_STORE _mm256_storeu_pd
#define MVEC_SCALE(s, v) _mm256_mul_pd(_mm256_set1_pd(s), v)
#endif

#ifdef MVEC_W
/* t[i] = f(s z[i]), i < n (t may be z) */
#define MVEC_MAP(name, fn)                                                                         \
    static void name(double *t, const double *z, double s, size_t n)                               \
    {                                                                                              \
        double buf[MVEC_W];                                                                        \
        size_t i = 0;                                                                              \
        for (; i + MVEC_W <= n; i += MVEC_W)                                                       \
            MVEC_STORE(t + i, fn(MVEC_SCALE(s, MVEC_LOAD(z + i))));                                \
        if (i < n) { /* the tail, padded */                                                        \
            for (size_t k = 0; k < MVEC_W; k++)                                                    \
                buf[k] = i + k < n ? s * z[i + k] : 0;                                             \
            MVEC_STORE(buf, fn(MVEC_LOAD(buf)));                                                   \
            memcpy(t + i, buf, (n - i) * sizeof *t);                                               \
        }                                                                                          \
    }
#else
#define MVEC_MAP(name, fn)                                                                         \
    static void name(double *t, const double *z, double s, size_t n)                               \
    {                                                                                              \
        for (size_t i = 0; i < n; i++)                                                             \
            t[i] = fn(s * z[i]);                                                                   \
    }
#define MVEC_EXP exp
#define MVEC_TANH tanh
#endif
MVEC_MAP(vec_exp, MVEC_EXP)
MVEC_MAP(vec_tanh, MVEC_TANH)

/* The double instance: ms_mlp_init_d, ms_work_init_d, ms_work_release_d,
 * ms_xent_d, ms_mlp_forward_d, ms_mlp_backward_d, ms_sgd_update_d,
 * ms_mlp_backward_update_d; static activate_d, backward_d. */
#define MS_T double
#define MS_SUF d
#define MS_FMA fma
#define MS_EXP exp
#define MS_TANHS scaled_tanh
#define MS_VEC_EXP vec_exp
#define MS_VEC_TANH vec_tanh
#include "mlp_impl.h"
