/* calltrace_fast.h — trace mode's per-call path, inline. The frame evaluator
 * (evalhook.c) records two events per Python call; a function call each would cost
 * about what recording does. Only calltrace.c and evalhook.c include this: the rest
 * of the agent goes through calltrace.h. GIL held throughout. */
#ifndef PA_CALLTRACE_FAST_H
#define PA_CALLTRACE_FAST_H

#include <stdint.h>

#include "clock.h"
#include "common.h"
#include "control.h"
#include "pyagent/format.h"
#include "python.h"
#include "thread.h"

#define PA_CALLS_BUF PA_EVBUF_SIZE
#define PA_CALLS_EVENT_MAX (2 * PA_VARINT_MAX)
#define PA_CALLS_FN_CACHE 2048             /* code object -> function id, direct-mapped */
#define PA_CALLS_MAX_TRACKED_DEPTH (1 << 17) /* frames whose recorded/unrecorded bit is kept */

typedef struct pa_calls {
    uint8_t *buf;
    size_t len;
    uint64_t base_ns, last_ns;
    uint32_t last_id;             /* the buffer's previous ENTER: ids are written as differences */
    uint32_t serial;
    uint32_t depth;               /* frames open since tracing began on this thread */
    uint32_t epoch;               /* pa_calls_begin's token: changes when the buffer is dropped */
    uint64_t events;              /* recorded by this thread */
    uint64_t *recorded;           /* bit per open frame: its entry was recorded */
    struct { const void *key; uint32_t id; } cache[PA_CALLS_FN_CACHE];
    struct pa_calls *next;        /* all buffers, for flushes */
} pa_calls_t;

/* The slow paths, in calltrace.c. */
extern uint64_t pa_calls_next_flush_ns;
pa_calls_t *pa_calls_of(pa_thread_t *t);               /* creates or reclaims t's state */
int pa_calls_refill(pa_calls_t *c, uint64_t now);      /* a new buffer; -1: none */
void pa_calls_flush_now(uint64_t now);
uint32_t pa_calls_name_function(pa_calls_t *c, unsigned slot, const void *key, PyObject *code, const char *owner);

static inline int pa_calls_reserve(pa_calls_t *c, uint64_t now)
{
    if (PA_LIKELY(c->buf && c->len + PA_CALLS_EVENT_MAX <= PA_CALLS_BUF))
        return 0;
    return pa_calls_refill(c, now);
}

static inline void pa_calls_maybe_flush(uint64_t now)
{
    if (PA_UNLIKELY(now >= pa_calls_next_flush_ns))
        pa_calls_flush_now(now);
}

/* Most values here fit one or two bytes: those skip the general loop. */
static inline uint8_t *pa_calls_put_varint(uint8_t *p, uint64_t v)
{
    if (PA_LIKELY(v < 0x80)) {
        p[0] = (uint8_t)v;
        return p + 1;
    }
    if (v < 0x4000) {
        p[0] = (uint8_t)(v | 0x80);
        p[1] = (uint8_t)(v >> 7);
        return p + 2;
    }
    return p + pa_varint_put(p, v);
}

/* The event's head at p (the buffer's end); returns the new end. The caller stores
 * it back once: bytes written through a pointer could alias c's fields otherwise. */
static inline uint8_t *pa_calls_put_head(pa_calls_t *c, uint8_t *p, uint64_t now, unsigned kind)
{
    uint64_t dt = now > c->last_ns ? now - c->last_ns : 0;
    c->last_ns += dt;
    c->events++;
    return pa_calls_put_varint(p, dt << 2 | kind);
}

static inline uint32_t pa_calls_function_id(pa_calls_t *c, const void *key, PyObject *code, const char *owner)
{
    unsigned slot = (unsigned)(((uintptr_t)key >> 4) * 0x9E3779B1u >> 21) & (PA_CALLS_FN_CACHE - 1);
    if (PA_LIKELY(c->cache[slot].key == key))
        return c->cache[slot].id;
    return pa_calls_name_function(c, slot, key, code, owner);
}

/* Records an entry; 0 when it is not recorded (paused, out of memory, unnamed), and
 * then its exit must not be either. */
static inline __attribute__((always_inline)) int pa_calls_record_entry(pa_thread_t *t, pa_calls_t *c, const void *key, PyObject *code, const char *owner,
                        int resumed)
{
    pa_control_poll(t);
    /* While paused, frames are not recorded, and neither are their exits later. */
    int rec = !pa_control_paused();
    uint32_t id = rec ? pa_calls_function_id(c, key, code, owner) : 0;
    uint64_t now = pa_clock_fast(); /* after naming: a first sight's cost is not the call's */
    if (rec && id && pa_calls_reserve(c, now) == 0) {
        uint8_t *p = pa_calls_put_head(c, c->buf + c->len, now, PA_CALL_ENTER);
        int64_t d = (int64_t)id - (int64_t)c->last_id;
        c->last_id = id;
        p = pa_calls_put_varint(p, pa_zigzag(d) << 1 | (resumed != 0));
        c->len = (size_t)(p - c->buf);
    } else {
        rec = 0;
    }
    pa_calls_maybe_flush(now);
    return rec;
}

/* An exit of the thread's innermost recorded frame. */
static inline void pa_calls_record_exit(pa_calls_t *c, unsigned kind)
{
    uint64_t now = pa_clock_fast();
    if (pa_calls_reserve(c, now) == 0)
        c->len = (size_t)(pa_calls_put_head(c, c->buf + c->len, now, kind) - c->buf);
}

static inline uint32_t pa_calls_begin(pa_thread_t *t, PyObject *code, int resumed)
{
    pa_calls_t *c = t->calls;
    if (PA_UNLIKELY(!c || c->serial != t->serial) && !(c = pa_calls_of(t)))
        return 0;
    return pa_calls_record_entry(t, c, code, code, NULL, resumed) ? c->epoch : 0;
}

static inline void pa_calls_end(pa_thread_t *t, uint32_t token, unsigned kind)
{
    pa_calls_t *c = t->calls;
    if (PA_UNLIKELY(!c || c->epoch != token))
        return; /* dropped since (fork) */
    pa_calls_record_exit(c, kind);
}

#endif
