"""LVS schedulers with plain counters and dicts: rr counts picks, smooth wrr
keeps parallel lists, (w)lc cross-multiplies, and the ring maps each point to
its owner in a dict beside a sorted list of points (blake2b, 8-byte digests).
"""

from __future__ import annotations

import bisect
import hashlib


class RoundRobin:
    def __init__(self, servers: list[str]) -> None:
        self.servers = tuple(servers)
        if len(self.servers) == 0:
            raise ValueError("no servers")
        if len(frozenset(self.servers)) != len(self.servers):
            raise ValueError("a server is listed twice")
        self.picks = 0

    def pick(self) -> str:
        server = self.servers[self.picks % len(self.servers)]
        self.picks += 1
        return server


def _weight(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"weights are ints, not {type(value).__name__}")
    if value < 0:
        raise ValueError("weights are >= 0")
    return value


class SmoothWeightedRoundRobin:
    def __init__(self, weights: dict[str, int]) -> None:
        self.names: list[str] = []
        self.weights: list[int] = []
        self.current: list[int] = []
        for name, weight in weights.items():
            self.set_weight(name, weight)

    def set_weight(self, server: str, weight: int) -> None:
        weight = _weight(weight)
        try:
            self.weights[self.names.index(server)] = weight
        except ValueError:
            self.names.append(server)
            self.weights.append(weight)
            self.current.append(0)

    def pick(self) -> str | None:
        total, best = 0, -1
        for i, w in enumerate(self.weights):
            if w:
                self.current[i] += w
                total += w
                if best < 0 or self.current[i] > self.current[best]:
                    best = i
        if best < 0:
            return None
        self.current[best] -= total
        return self.names[best]


def least_connections(servers: list[str], active: dict[str, int], weights: dict[str, int] | None = None) -> str | None:
    chosen = None  # (server, connections, weight)
    for server in servers:
        w = 1 if weights is None or server not in weights else weights[server]
        if w == 0:
            continue
        a = active[server] if server in active else 0
        if chosen is None or a * chosen[2] < chosen[1] * w:
            chosen = (server, a, w)
    return None if chosen is None else chosen[0]


def _position(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "big")


class Ring:
    def __init__(self, nodes: list[str], vnodes: int = 100) -> None:
        if isinstance(vnodes, bool) or not isinstance(vnodes, int) or vnodes <= 0:
            raise ValueError("vnodes must be a positive int")
        self.vnodes = vnodes
        self.owner: dict[int, str] = {}  # point -> node
        self.sorted_points: list[int] = []
        self.members: dict[str, list[int]] = {}  # node -> its points
        for node in dict.fromkeys(nodes):
            self.add(node)

    def add(self, node: str) -> None:
        if node in self.members:
            return
        mine = []
        for i in range(self.vnodes):
            p = _position(f"{node}#{i}")
            holder = self.owner.get(p)
            if holder is None:
                bisect.insort(self.sorted_points, p)
                self.owner[p] = node
            elif node < holder:  # a shared point belongs to the smaller name
                self.owner[p] = node
            mine.append(p)
        self.members[node] = mine

    def remove(self, node: str) -> None:
        if node not in self.members:
            raise KeyError(node)
        del self.members[node]
        for p in set(self._points_of_removed(node)):
            others = [n for n, pts in self.members.items() if p in pts]
            if others:
                self.owner[p] = min(others)
            else:
                del self.owner[p]
                self.sorted_points.remove(p)

    def _points_of_removed(self, node: str):
        return [p for p, n in self.owner.items() if n == node]

    def lookup(self, key: str) -> str:
        if not self.sorted_points:
            raise LookupError("empty ring")
        i = bisect.bisect_left(self.sorted_points, _position(key))
        if i == len(self.sorted_points):
            i = 0
        return self.owner[self.sorted_points[i]]
