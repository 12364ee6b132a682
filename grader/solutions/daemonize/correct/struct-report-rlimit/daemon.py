"""Daemonize (alternative): a fixed-size binary report (struct), descriptors closed up to
RLIMIT_NOFILE, the pidfile claimed with link() and the liveness check made in the daemon."""

from __future__ import annotations

import errno
import os
import resource
import signal
import struct
import sys

READY, RUNNING, FAILED = 0, 1, 2
REPORT = struct.Struct("!Bii")  # kind, pid or errno, length of the message that follows


class AlreadyRunning(RuntimeError):
    pass


def _owner(path: str) -> int:
    """The pid a pidfile names if that process is alive, else 0."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        raw = os.read(fd, 64)
    finally:
        os.close(fd)
    try:
        pid = int(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return 0
    if pid < 1:
        return 0
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return pid if exc.errno == errno.EPERM else 0
    return pid


def _send(fd: int, kind: int, number: int, message: str = "") -> None:
    body = message.encode("utf-8", "replace")
    os.write(fd, REPORT.pack(kind, number, len(body)) + body)
    os.close(fd)


def _receive(fd: int) -> bytes:
    out = bytearray()
    while True:
        block = os.read(fd, 512)
        if not block:
            return bytes(out)
        out += block


def daemonize(pidfile: str, workdir: str = "/", umask: int = 0o022, stdout_path: str | None = None) -> int:
    here = os.getcwd()
    pidfile = os.path.join(here, pidfile)
    stdout_path = None if stdout_path is None else os.path.join(here, stdout_path)
    for stream in (sys.stderr, sys.stdout):
        stream.flush()
    rd, wr = os.pipe()
    first = os.fork()
    if first != 0:
        os.close(wr)
        try:
            raw = _receive(rd)
        finally:
            os.close(rd)
        try:
            os.waitpid(first, 0)
        except ChildProcessError:  # SIGCHLD ignored in the caller: the kernel reaped the first child itself
            pass
        if len(raw) < REPORT.size:
            raise ChildProcessError("the daemon exited before it reported")
        kind, number, _length = REPORT.unpack_from(raw)
        message = raw[REPORT.size:].decode("utf-8", "replace")
        if kind == READY:
            return number
        if kind == RUNNING:
            raise AlreadyRunning(message)
        raise OSError(number, message)

    try:
        os.close(rd)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        os.chdir(workdir)
        os.umask(umask)
        log = os.open(stdout_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if stdout_path else None
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null if log is None else log, 1)
        os.dup2(null if log is None else log, 2)
        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if limit == resource.RLIM_INFINITY or limit <= 0:
            limit = os.sysconf("SC_OPEN_MAX")
        os.closerange(3, wr)
        os.closerange(wr + 1, limit)

        def on_term(signum, frame):
            if _owner(pidfile) == os.getpid():
                os.unlink(pidfile)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, on_term)
        me = os.getpid()
        tmp = f"{pidfile}.new-{me}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, f"{me}\n".encode())
        os.close(fd)
        try:
            try:
                os.link(tmp, pidfile)
            except FileExistsError:
                other = _owner(pidfile)
                if other and other != me:
                    _send(wr, RUNNING, other, f"{pidfile} names process {other}, which is running")
                    os._exit(1)
                os.rename(tmp, pidfile)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        _send(wr, FAILED, exc.errno or 0, str(exc))
        os._exit(1)
    except BaseException as exc:
        _send(wr, FAILED, 0, repr(exc))
        os._exit(1)
    _send(wr, READY, os.getpid())
    return 0
