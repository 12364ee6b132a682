"""An impaired UDP link run by the judge between the learner's two sockets.

canary: hidden-test-reliable-udp

The learner gets sockets `a` (sender side) and `b` (receiver side). `a` talks to
relay socket `ra`, `b` to `rb`; a thread forwards ra -> b ("forward", data) and
rb -> a ("backward", ACKs), dropping, duplicating and delaying datagrams with a
seeded generator. The learner's framing is never parsed: the link only counts.
"""

from __future__ import annotations

import heapq
import random
import select
import socket
import struct
import threading
import time

MTU = 1200


def _udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", 0))
    return s


class Link:
    def __init__(self, seed: int, loss: float = 0.0, dup: float = 0.0, delay: tuple[float, float] = (0.0, 0.0),
                 ack_blackout_after: int | None = None, blackout_seconds: float = 0.1) -> None:
        self.rng = random.Random(seed)
        self.loss, self.dup, self.delay = loss, dup, delay
        self.ack_blackout_after, self.blackout_seconds = ack_blackout_after, blackout_seconds
        self.a, self.b, self.ra, self.rb = _udp(), _udp(), _udp(), _udp()
        self.a.connect(self.ra.getsockname())
        self.ra.connect(self.a.getsockname())
        self.b.connect(self.rb.getsockname())
        self.rb.connect(self.b.getsockname())
        self.oversize = 0
        self.forward_bytes = 0
        self.forward_datagrams = 0
        self.reordered = 0
        self.duplicated = 0
        self.distinct_before_first_ack: set[bytes] = set()
        self.first_ack_seen = False
        self.blackout_until: float | None = None
        self._queue: list[tuple[float, int, socket.socket, bytes]] = []
        self._order = 0
        self._last_sent_index = {id(self.rb): -1, id(self.ra): -1}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def learner_sockets(self) -> tuple[socket.socket, socket.socket]:
        return self.a, self.b

    def _schedule(self, out: socket.socket, payload: bytes) -> None:
        low, high = self.delay
        when = time.monotonic() + (self.rng.uniform(low, high) if high > 0 else 0.0)
        self._order += 1
        heapq.heappush(self._queue, (when, self._order, out, payload))

    def _carry(self, data: bytes, forward: bool) -> None:
        if len(data) > MTU:
            self.oversize += 1
            return
        now = time.monotonic()
        if forward:
            self.forward_bytes += len(data)
            self.forward_datagrams += 1
            if not self.first_ack_seen:
                self.distinct_before_first_ack.add(data)
            if (self.ack_blackout_after is not None and self.blackout_until is None
                    and self.forward_bytes >= self.ack_blackout_after):
                self.blackout_until = now + self.blackout_seconds
        else:
            self.first_ack_seen = True
            if self.blackout_until is not None and now < self.blackout_until:
                return
        if self.rng.random() < self.loss:
            return
        out = self.rb if forward else self.ra
        self._schedule(out, data)
        if self.rng.random() < self.dup:
            self.duplicated += 1
            self._schedule(out, data)

    def _flush(self) -> float | None:
        now = time.monotonic()
        while self._queue and self._queue[0][0] <= now:
            _, order, out, payload = heapq.heappop(self._queue)
            if order < self._last_sent_index[id(out)]:
                self.reordered += 1
            self._last_sent_index[id(out)] = max(order, self._last_sent_index[id(out)])
            try:
                out.send(payload)
            except OSError:
                pass
        return max(0.0, self._queue[0][0] - now) if self._queue else None

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self._flush()
            ready, _, _ = select.select([self.ra, self.rb], [], [], 0.005 if wait is None else min(wait, 0.005))
            for s in ready:
                try:
                    data = s.recv(65536)
                except OSError:
                    continue
                self._carry(data, forward=s is self.ra)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for s in (self.a, self.b, self.ra, self.rb):
            s.close()


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def transfer(learner, link: Link, data: bytes, timeout: float = 8.0) -> tuple[bytes, float]:
    """Run the learner's receive() and send() over the link; the bytes received and the seconds taken."""
    a, b = link.learner_sockets()
    receiving = learner.start("receive", b)
    started = time.monotonic()
    sending = learner.start("send", a, data)
    sending.result(timeout=timeout)
    took = time.monotonic() - started
    got = receiving.result(timeout=timeout)
    assert isinstance(got, bytes), f"receive() must return bytes, got {type(got).__name__}"
    return got, took


def describe(got: bytes, want: bytes) -> str:
    if len(got) != len(want):
        return f"received {len(got)} bytes, sent {len(want)}"
    first = next(i for i in range(len(want)) if got[i] != want[i])
    return f"same length ({len(want)} bytes) but the bytes differ from offset {first} on"


# --- the baseline: stop-and-wait, run by the judge on the same kind of link ---------------------

_HDR = struct.Struct("!BI")


def stop_and_wait_goodput(link: Link, data: bytes, rto: float = 0.04) -> float:
    a, b = link.learner_sockets()
    done = threading.Event()
    result: dict[str, bytes] = {}

    def receiver() -> None:
        chunks: dict[int, bytes] = {}
        total = None
        b.settimeout(0.3)
        while True:
            try:
                d = b.recv(2048)
            except (socket.timeout, ConnectionRefusedError):
                if total is not None and len(chunks) == total:
                    break
                continue
            kind, seq = _HDR.unpack_from(d)
            if kind == 0:
                chunks.setdefault(seq, d[_HDR.size:])
            else:
                total = seq
            b.send(_HDR.pack(2, seq))
        result["data"] = b"".join(chunks[i] for i in range(total))
        done.set()

    threading.Thread(target=receiver, daemon=True).start()
    pieces = [data[i:i + 1100] for i in range(0, len(data), 1100)]
    packets = [_HDR.pack(0, i) + p for i, p in enumerate(pieces)] + [_HDR.pack(1, len(pieces))]
    a.settimeout(rto)
    started = time.monotonic()
    for seq, packet in enumerate(packets):
        while True:
            a.send(packet)
            try:
                while True:
                    kind, acked = _HDR.unpack_from(a.recv(64))
                    if acked == seq:
                        break
                break
            except (socket.timeout, ConnectionRefusedError):
                continue
    took = time.monotonic() - started
    done.wait(5)
    return len(data) / took
