/* pyagent/format.h — the one definition of the pyagent trace format, shared by the
 * agent (writer) and the reader (decoder). docs/FORMAT.md describes it in prose. */
#ifndef PYAGENT_FORMAT_H
#define PYAGENT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PA_FMT_MAJOR 1
#define PA_FMT_MINOR 3
#define PA_FMT_MAGIC "PYAGENT" /* 8 bytes with its NUL */

/* A trace file is a sequence of zstd frames, so `zstd -d` accepts it. Frames whose
 * magic is a zstd skippable-frame magic carry pyagent's framing; the data frames are
 * ordinary zstd frames with content checksums. All integers in framing are little-endian. */
#define PA_FRAME_HEADER 0x184D2A50u /* payload: PA_FMT_MAGIC, u16 major, u16 minor, u32 0, records */
#define PA_FRAME_CHUNK 0x184D2A51u  /* payload: struct pa_chunk_head; a zstd frame follows */
#define PA_FRAME_END 0x184D2A52u    /* payload: struct pa_end; the process finished its trace */
#define PA_SKIPPABLE_HEAD 8u        /* u32 magic + u32 payload size */

/* Immediately followed by a zstd frame of exactly zstd_size bytes. */
struct pa_chunk_head {
    uint32_t seq;       /* 0, 1, 2 ... per file */
    uint32_t raw_size;  /* decompressed size of the following frame */
    uint64_t zstd_size; /* compressed size of the following frame */
};
_Static_assert(sizeof(struct pa_chunk_head) == 16, "chunk head has no padding");

struct pa_end {
    uint32_t chunks;    /* number of chunks written */
    uint32_t reserved;  /* 0 */
    uint64_t raw_bytes; /* sum of raw_size over all chunks */
};
_Static_assert(sizeof(struct pa_end) == 16, "end record has no padding");

/* Limits a reader enforces before allocating anything. */
#define PA_MAX_CHUNK_RAW (64u << 20)
#define PA_MAX_HEADER (1u << 20)
#define PA_MAX_STRING (64u << 10)

/* Records: u8 tag, varint body length, body. A reader skips tags it does not know.
 * Ids are positive; 0 means "none". Times are nanoseconds of CLOCK_MONOTONIC. */
enum pa_record_tag {
    PA_REC_PROCESS = 1,    /* pid, ppid, start_mono_ns, start_real_ns, argc, argc x str, exe str */
    PA_REC_INTERP = 2,     /* version str, minor, stdlib dir str, activated_ns */
    PA_REC_STRING = 3,     /* id, str */
    PA_REC_FUNCTION = 4,   /* id, name sid, file sid, firstlineno */
    PA_REC_NATIVE = 5,     /* id, module sid, symbol sid, module offset, symbol offset */
    PA_REC_NODE = 6,       /* id, parent id, kind (enum pa_frame_kind), a, b */
    PA_REC_THREAD = 7,     /* serial, tid, start_ns, name sid */
    PA_REC_EVENTS = 8,     /* thread serial, base_ns, then events (enum pa_event) to the end */
    PA_REC_CHECKPOINT = 9, /* kind (enum pa_checkpoint), t_ns, live bytes, live count */
    PA_REC_LEAK = 10,      /* checkpoint kind, stack id, bytes, count, flags (PA_LEAK_*) */
    PA_REC_STATS = 11,     /* varints in enum pa_stat order; readers take what is present */
    PA_REC_NOTE = 12,      /* str: an agent-side problem worth telling the reader's user */
    PA_REC_SAMPLING = 13,  /* CPU sampling set-up: mode (enum pa_sample_mode), rate (Hz or events per
                            * sample), signal number, n, then n x (name str, perf type, perf config,
                            * flags (PA_EVF_*)); the order is the order of values in PA_EV_SAMPLE */
    PA_REC_CALLS = 14,     /* trace mode: thread serial, base_ns, then call events (enum pa_call_kind)
                            * to the end of the body; see "Call events" below */
    PA_REC_TRACING = 15,   /* trace-mode set-up: flags (PA_TRACE_*), n, n x counted-function
                            * pattern str (PYAGENT_COUNT, as given) */
    PA_REC_CALLS_DELTA = 16, /* format 1.3: as CALLS, but each ENTER's function id is written
                              * as the difference from the record's previous ENTER (below) */
};

enum pa_trace_flags {
    PA_TRACE_PYTHON = 1u << 0, /* Python function entries and exits are in CALLS records */
    PA_TRACE_C = 1u << 1,      /* calls into C functions (builtins, extensions) too */
    PA_TRACE_START_PAUSED = 1u << 2, /* recording started paused (PYAGENT_START=paused) */
};

/* Call events, inside PA_REC_CALLS: varint head = dt << 2 | kind, dt in ns since the
 * previous call event of the record (the first: since base_ns). ENTER is followed by
 * varint (function id << 1 | resumed): resumed = a generator or coroutine continuing
 * (or an exception thrown into it), not a new call. In CALLS_DELTA records that
 * varint is (zigzag(id - previous ENTER's id in the record, 0 for the first) << 1 |
 * resumed), zigzag(d) = d >= 0 ? 2d : -2d - 1: a program calls the same few functions
 * over and over, and the differences fit one byte where the ids take two. A C function is a FUNCTION record
 * whose file sid is 0 and whose name is qualified ("builtins.len", "list.append").
 * A record holds one thread's events in order; entries and exits nest per thread,
 * except that a thread's first events may exit frames entered before tracing began
 * (exits without entries) and its last frames may never exit (the process ended). */
enum pa_call_kind {
    PA_CALL_ENTER = 0,
    PA_CALL_RETURN = 1, /* the frame returned */
    PA_CALL_YIELD = 2,  /* the generator or coroutine suspended (await, yield) */
    PA_CALL_UNWIND = 3, /* an exception propagated out of the frame */
};

/* A thread may have several PA_REC_THREAD records: a later one with the same serial
 * gives its name (the name becomes known after the thread started). */

enum pa_sample_mode {
    PA_SAMPLE_FREQ = 1,   /* rate = samples per second of the leader event (PYAGENT_FREQ) */
    PA_SAMPLE_PERIOD = 2, /* rate = leader events between samples (PYAGENT_PERIOD) */
};

enum pa_event_flags {
    PA_EVF_LEADER = 1u << 0,      /* the event whose overflow takes a sample */
    PA_EVF_MULTIPLEXED = 1u << 1, /* counted in a separate group the kernel time-shares: values
                                   * are scaled by time_enabled / time_running */
    PA_EVF_TIME = 1u << 2,        /* counts nanoseconds (task-clock, cpu-clock) */
};

/* "str" inside a record body: varint length, then that many bytes (UTF-8, no NUL). */

enum pa_frame_kind {
    PA_FRAME_PYTHON = 1,     /* a = function id, b = line (0 unknown) */
    PA_FRAME_NATIVE = 2,     /* a = native frame id */
    PA_FRAME_ALLOCATOR = 3,  /* a = enum pa_allocator: the allocation function called */
    PA_FRAME_PY_UNKNOWN = 4, /* a Python frame whose code could not be named (GIL not held) */
};

enum pa_allocator {
    PA_ALLOC_MALLOC = 1,
    PA_ALLOC_CALLOC,
    PA_ALLOC_REALLOC,
    PA_ALLOC_REALLOCARRAY,
    PA_ALLOC_POSIX_MEMALIGN,
    PA_ALLOC_ALIGNED_ALLOC,
    PA_ALLOC_MEMALIGN,
    PA_ALLOC_VALLOC,
    PA_ALLOC_PVALLOC,
    PA_ALLOC_PYMEM_MALLOC,
    PA_ALLOC_PYMEM_CALLOC,
    PA_ALLOC_PYMEM_REALLOC,
    PA_ALLOC_PYOBJECT_MALLOC,
    PA_ALLOC_PYOBJECT_CALLOC,
    PA_ALLOC_PYOBJECT_REALLOC,
    PA_ALLOC__COUNT
};

/* Events inside PA_REC_EVENTS: u8 type, varint dt (ns since the previous event of
 * the record, the first since base_ns), then per type. ptr is zigzag(ptr - previous
 * ptr of the record), the first against 0. */
enum pa_event {
    PA_EV_ALLOC = 1, /* dt, ptr, size, stack id */
    PA_EV_FREE = 2,  /* dt, ptr */
    PA_EV_SAMPLE = 3, /* dt, stack id (0: no frames), n, n x value: each event's count since the
                       * thread's previous sample (its first: since its counters opened), in
                       * PA_REC_SAMPLING order. The stack's innermost node is the innermost frame
                       * (no PA_FRAME_ALLOCATOR leaf); Python nodes carry the executing line. */
    PA_EV_MARK = 4,    /* dt, name sid, fields sid (0: none; else a JSON object as text) */
    PA_EV_COUNTER = 5, /* dt, name sid, value kind (0: zigzag int64 follows; 1: 8-byte LE double) */
    PA_EV_REGION = 6,  /* dt, name sid, 1 = begin | 2 = end (pyagent.region, nested per thread) */
    PA_EV_TOGGLE = 7,  /* dt, 0 = paused | 1 = resumed, cause (enum pa_toggle_cause) */
    PA_EV_COUNTED = 8, /* dt (at the call's exit), function id, duration ns, thread CPU ns,
                        * bytes allocated, blocks allocated: one call of a PYAGENT_COUNT function */
};

enum pa_toggle_cause {
    PA_TOGGLE_API = 1,    /* pyagent.pause() / resume(), or the C API */
    PA_TOGGLE_SIGNAL = 2, /* PYAGENT_TOGGLE_SIGNAL received */
    PA_TOGGLE_START = 3,  /* PYAGENT_START=paused, at activation */
};

enum pa_checkpoint {
    PA_CP_PROGRAM_END = 1, /* interpreter finalisation starts, after the user's atexit handlers */
    PA_CP_EXIT = 2,        /* the process exits (exit, _exit, os._exit) */
};

enum pa_leak_flags {
    PA_LEAK_FREED_AT_SHUTDOWN = 1u << 0, /* live at PROGRAM_END, freed before EXIT */
    PA_LEAK_STARTUP = 1u << 1,           /* before the program's code ran; in a fork child: inherited */
    PA_LEAK_SHUTDOWN = 1u << 2,          /* allocated after PROGRAM_END */
};

enum pa_stat {
    PA_STAT_AGENT_BYTES,      /* agent memory at exit (its private heap) */
    PA_STAT_AGENT_PEAK,       /* agent memory peak */
    PA_STAT_TABLE_BYTES,      /* of which the outstanding-allocation table */
    PA_STAT_ALLOCS,           /* allocations tracked */
    PA_STAT_FREES,            /* frees of tracked blocks */
    PA_STAT_DROPPED,          /* events not written (agent out of memory, thread ended) */
    PA_STAT_STACKS,           /* stack nodes interned */
    PA_STAT_SAMPLES,          /* CPU samples recorded */
    PA_STAT_SAMPLES_LOST,     /* CPU samples lost (a thread's sample ring was full) */
    PA_STAT_SAMPLED_THREADS,  /* threads whose counters opened */
    PA_STAT__COUNT
};

/* ---- varints: LEB128, shared by writer and reader ---- */

#define PA_VARINT_MAX 10

static inline size_t pa_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Reads one varint from [*p, end). Returns 0 on success, -1 if truncated or longer
 * than 10 bytes; *p is advanced only on success. */
static inline int pa_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 70 && q < end; shift += 7) {
        uint8_t b = *q++;
        if (shift == 63 && b > 1)
            return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *p = q;
            *v = r;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t pa_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (v < 0 ? ~(uint64_t)0 : 0); }
static inline int64_t pa_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline void pa_le32_put(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t pa_le32_get(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void pa_le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t pa_le64_get(const uint8_t *p)
{
    return (uint64_t)pa_le32_get(p) | (uint64_t)pa_le32_get(p + 4) << 32;
}

#endif
