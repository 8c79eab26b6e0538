/* ms_progress: the sweep's progress on stderr.
 *
 * On a terminal: a live block, one line per active run (variant, seed,
 * epoch/total, val acc, ETA) and an overall line, redrawn in place after each
 * epoch, each line cut to the terminal's width (a wrapped line would break
 * the redraw). Elsewhere (a log file, SLURM, CI): one plain line per finished
 * epoch and per ended run, each with the time of day, the run endings with
 * the sweep's totals.
 * Thread-safe: workers call it from their own threads. */
#ifndef MS_PROGRESS_H
#define MS_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct ms_progress ms_progress;

/* Runs at once, at most: the bound of `run --jobs`, and the live block's slots. */
#define MS_MAX_JOBS 1024

/* total_runs and total_epochs are what the sweep has to do; quiet prints nothing. */
ms_progress *ms_progress_new(FILE *out, int total_runs, int64_t total_epochs, int quiet);
/* A worker starts a run; returns its slot. */
int ms_progress_start(ms_progress *p, const char *variant, uint64_t seed, int epochs_done,
                      int epochs_total);
/* An epoch finished (val acc in [0,1], seconds of the epoch). */
void ms_progress_epoch(ms_progress *p, int slot, int epoch, double val_acc, double val_loss,
                       double seconds, int threads);
/* The run ended: `how` says why ("done", "failed", ...); `final` 0 when it
 * was interrupted and will resume later (not counted as done, its epochs
 * kept in the total), else 1 (what is left of it is dropped). */
void ms_progress_end(ms_progress *p, int slot, const char *how, int final);
/* A run ends without training again (pruned at a rung it reached before):
 * counted as done, its epochs_left dropped from the total. */
void ms_progress_skip(ms_progress *p, int epochs_left);
void ms_progress_free(ms_progress *p);
/* A time left as the progress lines say it: "40s", "3m05s", "2h10m", "?"
 * when unknown (negative, NaN, or past 10^7 s). */
void ms_progress_fmt_time(double secs, char *buf, size_t n);

#endif
