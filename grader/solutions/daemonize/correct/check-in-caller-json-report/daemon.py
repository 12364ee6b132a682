"""Daemonize (alternative): the pidfile is checked in the caller, the daemon reports in JSON,
descriptors are closed from the list in /proc/self/fd, and the pidfile is put in place with os.replace."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import tempfile


class AlreadyRunning(RuntimeError):
    pass


def _live_owner(path: str) -> int | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            text = f.read(32).strip()
    except FileNotFoundError:
        return None
    if not text.isdigit() or int(text) <= 0:
        return None
    pid = int(text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _close_inherited(keep: int) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            try:
                os.close(fd)
            except OSError:  # the descriptor of the listing itself, already gone
                pass


def _standard_streams(log: str | None) -> None:
    fds = [os.open(os.devnull, os.O_RDONLY)]
    target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else os.open(os.devnull, os.O_WRONLY)
    fds.append(target)
    if fds[0] != 0:
        os.dup2(fds[0], 0)
    for std in (1, 2):
        if target != std:
            os.dup2(target, std)
    for fd in fds:
        if fd > 2:
            os.close(fd)


def _place_pidfile(path: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".pid-")
    try:
        os.write(fd, b"%d\n" % os.getpid())
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)
    try:
        owner = _live_owner(path)
        if owner is not None and owner != os.getpid():
            raise AlreadyRunning(f"{path} names the running process {owner}")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def daemonize(pidfile: str, workdir: str = "/", umask: int = 0o022, stdout_path: str | None = None) -> int:
    pidfile = os.path.abspath(pidfile)
    log = os.path.abspath(stdout_path) if stdout_path is not None else None
    owner = _live_owner(pidfile)
    if owner is not None:
        raise AlreadyRunning(f"{pidfile} names the running process {owner}")
    sys.stdout.flush()
    sys.stderr.flush()
    r, w = os.pipe()
    child = os.fork()
    if child:
        os.close(w)
        data = b""
        try:
            while chunk := os.read(r, 1024):
                data += chunk
        finally:
            os.close(r)
        with contextlib.suppress(ChildProcessError):  # a caller ignoring SIGCHLD: the kernel reaped it
            os.waitpid(child, 0)
        try:
            report = json.loads(data)
        except ValueError:
            raise OSError(0, "the daemon ended before it was ready") from None
        if "pid" in report:
            return report["pid"]
        if report.get("running"):
            raise AlreadyRunning(report["message"])
        raise OSError(report.get("errno") or 0, report["message"])

    report: dict = {}
    try:
        os.close(r)
        os.setsid()
        if os.fork():
            os._exit(0)
        os.chdir(workdir)
        os.umask(umask)
        _standard_streams(log)
        _close_inherited(w)

        def stop(signum, frame):
            try:
                with open(pidfile, "rb") as f:
                    if f.read().strip() == b"%d" % os.getpid():
                        os.unlink(pidfile)
            except OSError:
                pass
            os._exit(0)

        signal.signal(signal.SIGTERM, stop)
        _place_pidfile(pidfile)
        report = {"pid": os.getpid()}
    except AlreadyRunning as exc:
        report = {"running": True, "message": str(exc)}
    except OSError as exc:
        report = {"errno": exc.errno, "message": str(exc)}
    except BaseException as exc:
        report = {"message": f"{type(exc).__name__}: {exc}"}
    os.write(w, json.dumps(report).encode())
    os.close(w)
    if "pid" not in report:
        os._exit(1)
    return 0
