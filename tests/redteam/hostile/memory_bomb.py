"""Memory bomb: allocate and touch memory until something gives, in the call."""
import sys


def add(a, b):
    hog = []
    while True:
        hog.append(bytearray(16 * 1024 * 1024))  # bytearray() zero-fills: the pages are touched


if __name__ == "__main__":
    add(0, 0)
