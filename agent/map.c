/* map.c — open addressing with linear probing; grows at 70% load, never shrinks. */
#include "map.h"

#include "mem.h"

static inline uint32_t slot_of(uint64_t k1, uint64_t k2, uint32_t mask)
{
    return (uint32_t)pa_mix64(k1, k2) & mask;
}

uint32_t pa_map_get(const pa_map_t *m, uint64_t k1, uint64_t k2)
{
    if (!m->mask)
        return 0;
    for (uint32_t i = slot_of(k1, k2, m->mask);; i = (i + 1) & m->mask) {
        const pa_map_slot_t *s = &m->slots[i];
        if (!s->val)
            return 0;
        if (s->k1 == k1 && s->k2 == k2)
            return s->val;
    }
}

static int grow(pa_map_t *m)
{
    uint32_t n = m->mask ? (m->mask + 1) * 2 : 512;
    pa_map_slot_t *slots = pa_mem_calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; m->mask && i <= m->mask; i++) {
        pa_map_slot_t *s = &m->slots[i];
        if (!s->val)
            continue;
        uint32_t j = slot_of(s->k1, s->k2, n - 1);
        while (slots[j].val)
            j = (j + 1) & (n - 1);
        slots[j] = *s;
    }
    pa_mem_free(m->slots);
    m->slots = slots;
    m->mask = n - 1;
    return 0;
}

int pa_map_put(pa_map_t *m, uint64_t k1, uint64_t k2, uint32_t val)
{
    if ((m->used + 1) * 10 > (m->mask + 1) * 7 && grow(m) != 0)
        return -1;
    uint32_t i = slot_of(k1, k2, m->mask);
    while (m->slots[i].val && !(m->slots[i].k1 == k1 && m->slots[i].k2 == k2))
        i = (i + 1) & m->mask;
    if (!m->slots[i].val)
        m->used++;
    m->slots[i] = (pa_map_slot_t){ k1, k2, val };
    return 0;
}

void pa_map_clear(pa_map_t *m)
{
    pa_mem_free(m->slots);
    m->slots = 0;
    m->mask = m->used = 0;
}

uint64_t pa_map_bytes(const pa_map_t *m) { return m->mask ? (uint64_t)(m->mask + 1) * sizeof(pa_map_slot_t) : 0; }
