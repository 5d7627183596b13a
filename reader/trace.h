/* trace.h — the in-memory model of a trace: records are fed in any order (ids may be
 * used before they are defined), then pa_trace_finish resolves ids and replays events.
 * Shared by the reader CLI and the agent (which feeds its own tables at exit). */
#ifndef PA_TRACE_H
#define PA_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include <pyagent/format.h>

typedef struct pa_trace pa_trace_t;

/* Shown for anything referenced but never defined. */
#define PA_UNKNOWN "<unknown>"

struct pa_process {
    int present;
    uint64_t pid, ppid, start_mono_ns, start_real_ns;
    size_t argc;
    char **argv; /* argc strings */
    char *exe;
};

struct pa_interp {
    int present;
    char *version;    /* "3.12.1 (main, ...)" */
    uint64_t minor;   /* 3.<minor> */
    char *stdlib_dir; /* "/usr/lib/python3.12" */
    uint64_t activated_ns;
};

struct pa_thread {
    uint64_t serial, tid, start_ns, name_sid; /* name_sid: the last nonzero one seen */
    const char *name; /* resolved by pa_trace_finish; NULL when unnamed */
};

/* CPU sampling set-up (PA_REC_SAMPLING; the first record wins). A record with more
 * events than PA_SAMPLE_MAX_EVENTS is rejected, so every array here is fixed-size. */
#define PA_SAMPLE_MAX_EVENTS 8
struct pa_sample_event {
    char *name;                   /* "task-clock", "instructions" ... never NULL */
    uint64_t type, config, flags; /* perf_event_attr type and config; PA_EVF_* */
};

struct pa_sampling {
    int present;
    uint64_t mode, rate, signal; /* enum pa_sample_mode, Hz or period, signal number */
    size_t n;
    struct pa_sample_event ev[PA_SAMPLE_MAX_EVENTS];
};

/* One PA_EV_SAMPLE. Values: pa_trace_sample_value. */
struct pa_sample {
    uint64_t t, serial, stack; /* stack 0: no frames */
    uint64_t voff;             /* where its values start in the model's value pool */
    uint32_t n;                /* values present, <= PA_SAMPLE_MAX_EVENTS */
};

struct pa_checkpoint_info {
    int present; /* the latest checkpoint of its kind wins */
    uint64_t t_ns, live_bytes, live_count;
};

struct pa_leak {
    uint64_t checkpoint; /* enum pa_checkpoint */
    uint64_t stack, bytes, count, flags;
};

/* Trace-mode set-up (PA_REC_TRACING; the first record wins). */
struct pa_tracing {
    int present;
    uint64_t flags;    /* PA_TRACE_* */
    size_t n;
    char **patterns;   /* PYAGENT_COUNT patterns as given; n strings */
};

/* One CALLS record kept for the trace-mode analyses: its call events (after serial and
 * base_ns), validated when fed. Decode with pa_call_next. */
struct pa_call_record {
    uint64_t serial, base_ns;
    uint64_t last_ns; /* time of its last event (base_ns when empty) */
    uint64_t seq;     /* file order */
    const uint8_t *body;
    size_t len;
    int delta_ids;    /* PA_REC_CALLS_DELTA: ENTER ids are differences */
};

/* One call event. */
struct pa_call_ev {
    unsigned kind;  /* enum pa_call_kind */
    uint64_t t;     /* absolute ns */
    uint64_t func;  /* ENTER: function id (never 0) */
    int resumed;    /* ENTER: a generator or coroutine continuing */
};

/* Where decoding stands in a record: its running time and last ENTER id. */
struct pa_call_cursor {
    uint64_t t, func;
    int delta_ids;
};

static inline struct pa_call_cursor pa_call_cursor_at(const struct pa_call_record *r)
{
    return (struct pa_call_cursor){ r->base_ns, 0, r->delta_ids };
}

/* Decodes the call event at *p (< end), advancing *p and the cursor.
 * @return 0; -1 truncated or bad varint, -2 function id 0 (or out of range), -3 the
 * time overflows. */
int pa_call_next(const uint8_t **p, const uint8_t *end, struct pa_call_cursor *cur, struct pa_call_ev *ev);

/* PA_EV_MARK, COUNTER, REGION and TOGGLE, kept in time order for script and export. */
struct pa_annot {
    uint64_t t, serial;
    unsigned type;    /* enum pa_event: PA_EV_MARK ... PA_EV_TOGGLE */
    uint64_t name;    /* sid: MARK, COUNTER, REGION (0: none) */
    uint64_t arg;     /* MARK: fields sid (0: none); REGION: 1 begin, 2 end; TOGGLE: 0 paused, 1 resumed */
    uint64_t cause;   /* TOGGLE: enum pa_toggle_cause (other values kept as they are) */
    int is_double;    /* COUNTER: the value is dval, else ival */
    int64_t ival;
    double dval;
    uint64_t seq;     /* file order */
};

/* One PA_EV_COUNTED: a call of a PYAGENT_COUNT function. */
struct pa_counted_ev {
    uint64_t t, serial, func, duration_ns, cpu_ns, alloc_bytes, alloc_blocks;
};

/* One ALLOC event, for attributing allocations to calls (and to functions by stack). */
struct pa_alloc_pt {
    uint64_t serial, t, size, stack;
};

/* Counted while feeding. */
struct pa_counts {
    uint64_t records, unknown_records, bad_records, duplicate_ids;
    uint64_t allocs, frees, alloc_bytes, event_records;
    uint64_t checkpoints, leak_records, notes;
    uint64_t samples;           /* PA_EV_SAMPLE events decoded */
    uint64_t samples_not_kept;  /* of which beyond PA_SAMPLES_MAX_BYTES (not analysed) */
    uint64_t call_records;      /* PA_REC_CALLS(_DELTA) records decoded */
    uint64_t call_events;       /* call events in them (entries and exits) */
    uint64_t call_enters;       /* of which entries */
    uint64_t call_events_not_kept; /* call events beyond PA_CALLS_MAX_BYTES (not analysed) */
    uint64_t marks, counters, regions, toggles, counted; /* PA_EV_MARK ... PA_EV_COUNTED */
    uint64_t annots_not_kept;   /* of those, beyond PA_ANNOTS_MAX_BYTES (not analysed) */
};

/* Blocks still live at the end of the replay, grouped by stack. */
struct pa_live_group {
    uint64_t stack, bytes, count;
};

struct pa_replay {
    int truncated;   /* events beyond PA_REPLAY_MAX_BYTES were not kept for replay */
    uint64_t events; /* alloc + free events replayed */
    uint64_t peak_bytes, peak_count, peak_ns;
    uint64_t end_bytes, end_count;
    size_t ngroups;
    struct pa_live_group *groups; /* sorted by bytes desc, count desc, stack */
};

/* Filled by the decoder; all zero when the records did not come from a file. */
struct pa_file_info {
    int present;
    uint16_t major, minor;
    uint64_t file_bytes, chunks, bad_chunks, compressed_bytes, raw_bytes;
    int have_end; /* PA_FRAME_END seen: the process finished writing its trace */
    uint64_t end_chunks, end_raw_bytes;
};

/* One frame of a resolved stack. */
struct pa_frame {
    unsigned kind;        /* enum pa_frame_kind; 0 = a node that was never defined */
    uint64_t node;        /* the node id */
    const char *function; /* PYTHON: name; NATIVE: symbol or NULL; ALLOCATOR: "malloc" ... */
    const char *file;     /* PYTHON */
    uint64_t line;        /* PYTHON (0 = unknown) */
    uint64_t first_line;  /* PYTHON: the function's first line (0 = unknown) */
    const char *module;   /* NATIVE: full path of the shared object */
    uint64_t module_offset, symbol_offset; /* NATIVE */
    uint64_t a, b;        /* raw node fields, for kinds this reader does not know */
};

/* Event bodies kept for the replay, at most (memory bound for huge traces). */
#define PA_REPLAY_MAX_BYTES (1ull << 30)
/* Memory kept for samples (40 bytes each plus 8 per value), at most; beyond it samples
 * are only counted (pa_counts.samples_not_kept). */
#define PA_SAMPLES_MAX_BYTES (1ull << 30)
/* CALLS record bytes kept, at most; beyond it records are counted, not analysed. */
#define PA_CALLS_MAX_BYTES (1ull << 30)
/* Memory kept for marks, counters, regions, toggles and counted calls, at most. */
#define PA_ANNOTS_MAX_BYTES (256ull << 20)
/* Diagnostics and notes kept as text (more are only counted). */
#define PA_MAX_MESSAGES 64

/* @return a new empty model, or NULL when out of memory. Free with pa_trace_free. */
pa_trace_t *pa_trace_new(void);
void pa_trace_free(pa_trace_t *t);

/* Decodes a buffer holding a sequence of records (no framing) into the model.
 * @return 0, or -1 with "record at offset N: reason" in err (N relative to records);
 * records before the bad one are kept, the rest of the buffer is not read. */
int pa_trace_feed(pa_trace_t *t, const uint8_t *records, size_t len, char *err, size_t errlen);

/* After all input: resolves ids, orders threads, replays events. Idempotent; feeding
 * more afterwards is allowed and requires another call. Out of memory leaves the
 * replay empty (pa_trace_replay(t)->events == 0) but the model usable. */
void pa_trace_finish(pa_trace_t *t);

/* ---- read access (after pa_trace_finish) ---- */
const struct pa_process *pa_trace_process(const pa_trace_t *t);
const struct pa_interp *pa_trace_interp(const pa_trace_t *t);
const struct pa_counts *pa_trace_counts(const pa_trace_t *t);
const struct pa_replay *pa_trace_replay(const pa_trace_t *t);
/* kind: enum pa_checkpoint. Never NULL; ->present says whether one was seen. */
const struct pa_checkpoint_info *pa_trace_checkpoint(const pa_trace_t *t, unsigned kind);
/* 1 when the trace has a PA_CP_EXIT checkpoint (the process ran to its end). */
int pa_trace_complete(const pa_trace_t *t);
/* Latest time seen in events and checkpoints (0 if none). */
uint64_t pa_trace_last_ns(const pa_trace_t *t);
/* NULL for sid 0, PA_UNKNOWN for an id never defined. Valid until pa_trace_free. */
const char *pa_trace_string(const pa_trace_t *t, uint64_t sid);
/* Arrays owned by the model, valid until the next feed or pa_trace_free. */
size_t pa_trace_threads(const pa_trace_t *t, const struct pa_thread **out); /* by serial */
size_t pa_trace_leaks(const pa_trace_t *t, const struct pa_leak **out);    /* file order */
size_t pa_trace_notes(const pa_trace_t *t, const char *const **out);
size_t pa_trace_diags(const pa_trace_t *t, const char *const **out);
uint64_t pa_trace_diag_count(const pa_trace_t *t); /* including those not kept */
/* The STATS values present (indexed by enum pa_stat); *n = 0 without a STATS record. */
const uint64_t *pa_trace_stats(const pa_trace_t *t, size_t *n);
/* Never NULL; ->present says whether a SAMPLING record was seen. */
const struct pa_sampling *pa_trace_sampling(const pa_trace_t *t);
/* Samples kept, sorted by thread serial, then time, then file order. */
size_t pa_trace_samples(const pa_trace_t *t, const struct pa_sample **out);
/* Value i of sample s (0 when the sample has fewer values). */
uint64_t pa_trace_sample_value(const pa_trace_t *t, const struct pa_sample *s, size_t i);
/* Never NULL; ->present says whether a TRACING record was seen. */
const struct pa_tracing *pa_trace_tracing(const pa_trace_t *t);
/* CALLS records kept, sorted by thread serial, then base_ns, then file order. */
size_t pa_trace_call_records(const pa_trace_t *t, const struct pa_call_record **out);
/* Marks, counters, regions and toggles kept, sorted by time, then serial, then file order. */
size_t pa_trace_annots(const pa_trace_t *t, const struct pa_annot **out);
/* Counted calls kept, in file order. */
size_t pa_trace_counted(const pa_trace_t *t, const struct pa_counted_ev **out);
/* The latest event time of a thread over its EVENTS and CALLS records (0: none). */
uint64_t pa_trace_thread_last_ns(const pa_trace_t *t, uint64_t serial);
/* The thread record of serial, or NULL. */
const struct pa_thread *pa_trace_thread(const pa_trace_t *t, uint64_t serial);
/* A function: *name (PA_UNKNOWN if undefined), *file (NULL for a C function, i.e. file
 * sid 0; PA_UNKNOWN if undefined), *line (first line, 0 unknown).
 * @return 1 when the function is defined, 0 otherwise. */
int pa_trace_function(const pa_trace_t *t, uint64_t id, const char **name, const char **file, uint64_t *line);
/* Every ALLOC of the kept EVENTS records, sorted by serial then time, into *out (free
 * with pa_mem_free). *complete = 0 when some records were not kept (PA_REPLAY_MAX_BYTES)
 * or there are more than PA_ALLOC_POINTS_MAX allocations (the rest are left out).
 * @return the count, or (size_t)-1 when out of memory. */
#define PA_ALLOC_POINTS_MAX ((size_t)(1u << 30) / sizeof(struct pa_alloc_pt))
size_t pa_trace_alloc_points(const pa_trace_t *t, struct pa_alloc_pt **out, int *complete);

/* Number of stack nodes defined. */
size_t pa_trace_node_count(const pa_trace_t *t);

/* Frames of a stack, innermost first. An undefined node gives one frame of kind 0;
 * cycles in hostile input are cut. Stacks deeper than PA_STACK_MAX_DEPTH keep their
 * innermost frames (the agent writes at most a few hundred native + 1024 Python frames).
 * @return the depth (0 for stack 0), at most PA_STACK_MAX_DEPTH. */
#define PA_STACK_MAX_DEPTH 4096
size_t pa_trace_stack_depth(const pa_trace_t *t, uint64_t stack);
/* Writes up to max frames into out. @return the number written. */
size_t pa_trace_stack(const pa_trace_t *t, uint64_t stack, struct pa_frame *out, size_t max);

/* One step of a stack walk, for analyses that fold over the tree instead of
 * expanding every stack: fills f with node id's frame (kind 0 if id is undefined).
 * @return PA_WALK_END (f is the outermost frame), PA_WALK_NEXT (continue at *next), or
 * PA_WALK_UNKNOWN (one more frame of kind 0 follows, then the end; *next names it). */
enum { PA_WALK_END = 0, PA_WALK_NEXT = 1, PA_WALK_UNKNOWN = 2 };
int pa_trace_frame(const pa_trace_t *t, uint64_t id, struct pa_frame *f, uint64_t *next);

/* "malloc", "PyMem_Malloc" ... for enum pa_allocator; PA_UNKNOWN otherwise. */
const char *pa_allocator_name(uint64_t a);

const struct pa_file_info *pa_trace_file_info(const pa_trace_t *t);

/* ---- for the decoder ---- */
struct pa_file_info *pa_trace_file(pa_trace_t *t);
/* Keeps a copy of a diagnostic for the summary. @return 0, -1 out of memory. */
int pa_trace_add_diag(pa_trace_t *t, const char *msg);

#endif
