"""In the first test, a child SIGSTOPs its parent (the process running the call); the other tests must still run."""
import os
import signal
import sys
import time

# The first test adds 1000000 and 3: nothing else tells the tests apart (each runs in a fresh,
# empty sandbox), so the attack keys on the arguments.
FIRST = (1_000_000, 3)


def add(a, b):
    if (a, b) == FIRST:
        if os.fork() == 0:
            os.kill(os.getppid(), signal.SIGSTOP)
            os._exit(0)
        time.sleep(1)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
