"""Snowflake ids: 41 bits of milliseconds, 10 bits of worker id, 12 bits of sequence.

Reference solution.
"""

from __future__ import annotations

import threading
import time

DEFAULT_EPOCH_MS = 1288834974657  # Twitter's epoch: 2010-11-04 01:42:54.657 UTC
TIMESTAMP_BITS = 41
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER = (1 << WORKER_BITS) - 1  # 1023
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1  # 4095
MAX_BACKWARDS_MS = 5  # a clock at most this far behind is waited out; further behind raises


class ClockMovedBackwards(RuntimeError):
    """The clock reads more than MAX_BACKWARDS_MS before the last id's millisecond."""


class Generator:
    def __init__(self, worker_id: int, clock=time.time_ns, epoch_ms: int = DEFAULT_EPOCH_MS) -> None:
        if not isinstance(worker_id, int) or isinstance(worker_id, bool):
            raise TypeError(f"worker_id must be an int, got {type(worker_id).__name__}")
        if not 0 <= worker_id <= MAX_WORKER:
            raise ValueError(f"worker_id must be in 0..{MAX_WORKER}, got {worker_id}")
        self._worker = worker_id
        self._clock = clock
        self._epoch_ms = epoch_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._seq = 0

    def _now_ms(self) -> int:
        ms = self._clock() // 1_000_000 - self._epoch_ms
        if ms < 0:
            raise ValueError(f"the clock reads {-ms} ms before the epoch")
        if ms >= 1 << TIMESTAMP_BITS:
            raise OverflowError("the timestamp no longer fits in 41 bits")
        return ms

    def _check_backwards(self, now: int) -> None:
        if self._last_ms - now > MAX_BACKWARDS_MS:
            raise ClockMovedBackwards(
                f"clock moved backwards by {self._last_ms - now} ms; refusing to generate ids until it catches up"
            )

    def next_id(self) -> int:
        with self._lock:
            now = self._now_ms()
            self._check_backwards(now)
            while now < self._last_ms:  # a small step back (checked above): wait until the clock catches up
                now = self._now_ms()
            if now == self._last_ms:
                seq = (self._seq + 1) & MAX_SEQUENCE
                if seq == 0:  # 4096 ids in this millisecond: wait for the next one
                    while now <= self._last_ms:
                        now = self._now_ms()
            else:
                seq = 0
            self._last_ms = now
            self._seq = seq
            return (now << (WORKER_BITS + SEQUENCE_BITS)) | (self._worker << SEQUENCE_BITS) | seq


def parse(snowflake: int) -> tuple[int, int, int]:
    """(milliseconds since the generator's epoch, worker id, sequence)."""
    if not isinstance(snowflake, int) or isinstance(snowflake, bool) or not 0 <= snowflake < 1 << 63:
        raise ValueError(f"not a snowflake id: {snowflake!r}")
    return (
        snowflake >> (WORKER_BITS + SEQUENCE_BITS),
        (snowflake >> SEQUENCE_BITS) & MAX_WORKER,
        snowflake & MAX_SEQUENCE,
    )
