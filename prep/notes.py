"""The learner's notes: flagged questions, which cards answer them, what the cards correct.

A notes file is plain text in dated sections (a line such as `3/19日` opens one).
A line carrying `??` or `？？` is a question its author meant to look up.

Which cards answer a line: when the file is the notes the bank was written from
(recognised by its content's sha256, skips.yaml `notes`), the cards whose `source`
names that line. Any other file is matched by what its lines say: the English
words and identifiers of a line against the cards' texts and key terms, its Chinese
against the cards' Chinese key terms and texts, each term weighted by how few cards
carry it. A line that matches nothing is said to.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
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
    sha256: str = ""  # of the text, line endings and trailing spaces aside

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
    return Notes(Path(path), lines, fingerprint(text))


def fingerprint(text: str) -> str:
    """The sha256 of notes text, whatever its line endings and trailing spaces."""
    normal = "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def is_source_of(notes: Notes, bank: Bank) -> bool:
    """Whether `notes` is the file the bank's `source` lines count in."""
    return bank.notes_sha256 is not None and notes.sha256 == bank.notes_sha256


# ---------------------------------------------------------------- matching a line by what it says

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[./+-][A-Za-z0-9_]+)*|\d{3,}")
HAN = re.compile(r"[\u4e00-\u9fff]+")
STOPWORDS = set("""
a an and are as at be but by can do does for from has have how i if in into is it its may not of on or so
than that the their then there these this to use used using vs was what when where which who why will with
you your about after before between both each more most other same such than too very
many much fit get got really my me we he no up us am go
""".split())
MAX_MATCHES = 3


def _words(text: str, short: bool = False) -> set[str]:
    """Lowercase words and identifiers, and the parts of an identifier (io_uring: io_uring, uring).

    Two-letter words only in capitals (ET, LT, FD), or any with `short` (a card's id: lt-vs-et)."""
    found = set()
    for word in WORD.findall(text):
        for part in {word, *re.split(r"[_./+-]", word)}:
            long_enough = len(part) >= 3 or (len(part) == 2 and part.isalpha() and (short or part.isupper()))
            if long_enough and part.lower() not in STOPWORDS:
                found.add(part.lower())
    return found


def _bigrams(text: str) -> set[str]:
    return {run[i:i + 2] for run in HAN.findall(text) for i in range(len(run) - 1)}


@dataclass
class CardIndex:
    """What each card says, in terms a note line can be matched on, and how rare each term is."""

    terms: dict[str, set[str]]  # card id -> its terms: "key:" words of its id, tags and key terms; words of
    # its prompt and answer; "zh:" Chinese key terms; "bi:" Chinese bigrams of its texts
    weight: dict[str, float]  # term -> idf

    @classmethod
    def of(cls, bank: Bank, claims: bool = False) -> "CardIndex":
        """With `claims`, only the cards that correct a claim, indexed on the claim too."""
        terms: dict[str, set[str]] = {}
        for stored in bank.cards:
            if stored.draft or (claims and not stored.corrects):
                continue
            en, zh = stored.in_lang("en"), stored.in_lang("zh")
            if claims:  # the claim, and the wrong choices: the misconceptions a note may state
                wrong_en = " ".join(c.text for c in en.choices or [] if not c.correct)
                wrong_zh = " ".join(c.text for c in zh.choices or [] if not c.correct)
                en = en.model_copy(update={"answer": f"{en.answer} {en.corrects} {wrong_en}"})
                zh = zh.model_copy(update={"answer": f"{zh.answer} {zh.corrects} {wrong_zh}"})
            curated = " ".join([stored.id.replace("-", " "), " ".join(stored.tags).replace("-", " "), " ".join(stored.zh)])
            found = {f"key:{w}" for w in _words(curated, short=True)} | _words(en.prompt + " " + en.answer)
            found |= {f"zh:{t}" for t in stored.zh if HAN.search(t) and len(t) >= 2}
            found |= {f"bi:{b}" for b in _bigrams(zh.prompt + " " + zh.answer + " " + " ".join(stored.zh))}
            terms[stored.id] = found
        counts = Counter(t for found in terms.values() for t in found)
        total = max(len(terms), 1)
        return cls(terms, {t: math.log((1 + total) / (1 + n)) for t, n in counts.items()})

    def zh_weight(self, term: str) -> float:
        """A Chinese key term weighs as rare as it is in the cards' texts, not only among key terms:
        文件 and 描述符 are the key terms of few cards but are said by many."""
        common = [self.weight.get(f"bi:{b}", math.inf) for b in _bigrams(term[3:])]
        return min([self.weight[term], *common])

    def match(self, text: str, strict: bool = False) -> list[tuple[str, list[str]]]:
        """The cards a line's words point to, best first, with the terms that matched (at most 3).

        A card must match at least one identifier or key term of the line (an identifier, an API name
        such as `select` amid Chinese, a word of a card's id or tags, a Chinese key term), and an
        identifier, a Chinese key term or two words, and cover a share of the line's content
        (MIN_SHARE): a line sharing a common word or two with a card matches nothing. An identifier weighs twice a key term, so `select` outweighs 文件 and 描述符.

        `strict`: a card must share an identifier (io_uring, TIME_WAIT) or a Chinese key term with the
        line, and one more term: for telling a claim a card corrects, where a near miss misleads."""
        line = _Line(text)
        keys = {f"key:{w}" for w in line.words}
        bigrams = {f"bi:{b}" for b in _bigrams(text)}
        scored = []
        for card_id, terms in self.terms.items():
            key_hits, hits = keys & terms, line.words & terms
            zh_hits = {t for t in terms if t.startswith("zh:") and t[3:] in text}
            bi_hits = bigrams & terms
            bi_hits -= {f"bi:{b}" for t in zh_hits for b in _bigrams(t[3:])}  # counted once, as the key term
            if not (key_hits or hits or zh_hits):
                continue
            matched_words = {t[4:] for t in key_hits} | hits
            ident_hits = matched_words & line.identifiers
            score = (sum(self.weight[t] * (2 if t[4:] in line.identifiers else 1) for t in key_hits)
                     + sum(self.zh_weight(t) for t in zh_hits)
                     + 0.5 * sum(self.weight[t] for t in hits)
                     + 0.35 * sum(self.weight[t] for t in bi_hits))
            # covering more of the line is closer, and a key identifier (`select`, the card's tag) most
            score += len(matched_words) + len({t[4:] for t in key_hits} & line.identifiers) + len(zh_hits)
            if strict:
                strong = bool(ident_hits or zh_hits) and len(matched_words) + len(zh_hits) >= 2
            else:
                strong = (bool(ident_hits or key_hits or zh_hits)
                          and bool(ident_hits or zh_hits or len(matched_words) >= 2)
                          and line.share(matched_words, [t[3:] for t in zh_hits] + [t[3:] for t in bi_hits]) >= MIN_SHARE)
            if strong:
                shown = sorted(matched_words) + sorted(t[3:] for t in zh_hits)
                scored.append((score, card_id, shown or ["(similar wording)"]))
        if not scored:
            return []
        scored.sort(key=lambda x: (-x[0], x[1]))
        best = scored[0][0]
        if best < MIN_SCORE:
            return []
        return [(card_id, shown) for score, card_id, shown in scored[:MAX_MATCHES] if score >= 0.75 * best]


MIN_SCORE = 2.0  # below this, a line shares only common words with the cards: it matches nothing
MIN_SHARE = 0.4  # the least share of a line's content a card must cover to answer it
# Chinese characters that carry no subject: a question's frame (最多能……多少个……到底是什么) is not its content
ZH_FILLER = set("的了是吗呢么什怎为到底要能会可以在和与及或就都也还多少个吧啊把被让给对有没不这那哪如何时候最很该")


class _Line:
    """A note line's content: its words (identifiers marked) and its Chinese characters, frame aside."""

    def __init__(self, text: str) -> None:
        self.text = text
        han = "".join(HAN.findall(text))
        self.han = [c for c in han if c not in ZH_FILLER]
        self.units: dict[str, set[str]] = {}  # a whole word of the line -> it and its parts, as matched
        self.identifiers: set[str] = set()
        for word in WORD.findall(text):
            found = _words(word)
            if not found:
                continue
            self.units[word.lower()] = found
            # a term of the trade on its own: TIME_WAIT, io_uring, 2MSL, select() or `select`, or any
            # English word in a Chinese line (an API name amid Chinese is what it is)
            if (re.search(r"[_0-9]|[A-Z]{2}", word) or han or re.search(rf"`{re.escape(word)}`|\b{re.escape(word)}\(", text)):
                self.identifiers |= found
        self.words = set().union(*self.units.values()) if self.units else set()

    def share(self, matched: set[str], chinese: list[str]) -> float:
        """How much of the line's content `matched` words and `chinese` terms cover: an identifier
        counts 2, another word 1, a Chinese character 1/2 (a word is about two)."""
        total = covered = 0.0
        for word, parts in self.units.items():
            weight = 2.0 if parts & self.identifiers else 1.0
            total += weight
            covered += weight if parts & matched else 0.0
        hit = set()
        for term in chinese:
            for at in range(len(self.text)):
                if self.text.startswith(term, at):
                    hit.update(range(at, at + len(term)))
        total += 0.5 * len(self.han)
        covered += 0.5 * sum(1 for at in hit if self.text[at] not in ZH_FILLER and HAN.match(self.text[at]))
        return covered / total if total else 0.0


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
    """Every flagged line with the cards that answer it and how they were found (`matched`:
    "line" in the bank's own notes, "words" elsewhere, with the words in `terms`), or the skip reason."""
    if is_source_of(notes, bank):
        by_line = answering_cards(bank)
        skips = {s.line: s.reason for s in bank.skips}
        rows = [{"cards": [c.id for c in by_line.get(line.number, [])], "skipped": skips.get(line.number),
                 "matched": "line", "terms": []} for line in notes.flagged()]
    else:
        index = CardIndex.of(bank)
        rows = []
        for line in notes.flagged():
            found = index.match(FLAG.sub(" ", line.text))
            rows.append({"cards": [card for card, _ in found], "skipped": None,
                         "matched": "words" if found else None, "terms": sorted({t for _, ts in found for t in ts})})
    report = Coverage()
    for line, row in zip(notes.flagged(), rows):
        report.rows.append({"line": line.number, "section": line.section, "text": line.text.strip(), **row})
    return report


def corrections(notes: Notes, bank: Bank, lang: str = "en") -> list[dict[str, Any]]:
    """The note lines that cards correct, with what the card says instead (in `lang`).

    In the bank's own notes, the lines the correcting cards cite; in any other file, each line
    that states something (not a flagged question) whose words match a correcting card."""
    if not is_source_of(notes, bank):
        return _corrections_by_words(notes, bank, lang)
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


def _corrections_by_words(notes: Notes, bank: Bank, lang: str) -> list[dict[str, Any]]:
    correcting = {c.id: c for c in bank.cards if c.corrects and not c.draft}
    index = CardIndex.of(bank, claims=True)
    found = []
    for line in notes.lines:
        if not line.text.strip() or SECTION.match(line.text) or line.flagged:
            continue  # a flagged line is a question, not a claim to correct
        for card_id, _terms in index.match(line.text, strict=True)[:1]:
            card = correcting[card_id].in_lang(lang)
            found.append({"line": line.number, "section": line.section, "text": line.text.strip(), "card": card.id,
                          "notes_claim": card.corrects, "correction": card.answer})
    return found


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
    existing = target.read_text(encoding="utf-8") if target.exists() else ""
    if is_source_of(notes, bank):
        answered = set(answering_cards(bank, include_drafts=True)) | {s.line for s in bank.skips}
    else:
        covered = coverage(notes, bank)
        answered = {row["line"] for row in covered.rows if row["cards"]}
    todo = [line for line in notes.flagged() if line.number not in answered and draft_id(line.number) not in existing]
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
