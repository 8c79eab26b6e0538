/* ms_metrics: the records a run produces, as the trainer makes them and the
 * store keeps them (the evals and epochs tables of docs/schema.md), and the
 * names of its vocabulary (src/numeric/metrics.c): statuses, stop reasons, the
 * metrics a figure draws, the results variants are compared on. Their own
 * header, so the store does not depend on the trainer. */
#ifndef MS_METRICS_H
#define MS_METRICS_H

#include <stdint.h>

/* One validation: loss and accuracy over the whole training and validation sets. */
typedef struct ms_eval {
    int64_t step;      /* global step, counted from 0 after the first update */
    int epoch;         /* 0-based epoch the step belongs to */
    double batch_loss; /* mean loss of the batches since the previous validation (across epochs) */
    double train_loss, train_acc, val_loss, val_acc;
} ms_eval;

/* One finished epoch: the metrics of its last validation, and each of
 * its steps' batch loss (the steps table; nsteps 0: none). */
typedef struct ms_epoch {
    int epoch; /* 1-based */
    double train_loss, train_acc, val_loss, val_acc;
    double seconds;
    int64_t first_step;      /* global step of step_loss[0] */
    int nsteps;
    const double *step_loss; /* (nsteps), owned by the trainer */
} ms_epoch;

/* A run's state, runs.status in the database ("pending", ...). */
typedef enum { MS_RUN_PENDING, MS_RUN_RUNNING, MS_RUN_DONE, MS_RUN_FAILED, MS_RUN_NSTATUS } ms_run_status;
/* Its name in the database; "?" for a value out of range. */
const char *ms_run_status_name(ms_run_status st);
/* The status a name stands for; MS_RUN_NSTATUS for NULL or any other text. */
ms_run_status ms_run_status_parse(const char *s);

/* Why a run stopped (runs.stop_reason): the trainer's three, and
 * interrupted, which the scheduler records when a signal stops a run. */
typedef enum {
    MS_STOP_NONE = 0,   /* still running (NULL in the database) */
    MS_STOP_EPOCHS,     /* all epochs done */
    MS_STOP_EARLY,      /* early stopping */
    MS_STOP_DIVERGED,   /* loss not finite */
    MS_STOP_INTERRUPTED, /* SIGINT or SIGTERM: the run is pending again */
    MS_STOP_PRUNED      /* a pruned search stopped its trial at a rung */
} ms_stop;
/* The name in the database ("epochs", "early_stop", "diverged",
 * "interrupted", "pruned"); "" for MS_STOP_NONE or a value out of range. */
const char *ms_stop_name(ms_stop s);
/* The stop reason a name stands for (MS_STOP_NONE has none): 0, or -1 for
 * any other text. */
int ms_stop_parse(const char *s, ms_stop *out);

/* The curves a figure can show: the first MS_METRIC_EVALS from the evals
 * table, step_loss from the steps table (docs/schema.md). */
typedef enum {
    MS_METRIC_BATCH_LOSS, /* mean loss of the training batches since the last validation */
    MS_METRIC_TRAIN_LOSS, /* loss over the whole training set */
    MS_METRIC_VAL_LOSS,
    MS_METRIC_TRAIN_ACC,  /* accuracy over the whole training set */
    MS_METRIC_VAL_ACC,
    MS_METRIC_STEP_LOSS,  /* every step's batch loss, averaged over chunks of steps */
    MS_METRIC_N
} ms_metric;
enum { MS_METRIC_EVALS = MS_METRIC_STEP_LOSS };
/* Names as written in a manifest: "val_loss", ... */
const char *ms_metric_name(ms_metric m);
/* 1 for the two accuracies, 0 for the losses. */
int ms_metric_is_acc(ms_metric m);

/* The per-run results two variants can be compared on (compare, claims:):
 * columns of the run_summary view (docs/schema.md). */
enum { MS_COMPARE_NMETRICS = 7 };
extern const char *const ms_compare_metrics[MS_COMPARE_NMETRICS];

#endif
