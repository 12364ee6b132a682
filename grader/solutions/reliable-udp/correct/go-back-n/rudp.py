"""Go-back-N over a connected UDP socket: one timer, skipping what ACKs listed, settimeout instead of select."""

from __future__ import annotations

import socket
import struct
import time

HEADER = struct.Struct("!BI")
DATA, FIN, ACK = 0, 1, 2
PAYLOAD = 1024
WINDOW = 24
TIMEOUT = 0.05
LINGER = 0.3


def send(sock: socket.socket, data: bytes) -> None:
    """Deliver `data` reliably through the link; return once all of it is acknowledged."""
    count = (len(data) + PAYLOAD - 1) // PAYLOAD

    def segment(n: int) -> bytes:
        if n == count:
            return HEADER.pack(FIN, count)
        return HEADER.pack(DATA, n) + data[n * PAYLOAD : (n + 1) * PAYLOAD]

    base = next_seq = 0
    listed: set[int] = set()  # held by the receiver above cum: never sent again
    timer = time.monotonic()
    previous = sock.gettimeout()
    try:
        while base <= count:
            while next_seq <= count and next_seq < base + WINDOW:
                if next_seq not in listed:
                    sock.send(segment(next_seq))
                next_seq += 1
            left = TIMEOUT - (time.monotonic() - timer)
            if left <= 0:
                next_seq = base  # go back: everything from the oldest unacknowledged segment again, but what was listed
                timer = time.monotonic()
                continue
            sock.settimeout(left)
            try:
                reply = sock.recv(2048)
            except (socket.timeout, ConnectionRefusedError):
                continue
            if len(reply) < HEADER.size or (len(reply) - HEADER.size) % 4:
                continue  # not an ACK
            kind, cum = HEADER.unpack_from(reply)
            if kind != ACK:
                continue
            listed.update(n for (n,) in struct.iter_unpack("!I", reply[HEADER.size :]))
            if base < cum <= count + 1:
                base = cum
                next_seq = max(next_seq, base)
                timer = time.monotonic()
    finally:
        sock.settimeout(previous)


def receive(sock: socket.socket) -> bytes:
    """Return the whole message, in order; ACKs carry `cum` only, no list."""
    early: dict[int, bytes] = {}  # arrived ahead of `expected`: kept, but not acknowledged one by one
    parts: list[bytes] = []
    expected = 0  # cum: the next segment wanted
    fin = None
    last = time.monotonic()
    previous = sock.gettimeout()
    try:
        while True:
            done = fin is not None and expected > fin
            if done:
                left = LINGER - (time.monotonic() - last)
                if left <= 0:
                    return b"".join(parts)
                sock.settimeout(left)
            else:
                sock.settimeout(1.0)
            try:
                datagram = sock.recv(2048)
            except (socket.timeout, ConnectionRefusedError):
                continue
            if len(datagram) < HEADER.size:
                continue
            last = time.monotonic()
            kind, n = HEADER.unpack_from(datagram)
            if kind == DATA and n >= expected:
                early[n] = datagram[HEADER.size :]
            elif kind == FIN:
                fin = n
            elif kind != DATA:
                continue
            while expected in early or expected == fin:
                if expected != fin:
                    parts.append(early.pop(expected))
                expected += 1
            sock.send(HEADER.pack(ACK, expected))
    finally:
        sock.settimeout(previous)
