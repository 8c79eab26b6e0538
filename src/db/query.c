/* ms_query: the reads of a study database for status, export, plot and
 * report, as plain structs (ms_query.h), of the runs of a scope (scope.c).
 * One of the modules that include <sqlite3.h> (with store.c, merge.c and
 * scope.c). */
#define _POSIX_C_SOURCE 200809L
#include "ms_query.h"
#include "ms_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scope_sql.h" /* after <sqlite3.h> */
#include "store_db.h"

/* ---- helpers ---- */

static int db_fail(ms_store *st, const char *what)
{
    return ms_error("cannot read '%s': %s: %s", ms_store_path(st), what,
                    sqlite3_errmsg(ms_store_handle(st)));
}

/* A read's statement, the sweep bound to ?1 when given; the caller holds
 * the store's lock. 0, or -1 after the message. */
static int prepare(ms_store *st, const char *sql, const char *sweep, sqlite3_stmt **q,
                   const char *what)
{
    if (sqlite3_prepare_v2(ms_store_handle(st), sql, -1, q, NULL) != SQLITE_OK) {
        db_fail(st, what);
        sqlite3_finalize(*q);
        *q = NULL;
        return -1;
    }
    if (sweep)
        sqlite3_bind_text(*q, 1, sweep, -1, SQLITE_TRANSIENT);
    return 0;
}

/* The end of a statement whose last step returned `step`: SQLITE_DONE is 0,
 * any other an error (a read that stops early is never a shorter answer).
 * The statement is finalized either way. */
static int finish(ms_store *st, sqlite3_stmt *q, int step, const char *what)
{
    int rc = step == SQLITE_DONE ? 0 : db_fail(st, what);
    sqlite3_finalize(q);
    return rc;
}

/* A read of one statement: prepared under the store's lock, held until
 * end_read (which finalizes it and releases the lock). */
static int begin_read(ms_store *st, const char *sql, const char *sweep, sqlite3_stmt **q,
                      const char *what)
{
    ms_store_lock(st);
    if (prepare(st, sql, sweep, q, what) < 0) {
        ms_store_unlock(st);
        return -1;
    }
    return 0;
}

/* prepare, with a scope's parameters bound (ms_scope_bind). */
static int prepare_in(ms_store *st, const char *sql, const char *sweep, const ms_scope *scope,
                      sqlite3_stmt **q, const char *what)
{
    if (prepare(st, sql, sweep, q, what) < 0)
        return -1;
    ms_scope_bind(*q, scope);
    return 0;
}

static int end_read(ms_store *st, sqlite3_stmt *q, int step, const char *what)
{
    int rc = finish(st, q, step, what);
    ms_store_unlock(st);
    return rc;
}

/* A read of several statements as ONE read transaction, under the store's
 * lock: BEGIN (deferred: the snapshot is taken at the first SELECT; in WAL
 * mode a writer goes on meanwhile and the reads do not see it). */
static int begin_snapshot(ms_store *st)
{
    ms_store_lock(st);
    if (sqlite3_exec(ms_store_handle(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(st, "BEGIN");
        ms_store_unlock(st);
        return -1;
    }
    return 0;
}

/* Its end, after reads that returned rc: COMMIT (nothing was written), or
 * after a failed read ROLLBACK; the lock released. Returns rc, or -1 when
 * the COMMIT fails. */
static int end_snapshot(ms_store *st, int rc)
{
    sqlite3 *db = ms_store_handle(st);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_fail(st, "COMMIT");
    if (!sqlite3_get_autocommit(db)) /* a failed read (SQLite may have ended it already) */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    ms_store_unlock(st);
    return rc;
}

static char *col_dup(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return ms_strdup(t ? (const char *)t : "");
}

static double col_real(sqlite3_stmt *q, int i)
{
    return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

int ms_query_sweep(ms_store *st, const char *name, char **out)
{
    sqlite3_stmt *q;
    int n = 0, s;
    char *first = NULL, *second = NULL;
    *out = NULL;
    if (begin_read(st, "SELECT name FROM sweeps WHERE ?1 IS NULL OR name = ?1 ORDER BY id", name,
                   &q, "sweeps") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == 0)
            first = col_dup(q, 0);
        else if (n == 1)
            second = col_dup(q, 0);
        n++;
    }
    int rc = end_read(st, q, s, "sweeps");
    if (rc == 0 && n == 0 && name)
        rc = ms_error("no sweep '%s' in '%s'", name, ms_store_path(st));
    else if (rc == 0 && n == 0)
        rc = ms_error("'%s' holds no sweep yet", ms_store_path(st));
    else if (rc == 0 && n > 1)
        rc = ms_error("'%s' holds several sweeps ('%s', '%s'%s): give the manifest",
                      ms_store_path(st), first, second, n > 2 ? ", ..." : "");
    if (rc == 0) {
        *out = first;
        first = NULL;
    }
    free(first);
    free(second);
    return rc;
}

/* ---- the manifest ---- */

int ms_query_manifest(ms_store *st, const char *sweep, char **path, char **text, size_t *len)
{
    sqlite3_stmt *q;
    *path = *text = NULL;
    *len = 0;
    if (begin_read(st, "SELECT manifest_path, manifest FROM sweeps WHERE name = ?1", sweep, &q,
                   "sweeps") < 0)
        return -1;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW && sqlite3_column_type(q, 1) != SQLITE_NULL &&
        sqlite3_column_bytes(q, 1) > 0) {
        const unsigned char *p = sqlite3_column_text(q, 0);
        *path = ms_strdup(p ? (const char *)p : "manifest");
        const unsigned char *t = sqlite3_column_text(q, 1);
        *len = (size_t)sqlite3_column_bytes(q, 1);
        *text = ms_malloc(*len + 1);
        if (*len)
            memcpy(*text, t, *len);
        (*text)[*len] = '\0';
    }
    if (end_read(st, q, s == SQLITE_ROW ? SQLITE_DONE : s, "sweeps") < 0) /* one row at most */
        return -1;
    return 0;
}

/* run_summary's columns (docs/schema.md) for the runs of a scope, with
 * the name the read gives each run (shown) and its order (ord): the CTE rs,
 * after MS_SCOPE_SQL. The view holds the current runs only. */
#define SUMMARY_CTE                                                                                \
    ", rs AS (SELECT sc.shown, sc.ord, r.*, r.id AS run_id,"                                       \
    " e.val_acc AS final_val_acc, e.val_loss AS final_val_loss,"                                   \
    " e.train_acc AS final_train_acc, e.train_loss AS final_train_loss,"                           \
    " (SELECT max(v.val_acc) FROM evals v WHERE v.run_id = r.id) AS best_val_acc,"                 \
    " (SELECT min(v.val_loss) FROM evals v WHERE v.run_id = r.id) AS best_val_loss"                \
    " FROM scope sc JOIN runs r ON r.id = sc.id"                                                   \
    " LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = r.epochs_done) "

/* Names in the order of their first run: the manifest's order for the
 * current runs. */
static const char summary_sql[] =
    MS_SCOPE_SQL SUMMARY_CTE
    "SELECT shown, task, hidden, activation, init, momentum, lr, params, epochs_done,"
    " coalesce(stop_reason, status), final_val_acc, best_val_acc, final_train_loss,"
    " final_val_loss, final_train_acc, train_seconds, precision, batch, epochs_total,"
    " val_per_epoch, early_stop, shuffle, train_size, val_size, dataset, coalesce(grid, '')"
    " FROM rs ORDER BY ord, run_id";

enum { S_METRICS = 7 }; /* epochs, 5 results, train_seconds */

static void summary_free(ms_summary_row *rows, int n)
{
    for (int i = 0; rows && i < n; i++) {
        free(rows[i].variant);
        free(rows[i].task);
        free(rows[i].hidden);
        free(rows[i].activation);
        free(rows[i].init);
        free(rows[i].precision);
        free(rows[i].stop);
        free(rows[i].dataset);
        free(rows[i].grid);
    }
    free(rows);
}

/* Append a stop reason to a '/'-joined list unless it is there already. */
static char *add_reason(char *list, const char *r)
{
    size_t n = strlen(list), k = strlen(r);
    for (const char *p = list; *p;) {
        size_t m = strcspn(p, "/");
        if (m == k && !strncmp(p, r, k))
            return list;
        p += m + (p[m] == '/');
    }
    list = ms_realloc(list, n + k + 2);
    if (n)
        list[n++] = '/';
    memcpy(list + n, r, k + 1);
    return list;
}

static void finish_row(ms_summary_row *r, double *const *vals, int nruns)
{
    ms_stat *dst[S_METRICS] = {&r->epochs,         &r->final_val_acc,  &r->best_val_acc,
                               &r->final_train_loss, &r->final_val_loss, &r->final_train_acc,
                               &r->train_seconds};
    for (int k = 0; k < S_METRICS; k++)
        *dst[k] = ms_stat_of(vals[k], nruns);
    r->seeds = nruns;
}

/* The settings after batch in summary_sql (columns 18 on). */
static void read_settings(sqlite3_stmt *q, ms_summary_row *r)
{
    r->epochs_total = sqlite3_column_int64(q, 18);
    r->val_per_epoch = sqlite3_column_int64(q, 19);
    r->early_stop = sqlite3_column_int64(q, 20);
    r->shuffle = sqlite3_column_int(q, 21);
    r->train_size = sqlite3_column_int64(q, 22);
    r->val_size = sqlite3_column_int64(q, 23);
    r->dataset = col_dup(q, 24);
    r->grid = col_dup(q, 25);
}

static int read_summary(ms_store *st, const char *sweep, const ms_scope *scope,
                        ms_summary_row **rows_out, int *n_out)
{
    sqlite3_stmt *q;
    ms_summary_row *rows = NULL;
    int n = 0, cap = 0, nruns = 0, vcap = 0, s;
    double *vals[S_METRICS] = {0};
    if (prepare_in(st, summary_sql, sweep, scope, &q, "run_summary") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        const char *variant = (const char *)sqlite3_column_text(q, 0);
        if (!variant)
            variant = "";
        if (n == 0 || strcmp(rows[n - 1].variant, variant)) {
            if (n)
                finish_row(&rows[n - 1], vals, nruns);
            if (n == cap)
                rows = ms_realloc(rows, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *rows);
            ms_summary_row *r = &rows[n++];
            memset(r, 0, sizeof *r);
            r->variant = ms_strdup(variant);
            r->task = col_dup(q, 1);
            r->hidden = col_dup(q, 2);
            r->activation = col_dup(q, 3);
            r->init = col_dup(q, 4);
            r->momentum = col_real(q, 5);
            r->lr = col_real(q, 6);
            r->params = sqlite3_column_int64(q, 7);
            r->precision = col_dup(q, 16);
            r->batch = sqlite3_column_int64(q, 17);
            read_settings(q, r);
            r->stop = ms_strdup("");
            nruns = 0;
        }
        ms_summary_row *r = &rows[n - 1];
        const unsigned char *reason = sqlite3_column_text(q, 9);
        r->stop = add_reason(r->stop, reason ? (const char *)reason : "");
        if (nruns == vcap) {
            vcap = vcap ? 2 * vcap : 8;
            for (int k = 0; k < S_METRICS; k++)
                vals[k] = ms_realloc(vals[k], (size_t)vcap * sizeof *vals[k]);
        }
        vals[0][nruns] = (double)sqlite3_column_int64(q, 8);
        for (int k = 1; k < S_METRICS; k++)
            vals[k][nruns] = col_real(q, 9 + k);
        nruns++;
    }
    int rc = finish(st, q, s, "run_summary");
    if (n)
        finish_row(&rows[n - 1], vals, nruns); /* so every field is defined */
    for (int k = 0; k < S_METRICS; k++)
        free(vals[k]);
    if (rc) {
        summary_free(rows, n);
        return -1;
    }
    *rows_out = rows;
    *n_out = n;
    return 0;
}

/* ---- the long tables ---- */

static const char epochs_sql[] =
    MS_SCOPE_SQL
    "SELECT sc.shown, r.seed, e.epoch, e.step, e.train_loss, e.train_acc, e.val_loss, e.val_acc,"
    " e.seconds FROM scope sc JOIN runs r ON r.id = sc.id JOIN epochs e ON e.run_id = r.id"
    " ORDER BY sc.ord, r.id, e.epoch";

static const char evals_sql[] =
    MS_SCOPE_SQL
    "SELECT sc.shown, r.seed, v.step, v.epoch, v.batch_loss, v.train_loss, v.train_acc,"
    " v.val_loss, v.val_acc FROM scope sc JOIN runs r ON r.id = sc.id"
    " JOIN evals v ON v.run_id = r.id ORDER BY sc.ord, r.id, v.step";

static const char steps_sql[] =
    MS_SCOPE_SQL
    "SELECT sc.shown, r.seed, t.step, t.epoch, t.batch_loss FROM scope sc"
    " JOIN runs r ON r.id = sc.id JOIN steps t ON t.run_id = r.id ORDER BY sc.ord, r.id, t.step";

static void qtable_release(ms_qtable *t)
{
    for (int r = 0; r < t->nrows; r++)
        free(t->cells[(size_t)r * MS_QUERY_LONG_COLS].s);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* One long table: sql is epochs_sql, evals_sql or steps_sql, name its table. */
static int read_long(ms_store *st, const char *sweep, const ms_scope *scope, const char *sql,
                     const char *name, ms_qtable *out)
{
    sqlite3_stmt *q;
    int s, cap = 0;
    if (prepare_in(st, sql, sweep, scope, &q, name) < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->nrows == cap) {
            cap = cap ? 2 * cap : 64;
            out->cells = ms_realloc(out->cells, (size_t)cap * MS_QUERY_LONG_COLS * sizeof *out->cells);
        }
        ms_qcell *c = &out->cells[(size_t)out->nrows++ * MS_QUERY_LONG_COLS];
        memset(c, 0, MS_QUERY_LONG_COLS * sizeof *c);
        c[0].s = col_dup(q, 0);
        for (int k = 1; k < MS_QUERY_LONG_COLS && k < sqlite3_column_count(q); k++) {
            c[k].null = sqlite3_column_type(q, k) == SQLITE_NULL;
            c[k].i = sqlite3_column_int64(q, k);
            c[k].x = col_real(q, k);
        }
    }
    if (finish(st, q, s, name) < 0) {
        qtable_release(out);
        return -1;
    }
    return 0;
}

/* ---- the curves of the figures ---- */

/* Every run of the scope, grouped by name in manifest order. */
static const char curve_runs_sql[] =
    MS_SCOPE_SQL
    "SELECT r.id, sc.shown, coalesce(json_extract(r.config, '$.train'), 0), r.batch"
    " FROM scope sc JOIN runs r ON r.id = sc.id ORDER BY sc.ord, r.id";
/* Columns 1.. in ms_metric order. */
static const char curve_evals_sql[] =
    "SELECT step, batch_loss, train_loss, val_loss, train_acc, val_acc FROM evals"
    " WHERE run_id = ?1 ORDER BY step";
static const char curve_steps_sql[] = "SELECT step, batch_loss FROM steps WHERE run_id = ?1 ORDER BY step";

static void curves_free(ms_variant_curves *c, int n)
{
    for (int v = 0; c && v < n; v++) {
        for (int i = 0; i < c[v].nruns; i++) {
            free(c[v].runs[i].evals);
            free(c[v].runs[i].step);
            free(c[v].runs[i].step_loss);
        }
        free(c[v].runs);
        free(c[v].variant);
    }
    free(c);
}

/* Run `id`'s evals into r, and with qs its steps; the last step's result
 * (SQLITE_DONE when all were read), *what the table it read last. */
static int read_run_curves(sqlite3_stmt *qe, sqlite3_stmt *qs, int64_t id, ms_query_run *r,
                           const char **what)
{
    int step, ecap = 0, scap = 0;
    *what = "evals";
    sqlite3_bind_int64(qe, 1, id);
    while ((step = sqlite3_step(qe)) == SQLITE_ROW) {
        if (r->n == ecap)
            r->evals = ms_realloc(r->evals, (size_t)(ecap = ecap ? 2 * ecap : 64) * sizeof *r->evals);
        ms_query_eval *e = &r->evals[r->n++];
        e->step = sqlite3_column_int64(qe, 0);
        for (int m = 0; m < MS_METRIC_EVALS; m++)
            e->v[m] = col_real(qe, 1 + m);
        for (int m = MS_METRIC_EVALS; m < MS_METRIC_N; m++)
            e->v[m] = NAN;
    }
    sqlite3_reset(qe);
    if (step != SQLITE_DONE || !qs)
        return step;
    *what = "steps";
    sqlite3_bind_int64(qs, 1, id);
    while ((step = sqlite3_step(qs)) == SQLITE_ROW) {
        if (r->nsteps == scap) {
            scap = scap ? 2 * scap : 1024;
            r->step = ms_realloc(r->step, (size_t)scap * sizeof *r->step);
            r->step_loss = ms_realloc(r->step_loss, (size_t)scap * sizeof *r->step_loss);
        }
        r->step[r->nsteps] = sqlite3_column_int64(qs, 0);
        r->step_loss[r->nsteps++] = col_real(qs, 1);
    }
    sqlite3_reset(qs);
    return step;
}

/* Every variant's runs with their evals (and with steps, their steps). */
static int read_curves(ms_store *st, const char *sweep, const ms_scope *scope, int steps,
                       ms_variant_curves **out, int *nout)
{
    sqlite3_stmt *qr, *qe = NULL, *qs = NULL;
    ms_variant_curves *c = NULL;
    int n = 0, cap = 0, rcap = 0, step = SQLITE_ERROR;
    const char *what = "evals";
    if (prepare_in(st, curve_runs_sql, sweep, scope, &qr, "runs") < 0)
        return -1;
    if (sqlite3_prepare_v2(ms_store_handle(st), curve_evals_sql, -1, &qe, NULL) == SQLITE_OK &&
        (!steps || sqlite3_prepare_v2(ms_store_handle(st), curve_steps_sql, -1, &qs, NULL) == SQLITE_OK))
        for (;;) { /* each run, then its evals and steps */
            what = "runs";
            if ((step = sqlite3_step(qr)) != SQLITE_ROW)
                break;
            const char *variant = (const char *)sqlite3_column_text(qr, 1);
            if (!variant)
                variant = "";
            if (n == 0 || strcmp(c[n - 1].variant, variant)) {
                if (n == cap)
                    c = ms_realloc(c, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *c);
                c[n++] = (ms_variant_curves){ms_strdup(variant), 0, NULL};
                rcap = 0;
            }
            ms_variant_curves *v = &c[n - 1];
            if (v->nruns == rcap)
                v->runs = ms_realloc(v->runs, (size_t)(rcap = rcap ? 2 * rcap : 8) * sizeof *v->runs);
            ms_query_run *r = &v->runs[v->nruns++];
            memset(r, 0, sizeof *r);
            r->train = sqlite3_column_int64(qr, 2);
            r->batch = sqlite3_column_int64(qr, 3);
            if ((step = read_run_curves(qe, qs, sqlite3_column_int64(qr, 0), r, &what)) != SQLITE_DONE)
                break;
        }
    /* the message first: it is the connection's, while the statements live */
    int rc = step == SQLITE_DONE ? 0 : db_fail(st, what);
    sqlite3_finalize(qe);
    sqlite3_finalize(qs);
    sqlite3_finalize(qr);
    if (rc) {
        curves_free(c, n);
        return -1;
    }
    *out = c;
    *nout = n;
    return 0;
}

/* ---- progress (status) ---- */

void ms_query_status_release(ms_query_status *p)
{
    for (int i = 0; i < p->nruns; i++) {
        ms_query_run_row *r = &p->runs[i];
        free(r->variant);
        free(r->task);
        free(r->status);
        free(r->epochs);
        free(r->stop_reason);
        free(r->error);
    }
    for (int i = 0; i < p->nsweeps; i++)
        free(p->sweeps[i].sweep), free(p->sweeps[i].dataset), free(p->sweeps[i].data_digest);
    free(p->runs);
    free(p->sweeps);
    memset(p, 0, sizeof *p);
}

/* run_progress's rows (docs/schema.md) for the runs of a scope, of every
 * sweep (?1 NULL), and whether each is current. */
static const char runs_progress_sql[] =
    MS_SCOPE_SQL
    "SELECT sc.shown, r.task, r.seed, r.status, r.epochs_done || '/' || r.epochs_total, e.val_acc,"
    " coalesce(r.stop_reason, ''), coalesce(r.error, ''), s.name, coalesce(r.host, ''),"
    " coalesce(r.pid, 0), r.current FROM scope sc JOIN runs r ON r.id = sc.id"
    " JOIN sweeps s ON s.id = r.sweep_id"
    " LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = r.epochs_done ORDER BY s.name, r.id";
/* sweep_status counts the current runs; the last column the others. */
static const char sweeps_progress_sql[] =
    "SELECT w.sweep, w.runs, w.done, w.running, w.pending, w.failed, w.epochs_done,"
    " w.epochs_total, w.train_seconds, coalesce(s.dataset, ''), coalesce(s.data_digest, ''),"
    " (SELECT count(*) FROM runs r WHERE r.sweep_id = w.sweep_id AND r.current = 0)"
    " FROM sweep_status w JOIN sweeps s ON s.id = w.sweep_id ORDER BY w.sweep";

/* Whether a run marked running still has its process: not when no process
 * holds the database's writer lock; else by its pid when it ran on this
 * host (the lock cannot tell one writer's runs from a dead one's). */
static int run_alive(int writer_live, const char *me, const char *host, int64_t pid)
{
    if (writer_live == 0)
        return 0;
    if (pid <= 0 || pid > INT_MAX || strcmp(host, me))
        return 1;
    return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static int read_runs_progress(ms_store *st, const ms_scope *scope, ms_query_status *out)
{
    sqlite3_stmt *q;
    int s, cap = 0;
    char me[256] = ""; /* this host, for run_alive */
    gethostname(me, sizeof me - 1);
    if (prepare_in(st, runs_progress_sql, NULL, scope, &q, "run_progress") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->nruns == cap)
            out->runs = ms_realloc(out->runs, (size_t)(cap = cap ? 2 * cap : 32) * sizeof *out->runs);
        ms_query_run_row *r = &out->runs[out->nruns++];
        r->variant = col_dup(q, 0);
        r->task = col_dup(q, 1);
        r->seed = sqlite3_column_int64(q, 2);
        r->status = col_dup(q, 3);
        r->epochs = col_dup(q, 4);
        r->last_val_acc = col_real(q, 5);
        r->stop_reason = col_dup(q, 6);
        r->error = col_dup(q, 7);
        r->current = sqlite3_column_int(q, 11) != 0;
        r->sweep = -1;
        const char *sweep = (const char *)sqlite3_column_text(q, 8);
        for (int i = 0; sweep && i < out->nsweeps; i++)
            if (!strcmp(out->sweeps[i].sweep, sweep))
                r->sweep = i;
        int dead = !strcmp(r->status, ms_run_status_name(MS_RUN_RUNNING)) &&
                   !run_alive(out->writer_live, me, (const char *)sqlite3_column_text(q, 9),
                              sqlite3_column_int64(q, 10));
        if (dead) {
            free(r->status);
            r->status = ms_strdup(ms_stop_name(MS_STOP_INTERRUPTED)); /* its status here */
        }
        if (r->sweep >= 0 && r->current) { /* the sweep's counts are of its current runs */
            ms_query_sweep_row *w = &out->sweeps[r->sweep];
            w->running -= dead;
            w->interrupted += dead;
            w->stalled |= out->writer_live == 0 &&
                          (dead || !strcmp(r->stop_reason, ms_stop_name(MS_STOP_INTERRUPTED)));
        }
    }
    return finish(st, q, s, "run_progress");
}

static int read_sweeps_progress(ms_store *st, ms_query_status *out)
{
    sqlite3_stmt *q;
    int s, cap = 0;
    if (prepare(st, sweeps_progress_sql, NULL, &q, "sweep_status") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->nsweeps == cap)
            out->sweeps =
                ms_realloc(out->sweeps, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *out->sweeps);
        ms_query_sweep_row *w = &out->sweeps[out->nsweeps++];
        memset(w, 0, sizeof *w);
        w->sweep = col_dup(q, 0);
        w->runs = sqlite3_column_int64(q, 1);
        w->done = sqlite3_column_int64(q, 2);
        w->running = sqlite3_column_int64(q, 3);
        w->pending = sqlite3_column_int64(q, 4);
        w->failed = sqlite3_column_int64(q, 5);
        w->epochs_done = sqlite3_column_int64(q, 6);
        w->epochs_total = sqlite3_column_int64(q, 7);
        w->train_seconds = sqlite3_column_double(q, 8);
        w->dataset = col_dup(q, 9);
        w->data_digest = col_dup(q, 10);
        w->earlier = sqlite3_column_int64(q, 11);
    }
    return finish(st, q, s, "sweep_status");
}

int ms_query_status_read(ms_store *st, ms_query_status *out)
{
    return ms_query_status_read_in(st, NULL, out);
}

int ms_query_status_read_in(ms_store *st, const ms_scope *scope, ms_query_status *out)
{
    memset(out, 0, sizeof *out);
    out->writer_live = ms_store_writer_live(st);
    if (begin_snapshot(st) < 0)
        return -1;
    /* the sweeps first: a dead run moves from their running to interrupted */
    int rc = read_sweeps_progress(st, out) < 0 || read_runs_progress(st, scope, out) < 0 ? -1 : 0;
    if (end_snapshot(st, rc) < 0) {
        ms_query_status_release(out);
        return -1;
    }
    return 0;
}

/* ---- run details (report) ---- */

static const char run_details_sql[] =
    MS_SCOPE_SQL SUMMARY_CTE
    "SELECT rs.shown, rs.task, rs.status, coalesce(rs.stop_reason, ''),"
    " coalesce(rs.error, ''), coalesce(rs.host, ''), coalesce(rs.version, ''),"
    " coalesce(rs.compiler, ''), coalesce(rs.started_at, ''), coalesce(rs.finished_at, ''),"
    " rs.seed, rs.epochs_done, rs.epochs_total, coalesce(rs.threads, 0), rs.final_val_acc,"
    " rs.best_val_acc, rs.final_val_loss, rs.train_seconds, rs.current FROM rs ORDER BY rs.run_id";

static void details_free(ms_query_run_detail *rows, int n)
{
    for (int i = 0; i < n; i++) {
        ms_query_run_detail *r = &rows[i];
        char *text[] = {r->variant, r->task,    r->status,   r->stop_reason, r->error,
                        r->host,    r->version, r->compiler, r->started_at,  r->finished_at};
        for (size_t k = 0; k < sizeof text / sizeof *text; k++)
            free(text[k]);
    }
    free(rows);
}

static int read_details(ms_store *st, const char *sweep, const ms_scope *scope,
                        ms_query_run_detail **rows, int *n)
{
    sqlite3_stmt *q;
    int s, cap = 0;
    if (prepare_in(st, run_details_sql, sweep, scope, &q, "run_summary") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap)
            *rows = ms_realloc(*rows, (size_t)(cap = cap ? 2 * cap : 32) * sizeof **rows);
        ms_query_run_detail *r = &(*rows)[(*n)++];
        char **text[] = {&r->variant, &r->task,    &r->status,   &r->stop_reason, &r->error,
                         &r->host,    &r->version, &r->compiler, &r->started_at,  &r->finished_at};
        for (int k = 0; k < 10; k++)
            *text[k] = col_dup(q, k);
        r->seed = sqlite3_column_int64(q, 10);
        r->epochs_done = sqlite3_column_int64(q, 11);
        r->epochs_total = sqlite3_column_int64(q, 12);
        r->threads = sqlite3_column_int64(q, 13);
        r->final_val_acc = col_real(q, 14);
        r->best_val_acc = col_real(q, 15);
        r->final_val_loss = col_real(q, 16);
        r->train_seconds = col_real(q, 17);
        r->current = sqlite3_column_int(q, 18) != 0;
    }
    if (finish(st, q, s, "run_summary") < 0) {
        details_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

static int read_meta(ms_store *st, const char *sweep, ms_query_sweep_meta *out)
{
    sqlite3_stmt *q;
    if (prepare(st, "SELECT s.created_at, coalesce(w.updated_at, s.updated_at),"
                       " coalesce(s.dataset, ''), coalesce(s.data_digest, '') FROM sweeps s"
                       " LEFT JOIN sweep_status w ON w.sweep_id = s.id WHERE s.name = ?1",
                   sweep, &q, "sweeps") < 0)
        return -1;
    int s = sqlite3_step(q);
    if (s == SQLITE_ROW) {
        out->created = col_dup(q, 0);
        out->updated = col_dup(q, 1);
        out->dataset = col_dup(q, 2);
        out->data_digest = col_dup(q, 3);
    }
    return finish(st, q, s == SQLITE_ROW ? SQLITE_DONE : s, "sweeps");
}

/* ---- the decisions of pruned searches ---- */

static void decisions_free(ms_query_decision *d, int n)
{
    for (int i = 0; i < n; i++)
        free(d[i].search), free(d[i].metric);
    free(d);
}

static int read_decisions(ms_store *st, const char *sweep, ms_query_decision **rows, int *n)
{
    sqlite3_stmt *q;
    int s, cap = 0;
    if (prepare(st, "SELECT q.name, q.metric, d.trial, d.rung, d.epoch, d.decision, d.value"
                    " FROM decisions d JOIN searches q ON q.id = d.search_id"
                    " JOIN sweeps w ON w.id = q.sweep_id WHERE w.name = ?1"
                    " ORDER BY q.name, d.trial, d.rung",
                sweep, &q, "decisions") < 0)
        return -1;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap)
            *rows = ms_realloc(*rows, (size_t)(cap = cap ? 2 * cap : 64) * sizeof **rows);
        ms_query_decision *d = &(*rows)[(*n)++];
        d->search = col_dup(q, 0);
        d->metric = col_dup(q, 1);
        d->trial = sqlite3_column_int(q, 2);
        d->rung = sqlite3_column_int(q, 3);
        d->epoch = sqlite3_column_int(q, 4);
        const unsigned char *what = sqlite3_column_text(q, 5);
        d->promote = what && !strcmp((const char *)what, "promote");
        d->value = col_real(q, 6);
    }
    if (finish(st, q, s, "decisions") < 0) {
        decisions_free(*rows, *n);
        *rows = NULL;
        *n = 0;
        return -1;
    }
    return 0;
}

/* ---- the snapshot ---- */

void ms_snapshot_release(ms_snapshot *s)
{
    free(s->db);
    free(s->sweep);
    free(s->meta.created), free(s->meta.updated), free(s->meta.dataset);
    free(s->meta.data_digest);
    details_free(s->runs, s->nruns);
    summary_free(s->summary, s->nsummary);
    curves_free(s->curves, s->ncurves);
    qtable_release(&s->epochs);
    qtable_release(&s->evals);
    qtable_release(&s->steps);
    decisions_free(s->decisions, s->ndecisions);
    memset(s, 0, sizeof *s);
}

int ms_snapshot_read(ms_store *st, const char *sweep, unsigned what, ms_snapshot *out)
{
    return ms_snapshot_read_in(st, sweep, what, NULL, out);
}

int ms_snapshot_read_in(ms_store *st, const char *sweep, unsigned what, const ms_scope *scope,
                        ms_snapshot *out)
{
    memset(out, 0, sizeof *out);
    out->db = ms_strdup(ms_store_path(st));
    out->sweep = ms_strdup(sweep ? sweep : "");
    out->all = scope && scope->all;
    if (begin_snapshot(st) < 0) {
        ms_snapshot_release(out);
        return -1;
    }
    int rc = 0;
    if (rc == 0 && what & MS_SNAP_RUNS)
        rc = read_details(st, sweep, scope, &out->runs, &out->nruns);
    if (rc == 0 && what & MS_SNAP_SUMMARY)
        rc = read_summary(st, sweep, scope, &out->summary, &out->nsummary);
    if (rc == 0 && what & MS_SNAP_META)
        rc = read_meta(st, sweep, &out->meta);
    if (rc == 0 && what & MS_SNAP_CURVES)
        rc = read_curves(st, sweep, scope, (what & MS_SNAP_STEP_CURVES) != 0, &out->curves,
                         &out->ncurves);
    if (rc == 0 && what & MS_SNAP_EPOCHS)
        rc = read_long(st, sweep, scope, epochs_sql, "epochs", &out->epochs);
    if (rc == 0 && what & MS_SNAP_EVALS)
        rc = read_long(st, sweep, scope, evals_sql, "evals", &out->evals);
    if (rc == 0 && what & MS_SNAP_STEPS)
        rc = read_long(st, sweep, scope, steps_sql, "steps", &out->steps);
    if (rc == 0 && what & MS_SNAP_DECISIONS)
        rc = read_decisions(st, sweep, &out->decisions, &out->ndecisions);
    if (end_snapshot(st, rc) < 0) {
        ms_snapshot_release(out);
        return -1;
    }
    return 0;
}

const ms_variant_curves *ms_snapshot_curves(const ms_snapshot *s, const char *variant)
{
    for (int v = 0; v < s->ncurves; v++)
        if (!strcmp(s->curves[v].variant, variant))
            return &s->curves[v];
    return NULL;
}

/* ---- per-seed values (compare, claims) ---- */

int ms_query_seed_values(ms_store *st, const char *sweep, const ms_scope *scope,
                         const char *variant, int metric, uint64_t **seeds, double **vals, int *n)
{
    *seeds = NULL;
    *vals = NULL;
    *n = 0;
    if (metric < 0 || metric >= MS_COMPARE_NMETRICS)
        return ms_error("unknown metric %d", metric);
    /* the column is one of ours, never user text */
    char *sql = ms_xstrfmt(MS_SCOPE_SQL SUMMARY_CTE "SELECT seed, %s FROM rs WHERE shown = ?4"
                           " AND status = 'done' ORDER BY seed",
                           ms_compare_metrics[metric]);
    sqlite3_stmt *q;
    int s, cap = 0;
    int rc = begin_read(st, sql, sweep, &q, "run_summary");
    free(sql);
    if (rc < 0)
        return -1;
    ms_scope_bind(q, scope);
    sqlite3_bind_text(q, 4, variant, -1, SQLITE_TRANSIENT);
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            *seeds = ms_realloc(*seeds, (size_t)cap * sizeof **seeds);
            *vals = ms_realloc(*vals, (size_t)cap * sizeof **vals);
        }
        (*seeds)[*n] = (uint64_t)sqlite3_column_int64(q, 0);
        (*vals)[(*n)++] = col_real(q, 1);
    }
    if (end_read(st, q, s, "run_summary") < 0) {
        free(*seeds), free(*vals);
        *seeds = NULL, *vals = NULL, *n = 0;
        return -1;
    }
    return 0;
}
