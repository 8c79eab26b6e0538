/* The SQL of a read's scope (ms_scope.h), for the db layer's reads
 * (scope.c, query.c): private to src/db/, included after <sqlite3.h>. */
#ifndef MS_SCOPE_SQL_H
#define MS_SCOPE_SQL_H

#include "ms_scope.h"

/* Every run of the sweep ?1 (NULL: of every sweep) with its group's name:
 * the CTE rn (id, sweep_id, variant, current, gname). A run's settings are
 * its config without the seed (a config that is not JSON: as it is). */
#define MS_SCOPE_NAMES_SQL                                                                         \
    "rk AS (SELECT r.id, r.sweep_id, r.variant, r.current, CASE WHEN json_valid(r.config)"         \
    " THEN json_remove(r.config, '$.seed') ELSE r.config END AS k FROM runs r"                     \
    " JOIN sweeps s ON s.id = r.sweep_id WHERE ?1 IS NULL OR s.name = ?1),"                        \
    " rg AS (SELECT *, min(id) OVER (PARTITION BY sweep_id, variant, k) AS first,"                 \
    " max(current) OVER (PARTITION BY sweep_id, variant, k) AS cur FROM rk),"                      \
    " rr AS (SELECT *, dense_rank() OVER (PARTITION BY sweep_id, variant ORDER BY first) AS nth"   \
    " FROM rg),"                                                                                   \
    " rn AS (SELECT id, sweep_id, variant, current, CASE WHEN cur = 1"                             \
    " OR max(nth) OVER (PARTITION BY sweep_id, variant) = 1 THEN variant"                          \
    " ELSE variant || '@' || nth END AS gname FROM rr)"

/* The runs a read covers: the CTE `scope` (id, current, shown: the name the
 * read gives the run, ord: its name's first run, for the order of names).
 * ?2 is the scope's `all`, ?3 its groups as a JSON object {group: as}. */
#define MS_SCOPE_SQL                                                                               \
    "WITH " MS_SCOPE_NAMES_SQL ","                                                                 \
    " sel AS (SELECT rn.id, rn.sweep_id, rn.current, CASE WHEN ?2 THEN rn.gname"                   \
    " WHEN rn.current = 1 THEN rn.variant ELSE x.value END AS shown"                               \
    " FROM rn LEFT JOIN json_each(?3) x ON x.key = rn.gname"                                       \
    " WHERE ?2 OR rn.current = 1 OR x.key IS NOT NULL),"                                           \
    " scope AS (SELECT id, current, shown,"                                                        \
    " min(id) OVER (PARTITION BY sweep_id, shown) AS ord FROM sel) "

/* Bind ?2 and ?3 of a statement holding MS_SCOPE_SQL (s NULL: the current
 * runs). */
void ms_scope_bind(sqlite3_stmt *q, const ms_scope *s);

#endif
