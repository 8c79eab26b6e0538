/* cmd_verify: a sweep's pruning decisions taken again from its database
 * (ms_verify.h). */
#include "ms_cli.h"
#include "ms_sweep.h"
#include "ms_util.h"
#include "ms_verify.h"

#include <stdio.h>

static const ms_usage verify_usage = {
    .synopsis = "usage: mlpsweep verify [MANIFEST] [--db FILE]\n",
    .about = "Take every decision of the sweep's pruned searches again from the stored\n"
             "epochs (the same rules, fed from the database alone) and compare it with the\n"
             "decisions table row by row: the value bit for bit, the rank, the cohort, the\n"
             "decision and its order. Then check each run's epochs against them: past a\n"
             "rung only when its trial was promoted there, `pruned` only where it was\n"
             "stopped. Exits 1 on any difference, each one named (docs/search.md).\n",
};

int cmd_verify(int argc, char **argv)
{
    const char *db = NULL;
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &verify_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    ms_sweep_target t;
    int target = ms_db_target(argc, argv, db, &t);
    if (target != MS_EXIT_OK)
        return target;
    ms_verify_result r;
    int rc = ms_sweep_target_open(&t) < 0 ? -1 : ms_verify(t.st, t.sweep, stdout, &r);
    if (rc == 0 && !r.searches)
        printf("verify: sweep '%s' has no pruned search: nothing to verify\n", t.sweep);
    else if (rc == 0)
        printf("verify: sweep '%s': %d search%s, %d decision%s recomputed from the stored "
               "epochs: %s\n",
               t.sweep, r.searches, r.searches == 1 ? "" : "es", r.decisions,
               r.decisions == 1 ? "" : "s",
               r.differences ? "DIFFERENCES above" : "all equal to the journal");
    ms_sweep_target_release(&t);
    return rc < 0 ? MS_EXIT_FAIL : r.differences ? MS_EXIT_FAIL : MS_EXIT_OK;
}
