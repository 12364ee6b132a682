"""A pre-forking TCP server: one listening socket, N worker processes accepting on it, a master that supervises.

Read README.md (`prep exercise show prefork-server`) for the exact rules.
`handle`, `reply_for`, `parse_args`, `write_port_file` and `main` are given: do not change them.
Write `open_listener` and `serve` (and the worker loop they need).

    python3 prefork.py --port 8000 --workers 4      # then: echo pid | nc 127.0.0.1 8000
    kill -HUP <master pid>                           # graceful restart
    kill -TERM <master pid>                          # graceful shutdown
"""

from __future__ import annotations

import argparse
import os
import signal  # noqa: F401 - you need signal.signal, signal.pthread_sigmask, os.kill(pid, signal.SIGTERM)...
import socket
import sys
import time

REQUEST_SECONDS = 20.0  # how long a worker waits for the rest of a request line
MAX_REQUEST = 1024  # bytes of a request line, newline excluded


# ---------------------------------------------------------------- given: the work of one connection


def reply_for(line: str) -> str:
    """The answer to one request line (without its newline).

    pid        -> this worker's pid
    echo TEXT  -> TEXT
    sleep MS   -> this worker's pid, after MS milliseconds (0 to 60000)
    """
    command, _, argument = line.partition(" ")
    if command == "pid" and not argument:
        return str(os.getpid())
    if command == "echo":
        return argument
    if command == "sleep" and argument.isdigit() and int(argument) <= 60000:
        time.sleep(int(argument) / 1000)
        return str(os.getpid())
    return f"error: unknown request {line[:40]!r}"


def handle(conn: socket.socket) -> None:
    """Serve one connection in a worker: read one request line, send one reply line.

    Returns when the reply is sent or the client is gone (EOF before a whole line,
    a reset, or no whole line within REQUEST_SECONDS). It never closes `conn`:
    the caller does.
    """
    conn.settimeout(REQUEST_SECONDS)
    data = b""
    try:
        while b"\n" not in data and len(data) <= MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST + 1 - len(data))
            if not chunk:
                return  # the client went away before sending a whole line
            data += chunk
        line, newline, _ = data.partition(b"\n")
        if newline:
            reply = reply_for(line.decode("utf-8", "replace").rstrip("\r"))
        else:
            reply = f"error: request longer than {MAX_REQUEST} bytes"
        conn.sendall(reply.encode() + b"\n")
    except OSError:  # a reset, a timeout: this client is gone, the worker goes on
        return


# ---------------------------------------------------------------- given: the command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A pre-forking TCP server (see README.md).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 lets the kernel choose (default)")
    parser.add_argument("--workers", type=int, default=4, help="number of worker processes (default 4)")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="seconds a stopping worker may take to finish its connection (default 10)")
    parser.add_argument("--backlog", type=int, default=128, help="listen() backlog (default 128)")
    parser.add_argument("--port-file", help="write the real port to this file once listening")
    options = parser.parse_args(argv)
    if not 0 <= options.port <= 65535:
        parser.error(f"--port {options.port}: use 0 to 65535")
    if options.workers < 1:
        parser.error(f"--workers {options.workers}: use at least 1")
    if options.grace <= 0:
        parser.error(f"--grace {options.grace}: use a positive number of seconds")
    return options


def write_port_file(path: str, port: int) -> None:
    """Write `port` and a newline to `path` atomically: a reader sees the whole file or none."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w") as f:
        f.write(f"{port}\n")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        listener = open_listener(options.host, options.port, options.backlog)
    except OSError as exc:
        print(f"prefork: cannot listen on {options.host}:{options.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    port = listener.getsockname()[1]
    if options.port_file:
        write_port_file(options.port_file, port)
    print(f"prefork: master {os.getpid()} listening on {options.host}:{port} with {options.workers} workers",
          flush=True)  # flushed before fork(): buffered output would be copied into every worker
    return serve(listener, options.workers, options.grace)


# ---------------------------------------------------------------- yours


def open_listener(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A listening TCP socket on (host, port) with SO_REUSEADDR (and not SO_REUSEPORT); port 0: the kernel picks one."""
    raise NotImplementedError("not implemented: open_listener(host, port, backlog)")


def serve(listener: socket.socket, workers: int, grace: float) -> int:
    """The master: fork `workers` workers that accept on `listener`, keep them up, restart on SIGHUP,
    stop on SIGTERM; return the exit status (0) once every worker is reaped and the listener closed."""
    raise NotImplementedError("not implemented: serve(listener, workers, grace)")


if __name__ == "__main__":
    sys.exit(main())
