/* ms_sql: what the modules that speak SQL (store.c, query.c, merge.c) share:
 * small statement helpers and the run's registration. Private to src/:
 * include after <sqlite3.h>. */
#ifndef MS_SQL_UTIL_H
#define MS_SQL_UTIL_H

#include <stdio.h>
#include <string.h>

#include "ms_config.h"
#include "ms_util.h"

/* The time as every *_at column holds it (UTC, ISO 8601, milliseconds). */
#define MS_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

/* Text or NULL. The text must outlive the step (SQLITE_STATIC). */
static inline int ms_sql_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Reset n statements (NULL ones skipped) and clear their bindings, which
 * may point at a caller's memory: the end of every store function. */
static inline void ms_sql_reset_all(sqlite3_stmt *const *q, int n)
{
    for (int i = 0; i < n; i++) {
        if (q[i]) {
            sqlite3_reset(q[i]);
            sqlite3_clear_bindings(q[i]);
        }
    }
}

/* Step a statement that returns no row, then reset it. Returns SQLITE_DONE,
 * or the error code with the statement left as is (the message intact). */
static inline int ms_sql_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_MISUSE;
    if (rc == SQLITE_DONE)
        sqlite3_reset(st);
    return rc;
}

/* One sweep, one dataset: two records of the data a sweep trained on,
 * (dataset, digest) each, are other data when both are recorded (a digest
 * each; NULL: not yet) and the dataset or the digest differs. The store's
 * check before a run trains on its data, and the merge's of two shards. */
static inline int ms_sql_other_data(const char *dataset_a, const char *digest_a,
                                    const char *dataset_b, const char *digest_b)
{
    return digest_a && digest_b && (strcmp(dataset_a, dataset_b) || strcmp(digest_a, digest_b));
}

/* A run's row as it is first registered, pending (the parameters of
 * ms_sql_bind_run): by `run` for the manifest's runs, by `merge` for a
 * manifest's run that no shard holds yet. */
#define MS_SQL_RUN_REGISTER                                                                        \
    "INSERT INTO runs (sweep_id, variant, task, seed, config, config_hash, hidden, activation,"    \
    " init, lr, momentum, batch, params, epochs_total, precision, val_per_epoch, early_stop,"     \
    " shuffle, train_size, val_size, dataset, grid, created_at, updated_at)"                      \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"   \
    " ?19, ?20, ?21, ?22, " MS_SQL_NOW ", " MS_SQL_NOW ")"

/* Bind MS_SQL_RUN_REGISTER's parameters (json, and hash its
 * ms_config_identity); the texts given must outlive the step. */
static inline void ms_sql_bind_run(sqlite3_stmt *st, int64_t sweep_id, const ms_run_spec *k,
                                   const char *json, const char *hash, int64_t params)
{
    const ms_config *c = &k->cfg;
    char hidden[MS_MAX_HIDDEN * 12];
    ms_config_hidden_str(c, hidden, sizeof hidden);
    sqlite3_bind_int64(st, 1, sweep_id);
    ms_sql_bind_text(st, 2, k->variant);
    ms_sql_bind_text(st, 3, k->task ? k->task : "");
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->seed);
    ms_sql_bind_text(st, 5, json);
    ms_sql_bind_text(st, 6, hash);
    sqlite3_bind_text(st, 7, hidden, -1, SQLITE_TRANSIENT); /* a local: copied */
    ms_sql_bind_text(st, 8, ms_activation_name(c->activation));
    ms_sql_bind_text(st, 9, ms_init_name(c->init));
    sqlite3_bind_double(st, 10, c->lr);
    sqlite3_bind_double(st, 11, c->momentum);
    sqlite3_bind_int(st, 12, c->batch);
    sqlite3_bind_int64(st, 13, params);
    sqlite3_bind_int(st, 14, c->epochs);
    ms_sql_bind_text(st, 15, ms_precision_names[c->precision]);
    sqlite3_bind_int(st, 16, c->val_per_epoch);
    sqlite3_bind_int(st, 17, c->early_stop);
    sqlite3_bind_int(st, 18, c->shuffle);
    sqlite3_bind_int(st, 19, c->train_size);
    sqlite3_bind_int(st, 20, c->val_size);
    ms_sql_bind_text(st, 21, ms_dataset_names[c->dataset]);
    ms_sql_bind_text(st, 22, k->grid);
}

#endif
