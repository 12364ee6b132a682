"""LVS (IPVS) schedulers: round robin, smooth weighted round robin, least connections,
and consistent hashing with virtual nodes.

Read README.md (`prep exercise show lvs-schedulers`) for what each one must do.
Check your work with `prep test lvs-schedulers .`, then `prep submit lvs-schedulers .`.
"""

from __future__ import annotations

import bisect  # noqa: F401 - handy for the ring
import hashlib  # noqa: F401 - a stable hash; the built-in hash() of a str changes per process


class RoundRobin:
    """rr: each server in turn, in the order given."""

    def __init__(self, servers: list[str]) -> None:
        raise NotImplementedError("RoundRobin: not implemented")

    def pick(self) -> str:
        raise NotImplementedError("RoundRobin.pick: not implemented")


class SmoothWeightedRoundRobin:
    """nginx's smooth weighted round robin: current += weight, pick the largest, subtract the total."""

    def __init__(self, weights: dict[str, int]) -> None:
        raise NotImplementedError("SmoothWeightedRoundRobin: not implemented")

    def pick(self) -> str | None:
        raise NotImplementedError("SmoothWeightedRoundRobin.pick: not implemented")

    def set_weight(self, server: str, weight: int) -> None:
        raise NotImplementedError("SmoothWeightedRoundRobin.set_weight: not implemented")


def least_connections(servers: list[str], active: dict[str, int], weights: dict[str, int] | None = None) -> str | None:
    """lc (no weights) or wlc: the fewest active connections per unit of weight; ties to the first."""
    raise NotImplementedError("least_connections: not implemented")


class Ring:
    """Consistent hashing with `vnodes` virtual nodes per node, on a stable hash."""

    def __init__(self, nodes: list[str], vnodes: int = 100) -> None:
        raise NotImplementedError("Ring: not implemented")

    def lookup(self, key: str) -> str:
        raise NotImplementedError("Ring.lookup: not implemented")

    def add(self, node: str) -> None:
        raise NotImplementedError("Ring.add: not implemented")

    def remove(self, node: str) -> None:
        raise NotImplementedError("Ring.remove: not implemented")
