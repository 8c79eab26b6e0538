/* The manifest's rules on stored values (ms_manifest.h; merge, issue 22).
 *
 * A sweep or run read back from a database is checked by the functions that
 * check a manifest (mf_get_name, mf_get_str, mf_get_seeds, mf_apply_key,
 * mf_check_data, mf_cross_check, then ms_config_validate): each stored value
 * becomes the node a manifest holding it would have given them (a number or
 * a boolean plain, a text quoted), so a value passes exactly when a manifest
 * could have written it. Their messages are captured, not printed: the
 * caller says where the value came from. */
#include "manifest_int.h"
#include "ms_util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node under parent (-1: none), made by mf_add_node as the parser makes
 * one, at c->at_line:at_col; its index (nodes move as the tree grows). */
static int sv_node(mctx *c, int parent, int type, const char *text, size_t len, bool plain)
{
    int idx = c->nnodes, root = -1;
    mf_add_node(c, type, 1, 1, text ? text : "", len, plain, parent, &root);
    return idx;
}

/* A double as YAML writes a float: .inf, .nan, and a point or an exponent
 * always (3.0, not 3, which would be an integer). */
static void sv_real(char *buf, size_t n, double d)
{
    if (isnan(d))
        snprintf(buf, n, ".nan");
    else if (isinf(d))
        snprintf(buf, n, "%s.inf", d < 0 ? "-" : "");
    else {
        snprintf(buf, n, "%.17g", d);
        if (!strpbrk(buf, ".e"))
            strncat(buf, ".0", n - strlen(buf) - 1);
    }
}

/* The scalar a manifest would have for v, under parent: its index, or -1
 * after a message when no manifest holds such a value (a blob, a NUL inside
 * a text). */
static int sv_scalar(mctx *c, int parent, const ms_stored *v, const char *key)
{
    char buf[48];
    switch (v->kind) {
    case MS_SV_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)v->i);
        return sv_node(c, parent, N_SCALAR, buf, strlen(buf), true);
    case MS_SV_REAL:
        sv_real(buf, sizeof buf, v->d);
        return sv_node(c, parent, N_SCALAR, buf, strlen(buf), true);
    case MS_SV_BOOL:
        return sv_node(c, parent, N_SCALAR, v->i ? "true" : "false", v->i ? 4 : 5, true);
    case MS_SV_TEXT: /* mf_add_node would refuse a NUL too, without the key */
        if (v->len && memchr(v->s, '\0', v->len))
            return mf_perr(c, 1, 1, "%s: NUL characters are not supported", key);
        return sv_node(c, parent, N_SCALAR, v->s, v->len, false);
    case MS_SV_BLOB:
        return mf_perr(c, 1, 1, "%s: expected text or a number, got a blob", key);
    default: /* NULL: nothing written */
        return sv_node(c, parent, N_SCALAR, "", 0, true);
    }
}

/* hidden as a database holds it ("64,64"): the list of its plain items;
 * past MS_MAX_HIDDEN + 1 items the rest are not made (the count is refused
 * already). Another value: its scalar, which mf_get_hidden refuses. */
static int sv_hidden(mctx *c, const ms_stored *v)
{
    if (v->kind != MS_SV_TEXT || (v->len && memchr(v->s, '\0', v->len)))
        return sv_scalar(c, -1, v, "hidden");
    int seq = sv_node(c, -1, N_SEQ, NULL, 0, false), made = 0;
    for (size_t at = 0; at < v->len && made <= MS_MAX_HIDDEN; made++) {
        const char *comma = memchr(v->s + at, ',', v->len - at);
        size_t k = comma ? (size_t)(comma - v->s) - at : v->len - at;
        sv_node(c, seq, N_SCALAR, v->s + at, k, true);
        at += k + 1;
        if (comma && at == v->len) /* "64,": a last, empty item */
            sv_node(c, seq, N_SCALAR, "", 0, true);
    }
    return seq;
}

/* What a YAML reader lets through: UTF-8 without overlong forms, surrogates
 * or code points past U+10FFFF. */
static bool sv_utf8(const unsigned char *s)
{
    static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
    while (*s) {
        unsigned b = *s;
        int more = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
                 : (b & 0xF8) == 0xF0 ? 3 : -1;
        if (more < 0)
            return false;
        uint32_t cp = more == 0 ? b : b & (0x3Fu >> more);
        for (int i = 1; i <= more; i++) {
            if ((s[i] & 0xC0) != 0x80) /* a NUL ends the loop here too */
                return false;
            cp = cp << 6 | (s[i] & 0x3F);
        }
        if (cp < least[more] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        s += more + 1;
    }
    return true;
}

/* The messages of one check, kept out of the error stream. */
typedef struct sv_capture {
    FILE *prev, *sink;
    char *buf;
    size_t len;
} sv_capture;

static void sv_begin(sv_capture *k)
{
    k->buf = NULL;
    k->len = 0;
    k->prev = ms_error_file();
    k->sink = ms_memstream(&k->buf, &k->len);
    ms_error_stream(k->sink);
}

/* Ends the capture; for a failed check (bad) its first message, without the
 * position mf_perr gives it (":1:1: ", the path is "") or ms_error's prefix. */
static int sv_end(sv_capture *k, int bad, char *why, size_t n)
{
    ms_error_stream(k->prev == stderr ? NULL : k->prev);
    fclose(k->sink);
    const char *m = k->buf ? k->buf : "";
    if (!strncmp(m, ":1:1: ", 6))
        m += 6;
    else if (!strncmp(m, "mlpsweep: ", 10))
        m += 10;
    if (n)
        snprintf(why, n, "%.*s", (int)strcspn(m, "\n"), *m ? m : "invalid");
    free(k->buf);
    return bad ? -1 : 0;
}

int ms_manifest_stored_name(const ms_stored *v, const char *key, char *why, size_t n)
{
    mctx c = {.path = "", .at_line = 1, .at_col = 1, .hint_left = HINT_BUDGET}; /* all at 1:1 */
    sv_capture k;
    const char *s = "";
    sv_begin(&k);
    int i = sv_scalar(&c, -1, v, key);
    if (i >= 0)
        mf_get_name(&c, &c.nodes[i], key, &s);
    int bad = c.nerr;
    mf_tree_free(&c);
    free(c.said);
    return sv_end(&k, bad, why, n);
}

int ms_manifest_stored_run(const ms_stored f[MS_SF_N], ms_config *cfg, char *why, size_t n)
{
    /* the settings a scope (defaults, a variant) holds, by their keys */
    static const int keyed[][2] = {
        {MS_SF_HIDDEN, K_HIDDEN},         {MS_SF_ACTIVATION, K_ACTIVATION}, {MS_SF_INIT, K_INIT},
        {MS_SF_LR, K_LR},                 {MS_SF_MOMENTUM, K_MOMENTUM},     {MS_SF_BATCH, K_BATCH},
        {MS_SF_EPOCHS, K_EPOCHS},         {MS_SF_VAL_PER_EPOCH, K_VPE},
        {MS_SF_EARLY_STOP, K_EARLY_STOP}, {MS_SF_SHUFFLE, K_SHUFFLE},
        {MS_SF_PRECISION, K_PRECISION}};
    /* and data's, as data.train etc. */
    static const int data[][2] = {{MS_SF_TRAIN, 1}, {MS_SF_VAL, 2}, {MS_SF_DATASET, 3}};
    mctx c = {.path = "", .at_line = 1, .at_col = 1, .hint_left = HINT_BUDGET}; /* all at 1:1 */
    sv_capture k;
    int idx[MS_SF_N];
    sv_begin(&k);

    /* every node first: taking pointers while nodes are added would not do */
    idx[MS_SF_VARIANT] = sv_scalar(&c, -1, &f[MS_SF_VARIANT], "variant");
    idx[MS_SF_TASK] = sv_scalar(&c, -1, &f[MS_SF_TASK], "task");
    idx[MS_SF_SEED] = sv_node(&c, -1, N_SEQ, NULL, 0, false); /* seeds: [SEED] */
    if (sv_scalar(&c, idx[MS_SF_SEED], &f[MS_SF_SEED], "seeds") < 0)
        idx[MS_SF_SEED] = -1;
    idx[MS_SF_HIDDEN] = sv_hidden(&c, &f[MS_SF_HIDDEN]); /* keyed[0] */
    for (int j = 1; j < COUNT(keyed); j++)
        idx[keyed[j][0]] = sv_scalar(&c, -1, &f[keyed[j][0]], mf_cfg_keys[keyed[j][1]]);
    int map = sv_node(&c, -1, N_MAP, NULL, 0, false); /* data: {train: T, val: V, ...} */
    for (int j = 0; j < COUNT(data); j++) {
        const ms_stored *v = &f[data[j][0]];
        const char *name = mf_data_keys[data[j][1]];
        char key[32];
        snprintf(key, sizeof key, "data.%s", name);
        /* MNIST's runs do not name their dataset: the default */
        if (data[j][0] == MS_SF_DATASET && v->kind == MS_SV_NULL)
            continue;
        sv_node(&c, map, N_SCALAR, name, strlen(name), true);
        sv_scalar(&c, map, v, key); /* refused: a key without a value, which mf_map_keys skips */
    }

    /* then the manifest's checks, in the order of a run's columns */
    const char *s = "";
    if (idx[MS_SF_VARIANT] >= 0)
        mf_get_name(&c, &c.nodes[idx[MS_SF_VARIANT]], "variant", &s);
    if (idx[MS_SF_TASK] >= 0 && !mf_get_str(&c, &c.nodes[idx[MS_SF_TASK]], "task", &s) &&
        !sv_utf8((const unsigned char *)s))
        mf_perr(&c, 1, 1, "task: not valid UTF-8");
    uint64_t *seeds = NULL;
    int nseeds = 0;
    if (idx[MS_SF_SEED] >= 0)
        mf_get_seeds(&c, &c.nodes[idx[MS_SF_SEED]], &seeds, &nseeds);
    scope sc;
    memset(&sc, 0, sizeof sc);
    ms_config_default(&sc.cfg);
    for (int j = 0; j < COUNT(keyed); j++) {
        if (idx[keyed[j][0]] >= 0)
            mf_apply_key(&c, &sc, keyed[j][1], &c.nodes[idx[keyed[j][0]]]);
        else
            sc.bad[keyed[j][1]] = true;
    }
    data_info d = {sc.cfg.train_size, sc.cfg.val_size, NULL, false};
    ms_manifest tm;
    const node *dir = NULL;
    memset(&tm, 0, sizeof tm);
    mf_check_data(&c, &c.nodes[map], &tm, &d, &dir);
    mf_cross_check(&c, &d, &sc, NULL);
    int bad = c.nerr;
    if (!bad) {
        *cfg = sc.cfg;
        cfg->seed = nseeds == 1 ? seeds[0] : 0;
        cfg->train_size = d.train;
        cfg->val_size = d.val;
        cfg->dataset = tm.dataset;
        bad = nseeds != 1 || ms_config_validate(cfg); /* the safety net of check_manifest */
    }
    free(seeds);
    free(tm.data_dir);
    mf_tree_free(&c);
    free(c.said);
    return sv_end(&k, bad, why, n);
}
