"""The judge's own ends of a transfer, written from the statement's wire format.

canary: hidden-test-reliable-udp

- `Receiver`: a strict receiver for the learner's send(). It reassembles only what
  reached it through the link, answers every DATA and FIN with an ACK as the
  statement says, and notes every datagram that breaks the format.
- `Sender`: a selective-repeat sender for the learner's receive(), with segments
  of varying sizes; it checks each ACK and notes any that acknowledges a segment
  that never crossed the link.
- `stop_and_wait`: the baseline of the goodput figure, a sender run by the judge.

DATA = type 0, number (4 bytes), 1 to 1195 bytes of payload; FIN = type 1, number
(= the count of DATA segments), nothing more; ACK = type 2, cum (4 bytes), then
zero or more 4-byte numbers of segments held above cum. All big-endian.
"""

from __future__ import annotations

import random
import select
import socket
import struct
import threading
import time

from _link import ACK, DATA, FIN, HEAD, MTU

MAX_PAYLOAD = MTU - HEAD.size  # 1195
MAX_LISTED = 100
U32 = struct.Struct("!I")


def ack(cum: int, listed: list[int]) -> bytes:
    return HEAD.pack(ACK, cum) + b"".join(U32.pack(n) for n in listed)


# What a sender must ignore (the statement: shorter than the header, not an ACK, or an ACK whose length is not
# 5 plus a multiple of 4). Each claims every segment up to a number far above any message: a sender that believes
# one returns before the judge's receiver has the message; one that parses a short one raises.
FAR = 1 << 30
NOT_ACKS = (
    b"",
    b"\x02\x00\x00",                                # 3 bytes: shorter than the header
    HEAD.pack(ACK, FAR) + b"\x00\x00",              # an ACK of 7 bytes: 2 bytes that are no segment number
    HEAD.pack(ACK, FAR) + U32.pack(1) + b"\x00",     # an ACK of 10 bytes
    HEAD.pack(FIN, FAR),                             # a FIN, 5 bytes: the receiver never sends one
    HEAD.pack(DATA, FAR) + b"\x00\x00\x00\x01",    # a DATA, 9 bytes
    HEAD.pack(7, FAR) + U32.pack(FAR),               # type 7, 9 bytes
)


class Receiver:
    """A receiver run by the judge on socket `sock` (in a thread) until close().

    not_acks: before its ACK of the 1st, 3rd, 10th, 30th... datagram, send the NOT_ACKS datagrams too."""

    def __init__(self, sock: socket.socket, not_acks: bool = False) -> None:
        self.sock = sock
        self.not_acks = not_acks
        self.segments: dict[int, bytes] = {}
        self.fin: int | None = None
        self.cum = 0
        self.violations: list[str] = []
        self.complete_at: float | None = None
        self.datagrams = 0
        self.last_datagram_at = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _bad(self, message: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(message)

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.02)
            if not ready:
                continue
            try:
                d = self.sock.recv(65536)
            except OSError:
                continue
            self.datagrams += 1
            self.last_datagram_at = time.monotonic()
            self._on(d)

    def _on(self, d: bytes) -> None:
        if len(d) < HEAD.size:
            self._bad(f"a datagram of {len(d)} byte(s): every DATA and FIN starts with a 5-byte header")
            return
        kind, seq = HEAD.unpack_from(d)
        body = d[HEAD.size:]
        if kind == DATA:
            if not body:
                self._bad(f"DATA segment {seq} carries no payload: a DATA segment holds 1 to {MAX_PAYLOAD} bytes")
                return
            if self.fin is not None and seq >= self.fin:
                self._bad(f"DATA segment {seq} arrived, but the FIN said there are {self.fin} DATA segments (0 to {self.fin - 1})")
                return
            held = self.segments.get(seq)
            if held is not None and held != body:
                self._bad(f"DATA segment {seq} was sent twice with different payloads ({len(held)} and {len(body)} bytes): "
                          "a retransmission repeats the same bytes under the same number")
                return
            self.segments.setdefault(seq, body)
        elif kind == FIN:
            if body:
                self._bad(f"the FIN carries {len(body)} byte(s) after its header: a FIN is exactly 5 bytes")
                return
            if self.fin is not None and seq != self.fin:
                self._bad(f"two FINs with different numbers ({self.fin} and {seq}): the FIN's number is the count of DATA segments")
                return
            beyond = [n for n in self.segments if n >= seq]
            if beyond:
                self._bad(f"the FIN says {seq} DATA segments, but DATA segment {max(beyond)} arrived earlier")
                return
            self.fin = seq
        else:
            self._bad(f"a datagram of type {kind}: the sender sends only DATA (0) and FIN (1)")
            return
        while self.cum in self.segments or (self.fin is not None and self.cum == self.fin):
            self.cum += 1
            if self.fin is not None and self.cum == self.fin + 1:
                break
        if self.complete_at is None and self.fin is not None and self.cum > self.fin:
            self.complete_at = time.monotonic()
        listed = [seq] if seq > self.cum else []
        try:
            if self.not_acks and self.datagrams in (1, 3, 10, 30, 60, 100):
                for junk in NOT_ACKS:
                    self.sock.send(junk)
            self.sock.send(ack(self.cum, listed))
        except OSError:
            pass

    def data(self) -> bytes | None:
        """The message, once every DATA segment and the FIN arrived; None before."""
        if self.fin is None or self.cum <= self.fin:
            return None
        return b"".join(self.segments[i] for i in range(self.fin))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)


def cut(data: bytes, rng: random.Random) -> list[bytes]:
    """The message in segments of varying sizes (mostly full, some short), none empty."""
    pieces, i = [], 0
    while i < len(data):
        size = MAX_PAYLOAD if rng.random() < 0.6 else rng.randint(1, MAX_PAYLOAD)
        pieces.append(data[i:i + size])
        i += size
    return pieces


def not_data(fin: int) -> list[bytes]:
    """What a receiver must ignore: shorter than the header, or of a type it does not expect (an ACK, type 7).
    Numbered half-way through the message: a receiver that takes one for a FIN ends the message there."""
    half = fin // 2
    return [b"", b"\x01", b"\x00\x00\x00\x00", HEAD.pack(ACK, half), HEAD.pack(7, half) + b"\xff" * 4,
            HEAD.pack(ACK, half) + U32.pack(half)]


class Sender:
    """A selective-repeat sender run by the judge on socket `sock` (in a thread): start(), then wait()."""

    def __init__(self, sock: socket.socket, data: bytes, seed: int, link, window: int = 32, rto: float = 0.04,
                 fin_last: bool = False, stall: float = 3.0, not_data: bool = False) -> None:
        """stall: give up once no new segment has been acknowledged for this many seconds.
        not_data: before every 8th segment and after every FIN sent, send the not_data() datagrams too (none
        changes what a receiver that ignores them returns)."""
        self.not_data = not_data
        self.sock, self.link = sock, link
        self.pieces = cut(data, random.Random(seed))
        self.total = len(self.pieces) + 1  # the FIN is segment len(pieces)
        self.window, self.rto, self.fin_last, self.stall = window, rto, fin_last, stall
        self.stalled = False
        self.acked = [False] * self.total
        self.violations: list[str] = []
        self.done_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _bad(self, message: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(message)

    def _packet(self, seq: int) -> bytes:
        if seq < len(self.pieces):
            return HEAD.pack(DATA, seq) + self.pieces[seq]
        return HEAD.pack(FIN, len(self.pieces))

    def start(self) -> "Sender":
        self._thread.start()
        return self

    def _run(self) -> None:
        sent_at: dict[int, float] = {}
        base = 0
        progress, acked = time.monotonic(), 0
        while base < self.total and not self._stop.is_set() and not self.violations:  # a violation is final
            now = time.monotonic()
            if sum(self.acked) > acked:
                progress, acked = now, sum(self.acked)
            elif now - progress > self.stall:
                self.stalled = True
                break
            for seq in range(base, min(base + self.window, self.total)):
                if seq == self.total - 1 and self.fin_last and not all(self.acked[:-1]):
                    continue
                if not self.acked[seq] and now - sent_at.get(seq, -1.0) >= self.rto:
                    try:
                        junk = not_data(self.total - 1) if self.not_data and (seq % 8 == 0 or seq == self.total - 1) else []
                        for d in junk if seq < self.total - 1 else []:
                            self.sock.send(d)
                        self.sock.send(self._packet(seq))
                        for d in junk if seq == self.total - 1 else []:  # after the FIN: the last word is theirs
                            self.sock.send(d)
                    except OSError:
                        pass
                    sent_at[seq] = now
            ready, _, _ = select.select([self.sock], [], [], self.rto / 4)
            while ready:
                try:
                    reply = self.sock.recv(65536, socket.MSG_DONTWAIT)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                self._on_ack(reply)
            while base < self.total and self.acked[base]:
                base += 1
        if base == self.total:
            self.done_at = time.monotonic()

    def _on_ack(self, d: bytes) -> None:
        if len(d) < HEAD.size or (len(d) - HEAD.size) % 4:
            self._bad(f"a datagram of {len(d)} bytes came back: an ACK is 5 bytes plus 4 per listed segment")
            return
        kind, cum = HEAD.unpack_from(d)
        if kind != ACK:
            self._bad(f"a datagram of type {kind} came back: the receiver sends only ACKs (type 2)")
            return
        listed = [U32.unpack_from(d, i)[0] for i in range(HEAD.size, len(d), 4)]
        if len(listed) > MAX_LISTED:
            self._bad(f"an ACK listed {len(listed)} segments: at most {MAX_LISTED}")
        if cum > self.total:
            self._bad(f"an ACK said cum={cum}, but only segments 0 to {self.total - 1} exist (the FIN is {self.total - 1})")
            return
        for n in list(range(cum)) + listed:
            if n >= self.total:
                self._bad(f"an ACK listed segment {n}, but only segments 0 to {self.total - 1} exist")
                return
            if not self.acked[n] and not self.link.has_crossed(n):
                self._bad(f"an ACK (cum={cum}{', listed ' + str(listed) if listed else ''}) acknowledged segment {n}, "
                          "which had not reached the receiver: acknowledge only what arrived")
                return
        for n in list(range(cum)) + listed:
            self.acked[n] = True

    def wait(self, timeout: float) -> bool:
        self._thread.join(timeout)
        self._stop.set()
        self._thread.join(1)
        return self.done_at is not None


def stop_and_wait(sock: socket.socket, data: bytes, rto: float = 0.04, deadline: float = 20.0) -> bool:
    """The baseline: one full DATA segment in flight at a time, then the FIN; True once all is acknowledged."""
    pieces = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)]
    packets = [HEAD.pack(DATA, i) + p for i, p in enumerate(pieces)] + [HEAD.pack(FIN, len(pieces))]
    end = time.monotonic() + deadline
    for seq, packet in enumerate(packets):
        while True:
            if time.monotonic() > end:
                return False
            sock.send(packet)
            due = time.monotonic() + rto
            got = False
            while not got and (left := due - time.monotonic()) > 0:
                ready, _, _ = select.select([sock], [], [], left)
                if not ready:
                    break
                try:
                    reply = sock.recv(65536)
                except ConnectionRefusedError:
                    continue
                if len(reply) >= HEAD.size:
                    kind, cum = HEAD.unpack_from(reply)
                    got = kind == ACK and cum > seq
            if got:
                break
    return True
