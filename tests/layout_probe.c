/* layout_probe.c — prints, from a CPython's own headers, the struct offsets that
 * agent/pylayout.c hard-codes, as name=value lines (-1 for absent fields).
 * Build: cc -DPy_BUILD_CORE -I<prefix>/include/python3.X layout_probe.c */
#define PY_SSIZE_T_CLEAN
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

#if PY_MAJOR_VERSION != 3 || PY_MINOR_VERSION < 8 || PY_MINOR_VERSION > 13
#error "layout_probe: only CPython 3.8 .. 3.13 are supported"
#endif

#if PY_MINOR_VERSION <= 10
/* PyFrameObject is public (frameobject.h; cpython/frameobject.h in 3.10). */
#include <frameobject.h>
#define FRAME_T PyFrameObject
#define FR_CODE f_code
#define FR_BACK f_back
#define FR_LASTI f_lasti
#else
/* _PyInterpreterFrame lives in the internal headers (needs Py_BUILD_CORE). */
#include <internal/pycore_frame.h>
#define FRAME_T _PyInterpreterFrame
#define FR_BACK previous
#if PY_MINOR_VERSION >= 13
#define FR_CODE f_executable
#define FR_LASTI instr_ptr
#else
#define FR_CODE f_code
#define FR_LASTI prev_instr
#endif
#endif

#define P(name, value) printf("%s=%ld\n", name, (long)(value))
#define OFF(type, field) ((long)offsetof(type, field))

int main(void)
{
    P("minor", PY_MINOR_VERSION);

#if PY_MINOR_VERSION <= 10
    P("ts_frame", OFF(PyThreadState, frame));
    P("ts_cframe", -1);
    P("cf_current", -1);
#elif PY_MINOR_VERSION <= 12
    P("ts_frame", -1);
    P("ts_cframe", OFF(PyThreadState, cframe));
    P("cf_current", OFF(_PyCFrame, current_frame));
#else
    P("ts_frame", OFF(PyThreadState, current_frame));
    P("ts_cframe", -1);
    P("cf_current", -1);
#endif

    P("fr_code", OFF(FRAME_T, FR_CODE));
    P("fr_back", OFF(FRAME_T, FR_BACK));
    P("fr_lasti", OFF(FRAME_T, FR_LASTI));
#if PY_MINOR_VERSION == 11
    P("fr_is_entry", OFF(FRAME_T, is_entry));
#else
    P("fr_is_entry", -1);
#endif
#if PY_MINOR_VERSION >= 12
    P("fr_owner", OFF(FRAME_T, owner));
#else
    P("fr_owner", -1);
#endif

    P("co_name", OFF(PyCodeObject, co_name));
#if PY_MINOR_VERSION >= 11
    P("co_qualname", OFF(PyCodeObject, co_qualname));
#else
    P("co_qualname", -1);
#endif
    P("co_filename", OFF(PyCodeObject, co_filename));
    P("co_firstlineno", OFF(PyCodeObject, co_firstlineno));
#if PY_MINOR_VERSION >= 11
    P("co_code_adaptive", OFF(PyCodeObject, co_code_adaptive));
#else
    P("co_code_adaptive", -1);
#endif
    P("str_ascii_size", sizeof(PyASCIIObject));
    P("str_utf8", OFF(PyCompactUnicodeObject, utf8));
    P("str_utf8_length", OFF(PyCompactUnicodeObject, utf8_length));

#if PY_MINOR_VERSION <= 9
    P("lasti_kind", 1); /* int f_lasti, byte offset */
#elif PY_MINOR_VERSION == 10
    P("lasti_kind", 2); /* int f_lasti, code units */
#elif PY_MINOR_VERSION <= 12
    P("lasti_kind", 3); /* _Py_CODEUNIT *prev_instr */
#else
    P("lasti_kind", 4); /* _Py_CODEUNIT *instr_ptr */
#endif

    /* The frame evaluator's (3.12+). */
#if PY_MINOR_VERSION >= 12
    P("ts_c_recursion", OFF(PyThreadState, c_recursion_remaining));
    P("ts_py_recursion", OFF(PyThreadState, py_recursion_remaining));
    P("ts_tracing", OFF(PyThreadState, tracing));
    P("co_flags", OFF(PyCodeObject, co_flags));
    P("co_first_traceable", OFF(PyCodeObject, _co_firsttraceable));
    P("gen_state", OFF(PyGenObject, gi_frame_state) - OFF(PyGenObject, gi_iframe));
    P("frame_owned_by_generator", FRAME_OWNED_BY_GENERATOR);
#else
    P("ts_c_recursion", -1);
    P("ts_py_recursion", -1);
    P("ts_tracing", -1);
    P("co_flags", -1);
    P("co_first_traceable", -1);
    P("gen_state", 0);
    P("frame_owned_by_generator", -1);
#endif

    /* Header constant the agent mirrors as PA_FRAME_OWNED_BY_CSTACK. */
#if PY_MINOR_VERSION >= 12
    P("frame_owned_by_cstack", FRAME_OWNED_BY_CSTACK);
#else
    P("frame_owned_by_cstack", -1);
#endif
    return 0;
}
