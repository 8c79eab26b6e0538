/* make bench: figures a reader can compare, as Markdown on stdout (progress
 * goes to stderr).
 *
 *   1. the machine: CPU, cores, the kernels' ISA, compiler, the peers' BLAS;
 *   2. the single-precision peak of an FMA loop written for the build's ISA,
 *      on 1 thread and on all cores, repeated 3 times;
 *   3. our kernels against OpenBLAS cblas_sgemm on the study's shapes;
 *   4. per network of the study, at 1 and 2 threads, interleaved: our epoch
 *      time (in process), then the NumPy peer in float32 and float64 (child
 *      processes), so load from other jobs hits all three alike;
 *   5. the default study run as a user runs it (early stopping on): wall and
 *      CPU time, peak RSS, and what NumPy would need for the same epochs;
 *   6. the targets of issue 10, PASS or FAIL;
 *   7. a grid at scale (issue 24): N runs of a tiny net run as a user runs
 *      them (check, run, status, export, report, each a child process), its
 *      overhead over the runs' own training time, database bytes a run and
 *      peak RSS, then its targets, PASS or FAIL.
 *
 * Usage (from the repository root): bench MLPSWEEP_BINARY [--quick] [--epochs N]
 *            [--peer-avx2] [--grid-runs N[,N...]] [--grid-only]
 *   --quick        2 epochs per measurement instead of 4, no study, a grid of 1000 runs only
 *   --grid-runs    the grid's sizes (default 1000,10000; wins over --quick)
 *   --grid-only    the machine and the grid only (needs neither NumPy nor OpenBLAS) */
#define _GNU_SOURCE
#include "ms_config.h"
#include "ms_data.h"
#include "ms_kernels.h"
#include "ms_manifest.h"
#include "ms_train.h"
#include "ms_util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <immintrin.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PEER "tests/bench/peer_numpy.py"
#define PYTHON "/usr/bin/python3"
#define MANIFEST "experiments/tdt4265_a2.yaml"
/* The peers must pick their own OpenBLAS kernel and cache sizes: a forced
 * core type or L2 size (as some environments set) would skew them. */
#define PEER_ENV "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
/* --peer-avx2, to stand in for an AVX2 machine on an AVX-512 one (with a
 * build for ARCH=x86-64-v3): OpenBLAS's Haswell kernels and NumPy's own
 * loops without AVX-512, as an AVX2 CPU would run them. Never the default. */
#define PEER_ENV_AVX2                                                                              \
    "env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=Haswell MLPSWEEP_PEER_AVX2=1 "                      \
    "NPY_DISABLE_CPU_FEATURES='AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL'"
static const char *peer_env = PEER_ENV;
static int peer_avx2;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of n values (sorts them in place). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    snprintf(buf, n, "?");
    if (f) {
        if (!fgets(buf, (int)n, f))
            snprintf(buf, n, "?");
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = 0;
}

/* The first three fields of /proc/loadavg: 1, 5 and 15 minute averages. */
static void loadavg(char *buf, size_t n)
{
    read_line("/proc/loadavg", buf, n);
    char *p = buf;
    for (int i = 0; i < 3 && p; i++)
        p = strchr(p + 1, ' ');
    if (p)
        *p = 0;
}

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = 0;
            snprintf(buf, n, "%s", colon);
            break;
        }
    }
    fclose(f);
}

/* ---- the FMA-loop peak, for the ISA this file is compiled for ---------- */

/* Independent accumulators hide the FMA latency (4 cycles, 2 pipes: at least
 * 8 in flight); all must stay in registers, with x and y: AVX-512 has 32
 * vector registers, AVX2 16, so 12 accumulators there. */
#if defined(__AVX512F__)
#define PEAK_DESC "16 accumulators of __m512, _mm512_fmadd_ps"
enum { LANES = 16, NACC = 16 };
typedef __m512 vreg;
#define VSET1(v) _mm512_set1_ps(v)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VADD(a, b) _mm512_add_ps(a, b)
static float vsum(vreg v) { return _mm512_reduce_add_ps(v); }
#elif defined(__AVX2__) && defined(__FMA__)
#define PEAK_DESC "12 accumulators of __m256, _mm256_fmadd_ps"
enum { LANES = 8, NACC = 12 };
typedef __m256 vreg;
#define VSET1(v) _mm256_set1_ps(v)
#define VFMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define VADD(a, b) _mm256_add_ps(a, b)
static float vsum(vreg v)
{
    float f[8], s = 0;
    _mm256_storeu_ps(f, v);
    for (int i = 0; i < 8; i++)
        s += f[i];
    return s;
}
#else
/* Portable fallback: a*b+c (an FMA where the target has one, else 2 ops). */
#define PEAK_DESC "12 scalar float accumulators (no AVX2+FMA in this build)"
enum { LANES = 1, NACC = 12 };
typedef float vreg;
#define VSET1(v) (v)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
static float vsum(vreg v) { return v; }
#endif

/* noinline: one loop to check in `objdump -d build/bench` (no stack traffic
 * between the FMAs). x and y are run-time values and the sum is returned, so
 * the chains can be neither folded nor dropped. */
__attribute__((noinline)) static float fma_chains(long iters, float xv, float yv)
{
    vreg x = VSET1(xv), y = VSET1(yv), a[NACC];
    for (int k = 0; k < NACC; k++)
        a[k] = VSET1(1.0f + 0.001f * (float)k);
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < NACC; k++)
            a[k] = VFMA(a[k], x, y);
    vreg s = a[0];
    for (int k = 1; k < NACC; k++)
        s = VADD(s, a[k]);
    return vsum(s);
}

static volatile float peak_sink;
static volatile float peak_x = 0.9999999f, peak_y = 1e-7f; /* a stays near 1: no denormals */

/* GFLOP/s of `threads` copies of the loop, one per OpenMP thread. */
static double fma_gflops(int threads, long iters)
{
    float x = peak_x, y = peak_y;
    double t0 = ms_now();
#pragma omp parallel num_threads(threads)
    {
        float s = fma_chains(iters, x, y);
#pragma omp atomic
        peak_sink += s;
    }
    double t = ms_now() - t0;
    return 2.0 * LANES * NACC * (double)iters * threads / t / 1e9;
}

typedef struct peak {
    int threads;
    double best, med, worst; /* GFLOP/s over 3 repetitions */
} peak;

static peak fma_peak(int threads, long iters)
{
    double g[3];
    for (int r = 0; r < 3; r++)
        g[r] = fma_gflops(threads, iters);
    peak p = {threads, 0, median(g, 3), 0};
    p.worst = g[0], p.best = g[2];
    return p;
}

/* ---- OpenBLAS, loaded at run time so the build does not need it -------- */

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
static sgemm_fn blas_sgemm;
static void (*blas_threads)(int);
static char blas_core[64] = "-", blas_config[256] = "not installed";

static void load_openblas(void)
{
    /* Read when the library loads: unset them first (see PEER_ENV). */
    if (peer_avx2)
        setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    unsetenv("OPENBLAS_L2_SIZE");
    const char *names[] = {"libopenblas.so.0", "libopenblas.so", NULL};
    for (int i = 0; names[i] && !blas_sgemm; i++) {
        void *h = dlopen(names[i], RTLD_NOW);
        if (!h)
            continue;
        blas_sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        blas_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
        char *(*core)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
        char *(*config)(void) = (char *(*)(void))dlsym(h, "openblas_get_config");
        if (core)
            snprintf(blas_core, sizeof blas_core, "%s", core());
        if (config)
            snprintf(blas_config, sizeof blas_config, "%s", config());
    }
    if (blas_threads)
        blas_threads(1); /* the kernel table is single-threaded */
}

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

typedef struct kcase {
    int B, K, N, which; /* which: 0 ours nn, 1 ours tn, 2 blas nn, 3 blas tn */
    float *X, *W, *Y;
    int reps;
} kcase;

static void run_kernel(const kcase *c)
{
    for (int r = 0; r < c->reps; r++) {
        switch (c->which) {
        case 0: ms_mm_nn_f(c->Y, c->X, c->W, c->B, c->K, c->N, 1); break;
        case 1: ms_mm_tn_f(c->W, c->X, c->Y, c->B, c->K, c->N, 1); break;
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

/* Best time of a batch of reps: at least 3 batches and 0.2 s. */
static double kernel_gflops(const kcase *c)
{
    double best = 1e30, start = ms_now();
    for (int n = 0; n < 3 || ms_now() - start < 0.2; n++) {
        double t0 = ms_now();
        run_kernel(c);
        double t = ms_now() - t0;
        best = t < best ? t : best;
    }
    return 2.0 * c->B * c->K * c->N * c->reps / best / 1e9;
}

static void kernels_table(double peak1)
{
    static const int shapes[][3] = {{32, 785, 64}, {32, 785, 128}, {32, 785, 32}, {32, 64, 64},
                                    {256, 785, 64}, {256, 64, 64}, {256, 64, 10}};
    printf("\n### Kernels, 1 thread (GFLOP/s, %% of the 1-core FMA peak)\n\n");
    printf("Dense float32 products; OpenBLAS is `cblas_sgemm` from libopenblas.so.0 "
           "(core %s). The training itself runs the first layer over the nonzero pixels "
           "only (`ms_sp_*`), not timed here.\n\n",
           blas_core);
    printf("| product | B x K x N | ours | OpenBLAS |\n|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        for (int tn = 0; tn < 2; tn++) {
            kcase c = {shapes[s][0], shapes[s][1], shapes[s][2], tn, NULL, NULL, NULL, 0};
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
            c.reps = (int)(2e8 / (2.0 * c.B * c.K * c.N)) + 1; /* ~0.2 GFLOP a batch */
            double ours = kernel_gflops(&c);
            char b[64] = "-";
            if (blas_sgemm) {
                c.which = tn ? 3 : 2;
                double blas = kernel_gflops(&c);
                snprintf(b, sizeof b, "%.1f (%.0f %%)", blas, 100 * blas / peak1);
            }
            printf("| %s | %d x %d x %d | %.1f (%.0f %%) | %s |\n",
                   tn ? "A^T D, weight gradient" : "A W, forward", c.B, c.K, c.N, ours,
                   100 * ours / peak1, b);
            fflush(stdout);
            ms_free_aligned(c.X), ms_free_aligned(c.W), ms_free_aligned(c.Y);
        }
    }
}

/* ---- the NumPy peer ----------------------------------------------------- */

typedef struct peer {
    int ok;
    double min, median;
    char core[64];
} peer;

/* A number or string field of the peer's one-line JSON (flat, known keys). */
static int json_field(const char *line, const char *key, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t len = *p == '"' ? strcspn(++p, "\"") : strcspn(p, ",}");
    snprintf(out, n, "%.*s", (int)len, p);
    return 0;
}

/* Run the peer with `args` and OPENBLAS_NUM_THREADS=threads; parse the last
 * JSON line of its stdout (the other lines are progress, echoed to stderr). */
static peer run_peer(const char *args, int threads)
{
    peer r = {0, 0, 0, "?"};
    char cmd[512], *line = NULL, *last = NULL;
    size_t cap = 0;
    snprintf(cmd, sizeof cmd, "%s OPENBLAS_NUM_THREADS=%d " PYTHON " " PEER " %s", peer_env,
             threads, args);
    fflush(NULL);
    FILE *f = popen(cmd, "r");
    if (!f)
        return r;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] == '{') {
            free(last);
            last = strdup(line);
        } else {
            fprintf(stderr, "  numpy: %s", line);
        }
    }
    free(line);
    int st = pclose(f);
    char v[64];
    if (last && st == 0 && !json_field(last, "openblas_core", r.core, sizeof r.core)) {
        r.ok = 1;
        if (!json_field(last, "min", v, sizeof v))
            r.min = strtod(v, NULL);
        if (!json_field(last, "median", v, sizeof v))
            r.median = strtod(v, NULL);
    } else {
        fprintf(stderr, "bench: peer failed (status %d): %s\n", st, cmd);
    }
    free(last);
    return r;
}

/* ---- the study's networks ----------------------------------------------- */

typedef struct net {
    const char *name, *variant, *peer_hidden;
    int nhidden, width;
} net;

static const net nets[] = {
    {"[32]", "hidden_32", "32", 1, 32},
    {"[64]", "momentum", "64", 1, 64},
    {"[128]", "hidden_128", "128", 1, 128},
    {"[64,64]", "two_layers", "64,64", 2, 64},
    {"[60,60]", "two_layers_60", "60,60", 2, 60},
    {"10 x [64]", "ten_layers", "10x64", 10, 64},
};
enum { NNETS = sizeof nets / sizeof *nets };

typedef struct row {
    double ours_min, ours_med, gflops, pct;
    double d_min, d_med; /* ours with precision: float64 */
    peer f32, f64;
} row;

static ms_config net_config(const net *n)
{
    ms_config c;
    ms_config_default(&c);
    c.nhidden = n->nhidden;
    for (int l = 0; l < c.nhidden; l++)
        c.hidden[l] = n->width;
    c.activation = MS_ACT_IMPROVED_SIGMOID;
    c.init = MS_INIT_FANIN_NORMAL;
    c.momentum = 0.9;
    c.lr = 0.02;
    c.early_stop = 0;
    return c;
}

/* Dense flops of one epoch. A K x N layer costs 2KN per row for each of the
 * forward, the weight gradient and the input gradient; an epoch trains on
 * 625 x 32 = 20000 rows and validates 5 times over 20000 + 10000 rows
 * (forward only). The first layer has no input gradient. */
static double epoch_flops(const ms_config *c)
{
    const double train = 20000, val = 5 * 30000.0;
    double f = 0;
    int k = MS_INPUT;
    for (int l = 0; l <= c->nhidden; l++) {
        int n = l < c->nhidden ? c->hidden[l] : MS_CLASSES;
        f += 2.0 * k * n * ((l == 0 ? 2 : 3) * train + val);
        k = n;
    }
    return f;
}

/* Our epoch times: min and median over `epochs` epochs of a fresh run. */
static void ours(const ms_data *d, const ms_config *c, int threads, int epochs, row *r)
{
    ms_trainer t;
    if (ms_trainer_init(&t, c, d, threads) < 0)
        exit(1);
    double s[16];
    for (int e = 0; e < epochs; e++) {
        ms_epoch ep;
        double t0 = ms_now();
        ms_trainer_epoch(&t, &ep);
        s[e] = ms_now() - t0;
    }
    ms_trainer_release(&t);
    r->ours_med = median(s, epochs); /* sorts s */
    r->ours_min = s[0];
}

static void networks_table(const ms_data *d, const peak *pk, int epochs, row rows[][3],
                           const char *core)
{
    printf("\n### Training, per network (s per epoch; %d epochs each, min and median)\n\n",
           epochs);
    printf("All improved sigmoid, fan-in normal init, momentum 0.9, lr 0.02, batch 32; an epoch "
           "is 625 steps and 5 validations over 20000 + 10000 images. Ours runs in process "
           "(early stopping off); NumPy is `" PEER "` (the course code's structure) with "
           "OPENBLAS_NUM_THREADS = threads. Measured interleaved: ours, NumPy f32, NumPy f64 "
           "for each row.\n\n");
    printf("| network | threads | ours min | ours median | NumPy f32 median | NumPy f64 median "
           "| speed-up vs NumPy f32 | speed-up vs NumPy f64 | ours GFLOP/s (dense eq.) | %% of peak |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    for (int i = 0; i < NNETS; i++) {
        ms_config c = net_config(&nets[i]);
        for (int th = 1; th <= 2; th++) {
            row *r = &rows[i][th];
            char args[128];
            fprintf(stderr, "bench: %s, %d thread%s: ours, NumPy f32, NumPy f64\n", nets[i].name,
                    th, th > 1 ? "s" : "");
            ours(d, &c, th, epochs, r);
            snprintf(args, sizeof args, "--hidden %s --dtype float32 --epochs %d",
                     nets[i].peer_hidden, epochs);
            r->f32 = run_peer(args, th);
            snprintf(args, sizeof args, "--hidden %s --dtype float64 --epochs %d",
                     nets[i].peer_hidden, epochs);
            r->f64 = run_peer(args, th);
            r->gflops = epoch_flops(&c) / r->ours_med / 1e9;
            r->pct = 100 * r->gflops / pk[th].best;
            char f32[32] = "n/a", f64[32] = "n/a", s32[32] = "n/a", s64[32] = "n/a";
            if (r->f32.ok) {
                snprintf(f32, sizeof f32, "%.3f", r->f32.median);
                snprintf(s32, sizeof s32, "%.1f x", r->f32.median / r->ours_med);
            }
            if (r->f64.ok) {
                snprintf(f64, sizeof f64, "%.3f", r->f64.median);
                snprintf(s64, sizeof s64, "%.1f x", r->f64.median / r->ours_med);
            }
            printf("| %s | %d | %.3f | %.3f | %s | %s | %s | %s | %.0f | %.0f %% |\n",
                   nets[i].name, th, r->ours_min, r->ours_med, f32, f64, s32, s64, r->gflops,
                   r->pct);
            fflush(stdout);
            for (int p = 0; p < 2; p++) {
                const peer *q = p ? &r->f64 : &r->f32;
                if (q->ok && strcmp(q->core, core))
                    printf("\n(NumPy %s used OpenBLAS core %s, not %s)\n\n", p ? "f64" : "f32",
                           q->core, core);
            }
        }
    }
    printf("\nDense-equivalent flops of an epoch: sum over the weight matrices (K x N, output "
           "layer included) of 2KN x (3 x 20000 + 5 x 30000), except the first layer: "
           "2KN x (2 x 20000 + 5 x 30000), as it has no input gradient (forward, weight "
           "gradient and input gradient over the 625 x 32 training rows; forward only over "
           "5 validations of 30000 rows). Our first layer skips the zero pixels (about 81 %% "
           "of MNIST), so it does fewer flops than this count: the figure can exceed what "
           "dense products reach. %% of peak is against the best FMA-loop figure for that "
           "thread count.\n");
}

/* precision: float64, the course's arithmetic, against NumPy float64 (its
 * figures from the table above, measured in this run). */
static void float64_table(const ms_data *d, int epochs, row rows[][3])
{
    printf("\n### Training in float64 (`precision: float64`; s per epoch, %d epochs each)\n\n",
           epochs);
    printf("The same networks with every value a double and the C library's exp and tanh. "
           "NumPy f64 and ours f32 are the medians of the table above (this run); ratios are "
           "of unrounded medians.\n\n");
    printf("| network | threads | ours f64 min | ours f64 median | NumPy f64 median "
           "| speed-up vs NumPy f64 | ours f32 median | f64 / f32 time |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    fflush(stdout);
    for (int i = 0; i < NNETS; i++) {
        ms_config c = net_config(&nets[i]);
        c.precision = MS_PREC_F64;
        for (int th = 1; th <= 2; th++) {
            row *r = &rows[i][th], t;
            fprintf(stderr, "bench: %s, %d thread%s: ours float64\n", nets[i].name, th,
                    th > 1 ? "s" : "");
            ours(d, &c, th, epochs, &t);
            r->d_min = t.ours_min;
            r->d_med = t.ours_med;
            char f64[32] = "n/a", s64[32] = "n/a";
            if (r->f64.ok) {
                snprintf(f64, sizeof f64, "%.3f", r->f64.median);
                snprintf(s64, sizeof s64, "%.1f x", r->f64.median / r->d_med);
            }
            printf("| %s | %d | %.3f | %.3f | %s | %s | %.3f | %.1f x |\n", nets[i].name, th,
                   r->d_min, r->d_med, f64, s64, r->ours_med, r->d_med / r->ours_med);
            fflush(stdout);
        }
    }
}

/* ---- the default study --------------------------------------------------- */

typedef struct study {
    int ran, exit_code;
    double wall, cpu, rss_mib, numpy_equiv; /* numpy_equiv < 0: unknown */
    int runs, epochs, unmatched;
} study;

/* NumPy f32 seconds for the study's epochs: each current run's epochs times
 * the 1-thread median of its network, spread over all cores. */
static void numpy_equivalent(const char *db, row rows[][3], int ncores, study *s)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    s->numpy_equiv = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, "SELECT hidden, epochs_done FROM runs WHERE current = 1", -1, &q,
                           NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: %s: %s\n", db, sqlite3_errmsg(h));
        sqlite3_close(h);
        return;
    }
    double sum = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *hidden = (const char *)sqlite3_column_text(q, 0);
        int ep = sqlite3_column_int(q, 1), found = 0;
        for (int i = 0; i < NNETS && hidden && !found; i++) {
            ms_config c = net_config(&nets[i]);
            char hs[512];
            ms_config_hidden_str(&c, hs, sizeof hs);
            if (!strcmp(hs, hidden) && rows[i][1].f32.ok) {
                sum += ep * rows[i][1].f32.median;
                found = 1;
            }
        }
        s->runs++;
        s->epochs += ep;
        if (!found) {
            fprintf(stderr, "bench: no NumPy figure for hidden %s\n", hidden ? hidden : "?");
            s->unmatched++;
        }
    }
    sqlite3_finalize(q);
    sqlite3_close(h);
    if (!s->unmatched && s->runs)
        s->numpy_equiv = sum / ncores;
}

static void study_table(const char *bin, row rows[][3], int ncores, study *s)
{
    char dir[] = "/tmp/mlpsweep-bench-XXXXXX", db[64], cmd[128];
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return;
    }
    snprintf(db, sizeof db, "%s/study.db", dir);
    fprintf(stderr, "bench: the default study: %s run " MANIFEST " --db %s --quiet\n", bin, db);
    fflush(NULL);
    double t0 = ms_now();
    pid_t pid = fork();
    if (pid == 0) {
        execl(bin, bin, "run", MANIFEST, "--db", db, "--quiet", (char *)NULL);
        perror(bin);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) < 0) {
        perror("bench: fork/wait4");
        return;
    }
    s->ran = 1;
    s->wall = ms_now() - t0;
    s->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
             ru.ru_stime.tv_usec * 1e-6;
    s->rss_mib = ru.ru_maxrss / 1024.0; /* KiB on Linux */
    s->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    numpy_equivalent(db, rows, ncores, s);

    printf("\n### The default study, as a user runs it\n\n");
    printf("`mlpsweep run " MANIFEST " --db <tmp>/study.db --quiet`: the real manifest, "
           "%d runs, early stopping on, %d epochs trained in all. NumPy equivalent: for each "
           "run, its epochs x the 1-thread NumPy f32 median of its network (the [64] figure "
           "for the four task-2/3 variants, whatever their activation and init), summed and "
           "divided by %d cores.\n\n",
           s->runs, s->epochs, ncores);
    printf("| wall | CPU (user + sys) | peak RSS | exit | NumPy f32 equivalent | speed-up |\n");
    printf("|---|---|---|---|---|---|\n");
    char eq[32] = "n/a", sp[32] = "n/a";
    if (s->numpy_equiv >= 0) {
        snprintf(eq, sizeof eq, "%.1f s", s->numpy_equiv);
        snprintf(sp, sizeof sp, "%.1f x", s->numpy_equiv / s->wall);
    }
    printf("| %.1f s | %.1f s | %.1f MiB | %d | %s | %s |\n", s->wall, s->cpu, s->rss_mib,
           s->exit_code, eq, sp);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", dir);
}

/* ---- publishing while training (issue 26) -------------------------------- */

static void target(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One timed run of the study: wall seconds, and with --publish the copies
 * it made and the seconds they took (its own summary line). */
typedef struct pubrun {
    double wall, copy_s;
    int copies, exit_code;
} pubrun;

static pubrun publish_run(const char *bin, const char *dir, int k, const char *every)
{
    char db[160], pub[160], err[160], cmd[1024];
    snprintf(db, sizeof db, "%s/run%d.db", dir, k);
    snprintf(pub, sizeof pub, "%s/shared%d.db", dir, k);
    snprintf(err, sizeof err, "%s/run%d.err", dir, k);
    if (every)
        snprintf(cmd, sizeof cmd, "%s run %s --db %s --publish %s %s 2>%s", bin, MANIFEST, db, pub,
                 every, err);
    else
        snprintf(cmd, sizeof cmd, "%s run %s --db %s 2>%s", bin, MANIFEST, db, err);
    pubrun r = {0, 0, 0, 0};
    double t0 = ms_now();
    int st = system(cmd);
    r.wall = ms_now() - t0;
    r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(err, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
        char *at = strstr(line, "while training (");
        if (!strncmp(line, "published ", 10) && at && sscanf(line + 10, "%d", &r.copies) == 1)
            r.copy_s = strtod(at + 16, NULL);
    }
    if (f)
        fclose(f);
    return r;
}

/* The study with and without `run --publish`, in turn (two rounds: the
 * machine's noise falls on all three alike): what copying costs, every
 * epoch (the most) and at the default interval (1 minute). */
static void publish_table(const char *bin)
{
    char dir[] = "/tmp/mlpsweep-bench-pub-XXXXXX", cmd[128];
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return;
    }
    static const char *const ways[] = {NULL, "--publish-epochs 1", ""};
    static const char *const names[] = {"none", "every epoch (--publish-epochs 1)",
                                        "default (every minute, and at the end)"};
    pubrun r[2][3];
    fprintf(stderr, "bench: the study with and without --publish, 2 rounds\n");
    for (int round = 0, k = 0; round < 2; round++)
        for (int w = 0; w < 3; w++)
            r[round][w] = publish_run(bin, dir, k++, ways[w]);
    printf("\n### Publishing while training\n\n");
    printf("`mlpsweep run " MANIFEST "` as is and with `--publish FILE` (a cluster task's "
           "shared copy, docs/slurm.md), in turn, two rounds; the copies and their time as "
           "the run reports them.\n\n");
    printf("| publishing | wall, round 1 | wall, round 2 | copies | time copying | share of "
           "the wall |\n|---|---|---|---|---|---|\n");
    double share[3] = {0, 0, 0};
    for (int w = 0; w < 3; w++) {
        double copy = (r[0][w].copy_s + r[1][w].copy_s) / 2, wall = (r[0][w].wall + r[1][w].wall) / 2;
        share[w] = 100 * copy / wall;
        printf("| %s | %.1f s | %.1f s | %d | %.2f s | %.2f %% |\n", names[w], r[0][w].wall,
               r[1][w].wall, r[1][w].copies, copy, share[w]);
    }
    printf("\nCopies (round 2): those made while training and the last as the run ends.\n");
    int ok = r[0][0].exit_code == 0 && r[1][2].exit_code == 0 && r[1][1].exit_code == 0;
    target(ok && share[2] < 2, "publishing at the default interval: %.2f %% of the study's wall "
                               "(< 2 %%)", share[2]);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", dir);
}

/* ---- a grid at scale (issue 24) ------------------------------------------ */

enum { GRID_MAX_SIZES = 8, GRID_TICK_S = 15 };
/* The commands timed beside the run, each the median of 3. */
enum { G_CHECK, G_STATUS, G_EXPORT, G_REPORT, G_NCMDS };
static const char *const grid_cmds[G_NCMDS] = {"check", "status", "export", "report"};
#define GRID_TRAIN 1000
#define GRID_VAL 500
/* Refuse a size the disk cannot hold: today's build writes about 100 KB a
 * run, and the disk is shared with other jobs. */
#define GRID_DISK_PER_RUN (256.0 * 1024)

typedef struct grid {
    int n, nlr, nmom, nseeds; /* n = nlr x nmom x nseeds */
    int ran, exit_code, runs, done, fails[G_NCMDS];
    double wall, train_s, rss_mib, other_rss_mib, db_bytes, secs[G_NCMDS];
    char manifest[8192]; /* the YAML, printed for a reader to repeat the run */
} grid;

/* N runs as lr x momentum x seeds: at most 10 values of each of lr and
 * momentum (divisors of N), the rest seeds. */
static void grid_shape(grid *g)
{
    g->nlr = 10;
    while (g->n % g->nlr)
        g->nlr--;
    g->nmom = 10;
    while ((g->n / g->nlr) % g->nmom)
        g->nmom--;
    g->nseeds = g->n / g->nlr / g->nmom;
}

/* The manifest's text in g->manifest; -1 when it does not fit. */
static int grid_yaml(grid *g, const char *data)
{
    FILE *f = fmemopen(g->manifest, sizeof g->manifest, "w");
    if (!f)
        return -1;
    fprintf(f, "name: grid-%d\ndata:\n  dir: '%s'\n  train: %d\n  val: %d\n", g->n, data,
            GRID_TRAIN, GRID_VAL);
    fprintf(f, "defaults:\n  hidden: [16]\n  epochs: 1\n  seeds: [");
    for (int s = 1; s <= g->nseeds; s++)
        fprintf(f, "%s%d", s > 1 ? ", " : "", s);
    fprintf(f, "]\nvariants:\n  - name: g\n    grid:\n      lr: [");
    for (int i = 0; i < g->nlr; i++)
        fprintf(f, "%s%g", i ? ", " : "", 0.01 * (i + 1));
    fprintf(f, "]\n      momentum: [");
    for (int i = 0; i < g->nmom; i++)
        fprintf(f, "%s%g", i ? ", " : "", 0.1 * i);
    fprintf(f, "]\n");
    /* fmemopen NUL-terminates; a full buffer means the text was cut */
    int cut = ferror(f) || ftell(f) >= (long)sizeof g->manifest - 1;
    return fclose(f) != 0 || cut ? -1 : 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* The runs done so far in db, or -1 (not created yet, or busy). */
static int done_runs(const char *db)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    int n = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM runs WHERE status = 'done'", -1, &q,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            n = sqlite3_column_int(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    return n;
}

static volatile sig_atomic_t tick;
static void on_alarm(int sig)
{
    (void)sig;
    tick = 1;
}

/* SIGALRM every `secs` seconds (0: off). No SA_RESTART: the parent's wait4
 * returns EINTR, prints progress and waits again; exec resets the handler
 * and a child does not inherit the timer. Off stops the timer before the
 * handler goes: a tick must never meet the default action (exit). */
static void ticks(int secs)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = secs ? on_alarm : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    struct itimerval it = {{secs, 0}, {secs, 0}};
    int rc = secs ? sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL)
                  : setitimer(ITIMER_REAL, &it, NULL) || sigaction(SIGALRM, &sa, NULL);
    if (rc)
        perror("bench: progress timer");
}

/* In a child: stdout to /dev/null, stderr to the file err. */
static void redirect(const char *err)
{
    int out = open("/dev/null", O_WRONLY);
    int fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || fd < 0 || dup2(out, 1) < 0 || dup2(fd, 2) < 0)
        _exit(127);
}

/* Run argv and wait for it: its wall seconds and rusage. With err, its
 * output is discarded and its messages go to the file err; with watch_db,
 * a progress line to stderr every GRID_TICK_S seconds. Returns its exit
 * status (128 + a signal), or -1. */
static int run_child(char *const argv[], const char *err, const char *watch_db, double *secs,
                     struct rusage *ru)
{
    fflush(NULL);
    double t0 = ms_now();
    pid_t pid = fork();
    if (pid == 0) {
        if (err)
            redirect(err);
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    if (pid < 0) {
        perror("bench: fork");
        return -1;
    }
    if (watch_db)
        ticks(GRID_TICK_S);
    int st = 0, rc;
    while ((rc = (int)wait4(pid, &st, 0, ru)) < 0 && errno == EINTR) {
        if (tick && watch_db)
            fprintf(stderr, "bench:   %.0f s, %d runs done\n", ms_now() - t0,
                    done_runs(watch_db));
        tick = 0;
    }
    *secs = ms_now() - t0;
    if (watch_db)
        ticks(0);
    if (rc < 0) {
        perror("bench: wait4");
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A failed command's messages, from the file its stderr went to. */
static void show_errors(const char *err)
{
    FILE *f = fopen(err, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f))
        fprintf(stderr, "  %s", line);
    if (f)
        fclose(f);
}

/* Median wall seconds of 3 runs of argv (output discarded, messages shown
 * when it fails); the largest peak RSS into *rss_mib, a failure in *fails. */
static double median3(char *const argv[], const char *err, double *rss_mib, int *fails)
{
    double t[3];
    for (int r = 0; r < 3; r++) {
        struct rusage ru;
        int rc = run_child(argv, err, NULL, &t[r], &ru);
        if (rc != 0) {
            fprintf(stderr, "bench: %s %s: exit %d\n", argv[0], argv[1], rc);
            show_errors(err);
            ++*fails;
        }
        if (rc >= 0 && ru.ru_maxrss / 1024.0 > *rss_mib)
            *rss_mib = ru.ru_maxrss / 1024.0; /* KiB on Linux */
    }
    return median(t, 3);
}

/* Training seconds, runs and finished runs from the database, and its
 * bytes on disk (with the -wal file, when there is one). */
static void grid_db(const char *db, grid *g)
{
    sqlite3 *h;
    sqlite3_stmt *q;
    const char *sql = "SELECT (SELECT sum(train_seconds) FROM runs), (SELECT count(*) FROM runs), "
                      "(SELECT count(*) FROM runs WHERE status = 'done')";
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(h, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench: %s: %s\n", db, sqlite3_errmsg(h));
    } else {
        if (sqlite3_step(q) == SQLITE_ROW) {
            g->train_s = sqlite3_column_double(q, 0);
            g->runs = sqlite3_column_int(q, 1);
            g->done = sqlite3_column_int(q, 2);
        }
        sqlite3_finalize(q);
    }
    sqlite3_close(h);
    char wal[160];
    struct stat sb;
    snprintf(wal, sizeof wal, "%s-wal", db);
    g->db_bytes = stat(db, &sb) == 0 ? (double)sb.st_size : 0;
    if (stat(wal, &sb) == 0)
        g->db_bytes += (double)sb.st_size;
}

/* check, run, the database's figures, then status, export and report, on
 * the files in dir. */
static void grid_measure(const char *bin, const char *data, const char *dir, grid *g)
{
    char yaml[128], db[128], html[128], err[128];
    snprintf(yaml, sizeof yaml, "%s/grid.yaml", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    snprintf(db, sizeof db, "%s/grid.db", dir);
    snprintf(html, sizeof html, "%s/r.html", dir);
    char *b = (char *)bin;
    char *run[] = {b, "run", yaml, "--db", db, "--quiet", NULL};
    char *argv[G_NCMDS][7] = {{b, "check", yaml, NULL},
                              {b, "status", "--db", db, NULL},
                              {b, "export", "--db", db, "--format", "csv", NULL},
                              {b, "report", "--db", db, "-o", html, NULL}};

    /* the state after any sweep on these files: their sums in the digest
     * cache (a first sweep on new files reads them whole once) */
    char *warm[] = {b, "train", "--data", (char *)data, "--train-size", "1000", "--val-size",
                    "100", "--epochs", "1", "--hidden", "8", NULL};
    double warm_wall;
    struct rusage wru;
    if (run_child(warm, err, NULL, &warm_wall, &wru) != 0)
        fprintf(stderr, "bench: grid %d: the warm-up train failed\n", g->n);
    fprintf(stderr, "bench: grid %d: check (3 times)\n", g->n);
    g->secs[G_CHECK] = median3(argv[G_CHECK], err, &g->other_rss_mib, &g->fails[G_CHECK]);
    fprintf(stderr, "bench: grid %d: %s run %s --db %s --quiet\n", g->n, bin, yaml, db);
    struct rusage ru;
    g->exit_code = run_child(run, NULL, db, &g->wall, &ru);
    g->ran = 1;
    if (g->exit_code >= 0)
        g->rss_mib = ru.ru_maxrss / 1024.0; /* KiB on Linux */
    grid_db(db, g);
    fprintf(stderr, "bench: grid %d: %.1f s, %d/%d runs done; status, export, report (3 times)\n",
            g->n, g->wall, g->done, g->n);
    for (int c = G_STATUS; c < G_NCMDS; c++)
        g->secs[c] = median3(argv[c], err, &g->other_rss_mib, &g->fails[c]);
}

/* One size in a fresh temporary folder, removed after; skipped when the
 * disk lacks room for it. */
static void grid_one(const char *bin, const char *data, grid *g)
{
    char dir[] = "/tmp/mlpsweep-grid-XXXXXX", yaml[64], cmd[128];
    struct statvfs vfs;
    if (statvfs("/tmp", &vfs) == 0 &&
        (double)vfs.f_bavail * vfs.f_frsize < g->n * GRID_DISK_PER_RUN) {
        fprintf(stderr, "bench: grid %d: skipped, less than %.0f MB free in /tmp\n", g->n,
                g->n * GRID_DISK_PER_RUN / 1e6);
        return;
    }
    if (!mkdtemp(dir)) {
        perror("bench: mkdtemp");
        return;
    }
    snprintf(yaml, sizeof yaml, "%s/grid.yaml", dir);
    if (grid_yaml(g, data) < 0)
        fprintf(stderr, "bench: grid %d: the manifest does not fit its buffer\n", g->n);
    else if (write_text(yaml, g->manifest) == 0)
        grid_measure(bin, data, dir, g);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cannot remove %s\n", dir);
}

static void grid_row(const grid *g, int cores)
{
    if (!g->ran) {
        printf("| %d | not measured (see stderr) |", g->n);
        for (int c = 0; c < 13; c++)
            printf("  |");
        printf("\n");
        return;
    }
    double ideal = g->train_s / cores;
    char ovh[32] = "n/a", per[32] = "n/a", t[G_NCMDS][32];
    if (ideal > 0)
        snprintf(ovh, sizeof ovh, "%.2f", g->wall / ideal);
    if (g->done > 0)
        snprintf(per, sizeof per, "%.1f KB", g->db_bytes / g->done / 1e3);
    for (int c = 0; c < G_NCMDS; c++)
        snprintf(t[c], sizeof t[c], "%.3f s%s", g->secs[c], g->fails[c] ? " (failed)" : "");
    printf("| %d | %d x %d x %d | %d | %d/%d | %s | %.1f s | %.1f s | %s | %.1f MB | %s "
           "| %.1f MiB | %.1f MiB | %s | %s | %s |\n",
           g->n, g->nlr, g->nmom, g->nseeds, g->exit_code, g->done, g->runs, t[G_CHECK], g->wall,
           g->train_s, ovh, g->db_bytes / 1e6, per, g->rss_mib, g->other_rss_mib, t[G_STATUS],
           t[G_EXPORT], t[G_REPORT]);
}

/* This process's resident MiB now (/proc/self/status), or -1. */
static double self_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            kib = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kib < 0 ? -1 : kib / 1024;
}

static void grid_table(const char *bin, const grid *gs, int ngrid, int cores, double self_mib)
{
    printf("\n### A grid at scale (issue 24)\n\n");
    printf("N runs of a tiny net ([16], %d train / %d val images, 1 epoch) as a grid over lr x "
           "momentum x seeds, run as a user runs it with the default threads (%d cores here). "
           "Overhead = wall / (sum of the runs' own train_seconds / %d cores): 1.00 would be "
           "no time outside training. KB and MB are 1000 bytes; the database is the file and its "
           "-wal. Peak RSS of the run, and the largest of check, status, export and report "
           "(those four are medians of 3); a child's peak counts the pages it shares with this "
           "benchmark at fork, %.1f MiB at most. One `train` on the data first puts the files' "
           "sums in the digest cache, as any earlier sweep on them does: the first sweep on new "
           "files reads them whole once (MNIST: ~0.15 s more).\n\n",
           GRID_TRAIN, GRID_VAL, cores, cores, self_mib);
    printf("| runs | lr x mom x seeds | exit | done | check | wall | sum train_seconds | overhead "
           "| database | per done run | peak RSS run | peak RSS others | status | export "
           "| report |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < ngrid; i++)
        grid_row(&gs[i], cores);
    printf("\nThe commands, with TMP a fresh folder (`mktemp -d`) holding the manifest "
           "`TMP/grid.yaml` below:\n\n```sh\n");
    printf("%s check TMP/grid.yaml >/dev/null\n%s run TMP/grid.yaml --db TMP/grid.db --quiet\n",
           bin, bin);
    printf("sqlite3 TMP/grid.db \"SELECT sum(train_seconds), count(*) FROM runs; "
           "SELECT count(*) FROM runs WHERE status = 'done'\"\n");
    printf("%s status --db TMP/grid.db >/dev/null\n", bin);
    printf("%s export --db TMP/grid.db --format csv >/dev/null\n", bin);
    printf("%s report --db TMP/grid.db -o TMP/r.html >/dev/null\n```\n", bin);
    for (int i = 0; i < ngrid; i++)
        if (gs[i].ran)
            printf("\n`TMP/grid.yaml` for %d runs:\n\n```yaml\n%s```\n", gs[i].n,
                   gs[i].manifest);
    fflush(stdout);
}

/* ---- targets ------------------------------------------------------------- */

static int npass, nfail;

static void target(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void target(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("- %s: ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    ok ? npass++ : nfail++;
}

static void targets(row rows[][3], const peak *pk, const study *s)
{
    printf("\n### Targets (issue 10)\n\n");
    for (int i = 0; i < NNETS; i++)
        for (int th = 1; th <= 2; th++) {
            const row *r = &rows[i][th];
            double sp = r->f32.ok ? r->f32.median / r->ours_med : 0;
            target(r->f32.ok && sp >= 4, "%s, %d thread%s: speed-up vs NumPy f32 %.1f x (>= 4)",
                   nets[i].name, th, th > 1 ? "s" : "", sp);
        }
    for (int i = 1; i <= 2; i++) /* [64] and [128] */
        target(rows[i][1].pct >= 75,
               "%s, 1 thread: %.0f dense-equivalent GFLOP/s = %.0f %% of the 1-core peak %.0f "
               "(>= 75 %%)",
               nets[i].name, rows[i][1].gflops, rows[i][1].pct, pk[1].best);
    for (int i = 0; i < NNETS; i++)
        target(rows[i][2].ours_med < rows[i][1].ours_med,
               "%s: 2 threads faster than 1 (median %.3f s vs %.3f s)", nets[i].name,
               rows[i][2].ours_med, rows[i][1].ours_med);
    if (!s->ran) {
        printf("- SKIP: the default study (not run: --quick or error)\n");
    } else {
        double sp = s->numpy_equiv > 0 ? s->numpy_equiv / s->wall : 0;
        target(s->exit_code == 0 && sp >= 4,
               "default study: %.1f x faster than its NumPy f32 equivalent (>= 4; exit %d)", sp,
               s->exit_code);
        target(s->rss_mib <= 128, "default study: peak RSS %.1f MiB (<= 128)", s->rss_mib);
    }
}

/* The 2 s target of status, export and report holds at 10,000 runs. */
static void grid_speed_targets(const grid *g)
{
    for (int c = G_STATUS; c < G_NCMDS; c++)
        target(!g->fails[c] && g->secs[c] < 2, "grid %d: `%s` %.3f s%s (< 2)", g->n,
               grid_cmds[c], g->secs[c], g->fails[c] ? ", failed" : "");
}

static void grid_targets(const grid *gs, int ngrid, int cores)
{
    int big = 0;
    printf("\n### Targets (issue 24)\n\n");
    for (int i = 0; i < ngrid; i++) {
        const grid *g = &gs[i];
        if (!g->ran) {
            printf("- SKIP: grid %d (not measured)\n", g->n);
            continue;
        }
        double per = g->done ? g->db_bytes / g->done / 1e3 : 0, ideal = g->train_s / cores;
        double ovh = ideal > 0 ? g->wall / ideal : 0;
        double rss = g->rss_mib > g->other_rss_mib ? g->rss_mib : g->other_rss_mib;
        target(g->exit_code == 0 && g->done == g->n, "grid %d: run exit %d, %d/%d runs done",
               g->n, g->exit_code, g->done, g->n);
        target(g->done && per <= 20, "grid %d: database %.1f KB per finished run (<= 20)", g->n,
               per);
        target(ideal > 0 && ovh <= 1.10,
               "grid %d: overhead %.2f = wall %.1f s / (train %.1f s / %d cores) (<= 1.10)", g->n,
               ovh, g->wall, g->train_s, cores);
        target(rss <= 256, "grid %d: peak RSS %.1f MiB (run %.1f, others %.1f; <= 256)", g->n,
               rss, g->rss_mib, g->other_rss_mib);
        if (g->n >= 10000) {
            grid_speed_targets(g);
            big = 1;
        }
    }
    if (!big)
        printf("- SKIP: status, export and report under 2 s at 10,000 runs (no grid of 10,000 "
               "runs measured; their times at fewer runs are in the table)\n");
}

typedef struct opts {
    const char *bin;
    int quick, epochs, grid_only, ngrid, grid_n[GRID_MAX_SIZES];
} opts;

/* --grid-runs N[,N...]: -1 unless each N is in 1..MS_MANIFEST_MAX_RUNS. */
static int parse_grid_runs(const char *s, opts *o)
{
    o->ngrid = 0;
    for (;;) {
        char *end;
        errno = 0;
        long n = strtol(s, &end, 10);
        if (end == s || errno || n < 1 || n > MS_MANIFEST_MAX_RUNS ||
            o->ngrid == GRID_MAX_SIZES || (*end && *end != ','))
            return -1;
        o->grid_n[o->ngrid++] = (int)n;
        if (!*end)
            return 0;
        s = end + 1;
    }
}

static int parse_args(int argc, char **argv, opts *o)
{
    int grid_set = 0;
    *o = (opts){"build/mlpsweep", 0, 0, 0, 2, {1000, 10000}};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            o->quick = 1;
        else if (!strcmp(argv[i], "--peer-avx2"))
            peer_avx2 = 1, peer_env = PEER_ENV_AVX2;
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc)
            o->epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--grid-only"))
            o->grid_only = 1;
        else if (!strcmp(argv[i], "--grid-runs") && i + 1 < argc) {
            if (parse_grid_runs(argv[++i], o) < 0) {
                fprintf(stderr, "bench: --grid-runs: up to %d sizes of 1 to %d runs, e.g. "
                                "1000,10000 (got '%s')\n",
                        GRID_MAX_SIZES, MS_MANIFEST_MAX_RUNS, argv[i]);
                return -1;
            }
            grid_set = 1;
        } else if (argv[i][0] != '-')
            o->bin = argv[i];
        else {
            fprintf(stderr, "usage: bench [MLPSWEEP_BINARY] [--quick] [--epochs N] [--peer-avx2] "
                            "[--grid-runs N[,N...]] [--grid-only]\n");
            return -1;
        }
    }
    if (o->epochs < 1 || o->epochs > 16)
        o->epochs = o->quick ? 2 : 4;
    if (o->quick && !grid_set)
        o->ngrid = 1; /* 1000 only */
    return 0;
}

/* The machine; with the NumPy peer's BLAS (its core name into core) unless
 * only the grid runs, which needs neither NumPy nor OpenBLAS. */
static void header(const opts *o, int ncores, const char *load0, char *core, size_t n)
{
    char cpu[256], date[64], line[1024] = "", cfg[256] = "?", np[32] = "?";
    cpu_model(cpu, sizeof cpu);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
    snprintf(core, n, "?");
    if (!o->grid_only) {
        load_openblas();
        /* The peers' BLAS: the same environment as their runs. */
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s OPENBLAS_NUM_THREADS=1 " PYTHON " " PEER " --info", peer_env);
        FILE *f = popen(cmd, "r");
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = 0;
            if (pclose(f) != 0 || json_field(line, "openblas_core", core, n))
                snprintf(core, n, "?");
        }
        json_field(line, "openblas_config", cfg, sizeof cfg);
        json_field(line, "numpy", np, sizeof np);
    }
    printf("## mlpsweep benchmark\n\n");
    printf("- CPU: %s, %d cores\n", cpu, ncores);
    printf("- float kernels built for: %s\n", ms_kernels_isa());
#if defined(__clang__)
    printf("- compiler: clang %s\n", __clang_version__);
#elif defined(__GNUC__)
    printf("- compiler: gcc %s\n", __VERSION__);
#else
    printf("- compiler: %s\n", __VERSION__);
#endif
    printf("- date: %s\n", date);
    if (!o->grid_only) {
        printf("- NumPy peer: NumPy %s, OpenBLAS core **%s** (%s)\n", np, core, cfg);
        if (peer_avx2)
            printf("- --peer-avx2: the peers run as on an AVX2 CPU (`%s`), to stand in for an "
                   "AVX2 machine; their figures are not this CPU's best\n",
                   PEER_ENV_AVX2);
        printf("- OpenBLAS in the kernel table: core %s (%s)\n", blas_core, blas_config);
    }
    printf("- load average (1, 5, 15 min) at start: %s\n", load0);
    fflush(stdout);
}

static void peak_table(int ncores, peak *pk)
{
    /* ~0.25 s a repetition: calibrate on runs of at least 20 ms. The result
     * is stored, else gcc may drop the call (it sees a pure function). */
    long iters = 1L << 16;
    for (;;) {
        double t0 = ms_now();
        peak_sink = fma_chains(iters, peak_x, peak_y);
        double dt = ms_now() - t0;
        if (dt >= 0.02) {
            iters = (long)(iters * 0.25 / dt) + 1;
            break;
        }
        iters *= 2;
    }
    pk[1] = fma_peak(1, iters);
    pk[2] = fma_peak(2, iters);
    printf("\n### Single-precision peak (FMA loop: %s)\n\n", PEAK_DESC);
    printf("3 repetitions of %.2f s each; the best is the peak the %% columns use.\n\n", 0.25);
    printf("| threads | best GFLOP/s | median | worst |\n|---|---|---|---|\n");
    printf("| 1 | %.1f | %.1f | %.1f |\n", pk[1].best, pk[1].med, pk[1].worst);
    printf("| 2 | %.1f | %.1f | %.1f |\n", pk[2].best, pk[2].med, pk[2].worst);
    if (ncores != 2) {
        peak all = fma_peak(ncores, iters);
        printf("| %d (all cores) | %.1f | %.1f | %.1f |\n", ncores, all.best, all.med,
               all.worst);
    }
    fflush(stdout);
}

/* Sections 2 to 5 and their targets; -1 when the data cannot be loaded. */
static int training_sections(const opts *o, int ncores, const char *core)
{
    peak pk[3] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    peak_table(ncores, pk);
    kernels_table(pk[1].best);

    ms_data d;
    if (ms_data_load("data", 20000, 10000, &d) < 0)
        return -1;
    row rows[NNETS][3];
    memset(rows, 0, sizeof rows);
    networks_table(&d, pk, o->epochs, rows, core);
    float64_table(&d, o->epochs, rows);
    ms_data_release(&d);

    if (system(PYTHON " -c 'import torch' >/dev/null 2>&1") == 0)
        printf("\nPyTorch is importable, but no PyTorch peer is written yet.\n");
    else
        printf("\nPyTorch: not installed for " PYTHON ", no PyTorch figures.\n");

    study s = {0, 0, 0, 0, 0, -1, 0, 0, 0};
    if (!o->quick)
        study_table(o->bin, rows, ncores, &s);
    targets(rows, pk, &s);
    if (!o->quick)
        publish_table(o->bin);
    return 0;
}

/* The cores a run uses by default: those this process may run on. */
static int usable_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

/* The grid section, its table and its targets; -1 without the data. */
static int grid_section(const opts *o)
{
    char data[PATH_MAX];
    if (!realpath("data", data) || strchr(data, '\'')) {
        fprintf(stderr, "bench: no usable MNIST folder 'data' here (make data)\n");
        return -1;
    }
    int cores = usable_cores();
    double self_mib = self_rss_mib(); /* before the forks: see grid_table */
    grid gs[GRID_MAX_SIZES];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < o->ngrid; i++) {
        gs[i].n = o->grid_n[i];
        grid_shape(&gs[i]);
        grid_one(o->bin, data, &gs[i]);
    }
    grid_table(o->bin, gs, o->ngrid, cores, self_mib);
    grid_targets(gs, o->ngrid, cores);
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    int ncores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    char load0[64], load1[64], core[64];
    loadavg(load0, sizeof load0);
    header(&o, ncores, load0, core, sizeof core);

    if (!o.grid_only && training_sections(&o, ncores, core) < 0)
        return 1;
    if (grid_section(&o) < 0)
        return 1;
    printf("\n%d PASS, %d FAIL\n", npass, nfail);
    loadavg(load1, sizeof load1);
    printf("\nLoad average (1, 5, 15 min) at start: %s; at end: %s. The machine's other "
           "jobs share these cores, so times are upper bounds.\n",
           load0, load1);
    return 0; /* a FAIL is a finding to read, not a broken benchmark */
}
