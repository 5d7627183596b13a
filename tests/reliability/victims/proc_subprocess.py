"""Victim: starts Python children in several ways (argv[1]) and prints what they print.
Every child writes its pid to pids.txt."""
import os
import subprocess
import sys

CHILD = ("import ctypes, os, sys\n"
         "def child_work():\n"
         "    libc = ctypes.CDLL('libc.so.6'); libc.malloc.restype = ctypes.c_void_p\n"
         "    libc.malloc(55555)\n"
         "child_work()\n"
         "open('pids.txt', 'a').write('child %d %d\\n' % (os.getpid(), os.getppid()))\n"
         "print('child says', sys.argv[1:])\n")
how = sys.argv[1]
py = sys.executable
open("pids.txt", "a").write("parent %d\n" % os.getpid())
if how == "run":
    r = subprocess.run([py, "-c", CHILD, "a"], capture_output=True, text=True)
    print(r.returncode, r.stdout, r.stderr.count("Traceback"))
elif how == "preexec":  # a preexec_fn forces fork + exec (no vfork, no posix_spawn)
    r = subprocess.run([py, "-c", CHILD, "b"], capture_output=True, text=True, preexec_fn=lambda: None)
    print(r.returncode, r.stdout)
elif how == "popen_pipe":
    p = subprocess.Popen([py, "-c", CHILD + "print(sys.stdin.read().upper())\n", "c"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate("hello through a pipe")
    print(p.returncode, out)
elif how == "system":
    with open("child.py", "w") as f:
        f.write(CHILD)
    print(os.system("%s child.py d" % py) >> 8)
elif how == "posix_spawn":
    with open("child.py", "w") as f:
        f.write(CHILD)
    pid = os.posix_spawn(py, [py, "child.py", "e"], os.environ)
    print(os.waitpid(pid, 0)[1])
elif how == "grandchild":  # Python -> Python -> Python
    inner = "import subprocess, sys; subprocess.run([sys.executable, '-c', %r, 'g'])" % CHILD
    r = subprocess.run([py, "-c", CHILD + inner + "\n", "f"], capture_output=True, text=True)
    print(r.returncode, r.stdout)
elif how == "via_shell":
    r = subprocess.run("%s -c \"$CHILD\" h | tr a-z A-Z" % py, shell=True, capture_output=True, text=True,
                       env=dict(os.environ, CHILD=CHILD))
    print(r.returncode, r.stdout)
print("parent done")
