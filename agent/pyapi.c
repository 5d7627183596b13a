/* pyapi.c — what `import pyagent` offers a program beyond trace_path() and active():
 * markers, counters, regions, pause/resume and a live view of the agent's data. The
 * thin Python layer (keyword fields as JSON, a context manager) is compiled into the
 * module when it is first imported; the C functions below do the recording. */
#include "pyapi.h"

#include <dlfcn.h>
#include <string.h>

#include "clock.h"
#include "common.h"
#include "calltrace.h"
#include "control.h"
#include "log.h"
#include "pyobj.h"
#include "sampler.h"
#include "stats.h"
#include "tables.h"
#include "thread.h"


static struct {
    int (*Arg_ParseTuple)(PyObject *, const char *, ...);
    PyObject *(*Module_GetDict)(PyObject *);
    PyObject *(*Run_StringFlags)(const char *, int, PyObject *, PyObject *, void *);
    PyObject *(*Unicode_FromStringAndSize)(const char *, intptr_t);
    PyObject *(*CFunction_NewEx)(void *, PyObject *, PyObject *);
    int (*Dict_SetItemString)(PyObject *, const char *, PyObject *);
    PyObject *none;
} api;

static PyObject *none(void)
{
    pa_py.IncRef(api.none);
    return api.none;
}

static uint32_t intern(const char *s)
{
    pa_tables_lock();
    uint32_t id = s ? pa_tab_string(s, strlen(s)) : 0;
    pa_tables_unlock();
    return id;
}

/* The recording functions run with pa_in_agent set: what they allocate is the agent's. */
#define RECORD(body)                                                                               \
    do {                                                                                           \
        int guard_ = pa_in_agent;                                                                  \
        pa_in_agent = 1;                                                                           \
        pa_thread_t *t_ = pa_tracking() ? pa_thread_get() : NULL;                                  \
        if (t_) {                                                                                  \
            pa_sampler_poll(t_); /* earlier samples first, at their own times */                  \
            body;                                                                                  \
        }                                                                                          \
        pa_in_agent = guard_;                                                                      \
    } while (0)

static PyObject *py_mark(PyObject *m, PyObject *args)
{
    const char *name, *fields = NULL;
    if (!api.Arg_ParseTuple(args, "s|z", &name, &fields))
        return NULL;
    RECORD(pa_thread_emit_mark(t_, pa_clock_ns(), intern(name), intern(fields)));
    return none();
}

static PyObject *py_counter_int(PyObject *m, PyObject *args)
{
    const char *name;
    long long v;
    if (!api.Arg_ParseTuple(args, "sL", &name, &v))
        return NULL;
    RECORD(pa_thread_emit_counter(t_, pa_clock_ns(), intern(name), 0, pa_zigzag(v)));
    return none();
}

static PyObject *py_counter_float(PyObject *m, PyObject *args)
{
    const char *name;
    double v;
    if (!api.Arg_ParseTuple(args, "sd", &name, &v))
        return NULL;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    RECORD(pa_thread_emit_counter(t_, pa_clock_ns(), intern(name), 1, bits));
    return none();
}

static PyObject *py_region(PyObject *m, PyObject *args)
{
    const char *name;
    int begin;
    if (!api.Arg_ParseTuple(args, "si", &name, &begin))
        return NULL;
    RECORD(pa_thread_emit_region(t_, pa_clock_ns(), intern(name), begin));
    return none();
}

static PyObject *py_pause(PyObject *m, PyObject *args)
{
    int on;
    if (!api.Arg_ParseTuple(args, "i", &on))
        return NULL;
    RECORD(pa_control_set(on != 0, PA_TOGGLE_API));
    return none();
}

static PyObject *py_stats(PyObject *m, PyObject *args)
{
    pa_sbuf_t out;
    pa_sbuf_init(&out);
    int guard = pa_in_agent, rc = -1;
    pa_in_agent = 1;
    if (pa_tracking()) {
        pa_sampler_drain_all(); /* samples still in the rings count too */
        rc = pa_stats_json(&out, pa_control_paused(), pa_calls_events(), pa_sampler_lost());
    }
    pa_in_agent = guard;
    PyObject *r = rc == 0 ? api.Unicode_FromStringAndSize(pa_sbuf_cstr(&out), (intptr_t)out.len) : NULL;
    pa_sbuf_free(&out);
    return r ? r : (rc == 0 ? NULL : api.Unicode_FromStringAndSize("{}", 2));
}

static pa_methoddef_t functions[] = {
    { "_mark", (void *)py_mark, PA_METH_VARARGS, NULL },
    { "_counter_int", (void *)py_counter_int, PA_METH_VARARGS, NULL },
    { "_counter_float", (void *)py_counter_float, PA_METH_VARARGS, NULL },
    { "_region", (void *)py_region, PA_METH_VARARGS, NULL },
    { "_pause", (void *)py_pause, PA_METH_VARARGS, NULL },
    { "_stats", (void *)py_stats, PA_METH_VARARGS, NULL },
};

static const char layer[] =
    "import json as _json\n"
    "def mark(name, **fields):\n"
    "    \"\"\"Records a marker (an instant event) with optional fields, e.g.\n"
    "    pyagent.mark('request', path='/x', status=200).\"\"\"\n"
    "    _mark(str(name), _json.dumps(fields, default=repr, sort_keys=True) if fields else None)\n"
    "def counter(name, value):\n"
    "    \"\"\"Records the current value of a custom counter (int or float).\"\"\"\n"
    "    if isinstance(value, bool) or not isinstance(value, (int, float)):\n"
    "        raise TypeError('pyagent.counter: value must be an int or a float')\n"
    "    if isinstance(value, int) and -2**63 <= value < 2**63:\n"
    "        _counter_int(str(name), value)\n"
    "    else:\n"
    "        _counter_float(str(name), float(value))\n"
    "class region:\n"
    "    \"\"\"`with pyagent.region('load'):` (or as a decorator) marks a span of time.\"\"\"\n"
    "    __slots__ = ('name',)\n"
    "    def __init__(self, name):\n"
    "        self.name = str(name)\n"
    "    def __enter__(self):\n"
    "        _region(self.name, 1)\n"
    "        return self\n"
    "    def __exit__(self, *exc):\n"
    "        _region(self.name, 0)\n"
    "        return False\n"
    "    def __call__(self, fn):\n"
    "        import functools\n"
    "        @functools.wraps(fn)\n"
    "        def wrapper(*args, **kwargs):\n"
    "            with self:\n"
    "                return fn(*args, **kwargs)\n"
    "        return wrapper\n"
    "def pause():\n"
    "    \"\"\"Stops recording CPU samples, calls and counted calls (allocations are still\n"
    "    tracked for the leak report) until resume().\"\"\"\n"
    "    _pause(1)\n"
    "def resume():\n"
    "    \"\"\"Resumes recording after pause() (or PYAGENT_START=paused).\"\"\"\n"
    "    _pause(0)\n"
    "def stats():\n"
    "    \"\"\"A live view: samples, top functions by self, counted functions, live bytes and\n"
    "    the top allocation sites, as a dict.\"\"\"\n"
    "    return _json.loads(_stats())\n";

int pa_pyapi_install(PyObject *module)
{
    if (!PA_RESOLVE(api.Arg_ParseTuple, "PyArg_ParseTuple") || !PA_RESOLVE(api.Module_GetDict, "PyModule_GetDict") ||
        !PA_RESOLVE(api.Run_StringFlags, "PyRun_StringFlags") ||
        !PA_RESOLVE(api.Unicode_FromStringAndSize, "PyUnicode_FromStringAndSize") ||
        !PA_RESOLVE(api.CFunction_NewEx, "PyCFunction_NewEx") ||
        !PA_RESOLVE(api.Dict_SetItemString, "PyDict_SetItemString") || !PA_RESOLVE(api.none, "_Py_NoneStruct"))
        return -1;
    PyObject *dict = api.Module_GetDict(module); /* borrowed */
    for (unsigned i = 0; i < PA_ARRAY_LEN(functions); i++) {
        PyObject *fn = api.CFunction_NewEx(&functions[i], NULL, NULL);
        int rc = fn ? api.Dict_SetItemString(dict, functions[i].name, fn) : -1;
        if (fn)
            pa_py.DecRef(fn);
        if (rc != 0)
            return -1;
    }
    PyObject *r = api.Run_StringFlags(layer, 257 /* Py_file_input */, dict, dict, NULL);
    if (!r)
        return -1;
    pa_py.DecRef(r);
    return 0;
}
