"""An edge-triggered, non-blocking echo server on select.epoll.

Read README.md for the exact rules. `python3 epollecho.py 7007 10` tries it.
"""

from __future__ import annotations

import errno
import select
import socket
import sys

CHUNK = 65536
HIGH_WATER = 1 << 20  # at most this many unsent bytes per connection: stop reading above it


def serve(listener: socket.socket, connections: int) -> int:
    """Echo every byte back on the connection it came from, with one select.epoll() in
    edge-triggered mode; return the bytes echoed once `connections` connections have been
    accepted and have all ended."""
    raise NotImplementedError("not implemented: serve(listener, connections)")


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7007
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with socket.create_server(("127.0.0.1", port), backlog=1024) as srv:
        print(f"echoing on 127.0.0.1:{port} for {n} connections", flush=True)
        print(serve(srv, n), "bytes echoed")
