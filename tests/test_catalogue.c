/* (printf in these snippets is dash's: octal escapes only.)
 *
 * The catalogue of bad input (docs/troubleshooting.md): every case runs the
 * real binary as a user would and checks its exact one-line message and exit
 * status. %T in a command or message stands for the case's temporary folder,
 * %B for the binary. Cases needing a file set it up with a `prep` shell
 * snippet run first (in %T). */
#include "ms_test.h"

#include <sys/wait.h>

typedef struct bad_case {
    const char *name;
    const char *prep;   /* shell, run in %T; NULL for none */
    const char *cmd;    /* mlpsweep arguments */
    int status;
    const char *message; /* the whole of stderr */
} bad_case;

/* A valid study on a sliver of MNIST; cases break one thing at a time. */
#define OK_MANIFEST "printf 'name: x\\ndata:\\n  dir: %s\\n  train: 1000\\n  val: 200\\ndefaults:\\n  epochs: 2\\nvariants:\\n  - name: a\\n' \"$DATA\" > ok.yaml; "
/* A data folder whose files are copied from a small generated set, then broken. */
#define SMALL_DATA "mkdir -p d && python3 -c \"import gzip,struct,sys\n" \
    "def w(p,b): open(p,'wb').write(b)\n" \
    "n=300\n" \
    "w('d/train-images-idx3-ubyte', struct.pack('>IIII',0x803,n,28,28)+bytes((i*7)%256 for i in range(n*784)))\n" \
    "w('d/train-labels-idx1-ubyte', struct.pack('>II',0x801,n)+bytes(i%10 for i in range(n)))\n" \
    "w('d/t10k-images-idx3-ubyte', struct.pack('>IIII',0x803,n,28,28)+bytes((i*3)%256 for i in range(n*784)))\n" \
    "w('d/t10k-labels-idx1-ubyte', struct.pack('>II',0x801,n)+bytes(i%10 for i in range(n)))\n\"; "
#define TRAIN_D "train --data %T/d --train-size 100 --val-size 50 --epochs 1 --val-per-epoch 1"

static const bad_case cases[] = {
    /* ---- manifests ---- */
    {"syntax error", "printf 'name: x\\nvariants: [\\n' > m.yaml", "check %T/m.yaml", 2,
     "%T/m.yaml:3:1: syntax error: did not find expected node content (while parsing a flow node at line 3)\n"},
    {"a 300-character variant name",
     "{ printf 'name: x\\nvariants:\\n  - name: '; head -c 300 /dev/zero | tr '\\0' v; echo; } > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:3:11: name: at most 64 characters (got 300)\n"},
    {"a network too big for its checkpoint",
     "printf 'name: x\\nvariants:\\n  - name: a\\n    hidden: [11000, 11000]\\n' > m.yaml",
     "check %T/m.yaml", 2,
     "%T/m.yaml:4:13: hidden: 129745000 weights, more than the 124000000 whose checkpoint fits in "
     "the database\n"},
    {"unknown top-level key", "printf 'name: x\\nvarients:\\n  - name: a\\n' > m.yaml", "check %T/m.yaml", 2,
     "%T/m.yaml:2:1: unknown key 'varients' (did you mean 'variants'?)\n%T/m.yaml:1:1: missing key 'variants'\n"},
    {"unknown variant key", "printf 'name: x\\nvariants:\\n  - name: a\\n    lrate: 0.1\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:5: unknown key 'lrate' in variant 'a' (did you mean 'lr'?)\n"},
    {"string for a number", "printf 'name: x\\ndefaults:\\n  lr: fast\\nvariants:\\n  - name: a\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:3:7: lr: expected a number, got 'fast'\n"},
    {"float for an integer", "printf 'name: x\\ndefaults:\\n  batch: 3.5\\nvariants:\\n  - name: a\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:3:10: batch: expected an integer, got '3.5'\n"},
    {"scalar for a list", "printf 'name: x\\nvariants:\\n  - name: a\\n    hidden: 64\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:13: hidden: expected a list of positive integers, got '64'\n"},
    {"list for a scalar", "printf 'name: x\\nvariants:\\n  - name: a\\n    epochs: [5]\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:13: epochs: expected an integer, got a list\n"},
    {"learning rate zero", "printf 'name: x\\nvariants:\\n  - name: a\\n    lr: 0\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:9: lr: must be a finite number > 0 (got 0)\n"},
    {"momentum out of range", "printf 'name: x\\nvariants:\\n  - name: a\\n    momentum: 1.5\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:15: momentum: must be in [0, 1) (got 1.5)\n"},
    {"batch larger than the training set",
     "printf 'name: x\\ndata:\\n  train: 1000\\n  val: 10\\nvariants:\\n  - name: a\\n    batch: 1001\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:7:12: batch: must be <= 1000, the training size (got 1001)\n"},
    {"empty hidden list", "printf 'name: x\\nvariants:\\n  - name: a\\n    hidden: []\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:13: hidden: must list at least one layer\n"},
    {"unknown activation", "printf 'name: x\\nvariants:\\n  - name: a\\n    activation: relu\\n' > m.yaml",
     "check %T/m.yaml", 2,
     "%T/m.yaml:4:17: activation: unknown value 'relu' (expected sigmoid or improved_sigmoid)\n"},
    {"duplicate variant names", "printf 'name: x\\nvariants:\\n  - name: a\\n  - name: a\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:4:11: duplicate variant name 'a' (first at line 3)\n"},
    {"duplicate key", "printf 'name: x\\nvariants:\\n  - name: a\\n    lr: 0.1\\n    lr: 0.2\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:5:5: duplicate key 'lr' (first at line 4)\n"},
    {"no variants", "printf 'name: x\\nvariants: []\\n' > m.yaml", "check %T/m.yaml", 2,
     "%T/m.yaml:2:11: variants: must list at least one variant\n"},
    {"anchors and aliases",
     "printf 'name: x\\ndefaults: &d\\n  lr: 0.1\\nvariants:\\n  - name: a\\n    <<: *d\\n' > m.yaml",
     "check %T/m.yaml", 2, "%T/m.yaml:6:9: aliases are not supported\n"},
    {"a 10 MB manifest", "head -c 10485760 /dev/zero | tr '\\0' '#' > m.yaml", "check %T/m.yaml", 2,
     "%T/m.yaml:1:1: file too large (10485760 bytes, limit 1 MiB)\n"},
    {"binary junk", "printf '\\211PNG\\015\\012\\032\\012\\000\\000' > m.yaml", "check %T/m.yaml", 2,
     "%T/m.yaml:1:1: syntax error: invalid leading UTF-8 octet (0x89)\n"},
    {"empty manifest", ": > m.yaml", "check %T/m.yaml", 2, "%T/m.yaml:1:1: empty manifest\n"},
    {"missing manifest", NULL, "check %T/none.yaml", 2,
     "mlpsweep: cannot open '%T/none.yaml': No such file or directory\n"},
    {"no data anywhere", "printf 'name: x\\ndata:\\n  dir: nowhere\\nvariants:\\n  - name: a\\n' > m.yaml",
     "run %T/m.yaml --db %T/x.db", 1,
     "mlpsweep: no MNIST data: not in data.dir '%T/nowhere' (%T/m.yaml:3:8), $MLPSWEEP_DATA is not "
     "set, nor in the cache '%T/cache/mlpsweep/mnist': run 'mlpsweep fetch' to fill the cache (or "
     "'make data' in this source tree)\n"},
    {"--data without the data", "printf 'name: x\\nvariants:\\n  - name: a\\n' > m.yaml && mkdir e",
     "run %T/m.yaml --db %T/x.db --data %T/e", 2,
     "mlpsweep: --data: '%T/e' does not hold the four MNIST files (train-images-idx3-ubyte and the "
     "others, raw or .gz)\n"},
    {"a bad setting", "printf 'name: x\\nvariants:\\n  - name: a\\n' > m.yaml",
     "run %T/m.yaml a.momentum=1.5 --db %T/x.db", 2,
     "argument 'a.momentum=1.5': momentum: must be in [0, 1) (got 1.5)\n"},
    /* ---- data ---- */
    {"data file missing", SMALL_DATA "rm d/t10k-labels-idx1-ubyte", TRAIN_D, 2,
     "mlpsweep: --data: '%T/d' does not hold the four MNIST files (train-images-idx3-ubyte and "
     "the others, raw or .gz)\n"},
    {"wrong magic", SMALL_DATA "printf '\\000\\000\\015\\003' | dd of=d/train-images-idx3-ubyte conv=notrunc 2>/dev/null",
     TRAIN_D, 1, "mlpsweep: '%T/d/train-images-idx3-ubyte': bad magic 00000d03 (not an unsigned-byte IDX file)\n"},
    {"truncated images", SMALL_DATA "truncate -s 100000 d/train-images-idx3-ubyte", TRAIN_D, 1,
     "mlpsweep: '%T/d/train-images-idx3-ubyte': truncated: header says 235200 bytes of data, file has 99984\n"},
    {"truncated gzip", SMALL_DATA "gzip d/t10k-images-idx3-ubyte && head -c 600 d/t10k-images-idx3-ubyte.gz > t && mv t d/t10k-images-idx3-ubyte.gz",
     TRAIN_D, 1, NULL /* zlib's wording varies; checked: names the file */},
    {"images and labels disagree", SMALL_DATA "python3 -c \"import struct; open('d/train-labels-idx1-ubyte','wb').write(struct.pack('>II',0x801,299)+bytes(299))\"",
     TRAIN_D, 1,
     "mlpsweep: '%T/d/train-images-idx3-ubyte' has 300 images but '%T/d/train-labels-idx1-ubyte' has 299 labels\n"},
    {"label out of range", SMALL_DATA "printf '\\014' | dd of=d/t10k-labels-idx1-ubyte bs=1 seek=20 conv=notrunc 2>/dev/null",
     TRAIN_D, 1, "mlpsweep: '%T/d/t10k-labels-idx1-ubyte': label 12 of item 12 is out of range 0..9\n"},
    {"more images asked than the file has", SMALL_DATA, "train --data %T/d --train-size 301 --val-size 10 --val-per-epoch 1", 1,
     "mlpsweep: '%T/d/train-images-idx3-ubyte': 301 images requested, the file has 300\n"},
    {"checksum mismatch", SMALL_DATA "mkdir -p src out && cp d/* src/ && for f in src/*; do gzip -n $f; done",
     "--version >/dev/null 2>&1; MNIST_DIR=%T/src sh scripts/fetch_mnist.sh %T/out", 1, NULL},
    /* ---- database ---- */
    {"not a database", OK_MANIFEST "echo 'hello' > x.db", "run %T/ok.yaml --db %T/x.db", 1,
     "mlpsweep: '%T/x.db' is not an mlpsweep database (file is not a database)\n"},
    {"schema from a newer mlpsweep", OK_MANIFEST "sqlite3 x.db 'PRAGMA user_version = 7; CREATE TABLE t(x)'",
     "run %T/ok.yaml --db %T/x.db", 1,
     "mlpsweep: '%T/x.db' has schema version 7, newer than this mlpsweep understands (6)\n"},
    {"someone else's database", OK_MANIFEST "sqlite3 x.db 'CREATE TABLE customers(x)'",
     "run %T/ok.yaml --db %T/x.db", 1, "mlpsweep: '%T/x.db' is not an mlpsweep database (it has other tables)\n"},
    {"database folder missing", OK_MANIFEST, "run %T/ok.yaml --db %T/no/x.db", 1,
     "mlpsweep: cannot create '%T/no/x.db': no such folder '%T/no'\n"},
    {"database is a folder", OK_MANIFEST "mkdir x.db", "run %T/ok.yaml --db %T/x.db", 1,
     "mlpsweep: cannot open '%T/x.db': Is a directory\n"},
    {"status of a missing database", NULL, "status --db %T/x.db", 1,
     "mlpsweep: cannot open '%T/x.db': no such database\n"},
    {"export in an unknown format", NULL, "export --db %T/x.db --format xls", 2,
     "mlpsweep: unknown format 'xls' (expected csv, md, latex, json or html)\n"},
    /* ---- options ---- */
    {"--only names no variant", OK_MANIFEST, "run %T/ok.yaml --db %T/x.db --only b", 2,
     "mlpsweep: --only: no variant 'b' in '%T/ok.yaml'\n"},
    {"--jobs zero", OK_MANIFEST, "run %T/ok.yaml --jobs 0", 2,
     "mlpsweep: --jobs: expected an integer in 1..1024, got '0'\n"},
    /* seeds: at most 2^63 - 1, the largest the database stores */
    {"a seed past 2^63 - 1 in a setting", OK_MANIFEST, "check %T/ok.yaml 'seeds=[9223372036854775808]'", 2,
     "argument 'seeds=[9223372036854775808]': seeds: seed must be <= 9223372036854775807 (got "
     "9223372036854775808)\n"},
    {"train --seed past 2^63 - 1", NULL, "train --data %T --seed 9223372036854775808", 2,
     "mlpsweep: --seed: expected an integer in 0..9223372036854775807, got '9223372036854775808'\n"},
    /* it used to read past the 20,000 images it loads: a segmentation fault */
    {"gradcheck on more images than it normalises over", NULL,
     "gradcheck --data %T --train-size 60000", 2,
     "mlpsweep: --train-size: gradcheck checks at most the 20000 images it normalises over (got "
     "60000)\n"},
};

/* Replace %T and %B. */
static char *expand(const char *s, const char *tmp)
{
    size_t cap = strlen(s) * 2 + 4096, n = 0;
    char *out = malloc(cap);
    for (; *s; s++) {
        const char *sub = NULL;
        if (s[0] == '%' && s[1] == 'T')
            sub = tmp;
        else if (s[0] == '%' && s[1] == 'B')
            sub = MS_BIN;
        if (sub) {
            size_t l = strlen(sub);
            if (n + l + 1 >= cap)
                out = realloc(out, cap = 2 * (cap + l));
            memcpy(out + n, sub, l);
            n += l;
            s++;
        } else {
            if (n + 2 >= cap)
                out = realloc(out, cap *= 2);
            out[n++] = *s;
        }
    }
    out[n] = 0;
    return out;
}

static void run_case(const bad_case *c)
{
    char *tmp = ms_tmpdir(), *cwd = getcwd(NULL, 0), *cmd = NULL;
    if (c->prep) {
        char *prep = expand(c->prep, tmp);
        assert_true(asprintf(&cmd, "cd '%s' && DATA='" MS_DATA_DIR "' && %s", tmp, prep) > 0);
        if (system(cmd) != 0)
            fail_msg("case '%s': setup failed: %s", c->name, cmd);
        free(cmd);
        free(prep);
    }
    char *args = expand(c->cmd, tmp);
    /* the checksum case runs a script, not the binary: its args start with --version */
    if (!strncmp(args, "--version", 9))
        assert_true(asprintf(&cmd, "%s 2>'%s/stderr' >/dev/null", strstr(args, "; ") + 2, tmp) > 0);
    else
        /* no data cache or $MLPSWEEP_DATA of the machine's: the data is where a case puts it */
        assert_true(asprintf(&cmd, "env -u MLPSWEEP_DATA XDG_CACHE_HOME='%s/cache' %s %s "
                                   "2>'%s/stderr' >/dev/null",
                             tmp, MS_BIN, args, tmp) > 0);
    int st = system(cmd);
    st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/stderr", tmp);
    char *err = ms_read_file(path);
    if (st != c->status)
        fail_msg("case '%s': exit %d, expected %d; stderr: %s", c->name, st, c->status, err);
    if (c->message) {
        char *want = expand(c->message, tmp);
        if (strcmp(err, want))
            fail_msg("case '%s':\n  got:      %s  expected: %s", c->name, err, want);
        free(want);
    } else if (!strstr(err, tmp) && !strstr(err, "checksum mismatch")) {
        fail_msg("case '%s': message does not name the file: %s", c->name, err);
    }
    free(err), free(cmd), free(args), free(cwd);
    ms_rmtree(tmp);
    free(tmp);
}

static void test_case(void **state) { run_case(*state); }

/* Every metric of a database's current runs, %.17g (exact for doubles). */
static char *metrics(const char *db)
{
    char *cmd = NULL, *out = NULL;
    assert_true(asprintf(&cmd, "sqlite3 -readonly '%s' \"SELECT group_concat(printf('%%s %%d %%d "
                         "%%.17g %%.17g %%.17g %%.17g', r.variant, r.seed, e.epoch, e.train_loss, "
                         "e.train_acc, e.val_loss, e.val_acc), ';') FROM (SELECT * FROM epochs "
                         "ORDER BY run_id, epoch) e JOIN runs r ON r.id = e.run_id\"",
                         db) > 0);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    out = calloc(1, 1 << 20);
    size_t n = fread(out, 1, (1 << 20) - 1, p);
    while (n && out[n - 1] == '\n')
        n--;
    out[n] = 0;
    assert_int_equal(pclose(p), 0);
    free(cmd);
    return out;
}

/* A study of four small runs, written to DIR/m.yaml. */
static void write_full_manifest(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/m.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "name: x\ndata:\n  dir: " MS_DATA_DIR "\n  train: 1000\n  val: 200\n"
               "defaults:\n  epochs: 6\n  hidden: [16]\n  seeds: [1, 2]\n"
               "variants:\n  - name: a\n  - name: b\n    init: fanin_normal\n");
    assert_int_equal(fclose(f), 0);
}

/* A full disk (a file size limit, the way a quota or a full tmpfs looks to
 * SQLite): the sweep stops with a clear error, and a resume loses nothing. */
static void test_disk_full(void **state)
{
    (void)state;
    char *tmp = ms_tmpdir(), *cmd = NULL;
    write_full_manifest(tmp);
    /* reference: uninterrupted */
    assert_true(asprintf(&cmd, "%s run %s/m.yaml --db %s/ref.db --quiet 2>/dev/null", MS_BIN, tmp, tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* 200 KiB: room for the schema and an epoch or two, not for the sweep */
    assert_true(asprintf(&cmd, "sh -c 'trap \"\" XFSZ; ulimit -f 400; exec %s run %s/m.yaml --db %s/full.db "
                         "--quiet' 2>%s/err", MS_BIN, tmp, tmp, tmp) > 0);
    int st = system(cmd);
    free(cmd);
    assert_int_equal(WEXITSTATUS(st), 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/err", tmp);
    char *err = ms_read_file(path);
    if (!strstr(err, "mlpsweep: cannot commit epoch") ||
        !strstr(err, "mlpsweep: the sweep stopped on a database error; finished epochs are saved"))
        fail_msg("unexpected message: %s", err);
    free(err);
    snprintf(path, sizeof path, "%s/full.db", tmp);
    char *partial = metrics(path);
    /* resume without the limit */
    assert_true(asprintf(&cmd, "%s run %s/m.yaml --db %s/full.db --quiet 2>/dev/null", MS_BIN, tmp, tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *done = metrics(path);
    snprintf(path, sizeof path, "%s/ref.db", tmp);
    char *ref = metrics(path);
    assert_string_equal(done, ref);
    /* nothing committed before the failure was lost or changed: it is a prefix per run */
    for (char *tok = strtok(partial, ";"); tok; tok = strtok(NULL, ";"))
        if (!strstr(ref, tok))
            fail_msg("epoch '%s' from before the failure is not in the final result", tok);
    free(partial), free(done), free(ref);
    ms_rmtree(tmp);
    free(tmp);
}

/* A read-only database folder, and a read-only database file (run as the
 * unprivileged user nobody when root, since root ignores permission bits). */
static void test_read_only(void **state)
{
    (void)state;
    const char *as = "";
    if (geteuid() == 0) {
        if (system("command -v setpriv >/dev/null") != 0)
            skip();
        as = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";
    }
    char *tmp = ms_tmpdir(), *cmd = NULL;
    write_full_manifest(tmp);
    assert_true(asprintf(&cmd, "chmod 755 %s && mkdir %s/ro && "
                         "%s run %s/m.yaml --db %s/ro/x.db --quiet 2>/dev/null && chmod 444 %s/ro/x.db && "
                         "chmod 555 %s/ro", tmp, tmp, MS_BIN, tmp, tmp, tmp, tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    /* the file is read-only (and no journal could be written in its folder) */
    assert_true(asprintf(&cmd, "%s%s run %s/m.yaml --db %s/ro/x.db 2>%s/err1", as, MS_BIN, tmp, tmp, tmp) > 0);
    int st = system(cmd);
    free(cmd);
    assert_int_equal(WEXITSTATUS(st), 1);
    char path[4096], *want = NULL;
    snprintf(path, sizeof path, "%s/err1", tmp);
    char *err = ms_read_file(path);
    assert_true(asprintf(&want, "mlpsweep: cannot open '%s/ro/x.db' for writing: Permission denied\n",
                         tmp) > 0);
    assert_string_equal(err, want);
    free(err), free(want);
    /* reading it is fine: status opens read-only */
    assert_true(asprintf(&cmd, "%s%s status --db %s/ro/x.db >/dev/null 2>&1", as, MS_BIN, tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    assert_true(asprintf(&cmd, "chmod 755 %s/ro", tmp) > 0);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    ms_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    enum { N = sizeof cases / sizeof *cases };
    struct CMUnitTest tests[N];
    for (int i = 0; i < N; i++) {
        tests[i] = (struct CMUnitTest){cases[i].name, test_case, NULL, NULL, (void *)&cases[i]};
    }
    const struct CMUnitTest more[] = {
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_read_only),
    };
    int rc = cmocka_run_group_tests_name("catalogue", tests, NULL, NULL);
    return rc | cmocka_run_group_tests_name("catalogue: disk and permissions", more, NULL, NULL);
}
