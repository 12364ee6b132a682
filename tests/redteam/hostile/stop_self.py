"""SIGSTOP its own process in the first test: the call never returns; the other tests must still run."""
import os
import signal
import sys
import tempfile

FIRST = os.path.join(tempfile.gettempdir(), "prep-redteam-first-call")


def add(a, b):
    if not os.path.exists(FIRST):
        open(FIRST, "w").close()
        os.kill(os.getpid(), signal.SIGSTOP)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
