"""Victim: MemoryError, from one impossible request and from a process limit
(RLIMIT_AS, argv[1] megabytes above what the process uses now); the program recovers
and exits normally."""
import resource
import sys

try:
    bytearray(1 << 50)
except MemoryError:
    print("huge request: MemoryError")
try:
    b"x" * (1 << 62)
except (MemoryError, OverflowError) as e:
    print("huge bytes:", type(e).__name__)


def vm_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


limit = vm_bytes() + int(sys.argv[1]) * (1 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
chunks = []
try:
    while True:
        chunks.append(bytearray(1 << 20))
except MemoryError:
    got = len(chunks)
    chunks.clear()
    print("limit reached: MemoryError", "after some MiB" if got > 0 else "at once")
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("recovered", sum(len(bytearray(1000)) for _ in range(1000)))
