/* writer.c — chunking, compression and file output. Table records are copied from
 * the record log after the event buffers are taken, so every stack an event names
 * is defined in the same chunk or an earlier one. */

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createCCtx_advanced: zstd allocates from our heap */
#include "writer.h"
#include "sampler.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "clock.h"
#include "common.h"
#include "config.h"
#include "log.h"
#include "mem.h"
#include "session.h"
#include "symtab.h"
#include "tables.h"
#include "thread.h"

typedef struct ready { uint32_t serial; uint64_t base_ns; uint8_t *buf; size_t len; uint8_t tag; } ready_t;

static pa_spin_t wlock = PA_SPIN_INIT, qlock = PA_SPIN_INIT;
static ready_t *queue;
static size_t qlen, qcap;
static atomic_size_t qbytes;
static atomic_uint_fast64_t next_flush_ns, dropped;
static atomic_int allowed;

static int fd = -1, trace_off, created;
static char path[PATH_MAX];
static size_t log_emitted;
static uint32_t seq;
static uint64_t raw_total;
static ZSTD_CCtx *cctx;
static uint8_t *raw, *zbuf;
static size_t raw_len, raw_cap, zcap;

static int ensure_open(void);

static void *z_alloc(void *opaque, size_t n) { return pa_mem_alloc(n); }
static void z_free(void *opaque, void *p) { pa_mem_free(p); }

int pa_writer_init(void)
{
    ZSTD_customMem mem = { z_alloc, z_free, NULL };
    cctx = ZSTD_createCCtx_advanced(mem);
    if (!cctx)
        return -1;
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    atomic_store(&next_flush_ns, pa_now_ns() + (uint64_t)pa_cfg.flush_ms * 1000000u);
    return 0;
}

void pa_writer_note_dropped(uint64_t n) { atomic_fetch_add_explicit(&dropped, n, memory_order_relaxed); }
uint64_t pa_writer_dropped(void) { return atomic_load(&dropped); }
/* Creating the file now puts a readable header on disk from the start, and lets
 * pyagent.trace_path() answer. */
void pa_writer_allow(void)
{
    atomic_store(&allowed, 1);
    pa_spin_lock(&wlock);
    ensure_open();
    pa_spin_unlock(&wlock);
}
const char *pa_writer_path(void) { return fd >= 0 && !trace_off ? path : NULL; }
const char *pa_writer_last_path(void) { return created ? path : NULL; }

void pa_writer_submit(uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len)
{
    pa_writer_submit_record(PA_REC_EVENTS, serial, base_ns, buf, len);
}

void pa_writer_submit_record(uint8_t tag, uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len)
{
    pa_spin_lock(&qlock);
    if (qlen == qcap) {
        size_t cap = qcap ? qcap * 2 : 64;
        ready_t *q = pa_mem_realloc(queue, cap * sizeof *q);
        if (!q) {
            pa_spin_unlock(&qlock);
            pa_thread_buffer_done(buf);
            pa_writer_note_dropped(1);
            return;
        }
        queue = q;
        qcap = cap;
    }
    queue[qlen++] = (ready_t){ serial, base_ns, buf, len, tag };
    /* What waiting buffers hold, not what they use: a thread that ends after a few
     * events still parks a whole buffer here until the next flush. */
    atomic_fetch_add_explicit(&qbytes, len > PA_EVBUF_SIZE ? len : PA_EVBUF_SIZE, memory_order_relaxed);
    pa_spin_unlock(&qlock);
}

/* ---- file ---- */

/* The program may close descriptors it does not know about (daemons, closerange) and
 * get the number back for a file of its own: before writing, make sure the
 * descriptor is still our file, or stop. */
static dev_t file_dev;
static ino_t file_ino;

static int still_ours(void)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_dev == file_dev && st.st_ino == file_ino)
        return 1;
    pa_log("the program closed the trace file's descriptor; trace %s stops here", path);
    fd = -1; /* not ours to close any more */
    trace_off = 1;
    return 0;
}

/* A descriptor far above the ones the program allocates (lowest free first) keeps
 * it out of the program's way. */
static int move_high(int low)
{
    int high = fcntl(low, F_DUPFD_CLOEXEC, 900);
    if (high < 0)
        return low;
    close(low);
    return high;
}

static int write_all(const void *p, size_t n)
{
    if (pa_write_all(fd, p, n) == 0)
        return 0;
    pa_log("cannot write the trace %s: %s; trace stops here", path, strerror(errno));
    trace_off = 1;
    return -1;
}

static int write_skippable(uint32_t magic, const void *payload, size_t n)
{
    uint8_t head[PA_SKIPPABLE_HEAD];
    pa_le32_put(head, magic);
    pa_le32_put(head + 4, (uint32_t)n);
    return write_all(head, sizeof head) || write_all(payload, n) ? -1 : 0;
}

/* O_EXCL and O_NOFOLLOW: never truncate or follow into someone else's file. */
static int expand_path(const char *tmpl)
{
    char rel[PATH_MAX], cwd[PATH_MAX];
    if (pa_config_expand(tmpl, getpid(), rel, sizeof rel) != 0)
        return -1;
    /* absolute, so the path printed at exit works wherever the user is */
    if (rel[0] == '/' || !getcwd(cwd, sizeof cwd))
        return snprintf(path, sizeof path, "%s", rel) < (int)sizeof path ? 0 : -1;
    return snprintf(path, sizeof path, "%s/%s", cwd, rel) < (int)sizeof path ? 0 : -1;
}

static int create_file(void)
{
    char tmpl[PATH_MAX];
    if (expand_path(pa_cfg.output) != 0) {
        pa_log("trace path too long: %s; no trace", pa_cfg.output);
        return -1;
    }
    for (int attempt = 0; attempt < 10; attempt++) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST || strcmp(pa_cfg.output, "pyagent-%p.trace") != 0)
            break;
        /* only the default name is varied: an old trace of a reused pid stays */
        snprintf(tmpl, sizeof tmpl, "pyagent-%%p.%d.trace", attempt + 1);
        expand_path(tmpl);
    }
    if (fd < 0) {
        pa_log("cannot create trace file %s: %s; continuing without a trace", path, strerror(errno));
        return -1;
    }
    created = 1;
    fd = move_high(fd);
    struct stat st;
    if (fstat(fd, &st) == 0)
        file_dev = st.st_dev, file_ino = st.st_ino;
    uint8_t *payload = pa_mem_alloc(PA_MAX_HEADER);
    if (!payload)
        return -1;
    memcpy(payload, PA_FMT_MAGIC, 8);
    payload[8] = PA_FMT_MAJOR, payload[9] = 0, payload[10] = PA_FMT_MINOR, payload[11] = 0;
    memset(payload + 12, 0, 4);
    size_t n = 16 + pa_session_header(payload + 16, PA_MAX_HEADER - 16, 1);
    int rc = write_skippable(PA_FRAME_HEADER, payload, n);
    pa_mem_free(payload);
    return rc;
}

static int ensure_open(void)
{
    if (trace_off)
        return -1;
    if (fd >= 0)
        return 0;
    if (!pa_cfg.output[0] || create_file() != 0) {
        trace_off = 1;
        return -1;
    }
    return 0;
}

/* ---- chunks ---- */

/* In trace mode the chunk being built and its compressed form each take 2 MiB on a
 * transparent huge page where the kernel gives one: filled 4 KiB at a time they took
 * 770 page faults per trace-mode run of calls.py, each an exit to the hypervisor on
 * these VMs (about 5 us). Not in sampling mode, whose chunks fill slowly: a huge page
 * would add 4 MiB to a small program's resident memory. Beyond 2 MiB (a table log
 * that large), ordinary agent memory. */
#define HUGE_BUF (2u << 20)

typedef struct chunk_buf {
    uint8_t **p;
    size_t *cap;
    int mapped; /* *p is our own mapping, not pa_mem's */
} chunk_buf_t;

static chunk_buf_t raw_buf = { &raw, &raw_cap, 0 }, zbuf_buf = { &zbuf, &zcap, 0 };

static uint8_t *huge_map(void)
{
    uint8_t *m = mmap(NULL, 2 * HUGE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)m + HUGE_BUF - 1) & ~(uintptr_t)(HUGE_BUF - 1));
    if (p > m)
        munmap(m, (size_t)(p - m));
    munmap(p + HUGE_BUF, (size_t)(m + 2 * HUGE_BUF - (p + HUGE_BUF)));
    madvise(p, HUGE_BUF, MADV_HUGEPAGE); /* a hint: 4 KiB pages if refused */
    return p;
}

/* Room for need bytes, the first keep of them preserved. */
static int buf_reserve(chunk_buf_t *b, size_t need, size_t keep)
{
    if (need <= *b->cap)
        return 0;
    if (!*b->cap && need <= HUGE_BUF && pa_cfg.mode == PA_MODE_TRACE && (*b->p = huge_map())) {
        b->mapped = 1;
        *b->cap = HUGE_BUF;
        return 0;
    }
    size_t cap = *b->cap ? *b->cap : PA_CHUNK_TARGET * 2;
    while (cap < need)
        cap *= 2;
    uint8_t *p = b->mapped ? pa_mem_alloc(cap) : pa_mem_realloc(*b->p, cap);
    if (!p)
        return -1;
    if (b->mapped) {
        memcpy(p, *b->p, keep);
        munmap(*b->p, HUGE_BUF);
        b->mapped = 0;
    }
    *b->p = p;
    *b->cap = cap;
    return 0;
}

static int raw_reserve(size_t more) { return buf_reserve(&raw_buf, raw_len + more, raw_len); }

static void emit_chunk(void)
{
    if (!raw_len || trace_off)
        return;
    if (buf_reserve(&zbuf_buf, ZSTD_compressBound(raw_len), 0) != 0) {
        pa_writer_note_dropped(1);
        raw_len = 0;
        return;
    }
    size_t zn = ZSTD_compress2(cctx, zbuf, zcap, raw, raw_len);
    if (ZSTD_isError(zn)) {
        pa_log("compression failed: %s; chunk dropped", ZSTD_getErrorName(zn));
        raw_len = 0;
        return;
    }
    if (!still_ours()) {
        raw_len = 0;
        return;
    }
    uint8_t head[16];
    pa_le32_put(head, seq);
    pa_le32_put(head + 4, (uint32_t)raw_len);
    pa_le64_put(head + 8, zn);
    if (write_skippable(PA_FRAME_CHUNK, head, sizeof head) == 0 && write_all(zbuf, zn) == 0) {
        seq++;
        raw_total += raw_len;
    }
    raw_len = 0;
}

static void put_record_head(uint8_t tag, size_t body)
{
    raw[raw_len++] = tag;
    raw_len += pa_varint_put(raw + raw_len, body);
}

/* New table records, cut at record boundaries into chunks of about the target size. */
static void copy_tables(void)
{
    pa_tables_lock();
    size_t end = pa_tab_log_len();
    if (end > log_emitted && raw_reserve(end - log_emitted) == 0) {
        pa_tab_log_copy(log_emitted, end, raw + raw_len);
        raw_len += end - log_emitted;
        log_emitted = end;
    }
    pa_tables_unlock();
    if (raw_len >= PA_CHUNK_TARGET)
        emit_chunk();
}

static void add_events(const ready_t *r)
{
    uint8_t hdr[2 * PA_VARINT_MAX];
    size_t h = pa_varint_put(hdr, r->serial);
    h += pa_varint_put(hdr + h, r->base_ns);
    if (raw_reserve(1 + PA_VARINT_MAX + h + r->len) == 0) {
        put_record_head(r->tag, h + r->len);
        memcpy(raw + raw_len, hdr, h);
        memcpy(raw + raw_len + h, r->buf, r->len);
        raw_len += h + r->len;
    } else {
        pa_writer_note_dropped(1);
    }
    pa_thread_buffer_done(r->buf);
    if (raw_len >= PA_CHUNK_TARGET)
        emit_chunk();
}

/* ---- symbolization: once per native address, off the allocation path ---- */

/* Where an address lies: the object's path, load bias and mapping start. glibc 2.35's
 * _dl_find_object is lock-free and cheap; dladdr (the fallback) also scans every
 * dynamic symbol of the object, which pa_symtab_lookup does by binary search. */
typedef struct where { const char *path; uintptr_t bias, base; } where_t;

static int (*find_object)(void *, struct dl_find_object *);

static int locate(uintptr_t ip, where_t *w)
{
    static int resolved;
    if (!resolved++)
        *(void **)&find_object = dlsym(RTLD_DEFAULT, "_dl_find_object");
    struct dl_find_object fo;
    if (find_object && find_object((void *)ip, &fo) == 0 && fo.dlfo_link_map) {
        w->path = pa_session_module_name(fo.dlfo_link_map->l_name);
        w->bias = fo.dlfo_link_map->l_addr;
        w->base = (uintptr_t)fo.dlfo_map_start;
        return 0;
    }
    Dl_info info;
    struct link_map *lm = NULL;
    if (!dladdr1((void *)ip, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
        return -1;
    w->path = pa_session_module_name(info.dli_fname);
    w->bias = lm->l_addr;
    w->base = (uintptr_t)info.dli_fbase;
    return 0;
}

/* Once per native address, off the allocation path. The loader's structures are read
 * with no agent lock held but the writer's. */
static void symbolize(void)
{
    enum { BATCH = 64 };
    uintptr_t ips[BATCH];
    uint32_t ids[BATCH];
    struct { where_t w; const char *name; uintptr_t start; int found; } s[BATCH];
    for (;;) {
        pa_tables_lock();
        size_t n = pa_tab_take_pending(ips, ids, BATCH);
        pa_tables_unlock();
        if (!n)
            return;
        for (size_t i = 0; i < n; i++) {
            /* a return address: the call is the instruction before it */
            s[i].found = locate(ips[i] - 1, &s[i].w) == 0;
            if (!s[i].found)
                s[i].w = (where_t){ "?", 0, 0 };
            else if (!pa_symtab_lookup(s[i].w.path, ips[i] - 1 - s[i].w.bias, &s[i].name, &s[i].start))
                s[i].name = NULL;
        }
        pa_tables_lock();
        for (size_t i = 0; i < n; i++) {
            pa_rec_t r = { 0 };
            const char *name = s[i].found ? s[i].name : NULL;
            pa_rec_u(&r, ids[i]);
            pa_rec_u(&r, pa_tab_string(s[i].w.path, strlen(s[i].w.path)));
            pa_rec_u(&r, name ? pa_tab_string(name, strlen(name)) : 0);
            pa_rec_u(&r, ips[i] - s[i].w.base);
            pa_rec_u(&r, name ? ips[i] - (s[i].w.bias + s[i].start) : 0);
            pa_tab_append(PA_REC_NATIVE, &r);
        }
        pa_tables_unlock();
    }
}

/* ---- flushing ---- */

typedef struct taken { ready_t *v; size_t n, cap; } taken_t;

static void take_one(void *ctx, uint32_t serial, uint64_t base_ns, uint8_t *buf, size_t len)
{
    taken_t *t = ctx;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        ready_t *v = pa_mem_realloc(t->v, cap * sizeof *v);
        if (!v) {
            pa_thread_buffer_done(buf);
            pa_writer_note_dropped(1);
            return;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (ready_t){ serial, base_ns, buf, len, PA_REC_EVENTS };
}

/* all: every thread's buffer and samples too, not only the queue. emit: the chunk
 * goes out even if short of its target (a flush period ended, or exit). */
static void flush(int all, int emit)
{
    taken_t got = { 0 };
    pa_spin_lock(&qlock);
    got.v = queue, got.n = qlen, got.cap = qcap;
    queue = NULL, qlen = qcap = 0;
    atomic_store(&qbytes, 0);
    pa_spin_unlock(&qlock);
    if (all) {
        pa_sampler_drain_all();
        pa_thread_drain(take_one, &got);
    }
    if (ensure_open() == 0) {
        symbolize();
        copy_tables();
    }
    for (size_t i = 0; i < got.n; i++) {
        if (trace_off)
            pa_thread_buffer_done(got.v[i].buf);
        else
            add_events(&got.v[i]);
    }
    pa_mem_free(got.v);
    if (!emit)
        return;
    emit_chunk();
    pa_clock_anchor(); /* a program that allocates but calls little still re-anchors */
    atomic_store(&next_flush_ns, pa_now_ns() + (uint64_t)pa_cfg.flush_ms * 1000000u);
}

void pa_writer_maybe_flush(uint64_t now)
{
    if (PA_LIKELY(now < atomic_load_explicit(&next_flush_ns, memory_order_relaxed) &&
                  atomic_load_explicit(&qbytes, memory_order_relaxed) < PA_CHUNK_TARGET))
        return;
    /* Before the interpreter is ready the header could not name it, so events wait;
     * but not forever: a program that links libpython and never starts it still
     * gets its trace once 16 MiB are waiting. */
    if (!atomic_load_explicit(&allowed, memory_order_relaxed) &&
        atomic_load_explicit(&qbytes, memory_order_relaxed) < 16 * PA_CHUNK_TARGET)
        return;
    if (!pa_spin_trylock(&wlock))
        return;
    flush(now >= atomic_load(&next_flush_ns), 1);
    pa_spin_unlock(&wlock);
}

void pa_writer_absorb(void)
{
    if (!atomic_load_explicit(&allowed, memory_order_relaxed) || !pa_spin_trylock(&wlock))
        return;
    flush(0, 0);
    pa_spin_unlock(&wlock);
}

int pa_writer_finish(void)
{
    pa_spin_lock(&wlock);
    atomic_store(&allowed, 1);
    flush(1, 1);
    int ok = -1;
    if (fd >= 0 && !trace_off && still_ours()) {
        uint8_t end[16];
        pa_le32_put(end, seq);
        pa_le32_put(end + 4, 0);
        pa_le64_put(end + 8, raw_total);
        ok = write_skippable(PA_FRAME_END, end, sizeof end);
    }
    if (fd >= 0)
        close(fd);
    fd = -1;
    trace_off = 1;
    pa_spin_unlock(&wlock);
    return ok;
}

void pa_writer_fork_prepare(void) { pa_spin_lock(&wlock); }
void pa_writer_fork_parent(void) { pa_spin_unlock(&wlock); }

/* The queue lock is innermost (taken under a thread's buffer lock, itself possibly
 * under the tables lock): fork takes it last. */
void pa_writer_fork_prepare_queue(void) { pa_spin_lock(&qlock); }
void pa_writer_fork_parent_queue(void) { pa_spin_unlock(&qlock); }

/* The child writes its own trace (its pid in the name) from the start of the
 * record log; the parent's queued events stay the parent's. */
void pa_writer_fork_child(void)
{
    for (size_t i = 0; i < qlen; i++)
        pa_thread_buffer_done(queue[i].buf);
    qlen = 0;
    atomic_store(&qbytes, 0);
    if (fd >= 0)
        close(fd);
    fd = -1;
    trace_off = 0;
    created = 0;
    log_emitted = 0;
    seq = 0;
    raw_total = 0;
    raw_len = 0;
    pa_spin_reset(&qlock);
    pa_spin_reset(&wlock);
}
