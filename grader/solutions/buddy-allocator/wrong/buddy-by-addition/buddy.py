"""A binary buddy allocator over an arena of 2**k bytes, handing out offsets.

Reference solution of the buddy-allocator exercise.
"""

from __future__ import annotations


def _is_power_of_two(n: int) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n > 0 and n & (n - 1) == 0


class Buddy:
    """Free lists per block size; a block of size s starts at a multiple of s."""

    def __init__(self, size: int, min_block: int = 16) -> None:
        if not _is_power_of_two(size):
            raise ValueError(f"the arena size must be a power of two, got {size!r}")
        if not _is_power_of_two(min_block):
            raise ValueError(f"min_block must be a power of two, got {min_block!r}")
        if min_block > size:
            raise ValueError(f"min_block ({min_block}) is larger than the arena ({size})")
        self.size = size
        self.min_block = min_block
        # block size -> set of offsets of free blocks of that size
        self._free: dict[int, set[int]] = {}
        s = min_block
        while s <= size:
            self._free[s] = set()
            s *= 2
        self._free[size].add(0)
        self._allocated: dict[int, int] = {}  # offset -> block size

    def _round_up(self, n: int) -> int:
        """The block size a request of n bytes gets: the next power of two >= n, at least min_block."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"the size must be an int, got {type(n).__name__}")
        if n <= 0:
            raise ValueError(f"cannot allocate {n} bytes: the size must be at least 1")
        return max(self.min_block, 1 << (n - 1).bit_length())

    def alloc(self, n: int) -> int:
        want = self._round_up(n)
        if want > self.size:
            raise MemoryError(f"{n} bytes need a block of {want}, larger than the arena ({self.size})")
        s = want
        while s <= self.size and not self._free[s]:
            s *= 2
        if s > self.size:
            raise MemoryError(f"no free block of {want} bytes or more")
        offset = min(self._free[s])
        self._free[s].remove(offset)
        while s > want:  # split: keep the lower half, the upper half goes on the list below
            s //= 2
            self._free[s].add(offset + s)
        self._allocated[offset] = want
        return offset

    def free(self, offset: int) -> None:
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError(f"the offset must be an int, got {type(offset).__name__}")
        s = self._allocated.pop(offset, None)
        if s is None:
            raise ValueError(f"offset {offset} is not the start of an allocated block (double free, or never allocated)")
        while s < self.size:
            buddy = offset + s  # the block right after this one
            if buddy not in self._free[s]:
                break
            self._free[s].remove(buddy)
            offset = min(offset, buddy)
            s *= 2
        self._free[s].add(offset)

    def free_blocks(self) -> dict[int, list[int]]:
        return {s: sorted(offs) for s, offs in sorted(self._free.items()) if offs}
