/* ms_report: the words around the tables and figures (report_int.h): what
 * the sweep is about, what it trained on and with which settings, and its
 * claims with their verdicts. Every text from a manifest or a database goes
 * through ms_html_text(). */
#define _GNU_SOURCE
#include "ms_config.h"
#include "ms_stats.h"
#include "ms_util.h"

#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* One distinct text: where it first appears, how many have it. */
typedef struct dvalue {
    const char *v;
    int first, count;
} dvalue;

static int by_value(const void *a, const void *b)
{
    const dvalue *x = a, *y = b;
    int c = strcmp(x->v, y->v);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int by_first(const void *a, const void *b)
{
    const dvalue *x = a, *y = b;
    return (x->first > y->first) - (x->first < y->first);
}

char *rp_distinct(const char *const *v, int n, const char *unit, int count_one)
{
    dvalue *d = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    for (int i = 0; i < n; i++)
        d[i] = (dvalue){v[i], i, 1};
    qsort(d, (size_t)n, sizeof *d, by_value);
    int g = 0;
    for (int i = 0; i < n; i++) {
        if (g && !strcmp(d[g - 1].v, d[i].v))
            d[g - 1].count++;
        else
            d[g++] = d[i];
    }
    qsort(d, (size_t)g, sizeof *d, by_first);
    int shown = 0;
    for (int i = 0; i < g; i++)
        shown += *d[i].v != 0;
    char *out = ms_strdup("");
    for (int i = 0, k = 0; i < g; i++) {
        if (!*d[i].v)
            continue;
        char *next = shown > 1 || count_one
                         ? ms_xstrfmt("%s%s%s (%d %s%s)", out, k++ ? ", " : "", d[i].v,
                                      d[i].count, unit, d[i].count == 1 ? "" : "s")
                         : ms_xstrfmt("%s%s", out, d[i].v);
        free(out);
        out = next;
    }
    free(d);
    return out;
}

/* The description's paragraphs (split at blank lines), each a <p>. */
static void description(FILE *f, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *end = strstr(p, "\n\n");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *para = ms_xstrfmt("%.*s", (int)n, p);
        if (*para) {
            fputs("<p class=\"description\">", f);
            ms_html_text(f, para);
            fputs("</p>\n", f);
        }
        free(para);
        p += n;
        while (*p == '\n')
            p++;
    }
}

/* A count with thousands separators: 20,000. */
static char *thousands(long long x)
{
    char *s = ms_xstrfmt("%lld", x);
    size_t n = strlen(s), commas = (n - 1 - (x < 0)) / 3;
    char *out = ms_malloc(n + commas + 1);
    for (size_t i = 0, o = 0; i <= n; i++) {
        out[o++] = s[i];
        size_t left = n - 1 - i; /* digits after this one */
        if (i + 1 < n && left > 0 && left % 3 == 0 && s[i] != '-')
            out[o++] = ',';
    }
    free(s);
    return out;
}

/* One item of the facts' list: "<li><b>key</b> value</li>", value escaped. */
static void fact(FILE *f, const char *key, const char *value)
{
    fputs("<li><span class=\"label\">", f);
    ms_html_text(f, key);
    fputs("</span> ", f);
    ms_html_text(f, value);
    fputs("</li>\n", f);
}

/* Dataset, images and precision of snap's variants, each one value or
 * several with their counts. */
static void data_facts(FILE *f, const ms_snapshot *snap)
{
    int n = snap->nsummary;
    const char **v = ms_malloc((size_t)(n ? n : 1) * sizeof *v);
    char **own = ms_calloc((size_t)(n ? n : 1), sizeof *own);
    for (int i = 0; i < n; i++) {
        const char *ds = snap->summary[i].dataset;
        v[i] = ds;
        for (int k = 0; k < MS_DATASET_N; k++)
            v[i] = !strcmp(ds, ms_dataset_names[k]) ? ms_dataset_titles[k] : v[i];
    }
    char *ds = rp_distinct(v, n, "variant", 0);
    for (int i = 0; i < n; i++) {
        char *a = thousands(snap->summary[i].train_size), *b = thousands(snap->summary[i].val_size);
        v[i] = own[i] = ms_xstrfmt("%s training, %s validation", a, b);
        free(a), free(b);
    }
    char *sizes = rp_distinct(v, n, "variant", 0);
    for (int i = 0; i < n; i++)
        v[i] = snap->summary[i].precision;
    char *prec = rp_distinct(v, n, "variant", 0);
    fact(f, "data", *ds ? ds : "–");
    fact(f, "images", *sizes ? sizes : "–");
    fact(f, "precision", *prec ? prec : "–");
    free(ds), free(sizes), free(prec);
    for (int i = 0; i < n; i++)
        free(own[i]);
    free(own);
    free(v);
}

void rp_intro(FILE *f, const ms_snapshot *snap, const ms_manifest *m, const ms_manifest *ran)
{
    if (m->description)
        description(f, m->description);
    fputs("<ul class=\"facts\">\n", f);
    if (m->title)
        fact(f, "sweep", snap->sweep);
    data_facts(f, snap);
    /* the command line's are the recorded manifest's settings: list */
    fputs("<li><span class=\"label\">settings</span> ", f);
    for (int i = 0; i < ran->nsettings; i++) {
        fputs(i ? ", <code>" : "<code>", f);
        ms_html_text(f, ran->settings[i]);
        fputs("</code>", f);
    }
    fputs(ran->nsettings ? "" : "none on the command line (the manifest's own values)", f);
    fputs(" (<a href=\"#manifest\">the manifest</a>, <a href=\"#variants\">every variant's "
          "settings</a>)</li>\n</ul>\n",
          f);
}

static void cell(FILE *f, const char *cls, const char *text)
{
    fprintf(f, "<td%s%s%s>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    ms_html_text(f, text);
    fputs("</td>", f);
}

void rp_claims(FILE *f, const ms_report_input *in)
{
    if (!in || !in->nclaims)
        return;
    fprintf(f, "<section id=\"claims\">\n<h2>Claims</h2>\n<p class=\"note\">The manifest's "
               "<code>claims:</code>, each checked over the finished runs as <code>mlpsweep "
               "claims</code> checks it: the difference A − B of the metric with its %g %% "
               "confidence interval, paired by seed (Welch's test when fewer than two seeds "
               "pair). <b>supported</b>: the interval lies on the claimed side of 0; "
               "<b>contradicted</b>: on the other; else <b>not established</b>.</p>\n"
               "<div class=\"scroll\"><table class=\"claims\">\n<thead><tr><th>claim</th>"
               "<th>verdict</th><th>metric</th><th>A</th><th>B</th><th>expect</th>"
               "<th class=\"num\">nA</th><th class=\"num\">nB</th><th>test</th>"
               "<th class=\"num\">mean A</th><th class=\"num\">mean B</th>"
               "<th class=\"num\">A − B</th><th class=\"num\">%g%% CI</th>"
               "<th class=\"num\">t</th><th class=\"num\">df</th><th class=\"num\">p</th>"
               "</tr></thead>\n<tbody>\n",
            100 * in->level, 100 * in->level);
    for (int i = 0; i < in->nclaims; i++) {
        const ms_claim *cl = &in->claims[i];
        const ms_comparison *c = &in->verdicts[i];
        ms_comparison_text x = ms_comparison_texts(c);
        const char *verdict = ms_verdict(c, cl->sign);
        fputs("<tr>", f);
        cell(f, "name", cl->text ? cl->text : "");
        fprintf(f, "<td class=\"verdict %s\">", verdict[0] == 'n' ? "open" : verdict);
        ms_html_text(f, verdict);
        fputs("</td>", f);
        cell(f, NULL, ms_compare_metrics[cl->metric]);
        cell(f, NULL, in->names[2 * i]);
        cell(f, NULL, in->names[2 * i + 1]);
        cell(f, NULL, cl->sign > 0 ? "A higher" : "A lower");
        fprintf(f, "<td class=\"num\">%d</td><td class=\"num\">%d</td>", c->na, c->nb);
        cell(f, NULL, x.test);
        fprintf(f, "<td class=\"num\">%.6g</td><td class=\"num\">%.6g</td>"
                   "<td class=\"num\">%.6g</td>",
                c->mean_a, c->mean_b, c->diff);
        cell(f, "num", x.ci);
        cell(f, "num", x.t);
        cell(f, "num", x.df);
        cell(f, "num", x.p);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table></div>\n</section>\n", f);
}
