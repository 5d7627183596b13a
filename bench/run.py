#!/usr/bin/env python3
"""Benchmark harness: baseline vs pyagent (several settings) vs heaptrack.

Every round runs every workload under every configuration, the configurations in a
rotated (round-robin) order, so slow drift of the machine hits all of them alike.
Each run gets a fresh temporary directory as its working directory (traces land
there and are deleted after their size is taken). CPU time is user+sys from the
os.wait4() rusage of the top process, which includes every child it waited for
(heaptrack's wrapper shell, heaptrack_interpret and its compressor). Ratios are the
median over rounds of (config run / baseline run of the same round).

Every run's exit status must be 0 and its stdout must equal the baseline's stdout
of the same round (heaptrack's own banner lines are stripped first); any mismatch is
reported and makes the harness exit with status 1.

Example (the command behind docs/BENCHMARKS.md):
    python3 bench/run.py --rounds 7 --json /tmp/bench-312.json
"""
import argparse
import glob
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WORKLOADS = os.path.join(REPO, "..", "shared", "bench", "workloads")
DEFAULT_AGENT = os.path.join(REPO, "build", "libpyagent.so")
HEAPTRACK = shutil.which("heaptrack") or "/usr/bin/heaptrack"

# Workload name -> arguments (server.py takes "N DELAY", the others a scale).
WORKLOADS = {
    "calls": ["1"],
    "alloc": ["1"],
    "cache": ["1"],
    "leaky": ["1"],
    "server": ["20", "0.005"],
    "threads": ["1"],
}

# Configuration name -> (kind, PYAGENT_* environment). "pyagent" sets nothing: it is
# the agent exactly as a user gets it (leak report to stderr included).
CONFIGS = {
    "baseline": ("plain", {}),
    "pyagent": ("agent", {}),
    "pymalloc": ("agent", {"PYAGENT_PYMALLOC": "on"}),
    "native-full": ("agent", {"PYAGENT_NATIVE": "full"}),
    "heaptrack": ("heaptrack", {}),
    # Optional, for locating costs (not in the default set):
    "no-report": ("agent", {"PYAGENT_LEAK_REPORT": "off"}),
    "native-leaf": ("agent", {"PYAGENT_NATIVE": "leaf"}),
    "alloc-off": ("agent", {"PYAGENT_ALLOC": "off"}),
}
DEFAULT_CONFIGS = ["baseline", "pyagent", "pymalloc", "native-full", "heaptrack"]


def default_python():
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.12.*", "bin", "python3.12")))
    return found[-1] if found else shutil.which("python3")


def clean_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYAGENT_") and k not in ("LD_PRELOAD", "PYTHONMALLOC")}
    return env


def command_for(config, python, argv, agent, workdir):
    """Return (argv, env) of one run of `python argv` under `config`."""
    kind, extra = CONFIGS[config]
    env = clean_env()
    cmd = [python] + argv
    if kind == "agent":
        env["LD_PRELOAD"] = agent
        env.update(extra)
    elif kind == "heaptrack":
        cmd = [HEAPTRACK, "-o", os.path.join(workdir, "heaptrack.out")] + cmd
    return cmd, env


def strip_heaptrack(out):
    """Remove the heaptrack wrapper's banner lines around the program's stdout."""
    lines = out.split("\n")
    start = "starting application, this might take some time..."
    if start in lines:
        lines = lines[lines.index(start) + 1:]
    for i, line in enumerate(lines):
        if line.startswith("Heaptrack finished!"):
            lines = lines[:i]
            break
    return "\n".join(lines) + ("\n" if lines and lines[-1] != "" else "")


def run_once(config, python, argv, agent):
    """Run one command in a fresh temp dir; return a dict of measurements."""
    workdir = tempfile.mkdtemp(prefix="pyagent-bench-")
    try:
        cmd, env = command_for(config, python, argv, agent, workdir)
        out_path = os.path.join(workdir, ".stdout")
        err_path = os.path.join(workdir, ".stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err)
            _, status, ru = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        with open(out_path, "rb") as f:
            stdout = f.read().decode("utf-8", "replace")
        with open(err_path, "rb") as f:
            stderr = f.read().decode("utf-8", "replace")
        if CONFIGS[config][0] == "heaptrack":
            stdout = strip_heaptrack(stdout)
        traces = glob.glob(os.path.join(workdir, "pyagent-*.trace"))
        hts = glob.glob(os.path.join(workdir, "heaptrack.out*"))
        return {
            "cpu": ru.ru_utime + ru.ru_stime,
            "user": ru.ru_utime,
            "sys": ru.ru_stime,
            "wall": wall,
            "maxrss_kib": ru.ru_maxrss,
            "exit": proc.returncode,
            "stdout": stdout,
            "stderr_tail": stderr[-2000:],
            "trace_bytes": sum(os.path.getsize(p) for p in traces) if traces else None,
            "trace_files": len(traces),
            "heaptrack_bytes": sum(os.path.getsize(p) for p in hts) if hts else None,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def machine_info(python):
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pyver = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.strip()
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "agent"],
                               capture_output=True, text=True).stdout.strip()
        rev += "+dirty" if dirty else ""
    except OSError:
        rev = "?"
    try:
        ht = subprocess.run([HEAPTRACK, "--version"], capture_output=True,
                            text=True).stdout.strip()
    except OSError:
        ht = None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "loadavg_start": loadavg(),
        "python_env": {k: v for k, v in os.environ.items() if k.startswith("PYTHON")},
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": python,
        "python_version": pyver,
        "pyagent_rev": rev,
        "heaptrack": ht,
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return None


def cpu_busy(interval=0.5):
    """Fraction of all CPUs busy over `interval` seconds (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(interval)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_idle(limit, log):
    """Wait (at most `limit` s) until other processes use < 15% of the CPUs."""
    if limit <= 0:
        return 0.0
    t0 = time.perf_counter()
    while True:
        busy = cpu_busy()
        waited = time.perf_counter() - t0
        if busy < 0.15 or waited >= limit:
            if waited > 1:
                log("waited %.0f s for an idle machine (busy %.0f%%)" % (waited, busy * 100))
            return waited
        time.sleep(2)


def freeze_agent(path):
    """Copy the agent so a rebuild during the run cannot mix two builds."""
    with open(path, "rb") as f:
        data = f.read()
    d = tempfile.mkdtemp(prefix="pyagent-bench-lib-")
    copy = os.path.join(d, "libpyagent.so")
    with open(copy, "wb") as f:
        f.write(data)
    return copy, hashlib.sha256(data).hexdigest()[:16], time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(path)))


def fmt_ratio(x):
    return "–" if x is None else "%.2fx" % x


def fmt_s(x):
    return "–" if x is None else "%.3f" % x


def fmt_bytes(n):
    if n is None:
        return "–"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def bench_workloads(args, log):
    names = args.only or list(WORKLOADS)
    configs = args.configs
    runs = {w: {c: [] for c in configs} for w in names}  # per round; None = skipped
    problems = []
    for r in range(args.rounds):
        k = r % len(configs)
        order = configs[k:] + configs[:k]
        for w in names:
            argv = [os.path.join(args.workloads, w + ".py")] + WORKLOADS[w]
            idle_wait = wait_idle(args.idle_wait, log)
            got = {}
            for c in order:
                if c == "heaptrack" and r >= args.heaptrack_rounds:
                    continue
                got[c] = run_once(c, args.python, argv, args.agent)
            base = got.get("baseline")
            load = loadavg()
            for c in configs:
                res = got.get(c)
                if res is None:
                    runs[w][c].append(None)
                    continue
                res["round"] = r
                res["loadavg"] = load
                res["idle_wait_s"] = round(idle_wait, 1)
                res["ok"] = res["exit"] == 0 and (base is None or res["stdout"] == base["stdout"])
                if not res["ok"]:
                    msg = ("round %d %s/%s: exit %d, stdout %s baseline" %
                           (r + 1, w, c, res["exit"],
                            "equals" if base and res["stdout"] == base["stdout"] else "differs from"))
                    problems.append({"msg": msg, "stdout": res["stdout"][-500:],
                                     "stderr": res["stderr_tail"][-1000:]})
                    log("!! " + msg)
                if base is not None and c != "baseline":
                    res["cpu_ratio"] = res["cpu"] / base["cpu"] if base["cpu"] else None
                    res["wall_ratio"] = res["wall"] / base["wall"]
                    res["rss_ratio"] = res["maxrss_kib"] / base["maxrss_kib"]
                runs[w][c].append(res)
            log("round %d/%d %-8s load %s  %s" % (r + 1, args.rounds, w, load, "  ".join(
                "%s %.2fs" % (c, got[c]["cpu"]) for c in configs if c in got)))
    return runs, problems


def summarise(runs, configs):
    summary = {}
    for w, per in runs.items():
        summary[w] = {}
        for c in configs:
            rs = [x for x in per[c] if x is not None]
            if not rs:
                continue
            s = {
                "n": len(rs),
                "ok": sum(1 for x in rs if x["ok"]),
                "cpu_median": median([x["cpu"] for x in rs]),
                "wall_median": median([x["wall"] for x in rs]),
                "maxrss_kib_median": median([x["maxrss_kib"] for x in rs]),
                "trace_bytes_median": median([x["trace_bytes"] for x in rs]),
                "heaptrack_bytes_median": median([x["heaptrack_bytes"] for x in rs]),
            }
            if c != "baseline":
                cr = [x.get("cpu_ratio") for x in rs if x.get("cpu_ratio") is not None]
                s["cpu_ratio_median"] = median(cr)
                s["cpu_ratio_min"] = min(cr) if cr else None
                s["cpu_ratio_max"] = max(cr) if cr else None
                s["wall_ratio_median"] = median([x.get("wall_ratio") for x in rs])
                s["rss_ratio_median"] = median([x.get("rss_ratio") for x in rs])
            summary[w][c] = s
    return summary


def bench_startup(args, log):
    configs = [c for c in args.startup_configs]
    runs = {c: [] for c in configs}
    for r in range(args.startup_rounds):
        if r % 10 == 0:
            wait_idle(args.idle_wait, log)
        k = r % len(configs)
        order = configs[k:] + configs[:k]
        got = {}
        for c in order:
            if c == "heaptrack" and r >= args.startup_heaptrack_rounds:
                continue
            got[c] = run_once(c, args.python, ["-c", "pass"], args.agent)
        base = got["baseline"]
        for c in configs:
            if c not in got:
                continue
            res = got[c]
            res["round"] = r
            res["ok"] = res["exit"] == 0
            res["cpu_diff_ms"] = (res["cpu"] - base["cpu"]) * 1e3
            res["wall_diff_ms"] = (res["wall"] - base["wall"]) * 1e3
            runs[c].append(res)
    out = {}
    for c in configs:
        rs = runs[c]
        if not rs:
            continue
        out[c] = {
            "n": len(rs),
            "ok": sum(1 for x in rs if x["ok"]),
            "wall_ms_median": median([x["wall"] for x in rs]) * 1e3,
            "cpu_ms_median": median([x["cpu"] for x in rs]) * 1e3,
            "wall_diff_ms_median": median([x["wall_diff_ms"] for x in rs]),
            "cpu_diff_ms_median": median([x["cpu_diff_ms"] for x in rs]),
            "maxrss_kib_median": median([x["maxrss_kib"] for x in rs]),
        }
    log("start-up: " + "  ".join("%s %.1f ms" % (c, v["wall_ms_median"]) for c, v in out.items()))
    return runs, out


def markdown(info, args, summary, startup, problems):
    lines = []
    lines.append("Python %s (`%s`), pyagent %s (lib sha256 %s), %d rounds (heaptrack: %d), "
                 "%s, load average %s at start" % (
                     info["python_version"], info["python"], info["pyagent_rev"],
                     info["agent_sha256"], args.rounds, min(args.heaptrack_rounds, args.rounds),
                     info["date"], info["loadavg_start"]))
    lines.append("")
    if summary:
        lines.append("| workload | config | CPU s (median) | wall s (median) | CPU ratio "
                     "(median of paired) | CPU ratio min–max | wall ratio | peak RSS ratio | "
                     "output OK |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for w, per in summary.items():
            for c, s in per.items():
                rng = "–" if c == "baseline" else "%.2f–%.2f" % (s["cpu_ratio_min"],
                                                                  s["cpu_ratio_max"])
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |" % (
                    w, c, fmt_s(s["cpu_median"]), fmt_s(s["wall_median"]),
                    "1" if c == "baseline" else fmt_ratio(s["cpu_ratio_median"]), rng,
                    "1" if c == "baseline" else fmt_ratio(s["wall_ratio_median"]),
                    "1 (%.0f MiB)" % (s["maxrss_kib_median"] / 1024) if c == "baseline"
                    else fmt_ratio(s["rss_ratio_median"]),
                    s["ok"], s["n"]))
        lines.append("")
        size_cfgs = [c for c in ("pyagent", "pymalloc", "native-full", "heaptrack")
                     if any(c in per for per in summary.values())]
        if size_cfgs:
            lines.append("| workload | " + " | ".join("%s output" % c for c in size_cfgs) + " |")
            lines.append("|---|" + "---:|" * len(size_cfgs))
            for w, per in summary.items():
                cells = []
                for c in size_cfgs:
                    s = per.get(c)
                    key = "heaptrack_bytes_median" if c == "heaptrack" else "trace_bytes_median"
                    cells.append(fmt_bytes(s[key]) if s else "–")
                lines.append("| %s | %s |" % (w, " | ".join(cells)))
            lines.append("")
    if startup:
        base = startup["baseline"]
        lines.append("Start-up + exit (`python -c pass`), %d rounds (heaptrack: %d):" % (
            args.startup_rounds, min(args.startup_heaptrack_rounds, args.startup_rounds)))
        lines.append("")
        lines.append("| config | wall ms (median) | CPU ms (median) | wall +ms (median of paired) "
                     "| CPU +ms (median of paired) | OK |")
        lines.append("|---|---:|---:|---:|---:|---:|")
        for c, s in startup.items():
            lines.append("| %s | %.1f | %.1f | %s | %s | %d/%d |" % (
                c, s["wall_ms_median"], s["cpu_ms_median"],
                "–" if c == "baseline" else "%+.1f" % s["wall_diff_ms_median"],
                "–" if c == "baseline" else "%+.1f" % s["cpu_diff_ms_median"], s["ok"], s["n"]))
        lines.append("")
    verdicts = budget(summary, startup)
    if verdicts:
        lines.append("Budget (pyagent with default settings; the budget is set for Python 3.12%s):"
                     % ("" if info["python_version"].startswith("3.12.") else
                        ", this is %s" % info["python_version"]))
        lines.append("")
        for v in verdicts:
            lines.append("- %s" % v)
        lines.append("")
    if problems:
        lines.append("**%d run(s) failed the exit-code/stdout check:**" % len(problems))
        for p in problems:
            lines.append("- " + p["msg"])
        lines.append("")
    return "\n".join(lines)


def budget(summary, startup):
    out = []

    def ratio(w, limit):
        s = summary.get(w, {}).get("pyagent")
        if s and s.get("cpu_ratio_median") is not None:
            v = s["cpu_ratio_median"]
            out.append("%s.py CPU time %.2fx (budget ≤ %.2fx): %s" % (
                w, v, limit, "PASS" if v <= limit else "FAIL"))

    ratio("calls", 1.10)
    ratio("alloc", 1.25)
    s = startup.get("pyagent") if startup else None
    if s:
        worst = max(s["wall_diff_ms_median"], s["cpu_diff_ms_median"])
        out.append("start-up + exit +%.1f ms wall, +%.1f ms CPU (budget ≤ 30 ms): %s" % (
            s["wall_diff_ms_median"], s["cpu_diff_ms_median"], "PASS" if worst <= 30 else "FAIL"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=default_python(),
                    help="interpreter to benchmark (default: pyenv's 3.12)")
    ap.add_argument("--workloads", default=os.path.normpath(DEFAULT_WORKLOADS),
                    help="directory with calls.py, alloc.py, ... (default: %(default)s)")
    ap.add_argument("--agent", default=DEFAULT_AGENT, help="libpyagent.so (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--heaptrack-rounds", type=int, default=None,
                    help="run heaptrack only in the first N rounds (default: all)")
    ap.add_argument("--only", action="append", choices=list(WORKLOADS),
                    help="run only this workload (repeatable)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                    help="comma-separated, from: %s (default: %%(default)s)" % ", ".join(CONFIGS))
    ap.add_argument("--startup-rounds", type=int, default=30,
                    help="rounds of `python -c pass` (0: skip)")
    ap.add_argument("--startup-heaptrack-rounds", type=int, default=5)
    ap.add_argument("--no-workloads", action="store_true", help="only the start-up measurement")
    ap.add_argument("--idle-wait", type=float, default=0, metavar="S",
                    help="before each workload's set of runs, wait up to S seconds until other "
                         "processes use < 15%% of the CPUs (default: 0, don't wait)")
    ap.add_argument("--json", help="write all raw numbers here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args()

    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in args.configs:
        if c not in CONFIGS:
            ap.error("unknown config %r" % c)
    if "baseline" not in args.configs:
        args.configs.insert(0, "baseline")
    if args.heaptrack_rounds is None:
        args.heaptrack_rounds = args.rounds
    args.startup_configs = list(args.configs)
    args.workloads = os.path.abspath(args.workloads)
    args.agent = os.path.abspath(args.agent)
    if not os.path.exists(args.agent):
        sys.exit("no agent at %s: build it first (cmake --build build)" % args.agent)
    if "heaptrack" in args.configs and not os.access(HEAPTRACK, os.X_OK):
        sys.exit("heaptrack not found; drop it with --configs")

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    info = machine_info(args.python)
    info["agent"] = args.agent
    args.agent, info["agent_sha256"], info["agent_mtime"] = freeze_agent(args.agent)
    log("benchmarking %s (Python %s) with %s" % (args.python, info["python_version"], args.agent))
    t0 = time.perf_counter()
    runs, problems = ({}, []) if args.no_workloads else bench_workloads(args, log)
    summary = summarise(runs, args.configs)
    st_runs, startup = ({}, {})
    if args.startup_rounds > 0:
        st_runs, startup = bench_startup(args, log)
        for c, rs in st_runs.items():
            for x in rs:
                if not x["ok"]:
                    problems.append({"msg": "start-up round %d %s: exit %d" % (
                        x["round"] + 1, c, x["exit"]), "stderr": x["stderr_tail"][-1000:]})
    info["harness_seconds"] = round(time.perf_counter() - t0, 1)
    info["loadavg_end"] = loadavg()
    shutil.rmtree(os.path.dirname(args.agent), ignore_errors=True)
    info["argv"] = sys.argv
    print(markdown(info, args, summary, startup, problems))
    if args.json:
        for per in list(runs.values()) + [st_runs]:
            for rs in per.values():
                for x in rs:
                    if x is not None:
                        x["stdout"] = x["stdout"][-300:]
        with open(args.json, "w") as f:
            json.dump({"machine": info, "rounds": args.rounds,
                       "heaptrack_rounds": args.heaptrack_rounds, "configs": args.configs,
                       "configs_env": {c: CONFIGS[c] for c in args.configs},
                       "workload_args": WORKLOADS, "summary": summary,
                       "startup": startup, "runs": runs, "startup_runs": st_runs,
                       "problems": problems}, f, indent=1)
        log("raw numbers: %s" % args.json)
    log("harness time %.0f s" % info["harness_seconds"])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
