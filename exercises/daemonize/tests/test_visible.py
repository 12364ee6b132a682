"""Visible tests of daemonize: `prep test daemonize DIR` runs them on your daemon.py.

Each test starts a real daemon (a copy of this pytest process that waits for
SIGTERM) and kills it at the end. The hidden tests check much more (sessions,
process groups, the terminal, leaked descriptors, the log file, how the pidfile
is written, stale pidfiles); see README.md.
"""

import os
import select
import signal

import pytest

from daemon import AlreadyRunning, daemonize


def start(pidfile, **kwargs):
    pid = daemonize(str(pidfile), **kwargs)
    if pid == 0:  # the daemon: wait for SIGTERM, never return into pytest
        try:
            while True:
                signal.pause()
        finally:
            os._exit(0)
    return pid


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    rest = text[text.rindex(")") + 2 :].split()
    return {"ppid": int(rest[1]), "pgid": int(rest[2]), "sid": int(rest[3]), "tty_nr": int(rest[4])}


def stop(pid):
    fd = os.pidfd_open(pid)
    try:
        os.kill(pid, signal.SIGTERM)
        ready, _, _ = select.select([fd], [], [], 5)
        return bool(ready)
    finally:
        os.close(fd)


def test_pidfile_session_and_sigterm(tmp_path):
    pidfile = tmp_path / "d.pid"
    pid = start(pidfile)
    try:
        assert pid > 0
        assert pidfile.read_text() == f"{pid}\n"
        st = stat_fields(pid)
        assert st["sid"] != os.getsid(0), "the daemon must be in a new session"
        assert st["sid"] != pid, "the daemon must not be the session leader (fork twice)"
        assert st["tty_nr"] == 0
        assert stop(pid), "the daemon must exit on SIGTERM"
        assert not pidfile.exists(), "SIGTERM must remove the pidfile"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_cwd_umask_and_descriptors(tmp_path):
    pid = start(tmp_path / "d.pid", workdir=str(tmp_path), umask=0o027)
    try:
        assert os.readlink(f"/proc/{pid}/cwd") == str(tmp_path)
        with open(f"/proc/{pid}/status") as f:
            umask = [line.split()[1] for line in f if line.startswith("Umask:")][0]
        assert umask == "0027"
        fds = sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd"))
        assert fds == [0, 1, 2], f"the daemon must hold only 0, 1 and 2, it holds {fds}"
        assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    finally:
        os.kill(pid, signal.SIGKILL)


def test_refuses_a_pidfile_naming_a_live_process(tmp_path):
    pidfile = tmp_path / "d.pid"
    pidfile.write_text(f"{os.getpid()}\n")
    with pytest.raises(AlreadyRunning):
        start(pidfile)
    assert pidfile.read_text() == f"{os.getpid()}\n", "the live pidfile must be left untouched"
