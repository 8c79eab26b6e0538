/* cmd_run, cmd_check, cmd_status: a manifest's sweep and its database. */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_progress.h"
#include "ms_query.h"
#include "ms_sched.h"
#include "ms_shard.h"
#include "ms_store.h"
#include "ms_util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MS_VERSION
#define MS_VERSION "unknown"
#endif

/* db/<name>.db, creating db/ when it is the default place. */
static char *default_db(const char *name, int create_dir)
{
    char *p = ms_xstrfmt("db/%s.db", name);
    if (create_dir)
        mkdir("db", 0755);
    return p;
}

/* Keep only the variants named in a comma list; -1 on an unknown name. */
static int filter_only(const ms_manifest *m, const char *only, ms_run_spec *specs, int *n)
{
    char *list = ms_strdup(only), *save = NULL;
    int rc = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int v = 0; v < m->nvariants; v++)
            found |= !strcmp(m->variants[v].name, tok);
        if (!found) {
            rc = ms_error("--only: no variant '%s' in '%s'", tok, m->path);
            break;
        }
    }
    if (!rc) {
        int k = 0;
        for (int i = 0; i < *n; i++) {
            char *l2 = ms_strdup(only), *s2 = NULL;
            int keep = 0;
            for (char *tok = strtok_r(l2, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2))
                keep |= !strcmp(specs[i].variant, tok);
            free(l2);
            if (keep)
                specs[k++] = specs[i];
        }
        *n = k;
    }
    free(list);
    return rc;
}

static const char run_usage[] =
    "usage: mlpsweep run MANIFEST [--db FILE] [--jobs N] [--threads N] [--only NAME,...]\n"
    "                    [--shard I/N] [--retry-failed] [--data DIR] [--quiet]\n"
    "\n"
    "Train every run of the manifest (variants x seeds) in parallel and store each\n"
    "finished epoch in SQLite. Running the same command again resumes: finished\n"
    "runs are skipped, unfinished ones continue from their last finished epoch.\n"
    "\n"
    "  --db FILE         database (db/<manifest name>.db)\n"
    "  --threads N       total threads for the sweep (all cores)\n"
    "  --jobs N          runs trained at once (as many as threads)\n"
    "  --only A,B        only these variants\n"
    "  --shard I/N       only shard I (0 to N-1) of N: a fixed split of the runs,\n"
    "                    balanced by expected cost (see 'mlpsweep slurm')\n"
    "  --retry-failed    restart failed runs from scratch\n"
    "  --data DIR        MNIST folder, overriding the manifest's data.dir\n"
    "  --quiet           only errors and warnings on stderr\n";

int cmd_run(int argc, char **argv)
{
    enum { O_DB = 256, O_JOBS, O_THREADS, O_ONLY, O_RETRY, O_DATA, O_QUIET, O_HELP, O_SHARD };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},        {"jobs", required_argument, 0, O_JOBS},
        {"threads", required_argument, 0, O_THREADS}, {"only", required_argument, 0, O_ONLY},
        {"retry-failed", no_argument, 0, O_RETRY}, {"data", required_argument, 0, O_DATA},
        {"quiet", no_argument, 0, O_QUIET},        {"help", no_argument, 0, O_HELP},
        {"shard", required_argument, 0, O_SHARD},  {0, 0, 0, 0},
    };
    const char *db = NULL, *only = NULL, *data_dir = NULL;
    int threads = ms_default_threads(), jobs = 0, retry = 0, quiet = 0;
    int shard = 0, nshards = 0; /* nshards 0: no --shard */
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case O_JOBS: rc = ms_parse_int("--jobs", optarg, 1, MS_MAX_JOBS, &jobs); break;
        case O_THREADS: rc = ms_parse_int("--threads", optarg, 1, 1024, &threads); break;
        case O_ONLY: only = optarg; break;
        case O_RETRY: retry = 1; break;
        case O_DATA: data_dir = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_SHARD: rc = ms_shard_parse("--shard", optarg, &shard, &nshards); break;
        case O_HELP: fputs(run_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_one_manifest(argc, argv) < 0)
        return MS_EXIT_USAGE;
    if (nshards && !db) {
        ms_error("--shard needs --db FILE: each shard writes its own database (see 'mlpsweep merge')");
        return MS_EXIT_USAGE;
    }
    if (!jobs || jobs > threads)
        jobs = threads; /* never more runs than threads: no oversubscription */

    const char *mpath = argv[optind];
    ms_manifest m;
    if (ms_manifest_load(mpath, &m, data_dir == NULL) < 0)
        return MS_EXIT_USAGE;
    ms_run_spec *specs = NULL;
    int n = ms_manifest_expand(&m, &specs);
    int status = MS_EXIT_FAIL, lockfd = -1;
    char *dbpath = NULL;
    ms_store *st = NULL;
    ms_data d;
    int have_data = 0;
    ms_job *runs = NULL;
    ms_run_info *info = NULL;
    ms_run_key *keys = NULL;
    if (only && filter_only(&m, only, specs, &n) < 0) {
        status = MS_EXIT_USAGE;
        goto out;
    }
    if (nshards) {
        int all = n;
        n = ms_shard_filter(specs, n, shard, nshards);
        if (!n) {
            fprintf(stderr, "sweep '%s': shard %d/%d is empty (%d runs in %d shards): nothing to do\n",
                    m.name, shard, nshards, all, nshards);
            status = MS_EXIT_OK;
            goto out;
        }
        if (!quiet)
            fprintf(stderr, "sweep '%s': shard %d/%d holds %d of %d runs\n", m.name, shard, nshards, n,
                all);
    }
    /* The data before the database: a missing or broken file must leave no
     * database behind (and the runs' checkpoints carry its digest). */
    if (ms_data_load(data_dir ? data_dir : m.data_dir, m.train, m.val, &d) < 0)
        goto out;
    have_data = 1;
    dbpath = db ? ms_strdup(db) : default_db(m.name, 1);
    if (ms_store_probe(dbpath) < 0 || ms_db_lock(dbpath, &lockfd) < 0)
        goto out;
    if (ms_store_open(dbpath, MS_STORE_CREATE, &st) < 0)
        goto out;
    int64_t sweep_id;
    if (ms_store_sweep(st, m.name, mpath, m.text, &sweep_id) < 0)
        goto out;
    keys = ms_calloc((size_t)(n ? n : 1), sizeof *keys);
    info = ms_calloc((size_t)(n ? n : 1), sizeof *info);
    for (int i = 0; i < n; i++) {
        keys[i].variant = specs[i].variant;
        keys[i].task = specs[i].task;
        keys[i].cfg = &specs[i].cfg;
        keys[i].params = ms_config_params(&specs[i].cfg, MS_INPUT);
    }
    if (ms_store_register(st, sweep_id, keys, n, info) < 0)
        goto out;

    runs = ms_calloc((size_t)(n ? n : 1), sizeof *runs);
    int todo = 0, skipped = 0, failed_before = 0;
    for (int i = 0; i < n; i++) {
        if (info[i].replaced)
            fprintf(stderr, "variant '%s' seed %llu changed in the manifest: starting it as a new run\n",
                    specs[i].variant, (unsigned long long)specs[i].cfg.seed);
        if (info[i].status == MS_RUN_DONE) {
            skipped++;
            continue;
        }
        if (info[i].status == MS_RUN_FAILED) {
            if (!retry) {
                failed_before++;
                continue;
            }
            if (ms_store_reset_run(st, info[i].id) < 0)
                goto out;
            info[i].epochs_done = 0;
        }
        ms_job *r = &runs[todo++];
        r->run_id = info[i].id;
        r->variant = specs[i].variant;
        r->cfg = specs[i].cfg;
        r->epochs_done = info[i].epochs_done;
    }
    if (!quiet)
        fprintf(stderr, "sweep '%s': %d runs, %d done already, %d to train%s; database '%s'\n", m.name,
            n, skipped, todo, failed_before ? " (failed runs skipped: --retry-failed reruns them)" : "",
            dbpath);
    if (todo) {
        char host[256] = "unknown";
        gethostname(host, sizeof host - 1);
        ms_sched_opts o = {threads, jobs, quiet, MS_VERSION, "gcc " __VERSION__, host};
        ms_sched_install_signals();
        double t0 = ms_now();
        int rc = ms_sched_run(st, &d, runs, todo, &o);
        double wall = ms_now() - t0;
        if (rc < 0) {
            ms_error("the sweep stopped on a database error; finished epochs are saved: fix the "
                     "cause and run the same command to resume");
            goto out;
        }
        if (rc == 2) {
            ms_error("interrupted; finished epochs are saved: run the same command to resume");
            status = 130;
            goto out;
        }
        int nf = 0;
        for (int i = 0; i < todo; i++)
            nf += runs[i].failed;
        if (!quiet)
            fprintf(stderr, "sweep '%s': %d runs trained in %.1f s, %d failed\n", m.name, todo - nf,
                wall, nf);
        if (nf) {
            for (int i = 0; i < todo; i++)
                if (runs[i].failed)
                    ms_error("run '%s' seed %llu failed (see 'mlpsweep status')", runs[i].variant,
                             (unsigned long long)runs[i].cfg.seed);
            goto out;
        }
    }
    status = failed_before ? MS_EXIT_FAIL : MS_EXIT_OK;
out:
    if (have_data)
        ms_data_release(&d);
    ms_store_close(st);
    if (lockfd >= 0)
        close(lockfd);
    free(runs);
    free(info);
    free(keys);
    free(dbpath);
    free(specs);
    ms_manifest_release(&m);
    return status;
}

static const char check_usage[] =
    "usage: mlpsweep check MANIFEST\n"
    "       mlpsweep check --db DB\n\n"
    "Validate a manifest and print its runs, one a line; or check a database:\n"
    "SQLite's full integrity check, foreign keys, and that every run's epoch\n"
    "rows and checkpoint agree with its epoch count (exit 1 if not).\n";

/* check --db: the full check of a database, even one too damaged to open
 * for the other commands. */
static int check_db(const char *path)
{
    ms_store *st;
    if (ms_store_open(path, MS_STORE_READONLY | MS_STORE_NOCHECK, &st) < 0)
        return MS_EXIT_FAIL;
    int rc = ms_store_check(st);
    ms_store_close(st);
    if (rc < 0)
        return MS_EXIT_FAIL;
    printf("%s: ok (integrity, foreign keys, epoch rows and checkpoints)\n", path);
    return MS_EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
    enum { O_DB = 256 };
    static const struct option opts[] = {
        {"help", no_argument, 0, 'h'}, {"db", required_argument, 0, O_DB}, {0, 0, 0, 0}};
    const char *db = NULL;
    opterr = 0;
    optind = 1;
    for (int o; (o = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        if (o == 'h') {
            fputs(check_usage, stdout);
            return MS_EXIT_OK;
        }
        if (o == O_DB && !*optarg) {
            ms_error("--db needs a file name");
            return MS_EXIT_USAGE;
        }
        if (o == O_DB) {
            db = optarg;
            continue;
        }
        ms_option_error(o, argv);
        return MS_EXIT_USAGE;
    }
    if (db && optind < argc) {
        ms_error("check takes a manifest or --db, not both");
        return MS_EXIT_USAGE;
    }
    if (db)
        return check_db(db);
    if (ms_one_manifest(argc, argv) < 0)
        return MS_EXIT_USAGE;
    ms_manifest m;
    if (ms_manifest_load(argv[optind], &m, 0) < 0)
        return MS_EXIT_USAGE;
    ms_run_spec *specs;
    int n = ms_manifest_expand(&m, &specs);
    printf("%-18s %-5s %6s  %-14s %-17s %-13s %7s %5s %6s %6s %8s\n", "variant", "task", "seed",
           "hidden", "activation", "init", "lr", "mom", "batch", "epochs", "params");
    for (int i = 0; i < n; i++) {
        const ms_config *c = &specs[i].cfg;
        char hid[MS_MAX_HIDDEN * 12];
        ms_config_hidden_str(c, hid, sizeof hid);
        int same = c->nhidden > 2;
        for (int l = 1; l < c->nhidden; l++)
            same &= c->hidden[l] == c->hidden[0];
        if (same) /* ten layers of 64 reads better as 10x64 */
            snprintf(hid, sizeof hid, "%dx%d", c->nhidden, c->hidden[0]);
        char *task = ms_printable(specs[i].task);
        printf("%-18s %-5s %6llu  %-14s %-17s %-13s %7g %5g %6d %6d %8lld\n", specs[i].variant,
               task, (unsigned long long)c->seed, hid, ms_activation_name(c->activation),
               ms_init_name(c->init), c->lr, c->momentum, c->batch, c->epochs,
               (long long)ms_config_params(c, MS_INPUT));
        free(task);
    }
    fprintf(stderr, "%s: %d variants, %d runs; data %s (%d train, %d val)\n", m.path, m.nvariants,
            n, m.data_dir, m.train, m.val);
    free(specs);
    ms_manifest_release(&m);
    return MS_EXIT_OK;
}

/* The one database under db/, for `status` without arguments. */
static char *only_db_in_dbdir(void)
{
    FILE *p = popen("ls db/*.db 2>/dev/null", "r");
    if (!p)
        return NULL;
    char line[4096], *found = NULL;
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = 0;
        if (n++ == 0)
            found = ms_strdup(line);
    }
    pclose(p);
    if (n != 1) {
        free(found);
        return NULL;
    }
    return found;
}

/* The database's text as printable characters: it may not be ours. */
static void print_progress(const ms_progress *p)
{
    printf("%-18s %-5s %6s  %-8s %-9s %8s  %s\n", "variant", "task", "seed", "status", "epochs",
           "val acc", "note");
    for (int i = 0; i < p->nruns; i++) {
        const ms_run_progress *r = &p->runs[i];
        char acc[32] = "-";
        if (!isnan(r->last_val_acc))
            snprintf(acc, sizeof acc, "%.2f%%", 100 * r->last_val_acc);
        const char *in[6] = {r->variant, r->task, r->status, r->epochs, r->stop_reason, r->error};
        char *t[6];
        for (int k = 0; k < 6; k++)
            t[k] = ms_printable(in[k]);
        printf("%-18s %-5s %6lld  %-8s %-9s %8s  %s%s%s\n", t[0], t[1], (long long)r->seed, t[2],
               t[3], acc, t[4], *t[5] ? ": " : "", t[5]);
        for (int k = 0; k < 6; k++)
            free(t[k]);
    }
    for (int i = 0; i < p->nsweeps; i++) {
        const ms_sweep_progress *w = &p->sweeps[i];
        char *name = ms_printable(w->sweep);
        printf("sweep '%s': %lld/%lld runs done (%lld running, %lld pending, %lld failed), "
               "%lld/%lld epochs, %.1f s of training\n",
               name, (long long)w->done, (long long)w->runs, (long long)w->running,
               (long long)w->pending, (long long)w->failed, (long long)w->epochs_done,
               (long long)w->epochs_total, w->train_seconds);
        free(name);
    }
}

static const char status_usage[] =
    "usage: mlpsweep status [MANIFEST] [--db FILE]\n\n"
    "Show each run's state and progress and the sweep's done/total, from the\n"
    "database alone (db/<manifest name>.db, or the only database in db/).\n";

int cmd_status(int argc, char **argv)
{
    enum { O_DB = 256 };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *db = NULL, *manifest = NULL;
    opterr = 0;
    optind = 1;
    for (int o; (o = getopt_long(argc, argv, ":h", opts, NULL)) != -1;) {
        int rc = 0;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case 'h': fputs(status_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (optind < argc)
        manifest = argv[optind++];
    if (optind < argc) {
        ms_error("unexpected argument '%s' (see --help)", argv[optind]);
        return MS_EXIT_USAGE;
    }
    char *path = NULL;
    if (db)
        path = ms_strdup(db);
    else if (manifest) {
        ms_manifest m;
        if (ms_manifest_load(manifest, &m, 0) < 0)
            return MS_EXIT_USAGE;
        path = default_db(m.name, 0);
        ms_manifest_release(&m);
    } else if (!(path = only_db_in_dbdir())) {
        ms_error("no single database in db/: name one with --db FILE or give the manifest");
        return MS_EXIT_USAGE;
    }
    ms_store *st;
    if (ms_store_open(path, MS_STORE_READONLY, &st) < 0) {
        free(path);
        return MS_EXIT_FAIL;
    }
    ms_progress p;
    int rc = ms_query_progress(st, &p) < 0 ? MS_EXIT_FAIL : MS_EXIT_OK;
    ms_store_close(st);
    free(path);
    if (rc == MS_EXIT_OK)
        print_progress(&p);
    ms_progress_release(&p);
    return rc;
}
