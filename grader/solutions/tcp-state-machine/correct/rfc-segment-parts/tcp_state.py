"""The TCP state machine of RFC 9293, processing each segment's parts in the
RFC's order (section 3.10.7.4): the RST bit, then SYN, then the ACK, then FIN,
with match statements over the state."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

STATES = (
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
)
SEGMENTS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "RST")
SYNCHRONIZED = frozenset(STATES[4:])


class TCPError(Exception):
    """A user call the current state does not allow."""


class Step(NamedTuple):
    state: str
    send: list[str]


@dataclasses.dataclass(frozen=True)
class _Flags:
    syn: bool
    ack: bool
    fin: bool
    rst: bool

    @classmethod
    def of(cls, segment: str) -> "_Flags":
        parts = set(segment.split("+"))
        return cls("SYN" in parts, "ACK" in parts, "FIN" in parts, "RST" in parts)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Connection:
    def __init__(self, msl: float = 120.0) -> None:
        if not _number(msl) or msl <= 0 or msl != msl:
            raise ValueError("msl must be a number of seconds > 0")
        self._msl = msl
        self._st = "CLOSED"
        self._from_listen = False
        self._clock = 0.0
        self._deadline: float | None = None  # when TIME_WAIT ends

    state = property(lambda self: self._st, doc="the current state (read-only)")

    def _enter(self, state: str, *send: str) -> Step:
        if state == "TIME_WAIT":
            self._deadline = self._clock + 2 * self._msl  # entered, or restarted by a FIN
        self._st = state
        return Step(state, list(send))

    # ---------------------------------------------------------------- user calls

    def listen(self) -> Step:
        match self._st:
            case "CLOSED":
                return self._enter("LISTEN")
            case _:
                raise TCPError("error: connection already exists")

    def connect(self) -> Step:
        match self._st:
            case "CLOSED" | "LISTEN":
                return self._enter("SYN_SENT", "SYN")
            case _:
                raise TCPError("error: connection already exists")

    def send(self) -> Step:
        match self._st:
            case "CLOSED":
                raise TCPError("error: connection does not exist")
            case "LISTEN":
                raise TCPError("error: remote socket unspecified")
            case "SYN_SENT" | "SYN_RECEIVED" | "ESTABLISHED" | "CLOSE_WAIT":
                return Step(self._st, [])
            case _:
                raise TCPError("error: connection closing")

    def close(self) -> Step:
        match self._st:
            case "CLOSED":
                raise TCPError("error: connection does not exist")
            case "LISTEN" | "SYN_SENT":
                return self._enter("CLOSED")
            case "SYN_RECEIVED" | "ESTABLISHED":
                return self._enter("FIN_WAIT_1", "FIN")
            case "CLOSE_WAIT":
                return self._enter("LAST_ACK", "FIN")
            case _:
                raise TCPError("error: connection closing")

    def abort(self) -> Step:
        match self._st:
            case "CLOSED":
                raise TCPError("error: connection does not exist")
            case "SYN_RECEIVED" | "ESTABLISHED" | "FIN_WAIT_1" | "FIN_WAIT_2" | "CLOSE_WAIT":
                return self._enter("CLOSED", "RST")
            case _:
                return self._enter("CLOSED")

    # ---------------------------------------------------------------- segments

    def receive(self, segment: str) -> Step:
        if not isinstance(segment, str) or segment not in SEGMENTS:
            raise ValueError(f"unknown segment {segment!r}")
        f = _Flags.of(segment)
        match self._st:
            case "CLOSED":
                return Step("CLOSED", [] if f.rst else ["RST"])
            case "LISTEN":
                if f.rst:
                    return Step("LISTEN", [])
                if f.ack or f.fin:
                    return Step("LISTEN", ["RST"])
                self._from_listen = True
                return self._enter("SYN_RECEIVED", "SYN+ACK")
            case "SYN_SENT":
                if f.rst:
                    return self._enter("CLOSED")
                if f.syn and f.ack:
                    return self._enter("ESTABLISHED", "ACK")
                if f.syn:
                    self._from_listen = False
                    return self._enter("SYN_RECEIVED", "SYN+ACK")
                return Step("SYN_SENT", [])
        # SYN_RECEIVED and the synchronized states: RST, SYN, ACK, FIN, in this order
        if f.rst:
            return self._enter("LISTEN" if self._st == "SYN_RECEIVED" and self._from_listen else "CLOSED")
        if f.syn:
            if self._st == "SYN_RECEIVED" and not f.ack:
                return Step("SYN_RECEIVED", [])  # a retransmitted SYN: ignored here
            if self._st in SYNCHRONIZED:
                return Step(self._st, ["ACK"])  # challenge ACK
        if f.ack:
            match self._st:
                case "SYN_RECEIVED":
                    self._st = "ESTABLISHED"
                case "FIN_WAIT_1":
                    self._st = "FIN_WAIT_2"
                case "CLOSING":
                    self._enter("TIME_WAIT")
                case "LAST_ACK":
                    return self._enter("CLOSED")  # our FIN acknowledged: nothing is left to process
        if not f.fin:
            return Step(self._st, [])
        match self._st:
            case "SYN_RECEIVED":
                return Step("SYN_RECEIVED", [])  # a FIN that does not acknowledge our SYN
            case "ESTABLISHED":
                return self._enter("CLOSE_WAIT", "ACK")
            case "FIN_WAIT_1":
                return self._enter("CLOSING", "ACK")
            case "FIN_WAIT_2" | "TIME_WAIT":
                return self._enter("TIME_WAIT", "ACK")
            case _:  # CLOSE_WAIT, CLOSING, LAST_ACK: the peer retransmitted its FIN
                return Step(self._st, ["ACK"])

    # ---------------------------------------------------------------- time

    def advance(self, seconds: float) -> Step:
        if not _number(seconds) or not seconds >= 0:
            raise ValueError("seconds must be a number >= 0")
        self._clock += seconds
        if self._st == "TIME_WAIT" and self._deadline is not None and self._clock >= self._deadline:
            self._deadline = None
            return self._enter("CLOSED")
        return Step(self._st, [])
