/* The bodies of the fuzz targets, shared by the libFuzzer harnesses
 * (tests/fuzz/fuzz_*.c) and the replay test (test_fuzz_regressions.c),
 * so a saved input runs through exactly the code that found it.
 *
 * Each fuzz_*_one() feeds one input to the product code and checks what the
 * headers promise: a success yields a consistent result, a failure prints
 * at least one well-formed message and leaves the output released. It returns
 * 0, or -1 with the broken promise in fuzz_why. Memory errors and leaks are
 * for the sanitizers to catch.
 *
 * Errors printed by the product go into an in-memory log (fuzz_log) instead
 * of stderr: cheap, and it lets the message format be checked.
 *
 * Input formats:
 *   manifest  the bytes of a YAML manifest, parsed as "fuzz.yaml" (no NUL
 *             terminator: the parser must respect the length)
 *   idx       one mode byte, then the file's bytes. Mode bit 0: gzip-compress
 *             the rest before writing it (0 writes it as is, so raw gzip data
 *             in the input exercises corrupt streams); bit 1: read it as an
 *             image file (3 dimensions) rather than a label file (1). Other
 *             bits are ignored. The file goes to /dev/shm (or $TMPDIR, /tmp)
 *             under a per-process name and is removed after each input.
 *   db        the bytes of a study database file, written to /dev/shm (or
 *             $TMPDIR, /tmp) and read as `status`/`export`/`plot` do: opened
 *             read-only (with its quick check), every table exported in every
 *             format, the summary and the full check.
 *   checkpoint  one mode byte, then a checkpoint blob, restored into a fresh
 *             trainer of a small network (fuzz_ck_config). Mode bit 0: give
 *             the blob its right checksum first, so the checks behind the
 *             checksum (identity, sizes, ranges) are what is fuzzed.
 *   merge     one mode byte, then the bytes of a shard database (a hostile
 *             one), merged as `mlpsweep merge` merges it, in a private folder
 *             under /dev/shm (or $TMPDIR, /tmp). Mode bit 0: a valid shard
 *             (the runs of FUZZ_MERGE_MANIFEST, pending, the sweep the seed
 *             corpus holds) is merged first in the same call; bit 1: into an
 *             existing output (that valid shard merged), else a new one. */
#ifndef FUZZ_TARGETS_H
#define FUZZ_TARGETS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fopencookie */
#endif
#include "ms_config.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_merge.h"
#include "ms_export.h"
#include "ms_store.h"
#include "ms_train.h"
#include "ms_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>

/* ---- the error log ---- */

typedef struct fuzz_log_buf {
    char *buf;
    size_t len, cap;
} fuzz_log_buf;

static fuzz_log_buf fuzz_log;
static char fuzz_why[512]; /* the broken promise, after a -1 */

static ssize_t fuzz_log_write(void *cookie, const char *b, size_t n)
{
    fuzz_log_buf *l = cookie;
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (l->len + n + 1 > cap)
            cap *= 2;
        l->buf = ms_realloc(l->buf, cap);
        l->cap = cap;
    }
    memcpy(l->buf + l->len, b, n);
    l->len += n;
    l->buf[l->len] = '\0';
    return (ssize_t)n;
}

/* Empties the log and sends the product's errors to it. */
static inline void fuzz_log_start(void)
{
    static FILE *f;
    if (!f) {
        cookie_io_functions_t io = {NULL, fuzz_log_write, NULL, NULL};
        f = fopencookie(&fuzz_log, "w", io);
        if (!f)
            abort();
    }
    fflush(f);
    fuzz_log.len = 0;
    if (fuzz_log.buf)
        fuzz_log.buf[0] = '\0';
    ms_error_stream(f);
}

/* Errors back to stderr; returns the log (NUL-terminated, owned here). */
static inline const char *fuzz_log_end(void)
{
    fflush(ms_error_file());
    ms_error_stream(NULL);
    return fuzz_log.buf ? fuzz_log.buf : "";
}

static int fuzz_fail(const char *fmt, ...) MS_PRINTF(1, 2);
static int fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fuzz_why, sizeof fuzz_why, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- manifest ---- */

#define FUZZ_MANIFEST_PATH "fuzz.yaml"

/* "fuzz.yaml:LINE:COL: message\n" with LINE, COL >= 1; returns the next line or NULL. */
static inline const char *fuzz_manifest_line_ok(const char *s)
{
    size_t k = strlen(FUZZ_MANIFEST_PATH);
    if (strncmp(s, FUZZ_MANIFEST_PATH ":", k + 1))
        return NULL;
    s += k + 1;
    for (int field = 0; field < 2; field++) {
        if (*s < '1' || *s > '9')
            return NULL;
        while (*s >= '0' && *s <= '9')
            s++;
        if (*s++ != ':')
            return NULL;
    }
    if (*s++ != ' ' || *s == '\n' || !*s)
        return NULL;
    const char *nl = strchr(s, '\n');
    return nl ? nl + 1 : NULL;
}

static inline int fuzz_manifest_check(const ms_manifest *m)
{
    if (!m->path || strcmp(m->path, FUZZ_MANIFEST_PATH) || !m->name || !m->name[0] || !m->data_dir ||
        !m->data_dir[0])
        return fuzz_fail("manifest: success without path, name or data_dir");
    if (m->train < 1 || m->train > MS_MAX_TRAIN || m->val < 1 || m->val > MS_MAX_VAL)
        return fuzz_fail("manifest: data.train %d or data.val %d out of range", m->train, m->val);
    if (m->nvariants < 1 || !m->variants)
        return fuzz_fail("manifest: success without variants");
    long long runs = 0;
    for (int i = 0; i < m->nvariants; i++) {
        const ms_variant *v = &m->variants[i];
        if (!v->name || !v->name[0] || !v->task || v->nseeds < 1 || !v->seeds || v->line < 1 ||
            v->col < 1)
            return fuzz_fail("manifest: variant %d incomplete", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(m->variants[j].name, v->name))
                return fuzz_fail("manifest: duplicate variant name '%s' accepted", v->name);
        runs += v->nseeds;
    }
    if (runs > MS_MANIFEST_MAX_RUNS)
        return fuzz_fail("manifest: %lld runs accepted", runs);
    if (m->nplots < 0 || (m->nplots > 0 && !m->plots))
        return fuzz_fail("manifest: bad plot count %d", m->nplots);
    for (int i = 0; i < m->nplots; i++) {
        const ms_plot *p = &m->plots[i];
        if (!p->name || !p->title || p->nvariants < 1 || !p->variants || p->reference < -1 ||
            p->reference >= p->nvariants || p->npanels < 1 || p->npanels > MS_PLOT_MAX_PANELS)
            return fuzz_fail("manifest: plot %d inconsistent", i);
        for (int j = 0; j < p->nvariants; j++) {
            int found = 0;
            for (int k = 0; k < m->nvariants && !found; k++)
                found = p->variants[j] && !strcmp(p->variants[j], m->variants[k].name);
            if (!found)
                return fuzz_fail("manifest: plot %d names an unknown variant", i);
        }
        for (int j = 0; j < p->npanels; j++) {
            const ms_plot_panel *pn = &p->panels[j];
            if (pn->nmetrics < 1 || pn->nmetrics > MS_METRIC_N)
                return fuzz_fail("manifest: plot %d panel %d has %d metrics", i, j, pn->nmetrics);
            for (int k = 0; k < pn->nmetrics; k++)
                if ((unsigned)pn->metrics[k] >= MS_METRIC_N ||
                    ms_metric_is_acc(pn->metrics[k]) != ms_metric_is_acc(pn->metrics[0]))
                    return fuzz_fail("manifest: plot %d panel %d: bad metric", i, j);
        }
    }
    ms_run_spec *r = NULL;
    int n = ms_manifest_expand(m, &r);
    int rc = 0;
    if (n != runs)
        rc = fuzz_fail("manifest: expand gave %d runs, expected %lld", n, runs);
    for (int i = 0; rc == 0 && i < n; i++)
        if (ms_config_validate(&r[i].cfg))
            rc = fuzz_fail("manifest: run %d has an invalid configuration", i);
    free(r);
    return rc;
}

/* Parse one manifest; see the top of the file. */
static inline int fuzz_manifest_one(const uint8_t *data, size_t size)
{
    ms_manifest m;
    fuzz_why[0] = '\0';
    fuzz_log_start();
    int rc = ms_manifest_parse(FUZZ_MANIFEST_PATH, (const char *)data, size, &m, 0);
    const char *log = fuzz_log_end();
    if (rc == 0) {
        int bad = *log ? fuzz_fail("manifest: success, but printed: %.200s", log)
                       : fuzz_manifest_check(&m);
        ms_manifest_release(&m);
        return bad;
    }
    if (rc != -1)
        return fuzz_fail("manifest: returned %d", rc);
    if (m.path || m.name || m.data_dir || m.variants || m.nvariants || m.plots || m.nplots)
        return fuzz_fail("manifest: failure left the manifest unreleased");
    ms_manifest_release(&m); /* documented as safe */
    if (!*log)
        return fuzz_fail("manifest: failed without a message");
    for (const char *s = log; *s;)
        if (!(s = fuzz_manifest_line_ok(s)))
            return fuzz_fail("manifest: malformed message in: %.300s", log);
    return 0;
}

/* ---- IDX ---- */

/* A per-process file name, in memory when /dev/shm is there. */
static inline const char *fuzz_idx_path(void)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = "/dev/shm";
        if (access(dir, W_OK) != 0)
            dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(path, sizeof path, "%s/mlpsweep-fuzz-%ld.idx", dir, (long)getpid());
    }
    return path;
}

static inline int fuzz_write_file(const char *path, const uint8_t *p, size_t n, int gz)
{
    if (gz) {
        gzFile g = gzopen(path, "wb1");
        if (!g)
            return fuzz_fail("idx: cannot create '%s'", path);
        int w = n ? gzwrite(g, p, (unsigned)n) : 0;
        if (gzclose(g) != Z_OK || w != (int)n)
            return fuzz_fail("idx: cannot write '%s'", path);
        return 0;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return fuzz_fail("idx: cannot create '%s'", path);
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w <= 0) {
            close(fd);
            return fuzz_fail("idx: cannot write '%s'", path);
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? 0 : fuzz_fail("idx: cannot write '%s'", path);
}

static inline uint32_t fuzz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A successful read: checked against the bytes when we know them (plain
 * content), otherwise every byte is touched so ASan checks the length. */
static inline int fuzz_idx_check(const ms_idx *x, int ndims, const uint8_t *p, size_t n, int known)
{
    if (x->ndims != ndims || !x->data)
        return fuzz_fail("idx: success with ndims %d (expected %d) or no data", x->ndims, ndims);
    if (ndims == 3 && (x->dims[1] != 28 || x->dims[2] != 28))
        return fuzz_fail("idx: success with %ux%u images", x->dims[1], x->dims[2]);
    size_t items = x->dims[0] * (size_t)(ndims == 3 ? 784 : 1), hdr = 4 + 4 * (size_t)ndims;
    if (known) {
        if (n != hdr + items || p[2] != 8 || p[3] != ndims || fuzz_be32(p + 4) != x->dims[0])
            return fuzz_fail("idx: success on %zu bytes, header says %zu", n, hdr + items);
        if (memcmp(x->data, p + hdr, items))
            return fuzz_fail("idx: data differ from the file");
        return 0;
    }
    volatile unsigned sum = 0;
    for (size_t i = 0; i < items; i++)
        sum += x->data[i];
    (void)sum;
    return 0;
}

/* Read one IDX file; see the top of the file. */
static inline int fuzz_idx_one(const uint8_t *data, size_t size)
{
    fuzz_why[0] = '\0';
    if (size == 0)
        return 0;
    int gz = data[0] & 1, ndims = data[0] & 2 ? 3 : 1;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    const char *path = fuzz_idx_path();
    if (fuzz_write_file(path, p, n, gz)) {
        unlink(path);
        return -1;
    }
    ms_idx x;
    memset(&x, 0xA5, sizeof x);
    fuzz_log_start();
    int rc = ms_idx_read(path, ndims, &x);
    const char *log = fuzz_log_end();
    unlink(path);
    if (rc == 0) {
        /* Content starting with 0x1f is gzip (or half of its magic) to zlib. */
        int known = gz || n == 0 || p[0] != 0x1f;
        int bad = *log ? fuzz_fail("idx: success, but printed: %.200s", log)
                       : fuzz_idx_check(&x, ndims, p, n, known);
        ms_idx_release(&x);
        return bad;
    }
    if (rc != -1)
        return fuzz_fail("idx: returned %d", rc);
    if (x.data)
        return fuzz_fail("idx: failure left data behind");
    /* Exactly one line, "mlpsweep: ...", naming the file. */
    const char *nl = strchr(log, '\n');
    if (strncmp(log, "mlpsweep: ", 10) || !nl || nl[1] || !strstr(log, path))
        return fuzz_fail("idx: malformed message: %.300s", log);
    return 0;
}

/* ---- checkpoint ---- */

/* The run whose checkpoints are fuzzed: one hidden layer of 4 (3180
 * weights), 64 images, 2 steps an epoch. The trainer is built, never
 * trained: restore needs no data. */
static ms_config fuzz_ck_config(void)
{
    ms_config c;
    ms_config_default(&c);
    c.hidden[0] = 4;
    c.train_size = c.val_size = 64;
    c.epochs = 5;
    c.early_stop = 3;
    return c;
}

static int fuzz_checkpoint_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    uint8_t *blob = ms_malloc(n ? n : 1);
    memcpy(blob, data + 1, n);
    ms_ck_header h;
    if ((data[0] & 1) && n >= sizeof h) {
        memcpy(&h, blob, sizeof h);
        h.checksum = ms_checkpoint_checksum(blob, n);
        memcpy(blob, &h, sizeof h);
    }
    static ms_data none; /* 64 images that are never read */
    none.train.n = none.val.n = 64;
    ms_config c = fuzz_ck_config();
    ms_trainer t;
    if (ms_trainer_init(&t, &c, &none, 1) < 0)
        abort();
    size_t np = t.shape.nparams;
    float *before = ms_malloc(2 * np * sizeof *before);
    memcpy(before, t.params, np * sizeof *before);
    memcpy(before + np, t.velocity, np * sizeof *before);
    char why[200];
    memset(why, 0, sizeof why);
    int rc = ms_trainer_restore(&t, blob, n, why, sizeof why), bad = 0;
    if (rc == 0) { /* what restore promises of an accepted checkpoint */
        memcpy(&h, blob, sizeof h);
        int64_t per_epoch = c.train_size / c.batch;
        if (why[0])
            bad = fuzz_fail("checkpoint: accepted, with a reason: %.100s", why);
        else if (h.version == MS_CK_VERSION && h.checksum != ms_checkpoint_checksum(blob, n))
            bad = fuzz_fail("checkpoint: accepted with a wrong checksum");
        else if (t.loss_n < 0 || t.loss_n > per_epoch || !isfinite(t.loss_acc))
            bad = fuzz_fail("checkpoint: accepted a training-loss sum of %lld steps",
                            (long long)t.loss_n);
        else if (t.epoch < 0 || t.epoch > c.epochs || t.step < 0 ||
                 t.step > (int64_t)t.epoch * per_epoch)
            bad = fuzz_fail("checkpoint: accepted epoch %d step %lld", t.epoch, (long long)t.step);
        else if ((int)t.stop < MS_STOP_NONE || (int)t.stop > MS_STOP_DIVERGED)
            bad = fuzz_fail("checkpoint: accepted stop %d", (int)t.stop);
        else if (t.window.count < 0 || t.window.count > t.window.cap || t.window.pos < 0 ||
                 (t.window.cap && t.window.pos >= t.window.cap))
            bad = fuzz_fail("checkpoint: accepted a broken window");
        else if (!(t.rng.s[0] | t.rng.s[1] | t.rng.s[2] | t.rng.s[3]))
            bad = fuzz_fail("checkpoint: accepted an all-zero random state");
    } else if (rc != -1) {
        bad = fuzz_fail("checkpoint: returned %d", rc);
    } else if (!why[0] || memchr(why, '\n', sizeof why)) {
        bad = fuzz_fail("checkpoint: refused without a one-line reason");
    } else if (memcmp(before, t.params, np * sizeof *before) ||
               memcmp(before + np, t.velocity, np * sizeof *before) || t.step || t.epoch) {
        bad = fuzz_fail("checkpoint: refused (%.100s) but the trainer changed", why);
    }
    free(before);
    free(blob);
    ms_trainer_release(&t);
    return bad;
}

/* ---- db ---- */

/* Every message printed is whole lines starting "mlpsweep: ". */
static int fuzz_lines_ok(const char *log)
{
    for (const char *l = log; *l;) {
        const char *nl = strchr(l, '\n');
        if (strncmp(l, "mlpsweep: ", 10) || !nl)
            return 0;
        l = nl + 1;
    }
    return 1;
}

static int fuzz_db_one(const uint8_t *data, size_t size)
{
    static char path[512];
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                          : getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(path, sizeof path, "%s/mlpsweep-fuzz-%ld.db", dir, (long)getpid());
    }
    char side[600];
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
    int bad = 0;
    fuzz_log_start();
    ms_store *st;
    if (ms_store_open(path, MS_STORE_READONLY, &st) == 0) {
        for (int t = MS_TABLE_SUMMARY; t <= MS_TABLE_EVALS; t++)
            for (int fm = MS_FORMAT_CSV; fm <= MS_FORMAT_JSON; fm++) {
                char *out = NULL;
                size_t len = 0;
                const ms_export_opts o = {.table = (ms_table)t, .format = (ms_format)fm,
                                          .columns = "all"};
                int rc = ms_export(st, NULL, &o, &out, &len);
                if (rc == 0 && (!out || strlen(out) != len))
                    bad = fuzz_fail("db: export %d/%d: length %zu for a %zu-byte text", t, fm, len,
                                    out ? strlen(out) : 0);
                if (rc != 0 && rc != -1)
                    bad = fuzz_fail("db: export returned %d", rc);
                free(out);
            }
        char *name = NULL;
        if (ms_query_sweep(st, NULL, &name) == 0) {
            ms_snapshot snap;
            if (ms_snapshot_read(st, name, ~0u, &snap) == 0)
                ms_snapshot_release(&snap);
        }
        free(name);
        ms_store_check(st);
        ms_store_close(st);
    }
    const char *log = fuzz_log_end();
    if (!bad && !fuzz_lines_ok(log))
        bad = fuzz_fail("db: malformed message: %.300s", log);
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return bad;
}

/* ---- merge ---- */

/* The sweep of the seed corpus (tests/fuzz/corpus/merge/: `run --shard I/2
 * --data DIR` of this text as a file, then journal_mode DELETE): the valid
 * shard holds its runs, pending, so a mutated seed's runs meet theirs. */
#define FUZZ_MERGE_MANIFEST                                                                        \
    "name: fuzz\n"                                                                                 \
    "data:\n  train: 500\n  val: 100\n"                                                            \
    "defaults:\n  hidden: [2]\n  epochs: 2\n"                                                      \
    "variants:\n"                                                                                  \
    "  - name: v\n    task: \"1\"\n"                                                               \
    "  - name: w\n    hidden: [1, 1]\n    seeds: [1, 2]\n"

/* The harness's own folder, made once; every file it writes is in it. */
static char fuzz_merge_dir[256];

static inline void fuzz_merge_file(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", fuzz_merge_dir, name);
}

/* The folder's files, and the folder, at exit. */
static inline void fuzz_merge_cleanup(void)
{
    DIR *d = opendir(fuzz_merge_dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[512];
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        fuzz_merge_file(p, sizeof p, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(fuzz_merge_dir);
}

/* A database and its companions gone. */
static inline void fuzz_merge_remove(const char *name)
{
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s%s", fuzz_merge_dir, name, suffix[i]);
        unlink(p);
    }
}

/* A whole file into memory (*n its size), or NULL. */
static inline uint8_t *fuzz_merge_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *b = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap)
            b = ms_realloc(b, cap = cap ? 2 * cap : 1 << 16);
        size_t r = fread(b + len, 1, cap - len, f);
        if (!r)
            break;
        len += r;
    }
    fclose(f);
    *n = len;
    return b;
}

/* Once: the folder, valid.db (the manifest's runs, pending) and base.db
 * (valid.db merged: the existing output of mode bit 1, kept as bytes). */
static uint8_t *fuzz_merge_base;
static size_t fuzz_merge_base_len;

static inline void fuzz_merge_init(void)
{
    const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fuzz_merge_dir, sizeof fuzz_merge_dir, "%s/mlpsweep-fuzz-merge-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : tmp);
    if (!mkdtemp(fuzz_merge_dir))
        abort();
    atexit(fuzz_merge_cleanup);
    char valid[512], base[512];
    fuzz_merge_file(valid, sizeof valid, "valid.db");
    fuzz_merge_file(base, sizeof base, "base.db");
    ms_manifest m;
    ms_store *st;
    int64_t sweep = 0;
    const char *text = FUZZ_MERGE_MANIFEST;
    if (ms_manifest_parse("fuzz.yaml", text, strlen(text), &m, 0) ||
        ms_store_open(valid, MS_STORE_CREATE, &st) ||
        ms_store_sweep(st, m.name, "fuzz.yaml", m.text, NULL, &sweep))
        abort();
    ms_run_spec *specs = NULL;
    int n = ms_manifest_expand(&m, &specs);
    ms_run_info *info = ms_calloc((size_t)n, sizeof *info);
    if (ms_store_register(st, sweep, specs, n, info))
        abort();
    free(info);
    free(specs);
    ms_store_close(st);
    ms_manifest_release(&m);
    const char *one[1] = {valid};
    if (ms_merge(base, one, 1, NULL))
        abort();
    fuzz_merge_base = fuzz_merge_slurp(base, &fuzz_merge_base_len);
    if (!fuzz_merge_base)
        abort();
    fuzz_merge_remove("base.db");
}

/* The files a merge may leave in the folder: the databases and their
 * companions. Anything else was written where it should not be. */
static inline int fuzz_merge_folder_ok(void)
{
    static const char *const names[] = {"valid.db", "shard.db", "out.db", "again.db"};
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
    DIR *d = opendir(fuzz_merge_dir);
    int bad = !d;
    for (struct dirent *e; !bad && (e = readdir(d));) {
        int known = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
        for (int i = 0; i < 4 && !known; i++)
            for (int j = 0; j < 4 && !known; j++) {
                char want[64];
                snprintf(want, sizeof want, "%s%s", names[i], suffix[j]);
                known = !strcmp(e->d_name, want);
            }
        if (!known)
            bad = fuzz_fail("merge: wrote '%.100s' beside its output", e->d_name);
    }
    if (d)
        closedir(d);
    return bad;
}

static inline int fuzz_merge_one(const uint8_t *data, size_t size)
{
    if (!fuzz_merge_dir[0])
        fuzz_merge_init();
    fuzz_why[0] = '\0';
    if (size < 1)
        return 0;
    int with_valid = data[0] & 1, existing = data[0] & 2, bad = 0;
    char shard[512], valid[512], out[512], again[512];
    fuzz_merge_file(shard, sizeof shard, "shard.db");
    fuzz_merge_file(valid, sizeof valid, "valid.db");
    fuzz_merge_file(out, sizeof out, "out.db");
    fuzz_merge_file(again, sizeof again, "again.db");
    FILE *f = fopen(shard, "wb");
    if (!f || fwrite(data + 1, 1, size - 1, f) != size - 1 || fclose(f) != 0)
        abort();
    if (existing) {
        f = fopen(out, "wb");
        if (!f || fwrite(fuzz_merge_base, 1, fuzz_merge_base_len, f) != fuzz_merge_base_len ||
            fclose(f) != 0)
            abort();
    }
    const char *shards[2] = {valid, shard};
    ms_merge_stats stats;
    memset(&stats, 0xA5, sizeof stats);
    fuzz_log_start();
    int rc = ms_merge(out, shards + !with_valid, 1 + with_valid, &stats);
    const char *log = fuzz_log_end();
    if (!fuzz_lines_ok(log))
        bad = fuzz_fail("merge: malformed message: %.300s", log);
    else if (rc != 0 && rc != -1)
        bad = fuzz_fail("merge: returned %d", rc);
    else if (rc == -1 && !*log)
        bad = fuzz_fail("merge: failed without a message");
    else if (rc == -1 && !existing && access(out, F_OK) == 0)
        bad = fuzz_fail("merge: failed (%.200s) but created its output", log);
    else if (rc == -1 && existing) {
        size_t n = 0;
        uint8_t *now = fuzz_merge_slurp(out, &n);
        if (!now || n != fuzz_merge_base_len || memcmp(now, fuzz_merge_base, n))
            bad = fuzz_fail("merge: failed (%.200s) but changed its output", log);
        free(now);
    } else if (rc == 0 && (stats.sweeps < 0 || stats.added < 0 || stats.updated < 0 ||
                           stats.same < 0 || stats.missing < 0))
        bad = fuzz_fail("merge: success with counts %d %d %d %d %d", stats.sweeps, stats.added,
                        stats.updated, stats.same, stats.missing);
    else if (rc == 0) {
        /* what it merged passes its own checks: merging the output again works */
        const char *merged[1] = {out};
        fuzz_log_start();
        int again_rc = ms_merge(again, merged, 1, NULL);
        log = fuzz_log_end();
        if (again_rc)
            bad = fuzz_fail("merge: its output cannot be merged: %.300s", log);
    }
    if (!bad)
        bad = fuzz_merge_folder_ok();
    fuzz_merge_remove("shard.db");
    fuzz_merge_remove("out.db");
    fuzz_merge_remove("again.db");
    return bad;
}

/* ---- the libFuzzer entry point of a harness: fuzz_<name>_one on each input,
 * abort (libFuzzer's finding) on a broken promise. ---- */
#define FUZZ_HARNESS(name)                                                                         \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        if (fuzz_##name##_one(data, size)) {                                                       \
            fprintf(stderr, "fuzz_" #name ": %s\n", fuzz_why);                                     \
            abort();                                                                               \
        }                                                                                          \
        return 0;                                                                                  \
    }

#endif
