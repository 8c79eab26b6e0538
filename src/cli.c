/* The option helpers every command shares (ms_cli.h): parsing a value, the
 * message for a wrong option, the one positional manifest, the defaults.
 * Each prints one line with ms_error() and returns -1 on bad input. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "ms_cli.h"
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

int ms_option_error(int o, char **argv, const struct option *opts)
{
    const char *arg = argv[optind - 1];
    if (o == ':')
        return ms_error("option '%s' needs a value", arg);
    /* a long option's name, without its dashes and any =VALUE */
    char word[64] = "", h[96];
    const char *names[64];
    int n = 0;
    if (!strncmp(arg, "--", 2))
        snprintf(word, sizeof word, "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    for (; opts && opts[n].name && n < 64; n++)
        names[n] = opts[n].name;
    const char *near = word[0] ? ms_suggest(word, names, n) : NULL;
    if (near)
        snprintf(h, sizeof h, " (did you mean '--%s'?)", near);
    return ms_error("unknown option '%s'%s (see --help)", arg, near ? h : "");
}

int ms_one_manifest(int argc, char **argv)
{
    if (optind >= argc)
        return ms_error("missing MANIFEST (see --help)");
    if (optind != argc - 1)
        return ms_error("unexpected argument '%s' (see --help)", argv[argc - 1]);
    return 0;
}

int ms_optional_manifest(int argc, char **argv, const char **manifest)
{
    if (optind < argc)
        *manifest = argv[optind++];
    if (optind < argc)
        return ms_error("unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

int ms_manifest_and_settings(int argc, char **argv, char *const **settings, int *n)
{
    if (optind >= argc)
        return ms_error("missing MANIFEST (see --help)");
    *settings = argv + optind + 1;
    *n = argc - optind - 1;
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

const char *ms_default_data_dir(void) { return "data"; }
