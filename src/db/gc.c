/* ms_gc: dead training state dropped, the file compacted (ms_gc.h). The
 * store opens the file and holds its writer lock (store.c); this file only
 * runs its three statements on the store's connection, under its mutex. */
#define _POSIX_C_SOURCE 200809L
#include "ms_gc.h"
#include "ms_store.h"
#include "ms_util.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "sql_util.h" /* after <sqlite3.h> */
#include "store_db.h"

/* The checkpoints no run can use: a done run never trains again, a failed
 * one starts from scratch (ms_store_reset_run) */
static const char drop_sql[] = "DELETE FROM checkpoints WHERE run_id IN"
                               " (SELECT id FROM runs WHERE status IN ('done', 'failed'))";

/* The file and its log (the -shm index holds no data), in bytes. */
static long long disk_bytes(const char *path)
{
    struct stat st;
    long long n = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    char *wal = ms_xstrfmt("%s-wal", path);
    if (stat(wal, &st) == 0)
        n += (long long)st.st_size;
    free(wal);
    return n;
}

/* Run sql to its end (rows ignored): 0, or -1 after "<what> in '<path>':
 * <sqlite message>". */
static int run_sql(ms_store *s, const char *sql, const char *what)
{
    sqlite3 *db = ms_store_handle(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    while (rc == SQLITE_OK || rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        ms_error("%s in '%s': %s", what, ms_store_path(s), sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The dead checkpoints deleted in one transaction; *runs how many. */
static int drop_state(ms_store *s, long long *runs)
{
    const char *what = "cannot drop the training state";
    int rc = -1;
    ms_store_lock(s);
    if (ms_store_begin(s, what) == 0 && run_sql(s, drop_sql, what) == 0) {
        *runs = sqlite3_changes(ms_store_handle(s));
        rc = ms_store_commit(s, what);
    }
    ms_store_finish(s); /* rolls back what did not commit */
    ms_store_unlock(s);
    return rc;
}

/* VACUUM (outside any transaction) rewrites the file without the free
 * pages; in WAL mode it goes through the log, which the TRUNCATE
 * checkpoint folds back into the file, cutting it to its new size. */
static int compact(ms_store *s)
{
    ms_store_lock(s);
    int rc = run_sql(s, "VACUUM", "cannot compact");
    if (rc == 0)
        rc = run_sql(s, "PRAGMA wal_checkpoint(TRUNCATE)", "cannot compact");
    ms_store_unlock(s);
    return rc;
}

int ms_gc(const char *path, ms_gc_stats *stats)
{
    ms_store *s;
    *stats = (ms_gc_stats){0};
    /* read first: a writer would make an empty file a database */
    if (ms_store_open(path, MS_STORE_READONLY | MS_STORE_NOCHECK, &s) < 0)
        return -1;
    ms_store_close(s);
    stats->before = disk_bytes(path);
    if (ms_store_open(path, 0, &s) < 0)
        return -1;
    int rc = drop_state(s, &stats->runs);
    if (rc == 0)
        rc = compact(s);
    ms_store_close(s);
    stats->after = disk_bytes(path);
    return rc;
}
