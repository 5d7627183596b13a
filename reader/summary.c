/* summary.c — `pyagent summary`: what a trace holds, at a glance (text) or for scripts
 * (JSON). Everything comes from the model; nothing here decodes bytes. */
#include <stdio.h>
#include <string.h>

#include "counted.h"
#include "json.h"
#include "summary.h"

#define LABEL "%-21s"

static const char *const stat_names[PA_STAT__COUNT] = {
    [PA_STAT_AGENT_BYTES] = "agent_bytes", [PA_STAT_AGENT_PEAK] = "agent_peak",
    [PA_STAT_TABLE_BYTES] = "table_bytes", [PA_STAT_ALLOCS] = "allocs",
    [PA_STAT_FREES] = "frees",             [PA_STAT_DROPPED] = "dropped",
    [PA_STAT_STACKS] = "stacks",           [PA_STAT_SAMPLES] = "samples",
    [PA_STAT_SAMPLES_LOST] = "samples_lost", [PA_STAT_SAMPLED_THREADS] = "sampled_threads",
};

char *pa_fmt_utc(char out[PA_UTC_BUFLEN], uint64_t real_ns)
{
    /* Civil-from-days (H. Hinnant), so the agent needs no gmtime and no tz files. */
    uint64_t secs = real_ns / 1000000000u, days = secs / 86400, sod = secs % 86400;
    int64_t z = (int64_t)days + 719468, era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, PA_UTC_BUFLEN, "%04lld-%02lld-%02lldT%02u:%02u:%02u.%06uZ", (long long)y, (long long)m,
             (long long)d, (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60),
             (unsigned)(real_ns % 1000000000u / 1000));
    return out;
}

/* Start of the process to its exit checkpoint, else to the last thing seen. */
static int duration(const pa_trace_t *t, uint64_t *ns, int *to_exit)
{
    const struct pa_process *p = pa_trace_process(t);
    const struct pa_checkpoint_info *cp = pa_trace_checkpoint(t, PA_CP_EXIT);
    uint64_t end = cp->present ? cp->t_ns : pa_trace_last_ns(t);
    *to_exit = cp->present;
    if (!p->present || end < p->start_mono_ns)
        return -1;
    *ns = end - p->start_mono_ns;
    return 0;
}

static uint64_t stat_or(const pa_trace_t *t, unsigned i, int *have)
{
    size_t n;
    const uint64_t *v = pa_trace_stats(t, &n);
    *have = i < n;
    return i < n ? v[i] : 0;
}

static void text_bytes(pa_sbuf_t *o, const char *label, uint64_t bytes, uint64_t count)
{
    pa_sbuf_printf(o, LABEL, label);
    pa_sbuf_num(o, bytes);
    pa_sbuf_puts(o, " bytes in ");
    pa_sbuf_num(o, count);
    pa_sbuf_puts(o, count == 1 ? " block\n" : " blocks\n");
}

static void text_completeness(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    int exit_cp = pa_trace_complete(t), end = !fi->present || fi->have_end;
    pa_sbuf_printf(o, LABEL, "complete");
    if (exit_cp && end)
        pa_sbuf_puts(o, "yes\n");
    else
        pa_sbuf_printf(o, "no: %s (the process was killed or is still running)\n",
                       !end && !exit_cp ? "no end frame, no exit checkpoint"
                       : !end           ? "no end frame"
                                        : "no exit checkpoint");
}

static void text_process(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_process *p = pa_trace_process(t);
    const struct pa_interp *in = pa_trace_interp(t);
    char when[PA_UTC_BUFLEN];
    if (p->present) {
        pa_sbuf_printf(o, LABEL "pid %llu, ppid %llu\n" LABEL, "process", (unsigned long long)p->pid,
                       (unsigned long long)p->ppid, "argv");
        for (size_t i = 0; i < p->argc; i++)
            pa_sbuf_printf(o, "%s%s", i ? " " : "", p->argv[i]);
        pa_sbuf_printf(o, "\n" LABEL "%s\n" LABEL "%s\n", "exe", p->exe, "started",
                       pa_fmt_utc(when, p->start_real_ns));
    } else {
        pa_sbuf_printf(o, LABEL "unknown (no process record)\n", "process");
    }
    if (in->present)
        pa_sbuf_printf(o, LABEL "Python %s\n" LABEL "%s\n", "interpreter", in->version, "stdlib", in->stdlib_dir);
    else
        pa_sbuf_printf(o, LABEL "none seen (not a Python process, or it never got ready)\n", "interpreter");
    uint64_t ns;
    int to_exit;
    if (duration(t, &ns, &to_exit) == 0)
        pa_sbuf_printf(o, LABEL "%llu.%03llu s (%s)\n", "duration", (unsigned long long)(ns / 1000000000u),
                       (unsigned long long)(ns / 1000000u % 1000u), to_exit ? "to exit" : "to the last event");
}

static void text_threads(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_thread *th;
    size_t n = pa_trace_threads(t, &th);
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, LABEL "%s\n", "threads", pa_fmt_num(num, n));
    for (size_t i = 0; i < n; i++)
        pa_sbuf_printf(o, "  #%-18llu tid %llu%s%s\n", (unsigned long long)th[i].serial,
                       (unsigned long long)th[i].tid, th[i].name ? "  " : "", th[i].name ? th[i].name : "");
}

static void text_events(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_counts *c = pa_trace_counts(t);
    const struct pa_replay *r = pa_trace_replay(t);
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, LABEL, "events");
    pa_sbuf_num(o, c->allocs);
    pa_sbuf_puts(o, " alloc, ");
    pa_sbuf_num(o, c->frees);
    pa_sbuf_printf(o, " free, %s checkpoints, ", pa_fmt_num(num, c->checkpoints));
    pa_sbuf_printf(o, "%s leak records\n" LABEL, pa_fmt_num(num, c->leak_records), "allocated");
    pa_sbuf_num(o, c->alloc_bytes);
    pa_sbuf_puts(o, " bytes\n");
    text_bytes(o, r->truncated ? "peak live (partial)" : "peak live", r->peak_bytes, r->peak_count);
    for (unsigned k = PA_CP_PROGRAM_END; k <= PA_CP_EXIT; k++) {
        const struct pa_checkpoint_info *cp = pa_trace_checkpoint(t, k);
        if (cp->present)
            text_bytes(o, k == PA_CP_EXIT ? "live at exit" : "live at program end", cp->live_bytes, cp->live_count);
    }
}

static void text_agent(pa_sbuf_t *o, const pa_trace_t *t)
{
    int h0, h1, h2, hs, hd;
    uint64_t now = stat_or(t, PA_STAT_AGENT_BYTES, &h0), peak = stat_or(t, PA_STAT_AGENT_PEAK, &h1);
    uint64_t table = stat_or(t, PA_STAT_TABLE_BYTES, &h2), stacks = stat_or(t, PA_STAT_STACKS, &hs);
    uint64_t dropped = stat_or(t, PA_STAT_DROPPED, &hd);
    char num[PA_NUM_BUFLEN];
    if (h0 && h1 && h2) {
        pa_sbuf_printf(o, LABEL, "agent memory");
        pa_sbuf_num(o, now);
        pa_sbuf_puts(o, " bytes at exit, peak ");
        pa_sbuf_num(o, peak);
        pa_sbuf_puts(o, ", allocation table ");
        pa_sbuf_num(o, table);
        pa_sbuf_putc(o, '\n');
    }
    pa_sbuf_printf(o, LABEL, "stacks");
    pa_sbuf_num(o, hs ? stacks : pa_trace_node_count(t));
    pa_sbuf_puts(o, " nodes interned\n");
    if (hd && dropped)
        pa_sbuf_printf(o, LABEL "%s events not written by the agent\n", "dropped", pa_fmt_num(num, dropped));
}

/* What the samples add up to: per event totals and the threads they came from. */
struct sample_sums {
    uint64_t total[PA_SAMPLE_MAX_EVENTS];
    uint64_t threads;
};

static void sum_samples(const pa_trace_t *t, struct sample_sums *m)
{
    const struct pa_sample *s;
    size_t n = pa_trace_samples(t, &s), ne = pa_trace_sampling(t)->n;
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < n; i++) {
        m->threads += i == 0 || s[i].serial != s[i - 1].serial; /* sorted by thread */
        for (size_t e = 0; e < ne; e++)
            m->total[e] += pa_trace_sample_value(t, &s[i], e);
    }
}

static const char *leader_name(const struct pa_sampling *sp)
{
    for (size_t i = 0; i < sp->n; i++)
        if (sp->ev[i].flags & PA_EVF_LEADER)
            return sp->ev[i].name;
    return sp->n ? sp->ev[0].name : "the leader event";
}

static void text_sampling_head(pa_sbuf_t *o, const struct pa_sampling *sp)
{
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, LABEL, "sampling");
    if (sp->mode == PA_SAMPLE_FREQ)
        pa_sbuf_printf(o, "%s Hz of %s", pa_fmt_num(num, sp->rate), leader_name(sp));
    else if (sp->mode == PA_SAMPLE_PERIOD)
        pa_sbuf_printf(o, "every %s %s", pa_fmt_num(num, sp->rate), leader_name(sp));
    else
        pa_sbuf_printf(o, "mode %llu, rate %s", (unsigned long long)sp->mode, pa_fmt_num(num, sp->rate));
    pa_sbuf_printf(o, " (signal %llu)\n", (unsigned long long)sp->signal);
}

static void text_samples(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_sampling *sp = pa_trace_sampling(t);
    const struct pa_counts *c = pa_trace_counts(t);
    struct sample_sums m;
    char num[PA_NUM_BUFLEN];
    int hl;
    uint64_t lost = stat_or(t, PA_STAT_SAMPLES_LOST, &hl);
    if (!sp->present && c->samples == 0) {
        pa_sbuf_printf(o, LABEL "off\n", "sampling");
        return;
    }
    if (sp->present)
        text_sampling_head(o, sp);
    sum_samples(t, &m);
    pa_sbuf_printf(o, LABEL "%s", "samples", pa_fmt_num(num, c->samples));
    pa_sbuf_printf(o, " in %s %s", pa_fmt_num(num, m.threads), m.threads == 1 ? "thread" : "threads");
    if (hl && lost)
        pa_sbuf_printf(o, ", %s lost", pa_fmt_num(num, lost));
    if (c->samples_not_kept)
        pa_sbuf_printf(o, ", %s not analysed (memory cap)", pa_fmt_num(num, c->samples_not_kept));
    pa_sbuf_putc(o, '\n');
    for (size_t e = 0; e < sp->n; e++) {
        const struct pa_sample_event *ev = &sp->ev[e];
        pa_sbuf_printf(o, "  %-19s", ev->name);
        pa_sbuf_puts(o, ev->flags & PA_EVF_TIME ? pa_fmt_ns(num, m.total[e]) : pa_fmt_num(num, m.total[e]));
        pa_sbuf_printf(o, "%s%s\n", ev->flags & PA_EVF_LEADER ? " (leader)" : "",
                       ev->flags & PA_EVF_MULTIPLEXED ? " (multiplexed)" : "");
    }
}

static void text_tracing(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_tracing *tr = pa_trace_tracing(t);
    const struct pa_counts *c = pa_trace_counts(t);
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, LABEL, "tracing");
    if (!tr->present && !c->call_records)
        pa_sbuf_puts(o, "off");
    else if (!tr->present)
        pa_sbuf_puts(o, "set-up unknown (no TRACING record)");
    else
        pa_sbuf_printf(o, "%s%s%s", tr->flags & PA_TRACE_PYTHON ? "Python calls" : "no Python calls",
                       tr->flags & PA_TRACE_C ? ", C calls" : "", tr->flags & PA_TRACE_START_PAUSED ? ", started paused" : "");
    for (size_t i = 0; i < tr->n; i++)
        pa_sbuf_printf(o, "%s%s", i ? ", " : "; counting ", tr->patterns[i]);
    pa_sbuf_putc(o, '\n');
    if (c->call_records) {
        pa_sbuf_printf(o, LABEL "%s", "call events", pa_fmt_num(num, c->call_events));
        pa_sbuf_printf(o, " (%s entries)", pa_fmt_num(num, c->call_enters));
        if (c->call_events_not_kept)
            pa_sbuf_printf(o, ", %s not analysed (memory cap)", pa_fmt_num(num, c->call_events_not_kept));
        pa_sbuf_putc(o, '\n');
    }
    if (c->marks + c->counters + c->regions + c->toggles + c->counted) {
        pa_sbuf_printf(o, LABEL "%s marks, ", "markers", pa_fmt_num(num, c->marks));
        pa_sbuf_printf(o, "%s counter values, ", pa_fmt_num(num, c->counters));
        pa_sbuf_printf(o, "%s region events, ", pa_fmt_num(num, c->regions));
        pa_sbuf_printf(o, "%s pause/resume, ", pa_fmt_num(num, c->toggles));
        pa_sbuf_printf(o, "%s counted calls", pa_fmt_num(num, c->counted));
        if (c->annots_not_kept)
            pa_sbuf_printf(o, " (%s not analysed: memory cap)", pa_fmt_num(num, c->annots_not_kept));
        pa_sbuf_putc(o, '\n');
    }
}

static void text_file(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    if (!fi->present)
        return;
    char num[PA_NUM_BUFLEN];
    pa_sbuf_printf(o, LABEL "%s", "chunks", pa_fmt_num(num, fi->chunks));
    if (fi->bad_chunks)
        pa_sbuf_printf(o, " (+%s bad, skipped)", pa_fmt_num(num, fi->bad_chunks));
    pa_sbuf_puts(o, ", ");
    pa_sbuf_num(o, fi->compressed_bytes);
    pa_sbuf_puts(o, " bytes compressed, ");
    pa_sbuf_num(o, fi->raw_bytes);
    pa_sbuf_puts(o, " raw\n");
}

static void text_list(pa_sbuf_t *o, const char *label, const char *const *v, size_t n, uint64_t total)
{
    if (total == 0)
        return;
    pa_sbuf_printf(o, LABEL "%llu\n", label, (unsigned long long)total);
    for (size_t i = 0; i < n; i++)
        pa_sbuf_printf(o, "  %s\n", v[i]);
    if (total > n)
        pa_sbuf_printf(o, "  ... %llu more\n", (unsigned long long)(total - n));
}

static int render_text(pa_trace_t *t, const struct pa_summary_opts *opt, pa_sbuf_t *o)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    const char *const *v;
    size_t n;
    if (opt->trace_path)
        pa_sbuf_printf(o, LABEL "%s\n", "trace", opt->trace_path);
    if (fi->present) {
        pa_sbuf_printf(o, LABEL "%u.%u, ", "format", fi->major, fi->minor);
        pa_sbuf_num(o, fi->file_bytes);
        pa_sbuf_puts(o, " bytes\n");
    }
    text_completeness(o, t);
    text_process(o, t);
    text_threads(o, t);
    text_events(o, t);
    text_samples(o, t);
    text_tracing(o, t);
    text_agent(o, t);
    text_file(o, t);
    n = pa_trace_notes(t, &v);
    text_list(o, "agent notes", v, n, pa_trace_counts(t)->notes);
    n = pa_trace_diags(t, &v);
    text_list(o, "diagnostics", v, n, pa_trace_diag_count(t));
    if (pa_counted_text(t, NULL, 0, o) < 0)
        return -1;
    return o->failed ? -1 : 0;
}

static void json_u64(pa_sbuf_t *o, const char *key, uint64_t v)
{
    pa_sbuf_printf(o, ", \"%s\": %llu", key, (unsigned long long)v);
}

static void json_strv(pa_sbuf_t *o, const char *key, const char *const *v, size_t n)
{
    pa_sbuf_printf(o, ", \"%s\": [", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            pa_sbuf_puts(o, ", ");
        pa_json_strz(o, v[i]);
    }
    pa_sbuf_putc(o, ']');
}

static void json_live(pa_sbuf_t *o, const char *key, const struct pa_checkpoint_info *cp)
{
    pa_sbuf_printf(o, ", \"%s\": ", key);
    if (cp->present)
        pa_sbuf_printf(o, "{\"bytes\": %llu, \"count\": %llu, \"t_ns\": %llu}", (unsigned long long)cp->live_bytes,
                       (unsigned long long)cp->live_count, (unsigned long long)cp->t_ns);
    else
        pa_sbuf_puts(o, "null");
}

static void json_process(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_process *p = pa_trace_process(t);
    const struct pa_interp *in = pa_trace_interp(t);
    char when[PA_UTC_BUFLEN];
    uint64_t ns;
    int to_exit;
    if (p->present) {
        pa_sbuf_printf(o, ", \"pid\": %llu, \"ppid\": %llu", (unsigned long long)p->pid, (unsigned long long)p->ppid);
        json_strv(o, "argv", (const char *const *)p->argv, p->argc);
        pa_sbuf_puts(o, ", \"exe\": ");
        pa_json_strz(o, p->exe);
        pa_sbuf_printf(o, ", \"start_time\": \"%s\"", pa_fmt_utc(when, p->start_real_ns));
        json_u64(o, "start_real_ns", p->start_real_ns);
        json_u64(o, "start_mono_ns", p->start_mono_ns);
    } else {
        pa_sbuf_puts(o, ", \"pid\": null, \"ppid\": null, \"argv\": [], \"exe\": null, \"start_time\": null");
    }
    pa_sbuf_puts(o, ", \"duration_ns\": ");
    if (duration(t, &ns, &to_exit) == 0)
        pa_sbuf_printf(o, "%llu", (unsigned long long)ns);
    else
        pa_sbuf_puts(o, "null");
    pa_sbuf_puts(o, ", \"interpreter\": ");
    if (in->present) {
        pa_sbuf_puts(o, "{\"version\": ");
        pa_json_strz(o, in->version);
        pa_sbuf_printf(o, ", \"minor\": %llu, \"stdlib\": ", (unsigned long long)in->minor);
        pa_json_strz(o, in->stdlib_dir);
        pa_sbuf_printf(o, ", \"activated_ns\": %llu}", (unsigned long long)in->activated_ns);
    } else {
        pa_sbuf_puts(o, "null");
    }
}

static void json_threads(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_thread *th;
    size_t n = pa_trace_threads(t, &th);
    pa_sbuf_puts(o, ", \"threads\": [");
    for (size_t i = 0; i < n; i++) {
        pa_sbuf_printf(o, "%s{\"serial\": %llu, \"tid\": %llu, \"start_ns\": %llu, \"name\": ", i ? ", " : "",
                       (unsigned long long)th[i].serial, (unsigned long long)th[i].tid,
                       (unsigned long long)th[i].start_ns);
        pa_json_strz(o, th[i].name);
        pa_sbuf_putc(o, '}');
    }
    pa_sbuf_putc(o, ']');
}

static void json_counts(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_counts *c = pa_trace_counts(t);
    const struct pa_replay *r = pa_trace_replay(t);
    size_t ns;
    const uint64_t *st = pa_trace_stats(t, &ns);
    pa_sbuf_printf(o, ", \"events\": {\"alloc\": %llu, \"free\": %llu, \"checkpoints\": %llu, \"leak_records\": %llu}",
                   (unsigned long long)c->allocs, (unsigned long long)c->frees, (unsigned long long)c->checkpoints,
                   (unsigned long long)c->leak_records);
    json_u64(o, "allocated_bytes", c->alloc_bytes);
    json_u64(o, "peak_live_bytes", r->peak_bytes);
    json_u64(o, "peak_live_count", r->peak_count);
    pa_sbuf_puts(o, ", \"peak_partial\": ");
    pa_json_bool(o, r->truncated);
    json_live(o, "live_at_program_end", pa_trace_checkpoint(t, PA_CP_PROGRAM_END));
    json_live(o, "live_at_exit", pa_trace_checkpoint(t, PA_CP_EXIT));
    pa_sbuf_puts(o, ", \"stats\": {");
    for (size_t i = 0; i < ns; i++)
        pa_sbuf_printf(o, "%s\"%s\": %llu", i ? ", " : "", stat_names[i], (unsigned long long)st[i]);
    pa_sbuf_putc(o, '}');
    json_u64(o, "stack_nodes", pa_trace_node_count(t));
}

static void json_sampling(pa_sbuf_t *o, const struct pa_sampling *sp, const struct sample_sums *m)
{
    static const char *const modes[] = { [PA_SAMPLE_FREQ] = "freq", [PA_SAMPLE_PERIOD] = "period" };
    pa_sbuf_puts(o, ", \"sampling\": ");
    if (!sp->present) {
        pa_sbuf_puts(o, "null");
        return;
    }
    pa_sbuf_puts(o, "{\"mode\": ");
    if (sp->mode == PA_SAMPLE_FREQ || sp->mode == PA_SAMPLE_PERIOD)
        pa_sbuf_printf(o, "\"%s\"", modes[sp->mode]);
    else
        pa_sbuf_printf(o, "%llu", (unsigned long long)sp->mode);
    pa_sbuf_printf(o, ", \"rate\": %llu, \"signal\": %llu, \"events\": [", (unsigned long long)sp->rate,
                   (unsigned long long)sp->signal);
    for (size_t e = 0; e < sp->n; e++) {
        const struct pa_sample_event *ev = &sp->ev[e];
        pa_sbuf_puts(o, e ? ", {\"name\": " : "{\"name\": ");
        pa_json_strz(o, ev->name);
        pa_sbuf_printf(o, ", \"type\": %llu, \"config\": %llu, \"leader\": ", (unsigned long long)ev->type,
                       (unsigned long long)ev->config);
        pa_json_bool(o, (ev->flags & PA_EVF_LEADER) != 0);
        pa_sbuf_puts(o, ", \"multiplexed\": ");
        pa_json_bool(o, (ev->flags & PA_EVF_MULTIPLEXED) != 0);
        pa_sbuf_puts(o, ", \"time\": ");
        pa_json_bool(o, (ev->flags & PA_EVF_TIME) != 0);
        pa_sbuf_printf(o, ", \"total\": %llu}", (unsigned long long)m->total[e]);
    }
    pa_sbuf_puts(o, "]}");
}

static void json_samples(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_counts *c = pa_trace_counts(t);
    struct sample_sums m;
    int hl;
    uint64_t lost = stat_or(t, PA_STAT_SAMPLES_LOST, &hl);
    sum_samples(t, &m);
    json_sampling(o, pa_trace_sampling(t), &m);
    pa_sbuf_printf(o, ", \"samples\": {\"count\": %llu, \"not_analysed\": %llu, \"threads\": %llu, \"lost\": ",
                   (unsigned long long)c->samples, (unsigned long long)c->samples_not_kept,
                   (unsigned long long)m.threads);
    if (hl)
        pa_sbuf_printf(o, "%llu}", (unsigned long long)lost);
    else
        pa_sbuf_puts(o, "null}");
}

static int json_tracing(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_tracing *tr = pa_trace_tracing(t);
    const struct pa_counts *c = pa_trace_counts(t);
    pa_sbuf_puts(o, ", \"tracing\": ");
    if (tr->present) {
        pa_sbuf_puts(o, "{\"python\": ");
        pa_json_bool(o, (tr->flags & PA_TRACE_PYTHON) != 0);
        pa_sbuf_puts(o, ", \"c\": ");
        pa_json_bool(o, (tr->flags & PA_TRACE_C) != 0);
        pa_sbuf_puts(o, ", \"start_paused\": ");
        pa_json_bool(o, (tr->flags & PA_TRACE_START_PAUSED) != 0);
        json_strv(o, "count", (const char *const *)tr->patterns, tr->n);
        pa_sbuf_putc(o, '}');
    } else {
        pa_sbuf_puts(o, "null");
    }
    pa_sbuf_printf(o, ", \"trace_events\": {\"call_records\": %llu, \"call_events\": %llu, \"calls\": %llu, "
                      "\"call_events_not_analysed\": %llu, \"marks\": %llu, \"counters\": %llu, \"regions\": %llu, "
                      "\"toggles\": %llu, \"counted\": %llu, \"not_analysed\": %llu}, ",
                   (unsigned long long)c->call_records, (unsigned long long)c->call_events,
                   (unsigned long long)c->call_enters, (unsigned long long)c->call_events_not_kept,
                   (unsigned long long)c->marks, (unsigned long long)c->counters, (unsigned long long)c->regions,
                   (unsigned long long)c->toggles, (unsigned long long)c->counted, (unsigned long long)c->annots_not_kept);
    return pa_counted_json(t, NULL, 0, o);
}

static void json_file(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    const char *const *v;
    size_t n;
    pa_sbuf_puts(o, ", \"end_frame\": ");
    pa_json_bool(o, fi->have_end);
    pa_sbuf_puts(o, ", \"format\": ");
    if (fi->present)
        pa_sbuf_printf(o, "\"%u.%u\"", fi->major, fi->minor);
    else
        pa_sbuf_puts(o, "null");
    json_u64(o, "file_bytes", fi->file_bytes);
    json_u64(o, "chunks", fi->chunks);
    json_u64(o, "bad_chunks", fi->bad_chunks);
    json_u64(o, "compressed_bytes", fi->compressed_bytes);
    json_u64(o, "raw_bytes", fi->raw_bytes);
    n = pa_trace_notes(t, &v);
    json_strv(o, "notes", v, n);
    n = pa_trace_diags(t, &v);
    json_strv(o, "diagnostics", v, n);
    json_u64(o, "diagnostics_total", pa_trace_diag_count(t));
}

static int render_json(pa_trace_t *t, const struct pa_summary_opts *opt, pa_sbuf_t *o)
{
    const struct pa_file_info *fi = pa_trace_file_info(t);
    pa_sbuf_puts(o, "{\"trace\": ");
    pa_json_strz(o, opt->trace_path);
    pa_sbuf_puts(o, ", \"complete\": ");
    pa_json_bool(o, pa_trace_complete(t) && (!fi->present || fi->have_end));
    pa_sbuf_puts(o, ", \"exit_checkpoint\": ");
    pa_json_bool(o, pa_trace_complete(t));
    json_process(o, t);
    json_threads(o, t);
    json_counts(o, t);
    json_samples(o, t);
    if (json_tracing(o, t) < 0)
        return -1;
    json_file(o, t);
    pa_sbuf_puts(o, "}\n");
    return o->failed ? -1 : 0;
}

int pa_summary_render(pa_trace_t *t, const struct pa_summary_opts *o, pa_sbuf_t *out)
{
    pa_trace_finish(t);
    return o->json ? render_json(t, o, out) : render_text(t, o, out);
}

int pa_summary_duration(const pa_trace_t *t, uint64_t *ns, int *to_exit)
{
    return duration(t, ns, to_exit);
}

/* "pid 1234 (python3 leaky.py)", argv cut short so the line stays readable. */
void pa_summary_process_line(pa_sbuf_t *o, const pa_trace_t *t)
{
    const struct pa_process *p = pa_trace_process(t);
    if (!p->present) {
        pa_sbuf_puts(o, "an unknown process");
        return;
    }
    pa_sbuf_printf(o, "pid %llu", (unsigned long long)p->pid);
    if (p->argc == 0)
        return;
    size_t start = o->len;
    pa_sbuf_puts(o, " (");
    for (size_t i = 0; i < p->argc && o->len - start < 100; i++)
        pa_sbuf_printf(o, "%s%.100s", i ? " " : "", p->argv[i]);
    if (o->len - start > 100 && !o->failed) {
        o->len = start + 100;
        pa_sbuf_puts(o, "...");
    }
    /* one line: `python -c` code spans several */
    for (size_t i = start; i < o->len && !o->failed; i++)
        if ((unsigned char)o->buf[i] < 0x20)
            o->buf[i] = ' ';
    pa_sbuf_putc(o, ')');
}
