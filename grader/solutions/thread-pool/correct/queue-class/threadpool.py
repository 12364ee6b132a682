"""A thread pool on a bounded queue class of its own (a correct solution other than the reference):
the queue owns the lock, the two conditions and the closed flag; the pool only starts and joins workers."""

from __future__ import annotations

import threading
from typing import Any, Callable


class CancelledError(Exception):
    """The task was cancelled before it ran (given)."""


class QueueFull(Exception):
    """submit(..., block=False) found the work queue full (given)."""


class Future:
    def __init__(self) -> None:
        self._done = threading.Condition()
        self._finished = False
        self._cancelled = False
        self._value: Any = None
        self._exc: BaseException | None = None

    def _wait(self, timeout: float | None) -> None:
        with self._done:
            if not self._done.wait_for(lambda: self._finished, timeout):
                raise TimeoutError(f"not done after {timeout} s")

    def done(self) -> bool:
        with self._done:
            return self._finished

    def cancelled(self) -> bool:
        with self._done:
            return self._cancelled

    def result(self, timeout: float | None = None) -> Any:
        self._wait(timeout)
        if self._cancelled:
            raise CancelledError()
        if self._exc is not None:
            raise self._exc
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait(timeout)
        if self._cancelled:
            raise CancelledError()
        return self._exc

    def _settle(self, value: Any = None, exc: BaseException | None = None, cancelled: bool = False) -> None:
        with self._done:
            if self._finished:
                return
            self._value, self._exc, self._cancelled = value, exc, cancelled
            self._finished = True
            self._done.notify_all()


class _Closed(Exception):
    pass


class _BoundedQueue:
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: list = []
        self._mutex = threading.Lock()
        self._not_empty = threading.Condition(self._mutex)
        self._not_full = threading.Condition(self._mutex)
        self.closed = False

    def put(self, item, block: bool) -> None:
        with self._mutex:
            if self.closed:
                raise _Closed()
            while len(self._items) >= self._size:
                if not block:
                    raise QueueFull(f"{self._size} tasks are waiting already")
                self._not_full.wait()
                if self.closed:
                    raise _Closed()
            self._items.append(item)
            self._not_empty.notify()

    def get(self):
        """The next item, or None once the queue is closed and empty."""
        with self._mutex:
            while not self._items:
                if self.closed:
                    return None
                self._not_empty.wait()
            item = self._items.pop(0)
            self._not_full.notify()
            return item

    def close(self, drop: bool) -> list:
        with self._mutex:
            self.closed = True
            dropped = []
            if drop:
                dropped, self._items = self._items, []
            self._not_empty.notify_all()
            self._not_full.notify_all()
            return dropped


class Pool:
    def __init__(self, workers: int, queue_size: int) -> None:
        if workers < 1 or queue_size < 1:
            raise ValueError(f"Pool({workers}, {queue_size}): both numbers must be at least 1")
        self._queue = _BoundedQueue(queue_size)
        self._workers = []
        for n in range(workers):
            t = threading.Thread(target=self._serve, name=f"worker-{n}", daemon=True)
            t.start()
            self._workers.append(t)

    def _serve(self) -> None:
        while (job := self._queue.get()) is not None:
            future, fn, args = job
            try:
                future._settle(value=fn(*args))
            except BaseException as exc:
                future._settle(exc=exc)

    def submit(self, fn: Callable[..., Any], *args: Any, block: bool = True) -> Future:
        future = Future()
        try:
            self._queue.put((future, fn, args), block)
        except _Closed:
            raise RuntimeError("the pool is shut down") from None
        return future

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        for future, _fn, _args in self._queue.close(cancel_pending):
            future._settle(cancelled=True)
        if wait:
            for t in self._workers:
                if t is not threading.current_thread():
                    t.join()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown(wait=True)
