/* Runs are their settings, not their names (issue 24, "Runs are identified
 * by their settings alone"): a run whose settings and seed equal those of a
 * run of another name takes its results instead of training (runs.same_as),
 * finished or to resume from; two such names in one invocation train once;
 * the note on changed settings says whether the command line or the manifest
 * changed them; merge carries same_as. On the tiny data. */
#include "ms_test.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

/* `mlpsweep ARGS` (a printf format), which must exit 0; its stderr. */
/* A manifest `name` on the tiny data: `variants` after the defaults
 * (hidden [8], seeds 1 and 2, `epochs` epochs, no early stop). Its path,
 * and its database's in *db (caller frees both). */
static char *manifest(const char *name, int epochs, const char *variants, char **db)
{
    char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/%s.yaml", ms_group_tmp, name) < 0 ||
        asprintf(db, "%s/%s.db", ms_group_tmp, name) < 0 ||
        asprintf(&text,
                 "name: %s\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: %d\n  early_stop: 0\n  seeds: [1, 2]\n"
                 "variants:\n%s",
                 name, ms_tiny_data, epochs, variants) < 0)
        abort();
    ms_write_text(path, text);
    free(text);
    return path;
}

static const char two_variants[] = "  - name: baseline\n"
                                   "  - name: improved\n    activation: improved_sigmoid\n"
                                   "    init: fanin_normal\n";

/* Every row a run holds of results, by variant and seed: epochs (their
 * seconds included when `seconds`), evals and steps, doubles exact. */
static char *results(const char *db, const char *variant, int seed, int seconds)
{
    char *sql[3];
    if (asprintf(&sql[0],
                 "SELECT e.epoch, e.step, e.train_loss, e.train_acc, e.val_loss, e.val_acc%s"
                 " FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.variant = '%s'"
                 " AND r.seed = %d ORDER BY e.epoch",
                 seconds ? ", e.seconds" : "", variant, seed) < 0 ||
        asprintf(&sql[1],
                 "SELECT v.step, v.epoch, v.batch_loss, v.train_loss, v.train_acc, v.val_loss,"
                 " v.val_acc FROM evals v JOIN runs r ON r.id = v.run_id WHERE r.variant = '%s'"
                 " AND r.seed = %d ORDER BY v.step", variant, seed) < 0 ||
        asprintf(&sql[2],
                 "SELECT t.step, t.epoch, t.batch_loss FROM steps t JOIN runs r"
                 " ON r.id = t.run_id WHERE r.variant = '%s' AND r.seed = %d ORDER BY t.step",
                 variant, seed) < 0)
        abort();
    char *out = ms_db_dump_sql(db, (const char *const *)sql, 3);
    for (int i = 0; i < 3; i++)
        free(sql[i]);
    return out;
}

/* The results of two runs (not empty) are equal. */
static void assert_same_results(const char *db_a, const char *va, const char *db_b,
                                const char *vb, int seed, int seconds)
{
    char *a = results(db_a, va, seed, seconds), *b = results(db_b, vb, seed, seconds);
    assert_true(strlen(a) > 100);
    assert_string_equal(a, b);
    free(a), free(b);
}

/* (a) A grid point of the command line equal to a variant already trained
 * is that run: not trained again, its rows taken bit for bit (the epochs'
 * seconds too: a training would measure others), same_as set, both names
 * in export --all with the same numbers. */
static void test_grid_point_taken(void **state)
{
    (void)state;
    char *db, *m = manifest("taken", 2, two_variants, &db);
    free(ms_okf(1, "run %s --db %s --quiet", m, db));
    char *err = ms_okf(1, "run %s --db %s improved.lr=0.1,0.05", m, db);
    assert_non_null(strstr(err, "variant 'improved.lr-0.1' seed 1: same settings as 'improved' "
                                "(run 3): its 2 epochs are taken, not trained again\n"));
    assert_non_null(strstr(err, "variant 'improved.lr-0.1' seed 2: same settings as 'improved' "
                                "(run 4): its 2 epochs are taken, not trained again\n"));
    assert_non_null(strstr(err, "sweep 'taken': 6 runs, 4 done already, 2 to train;"));
    assert_non_null(strstr(err, "sweep 'taken': 2 runs trained in"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs t JOIN runs s ON s.id = t.same_as"
                                     " WHERE t.variant = 'improved.lr-0.1' AND s.variant = 'improved'"
                                     " AND s.seed = t.seed AND t.status = 'done' AND t.epochs_done = 2"
                                     " AND t.pid = s.pid AND t.started_at = s.started_at"
                                     " AND t.train_seconds = s.train_seconds"),
                     2);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE same_as IS NOT NULL"), 2);
    for (int seed = 1; seed <= 2; seed++)
        assert_same_results(db, "improved", db, "improved.lr-0.1", seed, 1);
    /* both names, the same numbers */
    char *out, *e2;
    assert_int_equal(ms_runf(&out, &e2, "export --db %s --all --columns variant,seeds,final_val_acc,"
                                        "final_val_loss", db), 0);
    char *a = strstr(out, "\nimproved,"), *b = strstr(out, "\nimproved.lr-0.1,");
    assert_non_null(a);
    assert_non_null(b);
    assert_memory_equal(strchr(a, ','), strchr(b, ','), strcspn(strchr(a, ','), "\n"));
    free(out), free(e2);
    /* the same call again: nothing to take, nothing to train */
    err = ms_okf(1, "run %s --db %s improved.lr=0.1,0.05", m, db);
    assert_null(strstr(err, "same settings"));
    assert_non_null(strstr(err, "6 runs, 6 done already, 0 to train"));
    free(err), free(m), free(db);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* (b) The run taken from is unfinished (the sweep interrupted): the new
 * name takes its epochs and checkpoint and resumes, ending bit for bit as
 * a run trained straight through. */
static void test_unfinished_twin_resumes(void **state)
{
    (void)state;
    char *db, *ref, *m = manifest("resume", 400, "  - name: long\n    seeds: [1]\n"
                                                    "    val_per_epoch: 1\n", &db);
    if (asprintf(&ref, "%s/resume-ref.db", ms_group_tmp) < 0)
        abort();
    pid_t pid = ms_spawn_run(m, db, "--threads", "1");
    for (int i = 0; i < 5000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 1; i++)
        sleep_ms(2);
    kill(pid, SIGINT);
    if (ms_wait_exit(pid) == 0)
        fail_msg("the sweep finished before SIGINT landed: nothing was interrupted");
    long done = ms_db_count(db, "SELECT epochs_done FROM runs WHERE variant = 'long'");
    assert_true(done >= 1 && done < 400);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM checkpoints"), 1);
    char *err = ms_okf(1, "run %s --db %s --threads 1 long.lr=0.1,0.05", m, db);
    char *want = NULL;
    if (asprintf(&want, "variant 'long.lr-0.1' seed 1: same settings as 'long' (run 1): its %ld "
                        "%s taken, training goes on from there\n", done,
                 done == 1 ? "epoch is" : "epochs are") < 0)
        abort();
    assert_non_null(strstr(err, want));
    free(want), free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE variant = 'long.lr-0.1'"
                                     " AND same_as = 1 AND status = 'done' AND epochs_done = 400"),
                     1);
    /* the whole run against one trained straight through under that name */
    free(ms_okf(1, "run %s --db %s --quiet --threads 1 long.lr=0.1,0.05", m, ref));
    assert_same_results(db, "long.lr-0.1", ref, "long.lr-0.1", 1, 0);
    free(m), free(db), free(ref);
}

static const char twin_grids[] = "  - name: a\n    grid: {lr: [0.1, 0.2]}\n"
                                 "  - name: b\n    grid: {momentum: [0, 0.9]}\n";

/* (c) Two names of one invocation with the same settings (b.momentum-0 is
 * a.lr-0.1: lr 0.1 and momentum 0 are the defaults) train once. */
static void test_twins_in_one_invocation(void **state)
{
    (void)state;
    char *db, *m = manifest("twins", 2, twin_grids, &db);
    char *err = ms_okf(1, "run %s --db %s", m, db);
    assert_non_null(strstr(err, "variant 'b.momentum-0' seed 1: same settings as 'a.lr-0.1', "
                                "trained now: it takes its results, not trained twice\n"));
    assert_non_null(strstr(err, "8 runs, 0 done already, 6 to train (+2 of the same settings"));
    assert_non_null(strstr(err, "sweep 'twins': 6 runs trained in"));
    assert_null(strstr(err, "b.momentum-0 seed 1    epoch"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs t JOIN runs s ON s.id = t.same_as"
                                     " WHERE t.variant = 'b.momentum-0' AND s.variant = 'a.lr-0.1'"
                                     " AND s.seed = t.seed AND t.status = 'done'"
                                     " AND t.started_at = s.started_at"),
                     2);
    for (int seed = 1; seed <= 2; seed++)
        assert_same_results(db, "a.lr-0.1", db, "b.momentum-0", seed, 1);
    free(m), free(db);
}

/* (d) The note on a run whose settings changed says where they changed. */
static void test_changed_where(void **state)
{
    (void)state;
    char *db, *m = manifest("changed", 2, two_variants, &db);
    free(ms_okf(1, "run %s --db %s --quiet", m, db));
    char *err = ms_okf(1, "run %s --db %s --quiet improved.epochs=3", m, db);
    assert_non_null(strstr(err, "variant 'improved' seed 1 changed on the command line "
                                "(improved.epochs=3): starting it as a new run\n"));
    assert_null(strstr(err, "in the manifest"));
    assert_null(strstr(err, "'baseline'"));
    free(err);
    /* the manifest edited: hidden [8] -> [6] for every variant */
    char *text = ms_read_file(m);
    char *at = strstr(text, "hidden: [8]");
    assert_non_null(at);
    at[9] = '6';
    ms_write_text(m, text);
    free(text);
    err = ms_okf(1, "run %s --db %s --quiet", m, db);
    assert_non_null(strstr(err, "variant 'baseline' seed 1 changed in the manifest: starting it "
                                "as a new run\n"));
    assert_null(strstr(err, "on the command line"));
    /* four runs changed: three notes, then the count */
    assert_non_null(strstr(err, "... and 1 more run with changed settings\n"));
    free(err), free(m), free(db);
}

/* (e) merge carries same_as: in the merged file it names the same run (by
 * variant), whatever its id there. */
static void test_merge_keeps_same_as(void **state)
{
    (void)state;
    char *db, *out, *m = manifest("merged", 2, two_variants, &db);
    if (asprintf(&out, "%s/merged-out.db", ms_group_tmp) < 0)
        abort();
    free(ms_okf(1, "run %s --db %s --quiet", m, db));
    free(ms_okf(1, "run %s --db %s --quiet improved.lr=0.1,0.05", m, db));
    free(ms_okf(1, "merge --db %s %s", out, db));
    static const char sql[] = "SELECT count(*) FROM runs t JOIN runs s ON s.id = t.same_as"
                              " WHERE t.variant = 'improved.lr-0.1' AND s.variant = 'improved'"
                              " AND s.seed = t.seed";
    assert_int_equal(ms_db_count(db, sql), 2);
    assert_int_equal(ms_db_count(out, sql), 2);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE same_as IS NOT NULL"), 2);
    /* ids differ between the files: the merge registers the last manifest's runs first */
    assert_true(ms_db_count_with(out, db, "SELECT count(*) FROM runs o JOIN ref.runs r"
                                          " ON r.variant = o.variant AND r.seed = o.seed"
                                          " AND r.id <> o.id") > 0);
    free(m), free(db), free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_point_taken),
        cmocka_unit_test(test_unfinished_twin_resumes),
        cmocka_unit_test(test_twins_in_one_invocation),
        cmocka_unit_test(test_changed_where),
        cmocka_unit_test(test_merge_keeps_same_as),
    };
    return cmocka_run_group_tests_name("ident", tests, ms_tiny_data_setup, ms_tiny_data_teardown);
}
