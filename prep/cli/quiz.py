"""`prep quiz`, `prep due`, `prep stats`: spaced-repetition review and progress.

Heavy modules (fsrs, the card model, the terminal UI) are imported inside the
commands, so `prep --help` and the first card stay quick.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..settings import SETTINGS_ENV, QuizSettings
from .app import State, emit, err, out

LEECHES_SHOWN = 10  # `prep stats` names these, most lapses first; --leeches lists them all
TOPIC = typer.Option(None, "--topic", "-t", help="Only this topic (see `prep bank topics`).")
TAG = typer.Option(None, "--tag", "-g", help="Only cards with this tag.")
LANG = typer.Option(None, "--lang", metavar="en|zh", help="Show the cards in English or Chinese (default: `lang` of the \\[quiz] settings, else en).")


def _settings_help() -> str:
    """The settings and their defaults, for the end of `prep quiz --help` (rich markup: brackets escaped)."""
    import json

    paragraphs = [f"Settings: a \\[quiz] table in settings.toml in your user config folder (or the file ${SETTINGS_ENV} names):"]
    for name, value in QuizSettings().to_dict().items():
        paragraphs.append(f"{name} = {json.dumps(value)}: {QuizSettings.DOC[name]}".replace("[", "\\["))
    return "\n\n".join(paragraphs)


def review_context(state: State, lang: str | None = None) -> tuple[Any, Any, Any]:
    """Settings, the clock ($PREP_NOW pins it, for tests and demos) and the bank's card index.

    The index gives cards in `lang` (--lang), else in the `lang` of the settings.
    """
    from .. import content
    from ..bank_cache import load_index
    from ..scheduling import clock_from_env
    from ..settings import chosen_lang, quiz_settings

    settings = quiz_settings()
    chosen = chosen_lang(lang) if lang is not None else settings.lang
    clock = clock_from_env()
    index = load_index(state.bank_dir(), content.exercise_slugs(), keep_going=True)
    index.lang = chosen
    warn_left_out(index.problems, state.bank_dir())
    return settings, clock, index


def _reload_index(state: State) -> Any:
    """The bank read again after `e` edited a card; its problems are on the index for the quiz to show."""
    from .. import content
    from ..bank_cache import load_index

    return load_index(state.bank_dir(), content.exercise_slugs(), keep_going=True)


SHOWN_PROBLEMS = 5


def warn_left_out(problems: list[Any], bank_dir: Any) -> None:
    """Say which cards a broken bank keeps out of today's review, and how to see the rest.

    A missing translation keeps no card out (the other language is shown): it is `prep bank lint`'s business.
    """
    problems = [p for p in problems if not getattr(p, "language", False)]
    if not problems:
        return
    noun = "problem" if len(problems) == 1 else "problems"
    err(f"Warning: {len(problems)} {noun} in the bank ({bank_dir}); the cards they touch are left out until fixed:")
    for problem in problems[:SHOWN_PROBLEMS]:
        err(f"  {problem}")
    if len(problems) > SHOWN_PROBLEMS:
        err(f"  ... and {len(problems) - SHOWN_PROBLEMS} more: `prep bank lint` lists them all")


def new_database(state: State) -> Any:
    """The path of the progress database when there is none yet (the learner's first session), else None."""
    from pathlib import Path

    from .. import store

    path = Path(state.db_path) if state.db_path else store.default_path()
    return None if path.exists() else path


def quiz(
    ctx: typer.Context,
    topic: Optional[str] = TOPIC,
    tag: Optional[str] = TAG,
    limit: Optional[int] = typer.Option(None, "--limit", "-n", metavar="N", help="At most N cards this session."),
    new: Optional[int] = typer.Option(None, "--new", metavar="N", help="N new cards this session, whatever today's count (default: new_per_day)."),
    cram: bool = typer.Option(False, "--cram", help="Review every selected card, weakest first, without touching the schedule."),
    card: Optional[str] = typer.Option(None, "--card", metavar="ID", help="Review this one card now (also how to reach a suspended card: ! unsuspends it)."),
    show_settings: bool = typer.Option(False, "--settings", help="Print the \\[quiz] settings in use and where they come from, then exit."),
    lang: Optional[str] = LANG,
) -> None:
    """Review the cards due today, like Anki in the terminal.

    Learning cards come back as they fall due, then today's reviews, then new
    cards (20 a day). Space or Enter shows the answer, 1-4 rate Again / Hard /
    Good / Easy (each shows its interval); choices are picked by number and short
    answers typed, then rated for you (wrong: Again; right: Good, or Easy when
    quick), and 1-4 changes that rating. u undo, b bury until tomorrow, !
    suspend, e edit the card in $EDITOR (or show its file:line), l show the
    card in the other language (English / Chinese), ? the keys, q quit (in a
    text prompt letters are typed: Esc first). Every
    rating is saved at once: q or Ctrl-C at any moment keeps them, and a summary
    follows. A card that lapses leech_lapses times is suspended as a leech.

    Example: prep quiz --topic tcp --limit 20
    """
    from rich.console import Console

    from ..errors import PrepError
    from ..quiz import Options, Session
    from rich.markup import escape

    from ..labels import labels
    from ..quiz_ui import QuizUI, nothing_due, render_summary
    from ..settings import settings_path

    state: State = ctx.obj
    if show_settings:
        from ..settings import quiz_settings

        emit({"file": str(settings_path()), "quiz": quiz_settings().to_dict()}, True, lambda _: None)
        return
    settings, clock, index = review_context(state, lang)
    words = index.lang  # the quiz's own words stay in this language when `l` shows a card in the other
    options = Options(topic=topic, tag=tag, limit=limit, new=new, cram=cram, card=card)
    first = new_database(state)
    session = Session(state.db(), index, settings, options, clock)

    def where_kept() -> None:
        """The first session ever (no database before it): where its progress is, last (the quiz clears the screen)."""
        if first is not None:
            err(labels(words)["progress_kept"].format(path=first))

    console = Console(highlight=False)
    if not session.has_work():
        nothing_due(console, session, clock(), lang=words)
        where_kept()
        return
    session.ensure_session()  # an unwritable database fails here, before the first answer, not after it
    ui = QuizUI(session, console, reload_bank=lambda: _reload_index(state))
    if first is not None:  # and first, above the first card: a session ended by closing the terminal shows no summary
        ui.notice = f"[dim]{escape(labels(words)['progress_kept'].format(path=first))}[/]"
    try:
        summary = ui.run()
    except KeyboardInterrupt:
        console.print()
        render_summary(console, session.close(), clock(), interrupted=True, day_starts_at=settings.day_starts_at, lang=words)
        where_kept()
        raise typer.Exit(130) from None
    except PrepError:
        console.print()
        render_summary(console, session.summary(), clock(), interrupted=True, day_starts_at=settings.day_starts_at, lang=words)
        where_kept()
        raise
    console.print()
    render_summary(console, summary, clock(), day_starts_at=settings.day_starts_at, lang=words)
    where_kept()


def due(
    ctx: typer.Context,
    topic: Optional[str] = TOPIC,
    tag: Optional[str] = TAG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = LANG,
) -> None:
    """List what is due now: learning cards, today's reviews and new cards, and exercises to redo.

    Example: prep due --topic tcp
    """
    from ..quiz import Options
    from ..stats import due_now

    state: State = ctx.obj
    settings, clock, index = review_context(state, lang)
    data = due_now(state.db(), index, settings, clock(), Options(topic=topic, tag=tag))

    def render(d: dict[str, Any]) -> None:
        from rich.markup import escape
        from rich.table import Table

        c = d["counts"]
        if d["cards"]:
            table = Table(box=None, pad_edge=False)
            # one line a card, as a list should be: the prompt gives way first, the id last
            columns = ["id", "queue", "topic"]
            widths = {k: max(len(str(row[k])) for row in [{k: k}, *d["cards"]]) for k in columns}
            if out.width - sum(widths.values()) - 2 * len(columns) < 30:
                columns.remove("topic")  # a narrow terminal keeps the prompt readable; ids start with their topic
            for column in columns:
                table.add_column(column, no_wrap=True, width=widths[column])
            room = out.width - sum(widths[c] for c in columns) - 2 * len(columns)
            table.add_column("prompt", no_wrap=True, overflow="ellipsis", width=max(20, room))
            for row in d["cards"]:
                prompt = escape((row["prompt"] or "").strip().splitlines()[0])
                table.add_row(*(row[c] for c in columns), prompt)
            out.print(table)
        for ex in d["exercises"]:
            out.print(f"exercise {ex['exercise']} (due {ex['due'][:10]}): prep exercise show {ex['exercise']}")
        from .app import err

        summary = f"{c['learning']} learning · {c['review']} review · {c['new']} new due now"
        if c["learning_later_today"]:
            summary += f" ({c['learning_later_today']} more learning later today)"
        if c["reviews_over_limit"]:
            summary += f"; {c['reviews_over_limit']} reviews beyond today's limit"
        err(summary + (": prep quiz" if d["cards"] else ""))

    emit(data, as_json, render)


def stats(
    ctx: typer.Context,
    topic: Optional[str] = TOPIC,
    months: int = typer.Option(6, "--months", min=1, max=24, help="How many months the heatmap covers."),
    all_leeches: bool = typer.Option(False, "--leeches", help=f"List every leech (without it: the {LEECHES_SHOWN} with the most lapses and a count)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts (every leech)."),
) -> None:
    """Your progress: due today, tomorrow and this week; a heatmap; true retention; streak; mastery per topic; leeches.

    True retention is the share of first reviews of the day of mature cards
    (interval 21 days or more) not rated Again. Recall per topic is the mean
    probability, as FSRS predicts it now, that you would recall a card of the
    topic (never-reviewed cards count as 0).

    Example: prep stats --json | jq .retention
    """
    from .. import stats as stats_lib

    state: State = ctx.obj
    settings, clock, index = review_context(state)
    data = stats_lib.compute(state.db(), index, settings, clock(), months=months, topic=topic)

    def render(d: dict[str, Any]) -> None:
        render_stats(out, d, leeches_shown=None if all_leeches else LEECHES_SHOWN)

    emit(data, as_json, render)


HEAT_CHARS = "·░▒▓█"
HEAT_STYLES = ["grey39", "green4", "green3", "green1", "bold bright_green"]


def heatmap_lines(days: dict[str, int], first: str, last: str, width: int | None = None) -> list[str]:
    """A GitHub-style calendar: a column a week, a row a weekday, darker for more reviews.

    Within `width` columns, month names included: the oldest weeks give way when it is narrower."""
    from datetime import date, timedelta

    start, end = date.fromisoformat(first), date.fromisoformat(last)
    start -= timedelta(days=start.weekday())
    most = max(days.values(), default=0)

    def level(n: int) -> int:  # 1-4 in quarters of the busiest day
        return 0 if not n else max(1, -(-4 * n // most))

    weeks = (end - start).days // 7 + 1
    if width is not None:
        fit = max(1, (width - 4 - 1) // 2)  # 4 for the weekday names; a month name may run one column past its week
        if weeks > fit:
            start += timedelta(weeks=weeks - fit)
            weeks = fit
    months = [" "] * (weeks * 2 + 1)
    for w in range(weeks):
        monday = start + timedelta(weeks=w)
        if monday.day <= 7:
            label = f"{monday:%b}"
            if w * 2 + len(label) <= len(months):  # never a name cut short at the right edge
                months[w * 2 : w * 2 + len(label)] = list(label)
    lines = ["    " + "".join(months).rstrip()]
    for weekday, name in enumerate(["Mon", "", "Wed", "", "Fri", "", "Sun"]):
        cells = []
        for w in range(weeks):
            day = start + timedelta(weeks=w, days=weekday)
            if day > end:
                cells.append("  ")
                continue
            lv = level(days.get(day.isoformat(), 0))
            cells.append(f"[{HEAT_STYLES[lv]}]{HEAT_CHARS[lv]}[/] ")
        lines.append(f"{name:<4}" + "".join(cells).rstrip())
    return lines


def render_stats(console: Any, d: dict[str, Any], leeches_shown: int | None = None) -> None:
    """The stats for people; `leeches_shown` leeches at most (most lapses first; None: all), then how many more."""
    from rich.markup import escape
    from rich.table import Table

    due = d["due"]
    now = due["queue"]
    console.print(
        f"[bold]Due[/] today {due['today']} · tomorrow {due['tomorrow']} · next 7 days {due['next_7_days']}"
        f"   [dim](today's queue: {now['learning']} learning, {now['review']} review, {now['new']} new)[/]"
    )
    week = "  ".join(f"{r['date'][5:]} {r['due']}" for r in due["by_day"])
    console.print(f"[dim]{week}[/]")
    t = d["today"]
    minutes = t["seconds"] / 60
    console.print(f"[bold]Today[/] {t['reviews']} reviews of {t['cards_reviewed']} cards ({t['new']} new), {minutes:.0f} min")
    s = d["streak"]
    console.print(f"[bold]Streak[/] {s['current']} day{'s' if s['current'] != 1 else ''} (longest {s['longest']})"
                  f"   [bold]Reviews[/] {d['reviews_total']} in all")
    r = d["retention"]

    def rate(x: dict[str, Any]) -> str:
        if x["rate"] is None:
            return "n/a (no mature reviews yet)"
        return f"{x['rate']:.1%} ({x['passed']}/{x['passed'] + x['failed']})"

    console.print(f"[bold]True retention[/] (mature cards, first review of the day): last 30 days {rate(r['last_30_days'])}, "
                  f"all time {rate(r['all_time'])}")
    console.print()
    h = d["heatmap"]
    lines = heatmap_lines(h["days"], h["from"], h["to"], width=console.width)
    shown = h["from"]  # the first day shown, later when the oldest weeks gave way to fit the screen
    weeks = sum(lines[1].count(c) for c in HEAT_CHARS) if len(lines) > 1 else 0  # the Mon row: a cell a week
    if weeks:
        from datetime import date, timedelta

        last = date.fromisoformat(h["to"])
        shown = max(h["from"], (last - timedelta(days=last.weekday(), weeks=weeks - 1)).isoformat())
    console.print(f"[bold]Reviews per day[/] [dim]{shown} to {h['to']}; · none, ░▒▓█ more[/]")
    for line in lines:
        console.print(line)
    console.print()
    table = Table(title="Mastery by topic", title_justify="left", box=None, pad_edge=False)
    for column in ("topic", "cards", "new", "learning", "young", "mature", "suspended", "recall"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for row in d["topics"]:
        if not row["cards"]:
            continue
        recall = "-" if row["recall"] is None else f"{row['recall']:.0%}"
        table.add_row(escape(row["id"]), *(str(row[k]) for k in ("cards", "new", "learning", "young", "mature", "suspended")), recall)
    console.print(table)
    if d["leeches"]:
        suspended = sum(leech["suspended"] for leech in d["leeches"])
        console.print()
        console.print(f"[bold yellow]Leeches[/] ({len(d['leeches'])}, {suspended} suspended): rewrite them; "
                      "`prep card unsuspend ID` brings a suspended one back")
        lines = []
        for leech in d["leeches"][:leeches_shown]:
            where = leech["location"] or "no longer in the bank"
            flag = ", suspended" if leech["suspended"] else ""
            lines.append(f"  {escape(leech['id'])}: {leech['lapses']} lapses{flag}  [dim]{escape(where)}[/]")
        if leeches_shown is not None and len(d["leeches"]) > leeches_shown:
            lines.append(f"  ... and {len(d['leeches']) - leeches_shown} more: `prep stats --leeches` lists them all")
        console.print("\n".join(lines))  # one print: a thousand leeches print in a blink


def register(app: typer.Typer) -> None:
    app.command("quiz", epilog=_settings_help())(quiz)
    app.command("due")(due)
    app.command("stats")(stats)
