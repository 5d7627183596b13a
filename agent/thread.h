/* thread.h — per-thread agent state: the event buffer, a small stack cache and the
 * scratch space for unwinding, reached through an initial-exec TLS pointer. */
#ifndef PA_THREAD_H
#define PA_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "python.h"

#define PA_STACK_CACHE 256
#define PA_EVBUF_SIZE (64u << 10)

typedef struct pa_thread {
    pa_spin_t lock;       /* owner appends events; the writer takes the buffer */
    uint8_t *buf;         /* events of the current PA_REC_EVENTS body */
    size_t len;
    uint64_t base_ns, last_ns;
    uintptr_t last_ptr;
    uint32_t serial;      /* trace-wide thread id (tids are reused by the kernel) */
    int tid;
    int alive;
    uint64_t allocs, frees; /* events recorded by this state, for the trace's stats */
    struct pa_thread *next; /* registry */
    struct { uint64_t hash; uint32_t id; } cache[PA_STACK_CACHE];
    uintptr_t *ips;       /* scratch: native frames */
    void **unw;           /* scratch for unw_backtrace */
    pa_pyframe_t *py;     /* scratch: Python frames */
} pa_thread_t;

int pa_thread_init(void);

/* The calling thread's state, created on first use; NULL once the thread is ending
 * or if the agent is out of memory. */
pa_thread_t *pa_thread_get(void);

/* The calling thread's state if it has one; never creates (safe under any lock). */
pa_thread_t *pa_thread_peek(void);

/* Events recorded by all threads so far. */
void pa_thread_totals(uint64_t *allocs, uint64_t *frees);

void pa_thread_emit_alloc(pa_thread_t *t, uint64_t now, uintptr_t ptr, uint64_t size, uint32_t stack);
void pa_thread_emit_free(pa_thread_t *t, uint64_t now, uintptr_t ptr);

/* Writer side: hands every non-empty buffer to fn (registry and thread locks held
 * during the call); fn takes ownership of buf. */
typedef void (*pa_thread_take_fn)(void *ctx, uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len);
void pa_thread_drain(pa_thread_take_fn fn, void *ctx);

/* fork: registry lock around fork; in the child only the calling thread survives. */
void pa_thread_fork_prepare(void);
void pa_thread_fork_parent(void);
void pa_thread_fork_child(void);

#endif
