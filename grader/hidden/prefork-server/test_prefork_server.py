# canary: hidden-test-prefork-server
"""Hidden tests of prefork-server: a master, N workers and one listening socket, watched from outside.

The server runs as a program (`python3 prefork.py --workers N --port-file port ...`,
learner.spawn); its master is the spawned process, its workers the master's
children. The judge talks to it over real TCP on loopback, reads /proc/net/tcp
(the sandbox's network namespace is shared) to tell which socket is which, and
asks the harness for each process's descriptors, states and parents. A client
that has sent part of a request line holds its worker for as long as the test
wants, without any sleep: that is how a connection is kept "in flight" across a
SIGHUP or a SIGTERM. Every wait is bounded, with margins for a loaded machine.
"""

from __future__ import annotations

import signal
import socket
import struct
import threading
import time

import pytest

from prep_judge import HarnessError, LearnerError, LearnerTimeout

START = 20.0  # seconds for the program to start and fork its workers
WAIT = 10.0  # seconds for any one thing: a reply, a replacement, a worker's exit
GRACE = 30.0  # --grace of the tests that do not test the grace period: never reached

LISTEN, ESTABLISHED, TIME_WAIT = 0x0A, 0x01, 0x06

# the exercise's cards, for @pytest.mark.cards: which mechanism a test checks
CARD_BACKLOG = "listen-backlog-meaning-linux"
CARD_REUSEADDR = "bind-eaddrinuse-after-restart"
CARD_WNOHANG = "waitpid-wnohang-returns-zero"


# ---------------------------------------------------------------- waiting


def wait_until(predicate, seconds: float, step: float = 0.02):
    """Poll `predicate` until it returns something true or `seconds` pass; its last value."""
    end = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        time.sleep(step)


# ---------------------------------------------------------------- /proc/net/tcp


def _hexaddr(addr) -> str:
    return "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(addr[0]))[0], addr[1])


def tcp_table() -> list[dict]:
    """Every TCP socket of the network namespace: local and remote "HEXIP:HEXPORT", state, inode."""
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            rows.append({"local": fields[1], "remote": fields[2], "state": int(fields[3], 16),
                         "rx": int(fields[4].split(":")[1], 16), "inode": int(fields[9])})
    return rows


def listening_inodes(port: int) -> set[int]:
    """The inodes of the listening sockets bound to `port` (any address)."""
    return {r["inode"] for r in tcp_table() if r["state"] == LISTEN and int(r["local"].rsplit(":", 1)[1], 16) == port}


def connection_inodes() -> set[int]:
    """The inodes of every TCP socket that is not listening (connections, whoever holds them)."""
    return {r["inode"] for r in tcp_table() if r["state"] != LISTEN and r["inode"]}


def time_wait_on(port: int) -> bool:
    return any(r["state"] == TIME_WAIT and int(r["local"].rsplit(":", 1)[1], 16) == port for r in tcp_table())


_ENDS: dict = {}  # client socket -> (its address, the server's address), noted while connected


def connect(port: int) -> socket.socket:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    except ConnectionRefusedError:
        raise AssertionError(f"connecting to the server's port {port} was refused: nothing listens there") from None
    except socket.timeout:
        raise AssertionError(f"connecting to the server's port {port} timed out") from None
    _ENDS[sock] = (sock.getsockname(), sock.getpeername())
    return sock


def server_side(client: socket.socket) -> dict | None:
    """The server's end of `client`'s connection in /proc/net/tcp (inode 0: not accepted yet)."""
    local, peer = _ENDS[client]
    want = (_hexaddr(peer), _hexaddr(local))
    for row in tcp_table():
        if (row["local"], row["remote"]) == want:
            return row
    return None


def read_to_eof(sock: socket.socket, what: str, seconds: float = WAIT) -> bytes:
    """Everything until the server closes; fails on a timeout or a reset."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except socket.timeout:
        raise AssertionError(f"{what}: no reply and end of stream within {seconds:g} s "
                             f"(got {data[:60]!r} so far)") from None
    except ConnectionResetError:
        raise AssertionError(f"{what}: the connection was reset (RST) after {data[:60]!r}") from None
    return data


def request(port: int, line: bytes, what: str) -> bytes:
    """One request line, its reply line (without the newline)."""
    sock = connect(port)
    try:
        sock.sendall(line + b"\n")
        reply = read_to_eof(sock, what)
    except (BrokenPipeError, ConnectionResetError):
        raise AssertionError(f"{what}: the connection was reset while sending the request") from None
    finally:
        sock.close()
    if not reply.endswith(b"\n"):
        raise AssertionError(f"{what}: the connection ended without a whole reply line (got {reply[:60]!r})")
    return reply[:-1]


def pid_reply(port: int, what: str) -> int:
    reply = request(port, b"pid", what)
    if not reply.isdigit():
        raise AssertionError(f"{what}: the reply to 'pid' must be a pid, got {reply[:60]!r}")
    return int(reply)


def no_reply_yet(sock: socket.socket) -> bool:
    """True when nothing, not even an end of stream, is waiting on `sock`."""
    sock.settimeout(0)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


# ---------------------------------------------------------------- the learner's processes


def socket_inodes(fds: dict) -> set[int]:
    return {int(t[len("socket:["):-1]) for t in fds.values() if t.startswith("socket:[")}


class Server:
    """The spawned master and what the tests ask about it."""

    def __init__(self, learner, program, port: int, workers: int) -> None:
        self.learner = learner
        self.program = program
        self.master = program.pid
        self.port = port
        self.size = workers

    def children(self) -> list:
        return [p for p in self.learner.processes() if p.ppid == self.master]

    def workers(self) -> set[int]:
        """The live workers (zombies left out)."""
        return {p.pid for p in self.children() if p.state != "Z"}

    def zombies(self) -> set[int]:
        return {p.pid for p in self.children() if p.state == "Z"}

    def sockets(self, pid: int) -> set[int]:
        """The socket inodes a process holds (empty once it is gone)."""
        try:
            return socket_inodes(self.learner.fds(pid))
        except HarnessError:
            return set()

    def alive(self, pid: int) -> bool:
        return any(p.pid == pid and p.state != "Z" for p in self.learner.processes())

    def check_running(self) -> None:
        if self.program.done():
            raise AssertionError(f"the master exited during the test: {exit_summary(self.program)}")

    def listener(self) -> int:
        """The one listening socket on the port, which the master must hold."""
        found = listening_inodes(self.port)
        if len(found) != 1:
            raise AssertionError(
                f"{len(found)} listening sockets are bound to port {self.port}; there must be exactly one, created "
                "by the master and inherited by every worker (no SO_REUSEPORT, no socket per worker)")
        (inode,) = found
        if inode not in self.sockets(self.master):
            raise AssertionError("the master does not hold the listening socket: it must keep it open for the "
                                 "workers it forks later (replacements, a restart)")
        return inode

    def holder(self, client: socket.socket) -> int | None:
        """The worker holding the server's end of `client`'s connection."""
        row = server_side(client)
        if not row or not row["inode"]:
            return None
        for pid in self.workers():
            if row["inode"] in self.sockets(pid):
                return pid
        return None

    def signal(self, signum: int) -> None:
        self.learner.signal(self.master, signum)

    def stop(self) -> int:
        """SIGTERM, and the master's exit status."""
        self.signal(signal.SIGTERM)
        try:
            return self.program.wait(timeout=WAIT + 5).returncode
        except LearnerTimeout:
            raise AssertionError(f"the master did not exit within {WAIT + 5:g} s of SIGTERM") from None


def exit_summary(program) -> str:
    try:
        done = program.wait(timeout=5)
    except LearnerTimeout:
        return "it still runs"
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    tail = " | ".join(lines[-3:])[-400:]
    how = f"killed by signal {-done.returncode}" if done.returncode < 0 else f"exit status {done.returncode}"
    return f"{how}; stderr ends: {tail}" if tail else how


def _read_port(learner, name: str) -> int | None:
    try:
        text = learner.read_file(name).decode("ascii", "replace").strip()
    except HarnessError:  # not written yet
        return None
    return int(text) if text.isdigit() else None


def start_server(learner, workers: int = 3, port: int = 0, grace: float = GRACE, port_file: str = "port") -> Server:
    program = learner.spawn(["--workers", str(workers), "--port", str(port), "--grace", str(grace),
                             "--port-file", port_file], stdin=None)
    found = wait_until(lambda: _read_port(learner, port_file) or program.done(), START)
    real = _read_port(learner, port_file)
    if not real:
        if program.done():
            raise AssertionError(f"the server stopped before it was listening: {exit_summary(program)}")
        raise AssertionError(f"the server did not write its port file within {START:g} s (found {found!r})")
    server = Server(learner, program, real, workers)
    up = wait_until(lambda: program.done() or len(server.workers()) == workers, START)
    server.check_running()
    if not up:
        raise AssertionError(f"--workers {workers}: the master has {len(server.workers())} live child processes "
                             f"{START:g} s after it started listening; it must fork exactly {workers} workers")
    return server


class Held:
    """A client that sent part of a request line: its worker waits for the rest, as long as the test likes."""

    def __init__(self, server: Server, text: bytes) -> None:
        self.server = server
        self.text = text
        self.sock = connect(server.port)
        self.sock.sendall(b"echo " + text)  # no newline yet

    def wait_holder(self, what: str) -> int:
        pid = wait_until(lambda: self.server.holder(self.sock), WAIT)
        if not pid:
            self.server.check_running()
            raise AssertionError(f"{what}: no worker accepted the connection within {WAIT:g} s")
        return pid

    def finish(self, what: str) -> None:
        try:
            self.sock.sendall(b"\n")
        except OSError as exc:
            raise AssertionError(f"{what}: the connection was already closed by the server "
                                 f"({type(exc).__name__}) before the client finished its request") from None
        reply = read_to_eof(self.sock, what)
        if reply != self.text + b"\n":
            raise AssertionError(f"{what}: the client sent 'echo {self.text.decode()}' and expected it back, "
                                 f"got {reply[:80]!r}")
        self.sock.close()


# ---------------------------------------------------------------- the tests


@pytest.mark.cards(CARD_BACKLOG)
def test_workers_share_the_masters_listening_socket(learner):
    server = start_server(learner, workers=3)
    listener = server.listener()
    workers = server.workers()
    assert len(workers) == 3, f"--workers 3 must give 3 worker processes, the master has {len(workers)} children"
    for pid in workers:
        assert listener in server.sockets(pid), (
            f"worker {pid} does not hold the master's listening socket: workers accept on the socket they "
            "inherited through fork(), they do not open their own")
    served = {pid_reply(server.port, f"request {i + 1} ('pid')") for i in range(6)}
    assert served <= workers, (
        f"the replies to 'pid' came from pids {sorted(served - workers)}, which are not the master's workers: "
        "the workers must answer, the master never serves a connection")
    echoed = request(server.port, b"echo prefork says hello", "an 'echo' request")
    assert echoed == b"prefork says hello", f"'echo prefork says hello' must be answered with the text, got {echoed!r}"
    assert server.stop() == 0, f"after SIGTERM the master must exit with 0 ({exit_summary(server.program)})"


@pytest.mark.cards(CARD_BACKLOG)
def test_each_idle_worker_takes_one_connection_and_the_rest_wait_in_the_backlog(learner):
    server = start_server(learner, workers=3)
    held = [Held(server, b"client %d" % i) for i in range(3)]
    holders = [h.wait_holder(f"client {i + 1} of 3 connected at once") for i, h in enumerate(held)]
    assert len(set(holders)) == 3, (
        f"3 clients connected at once were held by {len(set(holders))} worker(s): each idle worker accepts one "
        "connection and serves it; the others must be accepted by the other idle workers")
    extra = connect(server.port)
    extra.sendall(b"pid\n")
    row = wait_until(lambda: server_side(extra), WAIT)
    assert row and row["state"] == ESTABLISHED, "a 4th client's connection was not established by the kernel"
    assert row["inode"] == 0 and no_reply_yet(extra), (
        "while all 3 workers were busy with a client each, a 4th connection was already accepted or answered: "
        "with every worker busy, a new connection must wait in the listen backlog until a worker is free")
    held[0].finish("client 1, once the 4th client was waiting")
    reply = read_to_eof(extra, "the 4th client, once the worker of client 1 was free")
    assert reply.strip().isdigit() and int(reply) == holders[0], (
        f"the 4th client waited in the backlog while every worker was busy; the only worker that became free "
        f"was {holders[0]} (client 1's), so it must have answered, but the reply was {reply[:60]!r}")
    for i, h in enumerate(held[1:], 2):
        h.finish(f"client {i}")
    extra.close()


@pytest.mark.cards(CARD_BACKLOG)
def test_master_never_accepts(learner):
    server = start_server(learner, workers=3)
    listener = server.listener()
    workers = server.workers()
    server.signal(signal.SIGSTOP)  # a master that accepts (and hands connections out) cannot while stopped
    try:
        served = set()
        for i in range(6):
            try:
                served.add(pid_reply(server.port, f"request {i + 1} while the master was stopped (SIGSTOP)"))
            except AssertionError as exc:
                raise AssertionError(
                    f"{exc}. The workers must accept on the shared listening socket themselves: the master never "
                    "accepts, it only supervises") from None
        assert served <= workers, f"replies came from pids {sorted(served - workers)}, not from the workers"
        master_sockets = server.sockets(server.master)
        assert listener in master_sockets, "the master must keep the listening socket open"
        assert not master_sockets & connection_inodes(), (
            "the master holds a TCP connection: it must never accept (nor keep a copy of a connection)")
    finally:
        server.signal(signal.SIGCONT)


@pytest.mark.cards(CARD_WNOHANG)
def test_killed_worker_is_reaped_and_replaced(learner):
    server = start_server(learner, workers=3)
    listener = server.listener()
    before = server.workers()
    victim = min(before)
    learner.signal(victim, signal.SIGKILL)

    def replaced():
        now = server.workers()
        return victim not in now and len(now) == 3 and victim not in server.zombies() and now

    now = wait_until(replaced, WAIT)
    server.check_running()
    if not now:
        if victim in server.zombies():
            raise AssertionError(f"the killed worker {victim} is still a zombie {WAIT:g} s later: the master must "
                                 "collect it with waitpid() when SIGCHLD comes")
        raise AssertionError(f"{WAIT:g} s after a worker was killed the master has {len(server.workers())} live "
                             "workers instead of 3: fork a replacement for a worker that dies")
    new = now - before
    assert len(new) == 1, f"one worker was killed; {len(new)} new workers appeared instead of exactly one"
    (fresh,) = new
    assert listener in server.sockets(fresh), "the replacement worker does not hold the master's listening socket"
    served = {pid_reply(server.port, f"request {i + 1} after the replacement") for i in range(3)}
    assert served <= now, f"replies came from pids {sorted(served - now)}, not from the current workers"


@pytest.mark.cards(CARD_WNOHANG)
def test_workers_dying_together_are_all_reaped_and_replaced(learner):
    server = start_server(learner, workers=3)
    before = server.workers()
    server.signal(signal.SIGSTOP)  # the three exits happen while the master cannot run: one SIGCHLD stands for all
    try:
        for pid in before:
            learner.signal(pid, signal.SIGKILL)
        all_dead = wait_until(lambda: before <= server.zombies(), WAIT)
        assert all_dead, "the killed workers did not become zombies while the master was stopped"
    finally:
        server.signal(signal.SIGCONT)

    def recovered():
        return not server.zombies() and len(server.workers()) == 3 and not server.workers() & before

    ok = wait_until(recovered, WAIT)
    server.check_running()
    if not ok:
        left = server.zombies() & before
        assert not left, (
            f"{len(left)} of 3 workers killed together were still zombies {WAIT:g} s after the master continued: "
            "signals do not queue, so one SIGCHLD may stand for several exits; reap in a loop with "
            "waitpid(-1, WNOHANG) until it returns 0")
        raise AssertionError(f"after 3 workers died together the master has {len(server.workers())} live workers "
                             "instead of 3: replace every worker that died")
    reply = pid_reply(server.port, "a request after the replacements")
    assert reply in server.workers(), "the reply to 'pid' did not come from one of the master's workers"


@pytest.mark.cards(CARD_WNOHANG, CARD_REUSEADDR)
def test_sighup_restarts_every_worker_without_dropping_a_request(learner):
    server = start_server(learner, workers=3)
    listener = server.listener()
    old = server.workers()
    held = Held(server, b"held through the restart")
    holder = held.wait_holder("the held client")
    stream = Stream(server.port, threads=3)
    stream.start()
    try:
        assert wait_until(lambda: stream.each_served_by(old), WAIT), (
            f"the stream of requests got no reply before the restart; failures: {stream.failures[:1]}")
        server.signal(signal.SIGHUP)

        def restarted():
            now = server.workers()
            return len(now - old) == 3 and now & old == {holder}

        if not wait_until(restarted, WAIT + 5):
            server.check_running()
            now = server.workers()
            if holder not in now:
                raise AssertionError(
                    "the old worker serving a client that had not finished its request was gone after SIGHUP: "
                    "an old worker must stop accepting but finish the connection it is serving")
            if not now - old:
                raise AssertionError(
                    "no new worker appeared after SIGHUP while an old worker was still finishing a connection: "
                    "fork the new workers first, on the same listening socket, then tell the old ones to stop")
            if len(now - old) != 3:
                raise AssertionError(
                    f"after SIGHUP the master has {len(now - old)} new workers; it must have exactly 3 (a retired "
                    "worker that exits is not replaced: only a worker that dies unexpectedly is)")
            raise AssertionError(
                f"{len((now & old) - {holder})} idle old worker(s) still ran {WAIT + 5:g} s after SIGHUP: tell every "
                "old worker to stop accepting (and reap it when it exits); if you did, check that no other "
                "process still holds a copy of the way you tell it (a pipe's write end inherited by a sibling "
                "keeps it from ever seeing end of file)")
        new = server.workers() - old
        assert listening_inodes(server.port) == {listener}, (
            "the listening socket changed across SIGHUP: a restart must keep the one socket open (closing it, even "
            "for a moment, refuses connections and resets those waiting in its backlog)")
        assert listener in server.sockets(server.master), "the master no longer holds the listening socket"
        for pid in new:
            assert listener in server.sockets(pid), f"new worker {pid} does not hold the original listening socket"
        assert wait_until(lambda: stream.each_served_by(new), WAIT), (
            f"after the restart the stream of requests got no reply from a new worker; failures: {stream.failures[:1]}")
        held.finish("the client held through the restart")
        gone = wait_until(lambda: holder not in server.workers() and holder not in server.zombies(), WAIT)
        assert gone, "the old worker did not exit (or was not reaped) after finishing its connection"
    finally:
        stream.stop()
    assert not stream.failures, (
        f"{len(stream.failures)} of {stream.total} requests made during the restart failed; the first: "
        f"{stream.failures[0]}")
    assert server.workers() == new, (
        f"once the restart was over the master has {len(server.workers())} workers; expected exactly the 3 new ones")
    assert wait_until(lambda: not server.zombies(), WAIT), (
        f"a worker was left a zombie after the restart ({WAIT:g} s later it still was)")


class Stream:
    """Client threads making 'pid' requests back to back; any failure is recorded."""

    def __init__(self, port: int, threads: int) -> None:
        self.port = port
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.served: list[set[int]] = [set() for _ in range(threads)]
        self.total = 0
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def _run(self, i: int) -> None:
        while not self.done.is_set():
            try:
                pid = pid_reply(self.port, f"a request of the stream (thread {i + 1})")
            except AssertionError as exc:
                with self.lock:
                    self.total += 1
                    self.failures.append(str(exc))
                continue
            with self.lock:
                self.total += 1
                self.served[i].add(pid)

    def each_served_by(self, pids: set[int]) -> bool:
        with self.lock:
            return all(s & pids for s in self.served)

    def stop(self) -> None:
        self.done.set()
        for t in self.threads:
            t.join(WAIT + 2)


@pytest.mark.cards(CARD_WNOHANG)
def test_sigterm_finishes_in_flight_work_then_exits_0(learner):
    server = start_server(learner, workers=3)
    held = Held(server, b"finished after SIGTERM")
    holder = held.wait_holder("the held client")
    sleeper = connect(server.port)
    sleeper.sendall(b"sleep 1500\n")
    sleeping = wait_until(lambda: (row := server_side(sleeper)) and row["rx"] == 0 and server.holder(sleeper), WAIT)
    assert sleeping, "no worker took the 'sleep 1500' request"
    idle = server.workers() - {holder, sleeping}
    server.signal(signal.SIGTERM)
    stopped = wait_until(lambda: not idle & server.workers(), WAIT)
    server.check_running()
    assert stopped, (f"the idle worker still ran {WAIT:g} s after the master got SIGTERM: tell every worker to stop "
                     "(and check that no sibling still holds a copy of what tells it, such as a pipe's write end)")
    assert server.alive(holder), (
        "after SIGTERM the worker serving a client in the middle of its request was gone before the client "
        "finished: workers must stop accepting and finish their connection (never SIGKILL within the grace period)")
    assert not server.program.done(), (
        "the master exited while a worker was still finishing a connection: it must wait for its workers and "
        "reap them before it exits")
    reply = read_to_eof(sleeper, "the 'sleep 1500' request in flight at SIGTERM")
    assert reply.strip() == str(sleeping).encode(), (
        f"the 'sleep 1500' request in flight at SIGTERM must be answered by its worker's pid, got {reply[:60]!r}")
    held.finish("the client held across SIGTERM")
    try:
        status = server.program.wait(timeout=WAIT).returncode
    except LearnerTimeout:
        raise AssertionError(f"the master did not exit within {WAIT:g} s after its last worker finished") from None
    assert status == 0, f"after a graceful shutdown the master must exit with 0, got {exit_summary(server.program)}"
    left = [p for p in learner.processes() if p.pid == server.master or p.ppid == server.master]
    assert not left, f"after the master exited, {len(left)} of its processes remain: reap every worker before exiting"
    assert not learner.zombies(), "a zombie was left after the shutdown"
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=WAIT).close()
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("after the master exited, the port still accepted connections: close the listener")


@pytest.mark.cards(CARD_WNOHANG)
def test_sigterm_is_bounded_by_the_grace_period(learner):
    server = start_server(learner, workers=2, grace=1.0)
    held = Held(server, b"never finished")
    held.wait_holder("the held client")
    server.signal(signal.SIGTERM)
    try:
        status = server.program.wait(timeout=1.0 + WAIT).returncode
    except LearnerTimeout:
        raise AssertionError(
            f"with --grace 1 the master still ran {1 + WAIT:g} s after SIGTERM, because one client never finished "
            "its request: once the grace period is over, SIGKILL the workers that are left and reap them") from None
    assert status == 0, f"a shutdown that had to kill a stuck worker still ends with 0, got {exit_summary(server.program)}"
    gone = wait_until(lambda: not [p for p in learner.processes() if p.ppid == server.master], WAIT)
    assert gone, "a worker outlived the master after the grace period: kill and reap it before exiting"
    assert not learner.zombies(), "a zombie was left after the shutdown"
    held.sock.close()


@pytest.mark.cards(CARD_BACKLOG)
def test_no_descriptor_leaks(learner):
    server = start_server(learner, workers=3)
    check_descriptors(server, "at start")
    victim = min(server.workers())
    learner.signal(victim, signal.SIGKILL)
    assert wait_until(lambda: victim not in server.workers() and len(server.workers()) == 3, WAIT), (
        "the killed worker was not replaced")
    check_descriptors(server, "after a worker was replaced")


def check_descriptors(server: Server, when: str) -> None:
    held = [Held(server, b"descriptor check %d" % i) for i in range(3)]
    holders = [h.wait_holder(f"{when}, client {i + 1}") for i, h in enumerate(held)]
    listener = server.listener()
    connections = connection_inodes()
    mine = {pid: server_side(h.sock)["inode"] for pid, h in zip(holders, held)}
    master = server.sockets(server.master)
    assert listener in master, f"{when}: the master must keep the listening socket"
    assert not master & connections, (
        f"{when}: the master holds a TCP connection; it must neither accept nor keep a copy of one")
    held_by = {server.master: master}
    for pid in server.workers():
        sockets = server.sockets(pid)
        held_by[pid] = sockets
        assert listener in sockets, f"{when}: worker {pid} does not hold the listening socket"
        others = (sockets & connections) - {mine.get(pid)}
        assert not others, (
            f"{when}: worker {pid} holds {len(others)} TCP connection(s) besides the one it serves: a worker holds "
            "the listening socket and its own connection, never a copy of another connection")
    pids = sorted(held_by)
    for i, a in enumerate(pids):
        for b in pids[i + 1:]:
            shared = (held_by[a] & held_by[b]) - {listener}
            assert not shared, (
                f"{when}: {'the master' if a == server.master else 'worker %d' % a} and worker {b} both hold "
                f"socket:[{min(shared)}], which is not the listening socket: a worker inherited a descriptor the "
                "master made for someone else; close it in the child after fork()")
    for i, h in enumerate(held):
        h.finish(f"{when}, client {i + 1}")


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.cards(CARD_REUSEADDR)
def test_restart_on_the_same_port_while_connections_are_in_time_wait(learner):
    port = free_port()
    first = start_server(learner, workers=2, port=port, port_file="first-port")
    assert first.port == port, f"--port {port} must listen on that port; the port file says {first.port}"
    for i in range(3):
        pid_reply(port, f"request {i + 1} to the first run")
    assert wait_until(lambda: time_wait_on(port), WAIT), (
        "after a reply the worker closes the connection first, so its side waits in TIME_WAIT; none was found")
    assert first.stop() == 0, f"the first run must exit with 0 on SIGTERM ({exit_summary(first.program)})"
    assert time_wait_on(port), "the connections of the first run left TIME_WAIT too early for this test"
    program = learner.spawn(["--workers", "2", "--port", str(port), "--grace", str(GRACE), "--port-file",
                             "second-port"], stdin=None)
    started = wait_until(lambda: _read_port(learner, "second-port") or program.done(), START)
    assert started and not program.done(), (
        f"restarted on port {port} while connections of the previous run were in TIME_WAIT, the server did not "
        f"start ({exit_summary(program)}): set SO_REUSEADDR on the listening socket before bind()")
    second = Server(learner, program, port, 2)
    assert wait_until(lambda: len(second.workers()) == 2, START), "the restarted server did not fork its 2 workers"
    pid_reply(port, "a request to the restarted server")
    assert second.stop() == 0, f"the second run must exit with 0 on SIGTERM ({exit_summary(program)})"


@pytest.mark.cards(CARD_REUSEADDR)
def test_port_in_use_exits_1_without_forking(learner):
    busy = socket.create_server(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    try:
        done = learner.run_program(["--workers", "2", "--port", str(port), "--port-file", "port"], stdin=None,
                                   timeout=START)
    except LearnerTimeout:
        raise AssertionError(f"the server was started on port {port}, where another socket listens, and still ran "
                             f"{START:g} s later: bind() must fail with EADDRINUSE and the server exit") from None
    finally:
        busy.close()
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1 and "cannot listen on" in stderr and "Traceback" not in stderr, (
        f"another socket listens on port {port}: open_listener must let bind()'s OSError (EADDRINUSE) propagate, "
        f"and the given main() then says 'cannot listen on ...' and exits with 1; got exit status "
        f"{done.returncode}, stderr: {stderr.strip()[-300:]}")
    assert not [p for p in learner.processes() if p.state == "Z"], "a zombie was left"


INSPECT = """
import os, socket
def inspect(sock):
    return {
        "type": int(sock.type),
        "address": list(sock.getsockname()),
        "listening": sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
        "reuseaddr": sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR),
        "reuseport": sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT),
        "inode": os.fstat(sock.fileno()).st_ino,
    }
def socket_count():
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n
"""


@pytest.mark.cards(CARD_REUSEADDR)
def test_open_listener_sets_reuseaddr_and_reports_the_port(learner):
    helper = learner.exec(INSPECT)
    listener = learner.call("open_listener", "127.0.0.1", 0, 16)
    info = helper.call("inspect", listener)
    assert info["type"] == socket.SOCK_STREAM, "open_listener must return a TCP (SOCK_STREAM) socket"
    assert info["listening"], "the socket open_listener returns must be listening (listen() called)"
    host, port = info["address"]
    assert host == "127.0.0.1" and port != 0, (
        f"open_listener('127.0.0.1', 0) must be bound to 127.0.0.1 on the port the kernel chose, got {host}:{port}")
    assert info["inode"] in listening_inodes(port), "no listening socket of open_listener was found on its port"
    assert info["reuseaddr"], (
        "SO_REUSEADDR is not set on the listening socket: without it a restarted server cannot bind its port while "
        "connections of the previous run are in TIME_WAIT")
    assert not info["reuseport"], (
        "SO_REUSEPORT is set: it lets several sockets listen on one port, each with its own queue; this server "
        "has one listening socket that every worker inherits")
    busy = socket.create_server(("127.0.0.1", 0))
    before = helper.call("socket_count")
    try:
        got = learner.call("open_listener", "127.0.0.1", busy.getsockname()[1], 16)
    except LearnerError as exc:
        assert exc.is_a("OSError"), f"a port where another socket listens must raise OSError (EADDRINUSE), got {exc.type}"
        assert "98" in exc.message or "in use" in exc.message.lower(), (
            f"a port where another socket listens must fail with EADDRINUSE, got: {exc.message[:120]}")
    else:
        raise AssertionError(f"open_listener on a port where another socket listens returned {got!r} instead of "
                             "raising OSError (EADDRINUSE)")
    finally:
        busy.close()
    assert helper.call("socket_count") == before, (
        "open_listener left its socket open after bind() failed: close it before letting the error propagate")


# ---------------------------------------------------------------- the backlog, the grace of a restart, signals in sequence


def workers_if(server: Server, condition) -> set[int]:
    """The live workers when `condition(workers)` holds, else an empty set."""
    now = server.workers()
    return now if condition(now) else set()


def fill_accept_queue(port: int, most: int) -> tuple[int, list[socket.socket]]:
    """Connect to `port`, where nothing accepts, one client at a time, until a connect() is not completed.

    On loopback a completed handshake is immediate; when the accept queue is full the kernel drops the SYN
    (it does not refuse), so connect() hangs: its timeout, longer than a retransmission, ends the filling.
    The number of completed connections, and the clients (to close).
    """
    clients = []
    for _ in range(most):
        client = socket.socket()
        clients.append(client)
        client.settimeout(2.5)
        try:
            client.connect(("127.0.0.1", port))
        except socket.timeout:
            return len(clients) - 1, clients
        except OSError as exc:
            raise AssertionError(f"connecting to a listening socket where nobody accepts failed: {exc}") from None
    return len(clients), clients


def queued_on(port: int) -> int:
    """How many connections wait in the accept queue of the socket listening on `port` (its rx column)."""
    return sum(r["rx"] for r in tcp_table() if r["state"] == LISTEN and int(r["local"].rsplit(":", 1)[1], 16) == port)


@pytest.mark.cards(CARD_BACKLOG)
def test_open_listener_passes_the_backlog_to_listen(learner):
    backlog = 2
    # the kernel's rule for this backlog, measured here on a socket of the judge's own
    own = socket.socket()
    own.bind(("127.0.0.1", 0))
    own.listen(backlog)
    expected, clients = fill_accept_queue(own.getsockname()[1], 12)
    for client in clients:
        client.close()
    own.close()
    helper = learner.exec(INSPECT)
    listener = learner.call("open_listener", "127.0.0.1", 0, backlog)
    port = helper.call("inspect", listener)["address"][1]
    got, clients = fill_accept_queue(port, 12)
    try:
        waiting = queued_on(port)
    finally:
        for client in clients:
            client.close()
    assert got == expected and waiting == expected, (
        f"open_listener('127.0.0.1', 0, backlog={backlog}) gave a socket whose accept queue held {waiting} "
        f"connections nobody accepted ({got} connect() calls completed) before the kernel dropped the next SYN; "
        f"listen({backlog}) holds {expected} on this kernel: pass `backlog` to listen()")


@pytest.mark.cards(CARD_WNOHANG)
def test_sighup_kills_an_old_worker_past_the_grace_period(learner):
    server = start_server(learner, workers=2, grace=1.0)
    old = server.workers()
    held = Held(server, b"never finished, across a restart")
    holder = held.wait_holder("the held client")
    server.signal(signal.SIGHUP)
    new = wait_until(lambda: workers_if(server, lambda now: len(now - old) == 2) - old, WAIT)
    server.check_running()
    assert new, f"after SIGHUP the master has {len(server.workers() - old)} new workers; --workers 2 needs exactly 2"
    gone = wait_until(lambda: holder not in server.workers() and holder not in server.zombies(), 1.0 + WAIT)
    server.check_running()
    if not gone:
        if holder in server.zombies():
            raise AssertionError(f"the old worker killed after the grace period is still a zombie: reap it")
        raise AssertionError(
            f"with --grace 1, an old worker still serving a client that never finishes ran {1 + WAIT:g} s after "
            "SIGHUP: the grace period bounds a restart as it bounds a shutdown; SIGKILL an old worker still "
            "running when it is over, and reap it")
    try:
        read_to_eof(held.sock, "the client whose old worker was killed after the grace period")
    except AssertionError:
        pass  # a reset is right too: its worker was killed
    held.sock.close()
    now = server.workers()
    assert now == new, (f"once the old worker was killed the master has {len(now)} workers, {len(now - new)} of them "
                        "not of the new generation: a worker killed after the grace period is not replaced")
    assert pid_reply(server.port, "a request after the restart") in new, "a reply came from a worker not of the new generation"
    assert server.stop() == 0, f"after SIGTERM the master must exit with 0 ({exit_summary(server.program)})"


@pytest.mark.cards(CARD_WNOHANG)
def test_signals_still_work_after_a_worker_was_replaced(learner):
    server = start_server(learner, workers=3)
    before = server.workers()
    victim = min(before)
    learner.signal(victim, signal.SIGKILL)
    replaced = wait_until(lambda: workers_if(server, lambda now: victim not in now and len(now) == 3), WAIT)
    server.check_running()
    assert replaced and victim not in server.zombies(), "the killed worker was not reaped and replaced"
    server.signal(signal.SIGHUP)
    restarted = wait_until(lambda: workers_if(server, lambda now: len(now) == 3 and not now & replaced), WAIT)
    server.check_running()
    assert restarted, (
        f"a worker died and was replaced; then, {WAIT:g} s after SIGHUP, the master still had "
        f"{len(server.workers() & replaced)} of the previous workers and {len(server.workers() - replaced)} new "
        "ones: after reaping, the master must go back to waiting for any signal (waitpid with WNOHANG: a blocking "
        "waitpid keeps it from hearing SIGHUP and SIGTERM while workers live)")
    assert wait_until(lambda: not server.zombies(), WAIT), (
        f"a worker was left a zombie after the restart ({WAIT:g} s later it still was)")
    server.signal(signal.SIGTERM)
    try:
        status = server.program.wait(timeout=WAIT).returncode
    except LearnerTimeout:
        raise AssertionError(
            f"a worker died and was replaced, then a restart; the master still ran {WAIT:g} s after SIGTERM "
            "although no client was connected") from None
    assert status == 0, f"after SIGTERM the master must exit with 0 ({exit_summary(server.program)})"
    assert not [p for p in learner.processes() if p.ppid == server.master], "a worker outlived the master"


def generation(server: Server, old: set[int], keep: int, size: int) -> set[int]:
    """Wait until the live workers are `keep` plus exactly `size` not in `old`; those new ones (or empty)."""
    def settled():
        now = server.workers()
        return now - old if keep in now and len(now - old) == size and now & old == {keep} else set()

    return wait_until(settled, WAIT)


@pytest.mark.cards(CARD_WNOHANG)
def test_second_sighup_while_the_first_generation_still_serves(learner):
    server = start_server(learner, workers=2)
    first = server.workers()
    held = Held(server, b"held through two restarts")
    holder = held.wait_holder("the held client")
    server.signal(signal.SIGHUP)
    second = generation(server, first, holder, 2)
    server.check_running()
    assert second, (f"after the first SIGHUP the workers are {len(server.workers() - first)} new ones and "
                    f"{len(server.workers() & first)} old ones; expected 2 new ones and the old one still serving")
    server.signal(signal.SIGHUP)
    third = generation(server, first | second, holder, 2)
    server.check_running()
    if not third:
        now = server.workers()
        raise AssertionError(
            f"after a second SIGHUP, with a worker of the first generation still serving a client, the master has "
            f"{len(now & second)} worker(s) of the second generation and {len(now - first - second)} of the third; "
            "expected the 2 of the third, and the old one finishing its client")
    held.finish("the client held through two restarts")
    gone = wait_until(lambda: holder not in server.workers() and holder not in server.zombies(), WAIT)
    assert gone, "the first generation's worker did not exit (or was not reaped) after finishing its client"
    # a master that took its exit for a crash forks a replacement at once: give it the time to show
    extra = wait_until(lambda: server.workers() - third, 2.0)
    assert not extra, (
        f"when the first generation's worker finished and exited, the master forked {len(extra)} more worker(s) "
        f"({len(server.workers())} run instead of 2): a worker told to stop by any earlier SIGHUP is reaped and not "
        "replaced; remember every retired generation, not only the last one")
    assert not server.zombies(), "a worker was left a zombie"
    assert server.stop() == 0, f"after SIGTERM the master must exit with 0 ({exit_summary(server.program)})"


@pytest.mark.cards(CARD_WNOHANG)
def test_sigterm_during_a_restart_waits_for_the_old_generation(learner):
    server = start_server(learner, workers=2)
    first = server.workers()
    held = Held(server, b"held through a restart and a shutdown")
    holder = held.wait_holder("the held client")
    server.signal(signal.SIGHUP)
    second = generation(server, first, holder, 2)
    server.check_running()
    assert second, f"after SIGHUP the master has {len(server.workers() - first)} new workers; expected 2"
    server.signal(signal.SIGTERM)
    stopped = wait_until(lambda: not server.workers() & second, WAIT)
    server.check_running()
    assert stopped, f"the idle workers still ran {WAIT:g} s after SIGTERM"

    def abandoned():
        info = [p for p in learner.processes() if p.pid == holder]
        return server.program.done() or (info and info[0].ppid != server.master)

    # a master that forgot the old generation exits as soon as the new one is reaped: give it the time to show
    left = wait_until(abandoned, 3.0)
    assert not left, (
        "SIGTERM came while a worker retired by an earlier SIGHUP was still serving a client; the master exited "
        f"before that worker ({exit_summary(server.program)}), leaving it an orphan: a shutdown waits for every "
        "worker, of every generation, and reaps it (SIGKILL only after the grace period)")
    held.finish("the client held through a restart and a shutdown")
    try:
        status = server.program.wait(timeout=WAIT).returncode
    except LearnerTimeout:
        raise AssertionError(f"the master did not exit within {WAIT:g} s after its last worker finished") from None
    assert status == 0, f"after a graceful shutdown the master must exit with 0, got {exit_summary(server.program)}"
    assert not [p for p in learner.processes() if p.pid == server.master or p.ppid == server.master], (
        "processes of the server remain after the master exited")
    assert not learner.zombies(), "a zombie was left after the shutdown"


@pytest.mark.cards(CARD_WNOHANG)
def test_a_new_worker_that_dies_during_a_restart_is_replaced_at_once(learner):
    server = start_server(learner, workers=2)
    first = server.workers()
    held = Held(server, b"held while a new worker dies")
    holder = held.wait_holder("the held client")
    server.signal(signal.SIGHUP)
    second = generation(server, first, holder, 2)
    server.check_running()
    assert second, f"after SIGHUP the master has {len(server.workers() - first)} new workers; expected 2"
    victim = min(second)
    learner.signal(victim, signal.SIGKILL)
    replaced = wait_until(lambda: victim not in server.workers() | server.zombies()
                          and len(server.workers() - first - {victim}) == 2, WAIT)
    server.check_running()
    assert server.alive(holder), "the old worker serving the held client was gone before its client finished"
    assert replaced, (
        f"a worker of the new generation was killed while an old worker still finished a client; {WAIT:g} s later "
        f"the new generation has {len(server.workers() - first)} live worker(s) instead of 2: replace a worker of "
        "the serving generation that dies at once, whatever the old ones still running (they do not accept)")
    held.finish("the client held while a new worker died")
    assert wait_until(lambda: holder not in server.workers() | server.zombies(), WAIT), (
        "the old worker did not exit (or was not reaped) after finishing its client")
    extra = wait_until(lambda: len(server.workers()) != 2, 2.0)
    assert not extra, f"once the restart was over the master has {len(server.workers())} workers instead of 2"
    assert server.stop() == 0, f"after SIGTERM the master must exit with 0 ({exit_summary(server.program)})"
