"""A sliding-window ARQ over a connected UDP socket: send() and receive()."""

from __future__ import annotations

import socket

MAX_DATAGRAM = 1200  # the link drops anything larger


def send(sock: socket.socket, data: bytes) -> None:
    """Deliver `data` reliably through the link; return once all of it is acknowledged."""
    raise NotImplementedError("not implemented: send(sock, data)")


def receive(sock: socket.socket) -> bytes:
    """Return the whole message sent by send(), in order, without duplicates."""
    raise NotImplementedError("not implemented: receive(sock)")
