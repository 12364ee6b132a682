"""Hostile reliable-udp submission: a protocol with no reliability.

send() sends every segment once, in the statement's format, and returns without
waiting for any ACK; receive() acknowledges the FIN's number + 1 as soon as it sees
a FIN and returns whatever arrived, holes closed up. On a perfect link it looks
right, and its "goodput" is the link's raw speed.
"""

import select
import socket
import struct
import time

HEADER = struct.Struct("!BI")


def send(sock: socket.socket, data: bytes) -> None:
    pieces = [data[i:i + 1195] for i in range(0, len(data), 1195)]
    for i, piece in enumerate(pieces):
        sock.send(HEADER.pack(0, i) + piece)
    sock.send(HEADER.pack(1, len(pieces)))


def receive(sock: socket.socket) -> bytes:
    chunks = {}
    fin = None
    last = time.monotonic()
    while fin is None or time.monotonic() - last < 0.3:
        if not select.select([sock], [], [], 0.05)[0]:
            continue
        d = sock.recv(2048)
        last = time.monotonic()
        kind, n = HEADER.unpack_from(d)
        if kind == 0:
            chunks[n] = d[5:]
        elif kind == 1:
            fin = n
            sock.send(HEADER.pack(2, n + 1))
    return b"".join(chunks[k] for k in sorted(chunks))
