# canary: hidden-test-epoll-echo
"""Hidden tests for epoll-echo: many clients on loopback against serve(listener, connections)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from prep_judge import LearnerTimeout, report_performance

EPOLLET = 1 << 31
O_NONBLOCK = 0o4000


# ---------------------------------------------------------------- helpers


def make_listener() -> socket.socket:
    return socket.create_server(("127.0.0.1", 0), backlog=1024)


def payload(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


class Peer:
    """One client: sends `data`, reads the echo, half-closes (at once, or once everything came back)."""

    def __init__(self, address, data: bytes, name: str, shut_when_echoed: bool = False) -> None:
        self.sock = socket.create_connection(address, timeout=3)
        self.sock.setblocking(False)
        self.local = self.sock.getsockname()
        self.data = data
        self.name = name
        self.shut_when_echoed = shut_when_echoed
        self.sent = 0
        self.got = bytearray()
        self.shut = False
        self.eof = False
        self.reset = False

    def done(self) -> bool:
        return self.eof or self.reset

    def want(self) -> int:
        events = selectors.EVENT_READ
        if self.sent < len(self.data) or (not self.shut and not self.shut_when_echoed):
            events |= selectors.EVENT_WRITE
        return events

    def on_write(self) -> None:
        if self.sent < len(self.data):
            try:
                self.sent += self.sock.send(memoryview(self.data)[self.sent : self.sent + 262144])
            except BlockingIOError:
                return
            except (BrokenPipeError, ConnectionResetError):
                self.reset = True
                return
        if self.sent == len(self.data) and not self.shut and not self.shut_when_echoed:
            self.half_close()

    def half_close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server already reset the connection
            self.reset = True
        self.shut = True

    def on_read(self) -> None:
        try:
            chunk = self.sock.recv(262144)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.reset = True
            return
        if not chunk:
            self.eof = True
            return
        self.got += chunk
        if self.shut_when_echoed and not self.shut and len(self.got) >= len(self.data) == self.sent:
            self.half_close()

    def describe(self) -> str:
        state = "was reset" if self.reset else ("saw the end of stream" if self.eof else "was still waiting")
        return f"{self.name} sent {self.sent} of {len(self.data)} bytes, got {len(self.got)} back, and {state}"

    def close(self) -> None:
        self.sock.close()


def drive(peers: list[Peer], seconds: float, sample=None, quiet: float = 2.0, server=None) -> list[Peer]:
    """Run every peer until it is done, `seconds` pass, or no byte moves for `quiet` seconds; the peers not done.

    `server`: the pending serve() call; if it raises meanwhile, its exception is raised at once."""
    sel = selectors.DefaultSelector()
    registered = {}
    for p in peers:
        if not p.done():
            sel.register(p.sock, p.want(), p)
            registered[p] = p.want()
    end = time.monotonic() + seconds
    last_progress = time.monotonic()
    while registered and time.monotonic() < end and time.monotonic() - last_progress < quiet:
        for key, events in sel.select(timeout=0.1):
            p = key.data
            before = (p.sent, len(p.got), p.done())
            if events & selectors.EVENT_WRITE:
                p.on_write()
            if events & selectors.EVENT_READ and not p.done():
                p.on_read()
            if (p.sent, len(p.got), p.done()) != before:
                last_progress = time.monotonic()
            if p.done():
                sel.unregister(p.sock)
                del registered[p]
            elif p.want() != registered[p]:
                registered[p] = p.want()
                sel.modify(p.sock, registered[p], p)
        if sample is not None:
            sample()
        if server is not None and server.done():
            server.result(timeout=0.1)  # the learner's exception, if serve() raised
    sel.close()
    return [p for p in peers if not p.done()]


def check_all(peers: list[Peer], stalled: list[Peer], seconds: float, hint: str) -> None:
    if stalled:
        shown = "; ".join(p.describe() for p in stalled[:3])
        raise AssertionError(f"{len(stalled)} of {len(peers)} clients were not done: no byte moved for 2 s, or "
                             f"{seconds:g} s passed ({shown}). {hint}")
    for p in peers:
        assert not p.reset, f"{p.name}'s connection was reset (RST); a client that half-closes expects its echo and a FIN"
        assert len(p.got) == len(p.data), (
            f"{p.name} sent {len(p.data)} bytes and got {len(p.got)} back before the end of stream: "
            + ("bytes were lost (a partial send, or data dropped when send would block)" if len(p.got) < len(p.data)
               else "more bytes came back than were sent"))
        assert p.got == p.data, f"{p.name} got {len(p.got)} bytes back, but not the same bytes in the same order"


def recv_watching(sock: socket.socket, seconds: float, server, size: int = 4096) -> bytes:
    """recv waiting at most `seconds` (socket.timeout after); serve()'s exception if it raises meanwhile."""
    end = time.monotonic() + seconds
    while True:
        sock.settimeout(min(0.1, max(0.01, end - time.monotonic())))
        try:
            return sock.recv(size)
        except socket.timeout:
            if server.done():
                server.result(timeout=0.1)
            if time.monotonic() >= end:
                raise


def half_close_sees_end(sock: socket.socket, server, who: str) -> None:
    """`who` half-closes; the server must then close its side: the end of stream within 3 s."""
    sock.shutdown(socket.SHUT_WR)
    try:
        end = recv_watching(sock, 3, server, 10)
    except socket.timeout:
        end = None
    assert end == b"", f"after {who} half-closed, the server must close its side (end of stream)"


def finish(pending, seconds: float, what: str):
    try:
        return pending.result(timeout=seconds)
    except LearnerTimeout:
        raise AssertionError(f"{what} did not return within {seconds:g} s after all its connections ended") from None


def threads_of(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _hexaddr(addr) -> str:
    return "%08X:%04X" % (struct.unpack("<I", socket.inet_aton(addr[0]))[0], addr[1])


def server_inode(listener_addr, client_addr) -> int | None:
    want = (_hexaddr(listener_addr), _hexaddr(client_addr))
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                return int(fields[9])
    return None


def socket_inodes(fds: dict) -> set[int]:
    return {int(t[len("socket:["):-1]) for t in fds.values() if t.startswith("socket:[")}


STALL_HINT = ("With EPOLLET an edge is reported once: read until recv raises BlockingIOError (EAGAIN), accept until "
              "accept raises it, and never wait for a new edge for data that is already there.")


# ---------------------------------------------------------------- tests


def test_echoes_one_client_until_its_eof(learner):
    lst = make_listener()
    data = payload(random.Random(1), 100_000)
    server = learner.start("serve", lst, 1)
    peer = Peer(lst.getsockname(), data, "the client")
    stalled = drive([peer], 5, server=server)
    check_all([peer], stalled, 5, STALL_HINT)
    echoed = finish(server, 3, "serve(listener, 1)")
    assert echoed == len(data), f"serve() must return the number of bytes echoed ({len(data)}), returned {echoed!r}"
    peer.close()
    lst.close()


def test_many_concurrent_clients_in_one_thread(learner):
    rng = random.Random(2)
    n = 300
    lst = make_listener()
    pid = learner.pid
    learner.get("__name__")  # a round trip: the learner process's own threads are all running now
    base_threads = threads_of(pid)
    server = learner.start("serve", lst, n)
    peers = [Peer(lst.getsockname(), payload(rng, rng.randint(1, 40_000)), f"client {i + 1}") for i in range(n)]
    most = [0]

    def sample():
        most[0] = max(most[0], threads_of(pid))

    stalled = drive(peers, 6, sample, server=server)
    check_all(peers, stalled, 6, STALL_HINT)
    echoed = finish(server, 3, f"serve(listener, {n})")
    total = sum(len(p.data) for p in peers)
    assert echoed == total, f"serve() must return the number of bytes echoed ({total}), returned {echoed!r}"
    assert most[0] <= base_threads + 1, (
        f"while serving {n} clients the learner process had up to {most[0]} threads (it had {base_threads} before, "
        "one more runs serve()): the server must be one thread multiplexing every socket with epoll")
    for p in peers:
        p.close()
    lst.close()


@pytest.mark.cards("epoll-et-listener-accept-loop")
def test_connections_queued_before_the_first_edge_are_all_accepted(learner):
    n = 120
    lst = make_listener()
    # every client connects and sends before the server starts: one readiness edge for all of them
    peers = [Peer(lst.getsockname(), b"hello from client %d\n" % i, f"client {i + 1}") for i in range(n)]
    for p in peers:
        p.on_write()
    server = learner.start("serve", lst, n)
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, "All these clients were queued on the listening socket before serve() ran, so "
              "there is one EPOLLIN edge for all of them: accept until accept() raises BlockingIOError.")
    finish(server, 3, f"serve(listener, {n})")
    for p in peers:
        p.close()
    lst.close()


@pytest.mark.cards("epoll-et-drain-to-eagain", "epoll-et-partial-read-stalls")
def test_data_queued_before_the_first_edge_is_all_read(learner):
    rng = random.Random(4)
    n = 40
    lst = make_listener()
    # each client's 64 KiB is already in the server's receive buffer when serve() starts;
    # the client half-closes only once everything came back, so no new data brings a new edge
    peers = [Peer(lst.getsockname(), payload(rng, 65536), f"client {i + 1}", shut_when_echoed=True) for i in range(n)]
    for p in peers:
        while p.sent < len(p.data):
            p.on_write()
    server = learner.start("serve", lst, n)
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, STALL_HINT)
    finish(server, 3, f"serve(listener, {n})")
    for p in peers:
        p.close()
    lst.close()


def stream_of(n: int) -> bytes:
    block = random.Random(5).randbytes(262144)
    return (block * (n // len(block) + 1))[:n]


def fill_until_blocked(sock: socket.socket, limit: int, quiet: float = 0.5) -> int:
    """Send stream_of(limit) without reading until the peer takes no byte for `quiet` seconds; the bytes sent."""
    view = memoryview(stream_of(limit))
    sent = 0
    last = time.monotonic()
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_WRITE)
    while sent < limit and time.monotonic() - last < quiet:
        if sel.select(timeout=0.05):
            try:
                n = sock.send(view[sent : sent + 262144])
            except BlockingIOError:
                continue
            if n:
                sent += n
                last = time.monotonic()
    sel.close()
    return sent


def test_slow_reader_blocks_nobody_and_loses_nothing(learner):
    lst = make_listener()
    server = learner.start("serve", lst, 2)
    slow = Peer(lst.getsockname(), b"", "the slow client")
    pushed = fill_until_blocked(slow.sock, 12 * 2**20)  # never reads while it sends
    quick = Peer(lst.getsockname(), b"", "the quick client")
    quick.sock.setblocking(True)
    quick.sock.settimeout(3)
    for i in range(20):
        msg = b"ping %d while another client does not read\n" % i
        quick.sock.sendall(msg)
        got = b""
        try:
            while len(got) < len(msg):
                chunk = recv_watching(quick.sock, 3, server)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            raise AssertionError(
                f"a quick client got no echo for 3 s while another client had sent {pushed} bytes without reading its "
                "echo: a send() that would block must not stop the server (non-blocking sockets; keep what did not "
                "fit and send it on EPOLLOUT)") from None
        assert got == msg, f"the quick client expected the echo {msg!r}, got {got!r}"
    half_close_sees_end(quick.sock, server, "the quick client")
    slow.data = stream_of(pushed)  # what it sent; now it reads everything back
    slow.sent = pushed
    stalled = drive([slow], 6, server=server)
    check_all([slow], stalled, 6, "Everything the slow client sent must come back once it reads: " + STALL_HINT)
    finish(server, 3, "serve(listener, 2)")
    quick.close()
    slow.close()
    lst.close()


def test_backpressure_pauses_reading_and_resumes_after_drain(learner):
    lst = make_listener()
    server = learner.start("serve", lst, 1)
    peer = Peer(lst.getsockname(), b"", "the client")
    limit = 48 * 2**20
    pushed = fill_until_blocked(peer.sock, limit)
    assert pushed < 32 * 2**20, (
        f"a client that never read its echo could push {pushed // 2**20} MiB into the server: keep at most 1 MiB "
        "unsent per connection and stop reading from it until that drains")
    # the client stops sending and reads; the rest of its bytes wait in the server's receive buffer, and
    # no new data will arrive to make a new EPOLLIN edge
    peer.data = stream_of(pushed)
    peer.sent = pushed
    stalled = drive([peer], 6, server=server)
    check_all([peer], stalled, 6, "After a pause for a full buffer, resume reading as soon as the buffer drains "
              "(on EPOLLOUT): the bytes already in the socket will not bring a new EPOLLIN edge.")
    finish(server, 3, "serve(listener, 1)")
    peer.close()
    lst.close()


def test_a_reset_client_does_not_stop_the_server(learner):
    rng = random.Random(7)
    lst = make_listener()
    server = learner.start("serve", lst, 6)
    first = [Peer(lst.getsockname(), payload(rng, 5000), f"client {i + 1}", shut_when_echoed=True) for i in range(2)]
    rude = socket.create_connection(lst.getsockname(), timeout=3)
    rude.sendall(payload(rng, 300_000))  # then reset, with its echo unread
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rude.close()
    rest = [Peer(lst.getsockname(), payload(rng, 5000), f"client {i + 4}") for i in range(3)]
    peers = first + rest
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, "A client that resets its connection (ECONNRESET on recv or send, EPOLLERR, "
              "EPOLLHUP) must be closed and forgotten, and the others served as before.")
    finish(server, 3, "serve(listener, 6) after one client reset its connection")
    for p in peers:
        p.close()
    lst.close()


def test_listener_is_handed_back_as_found(learner):
    lst = make_listener()  # blocking, as the caller made it
    assert not fcntl.fcntl(lst.fileno(), fcntl.F_GETFL) & O_NONBLOCK, "the test's listener should start blocking"
    address = lst.getsockname()
    # two clients for serve(listener, 2), then a third one for whoever accepts next: all queued before serve() runs
    peers = [Peer(address, b"client %d of 2\n" % (i + 1), f"client {i + 1}") for i in range(2)]
    extra = socket.create_connection(address, timeout=3)
    extra.sendall(b"the third client, for the caller")
    for p in peers:
        p.on_write()  # sends everything and half-closes
    server = learner.start("serve", lst, 2)
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, STALL_HINT)
    try:
        server.result(timeout=3)
    except LearnerTimeout:
        extra.setblocking(False)
        try:
            echoed = extra.recv(100)
        except BlockingIOError:
            echoed = b""
        raise AssertionError(
            "serve(listener, 2) did not return within 3 s after its two clients had ended"
            + (": it accepted and served a third client that was waiting in the listener's queue. Accept at most "
               "`connections` clients, then stop watching the listener and leave the rest to the caller"
               if echoed else "")) from None
    flags = fcntl.fcntl(lst.fileno(), fcntl.F_GETFL)
    assert not flags & O_NONBLOCK, (
        "after serve() returned, the caller's listening socket was left non-blocking: O_NONBLOCK belongs to the open "
        "file description, which the caller's descriptor shares with yours; put the listener back as you found it "
        "(save listener.gettimeout() at the start, restore it with listener.settimeout() before returning)")
    lst.settimeout(1)
    try:
        conn, _ = lst.accept()
    except socket.timeout:
        raise AssertionError(
            "a third client was waiting in the listener's queue beyond serve(listener, 2)'s two, and after serve() "
            "returned it was gone: serve() accepted it. Accept at most `connections` clients") from None
    conn.settimeout(3)
    got = conn.recv(100)
    assert got == b"the third client, for the caller", (
        f"the third client's connection, accepted by the caller after serve() returned, should still hold its "
        f"request; it held {got!r}: serve() must not touch the connections it does not accept")
    conn.close()
    extra.close()
    for p in peers:
        p.close()
    lst.close()


# Runs in the learner's process (the submission can read it: no expected value here).
FDINFO_HELPER = """
import os, re
def scan():
    polls, flags = {}, {}
    for name in os.listdir('/proc/self/fd'):
        try:
            target = os.readlink('/proc/self/fd/' + name)
            info = open('/proc/self/fdinfo/' + name).read()
        except OSError:
            continue
        m = re.search(r'^flags:\\s*([0-7]+)', info, re.M)
        if target.startswith('socket:['):
            flags[int(target[8:-1])] = int(m.group(1), 8) if m else 0
        if target == 'anon_inode:[eventpoll]':
            polls[int(name)] = [(int(i, 16), int(e, 16)) for e, i in
                                re.findall(r'^tfd:.*?events:\\s*([0-9a-f]+).*?ino:\\s*([0-9a-f]+)', info, re.M)]
    return polls, flags
"""


@pytest.mark.cards("epoll-et-drain-to-eagain")
def test_edge_triggered_epoll_and_non_blocking_sockets(learner):
    n = 5
    lst = make_listener()
    helper = learner.exec(FDINFO_HELPER)
    server = learner.start("serve", lst, n)
    peers = [Peer(lst.getsockname(), b"are you edge-triggered? %d" % i, f"client {i + 1}", shut_when_echoed=True)
             for i in range(n)]
    for p in peers:
        while p.sent < len(p.data):
            p.on_write()
    sel = selectors.DefaultSelector()
    for p in peers:
        sel.register(p.sock, selectors.EVENT_READ, p)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not all(len(p.got) == len(p.data) for p in peers):
        if server.done():
            server.result(timeout=0.1)  # the learner's exception, if serve() raised
        for key, _ in sel.select(timeout=0.1):  # read the echoes; no half-close yet, so they stay registered
            try:
                key.data.got += key.data.sock.recv(4096)
            except BlockingIOError:
                pass
    sel.close()
    assert all(p.got == p.data for p in peers), "the first echoes did not come back within 3 s"
    polls, flags = helper.call("scan")
    inodes = {p.name: server_inode(lst.getsockname(), p.local) for p in peers}
    registered = {ino: events for entries in polls.values() for ino, events in entries}
    assert polls, "the learner process has no epoll instance open while it serves clients: use select.epoll"
    for name, ino in inodes.items():
        assert ino in registered, f"{name}'s connection is not registered with any epoll instance"
        assert registered[ino] & EPOLLET, (
            f"{name}'s connection is registered without EPOLLET (events {registered[ino]:#x}): register client "
            "sockets edge-triggered")
        assert flags.get(ino, 0) & O_NONBLOCK, (
            f"{name}'s connection is a blocking socket: with EPOLLET you read until EAGAIN, and on a blocking "
            "socket that last read blocks the whole server (setblocking(False))")
    for p in peers:
        p.half_close()
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, STALL_HINT)
    finish(server, 3, f"serve(listener, {n})")
    for p in peers:
        p.close()
    lst.close()


def test_no_descriptor_left_after_serve(learner):
    rng = random.Random(9)
    lst = make_listener()
    before = learner.fds(learner.pid)
    server = learner.start("serve", lst, 20)
    peers = [Peer(lst.getsockname(), payload(rng, 3000), f"client {i + 1}") for i in range(20)]
    stalled = drive(peers, 5, server=server)
    check_all(peers, stalled, 5, STALL_HINT)
    finish(server, 3, "serve(listener, 20)")
    after = learner.fds(learner.pid)
    leaked = {fd: t for fd, t in after.items() if fd not in before or before[fd] != t}
    listener = f"socket:[{os.fstat(lst.fileno()).st_ino}]"  # the caller's: serve() must not close it
    leaked_sockets = [fd for fd, t in leaked.items() if t.startswith("socket:") and t != listener]
    leaked_polls = [fd for fd, t in leaked.items() if "eventpoll" in t]
    assert not leaked_sockets, f"after serve() returned, {len(leaked_sockets)} client socket(s) were still open: close each connection when it ends"
    assert not leaked_polls, "after serve() returned, its epoll descriptor was still open: close it"
    for p in peers:
        p.close()
    lst.close()



# ---------------------------------------------------------------- interleavings forced from the judge's side


@contextlib.contextmanager
def server_stopped(learner, pid: int):
    """The learner's process stopped (SIGSTOP) for the block: whatever the block does to its sockets is
    waiting for it, all at once, when it continues."""
    learner.signal(pid, signal.SIGSTOP)
    try:
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] in "Tt":
                        break
            except OSError:
                break
            time.sleep(0.005)
        yield
    finally:
        learner.signal(pid, signal.SIGCONT)


def tcp_queues(local, remote) -> tuple[int, int] | None:
    """(bytes not yet acknowledged by the peer, bytes not yet read by the application) of a TCP socket."""
    want = (_hexaddr(local), _hexaddr(remote))
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                tx, rx = fields[4].split(":")
                return int(tx, 16), int(rx, 16)
    return None


def ping(sock: socket.socket, server, msg: bytes, seconds: float, why: str) -> None:
    sock.sendall(msg)
    got = b""
    try:
        while len(got) < len(msg):
            chunk = recv_watching(sock, seconds, server)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        raise AssertionError(f"a second client got no echo of {msg!r} within {seconds:g} s {why}") from None
    assert got == msg, f"a second client expected the echo {msg!r}, got {got!r} ({why})"


@pytest.mark.cards("epoll-et-listener-accept-loop")
def test_a_burst_of_connections_while_serving(learner):
    n = 150
    lst = make_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, n + 1)
    first = Peer(address, b"the first client\n", "client 1", shut_when_echoed=True)
    first.sock.sendall(first.data)
    first.sent = len(first.data)
    stalled = drive([first], 3, server=server, quiet=3)  # served: the server is past its first poll now
    assert len(first.got) == len(first.data), f"the first client got no echo within 3 s: {first.describe()}"
    # every other client connects, sends and half-closes while the server cannot run: one edge for all
    with server_stopped(learner, learner.pid):
        burst = [Peer(address, b"burst client %d\n" % i, f"client {i + 2}") for i in range(n)]
        for p in burst:
            p.on_write()
    stalled = drive([first] + burst, 6, server=server)
    check_all([first] + burst, stalled, 6, f"{n} clients connected at once while the server was busy: one EPOLLIN "
              "edge on the listener for all of them. Accept until accept() raises BlockingIOError.")
    finish(server, 3, f"serve(listener, {n + 1})")
    for p in [first] + burst:
        p.close()
    lst.close()


@pytest.mark.cards("epoll-et-drain-to-eagain", "epoll-et-partial-read-stalls")
def test_every_ready_client_is_served_after_one_wakeup(learner):
    rng = random.Random(11)
    n = 30
    lst = make_listener()
    server = learner.start("serve", lst, n)
    peers = [Peer(lst.getsockname(), payload(rng, 300_000), f"client {i + 1}", shut_when_echoed=True) for i in range(n)]
    for p in peers:  # one byte each, echoed: every connection is accepted and registered
        p.sock.send(p.data[:1])
        p.sent = 1
    end = time.monotonic() + 4
    sel = selectors.DefaultSelector()
    for p in peers:
        sel.register(p.sock, selectors.EVENT_READ, p)
    while time.monotonic() < end and any(not p.got for p in peers):
        if server.done():
            server.result(timeout=0.1)
        for key, _ in sel.select(timeout=0.1):
            try:
                key.data.got += key.data.sock.recv(10)
            except BlockingIOError:
                pass
    sel.close()
    late = [p.name for p in peers if not p.got]
    assert not late, f"{len(late)} of {n} clients got no echo of their first byte within 4 s (the first: {late[0]})"
    # while the server cannot run, every client fills its socket: all of them ready at once, each with more
    # than one read's worth
    with server_stopped(learner, learner.pid):
        for p in peers:
            while p.sent < len(p.data):
                before = p.sent
                p.on_write()
                if p.sent == before:
                    break
    stalled = drive(peers, 6, server=server)
    check_all(peers, stalled, 6, "Every client was ready when the server woke up: handle every event that poll() "
              "returns, and drain each socket until EAGAIN. " + STALL_HINT)
    finish(server, 3, f"serve(listener, {n})")
    for p in peers:
        p.close()
    lst.close()


@pytest.mark.cards("epoll-et-partial-read-stalls")
def test_a_new_connection_and_a_clients_data_in_one_wakeup(learner):
    lst = make_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, 2)
    first = socket.create_connection(address, timeout=3)
    ping(first, server, b"before\n", 3, "to the first client")  # accepted, registered, and the server idle again
    # while the server cannot run: a second client connects (the listener is ready first), then the first
    # client sends. One poll returns both, the listener's event first; the first client's edge comes once.
    with server_stopped(learner, learner.pid):
        second = socket.create_connection(address, timeout=3)
        first.sendall(b"after\n")
    ping(second, server, b"second\n", 3, "to a client that connected while the server could not run")
    got = b""
    try:
        while len(got) < len(b"after\n"):
            chunk = recv_watching(first, 3, server)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        pass
    assert got == b"after\n", (
        f"the first client sent b'after\\n' while a new connection arrived, and got {got!r} back within 3 s. "
        "One poll returned both events, the listener's first: handle every event it returned. Leaving the loop "
        "after accepting (break where continue was meant) drops the other events of that wakeup, and an "
        "edge-triggered event is never reported again."
    )
    half_close_sees_end(first, server, "the first client")
    half_close_sees_end(second, server, "the second client")
    finish(server, 3, "serve(listener, 2)")
    first.close()
    second.close()
    lst.close()


def test_half_close_while_echo_is_still_pending(learner):
    lst = make_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, 2)
    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the echo backs up in the server
    slow.settimeout(3)
    slow.connect(address)
    stream = stream_of(8 * 2**20)  # beyond what the kernel's buffers take (tcp_wmem allows the server 4 MiB)
    sent = 0
    pending = 0  # bytes the server has read from this client and not yet written back (its own buffer)
    local = slow.getsockname()
    end = time.monotonic() + 4
    while pending < 256 * 1024 and sent < len(stream):
        slow.settimeout(max(0.05, end - time.monotonic()))
        try:
            slow.sendall(stream[sent : sent + 262144])  # the server must keep reading: it holds less than 1 MiB
        except socket.timeout:
            raise AssertionError(f"the server stopped reading from a client whose echo had {pending} bytes waiting "
                                 "in the server: it may stop only once 1 MiB is waiting to go out") from None
        sent += 262144
        time.sleep(0.005)
        server_side, client_side = tcp_queues(address, local), tcp_queues(local, address)
        if server_side and client_side:
            read = sent - client_side[0] - server_side[1]
            pending = read - server_side[0] - client_side[1]
    assert pending >= 256 * 1024, (
        f"a client sent {sent} bytes without reading its echo, and the server never held 256 KiB of it in its own "
        "buffer while it read on: it blocked in send() instead of keeping what did not fit for EPOLLOUT (or the "
        "kernel's buffers took everything, and this test cannot check a thing)")
    data = stream[:sent]
    slow.shutdown(socket.SHUT_WR)
    end = time.monotonic() + 3
    queues = None
    while time.monotonic() < end:
        queues = tcp_queues(address, local)
        if queues is not None and queues[1] == 0:
            break  # the server read everything, the FIN included (it reads until EAGAIN)
        time.sleep(0.01)
    assert queues is not None and queues[1] == 0, "the server did not read what the client sent within 3 s"
    time.sleep(0.2)
    server_side, client_side = tcp_queues(address, local), tcp_queues(local, address)
    in_kernel = (server_side[0] if server_side else 0) + (client_side[1] if client_side else 0)
    quick = socket.create_connection(address, timeout=3)
    for i in range(5):
        ping(quick, server, b"ping %d\n" % i, 2, "while a client that had half-closed still had "
             f"{len(data) - in_kernel} bytes of echo waiting in the server: do not block on it (keep its bytes, "
             "send them on EPOLLOUT)")
    quick.shutdown(socket.SHUT_WR)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # now it reads, as fast as the window allows
    got = bytearray()
    end = time.monotonic() + 5
    try:
        while time.monotonic() < end:
            slow.settimeout(max(0.05, end - time.monotonic()))
            chunk = slow.recv(262144)
            if not chunk:
                break
            got += chunk
        else:
            raise socket.timeout
    except socket.timeout:
        raise AssertionError(f"the client that half-closed got {len(got)} of {len(data)} bytes, and no end of "
                             "stream within 5 s") from None
    except ConnectionResetError:
        raise AssertionError(f"the client that half-closed got {len(got)} of {len(data)} bytes, then a reset") from None
    assert len(got) == len(data), (
        f"a client that half-closed while {len(data) - in_kernel} bytes of its echo were still waiting in the "
        f"server got {len(got)} of {len(data)} bytes before the end of stream: after recv() returns b'', send "
        "everything still pending, then close")
    assert got == data, "the client that half-closed got its echo's length back, but not the same bytes in order"
    finish(server, 3, "serve(listener, 2)")
    quick.close()
    slow.close()
    lst.close()


def test_reset_while_echo_is_pending(learner):
    lst = make_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, 2)
    rude = socket.create_connection(address, timeout=3)
    pushed = fill_until_blocked(rude, 8 * 2**20)  # never reads: the server holds its echo and stops reading
    quick = socket.create_connection(address, timeout=3)
    ping(quick, server, b"before the reset\n", 2, f"while another client had pushed {pushed} bytes without reading")
    with server_stopped(learner, learner.pid):  # the reset is waiting when the server runs again
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.close()
    for i in range(5):
        ping(quick, server, b"after the reset %d\n" % i, 2, "after another client reset its connection while its "
             "echo was pending: ECONNRESET or EPIPE from send, EPOLLERR, EPOLLHUP close that connection only")
    half_close_sees_end(quick, server, "the second client")
    finish(server, 3, "serve(listener, 2) after one client reset its connection with its echo pending")
    quick.close()
    lst.close()


def tcp_state(local, remote) -> str | None:
    """The state of a TCP socket, as /proc/net/tcp spells it (01 ESTABLISHED, 08 CLOSE_WAIT, ...)."""
    want = (_hexaddr(local), _hexaddr(remote))
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1], fields[2]) == want:
                return fields[3]
    return None


def small_buffer_listener() -> socket.socket:
    """A listener whose connections have a send buffer of 32 KiB, fixed (the kernel doubles the 16 KiB asked, and
    an accepted socket inherits it, with autotuning off): what does not fit waits in the server's own buffer."""
    lst = make_listener()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    return lst


def slow_client(address) -> socket.socket:
    """A client with a receive buffer of a few KiB: its echo backs up in the server almost at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window stays small
    sock.settimeout(3)
    sock.connect(address)
    return sock


def held_by_server(address, local, sent: int) -> int | None:
    """Bytes the server has read from this client and not yet written back: what waits in its own buffer."""
    server_side, client_side = tcp_queues(address, local), tcp_queues(local, address)
    if not server_side or not client_side:
        return None
    read = sent - client_side[0] - server_side[1]
    return read - server_side[0] - client_side[1]


def push_until_held(sock: socket.socket, address, stream: bytes, want: int, seconds: float = 5) -> int:
    """Send `stream` without reading until the server holds `want` bytes of echo in its own buffer; bytes sent."""
    local = sock.getsockname()
    sent = held = 0
    end = time.monotonic() + seconds
    while held < want and sent < len(stream) and time.monotonic() < end:
        sock.settimeout(max(0.05, end - time.monotonic()))
        try:
            sock.sendall(stream[sent : sent + 65536])
        except socket.timeout:
            raise AssertionError(f"the server stopped reading from a client whose echo had {held} bytes waiting in "
                                 "the server: it may stop only once 1 MiB is waiting to go out") from None
        sent += 65536
        time.sleep(0.005)
        held = held_by_server(address, local, sent) or 0
    assert held >= want, (
        f"a client sent {sent} bytes without reading its echo, and the server never held {want // 1024} KiB of it "
        "in its own buffer while it read on: it blocked in send() instead of keeping what did not fit for EPOLLOUT")
    return sent


def test_reset_after_half_close_with_echo_pending(learner):
    """The peer half-closes, then resets while its echo waits in the server: send() fails with EPIPE, not ECONNRESET
    (a reset in CLOSE_WAIT), and recv() too."""
    lst = small_buffer_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, 2)
    rude = slow_client(address)
    local = rude.getsockname()
    sent = push_until_held(rude, address, random.Random(21).randbytes(8 * 2**20), 64 * 1024)
    rude.shutdown(socket.SHUT_WR)
    end = time.monotonic() + 3
    while tcp_state(address, local) != "08" and time.monotonic() < end:  # the server's side has the FIN: CLOSE_WAIT
        time.sleep(0.005)
    assert tcp_state(address, local) == "08", "the server's side of a client that half-closed never got its FIN"
    held = held_by_server(address, local, sent)
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rude.close()  # a reset, after the FIN: the server's next send() or recv() on it fails with EPIPE
    quick = socket.create_connection(address, timeout=3)
    for i in range(5):
        ping(quick, server, b"after the reset %d\n" % i, 2, "after another client half-closed, then reset its "
             "connection while its echo was still pending in the server: a reset after the peer's FIN makes "
             "send() and recv() fail with EPIPE (BrokenPipeError), not ECONNRESET; close that connection only")
    half_close_sees_end(quick, server, "the second client")
    finish(server, 3, "serve(listener, 2) after a client reset its connection after its own half-close "
           f"(with {held} bytes of its echo pending)")
    quick.close()
    lst.close()


def test_a_reset_connection_leaves_nothing_for_the_next_one(learner):
    """A reset drops the connection's pending echo with it: the descriptor number is reused at once by the next
    accept, and whatever was kept under that number would go to a stranger."""
    rng = random.Random(22)
    n = 20
    lst = small_buffer_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, n + 2)
    mid = Peer(address, payload(rng, 200_000), "the client in the middle of its message")
    mid.sock.sendall(mid.data[:1000])  # the rest after the burst
    mid.sent = 1000
    rude = slow_client(address)
    local = rude.getsockname()
    push_until_held(rude, address, payload(rng, 8 * 2**20), 64 * 1024)
    ino = server_inode(address, local)
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    rude.close()  # a reset with 64 KiB or more of its echo still in the server
    target = f"socket:[{ino}]"
    end = time.monotonic() + 3
    while target in learner.fds(learner.pid).values():  # until the server has closed that connection
        if server.done():
            server.result(timeout=0.1)
        assert time.monotonic() < end, "the server did not close a connection within 3 s of its client's reset"
        time.sleep(0.01)
    # its descriptor number is free now: the next accept gets it. Many clients connect, send and half-close at
    # once, while the server cannot run
    with server_stopped(learner, learner.pid):
        burst = [Peer(address, b"burst client %d\n" % i, f"client {i + 3}") for i in range(n)]
        for p in burst:
            p.on_write()
    peers = [mid] + burst
    stalled = drive(peers, 6, server=server)
    check_all(peers, stalled, 6, "A connection that was reset is closed and forgotten, its unsent bytes with it: "
              "the next connection accepted may get the same descriptor number.")
    finish(server, 3, f"serve(listener, {n + 2})")
    for p in peers:
        p.close()
    lst.close()


def test_backlog_goes_out_before_fresh_data(learner):
    """A client reads a little of its echo and sends more while the server is stopped: when it runs again its
    socket is readable and writable at once, and what waits in its buffer must go out before the new bytes."""
    rng = random.Random(23)
    lst = small_buffer_listener()
    address = lst.getsockname()
    server = learner.start("serve", lst, 1)
    client = slow_client(address)
    stream = rng.randbytes(8 * 2**20)
    sent = push_until_held(client, address, stream, 64 * 1024)
    got = bytearray()
    for _ in range(5):
        with server_stopped(learner, learner.pid):
            client.setblocking(False)
            end = time.monotonic() + 1
            while time.monotonic() < end:  # some of the echo: room in the server's socket buffer when it runs
                try:
                    got += client.recv(65536)
                    break
                except BlockingIOError:
                    time.sleep(0.005)
            client.settimeout(3)
            fresh = stream[sent : sent + 8192]
            client.sendall(fresh)  # and new data: readable and writable together
            sent += len(fresh)
        time.sleep(0.05)
    client.shutdown(socket.SHUT_WR)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    end = time.monotonic() + 6
    try:
        while time.monotonic() < end:
            client.settimeout(max(0.05, end - time.monotonic()))
            chunk = client.recv(262144)
            if not chunk:
                break
            got += chunk
        else:
            raise socket.timeout
    except socket.timeout:
        raise AssertionError(f"the client got {len(got)} of {sent} bytes, and no end of stream within 6 s") from None
    data = stream[:sent]
    if got != data:
        at = next((i for i, (x, y) in enumerate(zip(got, data)) if x != y), min(len(got), len(data)))
        raise AssertionError(
            f"the client sent {sent} bytes and got {len(got)} back, differing from byte {at} on: bytes "
            "read after others were kept for EPOLLOUT went out before them. While a connection has unsent bytes, "
            "new data goes behind them (send what waits first)")
    finish(server, 3, "serve(listener, 1)")
    client.close()
    lst.close()


# ---------------------------------------------------------------- the figure and its baseline

# A blocking server with one thread per connection: the baseline, run by the judge in a process of its
# own (never in the learner's, where the submission could slow it down), measured the same way.
BASELINE_SERVER = """
import socket, sys, threading
listener = socket.socket(fileno=int(sys.argv[1]))
listener.setblocking(True)
def echo(conn):
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            conn.sendall(data)
threads = []
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    conn, _ = listener.accept()
    t = threading.Thread(target=echo, args=(conn,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
"""


class PingPong:
    """A client that sends a message, waits for its whole echo, and repeats."""

    def __init__(self, address, rounds: int, name: str) -> None:
        self.sock = socket.create_connection(address, timeout=3)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.msg = (name.encode() * 64)[:64]
        self.rounds = rounds
        self.done_rounds = 0
        self.got = 0
        self.name = name


def ping_pong(address, clients: int, rounds: int, seconds: float, server=None, watch=None) -> tuple[float, int]:
    peers = [PingPong(address, rounds, f"c{i:02d}") for i in range(clients)]
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    for p in peers:
        p.sock.send(p.msg)
        sel.register(p.sock, selectors.EVENT_READ, p)
    left = clients
    end = start + seconds
    last_progress = last_watch = start
    while left and time.monotonic() < end and time.monotonic() - last_progress < 2.0:
        if server is not None and server.done():
            server.result(timeout=0.1)
        if watch is not None and time.monotonic() - last_watch > 0.1:
            watch()
            last_watch = time.monotonic()
        for key, _ in sel.select(timeout=0.1):
            last_progress = time.monotonic()
            p = key.data
            try:
                chunk = p.sock.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(p.sock)
                left -= 1
                continue
            p.got += len(chunk)
            if p.got == 64:
                p.got = 0
                p.done_rounds += 1
                if p.done_rounds == p.rounds:
                    p.sock.shutdown(socket.SHUT_WR)
                else:
                    p.sock.send(p.msg)
    elapsed = time.monotonic() - start
    sel.close()
    echoes = sum(p.done_rounds for p in peers)
    for p in peers:
        p.sock.close()
    return elapsed, echoes


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, its exited threads included (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def baseline_echoes_per_cpu_second(clients: int, rounds: int) -> float | None:
    """The judge's blocking thread-per-connection server in a process of the judge's own, the same load."""
    lst = make_listener()
    proc = subprocess.Popen([sys.executable, "-I", "-c", BASELINE_SERVER, str(lst.fileno()), str(clients)],
                            pass_fds=[lst.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        if not select.select([proc.stdout], [], [], 5)[0] or proc.stdout.readline() != b"ready\n":
            raise RuntimeError("the baseline server did not start")
        started_cpu = cpu_seconds(proc.pid)  # its own start-up (the interpreter, imports) is not counted
        _, echoes = ping_pong(lst.getsockname(), clients, rounds, 6)
        usage = None
        end = time.monotonic() + 3
        while usage is None and time.monotonic() < end:
            pid, _, rusage = os.wait4(proc.pid, os.WNOHANG)  # its CPU time, as it is reaped
            if pid:
                usage = rusage
                proc.returncode = 0  # reaped here
            else:
                time.sleep(0.01)
    except Exception:  # noqa: BLE001: the figure is then reported without its baseline
        usage, echoes = None, 0
    finally:
        lst.close()
        if proc.returncode is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if echoes != clients * rounds or usage is None:
        return None
    return echoes / max(usage.ru_utime + usage.ru_stime - started_cpu, 0.01)


def test_performance_echoes_per_second(learner):
    # The figure is echoes per second of the server's CPU time: on loopback the load generator
    # (one Python process) limits the wall-clock rate, so CPU time is what tells servers apart.
    clients, rounds = 16, 1500
    baseline = baseline_echoes_per_cpu_second(clients, rounds)  # before any of the submission's code runs
    lst = make_listener()
    pid = learner.pid
    learner.get("__name__")
    base_threads = threads_of(pid)
    others = {p.pid for p in learner.processes()} - {pid}
    cpu0 = cpu_seconds(pid)
    server = learner.start("serve", lst, clients)
    helpers: list[str] = []

    def watch():
        extra = [p for p in learner.processes() if p.pid != pid and p.pid not in others]
        if extra and not helpers:
            helpers.append(f"process {extra[0].pid} ({extra[0].name})")
        if threads_of(pid) > base_threads + 1 and not helpers:
            helpers.append(f"{threads_of(pid)} threads (it had {base_threads}, and one runs serve())")

    elapsed, echoes = ping_pong(lst.getsockname(), clients, rounds, 6, server, watch)
    assert echoes == clients * rounds, (
        f"{clients} clients each waiting for the echo of one 64-byte message before sending the next completed "
        f"{echoes} of {clients * rounds} round trips (stopped after 6 s, or 2 s without an echo)")
    finish(server, 3, f"serve(listener, {clients})")
    assert not helpers, (
        f"while serving, the submission ran {helpers[0]} beside the thread of serve(): the server is one thread "
        "in one process, and its CPU time is the figure")
    value = echoes / max(cpu_seconds(pid) - cpu0, 0.01)
    lst.close()
    report_performance(round(value), None if baseline is None else round(baseline))


def connect_when_listening(port: int, program, seconds: float) -> socket.socket:
    """A connection to the learner's program once it listens on `port` (it prints nothing we wait for)."""
    end = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            if program.done():
                raise AssertionError("the program ended before it listened on the port it was given") from None
            if time.monotonic() > end:
                raise AssertionError(f"the program did not listen on 127.0.0.1:{port} within {seconds} s") from None
            time.sleep(0.05)


def echo_once(sock: socket.socket, data: bytes) -> bytes:
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)
    got = b""
    sock.settimeout(5)
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return got
        got += chunk


def test_command_line_serves_the_given_port_and_count(learner):
    """`python3 epollecho.py PORT N` serves N connections on PORT, then ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    program = learner.spawn([str(port), "2"], stdin=None)
    try:
        first = connect_when_listening(port, program, 5)
        with first:
            assert echo_once(first, b"first") == b"first", "the program must echo what the first client sent"
        time.sleep(0.3)
        assert not program.done(), (
            f"`python3 epollecho.py {port} 2` ended after one connection: it must serve 2 (the second argument)"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=2) as second:
            assert echo_once(second, b"second") == b"second", "the program must echo what the second client sent"
        done = program.wait(timeout=5)
    except LearnerTimeout:
        raise AssertionError(f"`python3 epollecho.py {port} 2` did not end within 5 s of its second connection "
                             "ending: it serves N connections, then returns") from None
    finally:
        if not program.done():
            program.signal(signal.SIGKILL)
    assert done.returncode == 0, f"`python3 epollecho.py {port} 2` exited {done.returncode}: {done.stderr[-300:]!r}"
