/* Tests of sharding and merging: the split of a run list (deterministic,
 * every run in exactly one shard, balanced), `run --shard I/N`, and
 * `merge` on small real sweeps: the merged database equals an unsharded
 * sweep's bit for bit, merging is idempotent, a partial copy of a run is
 * replaced by a longer one, conflicting copies are an error naming the run
 * and change nothing, foreign files are refused, status/export/plot read the
 * merged database like any other, and the scripts of `mlpsweep slurm` work
 * when run by hand (no SLURM needed; tests/slurm runs them under SLURM). */
#include "ms_test.h"

#include <math.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "ms_manifest.h"
#include "ms_sched.h"
#include "ms_shard.h"
#include "ms_store.h"

/* Run a shell command line; its stdout and stderr into *out and *err when
 * non-NULL. Returns the exit status (128 + signal when killed). */
static int shell(const char *line, char **out, char **err)
{
    char *cmd = NULL, *of = ms_tpath("stdout"), *ef = ms_tpath("stderr");
    if (asprintf(&cmd, "{ %s; } >%s 2>%s </dev/null", line, of, ef) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    if (out)
        *out = ms_read_file(of);
    if (err)
        *err = ms_read_file(ef);
    free(of);
    free(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void exec_sql(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_message("sql: %s\n", msg ? msg : "?");
    sqlite3_free(msg);
    assert_int_equal(rc, SQLITE_OK);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
}

/* ms_store_check: integrity, foreign keys, epochs_done against the epoch
 * rows and the checkpoints. */
static void check_db(const char *db)
{
    ms_store *st;
    assert_int_equal(ms_store_open(db, MS_STORE_READONLY, &st), 0);
    assert_int_equal(ms_store_check(st), 0);
    ms_store_close(st);
}

/* ---- the split ---- */

static const char split_manifest[] =
    "name: split\n"
    "defaults:\n  epochs: 10\n  seeds: [1, 2, 3]\n"
    "variants:\n"
    "  - name: small\n    hidden: [8]\n"
    "  - name: mid\n    hidden: [64]\n    seeds: [1, 2, 3, 4, 5]\n"
    "  - name: big\n    hidden: [128, 64]\n"
    "  - name: long\n    hidden: [32]\n    epochs: 40\n    seeds: [7]\n"
    "  - name: same\n    hidden: [8]\n    seeds: [11, 12, 13, 14]\n";

static void test_shard_parse(void **state)
{
    (void)state;
    int i = -1, n = -1;
    assert_int_equal(ms_shard_parse("--shard", "0/1", &i, &n), 0);
    assert_int_equal(i, 0);
    assert_int_equal(n, 1);
    assert_int_equal(ms_shard_parse("--shard", "15/16", &i, &n), 0);
    assert_int_equal(i, 15);
    assert_int_equal(n, 16);
    static const char *const bad[] = {"", "1", "1/", "/4", "4/4", "5/4", "-1/4", "1/0", "1/-2",
                                      "a/4", "1/4x", " 1/4", "1/ 4", "1.0/4", "+1/4", "1/4/2",
                                      "0/100001"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ms_capture c;
        ms_capture_start(&c);
        int rc = ms_shard_parse("--shard", bad[k], &i, &n);
        char *msg = ms_capture_end(&c);
        if (rc != -1)
            print_message("accepted '%s'\n", bad[k]);
        assert_int_equal(rc, -1);
        assert_non_null(strstr(msg, "--shard: "));
        free(msg);
    }
    ms_capture c;
    ms_capture_start(&c);
    ms_shard_parse("--shard", "4/4", &i, &n);
    char *msg = ms_capture_end(&c);
    assert_string_equal(msg, "mlpsweep: --shard: shard 4 does not exist in '4/4' (shards are 0 to 3)\n");
    free(msg);
}

static void test_split(void **state)
{
    (void)state;
    ms_manifest m;
    assert_int_equal(ms_manifest_parse("split.yaml", split_manifest, strlen(split_manifest), &m, 0), 0);
    ms_run_spec *specs;
    int n = ms_manifest_expand(&m, &specs);
    assert_int_equal(n, 3 + 5 + 3 + 1 + 4);
    double maxcost = 0, total = 0;
    for (int i = 0; i < n; i++) {
        double c = ms_sched_cost(&specs[i].cfg, 0);
        maxcost = c > maxcost ? c : maxcost;
        total += c;
    }
    int *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    double *load = malloc((size_t)(n + 5) * sizeof *load);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(load);
    for (int N = 1; N <= n + 4; N++) {
        ms_shard_assign(specs, n, N, a, load);
        ms_shard_assign(specs, n, N, b, NULL);
        assert_memory_equal(a, b, (size_t)n * sizeof *a); /* deterministic */
        double sum = 0, hi = 0, lo = 1e300;
        for (int s = 0; s < N; s++) {
            sum += load[s];
            hi = load[s] > hi ? load[s] : hi;
            lo = load[s] < lo ? load[s] : lo;
        }
        assert_true(fabs(sum - total) <= 1e-9 * total);
        /* greedy: the fullest shard exceeds the emptiest by at most one run */
        assert_true(hi - lo <= maxcost * (1 + 1e-12));
        /* LPT: within 4/3 of the optimum, which is at least this bound */
        double bound = total / N > maxcost ? total / N : maxcost;
        assert_true(hi <= bound * 4.0 / 3.0 * (1 + 1e-12));
        /* every run in exactly one shard, and filter keeps manifest order */
        int *seen = calloc((size_t)n, sizeof *seen), kept = 0, empty = 0;
        assert_non_null(seen);
        for (int s = 0; s < N; s++) {
            ms_run_spec *copy = malloc((size_t)n * sizeof *copy);
            assert_non_null(copy);
            memcpy(copy, specs, (size_t)n * sizeof *copy);
            int k = ms_shard_filter(copy, n, s, N);
            empty += k == 0;
            int prev = -1;
            for (int j = 0; j < k; j++) {
                int idx = -1;
                for (int i = 0; i < n; i++)
                    if (specs[i].variant == copy[j].variant && specs[i].cfg.seed == copy[j].cfg.seed)
                        idx = i;
                assert_true(idx > prev);
                assert_int_equal(a[idx], s);
                seen[idx]++;
                prev = idx;
            }
            kept += k;
            free(copy);
        }
        assert_int_equal(kept, n);
        for (int i = 0; i < n; i++)
            assert_int_equal(seen[i], 1);
        assert_int_equal(empty, N > n ? N - n : 0);
        free(seen);
    }
    /* equal costs spread evenly, ties to the lower shard and the earlier run */
    int same = 0;
    while (strcmp(specs[same].variant, "same"))
        same++;
    ms_shard_assign(specs + same, 4, 3, a, NULL);
    assert_int_equal(a[0], 0);
    assert_int_equal(a[1], 1);
    assert_int_equal(a[2], 2);
    assert_int_equal(a[3], 0);
    /* the longest run goes first, to shard 0 */
    ms_shard_assign(specs, n, 2, a, NULL);
    int longest = 0;
    for (int i = 1; i < n; i++)
        if (ms_sched_cost(&specs[i].cfg, 0) > ms_sched_cost(&specs[longest].cfg, 0))
            longest = i;
    assert_int_equal(a[longest], 0);
    free(a), free(b), free(load), free(specs);
    ms_manifest_release(&m);
}

/* ---- sweeps ---- */

/* 3 variants x 2 seeds on a few thousand images, with a figure; one made by
 * a grid (of one value), with settings other than the defaults. */
static const char sweep_manifest[] =
    "name: shardy\n"
    "data:\n  dir: " MS_DATA_DIR "\n  train: 600\n  val: 300\n"
    "defaults:\n  hidden: [16]\n  init: fanin_normal\n  epochs: 3\n  seeds: [1, 2]\n"
    "variants:\n"
    "  - name: plain\n    task: \"a\"\n"
    "  - name: momentum\n    activation: improved_sigmoid\n    momentum: 0.9\n"
    "    grid: {lr: [0.02]}\n    val_per_epoch: 3\n    early_stop: 4\n    shuffle: false\n"
    "  - name: deep\n    hidden: [16, 12]\n    activation: improved_sigmoid\n"
    "plots:\n  - name: curves\n    variants: [plain, momentum, deep]\n";

static char *yaml, *ref_db, *ref; /* the manifest, the unsharded sweep and its ms_db_dump() */
static char *shard_db[3];

static void test_reference_and_shards(void **state)
{
    (void)state;
    yaml = ms_tpath("shardy.yaml");
    ms_write_text(yaml, sweep_manifest);
    ref_db = ms_tpath("ref.db");
    char *err;
    assert_int_equal(ms_runf(NULL, &err, "run %s --db %s --threads 1 --quiet", yaml, ref_db), 0);
    free(err);
    ref = ms_db_dump(ref_db);
    assert_true(strlen(ref) > 2000);
    int total = 0;
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "shard-%d.db", i);
        shard_db[i] = ms_tpath(name);
        assert_int_equal(ms_runf(NULL, &err, "run %s --shard %d/3 --db %s --threads 1", yaml, i,
                             shard_db[i]), 0);
        char want[96];
        snprintf(want, sizeof want, "sweep 'shardy': shard %d/3 holds 2 of 6 runs", i);
        assert_non_null(strstr(err, want));
        free(err);
        total += (int)ms_db_count(shard_db[i], "SELECT count(*) FROM runs WHERE status = 'done'");
        assert_int_equal(ms_db_count(shard_db[i], "SELECT count(*) FROM runs"), 2);
    }
    assert_int_equal(total, 6);
    /* a rerun of a finished shard resumes: nothing to train */
    assert_int_equal(ms_runf(NULL, &err, "run %s --shard 1/3 --db %s", yaml, shard_db[1]), 0);
    assert_non_null(strstr(err, "2 runs, 2 done already, 0 to train"));
    free(err);
}

static void test_run_shard_options(void **state)
{
    (void)state;
    char *err, *db = ms_tpath("empty.db");
    /* more shards than runs: an empty shard says so, exits 0, creates nothing */
    assert_int_equal(ms_runf(NULL, &err, "run %s --shard 7/8 --db %s", yaml, db), 0);
    assert_string_equal(err, "sweep 'shardy': shard 7/8 is empty (6 runs in 8 shards): nothing to do\n");
    assert_int_equal(access(db, F_OK), -1);
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "run %s --shard 3/3 --db %s", yaml, db), 2);
    assert_string_equal(err, "mlpsweep: --shard: shard 3 does not exist in '3/3' (shards are 0 to 2)\n");
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "run %s --shard 1/3", yaml), 2);
    assert_non_null(strstr(err, "--shard needs --db FILE"));
    free(err);
    /* --only first, then the split of what is left */
    assert_int_equal(ms_runf(NULL, &err, "run %s --only deep --shard 1/2 --db %s", yaml, db), 0);
    assert_non_null(strstr(err, "shard 1/2 holds 1 of 2 runs"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE variant = 'deep' AND seed = 2"), 1);
    free(db);
}

static void test_merge_equals_unsharded(void **state)
{
    (void)state;
    char *out = ms_tpath("merged.db"), *err;
    /* shards in any order: the runs are numbered in manifest order */
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s %s", out, shard_db[2], shard_db[0],
                         shard_db[1]), 0);
    assert_non_null(strstr(err, "6 runs added, 0 updated, 0 unchanged"));
    free(err);
    char *d = ms_db_dump(out);
    assert_string_equal(ref, d);
    free(d);
    check_db(out);
    /* every setting and the grid carried (ms_db_dump has them too) */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE grid = 'momentum' AND"
                                      " val_per_epoch = 3 AND early_stop = 4 AND shuffle = 0 AND"
                                      " train_size = 600 AND val_size = 300 AND dataset = 'mnist'"),
                     2);
    /* the sweeps row is the shards' (same manifest text and path) */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM sweeps"), 1);
    /* checkpoints and views as in the unsharded file */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM checkpoints"),
                     ms_db_count(ref_db, "SELECT count(*) FROM checkpoints"));
    assert_int_equal(ms_db_count(out, "SELECT done FROM sweep_status"), 6);
    assert_int_equal(ms_db_count(out, "SELECT epochs_done = epochs_total FROM sweep_status"), 1);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM run_summary WHERE final_val_acc > 0"), 6);
    /* the times are the shards': train_seconds add up */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE started_at IS NULL OR host IS NULL"), 0);
    free(out);
}

static void test_merge_idempotent(void **state)
{
    (void)state;
    char *out = ms_tpath("merged.db"), *err;
    char *before = ms_db_dump_all(out);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s %s %s", out, shard_db[0], shard_db[1],
                         shard_db[2], shard_db[0]), 0);
    assert_non_null(strstr(err, "0 runs added, 0 updated, 8 unchanged"));
    free(err);
    char *after = ms_db_dump_all(out);
    assert_string_equal(before, after);
    free(after);
    /* merging the merged file into a copy of itself changes nothing either */
    char *copy = ms_tpath("copy.db"), *line = NULL;
    assert_true(asprintf(&line, "cp %s %s", out, copy) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s", out, copy), 0);
    free(err);
    after = ms_db_dump_all(out);
    assert_string_equal(before, after);
    /* ... but not into itself */
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s", out, out), 1);
    assert_non_null(strstr(err, "is the output database"));
    free(err);
    free(after), free(before), free(line), free(copy), free(out);
}

/* A copy of shard 0 whose first run stops after `epochs` epochs, as if
 * interrupted: its later epochs, evals and checkpoint removed. */
static char *partial_copy(const char *name, int epochs, const char *extra_sql)
{
    char *p = ms_tpath(name), *line = NULL, *sql = NULL;
    assert_true(asprintf(&line, "rm -f %s*; sqlite3 %s \".backup '%s'\"", p, shard_db[0], p) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    assert_true(asprintf(&sql,
                         "DELETE FROM evals WHERE run_id = 1 AND epoch > %d;"
                         "DELETE FROM epochs WHERE run_id = 1 AND epoch > %d;"
                         "DELETE FROM checkpoints WHERE run_id = 1;"
                         "UPDATE runs SET epochs_done = %d, status = 'pending', stop_reason = "
                         "'interrupted', finished_at = NULL WHERE id = 1; %s",
                         epochs, epochs, epochs, extra_sql) > 0);
    exec_sql(p, sql);
    free(sql), free(line);
    return p;
}

static void test_merge_partial_then_full(void **state)
{
    (void)state;
    char *part = partial_copy("partial.db", 1, ""), *out = ms_tpath("p.db"), *err;
    /* partial first: then the full copy replaces it */
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s", out, part, shard_db[1]), 0);
    assert_non_null(strstr(err, "\n2 runs of the manifest are not started in any shard yet (pending)\n"));
    free(err);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE status = 'done'"), 3);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE status = 'pending' AND "
                                "epochs_done = 0"), 2); /* shard 2: not merged yet */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE current"), 6);
    assert_int_equal(ms_runf(NULL, &err, "status --db %s", out), 0);
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s", out, shard_db[0], shard_db[2]), 0);
    assert_non_null(strstr(err, "2 runs added, 1 updated, 1 unchanged"));
    free(err);
    char *d = ms_db_dump(out);
    assert_string_equal(ref, d);
    free(d);
    check_db(out);
    /* full first: the partial copy changes nothing */
    char *before = ms_db_dump_all(out);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s", out, part), 0);
    assert_non_null(strstr(err, "0 runs added, 0 updated, 2 unchanged"));
    free(err);
    d = ms_db_dump_all(out);
    assert_string_equal(before, d);
    free(d), free(before), free(part), free(out);
}

static void test_merge_conflict(void **state)
{
    (void)state;
    char *bad = partial_copy("bad.db", 2, "UPDATE evals SET val_acc = val_acc + 0.001 "
                                          "WHERE run_id = 1 AND step = (SELECT max(step) FROM "
                                          "evals WHERE run_id = 1);");
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(bad, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT variant, seed FROM runs WHERE id = 1", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    char run[128];
    snprintf(run, sizeof run, "run '%s' seed %lld", (const char *)sqlite3_column_text(q, 0),
             (long long)sqlite3_column_int64(q, 1));
    sqlite3_finalize(q);
    sqlite3_close(h);

    /* into an existing database: error naming the run and both files, nothing changed */
    char *out = ms_tpath("merged.db"), *err, *want = NULL;
    char *before = ms_db_dump_all(out);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s", out, shard_db[2], bad), 1);
    assert_true(asprintf(&want, "mlpsweep: %s differs between '%s' and '%s'\n", run, out, bad) > 0);
    assert_string_equal(err, want);
    free(err), free(want);
    char *after = ms_db_dump_all(out);
    assert_string_equal(before, after);
    free(after);
    /* between two shards into a new database: it is not created */
    char *fresh = ms_tpath("fresh.db");
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s", fresh, shard_db[0], bad), 1);
    assert_true(asprintf(&want, "mlpsweep: %s differs between '%s' and '%s'\n", run, shard_db[0],
                         bad) > 0);
    assert_string_equal(err, want);
    assert_int_equal(access(fresh, F_OK), -1);
    free(err), free(want), free(before), free(fresh), free(out), free(bad);
}

static void test_merge_refuses_foreign_files(void **state)
{
    (void)state;
    char *out = ms_tpath("none.db"), *err, *want = NULL;
    char *text = ms_tpath("notes.txt"), *other = ms_tpath("other.db"), *newer = ms_tpath("newer.db");
    ms_write_text(text, "hello, this is not a database at all, and it is long enough to be read\n");
    exec_sql(other, "CREATE TABLE t (x)");
    char *line = NULL;
    assert_true(asprintf(&line, "cp %s %s", shard_db[1], newer) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    exec_sql(newer, "PRAGMA user_version = 7");
    struct {
        const char *file, *msg;
    } cases[] = {
        {text, "'%s' is not an mlpsweep database (file is not a database)"},
        {other, "'%s' is not an mlpsweep database (it has other tables)"},
        {newer, "'%s' has schema version 7, newer than this mlpsweep understands (6)"},
    };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s %s", out, shard_db[0], cases[i].file), 1);
        char msg[512];
        snprintf(msg, sizeof msg, cases[i].msg, cases[i].file);
        assert_true(asprintf(&want, "mlpsweep: %s\n", msg) > 0);
        assert_string_equal(err, want);
        assert_int_equal(access(out, F_OK), -1);
        free(err), free(want);
    }
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s/missing.db", out, ms_group_tmp), 1);
    assert_non_null(strstr(err, "no such database"));
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "merge %s", shard_db[0]), 2);
    assert_string_equal(err, "mlpsweep: missing --db OUT (see --help)\n");
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s", out), 2);
    free(err);
    free(line), free(text), free(other), free(newer), free(out);
}

/* ---- what no manifest could have made (issue 22) ---- */

/* A copy of shard 0 with sql run on it: a shard as a hostile colleague or a
 * broken tool could hand it over. */
static char *tampered_copy(const char *name, const char *sql)
{
    char *p = ms_tpath(name), *line = NULL;
    assert_true(asprintf(&line, "rm -f %s*; sqlite3 %s \".backup '%s'\"", p, shard_db[0], p) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    exec_sql(p, sql);
    free(line);
    return p;
}

/* The id of shard 0's first run (the one the cases below tamper with). */
static long first_run(void)
{
    long id = ms_db_count(shard_db[0], "SELECT min(id) FROM runs");
    assert_true(id > 0);
    return id;
}

/* Merging the copy that sql (its %ld: first_run()) makes of shard 0 is
 * refused with "mlpsweep: refusing 'COPY': " then want (its %ld: the same
 * id), before anything is written: a new OUT is not created, an existing
 * one does not change. */
static void assert_refused(const char *sql, const char *want)
{
    char *q = NULL, *w = NULL, *msg = NULL, *err, *line = NULL;
    long id = first_run();
    assert_true(asprintf(&q, sql, id) > 0);
    assert_true(asprintf(&w, want, id) > 0);
    char *bad = tampered_copy("tampered.db", q), *fresh = ms_tpath("refused.db");
    char *out = ms_tpath("merged.db");
    assert_true(asprintf(&msg, "mlpsweep: refusing '%s': %s\n", bad, w) > 0);
    assert_true(asprintf(&line, "rm -f %s %s-wal %s-shm", fresh, fresh, fresh) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    /* a valid shard first: the refusal still comes before any write */
    int rc = ms_runf(NULL, &err, "merge --db %s %s %s", fresh, shard_db[1], bad);
    if (rc != 1 || strcmp(err, msg))
        print_message("after '%s':\nexit %d, stderr: %swanted: %s", q, rc, err, msg);
    assert_int_equal(rc, 1);
    assert_string_equal(err, msg);
    assert_int_equal(access(fresh, F_OK), -1);
    free(err);
    char *before = ms_db_dump_all(out);
    assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s", out, bad), 1);
    assert_string_equal(err, msg);
    char *after = ms_db_dump_all(out);
    assert_string_equal(before, after);
    free(err), free(before), free(after), free(bad), free(fresh), free(out);
    free(q), free(w), free(msg), free(line);
}

static void test_merge_refuses_names_no_manifest_holds(void **state)
{
    (void)state;
    assert_refused("UPDATE runs SET variant = '../../x<script>' WHERE id = %ld",
                   "run %ld: variant: '../../x<script>' may only contain letters, digits, '_', '.' "
                   "and '-'");
    assert_refused("UPDATE runs SET variant = 'a/b' WHERE id = %ld",
                   "run %ld: variant: 'a/b' may only contain letters, digits, '_', '.' and '-'");
    assert_refused("UPDATE runs SET variant = printf('%%.65c', 'v') WHERE id = %ld",
                   "run %ld: variant: at most 64 characters (got 65)");
    assert_refused("UPDATE runs SET variant = X'706c61696e' WHERE id = %ld",
                   "run %ld: variant: expected text or a number, got a blob");
    assert_refused("UPDATE sweeps SET name = '../../shardy'", /* no run: no %ld */
                   "sweep 1: name: '../../shardy' may only contain letters, digits, '_', '.' and '-'");
    assert_refused("UPDATE runs SET task = CAST(X'61FF62' AS TEXT) WHERE id = %ld",
                   "run %ld: task: not valid UTF-8");
    assert_refused("UPDATE runs SET task = CAST(X'610062' AS TEXT) WHERE id = %ld",
                   "run %ld: task: NUL characters are not supported");
}

static void test_merge_refuses_negative_seed(void **state)
{
    (void)state;
    assert_refused("UPDATE runs SET seed = -1 WHERE id = %ld",
                   "run %ld: seeds: seed must be >= 0 (got -1)");
    assert_refused("UPDATE runs SET seed = 1.5 WHERE id = %ld",
                   "run %ld: seeds: expected a list of non-negative integers, got '1.5'");
}

/* Shard 0's first run as an older mlpsweep wrote it: the config JSON of
 * numerics version `numerics` (1: before the key), its hash to match. */
static char *older_copy(const char *name, int numerics)
{
    char *p = tampered_copy(name, "SELECT 1"), *sql = NULL;
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT config FROM runs ORDER BY id LIMIT 1", -1, &q,
                                        NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    char json[1024], key[32];
    snprintf(json, sizeof json, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    snprintf(key, sizeof key, ",\"numerics\":%d", MS_NUMERICS);
    char *at = strstr(json, key);
    assert_non_null(at);
    size_t tail = strlen(at + strlen(key)) + 1;
    if (numerics > 1) {
        char now[32];
        int k = snprintf(now, sizeof now, ",\"numerics\":%d", numerics);
        assert_int_equal(k, (int)strlen(key)); /* one digit either way */
        memcpy(at, now, (size_t)k);
    } else
        memmove(at, at + strlen(key), tail);
    assert_true(asprintf(&sql, "UPDATE runs SET config = '%s', config_hash = '%016llx' WHERE id = "
                         "(SELECT min(id) FROM runs)", json, (unsigned long long)ms_hash64(json)) > 0);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    free(sql);
    return p;
}

static void test_merge_refuses_settings_no_manifest_makes(void **state)
{
    (void)state;
    assert_refused("UPDATE runs SET lr = -0.5 WHERE id = %ld",
                   "run %ld: lr: must be a finite number > 0 (got -0.5)");
    assert_refused("UPDATE runs SET activation = 'relu' WHERE id = %ld",
                   "run %ld: activation: unknown value 'relu' (expected sigmoid or improved_sigmoid)");
    assert_refused("UPDATE runs SET momentum = 1 WHERE id = %ld",
                   "run %ld: momentum: must be in [0, 1) (got 1.0)");
    assert_refused("UPDATE runs SET hidden = '16,0' WHERE id = %ld",
                   "run %ld: hidden: layer size must be in 1..65536 (got 0)");
    assert_refused("UPDATE runs SET batch = 601 WHERE id = %ld",
                   "run %ld: batch: must be <= 600, the training size (got 601)");
    assert_refused("UPDATE runs SET epochs_total = 0 WHERE id = %ld",
                   "run %ld: epochs: must be in 1..1048576 (got 0)");
    assert_refused("UPDATE runs SET precision = 'float16' WHERE id = %ld",
                   "run %ld: precision: unknown value 'float16' (did you mean 'float32'?)");
    /* what only the configuration's JSON held before schema version 4 */
    assert_refused("UPDATE runs SET early_stop = -3 WHERE id = %ld",
                   "run %ld: early_stop: must be in 0..1048576 (got -3)");
    assert_refused("UPDATE runs SET train_size = 60001 WHERE id = %ld",
                   "run %ld: data.train: must be in 1..60000 (got 60001)");
    assert_refused("UPDATE runs SET shuffle = 2 WHERE id = %ld",
                   "run %ld: shuffle: expected true or false, got '2'");
    assert_refused("UPDATE runs SET val_size = 0 WHERE id = %ld",
                   "run %ld: data.val: must be in 1..10000 (got 0)");
    assert_refused("UPDATE runs SET dataset = 'cifar' WHERE id = %ld",
                   "run %ld: data.dataset: unknown value 'cifar' (expected mnist or fashion-mnist)");
    assert_refused("UPDATE runs SET grid = '../g' WHERE id = %ld",
                   "run %ld: grid: '../g' may only contain letters, digits, '_', '.' and '-'");
    /* a setting's column and the JSON differ */
    assert_refused("UPDATE runs SET config = replace(config, '\"early_stop\":', '\"early_stop\":7')"
                   " WHERE id = %ld",
                   "run %ld: config: does not match the run's settings");
    assert_refused("UPDATE runs SET dataset = 'fashion-mnist' WHERE id = %ld",
                   "run %ld: config: does not match the run's settings");
    assert_refused("UPDATE runs SET config = '[1, 2]' WHERE id = %ld",
                   "run %ld: config: not a JSON object");
    /* the columns, the JSON and the hash agree */
    assert_refused("UPDATE runs SET config = replace(config, '\"epochs\":3', '\"epochs\":4')"
                   " WHERE id = %ld",
                   "run %ld: config: does not match the run's settings");
    assert_refused("UPDATE runs SET config = replace(config, '}', ',\"evil\":1}') WHERE id = %ld",
                   "run %ld: config: does not match the run's settings");
    assert_refused("UPDATE runs SET config_hash = '0123456789abcdef' WHERE id = %ld",
                   "run %ld: config_hash: not the hash of its config");
    assert_refused("UPDATE runs SET params = params + 1 WHERE id = %ld",
                   "run %ld: params: not the network's weight count");
    /* ... and what an older mlpsweep wrote still merges: its numerics version,
     * or none (the first builds) */
    for (int v = 1; v < MS_NUMERICS; v++) {
        char *old = older_copy("older.db", v), *fresh = ms_tpath("older-out.db"), *err, *line = NULL;
        assert_true(asprintf(&line, "rm -f %s*", fresh) > 0);
        assert_int_equal(shell(line, NULL, NULL), 0);
        assert_int_equal(ms_runf(NULL, &err, "merge --db %s %s", fresh, old), 0);
        free(err), free(line), free(old), free(fresh);
    }
}

/* Times differ between any two sweeps: zero them in a copy. */
static char *timeless_copy(const char *db, const char *name)
{
    char *p = ms_tpath(name), *line = NULL;
    assert_true(asprintf(&line, "rm -f %s*; sqlite3 %s \".backup '%s'\"", p, db, p) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    exec_sql(p, "UPDATE runs SET train_seconds = 0, created_at = '', started_at = '', "
                "finished_at = '', updated_at = '', pid = 0; UPDATE epochs SET seconds = 0;"
                "UPDATE sweeps SET created_at = '', updated_at = ''; UPDATE checkpoints SET updated_at = ''");
    free(line);
    return p;
}

static void test_status_export_plot_on_merged(void **state)
{
    (void)state;
    char *merged = ms_tpath("merged.db");
    char *a = timeless_copy(merged, "tm.db"), *b = timeless_copy(ref_db, "tr.db");
    char *oa, *ob, *err;
    assert_int_equal(ms_runf(&oa, &err, "status --db %s", merged), 0);
    assert_non_null(strstr(oa, "sweep 'shardy': 6/6 runs done"));
    free(oa), free(err);
    assert_int_equal(ms_runf(&oa, &err, "status --db %s", a), 0);
    free(err);
    assert_int_equal(ms_runf(&ob, &err, "status --db %s", b), 0);
    free(err);
    assert_string_equal(oa, ob);
    free(oa), free(ob);
    static const char *const how[] = {"--table summary", "--table epochs", "--table evals",
                                      "--format json", "--format md", "--format latex"};
    for (size_t i = 0; i < sizeof how / sizeof *how; i++) {
        assert_int_equal(ms_runf(&oa, &err, "export --db %s %s", a, how[i]), 0);
        free(err);
        assert_int_equal(ms_runf(&ob, &err, "export --db %s %s", b, how[i]), 0);
        free(err);
        assert_true(strlen(oa) > 50);
        assert_string_equal(oa, ob);
        free(oa), free(ob);
    }
    /* the figures: gnuplot's SVG of the same data is the same file */
    char *pa = ms_tpath("plots-a"), *pb = ms_tpath("plots-b");
    assert_int_equal(ms_runf(NULL, &err, "plot %s --db %s --out %s", yaml, a, pa), 0);
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "plot %s --db %s --out %s", yaml, b, pb), 0);
    free(err);
    char *fa = NULL, *fb = NULL;
    assert_true(asprintf(&fa, "%s/curves.svg", pa) > 0 && asprintf(&fb, "%s/curves.svg", pb) > 0);
    char *sa = ms_read_file(fa), *sb = ms_read_file(fb);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_string_equal(sa, sb);
    free(sa), free(sb), free(fa), free(fb), free(pa), free(pb);
    free(a), free(b), free(merged);
}

/* The scripts of `mlpsweep slurm`, run by hand as SLURM would run them. */
static void test_slurm_scripts_by_hand(void **state)
{
    (void)state;
    char *dir = ms_tpath("cluster"), *out, *err, *line = NULL;
    assert_int_equal(ms_runf(&out, &err, "slurm %s --out %s --shards 4 --cpus-per-task 1 "
                                    "--array-parallelism 2 --partition debug --time 0:10:00",
                         yaml, dir), 0);
    assert_non_null(strstr(err, "6 runs in 4 shards of 1 to 2 runs"));
    free(out), free(err);
    char *p = NULL;
    assert_true(asprintf(&p, "%s/sweep.sbatch", dir) > 0);
    char *s = ms_read_file(p);
    assert_non_null(s);
    assert_non_null(strstr(s, "#SBATCH --array=0-3%2\n"));
    assert_non_null(strstr(s, "#SBATCH --cpus-per-task=1\n"));
    assert_non_null(strstr(s, "#SBATCH --partition=debug\n"));
    assert_non_null(strstr(s, "#SBATCH --time=0:10:00\n"));
    assert_non_null(strstr(s, "--shard \"$id/$shards\" --threads \"$threads\""));
    assert_non_null(strstr(s, "shards=4\n"));
    assert_non_null(strstr(s, "mlpsweep='/")); /* absolute paths */
    assert_non_null(strstr(s, "manifest='/"));
    /* the data found here, as run finds it, absolute: tasks run elsewhere */
    assert_non_null(strstr(s, "data='/"));
    assert_non_null(strstr(s, " --db \"$db\" --data \"$data\" \"${publish[@]}\"\n"));
    assert_non_null(strstr(s, "publish=(--publish \"$dir/shard-$id.db\" --publish-epochs "
                              "\"$publish_epochs\" --publish-minutes \"$publish_minutes\")\n"));
    assert_non_null(strstr(s, "publish_epochs=0\npublish_minutes=1\n"));
    free(s), free(p);
    assert_true(asprintf(&line, "bash -n %s/sweep.sbatch && bash -n %s/merge.sbatch", dir, dir) > 0);
    assert_int_equal(shell(line, NULL, NULL), 0);
    free(line);
    /* each task, then the merge, with SLURM's variables */
    for (int i = 0; i < 4; i++) {
        assert_true(asprintf(&line, "SLURM_ARRAY_TASK_ID=%d SLURM_CPUS_PER_TASK=1 bash %s/sweep.sbatch",
                             i, dir) > 0);
        assert_int_equal(shell(line, NULL, NULL), 0);
        free(line);
    }
    assert_true(asprintf(&line, "bash %s/merge.sbatch", dir) > 0);
    assert_int_equal(shell(line, &out, &err), 0);
    assert_non_null(strstr(out, "6/6 runs done"));
    free(out), free(err), free(line);
    assert_true(asprintf(&p, "%s/shardy.db", dir) > 0);
    char *d = ms_db_dump(p);
    assert_string_equal(ref, d);
    free(d);
    check_db(p);
    /* the published copies are single files: no log beside them */
    assert_true(asprintf(&line, "ls -A %s | tr '\\n' ' '", dir) > 0);
    assert_int_equal(shell(line, &out, NULL), 0);
    assert_string_equal(out, "logs merge.sbatch shard-0.db shard-1.db shard-2.db shard-3.db "
                             "shardy.db sweep.sbatch ");
    free(out), free(line), free(p);
    /* an unknown option, a bad value */
    assert_int_equal(ms_runf(NULL, &err, "slurm %s --out %s --time '1 day'", yaml, dir), 2);
    assert_non_null(strstr(err, "--time: unexpected character"));
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "slurm %s", yaml), 2);
    assert_string_equal(err, "mlpsweep: missing --out DIR (see --help)\n");
    free(err);
    /* what run takes, slurm takes and passes on: settings, --only, --retry-failed */
    char *dir2 = ms_tpath("cluster2");
    assert_int_equal(ms_runf(NULL, &err, "slurm %s 'plain.lr=0.05,0.2' --only plain --retry-failed "
                                     "--out %s",
                         yaml, dir2), 0);
    assert_non_null(strstr(err, "4 runs in 4 shards")); /* plain's 2 values x 2 seeds */
    free(err);
    assert_true(asprintf(&p, "%s/sweep.sbatch", dir2) > 0);
    s = ms_read_file(p);
    assert_non_null(strstr(s, "\nargs=('plain.lr=0.05,0.2' --only 'plain' --retry-failed)\n"));
    assert_non_null(strstr(s, "run \"$manifest\" \"${args[@]}\" --shard"));
    free(s), free(p);
    /* a setting with quotes, blanks and a $(...) inside reaches run as one
     * word, never as shell text (a quoted YAML string: a valid value) */
    assert_int_equal(ms_runf(NULL, NULL, "slurm %s \"plain.activation='improved_sigmoid'\" "
                                         "'deep.hidden=[16, 12]' \"plain.init='\\$(touch %s/x)'\" "
                                         "--out %s", yaml, dir2, dir2), 2);
    assert_int_equal(ms_runf(NULL, &err, "slurm %s \"plain.activation='improved_sigmoid'\" "
                                        "'deep.hidden=[16, 12]' --out %s", yaml, dir2), 0);
    free(err);
    assert_true(asprintf(&line, "cd %s && grep '^args=' sweep.sbatch > args.sh && "
                                "echo 'printf \"<%%s>\" \"${args[@]}\"' >> args.sh && "
                                "bash args.sh && test ! -e x", dir2) > 0);
    assert_int_equal(shell(line, &out, NULL), 0);
    assert_string_equal(out, "<plain.activation='improved_sigmoid'><deep.hidden=[16, 12]>");
    free(out), free(line), free(dir2);
    assert_int_equal(ms_runf(NULL, &err, "slurm %s --only nope --out %s", yaml, dir), 2);
    assert_non_null(strstr(err, "--only: no variant 'nope'"));
    free(err);
    assert_int_equal(ms_runf(NULL, &err, "slurm %s --out %s --data /nonexistent", yaml, dir), 2);
    assert_string_equal(err, "mlpsweep: --data: '/nonexistent' does not hold the four MNIST files "
                             "(train-images-idx3-ubyte and the others, raw or .gz)\n");
    free(err), free(dir);
}

/* run --publish: the database is copied to a shared file while it trains.
 * Killed, the copy holds a prefix of the epochs (at most the last interval
 * lost) and a run from the copy finishes equal to the unsharded sweep;
 * a copy written by another process stops the run (never two writers). */
static void test_publish_while_training(void **state)
{
    (void)state;
    char *m = ms_tpath("long.yaml"), *local = ms_tpath("pub-local.db"), *pub = ms_tpath("pub.db");
    char *again = ms_tpath("pub-again.db"), *ref2 = ms_tpath("pub-ref.db"), *err, *line = NULL;
    ms_write_text(m, "name: long\ndata:\n  dir: " MS_DATA_DIR "\n  train: 4000\n  val: 500\n"
                     "defaults:\n  hidden: [32]\n  epochs: 12\n  seeds: [1, 2]\n"
                     "variants:\n  - name: a\n  - name: b\n    lr: 0.05\n");
    assert_int_equal(ms_runf(NULL, &err, "run %s --db %s --threads 2 --quiet", m, ref2), 0);
    free(err);
    char *want = ms_db_dump(ref2);
    /* killed once some copies are out */
    assert_true(asprintf(&line, "--publish=%s", pub) > 0);
    pid_t pid = ms_spawn_run(m, local, line, "--publish-epochs=1");
    for (int i = 0; i < 5000 && ms_db_count(pub, "SELECT count(*) FROM epochs") < 8; i++)
        usleep(2000);
    kill(pid, SIGKILL);
    ms_wait_exit(pid);
    long in_pub = ms_db_count(pub, "SELECT count(*) FROM epochs");
    long in_local = ms_db_count(local, "SELECT count(*) FROM epochs");
    print_message("killed: %ld epochs committed, %ld in the published copy\n", in_local, in_pub);
    assert_true(in_pub >= 8 && in_pub <= in_local);
    /* the copy's epochs are the local ones, bit for bit */
    assert_int_equal(ms_db_count_with(pub, local,
                                      "SELECT count(*) FROM epochs e JOIN runs r ON r.id = e.run_id"
                                      " JOIN ref.runs q ON q.variant = r.variant AND q.seed = r.seed"
                                      " JOIN ref.epochs f ON f.run_id = q.id AND f.epoch = e.epoch"
                                      " WHERE f.val_loss = e.val_loss AND f.train_loss ="
                                      " e.train_loss AND f.step = e.step"),
                     in_pub);
    check_db(pub);
    /* a task elsewhere goes on from the copy and publishes to it */
    char *cp = NULL;
    assert_true(asprintf(&cp, "cp %s %s", pub, again) > 0);
    assert_int_equal(shell(cp, NULL, NULL), 0);
    free(cp);
    assert_int_equal(ms_runf(NULL, &err, "run %s --db %s --publish %s --threads 2", m, again,
                             pub), 0);
    assert_non_null(strstr(err, "continues after epoch"));
    assert_non_null(strstr(err, "published "));
    free(err);
    char *got = ms_db_dump(pub);
    assert_string_equal(want, got);
    free(got);
    /* another process's copy in its place: the run stops, the copy is left
     * (a run long enough to be still training then) */
    unlink(again);
    char *m2 = ms_tpath("longer.yaml");
    ms_write_text(m2, "name: long\ndata:\n  dir: " MS_DATA_DIR "\n  train: 4000\n  val: 500\n"
                      "defaults:\n  hidden: [32]\n  epochs: 2000\n  seeds: [1]\n"
                      "variants:\n  - name: a\n");
    pid = ms_spawn_run(m2, again, line, "--publish-epochs=1");
    free(m2);
    for (int i = 0; i < 30000 && ms_db_count(again, "SELECT count(*) FROM epochs") < 2; i++)
        usleep(2000);
    assert_true(asprintf(&cp, "cp %s %s.x && mv %s.x %s", ref2, pub, pub, pub) > 0);
    /* again each second while it goes on (slow under a sanitizer): a copy of
     * its own may have been renamed over ours between its last look and its
     * rename */
    int st = 0, exited = 0;
    for (int k = 0; k < 1200 && !(exited = waitpid(pid, &st, WNOHANG) == pid); k++) {
        if (k % 10 == 0)
            assert_int_equal(shell(cp, NULL, NULL), 0);
        usleep(100000);
    }
    free(cp);
    if (!exited) {
        kill(pid, SIGKILL);
        ms_wait_exit(pid);
        fail_msg("the run went on for 2 minutes after its copy was replaced");
    }
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    got = ms_db_dump(pub);
    assert_string_equal(want, got); /* ref2's, as copied in: not written over */
    free(got);
    /* the database itself is refused as the copy */
    assert_int_equal(ms_runf(NULL, &err, "run %s --db %s --publish %s", m, again, again), 2);
    assert_non_null(strstr(err, "is the database itself"));
    free(err);
    free(want), free(line), free(m), free(local), free(pub), free(again), free(ref2);
}

/* status DIR: the published copies of a cluster sweep before its merge:
 * the runs of the tasks that published, those no copy started yet, and a
 * line per copy; as JSON too. Nothing in DIR is written. */
static void test_status_of_cluster_dir(void **state)
{
    (void)state;
    char *dir = ms_tpath("watched"), *out, *err, *line = NULL;
    assert_int_equal(ms_runf(&out, &err, "slurm %s --out %s --shards 3", yaml, dir), 0);
    free(out), free(err);
    assert_int_equal(ms_runf(&out, &err, "status %s", dir), 1); /* no copy yet */
    assert_non_null(strstr(err, "holds no published shard database yet"));
    free(out), free(err);
    for (int i = 0; i < 2; i++) {
        assert_true(asprintf(&line, "SLURM_ARRAY_TASK_ID=%d SLURM_CPUS_PER_TASK=1 bash "
                                    "%s/sweep.sbatch", i, dir) > 0);
        assert_int_equal(shell(line, NULL, NULL), 0);
        free(line);
    }
    assert_true(asprintf(&line, "ls -A %s | tr '\\n' ' '; sha256sum %s/shard-*.db", dir, dir) > 0);
    char *before;
    assert_int_equal(shell(line, &before, NULL), 0);
    assert_int_equal(ms_runf(&out, &err, "status %s", dir), 0);
    assert_non_null(strstr(out, "sweep 'shardy': 4/6 runs done (0 running, 2 pending, 0 failed)"));
    assert_non_null(strstr(out, "\nshard-0.db                 2     2        0        0       0 "));
    assert_non_null(strstr(out, "\nshard-1.db "));
    assert_null(strstr(out, "shard-2.db"));
    assert_non_null(strstr(out, "2 runs started in no copy yet"));
    free(out), free(err);
    assert_int_equal(ms_runf(&out, &err, "status %s --json", dir), 0);
    assert_non_null(strstr(out, "\"cluster\": {\"dir\": "));
    assert_non_null(strstr(out, "\"unstarted_runs\": 2, \"shards\": [\n  {\"copy\": \"shard-0.db\", "
                                "\"runs\": 2, \"done\": 2"));
    free(out), free(err);
    char *after;
    assert_int_equal(shell(line, &after, NULL), 0);
    assert_string_equal(before, after); /* read, never written */
    free(before), free(after), free(line), free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shard_parse),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_reference_and_shards),
        cmocka_unit_test(test_run_shard_options),
        cmocka_unit_test(test_merge_equals_unsharded),
        cmocka_unit_test(test_merge_idempotent),
        cmocka_unit_test(test_merge_partial_then_full),
        cmocka_unit_test(test_merge_conflict),
        cmocka_unit_test(test_merge_refuses_foreign_files),
        cmocka_unit_test(test_merge_refuses_names_no_manifest_holds),
        cmocka_unit_test(test_merge_refuses_negative_seed),
        cmocka_unit_test(test_merge_refuses_settings_no_manifest_makes),
        cmocka_unit_test(test_status_export_plot_on_merged),
        cmocka_unit_test(test_slurm_scripts_by_hand),
        cmocka_unit_test(test_publish_while_training),
        cmocka_unit_test(test_status_of_cluster_dir),
    };
    int rc = cmocka_run_group_tests_name("shard", tests, ms_group_tmp_setup, ms_group_tmp_teardown);
    free(yaml);
    free(ref_db);
    free(ref);
    for (int i = 0; i < 3; i++)
        free(shard_db[i]);
    return rc;
}
