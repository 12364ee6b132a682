"""Page replacement with priority queues: every policy is "evict the frame
with the smallest key", kept in a heap with lazy deletion of stale entries.

FIFO's key is the load time, LRU's the time of last use, OPT's the negated
time of next use (then the frame number, for ties); Clock is simulated with
its hand.
"""

from __future__ import annotations

import heapq
import math

ALGORITHMS = ("fifo", "lru", "opt", "clock")


def _validate(algorithm, frames):
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if isinstance(frames, bool) or not isinstance(frames, int):
        raise ValueError(f"frames must be an int, got {type(frames).__name__}")
    if frames <= 0:
        raise ValueError(f"frames must be at least 1, got {frames}")


def _next_uses(refs):
    out, later = [math.inf] * len(refs), {}
    for i in reversed(range(len(refs))):
        out[i] = later.get(refs[i], math.inf)
        later[refs[i]] = i
    return out


def _heap_policy(algorithm, refs, frames):
    nxt = _next_uses(refs) if algorithm == "opt" else None
    content = [None] * frames
    key = [None] * frames  # the current key of each frame; heap entries with another key are stale
    heap = []
    empty = list(range(frames))  # already a heap: lowest empty frame first

    def set_key(slot, t, loading):
        if algorithm == "fifo" and not loading:
            return
        k = -nxt[t] if algorithm == "opt" else t
        key[slot] = k
        heapq.heappush(heap, (k, slot))

    where = {}
    for t, page in enumerate(refs):
        slot = where.get(page)
        if slot is not None:
            set_key(slot, t, loading=False)
        else:
            if empty:
                slot = heapq.heappop(empty)
            else:
                while True:
                    k, slot = heapq.heappop(heap)
                    if key[slot] == k:
                        break
                del where[content[slot]]
            content[slot] = page
            where[page] = slot
            set_key(slot, t, loading=True)
        yield list(content)


def _clock(refs, frames):
    content, bit, hand = [None] * frames, [0] * frames, 0
    for page in refs:
        if page in content:
            bit[content.index(page)] = 1
        else:
            if None in content:
                slot = content.index(None)
            else:
                while bit[hand] == 1:
                    bit[hand] = 0
                    hand = (hand + 1) % frames
                slot = hand
            content[slot], bit[slot] = page, 1
            hand = (slot + 1) % frames
        yield list(content)


def trace(algorithm: str, refs: list[int], frames: int) -> list[list[int | None]]:
    _validate(algorithm, frames)
    refs = list(refs)
    steps = _clock(refs, frames) if algorithm == "clock" else _heap_policy(algorithm, refs, frames)
    return list(steps)


def faults(algorithm: str, refs: list[int], frames: int) -> int:
    rows = trace(algorithm, refs, frames)
    previous = [None] * frames if frames else []
    n = 0
    for page, row in zip(refs, rows):
        n += page not in previous
        previous = row
    return n
