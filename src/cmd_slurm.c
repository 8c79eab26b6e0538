/* cmd_merge, cmd_slurm: a sweep spread over a SLURM job array, and back.
 *
 * `slurm` writes two batch scripts and (with --submit) submits them: an
 * array of N tasks, task I running `mlpsweep run --shard I/N` into its own
 * database on node-local storage, and a merge job that runs once every task
 * succeeded (afterok). SQLite files never live on the shared file system
 * while they are written: a task copies its database into the output folder
 * when it ends (WAL folded in, under a temporary name, then renamed), and
 * the next submission starts from that copy, so a task stopped by SIGTERM
 * (time limit, preemption) loses at most its unfinished epochs. */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_manifest.h"
#include "ms_merge.h"
#include "ms_store.h"
#include "ms_shard.h"
#include "ms_util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- merge ---- */

static const char merge_usage[] =
    "usage: mlpsweep merge --db OUT SHARD.db...\n"
    "\n"
    "Merge the databases of a sharded sweep ('run --shard I/N', 'mlpsweep slurm')\n"
    "into OUT, created if missing. Runs are matched by sweep name, variant, seed\n"
    "and configuration; a run keeps its copy with the most finished epochs, so\n"
    "merging a shard again, or a newer copy of it, is safe. Two copies of a run\n"
    "with different results are an error and OUT is left unchanged.\n"
    "\n"
    "  --db OUT          the merged database\n"
    "  --quiet           no summary line\n";

int cmd_merge(int argc, char **argv)
{
    enum { O_DB = 256, O_QUIET, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},
        {"quiet", no_argument, 0, O_QUIET},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *out = NULL;
    int quiet = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &out); break;
        case O_QUIET: quiet = 1; break;
        case O_HELP: fputs(merge_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (!out) {
        ms_error("missing --db OUT (see --help)");
        return MS_EXIT_USAGE;
    }
    if (optind >= argc) {
        ms_error("no shard databases to merge (see --help)");
        return MS_EXIT_USAGE;
    }
    int n = argc - optind, lockfd = -1;
    ms_merge_stats s;
    /* The same writer lock as `run`: a merge never writes under a live run. */
    if (ms_store_probe(out) < 0 || ms_db_lock(out, &lockfd) < 0)
        return MS_EXIT_FAIL;
    int rc = ms_merge(out, (const char *const *)(argv + optind), n, &s);
    close(lockfd);
    if (rc < 0)
        return MS_EXIT_FAIL;
    if (!quiet)
        fprintf(stderr,
                "merged %d shard database%s into '%s': %d runs added, %d updated, %d unchanged%s\n",
                n, n == 1 ? "" : "s", out, s.added, s.updated, s.same,
                s.missing ? "" : "; every run of the manifest is present");
    if (!quiet && s.missing)
        fprintf(stderr, "%d run%s of the manifest %s not started in any shard yet (pending)\n",
                s.missing, s.missing == 1 ? "" : "s", s.missing == 1 ? "is" : "are");
    return MS_EXIT_OK;
}

/* ---- slurm ---- */

#define DEFAULT_MAX_SHARDS 16

static const char slurm_usage[] =
    "usage: mlpsweep slurm MANIFEST --out DIR [--shards N] [--cpus-per-task C]\n"
    "                      [--array-parallelism K] [--partition P] [--time T] [--submit]\n"
    "\n"
    "Write DIR/sweep.sbatch, a SLURM job array of N tasks (task I trains shard I/N\n"
    "of the manifest's runs into a database on node-local storage and copies it to\n"
    "DIR/shard-I.db when it ends), and DIR/merge.sbatch, which merges the shards\n"
    "into DIR/<name>.db once every task succeeded. Submitting again resumes.\n"
    "\n"
    "  --out DIR               folder for the scripts, logs and databases (created)\n"
    "  --shards N              array tasks (the number of runs, at most 16)\n"
    "  --cpus-per-task C       cores per task, its --threads (1)\n"
    "  --array-parallelism K   at most K tasks at once (no limit)\n"
    "  --partition P           the partition of both jobs (the cluster's default)\n"
    "  --time T                time limit of each job, e.g. 2:00:00 (the partition's)\n"
    "  --submit                submit both with sbatch (the merge with afterok on the\n"
    "                          array) and print their job ids\n";

/* A value that goes into an #SBATCH line as is. */
static int check_word(const char *opt, const char *v)
{
    if (!*v)
        return ms_error("%s: empty value", opt);
    for (const char *p = v; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:,+-[]", *p))
            return ms_error("%s: unexpected character in '%s'", opt, v);
    return 0;
}

/* #SBATCH lines take the output folder as is, and %... is a pattern there. */
static int bad_path(const char *p)
{
    if (strpbrk(p, " \t\n%'\"\\"))
        return ms_error("--out: the path '%s' has a blank, quote, backslash or %%: choose another", p);
    return 0;
}

/* s in single quotes for the shell. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    }
    fputc('\'', f);
}

typedef struct slurm_opts {
    const char *name;  /* the sweep */
    char *exe, *manifest, *out, *cwd; /* absolute */
    int nruns, shards, cpus, parallel;
    const char *partition, *time;
} slurm_opts;

static void sbatch_common(FILE *f, const slurm_opts *o)
{
    if (o->partition)
        fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time)
        fprintf(f, "#SBATCH --time=%s\n", o->time);
}

static void shell_vars(FILE *f, const slurm_opts *o)
{
    fputs("mlpsweep=", f);
    sh_quote(f, o->exe);
    fputs("\nmanifest=", f);
    sh_quote(f, o->manifest);
    fputs("\nout=", f);
    sh_quote(f, o->out);
    fprintf(f, "\nname='%s'\nshards=%d\n\n", o->name, o->shards);
    fputs("# the manifest's data.dir is relative to the folder 'mlpsweep slurm' ran in\ncd ", f);
    sh_quote(f, o->cwd);
    fputs(" || exit 1\n", f);
}

/* copy_db SRC DEST: one self-contained file (WAL folded in, rollback journal). */
static const char copy_db_fn[] =
    "copy_db() {\n"
    "    rm -f \"$2\"\n"
    "    if command -v sqlite3 >/dev/null 2>&1; then\n"
    "        sqlite3 \"$1\" \".backup '$2'\" && sqlite3 \"$2\" 'PRAGMA journal_mode=DELETE' >/dev/null\n"
    "    else\n"
    "        cp \"$1\" \"$2\"  # mlpsweep has exited: its log is folded into the file\n"
    "    fi\n"
    "}\n"
    "\n"
    "# publish SRC DEST: copy under a temporary name, then rename (readers never see half)\n"
    "publish() {\n"
    "    local part\n"
    "    part=\"$(dirname \"$2\")/.$(basename \"$2\").part\"\n"
    "    cp \"$1\" \"$part\" && mv -f \"$part\" \"$2\" || { rm -f \"$part\"; return 1; }\n"
    "}\n";

static char *array_script(const slurm_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = ms_memstream(&buf, &len);
    fprintf(f, "#!/bin/bash\n#SBATCH --job-name=mlpsweep-%s\n", o->name);
    if (o->parallel)
        fprintf(f, "#SBATCH --array=0-%d%%%d\n", o->shards - 1, o->parallel);
    else
        fprintf(f, "#SBATCH --array=0-%d\n", o->shards - 1);
    fprintf(f, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=%d\n", o->cpus);
    sbatch_common(f, o);
    fprintf(f, "#SBATCH --output=%s/logs/shard-%%a-%%A.out\n", o->out);
    fprintf(f, "#SBATCH --requeue\n");
    fprintf(f,
            "#\n"
            "# Written by 'mlpsweep slurm': sweep '%s', %d runs in %d shards. Task I trains\n"
            "# shard I/%d into a database on node-local storage ($TMPDIR or /tmp), never on\n"
            "# the shared file system, and copies it to %s/shard-I.db when it ends,\n"
            "# also after SIGTERM (time limit, preemption), when mlpsweep stops at the next\n"
            "# step with status 130. Submitting the array again resumes each shard from its\n"
            "# copy; finished shards end at once. Submit: sbatch %s/sweep.sbatch\n"
            "\n",
            o->name, o->nruns, o->shards, o->shards, o->out, o->out);
    shell_vars(f, o);
    fputs("id=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}\n"
          "threads=${SLURM_CPUS_PER_TASK:-1}\n"
          "\n",
          f);
    fputs(copy_db_fn, f);
    fputs("\n"
          "stop=0\n"
          "trap 'stop=1; echo \"shard $id: terminated; saving its database\" >&2' TERM INT\n"
          "work=$(mktemp -d \"${TMPDIR:-/tmp}/mlpsweep-shard-$id.XXXXXX\") || exit 1\n"
          "trap 'rm -rf \"$work\"' EXIT\n"
          "db=\"$work/shard-$id.db\"\n"
          "\n"
          "# resume from the copy an earlier submission left\n"
          "if [ -f \"$out/shard-$id.db\" ]; then\n"
          "    cp \"$out/shard-$id.db\" \"$db\" || { echo \"shard $id: cannot copy '$out/shard-$id.db'\" >&2; exit 1; }\n"
          "fi\n"
          "\n"
          "status=130\n"
          "if [ \"$stop\" = 0 ]; then\n"
          "    \"$mlpsweep\" run \"$manifest\" --shard \"$id/$shards\" --threads \"$threads\" --db \"$db\"\n"
          "    status=$?\n"
          "fi\n"
          "\n"
          "# every outcome is kept: finished, interrupted or failed runs alike\n"
          "if [ -f \"$db\" ]; then\n"
          "    if ! { copy_db \"$db\" \"$work/copy.db\" && publish \"$work/copy.db\" \"$out/shard-$id.db\"; }; then\n"
          "        echo \"shard $id: cannot copy its database to '$out/shard-$id.db'\" >&2\n"
          "        [ \"$status\" -ne 0 ] || status=1\n"
          "    fi\n"
          "fi\n"
          "echo \"shard $id: exit status $status\" >&2\n"
          "exit \"$status\"\n",
          f);
    fclose(f);
    return buf;
}

static char *merge_script(const slurm_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = ms_memstream(&buf, &len);
    fprintf(f, "#!/bin/bash\n#SBATCH --job-name=mlpsweep-%s-merge\n", o->name);
    fprintf(f, "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n");
    sbatch_common(f, o);
    fprintf(f, "#SBATCH --output=%s/logs/merge-%%j.out\n", o->out);
    fprintf(f,
            "#\n"
            "# Written by 'mlpsweep slurm': merges the shard databases of sweep '%s' into\n"
            "# %s/%s.db once every task of the array succeeded. Submit:\n"
            "#   sbatch --dependency=afterok:ARRAY_JOB_ID %s/merge.sbatch\n"
            "\n",
            o->name, o->out, o->name, o->out);
    shell_vars(f, o);
    fputs("\n", f);
    fputs(copy_db_fn, f);
    fputs("\n"
          "shopt -s nullglob\n"
          "files=(\"$out\"/shard-*.db)\n"
          "if [ ${#files[@]} -eq 0 ]; then\n"
          "    echo \"merge: no shard databases in '$out'\" >&2\n"
          "    exit 1\n"
          "fi\n"
          "work=$(mktemp -d \"${TMPDIR:-/tmp}/mlpsweep-merge.XXXXXX\") || exit 1\n"
          "trap 'rm -rf \"$work\"' EXIT\n"
          "# SQLite reads local copies, not files on the shared file system\n"
          "cp \"${files[@]}\" \"$work/\" || exit 1\n"
          "(cd \"$work\" && \"$mlpsweep\" merge --db \"$name.db\" shard-*.db) || exit 1\n"
          "copy_db \"$work/$name.db\" \"$work/copy.db\" && publish \"$work/copy.db\" \"$out/$name.db\" || {\n"
          "    echo \"merge: cannot write '$out/$name.db'\" >&2\n"
          "    exit 1\n"
          "}\n"
          "\"$mlpsweep\" status --db \"$out/$name.db\" || true\n"
          "echo \"merge: '$out/$name.db' holds the sweep\" >&2\n",
          f);
    fclose(f);
    return buf;
}

static int write_script(const char *dir, const char *file, const char *text)
{
    char *path = ms_xstrfmt("%s/%s", dir, file);
    int rc = ms_write_file_atomic(path, text, strlen(text));
    if (!rc && chmod(path, 0755) != 0)
        rc = ms_error("cannot make '%s' executable: %s", path, strerror(errno));
    free(path);
    return rc;
}

/* mkdir unless it exists as a folder. */
static int make_dir(const char *path)
{
    struct stat st;
    if (mkdir(path, 0777) == 0)
        return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (errno == EEXIST)
        return ms_error("cannot create folder '%s': a file of that name exists", path);
    return ms_error("cannot create folder '%s': %s", path, strerror(errno));
}

/* Run `sbatch --parsable ARGS...` and read the job id it prints. */
static int sbatch(char *const *args, long *job)
{
    const char *script = args[0];
    for (int i = 0; args[i]; i++)
        script = args[i];
    int fd[2];
    if (pipe(fd) != 0)
        return ms_error("cannot run sbatch: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return ms_error("cannot run sbatch: %s", strerror(errno));
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execvp(args[0], args);
        fprintf(stderr, "mlpsweep: cannot run '%s': %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    char out[256];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fd[0], out + n, sizeof out - 1 - n)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0)
            n += (size_t)r;
    close(fd[0]);
    out[n] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return ms_error("sbatch failed for '%s' (%s %d)", script,
                        WIFEXITED(st) ? "exit status" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    char *end;
    errno = 0;
    long id = strtol(out, &end, 10);
    if (end == out || errno || id <= 0 || (*end && *end != ';' && *end != '\n'))
        return ms_error("unexpected output of sbatch: '%.*s'", (int)strcspn(out, "\n"), out);
    *job = id;
    return 0;
}

int cmd_slurm(int argc, char **argv)
{
    enum { O_OUT = 256, O_SHARDS, O_CPUS, O_PAR, O_PART, O_TIME, O_SUBMIT, O_HELP };
    static const struct option opts[] = {
        {"out", required_argument, 0, O_OUT},
        {"shards", required_argument, 0, O_SHARDS},
        {"cpus-per-task", required_argument, 0, O_CPUS},
        {"array-parallelism", required_argument, 0, O_PAR},
        {"partition", required_argument, 0, O_PART},
        {"time", required_argument, 0, O_TIME},
        {"submit", no_argument, 0, O_SUBMIT},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    slurm_opts o;
    memset(&o, 0, sizeof o);
    o.cpus = 1;
    const char *out = NULL;
    int submit = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int c = getopt_long(argc, argv, ":", opts, NULL), rc = 0;
        if (c == -1)
            break;
        switch (c) {
        case O_OUT: out = optarg; break;
        case O_SHARDS: rc = ms_parse_int("--shards", optarg, 1, MS_SHARD_MAX, &o.shards); break;
        case O_CPUS: rc = ms_parse_int("--cpus-per-task", optarg, 1, 1024, &o.cpus); break;
        case O_PAR:
            rc = ms_parse_int("--array-parallelism", optarg, 1, MS_SHARD_MAX, &o.parallel);
            break;
        case O_PART: rc = check_word("--partition", o.partition = optarg); break;
        case O_TIME: rc = check_word("--time", o.time = optarg); break;
        case O_SUBMIT: submit = 1; break;
        case O_HELP: fputs(slurm_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(c, argv); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_one_manifest(argc, argv) < 0)
        return MS_EXIT_USAGE;
    if (!out || !*out) {
        ms_error("missing --out DIR (see --help)");
        return MS_EXIT_USAGE;
    }

    ms_manifest m;
    if (ms_manifest_load(argv[optind], &m, 1) < 0)
        return MS_EXIT_USAGE;
    int status = MS_EXIT_FAIL;
    ms_run_spec *specs = NULL;
    int *shard_of = NULL, *count = NULL;
    double *load = NULL;
    char *logs = NULL, *a = NULL, *b = NULL;
    o.name = m.name;
    o.nruns = ms_manifest_expand(&m, &specs);
    if (o.nruns < 1) {
        ms_error("'%s' has no runs", m.path);
        status = MS_EXIT_USAGE;
        goto out;
    }
    if (!o.shards)
        o.shards = o.nruns < DEFAULT_MAX_SHARDS ? o.nruns : DEFAULT_MAX_SHARDS;

    if (!(o.exe = realpath("/proc/self/exe", NULL))) {
        ms_error("cannot find the mlpsweep binary: %s", strerror(errno));
        goto out;
    }
    if (!(o.manifest = realpath(argv[optind], NULL))) {
        ms_error("cannot resolve '%s': %s", argv[optind], strerror(errno));
        goto out;
    }
    if (!(o.cwd = getcwd(NULL, 0))) {
        ms_error("cannot read the current folder: %s", strerror(errno));
        goto out;
    }
    if (bad_path(out) || (out[0] != '/' && bad_path(o.cwd))) {
        status = MS_EXIT_USAGE;
        goto out;
    }
    if (make_dir(out))
        goto out;
    if (!(o.out = realpath(out, NULL))) {
        ms_error("cannot resolve '%s': %s", out, strerror(errno));
        goto out;
    }
    if (bad_path(o.out)) {
        status = MS_EXIT_USAGE;
        goto out;
    }
    logs = ms_xstrfmt("%s/logs", o.out);
    if (make_dir(logs))
        goto out;

    shard_of = ms_malloc((size_t)o.nruns * sizeof *shard_of);
    count = ms_calloc((size_t)o.shards, sizeof *count);
    load = ms_calloc((size_t)o.shards, sizeof *load);
    ms_shard_assign(specs, o.nruns, o.shards, shard_of, load);
    double total = 0, most = 0;
    int empty = 0, cmin = o.nruns, cmax = 0;
    for (int i = 0; i < o.nruns; i++)
        count[shard_of[i]]++;
    for (int s = 0; s < o.shards; s++) {
        total += load[s];
        most = load[s] > most ? load[s] : most;
        empty += count[s] == 0;
        cmin = count[s] < cmin ? count[s] : cmin;
        cmax = count[s] > cmax ? count[s] : cmax;
    }
    fprintf(stderr, "sweep '%s': %d runs in %d shards of %d to %d runs; the largest shard has "
                    "%.2fx the mean expected work\n",
            m.name, o.nruns, o.shards, cmin, cmax, total > 0 ? most * o.shards / total : 1.0);
    if (empty)
        fprintf(stderr, "%d shard%s hold%s no run: %s end%s at once\n", empty, empty == 1 ? "" : "s",
                empty == 1 ? "s" : "", empty == 1 ? "its task" : "their tasks",
                empty == 1 ? "s" : "");

    a = array_script(&o);
    b = merge_script(&o);
    if (write_script(o.out, "sweep.sbatch", a) || write_script(o.out, "merge.sbatch", b))
        goto out;
    fprintf(stderr, "wrote '%s/sweep.sbatch' (array of %d tasks) and '%s/merge.sbatch'\n", o.out,
            o.shards, o.out);
    if (!submit) {
        fprintf(stderr,
                "submit with:\n  jobid=$(sbatch --parsable %s/sweep.sbatch | cut -d';' -f1)\n"
                "  sbatch --dependency=afterok:$jobid %s/merge.sbatch\n"
                "or run 'mlpsweep slurm ... --submit'\n",
                o.out, o.out);
        status = MS_EXIT_OK;
        goto out;
    }

    char *sweep_path = NULL, *merge_path = NULL, *dep = NULL;
    long array_job = 0, merge_job = 0;
    sweep_path = ms_xstrfmt("%s/sweep.sbatch", o.out);
    merge_path = ms_xstrfmt("%s/merge.sbatch", o.out);
    char *args1[] = {"sbatch", "--parsable", sweep_path, NULL};
    if (sbatch(args1, &array_job) == 0) {
        printf("array job %ld\n", array_job);
        fflush(stdout);
        dep = ms_xstrfmt("--dependency=afterok:%ld", array_job);
        char *args2[] = {"sbatch", "--parsable", dep, merge_path, NULL};
        if (sbatch(args2, &merge_job) == 0) {
            printf("merge job %ld\n", merge_job);
            fprintf(stderr,
                    "submitted: %d tasks in array job %ld; merge job %ld runs once all succeed "
                    "and writes '%s/%s.db'\n",
                    o.shards, array_job, merge_job, o.out, m.name);
            status = MS_EXIT_OK;
        } else {
            ms_error("the array job %ld is submitted, the merge job is not: submit it with "
                     "'sbatch --dependency=afterok:%ld %s'",
                     array_job, array_job, merge_path);
        }
    }
    free(dep);
    free(sweep_path);
    free(merge_path);
out:
    free(a);
    free(b);
    free(logs);
    free(load);
    free(count);
    free(shard_of);
    free(o.exe);
    free(o.manifest);
    free(o.cwd);
    free(o.out);
    free(specs);
    ms_manifest_release(&m);
    return status;
}
