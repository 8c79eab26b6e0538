/* ms_data: IDX reading (raw or gzip) and MNIST preprocessing. */
#define _POSIX_C_SOURCE 200809L
#include "ms_data.h"
#include "ms_config.h"
#include "ms_util.h"
#include "digests.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAX_BYTES ((size_t)1 << 31) /* far above MNIST; bounds a hostile header */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An IDX file's bytes, raw or gzip (by its magic, 1f 8b), read in order:
 * the header is checked before the data is read, and exactly as much data
 * as it announces is kept. */
typedef struct idx_src {
    const char *path;
    FILE *f;
    struct stat st;  /* of the file as opened */
    off_t size;      /* of the file */
    int gz, ended;   /* a gzip stream; its end was reached */
    z_stream z;
    uint8_t in[1 << 16];
} idx_src;

static int src_open(idx_src *s, const char *path)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    struct stat st;
    if (stat(path, &st) != 0)
        return ms_error("cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) /* a FIFO would block, a device never end */
        return ms_error("'%s' is not a regular file", path);
    s->f = fopen(path, "rb");
    /* the file as opened, for its size and the digest cache's key */
    if (!s->f || fstat(fileno(s->f), &s->st) != 0) {
        int e = errno;
        if (s->f)
            fclose(s->f);
        return ms_error("cannot open '%s': %s", path, strerror(e));
    }
    s->size = s->st.st_size;
    int c0 = getc(s->f), c1 = getc(s->f);
    s->gz = c0 == 0x1f && c1 == 0x8b;
    rewind(s->f);
    if (s->gz && inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
        fclose(s->f);
        return ms_error("'%s': cannot start gzip decompression", path);
    }
    return 0;
}

static void src_close(idx_src *s)
{
    if (s->gz)
        inflateEnd(&s->z);
    if (s->f)
        fclose(s->f);
}

/* Up to n bytes into buf (NULL: count them only); the count read (less than
 * n at the end), or -1 on corrupt data or a read error (printed). */
static long src_read(idx_src *s, uint8_t *buf, size_t n)
{
    uint8_t scratch[1 << 14];
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        uint8_t *to = buf ? buf + got : scratch;
        if (!buf && want > sizeof scratch)
            want = sizeof scratch;
        if (!s->gz) {
            size_t r = fread(to, 1, want, s->f);
            got += r;
            if (r < want)
                break;
            continue;
        }
        if (s->ended)
            break;
        if (s->z.avail_in == 0) {
            s->z.next_in = s->in;
            s->z.avail_in = (uInt)fread(s->in, 1, sizeof s->in, s->f);
            if (s->z.avail_in == 0) {
                if (ferror(s->f))
                    break;
                return ms_error("'%s': corrupt or truncated gzip data (it ends early)", s->path);
            }
        }
        s->z.next_out = to;
        s->z.avail_out = (uInt)(want < (1u << 30) ? want : 1u << 30);
        uInt before = s->z.avail_out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        got += before - s->z.avail_out;
        if (rc == Z_STREAM_END) {
            s->ended = 1;
            /* MNIST files are one gzip member: anything after it is junk */
            if (s->z.avail_in > 0 || getc(s->f) != EOF)
                return ms_error("'%s': unexpected data after the gzip stream", s->path);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return ms_error("'%s': corrupt gzip data: %s", s->path,
                            s->z.msg ? s->z.msg : "inflate failed");
        }
    }
    if (ferror(s->f))
        return ms_error("cannot read '%s': %s", s->path, strerror(errno));
    return (long)got;
}

/* The header: magic, dimensions (into out->dims) and, for a raw file, its
 * size against them. *nd the number of dimensions, *items the data's bytes. */
static int read_header(idx_src *s, const char *path, int expect_ndims, ms_idx *out, int *nd,
                       uint64_t *items)
{
    uint8_t hdr[4 + 4 * 3];
    long r = src_read(s, hdr, 4);
    if (r < 0)
        return -1;
    if (r < 4)
        return ms_error("'%s': too short for an IDX header (%ld bytes)", path, r);
    /* Magic: two zero bytes, type 0x08 (unsigned byte), number of dims. */
    if (hdr[0] != 0 || hdr[1] != 0 || hdr[2] != 0x08)
        return ms_error("'%s': bad magic %02x%02x%02x%02x (not an unsigned-byte IDX file)", path,
                        hdr[0], hdr[1], hdr[2], hdr[3]);
    *nd = hdr[3];
    if (*nd != expect_ndims)
        return ms_error("'%s': has %d dimensions, expected %d (%s file)", path, *nd, expect_ndims,
                        expect_ndims == 3 ? "an image" : "a label");
    r = src_read(s, hdr + 4, 4 * (size_t)*nd);
    if (r < 0)
        return -1;
    if (r < 4 * *nd)
        return ms_error("'%s': truncated header", path);
    *items = 1;
    for (int i = 0; i < *nd; i++) {
        out->dims[i] = be32(hdr + 4 + 4 * i);
        *items *= out->dims[i];
        if (*items > IDX_MAX_BYTES)
            return ms_error("'%s': dimensions too large", path);
    }
    if (*nd == 3 && (out->dims[1] != 28 || out->dims[2] != 28))
        return ms_error("'%s': images are %ux%u, expected 28x28", path, out->dims[1],
                        out->dims[2]);
    size_t hlen = 4 + 4 * (size_t)*nd;
    if (!s->gz && (uint64_t)s->size - hlen != *items) /* known before reading a byte of it */
        return ms_error("'%s': %s: header says %llu bytes of data, file has %llu", path,
                        (uint64_t)s->size - hlen < *items ? "truncated" : "trailing bytes",
                        (unsigned long long)*items,
                        (unsigned long long)((uint64_t)s->size - hlen));
    return 0;
}

/* The data after the header: exactly `items` bytes, then the end of the
 * file (or of the gzip stream). Malloc'd; NULL after the message. */
static uint8_t *read_data(idx_src *s, const char *path, uint64_t items)
{
    /* A raw file's size was checked; a gzip stream's is known only as it
     * is read: the buffer grows with the data, so a header that promises
     * gigabytes costs nothing until they come. */
    size_t cap = s->gz && items > (1u << 20) ? 1u << 20 : (items ? items : 1), have = 0;
    uint8_t *data = ms_malloc(cap);
    long r;
    for (;;) {
        r = src_read(s, data + have, (cap < items ? cap : items) - have);
        if (r < 0)
            goto fail;
        have += (size_t)r;
        if (have < cap || cap >= items)
            break;
        cap = cap * 2 < items ? cap * 2 : items;
        data = ms_realloc(data, cap);
    }
    r = (long)have;
    long extra = (size_t)r == items ? src_read(s, NULL, (size_t)-1 / 2) : 0;
    if (extra < 0)
        goto fail;
    if ((size_t)r != items || extra) {
        ms_error("'%s': %s: header says %llu bytes of data, file has %llu", path,
                 (size_t)r < items ? "truncated" : "trailing bytes", (unsigned long long)items,
                 (unsigned long long)r + (unsigned long long)extra);
        goto fail;
    }
    if (s->gz && !s->ended) { /* the data is all there, the stream's end is not */
        ms_error("'%s': corrupt or truncated gzip data (it ends early)", path);
        goto fail;
    }
    return data;
fail:
    free(data);
    return NULL;
}

/* The whole gzip file in one call of libdeflate, ~2.5x zlib's streaming
 * speed (MNIST's training images: ~0.1 s instead of ~0.25 s, paid by every
 * sweep before its first run). Only when the file is one gzip member whose
 * size field says hlen + items bytes; the data after the hlen-byte header,
 * malloc'd, or NULL with no message: the streaming reader then reads the
 * file and says what is wrong with it, if anything. */
static uint8_t *read_gzip_whole(const idx_src *s, size_t hlen, uint64_t items)
{
    uint64_t total = hlen + items;
    /* deflate expands at most ~1032:1: a header promising more than the
     * file can hold is left to the streaming reader, which allocates as the
     * data comes */
    if (!s->gz || s->size < 18 || total > IDX_MAX_BYTES || total > (uint64_t)s->size * 1032)
        return NULL;
    size_t n = (size_t)s->size;
    uint8_t *in = ms_malloc(n), *out = NULL;
    FILE *f = fopen(s->path, "rb");
    int ok = f && fread(in, 1, n, f) == n;
    if (f)
        fclose(f);
    /* ISIZE, the member's length mod 2^32: the buffer is sized by it */
    uint32_t isize = (uint32_t)in[n - 4] | (uint32_t)in[n - 3] << 8 | (uint32_t)in[n - 2] << 16 |
                     (uint32_t)in[n - 1] << 24;
    struct libdeflate_decompressor *d = ok && isize == (uint32_t)total
                                            ? libdeflate_alloc_decompressor()
                                            : NULL;
    if (d) {
        out = ms_malloc(total ? total : 1);
        size_t used = 0, got = 0;
        if (libdeflate_gzip_decompress_ex(d, in, n, out, total, &used, &got) !=
                LIBDEFLATE_SUCCESS || used != n || got != total) {
            free(out);
            out = NULL;
        } else {
            memmove(out, out + hlen, items);
        }
        libdeflate_free_decompressor(d);
    }
    free(in);
    return out;
}

int ms_idx_read(const char *path, int expect_ndims, ms_idx *out)
{
    memset(out, 0, sizeof *out);
    idx_src s;
    if (src_open(&s, path) < 0)
        return -1;
    int nd = 0, rc = -1;
    uint64_t items = 0;
    uint8_t *data = NULL;
    if (read_header(&s, path, expect_ndims, out, &nd, &items) == 0 &&
        ((data = read_gzip_whole(&s, 4 + 4 * (size_t)nd, items)) != NULL ||
         (data = read_data(&s, path, items)) != NULL)) {
        out->ndims = nd;
        out->data = data;
        rc = 0;
    }
    src_close(&s);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

void ms_idx_release(ms_idx *x)
{
    free(x->data);
    memset(x, 0, sizeof *x);
}

/* The four files of a dataset, by stem (NAME or NAME.gz). */
static const char *const stems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

/* The first ten training labels of each dataset (MS_DATASET_* order): the
 * files have the same names and shapes, this tells them apart. */
static const uint8_t first_labels[MS_DATASET_N][10] = {{5, 0, 4, 1, 9, 2, 1, 3, 1, 4},
                                                       {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}};

int ms_data_present(const char *dir, int dataset)
{
    char path[4096], train_labels[4096] = "";
    struct stat st;
    for (size_t i = 0; i < sizeof stems / sizeof *stems; i++) {
        int found = 0;
        for (int gz = 0; gz < 2 && !found; gz++)
            found = ms_snprintf(path, sizeof path, "%s/%s%s", dir, stems[i], gz ? ".gz" : "") >= 0 &&
                    stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (!found)
            return 0;
        if (i == 1)
            snprintf(train_labels, sizeof train_labels, "%s", path);
    }
    if (dataset < 0)
        return 1;
    /* gzread reads a raw file as it is */
    uint8_t head[18];
    gzFile f = gzopen(train_labels, "rb");
    int n = f ? gzread(f, head, sizeof head) : -1;
    if (f)
        gzclose(f);
    return n == (int)sizeof head && !memcmp(head + 8, first_labels[dataset], 10);
}

char *ms_cache_path(const char *leaf)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    const char *sep = leaf ? "/" : "", *tail = leaf ? leaf : "";
    if (xdg && xdg[0] == '/') /* the XDG rule: a relative value is ignored */
        return ms_xstrfmt("%s/mlpsweep%s%s", xdg, sep, tail);
    if (home && *home)
        return ms_xstrfmt("%s/.cache/mlpsweep%s%s", home, sep, tail);
    return NULL;
}

char *ms_data_cache_dir(int dataset)
{
    return ms_cache_path(ms_dataset_names[dataset]);
}

static const char *const system_dirs[MS_DATASET_N] = {NULL, "/usr/share/datasets/fashion-mnist"};

/* $MLPSWEEP_DATA when set and not empty, else NULL. */
static const char *data_env(void)
{
    const char *env = getenv("MLPSWEEP_DATA");
    return env && *env ? env : NULL;
}

/* The no-data message: every place looked in, and how to fill one. */
static void no_data(const ms_data_where *w, const char *env, const char *cache)
{
    int ds = w->dataset;
    struct stat st;
    /* 'make data' only where it exists: a source tree, not an installed copy */
    int tree = !ds && stat("scripts/fetch_mnist.sh", &st) == 0 && stat("Makefile", &st) == 0;
    char *where = w->dir ? ms_xstrfmt("not in data.dir '%s'%s%s%s", w->dir, w->dir_at ? " (" : "",
                                      w->dir_at ? w->dir_at : "", w->dir_at ? ")" : "")
                         : ms_strdup("not in 'data' (the current folder's)");
    char *envs = env ? ms_xstrfmt("nor in $MLPSWEEP_DATA '%s'", env)
                     : ms_strdup("$MLPSWEEP_DATA is not set");
    ms_error("no %s data: %s, %s, nor in the cache '%s'%s%s: run 'mlpsweep fetch%s%s' to fill "
             "the cache%s",
             ms_dataset_titles[ds], where, envs, cache ? cache : "(no $HOME)",
             system_dirs[ds] ? " or " : "", system_dirs[ds] ? system_dirs[ds] : "", ds ? " " : "",
             ds ? ms_dataset_names[ds] : "", tree ? " (or 'make data' in this source tree)" : "");
    free(where);
    free(envs);
}

int ms_data_locate(const ms_data_where *w, char **out)
{
    int check = w->stated ? w->dataset : -1;
    *out = NULL;
    if (w->given) {
        if (ms_data_present(w->given, check)) {
            *out = ms_strdup(w->given);
            return 0;
        }
        ms_error("--data: '%s' does not hold the four %s files (train-images-idx3-ubyte and "
                 "the others, raw or .gz)",
                 w->given, ms_dataset_titles[w->dataset]);
        return -2;
    }
    const char *env = data_env();
    char *cache = ms_data_cache_dir(w->dataset);
    const char *cand[] = {w->dir ? w->dir : "data", env, cache, system_dirs[w->dataset]};
    for (size_t i = 0; i < sizeof cand / sizeof *cand && !*out; i++)
        if (cand[i] && ms_data_present(cand[i], check))
            *out = ms_strdup(cand[i]);
    if (!*out && !w->quiet)
        no_data(w, env, cache);
    free(cache);
    return *out ? 0 : -1;
}

void ms_data_say_missing(const ms_data_where *w)
{
    char *cache = ms_data_cache_dir(w->dataset);
    no_data(w, data_env(), cache);
    free(cache);
}

int ms_data_find(const char *dir, const char *stem, char *buf, size_t n)
{
    struct stat st;
    if (ms_snprintf(buf, n, "%s/%s", dir, stem) >= 0 && stat(buf, &st) == 0)
        return 0;
    if (ms_snprintf(buf, n, "%s/%s.gz", dir, stem) >= 0 && stat(buf, &st) == 0)
        return 0;
    return ms_error("cannot find '%s/%s' or '%s/%s.gz' (run 'make data')", dir, stem, dir, stem);
}

/* One IDX file of a split as loaded: its header's dimensions (x.dims), its
 * first `loaded` items (x.data), and what the whole file adds to the
 * dataset's identity (sums), from the digest cache when `known`. */
typedef struct idx_file {
    ms_idx x;
    uint32_t loaded;
    ms_file_sums sums;
    struct stat st;
    time_t opened; /* when st was taken (the digest cache's racy rule) */
    int known;
} idx_file;

/* Exactly n bytes of data after the header, or NULL after the message. */
static uint8_t *read_prefix(idx_src *s, const char *path, uint64_t n)
{
    uint8_t *data = ms_malloc(n ? n : 1);
    long r = src_read(s, data, n);
    if (r >= 0 && (uint64_t)r != n)
        ms_error("'%s': truncated: %llu bytes of data, %llu expected", path,
                 (unsigned long long)r, (unsigned long long)n);
    if (r < 0 || (uint64_t)r != n) {
        free(data);
        return NULL;
    }
    return data;
}

/* The file's header and its first `want` items (fewer if it has fewer): a
 * file the digest cache knows is read only as far as those items, since
 * its sums are known; another is read whole and summed (remembered by the
 * caller once the contents are checked). A prefix is inflated by zlib as a
 * stream; more than a quarter of a gzip file is faster whole by libdeflate. */
static int idx_load(const char *path, int expect_ndims, size_t item, uint32_t want, idx_file *f)
{
    memset(f, 0, sizeof *f);
    idx_src s;
    f->opened = time(NULL);
    if (src_open(&s, path) < 0)
        return -1;
    f->st = s.st;
    int nd = 0;
    uint64_t items = 0;
    uint8_t *data = NULL;
    if (read_header(&s, path, expect_ndims, &f->x, &nd, &items) == 0) {
        f->x.ndims = nd;
        f->known = ms_digest_lookup(&s.st, &f->sums) && f->sums.ndims == nd &&
                   !memcmp(f->sums.dims, f->x.dims, sizeof f->x.dims);
        f->loaded = want < f->x.dims[0] ? want : f->x.dims[0];
        uint64_t first = (uint64_t)f->loaded * item;
        if (f->known && (!s.gz || first < items / 4)) {
            data = read_prefix(&s, path, first);
        } else {
            data = read_gzip_whole(&s, 4 + 4 * (size_t)nd, items);
            if (!data)
                data = read_data(&s, path, items);
            f->loaded = f->x.dims[0];
        }
    }
    src_close(&s);
    if (!data) {
        memset(f, 0, sizeof *f);
        return -1;
    }
    f->x.data = data;
    if (!f->known) { /* libdeflate's sums equal zlib's, 4-6x faster */
        size_t n = (size_t)items;
        f->sums.ndims = nd;
        memcpy(f->sums.dims, f->x.dims, sizeof f->sums.dims);
        f->sums.crc32 = libdeflate_crc32(0, data, n);
        f->sums.adler32 = libdeflate_adler32(1, data, n);
    }
    return 0;
}

/* A whole IDX file's part of the dataset's identity: its shape and zlib's
 * CRC-32 and Adler-32 of its items (the same for a raw and a gzip copy),
 * chained onto h. Taken on a file's first load (~25 ms for MNIST's 55 MB),
 * then kept in the digest cache; it tells other data from ours, it is no
 * defence against forgery. */
static uint64_t idx_identity(const ms_file_sums *f, uint64_t h)
{
    uint32_t sums[2] = {f->crc32, f->adler32};
    h = ms_hash64_bytes(&f->ndims, sizeof f->ndims, h);
    h = ms_hash64_bytes(f->dims, sizeof f->dims, h);
    return ms_hash64_bytes(sums, sizeof sums, h);
}

/* Load images and labels of one split, keeping the first `want`; the
 * whole files' identity chained onto *identity. */
static int load_split(const char *dir, const char *img_stem, const char *lab_stem, int want,
                      ms_dataset *s, uint64_t *identity)
{
    char ipath[4096], lpath[4096];
    if (ms_data_find(dir, img_stem, ipath, sizeof ipath) < 0 ||
        ms_data_find(dir, lab_stem, lpath, sizeof lpath) < 0)
        return -1;
    idx_file im, lb;
    if (idx_load(ipath, 3, MS_PIXELS, (uint32_t)want, &im) < 0)
        return -1;
    if (idx_load(lpath, 1, 1, (uint32_t)want, &lb) < 0) {
        ms_idx_release(&im.x);
        return -1;
    }
    int rc = -1;
    if (im.x.dims[0] != lb.x.dims[0]) {
        ms_error("'%s' has %u images but '%s' has %u labels", ipath, im.x.dims[0], lpath,
                 lb.x.dims[0]);
        goto out;
    }
    if ((uint32_t)want > im.x.dims[0]) {
        ms_error("'%s': %d images requested, the file has %u", ipath, want, im.x.dims[0]);
        goto out;
    }
    /* every label of a file read whole; a known file's were, when it was */
    for (uint32_t i = 0; i < lb.loaded; i++)
        if (lb.x.data[i] >= MS_CLASSES) {
            ms_error("'%s': label %u of item %u is out of range 0..%d", lpath, lb.x.data[i], i,
                     MS_CLASSES - 1);
            goto out;
        }
    if (!im.known)
        ms_digest_remember(&im.st, &im.sums, im.opened);
    if (!lb.known)
        ms_digest_remember(&lb.st, &lb.sums, lb.opened);
    *identity = idx_identity(&lb.sums, idx_identity(&im.sums, *identity));
    s->n = want;
    s->pixels = ms_realloc(im.x.data, (size_t)want * MS_PIXELS); /* keep only what is used */
    s->labels = ms_realloc(lb.x.data, (size_t)want);
    im.x.data = lb.x.data = NULL;
    rc = 0;
out:
    ms_idx_release(&im.x);
    ms_idx_release(&lb.x);
    return rc;
}

static void index_nonzero(ms_dataset *s)
{
    free(s->nz_start);
    free(s->nz_col);
    free(s->nz_val);
    size_t nnz = 0, n = (size_t)s->n;
    for (size_t i = 0; i < n * MS_PIXELS; i++)
        nnz += s->pixels[i] != 0;
    s->nz_start = ms_malloc((n + 1) * sizeof *s->nz_start);
    s->nz_col = ms_malloc((nnz ? nnz : 1) * sizeof *s->nz_col);
    s->nz_val = ms_malloc(nnz ? nnz : 1);
    size_t e = 0;
    for (size_t i = 0; i < n; i++) {
        s->nz_start[i] = (uint32_t)e;
        const uint8_t *p = s->pixels + i * MS_PIXELS;
        for (int k = 0; k < MS_PIXELS; k++)
            if (p[k]) {
                s->nz_col[e] = (uint16_t)k;
                s->nz_val[e++] = p[k];
            }
    }
    s->nz_start[n] = (uint32_t)e;
}

/* order[0..rows) = the rows of a block (block-relative; image of row r:
 * s->eorder[b0 + r]), grouped: each group starts from the row not yet taken
 * with the fewest pixels and adds, one at a time, the row that brings the
 * fewest new pixels (pixel sets as 784-bit masks). On MNIST, with the
 * images ordered by label, a group of four covers 212 pixels against 600
 * separately (238 in file order; 228 starting from the first free row). */
static void group_greedy(const ms_dataset *s, int b0, int rows, int *order)
{
    enum { WORDS = (MS_PIXELS + 63) / 64 };
    uint64_t (*m)[WORDS] = ms_calloc((size_t)rows, sizeof *m);
    char *used = ms_calloc((size_t)rows, 1);
    int *size = ms_calloc((size_t)rows, sizeof *size);
    for (int r = 0; r < rows; r++) {
        int32_t i = s->eorder[b0 + r];
        size[r] = (int)(s->nz_start[i + 1] - s->nz_start[i]);
        for (uint32_t e = s->nz_start[i]; e < s->nz_start[i + 1]; e++)
            m[r][s->nz_col[e] / 64] |= 1ull << (s->nz_col[e] % 64);
    }
    int k = 0;
    while (k < rows) {
        int first = -1;
        for (int r = 0; r < rows; r++)
            if (!used[r] && (first < 0 || size[r] < size[first]))
                first = r;
        uint64_t u[WORDS];
        memcpy(u, m[first], sizeof u);
        used[first] = 1;
        order[k++] = first;
        for (int t = 1; t < MS_GROUP && k < rows; t++) {
            int best = -1, fewest = MS_PIXELS + 1;
            for (int r = 0; r < rows; r++) {
                if (used[r])
                    continue;
                int add = 0;
                for (int w = 0; w < WORDS; w++)
                    add += __builtin_popcountll(m[r][w] & ~u[w]);
                if (add < fewest) {
                    fewest = add;
                    best = r;
                }
            }
            used[best] = 1;
            order[k++] = best;
            for (int w = 0; w < WORDS; w++)
                u[w] |= m[best][w];
        }
    }
    free(m);
    free(used);
    free(size);
}

/* The evaluation order (images by label, stable: similar images share
 * blocks, and so pixels) and each block's groups of MS_GROUP images with
 * their pixels merged. */
static void free_groups(ms_dataset *s)
{
    free(s->eorder);
    free(s->elabels);
    free(s->gb_start);
    free(s->gr_row);
    free(s->gr_start);
    free(s->gr_col);
    free(s->gr_val);
}

static void index_groups(ms_dataset *s)
{
    enum { G = MS_GROUP };
    free_groups(s);
    int n = s->n, blocks = (n + MS_BLOCK - 1) / MS_BLOCK, maxg = blocks * (MS_BLOCK / G + 1);
    s->eorder = ms_malloc(((size_t)n + 1) * sizeof *s->eorder);
    s->elabels = ms_malloc((size_t)n + 1);
    int at_label[MS_CLASSES + 1] = {0};
    for (int i = 0; i < n; i++)
        at_label[s->labels[i] + 1]++;
    for (int c = 0; c < MS_CLASSES; c++)
        at_label[c + 1] += at_label[c];
    for (int i = 0; i < n; i++)
        s->eorder[at_label[s->labels[i]]++] = i;
    for (int i = 0; i < n; i++)
        s->elabels[i] = s->labels[s->eorder[i]];
    s->gb_start = ms_malloc(((size_t)blocks + 1) * sizeof *s->gb_start);
    s->gr_row = ms_malloc((size_t)maxg * G * sizeof *s->gr_row);
    s->gr_start = ms_malloc(((size_t)maxg + 1) * sizeof *s->gr_start);
    size_t cap = s->nz_start[n] + 1;
    s->gr_col = ms_malloc(cap * sizeof *s->gr_col);
    s->gr_val = ms_malloc(cap * G);
    size_t e = 0;
    int q = 0;
    for (int b = 0; b < blocks; b++) {
        int b0 = b * MS_BLOCK, rows = n - b0 < MS_BLOCK ? n - b0 : MS_BLOCK, order[MS_BLOCK];
        s->gb_start[b] = (uint32_t)q;
        group_greedy(s, b0, rows, order);
        for (int i = 0; i < rows; i += G, q++) {
            uint32_t at[G], end[G];
            for (int u = 0; u < G; u++) {
                int r = i + u < rows ? order[i + u] : -1;
                s->gr_row[(size_t)q * G + u] = r;
                at[u] = r < 0 ? 0 : s->nz_start[s->eorder[b0 + r]];
                end[u] = r < 0 ? 0 : s->nz_start[s->eorder[b0 + r] + 1];
            }
            s->gr_start[q] = (uint32_t)e;
            for (;;) { /* merge G increasing lists */
                int kk = MS_PIXELS;
                for (int u = 0; u < G; u++)
                    if (at[u] < end[u] && s->nz_col[at[u]] < kk)
                        kk = s->nz_col[at[u]];
                if (kk == MS_PIXELS)
                    break;
                s->gr_col[e] = (uint16_t)kk;
                for (int u = 0; u < G; u++)
                    s->gr_val[e * G + u] =
                        at[u] < end[u] && s->nz_col[at[u]] == kk ? s->nz_val[at[u]++] : 0;
                e++;
            }
        }
    }
    s->gb_start[blocks] = (uint32_t)q;
    s->gr_start[q] = (uint32_t)e;
}

void ms_data_groups_f(const ms_dataset *s, int block, ms_sparse_f *out)
{
    uint32_t q0 = s->gb_start[block];
    out->ngroups = (int)(s->gb_start[block + 1] - q0);
    out->grow = s->gr_row + MS_GROUP * (size_t)q0;
    out->gstart = s->gr_start + q0;
    out->gcol = s->gr_col;
    out->gval = s->gr_val;
}

void ms_data_normalise(ms_data *d)
{
    /* Exact integer sums: the mean and variance do not depend on summation order. */
    uint64_t sum = 0, sumsq = 0, n = (uint64_t)d->train.n * MS_PIXELS;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t p = d->train.pixels[i];
        sum += p;
        sumsq += p * p;
    }
    d->mean = (double)sum / (double)n;
    /* n * sumsq - sum^2 is exact in 128 bits; one rounding at the end. */
    unsigned __int128 num = (unsigned __int128)n * sumsq - (unsigned __int128)sum * sum;
    double var = (double)num / ((double)n * (double)n);
    d->std = sqrt(var);
    double sd = d->std > 0 ? d->std : 1.0; /* a constant image set: avoid 0/0 */
    for (int p = 0; p < 256; p++) {
        d->lut_d[p] = ((double)p - d->mean) / sd;
    }
    d->zero_d = d->lut_d[0];
    d->zero_f = (float)d->zero_d;
    for (int p = 0; p < 256; p++) {
        d->delta_d[p] = d->lut_d[p] - d->lut_d[0];
        d->delta_f[p] = (float)d->delta_d[p];
    }
    uint64_t h = MS_HASH64_INIT;
    const ms_dataset *sets[2] = {&d->train, &d->val};
    for (int i = 0; i < 2; i++) {
        h = ms_hash64_bytes(&sets[i]->n, sizeof sets[i]->n, h);
        h = ms_hash64_bytes(sets[i]->pixels, (size_t)sets[i]->n * MS_PIXELS, h);
        h = ms_hash64_bytes(sets[i]->labels, (size_t)sets[i]->n, h);
    }
    d->digest = h;
    index_nonzero(&d->train);
    index_nonzero(&d->val);
    index_groups(&d->train);
    index_groups(&d->val);
}

int ms_data_load(const char *dir, int ntrain, int nval, ms_data *d)
{
    memset(d, 0, sizeof *d);
    d->identity = MS_HASH64_INIT;
    if (load_split(dir, stems[0], stems[1], ntrain, &d->train, &d->identity) < 0)
        return -1;
    if (load_split(dir, stems[2], stems[3], nval, &d->val, &d->identity) < 0) {
        ms_data_release(d);
        return -1;
    }
    ms_data_normalise(d);
    return 0;
}

static void dataset_release(ms_dataset *s)
{
    free(s->pixels);
    free(s->labels);
    free(s->nz_start);
    free(s->nz_col);
    free(s->nz_val);
    free_groups(s);
    memset(s, 0, sizeof *s);
}

void ms_data_release(ms_data *d)
{
    dataset_release(&d->train);
    dataset_release(&d->val);
}

/* restrict: the output never aliases the table, which lets the compiler
 * vectorize the lookups (AVX2/AVX-512 gathers). */
#define GATHER(NAME, T, LUT)                                                                       \
    void NAME(const ms_data *d, const ms_dataset *s, const int32_t *idx, int first, int n, T *X)  \
    {                                                                                              \
        const T *restrict lut = d->LUT;                                                            \
        for (int r = 0; r < n; r++) {                                                              \
            const uint8_t *restrict p = s->pixels + (size_t)(idx ? idx[r] : first + r) * MS_PIXELS; \
            T *restrict x = X + (size_t)r * MS_INPUT;                                              \
            for (int i = 0; i < MS_PIXELS; i++)                                                    \
                x[i] = lut[p[i]];                                                                  \
            x[MS_PIXELS] = 1;                                                                      \
        }                                                                                          \
    }
GATHER(ms_data_gather_d, double, lut_d)

#define SPARSE(NAME, T, SUF)                                                                       \
    void NAME(const ms_data *d, const ms_dataset *s, const int32_t *idx, int first, int n,        \
              const uint16_t **col, const uint8_t **val, int *count, ms_sparse_##SUF *out)         \
    {                                                                                              \
        for (int r = 0; r < n; r++) {                                                              \
            size_t i = (size_t)(idx ? idx[r] : first + r);                                         \
            col[r] = s->nz_col + s->nz_start[i];                                                   \
            val[r] = s->nz_val + s->nz_start[i];                                                   \
            count[r] = (int)(s->nz_start[i + 1] - s->nz_start[i]);                                 \
        }                                                                                          \
        out->rows = n;                                                                             \
        out->col = col;                                                                            \
        out->val = val;                                                                            \
        out->count = count;                                                                        \
        out->zero = d->zero_##SUF;                                                                 \
        out->delta = d->delta_##SUF;                                                               \
        out->ngroups = 0;                                                                           \
        out->grow = NULL;                                                                          \
        out->gcol = NULL;                                                                          \
        out->gval = NULL;                                                                          \
        out->gstart = NULL;                                                                        \
    }
SPARSE(ms_data_sparse_f, float, f)
SPARSE(ms_data_sparse_d, double, d)

void ms_data_prefetch(const ms_dataset *s, const int32_t *idx, int n)
{
    for (int r = 0; r < n; r++) {
        uint32_t a = s->nz_start[idx[r]], b = s->nz_start[idx[r] + 1];
        for (uint32_t e = a; e < b; e += 32) /* 64-byte lines of 2-byte columns */
            __builtin_prefetch(s->nz_col + e);
        for (uint32_t e = a; e < b; e += 64)
            __builtin_prefetch(s->nz_val + e);
    }
}
