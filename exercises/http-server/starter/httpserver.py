"""A small HTTP/1.1 static file server for one connected socket.

Read README.md for the exact rules. `python3 httpserver.py 8080 ./www` tries it.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

MAX_LINE = 8192       # a request line longer than this, its CRLF or LF included: 414
MAX_TARGET = 2048     # a longer request target (bytes as sent, before percent-decoding): 414
MAX_HEAD = 16384      # request line, header lines and the empty line, line endings as sent: more is 400

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


def serve_connection(sock: socket.socket, root: str) -> None:
    """Answer every request that arrives on the connected socket `sock`, in order,
    serving files under the folder `root`; end the connection by the HTTP/1.0 and
    HTTP/1.1 rules with a lingering close, and return."""
    raise NotImplementedError("not implemented: serve_connection(sock, root)")


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
