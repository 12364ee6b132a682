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
from typer.core import TyperGroup, TyperOption

from ..errors import PrepError
from .app import State, err

PROBLEMS_SHOWN = 10

_display_type_rich = TyperOption.display_type_rich


def _flag_without_type(self: TyperOption, ctx: click.Context) -> str | None:
    """A flag (--json, --cram, --help) takes no value: its help line shows no `<bool>`."""
    if self.is_flag and not self.count:
        return None
    return _display_type_rich(self, ctx)


TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]

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
        from .. import __version__

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


# `prep quiz` (and the commands beside it) registers only its own module: importing
# every command group costs ~250 ms, and the quiz's first card must show in under
# 300 ms. This applies only when prep itself is the program (never when a test or
# another program imports `app`) and the first word after the global options names
# one of these commands; anything else (`prep --help`, other commands) registers all.
LIGHT_COMMANDS = {"quiz": "quiz", "due": "quiz", "stats": "quiz"}
_OPTIONS_WITH_VALUE = {"--bank", "--db"}


def _light_module(argv: list[str]) -> str | None:
    if not argv or not argv[0]:
        return None
    program = Path(argv[0])
    if program.name != "prep" and program.resolve() != Path(__file__).resolve().parent.parent / "__main__.py":
        return None
    args = argv[1:]
    i = 0
    while i < len(args):
        word = args[i]
        if word in _OPTIONS_WITH_VALUE:
            i += 2
        elif word.split("=", 1)[0] in _OPTIONS_WITH_VALUE:
            i += 1
        elif word.startswith("-"):
            return None  # --help, --version, completion: they need every command
        else:
            return LIGHT_COMMANDS.get(word)
    return None


def _register_all() -> None:
    light = _light_module(sys.argv)
    if light is not None:
        __import__(f"{__name__}.{light}", fromlist=["register"]).register(app)
        return
    from . import bank as bank_cli

    bank_cli.register(app)
    for name in ("notes", "quiz", "card", "progress", "exercises", "sandbox", "site", "server"):
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
