"""The study site: the bank, the exercises and optionally the learner's progress, as static pages.

`build` renders every page with jinja2 from `site/templates`, copies `site/static`,
writes the card data the flashcard mode and the offline search need as a script (so
it loads from file:// too), and indexes the pages with Pagefind. Every link is
relative, so the folder works opened from the file system and from `serve`. Nothing
here prints: progress goes through a callback, the result is a `BuildResult`.

Search is Pagefind, run offline at build time. The pages mix English and Chinese,
and no single forced language serves both (measured on the shipped bank, 346
cards): with `en`, a run of Chinese characters is one word, so 挥手 inside
四次挥手 is never found; with `zh`, identifiers such as TIME_WAIT are segmented
unevenly, and a search for TIME_WAIT found 4 of the 11 cards holding it (`en`
finds all 11). So the site carries two bundles, each indexed with one forced
language: `pagefind/` (zh) and `pagefind-en/` (en); the search page sends a query
of Chinese characters alone to the first, one without them to the second, and a
query holding both (TIME_WAIT状态) to both, merging the results (site/static/search.js).
Pagefind loads its index with fetch, which browsers refuse on file://; there, and
whenever Pagefind fails to load, the search page searches the card data written
for the flashcards instead (site/static/offline-search.js), which a <script> tag loads.

Both languages of a bilingual bank are on the same page (one URL a card): a text
with two different sides is written twice, as `<span class="l-en" lang="en">` and
`<span class="l-zh" lang="zh">` (`div` for blocks), and the switch in the header
sets `data-lang` on <html> (remembered in localStorage), which hides the other
side (site.css). Pagefind indexes both sides, so a card is found by its Chinese
text too; the flashcards and the offline search read the same HTML. See docs/site.md.

Short answers are checked in the browser by a port of `cards.normalise_answer`
(site/static/answers.js). Python's white space and case folding (`str.strip`,
`re`'s white space class, `str.casefold`) are wider than JavaScript's (`trim`, `toLowerCase`),
so the build writes this Python's own tables into static/text-rules.js and the
port reads them: the two checkers agree on every code point (a browser test
compares them on all of them).
"""

from __future__ import annotations

import array
import functools
import html
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

from . import content
from .cards import SLUG, Bank, Card, choice_order, text_in, text_sides
from .errors import EnvironmentProblem, InputError, NotFoundError, UsageError
from .labels import TABLES, labels, site_labels

SEARCH_BUNDLES = (("zh", "pagefind"), ("en", "pagefind-en"))  # (forced language, folder); see the docstring
MARKER = ".prep-site"  # written into every built site; only a folder holding it is ever replaced
DEFAULT_OUT = Path("_site")
DEFAULT_PORT = 8000
HOST = "127.0.0.1"
VERDICTS = ("passed", "failed", "error", "timeout", "memory-limit", "crashed", "output-limit", "internal-error")
STATE_NAMES = {1: "learning", 2: "review", 3: "relearning"}

OnProgress = Callable[[str, int, int], None]
"""Called as (stage, done, total) while building; stages: pages, search."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


# --- exercises ----------------------------------------------------------------------


@dataclass(frozen=True)
class ExercisePage:
    """What the site shows of an exercise (docs/grading.md): metadata, statement, starter files."""

    slug: str
    title: str
    topics: list[str]
    cards: list[str]
    difficulty: str
    language: str
    entry: str | None
    statement: str
    starter: dict[str, str]


def load_exercises(folder: Path | None) -> tuple[list[ExercisePage], list[str]]:
    """The valid exercises under `folder` (read through prep.exercises), and the problems of the others.

    An exercise whose exercise.yaml has problems is left out of the site, never
    the whole site: the problems come back as `file:line: slug: message` lines.
    """
    from . import exercises as exercises_lib

    if folder is None or not folder.is_dir():
        return [], []
    catalog = exercises_lib.load_catalog(folder)
    problems = [str(p) for p in getattr(catalog, "problems", [])]
    pages = []
    for ex in catalog.exercises:
        starter = {}
        if ex.starter.is_dir():
            for path in sorted(p for p in ex.starter.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
                try:
                    starter[path.relative_to(ex.starter).as_posix()] = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue  # a binary file has nothing to show
        pages.append(
            ExercisePage(
                slug=ex.slug,
                title=ex.title,
                topics=list(ex.topics),
                cards=list(ex.cards),
                difficulty=ex.difficulty,
                language=ex.language,
                entry=ex.entry,
                statement=ex.readme.read_text(encoding="utf-8") if ex.readme.is_file() else "",
                starter=starter,
            )
        )
    return pages, problems


# --- progress -----------------------------------------------------------------------


@dataclass
class Progress:
    """The learner's progress as the site shows it, read from the progress database.

    `figures` is what `prep stats --json` reports (prep.stats.compute), so the
    dashboard and the terminal agree on days, retention and mastery.
    """

    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviews: list[dict[str, Any]] = field(default_factory=list)  # for counts per card
    submissions: list[dict[str, Any]] = field(default_factory=list)  # oldest first, each with "tests"
    figures: dict[str, Any] = field(default_factory=dict)
    weekly_retention: list[dict[str, Any]] = field(default_factory=list)  # oldest week first
    day_starts_at: int = 4
    document: dict[str, Any] | None = None  # `prep progress export`'s document, for the flashcards to merge


def read_progress(db: Any, bank: Bank, now: datetime, settings: Any | None = None, weeks: int = 12) -> Progress:
    """Card states, the review log, the submissions (with their tests) and the stats figures."""
    from . import progress as progress_lib
    from . import stats as stats_lib
    from .bank_cache import CardIndex
    from .scheduling import day_start, local_day
    from .settings import QuizSettings

    settings = settings or QuizSettings()
    states = {row["card_id"]: row for row in db["card_state"].rows}
    reviews = list(
        db.query(
            "select card_id, rating, reviewed_at, duration_ms, kind, answer, correct "
            "from reviews order by reviewed_at, id"
        )
    )
    submissions = list(
        db.query(
            "select id, exercise, submitted_at, verdict, score, duration_ms, backend, performance, message "
            "from submissions order by submitted_at, id"
        )
    )
    tests: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in db.query("select submission_id, name, status, message, output, duration_ms from submission_tests"):
        tests[row["submission_id"]].append(row)
    for sub in submissions:
        sub["tests"] = tests.get(sub["id"], [])
        sub["performance"] = json.loads(sub["performance"]) if sub.get("performance") else None
    figures = stats_lib.compute(db, CardIndex.from_bank(bank), settings, now, months=12)

    # True retention week by week, by differences of "since" totals: the same rule as `prep stats`.
    today = local_day(now, settings.day_starts_at)
    starts = [today - timedelta(days=7 * i + 6) for i in range(weeks)]  # newest week first
    totals = [stats_lib.true_retention(db, settings, day_start(d, settings.day_starts_at)) for d in starts]
    weekly = []
    for i, first in enumerate(starts):
        later = totals[i - 1] if i > 0 else {"passed": 0, "failed": 0}
        passed = totals[i]["passed"] - later["passed"]
        failed = totals[i]["failed"] - later["failed"]
        n = passed + failed
        weekly.append({"from": first.isoformat(), "passed": passed, "failed": failed,
                       "rate": round(passed / n, 4) if n else None})
    weekly.reverse()
    return Progress(states=states, reviews=reviews, submissions=submissions, figures=figures,
                    weekly_retention=weekly, day_starts_at=settings.day_starts_at,
                    document=progress_lib.export_progress(db, now, unreviewed=True))


def _dt(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


def _effective_due(row: dict[str, Any], now: datetime) -> datetime:
    due = _dt(row.get("due")) or now
    buried = _dt(row.get("buried_until"))
    return max(due, buried) if buried else due


def _is_due(row: dict[str, Any], now: datetime) -> bool:
    return row.get("state") in (1, 2, 3) and not row.get("suspended") and _effective_due(row, now) <= now


def due_counts(cards: Iterable[Card], progress: Progress, now: datetime) -> dict[str, dict[str, int]]:
    """Per topic: cards due now (as of the build), new (never reviewed) and suspended."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"due": 0, "new": 0, "suspended": 0})
    for card in cards:
        row = progress.states.get(card.id)
        entry = counts[card.topic]
        if row is None or row.get("state") not in (1, 2, 3):
            entry["new"] += 1
        elif row.get("suspended"):
            entry["suspended"] += 1
        elif _is_due(row, now):
            entry["due"] += 1
    return dict(counts)


def forecast(cards: Iterable[Card], progress: Progress, now: datetime, days: int = 30) -> list[int]:
    """Cards due on each of the learner's next `days` days; overdue counts today, the last day is that or later."""
    from .scheduling import local_day

    today = local_day(now, progress.day_starts_at)
    counts = [0] * (days + 1)
    for card in cards:
        row = progress.states.get(card.id)
        if row is None or row.get("state") not in (1, 2, 3) or row.get("suspended"):
            continue
        offset = (local_day(_effective_due(row, now), progress.day_starts_at) - today).days
        counts[min(days, max(0, offset))] += 1
    return counts


def dashboard(cards: list[Card], progress: Progress, now: datetime) -> dict[str, Any]:
    """The dashboard's figures: `prep stats`' own, plus a 30-day forecast and the submissions."""
    exercises: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for sub in progress.submissions:
        exercises[sub["exercise"]].append(sub)
    figures = progress.figures
    return {
        "today": figures["day"],
        "reviews_total": figures["reviews_total"],
        "reviews_today": figures["today"]["reviews"],
        "streak": figures["streak"],
        "heatmap": figures["heatmap"],
        "retention": figures["retention"],
        "weekly_retention": progress.weekly_retention,
        "forecast": forecast(cards, progress, now),
        "topics": [t for t in figures["topics"] if t["cards"]],
        "exercises": {slug: subs for slug, subs in sorted(exercises.items())},
    }


# --- charts (SVG at build time, styled by the page's CSS so dark mode applies) ----------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def heatmap_svg(per_day: dict[str, int], today: date, weeks: int = 53) -> str:
    cell, gap, left, top = 11, 2, 28, 16
    counts = {date.fromisoformat(d): n for d, n in per_day.items()}
    start = today - timedelta(days=today.weekday() + 7 * (weeks - 1))  # a Monday
    peak = max([n for d, n in counts.items() if d >= start] or [0])
    parts = []
    month_seen = None
    last_label = -9
    for week in range(weeks):
        x = left + week * (cell + gap)
        first = start + timedelta(days=7 * week)
        if first.month != month_seen:
            month_seen = first.month
            if week - last_label >= 3 and week < weeks - 2:  # no two labels on top of each other
                parts.append(f'<text class="axis" x="{x}" y="{top - 5}">{first.strftime("%b")}</text>')
                last_label = week
        for dow in range(7):
            day = first + timedelta(days=dow)
            if day > today:
                continue
            n = counts.get(day, 0)
            level = 0 if n == 0 else min(4, 1 + (4 * (n - 1)) // max(1, peak))
            y = top + dow * (cell + gap)
            noun = "review" if n == 1 else "reviews"
            parts.append(
                f'<rect class="h{level}" x="{x}" y="{y}" width="{cell}" height="{cell}" rx="2">'
                f"<title>{day.isoformat()}: {n} {noun}</title></rect>"
            )
    for dow, name in ((0, "Mon"), (2, "Wed"), (4, "Fri")):
        parts.append(f'<text class="axis" x="0" y="{top + dow * (cell + gap) + cell - 2}">{name}</text>')
    width = left + weeks * (cell + gap)
    height = top + 7 * (cell + gap)
    return (
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Reviews per day over the last {weeks} weeks">' + "".join(parts) + "</svg>"
    )


def bars_svg(values: list[float | None], labels: list[str], label: str, *, percent: bool = False,
             titles: list[str] | None = None) -> str:
    width, height, left, bottom, top = 800, 140, 34, 20, 10
    n = max(1, len(values))
    peak = 1.0 if percent else max([v for v in values if v is not None] or [1]) or 1
    bar_w = (width - left) / n
    parts = [f'<line class="grid" x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}"/>']
    top_label = "100%" if percent else str(int(peak))
    parts.append(f'<text class="axis" x="0" y="{top + 8}">{top_label}</text>')
    parts.append(f'<text class="axis" x="0" y="{height - bottom}">0</text>')
    for i, value in enumerate(values):
        x = left + i * bar_w + 1
        tip = titles[i] if titles else f"{labels[i] or i}: {value}"
        if value is None:
            parts.append(f'<rect class="bar-empty" x="{x:.1f}" y="{height - bottom - 2}" width="{bar_w - 2:.1f}" height="2">'
                         f"<title>{_e(tip)}</title></rect>")
        else:
            h = (height - bottom - top) * (value / peak)
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar_w - 2:.1f}" '
                         f'height="{h:.1f}"><title>{_e(tip)}</title></rect>')
        if labels[i]:
            parts.append(f'<text class="axis" x="{x:.1f}" y="{height - 5}">{_e(labels[i])}</text>')
    return (f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">'
            + "".join(parts) + "</svg>")


def mastery_svg(rows: list[dict[str, Any]]) -> str:
    """One stacked bar per topic: mature, young, learning, new (rows of `prep stats`' topics)."""
    kinds = ("mature", "young", "learning", "new")
    row_h, label_w, width = 22, 190, 640
    height = row_h * len(rows) + 24
    parts = []
    for i, row in enumerate(rows):
        y = i * row_h
        total = max(1, row["cards"])
        mastered = (row["young"] + row["mature"]) / total
        parts.append(f'<text class="axis" x="0" y="{y + 15}">{_e(row["title"][:28])}</text>')
        x = float(label_w)
        for kind in kinds:
            if not row[kind]:
                continue
            w = (width - label_w - 44) * row[kind] / total
            parts.append(f'<rect class="m-{kind}" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}">'
                         f'<title>{_e(row["title"])}: {row[kind]} of {row["cards"]} {kind}</title></rect>')
            x += w
        parts.append(f'<text class="axis" x="{width - 38}" y="{y + 15}">{mastered:.0%}</text>')
    lx = label_w
    for kind in kinds:
        parts.append(f'<rect class="m-{kind}" x="{lx}" y="{height - 14}" width="10" height="10"/>'
                     f'<text class="axis" x="{lx + 14}" y="{height - 5}">{kind}</text>')
        lx += 84
    return (f'<svg class="chart mastery" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="Cards per state in each topic; the figure is the share in review">' + "".join(parts) + "</svg>")


def verdicts_svg(exercises: dict[str, list[dict[str, Any]]], titles: dict[str, str]) -> str:
    if not exercises:
        return ""
    moments = [_dt(s["submitted_at"]) for subs in exercises.values() for s in subs]
    first, last = min(moments), max(moments)  # type: ignore[type-var]
    span = max((last - first).total_seconds(), 1.0)  # type: ignore[operator]
    row_h, label_w, width = 24, 190, 640
    height = row_h * len(exercises) + 20
    parts = []
    for i, (slug, subs) in enumerate(exercises.items()):
        y = i * row_h + row_h / 2
        parts.append(f'<text class="axis" x="0" y="{y + 4}">{_e(titles.get(slug, slug)[:28])}</text>')
        parts.append(f'<line class="grid" x1="{label_w}" y1="{y}" x2="{width - 10}" y2="{y}"/>')
        for sub in subs:
            at = _dt(sub["submitted_at"])
            x = label_w + (width - label_w - 20) * ((at - first).total_seconds() / span)  # type: ignore[operator]
            verdict = sub["verdict"] if sub["verdict"] in VERDICTS else "error"
            parts.append(f'<circle class="v-{verdict}" cx="{x:.1f}" cy="{y}" r="6"><title>{_e(slug)} '
                         f'{_e(sub["submitted_at"][:16])}: {_e(sub["verdict"])} ({sub["score"] or 0:.0%})</title></circle>')
    parts.append(f'<text class="axis" x="{label_w}" y="{height - 4}">{_e(first.date().isoformat())}</text>')  # type: ignore[union-attr]
    parts.append(f'<text class="axis" x="{width - 80}" y="{height - 4}">{_e(last.date().isoformat())}</text>')  # type: ignore[union-attr]
    return (f'<svg class="chart verdicts" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="Verdicts of each submission over time">' + "".join(parts) + "</svg>")


# --- rendering ----------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _lexer(lang: str) -> Any:
    try:
        return get_lexer_by_name(lang)  # finding a lexer by name is slow: once per language
    except ClassNotFound:
        return None


_INLINE_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, attrs: str = "") -> str:
    lexer = _lexer(lang.strip().lower()) if lang.strip() else None
    if lexer is None:
        return ""  # markdown-it escapes it into a plain <pre><code>
    tokens = pygments_highlight(code, lexer, _INLINE_FORMATTER)
    # Starting with <pre, markdown-it takes it as the whole block instead of wrapping it again.
    return f'<pre class="highlight"><code class="language-{html.escape(lang)}">{tokens}</code></pre>\n'



def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "highlight": _highlight}).enable("table")


def highlight_file(name: str, text: str) -> str:
    try:
        lexer = get_lexer_for_filename(name, text)
    except ClassNotFound:
        lexer = TextLexer()
    return pygments_highlight(text, lexer, HtmlFormatter(cssclass="highlight", linenos="table"))


def pygments_css() -> str:
    light = HtmlFormatter(style="default").get_style_defs(".highlight")
    dark = HtmlFormatter(style="github-dark").get_style_defs(".highlight")
    return (
        "/* generated by prep site build from pygments' styles */\n"
        f"{light}\n@media screen and (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
    )


def _split_prompt(prompt: str) -> tuple[str, str]:
    text = prompt.strip()
    head, _, rest = text.partition("\n\n")
    if head.lstrip().startswith(("```", "    ", "- ", "* ", "1. ", ">")):
        return "", text
    return head, rest


class _Views:
    """Cards and exercises turned into what the templates and the flashcard script read."""

    def __init__(self, bank: Bank, cards: list[Card], exercises: list[ExercisePage], notes: Any | None,
                 progress: Progress | None, now: datetime) -> None:
        self.md = _markdown()
        self.bank = bank
        self.exercises = {e.slug: e for e in exercises}
        self.notes = notes
        self.progress = progress
        self.now = now
        self.card_ids = {c.id for c in cards}
        self.linked = {card_id: e for e in reversed(exercises) for card_id in e.cards}
        self.review_counts = Counter(r["card_id"] for r in progress.reviews) if progress is not None else Counter()

    def block(self, text: str) -> Markup:
        return Markup(self.md.render(text)) if text else Markup("")

    def inline(self, text: str) -> Markup:
        return Markup(self.md.renderInline(text)) if text else Markup("")

    @staticmethod
    def both(parts: dict[str, Markup], tag: str = "span") -> Markup:
        """One piece of HTML a language, each marked with its language; one piece alone when the sides agree."""
        parts = {lang: html_ for lang, html_ in parts.items()}
        if not parts:
            return Markup("")
        if len(parts) == 1 or len({str(h) for h in parts.values()}) == 1:
            return next(iter(parts.values()))
        # spans apart by a space never shown (site.css): read as text (a search result's title), two phrases
        return Markup('<span class="l-sep"> </span>' if tag == "span" else "").join(
            Markup('<{0} class="l-{1}" lang="{1}">').format(Markup(tag), lang) + html_ + Markup(f"</{tag}>")
            for lang, html_ in parts.items()
        )

    def inline_both(self, value: Any) -> Markup:
        return self.both({lang: self.inline(text) for lang, text in text_sides(value).items()})

    def block_both(self, value: Any) -> Markup:
        return self.both({lang: self.block(text) for lang, text in text_sides(value).items()}, "div")

    def topic_title(self, topic: str) -> Markup:
        found = self.bank.topics.get(topic)
        return self.inline_both(found.title) if found else Markup(_e(topic))

    def card(self, card: Card) -> dict[str, Any]:
        prompts = {lang: _split_prompt(text) for lang, text in text_sides(card.prompt).items()}
        head, rest = _split_prompt(text_in(card.prompt, "en") or "")
        head_zh = _split_prompt(text_in(card.prompt, "zh") or "")[0]
        exercise = self.exercises.get(card.exercise) if card.exercise else None
        if exercise is None and not card.exercise:
            exercise = self.linked.get(card.id)  # the exercise names the card, the card does not name it
        items = list(card.items or [])
        shuffled = items[:]
        if len(items) > 1:
            rng = random.Random(card.id)  # the same order on every build, and never the right one
            while shuffled == items:
                rng.shuffle(shuffled)
        note_lines = []
        for number in card.source.lines if card.source else []:
            line = self.notes.line(number) if self.notes is not None else None
            note_lines.append({"number": number, "text": line.text.strip() if line else None})
        state = None
        if self.progress is not None and card.id in self.progress.states:
            row = self.progress.states[card.id]
            due = _dt(row["due"])
            state = {
                "name": "suspended" if row.get("suspended") else STATE_NAMES.get(row["state"], "?"),
                "due": row["due"][:16].replace("T", " "),
                "is_due": bool(due and due <= self.now),
                "stability": row.get("stability"),
                "reviews": self.review_counts[card.id],
            }
        return {
            "id": card.id,
            "topic": card.topic,
            "topic_title": self.topic_title(card.topic),
            "type": card.type,
            "difficulty": card.difficulty,
            "tags": list(card.tags),
            "title": self.both({lang: self.inline(h) if h else Markup(_e(card.id)) for lang, (h, _) in prompts.items()}),
            "title_text": head or card.id,
            "title_text_zh": head_zh or head or card.id,
            "prompt_rest": self.both({lang: self.block(r) for lang, (_, r) in prompts.items() if r}, "div"),
            "answer": self.block_both(card.answer),
            "explanation": self.block_both(card.explanation),
            "choices": [
                {"html": self.inline_both(c.text), "text": text_in(c.text, "en"), "correct": c.correct,
                 "why": self.inline_both(c.why)}
                for c in (card.choices[i] for i in choice_order(card))
            ],
            "items_text": [text_in(i, "en") for i in items],
            "order": [self.inline_both(i) for i in items],
            "shuffled": [self.inline_both(i) for i in shuffled],
            # the answer in either language, then the aliases (as Card.accepts)
            "accept": list(dict.fromkeys([*text_sides(card.answer).values(), *card.accept])) if card.type == "short" else [],
            "also_accepted": card.other_accepted() if card.type == "short" else [],
            "refs": [{"title": r.title, "url": r.url} for r in card.ref_list],
            "section": card.source.section if card.source else None,
            "note_lines": note_lines,
            "zh": list(card.zh),
            "corrects": self.inline_both(card.corrects) if card.corrects else None,
            "exercise": {"slug": exercise.slug, "title": exercise.title} if exercise else None,
            "exercise_missing": card.exercise if card.exercise and not exercise else None,
            "file": card.file,
            "line": card.line,
            "url": f"cards/{card.id}.html",
            "state": state,
        }

    @staticmethod
    def script_card(view: dict[str, Any]) -> dict[str, Any]:
        """The part of a card the flashcard mode and the offline search need, as JSON."""
        return {
            "id": view["id"],
            "topic": view["topic"],
            "type": view["type"],
            "tags": view["tags"],  # tags and zh: for the search page's offline search (site/static/offline-search.js)
            "zh": view["zh"],
            "title": str(view["title"]),
            "prompt": str(view["prompt_rest"]),
            "answer": str(view["answer"]),
            "explanation": str(view["explanation"]),
            # text and items_text: what the review log records as the answer, as the terminal does
            "choices": [{"html": str(c["html"]), "text": c["text"], "correct": c["correct"], "why": str(c["why"])}
                        for c in view["choices"]],
            "items": [str(i) for i in view["order"]],
            "items_text": view["items_text"],
            "accept": view["accept"],
            "also_accepted": view["also_accepted"],
            "url": view["url"],
        }


@dataclass
class SearchIndex:
    languages: list[str]  # one bundle per forced language, in SEARCH_BUNDLES' order
    pages: int
    seconds: float


@dataclass
class BuildResult:
    out: Path
    pages: int
    cards: int
    topics: int
    tags: int
    exercises: int
    with_progress: bool
    render_seconds: float
    search: SearchIndex | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.out / "index.html"),
            "pages": self.pages,
            "cards": self.cards,
            "topics": self.topics,
            "tags": self.tags,
            "exercises": self.exercises,
            "with_progress": self.with_progress,
            "render_seconds": round(self.render_seconds, 3),
            "search": None if self.search is None else {
                "languages": self.search.languages,
                "pages": self.search.pages,
                "seconds": round(self.search.seconds, 3),
            },
        }


class _Writer:
    def __init__(self, env: jinja2.Environment, out: Path, common: dict[str, Any]) -> None:
        self.env = env
        self.out = out
        self.common = common
        self.pages = 0
        self._templates: dict[str, jinja2.Template] = {}

    def page(self, template: str, path: str, **context: Any) -> None:
        if template not in self._templates:
            self._templates[template] = self.env.get_template(template)
        root = "../" * path.count("/")
        text = self._templates[template].render(**self.common, root=root, path=path, **context)
        target = self.out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.pages += 1


def _label_in(lang: str, key: str, **values: Any) -> str:
    """A label of the site in `lang` (for an attribute: a placeholder, a title), its values filled in.

    A table of labels (`ratings`) gives its entry `n`."""
    value = labels(lang)[key]
    return value[values["n"]] if isinstance(value, dict) else value.format(**values)


def _label_both(key: str, **values: Any) -> Markup:
    """A label of the site in both languages, each marked as a card's two sides are (the switch shows one)."""
    sides = {lang: _label_in(lang, key, **values) for lang in TABLES}
    if len(set(sides.values())) == 1:
        return Markup(_e(sides["en"]))
    return Markup('<span class="l-sep"> </span>').join(
        Markup('<span class="l-{0}" lang="{0}">{1}</span>').format(lang, text) for lang, text in sides.items())


def _environment(templates: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{v:.0%}"
    env.filters["short_time"] = lambda s: (s or "")[:16].replace("T", " ")
    return env


def _prepare_out(out: Path) -> Path:
    """A fresh sibling folder to build into; `out` is replaced only when the build is done."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a folder; choose another --dir")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"{out}: the folder is not empty and was not made by `prep site build` (no {MARKER}); "
            "choose another --dir or empty it"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return Path(_mkdtemp(out.parent, f".{out.name}.building-"))
    except OSError as exc:
        raise InputError(f"{out.parent}: cannot write the site there: {exc.strerror}") from None


def _mkdtemp(parent: Path, prefix: str) -> str:
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, dir=parent)


def _swap_in(staging: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
    staging.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def pagefind_executable() -> Path:
    """The Pagefind binary bundled by the `pagefind[extended]` package."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        get_executable = None  # type: ignore[assignment]
    found = get_executable() if get_executable else None
    if found is None or not Path(found).exists():
        raise EnvironmentProblem(
            "the Pagefind binary is missing: `pip install 'pagefind[extended]'`, or build with --no-search"
        )
    return Path(found)


def index_search(site: Path, bundles: tuple[tuple[str, str], ...] = SEARCH_BUNDLES,
                 on_progress: OnProgress | None = None) -> SearchIndex:
    """Run Pagefind over a built site, offline, once per (forced language, bundle folder)."""
    binary = pagefind_executable()
    report = on_progress or _no_progress
    started = time.perf_counter()
    pages = 0
    for step, (language, folder) in enumerate(bundles):
        report("search", step, len(bundles))
        try:
            done = subprocess.run(
                [str(binary), "--site", str(site), "--force-language", language, "--output-subdir", folder],
                capture_output=True, text=True, timeout=600,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnvironmentProblem(f"Pagefind failed to run ({binary}): {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise EnvironmentProblem(f"Pagefind failed (exit {done.returncode}): {' / '.join(tail)}")
        match = re.search(r"Indexed (\d+) pages?", done.stdout)
        pages = int(match.group(1)) if match else pages
    report("search", len(bundles), len(bundles))
    return SearchIndex([language for language, _ in bundles], pages, time.perf_counter() - started)


def build(
    bank: Bank,
    out: Path = DEFAULT_OUT,
    *,
    exercises: list[ExercisePage] | None = None,
    progress: Progress | None = None,
    notes: Any | None = None,
    search: bool = True,
    now: datetime | None = None,
    on_progress: OnProgress | None = None,
    site_folder: Path | None = None,
    settings: Any | None = None,
    lang: str = "en",
) -> BuildResult:
    """Render the study site into `out` (replaced only when the new one is complete).

    `lang` is the language a page opens in (the header's switch and the browser's memory of it
    change it): the cards' texts and the site's own words (prep.labels) both follow it.
    """
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    report = on_progress or _no_progress
    folder = site_folder or content.site_dir()
    templates, static = folder / "templates", folder / "static"
    if not (templates / "base.html").is_file():
        raise NotFoundError(f"{templates}: the site's templates are missing; reinstall prep")
    exercises = exercises or []
    out = Path(out)
    staging = _prepare_out(out)
    try:
        started = time.perf_counter()
        pages = _render(bank, staging, templates, static, exercises, progress, notes, now, search, report,
                        scheduler_options(settings), lang)
        render_seconds = time.perf_counter() - started
        indexed = None
        if search:
            indexed = index_search(staging, on_progress=report)
        (staging / MARKER).write_text(f"built by prep site build at {_iso(now)}\n", encoding="utf-8")
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    live = [c for c in bank.cards if not c.draft]
    return BuildResult(
        out=out,
        pages=pages,
        cards=len(live),
        topics=len({c.topic for c in live}),
        tags=len({t for c in live for t in c.tags}),
        exercises=len(exercises),
        with_progress=progress is not None,
        render_seconds=render_seconds,
        search=indexed,
    )


def scheduler_options(settings: Any | None = None) -> dict[str, Any]:
    """The learner's `[quiz]` settings as the flashcard mode's ts-fsrs takes them (steps in minutes)."""
    from .settings import QuizSettings

    settings = settings or QuizSettings()

    def minutes(steps: Iterable[timedelta]) -> list[str]:
        return [f"{step.total_seconds() / 60:g}m" for step in steps]

    return {
        "desired_retention": settings.desired_retention,
        "maximum_interval": settings.maximum_interval,
        "fuzz": settings.fuzz,
        "learning_steps": minutes(settings.learning_steps),
        "relearning_steps": minutes(settings.relearning_steps),
        "new_per_day": settings.new_per_day,
        "easy_seconds": settings.easy_seconds,
        "day_starts_at": settings.day_starts_at,
    }


CASED_PLANES_END = 0x20000  # Unicode gives case and white space only to planes 0 and 1 (a test checks it)


@functools.lru_cache(maxsize=1)
def text_rules() -> dict[str, Any]:
    """This Python's white space and case folding, for the browser's port of `cards.normalise_answer`.

    `space`: the code points `str.strip()` and `re`'s white space class take as white space.
    `runs` and `multi`: `str.casefold()` of every code point it changes, as runs
    `[first, count, step, delta]` (first + k*step folds to itself + delta) and, for
    the folds to more than one character (ß -> ss), {code point: text}.
    """
    typecode = next(t for t in "IL" if array.array(t).itemsize == 4)  # one UTF-32 unit per code point
    codes = array.array(typecode, range(0xD800))
    codes.extend(range(0xE000, CASED_PLANES_END))  # lone surrogates have no case and are no space
    text = codes.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")
    folds: dict[int, str] = {}
    chunk = 1024
    for start in range(0, len(text), chunk):  # casefold a whole chunk first: most change nothing
        part = text[start:start + chunk]
        if part.casefold() != part:
            folds.update({ord(c): c.casefold() for c in part if c.casefold() != c})
    runs: list[list[int]] = []
    multi: dict[str, str] = {}
    for code, folded in sorted(folds.items()):
        if len(folded) != 1:
            multi[str(code)] = folded
            continue
        delta = ord(folded) - code
        last = runs[-1] if runs else None
        if last is not None and last[3] == delta and _continues(last, code):
            if last[1] == 1:
                last[2] = code - last[0]
            last[1] += 1
        else:
            runs.append([code, 1, 1, delta])
    space = [ord(c) for c in re.findall(r"\s", text)]
    return {"unicode": unicodedata.unidata_version, "space": space, "runs": runs, "multi": multi}


def _continues(run: list[int], code: int) -> bool:
    """Whether `code` is the next member of a run (a run of one takes a step of 1 or 2)."""
    first, count, step, _ = run
    if count == 1:
        return code - first in (1, 2)
    return code == first + count * step


def _render(bank: Bank, out: Path, templates: Path, static: Path, exercises: list[ExercisePage],
            progress: Progress | None, notes: Any | None, now: datetime, search: bool,
            report: OnProgress, scheduler: dict[str, Any], lang: str = "en") -> int:
    cards = bank.select()
    views = _Views(bank, cards, exercises, notes, progress, now)
    card_views = [views.card(c) for c in cards]
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_tag: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for view in card_views:
        by_topic[view["topic"]].append(view)
        for tag in view["tags"]:
            by_tag[tag].append(view)
    topics = [
        {"id": t.id, "title": views.inline_both(t.title), "title_text": text_in(t.title, "en"),
         "title_text_zh": text_in(t.title, "zh"),
         "titles": text_sides(t.title), "description": views.inline_both(t.description), "cards": by_topic[t.id]}
        for t in bank.topics.values() if by_topic.get(t.id)
    ]
    counts = due_counts(cards, progress, now) if progress is not None else None
    # the cards the home page counts as due, soonest first: its "Review them" leads to exactly these
    due_views = sorted(
        (v for v in card_views if _is_due(progress.states.get(v["id"]) or {}, now)),
        key=lambda v: _effective_due(progress.states[v["id"]], now),
    ) if progress is not None else []
    exercise_views = []
    for ex in exercises:
        linked = [v for v in card_views if v["id"] in ex.cards or (v["exercise"] or {}).get("slug") == ex.slug]
        subs = []
        if progress is not None:
            subs = [s for s in reversed(progress.submissions) if s["exercise"] == ex.slug]
        exercise_views.append({
            "slug": ex.slug,
            "title": ex.title,
            "topics": [{"id": t, "title": views.topic_title(t),
                        "linked": bool(by_topic.get(t))} for t in ex.topics],
            "difficulty": ex.difficulty,
            "language": ex.language,
            "entry": ex.entry,
            "statement": views.block(ex.statement),
            "starter": [{"name": name, "html": Markup(highlight_file(name, text))} for name, text in ex.starter.items()],
            "cards": linked,
            "missing_cards": [c for c in ex.cards if c not in views.card_ids],
            "submissions": subs,
        })
    corrections = sorted((v for v in card_views if v["corrects"] and v["note_lines"]),  # canon cards: not the notes
                         key=lambda v: (v["note_lines"][0]["number"] if v["note_lines"] else 0, v["id"]))
    common = {
        "built_at": now.strftime("%Y-%m-%d %H:%M UTC"),
        "card_count": len(card_views),
        "with_progress": progress is not None,
        "has_search": search,
        "has_exercises": bool(exercise_views),
        "notes_name": notes.path.name if notes is not None else None,
        "site_lang": lang,
    }
    total = 7 + len(topics) + len(card_views) + len(exercise_views) + len(by_tag) + (2 if progress is not None else 0)
    env = _environment(templates)
    env.globals.update(L=_label_both, A=functools.partial(_label_in, lang))
    writer = _Writer(env, out, common)

    def page(template: str, path: str, **context: Any) -> None:
        writer.page(template, path, **context)
        if writer.pages % 50 == 0 or writer.pages == total:
            report("pages", writer.pages, total)

    if static.is_dir():
        shutil.copytree(static, out / "static", dirs_exist_ok=True)
    (out / "static").mkdir(exist_ok=True)
    (out / "static" / "pygments.css").write_text(pygments_css(), encoding="utf-8")
    (out / "static" / "text-rules.js").write_text(
        "/* generated by prep site build: this Python's white space and case folding (prep/site.py text_rules) */\n"
        "window.PREP_TEXT_RULES = " + json.dumps(text_rules(), ensure_ascii=False, separators=(",", ":")) + ";\n",
        encoding="utf-8",
    )
    data = {
        "built_at": _iso(now),
        "scheduler": scheduler,
        "topics": [{"id": t["id"], "title": t["title_text"], "titles": t["titles"], "count": len(t["cards"])} for t in topics],
        "cards": [views.script_card(v) for v in card_views],
        "terminal": progress.document if progress is not None else None,
        "labels": site_labels(),
    }
    (out / "data").mkdir()
    (out / "data" / "cards.js").write_text(
        "window.PREP_SITE = " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + ";\n", encoding="utf-8"
    )

    page("index.html", "index.html", title="Study site", title_zh="学习站点", topics=topics, counts=counts,
         exercises=exercise_views, corrections=len(corrections), tags=len(by_tag))
    for topic in topics:
        page("topic.html", f"topics/{topic['id']}.html", title=topic["title_text"], title_zh=topic["title_text_zh"], topic=topic,
             counts=(counts or {}).get(topic["id"]))
    for view in card_views:
        page("card.html", f"cards/{view['id']}.html", title=view["title_text"], title_zh=view["title_text_zh"], card=view)
    page("exercises.html", "exercises/index.html", title="Exercises", title_zh="练习", exercises=exercise_views)
    for ex in exercise_views:
        page("exercise.html", f"exercises/{ex['slug']}.html", title=ex["title"], exercise=ex)
    tag_rows = sorted(((tag, views_) for tag, views_ in by_tag.items()), key=lambda kv: kv[0])
    page("tags.html", "tags/index.html", title="Tags", title_zh="标签", tags=[(t, len(v)) for t, v in tag_rows])
    for tag, tagged in tag_rows:
        page("tag.html", f"tags/{tag}.html", title=f"Tag: {tag}", title_zh=f"标签：{tag}", tag=tag, cards=tagged)
    page("corrections.html", "corrections.html", title="What the notes got wrong", title_zh="笔记里的错误", cards=corrections)
    page("flashcards.html", "flashcards.html", title="Flashcards", title_zh="闪卡", topics=topics)
    page("search.html", "search.html", title="Search", title_zh="搜索")
    if progress is not None:
        page("due.html", "due.html", title="Due cards", title_zh="到期的卡片", cards=due_views)
    page("about.html", "about.html", title="About this site", title_zh="关于本站")
    if progress is not None:
        stats = dashboard(cards, progress, now)
        today = date.fromisoformat(stats["today"])
        fc = stats["forecast"]
        forecast_labels = ["today" if i == 0 else (f"+{i}" if i % 7 == 0 else "") for i in range(len(fc))]
        forecast_titles = [("today, overdue included" if i == 0 else (today + timedelta(days=i)).isoformat())
                           + f": {n} cards" for i, n in enumerate(fc)]
        forecast_titles[-1] = f"in {len(fc) - 1} days or later: {fc[-1]} cards"
        weekly = stats["weekly_retention"]
        week_labels = [("this week" if i == len(weekly) - 1 else (w["from"][5:] if i % 3 == 0 else ""))
                       for i, w in enumerate(weekly)]
        week_titles = [f"week from {w['from']}: " + ("no mature reviews" if w["rate"] is None else
                       f"{w['rate']:.0%} of {w['passed'] + w['failed']} passed") for w in weekly]
        titles = {e.slug: e.title for e in exercises}
        charts = {
            "heatmap": Markup(heatmap_svg(stats["heatmap"]["days"], today)),
            "forecast": Markup(bars_svg(fc, forecast_labels, "Cards due on each of the next 30 days",
                                        titles=forecast_titles)),
            "retention": Markup(bars_svg([w["rate"] for w in weekly], week_labels,
                                         "True retention of mature cards in each of the last 12 weeks", percent=True,
                                         titles=week_titles)),
            "mastery": Markup(mastery_svg(stats["topics"])),
            "verdicts": Markup(verdicts_svg(stats["exercises"], titles)),
        }
        page("dashboard.html", "dashboard.html", title="Your progress", title_zh="学习进度", stats=stats, charts=charts,
             exercise_titles=titles)
    report("pages", writer.pages, writer.pages)
    return writer.pages


# --- serving ------------------------------------------------------------------------


API_PATH = "/api/progress"
API_MAX_BYTES = 64 * 1024 * 1024


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".json": "application/json",
        ".wasm": "application/wasm",
        ".svg": "image/svg+xml",
        ".pagefind": "application/octet-stream",
        ".pf_meta": "application/octet-stream",
        ".pf_index": "application/octet-stream",
        ".pf_fragment": "application/octet-stream",
    }

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    # --- the progress API: /api/progress, on `prep site serve` with a progress database ---

    def do_GET(self) -> None:
        if urlsplit(self.path).path == API_PATH:
            self._api("GET")
        else:
            super().do_GET()

    def do_POST(self) -> None:
        if urlsplit(self.path).path == API_PATH:
            self._api("POST")
        else:
            self._json(404, {"error": f"{self.path}: nothing to post to here"})

    def _json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _api(self, method: str) -> None:
        db_path = getattr(self.server, "progress_db", None)
        if db_path is None:
            # 200, not 404: a page asking whether progress is shared logs no error in the console
            self._json(200, {"shared": False, "why": "this server shares no progress (prep site serve --no-progress)"})
            return
        port = self.server.server_address[1]
        allowed = {f"{HOST}:{port}", f"localhost:{port}"}
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        # only pages of this site: no other site (nor a DNS name rebound to 127.0.0.1) reads or writes progress
        if host not in allowed or (origin is not None and urlsplit(origin).netloc not in allowed):
            self._json(403, {"error": "the progress API answers only this site's own pages"})
            return
        from . import progress as progress_lib
        from . import store
        from .errors import PrepError

        try:
            if method == "POST":
                if self.headers.get_content_type() != "application/json":
                    self._json(415, {"error": "send the progress document as application/json"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > API_MAX_BYTES:
                    self._json(413, {"error": f"a progress document of {length} bytes is too big"})
                    return
                try:
                    raw = json.loads(self.rfile.read(length) or b"null")
                    undo = raw.pop("undo", []) if isinstance(raw, dict) else []
                    data = progress_lib.validate(raw, "the browser's progress")
                    if not isinstance(undo, list) or not all(isinstance(u, dict) and isinstance(u.get("id"), str) for u in undo):
                        raise ValueError("undo: a list of the browser's undone actions")
                except (ValueError, PrepError) as exc:
                    self._json(400, {"error": str(exc)})
                    return
            db = store.open_db(Path(db_path))
            try:
                undone = [undo_in_db(db, u) for u in undo] if method == "POST" else []
                report = progress_lib.import_progress(db, data, self.server.progress_settings) if method == "POST" else None
                document = progress_lib.export_progress(db, datetime.now(timezone.utc), unreviewed=True)
            finally:
                db.conn.close()
        except (PrepError, ValueError, TypeError, KeyError) as exc:
            self._json(503 if isinstance(exc, PrepError) else 400, {"error": str(exc)})
            return
        if report is not None:
            document["imported"] = report.to_dict()
            document["undone"] = sum(undone)
        self._json(200, document)


def _same_time(a: Any, b: Any) -> bool:
    if not a or not b:
        return not a and not b
    return datetime.fromisoformat(str(a).replace("Z", "+00:00")) == datetime.fromisoformat(str(b).replace("Z", "+00:00"))


def _entry_is(row: dict[str, Any] | None, snap: dict[str, Any] | None) -> bool:
    """Does the database's row hold what the browser's snapshot ({entry, side}) says?"""
    entry, side = (snap or {}).get("entry"), (snap or {}).get("side")
    if entry is None:
        if row is None or row["state"] == 0:
            flags = side or {}
            have = row or {}
            return bool(have.get("suspended")) == bool(flags.get("suspended")) and _same_time(
                have.get("buried_until"), flags.get("buried_until"))
        return False
    return row is not None and row["state"] == entry["state"] and bool(row["suspended"]) == bool(entry.get("suspended")) \
        and all(_same_time(row[k], entry.get(k)) for k in ("due", "last_review", "buried_until"))


def undo_in_db(db: Any, action: dict[str, Any]) -> bool:
    """Undo one of the browser's actions (a rating, bury or suspend) in the database, if its card is as it left it.

    action: {id, before, after: the browser's snapshots ({entry, side}), review: the rating's log entry or null}.
    A card changed since (the terminal, another browser) is left alone: False.
    """
    from . import store

    card_id = action["id"]
    rows = list(db["card_state"].rows_where("card_id = ?", [card_id]))
    if not _entry_is(rows[0] if rows else None, action.get("after")):
        return False
    before = action.get("before") or {}
    entry, side = before.get("entry"), before.get("side")
    with store.writing(db):
        review = action.get("review")
        if review:
            for r in db.execute("SELECT id, reviewed_at FROM reviews WHERE card_id = ? AND rating = ?",
                                [card_id, review["rating"]]).fetchall():
                if _same_time(r[1], review["reviewed_at"]):
                    db["reviews"].delete(r[0])
        if entry:
            db["card_state"].upsert({"card_id": card_id, "state": entry["state"], "step": entry.get("step"),
                                     "stability": entry.get("stability"), "difficulty": entry.get("difficulty"),
                                     "due": _norm(entry["due"]), "last_review": _norm(entry.get("last_review")),
                                     "suspended": int(bool(entry.get("suspended"))),
                                     "buried_until": _norm(entry.get("buried_until"))}, pk="card_id")
        elif side and (side.get("suspended") or side.get("buried_until")):
            db["card_state"].upsert({"card_id": card_id, "state": 0, "step": None, "stability": None, "difficulty": None,
                                     "due": store.iso(datetime.now(timezone.utc)), "last_review": None,
                                     "suspended": int(bool(side.get("suspended"))),
                                     "buried_until": _norm(side.get("buried_until"))}, pk="card_id")
        else:
            db["card_state"].delete_where("card_id = ?", [card_id])
    return True


def _norm(text: Any) -> str | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).astimezone(timezone.utc).isoformat()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        logger = getattr(self.server, "request_log", None)
        if logger is not None:
            logger(format % args)


def make_server(folder: Path, port: int = DEFAULT_PORT, log: Callable[[str], None] | None = None,
                progress_db: Path | None = None, settings: Any | None = None) -> ThreadingHTTPServer:
    """A static file server for a built site, bound to 127.0.0.1 only (port 0: any free port).

    With `progress_db`, /api/progress gives the flashcards that database: GET is its progress
    document, POST merges the browser's document into it (as `prep progress import`) and
    answers with the merged one.
    """
    folder = Path(folder)
    if not (folder / "index.html").is_file():
        raise NotFoundError(f"{folder}: no built site here; run `prep site build --dir {folder}` first")
    handler = functools.partial(_Handler, directory=str(folder.resolve()))
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise InputError(f"{HOST}:{port}: cannot listen there ({exc.strerror}); choose another --port") from None
    server.daemon_threads = True
    server.request_log = log  # type: ignore[attr-defined]
    server.progress_db = progress_db  # type: ignore[attr-defined]
    server.progress_settings = settings  # type: ignore[attr-defined]
    return server
