"""Visible tests: run them with `prep test half-close`."""

import json
import os
import select
import socket
import threading
import time

import halfclose


def in_child(fn, *args):
    """Run fn(*args) in a forked process (its own main thread); return a function that waits for its value."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            out = {"value": fn(*args)}
        except BaseException as exc:  # reported to the test
            out = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)

    def result(timeout=5.0):
        ready, _, _ = select.select([r], [], [], timeout)
        if not ready:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError(f"{fn.__name__} did not return within {timeout} s")
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        out = json.loads(data or b'{"error": "the process died"}')
        assert "error" not in out, f"{fn.__name__} raised {out.get('error')}"
        return out["value"]

    return result


def test_request_sends_half_closes_and_reads_the_reply():
    listener = socket.create_server(("127.0.0.1", 0))
    seen = {}

    def server():
        conn, _ = listener.accept()
        conn.settimeout(5)
        data = b""
        while chunk := conn.recv(4096):  # the request ends at the client's FIN
            data += chunk
        seen["request"] = data
        conn.sendall(b"got " + data)
        conn.close()

    t = threading.Thread(target=server, daemon=True)
    t.start()
    reply = halfclose.request("127.0.0.1", listener.getsockname()[1], b"ping")
    t.join(5)
    assert seen.get("request") == b"ping"
    assert reply == b"got ping"


def test_forking_server_answers_and_returns_statuses():
    listener = socket.create_server(("127.0.0.1", 0))
    result = in_child(halfclose.serve_forking, listener, 2)
    for text in (b"first", b"second"):
        c = socket.create_connection(listener.getsockname())
        c.settimeout(3)
        c.sendall(text)
        c.shutdown(socket.SHUT_WR)
        reply = b""
        try:
            while chunk := c.recv(4096):
                reply += chunk
        except socket.timeout:
            result(0.5)  # shows serve_forking's exception, if it raised one
            raise AssertionError("no end of stream after the reply: does the parent close its copy?")
        assert reply == text.upper()
        c.close()
    assert result() == [0, 0]


def test_deadline_ends_a_silent_connection_with_eof():
    listener = socket.create_server(("127.0.0.1", 0))
    result = in_child(halfclose.serve_with_deadline, listener, 1, 0.5)
    c = socket.create_connection(listener.getsockname())
    c.settimeout(3)
    c.sendall(b"never finished")  # no shutdown: the child waits for more
    start = time.monotonic()
    try:
        assert c.recv(4096) == b"", "at the deadline the client must see end of stream"
    except socket.timeout:
        result(0.5)  # shows serve_with_deadline's exception, if it raised one
        raise AssertionError("the connection was still open long after its deadline")
    assert time.monotonic() - start >= 0.3, "the connection ended before its deadline"
    c.close()
    assert result() == [1], "the child must finish on its own, with status 1 (its reply could not be sent)"
