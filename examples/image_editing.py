"""Example 2: image editing, where does the memory go, and what is never given back?

A batch photo editor in the standard library alone: each "photo" is generated
(seeded), converted to greyscale, blurred, resized to half size, encoded as a PNG
(zlib) and saved into a temporary directory that is removed at the end. Pixels are
bytearrays: one byte per channel, the way image libraries keep them.

The deliberate leak: every edit also renders a thumbnail into THUMBNAILS, a
module-level cache that nothing ever evicts. It only grows; at exit the agent's leak
report names it, with the Python function that allocated it.

    python3 examples/image_editing.py [PHOTOS]

prints how many photos were saved, their total size and a checksum of the PNGs.
"""
import os
import random
import struct
import sys
import tempfile
import zlib

WIDTH, HEIGHT = 320, 240
THUMB_W, THUMB_H = 80, 60

THUMBNAILS = {}  # name -> greyscale thumbnail bytes; never evicted (the leak)


def generate_image(seed, w, h):
    """An RGB image: a gradient with a few seeded bright rectangles."""
    rng = random.Random(seed)
    rgb = bytearray(w * h * 3)
    for y in range(h):
        for x in range(w):
            i = (y * w + x) * 3
            rgb[i], rgb[i + 1], rgb[i + 2] = x * 255 // w, y * 255 // h, (x + y) & 0xFF
    for _ in range(4):
        x0, y0 = rng.randrange(w - 40), rng.randrange(h - 40)
        colour = bytes(rng.randrange(256) for _ in range(3))
        for y in range(y0, y0 + 40):
            rgb[(y * w + x0) * 3:(y * w + x0 + 40) * 3] = colour * 40
    return rgb


def to_greyscale(rgb, w, h):
    """ITU-R BT.601 luma in integer arithmetic: one byte per pixel."""
    grey = bytearray(w * h)
    for p in range(w * h):
        i = p * 3
        grey[p] = (299 * rgb[i] + 587 * rgb[i + 1] + 114 * rgb[i + 2]) // 1000
    return grey


def box_blur(grey, w, h):
    """3x3 box blur as two passes (rows, then columns); edges keep their pixels."""
    rows = bytearray(grey)
    for y in range(h):
        base = y * w
        for x in range(1, w - 1):
            rows[base + x] = (grey[base + x - 1] + grey[base + x] + grey[base + x + 1]) // 3
    out = bytearray(rows)
    for y in range(1, h - 1):
        base = y * w
        for x in range(w):
            out[base + x] = (rows[base - w + x] + rows[base + x] + rows[base + w + x]) // 3
    return out


def resize(grey, w, h, new_w, new_h):
    """Nearest-neighbour resize."""
    out = bytearray(new_w * new_h)
    for y in range(new_h):
        src = (y * h // new_h) * w
        for x in range(new_w):
            out[y * new_w + x] = grey[src + x * w // new_w]
    return out


def encode_png(grey, w, h):
    """A greyscale PNG (colour type 0, 8 bits): signature, IHDR, one IDAT, IEND."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(grey[y * w:(y + 1) * w]) for y in range(h))  # filter 0 per row
    header = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def make_thumbnail(name, grey, w, h):
    thumb = bytes(resize(grey, w, h, THUMB_W, THUMB_H))
    THUMBNAILS[name] = thumb  # the leak: cached for a gallery view, never evicted
    return thumb


def edit_photo(index, directory):
    name = "photo%02d" % index
    rgb = generate_image(index, WIDTH, HEIGHT)
    grey = box_blur(to_greyscale(rgb, WIDTH, HEIGHT), WIDTH, HEIGHT)
    small = resize(grey, WIDTH, HEIGHT, WIDTH // 2, HEIGHT // 2)
    png = encode_png(small, WIDTH // 2, HEIGHT // 2)
    with open(os.path.join(directory, name + ".png"), "wb") as f:
        f.write(png)
    make_thumbnail(name, grey, WIDTH, HEIGHT)
    return png


def main(photos):
    total, checksum = 0, 0
    with tempfile.TemporaryDirectory(prefix="image-editing-") as directory:
        for i in range(photos):
            png = edit_photo(i, directory)
            total += len(png)
            checksum = zlib.crc32(png, checksum)
    print("saved %d photos, %d bytes of PNG, crc32 %08x; %d thumbnails cached"
          % (photos, total, checksum, len(THUMBNAILS)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
