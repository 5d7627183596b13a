/* replay.c — replays alloc/free events in time order to find the peak of live memory
 * and what was still live at the last event (the leak fallback for killed processes).
 * Threads' EVENTS records arrive out of order across the file, so they are merged. */
#include <string.h>

#include "pa_mem.h"
#include "trace_int.h"

/* Live blocks: open addressing keyed by pointer (0 never stored: a NULL result is not
 * an allocation), deletion by backward shift so no tombstones accumulate. */
struct live {
    uint64_t ptr, size, stack;
};

struct livemap {
    struct live *slots;
    size_t cap, n;
};

static size_t lm_slot(const struct livemap *m, uint64_t ptr)
{
    size_t mask = m->cap - 1, i = (size_t)pa_hash64(ptr) & mask;
    while (m->slots[i].ptr && m->slots[i].ptr != ptr)
        i = (i + 1) & mask;
    return i;
}

static int lm_grow(struct livemap *m)
{
    struct livemap g = { NULL, m->cap ? m->cap * 2 : 1024, m->n };
    if (!(g.slots = pa_mem_calloc(g.cap, sizeof *g.slots)))
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].ptr)
            g.slots[lm_slot(&g, m->slots[i].ptr)] = m->slots[i];
    pa_mem_free(m->slots);
    *m = g;
    return 0;
}

static void lm_delete(struct livemap *m, size_t i)
{
    size_t mask = m->cap - 1, j = i;
    m->n--;
    for (;;) {
        m->slots[i].ptr = 0;
        for (;;) {
            j = (j + 1) & mask;
            if (!m->slots[j].ptr)
                return;
            size_t home = (size_t)pa_hash64(m->slots[j].ptr) & mask;
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
                break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}

/* A cursor over one EVENTS record, holding its next event. */
struct cursor {
    const uint8_t *p, *end;
    uint64_t t, ptr;
    struct pa_ev ev;
    size_t rec;
};

/* Order: time, then frees before allocs (a pointer freed by one thread and reused by
 * another in the same nanosecond), then file order. Within a record the record's own
 * order is kept because only its head event is in the heap. */
static int cur_less(const struct cursor *a, const struct cursor *b)
{
    if (a->ev.t != b->ev.t)
        return a->ev.t < b->ev.t;
    if (a->ev.type != b->ev.type)
        return a->ev.type == PA_EV_FREE;
    return a->rec < b->rec;
}

static void sift_down(struct cursor *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cur_less(&h[l], &h[m]))
            m = l;
        if (l + 1 < n && cur_less(&h[l + 1], &h[m]))
            m = l + 1;
        if (m == i)
            return;
        struct cursor tmp = h[i];
        h[i] = h[m];
        h[m] = tmp;
        i = m;
    }
}

/* Loads the cursor's next alloc or free; other events do not touch the heap. @return 0, or
 * -1 when the record is exhausted (records were validated when fed, so a decode error
 * cannot happen here). */
static int cur_advance(struct cursor *c)
{
    do {
        if (c->p >= c->end || pa_ev_next(&c->p, c->end, &c->t, &c->ptr, &c->ev) < 0)
            return -1;
    } while (c->ev.type != PA_EV_ALLOC && c->ev.type != PA_EV_FREE);
    return 0;
}

static int apply(struct livemap *m, struct pa_replay *r, const struct pa_ev *ev)
{
    if (ev->ptr == 0)
        return 0;
    if ((m->n + 1) * 2 > m->cap && lm_grow(m) < 0)
        return -1;
    size_t i = lm_slot(m, ev->ptr);
    if (m->slots[i].ptr) {
        /* Free of a live block, or an alloc over one whose free was lost. */
        r->end_bytes -= m->slots[i].size;
        r->end_count--;
        lm_delete(m, i);
    }
    r->events++;
    if (ev->type != PA_EV_ALLOC)
        return 0;
    i = lm_slot(m, ev->ptr);
    m->slots[i] = (struct live){ ev->ptr, ev->size, ev->stack };
    m->n++;
    r->end_bytes += ev->size;
    r->end_count++;
    if (r->end_bytes > r->peak_bytes) {
        r->peak_bytes = r->end_bytes;
        r->peak_count = r->end_count;
        r->peak_ns = ev->t;
    }
    return 0;
}

static int merge(pa_trace_t *t, struct livemap *m)
{
    size_t n = 0;
    struct cursor *h = pa_mem_calloc(t->nevrecs ? t->nevrecs : 1, sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < t->nevrecs; i++) {
        const struct pa_evrec *e = &t->evrecs[i];
        h[n] = (struct cursor){ e->body, e->body + e->len, e->base_ns, 0, { 0 }, i };
        if (cur_advance(&h[n]) == 0)
            n++;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift_down(h, n, i);
    int rc = 0;
    while (n > 0 && rc == 0) {
        rc = apply(m, &t->replay, &h[0].ev);
        if (cur_advance(&h[0]) < 0)
            h[0] = h[--n];
        sift_down(h, n, 0);
    }
    pa_mem_free(h);
    return rc;
}

static int group_cmp(const void *a, const void *b)
{
    const struct pa_live_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (x->stack > y->stack) - (x->stack < y->stack);
}

static int group_live(struct pa_replay *r, const struct livemap *m)
{
    pa_idmap_t ix;
    size_t cap = 0;
    pa_idmap_init(&ix);
    for (size_t i = 0; i < m->cap; i++) {
        const struct live *l = &m->slots[i];
        uint32_t g;
        if (!l->ptr)
            continue;
        if (pa_idmap_get(&ix, l->stack, &g) < 0) {
            g = (uint32_t)r->ngroups;
            if (pa_vec_reserve((void **)&r->groups, &cap, r->ngroups + 1, sizeof *r->groups) < 0 ||
                pa_idmap_put(&ix, l->stack, g) < 0) {
                pa_idmap_free(&ix);
                return -1;
            }
            r->groups[r->ngroups++] = (struct pa_live_group){ l->stack, 0, 0 };
        }
        r->groups[g].bytes += l->size;
        r->groups[g].count++;
    }
    pa_idmap_free(&ix);
    if (r->ngroups)
        pa_vec_sort(r->groups, r->ngroups, sizeof *r->groups, group_cmp);
    return 0;
}

void pa_replay_clear(struct pa_replay *r)
{
    pa_mem_free(r->groups);
    memset(r, 0, sizeof *r);
}

int pa_replay_run(pa_trace_t *t)
{
    struct livemap m = { 0 };
    int rc = merge(t, &m);
    if (rc == 0)
        rc = group_live(&t->replay, &m);
    pa_mem_free(m.slots);
    if (rc < 0)
        pa_replay_clear(&t->replay);
    return rc;
}
