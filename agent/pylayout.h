/* pylayout.h — the few CPython-internal struct offsets the agent reads, per minor
 * version. The numbers live in pylayout.c; tests/check_layouts checks them against
 * the headers of every CPython found on the machine. */
#ifndef PA_PYLAYOUT_H
#define PA_PYLAYOUT_H

#include <stdint.h>

/* How the instruction offset of a frame is stored. */
enum pa_lasti_kind {
    PA_LASTI_BYTES = 1,      /* 3.8, 3.9: int f_lasti, byte offset */
    PA_LASTI_UNITS = 2,      /* 3.10: int f_lasti, in 2-byte code units */
    PA_LASTI_PREV_INSTR = 3, /* 3.11, 3.12: _Py_CODEUNIT *prev_instr */
    PA_LASTI_INSTR_PTR = 4,  /* 3.13: _Py_CODEUNIT *instr_ptr */
};

/* Offsets in bytes; -1 where the field does not exist in that version. */
typedef struct pa_pylayout {
    int minor;            /* 3.<minor> */
    int16_t ts_frame;     /* PyThreadState: frame (3.8-3.10), current_frame (3.13) */
    int16_t ts_cframe;    /* PyThreadState: cframe (3.11, 3.12) */
    int16_t cf_current;   /* _PyCFrame: current_frame (3.11, 3.12) */
    int16_t fr_code;      /* frame: f_code (3.8-3.12), f_executable (3.13) */
    int16_t fr_back;      /* frame: f_back (3.8-3.10), previous (3.11+) */
    int16_t fr_lasti;     /* frame: f_lasti (3.8-3.10) or prev_instr / instr_ptr */
    int16_t fr_is_entry;  /* _PyInterpreterFrame: is_entry, char (3.11) */
    int16_t fr_owner;     /* _PyInterpreterFrame: owner, char (3.12+) */
    int16_t co_name;      /* PyCodeObject: co_name */
    int16_t co_qualname;  /* PyCodeObject: co_qualname (3.11+) */
    int16_t co_filename;  /* PyCodeObject: co_filename */
    int16_t co_firstlineno; /* PyCodeObject: co_firstlineno, int */
    int16_t co_code_adaptive; /* PyCodeObject: co_code_adaptive (3.11+) */
    int16_t str_ascii_size;   /* sizeof(PyASCIIObject): compact ASCII data follows */
    int16_t str_utf8;         /* PyCompactUnicodeObject: utf8 (cached UTF-8 or NULL) */
    int16_t str_utf8_length;  /* PyCompactUnicodeObject: utf8_length */
    /* The frame evaluator (evalhook.c, 3.12+); -1 / 0 before. */
    int16_t ts_c_recursion; /* PyThreadState: c_recursion_remaining, int */
    int16_t ts_py_recursion; /* PyThreadState: py_recursion_remaining, int */
    int16_t ts_tracing;     /* PyThreadState: tracing, int (a tracer or monitoring callback runs) */
    int16_t co_flags;       /* PyCodeObject: co_flags, int */
    int16_t co_first_traceable; /* PyCodeObject: _co_firsttraceable, int (the first RESUME) */
    int16_t gen_state;      /* PyGenObject: gi_frame_state (int8) from gi_iframe, negative */
    uint8_t lasti_kind;   /* enum pa_lasti_kind */
} pa_pylayout_t;

/* FRAME_OWNED_BY_CSTACK in 3.12 and 3.13: a shim frame marking a C-level entry. */
#define PA_FRAME_OWNED_BY_CSTACK 3
/* FRAME_OWNED_BY_GENERATOR in 3.12 and 3.13: the frame lives in a generator,
 * coroutine or async generator object (gi_iframe). */
#define PA_FRAME_OWNED_BY_GENERATOR 1

/* The layout for CPython 3.<minor>, or NULL if this agent does not know it. */
const pa_pylayout_t *pa_pylayout_for(int minor);

#endif
