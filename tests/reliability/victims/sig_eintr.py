"""Victim: blocking calls and the program's own signals, in C (sig_eintr.c: five
calls each interrupted once, with and without SA_RESTART) and in Python (PEP 475
retries, a handler's exception interrupting the call). Prints what happened.

usage: sig_eintr.py CLIB
"""
import ctypes
import os
import signal
import threading
import time

clib = ctypes.CDLL(os.path.abspath(__import__("sys").argv[1]))
clib.eintr_calls.restype = ctypes.c_char_p
print("no restart:", clib.eintr_calls(0).decode())
print("restart:   ", clib.eintr_calls(1).decode())


class Interrupted(Exception):
    pass


alarms = []
signal.signal(signal.SIGALRM, lambda s, f: alarms.append(s))
t0 = time.monotonic()
signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
time.sleep(0.3)  # PEP 475: resumed after every handler, slept in full
signal.setitimer(signal.ITIMER_REAL, 0)
print("sleep resumed:", time.monotonic() - t0 >= 0.3, len(alarms) >= 5)

r, w = os.pipe()
threading.Timer(0.15, lambda: os.write(w, b"z")).start()
signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
print("read resumed:", os.read(r, 1))
signal.setitimer(signal.ITIMER_REAL, 0)


def raising(s, f):
    raise Interrupted()


signal.signal(signal.SIGALRM, raising)
signal.setitimer(signal.ITIMER_REAL, 0.05)
try:
    os.read(r, 1)
    print("read: not interrupted")
except Interrupted:
    print("read: interrupted by the handler's exception")
ev = threading.Event()
signal.setitimer(signal.ITIMER_REAL, 0.05)
try:
    ev.wait(5)
    print("wait: not interrupted")
except Interrupted:
    print("wait: interrupted by the handler's exception")
