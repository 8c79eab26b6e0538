/* Tests for ms_manifest: the default study, valid files, and one exact
 * message (with line and column) for each kind of invalid manifest. */
#include "ms_test.h"
#include "ms_config.h"
#include "ms_manifest.h"
#include "ms_util.h"
#include "../src/manifest/manifest_int.h" /* the search's draws */

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include <cmocka.h>

#ifndef MS_TEST_DIR
#define MS_TEST_DIR "tests"
#endif
#ifndef MS_EXPERIMENTS_DIR
#define MS_EXPERIMENTS_DIR "experiments"
#endif
#define MANIFESTS MS_TEST_DIR "/manifests/"

/* Parses text as "t.yaml"; returns the rc and the messages in *out. */
static int parse_text(const char *text, size_t len, int check_dir, char **out)
{
    ms_capture c;
    ms_manifest m;
    ms_capture_start(&c);
    int rc = ms_manifest_parse("t.yaml", text, len, &m, check_dir);
    *out = ms_capture_end(&c);
    if (rc == 0)
        ms_manifest_release(&m);
    else
        assert_null(m.variants); /* released on failure */
    return rc;
}

static int load_file(const char *path, int check_dir, char **out)
{
    ms_capture c;
    ms_manifest m;
    ms_capture_start(&c);
    int rc = ms_manifest_load(path, &m, check_dir);
    *out = ms_capture_end(&c);
    if (rc == 0)
        ms_manifest_release(&m);
    return rc;
}

/* ---- the default study ---- */

static void test_default_study(void **state)
{
    (void)state;
    ms_manifest m;
    ms_run_spec *r = NULL;
    static const char *const names[] = {"baseline",   "improved_weights", "improved_sigmoid",
                                        "momentum",   "hidden_32",        "hidden_128",
                                        "two_layers", "two_layers_60",    "ten_layers"};
    static const char *const tasks[] = {"2c", "3a", "3b", "3c", "4a", "4b", "4d", "4d", "4e"};
    static const int64_t params[] = {50880, 50880, 50880, 50880, 25440,
                                     101760, 54976, 60 * 785 + 60 * 60 + 600, 87744};

    assert_int_equal(ms_manifest_load(MS_EXPERIMENTS_DIR "/tdt4265_a2.yaml", &m, 0), 0);
    assert_string_equal(m.name, "tdt4265-a2");
    assert_string_equal(m.data_dir, MS_EXPERIMENTS_DIR "/../data");
    assert_int_equal(m.train, 20000);
    assert_int_equal(m.val, 10000);
    assert_int_equal(m.nvariants, 9);

    int n = ms_manifest_expand(&m, &r);
    assert_int_equal(n, 9);
    for (int i = 0; i < n; i++) {
        const ms_config *c = &r[i].cfg;
        assert_string_equal(r[i].variant, names[i]);
        assert_string_equal(r[i].task, tasks[i]);
        assert_int_equal(ms_config_params(c, 785), params[i]);
        assert_int_equal(c->seed, 1);
        assert_int_equal(c->train_size, 20000);
        assert_int_equal(c->val_size, 10000);
        assert_int_equal(c->batch, 32);
        assert_int_equal(c->epochs, 50);
        assert_int_equal(c->val_per_epoch, 5);
        assert_int_equal(c->early_stop, 50);
        assert_true(c->shuffle);
        assert_int_equal(c->init, i == 0 ? MS_INIT_UNIFORM : MS_INIT_FANIN_NORMAL);
        assert_int_equal(c->activation, i <= 1 ? MS_ACT_SIGMOID : MS_ACT_IMPROVED_SIGMOID);
        assert_true(c->lr == (i <= 2 ? 0.1 : 0.02));
        assert_true(c->momentum == (i <= 2 ? 0.0 : 0.9));
        assert_int_equal(ms_config_validate(c), 0);
    }
    /* baseline is exactly the built-in default (apart from the seed). */
    ms_config d;
    ms_config_default(&d);
    char *a = ms_config_json(&d), *b = ms_config_json(&r[0].cfg);
    assert_string_equal(a, b);
    /* float32, the default, is not written: the study's hashes predate the
     * key; float64 is */
    assert_null(strstr(a, "precision"));
    free(b);
    d.precision = MS_PREC_F64;
    b = ms_config_json(&d);
    assert_non_null(strstr(b, ",\"precision\":\"float64\"}"));
    assert_int_equal(strncmp(a, b, strlen(a) - 1), 0); /* the same settings before it */
    free(a);
    free(b);
    assert_int_equal(r[8].cfg.nhidden, 10);
    assert_int_equal(m.variants[0].line, 32);
    assert_int_equal(m.variants[0].col, 5);

    /* Its figures: every one against the task 3 momentum model. */
    static const char *const plots[] = {"task2c", "task3", "task4a_4b", "task4d", "task4e"};
    static const int nvar[] = {1, 4, 3, 3, 2};
    assert_int_equal(m.nplots, 5);
    for (int i = 0; i < 5; i++) {
        const ms_plot *p = &m.plots[i];
        assert_string_equal(p->name, plots[i]);
        assert_int_equal(p->nvariants, nvar[i]);
        assert_int_equal(p->npanels, 2);
        assert_int_equal(p->x_epoch, i == 0 ? 0 : MS_PLOT_X_AUTO); /* task2c says step */
        assert_int_equal(p->log_loss, 0);
        if (i == 0) {
            assert_int_equal(p->reference, -1);
            assert_string_equal(p->variants[0], "baseline");
            assert_int_equal(p->panels[0].nmetrics, 2);
            /* the course's figure: the per-step training loss beside the
             * validation loss, then the accuracies */
            assert_int_equal(p->panels[0].metrics[0], MS_METRIC_STEP_LOSS);
            assert_int_equal(p->panels[0].metrics[1], MS_METRIC_VAL_LOSS);
            assert_int_equal(p->panels[1].metrics[0], MS_METRIC_TRAIN_ACC);
            assert_int_equal(p->panels[1].metrics[1], MS_METRIC_VAL_ACC);
        } else {
            assert_true(p->reference >= 0);
            assert_string_equal(p->variants[p->reference], "momentum");
            assert_int_equal(p->panels[0].nmetrics, 1);
            assert_int_equal(p->panels[0].metrics[0], MS_METRIC_VAL_LOSS);
            assert_int_equal(p->panels[1].metrics[0], MS_METRIC_VAL_ACC);
        }
    }
    assert_string_equal(m.plots[2].variants[0], "hidden_32");
    assert_string_equal(m.plots[2].variants[1], "momentum");
    assert_string_equal(m.plots[2].variants[2], "hidden_128");
    free(r);
    ms_manifest_release(&m);
    ms_manifest_release(&m); /* releasing twice is harmless */
}

/* extends: a variant starts from another's settings (a chain, in any
 * order), its own keys on top; name, task and label are its own. The same
 * configurations as writing every key out. */
static void test_extends(void **state)
{
    (void)state;
    static const char chain[] = "name: t\n"
                                "defaults:\n  lr: 0.3\n"
                                "variants:\n"
                                "  - name: c\n    extends: b\n    hidden: [32]\n"
                                "  - name: a\n    task: 3a\n    label: A\n    seeds: [4, 5]\n"
                                "    init: fanin_normal\n"
                                "  - name: b\n    extends: a\n    momentum: 0.5\n    batch: 16\n";
    static const char spelled[] = "name: t\n"
                                  "variants:\n"
                                  "  - name: c\n    hidden: [32]\n    lr: 0.3\n    seeds: [4, 5]\n"
                                  "    init: fanin_normal\n    momentum: 0.5\n    batch: 16\n"
                                  "  - name: a\n    lr: 0.3\n    seeds: [4, 5]\n    init: fanin_normal\n"
                                  "  - name: b\n    lr: 0.3\n    seeds: [4, 5]\n    init: fanin_normal\n"
                                  "    momentum: 0.5\n    batch: 16\n";
    ms_manifest m1, m2;
    assert_int_equal(ms_manifest_parse("t.yaml", chain, strlen(chain), &m1, 0), 0);
    assert_int_equal(ms_manifest_parse("u.yaml", spelled, strlen(spelled), &m2, 0), 0);
    ms_run_spec *r1 = NULL, *r2 = NULL;
    assert_int_equal(ms_manifest_expand(&m1, &r1), 6);
    assert_int_equal(ms_manifest_expand(&m2, &r2), 6);
    for (int i = 0; i < 6; i++) {
        char *a = ms_config_json(&r1[i].cfg), *b = ms_config_json(&r2[i].cfg);
        assert_string_equal(r1[i].variant, r2[i].variant);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    assert_int_equal(r1[0].cfg.hidden[0], 32);
    assert_int_equal((int)r1[1].cfg.seed, 5);
    assert_true(r1[0].cfg.momentum == 0.5);
    /* task and label are not inherited */
    assert_string_equal(m1.variants[1].task, "3a");
    assert_string_equal(m1.variants[1].label, "A");
    assert_string_equal(m1.variants[2].task, "");
    assert_null(m1.variants[2].label);
    free(r1);
    free(r2);
    ms_manifest_release(&m1);
    ms_manifest_release(&m2);
}

/* Settings (KEY=VALUE) and grids, in the parser: values, names, the
 * figures that listed a grid's parent, and the recorded text. */
static void test_settings_parse(void **state)
{
    (void)state;
    static const char text[] =
        "name: t\n"
        "variants:\n"
        "  - name: a\n    label: A\n"
        "  - name: b\n    extends: a\n    grid: {batch: [16, 64], hidden: [[8], [16, 16]]}\n"
        "  - name: c\n    extends: a\n"
        "plots:\n  - name: p\n    variants: [b, c]\n    reference: a\n";
    char *args[] = {"a.lr=0.5", "momentum=0.5", "c.lr=0.1,0.2", "b.hidden=[32]"};
    ms_manifest m, r;
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), args, 4, &m, 0), 0);
    static const char *const names[] = {"a", "b.batch-16", "b.batch-64", "c.lr-0.1", "c.lr-0.2"};
    assert_int_equal(m.nvariants, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(m.variants[i].name, names[i]);
        assert_true(m.variants[i].cfg.momentum == 0.5); /* every variant */
    }
    assert_true(m.variants[0].cfg.lr == 0.5);
    assert_true(m.variants[1].cfg.lr == 0.1); /* a.lr= is a's alone, b extends a's manifest values */
    assert_true(m.variants[3].cfg.lr == 0.1 && m.variants[4].cfg.lr == 0.2);
    assert_int_equal(m.variants[2].cfg.batch, 64);
    assert_int_equal(m.variants[2].cfg.hidden[0], 32); /* b.hidden= ends b's hidden grid */
    assert_null(m.variants[3].label); /* c has no label of its own */
    /* the figure lists the combinations in place of b and c */
    assert_int_equal(m.plots[0].nvariants, 5);
    assert_string_equal(m.plots[0].variants[0], "b.batch-16");
    assert_string_equal(m.plots[0].variants[3], "c.lr-0.2");
    assert_string_equal(m.plots[0].variants[m.plots[0].reference], "a");
    /* the recorded text holds the settings: alone it gives the same runs */
    assert_non_null(strstr(m.text, "settings:\n  - 'a.lr=0.5'\n"));
    assert_int_equal(ms_manifest_parse("r.yaml", m.text, strlen(m.text), &r, 0), 0);
    assert_int_equal(r.nvariants, m.nvariants);
    /* and both say which settings, as written (the report's header shows them) */
    assert_int_equal(m.nsettings, 4);
    assert_int_equal(r.nsettings, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(m.settings[i], args[i]);
        assert_string_equal(r.settings[i], args[i]);
    }
    for (int i = 0; i < m.nvariants; i++) {
        char *x = ms_config_json(&m.variants[i].cfg), *y = ms_config_json(&r.variants[i].cfg);
        assert_string_equal(m.variants[i].name, r.variants[i].name);
        assert_string_equal(x, y);
        free(x), free(y);
    }
    ms_manifest_release(&r);
    ms_manifest_release(&m);
    /* a manifest grid's names, its label carried with the values */
    char *none[] = {NULL};
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), none, 0, &m, 0), 0);
    assert_int_equal(m.nvariants, 6);
    assert_string_equal(m.variants[4].name, "b.batch-64.hidden-16x16");
    assert_int_equal(m.variants[4].cfg.nhidden, 2);
    /* a variant with a grid names all it made (run --only, plot --variants) */
    assert_string_equal(m.variants[4].grid_of, "b");
    assert_null(m.variants[0].grid_of);
    assert_int_equal(ms_manifest_check_variants(&m, "b,c", "--only"), 0);
    assert_true(ms_manifest_listed(&m, "b.batch-16.hidden-8", "b"));
    assert_false(ms_manifest_listed(&m, "c", "b"));
    assert_int_equal(ms_manifest_keep_variants(&m, "b"), 0);
    assert_int_equal(m.nplots, 1);
    assert_int_equal(m.plots[0].nvariants, 4); /* b's four, not c nor the reference a */
    assert_int_equal(m.plots[0].reference, -1);
    ms_manifest_release(&m);
    /* errors name the argument; a grid value that repeats a name */
    ms_capture cap;
    char *bad[] = {"a.lr=0.1,0.1", "b.grid=1"};
    ms_capture_start(&cap);
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), bad, 1, &m, 0), -1);
    char *out = ms_capture_end(&cap);
    assert_string_equal(out, "t.yaml:3:5: grid: the variant name 'a.lr-0.1' is made twice\n");
    free(out);
    ms_capture_start(&cap);
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), bad + 1, 1, &m, 0), -1);
    out = ms_capture_end(&cap);
    assert_string_equal(out, "argument 'b.grid=1': unknown key 'grid'\n");
    free(out);
    /* a list where a grid was meant and the other way round: one line, the form to write */
    static const char *const hint[][2] = {
        {"seeds=1,2,3", "argument 'seeds=1,2,3': seeds: a list of seeds is written "
                        "seeds=[1,2,3] (several lists, seeds=[1,2],[3,4], make a grid of them)\n"},
        {"a.lr=[0.1,0.2]", "argument 'a.lr=[0.1,0.2]': lr: expected one value, got a list; a "
                           "grid over values is written a.lr=0.1,0.2\n"},
        {"hidden=[64,", "argument 'hidden=[64,': syntax error: did not find expected node "
                        "content (while parsing a flow node that starts at character 1 of the "
                        "value)\n"},
        {"data.train=0", "argument 'data.train=0': data.train: must be in 1..60000 (got 0)\n"},
        {"data.val=10,20", "argument 'data.val=10,20': data.val: one value (the data sizes make "
                           "no grid)\n"},
    };
    /* the data sizes, as settings too: the last of each wins, one value each */
    char *sizes[] = {"data.train=500", "data.val=200", "data.train=2000"};
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), sizes, 3, &m, 0), 0);
    assert_int_equal(m.train, 2000);
    assert_int_equal(m.val, 200);
    assert_int_equal(m.variants[0].cfg.train_size, 2000);
    ms_manifest_release(&m);
    for (size_t i = 0; i < sizeof hint / sizeof *hint; i++) {
        char *one[] = {(char *)hint[i][0]};
        ms_capture_start(&cap);
        assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), one, 1, &m, 0), -1);
        out = ms_capture_end(&cap);
        assert_string_equal(out, hint[i][1]);
        free(out);
    }
}

/* A search's manifest text: method, trials and the space's lines in order. */
static char *search_manifest(const char *method, int trials, const char *const *space, int n)
{
    char *t = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&t, &len);
    fprintf(f, "name: t\ndefaults: {seeds: [1, 2]}\nvariants:\n  - name: s\n    search:\n"
               "      method: %s\n      seed: 7\n      trials: %d\n      space:\n",
            method, trials);
    for (int i = 0; i < n; i++)
        fprintf(f, "        %s\n", space[i]);
    fclose(f);
    return t;
}

/* A pruned search's max is its trials' epochs: from prune: max, or from an
 * epochs=N on the command line, which wins as a setting does. */
static void test_prune_max_from_settings(void **state)
{
    (void)state;
    const char *text = "name: t\nvariants:\n  - name: s\n    search:\n      trials: 3\n"
                       "      space: {lr: {uniform: [0.01, 0.1]}}\n"
                       "    prune: {type: asha, max: 27}\n";
    ms_manifest m;
    assert_int_equal(ms_manifest_parse("t.yaml", text, strlen(text), &m, 0), 0);
    assert_int_equal(m.variants[0].prune.max, 27);
    assert_int_equal(m.variants[0].cfg.epochs, 27);
    assert_int_equal(m.variants[0].pruned, 1);
    ms_manifest_release(&m);
    char *quick[] = {"epochs=3"};
    assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), quick, 1, &m, 0), 0);
    assert_int_equal(m.variants[2].prune.max, 3);
    assert_int_equal(m.variants[2].cfg.epochs, 3);
    ms_manifest_release(&m);
}

/* Trials: pure functions of (method, seed, trial, key): raising `trials`
 * keeps the trials before, the order the space is written in changes
 * nothing, values stay in their ranges, a setting fixes a key and leaves the
 * other draws as they were, and the first 2^m Sobol points put one draw in
 * each stratum of 2^-m of every key. */
static void test_search_trials(void **state)
{
    (void)state;
    static const char *const space[] = {
        "lr: {loguniform: [1.0e-3, 0.5]}", "momentum: {uniform: [0.0, 0.95], step: 0.05}",
        "hidden: {choice: [[32], [64], [128], [64, 64]]}", "batch: {int: [16, 128], log: true}"};
    static const char *const moved[] = {space[3], space[1], space[0], space[2]};
    for (int sobol = 0; sobol < 2; sobol++) {
        const char *method = sobol ? "sobol" : "random";
        char *a = search_manifest(method, 60, space, 4), *b = search_manifest(method, 200, space, 4),
             *c = search_manifest(method, 60, moved, 4);
        ms_manifest ma, mb, mc, mf;
        assert_int_equal(ms_manifest_parse("t.yaml", a, strlen(a), &ma, 0), 0);
        assert_int_equal(ms_manifest_parse("t.yaml", b, strlen(b), &mb, 0), 0);
        assert_int_equal(ms_manifest_parse("t.yaml", c, strlen(c), &mc, 0), 0);
        char *fix[] = {"s.lr=0.05"};
        assert_int_equal(ms_manifest_parse_args("t.yaml", a, strlen(a), fix, 1, &mf, 0), 0);
        assert_int_equal(ma.nvariants, 60);
        assert_int_equal(mb.nvariants, 200);
        int seen[4] = {0};
        for (int i = 0; i < 60; i++) {
            const ms_config *x = &ma.variants[i].cfg;
            char name[16];
            snprintf(name, sizeof name, "s.t%d", i + 1);
            assert_string_equal(ma.variants[i].name, name);
            assert_string_equal(ma.variants[i].grid_of, "s");
            assert_int_equal(ma.variants[i].nseeds, 2);
            char *ja = ms_config_json(x), *jb = ms_config_json(&mb.variants[i].cfg),
                 *jc = ms_config_json(&mc.variants[i].cfg);
            assert_string_equal(ja, jb);
            assert_string_equal(ja, jc);
            free(ja), free(jb), free(jc);
            assert_true(x->lr >= 1e-3 && x->lr <= 0.5);
            double k = x->momentum / 0.05;
            assert_true(x->momentum >= 0 && x->momentum <= 0.95 && fabs(k - round(k)) < 1e-9);
            assert_true(x->batch >= 16 && x->batch <= 128);
            seen[x->nhidden == 2 ? 3 : x->hidden[0] == 32 ? 0 : x->hidden[0] == 64 ? 1 : 2]++;
            const ms_config *y = &mf.variants[i].cfg; /* lr fixed, the rest as drawn */
            assert_true(y->lr == 0.05 && y->momentum == x->momentum && y->batch == x->batch);
        }
        for (int h = 0; h < 4; h++)
            assert_true(seen[h] > 0); /* 60 draws reach every choice */
        ms_manifest_release(&ma), ms_manifest_release(&mb), ms_manifest_release(&mc);
        ms_manifest_release(&mf);
        free(a), free(b), free(c);
    }
    static const char *const keys[] = {"lr", "momentum", "batch", "epochs", "hidden",
                                       "activation", "init", "val_per_epoch", "early_stop",
                                       "shuffle", "precision"};
    assert_true(mf_search_sobol_max() >= (int)(sizeof keys / sizeof *keys));
    for (int d = 0; d < mf_search_sobol_max() && d < (int)(sizeof keys / sizeof *keys); d++)
        for (int m = 1; m <= 8; m++) {
            int n = 1 << m, *hit = calloc((size_t)n, sizeof *hit);
            for (int k = 0; k < n; k++) {
                double u = mf_search_draw(MF_SEARCH_SOBOL, 7, k, d, keys[d]);
                assert_true(u >= 0 && u < 1);
                hit[(int)(u * n)]++;
            }
            for (int j = 0; j < n; j++)
                assert_int_equal(hit[j], 1);
            free(hit);
        }
    /* random draws differ by key and by trial, and repeat exactly */
    assert_true(mf_search_draw(MF_SEARCH_RANDOM, 7, 3, 0, "lr") ==
                mf_search_draw(MF_SEARCH_RANDOM, 7, 3, 5, "lr"));
    assert_true(mf_search_draw(MF_SEARCH_RANDOM, 7, 3, 0, "lr") !=
                mf_search_draw(MF_SEARCH_RANDOM, 7, 3, 0, "momentum"));
    assert_true(mf_search_draw(MF_SEARCH_RANDOM, 7, 3, 0, "lr") !=
                mf_search_draw(MF_SEARCH_RANDOM, 8, 3, 0, "lr"));
}

/* nv variants v0, v1, ..., each with an lr x momentum grid of nlr x nmom
 * values (lr 0.0001, 0.0002, ...; momentum 0.000, 0.001, ...) and, when
 * seeds is not NULL, that flow text as its `grid:`'s seeds axis. malloc'd. */
static char *grid_manifest(int nv, int nlr, int nmom, const char *seeds)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fputs("name: t\nvariants:\n", f);
    for (int v = 0; v < nv; v++) {
        fprintf(f, "  - name: v%d\n    grid:\n      lr: [", v);
        for (int k = 0; k < nlr; k++)
            fprintf(f, "%s0.%04d", k ? ", " : "", k + 1);
        fputs("]\n      momentum: [", f);
        for (int k = 0; k < nmom; k++)
            fprintf(f, "%s0.%03d", k ? ", " : "", k);
        fputs("]\n", f);
        if (seeds)
            fprintf(f, "      seeds: %s\n", seeds);
    }
    fclose(f);
    return buf;
}

/* The run limit is checked from the grids' sizes before anything is
 * expanded, and the names a grid makes are checked for repeats by sorting.
 * 300,000 combinations used to be expanded and compared pairwise (minutes of
 * CPU: this test hung) before the limit said no, at 1:1. */
static void test_grid_limit(void **state)
{
    (void)state;
    char *text, *out;
    ms_manifest m;

    text = grid_manifest(30, 100, 100, NULL); /* 300,000 runs */
    assert_true(strlen(text) < MS_MANIFEST_MAX_BYTES);
    assert_int_equal(parse_text(text, strlen(text), 0, &out), -1);
    assert_string_equal(out, "t.yaml:3:3: variants: too many runs after the grids (300000, "
                             "limit 100000)\n");
    free(out);
    free(text);

    /* at the limit: 100,000 variants, each name made once */
    text = grid_manifest(10, 100, 100, NULL);
    assert_int_equal(ms_manifest_parse("t.yaml", text, strlen(text), &m, 0), 0);
    assert_int_equal(m.nvariants, MS_MANIFEST_MAX_RUNS);
    assert_string_equal(m.variants[0].name, "v0.lr-0.0001.momentum-0.000");
    assert_string_equal(m.variants[MS_MANIFEST_MAX_RUNS - 1].name, "v9.lr-0.0100.momentum-0.099");
    ms_manifest_release(&m);
    free(text);

    /* one grid over the limit on its own: reported at it */
    text = grid_manifest(1, 400, 300, NULL);
    assert_int_equal(parse_text(text, strlen(text), 0, &out), -1);
    assert_string_equal(out, "t.yaml:5:11: grid: too many combinations (limit 100000)\n");
    free(out);
    free(text);

    /* seeds count: a grid's combinations times the variant's seeds ... */
    text = grid_manifest(1, 100, 100, NULL);
    char *seeded = ms_xstrfmt("%s    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", text);
    assert_int_equal(parse_text(seeded, strlen(seeded), 0, &out), -1);
    assert_string_equal(out, "t.yaml:3:3: variants: too many runs after the grids (110000, "
                             "limit 100000)\n");
    free(out);
    free(seeded);
    free(text);
    /* ... or the seeds of each of the seeds axis' values */
    text = grid_manifest(1, 100, 100, "[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]");
    assert_int_equal(ms_manifest_parse("t.yaml", text, strlen(text), &m, 0), 0);
    ms_run_spec *r = NULL;
    assert_int_equal(ms_manifest_expand(&m, &r), MS_MANIFEST_MAX_RUNS);
    free(r);
    ms_manifest_release(&m);
    free(text);
    text = grid_manifest(1, 100, 100, "[[1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]");
    assert_int_equal(parse_text(text, strlen(text), 0, &out), -1);
    assert_string_equal(out, "t.yaml:3:3: variants: too many runs after the grids (110000, "
                             "limit 100000)\n");
    free(out);
    free(text);
}

/* A figure that lists a variant with a grid lists all it made: counted
 * before the figures are rewritten. 400 figures of a 14 KB manifest listing a
 * grid of 100,000 once took 2.3 GB (1 MiB of them: far more than any
 * machine has). */
static void test_plot_curves_limit(void **state)
{
    (void)state;
    char *grid = grid_manifest(1, 100, 100, NULL), *out; /* 10,000 combinations */
    for (int nplots = 100; nplots <= 101; nplots++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_non_null(f);
        fprintf(f, "%splots:\n", grid);
        for (int p = 0; p < nplots; p++)
            fprintf(f, "  - {name: p%d, variants: [v0]}\n", p);
        fclose(f);
        ms_manifest m;
        if (nplots == 100) { /* at the limit */
            assert_int_equal(ms_manifest_parse("t.yaml", buf, len, &m, 0), 0);
            assert_int_equal(m.plots[99].nvariants, 10000);
            assert_string_equal(m.plots[99].variants[9999], "v0.lr-0.0100.momentum-0.099");
            ms_manifest_release(&m);
        } else {
            assert_int_equal(parse_text(buf, len, 0, &out), -1);
            assert_string_equal(out, "t.yaml:8:3: plots: too many curves after the grids (1010000, "
                                     "limit 1000000)\n");
            free(out);
        }
        free(buf);
    }
    free(grid);
}

/* Seeds up to 2^63 - 1, the largest the database stores: in the manifest,
 * in a setting (check m.yaml 'seeds=[...]'), and no further. */
static void test_seed_limit(void **state)
{
    (void)state;
    static const char text[] = "name: t\nvariants:\n  - name: a\n    seeds: [0, 9223372036854775807]\n";
    ms_manifest m;
    ms_run_spec *r = NULL;
    assert_int_equal(ms_manifest_parse("t.yaml", text, strlen(text), &m, 0), 0);
    assert_int_equal(ms_manifest_expand(&m, &r), 2);
    assert_true(r[1].cfg.seed == MS_MAX_SEED);
    assert_true(MS_MAX_SEED == (uint64_t)INT64_MAX);
    free(r);
    ms_manifest_release(&m);

    char *big[] = {"seeds=[9223372036854775808]", "a.seeds=[3],[18446744073709551616]"};
    for (int i = 0; i < 2; i++) {
        ms_capture cap;
        ms_capture_start(&cap);
        assert_int_equal(ms_manifest_parse_args("t.yaml", text, strlen(text), big + i, 1, &m, 0), -1);
        char *out = ms_capture_end(&cap);
        char want[256];
        snprintf(want, sizeof want, "argument '%s': seeds: seed must be <= 9223372036854775807 "
                 "(got %s)\n", big[i], i ? "18446744073709551616" : "9223372036854775808");
        assert_string_equal(out, want);
        free(out);
    }
}

static void test_valid_full(void **state)
{
    (void)state;
    ms_manifest m;
    ms_run_spec *r = NULL;
    assert_int_equal(ms_manifest_load(MANIFESTS "valid_full.yaml", &m, 1), 0);
    assert_string_equal(m.path, MANIFESTS "valid_full.yaml");
    assert_string_equal(m.name, "full.study-1");
    assert_string_equal(m.title, "A <full> study");
    assert_string_equal(m.description, "Every key of a manifest,\nonce. & more");
    assert_string_equal(m.data_dir, MANIFESTS "../../tests"); /* relative to the manifest */
    assert_int_equal(m.train, 1000);
    assert_int_equal(m.val, 500);
    assert_int_equal(m.nvariants, 2);
    assert_string_equal(m.variants[1].task, "free text: with colon");

    int n = ms_manifest_expand(&m, &r);
    assert_int_equal(n, 4);
    /* Variant-major, seeds in listed order. */
    assert_string_equal(r[0].variant, "a");
    assert_string_equal(r[0].task, "");
    assert_int_equal(r[0].cfg.seed, 7);
    assert_int_equal(r[1].cfg.seed, 0);
    assert_true(r[2].cfg.seed == MS_MAX_SEED); /* the largest the database stores */
    assert_string_equal(r[3].variant, "b");
    assert_int_equal(r[3].cfg.seed, 3);

    const ms_config *a = &r[0].cfg, *b = &r[3].cfg;
    assert_int_equal(a->nhidden, 2);
    assert_int_equal(a->hidden[0], 16);
    assert_int_equal(a->hidden[1], 8);
    assert_int_equal(a->activation, MS_ACT_IMPROVED_SIGMOID);
    assert_int_equal(a->init, MS_INIT_FANIN_NORMAL);
    assert_true(a->lr == 0.05);
    assert_true(a->momentum == 0.5);
    assert_int_equal(a->batch, 10);
    assert_int_equal(a->epochs, 3);
    assert_int_equal(a->val_per_epoch, 2);
    assert_int_equal(a->early_stop, 0);
    assert_false(a->shuffle);
    assert_int_equal(a->precision, MS_PREC_F64);
    assert_int_equal(a->train_size, 1000);
    assert_int_equal(a->val_size, 500);

    assert_int_equal(b->nhidden, 1);
    assert_int_equal(b->hidden[0], 4);
    assert_int_equal(b->activation, MS_ACT_SIGMOID);
    assert_int_equal(b->init, MS_INIT_UNIFORM);
    assert_true(b->lr == 1.0);
    assert_true(b->momentum == 0.0);
    assert_int_equal(b->batch, 500);
    assert_int_equal(b->epochs, 1);
    assert_int_equal(b->early_stop, 3);
    assert_true(b->shuffle);
    assert_int_equal(b->precision, MS_PREC_F32);

    /* Plots: every key, every form of metrics, defaults, an added reference. */
    assert_int_equal(m.nplots, 3);
    const ms_plot *p = &m.plots[0];
    assert_string_equal(p->name, "all.keys-1");
    assert_string_equal(p->title, "Quoted: \"title\"");
    assert_int_equal(p->nvariants, 2);
    assert_string_equal(p->variants[0], "b");
    assert_string_equal(p->variants[1], "a");
    assert_int_equal(p->reference, 1);
    assert_int_equal(p->x_epoch, 1);
    assert_int_equal(p->log_loss, 1);
    assert_int_equal(p->step_average, 1);
    assert_int_equal(p->npanels, 5);
    static const int counts[] = {2, 2, 1, 2, 1};
    static const ms_metric first[] = {MS_METRIC_TRAIN_LOSS, MS_METRIC_TRAIN_ACC, MS_METRIC_BATCH_LOSS,
                                      MS_METRIC_VAL_LOSS, MS_METRIC_VAL_ACC};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(p->panels[i].nmetrics, counts[i]);
        assert_int_equal(p->panels[i].metrics[0], first[i]);
    }
    assert_int_equal(p->panels[3].metrics[1], MS_METRIC_TRAIN_LOSS);
    assert_string_equal(ms_metric_name(MS_METRIC_BATCH_LOSS), "batch_loss");
    assert_true(ms_metric_is_acc(MS_METRIC_VAL_ACC) && !ms_metric_is_acc(MS_METRIC_VAL_LOSS));

    p = &m.plots[1]; /* defaults: title = name, [loss, accuracy], step, linear */
    assert_string_equal(p->title, "minimal");
    assert_int_equal(p->nvariants, 1);
    assert_int_equal(p->reference, 0);
    assert_int_equal(p->npanels, 2);
    assert_int_equal(p->panels[0].metrics[1], MS_METRIC_VAL_LOSS);
    assert_int_equal(p->panels[1].metrics[1], MS_METRIC_VAL_ACC);
    assert_int_equal(p->x_epoch, MS_PLOT_X_AUTO);
    assert_int_equal(p->log_loss, 0);
    assert_int_equal(p->step_average, 10); /* the course's */

    p = &m.plots[2]; /* a reference not in variants is added after them */
    assert_int_equal(p->nvariants, 2);
    assert_string_equal(p->variants[1], "a");
    assert_int_equal(p->reference, 1);
    assert_int_equal(p->npanels, 1);
    free(r);
    ms_manifest_release(&m);
}

/* Absent data and defaults: built-in values; in-memory text need not end in a newline. */
static void test_valid_minimal(void **state)
{
    (void)state;
    static const char text[] = "name: t\nvariants:\n  - name: a";
    ms_manifest m;
    ms_run_spec *r = NULL;
    assert_int_equal(ms_manifest_parse("t.yaml", text, strlen(text), &m, 0), 0);
    assert_string_equal(m.data_dir, "data");
    assert_int_equal(m.train, 20000);
    assert_int_equal(m.val, 10000);
    assert_int_equal(ms_manifest_expand(&m, &r), 1);
    ms_config d;
    ms_config_default(&d);
    char *a = ms_config_json(&d), *b = ms_config_json(&r[0].cfg);
    assert_string_equal(a, b);
    assert_string_equal(r[0].task, "");
    assert_int_equal(m.nplots, 0);
    assert_null(m.plots);
    assert_null(m.title);
    assert_null(m.description);
    assert_int_equal(m.nsettings, 0);
    free(a);
    free(b);
    free(r);
    ms_manifest_release(&m);

    /* An empty plots section: no figures. */
    static const char empty_plots[] = "name: t\nvariants:\n  - name: a\nplots:\n";
    assert_int_equal(ms_manifest_parse("t.yaml", empty_plots, strlen(empty_plots), &m, 0), 0);
    assert_int_equal(m.nplots, 0);
    ms_manifest_release(&m);
}

/* ---- invalid manifests: one exact message each ---- */

typedef struct bad_case {
    const char *name;
    const char *text; /* parsed as "t.yaml" */
    const char *want; /* the whole output, without "t.yaml:" */
} bad_case;

static const bad_case bad_cases[] = {
    {"syntax error", "name: t\nvariants:\n  - name: a\n    lr: 0.1: 2\n",
     "4:12: syntax error: mapping values are not allowed in this context"},
    {"syntax error with context", "name: t\ndefaults: {lr: 0.1\nvariants: []\n",
     "3:9: syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2)"},
    {"unknown top-level key", "name: t\ndefault:\n  lr: 0.1\nvariants:\n  - name: a\n",
     "2:1: unknown key 'default' (did you mean 'defaults'?)"},
    {"unknown key in defaults", "name: t\ndefaults:\n  x: 1\nvariants:\n  - name: a\n",
     "3:3: unknown key 'x' in defaults"},
    {"unknown key in defaults with hint", "name: t\ndefaults:\n  epoch: 3\nvariants:\n  - name: a\n",
     "3:3: unknown key 'epoch' in defaults (did you mean 'epochs'?)"},
    {"unknown key in data", "name: t\ndata:\n  trian: 100\nvariants:\n  - name: a\n",
     "3:3: unknown key 'trian' in data (did you mean 'train'?)"},
    {"unknown key in variant", "name: t\nvariants:\n  - name: a\n    lrate: 0.5\n",
     "4:5: unknown key 'lrate' in variant 'a' (did you mean 'lr'?)"},
    {"unknown key in unnamed variant", "name: t\nvariants:\n  - name: a\n  - shufle: true\n    name: [x]\n",
     "4:5: unknown key 'shufle' in variant 2 (did you mean 'shuffle'?)\n"
     "t.yaml:5:11: name: expected a string, got a list"},
    {"extends: unknown variant", "name: t\nvariants:\n  - name: momentum\n  - name: b\n    extends: momentm\n",
     "5:14: extends: no variant 'momentm' (did you mean 'momentum'?)"},
    {"extends: itself", "name: t\nvariants:\n  - name: a\n    extends: a\n",
     "4:14: extends: a cycle: 'a' -> 'a'"},
    {"extends: a cycle", "name: t\nvariants:\n  - name: a\n    extends: c\n  - name: b\n    extends: a\n"
     "  - name: c\n    extends: b\n",
     "4:14: extends: a cycle: 'a' -> 'c' -> 'b' -> 'a'"},
    {"extends: not a name", "name: t\nvariants:\n  - name: a\n  - name: b\n    extends: [a]\n",
     "5:14: extends: expected a string, got a list"},
    {"extends: a bad inherited value reported once", "name: t\nvariants:\n  - name: a\n    batch: 0\n"
     "  - name: b\n    extends: a\n    lr: 0.5\n",
     "4:12: batch: must be in 1..1048576 (got 0)"},
    {"grid: not a mapping", "name: t\nvariants:\n  - name: a\n    grid: [lr]\n",
     "4:11: grid: expected a mapping of keys to lists of values, got a list"},
    {"grid: unknown key", "name: t\nvariants:\n  - name: a\n    grid: {lrate: [0.1]}\n",
     "4:12: grid: unknown key 'lrate' (did you mean 'lr'?)"},
    {"grid: not a list", "name: t\nvariants:\n  - name: a\n    grid: {lr: 0.1}\n",
     "4:16: grid: lr: expected a list of values, got '0.1'"},
    {"grid: a bad value", "name: t\nvariants:\n  - name: a\n    grid: {lr: [0.1, -2]}\n",
     "4:22: lr: must be a finite number > 0 (got -2)"},
    {"settings: not a list", "name: t\nsettings: lr=0.1\nvariants:\n  - name: a\n",
     "2:11: settings: expected a list of KEY=VALUE strings, got 'lr=0.1'"},
    {"settings: a bad one", "name: t\nsettings: ['lr=0']\nvariants:\n  - name: a\n",
     "2:12: lr: must be a finite number > 0 (got 0)"},
    {"merge key", "name: t\nvariants:\n  - name: a\n    <<: {lr: 1}\n",
     "4:5: unknown key '<<' in variant 'a'"},
    {"string for number", "name: t\ndefaults:\n  lr: abc\nvariants:\n  - name: a\n",
     "3:7: lr: expected a number, got 'abc'"},
    {"quoted number", "name: t\nvariants:\n  - name: a\n    momentum: \"0.5\"\n",
     "4:15: momentum: expected a number, got a quoted string '0.5'"},
    {"float for int", "name: t\ndefaults:\n  batch: 3.5\nvariants:\n  - name: a\n",
     "3:10: batch: expected an integer, got '3.5'"},
    {"scalar for list", "name: t\ndefaults:\n  hidden: 64\nvariants:\n  - name: a\n",
     "3:11: hidden: expected a list of positive integers, got '64'"},
    {"list for scalar", "name: t\ndefaults:\n  lr: [0.1]\nvariants:\n  - name: a\n",
     "3:7: lr: expected a number, got a list"},
    {"mapping for scalar", "name: t\nvariants:\n  - name: a\n    epochs: {n: 3}\n",
     "4:13: epochs: expected an integer, got a mapping"},
    {"empty value", "name: t\ndefaults:\n  epochs:\nvariants:\n  - name: a\n",
     "3:10: epochs: expected an integer, got nothing"},
    {"yes is not a boolean", "name: t\ndefaults:\n  shuffle: yes\nvariants:\n  - name: a\n",
     "3:12: shuffle: expected true or false, got 'yes'"},
    {"lr zero", "name: t\ndefaults:\n  lr: 0\nvariants:\n  - name: a\n",
     "3:7: lr: must be a finite number > 0 (got 0)"},
    {"lr infinite", "name: t\nvariants:\n  - name: a\n    lr: .inf\n",
     "4:9: lr: must be a finite number > 0 (got .inf)"},
    {"momentum one", "name: t\ndefaults:\n  momentum: 1\nvariants:\n  - name: a\n",
     "3:13: momentum: must be in [0, 1) (got 1)"},
    {"momentum negative", "name: t\nvariants:\n  - name: a\n    momentum: -0.1\n",
     "4:15: momentum: must be in [0, 1) (got -0.1)"},
    {"batch zero", "name: t\ndefaults:\n  batch: 0\nvariants:\n  - name: a\n",
     "3:10: batch: must be in 1..1048576 (got 0)"},
    {"batch above train in variant",
     "name: t\ndata:\n  train: 1000\nvariants:\n  - name: a\n  - name: b\n    batch: 2000\n",
     "7:12: batch: must be <= 1000, the training size (got 2000)"},
    {"train leaves too few steps", "name: t\ndata:\n  train: 100\nvariants:\n  - name: a\n",
     "3:10: data.train: 100 leaves 3 steps per epoch at batch 32, fewer than val_per_epoch (5)"},
    {"train below built-in batch", "name: t\ndata:\n  train: 10\nvariants:\n  - name: a\n",
     "3:10: data.train: must be >= 32, the batch size (got 10)"},
    {"epochs zero", "name: t\nvariants:\n  - name: a\n    epochs: 0\n",
     "4:13: epochs: must be in 1..1048576 (got 0)"},
    {"epochs beyond int", "name: t\nvariants:\n  - name: a\n    epochs: 99999999999999999999\n",
     "4:13: epochs: must be in 1..1048576 (got 99999999999999999999)"},
    {"val_per_epoch zero", "name: t\ndefaults:\n  val_per_epoch: 0\nvariants:\n  - name: a\n",
     "3:18: val_per_epoch: must be in 1..1048576 (got 0)"},
    {"val_per_epoch above steps", "name: t\nvariants:\n  - name: a\n    val_per_epoch: 1000\n",
     "4:20: val_per_epoch: must be <= 625, the steps per epoch (got 1000)"},
    {"batch leaves too few steps", "name: t\nvariants:\n  - name: a\n    batch: 10000\n",
     "4:12: batch: 10000 leaves 2 steps per epoch, fewer than val_per_epoch (5)"},
    {"early_stop negative", "name: t\ndefaults:\n  early_stop: -1\nvariants:\n  - name: a\n",
     "3:15: early_stop: must be in 0..1048576 (got -1)"},
    {"hidden empty", "name: t\ndefaults:\n  hidden: []\nvariants:\n  - name: a\n",
     "3:11: hidden: must list at least one layer"},
    {"hidden zero", "name: t\nvariants:\n  - name: a\n    hidden: [64, 0]\n",
     "4:18: hidden: layer size must be in 1..65536 (got 0)"},
    {"hidden too wide", "name: t\nvariants:\n  - name: a\n    hidden:\n      - 65537\n",
     "5:9: hidden: layer size must be in 1..65536 (got 65537)"},
    {"hidden not integers", "name: t\nvariants:\n  - name: a\n    hidden: [64, big]\n",
     "4:18: hidden: expected a list of positive integers, got 'big'"},
    {"bad activation with hint", "name: t\ndefaults:\n  activation: sigmod\nvariants:\n  - name: a\n",
     "3:15: activation: unknown value 'sigmod' (did you mean 'sigmoid'?)"},
    {"bad activation", "name: t\nvariants:\n  - name: a\n    activation: relu\n",
     "4:17: activation: unknown value 'relu' (expected sigmoid or improved_sigmoid)"},
    {"bad precision", "name: t\nvariants:\n  - name: a\n    precision: double\n",
     "4:16: precision: unknown value 'double' (expected float32 or float64)"},
    {"float64 network too large for its checkpoint",
     "name: t\ndefaults:\n  precision: float64\nvariants:\n  - name: a\n    hidden: [8000, 8000]\n"
     "  - name: b\n    hidden: [8000, 8000]\n    precision: float32\n",
     "6:13: hidden: 70360000 weights, more than the 62000000 whose float64 checkpoint fits in the database"},
    {"float64 made too large by precision",
     "name: t\ndefaults:\n  hidden: [8000, 8000]\nvariants:\n  - name: a\n    precision: float64\n",
     "6:16: precision: 70360000 weights, more than the 62000000 whose float64 checkpoint fits in the database"},
    {"bad precision with hint", "name: t\ndefaults:\n  precision: float46\nvariants:\n  - name: a\n",
     "3:14: precision: unknown value 'float46' (did you mean 'float64'?)"},
    {"bad init with hint", "name: t\nvariants:\n  - name: a\n    init: fanin\n",
     "4:11: init: unknown value 'fanin' (did you mean 'fanin_normal'?)"},
    {"duplicate key", "name: t\ndefaults:\n  lr: 0.1\n  lr: 0.2\nvariants:\n  - name: a\n",
     "4:3: duplicate key 'lr' (first at line 3)"},
    {"duplicate variant name",
     "name: t\nvariants:\n  - name: a\n  - name: b\n  - {name: a, lr: 1}\n",
     "5:12: duplicate variant name 'a' (first at line 3)"},
    {"empty variants", "name: t\nvariants: []\n", "2:11: variants: must list at least one variant"},
    {"variants not a list", "name: t\nvariants:\n  name: a\n",
     "3:3: variants: expected a list of variants, got a mapping"},
    {"variant not a mapping", "name: t\nvariants:\n  - a\n",
     "3:5: variants: each variant must be a mapping, got 'a'"},
    {"missing name", "variants:\n  - name: a\n", "1:1: missing key 'name'"},
    {"missing variants", "# just a name\nname: t\n", "2:1: missing key 'variants'"},
    {"missing variant name", "name: t\nvariants:\n  - task: x\n", "3:5: missing key 'name' in variant 1"},
    {"bad manifest name", "name: my study\nvariants:\n  - name: a\n",
     "1:7: name: 'my study' may only contain letters, digits, '_', '.' and '-'"},
    /* Names are file names (db/NAME.db, plots/NAME.png): '..' made the
     * hidden file db/...db. No leading dot in any name, variants' too. */
    {"manifest name ..", "name: ..\nvariants:\n  - name: a\n",
     "1:7: name: '..' must not start with '.'"},
    {"manifest name .", "name: '.'\nvariants:\n  - name: a\n",
     "1:7: name: '.' must not start with '.'"},
    {"manifest name hidden", "name: .study\nvariants:\n  - name: a\n",
     "1:7: name: '.study' must not start with '.'"},
    {"variant name hidden", "name: t\nvariants:\n  - name: a\n  - name: .b\n",
     "4:11: name: '.b' must not start with '.'"},
    {"plots: plot name hidden", "name: t\nvariants:\n  - name: a\nplots:\n  - name: .p\n    variants: [a]\n",
     "5:11: name: '.p' must not start with '.'"},
    {"alias", "name: t\ndefaults: &d\n  lr: 0.1\nvariants:\n  - name: a\n    lr: *d\n",
     "6:9: aliases are not supported"},
    {"tag", "name: t\nvariants:\n  - name: a\n    lr: !!float 1\n", "4:9: tags are not supported"},
    {"two documents", "name: t\nvariants:\n  - name: a\n---\nname: u\n",
     "4:1: only one document is allowed"},
    {"not a mapping", "- name: t\n", "1:1: manifest must be a mapping, got a list"},
    {"empty", "", "1:1: empty manifest"},
    {"comments only", "# nothing here\n\n", "1:1: empty manifest"},
    {"seeds empty", "name: t\ndefaults:\n  seeds: []\nvariants:\n  - name: a\n",
     "3:10: seeds: must list at least one seed"},
    {"seeds duplicate", "name: t\nvariants:\n  - name: a\n    seeds: [1, 2, 1]\n",
     "4:19: seeds: duplicate seed 1 (first at line 4)"},
    {"seeds negative", "name: t\nvariants:\n  - name: a\n    seeds: [-3]\n",
     "4:13: seeds: seed must be >= 0 (got -3)"},
    /* The database stores a seed as a signed 64-bit INTEGER: 2^63 and more
     * used to be accepted, and shown negative. */
    {"seed 2^63", "name: t\nvariants:\n  - name: a\n    seeds: [1, 9223372036854775808]\n",
     "4:16: seeds: seed must be <= 9223372036854775807 (got 9223372036854775808)"},
    {"seed 2^64 - 1", "name: t\ndefaults:\n  seeds: [18446744073709551615]\nvariants:\n  - name: a\n",
     "3:11: seeds: seed must be <= 9223372036854775807 (got 18446744073709551615)"},
    {"seed beyond 64 bits", "name: t\nvariants:\n  - name: a\n    seeds: [99999999999999999999]\n",
     "4:13: seeds: seed must be <= 9223372036854775807 (got 99999999999999999999)"},
    {"seed 2^63 in a grid", "name: t\nvariants:\n  - name: a\n    grid: {seeds: [[1], [9223372036854775808]]}\n",
     "4:26: seeds: seed must be <= 9223372036854775807 (got 9223372036854775808)"},
    {"seeds scalar", "name: t\nvariants:\n  - name: a\n    seeds: 3\n",
     "4:12: seeds: expected a list of non-negative integers, got '3'"},
    {"train too large", "name: t\ndata:\n  train: 60001\nvariants:\n  - name: a\n",
     "3:10: data.train: must be in 1..60000 (got 60001)"},
    {"val zero", "name: t\ndata:\n  val: 0\nvariants:\n  - name: a\n",
     "3:8: data.val: must be in 1..10000 (got 0)"},
    {"invalid utf-8", "name: t\xff\nvariants:\n  - name: a\n",
     "1:8: syntax error: invalid leading UTF-8 octet (0xFF)"},
    {"control character", "name: t\nvariants:\n  - name: a\x01\n",
     "3:12: syntax error: control characters are not allowed (0x1)"},
    {"NUL escape", "name: t\nvariants:\n  - name: a\n    \"lr\\0x\": 1\n",
     "4:5: NUL characters are not supported"},
    /* A bad default is reported once, not again by each variant inheriting it. */
    {"bad default reported once",
     "name: t\ndata:\n  train: 100\ndefaults:\n  batch: abc\nvariants:\n  - name: a\n    val_per_epoch: 5\n"
     "  - name: b\n",
     "5:10: batch: expected an integer, got 'abc'"},
    /* Every error is reported, in order, not just the first. */
    {"several errors",
     "name: t\nvarients:\n  - name: a\ndefaults:\n  lr: -1\n  batch: 2.5\n",
     "2:1: unknown key 'varients' (did you mean 'variants'?)\n"
     "t.yaml:5:7: lr: must be a finite number > 0 (got -1)\n"
     "t.yaml:6:10: batch: expected an integer, got '2.5'\n"
     "t.yaml:1:1: missing key 'variants'"},
    /* The plots section. */
    {"plots: plots not a list", "name: t\nvariants:\n  - name: a\nplots:\n  name: p\n",
     "5:3: plots: expected a list of plots, got a mapping"},
    {"plots: plot not a mapping", "name: t\nvariants:\n  - name: a\nplots:\n  - p\n",
     "5:5: plots: each plot must be a mapping, got 'p'"},
    {"label empty", "name: t\nvariants:\n  - name: a\n    label: ''\n",
     "4:12: label: 1 to 256 characters (got 0)"},
    {"title empty", "title: ''\nname: t\nvariants:\n  - name: a\n",
     "1:8: title: 1 to 256 characters (got 0)"},
    {"title a list", "name: t\ntitle: [a]\nvariants:\n  - name: a\n",
     "2:8: title: expected a string, got a list"},
    {"description a mapping", "name: t\ndescription:\n  a: b\nvariants:\n  - name: a\n",
     "3:3: description: expected a string, got a mapping"},
    {"description misspelt", "name: t\ndescripton: x\nvariants:\n  - name: a\n",
     "2:1: unknown key 'descripton' (did you mean 'description'?)"},
    {"label misspelt", "name: t\nvariants:\n  - name: a\n    lable: x\n",
     "4:5: unknown key 'lable' in variant 'a' (did you mean 'label'?)"},
    {"label in defaults", "name: t\ndefaults:\n  label: x\nvariants:\n  - name: a\n",
     "3:3: unknown key 'label' in defaults"},
    {"plots: unknown key in plot", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    varaints: [a]\n",
     "6:5: unknown key 'varaints' in plot 'p' (did you mean 'variants'?)\nt.yaml:5:5: missing key 'variants' in plot 'p'"},
    {"plots: unknown key in unnamed plot", "name: t\nvariants:\n  - name: a\nplots:\n  - variants: [a]\n    colour: red\n",
     "6:5: unknown key 'colour' in plot 1\nt.yaml:5:5: missing key 'name' in plot 1"},
    {"plots: bad plot name", "name: t\nvariants:\n  - name: a\nplots:\n  - name: my plot\n    variants: [a]\n",
     "5:11: name: 'my plot' may only contain letters, digits, '_', '.' and '-'"},
    {"plots: plot name with slash", "name: t\nvariants:\n  - name: a\nplots:\n  - name: ../p\n    variants: [a]\n",
     "5:11: name: '../p' may only contain letters, digits, '_', '.' and '-'"},
    {"plots: duplicate plot name", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n  - {name: p, variants: [a]}\n",
     "7:12: duplicate plot name 'p' (first at line 5)"},
    {"plots: unknown variant with hint", "name: t\nvariants:\n  - name: baseline\nplots:\n  - name: p\n    variants: [baseline, basline]\n",
     "6:26: variants: unknown variant 'basline' (did you mean 'baseline'?)"},
    {"plots: unknown variant", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [zzz]\n",
     "6:16: variants: unknown variant 'zzz'"},
    {"plots: duplicate variant in plot", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a, a]\n",
     "6:19: variants: duplicate variant 'a'"},
    {"plots: variants empty", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: []\n",
     "6:15: variants: must list at least one variant"},
    {"plots: variants missing", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n",
     "5:5: missing key 'variants' in plot 'p'"},
    {"plots: variants scalar", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: a\n",
     "6:15: variants: expected a list of variant names, got 'a'"},
    {"plots: unknown reference", "name: t\nvariants:\n  - name: momentum\nplots:\n  - name: p\n    variants: [momentum]\n    reference: momentun\n",
     "7:16: reference: unknown variant 'momentun' (did you mean 'momentum'?)"},
    {"plots: unknown metric with hint", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [val_los]\n",
     "7:15: metrics: unknown metric 'val_los' (did you mean 'val_loss'?)"},
    {"plots: unknown metric", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [f1]\n",
     "7:15: metrics: unknown metric 'f1' (expected loss, accuracy, batch_loss, step_loss, train_loss, val_loss, train_acc or val_acc)"},
    {"plots: step_average 0", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    step_average: 0\n",
     "7:19: step_average: must be in 1..1048576 (got 0)"},
    {"plots: metrics empty", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: []\n",
     "7:14: metrics: must list at least one panel"},
    {"plots: metrics scalar", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: loss\n",
     "7:14: metrics: expected a list of panels, got 'loss'"},
    {"plots: panel mixes kinds", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [[val_loss, val_acc]]\n",
     "7:26: metrics: a panel cannot mix losses and accuracies ('val_acc')"},
    {"plots: group inside a panel", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [[loss]]\n",
     "7:16: metrics: 'loss' is a panel of its own, not a metric inside a panel"},
    {"plots: duplicate metric in a panel", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [[val_loss, val_loss]]\n",
     "7:26: metrics: duplicate metric 'val_loss' in a panel"},
    {"plots: too many panels", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [loss, loss, loss, loss, loss, loss, loss, loss, loss]\n",
     "7:14: metrics: at most 8 panels allowed (got 9)"},
    {"plots: bad x with hint", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    x: steps\n",
     "7:8: x: unknown value 'steps' (did you mean 'step'?)"},
    {"plots: bad x", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    x: time\n",
     "7:8: x: unknown value 'time' (expected step or epoch)"},
    {"plots: bad loss_scale", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    loss_scale: logarithmic\n",
     "7:17: loss_scale: unknown value 'logarithmic' (did you mean 'log'?)"},
    {"plots: title not a string", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    title: [x]\n    variants: [a]\n",
     "6:12: title: expected a string, got a list"},
    {"plots: missing plot name", "name: t\nvariants:\n  - name: a\nplots:\n  - variants: [a]\n",
     "5:5: missing key 'name' in plot 1"},
    {"plots: bad variants section: names unchecked", "name: t\nvariants:\n  - name: [a]\nplots:\n  - name: p\n    variants: [b]\n",
     "3:11: name: expected a string, got a list"},
    {"plots: empty panel", "name: t\nvariants:\n  - name: a\nplots:\n  - name: p\n    variants: [a]\n    metrics: [loss, []]\n",
     "7:21: metrics: a panel must list at least one metric"},
    {"search: empty choice",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {hidden: {choice: []}}\n",
     "6:32: search: space: hidden: choice: the list is empty (give the values to choose from)"},
    {"search: loguniform bound at 0",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {loguniform: [0, 0.5]}}\n",
     "6:32: search: space: lr: loguniform needs bounds above 0, got 0"},
    {"search: low above high",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {batch: {int: [64, 16]}}\n",
     "6:28: search: space: batch: int: low 64 is above high 16"},
    {"search: unknown key with hint",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {momentm: {uniform: [0, 0.9]}}\n",
     "6:15: search: space: unknown key 'momentm' (did you mean 'momentum'?)"},
    {"search: a key that cannot be searched",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {seeds: {choice: [1, 2]}}\n",
     "6:23: search: space: seeds cannot be searched"},
    {"search: numbers for a whole-number key",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {batch: {uniform: [16, 64]}}\n",
     "6:23: search: space: batch cannot be searched with uniform"},
    {"search: trials missing",
     "name: t\nvariants:\n  - name: a\n    search:\n      space: {lr: {uniform: [0.01, 0.1]}}\n",
     "5:7: search: trials: missing (how many trials to draw)"},
    {"search: unknown method",
     "name: t\nvariants:\n  - name: a\n    search:\n      method: tpe\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n",
     "5:15: search: method: unknown value 'tpe' (expected random or sobol)"},
    {"search: and a grid",
     "name: t\nvariants:\n  - name: a\n    grid: {lr: [0.1, 0.2]}\n    search:\n      trials: 3\n      space: {momentum: {uniform: [0, 0.9]}}\n",
     "5:5: search: a variant has a grid or a search, not both (grid: at line 4)"},
    {"search: a drawn value out of the key's range",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 40\n      space: {momentum: {uniform: [0.5, 1.5]}}\n",
     "6:25: momentum: must be in [0, 1) (got 1.234)"},
    {"prune: eta below 2",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: asha, eta: 1}\n",
     "7:30: prune: eta: must be 2 or more (the trials kept at a rung are 1 in eta), got 1"},
    {"prune: unknown metric",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: asha, metric: val_los}\n",
     "7:33: prune: metric: unknown metric 'val_los' (did you mean 'val_loss'?) (expected train_loss, val_loss, train_acc or val_acc)"},
    {"prune: min above max",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: sha, min: 9, max: 3}\n",
     "7:29: prune: min (9 epochs) is above max (3)"},
    {"prune: type missing",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {max: 9}\n",
     "7:12: prune: type: missing (sha, asha or hyperband)"},
    {"prune: unknown type",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: pbt}\n",
     "7:19: prune: type: unknown value 'pbt' (expected sha, asha or hyperband)"},
    {"prune: without a search",
     "name: t\nvariants:\n  - name: a\n    prune: {type: asha}\n",
     "4:5: prune: goes with a search: in the same variant (it stops the search's weaker trials early)"},
    {"prune: max and epochs differ",
     "name: t\nvariants:\n  - name: a\n    epochs: 5\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: asha, max: 9}\n",
     "8:30: prune: max (9) and epochs (5, line 4) differ: a pruned trial trains at most max epochs; give one of them"},
    {"prune: epochs searched",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {epochs: {int: [1, 9]}}\n    prune: {type: asha}\n",
     "6:23: search: space: epochs cannot be searched with prune: (epochs are what pruning spends)"},
    {"prune: unknown resource",
     "name: t\nvariants:\n  - name: a\n    search:\n      trials: 3\n      space: {lr: {uniform: [0.01, 0.1]}}\n    prune: {type: asha, resource: steps}\n",
     "7:35: prune: resource: unknown value 'steps' (epoch is the one resource: a rung is a number of epochs)"},
};
#define NBAD ((int)(sizeof bad_cases / sizeof bad_cases[0]))

static void test_bad_case(void **state)
{
    const bad_case *bc = *state;
    char *out, want[1024];
    snprintf(want, sizeof want, "t.yaml:%s\n", bc->want);
    int rc = parse_text(bc->text, strlen(bc->text), 0, &out);
    bool same = !strcmp(out, want);
    if (!same)
        print_error("case '%s'\n   got: %s  want: %s", bc->name, out, want);
    free(out); /* before asserting: a failure must not show up as a leak too */
    assert_int_equal(rc, -1);
    assert_true(same);
}

/* Files under tests/manifests/, with the path in the message. */
typedef struct bad_file {
    const char *file;
    int check_dir;
    const char *want; /* after "PATH:" */
} bad_file;

static const bad_file bad_files[] = {
    {"syntax_error.yaml", 0, "3:12: syntax error: mapping values are not allowed in this context"},
    {"unknown_variant_key.yaml", 0,
     "9:5: unknown key 'lrate' in variant 'baseline' (did you mean 'lr'?)"},
    {"duplicate_variant.yaml", 0, "6:11: duplicate variant name 'baseline' (first at line 3)"},
    {"alias.yaml", 0, "6:9: aliases are not supported"},
    {"empty.yaml", 0, "1:1: empty manifest"},
    {"missing_data_dir.yaml", 1,
     "3:8: data.dir: cannot access 'tests/manifests/no_such_dir': No such file or directory"},
    {"data_dir_is_file.yaml", 1,
     "3:8: data.dir: 'tests/manifests/data_dir_is_file.yaml' is not a directory"},
};
#define NBADFILES ((int)(sizeof bad_files / sizeof bad_files[0]))

static void test_bad_file(void **state)
{
    const bad_file *bf = *state;
    char path[512], want[1024], *out;
    snprintf(path, sizeof path, MANIFESTS "%s", bf->file);
    snprintf(want, sizeof want, "%s:%s\n", path, bf->want);
    assert_int_equal(load_file(path, bf->check_dir, &out), -1);
    assert_string_equal(out, want);
    free(out);
}

/* The data directory is only checked when asked to. */
static void test_data_dir_unchecked(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(load_file(MANIFESTS "missing_data_dir.yaml", 0, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

static void test_missing_file(void **state)
{
    (void)state;
    char *out;
    assert_int_equal(load_file(MANIFESTS "no_such_file.yaml", 0, &out), -1);
    assert_string_equal(out, "mlpsweep: cannot open '" MANIFESTS
                             "no_such_file.yaml': No such file or directory\n");
    free(out);
}

static void test_too_large(void **state)
{
    (void)state;
    char path[64], want[256], *out;
    snprintf(path, sizeof path, "/tmp/ms_manifest_big_%ld.yaml", (long)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    static const char head[] = "name: big\nvariants:\n", item[] = "  - name: x\n";
    fputs(head, f);
    long n = (long)strlen(head);
    while (n <= MS_MANIFEST_MAX_BYTES) {
        fputs(item, f); /* valid YAML: only the size is wrong */
        n += (long)strlen(item);
    }
    fclose(f);
    snprintf(want, sizeof want, "%s:1:1: file too large (%ld bytes, limit 1 MiB)\n", path, n);
    assert_int_equal(load_file(path, 0, &out), -1);
    assert_string_equal(out, want);
    free(out);
    unlink(path);

    /* The same limit applies to a buffer. */
    size_t len = MS_MANIFEST_MAX_BYTES + 1;
    char *text = malloc(len);
    assert_non_null(text);
    memset(text, '#', len);
    assert_int_equal(parse_text(text, len, 0, &out), -1);
    assert_string_equal(out, "t.yaml:1:1: file too large (1048577 bytes, limit 1 MiB)\n");
    free(out);
    free(text);
}

static void test_binary_junk(void **state)
{
    (void)state;
    static const char junk[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
    char *out;
    assert_int_equal(parse_text(junk, sizeof junk - 1, 0, &out), -1);
    assert_string_equal(out, "t.yaml:1:1: syntax error: control characters are not allowed (0x7F)\n");
    free(out);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    char text[512], *out;
    size_t n = 0;
    n += (size_t)snprintf(text, sizeof text, "name: t\nx: ");
    for (int i = 0; i < 100; i++)
        text[n++] = '[';
    for (int i = 0; i < 100; i++)
        text[n++] = ']';
    text[n] = '\0';
    assert_int_equal(parse_text(text, n, 0, &out), -1);
    assert_string_equal(out, "t.yaml:2:67: nesting deeper than 64 levels\n");
    free(out);
}

/* xorshift64: a fixed stream, so a failure reproduces. */
static uint64_t fuzz_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes and mutations of the default study: never crash or leak
 * (the sanitizers are the assertion), and a failure always says something. */
static void test_fuzz(void **state)
{
    (void)state;
    FILE *f = fopen(MS_EXPERIMENTS_DIR "/tdt4265_a2.yaml", "rb");
    assert_non_null(f);
    static char base[1 << 16];
    size_t blen = fread(base, 1, sizeof base, f);
    fclose(f);
    assert_true(blen > 0 && blen < sizeof base);

    static char buf[1 << 16];
    static const char pieces[] = ":-[]{},&*!#'\"\n \t|>?%@`\\0123456789.e";
    uint64_t s = 0x9E3779B97F4A7C15u;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len;
        if (iter % 4 == 0) {
            len = fuzz_next(&s) % 256;
            for (size_t i = 0; i < len; i++)
                buf[i] = (char)fuzz_next(&s);
        } else {
            memcpy(buf, base, blen);
            len = blen;
            int k = 1 + (int)(fuzz_next(&s) % 8);
            for (int j = 0; j < k && len > 0; j++) {
                size_t at = fuzz_next(&s) % len;
                uint64_t r = fuzz_next(&s);
                if (r % 3 == 0)
                    buf[at] = pieces[(r >> 8) % (sizeof pieces - 1)];
                else if (r % 3 == 1)
                    buf[at] = (char)(r >> 8);
                else /* cut the text short */
                    len = at;
            }
        }
        char *out;
        ms_manifest m;
        ms_capture c;
        ms_capture_start(&c);
        int rc = ms_manifest_parse("fuzz.yaml", buf, len, &m, 0);
        out = ms_capture_end(&c);
        if (rc == 0) {
            ms_run_spec *r = NULL;
            int n = ms_manifest_expand(&m, &r);
            for (int i = 0; i < n; i++)
                assert_int_equal(ms_config_validate(&r[i].cfg), 0);
            free(r);
            ms_manifest_release(&m);
            assert_string_equal(out, "");
        } else {
            assert_true(out && !strncmp(out, "fuzz.yaml:", 10));
            assert_null(m.name);
        }
        free(out);
    }
}

int main(void)
{
    struct CMUnitTest tests[16 + NBAD + NBADFILES];
    int n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_default_study);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_valid_full);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_extends);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_settings_parse);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_search_trials);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_prune_max_from_settings);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_grid_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_plot_curves_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_seed_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_valid_minimal);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_data_dir_unchecked);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_missing_file);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_too_large);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_binary_junk);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_deep_nesting);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_fuzz);
    for (int i = 0; i < NBAD; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_bad_case, (void *)&bad_cases[i]);
        tests[n++].name = bad_cases[i].name;
    }
    for (int i = 0; i < NBADFILES; i++) {
        tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_bad_file, (void *)&bad_files[i]);
        tests[n++].name = bad_files[i].file;
    }
    return _cmocka_run_group_tests("manifest", tests, (size_t)n, NULL, NULL);
}
