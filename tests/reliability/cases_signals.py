"""Signals and timers: a program's own handlers, timers, realtime signals (the agent's
sampling signal included) and interrupted system calls behave as without the agent.

What happens when the program takes the agent's signal (SIGRTMIN+4 unless
PYAGENT_SIGNAL says otherwise): its sigaction()/signal() calls are answered as the
kernel would, every instance someone sends goes to its disposition (its handler,
SIG_IGN, or SIG_DFL's default action, which ends the process), and the counter
overflows stay the agent's. test_agent.py checks ITIMER_REAL and SIGUSR1 at one rate
and raw EINTR counts; these cases cover every timer, realtime signals, the agent's
own signal, five blocking calls with and without SA_RESTART, Python's PEP 475 paths,
and threads that block or wait for signals.
"""
import os

from common import case

CASES = []
RATES = ("100", "5000")  # the default, and fast enough that overflows land everywhere


def victim(ctx, name):
    return os.path.join(ctx.victims, name)


def matches(ctx, base, cmd, **env):
    """Runs cmd with the agent and checks it against base, a run without it (one
    baseline serves several agent configurations)."""
    mine = ctx.run(cmd, **env)
    what = "%s with %s" % (" ".join(map(str, cmd[1:]))[:100], env)
    assert base.returncode == mine.returncode, "%s: exit status %d without the agent, %d with it\nstderr: %s" % (
        what, base.returncode, mine.returncode, mine.stderr[-1500:])
    assert base.stdout == mine.stdout, "%s: stdout differs\nwithout: %r\nwith:    %r" % (
        what, base.stdout[-600:], mine.stdout[-600:])
    assert not ctx.complaints(mine.stderr), "%s: the agent complained: %s" % (what, ctx.complaints(mine.stderr))
    return mine


def samples_in(ctx):
    """Samples the agent took in the one trace of ctx.tmp (then removes it)."""
    trace = ctx.only_trace()
    n = ctx.cli_json("summary", trace)["stats"]["samples"]
    os.remove(trace)
    return n


@case("signals")
def program_handlers_and_timers_unchanged(ctx):
    """own handlers on SIGPROF/SIGVTALRM/SIGALRM/SIGUSR1/2/SIGRTMIN+1/+4 and all three itimers, at 100 and 5000 Hz"""
    cmd = [ctx.python, victim(ctx, "sig_handlers.py")]
    base = ctx.run(cmd, lib=False)
    assert "rtmin+4 received 11" in base.stdout and "fired enough: False" not in base.stdout, base.stdout
    for rate in RATES:
        matches(ctx, base, cmd, PYAGENT_FREQ=rate, PYAGENT_LEAK_REPORT="off")
        assert samples_in(ctx) > 0, "no samples at %s Hz: the agent stopped sampling" % rate
    return "every count equal; samples taken"


@case("signals")
def program_takes_the_agents_signal(ctx):
    """sigaction/signal/sigqueue/SA_RESETHAND/SIG_IGN/SIG_DFL/sigwaitinfo on SIGRTMIN+4, the agent's default"""
    cmd = [ctx.python, victim(ctx, "sig_chain.py"), ctx.compile_c("sig_chain.c"), "rtmin+4"]
    base = ctx.run(cmd, lib=False)
    assert "sigqueue x5: hits 5 sum 15" in base.stdout, base.stdout
    for rate in RATES:
        matches(ctx, base, cmd, PYAGENT_FREQ=rate, PYAGENT_LEAK_REPORT="off")
        assert samples_in(ctx) > 0, "no samples at %s Hz after the program took the signal" % rate
    return "program sees exactly its own signals; sampling goes on"


@case("signals")
def configured_signal_taken_and_default_left_free(ctx):
    """PYAGENT_SIGNAL=SIGRTMIN+2: the program using +2 or +4 sees only its own instances"""
    lib = ctx.compile_c("sig_chain.c")
    for used in ("rtmin+2", "rtmin+4"):
        cmd = [ctx.python, victim(ctx, "sig_chain.py"), lib, used]
        matches(ctx, ctx.run(cmd, lib=False), cmd, PYAGENT_SIGNAL="SIGRTMIN+2", PYAGENT_FREQ="5000",
                PYAGENT_LEAK_REPORT="off")
        assert samples_in(ctx) > 0, "no samples with PYAGENT_SIGNAL=SIGRTMIN+2 (program uses %s)" % used


@case("signals")
def reset_to_default_does_not_kill(ctx):
    """signal.signal(s, signal.getsignal(s)) on the agent's signal (SIG_DFL) while the program runs"""
    code = ("import signal, time\n"
            "s = signal.SIGRTMIN + 4\n"
            "signal.signal(s, signal.getsignal(s))\n"
            "t = time.process_time()\n"
            "while time.process_time() - t < 0.5: sum(range(1000))\n"
            "print('alive', signal.getsignal(s))\n")
    ctx.same_as_baseline([ctx.python, "-c", code], PYAGENT_FREQ="5000", PYAGENT_LEAK_REPORT="off")
    return "alive at 5000 Hz"


@case("signals")
def sent_signal_with_default_disposition_ends_the_program(ctx):
    """os.kill(self, SIGRTMIN+4) with SIG_DFL ends the process by that signal, as without the agent"""
    code = ("import os, signal, sys\n"
            "print('before', flush=True)\n"
            "os.kill(os.getpid(), signal.SIGRTMIN + int(sys.argv[1]))\n"
            "print('after')\n")
    for n in ("4", "2"):
        base, mine = ctx.same_as_baseline([ctx.python, "-c", code, n], PYAGENT_LEAK_REPORT="off")
        assert base.returncode < 0 and base.stdout == "before\n", base
    return "status %d" % base.returncode


@case("signals")
def ignored_agent_signal_stays_ignored(ctx):
    """SIG_IGN on the agent's signal: sent instances vanish, sampling goes on"""
    code = ("import os, signal, time\n"
            "s = signal.SIGRTMIN + 4\n"
            "signal.signal(s, signal.SIG_IGN)\n"
            "for _ in range(20): os.kill(os.getpid(), s)\n"
            "t = time.process_time()\n"
            "while time.process_time() - t < 0.3: sum(range(1000))\n"
            "print('alive', signal.getsignal(s))\n")
    ctx.same_as_baseline([ctx.python, "-c", code], PYAGENT_FREQ="2000", PYAGENT_LEAK_REPORT="off")
    assert samples_in(ctx) > 0, "SIG_IGN set by the program stopped sampling"


@case("signals")
def blocking_calls_interrupted_as_without_agent(ctx):
    """read/poll/nanosleep/sem_wait/select interrupted once each (with and without SA_RESTART); PEP 475 paths"""
    cmd = [ctx.python, victim(ctx, "sig_eintr.py"), ctx.compile_c("sig_eintr.c", flags=("-lpthread",))]
    base = ctx.run(cmd, lib=False)
    assert "read=EINTR poll=EINTR nanosleep=EINTR sem_wait=EINTR select=EINTR caught=5" in base.stdout, base.stdout
    assert "setup failed" not in base.stdout and "stopped answering" not in base.stdout, base.stdout
    for rate in RATES:
        matches(ctx, base, cmd, PYAGENT_FREQ=rate, PYAGENT_LEAK_REPORT="off")
    first = base.stdout.splitlines()[1].split(":", 1)[1].strip()
    return "SA_RESTART: " + first


@case("signals")
def blocking_calls_in_trace_mode(ctx):
    """the same interrupted calls under PYAGENT_MODE=trace"""
    lib = ctx.compile_c("sig_eintr.c", flags=("-lpthread",))
    ctx.same_as_baseline([ctx.python, victim(ctx, "sig_eintr.py"), lib], PYAGENT_MODE="trace",
                         PYAGENT_LEAK_REPORT="off", timeout=120)
    ctx.same_as_baseline([ctx.python, victim(ctx, "sig_handlers.py")], PYAGENT_MODE="trace",
                         PYAGENT_LEAK_REPORT="off")


@case("signals")
def threads_blocking_and_waiting_for_signals(ctx):
    """a thread blocking every signal, sigwait/sigtimedwait on all of them, pthread_kill, set_wakeup_fd"""
    code = r'''
import os, signal, socket, threading, time
allsigs = signal.valid_signals()
out = []

def cpu(seconds):
    t = time.process_time()
    while time.process_time() - t < seconds:
        sum(range(500))

def blocked_worker():
    signal.pthread_sigmask(signal.SIG_BLOCK, allsigs)
    cpu(0.3)   # the agent's counters overflow here, with every signal blocked
    out.append(("nothing sent", signal.sigtimedwait(allsigs, 0)))
    ready.set()
    out.append(("sigwait", int(signal.sigwait({signal.SIGUSR1}))))
    info = signal.sigwaitinfo({signal.SIGUSR2})
    out.append(("sigwaitinfo", info.si_signo, info.si_code))
    out.append(("pending", sorted(signal.sigpending())))

signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # process-wide disposition; the worker waits for it
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGUSR2})
ready = threading.Event()
t = threading.Thread(target=blocked_worker)
t.start()
ready.wait()
signal.pthread_kill(t.ident, signal.SIGUSR1)
time.sleep(0.05)
signal.pthread_kill(t.ident, signal.SIGUSR2)
t.join()
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGUSR2})
for row in out:
    print(*row)

# set_wakeup_fd: only the program's signals are written to it.
a, b = socket.socketpair()
a.setblocking(False)
signal.set_wakeup_fd(a.fileno())
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
cpu(0.3)
for _ in range(3):
    os.kill(os.getpid(), signal.SIGUSR1)
    time.sleep(0.01)
print("wakeup bytes", sorted(set(b.recv(100))), "handled", len(got))
'''
    base = ctx.run([ctx.python, "-c", code], lib=False)
    assert base.stdout.startswith("nothing sent None\nsigwait 10\nsigwaitinfo 12"), base.stdout
    for rate in RATES:
        matches(ctx, base, [ctx.python, "-c", code], PYAGENT_FREQ=rate, PYAGENT_LEAK_REPORT="off")
    return "no overflow reached sigtimedwait/sigwait/sigpending"


@case("signals")
def toggle_signal_taken_by_the_program(ctx):
    """PYAGENT_TOGGLE_SIGNAL=SIGUSR2 and a program with its own SIGUSR2 handler: it gets every one"""
    base, mine = ctx.same_as_baseline([ctx.python, victim(ctx, "sig_handlers.py")], PYAGENT_TOGGLE_SIGNAL="SIGUSR2",
                                      PYAGENT_FREQ="2000", PYAGENT_LEAK_REPORT="off")
    assert "usr2 received 11" in mine.stdout, mine.stdout
