"""Learner side: the process that imports the submission and runs the calls.

The driver forks it once per test and the child execs a fresh interpreter
(`command`), so nothing the driver imported (subprocess, ctypes) is loaded
here unless the submission imports it. `main` installs the exercise's rule
(an audit hook that refuses the modules and calls the statement forbids), then
imports the entry module, says `ready`, and runs calls: in its main thread for
`call` (so the submission may install signal handlers), in a new thread for
`start`. One module is loaded before the submission: `resource`, see
`main`. Anything in this process is the submission's to tamper with; the
judge trusts nothing it says beyond plain JSON values, and every error it
reports is the submission's. The audit hook is advisory: the rule that decides
is checked on the host, on the stored source.
"""

from __future__ import annotations

import importlib.util
import json
import os
import queue
import signal
import socket
import stat
import sys
import threading
import traceback
import types

from . import protocol

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
# forbidden dotted names -> the audit events that give them away
AUDIT_EVENTS = {
    "subprocess": ("subprocess.Popen",),
    "os.system": ("os.system",),
    "os.popen": ("subprocess.Popen",),
    "os.posix_spawn": ("os.posix_spawn",),
    "os.posix_spawnp": ("os.posix_spawn",),
    "ctypes": ("ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof"),
}


def command(config: dict) -> list[str]:
    """The argv of a fresh worker interpreter (-I: no environment, no user site, no cwd on the path)."""
    boot = (f"import sys; sys.path.insert(0, {os.path.dirname(RUNTIME_DIR)!r}); "
            "from prep_judge.worker import main; main(sys.argv[1])")
    return [sys.executable, "-I", "-B", "-c", boot, json.dumps(config)]


def main(raw: str) -> None:
    config = json.loads(raw)
    # os.wait3 and os.wait4 import `resource` on their first call. Made from a SIGCHLD handler while
    # more SIGCHLDs arrive, that import can be entered again by a nested handler, and Python 3.11's
    # import lock bookkeeping (importlib._bootstrap._blocking_on, one entry per thread) then raises
    # KeyError(thread id) out of correct code, or deadlocks. Loaded here, it is never imported there.
    import resource  # noqa: F401
    sys.argv = [os.path.join(config["submission_dir"], config["entry"])]
    sys.dont_write_bytecode = True
    if config.get("forbid"):
        forbid(config["forbid"])
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    fd = int(config["fd"])
    os.set_inheritable(fd, False)  # inherited across the exec only: the submission's children must not get it
    try:
        serve(socket.socket(fileno=fd), config, config["workdir"])
    finally:
        os._exit(1)


def forbid(names: list[str]) -> None:
    """Refuse, in this process, the modules and calls the statement forbids (an audit hook: it
    cannot be removed, and this interpreter has loaded none of them yet)."""
    modules = tuple(n for n in names if "." not in n)
    events = {event: name for name in names for event in AUDIT_EVENTS.get(name, ())}

    def refuse(what: str) -> None:
        raise RuntimeError(f"{what} is not allowed in this exercise: its statement forbids it")

    def hook(event: str, args: tuple) -> None:
        if event == "import" and args and isinstance(args[0], str):
            name = args[0]
            if name in modules or name.startswith(tuple(m + "." for m in modules)):
                refuse(f"importing {name}")
        elif event in events:
            refuse(events[event])

    sys.addaudithook(hook)


class _Objects:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[int, object] = {}
        self._next = 1

    def keep(self, obj) -> int:
        with self._lock:
            ref = self._next
            self._next += 1
            self._by_id[ref] = obj
            return ref

    def get(self, ref: int):
        with self._lock:
            if ref not in self._by_id:
                raise LookupError(f"no learner object #{ref}")
            return self._by_id[ref]


def _learner_traceback(exc: BaseException) -> str:
    frames = [
        f for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(RUNTIME_DIR) and not f.filename.startswith("<frozen")
    ]
    lines = traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(["Traceback (most recent call last):\n"] + lines if frames else lines)


def _exception_info(exc: BaseException, kind: str = "learner") -> dict:
    try:
        message = str(exc)
    except Exception:
        message = "<the exception's str() raised>"
    return {
        "kind": kind,
        "type": type(exc).__name__,
        "mro": [c.__name__ for c in type(exc).__mro__],
        "message": message[:4000],
        "traceback": _learner_traceback(exc)[-20000:],
    }


def _wrap_fd(fd: int):
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return fd
    if stat.S_ISSOCK(mode):
        return socket.socket(fileno=fd)
    return fd


def serve(sock: socket.socket, config: dict, workdir: str) -> None:
    """Import the entry module and answer calls until the driver kills this process."""
    channel = protocol.BlockingChannel(sock)
    objects = _Objects()
    encoder = protocol.Encoder(objects.keep)

    sys.path.insert(0, config["submission_dir"])
    entry = config["entry"]
    name = os.path.splitext(os.path.basename(entry))[0]
    module = None
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(config["submission_dir"], entry))
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {entry}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # SyntaxError, SystemExit at import, anything
        channel.send({"event": "ready", "pid": os.getpid(), "workdir": workdir, "err": _exception_info(exc, "import")})
        _flush()
        os._exit(0)

    channel.send({"event": "ready", "pid": os.getpid(), "workdir": workdir})
    main_jobs: queue.Queue = queue.Queue()

    def answer(rid, fn) -> None:
        try:
            value = fn()
        except BaseException as exc:
            reply = {"id": rid, "err": _exception_info(exc)}
        else:
            try:
                reply = {"id": rid, "ok": encoder.encode(value)}
                protocol.encode_frame(reply)  # too large or not encodable: say so now
            except Exception as exc:
                reply = {"id": rid, "err": {**_exception_info(exc), "message": f"the return value cannot be sent: {exc}"}}
        _flush()
        try:
            channel.send(reply)
        except OSError:
            os._exit(0)

    main_mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])

    def answer_in_thread(rid, fn) -> None:
        signal.pthread_sigmask(signal.SIG_SETMASK, main_mask)  # as if the submission had started it
        answer(rid, fn)

    def decode(value, fds):
        return protocol.decode_learner_value(value, lambda ref, _t, _r: objects.get(ref), _record_tuple, fds)

    def reader() -> None:
        # Harness-only thread: signals go to the submission's threads (and Python runs
        # handlers in the main thread anyway). Jobs it starts restore the main thread's mask.
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while True:
            try:
                frame = channel.recv()
            except (OSError, protocol.ProtocolError):
                frame = None
            if frame is None:
                os._exit(0)
            message, fds = frame
            fds = [_wrap_fd(fd) for fd in fds]
            rid = message.get("id")
            op = message.get("op")
            try:
                target = module if message.get("target") is None else objects.get(message["target"])
                if op == "call":
                    args = decode(message.get("args", []), fds)
                    kwargs = decode(message.get("kwargs", {}), fds)
                    fn = getattr(target, message["name"])
                    job = lambda fn=fn, args=args, kwargs=kwargs: fn(*args, **kwargs)  # noqa: E731
                    if message.get("thread") == "new":
                        threading.Thread(target=answer_in_thread, args=(rid, job), daemon=True).start()
                    else:
                        main_jobs.put((rid, job))
                elif op == "get":
                    main_jobs.put((rid, lambda t=target, n=message["name"]: getattr(t, n)))
                elif op == "exec":
                    main_jobs.put((rid, lambda src=message["source"]: _exec_helpers(src)))
                else:
                    channel.send({"id": rid, "err": {"kind": "driver", "message": f"unknown worker op {op!r}"}})
            except BaseException as exc:
                channel.send({"id": rid, "err": _exception_info(exc)})

    threading.Thread(target=reader, name="prep-worker-reader", daemon=True).start()
    while True:
        rid, job = main_jobs.get()
        answer(rid, job)


_EXEC, _COMPILE = exec, compile  # bound before the submission is imported: patching builtins does not reach them


def _exec_helpers(source: str):
    namespace = types.ModuleType("prep_helpers")
    _EXEC(_COMPILE(source, "<hidden-test helper>", "exec"), namespace.__dict__)
    return namespace


def _record_tuple(name, fields, values):
    import collections

    try:
        return collections.namedtuple(name, fields)(*values)
    except (ValueError, TypeError):
        return dict(zip(fields, values))


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
