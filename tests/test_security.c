/* Security and integrity of what mlpsweep writes (issue 15):
 *
 * - No user text reaches gnuplot as code: hostile titles, tasks and paths
 *   (backquotes, $(), system(), ;, quotes, line breaks, backslashes) in a
 *   manifest, in the database alone, and in a merged shard, with one seed and
 *   several, run nothing and come out as literal text.
 * - Outputs never clobber: a symlink, a device node or the database being
 *   read is refused as an output, and nothing behind it changes.
 * - The writer lock is one per database file, whatever path reaches it, and
 *   merge takes it too.
 * - Issue 22: fetch never writes through a link planted in its folder, and
 *   text a database holds goes out as well-formed UTF-8 with no control
 *   character raw, in every format. */
#include "ms_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/sysmacros.h>


/* Run a shell command line (stdout and stderr into *err when non-NULL). */
static int shell(const char *line, char **err)
{
    char *cmd = NULL, *ef = ms_tpath("stderr");
    if (asprintf(&cmd, "{ %s; } >/dev/null 2>%s </dev/null", line, ef) < 0)
        abort();
    int st = system(cmd);
    free(cmd);
    if (err)
        *err = ms_read_file(ef);
    free(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int msf(char **err, const char *fmt, ...) MS_PRINTF(2, 3);
static int msf(char **err, const char *fmt, ...)
{
    char *args = NULL, *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&line, "%s %s", MS_BIN, args) < 0)
        abort();
    int rc = shell(line, err);
    if (rc && err && *err)
        fprintf(stderr, "%s -> exit %d: %s\n", line, rc, *err);
    free(args);
    free(line);
    return rc;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Every way a string could become code in gnuplot (or a shell behind it),
 * each trying to create a file named PWNED-<n> in the group folder. The
 * title is a YAML double-quoted string, so \n is a real line break. */
static char *hostile(int n)
{
    char *s = NULL;
    const char *d = ms_group_tmp;
    if (asprintf(&s,
                 "A `touch %s/PWNED-%da` B $(touch %s/PWNED-%db) C\\n"
                 "' . system('touch %s/PWNED-%dc') . ' D \\\" ; ! touch %s/PWNED-%dd \\\\ ]]> <x> &amp;",
                 d, n, d, n, d, n, d, n) < 0)
        abort();
    return s;
}

static void assert_no_pwned(void)
{
    char *err = NULL;
    char *cmd = NULL;
    if (asprintf(&cmd, "ls %s | grep -c PWNED", ms_group_tmp) < 0)
        abort();
    int found = shell(cmd, &err) == 0; /* grep -c exits 0 when it matched */
    if (found)
        fprintf(stderr, "a hostile string ran a command: %s\n", err);
    assert_false(found);
    free(cmd);
    free(err);
}

/* A manifest whose every free-text field is hostile (its title and
 * description, tasks, a label, figure titles), with a grid (its heatmap);
 * `seeds` as given. */
static char *write_manifest(const char *name, const char *seeds, int n)
{
    char *path = NULL, *text = NULL, *h = hostile(n);
    if (asprintf(&path, "%s/%s.yaml", ms_group_tmp, name) < 0 ||
        asprintf(&text,
                 "name: %s\ntitle: \"%s\"\ndescription: \"%s\"\n"
                 "data:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: 1\n  seeds: %s\n"
                 "variants:\n"
                 "  - name: a\n    task: \"%s\"\n    label: \"%s\"\n"
                 "  - name: b\n    hidden: [6]\n    task: \"%s\"\n"
                 "  - name: g\n    label: \"%s\"\n    grid: {lr: [0.1, 0.2], batch: [8, 16]}\n"
                 "  - name: s\n    label: \"%s\"\n    epochs: 3\n"
                 "    search: {trials: 4, seed: 1, space: {lr: {loguniform: [0.01, 0.5]},"
                 " momentum: {uniform: [0, 0.9], step: 0.1}}}\n"
                 "    prune: {type: sha, min: 1, max: 3, eta: 3}\n"
                 "plots:\n"
                 "  - name: fig\n    title: \"%s\"\n    variants: [a]\n    reference: b\n"
                 "  - name: fig2\n    title: \"%s\"\n    variants: [a, b]\n"
                 "    metrics: [[batch_loss, val_loss], accuracy]\n    x: epoch\n",
                 name, h, h, ms_tiny_data, seeds, h, h, h, h, h, h, h) < 0)
        abort();
    ms_write_text(path, text);
    free(text);
    free(h);
    return path;
}

/* The figures exist and hold the title's text literally. */
static void assert_figures(const char *outdir)
{
    char path[4096];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s.svg", outdir, i ? "fig2" : "fig");
        char *svg = ms_read_file(path);
        assert_non_null(svg);
        assert_non_null(strstr(svg, "`touch "));
        assert_non_null(strstr(svg, "$(touch "));
        assert_non_null(strstr(svg, "system("));
        /* well-formed XML ("]]>" and "<x>" in the title included); a copy
         * under a plain name, as the output folder's name is hostile too */
        char *copy = ms_tpath("xml-check.svg"), *cmd = NULL, *err = NULL;
        ms_write_text(copy, svg);
        free(svg);
        if (asprintf(&cmd, "python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' %s",
                     copy) < 0)
            abort();
        if (shell(cmd, &err) != 0)
            fail_msg("'%s' is not well-formed XML: %s", path, err);
        free(err), free(cmd), free(copy);
        snprintf(path, sizeof path, "%s/%s.png", outdir, i ? "fig2" : "fig");
        assert_true(exists(path));
    }
}

static void injection(const char *name, const char *seeds, int n)
{
    char *m = write_manifest(name, seeds, n), *err = NULL;
    char db[4096], out[4096];
    snprintf(db, sizeof db, "%s/%s.db", ms_group_tmp, name);
    snprintf(out, sizeof out, "%s/%s-plots", ms_group_tmp, name);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    /* From the manifest, then from the database alone (its recorded manifest). */
    assert_int_equal(msf(&err, "plot '%s' --db '%s' --out '%s'", m, db, out), 0);
    free(err);
    assert_no_pwned();
    assert_figures(out);
    snprintf(out, sizeof out, "%s/%s-plots-db", ms_group_tmp, name);
    assert_int_equal(msf(&err, "plot --db '%s' --out '%s'", db, out), 0);
    free(err);
    assert_no_pwned();
    assert_figures(out);
    snprintf(out, sizeof out, "%s/%s-plots-db/g-heatmap.svg", ms_group_tmp, name);
    assert_true(exists(out)); /* the grid's figure was drawn too */
    static const char *const search_figs[] = {"settings", "curves", "parallel"};
    for (int k = 0; k < 3; k++) { /* and the search's three */
        snprintf(out, sizeof out, "%s/%s-plots-db/s-%s.svg", ms_group_tmp, name, search_figs[k]);
        assert_true(exists(out));
    }
    /* The report: its own gnuplot (one SVG a panel), title, description. */
    snprintf(out, sizeof out, "%s/%s.html", ms_group_tmp, name);
    assert_int_equal(msf(&err, "report '%s' --db '%s' -o '%s'", m, db, out), 0);
    free(err);
    assert_no_pwned();
    char *page = ms_read_file(out);
    assert_non_null(page);
    assert_non_null(strstr(page, "`touch ")); /* the text, shown as text */
    assert_null(strstr(page, "<x>"));         /* escaped */
    free(page);
    /* Every table format carries the text, and nothing runs. */
    const char *fmts[] = {"csv", "md", "latex", "json"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(msf(&err, "export --db '%s' --format %s", db, fmts[i]), 0);
        free(err);
    }
    assert_no_pwned();
    free(m);
}

static void test_injection_one_seed(void **state)
{
    (void)state;
    injection("one", "[1]", 1);
}

static void test_injection_several_seeds(void **state)
{
    (void)state;
    injection("several", "[1, 2]", 2);
}

/* Two shards merged, then plotted from the merged database alone. */
static void test_injection_merged_shards(void **state)
{
    (void)state;
    char *m = write_manifest("merged", "[1, 2]", 3), *err = NULL;
    char db[4096], s1[4096], s2[4096], out[4096];
    snprintf(db, sizeof db, "%s/merged.db", ms_group_tmp);
    snprintf(s1, sizeof s1, "%s/shard-1.db", ms_group_tmp);
    snprintf(s2, sizeof s2, "%s/shard-2.db", ms_group_tmp);
    snprintf(out, sizeof out, "%s/merged-plots", ms_group_tmp);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --shard 0/2 --quiet", m, s1), 0);
    free(err);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --shard 1/2 --quiet", m, s2), 0);
    free(err);
    assert_int_equal(msf(&err, "merge --db '%s' '%s' '%s' --quiet", db, s1, s2), 0);
    free(err);
    assert_int_equal(msf(&err, "plot --db '%s' --out '%s'", db, out), 0);
    free(err);
    assert_no_pwned();
    assert_figures(out);
    free(m);
}

/* A hostile output folder name goes to gnuplot as a path: still data. */
static void test_injection_output_path(void **state)
{
    (void)state;
    char *m = write_manifest("paths", "[1, 2]", 4), *err = NULL;
    char db[4096], out[4096];
    snprintf(db, sizeof db, "%s/paths.db", ms_group_tmp);
    snprintf(out, sizeof out, "%s/o`touch pwn-path`'x", ms_group_tmp);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    /* Run through the environment so no shell parses the name. */
    setenv("MS_OUTDIR", out, 1);
    assert_int_equal(msf(&err, "plot --db '%s' --out \"$MS_OUTDIR\"", db), 0);
    free(err);
    unsetenv("MS_OUTDIR");
    assert_figures(out);
    assert_false(exists("pwn-path"));
    assert_no_pwned();
    free(m);
}

/* ---- safe writes ---- */

/* A finished one-run sweep database for the write tests. */
static char *small_db(const char *name)
{
    char *m = write_manifest(name, "[1]", 9), *err = NULL, *db = NULL;
    if (asprintf(&db, "%s/%s.db", ms_group_tmp, name) < 0)
        abort();
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet --only a", m, db), 0);
    free(err);
    free(m);
    return db;
}

/* A link planted at an output's place, pointing at a victim file: the
 * command must refuse (exit 1, naming it), and the victim stay as it was. */
static void expect_link_refused(const char *victim, const char *link, const char *fmt,
                                const char *a, const char *b)
{
    char *err = NULL;
    ms_write_text(victim, "precious\n");
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(msf(&err, fmt, a, b), 1);
    assert_non_null(strstr(err, "is not a regular file"));
    free(err);
    char *v = ms_read_file(victim);
    assert_string_equal(v, "precious\n");
    free(v);
}

static void test_export_refuses_symlink(void **state)
{
    (void)state;
    char *db = small_db("sym"), *err = NULL;
    char victim[4096], link[4096];
    snprintf(victim, sizeof victim, "%s/victim.txt", ms_group_tmp);
    snprintf(link, sizeof link, "%s/out.csv", ms_group_tmp);
    expect_link_refused(victim, link, "export --db '%s' -o '%s'", db, link);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    /* A regular file is replaced, and no temporary is left beside it. */
    unlink(link);
    ms_write_text(link, "old\n");
    assert_int_equal(msf(&err, "export --db '%s' -o '%s'", db, link), 0);
    free(err);
    char *v = ms_read_file(link);
    assert_non_null(strstr(v, "variant"));
    free(v);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -c '^\\.out\\.csv\\.'", ms_group_tmp);
    assert_int_not_equal(shell(cmd, NULL), 0); /* grep found none */
    free(db);
}

/* Special files made here, never the system's own: a regression must not
 * be able to replace /dev/null. A FIFO always; a character device (the null
 * device's numbers) where mknod is allowed (root, as in CI). */
static void test_export_refuses_device(void **state)
{
    (void)state;
    char *db = small_db("dev"), *err = NULL;
    char fifo[4096], dev[4096];
    snprintf(fifo, sizeof fifo, "%s/fifo.csv", ms_group_tmp);
    snprintf(dev, sizeof dev, "%s/null.csv", ms_group_tmp);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(msf(&err, "export --db '%s' -o '%s'", db, fifo), 1);
    assert_non_null(strstr(err, "exists and is not a regular file"));
    free(err);
    struct stat st;
    assert_int_equal(lstat(fifo, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        assert_int_equal(msf(&err, "export --db '%s' -o '%s'", db, dev), 1);
        assert_non_null(strstr(err, "exists and is not a regular file"));
        free(err);
        assert_int_equal(lstat(dev, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
    } else
        fprintf(stderr, "(no mknod here: the device-node case is not run)\n");
    free(db);
}

static void test_export_refuses_own_database(void **state)
{
    (void)state;
    char *db = small_db("self"), *err = NULL;
    long before = ms_db_count(db, "SELECT count(*) FROM epochs");
    assert_true(before > 0);
    /* the format given, so what is tested is the refusal, not the name */
    assert_int_equal(msf(&err, "export --db '%s' --format csv -o '%s'", db, db), 1);
    assert_non_null(strstr(err, "refusing to overwrite it"));
    free(err);
    /* The same file through another path (a hard link) is the same input. */
    char other[4096];
    snprintf(other, sizeof other, "%s/self-link.db", ms_group_tmp);
    assert_int_equal(link(db, other), 0);
    assert_int_equal(msf(&err, "export --db '%s' --format csv -o '%s'", db, other), 1);
    assert_non_null(strstr(err, "refusing to overwrite it"));
    free(err);
    assert_int_equal(ms_db_count(db, "SELECT count(*) FROM epochs"), before);
    free(db);
}

static void test_plot_refuses_symlinked_figure(void **state)
{
    (void)state;
    char *db = small_db("plotsym");
    char out[4096], victim[4096], link[4096];
    snprintf(out, sizeof out, "%s/plotsym-out", ms_group_tmp);
    snprintf(victim, sizeof victim, "%s/plot-victim", ms_group_tmp);
    snprintf(link, sizeof link, "%.4000s/fig2.svg", out); /* the second figure's place */
    assert_int_equal(mkdir(out, 0755), 0);
    expect_link_refused(victim, link, "plot --db '%s' --out '%s'", db, out);
    /* refused before any figure is drawn: the first one is not written either */
    snprintf(link, sizeof link, "%.4000s/fig.png", out);
    assert_false(exists(link));
    free(db);
}

/* ---- the writer lock ---- */

static void test_lock_is_per_file(void **state)
{
    (void)state;
    char db[4096], link[4096], dotted[4096];
    snprintf(db, sizeof db, "%s/locked.db", ms_group_tmp);
    snprintf(link, sizeof link, "%s/locked-link.db", ms_group_tmp);
    ms_write_text(db, "");
    assert_int_equal(symlink(db, link), 0);
    snprintf(dotted, sizeof dotted, "%s/../%s/locked.db", ms_group_tmp,
             strrchr(ms_group_tmp, '/') + 1);
    char hard[4096];
    snprintf(hard, sizeof hard, "%s/locked-hard.db", ms_group_tmp);
    assert_int_equal(linkat(AT_FDCWD, db, AT_FDCWD, hard, 0), 0); /* a hard link */
    int fd = -1, fd2 = -1;
    assert_int_equal(ms_db_lock(db, &fd, NULL), 0);
    ms_capture c;
    ms_capture_start(&c);
    int r1 = ms_db_lock(link, &fd2, NULL), r2 = ms_db_lock(dotted, &fd2, NULL),
        r3 = ms_db_lock(hard, &fd2, NULL);
    char *msg = ms_capture_end(&c);
    assert_int_equal(r1, -1);
    assert_int_equal(r2, -1);
    assert_int_equal(r3, -1);
    assert_non_null(strstr(msg, "another mlpsweep is writing to"));
    free(msg);
    close(fd);
    assert_int_equal(ms_db_lock(hard, &fd2, NULL), 0); /* free again */
    close(fd2);
}

static void test_merge_takes_the_lock(void **state)
{
    (void)state;
    char *db = small_db("mergelock"), *err = NULL;
    char out[4096];
    snprintf(out, sizeof out, "%s/mergelock-out.db", ms_group_tmp);
    int fd = -1, created = 0;
    assert_int_equal(ms_db_lock(out, &fd, &created), 0);
    assert_int_equal(created, 1); /* the lock is on the file: made empty */
    assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", out, db), 1);
    assert_non_null(strstr(err, "another mlpsweep is writing to"));
    free(err);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 0); /* untouched by the refused merge */
    close(fd);
    assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", out, db), 0);
    free(err);
    free(db);
}

/* A --db that names a file run or merge cannot use (not a database) is
 * refused before the writer lock is taken: no stray lock file beside it. */
static void test_no_stray_lock(void **state)
{
    (void)state;
    char *m = write_manifest("stray", "[1]", 0), *db = small_db("stray-src"), *err = NULL;
    char *bad = NULL, *lock = NULL;
    assert_true(asprintf(&bad, "%s/notes.txt", ms_group_tmp) > 0);
    assert_true(asprintf(&lock, "%s.lock", bad) > 0);
    ms_write_text(bad, "my notes\n");
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, bad), 1);
    assert_non_null(strstr(err, "is not an mlpsweep database"));
    free(err);
    assert_int_equal(msf(&err, "merge --db '%s' '%s' --quiet", bad, db), 1);
    assert_non_null(strstr(err, "is not an mlpsweep database"));
    free(err);
    assert_false(exists(lock));
    char *v = ms_read_file(bad);
    assert_string_equal(v, "my notes\n");
    free(v), free(bad), free(lock), free(db), free(m);
}

/* 1 when the file holds a control byte other than line breaks. */
static int has_control(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int c, found = 0;
    while ((c = getc(f)) != EOF)
        found |= (c < 0x20 && c != '\n') || c == 0x7f;
    fclose(f);
    return found;
}

/* Escape sequences and bells in a manifest's tasks, or in a database's
 * text, never reach the terminal or a document raw: check, status and the
 * Markdown and LaTeX exports show them as '?'. */
static void test_control_characters(void **state)
{
    (void)state;
    char *m = NULL, *db = NULL, *text = NULL, *err = NULL, *line = NULL;
    assert_true(asprintf(&m, "%s/ctl.yaml", ms_group_tmp) > 0);
    assert_true(asprintf(&db, "%s/ctl.db", ms_group_tmp) > 0);
    assert_true(asprintf(&text, "name: ctl\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                                "defaults:\n  hidden: [8]\n  epochs: 1\n"
                                "variants:\n  - name: a\n    task: \"\\e[2J\\a|\\x7f\"\n", ms_tiny_data) > 0);
    ms_write_text(m, text);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    ms_db_exec(db, "UPDATE runs SET error = 'boom' || char(27) || '[31m red'");
    const char *cmds[] = {"check '%s' > '%s'", "status --db '%s' > '%s'",
                          "export --db '%s' --format md -o '%s'",
                          "export --db '%s' --format latex -o '%s'"};
    char *out = ms_tpath("ctl.out");
    for (int i = 0; i < 4; i++) {
        assert_true(asprintf(&line, cmds[i], i ? db : m, out) > 0);
        assert_int_equal(msf(&err, "%s", line), 0);
        if (has_control(out))
            fail_msg("'%s' printed a control character", line);
        char *o = ms_read_file(out);
        assert_non_null(strstr(o, i == 3 ? "?[2J?\\textbar{}?" : "?[2J?"));
        free(o), free(err), free(line);
    }
    free(out), free(text), free(db), free(m);
}

/* Text in a database that is not well-formed UTF-8 comes out with each
 * byte that starts no well-formed character as U+FFFD and the rest as it
 * is, in every format: JSON stays JSON, HTML stays UTF-8. Control
 * characters (C0, DEL, C1) are \u escapes in JSON and '?' elsewhere. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    char *db = small_db("utf8"), *out = ms_tpath("utf8.out"), *err = NULL, *line = NULL;
    /* A, e acute, overlong '/' (2 and 3 bytes), a surrogate, U+D7FF, past
     * U+10FFFF, U+10FFFF, an emoji, 0xff, C1 CSI, ESC, BEL, a cut
     * sequence before Z, a lone continuation byte */
    ms_db_exec(db, "UPDATE runs SET task = CAST(X'41C3A9C0AFE080AFEDA080ED9FBFF4908080F48FBFBF"
                   "F09F9982FFC29B1B07E2825A80' AS TEXT);"
                   "UPDATE sweeps SET name = CAST(X'7377C0AF1B' AS TEXT)");
#define R "\xef\xbf\xbd"
    const char *same = "A\xc3\xa9" R R R R R R R R "\xed\x9f\xbf" R R R R "\xf4\x8f\xbf\xbf"
                       "\xf0\x9f\x99\x82" R;
    const char *tail = R R "Z" R;
    char *shown = NULL, *json = NULL;
    assert_true(asprintf(&shown, "%s???%s", same, tail) > 0);
    assert_true(asprintf(&json, "\"%s\\u009b\\u001b\\u0007%s\"", same, tail) > 0);
    const char *cmds[] = {"export --db '%s' --format json -o '%s'", "status --db '%s' --json > '%s'",
                          "export --db '%s' --format csv -o '%s'", "export --db '%s' --format md -o '%s'",
                          "export --db '%s' --format latex -o '%s'", "export --db '%s' -o '%s.html'",
                          "report --db '%s' -o '%s.html'", "status --db '%s' > '%s'",
                          "compare a a --db '%s' > '%s'"};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        assert_true(asprintf(&line, cmds[i], db, out) > 0);
        assert_int_equal(msf(&err, "%s", line), 0);
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", out, strstr(cmds[i], ".html") ? ".html" : "") > 0);
        char *o = ms_read_file(path);
        assert_non_null(o);
        const char *want = i < 2 ? json : i < 8 ? shown : "sweep 'sw" R R "?'";
        if (!strstr(o, want))
            fail_msg("'%s' did not show the text as '%s'", line, want);
        if (has_control(path))
            fail_msg("'%s' printed a control character", line);
        free(line);
        assert_true(asprintf(&line, "iconv -f UTF-8 -t UTF-8 '%s'", path) > 0);
        if (shell(line, NULL) != 0)
            fail_msg("'%s' wrote what is not UTF-8", cmds[i]);
        free(o), free(path), free(err), free(line);
    }
#undef R
    free(shown), free(json), free(out), free(db);
}

/* Runs msf(err, fmt, a, b) with one resource limit lowered for the child. */
static int limited(int resource, rlim_t to, char **err, const char *fmt, const char *a,
                   const char *b)
{
    struct rlimit old, lim;
    assert_int_equal(getrlimit(resource, &old), 0);
    lim = old;
    lim.rlim_cur = to;
    assert_int_equal(setrlimit(resource, &lim), 0);
    int rc = msf(err, fmt, a, b);
    assert_int_equal(setrlimit(resource, &old), 0);
    return rc;
}

/* Past a file-size limit a command says so and exits 1, leaving no partial
 * output (it was killed by SIGXFSZ, silently); out of memory is a message
 * and exit 1 (it was abort(), 134). */
static void test_resource_limits(void **state)
{
    (void)state;
    char *m = NULL, *db = NULL, *out = NULL, *err = NULL, *text = NULL;
    assert_true(asprintf(&m, "%s/limits.yaml", ms_group_tmp) > 0);
    assert_true(asprintf(&db, "%s/limits.db", ms_group_tmp) > 0);
    assert_true(asprintf(&out, "%s/limits.csv", ms_group_tmp) > 0);
    assert_true(asprintf(&text, "name: limits\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                                "defaults:\n  hidden: [8]\n  epochs: 200\n  early_stop: 0\n"
                                "variants:\n  - name: a\n", ms_tiny_data) > 0);
    ms_write_text(m, text);
    assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 0);
    free(err);
    signal(SIGXFSZ, SIG_IGN); /* for this process, while the limit is down */
    /* 40 KB: the database's 32 KB shared-memory file fits, the 1000-row CSV not */
    assert_int_equal(limited(RLIMIT_FSIZE, 40 << 10, &err, "export --db '%s' --table evals -o '%s'",
                             db, out),
                     1);
    assert_non_null(strstr(err, "File too large"));
    free(err);
    assert_false(exists(out));
    assert_int_equal(msf(&err, "export --db '%s' --table evals -o '%s'", db, out), 0);
    free(err);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* a sanitizer's shadow memory needs terabytes of address space */
    print_message("out-of-memory case skipped under a sanitizer\n");
#else
    assert_true(limited(RLIMIT_AS, 400ul << 20, &err,
                        "train --data '%s' --train-size 320 --val-size 40 --hidden %s --epochs 1 "
                        "--threads 1",
                        ms_tiny_data, "40000,2000") == 1);
    assert_non_null(strstr(err, "mlpsweep: out of memory allocating"));
    free(err);
#endif
    free(text), free(m), free(db), free(out);
}

/* ---- fetch ---- */

/* The same file: contents and mode. */
static void assert_unchanged(const char *path, const char *text, mode_t mode)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, mode);
    char *v = ms_read_file(path);
    assert_string_equal(v, text);
    free(v);
}

/* fetch DATASET (its files in src) into a shared folder where someone
 * planted links to a private file elsewhere: one at a name fetch writes,
 * one at the other form of a name (NAME beside NAME.gz, which run reads
 * first). fetch puts real files in their place and never writes through a
 * link: the private file keeps its contents and mode 600. */
static void fetch_past_links(const char *dataset, const char *src)
{
    char *dir = NULL, *victim = ms_tpath("private"), *err = NULL, path[4096];
    assert_true(asprintf(&dir, "%s/shared-%s", ms_group_tmp, dataset) > 0);
    assert_int_equal(mkdir(dir, 0777), 0);
    ms_write_text(victim, "precious\n");
    assert_int_equal(chmod(victim, 0600), 0);
    const char *names[] = {"t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_int_equal(symlink(victim, path), 0);
    }
    setenv("MNIST_DIR", src, 1);
    int rc = msf(&err, "fetch %s --dir '%s'", dataset, dir);
    unsetenv("MNIST_DIR");
    free(err);
    assert_unchanged(victim, "precious\n", 0600);
    assert_int_equal(rc, 0);
    struct stat st, want;
    snprintf(path, sizeof path, "%s/%s", dir, names[0]);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    snprintf(path, sizeof path, "%s/%s", src, names[0]);
    assert_int_equal(stat(path, &want), 0);
    assert_int_equal(st.st_size, want.st_size);
    snprintf(path, sizeof path, "%s/%s", dir, names[1]);
    assert_false(exists(path)); /* the link is gone: the .gz is the file */
    snprintf(path, sizeof path, "ls -A '%s' | grep -c fetch", dir);
    assert_int_not_equal(shell(path, NULL), 0); /* no private folder left */
    free(victim), free(dir);
}

/* Both fetchers (Fashion-MNIST where Debian's package is installed, as make
 * test does); a folder at a file's name, and a DIR that is itself a link
 * another user made (with or without a final slash), are refused. */
static void test_fetch_planted_links(void **state)
{
    (void)state;
    char *mnist = realpath(MS_DATA_DIR, NULL), *err = NULL, path[4096];
    assert_non_null(mnist);
    fetch_past_links("mnist", mnist);
    /* a folder at a file's name stops fetch, with mv's message */
    snprintf(path, sizeof path, "%s/shared-mnist/t10k-labels-idx1-ubyte.gz", ms_group_tmp);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    setenv("MNIST_DIR", mnist, 1);
    assert_int_equal(msf(&err, "fetch --dir '%s/shared-mnist'", ms_group_tmp), 1);
    unsetenv("MNIST_DIR");
    assert_non_null(strstr(err, "cannot overwrite directory"));
    free(err);
    const char *fashion = "/usr/share/datasets/fashion-mnist";
    if (access(fashion, R_OK) == 0)
        fetch_past_links("fashion-mnist", fashion);
    else
        fprintf(stderr, "(no %s: the Fashion-MNIST case is not run)\n", fashion);

    char *link = ms_tpath("planted-dir"), *target = ms_tpath("elsewhere");
    assert_int_equal(mkdir(target, 0755), 0);
    assert_int_equal(symlink(target, link), 0);
    if (lchown(link, 65534, 65534) == 0) { /* only root can give a link away */
        setenv("MNIST_DIR", mnist, 1);
        for (int slash = 0; slash < 2; slash++) {
            assert_int_equal(msf(&err, "fetch --dir '%s%s'", link, slash ? "/" : ""), 1);
            assert_non_null(strstr(err, "is a symbolic link of another user"));
            free(err);
        }
        unsetenv("MNIST_DIR");
        snprintf(path, sizeof path, "ls -A '%s' | grep -q .", target);
        assert_int_not_equal(shell(path, NULL), 0); /* nothing written there */
    } else
        fprintf(stderr, "(not root: the planted-folder case is not run)\n");
    free(link), free(target), free(mnist);
}

/* ---- damaged databases ---- */

/* Scramble the b-tree header (cell count, content start) of the root page
 * of `table` in db, as a bad sector or a torn write would. */
static void damage_table(const char *db, const char *table)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(
        sqlite3_prepare_v2(h, "SELECT rootpage, (SELECT page_size FROM pragma_page_size) "
                              "FROM sqlite_master WHERE name = ?1", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long page = sqlite3_column_int64(q, 0), size = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(h);
    int fd = open(db, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b[4];
    off_t at = (off_t)((page - 1) * size + 3);
    assert_int_equal(pread(fd, b, 4, at), 4);
    for (int i = 0; i < 4; i++)
        b[i] ^= 0x5a;
    assert_int_equal(pwrite(fd, b, 4, at), 4);
    close(fd);
}

/* A database with a damaged page is refused by every command that opens it
 * (exit 1, "is damaged", the file untouched), before any of it is read or
 * written; `check --db` names the damage, and passes an intact copy. */
static void test_damaged_database(void **state)
{
    (void)state;
    char *db = small_db("damaged"), *m = NULL, *err = NULL, *out = NULL;
    assert_true(asprintf(&m, "%s/damaged.yaml", ms_group_tmp) > 0);
    assert_true(asprintf(&out, "%s/damaged-out", ms_group_tmp) > 0);
    assert_int_equal(msf(&err, "check --db '%s'", db), 0);
    free(err);
    for (int t = 0; t < 2; t++) {
        const char *table = t ? "runs" : "epochs";
        damage_table(db, table);
        char *before = ms_read_file(db);
        struct stat st0;
        assert_int_equal(stat(db, &st0), 0);
        const char *cmds[] = {"status --db '%s'", "export --db '%s' -o '%s.csv'",
                              "plot --db '%s' --out '%s'", "merge --db '%s.merged' '%s' --quiet"};
        for (int i = 0; i < 4; i++) {
            char *fmt = NULL;
            assert_true(asprintf(&fmt, cmds[i], db, out) > 0);
            if (i == 3) { /* merge: the damaged file is the input */
                free(fmt);
                assert_true(asprintf(&fmt, cmds[i], out, db) > 0);
            }
            if (msf(&err, "%s", fmt) != 1 || !strstr(err, "is damaged"))
                fail_msg("damaged %s: '%s' did not refuse it: %s", table, fmt, err);
            free(err), free(fmt);
        }
        assert_int_equal(msf(&err, "run '%s' --db '%s' --quiet", m, db), 1);
        assert_non_null(strstr(err, "is damaged"));
        free(err);
        assert_int_equal(msf(&err, "check --db '%s'", db), 1);
        assert_non_null(strstr(err, "is damaged: "));
        free(err);
        char *after = ms_read_file(db);
        struct stat st1;
        assert_int_equal(stat(db, &st1), 0);
        assert_true(st0.st_size == st1.st_size && !memcmp(before, after, (size_t)st0.st_size));
        free(before), free(after);
        char *csv = NULL;
        assert_true(asprintf(&csv, "%s.csv", out) > 0);
        assert_false(exists(csv));
        free(csv);
        free(db);
        db = small_db(t ? "damaged3" : "damaged2"); /* a fresh one for the next table */
    }
    free(db), free(m), free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_injection_one_seed),
        cmocka_unit_test(test_injection_several_seeds),
        cmocka_unit_test(test_injection_merged_shards),
        cmocka_unit_test(test_injection_output_path),
        cmocka_unit_test(test_export_refuses_symlink),
        cmocka_unit_test(test_export_refuses_device),
        cmocka_unit_test(test_export_refuses_own_database),
        cmocka_unit_test(test_plot_refuses_symlinked_figure),
        cmocka_unit_test(test_lock_is_per_file),
        cmocka_unit_test(test_merge_takes_the_lock),
        cmocka_unit_test(test_damaged_database),
        cmocka_unit_test(test_no_stray_lock),
        cmocka_unit_test(test_resource_limits),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_fetch_planted_links),
    };
    return cmocka_run_group_tests_name("security", tests, ms_tiny_data_setup, ms_tiny_data_teardown);
}
