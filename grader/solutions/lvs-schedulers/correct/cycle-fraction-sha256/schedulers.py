"""LVS schedulers written with the standard library's building blocks:
itertools.cycle for rr, max() over (current, -position) for smooth wrr,
min() over exact Fractions for (w)lc, and a sorted list of (sha256 point,
node) tuples searched with bisect for the ring.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
from fractions import Fraction


def _is_weight(weight) -> int:
    if type(weight) is not int:
        raise TypeError(f"a weight must be an int, got {type(weight).__name__}")
    if weight < 0:
        raise ValueError(f"a weight must not be negative, got {weight}")
    return weight


class RoundRobin:
    def __init__(self, servers: list[str]) -> None:
        servers = list(servers)
        if not servers or len(set(servers)) < len(servers):
            raise ValueError("RoundRobin needs one or more distinct servers")
        self._turns = itertools.cycle(servers)

    def pick(self) -> str:
        return next(self._turns)


class SmoothWeightedRoundRobin:
    def __init__(self, weights: dict[str, int]) -> None:
        self._rows: list[list] = []  # [server, weight, current], in the dict's order
        for server, weight in weights.items():
            self._rows.append([server, _is_weight(weight), 0])

    def pick(self) -> str | None:
        live = [(i, row) for i, row in enumerate(self._rows) if row[1] > 0]
        if not live:
            return None
        for _, row in live:
            row[2] += row[1]
        # largest current; among equals the first in order (the largest -position)
        _, chosen = max(live, key=lambda item: (item[1][2], -item[0]))
        chosen[2] -= sum(row[1] for _, row in live)
        return chosen[0]

    def set_weight(self, server: str, weight: int) -> None:
        _is_weight(weight)
        for row in self._rows:
            if row[0] == server:
                row[1] = weight
                return
        self._rows.append([server, weight, 0])


def least_connections(servers: list[str], active: dict[str, int], weights: dict[str, int] | None = None) -> str | None:
    weights = weights or {}
    candidates = [s for s in servers if weights.get(s, 1) > 0]
    if not candidates:
        return None
    # Fractions compare exactly; min() returns the first of several equal ones
    return min(candidates, key=lambda s: Fraction(active.get(s, 0), weights.get(s, 1)))


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


class Ring:
    def __init__(self, nodes: list[str], vnodes: int = 100) -> None:
        if type(vnodes) is not int or vnodes < 1:
            raise ValueError(f"vnodes must be an int >= 1, got {vnodes!r}")
        self._vnodes = vnodes
        self._points: list[tuple[int, str]] = []  # sorted (hash, node): equal hashes go to the smaller name
        self._members: set[str] = set()
        for node in nodes:
            self.add(node)

    def add(self, node: str) -> None:
        if node in self._members:
            return
        self._members.add(node)
        self._points.extend((_hash64(f"{node}#{i}"), node) for i in range(self._vnodes))
        self._points.sort()

    def remove(self, node: str) -> None:
        self._members.remove(node)  # KeyError if it is not there
        self._points = [p for p in self._points if p[1] != node]

    def lookup(self, key: str) -> str:
        if not self._points:
            raise LookupError("lookup on an empty ring")
        i = bisect.bisect_left(self._points, (_hash64(key), ""))  # "" sorts before every name
        return self._points[i % len(self._points)][1]
