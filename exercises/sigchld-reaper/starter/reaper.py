"""Reap children from a SIGCHLD handler, the way a server does.

Read README.md (`prep exercise show sigchld-reaper`) for what each part must do.
Check your work with `prep test sigchld-reaper .`, then `prep submit sigchld-reaper .`.
Start children with os.fork and os.execvp (not subprocess: it reaps its own children).
"""

from __future__ import annotations

import os  # noqa: F401 - os.fork, os.execvp, os._exit, os.waitpid, os.WNOHANG, os.W* macros
import signal  # noqa: F401 - signal.signal(signal.SIGCHLD, handler)


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N when killed by signal N."""
    raise NotImplementedError("decode_status: not implemented")


class Reaper:
    """Starts children and reaps them from a SIGCHLD handler. Create it in the main thread."""

    def __init__(self) -> None:
        raise NotImplementedError("Reaper: not implemented (install the SIGCHLD handler here)")

    def spawn(self, argv: list[str]) -> int:
        """fork + execvp argv; the child's pid. A child whose exec fails exits with 127."""
        raise NotImplementedError("Reaper.spawn: not implemented")

    def statuses(self) -> dict[int, int]:
        """pid -> decoded status of every child reaped so far (a copy)."""
        raise NotImplementedError("Reaper.statuses: not implemented")

    def wait_all(self, timeout: float) -> bool:
        """True as soon as every spawned child has been reaped; False after `timeout` seconds."""
        raise NotImplementedError("Reaper.wait_all: not implemented")

    def close(self) -> None:
        """Put back the SIGCHLD handler and wakeup fd found at creation; close the Reaper's descriptors."""
        raise NotImplementedError("Reaper.close: not implemented")
