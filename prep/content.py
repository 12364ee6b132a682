"""Where the shipped content (bank, exercises, grader, site) lives.

From a clone the content is the repository's top-level folders; after
`pip install .` it is package data under `prep/_content`. `PREP_BANK` (or
`--bank`) points at another bank folder.
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


def bank_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The bank folder: the override, else $PREP_BANK, else the shipped bank."""
    chosen = override or os.environ.get(BANK_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            source = "--bank" if override else f"${BANK_ENV}"
            raise NotFoundError(f"{source}: {path} is not a folder of card files")
        return path
    return root() / "bank"


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
