"""Block and ignore every signal it can, then sleep, in the first test; the other tests must still run."""
import os
import signal
import sys
import time

# The first test adds 1000000 and 3: nothing else tells the tests apart (each runs in a fresh,
# empty sandbox), so the attack keys on the arguments.
FIRST = (1_000_000, 3)


def add(a, b):
    if (a, b) == FIRST:
        for sig in signal.valid_signals():
            try:
                signal.signal(sig, signal.SIG_IGN)
            except (OSError, ValueError, RuntimeError):
                pass
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while True:
            time.sleep(3600)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
