"""Model-based hidden tests with Hypothesis: the settings every such test uses, in one place.

A model-based test generates whole cases (an arena and a list of operations, say), drives the
submission through each case, compares every step with a model written in the test, and raises
AssertionError at the first difference. Hypothesis then shrinks the failing case, and the learner
gets the assertion's message followed by the smallest failing case found, written as calls:

    from hypothesis import strategies as st
    from prep_judge.model import check

    def test_operations_against_the_model(learner):
        def run(ops):                                  # one case
            ...                                        # AssertionError(...) at the first difference
        def show(ops):                                 # the case as lines of Python calls
            return [f"b.alloc({n})" for n in ops]
        check(learner, st.lists(st.integers(1, 64), max_size=40), run, show, seed=0xB0DD1)

Same code, same verdict, same message: the seed is fixed (`seed=`, one per test), there is no example
database (nothing is written in the sandbox), no deadline (a slow call is the test's time limit's
business, not a flaky failure), the budget is a number of examples and a number of shrinking runs,
not a time. Time matters only when the test's limit comes close (a machine far busier than usual, or a slow
submission): then drawing stops, and the test passes with the cases that ran if they are at least a
floor (`min_examples`, by default a fifth of `max_examples`: far below what a correct solution checks on a
loaded machine, docs/grading.md gives the figures) and fails if fewer could be checked, saying so: a
submission too slow to be checked is not taken as correct. Or shrinking stops and the smallest failing
case so far is shown.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, Phase, example as _example, given, seed as _seed, settings as _settings

from .client import HarnessError, LearnerBuildError, LearnerDied, LearnerError, LearnerImportError, LearnerTimeout

SHRINK_RUNS = 400  # runs of the case after the first failure, at most
SHRINK_MARGIN = 2.0  # seconds before the test's limit at which shrinking stops with the smallest case so far
# seconds before the test's limit at which new cases stop being drawn while none has failed: on a machine so busy
# that the examples do not fit in the limit, the test passes with those that ran rather than time out a correct
# submission (at least this, or this share of the test's time)
GENERATE_MARGIN = 3.5
GENERATE_SHARE = 0.4
# when drawing stopped for time, at least this share of max_examples must have been checked, or the test fails
MIN_SHARE = 0.2
STEPS_SHOWN = 40  # lines of the failing case in the message
STEPS_CHARS = 1300
WHAT_CHARS = 600


def settings(max_examples: int = 100, stateful_step_count: int = 30, **more) -> _settings:
    """The Hypothesis settings of every hidden test: no database, derandomized, no deadline, no blob,
    one failure reported, a bounded number of examples (and of steps, for a RuleBasedStateMachine)."""
    return _settings(
        database=None,
        derandomize=True,
        deadline=None,
        print_blob=False,
        max_examples=max_examples,
        stateful_step_count=stateful_step_count,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        **more,
    )


class _StopShrinking(BaseException):
    """Shrinking used its budget: report the smallest failing case seen so far (BaseException: Hypothesis lets it through)."""


class FailNow(AssertionError):
    """A failure not worth shrinking, raised by a test's `run`: each run of it is slow (a call that had to time out,
    an endless loop in the submission), so the case that found it is shown as it is."""


class _OutOfTime(BaseException):
    """No case failed and the test's time is running out: stop drawing cases."""


class _Abort(BaseException):
    """The submission's process died, hung or did not import: no point in running more cases."""

    def __init__(self, exc: BaseException, case) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.case = case


class TooSlow(AssertionError):
    """Drawing stopped for time before `min_examples` cases were checked: the verdict is a failure, not a pass."""


def check(learner, strategy, run, show, *, seed: int, max_examples: int = 100, shrink_runs: int = SHRINK_RUNS,
          min_examples: int | None = None, examples: tuple = ()) -> None:
    """Run `run(case)` on cases drawn from `strategy` (seeded with `seed`); on a failure, raise it again with
    the smallest failing case, as the lines `show(case)` gives, added to its message.

    `examples`: cases run first, before any is drawn (and not shrunk): a mistake that drawn cases reach only
    after many is caught however slow the submission is (the floor below lets a slow one stop early).

    Near the test's time limit no new case is drawn; if fewer than `min_examples` cases (default: MIN_SHARE of
    `max_examples`, at least 1) were checked by then, the test fails with TooSlow.

    `run` raises AssertionError (a difference from the model) or lets a LearnerError through (the submission
    raised where it must not): both are failures Hypothesis shrinks. FailNow, a learner process that died, a call
    that timed out and an import error stop the test at once, with the case that was running (not shrunk)."""
    deadline = getattr(learner, "_deadline", None)
    stop_drawing = None
    if deadline is not None:
        left = deadline - time.monotonic()
        stop_drawing = deadline - max(GENERATE_MARGIN, GENERATE_SHARE * left)
    floor = max(1, int(max_examples * MIN_SHARE)) if min_examples is None else min_examples
    state = {"last": None, "best": None, "failed": False, "after": 0, "ran": 0}

    def one_case(case):
        if state["failed"]:
            state["after"] += 1
            if state["after"] > shrink_runs or (deadline is not None and deadline - time.monotonic() < SHRINK_MARGIN):
                raise _StopShrinking()
        elif stop_drawing is not None and time.monotonic() > stop_drawing:
            raise _OutOfTime()
        state["last"] = case
        if not state["failed"]:
            state["ran"] += 1
        try:
            run(case)
        except (FailNow, LearnerImportError, LearnerBuildError, LearnerDied, LearnerTimeout, HarnessError) as exc:
            raise _Abort(exc, case) from None
        except (AssertionError, LearnerError) as exc:
            lines = _lines(show, case)
            key = (len(lines), sum(len(line) for line in lines))
            if state["best"] is None or key < state["best"][0]:
                state["best"] = (key, case, exc)
            state["failed"] = True
            raise

    def _given(case) -> bool:
        return any(case == example for example in examples)

    for case in reversed(examples):  # decorators apply inside out: the first example runs first
        one_case = _example(case)(one_case)
    one_case = _settings(settings(max_examples))(_seed(seed)(given(strategy)(one_case)))
    try:
        one_case()
    except _OutOfTime:
        if state["ran"] < floor:
            raise TooSlow(
                f"only {state['ran']} of {max_examples} cases checked before the time limit (at least {floor} must be): "
                "the solution is too slow for this test (the reference checks several times that many in the same "
                "time, even on a heavily loaded machine)") from None
        return
    except _Abort as abort:
        raise _with_case(abort.exc, _lines(show, abort.case), GIVEN if _given(abort.case) else SHRUNK) from None
    except _StopShrinking:
        _, case, exc = state["best"]
        raise _with_case(exc, _lines(show, case)) from None
    except (AssertionError, LearnerError) as exc:  # Hypothesis ran the shrunk case (or the example) last and raised it
        raise _with_case(exc, _lines(show, state["last"]), GIVEN if _given(state["last"]) else SHRUNK) from None
    except Exception:
        if state["best"] is None:  # Hypothesis itself complained (a bug of the hidden test)
            raise
        _, case, exc = state["best"]  # e.g. a failure Hypothesis could not reproduce: the smallest one seen
        raise _with_case(exc, _lines(show, case)) from None


def _lines(show, case) -> list[str]:
    try:
        return [str(line) for line in show(case)]
    except Exception as exc:  # the hidden test's own bug: still say something
        return [f"{case!r} (could not be shown: {type(exc).__name__}: {exc})"]


def _steps(lines: list[str], heading: str) -> str:
    shown, size = [], 0
    for line in lines[:STEPS_SHOWN]:
        if size + len(line) > STEPS_CHARS:
            break
        shown.append(line)
        size += len(line) + 3
    more = len(lines) - len(shown)
    tail = f"\n  ... ({more} more)" if more else ""
    return f"\n{heading}, {len(lines)} line{'s' if len(lines) != 1 else ''}:\n  " + "\n  ".join(shown) + tail


def _what(text: str) -> str:
    text = str(text).strip()
    return text if len(text) <= WHAT_CHARS else text[:WHAT_CHARS] + "..."


SHRUNK = "The smallest failing case Hypothesis found (fixed seed, shrunk)"
NOT_SHRUNK = "The smallest failing case Hypothesis found (fixed seed, not shrunk: each run is slow)"
GIVEN = "The failing case (one the test runs before any it draws)"


def _with_case(exc: BaseException, lines: list[str], heading: str = SHRUNK) -> BaseException:
    """The same failure, with the case in its message (the status the judge gives it does not change)."""
    steps = _steps(lines, heading)
    if isinstance(exc, FailNow):
        return AssertionError(_what(str(exc)) + steps.replace(SHRUNK, NOT_SHRUNK))
    if isinstance(exc, AssertionError):
        return AssertionError(_what(str(exc) or "a check of the hidden test failed") + steps)
    if isinstance(exc, (LearnerImportError, LearnerBuildError)):
        return exc  # not about the case
    if isinstance(exc, LearnerError):
        return LearnerError(exc.type, _what(exc.message) + steps, exc.traceback, exc.mro, exc.what)
    if isinstance(exc, LearnerDied):
        return LearnerDied(exc.reason, _what(str(exc)) + steps, exc.returncode, exc.signal)
    if isinstance(exc, LearnerTimeout):
        return LearnerTimeout(_what(str(exc)) + steps)
    return exc
