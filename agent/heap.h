/* heap.h — the outstanding-allocation table: every live tracked block with its size,
 * stack, thread and time; sharded so threads rarely meet on a lock. */
#ifndef PA_HEAP_H
#define PA_HEAP_H

#include <stdint.h>

typedef struct pa_block {
    uintptr_t ptr;
    uint64_t size;   /* low 48 bits: bytes; high bits: PA_BLK_* flags */
    uint32_t stack;  /* interned stack id, 0 = unknown */
    uint32_t thread; /* thread serial */
    uint64_t t_ns;   /* allocation time */
} pa_block_t;

#define PA_BLK_SIZE_MASK ((1ull << 48) - 1)
#define PA_BLK_STARTUP (1ull << 48)     /* allocated before the interpreter was ready */
#define PA_BLK_SHUTDOWN (1ull << 49)    /* allocated after the program-end checkpoint */
#define PA_BLK_LIVE_AT_END (1ull << 50) /* live at the program-end checkpoint */

int pa_heap_init(void);

/* Returns 0, or -1 if the table could not grow (the block is then untracked). */
int pa_heap_insert(const pa_block_t *b);

/* Removes ptr. Returns 1 and fills *out if it was tracked, else 0. A block live at the
 * program-end checkpoint is added to the "freed at shutdown" totals. */
int pa_heap_remove(uintptr_t ptr, pa_block_t *out);

/* Program-end checkpoint: marks every live block. Fills live totals. */
void pa_heap_mark_program_end(uint64_t *bytes, uint64_t *count);

/* Live totals now (sum over shards, each consistent). */
void pa_heap_totals(uint64_t *bytes, uint64_t *count);

/* Exit checkpoint: calls emit once per (stack, PA_LEAK_* flags) group of blocks never
 * freed and of blocks freed during shutdown. */
typedef void (*pa_leak_emit_fn)(void *ctx, uint32_t stack, uint32_t leak_flags, uint64_t bytes,
                                uint64_t count);
void pa_heap_leaks(pa_leak_emit_fn emit, void *ctx);

/* In a forked child: blocks allocated before `t_ns` were inherited from the parent and
 * are reported like start-up blocks (the parent reports them itself). */
void pa_heap_set_inherited_before(uint64_t t_ns);

/* Bytes the table itself occupies. */
uint64_t pa_heap_table_bytes(void);

/* fork: take every shard lock before, release after (parent and child). */
void pa_heap_lock_all(void);
void pa_heap_unlock_all(void);

#endif
