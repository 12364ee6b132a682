"""SIGSTOP the parent (the driver) so nothing answers, then return."""
import os
import signal


def add(a, b):
    os.kill(os.getppid(), signal.SIGSTOP)
    return a + b


if __name__ == "__main__":
    os.kill(os.getppid(), signal.SIGSTOP)
