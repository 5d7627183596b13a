"""Victim: two functions doing 3:1 of the same work, each on its own named thread.
The threads run one after the other so that GIL contention does not skew the CPU
time each one gets (the work ratio is then the CPU-time ratio)."""
import sys
import threading


def spin_alpha(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def spin_beta(n):
    s = 0
    for i in range(n):
        s += i * i % 7
    return s


def main(n):
    for name, fn, work in (("alpha", spin_alpha, 3 * n), ("beta", spin_beta, n)):
        t = threading.Thread(target=fn, args=(work,), name=name)
        t.start()
        t.join()
    print("split done")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
