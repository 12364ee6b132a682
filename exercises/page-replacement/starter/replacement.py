"""Page replacement: FIFO, LRU, OPT (Belady's optimal) and Clock over a reference string.

Read README.md (`prep exercise show page-replacement`) for the exact rules, the
shape of trace() and the tie-breaking. Check your work with
`prep test page-replacement .`, then `prep submit page-replacement .`.
"""

from __future__ import annotations

ALGORITHMS = ("fifo", "lru", "opt", "clock")


def trace(algorithm: str, refs: list[int], frames: int) -> list[list[int | None]]:
    """The contents of the frames after each reference: one list of `frames` entries per reference, None for an empty frame.

    ValueError for an unknown algorithm, or for frames that is not an int >= 1 (0, -1, 2.0 and True all raise)."""
    raise NotImplementedError("trace: not implemented (simulate the frames, one snapshot per reference)")


def faults(algorithm: str, refs: list[int], frames: int) -> int:
    """How many references found their page not in a frame (page faults). Same errors as trace()."""
    raise NotImplementedError("faults: not implemented")
