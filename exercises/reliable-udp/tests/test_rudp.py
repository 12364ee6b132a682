"""Visible tests: run them with `prep test reliable-udp`.

They use a perfect link (two connected UDP sockets on loopback, no impairment). The
hidden tests put a lossy, duplicating, reordering link in between, and test your
send() against the grader's receiver and your receive() against its sender.
"""

import select
import socket
import struct
import threading

import rudp

HEADER = struct.Struct("!BI")
DATA, FIN, ACK = 0, 1, 2


def perfect_link():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    return a, b


def in_thread(fn, *args):
    out = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # shown by the test
            out["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_send_and_receive_each_other():
    data = bytes(range(256)) * 200  # 51200 bytes
    a, b = perfect_link()
    receiving, got = in_thread(rudp.receive, b)
    sending, sent = in_thread(rudp.send, a, data)
    sending.join(10)
    receiving.join(10)
    assert not sending.is_alive() and not receiving.is_alive(), "send() and receive() must return within 10 s"
    assert "error" not in sent and "error" not in got, sent.get("error") or got.get("error")
    assert got["value"] == data
    a.close()
    b.close()


def test_send_speaks_the_wire_format():
    """A minimal receiver written from the statement: it checks each DATA and FIN, and ACKs with cum."""
    a, b = perfect_link()
    data = b"x" * 3000
    sending, sent = in_thread(rudp.send, a, data)
    segments, fin, cum = {}, None, 0
    while fin is None or cum <= fin:
        ready, _, _ = select.select([b], [], [], 5)
        assert ready, "send() sent nothing for 5 s"
        d = b.recv(65536)
        assert len(d) <= 1200 and len(d) >= HEADER.size, f"a datagram of {len(d)} bytes"
        kind, number = HEADER.unpack_from(d)
        assert kind in (DATA, FIN), f"send() sent a datagram of type {kind}"
        if kind == DATA:
            assert 1 <= len(d) - HEADER.size <= 1195, f"DATA {number} carries {len(d) - HEADER.size} bytes"
            segments[number] = d[HEADER.size:]
        else:
            assert len(d) == HEADER.size, "a FIN is exactly 5 bytes"
            fin = number
        while cum in segments or cum == fin:
            cum += 1
        b.send(HEADER.pack(ACK, cum))
    sending.join(5)
    assert not sending.is_alive(), "send() did not return once its FIN was acknowledged"
    assert b"".join(segments[i] for i in range(fin)) == data
    a.close()
    b.close()


def test_receive_from_a_go_back_n_sender():
    """One DATA segment at a time, the FIN first and again at the end: receive() must put it all together."""
    a, b = perfect_link()
    receiving, got = in_thread(rudp.receive, b)
    pieces = [b"Hello, ", b"reliable ", b"world"]
    a.send(HEADER.pack(FIN, len(pieces)))  # the FIN may overtake the data
    for i, piece in enumerate(pieces):
        a.send(HEADER.pack(DATA, i) + piece)
    a.send(HEADER.pack(FIN, len(pieces)))
    acks = []
    a.settimeout(2)
    while not acks or HEADER.unpack_from(acks[-1])[1] < len(pieces) + 1:
        try:
            acks.append(a.recv(1200))
        except socket.timeout:
            raise AssertionError(got.get("error") or "receive() sent no ACK for 2 s") from None
    first_kind, first_cum = HEADER.unpack_from(acks[0])
    assert first_kind == ACK and first_cum == 0, "the ACK of a FIN that came first says cum 0"
    assert acks[0][HEADER.size:] in (b"", struct.pack("!I", 3)), "it may list segment 3, the FIN, above cum"
    receiving.join(5)
    assert not receiving.is_alive(), "receive() did not return within 5 s"
    assert got.get("value") == b"Hello, reliable world", got
    a.close()
    b.close()
