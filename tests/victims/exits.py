"""Victim for exit paths: argv[1] picks how the program ends."""
import os
import sys

buf = bytearray(50_000)
how = sys.argv[1]
print("before", how, flush=True)
if how == "sys_exit":
    sys.exit(7)
elif how == "os_exit":
    os._exit(9)
elif how == "raise":
    raise ValueError("victim failure")
elif how == "recursion":
    sys.setrecursionlimit(400)

    def down(n):
        return down(n + 1)

    try:
        down(0)
    except RecursionError:
        print("recursion error caught")
print("after")
