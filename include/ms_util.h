/* ms_util: error reporting, checked allocation, small helpers.
 *
 * Errors follow git's convention: ms_error() prints one line to the error
 * stream and returns -1, so a failing function can `return ms_error(...)`.
 * Only main() turns a failure into an exit status. Messages are lowercase,
 * without a final period, and quote the subject: cannot open 'db/a.db'. */
#ifndef MS_UTIL_H
#define MS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define MS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MS_PRINTF(a, b)
#endif

/* Exit statuses of the command line. */
enum { MS_EXIT_OK = 0, MS_EXIT_FAIL = 1, MS_EXIT_USAGE = 2 };

/* Print "mlpsweep: <message>" to the error stream; returns -1. */
int ms_error(const char *fmt, ...) MS_PRINTF(1, 2);
/* Print the message as is (no prefix), e.g. "file:line:col: message". */
int ms_error_raw(const char *fmt, ...) MS_PRINTF(1, 2);
/* Redirect errors (tests capture them); NULL restores stderr. */
void ms_error_stream(FILE *f);
FILE *ms_error_file(void);

/* Allocation that aborts with a message on failure (out of memory is not a
 * condition the program can recover from meaningfully). */
void *ms_malloc(size_t n);
void *ms_calloc(size_t n, size_t size);
void *ms_realloc(void *p, size_t n);
char *ms_strdup(const char *s);
/* 64-byte aligned, zeroed; free with ms_free_aligned(). */
void *ms_alloc_aligned(size_t n);
void ms_free_aligned(void *p);

/* Monotonic seconds. */
double ms_now(void);

/* Bounded formatting into a fixed buffer; returns -1 on truncation. */
int ms_snprintf(char *buf, size_t n, const char *fmt, ...) MS_PRINTF(3, 4);

/* Write a whole file atomically: to a temporary name beside it, fsync, rename. */
int ms_write_file_atomic(const char *path, const void *data, size_t n);

#endif
