/* Tests of the command line as a user meets it: help, bad options (one line,
 * exit status 2), and the train command's CSV. Runs the built binary. */
#include "ms_test.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "ms_cli.h"
#include "ms_kernels.h"
#include "ms_progress.h"

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void expect_usage_error(const char *args, const char *message)
{
    char *out, *err;
    assert_int_equal(ms_run(args, &out, &err), 2);
    if (strcmp(err, message))
        fail_msg("'mlpsweep %s' said '%s', expected '%s'", args, err, message);
    assert_int_equal(count_lines(err), 1);
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void test_help(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(ms_run("--help", &out, &err), 0);
    assert_non_null(strstr(out, "train"));
    free(out), free(err);
    assert_int_equal(ms_run("train --help", &out, &err), 0);
    const char *opts[] = {"--hidden", "--activation", "--init", "--lr", "--momentum", "--batch",
                          "--epochs", "--train-size", "--val-size", "--seed", "--data",
                          "--threads", "--no-early-stop"};
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
        if (!strstr(out, opts[i]))
            fail_msg("train --help does not mention %s", opts[i]);
    free(out), free(err);
    assert_int_equal(ms_run("", &out, &err), 2);
    free(out), free(err);
    /* help CMD is CMD --help; every --help ends with the exit statuses */
    char *direct;
    assert_int_equal(ms_run("status --help", &direct, &err), 0);
    free(err);
    assert_int_equal(ms_run("help status", &out, &err), 0);
    assert_string_equal(out, direct);
    assert_non_null(strstr(out, "Exit status: 0 success"));
    free(out), free(err), free(direct);
    assert_int_equal(ms_run("run --help", &out, &err), 0);
    assert_non_null(strstr(out, "130 interrupted"));
    free(out), free(err);
    /* --version: the build a bug report needs */
    assert_int_equal(ms_run("--version", &out, &err), 0);
    assert_true(!strncmp(out, "mlpsweep ", 9));
    assert_non_null(strstr(out, "compiler: gcc"));
    char kernels[64];
    snprintf(kernels, sizeof kernels, "kernels: %s\n", ms_kernels_isa());
    assert_non_null(strstr(out, kernels));
    free(out), free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_usage_error("frobnicate", "mlpsweep: unknown command 'frobnicate' (see 'mlpsweep --help')\n");
    /* a mistyped command or long option names the likely one */
    expect_usage_error("stauts", "mlpsweep: unknown command 'stauts' (did you mean 'status'?) (see 'mlpsweep --help')\n");
    expect_usage_error("help rnu", "mlpsweep: unknown command 'rnu' (did you mean 'run'?) (see 'mlpsweep --help')\n");
    expect_usage_error("run --thrads 2 m.yaml", "mlpsweep: unknown option '--thrads' (did you mean '--threads'?) (see --help)\n");
    expect_usage_error("train --momentm=0.5", "mlpsweep: unknown option '--momentm=0.5' (did you mean '--momentum'?) (see --help)\n");
    expect_usage_error("train --lr abc", "mlpsweep: --lr: expected a number, got 'abc'\n");
    expect_usage_error("train --lr 0", "mlpsweep: lr: must be a finite number > 0 (got 0)\n");
    expect_usage_error("train --hidden 64,,3",
                       "mlpsweep: --hidden: expected sizes like 64 or 64,64, got '64,,3'\n");
    expect_usage_error("train --hidden 0", "mlpsweep: --hidden: expected sizes like 64 or 64,64, got '0'\n");
    expect_usage_error("train --activation relu",
                       "mlpsweep: --activation: expected sigmoid or improved_sigmoid, got 'relu'\n");
    expect_usage_error("train --init he", "mlpsweep: --init: expected uniform or fanin_normal, got 'he'\n");
    expect_usage_error("train --batch 0", "mlpsweep: --batch: expected an integer in 1..1048576, got '0'\n");
    expect_usage_error("train --momentum 1", "mlpsweep: momentum: must be in [0, 1) (got 1)\n");
    expect_usage_error("train --bogus", "mlpsweep: unknown option '--bogus' (see --help)\n");
    /* what people type: --versoin, a setting as an option, the short forms */
    expect_usage_error("--versoin", "mlpsweep: unknown command '--versoin' (did you mean "
                                    "'--version'?) (see 'mlpsweep --help')\n");
    expect_usage_error("run m.yaml --lr 0.1", "mlpsweep: unknown option '--lr' (a setting is "
                                              "written KEY=VALUE after the manifest: lr=0.1)\n");
    expect_usage_error("check m.yaml --momentum=0.5",
                       "mlpsweep: unknown option '--momentum=0.5' (a setting is written "
                       "KEY=VALUE after the manifest: momentum=0.5)\n");
    expect_usage_error("run -j 0 m.yaml", "mlpsweep: --jobs: expected an integer in 1..1024, "
                                          "got '0'\n");
    expect_usage_error("run -q", "mlpsweep: missing MANIFEST (see --help)\n");
    expect_usage_error("merge -q", "mlpsweep: missing --db OUT (see --help)\n");
    expect_usage_error("train --epochs", "mlpsweep: option '--epochs' needs a value\n");
    expect_usage_error("train extra", "mlpsweep: unexpected argument 'extra' (see --help)\n");
    expect_usage_error("train --train-size 100 --batch 200",
                       "mlpsweep: batch: must be in 1..100, the training size (got 200)\n");
}

/* ---- the option parser (ms_parse_options), in process ---- */

typedef struct parsed {
    const char *db, *out, *name;
    int flag, n, watch, choice, quiet;
    uint64_t seed;
    double x;
} parsed;

static int odd_only(const ms_option *opt, const char *arg)
{
    int v;
    if (ms_parse_int("--odd", arg, 1, 99, &v) < 0)
        return -1;
    if (v % 2 == 0)
        return ms_error("--odd: %d is even", v);
    *(int *)opt->value = v;
    return 0;
}

static const char *const colours[] = {"red", "green", "blue"};
static const ms_usage demo_usage = {
    .synopsis = "usage: demo [--db FILE] ARG...\n",
    .about = "A table of every kind.\n",
    .more = "After the options.\n",
};

/* Parse the words of `line` (split at spaces) against the demo table into
 * *p; returns ms_parse_options' result, the arguments left in left[]. */
static int parse_demo(const char *line, parsed *p, char *left, size_t size, char **err)
{
    static char buf[512];
    char *argv[32];
    int argc = 0;
    snprintf(buf, sizeof buf, "demo %s", line);
    for (char *w = strtok(buf, " "); w && argc < 31; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    memset(p, 0, sizeof *p);
    p->watch = -1;
    const ms_option opts[] = {
        MS_OPT_PATH(0, "db", &p->db, "FILE", "the database"),
        MS_OPT_STRING('o', "output", &p->out, "FILE", "where it goes"),
        MS_OPT_FLAG(0, "flag", &p->flag, "a flag"),
        MS_OPT_SET_INT(0, "no-flag", &p->flag, 7, "seven"),
        MS_OPT_INT(0, "count", &p->n, 1, 10, "N", "between 1 and 10"),
        MS_OPT_INT_OPTIONAL(0, "watch", &p->watch, 1, 60, 2, "S", "every S seconds (2)"),
        MS_OPT_U64(0, "seed", &p->seed, MS_MAX_SEED, "N", "a seed"),
        MS_OPT_DOUBLE(0, "x", &p->x, "X", "a number"),
        MS_OPT_CHOICE(0, "colour", &p->choice, colours, 3, "NAME", "red, green or blue"),
        MS_OPT_CALLBACK(0, "odd", &p->n, "N", "an odd number", odd_only),
        MS_OPT_FLAG('q', "quiet", &p->quiet, NULL), /* accepted, not listed */
        MS_OPT_END(),
    };
    ms_capture cap;
    ms_capture_start(&cap);
    FILE *saved = stdout, *out = tmpfile(); /* -h prints the help on stdout */
    stdout = out;
    int rc = ms_parse_options(argc, argv, opts, &demo_usage);
    stdout = saved;
    fclose(out);
    *err = ms_capture_end(&cap);
    left[0] = 0;
    for (int i = 0; rc > 0 && i < rc; i++)
        snprintf(left + strlen(left), size - strlen(left), "%s%s", i ? " " : "", argv[i]);
    return rc;
}

static void expect_demo_error(const char *line, const char *message)
{
    parsed p;
    char left[256], *err;
    assert_int_equal(parse_demo(line, &p, left, sizeof left, &err), -1);
    if (strcmp(err, message))
        fail_msg("'%s' said '%s', expected '%s'", line, err, message);
    free(err);
}

static void test_options(void **state)
{
    (void)state;
    parsed p;
    char left[256], *err;
    /* options among the arguments, in any order; abbreviations; = and
     * attached values; "--" ends the options */
    assert_int_equal(parse_demo("a --db x.db b -oout.txt --flag --cou 3 --watch --seed=9223372036854775807 "
                                "--x -0.5 --colour blue -q -- --count c",
                                &p, left, sizeof left, &err),
                     4);
    assert_string_equal(err, "");
    free(err);
    assert_string_equal(left, "a b --count c");
    assert_string_equal(p.db, "x.db");
    assert_string_equal(p.out, "out.txt");
    assert_int_equal(p.flag, 1);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.watch, 2); /* an optional value left out */
    assert_true(p.seed == MS_MAX_SEED);
    assert_true(p.x == -0.5);
    assert_int_equal(p.choice, 2);
    assert_int_equal(p.quiet, 1);
    assert_int_equal(parse_demo("--watch=9 --no-flag --odd 5", &p, left, sizeof left, &err), 0);
    free(err);
    assert_int_equal(p.watch, 9);
    assert_int_equal(p.flag, 7);
    assert_int_equal(p.n, 5);
    /* every error is one line, and the first one ends the parse */
    expect_demo_error("--cuont 2", "mlpsweep: unknown option '--cuont' (did you mean '--count'?) (see --help)\n");
    expect_demo_error("--bogus=1", "mlpsweep: unknown option '--bogus=1' (see --help)\n");
    expect_demo_error("-z", "mlpsweep: unknown option '-z' (see --help)\n");
    expect_demo_error("--co 1", "mlpsweep: unknown option '--co' (did you mean '--count'?) (see --help)\n");
    expect_demo_error("--count", "mlpsweep: option '--count' needs a value\n");
    expect_demo_error("-o", "mlpsweep: option '-o' needs a value\n");
    expect_demo_error("--flag=1", "mlpsweep: unknown option '--flag=1' (did you mean '--flag'?) (see --help)\n");
    expect_demo_error("--count 0 --count x", "mlpsweep: --count: expected an integer in 1..10, got '0'\n");
    expect_demo_error("--watch=0", "mlpsweep: --watch: expected an integer in 1..60, got '0'\n");
    expect_demo_error("--seed -1",
                      "mlpsweep: --seed: expected an integer in 0..9223372036854775807, got '-1'\n");
    expect_demo_error("--seed 9223372036854775808", "mlpsweep: --seed: expected an integer in "
                                                    "0..9223372036854775807, got '9223372036854775808'\n");
    expect_demo_error("--x nan", "mlpsweep: --x: expected a number, got 'nan'\n");
    expect_demo_error("--db=", "mlpsweep: --db needs a file name\n");
    expect_demo_error("--colour pink", "mlpsweep: --colour: expected red, green or blue, got 'pink'\n");
    expect_demo_error("--odd 4", "mlpsweep: --odd: 4 is even\n");
    /* -h and --help, wherever they are, unless an error came first */
    assert_int_equal(parse_demo("a -h --bogus", &p, left, sizeof left, &err), MS_OPTIONS_HELP);
    assert_int_equal(ms_options_exit(MS_OPTIONS_HELP), MS_EXIT_OK);
    assert_int_equal(ms_options_exit(-1), MS_EXIT_USAGE);
    free(err);
    assert_int_equal(parse_demo("--hel", &p, left, sizeof left, &err), MS_OPTIONS_HELP);
    free(err);
    expect_demo_error("--count 0 --help", "mlpsweep: --count: expected an integer in 1..10, got '0'\n");
}

/* The help comes from the table: every listed option, its value's name,
 * its text wrapped at a column after the longest, the hidden one left out. */
static void test_options_help(void **state)
{
    (void)state;
    int flag = 0;
    const char *s = NULL;
    const ms_option opts[] = {
        MS_OPT_STRING('o', "output", &s, "FILE", "short and long"),
        MS_OPT_INT_OPTIONAL(0, "watch", &flag, 1, 9, 2, "S", "optional value"),
        MS_OPT_FLAG(0, "hidden", &flag, NULL),
        MS_OPT_STRING(0, "columns", &s, "A,B",
                      "a text long enough to be wrapped: it goes on past the eightieth column, "
                      "and a list a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,f,g"
                      "\nforced:  two spaces kept"),
        MS_OPT_END(),
    };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ms_options_usage(f, opts, &demo_usage);
    fclose(f);
    const char *want =
        "usage: demo [--db FILE] ARG...\n"
        "\n"
        "A table of every kind.\n"
        "\n"
        "  -o, --output FILE  short and long\n"
        "  --watch[=S]        optional value\n"
        "  --columns A,B      a text long enough to be wrapped: it goes on past the\n"
        "                     eightieth column, and a list a,b,c,d,e,f,g,h,i,j,k,l,m,n,\n"
        "                     o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,f,g\n"
        "                     forced:  two spaces kept\n"
        "\n"
        "After the options.\n" MS_HELP_EXIT;
    assert_string_equal(text, want);
    free(text);
}

/* Every command's --help (and -h) from its table: lines within 80
 * columns, each option of its usage line listed, the exit statuses last. */
static void test_every_help(void **state)
{
    (void)state;
    const char *cmds[] = {"run",   "check", "status", "export", "plot",  "report",   "compare",
                          "claims", "merge", "slurm",  "fetch",  "train", "gradcheck", "gc"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char args[64], *out, *err, *dash_h;
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        assert_int_equal(ms_run(args, &out, &err), 0);
        free(err);
        snprintf(args, sizeof args, "%s -h", cmds[i]);
        assert_int_equal(ms_run(args, &dash_h, &err), 0);
        assert_string_equal(dash_h, out);
        free(err), free(dash_h);
        if (!strstr(out, MS_HELP_EXIT))
            fail_msg("%s --help does not end with the exit statuses", cmds[i]);
        int col = 0;
        for (const char *c = out; *c; c++) {
            col = *c == '\n' ? 0 : col + 1;
            if (col >= 80 && c > strstr(out, "\n\n")) /* the usage lines may be longer */
                fail_msg("%s --help: a line reaches column 80", cmds[i]);
        }
        /* each --option of the usage line is listed below it */
        const char *usage_end = strstr(out, "\n\n");
        for (const char *o = strstr(out, "--"); o && o < usage_end; o = strstr(o + 2, "--")) {
            char name[32], listed[40];
            sscanf(o, "%31[-a-z]", name);
            snprintf(listed, sizeof listed, "\n  %s", name);
            if (!strstr(usage_end, listed) &&
                !(snprintf(listed, sizeof listed, ", %s", name), strstr(usage_end, listed)))
                fail_msg("%s --help: %s is in the usage line but not listed", cmds[i], name);
        }
        free(out);
    }
}

static void test_train_csv(void **state)
{
    (void)state;
    char *out, *err;
    int st = ms_run("train --train-size 1000 --val-size 500 --epochs 3 --init fanin_normal --threads 2 "
                 "--data " MS_DATA_DIR,
                 &out, &err);
    assert_int_equal(st, 0);
    const char *hdr = "epoch,train_loss,train_acc,val_loss,val_acc,seconds\n";
    assert_memory_equal(out, hdr, strlen(hdr));
    assert_int_equal(count_lines(out), 4);
    int ep;
    double tl, ta, vl, va, secs;
    const char *last = strstr(out, "\n3,") + 1;
    assert_int_equal(sscanf(last, "%d,%lf,%lf,%lf,%lf,%lf", &ep, &tl, &ta, &vl, &va, &secs), 6);
    assert_true(ta > 0.5 && ta <= 1 && va > 0.5 && va <= 1 && tl > 0 && vl > 0);
    assert_non_null(strstr(err, "50880 parameters"));
    assert_non_null(strstr(err, "stopped: epochs after 3 epochs"));
    free(out), free(err);
    /* --data without the files: a bad argument, as for run (exit 2) */
    assert_int_equal(ms_run("train --data /nonexistent", &out, &err), 2);
    assert_string_equal(err, "mlpsweep: --data: '/nonexistent' does not hold the four MNIST "
                             "files (train-images-idx3-ubyte and the others, raw or .gz)\n");
    free(out), free(err);
}

/* As many runs at once as --jobs allows each get a slot of their own (a
 * fixed 256 slots once made run 257 and later share slot 255). */
static void test_progress_slots(void **state)
{
    (void)state;
    FILE *devnull = fopen("/dev/null", "w");
    assert_non_null(devnull);
    ms_progress *p = ms_progress_new(devnull, MS_MAX_JOBS, MS_MAX_JOBS, 0);
    static char seen[MS_MAX_JOBS];
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < MS_MAX_JOBS; i++) {
        int k = ms_progress_start(p, "v", (uint64_t)i, 0, 1);
        assert_true(k >= 0 && k < MS_MAX_JOBS);
        if (seen[k])
            fail_msg("run %d got slot %d, already in use", i, k);
        seen[k] = 1;
    }
    ms_progress_free(p);
    fclose(devnull);
}

/* The live block on a 40-column terminal (a pseudo-terminal here): no line
 * reaches the width (a wrapped line breaks the redraw), and a run shows no
 * accuracy before its first epoch. Plain output (a log): the time of day on
 * each line, the totals on each run's end, an interrupted run not counted
 * as done. */
/* The progress of a sweep of 2 runs and 10 epochs with one run of 5
 * epochs, seed 123456: started, one epoch (val acc 0.5), ended as `how`. */
static void one_run(FILE *out, const char *variant, const char *how, int final)
{
    ms_progress *p = ms_progress_new(out, 2, 10, 0);
    int k = ms_progress_start(p, variant, 123456, 0, 5);
    ms_progress_epoch(p, k, 1, 0.5, 1.0, 0.1, 1);
    ms_progress_end(p, k, how, final);
    ms_progress_free(p);
}

/* A run's progress on a pseudo-terminal `cols` wide; what was drawn in buf. */
static void progress_on_pty(int cols, char *buf, size_t size)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    struct winsize ws = {.ws_row = 24, .ws_col = (unsigned short)cols};
    assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
    setenv("TERM", "xterm", 1);
    FILE *tty = fdopen(slave, "w");
    one_run(tty, "a_variant_with_a_long_name", "done", 1);
    fclose(tty);
    ssize_t n = 0, r;
    fcntl(master, F_SETFL, O_NONBLOCK);
    while ((r = read(master, buf + n, size - 1 - (size_t)n)) > 0)
        n += r;
    close(master);
    buf[n] = 0;
}

static void test_progress_lines(void **state)
{
    (void)state;
    char buf[8192];
    progress_on_pty(100, buf, sizeof buf);
    assert_non_null(strstr(buf, "val acc       -")); /* before the first epoch */
    assert_non_null(strstr(buf, "val acc  50.00%"));
    progress_on_pty(40, buf, sizeof buf);
    /* every live line (each starts by clearing its row) fits in 39 columns;
     * the permanent line a run leaves above the block may wrap */
    int lines = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, "\033[2K"))
            continue;
        int len = 0;
        for (char *c = line; *c; c++) {
            if (*c == '\033') { /* an escape sequence: to its final letter */
                while (c[1] && !((c[1] >= 'A' && c[1] <= 'Z') || (c[1] >= 'a' && c[1] <= 'z')))
                    c++;
                c++;
            } else if (*c != '\r' && ++len > 39)
                fail_msg("a live line reaches the 40-column width: '%s'", line);
        }
        lines++;
    }
    assert_true(lines >= 4);
    /* below 80 columns the compact form keeps every field: the name cut in
     * its middle at 40, whole at 60; seed, epoch, accuracy and ETA */
    progress_on_pty(40, buf, sizeof buf);
    assert_non_null(strstr(buf, " a_varia~ong_name s123456 1/5 50.00% "));
    progress_on_pty(60, buf, sizeof buf);
    assert_non_null(strstr(buf, " a_variant_with_a_long_name s123456 1/5 50.00% "));
    assert_non_null(strstr(buf, " 1/2 runs, 1/6 ep, "));

    FILE *log = tmpfile();
    one_run(log, "a", "interrupted", 0);
    rewind(log);
    char l1[256], l2[256];
    assert_non_null(fgets(l1, sizeof l1, log));
    assert_non_null(fgets(l2, sizeof l2, log));
    fclose(log);
    for (int i = 0; i < 8; i++) /* HH:MM:SS */
        assert_true(i % 3 == 2 ? l1[i] == ':' : l1[i] >= '0' && l1[i] <= '9');
    assert_non_null(strstr(l2, "interrupted after 1 epochs; 0/2 runs done, 1/10 epochs"));
}

/* --jobs beyond --threads runs as many runs at once as threads, and says so. */
static void test_jobs_beyond_threads(void **state)
{
    (void)state;
    char *dir = ms_tmpdir(), *yaml, *args, *out, *err;
    assert_true(asprintf(&yaml, "%s/m.yaml", dir) > 0);
    char text[1024];
    snprintf(text, sizeof text,
             "name: j\ndata:\n  dir: %s\n  train: 320\n  val: 40\ndefaults:\n  hidden: [8]\n"
             "  epochs: 1\nvariants:\n  - name: a\n",
             MS_DATA_DIR);
    ms_write_text(yaml, text);
    assert_true(asprintf(&args, "run %s --db %s/j.db --jobs 8 --threads 1", yaml, dir) > 0);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_non_null(strstr(err, "--jobs 8: runs at once: 1 (each needs a thread; --threads 1)\n"));
    free(out), free(err), free(args), free(yaml);
    ms_rmtree(dir);
    free(dir);
}

/* An empty --db is a usage error, and leaves no lock file behind (it once
 * created '.lock' in the current folder). */
static void test_empty_db_path(void **state)
{
    (void)state;
    const char *cmds[] = {"run experiments/tdt4265_a2.yaml --db ''", "status --db=", "export --db ''",
                          "plot --db ''", "merge --db '' x.db"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        expect_usage_error(cmds[i], "mlpsweep: --db needs a file name\n");
    assert_int_equal(access(".lock", F_OK), -1);
}

/* The folder part of a relative path ("build" for "build/mlpsweep"). */
static const char *dirname_of(const char *path)
{
    static char d[256];
    snprintf(d, sizeof d, "%s", path);
    char *slash = strrchr(d, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(d, sizeof d, ".");
    return d;
}

/* Without --db or a manifest, every reading command finds "the only
 * database in db/" the same way and fails the same way: none is exit 1
 * (nothing to read), several exit 2 (the user must choose). status once
 * used `ls` and exit 2 for both. */
static void test_find_db(void **state)
{
    (void)state;
    char *dir = ms_tmpdir(), *cwd = getcwd(NULL, 0), *env, *out, *err;
    /* MS_BIN is relative to the repository: a link to it in the empty folder */
    assert_true(asprintf(&env, "mkdir -p '%s/%s' && ln -sf '%s/" MS_BIN "' '%s/" MS_BIN "' && cd '%s' &&",
                         dir, dirname_of(MS_BIN), cwd, dir, dir) > 0);
    const char *cmds[] = {"status", "export", "plot --out p"};
    for (int several = 0; several < 2; several++) {
        if (several) {
            char *mk;
            assert_true(asprintf(&mk, "mkdir %s/db && touch %s/db/a.db %s/db/b.db", dir, dir, dir) > 0);
            assert_int_equal(system(mk), 0);
            free(mk);
        }
        for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
            int st = ms_run_env(env, cmds[i], &out, &err);
            print_message("%s: exit %d, %s", cmds[i], st, err);
            assert_int_equal(st, several ? 2 : 1);
            assert_string_equal(err, several ? "mlpsweep: 2 databases in db/: name one with --db FILE or give the manifest\n"
                                             : "mlpsweep: no database in db/: run a sweep first, or name one with --db FILE\n");
            free(out);
            free(err);
        }
    }
    ms_rmtree(dir);
    free(dir);
    free(cwd);
    free(env);
}

/* Each of files (relative to dir) there, or (present 0) not. */
static void expect_files(const char *dir, const char *const *files, size_t n, int present)
{
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        int there = access(path, F_OK) == 0;
        if (present && !there)
            fail_msg("make install did not write %s", files[i]);
        if (!present && there)
            fail_msg("make uninstall left %s", files[i]);
    }
}

/* make install puts the binary, the man page, the manifests and the data
 * fetchers under PREFIX (staged in DESTDIR); make uninstall takes them away. */
static void test_install(void **state)
{
    (void)state;
    char *dir = ms_tmpdir(), *cmd;
    const char *files[] = {"usr/bin/mlpsweep", "usr/share/man/man1/mlpsweep.1",
                           "usr/share/mlpsweep/experiments/tdt4265_a2.yaml",
                           "usr/share/mlpsweep/fetch_mnist.sh",
                           "usr/share/mlpsweep/fetch_fashion_mnist.sh",
                           "usr/share/mlpsweep/fetch_common.sh",
                           "usr/share/doc/mlpsweep/schema.md",
                           "usr/share/doc/mlpsweep/LICENSE"};
    assert_true(asprintf(&cmd, "make -s install DESTDIR='%s' PREFIX=/usr >/dev/null", dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    expect_files(dir, files, sizeof files / sizeof *files, 1);
    /* the installed binary runs on its own */
    assert_true(asprintf(&cmd, "'%s/usr/bin/mlpsweep' --version", dir) > 0);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, p));
    assert_int_equal(pclose(p), 0);
    assert_true(!strncmp(line, "mlpsweep ", 9));
    free(cmd);

    /* From an empty folder outside the repository: data relative to the
     * manifest (which lives elsewhere), then the per-user cache filled by
     * `fetch`; the database under the current folder. */
    char *bin = NULL, *sh = NULL, *data = realpath(MS_DATA_DIR, NULL);
    assert_non_null(data);
    assert_true(asprintf(&bin, "%s/usr/bin/mlpsweep", dir) > 0);
    assert_true(asprintf(&sh,
                         "set -e; cd '%s'; mkdir -p where/d empty cache; "
                         "for f in '%s'/*; do ln -s \"$f\" where/d/; done; "
                         "printf 'name: far\\ndata: {dir: d, train: 1000, val: 200}\\n"
                         "defaults: {epochs: 1, hidden: [8]}\\nvariants:\\n  - name: a\\n' "
                         "> where/m.yaml; "
                         "printf 'name: cached\\ndata: {train: 1000, val: 200}\\n"
                         "defaults: {epochs: 1, hidden: [8]}\\nvariants:\\n  - name: a\\n' "
                         "> where/c.yaml; "
                         "cd empty; export XDG_CACHE_HOME='%s/cache'; unset MLPSWEEP_DATA; "
                         "'%s' run ../where/m.yaml --quiet; test -f db/far.db; "
                         "! '%s' run ../where/c.yaml --quiet 2>../nodata.err; "
                         /* every command finds data as run does, or says so */
                         "! '%s' check ../where/c.yaml >/dev/null 2>../checknodata.err; "
                         "! '%s' train --hidden 8 --epochs 1 2>../trainnodata.err; "
                         "MLPSWEEP_DATA='%s' '%s' gradcheck --hidden 8 --train-size 5 >../gc.out; "
                         "MNIST_DIR='%s' '%s' fetch >../fetch.out; "
                         "'%s' check ../where/c.yaml >/dev/null 2>../check.err; "
                         "'%s' train --hidden 8 --epochs 1 --train-size 1000 --val-size 100 "
                         ">../train.csv 2>/dev/null; "
                         "'%s' run ../where/c.yaml 2>../cached.err; test -f db/cached.db; "
                         /* all done: no data needed */
                         "XDG_CACHE_HOME='%s/none' '%s' run ../where/c.yaml 2>../alldone.err; "
                         /* the cluster path finds the data as run does */
                         "'%s' slurm ../where/c.yaml --out ../jobs 2>/dev/null; "
                         "grep -q \"^data='%s/cache/mlpsweep/mnist'$\" ../jobs/sweep.sbatch; "
                         /* settings: one value everywhere, then a grid adding two runs */
                         "'%s' run ../where/m.yaml lr=0.05 --quiet; "
                         "'%s' run ../where/m.yaml a.lr=0.1,0.02 --quiet; "
                         "'%s' run ../where/m.yaml a.lr=0.1,0.02 2>../again.err",
                         dir, data, dir, bin, bin, bin, bin, data, bin, data, bin, bin, bin, bin,
                         dir, bin, bin, dir, bin, bin, bin) > 0);
    if (system(sh) != 0)
        fail_msg("running the installed binary from another folder failed: %s", sh);
    char out[4096];
    snprintf(out, sizeof out, "%s/nodata.err", dir);
    char *err = ms_read_file(out);
    assert_non_null(strstr(err, "no MNIST data: "));
    assert_non_null(strstr(err, "run 'mlpsweep fetch' to fill the cache"));
    assert_null(strstr(err, "make data")); /* no Makefile here */
    free(err);
    snprintf(out, sizeof out, "%s/checknodata.err", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, "no MNIST data: not in 'data' (the current folder's), "
                                "$MLPSWEEP_DATA is not set"));
    assert_non_null(strstr(err, "; data not found (1000 train, 200 val)"));
    free(err);
    snprintf(out, sizeof out, "%s/trainnodata.err", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, "no MNIST data: "));
    free(err);
    snprintf(out, sizeof out, "%s/gc.out", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, ": ok\n"));
    free(err);
    snprintf(out, sizeof out, "%s/check.err", dir);
    err = ms_read_file(out);
    snprintf(line, sizeof line, "1 variants, 1 run; data '%s/cache/mlpsweep/mnist'", dir);
    if (!strstr(err, line))
        fail_msg("check did not name the cache: %s", err);
    free(err);
    snprintf(out, sizeof out, "%s/train.csv", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, "epoch,train_loss,train_acc,val_loss,val_acc,seconds\n1,"));
    free(err);
    snprintf(out, sizeof out, "%s/cached.err", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, "sweep 'cached': 1 run, 0 done already, 1 to train"));

    snprintf(out, sizeof out, "data '%s/cache/mlpsweep/mnist'; database 'db/cached.db'", dir);
    if (!strstr(err, out))
        fail_msg("the run did not say it used the cache: %s", err);
    free(err);
    snprintf(out, sizeof out, "%s/alldone.err", dir);
    err = ms_read_file(out);
    assert_string_equal(err, "sweep 'cached': 1 run, all done already in 'db/cached.db': nothing "
                             "to train (and no data needed)\n");
    free(err);
    snprintf(out, sizeof out, "%s/empty/db/far.db", dir);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs"), 4); /* a; a at 0.05; 2 of the grid */
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE variant = 'a' AND lr = 0.05"), 1);
    assert_int_equal(ms_db_count(out, "SELECT count(*) FROM runs WHERE current AND variant LIKE 'a.lr-%'"),
                     2);
    snprintf(out, sizeof out, "%s/again.err", dir);
    err = ms_read_file(out);
    assert_non_null(strstr(err, "2 runs, 2 done already, 0 to train"));
    free(err), free(sh);

    /* an installed copy in an empty folder with only $MLPSWEEP_DATA set: no
     * Makefile, no data/, no cache; every command that reads data finds it */
    assert_true(asprintf(&sh,
                         "set -e; mkdir '%s/only-env' && cd '%s/only-env'; "
                         "export MLPSWEEP_DATA='%s' XDG_CACHE_HOME='%s/only-env/none'; "
                         "printf 'name: env\ndata: {train: 1000, val: 200}\n"
                         "defaults: {epochs: 1, hidden: [8]}\nvariants:\n  - name: a\n' > m.yaml; "
                         "'%s' train --hidden 8 --epochs 1 --train-size 1000 --val-size 100 "
                         ">/dev/null 2>&1; '%s' gradcheck --hidden 8 --train-size 5 >/dev/null; "
                         "'%s' run m.yaml --quiet; '%s' status >/dev/null; "
                         "'%s' report -o r.html >/dev/null 2>&1; test -s r.html; "
                         "'%s' slurm m.yaml --out jobs 2>/dev/null; "
                         "grep -q \"^data='%s'$\" jobs/sweep.sbatch",
                         dir, dir, data, dir, bin, bin, bin, bin, bin, bin, data) > 0);
    if (system(sh) != 0)
        fail_msg("an installed copy with only $MLPSWEEP_DATA failed: %s", sh);
    free(sh), free(bin), free(data);

    assert_true(asprintf(&cmd, "make -s uninstall DESTDIR='%s' PREFIX=/usr >/dev/null", dir) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    expect_files(dir, files, sizeof files / sizeof *files, 0);
    ms_rmtree(dir);
    free(dir);
}

/* Output that cannot be written is an error, not a silent success (/dev/full
 * stands for a full disk behind a redirection). */
static void test_stdout_full(void **state)
{
    (void)state;
    const char *cmds[] = {"check experiments/tdt4265_a2.yaml", "--help", "train --help"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        char *cmd = NULL, *err = ms_tmpdir(), *errf = NULL;
        assert_true(asprintf(&errf, "%s/err", err) > 0);
        assert_true(asprintf(&cmd, "%s %s >/dev/full 2>%s", MS_BIN, cmds[i], errf) > 0);
        int st = system(cmd);
        char *msg = ms_read_file(errf);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 1) ||
            !strstr(msg, "mlpsweep: cannot write to standard output"))
            fail_msg("'mlpsweep %s >/dev/full': status %d, said '%s'", cmds[i], st, msg);
        free(msg), free(cmd), free(errf);
        ms_rmtree(err);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_slots),
        cmocka_unit_test(test_progress_lines),
        cmocka_unit_test(test_jobs_beyond_threads),
        cmocka_unit_test(test_empty_db_path),
        cmocka_unit_test(test_find_db),
        cmocka_unit_test(test_install),
        cmocka_unit_test(test_stdout_full),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_options_help),
        cmocka_unit_test(test_every_help),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_train_csv),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
