/* The journal of a sweep's pruned searches (ms_store.h): each search's
 * rules in `searches`, each decision at a rung in `decisions` (schema
 * version 6, docs/schema.md). Written while the sweep runs; `verify`
 * recomputes every row from the stored epochs (query.c reads them). */
#define _POSIX_C_SOURCE 200809L
#include "ms_metrics.h"
#include "ms_prune.h"
#include "ms_store.h"
#include "ms_util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "sql_util.h"
#include "store_db.h" /* after <sqlite3.h> */

enum { J_GET, J_PUT, J_DROP, J_DEC, J_GET_NAMED, J_N };
static const char *const j_sql[J_N] = {
    [J_GET] = "SELECT id, trials, prune, metric, goal, min_epochs, max_epochs, eta FROM searches"
              " WHERE sweep_id = ?1 AND name = ?2",
    [J_GET_NAMED] = "SELECT q.id, q.trials, q.prune, q.metric, q.goal, q.min_epochs,"
                    " q.max_epochs, q.eta FROM searches q JOIN sweeps w ON w.id = q.sweep_id"
                    " WHERE w.name = ?1 AND q.name = ?2",
    [J_PUT] = "INSERT INTO searches (sweep_id, name, trials, prune, metric, goal, min_epochs,"
              " max_epochs, eta) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
              " ON CONFLICT (sweep_id, name) DO UPDATE SET trials = ?3, prune = ?4, metric = ?5,"
              " goal = ?6, min_epochs = ?7, max_epochs = ?8, eta = ?9",
    [J_DROP] = "DELETE FROM decisions WHERE search_id ="
               " (SELECT id FROM searches WHERE sweep_id = ?1 AND name = ?2) AND trial > ?3",
    [J_DEC] = "INSERT OR IGNORE INTO decisions (search_id, trial, rung, bracket, epoch, value,"
              " rank, cohort, decision, seq) SELECT id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11"
              " FROM searches WHERE sweep_id = ?1 AND name = ?2",
};

typedef struct jstmts {
    sqlite3_stmt *q[J_N];
} jstmts;

static int prepare(sqlite3 *db, jstmts *j)
{
    memset(j, 0, sizeof *j);
    for (int i = 0; i < J_N; i++)
        if (sqlite3_prepare_v2(db, j_sql[i], -1, &j->q[i], NULL) != SQLITE_OK)
            return -1;
    return 0;
}

static void finalize(jstmts *j)
{
    for (int i = 0; i < J_N; i++)
        sqlite3_finalize(j->q[i]);
}

/* What of the stored rules of a search (row of J_GET) differs from p's
 * and trials, as text ("eta 2 -> 3"), "" when nothing does. */
static void rules_diff(sqlite3_stmt *g, int trials, const ms_prune *p, char *buf, size_t n)
{
    const char *type = (const char *)sqlite3_column_text(g, 2);
    const char *metric = (const char *)sqlite3_column_text(g, 3);
    const char *goal = (const char *)sqlite3_column_text(g, 4);
    const char *want_goal = p->goal_max ? "max" : "min";
    buf[0] = 0;
    if (strcmp(type ? type : "", ms_prune_type_names[p->type]))
        snprintf(buf, n, "type %s -> %s", type ? type : "?", ms_prune_type_names[p->type]);
    else if (strcmp(metric ? metric : "", ms_metric_name((ms_metric)p->metric)))
        snprintf(buf, n, "metric %s -> %s", metric ? metric : "?",
                 ms_metric_name((ms_metric)p->metric));
    else if (strcmp(goal ? goal : "", want_goal))
        snprintf(buf, n, "goal %s -> %s", goal ? goal : "?", want_goal);
    else if (sqlite3_column_int(g, 5) != p->min)
        snprintf(buf, n, "min %d -> %d", sqlite3_column_int(g, 5), p->min);
    else if (sqlite3_column_int(g, 7) != p->eta)
        snprintf(buf, n, "eta %d -> %d", sqlite3_column_int(g, 7), p->eta);
    else if (sqlite3_column_int(g, 6) != p->max)
        snprintf(buf, n, "max %d -> %d", sqlite3_column_int(g, 6), p->max);
    else if (sqlite3_column_int(g, 1) != trials)
        snprintf(buf, n, "trials %d -> %d", sqlite3_column_int(g, 1), trials);
}

/* Whether a change (rules_diff) keeps the decisions taken valid: a higher
 * max (the rungs below it stay), and under ASHA other trials (a decision
 * looks only at the trials before it). */
static int change_allowed(sqlite3_stmt *g, int trials, const ms_prune *p)
{
    char d[96];
    rules_diff(g, trials, p, d, sizeof d);
    if (!d[0])
        return 1;
    if (!strncmp(d, "max ", 4))
        return sqlite3_column_int(g, 6) < p->max;
    return !strncmp(d, "trials ", 7) && p->type == MS_PRUNE_ASHA;
}

int ms_store_search_allows(ms_store *s, const char *sweep, const char *name, int trials,
                           const ms_prune *p)
{
    ms_store_lock(s);
    sqlite3 *db = ms_store_handle(s);
    sqlite3_stmt *g = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, j_sql[J_GET_NAMED], -1, &g, NULL) != SQLITE_OK) {
        rc = ms_error("cannot read the searches of '%s': %s", ms_store_path(s),
                      sqlite3_errmsg(db));
    } else {
        ms_sql_bind_text(g, 1, sweep);
        ms_sql_bind_text(g, 2, name);
        if (sqlite3_step(g) == SQLITE_ROW && !change_allowed(g, trials, p)) {
            char d[96];
            rules_diff(g, trials, p, d, sizeof d);
            rc = ms_error("the pruned search '%s' ran with other rules (%s): its runs were "
                          "stopped or promoted by them. Give the search another name, or run it "
                          "into another database (a higher max, and under ASHA more or fewer "
                          "trials, go on from what ran)",
                          name, d);
        }
    }
    sqlite3_finalize(g);
    ms_store_unlock(s);
    return rc;
}

int ms_store_search(ms_store *s, int64_t sweep_id, const char *name, int trials,
                    const ms_prune *p)
{
    char what[160];
    snprintf(what, sizeof what, "cannot record the search '%s'", name);
    ms_store_lock(s);
    sqlite3 *db = ms_store_handle(s);
    jstmts j;
    int rc = -1;
    if (prepare(db, &j) < 0) {
        ms_error("%s in '%s': %s", what, ms_store_path(s), sqlite3_errmsg(db));
        goto out;
    }
    if (ms_store_begin(s, what))
        goto out;
    sqlite3_bind_int64(j.q[J_GET], 1, sweep_id);
    ms_sql_bind_text(j.q[J_GET], 2, name);
    int step = sqlite3_step(j.q[J_GET]);
    /* a higher max: decisions taken again from the values (the same rows
     * below the old max, and new ones at it); fewer ASHA trials: the
     * dropped trials' decisions go */
    int drop = 0, upmax = 0;
    if (step == SQLITE_ROW) {
        char d[96];
        rules_diff(j.q[J_GET], trials, p, d, sizeof d);
        upmax = !strncmp(d, "max ", 4);
        drop = upmax || !strncmp(d, "trials ", 7);
    }
    sqlite3_reset(j.q[J_GET]);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        goto fail;
    if (drop) {
        sqlite3_bind_int64(j.q[J_DROP], 1, sweep_id);
        ms_sql_bind_text(j.q[J_DROP], 2, name);
        sqlite3_bind_int(j.q[J_DROP], 3, upmax ? 0 : trials);
        if (ms_sql_step_done(j.q[J_DROP]) != SQLITE_DONE)
            goto fail;
    }
    sqlite3_stmt *put = j.q[J_PUT];
    sqlite3_bind_int64(put, 1, sweep_id);
    ms_sql_bind_text(put, 2, name);
    sqlite3_bind_int(put, 3, trials);
    ms_sql_bind_text(put, 4, ms_prune_type_names[p->type]);
    ms_sql_bind_text(put, 5, ms_metric_name((ms_metric)p->metric));
    ms_sql_bind_text(put, 6, p->goal_max ? "max" : "min");
    sqlite3_bind_int(put, 7, p->min);
    sqlite3_bind_int(put, 8, p->max);
    sqlite3_bind_int(put, 9, p->eta);
    if (ms_sql_step_done(put) != SQLITE_DONE)
        goto fail;
    rc = ms_store_commit(s, what);
    goto out;
fail:
    ms_error("%s in '%s': %s", what, ms_store_path(s), sqlite3_errmsg(db));
out:
    finalize(&j);
    return ms_store_leave(s, rc);
}

int ms_store_put_decisions(ms_store *s, int64_t sweep_id, const ms_rung_row *rows, int n)
{
    if (n <= 0)
        return 0;
    const char *what = "cannot record the decisions of a pruned search";
    ms_store_lock(s);
    sqlite3 *db = ms_store_handle(s);
    jstmts j;
    int rc = -1;
    if (prepare(db, &j) < 0 || ms_store_begin(s, what))
        goto fail;
    sqlite3_stmt *d = j.q[J_DEC];
    for (int i = 0; i < n; i++) {
        const ms_rung_row *r = &rows[i];
        sqlite3_bind_int64(d, 1, sweep_id);
        ms_sql_bind_text(d, 2, r->search);
        sqlite3_bind_int(d, 3, r->trial);
        sqlite3_bind_int(d, 4, r->rung);
        sqlite3_bind_int(d, 5, r->bracket);
        sqlite3_bind_int(d, 6, r->epoch);
        if (isnan(r->value))
            sqlite3_bind_null(d, 7);
        else
            sqlite3_bind_double(d, 7, r->value);
        sqlite3_bind_int(d, 8, r->rank);
        sqlite3_bind_int(d, 9, r->cohort);
        ms_sql_bind_text(d, 10, r->promote ? "promote" : "stop");
        sqlite3_bind_int64(d, 11, r->seq);
        if (ms_sql_step_done(d) != SQLITE_DONE)
            goto fail;
    }
    rc = ms_store_commit(s, what);
    if (rc == 0)
        goto out;
fail:
    ms_error("%s in '%s': %s", what, ms_store_path(s), sqlite3_errmsg(db));
    rc = -1;
out:
    finalize(&j);
    return ms_store_leave(s, rc);
}

/* ---- reading it back (verify) ---- */

/* Rows of sql (bound to sweep and, when given, search) handed to row() one
 * by one; 0, or -1 after a message. */
static int each_row(ms_store *s, const char *sql, const char *sweep, const char *search,
                    void (*row)(sqlite3_stmt *, void *), void *arg)
{
    ms_store_lock(s);
    sqlite3 *db = ms_store_handle(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        ms_sql_bind_text(st, 1, sweep);
        if (search)
            ms_sql_bind_text(st, 2, search);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            row(st, arg);
    }
    int out = rc == SQLITE_DONE ? 0
                                : ms_error("cannot read the searches of '%s': %s", ms_store_path(s),
                                           sqlite3_errmsg(db));
    sqlite3_finalize(st);
    ms_store_unlock(s);
    return out;
}

typedef struct grow {
    void *v;
    int n, cap;
    size_t size;
} grow;

static void *grow_add(grow *g)
{
    if (g->n == g->cap)
        g->v = ms_realloc(g->v, (size_t)(g->cap = g->cap ? 2 * g->cap : 16) * g->size);
    return memset((char *)g->v + (size_t)g->n++ * g->size, 0, g->size);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    return t ? t : "";
}

static void search_row(sqlite3_stmt *st, void *arg)
{
    ms_search_rec *r = grow_add(arg);
    r->sweep = ms_strdup(col_text(st, 8));
    r->sweep_id = sqlite3_column_int64(st, 9);
    r->name = ms_strdup(col_text(st, 0));
    r->trials = sqlite3_column_int(st, 1);
    int type = ms_name_index(ms_prune_type_names, MS_PRUNE_NTYPES, col_text(st, 2));
    int metric = MS_METRIC_VAL_LOSS;
    for (int m = MS_METRIC_TRAIN_LOSS; m <= MS_METRIC_VAL_ACC; m++)
        if (!strcmp(col_text(st, 3), ms_metric_name((ms_metric)m)))
            metric = m;
    r->prune = (ms_prune){type < 0 ? MS_PRUNE_SHA : (ms_prune_type)type, metric,
                          !strcmp(col_text(st, 4), "max"), sqlite3_column_int(st, 5),
                          sqlite3_column_int(st, 6), sqlite3_column_int(st, 7)};
}

int ms_store_searches(ms_store *s, const char *sweep, ms_search_rec **out, int *n)
{
    grow g = {NULL, 0, 0, sizeof **out};
    int rc = each_row(s,
                      "SELECT q.name, q.trials, q.prune, q.metric, q.goal, q.min_epochs,"
                      " q.max_epochs, q.eta, w.name, w.id FROM searches q"
                      " JOIN sweeps w ON w.id = q.sweep_id"
                      " WHERE ?1 IS NULL OR w.name = ?1 ORDER BY w.name, q.name",
                      sweep, NULL, search_row, &g);
    *out = g.v;
    *n = g.n;
    return rc;
}

void ms_store_searches_free(ms_search_rec *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].name);
        free(r[i].sweep);
    }
    free(r);
}

static void run_row(sqlite3_stmt *st, void *arg)
{
    ms_search_run *r = grow_add(arg);
    r->run_id = sqlite3_column_int64(st, 0);
    r->trial = sqlite3_column_int(st, 1) - 1;
    r->seed = (uint64_t)sqlite3_column_int64(st, 2);
    r->status = ms_run_status_parse(col_text(st, 3));
    r->epochs_done = sqlite3_column_int(st, 4);
    if (ms_stop_parse(col_text(st, 5), &r->stop) < 0)
        r->stop = MS_STOP_NONE;
}

int ms_store_search_runs(ms_store *s, const char *sweep, const char *search, ms_search_run **out,
                         int *n)
{
    grow g = {NULL, 0, 0, sizeof **out};
    /* a trial's K from its name NAME.tK */
    int rc = each_row(s,
                      "SELECT r.id, CAST(substr(r.variant, length(?2) + 3) AS INTEGER) AS k,"
                      " r.seed, r.status, r.epochs_done, coalesce(r.stop_reason, '')"
                      " FROM runs r JOIN sweeps w ON w.id = r.sweep_id"
                      " WHERE w.name = ?1 AND r.current AND r.grid = ?2"
                      " AND substr(r.variant, 1, length(?2) + 2) = ?2 || '.t'"
                      " ORDER BY k, r.seed",
                      sweep, search, run_row, &g);
    *out = g.v;
    *n = g.n;
    return rc;
}

static void decision_row(sqlite3_stmt *st, void *arg)
{
    ms_rung_row *r = grow_add(arg);
    r->trial = sqlite3_column_int(st, 0);
    r->rung = sqlite3_column_int(st, 1);
    r->bracket = sqlite3_column_int(st, 2);
    r->epoch = sqlite3_column_int(st, 3);
    r->value = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
    r->rank = sqlite3_column_int(st, 5);
    r->cohort = sqlite3_column_int(st, 6);
    r->promote = !strcmp(col_text(st, 7), "promote");
    r->seq = sqlite3_column_int64(st, 8);
}

int ms_store_decisions(ms_store *s, const char *sweep, const char *search, ms_rung_row **out,
                       int *n)
{
    grow g = {NULL, 0, 0, sizeof **out};
    int rc = each_row(s,
                      "SELECT d.trial, d.rung, d.bracket, d.epoch, d.value, d.rank, d.cohort,"
                      " d.decision, d.seq FROM decisions d JOIN searches q ON q.id = d.search_id"
                      " JOIN sweeps w ON w.id = q.sweep_id WHERE w.name = ?1 AND q.name = ?2"
                      " ORDER BY d.seq, d.trial, d.rung",
                      sweep, search, decision_row, &g);
    *out = g.v;
    *n = g.n;
    return rc;
}
