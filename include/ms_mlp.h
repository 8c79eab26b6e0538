/* ms_mlp: the network, its forward and backward pass, and the SGD update.
 *
 * Weights of layer l (fan_in, fan_out) live at params + shape.off[l] in ONE
 * block; gradients and velocity are blocks of the same layout, so the update
 * is one loop and a checkpoint one write. The same code (src/numeric/mlp_impl.h) is
 * compiled for float (_f) and double (_d): a run trains in either
 * (`precision: float32`, the default, or `float64`), and the gradient check
 * runs in double.
 *
 * A workspace holds every activation of a batch of up to `cap` rows:
 * act[0] is the input (cap, 785) the caller fills, act[L] the softmax output.
 * Or the caller points w->in at sparse rows (ms_data_sparse): the first
 * layer then runs on the nonzero pixels only (ms_sp_* kernels), about five
 * times less work on MNIST, and act[0] is not read. */
#ifndef MS_MLP_H
#define MS_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"
#include "ms_kernels.h"
#include "ms_rng.h"

#define MS_MAX_LAYERS (MS_MAX_HIDDEN + 1)

typedef struct ms_shape {
    int nlayers;                      /* weight layers L = hidden + 1 */
    int width[MS_MAX_LAYERS + 1];     /* width[0] = 785, width[L] = 10 */
    size_t off[MS_MAX_LAYERS + 1];    /* off[l]: start of W_{l+1}; off[L] = nparams */
    size_t nparams;
    int maxw;                         /* widest layer after the input */
} ms_shape;

void ms_shape_init(ms_shape *s, const ms_config *c, int input_width);

#define MS_MLP_DECLS(T, SUF)                                                                       \
    typedef struct ms_work_##SUF {                                                                 \
        int cap;                                                                                   \
        T *act[MS_MAX_LAYERS + 1];  /* (cap, width[l]) */                                          \
        T *dact[MS_MAX_LAYERS];     /* f'(Z_l) of hidden layers, training only */                  \
        T *delta[2];                /* (cap, maxw) ping-pong */                                    \
        T *wt;                      /* a transposed weight matrix */                               \
        T *base;                    /* (width[1]) first layer on a 0 input: ms_sp_base */          \
        T *smax;                    /* (cap, width[L] + 2) softmax scratch */                      \
        /* When set, the first layer reads these sparse rows, not act[0]. */                       \
        const ms_sparse_##SUF *in;                                                                 \
        /* With in: the first layer's ms_sp_base when the caller has it (one                       \
         * per evaluation, not per chunk), else NULL. */                                           \
        const T *in_base;                                                                          \
        /* With in: the first layer's weights with rows in_ldw apart, or NULL. */                  \
        const T *in_w;                                                                             \
        int in_ldw;                                                                                \
        T *block;                                                                                  \
    } ms_work_##SUF;                                                                               \
    /* Draw all weights in layer order, row-major: U(-1,1) or N(0, 1/sqrt(fan_in)),                \
     * drawn in double (the float instance rounds the same draws). */                              \
    void ms_mlp_init_##SUF(const ms_shape *s, ms_init init, ms_rng *rng, T *params);               \
    /* Buffers for cap rows; act[0] (cap dense input rows) only with dense_in:                     \
     * rows given sparse (w->in) never read it. */                                                 \
    void ms_work_init_##SUF(ms_work_##SUF *w, const ms_shape *s, int cap, int dense_in);           \
    void ms_work_release_##SUF(ms_work_##SUF *w);                                                  \
    /* Forward n rows of w->act[0]. With labels: adds the summed cross-entropy                     \
     * to *loss_sum and the correct argmax count to *correct (either may be NULL). */              \
    void ms_mlp_forward_##SUF(const ms_shape *s, ms_activation act, const T *params,               \
                              ms_work_##SUF *w, int n, int train, const uint8_t *labels,           \
                              double *loss_sum, int64_t *correct, int nthreads);                   \
    /* After a training forward: grads (nparams) of the mean cross-entropy. */                     \
    void ms_mlp_backward_##SUF(const ms_shape *s, const T *params, ms_work_##SUF *w, int n,        \
                               const uint8_t *labels, T *grads, int nthreads);                     \
    /* Backward with the SGD update of every weight, each layer's gradient                         \
     * applied as it is made (ms_mm_tn_sgd, ms_sp_tn_sgd), never stored. Same                      \
     * results as ms_mlp_backward followed by ms_sgd_update. */                                    \
    void ms_mlp_backward_update_##SUF(const ms_shape *s, T *params, T *velocity,                   \
                                      ms_work_##SUF *w, int n, const uint8_t *labels, T lr,        \
                                      T gamma, int nthreads);                                      \
    /* v = g + gamma v; p -= lr v  (gamma 0: p -= lr g, v untouched), each one fused               \
     * multiply-add. */                                                                            \
    void ms_sgd_update_##SUF(T *params, T *velocity, const T *grads, size_t n, T lr, T gamma);

/* Declare, each with _f (float) and _d (double): ms_work, ms_mlp_init,
 * ms_work_init, ms_work_release, ms_mlp_forward, ms_mlp_backward,
 * ms_mlp_backward_update, ms_sgd_update (defined by src/numeric/mlp_impl.h). */
MS_MLP_DECLS(float, f)
MS_MLP_DECLS(double, d)

/* The float instance's exp and tanh: plain arithmetic that vectorizes, with
 * every lane computing what scalar code would. exp: < 1e-7 relative error on
 * [-87, 88] (clamped outside); tanh: < 3e-7 relative error. */
float ms_fast_expf(float x);
float ms_fast_tanhf(float y);

/* Per-row cross-entropy of logits z (k) against class t, as log-sum-exp minus
 * the target logit, in double: finite for any finite logits. */
double ms_xent_f(const float *z, int k, int t);
double ms_xent_d(const double *z, int k, int t);

#endif
