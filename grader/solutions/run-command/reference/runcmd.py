"""Run commands and pipelines with fork, exec, pipe, dup2 and waitpid (reference solution)."""

from __future__ import annotations

import os
import selectors
import signal
from typing import NamedTuple


class Result(NamedTuple):
    returncode: int  # the exit status, or -N when killed by signal N
    stdout: bytes


class PipelineResult(NamedTuple):
    returncodes: list[int]  # one per stage, in the order of the stages
    stdout: bytes  # what the last stage wrote


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N for signal N."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _spawn(argv: list[str], stdin_fd: int, stdout_fd: int, close: list[int]) -> int:
    pid = os.fork()
    if pid == 0:  # child: wire the descriptors, then become the program; never return
        try:
            # Python ignores SIGPIPE; an ignored signal stays ignored across exec, so restore
            # the default or `yes | head -n1` never ends `yes` with SIGPIPE.
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.dup2(stdin_fd, 0)
            os.dup2(stdout_fd, 1)
            for fd in close:
                os.close(fd)
            os.execvp(argv[0], argv)
        except BaseException as exc:  # OSError for a missing program, ValueError for an empty name: never return
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            os.write(2, f"{argv[0]!r}: {reason}\n".encode())
        finally:
            os._exit(127)
    return pid


def _pump(stdin_w: int, data: bytes, stdout_r: int) -> bytes:
    """Write `data` to stdin_w and read stdout_r to EOF at the same time (no deadlock)."""
    chunks: list[bytes] = []
    sel = selectors.DefaultSelector()
    view = memoryview(data)
    if view:
        os.set_blocking(stdin_w, False)
        sel.register(stdin_w, selectors.EVENT_WRITE)
    else:
        os.close(stdin_w)
    sel.register(stdout_r, selectors.EVENT_READ)
    while sel.get_map():
        for key, _ in sel.select():
            if key.fd == stdout_r:
                chunk = os.read(stdout_r, 65536)
                if chunk:
                    chunks.append(chunk)
                else:
                    sel.unregister(stdout_r)
            else:
                try:
                    n = os.write(stdin_w, view[:65536])
                except BrokenPipeError:  # the command stopped reading: drop the rest
                    n = len(view)
                view = view[n:]
                if not view:
                    sel.unregister(stdin_w)
                    os.close(stdin_w)
    sel.close()
    os.close(stdout_r)
    return b"".join(chunks)


def run(argv: list[str], stdin: bytes = b"") -> Result:
    """Run one command, feed it `stdin`, capture its stdout."""
    return Result(*_run_stages([argv], stdin, single=True))


def pipeline(commands: list[list[str]], stdin: bytes = b"") -> PipelineResult:
    """Run `a | b | c`: every stage's status, and the last stage's stdout."""
    if not commands:
        raise ValueError("a pipeline needs at least one command")
    return PipelineResult(*_run_stages(commands, stdin, single=False))


def _run_stages(commands, stdin: bytes, single: bool):
    if any(not argv for argv in commands):
        raise ValueError("a command needs at least a program name")
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    # pipes[i] connects stage i to stage i + 1
    links = [os.pipe() for _ in commands[:-1]]
    reads = [in_r] + [r for r, _ in links]
    writes = [w for _, w in links] + [out_w]
    every_fd = [in_r, in_w, out_r, out_w] + [fd for pair in links for fd in pair]
    pids = []
    for i, argv in enumerate(commands):
        pids.append(_spawn(argv, reads[i], writes[i], every_fd))
    # the parent keeps only its own two ends: a copy of any other end would hide EOF or SIGPIPE
    for fd in every_fd:
        if fd not in (in_w, out_r):
            os.close(fd)
    output = _pump(in_w, stdin, out_r)
    codes = [decode_status(os.waitpid(pid, 0)[1]) for pid in pids]
    return (codes[0], output) if single else (codes, output)
