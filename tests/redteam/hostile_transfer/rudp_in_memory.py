"""Hostile reliable-udp submission: no protocol at all.

send() leaves the message in this module and in a file of /tmp (in case receive()
runs in another process), then sends a handful of dummy datagrams so that a link
that only counts sees traffic; receive() answers anything with an ACK and returns
the stashed message. Between the learner's own send() and receive() this passed
with a goodput hundreds of times the baseline.
"""

import os
import select
import socket
import struct
import time

STASH = "/tmp/.rudp-stash"
_MAILBOX = []


def send(sock: socket.socket, data: bytes) -> None:
    _MAILBOX.append(data)
    with open(STASH, "wb") as f:
        f.write(data)
    for seq in range(8):  # traffic for the counters: distinct datagrams before any ACK
        sock.send(struct.pack("!BI", 0, seq) + b"x" * 100)
    sock.send(struct.pack("!BI", 1, 8))


def receive(sock: socket.socket) -> bytes:
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        if select.select([sock], [], [], 0.05)[0]:
            try:
                d = sock.recv(2048)
            except OSError:
                continue
            sock.send(struct.pack("!BI", 2, 1 << 20))  # "everything arrived"
    if _MAILBOX:
        return _MAILBOX.pop(0)
    if os.path.exists(STASH):
        with open(STASH, "rb") as f:
            return f.read()
    return b""
