"""Visible tests: run them with `prep test http-server`."""

import socket
import threading

import pytest

from httpserver import serve_connection

errors = []  # exceptions raised by serve_connection, shown when a response is missing


def run(conn, root):
    try:
        serve_connection(conn, root)
    except BaseException as exc:  # shown in the failing test's message
        errors.append(f"serve_connection raised {type(exc).__name__}: {exc}")
        conn.close()


@pytest.fixture
def connect(tmp_path):
    """connect() -> a client socket whose other end is served by serve_connection(root=tmp_path/www)."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "hello.txt").write_bytes(b"hello, world\n")
    threads = []

    def connect():
        with socket.create_server(("127.0.0.1", 0)) as listener:
            client = socket.create_connection(listener.getsockname())
            conn, _ = listener.accept()
        t = threading.Thread(target=run, args=(conn, str(root)), daemon=True)
        t.start()
        threads.append(t)
        client.settimeout(3)
        return client

    yield connect
    for t in threads:
        t.join(3)


def read_response(sock):
    """(status, headers with lower-case names, body) of one response to a GET."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            raise AssertionError(errors[-1] if errors else "the server reset the connection") from None
        assert chunk, (errors[-1] if errors else f"the connection ended before a whole response head arrived: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    assert "content-length" in headers, f"no Content-Length in {lines[0]!r}"
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(4096)
        assert chunk, "the connection ended in the middle of the body"
        body += chunk
    return status, headers, body


def test_get_a_file(connect):
    c = connect()
    c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n")
    status, headers, body = read_response(c)
    assert status == 200
    assert headers["content-length"] == "13"
    assert headers["content-type"].startswith("text/plain")
    assert body == b"hello, world\n"
    c.close()


def test_http10_closes_after_one_response(connect):
    c = connect()
    c.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
    status, _, body = read_response(c)
    assert status == 200 and body == b"hello, world\n"
    assert c.recv(100) == b"", "an HTTP/1.0 connection without keep-alive must end after the response"
    c.close()


def test_404_keeps_an_http11_connection_open(connect):
    c = connect()
    c.sendall(b"GET /nope.txt HTTP/1.1\r\nHost: test\r\n\r\n")
    assert read_response(c)[0] == 404
    c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    status, headers, _ = read_response(c)
    assert status == 200 and headers.get("connection", "").lower() == "close"
    assert c.recv(100) == b""
    c.close()
