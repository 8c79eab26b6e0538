/* ms_verify: `mlpsweep verify`. Every decision of a sweep's pruned searches
 * recomputed from the stored epochs (the same rules, ms_rungs and
 * ms_prune, fed from the database alone) and compared with the journal
 * row by row (value bit for bit, rank, cohort, decision, order); and each
 * run's epochs against the decisions: a run trained past a rung only when
 * its trial was promoted there, and stopped `pruned` only where it was
 * stopped. */
#ifndef MS_VERIFY_H
#define MS_VERIFY_H

#include "ms_store.h"

#include <stdio.h>

/* What verify found, per sweep. */
typedef struct ms_verify_result {
    int searches, decisions; /* checked */
    int differences;         /* each said on `out` */
} ms_verify_result;

/* 0 when it could read everything (r says what it found), -1 after a message. */
int ms_verify(ms_store *st, const char *sweep, FILE *out, ms_verify_result *r);

/* The decide step of a search run in stages (`merge` after each stage of
 * shards, docs/slurm.md): every decision the stored epochs of every sweep's
 * searches now allow, taken as verify takes them and added to the journal
 * (rows it holds already are kept). *decided: how many were added. 0, or
 * -1 after a message. */
int ms_verify_decide(ms_store *st, int *decided);

#endif
