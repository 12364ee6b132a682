"""Split a red envelope: one fen for everyone, the rest shared by random weights.

Everyone first gets the minimum of one fen. The F - n fen left are shared in
proportion to n random integer weights; the integer division leaves fewer than
n fen, which go one each to the largest remainders (a random tie order), so
the shares add up exactly. All positions are treated alike, so each expects
F / n.
"""

from __future__ import annotations

import random
import re
import sys

PATTERN = re.compile(r"\A(?P<yuan>[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?\Z")
WEIGHT = 1 << 20


def parse_fen(total) -> int:
    m = PATTERN.match(total) if isinstance(total, str) else None
    if m is None:
        raise ValueError(f"bad amount: {total!r}")
    cents = (m.group("cents") or "0").ljust(2, "0")
    fen = int(m.group("yuan")) * 100 + int(cents)
    if not fen:
        raise ValueError("the amount must be more than zero")
    return fen


def split(total: str, n: int, seed: int) -> list[str]:
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"bad number of shares: {n!r}")
    fen = parse_fen(total)
    spare = fen - n
    if spare < 0:
        raise ValueError(f"cannot give {n} people one fen each out of {fen} fen")
    rng = random.Random(seed)
    weights = [rng.randint(1, WEIGHT) for _ in range(n)]
    whole = sum(weights)
    shares, remainders = [], []
    for i, w in enumerate(weights):
        q, r = divmod(spare * w, whole)
        shares.append(1 + q)
        remainders.append((r, rng.random(), i))
    leftover = fen - sum(shares)  # 0 <= leftover < n
    for _, _, i in sorted(remainders, reverse=True)[:leftover]:
        shares[i] += 1
    assert sum(shares) == fen and min(shares) >= 1
    return ["%d.%02d" % divmod(s, 100) for s in shares]


if __name__ == "__main__":
    print(*split(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
