"""The TCP state machine of RFC 9293 as data: one dict from (state, event) to
(new state, segments sent), built from the statement's table, plus the two
rows that need memory (RST in SYN_RECEIVED, the TIME_WAIT timer)."""

from __future__ import annotations

from typing import NamedTuple

STATES = (
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
)
SEGMENTS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "RST")
CALLS = ("listen", "connect", "send", "close", "abort")
SYNCHRONIZED = ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")


class TCPError(Exception):
    """A user call the current state does not allow."""


class Step(NamedTuple):
    state: str
    send: list[str]


def _build() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    t: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}

    def row(states, events, new, *send):
        for s in states.split():
            for e in events.split():
                t[s, e] = (s if new == "=" else new, send)

    row("CLOSED", "listen", "LISTEN")
    row("CLOSED LISTEN", "connect", "SYN_SENT", "SYN")
    row("CLOSED", "SYN SYN+ACK ACK FIN FIN+ACK", "CLOSED", "RST")
    row("LISTEN SYN_SENT", "close abort", "CLOSED")
    row("LISTEN", "SYN", "SYN_RECEIVED", "SYN+ACK")
    row("LISTEN", "SYN+ACK ACK FIN FIN+ACK", "LISTEN", "RST")
    row("SYN_SENT", "SYN+ACK", "ESTABLISHED", "ACK")
    row("SYN_SENT", "SYN", "SYN_RECEIVED", "SYN+ACK")
    row("SYN_SENT", "RST", "CLOSED")
    row("SYN_RECEIVED ESTABLISHED", "close", "FIN_WAIT_1", "FIN")
    row("SYN_RECEIVED", "ACK SYN+ACK", "ESTABLISHED")
    row("SYN_RECEIVED", "FIN+ACK", "CLOSE_WAIT", "ACK")
    row("ESTABLISHED", "FIN FIN+ACK", "CLOSE_WAIT", "ACK")
    row("FIN_WAIT_1", "ACK", "FIN_WAIT_2")
    row("FIN_WAIT_1", "FIN", "CLOSING", "ACK")
    row("FIN_WAIT_1 FIN_WAIT_2", "FIN+ACK", "TIME_WAIT", "ACK")
    row("FIN_WAIT_2", "FIN", "TIME_WAIT", "ACK")
    row("CLOSE_WAIT", "close", "LAST_ACK", "FIN")
    row("CLOSE_WAIT CLOSING LAST_ACK TIME_WAIT", "FIN", "=", "ACK")
    row("CLOSE_WAIT TIME_WAIT", "FIN+ACK", "=", "ACK")
    row("CLOSING", "ACK", "TIME_WAIT")
    row("CLOSING", "FIN+ACK", "TIME_WAIT", "ACK")
    row("LAST_ACK", "ACK FIN+ACK", "CLOSED")
    row("SYN_RECEIVED ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 CLOSE_WAIT", "abort", "CLOSED", "RST")
    row("CLOSING LAST_ACK TIME_WAIT", "abort", "CLOSED")
    row(" ".join(SYNCHRONIZED), "RST", "CLOSED")
    row(" ".join(SYNCHRONIZED), "SYN SYN+ACK", "=", "ACK")
    row("SYN_SENT SYN_RECEIVED ESTABLISHED CLOSE_WAIT", "send", "=")
    return t


def _errors() -> dict[tuple[str, str], str]:
    e: dict[tuple[str, str], str] = {}
    for s in STATES:
        if s != "CLOSED":
            e[s, "listen"] = "error: connection already exists"
        if s not in ("CLOSED", "LISTEN"):
            e[s, "connect"] = "error: connection already exists"
    for call in ("send", "close", "abort"):
        e["CLOSED", call] = "error: connection does not exist"
    e["LISTEN", "send"] = "error: remote socket unspecified"
    for s in ("FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "LAST_ACK", "TIME_WAIT"):
        e[s, "send"] = e[s, "close"] = "error: connection closing"
    return e


TABLE = _build()
ERRORS = _errors()


class Connection:
    def __init__(self, msl: float = 120.0) -> None:
        if type(msl) not in (int, float) or not msl > 0:
            raise ValueError(f"msl must be a number of seconds > 0, got {msl!r}")
        self._msl = msl
        self._state = "CLOSED"
        self._opened_from = "CLOSED"  # the state SYN_RECEIVED was entered from
        self._time_wait_left = 0.0  # seconds until TIME_WAIT ends

    @property
    def state(self) -> str:
        return self._state

    def _event(self, event: str) -> Step:
        state = self._state
        if (state, event) in ERRORS:
            raise TCPError(ERRORS[state, event])
        if state == "SYN_RECEIVED" and event == "RST":
            new, send = ("LISTEN" if self._opened_from == "LISTEN" else "CLOSED"), ()
        else:
            new, send = TABLE.get((state, event), (state, ()))  # anything else is ignored
        if new == "SYN_RECEIVED" and state != "SYN_RECEIVED":
            self._opened_from = state
        if new == "TIME_WAIT" and (state != "TIME_WAIT" or event in ("FIN", "FIN+ACK")):
            self._time_wait_left = 2 * self._msl
        self._state = new
        return Step(new, list(send))

    def listen(self) -> Step:
        return self._event("listen")

    def connect(self) -> Step:
        return self._event("connect")

    def send(self) -> Step:
        return self._event("send")

    def close(self) -> Step:
        return self._event("close")

    def abort(self) -> Step:
        return self._event("abort")

    def receive(self, segment: str) -> Step:
        if segment not in SEGMENTS or type(segment) is not str:
            raise ValueError(f"not a segment: {segment!r}")
        return self._event(segment)

    def advance(self, seconds: float) -> Step:
        if type(seconds) not in (int, float) or not seconds >= 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        if self._state == "TIME_WAIT":
            self._time_wait_left -= seconds
            if self._time_wait_left <= 0:
                self._state = "CLOSED"
        return Step(self._state, [])
