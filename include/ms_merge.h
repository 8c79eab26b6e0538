/* ms_merge: shard databases of one sweep into one study database.
 *
 * Each task of a SLURM array writes its own database (`run --shard I/N`);
 * merging them gives the file a single machine would have written: one row
 * per sweep (by name), one per run (by variant, seed and config hash), the
 * runs registered in manifest order with current = 1 exactly for the runs of
 * the sweep's latest manifest, every epoch, validation and checkpoint as
 * stored by the shard that trained it, and each pruned search's rules and
 * decisions (which must agree between files). Only merge.c sees the SQL. */
#ifndef MS_MERGE_H
#define MS_MERGE_H

typedef struct ms_merge_stats {
    int sweeps;  /* sweeps found in the shards */
    int added;   /* runs the output did not hold yet (or only as pending) */
    int updated; /* runs replaced by a shard's copy with more finished epochs */
    int same;    /* runs the output already held with as many epochs */
    int missing; /* runs of the manifests never started in any file merged so far */
} ms_merge_stats;

/* Merge the shard files into `out` (created if missing) in ONE transaction.
 *
 * A run found in several places keeps the copy with the most finished
 * epochs (then: done before not done, started before never started); the
 * first such copy wins a tie, so merging a shard again changes nothing.
 * Two copies whose common epochs differ in any metric are an error naming
 * the run and both files; so are two files whose search has other rules,
 * or another decision on a trial at a rung. Shards that are not mlpsweep databases of this
 * schema version, or that hold a name, seed or setting no manifest could
 * have produced (checked by the manifest's rules, ms_manifest_stored_run,
 * with each run's config, config_hash and params against its settings),
 * are refused before anything is written. On any error `out`
 * is left as it was (removed again if this call created it) and -1 is
 * returned after one message; stats (may be NULL) is filled on success. */
int ms_merge(const char *out, const char *const *shards, int nshards, ms_merge_stats *stats);

#endif
