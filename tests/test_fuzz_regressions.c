/* Replays every saved fuzz input through the fuzz targets' own code
 * (tests/fuzz/fuzz_targets.h): the inputs that once crashed, leaked or hung
 * (tests/fuzz/regressions/) and the seed corpora (tests/fuzz/corpus/). Each
 * must return cleanly; under SANITIZE=address,undefined the sanitizers also
 * catch memory errors and leaks. Run from the repository root. */
#include "ms_test.h"

#include "fuzz/fuzz_targets.h"

#include <dirent.h>

typedef struct replay {
    const char *dir;
    int (*one)(const uint8_t *data, size_t size);
    int min_files; /* a corpus that went missing must not pass silently */
} replay;

static const replay replays[] = {
    /* A folder of saved findings is listed here once it holds one (none yet
     * for checkpoints): a replay of an empty folder would pass without
     * testing anything. */
    {"tests/fuzz/regressions/idx", fuzz_idx_one, 1},
    {"tests/fuzz/regressions/manifest", fuzz_manifest_one, 1},
    {"tests/fuzz/corpus/manifest", fuzz_manifest_one, 10},
    {"tests/fuzz/corpus/idx", fuzz_idx_one, 10},
    {"tests/fuzz/corpus/checkpoint", fuzz_checkpoint_one, 4},
    {"tests/fuzz/regressions/db", fuzz_db_one, 1},
    {"tests/fuzz/corpus/db", fuzz_db_one, 2},
    {"tests/fuzz/corpus/merge", fuzz_merge_one, 2},
};
#define NREPLAYS ((int)(sizeof replays / sizeof replays[0]))

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file; *n its size, caller frees. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t cap = 1 << 16, len = 0;
    uint8_t *b = malloc(cap);
    assert_non_null(b);
    for (size_t r; (r = fread(b + len, 1, cap - len, f)) > 0;) {
        len += r;
        if (len == cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
    }
    assert_false(ferror(f));
    fclose(f);
    *n = len;
    return b;
}

static void test_replay(void **state)
{
    const replay *r = *state;
    DIR *d = opendir(r->dir);
    if (!d)
        fail_msg("cannot open '%s' (run the tests from the repository root)", r->dir);
    char **names = NULL;
    int n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') /* also .gitkeep */
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, (size_t)cap * sizeof *names);
            assert_non_null(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", r->dir, names[i]);
        uint8_t *data = slurp(path, &len);
        if (r->one(data, len)) {
            print_error("%s: %s\n", path, fuzz_why);
            failed++;
        }
        free(data);
        free(names[i]);
    }
    free(names);
    free(fuzz_log.buf); /* the log's buffer, so a leak check stays clean */
    fuzz_log = (fuzz_log_buf){NULL, 0, 0};
    if (failed)
        fail_msg("%d of %d inputs in '%s' failed", failed, n, r->dir);
    if (n < r->min_files)
        fail_msg("'%s' has %d inputs, expected at least %d", r->dir, n, r->min_files);
}

int main(void)
{
    struct CMUnitTest tests[NREPLAYS];
    for (int i = 0; i < NREPLAYS; i++) {
        tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_replay, (void *)&replays[i]);
        tests[i].name = replays[i].dir;
    }
    return _cmocka_run_group_tests("fuzz_regressions", tests, (size_t)NREPLAYS, NULL, NULL);
}
