"""A small HTTP/1.1 static file server for one connected socket.

This version is an incremental parser: bytes from recv() are fed into a `RequestParser`, a small
state machine (request line, headers, body) that hands out complete requests one at a time and
notices a limit as soon as the bytes in hand pass it. Files are read with os.open/os.read, their
ETag is a BLAKE2b hash, responses go out with sendmsg(), and the lingering close waits in select().
"""

from __future__ import annotations

import hashlib
import os
import select
import socket
import stat
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePath

MAX_LINE = 8192       # a request line longer than this, its CRLF or LF included: 414
MAX_TARGET = 2048     # a longer request target (bytes as sent, before percent-decoding): 414
MAX_HEAD = 16384      # request line, header lines and the empty line, line endings as sent: more is 400
DRAIN_SECONDS = 2.0

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

TOKEN_BYTES = set(b"!#$%&'*+-.^_`|~") | set(range(0x30, 0x3A)) | set(range(0x41, 0x5B)) | set(range(0x61, 0x7B))
HEX = set(b"0123456789abcdefABCDEF")


def is_token(b: bytes) -> bool:
    return len(b) > 0 and set(b) <= TOKEN_BYTES


@dataclass
class Request:
    method: bytes
    target: bytes
    minor: int
    headers: dict[str, list[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        return self.headers.get(name, [])


@dataclass
class Refusal:
    status: int
    head_only: bool


class RequestParser:
    """Feed it bytes; `next()` gives a Request, a Refusal (answer it, then close) or None (needs more)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.state = "line"
        self.used = 0  # bytes of the current head so far
        self.request: Request | None = None
        self.body_left = 0

    def feed(self, data: bytes) -> None:
        self.buf += data

    def _take_line(self, room: int, status: int) -> bytes | Refusal | None:
        nl = self.buf.find(b"\n", 0, room)
        if nl < 0:
            if len(self.buf) >= room:  # no line end within the room left: over the limit already
                head_only = self.request is not None and self.request.method == b"HEAD"
                return Refusal(status, head_only)
            return None
        line = bytes(self.buf[: nl + 1])
        del self.buf[: nl + 1]
        self.used += len(line)
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def next(self) -> Request | Refusal | None:
        while True:
            if self.state == "line":
                while self.buf[:1] == b"\n" or self.buf[:2] == b"\r\n":  # empty lines before a request
                    del self.buf[: 1 if self.buf[:1] == b"\n" else 2]
                self.used = 0
                line = self._take_line(MAX_LINE, 414)
                if not isinstance(line, bytes):
                    return line
                refusal = self._request_line(line)
                if refusal is not None:
                    return refusal
                self.state = "headers"
            elif self.state == "headers":
                line = self._take_line(MAX_HEAD - self.used, 400)
                if not isinstance(line, bytes):
                    return line
                if line:
                    refusal = self._header(line)
                    if refusal is not None:
                        return refusal
                    continue
                refusal = self._end_of_head()
                if refusal is not None:
                    return refusal
                self.state = "body"
            else:  # body: dropped as it arrives
                take = min(self.body_left, len(self.buf))
                del self.buf[:take]
                self.body_left -= take
                if self.body_left:
                    return None
                done, self.request = self.request, None
                self.state = "line"
                return done

    def _refuse(self, status: int) -> Refusal:
        return Refusal(status, self.request is not None and self.request.method == b"HEAD")

    def _request_line(self, line: bytes) -> Refusal | None:
        parts = line.split(b" ")
        if len(parts) != 3 or b"" in parts or not is_token(parts[0]):
            return Refusal(400, False)
        method, target, version = parts
        self.request = Request(method, target, 0)
        ok = (len(version) == 8 and version[:5] == b"HTTP/" and version[6] == 0x2E
              and 0x30 <= version[5] <= 0x39 and 0x30 <= version[7] <= 0x39)
        if not ok:
            return self._refuse(400)
        if version[5] != 0x31:
            return self._refuse(505)
        if len(target) > MAX_TARGET:
            return self._refuse(414)
        self.request.minor = version[7] - 0x30
        return None

    def _header(self, line: bytes) -> Refusal | None:
        if line[0] in (0x20, 0x09):
            return self._refuse(400)
        colon = line.find(b":")
        if colon < 0 or not is_token(line[:colon]):
            return self._refuse(400)
        name = line[:colon].decode("ascii").lower()
        self.request.headers.setdefault(name, []).append(line[colon + 1 :].strip(b" \t").decode("latin-1"))
        return None

    def _end_of_head(self) -> Refusal | None:
        req = self.request
        hosts = req.values("host")
        if len(hosts) > 1 or (req.minor >= 1 and len(hosts) == 0):
            return self._refuse(400)
        if req.values("transfer-encoding"):
            return self._refuse(501)
        lengths = req.values("content-length")
        if len(lengths) > 1 or (lengths and not (lengths[0].isascii() and lengths[0].isdigit())):
            return self._refuse(400)
        self.body_left = int(lengths[0]) if lengths else 0
        return None


# ---------------------------------------------------------------- answering


class Answer(Exception):
    """Stop working out the response: answer with this status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def send_all(sock: socket.socket, *pieces: bytes) -> None:
    views = [memoryview(p) for p in pieces if p]
    while views:
        sent = sock.sendmsg(views)
        while views and sent >= len(views[0]):
            sent -= len(views[0])
            views.pop(0)
        if views and sent:
            views[0] = views[0][sent:]


def head_bytes(status: int, fields: dict[str, str]) -> bytes:
    text = f"HTTP/1.1 {status} {REASONS[status]}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return text.encode("latin-1")


def plain(sock: socket.socket, status: int, fields: dict[str, str], head_only: bool) -> None:
    body = f"{status} {REASONS[status]}\n".encode()
    head = head_bytes(status, {"Content-Type": "text/plain; charset=utf-8", "Content-Length": str(len(body)), **fields})
    send_all(sock, head, b"" if head_only else body)


def percent_decode(raw: bytes) -> bytes:
    first, *rest = raw.split(b"%")
    out = bytearray(first)
    for piece in rest:
        if len(piece) < 2 or not set(piece[:2]) <= HEX:
            raise Answer(400)
        out.append(int(piece[:2], 16))
        out += piece[2:]
    if 0 in out:
        raise Answer(400)
    return bytes(out)


def on_disk(root: str, raw_path: bytes) -> str:
    stack: list[str] = []
    for seg in os.fsdecode(percent_decode(raw_path)).split("/"):
        if seg == "..":
            if not stack:
                raise Answer(403)
            stack.pop()
        elif seg and seg != ".":
            stack.append(seg)
    base = os.path.realpath(root)
    path = os.path.join(base, *stack)
    if not PurePath(os.path.realpath(path)).is_relative_to(base):
        raise Answer(403)
    return path


def read_whole(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def respond(sock: socket.socket, req: Request, root: str, fields: dict[str, str]) -> bool:
    """Answer `req`; False when the answer ends the connection whatever the request said."""
    head_only = req.method == b"HEAD"
    if req.method not in (b"GET", b"HEAD"):
        plain(sock, 405, {"Allow": "GET, HEAD", **fields}, False)
        return True
    raw_path, q, query = req.target.partition(b"?")
    try:
        if req.target[:1] != b"/":
            raise Answer(400)
        path = on_disk(root, raw_path)
        try:
            mode = os.stat(path).st_mode
            if stat.S_ISDIR(mode):
                if not raw_path.endswith(b"/"):
                    location = (raw_path + b"/" + q + query).decode("latin-1")
                    plain(sock, 301, {"Location": location, **fields}, head_only)
                    return True
                path = os.path.join(path, "index.html")
                mode = os.stat(path).st_mode
            if not stat.S_ISREG(mode):
                raise Answer(404)  # a FIFO, a socket, a device: not opened
            data = read_whole(path)
        except PermissionError:
            raise Answer(403) from None
        except (OSError, ValueError):
            raise Answer(404) from None
    except Answer as a:
        if a.status == 400:
            plain(sock, 400, {"Connection": "close"}, head_only)
            return False
        plain(sock, a.status, fields, head_only)
        return True
    etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
    inm = req.values("if-none-match")
    if inm:
        listed = ",".join(inm)
        if listed.strip() == "*" or any(t.strip().removeprefix("W/") == etag for t in listed.split(",")):
            send_all(sock, head_bytes(304, {"ETag": etag, **fields}))
            return True
    ctype = CONTENT_TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
    head = head_bytes(200, {"Content-Type": ctype, "Content-Length": str(len(data)), "ETag": etag, **fields})
    send_all(sock, head, b"" if head_only else data)
    return True


def connection_fields(req: Request) -> tuple[bool, dict[str, str]]:
    tokens = {t.strip().lower() for v in req.values("connection") for t in v.split(",")}
    if req.minor >= 1:
        keep = "close" not in tokens
        return keep, ({} if keep else {"Connection": "close"})
    keep = "keep-alive" in tokens and "close" not in tokens
    return keep, {"Connection": "keep-alive" if keep else "close"}


def drain_and_close(sock: socket.socket) -> None:
    """Lingering close: FIN first, then drop what the client still sends until it closes (2 s at most)."""
    try:
        sock.shutdown(socket.SHUT_WR)
        until = time.monotonic() + DRAIN_SECONDS
        while (left := until - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if ready and not sock.recv(1 << 16):
                break
    except OSError:
        pass
    finally:
        sock.close()


def serve_connection(sock: socket.socket, root: str) -> None:
    """Answer every request that arrives on the connected socket `sock`, in order,
    serving files under the folder `root`; end the connection by the HTTP/1.0 and
    HTTP/1.1 rules with a lingering close, and return."""
    parser = RequestParser()
    try:
        while True:
            item = parser.next()
            if item is None:
                data = sock.recv(1 << 16)
                if not data:  # the client closed: between requests or in the middle of one, no answer
                    break
                parser.feed(data)
                continue
            if isinstance(item, Refusal):
                plain(sock, item.status, {"Connection": "close"}, item.head_only)
                break
            keep, fields = connection_fields(item)
            if not respond(sock, item, root, fields) or not keep:
                break
    except (BrokenPipeError, ConnectionResetError):
        sock.close()
        return
    drain_and_close(sock)


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
