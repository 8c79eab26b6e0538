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

static int verify_search(ms_store *st, const ms_search_rec *q, FILE *out, ms_verify_result *r)
{
    ms_search_run *runs = NULL;
    ms_rung_row *stored = NULL, *re = NULL;
    ms_rungs *g = NULL;
    int n = 0, ns = 0, nr = 0, rc = -1;
    if (ms_store_search_runs(st, q->sweep, q->name, &runs, &n) == 0 &&
        ms_store_decisions(st, q->sweep, q->name, &stored, &ns) == 0 &&
        (rc = recompute(st, q, runs, n, &g, &re, &nr)) == 0) {
        compare_rows(q->name, stored, ns, re, nr, out, r);
        check_runs(q->name, g, runs, n, out, r);
        r->decisions += nr;
        r->searches++;
    }
    ms_rungs_free(g);
    free(runs);
    free(stored);
    free(re);
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
        ms_search_run *runs = NULL;
        ms_rung_row *stored = NULL, *re = NULL;
        ms_rungs *g = NULL;
        int n = 0, ns = 0, nr = 0;
        rc = ms_store_search_runs(st, q[i].sweep, q[i].name, &runs, &n);
        if (rc == 0)
            rc = ms_store_decisions(st, q[i].sweep, q[i].name, &stored, &ns);
        if (rc == 0)
            rc = recompute(st, &q[i], runs, n, &g, &re, &nr);
        if (rc == 0 && nr > ns) /* the journal's rows are kept: only new ones are added */
            rc = ms_store_put_decisions(st, q[i].sweep_id, re, nr);
        if (rc == 0 && nr > ns)
            *decided += nr - ns;
        ms_rungs_free(g);
        free(runs);
        free(stored);
        free(re);
    }
    ms_store_searches_free(q, nq);
    return rc;
}
