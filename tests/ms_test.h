/* Shared helpers for the cmocka tests: error capture, temporary folders,
 * small IDX files. Tests run from the repository root. */
#ifndef MS_TEST_H
#define MS_TEST_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <zlib.h>

#include <cmocka.h>

#include "ms_util.h"

#ifndef MS_BIN
#define MS_BIN "build/mlpsweep" /* the binary under test; the Makefile sets it per build */
#endif

#ifndef MS_DATA_DIR
#define MS_DATA_DIR "data" /* real MNIST, filled by make data */
#endif

typedef struct ms_capture {
    char *buf;
    size_t len;
    FILE *f;
} ms_capture;

static inline void ms_capture_start(ms_capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    ms_error_stream(c->f);
}

/* Stop capturing; returns the messages (caller frees). */
static inline char *ms_capture_end(ms_capture *c)
{
    ms_error_stream(NULL);
    fclose(c->f);
    return c->buf;
}

/* A fresh folder under $TMPDIR (or /tmp); caller removes it with ms_rmtree. */
static inline char *ms_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = NULL;
    if (asprintf(&p, "%s/mlpsweep-test-XXXXXX", base ? base : "/tmp") < 0)
        abort();
    assert_non_null(mkdtemp(p));
    return p;
}

static inline void ms_rmtree(const char *dir)
{
    char *cmd = NULL;
    if (asprintf(&cmd, "rm -rf '%s'", dir) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

/* A whole text file (NUL-terminated, up to 1 MiB), or NULL when it cannot be
 * opened; caller frees. */
static inline char *ms_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = calloc(1, 1 << 20);
    assert_non_null(b);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

/* Run `ENV mlpsweep ARGS` (env may be "" or a prefix such as "PATH=/x");
 * stdout and stderr into *out and *err (caller frees; NULL: not kept).
 * Returns the exit status, -1 when killed. */
static inline int ms_run_env(const char *env, const char *args, char **out, char **err)
{
    char *dir = ms_tmpdir(), *cmd = NULL;
    if (asprintf(&cmd, "%s %s %s >%s/out 2>%s/err", env, MS_BIN, args, dir, dir) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    char path[4096];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, i ? "err" : "out");
        char *buf = ms_read_file(path);
        assert_non_null(buf);
        char **to = i ? err : out; /* NULL: not wanted */
        if (to)
            *to = buf;
        else
            free(buf);
    }
    ms_rmtree(dir);
    free(dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int ms_run(const char *args, char **out, char **err)
{
    return ms_run_env("", args, out, err);
}

/* ms_run with the arguments formatted printf-style. */
static inline int ms_runf(char **out, char **err, const char *fmt, ...) MS_PRINTF(3, 4);
static inline int ms_runf(char **out, char **err, const char *fmt, ...)
{
    char *args = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    va_end(ap);
    int rc = ms_run(args, out, err);
    free(args);
    return rc;
}

/* mlpsweep with printf-style arguments, which must exit 0: its standard
 * output (stderr then must be empty), or with want_err its standard error;
 * the other is freed. */
static inline char *ms_okf(int want_err, const char *fmt, ...) MS_PRINTF(2, 3);
static inline char *ms_okf(int want_err, const char *fmt, ...)
{
    char *args = NULL, *out, *err;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    va_end(ap);
    int rc = ms_run(args, &out, &err);
    if (rc != 0 || (!want_err && *err))
        fail_msg("mlpsweep %s -> exit %d, stderr: %s", args, rc, err);
    free(args);
    free(want_err ? out : err);
    return want_err ? err : out;
}

/* `mlpsweep run MANIFEST --db DB --quiet [EXTRA...]` in the background, its
 * output discarded; its pid. extra: up to two more arguments, or NULL. */
static inline pid_t ms_spawn_run(const char *manifest, const char *db, const char *extra,
                                 const char *extra2)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", 1);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(MS_BIN, MS_BIN, "run", manifest, "--db", db, "--quiet", extra, extra2,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* A child's exit status; 128 + the signal that ended it. */
static inline int ms_wait_exit(pid_t pid)
{
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The first column of the first row of a query on a database opened
 * read-only (with the database `other` attached as ref, when given), or -1
 * when it cannot be read. */
static inline long ms_db_count_with(const char *db, const char *other, const char *sql)
{
    sqlite3 *h;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(h); /* a failed open still allocates a handle */
        return -1;
    }
    sqlite3_busy_timeout(h, 2000);
    sqlite3_stmt *q;
    long n = -1;
    char *att = other ? sqlite3_mprintf("ATTACH %Q AS ref", other) : NULL;
    if ((!att || sqlite3_exec(h, att, NULL, NULL, NULL) == SQLITE_OK) &&
        sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_free(att);
    sqlite3_close(h);
    return n;
}

static inline long ms_db_count(const char *db, const char *sql)
{
    return ms_db_count_with(db, NULL, sql);
}

/* Run SQL (one or more statements) on a database, failing the test if it
 * cannot: for tests that break a file on purpose. */
static inline void ms_db_exec(const char *db, const char *sql)
{
    sqlite3 *h;
    char *msg = NULL;
    if (sqlite3_open(db, &h) != SQLITE_OK || sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("cannot run '%s' on '%s': %s", sql, db, msg ? msg : sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* The rows of the queries on a database as text, one line a row: doubles
 * in hex (%a: exact), blobs in hex, NULL as NULL (caller frees). */
static inline char *ms_db_dump_sql(const char *db, const char *const *sql, int n)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    for (int s = 0; s < n; s++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(h, sql[s], -1, &q, NULL) != SQLITE_OK)
            fail_msg("cannot dump '%s': %s", db, sqlite3_errmsg(h));
        while (sqlite3_step(q) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(q); c++) {
                switch (sqlite3_column_type(q, c)) {
                case SQLITE_FLOAT: fprintf(f, "%a|", sqlite3_column_double(q, c)); break;
                case SQLITE_NULL: fputs("NULL|", f); break;
                case SQLITE_BLOB: {
                    const unsigned char *b = sqlite3_column_blob(q, c);
                    for (int i = 0; i < sqlite3_column_bytes(q, c); i++)
                        fprintf(f, "%02x", b[i]);
                    fputc('|', f);
                    break;
                }
                default: fprintf(f, "%s|", (const char *)sqlite3_column_text(q, c)); break;
                }
            }
            fputc('\n', f);
        }
        sqlite3_finalize(q);
    }
    fclose(f);
    sqlite3_close(h);
    return out;
}

/* What a sweep computed, comparable across --jobs, threads, shards, merges
 * and resumes: every epoch, validation and step of the current runs, the
 * current runs' rows without times and provenance (precision included),
 * and each sweep's name, manifest and data. */
static inline char *ms_db_dump(const char *db)
{
    static const char *const sql[] = {
        "SELECT r.variant, r.seed, e.epoch, e.step, e.train_loss, e.train_acc, e.val_loss, "
        "e.val_acc FROM epochs e JOIN runs r ON r.id = e.run_id WHERE r.current "
        "ORDER BY r.variant, r.seed, e.epoch",
        "SELECT r.variant, r.seed, v.step, v.epoch, v.batch_loss, v.train_loss, v.train_acc, "
        "v.val_loss, v.val_acc FROM evals v JOIN runs r ON r.id = v.run_id WHERE r.current "
        "ORDER BY r.variant, r.seed, v.step",
        "SELECT r.variant, r.seed, t.step, t.epoch, t.batch_loss FROM steps t"
        " JOIN runs r ON r.id = t.run_id WHERE r.current ORDER BY r.variant, r.seed, t.step",
        "SELECT s.name, r.variant, r.task, r.seed, r.config, r.config_hash, r.hidden, "
        "r.activation, r.init, r.lr, r.momentum, r.batch, r.params, r.epochs_total, r.status, "
        "r.current, r.epochs_done, r.steps_done, r.stop_reason, r.error, r.precision, "
        "r.val_per_epoch, r.early_stop, r.shuffle, r.train_size, r.val_size, r.dataset, r.grid, "
        "(SELECT count(*) FROM checkpoints c WHERE c.run_id = r.id) "
        "FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.current "
        "ORDER BY s.name, r.variant, r.seed",
        "SELECT name, manifest, dataset, data_digest FROM sweeps ORDER BY name"};
    return ms_db_dump_sql(db, sql, (int)(sizeof sql / sizeof *sql));
}

/* Every row of every table, times, ids and checkpoints included. */
static inline char *ms_db_dump_all(const char *db)
{
    static const char *const sql[] = {
        "SELECT * FROM sweeps ORDER BY id",
        "SELECT * FROM runs ORDER BY id",
        "SELECT * FROM epochs ORDER BY run_id, epoch",
        "SELECT * FROM evals ORDER BY run_id, step",
        "SELECT * FROM steps ORDER BY run_id, step",
        "SELECT * FROM checkpoints ORDER BY run_id"};
    return ms_db_dump_sql(db, sql, (int)(sizeof sql / sizeof *sql));
}

/* A test group's temporary folder: pass ms_group_tmp_setup/teardown to
 * cmocka_run_group_tests_name; ms_tpath names a file in it (caller frees). */
static char *ms_group_tmp __attribute__((unused));

static inline int ms_group_tmp_setup(void **state)
{
    (void)state;
    ms_group_tmp = ms_tmpdir();
    return 0;
}

static inline int ms_group_tmp_teardown(void **state)
{
    (void)state;
    ms_rmtree(ms_group_tmp);
    free(ms_group_tmp);
    return 0;
}

/* A group's folder holding a tiny MNIST-like data folder, ms_tiny_data (320
 * training and 40 validation images): setup and teardown for groups that
 * run the binary on data without needing real MNIST. */
static char *ms_tiny_data __attribute__((unused));
static inline void ms_make_dataset(const char *dir, uint32_t ntrain, uint32_t nval, int gz);

static inline int ms_tiny_data_setup(void **state)
{
    ms_group_tmp_setup(state);
    if (asprintf(&ms_tiny_data, "%s/data", ms_group_tmp) < 0)
        abort();
    mkdir(ms_tiny_data, 0755);
    ms_make_dataset(ms_tiny_data, 320, 40, 0);
    return 0;
}

static inline int ms_tiny_data_teardown(void **state)
{
    free(ms_tiny_data);
    return ms_group_tmp_teardown(state);
}

static inline char *ms_tpath(const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", ms_group_tmp, name) < 0)
        abort();
    return p;
}

static inline void ms_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Write bytes to path, gzip-compressed when gz. */
static inline void ms_write_bytes(const char *path, const void *data, size_t n, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(g), Z_OK);
        return;
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static inline void ms_write_text(const char *path, const char *text)
{
    ms_write_bytes(path, text, strlen(text), 0);
}

/* An image IDX file of n 28x28 images with pixel (i, p) = (i * 7 + p) % 256,
 * or a label file with label i = i % 10. Returns the byte count; buf malloc'd. */
static inline size_t ms_make_idx(int images, uint32_t n, uint8_t **buf)
{
    size_t hdr = images ? 16 : 8, item = images ? 784 : 1, len = hdr + n * item;
    uint8_t *b = calloc(1, len);
    assert_non_null(b);
    b[2] = 8;
    b[3] = images ? 3 : 1;
    ms_put_be32(b + 4, n);
    if (images) {
        ms_put_be32(b + 8, 28);
        ms_put_be32(b + 12, 28);
    }
    for (uint32_t i = 0; i < n; i++)
        for (size_t p = 0; p < item; p++)
            b[hdr + i * item + p] = images ? (uint8_t)((i * 7 + p) % 256) : (uint8_t)(i % 10);
    *buf = b;
    return len;
}

/* Write a complete small MNIST-like data folder (ntrain/nval images). */
static inline void ms_make_dataset(const char *dir, uint32_t ntrain, uint32_t nval, int gz)
{
    const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int i = 0; i < 4; i++) {
        uint8_t *b;
        size_t n = ms_make_idx(i % 2 == 0, i < 2 ? ntrain : nval, &b);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s%s", dir, names[i], gz ? ".gz" : "");
        ms_write_bytes(path, b, n, gz);
        free(b);
    }
}

#endif
