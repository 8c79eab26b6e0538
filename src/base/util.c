/* ms_util: errors, allocation, time, atomic file writes. */
#define _GNU_SOURCE
#include "ms_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *err_stream;

FILE *ms_error_file(void) { return err_stream ? err_stream : stderr; }
void ms_error_stream(FILE *f) { err_stream = f; }

/* The character at s (not at its end), from well-formed UTF-8 only: its
 * code point in *cp, its length in bytes returned; a byte that starts no
 * well-formed character is a character of its own, UTF8_BAD. The rule is
 * Unicode's table of well-formed byte sequences (3-7): after a lead byte all
 * continuation bytes are 80..BF, except the second after E0 (A0..BF: no
 * overlong form), ED (80..9F: no surrogate), F0 (90..BF: no overlong) and
 * F4 (80..8F: nothing past U+10FFFF); C0, C1 and F5..FF lead nothing. */
#define UTF8_BAD (-1L)
static int utf8_next(const char *s, long *cp)
{
    const unsigned char *b = (const unsigned char *)s;
    if (b[0] < 0x80) {
        *cp = b[0];
        return 1;
    }
    int n = b[0] < 0xc2 ? 0 : b[0] < 0xe0 ? 2 : b[0] < 0xf0 ? 3 : b[0] < 0xf5 ? 4 : 0;
    unsigned char lo = b[0] == 0xe0 ? 0xa0 : b[0] == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = b[0] == 0xed ? 0x9f : b[0] == 0xf4 ? 0x8f : 0xbf;
    long c = b[0] & (0x7f >> n);
    for (int i = 1; i < n; i++, lo = 0x80, hi = 0xbf) {
        if (b[i] < lo || b[i] > hi) /* the terminating NUL stops here too */
            n = 0;
        else
            c = c << 6 | (b[i] & 0x3f);
    }
    *cp = n ? c : UTF8_BAD;
    return n ? n : 1;
}

int ms_is_control(long cp) { return cp < 0x20 || (cp >= 0x7f && cp < 0xa0); }

void ms_put_text(FILE *f, const char *s, ms_text_esc *esc)
{
    char buf[8];
    while (*s) {
        long cp;
        int n = utf8_next(s, &cp);
        const char *e = cp == UTF8_BAD ? "\xef\xbf\xbd" : esc ? esc(cp, buf) : NULL;
        if (!e && ms_is_control(cp))
            e = "?";
        if (e)
            fputs(e, f);
        else
            fwrite(s, 1, (size_t)n, f);
        s += n;
    }
}

/* One line, whatever the message holds: a path or a library's text (SQLite
 * quotes schema text with its line breaks) may carry control characters. */
static void put_line(FILE *f, const char *prefix, const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    fputs(prefix, f);
    if (msg) {
        ms_put_text(f, msg, NULL);
        free(msg);
    }
    fputc('\n', f);
    fflush(f);
}

int ms_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_line(ms_error_file(), "mlpsweep: ", fmt, ap);
    va_end(ap);
    return -1;
}

int ms_error_raw(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_line(ms_error_file(), "", fmt, ap);
    va_end(ap);
    return -1;
}

static void oom(size_t n)
{
    fprintf(stderr, "mlpsweep: out of memory allocating %zu bytes\n", n);
    exit(1); /* a failed run, as a kill would leave it: every commit is atomic */
}

void *ms_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *ms_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *ms_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *ms_xstrfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(strlen(fmt));
    return p;
}

FILE *ms_memstream(char **buf, size_t *len)
{
    FILE *f = open_memstream(buf, len);
    if (!f)
        oom(BUFSIZ);
    return f;
}

char *ms_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = ms_malloc(n);
    memcpy(d, s, n);
    return d;
}

void *ms_alloc_aligned(size_t n)
{
    void *p = NULL;
    size_t sz = (n + 63) & ~(size_t)63;
    if (posix_memalign(&p, 64, sz ? sz : 64))
        oom(n);
    memset(p, 0, sz ? sz : 64);
    return p;
}

void ms_free_aligned(void *p) { free(p); }

char *ms_printable(const char *s)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *m = ms_memstream(&buf, &n);
    ms_put_text(m, s, NULL);
    fclose(m);
    return buf;
}

uint64_t ms_hash64_bytes(const void *p, size_t n, uint64_t h)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t ms_hash64(const char *text) { return ms_hash64_bytes(text, strlen(text), MS_HASH64_INIT); }

double ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ms_snprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return (r < 0 || (size_t)r >= n) ? -1 : r;
}

/* ---- safe output files ---- */

int ms_mkdir_p(const char *dir)
{
    char *p = ms_strdup(dir);
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s)
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = ms_error("cannot create '%s': %s", p, strerror(errno));
            break;
        }
        *s = c;
        if (!c)
            break;
    }
    struct stat st;
    if (!rc && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = ms_error("'%s' is not a directory", dir);
    free(p);
    return rc;
}

char *ms_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ms_strdup(".");
    if (slash == path)
        return ms_strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* An output may replace a regular file, never a symlink, device, FIFO or
 * folder: a planted symlink would send the write elsewhere, and replacing a
 * device node (as root) breaks the system. */
static int replaceable(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : ms_error("cannot write '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ms_error("'%s' exists and is not a regular file%s: refusing to replace it", path,
                        S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
    return 0;
}

/* A path with its folder resolved (the last component kept as written):
 * two names of one place compare equal even before the file exists. NULL
 * when the folder does not exist. */
static char *place_of(const char *path)
{
    char *dir = ms_dir_of(path), *real = realpath(dir, NULL), *p = NULL;
    const char *slash = strrchr(path, '/');
    if (real)
        p = ms_xstrfmt("%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : path);
    free(dir);
    free(real);
    return p;
}

const char *const ms_db_sides[] = {"-wal", "-shm", "-journal", NULL};

/* The suffix of a database's part i: itself (""), SQLite's files beside it
 * (ms_db_sides), then an older mlpsweep's lock file; NULL past the last.
 * Writing one of them is writing the database. */
static const char *db_part(int i)
{
    enum { NSIDES = sizeof ms_db_sides / sizeof *ms_db_sides - 1 };
    return i == 0 ? "" : i <= NSIDES ? ms_db_sides[i - 1] : i == NSIDES + 1 ? ".lock" : NULL;
}

/* Which part of the database db out is (stat'ed into *st when it exists,
 * have_st): 1 + its index for db_part(), or 0 for none. By inode where
 * the parts exist, by name where not (through the link too, as SQLite puts
 * them beside the file a symlink names). */
static int database_part(const char *out, const struct stat *st, int have_st, const char *db)
{
    char *names[2] = {place_of(db), realpath(db, NULL)}, *where = place_of(out);
    int hit = 0;
    for (int i = 0; db_part(i) && !hit; i++)
        for (int k = 0; k < 2 && !hit; k++) {
            if (!names[k])
                continue;
            char *c = ms_xstrfmt("%s%s", names[k], db_part(i));
            struct stat cs;
            if ((where && !strcmp(where, c)) ||
                (have_st && stat(c, &cs) == 0 && cs.st_dev == st->st_dev && cs.st_ino == st->st_ino))
                hit = i + 1;
            free(c);
        }
    free(names[0]);
    free(names[1]);
    free(where);
    return hit;
}

int ms_output_check(const char *path, const char *const *inputs, int ninputs)
{
    if (replaceable(path) < 0)
        return -1;
    struct stat out;
    int have = stat(path, &out) == 0;
    for (int i = 0; i < ninputs; i++) {
        int part = inputs[i] ? database_part(path, &out, have, inputs[i]) : 0;
        if (part == 1)
            return ms_error("'%s' is the database '%s': refusing to overwrite it", path, inputs[i]);
        if (part > 1)
            return ms_error("'%s' is the '%s' file of the database '%s': refusing to overwrite it",
                            path, db_part(part - 1), inputs[i]);
    }
    return 0;
}

/* The last component of a path. */
static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Temporary files are ".NAME.mlpsweep-HOST-PID-XXXXXX" (HOST 8 hex digits of
 * the host name's hash): a write killed before its rename leaves one, and
 * the next write to the same folder from this host removes those whose
 * process is gone. Nothing else in the folder matches the pattern, and a
 * live process's (or another host's) file is never touched. */
#define TEMP_MARK ".mlpsweep-"

static uint32_t host_tag(void)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    return (uint32_t)ms_hash64(host);
}

/* The pid of one of our temporary names made on this host, or 0. */
static long temp_owner(const char *name, uint32_t tag)
{
    const char *m = strstr(name, TEMP_MARK);
    if (name[0] != '.' || !m)
        return 0;
    while (strstr(m + 1, TEMP_MARK)) /* the last one: NAME may hold the mark */
        m = strstr(m + 1, TEMP_MARK);
    char hex[9];
    long pid = 0;
    int used = 0;
    if (sscanf(m + strlen(TEMP_MARK), "%8[0-9a-f]-%ld-%n", hex, &pid, &used) != 2 || used == 0 ||
        strlen(hex) != 8 || strtoul(hex, NULL, 16) != tag || pid <= 0 ||
        strlen(m + strlen(TEMP_MARK) + used) != 6)
        return 0;
    return pid;
}

static void clean_stale_temps(const char *dir)
{
    /* once per folder and process: a folder of many figures is read once */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static char *last;
    pthread_mutex_lock(&mu);
    int seen = last && !strcmp(last, dir);
    if (!seen) {
        free(last);
        last = ms_strdup(dir);
    }
    pthread_mutex_unlock(&mu);
    DIR *d = seen ? NULL : opendir(dir);
    if (!d)
        return;
    uint32_t tag = host_tag();
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_owner(e->d_name, tag);
        struct stat st;
        if (pid > 0 && pid <= INT_MAX && pid != (long)getpid() && kill((pid_t)pid, 0) != 0 &&
            errno == ESRCH && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && st.st_uid == geteuid())
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

char *ms_temp_in(const char *dir, const char *name, int *fd_out)
{
    clean_stale_temps(dir);
    char *tmp = ms_xstrfmt("%s/.%s" TEMP_MARK "%08x-%ld-XXXXXX", dir, name, host_tag(),
                           (long)getpid());
    /* mkstemp: a new file (O_EXCL), so nothing planted under the name is opened. */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ms_error("cannot create a file in '%s': %s", dir, strerror(errno));
        free(tmp);
        return NULL;
    }
    fchmod(fd, 0644); /* mkstemp's 0600 would make results private */
    *fd_out = fd;
    return tmp;
}

char *ms_temp_beside(const char *path, int *fd_out)
{
    char *dir = ms_dir_of(path);
    char *tmp = ms_temp_in(dir, base_of(path), fd_out);
    free(dir);
    return tmp;
}

int ms_publish(const char *tmp, const char *path)
{
    if (replaceable(path) < 0)
        return -1;
    if (rename(tmp, path) != 0)
        return ms_error("cannot write '%s': %s", path, strerror(errno));
    /* The rename itself is durable only once the folder is synced. */
    char *dir = ms_dir_of(path);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    return 0;
}

int ms_load_file(const char *path, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ms_error("cannot read '%s': %s", path, strerror(errno));
    size_t n = 0, cap = 1 << 16;
    char *buf = ms_malloc(cap + 1);
    for (size_t r; (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap)
            buf = ms_realloc(buf, (cap *= 2) + 1);
    }
    int e = ferror(f) ? errno : 0;
    fclose(f);
    if (e) {
        free(buf);
        return ms_error("cannot read '%s': %s", path, strerror(e));
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int ms_write_file_atomic(const char *path, const void *data, size_t n)
{
    if (replaceable(path) < 0)
        return -1;
    int fd;
    char *tmp = ms_temp_beside(path, &fd);
    if (!tmp)
        return -1;
    const char *p = data;
    size_t left = n;
    int e = 0;
    while (left && !e) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno != EINTR)
            e = errno;
        else if (w > 0) {
            p += w;
            left -= (size_t)w;
        }
    }
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    int rc = e ? ms_error("cannot write '%s': %s", path, strerror(e)) : ms_publish(tmp, path);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* The writer lock is an open-file-description lock on one byte of the
 * database file itself, so every path to the file (a symlink, a hard link,
 * a bind mount, ./x/../x.db) meets the same lock. The byte lies far past
 * SQLite's own lock bytes (from 1 GiB on), so SQLite's locking is untouched,
 * and an OFD lock (unlike flock, which NFS emulates over the whole file) is
 * a byte-range lock everywhere. The kernel drops it when the process dies. */
#define DB_LOCK_BYTE ((off_t)1 << 40)

static struct flock lock_byte(short type)
{
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = DB_LOCK_BYTE;
    fl.l_len = 1;
    return fl;
}

/* Only regular files are databases: a FIFO would block the open, a device
 * or socket is never ours. */
int ms_db_regular(const char *db, const struct stat *st)
{
    if (S_ISREG(st->st_mode))
        return 0;
    const char *kind = S_ISDIR(st->st_mode)    ? "a folder"
                       : S_ISFIFO(st->st_mode) ? "a FIFO"
                       : S_ISSOCK(st->st_mode) ? "a socket"
                       : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device"
                                                                       : "not a regular file";
    return ms_error("'%s' is %s, not a database file", db, kind);
}

/* Open db for writing, creating it (O_EXCL) when missing; -1 after a message. */
static int open_db_file(const char *db, int *made)
{
    *made = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(db, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
        struct stat ls;
        if (lstat(db, &ls) == 0 && S_ISLNK(ls.st_mode))
            return ms_error("'%s' is a symbolic link to a missing file: refusing to create "
                            "a database through it", db);
        fd = open(db, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        *made = fd >= 0;
        if (fd < 0 && errno == EEXIST)
            return -2; /* another process created it: open it again */
    }
    if (fd < 0) {
        int e = errno;
        char *dir = ms_dir_of(db);
        if (e == ENOENT)
            ms_error("cannot create '%s': folder '%s' does not exist", db, dir);
        else
            ms_error("cannot open '%s' for writing: %s", db, strerror(e));
        free(dir);
        return -1;
    }
    return fd;
}

int ms_db_lock(const char *db, int *fd_out, int *created)
{
    /* A file removed or replaced between our open and our lock (a writer
     * that created it and failed removes it while holding the lock) is
     * opened again: the lock must be on the file the path names. */
    for (int tries = 0; tries < 16; tries++) {
        int made, fd = open_db_file(db, &made);
        if (fd == -2)
            continue;
        if (fd < 0)
            return -1;
        struct stat st, now;
        int rc = fstat(fd, &st) != 0 ? ms_error("cannot open '%s': %s", db, strerror(errno))
                                     : ms_db_regular(db, &st);
        struct flock fl = lock_byte(F_WRLCK);
        if (!rc && fcntl(fd, F_OFD_SETLK, &fl) != 0) {
            /* contended: a file we just made is the other writer's now */
            rc = errno == EAGAIN || errno == EACCES
                     ? ms_error("another mlpsweep is writing to '%s'", db)
                     : ms_error("cannot lock '%s': %s", db, strerror(errno));
            made = 0;
        }
        if (rc) {
            if (made)
                unlink(db);
            close(fd);
            return -1;
        }
        if (stat(db, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
            close(fd);
            continue;
        }
        *fd_out = fd;
        if (created)
            *created = made;
        return 0;
    }
    return ms_error("cannot lock '%s': the file keeps being replaced", db);
}

int ms_db_writer_live(const char *db)
{
    int fd = open(db, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return 0; /* no file, no writer */
    struct stat st;
    struct flock fl = lock_byte(F_WRLCK);
    int live = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fcntl(fd, F_OFD_GETLK, &fl) == 0 &&
               fl.l_type != F_UNLCK;
    close(fd);
    return live;
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
static int edit_distance(const char *a, const char *b)
{
    enum { MAXL = 64 };
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > MAXL || lb > MAXL)
        return INT_MAX;
    int d[MAXL + 1][MAXL + 1];
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

/* ---- suggestions (ms_util.h) ---- */

/* The closest candidate, or NULL. Distance <= 2 counts only when it is less
 * than both lengths (else "x" would suggest "lr"); failing that, a prefix of
 * at least 2 characters in either direction ("lrate" -> "lr"). */
const char *ms_suggest(const char *s, const char *const *cand, int n)
{
    const char *best = NULL;
    int bestd = 3;
    size_t ls = strlen(s);
    for (int i = 0; i < n; i++) {
        size_t lc = strlen(cand[i]);
        int d = edit_distance(s, cand[i]);
        if (d < bestd && (size_t)d < ls && (size_t)d < lc) {
            best = cand[i];
            bestd = d;
        }
    }
    for (int i = 0; !best && i < n; i++) {
        size_t lc = strlen(cand[i]);
        size_t k = ls < lc ? ls : lc;
        if (k >= 2 && !strncmp(s, cand[i], k))
            best = cand[i];
    }
    return best;
}

/* " (did you mean 'x'?)" or "". */
const char *ms_hint(char *buf, size_t n, const char *s, const char *const *cand, int ncand)
{
    const char *b = ms_suggest(s, cand, ncand);
    if (!b)
        return "";
    snprintf(buf, n, " (did you mean '%s'?)", b);
    return buf;
}

const char *ms_shortest(char buf[32], double x)
{
    /* an integer as one (30, not the 3e+01 that %.1g gives) */
    if (x == floor(x) && fabs(x) < 1e17) {
        snprintf(buf, 32, "%.0f", x);
        return buf;
    }
    /* The fewest digits that read back: reading back is monotone in the
     * digit count (more digits are never further from x), so bisect 1..17
     * (17 always reads back) instead of trying each. */
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(buf, 32, "%.*g", mid, x);
        if (strtod(buf, NULL) == x)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, 32, "%.*g", lo, x);
    return buf;
}

/* JSON's escapes; other control characters as \u00XX, not '?' (nothing
 * is lost) */
static const char *json_esc(long cp, char buf[8])
{
    switch (cp) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    }
    if (!ms_is_control(cp))
        return NULL;
    snprintf(buf, 8, "\\u%04x", (unsigned)cp & 0xff); /* all below U+00A0 */
    return buf;
}

void ms_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    ms_put_text(f, s, json_esc);
    fputc('"', f);
}

void ms_json_num(FILE *f, double x)
{
    char b[32];
    fputs(isfinite(x) ? ms_shortest(b, x) : "null", f);
}

static const char *html_esc(long cp, char buf[8])
{
    (void)buf;
    switch (cp) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\n': return "\n";
    case '\t': return "\t";
    default: return NULL;
    }
}

void ms_html_text(FILE *f, const char *s) { ms_put_text(f, s, html_esc); }

int ms_list_has(const char *list, const char *name)
{
    size_t k = strlen(name);
    for (const char *t = list; *t;) {
        size_t m = strcspn(t, ",");
        if (m == k && !strncmp(t, name, k))
            return 1;
        t += m + (t[m] == ',');
    }
    return 0;
}
