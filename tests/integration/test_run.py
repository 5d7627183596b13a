#!/usr/bin/env python3
"""`pyagent run`: flags become PYAGENT_* variables one to one, the command's exit
status and death signal pass through, signals reach the command, and the traces it
wrote are named with a one-line summary.

usage: test_run.py --python PY --cli PYAGENT --config agent/config.c
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile

from runner import run_tests

ARGS = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PYAGENT_") and k != "LD_PRELOAD"}


def run(args, cwd, timeout=120, **kw):
    return subprocess.run([ARGS.cli, "run", *args], cwd=cwd, env=clean_env(), capture_output=True, text=True,
                          timeout=timeout, **kw)


def knob_names():
    return re.findall(r'\{ "(PYAGENT_[A-Z_]+)", K_', open(ARGS.config).read())


@test
def help_lists_every_variable_with_its_flag():
    out = subprocess.run([ARGS.cli, "help", "run"], capture_output=True, text=True, check=True).stdout
    names = knob_names()
    assert len(names) >= 20, names
    for var in names:
        flag = "--" + var[len("PYAGENT_"):].lower().replace("_", "-")
        assert re.search(r"^  (-\w, )?%s " % re.escape(flag), out, re.M), "no %s in help" % flag
        assert var in out, "%s not named in help" % var


@test
def flags_set_the_variables_and_the_trace_is_named():
    with tempfile.TemporaryDirectory() as d:
        prog = "import os; print(sorted((k, v) for k, v in os.environ.items() if k.startswith('PYAGENT_')))"
        r = run(["--mode", "trace", "-F", "500", "-o", "out-%p.trace", "--count=f", "--leak-report", "off",
                 "--pymalloc", "off", "--trace-c", "--", ARGS.python, "-c", prog], d)
        assert r.returncode == 0, r.stderr
        env = dict(eval(r.stdout))
        assert env == {"PYAGENT_MODE": "trace", "PYAGENT_FREQ": "500", "PYAGENT_OUTPUT": "out-%p.trace",
                       "PYAGENT_COUNT": "f", "PYAGENT_LEAK_REPORT": "off", "PYAGENT_PYMALLOC": "off",
                       "PYAGENT_TRACE_C": "on"}, env
        traces = [f for f in os.listdir(d) if f.endswith(".trace")]
        assert len(traces) == 1 and re.fullmatch(r"out-\d+\.trace", traces[0]), traces
        line = [l for l in r.stderr.splitlines() if l.startswith("pyagent: trace %s (" % traces[0])]
        assert line and " calls" in line[0] and "1 thread" in line[0], r.stderr
        assert "leak report" not in r.stderr, r.stderr


@test
def stdout_is_the_commands_own():
    with tempfile.TemporaryDirectory() as d:
        r = run([ARGS.python, "-c", "print('hello'); import sys; print('err', file=sys.stderr)"], d)
        assert r.stdout == "hello\n", repr(r.stdout)
        assert r.returncode == 0


@test
def exit_status_passes_through():
    with tempfile.TemporaryDirectory() as d:
        for code, prog in ((0, "pass"), (7, "import sys; sys.exit(7)"), (1, "raise ValueError('x')"),
                           (3, "import os; os._exit(3)")):
            r = run([ARGS.python, "-c", prog], d)
            assert r.returncode == code, (prog, r.returncode, r.stderr)


@test
def death_by_signal_passes_through():
    with tempfile.TemporaryDirectory() as d:
        for sig in (signal.SIGTERM, signal.SIGSEGV, signal.SIGKILL):
            prog = "import os; os.kill(os.getpid(), %d)" % sig
            r = run(["--", ARGS.python, "-c", prog], d)
            assert r.returncode == -sig, (sig, r.returncode, r.stderr)
            assert "pyagent: trace pyagent-" in r.stderr, r.stderr


WAITER = """
import signal, sys, time
def on(sig, frame):
    print("got", signal.Signals(sig).name, flush=True)
    sys.exit(5)
signal.signal(signal.SIGTERM, on)
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(4)
"""


def started(d):
    p = subprocess.Popen([ARGS.cli, "run", ARGS.python, "-c", WAITER], cwd=d, env=clean_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert p.stdout.readline() == "ready\n"
    return p


@test
def ctrl_c_reaches_the_command_and_run_reports():
    with tempfile.TemporaryDirectory() as d:
        p = started(d)
        os.killpg(p.pid, signal.SIGINT)  # what the terminal does: the whole foreground group
        out, err = p.communicate(timeout=60)
        assert out == "interrupted\n" and p.returncode == 4, (out, p.returncode, err)
        assert "pyagent: trace " in err, err


@test
def sigterm_to_run_is_passed_on():
    with tempfile.TemporaryDirectory() as d:
        p = started(d)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        assert out == "got SIGTERM\n" and p.returncode == 5, (out, p.returncode, err)


@test
def bad_values_stop_before_the_command_runs():
    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "ran")
        prog = "open(%r, 'w')" % marker
        for args, why in ((["-F", "fast"], "PYAGENT_FREQ=fast"), (["--mode", "fast"], "PYAGENT_MODE=fast"),
                          (["--nope", "1"], "unknown option --nope"), (["-F"], "-F needs a value")):
            r = run(args + ([ARGS.python, "-c", prog] if args != ["-F"] else []), d)
            assert r.returncode == 2 and why in r.stderr, (args, r.returncode, r.stderr)
            assert r.stderr.startswith("pyagent run: "), r.stderr
            assert not os.path.exists(marker), args
        r = subprocess.run([ARGS.cli, "run", ARGS.python, "-c", "pass"], cwd=d, capture_output=True, text=True,
                           env=dict(clean_env(), PYAGENT_FLUSH_MS="1"))
        assert r.returncode == 2 and "PYAGENT_FLUSH_MS=1" in r.stderr, r.stderr


@test
def missing_command_is_127():
    with tempfile.TemporaryDirectory() as d:
        r = run(["./no-such-program"], d)
        assert r.returncode == 127 and "cannot run ./no-such-program" in r.stderr, r.stderr
        r = run([], d)
        assert r.returncode == 2 and "no COMMAND" in r.stderr, r.stderr


@test
def children_traces_are_all_named():
    with tempfile.TemporaryDirectory() as d:
        prog = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'pass'], check=True)"
        r = run([ARGS.python, "-c", prog], d)
        assert r.returncode == 0, r.stderr
        named = [l for l in r.stderr.splitlines() if l.startswith("pyagent: trace pyagent-")]
        assert len(named) == 2, r.stderr


@test
def non_python_command_says_no_trace():
    with tempfile.TemporaryDirectory() as d:
        r = run(["/bin/echo", "hi"], d)
        assert r.returncode == 0 and r.stdout == "hi\n", r
        assert "pyagent: no trace written" in r.stderr, r.stderr


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("-k", default="")
    ARGS = ap.parse_args()
    failed = run_tests(TESTS, os.path.basename(ARGS.python), ARGS.k)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
