"""`prep quiz` and `prep stats` without typer: the commands' bodies, and a direct way to them.

`prep.cli.quiz` declares the commands' options for typer and calls `quiz` and `stats` here. The
console entry (`prep.helpcache.main`) hands its words to `main` first: when they are `quiz` or
`stats` with only options this module knows, in forms whose meaning is certain, it runs the
command itself, without importing typer or building the app (~40 ms of a first card); anything
else (another command, --help, an unknown option, a value typer would have to check) returns
False and the full command line runs as before, with its own messages and errors.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from .cli_base import State, emit, err, errors, out

LEECHES_SHOWN = 10  # `prep stats` names these, most lapses first; --leeches lists them all


def review_context(state: State, lang: str | None = None, later: bool = False) -> tuple[Any, Any, Any]:
    """Settings, the clock ($PREP_NOW pins it, for tests and demos) and the bank's card index.

    The index gives cards in `lang` (--lang), else in the `lang` of the settings. With `later`,
    a bank changed since its cache may come unchecked: the caller settles the index before it
    grades a card, warns of what `settle` left out, and saves the bank cache (`index.save()`,
    see bank_cache.load_index's write_later and check_later).
    """
    from . import content
    from .bank_cache import load_index
    from .scheduling import clock_from_env
    from .settings import chosen_lang, quiz_settings

    settings = quiz_settings()
    chosen = chosen_lang(lang) if lang is not None else settings.lang
    clock = clock_from_env()
    index = load_index(state.bank_dir(), content.exercise_slugs(), keep_going=True, write_later=later, check_later=later)
    index.lang = chosen
    warn_left_out(index.problems, state.bank_dir())
    return settings, clock, index


def _reload_index(state: State) -> Any:
    """The bank read again after `e` edited a card; its problems are on the index for the quiz to show."""
    from . import content
    from .bank_cache import load_index

    return load_index(state.bank_dir(), content.exercise_slugs(), keep_going=True)


def warn_left_out(problems: list[Any], bank_dir: Any) -> None:
    """Say which cards a broken bank keeps out of today's review, and how to see the rest.

    A missing translation keeps no card out (the other language is shown): it is `prep bank lint`'s business.
    """
    from .bank_cache import SHOWN_PROBLEMS

    problems = [p for p in problems if not getattr(p, "language", False)]
    if not problems:
        return
    if len(problems) == 1:
        err(f"Warning: 1 problem in the bank ({bank_dir}); the cards it touches are left out until it is fixed:")
    else:
        err(f"Warning: {len(problems)} problems in the bank ({bank_dir}); the cards they touch are left out until fixed:")
    for problem in problems[:SHOWN_PROBLEMS]:
        err(f"  {problem}")
    if len(problems) > SHOWN_PROBLEMS:
        err(f"  ... and {len(problems) - SHOWN_PROBLEMS} more: `prep bank lint` lists them all")


def new_database(state: State) -> Any:
    """The path of the progress database when there is none yet (the learner's first session), else None."""
    from pathlib import Path

    from . import store

    path = Path(state.db_path) if state.db_path else store.default_path()
    return None if path.exists() else path


def quiz(
    state: State,
    topic: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
    new: int | None = None,
    cram: bool = False,
    card: str | None = None,
    show_settings: bool = False,
    lang: str | None = None,
) -> None:
    """`prep quiz` (see its help in prep.cli.quiz)."""
    if show_settings:
        from .settings import quiz_settings, settings_path

        emit({"file": str(settings_path()), "quiz": quiz_settings().to_dict()}, True, lambda _: None)
        return
    # the first card shows before a changed bank is checked and its cache written: the quiz's warm-up
    # does both while the learner reads, and this, at the latest, at the end
    settings, clock, index = review_context(state, lang, later=True)
    try:
        _quiz(state, settings, clock, index, topic, tag, limit, new, cram, card)
    finally:
        index.save()
        problems = index.settle()  # found only now: the session ended before the quiz settled the index
        if problems:
            warn_left_out(problems, state.bank_dir())


def _quiz(state: State, settings: Any, clock: Any, index: Any, topic: str | None, tag: str | None, limit: int | None,
          new: int | None, cram: bool, card: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape

    from .errors import PrepError
    from .labels import labels
    from .quiz import Options, Session
    from .quiz_ui import QuizUI, nothing_due, render_summary

    words = index.lang  # the quiz's own words stay in this language when `l` shows a card in the other
    options = Options(topic=topic, tag=tag, limit=limit, new=new, cram=cram, card=card)
    first = new_database(state)
    session = Session(state.db(), index, settings, options, clock)

    def where_kept() -> None:
        """The first session ever (no database before it): where its progress is, last (the quiz clears the screen)."""
        if first is not None:
            # a sentence for the eye, after the summary: wrapped at words on a terminal, one line in a log
            errors.print(labels(words)["progress_kept"].format(path=first), markup=False, soft_wrap=not errors.is_terminal)

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
        raise SystemExit(130) from None
    except PrepError:
        console.print()
        render_summary(console, session.summary(), clock(), interrupted=True, day_starts_at=settings.day_starts_at, lang=words)
        where_kept()
        raise
    console.print()
    render_summary(console, summary, clock(), day_starts_at=settings.day_starts_at, lang=words)
    where_kept()


def stats(state: State, topic: str | None = None, months: int = 6, leeches_shown: int | None = LEECHES_SHOWN,
          as_json: bool = False) -> None:
    """`prep stats`: `leeches_shown` leeches named (None: all)."""
    from . import stats as stats_lib

    settings, clock, index = review_context(state)
    data = stats_lib.compute(state.db(), index, settings, clock(), months=months, topic=topic)

    def render(d: dict[str, Any]) -> None:
        render_stats(out, d, leeches_shown=leeches_shown)

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


# --- reached without typer -------------------------------------------------------------------------

# option -> (parameter, kind): "str", "flag", or (min, max) for a whole number
_QUIZ_OPTIONS: dict[str, tuple[str, Any]] = {
    "--topic": ("topic", "str"), "-t": ("topic", "str"), "--tag": ("tag", "str"), "-g": ("tag", "str"),
    "--limit": ("limit", (None, None)), "-n": ("limit", (None, None)), "--new": ("new", (None, None)),
    "--cram": ("cram", "flag"), "--card": ("card", "str"), "--settings": ("show_settings", "flag"), "--lang": ("lang", "str"),
}
_STATS_OPTIONS: dict[str, tuple[str, Any]] = {
    "--topic": ("topic", "str"), "-t": ("topic", "str"), "--months": ("months", (1, 24)),
    "--leeches": ("all_leeches", "flag"), "--json": ("as_json", "flag"),
}
COMMANDS = {"quiz": _QUIZ_OPTIONS, "stats": _STATS_OPTIONS}
_GLOBAL_OPTIONS = {"--bank": ("bank", "path"), "--db": ("db", "path")}
_GLOBAL_ENV = {"bank": "PREP_BANK", "db": "PREP_DB"}
_WHOLE = re.compile(r"0|[1-9][0-9]{0,17}")


def _value(kind: Any, text: str) -> Any:
    """The value typer would give `text`, or ValueError when only typer can say (a check, a message)."""
    if not text or text.startswith("-"):
        raise ValueError(text)  # an empty path, or a value that may be an option: typer decides
    if kind == "str":
        return text
    if kind == "path":
        from pathlib import Path

        if os.path.exists(text) and not os.access(text, os.R_OK):
            raise ValueError(text)  # typer's "is not readable"
        return Path(text)
    low, high = kind
    if not _WHOLE.fullmatch(text) or (low is not None and int(text) < low) or (high is not None and int(text) > high):
        raise ValueError(text)
    return int(text)


def _options(words: list[str], known: dict[str, tuple[str, Any]]) -> dict[str, Any] | None:
    """The options in `words` as the command's parameters, or None for anything not plainly one of them."""
    found: dict[str, Any] = {}
    i = 0
    while i < len(words):
        name, eq, attached = words[i].partition("=")
        if name not in known or (eq and not name.startswith("--")):
            return None
        parameter, kind = known[name]
        if parameter in found:
            return None  # given twice: typer's rule (the last) is left to typer
        if kind == "flag":
            if eq:
                return None
            found[parameter] = True
            i += 1
            continue
        if eq:
            text, i = attached, i + 1
        elif i + 1 < len(words):
            text, i = words[i + 1], i + 2
        else:
            return None  # a missing value: typer's message
        try:
            found[parameter] = _value(kind, text)
        except ValueError:
            return None
    return found


def parse(args: list[str], environ: Any = os.environ) -> tuple[str, State, dict[str, Any]] | None:
    """(command, state, parameters) for `prep quiz ...` or `prep stats ...` in plain forms, else None."""
    given: dict[str, Any] = {}
    i = 0
    while i < len(args) and args[i].startswith("-"):  # the global options, before the command
        name, eq, attached = args[i].partition("=")
        if name not in _GLOBAL_OPTIONS or _GLOBAL_OPTIONS[name][0] in given:
            return None
        parameter, kind = _GLOBAL_OPTIONS[name]
        if eq:
            text, i = attached, i + 1
        elif i + 1 < len(args):
            text, i = args[i + 1], i + 2
        else:
            return None
        try:
            given[parameter] = _value(kind, text)
        except ValueError:
            return None
    if i >= len(args) or args[i] not in COMMANDS:
        return None
    command = args[i]
    found = _options(args[i + 1:], COMMANDS[command])
    if found is None:
        return None
    for parameter, variable in _GLOBAL_ENV.items():
        if parameter not in given and environ.get(variable):  # the option's envvar; an empty one is unset
            try:
                given[parameter] = _value("path", environ[variable])
            except ValueError:
                return None
    state = State(bank=given.get("bank"), db_path=given.get("db"), command=command)
    return command, state, found


def main(args: list[str]) -> bool:
    """Run `prep quiz` or `prep stats` from `args` (the words after `prep`) and exit; False when they are not for here.

    The ways out are those of the typer app: a PrepError is `Error: ...` and its exit code, Ctrl-C
    exits 130, end of input "Aborted!" (1), a closed pipe quietly 1.
    """
    if "_PREP_COMPLETE" in os.environ:
        return False  # shell completion
    parsed = parse(args)
    if parsed is None:
        return False
    command, state, found = parsed
    if os.environ.get("NO_COLOR") == "":
        os.environ.pop("NO_COLOR")  # as prep.cli.main: only a non-empty value counts
    from .errors import PrepError

    try:
        if command == "quiz":
            quiz(state, **found)
        else:
            leeches = None if found.pop("all_leeches", False) else LEECHES_SHOWN
            stats(state, leeches_shown=leeches, **found)
    except PrepError as exc:
        from .cli_base import report

        report(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except EOFError:
        from typer import _click, rich_utils

        _click.echo(file=sys.stderr)
        rich_utils.rich_abort_error()
        sys.exit(1)
    except OSError as exc:
        import errno

        if exc.errno != errno.EPIPE:
            raise
        from typer._click.utils import PacifyFlushWrapper

        sys.stdout = PacifyFlushWrapper(sys.stdout)  # type: ignore[assignment]
        sys.stderr = PacifyFlushWrapper(sys.stderr)  # type: ignore[assignment]
        sys.exit(1)
    sys.exit(0)
