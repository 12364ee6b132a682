import sys


def add(a, b):
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
