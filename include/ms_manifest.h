/* ms_manifest: a study manifest (YAML) describing variants x seeds.
 *
 * Loading validates everything before anything runs: every problem is
 * reported as one line "FILE:LINE:COLUMN: message" (1-based), so a typo in
 * variant 9 is found before variant 1 trains for an hour. The format is
 * documented in experiments/tdt4265_a2.yaml. Only src/manifest/tree.c sees
 * libyaml. */
#ifndef MS_MANIFEST_H
#define MS_MANIFEST_H

#include "ms_config.h"
#include "ms_metrics.h" /* ms_metric */

#include <stddef.h>
#include <stdint.h>

#define MS_MANIFEST_MAX_BYTES (1024 * 1024) /* larger files are refused unread */
#define MS_NAME_MAX 64 /* characters in a sweep, variant or figure name */
#define MS_LABEL_MAX 256 /* characters in a variant's label (legends), the manifest's title */
#define MS_DESCRIPTION_MAX 4096 /* characters in the manifest's description */
#define MS_MANIFEST_MAX_RUNS 100000         /* variants x seeds at most */

typedef struct ms_variant {
    char *name;      /* unique within the manifest; [A-Za-z0-9_.-]+, no leading '.' */
    char *task;      /* free text like "2c", may be "" */
    char *label;     /* what legends call it (`label:`); NULL: the name */
    char *grid_of;   /* the variant whose grid made this one (NAME.KEY-VALUE), or NULL */
    int pruned;      /* a trial of a search with `prune:` (its rules in prune) */
    ms_prune prune;
    int trial, trials; /* a search's trial: its index (NAME.tK is K - 1), the trials drawn */
    ms_config cfg;   /* effective config: defaults overridden by the variant;
                        train_size/val_size from data; cfg.seed unused */
    int nseeds;
    uint64_t *seeds; /* one run per seed */
    int line, col;   /* 1-based position of the variant's mapping, for messages */
} ms_variant;

#define MS_PLOT_MAX_PANELS 8
/* Curves in all figures together, after grids replaced the variants they
 * made (ten figures of MS_MANIFEST_MAX_RUNS each). */
#define MS_PLOT_MAX_CURVES 1000000
/* step_loss points average this many steps unless a figure says otherwise:
 * the course's plot_loss(..., npoints_to_average=10). */
#define MS_STEP_AVERAGE 10
#define MS_PLOT_X_AUTO (-1)

/* One panel of a figure: its curves, all losses or all accuracies. */
typedef struct ms_plot_panel {
    int nmetrics;
    ms_metric metrics[MS_METRIC_N];
} ms_plot_panel;

/* A figure of the manifest's `plots:` section (see experiments/tdt4265_a2.yaml). */
typedef struct ms_plot {
    char *name;      /* file names NAME.png, .svg, .pdf ([A-Za-z0-9_.-]+, no leading '.',
                        unique) */
    char *title;     /* defaults to the name */
    int nvariants;
    char **variants; /* in drawing order; the reference, if any, is one of them */
    int reference;   /* index into variants of the reference curve, or -1 */
    int x_epoch;     /* x axis: 0 = step, 1 = epoch (fractional: steps done / steps per epoch),
                        MS_PLOT_X_AUTO: not stated, epoch when the variants' batch sizes differ
                        (their steps are not comparable then), else step */
    int log_loss;    /* loss panels on a log scale */
    int step_average; /* step_loss: steps per point (1: every step), MS_STEP_AVERAGE by default */
    int npanels;
    ms_plot_panel panels[MS_PLOT_MAX_PANELS];
    int line, col;   /* 1-based position of the plot's mapping */
} ms_plot;

/* One claim of the `claims:` section: variant a's metric is higher (sign
 * +1) or lower (-1) than variant b's, over the seeds both ran. */
typedef struct ms_claim {
    char *a, *b, *text; /* text: what the claim says in words, may be NULL */
    int metric;         /* index into ms_compare_metrics */
    int sign;
    int line, col;
} ms_claim;

typedef struct ms_manifest {
    char *path;     /* as given */
    char *text;     /* the bytes parsed, NUL-terminated (what a sweep stores) */
    char *name;     /* the manifest's `name:` ([A-Za-z0-9_.-]+, no leading '.'): db/NAME.db */
    char *title;       /* `title:`, the report's heading; NULL: none */
    char *description; /* `description:`, the report's first paragraph; NULL: none */
    int nsettings;  /* the `settings:` list, then the command line's, each KEY=VALUE as */
    char **settings; /* written (what a recorded manifest's settings: list holds) */
    char *data_dir; /* data.dir, relative to the manifest's folder; default "data" (the
                       current folder's), data_line 0 */
    int data_line, data_col; /* where data.dir is written */
    int dataset;             /* data.dataset: MS_DATASET_*, MNIST by default */
    int dataset_stated;      /* written in the manifest: the data's identity is checked */
    int train, val; /* data.train (default 20000), data.val (default 10000) */
    int nvariants;
    ms_variant *variants;
    int nplots;     /* the `plots:` section, in file order; 0 when absent */
    ms_plot *plots;
    int nclaims;    /* the `claims:` section, in file order */
    ms_claim *claims;
} ms_manifest;


/* Parse and validate a file. On failure prints every error found, one line
 * each, returns -1 and leaves m released (safe to release again).
 * check_data_dir: when nonzero, data.dir must exist and be a directory. */
int ms_manifest_load(const char *path, ms_manifest *m, int check_data_dir);
/* Same, from an in-memory buffer; `path` is only used in messages. */
int ms_manifest_parse(const char *path, const char *text, size_t len, ms_manifest *m,
                      int check_data_dir);
/* The same with settings from the command line, each "KEY=VALUE" (every
 * variant) or "VARIANT.KEY=VALUE" (one), applied after the manifest's own
 * values; "KEY=V1,V2" (commas outside [] and quotes) is a grid: the variant
 * becomes one variant per value, named VARIANT.KEY-V1, ... Values are YAML
 * flow text (hidden=[128,128]) checked by the manifest's rules; a message
 * names the argument: "argument 'lr=-1': lr: ...". m->text then holds the
 * manifest with the settings added as its `settings:` list, which parsed
 * alone gives the same variants (what a sweep records). */
int ms_manifest_parse_args(const char *path, const char *text, size_t len, char *const *args,
                           int nargs, ms_manifest *m, int check_data_dir);
int ms_manifest_load_args(const char *path, char *const *args, int nargs, ms_manifest *m,
                          int check_data_dir);
void ms_manifest_release(ms_manifest *m);
/* A setting of the command line as written ("KEY=VALUE", "VARIANT.KEY=V1,V2"):
 * 1 when it is a grid (several values), else 0; 1 when it applies to the
 * variant called `variant`, which the grid of variant `grid` (NULL: none)
 * made: it names no variant, or one of those two. */
int ms_manifest_setting_grid(const char *arg);
int ms_manifest_setting_for(const char *arg, const char *variant, const char *grid);
/* Variants x seeds in manifest order (variant-major, seeds as listed).
 * Returns the count; *out is malloc'd (caller frees) and points into m. */
int ms_manifest_expand(const ms_manifest *m, ms_run_spec **out);

/* For a manifest without a `plots:` section: the figures `plot` draws by
 * default, one per task (in order of first appearance; "task_4a", titled
 * "Task 4a") when variants have tasks, else one ("curves") of every
 * variant; each with a loss panel (training and validation loss) and a
 * validation accuracy panel. Does nothing when m has figures. */
void ms_manifest_default_plots(ms_manifest *m);

/* Every item of a comma list (run --only, plot --variants) names a variant
 * of m, or a variant with a grid (all it made); else -1 after "OPT: no
 * variant 'x' in 'm.yaml'" and the likely name. */
int ms_manifest_check_variants(const ms_manifest *m, const char *list, const char *opt);
/* 1 when the variant called `name` is in such a list, by its name or its grid's. */
int ms_manifest_listed(const ms_manifest *m, const char *name, const char *list);

/* plot --variants: keep in every figure only the variants of a comma list
 * (a reference not listed is dropped; a figure left with none is removed).
 * 0, or -1 after one message naming a variant the manifest lacks. */
int ms_manifest_keep_variants(ms_manifest *m, const char *list);
/* --only LIST: of specs[0..*n) (ms_manifest_expand's), keep those of the
 * variants LIST names (a grid's name: all it made), in order; -1 after a
 * message naming an unknown one. `run` and `slurm` select alike. */
int ms_manifest_only(const ms_manifest *m, const char *list, ms_run_spec *specs, int *n);
/* 1 when name is a key a setting (KEY=VALUE) may set: lr, momentum, ... */
int ms_manifest_is_key(const char *name);

/* plot --all, and plot --variants naming runs of an earlier invocation:
 * m's figures drawn for the groups of runs `names` (VARIANT, or VARIANT@N
 * for a variant's earlier settings; ms_scope.h): in each figure every
 * variant V becomes those of names that are V or V@N (V first), a figure
 * left with none is removed; the names whose variant is not one of m's go
 * in one more figure, `earlier` (the default panels). */
void ms_manifest_plot_names(ms_manifest *m, char *const *names, int n);

/* ==== The manifest's rules on stored values (merge, issue 22) ====
 * A database holds what manifests produced; a file from elsewhere (a shard
 * to merge) may hold anything. These check its values with the rules that
 * check a manifest, as a manifest holding them would be checked: a number or
 * a boolean as plain YAML, a text as a quoted string. */

/* A value as SQLite holds it (a JSON true or false: a boolean). */
typedef enum { MS_SV_NULL, MS_SV_INT, MS_SV_REAL, MS_SV_TEXT, MS_SV_BLOB, MS_SV_BOOL } ms_stored_kind;
typedef struct ms_stored {
    ms_stored_kind kind;
    int64_t i;     /* MS_SV_INT; MS_SV_BOOL: 0 or 1 */
    double d;      /* MS_SV_REAL */
    const char *s; /* MS_SV_TEXT: len bytes (a NUL inside is refused), not necessarily terminated */
    size_t len;
} ms_stored;

/* What a manifest sets of one run: the variant's name and task, the seed,
 * each setting (hidden as a database holds it, "64,64"), and data.train,
 * data.val, data.dataset (MS_SV_NULL: MNIST, whose runs do not name it). */
enum {
    MS_SF_VARIANT, MS_SF_TASK, MS_SF_SEED, MS_SF_HIDDEN, MS_SF_ACTIVATION, MS_SF_INIT, MS_SF_LR,
    MS_SF_MOMENTUM, MS_SF_BATCH, MS_SF_EPOCHS, MS_SF_VAL_PER_EPOCH, MS_SF_EARLY_STOP,
    MS_SF_SHUFFLE, MS_SF_PRECISION, MS_SF_TRAIN, MS_SF_VAL, MS_SF_DATASET, MS_SF_N
};

/* A name (a sweep's) by the rule of `name:`, its messages starting "KEY: ".
 * 0, or -1 with the rule it breaks in why ("name: 'a/b' may only contain
 * ..."). Prints nothing. */
int ms_manifest_stored_name(const ms_stored *v, const char *key, char *why, size_t n);
/* A run: 0 and its configuration in *cfg (its seed, data sizes and dataset
 * included) when a manifest could have made it; else -1 with the first rule
 * it breaks in why, as the manifest states it ("lr: must be a finite number
 * > 0 (got -0.5)"; the variant's name as "variant: ..."). Prints nothing. */
int ms_manifest_stored_run(const ms_stored f[MS_SF_N], ms_config *cfg, char *why, size_t n);

#endif
