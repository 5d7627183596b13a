/* tables.c — interning of strings, functions, native frames and stack nodes into
 * small ids, each new one appended once to the record log. */
#include "tables.h"

#include <string.h>

#include "common.h"
#include "map.h"
#include "mem.h"

static pa_spin_t lock = PA_SPIN_INIT;
static uint8_t *log_buf;
static size_t log_len, log_cap;
static pa_map_t strings, natives, nodes;
static uint32_t n_strings, n_functions, n_natives, n_nodes;

typedef struct pending { uintptr_t ip; uint32_t id; } pending_t;
static pending_t *pending;
static size_t n_pending, cap_pending;

void pa_tables_lock(void) { pa_spin_lock(&lock); }
void pa_tables_unlock(void) { pa_spin_unlock(&lock); }
void pa_tables_reset_lock(void) { pa_spin_reset(&lock); }

void pa_rec_str(pa_rec_t *r, const char *s, size_t n)
{
    if (n > PA_STR_MAX)
        n = PA_STR_MAX;
    pa_rec_u(r, n);
    memcpy(r->b + r->n, s, n);
    r->n += n;
}

size_t pa_rec_frame(uint8_t *out, uint8_t tag, const pa_rec_t *body)
{
    size_t n = 0;
    out[n++] = tag;
    n += pa_varint_put(out + n, body->n);
    memcpy(out + n, body->b, body->n);
    return n + body->n;
}

int pa_tab_append(uint8_t tag, const pa_rec_t *body)
{
    size_t need = log_len + PA_REC_FRAMED(body);
    if (need > log_cap) {
        size_t cap = log_cap ? log_cap * 2 : 1 << 16;
        while (cap < need)
            cap *= 2;
        uint8_t *p = pa_mem_realloc(log_buf, cap);
        if (!p)
            return -1;
        log_buf = p;
        log_cap = cap;
    }
    log_len += pa_rec_frame(log_buf + log_len, tag, body);
    return 0;
}

uint32_t pa_tab_string(const char *s, size_t n)
{
    if (n > PA_STR_MAX)
        n = PA_STR_MAX;
    /* 64-bit content hash plus length identify a string: a collision would need
     * ~2^32 distinct strings, far beyond any program's names. */
    uint64_t h = pa_hash_bytes(s, n, 0);
    uint32_t id = pa_map_get(&strings, h, n);
    if (id)
        return id;
    pa_rec_t r = { 0 };
    pa_rec_u(&r, n_strings + 1);
    pa_rec_str(&r, s, n);
    /* the record first: an id in the map must always have been written */
    if (pa_tab_append(PA_REC_STRING, &r) != 0)
        return 0;
    n_strings++;
    pa_map_put(&strings, h, n, n_strings); /* if this fails the string is merely written twice */
    return n_strings;
}

uint32_t pa_tab_function(uint32_t name_sid, uint32_t file_sid, uint32_t firstlineno)
{
    pa_rec_t r = { 0 };
    pa_rec_u(&r, n_functions + 1);
    pa_rec_u(&r, name_sid);
    pa_rec_u(&r, file_sid);
    pa_rec_u(&r, firstlineno);
    if (pa_tab_append(PA_REC_FUNCTION, &r) != 0)
        return 0;
    return ++n_functions;
}

uint32_t pa_tab_native(uintptr_t ip)
{
    uint32_t id = pa_map_get(&natives, ip, 0);
    if (id)
        return id;
    if (n_pending == cap_pending) {
        size_t cap = cap_pending ? cap_pending * 2 : 256;
        pending_t *p = pa_mem_realloc(pending, cap * sizeof *p);
        if (!p)
            return 0;
        pending = p;
        cap_pending = cap;
    }
    if (pa_map_put(&natives, ip, 0, n_natives + 1) != 0)
        return 0;
    pending[n_pending++] = (pending_t){ ip, n_natives + 1 };
    return ++n_natives;
}

uint32_t pa_tab_node(uint32_t parent, unsigned kind, uint32_t a, uint32_t b)
{
    uint64_t k1 = (uint64_t)parent << 8 | kind, k2 = (uint64_t)a << 32 | b;
    uint32_t id = pa_map_get(&nodes, k1, k2);
    if (id)
        return id;
    pa_rec_t r = { 0 };
    pa_rec_u(&r, n_nodes + 1);
    pa_rec_u(&r, parent);
    pa_rec_u(&r, kind);
    pa_rec_u(&r, a);
    pa_rec_u(&r, b);
    if (pa_tab_append(PA_REC_NODE, &r) != 0)
        return 0;
    n_nodes++;
    pa_map_put(&nodes, k1, k2, n_nodes);
    return n_nodes;
}

uint32_t pa_tab_node_count(void) { return n_nodes; }

size_t pa_tab_take_pending(uintptr_t *ips, uint32_t *ids, size_t max)
{
    size_t n = n_pending < max ? n_pending : max;
    for (size_t i = 0; i < n; i++) {
        ips[i] = pending[n_pending - n + i].ip;
        ids[i] = pending[n_pending - n + i].id;
    }
    n_pending -= n;
    return n;
}

size_t pa_tab_log_len(void) { return log_len; }

void pa_tab_log_copy(size_t from, size_t to, uint8_t *dst) { memcpy(dst, log_buf + from, to - from); }

uint64_t pa_tab_bytes(void)
{
    return log_cap + cap_pending * sizeof(pending_t) + pa_map_bytes(&strings) + pa_map_bytes(&natives) +
           pa_map_bytes(&nodes);
}
