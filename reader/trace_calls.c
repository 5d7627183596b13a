/* trace_calls.c — the trace-mode part of the model: CALLS and TRACING records, the
 * marks, counters, regions, toggles and counted calls inside EVENTS, and their access.
 * Like trace.c, every field is checked against the record end before it is used. */
#include <stdio.h>
#include <string.h>

#include "pa_mem.h"
#include "trace_int.h"

/* An ENTER's function id: as written, or the previous one plus a zigzag difference. */
static int entered_function(struct pa_call_cursor *cur, uint64_t v, uint64_t *func)
{
    if (!cur->delta_ids) {
        *func = v;
    } else {
        uint64_t back = v & 1, mag = (v >> 1) + back; /* |difference|, without overflow */
        if (back ? mag > cur->func : mag > UINT32_MAX - cur->func)
            return -2;
        *func = back ? cur->func - mag : cur->func + mag;
    }
    return *func ? 0 : -2;
}

int pa_call_next(const uint8_t **p, const uint8_t *end, struct pa_call_cursor *cur, struct pa_call_ev *ev)
{
    const uint8_t *q = *p;
    uint64_t head, f = 0, func = 0;
    if (pa_varint_get(&q, end, &head) < 0)
        return -1;
    ev->kind = (unsigned)(head & 3);
    if (ev->kind == PA_CALL_ENTER) {
        if (pa_varint_get(&q, end, &f) < 0)
            return -1;
        if (entered_function(cur, f >> 1, &func) < 0)
            return -2;
    }
    if (head >> 2 > UINT64_MAX - cur->t)
        return -3;
    cur->t += head >> 2;
    if (ev->kind == PA_CALL_ENTER)
        cur->func = func;
    ev->t = cur->t;
    ev->func = func;
    ev->resumed = (int)(f & 1);
    *p = q;
    return 0;
}

int pa_see_thread_time(pa_trace_t *t, uint64_t serial, uint64_t ns)
{
    int dup;
    uint64_t *last = pa_table_get(&t->thread_last, serial);
    if (!last && !(last = pa_table_add(&t->thread_last, serial, &dup)))
        return RD_OOM;
    if (ns > *last)
        *last = ns;
    return 0;
}

/* Keeps the record's bytes; beyond the cap its events are only counted. */
static int keep_calls(pa_trace_t *t, const struct pa_call_record *c, const uint8_t *body, uint64_t nev)
{
    uint8_t *copy;
    if (t->call_bytes + c->len > PA_CALLS_MAX_BYTES) {
        t->counts.call_events_not_kept += nev;
        return 0;
    }
    if (pa_vec_reserve((void **)&t->callrecs, &t->callrecs_cap, t->ncallrecs + 1, sizeof *t->callrecs) < 0 ||
        !(copy = pa_mem_alloc(c->len)))
        return RD_OOM;
    memcpy(copy, body, c->len);
    t->callrecs[t->ncallrecs] = *c;
    t->callrecs[t->ncallrecs++].body = copy;
    t->call_bytes += c->len;
    return 0;
}

/* Validates every event first, so a bad record changes nothing. */
static int calls_record(pa_trace_t *t, struct rd *r, int delta_ids)
{
    static const char *const why[] = { "", "bad call event", "function id 0", "time overflows" };
    struct pa_call_record c = { 0 };
    struct pa_call_ev ev;
    uint64_t nev = 0, enters = 0;
    int rc;
    if (pa_rd_u64(r, &c.serial) < 0 || pa_rd_u64(r, &c.base_ns) < 0)
        return RD_BAD;
    const uint8_t *body = r->p;
    c.delta_ids = delta_ids;
    struct pa_call_cursor cur = pa_call_cursor_at(&c);
    while (r->p < r->end) {
        const uint8_t *at = r->p;
        if ((rc = pa_call_next(&r->p, r->end, &cur, &ev)) < 0) {
            snprintf(r->why, sizeof r->why, "%s at body offset %zu", why[-rc], (size_t)(at - body));
            return RD_BAD;
        }
        nev++;
        enters += ev.kind == PA_CALL_ENTER;
    }
    c.last_ns = cur.t;
    c.len = (size_t)(r->end - body);
    c.seq = t->counts.call_records;
    if (nev && ((rc = keep_calls(t, &c, body, nev)) < 0 || (rc = pa_see_thread_time(t, c.serial, c.last_ns)) < 0))
        return rc;
    if (c.last_ns > t->last_ns)
        t->last_ns = c.last_ns;
    t->counts.call_records++;
    t->counts.call_events += nev;
    t->counts.call_enters += enters;
    return 0;
}

int pa_rec_calls(pa_trace_t *t, struct rd *r) { return calls_record(t, r, 0); }
int pa_rec_calls_delta(pa_trace_t *t, struct rd *r) { return calls_record(t, r, 1); }

/* flags, n, n x pattern. */
int pa_rec_tracing(pa_trace_t *t, struct rd *r)
{
    struct pa_tracing tr = { 0 };
    uint64_t n;
    int rc;
    if ((rc = pa_rd_u64(r, &tr.flags)) < 0 || (rc = pa_rd_u64(r, &n)) < 0)
        return rc;
    /* Each pattern takes at least one byte, so this bounds the allocation. */
    if (n > (uint64_t)(r->end - r->p)) {
        snprintf(r->why, sizeof r->why, "%llu patterns exceed the record", (unsigned long long)n);
        return RD_BAD;
    }
    if (!(tr.patterns = pa_mem_calloc((size_t)n + 1, sizeof *tr.patterns)))
        return RD_OOM;
    for (tr.n = 0; tr.n < n; tr.n++)
        if ((rc = pa_rd_str(r, &tr.patterns[tr.n])) < 0)
            goto fail;
    if (t->tracing.present) {
        t->counts.duplicate_ids++;
        goto fail;
    }
    tr.present = 1;
    t->tracing = tr;
    return 0;
fail:
    for (size_t i = 0; i < tr.n; i++)
        pa_mem_free(tr.patterns[i]);
    pa_mem_free(tr.patterns);
    return rc;
}

int pa_ev_annot_fields(const uint8_t **q, const uint8_t *end, struct pa_ev *ev)
{
    uint64_t kind, v;
    ev->name = ev->arg = ev->cause = 0;
    ev->is_double = 0, ev->ival = 0, ev->dval = 0;
    switch (ev->type) {
    case PA_EV_MARK:
        return pa_varint_get(q, end, &ev->name) < 0 || pa_varint_get(q, end, &ev->arg) < 0 ? -1 : 0;
    case PA_EV_COUNTER:
        if (pa_varint_get(q, end, &ev->name) < 0 || pa_varint_get(q, end, &kind) < 0 || kind > 1)
            return -1;
        if (kind == 0) {
            if (pa_varint_get(q, end, &v) < 0)
                return -1;
            ev->ival = pa_unzigzag(v);
            return 0;
        }
        if (end - *q < 8)
            return -1;
        v = pa_le64_get(*q);
        memcpy(&ev->dval, &v, sizeof v);
        ev->is_double = 1;
        *q += 8;
        return 0;
    case PA_EV_REGION:
        return pa_varint_get(q, end, &ev->name) < 0 || pa_varint_get(q, end, &ev->arg) < 0 || ev->arg < 1 ||
                       ev->arg > 2
                   ? -1
                   : 0;
    case PA_EV_TOGGLE:
        return pa_varint_get(q, end, &ev->arg) < 0 || ev->arg > 1 || pa_varint_get(q, end, &ev->cause) < 0 ? -1
                                                                                                             : 0;
    case PA_EV_COUNTED:
        for (int i = 0; i < 5; i++)
            if (pa_varint_get(q, end, &ev->cnt[i]) < 0)
                return -1;
        return ev->cnt[0] == 0 ? -1 : 0; /* a counted call names its function */
    default:
        return -1;
    }
}

/* Room is reserved first, so a record's items are kept whole or not at all. */
int pa_keep_annots(pa_trace_t *t, uint64_t serial, uint64_t base_ns, const uint8_t *body, size_t len,
                   uint64_t nannots, uint64_t ncounted)
{
    uint64_t bytes = t->annot_bytes + nannots * sizeof(struct pa_annot) + ncounted * sizeof(struct pa_counted_ev);
    uint64_t ptr = 0, tm = base_ns;
    struct pa_ev ev;
    if (bytes > PA_ANNOTS_MAX_BYTES) {
        t->counts.annots_not_kept += nannots + ncounted;
        return 0;
    }
    if (pa_vec_reserve((void **)&t->annots, &t->annots_cap, t->nannots + nannots, sizeof *t->annots) < 0 ||
        pa_vec_reserve((void **)&t->counted, &t->counted_cap, t->ncounted + ncounted, sizeof *t->counted) < 0)
        return RD_OOM;
    t->annot_bytes = bytes;
    for (const uint8_t *p = body, *end = body + len; p < end;) {
        pa_ev_next(&p, end, &tm, &ptr, &ev);
        if (ev.type == PA_EV_COUNTED)
            t->counted[t->ncounted++] = (struct pa_counted_ev){ ev.t, serial, ev.cnt[0], ev.cnt[1], ev.cnt[2],
                                                                ev.cnt[3], ev.cnt[4] };
        else if (ev.type >= PA_EV_MARK)
            t->annots[t->nannots++] = (struct pa_annot){ ev.t, serial, ev.type, ev.name, ev.arg, ev.cause,
                                                         ev.is_double, ev.ival, ev.dval, t->annot_seq++ };
    }
    return 0;
}

static int callrec_cmp(const void *a, const void *b)
{
    const struct pa_call_record *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    if (x->base_ns != y->base_ns)
        return x->base_ns < y->base_ns ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int annot_cmp(const void *a, const void *b)
{
    const struct pa_annot *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void pa_trace_calls_finish(pa_trace_t *t)
{
    pa_vec_sort(t->callrecs, t->ncallrecs, sizeof *t->callrecs, callrec_cmp);
    pa_vec_sort(t->annots, t->nannots, sizeof *t->annots, annot_cmp);
}

void pa_trace_calls_free(pa_trace_t *t)
{
    for (size_t i = 0; i < t->tracing.n; i++)
        pa_mem_free(t->tracing.patterns[i]);
    pa_mem_free(t->tracing.patterns);
    for (size_t i = 0; i < t->ncallrecs; i++)
        pa_mem_free((void *)t->callrecs[i].body);
    pa_mem_free(t->callrecs);
    pa_mem_free(t->annots);
    pa_mem_free(t->counted);
    pa_table_free(&t->thread_last);
}

const struct pa_tracing *pa_trace_tracing(const pa_trace_t *t) { return &t->tracing; }

size_t pa_trace_call_records(const pa_trace_t *t, const struct pa_call_record **out)
{
    *out = t->callrecs;
    return t->ncallrecs;
}

size_t pa_trace_annots(const pa_trace_t *t, const struct pa_annot **out)
{
    *out = t->annots;
    return t->nannots;
}

size_t pa_trace_counted(const pa_trace_t *t, const struct pa_counted_ev **out)
{
    *out = t->counted;
    return t->ncounted;
}

uint64_t pa_trace_thread_last_ns(const pa_trace_t *t, uint64_t serial)
{
    const uint64_t *last = pa_table_get(&t->thread_last, serial);
    return last ? *last : 0;
}

const struct pa_thread *pa_trace_thread(const pa_trace_t *t, uint64_t serial)
{
    const struct pa_thread *th;
    size_t lo = 0, hi = pa_trace_threads(t, &th);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (th[mid].serial == serial)
            return &th[mid];
        if (th[mid].serial < serial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int pa_trace_function(const pa_trace_t *t, uint64_t id, const char **name, const char **file, uint64_t *line)
{
    const struct pa_func *fn = pa_table_get(&t->funcs, id);
    const char *s;
    *name = *file = PA_UNKNOWN;
    *line = 0;
    if (!fn)
        return 0;
    *name = (s = pa_trace_string(t, fn->name)) ? s : PA_UNKNOWN;
    *file = pa_trace_string(t, fn->file); /* sid 0: a C function */
    *line = fn->firstlineno;
    return 1;
}

static int alloc_cmp(const void *a, const void *b)
{
    const struct pa_alloc_pt *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

size_t pa_trace_alloc_points(const pa_trace_t *t, struct pa_alloc_pt **out, int *complete)
{
    size_t n = 0, cap = 0;
    struct pa_ev ev;
    *out = NULL;
    *complete = !t->ev_truncated;
    for (size_t i = 0; i < t->nevrecs; i++) {
        const struct pa_evrec *e = &t->evrecs[i];
        uint64_t tm = e->base_ns, ptr = 0;
        for (const uint8_t *p = e->body, *end = p + e->len; p < end && pa_ev_next(&p, end, &tm, &ptr, &ev) == 0;) {
            if (ev.type != PA_EV_ALLOC)
                continue;
            if (n >= PA_ALLOC_POINTS_MAX) {
                *complete = 0;
                break;
            }
            if (pa_vec_reserve((void **)out, &cap, n + 1, sizeof **out) < 0) {
                pa_mem_free(*out);
                *out = NULL;
                return (size_t)-1;
            }
            (*out)[n++] = (struct pa_alloc_pt){ e->serial, ev.t, ev.size, ev.stack };
        }
    }
    pa_vec_sort(*out, n, sizeof **out, alloc_cmp);
    return n;
}
