/* A loop split over threads when it is worth it.
 *
 * MS_PAR_FOR(x, n, body) runs body for x = 0 .. n-1: as an OpenMP parallel
 * loop of `nthreads` threads when `par` (both in scope) is true, else as a
 * plain loop. Not an `if (par)` clause: libgomp sets up a region even when
 * the clause is false, and a validation chunk or a training step makes dozens
 * of small calls. Iterations write disjoint outputs, each computed the same
 * way on any thread, so results do not depend on the split. (Measured: one
 * OpenMP team per training step, sharing every product, was 1.2x slower on
 * two cores than running the step on one thread: a batch of 32 is too small.) */
#ifndef MS_PAR_H
#define MS_PAR_H

#define MS_PRAGMA(x) _Pragma(#x)

#define MS_PAR_FOR(x, n, ...)                                                                      \
    do {                                                                                           \
        if (par && nthreads > 1) {                                                                 \
            MS_PRAGMA(omp parallel for schedule(static) num_threads(nthreads))                     \
            for (int x = 0; x < (n); x++) {                                                        \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        } else {                                                                                   \
            for (int x = 0; x < (n); x++) {                                                        \
                __VA_ARGS__                                                                        \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#endif
