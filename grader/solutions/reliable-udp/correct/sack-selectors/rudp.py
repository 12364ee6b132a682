"""Selective repeat with SACK lists, a selectors loop and a heap of retransmission deadlines."""

from __future__ import annotations

import heapq
import selectors
import socket
import struct
import time

HDR = struct.Struct(">BI")
U32 = struct.Struct(">I")
DATA, FIN, ACK = 0, 1, 2
SIZE = 1000
WINDOW = 48
RTO = 0.035
QUIET = 0.3
MAX_SACK = 100


class _Window:
    def __init__(self, data: bytes) -> None:
        self.segments = [HDR.pack(DATA, i) + data[o : o + SIZE] for i, o in enumerate(range(0, len(data), SIZE))]
        self.segments.append(HDR.pack(FIN, len(self.segments)))
        self.unacked = set(range(len(self.segments)))
        self.deadlines: list[tuple[float, int]] = []
        self.next = 0

    def lowest(self) -> int:
        return min(self.unacked) if self.unacked else len(self.segments)

    def due(self, now: float) -> list[int]:
        out = []
        while self.next < len(self.segments) and self.next < self.lowest() + WINDOW:
            out.append(self.next)
            self.next += 1
        while self.deadlines and self.deadlines[0][0] <= now:
            _, n = heapq.heappop(self.deadlines)
            if n in self.unacked:
                out.append(n)
        return out

    def sent(self, n: int, now: float) -> None:
        heapq.heappush(self.deadlines, (now + RTO, n))

    def on_ack(self, reply: bytes) -> None:
        if len(reply) < HDR.size or (len(reply) - HDR.size) % U32.size:
            return
        kind, cum = HDR.unpack_from(reply)
        if kind != ACK:
            return
        self.unacked -= set(range(cum))
        self.unacked -= {U32.unpack_from(reply, o)[0] for o in range(HDR.size, len(reply), U32.size)}


def send(sock: socket.socket, data: bytes) -> None:
    """Deliver `data` reliably through the link; return once all of it is acknowledged."""
    window = _Window(data)
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        while window.unacked:
            now = time.monotonic()
            for n in window.due(now):
                sock.send(window.segments[n])
                window.sent(n, now)
            wait = max(0.0, window.deadlines[0][0] - time.monotonic()) if window.deadlines else RTO
            for _ in sel.select(timeout=wait):
                while True:
                    try:
                        window.on_ack(sock.recv(65536, socket.MSG_DONTWAIT))
                    except (BlockingIOError, ConnectionRefusedError):
                        break


def receive(sock: socket.socket) -> bytes:
    """Return the whole message; every DATA and FIN is answered with cum and the held segments above it."""
    held: dict[int, bytes] = {}
    fin: int | None = None
    cum = 0
    last = time.monotonic()
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        while True:
            finished = fin is not None and cum > fin
            if finished and time.monotonic() - last >= QUIET:
                return b"".join(held[i] for i in range(fin))
            timeout = QUIET - (time.monotonic() - last) if finished else None
            if not sel.select(timeout=timeout):
                continue
            try:
                datagram = sock.recv(65536)
            except ConnectionRefusedError:
                continue
            if len(datagram) < HDR.size:
                continue
            kind, n = HDR.unpack_from(datagram)
            if kind == DATA:
                held.setdefault(n, datagram[HDR.size :])
            elif kind == FIN:
                fin = n
            else:
                continue
            last = time.monotonic()
            while cum in held or cum == fin:
                cum += 1
            above = sorted(k for k in held if k > cum)[:MAX_SACK - 1]
            if fin is not None and fin > cum:
                above.append(fin)
            sock.send(HDR.pack(ACK, cum) + b"".join(U32.pack(k) for k in above))
