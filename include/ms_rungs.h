/* ms_rungs: the pruned searches of one `run` while it trains. It holds each
 * trial's values at its rungs (the mean of its seeds' metric there) and the
 * decisions ms_prune takes from them, and tells the scheduler, for a run
 * about to train its next epoch, whether to go on, to wait at its rung for
 * the decision (parked at its checkpoint while the worker takes other
 * work), or to stop. Every decision is recomputed from the values alone, so
 * a sweep resumed after a kill takes the same decisions again, and the
 * order in which runs finish their epochs (jobs, threads) changes nothing.
 * Not thread-safe: the scheduler calls it under its own mutex. */
#ifndef MS_RUNGS_H
#define MS_RUNGS_H

#include "ms_config.h"
#include "ms_store.h"

typedef struct ms_rungs ms_rungs;

typedef enum { MS_RUNG_GO, MS_RUNG_WAIT, MS_RUNG_STOP } ms_rung_next;

/* 0 when runs[0..n) hold every trial of each pruned search they touch (a
 * search is judged whole) and, when sharded, no search is 'asha' (which
 * decides as trials report); else -1 after a message. Checked before any
 * file is made. */
int ms_rungs_check(const ms_run_spec *runs, int n, int sharded);
/* The pruned runs among runs[0..n) (info: as registered), their stored
 * values read and the decisions they allow taken. 0 with *out NULL when no
 * run is pruned; -1 after a message (ms_rungs_check).
 *
 * Sharded (`run --shard`, one stage of a SLURM search): runs[] holds every
 * run of each search (all shards' files hold them all), the decisions are
 * the ones the stored values take and no more, so a run trains to its next
 * rung and waits there; the merge of the stage's shards takes the rung's
 * decisions (ms_verify_decide) and the next stage goes on from them.
 * Which shard trains a trial: ms_rungs_in_shard. */
int ms_rungs_new(ms_store *st, const ms_run_spec *runs, const ms_run_info *info, int n,
                 int sharded, ms_rungs **out);
void ms_rungs_free(ms_rungs *g);
/* 1 when run i belongs to shard `shard` of nshards (a run of no search
 * always does: ms_shard_filter chose it). A trial's seeds go together, and
 * a stage's trials (those promoted at as many rungs) are dealt round the
 * shards in trial order. */
int ms_rungs_in_shard(const ms_rungs *g, int i, int shard, int nshards);

/* What run i (index into runs) does with epochs_done epochs behind it. */
ms_rung_next ms_rungs_next(const ms_rungs *g, int i, int epochs_done);
/* Run i finished epoch `epoch` with metric value v; ended: its last epoch
 * (all epochs, early stopping), failed: it diverged or failed (its trial's
 * value is NaN from there). Takes every decision this makes possible. */
void ms_rungs_report(ms_rungs *g, int i, int epoch, double v, int ended, int failed);

/* The decisions taken since the last call (all of them at first, those
 * recomputed from stored values included): *rows malloc'd (caller frees),
 * their count returned. For the store's journal (ms_store_put_decisions). */
int ms_rungs_journal(ms_rungs *g, ms_rung_row **rows);

/* The decisions so far, for the progress line and the summary. */
void ms_rungs_counts(const ms_rungs *g, int *promoted, int *stopped, int *waiting);

#endif
