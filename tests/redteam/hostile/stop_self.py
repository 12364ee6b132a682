"""SIGSTOP its own process in the first test: the call never returns; the other tests must still run."""
import os
import signal
import sys

# The first test adds 1000000 and 3: nothing else tells the tests apart (each runs in a fresh,
# empty sandbox), so the attack keys on the arguments.
FIRST = (1_000_000, 3)


def add(a, b):
    if (a, b) == FIRST:
        os.kill(os.getpid(), signal.SIGSTOP)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
