/* ms_digest: the digest cache, CACHE/mlpsweep/digests (CACHE as for the
 * data, see ms_cache_path), one text line per file read whole:
 *
 *   DEV INO SIZE MTIME_S MTIME_NS CTIME_S CTIME_NS NDIMS D0 D1 D2 CRC32 ADLER32
 *
 * A file is known when all seven stat fields are equal, as git trusts its
 * index: the change time moves with any write, rename or chmod, and no
 * system call sets it back. A file changed in the last RACY_S seconds is not
 * remembered, since a second write in the same clock tick would leave its
 * times equal. Like the identity it feeds, the cache tells other data from
 * ours; it is no defence against forgery. */
#define _POSIX_C_SOURCE 200809L
#include "digests.h"
#include "ms_data.h"
#include "ms_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* LINE_MAX: a line's longest (seven 20-digit numbers and the rest: ~210) */
enum { MAX_ENTRIES = 64, RACY_S = 2, LINE_MAX = 256 };

typedef struct entry {
    unsigned long long dev, ino;
    long long size, mt_s, mt_ns, ct_s, ct_ns;
    ms_file_sums sums;
} entry;

static void entry_of(const struct stat *st, entry *e)
{
    memset(e, 0, sizeof *e);
    e->dev = (unsigned long long)st->st_dev;
    e->ino = (unsigned long long)st->st_ino;
    e->size = (long long)st->st_size;
    e->mt_s = (long long)st->st_mtim.tv_sec;
    e->mt_ns = (long long)st->st_mtim.tv_nsec;
    e->ct_s = (long long)st->st_ctim.tv_sec;
    e->ct_ns = (long long)st->st_ctim.tv_nsec;
}

static int same_file(const entry *a, const entry *b)
{
    return a->dev == b->dev && a->ino == b->ino;
}

static int same_stat(const entry *a, const entry *b)
{
    return same_file(a, b) && a->size == b->size && a->mt_s == b->mt_s && a->mt_ns == b->mt_ns &&
           a->ct_s == b->ct_s && a->ct_ns == b->ct_ns;
}

/* The cache's entries, oldest first, into e[0..MAX_ENTRIES); their count.
 * A line that does not parse is skipped: the file is ours, but a cache. */
static int read_entries(const char *path, entry *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        entry x;
        ms_file_sums *s = &x.sums;
        if (sscanf(line, "%llu %llu %lld %lld %lld %lld %lld %d %u %u %u %x %x", &x.dev, &x.ino,
                   &x.size, &x.mt_s, &x.mt_ns, &x.ct_s, &x.ct_ns, &s->ndims, &s->dims[0],
                   &s->dims[1], &s->dims[2], &s->crc32, &s->adler32) != 13 ||
            s->ndims < 1 || s->ndims > 3)
            continue;
        if (n == MAX_ENTRIES) { /* keep the newest */
            memmove(e, e + 1, (MAX_ENTRIES - 1) * sizeof *e);
            n--;
        }
        e[n++] = x;
    }
    fclose(f);
    return n;
}

int ms_digest_lookup(const struct stat *st, ms_file_sums *out)
{
    char *path = ms_cache_path("digests");
    if (!path)
        return 0;
    entry *e = ms_malloc(MAX_ENTRIES * sizeof *e), want;
    entry_of(st, &want);
    int n = read_entries(path, e), found = 0;
    for (int i = n - 1; i >= 0 && !found; i--)
        if (same_stat(&e[i], &want)) {
            *out = e[i].sums;
            found = 1;
        }
    free(e);
    free(path);
    return found;
}

void ms_digest_remember(const struct stat *st, const ms_file_sums *sums, time_t opened)
{
    if (st->st_mtim.tv_sec > opened - RACY_S || st->st_ctim.tv_sec > opened - RACY_S)
        return;
    char *path = ms_cache_path("digests");
    if (!path)
        return;
    entry *e = ms_malloc((MAX_ENTRIES + 1) * sizeof *e), add;
    entry_of(st, &add);
    add.sums = *sums;
    int n = read_entries(path, e), k = 0;
    for (int i = 0; i < n; i++) /* the file's older entry goes */
        if (!same_file(&e[i], &add))
            e[k++] = e[i];
    e[k++] = add;
    size_t cap = (size_t)k * LINE_MAX, len = 0;
    char *text = ms_malloc(cap);
    for (int i = k > MAX_ENTRIES ? k - MAX_ENTRIES : 0; i < k && len < cap; i++) {
        const ms_file_sums *s = &e[i].sums;
        len += (size_t)snprintf(text + len, cap - len,
                                "%llu %llu %lld %lld %lld %lld %lld %d %u %u %u %08x %08x\n",
                                e[i].dev, e[i].ino, e[i].size, e[i].mt_s, e[i].mt_ns, e[i].ct_s,
                                e[i].ct_ns, s->ndims, s->dims[0], s->dims[1], s->dims[2],
                                s->crc32, s->adler32);
    }
    char *dir = ms_cache_path(NULL);
    FILE *prev = ms_error_file(), *sink = fopen("/dev/null", "w");
    if (dir && sink) {
        ms_error_stream(sink);
        if (ms_mkdir_p(dir) == 0)
            ms_write_file_atomic(path, text, len);
        ms_error_stream(prev == stderr ? NULL : prev);
    }
    if (sink)
        fclose(sink);
    free(dir);
    free(text);
    free(e);
    free(path);
}
