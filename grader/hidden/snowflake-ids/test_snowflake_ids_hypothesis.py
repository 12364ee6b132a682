# canary: hidden-test-snowflake-ids
"""Hidden tests of snowflake-ids with Hypothesis: one generator, a fake clock, and a model of next_id().

Hypothesis draws a worker, an epoch, a first millisecond and a list of moves of the clock (forward, the same
millisecond, back by 1 to 10 ms, a burst of ids, a millisecond filled up to sequence 4095). The judge's model
decides every id (millisecond, worker, sequence) and every ClockMovedBackwards. Whenever the statement says
next_id() must wait (a clock at most 5 ms behind, or sequence 4095 used), the fake clock advances 7 us per read,
so the wait ends, and in the millisecond the statement names; otherwise it is frozen. The whole case runs in the
learner's process in one round trip (the helper holds no expected value); a failing case is shrunk.
"""

import pytest

from prep_judge import LearnerTimeout
from test_snowflake_ids import HELPERS, NS, E, fields, make_id

RUNNER = HELPERS + r'''

def runs_of(values):
    """[[first, count], ...]: a burst of 4096 ids travels as one pair when each is one more than the last."""
    out = []
    for v in values:
        if out and isinstance(v, int) and isinstance(out[-1][0], int) and out[-1][0] + out[-1][1] == v:
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out

class QuickClock:
    """The fake clock without the read counter (no test here waits on reads): 4096 ids cost half as much."""
    def __init__(self, ns):
        self.ns, self.step = ns, 0
    def __call__(self):
        value = self.ns
        self.ns += self.step
        return value
    def set(self, ns, step=0):
        self.ns, self.step = ns, step

def run_case(worker, epoch_ms, steps):
    import snowflake
    clock = QuickClock(steps[0][0] if steps else 0)
    gen = snowflake.Generator(worker, clock=clock, epoch_ms=epoch_ms)
    out = []
    for ns, step, count in steps:
        clock.set(ns, step)
        got = []
        row = None
        for _ in range(count):
            try:
                got.append(gen.next_id())
            except Exception as exc:
                row = ["raised", runs_of(got), [c.__name__ for c in type(exc).__mro__], str(exc)[:200]]
                break
        out.append(row or ["ok", runs_of(got)])
    return out
'''

MAX_BACK = 5
STEP_NS = 7_000  # per read while a wait is due: well under a millisecond, so the wait ends in the named one
EPOCHS = [E, 0, 1_500_000_000_000]
FIRST_MS = [1000, 0, 1, 5, 123_456_789, (1 << 41) - 1000]


def cases():
    from hypothesis import strategies as st

    # each move is one int (cheap to draw, shrinking towards 0: the clock forward 0 ms, at the millisecond's start)
    moves = st.lists(st.lists(st.integers(0, (1 << 32) - 1), max_size=8), max_size=8).map(
        lambda runs: [decode(m) for run in runs for m in run])
    return st.tuples(st.integers(0, 1023), st.sampled_from(EPOCHS), st.sampled_from(FIRST_MS), moves)


def decode(m):
    """("next", -10..3 ms, offset) 6 in 10 (half of them forward only), ("burst", 0..40, offset) 3 in 10,
    ("fill", 0, offset) 1 in 10 (4096 ids: at most one per case, see plan)."""
    kind, rest = m % 10, m // 10
    offset = (rest >> 6) % 1_000_000
    if kind < 3:
        return ("next", rest % 4, offset)
    if kind < 6:
        return ("next", 3 - rest % 14, offset)
    if kind < 9:
        return ("burst", rest % 41, offset)
    return ("fill", 0, offset)


def plan(worker, epoch_ms, first_ms, moves):
    """The clock for each step, how many ids to ask, and what the statement says comes back:
    [(ns, step, count, expected ids, error or None, why)]."""
    last, seq = None, -1
    steps = []
    filled = False
    for kind, delta, offset in moves:
        if kind == "fill" and filled:  # one full millisecond per case: 4096 ids are the costly part
            kind = "burst"
        filled = filled or kind == "fill"
        if kind == "next":
            read = first_ms + max(delta, 0) if last is None else max(0, last + delta)
            if last is not None and read < last - MAX_BACK:
                steps.append(((epoch_ms + read) * NS + offset, 0, 1, [], "ClockMovedBackwards",
                              f"the clock reads {read} ms, {last - read} ms behind the last id's {last}"))
                continue
            wait = last is not None and read < last
            why = f"the clock reads {read} ms" + (f", {last - read} ms behind the last id: wait until {last}" if wait else "")
            ms = last if wait else read
            if ms == last and seq == 4095:
                ms, seq, wait = last + 1, 0, True
                why += f"; sequence 4095 of {last} is used: wait for {last + 1}"
            elif ms == last:
                seq += 1
            else:
                seq = 0
            last = ms
            offset = offset % 500_000 if wait else offset
            steps.append(((epoch_ms + read) * NS + offset, STEP_NS if wait else 0, 1, [make_id(ms, worker, seq)], None, why))
        else:
            ms = first_ms if last is None else last
            start = 0 if last is None else seq + 1
            count = 4096 - start if kind == "fill" else min(delta, 4096 - start)
            ids = [make_id(ms, worker, s) for s in range(start, start + count)]
            if count:
                last, seq = ms, start + count - 1
            steps.append(((epoch_ms + ms) * NS + offset, 0, count, ids, None,
                          f"the clock frozen at {ms} ms: sequences {start} to {start + count - 1}"))
    return steps


def show(case):
    worker, epoch_ms, first_ms, moves = case
    lines = [f"gen = Generator({worker}, clock=FakeClock(...), epoch_ms={epoch_ms})"]
    for ns, step, count, ids, error, why in plan(worker, epoch_ms, first_ms, moves):
        ms, rest = divmod(ns - epoch_ms * NS, NS)
        clock = f"clock at {ms} ms + {rest} ns" + (f", +{step} ns per read" if step else " (frozen)")
        if error:
            lines.append(f"{clock}: next_id() must raise {error} ({why})")
        elif count == 1:
            lines.append(f"{clock}: next_id() -> {fields(ids[0])} as (ms, worker, sequence) ({why})")
        else:
            lines.append(f"{clock}: {count} x next_id() ({why})")
    return lines


@pytest.mark.cards("snowflake-id-layout", "snowflake-ids-per-millisecond", "snowflake-clock-moved-backwards")
def test_hypothesis_clock_moves_against_the_model(learner):
    from prep_judge.model import FailNow, check

    ns = learner.exec(RUNNER)

    def run(case):
        worker, epoch_ms, first_ms, moves = case
        steps = plan(worker, epoch_ms, first_ms, moves)
        try:
            rows = ns.start("run_case", worker, epoch_ms, [s[:3] for s in steps]).result(timeout=3)
        except LearnerTimeout:
            raise FailNow("next_id() did not return within 3 s: it waits where the statement says it must not, or "
                          "the wait never ends (every reading of the clock must be checked)") from None
        assert isinstance(rows, list) and len(rows) == len(steps), "the case did not run to the end"

        def expand(pairs):  # the runs the helper sent back, as the ids themselves
            out = []
            for first, count in pairs:
                out.extend(range(first, first + count) if isinstance(first, int) and count > 1 else [first] * count)
            return out

        for i, ((_, _, count, ids, error, why), row) in enumerate(zip(steps, rows)):
            where = f"step {i + 1}"
            row = [row[0], expand(row[1])] + list(row[2:])
            if row[0] == "raised":
                got, names, message = row[1], row[2], row[3]
                done = len(got)
                if error and error in names:
                    continue
                want = f"raise {error}" if error else f"return the id {fields(ids[done])}"
                raise AssertionError(f"{where}: next_id() raised {names[0]}: {message}; it must {want} ({why})")
            got = row[1]
            if error:
                raise AssertionError(f"{where}: next_id() returned {[fields(v) for v in got]}; it must raise {error} "
                                     f"and issue no id ({why})")
            for k, (g, w) in enumerate(zip(got, ids)):
                if g != w:
                    shown = fields(g) if isinstance(g, int) else repr(g)
                    raise AssertionError(f"{where}, id {k + 1} of {count}: next_id() returned {g!r}, fields {shown}; "
                                         f"it must be {w}, fields {fields(w)} ({why})")

    check(learner, cases(), run, show, seed=0x5F1A, max_examples=40, shrink_runs=60)
