/* The db layer's private header: what the files of src/db/ share beyond
 * ms_store.h and ms_query.h, which are all the rest of src/ sees. Include
 * after <sqlite3.h>. */
#ifndef MS_STORE_DB_H
#define MS_STORE_DB_H

#include <stdint.h>

#include "ms_metrics.h"
#include "ms_store.h"

/* ---- store.c: an open store, for the other modules that speak SQL
 * (query.c and scope.c read, merge.c copies runs across databases) ---- */

sqlite3 *ms_store_handle(ms_store *s);
/* Under ms_store_lock (merge.c's one transaction, on the store's own
 * statements): BEGIN IMMEDIATE and COMMIT, -1 after "<what> in '<path>':
 * <sqlite message>"; finish resets every statement of the store and rolls
 * back a transaction still open. */
int ms_store_begin(ms_store *s, const char *what);
int ms_store_commit(ms_store *s, const char *what);
void ms_store_finish(ms_store *s);
/* ms_store_finish, then the mutex let go: the last call of every public
 * function that takes it (ms_store_lock); returns rc. */
int ms_store_leave(ms_store *s, int rc);
/* Inside a transaction: delete the run's steps, evals, epochs and
 * checkpoint (a reset, or a run replaced by a merge); the same message. */
int ms_store_clear_run(ms_store *s, int64_t run_id, const char *what);
/* Under the mutex: the run's row into out (is_new, replaced and taken 0);
 * 1 when it exists, 0 when not, -1 after "<what> ..." on an error. */
int ms_store_get_run(ms_store *s, int64_t run_id, ms_run_info *out, const char *what);

/* ---- register.c: the runs of a sweep registered, and the results of a
 * run taken by another of the same settings; its statements, prepared by
 * ms_store_open (tolerant: an older file read-only, which never writes,
 * may lack what they name: those stay NULL), reset by ms_store_finish. */
typedef struct ms_reg ms_reg;
int ms_reg_prepare(sqlite3 *db, int tolerant, ms_reg **out);
void ms_reg_reset(ms_reg *r); /* NULL is fine */
void ms_reg_free(ms_reg *r);  /* NULL is fine */
ms_reg *ms_store_reg(ms_store *s); /* the store's (store.c) */

/* One write of a run as a value (store.c): what ms_store_start_run,
 * _commit_epoch and _set_status do. Borrowed pointers when
 * applied at once; the writer's own copies when queued. */
typedef enum { MS_WRITE_START, MS_WRITE_EPOCH, MS_WRITE_STATUS } ms_write_kind;
typedef struct ms_write {
    ms_write_kind kind;
    int64_t run_id;
    ms_provenance prov;     /* START */
    ms_epoch epoch;         /* EPOCH */
    int64_t step;           /* EPOCH: the step at the epoch's end */
    ms_eval *evals;         /* EPOCH */
    int nevals;
    void *ckpt;             /* EPOCH (NULL deletes the run's) */
    size_t ckpt_n;
    ms_stop stop;           /* EPOCH, STATUS */
    ms_run_status status;   /* STATUS */
    char *error;            /* STATUS */
    char what[80];          /* "cannot <do it>": its messages' prefix */
    struct ms_write *next;  /* the writer's queue; a batch for ms_store_apply_batch */
} ms_write;
/* Inside a transaction, under the store's mutex: one write's SQL; -1 after
 * its message. */
int ms_store_apply(ms_store *s, const ms_write *w);
/* ---- writer.c: group commit of run writes while a sweep trains ---- */

/* The list from first on, in one transaction (taking the store's mutex):
 * all or none; a single write applied at once is a list of one. */
int ms_store_apply_batch(ms_store *s, const ms_write *first);

/* publish.c: the copies of a running sweep's database (ms_store_publish_to),
 * made under the store's lock from its connection db: ms_pub_due after
 * each commit of `epochs` epochs (a copy when due), ms_pub_now for the
 * last copy (ms_store_publish_last). -1 after a message. */
typedef struct ms_pub ms_pub;
ms_pub *ms_pub_new(const char *dest, int every_epochs, double every_seconds);
void ms_pub_free(ms_pub *p);
int ms_pub_now(ms_pub *p, sqlite3 *db);
int ms_pub_due(ms_pub *p, sqlite3 *db, int epochs);
void ms_pub_stats(const ms_pub *p, int *copies, double *seconds);
ms_pub *ms_store_pub(ms_store *s);

typedef struct ms_writer ms_writer;
/* A thread that commits queued writes of s, everything queued so far in one
 * transaction; NULL if it cannot start. */
ms_writer *ms_writer_start(ms_store *s);
/* Queue a copy of w; -1 (its message already printed) once a batch failed. */
int ms_writer_put(ms_writer *wr, const ms_write *w);
/* Commit what is queued, end the thread, free; -1 if any batch failed. */
int ms_writer_stop(ms_writer *wr);

/* ---- schema.c: the schema of a file, for store.c (on its connection db
 * to the file path; messages name path) ---- */

/* Read the schema and check its version (*version: 0 for an empty file, else
 * 1 to MS_STORE_SCHEMA_VERSION), with PRAGMA quick_check when quick. A
 * schema that is not ours is refused when refuse (a writer, or the probe
 * before a write), else a warning when quick (a reader). */
int ms_schema_check(sqlite3 *db, const char *path, int quick, int refuse, int *version);
/* A writer's file of schema `version` brought to ours: the schema created
 * in an empty file (0), else each upgrade in turn; each in one transaction. */
int ms_schema_make(sqlite3 *db, const char *path, int version);
/* An older file opened read-only: temporary stand-ins that read it as ours. */
int ms_schema_compat(sqlite3 *db, const char *path, int version);
/* `mlpsweep check --db`: the schema against ours, PRAGMA integrity_check
 * and foreign_key_check, every run's epochs_done against its epoch rows and
 * its checkpoint. */
int ms_schema_full_check(sqlite3 *db, const char *path);

/* ---- dbfile.c: the database's files on disk, for store.c ---- */

/* File-system checks before SQLite opens path, for messages that name the
 * actual problem; creates the default folder `db` when create needs it. */
int ms_dbfile_check(const char *path, int readonly, int create);
/* The URI to open path read-only with (malloc'd), or NULL for the path. */
char *ms_dbfile_uri(const char *path);
/* 1 when a reader may open path read-write (and then write nothing): the
 * file and its folder are ours to write, so SQLite's close can remove the
 * -wal and -shm files a read-only connection would leave behind. */
int ms_dbfile_reader_tidies(const char *path);
/* Remove path and the files SQLite keeps beside it. */
void ms_dbfile_remove(const char *path);

#endif
