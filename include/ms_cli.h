/* ms_cli: the subcommands (git's builtin/ pattern: one cmd_* per command). */
#ifndef MS_CLI_H
#define MS_CLI_H

#include "ms_config.h"

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

/* Shared option parsing helpers; print a one-line error and return -1. */
int ms_parse_int(const char *opt, const char *s, long lo, long hi, int *out);
/* A file name option: "OPT needs a file name" when empty (an empty --db
 * once left a lock file named '.lock' in the current folder). */
int ms_parse_path(const char *opt, const char *s, const char **out);
int ms_parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out); /* 0..max */
int ms_parse_double(const char *opt, const char *s, double *out);
int ms_parse_hidden(const char *opt, const char *s, ms_config *c);
/* getopt_long (optstring starting with ':') returned ':' or '?': say which
 * option is wrong, and for a mistyped long option which of opts was likely
 * meant; returns -1. */
struct option;
int ms_option_error(int o, char **argv, const struct option *opts);
/* Exactly one positional argument (the manifest) left at argv[optind]; else
 * a one-line error and -1. */
int ms_one_manifest(int argc, char **argv);
/* [MANIFEST] after the options (status, export, plot, report): *manifest
 * stays as it is without one; -1 after a message for a second argument. */
int ms_optional_manifest(int argc, char **argv, const char **manifest);
/* MANIFEST [KEY=VALUE ...] after the options: -1 after a message when the
 * manifest is missing; else *settings points at the arguments after it. */
int ms_manifest_and_settings(int argc, char **argv, char *const **settings, int *n);
/* Default thread count: the cores available to this process. */
int ms_default_threads(void);
/* The data folder when --data is not given: "data", which make data fills. */
const char *ms_default_data_dir(void);

#endif
