"""Processes: fork, multiprocessing, subprocess and exec leave the host unchanged, and
every process the agent follows leaves its own readable trace."""
import os

from common import Skip, case, pid_of

CASES = []


# ---- helpers ----

def victim(ctx, name):
    return os.path.join(ctx.victims, name)


def summary(ctx, trace):
    return ctx.cli_json("summary", trace)


def leak_functions(ctx, trace, *extra):
    """{python function: bytes} of the trace's leaks (innermost Python frame)."""
    out = {}
    for leak in ctx.cli_json("leaks", trace, *extra)["leaks"]:
        fn = next((f["function"] for f in leak["stack"] if f["kind"] == "python"), None)
        out[fn] = out.get(fn, 0) + leak["bytes"]
    return out


def traces_by_pid(ctx):
    """{pid: [trace, ...]} for the default trace names (an exec'd image of the same
    pid gets pyagent-PID.N.trace)."""
    out = {}
    for t in ctx.traces():
        base = os.path.basename(t)
        pid = int(base.split("-")[1].split(".")[0])
        out.setdefault(pid, []).append(t)
    return out


def pids_file(ctx):
    """Lines of pids.txt the victims write: [("parent", pid), ("child", pid, ppid), ...]."""
    path = os.path.join(ctx.tmp, "pids.txt")
    rows = []
    for line in open(path).read().split("\n"):
        if line.strip():
            w = line.split()
            rows.append((w[0], *map(int, w[1:])))
    return rows


def assert_complete(ctx, trace, what=""):
    s = summary(ctx, trace)
    assert s["complete"], "%s%s: trace not complete (end frame %s, exit checkpoint %s, diagnostics %s)" % (
        what, os.path.basename(trace), s["end_frame"], s["exit_checkpoint"], s["diagnostics"])
    return s


def clean_traces(ctx):
    for t in ctx.traces():
        os.unlink(t)
    p = os.path.join(ctx.tmp, "pids.txt")
    if os.path.exists(p):
        os.unlink(p)


# ---- fork ----

@case("processes")
def fork_child_writes_its_own_trace(ctx):
    """os.fork(): the child's trace has its own pid and leaks, the parent's is unaffected (child ends by _exit, sys.exit, falling through)"""
    for mode in ("_exit", "sys_exit", "fall_through"):
        clean_traces(ctx)
        ctx.same_as_baseline([ctx.python, victim(ctx, "proc_fork.py"), mode], between=lambda: clean_traces(ctx),
                             PYAGENT_LEAK_REPORT="off")
        rows = {r[0]: r[1:] for r in pids_file(ctx)}
        parent, (child, childs_parent) = rows["parent"][0], rows["child"]
        assert childs_parent == parent, rows
        by_pid = traces_by_pid(ctx)
        assert sorted(by_pid) == sorted([parent, child]), "%s: traces %s, pids parent %d child %d" % (
            mode, [os.path.basename(t) for t in ctx.traces()], parent, child)
        ps = assert_complete(ctx, by_pid[parent][0], mode + " parent ")
        cs = assert_complete(ctx, by_pid[child][0], mode + " child ")
        assert (cs["pid"], cs["ppid"], ps["pid"]) == (child, parent, parent), (cs["pid"], cs["ppid"], ps["pid"])
        pl, cl = leak_functions(ctx, by_pid[parent][0]), leak_functions(ctx, by_pid[child][0])
        assert pl.get("parent_work") == 777777 and "child_work" not in pl, "%s parent leaks: %s" % (mode, pl)
        assert cl.get("child_work", 0) >= 4444 and "parent_work" not in cl, "%s child leaks: %s" % (mode, cl)
    return "3 ways a child ends"


def fork_storm(ctx, forks, *extra_args, **env):
    r, _ = ctx.same_as_baseline([ctx.python, victim(ctx, "proc_fork_threads.py"), str(forks), *extra_args],
                                PYAGENT_LEAK_REPORT="off", timeout=300, **env)
    assert r.stdout.strip() == "forks %d failed 0" % forks, r.stdout
    traces = ctx.traces()
    assert len(traces) == forks + 1, "%d forks, %d traces" % (forks, len(traces))
    incomplete = [os.path.basename(t) for t in traces if not summary(ctx, t)["complete"]]
    assert not incomplete, "incomplete traces: %s" % incomplete


@case("processes")
def fork_while_threads_allocate(ctx):
    """16 forks while three threads allocate: no child deadlocks, every child and the parent write a complete trace"""
    fork_storm(ctx, 16)
    return "16 forks"


@case("processes", fast=False)
def fork_while_threads_allocate_heavy(ctx):
    """100 forks while threads allocate at 1 kHz sampling; 40 in trace mode; 40 from a non-main thread"""
    fork_storm(ctx, 100, PYAGENT_FREQ=1000)
    clean_traces(ctx)
    fork_storm(ctx, 40, PYAGENT_MODE="trace")
    clean_traces(ctx)
    fork_storm(ctx, 40, "from_thread", PYAGENT_FREQ=1000)
    return "100 + 40 (trace mode) + 40 (from a thread)"


# ---- multiprocessing ----

def multiprocessing_case(ctx, method):
    if method == "forkserver" and ctx.minor < (3, 8):
        raise Skip("no forkserver")
    base, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "proc_mp.py"), method], PYAGENT_LEAK_REPORT="off",
                                      timeout=300)
    assert "exitcode 0" in mine.stdout, mine.stdout
    traces = ctx.traces()
    # the parent, two pool workers, the Process (+ forkserver / resource tracker)
    assert len(traces) >= 4, "%s: only %d traces" % (method, len(traces))
    found = 0
    for t in traces:
        s = summary(ctx, t)
        assert s["bad_chunks"] == 0 and not s["diagnostics"], (os.path.basename(t), s["diagnostics"])
        assert s["complete"], "%s: %s not complete (argv %s)" % (method, os.path.basename(t), s["argv"])
        work = leak_functions(ctx, t).get("mp_work", 0)
        found += work
    # every task leaked 1000 + n bytes: 8 pool tasks (1000..1007) + 3 in the Process (1000..1002)
    assert found == sum(1000 + n for n in range(8)) + sum(1000 + n for n in range(3)), \
        "%s: mp_work leaks add up to %d" % (method, found)
    return "%d traces" % len(traces)


@case("processes")
def multiprocessing_fork(ctx):
    """multiprocessing (fork): same results; every worker's trace is complete and holds its tasks' leaks"""
    return multiprocessing_case(ctx, "fork")


@case("processes")
def multiprocessing_spawn(ctx):
    """multiprocessing (spawn): same results; spawned interpreters are followed, each trace complete"""
    return multiprocessing_case(ctx, "spawn")


@case("processes", fast=False)
def multiprocessing_forkserver(ctx):
    """multiprocessing (forkserver): same results; the server and its children each write a complete trace"""
    return multiprocessing_case(ctx, "forkserver")


# ---- subprocess ----

SUBPROCESS_WAYS = ("run", "preexec", "popen_pipe", "system", "posix_spawn", "via_shell")


@case("processes")
def subprocess_python_children_followed(ctx):
    """Python children (subprocess.run, preexec_fn, pipes, os.system, posix_spawn, through a shell) write their own trace"""
    for how in SUBPROCESS_WAYS:
        clean_traces(ctx)
        ctx.same_as_baseline([ctx.python, victim(ctx, "proc_subprocess.py"), how], between=lambda: clean_traces(ctx),
                             PYAGENT_LEAK_REPORT="off")
        rows = pids_file(ctx)
        parent = next(r[1] for r in rows if r[0] == "parent")
        child = next(r[1] for r in rows if r[0] == "child")
        by_pid = traces_by_pid(ctx)
        assert set(by_pid) == {parent, child} and len(ctx.traces()) == 2, \
            "%s: traces %s, expected one of parent %d and one of child %d" % (
                how, [os.path.basename(t) for t in ctx.traces()], parent, child)
        assert_complete(ctx, by_pid[parent][0], how + " parent ")
        assert_complete(ctx, by_pid[child][0], how + " child ")
        assert leak_functions(ctx, by_pid[child][0]).get("child_work") == 55555, how
        assert "child_work" not in leak_functions(ctx, by_pid[parent][0]), how
    return ", ".join(SUBPROCESS_WAYS)


@case("processes")
def subprocess_grandchildren_followed(ctx):
    """Python -> Python -> Python: three traces, each naming its parent"""
    ctx.same_as_baseline([ctx.python, victim(ctx, "proc_subprocess.py"), "grandchild"],
                         between=lambda: clean_traces(ctx), PYAGENT_LEAK_REPORT="off")
    rows = pids_file(ctx)
    by_pid = traces_by_pid(ctx)
    pids = [r[1] for r in rows]
    assert sorted(by_pid) == sorted(pids) and len(pids) == 3, (rows, sorted(by_pid))
    for r in rows:
        s = assert_complete(ctx, by_pid[r[1]][0])
        if r[0] == "child":
            assert s["ppid"] == r[2], (s["ppid"], r)


@case("processes")
def follow_off_stops_at_the_first_process(ctx):
    """PYAGENT_FOLLOW=off: only the first process records; its Python children (any way started) run dormant and unchanged"""
    for how in SUBPROCESS_WAYS + ("grandchild",):
        clean_traces(ctx)
        _, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "proc_subprocess.py"), how],
                                       between=lambda: clean_traces(ctx), PYAGENT_LEAK_REPORT="off",
                                       PYAGENT_FOLLOW="off")
        parent = next(r[1] for r in pids_file(ctx) if r[0] == "parent")
        assert [pid_of(t) for t in ctx.traces()] == [parent], "%s: traces %s, parent %d" % (
            how, [os.path.basename(t) for t in ctx.traces()], parent)
        assert_complete(ctx, ctx.only_trace())
    clean_traces(ctx)
    r = ctx.run([ctx.python, victim(ctx, "proc_mp.py"), "spawn"], PYAGENT_LEAK_REPORT="off", PYAGENT_FOLLOW="off")
    assert r.returncode == 0 and "exitcode 0" in r.stdout, r
    assert len(ctx.traces()) == 1, "spawn with FOLLOW=off: %d traces" % len(ctx.traces())
    return "subprocess ways and multiprocessing spawn"


@case("processes")
def follow_off_first_python_behind_a_shell(ctx):
    """PYAGENT_FOLLOW=off under `sh -c`: the shell stays dormant, the first Python process it starts records, not its children"""
    code = "import subprocess, sys; print(subprocess.run([sys.executable, '-c', 'print(2)'], capture_output=True).stdout)"
    _, mine = ctx.same_as_baseline(["/bin/sh", "-c", "%s -c \"%s\"; echo done" % (ctx.python, code)],
                                   PYAGENT_LEAK_REPORT="off", PYAGENT_FOLLOW="off")
    s = assert_complete(ctx, ctx.only_trace())
    assert "subprocess" in " ".join(s["argv"]), s["argv"]


@case("processes")
def follow_rejects_bad_values(ctx):
    """PYAGENT_FOLLOW=maybe: one clear line naming the variable, the program runs untouched"""
    r = ctx.py("-c", "print('ok')", PYAGENT_FOLLOW="maybe")
    assert r.returncode == 0 and r.stdout == "ok\n", r
    lines = ctx.complaints(r.stderr).splitlines()
    assert len(lines) == 1 and "PYAGENT_FOLLOW" in lines[0] and "maybe" in lines[0], r.stderr
    assert ctx.traces() == []


@case("processes")
def non_python_children_unaffected(ctx):
    """sh, ls, sort, cat, a failing command: same output, status and stderr; no trace of theirs"""
    code = ("import subprocess, sys\n"
            "data = ''.join('%d\\n' % ((i * 7919) % 10007) for i in range(50000))\n"
            "cmds = [['sh', '-c', 'echo out; echo err >&2; exit 3'], ['ls', '/'], ['sort', '-n'], ['cat'],\n"
            "        ['sh', '-c', 'ls /nonexistent-dir'], ['sh', '-c', 'sort -n | uniq | wc -l']]\n"
            "for c in cmds:\n"
            "    r = subprocess.run(c, input=data, capture_output=True, text=True)\n"
            "    print(c[0], r.returncode, len(r.stdout), hash(r.stdout), repr(r.stderr))\n")
    base, mine = ctx.same_as_baseline([ctx.python, "-c", code], PYAGENT_LEAK_REPORT="off", PYTHONHASHSEED="0")
    assert "No such file" in base.stdout, base.stdout
    assert len(ctx.traces()) == 1, [os.path.basename(t) for t in ctx.traces()]


# ---- exec ----

def exec_case(ctx, how, images, status, **env):
    env.setdefault("PYAGENT_LEAK_REPORT", "off")
    base, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "proc_exec.py"), how], **env)
    assert base.returncode == status, (how, base)
    traces = ctx.traces()
    assert len({pid_of_any(t) for t in traces}) <= 1, traces
    assert len(traces) == len(images), "%s: %d traces for %d recorded images: %s" % (
        how, len(traces), len(images), [os.path.basename(t) for t in traces])
    # pyagent-PID.trace is the first image, pyagent-PID.1.trace the second
    for t, fn in zip(sorted(traces, key=len), images):
        assert_complete(ctx, t, how + " ")
        leaks = leak_functions(ctx, t)
        assert fn in leaks, "%s: %s has no %s leak: %s" % (how, os.path.basename(t), fn, sorted(map(str, leaks)))
    return mine


def pid_of_any(trace):
    return int(os.path.basename(trace).split("-")[1].split(".")[0])


@case("processes")
def exec_into_python(ctx):
    """os.execv/execvp into Python: the first image's trace is complete (nothing lost at exec), the new image writes its own"""
    exec_case(ctx, "execv", ["first_image", "second_image"], 4)
    clean_traces(ctx)
    path = os.path.dirname(ctx.python) + ":" + os.environ.get("PATH", "/usr/bin:/bin")
    exec_case(ctx, "execvp", ["first_image", "second_image"], 4, PATH=path)
    clean_traces(ctx)
    exec_case(ctx, "execve_no_agent", ["first_image"], 4)


@case("processes")
def exec_into_other_programs(ctx):
    """os.execl into /bin/sh: same output and status; the Python image's trace is complete"""
    exec_case(ctx, "execl_sh", ["first_image"], 5)


@case("processes")
def failed_exec_keeps_running(ctx):
    """A failed os.execv raises OSError as without the agent and the program goes on unchanged"""
    r, _ = ctx.same_as_baseline([ctx.python, victim(ctx, "proc_exec.py"), "execv_missing"],
                                PYAGENT_LEAK_REPORT="off")
    assert "exec failed 2" in r.stdout and "still running 30" in r.stdout, r.stdout
    s = summary(ctx, ctx.only_trace())
    assert s["bad_chunks"] == 0 and not s["diagnostics"], s["diagnostics"]


@case("processes")
def exec_failing_after_the_checks_says_so(ctx):
    """An exec that fails past the agent's checks (ENOEXEC): the program goes on unchanged, one line says the rest is not recorded"""
    cmd = [ctx.python, victim(ctx, "proc_exec.py"), "execv_enoexec"]
    base = ctx.run(cmd, lib=False)
    mine = ctx.run(cmd, PYAGENT_LEAK_REPORT="off")
    assert (base.returncode, base.stdout) == (mine.returncode, mine.stdout), (base, mine)
    assert "exec failed 8" in mine.stdout and "still running 30" in mine.stdout, mine.stdout
    lines = ctx.complaints(mine.stderr).splitlines()
    assert len(lines) == 1 and "exec failed" in lines[0] and "not recorded" in lines[0], mine.stderr
    s = assert_complete(ctx, ctx.only_trace())
    assert "first_image" in leak_functions(ctx, ctx.only_trace()), s


@case("processes")
def follow_off_exec_self_still_records(ctx):
    """PYAGENT_FOLLOW=off: a process that execs itself keeps its pid and stays recorded (two traces, one per image)"""
    exec_case(ctx, "execv", ["first_image", "second_image"], 4, PYAGENT_FOLLOW="off")
