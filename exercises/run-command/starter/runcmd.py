"""Run a command and a pipeline with fork, exec, pipe, dup2 and waitpid.

Read README.md (`prep exercise show run-command`) for what each function must do.
Check your work with `prep test run-command .`, then `prep submit run-command .`.
The subprocess module, os.system, os.popen and os.posix_spawn are not allowed.
"""

from __future__ import annotations

import os  # noqa: F401 - you need os.fork, os.pipe, os.dup2, os.execvp, os.waitpid, os._exit
from typing import NamedTuple


class Result(NamedTuple):
    returncode: int  # the exit status, or -N when killed by signal N
    stdout: bytes


class PipelineResult(NamedTuple):
    returncodes: list[int]  # one per stage, in the order of the stages
    stdout: bytes  # what the last stage wrote


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N for signal N."""
    raise NotImplementedError("not implemented: decode_status: use os.WIFSIGNALED, os.WTERMSIG and os.WEXITSTATUS")


def run(argv: list[str], stdin: bytes = b"") -> Result:
    """Run one command, feed it `stdin`, and capture its stdout."""
    raise NotImplementedError("not implemented: run: fork, and in the child dup2 the pipes onto 0 and 1, then execvp")


def pipeline(commands: list[list[str]], stdin: bytes = b"") -> PipelineResult:
    """Run `a | b | c`: every stage's status, in order, and the last stage's stdout."""
    raise NotImplementedError("not implemented: pipeline: one pipe between each pair of stages")
