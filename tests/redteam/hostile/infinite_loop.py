"""Infinite loop: burn CPU in the call and in the program."""


def add(a, b):
    while True:
        pass


if __name__ == "__main__":
    while True:
        pass
