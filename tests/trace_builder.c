/* trace_builder.c — test helper that encodes records and frames exactly as format.h
 * says, so decoder tests start from known-good bytes (and damage them on purpose). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "trace_builder.h"

struct buf {
    uint8_t *p;
    size_t len, cap;
};

struct pa_tb {
    struct buf file, recs, body; /* body: the record being built */
    uint64_t ev_t, ev_ptr;
    int calls_delta;
    uint64_t last_func;
    uint32_t seq;
    uint64_t raw_total;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        if (!(b->p = realloc(b->p, cap)))
            abort();
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void put_var(struct buf *b, uint64_t v)
{
    uint8_t tmp[PA_VARINT_MAX];
    put(b, tmp, pa_varint_put(tmp, v));
}

static void put_str(struct buf *b, const char *s)
{
    put_var(b, strlen(s));
    put(b, s, strlen(s));
}

static void put_le32(struct buf *b, uint32_t v)
{
    uint8_t tmp[4];
    pa_le32_put(tmp, v);
    put(b, tmp, 4);
}

pa_tb_t *pa_tb_new(void)
{
    pa_tb_t *b = calloc(1, sizeof *b);
    if (!b)
        abort();
    return b;
}

void pa_tb_free(pa_tb_t *b)
{
    if (!b)
        return;
    free(b->file.p);
    free(b->recs.p);
    free(b->body.p);
    free(b);
}

void pa_tb_raw_record(pa_tb_t *b, uint8_t tag, const void *body, size_t len)
{
    put(&b->recs, &tag, 1);
    put_var(&b->recs, len);
    put(&b->recs, body, len);
}

/* Starts and finishes a record built in b->body. */
static struct buf *begin(pa_tb_t *b)
{
    b->body.len = 0;
    return &b->body;
}

static void finish(pa_tb_t *b, uint8_t tag)
{
    pa_tb_raw_record(b, tag, b->body.p, b->body.len);
}

static void vars(pa_tb_t *b, uint8_t tag, const uint64_t *v, size_t n)
{
    struct buf *r = begin(b);
    for (size_t i = 0; i < n; i++)
        put_var(r, v[i]);
    finish(b, tag);
}

void pa_tb_process(pa_tb_t *b, uint64_t pid, uint64_t ppid, uint64_t mono_ns, uint64_t real_ns, int argc,
                   const char *const *argv, const char *exe)
{
    struct buf *r = begin(b);
    uint64_t v[] = { pid, ppid, mono_ns, real_ns, (uint64_t)argc };
    for (size_t i = 0; i < 5; i++)
        put_var(r, v[i]);
    for (int i = 0; i < argc; i++)
        put_str(r, argv[i]);
    put_str(r, exe);
    finish(b, PA_REC_PROCESS);
}

void pa_tb_interp(pa_tb_t *b, const char *version, uint64_t minor, const char *stdlib_dir, uint64_t activated_ns)
{
    struct buf *r = begin(b);
    put_str(r, version);
    put_var(r, minor);
    put_str(r, stdlib_dir);
    put_var(r, activated_ns);
    finish(b, PA_REC_INTERP);
}

void pa_tb_string(pa_tb_t *b, uint64_t id, const char *s)
{
    struct buf *r = begin(b);
    put_var(r, id);
    put_str(r, s);
    finish(b, PA_REC_STRING);
}

void pa_tb_function(pa_tb_t *b, uint64_t id, uint64_t name_sid, uint64_t file_sid, uint64_t firstlineno)
{
    vars(b, PA_REC_FUNCTION, (uint64_t[]){ id, name_sid, file_sid, firstlineno }, 4);
}

void pa_tb_native(pa_tb_t *b, uint64_t id, uint64_t module_sid, uint64_t symbol_sid, uint64_t module_off,
                  uint64_t symbol_off)
{
    vars(b, PA_REC_NATIVE, (uint64_t[]){ id, module_sid, symbol_sid, module_off, symbol_off }, 5);
}

void pa_tb_node(pa_tb_t *b, uint64_t id, uint64_t parent, unsigned kind, uint64_t a, uint64_t bb)
{
    vars(b, PA_REC_NODE, (uint64_t[]){ id, parent, kind, a, bb }, 5);
}

void pa_tb_thread(pa_tb_t *b, uint64_t serial, uint64_t tid, uint64_t start_ns, uint64_t name_sid)
{
    vars(b, PA_REC_THREAD, (uint64_t[]){ serial, tid, start_ns, name_sid }, 4);
}

void pa_tb_sampling(pa_tb_t *b, unsigned mode, uint64_t rate, uint64_t signal, size_t n,
                    const struct pa_tb_event *ev)
{
    struct buf *r = begin(b);
    put_var(r, mode);
    put_var(r, rate);
    put_var(r, signal);
    put_var(r, n);
    for (size_t i = 0; ev && i < n; i++) {
        put_str(r, ev[i].name);
        put_var(r, ev[i].type);
        put_var(r, ev[i].config);
        put_var(r, ev[i].flags);
    }
    finish(b, PA_REC_SAMPLING);
}

void pa_tb_events_begin(pa_tb_t *b, uint64_t serial, uint64_t base_ns)
{
    struct buf *r = begin(b);
    put_var(r, serial);
    put_var(r, base_ns);
    b->ev_t = base_ns;
    b->ev_ptr = 0;
}

static void ev_head(pa_tb_t *b, uint8_t type, uint64_t t_ns, uint64_t ptr)
{
    put(&b->body, &type, 1);
    put_var(&b->body, t_ns - b->ev_t);
    put_var(&b->body, pa_zigzag((int64_t)(ptr - b->ev_ptr)));
    b->ev_t = t_ns;
    b->ev_ptr = ptr;
}

void pa_tb_ev_alloc(pa_tb_t *b, uint64_t t_ns, uint64_t ptr, uint64_t size, uint64_t stack)
{
    ev_head(b, PA_EV_ALLOC, t_ns, ptr);
    put_var(&b->body, size);
    put_var(&b->body, stack);
}

void pa_tb_ev_free(pa_tb_t *b, uint64_t t_ns, uint64_t ptr)
{
    ev_head(b, PA_EV_FREE, t_ns, ptr);
}

void pa_tb_ev_sample(pa_tb_t *b, uint64_t t_ns, uint64_t stack, size_t n, const uint64_t *values)
{
    uint8_t type = PA_EV_SAMPLE;
    put(&b->body, &type, 1);
    put_var(&b->body, t_ns - b->ev_t);
    put_var(&b->body, stack);
    put_var(&b->body, n);
    for (size_t i = 0; i < n; i++)
        put_var(&b->body, values[i]);
    b->ev_t = t_ns;
}

/* Type and dt of an event without a pointer. */
static void ev_nptr(pa_tb_t *b, uint8_t type, uint64_t t_ns)
{
    put(&b->body, &type, 1);
    put_var(&b->body, t_ns - b->ev_t);
    b->ev_t = t_ns;
}

void pa_tb_ev_mark(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, uint64_t fields_sid)
{
    ev_nptr(b, PA_EV_MARK, t_ns);
    put_var(&b->body, name_sid);
    put_var(&b->body, fields_sid);
}

void pa_tb_ev_counter(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, int64_t value)
{
    ev_nptr(b, PA_EV_COUNTER, t_ns);
    put_var(&b->body, name_sid);
    put_var(&b->body, 0);
    put_var(&b->body, pa_zigzag(value));
}

void pa_tb_ev_counter_double(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, double value)
{
    uint8_t le[8];
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    pa_le64_put(le, bits);
    ev_nptr(b, PA_EV_COUNTER, t_ns);
    put_var(&b->body, name_sid);
    put_var(&b->body, 1);
    put(&b->body, le, sizeof le);
}

void pa_tb_ev_region(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, unsigned what)
{
    ev_nptr(b, PA_EV_REGION, t_ns);
    put_var(&b->body, name_sid);
    put_var(&b->body, what);
}

void pa_tb_ev_toggle(pa_tb_t *b, uint64_t t_ns, unsigned resumed, unsigned cause)
{
    ev_nptr(b, PA_EV_TOGGLE, t_ns);
    put_var(&b->body, resumed);
    put_var(&b->body, cause);
}

void pa_tb_ev_counted(pa_tb_t *b, uint64_t t_ns, uint64_t func, uint64_t duration_ns, uint64_t cpu_ns,
                      uint64_t bytes, uint64_t blocks)
{
    ev_nptr(b, PA_EV_COUNTED, t_ns);
    uint64_t v[] = { func, duration_ns, cpu_ns, bytes, blocks };
    for (size_t i = 0; i < 5; i++)
        put_var(&b->body, v[i]);
}

void pa_tb_events_end(pa_tb_t *b)
{
    finish(b, PA_REC_EVENTS);
}

void pa_tb_tracing(pa_tb_t *b, uint64_t flags, size_t n, const char *const *patterns)
{
    struct buf *r = begin(b);
    put_var(r, flags);
    put_var(r, n);
    for (size_t i = 0; i < n; i++)
        put_str(r, patterns[i]);
    finish(b, PA_REC_TRACING);
}

void pa_tb_calls_delta(pa_tb_t *b, int on) { b->calls_delta = on; }

void pa_tb_calls_begin(pa_tb_t *b, uint64_t serial, uint64_t base_ns)
{
    struct buf *r = begin(b);
    b->last_func = 0;
    put_var(r, serial);
    put_var(r, base_ns);
    b->ev_t = base_ns;
}

void pa_tb_calls_enter(pa_tb_t *b, uint64_t t_ns, uint64_t func, int resumed)
{
    put_var(&b->body, (t_ns - b->ev_t) << 2 | PA_CALL_ENTER);
    if (b->calls_delta) {
        int64_t d = (int64_t)(func - b->last_func);
        b->last_func = func;
        func = pa_zigzag(d);
    }
    put_var(&b->body, func << 1 | (resumed != 0));
    b->ev_t = t_ns;
}

void pa_tb_calls_exit(pa_tb_t *b, uint64_t t_ns, unsigned kind)
{
    put_var(&b->body, (t_ns - b->ev_t) << 2 | (kind & 3));
    b->ev_t = t_ns;
}

void pa_tb_calls_end(pa_tb_t *b)
{
    finish(b, b->calls_delta ? PA_REC_CALLS_DELTA : PA_REC_CALLS);
}

void pa_tb_checkpoint(pa_tb_t *b, unsigned kind, uint64_t t_ns, uint64_t live_bytes, uint64_t live_count)
{
    vars(b, PA_REC_CHECKPOINT, (uint64_t[]){ kind, t_ns, live_bytes, live_count }, 4);
}

void pa_tb_leak(pa_tb_t *b, unsigned cp_kind, uint64_t stack, uint64_t bytes, uint64_t count, unsigned flags)
{
    vars(b, PA_REC_LEAK, (uint64_t[]){ cp_kind, stack, bytes, count, flags }, 5);
}

void pa_tb_stats(pa_tb_t *b, const uint64_t *v, size_t n)
{
    vars(b, PA_REC_STATS, v, n);
}

void pa_tb_note(pa_tb_t *b, const char *s)
{
    struct buf *r = begin(b);
    put_str(r, s);
    finish(b, PA_REC_NOTE);
}

const uint8_t *pa_tb_records(const pa_tb_t *b, size_t *len)
{
    *len = b->recs.len;
    return b->recs.p ? b->recs.p : (const uint8_t *)"";
}

void pa_tb_clear_records(pa_tb_t *b)
{
    b->recs.len = 0;
}

void pa_tb_header(pa_tb_t *b, uint16_t major, uint16_t minor)
{
    uint8_t fixed[16] = { 0 };
    memcpy(fixed, PA_FMT_MAGIC, sizeof PA_FMT_MAGIC);
    fixed[8] = (uint8_t)major, fixed[9] = (uint8_t)(major >> 8);
    fixed[10] = (uint8_t)minor, fixed[11] = (uint8_t)(minor >> 8);
    put_le32(&b->file, PA_FRAME_HEADER);
    put_le32(&b->file, (uint32_t)(sizeof fixed + b->recs.len));
    put(&b->file, fixed, sizeof fixed);
    put(&b->file, b->recs.p, b->recs.len);
    pa_tb_clear_records(b);
}

size_t pa_tb_chunk(pa_tb_t *b)
{
    size_t off = b->file.len, bound = ZSTD_compressBound(b->recs.len);
    uint8_t *z = malloc(bound), head[16];
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    if (!z || !cc)
        abort();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    size_t zn = ZSTD_compress2(cc, z, bound, b->recs.p ? b->recs.p : (const uint8_t *)"", b->recs.len);
    if (ZSTD_isError(zn))
        abort();
    ZSTD_freeCCtx(cc);
    pa_le32_put(head, b->seq++);
    pa_le32_put(head + 4, (uint32_t)b->recs.len);
    pa_le64_put(head + 8, zn);
    put_le32(&b->file, PA_FRAME_CHUNK);
    put_le32(&b->file, sizeof head);
    put(&b->file, head, sizeof head);
    put(&b->file, z, zn);
    free(z);
    b->raw_total += b->recs.len;
    pa_tb_clear_records(b);
    return off;
}

void pa_tb_end(pa_tb_t *b)
{
    uint8_t end[16] = { 0 };
    pa_le32_put(end, b->seq);
    pa_le64_put(end + 8, b->raw_total);
    put_le32(&b->file, PA_FRAME_END);
    put_le32(&b->file, sizeof end);
    put(&b->file, end, sizeof end);
}

void pa_tb_bytes(pa_tb_t *b, const void *p, size_t n)
{
    put(&b->file, p, n);
}

const uint8_t *pa_tb_data(const pa_tb_t *b, size_t *len)
{
    *len = b->file.len;
    return b->file.p ? b->file.p : (const uint8_t *)"";
}

int pa_tb_write(const pa_tb_t *b, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(b->file.p, 1, b->file.len, f);
    int rc = fclose(f);
    return n == b->file.len && rc == 0 ? 0 : -1;
}
