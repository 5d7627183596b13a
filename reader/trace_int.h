/* trace_int.h — the trace model's private layout, shared by trace.c (feeding, access)
 * and replay.c (event replay). Nothing outside the model includes this. */
#ifndef PA_TRACE_INT_H
#define PA_TRACE_INT_H

#include "idmap.h"
#include "trace.h"

struct pa_func {
    uint64_t name, file, firstlineno;
};

struct pa_native {
    uint64_t module, symbol, module_off, symbol_off;
};

/* parent_ix after resolution: a node index, or one of these. */
#define PA_NODE_ROOT (-1)
#define PA_NODE_UNKNOWN (-2) /* parent never defined (or a cycle was cut here) */

struct pa_node {
    uint64_t id, parent, kind, a, b;
    int64_t parent_ix;
    uint32_t depth; /* frames from this node to the root, including an unknown parent */
};

/* An EVENTS record kept for the replay: its event bytes (after serial and base_ns). */
struct pa_evrec {
    uint64_t serial, base_ns;
    uint8_t *body;
    size_t len;
};

struct pa_trace {
    struct pa_process proc;
    struct pa_interp interp;
    struct pa_counts counts;
    struct pa_file_info file;
    struct pa_checkpoint_info cp[3]; /* indexed by enum pa_checkpoint */
    uint64_t last_ns;
    uint64_t stats[PA_STAT__COUNT];
    size_t nstats;

    struct pa_table strings; /* of char * */
    struct pa_table funcs;   /* of struct pa_func */
    struct pa_table natives; /* of struct pa_native */
    struct pa_table nodes;   /* of struct pa_node */
    struct pa_table threads; /* of struct pa_thread */

    struct pa_leak *leaks;
    size_t nleaks, leaks_cap;
    struct pa_evrec *evrecs;
    size_t nevrecs, evrecs_cap;
    uint64_t ev_bytes; /* kept in evrecs */
    int ev_truncated;

    char **notes;
    size_t nnotes, notes_cap;
    char **diags;
    size_t ndiags, diags_cap;
    uint64_t diag_count;

    struct pa_sampling sampling;
    struct pa_sample *samples; /* sorted by finish */
    size_t nsamples, samples_cap;
    uint64_t *svals; /* sample values, n per sample at its voff */
    size_t nsvals, svals_cap;

    struct pa_tracing tracing;
    struct pa_call_record *callrecs; /* bodies owned (pa_mem); sorted by finish */
    size_t ncallrecs, callrecs_cap;
    uint64_t call_bytes; /* kept in callrecs */
    struct pa_annot *annots; /* sorted by finish */
    size_t nannots, annots_cap;
    struct pa_counted_ev *counted;
    size_t ncounted, counted_cap;
    uint64_t annot_bytes, annot_seq;
    struct pa_table thread_last; /* of uint64_t: serial -> latest event time */

    struct pa_thread *thread_view; /* threads sorted by serial, built by finish */
    struct pa_replay replay;
    int finished;
};

/* A cursor over one record body. `why` names the first problem. */
struct rd {
    const uint8_t *p, *end;
    char why[96];
};

enum { RD_BAD = -1, RD_OOM = -2 };

/* One varint / one str of the body (the str is allocated; free with pa_mem_free).
 * @return 0, RD_BAD (why set) or RD_OOM. */
int pa_rd_u64(struct rd *r, uint64_t *v);
int pa_rd_str(struct rd *r, char **out);

/* One decoded event. */
struct pa_ev {
    unsigned type; /* enum pa_event */
    uint64_t t, ptr, size, stack;
    uint32_t nvals;       /* SAMPLE: number of values (<= PA_SAMPLE_MAX_EVENTS) */
    const uint8_t *vals;  /* SAMPLE: its first value varint (all were checked) */
    uint64_t name, arg, cause; /* MARK, COUNTER, REGION, TOGGLE: as struct pa_annot */
    int is_double;        /* COUNTER */
    int64_t ival;
    double dval;
    uint64_t cnt[5];      /* COUNTED: function id, duration, CPU ns, bytes, blocks */
};

/* The fields of MARK ... COUNTED after dt (trace_calls.c). @return 0, or -1 malformed. */
int pa_ev_annot_fields(const uint8_t **q, const uint8_t *end, struct pa_ev *ev);
/* Keeps a validated EVENTS record's marks ... counted calls (trace_calls.c); nannots
 * and ncounted are the record's counts. @return 0, or -2 out of memory. */
int pa_keep_annots(pa_trace_t *t, uint64_t serial, uint64_t base_ns, const uint8_t *body, size_t len,
                   uint64_t nannots, uint64_t ncounted);
/* A thread's latest event time so far. @return 0, or -2 out of memory. */
int pa_see_thread_time(pa_trace_t *t, uint64_t serial, uint64_t ns);
/* Record bodies of PA_REC_CALLS(_DELTA) and PA_REC_TRACING (trace_calls.c); the cursor is
 * trace.c's struct rd. @return 0, -1 malformed (why set), -2 out of memory. */
int pa_rec_calls(pa_trace_t *t, struct rd *r);
int pa_rec_calls_delta(pa_trace_t *t, struct rd *r);
int pa_rec_tracing(pa_trace_t *t, struct rd *r);
/* Finishing and freeing what trace_calls.c owns. */
void pa_trace_calls_finish(pa_trace_t *t);
void pa_trace_calls_free(pa_trace_t *t);

/* Decodes the event at *p (< end), advancing *p; *t and *ptr carry the running time
 * and pointer of the record (a SAMPLE has no pointer and leaves *ptr alone).
 * @return 0, or -1 (malformed, unknown type, or a sample with too many values). */
int pa_ev_next(const uint8_t **p, const uint8_t *end, uint64_t *t, uint64_t *ptr, struct pa_ev *ev);

/* Replays t->evrecs into t->replay (replay.c). @return 0, or -1 out of memory
 * (t->replay then zero). */
int pa_replay_run(pa_trace_t *t);
void pa_replay_clear(struct pa_replay *r);

#endif
