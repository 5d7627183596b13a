/* run_report.c — after `pyagent run`: the traces the command left and what is in
 * them, one line each. A command may start several Python processes (subprocess,
 * multiprocessing), each with a trace of its own, so the directory is compared before
 * and after rather than guessing one pid. */
#include "run_report.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "decode.h"
#include "leaks.h"
#include "sbuf.h"
#include "summary.h"
#include "trace.h"

int pa_run_name_matches(const char *pattern, const char *name)
{
    while (*pattern) {
        if (pattern[0] == '%' && pattern[1] == 'p') {
            if (*name < '0' || *name > '9')
                return 0;
            while (*name >= '0' && *name <= '9')
                name++;
            pattern += 2;
            continue;
        }
        if (pattern[0] == '%' && pattern[1] == '%')
            pattern++;
        if (*pattern++ != *name++)
            return 0;
    }
    return *name == 0;
}

static int listed_before(const struct pa_run_outputs *o, const char *name)
{
    for (size_t i = 0; i < o->nbefore; i++)
        if (!strcmp(o->before[i], name))
            return 1;
    return 0;
}

static void remember(struct pa_run_outputs *o, const char *name)
{
    char **more = realloc(o->before, (o->nbefore + 1) * sizeof *more);
    if (!more)
        return; /* worst case an old file is reported as new */
    o->before = more;
    if ((more[o->nbefore] = strdup(name)))
        o->nbefore++;
}

void pa_run_outputs_before(struct pa_run_outputs *o, char *const *env)
{
    (void)env; /* pa_cfg was just loaded from env by the caller */
    memset(o, 0, sizeof *o);
    const char *tmpl = pa_cfg.output;
    if (!*tmpl) {
        o->disabled = 1;
        return;
    }
    const char *slash = strrchr(tmpl, '/');
    if (!slash)
        snprintf(o->dir, sizeof o->dir, ".");
    else
        snprintf(o->dir, sizeof o->dir, "%.*s", slash == tmpl ? 1 : (int)(slash - tmpl), tmpl);
    snprintf(o->pattern, sizeof o->pattern, "%s", slash ? slash + 1 : tmpl);
    o->unknown = strstr(o->dir, "%p") != NULL;
    DIR *d = o->unknown ? NULL : opendir(o->dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (pa_run_name_matches(o->pattern, e->d_name))
            remember(o, e->d_name);
    if (d)
        closedir(d);
}

static void path_of(const struct pa_run_outputs *o, const char *name, char *out, size_t len)
{
    if (!strcmp(o->dir, "."))
        snprintf(out, len, "%s", name);
    else
        snprintf(out, len, "%s%s%s", o->dir, o->dir[strlen(o->dir) - 1] == '/' ? "" : "/", name);
}

/* ", 3 leaks (45,678 bytes)" — what the exit report showed, residue hidden. */
static void leak_part(pa_trace_t *t, pa_sbuf_t *line)
{
    struct pa_leak_set set;
    char n[PA_NUM_BUFLEN];
    if (pa_leaks_collect(t, &set) != 0)
        return;
    if (set.shown)
        pa_sbuf_printf(line, ", %zu leak%s (%s bytes)", set.shown, set.shown == 1 ? "" : "s",
                       pa_fmt_num(n, set.shown_bytes));
    else
        pa_sbuf_puts(line, ", no leaks");
    pa_leaks_set_free(&set);
}

static void describe(pa_trace_t *t, off_t size, pa_sbuf_t *line)
{
    const struct pa_counts *c = pa_trace_counts(t);
    const struct pa_replay *r = pa_trace_replay(t);
    const struct pa_thread *th;
    char a[PA_NUM_BUFLEN], b[PA_NUM_BUFLEN];
    uint64_t ns;
    int to_exit = 0;
    pa_sbuf_printf(line, " (%s KiB", pa_fmt_num(a, ((uint64_t)size + 1023) / 1024));
    if (pa_summary_duration(t, &ns, &to_exit) == 0)
        pa_sbuf_printf(line, ", %s", pa_fmt_ns(a, ns));
    size_t nthreads = pa_trace_threads(t, &th);
    pa_sbuf_printf(line, ", %zu thread%s", nthreads, nthreads == 1 ? "" : "s");
    if (c->samples)
        pa_sbuf_printf(line, ", %s sample%s", pa_fmt_num(a, c->samples), c->samples == 1 ? "" : "s");
    if (c->call_enters)
        pa_sbuf_printf(line, ", %s call%s", pa_fmt_num(a, c->call_enters), c->call_enters == 1 ? "" : "s");
    if (c->allocs)
        pa_sbuf_printf(line, ", %s allocation%s, peak %s bytes", pa_fmt_num(a, c->allocs), c->allocs == 1 ? "" : "s",
                       pa_fmt_num(b, r->peak_bytes));
    if (c->allocs || c->leak_records) /* PYAGENT_ALLOC=off: nothing to say about leaks */
        leak_part(t, line);
    pa_sbuf_puts(line, to_exit ? ")" : "; the process did not finish: the trace ends early)");
}

void pa_run_outputs_report(struct pa_run_outputs *o, FILE *f)
{
    if (o->disabled) {
        fprintf(f, "pyagent: no trace written (PYAGENT_OUTPUT is empty)\n");
        return;
    }
    if (o->unknown) {
        fprintf(f, "pyagent: traces written to %s/%s\n", o->dir, o->pattern);
        return;
    }
    DIR *d = opendir(o->dir);
    size_t found = 0;
    char first[4096 + 256] = "";
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!pa_run_name_matches(o->pattern, e->d_name) || listed_before(o, e->d_name))
            continue;
        char path[4096 + 256];
        struct stat st;
        path_of(o, e->d_name, path, sizeof path);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        pa_sbuf_t line, diag;
        pa_sbuf_init(&line);
        pa_sbuf_init(&diag);
        pa_sbuf_printf(&line, "pyagent: trace %s", path);
        pa_trace_t *t = pa_trace_new();
        if (t && pa_decode_file(path, t, &diag) == 0) {
            pa_trace_finish(t);
            describe(t, st.st_size, &line);
        } else {
            pa_sbuf_printf(&line, " (unreadable: %s)", pa_sbuf_cstr(&diag));
        }
        if (t)
            pa_trace_free(t);
        fprintf(f, "%s\n", pa_sbuf_cstr(&line));
        pa_sbuf_free(&line);
        pa_sbuf_free(&diag);
        if (!found++)
            snprintf(first, sizeof first, "%s", path);
    }
    if (d)
        closedir(d);
    if (!found)
        fprintf(f, "pyagent: no trace written to %s/%s (not a Python program? PYAGENT_NON_PYTHON=track traces others)\n",
                o->dir, o->pattern);
    else
        fprintf(f, "pyagent: see `pyagent summary|report|leaks|flamegraph|script %s`\n", first);
    for (size_t i = 0; i < o->nbefore; i++)
        free(o->before[i]);
    free(o->before);
}
