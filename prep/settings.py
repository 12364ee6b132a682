"""Settings: a small TOML file in the user's config folder, one section per part of prep.

    # ~/.config/prep/settings.toml (Linux; $PREP_CONFIG names another file)
    [quiz]
    desired_retention = 0.9
    new_per_day = 20

A missing file means the defaults. A bad value is an InputError that names the
file and lists every bad value at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from .errors import InputError

SETTINGS_ENV = "PREP_CONFIG"
SETTINGS_FILE = "settings.toml"
LANGS = ("en", "zh")  # the languages of a bilingual bank (as prep.cards.LANGS, without importing the card model)
LEECH_ACTIONS = ("suspend", "flag")  # Anki's two leech actions: suspend the card, or only tag it


def settings_path() -> Path:
    """$PREP_CONFIG, else settings.toml in the platform's user config folder."""
    chosen = os.environ.get(SETTINGS_ENV)
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("prep", appauthor=False)) / SETTINGS_FILE


def read_section(name: str, path: Path | None = None) -> tuple[dict[str, Any], Path]:
    """The `[name]` table of the settings file ({} when the file or the table is absent)."""
    path = path or settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}, path
    except OSError as exc:
        raise InputError(f"{path}: cannot read the settings file: {exc.strerror}") from None
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: bad settings file: {exc}") from None
    section = data.get(name, {})
    if not isinstance(section, dict):
        raise InputError(f"{path}: `{name}` must be a table: write `[{name}]` above its settings")
    return section, path


def bank_setting(path: Path | None = None) -> tuple[Path, str] | None:
    """`bank = "DIR"` at the top of the settings file (above any [section]): the learner's own bank, and where it was set.

    A relative DIR counts from the settings file's folder; `~` is the home folder.
    """
    path = path or settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the settings file: {exc.strerror}") from None
    if b"bank" not in raw:  # no need to parse the file (the quiz's first card waits for this)
        return None
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: bad settings file: {exc}") from None
    value = data.get("bank")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f'{path}: `bank` must be the path of a folder, e.g. bank = "~/prep-bank", not {value!r}')
    folder = Path(value).expanduser()
    return (folder if folder.is_absolute() else path.parent / folder), f"{path}"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """`30s`, `1m`, `10m`, `2h`, `1d`."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 1m, 10m, 1h or 1d")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def format_duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


@dataclass(frozen=True)
class QuizSettings:
    """The `[quiz]` section. Every field has Anki's or FSRS's usual default."""

    desired_retention: float = 0.9
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval: int = 36500
    fuzz: bool = True
    new_per_day: int = 20
    reviews_per_day: int = 200
    leech_lapses: int = 8
    leech_action: str = "suspend"
    easy_seconds: float = 8.0
    day_starts_at: int = 4
    learn_ahead_minutes: int = 20
    lang: str = "en"

    DOC = {
        "desired_retention": "the probability of recall FSRS aims for when it schedules (0.7 to 0.99)",
        "learning_steps": "the steps of a new card before it graduates, e.g. [\"1m\", \"10m\"]",
        "relearning_steps": "the steps of a forgotten card, e.g. [\"10m\"]",
        "maximum_interval": "the longest interval in days",
        "fuzz": "spread review dates a little so cards learnt together do not stay together",
        "new_per_day": "new cards a day (--new overrides it for one session)",
        "reviews_per_day": "reviews a day",
        "leech_lapses": "lapses after which a card is a leech (and again every half as many lapses after that)",
        "leech_action": "what happens to a leech: \"suspend\" (out of every session until unsuspended) or \"flag\" (named, nothing more)",
        "easy_seconds": "a right choice, short or order answer given within this many seconds is rated Easy, else Good",
        "day_starts_at": "the hour (local time) at which a new day starts for limits, burying and stats",
        "learn_ahead_minutes": "when nothing else is left, show learning cards due within this many minutes",
        "lang": "the language cards are shown in: \"en\" or \"zh\" (--lang overrides it; l switches in the quiz; "
                "also the default of bank show, card info, notes check and the Anki export)",
    }

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "settings") -> "QuizSettings":
        """Validated settings, or one InputError listing every bad value."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        known = {f.name for f in fields(cls)}
        for key in sorted(set(data) - known):
            problems.append(f"unknown setting `{key}` (known: {', '.join(sorted(known))})")

        def number(key: str, kind: type, low: float, high: float) -> None:
            if key not in data:
                return
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
                problems.append(f"`{key}` must be {'an integer' if kind is int else 'a number'}, not {value!r}")
            elif not low <= value <= high:
                problems.append(f"`{key}` must be between {low:g} and {high:g}, not {value!r}")
            else:
                values[key] = kind(value)

        def steps(key: str) -> None:
            if key not in data:
                return
            value = data[key]
            if not isinstance(value, list):
                problems.append(f"`{key}` must be a list such as [\"1m\", \"10m\"], not {value!r}")
                return
            try:
                parsed = tuple(parse_duration(v) for v in value)
            except ValueError as exc:
                problems.append(f"`{key}`: {exc}")
                return
            if any(step.total_seconds() <= 0 or step >= timedelta(days=1) for step in parsed):
                problems.append(f"`{key}`: each step must be longer than 0 and shorter than a day")
                return
            values[key] = parsed

        number("desired_retention", float, 0.7, 0.99)
        number("maximum_interval", int, 1, 36500)
        number("new_per_day", int, 0, 9999)
        number("reviews_per_day", int, 0, 99999)
        number("leech_lapses", int, 1, 999)
        number("easy_seconds", float, 0, 3600)
        number("day_starts_at", int, 0, 23)
        number("learn_ahead_minutes", int, 0, 24 * 60)
        steps("learning_steps")
        steps("relearning_steps")
        if "leech_action" in data:
            if data["leech_action"] in LEECH_ACTIONS:
                values["leech_action"] = data["leech_action"]
            else:
                allowed = " or ".join(f'"{a}"' for a in LEECH_ACTIONS)
                problems.append(f"`leech_action` must be {allowed}, not {data['leech_action']!r}")
        if "lang" in data:
            if data["lang"] in LANGS:
                values["lang"] = data["lang"]
            else:
                problems.append(f"`lang` must be {' or '.join(repr(x) for x in LANGS)}, not {data['lang']!r}")
        if "fuzz" in data:
            if isinstance(data["fuzz"], bool):
                values["fuzz"] = data["fuzz"]
            else:
                problems.append(f"`fuzz` must be true or false, not {data['fuzz']!r}")
        if problems:
            raise InputError(f"{source}: " + "; ".join(problems))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = [format_duration(v) for v in value] if f.name.endswith("_steps") else value
        return data


def chosen_lang(flag: str | None, path: Path | None = None) -> str:
    """--lang when given, else `lang` of the [quiz] settings (English by default)."""
    if flag is not None:
        if flag not in LANGS:
            from .errors import UsageError

            raise UsageError(f"--lang must be {' or '.join(LANGS)}, not {flag!r}")
        return flag
    return quiz_settings(path).lang


def quiz_settings(path: Path | None = None) -> QuizSettings:
    section, where = read_section("quiz", path)
    return QuizSettings.from_mapping(section, f"{where} [quiz]")


@dataclass(frozen=True)
class ServerSettings:
    """The `[server]` section: the grading server `prep submit` sends to, and the learner's token there;
    on the server's own machines, its database and task queue (`prep server`, `prep server worker`)."""

    url: str | None = None
    token: str | None = None
    database: str | None = None
    broker: str | None = None
    where: str = ""


SERVER_KEYS = ("broker", "database", "token", "url")


def server_settings(path: Path | None = None) -> ServerSettings:
    section, where = read_section("server", path)
    problems = [f"unknown setting `{key}` (known: {', '.join(SERVER_KEYS)})"
                for key in sorted(set(section) - set(SERVER_KEYS))]
    for key in SERVER_KEYS:
        if key in section and (not isinstance(section[key], str) or not section[key].strip()):
            problems.append(f"`{key}` must be a non-empty string, not {section[key]!r}")
    if problems:
        raise InputError(f"{where} [server]: " + "; ".join(problems))
    return ServerSettings(url=section.get("url"), token=section.get("token"), database=section.get("database"),
                          broker=section.get("broker"), where=str(where))
