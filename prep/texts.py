"""The texts of a card in two languages, without the card model (the quiz's first card must not wait for pydantic).

A text field is a plain string (English only: a learner's own bank) or both
languages side by side, `{en: ..., zh: ...}`: a `cards.Text`, or a dict when read
back from the bank cache.
"""

from __future__ import annotations

from typing import Any

LANGS = ("en", "zh")
LANG_NAMES = {"en": "English", "zh": "Chinese"}
TEXT_FIELDS = ("prompt", "answer", "explanation", "corrects")  # and each choice's text and why, each order item


def text_sides(value: Any) -> dict[str, str]:
    """The languages a text has, {"en": ..., "zh": ...}, without the empty ones; a plain string is English."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {"en": value} if value else {}
    get = value.get if isinstance(value, dict) else (lambda lang: getattr(value, lang, None))
    return {lang: get(lang) for lang in LANGS if get(lang)}


def text_in(value: Any, lang: str) -> str | None:
    """The text in `lang`, or the other side when that one is missing; a plain string as it is."""
    if value is None or isinstance(value, str):
        return value
    sides = text_sides(value)
    return sides.get(lang) or next(iter(sides.values()), "")
