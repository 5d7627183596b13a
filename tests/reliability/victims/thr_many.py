"""Victim: N short-lived threads, at most K alive at once, each allocating through
malloc (buffers over pymalloc's 512 bytes) and making a few calls; prints the total
so a run with the agent can be compared with one without.

usage: thr_many.py N [K] [--rss]
--rss adds the process's peak resident memory in KiB (not comparable across runs).
"""
import resource
import sys
import threading

n = int(sys.argv[1])
k = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 8
results = [0] * n


def square_sum(buf):
    return sum(b * b for b in buf[:64])


def work(i):
    buf = bytearray(range(256)) * (8 + i % 8)
    results[i] = square_sum(buf) + len(buf)


started = []
for i in range(n):
    if len(started) >= k:
        started.pop(0).join()
    t = threading.Thread(target=work, args=(i,), name="short-%d" % i)
    t.start()
    started.append(t)
for t in started:
    t.join()
print(n, sum(results), threading.active_count())
if "--rss" in sys.argv:
    print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
