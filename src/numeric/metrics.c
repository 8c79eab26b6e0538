/* ms_metrics: the one home of a run's vocabulary (ms_metrics.h): the names
 * of its statuses and stop reasons as the database stores them, of the
 * metrics a figure draws, and the results two variants are compared on. The
 * store, status, the report and the manifest's figures and claims spell them
 * from here. */
#include "ms_metrics.h"

#include <string.h>

/* runs.status, in ms_run_status order (the schema's CHECK lists the same) */
static const char *const status_names[MS_RUN_NSTATUS] = {"pending", "running", "done", "failed"};

const char *ms_run_status_name(ms_run_status st)
{
    return st >= 0 && st < MS_RUN_NSTATUS ? status_names[st] : "?";
}

ms_run_status ms_run_status_parse(const char *s)
{
    for (int k = 0; s && k < MS_RUN_NSTATUS; k++)
        if (!strcmp(s, status_names[k]))
            return (ms_run_status)k;
    return MS_RUN_NSTATUS;
}

/* runs.stop_reason, in ms_stop order (MS_STOP_NONE is NULL) */
static const char *const stop_names[] = {"",           "epochs", "early_stop", "diverged",
                                         "interrupted", "pruned"};
enum { NSTOP = sizeof stop_names / sizeof *stop_names };

const char *ms_stop_name(ms_stop s) { return (int)s > 0 && (int)s < NSTOP ? stop_names[s] : ""; }

int ms_stop_parse(const char *s, ms_stop *out)
{
    for (int k = 1; k < NSTOP; k++)
        if (!strcmp(s, stop_names[k])) {
            *out = (ms_stop)k;
            return 0;
        }
    return -1;
}

/* Metric names as a manifest writes them, in ms_metric order */
static const char *const metric_names[MS_METRIC_N] = {"batch_loss", "train_loss", "val_loss",
                                                      "train_acc",  "val_acc",    "step_loss"};

const char *ms_metric_name(ms_metric m)
{
    return (unsigned)m < MS_METRIC_N ? metric_names[m] : "?";
}

int ms_metric_is_acc(ms_metric m) { return m == MS_METRIC_TRAIN_ACC || m == MS_METRIC_VAL_ACC; }

const char *const ms_compare_metrics[MS_COMPARE_NMETRICS] = {
    "final_val_acc", "best_val_acc", "final_val_loss", "best_val_loss",
    "final_train_acc", "final_train_loss", "epochs_done"};
