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


def test_examples_run_first_and_a_failing_one_is_shown_as_given(model):
    seen = []

    def run(ops):
        seen.append(list(ops))
        sums_under_100(ops)

    exc = failure(model, run, examples=([70, 40],))
    assert seen == [[70, 40]]  # first, and not shrunk
    text = str(exc)
    assert text.startswith("the sum reached 110") and "The failing case (one the test runs before any it draws), 2 lines" in text
    seen.clear()
    model.check(FakeLearner(), st.lists(st.integers(0, 3), max_size=5), run, show, seed=1, examples=([1, 2], [3]))
    assert seen[:2] == [[1, 2], [3]] and len(seen) > 2  # then the drawn cases


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


def test_near_the_limit_no_case_drawn_is_a_failure_saying_so(model):
    runs = []

    def run(ops):
        runs.append(1)

    with pytest.raises(model.TooSlow) as info:
        model.check(FakeLearner(seconds=2.0), st.lists(st.integers()), run, show, seed=1, max_examples=1000)
    assert runs == []  # 2 s left is under the margin: no case drawn
    assert "only 0 of 1000 cases checked before the time limit" in str(info.value)
    assert isinstance(info.value, AssertionError)  # the judge's status for it: failed


def slow_run(seconds):
    def run(ops):
        time.sleep(seconds)

    return run


def test_too_few_cases_before_the_limit_fail_with_the_count(model):
    # 5 s left: drawing stops after 1.5 s (the 3.5 s margin); at 0.25 s a case, about 6 of 100 run, under 20
    with pytest.raises(model.TooSlow) as info:
        model.check(FakeLearner(seconds=5.0), st.lists(st.integers()), slow_run(0.25), show, seed=1)
    text = str(info.value)
    ran = int(text.split("only ", 1)[1].split(" of", 1)[0])
    assert ran < 20 and "of 100 cases checked" in text and "at least 20 must be" in text
    assert "too slow" in text


def test_enough_cases_before_the_limit_pass(model):
    # 8 s left: drawing stops after 4.5 s, about 18 cases of 100 run, and a floor of 3 is reached
    model.check(FakeLearner(seconds=8.0), st.lists(st.integers()), slow_run(0.25), show, seed=1, min_examples=3)


def test_the_floor_does_not_apply_when_every_case_ran(model):
    # every case runs long before the margin (even on a loaded machine): the floor is never looked at
    model.check(FakeLearner(seconds=60.0), st.lists(st.integers(0, 3), max_size=3), slow_run(0.0), show, seed=1,
                max_examples=50, min_examples=50)


def test_a_learner_error_keeps_its_kind_and_gets_the_case(model):
    from prep_judge.client import LearnerError

    def run(ops):
        if len(ops) >= 2:
            raise LearnerError("KeyError", "boom", what="alloc()")

    exc = failure(model, run)
    assert isinstance(exc, LearnerError) and exc.type == "KeyError"
    assert "boom" in str(exc) and "add(" in str(exc)
