/* ms_train: one training run with the course's exact semantics.
 *
 * The trainer owns parameters and velocity (one block of two equal parts,
 * floats or, for precision float64, doubles; gradients are applied as they
 * are made), the RNG and the early-stopping window; an epoch is the unit of
 * progress and of checkpointing. The state at an epoch boundary (weights,
 * velocity, RNG, step counter, window, the loss sum since the last
 * validation) is all a resumed run needs, because every epoch reshuffles
 * the identity order with the run's RNG. */
#ifndef MS_TRAIN_H
#define MS_TRAIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"
#include "ms_data.h"
#include "ms_metrics.h"
#include "ms_mlp.h"
#include "ms_rng.h"



/* Early-stopping window: the last `cap` validation losses, cap = patience + 1. */
typedef struct ms_window {
    int cap, count, pos;
    double *loss;
} ms_window;

void ms_window_init(ms_window *w, int patience);
void ms_window_release(ms_window *w);
/* Add a validation loss; true when the oldest of a full window is the lowest
 * (no strict improvement for `patience` validations). */
bool ms_window_push(ms_window *w, double loss);

typedef struct ms_trainer {
    ms_config cfg;
    const ms_data *data;
    ms_shape shape;
    bool f64;          /* cfg.precision is float64: the _d instances */
    size_t esize;      /* bytes of a weight: 4 or 8 */
    void *block;       /* params | velocity, float or double */
    void *params, *velocity;
    ms_rng rng;
    int64_t step;      /* updates done */
    int epoch;         /* epochs finished */
    ms_stop stop;
    ms_window window;
    int nthreads;
    int32_t *order;
    union { ms_work_f f; ms_work_d d; } work; /* the training batch */
    const uint16_t **sp_col; /* its rows as sparse input (batch each) */
    const uint8_t **sp_val;
    int *sp_count;
    union { ms_sparse_f f; ms_sparse_d d; } sp_in;
    void *ebase;       /* ms_sp_base of the weights being evaluated */
    void *epad;        /* their first layer with rows eldw apart, when width % MS_ROW_ALIGN */
    int eldw;
    void *ework;       /* ms_work_f or _d, one per thread, for validation chunks */
    int nework;
    double *chunk_loss;
    int64_t *chunk_hits;
    ms_eval *evals;    /* validations of the last epoch */
    int nevals;
    double *step_loss; /* the last epoch's batch losses, one per step, before its update */
    int64_t first_step; /* the global step of step_loss[0] */
    int nsteps;
    /* Batch losses since the previous validation, across epochs (and in the
     * checkpoint): the next validation's batch_loss is their mean. */
    double loss_acc;
    int64_t loss_n;
    /* When set and *cancel becomes nonzero, the epoch is abandoned at the next
     * step; the trainer is then mid-epoch and must not be checkpointed. */
    const atomic_int *cancel;
    /* ms_trainer_restore also takes the checkpoint of this configuration
     * with fewer epochs (a pruned search's max raised): the first epochs of
     * a run do not depend on how many follow */
    int longer_ok;
} ms_trainer;

/* Initialise weights from cfg->seed; data must outlive the trainer. */
int ms_trainer_init(ms_trainer *t, const ms_config *cfg, const ms_data *data, int nthreads);
void ms_trainer_release(ms_trainer *t);
void ms_trainer_set_threads(ms_trainer *t, int nthreads);
/* Run one epoch (stopping early inside it if the rule says so). Fills
 * t->evals and *out; returns -1 when the loss diverged (t->stop set), 1 when
 * cancelled through t->cancel, else 0. */
int ms_trainer_epoch(ms_trainer *t, ms_epoch *out);
/* Loss and accuracy of the current weights over n rows of a dataset. */
void ms_trainer_evaluate(ms_trainer *t, const ms_dataset *s, int n, double *loss, double *acc);

/* Checkpoint of the state at an epoch boundary, in native byte order (read
 * back by the same build on the same machine): this header, the window's
 * losses (wcap doubles), the parameters and the velocity (nparams floats
 * each, or doubles for a float64 run). `identity` is the run's ms_config_identity (its
 * config_hash), `data` the digest of the data it trains on (ms_data),
 * `build` the build's arithmetic: its optimisation level and kernel ISA
 * ("-O3 avx512": MS_BUILD and ms_kernels_isa(); an -O1 sanitizer build or another ISA's
 * kernels may round differently), `checksum` the FNV-1a 64 of the whole checkpoint
 * with `checksum` itself taken as 0. */
#define MS_CK_MAGIC 0x4b43534dU /* "MSCK" */
#define MS_CK_VERSION 5U
typedef struct ms_ck_header {
    uint32_t magic, version;
    uint64_t nparams;
    int64_t step;
    int32_t epoch, stop;
    uint64_t rng[4];
    int32_t wcap, wcount, wpos, pad;
    char build[16]; /* NUL-padded */
    uint64_t identity, data, checksum;
    /* format 5: the trainer's loss_acc and loss_n (format 4 ends before) */
    double loss_acc;
    int64_t loss_n;
} ms_ck_header;

/* The global step of epoch `epoch`'s (1-based) last periodic validation
 * under c's schedule, -1 when it has none. A run's last epoch validates its
 * final weights once more, at its last step, when that is later: the
 * validation a run made longer gives up (register.c). */
int64_t ms_eval_last_periodic(const ms_config *c, int epoch);

/* *blob malloc'd. */
size_t ms_trainer_save(const ms_trainer *t, void **blob);
/* The checksum a checkpoint of n bytes must carry. */
uint64_t ms_checkpoint_checksum(const void *blob, size_t n);
/* Restore a checkpoint of this run, all of it checked first: format,
 * checksum, identity, sizes and every field's range. -1 with the reason in
 * why (nothing printed, t unchanged) when it cannot be used. */
int ms_trainer_restore(ms_trainer *t, const void *blob, size_t n, char *why, size_t whylen);

#endif
