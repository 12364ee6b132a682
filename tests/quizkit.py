"""Helpers shared by the quiz, scheduling and progress tests: a clock, seeded schedules and logs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsrs

from prep import store
from prep.bank_cache import CardIndex
from prep.cards import load_bank

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)  # a Sunday, 09:00 UTC
BANK_ORDER = [
    "fork-return-values", "zombie-definition",  # processes.yaml
    "time-wait-duration", "close-shared-socket", "shutdown-write-constant", "handshake-order",  # tcp.yaml
]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def index_of(bank: Path) -> CardIndex:
    return CardIndex.from_bank(load_bank(bank))


def put_state(db, card_id: str, state: int, due: datetime, last_review: datetime | None = None, *,
              stability: float = 10.0, difficulty: float = 5.0, step: int | None = None,
              suspended: bool = False, buried_until: datetime | None = None) -> None:
    db["card_state"].upsert({
        "card_id": card_id, "state": state, "step": step, "stability": stability, "difficulty": difficulty,
        "due": store.iso(due), "last_review": store.iso(last_review or due - timedelta(days=10)),
        "buried_until": store.iso(buried_until), "suspended": int(suspended),
    }, pk="card_id")


def log_review(db, card_id: str, rating: int, at: datetime, *, state_after: int = 2, interval_days: float | None = 10.0,
               kind: str = "quiz") -> None:
    db["reviews"].insert({
        "card_id": card_id, "rating": rating, "reviewed_at": store.iso(at), "duration_ms": 3000, "answer": None,
        "correct": None, "session_id": None, "kind": kind, "state_before": None, "state_after": state_after,
        "interval_days": interval_days,
    })


def fsrs_replay(reviews: list[dict], **scheduler_args) -> fsrs.Card:
    """A card's state computed by fsrs directly from log rows (fuzz off)."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False, **scheduler_args)
    card = fsrs.Card(card_id=1, due=datetime.fromisoformat(reviews[0]["reviewed_at"]))
    for row in sorted(reviews, key=lambda r: r["reviewed_at"]):
        card, _ = scheduler.review_card(card, fsrs.Rating(row["rating"]), review_datetime=datetime.fromisoformat(row["reviewed_at"]))
    return card
