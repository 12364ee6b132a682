"""Visible tests: run them with `prep test reliable-udp`.

They use a perfect link (two connected UDP sockets on loopback, no impairment);
the hidden tests put a lossy, duplicating, reordering link in between.
"""

import socket
import threading

import rudp


def perfect_link():
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    a.connect(b.getsockname())
    b.connect(a.getsockname())
    return a, b


def transfer(data: bytes) -> bytes:
    a, b = perfect_link()
    got = {}
    receiver = threading.Thread(target=lambda: got.setdefault("data", rudp.receive(b)), daemon=True)
    receiver.start()
    sender = threading.Thread(target=rudp.send, args=(a, data), daemon=True)
    sender.start()
    sender.join(10)
    receiver.join(10)
    assert not sender.is_alive(), "send() did not return within 10 s on a perfect link"
    assert not receiver.is_alive(), "receive() did not return within 10 s on a perfect link"
    a.close()
    b.close()
    return got["data"]


def test_small_message():
    assert transfer(b"hello, reliable world") == b"hello, reliable world"


def test_message_larger_than_one_datagram():
    data = bytes(range(256)) * 200  # 51200 bytes
    assert transfer(data) == data


def test_empty_message():
    assert transfer(b"") == b""
