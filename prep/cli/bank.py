"""`prep bank ...`: look at and check the question bank."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.panel import Panel
from rich.table import Table

from .app import State, emit, err, lazy, line_table, out, plural, report_lint

if TYPE_CHECKING:
    from ..cards import Card

cards = lazy("prep.cards")
content = lazy("prep.content")

LANG = typer.Option(None, "--lang", metavar="en|zh", help="English or Chinese (default: `lang` of the \\[quiz] settings, else en).")

bank_app = typer.Typer(help="Look at and check the question bank.", no_args_is_help=True)


def card_summary(card: Card) -> dict[str, Any]:
    return {
        "id": card.id,
        "topic": card.topic,
        "type": card.type,
        "difficulty": card.difficulty,
        "tags": list(card.tags),
        "exercise": card.exercise,
        "prompt": card.prompt,
        "file": card.file,
        "line": card.line,
    }


def card_document(card: Card, lang: str | None = None) -> dict[str, Any]:
    """The card as JSON: its texts in `lang` (plain strings), or as written ({en, zh}) without one."""
    shown = card.in_lang(lang) if lang else card
    data = shown.model_dump(mode="json", exclude_none=True)
    data["refs"] = [r.model_dump(exclude_none=True) for r in card.ref_list]
    extra = {"lang": lang, "languages": sorted(card.languages())} if lang else {}
    return {"topic": card.topic, **data, **extra, "file": card.file, "line": card.line}


@bank_app.command("lint")
def lint(ctx: typer.Context) -> None:
    """Check every card file; list each problem as file:line: card-id: message.

    Exit 0 when the bank is clean (warnings, such as a right choice much longer
    than the wrong ones, are listed but do not fail), 1 when it has problems. The
    shipped bank needs every field; a bank of your own only id, prompt and answer
    (and choices or items for those types): see docs/cards.md.

    Example: prep bank lint
    """
    state: State = ctx.obj
    folder = state.bank_dir()
    bank, problems = cards.lint_bank(folder, content.exercise_slugs())
    if content.is_installed_copy(folder):
        err(f"{folder} is {content.INSTALLED_COPY_NOTE}")
    files = len(cards.card_files(folder))
    report_lint(problems, str(folder), f"{plural(len(bank.cards), 'card')} in {plural(files, 'file')}: no problems")


@bank_app.command("list")
def list_cards(
    ctx: typer.Context,
    topic: Optional[str] = typer.Option(None, "--topic", "-t", help="Only this topic (see `prep bank topics`)."),
    tag: Optional[str] = typer.Option(None, "--tag", "-g", help="Only cards with this tag."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = LANG,
) -> None:
    """List the cards, one a line.

    Example: prep bank list --topic tcp
    """
    from ..settings import chosen_lang

    state: State = ctx.obj
    chosen = chosen_lang(lang)
    selected = [c.in_lang(chosen) for c in state.load_bank().select(topic=topic, tag=tag)]

    def render(rows: list[dict[str, Any]]) -> None:
        line_table(["id", "topic", "type", "prompt"],
                   [[row["id"], row["topic"], row["type"], (row["prompt"].strip().splitlines() or [""])[0]] for row in rows])
        err(plural(len(rows), "card"))

    emit([card_summary(c) for c in selected], as_json, render)


@bank_app.command("show")
def show(
    ctx: typer.Context,
    card_id: str = typer.Argument(..., metavar="ID", help="The card's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = LANG,
) -> None:
    """Show one card whole: prompt, answer, explanation, refs, source, in English or Chinese.

    With --json and no --lang, the texts as written ({en, zh}).

    Example: prep bank show time-wait-duration-linux --lang zh
    """
    from ..settings import chosen_lang

    state: State = ctx.obj
    bank = state.load_bank()
    card = bank.card(card_id)
    chosen = chosen_lang(lang)
    emit(card_document(card, lang if as_json else chosen), as_json, lambda _: render_card(card.in_lang(chosen), bank.root))


def render_card(card: Card, root: Path | None = None) -> None:
    """A card whose texts are plain strings (see Card.in_lang); `root` the bank folder, for where its file is."""
    from rich.markdown import Markdown

    from rich.markup import escape

    out.print(Panel(Markdown(card.prompt), title=f"{card.id}  [dim]{card.topic} · {card.type} · {card.difficulty}[/]"))
    if card.choices:
        for i, choice in enumerate(card.choices, 1):
            mark = "[green]✓[/]" if choice.correct else "[red]✗[/]"
            out.print(f" {mark} {i}. ", end="")
            out.print(choice.text, markup=False)
            if choice.why:
                out.print(f"      [dim]{choice.why}[/]", markup=True, highlight=False)
    if card.items:
        for i, item in enumerate(card.items, 1):
            out.print(f" {i}. {item}", markup=False)
    out.print(Markdown(f"**Answer.** {card.answer}"))
    if card.accept:
        out.print("[dim]Also accepted:[/] " + ", ".join(card.accept))
    if card.explanation:
        out.print(Markdown(card.explanation))
    if card.corrects:
        out.print(f"[yellow]The notes said:[/] {card.corrects}")
    out.print("[dim]Refs:[/] " + "; ".join(r.title + (f" <{r.url}>" if r.url else "") for r in card.ref_list))
    source = (f"notes {card.source.section}, line {', '.join(map(str, card.source.lines))}" if card.source
              else "canon (beyond the notes)")
    out.print(f"[dim]Source:[/] {source}   [dim]中文:[/] {'、'.join(card.zh)}")
    if card.exercise:
        out.print(f"[dim]Exercise:[/] prep exercise show {card.exercise}")
    out.print(f"[dim]{escape(content.card_location(root, card.file, card.line))}[/]" if root is not None
              else f"[dim]{escape(f'{card.file}:{card.line}')}[/]")


@bank_app.command("topics")
def topics(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    lang: Optional[str] = LANG,
) -> None:
    """List the topics with their card counts.

    Example: prep bank topics
    """
    from ..settings import chosen_lang

    bank = ctx.obj.load_bank()
    chosen = chosen_lang(lang)
    counts = Counter(c.topic for c in bank.cards if not c.draft)
    rows = [{"id": t.id, "title": t.title, "cards": counts[t.id], "description": t.description, "canon": t.canon}
            for t in (t.in_lang(chosen) for t in bank.topics.values())]

    def render(data: list[dict[str, Any]]) -> None:
        table = Table(box=None, pad_edge=False)
        for column in ("id", "cards", "title"):
            table.add_column(column, justify="right" if column == "cards" else "left")
        for row in data:
            table.add_row(row["id"], str(row["cards"]), row["title"])
        out.print(table)

    emit(rows, as_json, render)


@bank_app.command("tags")
def tags(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List the tags with their card counts, most used first (for --tag).

    Example: prep bank tags
    """
    bank = ctx.obj.load_bank()
    rows = [{"tag": tag, "cards": count} for tag, count in bank.tags().items()]

    def render(data: list[dict[str, Any]]) -> None:
        width = max((len(str(r["cards"])) for r in data), default=1)
        for r in data:
            out.print(f"{r['cards']:>{width}}  {r['tag']}", markup=False)
        err(plural(len(data), "tag"))

    emit(rows, as_json, render)


@bank_app.command("init")
def init(
    folder: Path = typer.Argument(..., metavar="DIR", help="A new (or empty) folder for your bank."),
) -> None:
    """Make a bank of your own: copy the shipped cards, topics and skips into DIR.

    Cards you edit or add there are yours: an upgrade of prep never touches them.
    Use it with PREP_BANK=DIR, or `bank = "DIR"` at the top of the settings file.
    Your progress is kept: it follows the card ids.

    Example: prep bank init ~/prep-bank
    """
    from ..settings import settings_path

    source = content.shipped_bank()
    written = content.init_bank(folder, source)
    target = folder.expanduser().resolve()
    count = sum(1 for p in written if p.suffix == ".yaml" and p.name not in cards.RESERVED_FILES)
    err(f"copied {plural(count, 'card file')} (and topics.yaml, skips.yaml) from {source} to {target}")
    err(f"use it: export PREP_BANK={target}   or put   bank = \"{target}\"   at the top of {settings_path()}")
    err("then `prep bank lint` checks your edits; `e` in the quiz opens your copy")


@bank_app.command("stats")
def stats(
    ctx: typer.Context,
    notes: Optional[Path] = typer.Option(None, "--notes", help="A notes file: also report flagged-line coverage."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Cards per topic, type and difficulty; cards without refs; coverage of a notes file.

    Example: prep bank stats --notes systems-notes.zh.txt
    """
    from .. import notes as notes_lib

    bank = ctx.obj.load_bank()
    live = [c for c in bank.cards if not c.draft]
    languages = [c.languages() for c in live]
    data: dict[str, Any] = {
        "cards": len(live),
        "drafts": len(bank.cards) - len(live),
        "by_topic": dict(sorted(Counter(c.topic for c in live).items())),
        "by_type": dict(sorted(Counter(c.type for c in live).items())),
        "by_difficulty": dict(sorted(Counter(c.difficulty for c in live).items())),
        "recall_share": round(sum(c.type == "recall" for c in live) / len(live), 3) if live else 0.0,
        "with_corrects": sum(bool(c.corrects) for c in live),
        "without_refs": [c.id for c in live if not c.refs],
        "without_zh": [c.id for c in live if not c.zh],
        # cards whose every text has that language's side (a plain string is English)
        "languages": {lang: sum(lang in langs for langs in languages) for lang in cards.LANGS},
        "declared_languages": list(bank.languages),
    }
    if notes is not None:
        report = notes_lib.coverage(notes_lib.read_notes(notes), bank)
        data["notes"] = {"file": str(notes), **report.totals()}

    def render(d: dict[str, Any]) -> None:
        out.print(f"[bold]{plural(d['cards'], 'card')}[/] ({plural(d['drafts'], 'draft')}); free recall {d['recall_share']:.0%}; "
                  f"{d['with_corrects']} correct the notes")
        for key, title in (("by_topic", "topic"), ("by_type", "type"), ("by_difficulty", "difficulty")):
            table = Table(title=f"by {title}", box=None, title_justify="left")
            table.add_column(title)
            table.add_column("cards", justify="right")
            for name, count in d[key].items():
                table.add_row(name, str(count))
            out.print(table)
        out.print("in " + ", ".join(f"{lang}: {n}/{d['cards']}" for lang, n in d["languages"].items())
                  + (f" (the bank declares {', '.join(d['declared_languages'])})" if d["declared_languages"] else ""))
        out.print(f"cards without refs: {len(d['without_refs'])}" + (f" ({', '.join(d['without_refs'])})" if d["without_refs"] else ""))
        if "notes" in d:
            n = d["notes"]
            out.print(f"notes {n['file']}: {n['flagged']} flagged lines, {n['answered']} answered, "
                      f"{n['skipped']} skipped, {n['open']} open ({n['coverage']:.0%} covered)")

    emit(data, as_json, render)


@bank_app.command("schema")
def schema(
    write: bool = typer.Option(False, "--write", help="Write it to the bank's cards.schema.json instead of stdout."),
) -> None:
    """Print the JSON Schema of a card file (generated from the loader's model).

    Example: prep bank schema --write
    """
    text = cards.schema_text()
    if write:
        target = content.root() / "bank" / cards.SCHEMA_FILE
        target.write_text(text, encoding="utf-8")
        err(f"wrote {target}")
    else:
        out.print(text, markup=False, end="")


def register(app: typer.Typer) -> None:
    app.add_typer(bank_app, name="bank")
