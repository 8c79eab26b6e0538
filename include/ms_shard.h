/* ms_shard: a deterministic split of a sweep's runs into N shards.
 *
 * Every process of a SLURM array computes the same split from the same
 * manifest, without talking to the others: runs are taken longest first
 * (expected cost from ms_sched_cost, ties by their index in the run list)
 * and each goes to the shard with the least cost so far (ties to the lowest
 * shard number): greedy longest-processing-time. Every run lands in exactly
 * one shard; with more shards than runs some shards are empty. */
#ifndef MS_SHARD_H
#define MS_SHARD_H

#include "ms_manifest.h"

#define MS_SHARD_MAX 100000 /* shards at most (as many as runs can exist) */

/* Parse "I/N" (0 <= I < N, 1 <= N <= MS_SHARD_MAX); prints one line naming
 * `opt` and returns -1 when malformed. */
int ms_shard_parse(const char *opt, const char *s, int *index, int *count);

/* The shard of each run: shard_of[i] in [0, nshards) for specs[i]. When
 * load is not NULL it receives each shard's total cost (nshards entries). */
void ms_shard_assign(const ms_run_spec *specs, int n, int nshards, int *shard_of, double *load);

/* Keep only the runs of shard `index` of `nshards`, in their original order,
 * and every run of a pruned search (its trials go to shards stage by stage:
 * ms_rungs_in_shard); returns how many are left. */
int ms_shard_filter(ms_run_spec *specs, int n, int index, int nshards);

#endif
