/* calltrace.c — the per-call path of trace mode. An event is a TSC reading and one
 * or two varints appended to the thread's own buffer: no lock (the GIL serialises
 * every writer and the flusher), no allocation but the buffer itself. */
#include "calltrace.h"

#include <string.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "control.h"
#include "pyagent/format.h"
#include "mem.h"
#include "tables.h"
#include "writer.h"

#define CALLS_BUF PA_EVBUF_SIZE
#define EVENT_MAX (2 * PA_VARINT_MAX)
#define FN_CACHE 2048             /* code object -> function id, direct-mapped */
#define MAX_TRACKED_DEPTH (1 << 17) /* frames whose recorded/unrecorded bit is kept */

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
    struct { const void *key; uint32_t id; } cache[FN_CACHE];
    struct pa_calls *next;        /* all buffers, for flushes */
} pa_calls_t;

static pa_calls_t *all;           /* under the GIL */
static uint64_t next_flush_ns;

static void submit(pa_calls_t *c)
{
    if (c->buf && c->len)
        pa_writer_submit_record(PA_REC_CALLS_DELTA, c->serial, c->base_ns, c->buf, c->len);
    else
        pa_thread_buffer_done(c->buf);
    c->buf = NULL;
    c->len = 0;
}

static pa_calls_t *calls_of(pa_thread_t *t)
{
    pa_calls_t *c = t->calls;
    if (PA_LIKELY(c != NULL && c->serial == t->serial))
        return c;
    if (c) {
        /* The state of an ended thread, reused: its events go out under its own serial. */
        submit(c);
        c->serial = t->serial;
        c->depth = 0;
        c->epoch++;
        return c;
    }
    c = pa_mem_calloc(1, sizeof *c);
    uint64_t *bits = pa_mem_calloc(MAX_TRACKED_DEPTH / 64, sizeof *bits);
    if (!c || !bits) {
        pa_mem_free(c), pa_mem_free(bits);
        return NULL;
    }
    c->recorded = bits;
    c->serial = t->serial;
    c->epoch = 1;
    c->next = all;
    all = c;
    t->calls = c;
    return c;
}

/* Room for one event; a full buffer goes to the writer, which writes once a chunk's
 * worth is waiting. Without that nudge only the allocation hooks would, and a program
 * that calls much and allocates little would pile up fresh buffers (page faults)
 * instead of getting written ones back. */
static __attribute__((noinline)) int refill(pa_calls_t *c, uint64_t now)
{
    int had = c->buf != NULL;
    submit(c);
    if (had)
        pa_writer_maybe_flush(pa_now_ns());
    if (!(c->buf = pa_thread_buffer_new())) {
        pa_writer_note_dropped(1);
        return -1;
    }
    pa_clock_anchor();
    c->base_ns = c->last_ns = now;
    c->last_id = 0;
    return 0;
}

static inline int reserve(pa_calls_t *c, uint64_t now)
{
    if (PA_LIKELY(c->buf && c->len + EVENT_MAX <= CALLS_BUF))
        return 0;
    return refill(c, now);
}

/* Every flush period the thread that notices takes everybody's buffers. */
static __attribute__((noinline)) void flush_now(uint64_t now)
{
    next_flush_ns = now + (uint64_t)pa_cfg.flush_ms * 1000000u;
    pa_calls_flush_all();
    pa_writer_maybe_flush(pa_now_ns());
}

static inline void maybe_flush(uint64_t now)
{
    if (PA_UNLIKELY(now >= next_flush_ns))
        flush_now(now);
}

/* Most values here fit one or two bytes: those skip the general loop. */
static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
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
static inline uint8_t *put_head(pa_calls_t *c, uint8_t *p, uint64_t now, unsigned kind)
{
    uint64_t dt = now > c->last_ns ? now - c->last_ns : 0;
    c->last_ns += dt;
    c->events++;
    return put_varint(p, dt << 2 | kind);
}

static __attribute__((noinline)) uint32_t name_function(pa_calls_t *c, unsigned slot, const void *key,
                                                        PyObject *code, const char *owner)
{
    pa_tables_lock();
    uint32_t id = code ? pa_py_function(code) : pa_py_c_function(key, owner);
    pa_tables_unlock();
    if (id) {
        c->cache[slot].key = key;
        c->cache[slot].id = id;
    }
    return id;
}

static inline uint32_t function_id(pa_calls_t *c, const void *key, PyObject *code, const char *owner)
{
    unsigned slot = (unsigned)(((uintptr_t)key >> 4) * 0x9E3779B1u >> 21) & (FN_CACHE - 1);
    if (PA_LIKELY(c->cache[slot].key == key))
        return c->cache[slot].id;
    return name_function(c, slot, key, code, owner);
}

static void push(pa_calls_t *c, int rec)
{
    uint32_t d = c->depth++;
    if (d < MAX_TRACKED_DEPTH) {
        if (rec)
            c->recorded[d / 64] |= 1ull << (d % 64);
        else
            c->recorded[d / 64] &= ~(1ull << (d % 64));
    }
}

/* Records an entry; 0 when it is not recorded (paused, out of memory, unnamed), and
 * then its exit must not be either. */
static inline __attribute__((always_inline)) int record_entry(pa_thread_t *t, pa_calls_t *c, const void *key, PyObject *code, const char *owner,
                        int resumed)
{
    pa_control_poll(t);
    /* While paused, frames are not recorded, and neither are their exits later. */
    int rec = !pa_control_paused();
    uint32_t id = rec ? function_id(c, key, code, owner) : 0;
    uint64_t now = pa_clock_fast(); /* after naming: a first sight's cost is not the call's */
    if (rec && id && reserve(c, now) == 0) {
        uint8_t *p = put_head(c, c->buf + c->len, now, PA_CALL_ENTER);
        int64_t d = (int64_t)id - (int64_t)c->last_id;
        c->last_id = id;
        p = put_varint(p, ((uint64_t)d << 1 ^ (uint64_t)(d >> 63)) << 1 | (resumed != 0)); /* zigzag */
        c->len = (size_t)(p - c->buf);
    } else {
        rec = 0;
    }
    maybe_flush(now);
    return rec;
}

static void enter(pa_thread_t *t, const void *key, PyObject *code, const char *owner, int resumed)
{
    pa_calls_t *c = calls_of(t);
    if (c)
        push(c, record_entry(t, c, key, code, owner, resumed));
}

uint32_t pa_calls_begin(pa_thread_t *t, PyObject *code, int resumed)
{
    pa_calls_t *c = t->calls;
    if (PA_UNLIKELY(!c || c->serial != t->serial) && !(c = calls_of(t)))
        return 0;
    return record_entry(t, c, code, code, NULL, resumed) ? c->epoch : 0;
}

void pa_calls_end(pa_thread_t *t, uint32_t token, unsigned kind)
{
    pa_calls_t *c = t->calls;
    if (PA_UNLIKELY(!c || c->epoch != token))
        return; /* dropped since (fork) */
    uint64_t now = pa_clock_fast();
    if (reserve(c, now) == 0)
        c->len = (size_t)(put_head(c, c->buf + c->len, now, kind) - c->buf);
}

void pa_calls_enter(pa_thread_t *t, PyObject *code, int resumed) { enter(t, code, code, NULL, resumed); }

void pa_calls_enter_c(pa_thread_t *t, const void *fn, const char *owner) { enter(t, fn, NULL, owner, 0); }

void pa_calls_exit(pa_thread_t *t, unsigned kind)
{
    pa_calls_t *c = t->calls;
    if (!c || !c->depth)
        return; /* a frame entered before tracing began */
    uint32_t d = --c->depth;
    if (d < MAX_TRACKED_DEPTH && !(c->recorded[d / 64] >> (d % 64) & 1))
        return;
    uint64_t now = pa_clock_fast();
    if (reserve(c, now) == 0)
        c->len = (size_t)(put_head(c, c->buf + c->len, now, kind) - c->buf);
}

void pa_calls_flush_all(void)
{
    for (pa_calls_t *c = all; c; c = c->next)
        submit(c);
}

uint64_t pa_calls_events(void)
{
    uint64_t n = 0;
    for (pa_calls_t *c = all; c; c = c->next)
        n += c->events;
    return n;
}

void pa_calls_fork_child(void)
{
    /* The parent's buffered calls are the parent's to write; the child's trace starts
     * afresh and its frames still open at the fork are not in it (their exits are
     * skipped like those of frames entered before tracing began). */
    for (pa_calls_t *c = all; c; c = c->next) {
        pa_thread_buffer_done(c->buf);
        c->buf = NULL;
        c->len = 0;
        c->depth = 0;
        c->events = 0;
        c->epoch++;
    }
}
