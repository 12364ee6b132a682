"""prep_judge.model.check, the settings of the model-based hidden tests, without a sandbox: a fake learner."""

import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("hypothesis")
from hypothesis import strategies as st  # noqa: E402

RUNTIME = Path(__file__).resolve().parent.parent / "grader" / "runtime"


@pytest.fixture
def model(monkeypatch):
    monkeypatch.syspath_prepend(str(RUNTIME))
    for name in [m for m in sys.modules if m == "prep_judge" or m.startswith("prep_judge.")]:
        monkeypatch.delitem(sys.modules, name)
    import prep_judge.model

    return prep_judge.model


class FakeLearner:
    def __init__(self, seconds=10.0):
        self._deadline = time.monotonic() + seconds


def show(ops):
    return [f"add({x})" for x in ops]


def sums_under_100(ops):
    total = 0
    for x in ops:
        total += x
        assert total < 100, f"the sum reached {total}"


def failure(model, run, **kw):
    with pytest.raises(BaseException) as info:
        model.check(FakeLearner(), st.lists(st.integers(0, 60), max_size=20), run, show, seed=1, **kw)
    return info.value


def test_a_failure_is_shrunk_and_shown_the_same_every_time(model):
    first = failure(model, sums_under_100)
    second = failure(model, sums_under_100)
    assert isinstance(first, AssertionError)
    assert str(first) == str(second)
    text = str(first)
    assert text.startswith("the sum reached")
    assert "The smallest failing case Hypothesis found (fixed seed, shrunk)" in text
    lines = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    assert lines and all(line.startswith("add(") for line in lines)
    assert sum(int(line[4:-1]) for line in lines) >= 100 and len(lines) <= 4


def test_a_passing_run_returns(model):
    model.check(FakeLearner(), st.lists(st.integers(0, 3), max_size=5), sums_under_100, show, seed=1)


def test_failnow_is_not_shrunk(model):
    seen = []

    def run(ops):
        seen.append(list(ops))
        if sum(ops) >= 100:
            raise model.FailNow("hung")

    exc = failure(model, run)
    assert isinstance(exc, AssertionError) and "not shrunk" in str(exc)
    assert sum(seen[-1]) >= 100 and len([s for s in seen if sum(s) >= 100]) == 1


def test_the_shrink_budget_ends_with_the_smallest_case_so_far(model):
    runs = []

    def run(ops):
        runs.append(1)
        sums_under_100(ops)

    exc = failure(model, run, shrink_runs=3)
    assert isinstance(exc, AssertionError) and "the sum reached" in str(exc)
    assert len(runs) <= 200


def test_near_the_limit_drawing_stops_and_the_test_passes(model):
    runs = []

    def run(ops):
        runs.append(1)

    model.check(FakeLearner(seconds=2.0), st.lists(st.integers()), run, show, seed=1, max_examples=1000)
    assert runs == []  # 2 s left is under the margin: no case drawn


def test_a_learner_error_keeps_its_kind_and_gets_the_case(model):
    from prep_judge.client import LearnerError

    def run(ops):
        if len(ops) >= 2:
            raise LearnerError("KeyError", "boom", what="alloc()")

    exc = failure(model, run)
    assert isinstance(exc, LearnerError) and exc.type == "KeyError"
    assert "boom" in str(exc) and "add(" in str(exc)
