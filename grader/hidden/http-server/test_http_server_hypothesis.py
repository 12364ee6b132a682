"""Hidden test of http-server with Hypothesis: drawn streams of requests against a model of the statement.

A case is a few requests sent on one connection (pipelined, in pieces with short pauses between them, maybe
ending in half a request before the client's FIN): drawn methods, targets, versions, line endings, header
lines with repeated and differently-cased names and padded values, bodies with a Content-Length, and the
malformed lines the statement's table lists. The model is the table, row by row in its order: which status,
which headers (Connection, Location, Allow, ETag, Content-Type, Content-Length), which body, and whether the
connection goes on. A failing case is shrunk to the smallest one.
"""
# canary: hidden-test-http-server

import os
import re
import socket
import time

import pytest

from test_http_server import FILES, WAIT, connect, site  # noqa: F401 (site is a fixture)

TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".json": "application/json", ".png": "image/png",
         ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml"}

# The targets' paths (before any query) and what the statement says they are in the test's site (FILES):
# ("file", name in FILES), ("dir",) a directory, or a status. Long ones are built from their length.
PATHS = [
    ("/hello.txt", ("file", "www/hello.txt")),
    ("/", ("file", "www/index.html")),
    ("/sub", ("dir",)),
    ("/nope.txt", (404,)),
    ("/sub/", ("file", "www/sub/index.html")),
    ("/unicode.txt", ("file", "www/unicode.txt")),
    ("/caf%C3%A9.txt", ("file", "www/caf\u00e9.txt")),
    ("/sub/page.txt", ("file", "www/sub/page.txt")),
    ("/photo.JPG", ("file", "www/photo.JPG")),
    ("/README", ("file", "www/README")),
    ("/data.json", ("file", "www/data.json")),
    ("/empty", ("dir",)),
    ("/empty/", (404,)),
    ("/hello.txt/x", (404,)),
    ("/sub/../hello.txt", ("file", "www/hello.txt")),
    ("/./sub/./page.txt", ("file", "www/sub/page.txt")),
    ("/../secret.txt", (403,)),
    ("/sub/%2e%2E/%2E%2e/secret.txt", (403,)),
    ("/hel%zzlo.txt", (400,)),
    ("/a%00.txt", (400,)),
    ("/ab%4", (400,)),
    ("hello.txt", (400,)),
    ("*", (400,)),
    ("/" + "a" * 2047, (404,)),
    ("/" + "a" * 2048, (404,)),  # 2049 bytes: 414 before anything else is looked at
]
# the paths that lead to a file, a directory or a 404 three times as often as those that lead to 400, 403 or 414;
# before the last request only those that keep the connection
PATH_PICKS = [i for i, (p, what) in enumerate(PATHS) for _ in range(1 if what in [(400,), (403,)] or len(p) > 2048 else 3)]
KEEP_PICKS = [i for i in PATH_PICKS if PATHS[i][1] != (400,) and len(PATHS[i][0]) <= 2048]
QUERIES = ["", "?x=1", "?", "?q=%zz&r=/../secret.txt"]
METHODS = ["GET", "GET", "GET", "HEAD", "HEAD", "POST", "get", "DELETE"]
VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2"]
CONNECTION = ["keep-alive", "Keep-Alive", "upgrade", "close", "TE, Close"]
INM = ["*", '"nope"', "{E}", "W/{E}", '"nope", {E}', 'W/"nope"']
LENGTHS = ["0", "5", "22", "1"]
SPACES = ["", " ", "  ", "\t", " \t"]
LINE_FORMS = {"two spaces after the method": "{m}  {t} {v}", "no version": "{m} {t}",
              "a fourth part": "{m} {t} {v} extra", "a trailing space": "{m} {t} {v} "}
# at most one of these per request, in a quarter of them: the malformed lines and headers of the table
FAULTS = ([("version", v) for v in ["HTTP/2.0", "HTTP/0.9", "http/1.1", "HTTP/1.10", "HTTP/1"]]
          + [("form", f) for f in LINE_FORMS] + [("method", "G@T"), ("method", "GE T")]
          + [("line", b) for b in ["NoColonHere", "X-Bad : 1", " folded", ": empty name", "\tfolded", "X@Y: 1"]]
          + [("hosts", 0), ("hosts", 2), ("header", ("Transfer-Encoding", "chunked"))]
          + [("header", ("Content-Length", v)) for v in ["abc", "+3", "", "1.5", "-1", "0x10"]]
          + [("twice", ("Content-Length", "0"))])
BODY = b"GET /secret.txt HTTP/1.1\r\nHost: x\r\n\r\n"
TAIL = b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"


def cases():
    """Requests that keep the connection open, then one drawn from everything (which may end it)."""
    from hypothesis import strategies as st

    def request(last: bool):
        connection = CONNECTION if last else [c for c in CONNECTION if "close" not in c.lower()]
        header = st.one_of(
            st.tuples(st.just("Connection"), st.sampled_from(connection)),
            st.tuples(st.just("If-None-Match"), st.sampled_from(INM)),
            st.tuples(st.just("Content-Length"), st.sampled_from(LENGTHS)),
            st.tuples(st.just("Accept"), st.just("*/*")),
        )
        # (name, value), casing, spaces before the value, spaces after it
        line = st.tuples(header, st.integers(0, 3), st.sampled_from(SPACES), st.sampled_from(SPACES))
        # a Connection or If-None-Match line after the others, often a second one: their values are joined
        again = st.sampled_from([None] + [("If-None-Match", v) for v in INM] + [("Connection", v) for v in connection])
        keep_alive = st.tuples(st.just(("Connection", "keep-alive")), st.integers(0, 3), st.just(" "), st.just(""))
        return st.fixed_dictionaries({
            "blank": st.lists(st.sampled_from(["\r\n", "\n"]), max_size=2),
            "method": st.sampled_from(METHODS),
            "path": st.sampled_from(PATH_PICKS if last else KEEP_PICKS),
            "query": st.sampled_from(QUERIES),
            "version": st.sampled_from(VERSIONS),
            "host": st.booleans(),  # HTTP/1.0: with a Host header or without (HTTP/1.1 always has one)
            "host_first": st.booleans(),
            "headers": st.tuples(st.lists(line, max_size=4), again, st.integers(0, 3)).map(
                lambda t: t[0] + ([(t[1], t[2], " ", "")] if t[1] else [])),
            "keep_alive": keep_alive,  # added to an HTTP/1.0 request that must keep the connection
            "lf": st.integers(0, 2**8 - 1),  # bit i set: line i ends with a bare LF, else CRLF
            "fault": st.sampled_from([None] * (2 * len(FAULTS)) + FAULTS) if last else st.none(),
        }).map(lambda req: req if last else keeping(req))

    def keeping(req):
        if req["version"] == "HTTP/1.0":
            req = {**req, "headers": [req["keep_alive"]] + req["headers"]}
        if len(target_of(req)) > 2048:
            req = {**req, "query": ""}
        return req

    return st.fixed_dictionaries({
        "requests": st.tuples(st.lists(request(False), max_size=8), request(True)).map(lambda t: t[0] + [t[1]]),
        "tail": st.sampled_from([0, 0, 5, 17, 25, 36, 38]),  # bytes of a further GET sent before the FIN
        "cuts": st.lists(st.integers(0, 999), max_size=4),  # where the stream is split, per mille
    })


def _name(name: str, casing: int) -> str:
    if casing == 1:
        return name.lower()
    if casing == 2:
        return name.upper()
    if casing == 3:
        return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(name))
    return name


def target_of(req) -> str:
    return PATHS[req["path"]][0] + req["query"]


def render(req, etags: dict) -> tuple[bytes, dict]:
    """The request's bytes and the model's fields (request line, header list, body)."""
    kind, what = req["fault"] or (None, None)
    method = what if kind == "method" else req["method"]
    version = what if kind == "version" else req["version"]
    target = target_of(req)
    if kind == "form" and method == "HEAD":
        method = "GET"  # a line that is not three parts does not say its method: keep HEAD out of it
    line = LINE_FORMS.get(what if kind == "form" else None, "{m} {t} {v}").format(m=method, t=target, v=version)
    headers = []  # (raw line, lower-case name or None for a bad line, value as the server should see it)
    items = list(req["headers"])
    if kind == "header":
        items.insert(len(items) // 2, (what, 0, " ", ""))
    if kind == "twice":
        items[len(items) // 2:len(items) // 2] = [(what, 0, " ", ""), (what, 0, " ", "")]
    for (name, value), casing, before, after in items:
        etag = etags.get(_file_of(req), '"no-file"')
        value = value.replace("{E}", etag)
        headers.append((f"{_name(name, casing)}:{before}{value}{after}", name.lower(), value.strip(" \t")))
    if kind == "line":
        headers.insert(len(headers) // 2, (what, None, None))
    hosts = 1 if version != "HTTP/1.0" or req["host"] else 0
    if kind == "hosts":
        hosts = what
    host_lines = [(f"{_name('Host', (req['lf'] >> (4 + 2 * i)) & 3)}:{SPACES[(req['lf'] >> i) % 5]}test",
                   "host", "test") for i in range(hosts)]
    headers = host_lines + headers if req["host_first"] else headers + host_lines
    lines = [line] + [h[0] for h in headers] + [""]
    endings = ["\n" if (req["lf"] >> i) & 1 else "\r\n" for i in range(len(lines))]
    head = "".join(req["blank"]) + "".join(text + end for text, end in zip(lines, endings))
    lengths = [v for _, n, v in headers if n == "content-length"]
    body = BODY[: int(lengths[0])].ljust(int(lengths[0]), b"z") if len(lengths) == 1 and lengths[0].isdigit() else b""
    return head.encode("utf-8") + body, {"line": line, "headers": headers, "body": body}


def _file_of(req):
    what = PATHS[req["path"]][1]
    return what[1] if what[0] == "file" else None


def expect(req, fields) -> dict:
    """What the statement says the answer is: status, whether the connection ends after it ('close', 'keep',
    or None when the statement leaves it open), what the response must hold, and why (for the message)."""
    parts = fields["line"].split(" ")
    head_only = len(parts) == 3 and parts[0] == "HEAD"
    out = {"head_only": head_only, "file": None, "location": None, "allow": False, "inm": None}

    def final(status, why):
        return {**out, "status": status, "end": "close", "why": why}

    if len(parts) != 3 or not TOKEN.fullmatch(parts[0]) or not VERSION.fullmatch(parts[2]):
        return final(400, "the request line is not METHOD SP TARGET SP HTTP/d.d")
    method, target, version = parts
    major, minor = (int(x) for x in VERSION.fullmatch(version).groups())
    if major != 1:
        return final(505, f"{version} is not HTTP/1.x")
    if len(target.encode()) > 2048:
        return final(414, f"the target is {len(target.encode())} bytes, more than 2048")
    names = [n for _, n, _ in fields["headers"]]
    if None in names:
        bad = next(raw for raw, n, _ in fields["headers"] if n is None)
        return final(400, f"the header line {bad!r} is malformed")
    hosts = names.count("host")
    if (minor >= 1 and hosts != 1) or hosts > 1:
        return final(400, f"it has {hosts} Host headers" + (" (HTTP/1.1 needs exactly one)" if minor >= 1 else ""))
    if "transfer-encoding" in names:
        return final(501, "it has a Transfer-Encoding header")
    lengths = [v for _, n, v in fields["headers"] if n == "content-length"]
    if len(lengths) > 1 or (lengths and not (lengths[0].isdigit() and lengths[0].isascii())):
        return final(400, f"its Content-Length is not one decimal number ({', '.join(map(repr, lengths))})")
    tokens = {t.strip().lower() for _, n, v in fields["headers"] if n == "connection" for t in v.split(",")}
    if minor >= 1:
        end = "close" if "close" in tokens else "keep"
    elif "keep-alive" in tokens:
        end = None if "close" in tokens else "keep-alive"  # both tokens: the statement does not say
    else:
        end = "close"
    out["inm"] = ", ".join(v for _, n, v in fields["headers"] if n == "if-none-match") or None

    def kept(status, why, **more):
        return {**out, **more, "status": status, "end": end, "why": why}

    if method not in ("GET", "HEAD"):
        return kept(405, f"{method} is neither GET nor HEAD", allow=True)
    if not target.startswith("/"):
        return final(400, "the target does not start with /")
    path, sep, query = target.partition("?")
    what = PATHS[[p for p, _ in PATHS].index(path)][1]
    if what == (400,):
        return final(400, "its path has a bad % escape or %00")
    if what == (403,):
        return kept(403, "its path goes above the root")
    if what == (404,):
        return kept(404, "there is no such file")
    if what == ("dir",):
        return kept(301, "it names a directory without a trailing /", location=path + "/" + sep + query)
    return kept(200, "it names a regular file", file=what[1])


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def describe(e) -> str:
    body = "" if e["head_only"] else " and a body"
    what = {200: f"200 with {e['file']!r}" if e["file"] else "200", 301: f"301 with Location: {e['location']}",
            405: "405 with Allow: GET, HEAD"}.get(e["status"], str(e["status"]))
    end = {"close": "Connection: close, then the connection ends", "keep": "the connection goes on",
           "keep-alive": "Connection: keep-alive, the connection goes on", None: "close or keep-alive"}[e["end"]]
    return f"{what}{body if e['status'] != 304 else ''} ({e['why']}); {end}"


def _short(data: bytes) -> str:
    text = repr(data)
    return re.sub(r"a{40,}", lambda m: f"a...({len(m.group())} a's)...a", text)


@pytest.mark.cards("http-message-framing-persistent", "http10-vs-http11-persistent-default",
                   "http11-host-header-required")
def test_hypothesis_request_streams_against_the_statement(learner, site):
    from prep_judge.model import check

    # Each file's ETag, as the server gives it, for the If-None-Match headers that quote it.
    etags = {}
    c = connect(learner, site)
    for path, what in PATHS:
        if what[0] == "file" and what[1] not in etags:
            c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: test\r\n\r\n")
            r = c.response(what=f"the response to GET {path}")
            assert r.status == 200 and r.header("ETag"), f"GET {path}: expected 200 with an ETag, got {r!r}"
            etags[what[1]] = r.header("ETag")
    c.finish()

    def run(case):
        streams = [render(req, etags) for req in case["requests"]]
        data = b"".join(raw for raw, _ in streams) + TAIL[: case["tail"]]
        cuts = sorted({len(data) * k // 1000 for k in case["cuts"]} - {0})
        c = connect(learner, site)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            start = 0
            for cut in cuts + [len(data)]:
                if cut > start:
                    c.send(data[start:cut])
                    time.sleep(0.005)
                start = cut
            c.sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            raise AssertionError(f"sending the requests failed ({exc}): the server closed the connection with "
                                 "requests still unread (a reset)") from None
        for i, (req, (raw, fields)) in enumerate(zip(case["requests"], streams)):
            e = expect(req, fields)
            what = f"the response to request {i + 1} ({_short(raw[:80])})"
            r = c.response("HEAD" if e["head_only"] else "GET", what=what)
            why = f"request {i + 1}: expected {describe(e)}; got {r!r}"
            assert r.status_line.startswith("HTTP/1.1 "), f"{why}: a response starts with 'HTTP/1.1 <code>'"
            assert r.status == e["status"] or (e["status"] == 200 and r.status == 304), why
            if e["status"] == 200:
                etag = etags[e["file"]]
                matches = e["inm"] is not None and (e["inm"] == "*" or any(
                    _opaque(t) == _opaque(etag) for t in e["inm"].split(",") if t.strip()))
                if matches:
                    e = {**e, "status": 304, "why": f"If-None-Match: {e['inm']} matches its ETag {etag}"}
                    why = f"request {i + 1}: expected {describe(e)}; got {r!r}"
                assert r.status == e["status"], why
                assert r.header("ETag") == etag, f"{why}: its ETag must be {etag}, as before"
                if r.status == 200:
                    content = FILES[e["file"]]
                    assert r.header("Content-Length") == str(len(content)), (
                        f"{why}: Content-Length must be the file's size in bytes, {len(content)}")
                    if not e["head_only"]:
                        assert r.body == content, f"{why}: the body is not the file's content"
                    ctype = TYPES.get(os.path.splitext(e["file"])[1].lower(), "application/octet-stream")
                    got = (r.header("Content-Type") or "").replace(" ", "").lower()
                    assert got == ctype.replace(" ", ""), f"{why}: Content-Type must be {ctype}"
            if r.status != 304:
                assert (r.header("Content-Length") or "").isdigit(), f"{why}: it must have a Content-Length"
            if e["location"] is not None:
                assert r.header("Location") == e["location"], f"{why}: Location must be {e['location']}"
            if e["allow"]:
                allow = {m.strip().upper() for m in (r.header("Allow") or "").split(",")}
                assert {"GET", "HEAD"} <= allow, f"{why}: Allow must list GET, HEAD"
            tokens = r.conn_tokens()
            end = e["end"]
            if end is None:
                end = "close" if "close" in tokens else "keep-alive"
            if end == "close":
                assert "close" in tokens, f"{why}: the connection ends after it, so it must say Connection: close"
                c.expect_eof(f"request {i + 1}: after its response the connection must end ({e['why']}; "
                             f"expected {describe(e)})")
                c.finish()
                return
            if end == "keep-alive":
                assert "keep-alive" in tokens, f"{why}: an HTTP/1.0 connection kept alive says Connection: keep-alive"
            assert "close" not in tokens, f"{why}: the connection goes on, but it said Connection: close"
        more = (f"the client sent {case['tail']} bytes of a further request and then its FIN: expected no response"
                if case["tail"] else "the client sent its FIN after the last request: expected nothing more")
        c.expect_eof(f"{more} and the end of the connection")
        c.finish()

    def show(case):
        streams = [render(req, etags) for req in case["requests"]]
        lines = []
        for i, (req, (raw, fields)) in enumerate(zip(case["requests"], streams)):
            lines.append(f"request {i + 1}: {_short(raw)}  # {describe(expect(req, fields))}")
        if case["tail"]:
            lines.append(f"then {TAIL[: case['tail']]!r}  # half a request: no response")
        data = b"".join(raw for raw, _ in streams) + TAIL[: case["tail"]]
        cuts = sorted({len(data) * k // 1000 for k in case["cuts"]} - {0, len(data)})
        lines.append(f"sent in {len(cuts) + 1} piece(s)" + (f", split after bytes {cuts}" if cuts else "")
                     + ", then the client's FIN (shutdown SHUT_WR)")
        return lines

    check(learner, cases(), run, show, seed=0x4771, max_examples=100, shrink_runs=150)
