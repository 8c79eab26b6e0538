/* cmd_train, cmd_gradcheck: one configuration from the command line. */
#define _GNU_SOURCE /* getopt_long */
#include "ms_cli.h"
#include "ms_data.h"
#include "ms_gradcheck.h"
#include "ms_train.h"
#include "ms_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char train_usage[] =
    "usage: mlpsweep train [options]\n"
    "\n"
    "Train one network on MNIST; one CSV row per epoch on stdout\n"
    "(epoch,train_loss,train_acc,val_loss,val_acc,seconds), details on stderr.\n"
    "Defaults are the course baseline (task 2c).\n"
    "\n"
    "  --hidden N[,N...]      hidden layer sizes (64)\n"
    "  --activation NAME      sigmoid | improved_sigmoid (sigmoid)\n"
    "  --init NAME            uniform | fanin_normal (uniform)\n"
    "  --lr X                 learning rate (0.1)\n"
    "  --momentum X           momentum gamma, 0 = plain SGD (0)\n"
    "  --batch N              mini-batch size (32)\n"
    "  --epochs N             epochs (50)\n"
    "  --val-per-epoch N      validations per epoch (5)\n"
    "  --early-stop N         validations without improvement before stopping (50)\n"
    "  --no-early-stop        never stop early\n"
    "  --no-shuffle           keep the file order\n"
    "  --train-size N         first N training images (20000)\n"
    "  --val-size N           first N validation images (10000)\n"
    "  --seed N               random seed (1)\n"
    "  --precision NAME       float32 | float64: the arithmetic (float32); float64 is the\n"
    "                         course's NumPy arithmetic, several times slower\n"
    "  --data DIR             folder with the MNIST IDX files (data)\n"
    "  --threads N            OpenMP threads (all cores)\n"
    MS_HELP_EXIT;

enum { O_HIDDEN = 256, O_ACT, O_INIT, O_LR, O_MOM, O_BATCH, O_EPOCHS, O_VPE, O_ES, O_NOES,
       O_NOSHUF, O_TRAIN, O_VAL, O_SEED, O_PREC, O_DATA, O_THREADS, O_STRIDE, O_HELP };

static const struct option train_opts[] = {
    {"hidden", required_argument, 0, O_HIDDEN},
    {"activation", required_argument, 0, O_ACT},
    {"init", required_argument, 0, O_INIT},
    {"lr", required_argument, 0, O_LR},
    {"momentum", required_argument, 0, O_MOM},
    {"batch", required_argument, 0, O_BATCH},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"val-per-epoch", required_argument, 0, O_VPE},
    {"early-stop", required_argument, 0, O_ES},
    {"no-early-stop", no_argument, 0, O_NOES},
    {"no-shuffle", no_argument, 0, O_NOSHUF},
    {"train-size", required_argument, 0, O_TRAIN},
    {"val-size", required_argument, 0, O_VAL},
    {"seed", required_argument, 0, O_SEED},
    {"precision", required_argument, 0, O_PREC},
    {"data", required_argument, 0, O_DATA},
    {"threads", required_argument, 0, O_THREADS},
    {"stride", required_argument, 0, O_STRIDE},
    {"help", no_argument, 0, O_HELP},
    {0, 0, 0, 0},
};

/* An option naming one of n choices (each list has two): its index in *out. */
static int choice(const char *opt, const char *const *names, int n, const char *a, int *out)
{
    if ((*out = ms_name_index(names, n, a)) < 0)
        return ms_error("%s: expected %s or %s, got '%s'", opt, names[0], names[1], a);
    return 0;
}

/* Parse the options shared by train and gradcheck; returns 1 for --help. */
static int parse_train_opts(int argc, char **argv, ms_config *c, const char **data, int *threads,
                            long *stride)
{
    opterr = 0;
    optind = 1;
    for (;;) {
        int o = getopt_long(argc, argv, ":", train_opts, NULL);
        if (o == -1)
            break;
        const char *a = optarg;
        int rc = 0, x = 0;
        switch (o) {
        case O_HIDDEN: rc = ms_parse_hidden("--hidden", a, c); break;
        case O_ACT:
            if (!(rc = choice("--activation", ms_activation_names, MS_ACT_N, a, &x)))
                c->activation = (ms_activation)x;
            break;
        case O_INIT:
            if (!(rc = choice("--init", ms_init_names, MS_INIT_N, a, &x)))
                c->init = (ms_init)x;
            break;
        case O_LR: rc = ms_parse_double("--lr", a, &c->lr); break;
        case O_MOM: rc = ms_parse_double("--momentum", a, &c->momentum); break;
        case O_BATCH: rc = ms_parse_int("--batch", a, 1, MS_MAX_COUNT, &c->batch); break;
        case O_EPOCHS: rc = ms_parse_int("--epochs", a, 1, MS_MAX_COUNT, &c->epochs); break;
        case O_VPE: rc = ms_parse_int("--val-per-epoch", a, 1, MS_MAX_COUNT, &c->val_per_epoch); break;
        case O_ES: rc = ms_parse_int("--early-stop", a, 0, MS_MAX_COUNT, &c->early_stop); break;
        case O_NOES: c->early_stop = 0; break;
        case O_NOSHUF: c->shuffle = false; break;
        case O_TRAIN: rc = ms_parse_int("--train-size", a, 1, MS_MAX_TRAIN, &c->train_size); break;
        case O_VAL: rc = ms_parse_int("--val-size", a, 1, MS_MAX_VAL, &c->val_size); break;
        case O_SEED: rc = ms_parse_u64("--seed", a, MS_MAX_SEED, &c->seed); break;
        case O_PREC:
            if (stride) /* gradcheck: always double */
                rc = ms_error("unknown option '--precision' (see --help)");
            else if (!(rc = choice("--precision", ms_precision_names, MS_PREC_N, a, &x)))
                c->precision = (ms_precision)x;
            break;
        case O_DATA: *data = a; break;
        case O_THREADS: rc = ms_parse_int("--threads", a, 1, 1024, threads); break;
        case O_STRIDE:
            if (!stride)
                rc = ms_error("unknown option '--stride' (see --help)");
            else {
                int s = 1;
                rc = ms_parse_int("--stride", a, 1, 1 << 30, &s);
                *stride = s;
            }
            break;
        case O_HELP: return 1;
        default: rc = ms_option_error(o, argv, train_opts); break;
        }
        if (rc)
            return -1;
    }
    if (optind < argc)
        return ms_error("unexpected argument '%s' (see --help)", argv[optind]);
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

int cmd_train(int argc, char **argv)
{
    ms_config c;
    ms_config_default(&c);
    const char *dir = ms_default_data_dir();
    int threads = ms_default_threads();
    int rc = parse_train_opts(argc, argv, &c, &dir, &threads, NULL);
    if (rc == 1) {
        fputs(train_usage, stdout);
        return MS_EXIT_OK;
    }
    if (rc < 0)
        return MS_EXIT_USAGE;

    ms_data d;
    if (ms_data_load(dir, c.train_size, c.val_size, &d) < 0)
        return MS_EXIT_FAIL;
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

static const char gradcheck_usage[] =
    "usage: mlpsweep gradcheck [--hidden N[,N...]] [--activation NAME] [--stride K]\n"
    "                          [--seed N] [--data DIR] [--threads N]\n"
    "\n"
    "The assignment's gradient check: the first 100 training images, weights\n"
    "U(-1,1), central differences with e = 1e-3 against the analytic gradient,\n"
    "which must agree within 1e-6. --stride K checks every K-th weight (1 = all).\n"
    MS_HELP_EXIT;

int cmd_gradcheck(int argc, char **argv)
{
    ms_config c;
    ms_config_default(&c);
    c.train_size = 100;
    c.val_size = 1;
    c.batch = 1;
    const char *dir = ms_default_data_dir();
    int threads = ms_default_threads();
    long stride = 1;
    int rc = parse_train_opts(argc, argv, &c, &dir, &threads, &stride);
    if (rc == 1) {
        fputs(gradcheck_usage, stdout);
        return MS_EXIT_OK;
    }
    if (rc < 0)
        return MS_EXIT_USAGE;
    ms_data d;
    if (ms_data_load(dir, 20000, 1, &d) < 0) /* normalisation from the usual 20,000 */
        return MS_EXIT_FAIL;
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
