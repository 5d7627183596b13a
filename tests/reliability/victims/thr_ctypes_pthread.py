"""Victim: threads the interpreter does not know it started. libc's pthread_create is
called through ctypes with a ctypes callback as the start routine, so each thread
enters Python from C (PyGILState_Ensure inside the callback) and allocates there;
then a C library of the program (thr_cthreads.c) starts and joins threads of its own.

usage: thr_ctypes_pthread.py CLIB N
Prints what the threads computed and how much the C threads left allocated.
"""
import ctypes
import sys

clib_path, n = sys.argv[1], int(sys.argv[2])
libc = ctypes.CDLL(None)
START = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
libc.pthread_create.argtypes = [ctypes.POINTER(ctypes.c_ulong), ctypes.c_void_p, START, ctypes.c_void_p]
libc.pthread_join.argtypes = [ctypes.c_ulong, ctypes.POINTER(ctypes.c_void_p)]
results = {}


def from_c(arg):
    i = arg or 0
    blocks = [bytearray(1000 + i) for _ in range(20)]
    results[i] = sum(len(b) for b in blocks)
    return 0


start = START(from_c)  # kept alive until every thread is joined
for batch in range(0, n, 8):
    tids = []
    for i in range(batch, min(n, batch + 8)):
        tid = ctypes.c_ulong()
        rc = libc.pthread_create(ctypes.byref(tid), None, start, ctypes.c_void_p(i))
        assert rc == 0, rc
        tids.append(tid)
    for tid in tids:
        assert libc.pthread_join(tid.value, None) == 0
print("python-callback threads", len(results), sum(results.values()))

clib = ctypes.CDLL(clib_path)
clib.thr_spawn.restype = ctypes.c_long
print("c threads", clib.thr_spawn(n, 4096))
