/*
 * prng.h - a small seeded pseudo-random generator (xoshiro256**, seeded by
 * splitmix64).
 *
 * Deterministic: the same seed yields the same sequence on every platform,
 * which is what the Raft core's election jitter and the simulator need.  The
 * state lives in a caller-owned struct: there is no global generator.  Not
 * for cryptography.
 */
#ifndef SAMSA_PRNG_H
#define SAMSA_PRNG_H

#include <stdint.h>

struct prng {
    uint64_t s[4];
};

/* prng_init - seed the generator; any seed (including 0) is valid. */
void prng_init(struct prng *p, uint64_t seed);
/* prng_next - the next 64 random bits. */
uint64_t prng_next(struct prng *p);
/* prng_range - uniform in [0, n); n must be > 0. */
uint64_t prng_range(struct prng *p, uint64_t n);
/* prng_chance - 1 with probability per_million / 1e6. */
int prng_chance(struct prng *p, uint32_t per_million);

#endif
