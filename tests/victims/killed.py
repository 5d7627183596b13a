"""Victim for the SIGKILL test: allocates steadily, tells the parent when it has
been running for a while, then waits to be killed."""
import sys
import time

keep = []


def allocate_for(seconds):
    end = time.time() + seconds
    while time.time() < end:
        keep.append(bytearray(20_000))
        if len(keep) > 200:
            del keep[:100]
        time.sleep(0.001)


allocate_for(float(sys.argv[1]) if len(sys.argv) > 1 else 1.5)
print("ready", flush=True)
time.sleep(60)
