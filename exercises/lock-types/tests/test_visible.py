"""Visible tests of lock-types: `prep test lock-types DIR` runs them on your locks.py.

The hidden tests check much more (contention with preemption injected, writer
starvation, spurious wake-ups, timeouts, conflicts and concurrent processes);
see README.md for the whole contract.
"""

import sqlite3
import threading

from locks import RWLock, Semaphore, SpinLock, init_db, optimistic_update, read_row


def test_spinlock_basics():
    lock = SpinLock()
    assert lock.try_acquire() is True
    assert lock.locked() is True
    assert lock.try_acquire() is False  # held: one attempt, no spinning
    lock.release()
    assert lock.locked() is False
    with lock:
        assert lock.locked()


def test_rwlock_and_semaphore_basics():
    lock = RWLock()
    lock.acquire_read()
    lock.acquire_read()  # readers share
    lock.release_read()
    lock.release_read()
    with lock.write_locked():
        pass

    sem = Semaphore(2)
    assert sem.acquire() and sem.acquire()
    assert sem.available() == 0
    assert sem.acquire(timeout=0.05) is False  # no permit within 0.05 s
    got = []
    waiter = threading.Thread(target=lambda: got.append(sem.acquire(timeout=5)))
    waiter.start()
    sem.release()
    waiter.join(5)
    assert got == [True]


def test_optimistic_update_basics(tmp_path):
    conn = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    init_db(conn)
    conn.execute("INSERT INTO counters (id, value, version) VALUES (1, 10, 0)")
    assert optimistic_update(conn, 1, lambda v: v + 5) == 15
    assert read_row(conn, 1) == (15, 1)
