"""A small HTTP/1.1 static file server for one connected socket.

This version reads through a buffered file object (`sock.makefile("rb")` and `readline(limit)`),
returns a status code from its checks instead of raising, sends file bodies with
`socket.sendfile` (os.sendfile underneath), and makes ETags from size and mtime.
"""

from __future__ import annotations

import os
import re
import select
import socket
import stat
import sys
import threading
import time
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

MAX_LINE = 8192       # a request line longer than this, its CRLF or LF included: 414
MAX_TARGET = 2048     # a longer request target (bytes as sent, before percent-decoding): 414
MAX_HEAD = 16384      # request line, header lines and the empty line, line endings as sent: more is 400
LINGER = 2.0          # seconds to drain the client after the FIN

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

_TCHARS = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")

EOF = -1  # the client went away: no response


def _is_token(b: bytes) -> bool:
    return bool(b) and all(c in _TCHARS for c in b)


def _version(v: bytes) -> tuple[int, int] | None:
    if len(v) == 8 and v.startswith(b"HTTP/") and v[6:7] == b"." and v[5:6].isdigit() and v[7:8].isdigit():
        return v[5] - 48, v[7] - 48
    return None


def _strip_eol(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    return line[:-1]


class Request(NamedTuple):
    method: bytes
    target: bytes
    minor: int
    headers: dict[str, list[str]]


class Refused(NamedTuple):
    status: int  # to answer, then close
    method: bytes  # b"" before the method is known; a HEAD gets no body


def read_request(rfile) -> Request | Refused | int:
    """A whole request (its body read and dropped), what to refuse it with, or EOF."""
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            return Refused(414, b"")
        if not line.endswith(b"\n"):
            return EOF  # end of stream between requests or in the middle of the request line
        if line not in (b"\n", b"\r\n"):
            break
    used = len(line)
    parts = _strip_eol(line).split(b" ")
    if len(parts) != 3 or not all(parts) or not _is_token(parts[0]):
        return Refused(400, b"")
    method, target, raw_version = parts
    version = _version(raw_version)
    if version is None:
        return Refused(400, method)
    if version[0] != 1:
        return Refused(505, method)
    if len(target) > MAX_TARGET:
        return Refused(414, method)
    headers: dict[str, list[str]] = {}
    while True:
        room = MAX_HEAD - used
        line = rfile.readline(room + 1)
        if len(line) > room:
            return Refused(400, method)
        if not line.endswith(b"\n"):
            return EOF
        used += len(line)
        text = _strip_eol(line)
        if not text:
            break
        if text[:1] in (b" ", b"\t"):
            return Refused(400, method)
        name, colon, value = text.partition(b":")
        if not colon or not _is_token(name):
            return Refused(400, method)
        headers.setdefault(name.decode("ascii").lower(), []).append(value.strip(b" \t").decode("latin-1"))
    hosts = len(headers.get("host", ()))
    if hosts > 1 or (version[1] >= 1 and hosts != 1):
        return Refused(400, method)
    if "transfer-encoding" in headers:
        return Refused(501, method)
    lengths = headers.get("content-length", [])
    if len(lengths) > 1:
        return Refused(400, method)
    if lengths:
        text = lengths[0]
        if not (text.isascii() and text.isdigit()):
            return Refused(400, method)
        left = int(text)
        while left:
            chunk = rfile.read(min(left, 65536))
            if not chunk:
                return EOF
            left -= len(chunk)
    return Request(method, target, version[1], headers)


def _keeps_open(req: Request) -> bool:
    tokens = {t.strip().lower() for v in req.headers.get("connection", []) for t in v.split(",")}
    if req.minor >= 1:
        return "close" not in tokens
    return "keep-alive" in tokens and "close" not in tokens


def _head(status: int, fields: list[tuple[str, str]]) -> bytes:
    out = [f"HTTP/1.1 {status} {REASONS[status]}\r\n"]
    out += [f"{k}: {v}\r\n" for k, v in fields]
    out.append("\r\n")
    return "".join(out).encode("latin-1")


def _text_reply(sock: socket.socket, status: int, extra: list[tuple[str, str]], with_body: bool) -> None:
    body = f"{status} {REASONS[status]}\n".encode()
    head = _head(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))] + extra)
    sock.sendall(head + body if with_body else head)


def _locate(root: str, raw_path: bytes) -> str | int:
    """The path on disk for the target's path, or 400/403."""
    if _BAD_ESCAPE.search(raw_path):
        return 400
    decoded = unquote_to_bytes(raw_path)
    if b"\x00" in decoded:
        return 400
    depth_path: list[bytes] = []
    for seg in decoded.split(b"/"):
        if seg == b"..":
            if not depth_path:
                return 403
            depth_path.pop()
        elif seg not in (b"", b"."):
            depth_path.append(seg)
    base = os.path.realpath(root)
    path = os.path.join(base, *(os.fsdecode(s) for s in depth_path))
    if os.path.commonpath([base, os.path.realpath(path)]) != base:
        return 403
    return path


def _answer(sock: socket.socket, req: Request, root: str, conn_fields: list[tuple[str, str]]) -> bool:
    """Answer a parsed request; False when the answer was a 400 that ends the connection."""
    with_body = req.method != b"HEAD"
    if req.method not in (b"GET", b"HEAD"):
        _text_reply(sock, 405, [("Allow", "GET, HEAD")] + conn_fields, True)
        return True
    if not req.target.startswith(b"/"):
        _text_reply(sock, 400, [("Connection", "close")], with_body)
        return False
    raw_path, question, query = req.target.partition(b"?")
    where = _locate(root, raw_path)
    if where == 400:
        _text_reply(sock, 400, [("Connection", "close")], with_body)
        return False
    if isinstance(where, int):
        _text_reply(sock, where, conn_fields, with_body)
        return True
    try:
        info = os.stat(where)
        if stat.S_ISDIR(info.st_mode):
            if not raw_path.endswith(b"/"):
                location = (raw_path + b"/" + question + query).decode("latin-1")
                _text_reply(sock, 301, [("Location", location)] + conn_fields, with_body)
                return True
            where = os.path.join(where, "index.html")
            info = os.stat(where)
    except PermissionError:
        _text_reply(sock, 403, conn_fields, with_body)
        return True
    except (OSError, ValueError):
        _text_reply(sock, 404, conn_fields, with_body)
        return True
    if not stat.S_ISREG(info.st_mode):  # FIFO, socket, device: never opened
        _text_reply(sock, 404, conn_fields, with_body)
        return True
    try:
        f = open(where, "rb", buffering=0)
    except PermissionError:
        _text_reply(sock, 403, conn_fields, with_body)
        return True
    except OSError:
        _text_reply(sock, 404, conn_fields, with_body)
        return True
    with f:
        now = os.fstat(f.fileno())
        etag = f'"{now.st_size:x}-{now.st_mtime_ns:x}"'
        wanted = ",".join(req.headers.get("if-none-match", []))
        if "if-none-match" in req.headers and _etag_matches(wanted, etag):
            sock.sendall(_head(304, [("ETag", etag)] + conn_fields))
            return True
        ctype = CONTENT_TYPES.get(os.path.splitext(where)[1].lower(), "application/octet-stream")
        sock.sendall(_head(200, [("Content-Type", ctype), ("Content-Length", str(now.st_size)), ("ETag", etag)]
                           + conn_fields))
        if with_body and now.st_size:
            sock.sendfile(f, 0, now.st_size)
    return True


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    weakless = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == weakless for tag in header.split(","))


def _linger_and_close(sock: socket.socket, rfile) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
        end = time.monotonic() + LINGER
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            readable, _, _ = select.select([sock], [], [], left)
            if readable and not sock.recv(65536):
                break
    except OSError:
        pass
    finally:
        rfile.close()
        sock.close()


def serve_connection(sock: socket.socket, root: str) -> None:
    """Answer every request that arrives on the connected socket `sock`, in order,
    serving files under the folder `root`; end the connection by the HTTP/1.0 and
    HTTP/1.1 rules with a lingering close, and return."""
    rfile = sock.makefile("rb")
    try:
        while True:
            req = read_request(rfile)
            if req == EOF:
                break
            if isinstance(req, Refused):
                _text_reply(sock, req.status, [("Connection", "close")], req.method != b"HEAD")
                break
            keep = _keeps_open(req)
            if keep:
                fields = [] if req.minor >= 1 else [("Connection", "keep-alive")]
            else:
                fields = [("Connection", "close")]
            if not _answer(sock, req, root, fields) or not keep:
                break
    except (BrokenPipeError, ConnectionResetError):
        rfile.close()
        sock.close()
        return
    _linger_and_close(sock, rfile)


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
