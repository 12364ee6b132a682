"""The progress file (docs/progress.md): export, validate, and merge into the database.

Merging is a union of the review logs keyed on (card_id, reviewed_at, rating),
and for each card the schedule whose `last_review` is the latest wins, so
importing the same file twice changes nothing and the order of two imports does
not matter. Imported log entries carry no `state_after`; it is rebuilt by
replaying each touched card's log through the scheduler, so lapses, leeches and
true retention count browser reviews too.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from . import store
from .errors import InputError
from .scheduling import Scheduler
from .settings import QuizSettings

FORMAT = "prep-progress"
VERSION = 1
KINDS = {"quiz", "cram", "submission", "browser", "import"}
PROBLEMS_SHOWN = 8


def _norm_time(text: Any) -> str:
    """ISO 8601 in UTC, the one spelling the database uses (so keys compare exactly)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not an ISO 8601 string")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(timezone.utc).isoformat()


def export_progress(
    db: sqlite_utils.Database, now: datetime, source: str = "terminal", *, unreviewed: bool = False
) -> dict[str, Any]:
    """The progress document (docs/progress.md).

    `unreviewed` adds the cards suspended or buried before their first review
    (state 0), so a backup keeps them out of the quiz after an import. The study
    site's flashcards read only states 1-3, so the document the site embeds
    leaves them out.
    """
    cards = {}
    states = "0, 1, 2, 3" if unreviewed else "1, 2, 3"
    for row in db["card_state"].rows_where(f"state IN ({states})", order_by="card_id"):
        cards[row["card_id"]] = {
            "state": row["state"],
            "step": row["step"],
            "stability": row["stability"],
            "difficulty": row["difficulty"],
            "due": row["due"],
            "last_review": row["last_review"],
            "suspended": bool(row["suspended"]),
            "buried_until": row["buried_until"],
        }
    reviews = [
        {
            "card_id": r["card_id"],
            "rating": r["rating"],
            "reviewed_at": r["reviewed_at"],
            "duration_ms": r["duration_ms"],
            "kind": r["kind"],
            "answer": r["answer"],
            "correct": None if r["correct"] is None else bool(r["correct"]),
        }
        for r in db["reviews"].rows_where(order_by="reviewed_at, id")
    ]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.astimezone(timezone.utc).isoformat(),
        "source": source,
        "cards": cards,
        "reviews": reviews,
    }


def write_file(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if str(path) == "-":
        import sys

        sys.stdout.write(text)
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write the progress file: {exc.strerror}") from None


def read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); is it a file from `prep progress export`?") from None
    return validate(data, str(path))


def validate(data: Any, source: str = "progress file") -> dict[str, Any]:
    """The document with normalised datetimes, or one InputError listing the problems."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{source}: not a prep progress file (expected \"format\": \"{FORMAT}\")")
    version = data.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise InputError(f"{source}: version {version!r} of the progress format; this prep reads version {VERSION}: upgrade prep")
    problems: list[str] = []
    cards: dict[str, dict[str, Any]] = {}
    raw_cards = data.get("cards", {})
    if not isinstance(raw_cards, dict):
        problems.append("`cards` must be an object keyed by card id")
        raw_cards = {}
    for card_id, st in raw_cards.items():
        where = f"cards.{card_id}"
        if not isinstance(st, dict):
            problems.append(f"{where}: must be an object")
            continue
        try:
            state = st.get("state")
            if state not in (0, 1, 2, 3):
                raise ValueError(f"state must be 0-3, not {state!r}")
            row = {
                "card_id": card_id,
                "state": state,
                "step": st.get("step"),
                "stability": st.get("stability"),
                "difficulty": st.get("difficulty"),
                "due": _norm_time(st.get("due")),
                "last_review": _norm_time(st["last_review"]) if st.get("last_review") is not None else None,
                "buried_until": _norm_time(st["buried_until"]) if st.get("buried_until") is not None else None,
                "suspended": int(bool(st.get("suspended", False))),
            }
            for name in ("stability", "difficulty"):
                if row[name] is not None and not isinstance(row[name], (int, float)):
                    raise ValueError(f"{name} must be a number or null")
            if row["step"] is not None and not isinstance(row["step"], int):
                raise ValueError("step must be an integer or null")
        except (ValueError, KeyError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        cards[card_id] = row
    reviews: list[dict[str, Any]] = []
    raw_reviews = data.get("reviews", [])
    if not isinstance(raw_reviews, list):
        problems.append("`reviews` must be a list")
        raw_reviews = []
    for i, r in enumerate(raw_reviews):
        where = f"reviews[{i}]"
        try:
            if not isinstance(r, dict):
                raise ValueError("must be an object")
            if not isinstance(r.get("card_id"), str) or not r["card_id"]:
                raise ValueError("card_id must be a card id")
            if r.get("rating") not in (1, 2, 3, 4):
                raise ValueError(f"rating must be 1-4, not {r.get('rating')!r}")
            kind = r.get("kind", "import")
            if kind not in KINDS:
                raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}, not {kind!r}")
            duration = r.get("duration_ms")
            if duration is not None and not isinstance(duration, int):
                raise ValueError("duration_ms must be an integer or null")
            correct = r.get("correct")
            reviews.append({
                "card_id": r["card_id"],
                "rating": r["rating"],
                "reviewed_at": _norm_time(r.get("reviewed_at")),
                "duration_ms": duration,
                "kind": kind,
                "answer": r.get("answer"),
                "correct": None if correct is None else int(bool(correct)),
            })
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    if problems:
        shown = "; ".join(problems[:PROBLEMS_SHOWN])
        more = f"; and {len(problems) - PROBLEMS_SHOWN} more" if len(problems) > PROBLEMS_SHOWN else ""
        raise InputError(f"{source}: {len(problems)} bad entr{'y' if len(problems) == 1 else 'ies'}: {shown}{more}")
    return {**data, "cards": cards, "reviews": reviews}


@dataclass
class ImportReport:
    reviews_added: int = 0
    reviews_known: int = 0
    cards_updated: int = 0
    cards_kept: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def import_progress(db: sqlite_utils.Database, data: dict[str, Any], settings: QuizSettings | None = None) -> ImportReport:
    """Merge a validated progress document into the database, in one transaction."""
    report = ImportReport()
    known = {(c, t, r) for c, t, r in db.execute("SELECT card_id, reviewed_at, rating FROM reviews").fetchall()}
    touched: set[str] = set()
    new_rows = []
    for review in data["reviews"]:
        key = (review["card_id"], review["reviewed_at"], review["rating"])
        if key in known:
            report.reviews_known += 1
            continue
        known.add(key)
        new_rows.append(review)
        if review["kind"] != store.CRAM:
            touched.add(review["card_id"])
    local = store.card_state_rows(db)
    winners = []
    for card_id, row in data["cards"].items():
        mine = local.get(card_id)
        if mine is None or (row["last_review"] or "") > (mine["last_review"] or ""):
            winners.append(row)
        else:
            report.cards_kept += 1
    with store.writing(db):
        db["reviews"].insert_all(new_rows, batch_size=1000)
        db["card_state"].upsert_all(winners, pk="card_id")
        _rebuild_log_states(db, touched, Scheduler(settings))
    report.reviews_added = len(new_rows)
    report.cards_updated = len(winners)
    return report


def _rebuild_log_states(db: sqlite_utils.Database, card_ids: set[str], scheduler: Scheduler) -> None:
    """Fill state_after and interval_days of log entries that lack them, by replaying each card's log."""
    if not card_ids:
        return
    by_card: dict[str, list[tuple[int, int, str, Any]]] = defaultdict(list)
    placeholders = ",".join("?" * len(card_ids))
    for rid, card_id, rating, at, state_after in db.execute(
        f"SELECT id, card_id, rating, reviewed_at, state_after FROM reviews "
        f"WHERE kind != ? AND card_id IN ({placeholders}) ORDER BY reviewed_at, id",
        [store.CRAM, *sorted(card_ids)],
    ).fetchall():
        by_card[card_id].append((rid, rating, at, state_after))
    updates = []
    for card_id, entries in by_card.items():
        state = None
        for rid, rating, at, state_after in entries:
            state = scheduler.review(state, card_id, rating, datetime.fromisoformat(at))
            if state_after is None:
                updates.append((state.state, state.interval_days, rid))
    db.conn.executemany("UPDATE reviews SET state_after = ?, interval_days = ? WHERE id = ?", updates)


__all__ = ["export_progress", "import_progress", "read_file", "write_file", "validate", "ImportReport"]
