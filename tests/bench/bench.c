/* make bench: figures a reader can compare, as Markdown tables.
 *
 *   1. the machine's single-precision peak: a tight FMA loop (and OpenBLAS
 *      sgemm on a large square product, when libopenblas is installed);
 *   2. our kernels against OpenBLAS cblas_sgemm on the study's shapes;
 *   3. per network: ms per training step, ms per validation, s per epoch,
 *      GFLOP/s and fraction of peak, with 1 and 2 threads;
 *   4. the full default sweep (8 variants x 50 epochs, early stopping off):
 *      wall time and peak resident memory.
 *
 * Usage: bench MLPSWEEP_BINARY [--quick] */
#define _GNU_SOURCE
#include "ms_data.h"
#include "ms_kernels.h"
#include "ms_train.h"
#include "ms_util.h"

#include <dlfcn.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

typedef float v16 __attribute__((vector_size(64)));

/* FLOP/s of independent FMA chains: 12 accumulators hide the FMA latency. */
static double fma_peak(int threads)
{
    const long iters = 20000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = ms_now();
        float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
        {
            v16 a[12], x = {0}, y = {0};
            for (int i = 0; i < 16; i++)
                x[i] = 1.0f + 1e-7f * i, y[i] = 1e-8f;
            for (int k = 0; k < 12; k++)
                a[k] = x * (float)k;
            for (long i = 0; i < iters; i++)
                for (int k = 0; k < 12; k++)
                    a[k] = a[k] * x + y;
            for (int k = 0; k < 12; k++)
                for (int i = 0; i < 16; i++)
                    sink += a[k][i];
        }
        double t = ms_now() - t0;
        double f = 2.0 * 16 * 12 * iters * threads / t / 1e9;
        if (f > best)
            best = f;
        if (sink == 42.0f)
            puts("");
    }
    return best;
}

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
static sgemm_fn blas_sgemm;
static void (*blas_threads)(int);

static void load_openblas(void)
{
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", NULL};
    for (int i = 0; names[i] && !blas_sgemm; i++) {
        void *h = dlopen(names[i], RTLD_NOW);
        if (h) {
            blas_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
            blas_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
        }
    }
}

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

static double time_best(void (*fn)(void *), void *arg, double min_seconds)
{
    double best = 1e30;
    double start = ms_now();
    int reps = 0;
    while (reps < 3 || ms_now() - start < min_seconds) {
        double t0 = ms_now();
        fn(arg);
        double t = ms_now() - t0;
        best = t < best ? t : best;
        reps++;
    }
    return best;
}

typedef struct kcase {
    int B, K, N, threads, which; /* which: 0 ours nn, 1 ours tn, 2 blas nn, 3 blas tn */
    float *X, *W, *Y;
    int reps;
} kcase;

static void run_kernel(void *p)
{
    kcase *c = p;
    for (int r = 0; r < c->reps; r++) {
        switch (c->which) {
        case 0: ms_mm_nn_f(c->Y, c->X, c->W, c->B, c->K, c->N, c->threads); break;
        case 1: ms_mm_tn_f(c->W, c->X, c->Y, c->B, c->K, c->N, c->threads); break;
        case 2:
            blas_sgemm(RowMajor, NoTrans, NoTrans, c->B, c->N, c->K, 1.0f, c->X, c->K, c->W, c->N,
                       0.0f, c->Y, c->N);
            break;
        case 3:
            blas_sgemm(RowMajor, Trans, NoTrans, c->K, c->N, c->B, 1.0f / c->B, c->X, c->K, c->Y,
                       c->N, 0.0f, c->W, c->N);
            break;
        }
    }
}

static void kernels_table(double peak1)
{
    static const int shapes[][3] = {{32, 785, 64}, {32, 785, 128}, {32, 785, 32}, {32, 64, 64},
                                    {256, 785, 64}, {256, 64, 64}, {256, 64, 10}};
    printf("\n### Kernels, 1 thread (GFLOP/s; %% of the FMA-loop peak)\n\n");
    printf("| product | shape B x K x N | ours | %s |\n|---|---|---|---|\n",
           blas_sgemm ? "OpenBLAS" : "OpenBLAS (not installed)");
    if (blas_threads)
        blas_threads(1);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        for (int tn = 0; tn < 2; tn++) {
            kcase c = {shapes[s][0], shapes[s][1], shapes[s][2], 1, tn, NULL, NULL, NULL, 0};
            if (tn && c.B != 32)
                continue; /* weight gradients are batch-sized */
            c.X = ms_alloc_aligned(sizeof(float) * c.B * c.K);
            c.W = ms_alloc_aligned(sizeof(float) * c.K * c.N);
            c.Y = ms_alloc_aligned(sizeof(float) * c.B * c.N);
            for (int i = 0; i < c.B * c.K; i++)
                c.X[i] = (float)(i % 13) * 0.01f;
            for (int i = 0; i < c.K * c.N; i++)
                c.W[i] = (float)(i % 7) * 0.01f;
            for (int i = 0; i < c.B * c.N; i++)
                c.Y[i] = (float)(i % 5) * 0.01f;
            double flops = 2.0 * c.B * c.K * c.N;
            c.reps = (int)(2e8 / flops) + 1;
            double ours = flops * c.reps / time_best(run_kernel, &c, 0.2) / 1e9, blas = 0;
            if (blas_sgemm) {
                c.which = tn ? 3 : 2;
                blas = flops * c.reps / time_best(run_kernel, &c, 0.2) / 1e9;
            }
            char b[64] = "-";
            if (blas_sgemm)
                snprintf(b, sizeof b, "%.1f (%.0f%%)", blas, 100 * blas / peak1);
            printf("| %s | %d x %d x %d | %.1f (%.0f%%) | %s |\n",
                   tn ? "A^T D (weight gradient)" : "A W (forward)", c.B, c.K, c.N, ours,
                   100 * ours / peak1, b);
            ms_free_aligned(c.X), ms_free_aligned(c.W), ms_free_aligned(c.Y);
        }
    }
}

typedef struct net {
    const char *name;
    int nhidden, width;
} net;

static void networks_table(const ms_data *d, const double peak[3], int quick)
{
    static const net nets[] = {{"[64,10]", 1, 64}, {"[32,10]", 1, 32}, {"[128,10]", 1, 128},
                               {"[64,64,10]", 2, 64}, {"ten hidden layers of 64", 10, 64}};
    printf("\n### Training, per network (one epoch: 625 steps of batch 32, 5 validations over "
           "30,000 images)\n\n");
    printf("| network | params | threads | ms/step | ms/validation | s/epoch | GFLOP/s | %% of peak |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) {
        for (int th = 1; th <= 2; th++) {
            ms_config c;
            ms_config_default(&c);
            c.nhidden = nets[i].nhidden;
            for (int l = 0; l < c.nhidden; l++)
                c.hidden[l] = nets[i].width;
            c.activation = MS_ACT_IMPROVED_SIGMOID;
            c.init = MS_INIT_FANIN_NORMAL;
            c.momentum = 0.9;
            c.lr = 0.02;
            c.early_stop = 0;
            ms_trainer t;
            if (ms_trainer_init(&t, &c, d, th) < 0)
                exit(1);
            double best_epoch = 1e30, best_val = 1e30;
            int epochs = quick ? 1 : 3;
            for (int e = 0; e < epochs; e++) {
                ms_epoch ep;
                ms_trainer_epoch(&t, &ep);
                best_epoch = ep.seconds < best_epoch ? ep.seconds : best_epoch;
                double t0 = ms_now(), l, a;
                ms_trainer_evaluate(&t, &d->train, c.train_size, &l, &a);
                ms_trainer_evaluate(&t, &d->val, c.val_size, &l, &a);
                double tv = ms_now() - t0;
                best_val = tv < best_val ? tv : best_val;
            }
            double step_ms = (best_epoch - 5 * best_val) / 625 * 1e3;
            double np = (double)t.shape.nparams;
            double flops = np * 2 * (3.0 * 20000 + 5.0 * 30000);
            double gf = flops / best_epoch / 1e9;
            printf("| %s | %.0f | %d | %.3f | %.1f | %.3f | %.1f | %.0f%% |\n", nets[i].name, np, th,
                   step_ms, best_val * 1e3, best_epoch, gf, 100 * gf / peak[th]);
            fflush(stdout);
            ms_trainer_release(&t);
        }
    }
}

/* The full default sweep without early stopping, as a user runs it. */
static void sweep_table(const char *bin)
{
    char dir[] = "/tmp/mlpsweep-bench-XXXXXX";
    if (!mkdtemp(dir))
        return;
    char man[512], db[512], cmd[2048];
    snprintf(man, sizeof man, "%s/bench.yaml", dir);
    snprintf(db, sizeof db, "%s/bench.db", dir);
    /* the default study, early stopping off, the eight variants of the assignment */
    snprintf(cmd, sizeof cmd,
             "sed -e 's/^  early_stop: .*/  early_stop: 0/' experiments/tdt4265_a2.yaml | "
             "awk '/- name: two_layers_60/{skip=1; next} /- name:/{skip=0} !skip' > %s",
             man);
    if (system(cmd) != 0)
        return;
    double t0 = ms_now();
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "run", man, "--db", db, "--quiet", (char *)NULL);
        _exit(127);
    }
    int st;
    struct rusage ru;
    wait4(pid, &st, 0, &ru);
    double wall = ms_now() - t0;
    printf("\n### The full default sweep (8 variants x 50 epochs, early stopping off, all cores)\n\n");
    printf("| wall time | CPU time | peak resident memory | exit |\n|---|---|---|---|\n");
    printf("| %.1f s | %.1f s | %.1f MiB | %d |\n", wall,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec,
           ru.ru_maxrss / 1024.0, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(int argc, char **argv)
{
    const char *bin = argc > 1 ? argv[1] : "build/mlpsweep";
    int quick = argc > 2 && !strcmp(argv[2], "--quick");
    char host[256] = "?";
    gethostname(host, sizeof host);
    FILE *f = popen("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2", "r");
    char cpu[256] = "?";
    if (f) {
        if (fgets(cpu, sizeof cpu, f))
            cpu[strcspn(cpu, "\n")] = 0;
        pclose(f);
    }
    printf("## mlpsweep benchmark\n\nmachine:%s, %ld cores; compiler: gcc %s\n", cpu,
           sysconf(_SC_NPROCESSORS_ONLN), __VERSION__);
    load_openblas();
    double peak[3] = {0, fma_peak(1), fma_peak(2)};
    printf("\n### Single-precision peak (FMA loop)\n\n| threads | GFLOP/s |\n|---|---|\n"
           "| 1 | %.1f |\n| 2 | %.1f |\n",
           peak[1], peak[2]);
    kernels_table(peak[1]);
    ms_data d;
    if (ms_data_load("data", 20000, 10000, &d) < 0)
        return 1;
    networks_table(&d, peak, quick);
    ms_data_release(&d);
    if (!quick)
        sweep_table(bin);
    return 0;
}
