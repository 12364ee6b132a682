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
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # connections of a previous run still in TIME_WAIT must not stop bind(); a live listener still does
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(backlog)
    except OSError:
        listener.close()
        raise
    return listener


MASTER_SIGNALS = {signal.SIGCHLD, signal.SIGHUP, signal.SIGTERM, signal.SIGINT}


def serve(listener: socket.socket, workers: int, grace: float) -> int:
    """The master: fork `workers` workers that accept on `listener`, keep them up, restart on SIGHUP,
    stop on SIGTERM; return the exit status (0) once every worker is reaped and the listener closed."""
    # The master takes its signals synchronously (sigwaitinfo): blocked from here on, a signal stays
    # pending until the loop asks for it, so none is lost between two looks and no handler runs in the
    # middle of the bookkeeping. (A blocked SIGCHLD stays pending although its default is to be ignored.)
    worker_mask = signal.pthread_sigmask(signal.SIG_BLOCK, MASTER_SIGNALS)
    # Workers wait in epoll and accept without blocking (see worker()); O_NONBLOCK belongs to the open
    # file description, so setting it here sets it for every worker's inherited copy.
    listener.setblocking(False)
    master = Master(listener, workers, grace, worker_mask)
    try:
        master.run()
    finally:
        listener.close()
        signal.pthread_sigmask(signal.SIG_SETMASK, worker_mask)
    return 0


class Master:
    def __init__(self, listener: socket.socket, workers: int, grace: float, worker_mask) -> None:
        self.listener = listener
        self.workers = workers
        self.grace = grace
        self.worker_mask = worker_mask
        self.current: set[int] = set()  # the generation that serves
        self.retiring: dict[int, float] = {}  # told to stop, finishing a connection: pid -> when it gets SIGKILL
        self.stopping = False

    def run(self) -> None:
        self.current = {self.fork_worker() for _ in range(self.workers)}
        while not self.stopping or self.current or self.retiring:
            signum = self.wait_for_signal()
            if signum in (signal.SIGTERM, signal.SIGINT) and not self.stopping:
                self.shutdown()
            elif signum == signal.SIGHUP and not self.stopping:
                self.restart()
            self.reap()  # after every wake-up: cheap, and a merged SIGCHLD may stand for many exits
            self.kill_overdue()

    def wait_for_signal(self) -> int | None:
        """The next signal, or None when the nearest SIGKILL deadline comes first."""
        deadlines = [d for d in self.retiring.values() if d != float("inf")]
        if not deadlines:
            return signal.sigwaitinfo(MASTER_SIGNALS).si_signo
        info = signal.sigtimedwait(MASTER_SIGNALS, max(0.0, min(deadlines) - time.monotonic()))
        return info.si_signo if info is not None else None

    def restart(self) -> None:
        """SIGHUP: the new generation first, on the same listening socket, then the old one stops."""
        old, self.current = self.current, {self.fork_worker() for _ in range(self.workers)}
        self.retire(old)

    def shutdown(self) -> None:
        """SIGTERM: every worker finishes its connection and exits; the loop ends when all are reaped."""
        self.stopping = True
        old, self.current = self.current, set()
        self.retire(old)

    def retire(self, pids: set[int]) -> None:
        deadline = time.monotonic() + self.grace
        for pid in pids:
            self.retiring[pid] = deadline
            os.kill(pid, signal.SIGTERM)  # the worker's handler: stop accepting, finish, exit

    def reap(self) -> None:
        """Collect every exited child: signals do not queue, so loop until waitpid says none is left."""
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:  # no child at all
                return
            if pid == 0:  # children remain, none has exited
                return
            if pid in self.current:  # died without being asked to: replace it at once
                self.current.discard(pid)
                if not self.stopping:
                    self.current.add(self.fork_worker())
            else:
                self.retiring.pop(pid, None)

    def kill_overdue(self) -> None:
        now = time.monotonic()
        for pid, deadline in self.retiring.items():
            if deadline <= now:
                os.kill(pid, signal.SIGKILL)  # past the grace period: reaped on its SIGCHLD
                self.retiring[pid] = float("inf")

    def fork_worker(self) -> int:
        pid = os.fork()
        if pid == 0:  # the worker never returns into the master's code
            status = 1
            try:
                status = worker(self.listener, self.worker_mask)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        return pid


def worker(listener: socket.socket, mask) -> int:
    """Accept on the inherited listener, one connection at a time, until the master sends SIGTERM.

    The worker holds 0, 1, 2, the listener and what it makes here (a pipe, an epoll): the master
    has nothing else open, so nothing else is inherited.
    """
    stop: list[int] = []
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))  # never raises mid-request
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # a hangup of the terminal is the master's business
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the master stops us
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)  # a signal makes poll() return at once
    poller = select.epoll()
    # EPOLLEXCLUSIVE (Linux 4.5): a new connection wakes one idle worker, not all of them. The woken
    # worker must then accept, even when a stop came at the same moment, or the connection would
    # wait in the queue until the next one arrives.
    poller.register(listener.fileno(), select.EPOLLIN | select.EPOLLEXCLUSIVE)
    poller.register(wake_r, select.EPOLLIN)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGTERM sent before this point runs now
    while True:
        ready = {fd for fd, _events in poller.poll()}
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        if listener.fileno() in ready:
            try:
                conn, _address = listener.accept()
            except (BlockingIOError, ConnectionAbortedError):  # another worker took it, or the client left
                conn = None
            if conn is not None:
                with conn:
                    handle(conn)
        if stop:
            return 0


if __name__ == "__main__":
    sys.exit(main())
