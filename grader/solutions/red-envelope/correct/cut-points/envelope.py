"""Split a red envelope by cutting a line of fen at n - 1 random places.

Lay the amount out as a line of F fen and pick n - 1 distinct cut points among
the F - 1 gaps between neighbouring fen: the pieces between cuts are the
shares. Each piece holds at least one fen, the pieces tile the whole line, and
since every set of cuts is equally likely the n positions are exchangeable:
each one expects exactly F / n.
"""

from __future__ import annotations

import random
import re
import sys
from decimal import Decimal

_AMOUNT = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def _fen(total) -> int:
    if not isinstance(total, str) or _AMOUNT.fullmatch(total) is None:
        raise ValueError(f"{total!r} is not an amount such as 100, 100.5 or 0.03")
    fen = int(Decimal(total) * 100)
    if fen == 0:
        raise ValueError("an envelope of 0 has nothing to share")
    return fen


def split(total: str, n: int, seed: int) -> list[str]:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    fen = _fen(total)
    if fen < n:
        raise ValueError(f"{total} yuan is {fen} fen: not enough for {n} people to get 0.01 each")
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, fen), n - 1))
    edges = [0, *cuts, fen]
    pieces = [b - a for a, b in zip(edges, edges[1:])]
    return [str((Decimal(p) / 100).quantize(Decimal("0.01"))) for p in pieces]


if __name__ == "__main__":
    print(" ".join(split(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
