/* ms_config: defaults, names, parameter count, canonical JSON. */
#include "ms_config.h"
#include "ms_data.h" /* MS_INPUT */
#include "ms_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void ms_config_default(ms_config *c)
{
    memset(c, 0, sizeof *c);
    c->nhidden = 1;
    c->hidden[0] = 64;
    c->activation = MS_ACT_SIGMOID;
    c->init = MS_INIT_UNIFORM;
    c->lr = 0.1;
    c->momentum = 0.0;
    c->batch = 32;
    c->epochs = 50;
    c->val_per_epoch = 5;
    c->early_stop = 50;
    c->shuffle = true;
    c->seed = 1;
    c->train_size = 20000;
    c->val_size = 10000;
}

const char *const ms_activation_names[MS_ACT_N] = {"sigmoid", "improved_sigmoid"};
const char *const ms_init_names[MS_INIT_N] = {"uniform", "fanin_normal"};
const char *const ms_precision_names[MS_PREC_N] = {"float32", "float64"};
const char *const ms_keep_names[MS_KEEP_N] = {"metrics", "state"};
const char *const ms_dataset_names[MS_DATASET_N] = {"mnist", "fashion-mnist"};
const char *const ms_dataset_titles[MS_DATASET_N] = {"MNIST", "Fashion-MNIST"};

const char *ms_activation_name(ms_activation a)
{
    return a >= 0 && a < MS_ACT_N ? ms_activation_names[a] : "?";
}

const char *ms_init_name(ms_init i) { return i >= 0 && i < MS_INIT_N ? ms_init_names[i] : "?"; }

int ms_name_index(const char *const *names, int n, const char *s)
{
    for (int k = 0; k < n; k++)
        if (!strcmp(s, names[k]))
            return k;
    return -1;
}

const char *ms_lr_rule(double lr)
{
    /* training runs in float32: a rate past FLT_MAX would be infinite there */
    return isfinite(lr) && lr > 0 && lr <= FLT_MAX ? NULL : "must be a finite number > 0";
}

const char *ms_momentum_rule(double m) { return m >= 0 && m < 1 ? NULL : "must be in [0, 1)"; }

int64_t ms_max_params(ms_precision p) { return p == MS_PREC_F64 ? MS_MAX_PARAMS / 2 : MS_MAX_PARAMS; }

int64_t ms_config_params(const ms_config *c, int input_width)
{
    int64_t n = 0, fan_in = input_width;
    for (int l = 0; l < c->nhidden; l++) {
        n += fan_in * c->hidden[l];
        fan_in = c->hidden[l];
    }
    return n + fan_in * MS_CLASSES;
}

void ms_config_hidden_str(const ms_config *c, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int l = 0; l < c->nhidden && used < n; l++) {
        int w = snprintf(buf + used, n - used, "%s%d", l ? "," : "", c->hidden[l]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

void ms_hidden_short(const char *list, char *buf, size_t n)
{
    int layers = 0, same = 1;
    size_t w = strcspn(list, ",");
    for (const char *p = list; *p; p += *p == ',') {
        size_t k = strcspn(p, ",");
        same &= k == w && !strncmp(p, list, w);
        layers++;
        p += k;
    }
    if (layers > 2 && same) /* ten layers of 64 reads better as 10x64 */
        snprintf(buf, n, "%dx%.*s", layers, (int)w, list);
    else
        snprintf(buf, n, "%s", list);
}

char *ms_config_json(const ms_config *c) { return ms_config_json_at(c, MS_NUMERICS); }

char *ms_config_json_at(const ms_config *c, int numerics)
{
    /* Stable key order and %.17g: the JSON text is hashed to identify a run. */
    size_t cap = 512 + (size_t)c->nhidden * 12;
    char *buf = ms_malloc(cap), hid[MS_MAX_HIDDEN * 12], version[32] = "";
    ms_config_hidden_str(c, hid, sizeof hid);
    if (numerics > 1) /* version 1, the first builds, wrote none */
        snprintf(version, sizeof version, ",\"numerics\":%d", numerics);
    snprintf(buf, cap,
             "{\"hidden\":[%s],\"activation\":\"%s\",\"init\":\"%s\",\"lr\":%.17g,"
             "\"momentum\":%.17g,\"batch\":%d,\"epochs\":%d,\"val_per_epoch\":%d,"
             "\"early_stop\":%d,\"shuffle\":%s,\"seed\":%llu,\"train\":%d,\"val\":%d"
             "%s%s%s%s%s}",
             hid, ms_activation_name(c->activation), ms_init_name(c->init), c->lr, c->momentum,
             c->batch, c->epochs, c->val_per_epoch, c->early_stop, c->shuffle ? "true" : "false",
             (unsigned long long)c->seed, c->train_size, c->val_size, version,
             /* only another dataset than MNIST: MNIST runs keep their hashes */
             c->dataset ? ",\"dataset\":\"" : "", c->dataset ? ms_dataset_names[c->dataset] : "",
             c->dataset ? "\"" : "",
             /* likewise only float64: float32 runs keep their hashes */
             c->precision == MS_PREC_F64 ? ",\"precision\":\"float64\"" : "");
    /* c->keep is left out: what a run keeps when it ends does not change it */
    return buf;
}

uint64_t ms_config_identity(const char *json, char hex[17])
{
    uint64_t h = ms_hash64(json);
    if (hex)
        snprintf(hex, 17, "%016llx", (unsigned long long)h);
    return h;
}

int ms_config_validate(const ms_config *c)
{
    if (c->nhidden < 0 || c->nhidden > MS_MAX_HIDDEN)
        return ms_error("hidden: between 0 and %d layers allowed", MS_MAX_HIDDEN);
    for (int l = 0; l < c->nhidden; l++)
        if (c->hidden[l] < 1 || c->hidden[l] > MS_MAX_WIDTH)
            return ms_error("hidden: layer size %d out of range 1..%d", c->hidden[l], MS_MAX_WIDTH);
    if (c->nhidden >= 1 && ms_config_params(c, MS_INPUT) > ms_max_params(c->precision))
        return ms_error("hidden: %lld weights, more than the %lld whose %scheckpoint fits in the "
                        "database", (long long)ms_config_params(c, MS_INPUT),
                        (long long)ms_max_params(c->precision),
                        c->precision == MS_PREC_F64 ? "float64 " : "");
    const char *why;
    if ((why = ms_lr_rule(c->lr)))
        return ms_error("lr: %s (got %g)", why, c->lr);
    if ((why = ms_momentum_rule(c->momentum)))
        return ms_error("momentum: %s (got %g)", why, c->momentum);
    if (c->precision < 0 || c->precision >= MS_PREC_N)
        return ms_error("unknown precision %d", c->precision);
    if (c->keep < 0 || c->keep >= MS_KEEP_N)
        return ms_error("unknown keep %d", c->keep);
    if (c->dataset < 0 || c->dataset >= MS_DATASET_N)
        return ms_error("unknown dataset %d", c->dataset);
    if (c->train_size < 1)
        return ms_error("train size must be >= 1 (got %d)", c->train_size);
    if (c->val_size < 1)
        return ms_error("val size must be >= 1 (got %d)", c->val_size);
    if (c->batch < 1 || c->batch > c->train_size)
        return ms_error("batch: must be in 1..%d, the training size (got %d)", c->train_size, c->batch);
    if (c->epochs < 1)
        return ms_error("epochs: must be >= 1 (got %d)", c->epochs);
    int steps = c->train_size / c->batch;
    if (c->val_per_epoch < 1 || c->val_per_epoch > steps)
        return ms_error("val_per_epoch: must be in 1..%d, the steps per epoch (got %d)", steps,
                        c->val_per_epoch);
    if (c->early_stop < 0)
        return ms_error("early_stop: must be >= 0 (got %d)", c->early_stop);
    return 0;
}
