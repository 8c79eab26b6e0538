/* ms_slurm: a sweep as a SLURM job array, its two scripts and their
 * submission (ms_slurm.h). */
#define _GNU_SOURCE
#include "ms_slurm.h"
#include "ms_data.h"
#include "ms_manifest.h"
#include "ms_prune.h"
#include "ms_rungs.h"
#include "ms_shard.h"
#include "ms_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_MAX_SHARDS 16

int ms_slurm_check_word(const char *opt, const char *v)
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

/* What the scripts say: the sweep, absolute paths, the array's shape. */
typedef struct slurm_opts {
    const char *name;  /* the sweep */
    char *exe, *manifest, *out, *cwd, *data; /* absolute */
    char *const *settings; /* passed to each task's run, as --only and --retry-failed */
    int nsettings, retry_failed;
    const char *only;
    int nruns, shards, cpus, parallel;
    int stages; /* 1, or a search's stages (ms_prune_stages): an array and a merge each */
    int publish_epochs;
    double publish_minutes;
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
    fputs("\ndata=", f); /* found where `slurm` ran, as `run` finds it */
    sh_quote(f, o->data);
    fputs("\n# what run takes besides: the settings, --only, --retry-failed\nargs=(", f);
    for (int i = 0; i < o->nsettings; i++) {
        sh_quote(f, o->settings[i]);
        fputc(' ', f);
    }
    if (o->only) {
        fputs("--only ", f);
        sh_quote(f, o->only);
        fputc(' ', f);
    }
    fprintf(f, "%s)", o->retry_failed ? "--retry-failed" : "");
    fprintf(f, "\nname='%s'\nshards=%d\nstages=%d\npublish_epochs=%d\npublish_minutes=%g\n",
            o->name, o->shards, o->stages, o->publish_epochs, o->publish_minutes);
    fputs("stage=${1:-0}  # sbatch SCRIPT STAGE: a pruned search runs stage by stage\n"
          "case $stage in ''|*[!0-9]*) echo \"stage '$stage' is not a number\" >&2; exit 1 ;; esac\n"
          "[ \"$stage\" -lt \"$stages\" ] || { echo \"stage $stage: there are $stages\" >&2; exit 1; }\n"
          "# the shards' databases: in DIR, or in DIR/stage-S when there are stages\n"
          "if [ \"$stages\" -gt 1 ]; then dir=\"$out/stage-$stage\"; else dir=\"$out\"; fi\n\n",
          f);
    fputs("# relative paths (the manifest, the databases) are relative to the folder\n"
          "# 'mlpsweep slurm' ran in\ncd ",
          f);
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
            "# the shared file system, and copies it to %s/shard-I.db while it trains\n"
            "# and when it ends, also after SIGTERM (time limit, preemption), when mlpsweep\n"
            "# stops at the next step with status 130. A requeued or resubmitted task goes on\n"
            "# from that copy; finished shards end at once. Submit: sbatch %s/sweep.sbatch\n",
            o->name, o->nruns, o->shards, o->shards, o->out, o->out);
    if (o->stages > 1)
        fprintf(f,
                "#\n"
                "# A pruned search runs in %d stages (sbatch sweep.sbatch S, S = 0 to %d), each\n"
                "# after the merge of the one before: stage S trains every trial still on to its\n"
                "# next rung, into %s/stage-S/shard-I.db, starting from %s/%s.db.\n",
                o->stages, o->stages - 1, o->out, o->out, o->name);
    fputc('\n', f);
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
          "mkdir -p \"$dir\" || exit 1\n"
          "# while it trains, the task's database is copied to the shared folder: a crash\n"
          "# of the node loses at most one interval, and a requeued task goes on from it\n"
          "publish=(--publish \"$dir/shard-$id.db\" --publish-epochs \"$publish_epochs\" --publish-minutes \"$publish_minutes\")\n"
          "\n"
          "# resume from the copy an earlier submission left; a later stage starts\n"
          "# from the merge of the one before (every run, and the rung's decisions)\n"
          "from=\"$dir/shard-$id.db\"\n"
          "if [ ! -f \"$from\" ] && [ \"$stage\" -gt 0 ]; then\n"
          "    from=\"$out/$name.db\"\n"
          "    [ -f \"$from\" ] || { echo \"shard $id: stage $stage starts from '$from', the merge of stage $((stage - 1)): it is missing\" >&2; exit 1; }\n"
          "fi\n"
          "if [ -f \"$from\" ]; then\n"
          "    cp \"$from\" \"$db\" || { echo \"shard $id: cannot copy '$from'\" >&2; exit 1; }\n"
          "fi\n"
          "\n"
          "status=130\n"
          "if [ \"$stop\" = 0 ]; then\n"
          "    \"$mlpsweep\" run \"$manifest\" \"${args[@]}\" --shard \"$id/$shards\" --threads \"$threads\" \\\n"
          "        --db \"$db\" --data \"$data\" \"${publish[@]}\"\n"
          "    status=$?\n"
          "fi\n"
          "\n"
          "# run publishes its database as it ends (finished, interrupted or failed runs\n"
          "# alike): a copy is made here only when it never got that far\n"
          "if [ -f \"$db\" ] && [ ! -f \"$dir/shard-$id.db\" ]; then\n"
          "    if ! { mkdir -p \"$dir\" && copy_db \"$db\" \"$work/copy.db\" && publish \"$work/copy.db\" \"$dir/shard-$id.db\"; }; then\n"
          "        echo \"shard $id: cannot copy its database to '$dir/shard-$id.db'\" >&2\n"
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
          "files=(\"$dir\"/shard-*.db)\n"
          "if [ ${#files[@]} -eq 0 ]; then\n"
          "    echo \"merge: no shard databases in '$dir'\" >&2\n"
          "    exit 1\n"
          "fi\n"
          "# with stages, the merge of the stages before is merged too: nothing is lost\n"
          "# when a stage is submitted again\n"
          "if [ \"$stages\" -gt 1 ] && [ -f \"$out/$name.db\" ]; then files+=(\"$out/$name.db\"); fi\n"
          "work=$(mktemp -d \"${TMPDIR:-/tmp}/mlpsweep-merge.XXXXXX\") || exit 1\n"
          "trap 'rm -rf \"$work\"' EXIT\n"
          "# SQLite reads local copies, not files on the shared file system\n"
          "mkdir \"$work/in\" && cp \"${files[@]}\" \"$work/in/\" || exit 1\n"
          "# merge takes the decisions the merged epochs allow: a stage's rung is decided\n"
          "(cd \"$work\" && \"$mlpsweep\" merge --db \"$name.db\" in/*.db) || exit 1\n"
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

/* The absolute paths the scripts name (binary, manifest, the folder `slurm`
 * ran in, the output folder, created with its logs/), each checked for
 * characters an #SBATCH line cannot hold. Returns an exit status, or -1 to
 * go on. */
static int resolve_paths(slurm_opts *s, const char *manifest, const char *out)
{
    if (!(s->exe = realpath("/proc/self/exe", NULL))) {
        ms_error("cannot find the mlpsweep binary: %s", strerror(errno));
        return MS_EXIT_FAIL;
    }
    if (!(s->manifest = realpath(manifest, NULL))) {
        ms_error("cannot resolve '%s': %s", manifest, strerror(errno));
        return MS_EXIT_FAIL;
    }
    if (!(s->cwd = getcwd(NULL, 0))) {
        ms_error("cannot read the current folder: %s", strerror(errno));
        return MS_EXIT_FAIL;
    }
    if (bad_path(out) || (out[0] != '/' && bad_path(s->cwd)))
        return MS_EXIT_USAGE;
    if (make_dir(out))
        return MS_EXIT_FAIL;
    if (!(s->out = realpath(out, NULL))) {
        ms_error("cannot resolve '%s': %s", out, strerror(errno));
        return MS_EXIT_FAIL;
    }
    if (bad_path(s->out))
        return MS_EXIT_USAGE;
    char *logs = ms_xstrfmt("%s/logs", s->out);
    int rc = make_dir(logs);
    free(logs);
    return rc ? MS_EXIT_FAIL : -1;
}

/* How the runs fall into the shards, on stderr: counts and the largest
 * shard's expected work against the mean. */
static void report_shards(const slurm_opts *s, const ms_run_spec *specs)
{
    if (s->stages > 1) {
        fprintf(stderr, "sweep '%s': %d runs; a pruned search runs in %d stages of %d tasks: each "
                        "trains every trial still on to its next rung (the trials dealt round the "
                        "tasks), and its merge job decides the rung\n",
                s->name, s->nruns, s->stages, s->shards);
        return;
    }
    int *shard_of = ms_malloc((size_t)s->nruns * sizeof *shard_of);
    int *count = ms_calloc((size_t)s->shards, sizeof *count);
    double *load = ms_calloc((size_t)s->shards, sizeof *load);
    ms_shard_assign(specs, s->nruns, s->shards, shard_of, load);
    double total = 0, most = 0;
    int empty = 0, cmin = s->nruns, cmax = 0;
    for (int i = 0; i < s->nruns; i++)
        count[shard_of[i]]++;
    for (int k = 0; k < s->shards; k++) {
        total += load[k];
        most = load[k] > most ? load[k] : most;
        empty += count[k] == 0;
        cmin = count[k] < cmin ? count[k] : cmin;
        cmax = count[k] > cmax ? count[k] : cmax;
    }
    fprintf(stderr, "sweep '%s': %d runs in %d shards of %d to %d runs; the largest shard has "
                    "%.2fx the mean expected work\n",
            s->name, s->nruns, s->shards, cmin, cmax, total > 0 ? most * s->shards / total : 1.0);
    if (empty)
        fprintf(stderr, "%d shard%s hold%s no run: %s end%s at once\n", empty, empty == 1 ? "" : "s",
                empty == 1 ? "s" : "", empty == 1 ? "its task" : "their tasks",
                empty == 1 ? "s" : "");
    free(shard_of);
    free(count);
    free(load);
}

/* sbatch the array, then the merge with afterok on it; with stages, each
 * stage's array after the merge of the one before. */
static int submit(const slurm_opts *s)
{
    int status = MS_EXIT_OK;
    long array_job = 0, merge_job = 0;
    char *sweep_path = ms_xstrfmt("%s/sweep.sbatch", s->out);
    char *merge_path = ms_xstrfmt("%s/merge.sbatch", s->out);
    for (int k = 0; k < s->stages && status == MS_EXIT_OK; k++) {
        char stage[16], *after = merge_job ? ms_xstrfmt("--dependency=afterok:%ld", merge_job) : NULL;
        snprintf(stage, sizeof stage, "%d", k);
        char *a1[] = {"sbatch", "--parsable", sweep_path, stage, NULL};
        char *a2[] = {"sbatch", "--parsable", after, sweep_path, stage, NULL};
        status = MS_EXIT_FAIL;
        if (sbatch(merge_job ? a2 : a1, &array_job) == 0) {
            char *dep = ms_xstrfmt("--dependency=afterok:%ld", array_job);
            char *a3[] = {"sbatch", "--parsable", dep, merge_path, stage, NULL};
            if (s->stages > 1)
                printf("stage %d: ", k);
            printf("array job %ld\n", array_job);
            fflush(stdout);
            if (sbatch(a3, &merge_job) == 0) {
                if (s->stages > 1)
                    printf("stage %d: ", k);
                printf("merge job %ld\n", merge_job);
                fflush(stdout);
                status = MS_EXIT_OK;
            } else {
                ms_error("the array job %ld is submitted, its merge job is not: submit it with "
                         "'sbatch --dependency=afterok:%ld %s %d'",
                         array_job, array_job, merge_path, k);
            }
            free(dep);
        }
        free(after);
    }
    if (status == MS_EXIT_OK && s->stages > 1)
        fprintf(stderr,
                "submitted: %d stages of %d tasks, each stage after the merge of the one before; "
                "the last merge job %ld writes '%s/%s.db'\n",
                s->stages, s->shards, merge_job, s->out, s->name);
    else if (status == MS_EXIT_OK)
        fprintf(stderr,
                "submitted: %d tasks in array job %ld; merge job %ld runs once all succeed "
                "and writes '%s/%s.db'\n",
                s->shards, array_job, merge_job, s->out, s->name);
    free(sweep_path);
    free(merge_path);
    return status;
}

/* The scripts written, then submitted or the commands to do it printed. */
static int write_and_submit(const slurm_opts *s, int do_submit)
{
    char *a = array_script(s), *b = merge_script(s);
    int rc = write_script(s->out, "sweep.sbatch", a) || write_script(s->out, "merge.sbatch", b);
    free(a);
    free(b);
    if (rc)
        return MS_EXIT_FAIL;
    fprintf(stderr, "wrote '%s/sweep.sbatch' (array of %d tasks) and '%s/merge.sbatch'\n", s->out,
            s->shards, s->out);
    if (do_submit)
        return submit(s);
    if (s->stages > 1) {
        fprintf(stderr, "submit with (%d stages, each after the merge of the one before):\n"
                        "  merge=\n  for stage in $(seq 0 %d); do\n"
                        "    array=$(sbatch --parsable ${merge:+--dependency=afterok:$merge} "
                        "%s/sweep.sbatch $stage | cut -d';' -f1)\n"
                        "    merge=$(sbatch --parsable --dependency=afterok:$array "
                        "%s/merge.sbatch $stage | cut -d';' -f1)\n"
                        "  done\nor run 'mlpsweep slurm ... --submit'\n",
                s->stages, s->stages - 1, s->out, s->out);
        return MS_EXIT_OK;
    }
    fprintf(stderr,
            "submit with:\n  jobid=$(sbatch --parsable %s/sweep.sbatch | cut -d';' -f1)\n"
            "  sbatch --dependency=afterok:$jobid %s/merge.sbatch\n"
            "or run 'mlpsweep slurm ... --submit'\n",
            s->out, s->out);
    return MS_EXIT_OK;
}

/* The data folder as `run` would find it here (--data, data.dir,
 * $MLPSWEEP_DATA, the cache), absolute: the tasks run elsewhere, with
 * another environment. -1 when found, else an exit status. */
static int resolve_data(const ms_manifest *m, const ms_slurm_opts *o, char **out)
{
    char at[512] = "", *dir = NULL;
    if (m->data_line)
        snprintf(at, sizeof at, "%s:%d:%d", m->path, m->data_line, m->data_col);
    ms_data_where w = {.given = o->data,
                       .dir = m->data_line ? m->data_dir : NULL,
                       .dir_at = m->data_line ? at : NULL,
                       .dataset = m->dataset,
                       .stated = m->dataset_stated};
    int rc = ms_data_locate(&w, &dir);
    if (rc < 0)
        return rc == -2 ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    *out = realpath(dir, NULL);
    if (!*out)
        ms_error("cannot resolve the data folder '%s': %s", dir, strerror(errno));
    free(dir);
    return *out ? -1 : MS_EXIT_FAIL;
}

int ms_slurm_run(const char *manifest, const ms_slurm_opts *o)
{
    ms_manifest m;
    if (ms_manifest_load_args(manifest, o->settings, o->nsettings, &m, 0) < 0)
        return MS_EXIT_USAGE;
    slurm_opts s;
    memset(&s, 0, sizeof s);
    s.settings = o->settings;
    s.nsettings = o->nsettings;
    s.only = o->only;
    s.retry_failed = o->retry_failed;
    s.publish_epochs = o->publish_epochs;
    s.publish_minutes = o->publish_minutes;
    int found = resolve_data(&m, o, &s.data);
    if (found != -1) {
        ms_manifest_release(&m);
        return found;
    }
    s.name = m.name;
    s.cpus = o->cpus;
    s.parallel = o->parallel;
    s.partition = o->partition;
    s.time = o->time;
    ms_run_spec *specs = NULL;
    s.nruns = ms_manifest_expand(&m, &specs);
    int status;
    if (o->only && ms_manifest_only(&m, o->only, specs, &s.nruns) < 0) {
        status = MS_EXIT_USAGE;
    } else if (s.nruns < 1) {
        ms_error("'%s' has no runs", m.path);
        status = MS_EXIT_USAGE;
    } else if (ms_rungs_check(specs, s.nruns, 1) < 0) {
        status = MS_EXIT_USAGE;
    } else {
        s.stages = 1;
        for (int i = 0; i < s.nruns; i++)
            if (specs[i].prune && ms_prune_stages(specs[i].prune) > s.stages)
                s.stages = ms_prune_stages(specs[i].prune);
        /* what a task takes: a run, or a trial of a pruned search with its seeds */
        int units = 0;
        for (int i = 0; i < s.nruns; i++)
            units += !specs[i].prune || i == 0 || specs[i - 1].prune != specs[i].prune ||
                     specs[i - 1].trial != specs[i].trial;
        s.shards = o->shards ? o->shards : units < DEFAULT_MAX_SHARDS ? units : DEFAULT_MAX_SHARDS;
        status = resolve_paths(&s, manifest, o->out);
        if (status == -1) {
            report_shards(&s, specs);
            status = write_and_submit(&s, o->submit);
        }
    }
    free(s.exe);
    free(s.data);
    free(s.manifest);
    free(s.cwd);
    free(s.out);
    free(specs);
    ms_manifest_release(&m);
    return status;
}
