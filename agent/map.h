/* map.h — a small open-addressing hash map from a 128-bit key to a 32-bit value,
 * used by the interning tables. Not synchronised: callers hold their own lock. */
#ifndef PA_MAP_H
#define PA_MAP_H

#include <stdint.h>

typedef struct pa_map_slot { uint64_t k1, k2; uint32_t val; } pa_map_slot_t; /* val 0 = empty */
typedef struct pa_map { pa_map_slot_t *slots; uint32_t mask, used; } pa_map_t;

/* The value for (k1, k2), or 0. */
uint32_t pa_map_get(const pa_map_t *m, uint64_t k1, uint64_t k2);
/* Sets (k1, k2) -> val (val != 0). Returns 0, or -1 out of memory. */
int pa_map_put(pa_map_t *m, uint64_t k1, uint64_t k2, uint32_t val);
void pa_map_clear(pa_map_t *m);
uint64_t pa_map_bytes(const pa_map_t *m);

static inline uint64_t pa_hash_bytes(const void *data, uint64_t n, uint64_t seed)
{
    /* FNV-1a over bytes then a final avalanche: fast enough for interning keys */
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t pa_mix64(uint64_t a, uint64_t b)
{
    uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x;
}

#endif
