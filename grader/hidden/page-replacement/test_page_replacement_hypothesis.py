"""Hidden tests of page-replacement with Hypothesis: trace() and faults() against the judge's model.

Hypothesis draws reference strings and frame counts (fixed seed, prep_judge.model) and compares every snapshot
with model_trace; a difference is shrunk to the shortest string that still shows it.
"""
# canary: hidden-test-page-replacement

import pytest

from prep_judge import LearnerTimeout
from test_page_replacement import ALGORITHMS, NAMES, describe_step, faults, model_trace, shown, trace


def cases():
    from hypothesis import strategies as st

    page = st.integers(0, 9)
    # a list of runs of references: Hypothesis's lists average about 5 elements, this about 25, and it still shrinks
    refs = st.lists(st.lists(page, max_size=10), max_size=10).map(lambda runs: [p for run in runs for p in run])
    return st.tuples(refs, st.integers(1, 6))


def show(algorithm, case):
    refs, frames = case
    lines = [f"trace({algorithm!r}, [{shown(refs)}], {frames}) must give, reference by reference:"]
    before = []
    for page, after in zip(refs, model_trace(algorithm, refs, frames)):
        lines.append(f"page {page}: {after}" + ("" if page in before else "  (fault)"))
        before = after
    return lines


@pytest.mark.parametrize("algorithm", [
    pytest.param("fifo", marks=pytest.mark.cards("fifo-belady-anomaly-four-frames")),
    pytest.param("lru", marks=pytest.mark.cards("page-replacement-stack-algorithms")),
    pytest.param("opt", marks=pytest.mark.cards("opt-page-replacement-unrealizable", "page-replacement-stack-algorithms")),
    pytest.param("clock", marks=pytest.mark.cards("clock-replacement-all-use-bits-set")),
])
def test_hypothesis_strings_against_the_model(learner, algorithm):
    from prep_judge.model import FailNow, check

    def run(case):
        refs, frames = case
        try:
            rows = trace(learner, algorithm, refs, frames)
        except AssertionError as exc:
            if isinstance(exc.__context__, LearnerTimeout):  # an endless loop: each run costs the whole timeout
                raise FailNow(str(exc)) from None
            raise
        problem = describe_step(refs, rows, model_trace(algorithm, refs, frames), frames, algorithm)
        assert problem is None, problem
        got = faults(learner, algorithm, refs, frames)
        counted = sum(1 for i, p in enumerate(refs) if p not in (rows[i - 1] if i else []))
        assert got == counted, (
            f"{NAMES[algorithm]} with {frames} frames on {shown(refs)}: trace() is right and shows {counted} faults, "
            f"but faults() says {got}")

    check(learner, cases(), run, lambda case: show(algorithm, case), seed=0x9A6E + ALGORITHMS.index(algorithm),
          max_examples=50, shrink_runs=200)
