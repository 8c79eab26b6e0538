/* ms_verify: a sweep's pruning decisions taken again from its database
 * (ms_verify.h). */
#define _POSIX_C_SOURCE 200809L
#include "ms_verify.h"
#include "ms_rungs.h"
#include "ms_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static void differ(ms_verify_result *r, FILE *out, const char *search, const char *fmt,
                   long long trial, long long rung, const char *what)
{
    r->differences++;
    fprintf(out, "verify: search '%s': ", search);
    fprintf(out, fmt, trial, rung, what);
    fputc('\n', out);
}

/* The journal (stored, ns rows) against the recomputed decisions (nr). */
static void compare_rows(const char *name, const ms_rung_row *stored, int ns,
                         const ms_rung_row *re, int nr, FILE *out, ms_verify_result *r)
{
    for (int i = 0; i < nr; i++) {
        const ms_rung_row *a = &re[i], *b = NULL;
        for (int k = 0; k < ns && !b; k++)
            if (stored[k].trial == a->trial && stored[k].rung == a->rung)
                b = &stored[k];
        const char *what = !b                              ? "missing from the journal"
                           : b->promote != a->promote      ? "decision differs"
                           : !same_value(b->value, a->value) ? "value differs"
                           : b->rank != a->rank || b->cohort != a->cohort ? "rank differs"
                           : b->epoch != a->epoch || b->bracket != a->bracket || b->seq != a->seq
                               ? "its rung or order differs"
                               : NULL;
        if (what)
            differ(r, out, name, "trial %lld rung %lld: %s", a->trial, a->rung, what);
    }
    for (int k = 0; k < ns; k++) {
        int found = 0;
        for (int i = 0; i < nr && !found; i++)
            found = re[i].trial == stored[k].trial && re[i].rung == stored[k].rung;
        if (!found)
            differ(r, out, name, "trial %lld rung %lld: %s", stored[k].trial, stored[k].rung,
                   "in the journal, but the stored epochs do not decide it");
    }
}

/* Each run's epochs against the decisions: past a rung only when promoted
 * there, `pruned` only where stopped. */
static void check_runs(const char *name, const ms_rungs *g, const ms_search_run *runs, int n,
                       FILE *out, ms_verify_result *r)
{
    for (int i = 0; i < n; i++) {
        const ms_search_run *x = &runs[i];
        for (int e = 1; e < x->epochs_done; e++)
            if (ms_rungs_next(g, i, e) != MS_RUNG_GO) {
                differ(r, out, name, "trial %lld seed %lld: %s", x->trial + 1, (long long)x->seed,
                       "trained past a rung where its trial was not promoted");
                break;
            }
        if (x->stop == MS_STOP_PRUNED && ms_rungs_next(g, i, x->epochs_done) != MS_RUNG_STOP)
            differ(r, out, name, "trial %lld seed %lld: %s", x->trial + 1, (long long)x->seed,
                   "stopped 'pruned' where its trial was not stopped");
    }
}

/* Search q's decisions taken again from its runs' stored epochs: *g
 * (caller frees) and the rows (*re, malloc'd, *nr). 0, or -1 after a
 * message. */
static int recompute(ms_store *st, const ms_search_rec *q, const ms_search_run *runs, int n,
                     ms_rungs **g, ms_rung_row **re, int *nr)
{
    ms_run_spec *spec = ms_calloc((size_t)(n ? n : 1), sizeof *spec);
    ms_run_info *info = ms_calloc((size_t)(n ? n : 1), sizeof *info);
    for (int i = 0; i < n; i++) {
        spec[i] = (ms_run_spec){.variant = q->name, .grid = q->name, .prune = &q->prune,
                                .trial = runs[i].trial, .trials = q->trials};
        spec[i].cfg.seed = runs[i].seed;
        info[i] = (ms_run_info){.id = runs[i].run_id, .status = runs[i].status,
                                .epochs_done = runs[i].epochs_done};
    }
    *g = NULL;
    *nr = 0;
    *re = NULL;
    int rc = ms_rungs_new(st, spec, info, n, 0, g);
    if (rc == 0)
        *nr = ms_rungs_journal(*g, re);
    free(spec);
    free(info);
    return rc;
}

/* What verify and the decide step read of one search: its runs, its
 * journal, and the decisions taken again (recompute). Free with
 * search_release. */
typedef struct search_read {
    ms_search_run *runs;
    ms_rung_row *stored, *re;
    int n, ns, nr;
    ms_rungs *g;
} search_read;

static int search_read_all(ms_store *st, const ms_search_rec *q, search_read *s)
{
    memset(s, 0, sizeof *s);
    if (ms_store_search_runs(st, q->sweep, q->name, &s->runs, &s->n) < 0 ||
        ms_store_decisions(st, q->sweep, q->name, &s->stored, &s->ns) < 0)
        return -1;
    return recompute(st, q, s->runs, s->n, &s->g, &s->re, &s->nr);
}

static void search_release(search_read *s)
{
    ms_rungs_free(s->g);
    free(s->runs);
    free(s->stored);
    free(s->re);
}

static int verify_search(ms_store *st, const ms_search_rec *q, FILE *out, ms_verify_result *r)
{
    search_read s;
    int rc = search_read_all(st, q, &s);
    if (rc == 0) {
        compare_rows(q->name, s.stored, s.ns, s.re, s.nr, out, r);
        check_runs(q->name, s.g, s.runs, s.n, out, r);
        r->decisions += s.nr;
        r->searches++;
    }
    search_release(&s);
    return rc;
}

int ms_verify(ms_store *st, const char *sweep, FILE *out, ms_verify_result *r)
{
    memset(r, 0, sizeof *r);
    ms_search_rec *q = NULL;
    int nq = 0;
    int rc = ms_store_searches(st, sweep, &q, &nq);
    for (int i = 0; i < nq && rc == 0; i++)
        rc = verify_search(st, &q[i], out, r);
    ms_store_searches_free(q, nq);
    return rc;
}

int ms_verify_decide(ms_store *st, int *decided)
{
    *decided = 0;
    ms_search_rec *q = NULL;
    int nq = 0;
    int rc = ms_store_searches(st, NULL, &q, &nq);
    for (int i = 0; i < nq && rc == 0; i++) {
        search_read s;
        rc = search_read_all(st, &q[i], &s);
        /* the journal's rows are kept (INSERT OR IGNORE): only new ones are added */
        if (rc == 0 && s.nr > s.ns)
            rc = ms_store_put_decisions(st, q[i].sweep_id, s.re, s.nr);
        if (rc == 0 && s.nr > s.ns)
            *decided += s.nr - s.ns;
        search_release(&s);
    }
    ms_store_searches_free(q, nq);
    return rc;
}
