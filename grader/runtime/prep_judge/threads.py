"""Probes for hidden tests of threaded code; they run inside the learner's process.

Hidden tests send helper code to the learner side (`learner.exec`); helpers that
start threads and need to know when one of them is asleep import these. They
read the interpreter's own state (frames, Condition waiters), so a submission
cannot fake them by what it prints. Every wait here is bounded.
"""

from __future__ import annotations

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
