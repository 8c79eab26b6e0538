/* ms_sched: runs a sweep's training runs in parallel under a thread budget.
 *
 * DESIGN. The caller's thread loads the data once (shared read-only by every
 * run) and registers the runs in the store. ms_sched_run then starts `jobs`
 * worker pthreads. Each worker takes the next run from a queue ordered longest
 * first (expected floating-point work of the epochs left), restores its
 * checkpoint if there is one, and trains it epoch by epoch. Every finished
 * epoch is committed in one store transaction (metrics and checkpoint), so a
 * kill loses at most the epoch in progress.
 *
 * Threads: the budget is split evenly over the runs in progress; a worker
 * re-reads its share at each epoch boundary, so when runs finish, their cores
 * go to the runs still going (as more OpenMP threads in their matmuls). The
 * workers never exceed the budget together, and no OpenMP region nests in
 * another: a worker's kernels open their own team of `share` threads.
 *
 * Results do not depend on jobs or threads: each run is a pure function of its
 * config and seed (see ms_kernels.h).
 *
 * A pruned search's run (ms_rungs) that reaches a rung before its trial's
 * decision there waits: its worker keeps the checkpoint just committed in
 * memory, marks it pending, and takes other work; the decision that lets
 * it go on queues it again (first, before runs not started), one that
 * stops it ends it `pruned`. The decisions depend on the values only, so
 * which runs train which epochs is the same whatever the jobs. */
#ifndef MS_SCHED_H
#define MS_SCHED_H

#include <stdatomic.h>
#include <stdint.h>

#include "ms_config.h"
#include "ms_data.h"
#include "ms_rungs.h"
#include "ms_store.h"

typedef struct ms_job {
    int64_t run_id;
    const ms_run_spec *run; /* the caller's: keep it alive */
    int epochs_done;   /* from the store: where to resume */
    int index;         /* the run's index in what ms_rungs_new was given */
    /* filled by the scheduler */
    int failed;
    int pruned;        /* stopped by its search's pruning */
    int waiting;       /* at a rung, for its trial's decision */
    void *state;       /* then, when it waits in this process: its checkpoint */
    size_t state_len;
} ms_job;

typedef struct ms_sched_opts {
    int threads;       /* total thread budget */
    int jobs;          /* runs at once (<= threads) */
    int quiet;         /* no progress lines */
    int64_t sweep_id;  /* the runs' sweep (a pruned search's journal) */
    const char *version, *compiler, *host;
} ms_sched_opts;

/* Set by the SIGINT/SIGTERM handler: workers stop at the next step. */
extern atomic_int ms_sched_cancel;
void ms_sched_install_signals(void);

/* Train every run; returns 0 when all finished, 1 when some failed, 2 when
 * cancelled, -1 on a store error (the sweep stops). */
int ms_sched_run(ms_store *st, const ms_data *data, ms_job *runs, int n, ms_rungs *rungs,
                 const ms_sched_opts *o);

/* Expected work of a run's remaining epochs, for ordering (arbitrary units). */
double ms_sched_cost(const ms_config *c, int epochs_done);
/* order (n) = 0 .. n-1 sorted longest first by cost (n), equal costs in
 * index order: the scheduler's queue and the shards' split (ms_shard.h). */
void ms_sched_order(const double *cost, int n, int *order);

#endif
