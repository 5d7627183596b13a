/* sampler.c — CPU sampling. Each thread gets its own perf_event group; the leader's
 * overflow raises a realtime signal (F_SETSIG) delivered to that thread
 * (F_SETOWN_EX). The handler is async-signal-safe: no locks, no allocation, no
 * Python calls. It reads the counters, walks the thread's own Python frame chain,
 * unwinds native frames and copies all of it into the thread's sample ring, a
 * single-producer single-consumer byte ring. Agent code outside the handler drains
 * the rings into trace events: the thread's next hook, any flush, thread end, exit.
 *
 * Two choices keep the host safe:
 *  - counters are user-level (exclude_kernel), so an overflow happens while the
 *    thread runs user code and the signal never interrupts a system call (no EINTR);
 *  - the leader is armed for one overflow at a time (PERF_EVENT_IOC_REFRESH) and the
 *    handler re-arms it, so a thread that blocks the signal holds at most one pending
 *    instance: the realtime queue cannot overflow into the kernel's SIGIO fallback. */
#include "sampler.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "control.h"
#include "counters.h"
#include "log.h"
#include "mem.h"
#include "python.h"
#include "sigchain.h"
#include "stacks.h"
#include "stats.h"
#include "tables.h"
#include "unwind.h"

#define RING_BYTES (1u << 20) /* ~80 s of samples at 100 Hz with no hook to drain them */
#define MAX_THREADS 1024
#define WRAP 0xFFFFFFFFu

typedef struct pa_smp {
    atomic_int tid;        /* 0: slot free */
    atomic_int active;     /* the handler records only while set */
    int fds[PA_MAX_EVENTS];
    uint64_t last[PA_MAX_EVENTS]; /* handler: counter values at the previous sample */
    pa_thread_t *thr;
    uint8_t *ring;
    _Atomic uint64_t head, tail; /* byte positions, only ever growing */
    pa_spin_t consumer;
    atomic_uint_fast64_t lost;
    /* handler only: this sample's frames and the previous sample's */
    pa_pyframe_t *py, *prev;
    int prev_n;
    uintptr_t *ips;
    void **unw;
    /* consumer only: the previous sample's frames, rebuilt */
    pa_pyframe_t *ccur, *cprev;
    int cprev_n;
} pa_smp_t;

/* A ring record; values, the new (inner) Python frames and the native frames follow. */
typedef struct rec_head {
    uint32_t size;     /* bytes, multiple of 8; WRAP: continue at the ring's start */
    uint16_t n_new;    /* Python frames stored in this record, innermost first */
    uint16_t n_shared; /* outer frames equal to the previous sample's outermost ones */
    uint16_t n_ips;
    uint16_t n_vals;
    uint32_t reserved;
    uint64_t when;
} rec_head_t;

typedef struct raw_frame {
    uint64_t code;
    int32_t offset;
    uint32_t seg_end;
} raw_frame_t;

static pa_event_set_t set;
static int lead[PA_MAX_EVENTS], n_lead; /* the sampling group: event indices, leader first */
static unsigned ev_flags[PA_MAX_EVENTS];
static int signo;
static atomic_int running;
static int walk_ok; /* Python frames can be read from the handler */

static pa_smp_t *_Atomic table[MAX_THREADS];
static atomic_int table_n;
static pa_spin_t table_lock = PA_SPIN_INIT;
static atomic_int fds_open, fd_budget, threads_opened;
static uint64_t lost_total;

/* ---- code objects seen by the handler: kept alive until their names are read ---- */

#define SEEN_SLOTS 16384u
static _Atomic uintptr_t *seen;

static void hold_code(uintptr_t code)
{
    unsigned h = (unsigned)((code >> 4) * 0x9E3779B1u) & (SEEN_SLOTS - 1);
    for (int probe = 0; probe < 16; probe++, h = (h + 1) & (SEEN_SLOTS - 1)) {
        uintptr_t cur = atomic_load_explicit(&seen[h], memory_order_relaxed);
        if (cur == code)
            return;
        if (!cur && atomic_compare_exchange_strong(&seen[h], &cur, code)) {
            pa_py_hold((PyObject *)code);
            return;
        }
        if (cur == code)
            return;
    }
    /* Table crowded: the sample is drained soon enough in practice. */
}

/* ---- the handler ---- */

static pa_smp_t *find_self(void)
{
    pa_thread_t *t = pa_self;
    if (t && t != PA_THREAD_DEAD) {
        pa_smp_t *s = atomic_load_explicit(&t->smp, memory_order_acquire);
        if (s)
            return s;
    }
    /* Threads that were running before activation: their counters were opened by
     * the activating thread, which could not set their TLS. */
    int tid = (int)syscall(SYS_gettid);
    int n = atomic_load_explicit(&table_n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        pa_smp_t *s = atomic_load_explicit(&table[i], memory_order_acquire);
        if (s && atomic_load_explicit(&s->tid, memory_order_relaxed) == tid)
            return s;
    }
    return NULL;
}

static void read_deltas(pa_smp_t *s, uint64_t *out)
{
    uint64_t v[PA_MAX_EVENTS];
    int scaled;
    memset(v, 0, sizeof v);
    if (pa_group_read(s->fds[lead[0]], n_lead, v, &scaled) == 0) {
        uint64_t tmp[PA_MAX_EVENTS];
        memcpy(tmp, v, sizeof tmp);
        for (int k = 0; k < n_lead; k++)
            v[lead[k]] = tmp[k];
    }
    for (int i = 0; i < set.n; i++) {
        if (ev_flags[i] & PA_EVF_MULTIPLEXED)
            pa_group_read(s->fds[i], 1, &v[i], &scaled);
        out[i] = v[i] >= s->last[i] ? v[i] - s->last[i] : 0;
        if (v[i] >= s->last[i])
            s->last[i] = v[i];
    }
}

static int native_frames(pa_smp_t *s, uintptr_t pc, int in_agent)
{
    if (!pa_cfg.native_depth)
        return 0;
    /* Running the interpreter itself (PYAGENT_NATIVE=auto): the Python frames say
     * where; its own machinery would only cost unwinding and symbol lookups. */
    if (pa_cfg.native_mode == PA_NATIVE_AUTO && pa_py_in_interpreter((const void *)pc))
        return 0;
    /* Inside a hook the thread may be in libunwind already: the address alone. */
    if (in_agent) {
        s->ips[0] = pc;
        return 1;
    }
    int n = pa_unwind_from(s->ips, pa_cfg.native_depth, s->unw, pc);
    if (pa_cfg.native_mode != PA_NATIVE_FULL && pa_py.eval_start)
        for (int i = 0; i < n && i < PA_LEAF_FRAMES; i++)
            if (pa_stack_in_eval(s->ips[i]) || i == PA_LEAF_FRAMES - 1)
                return i + 1;
    return n;
}

static int same_frame(const pa_pyframe_t *a, const pa_pyframe_t *b)
{
    return a->code == b->code && a->offset == b->offset && a->seg_end == b->seg_end;
}

static uint8_t *ring_reserve(pa_smp_t *s, uint32_t need, uint64_t *at)
{
    uint64_t h = atomic_load_explicit(&s->head, memory_order_relaxed);
    uint64_t t = atomic_load_explicit(&s->tail, memory_order_acquire);
    uint32_t pos = (uint32_t)(h & (RING_BYTES - 1)), to_end = RING_BYTES - pos;
    /* An empty ring past its middle starts over at its first byte: a thread whose
     * samples are drained as they come keeps to the ring's first half instead of
     * touching all of it. (The skipped end counts as used until the consumer passes
     * the wrap marker, so starting over earlier would shrink the room left.) */
    uint64_t waste = to_end < need || (h == t && pos >= RING_BYTES / 2) ? to_end : 0;
    if (h + waste + need - t > RING_BYTES)
        return NULL;
    if (waste) {
        *(uint32_t *)(s->ring + pos) = WRAP;
        h += waste;
        pos = 0;
    }
    *at = h;
    return s->ring + pos;
}

static void take_sample(pa_smp_t *s, const ucontext_t *uc, int in_agent)
{
    uint64_t when = pa_clock_ns(), vals[PA_MAX_EVENTS];
    read_deltas(s, vals);
    int n_py = walk_ok && atomic_load_explicit(&pa_py_ready, memory_order_acquire)
                   ? pa_py_walk_signal(s->py, pa_cfg.python_depth)
                   : 0;
    for (int i = 0; i < n_py; i++)
        hold_code((uintptr_t)s->py[i].code);
    int n_ips = native_frames(s, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP], in_agent);
    int shared = 0;
    while (shared < n_py && shared < s->prev_n &&
           same_frame(&s->py[n_py - 1 - shared], &s->prev[s->prev_n - 1 - shared]))
        shared++;
    uint32_t n_new = (uint32_t)(n_py - shared);
    uint32_t need = (uint32_t)(sizeof(rec_head_t) + 8u * (uint32_t)set.n + sizeof(raw_frame_t) * n_new + 8u * (uint32_t)n_ips);
    uint64_t at;
    uint8_t *p = ring_reserve(s, need, &at);
    if (!p) {
        atomic_fetch_add_explicit(&s->lost, 1, memory_order_relaxed);
        s->prev_n = 0; /* the next record must not refer to this one */
        return;
    }
    rec_head_t h = { need, (uint16_t)n_new, (uint16_t)shared, (uint16_t)n_ips, (uint16_t)set.n, 0, when };
    memcpy(p, &h, sizeof h);
    uint8_t *q = p + sizeof h;
    memcpy(q, vals, 8u * (size_t)set.n);
    q += 8u * (size_t)set.n;
    for (uint32_t i = 0; i < n_new; i++, q += sizeof(raw_frame_t)) {
        raw_frame_t f = { (uintptr_t)s->py[i].code, s->py[i].offset, s->py[i].seg_end };
        memcpy(q, &f, sizeof f);
    }
    memcpy(q, s->ips, 8u * (size_t)n_ips);
    atomic_store_explicit(&s->head, at + need, memory_order_release);
    pa_pyframe_t *swap = s->prev;
    s->prev = s->py;
    s->py = swap;
    s->prev_n = n_py;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    pa_smp_t *s = find_self();
    int leader = s ? s->fds[lead[0]] : -1;
    if (si->si_code <= 0) {
        pa_sigchain_forward(sig, si, uc); /* sent by someone (kill, sigqueue, a timer) */
    } else if (!s || si->si_fd != leader) {
        /* A late overflow of counters closed since (the thread's, or its slot's
         * previous owner's): the kernel raised it for the agent; dropped. */
    } else if (atomic_load_explicit(&s->active, memory_order_acquire) &&
               atomic_load_explicit(&running, memory_order_relaxed) && !pa_control_paused()) {
        int guard = pa_in_agent;
        pa_in_agent = 1; /* nothing here allocates; should it, the hooks only forward */
        take_sample(s, uc, guard);
        pa_in_agent = guard;
        ioctl(leader, PERF_EVENT_IOC_REFRESH, 1); /* armed for the next overflow */
    } else if (atomic_load_explicit(&s->active, memory_order_acquire) && pa_control_paused()) {
        /* Paused: read the counters (the next sample's deltas start from now) and re-arm. */
        uint64_t skip[PA_MAX_EVENTS];
        read_deltas(s, skip);
        ioctl(leader, PERF_EVENT_IOC_REFRESH, 1);
    }
    errno = saved;
}

/* ---- per-thread counters (ordinary context) ---- */

static int perf_open(struct perf_event_attr *attr, int tid, int group)
{
    return (int)syscall(SYS_perf_event_open, attr, tid, -1, group, PERF_FLAG_FD_CLOEXEC);
}

/* A descriptor may have been closed by the program (closerange) and its number
 * reused: close only what is still a perf event. */
static void close_perf_fd(int fd)
{
    char path[64], link[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n > 0) {
        link[n] = 0;
        if (strstr(link, "[perf_event]"))
            close(fd);
    }
}

static void close_counters(pa_smp_t *s)
{
    for (int i = 0; i < set.n; i++) {
        if (s->fds[i] >= 0) {
            close_perf_fd(s->fds[i]);
            atomic_fetch_sub(&fds_open, 1);
        }
        s->fds[i] = -1;
    }
}

static void leader_attr(struct perf_event_attr *a)
{
    if (pa_cfg.period) {
        a->sample_period = (uint64_t)pa_cfg.period;
    } else {
        a->freq = 1;
        a->sample_freq = (uint64_t)pa_cfg.freq;
    }
    a->wakeup_events = 1;
    a->disabled = 1; /* armed by PERF_EVENT_IOC_REFRESH once the signal is routed */
}

static int open_counters(pa_smp_t *s, int tid)
{
    if (atomic_fetch_add(&fds_open, set.n) + set.n > atomic_load(&fd_budget)) {
        atomic_fetch_sub(&fds_open, set.n);
        return -EMFILE;
    }
    for (int i = 0; i < set.n; i++)
        s->fds[i] = -1;
    int leader = -1;
    for (int k = 0; k < n_lead; k++) {
        struct perf_event_attr a = set.ev[lead[k]].attr;
        a.disabled = 0;
        if (k == 0)
            leader_attr(&a);
        if ((s->fds[lead[k]] = perf_open(&a, tid, leader)) < 0)
            goto fail;
        if (k == 0)
            leader = s->fds[lead[0]];
    }
    for (int i = 0; i < set.n; i++) {
        if (!(ev_flags[i] & PA_EVF_MULTIPLEXED))
            continue;
        struct perf_event_attr a = set.ev[i].attr;
        a.disabled = 0;
        if ((s->fds[i] = perf_open(&a, tid, -1)) < 0)
            goto fail;
    }
    struct f_owner_ex owner = { F_OWNER_TID, tid };
    if (fcntl(leader, F_SETSIG, signo) != 0 || fcntl(leader, F_SETOWN_EX, &owner) != 0 ||
        fcntl(leader, F_SETFL, fcntl(leader, F_GETFL) | O_ASYNC) != 0)
        goto fail;
    memset(s->last, 0, sizeof s->last);
    s->prev_n = 0;
    atomic_store(&s->active, 1);
    if (ioctl(leader, PERF_EVENT_IOC_REFRESH, 1) != 0)
        goto fail;
    atomic_fetch_add(&threads_opened, 1);
    return 0;
fail:;
    int e = errno;
    atomic_store(&s->active, 0);
    for (int i = 0; i < set.n; i++)
        if (s->fds[i] >= 0)
            close(s->fds[i]), s->fds[i] = -1;
    atomic_fetch_sub(&fds_open, set.n);
    return -e;
}

static pa_smp_t *new_slot(void)
{
    pa_smp_t *s = pa_mem_calloc(1, sizeof *s);
    size_t py = sizeof(pa_pyframe_t) * (size_t)pa_cfg.python_depth;
    if (!s)
        return NULL;
    s->ring = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    s->py = pa_mem_alloc(py), s->prev = pa_mem_alloc(py);
    s->ccur = pa_mem_alloc(py), s->cprev = pa_mem_alloc(py);
    s->ips = pa_mem_alloc(sizeof(uintptr_t) * (size_t)(pa_cfg.native_depth + 1));
    s->unw = pa_mem_alloc(sizeof(void *) * (size_t)(pa_cfg.native_depth + PA_UNWIND_SLACK));
    if (s->ring == MAP_FAILED || !s->py || !s->prev || !s->ccur || !s->cprev || !s->ips || !s->unw)
        return NULL; /* out of memory at thread start: that thread is not sampled */
    for (int i = 0; i < PA_MAX_EVENTS; i++)
        s->fds[i] = -1;
    return s;
}

/* A free slot (its ring kept from an ended thread) or a new one, claimed for tid. */
static pa_smp_t *claim_slot(int tid)
{
    pa_spin_lock(&table_lock);
    pa_smp_t *s = NULL;
    int n = atomic_load(&table_n);
    for (int i = 0; i < n && !s; i++) {
        pa_smp_t *c = atomic_load(&table[i]);
        if (!atomic_load(&c->tid) && pa_spin_trylock(&c->consumer)) {
            if (atomic_load(&c->head) == atomic_load(&c->tail))
                s = c;
            pa_spin_unlock(&c->consumer);
        }
    }
    if (!s && n < MAX_THREADS && (s = new_slot())) {
        atomic_store(&table[n], s);
        atomic_store(&table_n, n + 1);
    }
    if (s) {
        s->cprev_n = 0;
        atomic_store(&s->tid, tid);
    }
    pa_spin_unlock(&table_lock);
    return s;
}

static void release_slot(pa_smp_t *s)
{
    s->thr = NULL;
    atomic_store(&s->tid, 0);
}

static void say_once(const char *why, int err)
{
    static atomic_int said;
    if (!atomic_exchange(&said, 1))
        pa_log("some threads are not sampled: %s (%s)", why, strerror(err));
}

static void sample_thread(pa_thread_t *t, int tid)
{
    if (!t || atomic_load(&t->smp))
        return;
    pa_smp_t *s = claim_slot(tid);
    if (!s) {
        say_once("out of agent memory", ENOMEM);
        return;
    }
    s->thr = t;
    int rc = open_counters(s, tid);
    if (rc != 0) {
        release_slot(s);
        say_once(rc == -EMFILE ? "file descriptor budget reached" : "perf_event_open failed", -rc);
        return;
    }
    atomic_store_explicit(&t->smp, s, memory_order_release);
}

/* ---- draining (ordinary context) ---- */

static void emit(pa_smp_t *s, const rec_head_t *h, const uint8_t *body, int own)
{
    uint64_t vals[PA_MAX_EVENTS];
    memcpy(vals, body, 8u * h->n_vals);
    const uint8_t *q = body + 8u * h->n_vals;
    int n_py = h->n_new + h->n_shared;
    if (h->n_shared > s->cprev_n || n_py > pa_cfg.python_depth)
        return; /* cannot happen: records are consumed in order */
    for (int i = 0; i < h->n_new; i++, q += sizeof(raw_frame_t)) {
        raw_frame_t f;
        memcpy(&f, q, sizeof f);
        s->ccur[i] = (pa_pyframe_t){ (PyObject *)(uintptr_t)f.code, f.offset, (uint8_t)f.seg_end };
    }
    memcpy(s->ccur + h->n_new, s->cprev + (s->cprev_n - h->n_shared), sizeof(pa_pyframe_t) * h->n_shared);
    uintptr_t ips[256 + 1];
    int n_ips = h->n_ips < 256 ? h->n_ips : 256;
    memcpy(ips, q, 8u * (size_t)n_ips);
    pa_thread_t *t = s->thr;
    uint32_t stack = pa_stack_intern_sample(own ? t->cache : NULL, ips, n_ips, s->ccur, n_py);
    pa_thread_emit_sample(t, h->when, stack, vals, h->n_vals);
    uint32_t fn = 0;
    if (n_py) {
        pa_tables_lock();
        fn = pa_py_function(s->ccur[0].code);
        pa_tables_unlock();
    }
    pa_stats_sample(t->serial, t->tid, fn, vals, h->n_vals);
    pa_pyframe_t *swap = s->cprev;
    s->cprev = s->ccur;
    s->ccur = swap;
    s->cprev_n = n_py;
}

static void drain(pa_smp_t *s, int wait)
{
    if (wait)
        pa_spin_lock(&s->consumer);
    else if (!pa_spin_trylock(&s->consumer))
        return;
    uint64_t t = atomic_load_explicit(&s->tail, memory_order_relaxed);
    uint64_t h = atomic_load_explicit(&s->head, memory_order_acquire);
    int own = s->thr && pa_self == s->thr;
    while (t < h && s->thr) {
        uint32_t pos = (uint32_t)(t & (RING_BYTES - 1));
        rec_head_t rh;
        memcpy(&rh, s->ring + pos, sizeof rh.size);
        if (rh.size == WRAP) {
            t += RING_BYTES - pos;
            continue;
        }
        memcpy(&rh, s->ring + pos, sizeof rh);
        emit(s, &rh, s->ring + pos + sizeof rh, own);
        t += rh.size;
    }
    atomic_store_explicit(&s->tail, h, memory_order_release);
    pa_spin_unlock(&s->consumer);
}

void pa_sampler_poll(pa_thread_t *t)
{
    pa_smp_t *s = t ? atomic_load_explicit(&t->smp, memory_order_relaxed) : NULL;
    if (s && atomic_load_explicit(&s->head, memory_order_relaxed) != atomic_load_explicit(&s->tail, memory_order_relaxed))
        drain(s, 0);
}

void pa_sampler_drain_all(void)
{
    int n = atomic_load_explicit(&table_n, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        pa_smp_t *s = atomic_load_explicit(&table[i], memory_order_acquire);
        if (atomic_load(&s->tid) && atomic_load(&s->head) != atomic_load(&s->tail))
            drain(s, 0);
    }
}

/* ---- life cycle ---- */

static void record_setup(void)
{
    pa_rec_t r = { 0 };
    pa_rec_u(&r, pa_cfg.period ? PA_SAMPLE_PERIOD : PA_SAMPLE_FREQ);
    pa_rec_u(&r, (uint64_t)(pa_cfg.period ? pa_cfg.period : pa_cfg.freq));
    pa_rec_u(&r, (uint64_t)signo);
    pa_rec_u(&r, (uint64_t)set.n);
    for (int i = 0; i < set.n; i++) {
        pa_rec_str(&r, set.ev[i].name, strlen(set.ev[i].name));
        pa_rec_u(&r, set.ev[i].attr.type);
        pa_rec_u(&r, set.ev[i].attr.config);
        pa_rec_u(&r, ev_flags[i]);
    }
    pa_tables_lock();
    pa_tab_append(PA_REC_SAMPLING, &r);
    pa_tables_unlock();
}

/* Software events other than the leader also count in the kernel where the system
 * allows it (perf_event_paranoid < 2 or privileges): context switches and
 * migrations only ever happen there. The leader stays user-level (see the top). */
static void widen_software_events(void)
{
    for (int i = 1; i < set.n; i++) {
        struct perf_event_attr a = set.ev[i].attr;
        if (a.type != PERF_TYPE_SOFTWARE || !a.exclude_kernel)
            continue;
        a.exclude_kernel = a.exclude_hv = 0;
        int fd = perf_open(&a, 0, -1);
        if (fd >= 0) {
            close(fd);
            set.ev[i].attr = a;
        }
    }
}

/* Said once on stderr and kept in the trace, where `pyagent summary` shows it. */
static void note(const char *fmt, const char *arg)
{
    char msg[320];
    snprintf(msg, sizeof msg, fmt, arg);
    pa_log("%s", msg);
    pa_rec_t r = { 0 };
    pa_rec_str(&r, msg, strlen(msg));
    pa_tables_lock();
    pa_tab_append(PA_REC_NOTE, &r);
    pa_tables_unlock();
}

static int choose_events(void)
{
    char msg[256];
    if (!pa_cfg.events[0]) {
        if (pa_events_default(&set, msg, sizeof msg) != 0) {
            note("no event can be counted here (%s); CPU sampling off", msg[0] ? msg : "perf_event_open failed");
            return -1;
        }
        if (msg[0])
            note("%s", msg);
        return 0;
    }
    if (pa_events_encode(pa_cfg.events, &set, msg, sizeof msg) != 0 || pa_events_probe(&set, msg, sizeof msg) != 0) {
        note("PYAGENT_EVENTS: %s; CPU sampling off", msg);
        return -1;
    }
    return 0;
}

static int install_handler(void)
{
    struct sigaction old;
    if (sigaction(signo, NULL, &old) != 0)
        return -1;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) {
        pa_log("signal %d already has a handler; set PYAGENT_SIGNAL to a free realtime signal; CPU sampling off", signo);
        return -1;
    }
    int rc = pa_sigchain_claim(signo, on_signal);
    if (rc != 0) {
        pa_log("cannot install the sampling signal handler (%s); CPU sampling off", strerror(-rc));
        return -1;
    }
    return 0;
}

/* File descriptors are the host's resource too: at most a quarter of its limit. */
static void set_fd_budget(void)
{
    struct rlimit rl;
    long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 4096;
    long b = lim / 4;
    atomic_store(&fd_budget, (int)(b > 4096 ? 4096 : b));
}

static void sample_running_threads(void)
{
    int self = (int)syscall(SYS_gettid);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        int tid = (int)strtol(e->d_name, NULL, 10); /* 0 for "." and ".." */
        if (tid > 0 && tid != self)
            sample_thread(pa_thread_for_tid(tid), tid);
    }
    closedir(d);
}

void pa_sampler_start(void)
{
    if (!strcmp(pa_cfg.events, "off") || !strcmp(pa_cfg.events, "none"))
        return;
    signo = pa_cfg.signal;
    seen = pa_mem_calloc(SEEN_SLOTS, sizeof *seen);
    if (!seen || choose_events() != 0 || install_handler() != 0)
        return;
    walk_ok = pa_py_signal_walk_init() == 0;
    if (!walk_ok)
        note("%s", "process_vm_readv is not permitted here (seccomp?); CPU samples will have native frames only");
    widen_software_events();
    n_lead = pa_events_plan(&set, ev_flags, lead);
    set_fd_budget();
    record_setup();
    atomic_store(&running, 1);
    sample_thread(pa_thread_get(), (int)syscall(SYS_gettid));
    sample_running_threads();
}

void pa_sampler_thread_begin(void)
{
    if (atomic_load_explicit(&running, memory_order_acquire))
        sample_thread(pa_thread_get(), (int)syscall(SYS_gettid));
}

void pa_sampler_thread_end(pa_thread_t *t)
{
    pa_smp_t *s = atomic_load(&t->smp);
    if (!s)
        return;
    atomic_store(&s->active, 0);
    atomic_signal_fence(memory_order_seq_cst);
    close_counters(s);
    drain(s, 1);
    atomic_store(&t->smp, NULL);
    lost_total += atomic_load(&s->lost);
    atomic_store(&s->lost, 0);
    release_slot(s);
}

/* Disarmed, not closed: another thread may be in its handler right now, and a
 * program that closed descriptors may have reused the numbers. */
void pa_sampler_stop(void)
{
    int n = atomic_load(&table_n);
    int was_running = atomic_exchange(&running, 0);
    for (int i = 0; i < n; i++) {
        pa_smp_t *s = atomic_load(&table[i]);
        if (!atomic_load(&s->tid))
            continue;
        if (was_running && atomic_exchange(&s->active, 0) && s->fds[lead[0]] >= 0)
            ioctl(s->fds[lead[0]], PERF_EVENT_IOC_DISABLE, 0);
        drain(s, 1);
    }
}

uint64_t pa_sampler_lost(void)
{
    uint64_t n = lost_total;
    int k = atomic_load(&table_n);
    for (int i = 0; i < k; i++)
        n += atomic_load(&atomic_load(&table[i])->lost);
    return n;
}

uint64_t pa_sampler_threads(void) { return (uint64_t)atomic_load(&threads_opened); }

void pa_sampler_fork_child(void)
{
    pa_sigchain_fork_child();
    if (walk_ok)
        pa_py_signal_walk_init(); /* the child's own pid */
    pa_spin_reset(&table_lock);
    int n = atomic_load(&table_n);
    for (int i = 0; i < n; i++) {
        pa_smp_t *s = atomic_load(&table[i]);
        atomic_store(&s->active, 0);
        for (int k = 0; k < set.n; k++)
            if (s->fds[k] >= 0)
                close(s->fds[k]), s->fds[k] = -1;
        if (s->thr)
            atomic_store(&s->thr->smp, NULL);
        pa_spin_reset(&s->consumer);
        atomic_store(&s->head, 0);
        atomic_store(&s->tail, 0);
        atomic_store(&s->lost, 0);
        s->prev_n = s->cprev_n = 0;
        release_slot(s);
    }
    atomic_store(&fds_open, 0);
    atomic_store(&threads_opened, 0);
    lost_total = 0;
    if (atomic_load(&running))
        sample_thread(pa_thread_get(), (int)syscall(SYS_gettid));
}
