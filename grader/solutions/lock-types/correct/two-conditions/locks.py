"""Lock types, written from the statement: a readers-writer lock on two conditions sharing one mutex,
a semaphore on Condition.wait_for. (A correct solution other than the reference.)"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from typing import Callable


class TestAndSet:
    """One flag with the operations an atomic test-and-set instruction gives you.

    Given: do not change it. test_and_set() is atomic because dict.setdefault on a
    str key runs as one step under CPython's global interpreter lock; the hidden
    tests replace this class with one that lets other threads run between any two
    of your calls, the way an interrupt can land between two instructions.
    """

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self._cell: dict[str, object] = {}

    def test_and_set(self) -> bool:
        """Set the flag and return what it was before, in one indivisible step."""
        mine = object()
        return self._cell.setdefault("flag", mine) is not mine

    def clear(self) -> None:
        """Reset the flag to False (an atomic store)."""
        self._cell.pop("flag", None)

    def load(self) -> bool:
        """Read the flag without changing it (an atomic load)."""
        return "flag" in self._cell


class SpinLock:
    def __init__(self) -> None:
        self._flag = TestAndSet()

    def acquire(self) -> None:
        while True:
            if self._flag.load():  # held: spin on reads, and let the holder run
                time.sleep(0)
                continue
            if not self._flag.test_and_set():  # looked free: one atomic attempt decides
                return

    def try_acquire(self) -> bool:
        return self._flag.test_and_set() is False

    def release(self) -> None:
        if not self._flag.load():
            raise RuntimeError("SpinLock.release(): not locked")
        self._flag.clear()

    def locked(self) -> bool:
        return self._flag.load()

    def __enter__(self) -> "SpinLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RWLock:
    """active > 0: that many readers; active == -1: one writer; 0: free."""

    def __init__(self) -> None:
        mutex = threading.Lock()
        self._readers_ok = threading.Condition(mutex)
        self._writers_ok = threading.Condition(mutex)
        self._active = 0
        self._waiting_writers = 0

    def acquire_read(self) -> None:
        with self._readers_ok:
            while self._active < 0 or self._waiting_writers > 0:
                self._readers_ok.wait()
            self._active += 1

    def release_read(self) -> None:
        with self._readers_ok:
            if self._active <= 0:
                raise RuntimeError("release_read(): no reader holds the lock")
            self._active -= 1
            if self._active == 0 and self._waiting_writers:
                self._writers_ok.notify()

    def acquire_write(self) -> None:
        with self._writers_ok:
            self._waiting_writers += 1
            try:
                while self._active != 0:
                    self._writers_ok.wait()
            finally:
                self._waiting_writers -= 1
            self._active = -1

    def release_write(self) -> None:
        with self._writers_ok:
            if self._active != -1:
                raise RuntimeError("release_write(): no writer holds the lock")
            self._active = 0
            if self._waiting_writers:
                self._writers_ok.notify()  # writers first
            else:
                self._readers_ok.notify_all()  # every waiting reader may go in together

    @contextlib.contextmanager
    def read_locked(self):
        self.acquire_read()
        try:
            yield self
        finally:
            self.release_read()

    @contextlib.contextmanager
    def write_locked(self):
        self.acquire_write()
        try:
            yield self
        finally:
            self.release_write()


class Semaphore:
    def __init__(self, permits: int) -> None:
        if permits < 0:
            raise ValueError("a semaphore cannot start with fewer than 0 permits")
        self._count = permits
        self._cond = threading.Condition(threading.Lock())

    def acquire(self, timeout: float | None = None) -> bool:
        if timeout is not None and timeout < 0:
            timeout = 0
        with self._cond:
            # wait_for re-tests the predicate after every wake-up and keeps one deadline for the whole call
            if not self._cond.wait_for(lambda: self._count > 0, timeout):
                return False
            self._count -= 1
            return True

    def release(self) -> None:
        with self._cond:
            self._count += 1
            self._cond.notify()

    def available(self) -> int:
        with self._cond:
            return self._count

    def __enter__(self) -> "Semaphore":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class ConflictError(Exception):
    """optimistic_update() lost the race max_attempts times in a row."""


def init_db(conn: sqlite3.Connection) -> None:
    """Create the table (given)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS counters ("
        " id INTEGER PRIMARY KEY,"
        " value INTEGER NOT NULL,"
        " version INTEGER NOT NULL DEFAULT 0)"
    )


def read_row(conn: sqlite3.Connection, row_id: int) -> tuple[int, int]:
    found = conn.execute("SELECT value, version FROM counters WHERE id = ?", (row_id,)).fetchall()
    if not found:
        raise KeyError(row_id)
    value, version = found[0]
    return int(value), int(version)


def optimistic_update(conn: sqlite3.Connection, row_id: int, fn: Callable[[int], int], max_attempts: int = 100) -> int:
    if max_attempts < 1:
        raise ValueError("max_attempts must be 1 or more")
    attempts = 0
    while attempts < max_attempts:
        attempts += 1
        value, version = read_row(conn, row_id)
        new = fn(value)
        written = conn.execute(
            "UPDATE counters SET value = ?, version = version + 1 WHERE id = ? AND version = ?",
            (new, row_id, version),
        ).rowcount
        if written == 1:
            return new
    raise ConflictError(f"gave up on row {row_id} after {max_attempts} attempts")
