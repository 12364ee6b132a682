"""The learner's notes: flagged questions, which cards answer them, what the cards correct.

A notes file is plain text in dated sections (a line such as `3/19日` opens one).
A line carrying `??` or `？？` is a question its author meant to look up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cards import Bank, Card
from .errors import InputError, NotFoundError

SECTION = re.compile(r"^\s*(\d{1,2}/\d{1,2})\s*日?\s*$")
FLAG = re.compile(r"\?\?|？？")
INBOX_TOPIC = "inbox"


@dataclass(frozen=True)
class NoteLine:
    number: int
    text: str
    section: str

    @property
    def flagged(self) -> bool:
        return bool(FLAG.search(self.text))


@dataclass
class Notes:
    path: Path
    lines: list[NoteLine]

    def flagged(self) -> list[NoteLine]:
        return [line for line in self.lines if line.flagged]

    def line(self, number: int) -> NoteLine | None:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else None


def read_notes(path: Path) -> Notes:
    """Read a notes file; sections come from its date headings."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such notes file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the notes: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the notes as UTF-8") from None
    section = "-"
    lines = []
    for number, content in enumerate(text.splitlines(), 1):
        heading = SECTION.match(content)
        if heading:
            section = heading.group(1)
        lines.append(NoteLine(number, content.rstrip(), section))
    return Notes(Path(path), lines)


def answering_cards(bank: Bank, include_drafts: bool = False) -> dict[int, list[Card]]:
    by_line: dict[int, list[Card]] = {}
    for card in bank.cards:
        if (card.draft and not include_drafts) or card.source is None:
            continue
        for number in card.source.lines:
            by_line.setdefault(number, []).append(card)
    return by_line


@dataclass
class Coverage:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        flagged = len(self.rows)
        answered = sum(bool(r["cards"]) for r in self.rows)
        skipped = sum(bool(r["skipped"]) and not r["cards"] for r in self.rows)
        covered = answered + skipped
        return {
            "flagged": flagged,
            "answered": answered,
            "skipped": skipped,
            "open": flagged - covered,
            "coverage": round(covered / flagged, 4) if flagged else 1.0,
        }

    @property
    def open_lines(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["cards"] and not r["skipped"]]


def coverage(notes: Notes, bank: Bank) -> Coverage:
    """Every flagged line with the cards whose source points at it, or the skip reason."""
    by_line = answering_cards(bank)
    skips = {s.line: s.reason for s in bank.skips}
    report = Coverage()
    for line in notes.flagged():
        report.rows.append(
            {
                "line": line.number,
                "section": line.section,
                "text": line.text.strip(),
                "cards": [c.id for c in by_line.get(line.number, [])],
                "skipped": skips.get(line.number),
            }
        )
    return report


def corrections(notes: Notes, bank: Bank, lang: str = "en") -> list[dict[str, Any]]:
    """The note lines that cards correct, with what the card says instead (in `lang`)."""
    found = []
    for stored in bank.cards:
        if not stored.corrects or stored.draft or stored.source is None:
            continue
        card = stored.in_lang(lang)
        assert card.source is not None
        for number in card.source.lines:
            line = notes.line(number)
            found.append(
                {
                    "line": number,
                    "section": line.section if line else card.source.section,
                    "text": line.text.strip() if line else None,
                    "card": card.id,
                    "notes_claim": card.corrects,
                    "correction": card.answer,
                }
            )
    return sorted(found, key=lambda r: (r["line"], r["card"]))


def draft_id(number: int) -> str:
    return f"draft-notes-line-{number}"


def _yaml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def draft_block(line: NoteLine) -> str:
    """A draft card for one flagged line, as YAML text (kept out of the quiz until completed)."""
    return (
        f"  - id: {draft_id(line.number)}\n"
        f"    draft: true\n"
        f"    type: recall\n"
        f"    prompt: {_yaml_string('TODO: the question behind this note: ' + line.text.strip())}\n"
        f"    answer: \"\"\n"
        f"    explanation: \"\"\n"
        f"    difficulty: medium\n"
        f"    source: {{section: \"{line.section}\", lines: [{line.number}]}}\n"
    )


def extract_drafts(notes: Notes, bank: Bank, target: Path, topic: str = INBOX_TOPIC) -> list[NoteLine]:
    """Append a draft card to `target` for each flagged line no card answers and no skip covers."""
    if topic not in bank.topics:
        raise InputError(f"unknown topic {topic!r}: choose one of {', '.join(sorted(bank.topics))}")
    answered = answering_cards(bank, include_drafts=True)
    skipped = {s.line for s in bank.skips}
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    todo = [
        line
        for line in notes.flagged()
        if line.number not in answered and line.number not in skipped and draft_id(line.number) not in existing
    ]
    if not todo:
        return []
    header = "" if existing else (
        "# yaml-language-server: $schema=cards.schema.json\n"
        f"# Drafts from {notes.path.name}: complete each card, then remove `draft: true`.\n"
        f"topic: {topic}\ncards:\n"
    )
    if existing and not existing.endswith("\n"):
        existing += "\n"
    try:
        target.write_text(existing + header + "".join(draft_block(line) for line in todo), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{target}: cannot write the drafts: {exc.strerror}") from None
    return todo
