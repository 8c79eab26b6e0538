/* ms_prune: the decisions of successive halving (SHA), asynchronous
 * successive halving in trial order (ASHA) and Hyperband, as pure functions
 * of the trials' values at a rung. Nothing here knows threads, files or
 * time: the same values give the same decisions in every process, with any
 * parallelism, before and after an interrupt, and `verify` can take them
 * again from the stored metrics.
 *
 * Rungs: rung r is reached after min x eta^r epochs (r = 0, 1, ... while
 * that is at most max; a trial that survives the last rung trains to max).
 * Promotion at a rung: rank < max(1, floor(n / eta)) among the n trials of
 * the rung's cohort, ranked by value (goal min: lower is better), ties to
 * the lower trial index, NaN last. */
#ifndef MS_PRUNE_H
#define MS_PRUNE_H

#include <stdbool.h>

typedef enum { MS_PRUNE_SHA, MS_PRUNE_ASHA, MS_PRUNE_HYPERBAND, MS_PRUNE_NTYPES } ms_prune_type;
extern const char *const ms_prune_type_names[MS_PRUNE_NTYPES];

typedef struct ms_prune {
    ms_prune_type type;
    int metric;       /* ms_metric: an epoch's train_loss, train_acc, val_loss or val_acc */
    int goal_max;     /* 1: higher values are better (accuracies) */
    int min, max, eta; /* epochs of rung 0, the most epochs, the reduction factor (>= 2) */
} ms_prune;

/* 0 when p's fields are in range (1 <= min <= max, eta >= 2), else -1. */
int ms_prune_valid(const ms_prune *p);
/* The rungs of bracket b (Hyperband; 0 otherwise): how many, and the
 * epochs of each. Bracket b starts at min x eta^b epochs. */
int ms_prune_brackets(const ms_prune *p);
int ms_prune_rungs(const ms_prune *p, int bracket);
int ms_prune_rung_epochs(const ms_prune *p, int bracket, int r);
/* The stages of the search run rung by rung (SHA and Hyperband on SLURM:
 * each stage trains every trial still on to its next rung, or to max): one
 * per rung below max, and the last to max. */
int ms_prune_stages(const ms_prune *p);
/* Trial t's bracket: t mod the bracket count (Hyperband), else 0. */
int ms_prune_bracket_of(const ms_prune *p, long long trial);

/* How many of a cohort of n go on: max(1, floor(n / eta)). */
int ms_prune_keep(const ms_prune *p, int n);

/* Where a trial stands at a rung. */
typedef enum {
    MS_AT_UNKNOWN,  /* not yet at the rung, and not stopped: undecided */
    MS_AT_REACHED,  /* reported the rung's value */
    MS_AT_GONE      /* stopped before the rung (or failed): never reaches it */
} ms_rung_state;

typedef enum { MS_DECIDE_WAIT, MS_DECIDE_PROMOTE, MS_DECIDE_STOP } ms_decision;

/* One decision at a rung: the trial's rank in its cohort and the cohort's size. */
typedef struct ms_rung_decision {
    ms_decision decision;
    int rank, cohort;
} ms_rung_decision;

/* 1 when trial a ranks before trial b (values va, vb; a < b as indices
 * decides ties). */
int ms_prune_before(const ms_prune *p, double va, long long a, double vb, long long b);

/* The decisions at one rung for trials 0..n-1 (of one bracket, in trial
 * order), from value[] and state[]:
 * - SHA (and Hyperband's brackets): none until every trial is REACHED or
 *   GONE; then each REACHED trial is promoted or stopped by its rank among
 *   all REACHED ones.
 * - ASHA in index order: trial t is decided once every s < t is REACHED or
 *   GONE, by its rank among the REACHED s <= t: the decisions a serial run
 *   in trial order takes, however many trials run at once.
 * Undecided and GONE trials get MS_DECIDE_WAIT. */
void ms_prune_decide(const ms_prune *p, int n, const double *value, const ms_rung_state *state,
                     ms_rung_decision *out);

/* Every decision of a search of T trials the values allow, rung by rung in
 * each bracket: reached[t * R + r] says whether trial t's value at its
 * bracket's rung r (value[t * R + r]) is known (R: ms_prune_rungs(p, 0), the
 * most rungs of any bracket). A trial stopped at a rung is GONE at the
 * later ones. dec[t * R + r] holds MS_DECIDE_WAIT where no decision is
 * possible yet (and for rungs its bracket does not have). Decisions never
 * change once taken as values are added: only final facts decide. */
void ms_prune_all(const ms_prune *p, int T, const double *value, const bool *reached,
                  ms_rung_decision *dec);
/* The order of a serial run (trial by trial for ASHA; rung by rung in each
 * bracket for SHA and Hyperband): a key for each decision, with gaps. */
long long ms_prune_seq(const ms_prune *p, int T, int trial, int rung);

#endif
