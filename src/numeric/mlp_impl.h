/* Template of the network (precision.h). Parameters: MS_T, MS_SUF, MS_FMA;
 * MS_EXP(x), exp of MS_T; MS_TANHS(z, b2, amp), amp * tanh(b z) with b2 =
 * 2b; optionally MS_VEC_EXP and MS_VEC_TANH, array forms (MS_VEC_EXP(t, z,
 * s, n): t[i] = exp(s z[i]), MS_VEC_TANH likewise), which then compute every
 * exponential and tanh. It uses mlp.c's draw(), the first weights' law. */
#include "precision.h"
#if !defined(MS_T) || !defined(MS_SUF) || !defined(MS_FMA) || !defined(MS_EXP) ||                  \
    !defined(MS_TANHS)
#error "mlp_impl.h: define MS_T, MS_SUF, MS_FMA, MS_EXP and MS_TANHS first (precision.h)"
#endif

void MS_FN(ms_mlp_init)(const ms_shape *s, ms_init init, ms_rng *rng, MS_T *params)
{
    double d[256];
    for (int l = 0; l < s->nlayers; l++)
        for (size_t i = s->off[l], end = s->off[l + 1]; i < end;) {
            size_t n = end - i < 256 ? end - i : 256;
            draw(init, rng, s->width[l], d, n);
            for (size_t k = 0; k < n; k++)
                params[i + k] = (MS_T)d[k];
            i += n;
        }
}

void MS_FN(ms_work_init)(MS_FN(ms_work) *w, const ms_shape *s, int cap, int dense_in)
{
    size_t total = 0, off[2 * MS_MAX_LAYERS + 5];
    int L = s->nlayers, n = 0;
    /* One allocation, each buffer rounded to 64 bytes. */
#define SLOT(count)                                                                                \
    (off[n++] = total, total += (((size_t)(count) * sizeof(MS_T) + 63) & ~(size_t)63))
    /* act[0]: 785 values a row, most of the block for a small net; a sweep
     * of 1,000 tiny runs spent 1.5% of its CPU clearing unread ones */
    for (int l = 0; l <= L; l++)
        SLOT((size_t)cap * (l || dense_in ? s->width[l] : 0));
    for (int l = 1; l < L; l++)
        SLOT((size_t)cap * s->width[l]);
    SLOT((size_t)cap * s->maxw);
    SLOT((size_t)cap * s->maxw);
    size_t wt = 0;
    for (int l = 1; l < L; l++) /* W_{l+1}, used for the input gradient of layer l+1 */
        if ((size_t)s->width[l] * s->width[l + 1] > wt)
            wt = (size_t)s->width[l] * s->width[l + 1];
    SLOT(wt);
    SLOT(s->width[1]);
    SLOT((size_t)cap * (s->width[L] + 2));
#undef SLOT
    memset(w, 0, sizeof *w);
    w->cap = cap;
    w->block = ms_alloc_aligned(total);
    char *base = (char *)w->block;
    n = 0;
    for (int l = 0; l <= L; l++)
        w->act[l] = (MS_T *)(base + off[n++]);
    if (!dense_in)
        w->act[0] = NULL;
    for (int l = 1; l < L; l++)
        w->dact[l] = (MS_T *)(base + off[n++]);
    w->delta[0] = (MS_T *)(base + off[n++]);
    w->delta[1] = (MS_T *)(base + off[n++]);
    w->wt = (MS_T *)(base + off[n++]);
    w->base = (MS_T *)(base + off[n++]);
    w->smax = (MS_T *)(base + off[n++]);
}

void MS_FN(ms_work_release)(MS_FN(ms_work) *w)
{
    ms_free_aligned(w->block);
    memset(w, 0, sizeof *w);
}

double MS_FN(ms_xent)(const MS_T *z, int k, int t)
{
    double m = z[0], s = 0;
    for (int i = 1; i < k; i++)
        if (z[i] > m)
            m = z[i];
    for (int i = 0; i < k; i++)
        s += exp((double)z[i] - m);
    return m + log(s) - (double)z[t];
}

/* Hidden activation in place on Z (n, m); with dz, also store f'(Z). One
 * branch-free loop per case so the compiler vectorizes each. */
static void MS_FN(activate)(ms_activation act, MS_T *restrict z, MS_T *restrict dz, size_t count)
{
    /* improved sigmoid: f(z) = 1.7159 tanh(2z/3), f'(z) = 1.7159 * 2/3 * (1 - tanh^2(2z/3)) */
    const MS_T amp = (MS_T)1.7159, slope = (MS_T)(2.0 / 3.0);
#ifdef MS_VEC_TANH
    /* exp(-z) or tanh(2z/3) first, into dz (or z itself), then the rest */
    MS_T *v = dz ? dz : z;
    if (act == MS_ACT_SIGMOID) {
        MS_VEC_EXP(v, z, (MS_T)-1, count);
        for (size_t i = 0; i < count; i++) {
            MS_T a = (MS_T)1 / ((MS_T)1 + v[i]);
            z[i] = a;
            if (dz)
                dz[i] = a * ((MS_T)1 - a);
        }
    } else {
        MS_VEC_TANH(v, z, slope, count);
        for (size_t i = 0; i < count; i++) {
            MS_T th = v[i];
            z[i] = amp * th;
            if (dz)
                dz[i] = amp * slope * ((MS_T)1 - th * th);
        }
    }
    return;
#endif
    if (act == MS_ACT_SIGMOID && dz) {
        for (size_t i = 0; i < count; i++) {
            MS_T a = (MS_T)1 / ((MS_T)1 + MS_EXP(-z[i]));
            z[i] = a;
            dz[i] = a * ((MS_T)1 - a);
        }
    } else if (act == MS_ACT_SIGMOID) {
        for (size_t i = 0; i < count; i++)
            z[i] = (MS_T)1 / ((MS_T)1 + MS_EXP(-z[i]));
    } else if (dz) {
        for (size_t i = 0; i < count; i++) {
            MS_T t = MS_TANHS(z[i], 2 * slope, (MS_T)1);
            z[i] = amp * t;
            dz[i] = amp * slope * ((MS_T)1 - t * t);
        }
    } else { /* amp * tanh(slope z), the same value as amp * t above */
        for (size_t i = 0; i < count; i++)
            z[i] = MS_TANHS(z[i], 2 * slope, amp);
    }
}

void MS_FN(ms_mlp_forward)(const ms_shape *s, ms_activation act, const MS_T *params,
                           MS_FN(ms_work) *w, int n, int train, const uint8_t *labels,
                           double *loss_sum, int64_t *correct, int nthreads)
{
    int L = s->nlayers;
    for (int l = 1; l <= L; l++) {
        int K = s->width[l - 1], N = s->width[l];
        const MS_T *W = params + s->off[l - 1];
        if (l == 1 && w->in) {
            const MS_T *base = w->in_base;
            if (!base) {
                MS_FN(ms_sp_base)(w->base, W, K, N, w->in->zero);
                base = w->base;
            }
            if (w->in_w) /* the caller's copy of W with aligned rows */
                MS_FN(ms_sp_nn)(w->act[1], w->in, base, w->in_w, w->in_ldw, N, nthreads);
            else
                MS_FN(ms_sp_nn)(w->act[1], w->in, base, W, N, N, nthreads);
        } else
            MS_FN(ms_mm_nn)(w->act[l], w->act[l - 1], W, n, K, N, nthreads);
        if (l < L)
            MS_FN(activate)(act, w->act[l], train ? w->dact[l] : NULL, (size_t)n * N);
    }
    /* Softmax of the logits, row by row. The loss is log-sum-exp minus the
     * target logit, finished in double: finite for any finite logits. The
     * prediction is the first largest logit (argmax of the softmax output, up
     * to its rounding). Validation needs no probabilities: only training
     * normalises the row in place. */
    int k = s->width[L];
    double loss = 0;
    int64_t hits = 0;
    if (!labels && !train)
        return;
    /* Three passes, so the exponentials (the costly part) run as one
     * vectorized loop over the batch; every value, and each row's sum in
     * column order, is what a row-by-row loop computes. Training turns the
     * logits into probabilities in place; validation keeps them (the
     * exponentials go to scratch). */
    MS_T *z = w->act[L], *mx = w->smax, *m = mx + (size_t)n * k, *zt = m + n;
    for (int i = 0; i < n; i++) {
        const MS_T *zi = z + (size_t)i * k;
        /* the first largest, without branches (they mispredicted on every row) */
        int best = 0;
        MS_T mv = zi[0];
        for (int j = 1; j < k; j++) {
            int gt = zi[j] > mv;
            best = gt ? j : best;
            mv = gt ? zi[j] : mv;
        }
        if (labels) {
            hits += best == labels[i];
            zt[i] = zi[labels[i]];
        }
        m[i] = mv;
        for (int j = 0; j < k; j++)
            mx[(size_t)i * k + j] = mv;
    }
    MS_T *e = train ? z : mx;
#ifdef MS_VEC_EXP
    for (size_t x = 0; x < (size_t)n * k; x++)
        e[x] = z[x] - mx[x];
    MS_VEC_EXP(e, e, (MS_T)1, (size_t)n * k);
#else
    for (size_t x = 0; x < (size_t)n * k; x++)
        e[x] = MS_EXP(z[x] - mx[x]);
#endif
    for (int i = 0; i < n; i++) {
        MS_T *ei = e + (size_t)i * k, sum = 0;
        for (int j = 0; j < k; j++)
            sum += ei[j];
        if (labels)
            loss += (double)m[i] + log((double)sum) - (double)zt[i];
        if (train)
            for (int j = 0; j < k; j++)
                ei[j] /= sum;
    }
    if (loss_sum)
        *loss_sum += loss;
    if (correct)
        *correct += hits;
}

/* Backward; with upd (params itself, writable) every layer's gradient is
 * applied to upd and velocity as it is made instead of stored in grads. */
static void MS_FN(backward)(const ms_shape *s, const MS_T *params, MS_FN(ms_work) *w, int n,
                            const uint8_t *labels, MS_T *grads, MS_T *upd, MS_T *velocity,
                            MS_T lr, MS_T gamma, int nthreads)
{
    int L = s->nlayers, k = s->width[L];
    MS_T *d = w->delta[0], *dn = w->delta[1];
    /* delta_L = -(T - Y) */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            d[(size_t)i * k + j] =
                w->act[L][(size_t)i * k + j] - (j == labels[i] ? (MS_T)1 : (MS_T)0);
    for (int l = L; l >= 1; l--) {
        int K = s->width[l - 1], N = s->width[l];
        size_t off = s->off[l - 1];
        /* W_l^T for the input gradient, taken before an update changes W_l */
        if (l > 1)
            MS_FN(ms_transpose)(w->wt, params + off, K, N);
        if (l == 1 && w->in && upd)
            MS_FN(ms_sp_tn_sgd)(upd, velocity, w->in, d, K, N, lr, gamma, nthreads);
        else if (l == 1 && w->in)
            MS_FN(ms_sp_tn)(grads, w->in, d, K, N, nthreads);
        else if (upd)
            MS_FN(ms_mm_tn_sgd)(upd + off, velocity + off, w->act[l - 1], d, n, K, N, lr, gamma,
                                nthreads);
        else
            MS_FN(ms_mm_tn)(grads + off, w->act[l - 1], d, n, K, N, nthreads);
        if (l == 1)
            break;
        /* delta_{l-1} = f'(Z_{l-1}) * (delta_l W_l^T) */
        MS_FN(ms_mm_nn)(dn, d, w->wt, n, N, K, nthreads);
        const MS_T *dz = w->dact[l - 1];
        for (size_t i = 0; i < (size_t)n * K; i++)
            dn[i] *= dz[i];
        MS_T *t = d;
        d = dn;
        dn = t;
    }
}

void MS_FN(ms_mlp_backward)(const ms_shape *s, const MS_T *params, MS_FN(ms_work) *w, int n,
                            const uint8_t *labels, MS_T *grads, int nthreads)
{
    MS_FN(backward)(s, params, w, n, labels, grads, NULL, NULL, 0, 0, nthreads);
}

void MS_FN(ms_sgd_update)(MS_T *params, MS_T *velocity, const MS_T *grads, size_t n, MS_T lr,
                          MS_T gamma)
{
    /* Explicit fused multiply-adds, the arithmetic the fused first-layer
     * update (ms_sp_tn_sgd) repeats, whatever the compiler's contraction. */
    if (gamma == 0) {
        for (size_t i = 0; i < n; i++)
            params[i] = MS_FMA(-lr, grads[i], params[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        velocity[i] = MS_FMA(gamma, velocity[i], grads[i]);
        params[i] = MS_FMA(-lr, velocity[i], params[i]);
    }
}

void MS_FN(ms_mlp_backward_update)(const ms_shape *s, MS_T *params, MS_T *velocity,
                                   MS_FN(ms_work) *w, int n, const uint8_t *labels, MS_T lr,
                                   MS_T gamma, int nthreads)
{
    MS_FN(backward)(s, params, w, n, labels, NULL, params, velocity, lr, gamma, nthreads);
}

#undef MS_T
#undef MS_SUF
#undef MS_FMA
#undef MS_EXP
#undef MS_TANHS
#undef MS_VEC_EXP
#undef MS_VEC_TANH
