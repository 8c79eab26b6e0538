/* ms_progress: live block on a terminal, plain lines elsewhere. */
#define _POSIX_C_SOURCE 200809L
#include "ms_progress.h"
#include "ms_util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_SLOTS MS_MAX_JOBS /* one per run at once: never shared */

typedef struct slot {
    int used;
    char variant[48];
    uint64_t seed;
    int epoch, total, first_epoch;
    double val_acc, seconds_sum;
} slot;

struct ms_progress {
    FILE *out;
    int tty, quiet;
    int runs_total, runs_ended;
    int64_t epochs_total, epochs_done;
    int drawn; /* lines of the live block on screen */
    double t0;
    slot s[MAX_SLOTS];
    pthread_mutex_t mu;
};

ms_progress *ms_progress_new(FILE *out, int total_runs, int64_t total_epochs, int quiet)
{
    ms_progress *p = ms_calloc(1, sizeof *p);
    p->out = out;
    p->quiet = quiet;
    p->tty = isatty(fileno(out)) && getenv("TERM") && strcmp(getenv("TERM"), "dumb");
    p->runs_total = total_runs;
    p->epochs_total = total_epochs;
    p->t0 = ms_now();
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void ms_progress_fmt_time(double secs, char *buf, size_t n)
{
    if (!(secs >= 0 && secs <= 1e7)) /* NaN too: no pace yet */
        snprintf(buf, n, "?");
    else if (secs < 60)
        snprintf(buf, n, "%.0fs", secs);
    else if (secs < 3600)
        snprintf(buf, n, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(buf, n, "%dh%02dm", (int)secs / 3600, (int)secs % 3600 / 60);
}

/* The terminal's width now (it may have been resized), 80 when unknown. */
static int columns(FILE *out)
{
    struct winsize w;
    if (ioctl(fileno(out), TIOCGWINSZ, &w) == 0 && w.ws_col > 0)
        return w.ws_col;
    return 80;
}

/* One line of the live block, cleared first and cut to width - 1 characters
 * (a line that wraps takes two rows, and the next redraw moves up one too
 * few). The text is ASCII apart from the variant name, cut by bytes. */
static void live_line(ms_progress *p, int width, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (width > 1 && strlen(line) > (size_t)width - 1)
        line[width - 1] = '\0';
    fprintf(p->out, "\033[2K%s\n", line);
}

/* "12:34:56 " for plain lines, so a log says when each thing happened. */
static void stamp(ms_progress *p)
{
    time_t now = time(NULL);
    struct tm tm;
    char b[16];
    localtime_r(&now, &tm);
    strftime(b, sizeof b, "%H:%M:%S ", &tm);
    fputs(b, p->out);
}

/* val acc as shown: "-" before the run's first epoch in this sweep. */
static const char *acc_text(const slot *s, char *buf, size_t n)
{
    if (s->epoch == s->first_epoch)
        return "-";
    snprintf(buf, n, "%.2f%%", 100 * s->val_acc);
    return buf;
}

/* name cut to at most max bytes, its middle replaced by '~' so that both
 * the variant's start and its grid values stay readable. */
static void mid_cut(const char *name, int max, char *out, size_t n)
{
    int len = (int)strlen(name);
    if (len <= max || max < 5) {
        snprintf(out, n, "%.*s", max < 1 ? 1 : max, name);
        return;
    }
    int head = (max - 1) / 2, tail = max - 1 - head;
    snprintf(out, n, "%.*s~%s", head, name, name + len - tail);
}

/* One run's live line. At 80 columns or more the long form; below, a
 * compact one that keeps the name (cut in the middle), seed, epoch,
 * accuracy and ETA down to 40 columns. */
static void run_line(ms_progress *p, int width, const slot *s, const char *eta)
{
    char acc[16], name[64];
    const char *a = acc_text(s, acc, sizeof acc);
    if (width >= 80) {
        live_line(p, width, "  %-18s seed %-4llu epoch %3d/%-3d  val acc %7s  eta %s", s->variant,
                  (unsigned long long)s->seed, s->epoch, s->total, a, eta);
        return;
    }
    char rest[96];
    int r = snprintf(rest, sizeof rest, " s%llu %d/%d %s %s", (unsigned long long)s->seed,
                     s->epoch, s->total, a, eta);
    mid_cut(s->variant, width - 2 - r, name, sizeof name);
    live_line(p, width, " %s%s", name, rest);
}

/* Redraw the live block: cursor up over the old one, each line cleared. */
static void redraw(ms_progress *p)
{
    int width = columns(p->out);
    if (p->drawn)
        fprintf(p->out, "\033[%dA", p->drawn);
    int lines = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
        slot *s = &p->s[i];
        if (!s->used)
            continue;
        char eta[32] = "?";
        int ran = s->epoch - s->first_epoch;
        if (ran > 0)
            ms_progress_fmt_time(s->seconds_sum / ran * (s->total - s->epoch), eta, sizeof eta);
        run_line(p, width, s, eta);
        lines++;
    }
    double el = ms_now() - p->t0;
    char eta[32] = "?";
    if (p->epochs_done > 0)
        ms_progress_fmt_time(el / p->epochs_done * (double)(p->epochs_total - p->epochs_done), eta, sizeof eta);
    if (width >= 80)
        live_line(p, width, "  %d/%d runs done, %lld/%lld epochs, %.0fs elapsed, at most %s left",
                  p->runs_ended, p->runs_total, (long long)p->epochs_done,
                  (long long)p->epochs_total, el, eta);
    else
        live_line(p, width, " %d/%d runs, %lld/%lld ep, %.0fs, <=%s left", p->runs_ended,
                  p->runs_total, (long long)p->epochs_done, (long long)p->epochs_total, el, eta);
    lines++;
    /* A shorter block than before: clear the stale lines below it. */
    for (int i = lines; i < p->drawn; i++)
        fprintf(p->out, "\033[2K\n");
    if (p->drawn > lines)
        fprintf(p->out, "\033[%dA", p->drawn - lines);
    p->drawn = lines;
    fflush(p->out);
}

int ms_progress_start(ms_progress *p, const char *variant, uint64_t seed, int epochs_done,
                      int epochs_total)
{
    pthread_mutex_lock(&p->mu);
    int k = 0;
    while (k < MAX_SLOTS - 1 && p->s[k].used)
        k++;
    slot *s = &p->s[k];
    memset(s, 0, sizeof *s);
    s->used = 1;
    snprintf(s->variant, sizeof s->variant, "%s", variant);
    s->seed = seed;
    s->epoch = s->first_epoch = epochs_done;
    s->total = epochs_total;
    if (p->tty && !p->quiet)
        redraw(p);
    pthread_mutex_unlock(&p->mu);
    return k;
}

void ms_progress_epoch(ms_progress *p, int k, int epoch, double val_acc, double val_loss,
                       double seconds, int threads)
{
    pthread_mutex_lock(&p->mu);
    slot *s = &p->s[k];
    s->epoch = epoch;
    s->val_acc = val_acc;
    s->seconds_sum += seconds;
    p->epochs_done++;
    if (!p->quiet) {
        if (p->tty)
            redraw(p);
        else {
            stamp(p);
            fprintf(p->out,
                    "%-18s seed %-4llu epoch %3d/%-3d  val acc %6.2f%%  val loss %.4f  %5.2fs  "
                    "[%d thr]\n",
                    s->variant, (unsigned long long)s->seed, epoch, s->total, 100 * val_acc,
                    val_loss, seconds, threads);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

void ms_progress_end(ms_progress *p, int k, const char *how, int final)
{
    pthread_mutex_lock(&p->mu);
    slot *s = &p->s[k];
    if (final) {
        p->runs_ended++;
        p->epochs_total -= s->total - s->epoch; /* early stopping drops the rest */
    }
    char acc[16];
    if (!p->quiet) {
        if (p->tty) {
            /* Leave a permanent line above the live block. */
            if (p->drawn)
                fprintf(p->out, "\033[%dA\033[J", p->drawn);
            p->drawn = 0;
            fprintf(p->out, "%-18s seed %-4llu %s after %d epochs, val acc %s\n", s->variant,
                    (unsigned long long)s->seed, how, s->epoch, acc_text(s, acc, sizeof acc));
            s->used = 0;
            redraw(p);
        } else {
            stamp(p);
            fprintf(p->out, "%-18s seed %-4llu %s after %d epochs; %d/%d runs done, %lld/%lld epochs\n",
                    s->variant, (unsigned long long)s->seed, how, s->epoch, p->runs_ended,
                    p->runs_total, (long long)p->epochs_done, (long long)p->epochs_total);
        }
    }
    s->used = 0;
    pthread_mutex_unlock(&p->mu);
}

void ms_progress_skip(ms_progress *p, int epochs_left)
{
    pthread_mutex_lock(&p->mu);
    p->runs_ended++;
    p->epochs_total -= epochs_left;
    pthread_mutex_unlock(&p->mu);
}

void ms_progress_free(ms_progress *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->mu);
    free(p);
}
