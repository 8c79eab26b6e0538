/* cmd_export, cmd_plot, cmd_report: tables, figures and the HTML report
 * from a sweep's database. */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_manifest.h"
#include "ms_export.h"
#include "ms_kernels.h"
#include "ms_plot.h"
#include "ms_report.h"
#include "ms_stats.h"
#include "ms_store.h"
#include "ms_sweep.h"
#include "ms_util.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The database and sweep a command reads, resolved like `status`: --db FILE,
 * else db/<manifest name>.db, else the only database in db/. The sweep is
 * the manifest's name, else the database's only sweep. */
typedef struct target {
    ms_manifest m;    /* loaded when a MANIFEST was given (have_m) */
    int have_m;
    ms_manifest recorded; /* else, for figures: the one the sweep ran with (have_rec) */
    int have_rec;
    char *db, *sweep;
    ms_store *st;
} target;

static void target_release(target *t)
{
    ms_store_close(t->st);
    if (t->have_m)
        ms_manifest_release(&t->m);
    if (t->have_rec)
        ms_manifest_release(&t->recorded);
    free(t->db);
    free(t->sweep);
    memset(t, 0, sizeof *t);
}

/* Returns an exit status (MS_EXIT_OK when t is ready). */
static int target_open(target *t, const char *manifest, const char *db)
{
    memset(t, 0, sizeof *t);
    if (manifest) {
        if (ms_manifest_load(manifest, &t->m, 0) < 0)
            return MS_EXIT_USAGE;
        t->have_m = 1;
    }
    int several;
    if (db)
        t->db = ms_strdup(db);
    else if (ms_sweep_find_db(t->have_m ? t->m.name : NULL, &t->db, &several) < 0)
        return several ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    if (ms_store_open(t->db, MS_STORE_READONLY, &t->st) < 0)
        return MS_EXIT_FAIL;
    if (ms_query_sweep(t->st, t->have_m ? t->m.name : NULL, &t->sweep) < 0)
        return MS_EXIT_FAIL;
    return MS_EXIT_OK;
}

/* The manifest: the one given, else the one the sweep last ran with. An
 * exit status (MS_EXIT_OK: *m is set). */
static int target_manifest(target *t, ms_manifest **m)
{
    if (t->have_m)
        *m = &t->m;
    else {
        char *path, *text;
        size_t len;
        if (ms_query_manifest(t->st, t->sweep, &path, &text, &len) < 0)
            return MS_EXIT_FAIL;
        int rc = ms_manifest_parse(path, text, len, &t->recorded, 0);
        free(path);
        free(text);
        if (rc < 0)
            return MS_EXIT_FAIL;
        t->have_rec = 1;
        *m = &t->recorded;
    }
    return MS_EXIT_OK;
}

/* The manifest whose figures are drawn: without a plots: section, the
 * default figures; with --variants, only those. */
static int target_figures(target *t, const char *variants, ms_manifest **m)
{
    int status = target_manifest(t, m);
    if (status != MS_EXIT_OK)
        return status;
    if ((*m)->nplots == 0)
        ms_manifest_default_plots(*m);
    if (variants && ms_manifest_keep_variants(*m, variants) < 0)
        return MS_EXIT_USAGE;
    return MS_EXIT_OK;
}

/* --format from -o's extension when not given. */
static int format_from_path(const char *path, ms_format *f)
{
    static const struct {
        const char *ext;
        ms_format f;
    } ext[] = {{".csv", MS_FORMAT_CSV},   {".md", MS_FORMAT_MD},     {".tex", MS_FORMAT_LATEX},
               {".json", MS_FORMAT_JSON}, {".html", MS_FORMAT_HTML}, {".htm", MS_FORMAT_HTML}};
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t k = strlen(ext[i].ext);
        if (n > k && !strcmp(path + n - k, ext[i].ext)) {
            *f = ext[i].f;
            return 0;
        }
    }
    return -1;
}

/* -o's file (NULL: stdout, also for "-") and, unless --format gave it, the
 * format its extension names; -1 after a message for a name that says none. */
static int output_target(const char **out, int have_format, ms_format *format)
{
    if (*out && !**out)
        return ms_error("-o needs a file name");
    if (*out && !strcmp(*out, "-"))
        *out = NULL; /* -o - is standard output, as usual */
    if (*out && !have_format && format_from_path(*out, format) < 0)
        return ms_error("-o: cannot tell a format from the name '%s' (.csv, .md, .tex, .json or .html): "
                        "give --format",
                        *out);
    return 0;
}

static const char export_usage[] =
    "usage: mlpsweep export [MANIFEST] [--db FILE] [--table summary|epochs|evals|steps]\n"
    "                       [--format csv|md|latex|json] [--columns A,B,...] [-o FILE]\n"
    "\n"
    "Write a table of a sweep's results (its current runs) to stdout or a file.\n"
    "\n"
    "  --db FILE        database (db/<manifest name>.db, or the only database in db/)\n"
    "  --table NAME     summary: one row per variant, mean and std over its seeds (default)\n"
    "                   epochs:  one row per run and epoch\n"
    "                   evals:   one row per run and validation (the learning curves)\n"
    "                   steps:   one row per run and training step (its batch loss)\n"
    "  --format NAME    csv (default), md (GitHub Markdown), latex (booktabs tabular), json,\n"
    "                   html (a <table>); with -o, the extension says which (.csv .md\n"
    "                   .tex .json .html; another extension needs --format)\n"
    "  --columns A,B     these columns, in this order ('all': every one); by default\n"
    "                   all, but a summary in md, latex or html shows the ten that fit a\n"
    "                   page: variant,task,seeds,hidden,params,epochs,final_val_acc,\n"
    "                   best_val_acc,final_val_loss,train_seconds\n"
    "  -o, --output FILE  write FILE atomically instead of stdout ('-': stdout)\n"
    MS_HELP_EXIT;

int cmd_export(int argc, char **argv)
{
    enum { O_DB = 256, O_TABLE, O_FORMAT, O_COLUMNS, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},       {"table", required_argument, 0, O_TABLE},
        {"format", required_argument, 0, O_FORMAT}, {"output", required_argument, 0, 'o'},
        {"columns", required_argument, 0, O_COLUMNS}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *out = NULL, *manifest = NULL, *columns = NULL;
    ms_table table = MS_TABLE_SUMMARY;
    ms_format format = MS_FORMAT_CSV;
    int have_format = 0;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":o:h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case 'o': out = optarg; break;
        case O_TABLE:
            if (ms_table_parse(optarg, &table) < 0)
                rc = ms_error("unknown table '%s' (expected summary, epochs, evals or steps)", optarg);
            break;
        case O_FORMAT:
            if (ms_format_parse(optarg, &format) < 0)
                rc = ms_error("unknown format '%s' (expected csv, md, latex, json or html)", optarg);
            have_format = 1;
            break;
        case O_COLUMNS: columns = optarg; break;
        case 'h':
        case O_HELP: fputs(export_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    if (output_target(&out, have_format, &format) < 0 ||
        ms_export_columns_check(table, columns) < 0)
        return MS_EXIT_USAGE;

    target t;
    int status = target_open(&t, manifest, db);
    char *text = NULL;
    size_t len = 0;
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (out) {
        const char *in[] = {t.db};
        if (ms_output_check(out, in, 1) < 0)
            goto done;
    }
    if (ms_export(t.st, t.sweep, table, format, columns, &text, &len) < 0)
        goto done;
    if (out) {
        if (ms_write_file_atomic(out, text, len) < 0)
            goto done;
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        ms_error("cannot write to standard output");
        goto done;
    }
    status = MS_EXIT_OK;
done:
    free(text);
    target_release(&t);
    return status;
}

static const char plot_usage[] =
    "usage: mlpsweep plot [MANIFEST] [--db FILE] [--out DIR] [--variants A,B,...]\n"
    "\n"
    "Draw the figures of the manifest's 'plots:' section with gnuplot, as DIR/NAME.png,\n"
    "DIR/NAME.svg and DIR/NAME.pdf, from the sweep's database (without a plots:\n"
    "section: one figure per task, or one of every variant). Without MANIFEST, the\n"
    "manifest recorded in the database by the last 'mlpsweep run' is used.\n"
    "\n"
    "  --db FILE        database (db/<manifest name>.db, or the only database in db/)\n"
    "  --out DIR        folder for the figures, created if missing (plots)\n"
    "  --variants A,B   only these variants in every figure (a figure left with\n"
    "                   none is not drawn)\n"
    MS_HELP_EXIT;

int cmd_plot(int argc, char **argv)
{
    enum { O_DB = 256, O_OUT, O_VARIANTS, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},       {"out", required_argument, 0, O_OUT},
        {"variants", required_argument, 0, O_VARIANTS}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *outdir = "plots", *manifest = NULL, *variants = NULL;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case O_OUT: outdir = optarg; break;
        case O_VARIANTS: variants = optarg; break;
        case 'h':
        case O_HELP: fputs(plot_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    if (!*outdir) {
        ms_error("--out needs a folder name");
        return MS_EXIT_USAGE;
    }
    /* First, so a machine without gnuplot learns it before anything else. */
    char *gnuplot = NULL;
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return MS_EXIT_FAIL;
    free(gnuplot);

    target t;
    ms_manifest *m = NULL;
    int n = 0;
    int status = target_open(&t, manifest, db);
    if (status == MS_EXIT_OK)
        status = target_figures(&t, variants, &m);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (ms_plot_all(t.st, t.sweep, m, outdir, &n) < 0)
        goto done;
    fprintf(stderr, "%d of %d figures written to '%s'\n", n, m->nplots, outdir);
    status = MS_EXIT_OK;
done:
    target_release(&t);
    return status;
}

static const char report_usage[] =
    "usage: mlpsweep report [MANIFEST] [--db FILE] [-o FILE] [--variants A,B,...]\n"
    "\n"
    "Write one self-contained HTML page of a sweep: the summary table (mean and\n"
    "standard deviation over seeds), the figures (inline SVG, drawn with gnuplot as\n"
    "'plot' draws them), each variant's runs, the manifest and provenance. It needs\n"
    "no network to be read, and reads on a phone and in print. Without MANIFEST, the\n"
    "manifest recorded in the database by the last 'mlpsweep run' is used.\n"
    "\n"
    "  --db FILE        database (db/<manifest name>.db, or the only database in db/)\n"
    "  -o, --output FILE  the page, written atomically (plots/report.html; its folder\n"
    "                   is created if missing; '-': stdout)\n"
    "  --variants A,B   only these variants in the figures\n"
    MS_HELP_EXIT;

/* Who writes the report, for its provenance. */
static void report_info(ms_report_info *info, char *host, size_t nhost,
                        char *when, size_t nwhen)
{
    if (gethostname(host, nhost) != 0)
        snprintf(host, nhost, "?");
    host[nhost - 1] = '\0';
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, nwhen, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    info->version = MS_VERSION;
    info->compiler = __VERSION__;
    info->isa = ms_kernels_isa();
    info->host = host;
    info->time = when;
}

int cmd_report(int argc, char **argv)
{
    enum { O_DB = 256, O_VARIANTS, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},       {"output", required_argument, 0, 'o'},
        {"variants", required_argument, 0, O_VARIANTS}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *out = "plots/report.html", *manifest = NULL, *variants = NULL;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":o:h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case 'o': out = optarg; break;
        case O_VARIANTS: variants = optarg; break;
        case 'h':
        case O_HELP: fputs(report_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    ms_format html = MS_FORMAT_HTML;
    if (output_target(&out, 1, &html) < 0)
        return MS_EXIT_USAGE;
    char *gnuplot = NULL; /* first, as for plot */
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return MS_EXIT_FAIL;
    free(gnuplot);

    target t;
    ms_manifest *m = NULL;
    char *page = NULL, *dir = NULL, host[256], when[32];
    size_t len = 0;
    int status = target_open(&t, manifest, db);
    if (status == MS_EXIT_OK)
        status = target_figures(&t, variants, &m);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (out) {
        const char *in[] = {t.db};
        if (ms_output_check(out, in, 1) < 0)
            goto done;
    }
    ms_report_info info;
    report_info(&info, host, sizeof host, when, sizeof when);
    if (ms_report_html(t.st, t.sweep, m, &info, &page, &len) < 0)
        goto done;
    if (out) {
        dir = ms_dir_of(out);
        if (ms_mkdir_p(dir) < 0 || ms_write_file_atomic(out, page, len) < 0)
            goto done;
        fprintf(stderr, "report written to '%s'\n", out);
    } else if (fwrite(page, 1, len, stdout) != len || fflush(stdout) != 0) {
        ms_error("cannot write to standard output");
        goto done;
    }
    status = MS_EXIT_OK;
done:
    free(page);
    free(dir);
    target_release(&t);
    return status;
}

/* ---- compare ---- */

/* The values of variants a and b, aligned by seed over the union of their
 * seeds (NAN where one did not run that seed); *n the union's size. */
static int seed_pairs(target *t, const char *a, const char *b, int metric, double **va,
                      double **vb, int *n)
{
    uint64_t *sa = NULL, *sb = NULL;
    double *xa = NULL, *xb = NULL;
    int na = 0, nb = 0, k = 0;
    *va = *vb = NULL;
    *n = 0;
    if (ms_query_seed_values(t->st, t->sweep, a, metric, &sa, &xa, &na) < 0 ||
        ms_query_seed_values(t->st, t->sweep, b, metric, &sb, &xb, &nb) < 0) {
        free(sa), free(sb), free(xa), free(xb);
        return -1;
    }
    *va = ms_malloc((size_t)(na + nb + 1) * sizeof **va);
    *vb = ms_malloc((size_t)(na + nb + 1) * sizeof **vb);
    for (int i = 0, j = 0; i < na || j < nb; k++) { /* merge two sorted seed lists */
        if (j >= nb || (i < na && sa[i] < sb[j]))
            (*va)[k] = xa[i++], (*vb)[k] = NAN;
        else if (i >= na || sb[j] < sa[i])
            (*va)[k] = NAN, (*vb)[k] = xb[j++];
        else
            (*va)[k] = xa[i++], (*vb)[k] = xb[j++];
    }
    *n = k;
    free(sa), free(sb), free(xa), free(xb);
    return 0;
}

/* The sweep (the database's text) and the table's head. */
static void compare_head(const target *t, double level, int claims)
{
    char *sweep = ms_printable(t->sweep);
    printf("sweep '%s', %g %% confidence\n", sweep, 100 * level);
    free(sweep);
    printf("%-16s %-18s %-18s %3s %3s %-7s %10s %10s %10s  %-25s %7s %6s %9s%s\n", "metric", "A",
           "B", "nA", "nB", "test", "mean A", "mean B", "A - B", "95% CI", "t", "df", "p",
           claims ? "  claim      verdict" : "");
}

/* One comparison as a row (the level in the head is the one used). */
static void compare_row(const char *metric, const char *a, const char *b, const ms_comparison *c)
{
    static const char *const kinds[] = {"-", "paired", "Welch"};
    char ci[64] = "-", t[16] = "-", df[16] = "-", p[16] = "-";
    if (c->kind != MS_TEST_NONE) {
        snprintf(ci, sizeof ci, "[%.6g, %.6g]", c->lo, c->hi);
        snprintf(t, sizeof t, "%.3g", c->t);
        snprintf(df, sizeof df, "%.3g", c->df);
        snprintf(p, sizeof p, "%.3g", c->p);
    }
    char *pa = ms_printable(a), *pb = ms_printable(b);
    printf("%-16s %-18s %-18s %3d %3d %-7s %10.6g %10.6g %10.6g  %-25s %7s %6s %9s", metric, pa, pb,
           c->na, c->nb, kinds[c->kind], c->mean_a, c->mean_b, c->diff, ci, t, df, p);
    free(pa), free(pb);
}

static int metric_parse(const char *s, int *out)
{
    for (int i = 0; i < MS_COMPARE_NMETRICS; i++)
        if (!strcmp(s, ms_compare_metrics[i])) {
            *out = i;
            return 0;
        }
    char h[96];
    return ms_error("unknown metric '%s'%s (one of final_val_acc, best_val_acc, final_val_loss, "
                    "best_val_loss, final_train_acc, final_train_loss, epochs_done)",
                    s, ms_hint(h, sizeof h, s, ms_compare_metrics, MS_COMPARE_NMETRICS));
}

/* --level: a confidence level, in (0, 1). */
static int level_parse(const char *s, double *out)
{
    if (ms_parse_double("--level", s, out) < 0)
        return -1;
    if (!(*out > 0 && *out < 1))
        return ms_error("--level: must be in (0, 1) (got %s)", s);
    return 0;
}

static const char compare_usage[] =
    "usage: mlpsweep compare A B [MANIFEST] [--db FILE] [--metric M] [--level L]\n"
    "\n"
    "Compare two variants of a sweep over their seeds (finished runs): the mean of\n"
    "each, their difference A - B with its confidence interval, t, degrees of\n"
    "freedom and two-sided p. Paired by seed over the seeds both ran (at least 2),\n"
    "else Welch's test over every run of each. Student's t from our own\n"
    "incomplete beta function, tested against published tables (docs/reports.md).\n"
    "\n"
    "  --db FILE        database (db/<manifest name>.db, or the only database in db/)\n"
    "  --metric M       final_val_acc (default), best_val_acc, final_val_loss,\n"
    "                   best_val_loss, final_train_acc, final_train_loss, epochs_done\n"
    "  --level L        confidence level of the interval, in (0, 1) (0.95)\n"
    MS_HELP_EXIT;

int cmd_compare(int argc, char **argv)
{
    enum { O_DB = 256, O_METRIC, O_LEVEL, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB},       {"metric", required_argument, 0, O_METRIC},
        {"level", required_argument, 0, O_LEVEL}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *db = NULL, *manifest = NULL;
    int metric = 0;
    double level = 0.95;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case O_METRIC: rc = metric_parse(optarg, &metric); break;
        case O_LEVEL: rc = level_parse(optarg, &level); break;
        case 'h':
        case O_HELP: fputs(compare_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (argc - optind < 2) {
        ms_error("compare needs two variants, A and B (see --help)");
        return MS_EXIT_USAGE;
    }
    const char *a = argv[optind], *b = argv[optind + 1];
    optind += 2;
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    target t;
    double *va = NULL, *vb = NULL;
    int n = 0, status = target_open(&t, manifest, db);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (seed_pairs(&t, a, b, metric, &va, &vb, &n) < 0)
        goto done;
    ms_comparison c = ms_compare(va, vb, n, level);
    if (c.na == 0 || c.nb == 0) {
        ms_error("no finished run of variant '%s' in sweep '%s'", c.na == 0 ? a : b, t.sweep);
        goto done;
    }
    compare_head(&t, level, 0);
    compare_row(ms_compare_metrics[metric], a, b, &c);
    putchar('\n');
    status = MS_EXIT_OK;
done:
    free(va), free(vb);
    target_release(&t);
    return status;
}

/* ---- claims ---- */

static const char claims_usage[] =
    "usage: mlpsweep claims [MANIFEST] [--db FILE] [--level L]\n"
    "\n"
    "Check each claim of the manifest's 'claims:' section (variant a's metric is\n"
    "higher or lower than variant b's) against the sweep's finished runs, as\n"
    "'compare' does, with a verdict: supported (the interval for a - b lies on the\n"
    "claimed side of 0), contradicted (on the other side) or not established.\n"
    "Without MANIFEST, the manifest recorded in the database by the last run.\n"
    "\n"
    "  --db FILE        database (db/<manifest name>.db, or the only database in db/)\n"
    "  --level L        confidence level, in (0, 1) (0.95)\n"
    MS_HELP_EXIT;

int cmd_claims(int argc, char **argv)
{
    enum { O_DB = 256, O_LEVEL, O_HELP };
    static const struct option opts[] = {
        {"db", required_argument, 0, O_DB}, {"level", required_argument, 0, O_LEVEL},
        {"help", no_argument, 0, O_HELP},   {0, 0, 0, 0},
    };
    const char *db = NULL, *manifest = NULL;
    double level = 0.95;
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":h", opts, NULL), rc = 0;
        if (o == -1)
            break;
        switch (o) {
        case O_DB: rc = ms_parse_path("--db", optarg, &db); break;
        case O_LEVEL: rc = level_parse(optarg, &level); break;
        case 'h':
        case O_HELP: fputs(claims_usage, stdout); return MS_EXIT_OK;
        default: rc = ms_option_error(o, argv, opts); break;
        }
        if (rc)
            return MS_EXIT_USAGE;
    }
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    target t;
    ms_manifest *m = NULL;
    int status = target_open(&t, manifest, db);
    if (status == MS_EXIT_OK)
        status = target_manifest(&t, &m);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (m->nclaims == 0) {
        ms_error("'%s' states no claims: add a 'claims:' section (docs/reports.md)", m->path);
        goto done;
    }
    compare_head(&t, level, 1);
    for (int i = 0; i < m->nclaims; i++) {
        const ms_claim *cl = &m->claims[i];
        double *va = NULL, *vb = NULL;
        int n = 0;
        if (seed_pairs(&t, cl->a, cl->b, cl->metric, &va, &vb, &n) < 0)
            goto done;
        ms_comparison c = ms_compare(va, vb, n, level);
        free(va), free(vb);
        compare_row(ms_compare_metrics[cl->metric], cl->a, cl->b, &c);
        printf("  %-10s %s\n", cl->sign > 0 ? "A higher" : "A lower", ms_verdict(&c, cl->sign));
        if (cl->text) {
            char *txt = ms_printable(cl->text);
            printf("    %s\n", txt);
            free(txt);
        }
    }
    status = MS_EXIT_OK;
done:
    target_release(&t);
    return status;
}
