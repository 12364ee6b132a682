"""The `prep` command line: parses, calls one library function, prints.

Data goes to stdout (`--json` where a command returns data), everything else to
stderr. Foreseeable problems are PrepError: one `Error: ...` line and an exit
code (1 input, 2 usage, 3 environment, 4 progress database); never a traceback.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from typer.core import TyperGroup, TyperOption

from ..errors import PrepError
from .app import State, err, report

_display_type_rich = TyperOption.display_type_rich


def _flag_without_type(self: TyperOption, ctx: typer.Context) -> str | None:
    """A flag (--json, --cram, --help) takes no value: its help line shows no `<bool>`."""
    if self.is_flag and not self.count:
        return None
    return _display_type_rich(self, ctx)


TyperOption.display_type_rich = _flag_without_type  # type: ignore[method-assign]


_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_NOT_SIMPLE = object()


def _simple_value(descriptor: Any, value: Any, param: Any, ctx: Any) -> Any:
    """The value typer's pydantic adapter would give for a plainly valid str, int or Path, else _NOT_SIMPLE.

    Only values whose result is certain: a str for a str; an integer spelt in digits (or an int
    within the option's min and max) for an int; a non-empty str or a Path for a Path, then checked by
    typer's own path rules (exists, file_okay, ...). Anything else, every error included, is left to
    the adapter, so messages and edge cases stay typer's. tests/test_cli.py compares the two.
    """
    from typer._param_types import coerce_cli_path, lenient_issubclass

    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if (info.parser is not None or descriptor.file_annotation is not None or descriptor.is_choice
            or descriptor.is_list or descriptor.is_tuple or getattr(info, "click_type", None) is not None):
        return _NOT_SIMPLE
    if annotation is str:
        return value if type(value) is str else _NOT_SIMPLE
    if annotation is int and not getattr(info, "clamp", False):
        if type(value) is str and _INTEGER.fullmatch(value):
            number = int(value)
        elif type(value) is int:
            number = value
        else:
            return _NOT_SIMPLE
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            return _NOT_SIMPLE  # the adapter says why, in typer's words
        return number
    if lenient_issubclass(annotation, Path) and info.path_type is None and descriptor.is_path:
        if type(value) is str and value:
            value = annotation(value)
        if not isinstance(value, annotation):
            return _NOT_SIMPLE
        return coerce_cli_path(value, info, path_type=annotation, param=param, ctx=ctx)
    return _NOT_SIMPLE


def _defer_typers_adapters() -> None:
    """Import pydantic for an option's value only when typer's own rules cannot settle it.

    typer (0.2x) coerces every parameter through a pydantic TypeAdapter, and builds it (importing
    pydantic, ~100 ms) even for an option left out: `prep quiz --help` paid for it through the
    global --bank, and `prep quiz` with $PREP_DB set paid for it before the first card. Now a value
    of None is answered by typer's own RuntimeParam.coerce (None, or () for a list: it never needs
    the adapter), a plainly valid str, int or Path by _simple_value, and anything else by the
    adapter, built then, as before. A typer without this machinery is left as it is.
    """
    try:
        from typer._coercion import RuntimeParam
        from typer.core import _TyperParameter
    except ImportError:
        return
    build = getattr(_TyperParameter, "get_runtime_param", None)
    if build is None or not hasattr(RuntimeParam, "coerce"):
        return

    class Deferred:
        def __init__(self, param: Any) -> None:
            self.param = param

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            return RuntimeParam.coerce(self, value, param=param, ctx=ctx)  # type: ignore[arg-type]

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            simple = _simple_value(self.param.type_descriptor, value, param, ctx)
            if simple is not _NOT_SIMPLE:
                return simple
            return build(self.param)._coerce_value(value, param=param, ctx=ctx)

    _TyperParameter.get_runtime_param = lambda self: Deferred(self)  # type: ignore[method-assign]


_defer_typers_adapters()

try:  # typer >= 0.20 runs its own copy of click
    from typer._click import exceptions as _click_errors
except ImportError:  # pragma: no cover - an older typer on click itself
    from click import exceptions as _click_errors


class _Group(TyperGroup):
    """Turns every PrepError raised below into `Error: ...` and its exit code, and every error of
    the option parser (an unknown option or command, a value of the wrong type) into one line."""

    def make_context(self, info_name, args, parent=None, **extra):  # type: ignore[no-untyped-def, override]
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _click_errors.UsageError as exc:
            if isinstance(exc, getattr(_click_errors, "NoArgsIsHelpError", ())):
                raise  # `prep` alone: the help
            err(usage_line(exc, info_name or "prep"))
            raise typer.Exit(exc.exit_code) from None

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]  # the command, when an error does not say
        try:
            return super().invoke(ctx)
        except PrepError as exc:
            report(exc)
            ctx.exit(exc.exit_code)
        except _click_errors.UsageError as exc:
            if isinstance(exc, getattr(_click_errors, "NoArgsIsHelpError", ())):
                raise  # `prep bank` alone: the group's help
            command = words[0] if words and words[0] in self.list_commands(ctx) else ""
            err(usage_line(exc, f"{ctx.command_path} {command}".strip()))
            ctx.exit(exc.exit_code)


_PYDANTIC_SAYS = {"int_parsing": "a whole number", "int_from_float": "a whole number", "float_parsing": "a number",
                  "bool_parsing": "yes or no"}


def usage_line(exc: Any, fallback: str) -> str:
    """One line for an error of the option parser: what is wrong, with which value, and where to look.

    `prep: no such command 'frobnicate' (did you mean 'history'?); see prep --help`
    """
    import difflib

    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None and len(ctx.command_path) >= len(fallback) else fallback
    plain_bad_value = isinstance(exc, _click_errors.BadParameter) and not isinstance(exc, _click_errors.MissingParameter)
    message = exc.message if plain_bad_value else exc.format_message()
    unknown = re.match(r"No such command '(.+?)'", message)
    if isinstance(exc, _click_errors.NoSuchOption):
        close = sorted(exc.possibilities or []) or difflib.get_close_matches(
            exc.option_name, [o for p in ctx.command.get_params(ctx) for o in p.opts] if ctx else [], n=3, cutoff=0.6)
        text = f"no such option {exc.option_name}"
        if close:
            text += f" (did you mean {', '.join(close)}?)"
    elif unknown and ctx is not None:
        word = unknown.group(1)
        close = difflib.get_close_matches(word, ctx.command.list_commands(ctx), n=3, cutoff=0.6)
        text = f"no such command '{word}'"
        if close:
            text += f" (did you mean {' or '.join(repr(c) for c in close)}?)"
    elif isinstance(exc, _click_errors.MissingParameter):
        text = message[0].lower() + message[1:].rstrip(".") if message else "a value is missing"
    elif isinstance(exc, _click_errors.BadParameter):
        param = exc.param
        name = (param.opts[0] if getattr(param, "param_type_name", "") == "option" and param.opts
                else ((param.metavar or param.name or "value").strip("[].").upper() if param is not None else "a value"))
        cause = exc.__cause__
        errors = cause.errors() if cause is not None and hasattr(cause, "errors") else []
        if errors:
            first = errors[0]
            kind = first.get("type", "")
            text = (f"{name} must be {_PYDANTIC_SAYS[kind]}, not {first.get('input')!r}" if kind in _PYDANTIC_SAYS
                    else f"{name}: {str(first.get('msg', '')).lower()}, not {first.get('input')!r}")
        else:
            text = f"{name}: {exc.message.rstrip('.')}"
    else:
        text = message[0].lower() + message[1:].rstrip(".") if message else "bad usage"
    return f"{where}: {' '.join(text.split())}; see {where} --help"


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
