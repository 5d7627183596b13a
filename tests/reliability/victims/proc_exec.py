"""Victim: os.exec* from a running Python program (argv[1]: the way). The first image
leaks in first_image(), the second (when Python) in second_image()."""
import ctypes
import os
import sys

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p


def first_image():
    libc.malloc(11111)
    return [bytearray(2000) for _ in range(30)]


def second_image():
    libc.malloc(22222)


how = sys.argv[1]
py = sys.executable
if how == "second":
    second_image()
    print("second image", sys.argv[2:], flush=True)
    sys.exit(4)
kept = first_image()
print("first image", how, flush=True)
if how == "execv":
    os.execv(py, [py, __file__, "second", "execv"])
elif how == "execve_no_agent":
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    os.execve(py, [py, __file__, "second", "execve"], env)
elif how == "execvp":
    os.execvp(os.path.basename(py), [py, __file__, "second", "execvp"])
elif how == "execl_sh":
    os.execl("/bin/sh", "sh", "-c", "echo from sh; exit 5")
elif how == "execv_enoexec":  # exists and is executable, but no format the kernel runs
    with open("not-a-program", "w") as f:
        f.write("\x01\x02 neither ELF nor #!\n")
    os.chmod("not-a-program", 0o755)
    try:
        os.execv("./not-a-program", ["x"])
    except OSError as e:
        print("exec failed", e.errno, flush=True)
    print("still running", len([bytearray(3000) for _ in range(30)]))
elif how == "execv_missing":  # a failed exec: the program goes on
    try:
        os.execv("/nonexistent/program", ["x"])
    except OSError as e:
        print("exec failed", e.errno, flush=True)
    more = [bytearray(3000) for _ in range(30)]
    print("still running", len(more))
