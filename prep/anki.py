"""The bank as an Anki deck (.apkg) through genanki.

Every id is stable: a note's guid comes from the card id (re-importing an updated
deck updates the notes instead of duplicating them, and keeps Anki's own review
history), the model and deck ids come from fixed names. One subdeck per topic:
`prep::<topic>`. Choice and order cards become front/back notes that list the
options on the front and mark them on the back.
"""

from __future__ import annotations

import hashlib
import html
import random
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .cards import choice_order
from .errors import InputError

if TYPE_CHECKING:
    from .cards import Card

DECK_ROOT = "prep"
MODEL_NAME = "prep card (v1)"
FIELDS = ["Front", "Back", "CardId", "Topic", "Source"]
CSS = """
.card { font-family: sans-serif; font-size: 18px; text-align: left; color: #222; background: #fff; }
code { font-family: monospace; background: #f2f2f2; padding: 0 .2em; }
.why { color: #666; font-size: 90%; }
.right { color: #1a7f37; } .wrong { color: #b3261e; }
.meta { color: #888; font-size: 80%; margin-top: 1em; }
"""


def stable_id(name: str) -> int:
    """A 31-bit id from a name (Anki wants positive 64-bit ids; genanki's examples stay under 2**31)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") & 0x7FFFFFFF | 1 << 30


def note_guid(card_id: str) -> str:
    import genanki

    return genanki.guid_for("prep", card_id)


_CODE = re.compile(r"`([^`\n]+)`")


def _inline(text: str) -> str:
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def _pre(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    code = textwrap.dedent("\n".join(lines))
    return "<pre><code>" + "<br>".join(html.escape(line) for line in code.split("\n")) + "</code></pre>"


def to_html(text: str) -> str:
    """A card's text (Markdown as the bank writes it) as note HTML.

    Paragraphs are separated by blank lines and their line breaks are spaces; a code block
    (indented four spaces, or fenced with ```) keeps its lines, as `<pre><code>` with `<br>`
    between them (Anki's editor keeps those), so a C snippet stays readable.
    """
    lines = text.strip("\n").splitlines()
    blocks: list[tuple[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(("p", _inline(" ".join(line.strip() for line in para))))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            code = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                code.append(lines[i])
                i += 1
            blocks.append(("pre", _pre(code)))
            i += 1
        elif line.startswith(("    ", "\t")) and not para and line.strip():
            code = []
            while i < len(lines) and (lines[i].startswith(("    ", "\t")) or not lines[i].strip()):
                code.append(lines[i])
                i += 1
            blocks.append(("pre", _pre(code)))
        elif not line.strip():
            flush()
            i += 1
        else:
            para.append(line)
            i += 1
    flush()
    result = ""
    for n, (kind, body) in enumerate(blocks):
        if n and kind == "p" and blocks[n - 1][0] == "p":
            result += "<br><br>"
        result += body
    return result


def _block(inner: str) -> str:
    """A paragraph, or a div when it holds a code block (a <pre> may not sit inside a <p>)."""
    return f"<div>{inner}</div>" if "<pre>" in inner else f"<p>{inner}</p>"


def front(card: "Card", lang: str = "en") -> str:
    card = card.in_lang(lang)
    parts = [to_html(card.prompt)]
    if card.choices:
        hint = "Choose every right answer." if card.type == "multi" else "Choose one."
        items = "".join(f"<li>{to_html(card.choices[i].text)}</li>" for i in choice_order(card))
        parts.append(f"<ol type=\"A\">{items}</ol><div class=\"why\">{hint}</div>")
    if card.type == "order" and card.items:
        shuffled = list(card.items)
        rng = random.Random(card.id)  # the same order in every export
        while len(shuffled) > 1 and shuffled == list(card.items):
            rng.shuffle(shuffled)
        parts.append("<ul>" + "".join(f"<li>{to_html(i)}</li>" for i in shuffled) + "</ul><div class=\"why\">Put them in order.</div>")
    if card.type == "short":
        parts.append("<div class=\"why\">Type it in your head: a short answer.</div>")
    return "".join(parts)


def back(card: "Card", lang: str = "en") -> str:
    card = card.in_lang(lang)
    parts = []
    if card.choices:
        rows = []
        for c in (card.choices[i] for i in choice_order(card)):
            mark = "<span class=\"right\">✓</span>" if c.correct else "<span class=\"wrong\">✗</span>"
            why = f" <span class=\"why\">{to_html(c.why)}</span>" if c.why else ""
            rows.append(f"<li>{mark} {to_html(c.text)}{why}</li>")
        parts.append(f"<ol type=\"A\">{''.join(rows)}</ol>")
    if card.type == "order" and card.items:
        parts.append("<ol>" + "".join(f"<li>{to_html(i)}</li>" for i in card.items) + "</ol>")
    parts.append(_block(f"<b>{to_html(card.answer)}</b>"))
    others = card.other_accepted() if card.type == "short" else []
    if others:
        parts.append("<p class=\"why\">Also accepted: " + ", ".join(to_html(a) for a in others) + "</p>")
    if card.explanation:
        parts.append(_block(to_html(card.explanation)))
    if card.corrects:
        parts.append(f"<p class=\"why\">The notes said: {to_html(card.corrects)}</p>")
    refs = []
    for ref in card.ref_list:
        title = to_html(ref.title)
        refs.append(f"<a href=\"{html.escape(ref.url)}\">{title}</a>" if ref.url else title)
    if refs:
        parts.append("<div class=\"meta\">Refs: " + "; ".join(refs) + "</div>")
    if card.zh:
        parts.append("<div class=\"meta\">中文: " + "、".join(html.escape(z) for z in card.zh) + "</div>")
    return "".join(parts)


def build_package(cards: Iterable["Card"], topics: dict[str, str], lang: str = "en") -> "object":
    """A genanki Package: a subdeck per topic, a note per card with a guid from its id; the texts in `lang`."""
    import genanki

    model = genanki.Model(
        stable_id(MODEL_NAME),
        MODEL_NAME,
        fields=[{"name": f} for f in FIELDS],
        templates=[{
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": "{{FrontSide}}<hr id=\"answer\">{{Back}}<div class=\"meta\">{{CardId}} · {{Source}}</div>",
        }],
        css=CSS,
        sort_field_index=2,
    )
    decks: dict[str, genanki.Deck] = {}
    for card in (c.in_lang(lang) for c in cards):
        deck = decks.get(card.topic)
        if deck is None:
            name = f"{DECK_ROOT}::{topics.get(card.topic, card.topic)}"
            deck = decks[card.topic] = genanki.Deck(stable_id(f"{DECK_ROOT}::{card.topic}"), name)
        tags = [f"prep::{card.topic}", *(t for t in card.tags), f"type::{card.type}", f"difficulty::{card.difficulty}"]
        deck.add_note(genanki.Note(
            model=model,
            fields=[front(card), back(card), card.id, card.topic,
                    f"notes {card.source.section}, line {', '.join(map(str, card.source.lines))}" if card.source else "canon"],
            tags=tags,
            guid=note_guid(card.id),
        ))
    if not decks:
        raise InputError("no cards to export (check --topic and --tag)")
    return genanki.Package(list(decks.values()))


def export_anki(cards: list["Card"], topics: dict[str, str], path: Path, lang: str = "en") -> int:
    """Write the .apkg in `lang` (a side that is missing falls back to the other); returns the number of notes.

    The note guids come from the card ids only: a deck exported in the other language
    updates the same notes when imported.
    """
    if path.suffix != ".apkg":
        raise InputError(f"{path}: give a file name ending in .apkg")
    package = build_package(cards, topics, lang)
    tmp = path.with_name(f".{path.name}.tmp.apkg")
    try:
        package.write_to_file(str(tmp))  # type: ignore[attr-defined]
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write the deck: {exc.strerror}") from None
    return len(cards)
