/* common.h — small primitives every agent module uses: export macro, branch hints,
 * a spinlock that can be reset after fork, the clock, and the re-entry guard. */
#ifndef PA_COMMON_H
#define PA_COMMON_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define PA_EXPORT __attribute__((visibility("default")))
#define PA_LIKELY(x) __builtin_expect(!!(x), 1)
#define PA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PA_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A test-and-test-and-set lock: no syscalls, no allocation, and safe to reset to 0 in
 * a fork child (only the forking thread survives). Yields after a short spin because
 * these VMs have two cores and the holder may be descheduled. */
typedef struct { atomic_int v; } pa_spin_t;
#define PA_SPIN_INIT { 0 }

static inline void pa_spin_lock(pa_spin_t *l)
{
    for (unsigned n = 0;; n++) {
        if (!atomic_load_explicit(&l->v, memory_order_relaxed) &&
            !atomic_exchange_explicit(&l->v, 1, memory_order_acquire))
            return;
        if (n > 64)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
}
static inline int pa_spin_trylock(pa_spin_t *l)
{
    return !atomic_load_explicit(&l->v, memory_order_relaxed) &&
           !atomic_exchange_explicit(&l->v, 1, memory_order_acquire);
}
static inline void pa_spin_unlock(pa_spin_t *l) { atomic_store_explicit(&l->v, 0, memory_order_release); }
static inline void pa_spin_reset(pa_spin_t *l) { atomic_store_explicit(&l->v, 0, memory_order_relaxed); }

static inline uint64_t pa_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Set while the current thread runs agent code: every hook then only forwards.
 * Initial-exec TLS: general-dynamic TLS may call malloc on first access. */
extern __thread int pa_in_agent __attribute__((tls_model("initial-exec")));

/* Agent life cycle, read by every hook. */
enum pa_state {
    PA_STATE_BOOT = 0,     /* constructor not done: forward only */
    PA_STATE_DORMANT = 1,  /* not tracking (non-Python process, config error, disabled) */
    PA_STATE_TRACKING = 2, /* hooks record */
    PA_STATE_FINISHED = 3, /* exit checkpoint taken: forward only */
};
extern atomic_int pa_state;

static inline int pa_tracking(void)
{
    return atomic_load_explicit(&pa_state, memory_order_relaxed) == PA_STATE_TRACKING;
}

#endif
