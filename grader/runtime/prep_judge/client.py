"""Judge side: the `learner` object a hidden test uses to drive the submission.

Everything here runs in the judge process. The submission runs in other
processes (another container under Docker); the only way to it is the
session's socket to the driver, and every value that comes back is plain JSON
decoded by `protocol.decode_learner_value`.
"""

from __future__ import annotations

import base64
import collections
import itertools
import os
import signal
import socket
import threading
import time
from typing import Any, NamedTuple

from . import protocol

DEFAULT_CALL_SECONDS = 10.0
CLEANUP_SECONDS = 15.0  # the driver's own kill loop gives up after 5 s


# Run in the learner's process by Learner.fork_returns_after_exit (the submission can read it).
_FORK_RETURNS_AFTER_EXIT = """
import os, time

def install(skip, seconds):
    real = os.fork
    left = [skip]

    def fork():
        pid = real()
        left[0] -= 1
        if pid > 0 and left[0] < 0:
            end = time.monotonic() + seconds
            zombie_since = None
            while time.monotonic() < end:
                try:
                    with open("/proc/%d/stat" % pid) as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    return pid  # reaped meanwhile
                if state == "Z":
                    zombie_since = zombie_since or time.monotonic()
                    if time.monotonic() - zombie_since > 0.05:
                        return pid
                time.sleep(0.002)
        return pid

    os.fork = fork
"""


# ---------------------------------------------------------------- errors


class LearnerError(Exception):
    """The submission's code raised an exception.

    `type` is the exception's class name, `mro` the names of its classes (so
    `err.is_a("OSError")` works for a FileNotFoundError), `message` its text,
    `traceback` the submission's own frames.
    """

    def __init__(self, type_name: str, message: str, traceback: str = "", mro=(), what: str = "") -> None:
        self.type = type_name
        self.message = message
        self.traceback = traceback
        self.mro = tuple(mro) or (type_name,)
        self.what = what
        super().__init__(f"{what} raised {type_name}: {message}" if what else f"{type_name}: {message}")

    def is_a(self, name: str) -> bool:
        """True when the exception is an instance of a class of that name."""
        return name in self.mro


class LearnerImportError(LearnerError):
    """The entry module could not be imported (syntax error, exception at import, exit at import)."""


class LearnerBuildError(LearnerError):
    """The C sources did not compile."""


class LearnerTimeout(Exception):
    """A call or a program did not finish within its timeout."""


class LearnerDied(Exception):
    """The submission's process ended during a call.

    `reason` is one of: "exit" (it exited, `returncode` says with what),
    "signal" (killed by `signal`), "oom" (killed for exceeding the memory limit),
    "output-limit" (killed for printing more than the cap), "gone" (the learner
    side of the sandbox stopped answering).
    """

    def __init__(self, reason: str, message: str, returncode: int | None = None, signal: int | None = None) -> None:
        self.reason = reason
        self.returncode = returncode
        self.signal = signal
        super().__init__(message)


class HarnessError(Exception):
    """The harness was used wrongly or the driver refused a request (a bug in the hidden test or the grader)."""


# ---------------------------------------------------------------- values


class Completed(NamedTuple):
    """A finished program: returncode (negative: killed by that signal), stdout and stderr as bytes."""

    returncode: int
    stdout: bytes
    stderr: bytes


class ProcessInfo(NamedTuple):
    """One learner process as /proc shows it. `state` is the letter of /proc/PID/stat (Z: zombie)."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    name: str


class ThreadInfo(NamedTuple):
    """One thread of a learner process, read from /proc/PID/task/TID/stat by the judge.

    `state` is the kernel's letter (R running, S sleeping, D disk sleep, T stopped, Z zombie);
    `cpu_ticks` the thread's user plus system time in clock ticks (os.sysconf("SC_CLK_TCK") a second)."""

    tid: int
    state: str
    name: str
    cpu_ticks: int


_record_types: dict[tuple[str, tuple[str, ...]], type] = {}


def _make_record(name: str, fields: list[str], values: list):
    key = (name, tuple(fields))
    cls = _record_types.get(key)
    if cls is None:
        try:
            cls = collections.namedtuple(name, fields)
        except (ValueError, TypeError):
            return dict(zip(fields, values))
        _record_types[key] = cls
    return cls(*values)


waiting_on: str | None = None  # what the judge is waiting for: named in a test's timeout message


class _Future:
    def __init__(self, what: str) -> None:
        self.what = what
        self._event = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None

    def set(self, value=None, error: BaseException | None = None) -> None:
        if not self._event.is_set():
            self._value, self._error = value, error
            self._event.set()

    def done(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None):
        global waiting_on
        waiting_on = self.what
        try:
            finished = self._event.wait(timeout)
        finally:
            waiting_on = None
        if not finished:
            raise LearnerTimeout(f"{self.what} did not return within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self._value


# ---------------------------------------------------------------- session


class Session:
    """The judge's one connection to the driver, shared by all tests of a run."""

    def __init__(self, sock: socket.socket, config: dict) -> None:
        self.config = config
        self.channel = protocol.BlockingChannel(sock, accept_fds=False)  # the driver never sends one
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._futures: dict[int, _Future] = {}
        self._programs: dict[int, _Future] = {}
        self._closed_reason: str | None = None
        self.hello: dict = {}
        self._reader = threading.Thread(target=self._read_loop, name="prep-judge-reader", daemon=True)

    # -- setup

    def handshake(self, timeout: float) -> dict:
        self.channel.sock.settimeout(timeout)
        frame = self.channel.recv()
        self.channel.sock.settimeout(None)
        if frame is None:
            raise HarnessError("the driver closed the connection before saying hello")
        message, fds = frame
        for fd in fds:
            os.close(fd)
        if message.get("op") != "hello" or message.get("token") != self.config.get("token"):
            raise HarnessError("the first message on the judge socket is not the driver's hello")
        if message.get("version") != protocol.PROTOCOL_VERSION:
            raise HarnessError(f"driver speaks protocol {message.get('version')}, judge {protocol.PROTOCOL_VERSION}")
        self.hello = message
        self._reader.start()
        return message

    @property
    def driver_pid(self) -> int:
        return int(self.hello.get("pid", 0))

    # -- requests

    def request(self, op: str, what: str, fds=(), **fields) -> _Future:
        future = _Future(what)
        with self._lock:
            if self._closed_reason is not None:
                future.set(error=LearnerDied("gone", self._closed_reason))
                return future
            rid = next(self._ids)
            self._futures[rid] = future
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})  # never half a frame
        try:
            self.channel.send({"id": rid, "op": op, **fields}, fds)
        except OSError as exc:
            with self._lock:
                self._futures.pop(rid, None)
            future.set(error=LearnerDied("gone", f"the learner side of the sandbox is gone ({exc.strerror})"))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return future

    def ask(self, op: str, what: str, timeout: float | None = DEFAULT_CALL_SECONDS, **fields):
        return self.request(op, what, **fields).wait(timeout)

    def program_future(self, pid: int) -> _Future:
        with self._lock:
            future = self._programs.get(pid)
            if future is None:
                future = self._programs[pid] = _Future(f"program {pid}")
                if self._closed_reason is not None:
                    future.set(error=LearnerDied("gone", self._closed_reason))
            return future

    # -- the reader thread

    def _read_loop(self) -> None:
        reason = "the learner side of the sandbox stopped answering (its driver was killed or exited)"
        try:
            while True:
                frame = self.channel.recv()
                if frame is None:
                    break
                message, _fds = frame  # none: the channel closes any on arrival
                self._dispatch(message)
        except Exception as exc:  # noqa: BLE001 - whatever broke the stream, every waiter hears of it
            reason = f"the connection to the learner side broke: {type(exc).__name__}: {str(exc)[:200]}"
        self.abandon(reason)

    def abandon(self, reason: str) -> None:
        """Give up on the driver: every pending and later request fails at once with `reason`.

        Without this, each remaining test would wait out its own time limit on a driver that
        will never answer, and the run would end on its whole-run limit instead."""
        with self._lock:
            if self._closed_reason is None:
                self._closed_reason = reason
            reason = self._closed_reason
            pending = list(self._futures.values()) + list(self._programs.values())
            self._futures.clear()
        for future in pending:
            future.set(error=LearnerDied("gone", reason))

    def resume_driver(self) -> bool:
        """Under --sandbox local the submission can stop its driver (same user): continue it.

        True when it was stopped. Under Docker the driver has another real uid: the submission
        cannot stop it, and the judge (a third uid) could not continue it."""
        pid = self.driver_pid
        if self.config.get("mode") != "local" or pid <= 0 or self._closed_reason is not None:
            return False
        info = _read_process(pid)
        if info is None or info.state != "T":
            return False
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            return False
        return True

    def _dispatch(self, message: dict) -> None:
        if "id" in message:
            with self._lock:
                future = self._futures.pop(message["id"], None)
            if future is None:
                return
            if "err" in message:
                future.set(error=_error_from(message["err"], future.what))
            else:
                future.set(message.get("ok"))
        elif message.get("event") == "program_exit":
            pid = message.get("pid")
            if isinstance(pid, int):
                self.program_future(pid).set(message)

    @property
    def broken(self) -> str | None:
        return self._closed_reason


def _error_from(err: Any, what: str) -> BaseException:
    if not isinstance(err, dict):
        return HarnessError(f"malformed error from the driver: {str(err)[:200]}")
    kind = err.get("kind")
    text = str(err.get("message", ""))[:4000]
    if kind == "learner":
        mro = [str(n) for n in err.get("mro", [])][:50] if isinstance(err.get("mro"), list) else []
        return LearnerError(str(err.get("type", "Exception"))[:100], text, str(err.get("traceback", ""))[:20000], mro, what)
    if kind == "import":
        return LearnerImportError(str(err.get("type", "ImportError"))[:100], text, str(err.get("traceback", ""))[:20000], what="importing the submission")
    if kind == "build":
        return LearnerBuildError("CompileError", text, str(err.get("traceback", ""))[:20000], what="compiling the submission")
    if kind == "died":
        reason = err.get("reason") if err.get("reason") in ("exit", "signal", "oom", "output-limit", "gone") else "gone"
        rc = err.get("returncode") if isinstance(err.get("returncode"), int) else None
        sig = err.get("signal") if isinstance(err.get("signal"), int) else None
        return LearnerDied(reason, f"{text} (during {what})", rc, sig)
    return HarnessError(f"{what}: {text}")


# ---------------------------------------------------------------- the objects tests use


def _encode_args(args, kwargs) -> tuple[list, dict, list[int]]:
    fds: list[int] = []

    def enc(value, depth=0):
        if depth > 50:
            raise HarnessError("argument nested too deeply")
        if isinstance(value, Remote):
            return {"$ref": value.ref}
        if isinstance(value, socket.socket):
            fds.append(value.fileno())
            return {"$fd": len(fds) - 1}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if value == value and value not in (float("inf"), float("-inf")) else {"$float": repr(value)}
        if isinstance(value, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
        if isinstance(value, tuple):
            return {"$tuple": [enc(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return [enc(v, depth + 1) for v in value]
        if isinstance(value, (set, frozenset)):
            return {"$set": [enc(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: enc(v, depth + 1) for k, v in value.items()}
            return {"$dict": [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in value.items()]}
        raise HarnessError(
            f"cannot send a {type(value).__name__} to the learner: use JSON values, bytes, tuples, sockets or Remote objects"
        )

    encoded_args = [enc(a) for a in args]
    encoded_kwargs = {str(k): enc(v) for k, v in kwargs.items()}
    if len(fds) > protocol.MAX_FDS:
        raise HarnessError(f"at most {protocol.MAX_FDS} sockets per call")
    return encoded_args, encoded_kwargs, fds


def _describe(name: str) -> str:
    return f"{name}()"


class Pending:
    """A call running in the background in the learner's process. `result()` waits for it."""

    def __init__(self, learner: "Learner", future: _Future) -> None:
        self._learner = learner
        self._future = future

    def done(self) -> bool:
        """True once the call has returned or raised (never blocks)."""
        return self._future.done()

    def result(self, timeout: float | None = None):
        """The call's value; raises LearnerError if it raised, LearnerTimeout after `timeout` seconds
        (default: the rest of the test's time)."""
        raw = self._future.wait(self._learner._timeout(timeout))
        return self._learner._decode(raw)


class Remote:
    """An object that lives in the learner's process (anything that is not a plain value).

    `remote.call("method", *args)` calls one of its methods, `remote.start(...)` in
    the background, `remote.get("attr")` reads an attribute. Pass it back as an
    argument and the learner's side gets the object itself.
    """

    def __init__(self, learner: "Learner", ref: int, type_name: str, shown: str) -> None:
        self._learner = learner
        self.ref = ref
        self.type_name = type_name
        self.repr = shown

    def call(self, method: str, *args, **kwargs):
        return self._learner._call(self.ref, method, args, kwargs, thread="main").result()

    def start(self, method: str, *args, **kwargs) -> Pending:
        return self._learner._call(self.ref, method, args, kwargs, thread="new")

    def start_main(self, method: str, *args, **kwargs) -> Pending:
        return self._learner._call(self.ref, method, args, kwargs, thread="main")

    def get(self, attribute: str):
        return self._learner._get(self.ref, attribute)

    def __repr__(self) -> str:
        return f"<Remote {self.type_name} #{self.ref}>"


class Program:
    """A program started with `learner.spawn`: the entry file run as a script (or the compiled binary)."""

    def __init__(self, learner: "Learner", pid: int, argv: list[str]) -> None:
        self._learner = learner
        self.pid = pid
        self.argv = argv

    def write(self, data: bytes) -> None:
        """Write to the program's stdin (spawned with stdin=PIPE)."""
        self._learner._ask("proc_write", f"writing to program {self.pid}", pid=self.pid,
                           data=base64.b64encode(bytes(data)).decode("ascii"))

    def close_stdin(self) -> None:
        self._learner._ask("proc_close", f"closing stdin of program {self.pid}", pid=self.pid)

    def signal(self, signum: int) -> None:
        self._learner.signal(self.pid, signum)

    def done(self) -> bool:
        return self._learner._session.program_future(self.pid).done()

    def wait(self, timeout: float | None = None) -> Completed:
        """Wait until the program exits; its Completed (returncode < 0: killed by that signal).
        Raises LearnerTimeout, or LearnerDied when it was killed for memory or output."""
        future = self._learner._session.program_future(self.pid)
        try:
            event = future.wait(self._learner._timeout(timeout))
        except LearnerTimeout:
            raise LearnerTimeout(f"the program {' '.join(self.argv)[:100]!r} did not exit within "
                                 f"{self._learner._timeout(timeout):g} s") from None
        reason = event.get("reason")
        if reason in ("oom", "output-limit"):
            raise LearnerDied(reason, str(event.get("message", reason)), event.get("returncode"), event.get("signal"))
        return Completed(
            int(event.get("returncode", 0)),
            base64.b64decode(event.get("stdout", "")),
            base64.b64decode(event.get("stderr", "")),
        )


PIPE = "pipe"


class Learner:
    """The submission, as seen from a hidden test (the `learner` fixture).

    Each test gets a fresh learner process that imports the entry module on
    first use; every process the submission started is killed when the test ends.
    """

    PIPE = PIPE

    def __init__(self, session: Session, deadline: float | None = None) -> None:
        self._session = session
        self._deadline = deadline
        self._worker: dict | None = None
        self._closed = False
        config = session.config
        self.mode: str = config.get("mode", "docker")
        self.driver_pid: int = session.driver_pid
        #: the pid that adopts orphans (a daemon's parent): 1 in Docker, the driver under --sandbox local
        self.reaper_pid: int = int(session.hello.get("reaper_pid", 1))
        self.workdir: str = ""

    # -- time

    def _timeout(self, timeout: float | None) -> float:
        if timeout is not None:
            return float(timeout)
        if self._deadline is not None:
            return max(0.05, self._deadline - time.monotonic() + 1.0)
        return DEFAULT_CALL_SECONDS

    # -- plumbing

    def _ask(self, op: str, what: str, timeout: float | None = None, **fields):
        return self._session.request(op, what, **fields).wait(self._timeout(timeout))

    def _ensure_worker(self) -> dict:
        if self._worker is None:
            self._worker = self._ask("worker", "starting the submission") or {}
            self.workdir = str(self._worker.get("workdir", ""))
        return self._worker

    def _decode(self, raw):
        """A value from the submission's process, as plain Python values. A value the judge cannot
        read (bad tags, nested too deep) is the submission's error, like an exception it raised."""
        try:
            return protocol.decode_learner_value(raw, lambda ref, t, r: Remote(self, ref, t, r), _make_record)
        except (protocol.ProtocolError, RecursionError, ValueError, TypeError) as exc:
            raise LearnerError("ProtocolError", f"the submission's process sent a value the judge cannot read: "
                               f"{str(exc)[:200]}", what="the call") from None

    def _call(self, target, name, args, kwargs, thread) -> Pending:
        if not isinstance(name, str) or not name:
            raise HarnessError("the name of the function to call must be a non-empty string")
        self._ensure_worker()
        enc_args, enc_kwargs, fds = _encode_args(args, kwargs)
        future = self._session.request(
            "call", _describe(name), fds=fds, target=target, name=name, args=enc_args, kwargs=enc_kwargs, thread=thread
        )
        return Pending(self, future)

    def _get(self, target, name):
        self._ensure_worker()
        return self._decode(self._ask("get", f"reading {name}", target=target, name=name))

    # -- calling the submission

    def call(self, name: str, *args, **kwargs):
        """Call the entry module's function `name` in the learner's main thread; its return value."""
        return self._call(None, name, args, kwargs, thread="main").result()

    def start(self, name: str, *args, **kwargs) -> Pending:
        """Call `name` in a new thread of the learner's process; `.result(timeout)` later."""
        return self._call(None, name, args, kwargs, thread="new")

    def start_main(self, name: str, *args, **kwargs) -> Pending:
        """Call `name` in the learner's main thread without waiting (signal handlers work there);
        `.result(timeout)` later. Calls made meanwhile wait their turn behind it."""
        return self._call(None, name, args, kwargs, thread="main")

    def get(self, name: str):
        """An attribute of the entry module (a value, or a Remote for a function or class)."""
        return self._get(None, name)

    def exec(self, source: str) -> Remote:
        """Run helper code in the learner's process, in a fresh namespace; a Remote of it.

        The submission can read this code: never put expected values in it."""
        self._ensure_worker()
        return self._decode(self._ask("exec", "running helper code", source=str(source)))

    def fork_returns_after_exit(self, skip: int = 0, seconds: float = 3.0) -> None:
        """Wrap `os.fork` in the learner's process: after its first `skip` calls, each call returns in the
        parent only once the child has exited (a zombie for 50 ms, or already reaped), or `seconds` passed.

        Forces the interleaving of a child that exits before the parent has its pid (a SIGCHLD handler that
        runs before the pid is recorded, a command gone before its stdin is written). A handler the submission
        installed runs inside the wrapper: its sleep is interrupted by the SIGCHLD."""
        self.exec(_FORK_RETURNS_AFTER_EXIT).call("install", int(skip), float(seconds))

    @property
    def pid(self) -> int:
        """The pid of the learner process that runs calls (started on first use)."""
        return int(self._ensure_worker().get("pid", 0))

    def output(self) -> str:
        """What the learner process printed so far in this test (stdout and stderr, capped)."""
        return str(self._ask("output", "reading the output"))

    # -- programs

    def spawn(self, args=(), stdin: bytes | str | None = b"") -> Program:
        """Run the entry file as a program (`python3 entry.py *args`, or the compiled binary).

        stdin: bytes to feed then close, None for /dev/null, or learner.PIPE to write later."""
        argv = [str(a) for a in args]
        if stdin is None or stdin == PIPE:
            stdin_field: Any = stdin
        else:
            stdin_field = base64.b64encode(bytes(stdin)).decode("ascii")
        reply = self._ask("spawn", "starting the program", args=argv, stdin=stdin_field)
        return Program(self, int(reply["pid"]), argv)

    def run_program(self, args=(), stdin: bytes | None = b"", timeout: float | None = None) -> Completed:
        """spawn() then wait(): returncode, stdout and stderr."""
        return self.spawn(args, stdin).wait(timeout)

    # -- the processes of the submission

    def processes(self) -> list[ProcessInfo]:
        """Every live learner process (including zombies), read from /proc by the judge."""
        return list_learner_processes(self._session.config, self.driver_pid)

    def zombies(self) -> list[ProcessInfo]:
        """The learner processes in state Z (exited, not reaped by their parent)."""
        return [p for p in self.processes() if p.state == "Z"]

    def threads(self, pid: int | None = None) -> list[ThreadInfo]:
        """The threads of a learner process (default: the one that runs calls), read from /proc by the
        judge: what the kernel says, which the submission cannot dress up. [] once it has ended."""
        return read_threads(self.pid if pid is None else int(pid))

    def cpu_ticks(self, pid: int | None = None) -> int:
        """User plus system CPU time of a learner process, all its threads, in clock ticks (from /proc)."""
        return sum(t.cpu_ticks for t in self.threads(pid))

    def fds(self, pid: int) -> dict[int, str]:
        """The open descriptors of a learner process: {fd: what /proc/PID/fd/FD points to}."""
        raw = self._ask("fds", f"listing the descriptors of {pid}", pid=int(pid))
        return {int(k): str(v) for k, v in raw.items()}

    def signal(self, pid: int, signum: int) -> None:
        """Send a signal to a learner process (the judge itself may not)."""
        self._ask("signal", f"signalling {pid}", pid=int(pid), signum=int(signum))

    # -- files in the learner's scratch folder

    def write_file(self, path: str, data: bytes | str, mode: int = 0o644) -> None:
        """Create a file in the learner's scratch folder (relative paths are under `workdir`)."""
        self._ensure_worker()
        payload = data.encode() if isinstance(data, str) else bytes(data)
        self._ask("write_file", f"writing {path}", path=str(path), data=base64.b64encode(payload).decode("ascii"), mode=int(mode))

    def read_file(self, path: str) -> bytes:
        """Read a file of the learner's filesystem (relative paths are under `workdir`)."""
        self._ensure_worker()
        return base64.b64decode(self._ask("read_file", f"reading {path}", path=str(path)))

    # -- end of test (called by the fixture)

    def _cleanup(self) -> dict:
        if self._closed:
            return {}
        self._closed = True
        future = self._session.request("cleanup", "cleaning up")
        driver_stopped = False
        # locally, look every 0.1 s for a driver the submission stopped (it may stop it again)
        step = 0.1 if self.mode == "local" else CLEANUP_SECONDS
        deadline = time.monotonic() + CLEANUP_SECONDS
        while True:
            driver_stopped = self._session.resume_driver() or driver_stopped
            try:
                done = future.wait(max(0.01, min(step, deadline - time.monotonic()))) or {}
                break
            except LearnerTimeout:
                if time.monotonic() >= deadline:
                    self._session.abandon(
                        f"the learner side of the sandbox stopped answering (it did not clean up within {CLEANUP_SECONDS:g} s)")
                    return {"driver_stopped": driver_stopped}
        if done.get("failed"):  # a fresh process for the next test cannot be promised: no next test
            self._session.abandon(f"the submission's processes could not be ended after a test ({str(done['failed'])[:200]})")
        return {**done, "driver_stopped": driver_stopped} if driver_stopped else done


def list_learner_processes(config: dict, driver_pid: int) -> list[ProcessInfo]:
    """Learner processes from /proc: uid `learner_uid` under Docker, descendants of the driver locally."""
    infos: dict[int, ProcessInfo] = {}
    uids: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            with open(f"/proc/{pid}/status", "rb") as f:
                status = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        info = _parse_stat(pid, stat)
        if info is None:
            continue
        infos[pid] = info
        for line in status.splitlines():
            if line.startswith("Uid:"):
                uids[pid] = int(line.split()[1])
                break
    if config.get("mode") == "docker":
        learner_uid = int(config.get("learner_uid", 1001))
        return sorted((i for p, i in infos.items() if uids.get(p) == learner_uid and p != driver_pid), key=lambda i: i.pid)
    children: dict[int, list[int]] = collections.defaultdict(list)
    for info in infos.values():
        children[info.ppid].append(info.pid)
    found, todo = [], list(children.get(driver_pid, []))
    while todo:
        pid = todo.pop()
        found.append(infos[pid])
        todo.extend(children.get(pid, []))
    return sorted(found, key=lambda i: i.pid)


def read_threads(pid: int) -> list[ThreadInfo]:
    """Every thread of `pid` from /proc/PID/task (the judge shares the learner's pid namespace)."""
    found = []
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task") if t.isdigit())
    except OSError:
        return []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
            rest = stat[stat.rindex(")") + 2 :].split()
            found.append(ThreadInfo(tid, rest[0], stat[stat.index("(") + 1 : stat.rindex(")")],
                                    int(rest[11]) + int(rest[12])))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _read_process(pid: int) -> ProcessInfo | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return _parse_stat(pid, f.read().decode("utf-8", "replace"))
    except OSError:
        return None


def _parse_stat(pid: int, stat: str) -> ProcessInfo | None:
    try:
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()
        return ProcessInfo(pid, int(rest[1]), int(rest[2]), int(rest[3]), rest[0], name)
    except (ValueError, IndexError):
        return None
