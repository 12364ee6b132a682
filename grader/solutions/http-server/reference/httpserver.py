"""A small HTTP/1.1 static file server for one connected socket (reference solution)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import stat
import sys
import threading
import time

MAX_LINE = 8192          # a request line, its CRLF or LF included, longer than this: 414
MAX_TARGET = 2048        # a longer request target (bytes as sent): 414
MAX_HEAD = 16384         # the head (request line to the empty line, line endings as sent): more is 400
LINGER_SECONDS = 2.0     # how long to drain a connection after the last response

REASONS = {
    200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    414: "URI Too Long", 501: "Not Implemented", 505: "HTTP Version Not Supported",
}

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".json": "application/json",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
    ".gif": "image/gif", ".svg": "image/svg+xml",
}

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])\Z")


class _Close(Exception):
    """The connection must end now, without a response (EOF in the middle of a request)."""


class _Reply(Exception):
    """Answer with this status and then close the connection."""

    def __init__(self, status: int, headers: dict | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or {}


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.method = b""  # of the request being answered: a HEAD gets no body, whatever the status

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        if not data:
            return False
        self.buf += data
        return True

    def readline(self, limit: int, too_long: int) -> tuple[bytes, int] | None:
        """One line without its CRLF (or LF), and its length as sent (line ending included);
        None at EOF before any byte; _Reply(too_long) as soon as the line is longer than `limit`."""
        while True:
            nl = self.buf.find(b"\n")
            if nl >= 0:
                if nl + 1 > limit:
                    raise _Reply(too_long)
                line = bytes(self.buf[:nl])
                del self.buf[: nl + 1]
                return (line[:-1] if line.endswith(b"\r") else line), nl + 1
            if len(self.buf) > limit:
                raise _Reply(too_long)
            if not self._fill():
                if self.buf:
                    raise _Close()
                return None

    def discard(self, n: int) -> None:
        while n > 0:
            if not self.buf and not self._fill():
                raise _Close()
            take = min(n, len(self.buf))
            del self.buf[:take]
            n -= take


def _send(sock: socket.socket, status: int, headers: dict, body: bytes, send_body: bool) -> None:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    sock.sendall(head + body if send_body else head)


def _error_body(status: int) -> bytes:
    return f"{status} {REASONS[status]}\n".encode()


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def _none_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return any(_opaque(t) == _opaque(etag) for t in header.split(",") if t.strip())


def _percent_decode(path: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(path):
        c = path[i]
        if c == 0x25:  # %
            hexdigits = path[i + 1 : i + 3]
            if len(hexdigits) != 2 or not all(ch in b"0123456789abcdefABCDEF" for ch in hexdigits):
                raise _Reply(400)
            out.append(int(hexdigits, 16))
            i += 3
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _resolve(root: str, raw_path: bytes) -> str:
    """The file system path for a decoded, normalised target; _Reply(403) when it escapes root."""
    decoded = _percent_decode(raw_path)
    if b"\0" in decoded:
        raise _Reply(400)
    parts: list[bytes] = []
    for seg in decoded.split(b"/"):
        if seg in (b"", b"."):
            continue
        if seg == b"..":
            if not parts:
                raise _Reply(403)
            parts.pop()
        else:
            parts.append(seg)
    root_real = os.path.realpath(root)
    full = os.path.join(os.fsencode(root_real), *parts) if parts else os.fsencode(root_real)
    full_s = os.fsdecode(full)
    real = os.path.realpath(full_s)
    if real != root_real and not real.startswith(root_real.rstrip(os.sep) + os.sep):
        raise _Reply(403)
    return full_s


def _handle_one(conn: _Conn, root: str) -> bool:
    """Read and answer one request. True: keep the connection open."""
    conn.method = b""
    line = b""
    while line == b"":  # empty lines before a request line are ignored (and not counted)
        got = conn.readline(MAX_LINE, 414)
        if got is None:
            raise _Close()
        line, head_size = got
    parts = line.split(b" ")
    if len(parts) != 3 or not TOKEN.match(parts[0]) or not parts[1]:
        raise _Reply(400)
    method, target, version = parts
    conn.method = method
    m = VERSION.match(version)
    if not m:
        raise _Reply(400)
    major, minor = int(m.group(1)), int(m.group(2))
    if major != 1:
        raise _Reply(505)
    if len(target) > MAX_TARGET:
        raise _Reply(414)
    http11 = minor >= 1

    headers: dict[str, list[str]] = {}
    while True:  # head_size: the bytes of the head so far, line endings as sent
        got = conn.readline(MAX_HEAD - head_size, 400)
        if got is None:
            raise _Close()
        hl, size = got
        head_size += size
        if hl == b"":
            break
        if hl[:1] in (b" ", b"\t"):
            raise _Reply(400)  # obsolete line folding
        name, colon, value = hl.partition(b":")
        if not colon or not TOKEN.match(name):
            raise _Reply(400)  # no colon, or whitespace before it
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.strip(b" \t").decode("latin-1"))

    if http11 and len(headers.get("host", [])) != 1:
        raise _Reply(400)
    if len(headers.get("host", [])) > 1:
        raise _Reply(400)
    if "transfer-encoding" in headers:
        raise _Reply(501)
    lengths = headers.get("content-length", [])
    if len(lengths) > 1 or (lengths and not lengths[0].isdigit()) or (lengths and not lengths[0].isascii()):
        raise _Reply(400)
    if lengths:
        conn.discard(int(lengths[0]))

    tokens = {t.strip().lower() for v in headers.get("connection", []) for t in v.split(",")}
    if http11:
        keep = "close" not in tokens
    else:
        keep = "keep-alive" in tokens and "close" not in tokens
    conn_header = {} if (keep and http11) else {"Connection": "keep-alive" if keep else "close"}

    head_only = method == b"HEAD"
    if method not in (b"GET", b"HEAD"):
        body = _error_body(405)
        _send(conn.sock, 405, {"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8",
                               "Content-Length": str(len(body)), **conn_header}, body, True)
        return keep

    if not target.startswith(b"/"):
        raise _Reply(400)
    raw_path, sep, query = target.partition(b"?")
    try:
        full = _resolve(root, raw_path)
    except _Reply as r:
        if r.status == 403:
            _send_error(conn.sock, 403, conn_header, head_only)
            return keep
        raise

    try:
        st = os.stat(full)
    except PermissionError:
        _send_error(conn.sock, 403, conn_header, head_only)
        return keep
    except (OSError, ValueError):  # no such file, not a directory, name too long...
        _send_error(conn.sock, 404, conn_header, head_only)
        return keep

    if stat.S_ISDIR(st.st_mode):
        if not raw_path.endswith(b"/"):
            location = (raw_path + b"/" + sep + query).decode("latin-1")  # the target as sent, "/" after its path
            body = f"301 Moved Permanently: {location}\n".encode("latin-1")
            _send(conn.sock, 301, {"Location": location, "Content-Type": "text/plain; charset=utf-8",
                                   "Content-Length": str(len(body)), **conn_header}, body, not head_only)
            return keep
        full = os.path.join(full, "index.html")
        try:
            st = os.stat(full)
        except PermissionError:
            _send_error(conn.sock, 403, conn_header, head_only)
            return keep
        except OSError:
            _send_error(conn.sock, 404, conn_header, head_only)
            return keep
    if not stat.S_ISREG(st.st_mode):
        # a FIFO, a socket, a device: never open it (open() on a FIFO blocks until a writer comes)
        _send_error(conn.sock, 404, conn_header, head_only)
        return keep

    try:
        with open(full, "rb") as f:
            data = f.read()
    except PermissionError:
        _send_error(conn.sock, 403, conn_header, head_only)
        return keep
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    inm = headers.get("if-none-match")
    if inm is not None and _none_match(",".join(inm), etag):
        _send(conn.sock, 304, {"ETag": etag, **conn_header}, b"", False)
        return keep
    ctype = CONTENT_TYPES.get(os.path.splitext(full)[1].lower(), "application/octet-stream")
    _send(conn.sock, 200, {"Content-Type": ctype, "Content-Length": str(len(data)), "ETag": etag,
                           **conn_header}, data, not head_only)
    return keep


def _send_error(sock, status: int, extra: dict, head_only: bool = False) -> None:
    body = _error_body(status)
    _send(sock, status, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)),
                         **extra}, body, not head_only)


def _lingering_close(sock: socket.socket) -> None:
    """Send FIN, then read and drop what the client still sends, so that close() sends no RST."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            if not sock.recv(65536):
                break
    except OSError:
        pass
    finally:
        sock.close()


def serve_connection(sock: socket.socket, root: str) -> None:
    """Answer every request that arrives on the connected socket `sock`, then close it."""
    conn = _Conn(sock)
    try:
        while True:
            try:
                if not _handle_one(conn, root):
                    break
            except _Reply as r:
                _send_error(sock, r.status, {"Connection": "close", **r.headers}, conn.method == b"HEAD")
                break
    except _Close:
        pass
    except (BrokenPipeError, ConnectionResetError):
        sock.close()
        return
    _lingering_close(sock)


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 8080
    root = argv[2] if len(argv) > 2 else "."
    listener = socket.create_server(("127.0.0.1", port))
    print(f"serving {os.path.abspath(root)} on http://127.0.0.1:{port}/", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv)
