"""Sleep forever, ignoring the signals a polite runner sends."""
import signal
import time

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGALRM):
    signal.signal(sig, signal.SIG_IGN)


def add(a, b):
    time.sleep(10**6)


if __name__ == "__main__":
    time.sleep(10**6)
