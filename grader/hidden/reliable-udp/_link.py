"""An impaired UDP link run by the judge between two sockets.

canary: hidden-test-reliable-udp

Socket `a` (the sending end) talks to relay socket `ra`, socket `b` (the receiving
end) to `rb`; a thread forwards ra -> b ("forward": DATA and FIN) and rb -> a
("backward": ACKs), dropping, duplicating and delaying datagrams with a seeded
generator. In every test one end is the judge's own code and only the other end
is given to the learner: what the learner's end gets or delivers crossed this link.

The link reads the statement's headers (type and number, big-endian) only to count:
which segments crossed forward, and when an ACK crossed backward.
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
HEAD = struct.Struct("!BI")
DATA, FIN, ACK = 0, 1, 2


def _udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", 0))
    return s


class Link:
    def __init__(self, seed: int, loss: float = 0.0, dup: float = 0.0, delay: tuple[float, float] = (0.0, 0.0),
                 blackout_on_fin: float = 0.0) -> None:
        """blackout_on_fin: once a FIN first crosses forward, drop every ACK for this many seconds."""
        self.rng = random.Random(seed)
        self.loss, self.dup, self.delay = loss, dup, delay
        self.blackout_on_fin = blackout_on_fin
        self.a, self.b, self.ra, self.rb = _udp(), _udp(), _udp(), _udp()
        self.a.connect(self.ra.getsockname())
        self.ra.connect(self.a.getsockname())
        self.b.connect(self.rb.getsockname())
        self.rb.connect(self.b.getsockname())
        self.oversize = 0
        self.oversize_sizes: list[int] = []
        self.duplicated = 0
        self.forward_datagrams = 0
        self.crossed: set[int] = set()        # numbers of DATA/FIN segments delivered to `b`
        self.before_first_ack: set[int] = set()  # distinct segment numbers sent before any ACK came back
        self.first_ack_seen = False
        self.acks_delivered: list[tuple[float, int]] = []  # (when, cum) of each ACK delivered to `a`
        self.blackout_until: float | None = None
        self._lock = threading.Lock()
        self._queue: list[tuple[float, int, socket.socket, bytes]] = []
        self._order = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _schedule(self, out: socket.socket, payload: bytes) -> None:
        low, high = self.delay
        when = time.monotonic() + (self.rng.uniform(low, high) if high > 0 else 0.0)
        self._order += 1
        heapq.heappush(self._queue, (when, self._order, out, payload))

    def _carry(self, data: bytes, forward: bool) -> None:
        if len(data) > MTU:
            self.oversize += 1
            self.oversize_sizes.append(len(data))
            return
        now = time.monotonic()
        if forward:
            self.forward_datagrams += 1
            if len(data) >= HEAD.size:
                kind, seq = HEAD.unpack_from(data)
                if not self.first_ack_seen:
                    self.before_first_ack.add(seq)
                if kind == FIN and self.blackout_on_fin and self.blackout_until is None:
                    self.blackout_until = now + self.blackout_on_fin
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
            _, _, out, payload = heapq.heappop(self._queue)
            with self._lock:
                if out is self.rb and len(payload) >= HEAD.size:
                    kind, seq = HEAD.unpack_from(payload)
                    if kind in (DATA, FIN):
                        self.crossed.add(seq)
                elif out is self.ra and len(payload) >= HEAD.size:
                    kind, cum = HEAD.unpack_from(payload)
                    if kind == ACK:
                        self.acks_delivered.append((time.monotonic(), cum))
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

    def has_crossed(self, seq: int) -> bool:
        with self._lock:
            return seq in self.crossed

    def first_ack_covering(self, number: int) -> float | None:
        """When an ACK whose cumulative number is above `number` first reached the sending end."""
        with self._lock:
            return next((when for when, cum in self.acks_delivered if cum > number), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for s in (self.a, self.b, self.ra, self.rb):
            s.close()
