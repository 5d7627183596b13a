/* trace_builder.h — writes valid (or deliberately damaged) pyagent traces for tests:
 * records are collected, then framed as the header, a zstd chunk, or the end frame. */
#ifndef PA_TRACE_BUILDER_H
#define PA_TRACE_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include <pyagent/format.h>

typedef struct pa_tb pa_tb_t;

/* A new builder; aborts the test program when out of memory. */
pa_tb_t *pa_tb_new(void);
void pa_tb_free(pa_tb_t *b);

/* ---- records, appended to the pending record buffer ---- */
void pa_tb_process(pa_tb_t *b, uint64_t pid, uint64_t ppid, uint64_t mono_ns, uint64_t real_ns, int argc,
                   const char *const *argv, const char *exe);
void pa_tb_interp(pa_tb_t *b, const char *version, uint64_t minor, const char *stdlib_dir, uint64_t activated_ns);
void pa_tb_string(pa_tb_t *b, uint64_t id, const char *s);
void pa_tb_function(pa_tb_t *b, uint64_t id, uint64_t name_sid, uint64_t file_sid, uint64_t firstlineno);
void pa_tb_native(pa_tb_t *b, uint64_t id, uint64_t module_sid, uint64_t symbol_sid, uint64_t module_off,
                  uint64_t symbol_off);
void pa_tb_node(pa_tb_t *b, uint64_t id, uint64_t parent, unsigned kind, uint64_t a, uint64_t bb);
void pa_tb_thread(pa_tb_t *b, uint64_t serial, uint64_t tid, uint64_t start_ns, uint64_t name_sid);
/* A SAMPLING record; n may exceed PA_SAMPLE_MAX_EVENTS on purpose (then ev may be NULL:
 * only the count is written). */
struct pa_tb_event {
    const char *name;
    uint64_t type, config, flags; /* flags: PA_EVF_* */
};
void pa_tb_sampling(pa_tb_t *b, unsigned mode, uint64_t rate, uint64_t signal, size_t n,
                    const struct pa_tb_event *ev);
/* An EVENTS record: begin, any number of events (absolute times, non-decreasing), end. */
void pa_tb_events_begin(pa_tb_t *b, uint64_t serial, uint64_t base_ns);
void pa_tb_ev_alloc(pa_tb_t *b, uint64_t t_ns, uint64_t ptr, uint64_t size, uint64_t stack);
void pa_tb_ev_free(pa_tb_t *b, uint64_t t_ns, uint64_t ptr);
/* A PA_EV_SAMPLE with n values (no pointer: the record's running pointer is unchanged). */
void pa_tb_ev_sample(pa_tb_t *b, uint64_t t_ns, uint64_t stack, size_t n, const uint64_t *values);
/* Trace-mode events inside an EVENTS record (no pointer: the running pointer is kept). */
void pa_tb_ev_mark(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, uint64_t fields_sid);
void pa_tb_ev_counter(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, int64_t value);
void pa_tb_ev_counter_double(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, double value);
/* what: 1 begin, 2 end. */
void pa_tb_ev_region(pa_tb_t *b, uint64_t t_ns, uint64_t name_sid, unsigned what);
/* resumed: 0 paused, 1 resumed; cause: enum pa_toggle_cause. */
void pa_tb_ev_toggle(pa_tb_t *b, uint64_t t_ns, unsigned resumed, unsigned cause);
void pa_tb_ev_counted(pa_tb_t *b, uint64_t t_ns, uint64_t func, uint64_t duration_ns, uint64_t cpu_ns,
                      uint64_t bytes, uint64_t blocks);
void pa_tb_events_end(pa_tb_t *b);
/* A TRACING record: flags (PA_TRACE_*) and n PYAGENT_COUNT patterns. */
void pa_tb_tracing(pa_tb_t *b, uint64_t flags, size_t n, const char *const *patterns);
/* A CALLS record: begin, entries and exits (absolute times, non-decreasing), end. */
void pa_tb_calls_begin(pa_tb_t *b, uint64_t serial, uint64_t base_ns);
/* on: the CALLS records from here on are PA_REC_CALLS_DELTA (ENTER ids as differences). */
void pa_tb_calls_delta(pa_tb_t *b, int on);
void pa_tb_calls_enter(pa_tb_t *b, uint64_t t_ns, uint64_t func, int resumed);
/* kind: PA_CALL_RETURN, PA_CALL_YIELD or PA_CALL_UNWIND. */
void pa_tb_calls_exit(pa_tb_t *b, uint64_t t_ns, unsigned kind);
void pa_tb_calls_end(pa_tb_t *b);
void pa_tb_checkpoint(pa_tb_t *b, unsigned kind, uint64_t t_ns, uint64_t live_bytes, uint64_t live_count);
void pa_tb_leak(pa_tb_t *b, unsigned cp_kind, uint64_t stack, uint64_t bytes, uint64_t count, unsigned flags);
void pa_tb_stats(pa_tb_t *b, const uint64_t *v, size_t n);
void pa_tb_note(pa_tb_t *b, const char *s);
/* Any record, e.g. an unknown tag or a malformed body. */
void pa_tb_raw_record(pa_tb_t *b, uint8_t tag, const void *body, size_t len);

/* The pending records (not yet framed), e.g. for pa_trace_feed. */
const uint8_t *pa_tb_records(const pa_tb_t *b, size_t *len);
/* Drops the pending records. */
void pa_tb_clear_records(pa_tb_t *b);

/* ---- framing: each takes (and clears) the pending records ---- */
void pa_tb_header(pa_tb_t *b, uint16_t major, uint16_t minor);
/* A chunk frame + zstd frame (content checksum on). @return the chunk's file offset. */
size_t pa_tb_chunk(pa_tb_t *b);
void pa_tb_end(pa_tb_t *b);
/* Raw bytes appended to the file, for damage. */
void pa_tb_bytes(pa_tb_t *b, const void *p, size_t n);

/* The file built so far. */
const uint8_t *pa_tb_data(const pa_tb_t *b, size_t *len);
/* Writes the file to path. @return 0 or -1. */
int pa_tb_write(const pa_tb_t *b, const char *path);

#endif
