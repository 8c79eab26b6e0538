/* ms_schema: what a study database must hold (schema version 6, see
 * docs/schema.md): the schema made in a new file, the check of an existing
 * file's version and objects against ours when it is opened, the upgrades
 * of an older file (v1 -> v2 -> ... -> v6) and the read-only stand-ins for one,
 * and the checks of a file's contents (quick at every open, full for
 * `mlpsweep check --db`). Private to src/db/: ms_store_open and
 * ms_store_check (store.c) call it on their connection (store_db.h). */
#define _POSIX_C_SOURCE 200809L
#include "ms_store.h"
#include "ms_util.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_db.h" /* after <sqlite3.h> */

/* ---- schema ---- */

/* Losses may be NULL: SQLite has no NaN, and a diverging run evaluates to NaN. */

/* Schema version 2 added runs.precision, the steps table and precision in
 * the two views below; version 3 the dataset of a sweep's runs
 * (sweeps.dataset, sweeps.data_digest); version 4 every setting of a run
 * as a column of runs (the ones only its config JSON held) and its grid,
 * all of them in the two views; version 5 runs.same_as, the run whose
 * results a run of another name took (register.c); version 6 the pruned
 * searches and their decisions (searches, decisions). An older database is upgraded one
 * version at a time when opened for writing (upgrade_sql), and read through
 * temporary stand-ins when opened read-only (ms_schema_compat). */

/* The settings version 4 made columns of runs, and the run's grid, in
 * both views below (at their end: columns only ever join at the end;
 * curves gets epochs_total too, which run_summary had). */
#define V4_VIEW_COLS                                                                               \
    "r.val_per_epoch, r.early_stop, r.shuffle, r.train_size, r.val_size, r.dataset, r.grid"

/* One row per validation of the current runs with the run's settings: a
 * learning curve is one SELECT (docs/schema.md). These definitions (and
 * STEPS_TABLE_SQL) follow CREATE or CREATE TEMP. */
#define CURVES_VIEW_SQL                                                                            \
    "VIEW curves AS\n"                                                                      \
    "SELECT s.name AS sweep, r.id AS run_id, r.variant, r.task, r.seed, r.hidden,\n"                 \
    "       r.activation, r.init, r.lr, r.momentum, r.batch, r.precision, v.step, v.epoch,\n"        \
    "       v.batch_loss, v.train_loss, v.train_acc, v.val_loss, v.val_acc,\n"                     \
    "       r.epochs_total, " V4_VIEW_COLS "\n"                                                 \
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
    "       r.train_seconds, r.precision, " V4_VIEW_COLS "\n"                                     \
    "FROM runs r JOIN sweeps s ON s.id = r.sweep_id\n"                                             \
    "LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = r.epochs_done\n"                          \
    "WHERE r.current = 1;\n"

/* A run's twins (register.c: the runs of the same settings and seed under
 * other names) found without reading the sweep's other runs; version 5. */
#define TWIN_INDEX_SQL "INDEX runs_settings ON runs (sweep_id, config_hash, seed);\n"

/* Version 6: a pruned search's rules (one row per search of a sweep) and
 * the decision journal, a row per trial and rung decided (docs/search.md).
 * These definitions follow CREATE or CREATE TEMP. */
#define SEARCHES_TABLE_SQL                                                                         \
    "TABLE searches (\n"                                                                           \
    "  id INTEGER PRIMARY KEY,\n"                                                                  \
    "  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),\n"                                         \
    "  name TEXT NOT NULL, trials INTEGER NOT NULL,\n"                                             \
    "  prune TEXT NOT NULL CHECK (prune IN ('sha','asha','hyperband')),\n"                         \
    "  metric TEXT NOT NULL, goal TEXT NOT NULL CHECK (goal IN ('min','max')),\n"                  \
    "  min_epochs INTEGER NOT NULL, max_epochs INTEGER NOT NULL, eta INTEGER NOT NULL,\n"          \
    "  UNIQUE (sweep_id, name));\n"
#define DECISIONS_TABLE_SQL                                                                        \
    "TABLE decisions (\n"                                                                          \
    "  search_id INTEGER NOT NULL REFERENCES searches(id),\n"                                      \
    "  trial INTEGER NOT NULL, rung INTEGER NOT NULL, bracket INTEGER NOT NULL,\n"                 \
    "  epoch INTEGER NOT NULL, value REAL, rank INTEGER NOT NULL, cohort INTEGER NOT NULL,\n"      \
    "  decision TEXT NOT NULL CHECK (decision IN ('promote','stop')),\n"                           \
    "  seq INTEGER NOT NULL,\n"                                                                    \
    "  PRIMARY KEY (search_id, trial, rung)) WITHOUT ROWID;\n"

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
    /* version 4: no DEFAULT here (an upgraded file's have one: ALTER TABLE
     * needs it), so an INSERT that forgets one fails */
    "  val_per_epoch INTEGER NOT NULL, early_stop INTEGER NOT NULL, shuffle INTEGER NOT NULL,\n"
    "  train_size INTEGER NOT NULL, val_size INTEGER NOT NULL, dataset TEXT NOT NULL,\n"
    "  grid TEXT,\n"
    "  same_as INTEGER REFERENCES runs(id),\n" /* version 5 */
    "  UNIQUE (sweep_id, variant, seed, config_hash)\n"
    ");\n"
    "CREATE " TWIN_INDEX_SQL
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
    "CREATE " SEARCHES_TABLE_SQL
    "CREATE " DECISIONS_TABLE_SQL
    "PRAGMA user_version = 6;\n";

/* ---- the checks at open ---- */

/* Run a one-row integer query (schema reads at open). Reports NOTADB as
 * "not an mlpsweep database". */
static int query_int(sqlite3 *db, const char *path, const char *sql, int *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(st, 0);
        rc = 0;
    } else if ((rc & 0xff) == SQLITE_NOTADB) {
        rc = ms_error("'%s' is not an mlpsweep database (file is not a database)", path);
    } else {
        rc = ms_error("cannot read '%s': %s", path, sqlite3_errmsg(db));
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
static int quick_check(sqlite3 *db, const char *path)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok"))
        rc = 0;
    else if (rc == SQLITE_ROW)
        rc = ms_error("'%s' is damaged: %s (see 'mlpsweep check --db %s')", path,
                      one_line((const char *)sqlite3_column_text(st, 0)), path);
    else
        rc = ms_error("'%s' is damaged: %s (see 'mlpsweep check --db %s')", path,
                      sqlite3_errmsg(db), path);
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

/* An object of ours that an older file has in an older form, or not at
 * all: the upgrade makes it anew, the read-only stand-ins shadow it (version
 * 4 changed the views last) or go without it (version 5's index). */
static int replaced(const schema_obj *o, int version)
{
    if (version < 6 && !strcmp(o->type, "table") &&
        (!strcmp(o->name, "searches") || !strcmp(o->name, "decisions")))
        return 1;
    if (version < 5 && !strcmp(o->type, "index") && !strcmp(o->name, "runs_settings"))
        return 1;
    return version < 4 && !strcmp(o->type, "view") &&
           (!strcmp(o->name, "run_summary") || !strcmp(o->name, "curves"));
}

/* How the file's schema differs from ours: objects that are not ours (a
 * trigger rewriting results, an index, a table), views whose definition
 * changed, objects of ours that are missing. Files of schema version 1 are
 * read through stand-ins (ms_schema_compat): only their extras count; so
 * are the replaced() views of versions 2 and 3. NULL when it is ours; else
 * a malloc'd list ("trigger 'x' (not ours), ..."). */
static char *schema_diff(sqlite3 *db, int version)
{
    pthread_once(&ours_once, make_ours);
    if (n_ours < 0)
        return ms_strdup("our own schema could not be made in memory");
    schema_obj *file;
    int n;
    if (read_objects(db, &file, &n) < 0)
        return ms_xstrfmt("its schema cannot be read: %s", sqlite3_errmsg(db));
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    int k = 0;
    for (int i = 0; i < n; i++) {
        const schema_obj *o = find_obj(our_objs, n_ours, &file[i]);
        int changed = o && version >= 2 && !strcmp(o->type, "view") && !replaced(o, version) &&
                      strcmp(o->sql, file[i].sql);
        const char *why = !o ? "not ours" : changed ? "changed" : NULL;
        if (why) {
            char *name = ms_printable(file[i].name);
            fprintf(f, "%s%s '%s' (%s)", k++ ? ", " : "", file[i].type, name, why);
            free(name);
        }
    }
    for (int i = 0; version >= 2 && i < n_ours; i++)
        if (!find_obj(file, n, &our_objs[i]) && !replaced(&our_objs[i], version))
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
static int schema_error(const char *path, const char *prefix, const char *diff)
{
    return ms_error("%s'%s' has a schema that is not mlpsweep's: %s (someone changed "
                    "the file: drop what is not ours with the sqlite3 shell, or use a copy you "
                    "trust; see 'mlpsweep check --db %s')",
                    prefix, path, diff, path);
}

/* Read the schema (the first read: SQLite notices a non-database only now)
 * and check its version. *version: 0 for an empty file, else 1 to 5. A
 * schema that is not ours is refused for writing; read with a warning. */
int ms_schema_check(sqlite3 *db, const char *path, int quick, int refuse, int *version)
{
    int objects = 0, ours = 0, v = 0;
    if (query_int(db, path, FOREIGN_SQL, &objects) ||
        query_int(db, path, "PRAGMA user_version", &v))
        return -1;
    if (v > MS_STORE_SCHEMA_VERSION)
        return ms_error("'%s' has schema version %d, newer than this mlpsweep understands (%d)",
                        path, v, MS_STORE_SCHEMA_VERSION);
    if (v < 0)
        return ms_error("'%s' is not an mlpsweep database (schema version %d)", path, v);
    if (v == 0 && objects > 0)
        return ms_error("'%s' is not an mlpsweep database (it has other tables)", path);
    if (v > 0) {
        if (query_int(db, path, OURS_SQL, &ours))
            return -1;
        if (ours != NTABLES)
            return ms_error("'%s' is not an mlpsweep database (its tables are missing)", path);
        if (quick && quick_check(db, path))
            return -1;
        /* refused for writing (and by the probe before a write); a warning
         * for readers; check --db (no quick check) reports it itself */
        char *diff = schema_diff(db, v);
        if (diff && (refuse || quick))
            schema_error(path, refuse ? "" : "warning: ", diff);
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
static int schema_step(sqlite3 *db, const char *path, int from, const char *sql,
                       const char *what)
{
    char *msg = NULL;
    int v = 0, objects = 0, rc = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, path, sqlite3_errmsg(db));
        goto out;
    }
    if (query_int(db, path, "PRAGMA user_version", &v) ||
        query_int(db, path, FOREIGN_SQL, &objects))
        goto out;
    if (from == 0 && v == 0 && objects > 0) {
        rc = ms_error("'%s' is not an mlpsweep database (it has other tables)", path);
        goto out;
    }
    if (v == from && sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, path, msg ? msg : "?");
        goto out;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ms_error("cannot %s '%s': %s", what, path, sqlite3_errmsg(db));
        goto out;
    }
    rc = 0;
out:
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* A setting from the run's config JSON (every build has written these
 * keys; MNIST's runs no dataset key), else the default of ms_config_default:
 * the values of the columns version 4 added, for an older file's runs. */
#define FROM_CONFIG(key, dflt)                                                                     \
    "coalesce(CASE WHEN json_valid(config) THEN json_extract(config, '$." key "') END, " dflt ")"
#define V4_FROM_CONFIG                                                                             \
    FROM_CONFIG("val_per_epoch", "5") " AS val_per_epoch, "                                        \
    FROM_CONFIG("early_stop", "50") " AS early_stop, " FROM_CONFIG("shuffle", "1") " AS shuffle, " \
    FROM_CONFIG("train", "20000") " AS train_size, " FROM_CONFIG("val", "10000") " AS val_size, "  \
    FROM_CONFIG("dataset", "'mnist'") " AS dataset, NULL AS grid"
/* What version 5 added to runs, for an older file's stand-in. */
#define V5_NEW "NULL AS same_as"

/* A version 1 database made version 2: runs.precision (every run so far
 * trained in float32) and the steps table (empty: those runs did not record
 * their steps); the two views are made by the last step. Version 2 made 3:
 * the sweeps' dataset, unknown (NULL) until their next run records it.
 * Version 3 made 4: the settings from each run's config, its grid unknown
 * (NULL) until the sweep runs again, and the two views with them. Version
 * 4 made 5: runs.same_as, NULL (no run took another's results before).
 * Version 5 made 6: the searches and decisions tables, empty (no search was
 * pruned before). */
static const char *const upgrade_sql[MS_STORE_SCHEMA_VERSION] = {
    [1] = "ALTER TABLE runs ADD COLUMN precision TEXT NOT NULL DEFAULT 'float32';\n"
          "CREATE " STEPS_TABLE_SQL
          "PRAGMA user_version = 2;\n",
    [2] = "ALTER TABLE sweeps ADD COLUMN dataset TEXT;\n"
          "ALTER TABLE sweeps ADD COLUMN data_digest TEXT;\n"
          "PRAGMA user_version = 3;\n",
    [3] = "ALTER TABLE runs ADD COLUMN val_per_epoch INTEGER NOT NULL DEFAULT 5;\n"
          "ALTER TABLE runs ADD COLUMN early_stop INTEGER NOT NULL DEFAULT 50;\n"
          "ALTER TABLE runs ADD COLUMN shuffle INTEGER NOT NULL DEFAULT 1;\n"
          "ALTER TABLE runs ADD COLUMN train_size INTEGER NOT NULL DEFAULT 20000;\n"
          "ALTER TABLE runs ADD COLUMN val_size INTEGER NOT NULL DEFAULT 10000;\n"
          "ALTER TABLE runs ADD COLUMN dataset TEXT NOT NULL DEFAULT 'mnist';\n"
          "ALTER TABLE runs ADD COLUMN grid TEXT;\n"
          "UPDATE runs SET (val_per_epoch, early_stop, shuffle, train_size, val_size, dataset,"
          " grid) = (SELECT " V4_FROM_CONFIG ");\n"
          "DROP VIEW IF EXISTS run_summary;\n"
          "CREATE " RUN_SUMMARY_VIEW_SQL
          "DROP VIEW IF EXISTS curves;\n"
          "CREATE " CURVES_VIEW_SQL
          "PRAGMA user_version = 4;\n",
    [4] = "ALTER TABLE runs ADD COLUMN same_as INTEGER REFERENCES runs(id);\n"
          "CREATE " TWIN_INDEX_SQL
          "PRAGMA user_version = 5;\n",
    [5] = "CREATE " SEARCHES_TABLE_SQL
          "CREATE " DECISIONS_TABLE_SQL
          "PRAGMA user_version = 6;\n",
};

int ms_schema_make(sqlite3 *db, const char *path, int version)
{
    if (version == 0 && schema_step(db, path, 0, schema_sql, "create the tables in"))
        return -1;
    for (int v = version; v > 0 && v < MS_STORE_SCHEMA_VERSION; v++)
        if (schema_step(db, path, v, upgrade_sql[v], "upgrade"))
            return -1;
    return 0;
}

/* An older database opened read-only, read as the current version:
 * temporary objects (this connection only; the file is not touched) that
 * shadow the old ones, as the upgrades would make them. */
int ms_schema_compat(sqlite3 *db, const char *path, int version)
{
    static const char v1[] = "CREATE TEMP VIEW runs AS SELECT *, 'float32' AS precision, "
                             V4_FROM_CONFIG ", " V5_NEW " FROM main.runs;\n"
                             "CREATE TEMP " STEPS_TABLE_SQL;
    static const char v2[] = "CREATE TEMP VIEW sweeps AS SELECT *, NULL AS dataset,"
                             " NULL AS data_digest FROM main.sweeps;\n";
    static const char v3[] = "CREATE TEMP VIEW runs AS SELECT *, " V4_FROM_CONFIG ", " V5_NEW
                             " FROM main.runs;\n";
    static const char v4[] = "CREATE TEMP VIEW runs AS SELECT *, " V5_NEW " FROM main.runs;\n";
    static const char views[] = "CREATE TEMP " RUN_SUMMARY_VIEW_SQL "CREATE TEMP " CURVES_VIEW_SQL;
    static const char v5[] = "CREATE TEMP " SEARCHES_TABLE_SQL "CREATE TEMP " DECISIONS_TABLE_SQL;
    /* each stand-in for the versions that lack what it adds */
    const char *const sql[] = {version == 1 ? v1 : NULL, version <= 2 ? v2 : NULL,
                               version == 2 || version == 3 ? v3 : NULL,
                               version == 4 ? v4 : NULL, version <= 3 ? views : NULL,
                               version <= 5 ? v5 : NULL};
    for (int i = 0; i < (int)(sizeof sql / sizeof *sql); i++) {
        char *msg = NULL;
        if (sql[i] && sqlite3_exec(db, sql[i], NULL, NULL, &msg) != SQLITE_OK) {
            int rc = ms_error("cannot read '%s' (schema version %d): %s", path, version,
                              msg ? msg : "?");
            sqlite3_free(msg);
            return rc;
        }
    }
    return 0;
}

/* ---- the full check ---- */

static const char *const check_sql[] = {
    "PRAGMA integrity_check",
    "PRAGMA foreign_key_check",
    ("SELECT r.id, r.epochs_done, count(e.epoch) FROM runs r"
     " LEFT JOIN epochs e ON e.run_id = r.id GROUP BY r.id"
     " HAVING count(e.epoch) <> r.epochs_done OR coalesce(max(e.epoch), 0) <> r.epochs_done"),
    ("SELECT r.id, r.epochs_done, c.epoch FROM runs r JOIN checkpoints c ON c.run_id = r.id"
     " WHERE c.epoch <> r.epochs_done"),
};

int ms_schema_full_check(sqlite3 *db, const char *path)
{
    sqlite3_stmt *st = NULL;
    int rc = -1, version = 0;
    if (query_int(db, path, "PRAGMA user_version", &version))
        goto out;
    char *diff = schema_diff(db, version);
    if (diff) {
        schema_error(path, "", diff);
        free(diff);
        goto out;
    }
    for (int i = 0; i < (int)(sizeof check_sql / sizeof check_sql[0]); i++) {
        if (sqlite3_prepare_v2(db, check_sql[i], -1, &st, NULL) != SQLITE_OK) {
            ms_error("cannot check the database in '%s': %s", path, sqlite3_errmsg(db));
            goto out;
        }
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW && step != SQLITE_DONE) {
            ms_error("cannot check the database in '%s': %s", path, sqlite3_errmsg(db));
            goto out;
        }
        if (i == 0 && strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
            ms_error("'%s' is damaged: %s", path,
                     one_line((const char *)sqlite3_column_text(st, 0)));
            goto out;
        }
        if (i == 1 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: a row of '%s' refers to a missing row of '%s'", path,
                     (const char *)sqlite3_column_text(st, 0),
                     (const char *)sqlite3_column_text(st, 2));
            goto out;
        }
        if (i == 2 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: run %lld has %d epoch rows, but epochs_done is %d",
                     path, (long long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 2),
                     sqlite3_column_int(st, 1));
            goto out;
        }
        if (i == 3 && step == SQLITE_ROW) {
            ms_error("'%s' is damaged: run %lld has a checkpoint of epoch %d, but epochs_done is %d",
                     path, (long long)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 2),
                     sqlite3_column_int(st, 1));
            goto out;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    return rc;
}
