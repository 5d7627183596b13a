#!/usr/bin/env python3
"""Integration tests of `pyagent diff`: real runs of tests/victims/slowdown.py (three
functions with a set amount of work, called in turns) under LD_PRELOAD=libpyagent.so,
compared the way CI would: unchanged runs, one function doing twice the work, a leak
added, the JSON document and malformed --fail-if expressions.

Runs sample at 1000 Hz for about a second of CPU: each function gets about 300 samples,
whose count varies by about 6% (Poisson), and the model adds at least 5% of run-to-run
jitter, so a change of 25% is at least 3 standard errors away from an unchanged run:
`--fail-if '*:cpu>+25%'` cannot trip on sampling noise, while doubling one function
(+100%, 10+ standard errors) must.

usage: test_diff.py --python PY --lib LIBPYAGENT --cli PYAGENT [-k NAME]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from runner import run_tests

HERE = os.path.dirname(os.path.abspath(__file__))
VICTIM = os.path.join(os.path.dirname(HERE), "victims", "slowdown.py")
WORKERS = ("tokenize", "crunch", "render")
FALLBACK = "pyagent: no hardware counters"  # the notice a machine without a PMU always gets
ARGS = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def env_with(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYAGENT_") and k != "LD_PRELOAD"}
    env["LD_PRELOAD"] = ARGS.lib
    env.update({k: str(v) for k, v in extra.items()})
    return env


def record(d, name, *args, **env):
    """Runs the victim under the agent; returns the trace's path."""
    trace = os.path.join(d, name + ".trace")
    r = subprocess.run([ARGS.python, VICTIM, *args], cwd=d, capture_output=True, text=True, timeout=300,
                       env=env_with(PYAGENT_FREQ=1000, PYAGENT_LEAK_REPORT="off", PYAGENT_OUTPUT=trace, **env))
    assert r.returncode == 0 and r.stdout == "done\n", r
    complaints = [l for l in r.stderr.splitlines() if not l.startswith(FALLBACK)]
    assert not complaints, r.stderr
    return trace


def diff(*args, want=0):
    r = subprocess.run([ARGS.cli, "diff", *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == want, "pyagent diff %s: rc=%d (want %d)\nstdout:\n%s\nstderr:\n%s" % (
        " ".join(args), r.returncode, want, r.stdout, r.stderr)
    return r


def diff_json(*args, want=0):
    return json.loads(diff(*args, "--json", want=want).stdout)


def cpu_table(doc):
    tables = [t for t in doc["tables"] if t["table"] == "sampled" and t["cpu"]]
    assert len(tables) == 1, [(t["table"], t["event"]) for t in doc["tables"]]
    return tables[0]


def rows_by_name(table):
    return {r["function"]: r for r in table["rows"]}


def describe(table):
    return "\n".join("%-12s %s %8.1f%% z=%s" % (r["function"], "SIG" if r["self"]["significant"] else "   ",
                                                r["self"]["delta_pct"] or 0, r["self"]["z"])
                     for r in table["rows"][:8])


# Traces shared by the tests, recorded once.
RUNS = {}


def runs(d):
    if not RUNS:
        RUNS["base1"] = record(d, "base1")
        RUNS["base2"] = record(d, "base2")
        RUNS["slow"] = record(d, "slow", "--slow", "crunch")
        RUNS["leak"] = record(d, "leak", "--leak")
    return RUNS


@test
def unchanged_runs_show_no_significant_change():
    r = RUNS
    doc = diff_json(r["base1"], r["base2"])
    cpu = cpu_table(doc)
    rows = rows_by_name(cpu)
    for name in WORKERS:
        assert rows[name]["status"] == "both" and rows[name]["self"]["baseline_n"] >= 100, rows[name]
        assert not rows[name]["self"]["significant"], "%s changed beyond noise:\n%s" % (name, describe(cpu))
    significant = [x["function"] for x in cpu["rows"] if x["self"]["significant"]]
    assert not significant, "beyond noise in unchanged runs: %s\n%s" % (significant, describe(cpu))
    assert cpu["scale_from"]["self"] >= 3, cpu["scale_from"]
    text = diff(r["base1"], r["base2"], "--fail-if", "*:cpu>+25%", "--fail-if", "crunch:cpu>+10%").stdout
    assert "\nbeyond noise: " in text and "cpu " not in text.split("\nbeyond noise: ")[1], text[-400:]


@test
def doubled_function_is_named_with_about_plus_100_percent():
    r = RUNS
    cpu = cpu_table(diff_json(r["base1"], r["slow"]))
    top = cpu["rows"][0]
    assert top["function"] == "crunch" and top["file"] == VICTIM, describe(cpu)
    assert top["self"]["significant"] and 60 <= top["self"]["delta_pct"] <= 150, top["self"]
    rows = rows_by_name(cpu)
    for name in ("tokenize", "render"):
        assert not rows[name]["self"]["significant"], "%s should be within noise:\n%s" % (name, describe(cpu))
    text = diff(r["base1"], r["slow"], "--top", "3").stdout
    first_row = text.split("Location\n", 1)[1].splitlines()[0]
    assert "crunch" in first_row and not first_row.startswith("~"), text
    res = diff(r["base1"], r["slow"], "--fail-if", "crunch:cpu>+50%", "--fail-if", "tokenize:cpu>+25%", want=3)
    lines = [l for l in res.stderr.splitlines() if l.startswith("pyagent: diff: --fail-if")]
    assert len(lines) == 1 and lines[0].startswith("pyagent: diff: --fail-if 'crunch:cpu>+50%': crunch ("), res.stderr
    assert " cpu " in lines[0] and " -> " in lines[0] and "%" in lines[0], lines[0]
    diff(r["base1"], r["slow"], "--fail-if", "crunch:cpu>+250%")  # +100% is not +250%
    diff(r["base1"], r["slow"], "--fail-if", "crunch:cpu<-10%")  # it did not get faster


@test
def added_leak_shows_in_the_leaks_diff():
    r = RUNS
    doc = diff_json(r["base1"], r["leak"])
    leaks = [t for t in doc["tables"] if t["table"] == "leaks"][0]
    site = [x for x in leaks["rows"] if x["function"] == "leak_buffers"]
    assert len(site) == 1, leaks["rows"]
    site = site[0]
    assert site["status"] == "new" and site["file"] == VICTIM and site["line"] > 0, site
    assert (site["bytes"]["new"], site["blocks"]["new"]) == (64 * 4096, 64), site
    assert site["bytes"]["significant"] and site["bytes"]["exact"], site
    assert leaks["totals"]["bytes"]["delta"] >= 64 * 4096, leaks["totals"]
    res = diff(r["base1"], r["leak"], "--fail-if", "leaks:bytes>+0", "--fail-if", "alloc:bytes>+50%", want=3)
    assert "--fail-if 'leaks:bytes>+0': whole trace leak_bytes" in res.stderr, res.stderr
    assert "alloc:bytes" not in res.stderr, res.stderr  # 256 KiB more on ~10 MB allocated
    text = diff(r["base1"], r["leak"]).stdout
    assert "leak_buffers" in text.split("\nleaks by site")[1], text
    # The unchanged pair has no leak difference: the same site, bytes and blocks.
    diff(r["base1"], r["base2"], "--fail-if", "leaks:bytes>+0", "--fail-if", "*:leak_blocks>0")


@test
def json_has_the_documented_keys():
    r = RUNS
    doc = diff_json(r["base1"], r["slow"], "--fail-if", "crunch:cpu>+50%", want=3)
    assert set(doc) == {"baseline", "new", "noise_z", "notes", "tables", "checks", "failed"}, set(doc)
    for side in ("baseline", "new"):
        assert set(doc[side]) == {"trace", "pid", "argv", "duration_ns", "samples", "events"}, doc[side]
        assert doc[side]["samples"] > 500 and doc[side]["duration_ns"] > 0 and "task-clock" in doc[side]["events"]
    assert doc["baseline"]["argv"][-1] == VICTIM and doc["new"]["argv"][-2:] == ["--slow", "crunch"]
    kinds = [t["table"] for t in doc["tables"]]
    assert kinds[0] == "sampled" and "alloc" in kinds and "leaks" in kinds, kinds
    measures = {"sampled": ("self", "total"), "alloc": ("bytes", "blocks"), "leaks": ("bytes", "blocks")}
    meas_keys = {"baseline", "new", "expected", "delta", "delta_pct", "z", "exact", "significant", "baseline_n", "new_n"}
    for t in doc["tables"]:
        assert {"table", "event", "cpu", "source", "units", "scale", "scale_from", "jitter", "totals", "rows_total",
                "rows"} <= set(t), set(t)
        assert t["rows_total"] == len(t["rows"]), t["table"]
        for row in t["rows"]:
            assert {"function", "file", "line", "status"} <= set(row) and row["status"] in ("both", "new", "gone")
            for m in measures[t["table"]]:
                assert set(row[m]) == meas_keys, row[m]
    assert "peak_bytes" in [t for t in doc["tables"] if t["table"] == "alloc"][0]
    assert doc["failed"] is True and len(doc["checks"]) == 1, doc["checks"]
    check = doc["checks"][0]
    assert check["expr"] == "crunch:cpu>+50%" and check["passed"] is False and check["matched"] == 1, check
    fail = check["failures"][0]
    assert set(fail) == {"function", "file", "line", "metric", "baseline", "new", "delta", "delta_pct"}, fail
    assert fail["function"] == "crunch" and fail["metric"] == "cpu" and fail["delta_pct"] > 50, fail
    only_cpu = diff_json(r["base1"], r["slow"], "--event", "cpu", "--top", "2")
    sampled = [t for t in only_cpu["tables"] if t["table"] == "sampled"]
    assert len(sampled) == 1 and sampled[0]["cpu"] and len(sampled[0]["rows"]) == 2, sampled


@test
def malformed_fail_if_is_a_usage_error():
    r = RUNS
    for expr, why in (("crunch:cpu>>10%", "must be a number"), ("crunch cpu>10%", "expected TARGET:METRIC OP CHANGE"),
                      ("crunch:cpu=10%", "no comparison"), ("crunch:cpu>10 parsecs", "unknown unit"),
                      ("crunch:speed>10%", "unknown metric speed"), ("crunch:time>10%", "time needs call times"),
                      ("crunch:cpu>5MiB", "this metric is a time")):
        res = diff(r["base1"], r["base2"], "--fail-if", expr, want=2)
        assert "pyagent: diff: --fail-if '%s': " % expr in res.stderr and why in res.stderr, (expr, res.stderr)
        assert res.stdout == "", res.stdout
    res = diff(r["base1"], want=2)
    assert "two traces needed" in res.stderr, res.stderr
    res = diff(r["base1"], r["base2"], "--sort", "size", want=2)
    assert "--sort takes delta" in res.stderr, res.stderr
    res = diff(r["base1"], os.path.join(os.path.dirname(r["base1"]), "missing.trace"), want=1)
    assert "missing.trace" in res.stderr, res.stderr


@test
def counted_calls_are_compared():
    with tempfile.TemporaryDirectory() as d:
        base = record(d, "count1", PYAGENT_COUNT="tokenize,crunch,render")
        slow = record(d, "count2", "--slow", "render", PYAGENT_COUNT="tokenize,crunch,render")
        doc = diff_json(base, slow)
    calls = [t for t in doc["tables"] if t["table"] == "calls"]
    assert len(calls) == 1 and calls[0]["source"] == "counted", [t["table"] for t in doc["tables"]]
    rows = rows_by_name(calls[0])
    assert set(rows) == set(WORKERS), set(rows)
    for name in WORKERS:
        assert (rows[name]["calls"]["baseline"], rows[name]["calls"]["new"]) == (100, 100), rows[name]["calls"]
        assert not rows[name]["calls"]["significant"], rows[name]["calls"]
    # Wall time: on a loaded machine calls stretch more, and less evenly, than CPU time
    # does, so only the order is checked: render's time grew the most.
    ratio = {name: rows[name]["time"]["new"] / rows[name]["time"]["baseline"] for name in WORKERS}
    others = max(ratio["tokenize"], ratio["crunch"])
    assert ratio["render"] > 1.3 * others, ratio


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("-k", help="run tests whose name contains this")
    ARGS = ap.parse_args()
    ARGS.lib, ARGS.cli = os.path.abspath(ARGS.lib), os.path.abspath(ARGS.cli)  # the runs' cwd is a temp dir
    with tempfile.TemporaryDirectory() as d:
        t0 = time.time()
        runs(d)
        print("recorded %d runs (%.1fs)" % (len(RUNS), time.time() - t0), flush=True)
        failed = run_tests(TESTS, os.path.basename(ARGS.python), ARGS.k)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
