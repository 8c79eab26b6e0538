/* ms_report: the HTML report of a sweep (ms_report.h). The page is written
 * into a memory stream section by section; every text that comes from a
 * manifest or a database goes through ms_html_text(). */
#define _GNU_SOURCE
#include "ms_report.h"
#include "ms_config.h"
#include "ms_export.h"
#include "ms_grid.h"
#include "ms_plot.h"
#include "ms_query.h"
#include "ms_util.h"

#include "report_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An SVG as an <img> source: a data URL in base64, so the figures' own ids
 * and styles stay inside each figure and no text of theirs is parsed as the
 * page's HTML. */
static void base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(abc[v >> 18 & 63], f);
        fputc(abc[v >> 12 & 63], f);
        fputc(i + 1 < n ? abc[v >> 6 & 63] : '=', f);
        fputc(i + 2 < n ? abc[v & 63] : '=', f);
    }
}

/* Readable on a phone (one column, tables scroll sideways) and in print
 * (A4, no scrolling, figures not split across pages). */
static const char style[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d1d1d;background:#fff;max-width:1100px;margin:0 auto;padding:1rem}\n"
    "h1{font-size:1.6rem;margin:.3rem 0}h2{font-size:1.25rem;margin:2rem 0 .6rem;"
    "border-bottom:1px solid #ddd;padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.4rem 0 .3rem}\n"
    ".meta,.note{color:#555}.label{color:#555;font-weight:normal}\n"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums;"
    "margin:.4rem 0}\n"
    "th,td{padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;text-align:left;"
    "white-space:nowrap;vertical-align:top}\n"
    "thead th{border-bottom:2px solid #999}td.num,th.num{text-align:right}\n"
    "td.err{white-space:normal;color:#a00}\n"
    "figure{margin:1rem 0;break-inside:avoid}figure img{width:100%;height:auto;"
    "border:1px solid #eee}figcaption{color:#555;font-size:.9rem}\n"
    /* the variant (first) column stays in view while a table scrolls */
    ".scroll tr>:first-child{position:sticky;left:0;background:#fff;z-index:1}"
    "table.ranking tr>:nth-child(2){position:sticky;left:0;background:#fff;z-index:1}\n"
    ".facts{padding-left:1.2rem}.description{font-size:1.05rem}"
    "td.verdict{font-weight:600}td.supported{color:#17702c}td.contradicted{color:#a00}"
    "td.open{color:#555}table.claims td.name{white-space:normal;min-width:12em;max-width:20em}\n"
    /* a figure opens full size on a tap (its own :target, no copy of the
     * image): the page scrolls over it at its natural width */
    "figure>a.open{display:block;cursor:zoom-in}figure a.close{display:none}"
    "figure:target{position:fixed;inset:0;z-index:9;margin:0;padding:.5rem;background:#fff;"
    "overflow:auto}figure:target img{width:var(--w);min-width:var(--w);max-width:none}"
    "figure:target a.close{display:block;position:sticky;left:0;top:0;font-size:1.1rem}\n"
    /* a figure's panels side by side, one under the other on a narrow screen
     * (each its own image: its text keeps its size); one panel no wider
     * than 640px */
    ".panels{display:grid;grid-template-columns:repeat(var(--n),minmax(0,1fr));gap:.5rem;"
    "max-width:calc(var(--n)*640px)}figcaption .title{color:#1d1d1d;font-weight:600}"
    "figure:target .panels{grid-template-columns:repeat(var(--n),max-content);max-width:none}\n"
    "@media (max-width:700px){body{padding:.6rem;font-size:16px}nav a{display:inline-block;"
    "margin:.2rem .8rem .2rem 0}table.claims td.name{min-width:9em;max-width:11em}"
    ".scroll tr>td:first-child,.scroll td.name{min-width:6em;max-width:9em;white-space:normal;"
    "overflow-wrap:anywhere}.panels{grid-template-columns:minmax(0,1fr)}"
    "figure:target .panels{grid-template-columns:max-content}}\n"
    ".gridfig{overflow-x:auto}.gridfig img{max-width:100%}"
    "table.ranking td.name{white-space:normal;min-width:12em;max-width:18em}\n"
    "pre{background:#f6f6f6;padding:.8rem;overflow-x:auto;font-size:13px;line-height:1.35}\n"
    "nav a{margin-right:1rem;color:#333}\n"
    "@media print{body{max-width:none;font-size:10pt;padding:0}.scroll{overflow:visible}"
    "nav{display:none}h2,h3{break-after:avoid}table{break-inside:auto}"
    "pre{white-space:pre-wrap}@page{size:A4;margin:15mm}}\n";

static void put_pct(FILE *f, double x)
{
    if (isnan(x))
        fputs("–", f);
    else
        fprintf(f, "%.2f", 100 * x);
}

static void put_loss(FILE *f, double x)
{
    if (isnan(x))
        fputs("–", f);
    else
        fprintf(f, "%.4g", x);
}

static void header(FILE *f, const ms_snapshot *snap, const ms_manifest *m,
                   const ms_report_info *info, const ms_report_input *in, int grids)
{
    const char *sweep = snap->sweep;
    const ms_query_run_detail *runs = snap->runs;
    int nruns = snap->nruns, done = 0, earlier = 0;
    long epochs = 0;
    for (int i = 0; i < nruns; i++) {
        done += !strcmp(runs[i].status, ms_run_status_name(MS_RUN_DONE));
        epochs += (long)runs[i].epochs_done;
        earlier += !runs[i].current;
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"mlpsweep ",
          f);
    ms_html_text(f, info->version);
    fputs("\">\n<title>", f);
    ms_html_text(f, sweep);
    fputs(": mlpsweep report</title>\n<style>\n", f);
    fputs(style, f);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>", f);
    ms_html_text(f, m->title ? m->title : sweep);
    fputs("</h1>\n", f);
    rp_intro(f, snap, m, in->ran ? in->ran : m);
    fprintf(f, "<p class=\"meta\">%d runs of %d variants, %d done, %ld epochs trained",
            nruns, snap->nsummary, done, epochs);
    /* runs of earlier invocations: --all, or variants not in the last run */
    if (earlier)
        fprintf(f, "; %d of the runs are of earlier invocations%s", earlier,
                snap->all ? " (--all: a variant's earlier settings are VARIANT@N)" : "");
    fputs(". Report written ", f);
    ms_html_text(f, info->time);
    fputs(" by mlpsweep ", f);
    ms_html_text(f, info->version);
    fputs(".</p>\n</header>\n<nav><a href=\"#results\">Results</a>", f);
    fputs(in->nclaims ? "<a href=\"#claims\">Claims</a>" : "", f);
    fputs("<a href=\"#figures\">Figures</a>", f);
    fputs(grids ? "<a href=\"#grids\">Grids</a>" : "", f);
    fputs("<a href=\"#variants\">Variants</a><a href=\"#manifest\">Manifest</a>"
          "<a href=\"#provenance\">Provenance</a></nav>\n",
          f);
}

static int results(FILE *f, const ms_snapshot *snap)
{
    char *table = NULL;
    size_t n = 0;
    const ms_export_opts o = {.table = MS_TABLE_SUMMARY, .format = MS_FORMAT_HTML};
    if (ms_export_render(snap, &o, &table, &n) < 0)
        return -1;
    fputs("<section id=\"results\">\n<h2>Results</h2>\n<p class=\"note\">One row per variant: "
          "mean ± sample standard deviation over its seeds, at the last epoch each run "
          "recorded (best: the best validation of the run). The same table: "
          "<code>mlpsweep export --format html</code>; every column: "
          "<code>--columns all</code>.</p>\n<div class=\"scroll\">\n",
          f);
    fwrite(table, 1, n, f);
    fputs("</div>\n</section>\n", f);
    free(table);
    return 0;
}

/* An SVG as an <img>, its natural width (viewBox) as --w for the full-size
 * view; with min_px > 0 (a grid's) that width kept, shrunk on a narrow
 * screen down to min_px, then scrolled sideways rather than shrunk past
 * reading. */
static void img(FILE *f, const char *alt, const char *svg, size_t len, int min_px)
{
    fputs("<img", f);
    const char *vb = strstr(svg, "viewBox=\"0 0 ");
    int w = 0;
    if (vb && sscanf(vb, "viewBox=\"0 0 %d", &w) == 1 && w > 0 && min_px > 0)
        fprintf(f, " style=\"--w:%dpx;width:%dpx;min-width:%dpx\"", w, w, w < min_px ? w : min_px);
    else if (w > 0)
        fprintf(f, " style=\"--w:%dpx\"", w);
    fputs(" alt=\"", f);
    ms_html_text(f, alt);
    fputs("\" src=\"data:image/svg+xml;base64,", f);
    base64(f, (const unsigned char *)svg, len);
    fputs("\">", f);
}

/* A figure's start: the element (id) and its close link for the full-size
 * view; then the link that opens it. */
static void figure_open(FILE *f, const char *id, const char *cls)
{
    fputs("<figure id=\"", f);
    ms_html_text(f, id);
    fprintf(f, "\" class=\"%s\">\n<a class=\"close\" href=\"#figures\">× close</a>", cls);
}

static void open_link(FILE *f, const char *id)
{
    fputs("<a class=\"open\" href=\"#", f);
    ms_html_text(f, id);
    fputs("\" title=\"full size\">", f);
}

/* A grid's figure: its SVG with a caption (name: the <code>'s text). */
static void figure(FILE *f, const char *id, const char *title, const char *name,
                   const ms_plot_svg *fig, int min_px)
{
    figure_open(f, id, "gridfig");
    open_link(f, id);
    img(f, title, fig->svg, fig->len, min_px);
    fputs("</a>\n<figcaption>", f);
    ms_html_text(f, title);
    fputs(" (<code>", f);
    ms_html_text(f, name);
    fputs("</code>)</figcaption>\n</figure>\n", f);
}

/* A figure of the manifest's: its title and note as the caption above, then
 * its panels, each its own SVG in a grid of npanels columns that a narrow
 * screen stacks (style's .panels); a tap opens them all full size. */
static void panel_figure(FILE *f, const char *id, const ms_plot_svg *fig)
{
    figure_open(f, id, "plotfig");
    fputs("<figcaption><span class=\"title\">", f);
    ms_html_text(f, fig->title);
    fputs("</span> (<code>", f);
    ms_html_text(f, fig->name);
    fputs("</code>)", f);
    if (fig->note) {
        fputs(": ", f);
        ms_html_text(f, fig->note);
    }
    fputs("</figcaption>\n", f);
    open_link(f, id);
    fprintf(f, "<span class=\"panels\" style=\"--n:%d\">\n", fig->npanels);
    for (int k = 0; k < fig->npanels; k++) {
        char *alt = fig->npanels > 1
                        ? ms_xstrfmt("%s, panel %d of %d", fig->title, k + 1, fig->npanels)
                        : ms_strdup(fig->title);
        img(f, alt, fig->panel[k], fig->panel_len[k], 0);
        fputc('\n', f);
        free(alt);
    }
    fputs("</span></a>\n</figure>\n", f);
}

static void figures(FILE *f, const ms_plot_svg *figs, int n)
{
    fputs("<section id=\"figures\">\n<h2>Figures</h2>\n", f);
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (!figs[i].npanels)
            continue;
        any = 1;
        char *id = ms_xstrfmt("fig-%s", figs[i].name);
        panel_figure(f, id, &figs[i]);
        free(id);
    }
    if (!any)
        fputs("<p class=\"note\">No figure has data yet.</p>\n", f);
    fputs("</section>\n", f);
}

/* A value of a grid's metric: an accuracy in % (a difference of two in
 * percentage points, signed), else 4 significant digits. */
static void put_metric(FILE *f, const ms_grid *g, double x, int sign)
{
    if (isnan(x))
        fputs("–", f);
    else if (g->acc)
        fprintf(f, sign ? "%+.2f" : "%.2f", 100 * x);
    else
        fprintf(f, sign ? "%+.4g" : "%.4g", x);
}

static void put_interval(FILE *f, const ms_grid *g, double lo, double hi, int sign)
{
    if (isnan(lo))
        return;
    fputs("[", f);
    put_metric(f, g, lo, sign);
    fputs(", ", f);
    put_metric(f, g, hi, sign);
    fputs("]", f);
}

/* A grid's configurations best first: the mean of the metric over seeds
 * with its t interval, and the paired difference to the best. */
static void grid_ranking(FILE *f, const ms_grid *g)
{
    int pct = (int)lround(100 * g->level);
    fputs("<div class=\"scroll\"><table class=\"ranking\">\n<thead><tr><th class=\"num\">rank"
          "</th><th>variant</th>",
          f);
    for (int a = 0; a < g->naxes; a++) {
        fputs("<th>", f);
        ms_html_text(f, g->axes[a].key);
        fputs("</th>", f);
    }
    fputs(g->search ? "<th class=\"num\">epochs</th>" : "", f);
    fputs("<th class=\"num\">seeds</th><th class=\"num\">", f);
    ms_html_text(f, g->head);
    fprintf(f, "</th><th class=\"num\">%d%% CI</th><th class=\"num\">vs best%s, %d%% CI"
               "</th></tr></thead>\n<tbody>\n",
            pct, g->acc ? " (points)" : "", pct);
    for (int i = 0; i < g->nconfigs; i++) {
        const ms_grid_config *c = &g->configs[i];
        const ms_comparison *d = &c->vs_best;
        fprintf(f, "<tr><td class=\"num\">%d</td><td class=\"name\">", i + 1);
        /* a long name may break after its dots: the table fits a laptop */
        char *name = ms_strdup(c->variant);
        for (char *p = name, *dot; p; p = dot) {
            dot = strchr(p, '.');
            char keep = dot ? dot[1] : 0;
            if (dot)
                *++dot = '\0'; /* the part with its dot */
            ms_html_text(f, p);
            if (dot && keep) {
                *dot = keep;
                fputs("<wbr>", f);
            } else {
                dot = NULL;
            }
        }
        free(name);
        fputs("</td>", f);
        for (int a = 0; a < g->naxes; a++) {
            fputs("<td>", f);
            ms_html_text(f, g->axes[a].values[c->at[a]]);
            fputs("</td>", f);
        }
        if (g->search)
            fprintf(f, "<td class=\"num\">%.4g</td>", c->epochs);
        fprintf(f, "<td class=\"num\">%d</td><td class=\"num\">", c->stat.n);
        put_metric(f, g, c->stat.mean, 0);
        fputs("</td><td class=\"num\">", f);
        put_interval(f, g, c->lo, c->hi, 0);
        fputs("</td><td class=\"num\">", f);
        if (i == 0)
            fputs("best", f);
        else
            put_metric(f, g, d->diff, 1);
        if (i > 0 && d->kind != MS_TEST_NONE) {
            fputs(" ", f);
            put_interval(f, g, d->lo, d->hi, 1);
        }
        fprintf(f, "%s</td></tr>\n", i > 0 && d->kind == MS_TEST_WELCH ? " (Welch)" : "");
    }
    fputs("</tbody>\n</table></div>\n", f);
}

/* Each grid: its figure (heatmap, parallel coordinates, or none for one
 * axis) and its ranking. */
static void grids(FILE *f, const ms_grid *g, int n, const ms_plot_svg *figs)
{
    fputs("<section id=\"grids\">\n<h2>Grids</h2>\n<p class=\"note\">Each grid's variants "
          "ranked by the mean over seeds (the runs with a result); the interval is Student's t "
          "over the seeds, and a difference to the best is paired by seed as "
          "<code>mlpsweep compare</code> does (Welch's test when fewer than two seeds pair). "
          "Two axes: a heatmap of the means (<code>export --where grid=G --pivot A,B</code>); "
          "more: parallel coordinates; one axis: the curves above. A search's trials: the "
          "metric against each setting, each trial's learning curve with its rung decisions "
          "(promoted, stopped), parallel coordinates, and the trials that trained furthest "
          "ranked first (docs/search.md).</p>\n",
          f);
    for (int i = 0; i < n; i++) {
        fputs("<h3 id=\"grid-", f);
        ms_html_text(f, g[i].name);
        fputs("\">", f);
        ms_html_text(f, g[i].name);
        fputs(" <span class=\"label\">(", f);
        for (int a = 0; a < g[i].naxes; a++) {
            fputs(a ? " × " : "", f);
            ms_html_text(f, g[i].axes[a].key);
        }
        fprintf(f, "%s%d %s)</span></h3>\n", g[i].naxes ? ": " : "", g[i].nconfigs,
                g[i].search ? "trials" : "configurations");
        if (g[i].search && g[i].epochs_full > 0)
            fprintf(f, "<p>%lld of %lld epochs trained (%.1f%% of every trial to its epochs): "
                       "pruning stopped the others early (<code>mlpsweep status</code> shows the "
                       "decisions, <code>mlpsweep verify</code> checks them).</p>\n",
                    g[i].epochs_run, g[i].epochs_full,
                    100.0 * (double)g[i].epochs_run / (double)g[i].epochs_full);
        for (int k = 0; k < figs[i].npanels; k++) {
            char *name = ms_grid_fig_name(&g[i], k);
            /* the first keeps the grid's anchor */
            char *id = ms_xstrfmt("fig-grid-%s", k ? name : g[i].name);
            static const char *const search_titles[] = {
                "Each setting", "Learning curves and rung decisions", "Parallel coordinates"};
            char *title = ms_xstrfmt("%s of %s %s",
                                     g[i].search        ? search_titles[k]
                                     : g[i].naxes == 2 ? "Heatmap"
                                                       : "Parallel coordinates",
                                     g[i].search ? "search" : "grid", g[i].name);
            /* a heatmap reads at 360 px (a phone), and so do a search's
             * curves; parallel axes shrunk would not: they scroll sideways
             * at their own width */
            ms_plot_svg one = {.svg = figs[i].panel[k], .len = figs[i].panel_len[k]};
            figure(f, id, title, name, &one,
                   (g[i].naxes == 2 && !g[i].search) || (g[i].search && k == 1) ? 360 : INT_MAX);
            free(id), free(title), free(name);
        }
        grid_ranking(f, &g[i]);
    }
    fputs("</section>\n", f);
}

/* A variant's settings as its summary row holds them, each "KEY VALUE" by
 * the manifest's keys (data.train and data.val as train and val). */
enum { NSETTINGS = 14 };
static void setting_texts(const ms_summary_row *r, char *out[NSETTINGS])
{
    char hidden[1024], lr[32], mom[32];
    ms_hidden_short(r->hidden, hidden, sizeof hidden);
    int k = 0;
    out[k++] = ms_xstrfmt("hidden %s", hidden);
    out[k++] = ms_xstrfmt("activation %s", r->activation);
    out[k++] = ms_xstrfmt("init %s", r->init);
    out[k++] = ms_xstrfmt("lr %s", ms_shortest(lr, r->lr)); /* exact: 0.1 and 0.1000001 differ */
    out[k++] = ms_xstrfmt("momentum %s", ms_shortest(mom, r->momentum));
    out[k++] = ms_xstrfmt("batch %lld", (long long)r->batch);
    out[k++] = ms_xstrfmt("epochs %lld", (long long)r->epochs_total);
    out[k++] = ms_xstrfmt("val_per_epoch %lld", (long long)r->val_per_epoch);
    out[k++] = ms_xstrfmt("early_stop %lld", (long long)r->early_stop);
    out[k++] = ms_xstrfmt("shuffle %s", r->shuffle ? "true" : "false");
    out[k++] = ms_xstrfmt("train %lld", (long long)r->train_size);
    out[k++] = ms_xstrfmt("val %lld", (long long)r->val_size);
    out[k++] = ms_xstrfmt("dataset %s", r->dataset);
    out[k++] = ms_xstrfmt("precision %s", r->precision);
}

/* Texts joined by ", " into f, those with pick[k] == want only; how many. */
static int put_settings(FILE *f, char *const *text, const int *pick, int want)
{
    int n = 0;
    for (int k = 0; k < NSETTINGS; k++)
        if (pick[k] == want) {
            fputs(n++ ? ", " : "", f);
            ms_html_text(f, text[k]);
        }
    return n;
}

/* The settings every variant shares, once (same[k]: setting k is one value
 * across all); each variant's line then shows the others, what differs. */
static void common_settings(FILE *f, char *const *text, int nvariants, int *same)
{
    for (int k = 0; k < NSETTINGS; k++) {
        same[k] = 1;
        for (int v = 1; v < nvariants; v++)
            same[k] &= !strcmp(text[k], text[(size_t)v * NSETTINGS + k]);
    }
    fputs("<p class=\"note\">Every variant: ", f);
    if (!put_settings(f, text, same, 1))
        fputs("no setting in common", f);
    fputs(". Each variant below: the settings that differ between them.</p>\n", f);
}

/* A variant's line: the settings that differ (text, same as above). */
static void settings(FILE *f, const ms_summary_row *r, char *const *text, const int *same)
{
    fputs("<p>", f);
    if (put_settings(f, text, same, 0))
        fputs("; ", f);
    fprintf(f, "%lld parameters", (long long)r->params);
    if (*r->task) {
        fputs(", task ", f);
        ms_html_text(f, r->task);
    }
    fputs("</p>\n", f);
}

static void variants(FILE *f, const ms_manifest *m, const ms_snapshot *snap)
{
    const ms_summary_row *sum = snap->summary;
    const ms_query_run_detail *runs = snap->runs;
    int nruns = snap->nruns;
    int nvar = snap->nsummary, same[NSETTINGS];
    char **text = ms_malloc((size_t)(nvar ? nvar : 1) * NSETTINGS * sizeof *text);
    for (int v = 0; v < nvar; v++)
        setting_texts(&sum[v], text + (size_t)v * NSETTINGS);
    fputs("<section id=\"variants\">\n<h2>Variants</h2>\n", f);
    if (nvar)
        common_settings(f, text, nvar, same);
    for (int v = 0; v < nvar; v++) {
        const char *label = ms_plot_label(m, sum[v].variant);
        fputs("<h3 id=\"v-", f);
        ms_html_text(f, sum[v].variant);
        fputs("\">", f);
        ms_html_text(f, sum[v].variant);
        if (label) {
            fputs(" <span class=\"label\">(", f);
            ms_html_text(f, label);
            fputs(")</span>", f);
        }
        fputs("</h3>\n", f);
        settings(f, &sum[v], text + (size_t)v * NSETTINGS, same);
        fputs("<div class=\"scroll\"><table>\n<thead><tr><th class=\"num\">seed</th><th>status"
              "</th><th class=\"num\">epochs</th><th>stop</th><th class=\"num\">val acc (%)</th>"
              "<th class=\"num\">best val acc (%)</th><th class=\"num\">val loss</th>"
              "<th class=\"num\">train s</th><th>host</th><th class=\"num\">threads</th>"
              "</tr></thead>\n<tbody>\n",
              f);
        for (int i = 0; i < nruns; i++) {
            const ms_query_run_detail *r = &runs[i];
            if (strcmp(r->variant, sum[v].variant) != 0)
                continue;
            fprintf(f, "<tr><td class=\"num\">%llu</td><td>", (unsigned long long)r->seed);
            ms_html_text(f, r->status);
            fprintf(f, "</td><td class=\"num\">%lld/%lld</td><td>", (long long)r->epochs_done,
                    (long long)r->epochs_total);
            ms_html_text(f, r->stop_reason);
            fputs("</td><td class=\"num\">", f);
            put_pct(f, r->final_val_acc);
            fputs("</td><td class=\"num\">", f);
            put_pct(f, r->best_val_acc);
            fputs("</td><td class=\"num\">", f);
            put_loss(f, r->final_val_loss);
            double secs = isnan(r->train_seconds) ? 0 : r->train_seconds;
            fprintf(f, "</td><td class=\"num\">%.*f</td><td>", ms_export_seconds_decimals(secs),
                    secs);
            ms_html_text(f, r->host);
            fputs("</td><td class=\"num\">", f);
            if (r->threads > 0)
                fprintf(f, "%lld", (long long)r->threads);
            fputs("</td></tr>\n", f);
            if (*r->error) {
                fputs("<tr><td></td><td class=\"err\" colspan=\"9\">", f);
                ms_html_text(f, r->error);
                fputs("</td></tr>\n", f);
            }
        }
        fputs("</tbody>\n</table></div>\n", f);
    }
    fputs("</section>\n", f);
    for (size_t i = 0; i < (size_t)nvar * NSETTINGS; i++)
        free(text[i]);
    free(text);
}

/* The manifest as the sweep last ran it (ran: recorded, the command line's
 * settings as its settings: list); m, the one the figures are drawn from,
 * when its text is not that one's. */
static void manifest(FILE *f, const ms_manifest *ran, const ms_manifest *m)
{
    fputs("<section id=\"manifest\">\n<h2>Manifest</h2>\n<p class=\"note\">As the sweep last "
          "ran it (<code>",
          f);
    ms_html_text(f, ran->path);
    fputs("</code>, as recorded in the database, with the settings given on the command line)",
          f);
    if (ran != m && m->text && ran->text && strncmp(ran->text, m->text, strlen(m->text)) != 0) {
        fputs("; <code>", f);
        ms_html_text(f, m->path);
        fputs("</code>, which the figures are drawn from, differs from it", f);
    }
    fputs(".</p>\n<pre>", f);
    ms_html_text(f, ran->text ? ran->text : "");
    fputs("</pre>\n</section>\n", f);
}

/* One row of the provenance table. */
static void prov_row(FILE *f, const char *key, const char *value)
{
    fputs("<tr><th>", f);
    ms_html_text(f, key);
    fputs("</th><td>", f);
    ms_html_text(f, value);
    fputs("</td></tr>\n", f);
}

/* The distinct values of one text field of the runs (at offset off), with
 * the number of runs of each (malloc'd). */
static char *distinct(const ms_query_run_detail *runs, int n, size_t off)
{
    const char **v = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = *(char *const *)((const char *)&runs[i] + off);
    char *out = rp_distinct(v, n, "run", 1);
    free(v);
    return out;
}

static void provenance(FILE *f, const ms_snapshot *snap, const ms_report_info *info)
{
    const ms_query_run_detail *runs = snap->runs;
    const ms_query_sweep_meta *meta = &snap->meta;
    int nruns = snap->nruns;
    fputs("<section id=\"provenance\">\n<h2>Provenance</h2>\n<div class=\"scroll\"><table>\n"
          "<tbody>\n",
          f);
    prov_row(f, "database", snap->db);
    prov_row(f, "sweep", snap->sweep);
    prov_row(f, "sweep recorded", meta->created ? meta->created : "");
    prov_row(f, "last update", meta->updated ? meta->updated : "");
    char *data = meta->data_digest && *meta->data_digest
                     ? ms_xstrfmt("%s, digest %s (its four files as read)", meta->dataset,
                                  meta->data_digest)
                     : ms_strdup("not recorded (a database from before schema version 3)");
    prov_row(f, "data", data);
    free(data);
    static const struct {
        const char *key;
        size_t off;
    } fields[] = {
        {"trained by", offsetof(ms_query_run_detail, version)},
        {"compiler", offsetof(ms_query_run_detail, compiler)},
        {"hosts", offsetof(ms_query_run_detail, host)},
    };
    for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
        char *v = distinct(runs, nruns, fields[k].off);
        prov_row(f, fields[k].key, *v ? v : "–");
        free(v);
    }
    long lo = 0, hi = 0;
    for (int i = 0; i < nruns; i++)
        if (runs[i].threads > 0) {
            lo = lo == 0 || runs[i].threads < lo ? (long)runs[i].threads : lo;
            hi = runs[i].threads > hi ? (long)runs[i].threads : hi;
        }
    char threads[64] = "–";
    if (hi)
        snprintf(threads, sizeof threads, lo == hi ? "%ld per run" : "%ld to %ld per run", lo, hi);
    prov_row(f, "threads", threads);
    char *me = ms_xstrfmt("mlpsweep %s (gcc %s, %s kernels) on %s, %s", info->version,
                          info->compiler, info->isa, info->host, info->time);
    prov_row(f, "report written by", me);
    free(me);
    fputs("</tbody>\n</table></div>\n</section>\n", f);
}

int ms_report_html(ms_store *st, const char *sweep, const ms_manifest *m, const ms_scope *scope,
                   const ms_report_info *info, const ms_report_input *in, char **out,
                   size_t *len)
{
    const ms_report_input none = {.ran = m};
    in = in ? in : &none;
    ms_snapshot snap;
    ms_plot_svg *figs = NULL, *gfigs = NULL;
    ms_grid *g = NULL;
    int nfigs = 0, ng = 0, rc = -1;
    char *buf = NULL;
    size_t n = 0;
    *out = NULL;
    *len = 0;
    /* Every part of the page from one read: its sections agree while a
     * sweep writes the file. */
    unsigned what = MS_SNAP_RUNS | MS_SNAP_SUMMARY | MS_SNAP_META | ms_plot_reads(m);
    if (ms_snapshot_read_in(st, sweep, what, scope, &snap) < 0)
        return -1;
    if (ms_plot_svgs(&snap, m, &figs, &nfigs) < 0 ||
        ms_grid_find(&snap, NULL, 0.95, &g, &ng) < 0 || ms_plot_grid_svgs(g, ng, &gfigs) < 0)
        goto done;
    FILE *f = open_memstream(&buf, &n);
    if (!f) {
        ms_error("out of memory");
        goto done;
    }
    header(f, &snap, m, info, in, ng > 0);
    int bad = results(f, &snap);
    rp_claims(f, in);
    figures(f, figs, nfigs);
    if (ng)
        grids(f, g, ng, gfigs);
    variants(f, m, &snap);
    manifest(f, in->ran ? in->ran : m, m);
    provenance(f, &snap, info);
    fputs("</body>\n</html>\n", f);
    if (fclose(f) != 0) {
        ms_error("out of memory");
        goto done;
    }
    if (bad < 0)
        goto done;
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    ms_snapshot_release(&snap);
    ms_plot_svgs_free(figs, nfigs);
    ms_plot_svgs_free(gfigs, ng);
    ms_grid_free(g, ng);
    return rc;
}
