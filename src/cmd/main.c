/* mlpsweep: entry point and command table. */
#include "ms_cli.h"
#include "ms_kernels.h"
#include "ms_util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MS_STR_(x) #x
#define MS_STR(x) MS_STR_(x)

struct cmd {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
};

static const struct cmd commands[] = {
    {"run", cmd_run, "run a manifest's sweep in parallel into SQLite (resumes)"},
    {"check", cmd_check, "validate a manifest and list its runs"},
    {"status", cmd_status, "show a sweep's progress from its database"},
    {"export", cmd_export, "write a sweep's results as CSV, Markdown, LaTeX, JSON or HTML"},
    {"plot", cmd_plot, "draw the manifest's figures (PNG, SVG and PDF) with gnuplot"},
    {"report", cmd_report, "write one self-contained HTML page of a sweep's results"},
    {"compare", cmd_compare, "compare two variants over seeds: difference, interval, paired test"},
    {"claims", cmd_claims, "check the manifest's claims against the runs: supported or not"},
    {"merge", cmd_merge, "merge the databases of a sharded sweep into one"},
    {"gc", cmd_gc, "drop finished runs' training state from a database and compact it"},
    {"verify", cmd_verify, "take a sweep's pruning decisions again from its epochs and compare"},
    {"slurm", cmd_slurm, "write (and submit) SLURM batch scripts running a sweep as a job array"},
    {"fetch", cmd_fetch, "put MNIST, verified, into the per-user data cache"},
    {"train", cmd_train, "train one configuration, one CSV row per epoch on stdout"},
    {"gradcheck", cmd_gradcheck, "compare analytic and numerical gradients (the assignment's check)"},
};

enum { NCMD = sizeof commands / sizeof *commands };

#ifndef MS_VERSION
#define MS_VERSION "unknown"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: mlpsweep <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < NCMD; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'mlpsweep help <command>' or 'mlpsweep <command> --help' describes a\n"
               "command's options; 'mlpsweep --version' the build.\n" MS_HELP_EXIT);
}

/* What a bug report needs: the version (the commit it was built from), the
 * compiler, OpenMP, and the kernels' instruction set. */
static void version(void)
{
#ifdef _OPENMP
    const char *omp = "OpenMP " MS_STR(_OPENMP);
#else
    const char *omp = "no OpenMP";
#endif
    printf("mlpsweep %s\ncompiler: gcc %s\nthreads: %s\nkernels: %s\n", MS_VERSION, __VERSION__,
           omp, ms_kernels_isa());
}

static const struct cmd *find(const char *name)
{
    for (size_t i = 0; i < NCMD; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

static int unknown(const char *name)
{
    /* the commands, and what may stand in their place: --version, --help */
    const char *names[NCMD + 2];
    char h[96];
    for (size_t i = 0; i < NCMD; i++)
        names[i] = commands[i].name;
    names[NCMD] = "--version";
    names[NCMD + 1] = "--help";
    ms_error("unknown command '%s'%s (see 'mlpsweep --help')", name,
             ms_hint(h, sizeof h, name, names, NCMD + 2));
    return MS_EXIT_USAGE;
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
    const char *a = argv[1];
    if (!strcmp(a, "--version") || !strcmp(a, "version")) {
        version();
        return finish(MS_EXIT_OK);
    }
    if (!strcmp(a, "help") && argc > 2) { /* help CMD: CMD --help */
        const struct cmd *c = find(argv[2]);
        if (!c)
            return unknown(argv[2]);
        char *args[] = {argv[2], "--help", NULL};
        return finish(c->fn(2, args));
    }
    if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "help")) {
        usage(stdout);
        return finish(MS_EXIT_OK);
    }
    const struct cmd *c = find(a);
    return c ? finish(c->fn(argc - 1, argv + 1)) : unknown(a);
}
