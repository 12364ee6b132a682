"""close() versus shutdown(): a half-closing client and two forking servers (alternative: a wakeup fd and one event loop)."""

from __future__ import annotations

import os
import heapq
import selectors
import threading
import signal
import socket
import sys
import time


# ---------------------------------------------------------------- given: the work of one child


def reply_for(request: bytes) -> bytes:
    """What the server answers to a whole request: the request in upper case."""
    return request.upper()


def handle(conn: socket.socket) -> int:
    """Serve one connection in a child: read the request to EOF, send the reply.

    Returns the child's exit status: 0 when the reply was sent, 1 when the
    connection failed (reset by the client, or shut down before the reply).
    """
    chunks = []
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
        conn.sendall(reply_for(b"".join(chunks)))
    except (BrokenPipeError, ConnectionResetError):
        return 1
    return 0


# ---------------------------------------------------------------- (a) the client: a reading thread


def request(host: str, port: int, data: bytes) -> bytes:
    with socket.create_connection((host, port)) as sock:
        got: list[bytes] = []
        failure: list[BaseException] = []

        def read() -> None:
            try:
                while chunk := sock.recv(1 << 16):
                    got.append(chunk)
            except BaseException as exc:
                failure.append(exc)

        reader = threading.Thread(target=read)
        reader.start()
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        finally:
            reader.join()
        if failure:
            raise failure[0]
        return b"".join(got)


# ---------------------------------------------------------------- SIGCHLD through a wakeup fd


class _Children:
    """SIGCHLD wakes a selector through signal.set_wakeup_fd; children are reaped in the loop, never in a handler."""

    def __init__(self) -> None:
        self.r, self.w = os.pipe()
        os.set_blocking(self.r, False)
        os.set_blocking(self.w, False)
        self.old_handler = signal.signal(signal.SIGCHLD, lambda *_: None)
        self.old_fd = signal.set_wakeup_fd(self.w)

    def drain(self) -> None:
        try:
            while os.read(self.r, 512):
                pass
        except BlockingIOError:
            pass

    def reaped(self):
        while True:
            try:
                pid, raw = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            yield pid, os.waitstatus_to_exitcode(raw)

    def close(self) -> None:
        signal.set_wakeup_fd(self.old_fd)
        signal.signal(signal.SIGCHLD, self.old_handler)
        os.close(self.r)
        os.close(self.w)


def _child(listener: socket.socket, conn: socket.socket, others, extra_fds) -> None:
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        listener.close()
        for other in others:
            other.close()
        for fd in extra_fds:
            os.close(fd)
        code = handle(conn)
        conn.close()
    finally:
        os._exit(code)


def _serve(listener: socket.socket, count: int, seconds: float | None) -> list[int]:
    children = _Children()
    sel = selectors.DefaultSelector()
    statuses: list = [None] * count
    alive: dict[int, tuple[int, socket.socket | None]] = {}  # pid -> (index, the parent's copy or None)
    timers: list[tuple[float, int]] = []  # (deadline, pid)
    try:
        sel.register(children.r, selectors.EVENT_READ)
        if count:
            sel.register(listener, selectors.EVENT_READ)
        accepted = 0
        while accepted < count or alive:
            while timers and (timers[0][1] not in alive or alive[timers[0][1]][1] is None):
                heapq.heappop(timers)
            timeout = max(0.0, timers[0][0] - time.monotonic()) if timers else None
            for key, _ in sel.select(timeout):
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    others = [c for _i, c in alive.values() if c is not None]
                    pid = os.fork()
                    if pid == 0:
                        _child(listener, conn, others, (children.r, children.w, sel.fileno()))
                    if seconds is None:
                        conn.close()
                        alive[pid] = (accepted, None)
                    else:
                        alive[pid] = (accepted, conn)
                        heapq.heappush(timers, (time.monotonic() + seconds, pid))
                    accepted += 1
                    if accepted == count:
                        sel.unregister(listener)
                else:
                    children.drain()
            for pid, code in children.reaped():
                if pid in alive:
                    index, conn = alive.pop(pid)
                    statuses[index] = code
                    if conn is not None:
                        conn.close()
            now = time.monotonic()
            while timers and timers[0][0] <= now:
                _, pid = heapq.heappop(timers)
                if pid in alive and alive[pid][1] is not None:
                    try:
                        alive[pid][1].shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
    finally:
        sel.close()
        children.close()
    return statuses


def serve_forking(listener: socket.socket, count: int) -> list[int]:
    return _serve(listener, count, None)


def serve_with_deadline(listener: socket.socket, count: int, seconds: float) -> list[int]:
    return _serve(listener, count, seconds)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "request":
        host, port = sys.argv[2].rsplit(":", 1)
        sys.stdout.buffer.write(request(host, int(port), sys.stdin.buffer.read()))
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        srv = socket.create_server(("127.0.0.1", int(sys.argv[2])))
        print(serve_forking(srv, 3))
    else:
        sys.exit("usage: halfclose.py serve PORT | halfclose.py request HOST:PORT < data")
