"""Hidden tests of red-envelope: split(total, n, seed) -> n shares, exact, >= 0.01, fair.

Canary (the red-team tests check this text never reaches the learner): PREP-CANARY-5d21e0b4-red-envelope
"""

import random
from decimal import Decimal

import pytest

from prep_judge import LearnerError

FEN = Decimal("0.01")


def shares_of(learner, total, n, seed):
    shares = learner.call("split", total, n, seed)
    assert isinstance(shares, list), f"split({total!r}, {n}, {seed}) must return a list, got {type(shares).__name__}"
    assert len(shares) == n, f"split({total!r}, {n}, {seed}) must return {n} shares, got {len(shares)}"
    return shares


def as_money(share, call):
    assert isinstance(share, str), f"{call}: every share must be a string such as '12.34', got {share!r}"
    parts = share.split(".")
    assert len(parts) == 2 and parts[0].isdigit() and len(parts[1]) == 2 and parts[1].isdigit(), (
        f"{call}: every share must be written with exactly two decimals, like '12.34'; got {share!r}"
    )
    return Decimal(share)


MANY = """
def many(split, total, n, seeds):
    return [split(total, n, seed) for seed in seeds]
"""


def splits_of(learner, total, n, seeds):
    """split(total, n, seed) for every seed, in one round trip to the learner's process."""
    got = learner.exec(MANY).call("many", learner.get("split"), total, n, list(seeds))
    for seed, shares in zip(seeds, got):
        assert isinstance(shares, list) and len(shares) == n, (
            f"split({total!r}, {n}, {seed}) must return a list of {n} shares, got {shares!r}"[:300]
        )
    return got


def check_envelope(learner, total, n, seed, shares=None):
    call = f"split({total!r}, {n}, {seed})"
    values = [as_money(s, call) for s in (shares if shares is not None else shares_of(learner, total, n, seed))]
    assert min(values) >= FEN, f"{call}: every share must be at least 0.01, got {min(values)}"
    assert sum(values) == Decimal(total), f"{call}: the shares add up to {sum(values)}, not {Decimal(total):.2f}"
    return values


def expect_value_error(learner, total, n, seed, why):
    try:
        learner.call("split", total, n, seed)
    except LearnerError as exc:
        assert exc.is_a("ValueError"), f"split({total!r}, {n}, {seed}) {why}: expected ValueError, got {exc.type}"
    else:
        raise AssertionError(f"split({total!r}, {n}, {seed}) {why}: expected ValueError, but it returned shares")


@pytest.mark.cards("red-envelope-exact-sum")
def test_sum_is_exact_over_many_envelopes(learner):
    rng = random.Random(20261126)
    for _ in range(300):
        n = rng.randint(1, 30)
        fen = rng.randint(n, 100_000)
        total = f"{fen // 100}.{fen % 100:02d}"
        check_envelope(learner, total, n, rng.randint(0, 10**9))


@pytest.mark.cards("red-envelope-money-in-cents")
def test_amounts_that_floats_cannot_hold(learner):
    for total, n in [("0.30", 3), ("0.10", 10), ("1.10", 11), ("0.70", 7), ("99999.99", 3), ("0.3", 2)]:
        for seed in range(25):
            check_envelope(learner, total, n, seed)


@pytest.mark.cards("red-envelope-exact-sum")
def test_tight_envelopes_still_give_everyone_a_fen(learner):
    for n in range(2, 12):
        for extra in range(0, 4):
            fen = n + extra
            for seed in range(12):
                check_envelope(learner, f"0.{fen:02d}" if fen < 100 else f"{fen // 100}.{fen % 100:02d}", n, seed)
    values = check_envelope(learner, "0.05", 5, 3)
    assert values == [FEN] * 5, f"split('0.05', 5, 3): five people and five fen leave one fen each, got {values}"


@pytest.mark.cards("red-envelope-exact-sum")
def test_single_share_takes_everything(learner):
    values = check_envelope(learner, "88.8", 1, 7)
    assert values == [Decimal("88.80")], f"split('88.8', 1, 7): one person takes the whole 88.80, got {values}"


@pytest.mark.cards("red-envelope-double-average")
def test_every_position_expects_the_same_share(learner):
    n, total, rounds = 5, Decimal("100.00"), 1500
    sums = [Decimal(0)] * n
    for seed, shares in enumerate(splits_of(learner, "100", n, range(rounds))):
        for i, value in enumerate(check_envelope(learner, "100", n, seed, shares)):
            sums[i] += value
    means = [s / rounds for s in sums]
    fair = total / n
    worst = max(means, key=lambda m: abs(m - fair))
    assert abs(worst - fair) < Decimal("1.5"), (
        f"over {rounds} envelopes of 100 for {n} people the average shares by opening order were "
        f"{', '.join(f'{m:.2f}' for m in means)}; each position should expect about {fair:.2f}"
    )
    assert len({tuple(check_envelope(learner, "100", n, s)) for s in range(20)}) > 1, (
        "twenty different seeds gave the same shares: the split must be random"
    )


def test_same_arguments_same_shares_whatever_the_global_random_state(learner):
    first = shares_of(learner, "66.66", 6, 99)
    learner.exec("import random\nrandom.seed(12345)\nrandom.random()")
    second = shares_of(learner, "66.66", 6, 99)
    assert first == second, (
        "split('66.66', 6, 99) gave different shares on two calls: use random.Random(seed) as the only source of randomness"
    )
    assert shares_of(learner, "66.66", 6, 100) != first, "different seeds should give different shares"



def test_split_leaves_the_global_random_generator_alone(learner):
    # random.seed(seed) and the module's functions give the same shares for the same arguments too,
    # but they reset and consume the generator the rest of the program shares
    learner.exec("import random\nrandom.seed(4242)")
    shares_of(learner, "66.66", 6, 99)
    after = learner.exec("import random\nvalue = random.random()").get("value")
    assert after == random.Random(4242).random(), (
        "split('66.66', 6, 99) changed the state of the random module's global generator (random.seed() or "
        "random.randint()?): draw every share from your own random.Random(seed), the only source of randomness"
    )

@pytest.mark.parametrize("total", ["abc", "-1", "0", "0.00", "1.234", "", "1e3", "5.", ".5", "1,00"])
def test_rejects_bad_amounts(learner, total):
    expect_value_error(learner, total, 3, 1, "is not a positive amount with at most two decimals")


def test_rejects_bad_share_counts(learner):
    expect_value_error(learner, "10", 0, 1, "has no one to share with")
    expect_value_error(learner, "10", -2, 1, "has a negative number of people")


@pytest.mark.cards("red-envelope-exact-sum")
def test_too_little_money_for_everyone(learner):
    expect_value_error(learner, "0.02", 3, 1, "cannot give three people 0.01 each")
    expect_value_error(learner, "0.99", 100, 1, "cannot give a hundred people 0.01 each")


@pytest.mark.cards("red-envelope-money-in-cents", "red-envelope-exact-sum")
def test_large_envelope(learner):
    check_envelope(learner, "200000", 100, 5)
    check_envelope(learner, "200000.01", 3, 6)


@pytest.mark.cards("red-envelope-double-average", "red-envelope-exact-sum")
def test_a_draw_may_take_all_but_a_fen_per_later_person(learner):
    """Rule 2 clamps a draw at r - (k - 1), not lower: with 3 fen for 2 people the first may take 2."""
    firsts = {shares_of(learner, "0.03", 2, seed)[0] for seed in range(60)}
    assert firsts == {"0.01", "0.02"}, (
        f"split('0.03', 2, seed) over 60 seeds gave the first person {sorted(firsts)}: each position expects "
        "1.5 fen, so both ¥0.01 and ¥0.02 must come up. With the double-average method the first draw is uniform in "
        "[1, min(2r // k, r - (k - 1))] fen = [1, 2]: clamp at r - (k - 1), which leaves exactly one fen for each "
        "person still waiting, not lower"
    )


@pytest.mark.cards("red-envelope-exact-sum")
def test_command_line_prints_the_shares(learner):
    done = learner.run_program(["100", "5", "42"], timeout=10)
    assert done.returncode == 0, f"`python3 envelope.py 100 5 42` exited {done.returncode}: {done.stderr[-300:]!r}"
    printed = done.stdout.decode() if isinstance(done.stdout, bytes) else str(done.stdout)
    expected = learner.call("split", "100", 5, 42)
    assert printed.split() == expected, (
        f"`python3 envelope.py 100 5 42` must print the shares of split('100', 5, 42), {expected}; it printed "
        f"{printed[:200]!r}"
    )
