# canary: hidden-test-snowflake-ids
"""Hidden tests of snowflake-ids: Generator(worker_id, clock, epoch_ms).next_id() and parse().

Time is a fake clock living in the learner's process (helper code below): a
value the test sets, optionally advancing by a fixed step at every read, and a
read counter with a condition variable, so a test can wait until the
generator is spinning on the clock instead of sleeping. Thread races are made
to show every time by a line tracer that yields the GIL (time.sleep(0)) at
random lines of the learner's module (seeded per thread).
"""

from __future__ import annotations

import random
import time

import pytest

from prep_judge import LearnerError, LearnerTimeout

E = 1288834974657  # the documented DEFAULT_EPOCH_MS
NS = 1_000_000

HELPERS = r'''
import json, os, random, sys, threading, time

class Clock:
    """A fake time.time_ns: returns ns, then adds step; counts reads."""
    def __init__(self, ns, step=0):
        self.ns, self.step, self.reads = ns, step, 0
        self.cond = threading.Condition()
    def __call__(self):
        with self.cond:
            self.reads += 1
            value = self.ns
            self.ns += self.step
            self.cond.notify_all()
            return value
    def set(self, ns, step=0):
        with self.cond:
            self.ns, self.step = ns, step
    def read_count(self):
        with self.cond:
            return self.reads
    def wait_reads(self, target, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: self.reads >= target, timeout)

def ids(gen, n):
    return [gen.next_id() for _ in range(n)]

def parse_all(values):
    import snowflake
    return [tuple(snowflake.parse(v)) for v in values]

def hammer(gen, threads, per_thread, yield_chance):
    """Many threads on one generator, yielding the GIL at random lines of the learner's module."""
    import snowflake
    target = os.path.abspath(snowflake.__file__)
    out = [[] for _ in range(threads)]
    errors = []
    barrier = threading.Barrier(threads)
    def work(i):
        rnd = random.Random(1000 + i)
        def local(frame, event, arg):
            if event == "line" and rnd.random() < yield_chance:
                time.sleep(0)
            return local
        def tracer(frame, event, arg):
            return local if frame.f_code.co_filename == target else None
        sys.settrace(tracer)
        try:
            barrier.wait()
            for _ in range(per_thread):
                out[i].append(gen.next_id())
        except BaseException as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            sys.settrace(None)
    old_stack = threading.stack_size(512 * 1024)  # small stacks: --sandbox local limits address space
    try:
        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for t in workers:
            t.start()
    finally:
        threading.stack_size(old_stack)
    for t in workers:
        t.join(20)
    return {"ids": out, "errors": errors[:5]}

def in_processes(worker_ids, count, start_ns, step, epoch_ms):
    """One forked process per worker id, each with its own generator and an identical fake clock."""
    import snowflake
    files = []
    pids = []
    for w in worker_ids:
        path = os.path.abspath(f"ids-{w}.json")
        files.append(path)
        pid = os.fork()
        if pid == 0:
            result = {"ids": [], "error": None}
            try:
                gen = snowflake.Generator(w, clock=Clock(start_ns, step), epoch_ms=epoch_ms)
                result["ids"] = [gen.next_id() for _ in range(count)]
            except BaseException as exc:
                result["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                try:
                    with open(path + ".tmp", "w") as f:
                        json.dump(result, f)
                    os.rename(path + ".tmp", path)
                finally:
                    os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    results = []
    for path in files:
        with open(path) as f:
            results.append(json.load(f))
    return results
'''


def helpers(learner):
    return learner.exec(HELPERS)


def make_id(ms, worker, seq):
    return (ms << 22) | (worker << 12) | seq


def fields(value):
    return (value >> 22, (value >> 12) & 1023, value & 4095)


def expect_error(fn, kinds, what):
    try:
        fn()
    except LearnerError as exc:
        assert any(exc.is_a(k) for k in kinds), f"{what} must raise {' or '.join(kinds)}, it raised {exc.type}: {exc.message}"
    else:
        raise AssertionError(f"{what} must raise {' or '.join(kinds)}, it returned normally")


@pytest.mark.cards("snowflake-id-layout")
def test_layout_of_the_first_ids(learner):
    h = helpers(learner)
    ms = 123_456_789
    clock = h.call("Clock", (E + ms) * NS + 789_000)
    gen = learner.call("Generator", 37, clock=clock, epoch_ms=E)
    got = h.call("ids", gen, 3)
    want = [make_id(ms, 37, s) for s in range(3)]
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, (
            f"id #{i + 1} at {ms} ms after the epoch, worker 37, should be {w} ({ms} << 22 | 37 << 12 | {i}); "
            f"got {g}, whose fields read as (ms, worker, sequence) = {fields(g)}"
        )
    other_epoch = 1_600_000_000_000
    clock2 = h.call("Clock", (other_epoch + 42) * NS)
    gen2 = learner.call("Generator", 1023, clock=clock2, epoch_ms=other_epoch)
    g = gen2.call("next_id")
    assert g == make_id(42, 1023, 0), (
        f"with epoch_ms={other_epoch} and the clock 42 ms later, worker 1023, the first id should be "
        f"{make_id(42, 1023, 0)}; got {g} = fields {fields(g)}"
    )


@pytest.mark.cards("snowflake-id-layout")
def test_parse_round_trip(learner):
    rnd = random.Random(61)
    values = [make_id(rnd.getrandbits(41), rnd.getrandbits(10), rnd.getrandbits(12)) for _ in range(300)]
    values += [0, make_id(2**41 - 1, 1023, 4095), make_id(2**41 - 1, 0, 0), make_id(1, 512, 2048)]
    got = helpers(learner).call("parse_all", values)
    for v, g in zip(values, got):
        assert list(g) == list(fields(v)), f"parse({v}) should be (ms, worker, sequence) = {fields(v)}, got {tuple(g)}"
    for bad in (-1, 2**63, "12", 1.0, True):
        expect_error(lambda bad=bad: learner.call("parse", bad), ["ValueError"], f"parse({bad!r})")


def test_default_epoch_and_real_clock(learner):
    epoch = learner.get("DEFAULT_EPOCH_MS")
    assert epoch == E, f"DEFAULT_EPOCH_MS must be Twitter's epoch {E}, got {epoch!r}"
    gen = learner.call("Generator", 5)
    before = time.time_ns() // NS - E
    a = gen.call("next_id")
    b = gen.call("next_id")
    after = time.time_ns() // NS - E
    ms, worker, _ = fields(a)
    assert before - 1000 <= ms <= after + 1000, (
        f"Generator(5) with the default clock and epoch made an id whose time field is {ms} ms after the epoch; "
        f"the real time is about {before} ms after it"
    )
    assert worker == 5, f"Generator(5) must put 5 in the worker field, got {worker}"
    assert b > a, f"the second id ({b}) must be greater than the first ({a})"


@pytest.mark.cards("snowflake-ids-per-millisecond")
def test_sequence_counts_up_and_restarts_each_millisecond(learner):
    h = helpers(learner)
    start_ms = 10_000_000
    clock = h.call("Clock", (E + start_ms) * NS, 37_000)  # the clock moves 37 us at every read
    gen = learner.call("Generator", 37, clock=clock, epoch_ms=E)
    got = h.call("ids", gen, 5000)
    end_ms = clock.get("ns") // NS - E
    prev = None
    for i, value in enumerate(got):
        ms, worker, seq = fields(value)
        assert worker == 37, (
            f"id #{i + 1} reads as worker {worker}, not 37 (its fields are {fields(value)}): "
            "has the sequence spilled into the worker bits?"
        )
        assert start_ms <= ms <= end_ms, f"id #{i + 1} has time {ms}, outside the times the clock gave ({start_ms}..{end_ms})"
        if prev is not None:
            pms, _, pseq = fields(prev)
            assert value > prev, f"id #{i + 1} ({value}) is not greater than the one before ({prev})"
            if ms == pms:
                assert seq == pseq + 1, f"within one millisecond the sequence goes up by 1: after {pseq} came {seq}"
            else:
                assert seq == 0, f"the first id of a new millisecond has sequence 0, id #{i + 1} has {seq}"
        prev = value


@pytest.mark.cards("snowflake-ids-per-millisecond")
def test_sequence_overflow_waits_for_the_next_millisecond(learner):
    h = helpers(learner)
    ms = 20_000_000
    clock = h.call("Clock", (E + ms) * NS + 100)  # frozen
    gen = learner.call("Generator", 42, clock=clock, epoch_ms=E)
    first = h.call("ids", gen, 4096)
    for i, value in enumerate(first):
        assert value == make_id(ms, 42, i), (
            f"with the clock frozen, id #{i + 1} should be ({ms}, 42, {i}) as (ms, worker, sequence); got {fields(value)}"
        )
    reads = clock.call("read_count")
    pending = gen.start("next_id")
    spinning = clock.call("wait_reads", reads + 3, 2.0)
    if pending.done():
        try:
            value = pending.result(timeout=1)
        except LearnerError as exc:
            raise AssertionError(
                f"the 4097th id in one millisecond must wait for the next millisecond, but next_id() raised {exc.type}"
            ) from None
        spilled = " (worker 42 became 43: the sequence spilled into the worker bits)" if fields(value)[1] != 42 else ""
        raise AssertionError(
            f"the 4097th id in one millisecond came back at once as fields {fields(value)}{spilled} although the clock "
            "had not moved: after sequence 4095, next_id() must keep reading the clock until the next millisecond"
        )
    assert spinning, "after sequence 4095, next_id() must keep reading the clock it was given until the millisecond changes"
    clock.call("set", (E + ms + 1) * NS + 5)
    try:
        value = pending.result(timeout=3)
    except LearnerTimeout:
        raise AssertionError("the clock reached the next millisecond but next_id() is still waiting") from None
    assert fields(value) == (ms + 1, 42, 0), (
        f"after waiting, the id must be the next millisecond's sequence 0, ({ms + 1}, 42, 0); got {fields(value)}"
    )


@pytest.mark.cards("snowflake-clock-moved-backwards")
def test_clock_one_millisecond_back_is_waited_out(learner):
    h = helpers(learner)
    ms = 30_000_000
    clock = h.call("Clock", (E + ms) * NS + 500_000)
    gen = learner.call("Generator", 7, clock=clock, epoch_ms=E)
    before = h.call("ids", gen, 5)
    clock.call("set", (E + ms - 1) * NS + 500_000, 50_000)  # 1 ms back, then 50 us per read
    try:
        after = h.start("ids", gen, 50).result(timeout=4)
    except LearnerError as exc:
        raise AssertionError(
            f"a clock 1 ms behind (within MAX_BACKWARDS_MS = 5) must be waited out, but next_id() raised {exc.type}"
        ) from None
    except LearnerTimeout:
        raise AssertionError("with the clock 1 ms behind and moving forward, next_id() never returned") from None
    last = before[-1]
    for i, value in enumerate(after):
        assert value > last, (
            f"after the clock went back 1 ms, id #{i + 1} has fields {fields(value)}, not greater than the previous id "
            f"{fields(last)}: an id must never be smaller than or equal to one already issued"
        )
        last = value
    assert fields(after[0])[0] >= ms, f"after the clock went back, an id was stamped {fields(after[0])[0]}, before {ms}"


@pytest.mark.cards("snowflake-clock-moved-backwards")
def test_clock_ten_seconds_back_raises_and_recovers(learner):
    h = helpers(learner)
    ms = 40_000_000
    clock = h.call("Clock", (E + ms) * NS)
    gen = learner.call("Generator", 9, clock=clock, epoch_ms=E)
    before = h.call("ids", gen, 3)
    clock.call("set", (E + ms - 10_000) * NS)  # 10 s back, frozen
    pending = gen.start("next_id")
    try:
        value = pending.result(timeout=3)
    except LearnerError as exc:
        assert exc.is_a("ClockMovedBackwards"), (
            f"a clock 10 s behind must raise ClockMovedBackwards, next_id() raised {exc.type}: {exc.message}"
        )
    except LearnerTimeout:
        raise AssertionError(
            "with the clock 10 s behind, next_id() kept waiting: beyond MAX_BACKWARDS_MS it must raise ClockMovedBackwards at once"
        ) from None
    else:
        raise AssertionError(
            f"with the clock 10 s behind, next_id() returned an id with fields {fields(value)} (the last one was "
            f"{fields(before[-1])}): it must raise ClockMovedBackwards instead"
        )
    clock.call("set", (E + ms + 2) * NS)
    try:
        value = gen.start("next_id").result(timeout=3)
    except (LearnerError, LearnerTimeout) as exc:
        raise AssertionError(f"once the clock is back, the generator must work again; next_id() gave {type(exc).__name__}") from None
    assert value > before[-1] and fields(value) == (ms + 2, 9, 0), (
        f"once the clock is back at {ms + 2} ms, the next id should be ({ms + 2}, 9, 0); got {fields(value)}"
    )


def _far_back_while_waiting(gen, clock, last_ms, why):
    """next_id() must be spinning on the clock; then the clock jumps 10 s behind last_ms: ClockMovedBackwards."""
    reads = clock.call("read_count")
    pending = gen.start("next_id")
    spinning = clock.call("wait_reads", reads + 3, 2.0)
    if pending.done():
        try:
            value = pending.result(timeout=1)
        except LearnerError as exc:
            raise AssertionError(f"{why}, next_id() must keep reading the clock, but it raised {exc.type}: {exc.message}") from None
        raise AssertionError(
            f"{why}, next_id() must keep reading the clock until it reaches a later millisecond, but it returned "
            f"an id with fields {fields(value)} at once"
        )
    assert spinning, f"{why}, next_id() must keep reading the clock it was given"
    clock.call("set", (E + last_ms - 10_000) * NS)  # now 10 s behind, frozen
    try:
        value = pending.result(timeout=3)
    except LearnerTimeout:
        raise AssertionError(
            f"{why}, the clock jumped 10 s behind the last id, but next_id() is still waiting 3 s later: every "
            "reading of the clock, also while waiting, must raise ClockMovedBackwards when it is more than "
            "MAX_BACKWARDS_MS behind"
        ) from None
    except LearnerError as exc:
        assert exc.is_a("ClockMovedBackwards"), (
            f"{why}, the clock jumped 10 s behind: next_id() must raise ClockMovedBackwards, it raised {exc.type}: {exc.message}"
        )
    else:
        raise AssertionError(
            f"{why}, the clock jumped 10 s behind, and next_id() returned an id with fields {fields(value)}: "
            "it must raise ClockMovedBackwards"
        )


@pytest.mark.cards("snowflake-clock-moved-backwards")
def test_clock_jumping_far_back_while_waiting_raises(learner):
    h = helpers(learner)
    ms = 45_000_000
    clock = h.call("Clock", (E + ms) * NS)
    gen = learner.call("Generator", 11, clock=clock, epoch_ms=E)
    before = h.call("ids", gen, 3)
    clock.call("set", (E + ms - 2) * NS)  # 2 ms back, frozen: to be waited out
    _far_back_while_waiting(gen, clock, ms, "while waiting out a clock 2 ms behind")
    clock.call("set", (E + ms + 1) * NS)
    try:
        value = gen.start("next_id").result(timeout=3)
    except (LearnerError, LearnerTimeout) as exc:
        raise AssertionError(f"once the clock is back, the generator must work again; next_id() gave {type(exc).__name__}") from None
    assert value > before[-1] and fields(value) == (ms + 1, 11, 0), (
        f"once the clock is back at {ms + 1} ms, the next id should be ({ms + 1}, 11, 0); got {fields(value)}"
    )
    ms2 = ms + 1_000
    clock.call("set", (E + ms2) * NS)  # frozen: 4096 ids, then the 4097th waits for the next millisecond
    h.call("ids", gen, 4096)
    _far_back_while_waiting(gen, clock, ms2, "while waiting for the millisecond after sequence 4095")


@pytest.mark.cards("snowflake-clock-moved-backwards")
def test_max_backwards_boundary_five_waits_six_raises(learner):
    h = helpers(learner)
    ms = 47_000_000
    clock = h.call("Clock", (E + ms) * NS + 999_999)  # late in the millisecond: ms, not ns, are compared
    gen = learner.call("Generator", 13, clock=clock, epoch_ms=E)
    before = h.call("ids", gen, 3)
    clock.call("set", (E + ms - 5) * NS)  # exactly MAX_BACKWARDS_MS behind, frozen
    reads = clock.call("read_count")
    pending = gen.start("next_id")
    spinning = clock.call("wait_reads", reads + 3, 2.0)
    if pending.done():
        try:
            value = pending.result(timeout=1)
        except LearnerError as exc:
            raise AssertionError(
                f"a clock exactly 5 ms behind the last id (MAX_BACKWARDS_MS = 5: at most 5 ms is waited out) must be "
                f"waited out, but next_id() raised {exc.type}: {exc.message}"
            ) from None
        raise AssertionError(
            f"with the clock 5 ms behind the last id, next_id() returned an id with fields {fields(value)} at once: "
            "it must keep reading the clock until it reads the last id's millisecond or later"
        )
    assert spinning, "with the clock 5 ms behind the last id, next_id() must keep reading the clock it was given"
    clock.call("set", (E + ms) * NS + 10)
    try:
        value = pending.result(timeout=3)
    except LearnerTimeout:
        raise AssertionError("the clock came back to the last id's millisecond, but next_id() is still waiting") from None
    assert fields(value) == (ms, 13, 3), (
        f"after waiting out a clock 5 ms behind, back in the last id's millisecond the sequence continues: "
        f"expected fields ({ms}, 13, 3), got {fields(value)}"
    )
    clock.call("set", (E + ms - 6) * NS + 999_999)  # 6 ms behind, frozen
    try:
        value = gen.start("next_id").result(timeout=3)
    except LearnerTimeout:
        raise AssertionError(
            "with the clock 6 ms behind the last id, next_id() kept waiting: more than MAX_BACKWARDS_MS (5) behind "
            "it must raise ClockMovedBackwards at once"
        ) from None
    except LearnerError as exc:
        assert exc.is_a("ClockMovedBackwards"), (
            f"a clock 6 ms behind the last id must raise ClockMovedBackwards, next_id() raised {exc.type}: {exc.message}"
        )
    else:
        raise AssertionError(
            f"with the clock 6 ms behind the last id, next_id() returned an id with fields {fields(value)}: "
            "more than MAX_BACKWARDS_MS (5) behind it must raise ClockMovedBackwards"
        )
    clock.call("set", (E + ms) * NS + 20)
    value = gen.start("next_id").result(timeout=3)
    assert fields(value) == (ms, 13, 4), (
        f"ClockMovedBackwards must not issue an id: back in the last id's millisecond the next id should have "
        f"fields ({ms}, 13, 4), got {fields(value)}"
    )
    assert before[-1] < value, "ids must keep increasing"


def test_threads_sharing_one_generator_get_unique_increasing_ids(learner):
    h = helpers(learner)
    clock = h.call("Clock", (E + 50_000_000) * NS, 1_000)  # 1 us per read: many ids share a millisecond
    gen = learner.call("Generator", 300, clock=clock, epoch_ms=E)
    threads, per_thread = 8, 300
    result = h.start("hammer", gen, threads, per_thread, 0.25).result(timeout=8)
    errors = result["errors"]
    assert not errors, f"next_id() raised in {len(errors)} thread(s), e.g. {errors[0][:200]}"
    lists = result["ids"]
    every = [v for ids in lists for v in ids]
    assert len(every) == threads * per_thread, f"expected {threads * per_thread} ids from {threads} threads, got {len(every)}"
    dupes = len(every) - len(set(every))
    assert dupes == 0, (
        f"{threads} threads sharing one generator got {dupes} duplicate ids out of {len(every)}: "
        "the read-increment-write of (millisecond, sequence) must happen under a lock"
    )
    for t, ids in enumerate(lists):
        for a, b in zip(ids, ids[1:]):
            assert b > a, f"in one thread, an id ({fields(b)}) came after a larger one ({fields(a)}): ids must only increase"
    assert all(fields(v)[1] == 300 for v in every), "every id of Generator(300, ...) must carry worker 300"


@pytest.mark.cards("snowflake-id-layout")
def test_processes_with_distinct_workers_never_collide(learner):
    h = helpers(learner)
    workers = [0, 1, 512, 1023]
    results = h.start("in_processes", workers, 3000, (E + 60_000_000) * NS, 1_000, E).result(timeout=8)
    every = []
    for w, res in zip(workers, results):
        assert res["error"] is None, f"a process with worker id {w} raised: {res['error'][:200]}"
        ids = res["ids"]
        assert len(ids) == 3000, f"a process with worker id {w} made {len(ids)} ids instead of 3000"
        wrong = [fields(v) for v in ids if fields(v)[1] != w]
        assert not wrong, f"a process with worker id {w} made an id whose worker field is {wrong[0][1]} (fields {wrong[0]})"
        every += ids
    dupes = len(every) - len(set(every))
    assert dupes == 0, f"4 processes with worker ids {workers} and identical clocks made {dupes} identical ids"


def test_invalid_worker_ids(learner):
    for bad in (-1, 1024, 5000, 2**40):
        expect_error(lambda bad=bad: learner.call("Generator", bad), ["ValueError"], f"Generator({bad})")
    for bad in ("3", 2.5, None, True, False):
        expect_error(lambda bad=bad: learner.call("Generator", bad), ["TypeError"], f"Generator({bad!r})")
    h = helpers(learner)
    for good in (0, 1023):
        gen = learner.call("Generator", good, clock=h.call("Clock", (E + 99) * NS), epoch_ms=E)
        value = gen.call("next_id")
        assert fields(value) == (99, good, 0), f"Generator({good}) must work: expected fields (99, {good}, 0), got {fields(value)}"


@pytest.mark.cards("snowflake-id-layout")
def test_times_outside_the_41_bits(learner):
    h = helpers(learner)
    early = learner.call("Generator", 1, clock=h.call("Clock", (E - 5) * NS), epoch_ms=E)
    expect_error(lambda: early.call("next_id"), ["ValueError"], "next_id() with the clock 5 ms before the epoch")
    top = 2**41 - 1
    last = learner.call("Generator", 1, clock=h.call("Clock", (E + top) * NS), epoch_ms=E)
    value = last.call("next_id")
    assert value == make_id(top, 1, 0) and value < 2**63, (
        f"at the last millisecond that fits 41 bits the id must be {make_id(top, 1, 0)} (below 2**63), got {value}"
    )
    beyond = learner.call("Generator", 1, clock=h.call("Clock", (E + top + 1) * NS), epoch_ms=E)
    expect_error(lambda: beyond.call("next_id"), ["OverflowError"], "next_id() once the milliseconds need 42 bits")
    far = learner.call("Generator", 1, clock=h.call("Clock", (E + 2**42 + 7) * NS), epoch_ms=E)
    expect_error(lambda: far.call("next_id"), ["OverflowError"], "next_id() with the milliseconds far past 41 bits (2**42 + 7)")
    first = learner.call("Generator", 3, clock=h.call("Clock", E * NS), epoch_ms=E)
    value = first.call("next_id")
    assert value == make_id(0, 3, 0), (
        f"at the epoch's own millisecond (0 ms since it, not before it) the id must be {make_id(0, 3, 0)}, got {value!r}"
    )
