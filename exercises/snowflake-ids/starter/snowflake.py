"""Snowflake ids: 41 bits of milliseconds, 10 bits of worker id, 12 bits of sequence.

Read README.md (`prep exercise show snowflake-ids`) for what each function must do.
Check your work with `prep test snowflake-ids .`, then `prep submit snowflake-ids .`.
"""

from __future__ import annotations

import threading  # noqa: F401 - one generator is shared by many threads
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
        """worker_id in 0..1023; clock() returns nanoseconds since the Unix epoch."""
        raise NotImplementedError("Generator: not implemented")

    def next_id(self) -> int:
        """ms << 22 | worker_id << 12 | sequence, strictly greater than the previous id."""
        raise NotImplementedError("Generator.next_id: not implemented")


def parse(snowflake: int) -> tuple[int, int, int]:
    """(milliseconds since the generator's epoch, worker id, sequence)."""
    raise NotImplementedError("parse: not implemented")
