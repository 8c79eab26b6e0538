/* cmd_merge, cmd_slurm: a sweep spread over a SLURM job array (ms_slurm.h),
 * and its shard databases merged back (ms_merge.h). */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_merge.h"
#include "ms_store.h"
#include "ms_shard.h"
#include "ms_slurm.h"
#include "ms_sweep.h"
#include "ms_util.h"
#include "ms_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- merge ---- */

static const ms_usage merge_usage = {
    .synopsis = "usage: mlpsweep merge --db OUT SHARD.db...\n",
    .about = "Merge the databases of a sharded sweep ('run --shard I/N', 'mlpsweep slurm')\n"
             "into OUT, created if missing. Runs are matched by sweep name, variant, seed\n"
             "and configuration; a run keeps its copy with the most finished epochs, so\n"
             "merging a shard again, or a newer copy of it, is safe. Two copies of a run\n"
             "with different results are an error and OUT is left unchanged; so is a\n"
             "shard holding a name, seed or setting no manifest could have produced.\n",
};

int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int quiet = 0;
    const ms_option opts[] = {
        MS_OPT_PATH(0, "db", &out, "OUT", "the merged database"),
        MS_OPT_FLAG('q', "quiet", &quiet, "no summary line"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &merge_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (!out) {
        ms_error("missing --db OUT (see --help)");
        return MS_EXIT_USAGE;
    }
    if (argc == 0) {
        ms_error("no shard databases to merge (see --help)");
        return MS_EXIT_USAGE;
    }
    int n = argc;
    ms_merge_stats s;
    int rc = ms_merge(out, (const char *const *)argv, n, &s);
    if (rc < 0)
        return MS_EXIT_FAIL;
    /* the decide step of a search run in stages: the rung the shards
     * reached is decided from the merged epochs */
    ms_store *st = NULL;
    int decided = 0;
    rc = ms_store_open(out, MS_STORE_CREATE, &st) < 0 ? -1 : ms_verify_decide(st, &decided);
    ms_store_close(st);
    if (rc < 0)
        return MS_EXIT_FAIL;
    if (!quiet)
        fprintf(stderr,
                "merged %d shard database%s into '%s': %d runs added, %d updated, %d unchanged%s\n",
                n, n == 1 ? "" : "s", out, s.added, s.updated, s.same,
                s.missing ? "" : "; every run of the manifest is present");
    if (!quiet && decided)
        fprintf(stderr, "%d decision%s of pruned searches taken from the merged epochs\n",
                decided, decided == 1 ? "" : "s");
    if (!quiet && s.missing)
        fprintf(stderr, "%d run%s of the manifest %s not started in any shard yet (pending)\n",
                s.missing, s.missing == 1 ? "" : "s", s.missing == 1 ? "is" : "are");
    return MS_EXIT_OK;
}

/* ---- slurm ---- */

static const ms_usage slurm_usage = {
    .synopsis =
        "usage: mlpsweep slurm MANIFEST [KEY=VALUE ...] --out DIR [--shards N]\n"
        "                      [--cpus-per-task C] [--array-parallelism K] [--partition P]\n"
        "                      [--time T] [--data DIR] [--only A,B] [--retry-failed] [--submit]\n",
    .about = "Write DIR/sweep.sbatch, a SLURM job array of N tasks (task I trains shard I/N\n"
             "of the manifest's runs into a database on node-local storage and copies it to\n"
             "DIR/shard-I.db when it ends), and DIR/merge.sbatch, which merges the shards\n"
             "into DIR/<name>.db once every task succeeded. Submitting again resumes.\n",
};

/* --partition and --time go into #SBATCH lines as they are */
static int sbatch_word(const ms_option *opt, const char *arg)
{
    char name[64];
    snprintf(name, sizeof name, "--%s", opt->long_name);
    *(const char **)opt->value = arg;
    return ms_slurm_check_word(name, arg);
}

int cmd_slurm(int argc, char **argv)
{
    ms_slurm_opts o = {.cpus = 1, .publish_minutes = MS_PUBLISH_MINUTES};
    const ms_option opts[] = {
        MS_OPT_STRING(0, "out", &o.out, "DIR",
                      "folder for the scripts, logs and databases (created)"),
        MS_OPT_INT(0, "shards", &o.shards, 1, MS_SHARD_MAX, "N",
                   "array tasks (the number of runs, at most 16)"),
        MS_OPT_INT(0, "cpus-per-task", &o.cpus, 1, 1024, "C", "cores per task, its --threads (1)"),
        MS_OPT_INT(0, "array-parallelism", &o.parallel, 1, MS_SHARD_MAX, "K",
                   "at most K tasks at once (no limit)"),
        MS_OPT_CALLBACK(0, "partition", &o.partition, "P",
                        "the partition of both jobs (the cluster's default)", sbatch_word),
        MS_OPT_CALLBACK(0, "time", &o.time, "T",
                        "time limit of each job, e.g. 2:00:00 (the partition's)", sbatch_word),
        MS_OPT_STRING(0, "data", &o.data, "DIR",
                      "MNIST folder for every task (else where 'run' looks, from here)"),
        MS_OPT_STRING(0, "only", &o.only, "A,B", "only these variants, as run --only"),
        MS_OPT_FLAG(0, "retry-failed", &o.retry_failed, "restart failed runs, as run does"),
        MS_OPT_INT(0, "publish-epochs", &o.publish_epochs, 0, 1000000, "N",
                   "each task copies its database to DIR after N epochs (0: not by epochs)"),
        MS_OPT_DOUBLE(0, "publish-minutes", &o.publish_minutes, "M",
                      "... or after M minutes (1; 0: not by time): what a node crash can lose"),
        MS_OPT_FLAG(0, "submit", &o.submit,
                    "submit both with sbatch (the merge with afterok on the array) and print "
                    "their job ids"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &slurm_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_manifest_and_settings(argc, argv, &o.settings, &o.nsettings) < 0)
        return MS_EXIT_USAGE;
    if (!(o.publish_minutes >= 0 && o.publish_minutes <= 1e6)) {
        ms_error("--publish-minutes: must be a number of minutes from 0 to 1000000");
        return MS_EXIT_USAGE;
    }
    if (!o.out || !*o.out) {
        ms_error("missing --out DIR (see --help)");
        return MS_EXIT_USAGE;
    }
    return ms_slurm_run(argv[0], &o);
}
