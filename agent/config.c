/* config.c — the knob table and its parser. Unknown PYAGENT_* names and bad values
 * are errors (not silently defaulted) because a typo would otherwise look like a
 * profile that found nothing. */
#include "config.h"

#include "common.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pa_config pa_cfg;

enum knob_kind { K_BOOL, K_INT, K_PATH, K_LEAKS, K_NONPY, K_NATIVE, K_EVENTS, K_SIGNAL, K_MODE, K_COUNT,
                 K_START, K_TOGGLE, K_FOLLOW };

struct knob {
    const char *name;
    enum knob_kind kind;
    size_t off;
    int min, max;
    const char *def;
};

#define F(field) offsetof(struct pa_config, field)
static const struct knob knobs[] = {
    { "PYAGENT_ENABLE", K_BOOL, F(enable), 0, 1, "on" },
    { "PYAGENT_OUTPUT", K_PATH, F(output), 0, 0, "pyagent-%p.trace" },
    { "PYAGENT_LEAK_REPORT", K_LEAKS, F(leak_dest), 0, 0, "stderr" },
    { "PYAGENT_LEAK_TOP", K_INT, F(leak_top), 0, 100000, "10" },
    { "PYAGENT_ALLOC", K_BOOL, F(alloc), 0, 1, "on" },
    { "PYAGENT_PYMALLOC", K_BOOL, F(pymalloc), 0, 1, "off" },
    { "PYAGENT_NATIVE_DEPTH", K_INT, F(native_depth), 0, 256, "64" },
    { "PYAGENT_NATIVE", K_NATIVE, F(native_mode), 0, 0, "auto" },
    { "PYAGENT_PYTHON_DEPTH", K_INT, F(python_depth), 1, 1024, "256" },
    { "PYAGENT_NON_PYTHON", K_NONPY, F(non_python), 0, 0, "dormant" },
    { "PYAGENT_FOLLOW", K_FOLLOW, F(follow), 0, 0, "on" },
    { "PYAGENT_FLUSH_MS", K_INT, F(flush_ms), 10, 60000, "1000" },
    { "PYAGENT_EVENTS", K_EVENTS, F(events), 0, 0, "" },
    { "PYAGENT_FREQ", K_INT, F(freq), 1, 100000, "100" },
    { "PYAGENT_PERIOD", K_INT, F(period), 0, 2000000000, "0" },
    { "PYAGENT_SIGNAL", K_SIGNAL, F(signal), 0, 0, "SIGRTMIN+4" },
    { "PYAGENT_MODE", K_MODE, F(mode), 0, 0, "sample" },
    { "PYAGENT_TRACE_C", K_BOOL, F(trace_c), 0, 1, "off" },
    { "PYAGENT_COUNT", K_COUNT, F(count), 0, 0, "" },
    { "PYAGENT_START", K_START, F(start_paused), 0, 0, "running" },
    { "PYAGENT_TOGGLE_SIGNAL", K_TOGGLE, F(toggle_signal), 0, 0, "off" },
};
#undef F

static int parse_bool(const char *v, int *out)
{
    static const char *yes[] = { "1", "on", "yes", "true" }, *no[] = { "0", "off", "no", "false" };
    for (unsigned i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i]))
            return *out = 1, 0;
        if (!strcasecmp(v, no[i]))
            return *out = 0, 0;
    }
    return -1;
}

static int parse_int(const char *v, int min, int max, int *out)
{
    char *end;
    /* strtol alone would take " 5" (leading blanks) while refusing "5 ". */
    if (!(*v == '-' || (*v >= '0' && *v <= '9')))
        return -1;
    long n = strtol(v, &end, 10);
    if (*end || n < min || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

static int set_path(char *dst, const char *v)
{
    size_t n = strlen(v);
    if (n >= PATH_MAX)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Event names are checked against libpfm4 at activation (it is not loaded here);
 * only the shape of the list is checked now. */
static int set_events(char *dst, const char *v)
{
    size_t n = strlen(v);
    if (n >= sizeof pa_cfg.events || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:=,") != n)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* A realtime signal: a number, SIGRTMIN+N or SIGRTMAX-N. Realtime signals queue
 * instead of coalescing, and programs rarely use them. */
static int parse_signal(const char *v, int *out)
{
    int n = 0, base, sign = 1;
    if (!strncmp(v, "SIGRTMIN", 8))
        base = SIGRTMIN, v += 8;
    else if (!strncmp(v, "SIGRTMAX", 8))
        base = SIGRTMAX, v += 8, sign = -1;
    else
        base = 0;
    if (base && *v) {
        if (*v != (sign > 0 ? '+' : '-') || parse_int(v + 1, 0, 64, &n) != 0)
            return -1;
    } else if (!base && parse_int(v, 1, 64, &n) != 0) {
        return -1;
    }
    int sig = base + sign * n;
    if (sig < SIGRTMIN || sig > SIGRTMAX)
        return -1;
    *out = sig;
    return 0;
}

/* Function names: qualnames, optionally module-qualified (pkg.mod:Class.method). */
static int set_count(char *dst, const char *v)
{
    size_t n = strlen(v);
    if (n >= sizeof pa_cfg.count ||
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:,<>") != n)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Any catchable signal but the ones the agent or the runtime need. */
static int parse_toggle(const char *v, int *out)
{
    static const struct { const char *name; int sig; } named[] = {
        { "SIGUSR1", SIGUSR1 }, { "SIGUSR2", SIGUSR2 }, { "SIGHUP", SIGHUP }, { "SIGWINCH", SIGWINCH },
    };
    if (!strcmp(v, "off"))
        return *out = 0, 0;
    for (unsigned i = 0; i < PA_ARRAY_LEN(named); i++)
        if (!strcmp(v, named[i].name))
            return *out = named[i].sig, 0;
    return parse_signal(v, out);
}

/* on | off, or off:PID, the form the first recording process leaves for its children
 * (session.c): only PID records. */
static int parse_follow(const char *v, int *follow, int *root)
{
    *root = 0;
    if (!strncmp(v, "off:", 4))
        return *follow = 0, parse_int(v + 4, 1, INT_MAX, root);
    return parse_bool(v, follow);
}

static int apply(const struct knob *k, const char *v, char *err, unsigned errlen)
{
    char *base = (char *)&pa_cfg;
    int *ival = (int *)(base + k->off);
    int ok = -1;
    const char *expect = "";
    switch (k->kind) {
    case K_BOOL:
        ok = parse_bool(v, ival), expect = "on or off";
        break;
    case K_INT:
        ok = parse_int(v, k->min, k->max, ival);
        break;
    case K_PATH:
        ok = set_path(base + k->off, v), expect = "a path shorter than PATH_MAX";
        break;
    case K_LEAKS:
        expect = "stderr, off or a file path";
        if (!strcmp(v, "stderr"))
            *ival = PA_LEAKS_STDERR, ok = 0;
        else if (!strcmp(v, "off"))
            *ival = PA_LEAKS_OFF, ok = 0;
        else if (*v && set_path(pa_cfg.leak_path, v) == 0)
            *ival = PA_LEAKS_FILE, ok = 0;
        break;
    case K_NATIVE:
        expect = "auto, leaf or full";
        if (!strcmp(v, "auto"))
            *ival = PA_NATIVE_AUTO, ok = 0;
        else if (!strcmp(v, "leaf"))
            *ival = PA_NATIVE_LEAF, ok = 0;
        else if (!strcmp(v, "full"))
            *ival = PA_NATIVE_FULL, ok = 0;
        break;
    case K_EVENTS:
        ok = set_events(base + k->off, v), expect = "a comma-separated list of event names, or off";
        break;
    case K_SIGNAL:
        ok = parse_signal(v, ival), expect = "a realtime signal: SIGRTMIN+N, SIGRTMAX-N or its number";
        break;
    case K_MODE:
        expect = "sample or trace";
        if (!strcmp(v, "sample"))
            *ival = PA_MODE_SAMPLE, ok = 0;
        else if (!strcmp(v, "trace"))
            *ival = PA_MODE_TRACE, ok = 0;
        break;
    case K_COUNT:
        ok = set_count(base + k->off, v), expect = "comma-separated function names (name, Class.method or pkg.mod:Class.method)";
        break;
    case K_START:
        expect = "running or paused";
        if (!strcmp(v, "running"))
            *ival = 0, ok = 0;
        else if (!strcmp(v, "paused"))
            *ival = 1, ok = 0;
        break;
    case K_TOGGLE:
        ok = parse_toggle(v, ival), expect = "off, SIGUSR1, SIGUSR2, SIGHUP, SIGWINCH or a realtime signal";
        break;
    case K_FOLLOW:
        ok = parse_follow(v, ival, &pa_cfg.follow_root), expect = "on or off";
        break;
    case K_NONPY:
        expect = "dormant or track";
        if (!strcmp(v, "dormant"))
            *ival = PA_NONPY_DORMANT, ok = 0;
        else if (!strcmp(v, "track"))
            *ival = PA_NONPY_TRACK, ok = 0;
        break;
    }
    if (ok == 0)
        return 0;
    if (k->kind == K_INT) {
        snprintf(err, errlen, "invalid %s=%s: expected an integer from %d to %d", k->name, v,
                 k->min, k->max);
    } else {
        snprintf(err, errlen, "invalid %s=%s: expected %s", k->name, v, expect);
    }
    return -1;
}

static const struct knob *find(const char *name, size_t len)
{
    for (unsigned i = 0; i < (sizeof knobs / sizeof knobs[0]); i++)
        if (strlen(knobs[i].name) == len && !strncmp(knobs[i].name, name, len))
            return &knobs[i];
    return NULL;
}

/* Every field, not just the knobs: leak_path has no knob of its own and must not
 * keep a path from an earlier load after an error. */
static int set_defaults(void)
{
    char scratch[8];
    memset(&pa_cfg, 0, sizeof pa_cfg);
    for (unsigned i = 0; i < (sizeof knobs / sizeof knobs[0]); i++)
        if (apply(&knobs[i], knobs[i].def, scratch, sizeof scratch) != 0)
            return -1;
    return 0;
}

int pa_config_load(char *const *envp, char *err, unsigned errlen)
{
    if (set_defaults() != 0)
        return -1; /* a broken default is a bug; keep going dormant */
    int freq_set = 0;
    for (; envp && *envp; envp++) {
        const char *e = *envp;
        if (strncmp(e, "PYAGENT_", 8) != 0)
            continue;
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        const struct knob *k = find(e, (size_t)(eq - e));
        if (!k) {
            snprintf(err, errlen, "unknown variable %s (see the README for PYAGENT_* variables)", e);
            goto fail;
        }
        if (apply(k, eq + 1, err, errlen) != 0)
            goto fail;
        if (k->off == offsetof(struct pa_config, freq))
            freq_set = 1;
    }
    if (freq_set && pa_cfg.period) {
        snprintf(err, errlen, "PYAGENT_FREQ and PYAGENT_PERIOD both set: choose one");
        goto fail;
    }
    if (pa_cfg.toggle_signal && pa_cfg.toggle_signal == pa_cfg.signal) {
        snprintf(err, errlen, "PYAGENT_TOGGLE_SIGNAL and PYAGENT_SIGNAL are the same signal");
        goto fail;
    }
    return 0;
fail:
    set_defaults();
    return -1;
}

int pa_config_expand(const char *tmpl, int pid, char *out, unsigned outlen)
{
    unsigned n = 0;
    if (!outlen)
        return -1; /* not even the NUL fits */
    for (const char *s = tmpl; *s; s++) {
        char num[24];
        const char *piece = num;
        if (s[0] == '%' && s[1] == 'p')
            snprintf(num, sizeof num, "%d", pid), s++;
        else if (s[0] == '%' && s[1] == '%')
            num[0] = '%', num[1] = 0, s++;
        else
            num[0] = *s, num[1] = 0;
        size_t len = strlen(piece);
        if (n + len >= outlen)
            return -1;
        memcpy(out + n, piece, len);
        n += (unsigned)len;
    }
    out[n] = 0;
    return 0;
}

int pa_config_knob(unsigned i, const char **name, const char **def)
{
    if (i >= sizeof knobs / sizeof knobs[0])
        return -1;
    *name = knobs[i].name;
    *def = knobs[i].def;
    return 0;
}
