"""The grading queue: `enqueue(submission_id)`, and who is told when a submission changes.

EmbeddedQueue: threads in the server's process. Each claims the oldest queued row
atomically (db.claim_next) and calls grade_submission; `enqueue` only wakes them,
so a submission queued by a server that stopped is graded by the next one all the
same. A distributed queue (Celery) will implement the same `enqueue`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Protocol

from . import db
from .grading import grade_submission

log = logging.getLogger("prep.server")
IDLE_RECHECK_SECONDS = 5.0  # a worker with nothing to do looks at the table this often anyway


class Queue(Protocol):
    def enqueue(self, submission_id: int) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Changes:
    """Long polls waiting for a submission to change, woken from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def listen(self, submission_id: int) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiting.setdefault(submission_id, []).append((asyncio.get_running_loop(), event))
        return event

    def forget(self, submission_id: int, event: asyncio.Event) -> None:
        with self._lock:
            left = [(loop, e) for loop, e in self._waiting.get(submission_id, []) if e is not event]
            if left:
                self._waiting[submission_id] = left
            else:
                self._waiting.pop(submission_id, None)

    def changed(self, submission_id: int) -> None:
        with self._lock:
            waiting = list(self._waiting.get(submission_id, []))
        for loop, event in waiting:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed
                pass


class EmbeddedQueue:
    """`workers` threads grading with backends from `make_backend` (one per thread)."""

    def __init__(self, engine, make_backend: Callable[[], object], workers: int, changes: Changes,
                 catalog=None) -> None:
        self.engine = engine
        self.catalog = catalog  # the exercises, loaded once (else each grading loads them)
        self.make_backend = make_backend
        self.workers = workers
        self.changes = changes
        self._wake = threading.Condition()
        self._pending = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if not self.workers:  # it grades nothing, so nothing running is its own to take back
            return
        again = db.requeue_running(self.engine)
        if again:
            log.info("graded again (left running by a server that stopped): %s", ", ".join(map(str, again)))
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"prep-grader-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def enqueue(self, submission_id: int) -> None:
        with self._wake:
            self._pending += 1
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    def _work(self) -> None:
        backend = self.make_backend()
        while True:
            with self._wake:
                if self._stopping:
                    return
            try:
                claimed = db.claim_next(self.engine)
            except Exception:  # the database is unreachable for a moment: try again later
                log.exception("could not claim a submission")
                claimed = None
            if claimed is None:
                with self._wake:
                    if self._pending == 0 and not self._stopping:
                        self._wake.wait(IDLE_RECHECK_SECONDS)
                    self._pending = 0
                continue
            self.changes.changed(claimed)
            try:
                grade_submission(self.engine, claimed, backend, self.catalog)
            except Exception:
                log.exception("submission %s: grading failed", claimed)
            self.changes.changed(claimed)
