/* Tests for `mlpsweep export`: a hand-made database with known results, the
 * summary statistics checked exactly, every format parsed back (CSV per RFC
 * 4180, the Markdown table's shape, LaTeX's environments and escapes, JSON
 * with a small recursive-descent validator), and the command line: -o
 * writes atomically, bad names and a missing database are one-line errors. */
#include "ms_test.h"

#include "ms_config.h"
#include "ms_export.h"
#include "ms_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the database ----
 *
 * Variant A (name with a comma and quotes) has three seeds whose last epochs
 * hold values with exact means and sample standard deviations:
 *
 *   seed  epochs  stop        final val acc  best val acc  val loss  train acc  train loss  seconds
 *   1     1       early_stop  0.5            0.75          1         0.25       0.5         2
 *   2     2       early_stop  0.75           0.875         2         0.5        0.5         2+2
 *   3     3       epochs      1.0            1.0           3         0.75       0.5         2+2+2
 *   mean  2                   0.75           0.875         2         0.5        0.5         4
 *   std   1                   0.25           0.125         1         0.25       0           2
 *
 * Variant B (LaTeX's special characters) has one seed; variant C (Markdown's
 * pipe and a backslash) one run that never started (every result NULL). */
static const char *const VA = "a,\"b\"", *const VB = "x_y&z%", *const VC = "p|q\\";

typedef struct db {
    char *dir, *path;
} db;

static void commit(ms_store *s, int64_t run, int e, double val_acc, double best, double val_loss,
                   double train_acc, double train_loss, ms_stop stop)
{
    /* Two validations per epoch: the first holds the best accuracy of the
     * run (on its first epoch), the second the epoch's final values. */
    ms_epoch ep = {e, train_loss, train_acc, val_loss, val_acc, 2.0, 0, 0, NULL};
    ms_eval ev[2];
    for (int i = 0; i < 2; i++) {
        ev[i].step = (int64_t)(e - 1) * 10 + 4 + 5 * i;
        ev[i].epoch = e - 1;
        ev[i].batch_loss = train_loss + 0.125;
        ev[i].train_loss = train_loss;
        ev[i].train_acc = train_acc;
        ev[i].val_loss = val_loss;
        ev[i].val_acc = i == 0 && e == 1 ? best : val_acc;
    }
    assert_int_equal(ms_store_commit_epoch(s, run, &ep, (int64_t)e * 10, ev, 2, NULL, 0, stop), 0);
}

static void db_make(db *d)
{
    d->dir = ms_tmpdir();
    if (asprintf(&d->path, "%s/study.db", d->dir) < 0)
        abort();
    ms_store *s;
    int64_t sweep;
    assert_int_equal(ms_store_open(d->path, MS_STORE_CREATE, &s), 0);
    assert_int_equal(ms_store_sweep(s, "study", "study.yaml", "name: study\n", NULL, &sweep), 0);
    ms_config cfg[5];
    ms_run_spec keys[5];
    const char *names[5] = {VA, VA, VA, VB, VC};
    const uint64_t seeds[5] = {1, 2, 3, 7, 1};
    for (int i = 0; i < 5; i++) {
        ms_config_default(&cfg[i]);
        cfg[i].seed = seeds[i];
        cfg[i].epochs = 3;
        if (i == 3) {
            cfg[i].nhidden = 2;
            cfg[i].hidden[1] = 32;
            cfg[i].momentum = 0.9;
            cfg[i].lr = 0.02;
        }
        keys[i] = (ms_run_spec){names[i], i < 3 ? "3c" : "", cfg[i], NULL, NULL, 0, 0};
    }
    ms_run_info info[5];
    assert_int_equal(ms_store_register(s, sweep, keys, 5, info), 0);
    ms_provenance p = {"test", "cc", "host", 1, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(ms_store_start_run(s, info[i].id, &p), 0);
    /* A, seed 1: one epoch. */
    commit(s, info[0].id, 1, 0.5, 0.75, 1, 0.25, 0.5, MS_STOP_EARLY);
    /* A, seed 2: two epochs, the first with a worse final accuracy. */
    commit(s, info[1].id, 1, 0.25, 0.875, 4, 0.125, 0.75, MS_STOP_NONE);
    commit(s, info[1].id, 2, 0.75, 0, 2, 0.5, 0.5, MS_STOP_EARLY);
    /* A, seed 3: three epochs. */
    commit(s, info[2].id, 1, 0.25, 0.5, 4, 0.125, 0.75, MS_STOP_NONE);
    commit(s, info[2].id, 2, 0.5, 0, 3.5, 0.25, 0.625, MS_STOP_NONE);
    commit(s, info[2].id, 3, 1.0, 0, 3, 0.75, 0.5, MS_STOP_EPOCHS);
    /* B: one seed, one epoch. */
    commit(s, info[3].id, 1, 0.9, 0.9, 0.3, 0.95, 0.2, MS_STOP_EPOCHS);
    ms_store_close(s);
}

static void db_remove(db *d)
{
    ms_rmtree(d->dir);
    free(d->dir);
    free(d->path);
}

static char *export_str(const db *d, ms_table t, ms_format f)
{
    ms_store *s;
    char *out;
    size_t n;
    assert_int_equal(ms_store_open(d->path, MS_STORE_READONLY, &s), 0);
    const ms_export_opts o = {.table = t, .format = f, .columns = "all"};
    assert_int_equal(ms_export(s, "study", &o, &out, &n), 0);
    assert_int_equal(strlen(out), n);
    ms_store_close(s);
    return out;
}

/* ---- statistics ---- */

static void test_stat(void **state)
{
    (void)state;
    double x[] = {0.5, NAN, 0.75, 1.0};
    ms_stat s = ms_stat_of(x, 4);
    assert_int_equal(s.n, 3);
    assert_true(s.mean == 0.75 && s.std == 0.25);
    s = ms_stat_of(x, 1);
    assert_int_equal(s.n, 1);
    assert_true(s.mean == 0.5 && isnan(s.std));
    s = ms_stat_of(x + 1, 1);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.mean) && isnan(s.std));
    /* Two passes: no cancellation on large, close values. */
    double y[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
    s = ms_stat_of(y, 3);
    assert_true(s.mean == 1e9 + 2 && s.std == 1);
}

static void assert_stat(ms_stat s, int n, double mean, double std)
{
    if (s.n != n || !(n == 0 ? isnan(s.mean) : s.mean == mean) ||
        !(n < 2 ? isnan(s.std) : s.std == std))
        fail_msg("got n=%d mean=%.17g std=%.17g, want n=%d mean=%.17g std=%.17g", s.n, s.mean,
                 s.std, n, mean, std);
}

static void test_summary(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    ms_store *s;
    ms_snapshot snap;
    assert_int_equal(ms_store_open(d.path, MS_STORE_READONLY, &s), 0);
    assert_int_equal(ms_snapshot_read(s, "study", MS_SNAP_SUMMARY, &snap), 0);
    const ms_summary_row *r = snap.summary;
    assert_int_equal(snap.nsummary, 3);
    /* Manifest order, settings, and the exact statistics of the table above. */
    assert_string_equal(r[0].variant, VA);
    assert_string_equal(r[0].task, "3c");
    assert_int_equal(r[0].seeds, 3);
    assert_string_equal(r[0].hidden, "64");
    assert_string_equal(r[0].activation, "sigmoid");
    assert_string_equal(r[0].init, "uniform");
    assert_true(r[0].lr == 0.1 && r[0].momentum == 0);
    assert_int_equal(r[0].params, 50880);
    assert_int_equal(r[0].batch, 32);
    assert_string_equal(r[0].stop, "early_stop/epochs");
    assert_stat(r[0].epochs, 3, 2, 1);
    assert_stat(r[0].final_val_acc, 3, 0.75, 0.25);
    assert_stat(r[0].best_val_acc, 3, 0.875, 0.125);
    assert_stat(r[0].final_val_loss, 3, 2, 1);
    assert_stat(r[0].final_train_acc, 3, 0.5, 0.25);
    assert_stat(r[0].final_train_loss, 3, 0.5, 0);
    assert_stat(r[0].train_seconds, 3, 4, 2);

    assert_string_equal(r[1].variant, VB);
    assert_int_equal(r[1].seeds, 1);
    assert_string_equal(r[1].hidden, "64,32");
    assert_string_equal(r[1].stop, "epochs");
    assert_true(r[1].momentum == 0.9 && r[1].lr == 0.02);
    assert_stat(r[1].final_val_acc, 1, 0.9, 0);
    assert_stat(r[1].best_val_acc, 1, 0.9, 0);
    assert_stat(r[1].epochs, 1, 1, 0);

    assert_string_equal(r[2].variant, VC);
    assert_string_equal(r[2].stop, "pending");
    assert_stat(r[2].final_val_acc, 0, NAN, 0); /* never ran: NULL results */
    assert_int_equal(snap.nruns, 0); /* only the part asked for */
    ms_snapshot_release(&snap);

    /* The sweep: by name, or the only one. */
    char *name;
    assert_int_equal(ms_query_sweep(s, NULL, &name), 0);
    assert_string_equal(name, "study");
    free(name);
    ms_capture c;
    ms_capture_start(&c);
    assert_int_equal(ms_query_sweep(s, "other", &name), -1);
    char *msg = ms_capture_end(&c);
    char want[512];
    snprintf(want, sizeof want, "mlpsweep: no sweep 'other' in '%s'\n", d.path);
    assert_string_equal(msg, want);
    free(msg);

    /* A snapshot of every part: one read whose parts describe the same runs
     * (the report renders each section from it), and the stored manifest. */
    assert_int_equal(ms_snapshot_read(s, "study", ~0u, &snap), 0);
    assert_string_equal(snap.db, d.path);
    assert_string_equal(snap.sweep, "study");
    assert_true(*snap.meta.created && *snap.meta.updated);
    assert_int_equal(snap.nruns, 5);
    assert_int_equal(snap.nsummary, 3);
    assert_int_equal(snap.ncurves, 3);
    int seeds = 0;
    for (int v = 0; v < snap.nsummary; v++) { /* the same variants, in the same order */
        assert_string_equal(snap.curves[v].variant, snap.summary[v].variant);
        assert_int_equal(snap.curves[v].nruns, snap.summary[v].seeds);
        seeds += snap.summary[v].seeds;
    }
    assert_int_equal(seeds, snap.nruns);
    const ms_variant_curves *a = ms_snapshot_curves(&snap, VA);
    assert_non_null(a);
    assert_int_equal(a->runs[0].n + a->runs[1].n + a->runs[2].n, 12); /* 1 + 2 + 3 epochs, 2 each */
    assert_int_equal(snap.evals.nrows, 14);
    assert_int_equal(snap.epochs.nrows, 7);
    assert_int_equal(ms_snapshot_curves(&snap, VC)->runs[0].n, 0); /* never ran */
    assert_null(ms_snapshot_curves(&snap, "no such variant"));
    ms_snapshot_release(&snap);
    char *path, *text;
    size_t len;
    assert_int_equal(ms_query_manifest(s, "study", &path, &text, &len), 0);
    assert_string_equal(path, "study.yaml");
    assert_string_equal(text, "name: study\n");
    assert_int_equal(len, strlen(text));
    free(path);
    free(text);
    ms_store_close(s);
    db_remove(&d);
}

/* ---- CSV ---- */

typedef struct csv {
    int nrows, ncols[64];
    char *cell[64][64];
} csv;

/* RFC 4180: fields separated by commas, a quoted field may hold commas,
 * line breaks and doubled quotes; records end with a line break. */
static void csv_parse(const char *s, csv *t)
{
    memset(t, 0, sizeof *t);
    while (*s) {
        assert_true(t->nrows < 64);
        int r = t->nrows++, k = 0;
        for (;;) {
            char *buf = malloc(strlen(s) + 1);
            size_t n = 0;
            if (*s == '"') {
                for (s++;; s++) {
                    assert_true(*s != '\0'); /* unterminated quotes */
                    if (*s == '"' && s[1] == '"')
                        buf[n++] = *s++;
                    else if (*s == '"')
                        break;
                    else
                        buf[n++] = *s;
                }
                s++;
                assert_true(*s == ',' || *s == '\n'); /* nothing after a closing quote */
            } else {
                while (*s && *s != ',' && *s != '\n') {
                    assert_true(*s != '"'); /* quotes only in quoted fields */
                    buf[n++] = *s++;
                }
            }
            buf[n] = '\0';
            assert_true(k < 64);
            t->cell[r][k++] = buf;
            if (*s == ',') {
                s++;
                continue;
            }
            assert_int_equal(*s, '\n'); /* every record ends with a line break */
            s++;
            break;
        }
        t->ncols[r] = k;
    }
}

static void csv_free(csv *t)
{
    for (int r = 0; r < t->nrows; r++)
        for (int k = 0; k < t->ncols[r]; k++)
            free(t->cell[r][k]);
}

static int csv_col(const csv *t, const char *key)
{
    for (int k = 0; k < t->ncols[0]; k++)
        if (!strcmp(t->cell[0][k], key))
            return k;
    fail_msg("no column '%s'", key);
    return -1;
}

static void test_csv(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    char *out = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_CSV);
    csv t;
    csv_parse(out, &t);
    static const char header[] =
        "variant,task,seeds,hidden,activation,init,momentum,lr,params,epochs_mean,epochs_std,"
        "stop_reason,final_val_acc_mean,final_val_acc_std,best_val_acc_mean,best_val_acc_std,"
        "final_train_loss_mean,final_train_loss_std,final_val_loss_mean,final_val_loss_std,"
        "final_train_acc_mean,final_train_acc_std,train_seconds_mean,train_seconds_std,precision,"
        "batch,epochs_total,val_per_epoch,early_stop,shuffle,train_size,val_size,dataset,grid\n";
    assert_memory_equal(out, header, strlen(header));
    assert_int_equal(t.nrows, 4);
    for (int r = 1; r < t.nrows; r++)
        assert_int_equal(t.ncols[r], t.ncols[0]);
    /* The names come back exactly, quotes and all. */
    assert_string_equal(t.cell[1][0], VA);
    assert_string_equal(t.cell[2][0], VB);
    assert_string_equal(t.cell[3][0], VC);
    assert_string_equal(t.cell[2][csv_col(&t, "hidden")], "64,32");
    /* Full precision: the numbers parse back to the exact values. */
    assert_true(strtod(t.cell[1][csv_col(&t, "final_val_acc_mean")], NULL) == 0.75);
    assert_true(strtod(t.cell[1][csv_col(&t, "final_val_acc_std")], NULL) == 0.25);
    assert_true(strtod(t.cell[1][csv_col(&t, "best_val_acc_std")], NULL) == 0.125);
    assert_true(strtod(t.cell[1][csv_col(&t, "lr")], NULL) == 0.1);
    assert_true(strtod(t.cell[2][csv_col(&t, "final_val_acc_mean")], NULL) == 0.9);
    assert_string_equal(t.cell[2][csv_col(&t, "final_val_acc_std")], ""); /* one seed */
    assert_string_equal(t.cell[3][csv_col(&t, "final_val_acc_mean")], ""); /* NULL */
    assert_string_equal(t.cell[1][csv_col(&t, "stop_reason")], "early_stop/epochs");
    assert_string_equal(t.cell[1][csv_col(&t, "seeds")], "3");
    /* every setting (ms_config_default's, epochs 3), the grid none */
    static const char *const settings[][2] = {
        {"epochs_total", "3"}, {"val_per_epoch", "5"}, {"early_stop", "50"},
        {"shuffle", "true"},   {"train_size", "20000"}, {"val_size", "10000"},
        {"dataset", "mnist"},  {"grid", ""}};
    for (int k = 0; k < 8; k++)
        assert_string_equal(t.cell[2][csv_col(&t, settings[k][0])], settings[k][1]);
    csv_free(&t);
    free(out);

    /* The long tables: one row per epoch, per validation. */
    out = export_str(&d, MS_TABLE_EPOCHS, MS_FORMAT_CSV);
    csv_parse(out, &t);
    assert_int_equal(t.nrows, 1 + 7);
    assert_string_equal(out, strstr(out, "variant,seed,epoch,step,train_loss,train_acc,val_loss,"
                                         "val_acc,seconds\n"));
    assert_string_equal(t.cell[1][0], VA);
    assert_string_equal(t.cell[7][0], VB);
    assert_string_equal(t.cell[7][1], "7");
    assert_string_equal(t.cell[6][2], "3"); /* seed 3's last epoch */
    assert_true(strtod(t.cell[6][7], NULL) == 1.0);
    csv_free(&t);
    free(out);
    out = export_str(&d, MS_TABLE_EVALS, MS_FORMAT_CSV);
    csv_parse(out, &t);
    assert_int_equal(t.nrows, 1 + 14);
    assert_string_equal(out, strstr(out, "variant,seed,step,epoch,batch_loss,train_loss,train_acc,"
                                         "val_loss,val_acc\n"));
    assert_true(strtod(t.cell[1][4], NULL) == 0.625); /* batch loss of seed 1 */
    csv_free(&t);
    free(out);
    db_remove(&d);
}

/* ---- Markdown ---- */

/* Pipes that separate cells: not the escaped ones. */
static int md_pipes(const char *line, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\\') {
            i++;
            continue;
        }
        k += line[i] == '|';
    }
    return k;
}

static void check_md(const char *out, int want_rows)
{
    int rows = 0, pipes = -1;
    for (const char *s = out; *s;) {
        const char *e = strchr(s, '\n');
        assert_non_null(e);
        size_t n = (size_t)(e - s);
        assert_true(n > 2 && s[0] == '|' && s[n - 1] == '|');
        int k = md_pipes(s, n);
        if (pipes < 0)
            pipes = k;
        assert_int_equal(k, pipes);
        if (rows == 1) /* the separator row */
            for (size_t i = 0; i < n; i++)
                assert_non_null(strchr("|-:", s[i]));
        rows++;
        s = e + 1;
    }
    assert_int_equal(rows, 2 + want_rows);
}

static void test_markdown(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    char *out = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_MD);
    check_md(out, 3);
    assert_non_null(strstr(out, "| a,\"b\" | 3c | 3 | 64 | sigmoid | uniform | 0 | 0.1 | 50880 | "
                                "2 ± 1 | early_stop/epochs | 75.00 ± 25.00 | 87.50 ± 12.50 | "
                                "0.5000 ± 0.0000 | 2.000 ± 1.000 | 50.00 ± 25.00 | 4.0 ± 2.0 | float32 | 32 | "
                                "3 | 5 | 50 | true | 20000 | 10000 | mnist |  |\n"));
    assert_non_null(strstr(out, "| x_y&z% |  | 1 | 64,32 |"));
    assert_non_null(strstr(out, "| 90.00 | 90.00 | 0.2000 | 0.3000 | 95.00 | 2.0 | float32 | 32 | 3 |"));
    assert_non_null(strstr(out, "| p\\|q\\\\ |")); /* escaped pipe and backslash */
    assert_non_null(strstr(out, "| pending | – | – |"));
    free(out);
    out = export_str(&d, MS_TABLE_EVALS, MS_FORMAT_MD);
    check_md(out, 14);
    free(out);
    db_remove(&d);
}

/* ---- HTML ---- */

static int count(const char *s, const char *what);

static void test_html(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    char *out = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_HTML);
    /* One table, nothing around it; numbers right-aligned. */
    assert_int_equal(strncmp(out, "<table>\n<thead><tr><th>variant</th><th>task</th>"
                                  "<th class=\"num\">seeds</th>", 58), 0);
    assert_string_equal(strstr(out, "</tbody>"), "</tbody>\n</table>\n");
    assert_int_equal(count(out, "</th>"), 27); /* all */
    {
        ms_store *s;
        char *page;
        size_t n;
        assert_int_equal(ms_store_open(d.path, MS_STORE_READONLY, &s), 0);
        const ms_export_opts o = {.table = MS_TABLE_SUMMARY, .format = MS_FORMAT_HTML};
        assert_int_equal(ms_export(s, "study", &o, &page, &n), 0);
        ms_store_close(s);
        assert_int_equal(count(page, "</th>"), 10); /* by default, the ten of a page */
        free(page);
    }
    /* Text escaped, never markup: a name with & and a quote. */
    assert_non_null(strstr(out, "<tr><td>a,&quot;b&quot;</td><td>3c</td>"));
    assert_non_null(strstr(out, "<tr><td>x_y&amp;z%</td>"));
    assert_non_null(strstr(out, "<td class=\"num\">75.00 ± 25.00</td>"));
    assert_non_null(strstr(out, "<td class=\"num\">–</td>")); /* a pending run's blank */
    free(out);
    db_remove(&d);
}

/* ---- LaTeX ---- */

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void test_latex(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    char *out = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_LATEX);
    /* One tabular, nothing around it, booktabs rules in order. */
    assert_int_equal(strncmp(out, "\\begin{tabular}{", 16), 0);
    assert_int_equal(count(out, "\\begin{tabular}"), 1);
    assert_int_equal(count(out, "\\end{tabular}"), 1);
    assert_string_equal(strstr(out, "\\end{tabular}"), "\\end{tabular}\n");
    const char *top = strstr(out, "\\toprule\n"), *mid = strstr(out, "\\midrule\n"),
               *bottom = strstr(out, "\\bottomrule\n");
    assert_true(top && mid && bottom && top < mid && mid < bottom);
    /* Every row has as many cells as the column spec has columns. */
    const char *spec = out + 16;
    int ncols = (int)strcspn(spec, "}");
    int rows = 0;
    for (const char *s = strstr(out, "\\toprule\n") + 9; s < bottom;) {
        const char *e = strchr(s, '\n');
        if (strncmp(s, "\\midrule", 8)) {
            int amp = 0;
            for (const char *p = s; p < e; p++)
                amp += *p == '&' && p[-1] != '\\';
            assert_int_equal(amp, ncols - 1);
            assert_true(e - s > 3 && !strncmp(e - 3, " \\\\", 3));
            rows++;
        }
        s = e + 1;
    }
    assert_int_equal(rows, 1 + 3);
    /* Special characters escaped; none left raw in the names. */
    assert_non_null(strstr(out, "\nx\\_y\\&z\\% & "));
    assert_non_null(strstr(out, "\np\\textbar{}q\\textbackslash{} & "));
    assert_non_null(strstr(out, "\na,\"b\" & 3c & 3 & "));
    assert_non_null(strstr(out, "75.00 $\\pm$ 25.00"));
    assert_non_null(strstr(out, "val acc (\\%)"));
    assert_non_null(strstr(out, "early\\_stop/epochs"));
    free(out);
    db_remove(&d);
}

/* ---- JSON ---- */

typedef struct jp {
    const char *s;
    int objects, strings, nulls;
} jp;

static void ws(jp *p)
{
    while (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r')
        p->s++;
}

static int value(jp *p);

static int string(jp *p)
{
    if (*p->s != '"')
        return -1;
    for (p->s++; *p->s != '"'; p->s++) {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            p->s++;
            if (*p->s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p->s[i]) || !p->s[i])
                        return -1;
                p->s += 4;
            } else if (!*p->s || !strchr("\"\\/bfnrt", *p->s))
                return -1;
        }
    }
    p->s++;
    p->strings++;
    return 0;
}

static int number(jp *p)
{
    const char *s = p->s;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return -1;
    if (*s == '.') {
        if (!(*++s >= '0' && *s <= '9'))
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return -1;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    p->s = s;
    return 0;
}

static int value(jp *p)
{
    ws(p);
    if (*p->s == '{') {
        p->s++;
        ws(p);
        if (*p->s != '}')
            for (;;) {
                ws(p);
                if (string(p) < 0)
                    return -1;
                ws(p);
                if (*p->s++ != ':' || value(p) < 0)
                    return -1;
                ws(p);
                if (*p->s == ',') {
                    p->s++;
                    continue;
                }
                break;
            }
        if (*p->s++ != '}')
            return -1;
        p->objects++;
    } else if (*p->s == '[') {
        p->s++;
        ws(p);
        if (*p->s != ']')
            for (;;) {
                if (value(p) < 0)
                    return -1;
                ws(p);
                if (*p->s == ',') {
                    p->s++;
                    continue;
                }
                break;
            }
        if (*p->s++ != ']')
            return -1;
    } else if (*p->s == '"')
        return string(p);
    else if (!strncmp(p->s, "null", 4))
        p->s += 4, p->nulls++;
    else if (!strncmp(p->s, "true", 4))
        p->s += 4;
    else if (!strncmp(p->s, "false", 5))
        p->s += 5;
    else
        return number(p);
    return 0;
}

/* Valid JSON and nothing after it; the counts in *p. */
static int json_valid(const char *s, jp *p)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    if (value(p) < 0)
        return -1;
    ws(p);
    return *p->s ? -1 : 0;
}

static void test_json(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    jp p;
    /* The validator itself refuses what it should. */
    assert_int_equal(json_valid("[{\"a\": 1.5e-3, \"b\": [null, \"x\\u0041\"]}]", &p), 0);
    static const char *const bad[] = {"[1,]", "{\"a\" 1}", "[01]", "\"a\\x\"", "[nan]", "[1] 2",
                                      "{\"a\": 1", "[\"\n\"]", "[.5]", "[1.]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (json_valid(bad[i], &p) == 0)
            fail_msg("validator accepted '%s'", bad[i]);

    char *out = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_JSON);
    if (json_valid(out, &p) < 0)
        fail_msg("invalid JSON near '%.40s' in:\n%s", p.s, out);
    assert_int_equal(p.objects, 3);
    assert_non_null(strstr(out, "{\"variant\": \"a,\\\"b\\\"\", \"task\": \"3c\", \"seeds\": 3, "));
    assert_non_null(strstr(out, "\"variant\": \"p|q\\\\\""));
    assert_non_null(strstr(out, "\"final_val_acc_mean\": 0.75, \"final_val_acc_std\": 0.25, "));
    assert_non_null(strstr(out, "\"final_val_acc_mean\": 0.9, "
                                "\"final_val_acc_std\": null, "));
    assert_non_null(strstr(out, "\"lr\": 0.1, "));
    /* null: B's 7 stds (one seed); C never ran: its 5 results (mean and
     * std), and the std of its epochs (0) and seconds (0). */
    assert_int_equal(p.nulls, 7 + 10 + 2);
    free(out);
    for (int t = MS_TABLE_EPOCHS; t <= MS_TABLE_EVALS; t++) {
        out = export_str(&d, (ms_table)t, MS_FORMAT_JSON);
        assert_int_equal(json_valid(out, &p), 0);
        assert_int_equal(p.objects, t == MS_TABLE_EPOCHS ? 7 : 14);
        free(out);
    }
    db_remove(&d);
}

/* ---- the command line ---- */

static void test_cli(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    char args[4096], *out, *err, want[4096];

    /* stdout: the same bytes as the library. */
    snprintf(args, sizeof args, "export --db %s --format md --columns all", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    char *lib = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_MD);
    assert_string_equal(out, lib);
    assert_string_equal(err, "");
    free(out), free(err), free(lib);
    /* every format by name, html the last of them (it was refused) */
    static const char *const names[] = {"csv", "md", "latex", "json", "html"};
    for (int k = 0; k < 5; k++) {
        snprintf(args, sizeof args, "export --db %s --format %s --columns all", d.path, names[k]);
        assert_int_equal(ms_run(args, &out, &err), 0);
        lib = export_str(&d, MS_TABLE_SUMMARY, (ms_format)k);
        assert_string_equal(out, lib);
        free(out), free(err), free(lib);
    }

    /* -o: the file, no temporary left, the format from the extension. */
    char *dir = ms_tmpdir();
    snprintf(args, sizeof args, "export --db %s --table evals -o %s/evals.json", d.path, dir);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_string_equal(out, "");
    assert_string_equal(err, "");
    free(out), free(err);
    snprintf(want, sizeof want, "%s/evals.json", dir);
    char *file = ms_read_file(want);
    lib = export_str(&d, MS_TABLE_EVALS, MS_FORMAT_JSON);
    assert_string_equal(file, lib);
    free(file), free(lib);
    DIR *dh = opendir(dir);
    assert_non_null(dh);
    int entries = 0;
    for (struct dirent *e; (e = readdir(dh));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            entries++, assert_string_equal(e->d_name, "evals.json");
    closedir(dh);
    assert_int_equal(entries, 1);
    /* An explicit --format wins over the extension. */
    snprintf(args, sizeof args, "export --db %s --format csv -o %s/evals.json", d.path, dir);
    assert_int_equal(ms_run(args, &out, &err), 0);
    free(out), free(err);
    file = ms_read_file(want);
    assert_int_equal(strncmp(file, "variant,task,seeds,", 19), 0);
    free(file);
    /* -o - is standard output; a name whose format cannot be told is a
     * usage error that writes nothing */
    snprintf(args, sizeof args, "export --db %s --format md --columns all -o -", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    lib = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_MD);
    assert_string_equal(out, lib);
    assert_int_equal(access("-", F_OK), -1);
    free(out), free(err), free(lib);
    snprintf(args, sizeof args, "export --db %s -o %s/out.xlsx", d.path, dir);
    assert_int_equal(ms_run(args, &out, &err), 2);
    snprintf(want, sizeof want,
             "mlpsweep: -o: cannot tell a format from the name '%s/out.xlsx' (.csv, .md, .tex, "
             ".json or .html): give --format\n",
             dir);
    assert_string_equal(err, want);
    snprintf(want, sizeof want, "%s/out.xlsx", dir);
    assert_int_equal(access(want, F_OK), -1);
    free(out), free(err);
    ms_rmtree(dir);
    free(dir);

    /* Columns: a summary in Markdown shows the ten that fit a page, in CSV
     * every key; --columns picks and orders them */
    snprintf(args, sizeof args, "export --db %s --format md", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_int_equal(strncmp(out, "| variant | task | seeds | hidden | params | epochs | val acc (%) "
                                  "| best val acc (%) | val loss | train s |\n", 99), 0);
    free(out), free(err);
    snprintf(args, sizeof args, "export --db %s --columns params,variant,final_val_acc", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    assert_int_equal(strncmp(out, "params,variant,final_val_acc_mean,final_val_acc_std\n", 51), 0);
    free(out), free(err);
    snprintf(args, sizeof args, "export --db %s --format md --columns all", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    lib = export_str(&d, MS_TABLE_SUMMARY, MS_FORMAT_MD); /* the library with "all" */
    assert_string_equal(out, lib);
    free(out), free(err), free(lib);

    /* Errors: one line each; bad names exit 2, a missing database 1. */
    static const struct {
        const char *args, *msg;
        int status;
    } bad[] = {
        {"--table nope", "mlpsweep: unknown table 'nope' (expected summary, epochs, evals or steps)\n", 2},
        {"--format xml", "mlpsweep: unknown format 'xml' (expected csv, md, latex, json or html)\n",
         2},
        {"--frobnicate", "mlpsweep: unknown option '--frobnicate' (see --help)\n", 2},
        {"--table", "mlpsweep: option '--table' needs a value\n", 2},
        {"--columns variant,parms",
         "mlpsweep: --columns: no column 'parms' in the summary table (did you mean 'params'?)\n", 2},
        {"--table evals --columns step,step", "mlpsweep: --columns: 'step' twice\n", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(args, sizeof args, "export --db %s %s", d.path, bad[i].args);
        assert_int_equal(ms_run(args, &out, &err), bad[i].status);
        assert_string_equal(err, bad[i].msg);
        assert_string_equal(out, "");
        free(out), free(err);
    }
    snprintf(args, sizeof args, "export --db %s/missing.db", d.dir);
    assert_int_equal(ms_run(args, &out, &err), 1);
    snprintf(want, sizeof want, "mlpsweep: cannot open '%s/missing.db': no such database\n", d.dir);
    assert_string_equal(err, want);
    assert_string_equal(out, "");
    free(out), free(err);

    /* status --json: one object that a JSON parser reads, the same runs */
    snprintf(args, sizeof args, "status --db %s --json", d.path);
    assert_int_equal(ms_run(args, &out, &err), 0);
    static const char head[] = "{\"runs\": [\n  {\"variant\": ";
    assert_int_equal(strncmp(out, head, sizeof head - 1), 0);
    assert_non_null(strstr(out, "\"sweeps\": [\n  {\"sweep\": \"study\", \"runs\": 5, "));
    char json[2048];
    snprintf(json, sizeof json, "%s/status.json", d.dir);
    ms_write_text(json, out);
    snprintf(args, sizeof args,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d[\"runs\"][0]; "
             "sys.exit(len(d[\"runs\"]) != 5 or d[\"sweeps\"][0][\"done\"] != 4 "
             "or type(r[\"epochs_done\"]) is not int or type(r[\"epochs_total\"]) is not int "
             "or \"epochs\" in r or r[\"error\"] is not None)' %s",
             json);
    assert_int_equal(system(args), 0);
    free(out), free(err);

    assert_int_equal(ms_run("export --help", &out, &err), 0);
    assert_non_null(strstr(out, "--table"));
    free(out), free(err);
    db_remove(&d);
}

/* status --watch: a snapshot, then others until no run is running or
 * pending (here: once the test marks the pending run done), then exit 0. */
static void test_status_watch(void **state)
{
    (void)state;
    db d;
    db_make(&d);
    for (int json = 0; json <= 1; json++) {
        char out[4096];
        snprintf(out, sizeof out, "%s/watch%d.out", d.dir, json);
        ms_db_exec(d.path, "UPDATE runs SET status = 'pending' WHERE id = (SELECT max(id) FROM runs)");
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0)
                _exit(127);
            execl(MS_BIN, MS_BIN, "status", "--db", d.path, "--watch=1", json ? "--json" : NULL,
                  (char *)NULL);
            _exit(127);
        }
        struct stat st;
        for (int i = 0; i < 300 && (stat(out, &st) != 0 || st.st_size == 0); i++)
            usleep(100000); /* the first snapshot */
        assert_true(st.st_size > 0);
        ms_db_exec(d.path, "UPDATE runs SET status = 'done' WHERE status = 'pending'");
        int status = -1;
        for (int i = 0; i < 300; i++) {
            if (waitpid(pid, &status, WNOHANG) == pid)
                break;
            usleep(100000);
        }
        if (!WIFEXITED(status)) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("status --watch did not end once every run was done");
        }
        assert_int_equal(WEXITSTATUS(status), 0);
        char *text = ms_read_file(out);
        const char *first = json ? "\"done\": 4," : "4/5 runs done",
                   *last = json ? "\"done\": 5," : "5/5 runs done";
        assert_non_null(strstr(text, first));
        assert_true(strstr(text, first) < strstr(text, last));
        assert_null(strstr(strstr(text, last) + strlen(last), json ? "\"done\": " : "runs done"));
        if (!json) /* a time and the period head each snapshot; no screen codes in a file */
            assert_non_null(strstr(text, ", every 1 s until no run is running or pending\n"));
        assert_null(strchr(text, '\033'));
        free(text);
    }
    db_remove(&d);
}

/* Numbers in their shortest exact text, hidden lists as check shows them. */
static void test_number_text(void **state)
{
    (void)state;
    static const struct {
        double x;
        const char *text;
    } cases[] = {{0.1, "0.1"}, {30, "30"}, {-0.0, "-0"}, {1.0 / 3, "0.3333333333333333"},
                 {1e-5, "1e-05"}, {5e-324, "5e-324"}, {0.91265, "0.91265"},
                 {123456789012.5, "123456789012.5"}, {1e300, "1e+300"}};
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_string_equal(ms_shortest(buf, cases[i].x), cases[i].text);
        assert_true(strtod(buf, NULL) == cases[i].x);
    }
    for (int i = 0; i < 100000; i++) { /* reads back, and no shorter text would */
        double x = (double)rand() / RAND_MAX * pow(10, rand() % 40 - 20);
        ms_shortest(buf, x);
        assert_true(strtod(buf, NULL) == x);
    }
    static const char *const hidden[][2] = {{"64", "64"},         {"64,64", "64,64"},
                                            {"64,64,64", "3x64"}, {"64,32,64", "64,32,64"},
                                            {"8,8,8,8,8,8,8,8,8,8", "10x8"}};
    char h[64];
    for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++) {
        ms_hidden_short(hidden[i][0], h, sizeof h);
        assert_string_equal(h, hidden[i][1]);
    }
}

/* A short run's time keeps two significant digits: 0.0 told nothing. */
static void test_seconds_decimals(void **state)
{
    (void)state;
    static const struct { double s; int dec; } cases[] = {
        {0, 1}, {NAN, 1}, {-1, 1}, {123.4, 1}, {2.5, 1}, {0.5, 2}, {0.05, 3},
        {0.0032, 4}, {0.00099, 5}, {1e-9, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ms_export_seconds_decimals(cases[i].s), cases[i].dec);
    char buf[32];
    snprintf(buf, sizeof buf, "%.*f", ms_export_seconds_decimals(0.0032), 0.0032);
    assert_string_equal(buf, "0.0032");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds_decimals),
        cmocka_unit_test(test_stat),     cmocka_unit_test(test_summary),
        cmocka_unit_test(test_csv),      cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_latex),    cmocka_unit_test(test_json),
        cmocka_unit_test(test_html),     cmocka_unit_test(test_status_watch),
        cmocka_unit_test(test_cli),      cmocka_unit_test(test_number_text),
    };
    return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
