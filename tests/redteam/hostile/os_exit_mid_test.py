"""os._exit(0) in the middle of a test, from the call and from the program."""
import os


def add(a, b):
    os._exit(0)


if __name__ == "__main__":
    os._exit(0)
