"""State and output helpers shared by every command group."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:  # imported where used: pydantic and sqlite-utils cost ~100 ms at startup
    import sqlite_utils

    from .. import cards

out = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def err(message: str) -> None:
    """A line for people, on stderr, without rich markup surprises."""
    errors.print(message, markup=False)


def report_lint(problems: list[Any], where: str, clean: str) -> None:
    """A lint's problems to stdout, one `file:line: id: message` a line, and its verdict to stderr.

    Exit 1 when there are problems ("N problems in WHERE"); else the `clean` line.
    """
    import typer

    for problem in problems:
        out.print(str(problem), markup=False)
    if problems:
        noun = "problem" if len(problems) == 1 else "problems"
        err(f"{len(problems)} {noun} in {where}")
        raise typer.Exit(1)
    err(clean)


@dataclass
class State:
    """What every command may need, opened lazily so `--help` stays instant."""

    bank: Path | None = None
    db_path: Path | None = None
    _bank: cards.Bank | None = field(default=None, repr=False)
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    def bank_dir(self) -> Path:
        from .. import content

        return content.bank_dir(self.bank)

    def load_bank(self) -> cards.Bank:
        if self._bank is None:
            from .. import cards, content

            self._bank = cards.load_bank(self.bank_dir(), content.exercise_slugs())
        return self._bank

    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            from .. import store

            self._db = store.open_db(self.db_path)
        return self._db


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Data to stdout: JSON for scripts, or the human rendering."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        render(data)
