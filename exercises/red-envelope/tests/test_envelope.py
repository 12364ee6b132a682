"""Visible tests: run them with `prep test red-envelope`."""

from decimal import Decimal

import pytest

from envelope import split


def test_shares_add_up_exactly_and_are_at_least_one_fen():
    shares = split("100", 10, seed=1)
    assert len(shares) == 10
    assert sum(Decimal(s) for s in shares) == Decimal("100.00")
    assert all(Decimal(s) >= Decimal("0.01") for s in shares)


def test_same_seed_same_shares():
    assert split("8.88", 4, seed=7) == split("8.88", 4, seed=7)


def test_too_little_money_is_an_error():
    with pytest.raises(ValueError):
        split("0.02", 3, seed=1)
