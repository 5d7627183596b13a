"""Victim: two functions doing 3:1 of the same work, each on its own named thread.
It prints the CPU time each function really took (time.thread_time around every
call): the profile must attribute the same split, whatever the machine's load.
The threads take turns (alpha 3 units, then beta 1 unit, a few rounds; a turn lasts
several sampling periods, so its CPU time is attributed inside it), so GIL
contention cannot skew their CPU time and both see the same machine over time: the
work ratio is then the CPU-time ratio, even on a busy machine."""
import sys
import threading
import time


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


CPU = {}


def take_turns(fn, work, mine, theirs, rounds):
    spent = 0.0
    for _ in range(rounds):
        mine.wait()
        mine.clear()
        t0 = time.thread_time()
        fn(work)
        spent += time.thread_time() - t0
        theirs.set()
    CPU[fn.__name__] = spent


def main(n, rounds=8):
    alpha_turn, beta_turn = threading.Event(), threading.Event()
    unit = max(1, n // rounds)
    threads = [threading.Thread(target=take_turns, args=(spin_alpha, 3 * unit, alpha_turn, beta_turn, rounds), name="alpha"),
               threading.Thread(target=take_turns, args=(spin_beta, unit, beta_turn, alpha_turn, rounds), name="beta")]
    for t in threads:
        t.start()
    alpha_turn.set()
    for t in threads:
        t.join()
    print("split done")
    if "--cpu" in sys.argv:
        print("cpu %.6f %.6f" % (CPU["spin_alpha"], CPU["spin_beta"]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000)
