/* ms_cli: the subcommands (git's builtin/ pattern: one cmd_* per command). */
#ifndef MS_CLI_H
#define MS_CLI_H

#include "ms_config.h"
#include "ms_util.h"

#include <stdint.h>
#include <stdio.h>

/* Each returns an exit status: MS_EXIT_OK, MS_EXIT_FAIL or MS_EXIT_USAGE
 * (and `run` 130 when interrupted), which every --help ends with. */
#define MS_HELP_EXIT                                                                               \
    "\nExit status: 0 success; 1 failure (the message says what failed); 2 a bad\n"               \
    "option, argument or manifest (nothing was touched).\n"
#define MS_HELP_EXIT_RUN                                                                           \
    MS_HELP_EXIT "130 interrupted (SIGINT or SIGTERM): finished epochs are saved, the same\n"      \
                 "command resumes.\n"

int cmd_train(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_fetch(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_claims(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_slurm(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* ---- options: one table per command, one parser (git's parse-options) ----
 *
 * A command declares its options as one array ending in MS_OPT_END(): each
 * entry a long name, an optional short letter, the kind of value, where the
 * value goes and its help line. ms_parse_options() reads argv against it, so
 * every command spells its errors, -h/--help and exit statuses the same way,
 * and --help lists the options from the same table:
 *
 *     const char *db = NULL;
 *     int json = 0;
 *     const ms_option opts[] = {
 *         MS_OPT_PATH(0, "db", &db, "FILE", "database (db/<manifest name>.db)"),
 *         MS_OPT_FLAG(0, "json", &json, "the same as one JSON object"),
 *         MS_OPT_END(),
 *     };
 *     argc = ms_parse_options(argc, argv, opts, &status_usage);
 *     if (argc < 0)
 *         return ms_options_exit(argc);
 *     ... argv[0..argc) are the arguments left (MANIFEST, ...)
 *
 * Every value is checked as it is read: the first bad one is a one-line
 * message ("--jobs: expected an integer in 1..1024, got '0'") and exit
 * status 2. */

typedef enum ms_opt_type {
    MS_OPT_T_END,
    MS_OPT_T_FLAG,     /* no value: *(int *)value = def (MS_OPT_FLAG: 1) */
    MS_OPT_T_INT,      /* an integer in lo..hi: *(int *)value */
    MS_OPT_T_U64,      /* a non-negative integer: *(uint64_t *)value */
    MS_OPT_T_DOUBLE,   /* a finite number: *(double *)value */
    MS_OPT_T_STRING,   /* the text as given: *(const char **)value */
    MS_OPT_T_PATH,     /* a file name, not empty: *(const char **)value */
    MS_OPT_T_CHOICE,   /* one of choices[0..lo): its index in *(int *)value */
    MS_OPT_T_CALLBACK, /* callback(opt, text) checks and stores it */
} ms_opt_type;

typedef struct ms_option ms_option;
/* A value's own check: 0, or -1 after a one-line message. */
typedef int ms_opt_fn(const ms_option *opt, const char *arg);

struct ms_option {
    ms_opt_type type;
    int short_name;        /* 'o' for -o, 0 for none */
    const char *long_name; /* "db" for --db */
    void *value;           /* where the value goes (see the types) */
    const char *argh;      /* the value's name in --help ("FILE"); NULL: takes no value */
    const char *help;      /* its help, wrapped to the screen ('\n' breaks a line);
                              NULL: accepted, not listed */
    int optional;          /* the value may be left out (--watch[=S]): then *value = def */
    long lo, hi, def;      /* MS_OPT_T_INT's range, and its value when left out; MS_OPT_T_FLAG's
                              value; MS_OPT_T_CHOICE: lo choices */
    const char *const *choices;
    ms_opt_fn *callback;
};

#define MS_OPT_END() {.type = MS_OPT_T_END}
#define MS_OPT_FLAG(s, l, v, h)                                                                    \
    {.type = MS_OPT_T_FLAG, .short_name = (s), .long_name = (l), .value = (v), .help = (h), .def = 1}
#define MS_OPT_SET_INT(s, l, v, i, h)                                                              \
    {.type = MS_OPT_T_FLAG, .short_name = (s), .long_name = (l), .value = (v), .help = (h), .def = (i)}
#define MS_OPT_INT(s, l, v, min, max, a, h)                                                        \
    {.type = MS_OPT_T_INT, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),         \
     .help = (h), .lo = (min), .hi = (max)}
/* --l alone stores d; --l=N an integer in min..max */
#define MS_OPT_INT_OPTIONAL(s, l, v, min, max, d, a, h)                                            \
    {.type = MS_OPT_T_INT, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),         \
     .help = (h), .optional = 1, .lo = (min), .hi = (max), .def = (d)}
/* an integer in 0..max (at most LONG_MAX) */
#define MS_OPT_U64(s, l, v, max, a, h)                                                             \
    {.type = MS_OPT_T_U64, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),         \
     .help = (h), .hi = (max)}
#define MS_OPT_DOUBLE(s, l, v, a, h)                                                               \
    {.type = MS_OPT_T_DOUBLE, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),      \
     .help = (h)}
#define MS_OPT_STRING(s, l, v, a, h)                                                               \
    {.type = MS_OPT_T_STRING, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),      \
     .help = (h)}
#define MS_OPT_PATH(s, l, v, a, h)                                                                 \
    {.type = MS_OPT_T_PATH, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),        \
     .help = (h)}
/* names[0..n): "--l: expected A or B, got 'x'" for another */
#define MS_OPT_CHOICE(s, l, v, names, n, a, h)                                                     \
    {.type = MS_OPT_T_CHOICE, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),      \
     .help = (h), .lo = (n), .choices = (names)}
#define MS_OPT_CALLBACK(s, l, v, a, h, fn)                                                         \
    {.type = MS_OPT_T_CALLBACK, .short_name = (s), .long_name = (l), .value = (v), .argh = (a),    \
     .help = (h), .callback = (fn)}

/* --db FILE of the commands that read a sweep (ms_sweep_target_find) */
#define MS_OPT_SWEEP_DB(v)                                                                         \
    MS_OPT_PATH(0, "db", v, "FILE", "database (db/<manifest name>.db, or the only database in db/)")
/* --all of the reading commands: every run, not only the last `run`'s. */
#define MS_OPT_ALL(v)                                                                              \
    MS_OPT_FLAG(0, "all", v,                                                                       \
                "every run the database keeps for the sweep, not only the last run's; a "         \
                "variant's earlier settings are named VARIANT@N (docs/reports.md)")

/* What --help says besides the options: the usage line(s) ("usage: mlpsweep
 * run MANIFEST ...\n"), what the command does, and (or NULL) a part after
 * the options; the exit statuses last (NULL: MS_HELP_EXIT). */
typedef struct ms_usage {
    const char *synopsis, *about, *more, *exit;
} ms_usage;

enum { MS_OPTIONS_HELP = -2 };

/* Read the options of argv[1..argc) (argv[0] is the command) against opts,
 * in any order among the other arguments, up to a "--". Returns how many
 * arguments are left, moved to argv[0..n); or, for -h or --help,
 * MS_OPTIONS_HELP after printing the help on stdout; or -1 after one line
 * for an unknown option (naming the likely one), a missing value or a bad
 * value. */
int ms_parse_options(int argc, char **argv, const ms_option *opts, const ms_usage *u);
/* The exit status for ms_parse_options' MS_OPTIONS_HELP (0) or -1 (2). */
static inline int ms_options_exit(int rc) { return rc == MS_OPTIONS_HELP ? MS_EXIT_OK : MS_EXIT_USAGE; }
/* The help: u's synopsis and text, then one line (or more) per listed option. */
void ms_options_usage(FILE *f, const ms_option *opts, const ms_usage *u);

/* A value's checks, for callbacks: each prints one line naming opt and
 * returns -1 on bad input. */
int ms_parse_int(const char *opt, const char *s, long lo, long hi, int *out);
/* A file name option: "OPT needs a file name" when empty (an empty --db
 * once left a lock file named '.lock' in the current folder). */
int ms_parse_path(const char *opt, const char *s, const char **out);
int ms_parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out); /* 0..max */
int ms_parse_double(const char *opt, const char *s, double *out);
int ms_parse_hidden(const char *opt, const char *s, ms_config *c);

/* The arguments ms_parse_options left, args[0..n): each check prints one
 * line and returns -1 when they do not fit. */
/* [MANIFEST] (status, export, plot, report): *manifest stays as it is
 * without one; -1 after a message for a second argument. */
int ms_optional_manifest(int n, char **args, const char **manifest);
/* [MANIFEST] naming only a database (status, gc): the database of --db
 * or of the manifest (ms_sweep_target_find) into *t; an exit status, t
 * released unless MS_EXIT_OK. */
struct ms_sweep_target;
int ms_db_target(int n, char **args, const char *db, struct ms_sweep_target *t);
/* MANIFEST [KEY=VALUE ...]: -1 after a message when the manifest is
 * missing; else *settings points at the arguments after it. */
int ms_manifest_and_settings(int n, char **args, char *const **settings, int *nsettings);
/* Default thread count: the cores available to this process. */
int ms_default_threads(void);

#endif
