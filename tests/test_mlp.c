/* Tests for ms_mlp and ms_gradcheck: shapes, loss edge cases, the update
 * rules, the early-stopping rule, and the assignment's gradient check. */
#include "ms_test.h"

#include "ms_data.h"
#include "ms_gradcheck.h"
#include "ms_mlp.h"
#include "ms_rng.h"
#include "ms_train.h"

#include <math.h>

static void test_param_counts(void **state)
{
    (void)state;
    const struct {
        int n, h[10];
        int64_t params;
    } cases[] = {
        {1, {64}, 50880},  {2, {64, 64}, 54976}, {1, {32}, 25440}, {1, {128}, 101760},
        {10, {64, 64, 64, 64, 64, 64, 64, 64, 64, 64}, 87744},     {0, {0}, 7850},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ms_config c;
        ms_config_default(&c);
        c.nhidden = cases[i].n;
        memcpy(c.hidden, cases[i].h, sizeof cases[i].h);
        ms_shape s;
        ms_shape_init(&s, &c, MS_INPUT);
        assert_int_equal(s.nparams, cases[i].params);
        assert_int_equal(ms_config_params(&c, MS_INPUT), cases[i].params);
        assert_int_equal(s.off[s.nlayers], s.nparams);
    }
}

static void test_xent_edges(void **state)
{
    (void)state;
    /* Large logits: no overflow, loss exact. */
    float z[3] = {1000.0f, 0.0f, -1000.0f};
    assert_true(fabs(ms_xent_f(z, 3, 0)) < 1e-12);
    assert_true(fabs(ms_xent_f(z, 3, 1) - 1000.0) < 1e-9);
    assert_true(fabs(ms_xent_f(z, 3, 2) - 2000.0) < 1e-9);
    /* Equal logits: log k. */
    double e[10] = {0};
    for (int i = 0; i < 10; i++)
        e[i] = 88.5;
    assert_true(fabs(ms_xent_d(e, 10, 4) - log(10.0)) < 1e-12);
}

/* A forward pass over extreme inputs gives a proper distribution, no NaN. */
static void test_softmax_no_nan(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.nhidden = 0; /* logits = X W directly */
    ms_shape s;
    ms_shape_init(&s, &c, 2);
    float W[2 * 10];
    for (int i = 0; i < 20; i++)
        W[i] = (float)((i % 10) * 400 - 1800) * (i < 10 ? 1 : -1);
    ms_work_f w;
    ms_work_init_f(&w, &s, 3, 1);
    float X[6] = {1, 0, 0, 1, 1e3f, -1e3f};
    memcpy(w.act[0], X, sizeof X);
    uint8_t labels[3] = {9, 0, 9};
    double loss = 0;
    int64_t hits = 0;
    /* validation mode: loss and accuracy only; the loss equals the double
     * reference on the same logits */
    ms_mlp_forward_f(&s, c.activation, W, &w, 3, 0, labels, &loss, &hits, 1);
    assert_true(isfinite(loss));
    assert_int_equal(hits, 3);
    double ref = 0;
    for (int r = 0; r < 3; r++) {
        double zd[10];
        for (int k = 0; k < 10; k++)
            zd[k] = w.act[1][r * 10 + k];
        ref += ms_xent_d(zd, 10, labels[r]);
    }
    assert_true(fabs(loss - ref) <= 1e-6 * (1 + ref));
    /* training mode: the output rows become probabilities */
    memcpy(w.act[0], X, sizeof X);
    double loss2 = 0;
    ms_mlp_forward_f(&s, c.activation, W, &w, 3, 1, labels, &loss2, NULL, 1);
    assert_true(loss2 == loss);
    for (int r = 0; r < 3; r++) {
        double sum = 0;
        for (int k = 0; k < 10; k++) {
            float y = w.act[1][r * 10 + k];
            assert_false(isnan(y));
            assert_true(y >= 0 && y <= 1);
            sum += y;
        }
        assert_true(fabs(sum - 1) < 1e-6);
    }
    ms_work_release_f(&w);
}

static void test_fast_exp_tanh(void **state)
{
    (void)state;
    double max_exp = 0, max_tanh = 0;
    for (float x = -87.0f; x < 88.0f; x += 0.00317f) {
        double e = exp((double)x), t = tanh((double)x);
        double re = fabs(ms_fast_expf(x) - e) / e;
        double rt = t != 0 ? fabs(ms_fast_tanhf(x) - t) / fabs(t) : fabs(ms_fast_tanhf(x));
        max_exp = re > max_exp ? re : max_exp;
        max_tanh = rt > max_tanh ? rt : max_tanh;
    }
    for (float x = -1e-6f; x < 1e-6f; x += 1.3e-9f) { /* tiny inputs: relative accuracy kept */
        double t = tanh((double)x);
        if (t != 0 && fabs(ms_fast_tanhf(x) - t) / fabs(t) > max_tanh)
            max_tanh = fabs(ms_fast_tanhf(x) - t) / fabs(t);
    }
    print_message("fast expf: max rel error %.3g; tanhf: %.3g\n", max_exp, max_tanh);
    assert_true(max_exp < 1.2e-7);
    assert_true(max_tanh < 2.5e-7);
    /* odd, to the sign of zero */
    assert_true(ms_fast_tanhf(-0.0f) == 0 && signbit(ms_fast_tanhf(-0.0f)));
    assert_true(ms_fast_tanhf(0.0f) == 0 && !signbit(ms_fast_tanhf(0.0f)));
    for (float x = 1e-30f; x < 20; x *= 1.37f)
        assert_true(ms_fast_tanhf(-x) == -ms_fast_tanhf(x));
    /* saturation and clamping: no inf, no NaN */
    assert_true(ms_fast_tanhf(100.0f) == 1.0f && ms_fast_tanhf(-100.0f) == -1.0f);
    assert_true(isfinite(ms_fast_expf(1000.0f)) && ms_fast_expf(-1000.0f) > 0);
    /* non-finite inputs: NaN, so a diverging run cannot hide behind a clamp */
    assert_true(isnan(ms_fast_expf(NAN)) && isnan(ms_fast_expf(INFINITY)));
    assert_true(isnan(ms_fast_tanhf(NAN)) && isnan(ms_fast_tanhf(INFINITY)));
}

static void test_sgd_update(void **state)
{
    (void)state;
    /* Values exact in binary so the hand computation is exact. */
    double p[2] = {1.0, -2.0}, v[2] = {0.5, 0.25}, g[2] = {0.25, -1.0};
    /* momentum: v = g + 0.5 v = {0.5, -0.875}; p -= 0.5 v = {0.75, -1.5625} */
    ms_sgd_update_d(p, v, g, 2, 0.5, 0.5);
    assert_true(v[0] == 0.5 && v[1] == -0.875);
    assert_true(p[0] == 0.75 && p[1] == -1.5625);
    /* second step: v = g + 0.5 v = {0.5, -1.4375}; p = {0.5, -0.84375} */
    ms_sgd_update_d(p, v, g, 2, 0.5, 0.5);
    assert_true(v[0] == 0.5 && v[1] == -1.4375);
    assert_true(p[0] == 0.5 && p[1] == -0.84375);
    /* plain SGD leaves the velocity alone */
    float pf[1] = {1.0f}, vf[1] = {7.0f}, gf[1] = {0.5f};
    ms_sgd_update_f(pf, vf, gf, 1, 0.25f, 0.0f);
    assert_true(pf[0] == 0.875f && vf[0] == 7.0f);
}

/* Every branch of the rule: not yet full, improvement, tie, stagnation, off. */
/* The training step's fused backward (every layer's gradient applied as it is
 * made) gives the weights and velocity of the plain backward followed by
 * ms_sgd_update, bit for bit: dense and sparse input, momentum and plain. */
static void test_backward_update_fused(void **state)
{
    (void)state;
    enum { B = 7, P = MS_INPUT - 1 };
    ms_config c;
    ms_config_default(&c);
    c.nhidden = 2;
    c.hidden[0] = 60;
    c.hidden[1] = 33;
    c.activation = MS_ACT_IMPROVED_SIGMOID;
    ms_shape s;
    ms_shape_init(&s, &c, MS_INPUT);
    ms_rng rng;
    ms_rng_seed(&rng, 5);
    float delta[256], zero = -0.42f;
    for (int p = 0; p < 256; p++)
        delta[p] = p / 80.0f;
    static uint16_t cols[B][P];
    static uint8_t vals[B][P];
    const uint16_t *col[B];
    const uint8_t *val[B];
    int count[B];
    uint8_t labels[B];
    for (int b = 0; b < B; b++) {
        count[b] = 0;
        for (int k = 0; k < P; k++)
            if (ms_rng_uniform(&rng) < 0.2) {
                cols[b][count[b]] = (uint16_t)k;
                vals[b][count[b]++] = (uint8_t)(1 + ms_rng_uniform(&rng) * 254.99);
            }
        col[b] = cols[b];
        val[b] = vals[b];
        labels[b] = (uint8_t)(b % 10);
    }
    ms_sparse_f in = {B, col, val, count, zero, delta, 0, NULL, NULL, NULL, NULL};
    size_t np = s.nparams;
    float *p0 = malloc(np * sizeof *p0), *p1 = malloc(np * sizeof *p1);
    float *p2 = malloc(np * sizeof *p2), *v1 = malloc(np * sizeof *v1);
    float *v2 = malloc(np * sizeof *v2), *g = malloc(np * sizeof *g);
    ms_mlp_init_f(&s, MS_INIT_FANIN_NORMAL, &rng, p0);
    for (int sparse = 0; sparse < 2; sparse++)
        for (int mom = 0; mom < 2; mom++) {
            float lr = 0.1f, gamma = mom ? 0.9f : 0;
            ms_work_f w1, w2;
            ms_work_init_f(&w1, &s, B, 1); /* dense rows too, for comparison */
            ms_work_init_f(&w2, &s, B, 1);
            for (size_t i = 0; i < np; i++) {
                p1[i] = p2[i] = p0[i];
                v1[i] = v2[i] = 0.01f * (float)(i % 13) - 0.05f;
            }
            for (int b = 0; b < B; b++) { /* the same rows, dense */
                for (int k = 0; k < P; k++)
                    w1.act[0][b * MS_INPUT + k] = w2.act[0][b * MS_INPUT + k] = zero;
                for (int i = 0; i < count[b]; i++)
                    w1.act[0][b * MS_INPUT + col[b][i]] = w2.act[0][b * MS_INPUT + col[b][i]] =
                        zero + delta[val[b][i]];
                w1.act[0][b * MS_INPUT + P] = w2.act[0][b * MS_INPUT + P] = 1;
            }
            if (sparse)
                w1.in = w2.in = &in;
            double l0 = 0, l1 = 0, l2 = 0;
            /* evaluation (no derivatives kept) computes the same activations */
            ms_mlp_forward_f(&s, c.activation, p1, &w1, B, 0, labels, &l0, NULL, 1);
            ms_mlp_forward_f(&s, c.activation, p1, &w1, B, 1, labels, &l1, NULL, 1);
            assert_true(l0 == l1);
            ms_mlp_backward_f(&s, p1, &w1, B, labels, g, 1);
            ms_sgd_update_f(p1, v1, g, np, lr, gamma);
            ms_mlp_forward_f(&s, c.activation, p2, &w2, B, 1, labels, &l2, NULL, 1);
            ms_mlp_backward_update_f(&s, p2, v2, &w2, B, labels, lr, gamma, 1);
            assert_true(l1 == l2);
            if (memcmp(p1, p2, np * sizeof *p1) || memcmp(v1, v2, np * sizeof *v1))
                fail_msg("fused update differs (sparse %d, momentum %d)", sparse, mom);
            assert_true(memcmp(p1, p0, np * sizeof *p1) != 0); /* it did update */
            ms_work_release_f(&w1);
            ms_work_release_f(&w2);
        }
    free(p0), free(p1), free(p2), free(v1), free(v2), free(g);
}

static void test_early_stop_window(void **state)
{
    (void)state;
    ms_window w;
    /* patience 3: a window of 4 validations */
    ms_window_init(&w, 3);
    assert_false(ms_window_push(&w, 1.0)); /* 1 value: not full */
    assert_false(ms_window_push(&w, 2.0));
    assert_false(ms_window_push(&w, 3.0));
    assert_true(ms_window_push(&w, 4.0)); /* full, oldest (1.0) lowest: stop */
    ms_window_release(&w);

    ms_window_init(&w, 3);
    assert_false(ms_window_push(&w, 1.0));
    assert_false(ms_window_push(&w, 2.0));
    assert_false(ms_window_push(&w, 0.5)); /* strict improvement */
    assert_false(ms_window_push(&w, 3.0)); /* full, oldest 1.0 not lowest */
    assert_false(ms_window_push(&w, 3.0)); /* window 2, .5, 3, 3: oldest 2 not lowest */
    assert_true(ms_window_push(&w, 3.0));  /* .5, 3, 3, 3: no improvement on the oldest: stop */
    ms_window_release(&w);

    ms_window_init(&w, 2);
    assert_false(ms_window_push(&w, 5.0));
    assert_false(ms_window_push(&w, 4.0));
    assert_false(ms_window_push(&w, 4.5)); /* 5, 4, 4.5: oldest not lowest */
    assert_true(ms_window_push(&w, 4.0));  /* 4, 4.5, 4: a tie is no strict improvement: stop */
    ms_window_release(&w);

    ms_window_init(&w, 0); /* off */
    for (int i = 0; i < 100; i++)
        assert_false(ms_window_push(&w, 1.0));
    ms_window_release(&w);
}

static size_t gradcheck_stride(void)
{
    const char *e = getenv("MS_GRADCHECK_STRIDE");
    if (e)
        return (size_t)atol(e);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 23; /* instrumented builds are ~10x slower; the normal build checks all */
#else
    return 1;
#endif
}

static void run_gradcheck(int nhidden, int width, ms_activation act)
{
    ms_data d;
    assert_int_equal(ms_data_load(MS_DATA_DIR, 20000, 1, &d), 0);
    double *X = malloc(sizeof(double) * 100 * MS_INPUT);
    ms_data_gather_d(&d, &d.train, NULL, 0, 100, X);
    ms_config c;
    ms_config_default(&c);
    c.nhidden = nhidden;
    for (int l = 0; l < nhidden; l++)
        c.hidden[l] = width;
    c.activation = act;
    ms_gradcheck_result r;
    size_t stride = gradcheck_stride();
    ms_gradcheck(&c, X, d.train.labels, 100, 1, stride, 1e-3, &r, 2);
    print_message("gradcheck %d x %d %s: %zu weights (stride %zu), max error %.3g\n", nhidden,
                  width, ms_activation_name(act), r.checked, stride, r.max_err);
    ms_shape s;
    ms_shape_init(&s, &c, MS_INPUT);
    assert_int_equal(r.checked, (s.nparams + stride - 1) / stride);
    assert_true(r.max_err <= 1e-6);
    /* Not a vacuous pass: most gradients are far from zero. */
    assert_true(r.nonzero > r.checked / 2);
    assert_true(r.max_grad > 1e-2);
    free(X);
    ms_data_release(&d);
}

static void test_gradcheck_sigmoid(void **state)
{
    (void)state;
    run_gradcheck(1, 64, MS_ACT_SIGMOID);
}

static void test_gradcheck_improved_two_layers(void **state)
{
    (void)state;
    run_gradcheck(2, 64, MS_ACT_IMPROVED_SIGMOID);
}

/* The check must fail when the gradient is wrong (a check that cannot fail
 * is no check): the analytic gradient with one weight of each layer off by
 * 1e-4 is caught, at that weight; the true one passes on the same weights. */
static void test_gradcheck_detects_error(void **state)
{
    (void)state;
    ms_data d;
    assert_int_equal(ms_data_load(MS_DATA_DIR, 20000, 1, &d), 0);
    double *X = malloc(sizeof(double) * 100 * MS_INPUT);
    ms_data_gather_d(&d, &d.train, NULL, 0, 100, X);
    ms_config c;
    ms_config_default(&c);
    c.nhidden = 2;
    c.hidden[0] = c.hidden[1] = 16;
    ms_shape s;
    ms_shape_init(&s, &c, MS_INPUT);
    double *p = malloc(sizeof(double) * s.nparams), *g = malloc(sizeof(double) * s.nparams);
    ms_gradcheck_weights(&c, 1, p);
    ms_gradcheck_analytic(&c, X, d.train.labels, 100, p, g);
    size_t stride = 7; /* every 7th weight: the perturbed ones are among them */
    ms_gradcheck_result r;
    ms_gradcheck_against(&c, X, d.train.labels, 100, p, g, stride, 1e-3, &r, 2);
    assert_true(r.max_err <= 1e-6 && r.nonzero > 0);
    for (int l = 0; l < s.nlayers; l++) {
        size_t i = (s.off[l] + 3) / stride * stride; /* a checked weight of layer l */
        g[i] += 1e-4;
        ms_gradcheck_against(&c, X, d.train.labels, 100, p, g, stride, 1e-3, &r, 2);
        if (!(r.max_err > 5e-5) || r.worst != i)
            fail_msg("a wrong gradient at weight %zu (layer %d) passed: max err %g at %zu", i,
                     l + 1, r.max_err, r.worst);
        g[i] -= 1e-4;
    }
    free(p), free(g), free(X);
    ms_data_release(&d);
}

static void test_init_distributions(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    ms_shape s;
    ms_shape_init(&s, &c, MS_INPUT);
    float *p = malloc(sizeof(float) * s.nparams);
    ms_rng r;
    ms_rng_seed(&r, 7);
    ms_mlp_init_f(&s, MS_INIT_UNIFORM, &r, p);
    double mn = 1, mx = -1;
    for (size_t i = 0; i < s.nparams; i++) {
        mn = p[i] < mn ? p[i] : mn;
        mx = p[i] > mx ? p[i] : mx;
    }
    assert_true(mn >= -1 && mx <= 1 && mn < -0.99 && mx > 0.99);
    ms_rng_seed(&r, 7);
    ms_mlp_init_f(&s, MS_INIT_FANIN_NORMAL, &r, p);
    double ss = 0;
    for (size_t i = 0; i < s.off[1]; i++)
        ss += (double)p[i] * p[i];
    double sd = sqrt(ss / s.off[1]); /* expect 1/sqrt(785) = 0.0357 */
    assert_true(fabs(sd - 1 / sqrt(785.0)) < 0.001);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_param_counts),
        cmocka_unit_test(test_xent_edges),
        cmocka_unit_test(test_softmax_no_nan),
        cmocka_unit_test(test_fast_exp_tanh),
        cmocka_unit_test(test_sgd_update),
        cmocka_unit_test(test_backward_update_fused),
        cmocka_unit_test(test_early_stop_window),
        cmocka_unit_test(test_init_distributions),
        cmocka_unit_test(test_gradcheck_sigmoid),
        cmocka_unit_test(test_gradcheck_improved_two_layers),
        cmocka_unit_test(test_gradcheck_detects_error),
    };
    return cmocka_run_group_tests_name("mlp", tests, NULL, NULL);
}
