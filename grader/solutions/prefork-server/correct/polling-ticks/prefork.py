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
import select
import signal
import socket
import sys
import time
import traceback

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
    addrinfo = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0]
    family, kind, proto, _name, address = addrinfo
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


TICK = 0.05  # the master looks at its flags and its children this often
STOP_TICK = 0.25  # a worker idle in accept() looks at its stop flag this often
MASTER_SIGNALS = [signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT]

received = {signal.SIGHUP: 0, signal.SIGTERM: 0}  # counts, set by the master's handlers
generation: dict[int, int] = {}  # live worker pid -> the generation it belongs to
deadlines: dict[int, float] = {}  # worker pid told to stop -> when it is SIGKILLed


def _note(signum, frame) -> None:
    received[signal.SIGTERM if signum == signal.SIGINT else signum] += 1


def serve(listener: socket.socket, workers: int, grace: float) -> int:
    """A master that polls: handlers count signals, and every TICK the loop acts on the counts, reaps with
    wait3(WNOHANG) and kills the workers past their deadline. Workers stop on SIGTERM at their next look."""
    for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        signal.signal(s, _note)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    current = 0  # the serving generation
    seen_hup = seen_term = 0
    stopping = False
    for _ in range(workers):
        start_worker(listener, current)
    while True:
        if received[signal.SIGTERM] != seen_term:
            seen_term = received[signal.SIGTERM]
            if not stopping:
                stopping = True
                stop_workers([pid for pid in generation if pid not in deadlines], grace)
        if received[signal.SIGHUP] != seen_hup:
            seen_hup = received[signal.SIGHUP]
            if not stopping:
                old = [pid for pid, g in generation.items() if g == current]
                current += 1
                for _ in range(workers):
                    start_worker(listener, current)
                stop_workers(old, grace)
        while True:
            try:
                pid, _status, _usage = os.wait3(os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
            was = generation.pop(pid, None)
            asked = deadlines.pop(pid, None) is not None
            if was == current and not asked and not stopping:
                start_worker(listener, current)
        if stopping and not generation:
            break
        now = time.monotonic()
        for pid, deadline in deadlines.items():
            if deadline <= now:
                os.kill(pid, signal.SIGKILL)
                deadlines[pid] = float("inf")
        time.sleep(TICK)
    listener.close()
    return 0


def stop_workers(pids, grace: float) -> None:
    deadline = time.monotonic() + grace
    for pid in pids:
        deadlines[pid] = deadline
        os.kill(pid, signal.SIGTERM)


def start_worker(listener: socket.socket, gen: int) -> None:
    # signals stay blocked across fork() until the child has its own handlers: a SIGTERM sent to a new
    # worker at once must reach the worker's handler, not a copy of the master's
    before = signal.pthread_sigmask(signal.SIG_BLOCK, MASTER_SIGNALS)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            stop = []
            signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(1))
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
            code = accept_until_stopped(listener, stop)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    signal.pthread_sigmask(signal.SIG_SETMASK, before)
    generation[pid] = gen


def accept_until_stopped(listener: socket.socket, stop: list) -> int:
    """accept() with a timeout, so that a stop noted by the handler is seen within STOP_TICK when idle."""
    listener.settimeout(STOP_TICK)
    while not stop:
        try:
            conn, _address = listener.accept()
        except (socket.timeout, BlockingIOError, ConnectionAbortedError):
            continue
        with conn:
            handle(conn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
