"""Lock types, written from the statement: every lock is a small state machine under one condition
variable, and every change of state is broadcast (notify_all); waiters re-test in while loops.
(A correct solution other than the reference.)"""

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

    def try_acquire(self) -> bool:
        was_set = self._flag.test_and_set()
        return not was_set

    def acquire(self) -> None:
        while not self.try_acquire():
            while self.locked():
                time.sleep(0)

    def release(self) -> None:
        if not self.locked():
            raise RuntimeError("cannot release an unlocked spinlock")
        self._flag.clear()

    def locked(self) -> bool:
        return self._flag.load()

    def __enter__(self) -> "SpinLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class RWLock:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._state = {"readers": 0, "writer": False, "writers_waiting": 0}

    def _free_for_reader(self) -> bool:
        s = self._state
        return not s["writer"] and s["writers_waiting"] == 0

    def _free_for_writer(self) -> bool:
        s = self._state
        return not s["writer"] and s["readers"] == 0

    def acquire_read(self) -> None:
        with self._changed:
            self._changed.wait_for(self._free_for_reader)
            self._state["readers"] += 1

    def release_read(self) -> None:
        with self._changed:
            if self._state["readers"] < 1:
                raise RuntimeError("release_read() while no reader holds the lock")
            self._state["readers"] -= 1
            self._changed.notify_all()

    def acquire_write(self) -> None:
        with self._changed:
            self._state["writers_waiting"] += 1
            try:
                self._changed.wait_for(self._free_for_writer)
                self._state["writer"] = True
            finally:
                self._state["writers_waiting"] -= 1
                self._changed.notify_all()  # readers blocked by this writer's wait re-test

    def release_write(self) -> None:
        with self._changed:
            if not self._state["writer"]:
                raise RuntimeError("release_write() while no writer holds the lock")
            self._state["writer"] = False
            self._changed.notify_all()

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
            raise ValueError(f"Semaphore({permits}): permits must not be negative")
        self._permits = permits
        self._cond = threading.Condition()

    def acquire(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
        with self._cond:
            while self._permits <= 0:
                if deadline is None:
                    self._cond.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            self._permits -= 1
        return True

    def release(self) -> None:
        with self._cond:
            self._permits += 1
            self._cond.notify_all()  # everyone re-tests; one of them takes the permit

    def available(self) -> int:
        with self._cond:
            return self._permits

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
    cur = conn.cursor()
    try:
        cur.execute("SELECT value, version FROM counters WHERE id = :id", {"id": row_id})
        row = cur.fetchone()
    finally:
        cur.close()
    if row is None:
        raise KeyError(f"no counter with id {row_id}")
    return row[0], row[1]


def _compare_and_swap(conn: sqlite3.Connection, row_id: int, expected_version: int, value: int) -> bool:
    cur = conn.cursor()
    try:
        cur.execute(
            "UPDATE counters SET value = :value, version = version + 1 WHERE id = :id AND version = :version",
            {"value": value, "id": row_id, "version": expected_version},
        )
        return cur.rowcount == 1
    finally:
        cur.close()


def optimistic_update(conn: sqlite3.Connection, row_id: int, fn: Callable[[int], int], max_attempts: int = 100) -> int:
    if max_attempts < 1:
        raise ValueError(f"max_attempts={max_attempts}: at least one attempt is needed")
    for _attempt in range(max_attempts):
        value, version = read_row(conn, row_id)
        new = fn(value)
        if _compare_and_swap(conn, row_id, version, new):
            return new
    raise ConflictError(f"row {row_id} changed under every one of {max_attempts} attempts")
