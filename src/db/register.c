/* ms_store's registration of a sweep's runs (ms_store.h): each run found by
 * its (variant, seed, config hash) or inserted, and the results of a run
 * taken by its twin, a run of the same settings and seed under another
 * variant name (runs.same_as, schema version 5; issue 24).
 *
 * DESIGN
 * - Why a twin's results may be copied: a run's numbers depend on its
 *   configuration (config, whose hash is config_hash: no name in it), its
 *   seed (the only seed of its RNG) and the sweep's data (one per sweep,
 *   sweeps.data_digest); its checkpoint records the same config hash. So
 *   the rows of a twin are what training this run would write, and a
 *   twin's checkpoint resumes it bit for bit. Only the epochs' `seconds`
 *   and the times say which process computed them.
 * - The copy is SQL inside the caller's transaction (INSERT ... SELECT on
 *   the same file): the rows arrive bit for bit, all of them or none.
 * - The public functions hold the store's mutex (ms_store_lock) and end with
 *   ms_store_finish, which resets these statements too (ms_reg_reset). */
#define _POSIX_C_SOURCE 200809L
#include "ms_store.h"
#include "ms_data.h"  /* MS_INPUT: a run's parameter count */
#include "ms_prune.h"
#include "ms_train.h" /* ms_eval_last_periodic */
#include "ms_util.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "sql_util.h" /* after <sqlite3.h> */
#include "store_db.h"

#define NOW MS_SQL_NOW

enum {
    R_RETIRE, R_FIND, R_INSERT, R_KEEP, R_OTHERS, R_TWIN,
    R_EPOCHS_COPY, R_EVALS_COPY, R_STEPS_COPY, R_CKPT_COPY, R_RUN_COPY, R_DONE,
    R_SHORTER, R_CKPT_ALL, R_GO_ON, R_EVAL_DROP, R_EPOCH_BACK,
    R_N
};

/* The twin a run takes from: ?1 the run. Neither the run nor the twin
 * failed, the run not done, the twin further; the furthest (a done one
 * first), the oldest of equals. */
#define TWIN_SQL                                                                                   \
    "SELECT t.id FROM runs r JOIN runs t ON t.sweep_id = r.sweep_id"                               \
    " AND t.config_hash = r.config_hash AND t.seed = r.seed AND t.id <> r.id"                      \
    " WHERE r.id = ?1 AND r.status NOT IN ('done', 'failed') AND t.status <> 'failed'"             \
    " AND coalesce(t.stop_reason, '') <> 'pruned'"                                                 \
    " AND (t.status = 'done' OR t.epochs_done > r.epochs_done)"                                    \
    " ORDER BY t.status = 'done' DESC, t.epochs_done DESC, t.id LIMIT 1"

/* Copies into run ?1 from its twin ?2. */
#define COPY_SQL(table, cols)                                                                      \
    "INSERT INTO " table " (run_id, " cols ") SELECT ?1, " cols " FROM " table " WHERE run_id = ?2"
#define RESULT_COLS                                                                                \
    "status, epochs_done, steps_done, stop_reason, error, train_seconds, started_at,"              \
    " finished_at, pid, host, version, compiler, threads"

static const char *const r_sql[R_N] = {
    [R_RETIRE] = "UPDATE runs SET current = 0 WHERE sweep_id = ?1 AND current <> 0",
    [R_FIND] = "SELECT id FROM runs WHERE sweep_id = ?1 AND variant = ?2 AND seed = ?3"
               " AND config_hash = ?4",
    [R_INSERT] = MS_SQL_RUN_REGISTER,
    [R_KEEP] = "UPDATE runs SET current = 1, task = ?2, grid = ?3 WHERE id = ?1",
    [R_OTHERS] = "SELECT EXISTS (SELECT 1 FROM runs WHERE sweep_id = ?1 AND variant = ?2"
                 " AND seed = ?3 AND config_hash <> ?4)",
    [R_TWIN] = TWIN_SQL,
    [R_EPOCHS_COPY] = COPY_SQL("epochs", "epoch, step, train_loss, train_acc, val_loss, val_acc,"
                                         " seconds"),
    [R_EVALS_COPY] = COPY_SQL("evals", "step, epoch, batch_loss, train_loss, train_acc, val_loss,"
                                       " val_acc"),
    [R_STEPS_COPY] = COPY_SQL("steps", "step, epoch, batch_loss"),
    /* a finished twin's state (keep: state) is not needed to resume */
    [R_CKPT_COPY] = COPY_SQL("checkpoints", "epoch, step, state, updated_at")
                    " AND (SELECT status FROM runs WHERE id = ?2) <> 'done'",
    [R_RUN_COPY] = "UPDATE runs SET (" RESULT_COLS ", same_as, updated_at) = (SELECT " RESULT_COLS
                   ", id, " NOW " FROM runs WHERE id = ?2) WHERE id = ?1",
    /* a pruned trial's earlier run of fewer epochs (its search's max was
     * lower) that this one continues: the same settings but epochs, not
     * failed, and able to go on (its state kept) or stopped for good */
    [R_SHORTER] = "SELECT t.id FROM runs r JOIN runs t ON t.sweep_id = r.sweep_id"
                  " AND t.variant = r.variant AND t.seed = r.seed AND t.id <> r.id"
                  " WHERE r.id = ?1 AND r.epochs_done = 0 AND r.status = 'pending'"
                  " AND t.status <> 'failed' AND t.epochs_total < r.epochs_total"
                  " AND json_remove(t.config, '$.epochs') = json_remove(r.config, '$.epochs')"
                  " AND (t.stop_reason IN ('pruned', 'early_stop') OR EXISTS (SELECT 1 FROM"
                  " checkpoints c WHERE c.run_id = t.id AND c.epoch = t.epochs_done))"
                  " ORDER BY t.epochs_done DESC, t.id DESC LIMIT 1",
    [R_CKPT_ALL] = COPY_SQL("checkpoints", "epoch, step, state, updated_at"),
    /* one that ended at its max goes on to the new one */
    [R_GO_ON] = "UPDATE runs SET status = 'pending', stop_reason = NULL, finished_at = NULL"
                " WHERE id = ?1 AND status = 'done' AND stop_reason = 'epochs'",
    /* ... and its last epoch as a longer run has it: without the final
     * weights' validation, the epoch row from its last periodic one */
    [R_EVAL_DROP] = "DELETE FROM evals WHERE run_id = ?1 AND step = ?2",
    [R_EPOCH_BACK] = "UPDATE epochs SET (step, train_loss, train_acc, val_loss, val_acc) ="
                     " (SELECT step, train_loss, train_acc, val_loss, val_acc FROM evals"
                     " WHERE run_id = ?1 AND step = ?2) WHERE run_id = ?1 AND epoch = ?3",
    [R_DONE] = "SELECT EXISTS (SELECT 1 FROM runs r JOIN sweeps w ON w.id = r.sweep_id"
               " WHERE w.name = ?1 AND r.variant = ?2 AND r.seed = ?3 AND r.config_hash = ?4"
               " AND r.status = 'done')",
};

struct ms_reg {
    sqlite3_stmt *q[R_N];
};

int ms_reg_prepare(sqlite3 *db, int tolerant, ms_reg **out)
{
    ms_reg *r = ms_calloc(1, sizeof *r);
    *out = r;
    for (int i = 0; i < R_N; i++)
        if (sqlite3_prepare_v3(db, r_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &r->q[i], NULL) !=
                SQLITE_OK &&
            !tolerant)
            return -1;
    return 0;
}

void ms_reg_reset(ms_reg *r)
{
    if (r)
        ms_sql_reset_all(r->q, R_N);
}

void ms_reg_free(ms_reg *r)
{
    for (int i = 0; r && i < R_N; i++)
        sqlite3_finalize(r->q[i]);
    free(r);
}

/* The store's statement i (a read-only older file: NULL; never reached). */
#define Q(s, i) (ms_store_reg(s)->q[i])

/* "<what> in '<path>': <sqlite message>"; -1. */
static int reg_error(ms_store *s, const char *what)
{
    return ms_error("%s in '%s': %s", what, ms_store_path(s),
                    sqlite3_errmsg(ms_store_handle(s)));
}

static int step(ms_store *s, sqlite3_stmt *st, const char *what)
{
    return ms_sql_step_done(st) == SQLITE_DONE ? 0 : reg_error(s, what);
}

/* Inside a transaction: run id's rows cleared, then the statements
 * copies[0..n) copying into it (?1) from run `from` (?2). */
static int copy_run(ms_store *s, int64_t id, int64_t from, const int *copies, int n,
                    const char *what)
{
    if (ms_store_clear_run(s, id, what))
        return -1;
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *c = Q(s, copies[i]);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_int64(c, 2, from);
        if (step(s, c, what))
            return -1;
    }
    return 0;
}

/* Inside a transaction: run `id` takes its furthest twin's results, if a
 * twin is further (TWIN_SQL); *from the twin's id, or 0 when none. */
static int take_twin(ms_store *s, int64_t id, int64_t *from, const char *what)
{
    static const int copies[] = {R_EPOCHS_COPY, R_EVALS_COPY, R_STEPS_COPY, R_CKPT_COPY,
                                 R_RUN_COPY};
    sqlite3_stmt *twin = Q(s, R_TWIN);
    *from = 0;
    sqlite3_bind_int64(twin, 1, id);
    int rc = sqlite3_step(twin);
    if (rc == SQLITE_ROW)
        *from = sqlite3_column_int64(twin, 0);
    else if (rc != SQLITE_DONE)
        return reg_error(s, what);
    sqlite3_reset(twin);
    if (!*from)
        return 0;
    return copy_run(s, id, *from, copies, (int)(sizeof copies / sizeof *copies), what);
}

/* Inside a transaction: a new run of a pruned trial continues the run of
 * fewer epochs it had before its search's max was raised (R_SHORTER): its
 * rows and state copied, and if that run ended at its max, pending again.
 * *from that run's id, or 0 when none. */
static int take_shorter(ms_store *s, const ms_run_spec *k, int64_t id, int64_t *from,
                        const char *what)
{
    const ms_config *c = &k->cfg;
    static const int copies[] = {R_EPOCHS_COPY, R_EVALS_COPY, R_STEPS_COPY, R_CKPT_ALL,
                                 R_RUN_COPY};
    sqlite3_stmt *q = Q(s, R_SHORTER);
    *from = 0;
    sqlite3_bind_int64(q, 1, id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW)
        *from = sqlite3_column_int64(q, 0);
    else if (rc != SQLITE_DONE)
        return reg_error(s, what);
    sqlite3_reset(q);
    if (!*from)
        return 0;
    /* Hyperband's brackets are counted from max: with another count the
     * trial is in another bracket, and its decisions are not the same */
    ms_run_info was;
    if (ms_store_get_run(s, *from, &was, what) != 1)
        return -1;
    ms_prune before = *k->prune;
    before.max = was.epochs_total;
    if (ms_prune_brackets(&before) != ms_prune_brackets(k->prune)) {
        *from = 0;
        return 0;
    }
    if (copy_run(s, id, *from, copies, (int)(sizeof copies / sizeof *copies), what))
        return -1;
    sqlite3_bind_int64(Q(s, R_GO_ON), 1, id);
    if (step(s, Q(s, R_GO_ON), what))
        return -1;
    ms_run_info in;
    if (sqlite3_changes(ms_store_handle(s)) != 1)
        return 0; /* it had not ended at its max: nothing to take back */
    if (ms_store_get_run(s, id, &in, what) != 1)
        return -1;
    int e = in.epochs_done;
    int64_t periodic = ms_eval_last_periodic(c, e);
    int64_t last = (int64_t)e * (c->train_size / c->batch) - 1;
    if (periodic < 0 || periodic >= last)
        return 0; /* no validation after the last periodic one */
    sqlite3_stmt *drop = Q(s, R_EVAL_DROP), *back = Q(s, R_EPOCH_BACK);
    sqlite3_bind_int64(drop, 1, id);
    sqlite3_bind_int64(drop, 2, last);
    sqlite3_bind_int64(back, 1, id);
    sqlite3_bind_int64(back, 2, periodic);
    sqlite3_bind_int(back, 3, e);
    return step(s, drop, what) || step(s, back, what) ? -1 : 0;
}

/* k's configuration as JSON (malloc'd) and its hash into hash. */
static char *config_key(const ms_run_spec *k, char hash[17])
{
    char *json = ms_config_json(&k->cfg);
    ms_config_identity(json, hash);
    return json;
}

/* Bind (sweep, k's variant, k's seed, hash) as ?1 to ?4 (R_FIND, R_OTHERS). */
static void bind_key(sqlite3_stmt *st, int64_t sweep_id, const ms_run_spec *k, const char *hash)
{
    sqlite3_bind_int64(st, 1, sweep_id);
    ms_sql_bind_text(st, 2, k->variant);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)k->cfg.seed);
    ms_sql_bind_text(st, 4, hash);
}

/* The run of k found, or inserted (*is_new); its id in *id. */
static int find_or_insert(ms_store *s, int64_t sweep_id, const ms_run_spec *k, const char *json,
                          const char *hash, int64_t *id, int *is_new, const char *what)
{
    sqlite3_stmt *find = Q(s, R_FIND);
    bind_key(find, sweep_id, k, hash);
    int rc = sqlite3_step(find);
    *is_new = rc == SQLITE_DONE;
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(find, 0);
    else if (rc != SQLITE_DONE)
        return reg_error(s, what);
    sqlite3_reset(find);
    if (!*is_new)
        return 0;
    sqlite3_stmt *ins = Q(s, R_INSERT);
    ms_sql_bind_run(ins, sweep_id, k, json, hash, ms_config_params(&k->cfg, MS_INPUT));
    if (step(s, ins, what))
        return -1;
    *id = sqlite3_last_insert_rowid(ms_store_handle(s));
    return 0;
}

/* One run of ms_store_register, in its transaction: found or inserted,
 * marked current with its task and grid, caught up with its twin; out as
 * ms_store_register describes it. */
static int register_run(ms_store *s, int64_t sweep_id, const ms_run_spec *k, ms_run_info *out)
{
    char hash[17], what[160];
    int64_t id = 0, from = 0;
    int is_new = 0, rc = -1;
    char *json = config_key(k, hash);
    snprintf(what, sizeof what, "cannot register run '%s' seed %llu", k->variant,
             (unsigned long long)k->cfg.seed);
    if (find_or_insert(s, sweep_id, k, json, hash, &id, &is_new, what))
        goto out;

    sqlite3_stmt *keep = Q(s, R_KEEP), *others = Q(s, R_OTHERS);
    sqlite3_bind_int64(keep, 1, id);
    ms_sql_bind_text(keep, 2, k->task ? k->task : "");
    ms_sql_bind_text(keep, 3, k->grid);
    if (step(s, keep, what))
        goto out;
    bind_key(others, sweep_id, k, hash);
    if (sqlite3_step(others) != SQLITE_ROW) {
        reg_error(s, what);
        goto out;
    }
    int replaced = sqlite3_column_int(others, 0);
    sqlite3_reset(others);

    int64_t shorter = 0;
    /* a pruned trial's run takes nothing from a twin: its epochs follow
     * its own trial's decisions */
    if ((is_new && k->prune && take_shorter(s, k, id, &shorter, what)) ||
        (!k->prune && take_twin(s, id, &from, what)) || ms_store_get_run(s, id, out, what) != 1)
        goto out;
    out->is_new = is_new;
    out->replaced = replaced;
    out->taken = from != 0;
    out->longer = shorter != 0;
    rc = 0;
out:
    free(json);
    return rc;
}

int ms_store_register(ms_store *s, int64_t sweep_id, const ms_run_spec *runs, int n,
                      ms_run_info *out)
{
    const char *what = "cannot register the runs";
    int rc = -1;
    ms_store_lock(s);
    if (ms_store_begin(s, what))
        goto out;
    sqlite3_stmt *retire = Q(s, R_RETIRE);
    sqlite3_bind_int64(retire, 1, sweep_id);
    if (step(s, retire, what))
        goto out;
    for (int i = 0; i < n; i++)
        if (register_run(s, sweep_id, &runs[i], &out[i]))
            goto out;
    rc = ms_store_commit(s, what);
out:
    return ms_store_leave(s, rc);
}

int ms_store_take_twin(ms_store *s, int64_t run_id, ms_run_info *out)
{
    char what[80];
    int64_t from = 0;
    int rc = -1;
    snprintf(what, sizeof what, "cannot give run %lld its twin's results", (long long)run_id);
    ms_store_lock(s);
    if (ms_store_begin(s, what) || take_twin(s, run_id, &from, what))
        goto out;
    int found = ms_store_get_run(s, run_id, out, what);
    if (found == 0)
        ms_error("%s: no run %lld in '%s'", what, (long long)run_id, ms_store_path(s));
    if (found != 1)
        goto out;
    out->taken = from != 0;
    rc = ms_store_commit(s, what);
out:
    return ms_store_leave(s, rc);
}

int ms_store_has_run(ms_store *s, int64_t sweep_id, const ms_run_spec *k)
{
    char hash[17];
    free(config_key(k, hash));
    ms_store_lock(s);
    sqlite3_stmt *find = Q(s, R_FIND);
    bind_key(find, sweep_id, k, hash);
    int rc = sqlite3_step(find);
    rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : reg_error(s, "cannot read the runs");
    return ms_store_leave(s, rc);
}

int ms_store_all_done(const char *path, const char *sweep, const ms_run_spec *runs, int n)
{
    ms_store *s = NULL;
    FILE *prev = ms_error_file(), *sink = fopen("/dev/null", "w");
    if (!sink)
        return 0;
    ms_error_stream(sink); /* a missing or other file is just "no": silent */
    int all = ms_store_open(path, MS_STORE_READONLY, &s) == 0 && n > 0;
    ms_error_stream(prev == stderr ? NULL : prev);
    fclose(sink);
    if (!all) {
        ms_store_close(s);
        return 0;
    }
    ms_store_lock(s);
    sqlite3_stmt *done = Q(s, R_DONE);
    for (int i = 0; all && i < n; i++) {
        char hash[17];
        free(config_key(&runs[i], hash));
        ms_sql_bind_text(done, 1, sweep);
        ms_sql_bind_text(done, 2, runs[i].variant);
        sqlite3_bind_int64(done, 3, (sqlite3_int64)runs[i].cfg.seed);
        ms_sql_bind_text(done, 4, hash);
        all = sqlite3_step(done) == SQLITE_ROW && sqlite3_column_int(done, 0) == 1;
        sqlite3_reset(done);
    }
    ms_store_leave(s, 0);
    ms_store_close(s);
    return all;
}
