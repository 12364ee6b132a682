"""Reap children from a SIGCHLD handler (a wrong solution: see WHY.md)."""

from __future__ import annotations

import os
import select
import signal
import time


def decode_status(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    raise ValueError(f"status {status:#x} is neither an exit nor a death by signal")


class Reaper:
    def __init__(self) -> None:
        self._statuses: dict[int, int] = {}
        self._spawned: set[int] = set()
        # self-pipe: a byte per signal, wait_all() sleeps in select() on the other end
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._closed = False
        self._previous = signal.signal(signal.SIGCHLD, self._on_sigchld)  # main thread only
        # The Python handler runs later than the signal, on the main thread. If the signal
        # lands just before select() starts, the handler has not run yet and select() would
        # sleep on. With a wakeup fd, Python's C-level handler writes a byte at once, from
        # whichever thread the kernel picked, and select() wakes.
        self._previous_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def _on_sigchld(self, signum, frame) -> None:
        # Signals do not queue: one SIGCHLD may stand for many exits, so reap
        # until nothing is left. WNOHANG: never block on a child still running.
        # Never raise: an exception here surfaces in whatever the main thread was doing.
        while True:
            try:
                pid, status = os.waitpid(-1, 0)  # waits for the next child to exit
            except ChildProcessError:  # no children at all
                break
            self._statuses[pid] = decode_status(status)

    def spawn(self, argv: list[str]) -> int:
        if not argv:
            raise ValueError("empty argv")
        pid = os.fork()
        if pid == 0:
            try:
                os.execvp(argv[0], argv)
            except BaseException:
                pass
            os._exit(127)
        self._spawned.add(pid)
        return pid

    def statuses(self) -> dict[int, int]:
        return dict(self._statuses)  # one C call: the handler cannot run in the middle of it

    def wait_all(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self._spawned.issubset(self._statuses):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Woken by the wakeup fd; the handler then runs before the next bytecode.
            # (PEP 475: an interrupted select() is retried with the time that is left.)
            ready, _, _ = select.select([self._wake_r], [], [], remaining)
            if ready:
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except BlockingIOError:
                    pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Put back what was there, handler first; the wakeup fd before the pipe is closed,
        # or a signal in between would make the C handler write to a closed (or reused) fd.
        # signal.signal gave None if the old handler was not set from Python: use the default.
        signal.signal(signal.SIGCHLD, self._previous if self._previous is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self._wake_r)
        os.close(self._wake_w)
