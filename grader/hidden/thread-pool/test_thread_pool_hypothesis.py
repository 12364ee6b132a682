# canary: hidden-test-thread-pool
"""Hidden tests of thread-pool with Hypothesis: drawn sequences of submits, gates, shutdowns, against a model.

Hypothesis draws a pool (1 to 3 workers, a queue of 1 to 3) and a list of operations: submit a task that returns
a value (None, 0, "", an exception object among them), one that raises (SystemExit among them) or one that
blocks on one of three gates; open a gate; shutdown(wait=False) with or without cancel_pending. The judge's model
of the statement (FIFO, `workers` tasks at once, at most `queue_size` waiting, QueueFull, RuntimeError after
shutdown, cancelled tasks never run) decides, after each operation once the pool has settled, which tasks have
started, which futures are done or cancelled, and what each call did; at the end, every gate open and
shutdown(wait=True), what result() and exception() give for every future. The helper in the learner's process
runs the operations and reports what happened (it holds no expected value, only how long to wait for the pool
to settle); a failing case is shrunk to the smallest one.
"""

import pytest

from prep_judge import LearnerTimeout
from prep_judge.threads import source
from test_thread_pool import HELPERS

RUNNER = r'''

class Returned:
    """What a task returns, built in the learner's process (an exception object is a value like another)."""
    @staticmethod
    def make(spec):
        if isinstance(spec, list) and spec and spec[0] == "exception-object":
            return ValueError(spec[1])
        return spec

def raising(spec):
    kind, message = spec
    if kind == "SystemExit":
        return SystemExit(message)
    return {"ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}[kind](message)

def plain(value):
    """A value as data the judge can read."""
    if isinstance(value, BaseException):
        return ["exception-object", type(value).__name__, str(value)]
    return value

def outcome(fn):
    try:
        return ["value", plain(fn())]
    except BaseException as exc:
        return ["raised", type(exc).__name__, str(exc)[:120]]

def run_model_case(workers, queue_size, ops, targets):
    """Run ops on Pool(workers, queue_size); after each one wait (bounded) for the pool to settle as far as
    `targets` says (how many tasks started, which futures are done), then report what is so."""
    gates = [threading.Event() for _ in range(3)]
    started = []
    lock = threading.Lock()
    futures = []

    def task(tag, kind, arg):
        with lock:
            started.append(tag)
        if kind == "gate":
            gates[arg].wait(5)
            return tag
        if kind == "raise":
            raise raising(arg)
        return Returned.make(arg)

    pool = threadpool.Pool(workers, queue_size)
    rows = []
    try:
        for (op, target) in zip(ops, targets):
            what = op[0]
            if what == "submit":
                _, tag, kind, arg, block = op
                def go(tag=tag, kind=kind, arg=arg, block=block):
                    f = pool.submit(task, tag, kind, arg, block=block)
                    futures.append(f)
                    return "a Future"
                got = outcome(go)
            elif what == "open":
                gates[op[1]].set()
                got = ["value", None]
            else:
                got = outcome(lambda: pool.shutdown(wait=False, cancel_pending=op[1]))
            n_started, done_idx = target
            wait_until(lambda: len(started) >= n_started and all(futures[i].done() for i in done_idx
                                                                 if i < len(futures)), 0.5)
            with lock:
                now = list(started)
            rows.append([got, now, [f.done() for f in futures], [f.cancelled() for f in futures]])
    finally:
        for g in gates:
            g.set()
        end = outcome(lambda: shutdown_bounded(pool, 3, wait=True)[0])
    final = [[outcome(lambda f=f: f.result(0.5)), outcome(lambda f=f: f.exception(0.5)), f.done(), f.cancelled()]
             for f in futures]
    return {"rows": rows, "final": final, "shutdown": end, "started": list(started)}
'''

VALUES = [None, ["exception-object", "returned, not raised"], 0, "", 1, "x"]
ERRORS = [["ValueError", "task failed"], ["SystemExit", "3"], ["KeyError", "k"], ["RuntimeError", "oops"]]


def cases():
    from hypothesis import strategies as st

    # each operation is three small ints, shrinking towards (0, 0, 0): a blocking submit of a task returning None
    op = st.tuples(st.integers(0, 19), st.integers(0, 5), st.integers(0, 3)).map(decode)
    return st.tuples(st.integers(1, 3), st.integers(1, 3), st.lists(op, min_size=1, max_size=14))


def decode(m):
    """submit 15 in 20 (a value 6, a raise 3, a gate 6; block=False one in four), open a gate 3 in 20,
    shutdown(wait=False) 2 in 20 (cancel_pending one in two)."""
    kind, n, flag = m
    if kind < 15:
        return ("submit", "value" if kind < 6 else "raise" if kind < 9 else "gate", n, flag != 3)
    if kind < 18:
        return ("open", n % 3)
    return ("shutdown", kind == 19)


class Model:
    """The statement's pool: a FIFO of accepted tasks, `workers` of them run at once, gated ones until their
    gate opens; a task that does not block finishes at once."""

    def __init__(self, workers, queue_size):
        self.workers, self.size = workers, queue_size
        self.tasks = []  # [tag, kind, arg, state]: queued, running, done, cancelled
        self.queue = []  # indexes, FIFO
        self.gates = [False] * 3
        self.closed = False
        self.started = []

    def running(self):
        return [i for i, t in enumerate(self.tasks) if t[3] == "running"]

    def settle(self):
        for i in self.running():
            if self.gates[self.tasks[i][2]]:
                self.tasks[i][3] = "done"
        while self.queue and len(self.running()) < self.workers:
            i = self.queue.pop(0)
            self.started.append(self.tasks[i][0])
            blocked = self.tasks[i][1] == "gate" and not self.gates[self.tasks[i][2]]
            self.tasks[i][3] = "running" if blocked else "done"

    def apply(self, op):
        """The op as the helper runs it, what the call must do, and why."""
        if op[0] == "open":
            self.gates[op[1]] = True
            self.settle()
            return op, ("value", None), f"gate {op[1]} opens"
        if op[0] == "shutdown":
            self.closed = True
            if op[1]:
                for i in self.queue:
                    self.tasks[i][3] = "cancelled"
                self.queue = []
            self.settle()
            return op, ("value", None), "shutdown" + (": the queued tasks are cancelled" if op[1] else "")
        _, kind, n, block = op
        tag = f"t{len(self.tasks)}"
        arg = VALUES[n] if kind == "value" else ERRORS[n % len(ERRORS)] if kind == "raise" else n % 3
        full = len(self.queue) >= self.size
        if full:
            block = False  # a blocking submit would wait for ever: ask without blocking
        sent = ("submit", tag, kind, arg, block)
        if self.closed:
            return sent, ("raised", "RuntimeError"), "the pool was shut down"
        if full:
            return sent, ("raised", "QueueFull"), f"{len(self.running())} tasks run and {len(self.queue)} wait, the most the queue holds"
        self.tasks.append([tag, kind, arg, "queued"])
        self.queue.append(len(self.tasks) - 1)
        self.settle()
        return sent, ("value", "a Future"), "accepted"

    def target(self):
        return [len(self.started), [i for i, t in enumerate(self.tasks) if t[3] in ("done", "cancelled")]]


def plan(case):
    workers, size, ops = case
    model = Model(workers, size)
    steps = []
    for op in ops:
        sent, want, why = model.apply(op)
        steps.append((sent, want, why, model.target(), [t[3] for t in model.tasks], list(model.started)))
    return model, steps


def call_text(sent):
    if sent[0] == "open":
        return f"gate[{sent[1]}].open()"
    if sent[0] == "shutdown":
        return f"pool.shutdown(wait=False, cancel_pending={sent[1]})"
    _, tag, kind, arg, block = sent
    if kind == "gate":
        does = f"waits for gate[{arg}], returns {tag!r}"
    elif kind == "raise":
        does = f"raises {arg[0]}({arg[1]!r})"
    else:
        does = f"returns {_value_text(arg)}"
    return f"{tag} = pool.submit(task_that_{kind}, block={block})  # {does}"


def _value_text(value):
    if isinstance(value, list) and value and value[0] == "exception-object":
        return f"the object ValueError({value[-1]!r})"
    return repr(value)


def show(case):
    workers, size, _ops = case
    _, steps = plan(case)
    return [f"pool = Pool({workers}, {size})"] + [call_text(s[0]) for s in steps] + [
        "every gate opens; pool.shutdown(wait=True); then result() and exception() of every future"]


def _said(got):
    if got[0] == "raised":
        return f"raised {got[1]}: {got[2]}"
    return f"returned {_value_text(got[1])}"


@pytest.mark.cards("thread-pool-bounded-queue", "thread-pool-future-exception", "condition-wait-in-while-loop")
def test_hypothesis_operations_against_the_model(learner):
    from prep_judge.model import FailNow, check

    ns = learner.exec(source() + HELPERS + RUNNER)

    def run(case):
        workers, size, _ops = case
        model, steps = plan(case)
        try:
            report = ns.start("run_model_case", workers, size, [s[0] for s in steps],
                              [s[3] for s in steps]).result(timeout=6)
        except LearnerTimeout:
            raise FailNow("the case did not finish in time: a submit() or shutdown() that must return at once "
                          "blocked, or result() waited for a task that had finished") from None
        rows = report["rows"]
        assert len(rows) == len(steps), "the case did not run to the end"
        for k, ((sent, want, why, _target, states, started), (got, now, done, cancelled)) in enumerate(zip(steps, rows)):
            where = f"step {k + 1}, {call_text(sent).split('  #')[0]}"
            if got[0] != want[0] or (want[0] == "raised" and got[1] != want[1]):
                must = "return a Future" if want == ("value", "a Future") else (
                    "return" if want[0] == "value" else f"raise {want[1]}")
                raise AssertionError(f"{where}: it {_said(got)}; it must {must} ({why})")
            if sorted(now) != sorted(started):
                extra = sorted(set(now) - set(started))
                missing = sorted(set(started) - set(now))
                raise AssertionError(
                    f"{where}: the tasks started so far were {now}; they must be {started} (FIFO, "
                    f"{workers} at once, cancelled tasks never run)"
                    + (f"; {missing} had not started within 0.5 s although a worker was free" if missing else "")
                    + (f"; {extra} must not have started" if extra else ""))
            for i, state in enumerate(states):
                tag = f"t{i}"
                if i >= len(done):
                    raise AssertionError(f"{where}: {tag} was accepted but no future came back")
                if done[i] != (state in ("done", "cancelled")):
                    raise AssertionError(f"{where}: {tag}.done() is {done[i]}; the task is {state}, so it must be "
                                         f"{state in ('done', 'cancelled')}")
                if cancelled[i] != (state == "cancelled"):
                    raise AssertionError(f"{where}: {tag}.cancelled() is {cancelled[i]}; the task is {state}")
        assert report["shutdown"] == ["value", True], (
            f"with every gate open, shutdown(wait=True) did not return within 3 s ({report['shutdown']})")
        for i, (tag, kind, arg, state) in enumerate(model.tasks):
            result, exception, done, cancelled = report["final"][i]
            what = "was cancelled" if state == "cancelled" else (
                f"raised {arg[0]}({arg[1]!r})" if kind == "raise" else
                f"returned {_value_text(tag if kind == 'gate' else arg)}")
            if state == "cancelled":
                good_r = result[:2] == ["raised", "CancelledError"]
                good_e = exception[:2] == ["raised", "CancelledError"]
            elif kind == "raise":
                good_r = result[:2] == ["raised", arg[0]] and result[2] in (arg[1], repr(arg[1]))
                good_e = exception[0] == "value" and isinstance(exception[1], list) and exception[1][:2] == [
                    "exception-object", arg[0]]
            else:
                value = tag if kind == "gate" else arg
                if isinstance(value, list):
                    value = ["exception-object", "ValueError", value[1]]
                good_r = result == ["value", value]
                good_e = exception == ["value", None]
            if not good_r:
                raise AssertionError(f"at the end, {tag}.result() {_said(result)}; the task {what}")
            if not good_e:
                raise AssertionError(f"at the end, {tag}.exception() {_said(exception)}; the task {what}")
            if not done or cancelled != (state == "cancelled"):
                raise AssertionError(f"at the end, {tag}.done() is {done} and cancelled() {cancelled}; the task {what}")

    check(learner, cases(), run, show, seed=0x7B003, max_examples=50, shrink_runs=60)
