"""Block and ignore every signal it can, then sleep, in the first test; the other tests must still run."""
import os
import signal
import sys
import tempfile
import time

FIRST = os.path.join(tempfile.gettempdir(), "prep-redteam-first-call")


def add(a, b):
    if not os.path.exists(FIRST):
        open(FIRST, "w").close()
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
