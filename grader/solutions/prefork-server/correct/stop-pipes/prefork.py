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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


HANDLED = (signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT)


def serve(listener: socket.socket, workers: int, grace: float) -> int:
    """Handlers that only note the signal, a self-pipe the master sleeps on in select(), and one stop pipe per
    worker: the master keeps its write end and closes it to say "stop"."""
    listener.setblocking(False)  # shared by every worker: a lost race for a connection is EAGAIN, not a hang
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    pending: list[int] = []
    saved = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in HANDLED}
    saved_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)

    channels: dict[int, int] = {}  # worker pid -> write end of its stop pipe (only for workers not told to stop)
    serving: set[int] = set()  # the generation that serves: replaced when it dies
    leaving: dict[int, float] = {}  # told to stop: pid -> monotonic deadline of its SIGKILL
    stopping = False

    def spawn() -> int:
        stop_r, stop_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.set_wakeup_fd(-1)
                for fd in (wake_r, wake_w, stop_w, *channels.values()):  # the other workers' channels too
                    os.close(fd)
                code = accept_loop(listener, stop_r)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(stop_r)
        channels[pid] = stop_w
        return pid

    def tell_to_stop(pids) -> None:
        deadline = time.monotonic() + grace
        for pid in pids:
            fd = channels.pop(pid, None)
            if fd is not None:
                os.close(fd)  # its select() sees end of file on the read end
            leaving[pid] = deadline

    def collect() -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG)
            except ChildProcessError:
                return
            if info is None:  # children remain, none has exited
                return
            pid = info.si_pid
            fd = channels.pop(pid, None)
            if fd is not None:
                os.close(fd)
            leaving.pop(pid, None)
            if pid in serving:
                serving.discard(pid)
                if not stopping:
                    serving.add(spawn())

    try:
        for _ in range(workers):
            serving.add(spawn())
        while serving or leaving or not stopping:
            live = [d for d in leaving.values() if d != float("inf")]
            timeout = max(0.0, min(live) - time.monotonic()) if live else None
            select.select([wake_r], [], [], timeout)
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
            while pending:
                signum = pending.pop(0)
                if signum == signal.SIGHUP and not stopping:
                    old = set(serving)
                    serving.clear()
                    for _ in range(workers):
                        serving.add(spawn())
                    tell_to_stop(old)
                elif signum in (signal.SIGTERM, signal.SIGINT) and not stopping:
                    stopping = True
                    tell_to_stop(set(serving))
                    serving.clear()
            collect()
            now = time.monotonic()
            for pid, deadline in list(leaving.items()):
                if deadline <= now:
                    os.kill(pid, signal.SIGKILL)
                    leaving[pid] = float("inf")
    finally:
        for fd in channels.values():
            os.close(fd)
        signal.set_wakeup_fd(saved_wakeup)
        for s, handler in saved.items():
            signal.signal(s, handler)
        os.close(wake_r)
        os.close(wake_w)
        listener.close()
    return 0


def accept_loop(listener: socket.socket, stop_r: int) -> int:
    """One worker: select on the listener and on its stop pipe; end of file on the pipe means stop."""
    for s in (signal.SIGTERM, signal.SIGCHLD):
        signal.signal(s, signal.SIG_DFL)
    for s in (signal.SIGHUP, signal.SIGINT):
        signal.signal(s, signal.SIG_IGN)
    while True:
        readable, _, _ = select.select([listener, stop_r], [], [])
        if listener in readable:
            try:
                conn, _address = listener.accept()
            except (BlockingIOError, ConnectionAbortedError):
                conn = None
            if conn is not None:
                with conn:
                    handle(conn)
        if stop_r in readable:
            return 0


if __name__ == "__main__":
    sys.exit(main())
