"""Threads: hundreds of short-lived threads, threads started from C (a C library's own
and libc's pthread_create called through ctypes with a Python callback), daemon and
detached threads still running at exit, thread pools; and the agent's memory does not
grow with the number of threads that have ended.

test_agent.py runs 300 threads once and checks one native thread's leak; these cases
check every thread is seen (summary, leaks, trace-mode calls), in sampling and trace
mode, and measure the agent's memory per ended thread.
"""
import json
import os

from common import case

CASES = []


def victim(ctx, name):
    return os.path.join(ctx.victims, name)


def summary(ctx, trace=None):
    return ctx.cli_json("summary", trace or ctx.only_trace())


def clean(ctx):
    for t in ctx.traces():
        os.remove(t)


def readable(ctx, trace):
    """Every reader command that reads the whole trace works on it."""
    s = summary(ctx, trace)
    assert s["complete"], "trace incomplete: %s" % trace
    ctx.cli_json("leaks", trace, "--all")
    ctx.cli_json("report", trace)
    return s


@case("threads")
def many_short_threads(ctx):
    """600 short threads (8 alive at once), sampling and trace mode: output unchanged, every thread in the trace"""
    details = []
    for mode in ("sample", "trace"):
        ctx.same_as_baseline([ctx.python, victim(ctx, "thr_many.py"), "600", "8"], PYAGENT_MODE=mode,
                             PYAGENT_LEAK_REPORT="off")
        s = readable(ctx, ctx.only_trace())
        names = {t["name"] for t in s["threads"]}
        missing = [i for i in range(600) if "short-%d" % i not in names]
        assert not missing, "%s mode: threads missing from the trace: %s" % (mode, missing[:10])
        assert s["stats"]["dropped"] == 0, s["stats"]
        details.append("%s: %d threads" % (mode, len(s["threads"])))
        clean(ctx)
    return ", ".join(details)


@case("threads")
def threads_started_from_c(ctx):
    """libc pthread_create through ctypes (Python callback) and a C library's threads: seen, leaks attributed"""
    lib = ctx.compile_c("thr_cthreads.c", flags=("-lpthread",))
    n = 64
    base, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "thr_ctypes_pthread.py"), lib, str(n)])
    s = readable(ctx, ctx.only_trace())
    assert len(s["threads"]) >= 2 * n + 1, "%d threads in the trace, expected %d" % (len(s["threads"]), 2 * n + 1)
    leaks = ctx.cli_json("leaks", ctx.only_trace())["leaks"]
    native = [l for l in leaks if any(f.get("function") == "thr_leaky_worker" for f in l["stack"])]
    assert native and sum(l["count"] for l in native) == n and sum(l["bytes"] for l in native) == n * 4096, \
        "C threads' leaks: %s" % [(l["bytes"], l["count"]) for l in native]
    assert "pyagent: leak report" in mine.stderr and "thr_leaky_worker" in mine.stderr, mine.stderr[-1500:]
    return "%d threads, %d C-thread leaks of 4096 bytes" % (len(s["threads"]), n)


# Slow-marked because it fails on 3.8-3.11 (known gap, kept visible in the full run):
# there the profile hook reaches threads started by `threading` only.
@case("threads", fast=False)
def trace_mode_covers_threads_started_from_c(ctx):
    """PYAGENT_MODE=trace: every call of a Python callback run by a thread that libc's pthread_create started"""
    lib = ctx.compile_c("thr_cthreads.c", flags=("-lpthread",))
    n = 24
    ctx.same_as_baseline([ctx.python, victim(ctx, "thr_ctypes_pthread.py"), lib, str(n)], PYAGENT_MODE="trace",
                         PYAGENT_LEAK_REPORT="off")
    r = ctx.cli_run("script", ctx.only_trace(), "--function", "from_c", "--depth", "0", "--json", check=False)
    calls = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    calls = [c for c in calls if c.get("type") == "call"]
    threads = {c["tid"] for c in calls}
    assert len(calls) == n and len(threads) == n, (
        "trace mode recorded %d calls of from_c in %d threads; the program made %d, one per thread "
        "(threads that enter Python from C are not traced)" % (len(calls), len(threads), n))
    assert all(c.get("alloc_bytes", 0) > 0 for c in calls), "calls without their allocations"
    return "%d calls in %d threads" % (len(calls), len(threads))


@case("threads")
def threads_still_running_at_exit(ctx):
    """daemon Python threads and detached C threads allocating when the program returns, exits, os._exit()s or raises"""
    lib = ctx.compile_c("thr_cthreads.c", flags=("-lpthread",))
    statuses = []
    for how, modes in (("return", ("sample", "trace")), ("exit3", ("trace",)), ("os_exit4", ("sample", "trace")),
                       ("raise", ("sample",))):
        for mode in modes:
            base, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "thr_exit_busy.py"), how, lib],
                                              PYAGENT_MODE=mode, timeout=60)
            assert base.stderr.count("Traceback") == mine.stderr.count("Traceback"), mine.stderr[-1500:]
            s = readable(ctx, ctx.only_trace())
            assert len(s["threads"]) >= 6, "%s/%s: %d threads in the trace" % (how, mode, len(s["threads"]))
            clean(ctx)
        statuses.append("%s=%d" % (how, base.returncode))
    return " ".join(statuses)


@case("threads")
def thread_pools(ctx):
    """ThreadPoolExecutor, multiprocessing.pool.ThreadPool and asyncio.to_thread: same results, trace readable"""
    code = r'''
import asyncio, concurrent.futures, hashlib, multiprocessing.pool, sys

def task(i):
    data = bytes(range(256)) * (4 + i % 16)
    return hashlib.sha256(data + str(i).encode()).hexdigest()[:8]

with concurrent.futures.ThreadPoolExecutor(max_workers=16) as ex:
    a = list(ex.map(task, range(3000)))
with multiprocessing.pool.ThreadPool(8) as pool:
    b = pool.map(task, range(1500), chunksize=7)

async def main():
    if not hasattr(asyncio, "to_thread"):  # 3.8
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(None, task, i) for i in range(300)))
    return await asyncio.gather(*(asyncio.to_thread(task, i) for i in range(300)))

c = asyncio.run(main())
print(len(a), len(b), len(c), hashlib.sha256("".join(a + b + c).encode()).hexdigest())
'''
    for mode in ("sample", "trace"):
        ctx.same_as_baseline([ctx.python, "-c", code], PYAGENT_MODE=mode, PYAGENT_LEAK_REPORT="off", timeout=180)
        readable(ctx, ctx.only_trace())
        clean(ctx)


def memory_after(ctx, n, mode, lib=True):
    """For thr_many.py N: (agent bytes at exit, agent peak, threads in the trace, peak RSS
    in KiB); the first three are None without the agent."""
    r = ctx.run([ctx.python, victim(ctx, "thr_many.py"), str(n), "8", "--rss"], lib=lib, PYAGENT_MODE=mode,
                PYAGENT_LEAK_REPORT="off", timeout=300)
    assert r.returncode == 0, r.stderr[-1500:]
    rss = int(r.stdout.split("maxrss")[1])
    if not lib:
        return None, None, None, rss
    s = summary(ctx)
    clean(ctx)
    return s["stats"]["agent_bytes"], s["stats"]["agent_peak"], len(s["threads"]), rss


@case("threads")
def agent_memory_does_not_grow_with_ended_threads(ctx):
    """agent memory and RSS after 100 and after 2000 ended threads (sampling and trace mode)"""
    details = []
    base_small, base_big = memory_after(ctx, 100, "sample", False)[3], memory_after(ctx, 2000, "sample", False)[3]
    base_growth = (base_big - base_small) * 1024 / 1900.0
    for mode in ("sample", "trace"):
        small, small_peak, t_small, rss_small = memory_after(ctx, 100, mode)
        big, big_peak, t_big, rss_big = memory_after(ctx, 2000, mode)
        assert t_small == 101 and t_big == 2001, (t_small, t_big)
        per_thread = (big - small) / 1900.0
        per_thread_peak = (big_peak - small_peak) / 1900.0
        rss_per_thread = (rss_big - rss_small) * 1024 / 1900.0 - base_growth
        # What may grow is the thread's record and interned name in the record log (tens
        # of bytes; the log grows by doubling) and the count of recycled event buffers
        # waiting at exit (64 KiB each, at most 32). Per-thread state kept after the
        # thread ended would be kilobytes a thread (scratch stacks), an event buffer
        # 64 KiB, a sample ring 1 MiB (mapped: seen in RSS, not in agent memory).
        assert per_thread < 2048 and per_thread_peak < 2048, (
            "%s mode: agent memory %d -> %d bytes (peak %d -> %d) from 100 to 2000 ended threads: "
            "%.0f bytes per thread" % (mode, small, big, small_peak, big_peak, per_thread))
        assert rss_per_thread < 4096, "%s mode: RSS grows %.0f bytes per ended thread more than without the agent" % (
            mode, rss_per_thread)
        details.append("%s: %.2f->%.2f MB, %+.0f B/thread (peak %+.0f), RSS %+.0f B/thread over baseline" % (
            mode, small / 1e6, big / 1e6, per_thread, per_thread_peak, rss_per_thread))
    return "; ".join(details)
