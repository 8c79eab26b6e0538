/* End-to-end tests of a pruned search (ASHA in trial order): the same runs
 * train the same epochs with --jobs 1 and --jobs 2 and after kill -9 and
 * resume, and every decision matches a serial replay of the rules written
 * here from the stored values alone. */
#include "ms_test.h"

#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

enum { TRIALS = 12, SEEDS = 2, MIN = 1, MAX = 9, ETA = 3 };

static const char manifest[] =
    "name: asha\n"
    "data:\n  dir: " MS_DATA_DIR "\n  train: 3000\n  val: 1000\n"
    "defaults:\n  hidden: [16]\n  epochs: 9\n  early_stop: 0\n  seeds: [1, 2]\n"
    "variants:\n"
    "  - name: r\n"
    "    search:\n"
    "      method: random\n      seed: 3\n      trials: 12\n"
    "      space:\n"
    "        lr: {loguniform: [0.01, 2.0]}\n"
    "        momentum: {uniform: [0.0, 0.9], step: 0.1}\n"
    "    prune: {type: asha, min: 1, max: 9, eta: 3}\n";

static char *reference; /* ms_db_dump of the --jobs 1 sweep, then its journal */

/* What a sweep computed (ms_db_dump), then its search journal. */
static char *dump(const char *db)
{
    static const char *const sql[] = {
        "SELECT name, trials, prune, metric, goal, min_epochs, max_epochs, eta FROM searches",
        "SELECT q.name, d.trial, d.rung, d.bracket, d.epoch, d.value, d.rank, d.cohort,"
        " d.decision, d.seq FROM decisions d JOIN searches q ON q.id = d.search_id"
        " ORDER BY q.name, d.seq, d.trial, d.rung"};
    char *a = ms_db_dump(db), *b = ms_db_dump_sql(db, sql, 2), *out = NULL;
    assert_true(strlen(b) > 200); /* the journal holds decisions */
    assert_true(asprintf(&out, "%s--journal--\n%s", a, b) > 0);
    free(a), free(b);
    return out;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Trial t's mean val_loss at `epoch` over its seeds, from the database;
 * NAN when a seed has no such epoch. */
static double trial_value(sqlite3 *h, int t, int epoch)
{
    sqlite3_stmt *q;
    char var[32];
    snprintf(var, sizeof var, "r.t%d", t + 1);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*), avg(e.val_loss) FROM epochs e JOIN "
                                           "runs r ON r.id = e.run_id WHERE r.current AND "
                                           "r.variant = ?1 AND e.epoch = ?2",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(q, 1, var, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 2, epoch);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    double v = sqlite3_column_int(q, 0) == SEEDS ? sqlite3_column_double(q, 1) : NAN;
    sqlite3_finalize(q);
    return v;
}

/* The serial rules, replayed trial by trial in index order: at each rung a
 * trial goes on when its rank among the trials before it (and itself) that
 * reached the rung is below max(1, floor(n / eta)). Each run's epochs must
 * then be the rung where its trial stopped, or MAX. */
static void replay(const char *db)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    int stopped_at[TRIALS];
    double val[TRIALS];
    int reached[TRIALS], pruned = 0;
    for (int t = 0; t < TRIALS; t++)
        stopped_at[t] = MAX;
    for (int e = MIN; e < MAX; e *= ETA) {
        for (int t = 0; t < TRIALS; t++) {
            reached[t] = stopped_at[t] > e - 1 && stopped_at[t] >= e;
            val[t] = reached[t] ? trial_value(h, t, e) : NAN;
            if (reached[t])
                assert_false(isnan(val[t])); /* a trial that went on has its values */
        }
        for (int t = 0; t < TRIALS; t++) {
            if (!reached[t])
                continue;
            int n = 0, rank = 0;
            for (int s = 0; s <= t; s++) {
                if (!reached[s])
                    continue;
                n++;
                rank += s != t && (val[s] < val[t] || (val[s] == val[t] && s < t));
            }
            int keep = n / ETA > 1 ? n / ETA : 1;
            if (rank >= keep) {
                stopped_at[t] = e;
                pruned++;
            }
        }
    }
    assert_true(pruned > 0);
    for (int t = 0; t < TRIALS; t++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM runs WHERE current AND variant = 'r.t%d' AND "
                 "epochs_done = %d AND status = 'done' AND stop_reason = '%s'",
                 t + 1, stopped_at[t], stopped_at[t] < MAX ? "pruned" : "epochs");
        long n = ms_db_count(db, sql);
        if (n != SEEDS)
            fail_msg("trial %d: %ld of its runs stopped at epoch %d as the rules say", t + 1, n,
                     stopped_at[t]);
    }
    sqlite3_close(h);
    long trained = ms_db_count(db, "SELECT count(*) FROM epochs");
    print_message("ASHA: %d of %d trials stopped early; %ld epochs trained of %d\n", pruned,
                  TRIALS, trained, TRIALS * SEEDS * MAX);
    assert_true(trained < TRIALS * SEEDS * MAX / 2);
}

static void test_jobs_and_rules(void **state)
{
    (void)state;
    char *m = ms_tpath("asha.yaml"), *db1 = ms_tpath("a1.db"), *db2 = ms_tpath("a2.db");
    ms_write_text(m, manifest);
    pid_t pid = ms_spawn_run(m, db1, "--jobs=1", "--threads=1");
    assert_int_equal(ms_wait_exit(pid), 0);
    pid = ms_spawn_run(m, db2, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    char *a = dump(db1), *b = dump(db2);
    assert_string_equal(a, b);
    replay(db1);
    /* status shows the search's decisions */
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "status --db %s", db1), 0);
    char want[320];
    snprintf(want, sizeof want, "search 'r': asha on val_loss (min), 12 trials, rungs at 1, 3 "
                                "epochs (max 9): %ld decisions",
             ms_db_count(db1, "SELECT count(*) FROM decisions"));
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "0 runs of 0 trials waiting"));
    free(out), free(err);
    assert_int_equal(ms_runf(&out, &err, "status --db %s --json", db1), 0);
    snprintf(want, sizeof want, "\"searches\": [\n  {\"sweep\": \"asha\", \"search\": \"r\", "
                                "\"prune\": \"asha\", \"metric\": \"val_loss\", \"goal\": \"min\", "
                                "\"trials\": 12, \"min\": 1, \"max\": 9, \"eta\": 3, \"decisions\": %ld",
             ms_db_count(db1, "SELECT count(*) FROM decisions"));
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "\"runs_waiting\": 0, \"trials_waiting\": 0}]}"));
    free(out), free(err);
    /* verify agrees, and finds a decision changed by hand */
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", db1), 0);
    assert_non_null(strstr(out, "all equal to the journal"));
    free(out), free(err);
    ms_db_exec(db2, "UPDATE decisions SET decision = 'promote' WHERE decision = 'stop' AND "
                    "trial = (SELECT min(trial) FROM decisions WHERE decision = 'stop')");
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", db2), 1);
    assert_non_null(strstr(out, ": decision differs"));
    assert_non_null(strstr(out, "DIFFERENCES above"));
    free(out), free(err);
    reference = a;
    free(b), free(m), free(db1), free(db2);
}

static void test_kill_and_resume(void **state)
{
    (void)state;
    assert_non_null(reference);
    char *m = ms_tpath("asha.yaml"), *db = ms_tpath("killed.db");
    srand((unsigned)time(NULL));
    long committed = 0;
    for (int round = 0; round < 3; round++) {
        pid_t pid = ms_spawn_run(m, db, "--jobs=2", "--threads=2");
        for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") <= committed;
             i++)
            sleep_ms(2);
        sleep_ms(rand() % 120);
        kill(pid, SIGKILL);
        int st = ms_wait_exit(pid);
        long n = ms_db_count(db, "SELECT count(*) FROM epochs");
        assert_true(n >= committed);
        print_message("kill %d: %ld epochs committed\n", round + 1, n);
        committed = n;
        if (st == 0)
            break;
    }
    pid_t pid = ms_spawn_run(m, db, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    char *d = dump(db);
    assert_string_equal(reference, d);
    free(d), free(m), free(db);
}

/* Raising `trials` keeps the first trials: their runs are not trained
 * again, ASHA's decisions on them stand (the journal keeps its rows), and
 * the new trials are judged after them; the result equals a sweep of the
 * larger search from scratch. */
static void test_more_trials(void **state)
{
    (void)state;
    assert_non_null(reference);
    char *m = ms_tpath("asha.yaml"), *m16 = ms_tpath("asha16.yaml"), *db = ms_tpath("grow.db"),
         *fresh = ms_tpath("fresh16.db");
    ms_write_text(m, manifest);
    char *more = strdup(manifest), *at = strstr(more, "trials: 12");
    assert_non_null(at);
    memcpy(at, "trials: 16", 10);
    ms_write_text(m16, more);
    free(more);
    pid_t pid = ms_spawn_run(m, db, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    long epochs12 = ms_db_count(db, "SELECT count(*) FROM epochs");
    long stamp = ms_db_count(db, "SELECT count(*) FROM decisions");
    pid = ms_spawn_run(m16, db, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    /* the first 12 trials' epochs are the same rows (none trained again) */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id "
                                     "WHERE CAST(substr(r.variant, 4) AS INTEGER) <= 12"),
                     epochs12);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE variant IN "
                                     "('r.t13', 'r.t14', 'r.t15', 'r.t16')"),
                     8);
    assert_true(ms_db_count(db, "SELECT count(*) FROM decisions") > stamp);
    pid = ms_spawn_run(m16, fresh, "--jobs=1", "--threads=1");
    assert_int_equal(ms_wait_exit(pid), 0);
    char *a = dump(db), *b = dump(fresh);
    assert_string_equal(a, b);
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", db), 0);
    free(out), free(err), free(a), free(b), free(m), free(m16), free(db), free(fresh);
}

/* Raising `max` from 3 to 9 continues the survivors from their state (the
 * runs that ended at 3 epochs go on; their third epoch loses the final
 * weights' extra validation, as a longer run never had it): the result, the
 * journal included, equals the sweep of max 9 from scratch. */
static void test_raise_max(void **state)
{
    (void)state;
    assert_non_null(reference);
    char *m3 = ms_tpath("asha3.yaml"), *m = ms_tpath("asha.yaml"), *db = ms_tpath("raise.db");
    char *less = strdup(manifest), *at = strstr(less, "max: 9");
    assert_non_null(at);
    at[5] = '3';
    ms_write_text(m3, less);
    free(less);
    pid_t pid = ms_spawn_run(m3, db, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    assert_int_equal(ms_db_count(db, "SELECT max(epochs_done) FROM runs"), 3);
    long kept = ms_db_count(db, "SELECT count(*) FROM checkpoints c JOIN runs r ON r.id = c.run_id"
                                " WHERE r.stop_reason = 'epochs'");
    assert_true(kept > 0); /* a pruned search keeps the state of runs that reached max */
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "run %s --db %s --jobs 2 --threads 2", m, db), 0);
    assert_non_null(strstr(err, "its search's max is now 9 epochs: it continues from its 3"));
    free(out), free(err);
    char *d = dump(db);
    assert_string_equal(reference, d);
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", db), 0);
    free(out), free(err), free(d), free(m3), free(m), free(db);
}

/* Trials of the same settings (a choice space repeats them), seeds listed
 * out of order: each trial follows its own decisions (no run takes a twin's
 * results), jobs 1 and 2 and a kill agree, and verify passes. Then a change
 * of the rules (eta) is refused before anything is written. */
static void test_twins_seeds_and_rules(void **state)
{
    (void)state;
    char *m = ms_tpath("dup.yaml"), *d1 = ms_tpath("dup1.db"), *d2 = ms_tpath("dup2.db");
    ms_write_text(m, "name: dup\n"
                     "data:\n  dir: " MS_DATA_DIR "\n  train: 2000\n  val: 500\n"
                     "defaults:\n  hidden: [12]\n  early_stop: 0\n  seeds: [3, 1]\n"
                     "variants:\n"
                     "  - name: c\n"
                     "    search:\n      trials: 10\n      seed: 4\n"
                     "      space: {lr: {choice: [0.02, 0.3, 3.0]}}\n"
                     "    prune: {type: asha, min: 1, max: 4, eta: 2}\n");
    pid_t pid = ms_spawn_run(m, d1, "--jobs=1", "--threads=1");
    assert_int_equal(ms_wait_exit(pid), 0);
    for (int round = 0; round < 2; round++) { /* a kill, then the rest */
        pid = ms_spawn_run(m, d2, "--jobs=2", "--threads=2");
        if (round == 0) {
            sleep_ms(150);
            kill(pid, SIGKILL);
        }
        ms_wait_exit(pid);
    }
    char *a = dump(d1), *b = dump(d2);
    assert_string_equal(a, b);
    /* settings repeat across trials, yet no run took another's results */
    assert_true(ms_db_count(d1, "SELECT count(DISTINCT config_hash) FROM runs") <
                ms_db_count(d1, "SELECT count(*) FROM runs"));
    assert_int_equal(ms_db_count(d1, "SELECT count(*) FROM runs WHERE same_as IS NOT NULL"), 0);
    assert_int_equal(ms_db_count(d2, "SELECT count(*) FROM runs WHERE same_as IS NOT NULL"), 0);
    char *out, *err;
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", d1), 0);
    assert_non_null(strstr(out, "all equal to the journal"));
    free(out), free(err);
    /* the last trial repeats the first's settings (one was promoted, the
     * other stopped): trained again from nothing, it follows its own
     * decision rather than take the first's epochs */
    assert_int_equal(ms_db_count(d1, "SELECT count(DISTINCT config_hash) FROM runs WHERE variant "
                                     "IN ('c.t1', 'c.t10')"),
                     2);
    assert_true(ms_db_count(d1, "SELECT max(epochs_done) FROM runs WHERE variant = 'c.t1'") !=
                ms_db_count(d1, "SELECT max(epochs_done) FROM runs WHERE variant = 'c.t10'"));
    ms_db_exec(d2, "DELETE FROM epochs WHERE run_id IN (SELECT id FROM runs WHERE variant = 'c.t10');"
                   "DELETE FROM evals WHERE run_id IN (SELECT id FROM runs WHERE variant = 'c.t10');"
                   "DELETE FROM steps WHERE run_id IN (SELECT id FROM runs WHERE variant = 'c.t10');"
                   "DELETE FROM checkpoints WHERE run_id IN (SELECT id FROM runs WHERE variant = 'c.t10');"
                   "UPDATE runs SET status = 'pending', epochs_done = 0, steps_done = 0,"
                   " stop_reason = NULL, finished_at = NULL WHERE variant = 'c.t10'");
    pid = ms_spawn_run(m, d2, "--jobs=2", "--threads=2");
    assert_int_equal(ms_wait_exit(pid), 0);
    free(b);
    b = dump(d2);
    assert_string_equal(a, b);
    /* other rules: refused, the database untouched */
    char *m2 = ms_tpath("dup2.yaml"), *text = ms_read_file(m), *at = strstr(text, "eta: 2");
    assert_non_null(at);
    at[5] = '3';
    ms_write_text(m2, text);
    assert_int_equal(ms_runf(&out, &err, "run %s --db %s", m2, d1), 2);
    assert_non_null(strstr(err, "the pruned search 'c' ran with other rules (eta 2 -> 3)"));
    char *after = dump(d1);
    assert_string_equal(a, after);
    free(out), free(err), free(after), free(text), free(m2);
    free(a), free(b), free(m), free(d1), free(d2);
}

/* An 'asha' search decides as its trials report, so it is not sharded; an
 * --only of some of a search's trials is refused: both before anything is
 * written. */
static void test_split_refused(void **state)
{
    (void)state;
    char *m = ms_tpath("asha.yaml"), *db = ms_tpath("split.db"), *out, *err;
    assert_int_equal(ms_runf(&out, &err, "run %s --db %s --shard 1/2", m, db), 2);
    assert_non_null(strstr(err, "an 'asha' search decides as its trials report"));
    free(out), free(err);
    assert_int_equal(ms_runf(&out, &err, "run %s --db %s --only r.t1,r.t2", m, db), 2);
    assert_non_null(strstr(err, "its trial r.t3 is left out"));
    free(out), free(err);
    assert_int_equal(access(db, F_OK), -1); /* nothing written */
    free(m), free(db);
}

/* SHA and Hyperband run in stages on a cluster: each stage's shards start
 * from the merge of the stage before, train each trial still on to its next
 * rung (the trials dealt round the shards) and stop; `merge` decides the
 * rung. Three stages of three shards (a shard run twice, one killed and
 * run again) give what one local run gives, journal included. */
static const char staged[] =
    "name: staged\n"
    "data:\n  dir: " MS_DATA_DIR "\n  train: 2000\n  val: 1000\n"
    "defaults:\n  hidden: [16]\n  epochs: 9\n  early_stop: 0\n  seeds: [1, 2]\n"
    "variants:\n"
    "  - name: s\n"
    "    search:\n"
    "      method: random\n      seed: 5\n      trials: 10\n"
    "      space:\n"
    "        lr: {loguniform: [0.001, 2.0]}\n"
    "        momentum: {uniform: [0.0, 0.9], step: 0.1}\n"
    "    prune: {type: sha, min: 1, max: 9, eta: 3}\n"
    "  - name: h\n"
    "    search:\n"
    "      method: sobol\n      seed: 2\n      trials: 9\n"
    "      space:\n"
    "        lr: {loguniform: [0.01, 1.0]}\n"
    "    prune: {type: hyperband, metric: val_acc, min: 1, max: 9, eta: 3}\n"
    "  - name: plain\n";

static void test_stages_equal_one_run(void **state)
{
    (void)state;
    enum { SHARDS = 3, STAGES = 3 };
    char *m = ms_tpath("staged.yaml"), *ref = ms_tpath("staged-ref.db");
    char *merged = ms_tpath("staged.db"), *out, *err;
    ms_write_text(m, staged);
    assert_int_equal(ms_wait_exit(ms_spawn_run(m, ref, "--jobs=2", "--threads=2")), 0);
    for (int stage = 0; stage < STAGES; stage++) {
        char *files = NULL;
        for (int i = 0; i < SHARDS; i++) {
            char name[64], shard[32];
            snprintf(name, sizeof name, "stage-%d-%d.db", stage, i);
            snprintf(shard, sizeof shard, "--shard=%d/%d", i, SHARDS);
            char *db = ms_tpath(name);
            if (stage > 0) /* starts from the merge of the stage before */
                assert_int_equal(ms_runf(&out, &err, "merge --quiet --db %s %s", db, merged), 0),
                    free(out), free(err);
            if (stage == 1 && i == 1) { /* killed mid-stage, then run again */
                pid_t pid = ms_spawn_run(m, db, shard, "--threads=1");
                sleep_ms(40);
                kill(pid, SIGKILL);
                ms_wait_exit(pid);
            }
            assert_int_equal(ms_wait_exit(ms_spawn_run(m, db, shard, "--threads=1")), 0);
            if (stage == 1 && i == 0) /* run again (a requeued task): nothing changes */
                assert_int_equal(ms_wait_exit(ms_spawn_run(m, db, shard, "--threads=1")), 0);
            char *more = NULL;
            assert_true(asprintf(&more, "%s %s", files ? files : "", db) > 0);
            free(files), free(db);
            files = more;
        }
        /* the decisions of this stage's rung are taken by the merge */
        unlink(merged);
        assert_int_equal(ms_runf(&out, &err, "merge --db %s %s", merged, files), 0);
        if (stage < STAGES - 1)
            assert_non_null(strstr(err, "of pruned searches taken from the merged epochs"));
        free(out), free(err), free(files);
    }
    char *a = dump(ref), *b = dump(merged);
    assert_string_equal(a, b);
    assert_true(ms_db_count(ref, "SELECT count(*) FROM decisions") > 10);
    assert_true(ms_db_count(ref, "SELECT count(*) FROM runs WHERE stop_reason = 'pruned'") > 10);
    assert_int_equal(ms_runf(&out, &err, "verify --db %s", merged), 0);
    free(out), free(err);
    /* a shard whose journal disagrees is refused, and names the decision */
    char *bad = ms_tpath("stage-2-0.db");
    ms_db_exec(bad, "UPDATE decisions SET decision = CASE decision WHEN 'stop' THEN 'promote'"
                    " ELSE 'stop' END WHERE trial = 2 AND rung = 0");
    char *again = ms_tpath("again.db");
    assert_int_equal(ms_runf(&out, &err, "merge --db %s %s %s", again, merged, bad), 1);
    assert_non_null(strstr(err, "the decision on trial 2 at rung 0 differs between"));
    assert_int_equal(access(again, F_OK), -1);
    free(out), free(err), free(bad), free(again);
    free(a), free(b), free(m), free(ref), free(merged);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_and_rules),
        cmocka_unit_test(test_kill_and_resume),
        cmocka_unit_test(test_more_trials),
        cmocka_unit_test(test_raise_max),
        cmocka_unit_test(test_twins_seeds_and_rules),
        cmocka_unit_test(test_split_refused),
        cmocka_unit_test(test_stages_equal_one_run),
    };
    return cmocka_run_group_tests(tests, ms_group_tmp_setup, ms_group_tmp_teardown);
}
