"""A bank's YAML files read into plain data, without the card model.

The loader here resolves tags the safe loader's way, faster; `read_card_file` builds a
plain card file's data straight from the parser's events. `prep.cards` validates what
they give; the quiz's cold start reads a bank with them alone, so that its first card
does not wait for pydantic (see bank_cache.load_index).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:  # the C loader is several times faster; fall back when libyaml is absent
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover - depends on how pyyaml was built
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

STR_TAG = "tag:yaml.org,2002:str"
TOPICS_FILE = "topics.yaml"
SKIPS_FILE = "skips.yaml"
RESERVED_FILES = {TOPICS_FILE, SKIPS_FILE}


def card_files(bank: Path) -> list[Path]:
    """The bank's card files, in the order their cards are listed."""
    return sorted(p for p in bank.glob("*.yaml") if p.name not in RESERVED_FILES)


class BankLoader(Loader):  # type: ignore[misc, valid-type]
    """The safe loader, with the common case of its tag resolution first: a plain scalar whose first
    character no implicit resolver (int, float, bool, null, timestamp...) looks at is a string (most
    of a bank's text), without trying any pattern. Everything else is resolved as the safe loader does."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        resolvers = self.yaml_implicit_resolvers
        if (kind is yaml.ScalarNode and implicit[0] and value and value[0] not in resolvers
                and None not in resolvers and not self.yaml_path_resolvers):
            return STR_TAG
        return super().resolve(kind, value, implicit)


_MAP_TAGS = (None, "!", "tag:yaml.org,2002:map")
_SEQ_TAGS = (None, "!", "tag:yaml.org,2002:seq")
_SCALAR_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "timestamp")}


def read_card_file(path: Path) -> tuple[dict[str, Any], list[int]] | None:
    """A card file's data straight from the parser's events, and the line of each item of `cards`.

    What compose_yaml's node tree and the safe constructor give, without building the tree
    (most of the YAML's cost in a 2,000-card bank). Only for plain files: a mapping at the
    top, no anchors, aliases, merge keys or tags on collections, one `cards` key. Anything
    else, and every error, is None: the caller composes the file as before, and lines of
    problems come from the node tree, composed when one is reported.
    """
    try:
        loader = BankLoader(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    try:
        return _construct_from_events(loader)
    except Exception:  # an error of the YAML or of its data: compose_yaml reports it
        return None
    finally:
        loader.dispose()


_NO_KEY = object()  # an open mapping waits for its next key, not for a value
_KEY_TYPES = (str, int, float, bool, type(None))


def _construct_from_events(loader: Any) -> tuple[dict[str, Any], list[int]] | None:
    resolve, constructors, scalar_node = loader.resolve, loader.yaml_constructors, yaml.ScalarNode
    # BankLoader.resolve's fast case, inlined: this loop runs once for each of a bank's
    # hundred thousand scalars, and a call per scalar was a fifth of its time
    first_chars = loader.yaml_implicit_resolvers
    inline = None not in first_chars and not loader.yaml_path_resolvers
    resolved: dict[str, str] = {}  # a plain scalar's tag by its text ("true", "3", "medium" come back often)
    constructed: dict[tuple[str, str], Any] = {}
    # the open mapping or sequence, the key its next value goes to, and those of the ones around it
    top: Any = None
    key: Any = _NO_KEY
    in_list = False
    outer: list[tuple[Any, Any]] = []
    root: Any = None
    cards: list[Any] | None = None
    lines: list[int] = []
    documents = 0
    get_event = loader.get_event
    scalar, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None:
                return None
            tag, value = event.tag, event.value
            if tag is None or tag == "!":
                implicit = event.implicit
                if inline and implicit[0] and value and value[0] not in first_chars:
                    tag = STR_TAG
                elif implicit[0] and not implicit[1]:
                    tag = resolved.get(value)
                    if tag is None:
                        tag = resolved[value] = resolve(scalar_node, value, implicit)
                else:
                    tag = resolve(scalar_node, value, implicit)
            if tag != STR_TAG:
                if tag not in _SCALAR_TAGS:
                    return None
                made = constructed.get((tag, value), constructed)
                if made is constructed:  # null, bool, int, float and timestamp values are immutable: made once
                    node = scalar_node(tag, value, event.start_mark, event.end_mark, event.style)
                    made = constructed[tag, value] = constructors[tag](loader, node)
                value = made
            opened = False
        elif kind is mapping_start or kind is sequence_start:
            if event.anchor is not None or event.tag not in (_MAP_TAGS if kind is mapping_start else _SEQ_TAGS):
                return None
            value = {} if kind is mapping_start else []
            opened = True
        elif kind is mapping_end or kind is sequence_end:
            top, key = outer.pop()
            in_list = type(top) is list
            continue
        elif kind is yaml.StreamEndEvent:
            break
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                return None
            continue
        elif kind is yaml.AliasEvent:
            return None
        else:  # stream start, document end
            continue
        if in_list:
            if top is cards:
                lines.append(event.start_mark.line + 1)
            top.append(value)
        elif top is None:
            root = value
        elif key is _NO_KEY:
            if opened or value == "<<" or type(value) not in _KEY_TYPES:
                return None  # a collection or a merge key as a key: the constructor's business
            key = value
            continue
        else:
            if top is root and key == "cards":
                if cards is not None or "cards" in root:
                    return None  # `cards` twice: the node tree says which line is whose
                if type(value) is list:
                    cards = value
            top[key] = value
            key = _NO_KEY
        if opened:
            outer.append((top, key))
            top, key, in_list = value, _NO_KEY, kind is sequence_start
    if type(root) is not dict:
        return None
    return root, lines


def infer_type(raw: dict[str, Any]) -> str:
    """The type of a card of a learner's bank that does not say: from its choices or items, else recall."""
    if isinstance(raw.get("choices"), list):
        right = sum(1 for c in raw["choices"] if isinstance(c, dict) and c.get("correct") is True)
        return "single" if right == 1 else "multi"
    if isinstance(raw.get("items"), list):
        return "order"
    return "recall"
