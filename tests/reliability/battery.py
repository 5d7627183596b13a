#!/usr/bin/env python3
"""The reliability battery: every case of tests/reliability/cases_*.py on every CPython.

usage: battery.py --build DIR [--python PY]... [--fast] [-k SUBSTR] [--markdown FILE] [-j N] [--keep]

DIR holds libpyagent.so and the `pyagent` reader. Without --python: Debian
/usr/bin/python3 plus the newest pyenv 3.8..3.13 under $(pyenv root)/versions.
Prints one line per case x python and a count; exits 1 if any case failed.
--markdown FILE writes the table of outcomes (docs/RELIABILITY.md), keeping any text
after the line `<!-- end of generated table -->` of the existing file.
"""
import argparse
import concurrent.futures
import datetime
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, Context, Skip  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = "<!-- end of generated table -->"


# ---- interpreters ----

def pyenv_root():
    try:
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except OSError:
        pass
    return os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))


def version_key(name):
    return tuple(int(x) for x in re.findall(r"\d+", name)[:3])


def default_pythons():
    found = []
    if os.path.exists("/usr/bin/python3"):
        found.append("/usr/bin/python3")
    versions = os.path.join(pyenv_root(), "versions")
    for minor in range(8, 14):
        dirs = [d for d in glob.glob(os.path.join(versions, "3.%d.*" % minor))
                if re.fullmatch(r"3\.%d\.\d+" % minor, os.path.basename(d))]
        if not dirs:
            continue
        newest = max(dirs, key=lambda d: version_key(os.path.basename(d)))
        exe = os.path.join(newest, "bin", "python3.%d" % minor)
        if os.path.exists(exe):
            found.append(exe)
    return found


def describe(python):
    """(version string, (major, minor)) of an interpreter."""
    r = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "LD_PRELOAD"})
    if r.returncode != 0:
        raise SystemExit("battery: cannot run %s: %s" % (python, r.stderr.strip()))
    version = r.stdout.strip()
    return version, tuple(int(x) for x in version.split(".")[:2])


def label_for(python, version):
    return "debian-%s" % version if python.startswith("/usr/bin/") else version


# ---- cases ----

def load_cases():
    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "cases_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        for c in getattr(module, "CASES", []):
            c.module = name
            cases.append(c)
    return cases


class Outcome:
    def __init__(self, case, py, status, detail, seconds, tmp):
        self.case, self.py, self.status, self.detail, self.seconds, self.tmp = case, py, status, detail, seconds, tmp


def one_line(text, limit=300):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def bare_assert(e):
    """An assert without a message: the failing line of the case and where it is."""
    tb = traceback.extract_tb(e.__traceback__)[-1]
    return "assert failed: %s (%s:%d)" % (tb.line, os.path.basename(tb.filename), tb.lineno)


def run_one(case, py, args, root):
    tmp = tempfile.mkdtemp(prefix="%s-%s-" % (case.name, py["label"]), dir=root)
    ctx = Context(py["path"], py["minor"], py["version"], py["label"], args.build, tmp, root + "/cache")
    t0 = time.time()
    try:
        detail = case.fn(ctx)
        status, detail = "PASS", detail or ""
    except Skip as e:
        status, detail = "SKIP", str(e)
    except AssertionError as e:
        status, detail = "FAIL", str(e) or bare_assert(e)
    except Exception as e:  # a bug in the case, or an environment problem: still a failure
        tb = traceback.extract_tb(e.__traceback__)[-1]
        status, detail = "FAIL", "%s: %s (%s:%d)" % (type(e).__name__, e, os.path.basename(tb.filename), tb.lineno)
    seconds = time.time() - t0
    if status != "FAIL" or not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return Outcome(case, py, status, detail, seconds, tmp)


# ---- the report ----

def git_commit():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "agent", "reader"],
                           capture_output=True, text=True)
    commit = r.stdout.strip() or "unknown"
    return commit + (" (with uncommitted changes in agent/ or reader/)" if dirty.stdout.strip() else "")


def cell(o):
    if o is None:
        return ""
    if o.status == "PASS":
        return "pass"
    if o.status == "SKIP":
        return "skip (%s)" % one_line(o.detail, 80).replace("|", "/")
    return "**FAIL**"


def markdown(outcomes, pythons, cases, argv, elapsed):
    by = {(o.case.module, o.case.name, o.py["label"]): o for o in outcomes}
    labels = [p["label"] for p in pythons]
    lines = ["# Reliability", "",
             "The promise (DESIGN.md): the host program behaves exactly as without the agent, "
             "and what was recorded survives. Each row is a case of the reliability battery "
             "(`tests/reliability/cases_*.py`), each column a CPython it ran on.", "",
             "Generated by `%s` on %s at commit %s (%.0f s)." % (
                 " ".join(argv), datetime.date.today().isoformat(), git_commit(), elapsed), "",
             "CI runs the fast cases on Debian's python3 (CTest `reliability_fast`); the whole battery on every "
             "CPython found is one command, `python3 tests/reliability/battery.py --build BUILD --markdown "
             "docs/RELIABILITY.md` (BUILD holds libpyagent.so and pyagent). Counts: %s." % counts_text(outcomes), "",
             "What a pass does not promise, by design: a process killed by a signal from outside (SIGKILL, or "
             "SIGTERM/SIGINT with no handler) or by a crash runs no agent code, so its trace ends at the last flush "
             "(`PYAGENT_FLUSH_MS`, 1 s by default) and is marked incomplete; every chunk before that reads, and a "
             "chunk cut in the middle is reported as a torn tail. On 3.11, trace mode gives up one level of "
             "recursion, as any C profile function does there.", ""]
    groups = []
    for c in cases:
        if c.group not in groups:
            groups.append(c.group)
    for g in groups:
        lines += ["## %s" % g, "", "| case | what it checks | fast | " + " | ".join(labels) + " |",
                  "|---|---|---|" + "---|" * len(labels)]
        for c in (c for c in cases if c.group == g):
            cells = [cell(by.get((c.module, c.name, l))) for l in labels]
            lines.append("| `%s` | %s | %s | %s |" % (c.name, c.doc.replace("|", "/"), "yes" if c.fast else "",
                                                       " | ".join(cells)))
        lines.append("")
    failed = [o for o in outcomes if o.status == "FAIL"]
    if failed:
        lines += ["## Failures", ""]
        for o in failed:
            lines.append("- `%s` on %s: %s" % (o.case.name, o.py["label"], one_line(o.detail, 400).replace("`", "'")))
        lines.append("")
    lines += [MARKER, ""]
    return "\n".join(lines)


def write_markdown(path, text):
    tail = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        i = old.find(MARKER)
        if i >= 0:
            tail = old[i + len(MARKER):].lstrip("\n")
    with open(path, "w") as f:
        f.write(text + ("\n" + tail if tail else ""))


def repo_relative(arg):
    """A path argument as seen from the repository root (for the command in the table)."""
    if not arg.startswith("-") and os.path.exists(arg):
        full = os.path.abspath(arg)
        if full.startswith(REPO + "/"):
            return os.path.relpath(full, REPO)
    return arg


def counts_text(outcomes):
    n = {s: sum(1 for o in outcomes if o.status == s) for s in ("PASS", "FAIL", "SKIP")}
    return "%d passed, %d failed, %d skipped" % (n["PASS"], n["FAIL"], n["SKIP"])


# ---- main ----

def main():
    ap = argparse.ArgumentParser(description="Run the reliability battery.")
    ap.add_argument("--build", required=True, help="directory with libpyagent.so and pyagent")
    ap.add_argument("--python", action="append", help="an interpreter (repeatable); default: every CPython found")
    ap.add_argument("--fast", action="store_true", help="only the cases marked fast")
    ap.add_argument("-k", help="only cases whose group/name contains this")
    ap.add_argument("--markdown", help="write the table of outcomes to this file")
    ap.add_argument("-j", type=int, default=min(2, os.cpu_count() or 1), help="cases run at once (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the directories of failed cases")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    for f in ("libpyagent.so", "pyagent"):
        if not os.path.exists(os.path.join(args.build, f)):
            raise SystemExit("battery: %s not found in %s (build the project first)" % (f, args.build))

    pythons = []
    for p in args.python or default_pythons():
        version, minor = describe(p)
        pythons.append({"path": p, "version": version, "minor": minor, "label": label_for(p, version)})
    cases = [c for c in load_cases()
             if (not args.fast or c.fast) and (not args.k or args.k in "%s/%s" % (c.group, c.name))]
    if not cases:
        raise SystemExit("battery: no case selected")
    print("battery: %d cases x %d CPythons (%s), -j %d" % (len(cases), len(pythons),
                                                           ", ".join(p["label"] for p in pythons), args.j), flush=True)

    root = tempfile.mkdtemp(prefix="pyagent-battery-")
    os.makedirs(root + "/cache")
    t0 = time.time()
    outcomes = []
    print_lock = threading.Lock()
    jobs = [(c, p) for c in cases for p in pythons]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.j)) as pool:
            futures = [pool.submit(run_one, c, p, args, root) for c, p in jobs]
            for fut in concurrent.futures.as_completed(futures):
                o = fut.result()
                outcomes.append(o)
                with print_lock:
                    kept = " [kept %s]" % o.tmp if o.status == "FAIL" and args.keep else ""
                    print("%-4s %s/%s [%s] %.1fs %s%s" % (o.status, o.case.group, o.case.name, o.py["label"],
                                                         o.seconds, one_line(o.detail, 2000), kept), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.time() - t0
    order = {(c.module, c.name): i for i, c in enumerate(cases)}
    outcomes.sort(key=lambda o: (order[(o.case.module, o.case.name)], o.py["label"]))
    print("battery: %s in %.0f s" % (counts_text(outcomes), elapsed), flush=True)
    if args.markdown:
        argv = ["python3", "tests/reliability/battery.py"] + [repo_relative(a) for a in sys.argv[1:]]
        write_markdown(args.markdown, markdown(outcomes, pythons, cases, argv, elapsed))
        print("battery: wrote %s" % args.markdown)
    return 1 if any(o.status == "FAIL" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
