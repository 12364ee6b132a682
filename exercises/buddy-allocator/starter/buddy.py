"""A binary buddy allocator over an arena of 2**k bytes (it hands out offsets, not memory).

Read README.md (`prep exercise show buddy-allocator`) for the exact behaviour.
Check your work with `prep test buddy-allocator .`, then `prep submit buddy-allocator .`.
"""

from __future__ import annotations


class Buddy:
    def __init__(self, size: int, min_block: int = 16) -> None:
        """An arena of `size` bytes (a power of two), blocks of at least `min_block` bytes (a power of two).

        ValueError if either is not a power of two, or min_block > size. Initially the whole arena is one free block at 0.
        """
        raise NotImplementedError("Buddy: not implemented (keep one free list per block size)")

    def alloc(self, n: int) -> int:
        """The offset of a block of max(min_block, next power of two >= n) bytes.

        ValueError if n < 1; MemoryError if no free block is large enough, even after splitting."""
        raise NotImplementedError("alloc: not implemented (take the smallest free block that fits, split it down)")

    def free(self, offset: int) -> None:
        """Free the block that alloc() returned at `offset`, merging it with its buddy (offset XOR size) while it is free.

        ValueError if offset is not the start of an allocated block (double free, never allocated, interior, out of range)."""
        raise NotImplementedError("free: not implemented (buddy = offset ^ size, repeat one size up)")

    def free_blocks(self) -> dict[int, list[int]]:
        """The free lists: {block size in bytes: sorted offsets of the free blocks of that size}, non-empty sizes only."""
        raise NotImplementedError("free_blocks: not implemented")
