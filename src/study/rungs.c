/* ms_rungs: a pruned search's values at its rungs and the decisions taken
 * from them (ms_rungs.h; the rules are ms_prune's). */
#define _POSIX_C_SOURCE 200809L
#include "ms_rungs.h"
#include "ms_prune.h"
#include "ms_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One run of a trial: its values at its bracket's rungs. */
typedef struct rrun {
    int group, trial;
    uint64_t seed;
    int done;      /* epochs behind it (reported or stored) */
    int ended;     /* 1: it trains no more (its last epoch, or failed) */
    double last;   /* its latest value (NaN once failed) */
    double *value; /* (rungs of its bracket) */
    bool *have;
} rrun;

/* One search: trials[t] holds its seeds' runs; dec[t * R + r] the decision
 * at rung r (R: the most rungs of any bracket). */
typedef struct rgroup {
    const ms_prune *p;
    const char *name;
    int ntrials, R;
    int *nruns, **runs; /* per trial: its runs (indices into g->run) */
    ms_rung_decision *dec;
} rgroup;

struct ms_rungs {
    int frozen; /* sharded: decisions from the stored values only (ms_rungs_new) */
    int *shard; /* sharded: per run spec, its trial's place (k of its group), or -1 */
    ms_rung_row *journal; /* decisions not yet taken by ms_rungs_journal */
    int njournal, capjournal;
    int n;       /* the invocation's runs */
    int *of;     /* (n): index into run[], -1 for a run not pruned */
    rrun *run;
    int nrun;
    rgroup *grp;
    int ngrp;
};

static int bracket_of(const rgroup *gr, int t) { return ms_prune_bracket_of(gr->p, t); }

static void journal_add(ms_rungs *g, const rgroup *gr, int t, int r, double v)
{
    if (g->njournal == g->capjournal)
        g->journal = ms_realloc(g->journal, (size_t)(g->capjournal = g->capjournal ? 2 * g->capjournal : 64) *
                                                sizeof *g->journal);
    const ms_rung_decision *d = &gr->dec[t * gr->R + r];
    int b = bracket_of(gr, t);
    g->journal[g->njournal++] = (ms_rung_row){
        gr->name, t + 1, r, b, ms_prune_rung_epochs(gr->p, b, r), v, d->rank, d->cohort,
        d->decision == MS_DECIDE_PROMOTE, ms_prune_seq(gr->p, gr->ntrials, t, r)};
}

int ms_rungs_journal(ms_rungs *g, ms_rung_row **rows)
{
    int n = g ? g->njournal : 0;
    *rows = NULL;
    if (n) {
        *rows = g->journal;
        g->journal = NULL;
        g->njournal = g->capjournal = 0;
    }
    return n;
}

/* The value of trial t at rung r of its bracket: REACHED when every seed
 * has one there (an ended run's last value for rungs past its end),
 * UNKNOWN otherwise. The mean of the seeds' values; NaN when one is. */
static ms_rung_state trial_at(const ms_rungs *g, const rgroup *gr, int t, int r, double *v)
{
    int b = bracket_of(gr, t), e = ms_prune_rung_epochs(gr->p, b, r);
    double sum = 0;
    for (int k = 0; k < gr->nruns[t]; k++) {
        const rrun *x = &g->run[gr->runs[t][k]];
        if (x->have[r])
            sum += x->value[r];
        else if (x->ended && x->done < e)
            sum += x->last;
        else
            return MS_AT_UNKNOWN;
    }
    *v = sum / gr->nruns[t];
    return MS_AT_REACHED;
}

/* Every decision of group gr the values allow (ms_prune_all); the ones
 * new since the last call are added to g's journal. */
static void decide(ms_rungs *g, rgroup *gr)
{
    int T = gr->ntrials, R = gr->R;
    double *val = ms_malloc((size_t)T * (size_t)R * sizeof *val);
    bool *reached = ms_malloc((size_t)T * (size_t)R * sizeof *reached);
    ms_rung_decision *dec = ms_malloc((size_t)T * (size_t)R * sizeof *dec);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) {
            val[t * R + r] = NAN;
            reached[t * R + r] = r < ms_prune_rungs(gr->p, bracket_of(gr, t)) &&
                                 trial_at(g, gr, t, r, &val[t * R + r]) == MS_AT_REACHED;
        }
    ms_prune_all(gr->p, T, val, reached, dec);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) {
            ms_rung_decision *d = &gr->dec[t * R + r];
            if (d->decision != MS_DECIDE_WAIT || dec[t * R + r].decision == MS_DECIDE_WAIT)
                continue;
            *d = dec[t * R + r];
            /* a rung at max decides nothing: the trial has trained all of it */
            if (ms_prune_rung_epochs(gr->p, bracket_of(gr, t), r) < gr->p->max)
                journal_add(g, gr, t, r, val[t * R + r]);
        }
    free(val), free(reached), free(dec);
}

/* The rung whose epochs are e in trial t's bracket, or -1. */
static int rung_at(const rgroup *gr, int t, int e)
{
    int b = bracket_of(gr, t);
    for (int r = 0; r < ms_prune_rungs(gr->p, b); r++)
        if (ms_prune_rung_epochs(gr->p, b, r) == e)
            return r;
    return -1;
}

ms_rung_next ms_rungs_next(const ms_rungs *g, int i, int epochs_done)
{
    if (!g || g->of[i] < 0)
        return MS_RUNG_GO;
    const rrun *x = &g->run[g->of[i]];
    const rgroup *gr = &g->grp[x->group];
    int b = bracket_of(gr, x->trial);
    for (int r = 0; r < ms_prune_rungs(gr->p, b); r++) {
        int e = ms_prune_rung_epochs(gr->p, b, r);
        if (e > epochs_done || e >= gr->p->max)
            break; /* not there yet; at max the run is done anyway */
        ms_decision d = gr->dec[x->trial * gr->R + r].decision;
        if (d == MS_DECIDE_STOP)
            return MS_RUNG_STOP;
        if (d == MS_DECIDE_WAIT)
            return MS_RUNG_WAIT;
    }
    return MS_RUNG_GO;
}

void ms_rungs_report(ms_rungs *g, int i, int epoch, double v, int ended, int failed)
{
    if (!g || g->of[i] < 0)
        return;
    rrun *x = &g->run[g->of[i]];
    rgroup *gr = &g->grp[x->group];
    if (failed) {
        x->ended = 1;
        x->last = NAN;
    } else {
        x->done = epoch;
        x->last = v;
        x->ended = ended;
        int r = rung_at(gr, x->trial, epoch);
        if (r >= 0) {
            x->value[r] = v;
            x->have[r] = true;
        }
    }
    if (!g->frozen)
        decide(g, gr);
}

void ms_rungs_counts(const ms_rungs *g, int *promoted, int *stopped, int *waiting)
{
    *promoted = *stopped = *waiting = 0;
    for (int k = 0; g && k < g->ngrp; k++) {
        const rgroup *gr = &g->grp[k];
        for (int t = 0; t < gr->ntrials; t++)
            for (int r = 0; r < gr->R; r++) {
                ms_decision d = gr->dec[t * gr->R + r].decision;
                *promoted += d == MS_DECIDE_PROMOTE;
                *stopped += d == MS_DECIDE_STOP;
            }
    }
    for (int i = 0; g && i < g->n; i++)
        *waiting += g->of[i] >= 0 && !g->run[g->of[i]].ended &&
                    ms_rungs_next(g, i, g->run[g->of[i]].done) == MS_RUNG_WAIT;
}

/* ---- building ---- */

/* The group of run spec s (by its search's name), added when new. */
static int group_of(ms_rungs *g, const ms_run_spec *s)
{
    for (int k = 0; k < g->ngrp; k++)
        if (!strcmp(g->grp[k].name, s->grid))
            return k;
    g->grp = ms_realloc(g->grp, (size_t)(g->ngrp + 1) * sizeof *g->grp);
    rgroup *gr = &g->grp[g->ngrp];
    memset(gr, 0, sizeof *gr);
    gr->p = s->prune;
    gr->name = s->grid;
    gr->R = ms_prune_rungs(s->prune, 0);
    return g->ngrp++;
}

/* Each group's trials 0..T-1 with their runs; -1 after a message when a
 * trial is missing (the search was split). */
static int gather_trials(ms_rungs *g)
{
    for (int k = 0; k < g->ngrp; k++) {
        rgroup *gr = &g->grp[k];
        for (int j = 0; j < g->nrun; j++)
            if (g->run[j].group == k && g->run[j].trial + 1 > gr->ntrials)
                gr->ntrials = g->run[j].trial + 1;
        gr->nruns = ms_calloc((size_t)gr->ntrials, sizeof *gr->nruns);
        gr->runs = ms_calloc((size_t)gr->ntrials, sizeof *gr->runs);
        gr->dec = ms_calloc((size_t)gr->ntrials * (size_t)gr->R, sizeof *gr->dec);
        for (int j = 0; j < g->nrun; j++) {
            const rrun *x = &g->run[j];
            if (x->group != k)
                continue;
            gr->runs[x->trial] = ms_realloc(gr->runs[x->trial],
                                            (size_t)(gr->nruns[x->trial] + 1) * sizeof(int));
            /* by seed: a trial's value sums its seeds in one order, whatever
             * the manifest's (verify reads them by seed) */
            int *list = gr->runs[x->trial], at = gr->nruns[x->trial]++;
            while (at > 0 && g->run[list[at - 1]].seed > x->seed) {
                list[at] = list[at - 1];
                at--;
            }
            list[at] = j;
        }
    }
    return 0;
}

int ms_rungs_check(const ms_run_spec *runs, int n, int sharded)
{
    for (int i = 0; i < n; i++) {
        if (!runs[i].prune)
            continue;
        if (sharded && runs[i].prune->type == MS_PRUNE_ASHA)
            return ms_error("an 'asha' search decides as its trials report, in one process: "
                            "--shard would split the trials of '%s' (run it without shards, or "
                            "make it 'sha' or 'hyperband', which shards run rung by rung; see "
                            "docs/search.md)",
                            runs[i].grid);
        /* its runs come together, trial by trial, each trial with its seeds */
        int j = i, want = 0;
        for (; j < n && runs[j].prune && !strcmp(runs[j].grid, runs[i].grid); j++)
            if (runs[j].trial == want)
                want++;
            else if (runs[j].trial != want - 1)
                break;
        if (want < runs[i].trials)
            return ms_error("a pruned search runs whole: its trial %s.t%d is left out "
                            "(--only names the search, not some of its trials)",
                            runs[i].grid, want + 1);
        i = j - 1;
    }
    return 0;
}

/* How many rungs in a row trial t was promoted at: the stage of the search
 * it is in. It changes only when a decision is taken, which a sharded run
 * never does itself, so every shard of a stage sees the same. */
static int promotions(const rgroup *gr, int t)
{
    int f = 0;
    while (f < gr->R && gr->dec[t * gr->R + f].decision == MS_DECIDE_PROMOTE)
        f++;
    return f;
}

/* Each pruned run's place among the trials of its stage: the trials of its
 * search and bracket promoted at as many rungs, in trial order, counted
 * from the search's and bracket's number (so that one-trial stages of
 * several brackets do not all land in shard 0). Shard place mod N trains
 * it: a stage's trials are dealt evenly round the shards, and a place
 * changes only when a rung is decided, which needs a cohort no shard holds
 * whole unless it is one trial, whose place then stays the same. */
static void place_trials(ms_rungs *g)
{
    int **place = ms_calloc((size_t)(g->ngrp ? g->ngrp : 1), sizeof *place);
    for (int k = 0; k < g->ngrp; k++) {
        const rgroup *gr = &g->grp[k];
        int B = ms_prune_brackets(gr->p);
        int *count = ms_calloc((size_t)B * (size_t)(gr->R + 1), sizeof *count);
        place[k] = ms_malloc((size_t)(gr->ntrials ? gr->ntrials : 1) * sizeof **place);
        for (int t = 0; t < gr->ntrials; t++) {
            int b = bracket_of(gr, t);
            place[k][t] = k + b + count[b * (gr->R + 1) + promotions(gr, t)]++;
        }
        free(count);
    }
    g->shard = ms_malloc((size_t)g->n * sizeof *g->shard);
    for (int i = 0; i < g->n; i++)
        g->shard[i] = g->of[i] < 0 ? -1 : place[g->run[g->of[i]].group][g->run[g->of[i]].trial];
    for (int k = 0; k < g->ngrp; k++)
        free(place[k]);
    free(place);
}

int ms_rungs_in_shard(const ms_rungs *g, int i, int shard, int nshards)
{
    if (!g || !g->shard || g->shard[i] < 0)
        return 1;
    return g->shard[i] % nshards == shard;
}

/* Run x's stored values (id: its run, as registered). */
static int read_values(ms_store *st, rrun *x, const rgroup *gr, const ms_run_info *in)
{
    x->done = in->epochs_done;
    x->ended = in->status == MS_RUN_DONE || in->status == MS_RUN_FAILED;
    x->last = NAN;
    if (x->done <= 0)
        return 0;
    double *v = ms_malloc((size_t)x->done * sizeof *v);
    if (ms_store_epoch_values(st, in->id, gr->p->metric, v, x->done) < 0) {
        free(v);
        return -1;
    }
    int b = bracket_of(gr, x->trial);
    for (int r = 0; r < ms_prune_rungs(gr->p, b); r++) {
        int e = ms_prune_rung_epochs(gr->p, b, r);
        if (e <= x->done) {
            x->value[r] = v[e - 1];
            x->have[r] = true;
        }
    }
    x->last = in->status == MS_RUN_FAILED ? NAN : v[x->done - 1];
    free(v);
    return 0;
}

int ms_rungs_new(ms_store *st, const ms_run_spec *runs, const ms_run_info *info, int n,
                 int sharded, ms_rungs **out)
{
    *out = NULL;
    int any = 0;
    for (int i = 0; i < n; i++)
        any |= runs[i].prune != NULL;
    if (!any)
        return 0;
    if (ms_rungs_check(runs, n, sharded) < 0)
        return -1;
    ms_rungs *g = ms_calloc(1, sizeof *g);
    g->n = n;
    g->of = ms_malloc((size_t)n * sizeof *g->of);
    g->run = ms_calloc((size_t)n, sizeof *g->run);
    for (int i = 0; i < n; i++) {
        g->of[i] = -1;
        if (!runs[i].prune)
            continue;
        rrun *x = &g->run[g->nrun];
        x->group = group_of(g, &runs[i]);
        x->trial = runs[i].trial;
        x->seed = runs[i].cfg.seed;
        g->of[i] = g->nrun++;
    }
    int rc = gather_trials(g);
    for (int i = 0; i < n && rc == 0; i++) {
        if (g->of[i] < 0)
            continue;
        rrun *x = &g->run[g->of[i]];
        const rgroup *gr = &g->grp[x->group];
        x->value = ms_calloc((size_t)gr->R, sizeof *x->value);
        x->have = ms_calloc((size_t)gr->R, sizeof *x->have);
        rc = read_values(st, x, gr, &info[i]);
    }
    for (int k = 0; k < g->ngrp && rc == 0; k++)
        decide(g, &g->grp[k]);
    if (rc == 0 && sharded) {
        g->frozen = 1;
        place_trials(g);
    }
    if (rc < 0) {
        ms_rungs_free(g);
        return -1;
    }
    *out = g;
    return 0;
}

void ms_rungs_free(ms_rungs *g)
{
    if (!g)
        return;
    for (int j = 0; j < g->nrun; j++) {
        free(g->run[j].value);
        free(g->run[j].have);
    }
    for (int k = 0; k < g->ngrp; k++) {
        for (int t = 0; t < g->grp[k].ntrials; t++)
            free(g->grp[k].runs[t]);
        free(g->grp[k].runs);
        free(g->grp[k].nruns);
        free(g->grp[k].dec);
    }
    free(g->grp);
    free(g->run);
    free(g->of);
    free(g->shard);
    free(g->journal);
    free(g);
}
