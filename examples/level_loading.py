"""Example 3: game level loading, the same data walked in order and out of order.

A level is a grid of tiles (one small object each, created row by row, so they sit
in memory roughly in that order). Loading it walks every tile twice over the same
data with the same code, in two orders:

* walk_sequential: the order the tiles were stored in (row by row);
* walk_random: a seeded shuffle of it, as a loader that follows entity ids or a
  hash-ordered index would visit them.

The two functions have identical bodies on purpose, so that the profile can tell
them apart: every difference between them is the access pattern. With a PMU the
random walk shows the cache misses; here (software clock) it shows as time.

    python3 examples/level_loading.py [PASSES]

prints the level's size and whether both walks saw the same totals.
"""
import random
import sys

SIDE = 600  # a 600 x 600 grid: 360,000 tiles, far more than the CPU caches hold


class Tile:
    __slots__ = ("kind", "height", "loot")

    def __init__(self, kind, height, loot):
        self.kind = kind
        self.height = height
        self.loot = loot


def build_level(rng):
    tiles = []
    for y in range(SIDE):
        for x in range(SIDE):
            tiles.append(Tile(rng.randrange(8), (x * 7 + y * 13) % 100, rng.random() < 0.05))
    return tiles


def walk_sequential(tiles, order):
    height = loot = 0
    for i in order:
        tile = tiles[i]
        height += tile.height
        loot += tile.loot
    return height, loot


def walk_random(tiles, order):
    height = loot = 0
    for i in order:
        tile = tiles[i]
        height += tile.height
        loot += tile.loot
    return height, loot


def main(passes):
    rng = random.Random(7)
    tiles = build_level(rng)
    in_order = list(range(len(tiles)))
    shuffled = in_order[:]
    rng.shuffle(shuffled)
    for _ in range(passes):
        seq = walk_sequential(tiles, in_order)
        rnd = walk_random(tiles, shuffled)
    print("level %dx%d: %d tiles, height %d, loot %d, same totals: %s"
          % (SIDE, SIDE, len(tiles), seq[0], seq[1], seq == rnd))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
