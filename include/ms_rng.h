/* ms_rng: explicit, seedable random numbers (xoshiro256** seeded through
 * splitmix64). State is a plain struct passed by pointer: no globals, so a run
 * is reproducible and its RNG can be checkpointed and restored exactly. */
#ifndef MS_RNG_H
#define MS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ms_rng {
    uint64_t s[4];
} ms_rng;

void ms_rng_seed(ms_rng *r, uint64_t seed);
uint64_t ms_rng_next(ms_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double ms_rng_uniform(ms_rng *r);
/* n uniform draws into out[0..n): the numbers n calls of ms_rng_uniform give. */
void ms_rng_uniform_n(ms_rng *r, double *out, size_t n);
/* Uniform integer in [0, n), unbiased (Lemire's method). */
uint64_t ms_rng_below(ms_rng *r, uint64_t n);
/* Standard normal (Box-Muller, no cached second value: the state alone
 * determines the stream). */
double ms_rng_normal(ms_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void ms_rng_shuffle(ms_rng *r, int32_t *idx, int32_t n);

#endif
