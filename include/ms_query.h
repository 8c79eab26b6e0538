/* ms_query: what `status`, `export`, `plot` and `report` read from a study
 * database, returned as plain structs. With the store (the writer), merge.c and
 * scope.c, query.c is one of the modules that speak SQL: the others never see a
 * statement or <sqlite3.h>. Every read runs under ms_store_lock(), checks
 * each step's result (a read that stops early is an error, never a shorter
 * answer) and reports the current runs of one sweep (or those of a scope,
 * ms_scope.h: every run with --all) from the tables of docs/schema.md; a
 * read of several statements (a snapshot, status) is one read transaction,
 * so its parts agree. Every function returns 0, or -1 after one message
 * with ms_error() naming the database. */
#ifndef MS_QUERY_H
#define MS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "ms_manifest.h" /* ms_metric */
#include "ms_scope.h"
#include "ms_stats.h"    /* ms_stat */
#include "ms_store.h"

/* The sweep to report on: `name` when given (it must be in the database),
 * else the database's only sweep. *out is malloc'd (caller frees). */
int ms_query_sweep(ms_store *st, const char *name, char **out);

/* The manifest the sweep last ran with (sweeps.manifest, its command-line
 * settings inside) and the path it was read from, both malloc'd: for `plot`
 * and `report` without a MANIFEST argument, and the report's view of it
 * (the caller parses it with ms_manifest_parse). A sweep that recorded none:
 * 0 with *text and *path NULL. */
int ms_query_manifest(ms_store *st, const char *sweep, char **path, char **text, size_t *len);

/* One variant of the summary table: its settings and, over its runs
 * (seeds), the statistics of each result. */
typedef struct ms_summary_row {
    char *variant, *task, *hidden, *activation, *init;
    char *precision;     /* float32 | float64 */
    char *stop;          /* distinct stop reasons in run order, joined by '/'; a run that
                            has not stopped shows its status (running, pending, failed) */
    double momentum, lr;
    int64_t params, batch;
    int64_t epochs_total, val_per_epoch, early_stop, train_size, val_size;
    int shuffle;
    char *dataset;       /* mnist | fashion-mnist */
    char *grid;          /* the variant whose grid made this one; "" for none (or not known:
                            runs of schema version 3 until the sweep runs again) */
    int seeds;           /* runs of the variant read (its seeds) */
    ms_stat epochs;      /* epochs run */
    ms_stat final_val_acc, best_val_acc, final_train_loss, final_val_loss, final_train_acc;
    ms_stat train_seconds;
} ms_summary_row;

/* A long table of a sweep's current runs, in variant (manifest) order, then
 * run, then epoch or step. Column 0 is the variant (text); the others hold
 * each value both as an integer and as a real, `null` when SQL NULL.
 *   epochs: variant, seed, epoch, step, train_loss, train_acc, val_loss,
 *           val_acc, seconds
 *   evals:  variant, seed, step, epoch, batch_loss, train_loss, train_acc,
 *           val_loss, val_acc
 *   steps:  variant, seed, step, epoch, batch_loss */
enum { MS_QUERY_LONG_COLS = 9 };
typedef struct ms_qcell {
    int null;
    int64_t i;
    double x;
    char *s; /* column 0 only */
} ms_qcell;
typedef struct ms_qtable {
    int nrows;
    ms_qcell *cells; /* nrows x MS_QUERY_LONG_COLS, row-major */
} ms_qtable;

/* The validations of one current run, for the figures: its training-set
 * size and batch (its steps per epoch), and its evals in step order,
 * metrics in ms_metric order (NAN for NULL). */
typedef struct ms_query_eval {
    int64_t step;
    double v[MS_METRIC_N];
} ms_query_eval;
typedef struct ms_query_run {
    int64_t train, batch;
    int n;
    ms_query_eval *evals; /* v[MS_METRIC_STEP_LOSS] is NaN */
    int nsteps;           /* with MS_SNAP_STEP_CURVES: the steps table's rows, by step */
    int64_t *step;
    double *step_loss;
} ms_query_run;
/* A variant's current runs (its seeds) in run order. */
typedef struct ms_variant_curves {
    char *variant;
    int nruns;
    ms_query_run *runs;
} ms_variant_curves;

/* Each current run of a sweep with what a report shows of it, in run order
 * (manifest order): results (NAN: none yet) and where and how it ran. Text
 * fields are "" when the database has none. */
typedef struct ms_query_run_detail {
    char *variant, *task, *status, *stop_reason, *error;
    char *host, *version, *compiler, *started_at, *finished_at;
    int64_t seed, epochs_done, epochs_total, threads; /* threads 0: not recorded */
    double final_val_acc, best_val_acc, final_val_loss, train_seconds;
    int current; /* a run of the sweep's last `run` */
} ms_query_run_detail;

/* When the sweep was first recorded and last updated, and the data its runs
 * trained on ("" for each when not recorded: a database of schema version
 * 2 until its next run). */
typedef struct ms_query_sweep_meta {
    char *created, *updated, *dataset, *data_digest;
} ms_query_sweep_meta;

/* ---- one read snapshot: what export, plot and report render ----
 * ms_snapshot_read reads the parts of a sweep that `what` names in ONE read
 * transaction, so they agree with each other while a sweep writes the file
 * (a report's Results table, its figures and its Variants section show the
 * same runs). A part not asked for is left empty. */
enum {
    MS_SNAP_META = 1 << 0,        /* meta */
    MS_SNAP_RUNS = 1 << 1,        /* runs */
    MS_SNAP_SUMMARY = 1 << 2,     /* summary: one row per variant, in manifest order */
    MS_SNAP_CURVES = 1 << 3,      /* curves: every variant's validations, in manifest order */
    MS_SNAP_STEP_CURVES = 1 << 4, /* with MS_SNAP_CURVES: each run's steps too */
    MS_SNAP_EPOCHS = 1 << 5,      /* the long tables */
    MS_SNAP_EVALS = 1 << 6,
    MS_SNAP_STEPS = 1 << 7,
    MS_SNAP_DECISIONS = 1 << 8, /* decisions: the pruned searches' journal */
};
/* A decision of a pruned search's journal (docs/schema.md), with the
 * search's metric (an epoch row's column: val_loss, ...). */
typedef struct ms_query_decision {
    char *search, *metric;
    int trial, rung, epoch, promote;
    double value; /* NAN: NULL */
} ms_query_decision;
typedef struct ms_snapshot {
    char *db, *sweep; /* the database's path (ms_store_path) and the sweep */
    ms_query_sweep_meta meta;
    int nruns, nsummary, ncurves;
    ms_query_run_detail *runs;
    ms_summary_row *summary;
    ms_variant_curves *curves;
    ms_qtable epochs, evals, steps;
    int ndecisions;
    ms_query_decision *decisions; /* by search, trial, rung */
    int all; /* read with --all's scope: every run, VARIANT@N for earlier settings */
} ms_snapshot;
int ms_snapshot_read(ms_store *st, const char *sweep, unsigned what, ms_snapshot *out);
/* The same for the runs of a scope (NULL: the current runs): variant names
 * are then the scope's (ms_scope.h). */
int ms_snapshot_read_in(ms_store *st, const char *sweep, unsigned what, const ms_scope *scope,
                        ms_snapshot *out);
void ms_snapshot_release(ms_snapshot *s);
/* The curves of a variant in s (NULL: it has no current run, or curves
 * were not read); don't free. */
const ms_variant_curves *ms_snapshot_curves(const ms_snapshot *s, const char *variant);

/* What `status` shows: each current run (run_progress), then each sweep
 * (sweep_status). Text fields are the database's, as stored, except that a
 * run marked running whose process is gone shows status "interrupted" (and
 * counts as interrupted, not running): when the store was opened with
 * MS_STORE_LIVENESS and no process holds the writer lock, or the run's pid
 * on this host no longer exists. */
typedef struct ms_query_run_row {
    char *variant, *task, *status, *epochs, *stop_reason, *error;
    int64_t seed;
    double last_val_acc; /* NAN: no epoch yet */
    int sweep;           /* its row in sweeps */
    int current;         /* a run of the sweep's last `run` (else listed by --all's scope) */
} ms_query_run_row;
typedef struct ms_query_sweep_row {
    char *sweep;
    int64_t runs, done, running, pending, failed, interrupted, epochs_done, epochs_total;
    double train_seconds;
    char *dataset, *data_digest; /* "" when not recorded yet */
    int stalled; /* no live writer, and a run of it was interrupted (killed, or
                    stopped by a signal): its pending runs wait for a new `run` */
    int64_t earlier; /* runs of earlier invocations (current = 0), not counted above */
} ms_query_sweep_row;
/* Both read in one transaction. */
typedef struct ms_query_status {
    int nruns, nsweeps;
    int writer_live; /* ms_store_writer_live() */
    ms_query_run_row *runs;
    ms_query_sweep_row *sweeps;
} ms_query_status;
int ms_query_status_read(ms_store *st, ms_query_status *out);
/* With a scope (NULL: the current runs; `all`: every run, each named as
 * ms_scope.h says, `current` telling them apart). The sweeps' counts are
 * of their current runs either way. */
int ms_query_status_read_in(ms_store *st, const ms_scope *scope, ms_query_status *out);
void ms_query_status_release(ms_query_status *p);

#include "ms_metrics.h" /* ms_compare_metrics */

/* One value per finished (done) run of a variant (a name of the scope;
 * NULL: the current runs), by seed in increasing order: the metric (one of
 * ms_compare_metrics) of each. *seeds and *vals are malloc'd (n may be 0). */
int ms_query_seed_values(ms_store *st, const char *sweep, const ms_scope *scope,
                         const char *variant, int metric, uint64_t **seeds, double **vals, int *n);

#endif
