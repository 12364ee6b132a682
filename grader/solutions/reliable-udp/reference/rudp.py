"""A sliding-window ARQ (selective repeat) over a connected UDP socket."""

from __future__ import annotations

import select
import socket
import struct
import time

MAX_DATAGRAM = 1200
HEADER = struct.Struct("!BI")  # type, number (DATA, FIN) or cum (ACK)
NUMBER = struct.Struct("!I")   # a segment listed in an ACK
DATA, FIN, ACK = 0, 1, 2
CHUNK = MAX_DATAGRAM - HEADER.size  # 1195 bytes of payload per DATA segment
WINDOW = 32
RTO = 0.04  # seconds; the link delays at most 20 ms each way
LINGER = 0.3


def _packets(data: bytes) -> list[bytes]:
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    packets = [HEADER.pack(DATA, seq) + chunk for seq, chunk in enumerate(chunks)]
    packets.append(HEADER.pack(FIN, len(chunks)))
    return packets


def send(sock: socket.socket, data: bytes) -> None:
    """Deliver `data` reliably through the link; return once all of it is acknowledged."""
    packets = _packets(data)
    acked = [False] * len(packets)
    sent_at: dict[int, float] = {}
    base = 0
    while base < len(packets):
        now = time.monotonic()
        for seq in range(base, min(base + WINDOW, len(packets))):
            if not acked[seq] and now - sent_at.get(seq, -1.0) >= RTO:
                sock.send(packets[seq])
                sent_at[seq] = now
        ready, _, _ = select.select([sock], [], [], RTO / 4)
        while ready:
            try:
                reply = sock.recv(MAX_DATAGRAM, socket.MSG_DONTWAIT)
            except (BlockingIOError, ConnectionRefusedError):
                break
            if len(reply) < HEADER.size or (len(reply) - HEADER.size) % NUMBER.size:
                continue
            kind, cum = HEADER.unpack_from(reply)
            if kind != ACK:
                continue
            for seq in range(base, min(cum, len(acked))):  # everything below cum arrived
                acked[seq] = True
            for offset in range(HEADER.size, len(reply), NUMBER.size):  # and these, above it
                (seq,) = NUMBER.unpack_from(reply, offset)
                if seq < len(acked):
                    acked[seq] = True
        while base < len(packets) and acked[base]:
            base += 1


def receive(sock: socket.socket) -> bytes:
    """Return the whole message sent by send(), in order, without duplicates."""
    chunks: dict[int, bytes] = {}
    total = None  # the FIN's number: how many DATA segments there are
    cum = 0       # every segment below this number arrived
    last_seen = time.monotonic()
    while True:
        complete = total is not None and cum > total
        wait = LINGER - (time.monotonic() - last_seen) if complete else 1.0
        if complete and wait <= 0:
            return b"".join(chunks[i] for i in range(total))
        ready, _, _ = select.select([sock], [], [], max(wait, 0))
        if not ready:
            continue
        try:
            datagram = sock.recv(MAX_DATAGRAM)
        except ConnectionRefusedError:
            continue
        if len(datagram) < HEADER.size:
            continue
        last_seen = time.monotonic()
        kind, seq = HEADER.unpack_from(datagram)
        if kind == DATA:
            chunks.setdefault(seq, datagram[HEADER.size :])
        elif kind == FIN:
            total = seq
        else:
            continue
        while cum in chunks or cum == total:
            cum += 1
        listed = NUMBER.pack(seq) if seq > cum else b""
        sock.send(HEADER.pack(ACK, cum) + listed)  # every DATA and FIN is answered, duplicates too
