"""Progress in SQLite: card states, the append-only review log, sessions, submissions.

One file, opened through sqlite-utils, in WAL mode with a busy timeout so a quiz
and a grading run can write at the same time. The schema is created and moved
forward by named migrations recorded in the `migrations` table.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs
import sqlite_utils

from .errors import StoreError

DB_ENV = "PREP_DB"
BUSY_TIMEOUT_MS = 5000
SCHEMA_VERSION = 1


def default_path() -> Path:
    """$PREP_DB, else progress.db in the platform's user data directory."""
    chosen = os.environ.get(DB_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_data_dir("prep", appauthor=False)) / "progress.db"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def parse_iso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# --- migrations ---------------------------------------------------------------------


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["card_state"].create(
        {
            "card_id": str,
            "state": int,
            "step": int,
            "stability": float,
            "difficulty": float,
            "due": str,
            "last_review": str,
            "buried_until": str,
            "suspended": int,
        },
        pk="card_id",
        not_null={"state", "due"},
        defaults={"suspended": 0},
    )
    db["sessions"].create(
        {"id": int, "started_at": str, "ended_at": str, "kind": str, "reviewed": int, "correct": int},
        pk="id",
        defaults={"reviewed": 0, "correct": 0},
    )
    db["reviews"].create(
        {
            "id": int,
            "card_id": str,
            "rating": int,
            "reviewed_at": str,
            "duration_ms": int,
            "answer": str,
            "correct": int,
            "session_id": int,
            "kind": str,  # quiz, cram, submission, import
            "state_before": str,  # JSON of the card_state row before this rating, for undo
            "state_after": int,
            "interval_days": float,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id")],
        not_null={"card_id", "rating", "reviewed_at", "kind"},
    )
    db["reviews"].create_index(["card_id", "reviewed_at"])
    db["reviews"].create_index(["reviewed_at"])
    db["submissions"].create(
        {
            "id": int,
            "exercise": str,
            "submitted_at": str,
            "code_hash": str,
            "code": str,  # JSON {relative path: text}
            "verdict": str,
            "score": float,
            "duration_ms": int,
            "backend": str,
            "performance": str,  # JSON or null
            "counts_as_attempt": int,
            "message": str,
        },
        pk="id",
        not_null={"exercise", "submitted_at", "verdict"},
    )
    db["submissions"].create_index(["exercise", "submitted_at"])
    db["submission_tests"].create(
        {
            "submission_id": int,
            "name": str,
            "status": str,
            "message": str,
            "output": str,
            "duration_ms": int,
            "weight": float,
        },
        foreign_keys=[("submission_id", "submissions", "id")],
    )
    db["submission_tests"].create_index(["submission_id"])
    db["exercise_state"].create(
        {
            "exercise": str,
            "state": int,
            "step": int,
            "stability": float,
            "difficulty": float,
            "due": str,
            "last_review": str,
            "best_performance": float,
        },
        pk="exercise",
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction."""
    if "migrations" not in db.table_names():
        db["migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {row["name"] for row in db["migrations"].rows}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with db.conn:
            step(db)
            db["migrations"].insert({"name": name, "applied_at": iso(utcnow())})
        applied.append(name)
    return applied


# --- opening ------------------------------------------------------------------------


def _explain(path: Path, exc: sqlite3.Error) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(
            f"{path}: the progress database is locked by another program; close the other `prep` and try again"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"{path}: the progress database is damaged ({exc}); restore a backup made with "
            "`prep progress export`, or move the file away to start fresh"
        )
    if "readonly" in text or "unable to open" in text or "permission" in text or "disk i/o" in text:
        return StoreError(
            f"{path}: cannot write the progress database ({exc}); check the folder's permissions "
            f"or choose another file with --db or ${DB_ENV}"
        )
    return StoreError(f"{path}: the progress database failed: {exc}")


def open_db(path: Path | None = None) -> sqlite_utils.Database:
    """Open (creating and migrating) the progress database, or raise StoreError saying why not."""
    path = Path(path) if path else default_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{path.parent}: cannot create the folder for the progress database: {exc.strerror}") from None
    if path.is_dir():
        raise StoreError(f"{path}: is a folder; give --db the path of a file")
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        db = sqlite_utils.Database(conn)
        migrate(db)
    except sqlite3.Error as exc:
        raise _explain(path, exc) from None
    db.path = path  # type: ignore[attr-defined]
    db.journal_mode = mode  # type: ignore[attr-defined]
    return db


@contextmanager
def writing(db: sqlite_utils.Database) -> Iterator[None]:
    """One transaction; sqlite errors become StoreError naming the file."""
    try:
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            yield
    except sqlite3.Error as exc:
        raise _explain(getattr(db, "path", Path("?")), exc) from None


def schema_version(db: sqlite_utils.Database) -> int:
    return len(list(db["migrations"].rows))


# --- submissions --------------------------------------------------------------------


def record_submission(
    db: sqlite_utils.Database,
    result: dict[str, Any],
    files: dict[str, str],
    exercise: str,
    code_hash: str,
    submitted_at: datetime | None = None,
) -> int:
    """Store one graded submission and its per-test results; returns its id."""
    verdict = result["verdict"]
    row = {
        "exercise": exercise,
        "submitted_at": iso(submitted_at or utcnow()),
        "code_hash": code_hash,
        "code": json.dumps(files, ensure_ascii=False),
        "verdict": verdict,
        "score": float(result.get("score") or 0.0),
        "duration_ms": int(result.get("duration_ms") or 0),
        "backend": result.get("backend", "?"),
        "performance": json.dumps(result["performance"]) if result.get("performance") else None,
        "counts_as_attempt": 0 if verdict == "internal-error" else 1,
        "message": result.get("message"),
    }
    with writing(db):
        submission_id = db["submissions"].insert(row).last_pk
        db["submission_tests"].insert_all(
            {
                "submission_id": submission_id,
                "name": t["name"],
                "status": t["status"],
                "message": t.get("message"),
                "output": t.get("output"),
                "duration_ms": t.get("duration_ms"),
                "weight": t.get("weight", 1),
            }
            for t in result.get("tests", [])
        )
    return int(submission_id)


def submissions(db: sqlite_utils.Database, exercise: str | None = None) -> list[dict[str, Any]]:
    where, args = ("exercise = ?", [exercise]) if exercise else (None, None)
    return list(db["submissions"].rows_where(where, args, order_by="submitted_at desc, id desc"))


def submission_tests(db: sqlite_utils.Database, submission_id: int) -> list[dict[str, Any]]:
    return list(db["submission_tests"].rows_where("submission_id = ?", [submission_id]))
