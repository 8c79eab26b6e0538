/* ms_shard: greedy longest-processing-time split of a run list. */
#include "ms_shard.h"
#include "ms_sched.h"
#include "ms_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int ms_shard_parse(const char *opt, const char *s, int *index, int *count)
{
    char *end;
    errno = 0;
    long i = strtol(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || *end != '/' || errno)
        return ms_error("%s: '%s' is not I/N (shard I of N, counted from 0)", opt, s);
    const char *ns = end + 1;
    long n = strtol(ns, &end, 10);
    if (!isdigit((unsigned char)ns[0]) || *end || errno)
        return ms_error("%s: '%s' is not I/N (shard I of N, counted from 0)", opt, s);
    if (n < 1 || n > MS_SHARD_MAX)
        return ms_error("%s: the number of shards in '%s' must be between 1 and %d", opt, s,
                        MS_SHARD_MAX);
    if (i >= n)
        return ms_error("%s: shard %ld does not exist in '%s' (shards are 0 to %ld)", opt, i, s,
                        n - 1);
    *index = (int)i;
    *count = (int)n;
    return 0;
}

/* Min-heap of shards by (load, shard number): the next run goes to the top. */
static int less(const double *load, int a, int b)
{
    return load[a] < load[b] || (load[a] == load[b] && a < b);
}

static void sift_down(int *heap, int n, const double *load, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && less(load, heap[l], heap[m]))
            m = l;
        if (r < n && less(load, heap[r], heap[m]))
            m = r;
        if (m == i)
            return;
        int t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

void ms_shard_assign(const ms_run_spec *specs, int n, int nshards, int *shard_of, double *load)
{
    double *cost = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *cost);
    int *order = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    double *acc = ms_calloc((size_t)nshards, sizeof *acc);
    int *heap = ms_malloc((size_t)nshards * sizeof *heap);
    for (int i = 0; i < n; i++)
        cost[i] = ms_sched_cost(&specs[i].cfg, 0);
    ms_sched_order(cost, n, order); /* longest first, equal costs in list order */
    /* all loads are 0: shard numbers in order already form a heap */
    for (int s = 0; s < nshards; s++)
        heap[s] = s;
    for (int k = 0; k < n; k++) {
        int s = heap[0];
        shard_of[order[k]] = s;
        acc[s] += cost[order[k]];
        sift_down(heap, nshards, acc, 0);
    }
    if (load)
        for (int s = 0; s < nshards; s++)
            load[s] = acc[s];
    free(heap);
    free(acc);
    free(order);
    free(cost);
}

int ms_shard_filter(ms_run_spec *specs, int n, int index, int nshards)
{
    /* the runs of pruned searches stay, all of them: their trials are dealt
     * stage by stage (ms_rungs_in_shard); the others are split here */
    ms_run_spec *plain = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *plain);
    int *shard_of = ms_malloc((size_t)(n > 0 ? n : 1) * sizeof *shard_of), np = 0;
    for (int i = 0; i < n; i++)
        if (!specs[i].prune)
            plain[np++] = specs[i];
    ms_shard_assign(plain, np, nshards, shard_of, NULL);
    int k = 0;
    for (int i = 0, j = 0; i < n; i++)
        if (specs[i].prune || shard_of[j++] == index)
            specs[k++] = specs[i];
    free(shard_of);
    free(plain);
    return k;
}
