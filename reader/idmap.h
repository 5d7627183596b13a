/* idmap.h — id -> index hash map and an id-keyed table of fixed-size items, used by
 * the trace model for strings, functions, native frames, stack nodes and threads. */
#ifndef PA_IDMAP_H
#define PA_IDMAP_H

#include <stddef.h>
#include <stdint.h>

/* Open addressing, linear probing; any uint64_t key, including 0. */
typedef struct pa_idmap {
    uint64_t *keys;
    uint32_t *vals; /* index + 1; 0 marks an empty slot */
    size_t cap;     /* power of two, or 0 */
    size_t n;
} pa_idmap_t;

void pa_idmap_init(pa_idmap_t *m);
void pa_idmap_free(pa_idmap_t *m);
/* @return 0 and *val when key is present, -1 otherwise. */
int pa_idmap_get(const pa_idmap_t *m, uint64_t key, uint32_t *val);
/* Inserts key -> val (val < UINT32_MAX). @return 0 inserted, 1 key already present
 * (its value is kept), -1 out of memory (map unchanged). */
int pa_idmap_put(pa_idmap_t *m, uint64_t key, uint32_t val);

/* A vector of items of `elem` bytes, each reachable by a unique id. */
struct pa_table {
    void *items;
    size_t n, cap, elem;
    pa_idmap_t ids;
};

void pa_table_init(struct pa_table *tb, size_t elem);
void pa_table_free(struct pa_table *tb);
/* Appends a zeroed item for id. @return the item; NULL with *dup = 1 when id is
 * already defined (first definition wins), NULL with *dup = 0 when out of memory. */
void *pa_table_add(struct pa_table *tb, uint64_t id, int *dup);
/* @return the item for id, or NULL. Pointers are valid until the next add. */
void *pa_table_get(const struct pa_table *tb, uint64_t id);
/* @return item i (i < tb->n). */
void *pa_table_at(const struct pa_table *tb, size_t i);

/* Grows *v (of *cap items of elem bytes) to hold at least need items.
 * @return 0, or -1 when out of memory (*v unchanged). */
int pa_vec_reserve(void **v, size_t *cap, size_t need, size_t elem);

/* Sorts n items of elem bytes in place (heapsort: no allocation, unlike glibc's qsort,
 * which may call the host's malloc from inside the agent). Not stable. */
void pa_vec_sort(void *v, size_t n, size_t elem, int (*cmp)(const void *, const void *));

/* A well-mixed hash of a 64-bit key (splitmix64 finaliser). */
static inline uint64_t pa_hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

#endif
