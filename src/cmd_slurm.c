/* cmd_merge, cmd_slurm: a sweep spread over a SLURM job array (ms_slurm.h),
 * and its shard databases merged back (ms_merge.h). */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_merge.h"
#include "ms_store.h"
#include "ms_shard.h"
#include "ms_slurm.h"
#include "ms_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- merge ---- */

static const char merge_usage[] =
    "usage: mlpsweep merge --db OUT SHARD.db...\n"
    "\n"
    "Merge the databases of a sharded sweep ('run --shard I/N', 'mlpsweep slurm')\n"
    "into OUT, created if missing. Runs are matched by sweep name, variant, seed\n"
    "and configuration; a run keeps its copy with the most finished epochs, so\n"
    "merging a shard again, or a newer copy of it, is safe. Two copies of a run\n"
    "with different results are an error and OUT is left unchanged; so is a\n"
    "shard holding a name, seed or setting no manifest could have produced.\n"
    "\n"
    "  --db OUT          the merged database\n"
    "  --quiet           no summary line\n"
    MS_HELP_EXIT;

int cmd_merge(int argc, char **argv)
{
    enum { O_DB = 256, O_QUIET, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},
        {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *out = NULL;
    int quiet = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &out); break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: fputs(merge_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (!out) {
        ms_error("missing --db OUT (see --help)");
        return MS_EXIT_USAGE;
    }
    if (optind >= argc) {
        ms_error("no shard databases to merge (see --help)");
        return MS_EXIT_USAGE;
    }
    int n = argc - optind;
    ms_merge_stats s;
    /* The output is checked before its writer lock (the same as `run`'s,
     * taken by the store) touches it. */
    if (ms_store_probe(out) < 0)
        return MS_EXIT_FAIL;
    int rc = ms_merge(out, (const char *const *)(argv + optind), n, &s);
    if (rc < 0)
        return MS_EXIT_FAIL;
    if (!quiet)
        fprintf(stderr,
                "merged %d shard database%s into '%s': %d runs added, %d updated, %d unchanged%s\n",
                n, n == 1 ? "" : "s", out, s.added, s.updated, s.same,
                s.missing ? "" : "; every run of the manifest is present");
    if (!quiet && s.missing)
        fprintf(stderr, "%d run%s of the manifest %s not started in any shard yet (pending)\n",
                s.missing, s.missing == 1 ? "" : "s", s.missing == 1 ? "is" : "are");
    return MS_EXIT_OK;
}

/* ---- slurm ---- */

static const char slurm_usage[] =
    "usage: mlpsweep slurm MANIFEST --out DIR [--shards N] [--cpus-per-task C]\n"
    "                      [--array-parallelism K] [--partition P] [--time T] [--submit]\n"
    "\n"
    "Write DIR/sweep.sbatch, a SLURM job array of N tasks (task I trains shard I/N\n"
    "of the manifest's runs into a database on node-local storage and copies it to\n"
    "DIR/shard-I.db when it ends), and DIR/merge.sbatch, which merges the shards\n"
    "into DIR/<name>.db once every task succeeded. Submitting again resumes.\n"
    "\n"
    "  --out DIR               folder for the scripts, logs and databases (created)\n"
    "  --shards N              array tasks (the number of runs, at most 16)\n"
    "  --cpus-per-task C       cores per task, its --threads (1)\n"
    "  --array-parallelism K   at most K tasks at once (no limit)\n"
    "  --partition P           the partition of both jobs (the cluster's default)\n"
    "  --time T                time limit of each job, e.g. 2:00:00 (the partition's)\n"
    "  --submit                submit both with sbatch (the merge with afterok on the\n"
    "                          array) and print their job ids\n"
    MS_HELP_EXIT;

int cmd_slurm(int argc, char **argv)
{
    enum { O_OUT = 256, O_SHARDS, O_CPUS, O_PAR, O_PART, O_TIME, O_SUBMIT, O_HELP };
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT},
        {"shards", required_argument, 0, O_SHARDS},
        {"cpus-per-task", required_argument, 0, O_CPUS},
        {"array-parallelism", required_argument, 0, O_PAR},
        {"partition", required_argument, 0, O_PART},
        {"time", required_argument, 0, O_TIME},
        {"submit", no_argument, 0, O_SUBMIT},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    ms_slurm_opts o = {NULL, 0, 1, 0, NULL, NULL, 0};
    const char *out = NULL;
    int submit = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, ":", opts, NULL), rc = 0;
        if (c == -1)
            break;
        switch (c) {
        case O_OUT: out = optarg; break;
        case O_SHARDS: rc = ms_parse_int("--shards", optarg, 1, MS_SHARD_MAX, &o.shards); break;
        case O_CPUS: rc = ms_parse_int("--cpus-per-task", optarg, 1, 1024, &o.cpus); break;
        case O_PAR:
            rc = ms_parse_int("--array-parallelism", optarg, 1, MS_SHARD_MAX, &o.parallel);
            break;
        case O_PART: rc = ms_slurm_check_word("--partition", o.partition = optarg); break;
        case O_TIME: rc = ms_slurm_check_word("--time", o.time = optarg); break;
        case O_SUBMIT: submit = 1; break;
        case O_HELP: fputs(slurm_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(c, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_one_manifest(argc, argv) < 0)
        return MS_EXIT_USAGE;
    if (!out || !*out) {
        ms_error("missing --out DIR (see --help)");
        return MS_EXIT_USAGE;
    }

    o.out = out;
    o.submit = submit;
    return ms_slurm_run(argv[optind], &o);
}
