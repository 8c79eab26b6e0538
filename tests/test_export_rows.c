/* Tests for export's choice of rows and its pivot (issue 24): --where,
 * --sort, --top and --pivot ROW,COL --metric M on a sweep trained on the
 * tiny data (a 2x2 grid of lr x batch with two seeds, and two variants that
 * share a grid cell), each pivot cell checked against the mean of the
 * database's rows; ties and empty values for the sort on a copy whose
 * results are set by hand; every bad filter, sort, top and pivot one line,
 * exit 2, before any file is opened or written; and ms_filter itself. */
#include "ms_test.h"

#include "ms_filter.h"

#include <dirent.h>
#include <math.h>

static char *db;     /* the trained sweep */
static char *tweak;  /* a copy whose final accuracies are set by hand */

/* Variants in manifest order: the grid (lr-major, as listed: 0.5 before
 * 0.1, batch 32 before 16), then `tanh` in the cell lr=0.5, batch=16 with
 * another activation, and `long` in lr=0.1, batch=32 with another epochs. */
static const char *const V[] = {"sgd.lr-0.5.batch-32", "sgd.lr-0.5.batch-16",
                                "sgd.lr-0.1.batch-32", "sgd.lr-0.1.batch-16", "tanh", "long"};
enum { NV = 6 };

static int setup(void **state)
{
    ms_tiny_data_setup(state);
    char *m = ms_tpath("grid.yaml"), *text = NULL, *cmd = NULL, *out, *err;
    if (asprintf(&text,
                 "name: grid\ndata:\n  dir: %s\n  train: 320\n  val: 40\n"
                 "defaults:\n  hidden: [8]\n  epochs: 2\n  early_stop: 0\n  seeds: [1, 2]\n"
                 "variants:\n"
                 "  - name: sgd\n    grid: {lr: [0.5, 0.1], batch: [32, 16]}\n"
                 "  - name: tanh\n    lr: 0.5\n    batch: 16\n    activation: improved_sigmoid\n"
                 "  - name: long\n    lr: 0.1\n    batch: 32\n    epochs: 3\n",
                 ms_tiny_data) < 0)
        abort();
    ms_write_text(m, text);
    db = ms_tpath("grid.db");
    if (asprintf(&cmd, "run '%s' --db '%s' --quiet --threads 1", m, db) < 0)
        abort();
    assert_int_equal(ms_run(cmd, &out, &err), 0);
    free(out), free(err), free(cmd), free(text), free(m);
    /* The copy: final accuracies 0.25, 0.5 (twice: a tie), 0.75, none, 0.5. */
    tweak = ms_tpath("tweak.db");
    if (asprintf(&cmd, "cp '%s' '%s'", db, tweak) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
    ms_db_exec(tweak, "UPDATE epochs SET val_acc = (SELECT CASE r.variant"
                      " WHEN 'sgd.lr-0.5.batch-32' THEN 0.5 WHEN 'sgd.lr-0.5.batch-16' THEN 0.25"
                      " WHEN 'sgd.lr-0.1.batch-32' THEN 0.5 WHEN 'sgd.lr-0.1.batch-16' THEN 0.75"
                      " ELSE 0.5 END FROM runs r WHERE r.id = epochs.run_id);"
                      /* tanh without a finished epoch: no result */
                      "UPDATE runs SET epochs_done = 0 WHERE variant = 'tanh'");
    return 0;
}

static int teardown(void **state)
{
    free(db), free(tweak);
    return ms_tiny_data_teardown(state);
}

/* `mlpsweep export --db DB ARGS`: its exit status, stdout and stderr. */
static int ex(const char *dbf, char **out, char **err, const char *fmt, ...) MS_PRINTF(4, 5);
static int ex(const char *dbf, char **out, char **err, const char *fmt, ...)
{
    char *args = NULL, *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&args, fmt, ap) < 0)
        abort();
    va_end(ap);
    if (asprintf(&cmd, "export --db '%s' %s", dbf, args) < 0)
        abort();
    int rc = ms_run(cmd, out, err);
    free(args), free(cmd);
    return rc;
}

/* The variants of a one-column CSV (--columns variant), joined by spaces. */
static void assert_variants(const char *dbf, const char *args, const char *want)
{
    char *out, *err;
    assert_int_equal(ex(dbf, &out, &err, "--columns variant %s", args), 0);
    assert_string_equal(err, "");
    assert_int_equal(strncmp(out, "variant\n", 8), 0);
    for (char *p = out + 8; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ' ' : '\0';
    if (strcmp(out + 8, want))
        fail_msg("export %s: got '%s', want '%s'", args, out + 8, want);
    free(out), free(err);
}

static void test_where(void **state)
{
    (void)state;
    char all[512] = "";
    for (int i = 0; i < NV; i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? " " : "", V[i]);
    assert_variants(db, "", all);
    /* numbers: exact equality (0.1 as the manifest wrote it), order, integers */
    assert_variants(db, "--where lr=0.1", "sgd.lr-0.1.batch-32 sgd.lr-0.1.batch-16 long");
    assert_variants(db, "--where 'lr > 0.2'", "sgd.lr-0.5.batch-32 sgd.lr-0.5.batch-16 tanh");
    assert_variants(db, "--where 'batch<=16'", "sgd.lr-0.5.batch-16 sgd.lr-0.1.batch-16 tanh");
    assert_variants(db, "--where 'batch!=16'", "sgd.lr-0.5.batch-32 sgd.lr-0.1.batch-32 long");
    /* a statistic by its mean: epochs run, 2 or 3 */
    assert_variants(db, "--where 'epochs>=2.5'", "long");
    assert_variants(db, "--where epochs_mean=3", "long");
    /* text: =, !=, ~ (contains), quoted */
    assert_variants(db, "--where activation=improved_sigmoid", "tanh");
    assert_variants(db, "--where \"activation != 'sigmoid'\"", "tanh");
    assert_variants(db, "--where 'variant~batch-16'", "sgd.lr-0.5.batch-16 sgd.lr-0.1.batch-16");
    /* several conditions, with ',' and 'and' (AND, in any case) */
    assert_variants(db, "--where 'lr=0.5,batch=16'", "sgd.lr-0.5.batch-16 tanh");
    assert_variants(db, "--where 'lr=0.5 and batch=16 AND activation=sigmoid'",
                    "sgd.lr-0.5.batch-16");
    assert_variants(db, "--where 'lr>0.05, lr<0.2 and variant~sgd'",
                    "sgd.lr-0.1.batch-32 sgd.lr-0.1.batch-16");
    /* no row left: the header alone, exit 0 */
    assert_variants(db, "--where 'lr>1'", "");
    assert_variants(db, "--where 'lr=0.5,lr=0.1'", "");
    /* an empty value fails every condition, != included (tweak: tanh has none) */
    assert_variants(tweak, "--where 'final_val_acc!=0.5'",
                    "sgd.lr-0.5.batch-16 sgd.lr-0.1.batch-16");
    /* the long tables: integers exactly, every run and epoch */
    char *out, *err;
    assert_int_equal(ex(db, &out, &err, "--table epochs --where 'seed=2 and epoch=2' "
                                        "--columns variant,seed,epoch"), 0);
    assert_string_equal(out, "variant,seed,epoch\n"
                             "sgd.lr-0.5.batch-32,2,2\nsgd.lr-0.5.batch-16,2,2\n"
                             "sgd.lr-0.1.batch-32,2,2\nsgd.lr-0.1.batch-16,2,2\n"
                             "tanh,2,2\nlong,2,2\n");
    free(out), free(err);
}

static void test_sort_top(void **state)
{
    (void)state;
    /* tweak's final accuracies by variant: 0.5 0.25 0.5 0.75 none 0.5 */
    static const char asc[] = "sgd.lr-0.5.batch-16 sgd.lr-0.5.batch-32 sgd.lr-0.1.batch-32 long "
                              "sgd.lr-0.1.batch-16 tanh";
    assert_variants(tweak, "--sort final_val_acc", asc);
    assert_variants(tweak, "--sort final_val_acc,asc", asc);
    assert_variants(tweak, "--sort final_val_acc_mean", asc);
    /* descending: ties still in table order, the empty value still last */
    assert_variants(tweak, "--sort final_val_acc,desc",
                    "sgd.lr-0.1.batch-16 sgd.lr-0.5.batch-32 sgd.lr-0.1.batch-32 long "
                    "sgd.lr-0.5.batch-16 tanh");
    /* text, and numbers that are not results */
    assert_variants(db, "--sort variant", "long sgd.lr-0.1.batch-16 sgd.lr-0.1.batch-32 "
                                          "sgd.lr-0.5.batch-16 sgd.lr-0.5.batch-32 tanh");
    assert_variants(db, "--sort lr --where 'variant~sgd'",
                    "sgd.lr-0.1.batch-32 sgd.lr-0.1.batch-16 sgd.lr-0.5.batch-32 "
                    "sgd.lr-0.5.batch-16");
    assert_variants(db, "--sort batch", "sgd.lr-0.5.batch-16 sgd.lr-0.1.batch-16 tanh "
                                        "sgd.lr-0.5.batch-32 sgd.lr-0.1.batch-32 long");
    /* --top: after --where and --sort; more than there are is all */
    assert_variants(tweak, "--sort final_val_acc,desc --top 2",
                    "sgd.lr-0.1.batch-16 sgd.lr-0.5.batch-32");
    assert_variants(tweak, "--top 1 --where activation=improved_sigmoid", "tanh");
    assert_variants(db, "--top 100 --where lr=0.1", "sgd.lr-0.1.batch-32 sgd.lr-0.1.batch-16 long");
    /* the long tables sort too: the last step first */
    char *out, *err;
    assert_int_equal(ex(db, &out, &err, "--table steps --sort step,desc --top 1 --columns step"), 0);
    long want = ms_db_count(db, "SELECT max(step) FROM steps");
    char line[64];
    snprintf(line, sizeof line, "step\n%ld\n", want);
    assert_string_equal(out, line);
    free(out), free(err);
}

/* The mean over seeds of the grid variant's final validation accuracy at
 * (lr, batch), from the database's rows; NAN when there is none. */
static double grid_mean(double lr, int batch)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT e.val_acc FROM runs r JOIN epochs e"
                                           " ON e.run_id = r.id AND e.epoch = r.epochs_done"
                                           " WHERE r.current = 1 AND r.variant LIKE 'sgd.%'"
                                           " AND r.lr = ?1 AND r.batch = ?2 ORDER BY r.id",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_double(q, 1, lr);
    sqlite3_bind_int(q, 2, batch);
    double sum = 0;
    int n = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        sum += sqlite3_column_double(q, 0);
        n++;
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    assert_int_equal(n, 2); /* two seeds */
    return sum / n;
}

static void test_pivot(void **state)
{
    (void)state;
    char *out, *err;
    /* rows lr ascending (0.1, 0.5), columns batch ascending (16, 32) */
    assert_int_equal(ex(db, &out, &err, "--where 'variant~sgd' --pivot lr,batch "
                                        "--metric final_val_acc"), 0);
    assert_string_equal(err, "");
    static const double lrs[2] = {0.1, 0.5};
    static const int batches[2] = {16, 32};
    const char *p = out;
    assert_int_equal(strncmp(p, "lr,batch=16,batch=32\n", 21), 0);
    p += 21;
    for (int i = 0; i < 2; i++) {
        char *e;
        assert_true(strtod(p, &e) == lrs[i] && *e == ',');
        for (int j = 0; j < 2; j++) {
            double got = strtod(e + 1, &e), want = grid_mean(lrs[i], batches[j]);
            if (got != want) /* exact: CSV writes the shortest text that reads back */
                fail_msg("cell lr=%g batch=%d: %.17g, want %.17g", lrs[i], batches[j], got, want);
            assert_true(*e == (j ? '\n' : ','));
        }
        p = e + 1;
    }
    assert_string_equal(p, "");
    free(out), free(err);

    /* every format; an empty cell is empty, null, – or -- */
    static const char *const fmt[] = {"csv", "json", "md", "latex", "html"};
    static const char *const want[] = {"0.5,,", "\"batch=16\": null", "| 0.5 | – |",
                                       "0.5 & -- &", "<td class=\"num\">–</td>"};
    for (int k = 0; k < 5; k++) {
        assert_int_equal(ex(db, &out, &err, "--where 'variant~sgd,variant!=sgd.lr-0.5.batch-16' "
                                            "--pivot lr,batch --metric final_val_acc --format %s",
                            fmt[k]), 0);
        if (!strstr(out, want[k]))
            fail_msg("%s: no '%s' in:\n%s", fmt[k], want[k], out);
        free(out), free(err);
    }
    assert_int_equal(ex(db, &out, &err, "--where 'variant~sgd' --pivot lr,batch "
                                        "--metric final_val_acc --format md"), 0);
    static const char head[] = "| val acc (%): lr \\\\ batch | 16 | 32 |\n|---:|---:|---:|\n| 0.1 | ";
    assert_int_equal(strncmp(out, head, sizeof head - 1), 0);
    free(out), free(err);
    /* text axes in manifest order; a mean of epochs shown as it is */
    assert_int_equal(ex(db, &out, &err, "--where lr=0.5 --pivot activation,batch --metric epochs"),
                     0);
    assert_string_equal(out, "activation,batch=16,batch=32\nsigmoid,2,2\nimproved_sigmoid,2,\n");
    free(out), free(err);
}

/* Two variants in one cell: refused, exit 1, the setting they differ in
 * named and a --where suggested; nothing written. */
static void test_pivot_refused(void **state)
{
    (void)state;
    char *out, *err, *o = ms_tpath("pivot.csv");
    assert_int_equal(ex(db, &out, &err, "--pivot lr,batch --metric final_val_acc -o '%s'", o), 1);
    assert_string_equal(err, "mlpsweep: --pivot lr,batch: variants 'sgd.lr-0.5.batch-16' and "
                             "'tanh' both have lr=0.5, batch=16 and differ in activation "
                             "(sigmoid and improved_sigmoid): keep one with --where, e.g. "
                             "--where 'activation=sigmoid'\n");
    assert_string_equal(out, "");
    assert_int_equal(access(o, F_OK), -1);
    free(out), free(err);
    /* the suggestion works; then `long` meets its cell, differing in its epochs */
    assert_int_equal(ex(db, &out, &err, "--where 'activation=sigmoid' --pivot lr,batch "
                                        "--metric final_val_acc"), 1);
    assert_string_equal(err, "mlpsweep: --pivot lr,batch: variants 'sgd.lr-0.1.batch-32' and "
                             "'long' both have lr=0.1, batch=32 and differ in epochs_total "
                             "(2 and 3): keep one with --where, e.g. --where "
                             "'epochs_total=2'\n");
    free(out), free(err);
    assert_int_equal(ex(db, &out, &err, "--where 'activation=sigmoid,variant!=long' --pivot "
                                        "lr,batch --metric final_val_acc"), 0);
    free(out), free(err), free(o);
}

/* Every setting of the manifest is a column of the summary (issue 24), the
 * grid that made a variant too: --where and --pivot over them. */
static void test_settings(void **state)
{
    (void)state;
    char *out, *err;
    assert_int_equal(ex(db, &out, &err, "--columns variant,hidden,activation,init,lr,momentum,"
                                        "batch,epochs_total,val_per_epoch,early_stop,shuffle,"
                                        "train_size,val_size,dataset,precision,grid"), 0);
    assert_string_equal(err, "");
    assert_string_equal(out, "variant,hidden,activation,init,lr,momentum,batch,epochs_total,"
                             "val_per_epoch,early_stop,shuffle,train_size,val_size,dataset,"
                             "precision,grid\n"
                             "sgd.lr-0.5.batch-32,8,sigmoid,uniform,0.5,0,32,2,5,0,true,320,40,"
                             "mnist,float32,sgd\n"
                             "sgd.lr-0.5.batch-16,8,sigmoid,uniform,0.5,0,16,2,5,0,true,320,40,"
                             "mnist,float32,sgd\n"
                             "sgd.lr-0.1.batch-32,8,sigmoid,uniform,0.1,0,32,2,5,0,true,320,40,"
                             "mnist,float32,sgd\n"
                             "sgd.lr-0.1.batch-16,8,sigmoid,uniform,0.1,0,16,2,5,0,true,320,40,"
                             "mnist,float32,sgd\n"
                             "tanh,8,improved_sigmoid,uniform,0.5,0,16,2,5,0,true,320,40,mnist,"
                             "float32,\n"
                             "long,8,sigmoid,uniform,0.1,0,32,3,5,0,true,320,40,mnist,float32,\n");
    free(out), free(err);
    assert_variants(db, "--where grid=sgd --sort batch",
                    "sgd.lr-0.5.batch-16 sgd.lr-0.1.batch-16 sgd.lr-0.5.batch-32 "
                    "sgd.lr-0.1.batch-32");
    assert_variants(db, "--where 'epochs_total=3,shuffle=true,train_size=320'", "long");
    /* the grid alone as a pivot: no other variant in its cells */
    assert_int_equal(ex(db, &out, &err, "--where grid=sgd --pivot lr,batch "
                                        "--metric final_val_acc --format md"), 0);
    assert_non_null(strstr(out, "lr \\\\ batch | 16 | 32 |\n"));
    free(out), free(err);
}

/* Folder entries, to see that a refused command created nothing. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n++;
    closedir(d);
    return n;
}

static void test_bad(void **state)
{
    (void)state;
    static const struct {
        const char *args, *msg;
    } bad[] = {
        {"--where 'lrr>=0.1'", "--where 'lrr>=0.1': column 1: no column 'lrr' in the summary "
                               "table (did you mean 'lr'?)"},
        {"--where 'lr>=x'", "--where 'lr>=x': column 5: expected a number after '>=', got 'x'"},
        {"--where 'lr!0.1'", "--where 'lr!0.1': column 3: expected an operator (=, !=, <, <=, >, "
                             ">= or ~) after 'lr'"},
        {"--where 'lr=1e999'", "--where 'lr=1e999': column 4: expected a number after '=', got "
                               "'1e999'"},
        {"--where 'activation<x'", "--where 'activation<x': column 11: '<' compares numbers, and "
                                   "'activation' is text (use =, != or ~)"},
        {"--where 'lr~1'", "--where 'lr~1': column 3: '~' (contains) is for text, and 'lr' holds "
                           "numbers"},
        {"--where 'lr>=0.1,'", "--where 'lr>=0.1,': column 9: expected a column name"},
        {"--where ''", "--where '': column 1: expected a column name"},
        {"--where 'lr>=0.1 and'", "--where 'lr>=0.1 and': column 12: expected a column name"},
        {"--where 'lr>=0.1 or batch=16'", "--where 'lr>=0.1 or batch=16': column 9: expected "
                                          "',' or 'and' before 'or'"},
        {"--where \"variant='a\"", "--where 'variant='a': column 9: no closing ' for the value"},
        {"--where 'task='", "--where 'task=': column 6: expected a value after '='"},
        {"--where \"variant='é'x\"", "--where 'variant='é'x': column 12: expected ',' or 'and' "
                                    "before 'x'"}, /* characters, not bytes */
        {"--table epochs --where 'final_val_acc>0'",
         "--where 'final_val_acc>0': column 1: no column 'final_val_acc' in the epochs table"},
        {"--table evals --where 'val_acc>0,trian_loss<1'",
         "--where 'val_acc>0,trian_loss<1': column 11: no column 'trian_loss' in the evals table "
         "(did you mean 'train_loss'?)"},
        {"--top 0", "--top: expected an integer in 1..2147483647, got '0'"},
        {"--top -2", "--top: expected an integer in 1..2147483647, got '-2'"},
        {"--top x", "--top: expected an integer in 1..2147483647, got 'x'"},
        {"--sort lr,down", "--sort: expected COLUMN, COLUMN,asc or COLUMN,desc, got 'lr,down'"},
        {"--sort lrr", "--sort: no column 'lrr' in the summary table (did you mean 'lr'?)"},
        {"--pivot lr", "--pivot: expected ROW,COL (two columns of the summary, e.g. lr,batch), "
                       "got 'lr'"},
        {"--pivot lr,batch,init --metric epochs",
         "--pivot: expected ROW,COL (two columns of the summary, e.g. lr,batch), got "
         "'lr,batch,init'"},
        {"--pivot lr,batch", "--pivot needs --metric (the result each cell shows, e.g. "
                             "final_val_acc)"},
        {"--metric final_val_acc", "--metric is for --pivot (the result a pivot's cells show)"},
        {"--pivot lr,lr --metric epochs", "--pivot: 'lr' twice"},
        {"--pivot lr,bach --metric epochs", "--pivot: no column 'bach' in the summary table (did "
                                            "you mean 'batch'?)"},
        {"--pivot lr,epochs --metric epochs", "--pivot: 'epochs' is a result; a pivot's rows and "
                                              "columns are settings (e.g. lr,batch), its cells "
                                              "--metric"},
        {"--pivot lr,batch --metric lr", "--metric: 'lr' is not a result (expected one of epochs, "
                                         "final_val_acc, best_val_acc, final_train_loss, "
                                         "final_val_loss, final_train_acc, train_seconds)"},
        {"--pivot lr,batch --metric final_val_ac", "--metric: no column 'final_val_ac' in the "
                                                   "summary table (did you mean 'final_val_acc'?)"},
        {"--pivot lr,batch --metric epochs --table evals",
         "--pivot: a pivot is of the summary table, not --table evals"},
        {"--pivot lr,batch --metric epochs --top 2",
         "--pivot and --top: a pivot's columns are COL's values and its rows ROW's, in order"},
        {"--pivot lr,batch --metric epochs --columns lr",
         "--pivot and --columns: a pivot's columns are COL's values and its rows ROW's, in order"},
    };
    /* a folder holding only a copy of the database: nothing may appear in it
     * (no output, no lock, no journal), and the copy must not change */
    char *dir = ms_tpath("bad"), *copy = ms_tpath("bad/grid.db"), *cmd = NULL;
    if (asprintf(&cmd, "mkdir -p '%s' && cp '%s' '%s'", dir, db, copy) < 0)
        abort();
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *before = ms_db_dump_all(copy);
    int n = entries(dir);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out, *err, want[1024];
        int rc = ex(copy, &out, &err, "%s -o '%s/out.csv'", bad[i].args, dir);
        snprintf(want, sizeof want, "mlpsweep: %s\n", bad[i].msg);
        if (rc != 2 || strcmp(err, want))
            fail_msg("export %s: exit %d, '%s'; want 2, '%s'", bad[i].args, rc, err, want);
        assert_string_equal(out, "");
        assert_int_equal(entries(dir), n);
        free(out), free(err);
        /* checked before the database is looked for: the same with none */
        rc = ex("/nonexistent/x.db", &out, &err, "%s", bad[i].args);
        assert_int_equal(rc, 2);
        assert_string_equal(err, want);
        free(out), free(err);
    }
    char *after = ms_db_dump_all(copy);
    assert_string_equal(before, after);
    free(before), free(after), free(copy), free(dir);
}

/* ms_filter on its own: integers compared exactly, text and empty values. */
static void test_filter(void **state)
{
    (void)state;
    const ms_filter_col cols[] = {{"seed", 1}, {"x", 1}, {"name", 0}};
    ms_filter *f;
    /* 2^53 + 1 and 2^53 are one double, two integers */
    assert_int_equal(ms_filter_parse("--where", "seed=9007199254740993", cols, 3, "t", &f), 0);
    ms_filter_val row[3] = {{0, NULL, 9007199254740992.0, 1, 9007199254740992LL},
                            {0, NULL, 1, 0, 0},
                            {0, "ab", 0, 0, 0}};
    assert_int_equal(ms_filter_match(f, row), 0);
    row[0].i = 9007199254740993LL;
    assert_int_equal(ms_filter_match(f, row), 1);
    ms_filter_free(f);
    /* a number against a real; text contains; NaN and NULL fail */
    assert_int_equal(ms_filter_parse("--where", " x >= 1 and name ~ 'b' ", cols, 3, "t", &f), 0);
    assert_int_equal(ms_filter_match(f, row), 1);
    row[1].x = NAN;
    assert_int_equal(ms_filter_match(f, row), 0);
    row[1].x = 2;
    row[2].null = 1;
    assert_int_equal(ms_filter_match(f, row), 0);
    ms_filter_free(f);
    /* a message names the option given, for any command that uses it */
    ms_capture c;
    ms_capture_start(&c);
    assert_int_equal(ms_filter_parse("--only", "nme=a", cols, 3, "the runs", &f), -1);
    char *msg = ms_capture_end(&c);
    assert_string_equal(msg, "mlpsweep: --only 'nme=a': column 1: no column 'nme' in the runs "
                             "(did you mean 'name'?)\n");
    assert_null(f);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_where),         cmocka_unit_test(test_sort_top),
        cmocka_unit_test(test_pivot),         cmocka_unit_test(test_pivot_refused),
        cmocka_unit_test(test_bad),           cmocka_unit_test(test_filter),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests_name("export rows", tests, setup, teardown);
}
