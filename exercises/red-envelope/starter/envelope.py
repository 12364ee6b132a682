"""Split a red envelope into n random shares of at least 0.01 that add up exactly."""

from __future__ import annotations

import random
import sys


def split(total: str, n: int, seed: int) -> list[str]:
    """Return n shares (strings with two decimals) of `total` yuan, in opening order."""
    raise NotImplementedError("not implemented: split(total, n, seed)")


if __name__ == "__main__":
    amount, people, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(" ".join(split(amount, people, seed)))
