/* ms_train: the epoch loop, validation, early stopping, checkpoints. */
#include "ms_train.h"
#include "ms_kernels.h"
#include "ms_util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef MS_BUILD
#define MS_BUILD "-O?" /* the Makefile passes its optimisation level */
#endif

/* Validation rows per chunk: fixed, so the loss sums do not depend on threads. */
#define EVAL_CHUNK MS_BLOCK

void ms_window_init(ms_window *w, int patience)
{
    memset(w, 0, sizeof *w);
    w->cap = patience > 0 ? patience + 1 : 0;
    w->loss = ms_calloc((size_t)(w->cap ? w->cap : 1), sizeof(double));
}

void ms_window_release(ms_window *w)
{
    free(w->loss);
    memset(w, 0, sizeof *w);
}

bool ms_window_push(ms_window *w, double loss)
{
    if (!w->cap)
        return false;
    w->loss[w->pos] = loss;
    w->pos = (w->pos + 1) % w->cap;
    if (w->count < w->cap)
        w->count++;
    if (w->count < w->cap)
        return false;
    /* Full: pos now indexes the oldest entry. Stop unless a later one is strictly lower. */
    double oldest = w->loss[w->pos];
    for (int i = 1; i < w->cap; i++)
        if (w->loss[(w->pos + i) % w->cap] < oldest)
            return false;
    return true;
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* The float instance: static setup_f, teardown_f, evaluate_f, step_f. */
#define MS_T float
#define MS_SUF f
#define MS_ATTACH_GROUPS(s, c, in) ms_data_groups_f(s, c, in)
#include "train_impl.h"

/* The double instance: static setup_d, teardown_d, evaluate_d, step_d. The
 * double kernels read sparse rows one by one: no group view. */
#define MS_T double
#define MS_SUF d
#define MS_ATTACH_GROUPS(s, c, in) ((void)0)
#include "train_impl.h"

int ms_trainer_init(ms_trainer *t, const ms_config *cfg, const ms_data *data, int nthreads)
{
    memset(t, 0, sizeof *t);
    if (cfg->train_size > data->train.n || cfg->val_size > data->val.n)
        return ms_error("the run needs %d/%d images, %d/%d are loaded", cfg->train_size,
                        cfg->val_size, data->train.n, data->val.n);
    t->cfg = *cfg;
    t->data = data;
    t->f64 = cfg->precision == MS_PREC_F64;
    t->esize = t->f64 ? sizeof(double) : sizeof(float);
    ms_shape_init(&t->shape, cfg, MS_INPUT);
    ms_rng_seed(&t->rng, cfg->seed);
    ms_window_init(&t->window, cfg->early_stop);
    t->order = ms_malloc((size_t)cfg->train_size * sizeof *t->order);
    t->sp_col = ms_malloc((size_t)cfg->batch * sizeof *t->sp_col);
    t->sp_val = ms_malloc((size_t)cfg->batch * sizeof *t->sp_val);
    t->sp_count = ms_malloc((size_t)cfg->batch * sizeof *t->sp_count);
    t->step_loss = ms_malloc((size_t)(cfg->train_size / cfg->batch) * sizeof *t->step_loss);
    t->nework = max_threads() > 0 ? max_threads() : 1;
    if (t->f64)
        setup_d(t);
    else
        setup_f(t);
    int maxn = cfg->train_size > cfg->val_size ? cfg->train_size : cfg->val_size;
    int chunks = (maxn + EVAL_CHUNK - 1) / EVAL_CHUNK;
    t->chunk_loss = ms_calloc((size_t)chunks, sizeof *t->chunk_loss);
    t->chunk_hits = ms_calloc((size_t)chunks, sizeof *t->chunk_hits);
    /* one more for the final weights of a run's last epoch */
    t->evals = ms_calloc((size_t)cfg->val_per_epoch + 1, sizeof *t->evals);
    ms_trainer_set_threads(t, nthreads);
    return 0;
}

void ms_trainer_set_threads(ms_trainer *t, int nthreads)
{
    if (nthreads < 1)
        nthreads = 1;
    if (nthreads > t->nework) {
        size_t w = t->f64 ? sizeof(ms_work_d) : sizeof(ms_work_f);
        t->ework = ms_realloc(t->ework, (size_t)nthreads * w);
        memset((char *)t->ework + (size_t)t->nework * w, 0, (size_t)(nthreads - t->nework) * w);
        t->nework = nthreads;
    }
    t->nthreads = nthreads;
}

void ms_trainer_release(ms_trainer *t)
{
    if (t->f64)
        teardown_d(t);
    else
        teardown_f(t);
    ms_free_aligned(t->block);
    ms_window_release(&t->window);
    free(t->order);
    free(t->sp_col);
    free(t->sp_val);
    free(t->sp_count);
    free(t->step_loss);
    ms_free_aligned(t->ebase);
    ms_free_aligned(t->epad);
    free(t->ework);
    free(t->chunk_loss);
    free(t->chunk_hits);
    free(t->evals);
    memset(t, 0, sizeof *t);
}

void ms_trainer_evaluate(ms_trainer *t, const ms_dataset *s, int n, double *loss, double *acc)
{
    if (t->f64)
        evaluate_d(t, s, n);
    else
        evaluate_f(t, s, n);
    /* chunk by chunk in order: the sums do not depend on the threads */
    int chunks = (n + EVAL_CHUNK - 1) / EVAL_CHUNK;
    double l = 0;
    int64_t h = 0;
    for (int c = 0; c < chunks; c++) {
        l += t->chunk_loss[c];
        h += t->chunk_hits[c];
    }
    *loss = l / n;
    *acc = (double)h / n;
}

/* One validation of the current weights, after step t->step: batch_loss is
 * the mean of the steps since the previous validation (across epochs). */
static void validate(ms_trainer *t, ms_eval *e, int64_t step, int epoch)
{
    const ms_config *c = &t->cfg;
    e->step = step;
    e->epoch = epoch;
    e->batch_loss = t->loss_n ? t->loss_acc / (double)t->loss_n : NAN;
    t->loss_acc = 0;
    t->loss_n = 0;
    ms_trainer_evaluate(t, &t->data->train, c->train_size, &e->train_loss, &e->train_acc);
    ms_trainer_evaluate(t, &t->data->val, c->val_size, &e->val_loss, &e->val_acc);
}

/* The run ends here: validate its final weights too, unless the epoch's
 * last validation came after its last step already, so the epoch row and
 * the summary are of the weights the run ends with. The training-loss sum
 * stays as it was: a run made longer later (a search's max raised) goes on
 * as if this one validation had not been (ms_eval_last_periodic). */
static void validate_final(ms_trainer *t)
{
    if (t->loss_n == 0)
        return;
    double acc = t->loss_acc;
    int64_t n = t->loss_n;
    validate(t, &t->evals[t->nevals++], t->step - 1, t->epoch - 1);
    t->loss_acc = acc;
    t->loss_n = n;
}

int64_t ms_eval_last_periodic(const ms_config *c, int epoch)
{
    int steps = c->train_size / c->batch, per_val = c->val_per_epoch ? steps / c->val_per_epoch : 0;
    int64_t first = (int64_t)(epoch - 1) * steps, last = -1;
    for (int s = 0, n = 0; per_val > 0 && s < steps; s++) /* ms_trainer_epoch's schedule */
        if ((first + s) % per_val == 0 && n < c->val_per_epoch) {
            n++;
            last = first + s;
        }
    return last;
}

int ms_trainer_epoch(ms_trainer *t, ms_epoch *out)
{
    const ms_config *c = &t->cfg;
    double t0 = ms_now();
    int steps = c->train_size / c->batch; /* the last partial batch is dropped */
    int per_val = steps / c->val_per_epoch;
    for (int i = 0; i < c->train_size; i++)
        t->order[i] = i;
    if (c->shuffle)
        ms_rng_shuffle(&t->rng, t->order, c->train_size);
    t->nevals = 0;
    t->first_step = t->step;
    t->nsteps = 0;
    const uint8_t *all_labels = t->data->train.labels;
    uint8_t labels[4096];
    uint8_t *lab = c->batch <= (int)sizeof labels ? labels : ms_malloc((size_t)c->batch);
    int rc = 0;
    for (int s = 0; s < steps; s++) {
        if (t->cancel && atomic_load_explicit(t->cancel, memory_order_relaxed)) {
            rc = 1;
            goto done;
        }
        const int32_t *idx = t->order + (size_t)s * c->batch;
        if (s + 1 < steps)
            ms_data_prefetch(&t->data->train, idx + c->batch, c->batch);
        for (int i = 0; i < c->batch; i++)
            lab[i] = all_labels[idx[i]];
        double bl = t->f64 ? step_d(t, idx, lab) : step_f(t, idx, lab);
        if (!isfinite(bl)) {
            t->stop = MS_STOP_DIVERGED;
            rc = ms_error("loss is not finite at step %lld", (long long)t->step);
            goto done;
        }
        /* the course's record: each step's batch loss, before its update */
        t->step_loss[t->nsteps++] = bl;
        t->loss_acc += bl;
        t->loss_n++;
        /* Validate after the update, counting that first step as step 0. */
        if (t->step % per_val == 0 && t->nevals < c->val_per_epoch) {
            validate(t, &t->evals[t->nevals++], t->step, t->epoch);
            if (ms_window_push(&t->window, t->evals[t->nevals - 1].val_loss)) {
                t->step++;
                t->stop = MS_STOP_EARLY;
                break;
            }
        }
        t->step++;
    }
    t->epoch++;
    if (!t->stop && t->epoch >= c->epochs) {
        t->stop = MS_STOP_EPOCHS;
        validate_final(t);
    }
done:
    if (lab != labels)
        free(lab);
    memset(out, 0, sizeof *out);
    out->epoch = t->epoch;
    out->seconds = ms_now() - t0;
    out->first_step = t->first_step;
    out->nsteps = t->nsteps;
    out->step_loss = t->step_loss;
    if (t->nevals) {
        const ms_eval *e = &t->evals[t->nevals - 1];
        out->train_loss = e->train_loss;
        out->train_acc = e->train_acc;
        out->val_loss = e->val_loss;
        out->val_acc = e->val_acc;
    }
    return rc;
}

static uint64_t identity_of(const ms_config *c)
{
    char *json = ms_config_json(c);
    uint64_t h = ms_config_identity(json, NULL);
    free(json);
    return h;
}

/* The build's arithmetic as a checkpoint records it, e.g. "-O3 avx512". */
static void build_id(char id[16])
{
    memset(id, 0, 16); /* NUL-padded: the header is checksummed whole */
    snprintf(id, 16, "%s %s", MS_BUILD, ms_kernels_isa());
}

/* Format 3, the checkpoints before format 4 added the kernels' ISA: the
 * same fields with an 8-byte `build` holding the optimisation level only.
 * Still read, with its own meaning (the level must match; the ISA was not
 * recorded then), so an interrupted run of an older build resumes. */
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

/* FNV-1a 64 of a blob whose header (hsize bytes) holds the checksum at
 * offset `at`, taken as 0. */
static uint64_t checksum_of(const void *blob, size_t n, size_t hsize, size_t at)
{
    unsigned char head[sizeof(ms_ck_header)];
    if (n < hsize)
        return ms_hash64_bytes(blob, n, MS_HASH64_INIT);
    memcpy(head, blob, hsize);
    memset(head + at, 0, sizeof(uint64_t));
    uint64_t x = ms_hash64_bytes(head, hsize, MS_HASH64_INIT);
    return ms_hash64_bytes((const char *)blob + hsize, n - hsize, x);
}

uint64_t ms_checkpoint_checksum(const void *blob, size_t n)
{
    return checksum_of(blob, n, sizeof(ms_ck_header), offsetof(ms_ck_header, checksum));
}

/* The header of a format 3, 4 or 5 checkpoint as format 5's, its size in
 * *hsize and in `build` what the build check compares with ("-O3 avx512",
 * or for format 3 the level alone); NULL and the reason otherwise. */
static const char *read_header(const void *blob, size_t n, ms_ck_header *h, size_t *hsize,
                               char build[16])
{
    uint32_t mv[2];
    if (n < sizeof mv)
        return "truncated";
    memcpy(mv, blob, sizeof mv);
    if (mv[0] != MS_CK_MAGIC)
        return "not a checkpoint (no MSCK mark)";
    build_id(build);
    if (mv[1] == MS_CK_VERSION || mv[1] == 4) {
        /* format 4 is format 5's header without the loss since the last
         * validation: that run's next batch_loss covers the steps since
         * its resume only */
        *hsize = mv[1] == 4 ? offsetof(ms_ck_header, loss_acc) : sizeof *h;
        if (n < *hsize)
            return "truncated";
        memset(h, 0, sizeof *h);
        memcpy(h, blob, *hsize);
        return h->checksum != checksum_of(blob, n, *hsize, offsetof(ms_ck_header, checksum))
                   ? "damaged (checksum mismatch)"
                   : NULL;
    }
    if (mv[1] != 3)
        return "format";
    ck_header_v3 o;
    *hsize = sizeof o;
    if (n < *hsize)
        return "truncated";
    memcpy(&o, blob, sizeof o);
    if (o.checksum != checksum_of(blob, n, sizeof o, offsetof(ck_header_v3, checksum)))
        return "damaged (checksum mismatch)";
    memset(h, 0, sizeof *h);
    h->magic = o.magic;
    h->version = o.version;
    h->nparams = o.nparams;
    h->step = o.step;
    h->epoch = o.epoch;
    h->stop = o.stop;
    memcpy(h->rng, o.rng, sizeof h->rng);
    h->wcap = o.wcap;
    h->wcount = o.wcount;
    h->wpos = o.wpos;
    memcpy(h->build, o.build, sizeof o.build); /* NUL-padded within the 16 */
    h->identity = o.identity;
    h->data = o.data;
    h->checksum = o.checksum;
    memset(build, 0, 16);
    snprintf(build, 16, "%s", MS_BUILD);
    return NULL;
}


size_t ms_trainer_save(const ms_trainer *t, void **blob)
{
    size_t np = t->shape.nparams;
    size_t n = sizeof(ms_ck_header) + (size_t)t->window.cap * sizeof(double) + 2 * np * t->esize;
    char *b = ms_malloc(n), *p = b;
    ms_ck_header h;
    memset(&h, 0, sizeof h); /* padding bytes too: they are checksummed */
    h.magic = MS_CK_MAGIC;
    h.version = MS_CK_VERSION;
    h.nparams = np;
    h.step = t->step;
    h.epoch = t->epoch;
    h.stop = (int32_t)t->stop;
    memcpy(h.rng, t->rng.s, sizeof h.rng);
    h.wcap = t->window.cap;
    h.wcount = t->window.count;
    h.wpos = t->window.pos;
    h.identity = identity_of(&t->cfg);
    h.data = t->data->digest;
    h.loss_acc = t->loss_acc;
    h.loss_n = t->loss_n;
    build_id(h.build);
    memcpy(p, &h, sizeof h);
    p += sizeof h;
    memcpy(p, t->window.loss, (size_t)t->window.cap * sizeof(double));
    p += (size_t)t->window.cap * sizeof(double);
    memcpy(p, t->params, np * t->esize);
    p += np * t->esize;
    memcpy(p, t->velocity, np * t->esize);
    h.checksum = ms_checkpoint_checksum(b, n);
    memcpy(b, &h, sizeof h);
    *blob = b;
    return n;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

int ms_trainer_restore(ms_trainer *t, const void *blob, size_t n, char *why, size_t whylen)
{
    ms_ck_header h;
    size_t np = t->shape.nparams, hsize = 0;
    const ms_config *c = &t->cfg;
    char here[16];
    const char *bad = read_header(blob, n, &h, &hsize, here);
    if (bad && !strcmp(bad, "truncated"))
        return WHY("truncated (%zu bytes)", n);
    if (bad && !strcmp(bad, "format")) {
        uint32_t mv[2];
        memcpy(mv, blob, sizeof mv);
        return WHY("format %u, this mlpsweep reads formats 3 to %u", mv[1], MS_CK_VERSION);
    }
    if (bad)
        return WHY("%s", bad);
    int shorter = 0; /* the same configuration but fewer epochs: it goes on */
    if (h.identity != identity_of(c) && t->longer_ok && h.epoch >= 1 && h.epoch < c->epochs) {
        ms_config fewer = *c;
        for (fewer.epochs = h.epoch; !shorter && fewer.epochs < c->epochs; fewer.epochs++)
            shorter = h.identity == identity_of(&fewer);
    }
    if (h.identity != identity_of(c) && !shorter)
        return WHY("belongs to another configuration");
    h.build[sizeof h.build - 1] = 0;
    if (strcmp(h.build, here)) {
        char *b = ms_printable(h.build); /* the file's text: it is stored as the run's error */
        snprintf(why, whylen,
                 "was made by a '%s' build, this one is '%s' (they may round differently): "
                 "resume with a '%s' build",
                 b, here, b);
        free(b);
        return -1;
    }
    if (h.data != t->data->digest)
        return WHY("was made on other data (other files or sizes): resume with the data the run "
                   "started with");
    if (h.nparams != np || h.wcap != t->window.cap)
        return WHY("does not match the network (%llu parameters, expected %zu)",
                   (unsigned long long)h.nparams, np);
    size_t want = hsize + (size_t)h.wcap * sizeof(double) + 2 * np * t->esize;
    if (n != want)
        return WHY("has %zu bytes, expected %zu", n, want);
    int64_t per_epoch = c->train_size / c->batch;
    if (h.epoch < 0 || h.epoch > c->epochs || h.step < 0 || h.step > (int64_t)h.epoch * per_epoch)
        return WHY("has an impossible position (epoch %d, step %lld)", h.epoch,
                   (long long)h.step);
    if (h.stop < MS_STOP_NONE || h.stop > MS_STOP_DIVERGED)
        return WHY("has an unknown stop reason (%d)", h.stop);
    if (h.wcount < 0 || h.wcount > h.wcap || h.wpos < 0 || (h.wcap && h.wpos >= h.wcap))
        return WHY("has an impossible early-stopping window");
    if (!(h.rng[0] | h.rng[1] | h.rng[2] | h.rng[3])) /* xoshiro never leaves all zero */
        return WHY("has an all-zero random state");
    if (h.loss_n < 0 || h.loss_n > per_epoch || !isfinite(h.loss_acc) || (!h.loss_n && h.loss_acc))
        return WHY("has an impossible training-loss sum");
    const char *p = (const char *)blob + hsize;
    memcpy(t->window.loss, p, (size_t)h.wcap * sizeof(double));
    p += (size_t)h.wcap * sizeof(double);
    memcpy(t->params, p, np * t->esize);
    p += np * t->esize;
    memcpy(t->velocity, p, np * t->esize);
    memcpy(t->rng.s, h.rng, sizeof h.rng);
    t->step = h.step;
    t->epoch = h.epoch;
    t->stop = shorter && h.stop == MS_STOP_EPOCHS ? MS_STOP_NONE : (ms_stop)h.stop;
    t->window.count = h.wcount;
    t->window.pos = h.wpos;
    t->loss_acc = h.loss_acc;
    t->loss_n = h.loss_n;
    return 0;
}

#undef WHY
