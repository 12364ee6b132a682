"""Where the shipped content (bank, exercises, grader, site) lives, and which bank is in use.

From a clone the content is the repository's top-level folders; after
`pip install .` it is package data under `prep/_content`: the installed copy,
replaced by the next install. `--bank DIR`, `PREP_BANK` or `bank = "DIR"` in the
settings file point at another bank folder (`prep bank init DIR` makes one).
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import NotFoundError

_PACKAGE = Path(__file__).resolve().parent
BANK_ENV = "PREP_BANK"


def root() -> Path:
    """The folder holding bank/, exercises/, grader/ and site/."""
    installed = _PACKAGE / "_content"
    if (installed / "bank").is_dir():
        return installed
    clone = _PACKAGE.parent
    if (clone / "bank").is_dir():
        return clone
    raise NotFoundError(
        f"cannot find the content folders next to {_PACKAGE}: reinstall prep, or pass --bank DIR"
    )


def installed_root() -> Path:
    """Where `pip install .` puts the content (package data, replaced by every install)."""
    return _PACKAGE / "_content"


def bank_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The bank folder: the override, else $PREP_BANK, else `bank` of the settings file, else the shipped bank."""
    chosen = override or os.environ.get(BANK_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            source = "--bank" if override else f"${BANK_ENV}"
            raise NotFoundError(f"{source}: {path} is not a folder of card files (`prep bank init {path}` makes one)")
        return path
    from .settings import bank_setting

    setting = bank_setting()
    if setting is not None:
        path, where = setting
        if not path.is_dir():
            raise NotFoundError(f"{where}: bank = {str(path)!r} is not a folder of card files "
                                f"(`prep bank init {path}` makes one)")
        return path
    return root() / "bank"


def shipped_bank() -> Path:
    """The bank that comes with prep (in a clone, the repository's bank/)."""
    return root() / "bank"


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(path).resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def is_shipped_bank(path: Path) -> bool:
    """Whether `path` is the bank that comes with prep (installed, or the clone's bank/)."""
    try:
        return Path(path).resolve() == shipped_bank().resolve()
    except (NotFoundError, OSError):
        return False


def is_installed_copy(path: Path) -> bool:
    """Whether `path` lies in the installed copy of the content, which the next install replaces."""
    return _inside(path, installed_root())


INSTALLED_COPY_NOTE = "the installed copy: edits are lost on upgrade; `prep bank init DIR` makes one of your own"


def card_location(bank: Path, file: str | os.PathLike[str], line: int | None = None) -> str:
    """Where a card is, for a message: `PATH:LINE`, and when that is the installed copy, a warning saying so.

    Every message naming a card's file uses it (the quiz's `e` too), e.g.
    `.../prep/_content/bank/tcp.yaml:12 (the installed copy: edits are lost on upgrade; ...)`.
    """
    path = Path(bank) / file
    where = f"{path}:{line}" if line is not None else str(path)
    return f"{where} ({INSTALLED_COPY_NOTE})" if is_installed_copy(path) else where


BANK_FILES = ("*.yaml", "cards.schema.json")


def init_bank(target: Path, source: Path | None = None) -> list[Path]:
    """Copy the shipped bank (card files, topics.yaml, skips.yaml, the schema) into `target`; the files written.

    `target` must not exist or be an empty folder: nothing of the learner's is overwritten.
    """
    import shutil

    from .errors import InputError

    source = source or shipped_bank()
    target = Path(target).expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: is a file; give a folder that does not exist yet or is empty")
    if target.is_dir() and any(target.iterdir()):
        raise InputError(f"{target}: the folder is not empty; give a new or empty folder (nothing was copied)")
    if target.resolve() == source.resolve():
        raise InputError(f"{target}: is the shipped bank itself; give another folder")
    files = sorted({p for pattern in BANK_FILES for p in source.glob(pattern) if p.is_file()})
    try:
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for path in files:
            shutil.copyfile(path, target / path.name)
            written.append(target / path.name)
    except OSError as exc:
        raise InputError(f"{target}: cannot write the bank: {exc.strerror or exc}") from None
    return written


def exercises_dir() -> Path:
    return root() / "exercises"


def grader_dir() -> Path:
    return root() / "grader"


def site_dir() -> Path:
    return root() / "site"


def exercise_slugs() -> set[str]:
    """The slugs of the shipped exercises (folders holding an exercise.yaml)."""
    folder = exercises_dir()
    if not folder.is_dir():
        return set()
    return {p.parent.name for p in folder.glob("*/exercise.yaml")}
