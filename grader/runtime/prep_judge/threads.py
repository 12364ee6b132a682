"""Probes for hidden tests of threaded code: judge-side checks, and helpers for the learner's side.

The learner's process is the submission's: it can replace any module, patch
`threading` or `time`, and make anything computed there say what it likes. So
what decides a verdict is observed by the judge (the second half of this file):
the threads of the learner process as the kernel shows them in /proc (asleep or
running, CPU time used) and which calls started with `.start()` have returned.

The first half (Runner, parked, wait_until, wait_parked) runs inside the
learner's process, to drive load: start threads, wait a bounded time. Hidden
tests send its text with learner.exec (`source()`), never import it there.
Every wait here is bounded.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any


class Runner:
    """Run fn(*args) in a daemon thread; remember its value or the exception it raised."""

    threads: set[threading.Thread] = set()  # every thread a Runner started: the probe's, not the submission's

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.done = threading.Event()
        self.value: Any = None
        self.error: str | None = None
        self.thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self.thread.start()
        Runner.threads.add(self.thread)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            self.value = fn(*args)
        except BaseException as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()


def parked(thread: threading.Thread) -> bool:
    """True while the thread sleeps in threading's Condition.wait (directly or through Queue, Event...)."""
    frame = sys._current_frames().get(thread.ident)
    if frame is None or frame.f_code.co_name != "wait" or frame.f_code.co_filename != threading.__file__:
        return False
    # A thread already notified keeps this frame until it gets the CPU back; only a
    # waiter still registered on its Condition is really asleep. Under load that gap
    # is long enough to matter.
    local = frame.f_locals
    registered = getattr(local.get("self"), "_waiters", None)
    if registered is None or "waiter" not in local:
        return True
    try:
        return any(w is local["waiter"] for w in list(registered))
    except RuntimeError:  # the deque changed while we copied it: the caller looks again
        return False


def wait_until(predicate: Callable[[], Any], seconds: float) -> bool:
    """Poll predicate every millisecond until it holds (True) or `seconds` pass."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.001)
    return bool(predicate())


def wait_parked(runner: Runner, seconds: float = 2.0, also: Callable[[], bool] | None = None) -> bool:
    """Until the runner's thread is asleep in a Condition wait (True), finishes, or `seconds` pass.

    `also`, when given, must hold too (for instance: the thread waits on this object's Condition).
    """
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if runner.done.is_set():
            return False
        if parked(runner.thread) and (also is None or also()):
            return True
        time.sleep(0.001)
    return False


# ================================================================ judge side
#
# What decides a verdict is read here, in the judge's process: the learner
# process's threads as the kernel reports them (/proc/PID/task/TID/stat, through
# learner.threads()) and which of the calls started with `.start()` have
# returned. Nothing below runs in the learner's process, and nothing in it can
# change what these functions see.


def source() -> str:
    """This module's source, for helper code sent with learner.exec.

    Helpers define the probes from this text in their own namespace instead of
    importing `prep_judge.threads` there: the submission is imported first and
    could have put a module of its own under that name in sys.modules. The
    probes stay convenience for driving load; no verdict rests on them."""
    with open(__file__, encoding="utf-8") as f:
        return f.read() + "\n"


def sleeping(learner) -> int:
    """How many threads of the learner process the kernel shows asleep (state S or D)."""
    return sum(1 for t in learner.threads() if t.state in "SD")


def live_threads(learner) -> int:
    """How many threads the learner process has, as /proc/PID/task lists them (zombies left out)."""
    return sum(1 for t in learner.threads() if t.state not in "ZX")


def wait_asleep(learner, pendings=(), at_least: int = 0, seconds: float = 3.0, window: float = 0.2,
                max_ticks: int = 2) -> bool:
    """Judge side: until the learner process is quiet, with every call in `pendings` still running.

    Quiet means: at least `at_least` of its threads are in state S (or D) in two
    reads `window` seconds apart, the process's CPU time grew by at most
    `max_ticks` clock ticks in between (a thread that spins, even one that
    yields with sleep(0) or sleeps on the GIL between its turns, keeps using
    CPU), and its threads switched at most once each (one that polls, sleeping
    a millisecond between looks, switches at every look). False when a pending
    call returned, or when `seconds` passed first.
    """
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if any(p.done() for p in pendings):
            return False
        before = learner.threads()
        switches = context_switches(learner)
        time.sleep(window)
        after = learner.threads()
        if any(p.done() for p in pendings):
            return False
        asleep_before = sum(1 for t in before if t.state in "SD")
        asleep_after = sum(1 for t in after if t.state in "SD")
        used = sum(t.cpu_ticks for t in after) - sum(t.cpu_ticks for t in before)
        switched = context_switches(learner) - switches
        if min(asleep_before, asleep_after) >= at_least and used <= max_ticks and switched <= len(after):
            return True
    return False


def wait_done(pendings, seconds: float) -> list[int]:
    """Judge side: wait up to `seconds` for every pending call; the indexes of those still running."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not all(p.done() for p in pendings):
        time.sleep(0.005)
    return [i for i, p in enumerate(pendings) if not p.done()]


def wait_count(pendings, count: int, seconds: float) -> int:
    """Judge side: wait up to `seconds` until at least `count` of the pending calls returned; how many did."""
    end = time.monotonic() + seconds
    while time.monotonic() < end and sum(p.done() for p in pendings) < count:
        time.sleep(0.005)
    return sum(p.done() for p in pendings)


def wait_threads(learner, predicate: Callable[[int], bool], seconds: float) -> int:
    """Judge side: until predicate(number of live learner threads) holds or `seconds` pass; that number."""
    end = time.monotonic() + seconds
    n = live_threads(learner)
    while not predicate(n) and time.monotonic() < end:
        time.sleep(0.01)
        n = live_threads(learner)
    return n


def cpu_seconds_over(learner, seconds: float) -> float:
    """Judge side: the CPU time (user + system, every thread) the learner process used in the next `seconds`."""
    tick = os.sysconf("SC_CLK_TCK")
    before = learner.cpu_ticks()
    time.sleep(seconds)
    return (learner.cpu_ticks() - before) / tick


def context_switches(learner) -> int:
    """Judge side: the context switches (voluntary and not) of every thread of the learner process so far.

    A thread asleep in a wait makes none; one that polls (sleeps a millisecond, looks, sleeps again) makes one
    per poll, even when it uses too little CPU to show in clock ticks."""
    pid = learner.pid
    total = 0
    try:
        tids = [t for t in os.listdir(f"/proc/{pid}/task") if t.isdigit()]
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status", encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total


def settle(learner, seconds: float = 2.0) -> int:
    """Judge side: wait (bounded) until the learner process is quiet; how many of its threads sleep then.

    Taken before a test starts calls in the background: the threads the harness itself keeps asleep."""
    wait_asleep(learner, (), 0, seconds)
    return sleeping(learner)
