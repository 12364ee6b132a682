"""A buddy allocator with orders: order k is a block of min_block << k bytes; each order's free list is a
sorted Python list kept with bisect, so its lowest offset is its first item."""

from bisect import bisect_left, insort


def _log2_exact(value: int) -> int | None:
    """k when value == 2**k (an int, not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value & (value - 1):
        return None
    return value.bit_length() - 1


class Buddy:
    def __init__(self, size: int, min_block: int = 16) -> None:
        top, low = _log2_exact(size), _log2_exact(min_block)
        if top is None or low is None or low > top:
            raise ValueError(f"Buddy({size!r}, {min_block!r}): need powers of two with min_block <= size")
        self.size = size
        self.min_block = min_block
        self.max_order = top - low
        self.lists: list[list[int]] = [[] for _ in range(self.max_order + 1)]
        self.lists[self.max_order].append(0)
        self.order_of: dict[int, int] = {}  # offset of a live block -> its order

    def _bytes(self, order: int) -> int:
        return self.min_block << order

    def _has(self, order: int, offset: int) -> bool:
        lst = self.lists[order]
        i = bisect_left(lst, offset)
        return i < len(lst) and lst[i] == offset

    def alloc(self, n: int) -> int:
        if n <= 0:
            raise ValueError("alloc() needs at least 1 byte")
        order = max(0, (n - 1).bit_length() - (self.min_block.bit_length() - 1))
        if order > self.max_order:
            raise MemoryError(f"{n} bytes do not fit in the {self.size}-byte arena")
        k = next((k for k in range(order, self.max_order + 1) if self.lists[k]), None)
        if k is None:
            raise MemoryError(f"no free block of order {order} or above")
        offset = self.lists[k].pop(0)
        while k > order:
            k -= 1
            insort(self.lists[k], offset + self._bytes(k))
        self.order_of[offset] = order
        return offset

    def free(self, offset: int) -> None:
        if offset not in self.order_of:
            raise ValueError(f"{offset} is not the start of a block in use")
        order = self.order_of.pop(offset)
        while order < self.max_order:
            buddy = offset ^ self._bytes(order)
            if not self._has(order, buddy):
                break
            self.lists[order].pop(bisect_left(self.lists[order], buddy))
            offset &= ~self._bytes(order)
            order += 1
        insort(self.lists[order], offset)

    def free_blocks(self) -> dict[int, list[int]]:
        return {self._bytes(k): list(lst) for k, lst in enumerate(self.lists) if lst}
