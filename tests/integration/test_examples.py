#!/usr/bin/env python3
"""The examples in examples/ run under the agent with one CPython, and each shows
what its guide (examples/README.md) says it shows: the MLP's hot function, the
image editor's leak with its Python function, the random walk slower than the
sequential one, every request of the web handler with its database call and
calculation, the custom counters read back; and every example prints the same and
exits the same with and without the agent. Run by CTest per interpreter.

usage: test_examples.py --python PY --lib LIBPYAGENT --cli PYAGENT --examples DIR [-k NAME]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

from runner import run_tests

ARGS = None
TESTS = []
FALLBACK = "pyagent: no hardware counters"  # the notice a machine without a PMU gets


def test(fn):
    TESTS.append(fn)
    return fn


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYAGENT_") and k != "LD_PRELOAD"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def example(name):
    return os.path.join(ARGS.examples, name)


def run_plain(script, args, cwd):
    return subprocess.run([ARGS.python, example(script), *args], cwd=cwd, env=clean_env(),
                          capture_output=True, text=True, timeout=300)


def run_agent(script, args, cwd, *options):
    """The guides' one-line command: pyagent run [OPTIONS] -- PYTHON EXAMPLE ARGS."""
    cmd = [ARGS.cli, "run", *options, "--", ARGS.python, example(script), *args]
    r = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "%s: rc=%d\nstdout=%s\nstderr=%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr)
    return r


def cli(*args):
    r = subprocess.run([ARGS.cli, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "pyagent %s: rc=%d stderr=%s" % (" ".join(args), r.returncode, r.stderr)
    return r.stdout


def cli_json(*args):
    return json.loads(cli(*args, "--json"))


def script_json(trace, *extra):
    return [json.loads(l) for l in cli("script", trace, "--json", *extra).splitlines() if l.strip()]


def leader(report):
    """The event that triggered the samples: cycles with a PMU, task-clock without."""
    assert report["events"], "no sampled events: %s" % report
    return report["events"][0]


def self_of(event, function):
    return sum(f["self"] for f in event["functions"] if f["function"] == function)


def source_lines(script, pattern):
    """Line numbers of EXAMPLE whose text matches PATTERN (so edits to an example move
    the expectations with it)."""
    with open(example(script)) as f:
        return [i for i, text in enumerate(f, 1) if re.search(pattern, text)]


# ---- every example: same output, same status, with and without the agent ----


@test
def every_example_prints_and_exits_the_same_under_the_agent():
    names = sorted(n for n in os.listdir(ARGS.examples) if n.endswith(".py"))
    assert {"nn_training.py", "image_editing.py", "level_loading.py", "web_handler.py",
            "custom_counters.py"} <= set(names), names
    for name in names:
        with tempfile.TemporaryDirectory() as d:
            base = run_plain(name, [], d)
            assert base.returncode == 0 and base.stdout, "%s without the agent: %s" % (name, base)
            preload = subprocess.run([ARGS.python, example(name)], cwd=d, capture_output=True, text=True,
                                     timeout=300, env=clean_env(LD_PRELOAD=ARGS.lib, PYAGENT_LEAK_REPORT="off"))
            assert (preload.returncode, preload.stdout) == (base.returncode, base.stdout), \
                "%s: LD_PRELOAD changed the output:\n%s\nvs\n%s" % (name, base.stdout, preload.stdout)
            agent_lines = [l for l in preload.stderr.splitlines() if l.startswith("pyagent:")]
            assert all(l.startswith(FALLBACK) for l in agent_lines), "%s: %s" % (name, preload.stderr)
            traces = [f for f in os.listdir(d) if f.endswith(".trace")]
            assert len(traces) == 1, "%s: %s" % (name, traces)


# ---- 1. neural-network training: the hot function and line ----


@test
def nn_training_hot_function_is_the_dense_layer():
    with tempfile.TemporaryDirectory() as d:
        r = run_agent("nn_training.py", [], d, "-F", "1000", "--leak-report", "off", "-o", "nn.trace")
        assert r.stdout.splitlines()[-1].startswith("epoch 30 loss"), r.stdout
        trace = os.path.join(d, "nn.trace")
        event = leader(cli_json("report", trace))
        top = event["functions"][0]
        assert top["function"] == "matvec" and top["file"].endswith("nn_training.py"), event["functions"][:3]
        assert top["self"] >= 0.4 * event["total"], (top, event["total"])
        # Per line: the hottest line is one of matvec's loop lines.
        loop = source_lines("nn_training.py", r"for w, v in zip\(row, vec\)|acc \+= w \* v")
        assert len(loop) == 2, loop
        hot = leader(cli_json("report", trace, "--lines"))["functions"][0]
        assert hot["function"] == "matvec" and hot["line"] in loop, (hot, loop)
        text = cli("report", trace, "--lines", "--top", "3")
        assert re.search(r"matvec +\S*nn_training\.py:(%s)\b" % "|".join(map(str, loop)), text), text


# ---- 2. image editing: peak and live memory, allocation sites, the thumbnail leak ----


@test
def image_editing_leak_is_found_with_its_function():
    thumb = 80 * 60  # THUMB_W x THUMB_H bytes per thumbnail, one per photo
    with tempfile.TemporaryDirectory() as d:
        r = run_agent("image_editing.py", ["12"], d, "-o", "img.trace")
        assert r.stdout.startswith("saved 12 photos") and "12 thumbnails cached" in r.stdout, r.stdout
        trace = os.path.join(d, "img.trace")
        ours = [l for l in cli_json("leaks", trace)["leaks"]
                if [f["function"] for f in l["stack"] if f["kind"] == "python"][:1] == ["make_thumbnail"]]
        assert len(ours) == 1, cli("leaks", trace)
        leak = ours[0]
        assert leak["count"] == 12 and 12 * thumb <= leak["bytes"] < 12 * (thumb + 100), leak
        assert leak["freed_at_shutdown"] and not leak["residue"], leak
        # The exit report on stderr names it too.
        report = r.stderr[r.stderr.index("leak report"):]
        first = report.split("\n#2")[0]
        assert "live at program end" in first and "make_thumbnail" in first, r.stderr
        summary = cli_json("summary", trace)
        assert summary["peak_live_bytes"] >= summary["live_at_program_end"]["bytes"] + 320 * 240 * 3, summary
    # Allocation sites in trace mode: the bytes allocated during each call. Checked on
    # main (all photos' pixel buffers: RGB, grey, two blur passes, half size, thumbnail);
    # a call's first allocation can land in its caller when the agent's two clocks
    # disagree by tens of microseconds (seen under load), so no narrower call is asserted.
    per_photo = 320 * 240 * 3 + 3 * 320 * 240 + 160 * 120 + thumb
    with tempfile.TemporaryDirectory() as d:
        run_agent("image_editing.py", ["3"], d, "-m", "trace", "--leak-report", "off", "-o", "imgt.trace")
        calls = [c for c in script_json(os.path.join(d, "imgt.trace"), "--function", "main", "--depth", "2")
                 if c.get("type") == "call"]
        main_call = [c for c in calls if c["function"] == "main" and c["file"].endswith("image_editing.py")]
        assert len(main_call) == 1 and main_call[0]["alloc_bytes"] >= 3 * per_photo, main_call
        names = [c["function"] for c in calls]
        for f in ("edit_photo", "generate_image", "to_greyscale", "box_blur", "encode_png", "make_thumbnail"):
            assert names.count(f) == 3, (f, names)


# ---- 3. level loading: the random walk costs more than the sequential one ----


@test
def level_loading_random_walk_costs_more():
    with tempfile.TemporaryDirectory() as d:
        r = run_agent("level_loading.py", [], d, "-F", "1000", "--leak-report", "off", "-o", "level.trace")
        assert r.stdout.rstrip().endswith("same totals: True"), r.stdout
        event = leader(cli_json("report", os.path.join(d, "level.trace")))
        seq, rnd = self_of(event, "walk_sequential"), self_of(event, "walk_random")
        # The same code over the same tiles: only the order differs.
        assert seq > 0 and rnd > 1.5 * seq, (event["name"], seq, rnd, event["functions"][:5])


# ---- 4. web request handler: every request, in order, with what it waited for ----


@test
def web_handler_trace_shows_every_request():
    requests = 10
    db_wait_ns = 15e6  # DB_LATENCY in the example
    with tempfile.TemporaryDirectory() as d:
        r = run_agent("web_handler.py", [str(requests)], d, "-m", "trace", "--leak-report", "off", "-o", "web.trace",
                      "--count", "handle_request,query_database,complex_calculation")
        assert r.stdout.count("processed: status 200") == requests, r.stdout
        trace = os.path.join(d, "web.trace")
        calls = [c for c in script_json(trace, "--function", "handle_request") if c.get("type") == "call"]
        top = [c for c in calls if c["function"] == "handle_request"]
        assert len(top) == requests, [c["function"] for c in calls][:20]
        for c in top:
            end = c["start_ns"] + c["duration_ns"]
            inside = {k["function"]: k for k in calls
                      if k["depth"] == c["depth"] + 1 and c["start_ns"] <= k["start_ns"] <= end}
            assert sorted(inside) == ["complex_calculation", "parse_request", "query_database", "render_response"], inside
            db, calc = inside["query_database"], inside["complex_calculation"]
            assert db["duration_ns"] >= db_wait_ns and calc["duration_ns"] > 0, (db, calc)
            assert db["start_ns"] + db["duration_ns"] <= calc["start_ns"], (db, calc)
            assert c["duration_ns"] >= db["duration_ns"] + calc["duration_ns"], c
        # The text view the guide shows.
        text = cli("script", trace, "--function", "handle_request", "--depth", "1")
        assert text.count("handle_request") == requests and text.count("  query_database") == requests, text
        # The CPU went into the calculation, not into the wait: sampled per function,
        # and measured exactly per counted call.
        event = leader(cli_json("report", trace))
        assert self_of(event, "complex_calculation") > self_of(event, "query_database"), event["functions"][:5]
        counted = {c["function"]: c for c in cli_json("summary", trace)["counted"]}
        assert all(counted[f]["calls"] == requests for f in ("handle_request", "query_database",
                                                            "complex_calculation")), counted
        db, calc = counted["query_database"], counted["complex_calculation"]
        assert db["total_ns"] >= requests * db_wait_ns and db["cpu_ns"] < 0.5 * db["total_ns"], db
        assert calc["cpu_ns"] > db["cpu_ns"], (calc, db)
        chrome = os.path.join(d, "web.json")
        cli("export", trace, "--format", "chrome", "-o", chrome)
        with open(chrome) as f:
            events = json.load(f)["traceEvents"]
        spans = [e for e in events if e.get("ph") == "X" and e.get("name") == "handle_request"]
        assert len(spans) == requests and all(e["dur"] >= db_wait_ns / 1e3 for e in spans), spans[:2]


# ---- 5. custom counters: counted function, counters, marks, regions, live stats ----


@test
def custom_counters_read_back():
    with tempfile.TemporaryDirectory() as d:
        r = run_agent("custom_counters.py", [], d, "--count", "handle_request", "--leak-report", "off",
                      "-o", "counters.trace")
        assert r.stdout == "served 60 requests for 12 pages: 48 from the cache, 12 rendered\n", r.stdout
        live = [l for l in r.stderr.splitlines() if l.startswith("live: ")]
        assert len(live) == 1 and "handle_request called 60 times" in live[0], r.stderr
        trace = os.path.join(d, "counters.trace")
        counted = {c["function"]: c for c in cli_json("summary", trace)["counted"]}
        assert counted["handle_request"]["calls"] == 60, counted
        assert counted["handle_request"]["cpu_ns"] > 0, counted
        reported = {c["function"]: c for c in cli_json("report", trace)["counted"]}
        assert reported["handle_request"]["calls"] == 60, reported
        lines = script_json(trace)
        depth = [l["value"] for l in lines if l.get("type") == "counter" and l["name"] == "queue_depth"]
        assert depth == list(range(60, 0, -1)), depth
        ratio = [l["value"] for l in lines if l.get("type") == "counter" and l["name"] == "cache_hit_ratio"]
        assert ratio == [0.4, 0.7, 0.8], ratio
        misses = [l for l in lines if l.get("type") == "mark" and l["name"] == "cache_miss"]
        assert len(misses) == 12 and len({m["fields"]["page"] for m in misses}) == 12, misses[:2]
        batches = [l for l in lines if l.get("type") == "region" and l["name"] == "batch"]
        assert len(batches) == 3, batches
        text = cli("summary", trace)
        assert re.search(r"\n +60 .*handle_request +MainThread", text), text
        chrome = json.loads(cli("export", trace, "--format", "chrome"))["traceEvents"]
        tracks = [e for e in chrome if e.get("ph") == "C" and e.get("name") == "queue_depth"]
        instants = [e for e in chrome if e.get("ph") == "i" and e.get("name") == "cache_miss"]
        assert len(tracks) == 60 and len(instants) == 12, (len(tracks), len(instants))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("-k", help="run tests whose name contains this")
    ARGS = ap.parse_args()
    ARGS.examples = os.path.abspath(ARGS.examples)
    return 1 if run_tests(TESTS, os.path.basename(ARGS.python), ARGS.k) else 0


if __name__ == "__main__":
    sys.exit(main())
