"""The reliability battery's shared vocabulary: cases, the per-run context, helpers.

A cases module (tests/reliability/cases_*.py) holds `CASES = []` and functions
decorated with `@case(group, fast=True, doc=None)`. battery.py loads every such
module and calls each case as `fn(ctx)` once per CPython:
  - raise AssertionError("what went wrong") on failure (a plain `assert` will do);
  - return None, or a short detail string, on pass;
  - raise Skip("why") when the case does not apply (version, missing tool).

ctx (class Context below) gives the interpreter, the build, a fresh directory and
ways to run programs with and without the agent.
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
VICTIMS = os.path.join(HERE, "victims")
REPO = os.path.dirname(os.path.dirname(HERE))

# The one notice a machine without a PMU always gets (expected, never a complaint).
FALLBACK = "pyagent: no hardware counters"
LEAK_REPORT_START = "pyagent: leak report for "
LEAK_REPORT_END = "pyagent: trace: "


class Skip(Exception):
    """The case does not apply here; the message says why (shown in the table)."""


class Case:
    def __init__(self, name, group, fast, doc, fn):
        self.name = name
        self.group = group
        self.fast = fast
        self.doc = doc
        self.fn = fn

    def __repr__(self):
        return "Case(%s/%s)" % (self.group, self.name)


def _first_doc_line(fn):
    doc = (fn.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else fn.__name__.replace("_", " ")


def case(group, fast=True, doc=None):
    """Register fn in its module's CASES list (the module must define CASES = [])."""
    def register(fn):
        cases = fn.__globals__.get("CASES")
        if cases is None:
            raise RuntimeError("%s: define CASES = [] before using @case" % fn.__module__)
        cases.append(Case(fn.__name__, group, fast, doc or _first_doc_line(fn), fn))
        return fn
    return register


def complaints(stderr):
    """The agent's lines on stderr that are not expected: everything starting with
    `pyagent` except the no-hardware-counters notice and the exit leak report (from
    its `pyagent: leak report for` line through its `pyagent: trace:` line)."""
    out = []
    in_report = False
    for line in stderr.splitlines(True):
        if line.startswith(LEAK_REPORT_START):
            in_report = True
        if in_report:
            if line.startswith(LEAK_REPORT_END):
                in_report = False
            continue
        if line.startswith("pyagent") and not line.startswith(FALLBACK):
            out.append(line)
    return "".join(out)


def clean_env(lib_path=None, **extra):
    """os.environ without any PYAGENT_* or LD_PRELOAD, plus LD_PRELOAD=lib_path and extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYAGENT_") and k != "LD_PRELOAD"}
    if lib_path:
        env["LD_PRELOAD"] = lib_path
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_compile_lock = threading.Lock()


class Context:
    """What a case gets: one CPython, the build, a fresh directory.

    Attributes: python (path), minor ((3, 12)), version ("3.12.1"), label (column name),
    lib (libpyagent.so), cli (the reader), build (DIR), victims, tmp (fresh, empty; the
    default cwd of every run), cache (shared across the battery, for compiled helpers).
    """

    def __init__(self, python, minor, version, label, build, tmp, cache):
        self.python = python
        self.minor = minor
        self.version = version
        self.label = label
        self.build = build
        self.lib = os.path.join(build, "libpyagent.so")
        self.cli = os.path.join(build, "pyagent")
        self.victims = VICTIMS
        self.tmp = tmp
        self.cache = cache

    # ---- running programs ----

    def env(self, lib=True, **extra):
        """Environment without inherited PYAGENT_*/LD_PRELOAD; LD_PRELOAD=lib when lib;
        plus extra (a value of None removes the variable)."""
        return clean_env(self.lib if lib else None, **extra)

    def run(self, cmd, lib=True, timeout=120, stdin=None, cwd=None, **extra):
        """Run cmd to completion (text, captured) in its own session, so a timeout kills
        every process it started. Raises AssertionError on timeout."""
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd or self.tmp, env=self.env(lib, **extra),
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            raise AssertionError("timed out after %ss: %s\nstdout: %s\nstderr: %s"
                                 % (timeout, " ".join(map(str, cmd)), out[-500:], err[-1500:]))
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def popen(self, cmd, lib=True, cwd=None, **extra):
        """Start cmd (its own session; stdout piped as text, stderr to a file in tmp).
        The caller waits for it; ctx.reap(proc) kills what is left."""
        errf = open(os.path.join(self.tmp, "popen-%d.stderr" % len(os.listdir(self.tmp))), "w+")
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd or self.tmp, env=self.env(lib, **extra),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, text=True,
                                start_new_session=True)
        proc.stderr_file = errf
        return proc

    def reap(self, proc):
        """Kill whatever is left of a popen'd process group and return its stderr text."""
        _kill_group(proc)
        proc.wait()
        if proc.stdout:
            proc.stdout.close()
        proc.stderr_file.seek(0)
        err = proc.stderr_file.read()
        proc.stderr_file.close()
        return err

    def py(self, *args, **kw):
        return self.run([self.python, *args], **kw)

    def same_as_baseline(self, cmd, between=None, **extra):
        """Run cmd without then with the agent; assert same stdout and returncode and no
        complaints. Keyword arguments of run (timeout, stdin, cwd) pass through; the rest
        are environment variables for both runs. between, if given, is called after the
        run without the agent (to clear files it wrote). Returns (base, agent)."""
        runkw = {k: extra.pop(k) for k in ("timeout", "stdin", "cwd") if k in extra}
        base = self.run(cmd, lib=False, **runkw, **extra)
        if between:
            between()
        mine = self.run(cmd, lib=True, **runkw, **extra)
        what = " ".join(map(str, cmd[1:] if cmd and cmd[0] == self.python else cmd))[:120]
        assert base.returncode == mine.returncode, "%s: exit status %d without the agent, %d with it\nstderr: %s" % (
            what, base.returncode, mine.returncode, mine.stderr[-1500:])
        assert base.stdout == mine.stdout, "%s: stdout differs\nwithout: %r\nwith:    %r" % (
            what, base.stdout[-600:], mine.stdout[-600:])
        c = self.complaints(mine.stderr)
        assert not c, "%s: the agent complained: %s" % (what, c[-1500:])
        return base, mine

    @staticmethod
    def complaints(stderr):
        return complaints(stderr)

    # ---- traces and the reader ----

    def traces(self, d=None):
        d = d or self.tmp
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".trace"))

    def only_trace(self, d=None):
        t = self.traces(d)
        assert len(t) == 1, "expected one trace in %s, found %s" % (d or self.tmp, [os.path.basename(x) for x in t])
        return t[0]

    def cli_run(self, *args, check=True):
        r = subprocess.run([self.cli, *map(str, args)], capture_output=True, text=True, timeout=300,
                           env=clean_env())
        if check:
            assert r.returncode == 0, "pyagent %s: rc=%d stderr=%s" % (" ".join(map(str, args)), r.returncode,
                                                                         r.stderr[-1500:])
        return r

    def cli_json(self, *args):
        """The reader's JSON output (--json is added when missing)."""
        args = list(map(str, args))
        if "--json" not in args:
            args.append("--json")
        r = self.cli_run(*args)
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError("pyagent %s: not JSON (%s): %r" % (" ".join(args), e, r.stdout[:300]))

    # ---- compiled helpers ----

    def compile_c(self, source, shared=True, flags=()):
        """Compile a C file (a path, or relative to victims/) with the system compiler,
        once per battery run; returns the output path (a .so when shared)."""
        src = source if os.path.isabs(source) else os.path.join(self.victims, source)
        with open(src, "rb") as f:
            key = hashlib.sha1(f.read() + repr((shared, tuple(flags))).encode()).hexdigest()[:12]
        stem = os.path.splitext(os.path.basename(src))[0]
        out = os.path.join(self.cache, "%s-%s%s" % (stem, key, ".so" if shared else ""))
        with _compile_lock:
            if not os.path.exists(out):
                cmd = ["cc", "-O1", "-g", "-o", out + ".tmp", src, *flags]
                if shared:
                    cmd[1:1] = ["-shared", "-fPIC"]
                r = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
                if r.returncode != 0:
                    raise AssertionError("cannot compile %s: %s" % (src, r.stderr[-1500:]))
                os.rename(out + ".tmp", out)
        return out


def pid_of(trace_path):
    """The pid in a default trace name pyagent-PID.trace."""
    m = re.search(r"pyagent-(\d+)\.trace$", trace_path)
    assert m, "not a default trace name: %s" % trace_path
    return int(m.group(1))
