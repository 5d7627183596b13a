"""Victim: drives load_churn.c (threads churning the C heap around a large live set)
while, optionally, Python threads make calls and small allocations of their own.

usage: load_churn.py LIB THREADS SECONDS LIVE [PY_THREADS]
Prints `live BYTES BLOCKS` (what the program itself counts as still allocated, all
of it left to the leak report) and `ops N` (allocation operations done).
"""
import ctypes
import sys
import threading
import time

lib_path, threads, seconds, live = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
py_threads = int(sys.argv[5]) if len(sys.argv) > 5 else 0

lib = ctypes.CDLL(lib_path)
lib.churn.argtypes = [ctypes.c_int, ctypes.c_double, ctypes.c_long, ctypes.c_uint64,
                      ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_uint64),
                      ctypes.POINTER(ctypes.c_uint64)]
stop = threading.Event()


def leaf(i):
    return bytes(16 + i % 64)


def middle(i):
    return len(leaf(i)) + len(leaf(i + 1))


def python_worker(counts, k):
    n = 0
    while not stop.is_set():
        for i in range(500):
            n += middle(i)
    counts[k] = n


counts = [0] * py_threads
workers = [threading.Thread(target=python_worker, args=(counts, k)) for k in range(py_threads)]
for w in workers:
    w.start()
nbytes, nblocks, nops = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint64()
t0 = time.time()
rc = lib.churn(threads, seconds, live, 12345, ctypes.byref(nbytes), ctypes.byref(nblocks), ctypes.byref(nops))
stop.set()
for w in workers:
    w.join()
print("live", nbytes.value, nblocks.value)
print("ops", nops.value)
print("python", sum(counts) > 0 if py_threads else "none")
sys.exit(0 if rc == 0 else 3)
