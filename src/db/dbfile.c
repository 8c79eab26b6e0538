/* ms_dbfile: a study database's files on disk, around what SQLite does
 * with them: the checks of the path before it opens it (for messages that
 * name the actual problem), the URI of a file to read in a folder we cannot
 * write, and the removal of a file with its side files. Private to src/db/:
 * store.c calls it (store_db.h). */
#define _POSIX_C_SOURCE 200809L
#include "ms_util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_db.h" /* after <sqlite3.h> */

/* File-system checks before SQLite opens the file, for messages that name
 * the actual problem (SQLite would only say "unable to open database file"). */
int ms_dbfile_check(const char *path, int readonly, int create)
{
    struct stat st;
    char *dir = NULL;
    int rc = -1;

    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            rc = ms_error("cannot open '%s': %s", path, strerror(EISDIR));
            goto out;
        }
        if (ms_db_regular(path, &st))
            goto out;
        if (readonly) {
            rc = access(path, R_OK) == 0 ? 0 : ms_error("cannot open '%s': %s", path, strerror(errno));
            goto out;
        }
        if (access(path, R_OK | W_OK) != 0) {
            rc = ms_error("cannot open '%s' for writing: %s", path, strerror(errno));
            goto out;
        }
        /* WAL mode creates '<path>-wal' and '<path>-shm' beside the file. */
        dir = ms_dir_of(path);
        if (access(dir, W_OK | X_OK) != 0) {
            rc = ms_error("cannot open '%s' for writing: folder '%s' is not writable", path, dir);
            goto out;
        }
        rc = 0;
        goto out;
    }
    if (errno != ENOENT) {
        rc = ms_error("cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if (!create) {
        rc = ms_error("cannot open '%s': no such database", path);
        goto out;
    }
    dir = ms_dir_of(path);
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT && !strcmp(dir, "db")) {
            /* The default folder of databases is created on demand. */
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                rc = ms_error("cannot create folder '%s': %s", dir, strerror(errno));
                goto out;
            }
        } else if (errno == ENOENT) {
            rc = ms_error("cannot create '%s': no such folder '%s'", path, dir);
            goto out;
        } else {
            rc = ms_error("cannot create '%s': %s", path, strerror(errno));
            goto out;
        }
    } else if (!S_ISDIR(st.st_mode)) {
        rc = ms_error("cannot create '%s': '%s' is not a folder", path, dir);
        goto out;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        rc = ms_error("cannot create '%s': folder '%s' is not writable", path, dir);
        goto out;
    }
    rc = 0;
out:
    free(dir);
    return rc;
}

int ms_dbfile_reader_tidies(const char *path)
{
    char *dir = ms_dir_of(path);
    int ok = access(path, R_OK | W_OK) == 0 && access(dir, W_OK | X_OK) == 0;
    free(dir);
    return ok;
}

/* A WAL database needs '<path>-shm' to be read. In a folder we cannot write,
 * with neither '-wal' nor '-shm' beside the file, no writer can be active
 * (it would have to create them), so the file is opened as immutable.
 * Returns the URI to open (caller frees), or NULL to open the path as is. */
char *ms_dbfile_uri(const char *path)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(path);
    char *dir = ms_dir_of(path), *side = ms_malloc(len + 8), *uri = NULL;
    int quiet = access(dir, W_OK) != 0;
    snprintf(side, len + 8, "%s-wal", path);
    quiet = quiet && access(side, F_OK) != 0;
    snprintf(side, len + 8, "%s-shm", path);
    quiet = quiet && access(side, F_OK) != 0;
    if (quiet) {
        char *p = uri = ms_malloc(3 * len + 32);
        memcpy(p, "file:", 5);
        p += 5;
        for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
            if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-._~/", *c)) {
                *p++ = (char)*c;
            } else {
                *p++ = '%';
                *p++ = hex[*c >> 4];
                *p++ = hex[*c & 15];
            }
        }
        memcpy(p, "?immutable=1", 13);
    }
    free(side);
    free(dir);
    return uri;
}

/* Remove path and the files SQLite keeps beside it. */
void ms_dbfile_remove(const char *path)
{
    unlink(path);
    for (int i = 0; ms_db_sides[i]; i++) {
        char *p = ms_xstrfmt("%s%s", path, ms_db_sides[i]);
        unlink(p);
        free(p);
    }
}
