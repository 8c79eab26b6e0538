/* ms_gc: the training state no run can use any more dropped from a study
 * database, and the file compacted (`mlpsweep gc`).
 *
 * A checkpoint serves a run that can still continue: pending, running or
 * interrupted. A done run never trains again, and a failed one restarts
 * from scratch (--retry-failed), so their checkpoints are dead weight:
 * databases of older builds hold one for every finished run (~100-800 KB
 * each), and `keep: state` keeps them on purpose. Only gc.c sees the SQL. */
#ifndef MS_GC_H
#define MS_GC_H

typedef struct ms_gc_stats {
    long long runs;          /* done or failed runs whose checkpoint was dropped */
    long long before, after; /* bytes on disk: the file and its write-ahead log */
} ms_gc_stats;

/* Open the database at path as its writer (refused while another mlpsweep
 * writes to it; an empty or missing file is an error, never made a
 * database), delete the checkpoints of every done or failed run in one
 * transaction, whatever its `keep`, then VACUUM the file and fold the log
 * back into it so it shrinks on disk. Runs, epochs, validations, steps and
 * sweeps are untouched. 0, or -1 after one message (nothing dropped when
 * the deletion failed). */
int ms_gc(const char *path, ms_gc_stats *stats);

#endif
