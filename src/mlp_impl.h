/* Template body of the network; included by mlp.c with R, S, EXP, FMA and
 * TANHS (amp * tanh(b z) as TANHS(z, 2b, amp)); or with VEC_EXP and
 * VEC_TANH, array forms (VEC_EXP(t, z, s, n): t[i] = exp(s z[i]), VEC_TANH
 * likewise), which then compute every exponential and tanh. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, S)
#define WORK CAT(ms_work, S)

void NAME(ms_work_init)(WORK *w, const ms_shape *s, int cap)
{
    size_t total = 0, off[2 * MS_MAX_LAYERS + 5];
    int L = s->nlayers, n = 0;
    /* One allocation, each buffer rounded to 64 bytes. */
#define SLOT(count) (off[n++] = total, total += (((size_t)(count) * sizeof(R) + 63) & ~(size_t)63))
    for (int l = 0; l <= L; l++)
        SLOT((size_t)cap * s->width[l]);
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
        w->act[l] = (R *)(base + off[n++]);
    for (int l = 1; l < L; l++)
        w->dact[l] = (R *)(base + off[n++]);
    w->delta[0] = (R *)(base + off[n++]);
    w->delta[1] = (R *)(base + off[n++]);
    w->wt = (R *)(base + off[n++]);
    w->base = (R *)(base + off[n++]);
    w->smax = (R *)(base + off[n++]);
}

void NAME(ms_work_release)(WORK *w)
{
    ms_free_aligned(w->block);
    memset(w, 0, sizeof *w);
}

double NAME(ms_xent)(const R *z, int k, int t)
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
static void NAME(activate)(ms_activation act, R *restrict z, R *restrict dz, size_t count)
{
    /* improved sigmoid: f(z) = 1.7159 tanh(2z/3), f'(z) = 1.7159 * 2/3 * (1 - tanh^2(2z/3)) */
    const R amp = (R)1.7159, slope = (R)(2.0 / 3.0);
#ifdef VEC_TANH
    /* exp(-z) or tanh(2z/3) first, into dz (or z itself), then the rest */
    R *v = dz ? dz : z;
    if (act == MS_ACT_SIGMOID) {
        VEC_EXP(v, z, (R)-1, count);
        for (size_t i = 0; i < count; i++) {
            R a = (R)1 / ((R)1 + v[i]);
            z[i] = a;
            if (dz)
                dz[i] = a * ((R)1 - a);
        }
    } else {
        VEC_TANH(v, z, slope, count);
        for (size_t i = 0; i < count; i++) {
            R th = v[i];
            z[i] = amp * th;
            if (dz)
                dz[i] = amp * slope * ((R)1 - th * th);
        }
    }
    return;
#endif
    if (act == MS_ACT_SIGMOID && dz) {
        for (size_t i = 0; i < count; i++) {
            R a = (R)1 / ((R)1 + EXP(-z[i]));
            z[i] = a;
            dz[i] = a * ((R)1 - a);
        }
    } else if (act == MS_ACT_SIGMOID) {
        for (size_t i = 0; i < count; i++)
            z[i] = (R)1 / ((R)1 + EXP(-z[i]));
    } else if (dz) {
        for (size_t i = 0; i < count; i++) {
            R t = TANHS(z[i], 2 * slope, (R)1);
            z[i] = amp * t;
            dz[i] = amp * slope * ((R)1 - t * t);
        }
    } else { /* amp * tanh(slope z), the same value as amp * t above */
        for (size_t i = 0; i < count; i++)
            z[i] = TANHS(z[i], 2 * slope, amp);
    }
}

void NAME(ms_mlp_forward)(const ms_shape *s, ms_activation act, const R *params, WORK *w, int n,
                          int train, const uint8_t *labels, double *loss_sum, int64_t *correct,
                          int nthreads)
{
    int L = s->nlayers;
    for (int l = 1; l <= L; l++) {
        int K = s->width[l - 1], N = s->width[l];
        const R *W = params + s->off[l - 1];
        if (l == 1 && w->in) {
            const R *base = w->in_base;
            if (!base) {
                NAME(ms_sp_base)(w->base, W, K, N, w->in->zero);
                base = w->base;
            }
            if (w->in_w) /* the caller's copy of W with aligned rows */
                NAME(ms_sp_nn)(w->act[1], w->in, base, w->in_w, w->in_ldw, N, nthreads);
            else
                NAME(ms_sp_nn)(w->act[1], w->in, base, W, N, N, nthreads);
        } else
            NAME(ms_mm_nn)(w->act[l], w->act[l - 1], W, n, K, N, nthreads);
        if (l < L)
            NAME(activate)(act, w->act[l], train ? w->dact[l] : NULL, (size_t)n * N);
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
    R *z = w->act[L], *mx = w->smax, *m = mx + (size_t)n * k, *zt = m + n;
    for (int i = 0; i < n; i++) {
        const R *zi = z + (size_t)i * k;
        /* the first largest, without branches (they mispredicted on every row) */
        int best = 0;
        R mv = zi[0];
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
    R *e = train ? z : mx;
#ifdef VEC_EXP
    for (size_t x = 0; x < (size_t)n * k; x++)
        e[x] = z[x] - mx[x];
    VEC_EXP(e, e, (R)1, (size_t)n * k);
#else
    for (size_t x = 0; x < (size_t)n * k; x++)
        e[x] = EXP(z[x] - mx[x]);
#endif
    for (int i = 0; i < n; i++) {
        R *ei = e + (size_t)i * k, sum = 0;
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
static void NAME(backward)(const ms_shape *s, const R *params, WORK *w, int n,
                           const uint8_t *labels, R *grads, R *upd, R *velocity, R lr, R gamma,
                           int nthreads)
{
    int L = s->nlayers, k = s->width[L];
    R *d = w->delta[0], *dn = w->delta[1];
    /* delta_L = -(T - Y) */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < k; j++)
            d[(size_t)i * k + j] = w->act[L][(size_t)i * k + j] - (j == labels[i] ? (R)1 : (R)0);
    for (int l = L; l >= 1; l--) {
        int K = s->width[l - 1], N = s->width[l];
        size_t off = s->off[l - 1];
        /* W_l^T for the input gradient, taken before an update changes W_l */
        if (l > 1)
            NAME(ms_transpose)(w->wt, params + off, K, N);
        if (l == 1 && w->in && upd)
            NAME(ms_sp_tn_sgd)(upd, velocity, w->in, d, K, N, lr, gamma, nthreads);
        else if (l == 1 && w->in)
            NAME(ms_sp_tn)(grads, w->in, d, K, N, nthreads);
        else if (upd)
            NAME(ms_mm_tn_sgd)(upd + off, velocity + off, w->act[l - 1], d, n, K, N, lr, gamma,
                               nthreads);
        else
            NAME(ms_mm_tn)(grads + off, w->act[l - 1], d, n, K, N, nthreads);
        if (l == 1)
            break;
        /* delta_{l-1} = f'(Z_{l-1}) * (delta_l W_l^T) */
        NAME(ms_mm_nn)(dn, d, w->wt, n, N, K, nthreads);
        const R *dz = w->dact[l - 1];
        for (size_t i = 0; i < (size_t)n * K; i++)
            dn[i] *= dz[i];
        R *t = d;
        d = dn;
        dn = t;
    }
}

void NAME(ms_mlp_backward)(const ms_shape *s, const R *params, WORK *w, int n,
                           const uint8_t *labels, R *grads, int nthreads)
{
    NAME(backward)(s, params, w, n, labels, grads, NULL, NULL, 0, 0, nthreads);
}

void NAME(ms_sgd_update)(R *params, R *velocity, const R *grads, size_t n, R lr, R gamma)
{
    /* Explicit fused multiply-adds, the arithmetic the fused first-layer
     * update (ms_sp_tn_sgd) repeats, whatever the compiler's contraction. */
    if (gamma == 0) {
        for (size_t i = 0; i < n; i++)
            params[i] = FMA(-lr, grads[i], params[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        velocity[i] = FMA(gamma, velocity[i], grads[i]);
        params[i] = FMA(-lr, velocity[i], params[i]);
    }
}

void NAME(ms_mlp_backward_update)(const ms_shape *s, R *params, R *velocity, WORK *w, int n,
                                  const uint8_t *labels, R lr, R gamma, int nthreads)
{
    NAME(backward)(s, params, w, n, labels, NULL, params, velocity, lr, gamma, nthreads);
}

#undef WORK
#undef NAME
#undef CAT
#undef CAT_
