"""Visible tests: run them with `prep test epoll-echo`."""

import socket
import threading

import pytest

from epollecho import serve


@pytest.fixture
def server():
    """server(n) -> the address of a listener that serve(listener, n) runs on, in a thread."""
    started = []

    def start(n):
        listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        out = {}

        def run():
            try:
                out["value"] = serve(listener, n)
            except BaseException as exc:  # shown by the test
                out["error"] = f"serve raised {type(exc).__name__}: {exc}"

        t = threading.Thread(target=run, daemon=True)
        t.start()
        started.append((t, out, listener))
        return listener.getsockname(), out, t

    yield start
    for t, _, listener in started:
        t.join(3)
        listener.close()


def echo_of(address, data, out):
    c = socket.create_connection(address, timeout=3)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while chunk := c.recv(65536):
            got += chunk
    except socket.timeout:
        raise AssertionError(out.get("error") or f"no end of stream after {len(got)} of {len(data)} bytes") from None
    c.close()
    return got


def test_echo_and_end_of_stream(server):
    address, out, t = server(1)
    assert echo_of(address, b"hello, epoll\n", out) == b"hello, epoll\n"
    t.join(3)
    assert out.get("value") == 13, out.get("error") or f"serve() should return 13, returned {out.get('value')!r}"


def test_a_large_message_comes_back_whole(server):
    data = bytes(range(256)) * 8192  # 2 MiB: many reads, and sends that do not fit at once
    address, out, t = server(1)
    got = echo_of(address, data, out)
    assert len(got) == len(data) and got == data


def test_several_clients_at_once(server):
    address, out, t = server(20)
    clients = [socket.create_connection(address, timeout=3) for _ in range(20)]
    for i, c in enumerate(clients):
        c.sendall(b"client %d\n" % i)
    for i, c in enumerate(clients):
        try:
            assert c.recv(100) == b"client %d\n" % i
        except socket.timeout:
            raise AssertionError(out.get("error") or f"client {i} got no echo within 3 s") from None
        c.close()
    t.join(3)
    assert not t.is_alive(), "serve() should return once its 20 connections have ended"
