/* cmd_export, cmd_plot, cmd_report: tables, figures and the HTML report
 * from a sweep's database. */
#define _GNU_SOURCE
#include "ms_cli.h"
#include "ms_manifest.h"
#include "ms_export.h"
#include "ms_kernels.h"
#include "ms_plot.h"
#include "ms_query.h"
#include "ms_report.h"
#include "ms_stats.h"
#include "ms_store.h"
#include "ms_sweep.h"
#include "ms_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The sweep a command reads (ms_sweep_target: the manifest given, the
 * database, the sweep in it) and, for figures without a manifest, the one
 * the sweep ran with (have_rec). */
typedef struct target {
    ms_sweep_target s;
    ms_manifest recorded;
    int have_rec;
} target;

static void target_release(target *t)
{
    ms_sweep_target_release(&t->s);
    if (t->have_rec)
        ms_manifest_release(&t->recorded);
    t->have_rec = 0;
}

/* Returns an exit status (MS_EXIT_OK when t is ready). */
static int target_open(target *t, const char *manifest, const char *db)
{
    int usage;
    t->have_rec = 0;
    if (ms_sweep_target_find(&t->s, manifest, db, &usage) < 0)
        return usage ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    return ms_sweep_target_open(&t->s) < 0 ? MS_EXIT_FAIL : MS_EXIT_OK;
}

/* The manifest the sweep last ran with, into t->recorded: 1 when it has
 * one, 0 when it recorded none, -1 after a message. */
static int target_recorded(target *t)
{
    char *path, *text;
    size_t len;
    if (ms_query_manifest(t->s.st, t->s.sweep, &path, &text, &len) < 0)
        return -1;
    if (!text)
        return 0;
    int rc = ms_manifest_parse(path, text, len, &t->recorded, 0);
    free(path);
    free(text);
    t->have_rec = rc == 0;
    return rc < 0 ? -1 : 1;
}

/* The manifest: the one given, else the one the sweep last ran with. An
 * exit status (MS_EXIT_OK: *m is set). */
static int target_manifest(target *t, ms_manifest **m)
{
    if (t->s.have_m) {
        *m = &t->s.m;
        return MS_EXIT_OK;
    }
    int rc = target_recorded(t);
    if (rc == 0)
        ms_error("'%s' holds no manifest for sweep '%s': give the manifest",
                 ms_store_path(t->s.st), t->s.sweep);
    if (rc <= 0)
        return MS_EXIT_FAIL;
    *m = &t->recorded;
    return MS_EXIT_OK;
}

/* ---- runs of earlier invocations (docs/reports.md, "Every run: --all") ---- */

/* A name the command was given, among the sweep's runs (ms_scope.h). Without
 * --all: its current runs, or when the last run has none, its runs of an
 * earlier invocation, added to the scope with a note. Under --all: the
 * group of that name, or for a variant whose every group is VARIANT@N the
 * newest, with a note. *use: the name to read it by (name, or a text of
 * sc). 0, or -1 after a message. */
static int scope_name(const target *t, ms_scope *sc, const char *name, const char **use)
{
    ms_scope_name r;
    *use = name;
    if (ms_scope_resolve(t->s.st, t->s.sweep, name, &r) < 0)
        return -1;
    if (r.found != MS_SCOPE_EARLIER || (sc->all && !strcmp(r.group, name))) {
        ms_scope_name_release(&r);
        return 0;
    }
    int known = sc->n, i = ms_scope_add(sc, r.group, name);
    *use = sc->all ? sc->group[i] : sc->as[i];
    char *pn = ms_printable(name), *pg = ms_printable(r.group);
    if (sc->all)
        ms_error("note: '%s' has no runs by that name; using '%s', the latest of its %d settings",
                 pn, pg, r.groups);
    else if (i == known && r.groups > 1)
        ms_error("note: '%s' is not in the last run; using its %d run%s with the latest of its "
                 "%d earlier settings, '%s' (--all lists every run)",
                 pn, r.runs, r.runs == 1 ? "" : "s", r.groups, pg);
    else if (i == known)
        ms_error("note: '%s' is not in the last run; using its %d run%s from an earlier one "
                 "(--all lists every run)",
                 pn, r.runs, r.runs == 1 ? "" : "s");
    free(pn), free(pg);
    ms_scope_name_release(&r);
    return 0;
}

/* 1 when m has a variant called name, or a variant with a grid of that name. */
static int manifest_knows(const ms_manifest *m, const char *name)
{
    for (int v = 0; v < m->nvariants; v++)
        if (!strcmp(m->variants[v].name, name) ||
            (m->variants[v].grid_of && !strcmp(m->variants[v].grid_of, name)))
            return 1;
    return 0;
}

/* An item of --variants (a comma list), copied; NULL after the last. */
static char *next_item(const char **p)
{
    while (**p == ',')
        (*p)++;
    if (!**p)
        return NULL;
    size_t k = strcspn(*p, ",");
    char *item = strndup(*p, k);
    if (!item)
        ms_error("out of memory"), abort();
    *p += k;
    return item;
}

/* plot and report --variants without --all: an item the manifest lacks may
 * name runs of the database (a variant of an earlier invocation, or
 * VARIANT@N); the figures then show it too (ms_manifest_plot_names). An
 * exit status. */
static int figures_only(const target *t, const char *list, ms_manifest *m)
{
    char **names = ms_malloc((size_t)(m->nvariants + (int)strlen(list) + 1) * sizeof *names);
    int n = 0, history = 0, status = MS_EXIT_OK;
    for (int v = 0; v < m->nvariants; v++)
        if (ms_manifest_listed(m, m->variants[v].name, list))
            names[n++] = ms_strdup(m->variants[v].name);
    const char *p = list;
    for (char *item; status == MS_EXIT_OK && (item = next_item(&p));) {
        ms_scope_name r = {0};
        if (manifest_knows(m, item))
            free(item);
        else if (ms_scope_resolve(t->s.st, t->s.sweep, item, &r) < 0)
            status = MS_EXIT_FAIL, free(item);
        else if (r.found == MS_SCOPE_NONE) { /* the manifest's message, with its hint */
            ms_manifest_check_variants(m, item, "--variants");
            status = MS_EXIT_USAGE;
            free(item);
        } else
            names[n++] = item, history = 1;
        ms_scope_name_release(&r);
    }
    if (status == MS_EXIT_OK && history)
        ms_manifest_plot_names(m, names, n);
    else if (status == MS_EXIT_OK && ms_manifest_keep_variants(m, list) < 0)
        status = MS_EXIT_USAGE;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status;
}

/* 1 when the group g (VARIANT or VARIANT@N) is one --variants asks for: by
 * its name, its variant's, or its variant's grid's. */
static int group_listed(const ms_manifest *m, const char *g, const char *list)
{
    char *v = strndup(g, strcspn(g, "@"));
    if (!v)
        ms_error("out of memory"), abort();
    int yes = ms_list_has(list, g) || ms_manifest_listed(m, v, list);
    free(v);
    return yes;
}

/* plot and report --all: every group of runs of the sweep (with
 * --variants, those it names) in the manifest's figures. An exit status. */
static int figures_all(const target *t, const char *list, ms_manifest *m)
{
    char **g;
    int n, k = 0, status = MS_EXIT_OK;
    if (ms_scope_groups(t->s.st, t->s.sweep, &g, &n) < 0)
        return MS_EXIT_FAIL;
    const char *p = list ? list : "";
    for (char *item; status == MS_EXIT_OK && (item = next_item(&p)); free(item)) {
        int found = manifest_knows(m, item);
        for (int i = 0; i < n && !found; i++)
            found = group_listed(m, g[i], item);
        if (!found && ms_manifest_check_variants(m, item, "--variants") < 0)
            status = MS_EXIT_USAGE;
    }
    for (int i = 0; i < n; i++)
        if (!list || group_listed(m, g[i], list))
            g[k++] = g[i];
        else
            free(g[i]);
    if (status == MS_EXIT_OK)
        ms_manifest_plot_names(m, g, k);
    for (int i = 0; i < k; i++)
        free(g[i]);
    free(g);
    return status;
}

/* Without --all: each variant a figure shows, found among the current runs
 * or else an earlier invocation's (scope_name). An exit status. */
static int figures_scope(const target *t, ms_scope *sc, const ms_manifest *m)
{
    const char *use;
    for (int i = 0; i < m->nplots; i++)
        for (int v = 0; v < m->plots[i].nvariants; v++)
            if (scope_name(t, sc, m->plots[i].variants[v], &use) < 0)
                return MS_EXIT_FAIL;
    return MS_EXIT_OK;
}

/* plot's and report's sweep (target_open) and the manifest whose figures
 * are drawn: without a plots: section, the default figures; with
 * --variants, only those; the runs they show in the scope sc. An exit
 * status; the caller releases t either way. */
static int target_figures(target *t, const char *manifest, const char *db, const char *variants,
                          ms_scope *sc, ms_manifest **m)
{
    int status = target_open(t, manifest, db);
    if (status == MS_EXIT_OK)
        status = target_manifest(t, m);
    if (status != MS_EXIT_OK)
        return status;
    if ((*m)->nplots == 0)
        ms_manifest_default_plots(*m);
    if (sc->all)
        return figures_all(t, variants, *m);
    if (variants && (status = figures_only(t, variants, *m)) != MS_EXIT_OK)
        return status;
    return figures_scope(t, sc, *m);
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

/* -o's file (NULL: stdout) must not be the database read (t's) */
static int output_check(const char *out, const target *t)
{
    const char *in[] = {t->s.db};
    return out ? ms_output_check(out, in, 1) : 0;
}

/* text into -o's file, atomically (with make_dir, its folder created if
 * missing), or to stdout for none; 0, or -1 after a message */
static int output_write(const char *out, const char *text, size_t len, int make_dir)
{
    if (!out) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
            return ms_error("cannot write to standard output");
        return 0;
    }
    char *dir = make_dir ? ms_dir_of(out) : NULL;
    int rc = (dir && ms_mkdir_p(dir) < 0) || ms_write_file_atomic(out, text, len) < 0 ? -1 : 0;
    free(dir);
    return rc;
}

static const ms_usage export_usage = {
    .synopsis =
        "usage: mlpsweep export [MANIFEST] [--db FILE] [--table summary|epochs|evals|steps]\n"
        "                       [--format csv|md|latex|json|html] [--columns A,B,...] [-o FILE]\n"
        "                       [--where FILTER] [--sort COL[,desc]] [--top N]\n"
        "                       [--pivot ROW,COL --metric M] [--all]\n",
    .about = "Write a table of a sweep's results (the runs of its last 'run', or with --all\n"
             "every run) to stdout or a file. --where variant=NAME of a variant not in the\n"
             "last run takes its runs from an earlier one (a note says so).\n",
    .more = "FILTER: conditions COLUMN OP VALUE, OP one of = != < <= > >= ~ (text contains),\n"
            "joined by ',' or 'and'; numbers compare as numbers, a statistic by its mean\n"
            "(KEY_std: its std); quote a text with ' or \". Examples:\n"
            "  mlpsweep export --where 'lr>=0.01,task=3c' --sort final_val_acc,desc\n"
            "  mlpsweep export --pivot lr,batch --metric final_val_acc --format md\n",
};

static int table_name(const ms_option *opt, const char *arg)
{
    if (ms_table_parse(arg, opt->value) < 0)
        return ms_error("unknown table '%s' (expected summary, epochs, evals or steps)", arg);
    return 0;
}

/* --format, and that it was given (-o's extension says it otherwise) */
typedef struct format_opt {
    ms_format format;
    int given;
} format_opt;

static int format_name(const ms_option *opt, const char *arg)
{
    format_opt *f = opt->value;
    f->given = 1;
    if (ms_format_parse(arg, &f->format) < 0)
        return ms_error("unknown format '%s' (expected csv, md, latex, json or html)", arg);
    return 0;
}

/* export --where variant=NAME without --all: NAME found among the current
 * runs or else an earlier invocation's (scope_name). 0, or -1. */
static int export_scope(const target *t, const ms_export_opts *o, ms_scope *sc)
{
    char *names[16];
    const char *use;
    int n = sc->all ? 0 : ms_export_where_variants(o, names, 16), rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = scope_name(t, sc, names[i], &use);
        free(names[i]);
    }
    return rc;
}

int cmd_export(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *manifest = NULL;
    ms_export_opts o = {.table = MS_TABLE_SUMMARY};
    format_opt format = {MS_FORMAT_CSV, 0};
    ms_scope scope = {0};
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_ALL(&scope.all),
        MS_OPT_CALLBACK(0, "table", &o.table, "NAME",
                        "summary: one row per variant, mean and std over its seeds (default)\n"
                        "epochs:  one row per run and epoch\n"
                        "evals:   one row per run and validation (the learning curves)\n"
                        "steps:   one row per run and training step (its batch loss)",
                        table_name),
        MS_OPT_CALLBACK(0, "format", &format, "NAME",
                        "csv (default), md (GitHub Markdown), latex (booktabs tabular), json, "
                        "html (a <table>); with -o, the extension says which (.csv .md .tex .json "
                        ".html; another extension needs --format)",
                        format_name),
        MS_OPT_STRING(0, "columns", &o.columns, "A,B",
                      "these columns, in this order ('all': every one); by default all, but a "
                      "summary in md, latex or html shows the ten that fit a page: "
                      "variant,task,seeds,hidden,params,epochs,final_val_acc,best_val_acc,"
                      "final_val_loss,train_seconds"),
        MS_OPT_STRING(0, "where", &o.where, "FILTER",
                      "only the rows that pass FILTER (below), e.g. 'lr>=0.01 and task=3c'"),
        MS_OPT_STRING(0, "sort", &o.sort, "COL[,desc]",
                      "rows by this column, ascending (or desc); empty values last, ties in "
                      "table order"),
        MS_OPT_INT(0, "top", &o.top, 1, INT_MAX, "N", "the first N rows (after --where, --sort)"),
        MS_OPT_STRING(0, "pivot", &o.pivot, "ROW,COL",
                      "the summary as a grid: a row per value of setting ROW, a column per value "
                      "of COL, each cell the mean over seeds of --metric"),
        MS_OPT_STRING(0, "metric", &o.metric, "M",
                      "the result a --pivot shows, e.g. final_val_acc"),
        MS_OPT_STRING('o', "output", &out, "FILE",
                      "write FILE atomically instead of stdout ('-': stdout)"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &export_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    if (output_target(&out, format.given, &format.format) < 0)
        return MS_EXIT_USAGE;
    o.format = format.format;
    if (ms_export_check(&o) < 0) /* before anything is opened */
        return MS_EXIT_USAGE;

    target t;
    ms_snapshot snap = {0};
    int status = target_open(&t, manifest, db);
    char *text = NULL;
    size_t len = 0;
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (output_check(out, &t) < 0 || export_scope(&t, &o, &scope) < 0 ||
        ms_snapshot_read_in(t.s.st, t.s.sweep, ms_export_reads(o.table), &scope, &snap) < 0 ||
        ms_export_render(&snap, &o, &text, &len) < 0 || output_write(out, text, len, 0) < 0)
        goto done;
    status = MS_EXIT_OK;
done:
    free(text);
    ms_snapshot_release(&snap);
    ms_scope_release(&scope);
    target_release(&t);
    return status;
}

/* plot and report look for gnuplot first, so a machine without it learns
 * that before anything else: 0, or -1 after the message. */
static int gnuplot_first(void)
{
    char *gnuplot = NULL;
    if (ms_plot_find_gnuplot(&gnuplot) < 0)
        return -1;
    free(gnuplot);
    return 0;
}

static const ms_usage plot_usage = {
    .synopsis = "usage: mlpsweep plot [MANIFEST] [--db FILE] [--out DIR] [--variants A,B,...] "
                "[--all]\n",
    .about = "Draw the figures of the manifest's 'plots:' section with gnuplot, as\n"
             "DIR/NAME.png, DIR/NAME.svg and DIR/NAME.pdf, from the sweep's database\n"
             "(without a plots: section: one figure per task, or one of every variant).\n"
             "Without MANIFEST, the manifest recorded in the database by the last\n"
             "'mlpsweep run' is used. A variant not in the last run is drawn from its runs\n"
             "of an earlier one (a note says so); --variants may name such runs, and --all\n"
             "draws every run (a variant's earlier settings beside it, variants the manifest\n"
             "lacks in one more figure, 'earlier'). Each grid of two settings is drawn as\n"
             "a heatmap, DIR/GRID-heatmap.*, of more as parallel coordinates,\n"
             "DIR/GRID-parallel.* (final_val_acc, mean over seeds).\n",
};

int cmd_plot(int argc, char **argv)
{
    const char *db = NULL, *outdir = "plots", *manifest = NULL, *variants = NULL;
    ms_scope scope = {0};
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_ALL(&scope.all),
        MS_OPT_STRING(0, "out", &outdir, "DIR",
                      "folder for the figures, created if missing (plots)"),
        MS_OPT_STRING(0, "variants", &variants, "A,B",
                      "only these variants in every figure (a figure left with none is not drawn)"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &plot_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    if (!*outdir) {
        ms_error("--out needs a folder name");
        return MS_EXIT_USAGE;
    }
    if (gnuplot_first() < 0)
        return MS_EXIT_FAIL;

    target t;
    ms_manifest *m = NULL;
    int n = 0, ng = 0;
    int status = target_figures(&t, manifest, db, variants, &scope, &m);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (ms_plot_all(t.s.st, t.s.sweep, m, &scope, outdir, &n, &ng) < 0)
        goto done;
    if (ng)
        fprintf(stderr, "%d of %d figures and %d grid figure%s written to '%s'\n", n, m->nplots,
                ng, ng == 1 ? "" : "s", outdir);
    else
        fprintf(stderr, "%d of %d figures written to '%s'\n", n, m->nplots, outdir);
    status = MS_EXIT_OK;
done:
    ms_scope_release(&scope);
    target_release(&t);
    return status;
}

static const ms_usage report_usage = {
    .synopsis = "usage: mlpsweep report [MANIFEST] [--db FILE] [-o FILE] [--variants A,B,...] "
                "[--all]\n",
    .about = "Write one self-contained HTML page of a sweep: the summary table (mean and\n"
             "standard deviation over seeds), the figures (inline SVG, drawn with gnuplot as\n"
             "'plot' draws them), each variant's runs, the manifest and provenance. It needs\n"
             "no network to be read, and reads on a phone and in print. Without MANIFEST, the\n"
             "manifest recorded in the database by the last 'mlpsweep run' is used. The runs\n"
             "are those of the last 'run' (a variant not in it: its earlier runs), or with\n"
             "--all every run, as 'plot' and 'export' show them.\n",
};

static int claims_eval(const target *t, ms_scope *sc, const ms_claim *cl, int n, double level,
                       ms_comparison **c, const char ***use);

/* What the report shows beside the runs (t's, of the scope sc; m the
 * manifest of its figures): the manifest as the sweep last ran it (its
 * settings inside; m when it recorded none) and m's claims checked as
 * `claims` checks them. 0, or -1 after a message. */
static int report_input(target *t, ms_scope *sc, const ms_manifest *m, ms_report_input *in)
{
    int rec = t->s.have_m ? target_recorded(t) : 0;
    if (rec < 0)
        return -1;
    in->ran = rec ? &t->recorded : m;
    in->level = 0.95;
    in->nclaims = m->nclaims;
    in->claims = m->claims;
    if (!m->nclaims)
        return 0;
    ms_comparison *c;
    const char **use;
    int rc = claims_eval(t, sc, m->claims, m->nclaims, in->level, &c, &use);
    in->verdicts = c;
    in->names = use;
    return rc;
}

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
    const char *db = NULL, *out = "plots/report.html", *manifest = NULL, *variants = NULL;
    ms_scope scope = {0};
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_ALL(&scope.all),
        MS_OPT_STRING('o', "output", &out, "FILE",
                      "the page, written atomically (plots/report.html; its folder is created if "
                      "missing; '-': stdout)"),
        MS_OPT_STRING(0, "variants", &variants, "A,B", "only these variants in the figures"),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &report_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    ms_format html = MS_FORMAT_HTML;
    if (output_target(&out, 1, &html) < 0)
        return MS_EXIT_USAGE;
    if (gnuplot_first() < 0)
        return MS_EXIT_FAIL;

    target t;
    ms_manifest *m = NULL;
    ms_report_input in = {0};
    char *page = NULL, host[256], when[32];
    size_t len = 0;
    int status = target_figures(&t, manifest, db, variants, &scope, &m);
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (output_check(out, &t) < 0 || report_input(&t, &scope, m, &in) < 0)
        goto done;
    ms_report_info info;
    report_info(&info, host, sizeof host, when, sizeof when);
    if (ms_report_html(t.s.st, t.s.sweep, m, &scope, &info, &in, &page, &len) < 0 ||
        output_write(out, page, len, 1) < 0)
        goto done;
    if (out)
        fprintf(stderr, "report written to '%s'\n", out);
    status = MS_EXIT_OK;
done:
    free(page);
    free((void *)in.verdicts);
    free((void *)in.names);
    ms_scope_release(&scope);
    target_release(&t);
    return status;
}

/* ---- compare ---- */

/* Variant a against b over the finished runs of the scope, by seed. */
static int compare_variants(const target *t, const ms_scope *sc, const char *a, const char *b,
                            int metric, double level, ms_comparison *c)
{
    uint64_t *sa = NULL, *sb = NULL;
    double *xa = NULL, *xb = NULL;
    int na = 0, nb = 0, rc = -1;
    if (ms_query_seed_values(t->s.st, t->s.sweep, sc, a, metric, &sa, &xa, &na) == 0 &&
        ms_query_seed_values(t->s.st, t->s.sweep, sc, b, metric, &sb, &xb, &nb) == 0) {
        *c = ms_compare_seeds(sa, xa, na, sb, xb, nb, level);
        rc = 0;
    }
    free(sa), free(sb), free(xa), free(xb);
    return rc;
}

/* The sweep (the database's text) and the table's head. */
static void compare_head(const target *t, double level, int claims)
{
    char *sweep = ms_printable(t->s.sweep);
    printf("sweep '%s', %g %% confidence\n", sweep, 100 * level);
    free(sweep);
    printf("%-16s %-18s %-18s %3s %3s %-7s %10s %10s %10s  %-25s %7s %6s %9s%s\n", "metric", "A",
           "B", "nA", "nB", "test", "mean A", "mean B", "A - B", "95% CI", "t", "df", "p",
           claims ? "  claim      verdict" : "");
}

/* One comparison as a row (the level in the head is the one used). */
static void compare_row(const char *metric, const char *a, const char *b, const ms_comparison *c)
{
    ms_comparison_text x = ms_comparison_texts(c);
    char *pa = ms_printable(a), *pb = ms_printable(b);
    printf("%-16s %-18s %-18s %3d %3d %-7s %10.6g %10.6g %10.6g  %-25s %7s %6s %9s", metric, pa, pb,
           c->na, c->nb, x.test, c->mean_a, c->mean_b, c->diff, x.ci, x.t, x.df, x.p);
    free(pa), free(pb);
}

static int metric_name(const ms_option *opt, const char *s)
{
    for (int i = 0; i < MS_COMPARE_NMETRICS; i++)
        if (!strcmp(s, ms_compare_metrics[i])) {
            *(int *)opt->value = i;
            return 0;
        }
    char h[96];
    return ms_error("unknown metric '%s'%s (one of final_val_acc, best_val_acc, final_val_loss, "
                    "best_val_loss, final_train_acc, final_train_loss, epochs_done)",
                    s, ms_hint(h, sizeof h, s, ms_compare_metrics, MS_COMPARE_NMETRICS));
}

/* --level: a confidence level, in (0, 1). */
static int level_value(const ms_option *opt, const char *s)
{
    double *out = opt->value;
    if (ms_parse_double("--level", s, out) < 0)
        return -1;
    if (!(*out > 0 && *out < 1))
        return ms_error("--level: must be in (0, 1) (got %s)", s);
    return 0;
}

/* n claims compared over the sweep's finished runs of the scope sc (a name
 * not in it resolved among earlier ones, added to sc): *c each one's
 * comparison, *use its a and b as read (use[2i], use[2i + 1]; texts of sc
 * or cl), both malloc'd. 0, or -1 after a message. */
static int claims_eval(const target *t, ms_scope *sc, const ms_claim *cl, int n, double level,
                       ms_comparison **c, const char ***use)
{
    *c = ms_calloc((size_t)n, sizeof **c);
    *use = ms_calloc(2 * (size_t)n, sizeof **use);
    for (int i = 0; i < n; i++)
        if (scope_name(t, sc, cl[i].a, &(*use)[2 * i]) < 0 ||
            scope_name(t, sc, cl[i].b, &(*use)[2 * i + 1]) < 0)
            return -1;
    for (int i = 0; i < n; i++)
        if (compare_variants(t, sc, (*use)[2 * i], (*use)[2 * i + 1], cl[i].metric, level,
                             &(*c)[i]) < 0)
            return -1;
    return 0;
}

/* compare and claims: each claim compared over the sweep's finished runs
 * (of the last run, a name not in it resolved among earlier ones; with
 * all, every run), one row each. `one` is compare's A and B (no verdict);
 * NULL: the manifest's claims (given, else the one the sweep ran with),
 * each with its verdict and its text. An exit status. */
static int compare_claims(const char *manifest, const char *db, const ms_claim *one, double level,
                          int all)
{
    target t;
    ms_manifest *m = NULL;
    ms_comparison *c = NULL;
    ms_scope sc = {.all = all};
    const char **use = NULL; /* each claim's a and b, as read */
    const ms_claim *cl = one;
    int n = 1, status = target_open(&t, manifest, db);
    if (status == MS_EXIT_OK && !one && (status = target_manifest(&t, &m)) == MS_EXIT_OK)
        cl = m->claims, n = m->nclaims;
    if (status != MS_EXIT_OK)
        goto done;
    status = MS_EXIT_FAIL;
    if (n == 0) {
        ms_error("'%s' states no claims: add a 'claims:' section (docs/reports.md)", m->path);
        goto done;
    }
    if (claims_eval(&t, &sc, cl, n, level, &c, &use) < 0)
        goto done;
    if (one && (c->na == 0 || c->nb == 0)) {
        ms_error("no finished run of variant '%s' in sweep '%s'", c->na == 0 ? one->a : one->b,
                 t.s.sweep);
        goto done;
    }
    compare_head(&t, level, !one);
    for (int i = 0; i < n; i++) {
        compare_row(ms_compare_metrics[cl[i].metric], use[2 * i], use[2 * i + 1], &c[i]);
        if (one) {
            putchar('\n');
            continue;
        }
        printf("  %-10s %s\n", cl[i].sign > 0 ? "A higher" : "A lower",
               ms_verdict(&c[i], cl[i].sign));
        if (cl[i].text) {
            char *txt = ms_printable(cl[i].text);
            printf("    %s\n", txt);
            free(txt);
        }
    }
    status = MS_EXIT_OK;
done:
    free(c);
    free(use);
    ms_scope_release(&sc);
    target_release(&t);
    return status;
}

static const ms_usage compare_usage = {
    .synopsis = "usage: mlpsweep compare A B [MANIFEST] [--db FILE] [--metric M] [--level L] "
                "[--all]\n",
    .about = "Compare two variants of a sweep over their seeds (finished runs): the mean of\n"
             "each, their difference A - B with its confidence interval, t, degrees of\n"
             "freedom and two-sided p. Paired by seed over the seeds both ran (at least 2),\n"
             "else Welch's test over every run of each. Student's t from our own\n"
             "incomplete beta function, tested against published tables (docs/reports.md).\n"
             "A variant not in the last 'run' is compared over its runs of an earlier one (a\n"
             "note says so); VARIANT@N names a variant's earlier settings (see --all).\n",
};

int cmd_compare(int argc, char **argv)
{
    const char *db = NULL, *manifest = NULL;
    int metric = 0, all = 0;
    double level = 0.95;
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_ALL(&all),
        MS_OPT_CALLBACK(0, "metric", &metric, "M",
                        "final_val_acc (default), best_val_acc, final_val_loss, best_val_loss, "
                        "final_train_acc, final_train_loss, epochs_done",
                        metric_name),
        MS_OPT_CALLBACK(0, "level", &level, "L",
                        "confidence level of the interval, in (0, 1) (0.95)", level_value),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &compare_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (argc < 2) {
        ms_error("compare needs two variants, A and B (see --help)");
        return MS_EXIT_USAGE;
    }
    ms_claim one = {.a = argv[0], .b = argv[1], .metric = metric};
    if (ms_optional_manifest(argc - 2, argv + 2, &manifest) < 0)
        return MS_EXIT_USAGE;
    return compare_claims(manifest, db, &one, level, all);
}

/* ---- claims ---- */

static const ms_usage claims_usage = {
    .synopsis = "usage: mlpsweep claims [MANIFEST] [--db FILE] [--level L] [--all]\n",
    .about = "Check each claim of the manifest's 'claims:' section (variant a's metric is\n"
             "higher or lower than variant b's) against the sweep's finished runs, as\n"
             "'compare' does, with a verdict: supported (the interval for a - b lies on the\n"
             "claimed side of 0), contradicted (on the other side) or not established.\n"
             "Without MANIFEST, the manifest recorded in the database by the last run. A\n"
             "variant not in the last 'run' is taken from an earlier one (a note says so).\n",
};

int cmd_claims(int argc, char **argv)
{
    const char *db = NULL, *manifest = NULL;
    int all = 0;
    double level = 0.95;
    const ms_option opts[] = {
        MS_OPT_SWEEP_DB(&db),
        MS_OPT_ALL(&all),
        MS_OPT_CALLBACK(0, "level", &level, "L", "confidence level, in (0, 1) (0.95)", level_value),
        MS_OPT_END(),
    };
    argc = ms_parse_options(argc, argv, opts, &claims_usage);
    if (argc < 0)
        return ms_options_exit(argc);
    if (ms_optional_manifest(argc, argv, &manifest) < 0)
        return MS_EXIT_USAGE;
    return compare_claims(manifest, db, NULL, level, all);
}
