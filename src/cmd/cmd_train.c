/* cmd_train, cmd_gradcheck: one configuration from the command line. */
#include "ms_cli.h"
#include "ms_data.h"
#include "ms_gradcheck.h"
#include "ms_train.h"
#include "ms_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ms_usage train_usage = {
    .synopsis = "usage: mlpsweep train [options]\n",
    .about = "Train one network on MNIST; one CSV row per epoch on stdout\n"
             "(epoch,train_loss,train_acc,val_loss,val_acc,seconds), details on stderr.\n"
             "Defaults are the course baseline (task 2c).\n",
};

static const ms_usage gradcheck_usage = {
    .synopsis = "usage: mlpsweep gradcheck [--hidden N[,N...]] [--activation NAME] [--stride K]\n"
                "                          [--seed N] [--data DIR] [--threads N]\n",
    .about = "The assignment's gradient check: the first 100 training images, weights\n"
             "U(-1,1), central differences with e = 1e-3 against the analytic gradient,\n"
             "which must agree within 1e-6. --stride K checks every K-th weight (1 = all).\n",
};

/* The options are stored as ints (ms_option's CHOICE and INT): the enums
 * of a configuration must be int-sized. */
_Static_assert(sizeof(ms_activation) == sizeof(int) && sizeof(ms_init) == sizeof(int) &&
                   sizeof(ms_precision) == sizeof(int),
               "enum fields are stored through int *");

static int no_shuffle(const ms_option *opt, const char *arg)
{
    (void)arg;
    ((ms_config *)opt->value)->shuffle = false;
    return 0;
}

static int hidden_sizes(const ms_option *opt, const char *arg)
{
    return ms_parse_hidden("--hidden", arg, opt->value);
}

/* The options of train, and of gradcheck (stride != NULL), over one
 * configuration; returns the options' ms_parse_options result, then the
 * configuration checked as a whole. gradcheck has --stride, not
 * --precision (its check is always float64), and lists only the options
 * that change its check: the others are accepted and, but for
 * --train-size (the images checked), make no difference. */
static int parse_config(int argc, char **argv, ms_config *c, const char **data, int *threads,
                        int *stride)
{
    const int gc = stride != NULL;
#define TRAIN_ONLY(help) (gc ? NULL : (help))
    const ms_option opts[] = {
        MS_OPT_CALLBACK(0, "hidden", c, "N[,N...]", "hidden layer sizes (64)", hidden_sizes),
        MS_OPT_CHOICE(0, "activation", &c->activation, ms_activation_names, MS_ACT_N, "NAME",
                      "sigmoid | improved_sigmoid (sigmoid)"),
        MS_OPT_CHOICE(0, "init", &c->init, ms_init_names, MS_INIT_N, "NAME",
                      TRAIN_ONLY("uniform | fanin_normal (uniform)")),
        MS_OPT_DOUBLE(0, "lr", &c->lr, "X", TRAIN_ONLY("learning rate (0.1)")),
        MS_OPT_DOUBLE(0, "momentum", &c->momentum, "X",
                      TRAIN_ONLY("momentum gamma, 0 = plain SGD (0)")),
        MS_OPT_INT(0, "batch", &c->batch, 1, MS_MAX_COUNT, "N", TRAIN_ONLY("mini-batch size (32)")),
        MS_OPT_INT(0, "epochs", &c->epochs, 1, MS_MAX_COUNT, "N", TRAIN_ONLY("epochs (50)")),
        MS_OPT_INT(0, "val-per-epoch", &c->val_per_epoch, 1, MS_MAX_COUNT, "N",
                   TRAIN_ONLY("validations per epoch (5)")),
        MS_OPT_INT(0, "early-stop", &c->early_stop, 0, MS_MAX_COUNT, "N",
                   TRAIN_ONLY("validations without improvement before stopping (50)")),
        MS_OPT_SET_INT(0, "no-early-stop", &c->early_stop, 0, TRAIN_ONLY("never stop early")),
        MS_OPT_CALLBACK(0, "no-shuffle", c, NULL, TRAIN_ONLY("keep the file order"), no_shuffle),
        MS_OPT_INT(0, "train-size", &c->train_size, 1, MS_MAX_TRAIN, "N",
                   TRAIN_ONLY("first N training images (20000)")),
        MS_OPT_INT(0, "val-size", &c->val_size, 1, MS_MAX_VAL, "N",
                   TRAIN_ONLY("first N validation images (10000)")),
        MS_OPT_U64(0, "seed", &c->seed, MS_MAX_SEED, "N", "random seed (1)"),
        gc ? (ms_option)MS_OPT_INT(0, "stride", stride, 1, 1 << 30, "K",
                                   "check every K-th weight (1: all)")
           : (ms_option)MS_OPT_CHOICE(0, "precision", &c->precision, ms_precision_names, MS_PREC_N,
                                      "NAME",
                                      "float32 | float64: the arithmetic (float32); float64 is "
                                      "the course's NumPy arithmetic, several times slower"),
        MS_OPT_STRING(0, "data", data, "DIR",
                      "folder with the MNIST IDX files (else: data, $MLPSWEEP_DATA, the cache)"),
        MS_OPT_INT(0, "threads", threads, 1, 1024, "N", "OpenMP threads (all cores)"),
        MS_OPT_END(),
    };
#undef TRAIN_ONLY
    argc = ms_parse_options(argc, argv, opts, gc ? &gradcheck_usage : &train_usage);
    if (argc < 0)
        return argc;
    if (argc > 0)
        return ms_error("unexpected argument '%s' (see --help)", argv[0]);
    return ms_config_validate(c);
}

/* One epoch as a CSV row: the numbers exactly, in their shortest form. */
static void print_row(const ms_epoch *e)
{
    char a[32], b[32], c[32], d[32];
    printf("%d,%s,%s,%s,%s,%.3f\n", e->epoch, ms_shortest(a, e->train_loss),
           ms_shortest(b, e->train_acc), ms_shortest(c, e->val_loss), ms_shortest(d, e->val_acc),
           e->seconds);
}

/* MNIST's first ntrain/nval images from --data (given) or where every
 * command looks (ms_data_locate); an exit status. */
static int load_data(const char *given, int ntrain, int nval, ms_data *d)
{
    ms_data_where w = {.given = given, .dataset = MS_DATASET_MNIST};
    char *dir;
    int rc = ms_data_locate(&w, &dir);
    if (rc < 0)
        return rc == -2 ? MS_EXIT_USAGE : MS_EXIT_FAIL;
    rc = ms_data_load(dir, ntrain, nval, d);
    free(dir);
    return rc < 0 ? MS_EXIT_FAIL : MS_EXIT_OK;
}

int cmd_train(int argc, char **argv)
{
    ms_config c;
    ms_config_default(&c);
    const char *dir = NULL;
    int threads = ms_default_threads();
    int rc = parse_config(argc, argv, &c, &dir, &threads, NULL);
    if (rc < 0)
        return ms_options_exit(rc);

    ms_data d;
    if ((rc = load_data(dir, c.train_size, c.val_size, &d)) != MS_EXIT_OK)
        return rc;
    ms_trainer t;
    if (ms_trainer_init(&t, &c, &d, threads) < 0) {
        ms_data_release(&d);
        return MS_EXIT_FAIL;
    }
    char hid[MS_MAX_HIDDEN * 12];
    ms_config_hidden_str(&c, hid, sizeof hid);
    fprintf(stderr, "network [%s,10] %s, %s init: %zu parameters, %s\n", hid,
            ms_activation_name(c.activation), ms_init_name(c.init), t.shape.nparams,
            ms_precision_names[c.precision]);
    fprintf(stderr, "data: %d train, %d val images; mean %.14g, std %.14g\n", c.train_size,
            c.val_size, d.mean, d.std);
    printf("epoch,train_loss,train_acc,val_loss,val_acc,seconds\n");
    int status = MS_EXIT_OK;
    while (!t.stop) {
        ms_epoch e;
        if (ms_trainer_epoch(&t, &e) < 0) {
            status = MS_EXIT_FAIL;
            break;
        }
        print_row(&e);
        fflush(stdout);
    }
    fprintf(stderr, "stopped: %s after %d epochs (%lld steps)\n", ms_stop_name(t.stop), t.epoch,
            (long long)t.step);
    ms_trainer_release(&t);
    ms_data_release(&d);
    return status;
}

int cmd_gradcheck(int argc, char **argv)
{
    ms_config c;
    ms_config_default(&c);
    c.train_size = 100;
    c.val_size = 1;
    c.batch = 1;
    const char *dir = NULL;
    int threads = ms_default_threads();
    int stride = 1;
    int rc = parse_config(argc, argv, &c, &dir, &threads, &stride);
    if (rc < 0)
        return ms_options_exit(rc);
    enum { NORM = 20000 }; /* normalisation from the usual 20,000 images, checked on the first n */
    if (c.train_size > NORM) {
        ms_error("--train-size: gradcheck checks at most the %d images it normalises over (got %d)",
                 NORM, c.train_size);
        return MS_EXIT_USAGE;
    }
    ms_data d;
    if ((rc = load_data(dir, NORM, 1, &d)) != MS_EXIT_OK)
        return rc;
    int n = c.train_size;
    double *X = ms_malloc((size_t)n * MS_INPUT * sizeof(double));
    ms_data_gather_d(&d, &d.train, NULL, 0, n, X);
    ms_gradcheck_result r;
    ms_gradcheck(&c, X, d.train.labels, n, c.seed, (size_t)stride, 1e-3, &r, threads);
    char hid[MS_MAX_HIDDEN * 12];
    ms_config_hidden_str(&c, hid, sizeof hid);
    int ok = r.max_err <= 1e-6 && r.nonzero > 0;
    printf("gradcheck [%s,10] %s: %zu weights, max |numerical - analytic| = %.3g (weight %zu), "
           "max |grad| = %.3g: %s\n",
           hid, ms_activation_name(c.activation), r.checked, r.max_err, r.worst, r.max_grad,
           ok ? "ok" : "FAILED");
    free(X);
    ms_data_release(&d);
    return ok ? MS_EXIT_OK : MS_EXIT_FAIL;
}
