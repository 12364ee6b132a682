"""Split a red envelope: with float yuan, formatted at the end (a classic mistake)."""

from __future__ import annotations

import random
import re

AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def split(total: str, n: int, seed: int) -> list[str]:
    if not isinstance(total, str) or not AMOUNT.match(total) or n < 1:
        raise ValueError("bad envelope")
    money = float(total)
    if money <= 0 or money < 0.01 * n:
        raise ValueError("too little money")
    rng = random.Random(seed)
    shares = []
    remaining = money
    for left in range(n, 1, -1):
        high = min(2 * remaining / left, remaining - 0.01 * (left - 1))
        share = rng.uniform(0.01, high)
        shares.append(share)
        remaining -= share
    shares.append(remaining)
    return [f"{s:.2f}" for s in shares]
