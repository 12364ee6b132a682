"""Four kinds of lock: a spinlock on test-and-set, a writer-preferring readers-writer lock,
a counting semaphore on a condition variable, and an optimistic update in SQLite.

Read README.md (`prep exercise show lock-types`) for what each part must do.
Check your work with `prep test lock-types .`, then `prep submit lock-types .`.
Build on threading.Condition and the given TestAndSet; threading.Lock is for the
Condition's mutex only (threading.Semaphore, threading.RLock-based shortcuts and
other ready-made locks are not the point).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time  # noqa: F401 - time.sleep(0) yields the CPU; time.monotonic() for deadlines
from typing import Callable


# ---------------------------------------------------------------- the primitive (given)


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


# ---------------------------------------------------------------- 1. spinlock


class SpinLock:
    """A lock that spins on a TestAndSet flag instead of sleeping."""

    def __init__(self) -> None:
        self._flag = TestAndSet()  # keep this: the hidden tests swap the class to inject preemption

    def acquire(self) -> None:
        """Spin until this thread owns the lock."""
        raise NotImplementedError("SpinLock.acquire: not implemented")

    def try_acquire(self) -> bool:
        """One attempt, no spinning: True if the lock is now yours, False if someone holds it."""
        raise NotImplementedError("SpinLock.try_acquire: not implemented")

    def release(self) -> None:
        """Free the lock; RuntimeError if it is not locked."""
        raise NotImplementedError("SpinLock.release: not implemented")

    def locked(self) -> bool:
        """True while someone holds the lock."""
        raise NotImplementedError("SpinLock.locked: not implemented")

    def __enter__(self) -> "SpinLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- 2. readers-writer lock


class RWLock:
    """Many readers or one writer; writer-preferring (a waiting writer keeps new readers out)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())  # keep the Condition(s) as attributes (any name)

    def acquire_read(self) -> None:
        raise NotImplementedError("RWLock.acquire_read: not implemented")

    def release_read(self) -> None:
        raise NotImplementedError("RWLock.release_read: not implemented")

    def acquire_write(self) -> None:
        raise NotImplementedError("RWLock.acquire_write: not implemented")

    def release_write(self) -> None:
        raise NotImplementedError("RWLock.release_write: not implemented")

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


# ---------------------------------------------------------------- 3. counting semaphore


class Semaphore:
    """A counting semaphore on one threading.Condition."""

    def __init__(self, permits: int) -> None:
        self._cond = threading.Condition(threading.Lock())  # keep the Condition as an attribute (any name)
        raise NotImplementedError("Semaphore: not implemented")

    def acquire(self, timeout: float | None = None) -> bool:
        """Take a permit, waiting for one; with a timeout, False if none came in time (timeout <= 0: never wait)."""
        raise NotImplementedError("Semaphore.acquire: not implemented")

    def release(self) -> None:
        """Give a permit back and wake one waiter (even past the initial count)."""
        raise NotImplementedError("Semaphore.release: not implemented")

    def available(self) -> int:
        """Permits free right now."""
        raise NotImplementedError("Semaphore.available: not implemented")

    def __enter__(self) -> "Semaphore":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- 4. optimistic update in SQLite


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
    """(value, version) of the row; KeyError if there is no such row."""
    raise NotImplementedError("read_row: not implemented")


def optimistic_update(conn: sqlite3.Connection, row_id: int, fn: Callable[[int], int], max_attempts: int = 100) -> int:
    """Set the row's value to fn(value) without locking it; retry when another writer got there first.

    ValueError if max_attempts < 1; ConflictError after max_attempts lost races."""
    raise NotImplementedError("optimistic_update: not implemented")
