"""The progress database: created, migrated once, in WAL mode, versioned by its migrations."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import pytest

from prep import store


def test_open_creates_migrates_once_and_uses_wal(db_path):
    db = store.open_db(db_path)
    assert db.journal_mode == "wal"
    assert store.schema_version(db) == len(store.MIGRATIONS)
    assert {"card_state", "reviews", "sessions", "submissions", "submission_tests", "exercise_state"} <= set(db.table_names())
    db.conn.close()
    again = store.open_db(db_path)
    assert store.migrate(again) == [], "a second open applies no migration"
    assert [row["name"] for row in again["migrations"].rows] == [name for name, _ in store.MIGRATIONS]


def test_a_failing_migration_leaves_the_schema_as_it_was(db_path, monkeypatch):
    db = store.open_db(db_path)

    def broken(d):
        d["half_made"].create({"id": int}, pk="id")
        raise RuntimeError("migration failed midway")

    monkeypatch.setattr(store, "MIGRATIONS", [*store.MIGRATIONS, ("999_broken", broken)])
    with pytest.raises(RuntimeError):
        store.migrate(db)
    assert "half_made" not in db.table_names(), "the failed step was rolled back"
    assert store.schema_version(db) == len(store.MIGRATIONS) - 1


def test_a_database_of_the_first_version_is_migrated_forward_keeping_its_submissions(db_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:1])
        old = store.open_db(db_path)
        old["submissions"].insert({"exercise": "run-command", "submitted_at": "2026-03-01T09:00:00+00:00",
                                   "verdict": "passed", "score": 1.0, "code": "{}", "backend": "docker"})
        assert "build" not in old["submissions"].columns_dict
        old.conn.close()
    db = store.open_db(db_path)
    assert store.schema_version(db) == len(store.MIGRATIONS)
    (row,) = store.submissions(db)
    assert (row["exercise"], row["verdict"], row["build"]) == ("run-command", "passed", None)
    build = {"status": "passed", "output": "prog.c:3: warning: unused variable", "duration_ms": 120}
    new_id = store.record_submission(db, {"verdict": "passed", "score": 1.0, "tests": [], "build": build}, {}, "c-x", "h2")
    assert [r["build"] for r in store.submissions(db) if r["id"] == new_id] == ['{"status": "passed", "output": "prog.c:3: warning: unused variable", "duration_ms": 120}']


# --- the log's summary (migration 003): kept right by triggers, whoever writes ------------------

_LAG = """
    SELECT id, LAG(reviewed_at) OVER w, LAG(state_after) OVER w, LAG(interval_days) OVER w FROM reviews
    WHERE kind != 'cram' WINDOW w AS (PARTITION BY card_id ORDER BY reviewed_at, id) ORDER BY id
"""


def _summary_is_right(db) -> None:
    kept = db.execute("SELECT id, prev_at, prev_state, prev_interval FROM reviews WHERE kind != 'cram' ORDER BY id").fetchall()
    assert kept == db.execute(_LAG).fetchall()
    gaps = db.execute("SELECT prev_days, julianday(reviewed_at) - julianday(prev_at) FROM reviews WHERE kind != 'cram'")
    assert all(kept == computed for kept, computed in gaps)
    hours = db.execute("SELECT hour, reviews FROM review_hours WHERE reviews != 0 ORDER BY hour").fetchall()
    assert hours == db.execute(
        "SELECT strftime('%Y-%m-%dT%H:00:00', reviewed_at) AS h, COUNT(*) FROM reviews GROUP BY h ORDER BY h"
    ).fetchall()


def _review(card_id, at, rating=3, kind="quiz", state_after=2, interval=30.0):
    return {"card_id": card_id, "rating": rating, "reviewed_at": at, "kind": kind, "state_after": state_after,
            "interval_days": interval}


def test_the_review_summary_follows_every_write_to_the_log(db_path, monkeypatch):
    with monkeypatch.context() as m:  # a log written before the summary existed: the migration fills it
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:2])
        old = store.open_db(db_path)
        old["reviews"].insert_all([
            _review("a", "2026-01-01T10:00:00+00:00"), _review("a", "2026-01-05T10:30:00+00:00", rating=1),
            _review("a", "2026-01-03T09:00:00+00:00", kind="cram", state_after=None),
            _review("b", "2026-01-02T23:59:00+00:00"), _review("a", "2026-01-02T10:00:00+00:00"),  # out of order
        ])
        old.conn.close()
    db = store.open_db(db_path)
    assert store.has_review_summary(db)
    _summary_is_right(db)
    # a rating, an undo, a review slipped in between (an import), a cram, a state filled later, a move
    rid = store.record_review(db, {**_review("b", datetime(2026, 1, 9, 8, tzinfo=timezone.utc)), "duration_ms": 1,
                                   "answer": None, "correct": None, "session_id": None}, None)
    _summary_is_right(db)
    store.undo_review(db, rid)
    _summary_is_right(db)
    with store.writing(db):
        db["reviews"].insert_all([_review("a", "2026-01-04T00:00:00+00:00", state_after=None, interval=None),
                                  _review("a", "2026-01-04T01:00:00+00:00", kind="cram", state_after=None)])
    _summary_is_right(db)
    db.execute("UPDATE reviews SET state_after = 1, interval_days = 0.5 WHERE reviewed_at = '2026-01-04T00:00:00+00:00'")
    _summary_is_right(db)
    db.execute("UPDATE reviews SET reviewed_at = '2026-01-01T05:00:00+00:00', card_id = 'b' WHERE rating = 1")
    _summary_is_right(db)
    db.execute("DELETE FROM reviews WHERE reviewed_at = '2026-01-02T10:00:00+00:00'")
    _summary_is_right(db)


def test_the_figures_are_the_same_with_or_without_the_summary(db_path, monkeypatch):
    from prep import stats
    from prep.settings import QuizSettings

    db = store.open_db(db_path)
    rows = []
    for card in range(6):
        for day in range(0, 120, 3 + card):
            at = f"{date(2026, 1, 1) + timedelta(days=day)}T{(day * 7) % 24:02d}:{day % 60:02d}:00+00:00"
            rows.append(_review(f"c{card}", at, rating=1 if day % 4 == 0 else 3, interval=float(day % 40)))
    with store.writing(db):
        db["reviews"].insert_all(rows)
    settings = QuizSettings()
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # a half-hour offset: the days are counted from the log
    time.tzset()
    try:
        sinces = [datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 3, 20, 23, tzinfo=timezone.utc), None]

        def figures_now():
            stats._FIRST_REVIEWS.clear()
            return [stats.review_days(db, settings), list(stats.mature_first_reviews(db, settings)), store.lapse_counts(db),
                    stats.true_retentions(db, settings, sinces)]

        figures = figures_now()
        assert figures[3] == [stats.true_retention(db, settings, since) for since in sinces]
        assert figures[3][0]["failed"] and figures[3][0]["passed"]
        monkeypatch.setattr(store, "has_review_summary", lambda d: False)
        assert figures == figures_now()
        monkeypatch.undo()
        monkeypatch.setenv("TZ", "America/New_York")
        time.tzset()
        figures = figures_now()
        assert figures[2] and figures[1]
        monkeypatch.setattr(store, "has_review_summary", lambda d: False)
        assert figures == figures_now()
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_read_only_database_without_the_summary_is_read_the_slow_way(db_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:2])
        store.open_db(db_path).conn.close()
    monkeypatch.setattr(store, "_writable", lambda path: False)
    db = store.open_db(db_path, readonly=True)
    assert store.pending_migrations(db) == ["003_review_summary"] and not store.has_review_summary(db)
    assert store.lapse_counts(db) == {}
