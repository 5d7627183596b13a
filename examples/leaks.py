"""A small service with three kinds of memory trouble, for the pyagent demo.

* render_thumbnail() keeps every rendered thumbnail in a module-level cache that
  nobody ever trims: live at program end, freed only at interpreter shutdown.
* native_scratch() asks the C library for scratch buffers through ctypes and forgets
  to free some of them: never freed at all.
* parse_batch() allocates plenty but releases everything: not a leak.
"""
import ctypes
import json

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]

THUMBNAILS = {}


def render_thumbnail(key, size):
    pixels = bytearray(size * size * 3)
    for i in range(0, len(pixels), 997):
        pixels[i] = (i * 31) & 0xFF
    THUMBNAILS[key] = pixels  # the leak: the cache only grows


def native_scratch(count):
    for i in range(count):
        buf = libc.malloc(4096)
        if i % 4:  # one buffer in four is forgotten
            libc.free(buf)


def parse_batch(n):
    records = [json.dumps({"id": i, "tags": list(range(i % 7))}) for i in range(n)]
    return sum(len(json.loads(r)["tags"]) for r in records)


def main():
    for k in range(40):
        render_thumbnail("img%d" % k, 64)
    native_scratch(200)
    print("thumbnails", len(THUMBNAILS), "parsed", parse_batch(5000))


if __name__ == "__main__":
    main()
