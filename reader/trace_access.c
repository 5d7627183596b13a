/* trace_access.c — the trace model's lifecycle, id resolution after feeding (stack
 * trees, threads), and read access. Feeding lives in trace.c, replay in replay.c. */
#include <string.h>

#include "pa_mem.h"
#include "trace_int.h"

pa_trace_t *pa_trace_new(void)
{
    pa_trace_t *t = pa_mem_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pa_table_init(&t->strings, sizeof(char *));
    pa_table_init(&t->funcs, sizeof(struct pa_func));
    pa_table_init(&t->natives, sizeof(struct pa_native));
    pa_table_init(&t->nodes, sizeof(struct pa_node));
    pa_table_init(&t->threads, sizeof(struct pa_thread));
    pa_table_init(&t->thread_last, sizeof(uint64_t));
    return t;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        pa_mem_free(v[i]);
    pa_mem_free(v);
}

void pa_trace_free(pa_trace_t *t)
{
    if (!t)
        return;
    free_strv(t->proc.argv, t->proc.argc);
    pa_mem_free(t->proc.exe);
    pa_mem_free(t->interp.version);
    pa_mem_free(t->interp.stdlib_dir);
    for (size_t i = 0; i < t->strings.n; i++)
        pa_mem_free(*(char **)pa_table_at(&t->strings, i));
    pa_table_free(&t->strings);
    pa_table_free(&t->funcs);
    pa_table_free(&t->natives);
    pa_table_free(&t->nodes);
    pa_table_free(&t->threads);
    pa_mem_free(t->leaks);
    for (size_t i = 0; i < t->nevrecs; i++)
        pa_mem_free(t->evrecs[i].body);
    pa_mem_free(t->evrecs);
    free_strv(t->notes, t->nnotes);
    free_strv(t->diags, t->ndiags);
    for (size_t i = 0; i < t->sampling.n; i++)
        pa_mem_free(t->sampling.ev[i].name);
    pa_mem_free(t->samples);
    pa_mem_free(t->svals);
    pa_mem_free(t->thread_view);
    pa_replay_clear(&t->replay);
    pa_trace_calls_free(t);
    pa_mem_free(t);
}

static struct pa_node *node_at(const pa_trace_t *t, size_t i)
{
    return pa_table_at(&t->nodes, i);
}

/* Depth of the walk outward from n, given its parent is resolved. */
static uint32_t depth_of(const pa_trace_t *t, const struct pa_node *n)
{
    if (n->parent_ix == PA_NODE_ROOT)
        return 1;
    if (n->parent_ix == PA_NODE_UNKNOWN)
        return 2; /* the unknown parent shows as one "<unknown>" frame */
    return node_at(t, (size_t)n->parent_ix)->depth + 1;
}

/* Follows the parent chain from node i, cutting a cycle where it closes, then
 * assigns depths back along the path. path holds at least nodes.n entries. */
static void resolve_chain(pa_trace_t *t, size_t i, uint8_t *state, uint32_t *path)
{
    enum { NEW, ON_PATH, DONE };
    size_t np = 0, j = i;
    while (state[j] == NEW) {
        state[j] = ON_PATH;
        path[np++] = (uint32_t)j;
        int64_t p = node_at(t, j)->parent_ix;
        if (p < 0)
            break;
        if (state[p] == ON_PATH) {
            node_at(t, j)->parent_ix = PA_NODE_UNKNOWN;
            break;
        }
        j = (size_t)p;
    }
    while (np > 0) {
        struct pa_node *n = node_at(t, path[--np]);
        n->depth = depth_of(t, n);
        state[path[np]] = DONE;
    }
}

static int resolve_nodes(pa_trace_t *t)
{
    size_t n = t->nodes.n;
    uint8_t *state = pa_mem_calloc(n, 1);
    uint32_t *path = pa_mem_calloc(n, sizeof *path);
    if (!state || !path) {
        pa_mem_free(state);
        pa_mem_free(path);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        struct pa_node *nd = node_at(t, i);
        uint32_t pi;
        if (nd->parent == 0)
            nd->parent_ix = PA_NODE_ROOT;
        else if (pa_idmap_get(&t->nodes.ids, nd->parent, &pi) == 0)
            nd->parent_ix = pi;
        else
            nd->parent_ix = PA_NODE_UNKNOWN;
    }
    for (size_t i = 0; i < n; i++)
        resolve_chain(t, i, state, path);
    pa_mem_free(state);
    pa_mem_free(path);
    return 0;
}

static int thread_cmp(const void *a, const void *b)
{
    const struct pa_thread *x = a, *y = b;
    return (x->serial > y->serial) - (x->serial < y->serial);
}

static int build_threads(pa_trace_t *t)
{
    size_t n = t->threads.n;
    pa_mem_free(t->thread_view);
    t->thread_view = NULL;
    if (!n)
        return 0;
    if (!(t->thread_view = pa_mem_calloc(n, sizeof *t->thread_view)))
        return -1;
    memcpy(t->thread_view, t->threads.items, n * sizeof *t->thread_view);
    for (size_t i = 0; i < n; i++)
        t->thread_view[i].name = pa_trace_string(t, t->thread_view[i].name_sid);
    pa_vec_sort(t->thread_view, n, sizeof *t->thread_view, thread_cmp);
    return 0;
}

/* voff grows in file order, so it makes the order total (pa_vec_sort is not stable). */
static int sample_cmp(const void *a, const void *b)
{
    const struct pa_sample *x = a, *y = b;
    if (x->serial != y->serial)
        return x->serial < y->serial ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->voff > y->voff) - (x->voff < y->voff);
}

void pa_trace_finish(pa_trace_t *t)
{
    if (t->finished)
        return;
    /* Out of memory here degrades the view (no stacks, no threads, no replay) but
     * every accessor stays safe: stack walks check t->finished. */
    t->finished = resolve_nodes(t) == 0;
    build_threads(t);
    pa_vec_sort(t->samples, t->nsamples, sizeof *t->samples, sample_cmp);
    pa_trace_calls_finish(t);
    pa_replay_clear(&t->replay);
    pa_replay_run(t);
    t->replay.truncated = t->ev_truncated;
}

const struct pa_process *pa_trace_process(const pa_trace_t *t) { return &t->proc; }
const struct pa_interp *pa_trace_interp(const pa_trace_t *t) { return &t->interp; }
const struct pa_counts *pa_trace_counts(const pa_trace_t *t) { return &t->counts; }
const struct pa_replay *pa_trace_replay(const pa_trace_t *t) { return &t->replay; }
const struct pa_file_info *pa_trace_file_info(const pa_trace_t *t) { return &t->file; }
struct pa_file_info *pa_trace_file(pa_trace_t *t) { return &t->file; }
uint64_t pa_trace_last_ns(const pa_trace_t *t) { return t->last_ns; }
size_t pa_trace_node_count(const pa_trace_t *t) { return t->nodes.n; }
uint64_t pa_trace_diag_count(const pa_trace_t *t) { return t->diag_count; }

const struct pa_sampling *pa_trace_sampling(const pa_trace_t *t) { return &t->sampling; }

size_t pa_trace_samples(const pa_trace_t *t, const struct pa_sample **out)
{
    *out = t->samples;
    return t->nsamples;
}

uint64_t pa_trace_sample_value(const pa_trace_t *t, const struct pa_sample *s, size_t i)
{
    return i < s->n ? t->svals[s->voff + i] : 0;
}

const struct pa_checkpoint_info *pa_trace_checkpoint(const pa_trace_t *t, unsigned kind)
{
    static const struct pa_checkpoint_info none;
    return kind == PA_CP_PROGRAM_END || kind == PA_CP_EXIT ? &t->cp[kind] : &none;
}

int pa_trace_complete(const pa_trace_t *t)
{
    return t->cp[PA_CP_EXIT].present;
}

const char *pa_trace_string(const pa_trace_t *t, uint64_t sid)
{
    if (sid == 0)
        return NULL;
    char **s = pa_table_get(&t->strings, sid);
    return s ? *s : PA_UNKNOWN;
}

size_t pa_trace_threads(const pa_trace_t *t, const struct pa_thread **out)
{
    *out = t->thread_view;
    return t->thread_view ? t->threads.n : 0;
}

size_t pa_trace_leaks(const pa_trace_t *t, const struct pa_leak **out)
{
    *out = t->leaks;
    return t->nleaks;
}

size_t pa_trace_notes(const pa_trace_t *t, const char *const **out)
{
    *out = (const char *const *)t->notes;
    return t->nnotes;
}

size_t pa_trace_diags(const pa_trace_t *t, const char *const **out)
{
    *out = (const char *const *)t->diags;
    return t->ndiags;
}

const uint64_t *pa_trace_stats(const pa_trace_t *t, size_t *n)
{
    *n = t->nstats;
    return t->stats;
}

int pa_trace_add_diag(pa_trace_t *t, const char *msg)
{
    t->diag_count++;
    if (t->ndiags >= PA_MAX_MESSAGES)
        return 0;
    char *s = pa_mem_strdup(msg);
    if (!s || pa_vec_reserve((void **)&t->diags, &t->diags_cap, t->ndiags + 1, sizeof *t->diags) < 0) {
        pa_mem_free(s);
        return -1;
    }
    t->diags[t->ndiags++] = s;
    return 0;
}

const char *pa_allocator_name(uint64_t a)
{
    static const char *const names[PA_ALLOC__COUNT] = {
        [PA_ALLOC_MALLOC] = "malloc", [PA_ALLOC_CALLOC] = "calloc", [PA_ALLOC_REALLOC] = "realloc",
        [PA_ALLOC_REALLOCARRAY] = "reallocarray", [PA_ALLOC_POSIX_MEMALIGN] = "posix_memalign",
        [PA_ALLOC_ALIGNED_ALLOC] = "aligned_alloc", [PA_ALLOC_MEMALIGN] = "memalign",
        [PA_ALLOC_VALLOC] = "valloc", [PA_ALLOC_PVALLOC] = "pvalloc",
        [PA_ALLOC_PYMEM_MALLOC] = "PyMem_Malloc", [PA_ALLOC_PYMEM_CALLOC] = "PyMem_Calloc",
        [PA_ALLOC_PYMEM_REALLOC] = "PyMem_Realloc", [PA_ALLOC_PYOBJECT_MALLOC] = "PyObject_Malloc",
        [PA_ALLOC_PYOBJECT_CALLOC] = "PyObject_Calloc", [PA_ALLOC_PYOBJECT_REALLOC] = "PyObject_Realloc",
    };
    return a > 0 && a < PA_ALLOC__COUNT ? names[a] : PA_UNKNOWN;
}

static const char *str_or_unknown(const pa_trace_t *t, uint64_t sid)
{
    const char *s = pa_trace_string(t, sid);
    return s ? s : PA_UNKNOWN;
}

static void fill_frame(const pa_trace_t *t, const struct pa_node *n, uint64_t id, struct pa_frame *f)
{
    memset(f, 0, sizeof *f);
    f->node = id;
    f->kind = (unsigned)(n->kind <= 0xffff ? n->kind : 0xffff);
    f->a = n->a, f->b = n->b;
    if (n->kind == PA_FRAME_PYTHON) {
        const struct pa_func *fn = pa_table_get(&t->funcs, n->a);
        f->function = fn ? str_or_unknown(t, fn->name) : PA_UNKNOWN;
        f->file = fn ? str_or_unknown(t, fn->file) : PA_UNKNOWN;
        f->line = n->b;
        f->first_line = fn ? fn->firstlineno : 0;
    } else if (n->kind == PA_FRAME_NATIVE) {
        const struct pa_native *nv = pa_table_get(&t->natives, n->a);
        f->module = nv ? str_or_unknown(t, nv->module) : PA_UNKNOWN;
        f->function = nv ? pa_trace_string(t, nv->symbol) : NULL;
        f->module_offset = nv ? nv->module_off : 0;
        f->symbol_offset = nv ? nv->symbol_off : 0;
    } else if (n->kind == PA_FRAME_ALLOCATOR) {
        f->function = pa_allocator_name(n->a);
    }
}

int pa_trace_frame(const pa_trace_t *t, uint64_t id, struct pa_frame *f, uint64_t *next)
{
    const struct pa_node *n = t->finished ? pa_table_get(&t->nodes, id) : NULL;
    *next = 0;
    if (!n) {
        memset(f, 0, sizeof *f);
        f->node = id;
        return PA_WALK_END;
    }
    fill_frame(t, n, id, f);
    if (n->parent_ix == PA_NODE_ROOT)
        return PA_WALK_END;
    /* A cut cycle also ends in an unknown frame, named by the parent id. */
    if (n->parent_ix == PA_NODE_UNKNOWN) {
        *next = n->parent;
        return PA_WALK_UNKNOWN;
    }
    *next = node_at(t, (size_t)n->parent_ix)->id;
    return PA_WALK_NEXT;
}

size_t pa_trace_stack_depth(const pa_trace_t *t, uint64_t stack)
{
    if (stack == 0 || !t->finished)
        return 0;
    const struct pa_node *n = pa_table_get(&t->nodes, stack);
    size_t d = n ? n->depth : 1;
    return d < PA_STACK_MAX_DEPTH ? d : PA_STACK_MAX_DEPTH;
}

size_t pa_trace_stack(const pa_trace_t *t, uint64_t stack, struct pa_frame *out, size_t max)
{
    size_t k = 0;
    uint64_t id = stack, next;
    if (!t->finished || stack == 0)
        return 0;
    while (k < max) {
        int r = pa_trace_frame(t, id, &out[k++], &next);
        if (r == PA_WALK_END)
            break;
        if (r == PA_WALK_UNKNOWN && k < max) {
            memset(&out[k], 0, sizeof out[k]);
            out[k++].node = next;
            break;
        }
        id = next;
    }
    return k;
}
