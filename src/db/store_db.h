/* The SQLite handle of an open store, for the two other modules that speak
 * SQL (query.c reads, merge.c copies runs across databases): private to
 * src/, include after <sqlite3.h>. Everything else goes through ms_store.h
 * and ms_query.h. */
#ifndef MS_STORE_DB_H
#define MS_STORE_DB_H

#include "ms_store.h"

sqlite3 *ms_store_handle(ms_store *s);

#endif
