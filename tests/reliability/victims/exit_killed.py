"""Victim for SIGKILL at random moments: allocates from the start (main and two
threads, Python objects and ctypes malloc), forever. argv[1]: seconds to run at most."""
import ctypes
import sys
import threading
import time

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]


def churn(seed):
    keep = []
    i = 0
    end = time.time() + float(sys.argv[1])
    while time.time() < end:
        i += 1
        keep.append(bytearray(100 + (i * seed) % 30000))
        p = libc.malloc(64 + i % 4096)
        libc.free(p)
        if len(keep) > 300:
            del keep[:150]


for s in (3, 5):
    threading.Thread(target=churn, args=(s,), daemon=True).start()
churn(7)
