/* cmd_run, cmd_check, cmd_status: a manifest's sweep and its database. */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_cluster.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_progress.h"
#include "ms_prune.h"
#include "ms_query.h"
#include "ms_shard.h"
#include "ms_store.h"
#include "ms_sweep.h"
#include "ms_util.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const ms_usage run_usage = {
    .synopsis =
        "usage: mlpsweep run MANIFEST [KEY=VALUE ...] [--db FILE] [--jobs N] [--threads N]\n"
        "                    [--only NAME,...] [--shard I/N] [--retry-failed] [--data DIR] "
        "[--quiet]\n",
    .about = "Train every run of the manifest (variants x seeds) in parallel and store each\n"
             "finished epoch in SQLite. Running the same command again resumes: finished\n"
             "runs are skipped, unfinished ones continue from their last finished epoch.\n",
    .more = "Settings after the manifest change it for this sweep, after its own values:\n"
            "  KEY=VALUE          in every variant (lr=0.05, hidden=[128,128])\n"
            "  VARIANT.KEY=VALUE  in one variant (momentum.lr=0.01)\n"
            "  KEY=V1,V2          a grid: each variant becomes one per value, named\n"
            "                     VARIANT.KEY-V1, ... (several keys: every combination)\n"
            "Runs are known by their settings: the same command again resumes, other\n"
            "values are new runs in the same database.\n",
    .exit = MS_HELP_EXIT_RUN,
};

static int shard_of(const ms_option *opt, const char *arg)
{
    ms_sweep_opts *o = opt->value;
    return ms_shard_parse("--shard", arg, &o->shard, &o->nshards);
}

int cmd_run(int argc, char **argv)
{
    ms_sweep_opts so = {.threads = ms_default_threads(), /* nshards 0: no --shard */
                        .publish_minutes = MS_PUBLISH_MINUTES};
    const ms_option opts[] = {
        MS_OPT_PATH(0, "db", &so.db, "FILE", "database (db/<manifest name>.db)"),
        MS_OPT_INT(0, "threads", &so.threads, 1, 1024, "N",
                   "total threads for the sweep (all cores)"),
        MS_OPT_INT('j', "jobs", &so.jobs, 1, MS_MAX_JOBS, "N",
                   "runs trained at once (as many as threads)"),
        MS_OPT_STRING(0, "only", &so.only, "A,B",
                      "only these variants (a variant with a grid: all it makes)"),
        MS_OPT_CALLBACK(0, "shard", &so, "I/N",
                        "only shard I (0 to N-1) of N: a fixed split of the runs, balanced by "
                        "expected cost (see 'mlpsweep slurm')",
                        shard_of),
        MS_OPT_FLAG(0, "retry-failed", &so.retry_failed, "restart failed runs from scratch"),
        MS_OPT_STRING(0, "data", &so.data_dir, "DIR",
                      "MNIST folder, overriding the manifest's data.dir"),
        MS_OPT_PATH(0, "publish", &so.publish, "FILE",
                    "while training, copy the database to FILE (a cluster task's shared copy: "
                    "docs/slurm.md)"),
        MS_OPT_INT(0, "publish-epochs", &so.publish_epochs, 0, 1000000, "N",
                   "... once N epochs finished since the last copy (0: not by epochs)"),
        MS_OPT_DOUBLE(0, "publish-minutes", &so.publish_minutes, "M",
                      "... or once M minutes passed (1; 0: not by time)"),
        MS_OPT_FLAG('q', "quiet", &so.quiet, "only errors and warnings on stderr"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &run_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_manifest_and_settings(argc, argv, &so.settings, &so.nsettings) < 0)
        return MS_EXIT_USAGE;
    if (!(so.publish_minutes >= 0 && so.publish_minutes <= 1e6)) {
        ms_error("--publish-minutes: must be a number of minutes from 0 to 1000000");
        return MS_EXIT_USAGE;
    }
    if (so.publish && !so.db) {
        ms_error("--publish needs --db FILE: the database it copies");
        return MS_EXIT_USAGE;
    }
    struct stat a, b;
    if (so.publish && (!strcmp(so.publish, so.db) || (stat(so.publish, &a) == 0 &&
                                                      stat(so.db, &b) == 0 &&
                                                      a.st_dev == b.st_dev && a.st_ino == b.st_ino))) {
        ms_error("--publish '%s' is the database itself: publish to another file", so.publish);
        return MS_EXIT_USAGE;
    }
    if (so.nshards && !so.db) {
        ms_error("--shard needs --db FILE: each shard writes its own database (see 'mlpsweep merge')");
        return MS_EXIT_USAGE;
    }
    ms_sweep_result r;
    if (ms_sweep_run(argv[0], &so, &r) < 0)
        return r.usage ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    if (r.interrupted) {
        ms_error("interrupted; finished epochs are saved: run the same command to resume");
        return 130;
    }
    return r.failed || r.failed_before ? MS_EXIT_FAIL : MS_EXIT_OK;
}

static const ms_usage check_usage = {
    .synopsis = "usage: mlpsweep check MANIFEST [KEY=VALUE ...]\n"
                "       mlpsweep check --db DB\n",
    .about = "Validate a manifest and print its runs, one a line; or check a database:\n"
             "SQLite's full integrity check, foreign keys, and that every run's epoch\n"
             "rows and checkpoint agree with its epoch count (exit 1 if not).\n"
             "KEY=VALUE settings and grids as for 'mlpsweep run' (see 'mlpsweep help run').\n",
};

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
    const char *db = NULL;
    const ms_option opts[] = {
        MS_OPT_PATH(0, "db", &db, "DB", "check this database instead"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &check_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (db && argc > 0) {
        ms_error("check takes a manifest or --db, not both");
        return MS_EXIT_USAGE;
    }
    if (db)
        return check_db(db);
    char *const *settings;
    int nsettings;
    if (ms_manifest_and_settings(argc, argv, &settings, &nsettings) < 0)
        return MS_EXIT_USAGE;
    ms_manifest m;
    if (ms_manifest_load_args(argv[0], settings, nsettings, &m, 0) < 0)
        return MS_EXIT_USAGE;
    ms_run_spec *specs;
    int n = ms_manifest_expand(&m, &specs);
    int w = 18; /* grid variants have longer names: widen the column */
    for (int i = 0; i < n; i++)
        w = (int)strlen(specs[i].variant) > w ? (int)strlen(specs[i].variant) : w;
    printf("%-*s %-5s %6s  %-14s %-17s %-13s %7s %5s %6s %6s %8s  %s\n", w, "variant", "task",
           "seed", "hidden", "activation", "init", "lr", "mom", "batch", "epochs", "params",
           "precision");
    for (int i = 0; i < n; i++) {
        const ms_config *c = &specs[i].cfg;
        char list[MS_MAX_HIDDEN * 12], hid[MS_MAX_HIDDEN * 12];
        ms_config_hidden_str(c, list, sizeof list);
        ms_hidden_short(list, hid, sizeof hid);
        char *task = ms_printable(specs[i].task);
        printf("%-*s %-5s %6llu  %-14s %-17s %-13s %7g %5g %6d %6d %8lld  %s\n", w,
               specs[i].variant, task, (unsigned long long)c->seed, hid,
               ms_activation_name(c->activation), ms_init_name(c->init), c->lr, c->momentum,
               c->batch, c->epochs, (long long)ms_config_params(c, MS_INPUT),
               ms_precision_names[c->precision]);
        free(task);
    }
    /* the folder `run` would train on, found as it finds it: none is an
     * error here too, not a surprise at run time */
    char at[512] = "", *dir = NULL;
    if (m.data_line)
        snprintf(at, sizeof at, "%s:%d:%d", m.path, m.data_line, m.data_col);
    ms_data_where where = {.dir = m.data_line ? m.data_dir : NULL,
                           .dir_at = m.data_line ? at : NULL,
                           .dataset = m.dataset,
                           .stated = m.dataset_stated};
    int found = ms_data_locate(&where, &dir) == 0;
    fprintf(stderr, "%s: %d variants, %d run%s; data %s%s%s (%d train, %d val)\n", m.path,
            m.nvariants, n, n == 1 ? "" : "s", found ? "'" : "", found ? dir : "not found",
            found ? "'" : "", m.train, m.val);
    free(dir);
    free(specs);
    ms_manifest_release(&m);
    return found ? MS_EXIT_OK : MS_EXIT_FAIL;
}

/* The sweep's runs of earlier invocations: a line after its own. */
static void print_earlier(const char *name, int64_t earlier, int all)
{
    if (earlier > 0)
        printf("sweep '%s': + %lld run%s of earlier invocations%s\n", name, (long long)earlier,
               earlier == 1 ? "" : "s", all ? ", marked 'earlier' above" : ": --all lists them");
}

/* The database's text as printable characters: it may not be ours. With
 * all, every run, a column telling the last invocation's from the others. */
static void print_progress(const ms_query_status *p, int all)
{
    printf("%-18s %-5s %6s  %-11s %-9s %8s  %s%s\n", "variant", "task", "seed", "status", "epochs",
           "val acc", all ? "run      " : "", "note");
    for (int i = 0; i < p->nruns; i++) {
        const ms_query_run_row *r = &p->runs[i];
        char acc[32] = "-";
        if (!isnan(r->last_val_acc))
            snprintf(acc, sizeof acc, "%.2f%%", 100 * r->last_val_acc);
        const char *in[6] = {r->variant, r->task, r->status, r->epochs, r->stop_reason, r->error};
        char *t[6];
        for (int k = 0; k < 6; k++)
            t[k] = ms_printable(in[k]);
        printf("%-18s %-5s %6lld  %-11s %-9s %8s  %s%s%s%s\n", t[0], t[1], (long long)r->seed,
               t[2], t[3], acc, !all ? "" : r->current ? "last     " : "earlier  ", t[4],
               *t[4] && *t[5] ? ": " : "", t[5]);
        for (int k = 0; k < 6; k++)
            free(t[k]);
    }
    for (int i = 0; i < p->nsweeps; i++) {
        const ms_query_sweep_row *w = &p->sweeps[i];
        char *name = ms_printable(w->sweep);
        char dead[64] = "";
        if (w->interrupted)
            snprintf(dead, sizeof dead, ", %lld interrupted", (long long)w->interrupted);
        printf("sweep '%s': %lld/%lld runs done (%lld running, %lld pending, %lld failed%s), "
               "%lld/%lld epochs, %.1f s of training\n",
               name, (long long)w->done, (long long)w->runs, (long long)w->running,
               (long long)w->pending, (long long)w->failed, dead, (long long)w->epochs_done,
               (long long)w->epochs_total, w->train_seconds);
        print_earlier(name, w->earlier, all);
        if (*w->data_digest) {
            char *ds = ms_printable(w->dataset), *dg = ms_printable(w->data_digest);
            printf("sweep '%s': data %s, digest %s\n", name, ds, dg);
            free(ds), free(dg);
        }
        if (w->interrupted)
            printf("sweep '%s': interrupted runs have no live process: run the sweep's command "
                   "again to resume them from their last finished epoch\n", name);
        free(name);
    }
}

/* 1 when e is a rung of trial t's bracket below max: where a run waits. */
static int at_rung(const ms_prune *p, int t, int e)
{
    int b = ms_prune_bracket_of(p, t);
    for (int r = 0; r < ms_prune_rungs(p, b); r++)
        if (ms_prune_rung_epochs(p, b, r) == e)
            return e < p->max;
    return 0;
}

/* A line per pruned search of the sweep: its rules, its rungs, the
 * decisions taken and the runs waiting at a rung for theirs. */
/* One search as a JSON object (status --json's "searches"). */
static void search_json(FILE *f, const char *sweep, const ms_search_rec *q, int nd, int promoted,
                        int waiting, int trials)
{
    fputs("\n  {\"sweep\": ", f);
    ms_json_string(f, sweep);
    fputs(", \"search\": ", f);
    ms_json_string(f, q->name);
    fprintf(f, ", \"prune\": \"%s\", \"metric\": \"%s\", \"goal\": \"%s\", \"trials\": %d, "
               "\"min\": %d, \"max\": %d, \"eta\": %d, \"decisions\": %d, \"promoted\": %d, "
               "\"stopped\": %d, \"runs_waiting\": %d, \"trials_waiting\": %d},",
            ms_prune_type_names[q->prune.type], ms_metric_name((ms_metric)q->prune.metric),
            q->prune.goal_max ? "max" : "min", q->trials, q->prune.min, q->prune.max, q->prune.eta,
            nd, promoted, nd - promoted, waiting, trials);
}

/* Each pruned search of the sweep as a line (json: a JSON object and a
 * comma each, for status --json to trim the last). */
static int print_searches(FILE *f, ms_store *st, const char *sweep, int json)
{
    ms_search_rec *q = NULL;
    int nq = 0;
    if (ms_store_searches(st, sweep, &q, &nq) < 0)
        return -1;
    for (int i = 0; i < nq; i++) {
        ms_rung_row *d = NULL;
        ms_search_run *runs = NULL;
        int nd = 0, nr = 0, promoted = 0, waiting = 0, last = -1, trials = 0;
        if (ms_store_decisions(st, sweep, q[i].name, &d, &nd) == 0 &&
            ms_store_search_runs(st, sweep, q[i].name, &runs, &nr) == 0) {
            for (int k = 0; k < nd; k++)
                promoted += d[k].promote;
            for (int k = 0; k < nr; k++)
                if (runs[k].status == MS_RUN_PENDING &&
                    at_rung(&q[i].prune, runs[k].trial, runs[k].epochs_done)) {
                    waiting++;
                    trials += runs[k].trial != last;
                    last = runs[k].trial;
                }
            if (json) {
                search_json(f, sweep, &q[i], nd, promoted, waiting, trials);
                goto next;
            }
            char rungs[160] = "";
            size_t o = 0;
            for (int r = 0; r < ms_prune_rungs(&q[i].prune, 0) && o < sizeof rungs; r++)
                if (ms_prune_rung_epochs(&q[i].prune, 0, r) < q[i].prune.max)
                    o += (size_t)snprintf(rungs + o, sizeof rungs - o, "%s%d", r ? ", " : "",
                                          ms_prune_rung_epochs(&q[i].prune, 0, r));
            char *name = ms_printable(q[i].name);
            fprintf(f, "search '%s': %s on %s (%s), %d trials, rungs at %s epochs (max %d): %d "
                   "decisions (%d promoted, %d stopped); %d run%s of %d trial%s waiting at a rung "
                   "for a decision\n",
                   name, ms_prune_type_names[q[i].prune.type],
                   ms_metric_name((ms_metric)q[i].prune.metric), q[i].prune.goal_max ? "max" : "min",
                   q[i].trials, rungs, q[i].prune.max, nd, promoted, nd - promoted, waiting,
                   waiting == 1 ? "" : "s", trials, trials == 1 ? "" : "s");
            free(name);
        }
    next:
        free(d);
        free(runs);
    }
    ms_store_searches_free(q, nq);
    return 0;
}

static const ms_usage status_usage = {
    .synopsis =
        "usage: mlpsweep status [MANIFEST] [--db FILE] [--all] [--json] [--watch[=SECONDS]]\n"
        "       mlpsweep status DIR [--json] [--watch[=SECONDS]]\n",
    .about = "Show each run of the last 'run' (the current runs) with its state and progress,\n"
             "and the sweep's done/total, from the database alone (db/<manifest name>.db, or\n"
             "the only database in db/). The runs of earlier invocations are counted on a\n"
             "line of their own; --all lists them too. With DIR (a cluster sweep's --out),\n"
             "the copies its tasks publish while they train, merged, and each copy's counts\n"
             "and age: the whole sweep before its merge job (docs/slurm.md).\n",
};

/* The same as JSON: the texts as stored, numbers exact (epochs as two
 * numbers, not "12/50"), null for no accuracy, no stop reason, no error. */
/* status DIR: each published copy, as text or as the JSON object's
 * "shards" member (NULL c: nothing). */
static void print_shards(const ms_cluster *c, const char *dir, int json)
{
    if (!c)
        return;
    if (json) {
        fputs(",\n\"cluster\": {\"dir\": ", stdout);
        ms_json_string(stdout, dir);
        fputs(", \"eta_seconds\": ", stdout);
        ms_json_num(stdout, c->eta);
        printf(", \"unstarted_runs\": %d, \"shards\": [", c->unstarted);
        for (int i = 0; i < c->nshards; i++) {
            const ms_cluster_shard *s = &c->shards[i];
            fputs(i ? ",\n  {\"copy\": " : "\n  {\"copy\": ", stdout);
            ms_json_string(stdout, s->name);
            printf(", \"runs\": %lld, \"done\": %lld, \"running\": %lld, \"pending\": %lld, "
                   "\"failed\": %lld, \"epochs_done\": %lld, \"epochs_total\": %lld, "
                   "\"age_seconds\": ",
                   (long long)s->runs, (long long)s->done, (long long)s->running,
                   (long long)s->pending, (long long)s->failed, (long long)s->epochs_done,
                   (long long)s->epochs_total);
            ms_json_num(stdout, s->age);
            fputs(", \"eta_seconds\": ", stdout);
            ms_json_num(stdout, s->eta);
            fputc('}', stdout);
        }
        fputs("]}", stdout);
        return;
    }
    printf("\npublished copies in '%s' (each task's, as it last published it):\n", dir);
    printf("%-22s %5s %5s %8s %8s %7s %11s %8s %8s\n", "copy", "runs", "done", "running",
           "pending", "failed", "epochs", "age", "left");
    for (int i = 0; i < c->nshards; i++) {
        const ms_cluster_shard *s = &c->shards[i];
        char ep[32], age[16], left[16];
        snprintf(ep, sizeof ep, "%lld/%lld", (long long)s->epochs_done, (long long)s->epochs_total);
        ms_progress_fmt_time(s->age, age, sizeof age);
        ms_progress_fmt_time(s->eta, left, sizeof left);
        printf("%-22s %5lld %5lld %8lld %8lld %7lld %11s %8s %8s\n", s->name, (long long)s->runs,
               (long long)s->done, (long long)s->running, (long long)s->pending,
               (long long)s->failed, ep, age, left);
    }
    char left[16];
    ms_progress_fmt_time(c->eta, left, sizeof left);
    printf("about %s left in these copies (the slowest, at its pace so far)", left);
    if (c->unstarted)
        printf("; %d run%s started in no copy yet", c->unstarted, c->unstarted == 1 ? "" : "s");
    printf("\na copy far older than its task's publishing interval may be a task that was "
           "lost (docs/slurm.md)\n");
}

static void print_progress_json(const ms_query_status *p, const char *searches,
                                const ms_cluster *c, const char *dir)
{
    fputs("{\"runs\": [", stdout);
    for (int i = 0; i < p->nruns; i++) {
        const ms_query_run_row *r = &p->runs[i];
        const char *key[] = {"variant", "task", "status", "stop_reason", "error"};
        const char *val[] = {r->variant, r->task, r->status, r->stop_reason, r->error};
        fputs(i ? ",\n  {" : "\n  {", stdout);
        for (int k = 0; k < 5; k++) {
            printf("\"%s\": ", key[k]);
            if (k >= 3 && !*val[k])
                fputs("null", stdout);
            else
                ms_json_string(stdout, val[k]);
            fputs(", ", stdout);
        }
        long long done = 0, total = 0;
        sscanf(r->epochs, "%lld/%lld", &done, &total);
        printf("\"epochs_done\": %lld, \"epochs_total\": %lld, ", done, total);
        printf("\"seed\": %lld, \"val_acc\": ", (long long)r->seed);
        ms_json_num(stdout, r->last_val_acc);
        printf(", \"current\": %s}", r->current ? "true" : "false");
    }
    fputs("],\n\"sweeps\": [", stdout);
    for (int i = 0; i < p->nsweeps; i++) {
        const ms_query_sweep_row *w = &p->sweeps[i];
        fputs(i ? ",\n  {\"sweep\": " : "\n  {\"sweep\": ", stdout);
        ms_json_string(stdout, w->sweep);
        printf(", \"runs\": %lld, \"done\": %lld, \"running\": %lld, \"pending\": %lld, "
               "\"failed\": %lld, \"interrupted\": %lld, \"epochs_done\": %lld, "
               "\"epochs_total\": %lld, \"train_seconds\": ",
               (long long)w->runs, (long long)w->done, (long long)w->running,
               (long long)w->pending, (long long)w->failed, (long long)w->interrupted,
               (long long)w->epochs_done, (long long)w->epochs_total);
        ms_json_num(stdout, w->train_seconds);
        fputs(", \"dataset\": ", stdout);
        if (*w->data_digest)
            ms_json_string(stdout, w->dataset);
        else
            fputs("null", stdout);
        fputs(", \"data_digest\": ", stdout);
        if (*w->data_digest)
            ms_json_string(stdout, w->data_digest);
        else
            fputs("null", stdout);
        printf(", \"earlier_runs\": %lld}", (long long)w->earlier);
    }
    /* the pruned searches' objects, each followed by a comma: the last one's dropped */
    size_t n = searches ? strlen(searches) : 0;
    printf("],\n\"searches\": [%.*s]", (int)(n ? n - 1 : 0), n ? searches : "");
    print_shards(c, dir, 1);
    fputs("}\n", stdout);
}

/* What one status shows: the database (or the cluster folder), how, and
 * the snapshot count so far. */
typedef struct status_view {
    const char *db, *dir; /* dir: a cluster sweep's folder (db unused) */
    const ms_scope *scope;
    int json, watch, tty;
} status_view;

/* One snapshot printed; *busy: a run still running or pending. An exit
 * status. */
static int status_shot(const status_view *v, int shot, int *busy)
{
    ms_store *st;
    ms_query_status p;
    ms_cluster c = {0};
    if (v->dir && ms_cluster_read(v->dir, &c) < 0)
        return MS_EXIT_FAIL;
    /* a copy's runs run elsewhere: no lock of ours tells whether they live */
    if (ms_store_open(v->dir ? c.merged : v->db,
                      MS_STORE_READONLY | (v->dir ? 0 : MS_STORE_LIVENESS), &st) < 0) {
        ms_cluster_release(&c);
        return MS_EXIT_FAIL;
    }
    int rc = ms_query_status_read_in(st, v->scope, &p) < 0 ? MS_EXIT_FAIL : MS_EXIT_OK;
    char *searches = NULL; /* printed after the runs */
    size_t slen = 0;
    FILE *sf = rc == MS_EXIT_OK ? open_memstream(&searches, &slen) : NULL;
    for (int i = 0; sf && i < p.nsweeps && rc == MS_EXIT_OK; i++)
        rc = print_searches(sf, st, p.sweeps[i].sweep, v->json) < 0 ? MS_EXIT_FAIL : MS_EXIT_OK;
    if (sf)
        fclose(sf);
    ms_store_close(st);
    /* pending runs of a stalled sweep wait for a `run` nobody started */
    *busy = 0;
    for (int i = 0; rc == MS_EXIT_OK && i < p.nsweeps; i++)
        *busy |= p.sweeps[i].running > 0 || (p.sweeps[i].pending > 0 && !p.sweeps[i].stalled);
    if (rc == MS_EXIT_OK) {
        if (v->tty)
            fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
        else if (v->watch && shot && !v->json)
            putchar('\n');
        if (v->watch && !v->json) {
            char when[32];
            time_t now = time(NULL);
            struct tm tm;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
            printf("%s, every %d s until no run is running or pending%s\n", when, v->watch,
                   v->tty ? " (Ctrl-C stops)" : "");
        }
        if (v->json)
            print_progress_json(&p, searches, v->dir ? &c : NULL, v->dir);
        else
            print_progress(&p, v->scope->all);
        if (searches && !v->json)
            fputs(searches, stdout);
        if (!v->json)
            print_shards(v->dir ? &c : NULL, v->dir, 0);
        fflush(stdout);
    }
    ms_cluster_release(&c);
    free(searches);
    if (rc == MS_EXIT_OK)
        ms_query_status_release(&p);
    return rc;
}

int cmd_status(int argc, char **argv)
{
    const char *db = NULL;
    int json = 0, watch = 0; /* watch: seconds between snapshots, 0: once */
    ms_scope scope = {0};
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_FLAG(0, "all", &scope.all,
                    "every run the database keeps, the earlier invocations' too (column run: "
                    "last or earlier; a variant's earlier settings named VARIANT@N)"),
        MS_OPT_FLAG(
            0, "json", &json,
            "the same as one JSON object, for scripts: {\"runs\": [...], \"sweeps\": [...]} "
            "(docs/commands.md)"),
        MS_OPT_INT_OPTIONAL(0, "watch", &watch, 1, 3600, 2, "S",
                            "show it again every S seconds (2) until no run is running or pending "
                            "(or the sweep was interrupted and no mlpsweep writes the database any "
                            "more); on a terminal the screen is redrawn, elsewhere each snapshot "
                            "follows the last (with --json: one object each)"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &status_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    /* a cluster sweep's folder: its tasks' published copies, merged here */
    const char *dir = argc == 1 && !db && ms_cluster_is_dir(argv[0]) ? argv[0] : NULL;
    ms_sweep_target t = {0};
    int rc = dir ? MS_EXIT_OK : ms_db_target(argc, argv, db, &t);
    if (rc != MS_EXIT_OK)
        return rc;
    status_view v = {t.db, dir, &scope, json, watch, watch && isatty(STDOUT_FILENO) && !json};
    for (int shot = 0, busy = 0;; shot++) {
        rc = status_shot(&v, shot, &busy);
        if (rc != MS_EXIT_OK || !watch || !busy)
            break;
        sleep((unsigned)watch);
    }
    if (!dir)
        ms_sweep_target_release(&t);
    return rc;
}
