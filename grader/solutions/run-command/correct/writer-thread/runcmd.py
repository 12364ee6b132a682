"""Run a command and a pipeline: one pipe created per stage as the stages start, a writer thread."""

from __future__ import annotations

import os
import signal
import threading
from typing import NamedTuple


class Result(NamedTuple):
    returncode: int  # the exit status, or -N when killed by signal N
    stdout: bytes


class PipelineResult(NamedTuple):
    returncodes: list[int]  # one per stage, in the order of the stages
    stdout: bytes  # what the last stage wrote


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N for signal N."""
    low = status & 0x7F
    if low == 0:  # exited: the code is in the second byte
        return (status >> 8) & 0xFF
    if low != 0x7F:  # killed by signal `low` (0x80 is the core-dump flag)
        return -low
    return (status >> 8) & 0xFF  # stopped: not reported by waitpid(pid, 0)


def _child(argv: list[str], fd_in: int, fd_out: int) -> None:
    """In the forked child: never returns."""
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if fd_in != 0:
            os.dup2(fd_in, 0)
        if fd_out != 1:
            os.dup2(fd_out, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # everything but 0, 1 and 2
        os.execvp(argv[0], argv)
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the child ends here
        try:
            os.write(2, f"runcmd: cannot run {argv[0]!r}: {exc}\n".encode("utf-8", "replace"))
        except BaseException:  # noqa: BLE001
            pass
    os._exit(127)


def _feed(fd: int, data: bytes, failure: list[BaseException]) -> None:
    """Blocking writes of all of `data`, then close: run in its own thread."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BrokenPipeError:
        pass  # the first stage stopped reading: the rest is dropped, as a shell does
    except BaseException as exc:  # noqa: BLE001 - raised again in the caller
        failure.append(exc)
    finally:
        os.close(fd)


def _drain(fd: int) -> bytes:
    out = bytearray()
    try:
        while chunk := os.read(fd, 1 << 16):
            out += chunk
    finally:
        os.close(fd)
    return bytes(out)


def _start(commands: list[list[str]]) -> tuple[list[int], int, int]:
    """Fork every stage left to right; return (pids, write end of stage 0's stdin, read end of the last stdout)."""
    feed_r, feed_w = os.pipe()
    pids: list[int] = []
    upstream = feed_r  # what the next stage reads
    try:
        for argv in commands:
            down_r, down_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                _child(argv, upstream, down_w)
            pids.append(pid)
            # the parent keeps none of this stage's ends but the one the next stage will read
            os.close(upstream)
            os.close(down_w)
            upstream = down_r
    except BaseException:
        os.close(upstream)
        os.close(feed_w)
        for pid in pids:
            os.waitpid(pid, 0)
        raise
    return pids, feed_w, upstream


def _execute(commands: list[list[str]], stdin: bytes) -> tuple[list[int], bytes]:
    for argv in commands:
        if len(argv) == 0:
            raise ValueError("a command needs at least a program name")
    pids, feed_w, out_r = _start(commands)
    failure: list[BaseException] = []
    writer = threading.Thread(target=_feed, args=(feed_w, stdin, failure), daemon=True)
    writer.start()
    output = _drain(out_r)
    writer.join()
    codes = [decode_status(os.waitpid(pid, 0)[1]) for pid in pids]
    if failure:
        raise failure[0]
    return codes, output


def run(argv: list[str], stdin: bytes = b"") -> Result:
    """Run one command, feed it `stdin`, and capture its stdout."""
    codes, output = _execute([list(argv)], stdin)
    return Result(codes[0], output)


def pipeline(commands: list[list[str]], stdin: bytes = b"") -> PipelineResult:
    """Run `a | b | c`: every stage's status, in order, and the last stage's stdout."""
    if len(commands) == 0:
        raise ValueError("a pipeline needs at least one command")
    codes, output = _execute([list(argv) for argv in commands], stdin)
    return PipelineResult(codes, output)


