"""Scheduling: FSRS (the `fsrs` package) behind a small functional wrapper.

- The clock is passed in: every function takes the moment it works at (aware, UTC).
- `Scheduler.review` returns a new CardState and never mutates; the review log is
  the source of truth, and `Scheduler.replay` rebuilds a card's state from it.
- Fuzz never touches the global random generator: it is drawn from a generator
  seeded with the card id and the review's moment, so replaying a log gives the
  same due dates, and the spread is the one py-fsrs uses.
- The learner's calendar (what "today" is for limits, burying and stats) is local
  time, with a new day starting at `day_starts_at` o'clock, as in Anki.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .errors import InputError
from .settings import QuizSettings

NEW, LEARNING, REVIEW, RELEARNING = 0, 1, 2, 3
STATE_NAMES = {NEW: "new", LEARNING: "learning", REVIEW: "review", RELEARNING: "relearning"}
AGAIN, HARD, GOOD, EASY = 1, 2, 3, 4
RATING_NAMES = {AGAIN: "Again", HARD: "Hard", GOOD: "Good", EASY: "Easy"}
MATURE_DAYS = 21
NOW_ENV = "PREP_NOW"

Clock = Callable[[], datetime]


# --- time ---------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime: prep works with aware datetimes only")
    return moment.astimezone(timezone.utc)


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def clock_from_env() -> Clock:
    """The real clock, or one starting at $PREP_NOW (ISO 8601) and ticking in real time.

    Read once, at startup: tests and demos pin the day without freezing durations.
    """
    text = os.environ.get(NOW_ENV)
    if not text:
        return system_clock
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
        start = utc(start)
    except ValueError:
        raise InputError(f"${NOW_ENV}={text!r} is not an ISO 8601 moment with a time zone, e.g. 2026-03-01T09:00:00+00:00") from None
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def local_day(moment: datetime, day_starts_at: int = 4) -> date:
    """The learner's day a moment belongs to (local time, days start at `day_starts_at`)."""
    return (moment.astimezone() - timedelta(hours=day_starts_at)).date()


def day_start(day: date, day_starts_at: int = 4) -> datetime:
    """When the learner's `day` begins, in UTC."""
    return datetime(day.year, day.month, day.day, day_starts_at).astimezone(timezone.utc)


def next_day_start(moment: datetime, day_starts_at: int = 4) -> datetime:
    return day_start(local_day(moment, day_starts_at) + timedelta(days=1), day_starts_at)


# --- card state ---------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class CardState:
    """A card's schedule: the fsrs Card fields, keyed by the bank's card id, plus bury and suspend.

    state 0 (new) exists only to hold `suspended` or `buried_until` for a card never reviewed.
    """

    card_id: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    buried_until: datetime | None = None
    suspended: bool = False

    @classmethod
    def new(cls, card_id: str, now: datetime) -> "CardState":
        return cls(card_id, NEW, None, None, None, now, None)

    @property
    def is_new(self) -> bool:
        return self.state == NEW

    @property
    def interval_days(self) -> float | None:
        """The scheduled interval: from the last review to the due date."""
        if self.last_review is None:
            return None
        return (self.due - self.last_review).total_seconds() / 86400

    @property
    def mature(self) -> bool:
        return self.state == REVIEW and (self.interval_days or 0) >= MATURE_DAYS

    def to_row(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "state": self.state,
            "step": self.step,
            "stability": self.stability,
            "difficulty": self.difficulty,
            "due": _iso(self.due),
            "last_review": _iso(self.last_review),
            "buried_until": _iso(self.buried_until),
            "suspended": int(self.suspended),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "CardState":
        # `is not None`, never truthiness: a stability of 0.0 is a value.
        return cls(
            card_id=row["card_id"],
            state=int(row["state"]),
            step=None if row.get("step") is None else int(row["step"]),
            stability=None if row.get("stability") is None else float(row["stability"]),
            difficulty=None if row.get("difficulty") is None else float(row["difficulty"]),
            due=_dt(row["due"]),  # type: ignore[arg-type]
            last_review=_dt(row.get("last_review")),
            buried_until=_dt(row.get("buried_until")),
            suspended=bool(row.get("suspended") or 0),
        )

    def with_flags(self, *, buried_until: datetime | None | bool = False, suspended: bool | None = None) -> "CardState":
        changes: dict[str, Any] = {}
        if buried_until is not False:
            changes["buried_until"] = buried_until
        if suspended is not None:
            changes["suspended"] = suspended
        return replace(self, **changes)


# FSRS-6's forgetting curve with its default parameters (the scheduler passes none): py-fsrs's
# Scheduler.get_card_retrievability is this arithmetic, copied so that `prep stats` (the recall of
# every card) does not import fsrs; tests/test_scheduling.py compares the two on many cards.
FSRS_DECAY = -0.1542  # -fsrs.scheduler.DEFAULT_PARAMETERS[20]
FSRS_FACTOR = 0.9 ** (1 / FSRS_DECAY) - 1


def retrievability(state: CardState | None, at: datetime) -> float:
    """The probability FSRS gives of recalling the card at `at` (0 for a card never reviewed)."""
    if state is None or state.is_new or state.stability is None or state.last_review is None:
        return 0.0
    elapsed_days = max(0, (utc(at) - state.last_review).days)  # whole days, as py-fsrs counts them
    return float((1 + FSRS_FACTOR * elapsed_days / state.stability) ** FSRS_DECAY)


# --- the scheduler ------------------------------------------------------------------


def fuzz_range(interval_days: int, maximum_interval: int) -> tuple[int, int]:
    """The days a fuzzed interval may take: py-fsrs's ranges (5 to 15 % either side)."""
    from fsrs.scheduler import FUZZ_RANGES

    delta = 1.0
    for r in FUZZ_RANGES:
        delta += r["factor"] * max(min(float(interval_days), r["end"]) - r["start"], 0.0)
    low = max(2, round(interval_days - delta))
    high = min(round(interval_days + delta), maximum_interval)
    return min(low, high), high


def fuzz_seed(card_id: str, at: datetime) -> str:
    return f"{card_id}|{_iso(at)}"


class Scheduler:
    """FSRS-6 with the learner's settings. Fuzz is drawn per review from a seeded generator."""

    def __init__(self, settings: QuizSettings | None = None) -> None:
        import fsrs  # ~30 ms: loaded when the first card is scheduled, not at startup

        self._fsrs = fsrs
        self.settings = settings or QuizSettings()
        self.fsrs = fsrs.Scheduler(
            desired_retention=self.settings.desired_retention,
            learning_steps=self.settings.learning_steps,
            relearning_steps=self.settings.relearning_steps,
            maximum_interval=self.settings.maximum_interval,
            enable_fuzzing=False,
        )

    def _to_fsrs(self, state: CardState | None, at: datetime) -> Any:
        fsrs = self._fsrs
        if state is None or state.is_new:
            return fsrs.Card(card_id=0, state=fsrs.State.Learning, step=0, due=at)
        return fsrs.Card(
            card_id=0,  # an explicit id: fsrs.Card() would sleep a millisecond to make one up
            state=fsrs.State(state.state),
            step=state.step,
            stability=state.stability,
            difficulty=state.difficulty,
            due=state.due,
            last_review=state.last_review,
        )

    def review(self, state: CardState | None, card_id: str, rating: int, at: datetime, fuzz: bool | None = None) -> CardState:
        """The state after rating the card at `at`. Bury and suspend carry over unchanged."""
        at = utc(at)
        if rating not in RATING_NAMES:
            raise ValueError(f"rating must be 1-4, not {rating!r}")
        card, _ = self.fsrs.review_card(self._to_fsrs(state, at), self._fsrs.Rating(rating), review_datetime=at)
        due = card.due
        if (self.settings.fuzz if fuzz is None else fuzz) and (span := self._fuzz_span(card, at)) is not None:
            low, high = span
            # uniform over [low, high], as py-fsrs intends (its own draw can round to high + 1)
            due = at + timedelta(days=random.Random(fuzz_seed(card_id, at)).randint(low, high))
        return CardState(
            card_id=card_id,
            state=int(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=due,
            last_review=at,
            buried_until=state.buried_until if state else None,
            suspended=state.suspended if state else False,
        )

    def _fuzz_span(self, card: Any, at: datetime) -> tuple[int, int] | None:
        """The days a fuzzed interval may take, or None when fsrs's interval is not fuzzed (not in review, under 3 days)."""
        if card.state != self._fsrs.State.Review:
            return None
        days = (card.due - at).days
        if days < 3:  # py-fsrs fuzzes intervals of 2.5 days and more
            return None
        return fuzz_range(days, self.settings.maximum_interval)

    def preview(self, state: CardState | None, card_id: str, at: datetime) -> dict[int, timedelta]:
        """What each rating would give, before fuzz (as Anki shows on its buttons)."""
        at = utc(at)
        return {r: self.review(state, card_id, r, at, fuzz=False).due - at for r in RATING_NAMES}

    def preview_spans(self, state: CardState | None, card_id: str, at: datetime) -> dict[int, tuple[timedelta, timedelta]]:
        """The shortest and longest interval each rating may give at `at`, fuzz included.

        Without fuzz (the setting off, or an interval fsrs does not fuzz) both are the
        interval itself. The fuzz's draw depends on the exact moment of the rating, so
        a button can say the span, not the day it will pick.
        """
        at = utc(at)
        spans = {}
        for rating in RATING_NAMES:
            card, _ = self.fsrs.review_card(self._to_fsrs(state, at), self._fsrs.Rating(rating), review_datetime=at)
            span = self._fuzz_span(card, at) if self.settings.fuzz else None
            if span is None:
                spans[rating] = (card.due - at, card.due - at)
            else:
                spans[rating] = (timedelta(days=span[0]), timedelta(days=span[1]))
        return spans

    def retrievability(self, state: CardState | None, at: datetime) -> float:
        return retrievability(state, at)

    def replay(self, card_id: str, reviews: Iterable[tuple[int, datetime]]) -> CardState | None:
        """Rebuild a card's state from its log: (rating, moment) pairs of the scheduling reviews."""
        state: CardState | None = None
        for rating, at in sorted(reviews, key=lambda r: r[1]):
            state = self.review(state, card_id, rating, at)
        return state


def format_span(low: timedelta, high: timedelta) -> str:
    """An interval, or the span fuzz may pick it from: 8d, 7-9d, 1.5-1.8mo, 20d-1mo."""
    first, last = format_interval(low), format_interval(high)
    if first == last:
        return first
    unit = len(first.rstrip("smhdoy")), len(last.rstrip("smhdoy"))
    if first[unit[0]:] == last[unit[1]:]:
        return f"{first[:unit[0]]}-{last}"
    return f"{first}-{last}"


def format_interval(delta: timedelta) -> str:
    """Anki's short form: 10m, 3h, 4d, 2.5mo, 1.2y."""
    seconds = delta.total_seconds()
    if round(seconds) < 60:
        return f"{max(0, round(seconds))}s"
    if round(seconds / 60) < 60:
        return f"{round(seconds / 60)}m"
    if round(seconds / 3600) < 24:
        return f"{round(seconds / 3600)}h"
    days = seconds / 86400
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        months = days / 30.4
        return f"{months:.1f}mo".replace(".0mo", "mo")
    years = days / 365
    return f"{years:.1f}y".replace(".0y", "y")


