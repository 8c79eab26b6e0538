/* The command line's one option parser and what every command shares
 * (ms_cli.h): each command's table of options read from argv through
 * glibc's getopt (the tree's only call of it), its --help made from the
 * same table, the checks of a value, of the arguments left, the defaults.
 * Each check prints one line with ms_error() and returns -1 on bad input. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "ms_cli.h"
#include "ms_manifest.h"
#include "ms_sweep.h"
#include "ms_util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ms_parse_path(const char *opt, const char *s, const char **out)
{
    if (!*s)
        return ms_error("%s needs a file name", opt);
    *out = s;
    return 0;
}

int ms_parse_int(const char *opt, const char *s, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return ms_error("%s: expected an integer in %ld..%ld, got '%s'", opt, lo, hi, s);
    *out = (int)v;
    return 0;
}

int ms_parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = *s == '-' ? 0 : strtoull(s, &end, 10);
    if (*s == '-' || errno || end == s || *end || v > max)
        return ms_error("%s: expected an integer in 0..%llu, got '%s'", opt,
                        (unsigned long long)max, s);
    *out = v;
    return 0;
}

int ms_parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return ms_error("%s: expected a number, got '%s'", opt, s);
    *out = v;
    return 0;
}

int ms_parse_hidden(const char *opt, const char *s, ms_config *c)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || end == p || v < 1 || v > MS_MAX_WIDTH || (*end && *end != ','))
            return ms_error("%s: expected sizes like 64 or 64,64, got '%s'", opt, s);
        if (n == MS_MAX_HIDDEN)
            return ms_error("%s: at most %d hidden layers", opt, MS_MAX_HIDDEN);
        c->hidden[n++] = (int)v;
        p = *end ? end + 1 : end;
        if (*end && !*p)
            return ms_error("%s: expected sizes like 64 or 64,64, got '%s'", opt, s);
    }
    if (!n)
        return ms_error("%s: expected sizes like 64 or 64,64, got '%s'", opt, s);
    c->nhidden = n;
    return 0;
}

/* ---- the parser ---- */

enum { MS_OPT_MAX = 64, ID_HELP = 256, ID_BASE }; /* getopt's codes for the table's options */

/* The option as the user knows it, for messages: --name, or -c. */
static const char *opt_name(const ms_option *o, char buf[80])
{
    if (o->long_name)
        snprintf(buf, 80, "--%s", o->long_name);
    else
        snprintf(buf, 80, "-%c", o->short_name);
    return buf;
}

/* One option's value (NULL for none) into its place; 0 or -1 after a message. */
static int take(const ms_option *o, const char *arg)
{
    char name[80];
    opt_name(o, name);
    switch (o->type) {
    case MS_OPT_T_FLAG: *(int *)o->value = (int)o->def; return 0;
    case MS_OPT_T_INT:
        if (!arg) { /* an optional value left out */
            *(int *)o->value = (int)o->def;
            return 0;
        }
        return ms_parse_int(name, arg, o->lo, o->hi, o->value);
    case MS_OPT_T_U64: return ms_parse_u64(name, arg, (uint64_t)o->hi, o->value);
    case MS_OPT_T_DOUBLE: return ms_parse_double(name, arg, o->value);
    case MS_OPT_T_STRING: *(const char **)o->value = arg; return 0;
    case MS_OPT_T_PATH: return ms_parse_path(name, arg, o->value);
    case MS_OPT_T_CHOICE: {
        int i = ms_name_index(o->choices, (int)o->lo, arg);
        if (i < 0) {
            char list[256] = "";
            for (int k = 0; k < o->lo; k++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         k == 0           ? ""
                         : k == o->lo - 1 ? " or "
                                          : ", ",
                         o->choices[k]);
            return ms_error("%s: expected %s, got '%s'", name, list, arg);
        }
        *(int *)o->value = i;
        return 0;
    }
    case MS_OPT_T_CALLBACK: return o->callback(o, arg);
    case MS_OPT_T_END: break;
    }
    return ms_error("%s: not an option", name);
}

/* getopt found an unknown option or one without its value (`code` '?'
 * or ':'): say which, and for a mistyped long option the likely one; for a
 * manifest key written as an option (--lr 0.1), the setting (lr=0.1). */
static int option_error(int code, const char *arg, const char *next, const char *const *names,
                        int n)
{
    if (code == ':')
        return ms_error("option '%s' needs a value", arg);
    char word[64] = "", h[160]; /* a long option's name, without its dashes and any =VALUE */
    if (!strncmp(arg, "--", 2))
        snprintf(word, sizeof word, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    const char *eq = strchr(arg, '=');
    if (word[0] && ms_manifest_is_key(word)) {
        snprintf(h, sizeof h, " (a setting is written KEY=VALUE after the manifest: %s=%s)",
                 word, eq ? eq + 1 : next && next[0] != '-' ? next : "VALUE");
        return ms_error("unknown option '%s'%s", arg, h);
    }
    const char *near = word[0] ? ms_suggest(word, names, n) : NULL;
    if (near)
        snprintf(h, sizeof h, " (did you mean '--%s'?)", near);
    return ms_error("unknown option '%s'%s (see --help)", arg, near ? h : "");
}

int ms_parse_options(int argc, char **argv, const ms_option *opts, const ms_usage *u)
{
    /* the table as getopt's: long options, then "h" and the letters */
    struct option lopts[MS_OPT_MAX + 2];
    const char *names[MS_OPT_MAX + 1];
    char shorts[3 * MS_OPT_MAX + 4] = ":h";
    int n = 0, nl = 0;
    for (; opts[n].type != MS_OPT_T_END; n++) {
        const ms_option *o = &opts[n];
        int has = !o->argh ? no_argument : o->optional ? optional_argument : required_argument;
        if (n == MS_OPT_MAX)
            return ms_error("too many options (at most %d)", MS_OPT_MAX);
        if (o->long_name) {
            lopts[nl] = (struct option){o->long_name, has, NULL, ID_BASE + n};
            names[nl++] = o->long_name;
        }
        if (o->short_name)
            snprintf(shorts + strlen(shorts), sizeof shorts - strlen(shorts), "%c%s", o->short_name,
                     has == no_argument         ? ""
                     : has == optional_argument ? "::"
                                                : ":");
    }
    lopts[nl] = (struct option){"help", no_argument, NULL, ID_HELP};
    names[nl++] = "help";
    lopts[nl] = (struct option){0, 0, 0, 0};

    opterr = 0;
    optind = 0; /* 0: glibc starts afresh (a parse before may have stopped mid-way) */
    for (int code; (code = getopt_long(argc, argv, shorts, lopts, NULL)) != -1;) {
        const ms_option *o = NULL;
        if (code == 'h' || code == ID_HELP) {
            ms_options_usage(stdout, opts, u);
            return MS_OPTIONS_HELP;
        }
        if (code >= ID_BASE)
            o = &opts[code - ID_BASE];
        for (int i = 0; !o && code != ':' && code != '?' && i < n; i++)
            if (opts[i].short_name == code)
                o = &opts[i];
        if (!o)
            return option_error(code, argv[optind - 1], optind < argc ? argv[optind] : NULL, names,
                                nl);
        if (take(o, optarg) < 0)
            return -1;
    }
    /* getopt moved the other arguments after the options */
    int left = argc - optind;
    memmove(argv, argv + optind, (size_t)left * sizeof *argv);
    argv[left] = NULL;
    return left;
}

/* ---- the generated help ---- */

enum { HELP_WIDTH = 80 }; /* lines end before this column */

/* The option as --help shows it: "-o, --output FILE", "--watch[=S]". */
static void option_label(const ms_option *o, char *buf, size_t size)
{
    int k = 0;
    if (o->short_name)
        k = snprintf(buf, size, "-%c%s", o->short_name, o->long_name ? ", " : "");
    if (o->long_name)
        k += snprintf(buf + k, size - (size_t)k, "--%s", o->long_name);
    if (o->argh)
        snprintf(buf + k, size - (size_t)k, o->optional ? "[=%s]" : " %s", o->argh);
}

/* text from column col on, wrapped before HELP_WIDTH at a space or after a
 * comma, each new line (and each after a '\n' in text) indented to col. */
static void wrap(FILE *f, const char *text, int col)
{
    int at = col;
    for (const char *p = text; *p;) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", col, "");
            at = col;
            p++;
            continue;
        }
        int gap = (int)strspn(p, " "), len = (int)strcspn(p + gap, " ,\n");
        len += p[gap + len] == ','; /* "a,b,c": a word ends after each comma */
        if (at > col && at + gap + len >= HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            at = col;
            p += gap;
            gap = 0;
        }
        fprintf(f, "%.*s", gap + len, p);
        at += gap + len;
        p += gap + len;
    }
    fputc('\n', f);
}

void ms_options_usage(FILE *f, const ms_option *opts, const ms_usage *u)
{
    char label[128];
    int col = 0; /* the help texts' column: after the longest label */
    for (const ms_option *o = opts; o->type != MS_OPT_T_END; o++) {
        option_label(o, label, sizeof label);
        if (o->help && (int)strlen(label) + 4 > col)
            col = (int)strlen(label) + 4;
    }
    fprintf(f, "%s\n%s", u->synopsis, u->about);
    if (col)
        fputc('\n', f);
    for (const ms_option *o = opts; o->type != MS_OPT_T_END; o++) {
        if (!o->help)
            continue;
        option_label(o, label, sizeof label);
        fprintf(f, "  %-*s", col - 2, label);
        wrap(f, o->help, col);
    }
    if (u->more)
        fprintf(f, "\n%s", u->more);
    fputs(u->exit ? u->exit : MS_HELP_EXIT, f);
}

/* ---- the arguments left ---- */

int ms_optional_manifest(int n, char **args, const char **manifest)
{
    if (n > 0)
        *manifest = args[0];
    if (n > 1)
        return ms_error("unexpected argument '%s' (see --help)", args[1]);
    return 0;
}

int ms_db_target(int n, char **args, const char *db, ms_sweep_target *t)
{
    const char *manifest = NULL;
    int usage;
    if (ms_optional_manifest(n, args, &manifest) < 0)
        return MS_EXIT_USAGE;
    /* the manifest only names the database: with --db it is not read */
    if (ms_sweep_target_find(t, db ? NULL : manifest, db, &usage) < 0) {
        ms_sweep_target_release(t);
        return usage ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    }
    return MS_EXIT_OK;
}

int ms_manifest_and_settings(int n, char **args, char *const **settings, int *nsettings)
{
    if (n == 0)
        return ms_error("missing MANIFEST (see --help)");
    *settings = args + 1;
    *nsettings = n - 1;
    return 0;
}

int ms_default_threads(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

