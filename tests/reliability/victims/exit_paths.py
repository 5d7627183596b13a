"""Victim: ends in the way argv[1] names, after allocating in leak_before_exit()."""
import atexit
import ctypes
import os
import signal
import sys
import threading
import time

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p


def leak_before_exit():
    libc.malloc(31337)


leak_before_exit()
how = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""
print("before", how, arg, flush=True)
print("unflushed line", how)  # lost with os._exit, as without the agent

if how == "sys_exit":
    sys.exit(int(arg) if arg.lstrip("-").isdigit() else (None if arg == "None" else arg))
elif how == "os_exit":
    os._exit(int(arg))
elif how == "os_exit_thread":  # from a thread, while others run
    def spin():
        while True:
            bytearray(1000)
    for _ in range(2):
        threading.Thread(target=spin, daemon=True).start()
    t = threading.Thread(target=lambda: (time.sleep(0.1), os._exit(int(arg))))
    t.start()
    t.join()
elif how == "raise":
    def fail_deeply(n):
        if n == 0:
            raise ValueError("victim failure")
        fail_deeply(n - 1)
    fail_deeply(5)
elif how == "raise_in_thread":  # the thread's exception is printed; the program goes on
    t = threading.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()
elif how == "atexit":
    def at_exit():
        global kept
        kept = [bytearray(5000) for _ in range(20)]
        print("atexit ran", len(kept), flush=True)
    atexit.register(at_exit)
    atexit.register(lambda: sys.stdout.write("second handler\n"))
elif how == "atexit_raises":
    atexit.register(lambda: 1 / 0)
elif how == "del_at_shutdown":
    class Noisy:
        def __del__(self):
            print("__del__ at shutdown", flush=True)
            raise RuntimeError("from __del__")
    keep_me = Noisy()
elif how == "daemon_threads":  # daemon threads still allocating during shutdown
    def churn():
        junk = []
        while True:
            junk.append(bytearray(2000))
            if len(junk) > 100:
                junk.clear()
    for _ in range(4):
        threading.Thread(target=churn, daemon=True).start()
    time.sleep(0.2)
    sys.exit(int(arg or 0))
elif how == "self_kill":  # a fatal signal sent to itself, default action
    os.kill(os.getpid(), getattr(signal, arg))
elif how == "self_kill_blocked":  # blocked: the signal waits, the program goes on
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
    os.kill(os.getpid(), signal.SIGUSR1)
    print("still here", flush=True)
    libc.malloc(4242)  # must be in the trace: the kill did not end the recording
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGUSR1])
elif how == "abort":
    os.abort()
elif how == "exit_in_finally":
    try:
        raise KeyError("x")
    finally:
        sys.exit(12)
print("after", how)
