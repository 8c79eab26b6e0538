/* ms_cluster: a sweep running on a cluster seen before any merge job, from
 * the shard copies its tasks publish while they train (run --publish,
 * docs/slurm.md): `mlpsweep status DIR`. Every copy is read as it is on
 * disk (a rename replaces it whole), none is written. */
#ifndef MS_CLUSTER_H
#define MS_CLUSTER_H

#include <stdint.h>

/* One published copy: what it holds, and how old it is. */
typedef struct ms_cluster_shard {
    char *name;    /* its path under DIR: shard-3.db, stage-1/shard-0.db, NAME.db */
    double age;    /* seconds since it was last published */
    int64_t runs, done, running, pending, failed, epochs_done, epochs_total;
    double eta;    /* seconds left at its pace so far (NAN: no pace yet, 0: done) */
} ms_cluster_shard;

typedef struct ms_cluster {
    char *merged; /* a temporary database: every copy merged (ms_merge) */
    int nshards;
    ms_cluster_shard *shards; /* by name */
    double eta;               /* the slowest shard's */
    int unstarted;            /* runs of the sweep no copy has started */
} ms_cluster;

/* 1 when path is a folder (a cluster sweep's --out), else 0. */
int ms_cluster_is_dir(const char *path);
/* Every copy in dir (DIR/shard-I.db, DIR/NAME.db, DIR/stage-S/shard-I.db)
 * read, and merged into a temporary database in $TMPDIR (else /tmp). 0, or
 * -1 after a message (no copy there, or one that is not an mlpsweep
 * database). */
int ms_cluster_read(const char *dir, ms_cluster *c);
/* The temporary database removed, the rest freed. */
void ms_cluster_release(ms_cluster *c);

#endif
