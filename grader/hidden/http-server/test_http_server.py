# canary: hidden-test-http-server
"""Hidden tests for http-server: a client on loopback talks to serve_connection."""

from __future__ import annotations

import os
import random
import socket
import struct
import time

import pytest

WAIT = 3.0  # seconds a client waits for any one thing before calling it missing

HELLO = b"hello, world\n"
INDEX = b"<html><body>home</body></html>\n"
SUB_INDEX = b"<html><body>sub</body></html>\n"
UNICODE = "h\u00e9llo w\u00f6rld \u2713 \u4f60\u597d \U0001f642\n".encode("utf-8")
CAFE = "caf\u00e9 au lait\n".encode("utf-8")
SECRET = b"SECRET-6b1f: must never be served\n"
BIG = random.Random(6).randbytes(300_000)

FILES = {
    "www/hello.txt": HELLO,
    "www/index.html": INDEX,
    "www/style.css": b"body { color: black }\n",
    "www/app.js": b"console.log(1);\n",
    "www/data.json": b'{"a": 1}\n',
    "www/pic.png": b"\x89PNG\r\n\x1a\n" + bytes(range(40)),
    "www/photo.JPG": b"\xff\xd8\xff\xe0" + bytes(20),
    "www/README": b"no extension\n",
    "www/big.bin": BIG,
    "www/unicode.txt": UNICODE,
    "www/caf\u00e9.txt": CAFE,
    "www/sub/index.html": SUB_INDEX,
    "www/sub/page.txt": b"a page in sub\n",
    "www/empty/.keep": b"",
    "secret.txt": SECRET,
}


# ---------------------------------------------------------------- harness


@pytest.fixture
def site(learner):
    for path, data in FILES.items():
        learner.write_file(path, data)
    return os.path.join(learner.workdir, "www")


class Response:
    def __init__(self, status_line: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_line = status_line
        parts = status_line.split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def conn_tokens(self) -> set[str]:
        return {t.strip().lower() for t in (self.header("Connection") or "").split(",") if t.strip()}

    def __repr__(self) -> str:
        return f"{self.status_line!r} with headers {dict(self.headers)}"


class Client:
    """A raw HTTP client on one connection to the learner's serve_connection."""

    def __init__(self, sock: socket.socket, pending) -> None:
        self.sock = sock
        self.pending = pending
        self.buf = b""
        sock.settimeout(WAIT)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _recv(self) -> bytes:
        """recv, waiting at most WAIT seconds; if serve_connection raises meanwhile, its exception."""
        end = time.monotonic() + WAIT
        while True:
            self.sock.settimeout(min(0.1, max(0.01, end - time.monotonic())))
            try:
                return self.sock.recv(65536)
            except socket.timeout:
                if self.pending.done():
                    self.pending.result(timeout=0.1)  # raises the learner's exception, if any
                if time.monotonic() >= end:
                    raise

    def _more(self, what: str) -> bool:
        try:
            chunk = self._recv()
        except socket.timeout:
            raise AssertionError(f"waited {WAIT:g} s for {what}, but nothing more arrived "
                                 "(the server neither answered nor closed the connection)") from None
        except ConnectionResetError:
            raise AssertionError(f"the connection was reset (RST) while the client waited for {what}") from None
        if not chunk:
            return False
        self.buf += chunk
        return True

    def response(self, method: str = "GET", what: str = "a response") -> Response:
        while b"\r\n\r\n" not in self.buf:
            if not self._more(f"{what} (its status line and headers)"):
                detail = f": it had sent {self.buf[:200]!r}" if self.buf else ""
                raise AssertionError(f"the connection ended before {what} arrived{detail}{self._raised()}")
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon, f"the response header line {line!r} has no colon (in {what})"
            headers.append((name.strip(), value.strip()))
        resp = Response(lines[0], headers, b"")
        assert resp.status > 0, (
            f"{what} starts with {lines[0][:40]!r}, which is not a status line like 'HTTP/1.1 200 OK': the response "
            "before it probably sent more body bytes than its Content-Length said, or a body where none belongs "
            "(HEAD, 304)")
        if method == "HEAD" or resp.status == 304:
            return resp
        length = resp.header("Content-Length")
        assert length is not None and length.isdigit(), (
            f"{what} ({lines[0]!r}) has no valid Content-Length, so the client cannot tell where its body ends")
        n = int(length)
        while len(self.buf) < n:
            if not self._more(f"the {n}-byte body of {what}"):
                raise AssertionError(f"the connection ended after {len(self.buf)} of the {n} body bytes that "
                                     f"Content-Length announced in {what}")
        resp.body, self.buf = self.buf[:n], self.buf[n:]
        return resp

    def expect_eof(self, why: str) -> None:
        if self.buf:
            raise AssertionError(f"{why}, but the server sent more bytes: {self.buf[:120]!r}")
        try:
            chunk = self._recv()
        except socket.timeout:
            raise AssertionError(f"{why}, but after {WAIT:g} s the connection was still open") from None
        except ConnectionResetError:
            raise AssertionError(f"{why}: the connection should end with a FIN (recv returns b''), "
                                 "but it was reset (RST, ECONNRESET): close() with unread client bytes "
                                 "in the receive buffer sends a reset") from None
        assert chunk == b"", f"{why}, but the server sent more bytes: {chunk[:120]!r}"

    def finish(self, seconds: float = WAIT) -> None:
        """Close the client side and check that serve_connection returns."""
        self.sock.close()
        try:
            self.pending.result(timeout=seconds)
        except AssertionError:
            raise
        except Exception as exc:  # noqa: BLE001: the learner's exception or a timeout
            if type(exc).__name__ == "LearnerTimeout":
                raise AssertionError(f"serve_connection did not return within {seconds:g} s after the "
                                     "client closed the connection") from None
            raise

    def _raised(self) -> str:
        if self.pending.done():
            try:
                self.pending.result(timeout=0.1)
            except Exception as exc:  # noqa: BLE001
                return f" (serve_connection raised {exc})"
        return ""


def connect(learner, root: str) -> Client:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server_side, _ = listener.accept()
    pending = learner.start("serve_connection", server_side, root)
    server_side.close()  # the learner's process holds the only other reference now
    return Client(client, pending)


def get(path: str, version: str = "HTTP/1.1", headers: str = "", method: str = "GET") -> bytes:
    host = "Host: test\r\n" if version != "HTTP/1.0" else ""
    return f"{method} {path} {version}\r\n{host}{headers}\r\n".encode("utf-8")


def get_bytes(path: bytes, headers: bytes = b"") -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\nHost: test\r\n" + headers + b"\r\n"


# ---------------------------------------------------------------- tests


def test_get_files_with_length_type_and_etag(learner, site):
    c = connect(learner, site)
    cases = [
        ("/hello.txt", HELLO, "text/plain; charset=utf-8"),
        ("/index.html", INDEX, "text/html; charset=utf-8"),
        ("/style.css", FILES["www/style.css"], "text/css; charset=utf-8"),
        ("/app.js", FILES["www/app.js"], "text/javascript; charset=utf-8"),
        ("/data.json", FILES["www/data.json"], "application/json"),
        ("/pic.png", FILES["www/pic.png"], "image/png"),
        ("/photo.JPG", FILES["www/photo.JPG"], "image/jpeg"),
        ("/README", FILES["www/README"], "application/octet-stream"),
        ("/big.bin", BIG, "application/octet-stream"),
        ("/hello.txt?x=1&y=2", HELLO, "text/plain; charset=utf-8"),
    ]
    for path, body, ctype in cases:
        c.send(get(path))
        r = c.response(what=f"the response to GET {path}")
        assert r.status == 200, f"GET {path}: expected 200, got {r!r}"
        assert r.version == "HTTP/1.1", f"GET {path}: the status line should start with HTTP/1.1, got {r.status_line!r}"
        assert r.body == body, f"GET {path}: the body is not the file's content ({len(r.body)} bytes, the file has {len(body)})"
        got_type = (r.header("Content-Type") or "").replace(" ", "").lower()
        assert got_type == ctype.replace(" ", "").lower(), f"GET {path}: expected Content-Type {ctype!r}, got {r.header('Content-Type')!r}"
        etag = r.header("ETag") or ""
        assert len(etag) >= 2 and etag.endswith('"') and (etag.startswith('"') or etag.startswith('W/"')), (
            f"GET {path}: expected an ETag that is a quoted string, got {r.header('ETag')!r}")
    c.finish()


def test_content_types_of_the_less_common_extensions(learner, site):
    extra = {
        "page.htm": (b"<html><body>htm</body></html>\n", "text/html; charset=utf-8"),
        "OLD.HTM": (b"<html><body>HTM</body></html>\n", "text/html; charset=utf-8"),
        "shot.jpeg": (b"\xff\xd8\xff\xe1" + bytes(16), "image/jpeg"),
        "Shot2.JPEG": (b"\xff\xd8\xff\xdb" + bytes(16), "image/jpeg"),
        "anim.gif": (b"GIF89a" + bytes(20), "image/gif"),
        "anim2.Gif": (b"GIF87a" + bytes(20), "image/gif"),
        "logo.svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>\n', "image/svg+xml"),
        "logo2.SVG": (b'<svg xmlns="http://www.w3.org/2000/svg" width="1"/>\n', "image/svg+xml"),
        "notes.svgz": (b"\x1f\x8b" + bytes(10), "application/octet-stream"),
    }
    for name, (data, _) in extra.items():
        learner.write_file("www/types/" + name, data)
    c = connect(learner, site)
    for name, (data, ctype) in extra.items():
        path = "/types/" + name
        c.send(get(path))
        r = c.response(what=f"the response to GET {path}")
        assert r.status == 200, f"GET {path}: expected 200, got {r!r}"
        assert r.body == data, f"GET {path}: the body is not the file's content ({len(r.body)} bytes, the file has {len(data)})"
        got_type = (r.header("Content-Type") or "").replace(" ", "").lower()
        assert got_type == ctype.replace(" ", "").lower(), (
            f"GET {path}: expected Content-Type {ctype!r} (by the extension, without regard to case), "
            f"got {r.header('Content-Type')!r}"
        )
    c.finish()


@pytest.mark.cards("http-content-length-counts-octets")
def test_content_length_counts_bytes_of_a_utf8_file(learner, site):
    c = connect(learner, site)
    c.send(get("/unicode.txt") + get("/caf%C3%A9.txt") + get("/hello.txt"))
    r = c.response(what="the response to GET /unicode.txt")
    assert r.status == 200, f"GET /unicode.txt: expected 200, got {r!r}"
    assert r.header("Content-Length") == str(len(UNICODE)), (
        f"GET /unicode.txt: the file is {len(UNICODE)} bytes of UTF-8 ({len(UNICODE.decode())} characters); "
        f"Content-Length must count bytes, got {r.header('Content-Length')}")
    assert r.body == UNICODE, "GET /unicode.txt: the body is not the file's bytes"
    r = c.response(what="the response to GET /caf%C3%A9.txt (the file caf\u00e9.txt)")
    assert r.status == 200 and r.body == CAFE, (
        f"GET /caf%C3%A9.txt: the percent-encoded UTF-8 path names the file caf\u00e9.txt; expected 200 and its "
        f"{len(CAFE)} bytes, got {r!r} with {len(r.body)} bytes")
    r = c.response(what="the response to the GET /hello.txt sent after them")
    assert r.status == 200 and r.body == HELLO, "the response after the UTF-8 files is out of step with the requests"
    c.finish()


@pytest.mark.cards("http-message-framing-persistent")
def test_head_sends_the_get_headers_without_a_body(learner, site):
    c = connect(learner, site)
    c.send(get("/big.bin", method="HEAD") + get("/nope.txt", method="HEAD") + get("/hello.txt"))
    r = c.response("HEAD", what="the response to HEAD /big.bin")
    assert r.status == 200, f"HEAD /big.bin: expected 200, got {r!r}"
    assert r.header("Content-Length") == str(len(BIG)), (
        f"HEAD /big.bin: Content-Length must be the length GET would send ({len(BIG)}), got {r.header('Content-Length')}")
    r = c.response("HEAD", what="the response to HEAD /nope.txt")
    assert r.status == 404, (f"HEAD /nope.txt: expected 404, got {r.status_line!r} (a body after the previous HEAD "
                             "response would show up here)")
    r = c.response(what="the response to the GET /hello.txt that followed two HEAD requests")
    assert r.status == 200 and r.body == HELLO, (
        f"expected 200 with hello.txt after the two HEAD responses, got {r!r}: a HEAD response must have no body")
    c.finish()


def test_directory_redirect_and_index(learner, site):
    c = connect(learner, site)
    c.send(get("/sub"))
    r = c.response(what="the response to GET /sub")
    assert r.status == 301, f"GET /sub names a directory without its trailing slash: expected 301, got {r!r}"
    assert r.header("Location") == "/sub/", f"GET /sub: expected Location: /sub/, got {r.header('Location')!r}"
    for path, status, body in [("/sub/", 200, SUB_INDEX), ("/", 200, INDEX), ("/sub/page.txt", 200, b"a page in sub\n"),
                               ("/empty/", 404, None)]:
        c.send(get(path))
        r = c.response(what=f"the response to GET {path}")
        assert r.status == status, f"GET {path}: expected {status}, got {r!r}"
        if body is not None:
            assert r.body == body, f"GET {path}: expected the content of its index.html"
            assert (r.header("Content-Type") or "").startswith(("text/html", "text/plain")), (
                f"GET {path}: unexpected Content-Type {r.header('Content-Type')!r}")
    c.send(get("/empty"))
    r = c.response(what="the response to GET /empty")
    assert r.status == 301 and r.header("Location") == "/empty/", f"GET /empty: expected 301 to /empty/, got {r!r}"
    for target, location in [("/sub?x=1&y=%20", "/sub/?x=1&y=%20"), ("/sub?", "/sub/?")]:
        c.send(get(target))
        r = c.response(what=f"the response to GET {target}")
        assert r.status == 301 and r.header("Location") == location, (
            f"GET {target}: expected 301 with Location: {location} (the target as sent, with / added to the end "
            f"of its path), got {r!r}")
    c.finish()


def test_etag_and_if_none_match(learner, site):
    c = connect(learner, site)
    c.send(get("/hello.txt"))
    r = c.response(what="the response to GET /hello.txt")
    etag = r.header("ETag")
    assert r.status == 200 and etag, f"GET /hello.txt: expected 200 with an ETag, got {r!r}"
    opaque = etag[2:] if etag.startswith("W/") else etag
    matching = [etag, f'"nope", {etag}', "*", f"W/{opaque}", f'"nope"\r\nIf-None-Match: {etag}']
    for value in matching:
        c.send(get("/hello.txt", headers=f"If-None-Match: {value}\r\n"))
        r = c.response(what=f"the response to GET /hello.txt with If-None-Match: {value}")
        assert r.status == 304, f"If-None-Match: {value} matches the ETag {etag}: expected 304, got {r!r}"
        assert r.header("ETag") == etag, f"a 304 must repeat the ETag {etag}, got {r.header('ETag')!r}"
    c.send(get("/hello.txt", headers='If-None-Match: "something-else"\r\n'))
    r = c.response(what='the response to If-None-Match: "something-else"')
    assert r.status == 200 and r.body == HELLO, f'If-None-Match: "something-else" does not match: expected 200, got {r!r}'
    learner.write_file("www/hello.txt", b"hello again, a changed file\n")
    c.send(get("/hello.txt", headers=f"If-None-Match: {etag}\r\n"))
    r = c.response(what="the response after the file changed")
    assert r.status == 200, f"the file changed, so its old ETag must no longer match: expected 200, got {r!r}"
    assert r.body == b"hello again, a changed file\n" and r.header("ETag") != etag, (
        "after the file changed, expected its new content with a new ETag")
    c.finish()


MALFORMED = [
    (b"GARBAGE\r\n\r\n", "a request line with one word"),
    (b"GET /hello.txt\r\nHost: test\r\n\r\n", "a request line without a version"),
    (b"GET  /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", "two spaces after the method"),
    (b"GET /hello.txt HTTP/1.1 extra\r\nHost: test\r\n\r\n", "four parts in the request line"),
    (b"GET /hello.txt http/1.1\r\nHost: test\r\n\r\n", "a lower-case version"),
    (b"GET /hello.txt HTTP/1.10\r\nHost: test\r\n\r\n", "a two-digit minor version"),
    (b"G@T /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", "a method that is not a token"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nNoColonHere\r\n\r\n", "a header line without a colon"),
    (b"GET /hello.txt HTTP/1.1\r\nHost : test\r\n\r\n", "whitespace before the colon of a header"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-A: 1\r\n  folded\r\n\r\n", "an obsolete folded header line"),
    (b"GET hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", "a target that does not start with /"),
    (b"GET /hel%zzlo.txt HTTP/1.1\r\nHost: test\r\n\r\n", "a bad percent escape"),
    (b"GET /hello.txt%00.html HTTP/1.1\r\nHost: test\r\n\r\n", "an encoded NUL byte"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n: x\r\n\r\n", "a header line with an empty name"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n", "a Content-Length that is not a number"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: +0\r\n\r\n", "a Content-Length with a sign"),
    (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
     "Content-Length given twice"),
]


def test_malformed_requests_get_400_and_close(learner, site):
    for raw, what in MALFORMED:
        c = connect(learner, site)
        c.send(raw)
        r = c.response(what=f"the response to a request with {what}")
        assert r.status == 400, f"a request with {what} ({raw[:60]!r}): expected 400, got {r!r}"
        assert "close" in r.conn_tokens(), (
            f"the 400 for a request with {what} ends the connection, so it must say Connection: close, got {r!r}")
        c.expect_eof(f"after the 400 for a request with {what} the connection must close")
        c.finish()


@pytest.mark.cards("http11-host-header-required")
def test_host_header_rules(learner, site):
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.1\r\nAccept: */*\r\n\r\n")
    r = c.response(what="the response to an HTTP/1.1 request without Host")
    assert r.status == 400, f"an HTTP/1.1 request without a Host header: expected 400, got {r!r}"
    c.expect_eof("after a 400 the connection must close")
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    r = c.response(what="the response to a request with two Host headers")
    assert r.status == 400, f"a request with two Host headers: expected 400, got {r!r}"
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.0\r\n\r\n")
    r = c.response(what="the response to an HTTP/1.0 request without Host")
    assert r.status == 200 and r.body == HELLO, f"HTTP/1.0 does not require Host: expected 200, got {r!r}"
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.1\r\nhOsT:    test   \r\n\r\n")
    r = c.response(what="the response to a request with 'hOsT:    test   '")
    assert r.status == 200, f"header names are case-insensitive and values are trimmed: expected 200, got {r!r}"
    c.finish()


def test_paths_escaping_the_root_are_403(learner, site):
    learner.exec(
        "import os\n"
        f"os.symlink({os.path.join(learner.workdir, 'secret.txt')!r}, {os.path.join(site, 'escape.txt')!r})\n"
        f"os.symlink('/etc', {os.path.join(site, 'etc')!r})\n"
        f"os.symlink('hello.txt', {os.path.join(site, 'alias.txt')!r})\n"
    )
    c = connect(learner, site)
    escapes = [b"/../secret.txt", b"/%2e%2e/secret.txt", b"/sub/../../secret.txt", b"/sub/%2E%2E/%2e%2e/secret.txt",
               b"/./../secret.txt", b"/%2e%2e%2fsecret.txt", b"/escape.txt", b"/etc/passwd"]
    for path in escapes:
        c.send(get_bytes(path))
        r = c.response(what=f"the response to GET {path.decode()}")
        assert SECRET not in r.body and b"root:" not in r.body, (
            f"GET {path.decode()} served a file from outside the root folder")
        assert r.status == 403, f"GET {path.decode()} leads outside the root folder: expected 403, got {r!r}"
    for path, body in [(b"/sub/../hello.txt", HELLO), (b"/./sub/./page.txt", b"a page in sub\n"), (b"/alias.txt", HELLO)]:
        c.send(get_bytes(path))
        r = c.response(what=f"the response to GET {path.decode()}")
        assert r.status == 200 and r.body == body, (
            f"GET {path.decode()} stays inside the root folder: expected 200 with the file, got {r!r}")
    c.finish()


def test_404_keeps_the_connection(learner, site):
    c = connect(learner, site)
    for path in ["/nope.txt", "/hello.txt/more", "/sub/nope/", "/nope/", "/" + "n" * 300 + ".txt"]:
        c.send(get(path))
        r = c.response(what=f"the response to GET {path}")
        assert r.status == 404, f"GET {path[:40]}: expected 404, got {r!r}"
        assert r.conn_tokens() != {"close"}, f"a 404 does not end an HTTP/1.1 connection, but it said {r!r}"
    c.send(get("/hello.txt"))
    r = c.response(what="the response after the 404s")
    assert r.status == 200 and r.body == HELLO, f"after the 404s, GET /hello.txt on the same connection: expected 200, got {r!r}"
    c.finish()


def test_other_methods_get_405_with_allow_and_the_body_is_skipped(learner, site):
    c = connect(learner, site)
    c.send(b"POST /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 22\r\n\r\n"
           b"GET /secret HTTP/1.1\r\n" + get("/hello.txt") + get("/anything", method="DELETE"))
    r = c.response(what="the response to POST /hello.txt")
    assert r.status == 405, f"POST: expected 405, got {r!r}"
    allow = {m.strip().upper() for m in (r.header("Allow") or "").split(",")}
    assert {"GET", "HEAD"} <= allow, f"a 405 must list the allowed methods (GET, HEAD) in Allow, got {r.header('Allow')!r}"
    r = c.response(what="the response to the GET that followed the POST's 22-byte body")
    assert r.status == 200 and r.body == HELLO, (
        f"the POST carried a 22-byte body (Content-Length: 22) that must be read and skipped; the next request is "
        f"GET /hello.txt, expected 200, got {r!r}")
    r = c.response(what="the response to DELETE /anything")
    assert r.status == 405, f"DELETE /anything: expected 405 whatever the path, got {r!r}"
    c.finish()


def test_long_target_gets_414(learner, site):
    c = connect(learner, site)
    ok_target = "/" + "a" * 2047
    c.send(get(ok_target))
    r = c.response(what="the response to a 2048-byte target")
    assert r.status == 404, f"a target of exactly 2048 bytes is allowed (no such file): expected 404, got {r!r}"
    c.send(get("/" + "a" * 2048))
    r = c.response(what="the response to a 2049-byte target")
    assert r.status == 414, f"a target of 2049 bytes is over the limit: expected 414, got {r!r}"
    c.expect_eof("after a 414 the connection must close")
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /" + b"b" * 100_000)  # no end of line at all
    r = c.response(what="the response to a 100 000-byte request line with no end")
    assert r.status == 414, (f"a request line not complete within 8192 bytes: expected 414 as soon as the limit is "
                             f"passed (without waiting for the rest), got {r!r}")
    c.finish()


def test_unsupported_versions_get_505(learner, site):
    for version in ["HTTP/2.0", "HTTP/3.0", "HTTP/0.9"]:
        c = connect(learner, site)
        c.send(get("/hello.txt", version=version))
        r = c.response(what=f"the response to a {version} request")
        assert r.status == 505, f"GET /hello.txt {version}: expected 505, got {r!r}"
        c.expect_eof(f"after the 505 for {version} the connection must close")
        c.finish()
    c = connect(learner, site)
    c.send(get("/hello.txt", version="HTTP/1.2") + get("/index.html"))
    r = c.response(what="the response to an HTTP/1.2 request")
    assert r.status == 200 and r.body == HELLO, f"an HTTP/1.2 request is handled as HTTP/1.1: expected 200, got {r!r}"
    assert c.response(what="a second response after the HTTP/1.2 request").body == INDEX, (
        "HTTP/1.2 follows the HTTP/1.1 rules, so the connection stays open")
    c.finish()


@pytest.mark.cards("http10-vs-http11-persistent-default")
def test_http10_closes_unless_keep_alive(learner, site):
    c = connect(learner, site)
    c.send(get("/hello.txt", version="HTTP/1.0"))
    r = c.response(what="the response to an HTTP/1.0 GET")
    assert r.status == 200 and r.body == HELLO, f"HTTP/1.0 GET: expected 200, got {r!r}"
    c.expect_eof("an HTTP/1.0 connection without 'Connection: keep-alive' must end after its response")
    c.finish()
    c = connect(learner, site)
    c.send(get("/hello.txt", version="HTTP/1.0", headers="Connection: Keep-Alive\r\n"))
    r = c.response(what="the response to an HTTP/1.0 GET with Connection: Keep-Alive")
    assert r.status == 200 and "keep-alive" in r.conn_tokens(), (
        f"an HTTP/1.0 request with Connection: keep-alive: expected 200 with Connection: keep-alive, got {r!r}")
    c.send(get("/index.html", version="HTTP/1.0"))
    r = c.response(what="the response to a second HTTP/1.0 GET on the kept-alive connection")
    assert r.status == 200 and r.body == INDEX, f"expected the second response on the kept connection, got {r!r}"
    c.expect_eof("the second HTTP/1.0 request had no keep-alive, so the connection must end after it")
    c.finish()


@pytest.mark.cards("http10-vs-http11-persistent-default")
def test_http11_stays_open_until_connection_close(learner, site):
    c = connect(learner, site)
    for i in range(3):
        c.send(get("/hello.txt"))
        r = c.response(what=f"response {i + 1} on one HTTP/1.1 connection")
        assert r.status == 200 and "close" not in r.conn_tokens(), f"an HTTP/1.1 connection stays open, got {r!r}"
    c.send(get("/index.html", headers="Connection: TE, Close\r\n"))
    r = c.response(what="the response to a request with Connection: TE, Close")
    assert r.status == 200 and r.body == INDEX, f"expected 200 with index.html, got {r!r}"
    assert "close" in r.conn_tokens(), f"the response that ends the connection must say Connection: close, got {r!r}"
    c.expect_eof("the request said Connection: close, so the connection must end after its response")
    c.finish()
    c = connect(learner, site)
    c.send(get("/hello.txt", headers="Connection: keep-alive\r\nConnection: close\r\n"))
    r = c.response(what="the response to a request with two Connection headers, the second one 'close'")
    assert r.status == 200 and "close" in r.conn_tokens(), (
        f"the values of repeated Connection headers are joined ('keep-alive, close'): expected 200 with "
        f"Connection: close, got {r!r}")
    c.expect_eof("the request's second Connection header said close, so the connection must end after its response")
    c.finish()


@pytest.mark.cards("http-message-framing-persistent")
def test_pipelined_requests_are_answered_in_order(learner, site):
    rng = random.Random(66)
    choices = [("/hello.txt", 200, HELLO), ("/index.html", 200, INDEX), ("/big.bin", 200, BIG),
               ("/unicode.txt", 200, UNICODE), ("/nope", 404, None), ("/sub", 301, None),
               ("/sub/page.txt", 200, b"a page in sub\n")]
    plan = [rng.choice(choices) for _ in range(24)]
    methods = [rng.choice(["GET", "GET", "HEAD"]) for _ in plan]
    c = connect(learner, site)
    c.send(b"".join(get(p, method=m) for (p, _, _), m in zip(plan, methods)))
    for i, ((path, status, body), method) in enumerate(zip(plan, methods)):
        r = c.response(method, what=f"response {i + 1} of 24 pipelined requests ({method} {path})")
        assert r.status == status, f"pipelined request {i + 1} ({method} {path}): expected {status}, got {r!r}"
        if method == "GET" and body is not None:
            assert r.body == body, f"pipelined request {i + 1} ({method} {path}): the body is not that file's"
    c.finish()


def test_close_after_pipelined_bytes_is_a_fin_not_a_reset(learner, site):
    c = connect(learner, site)
    junk = get("/hello.txt") * 40_000  # about 1.5 MB the server must not answer
    c.send(get("/big.bin", headers="Connection: close\r\n") + junk)
    r = c.response(what="the response to the request that said Connection: close")
    assert r.status == 200 and r.body == BIG, f"expected 200 with big.bin, got {r!r}"
    c.expect_eof("after the response to 'Connection: close', the client should see the end of the stream")
    c.finish()


def test_client_closing_ends_serve_connection(learner, site):
    c = connect(learner, site)
    c.send(get("/hello.txt"))
    r = c.response(what="the response to GET /hello.txt")
    assert r.status == 200, f"GET /hello.txt: expected 200, got {r!r}"
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: te")  # half a request, then the client goes away
    c.sock.shutdown(socket.SHUT_WR)
    c.expect_eof("the client ended the connection in the middle of a request: expected no response and a FIN")
    c.finish()


def test_transfer_encoding_gets_501_and_close(learner, site):
    requests = [
        (b"POST /hello.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         "a chunked POST (Transfer-Encoding is checked before the method)"),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\ntransfer-encoding: gzip\r\n\r\n", "a GET with Transfer-Encoding"),
    ]
    for raw, what in requests:
        c = connect(learner, site)
        c.send(raw)
        r = c.response(what=f"the response to {what}")
        assert r.status == 501, f"{what}: expected 501, got {r!r}"
        assert "close" in r.conn_tokens(), f"{what}: a 501 ends the connection, so it must say Connection: close, got {r!r}"
        c.expect_eof(f"after the 501 for {what} the connection must close (the body's framing is unknown)")
        c.finish()


def test_request_line_and_head_limits_count_bytes_as_sent(learner, site):
    def request_line(size: int, ending: bytes = b"\r\n") -> bytes:
        """A request line of `size` bytes, its line ending included; a long method (not GET or HEAD) fills it."""
        rest = b" /hello.txt HTTP/1.1" + ending
        return b"X" * (size - len(rest)) + rest

    c = connect(learner, site)
    c.send(b"\r\n\n\r\n" + request_line(8192) + b"Host: test\r\n\r\n")
    r = c.response(what="the response to a request line of 8192 bytes (CRLF included) after three empty lines")
    assert r.status == 405, (
        "a request line of 8192 bytes with its CRLF is within the limit, and the empty lines before it do not "
        f"count; its method is a long token, neither GET nor HEAD: expected 405, got {r!r}")
    c.send(request_line(8192, b"\n") + b"Host: test\n\n")
    r = c.response(what="the response to a request line of 8192 bytes (LF included)")
    assert r.status == 405, (
        f"a request line of 8192 bytes ending in a bare LF (1 byte) is within the limit: expected 405, got {r!r}")
    c.send(request_line(8193) + b"Host: test\r\n\r\n")
    r = c.response(what="the response to a request line of 8193 bytes (CRLF included)")
    assert r.status == 414, (
        f"a request line of 8193 bytes with its CRLF is over the 8192-byte limit: expected 414, got {r!r}")
    c.expect_eof("after a 414 the connection must close")
    c.finish()

    def head(size: int, ending: bytes) -> bytes:
        """A GET /hello.txt whose head is `size` bytes: request line, headers and the empty line, endings as sent."""
        start = b"GET /hello.txt HTTP/1.1" + ending + b"Host: test" + ending + b"X-Pad: "
        return start + b"p" * (size - len(start) - 2 * len(ending)) + ending + ending

    c = connect(learner, site)
    for ending, name in [(b"\r\n", "CRLF"), (b"\n", "LF")]:
        c.send(head(16384, ending))
        r = c.response(what=f"the response to a request whose head is 16384 bytes ({name} line endings)")
        assert r.status == 200 and r.body == HELLO, (
            f"a head of exactly 16384 bytes, counting every line ending as sent ({name}) and the empty line that "
            f"ends it, is within the limit: expected 200 with hello.txt, got {r!r}")
    c.send(head(16385, b"\r\n"))
    r = c.response(what="the response to a request whose head is 16385 bytes")
    assert r.status == 400, (
        "a head of 16385 bytes (request line, headers and the final empty line, CRLFs included) is over the "
        f"16384-byte limit: expected 400, got {r!r}")
    c.expect_eof("after the 400 for a head over 16384 bytes the connection must close")
    c.finish()
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-Endless: " + b"y" * 100_000)  # a header line with no end
    r = c.response(what="the response to a 100 000-byte header line with no end")
    assert r.status == 400, (
        f"a head past 16384 bytes: expected 400 as soon as the limit is passed (without waiting for the end of "
        f"the line), got {r!r}")
    c.finish()


# Runs in the learner's process: makes files that are neither regular files nor directories.
SPECIAL_FILES = """
import os, socket
def make(root):
    os.mkfifo(os.path.join(root, 'pipe.txt'))
    os.symlink('pipe.txt', os.path.join(root, 'to-pipe.html'))
    os.mkdir(os.path.join(root, 'fifodir'))
    os.mkfifo(os.path.join(root, 'fifodir', 'index.html'))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(root, 'sock.html'))
    s.close()
"""


def test_fifo_and_socket_files_get_404_without_being_opened(learner, site):
    learner.exec(SPECIAL_FILES).call("make", site)
    c = connect(learner, site)
    for method, path, kind in [("GET", "/pipe.txt", "a FIFO"), ("HEAD", "/pipe.txt", "a FIFO"),
                               ("GET", "/to-pipe.html", "a symlink to a FIFO"),
                               ("GET", "/fifodir/", "a directory whose index.html is a FIFO"),
                               ("GET", "/sock.html", "a Unix socket file")]:
        c.send(get(path, method=method))
        try:
            r = c.response(method, what=f"the response to {method} {path} ({kind})")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}. {path} is {kind}: it is neither a regular file nor a directory, so the answer is 404 without "
                "opening it (open() on a FIFO blocks until a writer comes, and no writer will); look at its type "
                "with os.stat first") from None
        assert r.status == 404, f"{method} {path} ({kind}, neither a regular file nor a directory): expected 404, got {r!r}"
    c.send(get("/hello.txt"))
    r = c.response(what="the response to GET /hello.txt after those 404s")
    assert r.status == 200 and r.body == HELLO, f"after the 404s the connection goes on: expected 200, got {r!r}"
    c.finish()


LOCK = """
import os
def chmod(path, mode):
    os.chmod(path, mode)
"""


def test_unreadable_paths_get_403(learner, site):
    private = b"PRIVATE-41c7: the server may not read this\n"
    learner.write_file("www/private.txt", private, mode=0o000)
    learner.write_file("www/closed/index.html", private, mode=0o000)
    learner.write_file("www/locked/inside.txt", private)
    helper = learner.exec(LOCK)
    locked = os.path.join(site, "locked")
    helper.call("chmod", locked, 0o000)  # no search permission: nothing inside can be looked up
    try:
        c = connect(learner, site)
        for method, path, why in [("GET", "/private.txt", "a file the server may not read"),
                                  ("HEAD", "/private.txt", "a file the server may not read"),
                                  ("GET", "/closed/", "a directory whose index.html the server may not read"),
                                  ("GET", "/locked/inside.txt", "a file in a folder the server may not search")]:
            c.send(get(path, method=method))
            r = c.response(method, what=f"the response to {method} {path}")
            assert private not in r.body, f"{method} {path} served a file the server may not read"
            assert r.status == 403, (
                f"{method} {path} is {why} (permission denied, EACCES): expected 403, got {r!r}")
        c.send(get("/hello.txt"))
        r = c.response(what="the response to GET /hello.txt after those 403s")
        assert r.status == 200 and r.body == HELLO, f"a 403 keeps an HTTP/1.1 connection: expected 200, got {r!r}"
        c.finish()
    finally:
        helper.call("chmod", locked, 0o755)  # so that the scratch folder can be emptied


def test_two_host_headers_are_refused_in_http10_too(learner, site):
    c = connect(learner, site)
    c.send(b"GET /hello.txt HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n")
    r = c.response(what="the response to an HTTP/1.0 request with two Host headers")
    assert r.status == 400, (
        f"an HTTP/1.0 request with two Host headers: expected 400 (any request with more than one Host), got {r!r}"
    )
    c.finish()


def test_client_that_resets_after_its_own_half_close(learner, site):
    """The client half-closes after its request, then goes away while the big response is still being
    sent: its reset lands on a connection in CLOSE_WAIT, so the server's next send fails with EPIPE
    (BrokenPipeError), not ECONNRESET. serve_connection ends quietly either way."""
    huge = os.path.join(site, "huge.bin")  # 16 MiB of zeros, more than loopback's socket buffers hold
    learner.exec(f"with open({huge!r}, 'wb') as f:\n    f.truncate(16 << 20)\n")
    c = connect(learner, site)
    c.send(b"GET /huge.bin HTTP/1.1\r\nHost: test\r\n\r\n")
    c.sock.shutdown(socket.SHUT_WR)
    c.sock.settimeout(WAIT)
    first = c.sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 200"), f"GET /huge.bin: expected a 200 to start, got {first[:80]!r}"
    time.sleep(0.2)  # the server is blocked in send(), its socket buffer full
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        c.finish()
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001: the learner's exception
        raise AssertionError(
            f"serve_connection raised {getattr(exc, 'type', type(exc).__name__)} when the client reset the connection after its own "
            "half-close: a peer that goes away is not an error of the server (BrokenPipeError as well as "
            "ConnectionResetError): close the connection and return"
        ) from None
