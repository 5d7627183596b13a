/* calltrace.c — the per-call path of trace mode. An event is a TSC reading and one
 * or two varints appended to the thread's own buffer: no lock (the GIL serialises
 * every writer and the flusher), no allocation but the buffer itself. */
#include "calltrace.h"
#include "calltrace_fast.h"

#include <string.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "control.h"
#include "pyagent/format.h"
#include "mem.h"
#include "tables.h"
#include "writer.h"

static pa_calls_t *all;           /* under the GIL */
uint64_t pa_calls_next_flush_ns;

static void submit(pa_calls_t *c)
{
    if (c->buf && c->len)
        pa_writer_submit_record(PA_REC_CALLS_DELTA, c->serial, c->base_ns, c->buf, c->len);
    else
        pa_thread_buffer_done(c->buf);
    c->buf = NULL;
    c->len = 0;
}

pa_calls_t *pa_calls_of(pa_thread_t *t)
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
    uint64_t *bits = pa_mem_calloc(PA_CALLS_MAX_TRACKED_DEPTH / 64, sizeof *bits);
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

/* A new buffer (the first, or the last one full). The full one goes to the writer,
 * which takes it into its chunk at once: without that nudge only the allocation hooks
 * would, and a program that calls much and allocates little would pile up fresh
 * buffers (page faults) instead of getting written ones back. */
int pa_calls_refill(pa_calls_t *c, uint64_t now)
{
    int had = c->buf != NULL;
    submit(c);
    if (had)
        pa_writer_absorb();
    if (!(c->buf = pa_thread_buffer_new())) {
        pa_writer_note_dropped(1);
        return -1;
    }
    pa_clock_anchor();
    c->base_ns = c->last_ns = now;
    c->last_id = 0;
    return 0;
}

/* Every flush period the thread that notices takes everybody's buffers. */
void pa_calls_flush_now(uint64_t now)
{
    pa_calls_next_flush_ns = now + (uint64_t)pa_cfg.flush_ms * 1000000u;
    pa_calls_flush_all();
    pa_writer_maybe_flush(pa_now_ns());
}

uint32_t pa_calls_name_function(pa_calls_t *c, unsigned slot, const void *key, PyObject *code, const char *owner)
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

static void push(pa_calls_t *c, int rec)
{
    uint32_t d = c->depth++;
    if (d < PA_CALLS_MAX_TRACKED_DEPTH) {
        if (rec)
            c->recorded[d / 64] |= 1ull << (d % 64);
        else
            c->recorded[d / 64] &= ~(1ull << (d % 64));
    }
}

static void enter(pa_thread_t *t, const void *key, PyObject *code, const char *owner, int resumed)
{
    pa_calls_t *c = pa_calls_of(t);
    if (c)
        push(c, pa_calls_record_entry(t, c, key, code, owner, resumed));
}

void pa_calls_enter(pa_thread_t *t, PyObject *code, int resumed) { enter(t, code, code, NULL, resumed); }

void pa_calls_enter_c(pa_thread_t *t, const void *fn, const char *owner) { enter(t, fn, NULL, owner, 0); }

void pa_calls_exit(pa_thread_t *t, unsigned kind)
{
    pa_calls_t *c = t->calls;
    if (!c || !c->depth)
        return; /* a frame entered before tracing began */
    uint32_t d = --c->depth;
    if (d < PA_CALLS_MAX_TRACKED_DEPTH && !(c->recorded[d / 64] >> (d % 64) & 1))
        return;
    pa_calls_record_exit(c, kind);
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
