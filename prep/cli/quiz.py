"""`prep quiz`, `prep due`, `prep stats`: spaced-repetition review and progress.

Heavy modules (fsrs, the card model, the terminal UI) are imported inside the
commands, so `prep --help` and the first card stay quick.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..review_cli import (  # noqa: F401 - the commands' bodies, without typer; named here as before
    HEAT_CHARS,
    HEAT_STYLES,
    LEECHES_SHOWN,
    _reload_index,
    heatmap_lines,
    new_database,
    render_stats,
    review_context,
    warn_left_out,
)
from ..settings import SETTINGS_ENV, QuizSettings
from .app import State, emit, out

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
    from .. import review_cli

    review_cli.quiz(ctx.obj, topic=topic, tag=tag, limit=limit, new=new, cram=cram, card=card,
                    show_settings=show_settings, lang=lang)

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
    from .. import review_cli

    review_cli.stats(ctx.obj, topic=topic, months=months, leeches_shown=None if all_leeches else LEECHES_SHOWN,
                     as_json=as_json)

def register(app: typer.Typer) -> None:
    app.command("quiz", epilog=_settings_help())(quiz)
    app.command("due")(due)
    app.command("stats")(stats)
