/* ms_slurm: a sweep as a SLURM job array (docs/slurm.md). Writes two batch
 * scripts into an output folder: an array of N tasks, task I running
 * `mlpsweep run --shard I/N` into its own database on node-local storage,
 * and a merge job that runs once every task succeeded (afterok); with
 * `submit`, submits both with sbatch. SQLite files never live on the shared
 * file system while they are written: a task copies its database into the
 * output folder when it ends (WAL folded in, under a temporary name, then
 * renamed), and the next submission starts from that copy, so a task stopped
 * by SIGTERM (time limit, preemption) loses at most its unfinished epochs. */
#ifndef MS_SLURM_H
#define MS_SLURM_H

typedef struct ms_slurm_opts {
    const char *out;       /* the folder for scripts, logs and databases */
    int shards;            /* 0: as many as runs, at most 16 */
    int cpus, parallel;    /* cores per task; tasks at once (0: no limit) */
    const char *partition; /* NULL: the cluster's default */
    const char *time;      /* NULL: the partition's */
    int submit;
    const char *data;      /* --data DIR; NULL: where `run` looks (ms_data_locate) */
    char *const *settings; /* KEY=VALUE after the manifest, passed to every task's run */
    int nsettings;
    const char *only;      /* --only, passed on; NULL: every variant */
    int retry_failed;      /* --retry-failed, passed on */
    int publish_epochs;    /* each task publishes its shard while it trains (run --publish): */
    double publish_minutes; /* after this many epochs or minutes (0: not by that) */
} ms_slurm_opts;

/* A value that goes into an #SBATCH line as is (--partition, --time):
 * letters, digits and _.:,+-[] only; else one message naming opt and -1. */
int ms_slurm_check_word(const char *opt, const char *v);

/* Write OUT/sweep.sbatch and OUT/merge.sbatch for the manifest's sweep and,
 * with o->submit, submit them (printing the job ids). Returns the process's
 * exit status: MS_EXIT_OK, MS_EXIT_FAIL or MS_EXIT_USAGE. */
int ms_slurm_run(const char *manifest, const ms_slurm_opts *o);

#endif
