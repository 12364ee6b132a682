"""Hidden tests of red-envelope with Hypothesis: split(total, n, seed) on drawn amounts, counts and seeds.

The judge's model is the statement: which totals are amounts (the pattern, not zero), when ValueError is due
(n < 1, not an amount, less than a fen each), and for the rest n shares of two decimals, each >= 0.01, adding up
exactly, the same on a second call. A failing case is shrunk to the smallest one.
"""
# canary: hidden-test-red-envelope

import re
from decimal import Decimal

import pytest

from prep_judge import LearnerError

FEN = Decimal("0.01")
PATTERN = re.compile(r"[0-9]+(\.[0-9]{1,2})?")


def amount_texts():
    from hypothesis import strategies as st

    def written(fen, style, zeros):
        yuan, cents = divmod(fen, 100)
        head = "0" * zeros + str(yuan)
        if style == 0 and cents == 0:
            return head
        if style == 1 and cents % 10 == 0:
            return f"{head}.{cents // 10}"
        return f"{head}.{cents:02d}"

    fen = st.one_of(st.integers(0, 300), st.integers(0, 10**9))
    good = st.builds(written, fen, st.integers(0, 2), st.sampled_from([0, 0, 0, 1]))
    # anything made of digits, points, signs, an exponent or a comma: the pattern decides
    other = st.text(alphabet="0123456789.-+e,", max_size=8)
    return st.one_of(good, good, other)


def cases():
    from hypothesis import strategies as st

    return st.tuples(amount_texts(), st.integers(-2, 40), st.integers(0, 2**32))


def expected_error(total, n):
    """Why split(total, n, ...) must raise ValueError, or None when it must return shares."""
    if n < 1:
        return f"n = {n} is less than one person"
    if not PATTERN.fullmatch(total):
        return f"{total!r} is not digits with an optional point and one or two digits"
    fen = int(Decimal(total) * 100)
    if fen == 0:
        return f"{total!r} is zero"
    if fen < n:
        return f"{total!r} cannot give {n} people 0.01 each"
    return None


def split(learner, total, n, seed):
    try:
        return learner.call("split", total, n, seed), None
    except LearnerError as exc:
        return None, exc


@pytest.mark.cards("red-envelope-money-in-cents", "red-envelope-exact-sum")
def test_hypothesis_envelopes_against_the_statement(learner):
    from prep_judge.model import check

    def run(case):
        total, n, seed = case
        call = f"split({total!r}, {n}, {seed})"
        why = expected_error(total, n)
        shares, exc = split(learner, total, n, seed)
        if why is not None:
            assert exc is not None, f"{call} must raise ValueError ({why}), but it returned {shares!r}"
            assert exc.is_a("ValueError"), f"{call} must raise ValueError ({why}), it raised {exc.type}: {exc.message}"
            return
        if exc is not None:
            raise AssertionError(f"{call} raised {exc.type}: {exc.message}; it must return {n} shares")
        assert isinstance(shares, list) and len(shares) == n, f"{call} must return a list of {n} shares, got {shares!r}"
        values = []
        for share in shares:
            ok = isinstance(share, str) and re.fullmatch(r"[0-9]+\.[0-9]{2}", share)
            assert ok, f"{call}: every share must be a string with exactly two decimals, like '12.34'; got {share!r}"
            values.append(Decimal(share))
        assert min(values) >= FEN, f"{call}: every share must be at least 0.01, got {min(values)} in {shares}"
        assert sum(values) == Decimal(total), (
            f"{call}: the shares add up to {sum(values)}, not {Decimal(total):.2f}: {shares}")
        again, _ = split(learner, total, n, seed)
        assert again == shares, f"{call} gave {shares} and then {again!r}: the same arguments must give the same shares"

    def show(case):
        total, n, seed = case
        why = expected_error(total, n)
        return [f"split({total!r}, {n}, {seed})  # " + (f"must raise ValueError: {why}" if why else
                                                         f"must return {n} shares adding up to {Decimal(total):.2f}")]

    check(learner, cases(), run, show, seed=0x4E5E, max_examples=200)
