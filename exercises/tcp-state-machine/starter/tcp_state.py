"""The TCP connection state machine of RFC 9293 (section 3.3.2), for one endpoint.

Read README.md (`prep exercise show tcp-state-machine`) for the transitions, the
segment names and the errors. Check your work with `prep test tcp-state-machine .`,
then `prep submit tcp-state-machine .`.
"""

from __future__ import annotations

from typing import NamedTuple

STATES = (
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
)
SEGMENTS = ("SYN", "SYN+ACK", "ACK", "FIN", "FIN+ACK", "RST")


class TCPError(Exception):
    """A user call the current state does not allow; the message holds the RFC's response,
    e.g. "error: connection does not exist"."""


class Step(NamedTuple):
    state: str        # the new state, one of STATES
    send: list[str]   # the segments sent in reply, in order, each one of SEGMENTS


class Connection:
    """One endpoint of a TCP connection. Starts CLOSED."""

    def __init__(self, msl: float = 120.0) -> None:
        """msl: the maximum segment lifetime in seconds (TIME_WAIT lasts 2 * msl); ValueError unless a number > 0."""
        raise NotImplementedError("Connection: not implemented (keep the state, how SYN_RECEIVED was reached, the clock)")

    @property
    def state(self) -> str:
        raise NotImplementedError("state: not implemented")

    def listen(self) -> Step:
        """Passive OPEN."""
        raise NotImplementedError("listen: not implemented")

    def connect(self) -> Step:
        """Active OPEN."""
        raise NotImplementedError("connect: not implemented")

    def send(self) -> Step:
        """SEND: allowed or TCPError; data segments are not modelled."""
        raise NotImplementedError("send: not implemented")

    def close(self) -> Step:
        """CLOSE: no more data from this side."""
        raise NotImplementedError("close: not implemented")

    def abort(self) -> Step:
        """ABORT."""
        raise NotImplementedError("abort: not implemented")

    def receive(self, segment: str) -> Step:
        """A segment arrives: one of SEGMENTS, else ValueError."""
        raise NotImplementedError("receive: not implemented")

    def advance(self, seconds: float) -> Step:
        """Time passes (ValueError for a negative or non-number); TIME_WAIT ends after 2 * msl."""
        raise NotImplementedError("advance: not implemented")
