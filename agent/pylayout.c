/* pylayout.c — the CPython-internal struct offsets (x86_64 Linux, release builds) the
 * agent uses to walk a thread's Python frame chain, one entry per minor version.
 * Checked against the real headers by tests/check_layouts.sh. */
#include "pylayout.h"

#include <stddef.h>

static const pa_pylayout_t pa_layouts[] = {
    /* 3.8 (3.8.18): PyThreadState.frame (cpython/pystate.h); PyFrameObject f_code,
     * f_back, int f_lasti (frameobject.h); PyCodeObject (code.h). */
    {
        .minor = 8,
        .ts_frame = 24, .ts_cframe = -1, .cf_current = -1,
        .fr_code = 32, .fr_back = 24, .fr_lasti = 104,
        .fr_is_entry = -1, .fr_owner = -1,
        .co_name = 112, .co_qualname = -1, .co_filename = 104,
        .co_firstlineno = 40, .co_code_adaptive = -1,
        .str_ascii_size = 48, .str_utf8 = 56, .str_utf8_length = 48,
        .ts_c_recursion = -1, .ts_py_recursion = -1, .ts_tracing = -1, .co_flags = -1, .co_first_traceable = -1,
        .lasti_kind = PA_LASTI_BYTES,
    },
    /* 3.9 (3.9.18): same structs and offsets as 3.8 (PyCodeObject now in
     * cpython/code.h). */
    {
        .minor = 9,
        .ts_frame = 24, .ts_cframe = -1, .cf_current = -1,
        .fr_code = 32, .fr_back = 24, .fr_lasti = 104,
        .fr_is_entry = -1, .fr_owner = -1,
        .co_name = 112, .co_qualname = -1, .co_filename = 104,
        .co_firstlineno = 40, .co_code_adaptive = -1,
        .str_ascii_size = 48, .str_utf8 = 56, .str_utf8_length = 48,
        .ts_c_recursion = -1, .ts_py_recursion = -1, .ts_tracing = -1, .co_flags = -1, .co_first_traceable = -1,
        .lasti_kind = PA_LASTI_BYTES,
    },
    /* 3.10 (3.10.13): PyThreadState.frame; PyFrameObject (cpython/frameobject.h)
     * f_code, f_back, int f_lasti counted in code units; PyCodeObject
     * (cpython/code.h). */
    {
        .minor = 10,
        .ts_frame = 24, .ts_cframe = -1, .cf_current = -1,
        .fr_code = 32, .fr_back = 24, .fr_lasti = 96,
        .fr_is_entry = -1, .fr_owner = -1,
        .co_name = 112, .co_qualname = -1, .co_filename = 104,
        .co_firstlineno = 40, .co_code_adaptive = -1,
        .str_ascii_size = 48, .str_utf8 = 56, .str_utf8_length = 48,
        .ts_c_recursion = -1, .ts_py_recursion = -1, .ts_tracing = -1, .co_flags = -1, .co_first_traceable = -1,
        .lasti_kind = PA_LASTI_UNITS,
    },
    /* 3.11 (3.11.2 Debian, 3.11.7): PyThreadState.cframe, _PyCFrame.current_frame
     * (cpython/pystate.h); _PyInterpreterFrame f_code, previous, prev_instr,
     * bool is_entry (internal/pycore_frame.h); PyCodeObject incl. co_qualname,
     * co_code_adaptive (cpython/code.h). */
    {
        .minor = 11,
        .ts_frame = -1, .ts_cframe = 56, .cf_current = 8,
        .fr_code = 32, .fr_back = 48, .fr_lasti = 56,
        .fr_is_entry = 68, .fr_owner = -1,
        .co_name = 120, .co_qualname = 128, .co_filename = 112,
        .co_firstlineno = 72, .co_code_adaptive = 184,
        .str_ascii_size = 48, .str_utf8 = 56, .str_utf8_length = 48,
        .ts_c_recursion = -1, .ts_py_recursion = -1, .ts_tracing = -1, .co_flags = -1, .co_first_traceable = -1,
        .lasti_kind = PA_LASTI_PREV_INSTR,
    },
    /* 3.12 (3.12.1): PyThreadState.cframe, _PyCFrame.current_frame
     * (cpython/pystate.h); _PyInterpreterFrame f_code, previous, prev_instr,
     * char owner (internal/pycore_frame.h); PyCodeObject (cpython/code.h). */
    {
        .minor = 12,
        .ts_frame = -1, .ts_cframe = 56, .cf_current = 0,
        .fr_code = 0, .fr_back = 8, .fr_lasti = 56,
        .fr_is_entry = -1, .fr_owner = 70,
        .co_name = 120, .co_qualname = 128, .co_filename = 112,
        .co_firstlineno = 68, .co_code_adaptive = 192,
        .str_ascii_size = 40, .str_utf8 = 48, .str_utf8_length = 40,
        .ts_c_recursion = 36, .ts_py_recursion = 28, .ts_tracing = 44, .co_flags = 48, .gen_state = -5,
        .co_first_traceable = 176,
        .lasti_kind = PA_LASTI_PREV_INSTR,
    },
    /* 3.13 (3.13.0, default GIL build): PyThreadState.current_frame
     * (cpython/pystate.h); _PyInterpreterFrame f_executable, previous, instr_ptr,
     * char owner (internal/pycore_frame.h); PyCodeObject (cpython/code.h). */
    {
        .minor = 13,
        .ts_frame = 72, .ts_cframe = -1, .cf_current = -1,
        .fr_code = 0, .fr_back = 8, .fr_lasti = 56,
        .fr_is_entry = -1, .fr_owner = 70,
        .co_name = 120, .co_qualname = 128, .co_filename = 112,
        .co_firstlineno = 68, .co_code_adaptive = 200,
        .str_ascii_size = 40, .str_utf8 = 48, .str_utf8_length = 40,
        .ts_c_recursion = 52, .ts_py_recursion = 44, .ts_tracing = 60, .co_flags = 48, .gen_state = -5,
        .co_first_traceable = 184,
        .lasti_kind = PA_LASTI_INSTR_PTR,
    },
};

const pa_pylayout_t *pa_pylayout_for(int minor)
{
    for (size_t i = 0; i < sizeof pa_layouts / sizeof pa_layouts[0]; i++) {
        if (pa_layouts[i].minor == minor)
            return &pa_layouts[i];
    }
    return NULL;
}
