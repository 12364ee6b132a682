"""close() versus shutdown(): a half-closing client and two forking servers (reference solution)."""

from __future__ import annotations

import os
import selectors
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


# ---------------------------------------------------------------- (a) the client


def request(host: str, port: int, data: bytes) -> bytes:
    """Send `data`, half-close, and return the whole reply (read to EOF)."""
    with socket.create_connection((host, port)) as sock:
        sock.setblocking(False)
        sel = selectors.DefaultSelector()
        view = memoryview(data)
        reply = bytearray()
        if view:
            sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        else:
            sock.shutdown(socket.SHUT_WR)
            sel.register(sock, selectors.EVENT_READ)
        try:
            while True:
                for _key, events in sel.select():
                    if events & selectors.EVENT_WRITE and view:
                        try:
                            sent = sock.send(view[:262144])
                        except BlockingIOError:
                            sent = 0
                        view = view[sent:]
                        if not view:  # all sent: FIN, and from now on only read
                            sock.shutdown(socket.SHUT_WR)
                            sel.modify(sock, selectors.EVENT_READ)
                    if events & selectors.EVENT_READ:
                        try:
                            chunk = sock.recv(262144)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            if view:  # the server ended before taking the whole request
                                raise ConnectionError("the server closed before the whole request was sent")
                            return bytes(reply)
                        reply += chunk
        finally:
            sel.close()


# ---------------------------------------------------------------- (b) the forking server


def _status(raw: int) -> int:
    code = os.waitstatus_to_exitcode(raw)
    return code


def serve_forking(listener: socket.socket, count: int) -> list[int]:
    """Accept `count` connections, one child each; return the children's exit statuses in accept order."""
    index_of: dict[int, int] = {}
    statuses: list[int | None] = [None] * count

    def reap(block: bool) -> None:
        while index_of:
            try:
                pid, raw = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in index_of:
                statuses[index_of.pop(pid)] = _status(raw)

    previous = signal.signal(signal.SIGCHLD, lambda signum, frame: reap(False))
    try:
        for i in range(count):
            conn, _ = listener.accept()
            # A child may exit before the parent has noted its pid: keep SIGCHLD blocked
            # from fork() until index_of knows it, or the handler reaps a stranger.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
            pid = os.fork()
            if pid == 0:  # child: its own copy of the connection, no listener
                status = 1
                try:
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
                    listener.close()
                    status = handle(conn)
                    conn.close()
                finally:
                    os._exit(status)
            index_of[pid] = i
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
            conn.close()  # the child has its copy: the FIN goes out when the child closes
            reap(False)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        reap(True)
    finally:
        signal.signal(signal.SIGCHLD, previous)
    return statuses  # type: ignore[return-value]


# ---------------------------------------------------------------- (c) a deadline per connection


def serve_with_deadline(listener: socket.socket, count: int, seconds: float) -> list[int]:
    """Like serve_forking, but a connection still open `seconds` after accept is ended for everyone."""
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    live: dict[int, tuple[int, socket.socket, float, int]] = {}  # pidfd -> (pid, conn, deadline, index)
    statuses: list[int | None] = [None] * count
    accepted = 0
    try:
        while accepted < count or live:
            now = time.monotonic()
            timeout = min((d for _p, _c, d, _i in live.values() if d is not None), default=None)
            for key, _ev in sel.select(None if timeout is None else max(0.0, timeout - now)):
                if key.data is None:
                    conn, _ = listener.accept()
                    pid = os.fork()
                    if pid == 0:
                        status = 1
                        try:
                            listener.close()
                            # fork copied every descriptor, the parent's copies of the earlier
                            # connections too: keep one and an earlier client sees its end of
                            # stream only when this child exits
                            for pidfd, (_pid, other, _deadline, _index) in live.items():
                                other.close()
                                os.close(pidfd)
                            sel.close()
                            status = handle(conn)
                            conn.close()
                        finally:
                            os._exit(status)
                    pidfd = os.pidfd_open(pid)
                    live[pidfd] = (pid, conn, time.monotonic() + seconds, accepted)
                    sel.register(pidfd, selectors.EVENT_READ, pid)
                    accepted += 1
                    if accepted == count:
                        sel.unregister(listener)
                else:  # a child exited: reap it and drop our copy, so the client sees EOF now
                    pidfd = key.fd
                    pid, conn, _deadline, index = live.pop(pidfd)
                    sel.unregister(pidfd)
                    os.close(pidfd)
                    _, raw = os.waitpid(pid, 0)
                    statuses[index] = _status(raw)
                    conn.close()
            now = time.monotonic()
            for pidfd, (pid, conn, deadline, index) in list(live.items()):
                if deadline is not None and now >= deadline:
                    # close() would only drop our reference; the child holds another.
                    # shutdown() acts on the connection itself: FIN to the client, and
                    # the child's recv returns b"" so it finishes on its own.
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    live[pidfd] = (pid, conn, None, index)
    finally:
        sel.close()
    return statuses  # type: ignore[return-value]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "request":
        host, port = sys.argv[2].rsplit(":", 1)
        sys.stdout.buffer.write(request(host, int(port), sys.stdin.buffer.read()))
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        srv = socket.create_server(("127.0.0.1", int(sys.argv[2])))
        print(serve_forking(srv, 3))
    else:
        sys.exit("usage: halfclose.py serve PORT | halfclose.py request HOST:PORT < data")
