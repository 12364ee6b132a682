"""Hidden tests of buddy-allocator: Buddy(size, min_block) with alloc, free and free_blocks.

The judge keeps its own model: given the set of allocated blocks, the free lists
of a buddy allocator that coalesces fully are unique (every free block is as
large as it can be), so after every operation the learner's free_blocks() must
equal that canonical decomposition. Offsets are checked for alignment, bounds
and overlap; MemoryError is accepted only when the model has no block that fits.
"""
# canary: hidden-test-buddy-allocator

import random
import time

import pytest

from prep_judge import LearnerError, report_performance

ENTRY_MODULE = "buddy"

# the exercise's cards, for @pytest.mark.cards: which mechanism a test checks
CARD_SPLIT = "buddy-split-order3-for-one-page"
CARD_XOR = "buddy-address-by-xor"
CARD_ADJACENT = "buddy-adjacent-blocks-not-buddies"
CARD_ORDERS = "buddy-allocator-orders-linux"

# Helper code run inside the learner's process: it replays a trace quickly (one
# round trip instead of one per operation). It holds no expected value; the judge
# checks every offset it returns against its own model.
TRACE_RUNNER = """
import sys

def run_trace(size, min_block, ops, snapshots):
    module = sys.modules["%s"]
    allocator = module.Buddy(size, min_block)
    got = {}
    out = []
    for i, (kind, arg) in enumerate(ops):
        if kind == "a":
            try:
                off = allocator.alloc(arg)
                got[i] = off
                row = ["ok", off]
            except MemoryError as exc:
                row = ["MemoryError", str(exc)[:200]]
            except Exception as exc:
                row = [type(exc).__name__, str(exc)[:200]]
        else:
            if arg not in got:
                row = ["skip", None]
            else:
                try:
                    allocator.free(got.pop(arg))
                    row = ["ok", None]
                except Exception as exc:
                    row = [type(exc).__name__, str(exc)[:200]]
        if snapshots:
            row.append(allocator.free_blocks())
        out.append(row)
    return out
""" % ENTRY_MODULE


# ---------------------------------------------------------------- the model


def block_for(n, min_block):
    """The block size the statement requires for a request of n bytes."""
    size = 1
    while size < n:
        size *= 2
    return max(size, min_block)


def canonical_free(size, min_block, allocated):
    """The free lists of a fully coalesced buddy allocator holding exactly `allocated` {offset: block size}."""
    starts = sorted(allocated)
    free = {}

    def any_allocated_in(lo, hi):
        import bisect

        i = bisect.bisect_left(starts, lo)
        return i < len(starts) and starts[i] < hi

    def walk(off, s):
        if allocated.get(off) == s:
            return
        # an allocated block containing (off, s) is impossible here: walk only descends into
        # blocks that are not allocated themselves and not inside an allocated one
        if not any_allocated_in(off, off + s):
            free.setdefault(s, []).append(off)
            return
        if s <= min_block:  # an allocated block starts inside a min block: impossible for valid offsets
            return
        walk(off, s // 2)
        walk(off + s // 2, s // 2)

    walk(0, size)
    return {s: sorted(v) for s, v in sorted(free.items())}


def normalise(blocks):
    """free_blocks() as {size: sorted offsets}, without empty lists; anything malformed is said so."""
    assert isinstance(blocks, dict), f"free_blocks() must return a dict of block size -> list of offsets, got a {type(blocks).__name__}"
    out = {}
    for s, offs in blocks.items():
        assert isinstance(s, int) and not isinstance(s, bool), f"free_blocks() keys must be block sizes in bytes (int), got {s!r}"
        assert isinstance(offs, (list, tuple, set, frozenset)), (
            f"free_blocks()[{s}] must be a list of offsets, got a {type(offs).__name__}"
        )
        if offs:
            out[s] = sorted(offs)
    return out


def describe(blocks, limit=12):
    parts = []
    for s, offs in sorted(blocks.items()):
        shown = ", ".join(str(o) for o in offs[:limit]) + (", ..." if len(offs) > limit else "")
        parts.append(f"{s}: [{shown}]")
    return "{" + "; ".join(parts) + "}"


class Model:
    """What the judge knows: the live blocks (offset -> (block size, payload))."""

    def __init__(self, size, min_block):
        self.size = size
        self.min_block = min_block
        self.live = {}

    def allocated(self):
        return {off: s for off, (s, _) in self.live.items()}

    def fits(self, n):
        want = block_for(n, self.min_block)
        return any(s >= want for s in canonical_free(self.size, self.min_block, self.allocated()))

    def check_alloc(self, n, off, where):
        want = block_for(n, self.min_block)
        assert isinstance(off, int) and not isinstance(off, bool), f"{where}: alloc({n}) must return an int offset, got {off!r}"
        assert 0 <= off and off + want <= self.size, (
            f"{where}: alloc({n}) returned {off}, but its {want}-byte block does not fit in the {self.size}-byte arena"
        )
        assert off % want == 0, f"{where}: alloc({n}) returned {off}, which is not aligned to its block size {want}"
        for other, (s, _) in self.live.items():
            assert off + want <= other or other + s <= off, (
                f"{where}: alloc({n}) returned {off} (a {want}-byte block), which overlaps the live {s}-byte block at {other}"
            )
        self.live[off] = (want, n)

    def check_state(self, blocks, where):
        got = normalise(blocks)
        expected = canonical_free(self.size, self.min_block, self.allocated())
        if got != expected:
            hint = ""
            for s, offs in got.items():
                for off in offs:
                    if s < self.size and off ^ s in offs:
                        hint = (f" The free blocks {off} and {off ^ s} of size {s} are buddies and both free: "
                                "they should have been merged.")
                        break
                    if off % s:
                        hint = f" The free block at {off} of size {s} is not aligned to its size."
                        break
                if hint:
                    break
            got_bytes = sum(s * len(offs) for s, offs in got.items())
            want_bytes = sum(s * len(offs) for s, offs in expected.items())
            if not hint and got_bytes != want_bytes:
                hint = (f" Your free lists hold {got_bytes} bytes, but {want_bytes} bytes are not in allocated blocks: "
                        "a block is larger than its request needs, lost, or listed twice.")
            raise AssertionError(
                f"{where}: free_blocks() is {describe(got)}, but with the blocks allocated at that point a buddy "
                f"allocator that merges every free pair has {describe(expected)}.{hint}"
            )


# ---------------------------------------------------------------- helpers


def new_buddy(learner, size, min_block):
    try:
        return learner.call("Buddy", size, min_block)
    except LearnerError as exc:
        raise AssertionError(f"Buddy({size}, {min_block}) raised {exc.type}: {exc.message}") from None


def alloc(b, n, where=""):
    try:
        return b.call("alloc", n)
    except LearnerError as exc:
        raise AssertionError(f"{where}alloc({n}) raised {exc.type}: {exc.message}") from None


def free(b, off, where=""):
    try:
        b.call("free", off)
    except LearnerError as exc:
        raise AssertionError(f"{where}free({off}) raised {exc.type} for a block that is allocated: {exc.message}") from None


def blocks(b):
    try:
        return normalise(b.call("free_blocks"))
    except LearnerError as exc:
        raise AssertionError(f"free_blocks() raised {exc.type}: {exc.message}") from None


def replay(learner, size, min_block, ops, snapshots):
    """Run a trace in the learner's process; one row per operation."""
    ns = learner.exec(TRACE_RUNNER)
    try:
        rows = ns.call("run_trace", size, min_block, ops, snapshots)
    except LearnerError as exc:
        raise AssertionError(f"replaying a trace on Buddy({size}, {min_block}) raised {exc.type}: {exc.message}") from None
    assert isinstance(rows, list) and len(rows) == len(ops), "the trace did not run to the end"
    return rows


def expect_raise(b, method, arg, exc_name, why):
    try:
        value = b.call(method, arg)
    except LearnerError as exc:
        assert exc.is_a(exc_name), f"{method}({arg}) must raise {exc_name} ({why}), it raised {exc.type}: {exc.message}"
        return
    raise AssertionError(f"{method}({arg}) must raise {exc_name} ({why}), but it returned {value!r}")


# ---------------------------------------------------------------- the tests


@pytest.mark.cards(CARD_ORDERS)
def test_constructor_rejects_bad_sizes(learner):
    for size, min_block, why in [
        (0, 16, "an arena of size 0"),
        (1000, 8, "an arena size that is not a power of two"),
        (1024, 24, "a min_block that is not a power of two"),
        (1024, 0, "a min_block of 0"),
        (16, 32, "a min_block larger than the arena"),
    ]:
        try:
            learner.call("Buddy", size, min_block)
        except LearnerError as exc:
            assert exc.is_a("ValueError"), f"Buddy({size}, {min_block}) must raise ValueError ({why}), it raised {exc.type}"
        else:
            raise AssertionError(f"Buddy({size}, {min_block}) must raise ValueError ({why}), but it was accepted")
    b = new_buddy(learner, 16, 16)
    assert alloc(b, 16) == 0, "Buddy(16, 16) is one block of 16 bytes: alloc(16) must return 0"
    assert blocks(b) == {}, f"after the only block is allocated free_blocks() must be empty, got {describe(blocks(b))}"


@pytest.mark.cards(CARD_ORDERS, CARD_SPLIT)
@pytest.mark.parametrize(
    "n, block",
    [(1, 16), (15, 16), (16, 16), (17, 32), (31, 32), (32, 32), (33, 64), (64, 64), (65, 128), (100, 128),
     (256, 256), (257, 512), (511, 512), (512, 512), (513, 1024), (1024, 1024)],
)
def test_request_rounds_up_to_a_power_of_two(learner, n, block):
    b = new_buddy(learner, 1024, 16)
    off = alloc(b, n)
    got = blocks(b)
    used = 1024 - sum(s * len(offs) for s, offs in got.items())
    assert used == block, (
        f"in Buddy(1024, 16), alloc({n}) must take a block of {block} bytes (the next power of two >= {n}, "
        f"at least min_block), but {used} bytes are no longer free (free_blocks() is {describe(got)})"
    )
    assert off == 0, f"the first allocation in an empty arena takes the lowest half at every split: expected offset 0, got {off}"
    model = Model(1024, 16)
    model.check_alloc(n, off, f"alloc({n})")
    model.check_state(got, f"after alloc({n})")


@pytest.mark.cards(CARD_ORDERS)
def test_alloc_of_zero_or_negative_raises_valueerror(learner):
    b = new_buddy(learner, 1024, 16)
    expect_raise(b, "alloc", 0, "ValueError", "a request of 0 bytes is not valid")
    expect_raise(b, "alloc", -16, "ValueError", "a negative size is not valid")
    assert blocks(b) == {1024: [0]}, f"a rejected request must not change the free lists: got {describe(blocks(b))}, expected {{1024: [0]}}"


@pytest.mark.cards(CARD_SPLIT)
def test_split_keeps_the_lower_half_and_frees_one_block_per_order(learner):
    b = new_buddy(learner, 128, 16)
    first = alloc(b, 16)
    assert first == 0, f"alloc(16) in an empty 128-byte arena must return 0 (split 128 -> 64 -> 32 -> 16, keep the lower half), got {first}"
    got = blocks(b)
    assert got == {16: [16], 32: [32], 64: [64]}, (
        f"after alloc(16) in Buddy(128, 16) the free lists must hold one block of each smaller order, "
        f"{{16: [16]; 32: [32]; 64: [64]}}, got {describe(got)}"
    )
    assert alloc(b, 16) == 16, "the next alloc(16) must take the free 16-byte block at 16 (smallest order that fits first)"
    assert alloc(b, 32) == 32, "alloc(32) must take the free 32-byte block at 32"
    assert alloc(b, 64) == 64, "alloc(64) must take the free 64-byte block at 64"
    assert blocks(b) == {}, f"with the whole arena allocated free_blocks() must be empty, got {describe(blocks(b))}"
    expect_raise(b, "alloc", 1, "MemoryError", "the arena is full")


@pytest.mark.cards(CARD_SPLIT)
def test_whole_arena_then_nothing_else_fits(learner):
    b = new_buddy(learner, 4096, 32)
    expect_raise(b, "alloc", 4097, "MemoryError", "no block is larger than the 4096-byte arena")
    off = alloc(b, 4096)
    assert off == 0, f"alloc(4096) on a 4096-byte arena must return the whole arena at offset 0, got {off}"
    assert blocks(b) == {}, f"after allocating the whole arena free_blocks() must be empty, got {describe(blocks(b))}"
    expect_raise(b, "alloc", 1, "MemoryError", "the whole arena is allocated")
    free(b, 0)
    assert blocks(b) == {4096: [0]}, f"after freeing the whole arena free_blocks() must be {{4096: [0]}}, got {describe(blocks(b))}"
    assert alloc(b, 4000) == 0, "after freeing it, the whole arena can be allocated again at 0"


@pytest.mark.cards(CARD_XOR)
def test_double_free_raises_valueerror_and_corrupts_nothing(learner):
    b = new_buddy(learner, 256, 16)
    a = alloc(b, 16)
    c = alloc(b, 16)
    free(b, a)
    expect_raise(b, "free", a, "ValueError", "the block at that offset was already freed")
    model = Model(256, 16)
    model.check_alloc(16, c, "second alloc(16)")
    model.check_state(blocks(b), "after a double free was refused")
    x = alloc(b, 16)
    y = alloc(b, 16)
    assert x != y and c not in (x, y), (
        f"after a refused double free, two new alloc(16) calls returned {x} and {y} while {c} is still allocated: "
        "the same block must never be handed out twice"
    )
    free(b, c)
    free(b, x)
    free(b, y)
    expect_raise(b, "free", c, "ValueError", "that block was already freed and has since been merged")
    assert blocks(b) == {256: [0]}, f"after freeing everything free_blocks() must be {{256: [0]}}, got {describe(blocks(b))}"


@pytest.mark.cards(CARD_XOR)
def test_free_of_an_offset_never_allocated_raises_valueerror(learner):
    b = new_buddy(learner, 1024, 16)
    a = alloc(b, 64)
    assert a == 0, f"alloc(64) in an empty arena must return 0, got {a}"
    for off, why in [
        (16, "16 is inside the 64-byte block at 0, not its start"),
        (32, "32 is inside the 64-byte block at 0, not its start"),
        (64, "64 is the start of a free block, never allocated"),
        (512, "512 is the start of a free block, never allocated"),
        (1024, "1024 is outside the 1024-byte arena"),
        (-64, "a negative offset is outside the arena"),
    ]:
        expect_raise(b, "free", off, "ValueError", why)
    got = blocks(b)
    assert got == {64: [64], 128: [128], 256: [256], 512: [512]}, (
        f"refused frees must not change the free lists: expected {{64: [64]; 128: [128]; 256: [256]; 512: [512]}}, got {describe(got)}"
    )
    free(b, a)
    assert blocks(b) == {1024: [0]}, f"freeing the real block must still work and coalesce to {{1024: [0]}}, got {describe(blocks(b))}"


@pytest.mark.cards(CARD_ADJACENT, CARD_XOR)
def test_adjacent_blocks_that_are_not_buddies_stay_apart(learner):
    b = new_buddy(learner, 64, 16)
    offs = [alloc(b, 16) for _ in range(4)]
    assert offs == [0, 16, 32, 48], f"four alloc(16) in Buddy(64, 16) must return 0, 16, 32, 48 in that order, got {offs}"
    free(b, 32)
    free(b, 16)
    got = blocks(b)
    assert got == {16: [16, 32]}, (
        f"the free 16-byte blocks at 16 and 32 are neighbours but not buddies (the buddy of 16 is 16 XOR 16 = 0, "
        f"the buddy of 32 is 32 XOR 16 = 48): they must stay apart, free_blocks() should be {{16: [16, 32]}}, got {describe(got)}"
    )
    free(b, 0)
    got = blocks(b)
    assert got == {16: [32], 32: [0]}, (
        f"freeing 0 merges it with its buddy 16 into the 32-byte block at 0, whose buddy 32..63 is not wholly free: "
        f"expected {{16: [32]; 32: [0]}}, got {describe(got)}"
    )
    free(b, 48)
    got = blocks(b)
    assert got == {64: [0]}, f"freeing 48 merges with 32, then with 0: expected {{64: [0]}}, got {describe(got)}"


@pytest.mark.cards(CARD_XOR)
def test_freeing_everything_coalesces_into_one_block(learner):
    rng = random.Random(6)
    b = new_buddy(learner, 4096, 16)
    model = Model(4096, 16)
    sizes = [16] * 64 + [32] * 24 + [64] * 12 + [128] * 8 + [256] * 2
    rng.shuffle(sizes)
    for n in sizes:
        model.check_alloc(n, alloc(b, n), f"filling the arena with alloc({n})")
    model.check_state(blocks(b), "with the arena full")
    order = list(model.live)
    rng.shuffle(order)
    for i, off in enumerate(order, 1):
        free(b, off, f"freeing block {i} of {len(order)}: ")
        del model.live[off]
        if i % 8 == 0 or i == len(order):
            model.check_state(blocks(b), f"after freeing {i} of the {len(order)} blocks in random order")
    got = blocks(b)
    assert got == {4096: [0]}, f"after freeing every block the free lists must hold the one whole-arena block {{4096: [0]}}, got {describe(got)}"


@pytest.mark.cards(CARD_ADJACENT)
def test_external_fragmentation_and_the_merge_that_ends_it(learner):
    b = new_buddy(learner, 1024, 16)
    offs = [alloc(b, 16) for _ in range(64)]
    assert sorted(offs) == list(range(0, 1024, 16)), "64 alloc(16) must fill the 1024-byte arena with distinct 16-byte blocks"
    for off in range(0, 1024, 32):
        free(b, off)
    got = blocks(b)
    expected = {16: list(range(0, 1024, 32))}
    assert got == expected, (
        f"with every other 16-byte block freed, half the arena is free but no two free blocks are buddies: "
        f"free_blocks() should hold 32 blocks of 16 and nothing else, got {describe(got)}"
    )
    expect_raise(b, "alloc", 32, "MemoryError", "512 bytes are free but no 32-byte block is (external fragmentation)")
    assert blocks(b) == expected, "a failed alloc must not change the free lists"
    free(b, 16)
    got = blocks(b)
    assert got.get(32) == [0] and 0 not in got.get(16, []) and 16 not in got.get(16, []), (
        f"freeing 16 must merge it with its free buddy 0 into a 32-byte block at 0; free_blocks() is {describe(got)}"
    )
    assert alloc(b, 32) == 0, "alloc(32) must now get the merged block at 0"


@pytest.mark.cards(CARD_SPLIT, CARD_XOR)
@pytest.mark.parametrize("seed", [11, 22, 33])
def test_randomized_trace_against_the_model(learner, seed):
    rng = random.Random(seed)
    size, min_block = 1 << 13, 16
    ops, live = [], []
    for i in range(400):
        if live and (rng.random() < 0.45 or len(live) > 40):
            ops.append(("f", live.pop(rng.randrange(len(live)))))
        else:
            n = rng.choice([rng.randint(1, 48), rng.randint(1, 300), rng.randint(200, 2100), 16, 64, 1 << rng.randint(4, 10)])
            ops.append(("a", n))
            live.append(i)
    rows = replay(learner, size, min_block, ops, True)
    model = Model(size, min_block)
    handed = {}
    memory_errors = 0
    for i, ((kind, arg), row) in enumerate(zip(ops, rows)):
        status, value, state = row
        where = f"seed {seed}, operation {i + 1}"
        if kind == "a":
            if status == "MemoryError":
                assert not model.fits(arg), (
                    f"{where}: alloc({arg}) raised MemoryError, but a free block of {block_for(arg, min_block)} bytes "
                    "or more exists once free buddies are merged"
                )
                memory_errors += 1
            else:
                assert status == "ok", f"{where}: alloc({arg}) raised {status}: {value}"
                model.check_alloc(arg, value, where)
                handed[i] = value
        elif arg in handed:
            assert status == "ok", f"{where}: free({handed[arg]}) of a live block raised {status}: {value}"
            del model.live[handed.pop(arg)]
        model.check_state(state, f"{where} ({'alloc' if kind == 'a' else 'free'})")


def make_utilisation_trace(seed):
    """A malloc-lab-like trace: phases of small and medium requests with frees; returns ops."""
    rng = random.Random(seed)
    ops, live = [], []
    for i in range(3000):
        phase = (i // 500) % 3
        if live and rng.random() < (0.35 if phase == 0 else 0.55):
            ops.append(("f", live.pop(rng.randrange(len(live)))))
            continue
        if phase == 0:
            n = rng.randint(8, 120)
        elif phase == 1:
            n = rng.choice([rng.randint(100, 600), rng.randint(8, 40)])
        else:
            n = rng.randint(500, 3000)
        ops.append(("a", n))
        live.append(len(ops) - 1)
    return ops


@pytest.mark.cards(CARD_SPLIT, CARD_XOR)
def test_utilisation_against_a_bump_allocator(learner):
    size, min_block = 1 << 20, 16
    ops = make_utilisation_trace(2024)
    rows = replay(learner, size, min_block, ops, False)
    model = Model(size, min_block)
    handed = {}
    payload = peak_payload = 0
    high_water = 0  # the buddy allocator's "heap": the end of the highest block ever in use
    bump = 0  # a bump allocator never reuses: every request (rounded to 16) extends its heap
    for i, ((kind, arg), row) in enumerate(zip(ops, rows)):
        status, value = row[0], row[1]
        where = f"utilisation trace, operation {i + 1}"
        if kind == "a":
            if status == "MemoryError":
                assert not model.fits(arg), f"{where}: alloc({arg}) raised MemoryError though a large enough block is free"
                continue
            assert status == "ok", f"{where}: alloc({arg}) raised {status}: {value}"
            model.check_alloc(arg, value, where)
            handed[i] = value
            payload += arg
            peak_payload = max(peak_payload, payload)
            high_water = max(high_water, value + block_for(arg, min_block))
            bump += (arg + 15) // 16 * 16
        elif arg in handed:
            assert status == "ok", f"{where}: free() of a live block raised {status}: {value}"
            off = handed.pop(arg)
            payload -= model.live.pop(off)[1]
    assert high_water > 0, "the trace allocated nothing"
    utilisation = 100.0 * peak_payload / high_water
    baseline = 100.0 * peak_payload / bump
    report_performance(round(utilisation, 1), round(baseline, 1))


# ---------------------------------------------------------------- the exact model: offsets, errors and free lists


class ExactModel:
    """The statement's allocator, step by step: which offset each alloc returns is fully determined (the smallest
    size that has a free block, the lowest offset of that size, split keeping the lower half), and so are the free
    lists after every call and which calls raise."""

    def __init__(self, size, min_block):
        self.size = size
        self.min_block = min_block
        self.free = {size: {0}}
        self.allocated = {}

    def alloc(self, n):
        if n < 1:
            return ("ValueError", None)
        want = block_for(n, self.min_block)
        s = want
        while s <= self.size and not self.free.get(s):
            s *= 2
        if s > self.size:
            return ("MemoryError", None)
        off = min(self.free[s])
        self.free[s].discard(off)
        while s > want:
            s //= 2
            self.free.setdefault(s, set()).add(off + s)
        self.allocated[off] = want
        return ("ok", off)

    def release(self, off):
        s = self.allocated.pop(off, None)
        if s is None:
            return ("ValueError", None)
        while s < self.size and (off ^ s) in self.free.get(s, ()):
            self.free[s].discard(off ^ s)
            off = min(off, off ^ s)
            s *= 2
        self.free.setdefault(s, set()).add(off)
        return ("ok", None)

    def apply(self, op):
        kind, arg = op
        return self.alloc(arg) if kind == "alloc" else self.release(arg)

    def blocks(self):
        return {s: sorted(offs) for s, offs in sorted(self.free.items()) if offs}


EXACT_RUNNER = """
import sys

def run_exact(size, min_block, ops):
    module = sys.modules["%s"]
    allocator = module.Buddy(size, min_block)
    out = []
    for kind, arg in ops:
        try:
            value = allocator.alloc(arg) if kind == "alloc" else allocator.free(arg)
            row = ["ok", value]
        except Exception as exc:
            row = ["raised", [c.__name__ for c in type(exc).__mro__], str(exc)[:200]]
        row.append(allocator.free_blocks())
        out.append(row)
        if row[0] == "raised" and not any(n in ("ValueError", "MemoryError") for n in row[1]):
            break
    return out
""" % ENTRY_MODULE


def make_exact_trace(seed, size, min_block, length):
    """Seeded allocs and frees, with the edge cases the statement names: size 0 and negative requests, the whole
    arena and more than it, double frees, offsets inside a live block, starts of free blocks, outside the arena."""
    rng = random.Random(seed)
    model = ExactModel(size, min_block)
    orders = (size // min_block).bit_length() - 1
    freed = []
    ops = []
    for _ in range(length):
        live = sorted(model.allocated)
        r = rng.random()
        if live and r < 0.34:
            op = ("free", rng.choice(live))
            freed.append(op[1])
        elif r < 0.44:
            bad = [size, size + min_block, -min_block, -1]
            if freed:
                bad += [rng.choice(freed)] * 3  # a double free, unless it was handed out again since
            if live:
                off = rng.choice(live)
                if model.allocated[off] > 1:
                    bad += [off + rng.randrange(1, model.allocated[off])] * 2
            starts = [o for offs in model.free.values() for o in offs]
            if starts:
                bad += [rng.choice(starts)] * 2
            op = ("free", rng.choice(bad))
        else:
            # mostly small blocks, so that many are live at once and the free lists hold several of a size
            block = min_block << (rng.randint(0, orders) if rng.random() < 0.2 else min(orders, int(rng.expovariate(1.0))))
            n = rng.choice([block, block, block - 1, block + 1, rng.randint(1, block), rng.randint(1, min_block),
                            size, size + 1, 0, -block] if rng.random() < 0.15 else
                           [block, block - 1, block + 1, rng.randint(1, block)])
            op = ("alloc", n)
        model.apply(op)
        ops.append(op)
    return ops


def first_difference(size, min_block, ops, rows):
    """The index of the first call whose outcome or free lists differ from the model's, and what differs."""
    model = ExactModel(size, min_block)
    for i, op in enumerate(ops):
        expected, value = model.apply(op)
        blocks_now = model.blocks()
        if i >= len(rows):
            return i, "the trace stopped before this call"
        row = rows[i]
        kind, arg = op
        call = f"{kind}({arg})"
        if row[0] == "raised":
            names = row[1]
            if expected == "ok":
                return i, f"{call} raised {names[0]}: {row[2]}; it must " + (
                    f"return {value}" if kind == "alloc" else "free the block allocated there")
            if expected not in names:
                return i, f"{call} raised {names[0]}: {row[2]}; it must raise {expected}"
        elif expected != "ok":
            return i, f"{call} returned {row[1]!r}; it must raise {expected} and change nothing"
        elif kind == "alloc" and row[1] != value:
            return i, (f"{call} returned {row[1]!r}; it must return {value}: the free block of the smallest size that "
                       "has one, the lowest offset of that size, split keeping the lower half")
        if row[-1] != blocks_now:
            return i, (f"after {call}, free_blocks() is {row[-1]!r}; it must be {blocks_now!r} (only the sizes that "
                       "have a free block, each a sorted list of offsets, every free pair of buddies merged)")
    return None


def replay_exact(ns, size, min_block, ops):
    """Run `ops` on a fresh Buddy in the learner's process (ns: the EXACT_RUNNER namespace); one row per call."""
    try:
        return ns.call("run_exact", size, min_block, ops)
    except LearnerError as exc:
        raise AssertionError(f"Buddy({size}, {min_block}) raised {exc.type} outside alloc/free: {exc.message}") from None


def shrink(ns, size, min_block, ops, found, seconds=3.0):
    """A shorter trace that still fails: drop runs of calls, then single calls, while a difference remains
    (greedy, for at most `seconds`). The trace and its difference."""
    ops = ops[: found[0] + 1]
    end = time.monotonic() + seconds
    step = max(1, len(ops) // 4)
    while step >= 1 and time.monotonic() < end:
        i = 0
        while i < len(ops) - 1 and time.monotonic() < end:
            candidate = ops[:i] + ops[i + step:]
            got = first_difference(size, min_block, candidate, replay_exact(ns, size, min_block, candidate))
            if got:
                ops, found = candidate[: got[0] + 1], got
            else:
                i += step
        step //= 2
    return ops, found


def show_trace(size, min_block, ops):
    model = ExactModel(size, min_block)
    lines = [f"b = Buddy({size}, {min_block})"]
    for kind, arg in ops:
        status, value = model.apply((kind, arg))
        result = f"-> {value}" if kind == "alloc" and status == "ok" else ("" if status == "ok" else f"-> {status}")
        lines.append(f"b.{kind}({arg}) {result}".rstrip())
    return "; ".join(lines)


EXACT_CASES = [(64, 16, 1), (128, 128, 2), (256, 1, 3), (1024, 32, 4), (4096, 64, 5), (1 << 16, 16, 6), (1, 1, 7)]


@pytest.mark.cards(CARD_SPLIT, CARD_XOR, CARD_ADJACENT)
@pytest.mark.parametrize("size, min_block, seed", EXACT_CASES, ids=[f"{s}-{m}-seed{k}" for s, m, k in EXACT_CASES])
def test_trace_matches_the_exact_model(learner, size, min_block, seed):
    ops = make_exact_trace(seed, size, min_block, 300)
    ns = learner.exec(EXACT_RUNNER)
    found = first_difference(size, min_block, ops, replay_exact(ns, size, min_block, ops))
    if found is None:
        return
    index, what = found
    small, (_, small_what) = shrink(ns, size, min_block, ops, found)
    raise AssertionError(
        f"Buddy({size}, {min_block}), seeded trace {seed}, call {index + 1}: {what}. A shortest failing trace found "
        f"({len(small)} calls): {show_trace(size, min_block, small)[:1500]} -- and there: {small_what}")


@pytest.mark.cards(CARD_ORDERS, CARD_SPLIT)
def test_rounding_is_exact_for_large_sizes(learner):
    size, min_block = 1 << 62, 1 << 52  # 1024 blocks of the smallest size: any data structure copes
    for n, block in [((1 << 60) + 1, 1 << 61), ((1 << 58) + 1, 1 << 59), ((1 << 61) - 1, 1 << 61), (1 << 57, 1 << 57),
                     ((1 << 55) + 1, 1 << 56)]:
        b = new_buddy(learner, size, min_block)
        off = alloc(b, n)
        got = blocks(b)
        used = size - sum(s * len(offs) for s, offs in got.items())
        assert off == 0 and used == block, (
            f"in Buddy(2**62, 2**52), alloc({n}) (2**{n.bit_length() - 1} + {n - (1 << (n.bit_length() - 1))}) must "
            f"take the {block}-byte block (2**{block.bit_length() - 1}) at 0, the smallest power of two >= n; it "
            f"returned {off} and {used} bytes are no longer free. Compute the power of two with integers "
            "((n - 1).bit_length()): a float logarithm is exact only up to 2**53")


@pytest.mark.cards(CARD_ORDERS)
def test_free_blocks_lists_only_sizes_with_a_free_block_each_sorted(learner):
    b = new_buddy(learner, 1024, 16)
    got = b.call("free_blocks")
    assert got == {1024: [0]}, f"an empty 1024-byte arena: free_blocks() must be exactly {{1024: [0]}}, got {got!r}"
    offs = [alloc(b, 16) for _ in range(64)]
    got = b.call("free_blocks")
    assert got == {}, (
        f"a full arena: free_blocks() must be exactly {{}} (only the sizes that have a free block are listed), "
        f"got {got!r}")
    for off in sorted(offs, reverse=True)[::2]:  # every other block, the highest first
        free(b, off)
    got = b.call("free_blocks")
    expected = {16: list(range(16, 1024, 32))}
    assert got == expected, (
        f"with every other 16-byte block free, free_blocks() must be exactly {{16: [16, 48, ..., 1008]}}: one key, "
        f"its offsets in a list sorted in increasing order; got {got!r}")


# ---------------------------------------------------------------- the exact model, with Hypothesis


# A case is an arena and a list of abstract operations; the judge's ExactModel turns each into a concrete call
# (which live block to free, which offset is a double free...), so every generated call is meaningful, and
# Hypothesis shrinks the list to the fewest calls that still differ from the model.
HYPO_ARENAS = [(64, 16), (128, 16), (256, 1), (1024, 32), (4096, 64), (1 << 16, 16), (128, 128), (1, 1), (512, 2)]
# Each operation is one int (cheap for Hypothesis to draw, and it shrinks towards 0, the simplest call: an exact
# allocation of the smallest block). Its low 3 bits choose the kind (4 allocs, 3 frees of a live block, 1 bad
# free in 8), the other bits the details. Mostly small blocks, so that many are live at once and a size has several
# free blocks.
HYPO_ORDERS = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 6, 8, 12, 16]
HYPO_ALLOC_KINDS = ["exact", "exact", "exact", "exact", "less", "more", "any", "less", "more", "any", "whole",
                    "more-than-whole", "zero", "negative", "exact", "any"]
HYPO_BAD_FREES = ["double", "inside", "free-start", "outside"]


def hypothesis_cases():
    from hypothesis import strategies as st

    # a list of runs of calls: Hypothesis's lists average about 5 elements, this about 25, and it still shrinks
    runs = st.lists(st.lists(st.integers(0, (1 << 16) - 1), max_size=10), max_size=10)
    return st.tuples(st.sampled_from(HYPO_ARENAS), runs.map(lambda groups: [op for group in groups for op in group]))


def concrete_calls(size, min_block, ops):
    """The calls an abstract case stands for, decided with the judge's model as the calls go."""
    model = ExactModel(size, min_block)
    orders = (size // min_block).bit_length() - 1
    freed, calls = [], []
    for op in ops:
        kind, rest = op & 7, op >> 3
        if kind < 4:
            block = min_block << min(HYPO_ORDERS[rest & 15], orders)
            how, r = HYPO_ALLOC_KINDS[(rest >> 4) & 15], rest >> 8
            n = {"exact": block, "less": block - 1, "more": block + 1, "any": 1 + r % block, "whole": size,
                 "more-than-whole": size + 1, "zero": 0, "negative": -block}[how]
            call = ("alloc", n)
        elif kind < 7:
            live = sorted(model.allocated)
            call = ("free", live[rest % len(live)] if live else 0)
        else:
            how, k = HYPO_BAD_FREES[rest & 3], rest >> 2
            if how == "double":
                options = [o for o in freed if o not in model.allocated]
            elif how == "inside":
                options = [o + 1 + k % (s - 1) for o, s in sorted(model.allocated.items()) if s > 1]
            elif how == "free-start":
                options = sorted(o for offs in model.free.values() for o in offs)
            else:
                options = [size, size + min_block, -1, -min_block]
            call = ("free", options[k % len(options)] if options else size)
        status, _ = model.apply(call)
        if call[0] == "free" and status == "ok":
            freed.append(call[1])
        calls.append(call)
    return calls


def show_calls(size, min_block, calls):
    """The calls as lines of Python, with what the statement's allocator returns for each."""
    model = ExactModel(size, min_block)
    lines = [f"b = Buddy({size}, {min_block})"]
    for kind, arg in calls:
        status, value = model.apply((kind, arg))
        result = f"  # -> {value}" if kind == "alloc" and status == "ok" else ("" if status == "ok" else f"  # raises {status}")
        lines.append(f"b.{kind}({arg}){result}")
    return lines


@pytest.mark.cards(CARD_SPLIT, CARD_XOR, CARD_ADJACENT, CARD_ORDERS)
def test_hypothesis_operations_match_the_exact_model(learner):
    from prep_judge.model import check

    ns = learner.exec(EXACT_RUNNER)

    def run(case):
        (size, min_block), ops = case
        calls = concrete_calls(size, min_block, ops)
        found = first_difference(size, min_block, calls, replay_exact(ns, size, min_block, calls))
        if found is not None:
            index, what = found
            raise AssertionError(f"Buddy({size}, {min_block}), call {index + 1}: {what}")

    def show(case):
        (size, min_block), ops = case
        return show_calls(size, min_block, concrete_calls(size, min_block, ops))

    check(learner, hypothesis_cases(), run, show, seed=0xB0DD1, max_examples=60, shrink_runs=200)
