/* tables.h — what the trace carries besides events: strings, functions, native
 * frames, stack nodes, threads and control records, kept as one append-only record
 * log. The writer copies new records into chunks; the exit report decodes the log. */
#ifndef PA_TABLES_H
#define PA_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "pyagent/format.h"

#define PA_STR_MAX 4096 /* longer strings are cut: paths and names never get near it */

/* A record body under construction, on the stack. */
typedef struct pa_rec {
    size_t n;
    uint8_t b[PA_STR_MAX + 64];
} pa_rec_t;

static inline void pa_rec_u(pa_rec_t *r, uint64_t v) { r->n += pa_varint_put(r->b + r->n, v); }
void pa_rec_str(pa_rec_t *r, const char *s, size_t n);

/* Bytes a framed record (tag, length, body) takes at most. */
#define PA_REC_FRAMED(body) (1 + PA_VARINT_MAX + (body)->n)

/* Writes tag, varint length and body at out (PA_REC_FRAMED bytes of room). @return bytes written. */
size_t pa_rec_frame(uint8_t *out, uint8_t tag, const pa_rec_t *body);

/* All functions below require pa_tables_lock() unless they say otherwise. The lock
 * is a leaf for hooks: nothing that takes another agent lock runs under it. */
void pa_tables_lock(void);
void pa_tables_unlock(void);

/* Ids start at 1; 0 means failure (out of agent memory). */
uint32_t pa_tab_string(const char *s, size_t n);
uint32_t pa_tab_function(uint32_t name_sid, uint32_t file_sid, uint32_t firstlineno);
uint32_t pa_tab_native(uintptr_t ip); /* queues the address for symbolization */
uint32_t pa_tab_node(uint32_t parent, unsigned kind, uint32_t a, uint32_t b);
uint32_t pa_tab_node_count(void);

/* Appends a whole record to the log. Returns 0 or -1 (out of memory). */
int pa_tab_append(uint8_t tag, const pa_rec_t *body);

/* Native addresses waiting for symbolization: moves up to max of them out. */
size_t pa_tab_take_pending(uintptr_t *ips, uint32_t *ids, size_t max);

/* The log: its length, and a copy of [from, to). */
size_t pa_tab_log_len(void);
void pa_tab_log_copy(size_t from, size_t to, uint8_t *dst);

uint64_t pa_tab_bytes(void);

/* fork child: the lock is reset (the forking thread held it in prepare). */
void pa_tables_reset_lock(void);

#endif
