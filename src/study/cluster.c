/* ms_cluster: a cluster sweep's published shard copies as one sweep
 * (ms_cluster.h). */
#define _GNU_SOURCE
#include "ms_cluster.h"
#include "ms_merge.h"
#include "ms_query.h"
#include "ms_store.h"
#include "ms_util.h"

#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int ms_cluster_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* One copy's counts, from its sweep_status (every sweep it holds). */
static int read_shard(const char *path, const char *dir, ms_cluster_shard *s)
{
    struct stat st;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    memset(s, 0, sizeof *s);
    s->name = ms_strdup(path + strlen(dir) + 1);
    s->age = stat(path, &st) == 0 ? (double)(now.tv_sec - st.st_mtim.tv_sec) : NAN;
    ms_store *db;
    ms_query_status p;
    if (ms_store_open(path, MS_STORE_READONLY, &db) < 0)
        return -1;
    int rc = ms_query_status_read(db, &p);
    ms_store_close(db);
    if (rc < 0)
        return -1;
    double seconds = 0;
    for (int i = 0; i < p.nsweeps; i++) {
        const ms_query_sweep_row *w = &p.sweeps[i];
        s->runs += w->runs, s->done += w->done, s->running += w->running;
        s->pending += w->pending, s->failed += w->failed;
        s->epochs_done += w->epochs_done, s->epochs_total += w->epochs_total;
        seconds += w->train_seconds;
    }
    ms_query_status_release(&p);
    /* runs of a task train side by side: its pace is its epochs over the
     * time its runs took, times the runs at once */
    int64_t left = s->epochs_total - s->epochs_done;
    s->eta = left <= 0                         ? 0
             : s->epochs_done == 0 || seconds <= 0 ? NAN
             : (double)left * seconds / (double)s->epochs_done /
                   (double)(s->running > 1 ? s->running : 1);
    return 0;
}

void ms_cluster_release(ms_cluster *c)
{
    if (c->merged) { /* a database: its -wal and -shm too, when left */
        const char *ext[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char *f = ms_xstrfmt("%s%s", c->merged, ext[i]);
            unlink(f);
            free(f);
        }
        free(c->merged);
    }
    for (int i = 0; i < c->nshards; i++)
        free(c->shards[i].name);
    free(c->shards);
    memset(c, 0, sizeof *c);
}

int ms_cluster_read(const char *dir, ms_cluster *c)
{
    memset(c, 0, sizeof *c);
    glob_t g;
    char *p1 = ms_xstrfmt("%s/*.db", dir), *p2 = ms_xstrfmt("%s/stage-*/shard-*.db", dir);
    int r = glob(p1, 0, NULL, &g);
    if (r == 0 || r == GLOB_NOMATCH)
        r = glob(p2, GLOB_APPEND, NULL, &g);
    free(p1), free(p2);
    if (r != 0 && r != GLOB_NOMATCH) {
        globfree(&g);
        return ms_error("cannot list '%s'", dir);
    }
    if (g.gl_pathc == 0) {
        globfree(&g);
        return ms_error("'%s' holds no published shard database yet (shard-I.db: the tasks "
                        "publish theirs once they have trained for a while)",
                        dir);
    }
    int rc = 0;
    c->shards = ms_calloc(g.gl_pathc, sizeof *c->shards);
    for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
        rc = read_shard(g.gl_pathv[i], dir, &c->shards[c->nshards++]);
    const char *tmp = getenv("TMPDIR");
    int fd;
    char *dirname = ms_xstrfmt("%s", tmp && *tmp ? tmp : "/tmp");
    c->merged = rc == 0 ? ms_temp_in(dirname, "cluster-status.db", &fd) : NULL;
    free(dirname);
    if (rc == 0 && !c->merged)
        rc = -1;
    if (c->merged) {
        close(fd);
        unlink(c->merged); /* merge creates it as a database */
        ms_merge_stats st;
        rc = ms_merge(c->merged, (const char *const *)g.gl_pathv, (int)g.gl_pathc, &st);
        c->unstarted = rc == 0 ? st.missing : 0;
    }
    for (int i = 0; i < c->nshards; i++)
        c->eta = fmax(c->eta, isnan(c->shards[i].eta) ? 0 : c->shards[i].eta);
    globfree(&g);
    if (rc < 0) {
        ms_cluster_release(c);
        return -1;
    }
    return 0;
}
