"""Learner side: the driver, one per submission.

It connects to the judge, and for each test forks a worker that imports the
submission, starts programs, relays calls, watches output and memory, and at
the end of the test kills every process the submission started. It is a single
thread around a selector and never blocks on the submission's processes (only
on gcc, once, when the judge asks for a C build before the first test).

Under Docker the container starts it as root with only CAP_SETUID and
CAP_SETGID; before anything else it becomes real and saved uid 1002, effective
uid 1001 (the learner's), with no capabilities left. Its children take uid 1001
in all three. The kernel lets a process signal another when the sender's real
or effective uid is the target's real or saved uid: so the driver can signal
the submission's processes (and kill(-1, SIGKILL) reaches every one of them,
never the judge's), while they can neither stop nor kill it. Under --sandbox
local it runs as you (or nobody), is a child subreaper and kills its
descendants. It makes itself non-dumpable, so processes of the same uid cannot
ptrace it or read its descriptors.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import ctypes
import json
import os
import secrets
import select
import selectors
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

from . import protocol

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
READ_CHUNK = 65536
# how a C submission is built (docs/grading.md, "Languages")
GCC_FLAGS = ("-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-fdiagnostics-color=never")
GCC_LIBS = ("-lpthread", "-lm")
BUILD_OUTPUT_CAP = 64 * 1024  # bytes of gcc's output kept (the first: the first errors matter most)

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0)


def read_oom_kills() -> int:
    """The memory cgroup's OOM-kill counter (0 when there is none to read)."""
    for path, key in (
        ("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill"),
        ("/sys/fs/cgroup/memory.events", "oom_kill"),
    ):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == key:
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


def read_pids_max_hits() -> int:
    """How often a fork failed on the pids cgroup's limit (0 when there is none to read)."""
    for path in ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"):
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.partition(" ")
                    if name == "max":
                        return int(value)
        except (OSError, ValueError):
            continue
    return 0


class Channel:
    """A non-blocking framed socket for the selector loop.

    `accept_fds=False` for the worker's socket: the worker never needs to send a descriptor,
    so whatever it sends is closed on arrival and cannot fill the driver's table."""

    def __init__(self, sock: socket.socket, accept_fds: bool = True) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.reader = protocol.FrameReader(accept_fds)
        self.out: collections.deque = collections.deque()  # [bytes, fds]
        self.closed = False

    def queue(self, message: dict, fds=()) -> None:
        if self.closed:
            return
        self.out.append([protocol.encode_frame(message, len(fds)), list(fds)])

    def flush(self) -> None:
        while self.out and not self.closed:
            data, fds = self.out[0]
            try:
                if fds:
                    sent = socket.send_fds(self.sock, [data], fds)
                    for fd in fds:
                        _close(fd)
                    self.out[0][1] = []
                else:
                    sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.closed = True
                return
            if sent >= len(data):
                self.out.popleft()
            else:
                self.out[0][0] = data[sent:]

    def read(self) -> list | None:
        """Frames available now; None at end of stream."""
        try:
            data, fds = protocol.recv_some(self.sock)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        if not data and not fds:
            return None
        self.reader.feed(data, fds)
        return list(self.reader.frames())

    def drop(self) -> None:
        """Close the socket and every descriptor still waiting here, in either direction."""
        self.closed = True
        self.reader.close_pending_fds()
        for _data, fds in self.out:
            for fd in fds:
                _close(fd)
        self.out.clear()
        self.sock.close()


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


class Capture:
    """Bytes read from a pipe, kept up to a cap; `over` once the cap was passed."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]

    @property
    def over(self) -> bool:
        return self.total > self.cap


class Identity:
    """Who the driver is under Docker: real and saved uid `driver_uid`, effective uid `uid`.

    Started as root (with only CAP_SETUID and CAP_SETGID), it drops to that at once;
    every child it starts drops to `uid` in all three, the submission's identity.
    """

    def __init__(self, config: dict) -> None:
        self.uid = int(config["uid"])
        self.gid = int(config["gid"])
        self.driver_uid = int(config["driver_uid"])

    def become_driver(self) -> None:
        if os.geteuid() != 0:
            raise SystemExit(f"prep driver: started as uid {os.geteuid()}; the sandbox starts it as root to drop to "
                             f"uid {self.driver_uid}/{self.uid}")
        os.setgroups([])
        os.setresgid(self.gid, self.gid, self.gid)
        os.setresuid(self.driver_uid, self.uid, self.driver_uid)  # leaving uid 0 clears every capability
        if os.getresuid() != (self.driver_uid, self.uid, self.driver_uid) or _capabilities() != 0:
            raise SystemExit("prep driver: could not drop root's identity and capabilities")

    def become_learner(self) -> None:
        """In a child: the submission's uid in all three, so nothing of the driver's identity is left."""
        os.setresuid(self.uid, self.uid, self.uid)


def _capabilities() -> int:
    """The union of this process's permitted, effective and ambient capabilities."""
    caps = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("CapPrm:", "CapEff:", "CapAmb:")):
                caps |= int(line.split()[1], 16)
    return caps


class Worker:
    def __init__(self, pid: int, channel: Channel, out_fd: int, cap: int, oom_before: int) -> None:
        self.pid = pid
        self.channel = channel
        self.out_fd = out_fd
        self.output = Capture(cap)
        self.oom_before = oom_before
        self.ready: dict | None = None
        self.import_error: dict | None = None
        self.waiting: list[int] = []  # judge ids of "worker" requests waiting for ready
        self.inflight: set[int] = set()
        self.died: dict | None = None
        self.kill_reason: str | None = None


class Program:
    def __init__(self, popen: subprocess.Popen, cap: int, oom_before: int) -> None:
        self.popen = popen
        self.pid = popen.pid
        self.stdout = Capture(cap)
        self.stderr = Capture(cap)
        self.stdin_buf = bytearray()
        self.stdin_close = False
        self.status: int | None = None
        self.kill_reason: str | None = None
        self.oom_before = oom_before
        self.args: list[str] = []


class Driver:
    def __init__(self, config: dict) -> None:
        self.config = config
        self.mode = config.get("mode", "docker")
        self.limits = config.get("limits", {})
        self.output_cap = int(self.limits.get("output_kb", 64)) * 1024
        self.scratch = config["scratch_dir"]
        self.sel = selectors.DefaultSelector()
        self.judge: Channel | None = None
        self.worker: Worker | None = None
        self.programs: dict[int, Program] = {}
        self.fd_owner: dict[int, tuple] = {}
        self.program_errors: list[str] = []  # stderr of this test's programs, shown with its record
        self.current_workdir: str | None = None
        self.build: dict | None = None
        self.oom_at_test_start = read_oom_kills()
        self.pids_at_test_start = read_pids_max_hits()
        self.identity = Identity(config["identity"]) if config.get("identity") else None
        self.stop_signals: dict[int, int] = {}  # child pid -> the signal that stopped it (waitpid WUNTRACED)
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": self.scratch,
            "TMPDIR": config.get("tmp_dir", "/tmp"),
        }
        if self.mode == "local":
            self.env["MALLOC_ARENA_MAX"] = "2"

    # ------------------------------------------------------------ setup

    def start(self) -> None:
        prctl(PR_SET_DUMPABLE, 0)
        if self.mode == "local":
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        os.umask(0o022)
        for name in list(os.environ):
            if name not in self.env:
                del os.environ[name]
        os.environ.update(self.env)
        sys.dont_write_bytecode = True
        sock = self._connect()
        self.judge = Channel(sock)
        hello = {
            "op": "hello",
            "version": protocol.PROTOCOL_VERSION,
            "token": self.config.get("token"),
            "pid": os.getpid(),
            "reaper_pid": os.getpid() if self.mode == "local" else 1,
        }
        self.judge.queue(hello)
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.sig_r = r
        signal.set_wakeup_fd(w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self._shutdown())
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.sel.register(r, selectors.EVENT_READ, ("sigchld",))
        self.sel.register(self.judge.sock, selectors.EVENT_READ, ("judge",))

    def _connect(self) -> socket.socket:
        where = self.config["connect"]
        if "fd" in where:
            return socket.socket(fileno=int(where["fd"]))
        address = "\0" + where["abstract"]
        deadline = time.monotonic() + float(where.get("wait_seconds", 20))
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(address)
                return sock
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise SystemExit("prep driver: the judge never listened")
                time.sleep(0.01)

    # ------------------------------------------------------------ the C build

    def _op_build(self, rid, message, fds) -> None:
        """Compile a C submission, once, before the first test (the judge asks): its own time budget."""
        if self.config.get("language") != "c":
            raise ValueError("only a C submission is compiled")
        if self.build is None:
            self.build = self._compile()
        self._reply(rid, ok={k: self.build[k] for k in ("status", "output", "duration_ms")})

    def _compile(self) -> dict:
        """gcc on every .c file, as the learner's uid, in a staging folder of the learner's; then the
        program is copied into the build folder, which the submission can run but not replace.

        status: "passed", "failed" (gcc said no, or the program could not be installed) or "timeout"."""
        seconds = float(self.config.get("build_seconds", 60))
        started = time.monotonic()
        staging = tempfile.mkdtemp(prefix=".build-", dir=self.scratch)
        staged = os.path.join(staging, "prog")
        sources = sorted(f for f in os.listdir(self.config["submission_dir"]) if f.endswith(".c"))
        cmd = ["gcc", *GCC_FLAGS, "-o", staged, *sources, *GCC_LIBS]
        try:
            with open(os.path.join(staging, "gcc.log"), "w+b") as log:
                status = self._run_gcc(cmd, log, seconds)
                output = _head(log, BUILD_OUTPUT_CAP)
            if status == "passed":
                try:
                    binary = self._install(staged)
                except OSError as exc:
                    status, binary = "failed", None
                    output += f"\nthe compiled program could not be installed: {exc.strerror or exc}"
            else:
                binary = None
        finally:
            self._kill_all()  # what gcc may have left (a cc1 of a stopped compile)
            shutil.rmtree(staging, ignore_errors=True)
        return {"status": status, "output": output, "binary": binary,
                "duration_ms": int((time.monotonic() - started) * 1000)}

    def _run_gcc(self, cmd: list[str], log, seconds: float) -> str:
        try:
            proc = subprocess.Popen(cmd, cwd=self.config["submission_dir"], env=self.env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log, preexec_fn=self._child_limits, start_new_session=True)
        except OSError as exc:
            log.write(f"gcc did not run: {exc}\n".encode())
            return "failed"
        try:
            return "passed" if proc.wait(timeout=seconds) == 0 else "failed"
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # gcc and its cc1, as, ld: one session of their own
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            return "timeout"

    def _install(self, staged: str) -> str:
        """Copy the compiled program into the build folder; its path.

        Under Docker that folder is a tmpfs of the driver's real uid: the copy is written with that
        file-system uid (setfsuid), mode 0755, so the submission's uid may run the program but can
        neither change, replace nor rename it for later tests. Under --sandbox local it is yours."""
        build_dir = self.config["build_dir"]
        target = os.path.join(build_dir, "prog")
        with open(os.open(staged, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as source:
            if not stat.S_ISREG(os.fstat(source.fileno()).st_mode):
                raise OSError(0, "gcc did not write a regular file")
            with _files_as(self.identity.driver_uid if self.identity is not None else None):
                os.makedirs(build_dir, mode=0o755, exist_ok=True)
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                with open(os.open(target, flags, 0o755), "wb") as out:
                    shutil.copyfileobj(source, out, READ_CHUNK)
                    os.fchmod(out.fileno(), 0o755)
        return target

    # ------------------------------------------------------------ the loop

    def run(self) -> None:
        self.start()
        while True:
            self.judge.flush()
            if self.judge.closed:
                break
            self._update_write_interest()
            for key, events in self.sel.select(timeout=1.0):
                kind = key.data[0]
                if kind == "judge":
                    if events & selectors.EVENT_WRITE:
                        self.judge.flush()
                    if events & selectors.EVENT_READ:
                        frames = self.judge.read()
                        if frames is None:
                            self._shutdown()
                        for message, fds in frames:
                            self._handle(message, fds)
                elif kind == "sigchld":
                    try:
                        os.read(self.sig_r, 4096)
                    except OSError:
                        pass
                    self._reap()
                elif kind == "worker":
                    self._from_worker(key.data[1], events)
                elif kind == "worker_out":
                    self._read_worker_output(key.data[1])
                elif kind in ("prog_out", "prog_err"):
                    self._read_program(key.data[1], kind)
                elif kind == "prog_in":
                    self._write_program(key.data[1])
        self._shutdown()

    def _update_write_interest(self) -> None:
        self._set_interest(self.judge.sock, ("judge",), bool(self.judge.out))
        w = self.worker
        if w and not w.channel.closed and w.channel.sock.fileno() >= 0:
            self._set_interest(w.channel.sock, ("worker", w), bool(w.channel.out))

    def _set_interest(self, sock, data, write: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        try:
            key = self.sel.get_key(sock)
        except KeyError:
            return
        if key.events != events:
            self.sel.modify(sock, events, key.data)

    def _shutdown(self) -> None:
        self._kill_all()
        os._exit(0)

    # ------------------------------------------------------------ judge requests

    def _reply(self, rid, ok=None, err: dict | None = None) -> None:
        if err is not None:
            self.judge.queue({"id": rid, "err": err})
        else:
            self.judge.queue({"id": rid, "ok": ok})

    def _handle(self, message: dict, fds: list[int]) -> None:
        rid = message.get("id")
        op = message.get("op")
        try:
            handler = getattr(self, f"_op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                for fd in fds:
                    _close(fd)
                self._reply(rid, err={"kind": "driver", "message": f"unknown op {op!r}"})
                return
            handler(rid, message, fds)
        except Exception as exc:  # a bad request from a hidden test, not the learner's fault
            for fd in fds:
                _close(fd)
            self._reply(rid, err={"kind": "driver", "message": f"{op}: {type(exc).__name__}: {exc}"})

    def _workdir(self) -> str:
        if self.current_workdir is None:
            # a random name: a name that counted tests would tell the submission which test is running
            path = os.path.join(self.scratch, "w" + secrets.token_hex(6))
            os.makedirs(path, mode=0o755, exist_ok=True)
            self.current_workdir = path
        return self.current_workdir

    def _op_worker(self, rid, message, fds) -> None:
        if self.config.get("language") == "c":
            self._reply(rid, err={"kind": "driver", "message": "a C exercise has no Python entry: use learner.spawn"})
            return
        w = self.worker
        if w is None:
            w = self._start_worker()
        if w.died is not None:
            self._reply(rid, err=w.died)
        elif w.import_error is not None:
            self._reply(rid, err=w.import_error)
        elif w.ready is not None:
            self._reply(rid, ok=w.ready)
        else:
            w.waiting.append(rid)

    def _worker_or_error(self, rid, fds) -> Worker | None:
        w = self.worker
        err = None
        if w is None or (w.ready is None and w.died is None and w.import_error is None):
            err = {"kind": "driver", "message": "the learner process is not started (call learner.pid first)"}
        elif w.import_error is not None:
            err = w.import_error
        elif w.died is not None:
            err = w.died
        if err is not None:
            for fd in fds:
                _close(fd)
            self._reply(rid, err=err)
            return None
        return w

    def _op_call(self, rid, message, fds) -> None:
        w = self._worker_or_error(rid, fds)
        if w is not None:
            w.inflight.add(rid)
            w.channel.queue(message, fds)  # the descriptors are closed here once sent
            w.channel.flush()

    _op_get = _op_call
    _op_exec = _op_call

    def _op_output(self, rid, message, fds) -> None:
        w = self.worker
        if w is not None:
            self._read_worker_output(w, drain=True)
        self._reply(rid, ok=(w.output.data.decode("utf-8", "replace") if w else ""))

    def _op_spawn(self, rid, message, fds) -> None:
        args = [str(a) for a in message.get("args", [])]
        if self.config.get("language") == "c":
            if self.build is None:  # the judge asks for the build before the first test
                raise ValueError("the C sources were not compiled before the test")
            if self.build["status"] != "passed":  # gcc's output is the run's message, said once
                self._reply(rid, err={"kind": "build", "message": "the C sources did not compile"})
                return
            argv = [self.build["binary"], *args]
        else:
            entry = os.path.join(self.config["submission_dir"], self.config["entry"])
            argv = [sys.executable, "-B", "-E", "-s", entry, *args]
        stdin = message.get("stdin")
        popen = subprocess.Popen(
            argv,
            cwd=self._workdir(),
            env=self.env,
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            preexec_fn=self._child_limits,
        )
        prog = Program(popen, self.output_cap, read_oom_kills())
        prog.args = args
        self.programs[prog.pid] = prog
        for stream, kind in ((popen.stdout, "prog_out"), (popen.stderr, "prog_err")):
            os.set_blocking(stream.fileno(), False)
            self.sel.register(stream.fileno(), selectors.EVENT_READ, (kind, prog))
        if popen.stdin is not None:
            os.set_blocking(popen.stdin.fileno(), False)
            if stdin != "pipe":
                prog.stdin_buf += base64.b64decode(stdin)
                prog.stdin_close = True
            self._write_program(prog)
        self._reply(rid, ok={"pid": prog.pid})

    def _op_proc_write(self, rid, message, fds) -> None:
        prog = self.programs.get(message.get("pid"))
        if prog is None or prog.popen.stdin is None:
            raise ValueError("no such program with a stdin pipe")
        prog.stdin_buf += base64.b64decode(message.get("data", ""))
        self._write_program(prog)
        self._reply(rid, ok=None)

    def _op_proc_close(self, rid, message, fds) -> None:
        prog = self.programs.get(message.get("pid"))
        if prog is None or prog.popen.stdin is None:
            raise ValueError("no such program with a stdin pipe")
        prog.stdin_close = True
        self._write_program(prog)
        self._reply(rid, ok=None)

    def _op_signal(self, rid, message, fds) -> None:
        pid, signum = int(message["pid"]), int(message["signum"])
        if pid not in self._learner_pids():
            raise ValueError(f"{pid} is not a learner process")
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
        self._reply(rid, ok=None)

    def _op_fds(self, rid, message, fds) -> None:
        pid = int(message["pid"])
        if pid not in self._learner_pids():
            raise ValueError(f"{pid} is not a learner process")
        result = {}
        base = f"/proc/{pid}/fd"
        for name in os.listdir(base):
            try:
                result[name] = os.readlink(f"{base}/{name}")
            except OSError:
                continue
        self._reply(rid, ok=result)

    def _resolve(self, path: str) -> str:
        return path if os.path.isabs(path) else os.path.join(self._workdir(), path)

    def _op_write_file(self, rid, message, fds) -> None:
        path = self._resolve(str(message["path"]))
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(message.get("data", "")))
        os.chmod(path, int(message.get("mode", 0o644)) & 0o777)
        self._reply(rid, ok=None)

    def _op_read_file(self, rid, message, fds) -> None:
        with open(self._resolve(str(message["path"])), "rb") as f:
            data = f.read(8 * 1024 * 1024)
        self._reply(rid, ok=base64.b64encode(data).decode("ascii"))

    def _op_cleanup(self, rid, message, fds) -> None:
        """End a test: kill every learner process, drop the worker, empty the writable folders.

        What the submission did cannot stop this: the killing needs no descriptor (kill(-1)
        under Docker), what is observed first is best effort, and the worker is dropped
        whatever happens, so the next test always gets a fresh process. When the learner's
        processes cannot be ended, the reply says so (`failed`) and the judge ends the
        session: every later test is the submission's error."""
        w = self.worker
        observed = self._observe_before_cleanup(w)
        failed = None
        try:
            leftovers = self._kill_all(observed.pop("leftovers_seen"))
        except Exception as exc:  # noqa: BLE001 - whatever it is, the processes were not all ended
            leftovers, failed = [], f"{type(exc).__name__}: {str(exc)[:200]}"
        if failed is None and self._learner_pids_or_none() != set():
            failed = "processes of the submission were still alive after 5 s of SIGKILL"
        output, truncated = "", False
        if w is not None:
            with contextlib.suppress(Exception):
                self._read_worker_output(w, drain=True)
            output = w.output.data.decode("utf-8", "replace")
            truncated = w.output.over
            self._drop_worker()
        oom_now = read_oom_kills()
        oom = oom_now > self.oom_at_test_start
        self.oom_at_test_start = oom_now
        pids_now = read_pids_max_hits()
        pids_hit = pids_now > self.pids_at_test_start or observed["at_nproc_limit"]
        self.pids_at_test_start = pids_now
        for prog in list(self.programs.values()):
            with contextlib.suppress(Exception):
                self._finish_program(prog, report=False)
        self.programs.clear()
        if self.program_errors:
            output = "\n".join(([output.rstrip("\n")] if output else []) + self.program_errors)
            self.program_errors = []
        self.current_workdir = None
        self.stop_signals.clear()
        self._wipe_learner_state()
        reply = {"output": output, "truncated": truncated, "leftovers": leftovers, "oom": oom,
                 "pids_limit_hit": pids_hit, "stopped": observed["stopped"]}
        if failed is not None:
            reply["failed"] = failed
        self._reply(rid, ok=reply)

    def _observe_before_cleanup(self, w: Worker | None) -> dict:
        """What only a look before the killing can tell (stopped processes, the process limit,
        processes left running): best effort, never in the way of the cleanup."""
        observed: dict = {"stopped": [], "at_nproc_limit": False, "leftovers_seen": []}
        with contextlib.suppress(Exception):
            if w is not None:
                self._read_worker_output(w, drain=True)
            self._reap()  # the latest stops and continues
            observed["stopped"] = self._stopped()
            observed["at_nproc_limit"] = self._at_nproc_limit()
            observed["leftovers_seen"] = self._leftover_names()
        return observed

    def _learner_pids_or_none(self) -> set[int] | None:
        try:
            return self._learner_pids()
        except OSError:
            return None

    def _wipe_learner_state(self) -> None:
        """Empty every place a test could leave something for the next: the scratch folder, /tmp,
        /dev/shm and POSIX message queues, and (under Docker) the SysV IPC objects of the learner's uid."""
        folders = [self.scratch, self.env["TMPDIR"]]
        if self.mode != "local":  # locally these are the machine's own, shared with everything else
            folders += ["/dev/shm", "/dev/mqueue"]
        for folder in folders:
            _empty_folder(folder)
        if self.mode != "local" and self.identity is not None:
            _remove_sysv_ipc(self.identity.uid)

    def _at_nproc_limit(self) -> bool:
        """Under --sandbox local (no pids cgroup to count refusals): whether forks fail right now,
        the user's tasks having reached RLIMIT_NPROC. A limit hit earlier in the test goes unseen."""
        nproc = self.config.get("local_nproc")
        if self.mode != "local" or not nproc:
            return False
        uid = os.getuid()
        tasks = 0
        for pid in _pids():
            if _real_uid(pid) == uid:
                try:
                    tasks += len(os.listdir(f"/proc/{pid}/task"))
                except OSError:
                    continue
        return tasks >= int(nproc)

    def _stopped(self) -> list[str]:
        """The learner processes that are stopped now, said for a learner: which, and by what signal when we know."""
        found = []
        for pid in sorted(self._learner_pids()):
            state_name = _state_and_name(pid)
            if state_name is None or state_name[0] not in "Tt":
                continue
            state, name = state_name
            if self.worker is not None and pid == self.worker.pid:
                what = f"the submission's process {pid}"
            elif pid in self.programs:
                what = f"program {pid} ({name})"
            else:
                what = f"its process {pid} ({name})"
            sig = self.stop_signals.get(pid)
            if sig is not None:
                found.append(f"{what} was stopped by {_signal_name(sig)}")
            elif state == "t":
                found.append(f"{what} was stopped by a tracer")
            else:
                found.append(f"{what} was stopped")
        return found

    # ------------------------------------------------------------ the worker

    def _child_limits(self) -> None:
        """In every child: the learner's uid, die with the driver; under --sandbox local, rlimits stand in for the cgroup."""
        if self.identity is not None:
            self.identity.become_learner()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if self.mode != "local":
            return
        import resource

        # RLIMIT_AS counts address space, not memory: thread stacks and malloc arenas
        # reserve far more than they use, so allow 4x (at least 1 GiB more) and keep
        # arenas few (MALLOC_ARENA_MAX in the environment). Docker's cgroup is exact.
        mb = int(self.limits.get("memory_mb", 256))
        space = max(mb * 4, mb + 1024) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (space, space))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        size = int(self.limits.get("scratch_mb", 64)) * 2**20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        cpu = int(self.limits.get("run_seconds", 60))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        nproc = self.config.get("local_nproc")
        if nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (int(nproc), int(nproc)))

    def _worker_config(self, fd: int, workdir: str) -> dict:
        """What the worker needs, and nothing of the driver's (no token, no address of the judge)."""
        return {"fd": fd, "submission_dir": self.config["submission_dir"], "entry": self.config["entry"],
                "workdir": workdir, "forbid": list(self.config.get("forbid") or [])}

    def _start_worker(self) -> Worker:
        from . import worker as worker_module

        workdir = self._workdir()
        parent_sock, child_sock = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        oom_before = read_oom_kills()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGCHLD, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                self._child_limits()
                prctl(PR_SET_DUMPABLE, 1)  # the driver reads its /proc/PID/fd
                keep = child_sock.fileno()
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.closerange(3, keep)
                os.closerange(keep + 1, 65536)
                os.chdir(workdir)
                os.set_inheritable(keep, True)
                os.execve(sys.executable, worker_module.command(self._worker_config(keep, workdir)), self.env)
            finally:
                os._exit(1)
        child_sock.close()
        os.close(out_w)
        w = Worker(pid, Channel(parent_sock, accept_fds=False), out_r, self.output_cap, oom_before)
        os.set_blocking(out_r, False)
        self.sel.register(parent_sock, selectors.EVENT_READ, ("worker", w))
        self.sel.register(out_r, selectors.EVENT_READ, ("worker_out", w))
        self.worker = w
        return w

    def _from_worker(self, w: Worker, events) -> None:
        if events & selectors.EVENT_WRITE:
            w.channel.flush()
        if not events & selectors.EVENT_READ:
            return
        try:
            frames = w.channel.read()
            for message, _fds in frames or []:  # descriptors from the worker were closed on arrival
                self._worker_frame(w, message)
        except Exception as exc:  # noqa: BLE001 - a malformed frame, whatever the way: the submission's
            self._kill_worker(w, None)
            w.died = {"kind": "died", "reason": "gone",
                      "message": f"the learner process broke the harness's protocol: {str(exc)[:200]}"}
            frames = None
        if frames is None:
            self._unregister(w.channel.sock)
            w.channel.closed = True

    def _worker_frame(self, w: Worker, message: dict) -> None:
        """One frame from the worker. The worker is the submission's process: what it says is data,
        and every error it reports is the submission's (`learner` or `import`), never the driver's."""
        if message.get("event") == "ready" and w.ready is None and w.import_error is None:
            if "err" in message:
                w.import_error = learner_error(message["err"], "import")
                for waiting in w.waiting:
                    self._reply(waiting, err=w.import_error)
            else:
                w.ready = {"pid": w.pid, "workdir": self.current_workdir or ""}
                for waiting in w.waiting:
                    self._reply(waiting, ok=w.ready)
            w.waiting.clear()
            return
        rid = message.get("id")
        if not isinstance(rid, int) or isinstance(rid, bool) or rid not in w.inflight:
            return
        w.inflight.discard(rid)
        if "err" in message:
            self.judge.queue({"id": rid, "err": learner_error(message["err"], "learner")})
        else:
            self.judge.queue({"id": rid, "ok": message.get("ok")})

    def _read_worker_output(self, w: Worker, drain: bool = False) -> None:
        while w.out_fd >= 0:
            try:
                chunk = os.read(w.out_fd, READ_CHUNK)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._unregister(w.out_fd)
                _close(w.out_fd)
                w.out_fd = -1
                return
            w.output.add(chunk)
            if w.output.over and w.died is None and w.kill_reason is None:
                self._kill_worker(w, "output-limit")
            if not drain:
                return

    def _kill_worker(self, w: Worker, reason: str | None) -> None:
        w.kill_reason = w.kill_reason or reason
        try:
            os.kill(w.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _drain_worker(self, w: Worker) -> None:
        """Handle what the worker sent just before it died (its import error, a last reply).

        Its SIGCHLD can be handled before its last frames are read: they are in the socket's buffer."""
        for _ in range(1000):  # bounded: a child of the worker may still hold its end open
            if w.channel.closed or w.channel.sock.fileno() < 0:
                return
            readable, _, _ = select.select([w.channel.sock], [], [], 0)
            if not readable:
                return
            self._from_worker(w, selectors.EVENT_READ)

    def _worker_died(self, w: Worker, status: int) -> None:
        self._drain_worker(w)
        self._read_worker_output(w, drain=True)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            rc = -sig
            if w.kill_reason == "output-limit":
                reason, text = "output-limit", f"the submission printed more than {self.output_cap // 1024} KB"
            elif sig == signal.SIGKILL and read_oom_kills() > w.oom_before:
                reason, text = "oom", f"the submission was killed for using more than {self.limits.get('memory_mb', 256)} MB"
            else:
                reason, text = "signal", f"the submission's process was killed by {_signal_name(sig)}"
        else:
            sig, rc = None, os.WEXITSTATUS(status)
            reason, text = "exit", f"the submission's process exited with status {rc}"
        died = {"kind": "died", "reason": reason, "message": text, "returncode": rc, "signal": sig}
        if w.ready is None and w.import_error is None:
            if reason == "exit":  # os._exit() while importing
                w.import_error = {"kind": "import", "type": "SystemExit", "message": f"{text} while being imported",
                                  "traceback": ""}
                err = w.import_error
            else:
                err = died
            for waiting in w.waiting:
                self._reply(waiting, err=err)
            w.waiting.clear()
        if w.died is None and w.import_error is None:
            w.died = died
        for rid in sorted(w.inflight):
            self._reply(rid, err=w.died or died)
        w.inflight.clear()

    def _drop_worker(self) -> None:
        w = self.worker
        if w is None:
            return
        self._unregister(w.channel.sock)
        w.channel.drop()
        if w.out_fd >= 0:
            self._unregister(w.out_fd)
            _close(w.out_fd)
        self.worker = None

    # ------------------------------------------------------------ programs

    def _read_program(self, prog: Program, kind: str) -> None:
        stream = prog.popen.stdout if kind == "prog_out" else prog.popen.stderr
        capture = prog.stdout if kind == "prog_out" else prog.stderr
        if stream is None or stream.closed:
            return
        try:
            chunk = os.read(stream.fileno(), READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._unregister(stream.fileno())
            stream.close()
            return
        capture.add(chunk)
        if capture.over and prog.kill_reason is None and prog.status is None:
            prog.kill_reason = "output-limit"
            try:
                os.kill(prog.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _write_program(self, prog: Program) -> None:
        stdin = prog.popen.stdin
        if stdin is None or stdin.closed:
            return
        while prog.stdin_buf:
            try:
                n = os.write(stdin.fileno(), prog.stdin_buf)
            except BlockingIOError:
                break
            except OSError:  # the program closed its stdin: drop the rest, as a pipe would
                prog.stdin_buf.clear()
                prog.stdin_close = True
                break
            del prog.stdin_buf[:n]
        want_write = bool(prog.stdin_buf)
        fd = stdin.fileno()
        if want_write:
            try:
                self.sel.get_key(fd)
            except KeyError:
                self.sel.register(fd, selectors.EVENT_WRITE, ("prog_in", prog))
        else:
            self._unregister(fd)
            if prog.stdin_close:
                stdin.close()

    def _finish_program(self, prog: Program, report: bool = True) -> None:
        for stream, kind in ((prog.popen.stdout, "prog_out"), (prog.popen.stderr, "prog_err")):
            while stream is not None and not stream.closed:
                self._read_program(prog, kind)
                if stream.closed:
                    break
                try:
                    chunk = os.read(stream.fileno(), READ_CHUNK)
                except BlockingIOError:
                    break  # a descendant still holds the pipe: keep what came so far
                except OSError:
                    chunk = b""
                if chunk:
                    (prog.stdout if kind == "prog_out" else prog.stderr).add(chunk)
                    continue
                break
            if stream is not None and not stream.closed:
                self._unregister(stream.fileno())
                stream.close()
        if prog.popen.stdin is not None and not prog.popen.stdin.closed:
            self._unregister(prog.popen.stdin.fileno())
            try:
                prog.popen.stdin.close()
            except OSError:
                pass
        if not report:
            return
        status = prog.status or 0
        event = {"event": "program_exit", "pid": prog.pid}
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            event.update(returncode=-sig, signal=sig)
            if prog.kill_reason == "output-limit":
                event.update(reason="output-limit", message=f"the program printed more than {self.output_cap // 1024} KB")
            elif sig == signal.SIGKILL and read_oom_kills() > prog.oom_before:
                event.update(reason="oom", message=f"the program was killed for using more than {self.limits.get('memory_mb', 256)} MB")
        else:
            event.update(returncode=os.WEXITSTATUS(status))
        if prog.stderr.data:
            name = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(prog.popen.args[-1 - len(prog.args):]))
            self.program_errors.append(f"--- stderr of `{name[:80]}` ---\n" + prog.stderr.data.decode("utf-8", "replace"))
        event["stdout"] = base64.b64encode(bytes(prog.stdout.data)).decode("ascii")
        event["stderr"] = base64.b64encode(bytes(prog.stderr.data)).decode("ascii")
        self.judge.queue(event)

    # ------------------------------------------------------------ processes

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG | os.WUNTRACED | os.WCONTINUED)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            if os.WIFSTOPPED(status):  # still there: remembered, so a test that times out can say why
                self.stop_signals[pid] = os.WSTOPSIG(status)
                continue
            if os.WIFCONTINUED(status):
                self.stop_signals.pop(pid, None)
                continue
            self.stop_signals.pop(pid, None)
            if self.worker is not None and pid == self.worker.pid:
                self._worker_died(self.worker, status)
            elif pid in self.programs:
                prog = self.programs.pop(pid)
                prog.status = status
                prog.popen.returncode = -1  # reaped here; keeps Popen from waiting on it
                self._finish_program(prog)

    def _learner_pids(self) -> set[int]:
        me = os.getpid()
        if self.mode != "local":
            # the real uid, from status: /proc/PID itself belongs to root once a process makes itself non-dumpable
            uid = self.identity.uid if self.identity is not None else os.getuid()
            return {pid for pid in _pids() if pid != me and _real_uid(pid) == uid}
        children = collections.defaultdict(list)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
                ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children[ppid].append(int(entry))
        found, todo = set(), list(children.get(me, []))
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo.extend(children.get(pid, []))
        return found

    def _live(self, pids: set[int]) -> set[int]:
        live = set()
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    stat = f.read()
                if stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z":
                    live.add(pid)
            except (OSError, ValueError):
                continue
        return live

    def _leftover_names(self) -> list[str]:
        """The learner processes running apart from the worker and the programs (daemons, orphans)."""
        known = {self.worker.pid} if self.worker else set()
        known |= set(self.programs)
        names = []
        for pid in sorted(self._live(self._learner_pids()) - known):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    names.append(f"{pid} {f.read().strip()}")
            except OSError:
                continue
        return names

    def _kill_all(self, leftovers: list[str] | None = None) -> list[str]:
        """Kill every learner process (the worker, programs, daemons); reap our children.

        Under Docker the first act is kill(-1, SIGKILL), which needs neither /proc nor a free
        descriptor. Returns `leftovers` (names seen before, by the caller), or looks them up first
        when not given (the C build's own cleanup)."""
        if leftovers is None:
            with contextlib.suppress(OSError):
                leftovers = self._leftover_names()
        deadline = time.monotonic() + 5.0
        while True:
            if self.mode == "local":
                for pid in self._learner_pids():
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
            else:
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._reap()
            # done when no learner process is left at all, zombies included: ours are reaped
            # above, orphans by pid 1 (Docker) or by us as subreaper (local); the next test
            # must not see a zombie of this one
            if not self._learner_pids() or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        self._reap()
        return leftovers or []

    def _unregister(self, fileobj) -> None:
        try:
            self.sel.unregister(fileobj)
        except (KeyError, ValueError):
            pass


def learner_error(err, kind: str) -> dict:
    """An error the worker reported, rebuilt from its plain fields as the submission's (`kind`:
    learner or import): whatever `kind` the worker claimed, it never becomes the driver's."""
    err = err if isinstance(err, dict) else {}
    mro = err.get("mro") if isinstance(err.get("mro"), list) else []

    def text(value, cap: int) -> str:
        return value[:cap] if isinstance(value, str) else ""

    return {"kind": kind, "type": text(err.get("type"), 100) or "Exception", "message": text(err.get("message"), 4000),
            "traceback": text(err.get("traceback"), 20000), "mro": [str(m)[:100] for m in mro[:50] if isinstance(m, str)]}


def _empty_folder(folder: str, depth: int = 0) -> None:
    """Remove everything in `folder` (not the folder itself), however the submission left it: a
    folder it made unreadable is given back its owner's rights first (its uid is ours)."""
    if depth > 64:
        return
    try:
        entries = list(os.scandir(folder))
    except PermissionError:
        try:
            os.chmod(folder, 0o700)
            entries = list(os.scandir(folder))
        except OSError:
            return
    except OSError:
        return
    if depth:  # a folder it made read-only cannot lose its entries otherwise
        with contextlib.suppress(OSError):
            os.chmod(folder, 0o700)
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                _empty_folder(entry.path, depth + 1)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue


IPC_RMID = 0


def _remove_sysv_ipc(uid: int) -> None:
    """Remove the SysV shared memory segments, semaphore sets and message queues of `uid`: they
    outlive every process, and a test could leave one for the next."""
    for kind, id_col, uid_col, remove in (
        ("shm", 1, 7, lambda i: _libc.shmctl(i, IPC_RMID, None)),
        ("sem", 1, 4, lambda i: _libc.semctl(i, 0, IPC_RMID)),
        ("msg", 1, 7, lambda i: _libc.msgctl(i, IPC_RMID, None)),
    ):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            try:
                if int(fields[uid_col]) == uid:
                    remove(int(fields[id_col]))
            except (IndexError, ValueError):
                continue


@contextlib.contextmanager
def _files_as(uid: int | None):
    """Create and check files as `uid` (the file-system uid; one of the process's own real, effective
    or saved uids, so no capability is needed), then go back. None: as now."""
    if uid is None:
        yield
        return
    previous = _libc.setfsuid(uid)
    try:
        if _libc.setfsuid(-1) != uid:  # setfsuid reports no error: an invalid uid returns the current one
            raise OSError(0, f"could not take file-system uid {uid}")
        yield
    finally:
        _libc.setfsuid(previous)


def _head(f, cap: int) -> str:
    """The first `cap` bytes of a file, as text, saying how much more there was."""
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    data = f.read(cap).decode("utf-8", "replace")
    return data if size <= cap else data + f"\n... ({size - cap} more bytes)"


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _state_and_name(pid: int) -> tuple[str, str] | None:
    """The state letter of /proc/PID/stat (T: stopped, t: stopped by a tracer, Z: zombie) and the command name."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("utf-8", "replace")
        return stat[stat.rindex(")") + 2], stat[stat.index("(") + 1 : stat.rindex(")")]
    except (OSError, ValueError, IndexError):
        return None


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def wipe_environ_block(name: str) -> None:
    """Zero `NAME=...` in the process's original environment block.

    /proc/PID/environ shows that block, and every worker forked later shares a
    copy of it: without this, the submission could read the driver's config.
    """
    environ = ctypes.POINTER(ctypes.c_char_p).in_dll(_libc, "environ")
    prefix = name.encode() + b"="
    i = 0
    while environ[i] is not None:
        value = environ[i]
        if value.startswith(prefix):
            address = ctypes.cast(environ, ctypes.POINTER(ctypes.c_void_p))[i]
            ctypes.memset(address, 0, len(value))
        i += 1


def main() -> None:
    raw = os.environ.get("PREP_DRIVER")
    if raw is None:
        raw = sys.stdin.readline()
    else:
        wipe_environ_block("PREP_DRIVER")  # before unsetenv drops the pointer to it
        os.environ.pop("PREP_DRIVER", None)
    config = json.loads(raw)
    if config.get("identity"):  # first of all: root only long enough to take the driver's identity
        Identity(config["identity"]).become_driver()
    elif os.geteuid() == 0:
        raise SystemExit("prep driver: refusing to run a submission as root")
    Driver(config).run()
