"""Snowflake ids whose only state is the last id issued.

The last id holds everything the next one depends on: its millisecond (the
high bits) and its sequence (the low 12 bits). Within the same millisecond the
next id is simply last + 1, unless the sequence is full; otherwise it is a
fresh millisecond's sequence 0.
"""

from __future__ import annotations

import threading
import time

DEFAULT_EPOCH_MS = 1288834974657  # Twitter's epoch: 2010-11-04 01:42:54.657 UTC
TIMESTAMP_BITS = 41
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER = (1 << WORKER_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_BACKWARDS_MS = 5

_TIME_SHIFT = WORKER_BITS + SEQUENCE_BITS


class ClockMovedBackwards(RuntimeError):
    """The clock reads more than MAX_BACKWARDS_MS before the last id's millisecond."""


class Generator:
    def __init__(self, worker_id: int, clock=time.time_ns, epoch_ms: int = DEFAULT_EPOCH_MS) -> None:
        if type(worker_id) is not int:
            raise TypeError(f"worker_id must be an int, not {type(worker_id).__name__}")
        if worker_id < 0 or worker_id > MAX_WORKER:
            raise ValueError(f"worker_id must be in 0..{MAX_WORKER}, got {worker_id}")
        self.worker_id = worker_id
        self.clock = clock
        self.epoch_ms = epoch_ms
        self._guard = threading.Lock()
        self._last: int | None = None  # the last id issued

    def _last_ms(self) -> int:
        return -1 if self._last is None else self._last >> _TIME_SHIFT

    def _read(self) -> int:
        """The clock's millisecond since the epoch, checked against the range and the last id."""
        ms = self.clock() // 1_000_000 - self.epoch_ms
        if ms < 0:
            raise ValueError("the clock reads before the epoch")
        if ms.bit_length() > TIMESTAMP_BITS:
            raise OverflowError("milliseconds since the epoch no longer fit in 41 bits")
        behind = self._last_ms() - ms
        if behind > MAX_BACKWARDS_MS:
            raise ClockMovedBackwards(f"Clock moved backwards by {behind} ms. Refusing to generate id")
        return ms

    def next_id(self) -> int:
        with self._guard:
            while True:
                ms = self._read()
                last_ms = self._last_ms()
                if ms > last_ms:
                    new = ms << _TIME_SHIFT | self.worker_id << SEQUENCE_BITS
                    break
                if ms == last_ms and self._last & MAX_SEQUENCE != MAX_SEQUENCE:
                    new = self._last + 1
                    break
                # behind (by at most MAX_BACKWARDS_MS) or the sequence is used up: read the clock again
            self._last = new
            return new


def parse(snowflake: int) -> tuple[int, int, int]:
    if type(snowflake) is not int or snowflake < 0 or snowflake.bit_length() > 63:
        raise ValueError(f"not a snowflake id: {snowflake!r}")
    return snowflake >> _TIME_SHIFT, snowflake >> SEQUENCE_BITS & MAX_WORKER, snowflake & MAX_SEQUENCE
