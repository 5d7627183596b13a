/* config.h — every PYAGENT_* knob, read once from the environment into pa_config.
 * The table in config.c is the single list; README.md documents the same list. */
#ifndef PA_CONFIG_H
#define PA_CONFIG_H

#include <limits.h>

enum pa_leak_dest { PA_LEAKS_STDERR, PA_LEAKS_OFF, PA_LEAKS_FILE };
enum pa_non_python { PA_NONPY_DORMANT, PA_NONPY_TRACK };
enum pa_native_mode { PA_NATIVE_AUTO, PA_NATIVE_LEAF, PA_NATIVE_FULL };
enum pa_mode { PA_MODE_SAMPLE, PA_MODE_TRACE };

struct pa_config {
    int enable;                 /* PYAGENT_ENABLE: master switch */
    char output[PATH_MAX];      /* PYAGENT_OUTPUT: trace path, %p = pid; "" = no trace */
    int leak_dest;              /* PYAGENT_LEAK_REPORT: stderr | off | a path */
    char leak_path[PATH_MAX];   /*   the path when leak_dest == PA_LEAKS_FILE */
    int leak_top;               /* PYAGENT_LEAK_TOP: entries in the exit report */
    int alloc;                  /* PYAGENT_ALLOC: track malloc & co */
    int pymalloc;               /* PYAGENT_PYMALLOC: also track the PyMem/PyObject domains */
    int native_depth;           /* PYAGENT_NATIVE_DEPTH: native frames per stack, 0 = none */
    int native_mode;            /* PYAGENT_NATIVE: auto | leaf | full (enum pa_native_mode) */
    int python_depth;           /* PYAGENT_PYTHON_DEPTH: Python frames per stack */
    int non_python;             /* PYAGENT_NON_PYTHON: dormant | track */
    int follow;                 /* PYAGENT_FOLLOW: processes exec'd with the inherited LD_PRELOAD record */
    int follow_root;            /*   with follow off, the pid that records (0: this process, when it does) */
    int flush_ms;               /* PYAGENT_FLUSH_MS: oldest unflushed event age */
    char events[512];           /* PYAGENT_EVENTS: libpfm4 names; "" = default set, "off" = no sampling */
    int freq;                   /* PYAGENT_FREQ: samples per second (unless a period is set) */
    int period;                 /* PYAGENT_PERIOD: leader events per sample (0: use the frequency) */
    int signal;                 /* PYAGENT_SIGNAL: the realtime signal samples arrive on */
    int mode;                   /* PYAGENT_MODE: sample | trace (enum pa_mode) */
    int trace_c;                /* PYAGENT_TRACE_C: trace mode also records calls into C functions */
    char count[1024];           /* PYAGENT_COUNT: functions whose calls are counted, comma-separated */
    int start_paused;           /* PYAGENT_START: running | paused */
    int toggle_signal;          /* PYAGENT_TOGGLE_SIGNAL: 0 = none, else the signal that pauses/resumes */
};


extern struct pa_config pa_cfg;

/* Fills pa_cfg with defaults, then applies PYAGENT_* from envp (NULL-terminated).
 * Allocates nothing. On an unknown name or a bad value, writes one message naming
 * the variable and the value into err and returns -1 (pa_cfg keeps the defaults). */
int pa_config_load(char *const *envp, char *err, unsigned errlen);

/* Expands %p (pid) and %% in a path template. Returns -1 if it does not fit. */
int pa_config_expand(const char *tmpl, int pid, char *out, unsigned outlen);

/* The i-th knob's variable name and default (for `pyagent run --help`).
 * @return 0, or -1 past the last knob. */
int pa_config_knob(unsigned i, const char **name, const char **def);

#endif
