"""Victim: how deep Python recursion gets before RecursionError (argv[1]: limit, or
"default"), for plain functions, methods, and through a C call (repr of nested lists)."""
import sys

if sys.argv[1] != "default":
    sys.setrecursionlimit(int(sys.argv[1]))
depth = 0


def down(n):
    global depth
    depth = n
    down(n + 1)


class Node:
    def deeper(self, n):
        global depth
        depth = n
        return self.deeper(n + 1)


for name, start in (("function", lambda: down(0)), ("method", lambda: Node().deeper(0))):
    depth = 0
    try:
        start()
    except RecursionError as e:
        print(name, depth, str(e))
nested = []
for _ in range(100000):
    nested = [nested]
try:
    repr(nested)
    print("repr: no error")
except RecursionError as e:
    print("repr", str(e))
