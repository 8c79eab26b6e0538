/* ms_merge: shard databases into one study database (of this schema version,
 * MS_STORE_SCHEMA_VERSION; shards of another version are refused).
 *
 * DESIGN
 * - Connections: the output is opened through ms_store (which creates the
 *   schema and sets WAL); each shard is opened through ms_store READONLY
 *   (which refuses anything that is not an mlpsweep database we understand)
 *   and read on its own connection inside one read transaction, so every
 *   shard is read as one consistent snapshot even while a task still writes
 *   it. Rows are copied value by value (sqlite3_bind_value of the column
 *   value): doubles, NULL losses and checkpoint blobs arrive bit for bit.
 * - One write transaction (BEGIN IMMEDIATE) covers the whole merge: a
 *   conflict or any error rolls everything back. It is the output store's
 *   own (ms_store_begin), as is the deletion of a replaced run's rows.
 * - Before the output is opened, every sweep name and every run of every
 *   shard is checked with the manifest's own rules (ms_manifest_stored_name,
 *   ms_manifest_stored_run: names, seed, settings, data sizes), and its
 *   params, config JSON and config_hash against the settings: a shard holding
 *   what no manifest could have produced is refused before anything is
 *   written, with one line naming the shard, the run and the field.
 * - Order, so that the result matches a single-machine sweep: (1) the sweeps
 *   rows of all shards (the latest manifest wins), (2) every run of that
 *   manifest registered in manifest order (pending until a shard fills it),
 *   so run ids follow the manifest as `run` would number them, (3) the runs
 *   of each shard, (4) current = 1 for the manifest's runs only, (5) each
 *   pruned search's rules and decision journal: a search and a decision
 *   the output lacks are added, one it holds must be the same (a search run
 *   in stages has the same journal in every shard of a stage).
 * - Where each output run came from during this merge (a shard, or a
 *   placeholder of step 2) is kept in a TEMP table, for the messages.
 * - Statements are prepared once and bound; nothing is built with printf. */
#define _POSIX_C_SOURCE 200809L
#include "ms_merge.h"
#include "ms_config.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_metrics.h"
#include "ms_prune.h"
#include "ms_store.h"
#include "ms_util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sql_util.h" /* after <sqlite3.h> */
#include "store_db.h"

#define NOW MS_SQL_NOW

/* Every column of `runs` but id, sweep_id and same_as, in this order. */
#define RUN_COLS                                                                                   \
    "variant, task, seed, config, config_hash, hidden, activation, init, lr, momentum, batch,"     \
    " params, epochs_total, status, current, epochs_done, steps_done, stop_reason, error,"         \
    " train_seconds, created_at, started_at, finished_at, updated_at, pid, host, version,"         \
    " compiler, threads, precision, val_per_epoch, early_stop, shuffle, train_size, val_size,"     \
    " dataset, grid"
#define RUN_NCOLS 37
#define RUN_QMARKS                                                                                 \
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"    \
    " ?, ?, ?, ?, ?, ?, ?"
/* Positions in RUN_COLS. */
enum {
    C_VARIANT = 0, C_TASK = 1, C_SEED = 2, C_CONFIG = 3, C_HASH = 4, C_HIDDEN = 5,
    C_ACTIVATION = 6, C_INIT = 7, C_LR = 8, C_MOMENTUM = 9, C_BATCH = 10, C_PARAMS = 11,
    C_EPOCHS_TOTAL = 12, C_STATUS = 13, C_EPOCHS_DONE = 15, C_STARTED = 21, C_PRECISION = 29,
    C_VAL_PER_EPOCH = 30, C_EARLY_STOP, C_SHUFFLE, C_TRAIN, C_VAL, C_DATASET, C_GRID
};

/* After RUN_COLS in S_RUNS: whether config is a JSON object (the CASE keeps
 * json_type from text that is not JSON, which it would fail on). */
#define JSON_OK                                                                                    \
    "CASE WHEN typeof(config) <> 'text' THEN 0 WHEN json_valid(config)"                            \
    " THEN json_type(config) = 'object' ELSE 0 END"
/* Its position in S_RUNS (the id, RUN_COLS, it), then the variant of the
 * run's same_as (the output's is the run of it and the same settings). */
enum { J_OK = 1 + RUN_NCOLS, J_TWIN };

/* A search's rules and a decision's columns (searches, decisions), in the
 * order the statements below read and write them. */
#define SEARCH_RULES                                                                               \
    "q.trials, q.prune, q.metric, q.goal, q.min_epochs, q.max_epochs, q.eta"
#define SEARCH_NRULES 7
#define DECISION_COLS "trial, rung, bracket, epoch, value, rank, cohort, decision, seq"
#define DECISION_NCOLS 9
#define EPOCH_METRICS "epoch, step, train_loss, train_acc, val_loss, val_acc"
#define EVAL_METRICS "step, epoch, batch_loss, train_loss, train_acc, val_loss, val_acc"
#define STEP_METRICS "step, epoch, batch_loss"
/* A run's epochs and evals up to ?2, as same_prefix compares them: one
 * statement on the output and on a shard. */
#define EPOCHS_CMP_SQL                                                                             \
    "SELECT " EPOCH_METRICS " FROM epochs WHERE run_id = ?1 AND epoch <= ?2 ORDER BY epoch"
#define EVALS_CMP_SQL                                                                              \
    "SELECT " EVAL_METRICS " FROM evals WHERE run_id = ?1 AND epoch <= ?2 ORDER BY step"

/* Where an output run came from during this merge (merge_src.src). */
enum { SRC_OUT = -1, SRC_PLACEHOLDER = -2 };

/* ---- statements on the output ---- */

enum {
    M_SRC_CLEAR, M_SRC_PUT, M_SRC_GET, M_RUN_UNSTARTED,
    M_SWEEP_GET, M_SWEEP_INSERT, M_SWEEP_UPDATE, M_SWEEP_TEXT, M_SWEEP_DATA,
    M_RUN_FIND, M_RUN_INSERT, M_RUN_UPDATE, M_RUN_PLACEHOLDER,
    M_EPOCH_PUT, M_EVAL_PUT, M_STEP_PUT, M_CKPT_PUT,
    M_EPOCHS_CMP, M_EVALS_CMP, M_CURRENT_CLEAR, M_CURRENT_SET, M_RUN_SAME_AS,
    M_SEARCH_FIND, M_SEARCH_PUT, M_DEC_PUT, M_DEC_GET,
    M_N
};

static const char *const m_sql[M_N] = {
    [M_SRC_CLEAR] = "DELETE FROM temp.merge_src",
    [M_SRC_PUT] = "INSERT OR REPLACE INTO temp.merge_src (run_id, src) VALUES (?1, ?2)",
    [M_SRC_GET] = "SELECT src FROM temp.merge_src WHERE run_id = ?1",
    [M_RUN_UNSTARTED] = "SELECT epochs_done = 0 AND started_at IS NULL FROM runs WHERE id = ?1",
    [M_SWEEP_GET] = "SELECT id FROM sweeps WHERE name = ?1",
    [M_SWEEP_INSERT] = "INSERT INTO sweeps (name, manifest_path, manifest, created_at, updated_at,"
                       " dataset, data_digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* The latest manifest wins; SET sees the old row in every expression. */
    [M_SWEEP_UPDATE] = "UPDATE sweeps SET created_at = min(created_at, ?2),"
                       " manifest_path = CASE WHEN ?5 > updated_at THEN ?3 ELSE manifest_path END,"
                       " manifest = CASE WHEN ?5 > updated_at THEN ?4 ELSE manifest END,"
                       " updated_at = max(updated_at, ?5),"
                       " dataset = coalesce(dataset, ?6), data_digest = coalesce(data_digest, ?7)"
                       " WHERE id = ?1",
    [M_SWEEP_DATA] = "SELECT coalesce(dataset, ''), data_digest FROM sweeps WHERE id = ?1",
    [M_SWEEP_TEXT] = "SELECT name, manifest_path, manifest FROM sweeps WHERE id = ?1",
    [M_RUN_FIND] = "SELECT id, epochs_done, status = 'done', started_at IS NOT NULL FROM runs"
                   " WHERE sweep_id = ?1 AND variant = ?2 AND seed = ?3 AND config_hash = ?4",
    [M_RUN_INSERT] = "INSERT INTO runs (" RUN_COLS ", sweep_id) VALUES (" RUN_QMARKS ", ?)",
    [M_RUN_UPDATE] = "UPDATE runs SET (" RUN_COLS ") = (" RUN_QMARKS ") WHERE id = ?",
    [M_RUN_PLACEHOLDER] = MS_SQL_RUN_REGISTER,
    [M_EPOCH_PUT] = "INSERT INTO epochs (run_id, " EPOCH_METRICS ", seconds)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [M_EVAL_PUT] = "INSERT INTO evals (run_id, " EVAL_METRICS ")"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [M_STEP_PUT] = "INSERT INTO steps (run_id, " STEP_METRICS ") VALUES (?1, ?2, ?3, ?4)",
    [M_CKPT_PUT] = "INSERT INTO checkpoints (run_id, epoch, step, state, updated_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5)",
    [M_EPOCHS_CMP] = EPOCHS_CMP_SQL,
    [M_EVALS_CMP] = EVALS_CMP_SQL,
    [M_CURRENT_CLEAR] = "UPDATE runs SET current = 0 WHERE sweep_id = ?1 AND current <> 0",
    [M_CURRENT_SET] = "UPDATE runs SET current = 1 WHERE id = ?1",
    [M_RUN_SAME_AS] = "UPDATE runs SET same_as = (SELECT t.id FROM runs t WHERE t.sweep_id ="
                      " runs.sweep_id AND t.variant = ?2 AND t.seed = runs.seed"
                      " AND t.config_hash = runs.config_hash) WHERE id = ?1",
    [M_SEARCH_FIND] = "SELECT q.id, " SEARCH_RULES " FROM searches q JOIN sweeps w"
                      " ON w.id = q.sweep_id WHERE w.name = ?1 AND q.name = ?2",
    [M_SEARCH_PUT] = "INSERT INTO searches (sweep_id, name, trials, prune, metric, goal,"
                     " min_epochs, max_epochs, eta) SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9"
                     " FROM sweeps WHERE name = ?1",
    [M_DEC_PUT] = "INSERT OR IGNORE INTO decisions (search_id, " DECISION_COLS ")"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [M_DEC_GET] = "SELECT " DECISION_COLS " FROM decisions"
                  " WHERE search_id = ?1 AND trial = ?2 AND rung = ?3",
};

/* ---- statements on a shard ---- */

enum {
    S_BEGIN, S_COMMIT, S_VERSION, S_SWEEPS, S_RUNS, S_EPOCHS, S_EVALS, S_STEPS, S_CKPT,
    S_EPOCHS_CMP, S_EVALS_CMP, S_SEARCHES, S_DECISIONS,
    S_N
};

static const char *const s_sql[S_N] = {
    [S_BEGIN] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_VERSION] = "PRAGMA user_version",
    [S_SWEEPS] = "SELECT id, name, manifest_path, manifest, created_at, updated_at, dataset,"
                 " data_digest FROM sweeps"
                 " ORDER BY id",
    [S_RUNS] = "SELECT id, " RUN_COLS ", " JSON_OK ", (SELECT t.variant FROM runs t"
               " WHERE t.id = runs.same_as) FROM runs WHERE sweep_id = ?1 ORDER BY id",
    [S_EPOCHS] = "SELECT " EPOCH_METRICS ", seconds FROM epochs WHERE run_id = ?1 ORDER BY epoch",
    [S_EVALS] = "SELECT " EVAL_METRICS " FROM evals WHERE run_id = ?1 ORDER BY step",
    [S_STEPS] = "SELECT " STEP_METRICS " FROM steps WHERE run_id = ?1 ORDER BY step",
    [S_CKPT] = "SELECT epoch, step, state, updated_at FROM checkpoints WHERE run_id = ?1",
    [S_EPOCHS_CMP] = EPOCHS_CMP_SQL,
    [S_EVALS_CMP] = EVALS_CMP_SQL,
    [S_SEARCHES] = "SELECT q.id, w.name, q.name, " SEARCH_RULES " FROM searches q"
                   " JOIN sweeps w ON w.id = q.sweep_id ORDER BY q.id",
    [S_DECISIONS] = "SELECT " DECISION_COLS " FROM decisions WHERE search_id = ?1"
                    " ORDER BY trial, rung",
};

typedef struct shard {
    const char *path;
    ms_store *st;
    sqlite3 *db;
    sqlite3_stmt *q[S_N];
    int in_txn;
} shard;

/* A sweep of the output that a shard holds: its manifest's runs, in order. */
typedef struct sweep_ref {
    int64_t id;
    int nruns;        /* -1: the manifest could not be read */
    int64_t *run_ids; /* output run ids in manifest order */
} sweep_ref;

typedef struct merge {
    const char *out_path;
    ms_store *st;
    sqlite3 *db;
    sqlite3_stmt *q[M_N];
    shard *sh;
    int nsh;
    sweep_ref *sweeps;
    int nsweeps;
    ms_merge_stats stats;
} merge;

/* ---- helpers ---- */

static int out_error(merge *g, const char *what)
{
    return ms_error("%s in '%s': %s", what, g->out_path, sqlite3_errmsg(g->db));
}

static int shard_error(const shard *s, const char *what)
{
    return ms_error("%s in '%s': %s", what, s->path, sqlite3_errmsg(s->db));
}

static void reset(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Step q (bound), which returns one row or none: *v its column 0, or none
 * without a row; then reset. -1 after out_error(what). */
static int lookup(merge *g, sqlite3_stmt *q, int64_t none, int64_t *v, const char *what)
{
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return out_error(g, what);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : none;
    reset(q);
    return 0;
}

/* Bind columns [from, from + n) of `row` to parameters first..first+n-1. */
static void bind_columns(sqlite3_stmt *dst, int first, sqlite3_stmt *row, int from, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_bind_value(dst, first + i, sqlite3_column_value(row, from + i));
}

/* Exactly the same stored value, column i of a and column j of b: type,
 * and bits for doubles. */
static int same_value_at(sqlite3_stmt *a, int i, sqlite3_stmt *b, int j)
{
    int t = sqlite3_column_type(a, i);
    if (t != sqlite3_column_type(b, j))
        return 0;
    switch (t) {
    case SQLITE_NULL: return 1;
    case SQLITE_INTEGER: return sqlite3_column_int64(a, i) == sqlite3_column_int64(b, j);
    case SQLITE_FLOAT: {
        double x = sqlite3_column_double(a, i), y = sqlite3_column_double(b, j);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    default: {
        const void *x = sqlite3_column_blob(a, i), *y = sqlite3_column_blob(b, j);
        int n = sqlite3_column_bytes(a, i);
        return n == sqlite3_column_bytes(b, j) && (n == 0 || memcmp(x, y, (size_t)n) == 0);
    }
    }
}

static int same_value(sqlite3_stmt *a, sqlite3_stmt *b, int i)
{
    return same_value_at(a, i, b, i);
}

/* ---- provenance (temp.merge_src) ---- */

static int src_put(merge *g, int64_t run_id, int src)
{
    sqlite3_stmt *q = g->q[M_SRC_PUT];
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int(q, 2, src);
    if (ms_sql_step_done(q) != SQLITE_DONE)
        return out_error(g, "cannot merge");
    return 0;
}

/* The source of an output run: a shard index, SRC_PLACEHOLDER or SRC_OUT. */
static int src_get(merge *g, int64_t run_id, int *src)
{
    int64_t v = SRC_OUT;
    sqlite3_bind_int64(g->q[M_SRC_GET], 1, run_id);
    if (lookup(g, g->q[M_SRC_GET], SRC_OUT, &v, "cannot merge"))
        return -1;
    *src = (int)v;
    return 0;
}

/* ---- opening ---- */

static int same_file(const char *a, const char *b)
{
    struct stat x, y;
    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

static int open_shard(shard *s, const char *out)
{
    if (access(out, F_OK) == 0 && same_file(s->path, out))
        return ms_error("'%s' is the output database: it cannot be merged into itself", s->path);
    if (ms_store_open(s->path, MS_STORE_READONLY, &s->st) < 0)
        return -1;
    s->db = ms_store_handle(s->st);
    for (int i = 0; i < S_N; i++)
        if (sqlite3_prepare_v2(s->db, s_sql[i], -1, &s->q[i], NULL) != SQLITE_OK)
            return shard_error(s, "cannot read the shard");
    sqlite3_stmt *v = s->q[S_VERSION];
    if (sqlite3_step(v) != SQLITE_ROW)
        return shard_error(s, "cannot read the shard");
    int version = sqlite3_column_int(v, 0);
    sqlite3_reset(v);
    if (version != MS_STORE_SCHEMA_VERSION)
        return ms_error("'%s' has schema version %d, not %d: merge it with the mlpsweep that wrote it",
                        s->path, version, MS_STORE_SCHEMA_VERSION);
    /* one snapshot of the shard for the whole merge */
    if (ms_sql_step_done(s->q[S_BEGIN]) != SQLITE_DONE)
        return shard_error(s, "cannot read the shard");
    s->in_txn = 1;
    return 0;
}

static void close_shard(shard *s)
{
    for (int i = 0; i < S_N; i++) {
        if (s->q[i])
            sqlite3_reset(s->q[i]);
    }
    if (s->in_txn)
        sqlite3_step(s->q[S_COMMIT]);
    for (int i = 0; i < S_N; i++)
        sqlite3_finalize(s->q[i]);
    ms_store_close(s->st);
}

static int prepare_out(merge *g)
{
    sqlite3_stmt *t = NULL;
    int rc = sqlite3_prepare_v2(g->db,
                                "CREATE TEMP TABLE IF NOT EXISTS merge_src"
                                " (run_id INTEGER PRIMARY KEY, src INTEGER NOT NULL)",
                                -1, &t, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(t);
    sqlite3_finalize(t);
    if (rc != SQLITE_DONE)
        return out_error(g, "cannot merge");
    for (int i = 0; i < M_N; i++)
        if (sqlite3_prepare_v2(g->db, m_sql[i], -1, &g->q[i], NULL) != SQLITE_OK)
            return out_error(g, "cannot merge");
    return 0;
}

/* ---- step 0: what a manifest could have produced ---- */

/* Column col of a row as the manifest's rules take a stored value. */
static ms_stored stored(sqlite3_stmt *q, int col)
{
    ms_stored v = {MS_SV_NULL, 0, 0, NULL, 0};
    switch (sqlite3_column_type(q, col)) {
    case SQLITE_INTEGER:
        v.kind = MS_SV_INT;
        v.i = sqlite3_column_int64(q, col);
        break;
    case SQLITE_FLOAT:
        v.kind = MS_SV_REAL;
        v.d = sqlite3_column_double(q, col);
        break;
    case SQLITE_TEXT:
        v.kind = MS_SV_TEXT;
        v.s = (const char *)sqlite3_column_text(q, col); /* then its length (SQLite's order) */
        v.len = v.s ? (size_t)sqlite3_column_bytes(q, col) : 0;
        break;
    case SQLITE_BLOB:
        v.kind = MS_SV_BLOB;
        break;
    }
    return v;
}

/* The run of S_RUNS's current row: its names, seed and settings by the
 * manifest's rules, then params, config and config_hash against them. */
static int check_run(const shard *s, sqlite3_stmt *r)
{
    static const int cols[MS_SF_N] = {
        [MS_SF_VARIANT] = 1 + C_VARIANT, [MS_SF_TASK] = 1 + C_TASK, [MS_SF_SEED] = 1 + C_SEED,
        [MS_SF_HIDDEN] = 1 + C_HIDDEN, [MS_SF_ACTIVATION] = 1 + C_ACTIVATION,
        [MS_SF_INIT] = 1 + C_INIT, [MS_SF_LR] = 1 + C_LR, [MS_SF_MOMENTUM] = 1 + C_MOMENTUM,
        [MS_SF_BATCH] = 1 + C_BATCH, [MS_SF_EPOCHS] = 1 + C_EPOCHS_TOTAL,
        [MS_SF_VAL_PER_EPOCH] = 1 + C_VAL_PER_EPOCH, [MS_SF_EARLY_STOP] = 1 + C_EARLY_STOP,
        [MS_SF_SHUFFLE] = 1 + C_SHUFFLE, [MS_SF_PRECISION] = 1 + C_PRECISION,
        [MS_SF_TRAIN] = 1 + C_TRAIN, [MS_SF_VAL] = 1 + C_VAL, [MS_SF_DATASET] = 1 + C_DATASET};
    long long id = sqlite3_column_int64(r, 0);
    char why[512];
    if (!sqlite3_column_int(r, J_OK))
        return ms_error("refusing '%s': run %lld: config: not a JSON object", s->path, id);
    ms_stored f[MS_SF_N];
    for (int i = 0; i < MS_SF_N; i++)
        f[i] = stored(r, cols[i]);
    if (f[MS_SF_SHUFFLE].kind == MS_SV_INT && (f[MS_SF_SHUFFLE].i & ~1) == 0) /* 0 or 1 */
        f[MS_SF_SHUFFLE].kind = MS_SV_BOOL;
    ms_stored grid = stored(r, 1 + C_GRID);
    ms_config cfg;
    if (ms_manifest_stored_run(f, &cfg, why, sizeof why) ||
        (grid.kind != MS_SV_NULL && ms_manifest_stored_name(&grid, "grid", why, sizeof why)))
        return ms_error("refusing '%s': run %lld: %s", s->path, id, why);
    if (sqlite3_column_type(r, 1 + C_PARAMS) != SQLITE_INTEGER ||
        sqlite3_column_int64(r, 1 + C_PARAMS) != ms_config_params(&cfg, MS_INPUT))
        return ms_error("refusing '%s': run %lld: params: not the network's weight count", s->path,
                        id);
    /* the JSON of these settings, as this or an older build wrote it */
    const char *json = (const char *)sqlite3_column_text(r, 1 + C_CONFIG);
    size_t len = json ? (size_t)sqlite3_column_bytes(r, 1 + C_CONFIG) : 0;
    int same = 0;
    for (int v = MS_NUMERICS; v >= 1 && !same && json; v--) {
        char *want = ms_config_json_at(&cfg, v);
        same = strlen(want) == len && !memcmp(want, json, len);
        free(want);
    }
    if (!same)
        return ms_error("refusing '%s': run %lld: config: does not match the run's settings",
                        s->path, id);
    char hash[17];
    ms_config_identity(json, hash);
    const char *stored_hash = (const char *)sqlite3_column_text(r, 1 + C_HASH);
    if (sqlite3_column_type(r, 1 + C_HASH) != SQLITE_TEXT || !stored_hash ||
        sqlite3_column_bytes(r, 1 + C_HASH) != 16 || memcmp(stored_hash, hash, 16))
        return ms_error("refusing '%s': run %lld: config_hash: not the hash of its config", s->path,
                        id);
    return 0;
}

/* Rules of a search as a shard stores them (S_SEARCHES, from column 3) that
 * no manifest could give: -1 after a message. */
static int check_rules(const shard *s, sqlite3_stmt *q)
{
    ms_stored name = stored(q, 2);
    char why[512];
    const char *metric = (const char *)sqlite3_column_text(q, 5);
    int known = 0;
    for (int m = MS_METRIC_TRAIN_LOSS; m <= MS_METRIC_VAL_ACC && metric; m++)
        known |= !strcmp(metric, ms_metric_name((ms_metric)m));
    ms_prune p = {MS_PRUNE_SHA, 0, 0, sqlite3_column_int(q, 7), sqlite3_column_int(q, 8),
                  sqlite3_column_int(q, 9)};
    if (ms_manifest_stored_name(&name, "name", why, sizeof why))
        return ms_error("refusing '%s': search %lld: %s", s->path,
                        (long long)sqlite3_column_int64(q, 0), why);
    if (!known || ms_prune_valid(&p) < 0 || sqlite3_column_int(q, 3) < 1)
        return ms_error("refusing '%s': search %lld: its rules are not ones a manifest gives "
                        "(trials, metric, min, max or eta)",
                        s->path, (long long)sqlite3_column_int64(q, 0));
    return 0;
}

/* Every sweep name, run and search a shard would bring in (the rows
 * merge_sweeps, merge_runs and merge_searches read), before anything is
 * written. */
static int check_shard(shard *s)
{
    sqlite3_stmt *sw = s->q[S_SWEEPS], *runs = s->q[S_RUNS];
    char why[512];
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(sw)) == SQLITE_ROW) {
        ms_stored name = stored(sw, 1);
        if (ms_manifest_stored_name(&name, "name", why, sizeof why)) {
            bad = ms_error("refusing '%s': sweep %lld: %s", s->path,
                           (long long)sqlite3_column_int64(sw, 0), why);
            break;
        }
        sqlite3_bind_int64(runs, 1, sqlite3_column_int64(sw, 0));
        int rr;
        while (!bad && (rr = sqlite3_step(runs)) == SQLITE_ROW)
            bad = check_run(s, runs);
        if (!bad && rr != SQLITE_DONE)
            bad = shard_error(s, "cannot read the runs");
        reset(runs);
    }
    if (!bad && rc != SQLITE_DONE)
        bad = shard_error(s, "cannot read the sweeps");
    sqlite3_reset(sw);
    sqlite3_stmt *q = s->q[S_SEARCHES];
    while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW)
        bad = check_rules(s, q);
    if (!bad && rc != SQLITE_DONE)
        bad = shard_error(s, "cannot read the searches");
    sqlite3_reset(q);
    return bad;
}

/* ---- step 1: sweeps ---- */

static int sweep_index(merge *g, int64_t id)
{
    for (int i = 0; i < g->nsweeps; i++)
        if (g->sweeps[i].id == id)
            return i;
    return -1;
}

/* The output's id of sweep `name`; 0 when there is none. */
static int find_sweep(merge *g, sqlite3_value *name, int64_t *id)
{
    sqlite3_bind_value(g->q[M_SWEEP_GET], 1, name);
    return lookup(g, g->q[M_SWEEP_GET], 0, id, "cannot merge the sweeps");
}

/* One sweep, one dataset: a shard's sweep trained on other data than the
 * output's same sweep is refused (the merge is rolled back). */
static int same_data(merge *g, const shard *s, int64_t id, sqlite3_stmt *row)
{
    sqlite3_stmt *q = g->q[M_SWEEP_DATA];
    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) != SQLITE_ROW)
        return out_error(g, "cannot merge the sweeps");
    const char *ds = (const char *)sqlite3_column_text(q, 0),
               *dg = (const char *)sqlite3_column_text(q, 1),
               *sds = (const char *)sqlite3_column_text(row, 6),
               *sdg = (const char *)sqlite3_column_text(row, 7);
    int rc = 0;
    if (ms_sql_other_data(ds, dg, sds ? sds : "", sdg)) {
        char *name = ms_printable((const char *)sqlite3_column_text(row, 1)),
             *a = ms_printable(sds ? sds : ""), *b = ms_printable(sdg), *c = ms_printable(ds),
             *d = ms_printable(dg);
        rc = ms_error("refusing '%s': sweep '%s' was trained on %s data %s there, on %s data %s "
                      "in '%s': merge shards of one dataset only",
                      s->path, name, a, b, c, d, g->out_path);
        free(name), free(a), free(b), free(c), free(d);
    }
    reset(q);
    return rc;
}

static int merge_sweeps(merge *g, shard *s)
{
    sqlite3_stmt *rows = s->q[S_SWEEPS];
    int rc;
    while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
        int64_t id = 0;
        if (find_sweep(g, sqlite3_column_value(rows, 1), &id))
            return -1;
        sqlite3_stmt *w;
        if (!id) {
            w = g->q[M_SWEEP_INSERT];
            bind_columns(w, 1, rows, 1, 7);
        } else {
            if (same_data(g, s, id, rows))
                return -1;
            w = g->q[M_SWEEP_UPDATE];
            sqlite3_bind_int64(w, 1, id);
            bind_columns(w, 2, rows, 4, 1); /* created_at */
            bind_columns(w, 3, rows, 2, 2); /* manifest_path, manifest */
            bind_columns(w, 5, rows, 5, 3); /* updated_at, dataset, data_digest */
        }
        if (ms_sql_step_done(w) != SQLITE_DONE)
            return out_error(g, "cannot merge the sweeps");
        reset(w);
        if (!id)
            id = sqlite3_last_insert_rowid(g->db);
        if (sweep_index(g, id) < 0) {
            g->sweeps = ms_realloc(g->sweeps, (size_t)(g->nsweeps + 1) * sizeof *g->sweeps);
            g->sweeps[g->nsweeps++] = (sweep_ref){id, -1, NULL};
        }
    }
    if (rc != SQLITE_DONE)
        return shard_error(s, "cannot read the sweeps");
    sqlite3_reset(rows);
    return 0;
}

/* ---- step 2: the manifest's runs, in order ---- */

/* Find the output run: step M_RUN_FIND, bound to (sweep, variant, seed,
 * hash); 1 found, 0 not, -1 error. rank: epochs done, done, started (what
 * makes a copy better). */
static int find_run(merge *g, int64_t *id, int rank[3])
{
    sqlite3_stmt *q = g->q[M_RUN_FIND];
    int rc = sqlite3_step(q);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return out_error(g, "cannot merge the runs");
    int found = rc == SQLITE_ROW;
    if (found) {
        *id = sqlite3_column_int64(q, 0);
        for (int k = 0; k < 3; k++)
            rank[k] = sqlite3_column_int(q, 1 + k);
    }
    reset(q);
    return found;
}

/* Register one run of the manifest unless the output holds it; its id. */
static int manifest_run(merge *g, int64_t sweep_id, const ms_run_spec *r, int64_t *id)
{
    const ms_config *c = &r->cfg;
    char hash[17];
    char *json = ms_config_json(c);
    int rc = -1;
    ms_config_identity(json, hash);

    sqlite3_stmt *q = g->q[M_RUN_FIND];
    sqlite3_bind_int64(q, 1, sweep_id);
    ms_sql_bind_text(q, 2, r->variant);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)c->seed);
    ms_sql_bind_text(q, 4, hash);
    int rank[3], found = find_run(g, id, rank);
    if (found) {
        rc = found < 0 ? -1 : 0;
        goto out;
    }
    sqlite3_stmt *ins = g->q[M_RUN_PLACEHOLDER];
    ms_sql_bind_run(ins, sweep_id, r, json, hash, ms_config_params(c, MS_INPUT));
    if (ms_sql_step_done(ins) != SQLITE_DONE) {
        out_error(g, "cannot merge the runs");
        goto out;
    }
    reset(ins);
    *id = sqlite3_last_insert_rowid(g->db);
    rc = src_put(g, *id, SRC_PLACEHOLDER);
out:
    free(json);
    return rc;
}

/* Parse the sweep's stored manifest quietly; 0 when it could be read. */
static int stored_manifest(merge *g, sweep_ref *w, ms_manifest *m, char **name)
{
    sqlite3_stmt *q = g->q[M_SWEEP_TEXT];
    sqlite3_bind_int64(q, 1, w->id);
    if (sqlite3_step(q) != SQLITE_ROW)
        return out_error(g, "cannot merge the sweeps");
    const char *path = (const char *)sqlite3_column_text(q, 1);
    const char *text = (const char *)sqlite3_column_text(q, 2);
    char *label = ms_strdup(path ? path : "manifest");
    char *body = ms_strdup(text ? text : "");
    *name = ms_strdup((const char *)sqlite3_column_text(q, 0));
    reset(q);

    /* its problems are not ours to report: keep them out of the error stream */
    char *buf = NULL;
    size_t len = 0;
    FILE *sink = open_memstream(&buf, &len);
    FILE *prev = ms_error_file();
    if (sink)
        ms_error_stream(sink);
    int rc = ms_manifest_parse(label, body, strlen(body), m, 0);
    if (sink) {
        ms_error_stream(prev == stderr ? NULL : prev);
        fclose(sink);
    }
    free(buf);
    free(body);
    free(label);
    return rc < 0 ? 1 : 0;
}

static int register_manifest(merge *g, sweep_ref *w)
{
    ms_manifest m;
    char *name = NULL;
    int rc = stored_manifest(g, w, &m, &name);
    if (rc < 0) {
        free(name);
        return -1;
    }
    if (rc > 0) {
        fprintf(ms_error_file(), "mlpsweep: the manifest stored for sweep '%s' cannot be read: runs keep "
                        "their shards' current flags\n", name);
        free(name);
        return 0;
    }
    ms_run_spec *specs = NULL;
    int n = ms_manifest_expand(&m, &specs);
    w->run_ids = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *w->run_ids);
    rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = manifest_run(g, w->id, &specs[i], &w->run_ids[i]);
    if (!rc)
        w->nruns = n;
    free(specs);
    ms_manifest_release(&m);
    free(name);
    return rc;
}

/* ---- step 3: runs ---- */

/* Same epochs and evals up to `epochs` in the output run and the shard's. */
static int same_prefix(merge *g, int64_t out_id, shard *s, int64_t shard_id, int epochs, int *same)
{
    static const int pairs[2][2] = {{M_EPOCHS_CMP, S_EPOCHS_CMP}, {M_EVALS_CMP, S_EVALS_CMP}};
    *same = 1;
    for (int p = 0; p < 2 && *same; p++) {
        sqlite3_stmt *a = g->q[pairs[p][0]], *b = s->q[pairs[p][1]];
        sqlite3_bind_int64(a, 1, out_id);
        sqlite3_bind_int(a, 2, epochs);
        sqlite3_bind_int64(b, 1, shard_id);
        sqlite3_bind_int(b, 2, epochs);
        for (;;) {
            int ra = sqlite3_step(a), rb = sqlite3_step(b);
            if (ra != SQLITE_ROW && ra != SQLITE_DONE)
                return out_error(g, "cannot compare the runs");
            if (rb != SQLITE_ROW && rb != SQLITE_DONE)
                return shard_error(s, "cannot compare the runs");
            if (ra != rb) {
                *same = 0;
                break;
            }
            if (ra == SQLITE_DONE)
                break;
            for (int c = 0; c < sqlite3_column_count(a) && *same; c++)
                *same = same_value(a, b, c);
            if (!*same)
                break;
        }
        reset(a);
        reset(b);
    }
    return 0;
}

/* Copy the shard run's epochs, evals, steps, checkpoint, same_as to run `id`. */
static int copy_children(merge *g, int64_t id, shard *s, int64_t shard_id)
{
    static const int pairs[][3] = {{S_EPOCHS, M_EPOCH_PUT, 7},
                                   {S_EVALS, M_EVAL_PUT, 7},
                                   {S_STEPS, M_STEP_PUT, 3},
                                   {S_CKPT, M_CKPT_PUT, 4}};
    for (int p = 0; p < (int)(sizeof pairs / sizeof pairs[0]); p++) {
        sqlite3_stmt *from = s->q[pairs[p][0]], *to = g->q[pairs[p][1]];
        sqlite3_bind_int64(from, 1, shard_id);
        int rc;
        while ((rc = sqlite3_step(from)) == SQLITE_ROW) {
            sqlite3_bind_int64(to, 1, id);
            bind_columns(to, 2, from, 0, pairs[p][2]);
            if (ms_sql_step_done(to) != SQLITE_DONE) {
                out_error(g, "cannot copy the results");
                reset(from);
                return -1;
            }
        }
        if (rc != SQLITE_DONE)
            return shard_error(s, "cannot read the results");
        reset(from);
        reset(to);
    }
    sqlite3_stmt *twin = g->q[M_RUN_SAME_AS];
    sqlite3_bind_int64(twin, 1, id);
    sqlite3_bind_value(twin, 2, sqlite3_column_value(s->q[S_RUNS], J_TWIN));
    if (ms_sql_step_done(twin) != SQLITE_DONE)
        return out_error(g, "cannot copy the results");
    return 0;
}

static int better(const int a[3], const int b[3])
{
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k])
            return a[k] > b[k];
    return 0;
}

/* One run of shard `si` (the current row of S_RUNS: id, then RUN_COLS). */
static int merge_run(merge *g, int si, int64_t sweep_id)
{
    shard *s = &g->sh[si];
    sqlite3_stmt *r = s->q[S_RUNS];
    int64_t shard_id = sqlite3_column_int64(r, 0), id = 0;
    const unsigned char *status = sqlite3_column_text(r, 1 + C_STATUS);
    int mine[3] = {sqlite3_column_int(r, 1 + C_EPOCHS_DONE),
                   status && !strcmp((const char *)status, ms_run_status_name(MS_RUN_DONE)),
                   sqlite3_column_type(r, 1 + C_STARTED) != SQLITE_NULL};
    int theirs[3] = {0, 0, 0}, src = SRC_OUT;
    sqlite3_stmt *find = g->q[M_RUN_FIND];
    sqlite3_bind_int64(find, 1, sweep_id);
    sqlite3_bind_value(find, 2, sqlite3_column_value(r, 1 + C_VARIANT));
    sqlite3_bind_value(find, 3, sqlite3_column_value(r, 1 + C_SEED));
    sqlite3_bind_value(find, 4, sqlite3_column_value(r, 1 + C_HASH));
    int found = find_run(g, &id, theirs);
    if (found < 0)
        return -1;
    if (!found) {
        sqlite3_stmt *ins = g->q[M_RUN_INSERT];
        bind_columns(ins, 1, r, 1, RUN_NCOLS);
        sqlite3_bind_int64(ins, RUN_NCOLS + 1, sweep_id);
        if (ms_sql_step_done(ins) != SQLITE_DONE)
            return out_error(g, "cannot copy a run");
        reset(ins);
        id = sqlite3_last_insert_rowid(g->db);
        g->stats.added++;
        return copy_children(g, id, s, shard_id) || src_put(g, id, si) ? -1 : 0;
    }
    if (src_get(g, id, &src))
        return -1;
    if (src == SRC_OUT && !theirs[0] && !theirs[1] && !theirs[2])
        src = SRC_PLACEHOLDER; /* pending, never started: from an earlier merge */
    if (src != SRC_PLACEHOLDER) {
        int common = mine[0] < theirs[0] ? mine[0] : theirs[0], same;
        if (same_prefix(g, id, s, shard_id, common, &same))
            return -1;
        if (!same)
            return ms_error("run '%s' seed %llu differs between '%s' and '%s'",
                            (const char *)sqlite3_column_text(r, 1 + C_VARIANT),
                            (unsigned long long)sqlite3_column_int64(r, 1 + C_SEED),
                            src == SRC_OUT ? g->out_path : g->sh[src].path, s->path);
        if (!better(mine, theirs)) {
            g->stats.same++;
            return 0;
        }
    }
    sqlite3_stmt *up = g->q[M_RUN_UPDATE];
    bind_columns(up, 1, r, 1, RUN_NCOLS);
    sqlite3_bind_int64(up, RUN_NCOLS + 1, id);
    if (ms_store_clear_run(g->st, id, "cannot replace a run") ||
        ms_sql_step_done(up) != SQLITE_DONE)
        return out_error(g, "cannot replace a run");
    reset(up);
    if (src == SRC_PLACEHOLDER)
        g->stats.added++;
    else
        g->stats.updated++;
    return copy_children(g, id, s, shard_id) || src_put(g, id, si) ? -1 : 0;
}

static int merge_runs(merge *g, int si)
{
    shard *s = &g->sh[si];
    sqlite3_stmt *sw = s->q[S_SWEEPS], *runs = s->q[S_RUNS];
    int rc;
    while ((rc = sqlite3_step(sw)) == SQLITE_ROW) {
        int64_t sweep_id = 0;
        if (find_sweep(g, sqlite3_column_value(sw, 1), &sweep_id))
            return -1;
        sqlite3_bind_int64(runs, 1, sqlite3_column_int64(sw, 0));
        int rr;
        while ((rr = sqlite3_step(runs)) == SQLITE_ROW)
            if (merge_run(g, si, sweep_id)) {
                reset(runs);
                return -1;
            }
        if (rr != SQLITE_DONE)
            return shard_error(s, "cannot read the runs");
        reset(runs);
    }
    if (rc != SQLITE_DONE)
        return shard_error(s, "cannot read the sweeps");
    sqlite3_reset(sw);
    return 0;
}

/* ---- step 4: current runs ---- */

/* current = 1 for the manifest's runs only; count those never started. */
static int mark_current(merge *g, const sweep_ref *w)
{
    if (w->nruns < 0)
        return 0;
    sqlite3_stmt *clear = g->q[M_CURRENT_CLEAR], *set = g->q[M_CURRENT_SET];
    sqlite3_stmt *unstarted = g->q[M_RUN_UNSTARTED];
    sqlite3_bind_int64(clear, 1, w->id);
    if (ms_sql_step_done(clear) != SQLITE_DONE)
        return out_error(g, "cannot mark the current runs");
    for (int i = 0; i < w->nruns; i++) {
        sqlite3_bind_int64(set, 1, w->run_ids[i]);
        if (ms_sql_step_done(set) != SQLITE_DONE)
            return out_error(g, "cannot mark the current runs");
        sqlite3_bind_int64(unstarted, 1, w->run_ids[i]);
        if (sqlite3_step(unstarted) != SQLITE_ROW)
            return out_error(g, "cannot mark the current runs");
        g->stats.missing += sqlite3_column_int(unstarted, 0);
        sqlite3_reset(unstarted);
    }
    return 0;
}

/* ---- step 5: the searches' rules and decision journals ---- */

/* Search `out_id` of the output against the shard's row q: the same rules,
 * or -1 after a message. */
static int same_rules(const shard *s, sqlite3_stmt *q, sqlite3_stmt *have)
{
    for (int i = 0; i < SEARCH_NRULES; i++)
        if (!same_value_at(q, 3 + i, have, 1 + i))
            return ms_error("the pruned search '%s' of sweep '%s' has other rules in '%s' than "
                            "in the files merged before it: merge the files of one set of rules",
                            (const char *)sqlite3_column_text(q, 2),
                            (const char *)sqlite3_column_text(q, 1), s->path);
    return 0;
}

/* The decisions of shard search q into output search out_id: a row the
 * output lacks is added, one it holds must be the same. */
static int merge_decisions(merge *g, shard *s, int64_t shard_id, int64_t out_id,
                           const char *name)
{
    sqlite3_stmt *d = s->q[S_DECISIONS], *put = g->q[M_DEC_PUT], *get = g->q[M_DEC_GET];
    sqlite3_bind_int64(d, 1, shard_id);
    int rc;
    while ((rc = sqlite3_step(d)) == SQLITE_ROW) {
        sqlite3_bind_int64(put, 1, out_id);
        bind_columns(put, 2, d, 0, DECISION_NCOLS);
        if (ms_sql_step_done(put) != SQLITE_DONE)
            return reset(d), out_error(g, "cannot merge the decisions");
        reset(put);
        sqlite3_bind_int64(get, 1, out_id);
        bind_columns(get, 2, d, 0, 2);
        int same = sqlite3_step(get) == SQLITE_ROW;
        for (int i = 2; same && i < DECISION_NCOLS; i++)
            same = same_value(get, d, i);
        reset(get);
        if (!same) {
            int trial = sqlite3_column_int(d, 0), rung = sqlite3_column_int(d, 1);
            reset(d);
            return ms_error("the pruned search '%s': the decision on trial %d at rung %d differs "
                            "between '%s' and the files merged before it",
                            name, trial, rung, s->path);
        }
    }
    reset(d);
    return rc == SQLITE_DONE ? 0 : shard_error(s, "cannot read the decisions");
}

static int merge_searches(merge *g, shard *s)
{
    sqlite3_stmt *q = s->q[S_SEARCHES], *find = g->q[M_SEARCH_FIND];
    int rc, bad = 0;
    while (!bad && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        bind_columns(find, 1, q, 1, 2);
        int have = sqlite3_step(find);
        if (have == SQLITE_ROW) {
            bad = same_rules(s, q, find);
        } else if (have == SQLITE_DONE) {
            sqlite3_stmt *put = g->q[M_SEARCH_PUT];
            bind_columns(put, 1, q, 1, 2 + SEARCH_NRULES);
            bad = ms_sql_step_done(put) != SQLITE_DONE ? out_error(g, "cannot merge the searches")
                                                       : 0;
            reset(put);
            reset(find);
            bind_columns(find, 1, q, 1, 2);
            have = sqlite3_step(find);
        }
        if (!bad && have != SQLITE_ROW)
            bad = out_error(g, "cannot merge the searches");
        int64_t out_id = bad ? 0 : sqlite3_column_int64(find, 0);
        reset(find);
        if (!bad)
            bad = merge_decisions(g, s, sqlite3_column_int64(q, 0), out_id,
                                  (const char *)sqlite3_column_text(q, 2));
    }
    reset(q);
    if (bad)
        return -1;
    return rc == SQLITE_DONE ? 0 : shard_error(s, "cannot read the searches");
}

/* ---- the merge ---- */

static int run_merge(merge *g)
{
    if (ms_sql_step_done(g->q[M_SRC_CLEAR]) != SQLITE_DONE)
        return out_error(g, "cannot merge");
    for (int i = 0; i < g->nsh; i++)
        if (merge_sweeps(g, &g->sh[i]))
            return -1;
    for (int i = 0; i < g->nsweeps; i++)
        if (register_manifest(g, &g->sweeps[i]))
            return -1;
    for (int i = 0; i < g->nsh; i++)
        if (merge_runs(g, i))
            return -1;
    for (int i = 0; i < g->nsweeps; i++)
        if (mark_current(g, &g->sweeps[i]))
            return -1;
    for (int i = 0; i < g->nsh; i++)
        if (merge_searches(g, &g->sh[i]))
            return -1;
    g->stats.sweeps = g->nsweeps;
    return 0;
}

int ms_merge(const char *out, const char *const *shards, int nshards, ms_merge_stats *stats)
{
    merge g;
    int rc = -1, created = 0;
    memset(&g, 0, sizeof g);
    g.out_path = out;
    g.nsh = nshards;
    g.sh = ms_calloc((size_t)(nshards > 0 ? nshards : 1), sizeof *g.sh);
    for (int i = 0; i < nshards; i++) {
        g.sh[i].path = shards[i];
        if (open_shard(&g.sh[i], out))
            goto out;
    }
    for (int i = 0; i < nshards; i++)
        if (check_shard(&g.sh[i]))
            goto out;
    created = access(out, F_OK) != 0;
    if (ms_store_open(out, MS_STORE_CREATE, &g.st) < 0)
        goto out;
    g.db = ms_store_handle(g.st);
    ms_store_lock(g.st);
    if (prepare_out(&g))
        goto unlock;
    if (ms_store_begin(g.st, "cannot merge") || run_merge(&g) ||
        ms_store_commit(g.st, "cannot merge"))
        goto unlock;
    rc = 0;
    if (stats)
        *stats = g.stats;
unlock:
    for (int i = 0; i < M_N; i++)
        if (g.q[i])
            reset(g.q[i]);
    ms_store_finish(g.st); /* rolls back a transaction still open */
    for (int i = 0; i < M_N; i++)
        sqlite3_finalize(g.q[i]);
    ms_store_unlock(g.st);
out:
    for (int i = 0; i < nshards; i++)
        close_shard(&g.sh[i]);
    if (rc && created)
        ms_store_discard(g.st);
    else
        ms_store_close(g.st);
    for (int i = 0; i < g.nsweeps; i++)
        free(g.sweeps[i].run_ids);
    free(g.sweeps);
    free(g.sh);
    return rc;
}
