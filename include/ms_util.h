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
/* A formatted string, malloc'd (out of memory: the message above, then abort). */
char *ms_xstrfmt(const char *fmt, ...) MS_PRINTF(1, 2);
/* open_memstream, or the message and abort. */
FILE *ms_memstream(char **buf, size_t *len);
/* 64-byte aligned, zeroed; free with ms_free_aligned(). */
void *ms_alloc_aligned(size_t n);
void ms_free_aligned(void *p);

/* Monotonic seconds. */
double ms_now(void);

/* Bounded formatting into a fixed buffer; returns -1 on truncation. */
int ms_snprintf(char *buf, size_t n, const char *fmt, ...) MS_PRINTF(3, 4);

/* The folder part of a path ("." when it has none, "/" for the root), malloc'd. */
char *ms_dir_of(const char *path);
/* Create a folder and its missing parents (mode 0755); -1 after a message
 * when one cannot be made or the path is not a folder. */
int ms_mkdir_p(const char *dir);

/* Output files. Only a regular file is ever replaced (never a symlink,
 * device, FIFO or folder); temporaries are new files (mkstemp) beside the
 * target, synced before they are renamed into place. */

/* Before anything is written: path may be created or replaced, and is none
 * of the input databases nor of the files beside them (-wal, -shm, -journal,
 * .lock): the same device and inode where they exist, the same name where
 * not. */
int ms_output_check(const char *path, const char *const *inputs, int ninputs);
/* A new temporary file ".NAME.mlpsweep-HOST-PID-XXXXXX" in dir, mode 0644;
 * its name (malloc'd) and an open descriptor in *fd, or NULL after an
 * error. The first call for a folder removes the temporary files that
 * processes of this host left there when they died mid-write. */
char *ms_temp_in(const char *dir, const char *name, int *fd);
/* The same in path's folder, named after path's last component. */
char *ms_temp_beside(const char *path, int *fd);
/* Rename a finished temporary over path (refused unless path is absent or
 * a regular file), then sync the folder. */
int ms_publish(const char *tmp, const char *path);
/* A whole file into memory (malloc'd, NUL-terminated; *len without the NUL),
 * or -1 after "cannot read 'PATH': ...". */
int ms_load_file(const char *path, char **out, size_t *len);
/* Write a whole file atomically through ms_temp_beside and ms_publish. */
int ms_write_file_atomic(const char *path, const void *data, size_t n);

/* The writer lock of a database: a lock on the database file itself (so
 * every path to it meets the same lock), held until *fd is closed or the
 * process dies. A missing file is created empty (*created 1; NULL is fine)
 * and removed again if the lock fails. Only regular files are accepted.
 * Close *fd only after the SQLite connection to the file is closed: closing
 * any descriptor of a file drops the process's POSIX locks on it, SQLite's
 * included. */
int ms_db_lock(const char *db, int *fd, int *created);
/* 1 when another open of the file holds its writer lock (a live writer),
 * else 0. It opens and closes the file: call it before this process opens
 * the database with SQLite (see above). */
int ms_db_writer_live(const char *db);
/* The files SQLite keeps beside a database: its name plus each of these
 * (NULL-terminated). */
extern const char *const ms_db_sides[];
struct stat;
/* 0 when st is a regular file, else -1 after "'DB' is a FIFO, not a
 * database file" (a folder, a device, a socket). */
int ms_db_regular(const char *db, const struct stat *st);

/* FNV-1a 64: of n bytes, continuing from h (start from MS_HASH64_INIT); of a
 * NUL-terminated string (a run's config_hash is its 16 hex digits). */
#define MS_HASH64_INIT 14695981039346656037ULL
uint64_t ms_hash64_bytes(const void *p, size_t n, uint64_t h);
uint64_t ms_hash64(const char *text);

/* cp is a control character: C0, DEL or C1 (a terminal acts on each). */
int ms_is_control(long cp);

/* How a format writes a character: the text to write instead, or NULL for
 * the rule's default (buf, 8 bytes, may hold the text). */
typedef const char *ms_text_esc(long cp, char buf[8]);
/* s to f as well-formed UTF-8 that is safe to show: each byte that starts no
 * well-formed character (an overlong form, a surrogate or a code point past
 * U+10FFFF is none) as U+FFFD, each character as esc says (esc may be
 * NULL), any other control character as '?'. Every format writes text from a
 * manifest or a database through here (terminal, CSV, Markdown, LaTeX, JSON,
 * HTML, gnuplot), so a database cannot break one or drive a terminal. */
void ms_put_text(FILE *f, const char *s, ms_text_esc *esc);

/* s for a terminal or a document: a malloc'd copy by ms_put_text's rule
 * (control characters as '?', ill-formed UTF-8 as U+FFFD), so text from a
 * manifest or a database cannot move the cursor, clear the screen or break a
 * table. */
char *ms_printable(const char *s);

/* A finite x in the fewest significant digits that read back as exactly x
 * (0.1, not 0.10000000000000001): CSV, JSON and train's output. */
const char *ms_shortest(char buf[32], double x);

/* s as a JSON string (quoted, escaped, control characters as \u00XX); x as
 * a JSON number, null when not finite: export's JSON and status --json. */
void ms_json_string(FILE *f, const char *s);
void ms_json_num(FILE *f, double x);

/* s as HTML text or attribute value: & < > " ' as entities, line break and
 * tab as they are (export's html, the report). */
void ms_html_text(FILE *f, const char *s);

/* name is an item of a comma list ("a,b,c"). */
int ms_list_has(const char *list, const char *name);

/* The name among cand[0..n) a mistyped s most likely meant, or NULL: the
 * nearest by edit distance (at most 2, and less than both lengths), else one
 * sharing a prefix of at least 2 characters. ms_hint writes " (did you mean
 * 'x'?)" into buf and returns it, or returns "". Manifest keys, commands and
 * options all use it. */
const char *ms_suggest(const char *s, const char *const *cand, int n);
const char *ms_hint(char *buf, size_t n, const char *s, const char *const *cand, int ncand);

#endif
