"""Run a command and a pipeline: all pipes made up front, a poll() pump, waitid() to reap."""

from __future__ import annotations

import errno
import os
import select
import signal
from dataclasses import dataclass, field
from typing import NamedTuple


class Result(NamedTuple):
    returncode: int  # the exit status, or -N when killed by signal N
    stdout: bytes


class PipelineResult(NamedTuple):
    returncodes: list[int]  # one per stage, in the order of the stages
    stdout: bytes  # what the last stage wrote


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N for signal N."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    raise ValueError(f"status {status:#x} is neither an exit nor a death by signal")


def _code_of(info: os.waitid_result) -> int:
    """The same decoding as decode_status, from the siginfo waitid() fills in."""
    if info.si_code == os.CLD_EXITED:
        return info.si_status
    return -info.si_status  # CLD_KILLED or CLD_DUMPED: si_status is the signal


@dataclass
class _Plumbing:
    """Every pipe of a run: pipes[0] feeds stage 0, pipes[i] joins stage i-1 to stage i, pipes[-1] is the output."""

    stages: int
    pipes: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            for _ in range(self.stages + 1):
                self.pipes.append(os.pipe())
        except BaseException:
            self.close_all()
            raise

    def ends_of(self, stage: int) -> tuple[int, int]:
        return self.pipes[stage][0], self.pipes[stage + 1][1]

    @property
    def feed(self) -> int:
        return self.pipes[0][1]

    @property
    def output(self) -> int:
        return self.pipes[-1][0]

    def every_fd(self) -> list[int]:
        return [fd for pair in self.pipes for fd in pair]

    def close_all_but(self, keep: tuple[int, ...]) -> None:
        for fd in self.every_fd():
            if fd not in keep:
                os.close(fd)

    def close_all(self) -> None:
        self.close_all_but(())


def _become(argv: list[str], plumbing: _Plumbing, stage: int) -> None:
    """The child's side: wire 0 and 1, drop every pipe end, exec; on any failure, _exit(127)."""
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # an ignored SIGPIPE would survive exec
        read_end, write_end = plumbing.ends_of(stage)
        os.dup2(read_end, 0)  # dup2 makes 0 and 1 inheritable; the pipe ends stay close-on-exec
        os.dup2(write_end, 1)
        plumbing.close_all()
        os.execvp(argv[0], argv)
    except BaseException as exc:  # noqa: BLE001 - OSError, ValueError, anything: the child ends here
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else repr(exc)
        try:
            os.write(2, b"%s: %s\n" % (os.fsencode(argv[0] or "''"), text.encode()))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(127)


def _exchange(feed: int, data: bytes, output: int) -> bytes:
    """Feed `data` with non-blocking writes and read `output` to EOF, both in one poll() loop."""
    received = bytearray()
    poller = select.poll()
    pending = memoryview(data)
    if pending:
        os.set_blocking(feed, False)
        poller.register(feed, select.POLLOUT)
    else:
        os.close(feed)
        feed = -1
    poller.register(output, select.POLLIN)
    open_fds = {output} | ({feed} if feed >= 0 else set())
    try:
        while open_fds:
            for fd, events in poller.poll():
                if fd == output:
                    chunk = os.read(output, 65536)
                    if chunk:
                        received += chunk
                        continue
                    poller.unregister(output)
                    open_fds.discard(output)
                else:  # the feed is writable, or its reader is gone (POLLERR)
                    try:
                        pending = pending[os.write(feed, pending[:65536]) :]
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        if exc.errno != errno.EPIPE:
                            raise
                        pending = pending[:0]  # the stage stopped reading: drop the rest
                    if not pending:
                        poller.unregister(feed)
                        open_fds.discard(feed)
                        os.close(feed)
                        feed = -1
    finally:
        if feed >= 0:
            os.close(feed)
        os.close(output)
    return bytes(received)


def _go(commands: list[list[str]], data: bytes) -> tuple[list[int], bytes]:
    if not all(commands):
        raise ValueError("a command needs at least a program name")
    plumbing = _Plumbing(len(commands))
    pids: list[int] = []
    try:
        for stage, argv in enumerate(commands):
            pid = os.fork()
            if pid == 0:
                _become(argv, plumbing, stage)
            pids.append(pid)
    finally:
        plumbing.close_all_but((plumbing.feed, plumbing.output))
    try:
        output = _exchange(plumbing.feed, data, plumbing.output)
    finally:
        codes = [_code_of(os.waitid(os.P_PID, pid, os.WEXITED)) for pid in pids]
    return codes, output


def run(argv: list[str], stdin: bytes = b"") -> Result:
    """Run one command, feed it `stdin`, and capture its stdout."""
    codes, output = _go([argv], stdin)
    return Result(codes[0], output)


def pipeline(commands: list[list[str]], stdin: bytes = b"") -> PipelineResult:
    """Run `a | b | c`: every stage's status, in order, and the last stage's stdout."""
    if not commands:
        raise ValueError("a pipeline needs at least one command")
    codes, output = _go(commands, stdin)
    return PipelineResult(codes, output)
