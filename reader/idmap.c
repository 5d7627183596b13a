/* idmap.c — hash map and id-keyed tables for the trace model. Ids come from the
 * trace and may be anything a hostile file holds, so no id is used as an index. */
#include <string.h>

#include "idmap.h"
#include "pa_mem.h"

void pa_idmap_init(pa_idmap_t *m)
{
    memset(m, 0, sizeof *m);
}

void pa_idmap_free(pa_idmap_t *m)
{
    pa_mem_free(m->keys);
    pa_mem_free(m->vals);
    pa_idmap_init(m);
}

static size_t slot_of(const pa_idmap_t *m, uint64_t key)
{
    size_t mask = m->cap - 1, i = (size_t)pa_hash64(key) & mask;
    while (m->vals[i] && m->keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

int pa_idmap_get(const pa_idmap_t *m, uint64_t key, uint32_t *val)
{
    if (!m->cap)
        return -1;
    size_t i = slot_of(m, key);
    if (!m->vals[i])
        return -1;
    *val = m->vals[i] - 1;
    return 0;
}

static int grow(pa_idmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    pa_idmap_t g = { pa_mem_calloc(cap, sizeof(uint64_t)), pa_mem_calloc(cap, sizeof(uint32_t)), cap, m->n };
    if (!g.keys || !g.vals) {
        pa_mem_free(g.keys);
        pa_mem_free(g.vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->vals[i])
            continue;
        size_t j = slot_of(&g, m->keys[i]);
        g.keys[j] = m->keys[i];
        g.vals[j] = m->vals[i];
    }
    pa_mem_free(m->keys);
    pa_mem_free(m->vals);
    *m = g;
    return 0;
}

int pa_idmap_put(pa_idmap_t *m, uint64_t key, uint32_t val)
{
    uint32_t old;
    if (pa_idmap_get(m, key, &old) == 0)
        return 1;
    /* Keep the load under 1/2 so probes stay short even for clustered ids. */
    if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
        return -1;
    size_t i = slot_of(m, key);
    m->keys[i] = key;
    m->vals[i] = val + 1;
    m->n++;
    return 0;
}

int pa_vec_reserve(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return -1;
        c *= 2;
    }
    void *p = pa_mem_realloc(*v, c * elem);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

void pa_table_init(struct pa_table *tb, size_t elem)
{
    memset(tb, 0, sizeof *tb);
    tb->elem = elem;
    pa_idmap_init(&tb->ids);
}

void pa_table_free(struct pa_table *tb)
{
    pa_mem_free(tb->items);
    pa_idmap_free(&tb->ids);
    pa_table_init(tb, tb->elem);
}

void *pa_table_add(struct pa_table *tb, uint64_t id, int *dup)
{
    *dup = 0;
    if (tb->n >= UINT32_MAX - 1)
        return NULL;
    if (pa_vec_reserve(&tb->items, &tb->cap, tb->n + 1, tb->elem) < 0)
        return NULL;
    int r = pa_idmap_put(&tb->ids, id, (uint32_t)tb->n);
    if (r != 0) {
        *dup = r == 1;
        return NULL;
    }
    void *item = (char *)tb->items + tb->n * tb->elem;
    memset(item, 0, tb->elem);
    tb->n++;
    return item;
}

void *pa_table_get(const struct pa_table *tb, uint64_t id)
{
    uint32_t i;
    if (pa_idmap_get(&tb->ids, id, &i) < 0)
        return NULL;
    return pa_table_at(tb, i);
}

void *pa_table_at(const struct pa_table *tb, size_t i)
{
    return (char *)tb->items + i * tb->elem;
}

static void swap_items(char *a, char *b, size_t elem)
{
    while (elem--) {
        char c = *a;
        *a++ = *b;
        *b++ = c;
    }
}

static void sift(char *v, size_t i, size_t n, size_t elem, int (*cmp)(const void *, const void *))
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cmp(v + l * elem, v + m * elem) > 0)
            m = l;
        if (l + 1 < n && cmp(v + (l + 1) * elem, v + m * elem) > 0)
            m = l + 1;
        if (m == i)
            return;
        swap_items(v + i * elem, v + m * elem, elem);
        i = m;
    }
}

void pa_vec_sort(void *base, size_t n, size_t elem, int (*cmp)(const void *, const void *))
{
    char *v = base;
    for (size_t i = n / 2; i-- > 0;)
        sift(v, i, n, elem, cmp);
    for (size_t end = n; end > 1; end--) {
        swap_items(v, v + (end - 1) * elem, elem);
        sift(v, 0, end - 1, elem, cmp);
    }
}
