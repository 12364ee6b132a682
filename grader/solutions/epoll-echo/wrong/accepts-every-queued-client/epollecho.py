"""An edge-triggered, non-blocking echo server on select.epoll."""

from __future__ import annotations

import errno
import select
import socket
import sys

CHUNK = 65536
HIGH_WATER = 1 << 20  # at most this many unsent bytes per connection: stop reading above it


class _Conn:
    __slots__ = ("sock", "out", "eof", "paused")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = bytearray()   # received, not yet echoed
        self.eof = False         # the client half-closed: close once `out` is sent
        self.paused = False      # stopped reading because `out` is full


def serve(listener: socket.socket, connections: int) -> int:
    """Echo every byte back on the connection it came from; return the bytes echoed once
    `connections` connections have been accepted and have all ended."""
    # The listener is the caller's, and O_NONBLOCK belongs to the open file description
    # that the caller's descriptor shares: put its mode back before returning.
    caller_timeout = listener.gettimeout()
    listener.setblocking(False)
    ep = select.epoll()
    conns: dict[int, _Conn] = {}
    accepted = 0
    echoed = 0
    ep.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)

    def close(c: _Conn) -> None:
        fd = c.sock.fileno()
        ep.unregister(fd)
        del conns[fd]
        c.sock.close()

    def flush(c: _Conn) -> None:
        """Send what the kernel takes now; the rest waits for EPOLLOUT."""
        nonlocal echoed
        while c.out:
            try:
                n = c.sock.send(c.out[:CHUNK])
            except BlockingIOError:
                return
            del c.out[:n]
            echoed += n

    def pump(c: _Conn) -> bool:
        """Read until EAGAIN (or until `out` is full), echo, and say whether the connection lives."""
        while True:
            flush(c)
            if c.eof:
                if not c.out:
                    return False  # everything echoed after the client's FIN: close
                return True
            if len(c.out) >= HIGH_WATER:
                c.paused = True   # no reading until EPOLLOUT drains `out`
                return True
            c.paused = False
            try:
                data = c.sock.recv(CHUNK)
            except BlockingIOError:
                return True      # drained: the next EPOLLIN edge brings more
            if not data:
                c.eof = True
                continue
            c.out += data

    try:
        while accepted < connections or conns:
            for fd, events in ep.poll():
                if fd == listener.fileno():
                    while True:  # accept until EAGAIN: one edge, many clients
                        try:
                            sock, _ = listener.accept()
                        except BlockingIOError:
                            break
                        sock.setblocking(False)
                        c = _Conn(sock)
                        conns[sock.fileno()] = c
                        accepted += 1
                        ep.register(sock.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLRDHUP | select.EPOLLET)
                    if accepted >= connections:  # enough: stop watching the listener
                        ep.unregister(listener.fileno())
                    continue
                c = conns.get(fd)
                if c is None:
                    continue
                try:
                    alive = pump(c)
                except (ConnectionResetError, BrokenPipeError):
                    alive = False
                except OSError as exc:
                    if exc.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT):
                        raise
                    alive = False
                if not alive or (events & select.EPOLLERR and not c.out):
                    close(c)
    finally:
        for c in list(conns.values()):
            close(c)
        ep.close()
        listener.settimeout(caller_timeout)
    return echoed


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7007
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with socket.create_server(("127.0.0.1", port), backlog=1024) as srv:
        print(f"echoing on 127.0.0.1:{port} for {n} connections", flush=True)
        print(serve(srv, n), "bytes echoed")
