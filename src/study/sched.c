/* ms_sched: worker threads, the longest-first queue, thread shares. */
#define _POSIX_C_SOURCE 200809L
#include "ms_sched.h"
#include "ms_progress.h"
#include "ms_train.h"
#include "ms_util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

atomic_int ms_sched_cancel;

#define WAITS "waits for its rung's decision"

/* Async-signal-safe: a lock-free atomic store, errno preserved. */
static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    atomic_store_explicit(&ms_sched_cancel, 1, memory_order_relaxed);
    errno = saved;
}

void ms_sched_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

double ms_sched_cost(const ms_config *c, int epochs_done)
{
    ms_shape s;
    ms_shape_init(&s, c, MS_INPUT);
    /* forward + two backward products per training row, forward per validated row */
    double rows = 3.0 * c->train_size + (double)c->val_per_epoch * (c->train_size + c->val_size);
    int left = c->epochs - epochs_done;
    return (double)s.nparams * rows * (left > 0 ? left : 0);
}

/* What the database holds of a run before it trains: its finished epochs,
 * epoch rows and checkpoint's epoch (0: none). */
typedef struct run_rows {
    int done, rows, ck;
} run_rows;

typedef struct sched {
    ms_store *st;
    const ms_data *data;
    const ms_sched_opts *o;
    ms_job *runs;
    int *order; /* queue: indices into runs, longest first */
    int n, next;
    ms_rungs *rungs; /* pruned searches, or NULL */
    int *ready, nready; /* runs let go on at a rung: taken before the queue */
    pthread_cond_t wake; /* a run ended, waited or was let go on */
    int active; /* runs in progress */
    int store_failed;
    int nfailed, ndone, npruned;
    ms_progress *prog;
    pthread_mutex_t mu;
    run_rows *rows; /* of each run, read before training (see read_rows) */
} sched;

/* This worker's share of the thread budget with `active` runs going. */
static int share_of(sched *s)
{
    pthread_mutex_lock(&s->mu);
    int a = s->active > 0 ? s->active : 1;
    pthread_mutex_unlock(&s->mu);
    int sh = s->o->threads / a;
    return sh > 0 ? sh : 1;
}

/* Before the first epoch: the run's stored rows and checkpoint (s->rows) must agree,
 * and a checkpoint is restored into t. 0 to train, 1 failed (its status
 * set), -1 store error. */
static int resume(sched *s, ms_job *r, ms_trainer *t)
{
    const run_rows *q = &s->rows[r - s->runs];
    int done_n = q->done, rows = q->rows;
    if (done_n != rows || q->ck != done_n) {
        /* a resume would train again epochs it already stored, or skip some */
        const char *ck = !q->ck               ? ", no checkpoint"
                         : q->ck != done_n ? ", a checkpoint of another epoch"
                                           : "";
        char *msg = ms_xstrfmt("inconsistent: %d epochs finished, %d epoch rows%s; --retry-failed "
                               "starts the run again",
                               done_n, rows, ck);
        ms_store_set_status(s->st, r->run_id, MS_RUN_FAILED, MS_STOP_NONE, msg);
        free(msg);
        return 1;
    }
    if (!q->ck)
        return 0; /* a run from its first epoch: nothing to read */
    void *blob = NULL;
    size_t blen = 0;
    int ck_epoch = 0, rc = 0;
    if (ms_store_load_checkpoint(s->st, r->run_id, &blob, &blen, &ck_epoch) < 0) {
        rc = -1;
        goto out;
    }
    if (blob) {
        char why[160] = "";
        if (ms_trainer_restore(t, blob, blen, why, sizeof why) == 0 && t->epoch != ck_epoch)
            snprintf(why, sizeof why, "is of epoch %d, the run's last epoch row is %d", t->epoch,
                     ck_epoch);
        else if (!why[0] && t->stop)
            snprintf(why, sizeof why, "says the run ended (%s) but it is not done",
                     ms_stop_name(t->stop));
        if (why[0]) {
            char *msg = ms_xstrfmt("checkpoint %s; --retry-failed starts the run again", why);
            ms_store_set_status(s->st, r->run_id, MS_RUN_FAILED, MS_STOP_NONE, msg);
            free(msg);
            rc = 1;
        }
    }
out:
    free(blob);
    return rc;
}

/* The decisions taken since the last call, into the store's journal
 * (outside s->mu: a transaction of its own). -1 on a store error. */
static int flush_journal(sched *s)
{
    if (!s->rungs)
        return 0;
    ms_rung_row *rows;
    pthread_mutex_lock(&s->mu);
    int n = ms_rungs_journal(s->rungs, &rows);
    pthread_mutex_unlock(&s->mu);
    int rc = ms_store_put_decisions(s->st, s->o->sweep_id, rows, n);
    free(rows);
    return rc;
}

static void release_waiting(sched *s);

/* Run r failed: its trial's value is NaN from here. */
static void rung_failed(sched *s, ms_job *r)
{
    if (!s->rungs || !r->run->prune)
        return;
    pthread_mutex_lock(&s->mu);
    ms_rungs_report(s->rungs, r->index, 0, NAN, 1, 1);
    release_waiting(s);
    pthread_mutex_unlock(&s->mu);
    flush_journal(s); /* a store error here shows at the next write */
}

/* Run r finished epoch e (its last when ended): told to its search's
 * rungs, and what it does next. */
static ms_rung_next at_rung(sched *s, ms_job *r, const ms_epoch *e, int ended)
{
    if (!s->rungs || !r->run->prune)
        return MS_RUNG_GO;
    const double v[] = {[MS_METRIC_TRAIN_LOSS] = e->train_loss, [MS_METRIC_VAL_LOSS] = e->val_loss,
                        [MS_METRIC_TRAIN_ACC] = e->train_acc, [MS_METRIC_VAL_ACC] = e->val_acc};
    pthread_mutex_lock(&s->mu);
    ms_rungs_report(s->rungs, r->index, e->epoch, v[r->run->prune->metric], ended, 0);
    ms_rung_next nx = ended ? MS_RUNG_GO : ms_rungs_next(s->rungs, r->index, e->epoch);
    release_waiting(s); /* the runs this decided go on now, not when this run ends */
    pthread_mutex_unlock(&s->mu);
    return nx;
}

/* The epochs left, each committed with its checkpoint (none after the last,
 * unless the run keeps its state); *how as the run ended. 0 done, 1 failed,
 * 2 cancelled, -1 store error. */
static int train_epochs(sched *s, ms_job *r, ms_trainer *t, int slot, const char **how)
{
    while (!t->stop) {
        int threads = share_of(s);
        ms_trainer_set_threads(t, threads);
        ms_epoch e;
        int erc = ms_trainer_epoch(t, &e);
        if (erc == 1) { /* cancelled: the partial epoch is dropped */
            ms_store_set_status(s->st, r->run_id, MS_RUN_PENDING, MS_STOP_INTERRUPTED, NULL);
            *how = "interrupted";
            return 2;
        }
        if (erc < 0) {
            ms_store_set_status(s->st, r->run_id, MS_RUN_FAILED, t->stop,
                                "loss became NaN or infinite (diverged); lower the learning rate");
            rung_failed(s, r);
            return 1;
        }
        /* State only while the run can go on: a finished run's weights and
         * velocity are dead weight (~100-800 KB a run) nobody resumes, unless
         * its manifest says `keep: state` */
        void *blob = NULL;
        int keep = !t->stop || r->run->cfg.keep == MS_KEEP_STATE ||
                   (r->run->prune && t->stop == MS_STOP_EPOCHS); /* max may be raised */
        size_t n = keep ? ms_trainer_save(t, &blob) : 0;
        int rc = ms_store_commit_epoch(s->st, r->run_id, &e, t->step, t->evals, t->nevals, blob,
                                       n, t->stop);
        if (rc < 0) {
            free(blob);
            return -1;
        }
        ms_progress_epoch(s->prog, slot, e.epoch, e.val_acc, e.val_loss, e.seconds, threads);
        ms_rung_next nx = at_rung(s, r, &e, t->stop != MS_STOP_NONE);
        if (flush_journal(s) < 0) {
            free(blob);
            return -1;
        }
        if (nx == MS_RUNG_WAIT) { /* its state stays here until the decision */
            r->state = blob;
            r->state_len = n;
            r->epochs_done = e.epoch;
            ms_store_set_status(s->st, r->run_id, MS_RUN_PENDING, MS_STOP_NONE, NULL);
            *how = WAITS;
            return 3;
        }
        free(blob);
        if (nx == MS_RUNG_STOP) {
            ms_store_set_status(s->st, r->run_id, MS_RUN_DONE, MS_STOP_PRUNED, NULL);
            *how = "pruned";
            return 4;
        }
    }
    *how = t->stop == MS_STOP_EARLY ? "stopped early" : "done";
    return 0;
}

/* Whether a run that stops now ends (it does not when interrupted, nor
 * when it waits at a rung: it comes back). */
static int final_end(const char *how)
{
    return strcmp(how, "interrupted") && strcmp(how, WAITS);
}

/* Train one run to its end, or to a rung: 0 done, 1 failed, 2 cancelled,
 * 3 waits at a rung, 4 pruned, -1 store error. */
static int train_one(sched *s, ms_job *r)
{
    ms_trainer t;
    int slot = ms_progress_start(s->prog, r->run->variant, r->run->cfg.seed, r->epochs_done, r->run->cfg.epochs);
    const char *how = "failed";
    ms_provenance p = {s->o->version, s->o->compiler, s->o->host, (long)getpid(), share_of(s)};
    if (ms_store_start_run(s->st, r->run_id, &p) < 0) {
        ms_progress_end(s->prog, slot, how, final_end(how));
        return -1;
    }
    if (ms_trainer_init(&t, &r->run->cfg, s->data, share_of(s)) < 0) {
        ms_store_set_status(s->st, r->run_id, MS_RUN_FAILED, MS_STOP_NONE, "cannot start the run");
        rung_failed(s, r);
        ms_progress_end(s->prog, slot, how, final_end(how));
        return 1;
    }
    t.cancel = &ms_sched_cancel;
    t.longer_ok = r->run->prune != NULL; /* a search's max raised: its runs go on */
    int rc;
    if (r->state) { /* it waited at a rung in this process: its state is here */
        char why[160] = "";
        rc = ms_trainer_restore(&t, r->state, r->state_len, why, sizeof why) == 0 ? 0 : -1;
        if (rc)
            ms_error("run %lld: its state at the rung does not restore: %s", (long long)r->run_id,
                     why);
        free(r->state);
        r->state = NULL;
    } else {
        rc = resume(s, r, &t);
        if (rc == 1)
            rung_failed(s, r); /* its trial is judged without it */
    }
    if (rc == 0)
        rc = train_epochs(s, r, &t, slot, &how);
    ms_progress_end(s->prog, slot, how, final_end(how));
    ms_trainer_release(&t);
    return rc;
}

/* The next run to train, under s->mu: one let go on at a rung first, then
 * the queue (a run waiting at its rung, or stopped there, from an earlier
 * invocation is set aside); NULL when there is none now. */
static ms_job *take(sched *s)
{
    if (s->nready)
        return &s->runs[s->ready[--s->nready]];
    while (s->next < s->n) {
        ms_job *r = &s->runs[s->order[s->next++]];
        ms_rung_next nx = ms_rungs_next(s->rungs, r->index, r->epochs_done);
        if (nx == MS_RUNG_GO)
            return r;
        if (nx == MS_RUNG_WAIT) {
            r->waiting = 1;
        } else {
            r->pruned = 1;
            s->npruned++;
            ms_store_set_status(s->st, r->run_id, MS_RUN_DONE, MS_STOP_PRUNED, NULL);
            ms_progress_skip(s->prog, r->run->cfg.epochs - r->epochs_done);
        }
    }
    return NULL;
}

/* After a run ended or waits, under s->mu: the waiting runs whose trial's
 * decision came are queued (in index order) or ended pruned. */
static void release_waiting(sched *s)
{
    for (int i = s->n - 1; i >= 0; i--) {
        ms_job *r = &s->runs[i];
        if (!r->waiting)
            continue;
        ms_rung_next nx = ms_rungs_next(s->rungs, r->index, r->epochs_done);
        if (nx == MS_RUNG_WAIT)
            continue;
        r->waiting = 0;
        if (nx == MS_RUNG_GO) {
            s->ready[s->nready++] = i;
        } else {
            free(r->state);
            r->state = NULL;
            r->pruned = 1;
            s->npruned++;
            ms_store_set_status(s->st, r->run_id, MS_RUN_DONE, MS_STOP_PRUNED, NULL);
            ms_progress_skip(s->prog, r->run->cfg.epochs - r->epochs_done);
        }
    }
    pthread_cond_broadcast(&s->wake);
}

/* Wait for a run to be let go on at a rung, under s->mu; 0 when there is
 * nothing left to wait for (no run in progress could bring a decision). */
static int wait_for_work(sched *s)
{
    int any = 0;
    for (int i = 0; i < s->n && !any; i++)
        any = s->runs[i].waiting;
    if (!any || s->active == 0)
        return 0;
    /* timed: a signal sets ms_sched_cancel but cannot wake a waiter */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200 * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    pthread_cond_timedwait(&s->wake, &s->mu, &ts);
    return 1;
}

static void *worker(void *arg)
{
    sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        ms_job *r = NULL;
        while (!s->store_failed && !atomic_load(&ms_sched_cancel) && !(r = take(s)))
            if (!wait_for_work(s))
                break;
        if (!r) {
            pthread_cond_broadcast(&s->wake); /* the others see the same */
            pthread_mutex_unlock(&s->mu);
            return NULL;
        }
        s->active++;
        pthread_mutex_unlock(&s->mu);

        int rc = train_one(s, r);

        pthread_mutex_lock(&s->mu);
        s->active--;
        if (rc < 0) {
            s->store_failed = 1;
            atomic_store(&ms_sched_cancel, 1); /* the store is broken: stop everyone */
        } else if (rc == 1) {
            r->failed = 1;
            s->nfailed++;
        } else if (rc == 0) {
            s->ndone++;
        } else if (rc == 3) {
            r->waiting = 1;
        } else if (rc == 4) {
            r->pruned = 1;
            s->npruned++;
        }
        if (s->rungs)
            release_waiting(s);
        pthread_mutex_unlock(&s->mu);
    }
}

typedef struct costed {
    double cost;
    int index;
} costed;

/* Longest first; equal costs in index order (manifest order). */
static int by_cost(const void *a, const void *b)
{
    const costed *x = a, *y = b;
    if (x->cost != y->cost)
        return x->cost > y->cost ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

void ms_sched_order(const double *cost, int n, int *order)
{
    costed *c = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    for (int i = 0; i < n; i++)
        c[i] = (costed){cost[i], i};
    qsort(c, (size_t)(n > 0 ? n : 0), sizeof *c, by_cost);
    for (int i = 0; i < n; i++)
        order[i] = c[i].index;
    free(c);
}

int ms_sched_run(ms_store *st, const ms_data *data, ms_job *runs, int n, ms_rungs *rungs,
                 const ms_sched_opts *o)
{
    sched s;
    memset(&s, 0, sizeof s);
    s.st = st;
    s.data = data;
    s.o = o;
    s.runs = runs;
    s.n = n;
    s.rungs = rungs;
    s.ready = ms_malloc((size_t)(n ? n : 1) * sizeof *s.ready);
    pthread_cond_init(&s.wake, NULL);
    /* The queue, longest first: each cost computed once, not per comparison. */
    double *cost = ms_malloc((size_t)(n ? n : 1) * sizeof *cost);
    for (int i = 0; i < n; i++)
        cost[i] = ms_sched_cost(&runs[i].run->cfg, runs[i].epochs_done);
    s.order = ms_malloc((size_t)(n ? n : 1) * sizeof *s.order);
    ms_sched_order(cost, n, s.order);
    free(cost);
    pthread_mutex_init(&s.mu, NULL);
    int64_t epochs = 0;
    for (int i = 0; i < n; i++)
        epochs += runs[i].run->cfg.epochs - runs[i].epochs_done;
    s.prog = ms_progress_new(stderr, n, epochs, o->quiet);

    int jobs = o->jobs < 1 ? 1 : o->jobs;
    if (jobs > n)
        jobs = n;
    /* each run's rows read now, before the writer holds the store's mutex
     * for its commits: a worker starting a run would wait for an fsync */
    s.rows = ms_malloc((size_t)(n ? n : 1) * sizeof *s.rows);
    for (int i = 0; i < n; i++) {
        run_rows *q = &s.rows[i];
        if (ms_store_run_rows(st, runs[i].run_id, &q->done, &q->rows, &q->ck) < 0)
            s.store_failed = 1, s.n = 0; /* no run starts */
    }
    if (flush_journal(&s) < 0) /* the decisions recomputed from stored values */
        s.store_failed = 1, s.n = 0;
    /* workers queue their writes; one thread commits them in groups (a
     * synchronous store, if that thread cannot start, is as correct) */
    int async = n > 0 && ms_store_async_begin(st) == 0;
    pthread_t *tids = ms_malloc((size_t)(jobs ? jobs : 1) * sizeof *tids);
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&tids[i], NULL, worker, &s) != 0)
            break;
        started++;
    }
    if (!started && n)
        worker(&s); /* no thread could start: run in this one */
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (async && ms_store_async_end(st) < 0)
        s.store_failed = 1;
    free(tids);
    free(s.rows);
    free(s.order);
    free(s.ready);
    for (int i = 0; i < n; i++) { /* waiting when interrupted: its checkpoint is stored */
        free(runs[i].state);
        runs[i].state = NULL;
    }
    ms_progress_free(s.prog);
    pthread_cond_destroy(&s.wake);
    pthread_mutex_destroy(&s.mu);
    if (s.store_failed)
        return -1;
    if (atomic_load(&ms_sched_cancel))
        return 2;
    return s.nfailed ? 1 : 0;
}
