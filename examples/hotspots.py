"""Where does the CPU go? A small program with a clear answer: a worker thread
resizes images (nested loops over pixels) while the main thread parses records and
checksums them. Run it under the agent, then `pyagent report` and `pyagent flamegraph`."""
import threading
import zlib


def blur_row(row):
    out = [0] * len(row)
    for x in range(1, len(row) - 1):
        out[x] = (row[x - 1] + 2 * row[x] + row[x + 1]) // 4
    return out


def resize_images(count, size):
    image = [[(x * y) % 251 for x in range(size)] for y in range(size)]
    for _ in range(count):
        image = [blur_row(row) for row in image]
    return sum(map(sum, image))


def parse_record(line):
    fields = line.split(",")
    return {"id": int(fields[0]), "name": fields[1].strip(), "score": float(fields[2])}


def checksum(records):
    return zlib.crc32(repr(records).encode())


def parse_log(lines):
    records = [parse_record(l) for l in lines]
    return checksum(records)


def main():
    worker = threading.Thread(target=resize_images, args=(40, 250), name="resizer")
    worker.start()
    lines = ["%d, user%d, %d.5" % (i, i % 97, i % 1000) for i in range(300_000)]
    print("log checksum", parse_log(lines))
    worker.join()
    print("done")


if __name__ == "__main__":
    main()
