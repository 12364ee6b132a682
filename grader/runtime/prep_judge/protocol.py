"""The wire protocol between the judge, the driver and the worker.

A frame is a 6-byte header (payload length: 4 bytes, number of descriptors: 2
bytes, big-endian) followed by a UTF-8 JSON payload. Descriptors travel with
SCM_RIGHTS on the `sendmsg` that carries the header; the receiver queues every
descriptor it gets and hands a frame the first `n` of the queue, which is right
because a descriptor always arrives no later than the first byte it was sent with.

Values are JSON with a few tagged objects (a one-key object whose key starts
with `$`): bytes, tuples, sets, non-finite floats, dicts with non-string keys,
records (namedtuples and dataclasses), references to objects that stay in the
learner's process, and descriptors. The judge decodes only plain JSON types and
these tags: whatever the submission's objects do, an assertion in a hidden test
compares plain Python values.

This module is imported by all three sides and by nothing else: standard library only.
"""

from __future__ import annotations

import array
import base64
import dataclasses
import json
import math
import re
import socket
import struct

HEADER = struct.Struct(">IH")
MAX_FRAME = 16 * 1024 * 1024  # a bigger value is an error, never a memory bomb in the judge
MAX_FDS = 16
# JSON nesting a frame may have: a value is at most 100 levels deep (Encoder), each tag adds
# one JSON level, and the frame's own object one more. Checked before parsing, so a frame
# nested deeper than the parser's recursion limit is refused, never a RecursionError.
MAX_JSON_DEPTH = 256
PROTOCOL_VERSION = 1


class ProtocolError(Exception):
    """A frame that is malformed, too large, or carries an unknown tag."""


# ---------------------------------------------------------------- framing


def encode_frame(message: dict, nfds: int = 0) -> bytes:
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8", "surrogatepass"
    )
    if len(payload) > MAX_FRAME:
        raise ProtocolError(f"message of {len(payload)} bytes is over the {MAX_FRAME} byte cap")
    return HEADER.pack(len(payload), nfds) + payload


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def check_depth(payload: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit`, by counting brackets outside strings (no parsing)."""
    if payload.count(b"[") + payload.count(b"{") <= limit:
        return  # cannot be deeper than the number of openings: the usual case, at C speed
    brackets = _STRING.sub(b"", payload).translate(None, _NOT_BRACKETS)
    # Each pass removes the innermost pairs, one level: wide shallow frames shrink at C speed.
    passes = 0
    while passes < 8:
        reduced = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if len(reduced) == len(brackets):
            break
        brackets, passes = reduced, passes + 1
    depth = passes
    for byte in brackets:
        if byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                raise ProtocolError(f"a frame is nested more than {limit} levels deep")
        else:
            depth -= 1


def parse_payload(payload: bytes) -> dict:
    """A frame's JSON object; every way it can be wrong is a ProtocolError."""
    check_depth(payload)
    try:
        message = json.loads(payload.decode("utf-8", "surrogatepass"))
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError) as exc:
        raise ProtocolError(f"a frame is not JSON: {type(exc).__name__}: {str(exc)[:200]}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame is not a JSON object")
    return message


class FrameReader:
    """Incremental parser: feed bytes and descriptors, take complete frames.

    With `accept_fds=False` (a side that never expects descriptors: the driver reading its
    worker, the judge reading the driver) every descriptor that arrives is closed at once,
    whatever the frames announce, so a peer cannot fill this process's descriptor table.
    """

    def __init__(self, accept_fds: bool = True) -> None:
        self._buf = bytearray()
        self._fds: list[int] = []
        self.accept_fds = accept_fds

    def feed(self, data: bytes, fds: list[int] | tuple[int, ...] = ()) -> None:
        self._buf += data
        if not self.accept_fds:
            for fd in fds:
                _close_quietly(fd)
            return
        self._fds.extend(fds)
        if len(self._fds) > 4 * MAX_FDS:  # more than any frame in flight could announce
            self.close_pending_fds()
            raise ProtocolError("descriptors arrived that no frame announced")

    def frames(self):
        """Yield (message, fds) for every complete frame buffered."""
        while len(self._buf) >= HEADER.size:
            length, nfds = HEADER.unpack_from(self._buf)
            if length > MAX_FRAME or nfds > MAX_FDS or (nfds and not self.accept_fds):
                raise ProtocolError(f"frame header out of bounds: {length} bytes, {nfds} descriptors")
            if len(self._buf) < HEADER.size + length:
                return
            if len(self._fds) < nfds:
                raise ProtocolError("a frame announced more descriptors than arrived")
            payload = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[: HEADER.size + length]
            fds, self._fds = self._fds[:nfds], self._fds[nfds:]
            try:
                message = parse_payload(payload)
            except ProtocolError:
                for fd in fds:
                    _close_quietly(fd)
                raise
            yield message, fds

    def close_pending_fds(self) -> None:
        for fd in self._fds:
            _close_quietly(fd)
        self._fds.clear()


def recv_some(sock: socket.socket, size: int = 65536) -> tuple[bytes, list[int]]:
    """One recvmsg: data (b"" at end of stream) and any descriptors that came with it."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(size, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    received: list[int] = []
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
            received.extend(fds)
    return data, received


def send_frame(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    """Blocking send of a whole frame (the judge and the worker use this; the driver buffers)."""
    data = encode_frame(message, len(fds))
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


class BlockingChannel:
    """A socket read frame by frame from one thread, written from any thread."""

    def __init__(self, sock: socket.socket, accept_fds: bool = True) -> None:
        import threading

        self.sock = sock
        self._reader = FrameReader(accept_fds)
        self._pending: list[tuple[dict, list[int]]] = []
        self._send_lock = threading.Lock()

    def send(self, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
        with self._send_lock:
            send_frame(self.sock, message, fds)

    def recv(self) -> tuple[dict, list[int]] | None:
        """The next frame, or None at end of stream."""
        while not self._pending:
            data, fds = recv_some(self.sock)
            if not data and not fds:
                return None
            self._reader.feed(data, fds)
            self._pending.extend(self._reader.frames())
        return self._pending.pop(0)


def _close_quietly(fd: int) -> None:
    import os

    try:
        os.close(fd)
    except OSError:
        pass


# ---------------------------------------------------------------- values

TAGS = ("$bytes", "$tuple", "$set", "$float", "$dict", "$record", "$ref", "$fd")


class Encoder:
    """Learner side: Python values to JSON, keeping anything else as a reference.

    `keep(obj) -> int` stores an object and returns its reference id.
    """

    def __init__(self, keep) -> None:
        self.keep = keep

    def encode(self, value, depth: int = 0):
        if depth > 100:
            raise ValueError("value nested more than 100 levels deep")
        if value is None or value is True or value is False:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return float(value)
            return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
        if isinstance(value, str):
            return str(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, tuple) and hasattr(type(value), "_fields"):
            fields = [str(f) for f in type(value)._fields]
            return {
                "$record": type(value).__name__,
                "fields": fields,
                "values": [self.encode(v, depth + 1) for v in value],
            }
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = [f.name for f in dataclasses.fields(value)]
            return {
                "$record": type(value).__name__,
                "fields": fields,
                "values": [self.encode(getattr(value, f), depth + 1) for f in fields],
            }
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, (set, frozenset)):
            return {"$set": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {str(k): self.encode(v, depth + 1) for k, v in value.items()}
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        try:
            shown = repr(value)[:200]
        except Exception:  # a repr that raises is the learner's business
            shown = f"<{type(value).__name__}>"
        return {"$ref": self.keep(value), "type": type(value).__name__, "repr": shown}


def decode_learner_value(value, make_ref, make_record, fds: list[int] | None = None, depth: int = 0):
    """Judge and worker side: tagged JSON to Python values.

    `make_ref(id, type, repr)` builds a reference; `make_record(name, fields, values)`
    a record; `fds` resolves `$fd` tags (None: descriptors are not allowed here).
    """
    if depth > 100:
        raise ProtocolError("value nested more than 100 levels deep")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode_learner_value(v, make_ref, make_record, fds, depth + 1) for v in value]
    if not isinstance(value, dict):
        raise ProtocolError(f"unexpected JSON value of type {type(value).__name__}")
    tag = next((k for k in value if isinstance(k, str) and k.startswith("$")), None)
    if tag is None:
        return {k: decode_learner_value(v, make_ref, make_record, fds, depth + 1) for k, v in value.items()}
    body = value[tag]
    sub = lambda v: decode_learner_value(v, make_ref, make_record, fds, depth + 1)  # noqa: E731
    if tag == "$bytes" and isinstance(body, str):
        return base64.b64decode(body, validate=True)
    if tag == "$tuple" and isinstance(body, list):
        return tuple(sub(v) for v in body)
    if tag == "$set" and isinstance(body, list):
        items = [sub(v) for v in body]
        try:
            return set(items)
        except TypeError:
            return items
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$dict" and isinstance(body, list):
        out = {}
        for pair in body:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("malformed $dict pair")
            key = sub(pair[0])
            try:
                out[key] = sub(pair[1])
            except TypeError:
                raise ProtocolError("unhashable key in a $dict") from None
        return out
    if tag == "$record" and isinstance(body, str):
        fields, values = value.get("fields"), value.get("values")
        if not (isinstance(fields, list) and isinstance(values, list) and len(fields) == len(values)):
            raise ProtocolError("malformed $record")
        if not all(isinstance(f, str) for f in fields):
            raise ProtocolError("malformed $record field names")
        return make_record(body, fields, [sub(v) for v in values])
    if tag == "$ref" and isinstance(body, int) and not isinstance(body, bool):
        return make_ref(body, str(value.get("type", "object"))[:100], str(value.get("repr", ""))[:200])
    if tag == "$fd" and isinstance(body, int) and fds is not None:
        if not 0 <= body < len(fds):
            raise ProtocolError("a $fd tag points past the descriptors sent")
        return fds[body]
    raise ProtocolError(f"unknown or malformed tag {tag!r}")
