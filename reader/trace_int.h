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

    struct pa_thread *thread_view; /* threads sorted by serial, built by finish */
    struct pa_replay replay;
    int finished;
};

/* One decoded event. */
struct pa_ev {
    unsigned type; /* enum pa_event */
    uint64_t t, ptr, size, stack;
    uint32_t nvals;       /* SAMPLE: number of values (<= PA_SAMPLE_MAX_EVENTS) */
    const uint8_t *vals;  /* SAMPLE: its first value varint (all were checked) */
};

/* Decodes the event at *p (< end), advancing *p; *t and *ptr carry the running time
 * and pointer of the record (a SAMPLE has no pointer and leaves *ptr alone).
 * @return 0, or -1 (malformed, unknown type, or a sample with too many values). */
int pa_ev_next(const uint8_t **p, const uint8_t *end, uint64_t *t, uint64_t *ptr, struct pa_ev *ev);

/* Replays t->evrecs into t->replay (replay.c). @return 0, or -1 out of memory
 * (t->replay then zero). */
int pa_replay_run(pa_trace_t *t);
void pa_replay_clear(struct pa_replay *r);

#endif
