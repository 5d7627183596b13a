"""Victim: two functions doing 3:1 of the same work, each on its own named thread.
The threads take turns (alpha 3 units, then beta 1 unit, round after round), so GIL
contention cannot skew their CPU time and both see the same machine over time: the
work ratio is then the CPU-time ratio, even on a busy machine."""
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


def take_turns(fn, work, mine, theirs, rounds):
    for _ in range(rounds):
        mine.wait()
        mine.clear()
        fn(work)
        theirs.set()


def main(n, rounds=40):
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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
