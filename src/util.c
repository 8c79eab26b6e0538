/* ms_util: errors, allocation, time, atomic file writes. */
#define _POSIX_C_SOURCE 200809L
#include "ms_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE *err_stream;

FILE *ms_error_file(void) { return err_stream ? err_stream : stderr; }
void ms_error_stream(FILE *f) { err_stream = f; }

int ms_error(const char *fmt, ...)
{
    FILE *f = ms_error_file();
    va_list ap;
    va_start(ap, fmt);
    fputs("mlpsweep: ", f);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
    fflush(f);
    return -1;
}

int ms_error_raw(const char *fmt, ...)
{
    FILE *f = ms_error_file();
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
    va_end(ap);
    fflush(f);
    return -1;
}

static void oom(size_t n)
{
    fprintf(stderr, "mlpsweep: out of memory allocating %zu bytes\n", n);
    abort();
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

int ms_write_file_atomic(const char *path, const void *data, size_t n)
{
    size_t len = strlen(path);
    char *tmp = ms_malloc(len + 32);
    snprintf(tmp, len + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return ms_error("cannot write '%s': %s", path, strerror(e));
    }
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            free(tmp);
            return ms_error("cannot write '%s': %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        free(tmp);
        return ms_error("cannot write '%s': %s", path, strerror(e));
    }
    free(tmp);
    return 0;
}
