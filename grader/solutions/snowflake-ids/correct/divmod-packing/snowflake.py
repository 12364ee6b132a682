"""Snowflake ids packed with arithmetic instead of shifts.

An id is a number written in a mixed radix: (ms * 1024 + worker) * 4096 + sequence,
and parse() reads the digits back with divmod. The state is the last
millisecond and sequence, behind an explicitly acquired lock.
"""

from __future__ import annotations

import threading
import time

DEFAULT_EPOCH_MS = 1288834974657  # Twitter's epoch: 2010-11-04 01:42:54.657 UTC
TIMESTAMP_BITS = 41
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER = 2**WORKER_BITS - 1
MAX_SEQUENCE = 2**SEQUENCE_BITS - 1
MAX_BACKWARDS_MS = 5

WORKERS = MAX_WORKER + 1  # 1024
SEQUENCES = MAX_SEQUENCE + 1  # 4096
TIMES = 2**TIMESTAMP_BITS


class ClockMovedBackwards(RuntimeError):
    """The clock reads more than MAX_BACKWARDS_MS before the last id's millisecond."""


def _pack(ms: int, worker: int, seq: int) -> int:
    return (ms * WORKERS + worker) * SEQUENCES + seq


class Generator:
    def __init__(self, worker_id: int, clock=time.time_ns, epoch_ms: int = DEFAULT_EPOCH_MS) -> None:
        if isinstance(worker_id, bool) or not isinstance(worker_id, int):
            raise TypeError("worker_id must be an int (and not a bool)")
        if worker_id not in range(WORKERS):
            raise ValueError(f"worker_id must be in 0..{MAX_WORKER}, got {worker_id}")
        self._worker, self._clock, self._epoch = worker_id, clock, epoch_ms
        self._mutex = threading.Lock()
        self._ms: int | None = None
        self._seq = MAX_SEQUENCE

    def _tick(self) -> int:
        ns = self._clock()
        ms = ns // 1_000_000 - self._epoch
        if ms < 0:
            raise ValueError(f"the clock ({ns} ns) reads before the epoch")
        if ms >= TIMES:
            raise OverflowError("the time no longer fits in 41 bits")
        if self._ms is not None and ms < self._ms - MAX_BACKWARDS_MS:
            raise ClockMovedBackwards(f"Clock moved backwards by {self._ms - ms} ms. Refusing to generate id")
        return ms

    def _spin(self, done) -> int:
        ms = self._tick()
        while not done(ms):
            ms = self._tick()
        return ms

    def next_id(self) -> int:
        self._mutex.acquire()
        try:
            if self._ms is None:
                ms, seq = self._tick(), 0
            else:
                last = self._ms
                ms = self._spin(lambda m: m >= last)  # a clock a little behind is waited out
                if ms > last:
                    seq = 0
                elif self._seq < MAX_SEQUENCE:
                    seq = self._seq + 1
                else:  # 4096 ids in this millisecond already
                    ms, seq = self._spin(lambda m: m > last), 0
            self._ms, self._seq = ms, seq
            return _pack(ms, self._worker, seq)
        finally:
            self._mutex.release()


def parse(snowflake: int) -> tuple[int, int, int]:
    if isinstance(snowflake, bool) or not isinstance(snowflake, int) or not 0 <= snowflake < 2**63:
        raise ValueError(f"not a snowflake id: {snowflake!r}")
    rest, seq = divmod(snowflake, SEQUENCES)
    ms, worker = divmod(rest, WORKERS)
    return ms, worker, seq
