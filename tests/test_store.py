"""The progress database: created, migrated once, in WAL mode, versioned by its migrations."""

from __future__ import annotations

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
