"""Four kinds of lock: a spinlock on test-and-set, a writer-preferring readers-writer lock,
a counting semaphore on a condition variable, and an optimistic update in SQLite.

Reference solution.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
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
    def __init__(self) -> None:
        self._flag = TestAndSet()

    def acquire(self) -> None:
        # test-and-test-and-set: one atomic attempt, then spin on plain loads
        # (cheap, no writes) until the flag looks free, then try again.
        while self._flag.test_and_set():
            while self._flag.load():
                time.sleep(0)  # let the holder run: under the GIL a pure spin starves it

    def try_acquire(self) -> bool:
        return not self._flag.test_and_set()

    def release(self) -> None:
        if not self._flag.load():
            raise RuntimeError("release of an unlocked SpinLock")
        self._flag.clear()

    def locked(self) -> bool:
        return self._flag.load()

    def __enter__(self) -> "SpinLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


# ---------------------------------------------------------------- 2. readers-writer lock


class RWLock:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0  # readers holding the lock
        self._writer = False  # a writer holds the lock
        self._writers_waiting = 0

    def acquire_read(self) -> None:
        with self._cond:
            # writer preference: a waiting writer also keeps new readers out
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            if self._readers == 0:
                raise RuntimeError("release_read() without a reader holding the lock")
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True

    def release_write(self) -> None:
        with self._cond:
            if not self._writer:
                raise RuntimeError("release_write() without a writer holding the lock")
            self._writer = False
            self._cond.notify_all()

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
    def __init__(self, permits: int) -> None:
        if permits < 0:
            raise ValueError(f"permits must be >= 0, got {permits}")
        self._cond = threading.Condition(threading.Lock())
        self._permits = permits

    def acquire(self, timeout: float | None = None) -> bool:
        with self._cond:
            if timeout is None:
                while self._permits == 0:
                    self._cond.wait()
            else:
                deadline = time.monotonic() + timeout
                while self._permits == 0:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            self._permits -= 1
            return True

    def release(self) -> None:
        with self._cond:
            self._permits += 1
            self._cond.notify()

    def available(self) -> int:
        with self._cond:
            return self._permits

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
    row = conn.execute("SELECT value, version FROM counters WHERE id = ?", (row_id,)).fetchone()
    if row is None:
        raise KeyError(row_id)
    return int(row[0]), int(row[1])


def optimistic_update(conn: sqlite3.Connection, row_id: int, fn: Callable[[int], int], max_attempts: int = 100) -> int:
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    for _ in range(max_attempts):
        value, version = read_row(conn, row_id)
        new = fn(value)
        cur = conn.execute(
            "UPDATE counters SET value = ?, version = version + 1 WHERE id = ? AND version = ?",
            (new, row_id, version),
        )
        if cur.rowcount == 1:
            if conn.in_transaction:  # a connection not in autocommit mode
                conn.commit()
            return new
        # rowcount 0: someone else wrote since we read; read again and retry
    raise ConflictError(f"row {row_id}: {max_attempts} attempts all lost to concurrent updates")
