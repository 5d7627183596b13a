/* leaks.c — leak groups, the residue rule, and the text/JSON leak report (also printed
 * by the agent at exit).
 *
 * Residue rule. A Python frame is "user" when its file is not a "<frozen ...>" pseudo-file
 * and not inside the stdlib dir (starts with stdlib_dir + "/" and contains neither
 * "/site-packages/" nor "/dist-packages/"); PY_UNKNOWN frames count as user. Import
 * machinery: "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
 * "<frozen zipimport>", or a path ending in "importlib/_bootstrap.py" or
 * "importlib/_bootstrap_external.py". An interpreter native frame is one whose module is
 * the process exe or whose basename starts with "libpython". A group is SHOWN when it
 * lacks PA_LEAK_STARTUP and either (a) its stack has a user Python frame and no import
 * machinery frame lies between the allocation and the innermost user frame (memory a
 * module keeps from being imported is import residue, even when user code imported it;
 * a user module's own top-level code is user code), or (b) its stack has no Python frame
 * and no interpreter native frame. Without an INTERP record (not a Python process) every
 * group without PA_LEAK_STARTUP is shown: there, the exe is the program itself, not an
 * interpreter. Everything else is residue: hidden unless --all. */
#include <string.h>

#include "idmap.h"
#include "json.h"
#include "leaks.h"
#include "summary.h"
#include "pa_mem.h"

/* Frames one report prints at most: a hostile trace could otherwise turn a few MB of
 * records into gigabytes of output. Stacks past the budget are omitted, not cut. */
#define MAX_REPORT_FRAMES (1u << 22)

/* A reusable frame array, and the report's frame budget. */
struct fbuf {
    struct pa_frame *f;
    size_t cap, n;
    size_t used;
    int omitted; /* the last stack loaded was over budget (n = 0) */
};

static int load_stack(const pa_trace_t *t, uint64_t stack, struct fbuf *b)
{
    size_t depth = pa_trace_stack_depth(t, stack);
    b->n = 0;
    b->omitted = depth > MAX_REPORT_FRAMES - b->used;
    if (b->omitted)
        return 0;
    if (pa_vec_reserve((void **)&b->f, &b->cap, depth, sizeof *b->f) < 0)
        return -1;
    b->n = pa_trace_stack(t, stack, b->f, depth);
    b->used += b->n;
    return 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int is_python(const struct pa_frame *f)
{
    return f->kind == PA_FRAME_PYTHON || f->kind == PA_FRAME_PY_UNKNOWN;
}

static int in_stdlib(const pa_trace_t *t, const char *file)
{
    const char *dir = pa_trace_interp(t)->stdlib_dir;
    size_t n = dir ? strlen(dir) : 0;
    while (n > 0 && dir[n - 1] == '/') /* "/usr/lib/python3.12/" means the same dir */
        n--;
    if (n == 0 || strncmp(file, dir, n) != 0 || file[n] != '/')
        return 0;
    return !strstr(file, "/site-packages/") && !strstr(file, "/dist-packages/");
}

static int is_user(const pa_trace_t *t, const struct pa_frame *f)
{
    if (f->kind == PA_FRAME_PY_UNKNOWN)
        return 1;
    return f->kind == PA_FRAME_PYTHON && !starts_with(f->file, "<frozen ") && !in_stdlib(t, f->file);
}

static int is_import(const struct pa_frame *f)
{
    if (f->kind != PA_FRAME_PYTHON)
        return 0;
    return !strcmp(f->file, "<frozen importlib._bootstrap>") ||
           !strcmp(f->file, "<frozen importlib._bootstrap_external>") ||
           !strcmp(f->file, "<frozen zipimport>") || ends_with(f->file, "importlib/_bootstrap.py") ||
           ends_with(f->file, "importlib/_bootstrap_external.py");
}

static int is_interp_native(const pa_trace_t *t, const struct pa_frame *f)
{
    const char *exe = pa_trace_process(t)->exe;
    if (f->kind != PA_FRAME_NATIVE || !strcmp(f->module, PA_UNKNOWN))
        return 0;
    return (exe && !strcmp(f->module, exe)) || starts_with(base_name(f->module), "libpython");
}

/* What the residue rule needs to know about the frames from a node outward. Computed
 * once per node and memoised, so classifying many groups costs O(nodes), not
 * O(groups x depth), even for hostile traces with long chains. */
enum {
    C_PY = 1,     /* a Python frame */
    C_USER = 2,   /* a user Python frame */
    C_INTERP = 4, /* an interpreter native frame */
    C_IMPORT = 8, /* an import machinery frame lies inward of the innermost user frame */
};

struct classes {
    pa_idmap_t memo; /* node id -> C_* bits */
    uint64_t *ids;
    uint8_t *own;
    size_t cap;
};

static unsigned own_class(const pa_trace_t *t, const struct pa_frame *f)
{
    unsigned c = 0;
    if (is_python(f))
        c |= C_PY | (is_import(f) ? C_IMPORT : 0);
    if (is_user(t, f))
        c |= C_USER;
    if (is_interp_native(t, f))
        c |= C_INTERP;
    return c;
}

static unsigned fold(unsigned own, unsigned outer)
{
    unsigned c = own | (outer & (C_PY | C_USER | C_INTERP));
    if (own & (C_USER | C_IMPORT)) /* the first user or import frame seen decides */
        return c;
    return c | (outer & C_IMPORT);
}

/* C_* bits of a whole stack. @return 0, or -1 when out of memory. */
static int stack_class(const pa_trace_t *t, struct classes *m, uint64_t stack, unsigned *out)
{
    size_t np = 0;
    uint32_t outer = 0;
    uint64_t id = stack, next;
    struct pa_frame f;
    while (id != 0 && pa_idmap_get(&m->memo, id, &outer) < 0) {
        int r = pa_trace_frame(t, id, &f, &next);
        if (np == m->cap) {
            size_t cap = m->cap;
            uint8_t *own;
            if (pa_vec_reserve((void **)&m->ids, &cap, np + 1, sizeof *m->ids) < 0 ||
                !(own = pa_mem_realloc(m->own, cap)))
                return -1;
            m->own = own;
            m->cap = cap;
        }
        m->ids[np] = id;
        m->own[np++] = (uint8_t)own_class(t, &f);
        outer = 0;
        if (r != PA_WALK_NEXT) /* an unknown outer frame adds nothing */
            break;
        id = next;
    }
    while (np > 0) {
        np--;
        outer = fold(m->own[np], outer);
        if (pa_idmap_put(&m->memo, m->ids[np], outer) < 0)
            return -1;
    }
    *out = outer;
    return 0;
}

static void classes_free(struct classes *m)
{
    pa_idmap_free(&m->memo);
    pa_mem_free(m->ids);
    pa_mem_free(m->own);
}

static int residue_of(const pa_trace_t *t, unsigned c, uint64_t flags)
{
    if (flags & PA_LEAK_STARTUP)
        return 1;
    if (!pa_trace_interp(t)->present)
        return 0;
    if ((c & C_USER) && !(c & C_IMPORT))
        return 0;
    return (c & (C_PY | C_INTERP)) != 0;
}

int pa_leaks_is_residue(const pa_trace_t *t, uint64_t stack, uint64_t flags)
{
    struct classes m = { 0 };
    unsigned c;
    int r = stack_class(t, &m, stack, &c) < 0 ? -1 : residue_of(t, c, flags);
    classes_free(&m);
    return r;
}

static int by_key(const void *a, const void *b)
{
    const struct pa_leak_group *x = a, *y = b;
    if (x->stack != y->stack)
        return x->stack < y->stack ? -1 : 1;
    return (x->flags > y->flags) - (x->flags < y->flags);
}

static int by_size(const void *a, const void *b)
{
    const struct pa_leak_group *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return by_key(a, b);
}

/* LEAK records of one checkpoint kind, merged per (stack, flags). */
static int from_records(pa_trace_t *t, struct pa_leak_set *s)
{
    const struct pa_leak *l;
    size_t nl = pa_trace_leaks(t, &l);
    uint64_t kind = 0;
    for (size_t i = 0; i < nl; i++)
        if (l[i].checkpoint == PA_CP_EXIT || (kind != PA_CP_EXIT && l[i].checkpoint > kind))
            kind = l[i].checkpoint;
    if (!(s->groups = pa_mem_calloc(nl ? nl : 1, sizeof *s->groups)))
        return -1;
    for (size_t i = 0; i < nl; i++)
        if (l[i].checkpoint == kind)
            s->groups[s->n++] = (struct pa_leak_group){ l[i].stack, l[i].bytes, l[i].count, l[i].flags, 0 };
    pa_vec_sort(s->groups, s->n, sizeof *s->groups, by_key);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && by_key(&s->groups[w - 1], &s->groups[i]) == 0) {
            s->groups[w - 1].bytes += s->groups[i].bytes;
            s->groups[w - 1].count += s->groups[i].count;
        } else {
            s->groups[w++] = s->groups[i];
        }
    }
    s->n = w;
    return 0;
}

static int from_replay(pa_trace_t *t, struct pa_leak_set *s)
{
    const struct pa_replay *r = pa_trace_replay(t);
    if (!(s->groups = pa_mem_calloc(r->ngroups ? r->ngroups : 1, sizeof *s->groups)))
        return -1;
    for (size_t i = 0; i < r->ngroups; i++)
        s->groups[i] = (struct pa_leak_group){ r->groups[i].stack, r->groups[i].bytes, r->groups[i].count, 0, 0 };
    s->n = r->ngroups;
    return 0;
}

static int classify(pa_trace_t *t, struct pa_leak_set *s)
{
    struct classes m = { 0 };
    for (size_t i = 0; i < s->n; i++) {
        struct pa_leak_group *g = &s->groups[i];
        unsigned c;
        if (stack_class(t, &m, g->stack, &c) < 0) {
            classes_free(&m);
            return -1;
        }
        g->residue = residue_of(t, c, g->flags);
        if (g->residue)
            s->hidden++, s->hidden_bytes += g->bytes, s->hidden_count += g->count;
        else
            s->shown++, s->shown_bytes += g->bytes, s->shown_count += g->count;
    }
    classes_free(&m);
    return 0;
}

int pa_leaks_collect(pa_trace_t *t, struct pa_leak_set *s)
{
    const struct pa_leak *l;
    memset(s, 0, sizeof *s);
    pa_trace_finish(t);
    s->complete = pa_trace_complete(t);
    int have_records = pa_trace_leaks(t, &l) > 0;
    s->source = have_records ? PA_LEAKS_RECORDS : pa_trace_replay(t)->ngroups ? PA_LEAKS_REPLAY : PA_LEAKS_NONE;
    int rc = have_records ? from_records(t, s) : from_replay(t, s);
    if (rc == 0) {
        pa_vec_sort(s->groups, s->n, sizeof *s->groups, by_size);
        rc = classify(t, s);
    }
    if (rc < 0)
        pa_leaks_set_free(s);
    return rc;
}

void pa_leaks_set_free(struct pa_leak_set *s)
{
    pa_mem_free(s->groups);
    memset(s, 0, sizeof *s);
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}


static void text_frame(pa_sbuf_t *o, const struct pa_frame *f)
{
    pa_sbuf_puts(o, "    ");
    if (f->kind == PA_FRAME_ALLOCATOR)
        pa_sbuf_puts(o, f->function);
    else if (f->kind == PA_FRAME_PYTHON && f->line)
        pa_sbuf_printf(o, "%s  %s:%llu", f->function, f->file, (unsigned long long)f->line);
    else if (f->kind == PA_FRAME_PYTHON)
        pa_sbuf_printf(o, "%s  %s", f->function, f->file);
    else if (f->kind == PA_FRAME_PY_UNKNOWN)
        pa_sbuf_puts(o, "<unknown python frame>");
    else if (f->kind == PA_FRAME_NATIVE && f->function)
        pa_sbuf_printf(o, "%s  (%s)", f->function, base_name(f->module));
    else if (f->kind == PA_FRAME_NATIVE)
        pa_sbuf_printf(o, "%s+0x%llx", base_name(f->module), (unsigned long long)f->module_offset);
    else
        pa_sbuf_puts(o, PA_UNKNOWN);
    pa_sbuf_putc(o, '\n');
}

/* Innermost first. Unless full: runs of interpreter frames become one line, and the
 * native frames beyond the outermost Python frame (process start-up) one more. */
static void text_stack(pa_sbuf_t *o, const pa_trace_t *t, const struct pa_frame *f, size_t n, int full)
{
    size_t outer = n;
    for (size_t i = 0; i < n; i++)
        if (is_python(&f[i]))
            outer = i;
    for (size_t i = 0; i < n;) {
        if (!full && outer < n && i > outer) {
            pa_sbuf_printf(o, "    [%zu more native %s]\n", n - i, plural(n - i, "frame", "frames"));
            return;
        }
        size_t j = i;
        while (!full && j < n && is_interp_native(t, &f[j]))
            j++;
        if (j > i) {
            pa_sbuf_printf(o, "    [%zu interpreter %s]\n", j - i, plural(j - i, "frame", "frames"));
            i = j;
            continue;
        }
        text_frame(o, &f[i++]);
    }
}

static void text_group(pa_sbuf_t *o, const pa_trace_t *t, const struct pa_leak_set *s, size_t rank,
                       const struct pa_leak_group *g, const struct fbuf *b, int full)
{
    pa_sbuf_printf(o, "#%zu  ", rank);
    pa_sbuf_num(o, g->bytes);
    pa_sbuf_printf(o, " bytes in ");
    pa_sbuf_num(o, g->count);
    pa_sbuf_printf(o, " %s, %s", plural(g->count, "block", "blocks"),
                   s->source == PA_LEAKS_REPLAY ? "live at last event"
                   : (g->flags & PA_LEAK_FREED_AT_SHUTDOWN) ? "live at program end, freed at shutdown"
                                                            : "never freed");
    if (g->flags & PA_LEAK_STARTUP)
        pa_sbuf_puts(o, " (startup)");
    if (g->flags & PA_LEAK_SHUTDOWN)
        pa_sbuf_puts(o, " (during shutdown)");
    if (g->residue)
        pa_sbuf_puts(o, " (residue)");
    pa_sbuf_putc(o, '\n');
    if (b->omitted)
        pa_sbuf_puts(o, "    [stack omitted: the report is too large]\n");
    text_stack(o, t, b->f, b->n, full);
}

static void text_head(pa_sbuf_t *o, const pa_trace_t *t, const struct pa_leak_set *s, int all,
                      const char *opt_trace_path)
{
    size_t n = all ? s->n : s->shown;
    char num[PA_NUM_BUFLEN];
    uint64_t bytes = s->shown_bytes + (all ? s->hidden_bytes : 0);
    uint64_t count = s->shown_count + (all ? s->hidden_count : 0);
    pa_sbuf_puts(o, "pyagent: leak report for ");
    pa_summary_process_line(o, t);
    if (n == 0) {
        pa_sbuf_puts(o, ": no leaks\n");
    } else {
        pa_sbuf_printf(o, ": %s %s, ", pa_fmt_num(num, n), plural(n, "leak", "leaks"));
        pa_sbuf_num(o, bytes);
        pa_sbuf_puts(o, " bytes in ");
        pa_sbuf_num(o, count);
        pa_sbuf_printf(o, " %s", plural(count, "block", "blocks"));
        if (all && s->hidden)
            pa_sbuf_printf(o, " (%s of them residue)", pa_fmt_num(num, s->hidden));
        pa_sbuf_putc(o, '\n');
    }
    if (!all && s->hidden) {
        pa_sbuf_puts(o, "pyagent: ");
        pa_sbuf_num(o, s->hidden_bytes);
        pa_sbuf_puts(o, " bytes in ");
        pa_sbuf_num(o, s->hidden_count);
        pa_sbuf_printf(o, " %s from %s %s of interpreter, import and startup residue hidden; ",
                       plural(s->hidden_count, "block", "blocks"), pa_fmt_num(num, s->hidden),
                       plural(s->hidden, "stack", "stacks"));
        if (opt_trace_path) /* printed by the agent at exit: name the command */
            pa_sbuf_printf(o, "`pyagent leaks %s --all` shows them\n", opt_trace_path);
        else
            pa_sbuf_puts(o, "--all shows them\n");
    }
    const struct pa_file_info *fi = pa_trace_file_info(t);
    if (!s->complete && s->source == PA_LEAKS_RECORDS)
        pa_sbuf_puts(o, "pyagent: the trace has leak records but no exit checkpoint (killed while exiting?)\n");
    else if (!s->complete)
        pa_sbuf_printf(o, "pyagent: the process did not finish (killed or still running): %s when the trace ended\n",
                       s->n ? "these blocks were live" : "nothing was live");
    else if (s->source == PA_LEAKS_REPLAY)
        pa_sbuf_puts(o, "pyagent: the trace has no leak records: these blocks were live at its last event\n");
    if (s->complete && fi->present && !fi->have_end)
        pa_sbuf_puts(o, "pyagent: trace incomplete: no end frame (the agent did not finish writing it)\n");
}

static int render_text(pa_trace_t *t, const struct pa_leak_set *s, const struct pa_leaks_opts *o, pa_sbuf_t *out)
{
    struct fbuf b = { 0 };
    size_t rank = 0;
    uint64_t rest_bytes = 0, rest_count = 0, rest = 0;
    text_head(out, t, s, o->all, o->trace_path);
    for (size_t i = 0; i < s->n; i++) {
        const struct pa_leak_group *g = &s->groups[i];
        if (g->residue && !o->all)
            continue;
        if (o->top > 0 && rank >= (size_t)o->top) {
            rest++, rest_bytes += g->bytes, rest_count += g->count;
            continue;
        }
        if (load_stack(t, g->stack, &b) < 0) {
            pa_mem_free(b.f);
            return -1;
        }
        text_group(out, t, s, ++rank, g, &b, o->full_stacks);
    }
    pa_mem_free(b.f);
    if (rest) {
        pa_sbuf_puts(out, "pyagent: ");
        pa_sbuf_num(out, rest);
        pa_sbuf_printf(out, " more %s not shown: ", plural(rest, "leak", "leaks"));
        pa_sbuf_num(out, rest_bytes);
        pa_sbuf_puts(out, " bytes in ");
        pa_sbuf_num(out, rest_count);
        pa_sbuf_printf(out, " %s\n", plural(rest_count, "block", "blocks"));
    }
    if (o->trace_path)
        pa_sbuf_printf(out, "pyagent: trace: %s\n", o->trace_path);
    return out->failed ? -1 : 0;
}

static void json_frame(pa_sbuf_t *o, const struct pa_frame *f)
{
    if (f->kind == PA_FRAME_PYTHON) {
        pa_sbuf_puts(o, "{\"kind\": \"python\", \"function\": ");
        pa_json_strz(o, f->function);
        pa_sbuf_puts(o, ", \"file\": ");
        pa_json_strz(o, f->file);
        pa_sbuf_printf(o, ", \"line\": %llu}", (unsigned long long)f->line);
    } else if (f->kind == PA_FRAME_PY_UNKNOWN) {
        pa_sbuf_puts(o, "{\"kind\": \"python\", \"function\": null, \"file\": null, \"line\": null}");
    } else if (f->kind == PA_FRAME_NATIVE) {
        pa_sbuf_puts(o, "{\"kind\": \"native\", \"function\": ");
        pa_json_strz(o, f->function);
        pa_sbuf_puts(o, ", \"module\": ");
        pa_json_strz(o, base_name(f->module));
        pa_sbuf_puts(o, ", \"path\": ");
        pa_json_strz(o, f->module);
        pa_sbuf_printf(o, ", \"offset\": %llu}", (unsigned long long)f->module_offset);
    } else if (f->kind == PA_FRAME_ALLOCATOR) {
        pa_sbuf_puts(o, "{\"kind\": \"allocator\", \"function\": ");
        pa_json_strz(o, f->function);
        pa_sbuf_putc(o, '}');
    } else {
        pa_sbuf_puts(o, "{\"kind\": \"unknown\"}");
    }
}

static void json_group(pa_sbuf_t *o, const struct pa_leak_group *g, const struct fbuf *b)
{
    pa_sbuf_printf(o, "{\"bytes\": %llu, \"count\": %llu, \"freed_at_shutdown\": ", (unsigned long long)g->bytes,
                   (unsigned long long)g->count);
    pa_json_bool(o, (g->flags & PA_LEAK_FREED_AT_SHUTDOWN) != 0);
    pa_sbuf_puts(o, ", \"residue\": ");
    pa_json_bool(o, g->residue);
    pa_sbuf_puts(o, ", \"stack\": [");
    for (size_t i = 0; i < b->n; i++) {
        if (i)
            pa_sbuf_puts(o, ", ");
        json_frame(o, &b->f[i]);
    }
    pa_sbuf_puts(o, "]}");
}

static int render_json(pa_trace_t *t, const struct pa_leak_set *s, const struct pa_leaks_opts *o, pa_sbuf_t *out)
{
    struct fbuf b = { 0 };
    size_t rank = 0;
    pa_sbuf_puts(out, "{\"leaks\": [");
    for (size_t i = 0; i < s->n; i++) {
        const struct pa_leak_group *g = &s->groups[i];
        if ((g->residue && !o->all) || (o->top > 0 && rank >= (size_t)o->top))
            continue;
        if (load_stack(t, g->stack, &b) < 0) {
            pa_mem_free(b.f);
            return -1;
        }
        if (rank++)
            pa_sbuf_puts(out, ", ");
        json_group(out, g, &b);
    }
    pa_mem_free(b.f);
    uint64_t hb = o->all ? 0 : s->hidden_bytes, hc = o->all ? 0 : s->hidden_count;
    pa_sbuf_printf(out, "], \"total_bytes\": %llu, \"total_count\": %llu, \"hidden_bytes\": %llu, "
                        "\"hidden_count\": %llu, \"complete\": ",
                   (unsigned long long)(s->shown_bytes + s->hidden_bytes - hb),
                   (unsigned long long)(s->shown_count + s->hidden_count - hc), (unsigned long long)hb,
                   (unsigned long long)hc);
    pa_json_bool(out, s->complete);
    pa_sbuf_puts(out, "}\n");
    return out->failed ? -1 : 0;
}

int pa_leaks_render(pa_trace_t *t, const struct pa_leaks_opts *o, pa_sbuf_t *out)
{
    struct pa_leak_set s;
    if (pa_leaks_collect(t, &s) < 0)
        return -1;
    int rc = o->json ? render_json(t, &s, o, out) : render_text(t, &s, o, out);
    pa_leaks_set_free(&s);
    return rc;
}
