"""The TCP connection state machine of RFC 9293 (section 3.3.2, Figure 5, and the event
processing of section 3.10), for one endpoint, at the level of states and segment kinds."""

from __future__ import annotations

from typing import NamedTuple

STATES = (
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
)
SEGMENTS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "RST")

SYNCHRONIZED = ("ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")
DOES_NOT_EXIST = "error: connection does not exist"
ALREADY_EXISTS = "error: connection already exists"
CLOSING = "error: connection closing"


class TCPError(Exception):
    """A user call the current state does not allow (the RFC's "error: ..." responses)."""


class Step(NamedTuple):
    state: str
    send: list[str]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Connection:
    """One endpoint's connection: its state, how it was opened, and the TIME_WAIT timer."""

    def __init__(self, msl: float = 120.0) -> None:
        if not _is_number(msl) or not msl > 0:
            raise ValueError(f"msl must be a number of seconds > 0, got {msl!r}")
        self.msl = msl
        self._state = "CLOSED"
        self._passive = False  # reached SYN_RECEIVED from LISTEN (RFC 9293 MUST-11)
        self._now = 0.0
        self._time_wait_ends = 0.0

    @property
    def state(self) -> str:
        return self._state

    # ------------------------------------------------------------ user calls

    def listen(self) -> Step:
        if self._state != "CLOSED":
            raise TCPError(ALREADY_EXISTS)
        self._passive = True
        return self._go("LISTEN")

    def connect(self) -> Step:
        if self._state not in ("CLOSED", "LISTEN"):
            raise TCPError(ALREADY_EXISTS)
        self._passive = False
        return self._go("SYN_SENT", "SYN")

    def send(self) -> Step:
        if self._state == "CLOSED":
            raise TCPError(DOES_NOT_EXIST)
        if self._state == "LISTEN":
            raise TCPError("error: remote socket unspecified")
        if self._state in ("SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT"):
            return self._go(self._state)  # queued or sent; data segments are not modelled
        raise TCPError(CLOSING)

    def close(self) -> Step:
        state = self._state
        if state == "CLOSED":
            raise TCPError(DOES_NOT_EXIST)
        if state in ("LISTEN", "SYN_SENT"):
            return self._go("CLOSED")
        if state in ("SYN_RECEIVED", "ESTABLISHED"):
            return self._go("FIN_WAIT_1", "FIN")
        if state == "CLOSE_WAIT":
            return self._go("LAST_ACK", "FIN")
        raise TCPError(CLOSING)

    def abort(self) -> Step:
        state = self._state
        if state == "CLOSED":
            raise TCPError(DOES_NOT_EXIST)
        if state in ("SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT"):
            return self._go("CLOSED", "RST")
        return self._go("CLOSED")  # LISTEN, SYN_SENT, CLOSING, LAST_ACK, TIME_WAIT: nothing to reset

    # ------------------------------------------------------------ the network and the clock

    def receive(self, segment: str) -> Step:
        if not isinstance(segment, str) or segment not in SEGMENTS:
            raise ValueError(f"unknown segment {segment!r}: expected one of {', '.join(SEGMENTS)}")
        state = self._state
        if state == "CLOSED":
            return self._go("CLOSED") if segment == "RST" else self._go("CLOSED", "RST")
        if state == "LISTEN":
            if segment == "SYN":
                self._passive = True
                return self._go("SYN_RECEIVED", "SYN+ACK")
            if segment == "RST":
                return self._go("LISTEN")
            return self._go("LISTEN", "RST")  # any acknowledgment is bad in LISTEN
        if segment == "RST":
            if state == "SYN_RECEIVED" and self._passive:
                return self._go("LISTEN")
            return self._go("CLOSED")
        if state == "SYN_SENT":
            if segment == "SYN+ACK":
                return self._go("ESTABLISHED", "ACK")
            if segment == "SYN":
                self._passive = False
                return self._go("SYN_RECEIVED", "SYN+ACK")
            return self._go(state)
        if state == "SYN_RECEIVED":
            if segment in ("ACK", "SYN+ACK"):
                return self._go("ESTABLISHED")
            if segment == "FIN+ACK":
                return self._go("CLOSE_WAIT", "ACK")
            return self._go(state)
        # synchronized states
        if segment in ("SYN", "SYN+ACK"):
            return self._go(state, "ACK")  # an old duplicate, or RFC 5961's challenge ACK
        if segment == "ACK":
            return self._go(self._after_ack(state))
        if segment == "FIN+ACK":
            if state == "LAST_ACK":
                return self._go("CLOSED")  # our FIN acknowledged: the TCB is gone, nothing more
            state = self._after_ack(state)
        return self._fin(state)

    def _after_ack(self, state: str) -> str:
        """The state once our outstanding FIN is acknowledged (unchanged when none is)."""
        return {"FIN_WAIT_1": "FIN_WAIT_2", "CLOSING": "TIME_WAIT", "LAST_ACK": "CLOSED"}.get(state, state)

    def _fin(self, state: str) -> Step:
        """The peer's FIN, in `state`: always acknowledged."""
        if state == "ESTABLISHED":
            return self._go("CLOSE_WAIT", "ACK")
        if state == "FIN_WAIT_1":
            return self._go("TIME_WAIT", "ACK")  # both FINs are out: time to wait
        if state in ("FIN_WAIT_2", "TIME_WAIT"):
            return self._go("TIME_WAIT", "ACK", restart_timer=True)
        return self._go(state, "ACK")  # CLOSE_WAIT, CLOSING, LAST_ACK: a retransmitted FIN

    def advance(self, seconds: float) -> Step:
        if not _is_number(seconds) or not seconds >= 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        self._now += seconds
        if self._state == "TIME_WAIT" and self._now >= self._time_wait_ends:
            return self._go("CLOSED")
        return self._go(self._state)

    def _go(self, state: str, *send: str, restart_timer: bool = False) -> Step:
        if state == "TIME_WAIT" and (self._state != "TIME_WAIT" or restart_timer):
            self._time_wait_ends = self._now + 2 * self.msl
        self._state = state
        return Step(state, list(send))
