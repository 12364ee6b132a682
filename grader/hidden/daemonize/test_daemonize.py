# canary: hidden-test-daemonize
"""Hidden tests of daemonize: the daemon as /proc, its peers and the filesystem see it.

How a test runs: helper code in the learner's process (HELPERS, which holds no
expected value) makes the caller look like a job started by a shell (a process
group leader with a few open descriptors and a umask of 077), then calls
daemonize(). In the caller it returns the daemon's pid and what the caller
looked like before and after; in the daemon it connects back to a TCP listener
of the judge and sends a small report, so the judge knows, without sleeping,
that the daemon is running its own code. The judge then reads the daemon's
/proc/PID/stat and status itself, its descriptors through the harness, and its
cwd through the helper (same uid). Orphans are adopted by learner.reaper_pid:
pid 1 of the sandbox's pid namespace under Docker (the judge container's init),
the driver (a child subreaper) under --sandbox local.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time

import pytest
from prep_judge import LearnerError, LearnerTimeout

HELPERS = r'''
import ctypes, json, os, resource, signal, socket, struct, sys, time

_libc = ctypes.CDLL(None, use_errno=True)
_keep = []

def _entry():
    return sys.modules["daemon"]

def _umask_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return line.split()[1]
    return None

def state():
    return {"pid": os.getpid(), "sid": os.getsid(0), "pgid": os.getpgid(0),
            "cwd": os.getcwd(), "umask": _umask_of(os.getpid())}

def makedirs(path):
    os.makedirs(path, exist_ok=True)
    return os.path.realpath(path)

def exists(path):
    return os.path.lexists(path)

def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None

def reap(pid):
    try:
        return os.waitpid(pid, os.WNOHANG)[1]
    except ChildProcessError:
        return None

def proc_cwd(pid):
    return os.readlink(f"/proc/{pid}/cwd")

def file_mode(path):
    return os.stat(path).st_mode & 0o7777

def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid

def _inotify(directory):
    fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    if _libc.inotify_add_watch(fd, os.fsencode(directory), 0xFFF) < 0:
        raise OSError(ctypes.get_errno(), "inotify_add_watch")
    return fd

def _events(fd):
    out, data = [], b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    at = 0
    while at + 16 <= len(data):
        _wd, mask, _cookie, length = struct.unpack_from("iIII", data, at)
        name = data[at + 16: at + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
        out.append([mask, name])
        at += 16 + length
    return out

def _daemon_main(port, action, tty_name):
    try:
        report = {"pid": os.getpid()}
        if action == "print":
            print("stdout line from the daemon", flush=True)
            os.write(2, b"stderr line from the daemon\n")
            sys.stderr.write("sys.stderr line from the daemon\n")
            sys.stderr.flush()
        if tty_name:
            _keep.append(os.open(tty_name, os.O_RDWR))  # no O_NOCTTY: a session leader would acquire it
        if port:
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.sendall(json.dumps(report).encode())
            conn.close()
        while True:
            signal.pause()
    finally:
        os._exit(0)

def _wrap_pidfile_placing(pidfile, before=0.0, term_after=False):
    # os.rename, os.replace and os.link, when they put a file in place under the pidfile's name:
    # wait `before` seconds first, or send SIGTERM to the calling process as soon as they return
    name = os.path.basename(pidfile)
    for attr in ("rename", "replace", "link"):
        real = getattr(os, attr)
        def wrapper(src, dst, *args, _real=real, **kwargs):
            mine = os.path.basename(os.fsdecode(dst)) == name
            if mine and before:
                time.sleep(before)
            result = _real(src, dst, *args, **kwargs)
            if mine and term_after:
                os.kill(os.getpid(), signal.SIGTERM)
            return result
        setattr(os, attr, wrapper)

def launch(pidfile, options, port, peer=None, group_leader=True, extra_fds=True,
           action=None, tty=False, watch_dir=None, buffered_text=None, caller_umask=0o077,
           buffered_err=None, close_stdin=False, fd_at_limit=False, exited_child=False,
           slow_placing=0.0, term_after_placing=False, close_stderr=False, ignore_sigchld=False):
    if group_leader and os.getpgid(0) != os.getpid():
        os.setpgid(0, 0)  # as a shell starts every job
    old_umask = os.umask(caller_umask)
    extras = []
    tty_name = None
    watch = None
    try:
        if extra_fds:
            r, w = os.pipe()
            f = os.open("caller-file.txt", os.O_RDWR | os.O_CREAT, 0o600)
            high = os.dup2(f, 200)
            extras += [r, w, f, high]
        if tty:
            master, slave = os.openpty()
            tty_name = os.ttyname(slave)
            os.close(slave)
            _keep.append(master)  # kept open in the caller: the daemon opens the slave side later
        if watch_dir:
            watch = _inotify(watch_dir)
            extras.append(watch)
        if buffered_text:
            sys.stdout.write(buffered_text)  # no newline: still in the buffer at the fork
        if buffered_err:
            sys.stderr.write(buffered_err)  # no newline: still in the buffer at the fork
        limit_fd = None
        if fd_at_limit:
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            limit_fd = min(soft, 1 << 16) - 1
            r2, w2 = os.pipe()
            os.dup2(r2, limit_fd)
            os.close(r2)
            extras += [w2, limit_fd]
        child = None
        if exited_child:
            child = os.fork()
            if child == 0:
                os._exit(7)
            while open(f"/proc/{child}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
                time.sleep(0.005)
        if slow_placing or term_after_placing:
            _wrap_pidfile_placing(pidfile, slow_placing, term_after_placing)
        if close_stdin:
            os.close(0)
        if close_stderr:
            os.close(2)
        if ignore_sigchld:
            signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps its children: waitpid gives ECHILD
        before = state()
        caller = os.getpid()
        try:
            pid = _entry().daemonize(pidfile, **options)
        except SystemExit:
            if term_after_placing and os.getpid() != caller:
                os._exit(0)  # a daemon ended by SIGTERM before daemonize() returned in it: nothing to report
            raise
        if pid == 0:
            _daemon_main(port, action, tty_name)
        after = state()
        at_return = read_text(pidfile)
        events = _events(watch) if watch is not None else []
        return {"pid": pid, "before": before, "after": after, "pidfile_at_return": at_return, "events": events,
                "limit_fd": limit_fd, "child": child}
    finally:
        for fd in extras:
            try:
                os.close(fd)
            except OSError:
                pass
        if peer is not None:
            peer.close()
        os.umask(old_umask)
'''

IN_MODIFY, IN_MOVED_TO, IN_CREATE = 0x2, 0x80, 0x100


class Daemon:
    def __init__(self, info, report):
        self.info = info
        self.pid = info["pid"]
        self.report = report


def prepare(learner):
    h = learner.exec(HELPERS)
    run = h.call("makedirs", os.path.join(learner.workdir, "run"))
    return h, run


def start(learner, h, pidfile, options=None, **kwargs):
    """daemonize() from the caller, then wait for the daemon's report. Returns a Daemon."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(5)
    try:
        pending = h.start_main("launch", pidfile, options or {}, listener.getsockname()[1], **kwargs)
        try:
            info = pending.result(timeout=6)
        except LearnerTimeout:
            raise AssertionError(
                "daemonize() did not return in the caller within 6 s: the caller must read the pipe until EOF, "
                "and the daemon must close its end once it is ready"
            ) from None
        except LearnerError as exc:
            if exc.is_a("PermissionError") and "setsid" in (exc.message + exc.traceback).lower():
                raise AssertionError(
                    "daemonize() failed with EPERM from setsid() when called by a process group leader (as a shell "
                    "starts every job): call setsid() in a forked child, never in the calling process"
                ) from None
            raise
        assert isinstance(info, dict) and isinstance(info.get("pid"), int) and info["pid"] > 0, (
            f"daemonize() must return the daemon's pid (an int > 0) in the caller, it returned {info!r}"[:300]
        )
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            raise AssertionError(
                f"daemonize() returned pid {info['pid']} in the caller, but no daemon ever returned 0 and ran on "
                "(within 5 s)"
            ) from None
        with conn:
            conn.settimeout(5)
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        report = json.loads(data.decode())
        assert report["pid"] == info["pid"], (
            f"daemonize() returned {info['pid']} in the caller, but the process where it returned 0 is {report['pid']}: "
            "the caller must return the pid of the final process (the one that returns 0)"
        )
        return Daemon(info, report)
    finally:
        listener.close()


def stat_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    rest = text[text.rindex(")") + 2:].split()
    return {"state": rest[0], "ppid": int(rest[1]), "pgid": int(rest[2]), "sid": int(rest[3]), "tty_nr": int(rest[4])}


def umask_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return line.split()[1]
    return None


def wait_exit(pid, seconds):
    """True once the process has exited (pidfd: readable when it dies)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        ready, _, _ = select.select([fd], [], [], seconds)
        return bool(ready)
    finally:
        os.close(fd)


def nothing_left_behind(learner, seconds=2.0):
    """Within `seconds`: no learner process but the caller alive, no unreaped child of the caller.
    (Polls /proc: there is no event for "a process we do not know has gone".)"""
    deadline = time.monotonic() + seconds
    while True:
        procs = learner.processes()
        alive = [p for p in procs if p.pid != learner.pid and p.state != "Z"]
        unreaped = [p for p in procs if p.state == "Z" and p.ppid == learner.pid]
        if not alive and not unreaped:
            return None
        if time.monotonic() > deadline:
            if unreaped:
                return f"the caller left {len(unreaped)} child process(es) unreaped (zombies): reap the first child with waitpid"
            return f"{len(alive)} process(es) of the submission were still running besides the caller"
        time.sleep(0.02)


def expect_start_refused(learner, h, pidfile, kinds, what, **kwargs):
    try:
        start(learner, h, pidfile, **kwargs)
    except LearnerError as exc:
        assert any(exc.is_a(k) for k in kinds), f"{what}: daemonize() must raise {' or '.join(kinds)} in the caller, it raised {exc.type}: {exc.message[:200]}"
    else:
        raise AssertionError(f"{what}: daemonize() must raise {' or '.join(kinds)} in the caller, but a daemon started")


# ---------------------------------------------------------------------------- sessions and parents


@pytest.mark.cards("double-fork-daemon-not-session-leader", "setsid-needs-non-group-leader")
def test_daemon_is_in_a_new_session_and_leads_nothing(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid")
    st = stat_of(d.pid)
    assert st is not None and st["state"] != "Z", "the daemon must still be running after daemonize() returned in it"
    caller = d.info["before"]
    assert st["sid"] != caller["sid"], "the daemon is still in the caller's session: call setsid() in the first child"
    assert st["sid"] != d.pid, (
        "the daemon is a session leader (its session id is its own pid): fork a second time after setsid() and let "
        "the first child exit, so that opening a terminal can never make it the daemon's controlling terminal"
    )
    assert st["pgid"] == st["sid"] and st["pgid"] != d.pid, (
        f"the daemon must be in the process group that setsid() created (process group id = session id), without "
        f"leading it; its pgid is {'its own pid' if st['pgid'] == d.pid else 'another group'}"
    )
    assert st["tty_nr"] == 0, "the daemon must have no controlling terminal (tty_nr 0 in /proc/PID/stat)"


@pytest.mark.cards("double-fork-daemon-not-session-leader")
def test_daemon_is_adopted_and_the_first_child_is_reaped(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid")
    st = stat_of(d.pid)
    expected = "pid 1 (init of the sandbox's pid namespace)" if learner.reaper_pid == 1 else "the sandbox's subreaper"
    assert st["ppid"] != learner.pid, (
        "the daemon's parent is still the calling process: the daemon must be the grandchild (fork, setsid, fork), "
        "orphaned when the first child exits"
    )
    assert st["ppid"] == learner.reaper_pid, (
        f"an orphaned daemon is adopted by {expected}; this daemon's parent is another process, "
        "so the first child has not exited"
    )
    unreaped = [p for p in learner.zombies() if p.ppid == learner.pid]
    assert not unreaped, "the first child is a zombie: the caller must reap it with waitpid before daemonize() returns"


@pytest.mark.cards("setsid-needs-non-group-leader", "daemon-chdir-root")
def test_the_caller_is_left_as_it_was(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", group_leader=False)
    before, after = d.info["before"], d.info["after"]
    assert after["sid"] == before["sid"], "daemonize() moved the calling process into a new session: setsid() belongs in the child"
    assert after["pgid"] == before["pgid"], "daemonize() changed the calling process's process group"
    assert after["cwd"] == before["cwd"], "daemonize() changed the caller's working directory: chdir only in the daemon"
    assert after["umask"] == before["umask"], (
        f"daemonize() changed the caller's umask from {before['umask']} to {after['umask']}: set it only in the daemon"
    )
    st = stat_of(d.pid)
    assert st["sid"] not in (before["sid"], d.pid), "the daemon must be in a session of its own that it does not lead"


@pytest.mark.cards("double-fork-daemon-not-session-leader")
def test_cannot_acquire_a_controlling_terminal(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", tty=True)
    st = stat_of(d.pid)
    assert st["tty_nr"] == 0, (
        "after the daemon opened a terminal (a pseudo-terminal, without O_NOCTTY) it became the daemon's controlling "
        "terminal: the daemon is a session leader. The second fork exists to prevent exactly this"
    )


# ---------------------------------------------------------------------------- descriptors


@pytest.mark.cards("daemonize-steps-order")
def test_no_inherited_descriptor_is_left_open(learner):
    h, run = prepare(learner)
    keep, give = socket.socketpair()
    with keep:
        d = start(learner, h, f"{run}/d.pid", peer=give)
        give.close()
        fds = learner.fds(d.pid)
        pidfile = f"{run}/d.pid"
        extra = {fd: target for fd, target in fds.items() if fd > 2 and target != pidfile}
        assert not extra, (
            f"the daemon holds {len(extra)} descriptor(s) above 2 that it inherited from the caller (numbers "
            f"{sorted(extra)[:8]}): after fork the child has every descriptor of its parent, close-on-exec or not. "
            "Close them all (os.closerange)"
        )
        for fd in (0, 1, 2):
            assert fds.get(fd) == "/dev/null", (
                f"descriptor {fd} of the daemon must be /dev/null (no stdout_path given), it is "
                f"{'closed' if fd not in fds else 'something else'}"
            )


@pytest.mark.cards("daemonize-steps-order")
def test_the_peer_sees_eof_once_the_caller_closes_its_copy(learner):
    h, run = prepare(learner)
    keep, give = socket.socketpair()
    with keep:
        start(learner, h, f"{run}/d.pid", peer=give)
        give.close()  # the judge's copy of the learner's end; the caller closed its own
        keep.settimeout(3)
        try:
            data = keep.recv(100)
        except socket.timeout:
            raise AssertionError(
                "the caller closed its connected socket, but the other end saw no EOF within 3 s: the daemon still "
                "holds a copy of it, inherited at fork"
            ) from None
        assert data == b"", "nobody writes on this socket; the peer should have seen EOF"


@pytest.mark.cards("daemonize-steps-order")
def test_log_file_receives_stdout_and_stderr(learner):
    h, run = prepare(learner)
    h.call("makedirs", os.path.join(learner.workdir, "logs"))
    log = os.path.join(learner.workdir, "logs", "daemon.log")
    d = start(learner, h, f"{run}/d.pid", {"stdout_path": "logs/daemon.log"}, action="print",
              buffered_text="caller text still in its stdout buffer ",
              buffered_err="caller text still in its stderr buffer ")
    fds = learner.fds(d.pid)
    assert fds.get(0) == "/dev/null", "descriptor 0 of the daemon must be /dev/null"
    for fd in (1, 2):
        assert fds.get(fd) == log, (
            f"with stdout_path='logs/daemon.log' (relative to the caller's directory), descriptor {fd} of the daemon "
            f"must be that file; it is {'closed' if fd not in fds else 'something else'}"
        )
    text = h.call("read_text", log) or ""
    assert "stdout line from the daemon" in text, "what the daemon prints must land in the stdout_path file"
    assert "stderr line from the daemon" in text, "what the daemon writes to stderr must land in the stdout_path file too"
    assert "caller text still in its stdout buffer" not in text, (
        "the log starts with text the caller had printed but not flushed before daemonize(): flush sys.stdout and "
        "sys.stderr before forking, or the daemon writes the parent's buffer again"
    )
    assert "caller text still in its stderr buffer" not in text, (
        "the log holds text the caller had written to sys.stderr but not flushed before daemonize(): flush "
        "sys.stderr too before forking, or the daemon writes the parent's buffer again"
    )


@pytest.mark.cards("daemonize-steps-order")
def test_log_file_is_appended_to_and_created_with_the_daemons_umask(learner):
    h, run = prepare(learner)
    logs = h.call("makedirs", os.path.join(learner.workdir, "logs"))
    new_log = f"{logs}/new.log"
    start(learner, h, f"{run}/a.pid", {"stdout_path": new_log, "umask": 0o002}, action="print")
    mode = h.call("file_mode", new_log)
    assert mode == 0o644, (
        f"a log file created by a daemon with umask=0o002 must have mode 0o644 (0o644 passed to open, minus the "
        f"daemon's umask), it has {mode:#o}"
        + (": was it created before the daemon set its umask (the caller's is 0o077)?" if mode == 0o600 else "")
    )
    text = h.call("read_text", new_log) or ""
    assert "stdout line from the daemon" in text, "what the daemon prints must land in the stdout_path file"
    old_log = f"{logs}/old.log"
    learner.write_file(old_log, "a line written before the daemon started\n")
    start(learner, h, f"{run}/b.pid", {"stdout_path": old_log}, action="print")
    text = h.call("read_text", old_log) or ""
    assert text.startswith("a line written before the daemon started\n"), (
        "stdout_path must be opened for appending: the line the log file held before the daemon started is gone "
        f"or moved (the file now starts with {text[:60]!r})"
    )
    assert "stdout line from the daemon" in text, "what the daemon prints must be appended to the existing stdout_path file"
    private_log = f"{logs}/private.log"
    start(learner, h, f"{run}/c.pid", {"stdout_path": private_log, "umask": 0o027}, action="print")
    mode = h.call("file_mode", private_log)
    assert mode == 0o640, (
        f"a log file created by a daemon with umask=0o027 must have mode 0o640 (0o644 passed to open, minus the "
        f"daemon's umask), it has {mode:#o}")


# ---------------------------------------------------------------------------- cwd and umask


@pytest.mark.cards("daemon-chdir-root")
def test_default_working_directory_and_umask(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid")
    cwd = h.call("proc_cwd", d.pid)
    assert cwd == "/", "by default the daemon must chdir('/'), so that it keeps no filesystem busy; it did not"
    umask = umask_of(d.pid)
    assert umask == "0022", f"by default the daemon's umask must be 0022 (the caller's was 0077), it is {umask}"


@pytest.mark.cards("daemon-chdir-root")
def test_given_working_directory_and_umask(learner):
    h, run = prepare(learner)
    srv = h.call("makedirs", os.path.join(learner.workdir, "srv"))
    d = start(learner, h, f"{run}/d.pid", {"workdir": srv, "umask": 0o027})
    cwd = h.call("proc_cwd", d.pid)
    assert cwd == srv, "the daemon's working directory must be the workdir given"
    umask = umask_of(d.pid)
    assert umask == "0027", f"with umask=0o027 the daemon's umask must be 0027, it is {umask}"


# ---------------------------------------------------------------------------- pidfile


@pytest.mark.cards("daemonize-steps-order")
def test_pidfile_holds_the_pid_and_appears_whole(learner):
    h, run = prepare(learner)
    d = start(learner, h, "run/d.pid", watch_dir=run)  # relative: to the caller's directory
    want = f"{d.pid}\n"
    assert d.info["pidfile_at_return"] is not None, (
        "when daemonize() returned in the caller there was no pidfile run/d.pid (relative to the caller's "
        "directory): the daemon must write it before it reports that it is ready"
    )
    assert d.info["pidfile_at_return"] == want, (
        f"the pidfile must hold the daemon's pid and a newline ({want!r}), it holds {d.info['pidfile_at_return'][:40]!r}"
    )
    events = d.info["events"]
    in_place = [mask for mask, name in events if name == "d.pid" and mask & IN_MODIFY]
    assert not in_place, (
        "the pidfile was written in place (an inotify watch saw IN_MODIFY on its name), so for a moment another "
        "process could read it empty or half-written: write a temporary file in the same directory, then rename() "
        "or link() it into place"
    )
    appeared = [mask for mask, name in events if name == "d.pid" and mask & (IN_MOVED_TO | IN_CREATE)]
    assert appeared, "the pidfile's name never appeared in its directory (by rename or link)"


@pytest.mark.cards("daemonize-steps-order")
def test_sigterm_removes_the_pidfile_and_ends_the_daemon(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    d = start(learner, h, pidfile)
    learner.signal(d.pid, signal.SIGTERM)
    assert wait_exit(d.pid, 5), "the daemon was still running 5 s after SIGTERM"
    assert not h.call("exists", pidfile), "after SIGTERM the daemon must remove its pidfile before it exits"


@pytest.mark.cards("daemonize-steps-order")
def test_refuses_to_start_when_the_pidfile_names_a_live_process(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    live = f"{learner.pid}\n"  # the caller itself: certainly running
    learner.write_file(pidfile, live)
    expect_start_refused(learner, h, pidfile, ["AlreadyRunning"], "the pidfile names a running process")
    assert h.call("read_text", pidfile) == live, "a pidfile that names a running process must be left untouched"
    problem = nothing_left_behind(learner)
    assert problem is None, f"after refusing to start, {problem}"


@pytest.mark.cards("daemonize-steps-order")
def test_replaces_a_stale_pidfile(learner):
    h, run = prepare(learner)
    first = f"{run}/a.pid"
    learner.write_file(first, f"{h.call('dead_pid')}\n")
    d = start(learner, h, first)
    assert h.call("read_text", first) == f"{d.pid}\n", "a pidfile naming a process that has exited is stale: replace it"
    second = f"{run}/b.pid"
    learner.write_file(second, "not a pid\n")
    d2 = start(learner, h, second)
    assert h.call("read_text", second) == f"{d2.pid}\n", "a pidfile that holds no pid is stale: replace it"
    third = f"{run}/c.pid"
    learner.write_file(third, "")
    d3 = start(learner, h, third)
    assert h.call("read_text", third) == f"{d3.pid}\n", "an empty pidfile holds no pid: it is stale, replace it"


@pytest.mark.cards("daemonize-steps-order")
def test_a_pidfile_holding_zero_or_a_negative_pid_is_stale(learner):
    h, run = prepare(learner)
    for i, text in enumerate(["0\n", "-1\n"]):
        pidfile = f"{run}/n{i}.pid"
        learner.write_file(pidfile, text)
        try:
            d = start(learner, h, pidfile)
        except LearnerError as exc:
            hint = ""
            if exc.is_a("AlreadyRunning"):
                hint = (f" os.kill({text.strip()}, 0) succeeds because {text.strip()} is not a process: 0 is your own "
                        "process group and -1 every process you may signal. Only a positive integer is a pid")
            raise AssertionError(
                f"a pidfile holding {text.strip()!r} holds no pid, so it is stale and must be replaced; daemonize() "
                f"raised {exc.type}: {exc.message[:150]}.{hint}"
            ) from None
        got = h.call("read_text", pidfile)
        assert got == f"{d.pid}\n", (
            f"a pidfile holding {text.strip()!r} is stale: the daemon must replace it with its own pid, the file holds {got!r}"
        )


@pytest.mark.cards("daemonize-steps-order", "daemon-chdir-root")
def test_a_failure_before_ready_reaches_the_caller(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    expect_start_refused(learner, h, pidfile, ["OSError"], "workdir does not exist",
                         options={"workdir": os.path.join(learner.workdir, "no", "such", "dir")})
    assert not h.call("exists", pidfile), "a daemon that could not start must not leave a pidfile"
    problem = nothing_left_behind(learner)
    assert problem is None, f"after a daemon failed to start, {problem}"


# ---------------------------------------------------------------------------- forced orders, the caller's state, boundaries


def signal_masks(pid):
    """SigBlk, SigIgn and SigCgt of /proc/PID/status (the main thread's), as the judge reads them."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("SigBlk", "SigIgn", "SigCgt"):
                out[key] = int(line.split()[1], 16)
    return out


def signal_names(mask):
    names = []
    for n in range(1, 65):
        if mask & (1 << (n - 1)):
            try:
                names.append(signal.Signals(n).name)
            except ValueError:
                names.append(f"signal {n}")
    return ", ".join(names) or "none"


@pytest.mark.cards("daemonize-steps-order")
def test_the_pidfile_is_in_place_when_daemonize_returns(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    # the rename (or link) that puts the pidfile in place takes 0.5 s: a caller that returns
    # before the daemon is done returns while there is no pidfile yet
    d = start(learner, h, pidfile, slow_placing=0.5)
    assert d.info["pidfile_at_return"] == f"{d.pid}\n", (
        "when daemonize() returned in the caller the pidfile was "
        + ("not there yet" if d.info["pidfile_at_return"] is None else f"{d.info['pidfile_at_return'][:40]!r}")
        + " (putting it in place was slowed down to 0.5 s): the daemon must write its pidfile before it reports "
        "that it is ready, and the caller must wait for that report (read the pipe until EOF)")


@pytest.mark.cards("daemonize-steps-order")
def test_the_callers_signals_and_descriptors_are_left_as_they_were(learner):
    h, run = prepare(learner)
    masks_before = signal_masks(learner.pid)
    pipes_before = {t for t in learner.fds(learner.pid).values() if t.startswith("pipe:")}
    assert not masks_before["SigCgt"] & (1 << (signal.SIGTERM - 1)), "the caller had a SIGTERM handler before the call"
    start(learner, h, f"{run}/d.pid", group_leader=False)
    masks_after = signal_masks(learner.pid)
    for key, what in (("SigCgt", "caught (a handler installed)"), ("SigIgn", "ignored"), ("SigBlk", "blocked")):
        changed = masks_before[key] ^ masks_after[key]
        assert not changed, (
            f"daemonize() changed which signals the calling process has {what}: {signal_names(changed)}. The caller "
            "must be left as it was: install the daemon's handlers (and change its mask) in the daemon, after the forks")
    leaked = {t for t in learner.fds(learner.pid).values() if t.startswith("pipe:")} - pipes_before
    assert not leaked, (
        f"after daemonize() returned, the caller holds {len(leaked)} pipe descriptor(s) it did not have before: "
        "close both ends of the pipe in the caller (the write end before reading, the read end after EOF)")


@pytest.mark.cards("daemonize-steps-order")
def test_a_pidfile_naming_another_users_process_is_live(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    other = f"{os.getpid()}\n"  # the judge's own process: running, and not the learner's to signal (EPERM)
    learner.write_file(pidfile, other)
    expect_start_refused(learner, h, pidfile, ["AlreadyRunning"],
                         "the pidfile names a running process of another user (os.kill(pid, 0) fails with EPERM)")
    assert h.call("read_text", pidfile) == other, "a pidfile that names a running process must be left untouched"
    problem = nothing_left_behind(learner)
    assert problem is None, f"after refusing to start, {problem}"


@pytest.mark.cards("daemonize-steps-order")
def test_sigterm_leaves_a_pidfile_that_names_another_process(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    d = start(learner, h, pidfile)
    taken_over = f"{learner.pid}\n"  # another instance took over the pidfile meanwhile
    learner.write_file(pidfile, taken_over)
    learner.signal(d.pid, signal.SIGTERM)
    assert wait_exit(d.pid, 5), "the daemon was still running 5 s after SIGTERM"
    assert h.call("read_text", pidfile) == taken_over, (
        "on SIGTERM the daemon removed (or changed) a pidfile that no longer named it: remove the pidfile only if it "
        "still holds the daemon's own pid")


@pytest.mark.cards("daemonize-steps-order")
def test_sigterm_right_after_the_pidfile_appears(learner):
    h, run = prepare(learner)
    pidfile = f"{run}/d.pid"
    # SIGTERM comes the moment the rename (or link) that puts the pidfile in place returns in the daemon
    try:
        d = start(learner, h, pidfile, term_after_placing=True)
        pid = d.pid
    except (AssertionError, LearnerError):
        pid = None  # stopped before it reported ready: what the caller then sees is not checked here
    if pid is not None:
        assert wait_exit(pid, 5), "the daemon was still running 5 s after SIGTERM"
    problem = nothing_left_behind(learner, 3.0)
    assert problem is None, f"after a SIGTERM that came as the pidfile appeared, {problem}"
    left = h.call("read_text", pidfile)
    assert left is None, (
        f"a SIGTERM that came the moment the pidfile appeared ended the daemon but left its pidfile ({left[:20]!r}): "
        "install the SIGTERM handler before the pidfile is written, not after")


@pytest.mark.cards("daemonize-steps-order")
def test_a_failure_of_any_step_reaches_the_caller(learner):
    h, run = prepare(learner)
    missing = os.path.join(learner.workdir, "no", "such", "dir")
    cases = [
        ("stdout_path is in a folder that does not exist", f"{run}/a.pid", {"stdout_path": f"{missing}/d.log"}),
        ("the pidfile is in a folder that does not exist", f"{missing}/b.pid", {}),
    ]
    for what, pidfile, options in cases:
        expect_start_refused(learner, h, pidfile, ["OSError"], what, options=options)
        problem = nothing_left_behind(learner)
        assert problem is None, f"{what}: after the daemon failed to start, {problem}"
    assert not h.call("exists", f"{run}/a.pid"), "a daemon that could not open its log must not leave a pidfile"


@pytest.mark.cards("setsid-needs-non-group-leader", "double-fork-daemon-not-session-leader")
def test_the_caller_reaps_its_first_child_and_no_other(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", exited_child=True)  # the caller already has a child that has exited
    child = d.info["child"]
    unreaped = [p for p in learner.zombies() if p.ppid == learner.pid and p.pid != child]
    assert not unreaped, (
        "the first child is a zombie after daemonize() returned: the caller reaped another of its children "
        "instead (os.wait() takes any child); wait for the pid you forked with os.waitpid(pid, 0)")
    status = h.call("reap", child)
    assert status is not None and os.waitstatus_to_exitcode(status) == 7, (
        "daemonize() reaped a child of the caller that was not its own (the caller's exited child was gone, its "
        "status lost): wait for the pid you forked with os.waitpid(pid, 0), not os.wait()")


@pytest.mark.cards("daemonize-steps-order")
def test_a_descriptor_just_below_the_limit_is_closed(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", fd_at_limit=True)
    limit_fd = d.info["limit_fd"]
    fds = learner.fds(d.pid)
    assert limit_fd not in fds, (
        f"the caller held descriptor {limit_fd}, the highest its RLIMIT_NOFILE allows, and the daemon still holds it: "
        "close every descriptor above 2 up to os.sysconf('SC_OPEN_MAX'), not up to a guessed number")
    extra = {fd for fd in fds if fd > 2}
    assert not extra, f"the daemon holds descriptor(s) {sorted(extra)[:8]} above 2"


@pytest.mark.cards("daemonize-steps-order")
def test_standard_descriptors_when_the_caller_had_stdin_closed(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", close_stdin=True)  # as cron or a supervisor may start it
    fds = learner.fds(d.pid)
    for fd in (0, 1, 2):
        assert fds.get(fd) == "/dev/null", (
            f"the caller had closed its descriptor 0; the daemon's descriptor {fd} must still be /dev/null, it is "
            f"{'closed' if fd not in fds else 'something else'}"
            + (": open('/dev/null') returned 0, and closing it after dup2 closed descriptor 0 again" if fd == 0 else ""))
    extra = {fd for fd in fds if fd > 2}
    assert not extra, f"the daemon holds descriptor(s) {sorted(extra)[:8]} above 2"


@pytest.mark.cards("daemonize-steps-order")
def test_standard_descriptors_when_the_caller_had_stderr_closed(learner):
    h, run = prepare(learner)
    d = start(learner, h, f"{run}/d.pid", close_stderr=True)
    fds = learner.fds(d.pid)
    for fd in (0, 1, 2):
        assert fds.get(fd) == "/dev/null", (
            f"the caller had closed its descriptor 2; the daemon's descriptor {fd} must still be /dev/null, it is "
            f"{'closed' if fd not in fds else 'something else'}"
            + (": open('/dev/null') returned 2, and closing it after dup2 closed descriptor 2 again" if fd == 2 else ""))


@pytest.mark.cards("setsid-needs-non-group-leader", "double-fork-daemon-not-session-leader")
def test_a_caller_that_ignores_sigchld(learner):
    """A server that sets SIGCHLD to SIG_IGN never sees zombies: the kernel reaps its children, and
    waitpid() for the first child fails with ECHILD. The daemon still started: return its pid."""
    h, run = prepare(learner)
    try:
        d = start(learner, h, f"{run}/d.pid", ignore_sigchld=True)
    except LearnerError as exc:
        raise AssertionError(
            f"with SIGCHLD ignored in the caller, daemonize() raised {exc.type}: {exc.message[:120]}. The kernel reaps "
            "the caller's children then, so waitpid() for the first child raises ChildProcessError: that child is "
            "gone, which is all the caller wanted; return the daemon's pid"
        ) from None
    assert d.pid > 0 and h.call("read_text", f"{run}/d.pid").strip() == str(d.pid), (
        "with SIGCHLD ignored in the caller, daemonize() must still return the daemon's pid (the kernel reaped the "
        "first child, so waitpid raises ChildProcessError: that child is gone, which is what you wanted)"
    )
