"""Victim: the program ends while daemon Python threads and detached C threads are
still allocating. The daemon threads allocate in Python for a while, then in C
through ctypes (without the GIL) until the end: a daemon thread that takes the GIL
again while the interpreter finalises can crash CPython 3.10 by itself (about one
run in ten here, without any agent). How it ends is the first argument:
return, exit3 (sys.exit(3)), os_exit4 (os._exit(4)), raise (uncaught exception).

usage: thr_exit_busy.py HOW CLIB
"""
import ctypes
import os
import sys
import threading
import time

how, clib_path = sys.argv[1], sys.argv[2]
clib = ctypes.CDLL(clib_path)
assert clib.thr_start_forever(2) == 0


def churn(k, until):
    data = {}
    i = 0
    while time.monotonic() < until:
        data[i % 512] = bytearray(600 + i % 300)
        i += 1
    clib.thr_alloc_forever()


until = time.monotonic() + 0.1
for k in range(3):
    threading.Thread(target=churn, args=(k, until), daemon=True, name="daemon-%d" % k).start()
time.sleep(0.15)
print("ending:", how, flush=True)
if how == "exit3":
    sys.exit(3)
if how == "os_exit4":
    os._exit(4)
if how == "raise":
    raise RuntimeError("the program's own error")
