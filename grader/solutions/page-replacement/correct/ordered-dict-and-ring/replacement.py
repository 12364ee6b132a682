"""Page replacement: FIFO, LRU, OPT and Clock, one small class per policy.

FIFO and LRU keep an OrderedDict of page -> frame (oldest first; LRU moves a
hit page to the end), OPT precomputes every reference's next use in one
backward pass, Clock is a ring of (page, bit) walked by a hand.
"""

from __future__ import annotations

from collections import OrderedDict

ALGORITHMS = ("fifo", "lru", "opt", "clock")
NEVER = 1 << 62


class _Policy:
    def __init__(self, refs: list[int]) -> None:
        self.refs = refs

    def hit(self, t: int, page: int, frame: int) -> None:
        pass

    def loaded(self, t: int, page: int, frame: int) -> None:
        pass

    def victim(self, t: int, frames: list) -> int:
        raise NotImplementedError


class _Fifo(_Policy):
    def __init__(self, refs):
        super().__init__(refs)
        self.order: OrderedDict[int, int] = OrderedDict()  # page -> frame, oldest first

    def loaded(self, t, page, frame):
        self.order[page] = frame

    def victim(self, t, frames):
        _, frame = self.order.popitem(last=False)
        return frame


class _Lru(_Fifo):
    def hit(self, t, page, frame):
        self.order.move_to_end(page)


class _Opt(_Policy):
    def __init__(self, refs):
        super().__init__(refs)
        self.next_use = [NEVER] * len(refs)
        seen: dict[int, int] = {}
        for i in range(len(refs) - 1, -1, -1):
            self.next_use[i] = seen.get(refs[i], NEVER)
            seen[refs[i]] = i
        self.upcoming: dict[int, int] = {}  # page in a frame -> index of its next use

    def hit(self, t, page, frame):
        self.upcoming[page] = self.next_use[t]

    loaded = hit

    def victim(self, t, frames):
        best = 0
        for f in range(1, len(frames)):
            if self.upcoming[frames[f]] > self.upcoming[frames[best]]:  # strict: ties stay with the lower frame
                best = f
        del self.upcoming[frames[best]]
        return best


class _Clock(_Policy):
    def __init__(self, refs, size):
        super().__init__(refs)
        self.bits = [False] * size
        self.hand = 0

    def hit(self, t, page, frame):
        self.bits[frame] = True

    def loaded(self, t, page, frame):
        self.bits[frame] = True
        self.hand = (frame + 1) % len(self.bits)

    def victim(self, t, frames):
        while self.bits[self.hand]:
            self.bits[self.hand] = False
            self.hand = (self.hand + 1) % len(self.bits)
        return self.hand


def _simulate(algorithm, refs, frames):
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    if type(frames) is not int or frames < 1:
        raise ValueError(f"frames must be an int >= 1, got {frames!r}")
    refs = list(refs)
    policy = {"fifo": _Fifo, "lru": _Lru, "opt": _Opt}.get(algorithm)
    policy = policy(refs) if policy else _Clock(refs, frames)
    memory: list[int | None] = [None] * frames
    snapshots, count = [], 0
    for t, page in enumerate(refs):
        if page in memory:
            policy.hit(t, page, memory.index(page))
        else:
            count += 1
            frame = memory.index(None) if None in memory else policy.victim(t, memory)
            memory[frame] = page
            policy.loaded(t, page, frame)
        snapshots.append(memory.copy())
    return snapshots, count


def trace(algorithm: str, refs: list[int], frames: int) -> list[list[int | None]]:
    return _simulate(algorithm, refs, frames)[0]


def faults(algorithm: str, refs: list[int], frames: int) -> int:
    return _simulate(algorithm, refs, frames)[1]
