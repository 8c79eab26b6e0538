/* cmd_gc: a database's dead training state dropped and the file compacted
 * (ms_gc.h). */
#include "ms_cli.h"
#include "ms_gc.h"
#include "ms_sweep.h"
#include "ms_util.h"

#include <stdio.h>

static const ms_usage gc_usage = {
    .synopsis = "usage: mlpsweep gc [MANIFEST] [--db FILE]\n",
    .about = "Drop the training state no run can use any more, then compact the file:\n"
             "the checkpoint of every finished run (done, or failed: --retry-failed starts\n"
             "a failed run from scratch), whatever its manifest's `keep` says. Unfinished\n"
             "and interrupted runs keep theirs and resume as before. Runs, epochs and\n"
             "validations are untouched: status, export, report and claims read the same.\n"
             "Databases of older builds hold a checkpoint for every finished run; a sweep\n"
             "of this build keeps one only with `keep: state`. Refused while another\n"
             "mlpsweep writes to the database.\n",
};

/* bytes as "208.1 MB" (powers of 1000) */
static const char *size_str(char buf[32], long long n)
{
    if (n >= 1000000000LL)
        snprintf(buf, 32, "%.1f GB", (double)n / 1e9);
    else if (n >= 1000000LL)
        snprintf(buf, 32, "%.1f MB", (double)n / 1e6);
    else if (n >= 1000LL)
        snprintf(buf, 32, "%.1f KB", (double)n / 1e3);
    else
        snprintf(buf, 32, "%lld bytes", n);
    return buf;
}

int cmd_gc(int argc, char **argv)
{
    const char *db = NULL;
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &gc_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    ms_sweep_target t;
    int target = ms_db_target(argc, argv, db, &t);
    if (target != MS_EXIT_OK)
        return target;
    ms_gc_stats s;
    int rc = ms_gc(t.db, &s);
    if (rc == 0) {
        char a[32], b[32];
        if (s.runs)
            printf("%s: dropped the training state of %lld finished run%s, %s -> %s\n", t.db,
                   s.runs, s.runs == 1 ? "" : "s", size_str(a, s.before), size_str(b, s.after));
        else
            printf("%s: nothing to drop, %s -> %s\n", t.db, size_str(a, s.before),
                   size_str(b, s.after));
    }
    ms_sweep_target_release(&t);
    return rc == 0 ? MS_EXIT_OK : MS_EXIT_FAIL;
}
