"""Turn the calling process into a daemon: fork, setsid, fork, chdir, umask,
descriptors, pidfile, SIGTERM.

Reference solution.
"""

from __future__ import annotations

import os
import signal
import sys


class AlreadyRunning(RuntimeError):
    """The pidfile names a process that is still running."""


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except InterruptedError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it is just not ours
        return True
    return True


def _pidfile_owner(path: str) -> int | None:
    """The live pid the pidfile names, or None (no file, garbage, or a dead process)."""
    try:
        with open(path, "rb") as f:
            text = f.read(64).strip()
    except FileNotFoundError:
        return None
    try:
        pid = int(text)
    except ValueError:
        return None
    return pid if _pid_alive(pid) else None  # os.kill(pid, 0) says whether it runs


def _write_pidfile(path: str) -> None:
    """Atomically: the pidfile appears whole (write a temporary file, then link or rename it)."""
    pid = os.getpid()
    tmp = f"{path}.{pid}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, f"{pid}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        while True:
            try:
                os.link(tmp, path)  # fails if the pidfile exists: nobody else can win the same race
                return
            except FileExistsError:
                owner = _pidfile_owner(path)
                if owner is not None and owner != pid:
                    raise AlreadyRunning(f"{path} names process {owner}, which is running")
                os.rename(tmp, path)  # stale: replace it, atomically
                return
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _redirect_standard_fds(stdout_path: str | None) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    out = null if stdout_path is None else os.open(stdout_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    for fd in {null, out}:
        if fd > 2:
            os.close(fd)


def daemonize(pidfile: str, workdir: str = "/", umask: int = 0o022, stdout_path: str | None = None) -> int:
    """Returns twice, like fork: the daemon's pid in the caller (once the daemon is ready), 0 in the daemon."""
    pidfile = os.path.abspath(pidfile)
    if stdout_path is not None:
        stdout_path = os.path.abspath(stdout_path)
    for stream in (sys.stdout, sys.stderr):  # or the buffered text is written again by the daemon
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass

    ready_r, ready_w = os.pipe()
    first = os.fork()
    if first > 0:  # the caller
        os.close(ready_w)
        try:
            report = _read_all(ready_r)
        finally:
            os.close(ready_r)
        while True:
            try:
                os.waitpid(first, 0)  # the first child exits at once: reap it
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
        kind, _, detail = report.decode("utf-8", "replace").partition(" ")
        if kind == "ok":
            return int(detail)
        if kind == "running":
            raise AlreadyRunning(detail)
        if kind == "oserror":
            errno_text, _, message = detail.partition(" ")
            raise OSError(int(errno_text), message)
        raise RuntimeError(f"the daemon failed to start: {report.decode('utf-8', 'replace') or 'no report'}")

    # the first child: not a process group leader, so setsid() works
    try:
        os.close(ready_r)
        os.setsid()
        if os.fork() > 0:
            os._exit(0)  # the session leader goes; the daemon can never reacquire a terminal
        # the daemon
        os.chdir(workdir)
        os.umask(umask)
        _redirect_standard_fds(stdout_path)
        os.closerange(3, ready_w)
        os.closerange(ready_w + 1, _max_fd())
        for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())

        def on_sigterm(signum, frame):
            try:
                with open(pidfile, "rb") as f:
                    mine = f.read(64).strip() == str(os.getpid()).encode()
                if mine:
                    os.unlink(pidfile)
            except OSError:
                pass
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, on_sigterm)
        _write_pidfile(pidfile)
    except AlreadyRunning as exc:
        _report(ready_w, f"running {exc}")
        os._exit(1)
    except OSError as exc:
        _report(ready_w, f"oserror {exc.errno or 0} {exc}")
        os._exit(1)
    except BaseException as exc:
        _report(ready_w, f"error {type(exc).__name__}: {exc}")
        os._exit(1)
    _report(ready_w, f"ok {os.getpid()}")
    return 0


def _report(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def _max_fd() -> int:
    try:
        return max(os.sysconf("SC_OPEN_MAX"), 256)
    except (ValueError, OSError):
        return 65536
