/* ms_pub: a running sweep's database copied to a shared folder while it
 * trains (ms_store.h: ms_store_publish_to), so that a crash of the machine
 * loses at most one publishing interval and a requeued task, on whichever
 * node, goes on from the copy.
 *
 * A copy is SQLite's online backup of the store's connection into DEST's
 * folder under a temporary name, made self-contained (rollback journal,
 * not WAL: it is one file), then renamed over DEST: a reader sees the old
 * copy or the new one, never half. It runs in the writer's thread right
 * after a commit, under the store's lock, so it copies committed epochs
 * only. Before each copy, and again just before its rename, DEST must still
 * be the file this process last wrote (or found when it started): another
 * task writing the same copy (a requeued task beside one that is still
 * alive) stops this one, so a shard never has two writers. (A rename by
 * the other task between that last look and this one's rename is not
 * seen; the other task then stops at its next copy.) */
#define _GNU_SOURCE
#include "ms_store.h"
#include "ms_util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_db.h"

/* What identifies one version of DEST: a rename makes a new inode. */
typedef struct version {
    int exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} version;

struct ms_pub {
    char *dest;
    int every_epochs;     /* 0: by time only */
    double every_seconds; /* 0: by epochs only */
    int epochs;           /* committed since the last copy */
    double last;          /* monotonic seconds of the last copy (or of the start) */
    version mine;         /* DEST as this process last wrote it, or found it */
    int copies;
    double seconds; /* spent copying */
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static version version_of(const char *path)
{
    struct stat st;
    version v = {0};
    if (stat(path, &st) == 0)
        v = (version){1, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    return v;
}

static int same_version(const version *a, const version *b)
{
    return a->exists == b->exists &&
           (!a->exists || (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
                           a->mtime.tv_sec == b->mtime.tv_sec &&
                           a->mtime.tv_nsec == b->mtime.tv_nsec));
}

ms_pub *ms_pub_new(const char *dest, int every_epochs, double every_seconds)
{
    ms_pub *p = ms_calloc(1, sizeof *p);
    p->dest = ms_strdup(dest);
    p->every_epochs = every_epochs;
    p->every_seconds = every_seconds;
    p->last = now();
    p->mine = version_of(dest);
    return p;
}

void ms_pub_free(ms_pub *p)
{
    if (p)
        free(p->dest);
    free(p);
}

/* The copy: db's main database into `part`, one self-contained file. */
static int backup(sqlite3 *db, const char *part)
{
    sqlite3 *to = NULL;
    int rc = sqlite3_open_v2(part, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(to, "main", db, "main") : NULL;
    if (b) {
        rc = sqlite3_backup_step(b, -1);
        sqlite3_backup_finish(b);
        rc = rc == SQLITE_DONE ? sqlite3_errcode(to) : rc;
    } else {
        rc = SQLITE_ERROR;
    }
    if (rc == SQLITE_OK) /* the copy's header says WAL, as the source's: one file instead */
        rc = sqlite3_exec(to, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        ms_error("cannot copy the database to '%s': %s", part, to ? sqlite3_errmsg(to) : "no memory");
    sqlite3_close(to);
    return rc == SQLITE_OK ? 0 : -1;
}

int ms_pub_now(ms_pub *p, sqlite3 *db)
{
    double t0 = now();
    version v = version_of(p->dest);
    if (!same_version(&v, &p->mine))
        return ms_error("'%s' was written by another task since this one %s it: this task stops, "
                        "so that the shard never has two writers (is an earlier task of it "
                        "still running?)",
                        p->dest, p->copies ? "last wrote" : "started from");
    int fd;
    char *part = ms_temp_beside(p->dest, &fd);
    if (!part)
        return -1;
    close(fd); /* SQLite opens it by name and writes the copy */
    int rc = backup(db, part);
    v = version_of(p->dest); /* again: another task may have written it meanwhile */
    if (rc == 0 && !same_version(&v, &p->mine))
        rc = ms_error("'%s' was written by another task while this one copied it: this task "
                      "stops, so that the shard never has two writers",
                      p->dest);
    if (rc == 0)
        rc = ms_publish(part, p->dest); /* renamed over DEST, the folder synced */
    if (rc < 0)
        unlink(part);
    free(part);
    if (rc < 0)
        return -1;
    p->mine = version_of(p->dest);
    p->epochs = 0;
    p->last = now();
    p->copies++;
    p->seconds += p->last - t0;
    return 0;
}

int ms_pub_due(ms_pub *p, sqlite3 *db, int epochs)
{
    if (!p)
        return 0;
    p->epochs += epochs;
    if (p->epochs == 0)
        return 0;
    int due = (p->every_epochs > 0 && p->epochs >= p->every_epochs) ||
              (p->every_seconds > 0 && now() - p->last >= p->every_seconds);
    return due ? ms_pub_now(p, db) : 0;
}

void ms_pub_stats(const ms_pub *p, int *copies, double *seconds)
{
    *copies = p ? p->copies : 0;
    *seconds = p ? p->seconds : 0;
}
