"""LVS (IPVS) scheduling algorithms: round robin, smooth weighted round robin,
(weighted) least connections, and consistent hashing with virtual nodes.

Reference solution.
"""

from __future__ import annotations

import bisect
import hashlib


def _check_name(name, what: str) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, got {type(name).__name__}")


def _check_weight(weight) -> None:
    if not isinstance(weight, int) or isinstance(weight, bool):
        raise TypeError(f"a weight must be an int, got {type(weight).__name__}")
    if weight < 0:
        raise ValueError(f"a weight must be >= 0, got {weight}")


class RoundRobin:
    """rr: each server in turn, in the order given."""

    def __init__(self, servers: list[str]) -> None:
        servers = list(servers)
        if not servers:
            raise ValueError("RoundRobin needs at least one server")
        for s in servers:
            _check_name(s, "a server")
        if len(set(servers)) != len(servers):
            raise ValueError("server names must be distinct")
        self._servers = servers
        self._next = 0

    def pick(self) -> str:
        server = self._servers[self._next]
        self._next = (self._next + 1) % len(self._servers)
        return server


class SmoothWeightedRoundRobin:
    """nginx's smooth weighted round robin."""

    def __init__(self, weights: dict[str, int]) -> None:
        self._order: list[str] = []
        self._weight: dict[str, int] = {}
        self._current: dict[str, int] = {}
        for server, weight in dict(weights).items():
            _check_name(server, "a server")
            _check_weight(weight)
            self._order.append(server)
            self._weight[server] = weight
            self._current[server] = 0

    def pick(self) -> str | None:
        total = 0
        best = None
        for server in self._order:
            weight = self._weight[server]
            if weight == 0:
                continue
            self._current[server] += weight
            total += weight
            if best is None or self._current[server] > self._current[best]:
                best = server
        if best is None:
            return None
        self._current[best] -= total
        return best

    def set_weight(self, server: str, weight: int) -> None:
        _check_name(server, "a server")
        _check_weight(weight)
        if server not in self._weight:
            self._order.append(server)
            self._current[server] = 0
        self._weight[server] = weight


def least_connections(servers: list[str], active: dict[str, int], weights: dict[str, int] | None = None) -> str | None:
    """The server with the fewest active connections per unit of weight."""
    if weights is None:
        weights = {}
    candidates = {s: n for s, n in active.items() if s in servers and weights.get(s, 1) > 0}
    if not candidates:
        return None
    return min(candidates, key=lambda s: candidates[s] / weights.get(s, 1))


def _point(data: str) -> int:
    return int.from_bytes(hashlib.md5(data.encode("utf-8")).digest()[:8], "big")


class Ring:
    """Consistent hashing: `vnodes` points per node on a 64-bit ring (md5), keys go clockwise."""

    def __init__(self, nodes: list[str], vnodes: int = 100) -> None:
        if not isinstance(vnodes, int) or isinstance(vnodes, bool) or vnodes < 1:
            raise ValueError(f"vnodes must be an int >= 1, got {vnodes!r}")
        self._vnodes = vnodes
        self._points: list[int] = []
        self._owners: list[str] = []
        self._nodes: set[str] = set()
        for node in nodes:
            self.add(node)

    def add(self, node: str) -> None:
        _check_name(node, "a node")
        if node in self._nodes:
            return
        self._nodes.add(node)
        for i in range(self._vnodes):
            point = _point(f"{node}#{i}")
            at = bisect.bisect_left(self._points, point)
            # equal points (practically never): the smaller node name owns it, whatever the order of adds
            while at < len(self._points) and self._points[at] == point and self._owners[at] < node:
                at += 1
            self._points.insert(at, point)
            self._owners.insert(at, node)

    def remove(self, node: str) -> None:
        if node not in self._nodes:
            raise KeyError(node)
        self._nodes.discard(node)
        keep = [(p, o) for p, o in zip(self._points, self._owners) if o != node]
        self._points = [p for p, _ in keep]
        self._owners = [o for _, o in keep]

    def lookup(self, key: str) -> str:
        if not self._points:
            raise LookupError("the ring has no nodes")
        _check_name(key, "a key")
        at = bisect.bisect_left(self._points, _point(key))
        if at == len(self._points):
            at = 0
        return self._owners[at]

    def nodes(self) -> list[str]:
        return sorted(self._nodes)
