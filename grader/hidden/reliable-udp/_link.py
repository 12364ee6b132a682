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
SO_TIMESTAMPNS = 35  # Linux: the kernel stamps each datagram with the time it arrived (struct timespec)
TIMESPEC = struct.Struct("@qq")
DATA, FIN, ACK = 0, 1, 2


def _udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", 0))
    return s


class Link:
    def __init__(self, seed: int, loss: float = 0.0, dup: float = 0.0, delay: tuple[float, float] = (0.0, 0.0),
                 blackout_on_fin: float = 0.0, hold: tuple[int, float] | None = None,
                 fates: tuple[list[tuple[int, int]], list[tuple[int, int]]] | None = None) -> None:
        """blackout_on_fin: once a FIN first crosses forward, drop every ACK for this many seconds.
        hold=(n, seconds): drop every copy of DATA segment n until this many seconds after the first forward datagram.
        fates=(forward, backward): the fate of the i-th datagram each way, (copies delivered 0 to 2, delay in ms),
        instead of the seeded generator; past the end of its list a datagram is delivered at once."""
        self.rng = random.Random(seed)
        self.loss, self.dup, self.delay = loss, dup, delay
        self.blackout_on_fin = blackout_on_fin
        self.a, self.b, self.ra, self.rb = _udp(), _udp(), _udp(), _udp()
        self.ra.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # when the sending end sent it, not when we read it
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
        self.hold = hold
        self.fates = fates
        self._carried = [0, 0]  # datagrams seen forward, backward
        self.first_forward_at: float | None = None
        self.sent_log: list[tuple[float, int]] = []  # (when, number) of each DATA or FIN the sending end sent
        self.acks_log: list[tuple[float, int, frozenset[int]]] = []  # (when, cum, listed) of each well-formed ACK delivered to `a`
        self._lock = threading.Lock()
        self._queue: list[tuple[float, int, socket.socket, bytes]] = []
        self._order = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _schedule(self, out: socket.socket, payload: bytes, delay: float | None = None) -> None:
        low, high = self.delay
        if delay is None:
            delay = self.rng.uniform(low, high) if high > 0 else 0.0
        when = time.monotonic() + delay
        self._order += 1
        heapq.heappush(self._queue, (when, self._order, out, payload))

    def _carry(self, data: bytes, forward: bool, sent_at: float | None = None) -> None:
        """sent_at: when the sending end sent it (the kernel's stamp, on the monotonic clock), for the logs."""
        if len(data) > MTU:
            self.oversize += 1
            self.oversize_sizes.append(len(data))
            return
        now = time.monotonic()
        if forward:
            self.forward_datagrams += 1
            if self.first_forward_at is None:
                self.first_forward_at = now
            if len(data) >= HEAD.size:
                kind, seq = HEAD.unpack_from(data)
                if kind in (DATA, FIN):
                    with self._lock:
                        self.sent_log.append((now if sent_at is None else min(sent_at, now), seq))
                if kind == DATA and self.hold and seq == self.hold[0] and now < self.first_forward_at + self.hold[1]:
                    return
                if not self.first_ack_seen:
                    self.before_first_ack.add(seq)
                if kind == FIN and self.blackout_on_fin and self.blackout_until is None:
                    self.blackout_until = now + self.blackout_on_fin
        else:
            self.first_ack_seen = True
            if self.blackout_until is not None and now < self.blackout_until:
                return
        out = self.rb if forward else self.ra
        if self.fates is not None:
            way = 0 if forward else 1
            fates, i = self.fates[way], self._carried[way]
            self._carried[way] += 1
            copies, delay_ms = fates[i] if i < len(fates) else (1, 0)
            for copy in range(copies):
                self._schedule(out, data, (delay_ms + copy) / 1000)
            return
        if self.rng.random() < self.loss:
            return
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
                    if kind == ACK and (len(payload) - HEAD.size) % 4 == 0:
                        when = time.monotonic()
                        self.acks_delivered.append((when, cum))
                        listed = frozenset(struct.unpack(f"!{(len(payload) - HEAD.size) // 4}I", payload[HEAD.size:]))
                        self.acks_log.append((when, cum, listed))
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
                sent_at = None
                try:
                    if s is self.ra:
                        data, ancillary, _, _ = s.recvmsg(65536, 64)
                        for level, kind, value in ancillary:
                            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= TIMESPEC.size:
                                sec, nsec = TIMESPEC.unpack_from(value)
                                sent_at = time.monotonic() - (time.time() - (sec + nsec / 1e9))
                    else:
                        data = s.recv(65536)
                except OSError:
                    continue
                self._carry(data, forward=s is self.ra, sent_at=sent_at)

    def has_crossed(self, seq: int) -> bool:
        with self._lock:
            return seq in self.crossed

    def first_ack_covering(self, number: int) -> float | None:
        """When an ACK whose cumulative number is above `number` first reached the sending end."""
        with self._lock:
            return next((when for when, cum in self.acks_delivered if cum > number), None)

    def sent_after_acknowledged(self, grace: float) -> dict[int, int]:
        """For each segment number: how many copies the sending end sent more than `grace` seconds after an ACK
        acknowledging it (below cum, or listed) had been delivered to it (only numbers with one such copy or more)."""
        with self._lock:
            acked_at: dict[int, float] = {}
            for when, cum, listed in self.acks_log:
                for n in listed:
                    acked_at.setdefault(n, when)
            covered = 0  # acks_log is in time order: cum's first arrival above each number
            for when, cum, _ in self.acks_log:
                while covered < cum:
                    acked_at[covered] = min(acked_at.get(covered, when), when)
                    covered += 1
            late: dict[int, int] = {}
            for when, n in self.sent_log:
                if n in acked_at and when > acked_at[n] + grace:
                    late[n] = late.get(n, 0) + 1
            return late

    def copies_sent(self) -> dict[int, list[float]]:
        """For each segment number the sending end sent: when it sent each copy (the kernel's stamps), in order."""
        with self._lock:
            copies: dict[int, list[float]] = {}
            for when, n in self.sent_log:
                copies.setdefault(n, []).append(when)
            return {n: sorted(times) for n, times in copies.items()}

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for s in (self.a, self.b, self.ra, self.rb):
            s.close()
