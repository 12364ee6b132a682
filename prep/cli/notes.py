"""`prep notes ...`: the learner's notes against the bank."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .. import notes as notes_lib
from .app import State, emit, err, out

notes_app = typer.Typer(help="Check a notes file against the bank: flagged questions, corrections, drafts.", no_args_is_help=True)

NOTES_ARG = typer.Argument(..., metavar="NOTES_FILE", help="Your notes (UTF-8 text in dated sections).")


@notes_app.command("coverage")
def coverage(
    ctx: typer.Context,
    notes_file: Path = NOTES_ARG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List every flagged line (?? or ？？) with the cards that answer it.

    In the notes the bank was written from, the cards that cite the line; in your own notes,
    the cards its words point to (shown with the words). Exits 1 when a flagged line is
    neither answered nor skipped.

    Example: prep notes coverage systems-notes.zh.txt
    """
    state: State = ctx.obj
    report = notes_lib.coverage(notes_lib.read_notes(notes_file), state.load_bank())

    def render(data: dict[str, Any]) -> None:
        table = Table(box=None, pad_edge=False)
        table.add_column("line", justify="right")
        table.add_column("note", overflow="fold", ratio=3)
        table.add_column("answered by", overflow="fold", ratio=2)
        for row in data["lines"]:
            if row["cards"]:
                answer = ", ".join(row["cards"])
                if row["matched"] == "words":
                    answer += f" [dim](by: {', '.join(row['terms'][:4])})[/]"
            elif row["skipped"]:
                answer = f"[dim]skipped: {row['skipped']}[/]"
            else:
                answer = "[red]matches no card[/]"
            table.add_row(str(row["line"]), escape(row["text"]), answer)
        out.print(table)
        t = data["totals"]
        err(f"{t['flagged']} flagged lines: {t['answered']} answered, {t['skipped']} skipped, "
            f"{t['open']} open ({t['coverage']:.0%} covered)")

    emit({"file": str(notes_file), "lines": report.rows, "totals": report.totals()}, as_json, render)
    if report.open_lines:
        if any(row["matched"] == "line" for row in report.rows):
            err("answer the open lines with cards whose `source.lines` name them, or add them to skips.yaml "
                "(`prep notes extract` writes drafts)")
        else:
            err("no card answers the lines that match none: `prep notes extract` writes a draft card for each, "
                "to complete in a bank of your own")
        raise typer.Exit(1)


@notes_app.command("check")
def check(
    ctx: typer.Context,
    notes_file: Path = NOTES_ARG,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="en|zh", help="The language of the claims and corrections (default: `lang` of the \\[quiz] settings, else en)."),
) -> None:
    """List the lines of the notes that cards correct, with the correction.

    Example: prep notes check systems-notes.zh.txt --lang zh
    """
    from ..settings import chosen_lang

    state: State = ctx.obj
    rows = notes_lib.corrections(notes_lib.read_notes(notes_file), state.load_bank(), chosen_lang(lang))

    def render(data: list[dict[str, Any]]) -> None:
        for row in data:
            out.print(f"[bold]line {row['line']}[/] ({row['section']}) [dim]{row['card']}[/]")
            if row["text"]:
                out.print(f"  [dim]notes:[/] {row['text']}", markup=True)
            out.print(f"  [yellow]claim:[/] {row['notes_claim']}")
            out.print(f"  [green]truth:[/] {row['correction']}")
        err(f"{len(data)} corrections")

    emit(rows, as_json, render)


@notes_app.command("extract")
def extract(
    ctx: typer.Context,
    notes_file: Path = NOTES_ARG,
    out_file: Path = typer.Option(..., "--out", "-o", help="The card file to write drafts into (created or appended)."),
    topic: str = typer.Option(notes_lib.INBOX_TOPIC, "--topic", help="The topic of the draft file."),
) -> None:
    """Write a draft card for every flagged line no card answers yet.

    Drafts carry `draft: true` and their `source`; the quiz leaves them out until completed.

    Example: prep notes extract my-notes.txt --out bank/inbox.yaml
    """
    state: State = ctx.obj
    written = notes_lib.extract_drafts(notes_lib.read_notes(notes_file), state.load_bank(), out_file, topic)
    for line in written:
        typer.echo(f"{notes_lib.draft_id(line.number)}\tline {line.number}\t{line.text.strip()}")
    err(f"{len(written)} drafts written to {out_file}" if written else "every flagged line is already answered, skipped or drafted")


def register(app: typer.Typer) -> None:
    app.add_typer(notes_app, name="notes")
