"""Hidden tests of page-replacement: faults() and trace() for FIFO, LRU, OPT and Clock.

Every call runs in a learner thread with a timeout, so a Clock whose hand never
stops (use bits never cleared) fails in seconds instead of hanging the grader.
"""
# canary: hidden-test-page-replacement

import random

import pytest

from prep_judge import LearnerError, LearnerTimeout

ALGORITHMS = ["fifo", "lru", "opt", "clock"]
NAMES = {"fifo": "FIFO", "lru": "LRU", "opt": "OPT", "clock": "Clock"}
CALL_SECONDS = 3.0

BELADY = [1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5]
TEXTBOOK = [7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1]  # Silberschatz, Operating System Concepts


# ---------------------------------------------------------------- the judge's model


def model_trace(algorithm, refs, frames):
    slots = [None] * frames
    loaded = [0] * frames
    last = [0] * frames
    bit = [0] * frames
    hand = 0
    out = []
    for t, page in enumerate(refs):
        if page in slots:
            s = slots.index(page)
            last[s] = t
            bit[s] = 1
        else:
            if None in slots:
                s = slots.index(None)
                hand = (s + 1) % frames
            elif algorithm == "fifo":
                s = loaded.index(min(loaded))
            elif algorithm == "lru":
                s = last.index(min(last))
            elif algorithm == "opt":
                future = refs[t + 1:]
                dist = [future.index(p) if p in future else len(refs) for p in slots]
                s = dist.index(max(dist))  # index() finds the lowest frame among ties
            else:
                while bit[hand]:
                    bit[hand] = 0
                    hand = (hand + 1) % frames
                s = hand
                hand = (hand + 1) % frames
            slots[s] = page
            loaded[s] = last[s] = t
            bit[s] = 1
        out.append(list(slots))
    return out


def model_faults(algorithm, refs, frames):
    count, before = 0, []
    for page, after in zip(refs, model_trace(algorithm, refs, frames)):
        count += page not in before
        before = after
    return count


# ---------------------------------------------------------------- calling the learner


def shown(refs, limit=130):
    if len(refs) <= limit:
        return ",".join(str(p) for p in refs)
    return ",".join(str(p) for p in refs[:limit]) + f",... ({len(refs)} references)"


def ask(learner, fn, algorithm, refs, frames):
    what = f"{fn}({algorithm!r}, [{shown(refs)}], {frames})"
    pending = learner.start(fn, algorithm, list(refs), frames)
    try:
        return pending.result(timeout=CALL_SECONDS)
    except LearnerTimeout:
        hint = " Does Clock's hand clear the use bits it passes?" if algorithm == "clock" else ""
        raise AssertionError(f"{what} did not return within {CALL_SECONDS:g} s: an endless loop?{hint}") from None
    except LearnerError as exc:
        raise AssertionError(f"{what} raised {exc.type}: {exc.message}") from None


def faults(learner, algorithm, refs, frames):
    value = ask(learner, "faults", algorithm, refs, frames)
    assert isinstance(value, int) and not isinstance(value, bool), (
        f"faults({algorithm!r}, ...) must return an int, got {type(value).__name__}"
    )
    return value


def trace(learner, algorithm, refs, frames):
    value = ask(learner, "trace", algorithm, refs, frames)
    what = f"trace({algorithm!r}, [{shown(refs)}], {frames})"
    assert isinstance(value, (list, tuple)), f"{what} must return a list, got {type(value).__name__}"
    assert len(value) == len(refs), f"{what} must have one entry per reference ({len(refs)}), got {len(value)}"
    rows = []
    for i, row in enumerate(value):
        assert isinstance(row, (list, tuple)) and len(row) == frames, (
            f"{what}: entry {i} must be the list of the {frames} frames' contents (None for an empty frame), got {row!r}"
        )
        rows.append(list(row))
    return rows


def expect_valueerror(learner, fn, algorithm, refs, frames, why):
    what = f"{fn}({algorithm!r}, {refs!r}, {frames!r})"
    pending = learner.start(fn, algorithm, refs, frames)
    try:
        value = pending.result(timeout=CALL_SECONDS)
    except LearnerError as exc:
        assert exc.is_a("ValueError"), f"{what} must raise ValueError ({why}), it raised {exc.type}: {exc.message}"
        return
    except LearnerTimeout:
        raise AssertionError(f"{what} must raise ValueError ({why}), it did not return within {CALL_SECONDS:g} s") from None
    raise AssertionError(f"{what} must raise ValueError ({why}), but it returned {value!r}")


def describe_step(refs, rows, expected, frames, algorithm):
    """The first reference where the frames differ, said in plain words."""
    for i, (got, want) in enumerate(zip(rows, expected)):
        if got != want:
            before = expected[i - 1] if i else [None] * frames
            return (
                f"{NAMES[algorithm]} with {frames} frames on {shown(refs)}: after reference {i + 1} (page {refs[i]}) "
                f"the frames should be {want} (they were {before} before it), got {got}"
            )
    return None


def random_strings(seed, count, pages=8, length=(20, 90)):
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.randint(*length)
        hot = rng.sample(range(pages * 2), pages)
        # some locality: mostly a small working set, sometimes anything
        out.append([rng.choice(hot[:4]) if rng.random() < 0.6 else rng.choice(hot) for _ in range(n)])
    return out


# ---------------------------------------------------------------- the tests


@pytest.mark.cards("page-replacement-stack-algorithms")
@pytest.mark.parametrize("algorithm", [
    pytest.param("fifo", marks=pytest.mark.cards("fifo-belady-anomaly-four-frames")),
    # on this string every fault finds all use bits set: Clock sweeps a whole turn and degrades to FIFO
    pytest.param("clock", marks=pytest.mark.cards("clock-replacement-all-use-bits-set")),
])
def test_belady_anomaly(learner, algorithm):
    three = faults(learner, algorithm, BELADY, 3)
    four = faults(learner, algorithm, BELADY, 4)
    assert (three, four) == (9, 10), (
        f"{NAMES[algorithm]} on 1,2,3,4,1,2,5,1,2,3,4,5 takes 9 faults with 3 frames and 10 with 4 (Belady's anomaly); "
        f"got {three} and {four}"
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_textbook_reference_string(learner, algorithm):
    expected = {"fifo": 15, "lru": 12, "opt": 9, "clock": 14}[algorithm]
    got = faults(learner, algorithm, TEXTBOOK, 3)
    assert got == expected, (
        f"{NAMES[algorithm]} with 3 frames on the textbook string 7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1 "
        f"takes {expected} faults, got {got}"
    )
    rows = trace(learner, algorithm, TEXTBOOK, 3)
    problem = describe_step(TEXTBOOK, rows, model_trace(algorithm, TEXTBOOK, 3), 3, algorithm)
    assert problem is None, problem


def test_lru_updates_recency_on_every_hit(learner):
    refs = [1, 2, 3, 1, 4]
    rows = trace(learner, "lru", refs, 3)
    assert rows[-1] == [1, 4, 3], (
        f"LRU with 3 frames on 1,2,3,1,4: the hit on 1 makes 2 the least recently used page, so 4 replaces 2 "
        f"and the frames end as [1, 4, 3]; got {rows[-1]} (evicting 1 is FIFO: is recency updated on hits?)"
    )
    got = faults(learner, "lru", BELADY, 4)
    assert got == 8, f"LRU with 4 frames on 1,2,3,4,1,2,5,1,2,3,4,5 takes 8 faults, got {got}"


@pytest.mark.cards("opt-page-replacement-unrealizable")
def test_opt_evicts_the_page_used_furthest_in_the_future(learner):
    refs = [1, 2, 3, 4, 1, 2, 3]
    rows = trace(learner, "opt", refs, 3)
    assert rows[3] == [1, 2, 4], (
        f"OPT with 3 frames on 1,2,3,4,1,2,3: at the fault on 4, page 1 is next used at reference 5, 2 at 6 and 3 at 7, "
        f"so 3 (used furthest in the future) is evicted: frames [1, 2, 4]; got {rows[3]}"
    )
    rows = trace(learner, "opt", [1, 2, 3, 4, 2], 3)
    assert rows[3] == [4, 2, 3], (
        f"OPT with 3 frames on 1,2,3,4,2: pages 1 and 3 are never used again; the tie goes to the lowest frame, "
        f"so 4 replaces 1: frames [4, 2, 3]; got {rows[3]}"
    )
    got = faults(learner, "opt", BELADY, 3)
    assert got == 7, f"OPT with 3 frames on 1,2,3,4,1,2,5,1,2,3,4,5 takes 7 faults, got {got}"


def test_clock_gives_a_second_chance(learner):
    refs = [1, 2, 3, 4, 2, 5]
    rows = trace(learner, "clock", refs, 3)
    expected = [[1, None, None], [1, 2, None], [1, 2, 3], [4, 2, 3], [4, 2, 3], [4, 2, 5]]
    problem = describe_step(refs, rows, expected, 3, "clock")
    assert problem is None, (
        f"{problem}. When 4 faults, the hand clears the use bits of 1, 2 and 3 and evicts 1; "
        "the hit on 2 sets its bit again, so when 5 faults the hand skips 2 (clearing its bit) and evicts 3"
    )


@pytest.mark.cards("clock-replacement-all-use-bits-set")
def test_clock_with_every_use_bit_set_is_fifo(learner):
    refs = [1, 2, 3, 1, 4]
    rows = trace(learner, "clock", refs, 3)
    assert rows[-1] == [4, 2, 3], (
        f"Clock with 3 frames on 1,2,3,1,4: every use bit is set when 4 faults, so the hand clears them all in one turn, "
        f"comes back to page 1 and evicts it, exactly as FIFO: frames [4, 2, 3]; got {rows[-1]}"
    )
    cyclic = [1, 2, 3, 4] * 5
    for frames in (2, 3):
        got = trace(learner, "clock", cyclic, frames)
        want = model_trace("fifo", cyclic, frames)
        assert got == want, (
            f"on 1,2,3,4 repeated (no reference ever hits) Clock with {frames} frames must behave exactly as FIFO: "
            + (describe_step(cyclic, got, want, frames, "clock") or "")
        )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_random_strings_against_the_model(learner, algorithm):
    for k, refs in enumerate(random_strings(7 + ALGORITHMS.index(algorithm), 12)):
        frames = 1 + k % 6
        want = model_faults(algorithm, refs, frames)
        got = faults(learner, algorithm, refs, frames)
        assert got == want, f"{NAMES[algorithm]} with {frames} frames on {shown(refs)}: expected {want} faults, got {got}"
        rows = trace(learner, algorithm, refs, frames)
        problem = describe_step(refs, rows, model_trace(algorithm, refs, frames), frames, algorithm)
        assert problem is None, problem
        counted = sum(1 for i, p in enumerate(refs) if p not in (rows[i - 1] if i else []))
        assert counted == got, (
            f"{NAMES[algorithm]} with {frames} frames: faults() says {got} but trace() shows {counted} faults on the same string"
        )


@pytest.mark.cards("opt-page-replacement-unrealizable")
def test_opt_is_never_worse_than_the_others(learner):
    for k, refs in enumerate(random_strings(2718, 10, pages=7, length=(30, 80))):
        frames = 2 + k % 4
        counts = {a: faults(learner, a, refs, frames) for a in ALGORITHMS}
        worse = [a for a in ("fifo", "lru", "clock") if counts["opt"] > counts[a]]
        assert not worse, (
            f"with {frames} frames on {shown(refs)}, OPT took {counts['opt']} faults but "
            + ", ".join(f"{NAMES[a]} took {counts[a]}" for a in worse)
            + ": no algorithm can beat OPT, which evicts the page used furthest in the future"
        )


@pytest.mark.cards("page-replacement-stack-algorithms")
@pytest.mark.parametrize("algorithm", ["lru", "opt"])
def test_stack_algorithms_never_fault_more_with_more_frames(learner, algorithm):
    for refs in random_strings(31 + ALGORITHMS.index(algorithm), 4, pages=9, length=(60, 120)):
        counts = [faults(learner, algorithm, refs, f) for f in range(1, 10)]
        for f in range(1, 9):
            assert counts[f] <= counts[f - 1], (
                f"{NAMES[algorithm]} is a stack algorithm: more frames never mean more faults. On {shown(refs)} "
                f"it took {counts[f - 1]} faults with {f} frames but {counts[f]} with {f + 1} (faults for 1..9 frames: {counts})"
            )
    counts = [faults(learner, algorithm, BELADY, f) for f in range(1, 6)]
    assert counts == sorted(counts, reverse=True), (
        f"{NAMES[algorithm]} on 1,2,3,4,1,2,5,1,2,3,4,5 with 1..5 frames must never fault more with more frames, got {counts}"
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_edge_cases(learner, algorithm):
    name = NAMES[algorithm]
    got = faults(learner, algorithm, [], 3)
    assert got == 0, f"{name} on an empty reference string takes 0 faults, got {got}"
    rows = ask(learner, "trace", algorithm, [], 3)
    assert list(rows) == [], f"trace({algorithm!r}, [], 3) must be an empty list, got {rows!r}"
    refs = [5, 3, 5, 8, 3, 3, 9, 5, 8, 9]
    got = faults(learner, algorithm, refs, 4)
    assert got == 4, f"{name} with 4 frames on {shown(refs)} (4 distinct pages) faults once per distinct page: 4, got {got}"
    rows = trace(learner, algorithm, refs, 6)
    assert rows[-1] == [5, 3, 8, 9, None, None], (
        f"{name} with 6 frames on {shown(refs)}: pages fill the lowest empty frames in order and nothing is evicted, "
        f"so the frames end as [5, 3, 8, 9, None, None]; got {rows[-1]}"
    )
    refs = [1, 1, 2, 2, 2, 1, 3, 3, 1]
    got = faults(learner, algorithm, refs, 1)
    assert got == 5, f"{name} with 1 frame on {shown(refs)} faults whenever the page changes: 5, got {got}"
    for frames in (0, -1):
        for fn in ("faults", "trace"):
            expect_valueerror(learner, fn, algorithm, [1, 2, 3], frames, "there must be at least one frame")



@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_frames_raise_valueerror_even_with_nothing_to_simulate(learner, algorithm):
    # With references to simulate, a policy that is handed 0 frames often raises ValueError by accident
    # (min() of nothing); an empty or one-page string checks that 0 frames itself is refused.
    for refs in ([], [7]):
        for fn in ("faults", "trace"):
            expect_valueerror(learner, fn, algorithm, refs, 0, "there must be at least one frame, whatever the references")

def test_unknown_algorithm_raises_valueerror(learner):
    for fn in ("faults", "trace"):
        expect_valueerror(learner, fn, "random", [1, 2, 3], 3, "the algorithm must be one of fifo, lru, opt, clock")
        expect_valueerror(learner, fn, "FIFO", [1, 2, 3], 3, "the algorithm names are lower case: 'fifo', not 'FIFO'")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_frames_that_are_not_an_int_raise_valueerror(learner, algorithm):
    for frames, why in [
        (2.0, "frames must be an int; 2.0 is a float"),
        ("3", "frames must be an int; '3' is a str"),
        (True, "frames must be an int and not a bool, although Python counts True as 1"),
    ]:
        for fn in ("faults", "trace"):
            expect_valueerror(learner, fn, algorithm, [1, 2, 3], frames, why)


@pytest.mark.cards("page-replacement-stack-algorithms")
@pytest.mark.parametrize("algorithm", ["fifo", "lru", "opt", "clock"])
def test_large_page_numbers(learner, algorithm):
    """Page numbers past 256, where CPython's cached small ints end: compare pages with ==, never `is`."""
    refs = [1000 + 37 * p for p in BELADY]
    expected = model_trace(algorithm, refs, 3)
    got = trace(learner, algorithm, refs, 3)
    assert got == expected, (
        f"{algorithm} with 3 frames on {refs}: expected the frames {expected}, got {got} (the same string as pages "
        "1..5 gives the right answer, so look at how pages are compared: `is` works only for small ints)"
    )
