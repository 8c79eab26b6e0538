/* End-to-end tests of `mlpsweep run`: validation before anything is touched,
 * identical results whatever --jobs/--threads, exact resume after kill -9 and
 * after SIGINT, a reader during a run, skipping finished runs, detecting a
 * changed variant, failed runs, and the one-process lock. */
#include "ms_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* A small study: 2 variants x 2 seeds on a few thousand images. */
static const char *small_manifest(const char *lr_b, int epochs, int train)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "name: small\n"
             "data:\n  dir: " MS_DATA_DIR "\n  train: %d\n  val: 1000\n"
             "defaults:\n  hidden: [24]\n  init: fanin_normal\n  epochs: %d\n"
             "  early_stop: 6\n  seeds: [1, 2]\n"
             "variants:\n"
             "  - name: plain\n    task: \"t1\"\n"
             "  - name: deep\n    hidden: [20, 12]\n    activation: improved_sigmoid\n"
             "    momentum: 0.9\n    lr: %s\n",
             train, epochs, lr_b);
    return buf;
}

/* Run mlpsweep with args (a shell string); stderr into *err when non-NULL. */
static int sh(const char *args, char **err)
{
    char *cmd = NULL, *ef = ms_tpath("stderr");
    if (asprintf(&cmd, "%s %s 2>%s >/dev/null", MS_BIN, args, ef) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    if (err) {
        FILE *f = fopen(ef, "rb");
        assert_non_null(f);
        char *b = calloc(1, 1 << 20);
        size_t n = fread(b, 1, (1 << 20) - 1, f);
        b[n] = 0;
        fclose(f);
        *err = b;
    }
    free(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *reference; /* dump of an uninterrupted run of small_manifest("0.02", 6, 3000) */

static void test_reference_and_threads(void **state)
{
    (void)state;
    char *m = ms_tpath("small.yaml"), *db1 = ms_tpath("j1.db"), *db2 = ms_tpath("j2.db"), *args = NULL;
    ms_write_text(m, small_manifest("0.02", 6, 3000));
    assert_true(asprintf(&args, "run %s --db %s --jobs 1 --threads 1", m, db1) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    assert_true(asprintf(&args, "run %s --db %s --jobs 2 --threads 2", m, db2) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    char *a = ms_db_dump(db1), *b = ms_db_dump(db2);
    assert_true(strlen(a) > 1000);
    assert_string_equal(a, b);
    assert_int_equal(ms_db_count(db1, "SELECT count(*) FROM runs WHERE status = 'done'"), 4);
    /* a view answers the common question */
    assert_int_equal(ms_db_count(db1, "SELECT done FROM sweep_status"), 4);
    reference = a;
    free(b);
    /* one thread shared by two jobs is refused as oversubscription? no: jobs is capped */
    char *db3 = ms_tpath("j3.db");
    assert_true(asprintf(&args, "run %s --db %s --jobs 2 --threads 1", m, db3) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    char *c = ms_db_dump(db3);
    assert_string_equal(reference, c);
    free(c);
    free(m), free(db1), free(db2), free(db3);
}

static void test_invalid_manifest_touches_nothing(void **state)
{
    (void)state;
    char *m = ms_tpath("bad.yaml"), *db = ms_tpath("bad.db"), *args = NULL, *err;
    ms_write_text(m, "name: bad\nvariants:\n  - name: a\n    lrr: 0.1\n");
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 2);
    char *want = NULL;
    assert_true(asprintf(&want, "%s:4:5: unknown key 'lrr' in variant 'a' (did you mean 'lr'?)\n", m) > 0);
    assert_string_equal(err, want);
    assert_int_equal(access(db, F_OK), -1); /* the database was not created */
    free(want), free(err), free(args);
    /* a valid manifest with data that is not there: no database, no lock */
    ms_write_text(m, small_manifest("0.02", 1, 1000));
    assert_true(asprintf(&args, "run %s --db %s --data %s/nonexistent", m, db, ms_group_tmp) > 0);
    assert_int_equal(sh(args, &err), 2);
    assert_non_null(strstr(err, "--data: "));
    assert_int_equal(access(db, F_OK), -1);
    char *lock = NULL;
    assert_true(asprintf(&lock, "%s.lock", db) > 0);
    assert_int_equal(access(lock, F_OK), -1);
    free(lock), free(err), free(args), free(m), free(db);
}

/* kill -9 at several moments, resume each time: the end result equals the
 * uninterrupted run bit for bit, and no committed epoch is ever lost. */
static void test_kill_and_resume(void **state)
{
    (void)state;
    assert_non_null(reference);
    char *m = ms_tpath("small.yaml"), *db = ms_tpath("killed.db");
    long committed = 0;
    srand(12345);
    for (int round = 0; round < 5; round++) {
        pid_t pid = ms_spawn_run(m, db, "--threads=2", NULL);
        /* wait until at least one more epoch is committed, then a random delay */
        for (int i = 0; i < 2000; i++) {
            long n = ms_db_count(db, "SELECT count(*) FROM epochs");
            if (n > committed)
                break;
            sleep_ms(2);
        }
        sleep_ms(rand() % 40);
        kill(pid, SIGKILL);
        int st = ms_wait_exit(pid);
        long n = ms_db_count(db, "SELECT count(*) FROM epochs");
        assert_true(n >= committed); /* nothing committed is lost */
        committed = n;
        if (st == 0)
            break; /* finished before the kill landed */
    }
    pid_t pid = ms_spawn_run(m, db, "--threads=2", NULL);
    assert_int_equal(ms_wait_exit(pid), 0);
    char *d = ms_db_dump(db);
    assert_string_equal(reference, d);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status <> 'done'"), 0);
    free(d), free(m), free(db);
}

/* SIGINT mid-sweep: exit 130, the interrupted run marked so, none left
 * 'running', and a resume ends equal to an uninterrupted sweep. The sweep
 * is long enough (4 runs of 60 epochs, about a second) that the signal,
 * sent when the first epoch is committed, always lands mid-run: a sweep
 * that finished first fails the test instead of skipping it. */
static void test_sigint_stops_cleanly(void **state)
{
    (void)state;
    char *m = ms_tpath("intr.yaml"), *ref = ms_tpath("intr-ref.db"), *db = ms_tpath("int.db");
    char *args = NULL, *err;
    ms_write_text(m, "name: intr\ndata:\n  dir: " MS_DATA_DIR "\n  train: 3000\n  val: 1000\n"
                     "defaults:\n  hidden: [24]\n  init: fanin_normal\n  epochs: 60\n"
                     "  early_stop: 0\n  seeds: [1, 2]\n"
                     "variants:\n  - name: plain\n  - name: deep\n    hidden: [20, 12]\n"
                     "    activation: improved_sigmoid\n");
    assert_true(asprintf(&args, "run %s --db %s", m, ref) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    pid_t pid = ms_spawn_run(m, db, "--jobs=1", NULL);
    for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 1; i++)
        sleep_ms(2);
    kill(pid, SIGINT);
    int st = ms_wait_exit(pid);
    if (st == 0)
        fail_msg("the sweep finished before SIGINT landed: nothing was interrupted");
    assert_int_equal(st, 130);
    assert_true(ms_db_count(db, "SELECT count(*) FROM runs WHERE stop_reason = 'interrupted'") >= 1);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'running'"), 0);
    assert_true(ms_db_count(db, "SELECT count(*) FROM epochs") < 4 * 60);
    long first = ms_db_count(db, "SELECT epochs_done FROM runs WHERE epochs_done > 0 "
                                 "ORDER BY id LIMIT 1");
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    /* the resume says which runs continue, and from where */
    char want[128];
    snprintf(want, sizeof want, "seed 1 continues after epoch %ld of 60\n", first);
    if (!strstr(err, want))
        fail_msg("no '%s' in: %s", want, err);
    char *d = ms_db_dump(db), *r = ms_db_dump(ref);
    assert_string_equal(r, d);
    free(d), free(r), free(err), free(args), free(m), free(ref), free(db);
}

/* Flip one bit of every checkpoint in db, `at` bytes into each. */
static void damage_checkpoints(const char *db, int at)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *q, *u;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT run_id, state FROM checkpoints", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(h, "UPDATE checkpoints SET state = ?2 WHERE run_id = ?1", -1, &u, NULL),
        SQLITE_OK);
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        int len = sqlite3_column_bytes(q, 1);
        assert_true(len > at);
        char *b = malloc((size_t)len);
        memcpy(b, sqlite3_column_blob(q, 1), (size_t)len);
        b[at] ^= 0x04;
        sqlite3_bind_int64(u, 1, sqlite3_column_int64(q, 0));
        sqlite3_bind_blob(u, 2, b, len, free);
        assert_int_equal(sqlite3_step(u), SQLITE_DONE);
        sqlite3_reset(u);
        n++;
    }
    assert_true(n >= 1);
    sqlite3_finalize(q);
    sqlite3_finalize(u);
    sqlite3_close(h);
}

static void flip_weight_bit(const char *db) { damage_checkpoints(db, 4000); }
static void drop_checkpoint(const char *db) { ms_db_exec(db, "DELETE FROM checkpoints"); }
static void drop_last_epoch_row(const char *db)
{
    ms_db_exec(db, "DELETE FROM epochs WHERE epoch = (SELECT max(epoch) FROM epochs)");
}
static void count_ahead(const char *db) { ms_db_exec(db, "UPDATE runs SET epochs_done = epochs_done + 3"); }

/* A run interrupted after an epoch or more, its stored state then broken by
 * edit(): the next `run` does not resume it into wrong numbers or into a
 * database error that leaves it `running` for ever: it fails with a reason
 * matching error_like (exit 1), and --retry-failed trains it again from
 * scratch to the numbers of an undisturbed sweep. */
static void broken_resume(const char *name, void (*edit)(const char *db), const char *error_like)
{
    static char *ref_dump;
    char *m = ms_tpath("ck.yaml"), *db = ms_tpath(name), *args = NULL, *err;
    ms_write_text(m, "name: ck\ndata:\n  dir: " MS_DATA_DIR "\n  train: 3000\n  val: 1000\n"
                     "defaults:\n  hidden: [24]\n  epochs: 60\n  early_stop: 0\n"
                     "variants:\n  - name: only\n");
    if (!ref_dump) {
        char *ref = ms_tpath("ck-ref.db");
        assert_true(asprintf(&args, "run %s --db %s", m, ref) > 0);
        assert_int_equal(sh(args, NULL), 0);
        ref_dump = ms_db_dump(ref);
        free(args), free(ref);
    }
    pid_t pid = ms_spawn_run(m, db, "--jobs=1", NULL);
    for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 2; i++)
        sleep_ms(2);
    kill(pid, SIGINT);
    if (ms_wait_exit(pid) == 0)
        fail_msg("the sweep finished before SIGINT landed: nothing was interrupted");
    edit(db);
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 1);
    char *like = NULL;
    assert_true(asprintf(&like, "SELECT count(*) FROM runs WHERE status = 'failed' AND error LIKE '%s'",
                         error_like) > 0);
    if (ms_db_count(db, like) != 1)
        fail_msg("%s: the run is not failed with '%s' (stderr: %s)", name, error_like, err);
    free(like), free(err), free(args);
    assert_true(asprintf(&args, "run %s --db %s --retry-failed", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    char *d = ms_db_dump(db);
    assert_string_equal(ref_dump, d);
    free(d), free(err), free(args), free(m), free(db);
}

static void test_damaged_checkpoint(void **state)
{
    (void)state;
    broken_resume("ck1.db", flip_weight_bit,
                  "checkpoint damaged (checksum mismatch); --retry-failed starts the run again");
}

/* The stored rows disagree: no checkpoint for finished epochs, an epoch row
 * missing, a count of finished epochs ahead of the rows. */
static void test_inconsistent_run_recovered(void **state)
{
    (void)state;
    broken_resume("ck2.db", drop_checkpoint, "inconsistent: % epochs finished, % epoch rows, no checkpoint;%");
    broken_resume("ck3.db", drop_last_epoch_row, "inconsistent: % epochs finished, % epoch rows;%");
    broken_resume("ck4.db", count_ahead,
                  "inconsistent: % epochs finished, % epoch rows, a checkpoint of another epoch;%");
}

/* A run interrupted on one data folder is not resumed on another whose
 * images differ (one pixel): the sweep refuses the other data. */
static void test_resume_on_other_data(void **state)
{
    (void)state;
    char *a = ms_tpath("data-a"), *b = ms_tpath("data-b"), *m = ms_tpath("od.yaml");
    char *db = ms_tpath("od.db"), *args = NULL, *err = NULL, *img = NULL, *text = NULL;
    assert_int_equal(mkdir(a, 0755), 0);
    assert_int_equal(mkdir(b, 0755), 0);
    ms_make_dataset(a, 320, 40, 0);
    ms_make_dataset(b, 320, 40, 0);
    assert_true(asprintf(&img, "%s/train-images-idx3-ubyte", b) > 0);
    int fd = open(img, O_RDWR);
    assert_true(fd >= 0);
    unsigned char px;
    assert_int_equal(pread(fd, &px, 1, 16 + 5000), 1);
    px ^= 0xff;
    assert_int_equal(pwrite(fd, &px, 1, 16 + 5000), 1);
    close(fd);
    assert_true(asprintf(&text, "name: od\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                                "defaults:\n  hidden: [8]\n  epochs: 5000\n  early_stop: 0\n"
                                "variants:\n  - name: only\n", a) > 0);
    ms_write_text(m, text);
    pid_t pid = ms_spawn_run(m, db, "--jobs=1", NULL);
    for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 1; i++)
        sleep_ms(2);
    kill(pid, SIGINT);
    if (ms_wait_exit(pid) == 0)
        fail_msg("the sweep finished before SIGINT landed: nothing was interrupted");
    /* refused before anything is written: the sweep's data is recorded
     * (its checkpoints carry their own digest as well) */
    long epochs = ms_db_count(db, "SELECT count(*) FROM epochs");
    assert_true(asprintf(&args, "run %s --db %s --data %s", m, db, b) > 0);
    assert_int_equal(sh(args, &err), 1);
    assert_non_null(strstr(err, "was trained on mnist data"));
    assert_non_null(strstr(err, "give another --db to train on other data"));
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'failed'"), 0);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM epochs"), epochs);
    free(err), free(args), free(text), free(img), free(a), free(b), free(m), free(db);
}

/* A manifest read from a pipe is stored as it was read (it used to be read
 * a second time for storage: empty from a pipe). */
static void test_manifest_from_pipe(void **state)
{
    (void)state;
    char *m = ms_tpath("pipe.yaml"), *db = ms_tpath("pipe.db"), *args = NULL;
    const char *text = "name: pipe\ndata:\n  dir: " MS_DATA_DIR "\n  train: 1000\n  val: 200\n"
                       "defaults:\n  hidden: [8]\n  epochs: 1\nvariants:\n  - name: only\n";
    ms_write_text(m, text);
    assert_true(asprintf(&args, "cat %s | %s run /dev/stdin --db %s --quiet 2>/dev/null", m, MS_BIN,
                         db) > 0);
    int st = system(args);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    char *sql = NULL;
    assert_true(asprintf(&sql, "SELECT count(*) FROM sweeps WHERE length(manifest) = %zu AND "
                               "manifest_path = '/dev/stdin'", strlen(text)) > 0);
    assert_int_equal(ms_db_count(db, sql), 1);
    free(sql), free(args), free(m), free(db);
}

static void test_reader_during_run(void **state)
{
    (void)state;
    char *m = ms_tpath("small.yaml"), *db = ms_tpath("read.db");
    pid_t pid = ms_spawn_run(m, db, "--threads=2", NULL);
    int reads = 0, errors = 0, done = 0;
    while (!done) {
        int st;
        done = waitpid(pid, &st, WNOHANG) == pid;
        if (done)
            assert_int_equal(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
        sqlite3 *h;
        if (access(db, F_OK) != 0)
            continue;
        if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
            sqlite3_close(h); /* a failed open still allocates a handle */
            continue;
        }
        /* A reader is never blocked by the writer while it trains. Only at
         * the instant the writer closes (the last connection: SQLite takes
         * the file for the two unlinks of -wal and -shm) may a reader wait;
         * 500 ms is plenty for that, and far below any real blocking. The
         * sqlite3 shell's `.timeout` does the same (docs/schema.md). */
        sqlite3_busy_timeout(h, 500);
        sqlite3_stmt *q;
        int rc = sqlite3_prepare_v2(h, "SELECT count(*), sum(final_val_acc) FROM run_summary", -1, &q, NULL);
        if (rc == SQLITE_OK) {
            rc = sqlite3_step(q);
            if (rc != SQLITE_ROW) {
                print_message("reader: step: %s (%d reads before)\n", sqlite3_errmsg(h), reads);
                errors++;
            }
            sqlite3_finalize(q);
            reads++;
        } else if (reads > 0) {
            /* Only while the file is being created (schema and WAL switch, before
             * the first successful read) may a reader see it locked. */
            print_message("reader: prepare: %s (%d reads before)\n", sqlite3_errmsg(h), reads);
            errors++;
        }
        sqlite3_close(h);
    }
    assert_int_equal(errors, 0);
    assert_true(reads > 0);
    free(m), free(db);
}

/* Only the database stays beside itself after a clean exit: the writer's and
 * the reader's closes remove the -wal and -shm files, and while another
 * connection is open they stay (it still needs them) until the last one goes. */
static int side_files(const char *db)
{
    char side[4096];
    int n = 0;
    snprintf(side, sizeof side, "%s-wal", db);
    n += access(side, F_OK) == 0;
    snprintf(side, sizeof side, "%s-shm", db);
    n += access(side, F_OK) == 0;
    snprintf(side, sizeof side, "%s.lock", db);
    n += access(side, F_OK) == 0;
    return n;
}

static void test_clean_exit_leaves_only_the_db(void **state)
{
    (void)state;
    char *m = ms_tpath("small.yaml"), *db = ms_tpath("tidy.db"), *args = NULL;
    assert_true(asprintf(&args, "run %s --db %s --only plain epochs=1", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    assert_int_equal(side_files(db), 0);
    free(args);
    assert_true(asprintf(&args, "status %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    assert_int_equal(side_files(db), 0);
    /* a reader holding the file across the writer's close keeps both */
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM epochs", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    sqlite3_finalize(q);
    free(args);
    assert_true(asprintf(&args, "run %s --db %s --only deep epochs=1", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    assert_int_equal(side_files(db), 2);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT count(*) FROM epochs", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 4); /* the reader sees the new rows */
    sqlite3_finalize(q);
    sqlite3_close(h);
    /* the next of our connections to close is the last one, and tidies up */
    free(args);
    assert_true(asprintf(&args, "status %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    assert_int_equal(side_files(db), 0);
    free(args), free(m), free(db);
}

static void test_skip_done_and_changed_variant(void **state)
{
    (void)state;
    char *m = ms_tpath("small.yaml"), *db = ms_tpath("j1.db"), *args = NULL, *err;
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "4 runs, 4 done already, 0 to train"));
    free(err);
    /* change variant deep's learning rate: its two runs are new */
    char *m2 = ms_tpath("changed.yaml");
    ms_write_text(m2, small_manifest("0.03", 6, 3000));
    free(args);
    assert_true(asprintf(&args, "run %s --db %s", m2, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "variant 'deep' seed 1 changed in the manifest: starting it as a new run"));
    assert_non_null(strstr(err, "4 runs, 2 done already, 2 to train"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs"), 6);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE current"), 4);
    /* status reads the database alone */
    free(args);
    assert_true(asprintf(&args, "status --db %s", db) > 0);
    assert_int_equal(sh(args, &err), 0);
    free(err), free(args), free(m), free(m2), free(db);
}

static void test_failed_run_and_retry(void **state)
{
    (void)state;
    char *m = ms_tpath("diverge.yaml"), *db = ms_tpath("fail.db"), *args = NULL, *err;
    const char *text = "name: div\ndata:\n  dir: " MS_DATA_DIR "\n  train: 1000\n  val: 200\n"
                       "defaults:\n  hidden: [8]\n  epochs: 3\n"
                       "variants:\n  - name: ok\n  - name: boom\n    lr: 3e38\n"
                       "    hidden: [8, 8, 8]\n    activation: improved_sigmoid\n";
    ms_write_text(m, text);
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    /* lr 3e38 overflows the float32 weights at the first update */
    assert_int_equal(sh(args, &err), 1);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'failed'"), 1);
    assert_non_null(strstr(err, "run 'boom' seed 1 failed"));
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE variant = 'ok' AND status = 'done'"), 1);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE error LIKE '%diverged%'"), 1);
    free(err);
    /* rerun: the failed run is skipped and reported */
    assert_int_equal(sh(args, &err), 1);
    assert_non_null(strstr(err, "--retry-failed"));
    free(err), free(args);
    assert_true(asprintf(&args, "run %s --db %s --retry-failed", m, db) > 0);
    assert_int_equal(sh(args, &err), 1);
    assert_non_null(strstr(err, "1 to train"));
    free(err), free(args), free(m), free(db);
}

static void test_one_process_per_db(void **state)
{
    (void)state;
    char *m = ms_tpath("slow.yaml"), *db = ms_tpath("lock.db"), *args = NULL, *err;
    ms_write_text(m, small_manifest("0.02", 40, 6000));
    pid_t pid = ms_spawn_run(m, db, "--jobs=1", NULL);
    for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 1; i++)
        sleep_ms(2);
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 1);
    char *want = NULL;
    assert_true(asprintf(&want, "mlpsweep: another mlpsweep is writing to '%s'\n", db) > 0);
    assert_string_equal(err, want);
    kill(pid, SIGTERM);
    assert_int_equal(ms_wait_exit(pid), 130);
    free(want), free(err), free(args), free(m), free(db);
}

/* KEY=VALUE settings and grids on the command line: validated like the
 * manifest (a bad one exits 2 naming the argument, nothing created); runs
 * are known by their settings, so the same call again trains nothing and
 * other values are new runs in the same database. */
static void test_settings(void **state)
{
    (void)state;
    char *m = ms_tpath("set.yaml"), *db = ms_tpath("set.db"), *args = NULL, *err;
    char text[2048];
    snprintf(text, sizeof text, "%s", small_manifest("0.02", 1, 1000));
    memcpy(strstr(text, "seeds: [1, 2]"), "seeds: [1]   ", 13); /* one run per variant */
    ms_write_text(m, text);
    static const struct {
        const char *arg, *msg;
    } bad[] = {
        {"lr=-1", "argument 'lr=-1': lr: must be a finite number > 0 (got -1)\n"},
        {"deep.lrr=1", "argument 'deep.lrr=1': unknown key 'lrr' (did you mean 'lr'?)\n"},
        {"dep.lr=0.1,0.2", "argument 'dep.lr=0.1,0.2': no variant 'dep' (did you mean 'deep'?)\n"},
        {"hidden=[8", "argument 'hidden=[8': syntax error: did not find expected ',' or ']' "
                      "(while parsing a flow sequence that starts at character 1 of the value)\n"},
        {"lr", "argument 'lr': expected KEY=VALUE or VARIANT.KEY=VALUE (KEY one of the variant "
               "keys: lr, momentum, hidden, ...)\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_true(asprintf(&args, "run %s '%s' --db %s", m, bad[i].arg, db) > 0);
        assert_int_equal(sh(args, &err), 2);
        assert_string_equal(err, bad[i].msg);
        assert_int_equal(access(db, F_OK), -1); /* nothing created */
        free(err), free(args);
    }
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    /* a grid on one variant: exactly two runs more, named by their values;
     * deep.lr-0.02 is deep (its lr in the manifest): it takes its results */
    assert_true(asprintf(&args, "run %s deep.lr=0.1,0.02 --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "variant 'deep.lr-0.02' seed 1: same settings as 'deep' (run 2): "
                                "its 1 epoch is taken, not trained again\n"));
    assert_non_null(strstr(err, "3 runs, 2 done already, 1 to train"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs"), 4);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE current AND "
                                     "((variant = 'deep.lr-0.1' AND lr = 0.1) OR "
                                     "(variant = 'deep.lr-0.02' AND lr = 0.02))"),
                     2);
    /* the same call again trains nothing */
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "3 runs, 3 done already, 0 to train"));
    free(err), free(args);
    /* --only names the variant with the grid: every run its grid made */
    assert_true(asprintf(&args, "run %s deep.lr=0.1,0.02 --only deep --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "2 runs, 2 done already, 0 to train"));
    free(err), free(args);
    /* one value for every variant: stored in every run */
    assert_true(asprintf(&args, "run %s lr=0.05 --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    free(err), free(args);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE current"), 2);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE current AND lr = 0.05"), 2);
    /* back to the manifest's own values: the runs made with them are current again */
    assert_true(asprintf(&args, "run %s --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    assert_non_null(strstr(err, "variant 'plain' seed 1 is back to settings it ran with before: "
                                "that run is current again (1 epochs done)"));
    assert_non_null(strstr(err, "2 runs, 2 done already, 0 to train"));
    free(err), free(args);
    assert_true(asprintf(&args, "run %s lr=0.05 --db %s", m, db) > 0);
    assert_int_equal(sh(args, &err), 0);
    free(err), free(args);
    /* the sweep records its settings: plot and report read the same variants */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM sweeps WHERE manifest LIKE "
                                     "'%settings:' || char(10) || '  - ''lr=0.05''%'"),
                     1);
    free(m), free(db);
}

/* precision: float64 end to end, as a grid beside float32: each run
 * recorded with its precision (the float32 one with the hash it always had),
 * every step's loss in the steps table, and each
 * validation's batch_loss the mean of the steps since the one before,
 * across epochs. */
static void test_precision_and_steps(void **state)
{
    (void)state;
    char *m = ms_tpath("prec.yaml"), *db = ms_tpath("prec.db"), *ref = ms_tpath("prec-ref.db");
    char *args = NULL, text[2048];
    snprintf(text, sizeof text, "%s", small_manifest("0.02", 3, 1000));
    memcpy(strstr(text, "seeds: [1, 2]"), "seeds: [1]   ", 13);
    ms_write_text(m, text);
    assert_true(asprintf(&args, "run %s --db %s --quiet", m, ref) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    assert_true(asprintf(&args, "run %s deep.precision=float32,float64 --db %s --quiet", m, db) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'done' AND ("
                                     "(variant = 'deep.precision-float32' AND precision = 'float32'"
                                     " AND json_extract(config, '$.precision') IS NULL) OR"
                                     "(variant = 'deep.precision-float64' AND precision = 'float64'"
                                     " AND json_extract(config, '$.precision') = 'float64'))"),
                     2);
    /* float32 is the run the manifest alone makes: same hash, same numbers */
    assert_int_equal(ms_db_count_with(db, ref, "SELECT count(*) FROM runs a JOIN ref.runs b"
                                         " ON b.variant = 'deep' AND a.variant = 'deep.precision-float32'"
                                         " AND a.config_hash = b.config_hash"),
                     1);
    assert_int_equal(ms_db_count_with(db, ref, "SELECT count(*) FROM evals a JOIN ref.evals b"
                                         " ON a.step = b.step AND a.val_loss = b.val_loss AND"
                                         " a.batch_loss = b.batch_loss"
                                         " WHERE a.run_id = (SELECT id FROM runs WHERE variant ="
                                         " 'deep.precision-float32') AND b.run_id = (SELECT id FROM"
                                         " ref.runs WHERE variant = 'deep')"),
                     3 * 5 + 1);
    /* float64 trains something else: close, not equal */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM evals a JOIN evals b ON a.step = b.step"
                                     " WHERE a.run_id = (SELECT id FROM runs WHERE variant ="
                                     " 'deep.precision-float32') AND b.run_id = (SELECT id FROM runs"
                                     " WHERE variant = 'deep.precision-float64')"
                                     " AND a.val_loss <> b.val_loss AND abs(a.val_loss - b.val_loss)"
                                     " < 1e-3 * a.val_loss"),
                     3 * 5 + 1);
    /* every step, in order, 31 an epoch; no gap, no repeat */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM steps"), 3 * 3 * 31);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM (SELECT run_id, count(*) AS n,"
                                     " min(step) AS lo, max(step) AS hi FROM steps GROUP BY run_id)"
                                     " WHERE n = 93 AND lo = 0 AND hi = 92"),
                     3);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM steps WHERE batch_loss IS NULL"
                                     " OR batch_loss <= 0 OR epoch <> step / 31 + 1"),
                     0);
    /* batch_loss of each validation: the mean of the steps after the
     * previous validation up to its own (the sum in step order, as the
     * trainer adds them) */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM evals v WHERE abs(v.batch_loss - ("
                                     " SELECT avg(t.batch_loss) FROM steps t WHERE t.run_id = v.run_id"
                                     " AND t.step <= v.step AND t.step > coalesce((SELECT max(p.step)"
                                     " FROM evals p WHERE p.run_id = v.run_id AND p.step < v.step), -1)"
                                     ")) > 1e-12 * v.batch_loss"),
                     0);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM evals"), 3 * 16);
    /* and the summary export names the precision of each variant */
    char *out = ms_tpath("prec.csv");
    assert_true(asprintf(&args, "export --db %s -o %s", db, out) > 0);
    assert_int_equal(sh(args, NULL), 0);
    free(args);
    char *csv = NULL;
    size_t len = 0;
    assert_int_equal(ms_load_file(out, &csv, &len), 0);
    assert_non_null(strstr(csv, ",precision,batch,")); /* columns join at the end */
    assert_non_null(strstr(csv, "deep.precision-float64,"));
    assert_non_null(strstr(csv, ",float64,"));
    assert_non_null(strstr(csv, ",float32,"));
    free(csv), free(out), free(m), free(db), free(ref);
}

/* The second dataset: the example manifest runs end to end on Fashion-MNIST
 * from Debian's package (make test installs it), recorded as such, and MNIST's
 * files are refused for it. */
static void test_fashion(void **state)
{
    (void)state;
    if (access("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz", R_OK) != 0) {
        if (getenv("CI"))
            fail_msg("dataset-fashion-mnist is not installed ('make test' installs it)");
        print_message("dataset-fashion-mnist is not installed: skipped\n");
        skip();
    }
    char *db = ms_tpath("fashion.db"), *args = NULL, *err;
    assert_true(asprintf(&args, "run experiments/fashion_mnist.yaml epochs=1 --db %s", db) > 0);
    char *cmd = NULL;
    assert_true(asprintf(&cmd, "env -u MLPSWEEP_DATA XDG_CACHE_HOME=%s/nocache %s %s 2>%s.err",
                         ms_group_tmp, MS_BIN, args, db) > 0);
    assert_int_equal(system(cmd), 0);
    char *errpath = NULL;
    assert_true(asprintf(&errpath, "%s.err", db) > 0);
    err = ms_read_file(errpath);
    assert_non_null(strstr(err, "data '/usr/share/datasets/fashion-mnist'"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'done' AND "
                                     "config LIKE '%\"dataset\":\"fashion-mnist\"%'"),
                     3);
    /* a harder task than MNIST: after one epoch well above chance (10 %) and
     * below what MNIST gives the same network (about 94 %) */
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM run_summary WHERE final_val_acc > 0.6 "
                                     "AND final_val_acc < 0.9"),
                     3);
    free(cmd), free(args), free(errpath);
    /* MNIST's files are not Fashion-MNIST's */
    char *db2 = ms_tpath("fashion2.db");
    assert_true(asprintf(&args, "run experiments/fashion_mnist.yaml --data %s --db %s",
                         MS_DATA_DIR, db2) > 0);
    assert_int_equal(sh(args, &err), 2);
    assert_non_null(strstr(err, "does not hold the four Fashion-MNIST files"));
    assert_int_equal(access(db2, F_OK), -1);
    free(err), free(args), free(db2), free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_and_threads),
        cmocka_unit_test(test_invalid_manifest_touches_nothing),
        cmocka_unit_test(test_kill_and_resume),
        cmocka_unit_test(test_sigint_stops_cleanly),
        cmocka_unit_test(test_damaged_checkpoint),
        cmocka_unit_test(test_inconsistent_run_recovered),
        cmocka_unit_test(test_resume_on_other_data),
        cmocka_unit_test(test_manifest_from_pipe),
        cmocka_unit_test(test_reader_during_run),
        cmocka_unit_test(test_clean_exit_leaves_only_the_db),
        cmocka_unit_test(test_skip_done_and_changed_variant),
        cmocka_unit_test(test_failed_run_and_retry),
        cmocka_unit_test(test_one_process_per_db),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_precision_and_steps),
        cmocka_unit_test(test_fashion),
    };
    int rc = cmocka_run_group_tests_name("sweep", tests, ms_group_tmp_setup, ms_group_tmp_teardown);
    free(reference);
    return rc;
}
