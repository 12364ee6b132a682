"""Output flood: write to stdout and stderr as fast as possible."""
import os
import sys


def add(a, b):
    line = b"x" * 65535 + b"\n"
    while True:
        os.write(1, line)
        os.write(2, line)


if __name__ == "__main__":
    add(0, 0)
