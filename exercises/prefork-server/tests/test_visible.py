"""Visible tests of prefork-server: `prep test prefork-server DIR` runs them on your prefork.py (Linux: /proc).

The hidden tests check much more (SIGHUP under load, SIGTERM with requests in
flight, workers dying together, the master never accepting, descriptors,
TIME_WAIT on restart); see README.md for the whole contract.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import prefork


def children_of(pid):
    """The live children of `pid`, read from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry))
    return found


def wait_for(predicate, seconds=10.0):
    end = time.monotonic() + seconds
    while not (value := predicate()) and time.monotonic() < end:
        time.sleep(0.02)
    return value


def start(tmp_path, workers):
    port_file = tmp_path / "port"
    server = subprocess.Popen([sys.executable, prefork.__file__, "--workers", str(workers),
                               "--port-file", str(port_file)], stdout=subprocess.DEVNULL)
    assert wait_for(lambda: port_file.exists() or server.poll() is not None), "the server wrote no port file"
    assert server.poll() is None, f"the server exited with {server.returncode}"
    assert wait_for(lambda: len(children_of(server.pid)) == workers), f"expected {workers} workers"
    return server, int(port_file.read_text())


def stop_everything(server):
    """After a failed test: no worker outlives it."""
    for pid in children_of(server.pid):
        os.kill(pid, signal.SIGKILL)
    server.kill()
    server.wait()


def ask(port, line):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(line + b"\n")
        reply = b""
        while chunk := c.recv(4096):
            reply += chunk
    return reply


def test_open_listener():
    listener = prefork.open_listener("127.0.0.1", 0)
    try:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1  # listening
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) != 0
        assert listener.getsockname()[1] != 0
    finally:
        listener.close()


def test_a_worker_answers_and_sigterm_exits_0(tmp_path):
    server, port = start(tmp_path, 2)
    try:
        pid = int(ask(port, b"pid"))
        assert pid in children_of(server.pid), "'pid' must be answered by one of the master's workers"
        assert ask(port, b"echo hi") == b"hi\n"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
    finally:
        stop_everything(server)


def test_a_killed_worker_is_replaced(tmp_path):
    server, port = start(tmp_path, 2)
    try:
        victim = min(children_of(server.pid))
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: victim not in children_of(server.pid) and len(children_of(server.pid)) == 2)
        assert int(ask(port, b"pid")) in children_of(server.pid)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
    finally:
        stop_everything(server)
