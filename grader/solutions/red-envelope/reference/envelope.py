"""Split a red envelope into n random shares of at least 0.01 that add up exactly."""

from __future__ import annotations

import random
import re
import sys

AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def to_fen(total: str) -> int:
    match = AMOUNT.match(total.strip()) if isinstance(total, str) else None
    if not match:
        raise ValueError(f"not an amount with at most two decimals: {total!r}")
    yuan, decimals = match.group(1), (match.group(2) or "").ljust(2, "0")
    fen = int(yuan) * 100 + int(decimals)
    if fen <= 0:
        raise ValueError(f"the amount must be positive: {total!r}")
    return fen


def split(total: str, n: int, seed: int) -> list[str]:
    """Return n shares (strings with two decimals) of `total` yuan, in opening order."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"need at least one share, got n={n!r}")
    remaining = to_fen(total)
    if remaining < n:
        raise ValueError(f"{total} cannot give {n} people 0.01 each")
    rng = random.Random(seed)
    shares = []
    for left in range(n, 1, -1):
        # double average: uniform in [1, 2r/k], never taking a later person's fen
        high = min(2 * remaining // left, remaining - (left - 1))
        share = rng.randint(1, max(1, high))
        shares.append(share)
        remaining -= share
    shares.append(remaining)
    return [f"{fen // 100}.{fen % 100:02d}" for fen in shares]


if __name__ == "__main__":
    amount, people, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(" ".join(split(amount, people, seed)))
