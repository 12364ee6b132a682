# canary: hidden-test-half-close
"""Hidden tests for half-close: observed from the other end of each connection."""

from __future__ import annotations

import hashlib
import random
import signal
import socket
import struct
import threading
import time

import pytest
from prep_judge import HarnessError, LearnerError, LearnerTimeout

WAIT = 3.0  # seconds a client waits for any one thing


# ---------------------------------------------------------------- helpers: /proc and waiting


def _hexaddr(addr) -> str:
    ip, port = addr[0], addr[1]
    return "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(ip))[0], port)


def tcp_entry(local, remote) -> dict | None:
    """The /proc/net/tcp line of the socket bound to `local` and connected to `remote`."""
    want = (_hexaddr(local), _hexaddr(remote))
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                tx, rx = fields[4].split(":")
                return {"state": int(fields[3], 16), "tx": int(tx, 16), "rx": int(rx, 16), "inode": int(fields[9])}
    return None


_ENDS: dict = {}  # socket -> (local address, peer address), noted while connected


def connect(address) -> socket.socket:
    """A client connection whose two addresses are noted (getpeername fails once it is closed)."""
    sock = socket.create_connection(address, timeout=WAIT)
    _ENDS[sock] = (sock.getsockname(), sock.getpeername())
    return sock


def server_side(client: socket.socket) -> dict | None:
    """The entry of the server's end of `client`'s connection (its inode is what the server's fds show)."""
    local, peer = _ENDS[client]
    return tcp_entry(peer, local)


def client_side(conn: socket.socket) -> dict | None:
    """The entry of the client's end of a connection that the test accepted as `conn`."""
    try:
        return tcp_entry(conn.getpeername(), conn.getsockname())
    except OSError:
        return None


def send_or_fail(sock: socket.socket, data: bytes, what: str) -> None:
    try:
        sock.sendall(data)
    except OSError as exc:
        raise AssertionError(f"{what}: the server ended the connection before the client had sent its whole "
                             f"request ({type(exc).__name__})") from None


_WATCHED: list = []  # the learner server of the running test: its exception ends any wait at once


@pytest.fixture(autouse=True)
def _fresh_watch():
    _WATCHED.clear()
    yield
    _WATCHED.clear()


def check_server() -> None:
    """If the learner's server raised, raise its exception now instead of waiting for a timeout."""
    for pending in _WATCHED:
        if pending.done():
            pending.result(timeout=0.1)


def wait_until(predicate, seconds: float, step: float = 0.01):
    """Poll `predicate` until it returns something true or `seconds` pass; its last value."""
    end = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() >= end:
            return value
        check_server()
        time.sleep(step)


def drained(conn: socket.socket) -> bool:
    """True when the peer of `conn` has read everything that was sent to it (or is gone)."""
    entry = client_side(conn)
    return entry is None or entry["rx"] == 0


def socket_inodes(fds: dict) -> set[int]:
    return {int(t[len("socket:["):-1]) for t in fds.values() if t.startswith("socket:[")}


def held_sockets(learner, pid: int) -> set[int]:
    """The socket inodes a learner process holds (empty once it has exited)."""
    try:
        return socket_inodes(learner.fds(pid))
    except HarnessError:  # the process is gone
        return set()


def inode_of(sock: socket.socket) -> int:
    import os

    return os.fstat(sock.fileno()).st_ino


def start_in_main_thread(learner, name, *args):
    """Run a learner function in the background, in its main thread (signal handlers allowed there)."""
    pending = learner.start_main(name, *args)
    _WATCHED[:] = [pending]
    return pending


def result_of(pending, seconds: float, what: str):
    try:
        return pending.result(timeout=seconds)
    except LearnerTimeout:
        raise AssertionError(f"{what} did not return within {seconds:g} s") from None


def recv_watching(sock: socket.socket, seconds: float, size: int = 65536) -> bytes:
    """recv waiting at most `seconds`; the learner server's exception, if it raises meanwhile."""
    end = time.monotonic() + seconds
    while True:
        sock.settimeout(min(0.1, max(0.01, end - time.monotonic())))
        try:
            return sock.recv(size)
        except socket.timeout:
            check_server()
            if time.monotonic() >= end:
                raise


def read_to_eof(sock: socket.socket, what: str) -> bytes:
    """Everything until the peer's FIN; fails on a timeout or a reset."""
    data = b""
    while True:
        try:
            chunk = recv_watching(sock, WAIT)
        except socket.timeout:
            raise AssertionError(
                f"{what}: after {len(data)} bytes, no end of stream within {WAIT:g} s (the connection stayed open)"
            ) from None
        except ConnectionResetError:
            raise AssertionError(f"{what}: the connection was reset (RST) instead of ending with a FIN") from None
        if not chunk:
            return data
        data += chunk


def expect_eof(sock: socket.socket, seconds: float, who: str, when: str, still_open) -> None:
    """The next thing `who` reads on `sock` is the end of stream (a FIN), within `seconds`. Else a failure that
    says `still_open` (a string, or a function giving it: it may look at the learner's processes), that the
    connection was reset `when` (e.g. "at its deadline"), or what came instead."""
    try:
        got = recv_watching(sock, seconds, 100)
    except socket.timeout:
        raise AssertionError(still_open() if callable(still_open) else still_open) from None
    except ConnectionResetError:
        raise AssertionError(f"{who}'s connection was reset (RST) {when} instead of ending with a FIN "
                             "(recv returns b'')") from None
    assert got == b"", f"{when}, {who} expected the end of stream, got {got[:80]!r}"


def no_eof_yet(sock: socket.socket) -> bool:
    """True when nothing, not even an end of stream, is waiting on `sock`."""
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.settimeout(timeout)
    return False


def children_of(learner, pid: int, live_only: bool = True):
    return [p for p in learner.processes() if p.ppid == pid and (p.state != "Z" or not live_only)]


def signal_bits(pid: int, field: str) -> int:
    """A mask of /proc/PID/status (SigBlk: blocked, SigCgt: caught) of the process's main thread."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    raise AssertionError(f"/proc/{pid}/status has no {field}")


SIGCHLD_BIT = 1 << (signal.SIGCHLD - 1)


def listener_socket() -> socket.socket:
    return socket.create_server(("127.0.0.1", 0), backlog=64)


# ---------------------------------------------------------------- a test server for request()


class TestServer:
    """One connection, served in a judge thread by `behaviour(conn, record)`."""

    def __init__(self, behaviour, rcvbuf: int | None = None, sndbuf: int | None = None) -> None:
        self.listener = socket.socket()
        if rcvbuf:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.record: dict = {}
        self.thread = threading.Thread(target=self._run, args=(behaviour,), daemon=True)
        self.thread.start()

    def _run(self, behaviour) -> None:
        self.listener.settimeout(6)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            self.record["no_connection"] = True
            return
        conn.settimeout(4)
        self.record["client_inode"] = (client_side(conn) or {}).get("inode")
        try:
            behaviour(conn, self.record)
        except OSError as exc:
            self.record.setdefault("error", f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
            self.listener.close()

    def join(self) -> dict:
        self.thread.join(6)
        return self.record


def read_request(conn: socket.socket, record: dict) -> bytes:
    data = b""
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                record["eof"] = True
                break
            data += chunk
    except socket.timeout:
        record["eof"] = False
    record["request"] = data
    return data


def check_eof_seen(record: dict) -> None:
    assert not record.get("no_connection"), "request() never connected to the server"
    assert record.get("eof"), (
        "the server waited for the end of the request, but no end of stream (FIN) came in 4 s: after sending, "
        "half-close with shutdown(SHUT_WR); close() on a copy of the socket sends nothing while another reference is open"
    )


# ---------------------------------------------------------------- (a) request()


@pytest.mark.cards("half-close-client-sequence", "shutdown-shut-wr-half-close")
def test_request_half_closes_and_reads_a_reply_in_pieces(learner):
    payload = b"GET the whole reply, please\n" * 50
    pieces = [b"first piece;", b"second piece;", bytes(random.Random(5).randbytes(2_000_000))]

    def behaviour(conn, record):
        if read_request(conn, record) and record.get("eof"):
            for piece in pieces:
                conn.sendall(piece)
                # the next piece only once the client has read this one: a client that
                # stops after one recv gets only part of the reply
                record["drained"] = wait_until(lambda: drained(conn), 3)

    server = TestServer(behaviour)
    reply = result_of(learner.start("request", "127.0.0.1", server.port, payload), 7, "request()")
    record = server.join()
    check_eof_seen(record)
    assert record.get("request") == payload, (
        f"the server received {len(record.get('request', b''))} bytes before the end of stream; "
        f"request() was given {len(payload)}"
    )
    assert isinstance(reply, bytes), f"request() must return bytes, returned {type(reply).__name__}"
    expected = b"".join(pieces)
    assert reply == expected, (
        f"the server sent a {len(expected)}-byte reply in 3 pieces and then closed; request() returned "
        f"{len(reply)} bytes: read until recv returns b'' (the end of stream), not once"
    )
    inode = record.get("client_inode")
    assert not inode or inode not in held_sockets(learner, learner.pid), (
        "request() returned but the learner process still holds the connection's socket: close it before returning")


@pytest.mark.cards("half-close-client-sequence", "shutdown-shut-wr-half-close")
def test_request_with_empty_data(learner):
    def behaviour(conn, record):
        data = read_request(conn, record)
        if record.get("eof"):
            conn.sendall(b"you sent %d bytes" % len(data))

    server = TestServer(behaviour)
    reply = result_of(learner.start("request", "127.0.0.1", server.port, b""), 7, "request() with empty data")
    record = server.join()
    check_eof_seen(record)
    assert record.get("request") == b"", f"request(..., b'') sent {record.get('request')!r}"
    assert reply == b"you sent 0 bytes", f"expected the server's reply b'you sent 0 bytes', got {reply[:100]!r}"


# Builds the large request inside the learner's process (a call's arguments are
# capped in size), calls request() with it and returns the reply's length and digest.
LARGE_HELPER = """
import hashlib, random
def payload(n):
    block = random.Random(7).randbytes(65536).translate(bytes(97 + i % 26 for i in range(256)))
    return (block * (n // 65536 + 1))[:n]
def run(request, port, n):
    reply = request("127.0.0.1", port, payload(n))
    return len(reply), hashlib.sha256(reply).hexdigest()
"""


@pytest.mark.cards("half-close-client-sequence")
def test_request_keeps_reading_while_it_sends(learner):
    n = 24 * 1024 * 1024
    block = random.Random(7).randbytes(65536).translate(bytes(97 + i % 26 for i in range(256)))
    expected = hashlib.sha256()
    data = (block * (n // 65536 + 1))[:n]
    expected.update(data.upper())
    del data

    def behaviour(conn, record):
        total = 0
        conn.settimeout(8)  # longer than the test waits for request(): a deadlock is reported as such
        while True:  # an echo server: it answers every piece as it reads it
            chunk = conn.recv(32768)
            if not chunk:
                record["eof"] = True
                break
            total += len(chunk)
            record["total"] = total
            conn.sendall(chunk.upper())
        record["total"] = total

    server = TestServer(behaviour, rcvbuf=32768, sndbuf=32768)
    helper = learner.exec(LARGE_HELPER)
    try:
        got = helper.start("run", learner.get("request"), server.port, n).result(timeout=6)
    except LearnerTimeout:
        raise AssertionError(
            f"request() with a {n // 2**20} MiB request to an echo server did not return within 6 s; the server "
            f"had read {server.record.get('total', 'an unknown number of')} bytes. The server answers while it "
            "reads: a client that sends everything before reading fills both sides' buffers and both wait forever. "
            "Read while you send."
        ) from None
    record = server.join()
    check_eof_seen(record)
    assert got[0] == n and got[1] == expected.hexdigest(), (
        f"the echo server sent back {n} bytes; request() returned {got[0]} bytes"
        + ("" if got[0] != n else " with different content")
    )


@pytest.mark.cards("half-close-client-sequence")
def test_request_errors_propagate(learner):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]  # bound but not listening: a connect gets RST
    try:
        learner.start("request", "127.0.0.1", port, b"anyone?").result(timeout=5)
    except LearnerError as exc:
        assert exc.is_a("ConnectionRefusedError"), (
            f"connecting to a port nobody listens on must raise ConnectionRefusedError, got {exc.type}")
    else:
        raise AssertionError("request() to a port nobody listens on returned instead of raising ConnectionRefusedError")
    finally:
        closed.close()

    def behaviour(conn, record):
        read_request(conn, record)
        if record.get("eof"):
            conn.sendall(b"the start of a reply that never ends")
            record["drained"] = wait_until(lambda: drained(conn), 3)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # close() with SO_LINGER {1, 0} resets the connection

    server = TestServer(behaviour)
    try:
        reply = learner.start("request", "127.0.0.1", server.port, b"reset me").result(timeout=7)
    except LearnerError as exc:
        assert exc.is_a("ConnectionResetError"), (
            f"when the server resets the connection (RST), request() must raise ConnectionResetError, got {exc.type}")
    else:
        record = server.join()
        check_eof_seen(record)
        raise AssertionError(
            f"the server reset the connection (RST) after part of its reply, but request() returned {reply[:60]!r} "
            "as if that were the whole reply: a reset is an error (ConnectionResetError), only a FIN ends a reply"
        )
    check_eof_seen(server.join())


# ---------------------------------------------------------------- (b) serve_forking()


def talk(address, data: bytes, what: str) -> bytes:
    c = connect(address)
    try:
        send_or_fail(c, data, what)
        c.shutdown(socket.SHUT_WR)
        return read_to_eof(c, what)
    finally:
        c.close()


@pytest.mark.cards("forking-server-parent-keeps-copy", "close-after-fork-keeps-connection")
def test_forking_client_sees_eof_when_its_child_finishes(learner):
    lst = listener_socket()
    server = start_in_main_thread(learner, "serve_forking", lst, 4)
    for i in range(3):
        c = connect(lst.getsockname())
        send_or_fail(c, b"request %d, part one; " % i, f"client {i + 1}")
        # wait until a child has read the first part (and is waiting for more), or the client sees an end
        ready = wait_until(lambda: not no_eof_yet(c) or (
            (e := server_side(c)) is not None and e["rx"] == 0 and children_of(learner, learner.pid)), 3)
        assert no_eof_yet(c), (
            f"client {i + 1} saw the end of stream before it had finished its request: the connection was shut down "
            "too early (shutdown() in the parent ends the child's connection too; the parent must only close())")
        assert ready, f"client {i + 1}: no child process read the request (fork one child per connection)"
        send_or_fail(c, b"and part two", f"client {i + 1}")
        c.shutdown(socket.SHUT_WR)
        reply = read_to_eof(c, f"client {i + 1} (after the reply, waiting for the end of stream)")
        expected = (b"request %d, part one; and part two" % i).upper()
        assert reply == expected, f"client {i + 1}: expected the reply {expected!r}, got {reply[:80]!r}"
        c.close()
    reply = talk(lst.getsockname(), b"last", "client 4")
    assert reply == b"LAST", f"client 4: expected b'LAST', got {reply[:80]!r}"
    statuses = result_of(server, WAIT, "serve_forking(listener, 4) after its 4 connections")
    assert statuses == [0, 0, 0, 0], f"four children that sent their reply must give [0, 0, 0, 0], got {statuses!r}"
    lst.close()


@pytest.mark.cards("forking-server-parent-keeps-copy", "close-after-fork-keeps-connection")
def test_forking_serves_at_once_and_leaks_no_descriptor(learner):
    lst = listener_socket()
    listener_inode = inode_of(lst)
    server = start_in_main_thread(learner, "serve_forking", lst, 3)
    a = connect(lst.getsockname())
    a.sendall(b"client a, still talking")
    assert wait_until(lambda: len(children_of(learner, learner.pid)) == 1, 3), (
        "no child process was seen serving the first client: a child must stay alive, waiting for the request, "
        "until its client half-closes")
    b = connect(lst.getsockname())
    b.sendall(b"client b")
    assert wait_until(lambda: len(children_of(learner, learner.pid)) == 2, 3), (
        "no child appeared for the second client while the first one was still connected: "
        "the parent must go back to accept() at once")
    ino_a, ino_b = server_side(a)["inode"], server_side(b)["inode"]
    # each check is given a second: a process closes its copies just after fork()
    parent_holds = lambda: {ino_a, ino_b} & held_sockets(learner, learner.pid)  # noqa: E731
    wait_until(lambda: not parent_holds(), 1.0)
    assert not parent_holds(), (
        "the parent still holds its copy of a connection it handed to a child: close it right after fork(), or the "
        "client never sees the end of stream")
    for child in children_of(learner, learner.pid):
        held = lambda: held_sockets(learner, child.pid)  # noqa: E731
        wait_until(lambda: listener_inode not in held(), 1.0)
        assert listener_inode not in held(), f"child {child.pid} still holds the listening socket: close it in the child"
        assert not (ino_a in held() and ino_b in held()), (
            f"child {child.pid} holds both clients' connections: it inherited one the parent should have closed")
        blocked = lambda: signal_bits(child.pid, "SigBlk") & SIGCHLD_BIT  # noqa: E731
        wait_until(lambda: not blocked(), 1.0)
        assert not blocked(), (
            f"child {child.pid} still has SIGCHLD blocked: the mask is inherited through fork(), so the child must "
            "unblock what the parent blocked around fork()")
    b.shutdown(socket.SHUT_WR)
    reply = read_to_eof(b, "the second client, while the first was still connected")
    assert reply == b"CLIENT B", f"the second client expected b'CLIENT B', got {reply[:80]!r}"
    a.shutdown(socket.SHUT_WR)
    reply = read_to_eof(a, "the first client")
    assert reply == b"CLIENT A, STILL TALKING", f"the first client expected its reply, got {reply[:80]!r}"
    a.close()
    b.close()
    talk(lst.getsockname(), b"x", "the third client")
    statuses = result_of(server, WAIT, "serve_forking(listener, 3)")
    assert statuses == [0, 0, 0], f"expected [0, 0, 0], got {statuses!r}"
    lst.close()


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_reaps_children_that_exit_together(learner):
    lst = listener_socket()
    n = 10
    server = start_in_main_thread(learner, "serve_forking", lst, n + 1)
    clients = []
    for i in range(n):
        c = connect(lst.getsockname())
        c.sendall(b"client %d" % i)
        clients.append(c)
    assert wait_until(lambda: len(children_of(learner, learner.pid)) == n, 4), (
        f"expected {n} children for {n} connected clients, found {len(children_of(learner, learner.pid))}")
    inodes = {e["inode"] for c in clients if (e := server_side(c)) is not None}
    wait_until(lambda: not inodes & held_sockets(learner, learner.pid), 2)  # the parent closed its copies
    # Stop the parent so that all children exit while it cannot run: their SIGCHLDs
    # merge into one pending signal, as they do under load.
    learner.signal(learner.pid, signal.SIGSTOP)
    try:
        for c in clients:
            c.shutdown(socket.SHUT_WR)
        for i, c in enumerate(clients):
            reply = read_to_eof(c, f"client {i + 1} of {n}")
            assert reply == b"CLIENT %d" % i, f"client {i + 1}: unexpected reply {reply[:80]!r}"
        wait_until(lambda: not children_of(learner, learner.pid), 3)
    finally:
        learner.signal(learner.pid, signal.SIGCONT)
    left = wait_until(lambda: not [p for p in children_of(learner, learner.pid, live_only=False)], 1.5)
    if not left:
        zombies = [p.pid for p in children_of(learner, learner.pid, live_only=False) if p.state == "Z"]
        assert not zombies, (
            f"{len(zombies)} of {n} children that exited together were still zombies 1.5 s later, while the server "
            "waited in accept(): signals do not queue, so one SIGCHLD may stand for many children; reap in a loop "
            "with waitpid(-1, WNOHANG) until nothing is left"
        )
    for c in clients:
        c.close()
    talk(lst.getsockname(), b"last", "the last client")
    statuses = result_of(server, WAIT, f"serve_forking(listener, {n + 1})")
    assert statuses == [0] * (n + 1), f"expected {n + 1} zero statuses, got {statuses!r}"
    lst.close()


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_statuses_in_accept_order(learner):
    lst = listener_socket()
    server = start_in_main_thread(learner, "serve_forking", lst, 3)
    reply = talk(lst.getsockname(), b"fine", "the first client")
    assert reply == b"FINE", f"the first client expected b'FINE', got {reply[:80]!r}"
    # the second client resets its connection in the middle of the request: its child exits with 1
    c = connect(lst.getsockname())
    c.sendall(b"about to reset")
    found = wait_until(lambda: children_of(learner, learner.pid), 3)
    assert found, "no child appeared for the second client"
    assert wait_until(lambda: (e := server_side(c)) is not None and e["rx"] == 0, 3), "the child never read the request"
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()  # RST
    # the third client's child is killed by SIGKILL: its status is -9
    d = connect(lst.getsockname())
    d.sendall(b"about to be killed")

    def third_child():
        ino = (server_side(d) or {}).get("inode")
        for p in children_of(learner, learner.pid):
            if ino and ino in held_sockets(learner, p.pid):
                return p
        return None

    child = wait_until(third_child, 3)
    assert child, "no child appeared (holding the connection) for the third client"
    learner.signal(child.pid, signal.SIGKILL)
    d.settimeout(WAIT)
    try:
        d.recv(100)
    except (socket.timeout, ConnectionResetError):
        pass
    d.close()
    statuses = result_of(server, WAIT, "serve_forking(listener, 3)")
    assert statuses == [0, 1, -9], (
        "the first child sent its reply (0), the second lost its client to a reset (1), the third was killed by "
        f"SIGKILL (-9); statuses in accept order must be [0, 1, -9], got {statuses!r}"
    )
    lst.close()


# ---------------------------------------------------------------- (c) serve_with_deadline()


@pytest.mark.cards("shutdown-shut-wr-half-close", "close-after-fork-keeps-connection")
def test_deadline_ends_a_stuck_connection_for_everyone(learner):
    lst = listener_socket()
    seconds = 1.5
    server = start_in_main_thread(learner, "serve_with_deadline", lst, 2, seconds)
    t0 = time.monotonic()
    stuck = connect(lst.getsockname())
    stuck.sendall(b"a request that never ends")
    assert wait_until(lambda: (e := server_side(stuck)) is not None and e["rx"] == 0, 3), "the child never read the request"
    stuck_inode = server_side(stuck)["inode"]
    fast = connect(lst.getsockname())
    fast.sendall(b"quick one")
    entry = wait_until(lambda: (e := server_side(fast)) is not None and e["rx"] == 0 and e, 3)
    assert entry, "the quick client's child never read its request"
    fast_inode = entry["inode"]
    fast.shutdown(socket.SHUT_WR)
    reply, t_reply = b"", None
    while True:
        try:
            chunk = recv_watching(fast, WAIT)
        except socket.timeout:
            raise AssertionError("the quick client got no end of stream in time") from None
        if not chunk:
            break
        reply += chunk
        t_reply = t_reply or time.monotonic()
    t_eof = time.monotonic()
    assert reply == b"QUICK ONE", f"the quick client expected b'QUICK ONE', got {reply[:80]!r}"
    assert t_eof - t_reply < 0.6, (
        f"the quick client got its reply, but its end of stream came {t_eof - t_reply:.1f} s later: when a child "
        "exits, reap it and close the parent's copy at once, not at the deadline")
    expect_eof(stuck, seconds + WAIT, "the stuck client", "at its deadline",
               f"{seconds + WAIT:g} s after connecting, the stuck client's connection ({seconds:g} s deadline) was "
               "still open: close() in the parent drops only its reference while the child holds another, so nothing "
               "is sent; shutdown() acts on the connection itself")
    elapsed = time.monotonic() - t0
    assert elapsed >= seconds - 0.2, f"the connection ended {elapsed:.2f} s after it began, before its {seconds} s deadline"
    statuses = result_of(server, WAIT, "serve_with_deadline(listener, 2, 1.5)")
    assert statuses[1:] == [0], f"the quick client's child sent its reply: its status must be 0, got {statuses!r}"
    assert statuses[0] == 1, (
        f"the stuck client's child must finish on its own once the connection is shut down (its reply fails: "
        f"status 1); got {statuses[0]}" + (" - it was killed by a signal" if statuses[0] < 0 else ""))
    held = held_sockets(learner, learner.pid)
    assert stuck_inode not in held and fast_inode not in held, (
        "after serve_with_deadline returned, the learner process still holds a client connection: close its copy")
    assert not learner.zombies(), "a child was left a zombie after serve_with_deadline returned"
    stuck.close()
    fast.close()
    lst.close()


@pytest.mark.cards("shutdown-shut-wr-half-close", "close-after-fork-keeps-connection")
def test_deadline_for_several_stuck_clients(learner):
    lst = listener_socket()
    seconds = 0.8
    server = start_in_main_thread(learner, "serve_with_deadline", lst, 3, seconds)
    clients = []
    for i in range(3):
        c = connect(lst.getsockname())
        c.sendall(b"stuck %d" % i)
        clients.append((c, time.monotonic()))
    for i, (c, t0) in enumerate(clients):
        expect_eof(c, seconds + WAIT, f"stuck client {i + 1}", "at its deadline",
                   f"stuck client {i + 1} was still connected long after its {seconds} s deadline")
        assert time.monotonic() - t0 >= seconds - 0.2, f"stuck client {i + 1} was cut before its deadline"
        c.close()
    statuses = result_of(server, WAIT, "serve_with_deadline(listener, 3, 0.8)")
    assert statuses == [1, 1, 1], (
        f"three children whose connections were shut down at the deadline must each exit with 1, got {statuses!r}")
    lst.close()


@pytest.mark.cards("close-after-fork-keeps-connection", "forking-server-parent-keeps-copy")
def test_deadline_client_sees_eof_while_a_later_client_is_connected(learner):
    lst = listener_socket()
    seconds = 4.0  # far beyond the test's patience for the first client's end of stream
    server = start_in_main_thread(learner, "serve_with_deadline", lst, 3, seconds)
    first = connect(lst.getsockname())
    first.sendall(b"first client, answered while two later ones are connected")
    entry = wait_until(lambda: (e := server_side(first)) is not None and e["rx"] == 0
                       and children_of(learner, learner.pid) and e, 3)
    assert entry, "no child read the first client's request"
    first_inode = entry["inode"]

    def child_of(client):
        ino = (server_side(client) or {}).get("inode")
        for p in children_of(learner, learner.pid):
            if ino and ino in held_sockets(learner, p.pid):
                return p
        return None

    # two more clients connect once the parent holds its copy of the first connection, and say nothing:
    # each later child inherits the parent's copies of every earlier connection still open
    later, later_children = [], []
    for n in ("second", "third"):
        client = connect(lst.getsockname())
        child = wait_until(lambda: child_of(client), 3)
        assert child, f"no child appeared (holding the connection) for the {n} client"
        later.append(client)
        later_children.append(child)
    first.shutdown(socket.SHUT_WR)
    reply = b""
    expected = b"FIRST CLIENT, ANSWERED WHILE TWO LATER ONES ARE CONNECTED"
    while len(reply) < len(expected):
        try:
            chunk = recv_watching(first, WAIT)
        except socket.timeout:
            raise AssertionError(f"the first client got {len(reply)} bytes of its reply, then nothing for "
                                 f"{WAIT:g} s") from None
        if not chunk:
            break
        reply += chunk
    assert reply == expected, f"the first client expected the reply {expected!r}, got {reply[:80]!r}"
    def still_open() -> str:
        holders = [n for n, child in zip(("second", "third"), later_children)
                   if first_inode in held_sockets(learner, child.pid)]
        return ("the first client got its whole reply, but no end of stream came within 1 s while two later clients "
                "were still connected"
                + (f": the {' and the '.join(holders)} client's child still holds the first connection. fork() copied "
                   "every descriptor of the parent, its copies of the earlier connections too; each child must close "
                   "the copies of all the other connections it inherited, or an earlier client sees its end only when "
                   "a later child exits"
                   if holders else " (reap the child and close the parent's copy at once)"))

    expect_eof(first, 1.0, "the first client", "after its reply", still_open)
    for n, client in zip(("second", "third"), later):
        client.shutdown(socket.SHUT_WR)
        reply = read_to_eof(client, f"the {n} client, which sent an empty request")
        assert reply == b"", f"the {n} client sent nothing and expected an empty reply, got {reply[:80]!r}"
    statuses = result_of(server, WAIT, "serve_with_deadline(listener, 3, 4.0)")
    assert statuses == [0, 0, 0], (
        f"the three children sent their reply before the deadline: expected [0, 0, 0], got {statuses!r}")
    first.close()
    for client in later:
        client.close()
    lst.close()


# ---------------------------------------------------------------- (a) request(): pauses and late errors


@pytest.mark.cards("half-close-client-sequence")
def test_request_reads_through_a_pause_in_the_reply(learner):
    def behaviour(conn, record):
        read_request(conn, record)
        if record.get("eof"):
            conn.sendall(b"the first half of the reply, ")
            record["drained"] = wait_until(lambda: drained(conn), 3)
            time.sleep(2.2)  # the server is busy: silence is not an end of stream
            conn.sendall(b"and the second half after a pause")

    server = TestServer(behaviour)
    reply = result_of(learner.start("request", "127.0.0.1", server.port, b"take your time"), 7,
                      "request() to a server that pauses in its reply")
    record = server.join()
    check_eof_seen(record)
    expected = b"the first half of the reply, and the second half after a pause"
    assert reply == expected, (
        f"the server sent half of its reply, paused 2.2 s, sent the rest and then its FIN; request() returned "
        f"{reply[:80]!r}: only recv() returning b'' ends a reply, a pause does not")


@pytest.mark.cards("half-close-client-sequence", "shutdown-shut-wr-half-close")
def test_request_raises_when_the_server_resets_after_half_closing(learner):
    n = 8 * 1024 * 1024

    def behaviour(conn, record):
        record["got"] = len(conn.recv(65536))  # a little of the request, then an answer at once
        conn.sendall(b"an early answer")
        conn.shutdown(socket.SHUT_WR)  # our FIN while the client still has most of its request to send
        record["drained"] = wait_until(lambda: drained(conn), 3)
        entry = wait_until(lambda: (e := client_side(conn)) is not None and e["state"] == 8 and e, 3)
        record["close_wait"] = bool(entry)  # the client's kernel has our FIN (CLOSE_WAIT)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close() with SO_LINGER {1, 0} resets the connection: the client's next send fails (EPIPE)

    server = TestServer(behaviour, rcvbuf=32768)
    helper = learner.exec(LARGE_HELPER)
    try:
        got = helper.start("run", learner.get("request"), server.port, n).result(timeout=7)
    except LearnerTimeout:
        raise AssertionError("request() did not return within 7 s after the server answered early, half-closed "
                             "and reset the connection") from None
    except LearnerError as exc:
        assert exc.is_a("OSError"), (
            f"when the connection is reset before the whole request was sent, request() must raise an OSError "
            f"(BrokenPipeError, ConnectionResetError...), got {exc.type}")
    else:
        record = server.join()
        raise AssertionError(
            f"the server read {record.get('got')} bytes of an {n // 2**20} MiB request, answered, half-closed and then "
            f"reset the connection; request() returned a {got[0]}-byte reply as if all went well. The rest of the "
            "request was never delivered (the send failed with EPIPE or ECONNRESET): that error must reach the "
            "caller, also when another thread does the sending")
    server.join()


# ---------------------------------------------------------------- (b) serve_forking(): forced races, order, state


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_child_that_exits_before_fork_returns(learner):
    learner.fork_returns_after_exit(skip=1)  # every fork() but the first returns after its child exited
    lst = listener_socket()
    server = start_in_main_thread(learner, "serve_forking", lst, 4)
    # a first client stays connected: its child is still running when the others exit
    slow = connect(lst.getsockname())
    slow.sendall(b"slow, ")
    assert wait_until(lambda: child_holding(learner, slow), 3), "no child appeared for the first client"
    for i in range(3):
        c = connect(lst.getsockname())
        c.sendall(b"quick %d" % i)
        c.shutdown(socket.SHUT_WR)  # the whole request is there: the child answers and exits at once
        reply = read_to_eof(c, f"client {i + 2}")
        assert reply == b"QUICK %d" % i, f"client {i + 2}: expected its reply, got {reply[:80]!r}"
        c.close()
    slow.sendall(b"done")
    slow.shutdown(socket.SHUT_WR)
    reply = read_to_eof(slow, "the first client")
    assert reply == b"SLOW, DONE", f"the first client expected b'SLOW, DONE', got {reply[:80]!r}"
    try:
        statuses = result_of(server, WAIT, "serve_forking(listener, 4)")
    except LearnerError as exc:
        raise AssertionError(
            f"clients 2 to 4's children exited before fork() had returned in the parent, while the first child was "
            f"still running, and serve_forking raised {exc.type}: {exc.message[:200]}. A SIGCHLD handler that ran "
            "then reaped a pid the parent had not recorded yet; block SIGCHLD from before fork() until the pid is "
            "recorded") from None
    assert statuses == [0, 0, 0, 0], (
        "clients 2 to 4's children exited before fork() had returned in the parent, while the first child was still "
        f"running; expected the statuses [0, 0, 0, 0], got {statuses!r}. A SIGCHLD handler that runs before the pid "
        "is recorded reaps a child it cannot place: block SIGCHLD from before fork() until the pid is recorded")
    assert not learner.zombies(), "a child was left a zombie after serve_forking returned"
    slow.close()
    lst.close()


def child_holding(learner, client):
    """The live child of the learner process that holds the server's end of `client`'s connection."""
    ino = (server_side(client) or {}).get("inode")
    for p in children_of(learner, learner.pid):
        if ino and ino in held_sockets(learner, p.pid):
            return p
    return None


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_statuses_in_accept_order_when_children_exit_in_reverse(learner):
    lst = listener_socket()
    server = start_in_main_thread(learner, "serve_forking", lst, 3)
    clients, children = [], []
    for i in range(3):
        c = connect(lst.getsockname())
        c.sendall(b"client %d, not done yet" % i)
        child = wait_until(lambda: child_holding(learner, c), 3)
        assert child, f"no child appeared (holding the connection) for client {i + 1}"
        clients.append(c)
        children.append(child)
    assert wait_until(lambda: all((e := server_side(c)) is not None and e["rx"] == 0 for c in clients), 3), (
        "the children did not read their requests")

    def gone(child):
        return wait_until(lambda: child.pid not in {p.pid for p in children_of(learner, learner.pid)}, 3)

    # the last accepted finishes first (0), then the second is reset (1), then the first is killed (-9)
    third, second, first = clients[2], clients[1], clients[0]
    third.shutdown(socket.SHUT_WR)
    reply = read_to_eof(third, "client 3")
    assert reply == b"CLIENT 2, NOT DONE YET", f"client 3: unexpected reply {reply[:80]!r}"
    assert gone(children[2]), "client 3's child did not exit after sending its reply"
    second.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    second.close()  # RST: its child's recv fails, it exits with 1
    assert gone(children[1]), "client 2's child did not exit after its connection was reset"
    learner.signal(children[0].pid, signal.SIGKILL)
    assert gone(children[0]), "client 1's child did not die of SIGKILL"
    statuses = result_of(server, WAIT, "serve_forking(listener, 3)")
    assert statuses == [-9, 1, 0], (
        "the children exited in the reverse order of their connections: the third sent its reply (0), then the "
        "second lost its client to a reset (1), then the first was killed by SIGKILL (-9). Statuses come in accept "
        f"order, not exit order: expected [-9, 1, 0], got {statuses!r}")
    for c in (first, third):
        c.close()
    lst.close()


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_keeps_serving_while_a_client_stays_connected(learner):
    lst = listener_socket()
    quick = 4
    server = start_in_main_thread(learner, "serve_forking", lst, quick + 2)
    slow = connect(lst.getsockname())
    slow.sendall(b"a slow client, still talking")
    assert wait_until(lambda: child_holding(learner, slow), 3), "no child appeared for the first client"
    clients = []
    for i in range(quick):
        c = connect(lst.getsockname())
        c.sendall(b"quick %d" % i)
        clients.append(c)
    assert wait_until(lambda: len(children_of(learner, learner.pid)) == quick + 1, 3), (
        f"expected {quick + 1} children for {quick + 1} connected clients, found "
        f"{len(children_of(learner, learner.pid))}")
    for c in clients:  # these children exit together, while the slow client's child keeps running
        c.shutdown(socket.SHUT_WR)
    for i, c in enumerate(clients):
        reply = read_to_eof(c, f"quick client {i + 1}")
        assert reply == b"QUICK %d" % i, f"quick client {i + 1}: unexpected reply {reply[:80]!r}"
        c.close()
    wait_until(lambda: len(children_of(learner, learner.pid, live_only=False)) == 1, 1.5)
    zombies = [p.pid for p in children_of(learner, learner.pid, live_only=False) if p.state == "Z"]
    assert not zombies, (
        f"{len(zombies)} of {quick} children that exited while another client stayed connected were still zombies "
        "1.5 s later")
    try:
        reply = talk(lst.getsockname(), b"one more", "a new client, while the first one is still connected")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}. The server stopped serving new clients while one child was still running: a SIGCHLD handler "
            "must only collect children that have already exited (waitpid(-1, WNOHANG) until it returns 0), never "
            "wait for one that is still serving") from None
    assert reply == b"ONE MORE", f"the new client expected b'ONE MORE', got {reply[:80]!r}"
    slow.shutdown(socket.SHUT_WR)
    reply = read_to_eof(slow, "the slow client")
    assert reply == b"A SLOW CLIENT, STILL TALKING", f"the slow client expected its reply, got {reply[:80]!r}"
    statuses = result_of(server, WAIT, f"serve_forking(listener, {quick + 2})")
    assert statuses == [0] * (quick + 2), f"expected {quick + 2} zero statuses, got {statuses!r}"
    slow.close()
    lst.close()


# Runs a server function with a caller's SIGCHLD handler installed, and keeps the listener
# referenced so the judge can see whether the learner still holds it. The handler sends a byte
# to the judge when it runs.
CALLER_STATE = """
import os, signal, time
KEEP = []
def install(sock):
    KEEP.append(sock)
    signal.signal(signal.SIGCHLD, lambda signum, frame: sock.send(b"!"))
def serve(fn, listener, count):
    KEEP.append(listener)
    return fn(listener, count)
def poke():
    os.kill(os.getpid(), signal.SIGCHLD)
    for _ in range(50):
        time.sleep(0.002)
"""


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_forking_restores_the_callers_signal_state(learner):
    lst = listener_socket()
    listener_inode = inode_of(lst)
    ours, theirs = socket.socketpair()
    helper = learner.exec(CALLER_STATE)
    helper.call("install", theirs)
    assert signal_bits(learner.pid, "SigCgt") & SIGCHLD_BIT, "the caller's SIGCHLD handler was not installed"
    assert not signal_bits(learner.pid, "SigBlk") & SIGCHLD_BIT, "SIGCHLD was blocked before the call"
    server = helper.start_main("serve", learner.get("serve_forking"), lst, 2)
    _WATCHED[:] = [server]
    for i in range(2):
        reply = talk(lst.getsockname(), b"client %d" % i, f"client {i + 1}")
        assert reply == b"CLIENT %d" % i, f"client {i + 1}: unexpected reply {reply[:80]!r}"
    statuses = result_of(server, WAIT, "serve_forking(listener, 2)")
    assert statuses == [0, 0], f"expected [0, 0], got {statuses!r}"
    assert not signal_bits(learner.pid, "SigBlk") & SIGCHLD_BIT, (
        "after serve_forking returned, SIGCHLD was still blocked in the caller's thread: unblock what you blocked "
        "(the signal mask is the caller's)")
    ours.setblocking(False)
    try:  # what the caller's handler sent while serve_forking ran, if it left it in place
        ours.recv(65536)
    except BlockingIOError:
        pass
    helper.call("poke")  # a SIGCHLD now must run the caller's handler again
    ours.settimeout(1.0)
    try:
        ran = ours.recv(100)
    except socket.timeout:
        ran = b""
    assert ran, (
        "the caller had its own SIGCHLD handler; after serve_forking returned, a SIGCHLD did not run it: put back "
        "the handler signal.signal() returned when you installed yours, not SIG_DFL")
    assert listener_inode in held_sockets(learner, learner.pid), (
        "after serve_forking returned, the caller's listening socket was closed: the listener is the caller's")
    ours.close()
    lst.close()


@pytest.mark.cards("forking-server-parent-keeps-copy")
def test_servers_with_zero_connections(learner):
    lst = listener_socket()
    got = result_of(start_in_main_thread(learner, "serve_forking", lst, 0), 2, "serve_forking(listener, 0)")
    assert got == [], f"serve_forking(listener, 0) accepts nothing and must return [], got {got!r}"
    got = result_of(start_in_main_thread(learner, "serve_with_deadline", lst, 0, 1.0), 2,
                    "serve_with_deadline(listener, 0, 1.0)")
    assert got == [], f"serve_with_deadline(listener, 0, 1.0) accepts nothing and must return [], got {got!r}"
    lst.close()


# ---------------------------------------------------------------- (c) serve_with_deadline(): each its own deadline


@pytest.mark.cards("shutdown-shut-wr-half-close", "close-after-fork-keeps-connection")
def test_deadline_counts_from_each_accept(learner):
    lst = listener_socket()
    seconds, gap = 1.0, 0.6
    server = start_in_main_thread(learner, "serve_with_deadline", lst, 3, seconds)
    clients = []
    for i in range(3):  # they arrive one after another: every accept is an event for the server
        if i:
            time.sleep(gap)
        t0 = time.monotonic()
        c = connect(lst.getsockname())
        c.sendall(b"stuck %d" % i)
        clients.append((c, t0))
    ended: dict[int, float] = {}
    end = time.monotonic() + seconds + 2 * gap + WAIT
    while len(ended) < len(clients) and time.monotonic() < end:
        check_server()
        for i, (c, t0) in enumerate(clients):
            if i in ended:
                continue
            c.settimeout(0)
            try:
                got = c.recv(100)
            except BlockingIOError:
                continue
            except ConnectionResetError:
                raise AssertionError(f"client {i + 1} was reset (RST) at its deadline instead of getting a FIN") from None
            assert got == b"", f"client {i + 1} expected the end of stream at its deadline, got {got[:80]!r}"
            ended[i] = time.monotonic() - t0
        time.sleep(0.01)
    for i, (c, t0) in enumerate(clients):
        assert i in ended, f"client {i + 1} was still connected {seconds + 2 * gap + WAIT:.1f} s after the first one came"
        assert ended[i] >= seconds - 0.2, (
            f"client {i + 1}'s connection ended {ended[i]:.2f} s after it connected, before its {seconds:g} s deadline")
        assert ended[i] <= seconds + 0.7, (
            f"client {i + 1}'s connection ended {ended[i]:.2f} s after it connected; its deadline was {seconds:g} s "
            f"after its own accept (clients came {gap:g} s apart). Each connection has its own deadline: a timeout "
            "restarted by every event, or counted from the first accept, is not one")
        c.close()
    statuses = result_of(server, WAIT, "serve_with_deadline(listener, 3, 1.0)")
    assert statuses == [1, 1, 1], (
        f"three children whose connections were shut down at their deadlines must each exit with 1, got {statuses!r}")
    lst.close()
