"""State and output helpers shared by every command group (`prep.cli.app` gives them to the groups).

Outside the `prep.cli` package, which builds the typer app (typer: ~30 ms), so that `prep quiz` and
`prep stats` reached directly (`prep.review_cli`) use them without it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:  # imported where used: pydantic and sqlite-utils cost ~100 ms at startup
    import sqlite_utils

    from . import cards

class _LazyModule(types.ModuleType):
    """A module not run yet: its first attribute use runs it, once, whichever threads ask at once.

    importlib.util.LazyLoader is not thread-safe before Python 3.12: it makes the module a plain one
    before running its code, so a second thread sees it half loaded (an AttributeError). Here the
    class changes only after the code ran, and the threads that come meanwhile wait on its lock.
    """

    def __getattribute__(self, attr: str) -> Any:
        if object.__getattribute__(self, "__class__") is _LazyModule:
            _load(self)
        return types.ModuleType.__getattribute__(self, attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        _load(self)
        types.ModuleType.__setattr__(self, attr, value)

    def __delattr__(self, attr: str) -> None:
        _load(self)
        types.ModuleType.__delattr__(self, attr)


_lazy_locks: dict[str, threading.RLock] = {}
_loading: set[str] = set()  # the modules whose code runs now (in the thread that holds their lock)


def _load(module: types.ModuleType) -> None:
    name = types.ModuleType.__getattribute__(module, "__name__")
    with _lazy_locks[name]:
        if object.__getattribute__(module, "__class__") is not _LazyModule or name in _loading:
            return  # loaded meanwhile, or its own code (or an import it makes) asks for its attributes
        _loading.add(name)
        try:
            spec = types.ModuleType.__getattribute__(module, "__spec__")
            spec.loader.exec_module(module)
            object.__setattr__(module, "__class__", types.ModuleType)
        finally:
            _loading.discard(name)


def lazy(name: str) -> Any:
    """The module `name`, loaded at its first attribute use: `--help` then imports only what it shows.

    pydantic, yaml, jinja2 and the like cost hundreds of milliseconds; a command group's
    module names them at the top, and only the command that runs pays for them. Safe to use
    from many threads at once (the server's grading threads): the first use loads it, the
    others wait for it whole.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    _lazy_locks.setdefault(name, threading.RLock())
    module.__class__ = _LazyModule
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


out = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def err(message: str) -> None:
    """A line for people, on stderr, without rich markup surprises."""
    errors.print(message, markup=False)


PROBLEMS_SHOWN = 10


def report(exc: Any) -> None:
    """A PrepError as people see it: `Error: ...`, then its problems (at most PROBLEMS_SHOWN)."""
    err(f"Error: {exc}")
    problems = getattr(exc, "problems", [])
    for problem in problems[:PROBLEMS_SHOWN]:
        err(f"  {problem}")
    if len(problems) > PROBLEMS_SHOWN:
        err(f"  ... and {len(problems) - PROBLEMS_SHOWN} more: run `prep bank lint` to see them all")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 card`, `2 cards`, `0 cards`; `nouns` for an irregular plural."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def report_lint(problems: list[Any], where: str, clean: str) -> None:
    """A lint's problems to stdout, one `file:line: id: message` a line, and its verdict to stderr.

    Exit 1 when there are problems ("N problems in WHERE"); else the `clean` line. Warnings
    (a problem with `warning` set) are listed too but leave the exit code at 0.
    """
    import typer

    for problem in problems:
        out.print(str(problem), markup=False)
    errors_found = [p for p in problems if not getattr(p, "warning", False)]
    warnings = len(problems) - len(errors_found)
    also = f" and {plural(warnings, 'warning')}" if warnings else ""
    if errors_found:
        err(f"{plural(len(errors_found), 'problem')}{also} in {where}")
        raise typer.Exit(1)
    err(clean + (f"; {plural(warnings, 'warning')} (worth a look, not errors)" if warnings else ""))


def line_table(headers: list[str], rows: list[list[str]], markup: bool = False, least: int = 20,
               whole: bool = False) -> None:
    """A table of one line a row where every column but the last keeps its whole width (an id is never split).

    The last column (a prompt, a title) takes the room left: cut with … when stdout is not
    a terminal (`prep due` does the same), folded onto more lines in a terminal. With `whole`,
    never cut: piped, each row is one line however long, with the last column whole.
    A cell may hold several lines (ids one a line, so that a terminal row stays narrow).
    """
    from rich.table import Table
    from rich.text import Text

    cells = [[Text.from_markup(c) if markup else Text(c) for c in row] for row in rows]

    def width(text: Text) -> int:
        return max(Text(line).cell_len for line in text.plain.split("\n"))

    widths = [max([len(h), *(width(row[i]) for row in cells)]) for i, h in enumerate(headers[:-1])]
    room = max(least, out.width - sum(widths) - 2 * len(widths))
    if whole and not out.is_terminal:
        room = max([least, len(headers[-1]), *(width(row[-1]) for row in cells)])
    table = Table(box=None, pad_edge=False)
    for header, column_width in zip(headers, widths):
        table.add_column(header, no_wrap=True, width=column_width, min_width=column_width)
    if out.is_terminal:
        table.add_column(headers[-1], overflow="fold", min_width=least)
    else:
        table.add_column(headers[-1], no_wrap=True, overflow="ellipsis", width=room)
    for row in cells:
        table.add_row(*row)
    # wider than the screen rather than an id cut: the columns before the last never shrink
    needed = sum(widths) + 2 * len(widths) + (room if whole and not out.is_terminal else least)
    if needed <= out.width:
        out.print(table)
        return
    screen = out.width
    out.width = needed
    try:
        out.print(table)
    finally:
        out.width = screen


@dataclass
class State:
    """What every command may need, opened lazily so `--help` stays instant."""

    bank: Path | None = None
    db_path: Path | None = None
    command: str | None = None  # the running command when no typer context says it (prep.review_cli)
    _bank: cards.Bank | None = field(default=None, repr=False)
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    def bank_dir(self) -> Path:
        from . import content

        return content.bank_dir(self.bank)

    def load_bank(self) -> cards.Bank:
        if self._bank is None:
            from . import cards, content

            self._bank = cards.load_bank(self.bank_dir(), content.exercise_slugs())
        return self._bank

    def db(self) -> sqlite_utils.Database:
        """The progress database; read-only for the commands that only read it (READ_ONLY_COMMANDS)."""
        if self._db is None:
            from . import store

            self._db = store.open_db(self.db_path, readonly=self.running() in READ_ONLY_COMMANDS)
        return self._db


    def running(self) -> str:
        return self.command if self.command is not None else current_command()


# Commands that only read progress: they open the database read-only (a read-only file works).
READ_ONLY_COMMANDS = {"stats", "due", "card info", "card held", "progress export"}


def current_command() -> str:
    """The running command without the program's name: `card info`, `stats`..."""
    try:  # typer >= 0.20 runs its own copy of click, with its own context stack
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - an older typer on click itself
        from click import get_current_context

    ctx = get_current_context(silent=True)
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Data to stdout: JSON for scripts, or the human rendering."""
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        render(data)
