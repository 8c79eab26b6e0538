/* ms_sweep: the planner from a manifest to the scheduler (ms_sweep.h). */
#define _GNU_SOURCE
#include "ms_sweep.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_query.h"
#include "ms_sched.h"
#include "ms_shard.h"
#include "ms_store.h"
#include "ms_util.h"

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MS_VERSION
#define MS_VERSION "unknown"
#endif

/* ---- where the database is ---- */

/* db/<name>.db; with create_dir, db/ is made when missing. Malloc'd. */
static char *default_db(const char *name, int create_dir)
{
    char *p = ms_xstrfmt("db/%s.db", name);
    if (create_dir)
        mkdir("db", 0755);
    return p;
}

/* db/<name>.db when the sweep's name is known, else the only *.db under db/
 * (*several when there are more). 0 and *out (malloc'd), or -1 after one
 * message. */
static int find_db(const char *name, char **out, int *several)
{
    *out = NULL;
    *several = 0;
    if (name) {
        *out = default_db(name, 0);
        return 0;
    }
    glob_t g;
    int r = glob("db/*.db", 0, NULL, &g);
    size_t n = r == 0 ? g.gl_pathc : 0;
    if (n == 1)
        *out = ms_strdup(g.gl_pathv[0]);
    if (r == 0)
        globfree(&g);
    if (n == 0)
        return ms_error("no database in db/: run a sweep first, or name one with --db FILE");
    if (n > 1) {
        *several = 1;
        return ms_error("%zu databases in db/: name one with --db FILE or give the manifest", n);
    }
    return 0;
}

int ms_sweep_target_find(ms_sweep_target *t, const char *manifest, const char *db, int *usage)
{
    memset(t, 0, sizeof *t);
    *usage = 0;
    if (manifest) {
        if (ms_manifest_load(manifest, &t->m, 0) < 0) {
            *usage = 1;
            return -1;
        }
        t->have_m = 1;
    }
    if (db) {
        t->db = ms_strdup(db);
        return 0;
    }
    return find_db(t->have_m ? t->m.name : NULL, &t->db, usage);
}

int ms_sweep_target_open(ms_sweep_target *t)
{
    if (ms_store_open(t->db, MS_STORE_READONLY, &t->st) < 0)
        return -1;
    return ms_query_sweep(t->st, t->have_m ? t->m.name : NULL, &t->sweep);
}

void ms_sweep_target_release(ms_sweep_target *t)
{
    ms_store_close(t->st);
    if (t->have_m)
        ms_manifest_release(&t->m);
    free(t->db);
    free(t->sweep);
    memset(t, 0, sizeof *t);
}

/* ---- run ---- */

/* Everything `run` holds between its steps; released by plan_release. */
typedef struct plan {
    ms_manifest m;
    int have_m;
    ms_run_spec *specs;
    int n; /* runs selected */
    ms_data d;
    int have_data;
    char *datadir; /* where the data was found */
    char *dbpath;
    ms_store *st;
    ms_run_info *info; /* (n) */
    ms_job *jobs;
    int todo, skipped;
    ms_sweep_result *r;
} plan;

/* Each step returns GO_ON when the next one should run, DONE when nothing
 * is left to do, or -1 after a message (setting r->usage when the command
 * line is at fault). */
enum { GO_ON = 0, DONE = 1 };

/* -1 for a mistake of the command line's (a bad manifest, --only, --data) */
static int usage_error(plan *p)
{
    p->r->usage = 1;
    return -1;
}

static void plan_release(plan *p)
{
    if (p->have_data)
        ms_data_release(&p->d);
    free(p->datadir);
    ms_store_close(p->st);
    free(p->jobs);
    free(p->info);
    free(p->dbpath);
    free(p->specs);
    if (p->have_m)
        ms_manifest_release(&p->m);
}

/* Keep only the variants named in a comma list; -1 on an unknown name. */
static int filter_only(const ms_manifest *m, const char *only, ms_run_spec *specs, int *n)
{
    if (ms_manifest_check_variants(m, only, "--only") < 0)
        return -1;
    int k = 0;
    for (int i = 0; i < *n; i++)
        if (ms_manifest_listed(m, specs[i].variant, only))
            specs[k++] = specs[i];
    *n = k;
    return 0;
}

/* The manifest's runs that this invocation trains: --only, then --shard. */
static int select_runs(plan *p, const char *manifest, const ms_sweep_opts *o)
{
    if (ms_manifest_load_args(manifest, o->settings, o->nsettings, &p->m, 0) < 0)
        return usage_error(p);
    p->have_m = 1;
    p->n = ms_manifest_expand(&p->m, &p->specs);
    if (o->only && filter_only(&p->m, o->only, p->specs, &p->n) < 0)
        return usage_error(p);
    if (!o->nshards)
        return GO_ON;
    int all = p->n;
    p->n = ms_shard_filter(p->specs, p->n, o->shard, o->nshards);
    if (!p->n) {
        fprintf(stderr, "sweep '%s': shard %d/%d is empty (%d runs in %d shards): nothing to do\n",
                p->m.name, o->shard, o->nshards, all, o->nshards);
        return DONE;
    }
    if (!o->quiet)
        fprintf(stderr, "sweep '%s': shard %d/%d holds %d of %d runs\n", p->m.name, o->shard,
                o->nshards, p->n, all);
    return GO_ON;
}

/* Where the data is: --data (it must hold the files), else the first of
 * the manifest's data.dir, $MLPSWEEP_DATA, the per-user cache and (for a
 * dataset Debian packages) its system folder that does. A manifest that
 * names its dataset gets that dataset's files only (their first labels
 * tell them apart). *dir is malloc'd. */
static const char *const system_dirs[MS_DATASET_N] = {NULL, "/usr/share/datasets/fashion-mnist"};

static int locate_data(plan *p, const ms_sweep_opts *o, char **dir)
{
    int ds = p->m.dataset, check = p->m.dataset_stated ? ds : -1;
    const char *name = ms_dataset_titles[ds];
    if (o->data_dir) {
        if (ms_data_present(o->data_dir, check)) {
            *dir = ms_strdup(o->data_dir);
            return GO_ON;
        }
        ms_error("--data: '%s' does not hold the four %s files (train-images-idx3-ubyte "
                 "and the others, raw or .gz)",
                 o->data_dir, name);
        return usage_error(p);
    }
    const char *env = getenv("MLPSWEEP_DATA");
    char *cache = ms_data_cache_dir(ds);
    const char *cand[] = {p->m.data_dir, env && *env ? env : NULL, cache, system_dirs[ds]};
    for (size_t i = 0; i < sizeof cand / sizeof *cand; i++)
        if (cand[i] && ms_data_present(cand[i], check)) {
            *dir = ms_strdup(cand[i]);
            free(cache);
            return GO_ON;
        }
    char at[512] = "";
    if (p->m.data_line)
        snprintf(at, sizeof at, " (%s:%d:%d)", p->m.path, p->m.data_line, p->m.data_col);
    char *envs = env && *env ? ms_xstrfmt("nor in $MLPSWEEP_DATA '%s'", env)
                             : ms_strdup("$MLPSWEEP_DATA is not set");
    ms_error("no %s data: not in data.dir '%s'%s, %s, nor in the cache '%s'%s%s: run "
             "'mlpsweep fetch%s%s' to fill the cache%s",
             name, p->m.data_dir, at, envs, cache ? cache : "(no $HOME)",
             system_dirs[ds] ? " or " : "", system_dirs[ds] ? system_dirs[ds] : "", ds ? " " : "",
             ds ? ms_dataset_names[ds] : "", ds ? "" : " (or 'make data' in the source tree)");
    free(envs);
    free(cache);
    return -1;
}

/* The data, then the database (locked), the sweep and its runs registered. */
static int open_db(plan *p, const char *manifest, const ms_sweep_opts *o)
{
    /* The data before the database: a missing or broken file must leave no
     * database behind (and the runs' checkpoints carry its digest). */
    char *dir = NULL;
    if (locate_data(p, o, &dir) < 0)
        return -1;
    int rc = ms_data_load(dir, p->m.train, p->m.val, &p->d);
    p->datadir = dir;
    if (rc < 0)
        return -1;
    p->have_data = 1;
    p->dbpath = o->db ? ms_strdup(o->db) : default_db(p->m.name, 1);
    int64_t sweep_id;
    char digest[17];
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)p->d.identity);
    ms_data_ident data = {ms_dataset_names[p->m.dataset], digest, p->datadir};
    if (ms_store_probe_data(p->dbpath, p->m.name, &data) < 0 ||
        ms_store_open(p->dbpath, MS_STORE_CREATE, &p->st) < 0 ||
        ms_store_sweep(p->st, p->m.name, manifest, p->m.text, &data, &sweep_id) < 0)
        return -1;
    p->info = ms_calloc((size_t)(p->n ? p->n : 1), sizeof *p->info);
    return ms_store_register(p->st, sweep_id, p->specs, p->n, p->info) < 0 ? -1 : GO_ON;
}

/* The runs left to train: done ones skipped, failed ones skipped or (with
 * --retry-failed) reset to start again. */
static int pick_jobs(plan *p, const ms_sweep_opts *o)
{
    p->jobs = ms_calloc((size_t)(p->n ? p->n : 1), sizeof *p->jobs);
    for (int i = 0; i < p->n; i++) {
        const ms_run_spec *s = &p->specs[i];
        ms_run_info *in = &p->info[i];
        if (in->replaced && in->is_new)
            fprintf(stderr, "variant '%s' seed %llu changed in the manifest: starting it as a new run\n",
                    s->variant, (unsigned long long)s->cfg.seed);
        else if (in->replaced) /* settings back to ones it ran with before */
            fprintf(stderr, "variant '%s' seed %llu is back to settings it ran with before: "
                            "that run is current again (%d epochs done)\n",
                    s->variant, (unsigned long long)s->cfg.seed, in->epochs_done);
        if (in->status == MS_RUN_DONE) {
            p->skipped++;
            continue;
        }
        if (in->status == MS_RUN_FAILED) {
            if (!o->retry_failed) {
                p->r->failed_before++;
                continue;
            }
            if (ms_store_reset_run(p->st, in->id) < 0)
                return -1;
            in->epochs_done = 0;
        }
        ms_job *j = &p->jobs[p->todo++];
        j->run_id = in->id;
        j->run = s;
        j->epochs_done = in->epochs_done;
    }
    if (!o->quiet)
        fprintf(stderr,
                "sweep '%s': %d runs, %d done already, %d to train%s; data '%s'; "
                "database '%s'\n",
                p->m.name, p->n, p->skipped, p->todo,
                p->r->failed_before ? " (failed runs skipped: --retry-failed reruns them)" : "",
                p->datadir, p->dbpath);
    return GO_ON;
}

/* The scheduler over the jobs, and what came of them (in p->r). */
static int train(plan *p, const ms_sweep_opts *o)
{
    if (!p->todo)
        return DONE;
    char host[256] = "unknown";
    gethostname(host, sizeof host - 1);
    /* never more runs at once than threads: no oversubscription */
    int jobs = !o->jobs || o->jobs > o->threads ? o->threads : o->jobs;
    if (o->jobs > o->threads && !o->quiet) /* said, not done silently */
        fprintf(stderr, "--jobs %d: runs at once: %d (each needs a thread; --threads %d)\n",
                o->jobs, o->threads, o->threads);
    ms_sched_opts so = {o->threads, jobs, o->quiet, MS_VERSION, "gcc " __VERSION__, host};
    ms_sched_install_signals();
    double t0 = ms_now();
    int rc = ms_sched_run(p->st, &p->d, p->jobs, p->todo, &so);
    double wall = ms_now() - t0;
    if (rc < 0)
        return ms_error("the sweep stopped on a database error; finished epochs are saved: fix "
                        "the cause and run the same command to resume");
    if (rc == 2) {
        p->r->interrupted = 1;
        return DONE;
    }
    int nf = 0;
    for (int i = 0; i < p->todo; i++)
        nf += p->jobs[i].failed;
    p->r->failed = nf;
    if (!o->quiet)
        fprintf(stderr, "sweep '%s': %d runs trained in %.1f s, %d failed\n", p->m.name,
                p->todo - nf, wall, nf);
    for (int i = 0; i < p->todo; i++)
        if (p->jobs[i].failed)
            ms_error("run '%s' seed %llu failed (see 'mlpsweep status')", p->jobs[i].run->variant,
                     (unsigned long long)p->jobs[i].run->cfg.seed);
    return DONE;
}

int ms_sweep_run(const char *manifest, const ms_sweep_opts *o, ms_sweep_result *r)
{
    plan p;
    memset(&p, 0, sizeof p);
    memset(r, 0, sizeof *r);
    p.r = r;
    int rc = select_runs(&p, manifest, o);
    if (rc == GO_ON)
        rc = open_db(&p, manifest, o);
    if (rc == GO_ON)
        rc = pick_jobs(&p, o);
    if (rc == GO_ON)
        rc = train(&p, o);
    plan_release(&p);
    return rc < 0 ? -1 : 0;
}
