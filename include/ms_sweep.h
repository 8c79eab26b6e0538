/* ms_sweep: the planner between a manifest and the scheduler. It owns the
 * rules of where a sweep's database is (db/<name>.db, or the only one in
 * db/), and `run`'s whole path: manifest -> runs (--only, --shard) -> the
 * data (loaded before any file is created) -> the database and its writer
 * lock -> registration -> the jobs left to train (done runs skipped, failed
 * ones kept failed or reset with --retry-failed) -> the scheduler. */
#ifndef MS_SWEEP_H
#define MS_SWEEP_H

/* db/<name>.db; with create_dir, db/ is made when missing. Malloc'd. */
char *ms_sweep_default_db(const char *name, int create_dir);

/* The database a read-only command uses when none is named: db/<name>.db
 * when a manifest gave the sweep's name, else the only *.db under db/.
 * 0 and *out (malloc'd), or -1 after one message; *several is set when db/
 * holds more than one (the user must choose: a usage error). */
int ms_sweep_find_db(const char *name, char **out, int *several);

/* `run`'s settings, already validated one by one by the command line. */
typedef struct ms_sweep_opts {
    const char *db;       /* NULL: db/<manifest name>.db */
    const char *only;     /* comma list of variants, or NULL */
    const char *data_dir; /* NULL: the manifest's data.dir */
    int threads, jobs;    /* jobs 0: as many as threads */
    int shard, nshards;   /* nshards 0: the whole sweep */
    int retry_failed, quiet;
    char *const *settings; /* KEY=VALUE arguments after the manifest (ms_manifest_load_args) */
    int nsettings;
} ms_sweep_opts;

/* Train every run of the manifest that is not done, resuming unfinished
 * ones. Returns the process's exit status: MS_EXIT_OK, MS_EXIT_FAIL (a run
 * failed, now or before, or an error), MS_EXIT_USAGE (a bad manifest or
 * --only) or 130 (interrupted: finished epochs are saved). */
int ms_sweep_run(const char *manifest, const ms_sweep_opts *o);

#endif
