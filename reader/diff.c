/* diff.c — `pyagent diff`: the tables of two traces side by side. Functions are matched
 * by name, file and first line; one whose first line moved (an edit above it) is still
 * matched when its name and file are unique among the unmatched on both sides. The
 * noise model is in diff_noise.c. */
#include <string.h>
#include <strings.h>

#include "diff_int.h"
#include "idmap.h"
#include "pa_mem.h"
#include "summary.h"

/* ---- matching ---- */

static int cmp_str(const char *a, const char *b)
{
    return a == b ? 0 : !a ? -1 : !b ? 1 : strcmp(a, b);
}

static int key_cmp(const struct pa_diff_item *x, const struct pa_diff_item *y, int with_line)
{
    int c = cmp_str(x->name, y->name);
    if (!c)
        c = cmp_str(x->file, y->file);
    if (!c && with_line)
        c = (x->line > y->line) - (x->line < y->line);
    return c;
}

static int by_key(const void *a, const void *b)
{
    return key_cmp(a, b, 1);
}

/* Sorts by key and sums items with equal keys (leak groups of one site, say). */
static void fold(struct pa_diff_items *it)
{
    size_t w = 0;
    pa_vec_sort(it->v, it->n, sizeof *it->v, by_key);
    for (size_t i = 0; i < it->n; i++) {
        struct pa_diff_item *x = &it->v[i], *prev = w ? &it->v[w - 1] : NULL;
        if (!prev || key_cmp(prev, x, 1) != 0) {
            it->v[w++] = *x;
            continue;
        }
        for (size_t k = 0; k < PA_DIFF_MAX_MEAS; k++)
            prev->v[k] += x->v[k], prev->var[k] += x->var[k], prev->n[k] += x->n[k];
    }
    it->n = w;
}

static void set_meas(struct pa_diff_meas *m, const struct pa_diff_item *a, const struct pa_diff_item *b, size_t k,
                     int exact)
{
    m->v[0] = a ? a->v[k] : 0, m->var[0] = a ? a->var[k] : 0, m->n[0] = a ? a->n[k] : 0;
    m->v[1] = b ? b->v[k] : 0, m->var[1] = b ? b->var[k] : 0, m->n[1] = b ? b->n[k] : 0;
    m->exact = exact;
}

static int add_row(struct pa_diff_table *tb, size_t *cap, const struct pa_diff_item *a, const struct pa_diff_item *b)
{
    const struct pa_diff_item *id = b ? b : a;
    if (pa_vec_reserve((void **)&tb->rows, cap, tb->nrows + 1, sizeof *tb->rows) < 0)
        return -1;
    struct pa_diff_row *r = &tb->rows[tb->nrows++];
    memset(r, 0, sizeof *r);
    r->name = id->name, r->file = id->file, r->line = id->line;
    r->in[0] = a != NULL, r->in[1] = b != NULL;
    for (size_t k = 0; k < tb->nmeas; k++)
        set_meas(&r->m[k], a, b, k, tb->exact[k]);
    return 0;
}

static size_t group_end(const struct pa_diff_items *it, size_t i)
{
    size_t j = i + 1;
    while (j < it->n && key_cmp(&it->v[i], &it->v[j], 0) == 0)
        j++;
    return j;
}

/* The only unmatched item of [i, end), or SIZE_MAX when none or several. */
static size_t sole_unmatched(const char *used, size_t i, size_t end)
{
    size_t hit = SIZE_MAX, n = 0;
    for (; i < end; i++)
        if (!used[i])
            hit = i, n++;
    return n == 1 ? hit : SIZE_MAX;
}

/* Pass 2: same name and file, first line moved. */
static int match_moved(struct pa_diff_table *tb, size_t *cap, const struct pa_diff_items *a,
                       const struct pa_diff_items *b, char *ua, char *ub)
{
    for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
        int c = key_cmp(&a->v[i], &b->v[j], 0);
        size_t ie = c <= 0 ? group_end(a, i) : i, je = c >= 0 ? group_end(b, j) : j;
        if (c == 0) {
            size_t x = sole_unmatched(ua, i, ie), y = sole_unmatched(ub, j, je);
            if (x != SIZE_MAX && y != SIZE_MAX) {
                if (add_row(tb, cap, &a->v[x], &b->v[y]) < 0)
                    return -1;
                ua[x] = ub[y] = 1;
            }
        }
        i = ie, j = je;
    }
    return 0;
}

static int match(struct pa_diff_table *tb, struct pa_diff_items *a, struct pa_diff_items *b)
{
    size_t cap = 0;
    fold(a);
    fold(b);
    char *ua = pa_mem_calloc(a->n + 1, 1), *ub = pa_mem_calloc(b->n + 1, 1);
    int rc = ua && ub ? 0 : -1;
    for (size_t i = 0, j = 0; rc == 0 && i < a->n && j < b->n;) {
        int c = key_cmp(&a->v[i], &b->v[j], 1);
        if (c == 0 && (rc = add_row(tb, &cap, &a->v[i], &b->v[j])) == 0)
            ua[i] = ub[j] = 1;
        i += c <= 0, j += c >= 0;
    }
    if (rc == 0)
        rc = match_moved(tb, &cap, a, b, ua, ub);
    for (size_t i = 0; rc == 0 && i < a->n; i++)
        if (!ua[i])
            rc = add_row(tb, &cap, &a->v[i], NULL);
    for (size_t j = 0; rc == 0 && j < b->n; j++)
        if (!ub[j])
            rc = add_row(tb, &cap, NULL, &b->v[j]);
    for (size_t k = 0; k < tb->nmeas; k++)
        set_meas(&tb->totals[k], &a->total, &b->total, k, tb->exact[k]);
    set_meas(&tb->peak, &(struct pa_diff_item){ .v = { a->peak } }, &(struct pa_diff_item){ .v = { b->peak } }, 0, 1);
    pa_mem_free(ua);
    pa_mem_free(ub);
    return rc;
}

/* ---- tables ---- */

static struct pa_diff_table *new_table(struct pa_diff *d, enum pa_diff_table_kind kind)
{
    size_t cap = d->ntables; /* grows by one: tables are few */
    if (pa_vec_reserve((void **)&d->tables, &cap, d->ntables + 1, sizeof *d->tables) < 0)
        return NULL;
    struct pa_diff_table *tb = &d->tables[d->ntables++];
    memset(tb, 0, sizeof *tb);
    tb->kind = kind;
    return tb;
}

typedef int (*collect_fn)(struct pa_diff_side *s, void *arg, struct pa_diff_items *out);

/* A table from both sides' items. */
static int add_table(struct pa_diff *d, const struct pa_diff_table *shape, collect_fn fn, void *arg0, void *arg1)
{
    struct pa_diff_items it[2] = { { 0 }, { 0 } };
    int rc = fn(&d->side[0], arg0, &it[0]);
    if (rc == 0)
        rc = fn(&d->side[1], arg1, &it[1]);
    struct pa_diff_table *tb = rc == 0 ? new_table(d, shape->kind) : NULL;
    if (tb) {
        *tb = *shape;
        rc = match(tb, &it[0], &it[1]);
    }
    for (size_t k = 0; tb && rc == 0 && k < tb->nmeas; k++)
        if (!tb->exact[k])
            rc = pa_diff_calibrate(tb, k, d->raw);
    pa_diff_items_free(&it[0]);
    pa_diff_items_free(&it[1]);
    return tb ? rc : -1;
}

/* Arguments of one side's sampled table. */
struct sampled_arg {
    int e;
    const double *self_sq, *total_sq;
};

static int collect_sampled(struct pa_diff_side *s, void *arg, struct pa_diff_items *out)
{
    const struct sampled_arg *a = arg;
    return pa_diff_sampled_items(s, a->e, a->self_sq, a->total_sq, out);
}

static int collect_calls(struct pa_diff_side *s, void *arg, struct pa_diff_items *out)
{
    return arg ? pa_diff_call_items(s->t, out) : pa_diff_counted_items(s->t, out);
}

static int collect_alloc(struct pa_diff_side *s, void *arg, struct pa_diff_items *out)
{
    (void)arg;
    return pa_diff_alloc_items(s, out);
}

static int collect_leaks(struct pa_diff_side *s, void *arg, struct pa_diff_items *out)
{
    return pa_diff_leak_items(s->t, arg != NULL, out);
}

int pa_diff_event_is(const char *name, const char *want)
{
    return want && (!strcmp(name, want) || !strcasecmp(name, want));
}

static int sampled_table(struct pa_diff *d, double *const sq[2][2], int e0, int e1, int cpu)
{
    const struct pa_prof_event *ev = &d->side[0].prof.events[e0];
    enum pa_diff_unit u = ev->flags & PA_EVF_TIME ? PA_DIFF_NS : PA_DIFF_COUNT;
    struct pa_diff_table shape = { .kind = PA_DIFF_SAMPLED, .event = ev->name, .cpu = cpu, .nmeas = 2,
                                   .meas = { "self", "total" }, .unit = { u, u } };
    struct sampled_arg a0 = { e0, sq[0][0], sq[0][1] }, a1 = { e1, sq[1][0], sq[1][1] };
    return add_table(d, &shape, collect_sampled, &a0, &a1);
}

/* The event of side 1 named like side 0's event e (not its CPU event), or -1. */
static int same_event(const struct pa_diff *d, int e)
{
    const struct pa_profile *p = &d->side[1].prof;
    for (size_t i = 0; i < p->nevents; i++)
        if ((int)i != d->side[1].cpu_event && !strcmp(p->events[i].name, d->side[0].prof.events[e].name))
            return (int)i;
    return -1;
}

static void note_unmatched_events(struct pa_diff *d, int side)
{
    const struct pa_profile *p = &d->side[side].prof;
    size_t n = 0;
    for (size_t i = 0; i < p->nevents; i++) {
        const struct pa_profile *q = &d->side[!side].prof;
        int found = (int)i == d->side[side].cpu_event && d->side[!side].cpu_event >= 0;
        for (size_t j = 0; j < q->nevents && !found; j++)
            found = !strcmp(q->events[j].name, p->events[i].name);
        if (!found)
            pa_sbuf_printf(&d->notes, "%s%s", n++ ? ", " : side ? "events only in the new trace: "
                                                                : "events only in the baseline: ",
                           p->events[i].name);
    }
    if (n)
        pa_sbuf_putc(&d->notes, '\n');
}

/* Every event both traces have, the CPU event first; --event only filters the output,
 * so --fail-if can check any of them. */
static int sampled_tables(struct pa_diff *d)
{
    double *sq[2][2] = { { NULL, NULL }, { NULL, NULL } };
    const struct pa_diff_side *s0 = &d->side[0], *s1 = &d->side[1];
    int rc = pa_diff_squares(&d->side[0], &sq[0][0], &sq[0][1]);
    if (rc == 0)
        rc = pa_diff_squares(&d->side[1], &sq[1][0], &sq[1][1]);
    if (rc == 0 && s0->cpu_event >= 0 && s1->cpu_event >= 0)
        rc = sampled_table(d, sq, s0->cpu_event, s1->cpu_event, 1);
    for (size_t e = 0; rc == 0 && e < s0->prof.nevents; e++) {
        int e1 = (int)e == s0->cpu_event ? -1 : same_event(d, (int)e);
        if (e1 >= 0)
            rc = sampled_table(d, sq, (int)e, e1, 0);
    }
    note_unmatched_events(d, 0);
    note_unmatched_events(d, 1);
    for (int i = 0; i < 2; i++)
        pa_mem_free(sq[i][0]), pa_mem_free(sq[i][1]);
    return rc;
}

/* ---- sides ---- */

static int setup_side(struct pa_diff_side *s, pa_trace_t *t, const char *path)
{
    const struct pa_counts *c;
    struct pa_profile_opts po = { 0 };
    int to_exit;
    pa_trace_finish(t);
    c = pa_trace_counts(t);
    s->path = path, s->t = t;
    s->have_duration = pa_summary_duration(t, &s->duration_ns, &to_exit) == 0;
    s->have_calls = c->call_records > 0;
    s->have_counted = c->counted > 0;
    s->have_alloc = c->allocs > 0;
    if (pa_profile_build(t, &po, &s->prof) < 0)
        return -1;
    s->cpu_event = -1;
    for (size_t e = 0; e < s->prof.nevents && s->cpu_event < 0; e++)
        if (s->prof.events[e].flags & PA_EVF_TIME)
            s->cpu_event = (int)e;
    return 0;
}

/* --event must name the CPU event or an event of either trace. */
static int check_event(const struct pa_diff *d, const char *name, pa_sbuf_t *err)
{
    if (!name || !strcasecmp(name, "cpu"))
        return 0;
    for (int i = 0; i < 2; i++)
        for (size_t e = 0; e < d->side[i].prof.nevents; e++)
            if (pa_diff_event_is(d->side[i].prof.events[e].name, name))
                return 0;
    pa_sbuf_printf(err, "no event named %s; events: cpu", name);
    for (int i = 0; i < 2; i++)
        for (size_t e = 0; e < d->side[i].prof.nevents; e++)
            if (i == 0 || pa_profile_event(&d->side[0].prof, d->side[1].prof.events[e].name) < 0)
                pa_sbuf_printf(err, ", %s", d->side[i].prof.events[e].name);
    pa_sbuf_putc(err, '\n');
    return -2;
}

static void note_missing(struct pa_diff *d, int have0, int have1, const char *what)
{
    if (have0 != have1)
        pa_sbuf_printf(&d->notes, "%s: only the %s has them\n", what, have0 ? "baseline" : "new trace");
}

static int other_tables(struct pa_diff *d, const struct pa_diff_opts *o)
{
    struct pa_diff_side *s0 = &d->side[0], *s1 = &d->side[1];
    int trace_mode = s0->have_calls && s1->have_calls, rc = 0;
    if (trace_mode || (s0->have_counted && s1->have_counted)) {
        struct pa_diff_table shape = { .kind = PA_DIFF_CALLS, .source = trace_mode ? "trace" : "counted", .nmeas = 3,
                                       .meas = { "time", "calls", "time_per_call" },
                                       .unit = { PA_DIFF_NS, PA_DIFF_COUNT, PA_DIFF_NS }, .exact = { 0, 1, 0 } };
        rc = add_table(d, &shape, collect_calls, trace_mode ? d : NULL, trace_mode ? d : NULL);
    } else {
        note_missing(d, s0->have_calls, s1->have_calls, "call times (trace mode)");
        note_missing(d, s0->have_counted, s1->have_counted, "counted calls (PYAGENT_COUNT)");
    }
    note_missing(d, s0->have_alloc, s1->have_alloc, "allocations and leaks");
    if (rc < 0 || !s0->have_alloc || !s1->have_alloc)
        return rc;
    struct pa_diff_table alloc = { .kind = PA_DIFF_ALLOC, .nmeas = 2, .meas = { "bytes", "blocks" },
                                   .unit = { PA_DIFF_BYTES, PA_DIFF_COUNT }, .exact = { 1, 1 } };
    rc = add_table(d, &alloc, collect_alloc, NULL, NULL);
    struct pa_diff_table leaks = alloc;
    leaks.kind = PA_DIFF_LEAKS;
    if (rc == 0)
        rc = add_table(d, &leaks, collect_leaks, o->all ? d : NULL, o->all ? d : NULL);
    return rc;
}

int pa_diff_build(pa_trace_t *base, const char *base_path, pa_trace_t *cur, const char *cur_path,
                  const struct pa_diff_opts *o, struct pa_diff *d, pa_sbuf_t *err)
{
    memset(d, 0, sizeof *d);
    pa_sbuf_init(&d->notes);
    d->raw = o->raw;
    int rc = setup_side(&d->side[0], base, base_path);
    if (rc == 0)
        rc = setup_side(&d->side[1], cur, cur_path);
    if (rc == 0)
        rc = check_event(d, o->event, err);
    if (rc == 0)
        rc = sampled_tables(d);
    if (rc == 0)
        rc = other_tables(d, o);
    if (rc == 0 && d->notes.failed)
        rc = -1;
    return rc;
}

void pa_diff_free(struct pa_diff *d)
{
    for (size_t i = 0; i < d->ntables; i++)
        pa_mem_free(d->tables[i].rows);
    pa_mem_free(d->tables);
    pa_profile_free(&d->side[0].prof);
    pa_profile_free(&d->side[1].prof);
    pa_sbuf_free(&d->notes);
    memset(d, 0, sizeof *d);
}
