/* ms_store: the study database, one SQLite file per sweep (docs/schema.md).
 *
 * The schema is a public interface: users query the file with the plain
 * `sqlite3` shell while the sweep runs (WAL mode, so readers never block the
 * writer and the writer never blocks readers). An epoch is the unit of
 * durability: its row, its validations, the checkpoint and the run's progress
 * are committed in ONE transaction, so after a crash or `kill -9` the file
 * holds every finished epoch and a checkpoint that matches the last one.
 *
 * One ms_store is shared by every worker thread of the process: each public
 * function takes the store's mutex, so all of them are thread-safe. Every
 * function returns 0 or -1 after printing one message with ms_error(). The
 * reads for status, export and plot are in ms_query.h; <sqlite3.h> is
 * included in src/db/ only. */
#ifndef MS_STORE_H
#define MS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"
#include "ms_metrics.h"

typedef struct ms_store ms_store;

/* The data a sweep's runs train on: the dataset's name (MS_DATASET_*'s) and
 * the digest of its four files as read (ms_data.identity, 16 hex digits);
 * dir only names where it was found in messages. */
typedef struct ms_data_ident {
    const char *dataset, *digest, *dir;
} ms_data_ident;

#define MS_STORE_SCHEMA_VERSION 6 /* PRAGMA user_version of the files we write */

enum {
    MS_STORE_CREATE = 1,  /* create the file if missing (its folder must exist, except `db`) */
    MS_STORE_READONLY = 2, /* read only, never create (status, export) */
    MS_STORE_NOCHECK = 4,  /* no quick check at open (check --db runs the full one) */
    MS_STORE_LIVENESS = 8  /* note whether another process is writing (ms_store_writer_live);
                              never while this process has the file open elsewhere */
};

/* Open (and with MS_STORE_CREATE create) a study database. Checks that the
 * file is an mlpsweep database of a version we understand; a new or empty
 * file gets the schema. Flags 0 opens an existing file for writing. A
 * writer holds the database's writer lock (ms_db_lock) until it is closed:
 * "another mlpsweep is writing to 'PATH'" when a live process has it. */
int ms_store_open(const char *path, int flags, ms_store **out);
/* Before a run opens a database for writing (which may upgrade it), read
 * only: 0 when path is missing or empty (to be created), or is a sound
 * mlpsweep database whose sweep, if it holds it, trained on this data (as
 * ms_store_sweep checks it); else -1 with the reason printed. So a run on
 * other data is refused before the file is even upgraded. */
int ms_store_probe_data(const char *path, const char *sweep, const ms_data_ident *data);
void ms_store_close(ms_store *s); /* NULL is fine */
/* Close a writer and remove its file (with -wal, -shm, -journal) while
 * still holding the lock: for a database this process created and then
 * failed to fill (merge). NULL is fine. */
void ms_store_discard(ms_store *s);
const char *ms_store_path(const ms_store *s); /* as given to open; don't free */
/* Opened with MS_STORE_LIVENESS: 1 when another process held the writer
 * lock at that moment (its runs marked running are live), else 0; -1 when
 * opened without that flag. */
int ms_store_writer_live(const ms_store *s);

/* The store's mutex, for a sequence of calls that must not interleave with
 * another thread's (ms_query takes it around each of its reads). */
void ms_store_lock(ms_store *s);
void ms_store_unlock(ms_store *s);

/* PRAGMA integrity_check and foreign_key_check, and that every run's
 * epochs_done matches its epoch rows and its checkpoint; error if not. */
int ms_store_check(ms_store *s);

/* Record the sweep: insert it, or update manifest path, text and updated_at.
 * With data: a sweep that has trained on other data is refused (nothing
 * written; "sweep 'S' in 'DB' was trained on ..."), one with none recorded
 * (new, or made before schema version 3) gets this data. */
int ms_store_sweep(ms_store *s, const char *name, const char *manifest_path,
                   const char *manifest_text, const ms_data_ident *data, int64_t *sweep_id);

typedef struct ms_run_info {
    int64_t id;
    ms_run_status status;
    int epochs_done;
    int64_t steps_done;
    int epochs_total;
    ms_stop stop_reason;  /* MS_STOP_NONE when NULL */
    int is_new;           /* inserted by this call */
    int replaced;         /* a run of the same variant and seed with another config
                             exists (it is now current = 0) */
    int64_t same_as;      /* runs.same_as: the run whose results it took, or 0 */
    char same_as_variant[128]; /* that run's variant ("" when none; cut if longer) */
    int taken;            /* this call gave it the results of run same_as */
    int longer;           /* this call made it continue run same_as, a run of the same
                             pruned trial with fewer epochs (its search's max raised) */
    char hash[17];        /* its config_hash */
} ms_run_info;


/* Mark every run of the sweep current = 0, then register each key: insert it
 * if its (variant, seed, config hash) is new, else keep its row (and its
 * progress); mark it current = 1 and update its task and grid. Then, as
 * ms_store_take_twin: a run neither done nor failed takes the results of a
 * run of another variant with the same seed and config hash that is further.
 * One transaction for all keys; out[i] describes keys[i]. */
int ms_store_register(ms_store *s, int64_t sweep_id, const ms_run_spec *runs, int n,
                      ms_run_info *out);

/* A run and its twin, a run of the same sweep, seed and config hash under
 * another variant name: training depends on the settings, the seed and the
 * data only, so both train to the same numbers. In one transaction: when
 * the run is neither done nor failed and a twin is further (done, or more
 * epochs) and not failed, the run takes the furthest twin's results (a done
 * one first): its epochs, evals, steps, the checkpoint of an unfinished
 * twin (so it resumes from there bit for bit), its status, counters, times
 * and provenance, with same_as = the twin's id; out->taken says so. */
int ms_store_take_twin(ms_store *s, int64_t run_id, ms_run_info *out);

/* 1 when the database at path holds every one of runs[0..n) of the sweep,
 * done; 0 otherwise, silently (no file, another kind of file, an error):
 * `run` then needs no data. */
int ms_store_all_done(const char *path, const char *sweep, const ms_run_spec *runs, int n);

/* 1 when the sweep holds a run of (variant, seed, config hash) as k's, 0
 * when not, -1 on an error. */
int ms_store_has_run(ms_store *s, int64_t sweep_id, const ms_run_spec *k);

/* The run's row as ms_run_info (is_new, replaced and taken are 0). */
int ms_store_run(ms_store *s, int64_t run_id, ms_run_info *out);

typedef struct ms_provenance {
    const char *version, *compiler, *host;
    long pid;
    int threads;
} ms_provenance;

/* Group commit for a sweep's workers: between ms_store_async_begin and
 * ms_store_async_end, ms_store_start_run, _commit_epoch and _set_status check their arguments, queue a copy of the write and return;
 * a writer thread commits everything queued in one transaction (one fsync
 * for many epochs). A batch that fails is rolled back whole: its message is
 * printed then, and every later write (and _end) returns -1. Reads see only
 * committed writes. _end commits what is queued; ms_store_close calls it. */
/* Publish the database while a sweep writes it (a cluster task's shard,
 * docs/slurm.md): after a commit, once every_epochs epochs (0: never by
 * epochs) or every_seconds seconds (0: never by time) have passed since the
 * last copy, the committed database is copied to dest (a temporary name in
 * its folder, then renamed: one self-contained file); ms_store_publish_last
 * makes the last copy (when the sweep ends, interrupted or not). dest must be, at each copy,
 * the file the store last wrote there, or found at this call: else the
 * write fails and the sweep stops (two tasks never write one copy).
 * ms_store_publish_stats: the copies made and the seconds they took. */
int ms_store_publish_to(ms_store *s, const char *dest, int every_epochs, double every_seconds);
int ms_store_publish_last(ms_store *s);
void ms_store_publish_stats(ms_store *s, int *copies, double *seconds);
int ms_store_async_begin(ms_store *s);
int ms_store_async_end(ms_store *s);

/* pending, running or failed -> running: sets started_at (if NULL) and the
 * provenance, clears error, stop_reason and finished_at. A done run is an
 * error (reset it first). */
int ms_store_start_run(ms_store *s, int64_t run_id, const ms_provenance *p);

/* The run's checkpoint: *blob malloc'd (caller frees), *epoch the epoch it
 * was taken after. No checkpoint: *blob NULL, *n 0, *epoch 0. */
int ms_store_load_checkpoint(ms_store *s, int64_t run_id, void **blob, size_t *n, int *epoch);
/* The run's count of finished epochs, its number of epoch rows and the
 * epoch of its checkpoint (0: none); they agree unless the file was edited:
 * rows = epochs_done, and the checkpoint's epoch is epochs_done or there is
 * none (a finished run). */
int ms_store_run_rows(ms_store *s, int64_t run_id, int *epochs_done, int *rows, int *ck_epoch);
/* Metric `metric` (ms_metric: train_loss, val_loss, train_acc or val_acc)
 * of the run's epochs 1..n into v[0..n) (NaN where no row is); 0, or -1
 * after a message. */
int ms_store_epoch_values(ms_store *s, int64_t run_id, int metric, double *v, int n);

/* ---- a pruned search's journal (journal.c; docs/search.md) ---- */

/* One decision at a rung: trial K of NAME.tK (1-based), its bracket's
 * rung r (0-based) at `epoch` epochs, the trial's value there (the mean of
 * its seeds'; NaN is stored NULL), its rank in a cohort of `cohort`, and
 * `seq`, its place in a serial run's order (ms_prune_seq). */
typedef struct ms_rung_row {
    const char *search;
    int trial, rung, bracket, epoch;
    double value;
    int rank, cohort, promote;
    long long seq;
} ms_rung_row;

/* Before anything of a sweep is written: 0 when the search NAME of the
 * sweep (by its name) is new or its stored rules allow p and trials (the
 * same, a higher max, and under ASHA other trials), else -1 after a
 * message naming the change. */
int ms_store_search_allows(ms_store *s, const char *sweep, const char *name, int trials,
                           const ms_prune *p);
/* The search NAME of the sweep with its rules (ms_prune) and trial count,
 * made or updated: with a higher max its decisions are dropped (taken
 * again), with fewer trials those of the dropped trials. 0, or -1 after a
 * message. */
int ms_store_search(ms_store *s, int64_t sweep_id, const char *name, int trials,
                    const ms_prune *p);
/* The rows, each kept once (a decision recomputed after a resume is the
 * same row): one transaction. 0, or -1 after a message. */
int ms_store_put_decisions(ms_store *s, int64_t sweep_id, const ms_rung_row *rows, int n);

/* What `verify` reads back: a sweep's searches (name and rules; every
 * sweep's when sweep is NULL), the
 * current runs of one (ordered by trial, then seed) and its decisions
 * (ordered by seq; their `search` NULL). Arrays malloc'd; free a search
 * list with ms_store_searches_free. 0, or -1 after a message. */
typedef struct ms_search_rec {
    char *sweep; /* its sweep: the name and id */
    int64_t sweep_id;
    char *name;
    int trials;
    ms_prune prune;
} ms_search_rec;
typedef struct ms_search_run {
    int64_t run_id;
    int trial; /* 0-based */
    uint64_t seed;
    ms_run_status status;
    int epochs_done;
    ms_stop stop;
} ms_search_run;
int ms_store_searches(ms_store *s, const char *sweep, ms_search_rec **out, int *n);
void ms_store_searches_free(ms_search_rec *r, int n);
int ms_store_search_runs(ms_store *s, const char *sweep, const char *search, ms_search_run **out,
                         int *n);
int ms_store_decisions(ms_store *s, const char *sweep, const char *search, ms_rung_row **out,
                       int *n);

/* Commit one finished epoch in ONE transaction: the epoch row (its step is
 * the step of the last of evals, or step_at_end without evals), the evals
 * (each must belong to epoch e->epoch, i.e. evals[i].epoch == e->epoch - 1),
 * the checkpoint (replaced; ckpt NULL deletes it, so a checkpoint always
 * matches epochs_done), and the run's epochs_done = e->epoch, steps_done =
 * step_at_end (updates done), train_seconds += e->seconds, updated_at. With
 * stop_reason (MS_STOP_EPOCHS, _EARLY or _DIVERGED) the run becomes done with
 * that reason and finished_at. The run must be running and e->epoch must be
 * epochs_done + 1; an epoch already stored is an error and changes nothing.
 * Doubles are stored bit for bit; a NaN loss is stored as NULL. */
int ms_store_commit_epoch(ms_store *s, int64_t run_id, const ms_epoch *e, int64_t step_at_end,
                          const ms_eval *evals, int nevals, const void *ckpt, size_t ckpt_n,
                          ms_stop stop_reason);

/* Set status, stop_reason (MS_STOP_NONE for NULL, or any ms_stop
 * including MS_STOP_INTERRUPTED) and error (NULL clears). done and failed set finished_at,
 * the others clear it. E.g. failed with an error text, or pending with
 * "interrupted" after SIGINT. */
int ms_store_set_status(ms_store *s, int64_t run_id, ms_run_status status, ms_stop stop_reason,
                        const char *error);


/* Delete the run's epochs, evals and checkpoint and reset it to pending with
 * no progress (provenance is kept). */
int ms_store_reset_run(ms_store *s, int64_t run_id);

#endif
