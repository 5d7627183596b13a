"""Victim for per-call attribution in trace mode: f and g each allocate 300,000 bytes
on their first line; spin computes without allocating, then f follows it; request (counted) only spins."""


def f():
    b = bytearray(300000)
    return len(b)
def g():
    b = bytearray(300000)
    return len(b)
def spin(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
def request():
    """Counted (PYAGENT_COUNT=request): its end is an event of its own."""
    return spin(200000)


def main():
    t = 0
    for i in range(300):
        t += f() + g()
    for i in range(20):
        t += spin(200000)
        t += f()
    for i in range(10):
        t += request()
    print(t)
main()
