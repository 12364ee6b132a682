"""`prep notes ...`: the learner's notes against the bank."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from .app import State, emit, err, lazy, line_table, out, plural

notes_lib = lazy("prep.notes")

notes_app = typer.Typer(help="Check a notes file against the bank: flagged questions, corrections, drafts.", no_args_is_help=True)

INBOX_TOPIC = "inbox"  # prep.notes.INBOX_TOPIC: spelt here so that `--help` does not load the bank's models
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
        # in a terminal, the ids one a line and the note folded, to fit 80 columns; piped, one line
        # a flagged line with the ids and the whole note, "(by: ...)" included: never cut
        rows = []
        for row in data["lines"]:
            note = escape(" ".join(row["text"].split()))
            if row["cards"]:
                answer = escape(("\n" if out.is_terminal else ", ").join(row["cards"]))
                if row["matched"] == "words":
                    shown = sorted(row["terms"], key=lambda t: (-len(t), t))[:4]  # the telling terms first
                    note += f" [dim](by: {escape(', '.join(shown))})[/]"
            elif row["skipped"]:
                answer = "[dim]skipped[/]"
                note += f" [dim]({escape(row['skipped'])})[/]"
            else:
                answer = "[red]matches no card[/]"
            rows.append([str(row["line"]), answer, note])
        line_table(["line", "answered by", "note"], rows, markup=True, whole=True)
        t = data["totals"]
        err(f"{plural(t['flagged'], 'flagged line')}: {t['answered']} answered, {t['skipped']} skipped, "
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
    chosen = chosen_lang(lang)
    bank = state.load_bank()
    rows = notes_lib.corrections(notes_lib.read_notes(notes_file), bank, chosen)
    for row in rows:
        row["prompt"] = bank.card(row["card"]).in_lang(chosen).prompt

    def render(data: list[dict[str, Any]]) -> None:
        by_card: dict[str, list[dict[str, Any]]] = {}
        for row in data:
            by_card.setdefault(row["card"], []).append(row)
        quoted: set[int] = set()
        for card_id, group in by_card.items():
            first = group[0]
            numbers = sorted({r["line"] for r in group})
            noun = "line" if len(numbers) == 1 else "lines"
            out.print(f"[bold]{escape(card_id)}[/]  [dim]{noun} {', '.join(map(str, numbers))} ({escape(str(first['section']))})[/]")
            for row in sorted({r["line"]: r for r in group}.values(), key=lambda r: r["line"]):
                if row["line"] in quoted:
                    out.print(f"  [dim]notes {row['line']}: quoted above[/]")
                elif row["text"]:
                    quoted.add(row["line"])
                    out.print(f"  [dim]notes {row['line']}:[/] {escape(row['text'])}")
            out.print(f"  [yellow]claim:[/] {escape(str(first['notes_claim']))}")
            question = "\n    ".join(first["prompt"].strip().splitlines())
            out.print(f"  [cyan]question:[/] {escape(question)}")
            out.print(f"  [green]truth:[/] {escape(str(first['correction']).strip())}")
        lines = len({r["line"] for r in data})
        err(f"{plural(len(by_card), 'card')} correct {plural(lines, 'line')} of {notes_file}")

    emit(rows, as_json, render)


@notes_app.command("extract")
def extract(
    ctx: typer.Context,
    notes_file: Path = NOTES_ARG,
    out_file: Path = typer.Option(..., "--out", "-o", help="The card file to write drafts into (created or appended)."),
    topic: str = typer.Option(INBOX_TOPIC, "--topic", help="The topic of the draft file."),
) -> None:
    """Write a draft card for every flagged line no card answers yet.

    Drafts carry `draft: true` and their `source`; the quiz leaves them out until completed.

    Example: prep notes extract my-notes.txt --out bank/inbox.yaml
    """
    state: State = ctx.obj
    written = notes_lib.extract_drafts(notes_lib.read_notes(notes_file), state.load_bank(), out_file, topic)
    for line in written:
        typer.echo(f"{notes_lib.draft_id(line.number)}\tline {line.number}\t{line.text.strip()}")
    err(f"{plural(len(written), 'draft')} written to {out_file}" if written else "every flagged line is already answered, skipped or drafted")


def register(app: typer.Typer) -> None:
    app.add_typer(notes_app, name="notes")
