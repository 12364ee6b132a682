"""Reap children from a SIGCHLD handler: waitid() in the handler, a socketpair as the wakeup fd, poll()."""

from __future__ import annotations

import os
import select
import signal
import socket
import time


def decode_status(status: int) -> int:
    """A waitpid() status as subprocess reports it: the exit code, or -N when killed by signal N."""
    return os.waitstatus_to_exitcode(status)  # exited: WEXITSTATUS; killed: -WTERMSIG


def _code(info: os.waitid_result) -> int:
    """What decode_status gives, from waitid()'s siginfo: CLD_EXITED carries the code, the others the signal."""
    return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status


class Reaper:
    """Starts children and reaps them from a SIGCHLD handler. Create it in the main thread."""

    def __init__(self) -> None:
        self._log: list[tuple[int, int]] = []  # (pid, code) in the order reaped; appended by the handler only
        self._mine: set[int] = set()
        self._closed = False
        self._inbox, self._bell = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._inbox.setblocking(False)
        self._bell.setblocking(False)
        self._poll = select.poll()
        self._poll.register(self._inbox.fileno(), select.POLLIN)
        self._was_handler = signal.signal(signal.SIGCHLD, self._sigchld)
        # the C-level handler writes the signal number to the bell at once, in whatever thread got it
        self._was_wakeup = signal.set_wakeup_fd(self._bell.fileno(), warn_on_full_buffer=False)

    def _sigchld(self, signum: int, frame: object) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG)
            except ChildProcessError:  # ECHILD: no children left
                break
            except OSError:
                break
            if info is None or info.si_pid == 0:  # children exist, none has ended
                break
            self._log.append((info.si_pid, _code(info)))

    def spawn(self, argv: list[str]) -> int:
        """fork + execvp argv; the child's pid. A child whose exec fails exits with 127."""
        if not argv:
            raise ValueError("spawn needs at least a program name")
        program = argv[0]
        pid = os.fork()
        if pid != 0:
            self._mine.add(pid)
            return pid
        try:
            os.execvp(program, argv)
        except BaseException as exc:  # noqa: BLE001 - the child must not return into Python code
            try:
                os.write(2, f"{program}: {exc}\n".encode("utf-8", "replace"))
            except BaseException:  # noqa: BLE001
                pass
        os._exit(127)

    def statuses(self) -> dict[int, int]:
        """pid -> decoded status of every child reaped so far (a new dict)."""
        return dict(self._log)  # one C call over the list: the handler cannot run in the middle

    def wait_all(self, timeout: float) -> bool:
        """True as soon as every spawned child has been reaped; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._mine.issubset(self.statuses()):
            ms = (deadline - time.monotonic()) * 1000
            if ms <= 0:
                return False
            if self._poll.poll(max(1, int(ms + 0.999))):  # the handler runs right after this returns
                try:
                    while self._inbox.recv(1024):
                        pass
                except BlockingIOError:
                    pass
        return True

    def close(self) -> None:
        """Put back the SIGCHLD handler and wakeup fd found at creation; close the socketpair."""
        if self._closed:
            return
        self._closed = True
        previous = self._was_handler
        signal.signal(signal.SIGCHLD, signal.SIG_DFL if previous is None else previous)
        signal.set_wakeup_fd(self._was_wakeup)  # before the bell is closed: the C handler must not write to it
        self._poll.unregister(self._inbox.fileno())
        self._inbox.close()
        self._bell.close()
