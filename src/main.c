/* mlpsweep: entry point and command table. */
#include "ms_cli.h"
#include "ms_util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
};

static const struct cmd commands[] = {
    {"run", cmd_run, "run a manifest's sweep in parallel into SQLite (resumes)"},
    {"check", cmd_check, "validate a manifest and list its runs"},
    {"status", cmd_status, "show a sweep's progress from its database"},
    {"export", cmd_export, "write a sweep's results as CSV, Markdown, LaTeX or JSON"},
    {"plot", cmd_plot, "draw the manifest's figures (PNG and SVG) with gnuplot"},
    {"merge", cmd_merge, "merge the databases of a sharded sweep into one"},
    {"slurm", cmd_slurm, "write (and submit) SLURM batch scripts running a sweep as a job array"},
    {"train", cmd_train, "train one configuration, one CSV row per epoch on stdout"},
    {"gradcheck", cmd_gradcheck, "compare analytic and numerical gradients (the assignment's check)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: mlpsweep <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'mlpsweep <command> --help' describes a command's options.\n");
}

/* What a command printed must have reached its destination: a full disk or
 * /dev/full behind stdout is an error (exit 1), not a silent success. */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        ms_error("cannot write to standard output");
        return status == MS_EXIT_OK ? MS_EXIT_FAIL : status;
    }
    return status;
}

int main(int argc, char **argv)
{
    /* Past a file-size limit (ulimit -f) a write fails with EFBIG, which
     * every write path reports, instead of the signal killing us silently. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return MS_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return finish(MS_EXIT_OK);
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return finish(commands[i].fn(argc - 1, argv + 1));
    ms_error("unknown command '%s' (see 'mlpsweep --help')", argv[1]);
    return MS_EXIT_USAGE;
}
