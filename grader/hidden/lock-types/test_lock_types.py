# canary: hidden-test-lock-types
"""Hidden tests of lock-types: a spinlock on test-and-set, a writer-preferring
readers-writer lock, a counting semaphore on a condition variable, and an
optimistic update in SQLite.

The learner's process belongs to the submission, which can patch anything
in it (threading, time, the helper code sent there). So what decides the
verdict on blocking, waking, ordering and spinning is seen from the judge:
each acquire is started with `.start()` in its own learner thread and the
judge sees which call returns and when, and which threads of the process the
kernel shows asleep, and the CPU time they use (prep_judge.threads, judge
side). Helper code (sent with learner.exec, with the probes' source, never
imported there) only drives load: it starts threads, releases several times
in a row, sends spurious wake-ups. Some scenarios still return a report
computed there (random load, timeouts, SQLite); the helper code holds no
expected value.
"""

from __future__ import annotations

import os
import time

import pytest

from prep_judge import LearnerError, LearnerTimeout
from prep_judge.threads import settle, source, wait_asleep, wait_count, wait_done

HELPERS = r'''
import os, random, sqlite3, sys, threading, time

wait_parked_any = wait_parked  # the probe's, defined above from prep_judge.threads' source

locks = sys.modules["locks"]

# Small thread stacks: under --sandbox local the memory limit is an address-space
# limit (RLIMIT_AS), and every thread reserves its whole stack there.
threading.stack_size(512 * 1024)


# ------------------------------------------------------------ threads and waiting

def waiters(obj):
    """How many threads sleep on the Conditions of obj (notify_all empties this at once)."""
    return sum(len(getattr(c, "_waiters", ())) for c in conditions_of(obj))


def wait_parked(runner, seconds=2.0, obj=None):
    """Until the runner's thread sleeps in a Condition wait (True), finishes, or `seconds` pass.

    With obj: the thread must be waiting on one of obj's Conditions, so right after a
    notify_all() this waits for the thread to wake, re-test and wait again (or return)."""
    return wait_parked_any(runner, seconds, None if obj is None else lambda: waiters(obj) > 0)


def conditions_of(obj):
    """The threading.Condition objects kept in the attributes of obj (one level into containers)."""
    found = []
    values = list(vars(obj).values()) if hasattr(obj, "__dict__") else []
    for name in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, name):
            values.append(getattr(obj, name))
    for value in values:
        items = [value]
        if isinstance(value, (list, tuple, set)):
            items = list(value)
        elif isinstance(value, dict):
            items = list(value.values())
        for item in items:
            if isinstance(item, threading.Condition) and all(item is not f for f in found):
                found.append(item)
    return found


def spurious_wakeup(obj):
    """notify_all() on every Condition of obj, with nothing changed: what a spurious wake-up looks like."""
    conds = conditions_of(obj)
    for cond in conds:
        with cond:
            cond.notify_all()
    return len(conds)


def count_conditions(obj):
    return len(conditions_of(obj))


def make_barrier(n):
    return threading.Barrier(n)


def release_n(obj, n):
    """obj.release() n times in a row, with no other thread let in between (a long switch interval)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    try:
        for _ in range(n):
            obj.release()
    finally:
        sys.setswitchinterval(old)


def race_try(lock, barrier):
    """Meet the other racers at the barrier, then one try_acquire(): several threads try at the same moment."""
    barrier.wait(3)
    return lock.try_acquire()


def join_all(runners, seconds):
    end = time.monotonic() + seconds
    for r in runners:
        r.done.wait(max(0.0, end - time.monotonic()))
    return [i for i, r in enumerate(runners) if not r.done.is_set()]


def errors_of(runners):
    return [r.error for r in runners if r.error][:3]


# ------------------------------------------------------------ 1. spinlock

class YieldingTestAndSet:
    """Same behaviour as the given TestAndSet, but yields the CPU after every operation."""

    def __init__(self):
        self._cell = {}
        self.tas_calls = 0
        self.ops = 0

    def test_and_set(self):
        mine = object()
        old = self._cell.setdefault("flag", mine) is not mine
        self.tas_calls += 1
        self.ops += 1
        time.sleep(0)
        return old

    def clear(self):
        self._cell.pop("flag", None)
        self.ops += 1
        time.sleep(0)

    def load(self):
        value = "flag" in self._cell
        self.ops += 1
        time.sleep(0)
        return value


def make_spinlock():
    given = locks.TestAndSet
    locks.TestAndSet = YieldingTestAndSet
    try:
        lock = locks.SpinLock()
    finally:
        locks.TestAndSet = given
    prims = [v for v in vars(lock).values() if isinstance(v, YieldingTestAndSet)] if hasattr(lock, "__dict__") else []
    return lock, (prims[0] if prims else None)


class WideningTestAndSet(YieldingTestAndSet):
    """Yields after every operation, and after a load() that saw the flag free lets the others run for
    20 ms: the gap between looking and taking that an interrupt or another CPU can open at any time."""

    def load(self):
        value = super().load()
        if not value:
            time.sleep(0.02)
        return value


def new_spinlock():
    """A SpinLock on the widening TestAndSet, with frequent thread switches."""
    sys.setswitchinterval(1e-5)
    given = locks.TestAndSet
    locks.TestAndSet = WideningTestAndSet
    try:
        return locks.SpinLock()
    finally:
        locks.TestAndSet = given


def spin_contention(threads, rounds):
    lock, prim = make_spinlock()
    book = threading.Lock()
    state = {"inside": 0, "max_inside": 0}
    counter = [0]
    barrier = threading.Barrier(threads)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)

    def work():
        barrier.wait(3)
        for _ in range(rounds):
            lock.acquire()
            with book:
                state["inside"] += 1
                state["max_inside"] = max(state["max_inside"], state["inside"])
            seen = counter[0]
            time.sleep(0)
            counter[0] = seen + 1
            with book:
                state["inside"] -= 1
            lock.release()

    try:
        runners = [Runner(work) for _ in range(threads)]
        hung = join_all(runners, 6.0)
    finally:
        sys.setswitchinterval(old_interval)
    return {"uses_primitive": prim is not None, "tas_calls": prim.tas_calls if prim else 0,
            "max_inside": state["max_inside"], "count": counter[0], "hung": len(hung),
            "errors": errors_of(runners)}


def spin_release_resets():
    lock, prim = make_spinlock()
    report = {"uses_primitive": prim is not None}
    first = Runner(lambda: (lock.acquire(), lock.release(), lock.try_acquire()))
    first.done.wait(2)
    report["first_done"] = first.done.is_set()
    report["first_error"] = first.error
    report["try_after_release"] = first.value[2] if first.value else None
    if report["try_after_release"]:
        lock.release()
        again = Runner(lambda: (lock.acquire(), lock.locked()))
        again.done.wait(2)
        report["acquire_again_done"] = again.done.is_set()
        report["acquire_again_error"] = again.error
        report["locked_while_held"] = again.value[1] if again.value else None
        if again.done.is_set() and not again.error:
            lock.release()
            report["locked_after_release"] = lock.locked()
    return report


def spin_try_and_handoff():
    lock, prim = make_spinlock()
    report = {"uses_primitive": prim is not None}
    holder = Runner(lock.try_acquire)
    holder.done.wait(2)
    report["first_try"] = holder.value if holder.done.is_set() else "hung"
    report["first_error"] = holder.error
    if holder.value is not True:
        return report
    t0 = time.monotonic()
    other = Runner(lock.try_acquire)
    other.done.wait(2)
    report["second_try"] = other.value if other.done.is_set() else "hung"
    report["second_try_seconds"] = round(time.monotonic() - t0, 3)
    before = prim.ops if prim else 0
    waiter = Runner(lock.acquire)
    end = time.monotonic() + 2
    while time.monotonic() < end and not waiter.done.is_set() and (prim is None or prim.ops < before + 20):
        time.sleep(0.001)
    report["waiter_got_it_while_held"] = waiter.done.is_set()
    lock.release()
    waiter.done.wait(2)
    report["waiter_got_it_after_release"] = waiter.done.is_set() and not waiter.error
    report["waiter_error"] = waiter.error
    if waiter.done.is_set():
        lock.release()
    try:
        lock.release()
        report["release_unlocked"] = "no exception"
    except NotImplementedError:
        report["release_unlocked"] = "NotImplementedError"
    except RuntimeError:
        report["release_unlocked"] = "RuntimeError"
    except BaseException as exc:
        report["release_unlocked"] = type(exc).__name__
    return report


# ------------------------------------------------------------ 2. readers-writer lock

def rw_readers_share(n):
    lock = locks.RWLock()
    barrier = threading.Barrier(n, timeout=2)

    def reader():
        lock.acquire_read()
        try:
            barrier.wait()
        finally:
            lock.release_read()

    runners = [Runner(reader) for _ in range(n)]
    hung = join_all(runners, 5)
    return {"hung": len(hung), "errors": errors_of(runners)}


def rw_random_load(seed, readers, writers, rounds):
    lock = locks.RWLock()
    book = threading.Lock()
    state = {"r": 0, "w": 0, "max_r": 0}
    bad = []
    stop = threading.Event()

    def check():
        if state["w"] > 1 or (state["w"] and state["r"]):
            bad.append((state["r"], state["w"]))

    def enter(kind):
        with book:
            state[kind] += 1
            state["max_r"] = max(state["max_r"], state["r"])
            check()

    def leave(kind):
        with book:
            check()
            state[kind] -= 1

    def hold(rng):
        pause = rng.choice([0, 0, 0, 0.0002, 0.001])
        if pause:
            time.sleep(pause)
        else:
            time.sleep(0)

    def reader(i):
        rng = random.Random(seed * 100 + i)
        for _ in range(rounds):
            lock.acquire_read()
            enter("r")
            hold(rng)
            leave("r")
            lock.release_read()
            hold(rng)

    def writer(i):
        rng = random.Random(seed * 100 + 50 + i)
        for _ in range(rounds // 2):
            lock.acquire_write()
            enter("w")
            hold(rng)
            leave("w")
            lock.release_write()
            hold(rng)

    def sampler():
        while not stop.is_set():
            with book:
                check()
            time.sleep(0.0002)

    sampling = Runner(sampler)
    runners = [Runner(reader, i) for i in range(readers)] + [Runner(writer, i) for i in range(writers)]
    hung = join_all(runners, 7)
    stop.set()
    sampling.done.wait(1)
    return {"violations": len(bad), "first": bad[0] if bad else None, "hung": len(hung),
            "max_readers": state["max_r"], "errors": errors_of(runners)}


def rw_release_errors():
    report = {}
    for name in ("release_read", "release_write"):
        lock = locks.RWLock()
        try:
            getattr(lock, name)()
            report[name] = "no exception"
        except NotImplementedError:
            report[name] = "NotImplementedError"
        except RuntimeError:
            report[name] = "RuntimeError"
        except BaseException as exc:
            report[name] = type(exc).__name__
    return report


# ------------------------------------------------------------ 3. semaphore

def sem_holders(seed, permits, threads, rounds):
    sem = locks.Semaphore(permits)
    book = threading.Lock()
    state = {"holders": 0, "max": 0}
    bad = []
    stop = threading.Event()

    # phase 1: `permits` threads must be able to hold it at the same time
    barrier = threading.Barrier(permits, timeout=2)

    def together():
        sem.acquire()
        try:
            barrier.wait()
        finally:
            sem.release()

    first = [Runner(together) for _ in range(permits)]
    phase1_hung = join_all(first, 4)
    phase1_errors = errors_of(first)

    # phase 2: many threads, random holds, the count sampled all along
    def check():
        if state["holders"] > permits or state["holders"] < 0:
            bad.append(state["holders"])

    def work(i):
        rng = random.Random(seed * 1000 + i)
        for _ in range(rounds):
            sem.acquire()
            with book:
                state["holders"] += 1
                state["max"] = max(state["max"], state["holders"])
                check()
            time.sleep(rng.choice([0, 0, 0.0003]))
            with book:
                check()
                state["holders"] -= 1
            sem.release()

    def sampler():
        while not stop.is_set():
            with book:
                check()
            time.sleep(0.0002)

    sampling = Runner(sampler)
    runners = [Runner(work, i) for i in range(threads)]
    hung = join_all(runners, 6)
    stop.set()
    sampling.done.wait(1)
    try:
        left = sem.available()
    except BaseException as exc:
        left = f"{type(exc).__name__}: {exc}"
    return {"phase1_hung": len(phase1_hung), "phase1_errors": phase1_errors, "violations": len(bad),
            "worst": max(bad) if bad else None, "max": state["max"], "hung": len(hung),
            "errors": errors_of(runners), "available_after": left}


def sem_timeout(timeout, nagging):
    sem = locks.Semaphore(0)
    t0 = time.monotonic()
    waiter = Runner(lambda: (sem.acquire(timeout=timeout), time.monotonic()))
    end = t0 + nagging
    wakeups = 0
    while not waiter.done.is_set() and time.monotonic() < end:
        if wait_parked(waiter, 0.2, sem):
            wakeups += spurious_wakeup(sem) and 1
        time.sleep(0.02)
    waiter.done.wait(2)
    report = {"returned": waiter.done.is_set(), "error": waiter.error, "wakeups": wakeups,
              "value": waiter.value[0] if waiter.value else None,
              "seconds": round(waiter.value[1] - t0, 3) if waiter.value else None}
    # a permit that arrives during a timed wait is taken
    sem2 = locks.Semaphore(0)
    t1 = time.monotonic()
    late = Runner(lambda: (sem2.acquire(timeout=3), time.monotonic()))
    wait_parked(late, 1.0, sem2)
    sem2.release()
    late.done.wait(2)
    report["timed_got_permit"] = late.value[0] if late.value else None
    report["timed_error"] = late.error
    report["timed_seconds"] = round(late.value[1] - t1, 3) if late.value else None
    try:
        locks.Semaphore(-1)
        report["negative"] = "no exception"
    except ValueError:
        report["negative"] = "ValueError"
    except BaseException as exc:
        report["negative"] = type(exc).__name__
    return report


def sem_short_timeouts():
    """acquire() with timeouts of 0 and below, each bounded; stops at the first call that hangs."""
    sem = locks.Semaphore(1)
    steps = [("acquire(timeout=0) with a permit free", lambda: sem.acquire(timeout=0)),
             ("acquire(timeout=0) with no permit free", lambda: sem.acquire(timeout=0)),
             ("acquire(timeout=-1) with no permit free", lambda: sem.acquire(timeout=-1)),
             ("release()", sem.release),
             ("acquire(timeout=-1) with a permit free", lambda: sem.acquire(timeout=-1)),
             ("available()", sem.available)]
    report = {"steps": []}
    for what, fn in steps:
        t0 = time.monotonic()
        r = Runner(fn)
        r.done.wait(2)
        if not r.done.is_set():
            report["hung"] = what
            break
        report["steps"].append([what, r.error or r.value, round(time.monotonic() - t0, 3)])
    return report


def sem_extra_release():
    """release() on a Semaphore(0) twice, then takes, each bounded."""
    sem = locks.Semaphore(0)
    report = {}
    r = Runner(lambda: (sem.release(), sem.release(), sem.available()))
    r.done.wait(2)
    report["released"] = "hung" if not r.done.is_set() else (r.error or r.value[2])
    if r.done.is_set() and not r.error:
        takes = Runner(lambda: [sem.acquire(timeout=0.05) for _ in range(3)] + [sem.available()])
        takes.done.wait(2)
        report["takes"] = "hung" if not takes.done.is_set() else (takes.error or takes.value)
    return report


# ------------------------------------------------------------ 4. optimistic update

DDL = ("CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL,"
       " version INTEGER NOT NULL DEFAULT 0)")


def connect(path, timeout=10.0):
    return sqlite3.connect(path, timeout=timeout, isolation_level=None)


def occ_prepare(path, value, version=0):
    conn = connect(path)
    conn.execute(DDL)
    conn.execute("INSERT OR REPLACE INTO counters (id, value, version) VALUES (1, ?, ?)", (value, version))
    conn.close()


def occ_row(path):
    conn = connect(path)
    try:
        row = conn.execute("SELECT value, version FROM counters WHERE id = 1").fetchone()
    finally:
        conn.close()
    return list(row) if row else None


def outcome(fn):
    try:
        return {"value": fn()}
    except BaseException as exc:
        return {"raised": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__], "message": str(exc)[:200]}


def occ_basic(path):
    occ_prepare(path, 10, 4)
    conn = connect(path)
    report = {"read": outcome(lambda: list(locks.read_row(conn, 1)))}
    report["update"] = outcome(lambda: locks.optimistic_update(conn, 1, lambda v: v * 3))
    report["row"] = occ_row(path)
    report["read_missing"] = outcome(lambda: locks.read_row(conn, 99))
    report["update_missing"] = outcome(lambda: locks.optimistic_update(conn, 99, lambda v: v + 1))
    conn.close()
    return report


def occ_conflict(path):
    occ_prepare(path, 5)
    conn = connect(path)
    other = connect(path, timeout=1.0)
    calls = []

    def fn(v):
        calls.append(v)
        if len(calls) == 1:  # another writer commits between the read and the write
            other.execute("UPDATE counters SET value = value + 100, version = version + 1 WHERE id = 1")
        return v + 1

    report = outcome(lambda: locks.optimistic_update(conn, 1, fn))
    report["calls"] = calls
    report["row"] = occ_row(path)
    conn.close()
    other.close()
    return report


def occ_gives_up(path, attempts):
    occ_prepare(path, 5)
    conn = connect(path)
    other = connect(path, timeout=1.0)
    calls = []

    def fn(v):
        calls.append(v)
        if len(calls) <= attempts + 5:
            other.execute("UPDATE counters SET value = value + 100, version = version + 1 WHERE id = 1")
        return v + 1

    report = outcome(lambda: locks.optimistic_update(conn, 1, fn, attempts))
    report["calls"] = len(calls)
    report["row"] = occ_row(path)
    conn.close()
    other.close()
    return report


def occ_lose_then_win(path, losses, attempts=None):
    """Another writer gets in on the first `losses` calls of fn only; attempts=None uses the default."""
    occ_prepare(path, 5)
    conn = connect(path)
    other = connect(path, timeout=1.0)
    calls = []

    def fn(v):
        calls.append(v)
        if len(calls) <= losses:
            other.execute("UPDATE counters SET value = value + 100, version = version + 1 WHERE id = 1")
        return v + 1

    if attempts is None:
        report = outcome(lambda: locks.optimistic_update(conn, 1, fn))
    else:
        report = outcome(lambda: locks.optimistic_update(conn, 1, fn, attempts))
    report["calls"] = len(calls)
    report["row"] = occ_row(path)
    conn.close()
    other.close()
    return report


def occ_fn_raises(path):
    occ_prepare(path, 7, 3)
    conn = connect(path)

    def fn(v):
        raise ValueError("the new value cannot be computed")

    report = outcome(lambda: locks.optimistic_update(conn, 1, fn))
    report["row"] = occ_row(path)
    conn.close()
    return report


def occ_bad_attempts(path):
    occ_prepare(path, 8, 2)
    conn = connect(path)
    calls = []

    def fn(v):
        calls.append(v)
        return v + 1

    report = {}
    for n in (0, -1):
        report[str(n)] = outcome(lambda: locks.optimistic_update(conn, 1, fn, n))
    report["calls"] = len(calls)
    report["row"] = occ_row(path)
    conn.close()
    return report


def occ_processes(path, procs, each):
    occ_prepare(path, 0)
    start_r, start_w = os.pipe()
    out_r, out_w = os.pipe()
    pids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.close(start_w)
                os.close(out_r)
                os.read(start_r, 1)  # EOF when the parent closes its end: everyone starts at once
                conn = connect(path)
                calls = [0]

                def fn(v):
                    calls[0] += 1
                    time.sleep(0.001)  # widen the window between the read and the write
                    return v + 1

                for _ in range(each):
                    locks.optimistic_update(conn, 1, fn, 10000)
                conn.close()
                os.write(out_w, f"{calls[0]}\n".encode())
                code = 0
            except BaseException as exc:
                try:
                    os.write(out_w, f"E {type(exc).__name__}: {str(exc)[:100]}\n".encode())
                except BaseException:
                    pass
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(start_r)
    os.close(out_w)
    os.close(start_w)
    deadline = time.monotonic() + 8
    statuses = {}
    while len(statuses) < len(pids) and time.monotonic() < deadline:
        for pid in pids:
            if pid not in statuses:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    statuses[pid] = os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    for pid in pids:
        if pid not in statuses:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            statuses[pid] = "killed after 8 s"
    out = b""
    while True:
        chunk = os.read(out_r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(out_r)
    lines = out.decode().split()
    calls = sum(int(x) for x in lines if x.isdigit())
    errors = [line for line in out.decode().splitlines() if line.startswith("E ")]
    return {"row": occ_row(path), "statuses": sorted(statuses.values(), key=str), "calls": calls, "errors": errors[:3]}
'''


def helpers(learner):
    return learner.exec(source() + HELPERS)


def db_path(learner, name):
    return os.path.join(learner.workdir, name)


def said(outcome):
    """An outcome of the helpers' `outcome()` in words."""
    if "raised" in outcome:
        return f"raised {outcome['raised']}: {outcome['message']}"
    return f"returned {outcome['value']!r}"


def _first_error(report):
    errors = report.get("errors") or []
    return f" A thread raised: {errors[0]}." if errors else ""


def _outcome(pending):
    """What a call started with .start() did, in words (it has returned: this does not wait long)."""
    try:
        return f"returned {pending.result(0.5)!r}"
    except LearnerError as exc:
        return f"raised {exc.type}: {exc.message}"
    except LearnerTimeout:
        return "is still running"


def assert_waiting(learner, base, calls, what):
    """Judge side: every call of `calls` ([(pending, message if it returned)]) is blocked, and the
    learner process is asleep: `base` + one sleeping thread per call, no CPU used, no polling."""
    pendings = [p for p, _ in calls]
    quiet = wait_asleep(learner, pendings, base + len(pendings))
    for p, message in calls:
        assert not p.done(), message.format(outcome=_outcome(p))
    assert quiet, (
        f"{what}: the waiting thread did not go to sleep within 3 s (the judge saw the process keep using CPU, "
        "or its threads keep waking up). A thread that must wait sleeps in Condition.wait() until it is "
        "notified; it must not spin or poll"
    )


# ================================================================ 1. spinlock


@pytest.mark.cards("test-and-set-spinlock")
def test_spinlock_mutual_exclusion_under_contention(learner):
    threads, rounds = 4, 150
    report = helpers(learner).call("spin_contention", threads, rounds)
    assert report["uses_primitive"], (
        "SpinLock() must build its flag with TestAndSet() (looked up when the SpinLock is created): "
        "no TestAndSet was found among the attributes of a new SpinLock"
    )
    assert report["max_inside"] <= 1, (
        f"mutual exclusion broken: {report['max_inside']} threads were inside the spinlock at the same time. "
        "With other threads allowed to run between your calls, checking the flag and then setting it is not "
        "atomic: take the lock only when test_and_set() itself returns False"
    )
    assert report["hung"] == 0, (
        f"{threads} threads taking and releasing the spinlock {rounds} times each did not finish within 6 s "
        f"({report['hung']} still running): a thread waits forever in acquire().{_first_error(report)}"
    )
    assert not report["errors"], f"a thread using the spinlock raised: {report['errors'][0]}"
    assert report["count"] == threads * rounds, (
        f"a counter incremented under the spinlock ended at {report['count']}, expected {threads * rounds}: "
        "increments were lost, so two threads were inside at once"
    )


@pytest.mark.cards("test-and-set-spinlock")
def test_spinlock_release_resets_the_flag(learner):
    report = helpers(learner).call("spin_release_resets")
    assert report["first_done"], "acquire() then release() then try_acquire() on a free spinlock did not return within 2 s"
    assert report["first_error"] is None, f"acquire(), release(), try_acquire() on a free spinlock raised {report['first_error']}"
    assert report["try_after_release"] is True, (
        f"after acquire() and release(), try_acquire() must get the lock (True); it returned "
        f"{report['try_after_release']!r}: release() must clear the flag"
    )
    assert report["acquire_again_done"], "after release(), acquire() spun for 2 s on a free lock: release() must clear the flag"
    assert report["acquire_again_error"] is None, f"acquire() raised {report['acquire_again_error']}"
    assert report["locked_while_held"] is True, f"locked() must be True while the lock is held, got {report['locked_while_held']!r}"
    assert report["locked_after_release"] is False, (
        f"locked() must be False after release(), got {report['locked_after_release']!r}"
    )


@pytest.mark.cards("test-and-set-spinlock")
def test_spinlock_try_acquire_and_handoff(learner):
    report = helpers(learner).call("spin_try_and_handoff")
    assert report["first_error"] is None, f"try_acquire() on a free spinlock raised {report['first_error']}"
    assert report["first_try"] is True, f"try_acquire() on a free spinlock must return True, got {report['first_try']!r}"
    assert report["second_try"] is False, (
        f"try_acquire() on a held spinlock must return False at once, got {report['second_try']!r}"
    )
    assert report["second_try_seconds"] < 0.5, (
        f"try_acquire() on a held spinlock took {report['second_try_seconds']} s: it must try once, not spin"
    )
    assert not report["waiter_got_it_while_held"], "acquire() returned while another thread held the spinlock"
    assert report["waiter_got_it_after_release"], (
        f"a thread spinning in acquire() did not get the lock within 2 s of its release"
        f"{' (it raised ' + report['waiter_error'] + ')' if report['waiter_error'] else ''}"
    )
    assert report["release_unlocked"] == "RuntimeError", (
        f"release() of an unlocked spinlock must raise RuntimeError, got {report['release_unlocked']}"
    )


@pytest.mark.cards("test-and-set-spinlock")
def test_spinlock_one_waiter_per_release(learner):
    lock = helpers(learner).call("new_spinlock")
    lock.call("acquire")
    waiters = [lock.start("acquire") for _ in range(3)]
    early = wait_count(waiters, 1, 0.5)
    assert early == 0, f"{early} of 3 threads spinning in acquire() got the spinlock while another thread held it"
    for n in range(1, 4):
        lock.call("release")
        got = wait_count(waiters, n, 3.0)
        assert got >= n, (
            f"after release(), none of the {4 - n} threads spinning in acquire() got the spinlock within 3 s"
        )
        got = wait_count(waiters, n + 1, 0.3)
        assert got == n, (
            f"one release() let {got - n + 1} threads spinning in acquire() in at once: mutual exclusion broken. "
            "Checking the flag and then setting it is not atomic: the lock is yours only when test_and_set() "
            "itself returned False"
        )
    lock.call("release")


@pytest.mark.cards("test-and-set-spinlock")
def test_spinlock_try_acquire_race(learner):
    ns = helpers(learner)
    lock = ns.call("new_spinlock")
    for attempt in range(5):
        barrier = ns.call("make_barrier", 4)
        tries = [ns.start("race_try", lock, barrier) for _ in range(4)]
        left = wait_done(tries, 3.0)
        assert not left, f"{len(left)} of 4 threads calling try_acquire() at the same moment did not return within 3 s"
        values = [t.result(0.5) for t in tries]
        assert values.count(True) == 1, (
            f"4 threads called try_acquire() at the same moment on a free spinlock: exactly one must get True, "
            f"they got {values} (round {attempt + 1}). Looking at the flag and then setting it lets several "
            "through: one test_and_set() decides"
        )
        lock.call("release")


# ================================================================ 2. readers-writer lock


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_readers_hold_it_together(learner):
    report = helpers(learner).call("rw_readers_share", 4)
    assert not report["errors"], (
        "4 readers could not all hold the read lock at the same time (they waited for each other at a "
        f"barrier inside it and it broke): readers must share the lock. First error: {report['errors'][0]}"
    )
    assert report["hung"] == 0, f"{report['hung']} of 4 readers did not finish within 5 s"


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_never_a_reader_beside_a_writer(learner):
    report = helpers(learner).call("rw_random_load", 7, 4, 2, 60)
    assert report["violations"] == 0, (
        f"the lock's rule was broken {report['violations']} time(s): first seen with "
        f"{report['first'][0]} reader(s) and {report['first'][1]} writer(s) inside at once "
        "(a writer must be alone)"
    )
    assert report["hung"] == 0, (
        f"4 readers and 2 writers looping on the lock did not finish within 7 s ({report['hung']} threads "
        f"still waiting): a release does not wake the threads that can now go.{_first_error(report)}"
    )
    assert not report["errors"], f"a thread using the lock raised: {report['errors'][0]}"


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_waiting_writer_keeps_new_readers_out(learner):
    lock = learner.call("RWLock")
    base = settle(learner)
    lock.call("acquire_read")
    writer = lock.start("acquire_write")
    assert_waiting(learner, base, [(writer, "acquire_write() {outcome} while a reader held the lock: a writer "
                                            "waits while anyone holds it")],
                   "acquire_write() while a reader holds the lock")
    reader = lock.start("acquire_read")
    assert_waiting(learner, base, [
        (reader, "a new reader got the lock (acquire_read() {outcome}) while a writer was waiting for it: that is "
                 "a readers-preferring lock, and a steady stream of readers starves the writer. Once a writer "
                 "waits, new readers must wait too"),
        (writer, "acquire_write() {outcome} while a reader held the lock")],
        "a reader arriving while a writer waits")
    lock.call("release_read")
    assert not wait_done([writer], 2.0), (
        "when the only reader released the lock, the waiting writer did not get it within 2 s"
    )
    writer.result(0.5)
    assert_waiting(learner, base, [(reader, "the reader that came while the writer waited {outcome} while the "
                                            "writer held the lock: when the reader left, the waiting writer must "
                                            "go first, alone")],
                   "a reader waiting while a writer holds the lock")
    lock.call("release_write")
    assert not wait_done([reader], 2.0), (
        "the reader that waited behind the writer did not get the lock within 2 s of release_write()"
    )
    reader.result(0.5)


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_writer_not_starved_by_stream_of_readers(learner):
    lock = learner.call("RWLock")
    lock.call("acquire_read")
    holding, entered = 1, 0
    writer = lock.start("acquire_write")
    t0 = time.monotonic()
    # a stream of readers, each arriving before the last one leaves: the lock is never free of readers
    while not writer.done() and time.monotonic() - t0 < 3.0:
        reader = lock.start("acquire_read")
        if not wait_done([reader], 0.1):
            holding += 1
            entered += 1
        if holding:
            lock.call("release_read")
            holding -= 1
    seconds = round(time.monotonic() - t0, 2)
    assert writer.done(), (
        f"while readers kept arriving (each one before the last one left, so the lock was never free of "
        f"readers; {entered} of them got in), a writer waited more than 3 s for acquire_write(). Writer "
        "starvation: new readers must wait once a writer is waiting"
    )
    writer.result(0.5)
    assert seconds <= 1.5, (
        f"while readers kept arriving, a writer waited {seconds} s for acquire_write() ({entered} readers got in "
        "meanwhile); it must get the lock within 1.5 s: new readers must wait once a writer is waiting"
    )


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_writer_release_admits_every_waiting_reader(learner):
    lock = learner.call("RWLock")
    base = settle(learner)
    lock.call("acquire_write")
    readers = [lock.start("acquire_read") for _ in range(3)]
    assert_waiting(learner, base, [(r, "acquire_read() {outcome} while a writer held the lock") for r in readers],
                   "3 readers waiting while a writer holds the lock")
    lock.call("release_write")
    left = wait_done(readers, 2.0)
    assert not left, (
        f"{len(left)} of the 3 readers waiting behind a writer were still waiting 2 s after release_write(), "
        "though no writer held or wanted the lock and none of them had released it: readers share the lock, "
        "so a writer's release must wake every waiting reader (notify_all, not notify)"
    )
    for r in readers:
        r.result(0.5)


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_two_waiting_writers_go_before_readers(learner):
    lock = learner.call("RWLock")
    base = settle(learner)
    lock.call("acquire_read")
    writers = [lock.start("acquire_write") for _ in range(2)]
    assert_waiting(learner, base, [(w, "acquire_write() {outcome} while a reader held the lock") for w in writers],
                   "2 writers waiting while a reader holds the lock")
    reader = lock.start("acquire_read")
    assert_waiting(learner, base, [(reader, "a new reader got the lock (acquire_read() {outcome}) while 2 writers "
                                            "were waiting for it: once a writer waits, new readers wait too")]
                   + [(w, "acquire_write() {outcome} while a reader held the lock") for w in writers],
                   "a reader arriving while 2 writers wait")
    lock.call("release_read")
    got = wait_count(writers, 1, 2.0)
    assert got >= 1, "when the only reader released the lock, neither of the 2 waiting writers got it within 2 s"
    first = next(w for w in writers if w.done())
    first.result(0.5)
    second = next(w for w in writers if w is not first)
    assert_waiting(learner, base, [
        (second, "both waiting writers got the lock at once (the second acquire_write() {outcome}): a writer "
                 "holds it alone"),
        (reader, "a reader got the lock (acquire_read() {outcome}) beside a writer")],
        "a writer and a reader waiting while a writer holds the lock")
    lock.call("release_write")
    assert not wait_done([second], 2.0), (
        "when the first writer released the lock, the second waiting writer did not get it within 2 s"
        + (f" (the reader that came after both writers got it first: acquire_read() {_outcome(reader)}; a "
           "waiting writer, the second one too, keeps new readers out: count the waiting writers, a flag is "
           "cleared by the first)" if reader.done() else "")
    )
    second.result(0.5)
    assert_waiting(learner, base, [(reader, "the reader got the lock (acquire_read() {outcome}) while the second "
                                            "writer held it")],
                   "a reader waiting while the second writer holds the lock")
    lock.call("release_write")
    assert not wait_done([reader], 2.0), (
        "once both writers had released the lock, the waiting reader did not get it within 2 s"
    )


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_survives_spurious_wakeups(learner):
    ns = helpers(learner)
    lock = learner.call("RWLock")
    assert ns.call("count_conditions", lock) > 0, (
        "no threading.Condition was found among the RWLock's attributes: build it on a Condition kept as an "
        "attribute (the test needs it to send spurious wake-ups)"
    )
    base = settle(learner)
    lock.call("acquire_read")
    writer = lock.start("acquire_write")
    assert_waiting(learner, base, [(writer, "acquire_write() {outcome} while a reader held the lock")],
                   "acquire_write() while a reader holds the lock")
    for _ in range(3):
        ns.call("spurious_wakeup", lock)
        assert_waiting(learner, base, [
            (writer, "after notify_all() on the lock's condition with a reader still holding the lock (a spurious "
                     "wake-up), the waiting writer went in beside the reader (acquire_write() {outcome}): re-test "
                     "the condition in a while loop around wait(), not an if")],
            "a writer woken by notify_all() with nothing changed")
    lock.call("release_read")
    assert not wait_done([writer], 2.0), "the writer did not get the lock within 2 s of the reader's release"
    writer.result(0.5)


@pytest.mark.cards("writer-preferring-rwlock-reader-wait")
def test_rwlock_release_without_holding_raises(learner):
    report = helpers(learner).call("rw_release_errors")
    assert report["release_read"] == "RuntimeError", (
        f"release_read() with no reader holding the lock must raise RuntimeError, got {report['release_read']}"
    )
    assert report["release_write"] == "RuntimeError", (
        f"release_write() with no writer holding the lock must raise RuntimeError, got {report['release_write']}"
    )


# ================================================================ 3. semaphore


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_never_more_holders_than_permits(learner):
    report = helpers(learner).call("sem_holders", 3, 3, 8, 60)
    assert report["phase1_hung"] == 0 and not report["phase1_errors"], (
        "3 threads could not hold a Semaphore(3) at the same time (they met at a barrier while holding it): "
        "a semaphore with 3 permits must let 3 in"
    )
    assert report["violations"] == 0, (
        f"a Semaphore(3) had {report['worst']} holders at once: never more holders than permits"
    )
    assert report["hung"] == 0, (
        f"8 threads sharing a Semaphore(3) did not finish within 6 s ({report['hung']} still waiting): "
        f"release() must wake a waiter.{_first_error(report)}"
    )
    assert not report["errors"], f"a thread using the semaphore raised: {report['errors'][0]}"
    assert report["available_after"] == 3, (
        f"after every acquire() was matched by a release(), available() must be back to 3, got {report['available_after']!r}"
    )


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_survives_spurious_wakeups(learner):
    ns = helpers(learner)
    sem = learner.call("Semaphore", 1)
    assert ns.call("count_conditions", sem) > 0, (
        "no threading.Condition was found among the Semaphore's attributes: build it on a Condition kept as "
        "an attribute (the test needs it to send spurious wake-ups)"
    )
    base = settle(learner)
    assert sem.call("acquire") is True, "acquire() on a Semaphore(1) must return True"
    waiter = sem.start("acquire")
    assert_waiting(learner, base, [(waiter, "acquire() on a Semaphore(1) whose permit was taken {outcome}")],
                   "acquire() with no permit free")
    for _ in range(3):
        ns.call("spurious_wakeup", sem)
        assert_waiting(learner, base, [
            (waiter, "with no permit free, notify_all() on the semaphore's condition (a spurious wake-up) made a "
                     "waiting acquire() return ({outcome}): wait in a while loop that re-tests the count, not an if")],
            "acquire() woken by notify_all() with no permit free")
    available = sem.call("available")
    assert available == 0, f"available() must be 0 while the only permit is held, got {available!r}"
    sem.call("release")
    assert not wait_done([waiter], 2.0), "the waiting acquire() did not return within 2 s of a release()"
    assert waiter.result(0.5) is True, f"the waiting acquire() must return True once it has the permit"
    available = sem.call("available")
    assert available == 0, f"the permit released went to the waiter, so available() must be 0, got {available!r}"


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_one_waiter_per_release(learner):
    sem = learner.call("Semaphore", 2)
    base = settle(learner)
    holders = [sem.start("acquire") for _ in range(2)]
    assert not wait_done(holders, 2.0), "2 acquire() calls on a Semaphore(2) did not both return within 2 s"
    waiters = [sem.start("acquire") for _ in range(2)]
    assert_waiting(learner, base, [(w, "a third acquire() on a Semaphore(2) whose 2 permits were held {outcome}: "
                                       "never more holders than permits") for w in waiters],
                   "2 acquire() calls with every permit held")
    sem.call("release")
    assert wait_count(waiters, 1, 2.0) >= 1, "after a release(), neither of the 2 waiting acquire() calls returned within 2 s"
    still = [w for w in waiters if not w.done()]
    assert_waiting(learner, base, [(w, "one release() let both waiting acquire() calls return: one permit, one "
                                       "holder (the second one {outcome})") for w in still],
                   "an acquire() still waiting after another took the released permit")
    sem.call("release")
    assert not wait_done(waiters, 2.0), "after a second release(), the other waiting acquire() did not return within 2 s"
    available = sem.call("available")
    assert available == 0, f"both released permits went to waiters, so available() must be 0, got {available!r}"


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_back_to_back_releases_wake_every_waiter(learner):
    ns = helpers(learner)
    sem = learner.call("Semaphore", 0)
    base = settle(learner)
    waiters = [sem.start("acquire") for _ in range(3)]
    assert_waiting(learner, base, [(w, "acquire() on a Semaphore(0) {outcome} with no permit free") for w in waiters],
                   "3 acquire() calls on a Semaphore(0)")
    ns.call("release_n", sem, 3)  # 3 releases in a row, before any waiter runs
    left = wait_done(waiters, 2.0)
    available = sem.call("available")
    assert not left, (
        f"3 threads waited in acquire() and release() was called 3 times in a row: {len(left)} of them were still "
        f"waiting 2 s later, with available() = {available!r}. Every release() must wake a waiter, even when "
        "the count was already above 0 (the woken ones had not run yet)"
    )
    for w in waiters:
        assert w.result(0.5) is True, f"acquire() that got a permit must return True, it {_outcome(w)}"
    assert available == 0, f"3 permits released to 3 waiters leave available() at 0, got {available!r}"


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_acquire_timeout(learner):
    report = helpers(learner).call("sem_timeout", 0.3, 1.5)
    assert report["returned"], "acquire(timeout=0.3) with no permit never returned"
    assert report["error"] is None, f"acquire(timeout=0.3) raised {report['error']}"
    assert report["value"] is False, f"acquire(timeout=0.3) with no permit must return False, got {report['value']!r}"
    assert report["seconds"] >= 0.25, f"acquire(timeout=0.3) gave up after {report['seconds']} s, before its timeout"
    assert report["seconds"] <= 1.0, (
        f"acquire(timeout=0.3) returned after {report['seconds']} s while spurious wake-ups kept coming: "
        "the timeout is for the whole call, so wait for the time that is left, not a fresh 0.3 s after every wake-up"
    )
    assert report["timed_error"] is None, f"acquire(timeout=3) raised {report['timed_error']}"
    assert report["timed_got_permit"] is True and report["timed_seconds"] < 2, (
        f"acquire(timeout=3) must return True as soon as a permit is released; it returned "
        f"{report['timed_got_permit']!r} after {report['timed_seconds']} s"
    )
    assert report["negative"] == "ValueError", f"Semaphore(-1) must raise ValueError, got {report['negative']}"


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_zero_or_negative_timeout_never_waits(learner):
    report = helpers(learner).call("sem_short_timeouts")
    assert "hung" not in report, (
        f"{report.get('hung')} on a Semaphore(1) did not return within 2 s: a timeout of 0 or less makes one "
        "attempt and never waits (is `if timeout:` treating 0 as no timeout?)"
    )
    expected = [True, False, False, None, True, 0]
    for (what, got, seconds), want in zip(report["steps"], expected):
        assert got == want, f"{what} must give {want!r}, got {got!r}"
        assert seconds < 0.5, f"{what} took {seconds} s: a timeout of 0 or less must not wait"


@pytest.mark.cards("counting-semaphore-from-condition-variable")
def test_semaphore_release_beyond_initial_count(learner):
    report = helpers(learner).call("sem_extra_release")
    assert report["released"] == 2, (
        f"Semaphore(0) released twice must have available() == 2 (release() always adds a permit, like "
        f"threading.Semaphore); got {report['released']!r}"
    )
    assert report["takes"] == [True, True, False, 0], (
        f"after two release() calls on a Semaphore(0), three acquire(timeout=0.05) calls must give "
        f"True, True, False and leave available() at 0; got {report['takes']!r}"
    )


# ================================================================ 4. optimistic update


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_writes_and_bumps_version(learner):
    report = helpers(learner).call("occ_basic", db_path(learner, "basic.db"))
    assert report["read"] == {"value": [10, 4]}, f"read_row() of a row (value 10, version 4) must give (10, 4); it {said(report['read'])}"
    assert report["update"] == {"value": 30}, (
        f"optimistic_update(conn, 1, lambda v: v * 3) on value 10 must return 30; it {said(report['update'])}"
    )
    assert report["row"] == [30, 5], (
        f"after one update the row must hold value 30 and version 5 (the version goes up by one per write), "
        f"as another connection sees it; it holds {report['row']}"
    )
    for key, call in (("read_missing", "read_row"), ("update_missing", "optimistic_update")):
        got = report[key]
        assert "KeyError" in got.get("mro", []), f"{call}() of a missing row must raise KeyError; it {said(got)}"


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_retries_on_conflict(learner):
    report = helpers(learner).call("occ_conflict", db_path(learner, "conflict.db"))
    assert "raised" not in report, (
        f"optimistic_update() raised {report.get('raised')}: {report.get('message')}"
        + (" (the other writer could not write: take no lock between the read and the write)"
           if report.get("raised") == "OperationalError" else "")
    )
    assert report["row"] != [6, 2] and report["row"] != [6, 1], (
        f"another connection added 100 between your read and your write, and your write replaced it: "
        f"a lost update (row is now {report['row']}). Put the version you read in the WHERE clause"
    )
    assert report["row"] != [105, 1], (
        "your UPDATE matched no row (the version had changed) and optimistic_update() returned as if it had "
        "written: check the cursor's rowcount, and read again and retry when it is 0"
    )
    assert report["calls"] == [5, 105], (
        f"fn must be called again with the value the other writer left: it was called with {report['calls']}"
    )
    assert report["value"] == 106 and report["row"] == [106, 2], (
        f"after the retry the row must hold 106 at version 2 and the call return 106; "
        f"the row holds {report['row']} and the call returned {report.get('value')}"
    )


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_gives_up_after_max_attempts(learner):
    report = helpers(learner).call("occ_gives_up", db_path(learner, "giveup.db"), 4)
    assert report.get("raised") == "ConflictError", (
        f"when every attempt loses to another writer, optimistic_update(..., max_attempts=4) must raise "
        f"ConflictError; it {said(report)}"
    )
    assert report["calls"] == 4, f"with max_attempts=4, fn must be called exactly 4 times, it was called {report['calls']} times"
    assert report["row"] == [405, 4], (
        f"none of your writes may land (only the other writer's 4): the row must be [405, 4], it is {report['row']}"
    )


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_fn_error_writes_nothing(learner):
    report = helpers(learner).call("occ_fn_raises", db_path(learner, "raises.db"))
    assert report.get("raised") == "ValueError", (
        f"an exception raised by fn must come out of optimistic_update() unchanged (ValueError); it {said(report)}"
    )
    assert report["row"] == [7, 3], f"when fn raises nothing may be written: the row must stay [7, 3], it is {report['row']}"


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_rejects_max_attempts_below_one(learner):
    report = helpers(learner).call("occ_bad_attempts", db_path(learner, "attempts.db"))
    for n in ("0", "-1"):
        got = report[n]
        assert "ValueError" in got.get("mro", []), (
            f"optimistic_update(conn, 1, fn, max_attempts={n}) must raise ValueError; it {said(got)}"
        )
    assert report["calls"] == 0, f"with max_attempts below 1, fn must not be called; it was called {report['calls']} times"
    assert report["row"] == [8, 2], f"with max_attempts below 1 nothing may be written: the row must stay [8, 2], it is {report['row']}"


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_no_lost_update_across_processes(learner):
    procs, each = 4, 25
    report = helpers(learner).start("occ_processes", db_path(learner, "procs.db"), procs, each).result(timeout=9.5)
    assert not report["errors"], f"a process calling optimistic_update() failed: {report['errors'][0]}"
    assert report["statuses"] == [0] * procs, (
        f"{procs} processes doing {each} updates each must all finish with status 0, got {report['statuses']}"
    )
    total = procs * each
    assert report["row"] == [total, total], (
        f"{procs} processes each added 1 {each} times through optimistic_update(): the row must end at "
        f"value {total}, version {total}; it ended at {report['row']}. "
        + ("Updates were lost: check the version in the WHERE clause and the rowcount"
           if report["row"] and report["row"][0] < total else "")
    )


@pytest.mark.cards("optimistic-lock-version-column-update")
def test_optimistic_update_attempt_budget_is_exact(learner):
    """max_attempts=1 is one attempt (valid); the default is 100 attempts, the hundredth may win."""
    h = helpers(learner)
    one = h.call("occ_lose_then_win", db_path(learner, "one.db"), 0, 1)
    assert "raised" not in one and one.get("value") == 6, (
        f"optimistic_update(conn, 1, fn, max_attempts=1) with no other writer must write 6 and return it; it "
        f"{said(one)}"
    )
    default = h.call("occ_lose_then_win", db_path(learner, "default.db"), 99)
    assert "raised" not in default and default["calls"] == 100, (
        f"with the default max_attempts (100) and another writer winning the first 99 attempts, the 100th must "
        f"land; fn was called {default['calls']} times and the call {said(default)}"
    )
    assert default["row"] == [9906, 100], f"the row must hold 9906 at version 100, it is {default['row']}"
