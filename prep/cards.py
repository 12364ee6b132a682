"""Cards: the models of a card file and the loader that validates a whole bank.

The loader reports every problem of a bank in one run, each as
`file:line: card-id: what is wrong`, and never returns half a bank.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import json
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, WithJsonSchema, model_validator

from .bank_yaml import (  # noqa: F401 - RESERVED_FILES: also cards.RESERVED_FILES
    RESERVED_FILES,
    SKIPS_FILE,
    TOPICS_FILE,
    BankLoader,
    Loader,
    card_files,
    infer_type,
    read_card_file,
)
from .errors import BankError, NotFoundError, Problem, UnknownOptionValue
from .texts import LANG_NAMES, LANGS, TEXT_FIELDS, text_in, text_sides  # noqa: F401 - also used as cards.text_in

SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG)]
CardType = Literal["recall", "single", "multi", "short", "order"]
Difficulty = Literal["easy", "medium", "hard"]
CHOICE_TYPES = ("single", "multi")
SCHEMA_FILE = "cards.schema.json"
# Required in the shipped bank besides id, type, prompt; a learner's own bank needs only the answer.
STRICT_FIELDS = ("answer", "explanation", "tags", "refs", "zh")
LENGTH_GIVEAWAY = 1.5  # a single card's right choice longer than this times every wrong one (English) is warned of


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1)]


class Text(_Strict):
    """A text in both languages side by side: `{en: ..., zh: ...}` (one side may be missing)."""

    en: NonEmpty | None = Field(None, description="The English text.")
    zh: NonEmpty | None = Field(None, description="The Chinese text.")

    @model_validator(mode="after")
    def _one_side(self) -> "Text":
        if self.en is None and self.zh is None:
            raise ValueError("a text needs `en` or `zh` (or both)")
        return self


# A text field: a plain string (English only: a learner's own bank) or {en, zh}.
TextField = NonEmpty | Text


class Choice(_Strict):
    text: TextField = Field(description="What the learner sees.")
    correct: bool = Field(False, description="Whether this choice is right.")
    why: TextField | None = Field(None, description="Why it is right or, required for wrong choices, the misconception.")


class Ref(_Strict):
    title: str = Field(min_length=1, description="e.g. `shutdown(2)`, `RFC 9293 §3.6`, a kernel file.")
    url: str | None = Field(None, pattern=r"^https?://", description="A link where one exists.")


_REFS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Authoritative references: `shutdown(2)`, `RFC 9293 §3.6`, or {title, url}.",
    "items": {
        "anyOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "minLength": 1},
                    "url": {"type": "string", "pattern": "^https?://"},
                },
                "required": ["title"],
                "additionalProperties": False,
            },
        ]
    },
}


class Source(_Strict):
    section: str = Field(pattern=r"^\d{1,2}/\d{1,2}$", description="The dated section of the notes, e.g. `3/19`.")
    lines: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, description="1-based line numbers in the notes.")


_NOWHERE = ("", "", 0)  # the topic, file and line of a card that no loader placed


class Card(_Strict):
    """One question. `id` is the key of the learner's progress: never change it."""

    id: Slug = Field(description="Stable slug; progress is keyed on it.")
    type: CardType
    prompt: TextField = Field(description="The question: a string (English) or {en, zh}.")
    answer: str | Text = Field("", description="At most three short sentences; for `short`, the canonical answer.")
    explanation: str | Text = Field("", description="Why the answer is right.")
    tags: list[Slug] = Field(default_factory=list)
    difficulty: Difficulty = "medium"
    # Written as a string or {title, url}; validated as Ref objects (see _refs_as_objects).
    refs: Annotated[list[Ref], WithJsonSchema(_REFS_SCHEMA)] = Field(default_factory=list)
    source: Source | None = Field(None, description="Where in the notes the fact comes from; required except for cards of a `canon` topic.")
    zh: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list, description="Chinese key terms of the notes.")
    choices: list[Choice] | None = None
    accept: list[str] = Field(default_factory=list, description="Other accepted short answers, in either language.")
    items: list[TextField] | None = Field(None, description="For `order`: the items in their right order.")
    corrects: TextField | None = Field(None, description="The notes' wrong claim that this card corrects.")
    exercise: Slug | None = Field(None, description="Slug of the exercise practising the same mechanism.")
    draft: bool = Field(False, description="An unfinished card: kept out of the quiz and the site.")

    # Set after validation, without defaults: pydantic fills the defaults of private attributes
    # one by one for every card it validates, a tenth of a cold 2,000-card load.
    _where: tuple[str, str, int] = PrivateAttr()  # topic, file and line, from the loader
    _answers: tuple[str, ...] = PrivateAttr()  # on a localized copy: every side of the answer

    @model_validator(mode="before")
    @classmethod
    def _refs_as_objects(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("refs"), list):
            data = dict(data)
            data["refs"] = [{"title": r} if isinstance(r, str) else r for r in data["refs"]]
        return data

    # Read from pydantic's store of private attributes directly: its __getattr__ for them
    # costs a failed attribute lookup a call, another tenth of that load.
    @property
    def topic(self) -> str:
        return self.__pydantic_private__.get("_where", _NOWHERE)[0]  # type: ignore[union-attr]

    @property
    def file(self) -> str:
        return self.__pydantic_private__.get("_where", _NOWHERE)[1]  # type: ignore[union-attr]

    @property
    def line(self) -> int:
        return self.__pydantic_private__.get("_where", _NOWHERE)[2]  # type: ignore[union-attr]

    def _other_sides(self) -> tuple[str, ...]:
        return self.__pydantic_private__.get("_answers", ())  # type: ignore[union-attr]

    @property
    def ref_list(self) -> list[Ref]:
        return list(self.refs)

    def accepts(self, typed: str) -> bool:
        """Whether a typed short answer matches the answer (either language) or one of its aliases."""
        answers = [*text_sides(self.answer).values(), *self._other_sides(), *self.accept]
        wanted = {normalise_answer(a) for a in answers}
        return normalise_answer(typed) in wanted

    def other_accepted(self) -> list[str]:
        """The accepted answers worth showing beside the answer: one of each spelling the matching
        rule tells apart (`int (*fp)(void*);` is `int (*fp)(void *)`), none the same as the answer."""
        seen = {normalise_answer(a) for a in text_sides(self.answer).values()}
        shown = []
        for answer in self.accept:
            key = normalise_answer(answer)
            if key not in seen:
                seen.add(key)
                shown.append(answer)
        return shown

    def in_lang(self, lang: str) -> "Card":
        """A copy whose text fields are plain strings in `lang` (the other side where `lang` is missing).

        The copy keeps accepting a short answer in either language.
        """
        update: dict[str, Any] = {name: text_in(getattr(self, name), lang) for name in TEXT_FIELDS}
        if self.choices is not None:
            update["choices"] = [
                c.model_copy(update={"text": text_in(c.text, lang), "why": text_in(c.why, lang)}) for c in self.choices
            ]
        if self.items is not None:
            update["items"] = [text_in(i, lang) for i in self.items]
        copy = self.model_copy(update=update)
        copy._answers = tuple(dict.fromkeys((*text_sides(self.answer).values(), *self._other_sides())))
        return copy

    def languages(self) -> set[str]:
        """The languages every text field of the card has."""
        return {lang for lang in LANGS if not self.missing_sides((lang,))}

    def missing_sides(self, langs: Iterable[str]) -> list[tuple[tuple[str | int, ...], str]]:
        """The text fields that lack a side in one of `langs`, as (location, message)."""
        texts: list[tuple[tuple[str | int, ...], Any]] = [((name,), getattr(self, name)) for name in TEXT_FIELDS]
        for i, choice in enumerate(self.choices or []):
            texts += [(("choices", i, "text"), choice.text), (("choices", i, "why"), choice.why)]
        texts += [(("items", i), item) for i, item in enumerate(self.items or [])]
        found: list[tuple[tuple[str | int, ...], str]] = []
        for loc, value in texts:
            if value is None or value == "":
                continue
            have = text_sides(value)
            for lang in langs:
                if lang not in have:
                    where = ".".join(map(str, loc))
                    found.append(((*loc, lang), f"`{where}` has no {LANG_NAMES[lang]} side (`{lang}:`)"))
        return found

    def problems(self, strict: bool = True) -> list[tuple[tuple[str | int, ...], str]]:
        """Rules across fields that the shape alone cannot say, as (location, message).

        `strict` (the shipped bank) also requires explanation, tags, refs and zh; a
        learner's own bank needs only the answer besides id and prompt.
        """
        found: list[tuple[tuple[str | int, ...], str]] = []
        if not self.draft:
            for name in (STRICT_FIELDS if strict else ("answer",)):
                if not getattr(self, name):
                    found.append(((name,), f"`{name}` is required (only drafts may leave it empty)"))
        if self.type in CHOICE_TYPES:
            found += self._choice_problems()
        elif self.choices is not None:
            found.append((("choices",), f"a `{self.type}` card has no `choices`"))
        if self.type == "order":
            if not self.items or len(self.items) < 2:
                found.append((("items",), "an `order` card needs `items` (at least 2, in the right order)"))
        elif self.items is not None:
            found.append((("items",), f"a `{self.type}` card has no `items`"))
        if self.accept and self.type != "short":
            found.append((("accept",), f"a `{self.type}` card has no `accept`"))
        return found

    def warnings(self) -> list[tuple[tuple[str | int, ...], str]]:
        """What a learner would notice but that does not stop the card: a right choice given away by its length."""
        if self.type != "single" or not self.choices:
            return []
        right = [(i, c) for i, c in enumerate(self.choices) if c.correct]
        wrong = [len(text_sides(c.text).get("en", "")) for c in self.choices if not c.correct]
        if len(right) != 1 or not wrong or not all(wrong):
            return []
        i, choice = right[0]
        length = len(text_sides(choice.text).get("en", ""))
        longest = max(wrong)
        if length <= LENGTH_GIVEAWAY * longest:
            return []
        return [(("choices", i, "text"),
                 f"the right choice is much longer than every wrong one ({length} characters, the longest wrong one "
                 f"{longest}): it gives itself away; shorten it or make the wrong ones as specific")]

    def _choice_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        if not self.choices:
            return [(("choices",), f"a `{self.type}` card needs `choices`")]
        found: list[tuple[tuple[str | int, ...], str]] = []
        right = [c for c in self.choices if c.correct]
        if not right:
            found.append((("choices",), "no choice is marked `correct: true`"))
        elif self.type == "single" and len(right) > 1:
            found.append((("choices",), f"a `single` card has {len(right)} correct choices; use `multi`"))
        if len(right) == len(self.choices):
            found.append((("choices",), "every choice is correct: add a wrong one"))
        for i, choice in enumerate(self.choices):
            if not choice.correct and not any(t.strip() for t in text_sides(choice.why).values()):
                found.append((("choices", i, "why"), "a wrong choice needs `why` (the misconception)"))
        return found


class CardFile(_Strict):
    """A file of the bank: one topic and its cards."""

    topic: Slug = Field(description="A topic id declared in topics.yaml.")
    cards: list[Card]


class Topic(_Strict):
    id: Slug
    title: TextField
    description: TextField
    canon: bool = Field(False, description="Beyond the notes: its cards have no `source` and cite primary references.")

    def in_lang(self, lang: str) -> "Topic":
        return self.model_copy(update={"title": text_in(self.title, lang), "description": text_in(self.description, lang)})


class Skip(_Strict):
    line: int = Field(ge=1)
    reason: str = Field(min_length=1)


_SPACE_AROUND_PUNCTUATION = re.compile(r"\s*([!-/:-@\[-^`{-~])\s*")  # ASCII punctuation, `_` aside
# A Chinese input method types full-width forms: U+FF01..U+FF5E are ASCII's ! to ~ (１４７２ is 1472).
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
OUTER_QUOTES = "`'\"“”‘’「」『』"
TRAILING_STOPS = ".;。"


def normalise_answer(text: str) -> str:
    """Case, outer quotes, a trailing full stop or `;` and white space do not matter.

    Full-width letters, digits and punctuation count as their ASCII forms, and
    Chinese quotes (“” ‘’ 「」 『』) and a trailing 。 as the ASCII ones, so an
    answer typed with a Chinese input method matches. Runs of white space count
    as one space, and white space beside ASCII punctuation (code's `(`, `,`,
    `|`, `*`...) as none, so `shutdown(fd,SHUT_WR)` is `shutdown(fd, SHUT_WR)`
    and `a | b` is `a|b`; between two words it stays one space (`unsigned int`
    is not `unsignedint`). site/static/answers.js is the same rule, in the browser.
    """
    text = text.translate(_FULL_WIDTH)
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(OUTER_QUOTES).rstrip(TRAILING_STOPS)
    text = _SPACE_AROUND_PUNCTUATION.sub(r"\1", text)
    return re.sub(r"\s+", " ", text).casefold()


@dataclass
class Bank:
    root: Path
    topics: dict[str, Topic]
    cards: list[Card]
    skips: list[Skip] = field(default_factory=list)
    languages: tuple[str, ...] = ()  # declared in topics.yaml; () means English (or either) only
    notes_sha256: str | None = None  # the notes the cards' `source` lines count in (skips.yaml `notes`)

    def __post_init__(self) -> None:
        self.by_id = {card.id: card for card in self.cards}

    def topic_title(self, topic: str, lang: str = "en") -> str:
        found = self.topics.get(topic)
        return text_in(found.title, lang) or topic if found else topic

    def card(self, card_id: str) -> Card:
        try:
            return self.by_id[card_id]
        except KeyError:
            raise unknown_card(card_id, self.by_id, self.root) from None

    def tags(self, include_drafts: bool = False) -> dict[str, int]:
        """Every tag with its number of cards, most used first."""
        counts: dict[str, int] = {}
        for card in self.cards:
            if include_drafts or not card.draft:
                for tag in card.tags:
                    counts[tag] = counts.get(tag, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def select(self, topic: str | None = None, tag: str | None = None, include_drafts: bool = False) -> list[Card]:
        if topic is not None and topic not in self.topics:
            raise unknown_topic(topic, self.topics)
        if tag is not None and tag not in {t for c in self.cards for t in c.tags}:
            raise unknown_tag(tag, {t for c in self.cards for t in c.tags})
        return [
            c
            for c in self.cards
            if (include_drafts or not c.draft)
            and (topic is None or c.topic == topic)
            and (tag is None or tag in c.tags)
        ]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`did you mean 'x'?` for the known words closest to a mistyped one, or ""."""
    close = difflib.get_close_matches(word, sorted(known), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def unknown_topic(topic: str, topics: Iterable[str]) -> UnknownOptionValue:
    """The error for a --topic (or a topic argument) the bank does not declare."""
    known = sorted(topics)
    guess = did_you_mean(topic, known)
    return UnknownOptionValue(f"unknown topic {topic!r}{f' ({guess})' if guess else ''}; the topics are: {', '.join(known)}")


def unknown_tag(tag: str, tags: Iterable[str]) -> UnknownOptionValue:
    """The error for a --tag no card carries."""
    guess = did_you_mean(tag, tags)
    return UnknownOptionValue(f"unknown tag {tag!r}{f' ({guess})' if guess else ''}; `prep bank tags` lists the tags")


def unknown_card(card_id: str, ids: Iterable[str], root: Path | str) -> NotFoundError:
    """The error for a card id the bank does not hold."""
    guess = did_you_mean(card_id, ids)
    hint = f"{guess} `prep bank list` lists them" if guess else "try `prep bank list`"
    return NotFoundError(f"no card with id {card_id!r} in {root} ({hint})")


def choice_order(card: Card) -> list[int]:
    """The card's choices shuffled the same way every time (seeded by its id), for what is built once.

    The bank lists the right choice first; a deck or a page that kept that order
    would teach "pick the first". The quiz shuffles afresh at every showing instead.
    """
    order = list(range(len(card.choices or [])))
    random.Random(f"choices|{card.id}").shuffle(order)
    return order


# --- loading -------------------------------------------------------------------------


def compose_yaml(path: Path, shown: str, problems: list[Problem]) -> tuple[yaml.Node | None, Any]:
    """Parse one YAML file, keeping the node tree for line numbers; (None, None) and a problem when it cannot."""
    try:
        loader = BankLoader(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(shown, 1, "-", f"cannot read the file: {exc}"))
        return None, None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # The context mark is where the broken construct opened (an unclosed bracket),
        # which is where the fix goes; the problem mark is only where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        problems.append(Problem(shown, line, "-", f"bad YAML: {what}"))
        return None, None
    finally:
        loader.dispose()
    return node, data


def line_at(node: yaml.Node | None, loc: Iterable[str | int]) -> int:
    """The line of the deepest node reachable along a validation error's location."""
    if isinstance(node, _NodeOnDemand):
        node = node.node()
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for step in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


_BRANCHES = {"str", "constrained-str", "Text"}  # how pydantic names the sides of `str | Text` in a location


def clean_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A text field's errors for the form that was written: a string's, or {en, zh}'s; never both.

    Pydantic tries a value against both forms of `str | Text` and reports both failures,
    under locations such as `prompt.constrained-str` and `prompt.Text`.
    """
    def split(error: dict[str, Any]) -> tuple[tuple[Any, ...], str | None, tuple[Any, ...]]:
        loc = tuple(error["loc"])
        for i, step in enumerate(loc):
            if step in _BRANCHES or (isinstance(step, str) and step.startswith("function-") and step.endswith("Text]")):
                return loc[:i], "str" if "str" in step else "text", loc[i + 1:]
        return loc, None, ()

    was_mapping = {split(e)[0] for e in errors if split(e)[1] == "str" and e["type"] == "string_type"}
    kept = []
    for error in errors:
        base, branch, rest = split(error)
        if branch is None:
            kept.append(error)
        elif (branch == "text") == (base in was_mapping):
            if error["type"] == "model_type":  # neither a string nor a mapping
                error = {**error, "type": "text_form"}
            kept.append({**error, "loc": (*base, *rest)})
    return kept


def _shown(value: Any) -> str:
    """A written value, as a learner would recognise it in the file."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…'"


_SLUG_FIELDS = {"id", "tags", "topic", "exercise"}


def describe_error(error: dict[str, Any], docs: str = "docs/cards.md") -> str:
    """One validation error in prep's own words (never the validation library's), pointing at `docs` for the fields."""
    loc = [p for p in error["loc"] if not isinstance(p, str) or not p.startswith("function-")]
    where = ".".join(str(p) for p in loc)
    field_name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    kind = error["type"]
    value = error.get("input")
    ctx = error.get("ctx") or {}
    subject = f"`{where}`" if where else "this entry"
    if kind == "missing":
        return f"{subject} is missing"
    if kind == "extra_forbidden":
        return f"unknown field `{where}` (see {docs} for the fields)"
    if kind == "literal_error":
        return f"{subject} must be {ctx.get('expected', 'one of the listed values')}, not {_shown(value)}"
    if kind == "text_form":
        return f"{subject} must be a string or {{en: ..., zh: ...}}, not {_shown(value)}"
    if kind in ("string_too_short",) or (kind == "too_short" and value in ("", [], None)):
        return f"{subject} is empty"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"{subject} needs at least {least} item{'' if least == 1 else 's'}"
    if kind == "string_pattern_mismatch":
        if field_name in _SLUG_FIELDS:
            return (f"{subject} must be a slug (lower-case letters, digits and single hyphens, "
                    f"e.g. `time-wait`), not {_shown(value)}")
        if field_name == "section":
            return f"{subject} must be a dated section such as \"3/19\", not {_shown(value)}"
        if field_name == "url":
            return f"{subject} must start with http:// or https://, not {_shown(value)}"
        return f"{subject} has the wrong form: {_shown(value)} (see {docs})"
    if kind == "string_type":
        return f"{subject} must be text, not {_shown(value)}"
    if kind == "list_type":
        return f"{subject} must be a list (`[a, b]` or one `- item` a line), not {_shown(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{subject} must be true or false, not {_shown(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{subject} must be a whole number, not {_shown(value)}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{subject} must be {ctx.get('ge', ctx.get('gt', 1))} or more, not {_shown(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{subject} must be a mapping of fields (see {docs}), not {_shown(value)}"
    if kind == "value_error" and ctx.get("error"):
        return f"{subject}: {ctx['error']}"
    return f"{subject} cannot be {_shown(value)} (see {docs} for what it holds)"


def _load_registry(bank: Path, problems: list[Problem]) -> tuple[dict[str, Topic], tuple[str, ...]]:
    path = bank / TOPICS_FILE
    if not path.is_file():
        problems.append(Problem(TOPICS_FILE, 1, "-", "the topic registry is missing"))
        return {}, ()
    node, data = compose_yaml(path, TOPICS_FILE, problems)
    topics: dict[str, Topic] = {}
    languages: tuple[str, ...] = ()
    if isinstance(data, dict):
        for key in sorted(set(data) - {"topics", "languages"}):
            problems.append(Problem(TOPICS_FILE, line_at(node, (key,)), "-", f"unknown top-level field `{key}`"))
        declared = data.get("languages")
        if declared is not None:
            if isinstance(declared, list) and declared and all(lang in LANGS for lang in declared):
                languages = tuple(lang for lang in LANGS if lang in declared)
            else:
                problems.append(Problem(TOPICS_FILE, line_at(node, ("languages",)), "-",
                                        f"`languages` must be a list of {' and '.join(LANGS)}, e.g. [en, zh]"))
    entries = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        problems.append(Problem(TOPICS_FILE, 1, "-", "expected `topics:` with a list of {id, title, description}"))
        return {}, languages
    for i, entry in enumerate(entries):
        try:
            topic = Topic.model_validate(entry)
        except ValidationError as exc:
            for err in clean_errors(exc.errors()):
                line = line_at(node, ("topics", i, *err["loc"]))
                problems.append(Problem(TOPICS_FILE, line, str((entry or {}).get("id", "-")), describe_error(err)))
            continue
        topics[topic.id] = topic
    return topics, languages


def _load_notes_fingerprint(bank: Path) -> str | None:
    """The sha256 of the notes file whose lines the cards' `source` and the skips count (skips.yaml
    `notes: {sha256: ...}`): a learner's file with the same content is matched by line number."""
    path = bank / SKIPS_FILE
    if not path.is_file():
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, yaml.YAMLError):
        return None  # _load_skips reports it
    notes = data.get("notes") if isinstance(data, dict) else None
    digest = notes.get("sha256") if isinstance(notes, dict) else None
    return digest if isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest) else None


def _load_skips(bank: Path, problems: list[Problem]) -> list[Skip]:
    path = bank / SKIPS_FILE
    if not path.is_file():
        return []
    node, data = compose_yaml(path, SKIPS_FILE, problems)
    entries = (data or {}).get("skips") if isinstance(data, (dict, type(None))) else None
    skips = []
    for i, entry in enumerate(entries or []):
        try:
            skips.append(Skip.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors():
                problems.append(Problem(SKIPS_FILE, line_at(node, ("skips", i, *err["loc"])), "-", describe_error(err)))
    return skips


class _NodeOnDemand:
    """A card file's node tree, composed only when a problem needs a line (see read_card_file)."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path, self.shown = path, shown
        self._node: list[yaml.Node | None] = []

    def node(self) -> yaml.Node | None:
        if not self._node:
            self._node.append(compose_yaml(self.path, self.shown, [])[0])
        return self._node[0]


def _load_card_file(
    path: Path, shown: str, topics: dict[str, Topic], problems: list[Problem], languages: tuple[str, ...] = (),
    strict: bool = True, read: tuple[dict[str, Any], list[int]] | None = None,
) -> list[Card]:
    """The file's valid cards; its problems go to `problems`. `read`: what read_card_file gave, when already read."""
    read = read or read_card_file(path)
    if read is None:  # anything out of the ordinary: the node tree, and its errors
        node, data = compose_yaml(path, shown, problems)
        item_lines = None
    else:
        data, item_lines = read
        node = _NodeOnDemand(path, shown)
    if node is None and data is None:
        if not any(p.file == shown for p in problems):
            problems.append(Problem(shown, 1, "-", "the file is empty: expected `topic:` and `cards:`"))
        return []
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, "-", "expected a mapping with `topic:` and `cards:`"))
        return []
    for key in sorted(set(data) - {"topic", "cards"}):
        problems.append(Problem(shown, line_at(node, (key,)), "-", f"unknown top-level field `{key}`"))
    topic = data.get("topic")
    if topic is None:
        problems.append(Problem(shown, 1, "-", "`topic` is missing"))
    elif topic not in topics:
        problems.append(
            Problem(shown, line_at(node, ("topic",)), "-", f"unknown topic {topic!r}: declare it in {TOPICS_FILE}")
        )
    raw_cards = data.get("cards")
    if not isinstance(raw_cards, list):
        problems.append(Problem(shown, line_at(node, ("cards",)), "-", "`cards` must be a list of cards"))
        return []
    cards = []
    canon = topic in topics and topics[topic].canon
    for i, raw in enumerate(raw_cards):
        card_id = str(raw.get("id", f"card #{i + 1}")) if isinstance(raw, dict) else f"card #{i + 1}"
        card_loc = ("cards", i)
        if not isinstance(raw, dict):
            problems.append(Problem(shown, line_at(node, card_loc), card_id,
                                    "a card must be a mapping of fields (`- id: ...` then `prompt:`, `answer:`...)"))
            continue
        if not strict and "type" not in raw:
            raw = {**raw, "type": infer_type(raw)}
        card, found = check_card(raw, strict=strict, canon=canon, languages=languages)
        for loc, message, kind in found:
            problems.append(Problem(shown, line_at(node, (*card_loc, *loc)), card_id, message,
                                    language=kind == "language" or kind == "language-warning",
                                    warning=kind in ("warning", "language-warning")))
        if card is None:
            continue
        card._where = (str(topic or ""), shown, item_lines[i] if item_lines is not None else line_at(node, card_loc))
        cards.append(card)
    return cards


_PLACEHOLDERS = {"id": "card", "type": "recall", "prompt": "?"}
_BY_TYPE = ("choices", "items", "accept")


def check_card(
    raw: dict[str, Any], strict: bool = True, canon: bool = False, languages: tuple[str, ...] = ()
) -> tuple[Card | None, list[tuple[tuple[str | int, ...], str, str]]]:
    """Validate one card and apply every rule; (the card or None, [(location, message, kind)]).

    kind is "error", "language" (a missing side: the card is still shown), "warning" or
    "language-warning" (a missing side in a learner's own bank). A card whose shape is
    wrong is checked again without the wrong fields, so one pass reports every problem.
    """
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    try:
        card: Card | None = Card.model_validate(raw)
        rules_on, bad = card, set()
    except ValidationError as exc:
        card = None
        errors = clean_errors(exc.errors())
        found += [(tuple(e["loc"]), describe_error(e), "error") for e in errors]
        bad = {e["loc"][0] for e in errors if e["loc"]}
        if "type" in bad:
            bad |= set(_BY_TYPE)
        reduced = {k: v for k, v in raw.items() if k not in bad}
        reduced.update({k: v for k, v in _PLACEHOLDERS.items() if k in bad or k not in reduced})
        try:
            rules_on = Card.model_validate(reduced)
        except ValidationError:
            rules_on = None
    if rules_on is None:
        return None, found
    rules = [(loc, message, "error") for loc, message in rules_on.problems(strict)]
    if strict and "difficulty" not in raw and not rules_on.draft:  # the model's default is for a learner's own bank
        rules.append((("difficulty",), "`difficulty` is required (easy, medium or hard)", "error"))
    if strict and rules_on.source is None and not canon:
        rules.append((("source",), "`source` is missing (only cards of a `canon: true` topic have none)", "error"))
    if not rules_on.draft:  # a draft is unfinished anyway
        side = "language" if strict else "language-warning"
        rules += [(loc, message, side) for loc, message in rules_on.missing_sides(languages)]
    rules += [(loc, message, "warning") for loc, message in rules_on.warnings()]
    found += [r for r in rules if r[0][0] not in bad]
    return card, found


def is_strict(bank: Path, languages: tuple[str, ...]) -> bool:
    """Whether the bank is held to the shipped bank's rules: it is the shipped bank and declares its languages.

    A learner's own bank (any other folder, or one without `languages`) needs only id,
    prompt and answer (and choices or items for those types).
    """
    if not languages:
        return False
    from .content import is_shipped_bank

    return is_shipped_bank(bank)


AlreadyRead = dict[Path, tuple[dict[str, Any], list[int]]]  # card files read_card_file has read, by path


def lint_bank(
    bank: Path, exercise_slugs: set[str] | None = None, strict: bool | None = None, already_read: AlreadyRead | None = None
) -> tuple[Bank, list[Problem]]:
    """Load every file of a bank and return it with every problem found (warnings too).

    `strict` None: the shipped bank's rules for the shipped bank, a learner's for any other (see is_strict).
    `already_read`: card files read before (bank_cache's cold start), not read again.
    """
    with _collector_paused():
        return _lint_bank(bank, exercise_slugs, strict, already_read or {})


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a bank loads: its hundreds of thousands of new objects
    (YAML nodes, marks, dicts) hold no cycles to free, yet made the collector scan them again and
    again (a quarter of a 2,000-card load's CPU time). Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _lint_bank(
    bank: Path, exercise_slugs: set[str] | None, strict: bool | None, already_read: AlreadyRead
) -> tuple[Bank, list[Problem]]:
    problems: list[Problem] = []
    topics, languages = _load_registry(bank, problems)
    if strict is None:
        strict = is_strict(bank, languages)
    skips = _load_skips(bank, problems)
    cards: list[Card] = []
    seen: dict[str, Card] = {}
    for path in card_files(bank):
        for card in _load_card_file(path, path.name, topics, problems, languages, strict, already_read.get(path)):
            first = seen.get(card.id)
            if first is not None:
                problems.append(
                    Problem(card.file, card.line, card.id, f"duplicate id: also at {first.file}:{first.line}")
                )
                continue
            seen[card.id] = card
            cards.append(card)
    if exercise_slugs is not None:
        for card in cards:
            if card.exercise and card.exercise not in exercise_slugs:
                problems.append(
                    Problem(card.file, card.line, card.id, f"`exercise: {card.exercise}` names no exercise in exercises/")
                )
    if not cards and not problems:
        problems.append(Problem(str(bank), 1, "-", "no card files (*.yaml) in this folder"))
    problems.sort(key=lambda p: (p.file, p.line))
    return Bank(root=bank, topics=topics, cards=cards, skips=skips, languages=languages,
                notes_sha256=_load_notes_fingerprint(bank)), problems


def load_bank(bank: Path, exercise_slugs: set[str] | None = None, strict: bool | None = None) -> Bank:
    """A fully valid bank (warnings aside), or BankError listing every problem."""
    loaded, problems = lint_bank(bank, exercise_slugs, strict)
    errors = [p for p in problems if not p.warning]
    if errors:
        raise BankError(errors)
    return loaded


def load_usable_cards(
    bank: Path, exercise_slugs: set[str] | None = None, already_read: AlreadyRead | None = None
) -> tuple[Bank, list[Problem]]:
    """The bank without the cards that have a problem, and the problems; BankError when no card is left.

    For the daily review: a typo in one card must not cost the learner the rest of
    the bank. A problem of a whole file (bad YAML, unknown topic) leaves out every
    card of that file; a problem of one card leaves out that card.
    """
    loaded, problems = lint_bank(bank, exercise_slugs, already_read=already_read)
    problems = [p for p in problems if p.language or not p.warning]  # a warning is lint's business, not the quiz's
    broken_files = {p.file for p in problems if p.card_id == "-"}
    broken_cards = {(p.file, p.card_id) for p in problems if not p.language}  # a missing side shows the other one
    usable = [c for c in loaded.cards if c.file not in broken_files and (c.file, c.id) not in broken_cards]
    if problems and not usable:
        raise BankError(problems)
    return Bank(root=loaded.root, topics=loaded.topics, cards=usable, skips=loaded.skips, languages=loaded.languages,
                notes_sha256=loaded.notes_sha256), problems


def card_file_schema() -> dict[str, Any]:
    """The JSON Schema of a card file, from the same model the loader validates with."""
    schema = CardFile.model_json_schema()
    text = schema["$defs"]["Text"]  # in a file a side is a string or absent (never null), and one is needed
    for lang in LANGS:
        text["properties"][lang] = {"type": "string", "minLength": 1, "description": text["properties"][lang]["description"]}
    text["minProperties"] = 1
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "prep card file",
        "description": "A topic of the prep bank and its cards. See docs/cards.md.",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def schema_text() -> str:
    return json.dumps(card_file_schema(), indent=2, ensure_ascii=False) + "\n"
