/* trace.c — feeding records into the trace model. Every varint and length is checked
 * against the record end: the input may be a damaged or hostile file. */
#include <stdio.h>
#include <string.h>

#include "pa_mem.h"
#include "trace_int.h"

int pa_rd_u64(struct rd *r, uint64_t *v)
{
    if (pa_varint_get(&r->p, r->end, v) == 0)
        return 0;
    snprintf(r->why, sizeof r->why, "%s", r->p < r->end ? "bad varint" : "body too short");
    return RD_BAD;
}

int pa_rd_str(struct rd *r, char **out)
{
    uint64_t n;
    if (pa_rd_u64(r, &n) < 0)
        return RD_BAD;
    if (n > PA_MAX_STRING) {
        snprintf(r->why, sizeof r->why, "string of %llu bytes exceeds the limit of %u",
                 (unsigned long long)n, PA_MAX_STRING);
        return RD_BAD;
    }
    if (n > (uint64_t)(r->end - r->p)) {
        snprintf(r->why, sizeof r->why, "string of %llu bytes runs past the record end",
                 (unsigned long long)n);
        return RD_BAD;
    }
    char *s = pa_mem_alloc((size_t)n + 1);
    if (!s)
        return RD_OOM;
    memcpy(s, r->p, (size_t)n);
    s[n] = '\0';
    r->p += n;
    *out = s;
    return 0;
}

/* Reads n varints into v[]; stops at the first failure. */
static int rd_u64s(struct rd *r, uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pa_rd_u64(r, &v[i]) < 0)
            return RD_BAD;
    return 0;
}

static int bad_id(struct rd *r, const char *what)
{
    snprintf(r->why, sizeof r->why, "%s id 0", what);
    return RD_BAD;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        pa_mem_free(v[i]);
    pa_mem_free(v);
}

static int rec_process(pa_trace_t *t, struct rd *r)
{
    uint64_t v[5];
    struct pa_process p = { 0 };
    int rc = rd_u64s(r, v, 5);
    if (rc < 0)
        return rc;
    /* Each argument takes at least one byte, so this bounds the allocation. */
    if (v[4] > (uint64_t)(r->end - r->p)) {
        snprintf(r->why, sizeof r->why, "argc %llu exceeds the record", (unsigned long long)v[4]);
        return RD_BAD;
    }
    p.argv = pa_mem_calloc((size_t)v[4] + 1, sizeof(char *));
    if (!p.argv)
        return RD_OOM;
    for (p.argc = 0; p.argc < v[4]; p.argc++)
        if ((rc = pa_rd_str(r, &p.argv[p.argc])) < 0)
            goto fail;
    if ((rc = pa_rd_str(r, &p.exe)) < 0)
        goto fail;
    if (t->proc.present) {
        t->counts.duplicate_ids++;
        goto fail;
    }
    p.present = 1;
    p.pid = v[0], p.ppid = v[1], p.start_mono_ns = v[2], p.start_real_ns = v[3];
    t->proc = p;
    return 0;
fail:
    free_strv(p.argv, p.argc);
    pa_mem_free(p.exe);
    return rc;
}

static int rec_interp(pa_trace_t *t, struct rd *r)
{
    struct pa_interp in = { 0 };
    int rc;
    if ((rc = pa_rd_str(r, &in.version)) < 0 || (rc = pa_rd_u64(r, &in.minor)) < 0 ||
        (rc = pa_rd_str(r, &in.stdlib_dir)) < 0 || (rc = pa_rd_u64(r, &in.activated_ns)) < 0)
        goto fail;
    if (t->interp.present) {
        t->counts.duplicate_ids++;
        goto fail;
    }
    in.present = 1;
    t->interp = in;
    return 0;
fail:
    pa_mem_free(in.version);
    pa_mem_free(in.stdlib_dir);
    return rc;
}

/* Adds an item for id; a duplicate id is counted and ignored (*item = NULL). */
static int table_add(pa_trace_t *t, struct pa_table *tb, uint64_t id, void **item)
{
    int dup;
    *item = pa_table_add(tb, id, &dup);
    if (*item)
        return 0;
    if (!dup)
        return RD_OOM;
    t->counts.duplicate_ids++;
    return 0;
}

static int rec_string(pa_trace_t *t, struct rd *r)
{
    uint64_t id;
    char *s = NULL;
    void *item;
    int rc;
    if ((rc = pa_rd_u64(r, &id)) < 0 || (rc = pa_rd_str(r, &s)) < 0)
        return rc;
    if (id == 0)
        rc = bad_id(r, "string");
    else if ((rc = table_add(t, &t->strings, id, &item)) == 0 && item) {
        *(char **)item = s;
        return 0;
    }
    pa_mem_free(s);
    return rc;
}

/* FUNCTION and NATIVE are an id and fixed varints, copied in record order. */
static int rec_fixed(pa_trace_t *t, struct rd *r, struct pa_table *tb, size_t nfields,
                     const char *what, void **item)
{
    uint64_t v[6];
    int rc = rd_u64s(r, v, nfields + 1);
    *item = NULL;
    if (rc < 0)
        return rc;
    if (v[0] == 0)
        return bad_id(r, what);
    if ((rc = table_add(t, tb, v[0], item)) < 0 || !*item)
        return rc;
    memcpy(*item, v + 1, nfields * sizeof(uint64_t));
    return 0;
}

static int rec_function(pa_trace_t *t, struct rd *r)
{
    void *item;
    return rec_fixed(t, r, &t->funcs, 3, "function", &item);
}

static int rec_native(pa_trace_t *t, struct rd *r)
{
    void *item;
    return rec_fixed(t, r, &t->natives, 4, "native frame", &item);
}

static int rec_node(pa_trace_t *t, struct rd *r)
{
    uint64_t v[5];
    void *item;
    int rc = rd_u64s(r, v, 5);
    if (rc < 0)
        return rc;
    if (v[0] == 0)
        return bad_id(r, "node");
    if ((rc = table_add(t, &t->nodes, v[0], &item)) < 0 || !item)
        return rc;
    struct pa_node *n = item;
    n->id = v[0], n->parent = v[1], n->kind = v[2], n->a = v[3], n->b = v[4];
    n->parent_ix = PA_NODE_UNKNOWN;
    return 0;
}

/* The agent writes a thread again when it learns the thread's name (Python names it
 * after it started), so a repeated serial updates the name instead of being a duplicate. */
static int rec_thread(pa_trace_t *t, struct rd *r)
{
    uint64_t v[4];
    int dup;
    int rc = rd_u64s(r, v, 4);
    if (rc < 0)
        return rc;
    struct pa_thread *th = pa_table_get(&t->threads, v[0]);
    if (!th) {
        if (!(th = pa_table_add(&t->threads, v[0], &dup)))
            return RD_OOM;
        th->serial = v[0], th->tid = v[1], th->start_ns = v[2];
    }
    if (v[3])
        th->name_sid = v[3];
    return 0;
}

static void see_time(pa_trace_t *t, uint64_t ns)
{
    if (ns > t->last_ns)
        t->last_ns = ns;
}

/* What one EVENTS record holds, from its validation pass. */
struct ev_tally {
    uint64_t n[PA_EV_COUNTED + 1], alloc_bytes, nvals, last_t;
};

/* A sample with more values than the SAMPLING record has events cannot be named. A
 * SAMPLING record that comes later is checked when analysing (extra values ignored). */
static int sample_fits(const pa_trace_t *t, const struct pa_ev *ev)
{
    return ev->type != PA_EV_SAMPLE || !t->sampling.present || ev->nvals <= t->sampling.n;
}

static int validate_events(const pa_trace_t *t, struct rd *r, uint64_t base_ns, struct ev_tally *y)
{
    const uint8_t *body = r->p;
    uint64_t ptr = 0, tm = base_ns;
    struct pa_ev ev;
    while (r->p < r->end) {
        const uint8_t *at = r->p;
        if (pa_ev_next(&r->p, r->end, &tm, &ptr, &ev) < 0) {
            snprintf(r->why, sizeof r->why, "bad event at body offset %zu", (size_t)(r->p - body));
            return RD_BAD;
        }
        if (!sample_fits(t, &ev)) {
            snprintf(r->why, sizeof r->why, "sample at body offset %zu has %u values, SAMPLING has %zu events",
                     (size_t)(at - body), ev.nvals, t->sampling.n);
            return RD_BAD;
        }
        y->n[ev.type]++;
        y->nvals += ev.nvals;
        if (ev.type == PA_EV_ALLOC)
            y->alloc_bytes += ev.size;
    }
    y->last_t = tm;
    return 0;
}

/* Keeps the record's bytes for the heap replay (records of samples only are not needed). */
static int keep_for_replay(pa_trace_t *t, struct pa_evrec *e, const uint8_t *body)
{
    if (t->ev_bytes + e->len > PA_REPLAY_MAX_BYTES) {
        t->ev_truncated = 1;
        return 0;
    }
    if (pa_vec_reserve((void **)&t->evrecs, &t->evrecs_cap, t->nevrecs + 1, sizeof *e) < 0 ||
        !(e->body = pa_mem_alloc(e->len)))
        return RD_OOM;
    memcpy(e->body, body, e->len);
    t->evrecs[t->nevrecs++] = *e;
    t->ev_bytes += e->len;
    return 0;
}

/* Second pass over a validated record: room is reserved first, so a record's samples
 * are kept whole or (out of memory, over the cap) not at all. */
static int keep_samples(pa_trace_t *t, const struct pa_evrec *e, const uint8_t *body, const struct ev_tally *y)
{
    uint64_t ns = y->n[PA_EV_SAMPLE], ptr = 0, tm = e->base_ns;
    uint64_t bytes = (t->nsamples + ns) * sizeof(struct pa_sample) + (t->nsvals + y->nvals) * sizeof(uint64_t);
    struct pa_ev ev;
    if (bytes > PA_SAMPLES_MAX_BYTES) {
        t->counts.samples_not_kept += ns;
        return 0;
    }
    if (pa_vec_reserve((void **)&t->samples, &t->samples_cap, t->nsamples + ns, sizeof *t->samples) < 0 ||
        pa_vec_reserve((void **)&t->svals, &t->svals_cap, t->nsvals + y->nvals, sizeof *t->svals) < 0)
        return RD_OOM;
    for (const uint8_t *p = body, *end = body + e->len; p < end;) {
        pa_ev_next(&p, end, &tm, &ptr, &ev);
        if (ev.type != PA_EV_SAMPLE)
            continue;
        t->samples[t->nsamples++] = (struct pa_sample){ ev.t, e->serial, ev.stack, t->nsvals, ev.nvals };
        for (uint32_t i = 0; i < ev.nvals; i++)
            pa_varint_get(&ev.vals, end, &t->svals[t->nsvals++]);
    }
    return 0;
}

/* Validates all events first so a bad record changes nothing. */
static int rec_events(pa_trace_t *t, struct rd *r)
{
    struct pa_evrec e = { 0 };
    struct ev_tally y = { { 0 }, 0, 0, 0 };
    int rc;
    if (pa_rd_u64(r, &e.serial) < 0 || pa_rd_u64(r, &e.base_ns) < 0)
        return RD_BAD;
    const uint8_t *body = r->p;
    if ((rc = validate_events(t, r, e.base_ns, &y)) < 0)
        return rc;
    e.len = (size_t)(r->end - body);
    uint64_t nannots = y.n[PA_EV_MARK] + y.n[PA_EV_COUNTER] + y.n[PA_EV_REGION] + y.n[PA_EV_TOGGLE];
    if (y.n[PA_EV_ALLOC] + y.n[PA_EV_FREE] && (rc = keep_for_replay(t, &e, body)) < 0)
        return rc;
    if (y.n[PA_EV_SAMPLE] && (rc = keep_samples(t, &e, body, &y)) < 0)
        return rc;
    if (nannots + y.n[PA_EV_COUNTED] &&
        (rc = pa_keep_annots(t, e.serial, e.base_ns, body, e.len, nannots, y.n[PA_EV_COUNTED])) < 0)
        return rc;
    if (e.len && (rc = pa_see_thread_time(t, e.serial, y.last_t)) < 0)
        return rc;
    t->counts.event_records++;
    t->counts.alloc_bytes += y.alloc_bytes;
    t->counts.allocs += y.n[PA_EV_ALLOC];
    t->counts.frees += y.n[PA_EV_FREE];
    t->counts.samples += y.n[PA_EV_SAMPLE];
    t->counts.marks += y.n[PA_EV_MARK];
    t->counts.counters += y.n[PA_EV_COUNTER];
    t->counts.regions += y.n[PA_EV_REGION];
    t->counts.toggles += y.n[PA_EV_TOGGLE];
    t->counts.counted += y.n[PA_EV_COUNTED];
    see_time(t, y.last_t);
    return 0;
}

/* mode, rate, signal, n, then n x (name, perf type, perf config, flags). */
static int rec_sampling(pa_trace_t *t, struct rd *r)
{
    struct pa_sampling s = { 0 };
    uint64_t v[4];
    int rc = rd_u64s(r, v, 4);
    if (rc < 0)
        return rc;
    if (v[3] > PA_SAMPLE_MAX_EVENTS) {
        snprintf(r->why, sizeof r->why, "%llu events exceed the limit of %d", (unsigned long long)v[3],
                 PA_SAMPLE_MAX_EVENTS);
        return RD_BAD;
    }
    for (s.n = 0; s.n < v[3]; s.n++) {
        struct pa_sample_event *ev = &s.ev[s.n];
        uint64_t f[3];
        if ((rc = pa_rd_str(r, &ev->name)) < 0)
            goto fail;
        if ((rc = rd_u64s(r, f, 3)) < 0) {
            s.n++; /* its name is freed below */
            goto fail;
        }
        ev->type = f[0], ev->config = f[1], ev->flags = f[2];
    }
    if (t->sampling.present) {
        t->counts.duplicate_ids++;
        goto fail;
    }
    s.present = 1;
    s.mode = v[0], s.rate = v[1], s.signal = v[2];
    t->sampling = s;
    return 0;
fail:
    for (size_t i = 0; i < s.n; i++)
        pa_mem_free(s.ev[i].name);
    return rc;
}

static int rec_checkpoint(pa_trace_t *t, struct rd *r)
{
    uint64_t v[4];
    if (rd_u64s(r, v, 4) < 0)
        return RD_BAD;
    t->counts.checkpoints++;
    see_time(t, v[1]);
    if (v[0] != PA_CP_PROGRAM_END && v[0] != PA_CP_EXIT)
        return 0;
    struct pa_checkpoint_info *cp = &t->cp[v[0]];
    if (cp->present && cp->t_ns > v[1])
        return 0;
    *cp = (struct pa_checkpoint_info){ 1, v[1], v[2], v[3] };
    return 0;
}

static int rec_leak(pa_trace_t *t, struct rd *r)
{
    uint64_t v[5];
    if (rd_u64s(r, v, 5) < 0)
        return RD_BAD;
    if (pa_vec_reserve((void **)&t->leaks, &t->leaks_cap, t->nleaks + 1, sizeof *t->leaks) < 0)
        return RD_OOM;
    t->leaks[t->nleaks++] = (struct pa_leak){ v[0], v[1], v[2], v[3], v[4] };
    t->counts.leak_records++;
    return 0;
}

/* Newer writers may append statistics; older ones may write fewer. */
static int rec_stats(pa_trace_t *t, struct rd *r)
{
    uint64_t v[PA_STAT__COUNT] = { 0 };
    size_t n = 0;
    while (n < PA_STAT__COUNT && r->p < r->end)
        if (pa_rd_u64(r, &v[n++]) < 0)
            return RD_BAD;
    memcpy(t->stats, v, n * sizeof v[0]);
    t->nstats = n;
    return 0;
}

/* Keeps a copy of msg in a capped list; the caller counts. */
static int keep_msg(char ***v, size_t *n, size_t *cap, const char *msg)
{
    if (*n >= PA_MAX_MESSAGES)
        return 0;
    char *s = pa_mem_strdup(msg);
    if (!s || pa_vec_reserve((void **)v, cap, *n + 1, sizeof(char *)) < 0) {
        pa_mem_free(s);
        return -1;
    }
    (*v)[(*n)++] = s;
    return 0;
}

static int rec_note(pa_trace_t *t, struct rd *r)
{
    char *s;
    int rc = pa_rd_str(r, &s);
    if (rc < 0)
        return rc;
    rc = keep_msg(&t->notes, &t->nnotes, &t->notes_cap, s) < 0 ? RD_OOM : 0;
    t->counts.notes++;
    pa_mem_free(s);
    return rc;
}

typedef int (*rec_fn)(pa_trace_t *, struct rd *);

static const struct {
    const char *name;
    rec_fn fn;
} rec_table[] = {
    [PA_REC_PROCESS] = { "PROCESS", rec_process },       [PA_REC_INTERP] = { "INTERP", rec_interp },
    [PA_REC_STRING] = { "STRING", rec_string },          [PA_REC_FUNCTION] = { "FUNCTION", rec_function },
    [PA_REC_NATIVE] = { "NATIVE", rec_native },          [PA_REC_NODE] = { "NODE", rec_node },
    [PA_REC_THREAD] = { "THREAD", rec_thread },          [PA_REC_EVENTS] = { "EVENTS", rec_events },
    [PA_REC_CHECKPOINT] = { "CHECKPOINT", rec_checkpoint }, [PA_REC_LEAK] = { "LEAK", rec_leak },
    [PA_REC_STATS] = { "STATS", rec_stats },             [PA_REC_NOTE] = { "NOTE", rec_note },
    [PA_REC_SAMPLING] = { "SAMPLING", rec_sampling },    [PA_REC_CALLS] = { "CALLS", pa_rec_calls },
    [PA_REC_TRACING] = { "TRACING", pa_rec_tracing },    [PA_REC_CALLS_DELTA] = { "CALLS", pa_rec_calls_delta },
};

/* Decodes one record at *pos; sets err on failure. */
static int feed_one(pa_trace_t *t, const uint8_t *buf, size_t len, size_t *pos, char *err, size_t errlen)
{
    const uint8_t *p = buf + *pos + 1, *end = buf + len;
    uint8_t tag = buf[*pos];
    uint64_t blen;
    if (pa_varint_get(&p, end, &blen) < 0) {
        snprintf(err, errlen, "record at offset %zu: bad or truncated length", *pos);
        return -1;
    }
    if (blen > (uint64_t)(end - p)) {
        snprintf(err, errlen, "record at offset %zu: length %llu exceeds the %zu bytes left", *pos,
                 (unsigned long long)blen, (size_t)(end - p));
        return -1;
    }
    struct rd r = { p, p + blen, "" };
    int rc = 0;
    if (tag < sizeof rec_table / sizeof rec_table[0] && rec_table[tag].fn)
        rc = rec_table[tag].fn(t, &r);
    else
        t->counts.unknown_records++;
    if (rc < 0) {
        t->counts.bad_records++;
        snprintf(err, errlen, "record at offset %zu: %s record: %s", *pos, rec_table[tag].name,
                 rc == RD_OOM ? "out of memory" : r.why);
        return -1;
    }
    t->counts.records++;
    /* Trailing bytes in a known record are fields of a newer minor version. */
    *pos = (size_t)(p + blen - buf);
    return 0;
}

int pa_trace_feed(pa_trace_t *t, const uint8_t *records, size_t len, char *err, size_t errlen)
{
    size_t pos = 0;
    if (errlen)
        err[0] = '\0';
    t->finished = 0;
    while (pos < len)
        if (feed_one(t, records, len, &pos, err, errlen) < 0)
            return -1;
    return 0;
}

/* stack, n, n x value: the values are checked here and decoded again by the user. */
static int sample_fields(const uint8_t **q, const uint8_t *end, struct pa_ev *ev)
{
    uint64_t n, v;
    if (pa_varint_get(q, end, &ev->stack) < 0 || pa_varint_get(q, end, &n) < 0 || n > PA_SAMPLE_MAX_EVENTS)
        return -1;
    ev->vals = *q;
    ev->nvals = (uint32_t)n;
    for (uint64_t i = 0; i < n; i++)
        if (pa_varint_get(q, end, &v) < 0)
            return -1;
    return 0;
}

int pa_ev_next(const uint8_t **p, const uint8_t *end, uint64_t *t, uint64_t *ptr, struct pa_ev *ev)
{
    const uint8_t *q = *p;
    uint64_t dt, dptr = 0;
    ev->type = *q++;
    ev->size = ev->stack = 0;
    ev->nvals = 0;
    ev->vals = NULL;
    if (ev->type < PA_EV_ALLOC || ev->type > PA_EV_COUNTED || pa_varint_get(&q, end, &dt) < 0)
        return -1;
    if (ev->type == PA_EV_SAMPLE) {
        if (sample_fields(&q, end, ev) < 0)
            return -1;
    } else if (ev->type >= PA_EV_MARK) {
        if (pa_ev_annot_fields(&q, end, ev) < 0)
            return -1;
    } else if (pa_varint_get(&q, end, &dptr) < 0 ||
               (ev->type == PA_EV_ALLOC &&
                (pa_varint_get(&q, end, &ev->size) < 0 || pa_varint_get(&q, end, &ev->stack) < 0))) {
        return -1;
    }
    *t += dt;
    *ptr += (uint64_t)pa_unzigzag(dptr);
    ev->t = *t;
    ev->ptr = *ptr;
    *p = q;
    return 0;
}
