"""A double-forked setsid daemon that ignores every catchable signal and tries to outlive the test."""
import os
import signal
import time


def _daemon():
    if os.fork():
        os.wait()
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    for sig in range(1, signal.NSIG):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    while True:
        time.sleep(0.05)


def add(a, b):
    _daemon()
    return a + b + 1


if __name__ == "__main__":
    _daemon()
    print("nope")
