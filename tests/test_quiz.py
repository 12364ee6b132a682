"""The quiz as a library (queue, limits, undo, bury, suspend, cram, leeches) and `prep due` / `prep stats`."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest

from prep import bank_cache, store
from prep.cards import load_bank
from prep.errors import NotFoundError, StoreError
from prep.quiz import Options, Session, leech_threshold_met, make_plan
from prep.scheduling import LEARNING, RELEARNING, REVIEW, Scheduler
from prep.settings import QuizSettings

from .conftest import in_ci, run_cli
from .quizkit import BANK_ORDER, T0, Clock, fsrs_replay, index_of, log_review, put_state

SETTINGS = QuizSettings(fuzz=False)


@pytest.fixture(autouse=True)
def _quiet_settings(monkeypatch, tmp_path):
    """No test reads the developer's settings file or writes to their cache."""
    monkeypatch.setenv("PREP_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def db(db_path):
    return store.open_db(db_path)


@pytest.fixture
def index(tiny_bank):
    return index_of(tiny_bank)


def session(db, index, clock=None, settings=SETTINGS, **options) -> Session:
    return Session(db, index, settings, Options(**options), clock or Clock())


def drain(s: Session, rating: int = 3, clock: Clock | None = None, step_minutes: float = 0.5) -> list[tuple[str, str]]:
    shown = []
    while (item := s.next_item()) is not None:
        shown.append((item.card_id, item.queue))
        s.rate(item.card_id, rating, queue=item.queue)
        if clock:
            clock.advance(minutes=step_minutes)
    return shown


# --- the queue ---------------------------------------------------------------------------


def test_new_cards_in_bank_order_and_each_rating_is_in_the_database(db, index):
    clock = Clock()
    s = session(db, index, clock)
    first = s.next_item()
    assert (first.card_id, first.queue) == ("fork-return-values", "new")
    rated = s.rate(first.card_id, 3, duration_ms=4200, answer="x", correct=True)
    row = db["reviews"].get(rated.review_id)
    assert (row["card_id"], row["rating"], row["kind"], row["answer"], row["correct"], row["duration_ms"]) == (
        "fork-return-values", 3, "quiz", "x", 1, 4200)
    assert row["reviewed_at"] == store.iso(T0)
    state = db["card_state"].get("fork-return-values")
    assert (state["state"], state["step"], state["due"]) == (LEARNING, 1, store.iso(T0 + timedelta(minutes=10)))
    assert db["sessions"].get(s.session_id)["reviewed"] == 1


def test_due_reviews_first_lowest_due_first_then_new(db, index):
    put_state(db, "handshake-order", REVIEW, T0 - timedelta(days=1))
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(days=3))
    put_state(db, "close-shared-socket", REVIEW, T0 + timedelta(days=3))  # not due
    shown = drain(session(db, index))
    assert shown[:2] == [("zombie-definition", "review"), ("handshake-order", "review")]
    assert [c for c, q in shown if q == "new"] == ["fork-return-values", "time-wait-duration", "shutdown-write-constant"]
    assert "close-shared-socket" not in [c for c, _ in shown]


def test_review_due_later_today_counts_as_due_today(db, index):
    put_state(db, "zombie-definition", REVIEW, T0 + timedelta(hours=12))  # 21:00, before tomorrow's 04:00
    put_state(db, "handshake-order", REVIEW, T0 + timedelta(hours=20))  # 05:00 tomorrow
    plan = make_plan(db, index, SETTINGS, Options(), T0)
    assert plan.reviews == ["zombie-definition"]


def test_learning_cards_come_back_as_they_fall_due_in_the_session(db, index):
    clock = Clock()
    s = session(db, index, clock, limit=2)
    a = s.next_item()
    s.rate(a.card_id, 1)  # Again: 1 minute
    b = s.next_item()
    assert b.card_id != a.card_id  # not the card just failed, while another waits
    clock.advance(minutes=2)
    s.rate(b.card_id, 3)  # Good: 10 minutes
    again = s.next_item()
    assert (again.card_id, again.queue) == (a.card_id, "learning")
    s.rate(a.card_id, 3)
    clock.advance(minutes=1)
    # nothing due now: learning cards within the learn-ahead window (20 min) are shown rather than stopping
    nxt = s.next_item()
    assert nxt.queue == "learning"
    s.rate(nxt.card_id, 3)
    last = s.next_item()
    s.rate(last.card_id, 3)
    assert s.next_item() is None
    assert {db["card_state"].get(c)["state"] for c in (a.card_id, b.card_id)} == {REVIEW}


def test_daily_new_limit_is_counted_from_todays_log(db, index):
    settings = QuizSettings(fuzz=False, new_per_day=3)
    log_review(db, "fork-return-values", 3, T0 - timedelta(hours=3), state_after=LEARNING)  # 06:00 today
    log_review(db, "zombie-definition", 3, T0 - timedelta(hours=6), state_after=LEARNING)  # 03:00: yesterday (day starts at 4)
    log_review(db, "close-shared-socket", 3, T0 - timedelta(hours=2), kind="cram")  # cram counts against nothing
    plan = make_plan(db, index, settings, Options(), T0)
    assert plan.new_today == 1
    assert len(plan.new) == 2
    assert len(make_plan(db, index, settings, Options(new=5), T0).new) == 5  # --new overrides the daily count


def test_daily_review_limit(db, index):
    settings = QuizSettings(fuzz=False, reviews_per_day=2)
    for card_id in BANK_ORDER[:4]:
        put_state(db, card_id, REVIEW, T0 - timedelta(days=1))
    log_review(db, "fork-return-values", 3, T0 - timedelta(days=30))
    log_review(db, "fork-return-values", 3, T0 - timedelta(hours=1))  # reviewed today, seen before: one review
    plan = make_plan(db, index, settings, Options(), T0)
    assert plan.reviews_today == 1
    assert len(plan.reviews) == 1 and plan.reviews_over_limit == 3


def test_topic_tag_limit_and_card(db, index):
    assert make_plan(db, index, SETTINGS, Options(topic="processes"), T0).new == ["fork-return-values", "zombie-definition"]
    assert make_plan(db, index, SETTINGS, Options(tag="fork"), T0).new == ["fork-return-values", "close-shared-socket"]
    assert len(make_plan(db, index, SETTINGS, Options(limit=3), T0).cards) == 3
    s = session(db, index, card="handshake-order")
    assert s.next_item().card_id == "handshake-order"


def test_unknown_topic_and_card_are_input_errors(db, index):
    with pytest.raises(NotFoundError, match="unknown topic 'udp'; the topics are: inbox, processes, tcp"):
        session(db, index, topic="udp")
    with pytest.raises(NotFoundError, match="no card with id 'nope'"):
        session(db, index, card="nope")


# --- undo, bury, suspend -------------------------------------------------------------------


def test_undo_puts_the_schedule_back_and_removes_the_rating(db, index):
    clock = Clock()
    s = session(db, index, clock)
    first = s.next_item()
    s.rate(first.card_id, 3)
    clock.advance(minutes=1)
    second = s.next_item()
    rated = s.rate(second.card_id, 4)
    assert db["card_state"].get(second.card_id)["state"] == REVIEW
    assert s.undo() == second.card_id
    assert db["reviews"].count == 1
    assert not list(db["card_state"].rows_where("card_id = ?", [second.card_id]))
    assert db["sessions"].get(s.session_id)["reviewed"] == 1
    assert s.next_item().card_id == second.card_id  # the undone card comes back at once
    # undo twice: the first rating too
    assert s.undo() == first.card_id
    assert db["reviews"].count == 0 and db["card_state"].count == 0
    assert rated.review_id not in [r["id"] for r in db["reviews"].rows]
    assert s.undo() is None


def test_undo_while_a_card_is_on_screen_keeps_that_card_in_the_queue(db, index):
    s = session(db, index)
    first = s.next_item()
    s.rate(first.card_id, 3)
    on_screen = s.next_item()
    s.undo()
    assert s.next_item().card_id == first.card_id
    s.rate(first.card_id, 3)
    assert s.next_item().card_id == on_screen.card_id


def test_bury_hides_until_the_next_day_and_undo_brings_it_back(db, index):
    clock = Clock()
    s = session(db, index, clock)
    item = s.next_item()
    until = s.bury(item.card_id)
    assert until == T0.replace(hour=4) + timedelta(days=1)
    row = db["card_state"].get(item.card_id)
    assert (row["state"], row["buried_until"]) == (0, store.iso(until))
    assert item.card_id not in make_plan(db, index, SETTINGS, Options(), T0 + timedelta(hours=1)).cards
    assert item.card_id in make_plan(db, index, SETTINGS, Options(), until + timedelta(minutes=1)).cards
    s.undo()
    assert db["card_state"].count == 0
    assert s.next_item().card_id == item.card_id


def test_suspend_keeps_a_card_out_until_unsuspended(db, index):
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(days=1))
    s = session(db, index)
    item = s.next_item()
    assert item.card_id == "zombie-definition"
    s.suspend(item.card_id)
    assert db["card_state"].get("zombie-definition")["suspended"] == 1
    assert db["card_state"].get("zombie-definition")["state"] == REVIEW  # the schedule is kept
    later = T0 + timedelta(days=30)
    assert "zombie-definition" not in make_plan(db, index, SETTINGS, Options(), later).cards
    s2 = session(db, index, Clock(later), card="zombie-definition")  # --card reaches a suspended card
    assert s2.next_item().card_id == "zombie-definition" and s2.is_suspended("zombie-definition")
    s2.unsuspend("zombie-definition")
    assert "zombie-definition" in make_plan(db, index, SETTINGS, Options(), later).cards


def test_rerate_replaces_the_automatic_rating_as_of_the_same_moment(db, index):
    clock = Clock()
    s = session(db, index, clock)
    item = s.next_item()
    rated = s.rate(item.card_id, 4, answer="60 s", correct=True, duration_ms=1500)
    clock.advance(seconds=20)
    changed = s.rerate(rated, 2)
    rows = list(db["reviews"].rows)
    assert len(rows) == 1 and rows[0]["rating"] == 2 and rows[0]["answer"] == "60 s" and rows[0]["duration_ms"] == 1500
    assert rows[0]["reviewed_at"] == store.iso(T0)
    assert changed.after == Scheduler(SETTINGS).review(None, item.card_id, 2, T0)


# --- cram ------------------------------------------------------------------------------


def test_cram_reviews_everything_weakest_first_and_never_touches_the_schedule(db, index):
    put_state(db, "zombie-definition", REVIEW, T0 + timedelta(days=30), T0 - timedelta(days=1), stability=40)
    put_state(db, "handshake-order", REVIEW, T0 + timedelta(days=2), T0 - timedelta(days=20), stability=3)
    put_state(db, "fork-return-values", REVIEW, T0 + timedelta(days=9), suspended=True)
    before = {r["card_id"]: r for r in db["card_state"].rows}
    s = session(db, index, cram=True)
    order = []
    item = s.next_item()
    assert item.card_id == "handshake-order"  # lowest predicted recall first
    s.rate(item.card_id, 1)  # Again while cramming: seen again a few cards later
    while (item := s.next_item()) is not None:
        order.append(item.card_id)
        s.rate(item.card_id, 3)
    assert order.count("handshake-order") == 1
    assert "fork-return-values" not in order  # suspended
    assert {r["card_id"]: r for r in db["card_state"].rows} == before
    assert {r["kind"] for r in db["reviews"].rows} == {"cram"}
    assert db["sessions"].get(s.session_id)["kind"] == "cram"


# --- leeches -----------------------------------------------------------------------------


def lapsed(db, card_id: str, times: int) -> None:
    """A card in review, due now, whose log holds `times` lapses (Again on a card in review)."""
    at = T0 - timedelta(days=400)
    for _ in range(times):
        log_review(db, card_id, 3, at, state_after=REVIEW)
        at += timedelta(days=10)
        log_review(db, card_id, 1, at, state_after=RELEARNING)
        at += timedelta(minutes=10)
    state = Scheduler(SETTINGS).review(None, card_id, 4, T0 - timedelta(days=5))
    put_state(db, card_id, REVIEW, T0 - timedelta(hours=1), state.last_review, stability=state.stability,
              difficulty=state.difficulty)
    log_review(db, card_id, 4, T0 - timedelta(days=5), state_after=REVIEW)


def test_leeches_come_at_the_threshold_and_every_half_of_it_after():
    assert [n for n in range(1, 25) if leech_threshold_met(n, 8)] == [8, 12, 16, 20, 24]
    assert [n for n in range(1, 10) if leech_threshold_met(n, 3)] == [3, 5, 7, 9]  # half of 3, rounded up
    assert [n for n in range(1, 4) if leech_threshold_met(n, 1)] == [1, 2, 3]


def test_a_card_lapsing_eight_times_is_a_leech_and_suspended(db, index):
    lapsed(db, "zombie-definition", 7)
    clock = Clock()
    s = session(db, index, clock, topic="processes")
    item = s.next_item()
    assert item.card_id == "zombie-definition"
    rated = s.rate(item.card_id, 1)
    assert (rated.lapses, rated.leech, rated.suspended) == (8, True, True)
    assert store.lapse_counts(db) == {"zombie-definition": 8}
    row = db["card_state"].get("zombie-definition")
    assert (row["suspended"], row["state"]) == (1, RELEARNING)  # suspended, and the lapse scheduled as usual
    # out of this session: the relearning step (10 minutes) is within the learn-ahead window, yet it never comes back
    shown = drain(s, clock=clock)
    assert [c for c, _ in shown] == ["fork-return-values", "fork-return-values"]
    assert s.summary().leeches == ["zombie-definition"] and s.summary().suspended_leeches == ["zombie-definition"]
    assert "zombie-definition" not in make_plan(db, index, SETTINGS, Options(), T0 + timedelta(days=30)).cards


def test_undoing_the_leech_rating_undoes_the_suspension(db, index):
    lapsed(db, "zombie-definition", 7)
    before = db["card_state"].get("zombie-definition")
    s = session(db, index, topic="processes")
    item = s.next_item()
    s.rate(item.card_id, 1)
    s.next_item()  # the next card is on screen when the learner presses u
    assert s.undo() == "zombie-definition"
    assert db["card_state"].get("zombie-definition") == before
    assert db["reviews"].count == 15  # the log as it was: the leech rating is gone, nothing else
    assert s.summary().leeches == [] and s.summary().suspended_leeches == []
    again = s.next_item()
    assert again.card_id == "zombie-definition" and not s.is_suspended("zombie-definition")
    rated = s.rate(again.card_id, 3)  # remembered this time: no lapse, no leech
    assert (rated.leech, rated.suspended) == (False, False)
    assert db["card_state"].get("zombie-definition")["suspended"] == 0


def test_an_unsuspended_leech_is_suspended_again_at_twelve_lapses(db, index):
    lapsed(db, "zombie-definition", 9)
    s = session(db, index, card="zombie-definition")
    rated = s.rate(s.next_item().card_id, 1)
    assert (rated.lapses, rated.leech, rated.suspended) == (10, False, False)  # 10: between the warnings
    db["reviews"].delete_where()
    db["card_state"].delete_where()
    lapsed(db, "zombie-definition", 11)
    s = session(db, index, card="zombie-definition")
    rated = s.rate(s.next_item().card_id, 1)
    assert (rated.lapses, rated.leech, rated.suspended) == (12, True, True)


def test_leech_action_flag_only_says_so(db, index):
    lapsed(db, "zombie-definition", 7)
    s = session(db, index, settings=QuizSettings(fuzz=False, leech_action="flag"), topic="processes")
    rated = s.rate(s.next_item().card_id, 1)
    assert (rated.leech, rated.suspended) == (True, False)
    assert db["card_state"].get("zombie-definition")["suspended"] == 0
    assert s.summary().leeches == ["zombie-definition"] and s.summary().suspended_leeches == []


def test_bad_leech_action_names_the_settings_file_and_the_choices(runner, tiny_bank, db_path, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text('[quiz]\nleech_action = "delete"\n')
    result = run_cli(runner, "quiz", env={**cli_env(tiny_bank, db_path), "PREP_CONFIG": str(settings)})
    assert result.exit_code == 1
    assert result.stderr == f"Error: {settings} [quiz]: `leech_action` must be \"suspend\" or \"flag\", not 'delete'\n"


# --- the summary ---------------------------------------------------------------------------


def test_summary_counts_and_next_due(db, index):
    clock = Clock()
    s = session(db, index, clock, topic="processes")
    a = s.next_item()
    s.rate(a.card_id, 1)
    b = s.next_item()
    s.rate(b.card_id, 3)
    clock.advance(seconds=30)
    summary = s.close()
    assert (summary.reviewed, summary.correct, summary.again) == (2, 1, 1)
    assert summary.correct_share == 0.5
    assert summary.seconds == 30
    assert summary.next_due == T0 + timedelta(minutes=1)
    assert db["sessions"].get(s.session_id)["ended_at"] == store.iso(clock.now)


def test_summary_counts_what_is_left_today_including_the_card_on_screen(db, index):
    clock = Clock()
    s = session(db, index, clock, topic="tcp")
    assert s.summary().left == {"learning": 0, "review": 0, "new": 4}
    first = s.next_item()
    assert s.summary().left["new"] == 4, "the card on screen, not rated yet, is still to do"
    s.rate(first.card_id, 3)
    s.next_item()
    summary = s.summary()
    assert summary.left["new"] == 3, "a rated new card is no longer left"
    assert (summary.learning_later, summary.next_learning) == (1, T0 + timedelta(minutes=10)), "back in its 10m step"


def test_summary_left_is_the_day_as_prep_due_counts_it_not_the_session_limit(db, index):
    from prep.stats import due_now

    clock = Clock()
    s = session(db, index, clock, limit=2)  # a short session stops early; the day's work does not
    s.rate(s.next_item().card_id, 1)
    clock.advance(seconds=30)
    s.rate(s.next_item().card_id, 3)
    clock.advance(minutes=2)  # the first card's Again step (1m) is over; the second's Good step (10m) is not
    summary = s.close()
    due = due_now(db, index, QuizSettings(fuzz=False), clock(), Options())["counts"]
    assert summary.left == {"learning": due["learning"], "review": due["review"], "new": due["new"]} == {
        "learning": 1, "review": 0, "new": 4}
    assert summary.learning_later == due["learning_later_today"] == 1


# --- the bank cache ------------------------------------------------------------------------


def test_the_bank_cache_is_used_until_a_file_changes(tiny_bank, monkeypatch):
    from prep import cards

    calls = []
    real = cards.load_bank
    monkeypatch.setattr(cards, "load_bank", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = bank_cache.load_index(tiny_bank)
    again = bank_cache.load_index(tiny_bank)
    assert len(calls) == 1
    assert again.ids == first.ids == BANK_ORDER
    card = again.card("shutdown-write-constant")
    assert card.accepts("shut_wr") and card.topic == "tcp" and card.line == first.card("shutdown-write-constant").line
    assert [(r.title, r.url) for r in again.card("time-wait-duration").ref_list] == [
        (r.title, r.url) for r in first.card("time-wait-duration").ref_list]
    cached, loaded = again.card("fork-return-values"), load_bank(tiny_bank).card("fork-return-values")
    for name in ("id", "type", "prompt", "answer", "explanation", "tags", "difficulty", "zh", "accept", "items",
                 "corrects", "exercise", "draft", "topic", "file", "line"):
        assert getattr(cached, name) == getattr(loaded, name), name
    assert [(c.text, c.correct, c.why) for c in cached.choices] == [(c.text, c.correct, c.why) for c in loaded.choices]
    assert (cached.source.section, cached.source.lines) == (loaded.source.section, loaded.source.lines)
    path = tiny_bank / "tcp.yaml"
    path.write_text(path.read_text().replace("How long does a socket", "For how long does a socket"))
    changed = bank_cache.load_index(tiny_bank)
    assert len(calls) == 2
    assert changed.card("time-wait-duration").prompt.startswith("For how long")


def test_a_cache_left_for_later_is_written_by_save_once_and_then_used(tiny_bank, tmp_path, monkeypatch):
    from prep import cards

    index = bank_cache.load_index(tiny_bank, write_later=True)
    cache = tmp_path / "cache"
    assert not list(cache.glob("bank-*")), "written before save()"
    index.save()
    written = {f.name: f.stat().st_mtime_ns for f in cache.glob("bank-*")}
    assert len(written) == 2 and not list(cache.glob(".*.tmp"))
    index.save()
    assert {f.name: f.stat().st_mtime_ns for f in cache.glob("bank-*")} == written, "saved twice"
    monkeypatch.setattr(cards, "load_bank", lambda *a, **k: pytest.fail("the bank was read again"))
    monkeypatch.setattr(cards, "load_usable_cards", lambda *a, **k: pytest.fail("the bank was read again"))
    assert bank_cache.load_index(tiny_bank, keep_going=True).ids == index.ids


def test_a_cache_write_cut_short_leaves_no_file_behind(tiny_bank, tmp_path, monkeypatch):
    """Ctrl-C while the quiz writes the cache (it does so while the learner reads): no half file, no temporary one."""
    real = os.replace

    def interrupted(src, dst):
        if str(dst).endswith(".index.json"):
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(bank_cache.os, "replace", interrupted)
    index = bank_cache.load_index(tiny_bank, write_later=True)
    with pytest.raises(KeyboardInterrupt):
        index.save()
    cache = tmp_path / "cache"
    left = [f.name for f in cache.iterdir()]
    assert len(left) == 1 and left[0].endswith(".cards.jsonl"), left  # the data went first; the index never came
    monkeypatch.setattr(bank_cache.os, "replace", real)
    assert bank_cache.load_index(tiny_bank).ids == index.ids  # no index file: loaded from the bank, and cached now
    assert len(list(cache.glob("bank-*"))) == 2


def test_a_broken_file_leaves_out_its_cards_with_a_warning_on_every_run(tiny_bank, runner, db_path):
    (tiny_bank / "tcp.yaml").write_text("topic: tcp\ncards: [\n")
    for _ in range(2):  # a bank with problems is never cached: the second run warns too
        result = run_cli(runner, "due", "--json", env=cli_env(tiny_bank, db_path))
        assert result.exit_code == 0, result.stderr
        assert "Warning: 1 problem in the bank" in result.stderr and "tcp.yaml:3: -: bad YAML" in result.stderr
        assert "the cards it touches are left out until it is fixed:" in result.stderr
        assert sorted(c["id"] for c in json.loads(result.stdout)["cards"]) == ["fork-return-values", "zombie-definition"]


def test_one_broken_card_is_left_out_and_the_rest_reviewed(tiny_bank, runner, db_path):
    path = tiny_bank / "tcp.yaml"
    path.write_text(path.read_text().replace("    type: recall", "    type: essay", 1))
    result = run_cli(runner, "due", "--json", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 0, result.stderr
    assert "tcp.yaml:25: close-shared-socket: `type` must be 'recall'" in result.stderr
    ids = {c["id"] for c in json.loads(result.stdout)["cards"]}
    assert "close-shared-socket" not in ids and {"time-wait-duration", "handshake-order", "zombie-definition"} <= ids


def test_a_bank_with_no_usable_card_is_an_error(tiny_bank, runner, db_path):
    (tiny_bank / "topics.yaml").write_text("topics: [\n")
    result = run_cli(runner, "due", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 1
    assert "Error: the bank has" in result.stderr and "topics.yaml:2: -: bad YAML" in result.stderr


# --- prep due, prep stats ------------------------------------------------------------------


def cli_env(tiny_bank, db_path, now=T0):
    return {"PREP_BANK": str(tiny_bank), "PREP_DB": str(db_path), "PREP_NOW": now.isoformat()}


def test_due_lists_what_the_quiz_would_show(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(days=1))
    put_state(db, "handshake-order", LEARNING, T0 - timedelta(minutes=5), step=1, stability=1)
    result = run_cli(runner, "due", "--json", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"] == {"learning": 1, "review": 1, "new": 4, "learning_later_today": 0, "reviews_over_limit": 0}
    assert [(c["id"], c["queue"]) for c in data["cards"]][:2] == [("handshake-order", "learning"), ("zombie-definition", "review")]
    assert set(data["cards"][0]) == {"id", "queue", "topic", "type", "due", "prompt"}
    assert data["exercises"] == []
    human = run_cli(runner, "due", env=cli_env(tiny_bank, db_path))
    assert "1 learning · 1 review · 4 new due now: prep quiz" in human.stderr


def test_stats_figures(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    day = timedelta(days=1)
    # a mature card reviewed on three days (first review of each day counts), plus a lapse
    log_review(db, "zombie-definition", 3, T0 - 40 * day, interval_days=25)
    log_review(db, "zombie-definition", 3, T0 - 2 * day, interval_days=30)  # passed (previous interval 25)
    log_review(db, "zombie-definition", 1, T0 - 1 * day, state_after=RELEARNING, interval_days=0.007)  # failed
    log_review(db, "zombie-definition", 3, T0 - 1 * day + timedelta(minutes=10), interval_days=3)  # second that day
    log_review(db, "handshake-order", 3, T0 - 3 * day, interval_days=2)  # young: not counted
    log_review(db, "handshake-order", 3, T0 - timedelta(hours=1), interval_days=5, kind="cram")
    put_state(db, "zombie-definition", REVIEW, T0 + 2 * day, T0 - 1 * day, stability=3)
    put_state(db, "handshake-order", REVIEW, T0 - timedelta(hours=1), T0 - 3 * day, stability=2)
    put_state(db, "fork-return-values", REVIEW, T0 + day, T0 - 30 * day, stability=30, suspended=True)
    result = run_cli(runner, "stats", "--json", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["due"]["today"] == 1 and d["due"]["tomorrow"] == 0 and d["due"]["by_day"][2]["due"] == 1
    assert d["retention"]["all_time"] == {"passed": 1, "failed": 1, "rate": 0.5}
    assert d["streak"] == {"current": 4, "longest": 4}  # 26, 27, 28 Feb and today (cram counts as study)
    assert d["heatmap"]["days"]["2026-02-28"] == 2
    assert d["reviews_total"] == 6
    tcp = next(t for t in d["topics"] if t["id"] == "tcp")
    assert (tcp["cards"], tcp["new"], tcp["young"]) == (4, 3, 1)
    processes = next(t for t in d["topics"] if t["id"] == "processes")
    assert processes["suspended"] == 1 and 0 < processes["recall"] < 1
    assert d["leeches"] == []
    human = run_cli(runner, "stats", env=cli_env(tiny_bank, db_path))
    assert "True retention" in human.stdout and "50.0% (1/2)" in human.stdout
    assert "Mon" in human.stdout and "Mastery by topic" in human.stdout


@pytest.mark.parametrize("now, months", [("2026-12-08T12:00:00+00:00", 6), ("2026-12-08T12:00:00+00:00", 12),
                                         ("2026-03-02T12:00:00+00:00", 24)])
def test_the_stats_heatmap_fits_80_columns_month_names_whole(tiny_bank, db_path, now, months):
    """A month starting in the last week shows its whole name (it was cut: "De"), and a year's weeks
    give way, oldest first, to fit the screen."""
    from rich.cells import cell_len

    env = {**os.environ, **cli_env(tiny_bank, db_path), "PREP_NOW": now, "COLUMNS": "80"}
    result = subprocess.run([sys.executable, "-m", "prep", "stats", "--months", str(months)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Reviews per day"))
    heatmap = lines[at + 1:at + 9]
    assert all(cell_len(line) <= 80 for line in heatmap), heatmap
    names = heatmap[0].split()
    assert names and all(len(name) == 3 for name in names), names
    if now.startswith("2026-12-08"):
        assert names[-1] == "Dec"


def test_stats_lists_leeches(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    at = T0 - timedelta(days=100)
    for _ in range(8):
        log_review(db, "close-shared-socket", 3, at)
        log_review(db, "close-shared-socket", 1, at + timedelta(days=5), state_after=RELEARNING)
        at += timedelta(days=6)
    d = json.loads(run_cli(runner, "stats", "--json", env=cli_env(tiny_bank, db_path)).stdout)
    assert d["leeches"] == [{"id": "close-shared-socket", "lapses": 8, "topic": "tcp",
                             "location": f"{tiny_bank / 'tcp.yaml'}:24", "suspended": False}]


def test_stats_says_which_leeches_were_suspended(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    lapsed(db, "zombie-definition", 7)
    lapsed(db, "close-shared-socket", 8)  # a leech already, never suspended (leech_action was "flag")
    s = session(db, index_of(tiny_bank), card="zombie-definition")
    s.rate(s.next_item().card_id, 1)
    s.close()
    d = json.loads(run_cli(runner, "stats", "--json", env=cli_env(tiny_bank, db_path)).stdout)
    assert [(x["id"], x["lapses"], x["suspended"]) for x in d["leeches"]] == [
        ("close-shared-socket", 8, False), ("zombie-definition", 8, True)]
    human = run_cli(runner, "stats", env=cli_env(tiny_bank, db_path)).stdout
    assert "Leeches (2, 1 suspended)" in human and "`prep card unsuspend ID` brings a suspended one back" in human
    assert "zombie-definition: 8 lapses, suspended" in human
    assert "close-shared-socket: 8 lapses  " in human


def test_stats_names_the_worst_leeches_and_counts_the_rest(runner, tiny_bank, db_path, monkeypatch):
    """A thousand leeches are a list for `--leeches`, not for the overview (drawing them cost ~300 ms)."""
    from prep.cli import quiz as quiz_cli

    db = store.open_db(db_path)
    lapsed(db, "zombie-definition", 9)
    lapsed(db, "close-shared-socket", 8)
    monkeypatch.setattr(quiz_cli, "LEECHES_SHOWN", 1)
    human = run_cli(runner, "stats", env=cli_env(tiny_bank, db_path)).stdout
    assert "Leeches (2, 0 suspended)" in human and "zombie-definition: 9 lapses" in human
    assert "close-shared-socket" not in human and "... and 1 more: `prep stats --leeches` lists them all" in human
    every = run_cli(runner, "stats", "--leeches", env=cli_env(tiny_bank, db_path)).stdout
    assert "zombie-definition: 9 lapses" in every and "close-shared-socket: 8 lapses" in every and "more:" not in every
    d = json.loads(run_cli(runner, "stats", "--json", env=cli_env(tiny_bank, db_path)).stdout)
    assert [x["id"] for x in d["leeches"]] == ["zombie-definition", "close-shared-socket"]


# --- errors: one line, the file, what to do, an exit code ---------------------------------------


def test_corrupted_database(runner, tiny_bank, tmp_path):
    bad = tmp_path / "progress.db"
    bad.write_bytes(b"this is not a database" * 200)
    result = run_cli(runner, "due", env=cli_env(tiny_bank, bad))
    assert result.exit_code == 4
    assert result.stderr == (f"Error: {bad}: the progress database is damaged (file is not a database); restore a backup "
                             "made with `prep progress export`, or move the file away to start fresh\n")


def test_locked_database(runner, tiny_bank, db_path, tmp_path, monkeypatch):
    store.open_db(db_path)
    backup = tmp_path / "backup.json"
    assert run_cli(runner, "progress", "export", str(backup), env=cli_env(tiny_bank, db_path)).exit_code == 0
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program writing; in WAL mode readers still read
    try:
        assert run_cli(runner, "due", env=cli_env(tiny_bank, db_path)).exit_code == 0
        result = run_cli(runner, "progress", "import", str(backup), env=cli_env(tiny_bank, db_path))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 4
    assert result.stderr == (f"Error: {db_path}: the progress database is locked by another program; "
                             "close the other `prep` and try again\n")


def test_locked_while_rating_raises_a_store_error_naming_the_file(db_path, index, monkeypatch):
    db = store.open_db(db_path)
    db.conn.execute("PRAGMA busy_timeout = 100")
    s = session(db, index)
    item = s.next_item()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match=f"^{db_path}: the progress database is locked"):
            s.rate(item.card_id, 3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert db["reviews"].count == 0


def test_unwritable_database_location(runner, tiny_bank):
    where = "/proc/self/progress.db"  # a folder nobody can create files in, root included
    result = run_cli(runner, "due", env=cli_env(tiny_bank, where))
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {where}: cannot write the progress database (unable to open database file); "
                                    "check the folder's permissions or choose another file with --db or $PREP_DB")


def test_read_only_database_file(runner, tiny_bank, tmp_path):
    import os
    import subprocess

    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores file modes: use a read-only mount, where the kernel refuses writes
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode:
            if in_ci():
                pytest.fail("CI=true and a tmpfs cannot be mounted to make the database read-only")
            pytest.skip("cannot mount a tmpfs here (needs root in a namespace that allows mounts)")
        try:
            store.open_db(folder / "progress.db").conn.close()
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
            reading = run_cli(runner, "due", env=cli_env(tiny_bank, folder / "progress.db"))
            result = run_cli(runner, "quiz", env=cli_env(tiny_bank, folder / "progress.db"))
        finally:
            subprocess.run(["umount", "-l", str(folder)])
    else:
        store.open_db(folder / "progress.db").conn.close()
        folder.chmod(0o555)
        (folder / "progress.db").chmod(0o444)
        try:
            reading = run_cli(runner, "due", env=cli_env(tiny_bank, folder / "progress.db"))
            result = run_cli(runner, "quiz", env=cli_env(tiny_bank, folder / "progress.db"))
        finally:
            folder.chmod(0o755)
    assert reading.exit_code == 0, reading.stderr  # `due` only reads: it opens the file read-only
    assert result.exit_code == 4
    assert result.stderr.startswith(f"Error: {folder / 'progress.db'}: cannot write the progress database")
    assert "--db or $PREP_DB" in result.stderr


def test_bad_settings_file_is_an_input_error(runner, tiny_bank, db_path, tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text("[quiz]\nnew_per_day = -1\n")
    result = run_cli(runner, "due", env={**cli_env(tiny_bank, db_path), "PREP_CONFIG": str(settings)})
    assert result.exit_code == 1
    assert result.stderr == f"Error: {settings} [quiz]: `new_per_day` must be between 0 and 9999, not -1\n"


def test_bad_clock_is_an_input_error(runner, tiny_bank, db_path):
    result = run_cli(runner, "due", env={**cli_env(tiny_bank, db_path), "PREP_NOW": "yesterday"})
    assert result.exit_code == 1 and "PREP_NOW='yesterday' is not an ISO 8601 moment" in result.stderr


def test_unknown_topic_from_the_command_line(runner, tiny_bank, db_path):
    result = run_cli(runner, "quiz", "--topic", "udp", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 2  # a bad option value
    assert result.stderr == "Error: unknown topic 'udp'; the topics are: inbox, processes, tcp\n"
    result = run_cli(runner, "quiz", "--card", "nope", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --card: no card with id 'nope' in ")
    result = run_cli(runner, "quiz", "--limit", "0", env=cli_env(tiny_bank, db_path))
    assert result.exit_code == 2 and result.stderr == "Error: --limit must be 1 or more, not 0\n"


def test_quiz_settings_are_printed(runner, tiny_bank, db_path):
    result = run_cli(runner, "quiz", "--settings", env=cli_env(tiny_bank, db_path))
    data = json.loads(result.stdout)
    assert data["quiz"]["desired_retention"] == 0.9 and data["quiz"]["learning_steps"] == ["1m", "10m"]


def test_replayed_log_matches_the_stored_schedules(db, index):
    """Over simulated days, with the clock injected: every stored schedule equals fsrs run on the log."""
    clock = Clock()
    ratings = iter([3, 1, 4, 3, 2, 3, 3, 1, 3, 4, 3, 3, 2, 3, 1, 3, 3, 3, 4, 3] * 20)
    for day in range(60):
        s = session(db, index, clock)
        while (item := s.next_item()) is not None:
            s.rate(item.card_id, next(ratings))
            clock.advance(minutes=3)
        s.close()
        clock.now = T0 + timedelta(days=day + 1)
    for card_id in BANK_ORDER:
        reviews = list(db["reviews"].rows_where("card_id = ?", [card_id]))
        assert len(reviews) >= 3, card_id
        expected = fsrs_replay(reviews)
        row = db["card_state"].get(card_id)
        assert (row["state"], row["due"]) == (int(expected.state), store.iso(expected.due))
        assert row["stability"] == pytest.approx(expected.stability)


def test_prep_quiz_imports_only_its_own_command_module():
    """`prep quiz|due|stats` skip the other command groups' imports (first card under 300 ms)."""
    import subprocess
    import sys

    probe = ("import sys; sys.argv = {argv!r}; import prep.cli; "
             "print(sorted(m for m in sys.modules if m.startswith(('prep.', 'jinja2', 'docker', 'yaml'))))")
    light = subprocess.run([sys.executable, "-c", probe.format(argv=["prep", "--db", "x.db", "quiz", "--topic", "tcp"])],
                           capture_output=True, text=True, check=True).stdout
    assert "prep.cli.quiz" in light
    for heavy in ("prep.cli.bank", "prep.cli.site", "prep.cards", "jinja2", "docker", "yaml"):
        assert f"'{heavy}'" not in light, heavy
    full = subprocess.run([sys.executable, "-c", probe.format(argv=["prep", "--help"])], capture_output=True, text=True, check=True).stdout
    assert "prep.cli.bank" in full and "prep.cli.quiz" in full
    other = subprocess.run([sys.executable, "-c", probe.format(argv=["pytest", "quiz"])], capture_output=True, text=True, check=True).stdout
    assert "prep.cli.bank" in other  # only when prep itself is the program


def test_the_direct_path_takes_only_plain_quiz_and_stats_words(tmp_path):
    """prep.review_cli runs quiz and stats without typer only for words whose meaning is certain."""
    from prep.review_cli import parse

    command, state, found = parse(["--db", "x.db", "stats", "--months=3", "-t", "tcp", "--json"], environ={})
    assert (command, str(state.db_path), state.bank, state.command) == ("stats", "x.db", None, "stats")
    assert found == {"months": 3, "topic": "tcp", "as_json": True}
    command, state, found = parse(["quiz", "--limit", "5", "--cram", "--lang", "zh"], environ={"PREP_BANK": "b", "PREP_DB": ""})
    assert (command, str(state.bank), state.db_path, found) == ("quiz", "b", None, {"limit": 5, "cram": True, "lang": "zh"})
    unreadable = tmp_path / "locked.db"
    unreadable.write_text("")
    unreadable.chmod(0)
    for words in (["stats", "--months", "30"], ["stats", "--months", "007"], ["stats", "--months", "x"], ["stats", "--topic"],
                  ["stats", "--topic", "-t"], ["stats", "--bogus"], ["stats", "extra"], ["stats", "--json", "--json"],
                  ["stats", "--json=1"], ["stats", "-tx"], ["stats", "--help"], ["quiz", "--limit", "-1"], ["quiz", "--", "x"],
                  ["--version", "quiz"], ["--db", "", "quiz"], ["due"], ["bank", "list"], [], ["quiz", "--json"]):
        assert parse(words, environ={}) is None, words
    if not os.access(unreadable, os.R_OK):  # root reads it anyway
        assert parse(["--db", str(unreadable), "stats"], environ={}) is None


def test_stats_and_quiz_reached_directly_say_what_the_typer_app_says(tiny_bank, db_path):
    """Same output, errors and exit codes without typer; a bad option still goes to typer's one-line error."""
    env = {**os.environ, **cli_env(tiny_bank, db_path), "COLUMNS": "100", "NO_COLOR": "1"}
    db = store.open_db(db_path)
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(days=1))
    db.conn.close()
    probe = ("import atexit, sys; atexit.register(lambda: print('typer' in sys.modules, file=sys.stderr)); "
             "sys.argv = ['prep', *sys.argv[1:]]; from prep.{module} import main; main()")

    def run(module, *words):
        result = subprocess.run([sys.executable, "-c", probe.format(module=module), *words], env=env,
                                capture_output=True, text=True, timeout=60)
        *lines, typer_loaded = result.stderr.splitlines()
        return result.returncode, result.stdout, lines, typer_loaded

    for words in (["stats"], ["stats", "--leeches", "--months", "2"], ["stats", "--topic", "no-such-topic"],
                  ["quiz", "--lang", "fr"], ["quiz", "--settings"], ["--db", str(db_path), "stats", "-t", "tcp"]):
        code, stdout, stderr, typer_loaded = run("helpcache", *words)
        assert typer_loaded == "False", words
        assert (code, stdout, stderr) == run("cli", *words)[:3], words
    code, _, stderr, typer_loaded = run("helpcache", "stats", "--months", "30")
    assert (code, typer_loaded) == (2, "True")
    assert stderr == ["prep stats: --months: input should be less than or equal to 24, not '30'; see prep stats --help"]


def test_due_lists_one_line_a_card_in_an_80_column_terminal(tiny_bank, db_path):
    env = {**os.environ, **cli_env(tiny_bank, db_path), "COLUMNS": "80", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "prep", "due"], env=env, capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert len(lines) == 1 + 6, result.stdout  # the header, then one line for each card of the bank
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("handshake-order ") for line in lines)


def test_typed_numbers_read_ascii_digits_only():
    from prep.quiz_ui import typed_numbers

    assert typed_numbers("312") == [3, 1, 2]
    assert typed_numbers(" 3 1 2 ") == typed_numbers("3,1,2") == typed_numbers("3-1-2") == [3, 1, 2]
    assert typed_numbers("12 3") == [12, 3]
    assert typed_numbers("123", single_digits=False) == [123]
    assert typed_numbers("²") == [] and typed_numbers("٣١٢") == [] and typed_numbers("") == []


def test_a_card_from_the_cache_comes_in_either_language_without_the_card_model(tiny_bank, tmp_path):
    """The first card of the quiz, in Chinese too, is shown without importing pydantic (prep.texts, not prep.cards)."""
    env = {**os.environ, "PREP_CACHE_DIR": str(tmp_path / "cache")}
    warm = "from pathlib import Path; from prep import bank_cache; bank_cache.load_index(Path({bank!r}))"
    subprocess.run([sys.executable, "-c", warm.format(bank=str(tiny_bank))], env=env, check=True)
    probe = ("import sys; from pathlib import Path; from prep import bank_cache; "
             "i = bank_cache.load_index(Path({bank!r})); c = i.card('zombie-definition', 'zh'); "
             "print(c.prompt, type(c).__name__, 'prep.cards' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe.format(bank=str(tiny_bank))], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.split() == ["什么是僵尸进程？", "CardView", "False", "False"]


def test_a_cold_start_shows_a_card_before_the_card_model_is_imported(tiny_bank, tmp_path):
    """With no bank cache, the quiz's load reads the files without pydantic and leaves the check for later."""
    env = {**os.environ, "PREP_CACHE_DIR": str(tmp_path / "cache")}
    probe = ("import sys; from pathlib import Path; from prep import bank_cache; "
             "i = bank_cache.load_index(Path({bank!r}), keep_going=True, write_later=True, check_later=True); "
             "c = i.card('zombie-definition', 'zh'); "
             "print(c.prompt, type(c).__name__, i.checked, 'prep.cards' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe.format(bank=str(tiny_bank))], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.split() == ["什么是僵尸进程？", "CardView", "False", "False", "False"]


EVERY_FORM = """\
topic: tcp
cards:
  - id: plain
    prompt: Only a prompt and an answer?
    answer: Yes.
  - id: sides
    type: single
    prompt: {zh: 只有中文}
    answer: {en: English only}
    explanation: {en: both, zh: 两边}
    corrects: {zh: 笔记说错了}
    refs: ["close(2)", {title: RFC 9293}, {title: tcp.h, url: "https://example.org/tcp.h"}]
    source: {section: "3/19", lines: [5, 6]}
    choices:
      - text: {en: right, zh: 对}
        correct: true
      - text: wrong
        why: {zh: 因为}
      - {text: also wrong, correct: false, why: not that}
    tags: [a, b]
    zh: [术语]
    draft: false
    difficulty: hard
  - id: inferred-order
    prompt: In order?
    answer: one, two, three
    items: [one, {en: two, zh: 二}, three]
  - id: inferred-multi
    prompt: Which?
    answer: x and y
    choices: [{text: x, correct: true}, {text: y, correct: true}, {text: z, why: not z}]
  - id: unfinished
    type: short
    draft: true
    prompt: Draft?
    accept: ["yes", "y"]
"""


@pytest.mark.parametrize("which", ["shipped", "test", "every form"])
def test_a_cold_start_s_cards_are_the_checked_bank_s(which, tiny_bank, tmp_path, monkeypatch):
    """What a cold start shows before the check (records, topics, each card's data) is what the checked bank holds."""
    from prep.cards import Card

    from .conftest import REPO

    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path / "cache"))
    bank = {"shipped": REPO / "bank", "test": tiny_bank}.get(which)
    if bank is None:
        bank = tiny_bank
        (bank / "tcp.yaml").write_text(EVERY_FORM)
    index = bank_cache.load_index(bank, keep_going=True, write_later=True, check_later=True)
    assert not index.checked
    records, topics = [dict(r) for r in index.records], dict(index.topics)
    shown = {card_id: index.stored_card(card_id)._data for card_id in index.ids}
    assert index.settle() == [] and index.checked and index.settle() is None
    assert (index.records, index.topics) == (records, topics)
    assert shown == {card_id: index.stored_card(card_id).model_dump(mode="json") for card_id in index.ids}
    defaults = {name: f.get_default(call_default_factory=True) for name, f in Card.model_fields.items() if not f.is_required()}
    assert bank_cache.CARD_DEFAULTS == defaults


@pytest.mark.parametrize("change", [
    ("tcp.yaml", "    type: recall", "    type: essay"),  # not a card type
    ("tcp.yaml", "topic: tcp", "topic: udp"),  # an undeclared topic
    ("tcp.yaml", "  - id: close-shared-socket", "  - id: time-wait-duration"),  # an id twice
    ("tcp.yaml", "    tags: [close, fork]", "    tags: close"),  # not a list
    ("tcp.yaml", "cards:", "extra: 1\ncards:"),  # an unknown top-level field
    ("processes.yaml", "      - text: The child sees 0", "      - text: [The child sees 0]"),  # a choice that is no text
    ("processes.yaml", "topic: processes", "topic: processes\n  bad: [indent"),  # bad YAML
])
def test_a_cold_start_checks_first_a_bank_it_cannot_show_as_written(change, tiny_bank, tmp_path, monkeypatch):
    """A file the quiz could not show before the check is checked first, its problems known before the first card."""
    name, old, new = change
    path = tiny_bank / name
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path / "cache"))
    index = bank_cache.load_index(tiny_bank, keep_going=True, write_later=True, check_later=True)
    assert index.checked and index.problems and index.settle() is None


def test_a_problem_found_after_a_cold_start_leaves_its_card_out_and_is_cached(tiny_bank, tmp_path, monkeypatch):
    """A card shaped well but wrong (a bad difficulty) is shown unchecked, leaves at `settle`, and the cache remembers why."""
    path = tiny_bank / "processes.yaml"
    path.write_text(path.read_text().replace("difficulty: easy", "difficulty: impossible", 1))
    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path / "cache"))
    index = bank_cache.load_index(tiny_bank, keep_going=True, write_later=True, check_later=True)
    assert not index.checked and "fork-return-values" in index and index.problems == []
    problems = index.settle()
    assert [str(p) for p in problems] == [
        "processes.yaml:10: fork-return-values: `difficulty` must be 'easy', 'medium' or 'hard', not 'impossible'"]
    assert "fork-return-values" not in index and "fork-return-values" not in index.select()
    index.save()
    again = bank_cache.load_index(tiny_bank, keep_going=True, write_later=True, check_later=True)
    assert again.checked and again.problems == problems and "fork-return-values" not in again
    assert type(again.stored_card("zombie-definition")).__name__ == "CardView"  # from the cache
    with pytest.raises(Exception) as raised:  # a caller that wants the whole bank gets the full load's error
        bank_cache.load_index(tiny_bank)
    assert "the bank has 1 problem" in str(raised.value)


def test_the_editor_s_problems_are_said_in_the_quiz_s_language(tmp_path, monkeypatch):
    """`e` under --lang zh: why the editor did not run, or how it failed, in Chinese (English by default)."""
    from prep.labels import labels
    from prep.quiz_ui import EditorProblem, editor_command, run_editor

    card = tmp_path / "c.yaml"
    card.write_text("x\n")
    assert run_editor(["false"], card, 1) == "the editor false exited with status 1."
    assert run_editor(["false"], card, 1, labels("zh")) == "编辑器 false 退出，状态码 1。"
    assert run_editor(["sh", "-c", "kill -TERM $$"], card, 1, labels("zh")) == "编辑器 sh -c 'kill -TERM $$' 被信号 15 终止。"
    with pytest.raises(EditorProblem, match="^无法运行编辑器 /no/such/editor：No such file or directory$"):
        run_editor(["/no/such/editor"], card, 1, labels("zh"))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "vi 'unclosed")
    said = "$EDITOR=\"vi 'unclosed\""
    with pytest.raises(EditorProblem, match=f"^{re.escape(said)} 无法按 shell 的规则拆成词（No closing quotation）$"):
        editor_command(labels("zh"))
    with pytest.raises(EditorProblem, match=f"^{re.escape(said)} cannot be split into words \\(No closing quotation\\)$"):
        editor_command()
