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
static void train_two_epochs(int threads, ms_eval *out)
{
    ms_config c;
    ms_config_default(&c);
    c.nhidden = 2;
    c.hidden[0] = 48;
    c.hidden[1] = 33;
    c.activation = MS_ACT_IMPROVED_SIGMOID;
    c.init = MS_INIT_FANIN_NORMAL;
    c.momentum = 0.9;
    c.lr = 0.02;
    c.train_size = 4000;
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
    ms_eval a[10], b[10];
    train_two_epochs(1, a);
    train_two_epochs(2, b);
    assert_memory_equal(a, b, sizeof a);
    assert_true(a[9].val_acc > 0.8);
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

static void test_checkpoint_resume_exact(void **state)
{
    (void)state;
    ms_config c;
    ms_config_default(&c);
    c.momentum = 0.9;
    c.lr = 0.02;
    c.train_size = 3000;
    c.val_size = 1000;
    c.early_stop = 3;
    ms_trainer a, b;
    /* uninterrupted: three epochs */
    assert_int_equal(ms_trainer_init(&a, &c, &data, 1), 0);
    ms_epoch ea[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(ms_trainer_epoch(&a, &ea[i]), 0);
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
    for (size_t i = 0; i < b.shape.nparams; i++)
        b.params[i] = b.velocity[i] = 0.5f;
    char why[160];
    assert_int_equal(ms_trainer_restore(&b, blob, n, why, sizeof why), 0);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(ms_trainer_epoch(&b, &eb), 0);
        assert_true(eb.val_loss == ea[i].val_loss && eb.train_acc == ea[i].train_acc);
        assert_int_equal(eb.epoch, ea[i].epoch);
    }
    assert_memory_equal(a.params, b.params, a.shape.nparams * sizeof(float));
    assert_int_equal(a.step, b.step);
    free(blob);
    ms_trainer_release(&a);
    ms_trainer_release(&b);
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
    float first = t.params[0];
    int64_t step = t.step;
    char why[160] = "";
    assert_int_equal(ms_trainer_restore(&t, b, n, why, sizeof why), -1);
    print_message("refused: %s\n", why);
    if (!strstr(why, want))
        fail_msg("reason '%s' lacks '%s'", why, want);
    assert_true(t.params[0] == first && t.step == step); /* untouched */
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
    size_t n3;
    char *old = as_format3(blob, n, MS_BUILD, &n3);
    assert_int_equal(ms_trainer_init(&t, &c, &data, 1), 0);
    assert_int_equal(ms_trainer_restore(&t, old, n3, why, sizeof why), 0);
    assert_int_equal(t.epoch, 1);
    void *again;
    size_t n2 = ms_trainer_save(&t, &again); /* resaved as format 4: the same bytes */
    assert_int_equal(n2, n);
    assert_memory_equal(again, blob, n);
    free(again);
    ms_trainer_release(&t);
    free(old);
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
        cmocka_unit_test(test_checkpoint_refused),
        cmocka_unit_test(test_early_stop_triggers),
        cmocka_unit_test(test_divergence_reported),
    };
    return cmocka_run_group_tests_name("train", tests, setup, teardown);
}
