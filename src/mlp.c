/* ms_mlp: float and double instances of the network code. */
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

static double draw(ms_init init, ms_rng *rng, int fan_in)
{
    if (init == MS_INIT_FANIN_NORMAL)
        return ms_rng_normal(rng) / sqrt((double)fan_in);
    return 2.0 * ms_rng_uniform(rng) - 1.0;
}

void ms_mlp_init_d(const ms_shape *s, ms_init init, ms_rng *rng, double *params)
{
    for (int l = 0; l < s->nlayers; l++)
        for (size_t i = s->off[l]; i < s->off[l + 1]; i++)
            params[i] = draw(init, rng, s->width[l]);
}

void ms_mlp_init_f(const ms_shape *s, ms_init init, ms_rng *rng, float *params)
{
    for (int l = 0; l < s->nlayers; l++)
        for (size_t i = s->off[l]; i < s->off[l + 1]; i++)
            params[i] = (float)draw(init, rng, s->width[l]);
}

#include "mlp_fastmath.h"

float ms_fast_expf(float x) { return fast_expf(x); }
float ms_fast_tanhf(float y) { return fast_tanhf(y); }

/* amp * tanh(b z) with b2 = 2b, in double with libm's tanh */
static inline double scaled_tanh(double z, double b2, double amp) { return amp * tanh(b2 * 0.5 * z); }

#define R float
#define S f
#define EXP fast_expf
#define TANHS fast_scaled_tanhf
#define FMA fmaf
#include "mlp_impl.h"
#undef R
#undef S
#undef EXP
#undef TANHS
#undef FMA

/* The double instance (the gradient check) keeps libm's accurate functions. */
#define R double
#define S d
#define EXP exp
#define TANHS scaled_tanh
#define FMA fma
#include "mlp_impl.h"
