"""Victim: a known number of calls of each function through recursion, generators
(`yield from`), coroutines, exceptions caught and uncaught, and threads. The test
checks trace mode counts every call exactly once (resumptions are not calls)."""
import asyncio
import sys
import threading


def rec(n):
    return 0 if n == 0 else 1 + rec(n - 1)


def inner_gen(n):
    for i in range(n):
        yield i


def outer_gen(n):
    yield from inner_gen(n)
    yield -1


def fails(n):
    raise ValueError(n)


def catches(n):
    try:
        fails(n)
    except ValueError:
        return 1


def unwinds(n):
    return catches_not(n)


def catches_not(n):
    fails(n)


async def leaf_coro(i):
    await asyncio.sleep(0)
    return i


async def main_coro():
    return sum(await asyncio.gather(*(leaf_coro(i) for i in range(4))))


def worker(k):
    for _ in range(k):
        rec(5)


def main():
    rec(10)                              # rec: 11
    total = sum(outer_gen(5))            # outer_gen: 1, inner_gen: 1
    for i in range(3):
        catches(i)                       # catches: 3, fails: 3
    try:
        unwinds(7)                       # unwinds: 1, catches_not: 1, fails: 1 (unwound through two frames)
    except ValueError:
        pass
    total += asyncio.run(main_coro())    # main_coro: 1, leaf_coro: 4
    threads = [threading.Thread(target=worker, args=(4,), name="worker-%d" % i) for i in range(2)]
    for t in threads:                    # worker: 2, rec: 2 * 4 * 6 = 48
        t.start()
    for t in threads:
        t.join()
    print("calls_exact", total)
    if len(sys.argv) > 1 and sys.argv[1] == "uncaught":
        unwinds(9)                       # unwinds: +1, catches_not: +1, fails: +1; the program dies


if __name__ == "__main__":
    main()
