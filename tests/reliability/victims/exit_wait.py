"""Victim: allocates, says "ready", then waits to be signalled (argv[1]: none, term_handler,
term_ignore_once, int_caught). Each way prints what it saw."""
import ctypes
import signal
import sys
import time

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p


def leak_before_signal():
    libc.malloc(27182)


leak_before_signal()
kept = [bytearray(4000) for _ in range(50)]
how = sys.argv[1]
seen = []
if how == "term_handler":
    def on_term(sig, frame):
        print("got SIGTERM", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, on_term)
elif how == "term_ignore_once":
    def on_term(sig, frame):
        seen.append(sig)
        print("ignoring SIGTERM", len(seen), flush=True)
        if len(seen) > 1:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
try:
    deadline = time.time() + 30
    while time.time() < deadline:
        kept.append(bytearray(100))
        if len(kept) > 1000:
            del kept[100:]
        time.sleep(0.001)
except KeyboardInterrupt:
    if how != "int_caught":
        raise
    print("KeyboardInterrupt caught", flush=True)
print("timed out" if time.time() >= deadline else "done")
