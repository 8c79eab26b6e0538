/* ms_store: the study database (schema version 3, see docs/schema.md).
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
 *   the checkpoint and the run's counters are one transaction, so a crash at any
 *   moment leaves either all of the epoch or none of it.
 * - Statements: the ones used per epoch or per run are prepared once at open
 *   (SQLITE_PREPARE_PERSISTENT), then bound, stepped and reset. Every public
 *   function ends at one cleanup label that resets every statement (clearing
 *   bindings, which may point at caller memory) and rolls back an open
 *   transaction. Nothing is built with printf: values are always bound. */
#define _POSIX_C_SOURCE 200809L
#include "ms_store.h"
#include "ms_data.h" /* MS_INPUT: a run's parameter count */
#include "ms_util.h"

#include <errno.h>
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

/* ---- schema ---- */

#define NOW MS_SQL_NOW

/* Losses may be NULL: SQLite has no NaN, and a diverging run evaluates to NaN. */

/* Schema version 2 added runs.precision, the steps table and precision in
 * the two views below; version 3 the dataset of a sweep's runs
 * (sweeps.dataset, sweeps.data_digest). An older database is upgraded one
 * version at a time when opened for writing (upgrade_sql), and read through
 * temporary stand-ins when opened read-only (compat()). */

/* One row per validation of the current runs with the run's settings: a
 * learning curve is one SELECT (docs/schema.md). These definitions (and
 * STEPS_TABLE_SQL) follow CREATE or CREATE TEMP. */
#define CURVES_VIEW_SQL                                                                            \
    "VIEW curves AS\n"                                                                      \
    "SELECT s.name AS sweep, r.id AS run_id, r.variant, r.task, r.seed, r.hidden,\n"                 \
    "       r.activation, r.init, r.lr, r.momentum, r.batch, r.precision, v.step, v.epoch,\n"        \
    "       v.batch_loss, v.train_loss, v.train_acc, v.val_loss, v.val_acc\n"                        \
    "FROM evals v JOIN runs r ON r.id = v.run_id JOIN sweeps s ON s.id = r.sweep_id\n"               \
    "WHERE r.current = 1;\n"

/* One row per current run. The last epoch row is the one numbered
 * epochs_done (kept in the same transaction); best values over all evals. */
#define RUN_SUMMARY_VIEW_SQL                                                                       \
    "VIEW run_summary AS\n"                                                                 \
    "SELECT s.name AS sweep, r.id AS run_id, r.variant, r.task, r.seed,\n"                          \
    "       r.hidden, r.activation, r.init, r.momentum, r.lr, r.batch, r.params,\n"                 \
    "       r.status, r.epochs_done, r.epochs_total, r.stop_reason,\n"                             \
    "       e.val_acc AS final_val_acc, e.val_loss AS final_val_loss,\n"                           \
    "       e.train_acc AS final_train_acc, e.train_loss AS final_train_loss,\n"                   \
    "       (SELECT max(v.val_acc) FROM evals v WHERE v.run_id = r.id) AS best_val_acc,\n"        \
    "       (SELECT min(v.val_loss) FROM evals v WHERE v.run_id = r.id) AS best_val_loss,\n"      \
    "       r.train_seconds, r.precision\n"                                                      \
    "FROM runs r JOIN sweeps s ON s.id = r.sweep_id\n"                                             \
    "LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = r.epochs_done\n"                          \
    "WHERE r.current = 1;\n"

/* Every training step's batch loss, before its update (the course's
 * record); committed with its epoch. */
#define STEPS_TABLE_SQL                                                                            \
    "TABLE steps (\n"                                                                       \
    "  run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,\n"                      \
    "  epoch INTEGER NOT NULL, batch_loss REAL,\n"                                                 \
    "  PRIMARY KEY (run_id, step)) WITHOUT ROWID;\n"

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS sweeps (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  manifest_path TEXT, manifest TEXT,\n"
    "  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,\n"
    "  dataset TEXT, data_digest TEXT\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS runs (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),\n"
    "  variant TEXT NOT NULL, task TEXT NOT NULL DEFAULT '', seed INTEGER NOT NULL,\n"
    "  config TEXT NOT NULL,\n"
    "  config_hash TEXT NOT NULL,\n"
    "  hidden TEXT NOT NULL, activation TEXT NOT NULL, init TEXT NOT NULL,\n"
    "  lr REAL NOT NULL, momentum REAL NOT NULL, batch INTEGER NOT NULL,\n"
    "  params INTEGER NOT NULL,\n"
    "  epochs_total INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL DEFAULT 'pending'\n"
    "    CHECK (status IN ('pending','running','done','failed')),\n"
    "  current INTEGER NOT NULL DEFAULT 1,\n"
    "  epochs_done INTEGER NOT NULL DEFAULT 0, steps_done INTEGER NOT NULL DEFAULT 0,\n"
    "  stop_reason TEXT,\n"
    "  error TEXT,\n"
    "  train_seconds REAL NOT NULL DEFAULT 0,\n"
    "  created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT, updated_at TEXT NOT NULL,\n"
    "  pid INTEGER, host TEXT, version TEXT, compiler TEXT, threads INTEGER,\n"
    "  precision TEXT NOT NULL DEFAULT 'float32',\n"
    "  UNIQUE (sweep_id, variant, seed, config_hash)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS epochs (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id), epoch INTEGER NOT NULL,\n"
    "  step INTEGER NOT NULL,\n"
    "  train_loss REAL, train_acc REAL NOT NULL, val_loss REAL, val_acc REAL NOT NULL,\n"
    "  seconds REAL NOT NULL,\n"
    "  PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS evals (\n"
    "  run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL,\n"
    "  epoch INTEGER NOT NULL,\n"
    "  batch_loss REAL, train_loss REAL, train_acc REAL NOT NULL, val_loss REAL,\n"
    "  val_acc REAL NOT NULL,\n"
    "  PRIMARY KEY (run_id, step)) WITHOUT ROWID;\n"
    "CREATE TABLE IF NOT EXISTS checkpoints (\n"
    "  run_id INTEGER PRIMARY KEY REFERENCES runs(id),\n"
    "  epoch INTEGER NOT NULL, step INTEGER NOT NULL, state BLOB NOT NULL,\n"
    "  updated_at TEXT NOT NULL);\n"
    "CREATE " STEPS_TABLE_SQL
    "CREATE " RUN_SUMMARY_VIEW_SQL
    /* A finished run counts the epochs it ran (early stopping ends a run
     * before epochs_total), so epochs_done = epochs_total once all are done. */
    "CREATE VIEW IF NOT EXISTS sweep_status AS\n"
    "SELECT s.name AS sweep, s.id AS sweep_id,\n"
    "       count(r.id) AS runs,\n"
    "       coalesce(sum(r.status = 'pending'), 0) AS pending,\n"
    "       coalesce(sum(r.status = 'running'), 0) AS running,\n"
    "       coalesce(sum(r.status = 'done'), 0) AS done,\n"
    "       coalesce(sum(r.status = 'failed'), 0) AS failed,\n"
    "       coalesce(sum(r.epochs_done), 0) AS epochs_done,\n"
    "       coalesce(sum(CASE WHEN r.status = 'done' THEN r.epochs_done\n"
    "                         ELSE r.epochs_total END), 0) AS epochs_total,\n"
    "       coalesce(sum(r.train_seconds), 0) AS train_seconds,\n"
    "       coalesce(max(r.updated_at), s.updated_at) AS updated_at\n"
    "FROM sweeps s LEFT JOIN runs r ON r.sweep_id = s.id AND r.current = 1\n"
    "GROUP BY s.id;\n"
    "CREATE VIEW IF NOT EXISTS run_progress AS\n"
    "SELECT s.name AS sweep, r.id AS run_id, r.variant, r.task, r.seed, r.status,\n"
    "       r.epochs_done || '/' || r.epochs_total AS epochs,\n"
    "       e.val_acc AS last_val_acc, r.stop_reason, r.error, r.host, r.pid,\n"
    "       r.updated_at\n"
    "FROM runs r JOIN sweeps s ON s.id = r.sweep_id\n"
    "LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = r.epochs_done\n"
    "WHERE r.current = 1;\n"
    "CREATE " CURVES_VIEW_SQL
    "PRAGMA user_version = 3;\n";

/* ---- prepared statements ---- */

enum {
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_SWEEP_PUT, Q_SWEEP_ID, Q_SWEEP_DATA_GET, Q_SWEEP_DATA_SET,
    Q_RUNS_RETIRE, Q_RUN_FIND, Q_RUN_INSERT, Q_RUN_KEEP, Q_RUN_OTHERS, Q_RUN_GET,
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
    [Q_RUNS_RETIRE] = "UPDATE runs SET current = 0 WHERE sweep_id = ?1 AND current <> 0",
    [Q_RUN_FIND] = "SELECT id FROM runs WHERE sweep_id = ?1 AND variant = ?2 AND seed = ?3"
                   " AND config_hash = ?4",
    [Q_RUN_INSERT] = MS_SQL_RUN_REGISTER,
    [Q_RUN_KEEP] = "UPDATE runs SET current = 1, task = ?2 WHERE id = ?1",
    [Q_RUN_OTHERS] = "SELECT EXISTS (SELECT 1 FROM runs WHERE sweep_id = ?1 AND variant = ?2"
                     " AND seed = ?3 AND config_hash <> ?4)",
    [Q_RUN_GET] = "SELECT status, epochs_done, steps_done, epochs_total, stop_reason"
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
    [Q_RUN_ROWS] = "SELECT epochs_done, (SELECT count(*) FROM epochs WHERE run_id = ?1)"
                   " FROM runs WHERE id = ?1",
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
static void finish(ms_store *s)
{
    for (int i = 0; i < Q_N; i++) {
        if (s->q[i]) {
            sqlite3_reset(s->q[i]);
            sqlite3_clear_bindings(s->q[i]);
        }
    }
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *rb = s->q[Q_ROLLBACK];
        sqlite3_step(rb);
        sqlite3_reset(rb);
    }
}

static int begin(ms_store *s, const char *what)
{
    if (s->readonly)
        return ms_error("%s: '%s' is open read-only", what, s->path);
    if (ms_sql_step_done(s->q[Q_BEGIN]) != SQLITE_DONE)
        return db_error(s, "%s", what);
    return 0;
}

static int commit(ms_store *s, const char *what)
{
    if (ms_sql_step_done(s->q[Q_COMMIT]) != SQLITE_DONE)
        return db_error(s, "%s", what);
    return 0;
}

/* Read the run's row into out; 1 when it exists, 0 when not, -1 on error. */
static int get_run(ms_store *s, int64_t run_id, ms_run_info *out, const char *what)
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

/* File-system checks before SQLite opens the file, for messages that name
 * the actual problem (SQLite would only say "unable to open database file"). */
static int check_path(const char *path, int readonly, int create)
{
    struct stat st;
    char *dir = NULL;
    int rc = -1;

    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rc = ms_error("cannot open '%s': %s", path, strerror(EISDIR));
            goto out;
        }
        if (ms_db_regular(path, &st))
            goto out;
        if (readonly) {
            rc = access(path, R_OK) == 0 ? 0 : ms_error("cannot open '%s': %s", path, strerror(errno));
            goto out;
        }
        if (access(path, R_OK | W_OK) != 0) {
            rc = ms_error("cannot open '%s' for writing: %s", path, strerror(errno));
            goto out;
        }
        /* WAL mode creates '<path>-wal' and '<path>-shm' beside the file. */
        dir = ms_dir_of(path);
        if (access(dir, W_OK | X_OK) != 0) {
            rc = ms_error("cannot open '%s' for writing: folder '%s' is not writable", path, dir);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (errno != ENOENT) {
        rc = ms_error("cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!create) {
        rc = ms_error("cannot open '%s': no such database", path);
        goto out;
    }
    dir = ms_dir_of(path);
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT && !strcmp(dir, "db")) {
            /* The default folder of databases is created on demand. */
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                rc = ms_error("cannot create folder '%s': %s", dir, strerror(errno));
                goto out;
            }
        } else if (errno == ENOENT) {
            rc = ms_error("cannot create '%s': no such folder '%s'", path, dir);
            goto out;
        } else {
            rc = ms_error("cannot create '%s': %s", path, strerror(errno));
            goto out;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        rc = ms_error("cannot create '%s': '%s' is not a folder", path, dir);
        goto out;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        rc = ms_error("cannot create '%s': folder '%s' is not writable", path, dir);
        goto out;
    }
    rc = 0;
out:
    free(dir);
    return rc;
}

/* A WAL database needs '<path>-shm' to be read. In a folder we cannot write,
 * with neither '-wal' nor '-shm' beside the file, no writer can be active
 * (it would have to create them), so the file is opened as immutable.
 * Returns the URI to open (caller frees), or NULL to open the path as is. */
static char *readonly_uri(const char *path)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(path);
    char *dir = ms_dir_of(path), *side = ms_malloc(len + 8), *uri = NULL;
    int quiet = access(dir, W_OK) != 0;
    snprintf(side, len + 8, "%s-wal", path);
    quiet = quiet && access(side, F_OK) != 0;
    snprintf(side, len + 8, "%s-shm", path);
    quiet = quiet && access(side, F_OK) != 0;
    if (quiet) {
        char *p = uri = ms_malloc(3 * len + 32);
        memcpy(p, "file:", 5);
        p += 5;
        for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-._~/", *c)) {
                *p++ = (char)*c;
            } else {
                *p++ = '%';
                *p++ = hex[*c >> 4];
                *p++ = hex[*c & 15];
            }
        }
        memcpy(p, "?immutable=1", 13);
    }
    free(side);
    free(dir);
    return uri;
}

/* Run a one-row integer query (schema reads at open). Reports NOTADB as
 * "not an mlpsweep database". */
static int query_int(ms_store *s, const char *sql, int *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(st, 0);
        rc = 0;
    } else if ((rc & 0xff) == SQLITE_NOTADB) {
        rc = ms_error("'%s' is not an mlpsweep database (file is not a database)", s->path);
    } else {
        rc = ms_error("cannot read '%s': %s", s->path, sqlite3_errmsg(s->db));
    }
    sqlite3_finalize(st);
    return rc;
}

#define FOREIGN_SQL "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'"
#define OURS_SQL                                                                                   \
    "SELECT count(*) FROM sqlite_master WHERE type = 'table'"                                      \
    " AND name IN ('sweeps', 'runs', 'epochs', 'evals', 'checkpoints')"
#define NTABLES 5

/* SQLite's check report on one line: without its "*** in database main ***"
 * banner, line breaks as "; " (a static buffer: one report at a time). */
static const char *one_line(const char *report)
{
    static char buf[512];
    const char *banner = "*** in database main ***";
    if (!strncmp(report, banner, strlen(banner)))
        report += strlen(banner);
    size_t n = 0;
    for (const char *p = report; *p && n + 3 < sizeof buf; p++) {
        if (*p == '\n') {
            if (n && p[1])
                buf[n++] = ';', buf[n++] = ' ';
        } else
            buf[n++] = *p;
    }
    buf[n] = 0;
    return buf;
}

/* PRAGMA quick_check on every open of an existing database (2 ms on the
 * study's 4.5 MB file): a damaged page is reported before anything reads
 * half of a table. The full check is `mlpsweep check --db`. */
static int quick_check(ms_store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
        rc = 0;
    else if (rc == SQLITE_ROW)
        rc = ms_error("'%s' is damaged: %s (see 'mlpsweep check --db %s')", s->path,
                      one_line((const char *)sqlite3_column_text(st, 0)), s->path);
    else
        rc = ms_error("'%s' is damaged: %s (see 'mlpsweep check --db %s')", s->path,
                      sqlite3_errmsg(s->db), s->path);
    sqlite3_finalize(st);
    return rc;
}

/* ---- the schema's objects against ours ---- */

/* Our objects (type, name, sql), as schema_sql makes them in an empty
 * database: made once, in memory, so the list can never drift from it. */
typedef struct schema_obj {
    char *type, *name, *sql;
} schema_obj;
static schema_obj *our_objs;
static int n_ours;
static pthread_once_t ours_once = PTHREAD_ONCE_INIT;

#define OBJECTS_SQL                                                                                \
    "SELECT type, name, coalesce(sql, '') FROM main.sqlite_master"                                 \
    " WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY type, name"

/* The objects of db's main schema (malloc'd, *n of them); -1 on a read error. */
static int read_objects(sqlite3 *db, schema_obj **out, int *n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, OBJECTS_SQL, -1, &st, NULL), cap = 0;
    *out = NULL;
    *n = 0;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap)
            *out = ms_realloc(*out, (size_t)(cap = cap ? 2 * cap : 16) * sizeof **out);
        schema_obj *o = &(*out)[(*n)++];
        o->type = ms_strdup((const char *)sqlite3_column_text(st, 0));
        o->name = ms_strdup((const char *)sqlite3_column_text(st, 1));
        o->sql = ms_strdup((const char *)sqlite3_column_text(st, 2));
    }
    int ok = rc == SQLITE_OK && sqlite3_errcode(db) != SQLITE_ERROR;
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static void free_objects(schema_obj *o, int n)
{
    for (int i = 0; i < n; i++)
        free(o[i].type), free(o[i].name), free(o[i].sql);
    free(o);
}

static void make_ours(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK || read_objects(db, &our_objs, &n_ours))
        n_ours = -1;
    sqlite3_close(db);
}

static const schema_obj *find_obj(const schema_obj *o, int n, const schema_obj *like)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(o[i].type, like->type) && !strcmp(o[i].name, like->name))
            return &o[i];
    return NULL;
}

/* How the file's schema differs from ours: objects that are not ours (a
 * trigger rewriting results, an index, a table), views whose definition
 * changed, objects of ours that are missing. Files of schema version 1 are
 * read through stand-ins (compat()): only their extras count. NULL when it
 * is ours; else a malloc'd list ("trigger 'x' (not ours), ..."). */
static char *schema_diff(ms_store *s, int version)
{
    pthread_once(&ours_once, make_ours);
    if (n_ours < 0)
        return ms_strdup("our own schema could not be made in memory");
    schema_obj *file;
    int n;
    if (read_objects(s->db, &file, &n) < 0)
        return ms_xstrfmt("its schema cannot be read: %s", sqlite3_errmsg(s->db));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const schema_obj *o = find_obj(our_objs, n_ours, &file[i]);
        const char *why = !o ? "not ours" : version >= 2 && !strcmp(o->type, "view") &&
                                                     strcmp(o->sql, file[i].sql)
                                                 ? "changed"
                                                 : NULL;
        if (why) {
            char *name = ms_printable(file[i].name);
            fprintf(f, "%s%s '%s' (%s)", k++ ? ", " : "", file[i].type, name, why);
            free(name);
        }
    }
    for (int i = 0; version >= 2 && i < n_ours; i++)
        if (!find_obj(file, n, &our_objs[i]))
            fprintf(f, "%s%s '%s' (missing)", k++ ? ", " : "", our_objs[i].type, our_objs[i].name);
    fclose(f);
    free_objects(file, n);
    if (!k) {
        free(out);
        return NULL;
    }
    return out;
}

/* The message of a schema that is not ours; -1. */
static int schema_error(ms_store *s, const char *prefix, const char *diff)
{
    return ms_error("%s'%s' has a schema that is not mlpsweep's: %s (someone changed "
                    "the file: drop what is not ours with the sqlite3 shell, or use a copy you "
                    "trust; see 'mlpsweep check --db %s')",
                    prefix, s->path, diff, s->path);
}

/* Read the schema (the first read: SQLite notices a non-database only now)
 * and check its version. *version: 0 for an empty file, else 1 to 3. A
 * schema that is not ours is refused for writing; read with a warning. */
static int check_schema(ms_store *s, int *version)
{
    int objects = 0, ours = 0, v = 0;
    if (query_int(s, FOREIGN_SQL, &objects) || query_int(s, "PRAGMA user_version", &v))
        return -1;
    if (v > MS_STORE_SCHEMA_VERSION)
        return ms_error("'%s' has schema version %d, newer than this mlpsweep understands (%d)",
                        s->path, v, MS_STORE_SCHEMA_VERSION);
    if (v < 0)
        return ms_error("'%s' is not an mlpsweep database (schema version %d)", s->path, v);
    if (v == 0 && objects > 0)
        return ms_error("'%s' is not an mlpsweep database (it has other tables)", s->path);
    if (v > 0) {
        if (query_int(s, OURS_SQL, &ours))
            return -1;
        if (ours != NTABLES)
            return ms_error("'%s' is not an mlpsweep database (its tables are missing)", s->path);
        if (s->quick && quick_check(s))
            return -1;
        /* refused for writing (and by the probe before a write); a warning
         * for readers; check --db (no quick check) reports it itself */
        char *diff = schema_diff(s, v);
        int refuse = !s->readonly || s->strict;
        if (diff && (refuse || s->quick))
            schema_error(s, refuse ? "" : "warning: ", diff);
        free(diff);
        if (diff && refuse)
            return -1;
    }
    *version = v;
    return 0;
}

/* Run sql in one transaction if the file is still at schema version
 * `from` (another process may have just done it): creating the schema
 * (from 0, refused when the file has other tables) or upgrading it.
 * Messages "cannot <what> '<path>': ...". */
static int schema_step(ms_store *s, int from, const char *sql, const char *what)
{
    char *msg = NULL;
    int v = 0, objects = 0, rc = -1;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, s->path, sqlite3_errmsg(s->db));
        goto out;
    }
    if (query_int(s, "PRAGMA user_version", &v) || query_int(s, FOREIGN_SQL, &objects))
        goto out;
    if (from == 0 && v == 0 && objects > 0) {
        rc = ms_error("'%s' is not an mlpsweep database (it has other tables)", s->path);
        goto out;
    }
    if (v == from && sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, s->path, msg ? msg : "?");
        goto out;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, s->path, sqlite3_errmsg(s->db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A version 1 database made version 2: runs.precision (every run so far
 * trained in float32), the steps table (empty: those runs did not record
 * their steps), and the two views with precision. A version 1 file made
 * before the curves view gets it here too. Version 2 made 3: the sweeps'
 * dataset, unknown (NULL) until their next run records it. */
static const char *const upgrade_sql[MS_STORE_SCHEMA_VERSION] = {
    [1] = "ALTER TABLE runs ADD COLUMN precision TEXT NOT NULL DEFAULT 'float32';\n"
          "CREATE " STEPS_TABLE_SQL
          "DROP VIEW IF EXISTS run_summary;\n"
          "CREATE " RUN_SUMMARY_VIEW_SQL
          "DROP VIEW IF EXISTS curves;\n"
          "CREATE " CURVES_VIEW_SQL
          "PRAGMA user_version = 2;\n",
    [2] = "ALTER TABLE sweeps ADD COLUMN dataset TEXT;\n"
          "ALTER TABLE sweeps ADD COLUMN data_digest TEXT;\n"
          "PRAGMA user_version = 3;\n",
};

/* An older database opened read-only, read as the current version:
 * temporary objects (this connection only; the file is not touched) that
 * shadow the old ones, as the upgrades would make them. */
static int compat(ms_store *s, int version)
{
    static const char v1[] = "CREATE TEMP VIEW runs AS SELECT *, 'float32' AS precision FROM main.runs;\n"
                             "CREATE TEMP " STEPS_TABLE_SQL
                             "CREATE TEMP " RUN_SUMMARY_VIEW_SQL
                             "CREATE TEMP " CURVES_VIEW_SQL;
    static const char v2[] = "CREATE TEMP VIEW sweeps AS SELECT *, NULL AS dataset,"
                             " NULL AS data_digest FROM main.sweeps;\n";
    char *msg = NULL;
    if ((version == 1 && sqlite3_exec(s->db, v1, NULL, NULL, &msg) != SQLITE_OK) ||
        (version <= 2 && sqlite3_exec(s->db, v2, NULL, NULL, &msg) != SQLITE_OK)) {
        int rc = ms_error("cannot read '%s' (schema version %d): %s", s->path, version,
                          msg ? msg : "?");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

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

int ms_store_open(const char *path, int flags, ms_store **out)
{
    int readonly = (flags & MS_STORE_READONLY) != 0;
    int create = (flags & MS_STORE_CREATE) && !readonly;
    int version = 0;
    *out = NULL;
    if (check_path(path, readonly, create))
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
    int oflags = readonly ? SQLITE_OPEN_READONLY
                          : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    char *uri = readonly ? readonly_uri(path) : NULL;
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
    if (check_schema(s, &version))
        goto fail;
    if (!readonly && sqlite3_db_readonly(s->db, "main") == 1) {
        ms_error("cannot open '%s' for writing: the file is read-only", path);
        goto fail;
    }
    if (readonly && version == 0) {
        ms_error("'%s' is not an mlpsweep database (it is empty)", path);
        goto fail;
    }
    if (!readonly && (set_pragmas(s) ||
                      (version == 0 && schema_step(s, 0, schema_sql, "create the tables in"))))
        goto fail;
    for (int v = version; !readonly && v > 0 && v < MS_STORE_SCHEMA_VERSION; v++)
        if (schema_step(s, v, upgrade_sql[v], "upgrade"))
            goto fail;
    /* An older file opened read-only: the writes of newer columns and
     * tables do not compile (nor run: the store is read-only), the reads
     * go through compat()'s stand-ins, made after the writes compiled
     * against main's tables. */
    int old = readonly && version < MS_STORE_SCHEMA_VERSION;
    for (int i = 0; i < Q_N; i++) {
        if (sqlite3_prepare_v3(s->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
                SQLITE_OK &&
            !old) {
            ms_error("cannot read '%s': %s", path, sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    if (old && compat(s, version))
        goto fail;
    for (int i = 0; old && i < Q_N; i++) /* the reads of new columns, through the stand-ins */
        if (!s->q[i])
            sqlite3_prepare_v3(s->db, q_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
    *out = s;
    return 0;
fail:
    if (created)
        ms_store_discard(s); /* it never became a database */
    else
        ms_store_close(s);
    return -1;
}

/* Remove path and the files SQLite keeps beside it. */
static void remove_files(const char *path)
{
    unlink(path);
    for (int i = 0; ms_db_sides[i]; i++) {
        char *p = ms_xstrfmt("%s%s", path, ms_db_sides[i]);
        unlink(p);
        free(p);
    }
}

static void store_free(ms_store *s, int remove)
{
    if (!s)
        return;
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(s->q[i]);
    if (s->db && !s->readonly) {
        /* Fold the log into the file now, then close without SQLite's own
         * checkpoint-and-delete, which takes an exclusive lock that a reader
         * opening at that moment would see as "database is locked". The empty
         * -wal and -shm files stay beside the database. */
        sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    }
    sqlite3_close(s->db);
    /* Removed while the lock is held: a writer waiting for it finds the
     * path gone when it gets the lock, and opens it again (ms_db_lock). */
    if (remove && !s->readonly)
        remove_files(s->path);
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
void ms_store_lock(ms_store *s) { pthread_mutex_lock(&s->mu); }
void ms_store_unlock(ms_store *s) { pthread_mutex_unlock(&s->mu); }

/* ---- check ---- */

static const char *const check_sql[] = {
    "PRAGMA integrity_check",
    "PRAGMA foreign_key_check",
    ("SELECT r.id, r.epochs_done, count(e.epoch) FROM runs r"
     " LEFT JOIN epochs e ON e.run_id = r.id GROUP BY r.id"
     " HAVING count(e.epoch) <> r.epochs_done OR coalesce(max(e.epoch), 0) <> r.epochs_done"),
    ("SELECT r.id, r.epochs_done, c.epoch FROM runs r JOIN checkpoints c ON c.run_id = r.id"
     " WHERE c.epoch <> r.epochs_done"),
};

int ms_store_check(ms_store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, version = 0;
    pthread_mutex_lock(&s->mu);
    if (query_int(s, "PRAGMA user_version", &version))
        goto out;
    char *diff = schema_diff(s, version);
    if (diff) {
        schema_error(s, "", diff);
        free(diff);
        goto out;
    }
    for (int i = 0; i < (int)(sizeof check_sql / sizeof check_sql[0]); i++) {
        if (sqlite3_prepare_v2(s->db, check_sql[i], -1, &st, NULL) != SQLITE_OK) {
            db_error(s, "cannot check the database");
            goto out;
        }
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            db_error(s, "cannot check the database");
            goto out;
        }
        if (i == 0 && strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
            ms_error("'%s' is damaged: %s", s->path,
                     one_line((const char *)sqlite3_column_text(st, 0)));
            goto out;
        }
        if (i == 1 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: a row of '%s' refers to a missing row of '%s'", s->path,
                     (const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 2));
            goto out;
        }
        if (i == 2 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: run %lld has %d epoch rows, but epochs_done is %d",
                     s->path, (long long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 2),
                     sqlite3_column_int(st, 1));
            goto out;
        }
        if (i == 3 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: run %lld has a checkpoint of epoch %d, but epochs_done is %d",
                     s->path, (long long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 2),
                     sqlite3_column_int(st, 1));
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
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
        if (strcmp(ds, data->dataset) || strcmp(dg, data->digest)) {
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
    if (begin(s, what))
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
    rc = commit(s, what);
out:
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
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

int ms_store_register(ms_store *s, int64_t sweep_id, const ms_run_spec *runs, int n,
                      ms_run_info *out)
{
    const char *what = "cannot register the runs";
    char *json = NULL;
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    if (begin(s, what))
        goto out;
    sqlite3_stmt *retire = s->q[Q_RUNS_RETIRE];
    sqlite3_bind_int64(retire, 1, sweep_id);
    if (ms_sql_step_done(retire) != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        const ms_run_spec *k = &runs[i];
        const ms_config *c = &k->cfg;
        const char *task = k->task ? k->task : "";
        sqlite3_int64 seed = (sqlite3_int64)c->seed;
        char hash[17];
        int64_t id;
        int is_new = 0;

        json = ms_config_json(c);
        ms_config_identity(json, hash);

        sqlite3_stmt *find = s->q[Q_RUN_FIND];
        sqlite3_bind_int64(find, 1, sweep_id);
        ms_sql_bind_text(find, 2, k->variant);
        sqlite3_bind_int64(find, 3, seed);
        ms_sql_bind_text(find, 4, hash);
        int step = sqlite3_step(find);
        if (step == SQLITE_ROW) {
            id = sqlite3_column_int64(find, 0);
            sqlite3_reset(find);
        } else if (step == SQLITE_DONE) {
            sqlite3_reset(find);
            sqlite3_stmt *ins = s->q[Q_RUN_INSERT];
            ms_sql_bind_run(ins, sweep_id, k->variant, task, c, json, hash, ms_config_params(c, MS_INPUT));
            if (ms_sql_step_done(ins) != SQLITE_DONE) {
                db_error(s, "cannot register run '%s' seed %llu", k->variant,
                         (unsigned long long)c->seed);
                goto out;
            }
            id = sqlite3_last_insert_rowid(s->db);
            is_new = 1;
        } else {
            db_error(s, "cannot register run '%s' seed %llu", k->variant,
                     (unsigned long long)c->seed);
            goto out;
        }

        sqlite3_stmt *keep = s->q[Q_RUN_KEEP];
        sqlite3_bind_int64(keep, 1, id);
        ms_sql_bind_text(keep, 2, task);
        if (ms_sql_step_done(keep) != SQLITE_DONE) {
            db_error(s, "cannot register run %lld", (long long)id);
            goto out;
        }

        sqlite3_stmt *others = s->q[Q_RUN_OTHERS];
        sqlite3_bind_int64(others, 1, sweep_id);
        ms_sql_bind_text(others, 2, k->variant);
        sqlite3_bind_int64(others, 3, seed);
        ms_sql_bind_text(others, 4, hash);
        if (sqlite3_step(others) != SQLITE_ROW) {
            db_error(s, "cannot register run %lld", (long long)id);
            goto out;
        }
        int replaced = sqlite3_column_int(others, 0);
        sqlite3_reset(others);

        if (get_run(s, id, &out[i], what) != 1)
            goto out;
        out[i].is_new = is_new;
        out[i].replaced = replaced;
        free(json);
        json = NULL;
    }
    rc = commit(s, what);
out:
    free(json);
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ms_store_run(ms_store *s, int64_t run_id, ms_run_info *out)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    int found = get_run(s, run_id, out, "cannot read the run");
    if (found == 0)
        ms_error("no run %lld in '%s'", (long long)run_id, s->path);
    if (found == 1)
        rc = 0;
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Inside a transaction: the run must exist; with `status`, have it. */
static int expect_run(ms_store *s, int64_t run_id, ms_run_info *info, const char *what)
{
    int found = get_run(s, run_id, info, what);
    if (found == 0)
        return ms_error("%s: no run %lld in '%s'", what, (long long)run_id, s->path);
    return found == 1 ? 0 : -1;
}

int ms_store_start_run(ms_store *s, int64_t run_id, const ms_provenance *p)
{
    char what[64];
    ms_run_info info;
    int rc = -1;
    snprintf(what, sizeof what, "cannot start run %lld", (long long)run_id);
    pthread_mutex_lock(&s->mu);
    if (begin(s, what) || expect_run(s, run_id, &info, what))
        goto out;
    if (info.status == MS_RUN_DONE) {
        ms_error("%s: it is done", what);
        goto out;
    }
    sqlite3_stmt *st = s->q[Q_RUN_START];
    sqlite3_bind_int64(st, 1, run_id);
    sqlite3_bind_int64(st, 2, p ? p->pid : 0);
    ms_sql_bind_text(st, 3, p ? p->host : NULL);
    ms_sql_bind_text(st, 4, p ? p->version : NULL);
    ms_sql_bind_text(st, 5, p ? p->compiler : NULL);
    sqlite3_bind_int(st, 6, p ? p->threads : 0);
    if (ms_sql_step_done(st) != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }
    rc = commit(s, what);
out:
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
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
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ms_store_run_rows(ms_store *s, int64_t run_id, int *epochs_done, int *rows)
{
    int rc = -1;
    pthread_mutex_lock(&s->mu);
    sqlite3_stmt *st = s->q[Q_RUN_ROWS];
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *epochs_done = sqlite3_column_int(st, 0);
        *rows = sqlite3_column_int(st, 1);
        rc = 0;
    } else {
        db_error(s, "cannot read run %lld", (long long)run_id);
    }
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A stop reason a caller may record: an epoch ends a run by epochs, early
 * stopping or divergence; a status may also say interrupted. */
static int valid_stop(ms_stop r, int allow_interrupted)
{
    return (r >= MS_STOP_NONE && r <= MS_STOP_DIVERGED) ||
           (allow_interrupted && r == MS_STOP_INTERRUPTED);
}

int ms_store_commit_epoch(ms_store *s, int64_t run_id, const ms_epoch *e, int64_t step_at_end,
                          const ms_eval *evals, int nevals, const void *ckpt, size_t ckpt_n,
                          ms_stop stop_reason)
{
    char what[96];
    ms_run_info info;
    int rc = -1;
    snprintf(what, sizeof what, "cannot commit epoch %d of run %lld", e->epoch, (long long)run_id);
    if (!valid_stop(stop_reason, 0))
        return ms_error("%s: invalid stop reason %d", what, (int)stop_reason);
    if (nevals < 0)
        return ms_error("%s: %d evals", what, nevals);
    for (int i = 0; i < nevals; i++)
        if (evals[i].epoch + 1 != e->epoch)
            return ms_error("%s: the eval at step %lld belongs to epoch %d", what,
                            (long long)evals[i].step, evals[i].epoch + 1);

    pthread_mutex_lock(&s->mu);
    if (begin(s, what) || expect_run(s, run_id, &info, what))
        goto out;
    sqlite3_stmt *has = s->q[Q_EPOCH_HAS];
    sqlite3_bind_int64(has, 1, run_id);
    sqlite3_bind_int(has, 2, e->epoch);
    int step = sqlite3_step(has);
    if (step == SQLITE_ROW) {
        ms_error("%s: it is already stored in '%s'", what, s->path);
        goto out;
    }
    if (step != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }
    sqlite3_reset(has);
    if (info.status != MS_RUN_RUNNING) {
        ms_error("%s: the run is %s, not running", what, ms_run_status_name(info.status));
        goto out;
    }
    if (e->epoch != info.epochs_done + 1) {
        ms_error("%s: the next epoch is %d", what, info.epochs_done + 1);
        goto out;
    }

    sqlite3_stmt *ep = s->q[Q_EPOCH_PUT];
    sqlite3_bind_int64(ep, 1, run_id);
    sqlite3_bind_int(ep, 2, e->epoch);
    sqlite3_bind_int64(ep, 3, nevals ? evals[nevals - 1].step : step_at_end);
    bind_real(ep, 4, e->train_loss);
    bind_real(ep, 5, e->train_acc);
    bind_real(ep, 6, e->val_loss);
    bind_real(ep, 7, e->val_acc);
    bind_real(ep, 8, e->seconds);
    if (ms_sql_step_done(ep) != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }

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
        if (ms_sql_step_done(ev) != SQLITE_DONE) {
            db_error(s, "%s (eval at step %lld)", what, (long long)v->step);
            goto out;
        }
    }

    sqlite3_stmt *sp = s->q[Q_STEP_PUT];
    for (int i = 0; i < e->nsteps; i++) {
        sqlite3_bind_int64(sp, 1, run_id);
        sqlite3_bind_int64(sp, 2, e->first_step + i);
        sqlite3_bind_int(sp, 3, e->epoch);
        bind_real(sp, 4, e->step_loss[i]);
        if (ms_sql_step_done(sp) != SQLITE_DONE) {
            db_error(s, "%s (step %lld)", what, (long long)(e->first_step + i));
            goto out;
        }
    }

    sqlite3_stmt *ck = s->q[ckpt ? Q_CKPT_PUT : Q_CKPT_DEL];
    sqlite3_bind_int64(ck, 1, run_id);
    if (ckpt) {
        sqlite3_bind_int(ck, 2, e->epoch);
        sqlite3_bind_int64(ck, 3, step_at_end);
        sqlite3_bind_blob64(ck, 4, ckpt, (sqlite3_uint64)ckpt_n, SQLITE_STATIC);
    }
    if (ms_sql_step_done(ck) != SQLITE_DONE) {
        db_error(s, "%s (checkpoint)", what);
        goto out;
    }

    sqlite3_stmt *pr = s->q[Q_RUN_PROGRESS];
    sqlite3_bind_int64(pr, 1, run_id);
    sqlite3_bind_int(pr, 2, e->epoch);
    sqlite3_bind_int64(pr, 3, step_at_end);
    sqlite3_bind_double(pr, 4, isfinite(e->seconds) ? e->seconds : 0.0);
    ms_sql_bind_text(pr, 5, stop_reason ? ms_stop_name(stop_reason) : NULL);
    if (ms_sql_step_done(pr) != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }
    rc = commit(s, what);
out:
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ms_store_set_status(ms_store *s, int64_t run_id, ms_run_status status, ms_stop stop_reason,
                        const char *error)
{
    char what[64];
    ms_run_info info;
    int rc = -1;
    snprintf(what, sizeof what, "cannot set the status of run %lld", (long long)run_id);
    if (status < 0 || status >= MS_RUN_NSTATUS)
        return ms_error("%s: invalid status %d", what, (int)status);
    if (!valid_stop(stop_reason, 1))
        return ms_error("%s: invalid stop reason %d", what, (int)stop_reason);
    pthread_mutex_lock(&s->mu);
    if (begin(s, what) || expect_run(s, run_id, &info, what))
        goto out;
    sqlite3_stmt *st = s->q[Q_RUN_STATUS];
    sqlite3_bind_int64(st, 1, run_id);
    ms_sql_bind_text(st, 2, ms_run_status_name(status));
    ms_sql_bind_text(st, 3, stop_reason ? ms_stop_name(stop_reason) : NULL);
    ms_sql_bind_text(st, 4, error);
    if (ms_sql_step_done(st) != SQLITE_DONE) {
        db_error(s, "%s", what);
        goto out;
    }
    rc = commit(s, what);
out:
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int ms_store_reset_run(ms_store *s, int64_t run_id)
{
    static const int q[] = {Q_STEPS_DEL, Q_EVALS_DEL, Q_EPOCHS_DEL, Q_CKPT_DEL, Q_RUN_RESET};
    char what[64];
    ms_run_info info;
    int rc = -1;
    snprintf(what, sizeof what, "cannot reset run %lld", (long long)run_id);
    pthread_mutex_lock(&s->mu);
    if (begin(s, what) || expect_run(s, run_id, &info, what))
        goto out;
    for (int i = 0; i < (int)(sizeof q / sizeof q[0]); i++) {
        sqlite3_bind_int64(s->q[q[i]], 1, run_id);
        if (ms_sql_step_done(s->q[q[i]]) != SQLITE_DONE) {
            db_error(s, "%s", what);
            goto out;
        }
    }
    rc = commit(s, what);
out:
    finish(s);
    pthread_mutex_unlock(&s->mu);
    return rc;
}
