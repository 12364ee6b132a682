"""A buddy allocator as a binary tree of blocks: node 1 is the arena, node i has children 2i and 2i+1.

Each node that exists is FREE (a whole free block), USED (a block handed out) or SPLIT (its two halves are
nodes); nodes below a FREE or USED node do not exist. There are no free lists: they are read off the tree.
"""

FREE, USED, SPLIT = "free", "used", "split"


class Buddy:
    def __init__(self, size: int, min_block: int = 16) -> None:
        for name, value in (("size", size), ("min_block", min_block)):
            if type(value) is not int or value < 1 or value & (value - 1):
                raise ValueError(f"{name} must be a power of two, got {value!r}")
        if min_block > size:
            raise ValueError(f"min_block {min_block} is larger than the arena {size}")
        self.size = size
        self.min_block = min_block
        self.state = {1: FREE}

    def _walk(self, node=1, offset=0, size=None):
        """Every existing node as (node, offset, size, state), parents before children."""
        stack = [(node, offset, self.size if size is None else size)]
        while stack:
            node, offset, size = stack.pop()
            state = self.state[node]
            yield node, offset, size, state
            if state == SPLIT:
                half = size // 2
                stack.append((2 * node + 1, offset + half, half))
                stack.append((2 * node, offset, half))

    def alloc(self, n: int) -> int:
        if n < 1:
            raise ValueError(f"cannot allocate {n} bytes")
        want = self.min_block
        while want < n:
            want *= 2
        best = None
        for node, offset, size, state in self._walk():
            if state == FREE and size >= want and (best is None or (size, offset) < (best[2], best[1])):
                best = (node, offset, size)
        if best is None:
            raise MemoryError(f"no free block of {want} bytes or more")
        node, offset, size = best
        while size > want:  # split, keep the lower half
            self.state[node] = SPLIT
            self.state[2 * node + 1] = FREE
            node, size = 2 * node, size // 2
        self.state[node] = USED
        return offset

    def free(self, offset: int) -> None:
        if not 0 <= offset < self.size:
            raise ValueError(f"offset {offset} is outside the arena")
        node, start, size = 1, 0, self.size
        while self.state[node] == SPLIT:
            size //= 2
            if offset >= start + size:
                node, start = 2 * node + 1, start + size
            else:
                node = 2 * node
        if self.state[node] != USED or start != offset:
            raise ValueError(f"offset {offset} is not the start of an allocated block")
        self.state[node] = FREE
        while node > 1 and self.state.get(node ^ 1) == FREE:  # the sibling in the tree is the buddy
            del self.state[node], self.state[node ^ 1]
            node //= 2
            self.state[node] = FREE

    def free_blocks(self) -> dict[int, list[int]]:
        lists: dict[int, list[int]] = {}
        for _node, offset, size, state in self._walk():
            if state == FREE:
                lists.setdefault(size, []).append(offset)
        return {size: sorted(offsets) for size, offsets in lists.items()}
