"""Progress in SQLite: card states, the append-only review log, sessions, submissions.

One file, in WAL mode with a busy timeout so a quiz and a grading run can write at the same
time. `Database` is the stdlib's connection with sqlite-utils' Database behind it, built at its
first use (without its plugins: looking for them through the installed packages' entry points
costs ~50 ms): reading needs only sqlite3, and importing sqlite-utils costs ~55 ms more (click,
pluggy, dateutil), which the first card and `prep stats` no longer pay. The schema is created and moved
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
from typing import TYPE_CHECKING, Any

import platformdirs

from .errors import StoreError

if TYPE_CHECKING:
    import sqlite_utils

DB_ENV = "PREP_DB"
BUSY_TIMEOUT_MS = 5000


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


class Database:
    """The progress database: a sqlite3 connection, and sqlite-utils' Database on it built when first needed.

    `conn`, a SELECT through `execute`, `table_names()` and `close()` are served by sqlite3
    itself; anything else (`db["reviews"].insert(...)`, `db.query(...)`, a write through
    `execute`) is sqlite-utils' own, as before. The connection is prepared as
    `Database(conn)` prepares it (recursive triggers on), so nothing differs
    whichever answers.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._utils: sqlite_utils.Database | None = None
        conn.execute("PRAGMA recursive_triggers=on;")

    @property
    def utils(self) -> sqlite_utils.Database:
        if self._utils is None:
            import sqlite_utils

            self._utils = sqlite_utils.Database(self.conn, execute_plugins=False, recursive_triggers=False)
        return self._utils

    def execute(self, sql: str, parameters: Any = None) -> sqlite3.Cursor:
        """sqlite-utils' `execute`: a SELECT opens no transaction (autocommit mode), so sqlite3 runs it alone."""
        if sql.lstrip()[:6].upper() == "SELECT":
            return self.conn.execute(sql) if parameters is None else self.conn.execute(sql, parameters)
        return self.utils.execute(sql, parameters)

    def table_names(self) -> list[str]:
        """As sqlite-utils gives them (its query, without the full-text filter prep never uses)."""
        return [row[0] for row in self.conn.execute("select name from sqlite_master where type = 'table'")]

    def close(self) -> None:
        self.conn.close()

    def __getitem__(self, name: str) -> Any:
        return self.utils[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.utils, name)


def _rows(db: Database, sql: str, parameters: Any = None) -> list[dict[str, Any]]:
    """Rows as dicts by column name, as sqlite-utils' `rows` and `rows_where` give them."""
    cursor = db.execute(sql, parameters)
    columns = [c[0] for c in cursor.description]
    return [dict(zip(columns, row)) for row in cursor]


# --- migrations ---------------------------------------------------------------------


def _m001_initial(db: Database) -> None:
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


def _m002_submission_build(db: Database) -> None:
    # A C submission's compile (status, gcc's output with its warnings): JSON, null for Python.
    db["submissions"].add_column("build", str)


# Each log entry's previous scheduling review of the same card (by reviewed_at, id; cram left
# out), as LAG over the log would give it: `prep stats` reads them instead of a window over
# the whole log.
_REFRESH_PREV = """
    UPDATE reviews SET (prev_at, prev_state, prev_interval, prev_days) = (
        SELECT p.reviewed_at, p.state_after, p.interval_days, julianday(reviews.reviewed_at) - julianday(p.reviewed_at)
        FROM reviews AS p
        WHERE p.card_id = reviews.card_id AND p.kind != 'cram'
          AND (p.reviewed_at < reviews.reviewed_at OR (p.reviewed_at = reviews.reviewed_at AND p.id < reviews.id))
        ORDER BY p.reviewed_at DESC, p.id DESC LIMIT 1)
    WHERE {where};"""


def _next_of(row: str) -> str:
    """The id of the scheduling review that follows `row` (NEW or OLD) in its card's log."""
    return f"""(SELECT n.id FROM reviews AS n
        WHERE n.card_id = {row}.card_id AND n.kind != 'cram'
          AND (n.reviewed_at > {row}.reviewed_at OR (n.reviewed_at = {row}.reviewed_at AND n.id > {row}.id))
        ORDER BY n.reviewed_at, n.id LIMIT 1)"""


def _hour_count(row: str, delta: int) -> str:
    return f"""
        INSERT INTO review_hours (hour, reviews)
        SELECT h, {delta} FROM (SELECT strftime('%Y-%m-%dT%H:00:00', {row}.reviewed_at) AS h) WHERE h IS NOT NULL
        ON CONFLICT (hour) DO UPDATE SET reviews = reviews + {delta};
    """


def _m003_review_summary(db: Database) -> None:
    """What `prep stats` needs kept up to date on each write instead of computed over the whole log.

    - reviews.prev_at, prev_state, prev_interval, prev_days: the card's previous scheduling review (lapses
      and true retention read them with a partial index instead of a window over the log);
    - review_hours: reviews per UTC hour (the heatmap, the streak and the total sum these).

    Triggers keep both right whoever writes the log (a rating, an undo, `prep progress import`).
    """
    db.execute("ALTER TABLE reviews ADD COLUMN prev_at TEXT")
    db.execute("ALTER TABLE reviews ADD COLUMN prev_state INTEGER")
    db.execute("ALTER TABLE reviews ADD COLUMN prev_interval FLOAT")
    db.execute("ALTER TABLE reviews ADD COLUMN prev_days FLOAT")  # days since it
    db.execute("CREATE TABLE review_hours (hour TEXT PRIMARY KEY, reviews INTEGER NOT NULL) WITHOUT ROWID")
    # one statement a call: executescript would commit the migration's transaction first
    statements = [
        _REFRESH_PREV.format(where="kind != 'cram'"),
        """INSERT INTO review_hours (hour, reviews)
           SELECT strftime('%Y-%m-%dT%H:00:00', reviewed_at) AS h, COUNT(*) FROM reviews WHERE h IS NOT NULL GROUP BY h""",
        "CREATE INDEX reviews_lapses ON reviews (card_id) WHERE rating = 1 AND prev_state = 2 AND kind != 'cram'",
        """CREATE INDEX reviews_after_review ON reviews (reviewed_at, rating, prev_at, prev_days, prev_interval, prev_state, kind)
           WHERE prev_state = 2 AND kind != 'cram'""",  # covering: the retention query reads no row
        f"""CREATE TRIGGER reviews_summary_insert AFTER INSERT ON reviews BEGIN
            {_REFRESH_PREV.format(where=f"id IN (NEW.id, {_next_of('NEW')}) AND kind != 'cram'")}
            {_hour_count("NEW", 1)}
        END""",
        f"""CREATE TRIGGER reviews_summary_delete AFTER DELETE ON reviews BEGIN
            {_REFRESH_PREV.format(where=f"id = {_next_of('OLD')}")}
            {_hour_count("OLD", -1)}
        END""",
        f"""CREATE TRIGGER reviews_summary_state AFTER UPDATE OF state_after, interval_days ON reviews BEGIN
            {_REFRESH_PREV.format(where=f"id = {_next_of('NEW')}")}
        END""",
        f"""CREATE TRIGGER reviews_summary_move AFTER UPDATE OF card_id, reviewed_at, kind ON reviews BEGIN
            {_REFRESH_PREV.format(where="card_id IN (OLD.card_id, NEW.card_id) AND kind != 'cram'")}
            {_hour_count("OLD", -1)}
            {_hour_count("NEW", 1)}
        END""",
    ]
    for statement in statements:
        db.conn.execute(statement)


MIGRATIONS: list[tuple[str, Callable[[Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_submission_build", _m002_submission_build),
    ("003_review_summary", _m003_review_summary),
]

# Migrations a read-only command can do without: it reads the slower way (see has_review_summary).
OPTIONAL_FOR_READING = {"003_review_summary"}


def has_review_summary(db: Database) -> bool:
    """Whether the log's summary (migration 003) is there; a read-only old file lacks it."""
    return "review_hours" in db.table_names()


def migrate(db: Database) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction."""
    if "migrations" not in db.table_names():
        db["migrations"].create({"name": str, "applied_at": str}, pk="name")
    done = {name for (name,) in db.execute("select name from [migrations]")}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        # The connection is in autocommit mode, so the transaction is explicit:
        # a crash in the middle of a step leaves the schema as it was.
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            db["migrations"].insert({"name": name, "applied_at": iso(utcnow())})
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")
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


def pending_migrations(db: Database) -> list[str]:
    """The migrations the database still needs, by name."""
    if "migrations" not in db.table_names():
        return [name for name, _ in MIGRATIONS]
    done = {name for (name,) in db.execute("select name from [migrations]")}
    return [name for name, _ in MIGRATIONS if name not in done]


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _open_readonly(path: Path) -> Database:
    """The database opened for reading only: nothing written, not even a migration.

    When a migration is due, a writable file is opened as usual (and migrated); a read-only
    one is StoreError (exit 4) saying so, rather than a failed write half-way, unless the
    migrations due are only summaries the readers can do without (OPTIONAL_FOR_READING).
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path.resolve()))}"
    conn = None
    try:
        try:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            db = Database(conn)
            pending = pending_migrations(db)
        except sqlite3.OperationalError:
            # a WAL file in a folder where its -shm cannot be made: read it as it is on disk
            if conn is not None:
                conn.close()
            conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
            db = Database(conn)
            pending = pending_migrations(db)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        raise _explain(path, exc) from None
    if pending and (_writable(path) or not set(pending) <= OPTIONAL_FOR_READING):
        conn.close()
        if _writable(path):
            return open_db(path)
        raise StoreError(f"{path}: the progress database needs an upgrade ({', '.join(pending)}) and the file is "
                         "read-only: make it writable (or copy it and use --db) and run this again")
    db.path = path  # type: ignore[attr-defined]
    return db


def open_db(path: Path | None = None, readonly: bool = False) -> Database:
    """Open (creating and migrating) the progress database, or raise StoreError saying why not.

    `readonly`: for commands that only read (stats, due, card info, progress export): an
    existing file is opened read-only, so a read-only file (a backup, a shared copy) works.
    """
    path = Path(path) if path else default_path()
    if readonly and path.is_file():
        return _open_readonly(path)
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
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        db = Database(conn)
        migrate(db)
    except sqlite3.Error as exc:
        raise _explain(path, exc) from None
    db.path = path  # type: ignore[attr-defined]
    # sqlite-utils >= 4 has `db.journal_mode` (a read-only property) for the mode set above
    return db


@contextmanager
def writing(db: Database) -> Iterator[None]:
    """One transaction; sqlite errors become StoreError naming the file."""
    try:
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            yield
    except sqlite3.Error as exc:
        raise _explain(getattr(db, "path", Path("?")), exc) from None


def schema_version(db: Database) -> int:
    return db.execute("select count(*) from [migrations]").fetchone()[0]


# --- card states, reviews, sessions (the quiz) --------------------------------------
#
# Plain rows in and out: prep.scheduling turns them into CardState. Every write is
# one transaction, committed at once, so a rating survives Ctrl-C or a crash.

CRAM = "cram"  # reviews of this kind never change a card's schedule


def card_state_rows(db: Database) -> dict[str, dict[str, Any]]:
    """Every card's schedule row, by card id."""
    try:
        return {row["card_id"]: row for row in _rows(db, "select * from [card_state]")}
    except sqlite3.Error as exc:
        raise _explain(getattr(db, "path", Path("?")), exc) from None


def card_state_row(db: Database, card_id: str) -> dict[str, Any] | None:
    rows = _rows(db, "select * from [card_state] where card_id = ?", [card_id])
    return rows[0] if rows else None


def start_session(db: Database, kind: str, started_at: datetime) -> int:
    with writing(db):
        cursor = db.conn.execute(
            "INSERT INTO [sessions] ([started_at], [ended_at], [kind]) VALUES (?, ?, ?)", [iso(started_at), iso(started_at), kind]
        )
        return int(cursor.lastrowid)


def record_review(db: Database, review: dict[str, Any], state_after: dict[str, Any] | None) -> int:
    """Append one rating to the log and store the card's new schedule, in one transaction.

    `review` holds card_id, rating, reviewed_at (datetime), duration_ms, answer,
    correct, session_id, kind, state_after, interval_days. The card's previous row
    is kept in the log entry (`state_before`) so the rating can be undone.
    `state_after` None leaves the schedule alone (cram).
    """
    card_id = review["card_id"]
    with writing(db):
        before = card_state_row(db, card_id)
        row = {
            **review,
            "reviewed_at": iso(review["reviewed_at"]),
            "state_before": json.dumps(before) if before else None,
        }
        review_id = int(db["reviews"].insert(row).last_pk)
        if state_after is not None:
            db["card_state"].upsert(state_after, pk="card_id")
        if review.get("session_id"):
            db.execute(
                "UPDATE sessions SET reviewed = reviewed + 1, correct = correct + ?, ended_at = ? WHERE id = ?",
                [int(review["rating"] > 1), row["reviewed_at"], review["session_id"]],
            )
    return review_id


def undo_review(db: Database, review_id: int) -> dict[str, Any]:
    """Remove a rating from the log and put the card's schedule back as it was before it."""
    with writing(db):
        rows = list(db["reviews"].rows_where("id = ?", [review_id]))
        if not rows:
            raise StoreError(f"{getattr(db, 'path', '?')}: review {review_id} is not in the log (undone elsewhere?)")
        review = rows[0]
        if review["kind"] != CRAM:
            later = db.execute(
                "SELECT COUNT(*) FROM reviews WHERE card_id = ? AND id > ? AND kind != ?",
                [review["card_id"], review_id, CRAM],
            ).fetchone()[0]
            if later:
                raise StoreError(
                    f"{getattr(db, 'path', '?')}: {review['card_id']} was reviewed again since; only its last rating can be undone"
                )
            before = json.loads(review["state_before"]) if review["state_before"] else None
            if before is None:
                db["card_state"].delete_where("card_id = ?", [review["card_id"]])
            else:
                db["card_state"].upsert(before, pk="card_id")
        db["reviews"].delete(review_id)
        if review.get("session_id"):
            db.execute(
                "UPDATE sessions SET reviewed = reviewed - 1, correct = correct - ? WHERE id = ?",
                [int(review["rating"] > 1), review["session_id"]],
            )
    return review


def put_card_state(db: Database, row: dict[str, Any]) -> None:
    """Store one card's schedule row (bury, suspend, or putting one back on undo)."""
    with writing(db):
        db["card_state"].upsert(row, pk="card_id")


def put_card_states(db: Database, rows: list[dict[str, Any]]) -> None:
    """Store several cards' schedule rows in one transaction (all of them, or none)."""
    with writing(db):
        db["card_state"].upsert_all(rows, pk="card_id")


def delete_card_state(db: Database, card_id: str) -> None:
    with writing(db):
        db["card_state"].delete_where("card_id = ?", [card_id])


def finish_session(db: Database, session_id: int, ended_at: datetime) -> dict[str, Any]:
    with writing(db):
        db.conn.execute("UPDATE sessions SET ended_at = ? WHERE id = ?", [iso(ended_at), session_id])
    rows = _rows(db, "select * from [sessions] where [id] = ?", [session_id])
    return rows[0] if rows else db["sessions"].get(session_id)  # sqlite-utils' NotFoundError


def activity_since(db: Database, since: datetime) -> tuple[set[str], set[str]]:
    """Cards first reviewed at or after `since`, and cards reviewed since then that were seen before.

    Cram reviews are left out: they do not change the schedule, so they count
    against no daily limit.
    """
    since_text = iso(since)
    # Two plain queries: with DISTINCT in one, SQLite walks the whole (card_id, reviewed_at)
    # index (200,000 rows: ~100 ms) instead of the few rows since `since`.
    recent = {
        card_id
        for (card_id,) in db.execute(
            "SELECT card_id FROM reviews WHERE reviewed_at >= ? AND kind != ?", [since_text, CRAM]
        ).fetchall()
    }
    if not recent:
        return set(), set()
    marks = ",".join("?" * len(recent))
    old = {
        card_id
        for (card_id,) in db.execute(
            f"SELECT DISTINCT card_id FROM reviews WHERE card_id IN ({marks}) AND reviewed_at < ? AND kind != ?",
            [*recent, since_text, CRAM],
        ).fetchall()
    }
    return recent - old, old


def reviews_of(db: Database, card_id: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
    """Log entries oldest first, optionally of one card or since a moment."""
    where, args = [], []
    if card_id is not None:
        where.append("card_id = ?")
        args.append(card_id)
    if since is not None:
        where.append("reviewed_at >= ?")
        args.append(iso(since))
    return list(db["reviews"].rows_where(" AND ".join(where) or None, args or None, order_by="reviewed_at, id"))


def lapse_counts(db: Database) -> dict[str, int]:
    """Lapses per card, counted from the log: an Again given to a card in review.

    Whether the card was in review is the previous scheduling review's state_after,
    so imported entries (which carry no state_before) count too.
    """
    if has_review_summary(db):  # each entry's previous state is kept on it: a partial index holds the lapses
        return dict(db.execute(
            "SELECT card_id, COUNT(*) FROM reviews WHERE rating = 1 AND prev_state = 2 AND kind != 'cram' GROUP BY card_id"
        ).fetchall())
    rows = db.execute(
        """
        SELECT card_id, COUNT(*) FROM (
            SELECT card_id, rating,
                   LAG(state_after) OVER (PARTITION BY card_id ORDER BY reviewed_at, id) AS prev_state
            FROM reviews WHERE kind != ?
        ) WHERE rating = 1 AND prev_state = 2 GROUP BY card_id
        """,
        [CRAM],
    ).fetchall()
    return dict(rows)


def lapses_of(db: Database, card_id: str) -> int:
    rows = db.execute(
        """
        SELECT COUNT(*) FROM (
            SELECT rating, LAG(state_after) OVER (ORDER BY reviewed_at, id) AS prev_state
            FROM reviews WHERE card_id = ? AND kind != ?
        ) WHERE rating = 1 AND prev_state = 2
        """,
        [card_id, CRAM],
    ).fetchone()
    return int(rows[0])


# --- submissions --------------------------------------------------------------------


def record_submission(
    db: Database,
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
        "build": json.dumps(result["build"], ensure_ascii=False) if result.get("build") else None,
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


def submissions(db: Database, exercise: str | None = None) -> list[dict[str, Any]]:
    where, args = ("exercise = ?", [exercise]) if exercise else (None, None)
    return list(db["submissions"].rows_where(where, args, order_by="submitted_at desc, id desc"))


def submission_tests(db: Database, submission_id: int) -> list[dict[str, Any]]:
    return list(db["submission_tests"].rows_where("submission_id = ?", [submission_id]))
