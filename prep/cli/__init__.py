"""The `prep` command line: parses, calls one library function, prints.

Data goes to stdout (`--json` where a command returns data), everything else to
stderr. Foreseeable problems are PrepError: one `Error: ...` line and an exit
code (1 input, 2 usage, 3 environment, 4 progress database); never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import click
import typer
from typer.core import TyperGroup

from .. import __version__
from ..errors import PrepError
from .app import State, err

PROBLEMS_SHOWN = 10

class _Group(TyperGroup):
    """Turns every PrepError raised below into `Error: ...` and its exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except PrepError as exc:
            report(exc)
            ctx.exit(exc.exit_code)


def report(exc: PrepError) -> None:
    err(f"Error: {exc}")
    problems = getattr(exc, "problems", [])
    for problem in problems[:PROBLEMS_SHOWN]:
        err(f"  {problem}")
    if len(problems) > PROBLEMS_SHOWN:
        err(f"  ... and {len(problems) - PROBLEMS_SHOWN} more: run `prep bank lint` to see them all")


app = typer.Typer(
    cls=_Group,
    name="prep",
    help="Interview prep for Linux systems programming: a question bank, a spaced-repetition quiz and an auto-grader.\n\nExample: prep quiz",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"prep {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    bank: Optional[Path] = typer.Option(
        None, "--bank", envvar="PREP_BANK", help="A folder of card files to use instead of the shipped bank.", show_envvar=True
    ),
    db: Optional[Path] = typer.Option(
        None, "--db", envvar="PREP_DB", help="The progress database (default: in your user data folder).", show_envvar=True
    ),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    ctx.obj = State(bank=bank, db_path=db)


def _register_all() -> None:
    from . import bank as bank_cli

    bank_cli.register(app)
    for name in ("notes", "quiz", "progress", "exercises", "sandbox", "site"):
        try:
            module = __import__(f"{__name__}.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        module.register(app)


_register_all()


def main() -> None:
    """Console entry point: run the app, turning PrepError into one line and an exit code."""
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] == "":
        os.environ.pop("NO_COLOR")  # the NO_COLOR convention: only a non-empty value counts
    try:
        app()
    except PrepError as exc:  # raised outside a command (e.g. while parsing options)
        report(exc)
        sys.exit(exc.exit_code)
