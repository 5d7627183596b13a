"""Victim: forks repeatedly while other threads allocate (malloc, Python objects,
ctypes), so some fork lands while a thread is inside the agent with a lock held.
argv: FORKS [from_thread]. Each child allocates in a thread of its own and exits; a
child that does not end within 30 s is reported as hung."""
import ctypes
import os
import sys
import threading
import time

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
stop = threading.Event()


def churn(seed):
    keep = []
    i = 0
    while not stop.is_set():
        i += 1
        keep.append(bytearray(64 + (i * seed) % 20000))
        keep.append({"k%d" % j: j for j in range(i % 50)})
        p = libc.malloc(100 + i % 5000)
        libc.free(p)
        if len(keep) > 400:
            del keep[:200]


def child_body(n):
    out = []
    t = threading.Thread(target=lambda: out.append(len([bytearray(5000) for _ in range(50)])))
    t.start()
    t.join()
    x = [str(i) * 10 for i in range(1000)]
    if n % 2:
        os._exit(0 if out == [50] and len(x) == 1000 else 1)
    sys.exit(0 if out == [50] else 1)


def fork_all(forks):
    bad = 0
    for n in range(forks):
        pid = os.fork()
        if pid == 0:
            child_body(n)
        # a blocking wait (the GIL is released), with a watchdog for a hung child
        timer = threading.Timer(30, lambda: (print("child %d hung" % n, flush=True), os.kill(pid, 9)))
        timer.start()
        status = os.waitpid(pid, 0)[1]
        timer.cancel()
        bad += status != 0
    return bad


forks = int(sys.argv[1])
threads = [threading.Thread(target=churn, args=(s,), daemon=True) for s in (3, 7, 11)]
for t in threads:
    t.start()
time.sleep(0.05)
if len(sys.argv) > 2 and sys.argv[2] == "from_thread":
    result = []
    forker = threading.Thread(target=lambda: result.append(fork_all(forks)))
    forker.start()
    forker.join()
    bad = result[0]
else:
    bad = fork_all(forks)
stop.set()
for t in threads:
    t.join()
print("forks", forks, "failed", bad)
