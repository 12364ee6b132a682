# canary: hidden-test-lock-types
"""Hidden tests of lock-types with Hypothesis: drawn sequences of lock operations from three threads, against a model.

Hypothesis draws a Semaphore's permits (0 to 2) and a list of operations, each by one of three threads (actors) on
one SpinLock, one RWLock and one Semaphore: try_acquire, acquire (when free), release and locked of the spinlock;
acquire_read, acquire_write and the releases of the readers-writer lock (a release by a thread that holds nothing
only where the statement names the outcome: release_read with no reader holding it, release_write with no writer);
acquire with a timeout of 0, -1, 30 ms or none, release and available of the semaphore. The judge's model of the
statement (writer preference, one permit per release, a timeout that gives up leaves nothing behind) decides what
each call returns and which calls are still blocked after each step, once the threads have settled; the case ends
by releasing what is held, so every blocked call must return. The helper in the learner's process runs each call
in its actor's thread and reports which calls returned and what they gave (it holds no expected value, only which
calls to wait for); a failing case is shrunk to the smallest one.
"""

import pytest

from prep_judge import LearnerTimeout
from prep_judge.threads import source
from test_lock_types import HELPERS

RUNNER = r'''

class Actor:
    """A thread that runs the calls it is given one at a time, in order (kept for the next case when idle)."""

    def __init__(self):
        self.cv = threading.Condition(threading.Lock())
        self.jobs = []
        self.current = None  # the id of the call being run
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        Runner.threads.add(self.thread)

    def give(self, call_id, fn, done):
        with self.cv:
            self.jobs.append((call_id, fn, done))
            self.cv.notify()

    def idle(self):
        with self.cv:
            return not self.jobs and self.current is None

    def _run(self):
        while True:
            with self.cv:
                while not self.jobs:
                    self.cv.wait()
                call_id, fn, done = self.jobs.pop(0)
                self.current = call_id
            try:
                value = ["value", fn()]
            except BaseException as exc:
                value = ["raised", type(exc).__name__, str(exc)[:120]]
            with self.cv:
                self.current = None
            with SETTLE:
                done[call_id] = value
                SETTLE.notify_all()

IDLE_ACTORS = []
SETTLE = threading.Condition(threading.Lock())  # notified whenever a call returns

def wait_settled(predicate, seconds):
    """Until predicate() holds: woken by each call that returns, and every 2 ms to look for a thread gone to sleep."""
    end = time.monotonic() + seconds
    with SETTLE:
        while not predicate():
            left = end - time.monotonic()
            if left <= 0:
                return False
            SETTLE.wait(min(left, 0.002))
    return True

def actors(n):
    """n actors: idle ones from earlier cases first (a thread blocked for ever in a wrong lock is not reused)."""
    got = []
    while IDLE_ACTORS and len(got) < n:
        a = IDLE_ACTORS.pop()
        if a.idle():
            got.append(a)
    while len(got) < n:
        got.append(Actor())
    return got

def settled(actor, call_id, done):
    """The call returned, or its actor sleeps in a Condition wait inside it."""
    return call_id in done or (actor.current == call_id and parked(actor.thread))

def run_lock_case(permits, ops, expected):
    """ops: [(actor, object, method, args)]; after each, wait (bounded) until the calls in expected[i] returned
    and this one returned or sleeps; report the ids of the calls returned so far, then every call's outcome."""
    spin = locks.SpinLock()
    rw = locks.RWLock()
    sem = locks.Semaphore(permits)
    objects = {"spin": spin, "rw": rw, "sem": sem}
    team = actors(3)
    done = {}
    rows = []
    for i, ((k, name, method, args), must) in enumerate(zip(ops, expected)):
        fn = getattr(objects[name], method)
        team[k].give(i, lambda fn=fn, args=args: fn(*args), done)
        wait_settled(lambda: all(j in done for j in must) and settled(team[k], i, done), 1.0)
        with SETTLE:
            rows.append(sorted(done))
    with SETTLE:
        final = sorted(done)
    for a in team:
        if a.idle():
            IDLE_ACTORS.append(a)
    return {"rows": rows, "final": final, "outcomes": {str(j): v for j, v in done.items()}}
'''

ACTORS = 3
TIMEOUTS = [0.03, 0, None, -1]
# what a drawn operation does (Model.apply): 0-3 the spinlock's try_acquire, acquire, release, locked; 4-6 the
# readers-writer lock's acquire_read, acquire_write, a release; 7-9 the semaphore's acquire, release, available.
# The readers-writer lock comes most often, then the semaphore.
KINDS = [7, 5, 4, 6, 8, 4, 9, 5, 0, 2, 6, 1, 3, 7, 4, 8]


def cases():
    from hypothesis import strategies as st

    # each operation is three small ints: what (0..9), which thread, an argument; shrinking towards a try_acquire
    op = st.tuples(st.integers(0, len(KINDS) - 1).map(KINDS.__getitem__), st.integers(0, ACTORS - 1), st.integers(0, 3))
    return st.tuples(st.integers(0, 2), st.lists(op, min_size=1, max_size=14))


class Model:
    """The statement's three locks, and which actor holds or waits for what."""

    def __init__(self, permits):
        self.spin_owner = None
        self.readers = []  # actors holding the read lock
        self.writer = None
        self.read_waiting = []  # actors blocked in acquire_read
        self.write_waiting = None  # the actor blocked in acquire_write (one at most: which of two goes is not ours to say)
        self.permits = permits
        self.sem_waiting = None  # the actor blocked in acquire() with no timeout
        self.blocked = {}  # actor -> id of its blocked call
        self.values = {}  # call id -> what it must return: ("value", v) or ("raised", type)
        self.calls = []  # [(actor, object, method, args, why)]
        self.expected = []  # per call: the ids of the calls returned once it settled

    def busy(self, k):
        return k in self.blocked

    def may_block(self):
        """One thread always stays free, so that the case can end by releasing what is held."""
        return len(self.blocked) < ACTORS - 1

    def _call(self, k, name, method, args, want, why, blocks=False):
        cid = len(self.calls)
        self.calls.append((k, name, method, args, why))
        if blocks:
            self.blocked[k] = cid
        else:
            self.values[cid] = want
        return cid

    def _wake(self, k, want):
        cid = self.blocked.pop(k)
        self.values[cid] = want

    def _grant_rw(self):
        """After a release: a waiting writer goes first once nobody holds the lock, else every waiting reader."""
        if self.writer is None and not self.readers and self.write_waiting is not None:
            self.writer, self.write_waiting = self.write_waiting, None
            self._wake(self.writer, ("value", None))
        elif self.writer is None and self.write_waiting is None and self.read_waiting:
            for k in self.read_waiting:
                self.readers.append(k)
                self._wake(k, ("value", None))
            self.read_waiting = []

    def apply(self, what, k, arg):
        """One drawn operation by actor k, as the call the statement lets the judge predict (None: skipped)."""
        if self.busy(k):
            return None
        if what == 0 or (what == 1 and self.spin_owner is not None):
            got = self.spin_owner is None
            if got:
                self.spin_owner = k
            return self._call(k, "spin", "try_acquire", [], ("value", got),
                              "the spinlock is free" if got else "the spinlock is held")
        if what == 1:
            self.spin_owner = k
            return self._call(k, "spin", "acquire", [], ("value", None), "the spinlock is free")
        if what == 2:
            if self.spin_owner is None:
                return self._call(k, "spin", "release", [], ("raised", "RuntimeError"), "the spinlock is not locked")
            if self.spin_owner != k:
                return None
            self.spin_owner = None
            return self._call(k, "spin", "release", [], ("value", None), "this thread holds the spinlock")
        if what == 3:
            return self._call(k, "spin", "locked", [], ("value", self.spin_owner is not None), "")
        if what in (4, 5) and (k in self.readers or k == self.writer):
            what = 6  # a thread holding the lock releases it instead of taking it again
        if what == 4:
            if self.writer is not None or self.write_waiting is not None:
                if not self.may_block():
                    return None
                self.read_waiting.append(k)
                return self._call(k, "rw", "acquire_read", [], None,
                                  "a writer holds the lock" if self.writer is not None else "a writer waits", blocks=True)
            self.readers.append(k)
            return self._call(k, "rw", "acquire_read", [], ("value", None), "no writer holds or waits")
        if what == 5:
            if self.writer is None and not self.readers:
                self.writer = k
                return self._call(k, "rw", "acquire_write", [], ("value", None), "nobody holds the lock")
            if self.write_waiting is not None or not self.may_block():
                return None
            self.write_waiting = k
            return self._call(k, "rw", "acquire_write", [], None,
                              "a writer holds the lock" if self.writer is not None else "readers hold the lock", blocks=True)
        if what == 6:
            if k in self.readers:
                self.readers.remove(k)
                cid = self._call(k, "rw", "release_read", [], ("value", None), "this thread holds a read lock")
                self._grant_rw()
                return cid
            if k == self.writer:
                self.writer = None
                cid = self._call(k, "rw", "release_write", [], ("value", None), "this thread holds the write lock")
                self._grant_rw()
                return cid
            if arg % 2 == 0 and not self.readers:
                return self._call(k, "rw", "release_read", [], ("raised", "RuntimeError"),
                                  "no reader holds the lock" + (" (a writer does)" if self.writer is not None else ""))
            if arg % 2 == 1 and self.writer is None:
                return self._call(k, "rw", "release_write", [], ("raised", "RuntimeError"),
                                  "no writer holds the lock" + (f" ({len(self.readers)} reader(s) do)" if self.readers else ""))
            return None
        if what == 7:
            timeout = TIMEOUTS[arg]
            if self.permits > 0:
                self.permits -= 1
                return self._call(k, "sem", "acquire", [timeout], ("value", True), f"{self.permits + 1} permit(s) free")
            if timeout is not None:
                return self._call(k, "sem", "acquire", [timeout], ("value", False),
                                  "no permit is free and none comes in time")
            if self.sem_waiting is not None or not self.may_block():
                return None
            self.sem_waiting = k
            return self._call(k, "sem", "acquire", [None], None, "no permit is free", blocks=True)
        if what == 8:
            cid = self._call(k, "sem", "release", [], ("value", None), "")
            if self.sem_waiting is not None:
                self._wake(self.sem_waiting, ("value", True))
                self.sem_waiting = None
            else:
                self.permits += 1
            return cid
        return self._call(k, "sem", "available", [], ("value", self.permits), "")

    def release_everything(self):
        """The calls that end the case: every holder releases, until no call is blocked and nothing is held."""
        for _ in range(20):
            free = [k for k in range(ACTORS) if not self.busy(k)]
            if self.sem_waiting is not None:
                self.step(8, free[0], 0)
            elif self.writer is not None and not self.busy(self.writer):
                self.step(6, self.writer, 0)
            elif any(k in free for k in self.readers):
                self.step(6, next(k for k in self.readers if k in free), 0)
            elif self.spin_owner is not None:
                self.step(2, self.spin_owner, 0)
            else:
                break
        assert not self.blocked and not self.readers and self.writer is None, "the model could not end the case"
        # what is left: the spinlock free, every permit given back free, one more release adds one, which a
        # zero timeout then takes
        self.step(3, 0, 0)
        self.step(9, 0, 0)
        self.step(8, 0, 0)
        self.step(9, 0, 0)
        self.step(7, 0, 1)
        self.step(9, 0, 0)

    def step(self, what, k, arg):
        """apply(), and which calls must have returned once this one settled (in self.expected)."""
        cid = self.apply(what, k, arg)
        if cid is not None:
            self.expected.append([j for j in range(cid + 1) if j in self.values])
        return cid


def plan(case):
    permits, ops = case
    model = Model(permits)
    for i, (what, k, arg) in enumerate(ops):
        model.step(what, (i + k) % ACTORS, arg)  # by default each operation goes to the next thread
    drawn = len(model.calls)
    model.release_everything()
    return model, model.expected, drawn


def call_text(model, cid):
    k, name, method, args, why = model.calls[cid]
    text = f"thread {k}: {name}.{method}({'' if not args else 'timeout=' + repr(args[0])})"
    want = model.values.get(cid)
    if want is None:
        return f"{text} -> blocks ({why})" if why else f"{text} -> blocks"
    shown = f"raises {want[1]}" if want[0] == "raised" else f"returns {want[1]!r}"
    return f"{text} -> {shown}" + (f" ({why})" if why else "")


def show(case):
    model, _expected, drawn = plan(case)
    lines = [f"spin, rw, sem = SpinLock(), RWLock(), Semaphore({case[0]})"]
    for cid in range(len(model.calls)):
        if cid == drawn:
            lines.append("# then the case ends: every holder releases, and the counts are checked:")
        lines.append(call_text(model, cid))
    return lines


def _said(got):
    if got[0] == "raised":
        return f"raised {got[1]}: {got[2]}"
    return f"returned {got[1]!r}"


@pytest.mark.cards("test-and-set-spinlock", "writer-preferring-rwlock-reader-wait",
                   "counting-semaphore-from-condition-variable")
def test_hypothesis_operations_against_the_model(learner):
    from prep_judge.model import FailNow, check

    ns = learner.exec(source() + HELPERS + RUNNER)

    def run(case):
        permits, _ops = case
        model, expected, _drawn = plan(case)
        ops = [[k, name, method, args] for (k, name, method, args, _why) in model.calls]
        try:
            report = ns.start("run_lock_case", permits, ops, expected).result(timeout=6)
        except LearnerTimeout:
            raise FailNow("the case did not finish within 6 s: a call the statement says returns at once blocked, "
                          "or a blocked call never woke") from None
        rows = report["rows"]
        assert len(rows) == len(model.calls), "the case did not run to the end"
        outcomes = report["outcomes"]
        for cid, (must, now) in enumerate(zip(expected, rows)):
            where = f"call {cid + 1}, {call_text(model, cid)}"
            extra = sorted(set(now) - set(must))
            missing = sorted(set(must) - set(now))
            if missing:
                late = ", ".join(call_text(model, j).split(" -> ")[0] for j in missing)
                raise AssertionError(f"after {where}: {late} had not returned within 1 s; by now it must have")
            if extra:
                early = ", ".join(call_text(model, j).split(" -> ")[0] for j in extra)
                raise AssertionError(f"after {where}: {early} returned; it must still be blocked")
            for j in must:
                want, got = model.values[j], outcomes[str(j)]
                if got[0] != want[0] or got[1] != want[1]:
                    must_do = f"raise {want[1]}" if want[0] == "raised" else f"return {want[1]!r}"
                    why = model.calls[j][4]
                    raise AssertionError(f"{call_text(model, j).split(' -> ')[0]} (call {j + 1}) {_said(got)}; it must "
                                         f"{must_do}" + (f" ({why})" if why else ""))
        leftover = sorted(set(report["final"]) - set(expected[-1] if expected else []))
        assert not leftover, f"a call that must still be blocked returned at the end: call {leftover[0] + 1}"

    check(learner, cases(), run, show, seed=0x10C8, max_examples=40, shrink_runs=100)
