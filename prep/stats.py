"""Progress figures from the review log and the schedules: what `prep stats` and `prep due` print.

Everything here returns plain data (the `--json` shape); the CLI draws it.
Days are the learner's local days, starting at `day_starts_at` o'clock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .bank_cache import CardIndex
from .quiz import Options, load_states, make_plan
from .scheduling import (
    LEARNING,
    MATURE_DAYS,
    NEW,
    RELEARNING,
    REVIEW,
    STATE_NAMES,
    CardState,
    day_start,
    local_day,
    next_day_start,
    retrievability,
)
from .settings import QuizSettings

if TYPE_CHECKING:  # the database is store.Database; sqlite-utils is imported only when a write needs it
    import sqlite_utils

STATS_VERSION = 1


def _day_expr(settings: QuizSettings) -> str:
    # SQLite reads the +00:00 suffix, converts to local time (TZ), then shifts by the day's start hour
    return f"date(reviewed_at, 'localtime', '-{int(settings.day_starts_at)} hours')"


def review_days(db: sqlite_utils.Database, settings: QuizSettings, since: datetime | None = None) -> dict[str, int]:
    """Reviews per local day (every kind: cramming is studying too)."""
    if since is None and store.has_review_summary(db):
        # the hourly counts kept on each write; right unless the time zone's offset (now or
        # when those reviews were made) is not whole hours: then the log itself is counted
        rows = db.execute(
            f"""SELECT d, SUM(reviews), MAX(odd) FROM (
                    SELECT {_day_expr(settings).replace("reviewed_at", "hour")} AS d, reviews,
                           strftime('%M', hour, 'localtime') != '00' AS odd FROM review_hours
                ) GROUP BY d HAVING SUM(reviews) > 0 ORDER BY d"""
        ).fetchall()
        if not any(odd for _, _, odd in rows):
            return {d: n for d, n, _ in rows if d}
    where, args = ("WHERE reviewed_at >= ?", [store.iso(since)]) if since else ("", [])
    rows = db.execute(f"SELECT {_day_expr(settings)} AS d, COUNT(*) FROM reviews {where} GROUP BY d ORDER BY d", args).fetchall()
    return {d: n for d, n in rows if d}


def streaks(days: set[str], today: date) -> dict[str, int]:
    """The current streak (alive if today or yesterday had reviews) and the longest one."""
    current = 0
    cursor = today if today.isoformat() in days else today - timedelta(days=1)
    while cursor.isoformat() in days:
        current += 1
        cursor -= timedelta(days=1)
    longest = run = 0
    previous: date | None = None
    for text in sorted(days):
        day = date.fromisoformat(text)
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    return {"current": current, "longest": longest}


_FIRST_REVIEWS: dict[tuple[Any, ...], list[tuple[str, bool]]] = {}


def mature_first_reviews(db: sqlite_utils.Database, settings: QuizSettings) -> list[tuple[str, bool]]:
    """(reviewed_at, passed) of every first review of the day of a mature card, oldest first.

    A review is its card's first of the day when the card's previous review was on
    an earlier day; the card was mature when that previous review gave an interval
    of 21 days or more. One pass over the log (the window follows the (card_id,
    reviewed_at) index), remembered until the log changes, so asking for several
    periods (the site asks week by week) costs one pass. Four days or more apart (UTC
    dates, ISO text) are different local days whatever the time zone does, so the
    costly local-day comparison runs only for reviews closer than that.
    """
    fingerprint = db.execute("SELECT COUNT(*), MAX(id), MAX(reviewed_at), TOTAL(rating) FROM reviews").fetchone()
    key = (str(getattr(db, "path", id(db))), tuple(fingerprint), settings.day_starts_at)
    cached = _FIRST_REVIEWS.get(key)
    if cached is not None:
        return cached
    day = _day_expr(settings)
    if store.has_review_summary(db):
        rows = db.execute(f"SELECT reviewed_at, rating > 1 {_first_reviews_kept(settings)}", [MATURE_DAYS]).fetchall()
        found = sorted((at, bool(passed)) for at, passed in rows)
        _FIRST_REVIEWS.clear()
        _FIRST_REVIEWS[key] = found
        return found
    rows = db.execute(
        f"""
        WITH logged AS (
            SELECT rating, reviewed_at,
                   LAG(reviewed_at) OVER card AS prev_at,
                   LAG(state_after) OVER card AS prev_state,
                   LAG(interval_days) OVER card AS prev_interval
            FROM reviews WHERE kind != ?
            WINDOW card AS (PARTITION BY card_id ORDER BY reviewed_at, id)
        )
        SELECT reviewed_at, rating > 1 FROM logged
        WHERE prev_state = 2 AND prev_interval >= ?
          AND (reviewed_at >= date(prev_at, '+4 days') OR {day} != {day.replace("reviewed_at", "prev_at")})
        """,
        [store.CRAM, MATURE_DAYS],
    ).fetchall()
    found = sorted((at, bool(passed)) for at, passed in rows)
    _FIRST_REVIEWS.clear()  # one database at a time is plenty
    _FIRST_REVIEWS[key] = found
    return found


def _first_reviews_kept(settings: QuizSettings) -> str:
    """FROM and WHERE of mature_first_reviews on the log's summary (migration 003).

    Each entry carries its card's previous review (kept by the store's triggers); the literals
    let SQLite use the partial index reviews_after_review. Four days apart or more is a new
    local day whatever the time zone, so the costly local-day comparison is left for the rest.
    """
    day = _day_expr(settings)
    return f"""FROM reviews WHERE prev_state = 2 AND kind != 'cram' AND prev_interval >= ?
               AND (prev_days >= 4 OR {day} != {day.replace('reviewed_at', 'prev_at')})"""


def true_retentions(db: sqlite_utils.Database, settings: QuizSettings, sinces: list[datetime | None]) -> list[dict[str, Any]]:
    """true_retention since each moment; on the log's summary, counted by SQLite in one pass."""
    if not store.has_review_summary(db):
        return [true_retention(db, settings, since) for since in sinces]
    counts = ", ".join("SUM(reviewed_at >= ?), SUM(reviewed_at >= ? AND rating > 1)" for _ in sinces)
    moments = [store.iso(since) if since else "" for since in sinces]
    row = db.execute(f"SELECT {counts} {_first_reviews_kept(settings)}",
                     [m for m in moments for _ in (0, 1)] + [MATURE_DAYS]).fetchone()
    figures = []
    for i in range(len(sinces)):
        total, passed = int(row[2 * i] or 0), int(row[2 * i + 1] or 0)
        figures.append({"passed": passed, "failed": total - passed, "rate": round(passed / total, 4) if total else None})
    return figures


def true_retention(db: sqlite_utils.Database, settings: QuizSettings, since: datetime | None = None) -> dict[str, Any]:
    """Anki's true retention since a moment: first reviews of the day of mature cards not rated Again."""
    found = mature_first_reviews(db, settings)
    start = bisect.bisect_left(found, (store.iso(since), False)) if since else 0
    passed = sum(ok for _, ok in found[start:])
    failed = len(found) - start - passed
    total = passed + failed
    return {"passed": passed, "failed": failed, "rate": round(passed / total, 4) if total else None}


def _effective_due(st: CardState) -> datetime:
    return max(st.due, st.buried_until) if st.buried_until else st.due


def compute(
    db: sqlite_utils.Database,
    index: CardIndex,
    settings: QuizSettings,
    now: datetime,
    months: int = 6,
    topic: str | None = None,
) -> dict[str, Any]:
    """Every figure of `prep stats`."""
    states = load_states(db)
    selected = index.select(topic)
    hour = settings.day_starts_at
    today = local_day(now, hour)
    tomorrow = next_day_start(now, hour)

    by_day = [0] * 7
    due_today = 0
    for card_id in selected:
        st = states.get(card_id)
        if st is None or st.is_new or st.suspended:
            continue
        due = _effective_due(st)
        if due < tomorrow:
            due_today += 1
            by_day[0] += 1
            continue
        offset = (local_day(due, hour) - today).days
        if 0 <= offset < 7:
            by_day[offset] += 1
    plan = make_plan(db, index, settings, Options(topic=topic), now, states)

    heat_from = today - timedelta(days=int(months * 30.4))
    heat_from -= timedelta(days=heat_from.weekday())  # from a Monday: whole weeks in the heatmap
    all_days = review_days(db, settings)
    heatmap = {d: n for d, n in all_days.items() if d >= heat_from.isoformat()}
    new_today, old_today = store.activity_since(db, day_start(today, hour))
    today_row = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(duration_ms), 0) FROM reviews WHERE reviewed_at >= ?",
        [store.iso(day_start(today, hour))],
    ).fetchone()

    topics = []
    by_topic: dict[str, list[str]] = {}  # index.select(topic_id) for every topic, in one pass over the bank
    for card_id in (selected if topic is None else index.select()):
        by_topic.setdefault(index.topic_of(card_id), []).append(card_id)  # type: ignore[arg-type]
    for topic_id, meta in index.topics.items():
        if topic is not None and topic_id != topic:
            continue
        ids = by_topic.get(topic_id, [])
        row = {"id": topic_id, "title": index.topic_title(topic_id), "cards": len(ids), "new": 0, "learning": 0, "young": 0,
               "mature": 0, "suspended": 0, "recall": None}
        recall = 0.0
        for card_id in ids:
            st = states.get(card_id)
            if st is not None and st.suspended:
                row["suspended"] += 1  # counted once: in `suspended`, not also in its state
            elif st is None or st.is_new:
                row["new"] += 1
            elif st.state in (LEARNING, RELEARNING):
                row["learning"] += 1
            elif st.state == REVIEW:
                row["mature" if st.mature else "young"] += 1
            recall += retrievability(st, now)
        if ids:
            row["recall"] = round(recall / len(ids), 4)
        topics.append(row)

    lapses = store.lapse_counts(db)
    where = _locations(index)
    leeches = []
    for card_id, count in sorted(lapses.items(), key=lambda kv: (-kv[1], kv[0])):
        if count < settings.leech_lapses:
            continue
        in_bank = card_id in index
        if topic is not None and index.topic_of(card_id) != topic:
            continue
        leeches.append({
            "id": card_id,
            "lapses": count,
            "topic": index.topic_of(card_id),
            "location": where(card_id) if in_bank else None,
            "suspended": bool(states.get(card_id) and states[card_id].suspended),
        })

    return {
        "version": STATS_VERSION,
        "now": now.isoformat(),
        "day": today.isoformat(),
        "topic": topic,
        "due": {
            "today": due_today,
            "tomorrow": by_day[1],
            "next_7_days": sum(by_day),
            "by_day": [{"date": (today + timedelta(days=i)).isoformat(), "due": n} for i, n in enumerate(by_day)],
            "queue": {"learning": len(plan.learning), "review": len(plan.reviews), "new": len(plan.new)},
        },
        "today": {"reviews": int(today_row[0]), "new": len(new_today), "seconds": round(int(today_row[1]) / 1000, 1),
                  "cards_reviewed": len(new_today) + len(old_today)},
        "heatmap": {"from": heat_from.isoformat(), "to": today.isoformat(), "days": heatmap},
        "retention": dict(zip(("last_30_days", "all_time"), true_retentions(
            db, settings, [day_start(today - timedelta(days=29), hour), None]))),
        "streak": streaks(set(all_days), today),
        "topics": topics,
        "leeches": leeches,
        "reviews_total": sum(all_days.values()),
    }


def due_now(
    db: sqlite_utils.Database, index: CardIndex, settings: QuizSettings, now: datetime, options: Options
) -> dict[str, Any]:
    """What `prep quiz` would show now, and the exercises due for another go."""
    states = load_states(db)
    plan = make_plan(db, index, settings, options, now, states)

    def row(card_id: str, queue: str) -> dict[str, Any]:
        record = index.record(card_id)
        st = states.get(card_id)
        return {
            "id": card_id,
            "queue": queue,
            "topic": record["topic"],
            "type": record["type"],
            "due": st.due.isoformat() if st is not None and not st.is_new else None,
            "prompt": index.card(card_id).prompt,
        }

    learning_now = [c for c in plan.learning if states[c].due <= now]
    cards = (
        [row(c, "learning") for c in learning_now]
        + [row(c, "review") for c in plan.reviews]
        + [row(c, "new") for c in plan.new]
    )
    return {
        "now": now.isoformat(),
        "counts": {"learning": len(learning_now), "review": len(plan.reviews), "new": len(plan.new),
                   "learning_later_today": len(plan.learning) - len(learning_now),
                   "reviews_over_limit": plan.reviews_over_limit},
        "cards": cards,
        "exercises": exercises_due(db, now),
    }


def exercises_due(db: sqlite_utils.Database, now: datetime) -> list[dict[str, Any]]:
    """Exercises whose re-implementation is due (the grader schedules them in exercise_state)."""
    if "exercise_state" not in db.table_names():
        return []
    return [
        {"exercise": r["exercise"], "due": r["due"]}
        for r in db["exercise_state"].rows_where("due IS NOT NULL AND due <= ?", [store.iso(now)], order_by="due")
    ]


def location(index: CardIndex, card_id: str) -> str:
    """`FILE:LINE` of a card, saying so when the file is the installed copy (see content.card_location)."""
    from .content import card_location

    record = index.record(card_id)
    return card_location(index.root, record["file"], record["line"])


def _locations(index: CardIndex) -> Callable[[str], str]:
    """`location` for many cards of one bank: whether a file is the installed copy is asked once per file."""
    from .content import INSTALLED_COPY_NOTE, is_installed_copy

    installed: dict[str, bool] = {}
    paths: dict[str, str] = {}  # a file's path, made once (1,800 leeches in ten files: pathlib cost ~30 ms)

    def where(card_id: str) -> str:  # as content.card_location words it
        record = index.record(card_id)
        name = record["file"]
        if name not in paths:
            path = Path(index.root) / name
            paths[name] = str(path)
            installed[name] = is_installed_copy(path)
        text = f"{paths[name]}:{record['line']}" if record["line"] is not None else paths[name]
        return f"{text} ({INSTALLED_COPY_NOTE})" if installed[name] else text

    return where


# --- one card, and the cards held back ---------------------------------------------------


def card_info(db: sqlite_utils.Database, index: CardIndex, settings: QuizSettings, card_id: str, now: datetime) -> dict[str, Any]:
    """Everything prep knows of one card's progress, as Anki's Card Info shows it.

    A card no longer in the bank still has its history; an id never seen anywhere is NotFoundError.
    """
    log = store.reviews_of(db, card_id)
    row = store.card_state_row(db, card_id)
    if card_id not in index and not log and row is None:
        from .cards import unknown_card

        raise unknown_card(card_id, index.ids, index.root)
    st = CardState.from_row(row) if row else None
    in_bank = card_id in index
    return {
        "id": card_id,
        "in_bank": in_bank,
        "location": location(index, card_id) if in_bank else None,
        "topic": index.topic_of(card_id),
        "lang": index.lang,
        "prompt": index.card(card_id).prompt if in_bank else None,
        "state": STATE_NAMES[st.state] if st else STATE_NAMES[NEW],
        "suspended": bool(st and st.suspended),
        "buried_until": st.buried_until.isoformat() if st and st.buried_until and st.buried_until > now else None,
        "due": st.due.isoformat() if st and not st.is_new else None,
        "interval_days": round(st.interval_days, 2) if st and st.interval_days is not None else None,
        "stability": round(st.stability, 2) if st and st.stability is not None else None,
        "difficulty": round(st.difficulty, 2) if st and st.difficulty is not None else None,
        "recall_now": round(retrievability(st, now), 4) if st and not st.is_new else None,
        "reviews": sum(1 for r in log if r["kind"] != store.CRAM),
        "lapses": store.lapses_of(db, card_id),
        "first_review": log[0]["reviewed_at"] if log else None,
        "last_review": log[-1]["reviewed_at"] if log else None,
        "log": [
            {k: r[k] for k in ("reviewed_at", "kind", "rating", "interval_days", "duration_ms", "answer", "correct")}
            for r in log
        ],
    }


def held_back(db: sqlite_utils.Database, index: CardIndex, now: datetime) -> list[dict[str, Any]]:
    """The cards kept out of the quiz: suspended, or buried until a later moment; suspended first."""
    rows = []
    for card_id, row in store.card_state_rows(db).items():
        st = CardState.from_row(row)
        buried = st.buried_until is not None and st.buried_until > now
        if not (st.suspended or buried):
            continue
        rows.append({
            "id": card_id,
            "held": "suspended" if st.suspended else "buried",
            "buried_until": st.buried_until.isoformat() if buried else None,  # type: ignore[union-attr]
            "topic": index.topic_of(card_id),
            "location": location(index, card_id) if card_id in index else None,
        })
    return sorted(rows, key=lambda r: (r["held"] != "suspended", r["id"]))
