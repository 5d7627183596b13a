/* main.c — the `pyagent` reader CLI: parses the command line, decodes the trace, runs
 * one analysis, prints it. Warnings go to stderr, reports to stdout. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "leaks.h"
#include "summary.h"

#ifndef PA_VERSION
#define PA_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_TRACE = 1, EXIT_USAGE = 2 };

/* Options every command may accept; each command says which it takes. */
struct args {
    const char *trace;
    int json, all, top, full;
};

enum { OPT_JSON = 1, OPT_ALL = 2, OPT_TOP = 4, OPT_FULL = 8 };

struct cmd {
    const char *name;
    int (*run)(const struct args *a);
    unsigned opts;
    const char *usage;
    const char *help;
};

static int cmd_summary(const struct args *a);
static int cmd_leaks(const struct args *a);

/* Later commands (report, script, flamegraph, export) slot in here. */
static const struct cmd cmds[] = {
    { "summary", cmd_summary, OPT_JSON, "summary TRACE [--json]",
      "Process, interpreter, duration, threads, events, peak and live memory, agent\n"
      "memory, chunks and sizes, completeness, diagnostics and agent notes.\n"
      "  --json     one JSON object on stdout\n" },
    { "leaks", cmd_leaks, OPT_JSON | OPT_ALL | OPT_TOP | OPT_FULL,
      "leaks TRACE [--json] [--all] [--top N] [--full]",
      "Blocks still allocated at exit, grouped by stack, largest first. Interpreter,\n"
      "import and startup residue is hidden unless --all. A trace of a process that\n"
      "did not finish shows what was live when the trace ended.\n"
      "  --json     JSON for scripts (all frames, no collapsing)\n"
      "  --all      also show residue\n"
      "  --top N    show at most N leaks (default: all)\n"
      "  --full     do not collapse interpreter and outer native frames\n" },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: pyagent COMMAND TRACE [options]\n       pyagent --help | --version | help COMMAND\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  pyagent %s\n", cmds[i].usage);
    fprintf(f, "\nTRACE may be - for standard input. Exit status: 0 ok, 1 unusable trace, 2 usage error.\n");
}

static const struct cmd *find_cmd(const char *name)
{
    for (size_t i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
    return NULL;
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pyagent: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    usage(stderr);
    return EXIT_USAGE;
}

static int parse_top(const char *s, int *top)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000000)
        return -1;
    *top = (int)v;
    return 0;
}

/* @return 0, or EXIT_USAGE after printing why. */
static int parse_args(const struct cmd *c, int argc, char **argv, struct args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        unsigned o = !strcmp(s, "--json") ? OPT_JSON : !strcmp(s, "--all") ? OPT_ALL
                   : !strcmp(s, "--full") ? OPT_FULL : !strcmp(s, "--top") || !strncmp(s, "--top=", 6) ? OPT_TOP : 0;
        if (s[0] == '-' && s[1] != '\0' && !(c->opts & o))
            return bad_usage("%s: unknown option %s", c->name, s);
        if (o == OPT_JSON)
            a->json = 1;
        else if (o == OPT_ALL)
            a->all = 1;
        else if (o == OPT_FULL)
            a->full = 1;
        else if (o == OPT_TOP) {
            const char *v = s[5] == '=' ? s + 6 : i + 1 < argc ? argv[++i] : NULL;
            if (!v || parse_top(v, &a->top) < 0)
                return bad_usage("%s: --top needs a number >= 0, got %s", c->name, v ? v : "nothing");
        } else if (a->trace)
            return bad_usage("%s: more than one TRACE given (%s)", c->name, s);
        else
            a->trace = s;
    }
    if (!a->trace)
        return bad_usage("%s: no TRACE given", c->name);
    return 0;
}

/* Prints the decoder's lines: warnings when the trace is usable, else the error. */
static void print_diag(const pa_sbuf_t *diag, int fatal)
{
    const char *p = pa_sbuf_cstr(diag);
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "pyagent: %s%.*s\n", fatal ? "" : "warning: ", n, p);
        p += n + (nl != NULL);
    }
}

/* Decodes the trace. @return the model, or NULL after printing why. */
static pa_trace_t *load(const char *path)
{
    pa_sbuf_t diag;
    pa_trace_t *t = pa_trace_new();
    if (!t) {
        fprintf(stderr, "pyagent: out of memory\n");
        return NULL;
    }
    pa_sbuf_init(&diag);
    int rc = pa_decode_file(!strcmp(path, "-") ? "/dev/stdin" : path, t, &diag);
    print_diag(&diag, rc < 0);
    pa_sbuf_free(&diag);
    if (rc < 0) {
        pa_trace_free(t);
        return NULL;
    }
    pa_trace_finish(t);
    return t;
}

static int emit(pa_sbuf_t *out, int rc)
{
    if (rc < 0)
        fprintf(stderr, "pyagent: out of memory while rendering\n");
    fwrite(out->buf ? out->buf : "", 1, out->len, stdout);
    pa_sbuf_free(out);
    if (fflush(stdout) != 0 && errno != EPIPE) {
        fprintf(stderr, "pyagent: writing the output: %s\n", strerror(errno));
        return EXIT_TRACE;
    }
    return rc < 0 ? EXIT_TRACE : EXIT_OK;
}

static int cmd_summary(const struct args *a)
{
    pa_trace_t *t = load(a->trace);
    pa_sbuf_t out;
    if (!t)
        return EXIT_TRACE;
    pa_sbuf_init(&out);
    struct pa_summary_opts o = { .json = a->json, .trace_path = a->trace };
    int rc = pa_summary_render(t, &o, &out);
    pa_trace_free(t);
    return emit(&out, rc);
}

static int cmd_leaks(const struct args *a)
{
    pa_trace_t *t = load(a->trace);
    pa_sbuf_t out;
    if (!t)
        return EXIT_TRACE;
    pa_sbuf_init(&out);
    struct pa_leaks_opts o = { .json = a->json, .all = a->all, .top = a->top, .full_stacks = a->full,
                               .trace_path = a->trace };
    int rc = pa_leaks_render(t, &o, &out);
    pa_trace_free(t);
    return emit(&out, rc);
}

static int help(int argc, char **argv)
{
    if (argc < 1) {
        usage(stdout);
        return EXIT_OK;
    }
    const struct cmd *c = find_cmd(argv[0]);
    if (!c)
        return bad_usage("help: unknown command %s", argv[0]);
    printf("usage: pyagent %s\n\n%s", c->usage, c->help);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return bad_usage("no command given");
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h"))
        return help(0, NULL);
    if (!strcmp(name, "--version")) {
        printf("pyagent %s (trace format %d.%d)\n", PA_VERSION, PA_FMT_MAJOR, PA_FMT_MINOR);
        return EXIT_OK;
    }
    if (!strcmp(name, "help"))
        return help(argc - 2, argv + 2);
    const struct cmd *c = find_cmd(name);
    if (!c)
        return bad_usage("unknown command %s", name);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return help(1, (char *[]){ (char *)name });
    struct args a = { 0 };
    int rc = parse_args(c, argc - 2, argv + 2, &a);
    return rc ? rc : c->run(&a);
}
