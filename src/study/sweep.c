/* ms_sweep: the planner from a manifest to the scheduler (ms_sweep.h). */
#define _GNU_SOURCE
#include "ms_sweep.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_query.h"
#include "ms_rungs.h"
#include "ms_sched.h"
#include "ms_shard.h"
#include "ms_store.h"
#include "ms_util.h"

#include <glob.h>
#include <stdarg.h>
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
    int64_t sweep_id;
    ms_run_info *info; /* (n) */
    ms_job *jobs;
    int todo, skipped;
    int others; /* runs of a search that other shards train in this stage */
    int *twin_of; /* (n): the run of this invocation whose results run i takes once it is
                     trained (the same settings and seed: ms_store_take_twin), or -1 */
    int ntwins;
    ms_manifest base; /* the manifest with the command line's grids only (changed_where) */
    ms_run_spec *bspecs;
    int nb, bcursor, have_base;
    ms_rungs *rungs; /* the pruned searches' rungs, or NULL */
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
    ms_rungs_free(p->rungs);
    free(p->twin_of);
    free(p->bspecs);
    if (p->have_base > 0)
        ms_manifest_release(&p->base);
    free(p->info);
    free(p->dbpath);
    free(p->specs);
    if (p->have_m)
        ms_manifest_release(&p->m);
}

/* The manifest's runs that this invocation trains: --only, then --shard. */
static int select_runs(plan *p, const char *manifest, const ms_sweep_opts *o)
{
    if (ms_manifest_load_args(manifest, o->settings, o->nsettings, &p->m, 0) < 0)
        return usage_error(p);
    p->have_m = 1;
    p->n = ms_manifest_expand(&p->m, &p->specs);
    if (o->only && ms_manifest_only(&p->m, o->only, p->specs, &p->n) < 0)
        return usage_error(p);
    if (ms_rungs_check(p->specs, p->n, o->nshards > 0) < 0)
        return usage_error(p);
    if (!o->nshards)
        return GO_ON;
    int all = p->n, searched = 0;
    for (int i = 0; i < p->n; i++)
        searched += p->specs[i].prune != NULL;
    p->n = ms_shard_filter(p->specs, p->n, o->shard, o->nshards);
    if (!p->n) {
        fprintf(stderr, "sweep '%s': shard %d/%d is empty (%d runs in %d shards): nothing to do\n",
                p->m.name, o->shard, o->nshards, all, o->nshards);
        return DONE;
    }
    if (!o->quiet && searched)
        fprintf(stderr, "sweep '%s': shard %d/%d holds %d of the %d runs outside searches; the "
                        "trials of pruned searches are dealt at each stage (%d runs)\n",
                p->m.name, o->shard, o->nshards, p->n - searched, all - searched, searched);
    else if (!o->quiet)
        fprintf(stderr, "sweep '%s': shard %d/%d holds %d of %d runs\n", p->m.name, o->shard,
                o->nshards, p->n, all);
    return GO_ON;
}

/* Where the data is (ms_data_locate: --data, data.dir, $MLPSWEEP_DATA,
 * the cache, the system folder). *dir is malloc'd. */
static int locate_data(plan *p, const ms_sweep_opts *o, char **dir)
{
    char at[512] = "";
    if (p->m.data_line)
        snprintf(at, sizeof at, "%s:%d:%d", p->m.path, p->m.data_line, p->m.data_col);
    ms_data_where w = {o->data_dir, p->m.data_line ? p->m.data_dir : NULL,
                       p->m.data_line ? at : NULL, p->m.dataset, p->m.dataset_stated, 1};
    int rc = ms_data_locate(&w, dir);
    if (rc == -1) {
        /* no data, and none needed when every run is done already */
        char *db = o->db ? ms_strdup(o->db) : default_db(p->m.name, 0);
        int done = ms_store_all_done(db, p->m.name, p->specs, p->n);
        if (done && !o->quiet)
            fprintf(stderr, "sweep '%s': %d run%s, all done already in '%s': nothing to train "
                            "(and no data needed)\n",
                    p->m.name, p->n, p->n == 1 ? "" : "s", db);
        free(db);
        if (done)
            return DONE;
        ms_data_say_missing(&w); /* where it looked */
    }
    return rc == -2 ? usage_error(p) : rc < 0 ? -1 : GO_ON;
}

/* 1 when run i is the first of a pruned search among the selected runs. */
static int first_of_search(const plan *p, int i)
{
    return p->specs[i].prune &&
           (i == 0 || !p->specs[i - 1].prune || strcmp(p->specs[i - 1].grid, p->specs[i].grid));
}

/* The data, then the database (locked), the sweep and its runs registered. */
static int open_db(plan *p, const char *manifest, const ms_sweep_opts *o)
{
    /* The data before the database: a missing or broken file must leave no
     * database behind (and the runs' checkpoints carry its digest). */
    char *dir = NULL;
    int found = locate_data(p, o, &dir);
    if (found != GO_ON)
        return found;
    int rc = ms_data_load(dir, p->m.train, p->m.val, &p->d);
    p->datadir = dir;
    if (rc < 0)
        return -1;
    p->have_data = 1;
    p->dbpath = o->db ? ms_strdup(o->db) : default_db(p->m.name, 1);
    char digest[17];
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)p->d.identity);
    ms_data_ident data = {ms_dataset_names[p->m.dataset], digest, p->datadir};
    if (ms_store_probe_data(p->dbpath, p->m.name, &data) < 0 ||
        ms_store_open(p->dbpath, MS_STORE_CREATE, &p->st) < 0)
        return -1;
    if (o->publish && ms_store_publish_to(p->st, o->publish, o->publish_epochs,
                                          60 * o->publish_minutes) < 0)
        return -1;
    for (int i = 0; i < p->n; i++) /* a search's rules changed: refused before any write */
        if (first_of_search(p, i) && ms_store_search_allows(p->st, p->m.name, p->specs[i].grid,
                                                            p->specs[i].trials,
                                                            p->specs[i].prune) < 0)
            return usage_error(p);
    if (ms_store_sweep(p->st, p->m.name, manifest, p->m.text, &data, &p->sweep_id) < 0)
        return -1;
    p->info = ms_calloc((size_t)(p->n ? p->n : 1), sizeof *p->info);
    return ms_store_register(p->st, p->sweep_id, p->specs, p->n, p->info) < 0 ? -1 : GO_ON;
}

/* ---- the notes of `run` on its runs ---- */

/* Notes of one kind on stderr: the first NOTES_SHOWN of them, then how
 * many more (a grid of 1,000 runs gets four lines, not 1,000). */
enum { NOTES_SHOWN = 3 };
typedef struct notes {
    int n;
    const char *more; /* "... and K more runs <more>" */
} notes;

static void note(notes *nt, const char *fmt, ...) MS_PRINTF(2, 3);
static void note(notes *nt, const char *fmt, ...)
{
    if (nt->n++ >= NOTES_SHOWN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void notes_end(const notes *nt)
{
    if (nt->n > NOTES_SHOWN)
        fprintf(stderr, "... and %d more run%s %s\n", nt->n - NOTES_SHOWN,
                nt->n - NOTES_SHOWN > 1 ? "s" : "", nt->more);
}

/* The manifest with the command line's grids only (they name the variants):
 * the settings a run would have without the other settings given. Loaded
 * the first time it is needed; have_base -1 when it cannot be (a value of a
 * grid valid only with a setting left out), silently: the note then says
 * "in the manifest". */
static const ms_run_spec *base_spec(plan *p, const char *manifest, const ms_sweep_opts *o,
                                    const ms_run_spec *s)
{
    if (!p->have_base) {
        char **grids = ms_calloc((size_t)o->nsettings + 1, sizeof *grids);
        int ng = 0;
        for (int i = 0; i < o->nsettings; i++)
            if (ms_manifest_setting_grid(o->settings[i]))
                grids[ng++] = o->settings[i];
        char *quiet = NULL; /* its errors: some value valid only with another setting */
        size_t qn = 0;
        FILE *q = open_memstream(&quiet, &qn);
        ms_error_stream(q);
        p->have_base = ms_manifest_load_args(manifest, grids, ng, &p->base, 0) < 0 ? -1 : 1;
        ms_error_stream(NULL);
        if (q)
            fclose(q);
        free(quiet);
        if (p->have_base > 0)
            p->nb = ms_manifest_expand(&p->base, &p->bspecs);
        free(grids);
    }
    for (int k = 0; k < p->nb; k++) { /* from the last one found: the same order, mostly */
        int i = (p->bcursor + k) % p->nb;
        if (p->bspecs[i].cfg.seed == s->cfg.seed && !strcmp(p->bspecs[i].variant, s->variant)) {
            p->bcursor = i + 1;
            return &p->bspecs[i];
        }
    }
    return NULL;
}

/* Where run s's settings changed since its earlier run: "on the command
 * line (KEY=VALUE ...)" when its settings without the command line's (but
 * its grids) are those of an earlier run of it, else "in the manifest". */
static void changed_where(plan *p, const char *manifest, const ms_sweep_opts *o,
                          const ms_run_spec *s, char *buf, size_t n)
{
    const ms_run_spec *b = o->nsettings ? base_spec(p, manifest, o, s) : NULL;
    snprintf(buf, n, "in the manifest");
    if (!b || ms_store_has_run(p->st, p->sweep_id, b) != 1)
        return;
    size_t len = (size_t)snprintf(buf, n, "on the command line");
    const char *sep = " (";
    for (int i = 0; i < o->nsettings && len < n; i++)
        if (!ms_manifest_setting_grid(o->settings[i]) &&
            ms_manifest_setting_for(o->settings[i], s->variant, s->grid)) {
            len += (size_t)snprintf(buf + len, n - len, "%s%s", sep, o->settings[i]);
            sep = " ";
        }
    if (len < n && *sep == ' ' && sep[1] == 0)
        snprintf(buf + len, n - len, ")");
}

/* The notes on run i as registered: its settings changed, or back to
 * earlier ones; the results it took from a run of the same settings. */
static void note_run(plan *p, int i, const char *manifest, const ms_sweep_opts *o, notes nt[5])
{
    const ms_run_spec *s = &p->specs[i];
    const ms_run_info *in = &p->info[i];
    unsigned long long seed = (unsigned long long)s->cfg.seed;
    char where[512];
    if (in->longer) {
        note(&nt[4], "variant '%s' seed %llu: its search's max is now %d epochs: it continues "
                     "from its %d",
             s->variant, seed, s->cfg.epochs, in->epochs_done);
    } else if (in->replaced && in->is_new) {
        where[0] = 0; /* asked of the notes shown only */
        if (nt[0].n < NOTES_SHOWN)
            changed_where(p, manifest, o, s, where, sizeof where);
        note(&nt[0], "variant '%s' seed %llu changed %s: starting it as a new run", s->variant,
             seed, where);
    } else if (in->replaced) { /* settings back to ones it ran with before */
        note(&nt[0], "variant '%s' seed %llu is back to settings it ran with before: "
                     "that run is current again (%d epochs done)",
             s->variant, seed, in->epochs_done);
    }
    if (in->taken)
        note(&nt[1], "variant '%s' seed %llu: same settings as '%s' (run %lld): its %d %s taken, %s",
             s->variant, seed, in->same_as_variant, (long long)in->same_as, in->epochs_done,
             in->epochs_done == 1 ? "epoch is" : "epochs are",
             in->status == MS_RUN_DONE ? "not trained again" : "training goes on from there");
}

/* ---- the runs to train ---- */

/* Order of runs to train by (seed, config hash), then index: runs of the
 * same settings side by side, the first of them first. */
static int twin_cmp(const void *a, const void *b, void *arg)
{
    const plan *p = arg;
    int i = *(const int *)a, j = *(const int *)b;
    uint64_t si = p->specs[i].cfg.seed, sj = p->specs[j].cfg.seed;
    int c = si < sj ? -1 : si > sj;
    if (!c)
        c = strcmp(p->info[i].hash, p->info[j].hash);
    return c ? c : (i > j) - (i < j);
}

/* Of the runs to train (k of them, their indices in idx), the ones with
 * the same settings and seed as an earlier one wait for its results
 * (twin_of) instead of training: taken out of idx, noted. */
static int hold_twins(plan *p, int *idx, int k, notes *nt)
{
    int *by = ms_malloc((size_t)(k ? k : 1) * sizeof *by), kept = 0;
    memcpy(by, idx, (size_t)k * sizeof *by);
    qsort_r(by, (size_t)k, sizeof *by, twin_cmp, p);
    for (int a = 1; a < k; a++) {
        int first = by[a - 1], i = by[a];
        if (p->twin_of[first] >= 0)
            first = p->twin_of[first];
        if (p->specs[i].cfg.seed != p->specs[first].cfg.seed ||
            strcmp(p->info[i].hash, p->info[first].hash) || p->specs[i].prune ||
            p->specs[first].prune) /* a pruned trial's runs report to its rungs themselves */
            continue;
        p->twin_of[i] = first;
        p->ntwins++;
        note(nt, "variant '%s' seed %llu: same settings as '%s', trained now: it takes its "
                 "results, not trained twice",
             p->specs[i].variant, (unsigned long long)p->specs[i].cfg.seed,
             p->specs[first].variant);
    }
    free(by);
    for (int a = 0; a < k; a++)
        if (p->twin_of[idx[a]] < 0)
            idx[kept++] = idx[a];
    return kept;
}

/* The runs left to train: done ones skipped, failed ones skipped or (with
 * --retry-failed) reset to start again, and the twins of one of them held
 * back until it is trained. */
static int pick_jobs(plan *p, const char *manifest, const ms_sweep_opts *o)
{
    notes nt[5] = {{0, "with changed settings"},
                   {0, "taking the results of a run of the same settings"},
                   {0, "taking the results of a run of the same settings trained now"},
                   {0, "continuing from their last finished epoch"},
                   {0, "continuing their shorter run (their search's max is higher)"}};
    int *idx = ms_malloc((size_t)(p->n ? p->n : 1) * sizeof *idx), k = 0;
    p->jobs = ms_calloc((size_t)(p->n ? p->n : 1), sizeof *p->jobs);
    p->twin_of = ms_malloc((size_t)(p->n ? p->n : 1) * sizeof *p->twin_of);
    if (ms_rungs_new(p->st, p->specs, p->info, p->n, o->nshards > 0, &p->rungs) < 0) {
        free(idx);
        return -1;
    }
    for (int i = 0; i < p->n; i++) {
        ms_run_info *in = &p->info[i];
        p->twin_of[i] = -1;
        if (!ms_rungs_in_shard(p->rungs, i, o->shard, o->nshards)) {
            p->others++; /* a trial another shard trains in this stage */
            continue;
        }
        note_run(p, i, manifest, o, nt);
        if (in->status == MS_RUN_DONE) {
            p->skipped++;
            continue;
        }
        if (in->status == MS_RUN_FAILED) {
            if (!o->retry_failed) {
                p->r->failed_before++;
                continue;
            }
            if (ms_store_reset_run(p->st, in->id) < 0) {
                free(idx);
                return -1;
            }
            in->epochs_done = 0;
            in->status = MS_RUN_PENDING;
        }
        if (in->epochs_done > 0 && !in->taken && !in->longer && !o->quiet) /* where from */
            note(&nt[3], "variant '%s' seed %llu continues after epoch %d of %d", p->specs[i].variant,
                 (unsigned long long)p->specs[i].cfg.seed, in->epochs_done, p->specs[i].cfg.epochs);
        idx[k++] = i;
    }
    k = hold_twins(p, idx, k, &nt[2]);
    for (int a = 0; a < 5; a++)
        notes_end(&nt[a]);
    for (int a = 0; a < k; a++) {
        ms_job *j = &p->jobs[p->todo++];
        j->run_id = p->info[idx[a]].id;
        j->run = &p->specs[idx[a]];
        j->epochs_done = p->info[idx[a]].epochs_done;
        j->index = idx[a];
    }
    free(idx);
    for (int i = 0; p->rungs && i < p->n; i++) /* each search's rules, once */
        if (first_of_search(p, i) && ms_store_search(p->st, p->sweep_id, p->specs[i].grid,
                                                     p->specs[i].trials, p->specs[i].prune) < 0)
            return -1;
    /* the decisions the stored values take, journaled before any training
     * (a sweep with nothing left to train has them too) */
    ms_rung_row *rows;
    int nrows = ms_rungs_journal(p->rungs, &rows);
    int jrc = ms_store_put_decisions(p->st, p->sweep_id, rows, nrows);
    free(rows);
    if (jrc < 0)
        return -1;
    char twins[64] = "", others[96] = "";
    if (p->others)
        snprintf(others, sizeof others, ", %d left to the other shards (their trials' stage)",
                 p->others);
    if (p->ntwins)
        snprintf(twins, sizeof twins, " (+%d of the same settings as one of them)", p->ntwins);
    if (!o->quiet)
        fprintf(stderr,
                "sweep '%s': %d run%s, %d done already, %d to train%s%s%s; data '%s'; "
                "database '%s'\n",
                p->m.name, p->n, p->n == 1 ? "" : "s", p->skipped, p->todo, twins, others,
                p->r->failed_before ? " (failed runs skipped: --retry-failed reruns them)" : "",
                p->datadir, p->dbpath);
    return GO_ON;
}

/* After training (finished or interrupted): each held twin takes what the
 * run of its settings has now; an interrupted one resumes from it next
 * time, or takes more then. */
static int take_twins(plan *p)
{
    for (int i = 0; p->ntwins && i < p->n; i++)
        if (p->twin_of[i] >= 0 && ms_store_take_twin(p->st, p->info[i].id, &p->info[i]) < 0)
            return -1;
    return DONE;
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
    ms_sched_opts so = {o->threads, jobs, o->quiet, p->sweep_id, MS_VERSION, "gcc " __VERSION__,
                        host};
    ms_sched_install_signals();
    double t0 = ms_now();
    int rc = ms_sched_run(p->st, &p->d, p->jobs, p->todo, p->rungs, &so);
    double wall = ms_now() - t0;
    if (rc < 0)
        return ms_error("the sweep stopped on a database error; finished epochs are saved: fix "
                        "the cause and run the same command to resume");
    if (rc == 2) {
        p->r->interrupted = 1;
        return DONE;
    }
    int nf = 0, np = 0, nw = 0;
    for (int i = 0; i < p->todo; i++) {
        nf += p->jobs[i].failed;
        np += p->jobs[i].pruned;
        nw += p->jobs[i].waiting;
    }
    p->r->failed = nf;
    char pruned[96] = "";
    if (p->rungs)
        snprintf(pruned, sizeof pruned, " (%d stopped at a rung by pruning%s)", np,
                 nw ? ", some still waiting" : "");
    if (!o->quiet)
        fprintf(stderr, "sweep '%s': %d run%s trained in %.1f s%s, %d failed\n", p->m.name,
                p->todo - nf, p->todo - nf == 1 ? "" : "s", wall, pruned, nf);
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
        rc = pick_jobs(&p, manifest, o);
    if (rc == GO_ON)
        rc = train(&p, o);
    if (rc == DONE && p.twin_of)
        rc = take_twins(&p);
    /* the shared copy gets the last writes, whatever came of the sweep */
    if (p.st && o->publish) {
        if (ms_store_publish_last(p.st) < 0)
            rc = -1;
        int copies;
        double secs;
        ms_store_publish_stats(p.st, &copies, &secs);
        if (!o->quiet)
            fprintf(stderr, "published %d cop%s to '%s' while training (%.2f s)\n", copies,
                    copies == 1 ? "y" : "ies", o->publish, secs);
    }
    plan_release(&p);
    return rc < 0 ? -1 : 0;
}
