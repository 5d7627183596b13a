/* heap.c — sharded open-addressing hash of live blocks, plus the per-stack totals
 * the leak report needs. No global atomics on the hot path: a block touches only its
 * shard, chosen by the top bits of a mixed pointer (low bits collide across arenas). */
#include "heap.h"

#include <string.h>

#include "common.h"
#include "idmap.h" /* pa_hash64, shared with the reader */
#include "mem.h"
#include "pyagent/format.h"

#define SHARDS 256
#define MIN_SLOTS 32

typedef struct shard {
    pa_spin_t lock;
    uint32_t mask; /* slots - 1, or 0 when unallocated */
    uint32_t used;
    pa_block_t *slots;
    uint64_t live_bytes, live_count;
} __attribute__((aligned(64))) shard_t;

static shard_t shards[SHARDS];

/* Totals by (stack, leak flags), used for blocks freed during shutdown and, at exit,
 * for the blocks never freed. */
typedef struct agg_slot { uint64_t key, bytes, count; } agg_slot_t;
typedef struct agg { pa_spin_t lock; uint32_t mask, used; agg_slot_t *slots; } agg_t;
static agg_t freed_at_shutdown;
static uint64_t inherited_before; /* set in a forked child; read at its exit */

void pa_heap_set_inherited_before(uint64_t t_ns) { inherited_before = t_ns; }


int pa_heap_init(void) { return 0; }

static int shard_grow(shard_t *s)
{
    uint32_t n = s->mask ? (s->mask + 1) * 2 : MIN_SLOTS;
    pa_block_t *slots = pa_mem_calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; s->mask && i <= s->mask; i++) {
        if (!s->slots[i].ptr)
            continue;
        uint32_t j = (uint32_t)pa_hash64(s->slots[i].ptr) & (n - 1);
        while (slots[j].ptr)
            j = (j + 1) & (n - 1);
        slots[j] = s->slots[i];
    }
    pa_mem_free(s->slots);
    s->slots = slots;
    s->mask = n - 1;
    return 0;
}

int pa_heap_insert(const pa_block_t *b)
{
    uint64_t h = pa_hash64(b->ptr);
    shard_t *s = &shards[h >> 56];
    pa_spin_lock(&s->lock);
    if ((s->used + 1) * 10 > (s->mask + 1) * 7 && shard_grow(s) != 0) {
        pa_spin_unlock(&s->lock);
        return -1;
    }
    uint32_t i = (uint32_t)h & s->mask;
    while (s->slots[i].ptr && s->slots[i].ptr != b->ptr)
        i = (i + 1) & s->mask;
    if (s->slots[i].ptr) { /* a block we missed the free of: replace it */
        s->live_bytes -= s->slots[i].size & PA_BLK_SIZE_MASK;
        s->live_count--;
        s->used--;
    }
    s->slots[i] = *b;
    s->used++;
    s->live_bytes += b->size & PA_BLK_SIZE_MASK;
    s->live_count++;
    pa_spin_unlock(&s->lock);
    return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void shard_delete(shard_t *s, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->slots[j].ptr)
            break;
        uint32_t home = (uint32_t)pa_hash64(s->slots[j].ptr) & s->mask;
        /* move j to i if its home is not cyclically within (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].ptr = 0;
}

static void agg_add(agg_t *a, uint64_t key, uint64_t bytes, uint64_t count);

int pa_heap_remove(uintptr_t ptr, pa_block_t *out)
{
    uint64_t h = pa_hash64(ptr);
    shard_t *s = &shards[h >> 56];
    pa_spin_lock(&s->lock);
    if (!s->mask) {
        pa_spin_unlock(&s->lock);
        return 0;
    }
    uint32_t i = (uint32_t)h & s->mask;
    while (s->slots[i].ptr && s->slots[i].ptr != ptr)
        i = (i + 1) & s->mask;
    if (!s->slots[i].ptr) {
        pa_spin_unlock(&s->lock);
        return 0;
    }
    *out = s->slots[i];
    shard_delete(s, i);
    s->used--;
    s->live_bytes -= out->size & PA_BLK_SIZE_MASK;
    s->live_count--;
    pa_spin_unlock(&s->lock);
    if (PA_UNLIKELY(out->size & PA_BLK_LIVE_AT_END)) {
        uint32_t flags = PA_LEAK_FREED_AT_SHUTDOWN | (out->size & PA_BLK_STARTUP ? PA_LEAK_STARTUP : 0);
        agg_add(&freed_at_shutdown, (uint64_t)out->stack << 32 | flags, out->size & PA_BLK_SIZE_MASK, 1);
    }
    return 1;
}

void pa_heap_mark_program_end(uint64_t *bytes, uint64_t *count)
{
    *bytes = *count = 0;
    for (int k = 0; k < SHARDS; k++) {
        shard_t *s = &shards[k];
        pa_spin_lock(&s->lock);
        for (uint32_t i = 0; s->mask && i <= s->mask; i++)
            if (s->slots[i].ptr)
                s->slots[i].size |= PA_BLK_LIVE_AT_END;
        *bytes += s->live_bytes;
        *count += s->live_count;
        pa_spin_unlock(&s->lock);
    }
}

void pa_heap_totals(uint64_t *bytes, uint64_t *count)
{
    *bytes = *count = 0;
    for (int k = 0; k < SHARDS; k++) {
        pa_spin_lock(&shards[k].lock);
        *bytes += shards[k].live_bytes;
        *count += shards[k].live_count;
        pa_spin_unlock(&shards[k].lock);
    }
}

/* ---- aggregation by (stack, flags) ---- */

static int agg_grow(agg_t *a)
{
    uint32_t n = a->mask ? (a->mask + 1) * 2 : 1024;
    agg_slot_t *slots = pa_mem_calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; a->mask && i <= a->mask; i++) {
        if (!a->slots[i].count)
            continue;
        uint32_t j = (uint32_t)pa_hash64(a->slots[i].key) & (n - 1);
        while (slots[j].count)
            j = (j + 1) & (n - 1);
        slots[j] = a->slots[i];
    }
    pa_mem_free(a->slots);
    a->slots = slots;
    a->mask = n - 1;
    return 0;
}

static void agg_add(agg_t *a, uint64_t key, uint64_t bytes, uint64_t count)
{
    pa_spin_lock(&a->lock);
    if ((a->used + 1) * 10 > (a->mask + 1) * 7 && agg_grow(a) != 0) {
        pa_spin_unlock(&a->lock);
        return;
    }
    uint32_t i = (uint32_t)pa_hash64(key) & a->mask;
    while (a->slots[i].count && a->slots[i].key != key)
        i = (i + 1) & a->mask;
    if (!a->slots[i].count) {
        a->slots[i].key = key;
        a->used++;
    }
    a->slots[i].bytes += bytes;
    a->slots[i].count += count;
    pa_spin_unlock(&a->lock);
}

static void agg_emit(agg_t *a, pa_leak_emit_fn emit, void *ctx)
{
    for (uint32_t i = 0; a->mask && i <= a->mask; i++)
        if (a->slots[i].count)
            emit(ctx, (uint32_t)(a->slots[i].key >> 32), (uint32_t)a->slots[i].key, a->slots[i].bytes,
                 a->slots[i].count);
}

/* Both kinds of groups are gathered into a private map first, so emit (which takes
 * the tables lock) runs with no heap lock held. */
void pa_heap_leaks(pa_leak_emit_fn emit, void *ctx)
{
    agg_t all = { PA_SPIN_INIT, 0, 0, NULL };
    for (int k = 0; k < SHARDS; k++) {
        shard_t *s = &shards[k];
        pa_spin_lock(&s->lock);
        for (uint32_t i = 0; s->mask && i <= s->mask; i++) {
            const pa_block_t *b = &s->slots[i];
            if (!b->ptr)
                continue;
            uint32_t flags = (b->size & PA_BLK_STARTUP || b->t_ns < inherited_before ? PA_LEAK_STARTUP : 0) |
                             (b->size & PA_BLK_SHUTDOWN ? PA_LEAK_SHUTDOWN : 0);
            agg_add(&all, (uint64_t)b->stack << 32 | flags, b->size & PA_BLK_SIZE_MASK, 1);
        }
        pa_spin_unlock(&s->lock);
    }
    pa_spin_lock(&freed_at_shutdown.lock);
    for (uint32_t i = 0; freed_at_shutdown.mask && i <= freed_at_shutdown.mask; i++) {
        const agg_slot_t *a = &freed_at_shutdown.slots[i];
        if (a->count)
            agg_add(&all, a->key, a->bytes, a->count);
    }
    pa_spin_unlock(&freed_at_shutdown.lock);
    agg_emit(&all, emit, ctx);
    pa_mem_free(all.slots);
}

uint64_t pa_heap_table_bytes(void)
{
    uint64_t n = 0;
    for (int k = 0; k < SHARDS; k++)
        n += shards[k].mask ? (uint64_t)(shards[k].mask + 1) * sizeof(pa_block_t) : 0;
    return n;
}

void pa_heap_lock_all(void)
{
    for (int k = 0; k < SHARDS; k++)
        pa_spin_lock(&shards[k].lock);
    pa_spin_lock(&freed_at_shutdown.lock);
}

void pa_heap_unlock_all(void)
{
    pa_spin_unlock(&freed_at_shutdown.lock);
    for (int k = 0; k < SHARDS; k++)
        pa_spin_unlock(&shards[k].lock);
}
