"""Load: threads allocating and freeing at full speed around a large live set, through
every allocation function the agent interposes (load_churn.c). The program counts its
own live bytes exactly, and leaves every churned block allocated: the agent's leak
records at exit must add up to exactly that (nothing lost, nothing counted twice),
its own memory must stay bounded, and the trace must read. In sampling mode (the
default rate and 20 kHz) and in trace mode (with Python threads making calls).
"""
import os

from common import case

CASES = []


def churn(ctx, threads, seconds, live, py_threads=0, timeout=600, **env):
    """Runs load_churn.py under the agent; checks the accounting and the trace; returns
    a detail string with the figures."""
    lib = ctx.compile_c("load_churn.c", flags=("-lpthread",))
    r = ctx.run([ctx.python, os.path.join(ctx.victims, "load_churn.py"), lib, str(threads), str(seconds), str(live),
                 str(py_threads)], timeout=timeout, PYAGENT_LEAK_REPORT="off", **env)
    assert r.returncode == 0, "load_churn.py: status %d\n%s" % (r.returncode, r.stderr[-1500:])
    assert not ctx.complaints(r.stderr), ctx.complaints(r.stderr)
    fields = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    live_bytes, live_blocks = map(int, fields["live"].split())
    ops = int(fields["ops"])
    assert live_blocks == live, "the program itself kept %d blocks, not %d" % (live_blocks, live)
    if py_threads:
        assert fields["python"] == "True", r.stdout

    trace = ctx.only_trace()
    s = ctx.cli_json("summary", trace)
    assert s["complete"], "trace incomplete"
    stats = s["stats"]
    assert stats["dropped"] == 0, "the agent dropped %d events" % stats["dropped"]
    leaks = ctx.cli_json("leaks", trace, "--all")
    churned = [l for l in leaks["leaks"] if any(f.get("function") == "churn_worker" for f in l["stack"])]
    got_bytes = sum(l["bytes"] for l in churned)
    got_blocks = sum(l["count"] for l in churned)
    assert (got_bytes, got_blocks) == (live_bytes, live_blocks), (
        "blocks live at exit from churn_worker: the agent has %d bytes in %d blocks, the program %d bytes in %d "
        "blocks" % (got_bytes, got_blocks, live_bytes, live_blocks))
    # The agent's own memory: the live-block table and what it needs per stack, not
    # per operation. 128 bytes per live block is twice what the table takes.
    bound = 128 * live + (64 << 20)
    assert stats["agent_peak"] < bound, "agent memory peaked at %d bytes for %d live blocks" % (
        stats["agent_peak"], live)
    ctx.cli_json("report", trace)
    ctx.cli_run("flamegraph", trace, "--folded")
    calls = (s.get("trace_events") or {}).get("calls", 0)
    if env.get("PYAGENT_MODE") == "trace" and py_threads:
        assert calls > 0, "trace mode: no calls in the summary"
        # middle() and leaf() run in a loop of 500 while the C threads churn
        assert calls >= 1000, "trace mode recorded only %d calls" % calls
    os.remove(trace)
    return "%d ops, %d live blocks (%.1f MB) matched; agent peak %.1f MB (%.0f B per live block), %d samples%s" % (
        ops, live, live_bytes / 1e6, stats["agent_peak"] / 1e6, stats["agent_peak"] / float(live),
        stats.get("samples", 0), ", %d calls" % calls if calls else "")


@case("load")
def churn_briefly(ctx):
    """4 threads for 1 s around 100k live blocks: live bytes at exit exact, agent memory bounded"""
    return churn(ctx, 4, 1, 100000)


@case("load")
def churn_briefly_trace_mode_and_fast_sampling(ctx):
    """the same in trace mode (2 Python threads making calls) and with sampling at 20 kHz"""
    a = churn(ctx, 4, 1, 30000, py_threads=2, PYAGENT_MODE="trace")
    b = churn(ctx, 4, 1, 30000, PYAGENT_FREQ="20000")
    return "trace: %s | 20 kHz: %s" % (a, b)


@case("load", fast=False)
def churn_8_threads_10s_1m_live(ctx):
    """8 threads for 10 s around 1M live blocks (sampling at 100 Hz)"""
    return churn(ctx, 8, 10, 1000000, py_threads=2)


@case("load", fast=False)
def churn_8_threads_10s_1m_live_trace_mode(ctx):
    """8 threads for 10 s around 1M live blocks in trace mode, 2 Python threads making calls"""
    return churn(ctx, 8, 10, 1000000, py_threads=2, PYAGENT_MODE="trace")


@case("load", fast=False)
def churn_8_threads_10s_1m_live_20khz(ctx):
    """8 threads for 10 s around 1M live blocks, sampling at 20 kHz"""
    return churn(ctx, 8, 10, 1000000, py_threads=2, PYAGENT_FREQ="20000")
