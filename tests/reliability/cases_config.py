"""Hostile configuration: invalid PYAGENT_* values for every variable the agent knows
(read from its own table in agent/config.c, so a new variable is covered or the case
says it is not), unwritable, missing or odd output paths (a directory, a FIFO, a
symlink, someone's file), a file size limit hit while writing. Each gives one clear
`pyagent:` line, the host runs as without the agent, and nobody's file is touched.

test_agent.py checks three bad values and one existing file and one symlink; these
cases go through every variable and every kind of path.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile

from common import REPO, Skip, case

CASES = []
PROGRAM = "import sys; print('ok'); sys.stdout.flush(); sys.exit(7)"

# Values each kind of knob must refuse. Plain ints get their range edges added below.
BAD_BY_KIND = {
    "K_BOOL": ["maybe", "", "2", "onn"],
    "K_INT": ["lots", "", "1e3", " 5", "5 ", "0x10", "99999999999999999999"],
    "K_PATH": ["x" * 5000],
    "K_LEAKS": ["", "y" * 5000],
    "K_NATIVE": ["most", "", "AUTO"],
    "K_NONPY": ["yes", ""],
    "K_FOLLOW": ["sometimes", "off:", "off:-3", "off:x"],
    "K_EVENTS": ["cycles;rm -rf /", "cycles instructions", "e" * 600],
    "K_SIGNAL": ["SIGUSR1", "SIGRTMIN+99", "0", "SIGRTMAX+1", "SIGRTMIN-1", "", "15"],
    "K_MODE": ["full", "", "Trace"],
    "K_COUNT": ["f(x)", "a b", "f;g"],
    "K_START": ["later", "", "on"],
    "K_TOGGLE": ["SIGKILL", "SIGSEGV", "SIGINT", "", "SIGUSR3"],
}


def knobs():
    """(name, kind, min, max) of every entry of the knob table in agent/config.c."""
    with open(os.path.join(REPO, "agent", "config.c")) as f:
        text = f.read()
    found = re.findall(r'\{\s*"(PYAGENT_\w+)",\s*(K_\w+),\s*F\(\w+\),\s*(-?\d+),\s*(-?\d+),', text)
    assert len(found) >= 15, "could not read the knob table of agent/config.c (%d entries)" % len(found)
    return [(name, kind, int(lo), int(hi)) for name, kind, lo, hi in found]


def agent_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("pyagent")]


def check_rejected(ctx, base, var, value, names_value=True, **extra):
    env = dict(extra)
    env[var] = value
    # -S: the configuration is read in the constructor, before site; a faster start
    # keeps a hundred runs quick.
    r = ctx.run([ctx.python, "-S", "-c", PROGRAM], **env)
    shown = value if len(value) < 100 else value[:40]
    what = "%s=%r" % (var, shown)
    assert (r.returncode, r.stdout) == (base.returncode, base.stdout), "%s changed the program: status %d, %r" % (
        what, r.returncode, r.stdout)
    lines = agent_lines(r.stderr)
    assert len(lines) == 1, "%s: expected one pyagent: line, got %s" % (what, lines)
    assert var in lines[0], "%s: the line does not name the variable: %s" % (what, lines[0])
    if names_value and len(value) < 100 and value.strip():
        assert value in lines[0], "%s: the line does not show the value: %s" % (what, lines[0])
    assert not ctx.traces(), "%s: a trace was written with a configuration error" % what


def refuse_bad_values(ctx, first_only):
    base = ctx.run([ctx.python, "-S", "-c", PROGRAM], lib=False)
    assert base.stdout == "ok\n" and base.returncode == 7, base
    tried = 0
    for name, kind, lo, hi in knobs():
        assert kind in BAD_BY_KIND, "no bad values known for %s (%s): add them to BAD_BY_KIND" % (name, kind)
        values = list(BAD_BY_KIND[kind])
        if kind == "K_INT":
            values += [str(lo - 1), str(hi + 1)]
        for value in values[:1] if first_only else values:
            if name in ("PYAGENT_OUTPUT", "PYAGENT_EVENTS", "PYAGENT_COUNT") and value == "":
                continue  # empty means "none" for these
            check_rejected(ctx, base, name, value)
            tried += 1
    return "%d variables, %d bad values" % (len(knobs()), tried)


@case("config")
def every_variable_refuses_a_bad_value(ctx):
    """each PYAGENT_* of agent/config.c's table with a bad value: one line naming it, program unchanged, no trace"""
    return refuse_bad_values(ctx, True)


@case("config", fast=False)
def every_variable_refuses_every_bad_value(ctx):
    """each PYAGENT_* with every bad value of its kind (blanks, range edges, overflow, wrong words)"""
    return refuse_bad_values(ctx, False)


@case("config")
def unknown_and_conflicting_variables(ctx):
    """a misspelt PYAGENT_ name, FREQ with PERIOD, TOGGLE_SIGNAL equal to SIGNAL: one line each"""
    base = ctx.run([ctx.python, "-S", "-c", PROGRAM], lib=False)
    check_rejected(ctx, base, "PYAGENT_FREQUENCY", "100")
    check_rejected(ctx, base, "PYAGENT_PERIOD", "100000", names_value=False, PYAGENT_FREQ="100")
    check_rejected(ctx, base, "PYAGENT_TOGGLE_SIGNAL", "SIGRTMIN+4", names_value=False, PYAGENT_SIGNAL="SIGRTMIN+4")
    # Several mistakes at once still make one line, not one per variable.
    r = ctx.run([ctx.python, "-c", PROGRAM], PYAGENT_MODE="full", PYAGENT_FREQ="lots", PYAGENT_BOGUS="1")
    assert (r.returncode, r.stdout) == (7, "ok\n") and len(agent_lines(r.stderr)) == 1, r


@case("config")
def bad_configuration_in_every_process_of_a_tree(ctx):
    """a shell running Python children with a bad value: each process says so once, output unchanged"""
    script = "echo shell; %s -c 'print(1)'; %s -c 'import subprocess, sys; subprocess.run([sys.executable, \"-c\", \"print(2)\"])'" % (
        ctx.python, ctx.python)
    base, mine = ctx.run(["sh", "-c", script], lib=False), ctx.run(["sh", "-c", script], PYAGENT_MODE="bogus")
    assert (base.returncode, base.stdout) == (mine.returncode, mine.stdout), (base, mine)
    # Three Python processes, and the shell (the agent is loaded there too, dormant,
    # and says why it is off) unless it execs its last command.
    lines = agent_lines(mine.stderr)
    assert len(lines) in (3, 4) and all("PYAGENT_MODE=bogus" in l for l in lines), lines
    assert not ctx.traces()
    return "%d lines" % len(lines)


def run_with_output(ctx, output, **extra):
    base = ctx.run([ctx.python, "-c", PROGRAM], lib=False)
    r = ctx.run([ctx.python, "-c", PROGRAM], PYAGENT_OUTPUT=output, PYAGENT_LEAK_REPORT="off", **extra)
    assert (r.returncode, r.stdout) == (base.returncode, base.stdout), "PYAGENT_OUTPUT=%s: %r" % (output, r)
    return agent_lines(r.stderr)


def fingerprint(path):
    st = os.lstat(path)
    content = open(path, "rb").read() if stat.S_ISREG(st.st_mode) else None
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size, content,
            os.readlink(path) if os.path.islink(path) else None)


@case("config")
def output_path_taken_by_something_else(ctx):
    """PYAGENT_OUTPUT at someone's file, a symlink (to a file, dangling), a directory, a FIFO: untouched"""
    d = ctx.tmp
    victim_file = os.path.join(d, "theirs.txt")
    with open(victim_file, "w") as f:
        f.write("precious\n")
    os.chmod(victim_file, 0o640)
    paths = {
        "file": victim_file,
        "symlink to a file": os.path.join(d, "link.trace"),
        "dangling symlink": os.path.join(d, "dangling.trace"),
        "directory": os.path.join(d, "dir.trace"),
        "fifo": os.path.join(d, "fifo.trace"),
    }
    os.symlink(victim_file, paths["symlink to a file"])
    os.symlink(os.path.join(d, "would-be-created.trace"), paths["dangling symlink"])
    os.mkdir(paths["directory"])
    os.mkfifo(paths["fifo"])
    before = {k: fingerprint(p) for k, p in paths.items()}
    for what, path in paths.items():
        lines = run_with_output(ctx, path)  # a FIFO opened for writing would hang here
        assert any("cannot create trace file" in l and path in l for l in lines), "%s: %s" % (what, lines)
        assert len([l for l in lines if not l.startswith("pyagent: no hardware")]) == 1, "%s: %s" % (what, lines)
    after = {k: fingerprint(p) for k, p in paths.items()}
    assert before == after, "changed: %s" % [k for k in paths if before[k] != after[k]]
    assert not os.path.exists(os.path.join(d, "would-be-created.trace")), "a dangling symlink was followed"
    assert sorted(os.listdir(d)) == sorted(["theirs.txt", "link.trace", "dangling.trace", "dir.trace", "fifo.trace"])


@case("config")
def output_directory_missing_or_unwritable(ctx):
    """a missing directory, one the kernel refuses (/sys), and (as another user) a read-only one"""
    for path in (os.path.join(ctx.tmp, "no", "such", "dir", "t.trace"), "/sys/pyagent-battery.trace",
                 os.path.join(ctx.tmp, "missing-%p", "t.trace")):
        lines = run_with_output(ctx, path)
        assert any(l.startswith("pyagent: cannot create trace file") for l in lines), (path, lines)
    assert not os.path.exists(os.path.join(ctx.tmp, "no")), "a directory was created"
    return unwritable_as_another_user(ctx)


def unwritable_as_another_user(ctx):
    """root writes anywhere: the read-only directory is tried as nobody when we are root."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        return "read-only directory not tried (needs root and setpriv)"
    top = tempfile.mkdtemp(prefix="pyagent-ro-")
    try:
        os.chmod(top, 0o755)
        ro = os.path.join(top, "ro")
        os.mkdir(ro, 0o555)
        os.chmod(ro, 0o555)
        drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(drop + [ctx.python, "-c", "pass"], capture_output=True, cwd=top)
        if probe.returncode != 0 or not os.access(ctx.lib, os.R_OK):
            return "read-only directory not tried (%s cannot run as nobody)" % ctx.python
        cmd = drop + [ctx.python, "-c", PROGRAM]
        base = ctx.run(cmd, lib=False, cwd=ro)
        r = ctx.run(cmd, cwd=ro, PYAGENT_LEAK_REPORT=os.path.join(ro, "leaks.txt"))
        assert (r.returncode, r.stdout) == (base.returncode, base.stdout) == (7, "ok\n"), (base, r)
        lines = agent_lines(r.stderr)
        assert any(l.startswith("pyagent: cannot create trace file") and "Permission denied" in l for l in lines), lines
        assert any(l.startswith("pyagent: cannot create leak report file") for l in lines), lines
        assert os.listdir(ro) == []
        return "read-only directory tried as nobody"
    finally:
        shutil.rmtree(top, ignore_errors=True)


@case("config")
def leak_report_file_never_overwrites(ctx):
    """PYAGENT_LEAK_REPORT at someone's file or a symlink: untouched, one line; a new path gets the report"""
    theirs = os.path.join(ctx.tmp, "theirs.txt")
    with open(theirs, "w") as f:
        f.write("precious\n")
    link = os.path.join(ctx.tmp, "report-link.txt")
    os.symlink(os.path.join(ctx.tmp, "elsewhere.txt"), link)
    for path in (theirs, link):
        r = ctx.run([ctx.python, "-c", PROGRAM], PYAGENT_LEAK_REPORT=path)
        assert (r.returncode, r.stdout) == (7, "ok\n"), r
        assert any(l.startswith("pyagent: cannot create leak report file") for l in agent_lines(r.stderr)), r.stderr
    assert open(theirs).read() == "precious\n" and not os.path.exists(os.path.join(ctx.tmp, "elsewhere.txt"))
    fresh = os.path.join(ctx.tmp, "report.txt")
    r = ctx.run([ctx.python, "-c", PROGRAM], PYAGENT_LEAK_REPORT=fresh)
    assert r.returncode == 7 and "leak report for pid" in open(fresh).read(), (r, os.listdir(ctx.tmp))
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600


@case("config")
def file_size_limit_reached_while_writing(ctx):
    """RLIMIT_FSIZE of 64 KiB and a trace that would be larger: one line, program unchanged, the prefix reads"""
    prlimit = shutil.which("prlimit")
    if not prlimit:
        raise Skip("prlimit (util-linux) not found")
    code = ("import os\n"
            "keep = []\n"
            "for i in range(150000):\n"
            "    keep.append(bytearray(600 + i % 50))\n"
            "    if i % 3 == 0: keep.pop(0)\n"
            "with open('mine.txt', 'w') as f: f.write('x' * 1000)\n"
            "print('done', len(keep), os.path.getsize('mine.txt'))\n")
    cmd = [prlimit, "--fsize=65536", ctx.python, "-c", code]
    base = ctx.run(cmd, lib=False)
    r = ctx.run(cmd, PYAGENT_LEAK_REPORT="off")
    assert base.returncode == 0 and (r.returncode, r.stdout) == (base.returncode, base.stdout), (base, r)
    lines = [l for l in agent_lines(r.stderr) if not l.startswith("pyagent: no hardware")]
    assert len(lines) == 1 and "cannot write the trace" in lines[0] and "File too large" in lines[0], lines
    trace = ctx.only_trace()
    assert os.path.getsize(trace) <= 65536
    s = ctx.cli_run("summary", trace)  # readable: a torn tail is reported, not fatal
    assert "complete" in s.stdout
    return lines[0][:120]
