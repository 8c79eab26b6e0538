/* What a finished run keeps, and `mlpsweep gc`: a finished run keeps no
 * checkpoint unless its manifest says `keep: state`, which does not change
 * the run's identity; gc drops the checkpoints of done and failed runs,
 * shrinks the file, and leaves every answer (status, export, report,
 * claims) as it was and an interrupted run resumable bit for bit; its bad
 * input and a live writer are refused. Real MNIST (make data). */
#include "ms_test.h"

#include <ctype.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* 2 variants x 3 seeds, a few seconds in all; keep is "" or a `keep:` line
 * for defaults. A claim, so `claims` has something to say. */
static const char *study(const char *name, const char *keep)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "name: %s\n"
             "data:\n  dir: " MS_DATA_DIR "\n  train: 1000\n  val: 500\n"
             "defaults:\n  hidden: [16]\n  epochs: 3\n  seeds: [1, 2, 3]\n%s"
             "variants:\n"
             "  - name: a\n    lr: 0.1\n"
             "  - name: b\n    lr: 0.02\n"
             "claims:\n  - text: \"a beats b\"\n    a: a\n    b: b\n    expect: higher\n",
             name, keep);
    return buf;
}

/* `mlpsweep ARGS`, stdout and stderr returned (caller frees); the exit status. */
static int mlp(char **out, char **err, const char *fmt, ...) MS_PRINTF(3, 4);
static int mlp(char **out, char **err, const char *fmt, ...)
{
    char *args = NULL, *o, *e;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&args, fmt, ap) > 0);
    va_end(ap);
    int st = ms_run(args, &o, &e);
    free(args);
    if (out)
        *out = o;
    else
        free(o);
    if (err)
        *err = e;
    else
        free(e);
    return st;
}

static long checkpoints(const char *db)
{
    return ms_db_count(db, "SELECT count(*) FROM checkpoints");
}

/* The file and its log on disk, in bytes. */
static long long disk_bytes(const char *db)
{
    struct stat st;
    char wal[4096];
    long long n = stat(db, &st) == 0 ? (long long)st.st_size : 0;
    snprintf(wal, sizeof wal, "%s-wal", db);
    if (stat(wal, &st) == 0)
        n += (long long)st.st_size;
    return n;
}

/* Every row of every table but checkpoints: what gc must not touch. */
static char *dump_but_state(const char *db)
{
    static const char *const sql[] = {
        "SELECT * FROM sweeps ORDER BY id", "SELECT * FROM runs ORDER BY id",
        "SELECT * FROM epochs ORDER BY run_id, epoch", "SELECT * FROM evals ORDER BY run_id, step",
        "SELECT * FROM steps ORDER BY run_id, step"};
    return ms_db_dump_sql(db, sql, (int)(sizeof sql / sizeof *sql));
}

/* The runs' identities in registration order: variant, seed, hash, config. */
static char *identities(const char *db)
{
    static const char *const sql[] = {
        "SELECT variant, seed, config_hash, config FROM runs ORDER BY id"};
    return ms_db_dump_sql(db, sql, 1);
}

/* (a) A finished run keeps its metrics only; `keep: state` (the manifest,
 * a setting, one variant's setting) keeps its last checkpoint too and is
 * the same run: same hashes, nothing trained again. A bad value is a
 * manifest error. */
static void test_keep(void **state)
{
    (void)state;
    char *m = ms_tpath("keep.yaml"), *dbm = ms_tpath("keep-m.db"), *dbs = ms_tpath("keep-s.db");
    char *dbv = ms_tpath("keep-v.db"), *dbk = ms_tpath("keep-k.db"), *mk = ms_tpath("keep-k.yaml");
    char *out, *err;
    ms_write_text(m, study("keep", ""));
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet", m, dbm), 0);
    assert_int_equal(ms_db_count(dbm, "SELECT count(*) FROM runs WHERE status = 'done'"), 6);
    assert_int_equal(checkpoints(dbm), 0);
    /* keep=state on the command line: every run keeps its last epoch's state */
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet keep=state", m, dbs), 0);
    assert_int_equal(checkpoints(dbs), 6);
    assert_int_equal(ms_db_count(dbs, "SELECT count(*) FROM checkpoints c JOIN runs r"
                                      " ON r.id = c.run_id WHERE c.epoch = r.epochs_done"
                                      " AND r.status = 'done'"),
                     6);
    char *a = identities(dbm), *b = identities(dbs);
    assert_string_equal(a, b);
    free(b);
    assert_int_equal(mlp(&out, NULL, "check --db %s", dbs), 0);
    free(out);
    /* the same runs: a sweep with keep=state over the first database trains nothing */
    long epochs = ms_db_count(dbm, "SELECT count(*) FROM epochs");
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet keep=state", m, dbm), 0);
    assert_int_equal(ms_db_count(dbm, "SELECT count(*) FROM epochs"), epochs);
    assert_int_equal(ms_db_count(dbm, "SELECT count(*) FROM runs"), 6);
    assert_int_equal(checkpoints(dbm), 0);
    /* one variant's setting: only its runs keep state */
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet b.keep=state", m, dbv), 0);
    assert_int_equal(ms_db_count(dbv, "SELECT count(*) FROM checkpoints c JOIN runs r"
                                      " ON r.id = c.run_id WHERE r.variant = 'b'"),
                     3);
    assert_int_equal(checkpoints(dbv), 3);
    /* in the manifest's defaults */
    ms_write_text(mk, study("keep", "  keep: state\n"));
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet", mk, dbk), 0);
    assert_int_equal(checkpoints(dbk), 6);
    b = identities(dbk);
    assert_string_equal(a, b);
    free(a), free(b);
    /* a bad value */
    assert_int_equal(mlp(NULL, &err, "check %s keep=weights", m), 2);
    assert_string_equal(err, "argument 'keep=weights': keep: unknown value 'weights' "
                             "(expected metrics or state)\n");
    free(err);
    ms_write_text(mk, study("keep", "  keep: all\n"));
    assert_int_equal(mlp(NULL, &err, "check %s", mk), 2);
    char *want = NULL;
    assert_true(asprintf(&want, "%s:10:9: keep: unknown value 'all' (expected metrics or state)\n",
                         mk) > 0);
    assert_string_equal(err, want);
    free(err), free(want);
    free(m), free(dbm), free(dbs), free(dbv), free(dbk), free(mk);
}

/* The report's times ("2026-01-02T03:04:05Z") as X's: it says when it was written. */
static void mask_times(char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen(shape);
    for (char *p = s; *p; p++) {
        size_t k = 0;
        while (k < n && p[k] && (shape[k] == 'd' ? isdigit((unsigned char)p[k]) : p[k] == shape[k]))
            k++;
        if (k == n)
            memset(p, 'X', n);
    }
}

/* What the reading commands answer about db (caller frees). */
static char *answers(const char *db)
{
    static const char *const cmds[] = {
        "status --db %s", "status --json --db %s", "export --db %s --table summary",
        "export --db %s --table epochs", "export --db %s --table evals",
        "export --db %s --table steps", "export --db %s --format json --columns all",
        "claims --db %s", "report --db %s -o -"};
    char *all = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&all, &len);
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *out, *err;
        int st = mlp(&out, &err, cmds[i], db);
        if (st != 0)
            fail_msg("'%s' on %s: exit %d: %s", cmds[i], db, st, err);
        mask_times(out);
        fprintf(f, "== %s\n%s", cmds[i], out);
        free(out), free(err);
    }
    fclose(f);
    return all;
}

/* (b) gc on a database whose finished runs kept their state (as any run of
 * an older build did), one of them failed: every checkpoint dropped, the
 * file smaller, and every answer byte for byte as before; again: nothing to
 * drop. The manifest names the database as for status. */
static void test_gc_same_answers(void **state)
{
    (void)state;
    char *dir = ms_tpath("g"), *m = NULL, *db = NULL, *cmd = NULL, *bin = realpath(MS_BIN, NULL);
    assert_non_null(bin);
    assert_true(asprintf(&m, "%s/same.yaml", dir) > 0 && asprintf(&db, "%s/db/same.db", dir) > 0);
    mkdir(dir, 0755);
    char *dbdir = NULL;
    assert_true(asprintf(&dbdir, "%s/db", dir) > 0);
    mkdir(dbdir, 0755);
    free(dbdir);
    ms_write_text(m, study("same", "  keep: state\n"));
    assert_int_equal(mlp(NULL, NULL, "run %s --quiet --db %s", m, db), 0);
    /* a run that failed after its epochs: its state is dead too */
    ms_db_exec(db, "UPDATE runs SET status = 'failed', error = 'diverged'"
                   " WHERE id = (SELECT max(id) FROM runs)");
    assert_int_equal(checkpoints(db), 6);
    char *before = answers(db), *rows = dump_but_state(db);
    long long size = disk_bytes(db);
    /* from the manifest's folder: db/same.db, as status would find it */
    char *outf = ms_tpath("gc.out");
    assert_true(asprintf(&cmd, "cd '%s' && '%s' gc same.yaml >'%s'", dir, bin, outf) > 0);
    assert_int_equal(system(cmd), 0);
    char *out = ms_read_file(outf);
    assert_non_null(out);
    if (strncmp(out, "db/same.db: dropped the training state of 6 finished runs, ", 59) ||
        !strstr(out, " KB -> ") || strchr(out, '\n') != out + strlen(out) - 1)
        fail_msg("gc said: %s", out);
    free(out);
    assert_int_equal(checkpoints(db), 0);
    assert_true(disk_bytes(db) < size / 2);
    char *after = answers(db), *rows2 = dump_but_state(db);
    assert_string_equal(before, after);
    assert_string_equal(rows, rows2);
    free(after), free(rows2);
    assert_int_equal(mlp(&out, NULL, "check --db %s", db), 0);
    free(out);
    /* nothing left: it still compacts, and says so */
    assert_int_equal(mlp(&out, NULL, "gc --db %s", db), 0);
    char *want = NULL;
    assert_true(asprintf(&want, "%s: nothing to drop, ", db) > 0);
    assert_true(!strncmp(out, want, strlen(want)));
    free(out), free(want);
    after = answers(db);
    assert_string_equal(before, after);
    free(after), free(before), free(rows), free(outf);
    free(cmd), free(bin), free(m), free(db), free(dir);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* `mlpsweep run MANIFEST --db DB --quiet --jobs=1` in the background. */
static pid_t spawn(const char *manifest, const char *db)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stdout);
        null = null ? freopen("/dev/null", "w", stderr) : NULL;
        execl(MS_BIN, MS_BIN, "run", manifest, "--db", db, "--quiet", "--jobs=1", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Long enough (4 runs of 60 epochs, about a second) that SIGINT, sent once
 * the first long epoch is committed, lands mid-run; and two quick runs. */
static const char intr_manifest[] =
    "name: intr\ndata:\n  dir: " MS_DATA_DIR "\n  train: 3000\n  val: 1000\n"
    "defaults:\n  hidden: [24]\n  init: fanin_normal\n  epochs: 60\n"
    "  early_stop: 0\n  seeds: [1, 2]\n"
    "variants:\n  - name: plain\n  - name: deep\n    hidden: [20, 12]\n"
    "    activation: improved_sigmoid\n  - name: quick\n    epochs: 2\n";

/* (c) A sweep interrupted by SIGINT, its quick runs finished earlier with
 * keep=state: gc drops the finished runs' state and keeps the interrupted
 * run's as it was, which then resumes to the numbers of an uninterrupted
 * sweep, bit for bit. */
static void test_gc_keeps_interrupted(void **state)
{
    (void)state;
    char *m = ms_tpath("intr.yaml"), *ref = ms_tpath("intr-ref.db"), *db = ms_tpath("intr.db");
    char *out;
    ms_write_text(m, intr_manifest);
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet", m, ref), 0);
    assert_int_equal(checkpoints(ref), 0);
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet --only quick keep=state", m, db), 0);
    assert_int_equal(checkpoints(db), 2);
    pid_t pid = spawn(m, db);
    for (int i = 0; i < 2000 && ms_db_count(db, "SELECT count(*) FROM epochs") < 5; i++)
        sleep_ms(2);
    kill(pid, SIGINT);
    int st = ms_wait_exit(pid);
    if (st == 0)
        fail_msg("the sweep finished before SIGINT landed: nothing was interrupted");
    assert_int_equal(st, 130);
    static const char *const live_sql[] = {
        "SELECT c.* FROM checkpoints c JOIN runs r ON r.id = c.run_id"
        " WHERE r.status NOT IN ('done', 'failed') ORDER BY c.run_id"};
    char *live = ms_db_dump_sql(db, live_sql, 1);
    assert_true(strlen(live) > 1000); /* the interrupted run has its state */
    long nlive = ms_db_count(db, "SELECT count(*) FROM checkpoints c JOIN runs r"
                                 " ON r.id = c.run_id WHERE r.status NOT IN ('done', 'failed')");
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE stop_reason = 'interrupted'"),
                     nlive);
    assert_int_equal(mlp(&out, NULL, "gc --db %s", db), 0);
    assert_non_null(strstr(out, ": dropped the training state of 2 finished runs, "));
    free(out);
    assert_int_equal(checkpoints(db), nlive);
    char *live2 = ms_db_dump_sql(db, live_sql, 1);
    assert_string_equal(live, live2);
    free(live), free(live2);
    assert_int_equal(mlp(NULL, NULL, "run %s --db %s --quiet", m, db), 0);
    char *a = ms_db_dump(ref), *b = ms_db_dump(db);
    assert_string_equal(a, b);
    free(a), free(b), free(m), free(ref), free(db);
}

/* (d) Bad input: one line each, exit 2 for the command line, 1 for the
 * files; a live writer is refused, and an empty file stays empty. */
static void test_gc_refused(void **state)
{
    (void)state;
    char *out, *err, *db = ms_tpath("none.db"), *empty = ms_tpath("empty.db"), *want = NULL;
    assert_int_equal(mlp(&out, &err, "gc --bogus"), 2);
    assert_string_equal(err, "mlpsweep: unknown option '--bogus' (see --help)\n");
    assert_string_equal(out, "");
    free(out), free(err);
    assert_int_equal(mlp(NULL, &err, "gc --db"), 2);
    assert_true(strlen(err) > 0 && strchr(err, '\n') == err + strlen(err) - 1); /* one line */
    free(err);
    assert_int_equal(mlp(NULL, &err, "gc a.yaml b.yaml"), 2);
    assert_string_equal(err, "mlpsweep: unexpected argument 'b.yaml' (see --help)\n");
    free(err);
    assert_int_equal(mlp(&out, &err, "gc --db %s", db), 1);
    assert_true(asprintf(&want, "mlpsweep: cannot open '%s': no such database\n", db) > 0);
    assert_string_equal(err, want);
    assert_string_equal(out, "");
    assert_int_equal(access(db, F_OK), -1);
    free(out), free(err), free(want);
    ms_write_text(empty, "");
    assert_int_equal(mlp(NULL, &err, "gc --db %s", empty), 1);
    assert_true(asprintf(&want, "mlpsweep: '%s' is not an mlpsweep database (it is empty)\n",
                         empty) > 0);
    assert_string_equal(err, want);
    assert_int_equal(disk_bytes(empty), 0);
    free(err), free(want);
    /* a sweep writing: refused, nothing touched */
    char *m = ms_tpath("live.yaml"), *live = ms_tpath("live.db");
    ms_write_text(m, intr_manifest);
    pid_t pid = spawn(m, live);
    for (int i = 0; i < 2000 && ms_db_count(live, "SELECT count(*) FROM epochs") < 1; i++)
        sleep_ms(2);
    assert_int_equal(mlp(&out, &err, "gc --db %s", live), 1);
    assert_true(asprintf(&want, "mlpsweep: another mlpsweep is writing to '%s'\n", live) > 0);
    assert_string_equal(err, want);
    assert_string_equal(out, "");
    kill(pid, SIGTERM);
    assert_int_equal(ms_wait_exit(pid), 130);
    free(out), free(err), free(want), free(m), free(live), free(db), free(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_gc_same_answers),
        cmocka_unit_test(test_gc_keeps_interrupted),
        cmocka_unit_test(test_gc_refused),
    };
    return cmocka_run_group_tests_name("gc", tests, ms_group_tmp_setup, ms_group_tmp_teardown);
}
