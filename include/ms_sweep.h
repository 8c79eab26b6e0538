/* ms_sweep: the planner between a manifest and the scheduler. It owns the
 * rules of where a sweep's database is (db/<name>.db, or the only one in
 * db/) and which sweep in it a command reads, and `run`'s whole path:
 * manifest -> runs (--only, --shard) -> the data (loaded before any file is
 * created) -> the database and its writer lock -> registration -> the jobs
 * left to train (done runs skipped, failed ones kept failed or reset with
 * --retry-failed) -> the scheduler. */
#ifndef MS_SWEEP_H
#define MS_SWEEP_H

#include "ms_manifest.h"
#include "ms_store.h"

/* The sweep a reading command (status, export, plot, report, compare,
 * claims) reads: its manifest when one is given, its database, and the
 * sweep's name in that database. */
typedef struct ms_sweep_target {
    ms_manifest m; /* the MANIFEST given, loaded (have_m) */
    int have_m;
    char *db;      /* --db FILE, else db/<manifest name>.db, else the only *.db in db/ */
    ms_store *st;  /* ms_sweep_target_open: the database, read-only */
    char *sweep;   /* ms_sweep_target_open: the manifest's name, else the database's only sweep */
} ms_sweep_target;

/* Load the manifest (when given) and find the database: db when given,
 * else as above. 0, or -1 after one message with *usage set when the
 * command line is at fault (a bad manifest, several databases in db/ to
 * choose from) rather than the files (no database at all). Release t
 * either way. */
int ms_sweep_target_find(ms_sweep_target *t, const char *manifest, const char *db, int *usage);
/* Then open the database read-only and find the sweep in it: 0, or -1
 * after one message. */
int ms_sweep_target_open(ms_sweep_target *t);
void ms_sweep_target_release(ms_sweep_target *t);

/* `run`'s settings, already validated one by one by the command line. */
/* run --publish: minutes between copies by default (a crash loses at most
 * this much of a task's training; a copy of a shard's file takes well under
 * a second, docs/slurm.md) */
#define MS_PUBLISH_MINUTES 1.0

typedef struct ms_sweep_opts {
    const char *db;       /* NULL: db/<manifest name>.db */
    const char *only;     /* comma list of variants, or NULL */
    const char *data_dir; /* NULL: the manifest's data.dir */
    int threads, jobs;    /* jobs 0: as many as threads */
    int shard, nshards;   /* nshards 0: the whole sweep */
    int retry_failed, quiet;
    const char *publish;    /* a copy of the database published there while it trains, or NULL */
    int publish_epochs;     /* ... after this many epochs (0: not by epochs) */
    double publish_minutes; /* ... or this long (0: not by time) */
    char *const *settings; /* KEY=VALUE arguments after the manifest (ms_manifest_load_args) */
    int nsettings;
} ms_sweep_opts;

/* What came of a sweep, for the command to make its exit status of. */
typedef struct ms_sweep_result {
    int usage;         /* on -1: the command line was at fault (the manifest, a setting,
                          --only or --data), not the files or the database */
    int failed_before; /* failed runs skipped (not --retry-failed) */
    int failed;        /* runs that failed in this sweep (each said on stderr) */
    int interrupted;   /* SIGINT or SIGTERM stopped it: finished epochs are saved */
} ms_sweep_result;

/* Train every run of the manifest that is not done, resuming unfinished
 * ones, with progress and a summary on stderr. 0 when the sweep ran to its
 * end or was interrupted (*r says how it went); -1 after a message when it
 * could not start or a database error stopped it. */
int ms_sweep_run(const char *manifest, const ms_sweep_opts *o, ms_sweep_result *r);

#endif
