"""A fixed-size thread pool with a bounded work queue and futures.

Read README.md (`prep exercise show thread-pool`) for what each method must do.
Check your work with `prep test thread-pool .`, then `prep submit thread-pool .`.
Build on threading.Thread and threading.Condition: queue, concurrent.futures and
multiprocessing are not allowed.
"""

from __future__ import annotations

import collections  # noqa: F401 - collections.deque makes a good FIFO
import threading  # noqa: F401
from typing import Any, Callable


class CancelledError(Exception):
    """The task was cancelled before it ran (given)."""


class QueueFull(Exception):
    """submit(..., block=False) found the work queue full (given)."""


class Future:
    """The result of one task, to come: a value or an exception."""

    def __init__(self) -> None:
        raise NotImplementedError("Future: not implemented")

    def done(self) -> bool:
        """True once the task finished (value or exception) or was cancelled."""
        raise NotImplementedError("Future.done: not implemented")

    def cancelled(self) -> bool:
        """True if the task was cancelled before it ran."""
        raise NotImplementedError("Future.cancelled: not implemented")

    def result(self, timeout: float | None = None) -> Any:
        """The task's value; re-raises its exception; CancelledError; TimeoutError after `timeout` s."""
        raise NotImplementedError("Future.result: not implemented")

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The task's exception, or None if it returned; CancelledError; TimeoutError after `timeout` s."""
        raise NotImplementedError("Future.exception: not implemented")


class Pool:
    """`workers` threads taking tasks from a queue that holds at most `queue_size` of them."""

    def __init__(self, workers: int, queue_size: int) -> None:
        raise NotImplementedError("Pool: not implemented")

    def submit(self, fn: Callable[..., Any], *args: Any, block: bool = True) -> Future:
        """Queue fn(*args); blocks while the queue is full (QueueFull with block=False)."""
        raise NotImplementedError("Pool.submit: not implemented")

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Refuse new tasks, finish (or cancel) the queued ones, stop the workers."""
        raise NotImplementedError("Pool.shutdown: not implemented")

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown(wait=True)
