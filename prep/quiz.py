"""A quiz session as a library: what to show next, and what a rating, bury, suspend or undo does.

Nothing here reads keys or prints. The terminal (prep.quiz_ui) asks `next_item()`,
shows the card, and calls `rate()`; each rating is written to the database at
once, so quitting at any moment loses nothing.

The order is Anki's: learning cards as soon as they fall due, then the reviews
due today (lowest due first), then new cards in bank order, then learning cards
due within the learn-ahead window. Daily limits are counted from the log for the
learner's local day. Cram reviews every selected card regardless of due dates and
never changes a schedule.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import store
from .bank_cache import CardIndex
from .errors import InputError, NotFoundError, UnknownOptionValue, UsageError
from .scheduling import (
    AGAIN,
    LEARNING,
    RELEARNING,
    REVIEW,
    CardState,
    Clock,
    Scheduler,
    day_start,
    local_day,
    next_day_start,
)
from .settings import QuizSettings

if TYPE_CHECKING:  # the database is store.Database; sqlite-utils is imported only when a write needs it
    import sqlite_utils

QUIZ, CRAM = "quiz", store.CRAM
CRAM_AGAIN_GAP = 3  # a card failed while cramming comes back after this many others


def leech_threshold_met(lapses: int, leech_lapses: int) -> bool:
    """Anki's rule: a card becomes a leech at `leech_lapses` lapses, and again every half of that after.

    So with 8, the leech action (a warning, and a suspension by default) comes at
    8, 12, 16... lapses: a learner who unsuspends a leech and keeps failing it hears
    about it again, but not at every lapse.
    """
    half = max(1, -(-leech_lapses // 2))  # half the threshold, rounded up, as Anki does
    return lapses >= leech_lapses and (lapses - leech_lapses) % half == 0


@dataclass(frozen=True)
class Options:
    topic: str | None = None
    tag: str | None = None
    limit: int | None = None
    new: int | None = None
    cram: bool = False
    card: str | None = None

    def check(self) -> None:
        problems = []
        if self.limit is not None and self.limit < 1:
            problems.append(f"--limit must be 1 or more, not {self.limit}")
        if self.new is not None and self.new < 0:
            problems.append(f"--new must be 0 or more, not {self.new}")
        if problems:
            raise UsageError("; ".join(problems))


@dataclass
class Plan:
    """What a session would show, as of one moment."""

    now: datetime
    learning: list[str]  # learning and relearning cards due today, earliest first
    reviews: list[str]  # review cards due today, within the daily limit
    new: list[str]  # new cards within the daily limit, bank order
    new_today: int = 0
    reviews_today: int = 0
    reviews_over_limit: int = 0
    new_left_today: int = 0
    learning_later: list[str] = field(default_factory=list)

    @property
    def cards(self) -> list[str]:
        return [*self.learning, *self.reviews, *self.new]


def load_states(db: sqlite_utils.Database) -> dict[str, CardState]:
    return {card_id: CardState.from_row(row) for card_id, row in store.card_state_rows(db).items()}


def make_plan(
    db: sqlite_utils.Database,
    index: CardIndex,
    settings: QuizSettings,
    options: Options,
    now: datetime,
    states: dict[str, CardState] | None = None,
    retrievability: Callable[[CardState | None, datetime], float] | None = None,
) -> Plan:
    """Choose the session's cards from the bank, the schedules and today's log."""
    options.check()
    states = load_states(db) if states is None else states
    tomorrow = next_day_start(now, settings.day_starts_at)
    today = day_start(local_day(now, settings.day_starts_at), settings.day_starts_at)

    if options.card is not None:
        try:
            index.record(options.card)
        except NotFoundError as exc:  # a bad --card value: a usage mistake, as an unknown --topic is
            raise UnknownOptionValue(f"--card: {exc}") from None
        return Plan(now, [], [], [options.card]) if not options.cram else Plan(now, [], [options.card], [])

    selected = index.select(options.topic, options.tag)
    if options.cram:
        # the weakest first: lowest predicted recall now; never-reviewed cards after the forgotten ones
        recall = retrievability or Scheduler(settings).retrievability
        chosen = [c for c in selected if not (states.get(c) and states[c].suspended)]
        chosen.sort(key=lambda c: (states.get(c) is None or states[c].is_new, recall(states.get(c), now)))
        return Plan(now, [], chosen[: options.limit] if options.limit else chosen, [])

    new_today, old_today = store.activity_since(db, today)
    learning: list[str] = []
    later: list[str] = []
    reviews: list[tuple[datetime, str]] = []
    new: list[str] = []
    for card_id in selected:
        st = states.get(card_id)
        if st is not None and (st.suspended or (st.buried_until is not None and st.buried_until > now)):
            continue
        if st is None or st.is_new:
            new.append(card_id)
        elif st.state in (LEARNING, RELEARNING):
            (learning if st.due < tomorrow else later).append(card_id)
        elif st.state == REVIEW and st.due < tomorrow:
            reviews.append((st.due, card_id))
    learning.sort(key=lambda c: states[c].due)
    reviews.sort()
    review_room = max(0, settings.reviews_per_day - len(old_today))
    new_room = options.new if options.new is not None else max(0, settings.new_per_day - len(new_today))
    due_reviews = [c for _, c in reviews]
    plan = Plan(
        now,
        learning,
        due_reviews[:review_room],
        new[:new_room],
        new_today=len(new_today),
        reviews_today=len(old_today),
        reviews_over_limit=max(0, len(due_reviews) - review_room),
        new_left_today=len(new[:new_room]),
        learning_later=later,
    )
    if options.limit:
        room = options.limit
        plan.learning, room = plan.learning[:room], max(0, room - len(plan.learning))
        plan.reviews, room = plan.reviews[:room], max(0, room - len(plan.reviews))
        plan.new = plan.new[:room]
    return plan


@dataclass(frozen=True)
class Item:
    """The card to show and why it is shown."""

    card_id: str
    queue: str  # learning, review, new, cram
    state: CardState | None


@dataclass(frozen=True)
class Rated:
    review_id: int
    card_id: str
    rating: int
    reviewed_at: datetime
    before: CardState | None
    after: CardState | None  # None when cramming: the schedule is untouched
    lapses: int = 0
    leech: bool = False  # this rating made the card a leech (at the threshold, or every half of it after)
    suspended: bool = False  # ... and suspended it (leech_action = "suspend")

    @property
    def interval(self) -> timedelta | None:
        return None if self.after is None else self.after.due - self.reviewed_at


@dataclass(frozen=True)
class Summary:
    reviewed: int
    correct: int
    seconds: float
    next_due: datetime | None
    session_id: int | None
    again: int
    leeches: list[str]
    left: dict[str, int] = field(default_factory=dict)  # still to do today, counted as `prep due` counts
    suspended_leeches: list[str] = field(default_factory=list)  # leeches this session suspended
    learning_later: int = 0  # learning cards falling due later today (after `left`)
    next_learning: datetime | None = None  # when the first of them does
    card: str | None = None  # the one card of a `--card` session
    card_due: datetime | None = None  # ... when it falls due (None: still new, never rated)
    card_suspended: bool = False  # ... and whether it is (still) suspended

    @property
    def correct_share(self) -> float | None:
        return self.correct / self.reviewed if self.reviewed else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "reviewed": self.reviewed,
            "correct": self.correct,
            "correct_share": self.correct_share,
            "seconds": round(self.seconds, 1),
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "session_id": self.session_id,
            "again": self.again,
            "leeches": self.leeches,
            "suspended_leeches": self.suspended_leeches,
            "left": self.left,
            "learning_later_today": self.learning_later,
            "next_learning": self.next_learning.isoformat() if self.next_learning else None,
            "card": None if self.card is None else {
                "id": self.card,
                "due": self.card_due.isoformat() if self.card_due else None,
                "suspended": self.card_suspended,
            },
        }


@dataclass
class _Undo:
    action: str  # rate, bury, suspend
    card_id: str
    before: CardState | None
    review_id: int | None = None
    rating: int | None = None
    queue: str = ""
    review: dict[str, Any] = field(default_factory=dict)
    leech: bool = False  # the rating made the card a leech
    suspended: bool = False  # ... and suspended it


def _right(rating: int, correct: bool | None) -> bool:
    """Whether a review counts as correct in the summary: what was typed or picked right, whatever
    the rating the learner then gave (a wrong order rated Easy is still wrong); a recall card
    (nothing checked) by its rating."""
    return bool(correct) if correct is not None else rating > AGAIN


def _uninterrupted(write: Callable[[], Any]) -> Any:
    """Run a database write with SIGINT held back, so Ctrl-C lands after the commit, never inside it."""
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    except (ValueError, OSError):  # not the main thread
        return write()
    try:
        return write()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def set_suspended(db: sqlite_utils.Database, card_ids: Iterable[str], suspended: bool, now: datetime) -> list[str]:
    """Suspend (or unsuspend) cards outside a session, all in one transaction; the ids whose flag changed.

    Unsuspending also ends a bury, so the card is due again as its schedule says.
    """
    changed = []
    states = load_states(db)
    rows = []
    for card_id in card_ids:
        st = states.get(card_id)
        if suspended and not (st and st.suspended):
            rows.append((st or CardState.new(card_id, now)).with_flags(suspended=True).to_row())
        elif not suspended and st is not None and (st.suspended or st.buried_until is not None):
            rows.append(st.with_flags(suspended=False, buried_until=None).to_row())
        else:
            continue
        changed.append(card_id)

    if rows:
        _uninterrupted(lambda: store.put_card_states(db, rows))
    return changed


class Session:
    """One sitting. Ratings go to the database at once; `undo` takes the last action back."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        index: CardIndex,
        settings: QuizSettings | None = None,
        options: Options | None = None,
        clock: Clock | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        from .scheduling import system_clock

        self.db = db
        self.index = index
        self.settings = settings or QuizSettings()
        self.options = options or Options()
        self.clock = clock or system_clock
        self._scheduler = scheduler
        self.started = self.clock()
        self.states = load_states(db)
        self.plan = make_plan(
            db, index, self.settings, self.options, self.started, self.states,
            retrievability=(lambda st, at: self.scheduler.retrievability(st, at)) if self.options.cram else None,
        )
        self.cram = self.options.cram
        self.kind = CRAM if self.cram else QUIZ
        self.members = set(self.plan.cards)  # the cards this session may show
        self.queue: list[tuple[str, str]] = (
            [(c, "cram") for c in self.plan.reviews]
            if self.cram
            else [(c, "review") for c in self.plan.reviews] + [(c, "new") for c in self.plan.new]
        )
        self.front: list[str] = []  # undone cards and --card, shown next
        if self.options.card is not None:
            self.queue, self.front = [], [self.options.card]
        self.current: Item | None = None  # shown and not yet rated
        self.undo_stack: list[_Undo] = []
        self.session_id: int | None = None
        self.reviewed = 0
        self.correct = 0
        self.again = 0
        self.leeches: list[str] = []
        self.suspended_leeches: list[str] = []
        self.last_shown: str | None = None

    # --- what to show ---------------------------------------------------------------

    @property
    def scheduler(self) -> Scheduler:
        if self._scheduler is None:
            self._scheduler = Scheduler(self.settings)
        return self._scheduler

    def _learning_due(self, until: datetime) -> list[str]:
        if self.cram:
            return []
        due = [
            c
            for c in self.members
            if (st := self.states.get(c)) is not None
            and st.state in (LEARNING, RELEARNING)
            and not st.suspended
            and not (st.buried_until and st.buried_until > self.clock())
            and st.due <= until
        ]
        return sorted(due, key=lambda c: (self.states[c].due, c))

    def _queue_head(self) -> tuple[str, str] | None:
        while self.queue:
            card_id, queue = self.queue[0]
            st = self.states.get(card_id)
            if st is not None and (st.suspended or (st.buried_until and st.buried_until > self.clock())):
                self.queue.pop(0)
                continue
            if queue in ("review", "new") and st is not None and st.state in (LEARNING, RELEARNING):
                self.queue.pop(0)  # rated already: it comes back through the learning queue
                continue
            return card_id, queue
        return None

    def next_item(self) -> Item | None:
        """The card to show now, or None when the session is done."""
        now = self.clock()
        if self.front:
            card_id = self.front.pop()
            self._drop_from_queue(card_id)
            return self._item(card_id, self._queue_name(card_id))
        learning = self._learning_due(now)
        head = self._queue_head()
        if learning and learning[0] == self.last_shown:
            # do not show the card just rated again at once when another one is waiting
            if len(learning) > 1:
                return self._item(learning[1], "learning")
            if head is not None:
                return self._pop(head)
        if learning:
            return self._item(learning[0], "learning")
        if head is not None:
            return self._pop(head)
        ahead = self._learning_due(now + timedelta(minutes=self.settings.learn_ahead_minutes))
        if ahead:
            return self._item(ahead[0], "learning")
        return None

    def _pop(self, head: tuple[str, str]) -> Item:
        self.queue.pop(0)
        return self._item(*head)

    def _item(self, card_id: str, queue: str) -> Item:
        self.last_shown = card_id
        self.current = Item(card_id, queue, self.states.get(card_id))
        return self.current

    def _put_back_current(self) -> None:
        """The card on screen, not rated, goes back to the head of its queue (before an undo)."""
        item, self.current = self.current, None
        if item is not None and item.queue in ("review", "new", "cram") and item.card_id not in self.front:
            self.queue.insert(0, (item.card_id, item.queue))

    def _queue_name(self, card_id: str) -> str:
        if self.cram:
            return "cram"
        st = self.states.get(card_id)
        if st is None or st.is_new:
            return "new"
        return "review" if st.state == REVIEW else "learning"

    def _drop_from_queue(self, card_id: str) -> None:
        self.queue = [(c, q) for c, q in self.queue if c != card_id]

    def use_index(self, index: CardIndex) -> None:
        """Go on with the bank as reloaded after an edit; cards it no longer holds leave the session."""
        self.index = index
        self.queue = [(c, q) for c, q in self.queue if c in index]
        self.front = [c for c in self.front if c in index]
        self.members = {c for c in self.members if c in index}

    def has_work(self) -> bool:
        """Whether anything is to be shown now (or within the learn-ahead window)."""
        ahead = self.clock() + timedelta(minutes=self.settings.learn_ahead_minutes)
        return bool(self.front or self._queue_head() or self._learning_due(ahead))

    def counts(self) -> dict[str, int]:
        """What is left: learning cards due now, reviews and new cards still queued."""
        now = self.clock()
        queued = {"review": 0, "new": 0, "cram": 0}
        for card_id, queue in self.queue:
            queued[queue] += 1
        return {"learning": len(self._learning_due(now)), **queued}

    def preview(self, card_id: str) -> dict[int, timedelta]:
        """The interval each rating would give the card now (unfuzzed, as on Anki's buttons)."""
        return self.scheduler.preview(self.states.get(card_id), card_id, self.clock())

    def preview_spans(self, card_id: str) -> dict[int, tuple[timedelta, timedelta]]:
        """The shortest and longest interval each rating may give now, with the fuzz of the settings."""
        return self.scheduler.preview_spans(self.states.get(card_id), card_id, self.clock())

    # --- what the learner does --------------------------------------------------------

    def ensure_session(self) -> int:
        if self.session_id is None:
            self.session_id = _uninterrupted(lambda: store.start_session(self.db, self.kind, self.started))
        return self.session_id

    def rate(
        self,
        card_id: str,
        rating: int,
        *,
        duration_ms: int | None = None,
        answer: str | None = None,
        correct: bool | None = None,
        at: datetime | None = None,
        queue: str = "",
    ) -> Rated:
        """Rate a card; the log entry and the new schedule are committed before this returns.

        A rating that makes the card a leech suspends it in the same transaction (with
        leech_action "suspend"), so undoing the rating, which puts back the state the
        log entry kept, takes the suspension back too.
        """
        at = at or self.clock()
        before = self.states.get(card_id)
        after = None if self.cram else self.scheduler.review(before, card_id, rating, at)
        lapses, leech = self._lapse(card_id, rating, before)
        suspend = leech and self.settings.leech_action == "suspend" and not (before is not None and before.suspended)
        if suspend:
            after = after.with_flags(suspended=True)  # type: ignore[union-attr]
        session_id = self.ensure_session()
        review = {
            "card_id": card_id,
            "rating": rating,
            "reviewed_at": at,
            "duration_ms": duration_ms,
            "answer": answer,
            "correct": None if correct is None else int(correct),
            "session_id": session_id,
            "kind": self.kind,
            "state_after": None if after is None else after.state,
            "interval_days": None if after is None else after.interval_days,
        }
        review_id = _uninterrupted(lambda: store.record_review(self.db, review, None if after is None else after.to_row()))
        if after is not None:
            self.states[card_id] = after
        self.members.add(card_id)
        self.undo_stack.append(
            _Undo("rate", card_id, before, review_id, rating, queue or self._queue_name(card_id),
                  {"duration_ms": duration_ms, "answer": answer, "correct": correct, "at": at}, leech, suspend)
        )
        self.current = None
        self.reviewed += 1
        self.correct += _right(rating, correct)
        self.again += rating == AGAIN
        if leech and card_id not in self.leeches:
            self.leeches.append(card_id)
        if suspend:
            self.suspended_leeches.append(card_id)
            self._drop_from_queue(card_id)
        if self.cram and rating == AGAIN:
            self.queue.insert(min(CRAM_AGAIN_GAP, len(self.queue)), (card_id, "cram"))
        return Rated(review_id, card_id, rating, at, before, after, lapses, leech, suspend)

    def _lapse(self, card_id: str, rating: int, before: CardState | None) -> tuple[int, bool]:
        """The card's lapses counting this rating, and whether this rating makes it a leech.

        Counted before the rating is written, so a leech's suspension goes in the same transaction.
        """
        if self.cram or rating != AGAIN or before is None or before.state != REVIEW:
            return 0, False
        lapses = store.lapses_of(self.db, card_id) + 1
        return lapses, leech_threshold_met(lapses, self.settings.leech_lapses)

    def rerate(self, rated: Rated, rating: int) -> Rated:
        """Change the rating just given (the learner overrides an automatic one), as of the same moment."""
        entry = self.undo_stack[-1] if self.undo_stack else None
        if entry is None or entry.action != "rate" or entry.review_id != rated.review_id:
            raise InputError("only the rating just given can be changed")
        self.undo_stack.pop()
        self._undo_rating(entry)
        return self.rate(rated.card_id, rating, queue=entry.queue, **entry.review)

    def bury(self, card_id: str) -> datetime:
        """Hide the card until the learner's next day starts."""
        now = self.clock()
        until = next_day_start(now, self.settings.day_starts_at)
        self._set_flags(card_id, "bury", now, buried_until=until)
        return until

    def suspend(self, card_id: str) -> None:
        """Keep the card out of every session until it is unsuspended (`prep quiz --card ID`)."""
        self._set_flags(card_id, "suspend", self.clock(), suspended=True)

    def unsuspend(self, card_id: str) -> None:
        st = self.states.get(card_id)
        if st is not None and st.suspended:
            self._set_flags(card_id, "unsuspend", self.clock(), suspended=False)

    def is_suspended(self, card_id: str) -> bool:
        st = self.states.get(card_id)
        return bool(st and st.suspended)

    def _set_flags(self, card_id: str, action: str, now: datetime, **flags: Any) -> None:
        before = self.states.get(card_id)
        after = (before or CardState.new(card_id, now)).with_flags(**flags)
        _uninterrupted(lambda: store.put_card_state(self.db, after.to_row()))
        self.states[card_id] = after
        self.undo_stack.append(_Undo(action, card_id, before))
        self._drop_from_queue(card_id)
        if self.current is not None and self.current.card_id == card_id:
            self.current = None

    @property
    def can_undo(self) -> bool:
        """Whether `undo` has something to take back (a footer offers `u` only then)."""
        return bool(self.undo_stack)

    def undo(self) -> str | None:
        """Take back the last rating, bury or suspend; the card is shown again next. Returns its id."""
        if not self.undo_stack:
            return None
        entry = self.undo_stack.pop()
        self._put_back_current()
        if entry.action == "rate":
            self._undo_rating(entry)
        else:
            if entry.before is None:
                _uninterrupted(lambda: store.delete_card_state(self.db, entry.card_id))
                self.states.pop(entry.card_id, None)
            else:
                _uninterrupted(lambda: store.put_card_state(self.db, entry.before.to_row()))  # type: ignore[union-attr]
                self.states[entry.card_id] = entry.before
        self.front.append(entry.card_id)
        return entry.card_id

    def _undo_rating(self, entry: _Undo) -> None:
        _uninterrupted(lambda: store.undo_review(self.db, entry.review_id))  # type: ignore[arg-type]
        if not self.cram:
            if entry.before is None:
                self.states.pop(entry.card_id, None)
            else:
                self.states[entry.card_id] = entry.before
        self.reviewed -= 1
        self.correct -= _right(entry.rating or 0, entry.review.get("correct"))
        self.again -= entry.rating == AGAIN
        if self.cram and entry.rating == AGAIN:
            for i, (card_id, _) in enumerate(self.queue):
                if card_id == entry.card_id:
                    del self.queue[i]
                    break
        if entry.leech and entry.card_id in self.leeches:
            self.leeches.remove(entry.card_id)
        if entry.suspended and entry.card_id in self.suspended_leeches:
            self.suspended_leeches.remove(entry.card_id)  # the state put back (entry.before) is not suspended

    # --- the end ----------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """When the next card of this selection falls due (a new card counts from tomorrow).

        A `--card` session selects the whole bank here: after the one card, the next
        card is the one `prep quiz` would show.
        """
        scope: Iterable[str] = self.index.select(self.options.topic, self.options.tag)
        soonest: datetime | None = None
        now = self.clock()  # once: 2,000 cards asked the clock and computed tomorrow 2,000 times (~60 ms)
        tomorrow = next_day_start(now, self.settings.day_starts_at)
        for card_id in scope:
            when = self._due_of(card_id, now, tomorrow)
            if when is not None and (soonest is None or when < soonest):
                soonest = when
        return soonest

    def _is_new(self, card_id: str) -> bool:
        st = self.states.get(card_id)
        return st is None or st.is_new

    def _due_of(self, card_id: str, now: datetime | None = None, tomorrow: datetime | None = None) -> datetime | None:
        """When a card next falls due for a session; None while it is suspended."""
        if now is None:
            now = self.clock()
        if tomorrow is None:
            tomorrow = next_day_start(now, self.settings.day_starts_at)
        st = self.states.get(card_id)
        if st is not None and st.suspended:
            return None
        when = tomorrow if st is None or st.is_new else st.due
        if st is not None and st.buried_until and st.buried_until > when:
            when = st.buried_until
        if st is not None and st.state == REVIEW and when < tomorrow:
            when = max(when, now)
        return when

    def summary(self) -> Summary:
        left, later = self._left_today()
        card = self.options.card
        return Summary(
            reviewed=self.reviewed,
            correct=self.correct,
            seconds=(self.clock() - self.started).total_seconds(),
            next_due=self.next_due(),
            session_id=self.session_id,
            again=self.again,
            leeches=list(self.leeches),
            left=left,
            suspended_leeches=list(self.suspended_leeches),
            learning_later=len(later),
            next_learning=min((self.states[c].due for c in later), default=None),
            card=card,
            card_due=None if card is None or self._is_new(card) else self._due_of(card),
            card_suspended=card is not None and self.is_suspended(card),
        )

    def _left_today(self) -> tuple[dict[str, int], list[str]]:
        """What is still to do today, and the learning cards due later today, counted as `prep due` counts.

        The day's plan made again from the database as it now is (the card on
        screen, not rated, is still to do), for the selection's topic and tag:
        a --limit, --new or --card session stops early, the day's work does not.
        A cram session counts its own queue.
        """
        if self.cram:
            left = {"cram": sum(1 for _, queue in self.queue if queue == "cram")}
            if self.current is not None and self.current.queue == "cram":
                left["cram"] += 1
            return left, []
        now = self.clock()
        plan = make_plan(self.db, self.index, self.settings, Options(topic=self.options.topic, tag=self.options.tag), now, self.states)
        learning_now = [c for c in plan.learning if self.states[c].due <= now]
        later = [c for c in plan.learning if self.states[c].due > now]
        return {"learning": len(learning_now), "review": len(plan.reviews), "new": len(plan.new)}, later

    def close(self) -> Summary:
        summary = self.summary()
        if self.session_id is not None:
            _uninterrupted(lambda: store.finish_session(self.db, self.session_id, self.clock()))  # type: ignore[arg-type]
        return summary
