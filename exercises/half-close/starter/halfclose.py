"""close() versus shutdown(): a half-closing client and two forking servers.

Read README.md for the exact rules. `handle` and `reply_for` are given: do not change them.
"""

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
    """Send `data`, half-close with shutdown(SHUT_WR), and return the whole reply (read to EOF)."""
    raise NotImplementedError("not implemented: request(host, port, data)")


# ---------------------------------------------------------------- (b) the forking server


def serve_forking(listener: socket.socket, count: int) -> list[int]:
    """Accept `count` connections, one child each (running handle); return the children's exit statuses in accept order."""
    raise NotImplementedError("not implemented: serve_forking(listener, count)")


# ---------------------------------------------------------------- (c) a deadline per connection


def serve_with_deadline(listener: socket.socket, count: int, seconds: float) -> list[int]:
    """Like serve_forking, but a connection still open `seconds` after accept is ended for everyone."""
    raise NotImplementedError("not implemented: serve_with_deadline(listener, count, seconds)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "request":
        host, port = sys.argv[2].rsplit(":", 1)
        sys.stdout.buffer.write(request(host, int(port), sys.stdin.buffer.read()))
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        srv = socket.create_server(("127.0.0.1", int(sys.argv[2])))
        print(serve_forking(srv, 3))
    else:
        sys.exit("usage: halfclose.py serve PORT | halfclose.py request HOST:PORT < data")
