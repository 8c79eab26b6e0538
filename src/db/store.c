/* ms_store: the study database (schema version 6, see docs/schema.md):
 * opening and closing it, and every write but the runs' registration
 * (register.c). What the file must hold (the schema, its checks and
 * upgrades) is in schema.c; its files on disk, before SQLite opens them,
 * in dbfile.c.
 *
 * DESIGN
 * - Threads: worker threads of one process share one ms_store. Each public
 *   function holds s->mu for its whole duration, so the connection and the
 *   prepared statements are used by one thread at a time, and transactions of
 *   different threads never interleave. Nothing here calls back into the caller
 *   while holding the mutex.
 * - Other processes (the user's `sqlite3` shell, `mlpsweep status`) read the
 *   file concurrently. WAL mode lets them read a consistent snapshot while we
 *   write; busy_timeout (10 s) covers a second writer process.
 * - Durability: every write is one `BEGIN IMMEDIATE` transaction (the write
 *   lock is taken up front, so a transaction never fails half way for lack of
 *   it) committed with synchronous=FULL. An epoch's row, its evals and steps,
 *   the checkpoint and the run's counters are in one transaction, so a crash at
 *   any moment leaves either all of the epoch or none of it. While a sweep
 *   trains, its runs' writes are queued and committed in groups by one thread
 *   (writer.c): the same transactions, several to a COMMIT.
 * - Statements: the ones used per epoch or per run are prepared once at open
 *   (SQLITE_PREPARE_PERSISTENT), then bound, stepped and reset. Every public
 *   function ends at one cleanup label that resets every statement (clearing
 *   bindings, which may point at caller memory) and rolls back an open
 *   transaction. Nothing is built with printf: values are always bound. */
#define _POSIX_C_SOURCE 200809L
#include "ms_store.h"
#include "ms_data.h" /* MS_INPUT: a run's parameter count */
#include "ms_util.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sql_util.h" /* after <sqlite3.h> */
#include "store_db.h"

#define NOW MS_SQL_NOW

/* ---- prepared statements ---- */

enum {
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_SWEEP_PUT, Q_SWEEP_ID, Q_SWEEP_DATA_GET, Q_SWEEP_DATA_SET, Q_RUN_GET,
    Q_RUN_START, Q_RUN_PROGRESS, Q_RUN_STATUS, Q_RUN_RESET,
    Q_EPOCH_HAS, Q_EPOCH_PUT, Q_EVAL_PUT, Q_CKPT_GET, Q_CKPT_PUT, Q_CKPT_DEL, Q_RUN_ROWS,
    Q_EPOCHS_DEL, Q_EVALS_DEL, Q_STEP_PUT, Q_STEPS_DEL,
    Q_N
};

static const char *const q_sql[Q_N] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SWEEP_PUT] = "INSERT INTO sweeps (name, manifest_path, manifest, created_at, updated_at)"
                    " VALUES (?1, ?2, ?3, " NOW ", " NOW ")"
                    " ON CONFLICT (name) DO UPDATE SET manifest_path = excluded.manifest_path,"
                    " manifest = excluded.manifest, updated_at = excluded.updated_at",
    [Q_SWEEP_ID] = "SELECT id FROM sweeps WHERE name = ?1",
    [Q_SWEEP_DATA_GET] = "SELECT coalesce(dataset, ''), data_digest FROM sweeps WHERE name = ?1",
    [Q_SWEEP_DATA_SET] = "UPDATE sweeps SET dataset = ?2, data_digest = ?3"
                         " WHERE id = ?1 AND data_digest IS NULL",
    [Q_RUN_GET] = "SELECT status, epochs_done, steps_done, epochs_total, stop_reason, same_as,"
                  " (SELECT x.variant FROM runs x WHERE x.id = runs.same_as), config_hash"
                  " FROM runs WHERE id = ?1",
    [Q_RUN_START] = "UPDATE runs SET status = 'running', started_at = coalesce(started_at, " NOW "),"
                    " pid = ?2, host = ?3, version = ?4, compiler = ?5, threads = ?6,"
                    " error = NULL, stop_reason = NULL, finished_at = NULL, updated_at = " NOW
                    " WHERE id = ?1",
    [Q_RUN_PROGRESS] = "UPDATE runs SET epochs_done = ?2, steps_done = ?3,"
                       " train_seconds = train_seconds + ?4, updated_at = " NOW ","
                       " status = CASE WHEN ?5 IS NULL THEN status ELSE 'done' END,"
                       " stop_reason = ?5,"
                       " finished_at = CASE WHEN ?5 IS NULL THEN NULL ELSE " NOW " END"
                       " WHERE id = ?1",
    [Q_RUN_STATUS] = "UPDATE runs SET status = ?2, stop_reason = ?3, error = ?4,"
                     " finished_at = CASE WHEN ?2 IN ('done', 'failed')"
                     " THEN coalesce(finished_at, " NOW ") ELSE NULL END,"
                     " updated_at = " NOW " WHERE id = ?1",
    [Q_RUN_RESET] = "UPDATE runs SET status = 'pending', epochs_done = 0, steps_done = 0,"
                    " train_seconds = 0, stop_reason = NULL, error = NULL, started_at = NULL,"
                    " finished_at = NULL, updated_at = " NOW " WHERE id = ?1",
    [Q_EPOCH_HAS] = "SELECT 1 FROM epochs WHERE run_id = ?1 AND epoch = ?2",
    [Q_EPOCH_PUT] = "INSERT INTO epochs (run_id, epoch, step, train_loss, train_acc, val_loss,"
                    " val_acc, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_EVAL_PUT] = "INSERT INTO evals (run_id, step, epoch, batch_loss, train_loss, train_acc,"
                   " val_loss, val_acc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_CKPT_GET] = "SELECT epoch, state FROM checkpoints WHERE run_id = ?1",
    [Q_CKPT_PUT] = "INSERT INTO checkpoints (run_id, epoch, step, state, updated_at)"
                   " VALUES (?1, ?2, ?3, ?4, " NOW ")"
                   " ON CONFLICT (run_id) DO UPDATE SET epoch = excluded.epoch,"
                   " step = excluded.step, state = excluded.state,"
                   " updated_at = excluded.updated_at",
    [Q_CKPT_DEL] = "DELETE FROM checkpoints WHERE run_id = ?1",
    [Q_RUN_ROWS] = "SELECT epochs_done, (SELECT count(*) FROM epochs WHERE run_id = ?1),"
                   " (SELECT epoch FROM checkpoints WHERE run_id = ?1) FROM runs WHERE id = ?1",
    [Q_EPOCHS_DEL] = "DELETE FROM epochs WHERE run_id = ?1",
    [Q_EVALS_DEL] = "DELETE FROM evals WHERE run_id = ?1",
    [Q_STEP_PUT] = "INSERT INTO steps (run_id, step, epoch, batch_loss) VALUES (?1, ?2, ?3, ?4)",
    [Q_STEPS_DEL] = "DELETE FROM steps WHERE run_id = ?1",
};

/* ms_store_open's flag for ms_store_probe_data: read-only, but refuse a
 * schema that is not ours as a writer would. */
enum { OPEN_STRICT = 1 << 8 };

struct ms_store {
    sqlite3 *db;
    char *path;
    int readonly;
    int quick; /* run PRAGMA quick_check when opening */
    int strict; /* a reader for a writer (the probe): refuses what a writer would */
    int lockfd; /* a writer's lock on the file (ms_db_lock), -1 for a reader */
    int writer_live; /* MS_STORE_LIVENESS: another process held the writer lock at open
                        (1) or not (0); -1: not asked */
    pthread_mutex_t mu;
    sqlite3_stmt *q[Q_N];
    ms_reg *reg; /* register.c's statements */
    ms_writer *writer; /* while ms_store_async_begin .. _end: run writes are queued */
    ms_pub *pub;   /* ms_store_publish_to, or NULL */
};

/* ---- helpers ---- */

/* "<what> in '<path>': <sqlite message>"; returns -1. Call before any reset
 * or rollback, which would replace the message. */
static int db_error(ms_store *s, const char *fmt, ...) MS_PRINTF(2, 3);
static int db_error(ms_store *s, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ms_error("%s in '%s': %s", what, s->path, sqlite3_errmsg(s->db));
}

/* Bind a double; NaN binds NULL explicitly (SQLite would do so anyway). */
static int bind_real(sqlite3_stmt *st, int i, double v)
{
    return isnan(v) ? sqlite3_bind_null(st, i) : sqlite3_bind_double(st, i, v);
}

/* End of every public function: reset all statements, roll back. */
void ms_store_finish(ms_store *s)
{
    ms_reg_reset(s->reg);
    ms_sql_reset_all(s->q, Q_N);
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *rb = s->q[Q_ROLLBACK];
        sqlite3_step(rb);
        sqlite3_reset(rb);
    }
}

int ms_store_begin(ms_store *s, const char *what)
{
    if (s->readonly)
        return ms_error("%s: '%s' is open read-only", what, s->path);
    if (ms_sql_step_done(s->q[Q_BEGIN]) != SQLITE_DONE)
        return db_error(s, "%s", what);
    return 0;
}

int ms_store_commit(ms_store *s, const char *what)
{
    if (ms_sql_step_done(s->q[Q_COMMIT]) != SQLITE_DONE)
        return db_error(s, "%s", what);
    return 0;
}

int ms_store_leave(ms_store *s, int rc)
{
    ms_store_finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Step a statement that returns no row; -1 after db_error(what) if it fails. */
static int step_done(ms_store *s, sqlite3_stmt *st, const char *what)
{
    return ms_sql_step_done(st) == SQLITE_DONE ? 0 : db_error(s, "%s", what);
}

int ms_store_get_run(ms_store *s, int64_t run_id, ms_run_info *out, const char *what)
{
    sqlite3_stmt *st = s->q[Q_RUN_GET];
    sqlite3_bind_int64(st, 1, run_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(st);
        return 0;
    }
    if (rc != SQLITE_ROW)
        return db_error(s, "%s", what);
    memset(out, 0, sizeof *out);
    out->id = run_id;
    out->status = ms_run_status_parse((const char *)sqlite3_column_text(st, 0));
    out->epochs_done = sqlite3_column_int(st, 1);
    out->steps_done = sqlite3_column_int64(st, 2);
    out->epochs_total = sqlite3_column_int(st, 3);
    out->same_as = sqlite3_column_int64(st, 5); /* NULL: 0 */
    const unsigned char *twin = sqlite3_column_text(st, 6), *hash = sqlite3_column_text(st, 7);
    snprintf(out->same_as_variant, sizeof out->same_as_variant, "%s", twin ? (const char *)twin : "");
    snprintf(out->hash, sizeof out->hash, "%s", hash ? (const char *)hash : "");
    const unsigned char *stop = sqlite3_column_text(st, 4); /* NULL: MS_STOP_NONE */
    int bad_stop = stop && ms_stop_parse((const char *)stop, &out->stop_reason) < 0;
    sqlite3_reset(st);
    if (out->status == MS_RUN_NSTATUS) /* the schema's CHECK keeps it out of our files */
        return ms_error("%s: run %lld has an unknown status in '%s'", what, (long long)run_id,
                        s->path);
    if (bad_stop)
        return ms_error("%s: run %lld has an unknown stop reason in '%s'", what, (long long)run_id,
                        s->path);
    return 1;
}

/* ---- open and close ---- */

/* WAL (readers and the writer never block each other), FULL sync (a
 * committed epoch survives power loss), foreign keys enforced. */
static int set_pragmas(ms_store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = ms_error("cannot use WAL mode in '%s': %s", s->path, sqlite3_errmsg(s->db));
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || strcmp(mode, "wal")) {
        rc = ms_error("cannot use WAL mode in '%s' (journal mode is '%s')", s->path,
                      mode ? mode : "?");
        goto out;
    }
    if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL, NULL,
                     NULL) != SQLITE_OK) {
        rc = ms_error("cannot configure '%s': %s", s->path, sqlite3_errmsg(s->db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}

/* The statements, prepared once. An older file opened read-only: the
 * writes of newer columns and tables do not compile (nor run: the store is
 * read-only), the reads go through ms_schema_compat's stand-ins, made after
 * the writes compiled against main's tables. */
static int prepare(ms_store *s, int version)
{
    int old = s->readonly && version < MS_STORE_SCHEMA_VERSION;
    for (int i = 0; i < Q_N; i++) {
        if (sqlite3_prepare_v3(s->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
                SQLITE_OK &&
            !old)
            return ms_error("cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
    }
    if (old && ms_schema_compat(s->db, s->path, version))
        return -1;
    for (int i = 0; old && i < Q_N; i++) /* the reads of new columns, through the stand-ins */
        if (!s->q[i])
            sqlite3_prepare_v3(s->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
    if (ms_reg_prepare(s->db, old, &s->reg) && !old) /* the registration's: a writer's */
        return ms_error("cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
    return 0;
}

int ms_store_open(const char *path, int flags, ms_store **out)
{
    int readonly = (flags & MS_STORE_READONLY) != 0;
    int create = (flags & MS_STORE_CREATE) && !readonly;
    int version = 0;
    *out = NULL;
    if (ms_dbfile_check(path, readonly, create))
        return -1;

    ms_store *s = ms_calloc(1, sizeof *s);
    s->path = ms_strdup(path);
    s->readonly = readonly;
    s->quick = !(flags & MS_STORE_NOCHECK);
    s->strict = (flags & OPEN_STRICT) != 0;
    s->lockfd = -1;
    s->writer_live = -1;
    pthread_mutex_init(&s->mu, NULL);
    /* Both before SQLite opens the file (ms_util.h says why). A writer holds
     * the lock from here to ms_store_close: a schema upgrade, a sweep and a
     * merge all write under it. */
    int created = 0;
    if (flags & MS_STORE_LIVENESS)
        s->writer_live = ms_db_writer_live(path);
    if (!readonly && ms_db_lock(path, &s->lockfd, &created) < 0)
        goto fail;
    /* A reader opens read-write where it may (and sets query_only below):
     * a read-only connection cannot remove the -wal and -shm files it makes,
     * so every `status` would leave them behind. */
    int tidy = readonly && ms_dbfile_reader_tidies(path);
    int oflags = readonly && !tidy ? SQLITE_OPEN_READONLY
                                   : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    char *uri = readonly && !tidy ? ms_dbfile_uri(path) : NULL;
    int rc = sqlite3_open_v2(uri ? uri : path, &s->db, oflags | (uri ? SQLITE_OPEN_URI : 0), NULL);
    free(uri);
    if (rc != SQLITE_OK) {
        if (rc == SQLITE_CANTOPEN && readonly && access(path, F_OK) != 0)
            ms_error("cannot open '%s': no such database", path);
        else
            ms_error("cannot open '%s': %s", path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 10000);
    if (ms_schema_check(s->db, path, s->quick, !readonly || s->strict, &version))
        goto fail;
    if (!readonly && sqlite3_db_readonly(s->db, "main") == 1) {
        ms_error("cannot open '%s' for writing: the file is read-only", path);
        goto fail;
    }
    if (readonly && version == 0) {
        ms_error("'%s' is not an mlpsweep database (it is empty)", path);
        goto fail;
    }
    if (!readonly && (set_pragmas(s) || ms_schema_make(s->db, path, version)))
        goto fail;
    if (prepare(s, version))
        goto fail;
    /* after prepare: an older file's read-only stand-ins are TEMP views */
    if (tidy && sqlite3_exec(s->db, "PRAGMA query_only = 1", NULL, NULL, NULL) != SQLITE_OK) {
        ms_error("cannot open '%s': %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    *out = s;
    return 0;
fail:
    if (created)
        ms_store_discard(s); /* it never became a database */
    else
        ms_store_close(s);
    return -1;
}

static void store_free(ms_store *s, int remove)
{
    if (!s)
        return;
    ms_store_async_end(s); /* what is queued is committed first */
    ms_pub_free(s->pub);
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(s->q[i]);
    ms_reg_free(s->reg);
    if (s->db && !s->readonly) {
        /* Fold the log into the file now, while readers may still read:
         * SQLite's own checkpoint at close (when this is the last connection,
         * it then removes the -wal and -shm files) holds an exclusive lock,
         * and with the log already empty that lock lasts only as long as the
         * two unlinks. A reader still open keeps both files until it closes. */
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    }
    sqlite3_close(s->db);
    /* Removed while the lock is held: a writer waiting for it finds the
     * path gone when it gets the lock, and opens it again (ms_db_lock). */
    if (remove && !s->readonly)
        ms_dbfile_remove(s->path);
    if (s->lockfd >= 0)
        close(s->lockfd); /* after SQLite's own descriptors are closed */
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

void ms_store_close(ms_store *s) { store_free(s, 0); }
void ms_store_discard(ms_store *s) { store_free(s, 1); }

const char *ms_store_path(const ms_store *s) { return s->path; }
int ms_store_writer_live(const ms_store *s) { return s->writer_live; }
sqlite3 *ms_store_handle(ms_store *s) { return s->db; }
ms_reg *ms_store_reg(ms_store *s) { return s->reg; }
ms_pub *ms_store_pub(ms_store *s) { return s->pub; }

int ms_store_publish_to(ms_store *s, const char *dest, int every_epochs, double every_seconds)
{
    if (s->readonly)
        return ms_error("'%s' is open read-only: it publishes nothing", s->path);
    ms_pub_free(s->pub);
    s->pub = ms_pub_new(dest, every_epochs, every_seconds);
    return 0;
}

int ms_store_publish_last(ms_store *s)
{
    if (!s->pub)
        return 0;
    if (ms_store_async_end(s) < 0) /* what is queued is committed first */
        return -1;
    pthread_mutex_lock(&s->mu);
    /* always: statuses (interrupted, pruned) change without an epoch */
    int rc = ms_pub_now(s->pub, s->db);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void ms_store_publish_stats(ms_store *s, int *copies, double *seconds)
{
    ms_pub_stats(s->pub, copies, seconds);
}
void ms_store_lock(ms_store *s) { pthread_mutex_lock(&s->mu); }
void ms_store_unlock(ms_store *s) { pthread_mutex_unlock(&s->mu); }

int ms_store_check(ms_store *s)
{
    pthread_mutex_lock(&s->mu);
    int rc = ms_schema_full_check(s->db, s->path);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* ---- sweeps and runs ---- */

/* The sweep's recorded data against (dataset, digest): 0 when it has none
 * yet (or no row), -1 after the message when it differs. Under the mutex. */
static int data_matches(ms_store *s, const char *name, const ms_data_ident *data)
{
    sqlite3_stmt *get = s->q[Q_SWEEP_DATA_GET];
    ms_sql_bind_text(get, 1, name);
    int st = sqlite3_step(get), rc = 0;
    if (st == SQLITE_ROW && sqlite3_column_type(get, 1) != SQLITE_NULL) {
        const char *ds = (const char *)sqlite3_column_text(get, 0),
                   *dg = (const char *)sqlite3_column_text(get, 1);
        if (ms_sql_other_data(ds, dg, data->dataset, data->digest)) {
            char *dss = ms_printable(ds), *dgs = ms_printable(dg), *n = ms_printable(name);
            rc = ms_error("sweep '%s' in '%s' was trained on %s data %s, not on this %s data %s "
                          "('%s'): give another --db to train on other data",
                          n, s->path, dss, dgs, data->dataset, data->digest, data->dir);
            free(dss), free(dgs), free(n);
        }
    } else if (st != SQLITE_ROW && st != SQLITE_DONE) {
        rc = db_error(s, "cannot read sweep '%s'", name);
    }
    sqlite3_reset(get);
    return rc;
}

int ms_store_sweep(ms_store *s, const char *name, const char *manifest_path,
                   const char *manifest_text, const ms_data_ident *data, int64_t *sweep_id)
{
    const char *what = "cannot record the sweep";
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (ms_store_begin(s, what))
        goto out;
    if (data && data_matches(s, name, data))
        goto out;
    sqlite3_stmt *put = s->q[Q_SWEEP_PUT], *get = s->q[Q_SWEEP_ID], *set = s->q[Q_SWEEP_DATA_SET];
    ms_sql_bind_text(put, 1, name);
    ms_sql_bind_text(put, 2, manifest_path);
    ms_sql_bind_text(put, 3, manifest_text);
    if (ms_sql_step_done(put) != SQLITE_DONE) {
        db_error(s, "cannot record sweep '%s'", name);
        goto out;
    }
    ms_sql_bind_text(get, 1, name);
    if (sqlite3_step(get) != SQLITE_ROW) {
        db_error(s, "cannot record sweep '%s'", name);
        goto out;
    }
    *sweep_id = sqlite3_column_int64(get, 0);
    sqlite3_reset(get);
    if (data) { /* recorded once: by the first run, or the first after an upgrade */
        sqlite3_bind_int64(set, 1, *sweep_id);
        ms_sql_bind_text(set, 2, data->dataset);
        ms_sql_bind_text(set, 3, data->digest);
        if (ms_sql_step_done(set) != SQLITE_DONE) {
            db_error(s, "cannot record sweep '%s'", name);
            goto out;
        }
    }
    rc = ms_store_commit(s, what);
out:
    return ms_store_leave(s, rc);
}

int ms_store_probe_data(const char *path, const char *sweep, const ms_data_ident *data)
{
    struct stat st;
    if (stat(path, &st) != 0 || (S_ISREG(st.st_mode) && st.st_size == 0))
        return 0; /* to be created, or just created */
    ms_store *s;
    if (ms_store_open(path, MS_STORE_READONLY | OPEN_STRICT, &s) < 0)
        return -1;
    pthread_mutex_lock(&s->mu);
    int rc = data_matches(s, sweep, data);
    pthread_mutex_unlock(&s->mu);
    ms_store_close(s);
    return rc;
}

int ms_store_run(ms_store *s, int64_t run_id, ms_run_info *out)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    int found = ms_store_get_run(s, run_id, out, "cannot read the run");
    if (found == 0)
        ms_error("no run %lld in '%s'", (long long)run_id, s->path);
    if (found == 1)
        rc = 0;
    return ms_store_leave(s, rc);
}

/* Inside a transaction: the run must exist; with `status`, have it. */
static int expect_run(ms_store *s, int64_t run_id, ms_run_info *info, const char *what)
{
    int found = ms_store_get_run(s, run_id, info, what);
    if (found == 0)
        return ms_error("%s: no run %lld in '%s'", what, (long long)run_id, s->path);
    return found == 1 ? 0 : -1;
}

int ms_store_load_checkpoint(ms_store *s, int64_t run_id, void **blob, size_t *n, int *epoch)
{
    int rc = -1;
    *blob = NULL;
    *n = 0;
    *epoch = 0;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->q[Q_CKPT_GET];
    sqlite3_bind_int64(st, 1, run_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        *epoch = sqlite3_column_int(st, 0);
        *n = len;
        *blob = ms_malloc(len);
        if (len)
            memcpy(*blob, p, len);
        rc = 0;
    } else if (step == SQLITE_DONE) {
        rc = 0;
    } else {
        db_error(s, "cannot load the checkpoint of run %lld", (long long)run_id);
    }
    return ms_store_leave(s, rc);
}

int ms_store_run_rows(ms_store *s, int64_t run_id, int *epochs_done, int *rows, int *ck_epoch)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->q[Q_RUN_ROWS];
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *epochs_done = sqlite3_column_int(st, 0);
        *rows = sqlite3_column_int(st, 1);
        *ck_epoch = sqlite3_column_int(st, 2); /* NULL, no checkpoint: 0 */
        rc = 0;
    } else {
        db_error(s, "cannot read run %lld", (long long)run_id);
    }
    return ms_store_leave(s, rc);
}

int ms_store_epoch_values(ms_store *s, int64_t run_id, int metric, double *v, int n)
{
    static const char *const sql[] = {
        [MS_METRIC_TRAIN_LOSS] = "SELECT epoch, train_loss FROM epochs WHERE run_id = ?1 AND epoch <= ?2",
        [MS_METRIC_VAL_LOSS] = "SELECT epoch, val_loss FROM epochs WHERE run_id = ?1 AND epoch <= ?2",
        [MS_METRIC_TRAIN_ACC] = "SELECT epoch, train_acc FROM epochs WHERE run_id = ?1 AND epoch <= ?2",
        [MS_METRIC_VAL_ACC] = "SELECT epoch, val_acc FROM epochs WHERE run_id = ?1 AND epoch <= ?2"};
    if (metric < 0 || metric >= (int)(sizeof sql / sizeof *sql) || !sql[metric])
        return ms_error("cannot read run %lld: no metric %d", (long long)run_id, metric);
    for (int i = 0; i < n; i++)
        v[i] = NAN;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql[metric], -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int(st, 2, n);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int e = sqlite3_column_int(st, 0);
            if (e >= 1 && e <= n && sqlite3_column_type(st, 1) != SQLITE_NULL)
                v[e - 1] = sqlite3_column_double(st, 1);
        }
    }
    sqlite3_finalize(st);
    int out = rc == SQLITE_DONE ? 0 : db_error(s, "cannot read the epochs of run %lld",
                                               (long long)run_id);
    pthread_mutex_unlock(&s->mu);
    return out;
}

/* A stop reason a caller may record: an epoch ends a run by epochs, early
 * stopping or divergence; a status may also say interrupted. */
static int valid_stop(ms_stop r, int allow_interrupted)
{
    return (r >= MS_STOP_NONE && r <= MS_STOP_DIVERGED) ||
           (allow_interrupted && (r == MS_STOP_INTERRUPTED || r == MS_STOP_PRUNED));
}

/* ms_store_commit_epoch's arguments, checked before the store is touched. */
static int check_epoch(const char *what, const ms_epoch *e, const ms_eval *evals, int nevals,
                       ms_stop stop_reason)
{
    if (!valid_stop(stop_reason, 0))
        return ms_error("%s: invalid stop reason %d", what, (int)stop_reason);
    if (nevals < 0)
        return ms_error("%s: %d evals", what, nevals);
    for (int i = 0; i < nevals; i++)
        if (evals[i].epoch + 1 != e->epoch)
            return ms_error("%s: the eval at step %lld belongs to epoch %d", what,
                            (long long)evals[i].step, evals[i].epoch + 1);
    return 0;
}

/* Inside the transaction: the epoch is not stored yet, and it is the next
 * one of a running run. */
static int expect_epoch(ms_store *s, int64_t run_id, int epoch, const ms_run_info *info,
                        const char *what)
{
    sqlite3_stmt *has = s->q[Q_EPOCH_HAS];
    sqlite3_bind_int64(has, 1, run_id);
    sqlite3_bind_int(has, 2, epoch);
    int step = sqlite3_step(has);
    if (step == SQLITE_ROW)
        return ms_error("%s: it is already stored in '%s'", what, s->path);
    if (step != SQLITE_DONE)
        return db_error(s, "%s", what);
    sqlite3_reset(has);
    if (info->status != MS_RUN_RUNNING)
        return ms_error("%s: the run is %s, not running", what, ms_run_status_name(info->status));
    if (epoch != info->epochs_done + 1)
        return ms_error("%s: the next epoch is %d", what, info->epochs_done + 1);
    return 0;
}

/* The epoch's row, its evals and its steps' losses. */
static int put_epoch(ms_store *s, int64_t run_id, const ms_epoch *e, int64_t step_at_end,
                     const ms_eval *evals, int nevals, const char *what)
{
    sqlite3_stmt *ep = s->q[Q_EPOCH_PUT];
    sqlite3_bind_int64(ep, 1, run_id);
    sqlite3_bind_int(ep, 2, e->epoch);
    sqlite3_bind_int64(ep, 3, nevals ? evals[nevals - 1].step : step_at_end);
    bind_real(ep, 4, e->train_loss);
    bind_real(ep, 5, e->train_acc);
    bind_real(ep, 6, e->val_loss);
    bind_real(ep, 7, e->val_acc);
    bind_real(ep, 8, e->seconds);
    if (step_done(s, ep, what))
        return -1;

    sqlite3_stmt *ev = s->q[Q_EVAL_PUT];
    for (int i = 0; i < nevals; i++) {
        const ms_eval *v = &evals[i];
        sqlite3_bind_int64(ev, 1, run_id);
        sqlite3_bind_int64(ev, 2, v->step);
        sqlite3_bind_int(ev, 3, v->epoch + 1); /* 0-based in memory, 1-based stored */
        bind_real(ev, 4, v->batch_loss);
        bind_real(ev, 5, v->train_loss);
        bind_real(ev, 6, v->train_acc);
        bind_real(ev, 7, v->val_loss);
        bind_real(ev, 8, v->val_acc);
        if (ms_sql_step_done(ev) != SQLITE_DONE)
            return db_error(s, "%s (eval at step %lld)", what, (long long)v->step);
    }

    sqlite3_stmt *sp = s->q[Q_STEP_PUT];
    for (int i = 0; i < e->nsteps; i++) {
        sqlite3_bind_int64(sp, 1, run_id);
        sqlite3_bind_int64(sp, 2, e->first_step + i);
        sqlite3_bind_int(sp, 3, e->epoch);
        bind_real(sp, 4, e->step_loss[i]);
        if (ms_sql_step_done(sp) != SQLITE_DONE)
            return db_error(s, "%s (step %lld)", what, (long long)(e->first_step + i));
    }
    return 0;
}

/* ---- writes of a run: one value each (ms_write), applied here ----
 *
 * ms_store_start_run, _commit_epoch and _set_status check
 * their arguments, then make an ms_write that borrows the caller's memory:
 * applied at once in its own transaction, or, while a writer runs
 * (ms_store_async_begin), copied into its queue and committed with whatever
 * else is queued (writer.c). Either way ms_store_apply does the SQL. */

static int apply_start(ms_store *s, const ms_write *w, const char *what)
{
    ms_run_info info;
    if (expect_run(s, w->run_id, &info, what))
        return -1;
    if (info.status == MS_RUN_DONE)
        return ms_error("%s: it is done", what);
    const ms_provenance *p = &w->prov;
    sqlite3_stmt *st = s->q[Q_RUN_START];
    sqlite3_bind_int64(st, 1, w->run_id);
    sqlite3_bind_int64(st, 2, p->pid);
    ms_sql_bind_text(st, 3, p->host);
    ms_sql_bind_text(st, 4, p->version);
    ms_sql_bind_text(st, 5, p->compiler);
    sqlite3_bind_int(st, 6, p->threads);
    return step_done(s, st, what);
}

/* The run's checkpoint replaced by w's (its epoch and step), or deleted. */
static int put_checkpoint(ms_store *s, const ms_write *w, int drop, const char *what)
{
    sqlite3_stmt *ck = s->q[drop ? Q_CKPT_DEL : Q_CKPT_PUT];
    sqlite3_bind_int64(ck, 1, w->run_id);
    if (!drop) {
        sqlite3_bind_int(ck, 2, w->epoch.epoch);
        sqlite3_bind_int64(ck, 3, w->step);
        sqlite3_bind_blob64(ck, 4, w->ckpt, (sqlite3_uint64)w->ckpt_n, SQLITE_STATIC);
    }
    if (ms_sql_step_done(ck) != SQLITE_DONE)
        return db_error(s, "%s (checkpoint)", what);
    return 0;
}

static int apply_epoch(ms_store *s, const ms_write *w, const char *what)
{
    ms_run_info info;
    const ms_epoch *e = &w->epoch;
    if (expect_run(s, w->run_id, &info, what) ||
        expect_epoch(s, w->run_id, e->epoch, &info, what) ||
        put_epoch(s, w->run_id, e, w->step, w->evals, w->nevals, what))
        return -1;
    if (put_checkpoint(s, w, !w->ckpt, what)) /* NULL: none matches the epoch now */
        return -1;
    sqlite3_stmt *pr = s->q[Q_RUN_PROGRESS];
    sqlite3_bind_int64(pr, 1, w->run_id);
    sqlite3_bind_int(pr, 2, e->epoch);
    sqlite3_bind_int64(pr, 3, w->step);
    sqlite3_bind_double(pr, 4, isfinite(e->seconds) ? e->seconds : 0.0);
    ms_sql_bind_text(pr, 5, w->stop ? ms_stop_name(w->stop) : NULL);
    return step_done(s, pr, what);
}

static int apply_status(ms_store *s, const ms_write *w, const char *what)
{
    ms_run_info info;
    if (expect_run(s, w->run_id, &info, what))
        return -1;
    sqlite3_stmt *st = s->q[Q_RUN_STATUS];
    sqlite3_bind_int64(st, 1, w->run_id);
    ms_sql_bind_text(st, 2, ms_run_status_name(w->status));
    ms_sql_bind_text(st, 3, w->stop ? ms_stop_name(w->stop) : NULL);
    ms_sql_bind_text(st, 4, w->error);
    return step_done(s, st, what);
}

int ms_store_apply(ms_store *s, const ms_write *w)
{
    switch (w->kind) {
    case MS_WRITE_START: return apply_start(s, w, w->what);
    case MS_WRITE_EPOCH: return apply_epoch(s, w, w->what);
    case MS_WRITE_STATUS: return apply_status(s, w, w->what);
    }
    return -1;
}

/* Now in its own transaction, or queued for the writer. */
static int write_run(ms_store *s, const ms_write *w)
{
    if (s->writer)
        return ms_writer_put(s->writer, w);
    return ms_store_apply_batch(s, w);
}

int ms_store_async_begin(ms_store *s)
{
    if (s->writer)
        return 0;
    s->writer = ms_writer_start(s);
    return s->writer ? 0 : ms_error("cannot start the database writer of '%s'", s->path);
}

int ms_store_async_end(ms_store *s)
{
    ms_writer *wr = s->writer;
    s->writer = NULL;
    return wr ? ms_writer_stop(wr) : 0;
}

int ms_store_start_run(ms_store *s, int64_t run_id, const ms_provenance *p)
{
    ms_write w = {.kind = MS_WRITE_START, .run_id = run_id};
    snprintf(w.what, sizeof w.what, "cannot start run %lld", (long long)run_id);
    if (p)
        w.prov = *p;
    return write_run(s, &w);
}

int ms_store_commit_epoch(ms_store *s, int64_t run_id, const ms_epoch *e, int64_t step_at_end,
                          const ms_eval *evals, int nevals, const void *ckpt, size_t ckpt_n,
                          ms_stop stop_reason)
{
    ms_write w = {.kind = MS_WRITE_EPOCH, .run_id = run_id, .epoch = *e, .step = step_at_end,
                  .evals = (ms_eval *)evals, .nevals = nevals, .ckpt = (void *)ckpt,
                  .ckpt_n = ckpt_n, .stop = stop_reason};
    snprintf(w.what, sizeof w.what, "cannot commit epoch %d of run %lld", e->epoch,
             (long long)run_id);
    if (check_epoch(w.what, e, evals, nevals, stop_reason))
        return -1;
    return write_run(s, &w);
}

int ms_store_set_status(ms_store *s, int64_t run_id, ms_run_status status, ms_stop stop_reason,
                        const char *error)
{
    ms_write w = {.kind = MS_WRITE_STATUS, .run_id = run_id, .status = status,
                  .stop = stop_reason, .error = (char *)error};
    snprintf(w.what, sizeof w.what, "cannot set the status of run %lld", (long long)run_id);
    if (status < 0 || status >= MS_RUN_NSTATUS)
        return ms_error("%s: invalid status %d", w.what, (int)status);
    if (!valid_stop(stop_reason, 1))
        return ms_error("%s: invalid stop reason %d", w.what, (int)stop_reason);
    return write_run(s, &w);
}

/* A run's results deleted, children first: its reset, or a merge replacing it. */
int ms_store_clear_run(ms_store *s, int64_t run_id, const char *what)
{
    static const int q[] = {Q_STEPS_DEL, Q_EVALS_DEL, Q_EPOCHS_DEL, Q_CKPT_DEL};
    for (int i = 0; i < (int)(sizeof q / sizeof q[0]); i++) {
        sqlite3_bind_int64(s->q[q[i]], 1, run_id);
        if (step_done(s, s->q[q[i]], what))
            return -1;
    }
    return 0;
}

int ms_store_reset_run(ms_store *s, int64_t run_id)
{
    char what[64];
    ms_run_info info;
    int rc = -1;
    snprintf(what, sizeof what, "cannot reset run %lld", (long long)run_id);
    pthread_mutex_lock(&s->mu);
    if (ms_store_begin(s, what) || expect_run(s, run_id, &info, what) ||
        ms_store_clear_run(s, run_id, what))
        goto out;
    sqlite3_bind_int64(s->q[Q_RUN_RESET], 1, run_id);
    if (step_done(s, s->q[Q_RUN_RESET], what))
        goto out;
    rc = ms_store_commit(s, what);
out:
    return ms_store_leave(s, rc);
}
