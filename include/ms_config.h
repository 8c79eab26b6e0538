/* ms_config: the effective settings of one training run.
 *
 * A config is plain data: the `train` command fills it from options, the
 * manifest module from YAML. Defaults are the course baseline (task 2c). */
#ifndef MS_CONFIG_H
#define MS_CONFIG_H

#include "ms_prune.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_MAX_HIDDEN 64 /* hidden layers at most */
#define MS_MAX_WIDTH 65536 /* units in one layer at most */
#define MS_CLASSES 10
/* Weights a float32 run may have: its checkpoint (weights and velocity, 8
 * bytes a weight) is one SQLite value, at most 1,000,000,000 bytes by
 * default. A float64 run, 16 bytes a weight, half as many: ms_max_params. */
#define MS_MAX_PARAMS 124000000LL

/* The arithmetic of training, as a version. A run's configuration (and so
 * its identity, config_hash) includes it, so a database never mixes results
 * of two: a newer mlpsweep trains such a run afresh instead of resuming it.
 *   1  dense float32 products (mlpsweep before the sparse first layer)
 *   2  the first layer over the nonzero pixels (ms_sp_* in ms_kernels.h)
 *   3  tanh as expm1(2|y|) / (expm1(2|y|) + 2) (src/numeric/mlp_fastmath.h), and
 *      evaluation in label order (ms_dataset's eorder)
 *   4  the same tanh with a degree-4 fitted polynomial in expm1
 *   5  the same tanh, its k = round(x / ln2) by the shifter (ties to even) */
#define MS_NUMERICS 5

typedef enum { MS_ACT_SIGMOID = 0, MS_ACT_IMPROVED_SIGMOID = 1, MS_ACT_N } ms_activation;
typedef enum { MS_INIT_UNIFORM = 0, MS_INIT_FANIN_NORMAL = 1, MS_INIT_N } ms_init;
/* The arithmetic a run trains in: float32 (our fast kernels, polynomial
 * exp/tanh) or float64 (every value a double, the C library's exp and tanh:
 * the course's NumPy arithmetic). */
typedef enum { MS_PREC_F32 = 0, MS_PREC_F64 = 1, MS_PREC_N } ms_precision;
/* What a finished run keeps (the manifest's `keep`): its metrics only, or its
 * last checkpoint too. Not a setting of the run: ms_config_json leaves it out,
 * so a run is the same run whatever it keeps. */
typedef enum { MS_KEEP_METRICS = 0, MS_KEEP_STATE = 1, MS_KEEP_N } ms_keep;

#define MS_MAX_TRAIN 60000 /* images in the MNIST training set */
#define MS_MAX_COUNT (1 << 20) /* batch, epochs, val_per_epoch, early_stop at most */
#define MS_MAX_VAL 10000   /* images in the MNIST test set (our validation set) */
/* The largest seed: the database stores one as an SQLite INTEGER, signed
 * 64-bit (a larger one would come back negative). The manifest's seeds and
 * train's --seed are checked against it. */
#define MS_MAX_SEED ((uint64_t)INT64_MAX)

typedef struct ms_config {
    int nhidden;                /* number of hidden layers (>= 0) */
    int hidden[MS_MAX_HIDDEN];  /* units per hidden layer */
    ms_activation activation;
    ms_init init;
    double lr;                  /* learning rate (> 0) */
    double momentum;            /* gamma in [0, 1); 0 = plain SGD */
    int batch;                  /* mini-batch size */
    int epochs;
    int val_per_epoch;          /* validations per epoch (>= 1) */
    int early_stop;             /* validations without improvement; 0 = off */
    bool shuffle;               /* reshuffle the training order each epoch */
    uint64_t seed;
    int train_size;             /* first N training images */
    int val_size;               /* first N validation images */
    int dataset;                /* MS_DATASET_*: the manifest's data.dataset */
    ms_precision precision;
    ms_keep keep;               /* not in the JSON: no part of the run's identity */
} ms_config;

/* The datasets a manifest may name (data.dataset); MNIST is the default,
 * and a run's configuration names the dataset only when it is another. */
enum { MS_DATASET_MNIST, MS_DATASET_FASHION, MS_DATASET_N };
extern const char *const ms_dataset_names[MS_DATASET_N];  /* as written: mnist */
extern const char *const ms_dataset_titles[MS_DATASET_N]; /* in messages: MNIST */

/* One run of a sweep: the variant's name and task with its effective
 * configuration (cfg.seed the run's seed, train_size/val_size from the
 * data). The type a run keeps from plan to store to scheduler: the manifest
 * expands into these, the store registers them, the scheduler trains them. */
typedef struct ms_run_spec {
    const char *variant; /* points into the manifest: keep it alive */
    const char *task;    /* NULL is stored as "" */
    ms_config cfg;
    const char *grid;    /* the variant whose grid made this one, or NULL (runs.grid) */
    const ms_prune *prune; /* a pruned search's trial: the search's pruning, else NULL */
    int trial, trials;     /* then the trial's index (0 for NAME.t1) and the search's count */
} ms_run_spec;

/* The course baseline: [64] sigmoid, U(-1,1), lr 0.1, batch 32, 50 epochs. */
void ms_config_default(ms_config *c);

/* The names of the choices, indexed by their enums: the manifest, `train`'s
 * options, the database and the exports all spell them from here. */
extern const char *const ms_activation_names[MS_ACT_N];
extern const char *const ms_init_names[MS_INIT_N];
extern const char *const ms_precision_names[MS_PREC_N]; /* float32, float64 */
extern const char *const ms_keep_names[MS_KEEP_N];      /* metrics, state */
const char *ms_activation_name(ms_activation a);
const char *ms_init_name(ms_init i);
/* The index of s among n names (one of the lists above), or -1. */
int ms_name_index(const char *const *names, int n, const char *s);

/* The rule a value breaks, as messages state it ("must be in [0, 1)"), or
 * NULL when it follows it: the one place for these ranges, which manifest
 * values, `train`'s options and ms_config_validate all check. */
const char *ms_lr_rule(double lr);
const char *ms_momentum_rule(double momentum);

/* The most weights a run of that precision may have. */
int64_t ms_max_params(ms_precision p);

/* Number of weights: sum of fan_in * fan_out with input width 785. */
int64_t ms_config_params(const ms_config *c, int input_width);

/* Hidden sizes as "64,64" into buf. */
void ms_config_hidden_str(const ms_config *c, char *buf, size_t n);
/* The same list for reading: "10x64" for more than two layers of one width,
 * else the list as is ("64,64"); list is ms_config_hidden_str's form. */
void ms_hidden_short(const char *list, char *buf, size_t n);

/* Canonical JSON of every setting that affects results (stable key order),
 * MS_NUMERICS included. */
char *ms_config_json(const ms_config *c); /* caller frees */
/* The same as the mlpsweep of numerics version `numerics` wrote it (1, the
 * first builds: without the key), for the runs of older builds that a
 * database keeps. */
char *ms_config_json_at(const ms_config *c, int numerics); /* caller frees */

/* A run's identity: ms_hash64 of its configuration's JSON (ms_config_json's,
 * or ms_config_json_at's for a run an older build stored). A checkpoint
 * records the number; the database's runs.config_hash is its 16 lowercase
 * hex digits, written to hex unless it is NULL. */
uint64_t ms_config_identity(const char *json, char hex[17]);

/* One-line check of value ranges; prints the first problem and returns -1. */
int ms_config_validate(const ms_config *c);

#endif
