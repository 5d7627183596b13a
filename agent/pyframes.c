/* pyframes.c — reading a thread's Python frames straight from the interpreter's
 * frame chain (no per-call hook, so no cost per Python call), and naming code
 * objects once each. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"
#include "map.h"
#include "python.h"
#include "tables.h"

static pa_map_t functions; /* code object -> function id; under the tables lock */
static char cwd[PATH_MAX];

void pa_py_set_cwd(const char *dir) { strncpy(cwd, dir, sizeof cwd - 1); }

#define AT(base, off, type) (*(type *)((char *)(base) + (off)))

/* ---- reading the frame chain ----
 * Synchronous walks (allocation hooks) read memory directly: at a call into the
 * allocator every frame of the chain is complete. A signal may land anywhere,
 * though, and on 3.11 and 3.12 _PyEval_EvalFrameDefault installs its _PyCFrame in
 * the thread state a few instructions before it sets that cframe's current_frame:
 * a sample landing there reads an uninitialised pointer. So the signal-time walk on
 * those versions copies each frame and code header with process_vm_readv on the
 * process itself, which fails with EFAULT instead of faulting. 3.8-3.10 and 3.13
 * link a frame only once it is complete, and are read directly. */

typedef int (*copy_fn)(void *dst, const void *src, size_t n);

static int copy_direct(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    return 0;
}

static int self_pid;

static int copy_checked(void *dst, const void *src, size_t n)
{
    struct iovec local = { dst, n }, remote = { (void *)src, n };
    if ((uintptr_t)src < 4096 || ((uintptr_t)src & 7))
        return -1;
    return syscall(SYS_process_vm_readv, self_pid, &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

int pa_py_signal_walk_init(void)
{
    self_pid = getpid();
    uint64_t probe = 0x5a5a, got = 0;
    return copy_checked(&got, &probe, sizeof got) == 0 && got == probe ? 0 : -1;
}

#define FRAME_SPAN 128 /* more than any frame field read, in every version */

/* The bytes of a frame header the walk reads: copying more could run off the end
 * of a mapping. */
static size_t frame_span(const pa_pylayout_t *L)
{
    int end = L->fr_back + 8;
    int fields[] = { L->fr_code + 8, L->fr_lasti + 8, L->fr_owner + 1, L->fr_is_entry + 1 };
    for (unsigned i = 0; i < PA_ARRAY_LEN(fields); i++)
        end = fields[i] > end ? fields[i] : end;
    return (size_t)(end + 7) & ~(size_t)7;
}
#define GET(buf, off, type) (*(type *)((char *)(buf) + (off)))

static char *first_frame(const pa_pylayout_t *L, char *ts, copy_fn copy)
{
    char *f = NULL;
    if (L->ts_cframe >= 0) {
        char *cf = AT(ts, L->ts_cframe, char *);
        if (!cf || copy(&f, cf + L->cf_current, sizeof f) != 0)
            return NULL;
        return f;
    }
    return AT(ts, L->ts_frame, char *);
}

static int32_t frame_offset(const pa_pylayout_t *L, const char *hdr, char *code)
{
    switch (L->lasti_kind) {
    case PA_LASTI_BYTES:
        return GET(hdr, L->fr_lasti, int);
    case PA_LASTI_UNITS:
        return GET(hdr, L->fr_lasti, int) * 2;
    default: /* prev_instr / instr_ptr, relative to the first code unit */
        return (int32_t)(GET(hdr, L->fr_lasti, char *) - (code + L->co_code_adaptive));
    }
}

static int is_code(char *code, copy_fn copy)
{
    void *head[2]; /* refcount, type */
    return code && copy(head, code, sizeof head) == 0 && head[1] == pa_py.code_type && head[0] != NULL;
}

static int walk(pa_pyframe_t *out, int max, copy_fn copy)
{
    const pa_pylayout_t *L = pa_py.layout;
    char *ts = pa_py.GILState_GetThisThreadState();
    if (!ts || !L)
        return 0;
    int n = 0;
    char hdr[FRAME_SPAN];
    size_t span = frame_span(L);
    /* The chain belongs to this thread, so it cannot change under us; the type
     * check still guards against a frame that is being set up. */
    for (char *f = first_frame(L, ts, copy); f && n < max; f = GET(hdr, L->fr_back, char *)) {
        if (copy(hdr, f, span) != 0)
            break;
        if (L->fr_owner >= 0 && GET(hdr, L->fr_owner, int8_t) == PA_FRAME_OWNED_BY_CSTACK) {
            if (n)
                out[n - 1].seg_end = 1;
            continue;
        }
        char *code = GET(hdr, L->fr_code, char *);
        if (!is_code(code, copy))
            break;
        out[n].code = (PyObject *)code;
        out[n].offset = frame_offset(L, hdr, code);
        out[n].seg_end = L->fr_is_entry >= 0 ? GET(hdr, L->fr_is_entry, char) != 0 : L->fr_owner < 0;
        n++;
    }
    if (n)
        out[n - 1].seg_end = 1;
    return n;
}

int pa_py_walk(pa_pyframe_t *out, int max) { return walk(out, max, copy_direct); }

int pa_py_walk_signal(pa_pyframe_t *out, int max)
{
    int racy = pa_py.layout && pa_py.layout->ts_cframe >= 0;
    return walk(out, max, racy ? copy_checked : copy_direct);
}

int pa_py_line(const pa_pyframe_t *f) { return pa_py.Code_Addr2Line(f->code, f->offset); }

/* The UTF-8 of a str without the GIL and without allocating: compact ASCII data
 * sits right after the object head, other compact strings may have a UTF-8 copy
 * cached. The bits are PyASCIIObject.state (interned:2, kind:3, compact:1, ascii:1),
 * unchanged from 3.8 to 3.13. NULL when neither applies. */
static const char *raw_utf8(PyObject *s, intptr_t *len)
{
    const pa_pylayout_t *L = pa_py.layout;
    if (!s || AT(s, sizeof(intptr_t), void *) != pa_py.unicode_type)
        return NULL;
    uint32_t state = AT(s, 4 * sizeof(intptr_t), uint32_t);
    if (!(state >> 5 & 1))
        return NULL;
    if (state >> 6 & 1) {
        *len = AT(s, 2 * sizeof(intptr_t), intptr_t);
        return (const char *)s + L->str_ascii_size;
    }
    const char *utf8 = AT(s, L->str_utf8, const char *);
    if (utf8)
        *len = AT(s, L->str_utf8_length, intptr_t);
    return utf8;
}

/* With the GIL the C API may also build a missing UTF-8 copy; the host may be in the
 * middle of handling its own exception, so any error we cause is discarded. */
static const char *utf8_of(PyObject *s, int gil, intptr_t *len)
{
    const char *u = raw_utf8(s, len);
    if (u || !gil || !s)
        return u;
    PyObject *t, *v, *tb;
    pa_py.Err_Fetch(&t, &v, &tb);
    u = pa_py.Unicode_AsUTF8AndSize(s, len);
    pa_py.Err_Clear();
    pa_py.Err_Restore(t, v, tb);
    return u;
}

static uint32_t intern_name(const char *u, intptr_t len, int is_path)
{
    /* 3.8 keeps the script path as typed: make it absolute like 3.9+ does. */
    if (is_path && u[0] != '/' && u[0] != '<' && cwd[0]) {
        char buf[PATH_MAX * 2];
        size_t n = strlen(cwd), m = (size_t)len < PATH_MAX ? (size_t)len : PATH_MAX - 1;
        const char *rel = (m > 2 && u[0] == '.' && u[1] == '/') ? u + 2 : u;
        m -= (size_t)(rel - u);
        memcpy(buf, cwd, n); // NOLINT(bugprone-not-null-terminated-result): a counted string, '/' follows
        buf[n] = '/';
        memcpy(buf + n + 1, rel, m);
        return pa_tab_string(buf, n + 1 + m);
    }
    return pa_tab_string(u, (size_t)len);
}

/* A reference keeps the code object's address from being reused by another code
 * object, which would silently rename frames. Without the GIL an atomic add is used:
 * racing with the host's non-atomic updates it can only be lost (leaving a weak
 * reference), never cost the host one of its own. Immortal objects (3.12+) have a
 * negative low word and are left alone. */
static void keep_alive(PyObject *code, int gil)
{
    if (gil) {
        pa_py.IncRef(code);
        return;
    }
    pa_py_hold(code);
}

void pa_py_hold(PyObject *code)
{
    intptr_t *refcnt = (intptr_t *)code;
    if (*refcnt <= 0 && !(pa_py.minor >= 12 && (int32_t)*refcnt < 0))
        return; /* a freed object (the signal-time walk may meet a stale frame) */
    if (pa_py.minor >= 12 && (int32_t)*refcnt < 0)
        return;
    __atomic_fetch_add(refcnt, 1, __ATOMIC_RELAXED);
}

uint32_t pa_py_function(PyObject *code)
{
    uint32_t id = pa_map_get(&functions, (uintptr_t)code, 0);
    if (id)
        return id;
    const pa_pylayout_t *L = pa_py.layout;
    /* ctypes and other extensions allocate with the GIL released: the frame keeps the
     * code object alive meanwhile, so its immutable names can still be read. */
    int gil = pa_py.GILState_Check();
    intptr_t nlen = 0, flen = 0;
    const char *name = utf8_of(AT(code, L->co_qualname >= 0 ? L->co_qualname : L->co_name, PyObject *), gil, &nlen);
    const char *file = utf8_of(AT(code, L->co_filename, PyObject *), gil, &flen);
    if (!name || !file)
        return 0;
    id = pa_tab_function(intern_name(name, nlen, 0), intern_name(file, flen, 1),
                         (uint32_t)AT(code, L->co_firstlineno, int));
    if (!id || pa_map_put(&functions, (uintptr_t)code, 0, id) != 0)
        return 0;
    keep_alive(code, gil);
    return id;
}

/* A C function, keyed by its PyMethodDef (shared by every bound copy of a builtin
 * method): "owner.name", owner a module or type name. GIL held. */
uint32_t pa_py_c_function(const void *def, const char *owner)
{
    uint32_t id = pa_map_get(&functions, (uintptr_t)def, 1);
    if (id)
        return id;
    const char *name = *(const char *const *)def; /* PyMethodDef.ml_name */
    char full[512];
    int n = snprintf(full, sizeof full, "%s%s%s", owner ? owner : "", owner ? "." : "", name ? name : "?");
    if (n < 0)
        return 0;
    id = pa_tab_function(pa_tab_string(full, (size_t)n < sizeof full ? (size_t)n : sizeof full - 1), 0, 0);
    if (id)
        pa_map_put(&functions, (uintptr_t)def, 1, id);
    return id;
}

int pa_py_code_names(PyObject *code, const char **qual, intptr_t *qlen, const char **file, intptr_t *flen)
{
    const pa_pylayout_t *L = pa_py.layout;
    if (!L)
        return -1;
    int gil = pa_py.GILState_Check();
    *qual = utf8_of(AT(code, L->co_qualname >= 0 ? L->co_qualname : L->co_name, PyObject *), gil, qlen);
    *file = utf8_of(AT(code, L->co_filename, PyObject *), gil, flen);
    return *qual && *file ? 0 : -1;
}
