/* run.c — `pyagent run`: the command-line face of LD_PRELOAD. Every PYAGENT_*
 * variable has exactly one long flag (PYAGENT_LEAK_TOP is --leak-top), generated from
 * the agent's own knob table, and the values are checked by the agent's own parser
 * before the command starts, so a typo is a usage error here instead of a dormant
 * agent there. */
#include "run.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "run_report.h"

extern char **environ;

enum { RUN_USAGE = 2, RUN_CANNOT_EXEC = 126, RUN_NOT_FOUND = 127 };

/* What each variable means, for --help. An on|off metavar makes the flag work bare. */
static const struct knob_help {
    const char *var, *metavar, *text;
} knob_help[] = {
    { "PYAGENT_ENABLE", "on|off", "master switch" },
    { "PYAGENT_OUTPUT", "PATH", "trace path, %p = pid (empty: no trace)" },
    { "PYAGENT_LEAK_REPORT", "DEST", "exit leak report: stderr, off or a file (%p allowed)" },
    { "PYAGENT_LEAK_TOP", "N", "leak groups in the exit report (0 = all)" },
    { "PYAGENT_ALLOC", "on|off", "track malloc and friends" },
    { "PYAGENT_PYMALLOC", "on|off", "also track the PyMem/PyObject domains (slower)" },
    { "PYAGENT_NATIVE_DEPTH", "N", "native frames per stack at most" },
    { "PYAGENT_NATIVE", "MODE", "native frames: auto, leaf or full" },
    { "PYAGENT_PYTHON_DEPTH", "N", "Python frames per stack at most" },
    { "PYAGENT_NON_PYTHON", "MODE", "dormant, or track non-Python programs too" },
    { "PYAGENT_FLUSH_MS", "MS", "write events once they are this old" },
    { "PYAGENT_EVENTS", "LIST", "counters to sample, comma-separated; the first samples (off: none)" },
    { "PYAGENT_FREQ", "HZ", "samples per second of CPU time, per thread" },
    { "PYAGENT_PERIOD", "N", "instead of -F: one sample every N counts of the first event" },
    { "PYAGENT_SIGNAL", "SIG", "realtime signal samples arrive on" },
    { "PYAGENT_MODE", "MODE", "sample, or trace: record every Python call" },
    { "PYAGENT_TRACE_C", "on|off", "trace mode: also record calls into C functions" },
    { "PYAGENT_COUNT", "FUNCS", "count calls of these functions (name, Class.method, pkg.mod:Class.method)" },
    { "PYAGENT_START", "STATE", "running, or paused until pyagent.resume() or the toggle signal" },
    { "PYAGENT_TOGGLE_SIGNAL", "SIG", "signal that pauses/resumes recording (off, SIGUSR1, SIGUSR2 ...)" },
    { "PYAGENT_FOLLOW", "on|off", "children started with the inherited LD_PRELOAD record too" },
};

/* perf's letters for the flags everyone types. */
static const struct short_flag {
    char letter;
    const char *var;
} short_flags[] = {
    { 'o', "PYAGENT_OUTPUT" }, { 'e', "PYAGENT_EVENTS" }, { 'F', "PYAGENT_FREQ" },
    { 'c', "PYAGENT_PERIOD" }, { 'm', "PYAGENT_MODE" },
};

static const struct knob_help *help_of(const char *var)
{
    for (size_t i = 0; i < sizeof knob_help / sizeof knob_help[0]; i++)
        if (!strcmp(knob_help[i].var, var))
            return &knob_help[i];
    return NULL;
}

/* "PYAGENT_LEAK_TOP" -> "leak-top". */
static void flag_of(const char *var, char *out, size_t len)
{
    size_t n = 0;
    for (const char *s = var + 8; *s && n + 1 < len; s++)
        out[n++] = *s == '_' ? '-' : (char)tolower((unsigned char)*s);
    out[n] = 0;
}

void pa_run_help(void)
{
    printf("usage: pyagent run [options] [--] COMMAND [ARG...]\n\n"
           "Runs COMMAND with the agent preloaded (LD_PRELOAD=libpyagent.so, which\n"
           "children inherit), passes its exit status or signal through, then says on\n"
           "stderr where each trace went with a one-line summary. Each option sets the\n"
           "PYAGENT_* variable named beside it; variables already in the environment apply\n"
           "unless an option overrides them. Values are checked before COMMAND starts.\n\n"
           "options (--flag VALUE or --flag=VALUE; an on|off flag alone means on):\n");
    const char *var, *def;
    for (unsigned i = 0; pa_config_knob(i, &var, &def) == 0; i++) {
        const struct knob_help *h = help_of(var);
        char flag[64], left[96], shortf[8] = "";
        flag_of(var, flag, sizeof flag);
        for (size_t j = 0; j < sizeof short_flags / sizeof short_flags[0]; j++)
            if (!strcmp(short_flags[j].var, var))
                snprintf(shortf, sizeof shortf, "-%c, ", short_flags[j].letter);
        snprintf(left, sizeof left, "%s--%s %s", shortf, flag, h ? h->metavar : "VALUE");
        printf("  %-30s %s\n  %-30s   %s (default: %s)\n", left, h ? h->text : "(see the README)", "", var,
               *def ? def : "none");
    }
    printf("  -h, --help                     this text\n\n"
           "Exit status: COMMAND's; 2 for a bad option or value, 126 when COMMAND cannot be\n"
           "run, 127 when it is not found. Ctrl-C reaches COMMAND, and SIGTERM, SIGHUP,\n"
           "SIGUSR1 and SIGUSR2 sent to pyagent run are passed on to it (so a toggle signal\n"
           "works on either pid).\n\n"
           "example: pyagent run -F 1000 -o app.trace -- python3 app.py; pyagent report app.trace\n");
}

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "pyagent run: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\nusage: pyagent run [options] [--] COMMAND [ARG...]   (pyagent run --help)\n");
    return RUN_USAGE;
}

/* Variables set by flags, as "NAME=VALUE" strings. */
struct settings {
    char *set[64];
    size_t n;
};

static int settings_put(struct settings *s, const char *var, const char *value)
{
    char *kv = malloc(strlen(var) + strlen(value) + 2);
    if (!kv)
        return -1;
    sprintf(kv, "%s=%s", var, value);
    size_t len = strlen(var) + 1;
    for (size_t i = 0; i < s->n; i++)
        if (!strncmp(s->set[i], kv, len)) { /* the last flag wins */
            free(s->set[i]);
            s->set[i] = kv;
            return 0;
        }
    if (s->n == sizeof s->set / sizeof s->set[0]) {
        free(kv);
        return -1;
    }
    s->set[s->n++] = kv;
    return 0;
}

/* The variable a "--leak-top" or "-F" names, or NULL. */
static const char *var_of_flag(const char *arg, size_t len)
{
    const char *var, *def;
    if (len == 2 && arg[0] == '-' && arg[1] != '-') {
        for (size_t j = 0; j < sizeof short_flags / sizeof short_flags[0]; j++)
            if (short_flags[j].letter == arg[1])
                return short_flags[j].var;
        return NULL;
    }
    for (unsigned i = 0; pa_config_knob(i, &var, &def) == 0; i++) {
        char flag[64];
        flag_of(var, flag, sizeof flag);
        if (len == strlen(flag) + 2 && !strncmp(arg + 2, flag, len - 2))
            return var;
    }
    return NULL;
}

static int is_onoff(const char *var)
{
    const struct knob_help *h = help_of(var);
    return h && !strcmp(h->metavar, "on|off");
}

/* A value an on|off flag takes from the next argument rather than a command name. */
static int is_switch_word(const char *s)
{
    static const char *const words[] = { "on", "off", "yes", "no", "true", "false", "1", "0" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(s, words[i]))
            return 1;
    return 0;
}

/* Parses the options before COMMAND. @return the index of COMMAND in argv, or -exit. */
static int parse_flags(int argc, char **argv, struct settings *s)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--"))
            return i + 1;
        if (a[0] != '-' || !a[1])
            return i;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            pa_run_help();
            return -0x100;
        }
        const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const char *var = var_of_flag(a, len);
        if (!var)
            return -usage_error("unknown option %s%s", a, "");
        const char *value = eq ? eq + 1 : NULL;
        if (!value && is_onoff(var)) /* "--alloc off" and "--trace-c" alike */
            value = i + 1 < argc && is_switch_word(argv[i + 1]) ? argv[++i] : "on";
        if (!value && !(value = i + 1 < argc ? argv[++i] : NULL))
            return -usage_error("%s needs a value%s", a, "");
        if (settings_put(s, var, value) != 0)
            return -usage_error("out of memory%s%s", "", "");
    }
    return i;
}

/* "libpyagent.so" next to this executable (a build tree), else in the installed
 * library directory relative to it (PA_BIN_TO_LIB, set by CMake). */
static int find_library(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    *slash = 0;
    static const char *const where[] = { ".", PA_BIN_TO_LIB };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        snprintf(out, len, "%s/%s/libpyagent.so", exe, where[i]);
        if (access(out, R_OK) == 0)
            return 0;
    }
    snprintf(out, len, "%s/%s/libpyagent.so", exe, PA_BIN_TO_LIB);
    return -1;
}

/* LD_PRELOAD with the agent first and any other copy of it removed. */
static char *preload_value(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    size_t cap = strlen("LD_PRELOAD=") + strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *v = malloc(cap), *copy = old ? strdup(old) : NULL;
    if (!v || (old && !copy)) {
        free(v), free(copy);
        return NULL;
    }
    snprintf(v, cap, "LD_PRELOAD=%s", lib);
    for (char *save = NULL, *tok = copy ? strtok_r(copy, ": ", &save) : NULL; tok; tok = strtok_r(NULL, ": ", &save)) {
        const char *base = strrchr(tok, '/');
        if (strcmp(base ? base + 1 : tok, "libpyagent.so") != 0) /* cap counts each ':' and token */
            strcat(strcat(v, ":"), tok); // NOLINT(clang-analyzer-security.insecureAPI.strcpy)
    }
    free(copy);
    return v;
}

/* environ with LD_PRELOAD and the flags' variables replaced. */
static char **child_environment(const struct settings *s, char *preload)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + s->n + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        int replaced = !strncmp(e, "LD_PRELOAD=", 11);
        for (size_t j = 0; j < s->n && !replaced; j++) {
            size_t len = strchr(s->set[j], '=') - s->set[j] + 1;
            replaced = !strncmp(e, s->set[j], len);
        }
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < s->n; j++)
        env[k++] = s->set[j];
    env[k++] = preload;
    env[k] = NULL;
    return env;
}

static volatile sig_atomic_t child_pid;

static void pass_on(int sig)
{
    if (child_pid > 0)
        kill((pid_t)child_pid, sig);
}

/* Ctrl-C and Ctrl-\ reach the command through the terminal's process group; this
 * process outlives them to report. Termination requests are passed on. */
static void parent_signals(void)
{
    static const int forwarded[] = { SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = pass_on;
    sa.sa_flags = SA_RESTART;
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaction(forwarded[i], &sa, NULL);
}

/* In the child: SIG_IGN would survive exec, so put back what the command expects. */
static void child_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
}

/* Dies of the command's signal, without a second core dump. */
static void die_like(int sig)
{
    struct rlimit none = { 0, 0 };
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}

/* Starts cmd and waits for it. @return 0, or the errno that kept it from running. */
static int spawn_and_wait(char **cmd, char **env, int *status)
{
    int err_pipe[2];
    if (pipe2(err_pipe, O_CLOEXEC) != 0)
        return errno;
    parent_signals();
    pid_t pid = fork();
    if (pid < 0)
        return errno;
    if (pid == 0) {
        close(err_pipe[0]);
        child_signals();
        execvpe(cmd[0], cmd, env);
        int e = errno;
        (void)!write(err_pipe[1], &e, sizeof e);
        _exit(e == ENOENT ? RUN_NOT_FOUND : RUN_CANNOT_EXEC);
    }
    child_pid = pid;
    close(err_pipe[1]);
    int exec_errno = 0;
    while (read(err_pipe[0], &exec_errno, sizeof exec_errno) < 0 && errno == EINTR)
        ;
    close(err_pipe[0]);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return errno;
    return exec_errno;
}

/* Runs cmd in env. @return the exit status to pass on. */
static int run_in(char **cmd, char **env)
{
    char err[512];
    if (pa_config_load(env, err, sizeof err) != 0)
        return usage_error("%s%s", err, "");

    struct pa_run_outputs outs;
    pa_run_outputs_before(&outs, env);
    int status = 0;
    int exec_errno = spawn_and_wait(cmd, env, &status);
    if (exec_errno) {
        fprintf(stderr, "pyagent run: cannot run %s: %s\n", cmd[0], strerror(exec_errno));
        return exec_errno == ENOENT ? RUN_NOT_FOUND : RUN_CANNOT_EXEC;
    }
    pa_run_outputs_report(&outs, stderr);
    if (WIFSIGNALED(status))
        die_like(WTERMSIG(status));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Runs cmd under the agent with the flags' variables. @return the exit status to pass on. */
static int run_with(const struct settings *s, char **cmd)
{
    char lib[PATH_MAX + 32];
    if (find_library(lib, sizeof lib) != 0) {
        fprintf(stderr, "pyagent run: cannot find the agent library (looked for %s)\n", lib);
        return RUN_CANNOT_EXEC;
    }
    char *preload = preload_value(lib);
    char **env = preload ? child_environment(s, preload) : NULL;
    int rc = env ? run_in(cmd, env) : RUN_CANNOT_EXEC;
    if (!env)
        fprintf(stderr, "pyagent run: out of memory\n");
    free(env);
    free(preload);
    return rc;
}

int pa_run_main(int argc, char **argv)
{
    struct settings s = { .n = 0 };
    int first = parse_flags(argc, argv, &s);
    int rc = first < 0       ? (first == -0x100 ? 0 : -first)
             : first >= argc ? usage_error("no COMMAND given%s%s", "", "")
                             : run_with(&s, argv + first);
    for (size_t i = 0; i < s.n; i++)
        free(s.set[i]);
    return rc;
}
