"""Example 5: custom counters, the program's own metrics next to the profile.

A request worker with a response cache: 60 requests for 12 pages arrive in a
seeded order; handle_request() serves a page from the cache or renders it (CPU
work) on a miss. The program reports its own metrics through the agent's `pyagent`
module:

* pyagent.counter("queue_depth", n) and ("cache_hit_ratio", r): counter tracks;
* pyagent.mark("cache_miss", page=...): an instant event with fields per miss;
* pyagent.region("batch"): a span of time per batch of 20 requests;
* pyagent.stats(): the agent's live view, read by the program itself at the end
  (written to stderr, so that stdout is the same with and without the agent).

Run with PYAGENT_COUNT=handle_request and every call of handle_request is counted
too (duration, CPU time, bytes allocated). Without the agent `import pyagent`
fails, and the program runs the same with no-op stand-ins.

    python3 examples/custom_counters.py [REQUESTS]

prints how many requests were served from the cache.
"""
import collections
import contextlib
import hashlib
import random
import sys

try:
    import pyagent  # present only when the agent is preloaded
except ImportError:
    pyagent = None

PAGES = ["/page/%d" % i for i in range(12)]
BATCH = 20
CACHE = {}


def counter(name, value):
    if pyagent:
        pyagent.counter(name, value)


def mark(name, **fields):
    if pyagent:
        pyagent.mark(name, **fields)


def region(name):
    return pyagent.region(name) if pyagent else contextlib.nullcontext()


def render(page):
    """A miss: build the page (CPU work: a few thousand rounds of hashing)."""
    digest = page.encode()
    for _ in range(4000):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def handle_request(page):
    body = CACHE.get(page)
    if body is None:
        mark("cache_miss", page=page)
        body = CACHE[page] = render(page)
    return body


def main(requests):
    rng = random.Random(5)
    queue = collections.deque(rng.choice(PAGES) for _ in range(requests))
    served = hits = 0
    while queue:
        with region("batch"):
            for _ in range(min(BATCH, len(queue))):
                counter("queue_depth", len(queue))
                page = queue.popleft()
                cached = page in CACHE
                handle_request(page)
                served += 1
                hits += cached
        counter("cache_hit_ratio", hits / served)
    print("served %d requests for %d pages: %d from the cache, %d rendered"
          % (served, len(CACHE), hits, served - hits))
    if pyagent:
        report_live_stats()


def report_live_stats():
    """What the agent knows right now, asked from inside the program."""
    stats = pyagent.stats()
    counted = {c["function"]: c for c in stats["counted"]}
    line = "live: %d samples, %d bytes live" % (stats["samples"], stats["live_bytes"])
    if "handle_request" in counted:
        c = counted["handle_request"]
        line += ", handle_request called %d times in %.1f ms" % (c["calls"], c["total_ns"] / 1e6)
    if stats["top_functions"]:
        line += ", hottest %s" % stats["top_functions"][0]["function"]
    print(line, file=sys.stderr)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
