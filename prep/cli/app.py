"""State and output helpers shared by every command group: they live in `prep.cli_base`."""

from __future__ import annotations

from ..cli_base import (
    PROBLEMS_SHOWN,
    READ_ONLY_COMMANDS,
    State,
    current_command,
    emit,
    err,
    errors,
    lazy,
    line_table,
    out,
    plural,
    report,
    report_lint,
)

__all__ = [
    "PROBLEMS_SHOWN", "READ_ONLY_COMMANDS", "State", "current_command", "emit", "err", "errors", "lazy", "line_table",
    "out", "plural", "report", "report_lint",
]
