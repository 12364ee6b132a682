"""Page replacement: FIFO, LRU, OPT (Belady) and Clock over a reference string.

Reference solution of the page-replacement exercise.
"""

from __future__ import annotations

ALGORITHMS = ("fifo", "lru", "opt", "clock")


def _check(algorithm: str, refs: list[int], frames: int) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}: use one of {', '.join(ALGORITHMS)}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames must be an int >= 1, got {frames!r}")


def trace(algorithm: str, refs: list[int], frames: int) -> list[list[int | None]]:
    """The contents of the frames after each reference (None: an empty frame)."""
    _check(algorithm, refs, frames)
    refs = list(refs)
    slots: list[int | None] = [None] * frames
    where: dict[int, int] = {}  # page -> slot
    loaded: dict[int, int] = {}  # slot -> time its page was loaded (FIFO)
    used: dict[int, int] = {}  # slot -> time of its page's last reference (LRU)
    use_bit = [0] * frames  # Clock
    hand = 0
    out = []
    for t, page in enumerate(refs):
        if page in where:
            slot = where[page]
            used[slot] = t
            use_bit[slot] = 1
        else:
            if None in slots:
                slot = slots.index(None)
                if algorithm == "clock":
                    hand = (slot + 1) % frames
            elif algorithm == "fifo":
                slot = min(range(frames), key=loaded.__getitem__)
            elif algorithm == "lru":
                slot = min(range(frames), key=used.__getitem__)
            elif algorithm == "opt":
                slot = max(range(frames), key=lambda s: (_next_use(refs, t, slots[s]), -s))
            else:  # clock: give every page with its use bit set a second chance
                while use_bit[hand]:  # skip the pages that were used
                    hand = (hand + 1) % frames
                slot = hand
                hand = (hand + 1) % frames
            if slots[slot] is not None:
                del where[slots[slot]]
            slots[slot] = page
            where[page] = slot
            loaded[slot] = used[slot] = t
            use_bit[slot] = 1
        out.append(list(slots))
    return out


def _next_use(refs: list[int], now: int, page) -> float:
    for i in range(now + 1, len(refs)):
        if refs[i] == page:
            return i
    return float("inf")


def faults(algorithm: str, refs: list[int], frames: int) -> int:
    """How many references found their page not in a frame."""
    snapshots = trace(algorithm, refs, frames)
    count, before = 0, set()
    for page, after in zip(refs, snapshots):
        if page not in before:
            count += 1
        before = set(after)
    return count
