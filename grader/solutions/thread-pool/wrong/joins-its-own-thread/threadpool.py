"""A thread pool (a wrong solution: see WHY.md)."""

from __future__ import annotations

import collections
import threading
from typing import Any, Callable


class CancelledError(Exception):
    """The task was cancelled before it ran (given)."""


class QueueFull(Exception):
    """submit(..., block=False) found the work queue full (given)."""


_PENDING, _DONE, _CANCELLED = "pending", "done", "cancelled"


class Future:
    """The result of one task, to come."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._state = _PENDING
        self._value: Any = None
        self._error: BaseException | None = None

    def done(self) -> bool:
        with self._cond:
            return self._state != _PENDING

    def cancelled(self) -> bool:
        with self._cond:
            return self._state == _CANCELLED

    def result(self, timeout: float | None = None) -> Any:
        with self._cond:
            if not self._cond.wait_for(lambda: self._state != _PENDING, timeout):
                raise TimeoutError(f"the task did not finish within {timeout} s")
            if self._state == _CANCELLED:
                raise CancelledError("the task was cancelled before it ran")
            if self._error is not None:
                raise self._error
            return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._state != _PENDING, timeout):
                raise TimeoutError(f"the task did not finish within {timeout} s")
            if self._state == _CANCELLED:
                raise CancelledError("the task was cancelled before it ran")
            return self._error

    # -- for the pool

    def _finish(self, state: str, value: Any = None, error: BaseException | None = None) -> None:
        with self._cond:
            if self._state != _PENDING:
                return
            self._state, self._value, self._error = state, value, error
            self._cond.notify_all()


class Pool:
    def __init__(self, workers: int, queue_size: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self._size = queue_size
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)  # workers wait here for a task
        self._not_full = threading.Condition(self._lock)  # producers wait here for room
        self._tasks: collections.deque = collections.deque()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"pool-worker-{i}", daemon=True) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any, block: bool = True) -> Future:
        with self._lock:
            if self._closed:
                raise RuntimeError("submit() after shutdown()")
            if len(self._tasks) >= self._size and not block:
                raise QueueFull(f"the work queue holds {self._size} tasks already")
            while len(self._tasks) >= self._size and not self._closed:
                self._not_full.wait()
            if self._closed:  # shut down while we waited for room
                raise RuntimeError("the pool was shut down while submit() waited for room")
            future = Future()
            self._tasks.append((future, fn, args))
            self._not_empty.notify()
            return future

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._tasks and not self._closed:
                    self._not_empty.wait()
                if not self._tasks:  # closed and drained: this worker is done
                    return
                future, fn, args = self._tasks.popleft()
                self._not_full.notify()
            try:
                value = fn(*args)
            except BaseException as exc:  # the task's failure belongs to its future
                future._finish(_DONE, error=exc)
            else:
                future._finish(_DONE, value=value)

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_pending:
                while self._tasks:
                    future, _fn, _args = self._tasks.popleft()
                    future._finish(_CANCELLED)
            self._not_empty.notify_all()  # every idle worker must see the flag
            self._not_full.notify_all()  # and every producer blocked on a full queue
        if wait:
            for t in self._threads:
                t.join()  # from a task, this includes the worker running it

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown(wait=True)
