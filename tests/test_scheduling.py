"""Scheduling: the fsrs wrapper against fsrs itself, fuzz, replay, the learner's days, settings."""

from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

import fsrs
import pytest

from prep.errors import InputError
from prep.scheduling import (
    LEARNING,
    REVIEW,
    CardState,
    Scheduler,
    day_start,
    format_interval,
    fuzz_range,
    local_day,
    next_day_start,
)
from prep.settings import QuizSettings, parse_duration, quiz_settings

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)

# (days after T0, rating): learning steps, graduation, lapses, relearning, long gaps
SEQUENCE = [
    (0, 3), (0.001, 1), (0.002, 3), (0.01, 3), (2, 3), (9, 4), (40, 3), (120, 1), (120.01, 2),
    (120.02, 3), (124, 3), (140, 2), (200, 3), (420, 1), (420.01, 3), (423, 4),
]


def no_fuzz(**changes) -> QuizSettings:
    return QuizSettings(fuzz=False, **changes)


def test_each_review_matches_fsrs_computed_directly():
    ours = Scheduler(no_fuzz())
    theirs = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=1, due=T0)
    state = None
    for days, rating in SEQUENCE:
        at = T0 + timedelta(days=days)
        card, _ = theirs.review_card(card, fsrs.Rating(rating), review_datetime=at)
        state = ours.review(state, "c", rating, at)
        assert (state.state, state.step, state.due, state.last_review) == (int(card.state), card.step, card.due, card.last_review)
        assert state.stability == pytest.approx(card.stability, abs=0)
        assert state.difficulty == pytest.approx(card.difficulty, abs=0)


def test_desired_retention_and_steps_reach_fsrs():
    settings = no_fuzz(desired_retention=0.8, learning_steps=(timedelta(minutes=5),), relearning_steps=())
    ours = Scheduler(settings)
    theirs = fsrs.Scheduler(desired_retention=0.8, learning_steps=(timedelta(minutes=5),), relearning_steps=(), enable_fuzzing=False)
    card, state = fsrs.Card(card_id=1, due=T0), None
    for days, rating in SEQUENCE:
        at = T0 + timedelta(days=days)
        card, _ = theirs.review_card(card, fsrs.Rating(rating), review_datetime=at)
        state = ours.review(state, "c", rating, at)
        assert (state.state, state.due) == (int(card.state), card.due)


def test_fuzz_is_seeded_per_review_within_fsrs_range_and_leaves_the_global_generator_alone():
    fuzzed, plain = Scheduler(QuizSettings()), Scheduler(no_fuzz())
    random.seed(1234)
    before = random.getstate()
    state = None
    checked = 0
    for days, rating in SEQUENCE:
        at = T0 + timedelta(days=days)
        expected = plain.review(state, "card-a", rating, at)
        got = fuzzed.review(state, "card-a", rating, at)
        # fuzz moves only the due date, and only as far as py-fsrs would
        assert (got.state, got.step, got.stability, got.difficulty) == (expected.state, expected.step, expected.stability, expected.difficulty)
        days_unfuzzed = (expected.due - at).days
        if expected.state == REVIEW and days_unfuzzed >= 3:
            low, high = fuzz_range(days_unfuzzed, 36500)
            assert low <= (got.due - at).days <= high
            checked += 1
        else:
            assert got.due == expected.due
        # the same card, moment and rating give the same due date, every time
        assert fuzzed.review(state, "card-a", rating, at) == got
        state = got
    assert checked >= 5
    assert random.getstate() == before, "fuzz must not draw from the global random generator"


def test_fuzz_spreads_cards_learnt_together():
    scheduler = Scheduler(QuizSettings())
    dues = {(scheduler.review(None, f"card-{i}", 4, T0).due - T0).days for i in range(60)}
    low, high = fuzz_range(8, 36500)
    assert dues <= set(range(low, high + 1))
    assert len(dues) >= 3


def test_replaying_the_log_rebuilds_the_state():
    scheduler = Scheduler(QuizSettings())  # with fuzz: it is seeded by card and moment, so replay agrees
    state = None
    log = []
    for days, rating in SEQUENCE:
        at = T0 + timedelta(days=days)
        state = scheduler.review(state, "card-a", rating, at)
        log.append((rating, at))
    random.shuffle(log)  # order of the log rows does not matter
    assert scheduler.replay("card-a", log) == state


def test_preview_is_what_each_rating_gives_before_fuzz():
    scheduler = Scheduler(QuizSettings())
    preview = scheduler.preview(None, "c", T0)
    assert preview == {1: timedelta(minutes=1), 2: timedelta(minutes=5, seconds=30), 3: timedelta(minutes=10), 4: timedelta(days=8)}
    plain = Scheduler(no_fuzz())
    state = plain.review(plain.review(None, "c", 3, T0), "c", 3, T0 + timedelta(minutes=10))
    later = T0 + timedelta(days=5)
    assert scheduler.preview(state, "c", later) == {r: plain.review(state, "c", r, later).due - later for r in (1, 2, 3, 4)}


def test_preview_spans_hold_every_fuzzed_interval_and_are_exact_without_fuzz():
    from prep.scheduling import format_span

    fuzzed = Scheduler(QuizSettings())
    state = fuzzed.review(None, "c", 4, T0)  # in review, due in 8 days
    at = state.due
    spans = fuzzed.preview_spans(state, "c", at)
    assert spans[1][0] == spans[1][1]  # relearning: not fuzzed
    for rating in (2, 3, 4):
        low, high = spans[rating]
        assert low < high
        for second in range(0, 86400, 3607):  # whatever the moment of the rating, the interval is within the span
            moment = at + timedelta(seconds=second)
            given = fuzzed.review(state, "c", rating, moment).due - moment
            assert low <= given <= high, (rating, given)
    plain = Scheduler(no_fuzz())
    assert plain.preview_spans(state, "c", at) == {r: (d, d) for r, d in plain.preview(state, "c", at).items()}
    assert format_span(timedelta(days=7), timedelta(days=9)) == "7-9d"
    assert format_span(timedelta(days=28), timedelta(days=33)) == "28d-1.1mo"
    assert format_span(timedelta(minutes=10), timedelta(minutes=10)) == "10m"


def test_bury_and_suspend_survive_a_review():
    scheduler = Scheduler(no_fuzz())
    state = CardState.new("c", T0).with_flags(suspended=True)
    after = scheduler.review(state, "c", 3, T0)
    assert after.suspended and after.state == LEARNING


def test_card_state_rows_round_trip_and_zero_is_not_none():
    state = CardState("c", REVIEW, None, 0.0, 0.0, T0, T0 - timedelta(days=3), T0 + timedelta(hours=5), True)
    assert CardState.from_row(state.to_row()) == state
    assert CardState.from_row(state.to_row()).stability == 0.0
    new = CardState.new("n", T0)
    assert CardState.from_row(new.to_row()) == new


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        Scheduler().review(None, "c", 3, datetime(2026, 3, 1, 9))


def test_the_learners_day_is_local_and_starts_at_four(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # UTC+8, no DST
    time.tzset()
    try:
        late = datetime(2026, 3, 1, 19, 30, tzinfo=timezone.utc)  # 03:30 on 2 March in Shanghai
        assert local_day(late, 4) == date(2026, 3, 1)  # before 04:00: still the 1st
        assert local_day(late + timedelta(hours=1), 4) == date(2026, 3, 2)
        assert local_day(late, 0) == date(2026, 3, 2)
        assert day_start(date(2026, 3, 2), 4) == datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)
        assert next_day_start(late, 4) == datetime(2026, 3, 1, 20, 0, tzinfo=timezone.utc)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_intervals_read_like_ankis():
    assert [format_interval(timedelta(seconds=s)) for s in (30, 60, 330, 3600 * 5, 86400 * 3, 86400 * 45, 86400 * 800)] == [
        "30s", "1m", "6m", "5h", "3d", "1.5mo", "2.2y"
    ]


# --- settings --------------------------------------------------------------------------


def test_settings_default_without_a_file(tmp_path):
    assert quiz_settings(tmp_path / "absent.toml") == QuizSettings()


def test_settings_file_is_read(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[quiz]\ndesired_retention = 0.85\nnew_per_day = 5\nlearning_steps = ["30s", "5m", "1h"]\nfuzz = false\n')
    settings = quiz_settings(path)
    assert settings.desired_retention == 0.85 and settings.new_per_day == 5 and not settings.fuzz
    assert settings.learning_steps == (timedelta(seconds=30), timedelta(minutes=5), timedelta(hours=1))
    assert Scheduler(settings).fsrs.desired_retention == 0.85


def test_every_bad_setting_in_one_message_naming_the_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('[quiz]\ndesired_retention = 1.5\nnew_per_day = "many"\nlearning_steps = ["soon"]\ncolour = "blue"\n')
    with pytest.raises(InputError) as caught:
        quiz_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path} [quiz]: ")
    for part in ("`desired_retention` must be between 0.7 and 0.99, not 1.5", "`new_per_day` must be an integer, not 'many'",
                 "`learning_steps`: 'soon' is not a duration", "unknown setting `colour`"):
        assert part in message


def test_broken_toml_names_the_file(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text("[quiz\n")
    with pytest.raises(InputError, match=f"^{path}: bad settings file"):
        quiz_settings(path)


def test_durations():
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration(" 1.5h ") == timedelta(hours=1.5)
    with pytest.raises(ValueError):
        parse_duration("10 minutes")


def test_retrievability_is_py_fsrs_s_own_value_without_importing_it():
    """`prep stats` computes the recall of every card with scheduling.retrievability, not fsrs: the same numbers."""
    from prep.scheduling import retrievability

    rng = random.Random(11)
    ours, theirs = Scheduler(QuizSettings()), fsrs.Scheduler(enable_fuzzing=False)
    now = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    for _ in range(3000):
        state = ours.review(None, "c", rng.choice([1, 2, 3, 4]), now - timedelta(days=rng.uniform(0, 900)))
        for _ in range(rng.randint(0, 6)):
            later = state.due + timedelta(days=rng.uniform(-5, 40), hours=rng.uniform(-12, 12))
            state = ours.review(state, "c", rng.choice([1, 2, 3, 3, 4]), max(later, state.last_review + timedelta(minutes=1)))
        at = state.last_review + timedelta(days=rng.uniform(-2, 400), seconds=rng.uniform(0, 86400))
        if rng.random() < 0.2:
            at = at.astimezone(timezone(timedelta(hours=rng.choice([-7, 5.5, 9]))))
        card = fsrs.Card(card_id=0, state=fsrs.State(state.state), step=state.step, stability=state.stability,
                         difficulty=state.difficulty, due=state.due, last_review=state.last_review)
        expected = theirs.get_card_retrievability(card, current_datetime=at.astimezone(timezone.utc))
        assert retrievability(state, at) == expected
        assert ours.retrievability(state, at) == expected
    assert retrievability(None, now) == 0.0 and retrievability(CardState.new("c", now), now) == 0.0
