"""The server's database: SQLAlchemy Core tables that work on SQLite and PostgreSQL alike.

Times are ISO 8601 UTC strings; files and results are JSON text. Every function takes the
engine and returns plain dicts: the API and the CLI never write SQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from .auth import token_hash
from .errors import Busy, Conflict, NotFoundError, QueueFull, Unauthorized

ROLES = ("learner", "instructor")
STATES = ("queued", "running", "done")
BUSY_RETRY_AFTER = 5  # seconds: a fast exercise is graded by then
FULL_RETRY_AFTER = 30

metadata = sa.MetaData()

classes = sa.Table(
    "classes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
    sa.UniqueConstraint("class_id", "name", name="one_name_per_class"),
)

submissions = sa.Table(
    "submissions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("exercise", sa.String(100), nullable=False),
    sa.Column("files", sa.Text, nullable=False),  # JSON {name: text}
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("result", sa.Text),  # JSON: the result document, version 1
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("submitted_at", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40)),
    sa.Column("finished_at", sa.String(40)),
    sa.Column("worker", sa.String(200)),  # who grades it (distributed mode): host:pid of a `prep server worker`
    sa.Column("sent_at", sa.String(40)),  # when a task for it was last sent to the task queue
)
# Distributed mode: each `prep server worker` says it is alive here every few seconds. A submission
# running on a worker not seen for WORKER_DEAD_SECONDS goes back to queued and is graded again.
workers = sa.Table(
    "workers", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("seen_at", sa.String(40), nullable=False),
)
ADDED_COLUMNS = {"submissions": ("worker", "sent_at")}  # columns a database of the first slice lacks
# One submission in flight per learner, kept by the database itself (two requests cannot race past it).
sa.Index("one_in_flight_per_user", submissions.c.user_id, unique=True,
         sqlite_where=submissions.c.state != "done", postgresql_where=submissions.c.state != "done")
sa.Index("submissions_by_state", submissions.c.state, submissions.c.id)


def now(ago: float = 0) -> str:
    """The time now (or `ago` seconds before), ISO 8601 UTC: strings that sort as the times do."""
    return (datetime.now(timezone.utc) - timedelta(seconds=ago)).isoformat(timespec="seconds")


def sqlalchemy_url(url: str) -> str:
    """URL with the driver named: postgresql:// (and postgres://) mean psycopg 3, not SQLAlchemy's default psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def safe_url(url: str) -> str:
    """URL with its password hidden, to print."""
    return sa.engine.make_url(url).render_as_string(hide_password=True) if "@" in url else url


def engine(url: str) -> sa.Engine:
    """An engine for URL; SQLite gets WAL, a busy timeout and connections shared across threads."""
    if url.startswith("sqlite"):
        made = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(made, "connect")
        def _pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return made
    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True)


def init(eng: sa.Engine) -> None:
    """Create the tables and the columns that are missing (never drops or changes one)."""
    metadata.create_all(eng)
    inspector = sa.inspect(eng)
    with eng.begin() as conn:
        for table, names in ADDED_COLUMNS.items():
            have = {c["name"] for c in inspector.get_columns(table)}
            for name in names:
                if name not in have:
                    column = metadata.tables[table].c[name]
                    kind = column.type.compile(dialect=eng.dialect)
                    conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))


def is_initialised(eng: sa.Engine) -> bool:
    return sa.inspect(eng).has_table("submissions")


# ---------------------------------------------------------------- classes and users


def create_class(eng: sa.Engine, name: str) -> dict[str, Any]:
    with eng.begin() as conn:
        if conn.execute(sa.select(classes.c.id).where(classes.c.name == name)).first():
            raise Conflict(f"a class named {name!r} exists already")
        row = {"name": name, "created_at": now()}
        row["id"] = conn.execute(classes.insert().values(**row)).inserted_primary_key[0]
    return row


def class_by_name(conn, name: str) -> dict[str, Any]:
    row = conn.execute(sa.select(classes).where(classes.c.name == name)).mappings().first()
    if row is None:
        raise NotFoundError(f"no class {name!r} (`prep server class create {name}` makes it)")
    return dict(row)


def add_user(eng: sa.Engine, class_name: str, name: str, role: str, token: str) -> dict[str, Any]:
    """A learner or instructor of a class, with the sha256 of their token (the token itself is not kept)."""
    assert role in ROLES
    with eng.begin() as conn:
        klass = class_by_name(conn, class_name)
        taken = conn.execute(sa.select(users.c.id).where(users.c.class_id == klass["id"], users.c.name == name)).first()
        if taken:
            raise Conflict(f"{class_name} has a user named {name!r} already")
        row = {"class_id": klass["id"], "name": name, "role": role, "token_hash": token_hash(token), "created_at": now()}
        row["id"] = conn.execute(users.insert().values(**row)).inserted_primary_key[0]
    return {"id": row["id"], "class": class_name, "name": name, "role": role}


def revoke_user(eng: sa.Engine, class_name: str, name: str) -> dict[str, Any]:
    with eng.begin() as conn:
        klass = class_by_name(conn, class_name)
        found = conn.execute(sa.select(users).where(users.c.class_id == klass["id"], users.c.name == name)).mappings().first()
        if found is None:
            raise NotFoundError(f"{class_name} has no user named {name!r}")
        if found["revoked_at"] is None:
            conn.execute(users.update().where(users.c.id == found["id"]).values(revoked_at=now()))
    return {"class": class_name, "name": name, "role": found["role"], "revoked": True}


def user_by_token(eng: sa.Engine, token: str | None) -> dict[str, Any]:
    """The user a token belongs to, with their class's name; Unauthorized otherwise."""
    if not token:
        raise Unauthorized("no token: send the header Authorization: Bearer TOKEN")
    query = (sa.select(users, classes.c.name.label("class_name"))
             .join(classes, users.c.class_id == classes.c.id)
             .where(users.c.token_hash == token_hash(token)))
    with eng.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        raise Unauthorized("unknown token")
    if row["revoked_at"] is not None:
        raise Unauthorized(f"this token was revoked on {row['revoked_at'][:10]}")
    return dict(row)


def class_users(eng: sa.Engine, class_id: int) -> list[dict[str, Any]]:
    with eng.connect() as conn:
        rows = conn.execute(sa.select(users).where(users.c.class_id == class_id).order_by(users.c.name)).mappings()
        return [dict(r) for r in rows]


# ---------------------------------------------------------------- submissions


def add_submission(eng: sa.Engine, user_id: int, exercise: str, files: dict[str, str], code_hash: str,
                   queue_size: int) -> int:
    """A new queued submission; Busy when the learner has one in flight, QueueFull at `queue_size` in flight."""
    try:
        return _add_submission(eng, user_id, exercise, files, code_hash, queue_size)
    except sa.exc.IntegrityError:  # another request of the same learner got in first
        raise _busy(None) from None


def _add_submission(eng, user_id, exercise, files, code_hash, queue_size) -> int:
    with eng.begin() as conn:
        mine = conn.execute(sa.select(submissions.c.id).where(
            submissions.c.user_id == user_id, submissions.c.state != "done")).first()
        if mine is not None:
            raise _busy(mine[0])
        in_flight = conn.execute(sa.select(sa.func.count()).select_from(submissions)
                                 .where(submissions.c.state != "done")).scalar_one()
        if in_flight >= queue_size:
            raise QueueFull(f"the grading queue is full ({in_flight} submissions): try again later", FULL_RETRY_AFTER)
        result = conn.execute(submissions.insert().values(
            user_id=user_id, exercise=exercise, files=json.dumps(files, ensure_ascii=False),
            code_hash=code_hash, state="queued", attempts=0, submitted_at=now()))
        return int(result.inserted_primary_key[0])


def _busy(submission_id: int | None) -> Busy:
    which = f"submission {submission_id}" if submission_id is not None else "another submission"
    return Busy(f"{which} is still being graded: one submission at a time per learner", BUSY_RETRY_AFTER)


def claim_next(eng: sa.Engine) -> int | None:
    """Take the oldest queued submission for grading (state running, one more attempt), or None.

    Atomic across threads and processes: the row is taken only by the UPDATE that changed it."""
    while True:
        with eng.begin() as conn:
            row = conn.execute(sa.select(submissions.c.id).where(submissions.c.state == "queued")
                               .order_by(submissions.c.id).limit(1)).first()
            if row is None:
                return None
            changed = conn.execute(submissions.update()
                                   .where(submissions.c.id == row[0], submissions.c.state == "queued")
                                   .values(state="running", attempts=submissions.c.attempts + 1, started_at=now()))
            if changed.rowcount == 1:
                return int(row[0])


def requeue_running(eng: sa.Engine) -> list[int]:
    """Put back to queued what a server that stopped left running (embedded mode: one process owns the queue)."""
    with eng.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.select(submissions.c.id).where(submissions.c.state == "running"))]
        if ids:
            conn.execute(submissions.update().where(submissions.c.id.in_(ids), submissions.c.state == "running")
                         .values(state="queued"))
    return ids


def queued_ids(eng: sa.Engine) -> list[int]:
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(submissions.c.id).where(submissions.c.state == "queued")
                                           .order_by(submissions.c.id))]


def mark_running(eng: sa.Engine, submission_id: int) -> None:
    """A queued submission a worker takes without claim_next (a task queue that delivered it)."""
    with eng.begin() as conn:
        conn.execute(submissions.update().where(submissions.c.id == submission_id, submissions.c.state == "queued")
                     .values(state="running", attempts=submissions.c.attempts + 1, started_at=now()))


def take(eng: sa.Engine, submission_id: int, worker: str) -> bool:
    """A worker takes a submission a task queue delivered: True when it is now this worker's to grade.

    It is taken when queued, or when running on this same worker (a task retried after the database
    failed under it); not when done, nor when another worker grades it (a duplicate task)."""
    with eng.begin() as conn:
        changed = conn.execute(submissions.update().where(
            submissions.c.id == submission_id,
            sa.or_(submissions.c.state == "queued",
                   sa.and_(submissions.c.state == "running", submissions.c.worker == worker)),
        ).values(state="running", worker=worker, attempts=submissions.c.attempts + 1, started_at=now()))
        return changed.rowcount == 1


def heartbeat(eng: sa.Engine, worker: str) -> None:
    """`worker` is alive now."""
    with eng.begin() as conn:
        if conn.execute(workers.update().where(workers.c.name == worker).values(seen_at=now())).rowcount == 0:
            conn.execute(workers.insert().values(name=worker, seen_at=now()))


def forget_worker(eng: sa.Engine, worker: str) -> None:
    with eng.begin() as conn:
        conn.execute(workers.delete().where(workers.c.name == worker))


def requeue_abandoned(eng: sa.Engine, worker: str, holding: set[int]) -> list[int]:
    """Put back to queued what runs on this live `worker` but is not in `holding`, the gradings it has under way.

    A grading whose database went away under it is retried through the queue, and the retry may
    reach another worker, which must not take a row running here: the row is given back instead."""
    with eng.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.select(submissions.c.id).where(
            submissions.c.state == "running", submissions.c.worker == worker))
            if r[0] not in holding]
        for submission_id in ids:
            conn.execute(submissions.update().where(
                submissions.c.id == submission_id, submissions.c.state == "running", submissions.c.worker == worker,
            ).values(state="queued", worker=None, sent_at=None))
    return ids


def requeue_lost(eng: sa.Engine, dead_after: float) -> list[int]:
    """Put back to queued what runs on a worker not seen for `dead_after` seconds (killed, or its machine gone)."""
    alive = sa.select(workers.c.name).where(workers.c.seen_at >= now(dead_after))
    with eng.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.select(submissions.c.id).where(
            submissions.c.state == "running",
            sa.or_(submissions.c.worker.is_(None), submissions.c.worker.not_in(alive))))]
        requeued = []
        for submission_id in ids:
            changed = conn.execute(submissions.update().where(
                submissions.c.id == submission_id, submissions.c.state == "running",
                sa.or_(submissions.c.worker.is_(None), submissions.c.worker.not_in(alive)),
            ).values(state="queued", worker=None, sent_at=None))
            if changed.rowcount == 1:
                requeued.append(submission_id)
    return requeued


def to_send(eng: sa.Engine, resend_after: float) -> list[int]:
    """Queued submissions whose task was never sent, or sent more than `resend_after` seconds ago (a message
    the task queue lost: a broker restarted empty); each is marked sent now, once, whoever else asks."""
    stale = sa.or_(submissions.c.sent_at.is_(None), submissions.c.sent_at < now(resend_after))
    with eng.begin() as conn:
        ids = [r[0] for r in conn.execute(sa.select(submissions.c.id).where(submissions.c.state == "queued", stale)
                                          .order_by(submissions.c.id))]
        taken = []
        for submission_id in ids:
            changed = conn.execute(submissions.update().where(
                submissions.c.id == submission_id, submissions.c.state == "queued", stale).values(sent_at=now()))
            if changed.rowcount == 1:
                taken.append(submission_id)
    return taken


def mark_sent(eng: sa.Engine, submission_id: int) -> None:
    with eng.begin() as conn:
        conn.execute(submissions.update().where(submissions.c.id == submission_id).values(sent_at=now()))


def finish(eng: sa.Engine, submission_id: int, result: dict[str, Any]) -> bool:
    """Store the result once: False when the submission was already done (a second grading of it)."""
    with eng.begin() as conn:
        changed = conn.execute(submissions.update()
                               .where(submissions.c.id == submission_id, submissions.c.state != "done")
                               .values(state="done", result=json.dumps(result, ensure_ascii=False),
                                       finished_at=now()))
        return changed.rowcount == 1


def submission_row(eng: sa.Engine, submission_id: int) -> dict[str, Any]:
    query = (sa.select(submissions, users.c.name.label("learner"), users.c.class_id)
             .join(users, submissions.c.user_id == users.c.id).where(submissions.c.id == submission_id))
    with eng.connect() as conn:
        row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFoundError(f"no submission {submission_id}")
        data = dict(row)
        if data["state"] == "queued":
            data["queued_ahead"] = conn.execute(sa.select(sa.func.count()).select_from(submissions).where(
                submissions.c.state == "queued", submissions.c.id < submission_id)).scalar_one()
        else:
            data["queued_ahead"] = 0
    return data


def submission_rows(eng: sa.Engine, user_id: int | None = None, class_id: int | None = None) -> list[dict[str, Any]]:
    """Submissions newest first: one user's, or a whole class's."""
    query = (sa.select(submissions, users.c.name.label("learner"), users.c.class_id)
             .join(users, submissions.c.user_id == users.c.id).order_by(submissions.c.id.desc()))
    if user_id is not None:
        query = query.where(submissions.c.user_id == user_id)
    if class_id is not None:
        query = query.where(users.c.class_id == class_id)
    with eng.connect() as conn:
        return [{**dict(r), "queued_ahead": None} for r in conn.execute(query).mappings()]


def public(row: dict[str, Any], with_files: bool = False) -> dict[str, Any]:
    """A submission as the API shows it."""
    data = {
        "id": row["id"], "exercise": row["exercise"], "learner": row["learner"], "code_hash": row["code_hash"],
        "state": row["state"],
        "attempts": row["attempts"], "submitted_at": row["submitted_at"], "started_at": row["started_at"],
        "finished_at": row["finished_at"], "queued_ahead": row.get("queued_ahead"),
        "result": json.loads(row["result"]) if row.get("result") else None,
    }
    if with_files:
        data["files"] = json.loads(row["files"])
    return data
