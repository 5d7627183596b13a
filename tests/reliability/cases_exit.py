"""Exits: however the program ends, its exit status, output and death signal are the
ones it has without the agent, and the trace keeps what was recorded."""
import difflib
import json
import os
import random
import re
import signal
import time

from common import case

CASES = []


# ---- helpers ----

def victim(ctx, name):
    return os.path.join(ctx.victims, name)


def summary(ctx, trace):
    return ctx.cli_json("summary", trace)


def leak_functions(ctx, trace):
    out = {}
    for leak in ctx.cli_json("leaks", trace)["leaks"]:
        fn = next((f["function"] for f in leak["stack"] if f["kind"] == "python"), None)
        out[fn] = out.get(fn, 0) + leak["bytes"]
    return out


def host_stderr(text):
    """stderr without the agent's lines (notice, leak report) and without addresses
    and thread ids, which differ from run to run."""
    lines = [l for l in text.splitlines(True) if l not in agent_lines(text)]
    return re.sub(r"0x[0-9a-f]+", "0x?", "".join(lines))


def agent_lines(text):
    """The agent's own lines in text: the notice and the whole leak report."""
    agent = set()
    in_report = False
    for line in text.splitlines(True):
        if line.startswith("pyagent: leak report for "):
            in_report = True
        if in_report or line.startswith("pyagent: no hardware counters"):
            agent.add(line)
        if in_report and line.startswith("pyagent: trace: "):
            in_report = False
    return agent


def same_exit(ctx, cmd, complete=True, report=False, **env):
    """Runs cmd without and with the agent: same status, stdout and stderr (the agent's
    lines aside). Returns the run with the agent and the trace's summary."""
    if not report:
        env.setdefault("PYAGENT_LEAK_REPORT", "off")
    base, mine = ctx.same_as_baseline(cmd, **env)
    assert host_stderr(base.stderr) == host_stderr(mine.stderr), "stderr differs:\nwithout: %s\nwith:    %s" % (
        base.stderr[-800:], host_stderr(mine.stderr)[-800:])
    s = summary(ctx, ctx.only_trace())
    if complete:
        assert s["complete"], "trace not complete (end frame %s, exit checkpoint %s)" % (s["end_frame"],
                                                                                          s["exit_checkpoint"])
    assert s["bad_chunks"] == 0 and not s["diagnostics"], s["diagnostics"]
    return mine, s


def clean(ctx):
    for t in ctx.traces():
        os.unlink(t)


# ---- normal and abnormal ends ----

@case("exits")
def sys_exit_status_kept(ctx):
    """sys.exit(n) for 0, 3, 255, 256, -1, None and a message: same status, output and message; complete trace, leak report printed"""
    for arg in ("0", "3", "255", "256", "-1", "None", "goodbye, world"):
        clean(ctx)
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), "sys_exit", arg], report=True)
        assert "pyagent: leak report for pid" in mine.stderr and "leak_before_exit" in mine.stderr, mine.stderr[-1500:]
    return "7 values"


@case("exits")
def os_exit_trace_complete_with_leak_report(ctx):
    """os._exit(n) from the main thread and from a thread while others run: same status, complete trace, leak report printed"""
    for how, arg in (("os_exit", "0"), ("os_exit", "9"), ("os_exit_thread", "7")):
        clean(ctx)
        # buffered output is lost at os._exit, with or without the agent
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), how, arg], report=True,
                            PYTHONUNBUFFERED=None)
        assert mine.returncode == int(arg), mine.returncode
        assert "unflushed line" not in mine.stdout
        assert "pyagent: leak report for pid" in mine.stderr, mine.stderr[-1500:]
        assert "31,337 bytes in 1 block, never freed" in mine.stderr and "leak_before_exit" in mine.stderr, \
            mine.stderr[-1500:]
        assert leak_functions(ctx, ctx.only_trace()).get("leak_before_exit") == 31337


@case("exits")
def uncaught_exceptions(ctx):
    """An uncaught exception (status 1, same traceback), one in a thread, sys.exit in a finally: same ends, complete traces"""
    for how in ("raise", "raise_in_thread", "exit_in_finally"):
        clean(ctx)
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), how])
        if how == "raise":
            assert mine.returncode == 1 and "ValueError: victim failure" in mine.stderr, mine
            assert mine.stderr.count("fail_deeply") >= 5, mine.stderr
    return "raise, raise in a thread, exit in finally"


@case("exits")
def atexit_and_shutdown_code(ctx):
    """atexit handlers that allocate, print or raise, and __del__ at shutdown: same output, complete trace"""
    for how in ("atexit", "atexit_raises", "del_at_shutdown"):
        clean(ctx)
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), how])
    return "3 ways"


@case("exits")
def exit_while_daemon_threads_allocate(ctx):
    """sys.exit while four daemon threads allocate through interpreter shutdown: same status, complete trace (repeated)"""
    runs = 4
    for i in range(runs):
        clean(ctx)
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), "daemon_threads", str(i + 3)])
        assert mine.returncode == i + 3
    return "%d runs" % runs


@case("exits")
def os_abort(ctx):
    """os.abort(): killed by SIGABRT as without the agent; the trace up to it is readable"""
    mine, s = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), "abort"], complete=False,
                        PYAGENT_FLUSH_MS="10")
    assert mine.returncode == -signal.SIGABRT, mine.returncode


@case("exits")
def fatal_signal_sent_to_itself(ctx):
    """os.kill(os.getpid(), SIGTERM/SIGUSR1/SIGKILL) with the default action: same death, complete trace with the leak report; a blocked one ends nothing"""
    for sig in ("SIGTERM", "SIGUSR1", "SIGKILL"):
        clean(ctx)
        mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), "self_kill", sig], report=True)
        assert mine.returncode == -getattr(signal, sig), mine.returncode
        assert "leak_before_exit" in mine.stderr, mine.stderr[-1000:]
    clean(ctx)
    mine, _ = same_exit(ctx, [ctx.python, victim(ctx, "exit_paths.py"), "self_kill_blocked"])
    assert mine.returncode == 0 and "still here" in mine.stdout, mine
    leaks = leak_functions(ctx, ctx.only_trace())
    assert leaks.get("<module>", 0) >= 4242, leaks


# ---- signals from outside ----

def signalled(ctx, how, signals, lib=True, settle=1.3, **env):
    """Starts exit_wait.py, waits for "ready" and the flush period, sends the signals
    (0.3 s apart), returns (returncode, stdout, stderr)."""
    env.setdefault("PYAGENT_LEAK_REPORT", "off")
    p = ctx.popen([ctx.python, victim(ctx, "exit_wait.py"), how], lib=lib, **env)
    try:
        first = p.stdout.readline()
        assert first == "ready\n", "victim did not start: %r" % first
        time.sleep(settle)
        for sig in signals:
            os.kill(p.pid, sig)
            time.sleep(0.3)
        out = p.stdout.read()
        rc = p.wait(timeout=60)
    finally:
        err = ctx.reap(p)
    return rc, first + out, err


def compare_signalled(ctx, how, signals, expect_rc, complete, **env):
    base = signalled(ctx, how, signals, lib=False, settle=0.2, **env)
    mine = signalled(ctx, how, signals, **env)
    assert base[0] == mine[0] == expect_rc, "%s: status %s without the agent, %s with it (expected %s)\n%s" % (
        how, base[0], mine[0], expect_rc, mine[2][-800:])
    assert base[1] == mine[1], "%s: stdout differs: %r vs %r" % (how, base[1], mine[1])
    assert not ctx.complaints(mine[2]), mine[2]
    trace = ctx.only_trace()
    s = summary(ctx, trace)
    assert s["complete"] == complete, "%s: complete is %s, expected %s" % (how, s["complete"], complete)
    assert s["bad_chunks"] == 0, s
    # everything up to the last flush is there, whatever the end
    assert leak_functions(ctx, trace).get("leak_before_signal") == 27182, leak_functions(ctx, trace)
    return mine


@case("exits")
def keyboard_interrupt(ctx):
    """SIGINT: uncaught KeyboardInterrupt ends the process as without the agent (same status, traceback), complete trace; a caught one lets it finish"""
    rc, out, err = compare_signalled(ctx, "none", [signal.SIGINT], -signal.SIGINT, complete=True)
    assert "KeyboardInterrupt" in err, err
    clean(ctx)
    rc, out, err = compare_signalled(ctx, "int_caught", [signal.SIGINT], 0, complete=True)
    assert "KeyboardInterrupt caught" in out and "done" in out, out


@case("exits")
def sigterm_without_handler(ctx):
    """SIGTERM with no handler: the kernel ends the process (status -15, as without the agent); the trace up to the last flush is readable"""
    compare_signalled(ctx, "none", [signal.SIGTERM], -signal.SIGTERM, complete=False)
    return "incomplete by nature: no code runs at a default-action signal"


@case("exits")
def sigterm_with_handler(ctx):
    """SIGTERM with a handler: it runs and exits (status 3, complete trace); a handler that ignores it once, then dies by it"""
    rc, out, _ = compare_signalled(ctx, "term_handler", [signal.SIGTERM], 3, complete=True)
    assert "got SIGTERM" in out
    clean(ctx)
    rc, out, _ = compare_signalled(ctx, "term_ignore_once", [signal.SIGTERM, signal.SIGTERM, signal.SIGTERM],
                                   -signal.SIGTERM, complete=False)
    assert "ignoring SIGTERM 2" in out, out


# ---- SIGKILL ----

def kill_once(ctx, delay, d, **env):
    os.makedirs(d, exist_ok=True)
    p = ctx.popen([ctx.python, victim(ctx, "exit_killed.py"), "30"], cwd=d, PYAGENT_LEAK_REPORT="off", **env)
    time.sleep(delay)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    ctx.reap(p)
    return ctx.traces(d)


def check_killed_trace(ctx, trace, what):
    size = os.path.getsize(trace)
    r = ctx.cli_run("summary", trace, "--json", check=False)
    if r.returncode != 0:
        # only a file cut before its header was complete may be refused, and clearly
        assert size < 4096 and r.stderr.startswith("pyagent:") and trace in r.stderr, \
            "%s: reader refused a %d-byte trace: %s" % (what, size, r.stderr)
        return None
    s = json.loads(r.stdout)
    assert s["complete"] is False, "%s: a killed run's trace says complete" % what
    assert s["bad_chunks"] == 0, "%s: bad chunks in a killed trace: %s" % (what, s["diagnostics"])
    for d in s["diagnostics"]:
        assert d.startswith("torn tail at offset"), "%s: unexpected diagnostic: %s" % (what, d)
    for cmd in ("leaks", "report", "flamegraph"):
        out = ctx.cli_run(cmd, trace, check=False)
        assert out.returncode == 0, "%s: pyagent %s failed on a killed trace: %s" % (what, cmd, out.stderr[-500:])
    return s


def cut_checks(ctx, trace, rng, cuts):
    """Cuts a trace at random offsets: the reader reads every complete chunk and says
    where the tail was torn."""
    data = open(trace, "rb").read()
    torn = 0
    for i in range(cuts):
        at = rng.randrange(len(data) // 4, len(data))
        path = os.path.join(ctx.tmp, "cut-%d.trace" % i)
        with open(path, "wb") as f:
            f.write(data[:at])
        s = ctx.cli_json("summary", path)
        for d in s["diagnostics"]:
            m = re.match(r"torn tail at offset (\d+)", d)
            assert m and int(m.group(1)) <= at, "cut at %d: %s" % (at, d)
            torn += 1
        os.unlink(path)
    assert torn, "no cut of %d produced a torn-tail diagnostic" % cuts


def kill_series(ctx, kills, cuts):
    seed = int(time.time() * 1000) % 100000
    rng = random.Random(seed)
    stats = {"no trace": 0, "refused (cut in header)": 0, "readable": 0, "torn tail": 0}
    biggest = None
    for i in range(kills):
        # half the kills in the first 0.3 s (start-up, activation, first flush)
        delay = rng.uniform(0, 0.3) if i % 2 else rng.uniform(0.3, 2.0)
        env = {"PYAGENT_FLUSH_MS": rng.choice(["10", "1000"])}
        if i % 3 == 2:
            env["PYAGENT_MODE"] = "trace"
        d = os.path.join(ctx.tmp, "kill-%d" % i)
        traces = kill_once(ctx, delay, d, **env)
        what = "seed %d kill %d after %.2fs %s" % (seed, i, delay, env)
        assert len(traces) <= 1, "%s: %s" % (what, traces)
        if not traces:
            stats["no trace"] += 1
            continue
        s = check_killed_trace(ctx, traces[0], what)
        if s is None:
            stats["refused (cut in header)"] += 1
            continue
        stats["readable"] += 1
        stats["torn tail"] += bool(s["diagnostics"])
        if biggest is None or os.path.getsize(traces[0]) > os.path.getsize(biggest):
            biggest = traces[0]
    if biggest:
        cut_checks(ctx, biggest, rng, cuts)
    return "seed %d: %s" % (seed, ", ".join("%s %d" % kv for kv in stats.items()))


@case("exits")
def sigkill_at_random_moments(ctx):
    """SIGKILL at 8 random moments (start-up to steady state, sampling and trace mode): every trace reads, torn tails are named"""
    return kill_series(ctx, 8, 4)


@case("exits", fast=False)
def sigkill_at_random_moments_many(ctx):
    """SIGKILL at 60 random moments, and 20 random cuts of a trace: every complete chunk reads, the torn tail is named"""
    return kill_series(ctx, 60, 20)


# ---- interpreter limits ----

@case("exits")
def recursion_error_at_the_same_depth(ctx):
    """RecursionError at the same depth as without the agent (default limit, 200, 5000; functions, methods, repr), sampling mode"""
    for limit in ("default", "200", "5000"):
        ctx.same_as_baseline([ctx.python, victim(ctx, "exit_recursion.py"), limit], PYAGENT_LEAK_REPORT="off")
        clean(ctx)
    return "default, 200, 5000"


@case("exits")
def recursion_error_depth_in_trace_mode(ctx):
    """RecursionError depth in trace mode: the same, except 3.11, where CPython gives one level to any C profile function"""
    cmd = [ctx.python, victim(ctx, "exit_recursion.py"), "1000"]
    base = ctx.run(cmd, lib=False)
    mine = ctx.run(cmd, PYAGENT_LEAK_REPORT="off", PYAGENT_MODE="trace")
    assert base.returncode == mine.returncode == 0, (base, mine)
    if ctx.minor == (3, 11):
        depth = lambda out: [int(l.split()[1]) for l in out.splitlines() if l.split()[0] in ("function", "method")]
        for b, m in zip(depth(base.stdout), depth(mine.stdout)):
            assert b - 1 <= m <= b, "depth %d with the agent, %d without" % (m, b)
        return "3.11: within one level (%s vs %s)" % (depth(mine.stdout), depth(base.stdout))
    assert base.stdout == mine.stdout, "without: %r\nwith: %r" % (base.stdout, mine.stdout)


@case("exits")
def memory_error_recovers(ctx):
    """MemoryError from an impossible request and under RLIMIT_AS: the program recovers as without the agent; the trace reads"""
    cmd = [ctx.python, victim(ctx, "exit_memory.py"), "300"]
    base = ctx.run(cmd, lib=False)
    mine = ctx.run(cmd, PYAGENT_LEAK_REPORT="off")
    assert (base.returncode, base.stdout) == (mine.returncode, mine.stdout) and base.returncode == 0, (base, mine)
    lines = ctx.complaints(mine.stderr).splitlines()
    assert len(lines) <= 3, "the agent said too much under memory pressure: %s" % lines
    s = summary(ctx, ctx.only_trace())
    assert s["bad_chunks"] == 0, s["diagnostics"]
    return "; ".join(lines) or None


def crash(ctx, how, *flags):
    lib = ctx.compile_c("crash.c")
    cmd = [ctx.python, *flags, victim(ctx, "exit_crash.py"), lib, how, "0.3"]
    base = ctx.run(cmd, lib=False)
    mine = ctx.run(cmd, PYAGENT_LEAK_REPORT="off", PYAGENT_FLUSH_MS="50")
    assert base.returncode == mine.returncode < 0, "%s: status %d without the agent, %d with it" % (
        how, base.returncode, mine.returncode)
    assert base.stdout == mine.stdout, (base.stdout, mine.stdout)
    if host_stderr(base.stderr) != host_stderr(mine.stderr):
        diff = difflib.unified_diff(host_stderr(base.stderr).splitlines(), host_stderr(mine.stderr).splitlines(),
                                    "without", "with", lineterm="", n=0)
        raise AssertionError("%s: stderr differs: %s" % (how, " | ".join(diff)))
    assert not ctx.complaints(mine.stderr), mine.stderr
    trace = ctx.only_trace()
    s = summary(ctx, trace)
    assert not s["complete"] and s["bad_chunks"] == 0, s
    got = leak_functions(ctx, trace).get("leak_before_crash")
    assert got == 40 * 12345, "%s: leak_before_crash in the trace: %s" % (how, got)
    clean(ctx)
    return mine.returncode


@case("exits")
def crash_in_c_extension(ctx):
    """A segfault, abort() and SIGBUS in a C library (main thread and another): same signal and status, the trace up to the crash reads"""
    got = [crash(ctx, how) for how in ("segv", "abort", "segv_thread", "raise_bus")]
    return "statuses %s" % got


@case("exits")
def crash_with_faulthandler(ctx):
    """A segfault under -X faulthandler: the same fatal-error traceback and status, the trace up to the crash reads"""
    crash(ctx, "segv", "-X", "faulthandler")
    crash(ctx, "segv_thread", "-X", "faulthandler")
