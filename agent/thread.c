/* thread.c — thread states: created lazily by the first hook a thread runs, handed
 * back at thread exit through a pthread key destructor, and reused so that agent
 * memory does not grow with the number of threads that have come and gone. */

#include "thread.h"

#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "mem.h"
#include "sampler.h"
#include "tables.h"
#include "unwind.h"
#include "writer.h"

__thread pa_thread_t *pa_self __attribute__((tls_model("initial-exec")));
#define DEAD PA_THREAD_DEAD

static pthread_key_t key;
static pa_spin_t registry_lock = PA_SPIN_INIT;
static pa_thread_t *registry;
static uint32_t next_serial;

static void thread_exit(void *arg);

/* Event buffers come back here once written (pa_thread_buffer_done) and go to the
 * next thread that needs one: a program running many short threads then neither
 * makes the agent's allocator set up memory for each thread (mmap, page faults,
 * munmap at its end) nor holds a buffer per ended thread. */
#define SPARE_MAX 32
static pa_spin_t spare_lock = PA_SPIN_INIT;
static uint8_t *spare[SPARE_MAX];
static int n_spare;

uint8_t *pa_thread_buffer_new(void)
{
    uint8_t *b = NULL;
    pa_spin_lock(&spare_lock);
    if (n_spare)
        b = spare[--n_spare];
    pa_spin_unlock(&spare_lock);
    return b ? b : pa_mem_alloc(PA_EVBUF_SIZE);
}

void pa_thread_buffer_done(uint8_t *b)
{
    if (!b)
        return;
    pa_spin_lock(&spare_lock);
    if (n_spare < SPARE_MAX) {
        spare[n_spare++] = b;
        b = NULL;
    }
    pa_spin_unlock(&spare_lock);
    pa_mem_free(b);
}

int pa_thread_init(void) { return pthread_key_create(&key, thread_exit) == 0 ? 0 : -1; }

static void describe(pa_thread_t *t, uint64_t now, const char *name)
{
    pa_rec_t r = { 0 };
    pa_rec_u(&r, t->serial);
    pa_rec_u(&r, (uint64_t)t->tid);
    pa_rec_u(&r, now);
    pa_tables_lock();
    pa_rec_u(&r, name ? pa_tab_string(name, strlen(name)) : 0);
    pa_tab_append(PA_REC_THREAD, &r);
    pa_tables_unlock();
}

void pa_thread_set_name(pa_thread_t *t, const char *name) { describe(t, pa_clock_ns(), name); }

static pa_thread_t *create(void)
{
    pa_thread_t *t = pa_mem_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->ips = pa_mem_alloc(sizeof(uintptr_t) * (size_t)(pa_cfg.native_depth + 1));
    t->unw = pa_mem_alloc(sizeof(void *) * (size_t)(pa_cfg.native_depth + PA_UNWIND_SLACK));
    t->py = pa_mem_alloc(sizeof(pa_pyframe_t) * (size_t)pa_cfg.python_depth);
    if (!t->ips || !t->unw || !t->py) {
        pa_mem_free(t->ips), pa_mem_free(t->unw), pa_mem_free(t->py), pa_mem_free(t);
        return NULL;
    }
    return t;
}

/* A reused state keeps its scratch space; its cache is stale and is cleared. */
static pa_thread_t *claim(int tid)
{
    pa_spin_lock(&registry_lock);
    pa_thread_t *t = registry;
    while (t && t->alive)
        t = t->next;
    if (t) {
        memset(t->cache, 0, sizeof t->cache);
    } else if ((t = create())) {
        t->next = registry;
        registry = t;
    }
    if (t) {
        t->alive = 1;
        t->serial = ++next_serial;
        t->tid = tid;
        t->buf = NULL;
        t->len = 0;
        /* A reused record: this thread's stack is elsewhere. */
        t->eval_sp = 0;
        t->eval_inlined = t->eval_inlined_max = 0;
    }
    pa_spin_unlock(&registry_lock);
    return t;
}

pa_thread_t *pa_thread_get(void)
{
    pa_thread_t *t = pa_self;
    if (PA_LIKELY(t && t != DEAD))
        return t;
    if (t == DEAD)
        return NULL;
    t = claim((int)syscall(SYS_gettid));
    pa_self = t ? t : DEAD;
    if (!t)
        return NULL;
    pthread_setspecific(key, t);
    describe(t, pa_clock_ns(), NULL);
    return t;
}

pa_thread_t *pa_thread_for_tid(int tid)
{
    pa_spin_lock(&registry_lock);
    pa_thread_t *t = registry;
    while (t && !(t->alive && t->tid == tid))
        t = t->next;
    pa_spin_unlock(&registry_lock);
    if (!t && (t = claim(tid)))
        describe(t, pa_clock_ns(), NULL);
    return t;
}

pa_thread_t *pa_thread_peek(void)
{
    pa_thread_t *t = pa_self;
    return t == DEAD ? NULL : t;
}

static void thread_exit(void *arg)
{
    pa_thread_t *t = arg;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    pa_sampler_thread_end(t);
    pa_spin_lock(&t->lock);
    if (t->len)
        pa_writer_submit(t->serial, t->base_ns, t->buf, t->len);
    else if (t->buf)
        pa_thread_buffer_done(t->buf);
    t->buf = NULL;
    t->len = 0;
    pa_spin_unlock(&t->lock);
    pa_self = DEAD; /* later frees in this thread still update the table */
    pa_spin_lock(&registry_lock);
    t->alive = 0;
    pa_spin_unlock(&registry_lock);
    pa_in_agent = guard;
}

/* Makes room for one more event of at most `need` bytes; the full buffer goes to
 * the writer. Thread lock held. */
static int reserve_n(pa_thread_t *t, size_t need)
{
    if (t->buf && t->len + need <= PA_EVBUF_SIZE)
        return 0;
    if (t->buf)
        pa_writer_submit(t->serial, t->base_ns, t->buf, t->len);
    t->buf = pa_thread_buffer_new();
    t->len = 0;
    return t->buf ? 0 : -1;
}

static int reserve(pa_thread_t *t) { return reserve_n(t, 4 * PA_VARINT_MAX + 1); }

static int begin_event(pa_thread_t *t, uint64_t now, uint8_t type)
{
    if (reserve(t) != 0) {
        pa_writer_note_dropped(1);
        return -1;
    }
    if (!t->len) {
        t->base_ns = t->last_ns = now;
        t->last_ptr = 0;
    }
    t->buf[t->len++] = type;
    t->len += pa_varint_put(t->buf + t->len, now - t->last_ns);
    t->last_ns = now;
    return 0;
}

static void put_ptr(pa_thread_t *t, uintptr_t ptr)
{
    t->len += pa_varint_put(t->buf + t->len, pa_zigzag((int64_t)(ptr - t->last_ptr)));
    t->last_ptr = ptr;
}

void pa_thread_emit_alloc(pa_thread_t *t, uint64_t now, uintptr_t ptr, uint64_t size, uint32_t stack)
{
    pa_spin_lock(&t->lock);
    if (begin_event(t, now, PA_EV_ALLOC) == 0) {
        put_ptr(t, ptr);
        t->len += pa_varint_put(t->buf + t->len, size);
        t->len += pa_varint_put(t->buf + t->len, stack);
        t->allocs++;
        t->alloc_bytes += size;
        t->alloc_blocks++;
    }
    pa_spin_unlock(&t->lock);
}

void pa_thread_emit_free(pa_thread_t *t, uint64_t now, uintptr_t ptr)
{
    pa_spin_lock(&t->lock);
    if (begin_event(t, now, PA_EV_FREE) == 0) {
        put_ptr(t, ptr);
        t->frees++;
    }
    pa_spin_unlock(&t->lock);
}

void pa_thread_emit_sample(pa_thread_t *t, uint64_t when, uint32_t stack, const uint64_t *vals, int n)
{
    pa_spin_lock(&t->lock);
    /* Samples reach the buffer after the handler ran, possibly after later events of
     * the same thread (drained by another thread): times never go backwards. */
    if (t->buf && t->len && when < t->last_ns)
        when = t->last_ns;
    if (reserve_n(t, (size_t)(4 + n) * PA_VARINT_MAX + 1) == 0 && begin_event(t, when, PA_EV_SAMPLE) == 0) {
        t->len += pa_varint_put(t->buf + t->len, stack);
        t->len += pa_varint_put(t->buf + t->len, (uint64_t)n);
        for (int i = 0; i < n; i++)
            t->len += pa_varint_put(t->buf + t->len, vals[i]);
        t->samples++;
    }
    pa_spin_unlock(&t->lock);
}

/* Control events: marks, counters, regions, toggles and counted calls. Each takes
 * up to PA_CTL_MAX bytes. */
#define PA_CTL_MAX (8 * PA_VARINT_MAX + 1)

static void emit_varints(pa_thread_t *t, uint64_t when, uint8_t type, const uint64_t *v, int n)
{
    pa_spin_lock(&t->lock);
    if (t->buf && t->len && when < t->last_ns)
        when = t->last_ns;
    if (reserve_n(t, PA_CTL_MAX) == 0 && begin_event(t, when, type) == 0)
        for (int i = 0; i < n; i++)
            t->len += pa_varint_put(t->buf + t->len, v[i]);
    pa_spin_unlock(&t->lock);
}

void pa_thread_emit_toggle(pa_thread_t *t, uint64_t when, int resumed, unsigned cause)
{
    uint64_t v[] = { (uint64_t)resumed, cause };
    emit_varints(t, when, PA_EV_TOGGLE, v, 2);
}

void pa_thread_emit_counted(pa_thread_t *t, uint64_t when, uint32_t fn, const uint64_t deltas[4])
{
    uint64_t v[] = { fn, deltas[0], deltas[1], deltas[2], deltas[3] };
    emit_varints(t, when, PA_EV_COUNTED, v, 5);
}

void pa_thread_emit_mark(pa_thread_t *t, uint64_t when, uint32_t name, uint32_t fields)
{
    uint64_t v[] = { name, fields };
    emit_varints(t, when, PA_EV_MARK, v, 2);
}

void pa_thread_emit_region(pa_thread_t *t, uint64_t when, uint32_t name, int begin)
{
    uint64_t v[] = { name, begin ? 1u : 2u };
    emit_varints(t, when, PA_EV_REGION, v, 2);
}

void pa_thread_emit_counter(pa_thread_t *t, uint64_t when, uint32_t name, int is_float, uint64_t bits)
{
    pa_spin_lock(&t->lock);
    if (t->buf && t->len && when < t->last_ns)
        when = t->last_ns;
    if (reserve_n(t, PA_CTL_MAX) == 0 && begin_event(t, when, PA_EV_COUNTER) == 0) {
        t->len += pa_varint_put(t->buf + t->len, name);
        t->len += pa_varint_put(t->buf + t->len, (uint64_t)is_float);
        if (is_float) {
            pa_le64_put(t->buf + t->len, bits);
            t->len += 8;
        } else {
            t->len += pa_varint_put(t->buf + t->len, bits);
        }
    }
    pa_spin_unlock(&t->lock);
}

void pa_thread_drain(pa_thread_take_fn fn, void *ctx)
{
    pa_spin_lock(&registry_lock);
    for (pa_thread_t *t = registry; t; t = t->next) {
        pa_spin_lock(&t->lock);
        if (t->len) {
            fn(ctx, t->serial, t->base_ns, t->buf, t->len);
            t->buf = NULL;
            t->len = 0;
        }
        pa_spin_unlock(&t->lock);
    }
    pa_spin_unlock(&registry_lock);
}

void pa_thread_fork_prepare(void) { pa_spin_lock(&registry_lock); }
void pa_thread_fork_parent(void) { pa_spin_unlock(&registry_lock); }

void pa_thread_fork_child(void)
{
    pa_spin_reset(&spare_lock);
    /* Only this thread exists now; the buffered events are the parent's to write. */
    for (pa_thread_t *t = registry; t; t = t->next) {
        pa_spin_reset(&t->lock);
        pa_mem_free(t->buf);
        t->buf = NULL;
        t->len = 0;
        if (t != pa_self)
            t->alive = 0;
    }
    if (pa_self && pa_self != DEAD)
        pa_self->tid = (int)syscall(SYS_gettid);
    pa_spin_reset(&registry_lock);
}

void pa_thread_totals(uint64_t *allocs, uint64_t *frees, uint64_t *samples)
{
    *allocs = *frees = *samples = 0;
    pa_spin_lock(&registry_lock);
    for (pa_thread_t *t = registry; t; t = t->next) {
        *allocs += t->allocs;
        *frees += t->frees;
        *samples += t->samples;
    }
    pa_spin_unlock(&registry_lock);
}
