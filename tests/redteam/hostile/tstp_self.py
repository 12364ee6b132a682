"""SIGTSTP itself in the first test, from a process group of its own (an orphaned group would ignore it)."""
import os
import signal
import sys

# The first test adds 1000000 and 3: nothing else tells the tests apart (each runs in a fresh,
# empty sandbox), so the attack keys on the arguments.
FIRST = (1_000_000, 3)


def add(a, b):
    if (a, b) == FIRST:
        os.setpgid(0, 0)  # its parent (the driver) is in another group of the same session: SIGTSTP stops it
        os.kill(os.getpid(), signal.SIGTSTP)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
