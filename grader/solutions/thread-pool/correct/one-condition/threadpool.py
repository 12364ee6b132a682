"""A thread pool with one condition variable for everything (a correct solution other than the
reference): workers, producers and shutdown all wait on the same Condition and every change is
broadcast with notify_all; each waiter re-tests its own predicate."""

from __future__ import annotations

import threading
from typing import Any, Callable


class CancelledError(Exception):
    """The task was cancelled before it ran (given)."""


class QueueFull(Exception):
    """submit(..., block=False) found the work queue full (given)."""


class Future:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._outcome: tuple | None = None  # ("value", v) | ("error", exc) | ("cancelled", None)

    def done(self) -> bool:
        with self._cond:
            return self._outcome is not None

    def cancelled(self) -> bool:
        with self._cond:
            return self._outcome is not None and self._outcome[0] == "cancelled"

    def _outcome_within(self, timeout: float | None) -> tuple:
        with self._cond:
            ok = self._cond.wait_for(lambda: self._outcome is not None, timeout)
            if not ok:
                raise TimeoutError("the task is not done yet")
            return self._outcome

    def result(self, timeout: float | None = None) -> Any:
        kind, payload = self._outcome_within(timeout)
        if kind == "cancelled":
            raise CancelledError("cancelled")
        if kind == "error":
            raise payload
        return payload

    def exception(self, timeout: float | None = None) -> BaseException | None:
        kind, payload = self._outcome_within(timeout)
        if kind == "cancelled":
            raise CancelledError("cancelled")
        return payload if kind == "error" else None

    def _set(self, kind: str, payload: Any = None) -> None:
        with self._cond:
            if self._outcome is None:
                self._outcome = (kind, payload)
                self._cond.notify_all()


class _Worker(threading.Thread):
    def __init__(self, pool: "Pool", n: int) -> None:
        super().__init__(name=f"pool-{n}", daemon=True)
        self.pool = pool

    def run(self) -> None:
        pool = self.pool
        while True:
            with pool._cond:
                pool._cond.wait_for(lambda: pool._pending or pool._shut)
                if not pool._pending:
                    return
                future, fn, args = pool._pending.pop(0)
                pool._cond.notify_all()  # room for a producer
            try:
                future._set("value", fn(*args))
            except BaseException as exc:
                future._set("error", exc)


class Pool:
    def __init__(self, workers: int, queue_size: int) -> None:
        if workers <= 0:
            raise ValueError("workers must be positive")
        if queue_size <= 0:
            raise ValueError("queue_size must be positive")
        self._cond = threading.Condition(threading.Lock())
        self._pending: list = []
        self._limit = queue_size
        self._shut = False
        self._workers = [_Worker(self, n) for n in range(workers)]
        for w in self._workers:
            w.start()

    def submit(self, fn: Callable[..., Any], *args: Any, block: bool = True) -> Future:
        with self._cond:
            if not self._shut and len(self._pending) >= self._limit and not block:
                raise QueueFull("the queue is full")
            self._cond.wait_for(lambda: self._shut or len(self._pending) < self._limit)
            if self._shut:
                raise RuntimeError("submit() on a pool that is shut down")
            future = Future()
            self._pending.append((future, fn, args))
            self._cond.notify_all()
            return future

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        with self._cond:
            self._shut = True
            dropped = self._pending if cancel_pending else []
            if cancel_pending:
                self._pending = []
            self._cond.notify_all()
        for future, _fn, _args in dropped:
            future._set("cancelled")
        if wait:
            current = threading.current_thread()
            for w in self._workers:
                if w is not current:
                    w.join()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown(wait=True)
