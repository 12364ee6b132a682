"""In the first test, a child SIGSTOPs its parent (the process running the call); the other tests must still run."""
import os
import signal
import sys
import tempfile
import time

FIRST = os.path.join(tempfile.gettempdir(), "prep-redteam-first-call")


def add(a, b):
    if not os.path.exists(FIRST):
        open(FIRST, "w").close()
        if os.fork() == 0:
            os.kill(os.getppid(), signal.SIGSTOP)
            os._exit(0)
        time.sleep(1)
    return a + b


if __name__ == "__main__":
    print(sys.argv[1])
