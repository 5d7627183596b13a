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

typedef struct pa_stack_cache { uint64_t hash; uint32_t id; } pa_stack_cache_t;

struct pa_smp;   /* sampler.c: the thread's counters and sample ring */
struct pa_calls; /* calltrace.c: the thread's call events (trace mode) */
struct pa_count; /* count.c: the thread's open counted calls */

typedef struct pa_thread {
    pa_spin_t lock;       /* owner appends events; the writer takes the buffer */
    uint8_t *buf;         /* events of the current PA_REC_EVENTS body */
    size_t len;
    uint64_t base_ns, last_ns;
    uintptr_t last_ptr;
    uint32_t serial;      /* trace-wide thread id (tids are reused by the kernel) */
    int tid;
    int alive;
    uint64_t allocs, frees, samples; /* events recorded by this state, for the trace's stats */
    struct pa_thread *next; /* registry */
    pa_stack_cache_t cache[PA_STACK_CACHE]; /* owner only */
    struct pa_smp *_Atomic smp; /* NULL unless the thread's counters are open */
    struct pa_calls *calls;     /* trace mode, created by the thread's first call event */
    struct pa_count *count;     /* PYAGENT_COUNT, created by the thread's first counted call */
    uintptr_t eval_sp;          /* evalhook.c: the innermost open evaluator frame's address, or 0 */
    uint32_t eval_inlined;      /* evalhook.c: open frames CPython would have inlined */
    uint32_t eval_inlined_max;  /* evalhook.c: how many this thread's stack takes (0: not known yet) */
    uint64_t alloc_bytes, alloc_blocks; /* allocated by this thread so far (tracked blocks) */
    uintptr_t *ips;       /* scratch: native frames */
    void **unw;           /* scratch for unw_backtrace */
    pa_pyframe_t *py;     /* scratch: Python frames */
} pa_thread_t;

int pa_thread_init(void);

/* A written event buffer (PA_EVBUF_SIZE bytes, from a thread or from trace mode),
 * kept for reuse or freed. */
void pa_thread_buffer_done(uint8_t *buf);
uint8_t *pa_thread_buffer_new(void);

/* The calling thread's state, created on first use; NULL once the thread is ending
 * or if the agent is out of memory. */
pa_thread_t *pa_thread_get(void);

/* The calling thread's state if it has one; never creates (safe under any lock). */
pa_thread_t *pa_thread_peek(void);

/* The state of thread tid (alive), created for it if it has none: for threads that
 * were running before the agent activated. */
pa_thread_t *pa_thread_for_tid(int tid);

/* Records the thread's name (a THREAD record; the reader keeps the latest). */
void pa_thread_set_name(pa_thread_t *t, const char *name);

/* The calling thread's state pointer (initial-exec TLS, readable in a signal handler). */
extern __thread pa_thread_t *pa_self __attribute__((tls_model("initial-exec")));
#define PA_THREAD_DEAD ((pa_thread_t *)1)

/* Events recorded by all threads so far. */
void pa_thread_totals(uint64_t *allocs, uint64_t *frees, uint64_t *samples);

void pa_thread_emit_alloc(pa_thread_t *t, uint64_t now, uintptr_t ptr, uint64_t size, uint32_t stack);
void pa_thread_emit_free(pa_thread_t *t, uint64_t now, uintptr_t ptr);
/* A CPU sample taken at `when` (clamped so the thread's times never go backwards). */
void pa_thread_emit_sample(pa_thread_t *t, uint64_t when, uint32_t stack, const uint64_t *vals, int n);

/* Control events (see enum pa_event): a TOGGLE (resumed: 1, paused: 0; cause: enum
 * pa_toggle_cause), a COUNTED call (deltas: duration ns, thread CPU ns, bytes, blocks),
 * a MARK (fields: sid of a JSON object, or 0), a REGION begin/end, a COUNTER (bits:
 * zigzag int64, or the IEEE-754 bits of a double when is_float). */
void pa_thread_emit_toggle(pa_thread_t *t, uint64_t when, int resumed, unsigned cause);
void pa_thread_emit_counted(pa_thread_t *t, uint64_t when, uint32_t fn, const uint64_t deltas[4]);
void pa_thread_emit_mark(pa_thread_t *t, uint64_t when, uint32_t name, uint32_t fields);
void pa_thread_emit_region(pa_thread_t *t, uint64_t when, uint32_t name, int begin);
void pa_thread_emit_counter(pa_thread_t *t, uint64_t when, uint32_t name, int is_float, uint64_t bits);

/* Writer side: hands every non-empty buffer to fn (registry and thread locks held
 * during the call); fn takes ownership of buf. */
typedef void (*pa_thread_take_fn)(void *ctx, uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len);
void pa_thread_drain(pa_thread_take_fn fn, void *ctx);

/* fork: registry lock around fork; in the child only the calling thread survives. */
void pa_thread_fork_prepare(void);
void pa_thread_fork_parent(void);
void pa_thread_fork_child(void);

#endif
