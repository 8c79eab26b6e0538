/* ms_sql: small helpers over SQLite statements shared by the modules that
 * talk to SQLite (store.c, merge.c). Private to src/: include after <sqlite3.h>. */
#ifndef MS_SQL_UTIL_H
#define MS_SQL_UTIL_H

/* Text or NULL. The text must outlive the step (SQLITE_STATIC). */
static inline int ms_sql_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Step a statement that returns no row, then reset it. Returns SQLITE_DONE,
 * or the error code with the statement left as is (the message intact). */
static inline int ms_sql_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = SQLITE_MISUSE;
    if (rc == SQLITE_DONE)
        sqlite3_reset(st);
    return rc;
}

#endif
