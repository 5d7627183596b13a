"""Victim: multiprocessing with a start method (argv[1]: fork, spawn, forkserver):
a pool, a Process with a Queue, results printed."""
import ctypes
import multiprocessing as mp
import sys


def mp_work(n):
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc(1000 + n)  # a leak per task, found in the workers' traces
    return sum(len(bytearray(1000 * n)) for _ in range(10))


def producer(q):
    q.put([mp_work(i) for i in range(3)])


if __name__ == "__main__":
    ctx = mp.get_context(sys.argv[1])
    pool = ctx.Pool(2)
    print(pool.map(mp_work, range(8)))
    pool.close()
    pool.join()
    q = ctx.Queue()
    p = ctx.Process(target=producer, args=(q,))
    p.start()
    print(q.get())
    p.join()
    print("exitcode", p.exitcode)
