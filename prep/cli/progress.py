"""`prep progress export|import` and `prep bank export-anki`: progress and the bank out of (and into) prep."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from .app import State, emit, err, plural
from .bank import bank_app

progress_app = typer.Typer(
    help="Back up, move or merge your progress (a JSON file; format in docs/progress.md).", no_args_is_help=True
)


@progress_app.command("export")
def export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", help="Where to write the JSON (`-` for stdout)."),
) -> None:
    """Write every card's schedule (suspended and buried cards too) and the whole review log to FILE.

    Example: prep progress export ~/prep-progress.json
    """
    from ..progress import export_progress, write_file
    from ..scheduling import clock_from_env

    state: State = ctx.obj
    data = export_progress(state.db(), clock_from_env()(), unreviewed=True)
    write_file(file, data)
    if str(file) != "-":
        err(f"wrote {plural(len(data['cards']), 'card schedule')} and {plural(len(data['reviews']), 'review')} to {file}")


@progress_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE", help="A file written by `prep progress export` or the study site."),
    as_json: bool = typer.Option(False, "--json", help="Print what was merged as JSON."),
) -> None:
    """Merge FILE into your progress: reviews are added once, the latest schedule of each card wins.

    Importing the same file twice changes nothing.

    Example: prep progress import ~/Downloads/prep-progress.json
    """
    from ..progress import import_progress, read_file
    from ..settings import quiz_settings

    state: State = ctx.obj
    data = read_file(file)
    db = state.db()
    from .app import errors

    with errors.status(f"merging {plural(len(data['reviews']), 'review')} and {plural(len(data['cards']), 'schedule')} from {file}"):
        report = import_progress(db, data, quiz_settings())

    def render(r: dict[str, Any]) -> None:
        err(f"{file}: {plural(r['reviews_added'], 'review')} added ({r['reviews_known']} already here); "
            f"{plural(r['cards_updated'], 'card schedule')} taken, {r['cards_kept']} kept (yours were as recent)")

    emit(report.to_dict(), as_json, render)


@bank_app.command("export-anki")
def export_anki(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.apkg", help="The Anki package to write."),
    topic: Optional[str] = typer.Option(None, "--topic", "-t", help="Only this topic."),
    tag: Optional[str] = typer.Option(None, "--tag", "-g", help="Only cards with this tag."),
    lang: Optional[str] = typer.Option(None, "--lang", metavar="en|zh", help="The deck's language (default: `lang` of the \\[quiz] settings, else en)."),
) -> None:
    """Write the bank as an Anki deck (a subdeck per topic; note guids stable across exports).

    Re-importing a newer export into Anki updates the notes in place (also an
    export in the other language: the notes are the same, their text changes).

    Example: prep bank export-anki prep.apkg
    """
    from ..anki import export_anki as write_deck
    from ..settings import chosen_lang

    state: State = ctx.obj
    chosen = chosen_lang(lang)
    bank = state.load_bank()
    cards = bank.select(topic=topic, tag=tag)
    count = write_deck(cards, {t.id: bank.topic_title(t.id, chosen) for t in bank.topics.values()}, file, chosen)
    err(f"wrote {plural(count, 'note')} to {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(progress_app, name="progress")
