/* ms_prune: rungs and the decisions of SHA, ASHA in trial order and
 * Hyperband (see ms_prune.h). Pure functions over flat arrays. */
#include "ms_prune.h"

#include "ms_util.h"

#include <math.h>
#include <stdlib.h>

const char *const ms_prune_type_names[MS_PRUNE_NTYPES] = {"sha", "asha", "hyperband"};

int ms_prune_valid(const ms_prune *p)
{
    return p->type >= 0 && p->type < MS_PRUNE_NTYPES && p->min >= 1 && p->min <= p->max &&
                   p->eta >= 2
               ? 0
               : -1;
}

/* The largest s with min x eta^s <= max. */
static int top_rung(const ms_prune *p)
{
    int s = 0;
    for (long long e = p->min; e * p->eta <= p->max; e *= p->eta)
        s++;
    return s;
}

int ms_prune_brackets(const ms_prune *p)
{
    return p->type == MS_PRUNE_HYPERBAND ? top_rung(p) + 1 : 1;
}

int ms_prune_rungs(const ms_prune *p, int bracket)
{
    return top_rung(p) + 1 - bracket;
}

int ms_prune_rung_epochs(const ms_prune *p, int bracket, int r)
{
    long long e = p->min;
    for (int i = 0; i < bracket + r; i++)
        e *= p->eta;
    return (int)e;
}

int ms_prune_stages(const ms_prune *p)
{
    int s = 1;
    for (int r = 0; r < ms_prune_rungs(p, 0); r++)
        s += ms_prune_rung_epochs(p, 0, r) < p->max;
    return s;
}

int ms_prune_bracket_of(const ms_prune *p, long long trial)
{
    return (int)(trial % ms_prune_brackets(p));
}

int ms_prune_keep(const ms_prune *p, int n)
{
    int k = n / p->eta;
    return k > 1 ? k : 1;
}

int ms_prune_before(const ms_prune *p, double va, long long a, double vb, long long b)
{
    int na = isnan(va), nb = isnan(vb);
    if (na != nb)
        return nb; /* NaN last */
    if (!na && va != vb)
        return p->goal_max ? va > vb : va < vb;
    return a < b;
}

/* The rank of trial t among the REACHED trials 0..upto-1, and their count. */
static void rank_among(const ms_prune *p, int upto, const double *value,
                       const ms_rung_state *state, int t, ms_rung_decision *d)
{
    d->rank = 0;
    d->cohort = 0;
    for (int s = 0; s < upto; s++) {
        if (state[s] != MS_AT_REACHED)
            continue;
        d->cohort++;
        if (s != t && ms_prune_before(p, value[s], s, value[t], t))
            d->rank++;
    }
    d->decision = d->rank < ms_prune_keep(p, d->cohort) ? MS_DECIDE_PROMOTE : MS_DECIDE_STOP;
}

void ms_prune_decide(const ms_prune *p, int n, const double *value, const ms_rung_state *state,
                     ms_rung_decision *out)
{
    for (int t = 0; t < n; t++)
        out[t] = (ms_rung_decision){MS_DECIDE_WAIT, 0, 0};
    if (p->type != MS_PRUNE_ASHA) {
        for (int t = 0; t < n; t++)
            if (state[t] == MS_AT_UNKNOWN)
                return; /* synchronous: the whole cohort first */
        for (int t = 0; t < n; t++)
            if (state[t] == MS_AT_REACHED)
                rank_among(p, n, value, state, t, &out[t]);
        return;
    }
    for (int t = 0; t < n; t++) {
        if (state[t] == MS_AT_UNKNOWN)
            return; /* t and every later trial wait for t */
        if (state[t] == MS_AT_REACHED)
            rank_among(p, t + 1, value, state, t, &out[t]);
    }
}

void ms_prune_all(const ms_prune *p, int T, const double *value, const bool *reached,
                  ms_rung_decision *dec)
{
    int nb = ms_prune_brackets(p), R = ms_prune_rungs(p, 0);
    int *idx = ms_malloc((size_t)(T ? T : 1) * sizeof *idx);
    double *val = ms_malloc((size_t)(T ? T : 1) * sizeof *val);
    ms_rung_state *state = ms_malloc((size_t)(T ? T : 1) * sizeof *state);
    ms_rung_decision *out = ms_malloc((size_t)(T ? T : 1) * sizeof *out);
    for (int i = 0; i < T * R; i++)
        dec[i] = (ms_rung_decision){MS_DECIDE_WAIT, 0, 0};
    for (int b = 0; b < nb; b++) {
        int n = 0;
        for (int t = b; t < T; t += nb)
            idx[n++] = t;
        for (int r = 0; r < ms_prune_rungs(p, b); r++) {
            for (int k = 0; k < n; k++) {
                int t = idx[k], gone = 0;
                for (int q = 0; q < r; q++)
                    gone |= dec[t * R + q].decision == MS_DECIDE_STOP;
                val[k] = value[t * R + r];
                state[k] = gone                  ? MS_AT_GONE
                           : reached[t * R + r] ? MS_AT_REACHED
                                                : MS_AT_UNKNOWN;
            }
            ms_prune_decide(p, n, val, state, out);
            for (int k = 0; k < n; k++)
                dec[idx[k] * R + r] = out[k];
        }
    }
    free(idx), free(val), free(state), free(out);
}

long long ms_prune_seq(const ms_prune *p, int T, int trial, int rung)
{
    long long R = ms_prune_rungs(p, 0);
    if (p->type == MS_PRUNE_ASHA)
        return trial * R + rung;
    return ((long long)ms_prune_bracket_of(p, trial) * R + rung) * T + trial;
}
