"""close() versus shutdown(): a half-closing client and two forking servers (alternative: threads and polling)."""

from __future__ import annotations

import os
import select
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


# ---------------------------------------------------------------- (a) the client: a sending thread


def request(host: str, port: int, data: bytes) -> bytes:
    sock = socket.create_connection((host, port))
    failure: list[BaseException] = []

    def send() -> None:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    parts = []
    try:
        while True:
            part = sock.recv(65536)
            if not part:
                break
            parts.append(part)
    finally:
        sender.join()
        sock.close()
    if failure:
        raise failure[0]
    return b"".join(parts)


# ---------------------------------------------------------------- (b) no signals: accept with a timeout


def _collect(pending: dict[int, int], statuses: list) -> None:
    """Reap every child that has exited, without waiting."""
    while pending:
        pid, raw = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        statuses[pending.pop(pid)] = os.waitstatus_to_exitcode(raw)


def serve_forking(listener: socket.socket, count: int) -> list[int]:
    statuses: list = [None] * count
    pending: dict[int, int] = {}
    before = listener.gettimeout()
    listener.settimeout(0.1)
    try:
        n = 0
        while n < count:
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                _collect(pending, statuses)
                continue
            conn.settimeout(None)
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    listener.close()
                    code = handle(conn)
                    conn.close()
                finally:
                    os._exit(code)
            conn.close()
            pending[pid] = n
            n += 1
            _collect(pending, statuses)
    finally:
        listener.settimeout(before)
    for pid, index in list(pending.items()):
        _, raw = os.waitpid(pid, 0)
        statuses[index] = os.waitstatus_to_exitcode(raw)
    return statuses


# ---------------------------------------------------------------- (c) a polling loop with deadlines


def serve_with_deadline(listener: socket.socket, count: int, seconds: float) -> list[int]:
    statuses: list = [None] * count
    open_conns: dict[int, list] = {}  # pid -> [conn, deadline or None, index]
    poller = select.poll()
    poller.register(listener.fileno(), select.POLLIN)
    n = 0
    while n < count or open_conns:
        deadlines = [e[1] for e in open_conns.values() if e[1] is not None]
        wait = 0.05 if not deadlines else max(0.0, min(0.05, min(deadlines) - time.monotonic()))
        if n < count and poller.poll(wait * 1000):
            conn, _ = listener.accept()
            conn.settimeout(None)
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    listener.close()
                    for other, _d, _i in open_conns.values():
                        other.close()
                    code = handle(conn)
                    conn.close()
                finally:
                    os._exit(code)
            open_conns[pid] = [conn, time.monotonic() + seconds, n]
            n += 1
            if n == count:
                poller.unregister(listener.fileno())
        elif n >= count:
            time.sleep(wait)
        while open_conns:
            pid, raw = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            conn, _d, index = open_conns.pop(pid)
            conn.close()
            statuses[index] = os.waitstatus_to_exitcode(raw)
        now = time.monotonic()
        for entry in open_conns.values():
            if entry[1] is not None and now >= entry[1]:
                try:
                    entry[0].shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                entry[1] = None
    return statuses


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "request":
        host, port = sys.argv[2].rsplit(":", 1)
        sys.stdout.buffer.write(request(host, int(port), sys.stdin.buffer.read()))
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        srv = socket.create_server(("127.0.0.1", int(sys.argv[2])))
        print(serve_forking(srv, 3))
    else:
        sys.exit("usage: halfclose.py serve PORT | halfclose.py request HOST:PORT < data")
