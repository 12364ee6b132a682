"""Edge-triggered epoll echo server on raw descriptors: os.read, os.write, fcntl, a deque of chunks."""

from __future__ import annotations

import collections
import errno
import fcntl
import os
import select
import socket
import sys

CAP = 1 << 20
EV = select.EPOLLIN | select.EPOLLOUT | select.EPOLLET


class Client:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.detach()  # from here on a plain descriptor
        flags = fcntl.fcntl(self.fd, fcntl.F_GETFL)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self.queue: collections.deque[memoryview] = collections.deque()
        self.queued = 0
        self.half_closed = False

    def write_some(self) -> int:
        sent = 0
        while self.queue:
            head = self.queue[0]
            n = os.write(self.fd, head)  # BlockingIOError when the socket buffer is full
            sent += n
            self.queued -= n
            if n == len(head):
                self.queue.popleft()
            else:
                self.queue[0] = head[n:]
        return sent


def serve(listener: socket.socket, connections: int) -> int:
    before = listener.gettimeout()
    listener.setblocking(False)
    ep = select.epoll()
    clients: dict[int, Client] = {}
    done = 0
    echoed = 0
    lfd = listener.fileno()
    ep.register(lfd, select.EPOLLIN | select.EPOLLET)

    def run(c: Client) -> bool:
        """Move bytes until the kernel says EAGAIN; False once the connection is over."""
        nonlocal echoed
        while True:
            try:
                echoed += c.write_some()
            except BlockingIOError:
                pass
            if c.half_closed:
                return c.queued > 0
            if c.queued >= CAP:
                return True
            try:
                chunk = os.read(c.fd, 65536)
            except BlockingIOError:
                return True
            if not chunk:
                c.half_closed = True
                continue
            c.queue.append(memoryview(chunk))
            c.queued += len(chunk)

    def end(c: Client) -> None:
        ep.unregister(c.fd)
        del clients[c.fd]
        os.close(c.fd)

    try:
        while done < connections or clients:
            for fd, _ in ep.poll():
                if fd == lfd:
                    while done < connections:
                        try:
                            conn, _ = listener.accept()
                        except BlockingIOError:
                            break
                        c = Client(conn)
                        clients[c.fd] = c
                        done += 1
                        ep.register(c.fd, EV)
                    if done == connections:
                        ep.unregister(lfd)
                    continue
                c = clients.get(fd)
                if c is None:
                    continue
                try:
                    alive = run(c)
                except OSError as exc:
                    if exc.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT, errno.ENOTCONN):
                        raise
                    alive = False
                if not alive:
                    end(c)
    finally:
        for c in list(clients.values()):
            end(c)
        ep.close()
        listener.settimeout(before)
    return echoed


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7007
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with socket.create_server(("127.0.0.1", port), backlog=1024) as srv:
        print(serve(srv, n), "bytes echoed")
