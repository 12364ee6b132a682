"""SIGTSTP itself in the first test, from a process group of its own (an orphaned group would ignore it)."""
import os
import signal
import sys
import tempfile

FIRST = os.path.join(tempfile.gettempdir(), "prep-redteam-first-call")


def add(a, b):
    if not os.path.exists(FIRST):
        open(FIRST, "w").close()
        os.setpgid(0, 0)  # its parent (the driver) is in another group of the same session: SIGTSTP stops it
        os.kill(os.getpid(), signal.SIGTSTP)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
