"""Split a red envelope: each opener cuts a uniform share of what remains (unfair)."""

from __future__ import annotations

import random
import re

AMOUNT = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def split(total: str, n: int, seed: int) -> list[str]:
    match = AMOUNT.match(total)
    if not match or n < 1:
        raise ValueError("bad envelope")
    remaining = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if remaining < n or remaining <= 0:
        raise ValueError("too little money")
    rng = random.Random(seed)
    shares = []
    for left in range(n, 1, -1):
        share = rng.randint(1, remaining - (left - 1))
        shares.append(share)
        remaining -= share
    shares.append(remaining)
    return [f"{f // 100}.{f % 100:02d}" for f in shares]
