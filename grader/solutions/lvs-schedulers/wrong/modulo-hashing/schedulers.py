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
    """lc (weights None) or wlc: the server with the fewest active connections per unit of weight."""
    best = None
    best_conns = best_weight = 0
    for server in servers:
        weight = 1 if weights is None else weights.get(server, 1)
        if weight <= 0:
            continue
        conns = active.get(server, 0)
        # conns / weight < best_conns / best_weight, without division
        if best is None or conns * best_weight < best_conns * weight:
            best, best_conns, best_weight = server, conns, weight
    return best


def _point(data: str) -> int:
    return int.from_bytes(hashlib.md5(data.encode("utf-8")).digest()[:8], "big")


class Ring:
    """hash(key) % N over the nodes: simple and even."""

    def __init__(self, nodes: list[str], vnodes: int = 100) -> None:
        if not isinstance(vnodes, int) or isinstance(vnodes, bool) or vnodes < 1:
            raise ValueError(f"vnodes must be an int >= 1, got {vnodes!r}")
        self._nodes: list[str] = []
        for node in nodes:
            self.add(node)

    def add(self, node: str) -> None:
        _check_name(node, "a node")
        if node not in self._nodes:
            self._nodes.append(node)

    def remove(self, node: str) -> None:
        if node not in self._nodes:
            raise KeyError(node)
        self._nodes.remove(node)

    def lookup(self, key: str) -> str:
        if not self._nodes:
            raise LookupError("the ring has no nodes")
        return self._nodes[_point(key) % len(self._nodes)]
