/* ms_scope: which runs of a sweep a read covers (ms_query.h's reads take
 * one), and how a name a command is given finds its runs (scope.c).
 *
 * By default a read covers the current runs: those the sweep's last `run`
 * registered (runs.current = 1). With `all`, every run the database keeps
 * for the sweep. Otherwise the current runs and the groups `group` names,
 * runs of earlier invocations a command was asked for by name (a variant
 * not in the last run resolves to its runs from an earlier one).
 *
 * A group is a sweep's runs of one variant that share every setting but the
 * seed (runs.config without its seed: the same settings). Each group has a
 * name: the variant's when the group holds a current run or is the
 * variant's only group, else VARIANT@N, N counting the variant's settings
 * in the order they were first trained. A manifest's names cannot hold '@',
 * so the two never meet (docs/reports.md, "Every run: --all"). */
#ifndef MS_SCOPE_H
#define MS_SCOPE_H

#include "ms_store.h"

typedef struct ms_scope {
    int all;     /* every run of the sweep, each named by its group */
    int n;       /* else the current runs (named by their variant), and these groups: */
    char **group; /* a group's name (VARIANT or VARIANT@N) */
    char **as;    /* what the read calls its runs (the name the command was given) */
} ms_scope;

/* Add a group (copies both names; a group already added keeps its first
 * `as`): its index in group and as. ms_scope_release frees what the adds
 * allocated. */
int ms_scope_add(ms_scope *s, const char *group, const char *as);
void ms_scope_release(ms_scope *s);

/* How a name finds runs of the sweep: a current variant (its group's name
 * is the variant's), a group's name, or a variant none of whose groups is
 * current (the newest group, by its last run, is taken). */
typedef enum { MS_SCOPE_NONE, MS_SCOPE_CURRENT, MS_SCOPE_EARLIER } ms_scope_found;
typedef struct ms_scope_name {
    ms_scope_found found;
    char *group;  /* found: the group's name (malloc'd): `name`, or VARIANT@N */
    int runs;     /* found: the group's runs, current or not (every status) */
    int groups;   /* MS_SCOPE_EARLIER: the groups the name could mean (> 1: the newest taken) */
} ms_scope_name;
/* 0 (found may be MS_SCOPE_NONE), or -1 after one message. */
int ms_scope_resolve(ms_store *st, const char *sweep, const char *name, ms_scope_name *out);
void ms_scope_name_release(ms_scope_name *n);

/* Every group of the sweep, in the order of its first run: names malloc'd
 * (free each, then the array). 0, or -1 after one message. */
int ms_scope_groups(ms_store *st, const char *sweep, char ***names, int *n);

#endif
