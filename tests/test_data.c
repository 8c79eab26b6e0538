/* Tests for ms_data: the IDX reader on good and broken files, and the real
 * MNIST preprocessing. */
#include "ms_test.h"

#include <sys/stat.h>

#include "ms_data.h"

#include <math.h>
#include <time.h>
#include <unistd.h>

static char *path_of(const char *name)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", ms_group_tmp, name);
    return buf;
}

/* Reads path expecting failure; returns the message (caller frees). */
static char *read_fails(const char *path, int ndims)
{
    ms_capture c;
    ms_idx x;
    ms_capture_start(&c);
    int rc = ms_idx_read(path, ndims, &x);
    char *msg = ms_capture_end(&c);
    assert_int_equal(rc, -1);
    assert_null(x.data);
    return msg;
}

static void expect_error(const char *path, int ndims, const char *fragment)
{
    char *msg = read_fails(path, ndims);
    if (!strstr(msg, fragment) || !strstr(msg, path))
        fail_msg("message '%s' lacks '%s' or the path", msg, fragment);
    assert_non_null(strchr(msg, '\n'));
    assert_ptr_equal(strchr(msg, '\n'), msg + strlen(msg) - 1); /* one line */
    free(msg);
}

static void test_idx_raw_and_gz(void **state)
{
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        uint8_t *b;
        size_t n = ms_make_idx(1, 5, &b);
        char *p = path_of(gz ? "img.gz" : "img");
        ms_write_bytes(p, b, n, gz);
        ms_idx x;
        assert_int_equal(ms_idx_read(p, 3, &x), 0);
        assert_int_equal(x.ndims, 3);
        assert_int_equal(x.dims[0], 5);
        assert_int_equal(x.dims[1], 28);
        assert_memory_equal(x.data, b + 16, 5 * 784);
        ms_idx_release(&x);
        free(b);
    }
}

static void test_idx_bad_magic(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(0, 10, &b);
    b[2] = 0x0d; /* float type */
    ms_write_bytes(path_of("magic"), b, n, 0);
    expect_error(path_of("magic"), 1, "bad magic 00000d01");
    free(b);
}

static void test_idx_wrong_kind(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(0, 10, &b);
    ms_write_bytes(path_of("labels-as-images"), b, n, 0);
    expect_error(path_of("labels-as-images"), 3, "has 1 dimensions, expected 3 (an image file)");
    free(b);
}

static void test_idx_truncated(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(1, 4, &b);
    ms_write_bytes(path_of("trunc"), b, n - 100, 0);
    expect_error(path_of("trunc"), 3, "truncated: header says 3136 bytes of data, file has 3036");
    ms_write_bytes(path_of("trunc.gz"), b, n - 1, 1);
    expect_error(path_of("trunc.gz"), 3, "truncated: header says 3136 bytes of data, file has 3135");
    ms_write_bytes(path_of("hdr"), b, 10, 0);
    expect_error(path_of("hdr"), 3, "truncated header");
    ms_write_bytes(path_of("tiny"), b, 2, 0);
    expect_error(path_of("tiny"), 3, "too short for an IDX header (2 bytes)");
    free(b);
}

static void test_idx_trailing(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(0, 10, &b);
    b = realloc(b, n + 3);
    memset(b + n, 0, 3);
    ms_write_bytes(path_of("trail"), b, n + 3, 0);
    expect_error(path_of("trail"), 1, "trailing bytes: header says 10 bytes of data, file has 13");
    free(b);
}

static void test_idx_corrupt_gzip(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(1, 50, &b);
    ms_write_bytes(path_of("c.gz"), b, n, 1);
    /* Cut the compressed stream in half: the data ends early. */
    FILE *f = fopen(path_of("c.gz"), "rb");
    uint8_t z[65536];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    ms_write_bytes(path_of("half.gz"), z, zn / 2, 0);
    char *msg = read_fails(path_of("half.gz"), 3);
    assert_non_null(strstr(msg, "half.gz"));
    free(msg);
    /* Flip a byte inside the deflate data: CRC or stream error. */
    z[zn / 2] ^= 0x55;
    ms_write_bytes(path_of("flip.gz"), z, zn, 0);
    msg = read_fails(path_of("flip.gz"), 3);
    assert_non_null(strstr(msg, "flip.gz"));
    free(msg);
    free(b);
}

/* Junk after the gzip stream (zlib's gzread ignored it), a FIFO (reading
 * it blocked for ever) and a device: refused with a message. A header that
 * promises more than a raw file holds is refused before any allocation. */
static void test_idx_junk_fifo_device(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(0, 10, &b);
    ms_write_bytes(path_of("j.gz"), b, n, 1);
    FILE *f = fopen(path_of("j.gz"), "ab");
    fputs("junk", f);
    fclose(f);
    expect_error(path_of("j.gz"), 1, "unexpected data after the gzip stream");
    /* the same bytes without the junk read fine */
    ms_write_bytes(path_of("ok.gz"), b, n, 1);
    ms_idx x;
    assert_int_equal(ms_idx_read(path_of("ok.gz"), 1, &x), 0);
    assert_int_equal(x.dims[0], 10);
    ms_idx_release(&x);
    free(b);
    assert_int_equal(mkfifo(path_of("fifo"), 0644), 0);
    expect_error(path_of("fifo"), 1, "is not a regular file");
    expect_error("/dev/zero", 3, "is not a regular file");
    /* 2^30 images announced by a 16-byte file */
    uint8_t big[16] = {0, 0, 8, 3, 0x40, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
    ms_write_bytes(path_of("big"), big, sizeof big, 0);
    expect_error(path_of("big"), 3, "dimensions too large");
    big[4] = 0;
    big[5] = 1; /* 65536 images: 51 MB promised, none there */
    ms_write_bytes(path_of("promise"), big, sizeof big, 0);
    expect_error(path_of("promise"), 3, "truncated: header says 51380224 bytes of data, file has 0");
}

static void test_idx_missing(void **state)
{
    (void)state;
    char *msg = read_fails(path_of("nope"), 1);
    assert_non_null(strstr(msg, "cannot open"));
    free(msg);
}

static void test_idx_not_28x28(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = ms_make_idx(1, 2, &b);
    ms_put_be32(b + 8, 14);
    ms_put_be32(b + 12, 56);
    ms_write_bytes(path_of("shape"), b, n, 0);
    expect_error(path_of("shape"), 3, "images are 14x56, expected 28x28");
    free(b);
}

static void test_dataset_checks(void **state)
{
    (void)state;
    char *dir = ms_tmpdir();
    ms_make_dataset(dir, 100, 30, 0);
    ms_data d;
    assert_int_equal(ms_data_load(dir, 100, 30, &d), 0);
    assert_int_equal(d.train.n, 100);
    assert_int_equal(d.val.labels[13], 3);
    ms_data_release(&d);

    /* Fewer images than requested. */
    ms_capture c;
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 101, 30, &d), -1);
    char *msg = ms_capture_end(&c);
    assert_non_null(strstr(msg, "101 images requested, the file has 100"));
    free(msg);

    /* Labels disagree in count with images. */
    uint8_t *b;
    size_t n = ms_make_idx(0, 99, &b);
    char p[4096];
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir);
    ms_write_bytes(p, b, n, 0);
    free(b);
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 50, 30, &d), -1);
    msg = ms_capture_end(&c);
    assert_non_null(strstr(msg, "has 100 images but"));
    assert_non_null(strstr(msg, "has 99 labels"));
    free(msg);

    /* A label out of range. */
    n = ms_make_idx(0, 100, &b);
    b[8 + 42] = 10;
    ms_write_bytes(p, b, n, 0);
    free(b);
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 50, 30, &d), -1);
    msg = ms_capture_end(&c);
    assert_non_null(strstr(msg, "label 10 of item 42 is out of range 0..9"));
    free(msg);

    /* A missing file names what to do. */
    assert_int_equal(unlink(p), 0);
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 50, 30, &d), -1);
    msg = ms_capture_end(&c);
    assert_non_null(strstr(msg, "run 'make data'"));
    free(msg);
    ms_rmtree(dir);
    free(dir);
}

static void test_gather_bias(void **state)
{
    (void)state;
    char *dir = ms_tmpdir();
    ms_make_dataset(dir, 10, 10, 1);
    ms_data d;
    assert_int_equal(ms_data_load(dir, 10, 10, &d), 0);
    double X[2 * MS_INPUT];
    int32_t idx[2] = {3, 7};
    ms_data_gather_d(&d, &d.train, idx, 0, 2, X);
    for (int r = 0; r < 2; r++) {
        assert_true(X[r * MS_INPUT + MS_PIXELS] == 1.0);
        for (int p = 0; p < MS_PIXELS; p++) {
            uint8_t px = (uint8_t)((idx[r] * 7 + p) % 256);
            assert_true(X[r * MS_INPUT + p] == (px - d.mean) / d.std);
        }
    }
    ms_data_release(&d);
    ms_rmtree(dir);
    free(dir);
}

/* Lines of the digest cache (its text in *text when asked; caller frees). */
static int cache_lines(const char *path, char **text)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    char *all = NULL;
    size_t len = 0;
    FILE *m = text ? open_memstream(&all, &len) : NULL;
    while (f && (c = getc(f)) != EOF) {
        n += c == '\n';
        if (m)
            putc(c, m);
    }
    if (f)
        fclose(f);
    if (m) {
        fclose(m);
        *text = all;
    }
    return n;
}

/* The digest cache: a file read whole is remembered by its stat, a known
 * file is read only as far as the images used and its sums are taken from
 * the cache, a changed file is read whole again, a file written in the
 * last two seconds is not remembered, and an unusable cache is no error. */
static void test_digest_cache(void **state)
{
    (void)state;
    char cachedir[4096], cache[8192];
    snprintf(cachedir, sizeof cachedir, "%s/xdg", ms_group_tmp);
    snprintf(cache, sizeof cache, "%s/mlpsweep/digests", cachedir);
    setenv("XDG_CACHE_HOME", cachedir, 1);
    char *dir = ms_tmpdir();
    ms_make_dataset(dir, 100, 30, 1);
    /* a full cache of the longest lines there can be (64-bit device and
     * inode numbers): rewriting it must not overrun its buffer (ASan) */
    char mdir[8300];
    snprintf(mdir, sizeof mdir, "%s/mlpsweep", cachedir);
    assert_int_equal(ms_mkdir_p(mdir), 0);
    FILE *full = fopen(cache, "w");
    assert_non_null(full);
    for (int i = 0; i < 64; i++)
        fprintf(full, "18446744073709551615 %d -9223372036854775807 -9223372036854775807 "
                      "-9223372036854775807 -9223372036854775807 -9223372036854775807 "
                      "3 4294967295 4294967295 4294967295 ffffffff ffffffff\n",
                i);
    fclose(full);

    /* just written: read whole, not remembered (racy) */
    ms_data d;
    assert_int_equal(ms_data_load(dir, 10, 5, &d), 0);
    uint64_t first = d.identity;
    ms_data_release(&d);
    assert_int_equal(cache_lines(cache, NULL), 64); /* as it was */

    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    while (time(NULL) < st.st_ctim.tv_sec + 3)
        usleep(100 * 1000);
    assert_int_equal(ms_data_load(dir, 10, 5, &d), 0);
    assert_true(d.identity == first);
    ms_data_release(&d);
    char *text = NULL;
    assert_int_equal(cache_lines(cache, &text), 64); /* the newest 64: our 4 last */
    assert_non_null(strstr(text, " 3 100 28 28 "));

    /* known: the same identity and images, the sums from the cache */
    assert_int_equal(ms_data_load(dir, 10, 5, &d), 0);
    assert_true(d.identity == first);
    assert_int_equal(d.train.n, 10);
    assert_int_equal(d.train.pixels[3 * 784 + 5], (3 * 7 + 5) % 256);
    assert_int_equal(d.val.labels[4], 4);
    ms_data_release(&d);
    char *forged = strdup(text); /* every CRC-32 and Adler-32 changed */
    for (char *l = forged; *l; l = strchr(l, '\n') + 1) {
        char *end = strchr(l, '\n');
        end[-1] = end[-1] == '0' ? '1' : '0';
        end[-10] = end[-10] == '0' ? '1' : '0';
    }
    ms_write_text(cache, forged);
    assert_int_equal(ms_data_load(dir, 10, 5, &d), 0);
    assert_true(d.identity != first);
    ms_data_release(&d);
    ms_write_text(cache, text);

    /* changed (a label the runs do not use): read whole, the fault found */
    uint8_t *b;
    size_t n = ms_make_idx(0, 100, &b);
    b[8 + 50] = 10;
    char p[4096];
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    ms_write_bytes(p, b, n, 1);
    free(b);
    ms_capture c;
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 10, 5, &d), -1);
    char *msg = ms_capture_end(&c);
    assert_non_null(strstr(msg, "label 10 of item 50 is out of range"));
    free(msg);

    /* a cache that cannot be written: loads as before, silently */
    snprintf(p, sizeof p, "%s/file", ms_group_tmp);
    ms_write_text(p, "not a folder\n");
    setenv("XDG_CACHE_HOME", p, 1);
    ms_make_dataset(dir, 100, 30, 0);
    ms_capture_start(&c);
    assert_int_equal(ms_data_load(dir, 10, 5, &d), 0);
    msg = ms_capture_end(&c);
    assert_string_equal(msg, "");
    free(msg);
    ms_data_release(&d);
    unsetenv("XDG_CACHE_HOME");
    free(text);
    free(forged);
    ms_rmtree(dir);
    free(dir);
}

/* The real files: first labels and the normalisation of the first 20,000. */
static void test_real_mnist(void **state)
{
    (void)state;
    ms_data d;
    assert_int_equal(ms_data_load(MS_DATA_DIR, 20000, 10000, &d), 0);
    const uint8_t train0[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}, val0[5] = {7, 2, 1, 0, 4};
    assert_memory_equal(d.train.labels, train0, 10);
    assert_memory_equal(d.val.labels, val0, 5);
    assert_true(fabs(d.mean - 33.55274553571429) < 1e-12);
    assert_true(fabs(d.std - 78.87550070784701) < 1e-12);
    ms_data_release(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_raw_and_gz),   cmocka_unit_test(test_idx_bad_magic),
        cmocka_unit_test(test_idx_wrong_kind),   cmocka_unit_test(test_idx_truncated),
        cmocka_unit_test(test_idx_trailing),     cmocka_unit_test(test_idx_corrupt_gzip),
        cmocka_unit_test(test_idx_junk_fifo_device),
        cmocka_unit_test(test_idx_missing),      cmocka_unit_test(test_idx_not_28x28),
        cmocka_unit_test(test_dataset_checks),   cmocka_unit_test(test_gather_bias),
        cmocka_unit_test(test_digest_cache),     cmocka_unit_test(test_real_mnist),
    };
    return cmocka_run_group_tests_name("data", tests, ms_group_tmp_setup, ms_group_tmp_teardown);
}
