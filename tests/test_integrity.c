/* Integrity, second pass (issue 22): one writer per database file whatever
 * the path, the database's companions never an output, one dataset per
 * sweep, a schema that is ours, only regular files as databases, dead runs
 * told from live ones, temporary files of a killed write cleaned. The lock cases use two real processes: a child that holds
 * a writer store, and the mlpsweep binary. */
#include "ms_test.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>

#include "ms_store.h"


/* Run `mlpsweep ARGS` (a printf format) with a time limit, so a hang fails
 * the test instead of stopping it; stderr into *err (caller frees). */
static int msf(char **err, const char *fmt, ...) MS_PRINTF(2, 3);
static int msf(char **err, const char *fmt, ...)
{
    char *args = NULL, *line = NULL, *ef = ms_tpath("stderr");
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&line, "timeout -s KILL 60 %s %s >%s.out 2>%s </dev/null", MS_BIN, args, ef, ef) < 0)
        abort();
    int st = system(line);
    *err = ms_read_file(ef);
    assert_non_null(*err);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (rc)
        fprintf(stderr, "mlpsweep %s -> exit %d: %s", args, rc, *err);
    free(args), free(line), free(ef);
    return rc;
}

/* The stdout of the last msf call (caller frees). */
static char *last_out(void)
{
    char *p = ms_tpath("stderr.out"), *s = ms_read_file(p);
    free(p);
    assert_non_null(s);
    return s;
}

/* A manifest of two variants on the tiny data; epochs as given (a long one
 * keeps a run training until it is killed). */
static char *manifest(const char *name, int epochs)
{
    char *path = NULL, *text = NULL;
    if (asprintf(&path, "%s/%s.yaml", ms_group_tmp, name) < 0 ||
        asprintf(&text,
                 "name: %s\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: %d\n  early_stop: 0\n  seeds: [1]\n"
                 "variants:\n  - name: a\n  - name: b\n",
                 name, ms_tiny_data, epochs) < 0)
        abort();
    ms_write_text(path, text);
    free(text);
    return path;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* A child process holding db's writer store until *release is written to;
 * returns its pid. */
static pid_t hold_writer(const char *db, int *release)
{
    int go[2], ready[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        close(ready[0]);
        ms_store *s;
        char c = ms_store_open(db, MS_STORE_CREATE, &s) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
            _exit(1);
        ms_store_close(s);
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, 'y');
    *release = go[1];
    return pid;
}

static void release_writer(pid_t pid, int release)
{
    close(release);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- 1. one writer per file ---- */

static void test_hard_link_is_the_same_writer(void **state)
{
    (void)state;
    char *m = manifest("hard", 1), *db = ms_tpath("hard.db"), *hard = ms_tpath("hard-link.db"),
         *sym = ms_tpath("hard-sym.db"), *other = ms_tpath("hard-other.db"), *err;
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only a", m, db), 0);
    free(err);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only b", m, other), 0);
    free(err);
    assert_int_equal(link(db, hard), 0);
    assert_int_equal(symlink(db, sym), 0);
    long epochs = ms_db_count(db, "SELECT count(*) FROM epochs");

    int release;
    pid_t pid = hold_writer(db, &release);
    const char *paths[] = {hard, sym};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, paths[i]), 1);
        assert_non_null(strstr(err, "another mlpsweep is writing to"));
        free(err);
        assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", paths[i], other), 1);
        assert_non_null(strstr(err, "another mlpsweep is writing to"));
        free(err);
    }
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM epochs"), epochs); /* untouched */
    release_writer(pid, release);

    /* free again: through the hard link, variant b trains */
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, hard), 0);
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'done'"), 2);
    free(m), free(db), free(hard), free(sym), free(other);
}

/* ---- 2. the database's companions are the database ---- */

static void test_outputs_refuse_companions(void **state)
{
    (void)state;
    char *m = manifest("comp", 1), *db = ms_tpath("comp.db"), *hard = ms_tpath("comp-hard.db"),
         *err;
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    assert_int_equal(link(db, hard), 0);
    const char *suffix[] = {"-wal", "-shm", "-journal", ".lock"};
    for (int i = 0; i < 4; i++) {
        char *out = NULL;
        if (asprintf(&out, "%s%s", db, suffix[i]) < 0)
            abort();
        struct stat b, a;
        int had = stat(out, &b) == 0;
        assert_int_equal(msf(&err, "export --db '%s' --format csv -o '%s'", db, out), 1);
        assert_non_null(strstr(err, "file of the database"));
        free(err);
        assert_int_equal(msf(&err, "report --db '%s' -o '%s'", db, out), 1);
        assert_non_null(strstr(err, "refusing to overwrite it"));
        free(err);
        assert_int_equal(stat(out, &a) == 0, had);
        if (had) /* the same file (a rename would make another), as long (readers touch -shm) */
            assert_true(a.st_ino == b.st_ino && a.st_size == b.st_size);
        free(out);
    }
    /* the database under another name (a hard link) */
    assert_int_equal(msf(&err, "export --db '%s' --format csv -o '%s'", db, hard), 1);
    assert_non_null(strstr(err, "is the database"));
    free(err);
    assert_int_equal(ms_db_count(hard, "SELECT count(*) FROM runs"), 2);
    free(m), free(db), free(hard);
}

/* ---- 4. one sweep, one dataset ---- */

static void test_one_dataset_per_sweep(void **state)
{
    (void)state;
    char *m = manifest("oneds", 1), *db = ms_tpath("oneds.db"), *other = ms_tpath("oneds-data"),
         *db2 = ms_tpath("oneds-2.db"), *err, *out;
    assert_int_equal(mkdir(other, 0755), 0);
    ms_make_dataset(other, 330, 40, 1); /* longer files, gzip'd: other data */
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only a", m, db), 0);
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM sweeps WHERE dataset = 'mnist'"
                                     " AND length(data_digest) = 16"), 1);
    long runs = ms_db_count(db, "SELECT count(*) FROM runs"),
         epochs = ms_db_count(db, "SELECT count(*) FROM epochs");
    /* --data, then $MLPSWEEP_DATA (the manifest's data.dir set aside) */
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            assert_int_equal(msf(&err, "run '%s' --db '%s' --data '%s' --only b", m, db, other), 1);
        else {
            char *m2 = NULL, *text = NULL;
            if (asprintf(&m2, "%s/oneds-env.yaml", ms_group_tmp) < 0 ||
                asprintf(&text, "name: oneds\ndata:\n  train: 320\n  val: 40\ndefaults:\n"
                                "  hidden: [8]\n  epochs: 1\n  early_stop: 0\n  seeds: [1]\n"
                                "variants:\n  - name: a\n  - name: b\n") < 0)
                abort();
            ms_write_text(m2, text);
            char *fmt = NULL;
            if (asprintf(&fmt, "run '%s' --db '%s' --only b", m2, db) < 0)
                abort();
            setenv("MLPSWEEP_DATA", other, 1);
            assert_int_equal(msf(&err, "%s", fmt), 1);
            unsetenv("MLPSWEEP_DATA");
            free(fmt), free(text), free(m2);
        }
        assert_non_null(strstr(err, "was trained on mnist data "));
        assert_non_null(strstr(err, "not on this mnist data "));
        assert_non_null(strstr(err, "give another --db to train on other data"));
        assert_null(strchr(strchr(err, '\n') + 1, '\n')); /* one line */
        free(err);
        assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs"), runs);
        assert_int_equal(ms_db_count(db, "SELECT count(*) FROM epochs"), epochs);
    }
    /* what the message says works: another database */
    assert_int_equal(msf(&err, "run '%s' --db '%s' --data '%s' --quiet", m, db2, other), 0);
    free(err);
    /* status and the report name the data */
    assert_int_equal(msf(&err, "status --db '%s'", db), 0);
    free(err);
    out = last_out();
    assert_non_null(strstr(out, "data mnist, digest "));
    free(out);
    char *html = ms_tpath("oneds.html");
    assert_int_equal(msf(&err, "report --db '%s' -o '%s'", db, html), 0);
    free(err);
    out = ms_read_file(html);
    assert_non_null(strstr(out, "mnist, digest "));
    free(out);
    free(html), free(m), free(db), free(db2), free(other);
}

/* ---- 6. the schema is ours ---- */

static void test_foreign_schema_objects(void **state)
{
    (void)state;
    char *m = manifest("foreign", 2), *db = ms_tpath("foreign.db"), *err, *out;
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only a", m, db), 0);
    free(err);
    /* the trigger: every validation accuracy 0.99 on insert */
    ms_db_exec(db, "CREATE TRIGGER lie AFTER INSERT ON evals BEGIN UPDATE evals SET val_acc = 0.99"
                   " WHERE run_id = new.run_id AND step = new.step; END");
    assert_int_equal(msf(&err, "check --db '%s'", db), 1);
    assert_non_null(strstr(err, "has a schema that is not mlpsweep's: trigger 'lie' (not ours)"));
    free(err);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 1);
    assert_non_null(strstr(err, "trigger 'lie' (not ours)"));
    assert_null(strchr(strchr(err, '\n') + 1, '\n')); /* one line: no warning before it */
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM evals WHERE val_acc = 0.99"), 0);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs"), 1);
    /* reads go on, after a warning line */
    assert_int_equal(msf(&err, "status --db '%s'", db), 0);
    assert_non_null(strstr(err, "warning: "));
    free(err);
    out = last_out();
    assert_non_null(strstr(out, "1/1 runs done"));
    free(out);
    assert_int_equal(msf(&err, "export --db '%s' --format csv", db), 0);
    assert_non_null(strstr(err, "warning: "));
    free(err);
    /* a changed view, a missing one, an index of someone else's */
    ms_db_exec(db, "DROP TRIGGER lie; DROP VIEW curves; CREATE VIEW curves AS SELECT 1 AS x;"
                   " CREATE INDEX mine ON runs(lr); DROP VIEW run_progress");
    assert_int_equal(msf(&err, "check --db '%s'", db), 1);
    assert_non_null(strstr(err, "index 'mine' (not ours)"));
    assert_non_null(strstr(err, "view 'curves' (changed)"));
    assert_non_null(strstr(err, "view 'run_progress' (missing)"));
    free(err);
    free(m), free(db);
}

/* ---- 8. only regular files are databases ---- */

static void test_fifo_is_no_database(void **state)
{
    (void)state;
    char *m = manifest("fifo", 1), *fifo = ms_tpath("fifo.db"), *src = ms_tpath("fifo-src.db"),
         *err;
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only a", m, src), 0);
    free(err);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    const char *fmt[] = {"status --db '%s'", "export --db '%s' --format csv", "check --db '%s'",
                         "report --db '%s' -o /dev/null", "claims --db '%s'"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(msf(&err, fmt[i], fifo), 1);
        assert_non_null(strstr(err, "is a FIFO, not a database file"));
        assert_null(strchr(strchr(err, '\n') + 1, '\n')); /* one line */
        free(err);
    }
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, fifo), 1);
    assert_non_null(strstr(err, "is a FIFO, not a database file"));
    free(err);
    assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", fifo, src), 1);
    assert_non_null(strstr(err, "is a FIFO, not a database file"));
    free(err);
    assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", src, fifo), 1);
    assert_non_null(strstr(err, "is a FIFO, not a database file"));
    free(err);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    free(m), free(fifo), free(src);
}

/* ---- 10. dead runs, temporary files ---- */

/* Wait until db has a run marked running with at least one epoch. */
static void wait_running(const char *db)
{
    for (int i = 0; i < 3000; i++) {
        if (ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'running'"
                            " AND epochs_done > 0") > 0)
            return;
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    fail_msg("no run started in '%s'", db);
}

static void test_dead_run_is_interrupted(void **state)
{
    (void)state;
    char *m = manifest("dead", 100000), *db = ms_tpath("dead.db"), *err, *out;
    char *cmd = NULL;
    if (asprintf(&cmd, "exec %s run '%s' --db '%s' --quiet --threads 1", MS_BIN, m, db) < 0)
        abort();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    wait_running(db);
    /* live: its process holds the lock */
    assert_int_equal(msf(&err, "status --db '%s'", db), 0);
    free(err);
    out = last_out();
    assert_non_null(strstr(out, "running"));
    assert_null(strstr(out, "interrupted"));
    free(out);
    kill(pid, SIGKILL); /* as OOM or a preempted job would */
    int st;
    waitpid(pid, &st, 0);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM runs WHERE status = 'running'"), 1);

    assert_int_equal(msf(&err, "status --db '%s'", db), 0);
    free(err);
    out = last_out();
    assert_non_null(strstr(out, "interrupted"));
    assert_non_null(strstr(out, "0 running"));
    assert_non_null(strstr(out, "1 interrupted"));
    assert_non_null(strstr(out, "again to resume"));
    free(out);
    assert_int_equal(msf(&err, "status --db '%s' --json", db), 0);
    free(err);
    out = last_out();
    assert_non_null(strstr(out, "\"status\": \"interrupted\""));
    assert_non_null(strstr(out, "\"running\": 0"));
    free(out);
    /* --watch ends: nothing is alive to make progress (msf kills it at 60 s) */
    assert_int_equal(msf(&err, "status --db '%s' --watch=1", db), 0);
    free(err);
    free(cmd), free(m), free(db);
}

/* The temporary name a process `pid` of this host gives a file `name`. */
static char *temp_name(const char *dir, const char *name, long pid, const char *rnd)
{
    char host[256] = "", *p = NULL;
    gethostname(host, sizeof host - 1);
    if (asprintf(&p, "%s/.%s.mlpsweep-%08x-%ld-%s", dir, name, (unsigned)(uint32_t)ms_hash64(host),
                 pid, rnd) < 0)
        abort();
    return p;
}

static void test_killed_write_cleaned(void **state)
{
    (void)state;
    char *m = manifest("tmpc", 1), *db = ms_tpath("tmpc.db"), *dir = ms_tpath("tmpc-out"), *err;
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    assert_int_equal(mkdir(dir, 0755), 0);
    pid_t dead = fork(); /* a pid that no longer exists */
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    char *stale = temp_name(dir, "report.html", dead, "aB3xYz"),
         *live = temp_name(dir, "report.html", (long)getpid(), "Qw12er"), *mine = NULL;
    if (asprintf(&mine, "%s/.notes.backup", dir) < 0)
        abort();
    ms_write_text(stale, "half a report");
    ms_write_text(live, "being written");
    ms_write_text(mine, "a user's file");
    char *out = NULL;
    if (asprintf(&out, "%s/summary.csv", dir) < 0)
        abort();
    assert_int_equal(msf(&err, "export --db '%s' -o '%s'", db, out), 0);
    free(err);
    assert_false(exists(stale)); /* its writer is dead */
    assert_true(exists(live));   /* a live process's */
    assert_true(exists(mine));   /* not ours */
    assert_true(exists(out));
    free(m), free(db), free(dir), free(stale), free(live), free(mine), free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hard_link_is_the_same_writer),
        cmocka_unit_test(test_outputs_refuse_companions),
        cmocka_unit_test(test_one_dataset_per_sweep),
        cmocka_unit_test(test_foreign_schema_objects),
        cmocka_unit_test(test_fifo_is_no_database),
        cmocka_unit_test(test_dead_run_is_interrupted),
        cmocka_unit_test(test_killed_write_cleaned),
    };
    return cmocka_run_group_tests(tests, ms_tiny_data_setup, ms_tiny_data_teardown);
}
