"""Victim: crashes inside a C library (argv[1]: the .so built from crash.c; argv[2]:
segv, abort, segv_thread, raise_bus) after leaking in leak_before_crash() and giving
the agent's flush period time to pass (argv[3] seconds)."""
import ctypes
import signal
import sys
import threading
import time

lib = ctypes.CDLL(sys.argv[1])
lib.crash_keep.restype = ctypes.c_void_p


def leak_before_crash():
    for _ in range(40):
        lib.crash_keep(12345)


leak_before_crash()
print("about to crash", flush=True)
time.sleep(float(sys.argv[3]))
kept = [bytearray(1000) for _ in range(20)]  # an allocation after the flush period: the flush happens here
how = sys.argv[2]
if how == "segv":
    lib.crash_segv()
elif how == "abort":
    lib.crash_abort()
elif how == "segv_thread":  # the main thread is in a known place (sleep) when it happens
    t = threading.Thread(target=lambda: (time.sleep(0.2), lib.crash_segv()))
    t.start()
    time.sleep(10)
elif how == "raise_bus":
    lib.crash_raise(signal.SIGBUS)
print("not reached")
