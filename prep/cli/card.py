"""`prep card info|suspend|unsuspend|held`: one card's progress, and the cards kept out of the quiz."""

from __future__ import annotations

from typing import Any, Optional

import typer

from .app import State, emit, err, out, plural
from .quiz import LANG, review_context

card_app = typer.Typer(help="One card's progress (like Anki's Card Info), and suspending cards outside a session.",
                       no_args_is_help=True)

IDS = typer.Argument(..., metavar="ID...", help="Card ids (see `prep bank list`).")


@card_app.command("info")
def info(
    ctx: typer.Context,
    card_id: str = typer.Argument(..., metavar="ID", help="The card's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = LANG,
) -> None:
    """A card's schedule and its whole review log: due, interval, stability, difficulty, recall now, lapses.

    Example: prep card info time-wait-duration
    """
    from ..stats import card_info

    state: State = ctx.obj
    settings, clock, index = review_context(state, lang)
    data = card_info(state.db(), index, settings, card_id, clock())
    emit(data, as_json, render_info)


def render_info(d: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from ..scheduling import RATING_NAMES

    held = " · suspended" if d["suspended"] else (f" · buried until {d['buried_until'][:16]}" if d["buried_until"] else "")
    out.print(f"[bold]{escape(d['id'])}[/]  {d['state']}{held}")
    out.print(f"  {escape(d['location'] or 'no longer in the bank (its history is kept)')}")
    if d.get("prompt"):
        out.print(f"  {escape(d['prompt'].strip().splitlines()[0])}")
    facts = [
        ("due", (d["due"] or "")[:16].replace("T", " ") or "new: not scheduled yet"),
        ("interval", f"{d['interval_days']:g} day{'' if d['interval_days'] == 1 else 's'}" if d["interval_days"] is not None else "-"),
        ("stability", f"{d['stability']:g} day{'' if d['stability'] == 1 else 's'}" if d["stability"] is not None else "-"),
        ("difficulty", f"{d['difficulty']} (1-10)" if d["difficulty"] is not None else "-"),
        ("recall now", f"{d['recall_now']:.0%}" if d["recall_now"] is not None else "-"),
        ("reviews", str(d["reviews"])),
        ("lapses", str(d["lapses"])),
    ]
    for name, value in facts:
        out.print(f"  {name:<11} {escape(value)}")
    if not d["log"]:
        return
    table = Table(box=None, pad_edge=False)
    for column in ("when", "kind", "rating", "interval", "time", "answer"):
        table.add_column(column, no_wrap=column != "answer", overflow="ellipsis")
    for r in d["log"]:
        interval = f"{r['interval_days']:.1f} d" if r["interval_days"] is not None else ""
        seconds = f"{r['duration_ms'] / 1000:.1f} s" if r["duration_ms"] else ""
        table.add_row(r["reviewed_at"][:16].replace("T", " "), r["kind"], RATING_NAMES.get(r["rating"], str(r["rating"])),
                      interval, seconds, escape(r["answer"] or ""))
    out.print()
    out.print(table)


@card_app.command("suspend")
def suspend(ctx: typer.Context, card_ids: list[str] = IDS) -> None:
    """Keep cards out of every quiz until unsuspended (the quiz's ! does the same for the card shown).

    Example: prep card suspend http-status-418 tcp-urgent-pointer
    """
    _set(ctx.obj, card_ids, suspended=True)


@card_app.command("unsuspend")
def unsuspend(ctx: typer.Context, card_ids: list[str] = IDS) -> None:
    """Bring suspended or buried cards back into the quiz; their schedule is as it was.

    Example: prep card unsuspend tcp-urgent-pointer
    """
    _set(ctx.obj, card_ids, suspended=False)


def _set(state: State, card_ids: list[str], suspended: bool) -> None:
    from ..errors import NotFoundError
    from ..quiz import set_suspended

    _settings, clock, index = review_context(state)
    unknown = [c for c in card_ids if c not in index]
    if unknown:
        from ..cards import did_you_mean

        guesses = "; ".join(f"{c!r}: {guess}" for c in unknown if (guess := did_you_mean(c, index.ids)))
        hint = f" ({guesses})" if guesses else " (try `prep bank list`)"
        raise NotFoundError(f"no card with id {', '.join(map(repr, unknown))} in the bank{hint}; nothing changed")
    changed = set(set_suspended(state.db(), card_ids, suspended, clock()))
    verb = "suspended" if suspended else "back in the quiz"
    for card_id in card_ids:
        err(f"{card_id}: {verb}" if card_id in changed else f"{card_id}: already {verb}")


@card_app.command("held")
def held(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """List the cards kept out of the quiz: suspended (leeches too) and buried until tomorrow.

    Example: prep card held
    """
    from ..stats import held_back

    state: State = ctx.obj
    _settings, clock, index = review_context(state)
    rows = held_back(state.db(), index, clock())

    def render(data: list[dict[str, Any]]) -> None:
        from rich.markup import escape

        for r in data:
            until = f" until {r['buried_until'][:16].replace('T', ' ')}" if r["buried_until"] else ""
            out.print(f"{escape(r['id'])}  {r['held']}{until}  [dim]{escape(r['location'] or 'no longer in the bank')}[/]")
        err(f"{plural(len(data), 'card')} held back" + (": `prep card unsuspend ID` brings one back" if data else ""))

    emit(rows, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(card_app, name="card")
