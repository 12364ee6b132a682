"""The bank as the quiz needs it, cached so a session starts fast.

Parsing and validating 2,000 cards of YAML takes about half a second; the quiz
shows its first card in well under that by reading a JSON cache of the validated
bank, keyed on the name, size and mtime of every bank file (and the exercise
slugs and the card model's version): its usable cards and the problems that keep
the others out, reported again from the cache on every run until they are fixed.
Any change to a file, or a cache that cannot be read, means a full load, which
validates and reports problems as usual; for the quiz, after its first card (see
`load_index`). A card is built as a `cards.Card` only when it is shown.
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
    from .cards import Bank, Card
    from .errors import Problem

CACHE_FORMAT = 4
SHOWN_PROBLEMS = 5  # of a bank's problems, the quiz names these before it goes on without their cards
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
        self._unchecked: Callable[[], CardIndex] | None = None  # the full load a cold start left for later (see settle)
        self._checked: CardIndex | Exception | None = None
        self._saving = threading.Lock()
        self.lang = "en"  # the language `card` gives a card in

    @classmethod
    def from_bank(cls, bank: "Bank") -> "CardIndex":
        # title and description as written: a string, or {en, zh} (see cards.text_in)
        topics = {t.id: t.model_dump(mode="json", include={"title", "description"}) for t in bank.topics.values()}
        records = [_record(card) for card in bank.cards]
        return cls(bank.root, topics, records, cards={card.id: card for card in bank.cards})

    def save(self) -> None:
        """Write the bank cache that load_index(write_later=True) held back, once; from any thread.

        A bank read unchecked is checked first (see `settle`): the cache holds the checked bank, with its problems.
        """
        with self._saving:
            self._check()
            write, self._unsaved = self._unsaved, None
            if write is not None:
                write()

    def _check(self) -> None:
        """The deferred full load, once (the caller holds the lock); its result waits for `settle`."""
        if self._unchecked is None or self._checked is not None:
            return
        try:
            checked = self._checked = self._unchecked()
        except Exception as exc:  # BankError, or anything else: raised by `settle`, on the main thread
            self._checked = exc
            return
        self._unsaved, checked._unsaved = checked._unsaved, None

    @property
    def checked(self) -> bool:
        """Whether the cards and problems are the validated bank's (not a cold start's unchecked reading)."""
        return self._unchecked is None

    def settle(self) -> "list[Problem] | None":
        """Go on with the validated bank in place of the unchecked reading of a cold start (on the thread
        that reads the index): its cards, without those that have a problem, and the problems.

        None when there was nothing to settle (the index came checked, or is settled already). The
        check runs here unless `save` ran it already (the quiz's warm-up does, while the first card is read).
        Raises what the full load raises (BankError when no card is usable).
        """
        if self._unchecked is None:
            return None
        with self._saving:
            self._check()
        checked, self._unchecked = self._checked, None
        if isinstance(checked, Exception):
            raise checked
        assert checked is not None
        self.topics, self.records, self._by_id = checked.topics, checked.records, checked._by_id
        self._cards, self._load = checked._cards, None
        self._localized.clear()
        self.problems = checked.problems
        return self.problems

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
    bank_dir: Path, exercise_slugs: set[str] | None = None, keep_going: bool = False, write_later: bool = False,
    check_later: bool = False,
) -> CardIndex:
    """The bank's card index: from the cache when every file is unchanged, else loaded and cached.

    The cache is two files: a small index (one row a card, with the offset of its
    data) read at startup, and the cards' data, one JSON line a card, read one card
    at a time as cards are shown.

    With keep_going, cards that have a problem are left out instead of failing the
    load, and `problems` on the index lists why (from the cache too: they are reported
    on every run until fixed). Without it, a bank with problems is loaded in full, for
    cards.load_bank to raise BankError.

    With write_later, a cache to write is left to the index's `save`: the quiz shows the
    first card first and writes it while the learner reads (or at the end).

    With check_later too (and keep_going), a bank that is not cached is read without the card
    model when every file is plainly shaped (see `_read_unchecked`): the quiz's first card does not
    wait for pydantic (~150 ms) or for validating the whole bank. The index must then be settled
    (`settle`) before a card is graded: the cards with a problem leave it then.
    """
    try:
        key = _fingerprint(bank_dir, exercise_slugs)
    except OSError:
        key = None
    index_file, data_file = _cache_files(bank_dir)
    if key is not None:
        try:
            data = json.loads(index_file.read_text(encoding="utf-8"))
            if data.get("key") == key and data_file.stat().st_size == data["size"] and (keep_going or not data["problems"]):
                records = [dict(zip((*FIELDS, "offset", "length"), row)) for row in data["cards"]]
                index = CardIndex(bank_dir, data["topics"], records, _robust(_line_loader(data_file, data["size"]), bank_dir, exercise_slugs))
                if data["problems"]:
                    from .errors import Problem

                    index.problems = [Problem(*row) for row in data["problems"]]
                return index
        except (OSError, ValueError, KeyError, TypeError):
            pass
    already_read: dict[Path, Any] = {}  # the card files the unchecked reading read: not read again
    if check_later and keep_going and write_later:
        unchecked = _read_unchecked(bank_dir, already_read)
        if unchecked is not None:
            topics, records, raw = unchecked
            index = CardIndex(bank_dir, topics, records, lambda record: _as_dumped(raw[record["id"]]))
            index._unchecked = lambda: _full_load(bank_dir, exercise_slugs, key, already_read)
            return index
    return _full_load(bank_dir, exercise_slugs, key, already_read, keep_going=keep_going, write_later=write_later)


def _full_load(
    bank_dir: Path, exercise_slugs: set[str] | None, key: str | None, already_read: Any = None,
    keep_going: bool = True, write_later: bool = True,
) -> CardIndex:
    """The bank validated (`cards.load_usable_cards` with keep_going, else `cards.load_bank`), and its cache write."""
    from .cards import load_bank, load_usable_cards

    if keep_going:
        bank, problems = load_usable_cards(bank_dir, exercise_slugs, already_read)
    else:
        bank, problems = load_bank(bank_dir, exercise_slugs), []
    index = CardIndex.from_bank(bank)
    index.problems = problems
    if key is not None:
        index_file, data_file = _cache_files(bank_dir)
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
                from .cards import load_usable_cards

                fallback["bank"] = load_usable_cards(bank_dir, exercise_slugs)[0]
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
        problems = [[p.file, p.line, p.card_id, p.message, p.language, p.warning] for p in index.problems]
        head = {"key": key, "size": len(blob), "topics": index.topics, "cards": rows, "problems": problems}
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


# --- a cold start without the card model ------------------------------------------------

_CARD_TYPES = ("recall", "single", "multi", "short", "order")
# what a card that leaves a field out holds there (cards.Card's defaults; a test holds them equal)
CARD_DEFAULTS: dict[str, Any] = {
    "answer": "", "explanation": "", "tags": [], "difficulty": "medium", "refs": [], "source": None, "zh": [],
    "choices": None, "accept": [], "items": None, "corrects": None, "exercise": None, "draft": False,
}


def _read_unchecked(
    bank_dir: Path, already_read: dict[Path, Any]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], dict[str, dict[str, Any]]] | None:
    """The bank's topics, card records and raw cards by id, straight from the files; each file as read
    goes in `already_read` (for the full load, which needs it either way).

    None, for a full load, unless every file is plainly shaped: read_card_file reads it, its topic
    is declared, its top level is `topic` and `cards`, each card is `_showable`, no id is used twice.
    Anything finer (a wrong type inside a field, a rule of the bank) is the full load's to find.
    """
    from .bank_yaml import TOPICS_FILE, card_files, infer_type, read_card_file

    read = read_card_file(bank_dir / TOPICS_FILE)
    entries = read[0].get("topics") if read is not None else None
    if type(entries) is not list or not all(type(e) is dict and type(e.get("id")) is str for e in entries):
        return None
    topics = {e["id"]: {"title": _text(e.get("title")), "description": _text(e.get("description"))} for e in entries}
    records: list[dict[str, Any]] = []
    raw_by_id: dict[str, dict[str, Any]] = {}
    for path in card_files(bank_dir):
        read = already_read[path] = read_card_file(path)
        if read is None:
            return None
        (data, lines), topic = read, read[0].get("topic")
        if topic not in topics or set(data) != {"topic", "cards"} or type(data["cards"]) is not list:
            return None
        for raw, line in zip(data["cards"], lines):
            if not _showable(raw) or raw["id"] in raw_by_id:
                return None
            raw_by_id[raw["id"]] = raw
            records.append({
                "id": raw["id"], "topic": topic, "tags": list(raw.get("tags", ())), "draft": raw.get("draft", False),
                "type": raw.get("type") or infer_type(raw), "file": path.name, "line": line,
            })
    return (topics, records, raw_by_id) if records else None


def _is_text(value: Any) -> bool:
    if type(value) is str:
        return True
    return type(value) is dict and bool(value) and set(value) <= {"en", "zh"} and all(
        type(v) is str for v in value.values())


def _is_list_of(value: Any, test: Callable[[Any], bool]) -> bool:
    return type(value) is list and all(test(v) for v in value)


def _showable(raw: Any) -> bool:
    """Whether a raw card is shaped well enough to be shown, answered and graded before it is validated:
    every field the quiz reads is there with the kind of value it reads (the model checks the rest)."""
    if type(raw) is not dict or type(raw.get("id")) is not str or not _is_text(raw.get("prompt")):
        return False
    if raw.get("type", "recall") not in _CARD_TYPES or type(raw.get("draft", False)) is not bool:
        return False
    if not all(raw.get(name) is None or _is_text(raw[name]) for name in ("answer", "explanation", "corrects")):
        return False
    if not all(_is_list_of(raw.get(name, []), lambda v: type(v) is str) for name in ("tags", "zh", "accept")):
        return False
    if not _is_list_of(raw.get("refs", []), lambda r: type(r) is str or (type(r) is dict and type(r.get("title")) is str)):
        return False
    choices, items, source = raw.get("choices"), raw.get("items"), raw.get("source")
    if choices is not None and not _is_list_of(choices, lambda c: type(c) is dict and _is_text(c.get("text"))
                                               and (c.get("why") is None or _is_text(c["why"]))):
        return False
    if items is not None and not _is_list_of(items, _is_text):
        return False
    return source is None or type(source) is dict


def _text(value: Any) -> Any:
    """A text as the card model gives it back: a string, or both sides ({en, zh}, a missing one None)."""
    return {"en": value.get("en"), "zh": value.get("zh")} if type(value) is dict else value


def _as_dumped(raw: dict[str, Any]) -> dict[str, Any]:
    """A `_showable` card as `cards.Card.model_validate(raw).model_dump(mode="json")` gives it, were it valid."""
    from .bank_yaml import infer_type
    from .texts import TEXT_FIELDS

    data = {**CARD_DEFAULTS, **raw, "type": raw.get("type") or infer_type(raw)}
    for name in TEXT_FIELDS:
        data[name] = _text(data[name])
    for name in ("tags", "zh", "accept"):
        data[name] = list(data[name])
    data["refs"] = [{"title": r, "url": None} if type(r) is str else {"title": r["title"], "url": r.get("url")} for r in data["refs"]]
    if data["choices"] is not None:
        data["choices"] = [{"text": _text(c["text"]), "correct": c.get("correct", False), "why": _text(c.get("why"))}
                           for c in data["choices"]]
    if data["items"] is not None:
        data["items"] = [_text(item) for item in data["items"]]
    if data["source"] is not None:
        data["source"] = dict(data["source"])
    return data
