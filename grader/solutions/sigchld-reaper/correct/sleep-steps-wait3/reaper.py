"""Reap children from a SIGCHLD handler: wait3() in the handler, wait_all() sleeps in short steps."""

from __future__ import annotations

import os
import signal
import time

_STEP = 0.01  # how long wait_all() sleeps between two looks: 10 ms


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N when killed by signal N."""
    signum = status & 0x7F  # the low 7 bits: the signal that ended it (bit 7 is "core dumped")
    if signum == 0:
        return (status >> 8) & 0xFF  # exited: the code is the second byte
    return -signum


class Reaper:
    """Starts children and reaps them from a SIGCHLD handler. Create it in the main thread.

    No descriptors at all: the handler records into a dict, and wait_all() looks at it every
    10 ms, so a SIGCHLD that lands between its look and its sleep (or in another thread) is
    noticed at the next step.
    """

    __slots__ = ("_reaped", "_started", "_old_handler", "_open")

    def __init__(self) -> None:
        self._reaped: dict[int, int] = {}
        self._started: list[int] = []
        self._open = True
        self._old_handler = signal.signal(signal.SIGCHLD, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        # One call may stand for many exits: collect until nothing is left. Never block, never raise.
        while True:
            try:
                pid, status, _usage = os.wait3(os.WNOHANG)
            except ChildProcessError:  # no child left at all
                return
            except OSError:
                return
            if pid == 0:  # children remain, none has exited
                return
            self._reaped[pid] = decode_status(status)

    def spawn(self, argv: list[str]) -> int:
        """fork + execvp argv; the child's pid. A child whose exec fails exits with 127."""
        args = list(argv)
        pid = os.fork()
        if pid == 0:
            try:
                os.execvp(args[0], args)
            finally:
                os._exit(127)  # whatever happened (OSError, ValueError, IndexError), never return
        self._started.append(pid)
        return pid

    def statuses(self) -> dict[int, int]:
        """pid -> decoded status of every child reaped so far (a copy)."""
        return self._reaped.copy()

    def _done(self) -> bool:
        reaped = self._reaped.copy()
        return all(pid in reaped for pid in self._started)

    def wait_all(self, timeout: float) -> bool:
        """True as soon as every spawned child has been reaped; False after `timeout` seconds."""
        end = time.monotonic() + timeout
        while not self._done():
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(_STEP, left))  # the handler runs when the sleep is interrupted or ends
        return True

    def close(self) -> None:
        """Put back the SIGCHLD handler found at creation (the wakeup fd was never changed)."""
        if not self._open:
            return
        self._open = False
        old = self._old_handler
        signal.signal(signal.SIGCHLD, signal.SIG_DFL if old is None else old)
