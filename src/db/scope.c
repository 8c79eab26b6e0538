/* ms_scope: which runs of a sweep a read covers, and how a name finds its
 * runs among every run the database keeps (ms_scope.h; the SQL in
 * scope_sql.h, shared with query.c's reads). */
#define _POSIX_C_SOURCE 200809L
#include "ms_scope.h"
#include "ms_util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope_sql.h" /* after <sqlite3.h> */
#include "store_db.h"

int ms_scope_add(ms_scope *s, const char *group, const char *as)
{
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->group[i], group))
            return i;
    s->group = ms_realloc(s->group, (size_t)(s->n + 1) * sizeof *s->group);
    s->as = ms_realloc(s->as, (size_t)(s->n + 1) * sizeof *s->as);
    s->group[s->n] = ms_strdup(group);
    s->as[s->n] = ms_strdup(as);
    return s->n++;
}

void ms_scope_release(ms_scope *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->group[i]), free(s->as[i]);
    free(s->group);
    free(s->as);
    s->group = s->as = NULL;
    s->n = 0;
}

void ms_scope_bind(sqlite3_stmt *q, const ms_scope *s)
{
    sqlite3_bind_int(q, 2, s && s->all);
    if (!s || s->all || !s->n) {
        sqlite3_bind_null(q, 3);
        return;
    }
    /* {group: as}: json_each reads it as a table */
    char *json = NULL;
    size_t len = 0;
    FILE *f = ms_memstream(&json, &len);
    fputc('{', f);
    for (int i = 0; i < s->n; i++) {
        fputs(i ? ", " : "", f);
        ms_json_string(f, s->group[i]);
        fputs(": ", f);
        ms_json_string(f, s->as[i]);
    }
    fputc('}', f);
    fclose(f);
    sqlite3_bind_text(q, 3, json, (int)len, SQLITE_TRANSIENT);
    free(json);
}

void ms_scope_name_release(ms_scope_name *n)
{
    free(n->group);
    memset(n, 0, sizeof *n);
}

/* The groups a name may mean: its own (a group's name) and, when it is a
 * variant's, that variant's; with each group's runs, whether one is
 * current, and its last run. */
static const char resolve_sql[] =
    "WITH " MS_SCOPE_NAMES_SQL
    " SELECT gname, count(*), max(current), max(id) FROM rn WHERE gname = ?4 OR variant = ?4"
    " GROUP BY gname";

/* A variant's current group alone, from the runs of that variant only:
 * the count of its runs with the settings of its current ones (0: none is
 * current). What most names are, answered without resolve_sql's pass over
 * every run of the sweep: a report names each of 100 variants. */
static const char current_sql[] =
    "WITH v AS (SELECT r.sweep_id, r.current, CASE WHEN json_valid(r.config)"
    " THEN json_remove(r.config, '$.seed') ELSE r.config END AS k FROM runs r"
    " JOIN sweeps s ON s.id = r.sweep_id WHERE (?1 IS NULL OR s.name = ?1) AND r.variant = ?4)"
    " SELECT count(*) FROM v WHERE (sweep_id, k) IN (SELECT sweep_id, k FROM v WHERE current = 1)";

/* One statement of the sweep's names, under the store's lock; 0 or -1. */
static int names_read(ms_store *st, const char *sql, const char *sweep, const char *name,
                      int (*row)(sqlite3_stmt *, void *), void *arg)
{
    sqlite3_stmt *q = NULL;
    int s = SQLITE_ERROR;
    ms_store_lock(st);
    sqlite3 *db = ms_store_handle(st);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, sweep, -1, SQLITE_TRANSIENT);
        if (name)
            sqlite3_bind_text(q, 4, name, -1, SQLITE_TRANSIENT);
        while ((s = sqlite3_step(q)) == SQLITE_ROW)
            row(q, arg);
    }
    int rc = s == SQLITE_DONE ? 0
                              : ms_error("cannot read '%s': runs: %s", ms_store_path(st),
                                         sqlite3_errmsg(db));
    sqlite3_finalize(q);
    ms_store_unlock(st);
    return rc;
}

/* The rows of resolve_sql: the name's own group, and the newest of its
 * variant's others. */
typedef struct resolving {
    const char *name;
    int own, own_current, own_runs;
    int others, best_runs;
    int64_t best_last;
    char *best;
} resolving;

static int resolve_row(sqlite3_stmt *q, void *arg)
{
    resolving *r = arg;
    const char *g = (const char *)sqlite3_column_text(q, 0);
    int runs = sqlite3_column_int(q, 1);
    int64_t last = sqlite3_column_int64(q, 3);
    if (!g)
        return 0;
    if (!strcmp(g, r->name)) {
        r->own = 1;
        r->own_current = sqlite3_column_int(q, 2) != 0;
        r->own_runs = runs;
    } else if (r->others++ == 0 || last > r->best_last) {
        free(r->best);
        r->best = ms_strdup(g);
        r->best_runs = runs;
        r->best_last = last;
    }
    return 0;
}

static int count_row(sqlite3_stmt *q, void *arg)
{
    *(int *)arg = sqlite3_column_int(q, 0);
    return 0;
}

int ms_scope_resolve(ms_store *st, const char *sweep, const char *name, ms_scope_name *out)
{
    memset(out, 0, sizeof *out);
    int current = 0;
    if (names_read(st, current_sql, sweep, name, count_row, &current) < 0)
        return -1;
    if (current > 0) {
        out->found = MS_SCOPE_CURRENT;
        out->group = ms_strdup(name);
        out->runs = current;
        out->groups = 1;
        return 0;
    }
    resolving r = {.name = name};
    int rc = names_read(st, resolve_sql, sweep, name, resolve_row, &r);
    if (rc == 0 && r.own) {
        out->found = r.own_current ? MS_SCOPE_CURRENT : MS_SCOPE_EARLIER;
        out->group = ms_strdup(name);
        out->runs = r.own_runs;
        out->groups = 1;
    } else if (rc == 0 && r.others) { /* a variant whose every group is VARIANT@N */
        out->found = MS_SCOPE_EARLIER;
        out->group = r.best;
        r.best = NULL;
        out->runs = r.best_runs;
        out->groups = r.others;
    }
    free(r.best);
    return rc;
}

/* ---- every group ---- */

static const char groups_sql[] =
    "WITH " MS_SCOPE_NAMES_SQL " SELECT gname FROM rn GROUP BY gname ORDER BY min(id)";

typedef struct name_list {
    char **names;
    int n, cap;
} name_list;

static int group_row(sqlite3_stmt *q, void *arg)
{
    name_list *l = arg;
    const unsigned char *g = sqlite3_column_text(q, 0);
    if (l->n == l->cap)
        l->names = ms_realloc(l->names, (size_t)(l->cap = l->cap ? 2 * l->cap : 16) *
                                            sizeof *l->names);
    l->names[l->n++] = ms_strdup(g ? (const char *)g : "");
    return 0;
}

int ms_scope_groups(ms_store *st, const char *sweep, char ***names, int *n)
{
    name_list l = {0};
    int rc = names_read(st, groups_sql, sweep, NULL, group_row, &l);
    if (rc < 0) {
        for (int i = 0; i < l.n; i++)
            free(l.names[i]);
        free(l.names);
        l.names = NULL, l.n = 0;
    }
    *names = l.names;
    *n = l.n;
    return rc;
}
