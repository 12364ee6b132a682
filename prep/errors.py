"""The errors the library raises. The CLI turns each into one line and an exit code."""

from __future__ import annotations

from dataclasses import dataclass


class PrepError(Exception):
    """Base class: a foreseeable problem the user can act on."""

    exit_code = 1


class InputError(PrepError):
    """The user's input (a file, a value, an id) is wrong."""

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """What is wrong at one line of a bank file (cards.lint_bank finds them)."""

    file: str
    line: int
    card_id: str
    message: str
    language: bool = False  # only a missing translation: the card is still usable (the other side is shown)
    warning: bool = False  # worth fixing, but lint passes and the card is used

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.card_id}: {'warning: ' if self.warning else ''}{self.message}"


class BankError(InputError):
    """The bank has problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"the bank has {len(problems)} {noun}")


class NotFoundError(InputError):
    """An id, slug or file that does not exist."""


class SubmissionTooLarge(InputError):
    """A submitted file, or the whole submission, is over its size limit."""


class UsageError(InputError):
    """A command-line option given a value it cannot take (exit 2, as for a usage mistake)."""

    exit_code = 2


class UnknownOptionValue(NotFoundError):
    """An option naming something that does not exist (--topic, --tag): a usage mistake, exit 2."""

    exit_code = 2


class EnvironmentProblem(PrepError):
    """Something the machine lacks: a Docker engine, an image, a browser, a writable folder."""

    exit_code = 3


class StoreError(PrepError):
    """The progress database cannot be used (corrupted, locked, unwritable)."""

    exit_code = 4
