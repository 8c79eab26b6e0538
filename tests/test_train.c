/* Tests for ms_train on the real MNIST split: a sane first epoch, results
 * independent of the thread count, and an exact resume from a checkpoint. */
#include "ms_test.h"

#include "ms_data.h"
#include "ms_train.h"
#include "ms_rng.h"

#include <math.h>

static ms_data data;

static int setup(void **state)
{
    (void)state;
    return ms_data_load(MS_DATA_DIR, 20000, 10000, &data);
}

static int teardown(void **state)
{
    (void)state;
    ms_data_release(&data);
    return 0;
}

static void test_baseline_one_epoch(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 2), 0);
    ms_epoch e;
    assert_int_equal(ms_trainer_epoch(&t, &e), 0);
    print_message("baseline epoch 1: val acc %.4f, val loss %.4f, %.3f s\n", e.val_acc, e.val_loss,
                  e.seconds);
    assert_int_equal(t.step, 625);
    assert_int_equal(t.nevals, 5);
    /* validations at steps 0, 125, ..., 500 counted after each update */
    for (int i = 0; i < 5; i++)
        assert_int_equal(t.evals[i].step, 125 * i);
    assert_true(e.val_acc > 0.70 && e.val_acc < 1.0);
    assert_true(e.train_acc > 0.70);
    assert_true(e.val_loss > 0 && e.val_loss < 1.5);
    /* the first validation, after one step, is far worse than the last */
    assert_true(t.evals[0].val_acc < e.val_acc);
    assert_int_equal(t.stop, MS_STOP_NONE);
    ms_trainer_release(&t);
}

/* Two epochs of a network with every code path: two hidden layers, improved
 * sigmoid, momentum. Returns the evals (10) in out. */
static void train_two_epochs(int threads, ms_precision prec, ms_eval *out)
{
    ms_config c;
    ms_config_default(&c);
    c.precision = prec;
    c.nhidden = 2;
    c.hidden[0] = 48;
    c.hidden[1] = 33;
    c.activation = MS_ACT_IMPROVED_SIGMOID;
    c.init = MS_INIT_FANIN_NORMAL;
    c.momentum = 0.9;
    c.lr = 0.02;
    c.train_size = prec == MS_PREC_F64 ? 2000 : 4000;
    c.val_size = 2000;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, threads), 0);
    for (int ep = 0; ep < 2; ep++) {
        ms_epoch e;
        assert_int_equal(ms_trainer_epoch(&t, &e), 0);
        memcpy(out + ep * 5, t.evals, 5 * sizeof *out);
    }
    ms_trainer_release(&t);
}

/* A run that reaches its epoch limit is validated once more, after its
 * last step: its epoch row is of the weights it ends with, and that last
 * batch_loss covers the 124 batches since the epoch's last validation. */
static void test_final_weights_validated(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.epochs = 2;
    c.train_size = 2000; /* 62 steps an epoch: validations at 12 x k */
    c.val_size = 1000;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    ms_epoch e;
    assert_int_equal(ms_trainer_epoch(&t, &e), 0);
    assert_int_equal(t.nevals, 5); /* not the last epoch: as before */
    assert_int_equal(ms_trainer_epoch(&t, &e), 0);
    assert_int_equal(t.stop, MS_STOP_EPOCHS);
    assert_int_equal(t.nevals, 6);
    assert_int_equal(t.evals[5].step, 2 * 62 - 1); /* the last update */
    assert_int_equal(t.evals[5].epoch, 1);
    assert_true(t.evals[5].step > t.evals[4].step);
    assert_true(e.val_acc == t.evals[5].val_acc && e.val_loss == t.evals[5].val_loss);
    assert_true(isfinite(t.evals[5].batch_loss) && t.evals[5].batch_loss > 0);
    /* the same weights evaluated directly give the same numbers */
    double l, a;
    ms_trainer_evaluate(&t, &data.val, c.val_size, &l, &a);
    assert_true(l == e.val_loss && a == e.val_acc);
    ms_trainer_release(&t);
}

static void test_threads_identical(void **state)
{
    (void)state;
    for (int p = 0; p < MS_PREC_N; p++) {
        ms_eval a[10], b[10];
        train_two_epochs(1, (ms_precision)p, a);
        train_two_epochs(2, (ms_precision)p, b);
        assert_memory_equal(a, b, sizeof a);
        assert_true(a[9].val_acc > 0.8);
    }
}

/* The whole set is evaluated in its grouped order (by label, groups of
 * images sharing pixels), a part of it image by image in file order: the
 * same images give the same correct count and the same loss up to the
 * order of its sum. */
static void test_grouped_evaluation(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.nhidden = 1;
    c.hidden[0] = 60; /* padded rows in the grouped first layer */
    c.activation = MS_ACT_IMPROVED_SIGMOID;
    c.init = MS_INIT_FANIN_NORMAL;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 2), 0);
    ms_epoch e;
    assert_int_equal(ms_trainer_epoch(&t, &e), 0);
    for (int set = 0; set < 2; set++) {
        const ms_dataset *s = set ? &data.val : &data.train;
        /* a view with one image more than evaluated: not the whole set, so
         * the plain file order */
        ms_dataset part = *s;
        part.n = s->n + 1;
        double lg, ag, lp, ap;
        ms_trainer_evaluate(&t, s, s->n, &lg, &ag);
        ms_trainer_evaluate(&t, &part, s->n, &lp, &ap);
        print_message("%s: grouped loss %.17g acc %.6f, file order loss %.17g acc %.6f\n",
                      set ? "val" : "train", lg, ag, lp, ap);
        assert_true(ag == ap);
        assert_true(fabs(lg - lp) <= 1e-12 * lp);
        assert_true(ag > 0.8);
    }
    ms_trainer_release(&t);
}

/* Three epochs straight, or one, a checkpoint, and two more in a trainer
 * scrambled first: the same evals (batch_loss across the resume included),
 * weights and step. */
static void resume_exact(ms_precision prec)
{
    ms_config c;
    ms_config_default(&c);
    c.precision = prec;
    c.momentum = 0.9;
    c.lr = 0.02;
    c.train_size = 3000;
    c.val_size = 1000;
    c.early_stop = 3;
    ms_trainer a, b;
    /* uninterrupted: three epochs */
    assert_int_equal(ms_trainer_init(&a, &c, &data, 1), 0);
    ms_epoch ea[3];
    ms_eval va[3][5];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ms_trainer_epoch(&a, &ea[i]), 0);
        assert_int_equal(a.nevals, 5);
        memcpy(va[i], a.evals, sizeof va[i]);
    }
    /* interrupted after one epoch: save, throw away, restore into a new trainer
     * whose state is scrambled (the checkpoint must carry everything) */
    assert_int_equal(ms_trainer_init(&b, &c, &data, 1), 0);
    ms_epoch eb;
    assert_int_equal(ms_trainer_epoch(&b, &eb), 0);
    void *blob;
    size_t n = ms_trainer_save(&b, &blob);
    ms_trainer_release(&b);
    assert_int_equal(ms_trainer_init(&b, &c, &data, 2), 0);
    ms_rng_seed(&b.rng, 999);
    memset(b.params, 0x3f, 2 * b.shape.nparams * b.esize); /* params and velocity */
    b.loss_acc = 7;
    b.loss_n = 3;
    char why[160];
    assert_int_equal(ms_trainer_restore(&b, blob, n, why, sizeof why), 0);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(ms_trainer_epoch(&b, &eb), 0);
        assert_true(eb.val_loss == ea[i].val_loss && eb.train_acc == ea[i].train_acc);
        assert_int_equal(eb.epoch, ea[i].epoch);
        assert_memory_equal(b.evals, va[i], sizeof va[i]);
    }
    assert_memory_equal(a.params, b.params, a.shape.nparams * a.esize);
    assert_int_equal(a.step, b.step);
    free(blob);
    ms_trainer_release(&a);
    ms_trainer_release(&b);
}

static void test_checkpoint_resume_exact(void **state)
{
    (void)state;
    resume_exact(MS_PREC_F32);
    resume_exact(MS_PREC_F64);
}

/* The course's training-loss record: every step's batch loss (before its
 * update) in order, and each validation's batch_loss the mean of exactly the
 * steps since the previous one, across the epoch boundary. */
static void test_step_losses(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.train_size = 2000; /* 62 steps an epoch, validations at global steps 12 k */
    c.val_size = 500;
    c.epochs = 3;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    double all[3 * 62];
    ms_eval ev[3 * 6];
    int nev = 0;
    for (int ep = 0; ep < 3; ep++) {
        ms_epoch e;
        assert_int_equal(ms_trainer_epoch(&t, &e), 0);
        assert_int_equal(e.first_step, 62 * ep);
        assert_int_equal(e.nsteps, 62);
        memcpy(all + 62 * ep, e.step_loss, 62 * sizeof *all);
        memcpy(ev + nev, t.evals, (size_t)t.nevals * sizeof *ev);
        nev += t.nevals;
    }
    assert_int_equal(nev, 5 + 5 + 6); /* the last epoch's final weights too */
    for (int i = 0; i < 3 * 62; i++)
        assert_true(isfinite(all[i]) && all[i] > 0);
    /* the first step's loss is the untrained network's: about ln 10 or worse */
    assert_true(all[0] > 1.5);
    int64_t prev = -1;
    for (int k = 0; k < nev; k++) {
        double sum = 0;
        for (int64_t s = prev + 1; s <= ev[k].step; s++)
            sum += all[s];
        double mean = sum / (double)(ev[k].step - prev);
        if (ev[k].batch_loss != mean)
            fail_msg("eval %d (step %lld): batch_loss %.17g, steps %lld..%lld average %.17g", k,
                     (long long)ev[k].step, ev[k].batch_loss, (long long)prev + 1,
                     (long long)ev[k].step, mean);
        prev = ev[k].step;
    }
    /* validations at global steps 12 k (the course's rule): epoch 2's first
     * (step 72) covers steps 49..72, 14 of epoch 1 and 10 of epoch 2 */
    assert_int_equal(ev[4].step, 48);
    assert_int_equal(ev[5].step, 72);
    ms_trainer_release(&t);
}

/* ---- float64 against an independent reference ----
 * The course's arithmetic written out plainly in double: dense rows
 * (p - mean) / std with a bias 1, Z = X W, the activation with libm,
 * softmax, delta = Y - T, gradients X^T delta / B, v = g + gamma v, W -= lr v.
 * Nothing of mlp.c or the kernels is used; only the first weights are the
 * trainer's (its RNG draws them). */
typedef struct ref_net {
    int L, w[4];
    double *W[3], *V[3];
} ref_net;

static double ref_act(int improved, double z)
{
    return improved ? 1.7159 * tanh(2.0 / 3.0 * z) : 1.0 / (1.0 + exp(-z));
}

static double ref_dact(int improved, double a)
{
    /* from the activation value: sigmoid a (1 - a); 1.7159 tanh(2z/3) gives
     * 1.7159 * 2/3 * (1 - (a / 1.7159)^2) */
    return improved ? 1.7159 * (2.0 / 3.0) * (1.0 - (a / 1.7159) * (a / 1.7159)) : a * (1.0 - a);
}

/* One SGD step on rows idx[0..B) of the training set; returns the mean loss. */
static double ref_step(ref_net *r, int improved, const int32_t *idx, int B, double lr,
                       double gamma)
{
    double *A[4];
    int L = r->L;
    for (int l = 0; l <= L; l++)
        A[l] = calloc((size_t)B * r->w[l], sizeof(double));
    for (int b = 0; b < B; b++) {
        const uint8_t *px = data.train.pixels + (size_t)idx[b] * MS_PIXELS;
        for (int k = 0; k < MS_PIXELS; k++)
            A[0][b * r->w[0] + k] = ((double)px[k] - data.mean) / data.std;
        A[0][b * r->w[0] + MS_PIXELS] = 1.0;
    }
    double loss = 0;
    for (int l = 1; l <= L; l++)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < r->w[l]; j++) {
                double z = 0;
                for (int k = 0; k < r->w[l - 1]; k++)
                    z += A[l - 1][b * r->w[l - 1] + k] * r->W[l - 1][k * r->w[l] + j];
                A[l][b * r->w[l] + j] = l < L ? ref_act(improved, z) : z;
            }
    double *D = calloc((size_t)B * r->w[L], sizeof(double));
    for (int b = 0; b < B; b++) {
        double *z = A[L] + b * r->w[L], m = z[0], sum = 0;
        for (int j = 1; j < r->w[L]; j++)
            m = z[j] > m ? z[j] : m;
        for (int j = 0; j < r->w[L]; j++)
            sum += exp(z[j] - m);
        int t = data.train.labels[idx[b]];
        loss += -log(exp(z[t] - m) / sum);
        for (int j = 0; j < r->w[L]; j++)
            D[b * r->w[L] + j] = exp(z[j] - m) / sum - (j == t);
    }
    for (int l = L; l >= 1; l--) {
        int K = r->w[l - 1], N = r->w[l];
        double *Dn = calloc((size_t)B * K, sizeof(double));
        for (int b = 0; b < B && l > 1; b++)
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (int j = 0; j < N; j++)
                    s += D[b * N + j] * r->W[l - 1][k * N + j];
                Dn[b * K + k] = s * ref_dact(improved, A[l - 1][b * K + k]);
            }
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++) {
                double g = 0;
                for (int b = 0; b < B; b++)
                    g += A[l - 1][b * K + k] * D[b * N + j];
                g /= B;
                double *v = &r->V[l - 1][k * N + j];
                *v = g + gamma * *v;
                r->W[l - 1][k * N + j] -= lr * *v;
            }
        free(D);
        D = Dn;
    }
    free(D);
    for (int l = 0; l <= L; l++)
        free(A[l]);
    return loss / B;
}

/* precision: float64 trains what the reference computes, to summation
 * order (1e-10 relative after 20 steps); float32 is measurably further. */
static void test_float64_reference(void **state)
{
    (void)state;
    for (int improved = 0; improved < 2; improved++) {
        ms_config c;
        ms_config_default(&c);
        c.nhidden = 2;
        c.hidden[0] = 12;
        c.hidden[1] = 7;
        c.activation = improved ? MS_ACT_IMPROVED_SIGMOID : MS_ACT_SIGMOID;
        c.init = improved ? MS_INIT_FANIN_NORMAL : MS_INIT_UNIFORM;
        c.momentum = 0.9;
        c.lr = 0.05;
        c.batch = 10;
        c.train_size = 200; /* 20 steps */
        c.val_size = 100;
        c.epochs = 1;
        c.val_per_epoch = 1;
        double err[MS_PREC_N] = {0};
        for (int p = 0; p < MS_PREC_N; p++) {
            c.precision = (ms_precision)p;
            ms_trainer t;
            assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
            ref_net r = {3, {MS_INPUT, 12, 7, 10}, {0}, {0}};
            for (int l = 0; l < 3; l++) {
                size_t n = (size_t)r.w[l] * r.w[l + 1];
                r.W[l] = malloc(n * sizeof(double));
                r.V[l] = calloc(n, sizeof(double));
                for (size_t i = 0; i < n; i++)
                    r.W[l][i] = p ? ((const double *)t.params)[t.shape.off[l] + i]
                                  : ((const float *)t.params)[t.shape.off[l] + i];
            }
            ms_epoch e;
            assert_int_equal(ms_trainer_epoch(&t, &e), 0);
            assert_int_equal(e.nsteps, 20);
            /* the trainer's shuffle, replayed from the seed: the order is not
             * what is tested here */
            ms_rng rng;
            ms_rng_seed(&rng, c.seed);
            ms_shape sh;
            ms_shape_init(&sh, &c, MS_INPUT);
            double *skip = malloc(sh.nparams * sizeof(double));
            ms_mlp_init_d(&sh, c.init, &rng, skip);
            free(skip);
            int32_t order[200];
            for (int i = 0; i < 200; i++)
                order[i] = i;
            ms_rng_shuffle(&rng, order, 200);
            for (int s = 0; s < 20; s++) {
                double bl = ref_step(&r, improved, order + 10 * s, 10, c.lr, c.momentum);
                double d = fabs(bl - e.step_loss[s]) / bl;
                err[p] = d > err[p] ? d : err[p];
            }
            for (int l = 0; l < 3; l++)
                for (size_t i = 0; i < (size_t)r.w[l] * r.w[l + 1]; i++) {
                    double got = p ? ((const double *)t.params)[t.shape.off[l] + i]
                                   : ((const float *)t.params)[t.shape.off[l] + i];
                    double d = fabs(got - r.W[l][i]) / (fabs(r.W[l][i]) + 1e-3);
                    err[p] = d > err[p] ? d : err[p];
                }
            for (int l = 0; l < 3; l++) {
                free(r.W[l]);
                free(r.V[l]);
            }
            ms_trainer_release(&t);
        }
        print_message("%s: largest relative difference from the double reference after 20 "
                      "steps: float64 %.3g, float32 %.3g\n",
                      improved ? "improved sigmoid" : "sigmoid", err[MS_PREC_F64],
                      err[MS_PREC_F32]);
        assert_true(err[MS_PREC_F64] < 1e-10);
        assert_true(err[MS_PREC_F32] > 1e-8); /* it did train in float32 before */
    }
}

/* Restores blob (n bytes) after edit() into a fresh trainer of config c:
 * expects refusal with `want` in the reason and the trainer untouched.
 * reseal: give the edited checkpoint a valid checksum, so the field's own
 * check is what refuses it. */
static void expect_refused(const ms_config *c, const ms_data *dd, const void *blob, size_t n,
                           int reseal, void (*edit)(ms_ck_header *), const char *want)
{
    char *b = malloc(n);
    memcpy(b, blob, n);
    if (edit) {
        ms_ck_header h;
        memcpy(&h, b, sizeof h);
        edit(&h);
        memcpy(b, &h, sizeof h);
    }
    if (reseal) {
        ms_ck_header h;
        memcpy(&h, b, sizeof h);
        h.checksum = ms_checkpoint_checksum(b, n);
        memcpy(b, &h, sizeof h);
    }
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, c, dd, 1), 0);
    float first = ((const float *)t.params)[0];
    int64_t step = t.step;
    char why[160] = "";
    assert_int_equal(ms_trainer_restore(&t, b, n, why, sizeof why), -1);
    print_message("refused: %s\n", why);
    if (!strstr(why, want))
        fail_msg("reason '%s' lacks '%s'", why, want);
    assert_true(((const float *)t.params)[0] == first && t.step == step); /* untouched */
    ms_trainer_release(&t);
    free(b);
}

static void set_step_negative(ms_ck_header *h) { h->step = -1; }
static void set_step_huge(ms_ck_header *h) { h->step = INT64_MAX; }
static void set_epoch_past(ms_ck_header *h) { h->epoch = 1000000; }
static void set_stop_unknown(ms_ck_header *h) { h->stop = 99; }
static void set_rng_zero(ms_ck_header *h) { memset(h->rng, 0, sizeof h->rng); }
static void set_window_bad(ms_ck_header *h) { h->wcount = h->wcap + 1; }
static void set_version_old(ms_ck_header *h) { h->version = 1; }
static void set_loss_n_bad(ms_ck_header *h) { h->loss_n = -1; }
static void set_loss_nan(ms_ck_header *h) { h->loss_acc = NAN; }
static void set_magic(ms_ck_header *h) { h->magic = 0; }
static void set_build_o1(ms_ck_header *h)
{
    memset(h->build, 0, sizeof h->build);
    snprintf(h->build, sizeof h->build, "-O1 %s", ms_kernels_isa());
}

/* the same optimisation level, other kernels (an AVX2 machine's) */
static void set_build_isa(ms_ck_header *h)
{
    memset(h->build, 0, sizeof h->build);
    snprintf(h->build, sizeof h->build, "%s %s", MS_BUILD,
             strcmp(ms_kernels_isa(), "avx2") ? "avx2" : "avx512");
}

/* Format 3, the layout of checkpoints before format 4 added the kernels'
 * ISA (an 8-byte build holding the optimisation level). */
typedef struct ck_header_v3 {
    uint32_t magic, version;
    uint64_t nparams;
    int64_t step;
    int32_t epoch, stop;
    uint64_t rng[4];
    int32_t wcap, wcount, wpos, pad;
    char build[8];
    uint64_t identity, data, checksum;
} ck_header_v3;

/* The format 3 checkpoint of the same state as a format 4 blob, as a build
 * of level `level` wrote it; *n3 its size. */
static void *as_format3(const void *blob, size_t n, const char *level, size_t *n3)
{
    ms_ck_header h;
    ck_header_v3 o;
    memcpy(&h, blob, sizeof h);
    memset(&o, 0, sizeof o);
    o.magic = h.magic;
    o.version = 3;
    o.nparams = h.nparams;
    o.step = h.step;
    o.epoch = h.epoch;
    o.stop = h.stop;
    memcpy(o.rng, h.rng, sizeof o.rng);
    o.wcap = h.wcap;
    o.wcount = h.wcount;
    o.wpos = h.wpos;
    snprintf(o.build, sizeof o.build, "%s", level);
    o.identity = h.identity;
    o.data = h.data;
    *n3 = n - sizeof h + sizeof o;
    char *b = malloc(*n3);
    memcpy(b + sizeof o, (const char *)blob + sizeof h, n - sizeof h);
    uint64_t x = ms_hash64_bytes(&o, sizeof o, MS_HASH64_INIT); /* checksum 0 */
    o.checksum = ms_hash64_bytes(b + sizeof o, *n3 - sizeof o, x);
    memcpy(b, &o, sizeof o);
    return b;
}

/* blob (format 5) as format 4 wrote it: the header without the training
 * loss since the last validation. */
static void *as_format4(const void *blob, size_t n, size_t *n4)
{
    size_t h4 = offsetof(ms_ck_header, loss_acc);
    ms_ck_header h;
    memcpy(&h, blob, sizeof h);
    h.version = 4;
    h.checksum = 0;
    *n4 = n - sizeof h + h4;
    char *b = malloc(*n4);
    memcpy(b + h4, (const char *)blob + sizeof h, n - sizeof h);
    uint64_t x = ms_hash64_bytes(&h, h4, MS_HASH64_INIT);
    h.checksum = ms_hash64_bytes(b + h4, *n4 - h4, x);
    memcpy(b, &h, h4);
    return b;
}

/* blob with its loss since the last validation set to none: what an older
 * format restores to, saved again. */
static void *without_loss_sum(const void *blob, size_t n)
{
    char *b = malloc(n);
    memcpy(b, blob, n);
    ms_ck_header h;
    memcpy(&h, b, sizeof h);
    h.loss_acc = 0;
    h.loss_n = 0;
    memcpy(b, &h, sizeof h);
    h.checksum = ms_checkpoint_checksum(b, n);
    memcpy(b, &h, sizeof h);
    return b;
}

/* Damaged or foreign checkpoints are refused with a reason, before any of
 * the trainer's state changes: truncated, not a checkpoint, an older
 * format, a flipped bit anywhere, another run's, and (with a valid
 * checksum) every field out of its range. */
static void test_checkpoint_refused(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.train_size = 1000;
    c.val_size = 500;
    c.early_stop = 3;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    ms_epoch e;
    assert_int_equal(ms_trainer_epoch(&t, &e), 0);
    void *blob;
    size_t n = ms_trainer_save(&t, &blob);
    ms_trainer_release(&t);
    char why[160];
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    assert_int_equal(ms_trainer_restore(&t, blob, n, why, sizeof why), 0); /* the good one */
    ms_trainer_release(&t);
    ms_ck_header h; /* the build's arithmetic is recorded: level and kernels */
    memcpy(&h, blob, sizeof h);
    char want[32];
    snprintf(want, sizeof want, "%s %s", MS_BUILD, ms_kernels_isa());
    assert_string_equal(h.build, want);

    /* A checkpoint of format 3 (an older build of the same level) is still
     * read: an interrupted run of a database made before format 4 resumes
     * where it stopped, with the same state. Another level is refused. */
    ms_ck_header h5;
    memcpy(&h5, blob, sizeof h5);
    assert_true(h5.loss_n > 0 && h5.loss_acc > 0); /* 31 steps, the last validation at 24 */
    char *expect = without_loss_sum(blob, n);
    size_t n3;
    char *old = as_format3(blob, n, MS_BUILD, &n3);
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    assert_int_equal(ms_trainer_restore(&t, old, n3, why, sizeof why), 0);
    assert_int_equal(t.epoch, 1);
    void *again;
    size_t n2 = ms_trainer_save(&t, &again); /* resaved as format 5: the same bytes, no loss sum */
    assert_int_equal(n2, n);
    assert_memory_equal(again, expect, n);
    free(again);
    ms_trainer_release(&t);
    free(old);
    /* format 4 likewise */
    old = as_format4(blob, n, &n3);
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    assert_int_equal(ms_trainer_restore(&t, old, n3, why, sizeof why), 0);
    n2 = ms_trainer_save(&t, &again);
    assert_int_equal(n2, n);
    assert_memory_equal(again, expect, n);
    free(again);
    ms_trainer_release(&t);
    free(old);
    free(expect);
    old = as_format3(blob, n, strcmp(MS_BUILD, "-O1") ? "-O1" : "-O3", &n3);
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    assert_int_equal(ms_trainer_restore(&t, old, n3, why, sizeof why), -1);
    assert_non_null(strstr(why, "round differently"));
    ms_trainer_release(&t);
    free(old);

    expect_refused(&c, &data, blob, sizeof(ms_ck_header) - 1, 0, NULL, "truncated");
    expect_refused(&c, &data, blob, n - 1, 1, NULL, "bytes, expected");
    expect_refused(&c, &data, blob, n, 1, set_magic, "not a checkpoint");
    expect_refused(&c, &data, blob, n, 1, set_version_old, "format 1");
    for (size_t at = 8; at < n; at += n / 7) { /* a bit flipped in the header, window, weights */
        char *b = malloc(n);
        memcpy(b, blob, n);
        b[at] ^= 0x10;
        expect_refused(&c, &data, b, n, 0, NULL, "checksum");
        free(b);
    }
    ms_config other = c;
    other.seed = 2;
    expect_refused(&other, &data, blob, n, 0, NULL, "another configuration");
    expect_refused(&c, &data, blob, n, 1, set_step_negative, "impossible position");
    expect_refused(&c, &data, blob, n, 1, set_step_huge, "impossible position");
    expect_refused(&c, &data, blob, n, 1, set_epoch_past, "impossible position");
    expect_refused(&c, &data, blob, n, 1, set_stop_unknown, "unknown stop");
    expect_refused(&c, &data, blob, n, 1, set_rng_zero, "all-zero random state");
    expect_refused(&c, &data, blob, n, 1, set_window_bad, "early-stopping window");
    expect_refused(&c, &data, blob, n, 1, set_loss_n_bad, "training-loss sum");
    expect_refused(&c, &data, blob, n, 1, set_loss_nan, "training-loss sum");
    if (strcmp(MS_BUILD, "-O1")) /* a checkpoint of another build's arithmetic */
        expect_refused(&c, &data, blob, n, 1, set_build_o1, "was made by a '-O1 ");
    expect_refused(&c, &data, blob, n, 1, set_build_isa, "round differently");
    ms_data other_data = data; /* the same run on other images */
    other_data.digest ^= 1;
    expect_refused(&c, &other_data, blob, n, 0, NULL, "was made on other data");
    free(blob);
}

static void test_early_stop_triggers(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.train_size = 640;
    c.val_size = 200;
    c.lr = 1e-9; /* nothing improves: the rule must stop after patience + 1 validations */
    c.early_stop = 4;
    c.epochs = 100;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    int epochs = 0;
    while (!t.stop) {
        ms_epoch e;
        assert_int_equal(ms_trainer_epoch(&t, &e), 0);
        epochs++;
    }
    assert_int_equal(t.stop, MS_STOP_EARLY);
    assert_true(epochs < 100);
    ms_trainer_release(&t);
}

static void test_divergence_reported(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.train_size = 640;
    c.val_size = 100;
    c.lr = 1e37; /* weights overflow to inf at once */
    c.nhidden = 0;
    ms_trainer t;
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    ms_capture cap;
    ms_capture_start(&cap);
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++) {
        ms_epoch e;
        rc = ms_trainer_epoch(&t, &e);
    }
    char *msg = ms_capture_end(&cap);
    assert_int_equal(rc, -1);
    assert_int_equal(t.stop, MS_STOP_DIVERGED);
    assert_non_null(strstr(msg, "loss is not finite at step"));
    free(msg);
    ms_trainer_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_one_epoch),
        cmocka_unit_test(test_final_weights_validated),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_grouped_evaluation),
        cmocka_unit_test(test_checkpoint_resume_exact),
        cmocka_unit_test(test_step_losses),
        cmocka_unit_test(test_float64_reference),
        cmocka_unit_test(test_checkpoint_refused),
        cmocka_unit_test(test_early_stop_triggers),
        cmocka_unit_test(test_divergence_reported),
    };
    return cmocka_run_group_tests_name("train", tests, setup, teardown);
}
