"""Edge-triggered epoll echo server that asks for EPOLLOUT only while it has something to send."""

from __future__ import annotations

import select
import socket
import sys

LIMIT = 1 << 20
BUF = 1 << 16
IN = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET
IN_OUT = IN | select.EPOLLOUT
RESETS = (ConnectionResetError, BrokenPipeError, TimeoutError)


def serve(listener: socket.socket, connections: int) -> int:
    saved = listener.gettimeout()
    listener.setblocking(False)
    poller = select.epoll()
    socks: dict[int, socket.socket] = {}
    pending: dict[int, bytearray] = {}
    finished: set[int] = set()   # got the client's FIN
    interest: dict[int, int] = {}
    scratch = bytearray(BUF)
    total = 0
    accepted = 0

    def want(fd: int, mask: int) -> None:
        if interest[fd] != mask:
            poller.modify(fd, mask)  # re-arms: a state that is already true is reported again
            interest[fd] = mask

    def drop(fd: int) -> None:
        poller.unregister(fd)
        socks.pop(fd).close()
        pending.pop(fd)
        interest.pop(fd)
        finished.discard(fd)

    def service(fd: int) -> bool:
        nonlocal total
        sock, out = socks[fd], pending[fd]
        while True:
            while out:
                try:
                    n = sock.send(out)
                except BlockingIOError:
                    break
                total += n
                del out[:n]
            if fd in finished:
                if out:
                    want(fd, IN_OUT)  # the FIN may come in the call that first left bytes unsent
                return bool(out)
            if len(out) >= LIMIT:
                break
            try:
                n = sock.recv_into(scratch)
            except BlockingIOError:
                break
            if n == 0:
                finished.add(fd)
                continue
            out += scratch[:n]
        want(fd, IN_OUT if out else IN)
        return True

    poller.register(listener.fileno(), select.EPOLLIN | select.EPOLLET)
    try:
        while accepted < connections or socks:
            for fd, ev in poller.poll():
                if fd == listener.fileno():
                    while accepted < connections:
                        try:
                            conn, _ = listener.accept()
                        except BlockingIOError:
                            break
                        conn.setblocking(False)
                        cfd = conn.fileno()
                        socks[cfd], pending[cfd], interest[cfd] = conn, bytearray(), IN
                        poller.register(cfd, IN)
                        accepted += 1
                    if accepted >= connections:
                        poller.unregister(fd)
                    continue
                if fd not in socks:
                    continue
                try:
                    keep = service(fd)
                except RESETS:
                    keep = False
                if not keep:
                    drop(fd)
    finally:
        for fd in list(socks):
            drop(fd)
        poller.close()
        listener.settimeout(saved)
    return total


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 7007
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    with socket.create_server(("127.0.0.1", port), backlog=1024) as srv:
        print(serve(srv, n), "bytes echoed")
