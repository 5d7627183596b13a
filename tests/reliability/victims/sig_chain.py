"""Victim: runs sig_chain.c's checks on a realtime signal and prints what it saw.

usage: sig_chain.py CLIB SIGNAL   (SIGNAL: a number, or rtmin+N)
"""
import ctypes
import signal
import sys

clib = ctypes.CDLL(sys.argv[1])
spec = sys.argv[2]
sig = signal.SIGRTMIN + int(spec[6:]) if spec.startswith("rtmin+") else int(spec)
buf = ctypes.create_string_buffer(4096)
clib.chain_check(sig, buf, len(buf))
print(buf.value.decode(), end="")
clib.wait_all(buf, len(buf))
print(buf.value.decode(), end="")
print("python sees", signal.getsignal(sig))
