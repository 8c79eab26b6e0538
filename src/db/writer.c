/* ms_writer: group commit of a sweep's run writes (store_db.h).
 *
 * With synchronous=FULL every COMMIT waits for the disk (an fsync, ~3 ms on
 * the CI machines), and the store's mutex is held meanwhile. Thousands of
 * short runs then spend more time committing than training: each worker
 * waits for its own fsync and for the other's. Here workers only copy their
 * write into a queue; one thread takes everything queued, applies it in one
 * transaction and commits it with one fsync, while the workers train on.
 * Durability is unchanged: a write is in the file once its batch commits,
 * and a batch is all or nothing (a crash loses at most the writes not yet
 * committed, which resume trains again, bit for bit).
 *
 * A batch that fails (disk full, a run in an unexpected state) is rolled
 * back whole and the writer stops accepting: the sweep is cancelled, as a
 * failed synchronous write cancels it. The queue is bounded in bytes, so a
 * slow disk slows the workers instead of filling memory. */
#define _POSIX_C_SOURCE 200809L
#include "ms_util.h"

#include <pthread.h>
#include <time.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_db.h"

/* Queued bytes beyond which ms_writer_put waits: a few checkpoints of the
 * largest study networks, far below the memory a sweep may use. */
#define QUEUE_MAX_BYTES ((size_t)64 << 20)

/* A commit starts at most this long after the one before: writes gather
 * meanwhile. Every COMMIT appends each page it changed to the log, and
 * short runs' writes touch the same few pages, so committing each as it
 * comes writes those pages again and again (on a 10,000-run grid the
 * writer's commits took more CPU than its inserts). A kill loses at most
 * this much more of what was trained, which resume trains again. */
#define GROUP_NS 50000000L

struct ms_writer {
    ms_store *s;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t more, room;
    ms_write *head, *tail; /* FIFO: a worker's writes commit in its order */
    size_t bytes;
    int stop, failed;
};

static char *dup_or_null(const char *s) { return s ? ms_strdup(s) : NULL; }

static void *dup_bytes(const void *p, size_t n)
{
    if (!p || !n)
        return NULL;
    void *q = ms_malloc(n);
    memcpy(q, p, n);
    return q;
}

/* A deep copy of w (the caller's buffers are reused as soon as we return);
 * *bytes its size in the queue. */
static ms_write *copy_write(const ms_write *w, size_t *bytes)
{
    ms_write *c = ms_malloc(sizeof *c);
    *c = *w;
    c->next = NULL;
    c->prov.version = dup_or_null(w->prov.version);
    c->prov.compiler = dup_or_null(w->prov.compiler);
    c->prov.host = dup_or_null(w->prov.host);
    c->error = dup_or_null(w->error);
    size_t nsteps = w->epoch.nsteps > 0 ? (size_t)w->epoch.nsteps : 0;
    size_t nevals = w->nevals > 0 ? (size_t)w->nevals : 0;
    c->epoch.step_loss = dup_bytes(w->epoch.step_loss, nsteps * sizeof(double));
    c->evals = dup_bytes(w->evals, nevals * sizeof *w->evals);
    c->ckpt = dup_bytes(w->ckpt, w->ckpt_n);
    if (w->ckpt && !w->ckpt_n) /* an empty checkpoint is still one */
        c->ckpt = ms_malloc(1);
    *bytes = sizeof *c + nsteps * sizeof(double) + nevals * sizeof *w->evals + w->ckpt_n;
    return c;
}

static void free_writes(ms_write *w)
{
    while (w) {
        ms_write *next = w->next;
        free((char *)w->prov.version);
        free((char *)w->prov.compiler);
        free((char *)w->prov.host);
        free(w->error);
        free((double *)w->epoch.step_loss);
        free(w->evals);
        free(w->ckpt);
        free(w);
        w = next;
    }
}

int ms_store_apply_batch(ms_store *s, const ms_write *first)
{
    /* A batch's own failure (BEGIN, COMMIT: a full disk) is named by its
     * first epoch, the write a reader misses most */
    const ms_write *lead = first;
    int n = 0;
    for (const ms_write *w = first; w; w = w->next, n++)
        if (lead->kind != MS_WRITE_EPOCH && w->kind == MS_WRITE_EPOCH)
            lead = w;
    char what[128];
    snprintf(what, sizeof what, n > 1 ? "%s (with %d other writes)" : "%s", lead->what, n - 1);
    int rc = -1;
    ms_store_lock(s);
    if (ms_store_begin(s, what))
        goto out;
    for (const ms_write *w = first; w; w = w->next)
        if (ms_store_apply(s, w))
            goto out;
    rc = ms_store_commit(s, what);
    if (rc == 0 && ms_store_pub(s)) { /* a copy for the shared folder, when due */
        int epochs = 0;
        for (const ms_write *w = first; w; w = w->next)
            epochs += w->kind == MS_WRITE_EPOCH;
        rc = ms_pub_due(ms_store_pub(s), ms_store_handle(s), epochs);
    }
out:
    ms_store_finish(s);
    ms_store_unlock(s);
    return rc;
}

/* Wait, with wr->mu held, until GROUP_NS after *last (a commit's start),
 * unless the writer is asked to stop or the queue fills; then *last = now. */
static void gather(ms_writer *wr, struct timespec *last)
{
    struct timespec until = *last;
    until.tv_nsec += GROUP_NS;
    if (until.tv_nsec >= 1000000000L)
        until.tv_sec++, until.tv_nsec -= 1000000000L;
    while (!wr->stop && !wr->failed && wr->bytes < QUEUE_MAX_BYTES / 2 &&
           pthread_cond_timedwait(&wr->more, &wr->mu, &until) == 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, last);
}

static void *writer_main(void *arg)
{
    ms_writer *wr = arg;
    struct timespec last = {0, 0};
    pthread_mutex_lock(&wr->mu);
    for (;;) {
        while (!wr->head && !wr->stop)
            pthread_cond_wait(&wr->more, &wr->mu);
        if (!wr->head)
            break; /* stopped, and nothing left */
        gather(wr, &last);
        ms_write *batch = wr->head;
        wr->head = wr->tail = NULL;
        wr->bytes = 0;
        pthread_cond_broadcast(&wr->room);
        int failed = wr->failed;
        pthread_mutex_unlock(&wr->mu);
        int rc = failed ? -1 : ms_store_apply_batch(wr->s, batch);
        free_writes(batch);
        pthread_mutex_lock(&wr->mu);
        if (rc < 0 && !wr->failed) {
            wr->failed = 1;
            pthread_cond_broadcast(&wr->room); /* waiting workers learn it */
        }
    }
    pthread_mutex_unlock(&wr->mu);
    return NULL;
}

ms_writer *ms_writer_start(ms_store *s)
{
    ms_writer *wr = ms_malloc(sizeof *wr);
    memset(wr, 0, sizeof *wr);
    wr->s = s;
    pthread_mutex_init(&wr->mu, NULL);
    pthread_condattr_t ca; /* `more` times its waits on the monotonic clock (gather) */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wr->more, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&wr->room, NULL);
    if (pthread_create(&wr->tid, NULL, writer_main, wr) != 0) {
        pthread_cond_destroy(&wr->room);
        pthread_cond_destroy(&wr->more);
        pthread_mutex_destroy(&wr->mu);
        free(wr);
        return NULL;
    }
    return wr;
}

int ms_writer_put(ms_writer *wr, const ms_write *w)
{
    size_t bytes;
    ms_write *c = copy_write(w, &bytes);
    pthread_mutex_lock(&wr->mu);
    while (!wr->failed && wr->head && wr->bytes + bytes > QUEUE_MAX_BYTES)
        pthread_cond_wait(&wr->room, &wr->mu);
    int failed = wr->failed;
    if (!failed) {
        if (wr->tail)
            wr->tail->next = c;
        else
            wr->head = c;
        wr->tail = c;
        wr->bytes += bytes;
        pthread_cond_signal(&wr->more);
    }
    pthread_mutex_unlock(&wr->mu);
    if (failed) {
        free_writes(c);
        return -1;
    }
    return 0;
}

int ms_writer_stop(ms_writer *wr)
{
    pthread_mutex_lock(&wr->mu);
    wr->stop = 1;
    pthread_cond_signal(&wr->more);
    pthread_mutex_unlock(&wr->mu);
    pthread_join(wr->tid, NULL);
    int failed = wr->failed;
    pthread_cond_destroy(&wr->room);
    pthread_cond_destroy(&wr->more);
    pthread_mutex_destroy(&wr->mu);
    free(wr);
    return failed ? -1 : 0;
}
