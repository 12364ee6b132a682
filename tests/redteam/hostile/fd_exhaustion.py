"""Open descriptors until none are left, and threads until none can start."""
import os
import threading


def add(a, b):
    fds = []
    try:
        while True:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError:
        pass
    threads = 0
    try:
        while True:
            threading.Thread(target=threading.Event().wait, daemon=True).start()
            threads += 1
    except RuntimeError:
        pass
    print(len(fds), "descriptors", threads, "threads")
    return -1


if __name__ == "__main__":
    add(0, 0)
