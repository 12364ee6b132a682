"""The bank as the quiz needs it, cached so a session starts fast.

Parsing and validating 2,000 cards of YAML takes about half a second; the quiz
shows its first card in well under that by reading a JSON cache of the validated
bank, keyed on the name, size and mtime of every bank file (and the exercise
slugs and the card model's version). Any change to a file, or a cache that cannot
be read, means a full `cards.load_bank`, which validates and reports problems as
usual. A card is built as a `cards.Card` only when it is shown.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from .cards import Bank, Card, Problem

CACHE_FORMAT = 3
CACHE_ENV = "PREP_CACHE_DIR"


def cache_dir() -> Path:
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("prep", appauthor=False))


class CardIndex:
    """Card ids with what selecting needs (topic, tags, draft, type, file, line); full cards on demand.

    `records` holds one small dict a card; the card's whole data comes from `load`
    (a line of the cache's data file, or the loaded bank) when it is first shown.
    """

    def __init__(
        self,
        root: Path,
        topics: dict[str, dict[str, str]],
        records: list[dict[str, Any]],
        load: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        cards: dict[str, "Card"] | None = None,
    ) -> None:
        self.root = root
        self.topics = topics
        self.records = records
        self._by_id = {r["id"]: r for r in records}
        self._load = load
        self._cards: dict[str, Card] = dict(cards or {})
        self._localized: dict[tuple[str, str], Card] = {}
        self.problems: list[Problem] = []  # why cards were left out (see load_index's keep_going)
        self._unsaved: Callable[[], None] | None = None  # the cache write load_index(write_later=True) left to save()
        self._saving = threading.Lock()
        self.lang = "en"  # the language `card` gives a card in

    @classmethod
    def from_bank(cls, bank: "Bank") -> "CardIndex":
        # title and description as written: a string, or {en, zh} (see cards.text_in)
        topics = {t.id: t.model_dump(mode="json", include={"title", "description"}) for t in bank.topics.values()}
        records = [_record(card) for card in bank.cards]
        return cls(bank.root, topics, records, cards={card.id: card for card in bank.cards})

    def save(self) -> None:
        """Write the bank cache that load_index(write_later=True) held back, once; from any thread."""
        with self._saving:
            write, self._unsaved = self._unsaved, None
            if write is not None:
                write()

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.records]

    def __contains__(self, card_id: object) -> bool:
        return card_id in self._by_id

    def record(self, card_id: str) -> dict[str, Any]:
        try:
            return self._by_id[card_id]
        except KeyError:
            from .cards import unknown_card

            raise unknown_card(card_id, self._by_id, self.root) from None

    def topic_of(self, card_id: str) -> str | None:
        record = self._by_id.get(card_id)
        return record["topic"] if record else None

    def select(self, topic: str | None = None, tag: str | None = None, include_drafts: bool = False) -> list[str]:
        """Card ids in bank order, as `cards.Bank.select` would choose them."""
        if topic is not None and topic not in self.topics:
            from .cards import unknown_topic

            raise unknown_topic(topic, self.topics)
        if tag is not None and not any(tag in r["tags"] for r in self.records):
            from .cards import unknown_tag

            raise unknown_tag(tag, {t for r in self.records for t in r["tags"]})
        return [
            r["id"]
            for r in self.records
            if (include_drafts or not r["draft"])
            and (topic is None or r["topic"] == topic)
            and (tag is None or tag in r["tags"])
        ]

    def topic_title(self, topic: str, lang: str | None = None) -> str:
        from .texts import text_in

        meta = self.topics.get(topic)
        return (text_in(meta["title"], lang or self.lang) or topic) if meta else topic

    def card(self, card_id: str, lang: str | None = None) -> "Card":
        """The card with its texts in `lang` (default: the index's `lang`), as plain strings.

        See `cards.Card.in_lang`: a side that is missing falls back to the other one.
        """
        lang = lang or self.lang
        key = (card_id, lang)
        found = self._localized.get(key)
        if found is None:
            found = self._localized[key] = self.stored_card(card_id).in_lang(lang)
        return found

    def forget(self, card_id: str) -> None:
        """Drop the localized copies of a card (its file changed)."""
        self._cards.pop(card_id, None)
        for key in [k for k in self._localized if k[0] == card_id]:
            del self._localized[key]

    def stored_card(self, card_id: str) -> "Card":
        """The card as the bank holds it: a `cards.Card`, or from the cache a read-only view with the same attributes.

        The cache holds only cards the loader validated, so a view skips building the
        pydantic models (tens of milliseconds before the first card).
        """
        card = self._cards.get(card_id)
        if card is None:
            record = self.record(card_id)
            assert self._load is not None
            card = CardView(self._load(record), record)  # type: ignore[assignment]
            self._cards[card_id] = card
        return card

    def location(self, card_id: str) -> str:
        record = self.record(card_id)
        return f"{self.root / record['file']}:{record['line']}"


class _View:
    """Read-only attribute access over validated card data (nested objects as views too)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        try:
            value = self._data[name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(value, dict):
            return _View(value)
        if isinstance(value, list):
            return [_View(v) if isinstance(v, dict) else v for v in value]
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a card from the cache is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _View) and self._data == other._data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


class CardView(_View):
    """A card read from the bank cache: the attributes of `cards.Card`, `accepts`, `other_accepted` and `in_lang`."""

    __slots__ = ("_where", "_answers")

    def __init__(self, data: dict[str, Any], record: dict[str, Any], answers: tuple[str, ...] = ()) -> None:
        super().__init__(data)
        object.__setattr__(self, "_where", (record["topic"], record["file"], record["line"]))
        object.__setattr__(self, "_answers", answers)

    def in_lang(self, lang: str) -> "CardView":
        """As `cards.Card.in_lang`: the texts as plain strings in `lang`, or the other side where it is missing."""
        from .texts import TEXT_FIELDS, text_in, text_sides

        data = dict(self._data)
        for name in TEXT_FIELDS:
            data[name] = text_in(data.get(name), lang)
        if data.get("choices") is not None:
            data["choices"] = [{**c, "text": text_in(c["text"], lang), "why": text_in(c.get("why"), lang)} for c in data["choices"]]
        if data.get("items") is not None:
            data["items"] = [text_in(i, lang) for i in data["items"]]
        record = {"topic": self._where[0], "file": self._where[1], "line": self._where[2]}
        return CardView(data, record, tuple(dict.fromkeys((*text_sides(self._data.get("answer")).values(), *self._answers))))

    def _other_sides(self) -> tuple[str, ...]:  # as Card's: for Card.accepts
        return self._answers  # type: ignore[no-any-return]

    topic = property(lambda self: self._where[0])
    file = property(lambda self: self._where[1])
    line = property(lambda self: self._where[2])
    ref_list = property(lambda self: self.refs)

    def accepts(self, typed: str) -> bool:
        """Whether a typed short answer matches (the bank's own rule, `cards.normalise_answer`)."""
        from .cards import Card

        return Card.accepts(self, typed)  # type: ignore[arg-type]

    def other_accepted(self) -> list[str]:
        """As `cards.Card.other_accepted`: the accepted spellings worth showing beside the answer."""
        from .cards import Card

        return Card.other_accepted(self)  # type: ignore[arg-type]


FIELDS = ("id", "topic", "tags", "draft", "type", "file", "line")


def _record(card: "Card") -> dict[str, Any]:
    return {
        "id": card.id,
        "topic": card.topic,
        "tags": list(card.tags),
        "draft": card.draft,
        "type": card.type,
        "file": card.file,
        "line": card.line,
    }


def _fingerprint(bank_dir: Path, exercise_slugs: Iterable[str] | None) -> str:
    parts: list[Any] = [CACHE_FORMAT, str(bank_dir.resolve())]
    # prep's own modules stand for its version (an upgrade or any edit rewrites them): asking
    # importlib.metadata for the version costs ~30 ms, more than the rest of a warm start's lookups
    for module in sorted(Path(__file__).parent.glob("*.py")):
        st = module.stat()
        parts.append((module.name, st.st_size, st.st_mtime_ns))
    for path in sorted(bank_dir.glob("*.yaml")):
        st = path.stat()
        parts.append((path.name, st.st_size, st.st_mtime_ns))
    parts.append(sorted(exercise_slugs) if exercise_slugs is not None else None)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _cache_files(bank_dir: Path) -> tuple[Path, Path]:
    name = hashlib.sha256(str(bank_dir.resolve()).encode()).hexdigest()[:16]
    folder = cache_dir()
    return folder / f"bank-{name}.index.json", folder / f"bank-{name}.cards.jsonl"


def _line_loader(data_file: Path, size: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def load(record: dict[str, Any]) -> dict[str, Any]:
        with data_file.open("rb") as f:
            if os.fstat(f.fileno()).st_size != size:
                raise OSError(f"{data_file} changed")
            f.seek(record["offset"])
            return json.loads(f.read(record["length"]))

    return load


def load_index(
    bank_dir: Path, exercise_slugs: set[str] | None = None, keep_going: bool = False, write_later: bool = False
) -> CardIndex:
    """The bank's card index: from the cache when every file is unchanged, else loaded and cached.

    The cache is two files: a small index (one row a card, with the offset of its
    data) read at startup, and the cards' data, one JSON line a card, read one card
    at a time as cards are shown.

    With keep_going, cards that have a problem are left out instead of failing the
    load, and `problems` on the index lists why (a bank with problems is not cached,
    so they are reported on every run until fixed).

    With write_later, a cache to write is left to the index's `save`: the quiz shows the
    first card first and writes it while the learner reads (or at the end).
    """
    try:
        key = _fingerprint(bank_dir, exercise_slugs)
    except OSError:
        key = None
    index_file, data_file = _cache_files(bank_dir)
    if key is not None:
        try:
            data = json.loads(index_file.read_text(encoding="utf-8"))
            if data.get("key") == key and data_file.stat().st_size == data["size"]:
                records = [dict(zip((*FIELDS, "offset", "length"), row)) for row in data["cards"]]
                return CardIndex(bank_dir, data["topics"], records, _robust(_line_loader(data_file, data["size"]), bank_dir, exercise_slugs))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    from .cards import load_bank, load_usable_cards

    if keep_going:
        bank, problems = load_usable_cards(bank_dir, exercise_slugs)
    else:
        bank, problems = load_bank(bank_dir, exercise_slugs), []
    index = CardIndex.from_bank(bank)
    index.problems = problems
    if key is not None and not problems:
        index._unsaved = lambda: _write(index_file, data_file, key, index, bank)
        if not write_later:
            index.save()
    return index


def _robust(load: Callable[[dict[str, Any]], dict[str, Any]], bank_dir: Path, exercise_slugs: set[str] | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """If the data file went away under us, read the card from the bank itself."""
    fallback: dict[str, Any] = {}

    def safe(record: dict[str, Any]) -> dict[str, Any]:
        try:
            return load(record)
        except (OSError, ValueError):
            if "bank" not in fallback:
                from .cards import load_bank

                fallback["bank"] = load_bank(bank_dir, exercise_slugs)
            return fallback["bank"].card(record["id"]).model_dump(mode="json")

    return safe


def _write(index_file: Path, data_file: Path, key: str, index: CardIndex, bank: "Bank") -> None:
    """Best effort: a cache that cannot be written only costs time. The data goes first, the index last."""
    try:
        index_file.parent.mkdir(parents=True, exist_ok=True)
        lines, rows, offset = [], [], 0
        for record, card in zip(index.records, bank.cards):
            line = json.dumps(card.model_dump(mode="json"), ensure_ascii=False).encode() + b"\n"
            rows.append([record[f] for f in FIELDS] + [offset, len(line)])
            lines.append(line)
            offset += len(line)
        blob = b"".join(lines)
        _replace(data_file, blob)
        head = {"key": key, "size": len(blob), "topics": index.topics, "cards": rows}
        _replace(index_file, json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode())
    except OSError:
        pass


def _replace(path: Path, data: bytes) -> None:
    """`path` holds `data` at once or not at all; no temporary file is left behind, even by Ctrl-C."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
