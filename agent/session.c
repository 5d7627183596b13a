/* session.c — the process being traced and its checkpoints. */

#include "session.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "common.h"
#include "config.h"
#include "heap.h"
#include "log.h"
#include "mem.h"
#include "python.h"
#include "calltrace.h"
#include "clock.h"
#include "control.h"
#include "count.h"
#include "hooks.h"
#include "sampler.h"
#include "tables.h"
#include "thread.h"
#include "track.h"
#include "unwind.h"
#include "writer.h"

static int pid, ppid, argc_saved, is_python;
static char **argv_saved;
static char exe[PATH_MAX];
static uint64_t start_mono, start_real, activated_ns;
static atomic_int exited;
static int forked; /* a fork child (not the process the agent started in) */

static int copy_argv(int argc, char **argv)
{
    argv_saved = pa_mem_calloc((size_t)argc + 1, sizeof *argv_saved);
    if (!argv_saved)
        return -1;
    for (int i = 0; i < argc; i++)
        if (!(argv_saved[i] = pa_mem_strdup(argv[i])))
            return -1;
    argc_saved = argc;
    return 0;
}

static void process_identity(void)
{
    struct timespec ts;
    pid = getpid();
    ppid = getppid();
    start_mono = pa_now_ns();
    clock_gettime(CLOCK_REALTIME, &ts);
    start_real = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* PYAGENT_FOLLOW=off: the first process that records rewrites the variable its
 * children inherit to PYAGENT_FOLLOW=off:PID, so a process exec'd later with the
 * inherited LD_PRELOAD stays dormant unless it is that very process (an exec of
 * itself keeps the pid: its new image records too). The entry is swapped for a
 * static string before the program copies its environment: nothing is allocated,
 * and the program sees the value its children get. Fork children are copies of the
 * recording process and record. */
static int follow_excluded(void) { return !pa_cfg.follow && pa_cfg.follow_root && pa_cfg.follow_root != getpid(); }

static void follow_claim(char **envp)
{
    static char entry[48];
    if (pa_cfg.follow || pa_cfg.follow_root)
        return;
    snprintf(entry, sizeof entry, "PYAGENT_FOLLOW=off:%d", (int)getpid());
    for (; envp && *envp; envp++)
        if (!strncmp(*envp, "PYAGENT_FOLLOW=", 15))
            *envp = entry;
}

int pa_session_init(int argc, char **argv, char **envp)
{
    char err[256];
    if (pa_config_load(envp, err, sizeof err) != 0) {
        pa_log("%s; agent disabled", err);
        return -1;
    }
    if (!pa_cfg.enable || follow_excluded())
        return -1;
    is_python = pa_py_detect();
    if (!is_python && pa_cfg.non_python == PA_NONPY_DORMANT)
        return -1; /* subprocesses like sh or ls run untouched */
    if (pa_mem_init() != 0 || copy_argv(argc, argv) != 0)
        return -1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    process_identity();
    if (pa_unwind_init() != 0)
        pa_log("cannot locate the agent's own code; stacks may show agent frames");
    if (pa_thread_init() != 0 || pa_heap_init() != 0 || pa_writer_init() != 0) {
        pa_log("cannot set up the agent's state; agent disabled");
        return -1;
    }
    if (is_python) {
        atomic_store(&pa_phase_flags, PA_BLK_STARTUP);
        pa_py_preinit(argc, argv, envp);
    } else {
        pa_writer_allow();
    }
    /* PYAGENT_ALLOC=off still samples the CPU of a Python program. */
    if (!pa_cfg.alloc && !is_python)
        return -1;
    follow_claim(envp);
    return 0;
}

/* The INTERP record: written to the record log at activation and, when known by
 * then, to the file header. */
static void interp_body(pa_rec_t *r)
{
    const char *v = pa_py_version(), *lib = pa_py_stdlib();
    r->n = 0;
    pa_rec_str(r, v, strlen(v));
    pa_rec_u(r, (uint64_t)pa_py.minor);
    pa_rec_str(r, lib, strlen(lib));
    pa_rec_u(r, activated_ns);
}

static void append_tracing(void)
{
    const char *pats[32];
    int n = pa_count_patterns(pats, 32);
    if (!pa_hooks_tracing() && !n && !pa_cfg.start_paused)
        return;
    pa_rec_t r = { 0 };
    unsigned flags = (pa_hooks_tracing() ? PA_TRACE_PYTHON : 0) | (pa_hooks_tracing() && pa_cfg.trace_c ? PA_TRACE_C : 0) |
                     (pa_cfg.start_paused ? PA_TRACE_START_PAUSED : 0);
    pa_rec_u(&r, flags);
    pa_rec_u(&r, (uint64_t)n);
    for (int i = 0; i < n && r.n + strlen(pats[i]) + 16 < sizeof r.b; i++)
        pa_rec_str(&r, pats[i], strlen(pats[i]));
    pa_tables_lock();
    pa_tab_append(PA_REC_TRACING, &r);
    pa_tables_unlock();
}

void pa_session_python_ready(void)
{
    activated_ns = pa_now_ns();
    pa_rec_t r;
    interp_body(&r);
    pa_tables_lock();
    pa_tab_append(PA_REC_INTERP, &r);
    pa_tables_unlock();
    if (pa_cfg.pymalloc && pa_pymem_install() != 0)
        pa_log("cannot wrap the PyMem/PyObject allocators; Python-object tracing off");
    pa_writer_allow();
    pa_control_start();
    pa_sampler_start();
    if (pa_cfg.mode == PA_MODE_TRACE)
        pa_clock_init();
    pa_hooks_start();
    append_tracing();
}

void pa_session_main_starts(void) { atomic_store(&pa_phase_flags, 0); }

static void append_checkpoint(unsigned kind, uint64_t bytes, uint64_t count)
{
    pa_rec_t r = { 0 };
    pa_rec_u(&r, kind);
    pa_rec_u(&r, pa_now_ns());
    pa_rec_u(&r, bytes);
    pa_rec_u(&r, count);
    pa_tables_lock();
    pa_tab_append(PA_REC_CHECKPOINT, &r);
    pa_tables_unlock();
}

/* CPython 3.10's daemon threads, waiting for the GIL, wake every switch interval and
 * read interpreter state that finalisation has freed by the time the ELF destructors
 * run: the longer a process takes to exit after finalisation, the likelier one of
 * them crashes it (a 30 ms sleep in any library's destructor does it without the
 * agent; the exit checkpoint takes about that long). At program end the program's
 * code and atexit handlers are done and only daemon threads are left, which exit
 * instead of taking the GIL once finalisation starts; a long interval makes the ones
 * waiting sleep through the exit instead of waking into freed memory. */
static void quiet_daemon_threads(void)
{
    void (*set_interval)(unsigned long us);
    if (pa_py.minor != 10)
        return;
    *(void **)&set_interval = dlsym(RTLD_DEFAULT, "_PyEval_SetSwitchInterval");
    if (set_interval)
        set_interval(600ul * 1000000);
}

void pa_session_program_end(void)
{
    static atomic_int done;
    if (!pa_tracking() || atomic_exchange(&done, 1))
        return;
    int guard = pa_in_agent;
    pa_in_agent = 1;
    uint64_t bytes, count;
    pa_heap_mark_program_end(&bytes, &count);
    if (!atomic_load(&exited)) /* the interpreter finalises next; not at os._exit or exec */
        quiet_daemon_threads();
    pa_sampler_stop();
    atomic_store(&pa_phase_flags, PA_BLK_SHUTDOWN);
    append_checkpoint(PA_CP_PROGRAM_END, bytes, count);
    pa_in_agent = guard;
}

static void emit_leak(void *ctx, uint32_t stack, uint32_t flags, uint64_t bytes, uint64_t count)
{
    pa_rec_t r = { 0 };
    pa_rec_u(&r, PA_CP_EXIT);
    pa_rec_u(&r, stack);
    pa_rec_u(&r, bytes);
    pa_rec_u(&r, count);
    pa_rec_u(&r, flags);
    pa_tables_lock();
    pa_tab_append(PA_REC_LEAK, &r);
    pa_tables_unlock();
}

static void append_stats(void)
{
    uint64_t allocs, frees, samples;
    pa_thread_totals(&allocs, &frees, &samples);
    pa_tables_lock();
    uint64_t v[PA_STAT__COUNT] = {
        [PA_STAT_AGENT_BYTES] = pa_mem_bytes(), [PA_STAT_AGENT_PEAK] = pa_mem_peak(),
        [PA_STAT_TABLE_BYTES] = pa_heap_table_bytes(), [PA_STAT_ALLOCS] = allocs,
        [PA_STAT_FREES] = frees, [PA_STAT_DROPPED] = pa_writer_dropped(),
        [PA_STAT_STACKS] = pa_tab_node_count(), [PA_STAT_SAMPLES] = samples,
        [PA_STAT_SAMPLES_LOST] = pa_sampler_lost(), [PA_STAT_SAMPLED_THREADS] = pa_sampler_threads(),
    };
    pa_rec_t r = { 0 };
    for (int i = 0; i < PA_STAT__COUNT; i++)
        pa_rec_u(&r, v[i]);
    pa_tab_append(PA_REC_STATS, &r);
    pa_tables_unlock();
}

/* The last checkpoint: leak records, final chunk and, when report is set, the leak
 * report. The caller won the `exited` flag. */
static void finish(int report)
{
    int guard = pa_in_agent;
    pa_in_agent = 1;
    pa_session_program_end(); /* os._exit and C exits skip the Python checkpoint */
    pa_sampler_stop();
    pa_calls_flush_all(); /* no other thread runs Python any more, or it is this one's exit */
    atomic_store(&pa_state, PA_STATE_FINISHED);
    pa_heap_leaks(emit_leak, NULL);
    uint64_t bytes, count;
    pa_heap_totals(&bytes, &count);
    append_checkpoint(PA_CP_EXIT, bytes, count);
    append_stats();
    pa_writer_finish();
    uint8_t head[8192];
    if (report && pa_cfg.alloc)
        pa_report_leaks(head, pa_session_header(head, sizeof head, 0));
    pa_in_agent = guard;
}

void pa_session_exit(void)
{
    /* A vfork child shares our memory and must not touch the parent's state; and an
     * exit from a signal handler that interrupted this thread inside the agent would
     * wait forever for a lock the thread itself holds. */
    if (!pa_tracking() || pa_in_agent || getpid() != pid || atomic_exchange(&exited, 1))
        return;
    finish(1);
}

/* No leak report at exec: the process goes on as another program, whose stderr (a
 * pipe its parent reads, often) is not ours to write into; the trace has the leaks.
 * A fork child that execs before its first flush created its file gets no trace:
 * that is subprocess's child between fork and exec (running preexec_fn, say), not a
 * process of the program's own. */
int pa_session_exec(void)
{
    if (!pa_tracking() || pa_in_agent || getpid() != pid)
        return 0;
    if (forked && !pa_writer_last_path())
        return 0;
    if (atomic_exchange(&exited, 1))
        return 0;
    int saved = errno;
    finish(0);
    errno = saved;
    return 1;
}

const char *pa_session_trace_path(void) { return pa_writer_path(); }

size_t pa_session_header(uint8_t *buf, size_t cap, int with_interp)
{
    pa_rec_t *r = pa_mem_alloc(sizeof *r);
    if (!r)
        return 0;
    size_t n = 0;
    r->n = 0;
    pa_rec_u(r, (uint64_t)pid);
    pa_rec_u(r, (uint64_t)ppid);
    pa_rec_u(r, start_mono);
    pa_rec_u(r, start_real);
    int shown = 0; /* argv is cut rather than overflow the record */
    for (size_t used = r->n + strlen(exe) + 3 * PA_VARINT_MAX; shown < argc_saved; shown++) {
        used += strlen(argv_saved[shown]) + PA_VARINT_MAX;
        if (used > PA_STR_MAX)
            break;
    }
    pa_rec_u(r, (uint64_t)shown);
    for (int i = 0; i < shown; i++)
        pa_rec_str(r, argv_saved[i], strlen(argv_saved[i]));
    pa_rec_str(r, exe, strlen(exe));
    if (PA_REC_FRAMED(r) <= cap)
        n += pa_rec_frame(buf, PA_REC_PROCESS, r);
    if (with_interp && atomic_load(&pa_py_ready)) {
        interp_body(r);
        if (n + PA_REC_FRAMED(r) <= cap)
            n += pa_rec_frame(buf + n, PA_REC_INTERP, r);
    }
    pa_mem_free(r);
    return n;
}

const char *pa_session_module_name(const char *f)
{
    if (!f || !f[0] || (argc_saved && !strcmp(f, argv_saved[0])))
        return exe;
    return f;
}

/* ---- fork: every agent lock is taken before and released after, so the child
 * never inherits one held by a thread that does not exist there. The order is the
 * one every path nests them in: writer, registry, tables, heap, queue (a thread's
 * buffer lock sits between heap and queue; the child resets those). ---- */

void pa_session_fork_prepare(void)
{
    pa_unwind_fork_prepare(); /* first: an unwind in flight takes no agent lock */
    pa_writer_fork_prepare();
    pa_thread_fork_prepare();
    pa_tables_lock();
    pa_heap_lock_all();
    pa_writer_fork_prepare_queue();
}

void pa_session_fork_parent(void)
{
    pa_writer_fork_parent_queue();
    pa_heap_unlock_all();
    pa_tables_unlock();
    pa_thread_fork_parent();
    pa_writer_fork_parent();
    pa_unwind_fork_parent();
}

void pa_session_fork_child(void)
{
    pa_heap_unlock_all();
    pa_tables_reset_lock();
    pa_thread_fork_child();
    pa_writer_fork_child();
    process_identity();
    forked = 1;
    pa_heap_set_inherited_before(start_mono);
    pa_calls_fork_child();
    pa_sampler_fork_child();
    pa_unwind_fork_child();
}
