/* main.c — the `pyagent` reader CLI: parses the command line, decodes the trace, runs
 * one analysis, prints it. Warnings go to stderr, reports to stdout. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "diff.h"
#include "export.h"
#include "flamegraph.h"
#include "leaks.h"
#include "report.h"
#include "run.h"
#include "script.h"
#include "summary.h"

#ifndef PA_VERSION
#define PA_VERSION "0.1.0"
#endif

enum { EXIT_OK = 0, EXIT_TRACE = 1, EXIT_USAGE = 2, EXIT_CHECK = 3 /* diff --fail-if */ };

/* Options every command may accept; each command says which it takes. */
struct args {
    const char *trace, *trace2; /* trace2: diff's NEW trace */
    int json, all, top, full, threads, lines, native, folded, raw;
    int top_given, depth, has_since, has_until;
    uint64_t since, until;
    const char *sort, *event, *thread, *output, *function, *fields, *format;
    const char *fail_if[PA_DIFF_MAX_CHECKS];
    int nfail_if;
};

enum {
    OPT_JSON = 1 << 0, OPT_ALL = 1 << 1, OPT_TOP = 1 << 2, OPT_FULL = 1 << 3, OPT_SORT = 1 << 4,
    OPT_EVENT = 1 << 5, OPT_THREAD = 1 << 6, OPT_THREADS = 1 << 7, OPT_LINES = 1 << 8, OPT_NATIVE = 1 << 9,
    OPT_FOLDED = 1 << 10, OPT_OUTPUT = 1 << 11, OPT_FUNCTION = 1 << 12, OPT_SINCE = 1 << 13, OPT_UNTIL = 1 << 14,
    OPT_DEPTH = 1 << 15, OPT_FIELDS = 1 << 16, OPT_FORMAT = 1 << 17,
    OPT_FAIL_IF = 1 << 18, OPT_RAW = 1 << 19,
};

static const struct opt {
    const char *name;
    unsigned bit;
    int takes_value;
} opts[] = {
    { "--json", OPT_JSON, 0 },     { "--all", OPT_ALL, 0 },         { "--top", OPT_TOP, 1 },
    { "--full", OPT_FULL, 0 },     { "--sort", OPT_SORT, 1 },       { "--event", OPT_EVENT, 1 },
    { "--thread", OPT_THREAD, 1 }, { "--threads", OPT_THREADS, 0 }, { "--lines", OPT_LINES, 0 },
    { "--native", OPT_NATIVE, 0 }, { "--folded", OPT_FOLDED, 0 },   { "-o", OPT_OUTPUT, 1 },
    { "--output", OPT_OUTPUT, 1 },  { "--function", OPT_FUNCTION, 1 }, { "--since", OPT_SINCE, 1 },
    { "--until", OPT_UNTIL, 1 },   { "--depth", OPT_DEPTH, 1 },     { "--fields", OPT_FIELDS, 1 },
    { "--format", OPT_FORMAT, 1 }, { "--fail-if", OPT_FAIL_IF, 1 }, { "--raw", OPT_RAW, 0 },
};

struct cmd {
    const char *name;
    int (*run)(const struct args *a);
    unsigned opts;
    const char *usage;
    const char *help;
};

static int cmd_summary(const struct args *a);
static int cmd_leaks(const struct args *a);
static int cmd_report(const struct args *a);
static int cmd_flamegraph(const struct args *a);
static int cmd_script(const struct args *a);
static int cmd_export(const struct args *a);
static int cmd_diff(const struct args *a);

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
    { "report", cmd_report,
      OPT_JSON | OPT_TOP | OPT_SORT | OPT_EVENT | OPT_THREAD | OPT_THREADS | OPT_LINES | OPT_NATIVE,
      "report TRACE [--json] [--sort self|total|name] [--event NAME] [--thread T] [--threads]\n"
      "       [--lines] [--native] [--top N]",
      "The hottest functions of the CPU samples, per event in the trace's order, like\n"
      "perf report: self (samples whose innermost frame is the function) and total\n"
      "(samples with the function anywhere on the stack, once per sample even when it\n"
      "recurses), as values and as % of the event's total. Time events are shown in ms\n"
      "or s. With cycles, instructions, cache misses or branch events, IPC, MPKI\n"
      "(cache misses per 1000 instructions) and branch misses are derived, overall and\n"
      "per function. Only Python frames count by default: a sample's self goes to its\n"
      "innermost Python frame; samples without one count as \"[native] MODULE\" (the\n"
      "shared object it was in), or \"[no frames]\" when no stack was captured.\n"
      "  --json         JSON for scripts (every row unless --top)\n"
      "  --sort KEY     order rows by self (default), total or name\n"
      "  --event NAME   only this event (default: all)\n"
      "  --thread T     only threads named T, with tid T, or serial #T\n"
      "  --threads      add each thread's totals and its top functions\n"
      "  --lines        rows are source lines (function and line of the innermost\n"
      "                 Python frame) instead of functions\n"
      "  --native       count native frames too (self to the innermost frame), and\n"
      "                 add a table per shared object\n"
      "  --top N        rows per table (default 20, 5 per thread; JSON: all; 0: all)\n" },
    { "flamegraph", cmd_flamegraph, OPT_FOLDED | OPT_EVENT | OPT_THREAD | OPT_NATIVE | OPT_OUTPUT,
      "flamegraph TRACE [--folded] [--event NAME] [--thread T] [--native] [-o FILE]",
      "A flame graph of the CPU samples: a self-contained HTML page (all events,\n"
      "threads selectable in the page), or folded stacks for flamegraph.pl, speedscope\n"
      "and similar tools. Frames are \"function (file.py:line)\" with the line executing\n"
      "in that frame, native frames \"symbol [module]\".\n"
      "  --folded       print folded stacks (\"outer;...;inner value\", one line per\n"
      "                 distinct stack) instead of writing HTML\n"
      "  --event NAME   folded: the event whose values are printed (default: the\n"
      "                 leader, the event that triggers samples)\n"
      "  --thread T     only threads named T, with tid T, or serial #T\n"
      "  --native       include native frames (default: Python frames only)\n"
      "  -o FILE        where the HTML goes (default: TRACE.html; - for stdout); the\n"
      "                 path written is printed\n" },
    { "script", cmd_script,
      OPT_JSON | OPT_THREAD | OPT_FUNCTION | OPT_SINCE | OPT_UNTIL | OPT_DEPTH | OPT_FIELDS,
      "script TRACE [--json] [--thread T] [--function NAME] [--since TIME] [--until TIME]\n"
      "       [--depth N] [--fields LIST]",
      "The calls of a trace-mode trace (PYAGENT_MODE=trace) in time order, like perf\n"
      "script: each call (or generator/coroutine segment, from resume to yield) once,\n"
      "at its start, with its duration, indented by depth, so the lines read as a call\n"
      "tree in time order. Marks, counters, regions and pause/resume appear in between.\n"
      "Times are seconds (JSON: nanoseconds) since the process started. Per call:\n"
      "bytes and blocks allocated by its thread during it (exact), CPU time and other\n"
      "sampled events (the deltas of the thread's samples taken during the call, as a\n"
      "profiler credits samples: exact over many calls, quantised to the sampling\n"
      "period for one short call; absent when the thread has no samples). Calls that\n"
      "never returned (the process ended) end at\n"
      "their thread's last event, marked unfinished.\n"
      "  --json          JSON lines: {\"type\": \"call\", \"function\", \"file\" (null\n"
      "                  for C functions), \"line\", \"thread\", \"tid\", \"start_ns\",\n"
      "                  \"duration_ns\", \"depth\", \"exit\": \"return\"|\"yield\"|\n"
      "                  \"exception\"|null, \"resumed\" and \"unfinished\" when true,\n"
      "                  \"cpu_ns\" and each other sampled event by name (with samples),\n"
      "                  \"alloc_bytes\", \"alloc_count\" (with allocation events)};\n"
      "                  {\"type\": \"mark\", \"name\", \"thread\", \"tid\", \"t_ns\",\n"
      "                  \"fields\"}; \"counter\" (\"value\"); \"region\" (\"start_ns\",\n"
      "                  \"duration_ns\"); \"toggle\" (\"state\", \"cause\")\n"
      "  --thread T      only threads named T, with tid T, or serial #T\n"
      "  --function NAME only calls of NAME and everything they call (NAME matches a\n"
      "                  qualified name or its last dotted parts: handle_request,\n"
      "                  Class.method); events are shown only inside those calls\n"
      "  --since TIME    only what overlaps [since, until]; TIME since the process\n"
      "  --until TIME    started: 1.5s, 200ms, 300us, 123ns or plain seconds\n"
      "  --depth N       deepest call depth shown (0: top level; with --function, depth\n"
      "                  below the matching call)\n"
      "  --fields LIST   text columns, comma-separated, from: time, thread, depth,\n"
      "                  duration, cpu, alloc, function, file, or a sampled event's name\n"
      "                  (default: time,thread,duration,cpu,alloc,function,file, cpu and\n"
      "                  alloc when the trace has them)\n" },
    { "export", cmd_export, OPT_FORMAT | OPT_OUTPUT, "export TRACE --format chrome|speedscope [-o FILE]",
      "The trace for other viewers. Times are relative to the process start.\n"
      "  --format chrome      Chrome trace event JSON for Perfetto (ui.perfetto.dev)\n"
      "                       and chrome://tracing: calls as complete (X) events per\n"
      "                       thread with file, line and counter deltas in args,\n"
      "                       regions on a track of their own per thread, marks and\n"
      "                       pause/resume as instant events, counters as counter\n"
      "                       tracks. A trace without calls (sampling mode) gives its\n"
      "                       CPU samples as instant events with their stacks.\n"
      "  --format speedscope  speedscope JSON (www.speedscope.app): per thread an\n"
      "                       evented profile of the calls or, without calls, a\n"
      "                       sampled profile of the CPU samples weighted by the\n"
      "                       leader event\n"
      "  -o FILE              where to write (default: standard output)\n" },
    { "diff", cmd_diff, OPT_JSON | OPT_TOP | OPT_SORT | OPT_EVENT | OPT_ALL | OPT_RAW | OPT_FAIL_IF,
      "diff BASELINE NEW [--json] [--top N] [--sort KEY] [--event NAME]\n"
      "       [--all] [--raw] [--fail-if EXPR]...",
      "Two traces of a program compared per function, like perf diff: each sampled\n"
      "event (self, and total with the function anywhere on the stack), call times\n"
      "and counts (both traces in trace mode, or both with PYAGENT_COUNT), bytes and\n"
      "blocks allocated (credited to the innermost Python function; and the peak of\n"
      "live memory), bytes and blocks leaked per site (the innermost Python line).\n"
      "Rows are ordered by the size of the change; a function in one trace only is\n"
      "\"new\" or \"gone\". Functions match by name, file and first line, or by name\n"
      "and file alone when that is unique (an edit moved the function).\n"
      "Scale: a loaded or slower machine makes every function slower. Measured\n"
      "values (sampled events, call times) are compared with scale x Baseline, the\n"
      "scale coming from the functions with 50+ samples (or calls) in both: the\n"
      "median change of the largest group of them that changed alike (with fewer\n"
      "than 3 such functions, 1). What most functions did alike is the machine's\n"
      "doing, what one function did beyond it is its code's: a function doing twice\n"
      "the work shows about +100%, even when it holds most of the time. A change of\n"
      "the whole program shows in the scale and the totals (total:cpu), not the\n"
      "rows; --raw compares values as they are. Counts are never scaled.\n"
      "Noise: a change is significant when it is at least 3 standard errors. Sampled\n"
      "values vary with their number of samples (Poisson: the variance of a sum of\n"
      "sample values is the sum of their squares), call times with the calls'\n"
      "spread, both also by the run-to-run jitter (the functions' spread around the\n"
      "scale beyond sampling; at least 5%); counts (calls, allocations, leaks) are\n"
      "exact. Rows marked ~ are within noise. At 100 Hz a function taking 50 ms has\n"
      "about 5 samples, whose count alone varies by 45%: raise PYAGENT_FREQ or run\n"
      "longer to see small changes.\n"
      "  --json          one JSON object: \"baseline\" and \"new\": {\"trace\", \"pid\",\n"
      "                  \"argv\", \"duration_ns\", \"samples\", \"events\"}; \"noise_z\";\n"
      "                  \"notes\" (what could not be compared); \"tables\": [{\"table\":\n"
      "                  \"sampled\"|\"calls\"|\"alloc\"|\"leaks\", \"event\", \"cpu\" (the\n"
      "                  CPU time event), \"source\" (calls: \"trace\"|\"counted\"),\n"
      "                  \"units\", \"scale\", \"scale_from\" (functions), \"jitter\",\n"
      "                  \"totals\", \"peak_bytes\" (alloc), \"rows_total\", \"rows\":\n"
      "                  [{\"function\", \"file\", \"line\", \"status\": \"both\"|\"new\"|\n"
      "                  \"gone\", then per measure (sampled: \"self\", \"total\"; calls:\n"
      "                  \"time\", \"calls\", \"time_per_call\"; alloc and leaks: \"bytes\",\n"
      "                  \"blocks\") {\"baseline\", \"new\", \"expected\" (scale x\n"
      "                  baseline), \"delta\" (new - expected), \"delta_pct\" (null\n"
      "                  when expected is 0), \"z\" (null when exact), \"exact\",\n"
      "                  \"significant\", \"baseline_n\", \"new_n\" (the samples, calls or\n"
      "                  blocks behind the value)}]}]; \"checks\": [{\"expr\",\n"
      "                  \"passed\", \"matched\" (rows the target matched), \"failures\":\n"
      "                  [{\"function\", \"file\", \"line\", \"metric\", \"baseline\",\n"
      "                  \"new\", \"delta\", \"delta_pct\"}]}]; \"failed\". Times in ns,\n"
      "                  sizes in bytes.\n"
      "  --top N         rows per table (default 20; JSON: all; 0: all)\n"
      "  --sort KEY      delta (default: the absolute change of self, time or bytes),\n"
      "                  total (of total, calls or blocks), pct, baseline, new, name\n"
      "  --event NAME    only this sampled event's table (cpu: the CPU time event)\n"
      "  --all           leaks: also interpreter, import and startup residue\n"
      "  --raw           no scale: compare measured values as they are\n"
      "  --fail-if EXPR  exit with status 3 when a change passes a threshold and is\n"
      "                  significant; repeatable; each crossing is printed on stderr.\n"
      "                  EXPR is TARGET:METRIC OP CHANGE, for example\n"
      "                  'handle_request:cpu>+10%', '*:cpu>+20%', 'leaks:bytes>+0',\n"
      "                  'alloc:bytes>+50%', 'total:cpu>+15%':\n"
      "    TARGET  a function name or glob, matching a qualified name or its last\n"
      "            dotted parts (handle_request, Server.*); * every function (or\n"
      "            leak site); total: the whole trace, unscaled (alloc:M is\n"
      "            total:alloc_M, leaks:M is total:leak_M)\n"
      "    METRIC  cpu, cpu_total (self, total of the CPU time event), EVENT or\n"
      "            EVENT_total (another sampled event), time, calls, time_per_call,\n"
      "            alloc_bytes, alloc_blocks, alloc_peak (total only), leak_bytes,\n"
      "            leak_blocks\n"
      "    OP      >, >=, <, <= (<-10% is a drop of more than 10%)\n"
      "    CHANGE  [+|-]N% relative to the expected value (a row absent from the\n"
      "            baseline is +inf%), or an absolute change: N in ns, us, ms, s\n"
      "            (times), B, K, M, G (bytes, 1024-based) or plain (counts)\n"
      "Exit status: 0 ok, 1 unusable trace, 2 usage error (a malformed --fail-if, or\n"
      "a metric the traces do not both have), 3 a --fail-if threshold crossed.\n" },
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: pyagent COMMAND TRACE [options]\n       pyagent --help | --version | help COMMAND\n\n"
               "commands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  pyagent %s\n", cmds[i].usage);
    fprintf(f, "  pyagent run [options] [--] COMMAND [ARG...]\n");
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
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): --top and --depth take a value (opts[]) */
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000000)
        return -1;
    *top = (int)v;
    return 0;
}

/* "--top 5", "--top=5"; a flag given a value ("--json=1") matches nothing. */
static const struct opt *find_opt(const char *s, const char **value)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        size_t n = strlen(opts[i].name);
        if (strncmp(s, opts[i].name, n) != 0)
            continue;
        if (s[n] == '\0' || (opts[i].takes_value && s[n] == '=' && n > 2)) {
            *value = s[n] == '=' ? s + n + 1 : NULL;
            return &opts[i];
        }
    }
    return NULL;
}

static int set_opt(const struct cmd *c, const struct opt *o, const char *v, struct args *a)
{
    switch (o->bit) {
    case OPT_JSON: a->json = 1; break;
    case OPT_ALL: a->all = 1; break;
    case OPT_FULL: a->full = 1; break;
    case OPT_THREADS: a->threads = 1; break;
    case OPT_LINES: a->lines = 1; break;
    case OPT_NATIVE: a->native = 1; break;
    case OPT_FOLDED: a->folded = 1; break;
    case OPT_RAW: a->raw = 1; break;
    case OPT_SORT: a->sort = v; break;
    case OPT_EVENT: a->event = v; break;
    case OPT_THREAD: a->thread = v; break;
    case OPT_OUTPUT: a->output = v; break;
    case OPT_FUNCTION: a->function = v; break;
    case OPT_FIELDS: a->fields = v; break;
    case OPT_FORMAT: a->format = v; break;
    case OPT_FAIL_IF:
        if (a->nfail_if >= PA_DIFF_MAX_CHECKS)
            return bad_usage("%s: at most %d --fail-if", c->name, PA_DIFF_MAX_CHECKS);
        a->fail_if[a->nfail_if++] = v;
        break;
    case OPT_SINCE:
    case OPT_UNTIL:
        if (pa_parse_time(v, o->bit == OPT_SINCE ? &a->since : &a->until) < 0)
            return bad_usage("%s: %s needs a time such as 1.5s, 200ms, 300us, 123ns or 2 (seconds), got %s", c->name,
                             o->name, v);
        *(o->bit == OPT_SINCE ? &a->has_since : &a->has_until) = 1;
        break;
    case OPT_DEPTH:
        if (parse_top(v, &a->depth) < 0)
            return bad_usage("%s: --depth needs a number >= 0, got %s", c->name, v);
        break;
    case OPT_TOP:
        if (parse_top(v, &a->top) < 0)
            return bad_usage("%s: --top needs a number >= 0, got %s", c->name, v);
        a->top_given = 1;
        break;
    }
    return 0;
}

/* @return 0, or EXIT_USAGE after printing why. */
static int parse_args(const struct cmd *c, int argc, char **argv, struct args *a)
{
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        const struct opt *o = s[0] == '-' && s[1] != '\0' ? find_opt(s, &v) : NULL;
        if (s[0] == '-' && s[1] != '\0' && (!o || !(c->opts & o->bit)))
            return bad_usage("%s: unknown option %s", c->name, s);
        if (o && o->takes_value && !v && !(v = i + 1 < argc ? argv[++i] : NULL))
            return bad_usage("%s: %s needs a value", c->name, o->name);
        if (o && set_opt(c, o, v, a) != 0)
            return EXIT_USAGE;
        if (o)
            continue;
        if (a->trace && c->run == cmd_diff && !a->trace2) { /* diff BASELINE NEW */
            a->trace2 = s;
            continue;
        }
        if (a->trace)
            return bad_usage("%s: more than one TRACE given (%s)", c->name, s);
        a->trace = s;
    }
    if (!a->trace)
        return bad_usage("%s: no TRACE given", c->name);
    if (c->run == cmd_diff && !a->trace2)
        return bad_usage("%s: two traces needed, BASELINE and NEW", c->name);
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

/* Prints an analysis' notes or its complaint about an option (then exit status 2). */
static int option_problem(const char *cmd, pa_sbuf_t *err, int rc)
{
    const char *p = pa_sbuf_cstr(err);
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(stderr, "pyagent: %s: %.*s\n", cmd, n, p);
        p += n + (nl != NULL);
    }
    pa_sbuf_free(err);
    return rc == -2 ? EXIT_USAGE : EXIT_OK;
}

static int cmd_report(const struct args *a)
{
    struct pa_report_opts o = { .json = a->json, .event = a->event, .thread = a->thread, .threads = a->threads,
                                .lines = a->lines, .native = a->native,
                                .top = a->top_given ? a->top : PA_REPORT_TOP_DEFAULT };
    if (!a->sort || !strcmp(a->sort, "self"))
        o.sort = PA_SORT_SELF;
    else if (!strcmp(a->sort, "total"))
        o.sort = PA_SORT_TOTAL;
    else if (!strcmp(a->sort, "name"))
        o.sort = PA_SORT_NAME;
    else
        return bad_usage("report: --sort takes self, total or name, got %s", a->sort);
    pa_trace_t *t = load(a->trace);
    pa_sbuf_t out, err;
    if (!t)
        return EXIT_TRACE;
    pa_sbuf_init(&out);
    pa_sbuf_init(&err);
    int rc = pa_report_render(t, &o, &out, &err);
    pa_trace_free(t);
    if (option_problem("report", &err, rc) == EXIT_USAGE) {
        pa_sbuf_free(&out);
        return EXIT_USAGE;
    }
    return emit(&out, rc);
}

/* Writes the page to path; stdout for "-". */
static int write_file(const char *path, const pa_sbuf_t *page)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
    if (!f) {
        fprintf(stderr, "pyagent: flamegraph: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_TRACE;
    }
    size_t n = fwrite(page->buf ? page->buf : "", 1, page->len, f);
    int bad = n != page->len || (f == stdout ? fflush(f) : fclose(f)) != 0;
    if (bad)
        fprintf(stderr, "pyagent: flamegraph: writing %s: %s\n", path, strerror(errno));
    else if (f != stdout)
        printf("%s\n", path);
    return bad ? EXIT_TRACE : EXIT_OK;
}

static int cmd_flamegraph(const struct args *a)
{
    struct pa_flame_opts o = { .event = a->event, .thread = a->thread, .native = a->native };
    if (a->folded && a->output)
        return bad_usage("flamegraph: -o writes HTML; --folded prints to stdout");
    if (!a->folded && !a->output && !strcmp(a->trace, "-"))
        return bad_usage("flamegraph: reading standard input: give -o FILE (or -o - for stdout)");
    if (a->event && !a->folded)
        return bad_usage("flamegraph: --event is for --folded (the page shows every event)");
    pa_trace_t *t = load(a->trace);
    pa_sbuf_t out, err;
    if (!t)
        return EXIT_TRACE;
    pa_sbuf_init(&out);
    pa_sbuf_init(&err);
    int rc = a->folded ? pa_flame_folded(t, &o, &out, &err) : pa_flame_page(t, &o, &out, &err);
    pa_trace_free(t);
    int st = option_problem("flamegraph", &err, rc);
    if (st == EXIT_OK && a->folded)
        return emit(&out, rc);
    if (st == EXIT_OK && rc < 0) {
        fprintf(stderr, "pyagent: out of memory while rendering\n");
        st = EXIT_TRACE;
    } else if (st == EXIT_OK) {
        char *dflt = a->output ? NULL : malloc(strlen(a->trace) + sizeof ".html");
        if (dflt)
            sprintf(dflt, "%s.html", a->trace);
        st = a->output || dflt ? write_file(a->output ? a->output : dflt, &out) : EXIT_TRACE;
        free(dflt);
    }
    pa_sbuf_free(&out);
    return st;
}

/* Streams a renderer's output: each chunk is written and the buffer emptied. */
static int flush_to(pa_sbuf_t *out, void *arg)
{
    FILE *f = arg;
    size_t len = out->len, n = out->failed ? 0 : fwrite(out->buf ? out->buf : "", 1, len, f);
    int bad = out->failed || n != len || ferror(f);
    pa_sbuf_reset(out);
    return bad ? -1 : 0;
}

static int cmd_script(const struct args *a)
{
    struct pa_script_opts o = { .json = a->json, .thread = a->thread, .function = a->function,
                                .has_since = a->has_since, .has_until = a->has_until, .since_ns = a->since,
                                .until_ns = a->until, .max_depth = a->depth, .fields = a->fields,
                                .flush = flush_to, .flush_arg = stdout };
    if (a->fields && a->json)
        return bad_usage("script: --fields chooses text columns; JSON lines carry every field");
    pa_trace_t *t = load(a->trace);
    pa_sbuf_t out, err;
    if (!t)
        return EXIT_TRACE;
    pa_sbuf_init(&out);
    pa_sbuf_init(&err);
    int rc = pa_script_render(t, &o, &out, &err);
    pa_trace_free(t);
    if (option_problem("script", &err, rc) == EXIT_USAGE) {
        pa_sbuf_free(&out);
        return EXIT_USAGE;
    }
    return emit(&out, rc);
}

static int cmd_export(const struct args *a)
{
    struct pa_export_opts o = { 0 };
    if (!a->format)
        return bad_usage("export: --format chrome or --format speedscope is required");
    if (!strcmp(a->format, "chrome"))
        o.format = PA_EXPORT_CHROME;
    else if (!strcmp(a->format, "speedscope"))
        o.format = PA_EXPORT_SPEEDSCOPE;
    else
        return bad_usage("export: --format takes chrome or speedscope, got %s", a->format);
    pa_trace_t *t = load(a->trace);
    if (!t)
        return EXIT_TRACE;
    FILE *f = a->output && strcmp(a->output, "-") != 0 ? fopen(a->output, "w") : stdout;
    if (!f) {
        fprintf(stderr, "pyagent: export: cannot write %s: %s\n", a->output, strerror(errno));
        pa_trace_free(t);
        return EXIT_TRACE;
    }
    pa_sbuf_t out, err;
    int st = EXIT_TRACE;
    o.flush = flush_to, o.flush_arg = f;
    pa_sbuf_init(&out);
    pa_sbuf_init(&err);
    int rc = pa_export_render(t, &o, &out, &err);
    pa_trace_free(t);
    option_problem("export", &err, rc);
    if (rc == 0 && flush_to(&out, f) == 0)
        st = EXIT_OK;
    else
        fprintf(stderr, "pyagent: export: %s\n", rc == 0 || ferror(f) ? "writing the output failed" : "out of memory");
    pa_sbuf_free(&out);
    if (f != stdout && fclose(f) != 0 && st == EXIT_OK) {
        fprintf(stderr, "pyagent: export: writing %s: %s\n", a->output, strerror(errno));
        st = EXIT_TRACE;
    }
    if (f == stdout && fflush(stdout) != 0 && errno != EPIPE && st == EXIT_OK)
        st = EXIT_TRACE;
    return st;
}

static enum pa_diff_sort diff_sort(const char *s)
{
    static const char *const keys[] = { "delta", "total", "pct", "baseline", "new", "name" };
    for (size_t i = 0; s && i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(s, keys[i]))
            return (enum pa_diff_sort)i;
    return s ? (enum pa_diff_sort)-1 : PA_DIFF_SORT_DELTA;
}

/* Each --fail-if against the diff. @return the number that tripped, or -1 (usage
 * error or out of memory: the status is in *st). */
static int diff_checks(const struct pa_diff *d, struct pa_diff_check *ck, size_t n, int *st)
{
    pa_sbuf_t err;
    int tripped = 0;
    pa_sbuf_init(&err);
    for (size_t i = 0; i < n; i++) {
        int r = pa_diff_check_run(d, &ck[i], &err);
        if (r < 0) {
            *st = r == -2 ? option_problem("diff", &err, -2) : EXIT_TRACE;
            pa_sbuf_free(&err);
            return -1;
        }
        tripped += r > 0;
        if (ck[i].nmatched == 0)
            pa_sbuf_printf(&err, "warning: --fail-if '%s': no function or leak site matches %s\n", ck[i].expr,
                           ck[i].target);
    }
    option_problem("diff", &err, 0);
    return tripped;
}

static void diff_trips(const struct pa_diff_check *ck, size_t n)
{
    pa_sbuf_t msg;
    pa_sbuf_init(&msg);
    for (size_t i = 0; i < n; i++)
        pa_diff_check_describe(&ck[i], &msg);
    option_problem("diff", &msg, 0);
}

static int cmd_diff(const struct args *a)
{
    struct pa_diff_check ck[PA_DIFF_MAX_CHECKS];
    struct pa_diff_opts o = { .json = a->json, .all = a->all, .raw = a->raw, .event = a->event,
                              .sort = diff_sort(a->sort), .top = a->top_given ? a->top : PA_DIFF_TOP_DEFAULT,
                              .checks = ck, .nchecks = (size_t)a->nfail_if };
    pa_sbuf_t err, out;
    if ((int)o.sort < 0)
        return bad_usage("diff: --sort takes delta, total, pct, baseline, new or name, got %s", a->sort);
    if (!strcmp(a->trace, "-") && !strcmp(a->trace2, "-"))
        return bad_usage("diff: only one of the traces can be standard input");
    pa_sbuf_init(&err);
    for (int i = 0; i < a->nfail_if; i++)
        if (pa_diff_check_parse(a->fail_if[i], &ck[i], &err) < 0)
            return option_problem("diff", &err, -2);
    pa_trace_t *t0 = load(a->trace), *t1 = t0 ? load(a->trace2) : NULL;
    struct pa_diff d;
    int st = EXIT_TRACE, tripped = -1;
    int rc = t1 ? pa_diff_build(t0, a->trace, t1, a->trace2, &o, &d, &err) : -1;
    if (rc == -2)
        st = option_problem("diff", &err, rc);
    if (rc == 0)
        tripped = diff_checks(&d, ck, o.nchecks, &st);
    if (tripped >= 0) {
        pa_sbuf_init(&out);
        st = emit(&out, pa_diff_render(&d, &o, &out));
        diff_trips(ck, o.nchecks);
        if (st == EXIT_OK && tripped > 0)
            st = EXIT_CHECK;
    } else if (rc == -1 && t1) {
        fprintf(stderr, "pyagent: out of memory\n");
    }
    for (size_t i = 0; i < o.nchecks; i++)
        pa_diff_check_free(&ck[i]);
    if (t1)
        pa_diff_free(&d);
    pa_sbuf_free(&err);
    pa_trace_free(t0);
    pa_trace_free(t1);
    return st;
}

static int help(int argc, char **argv)
{
    if (argc < 1) {
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[0], "run")) {
        pa_run_help();
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
    if (!strcmp(name, "run")) /* before the --help scan: the command's own flags are its own */
        return pa_run_main(argc - 1, argv + 1);
    const struct cmd *c = find_cmd(name);
    if (!c)
        return bad_usage("unknown command %s", name);
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return help(1, (char *[]){ (char *)name });
    struct args a = { .depth = -1 };
    int rc = parse_args(c, argc - 2, argv + 2, &a);
    return rc ? rc : c->run(&a);
}
