"""Victim: a program with its own handlers for SIGPROF, SIGVTALRM, SIGALRM, SIGUSR1,
SIGUSR2 and realtime signals (SIGRTMIN+1 and the agent's default SIGRTMIN+4), driven
by its own interval timers (real, virtual, profiling) and by kill/pthread_kill. It
prints the counts that are exact (sent signals) and whether each timer fired as
often as its interval says, then the dispositions it sees at the end.

usage: sig_handlers.py
"""
import os
import signal
import threading
import time

hits = {}


def counter(name):
    def handler(sig, frame):
        hits[name] = hits.get(name, 0) + 1
    return handler


names = {signal.SIGPROF: "prof", signal.SIGVTALRM: "vtalrm", signal.SIGALRM: "alrm",
         signal.SIGUSR1: "usr1", signal.SIGUSR2: "usr2",
         signal.SIGRTMIN + 1: "rtmin+1", signal.SIGRTMIN + 4: "rtmin+4"}
for sig, name in names.items():
    signal.signal(sig, counter(name))


def cpu(seconds):
    t0 = time.process_time()
    n = 0
    while time.process_time() - t0 < seconds:
        n += sum(range(500))
    return n


# Each timer alone, so its expected count is known: 0.2 s of CPU at 10 ms intervals.
for which, name in ((signal.ITIMER_PROF, "prof"), (signal.ITIMER_VIRTUAL, "vtalrm"), (signal.ITIMER_REAL, "alrm")):
    signal.setitimer(which, 0.01, 0.01)
    cpu(0.2)
    signal.setitimer(which, 0)
    print("%s timer fired enough: %s" % (name, hits.get(name, 0) >= 10))



def send(sig, times):
    for _ in range(times):
        os.kill(os.getpid(), sig)
        time.sleep(0.01)  # handled one by one (Python runs a handler once per check)


# Sent signals: exact counts, from this thread and from another.
for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGRTMIN + 1, signal.SIGRTMIN + 4):
    send(sig, 7)
    t = threading.Thread(target=send, args=(sig, 3))
    t.start()
    # The kernel may hand a signal sent by kill() to the sending thread (it picks
    # whichever thread suits it): the main thread then learns of it only when it
    # runs bytecode, so it polls instead of sleeping in join().
    while t.is_alive():
        time.sleep(0.001)
    cpu(0.02)
    signal.pthread_kill(threading.main_thread().ident, sig)
    time.sleep(0.01)
for sig, name in names.items():
    if name in ("prof", "vtalrm", "alrm"):
        continue
    print("%s received %d" % (name, hits.get(name, 0)))
print("dispositions:", sorted(names[s] for s in names if signal.getsignal(s) not in (signal.SIG_DFL, signal.SIG_IGN)))
