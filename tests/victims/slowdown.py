"""Victim for `pyagent diff`: three CPU-bound functions doing a set amount of work each,
so two runs can be compared. Output is the same whatever the options.

usage: slowdown.py [--scale N] [--slow FUNC] [--leak] [--calls N]
  --scale N    work units per function (default 4; one unit is roughly 0.1 s of CPU)
  --slow FUNC  FUNC (tokenize, crunch or render) does twice its work
  --leak       also leak 64 blocks of 4096 bytes through libc malloc (leak_buffers)
  --calls N    each function's work is split over N calls, made in turns (default 100)
"""
import argparse
import ctypes
import sys

# Loop iterations per unit of work (about 0.1 s of CPU on 3.11 and 3.12).
TOKENIZE_UNIT, CRUNCH_UNIT, RENDER_UNIT = 120_000, 1_500_000, 350_000


def tokenize(units):
    words = 0
    text = "alpha beta gamma delta epsilon " * 4
    for _ in range(int(units * TOKENIZE_UNIT)):
        words += len(text.split())
    return words


def crunch(units):
    acc = 0
    for i in range(int(units * CRUNCH_UNIT)):
        acc = (acc * 31 + i) % 1_000_003
    return acc


def render(units):
    out = 0
    for i in range(int(units * RENDER_UNIT)):
        out += len("-".join((str(i), str(i + 1), str(i * 2))))
    return out


def leak_buffers(count):
    libc = ctypes.CDLL(None)  # the process's own symbols: libc's malloc, no ldconfig run
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    for _ in range(count):
        libc.malloc(4096)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=4)
    ap.add_argument("--slow", choices=["tokenize", "crunch", "render"])
    ap.add_argument("--leak", action="store_true")
    ap.add_argument("--calls", type=int, default=100)
    a = ap.parse_args()
    # Round-robin, as a program's main loop would: each function runs in every part of
    # the run, so a machine that is slower for a while slows them all alike.
    work = [(fn, a.scale * (2 if a.slow == fn.__name__ else 1) / a.calls) for fn in (tokenize, crunch, render)]
    total = 0
    for _ in range(a.calls):
        for fn, units in work:
            total += fn(units)
    if a.leak:
        leak_buffers(64)
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
