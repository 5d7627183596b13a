"""Victim: os.fork() with each end of the child. argv: MODE (_exit, sys_exit, fall_through).
Writes the two pids to pids.txt (stdout stays the same with and without the agent)."""
import ctypes
import os
import sys

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p


def parent_work():
    libc.malloc(777777)


def child_work():
    libc.malloc(4444)
    return [bytearray(3000) for _ in range(20)]


mode = sys.argv[1]
parent_work()
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    kept = child_work()
    print("child", mode, flush=True)
    with open("pids.txt", "a") as f:
        f.write("child %d %d\n" % (os.getpid(), os.getppid()))
    if mode == "_exit":
        os._exit(5)
    elif mode == "sys_exit":
        sys.exit(6)
    # fall_through: the child runs the rest of the program, like its parent
else:
    _, status = os.waitpid(pid, 0)
    print("child status", os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
    with open("pids.txt", "a") as f:
        f.write("parent %d\n" % os.getpid())
print("end", "child" if pid == 0 else "parent")
