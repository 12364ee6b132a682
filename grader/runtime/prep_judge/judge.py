"""The judge: runs pytest on the hidden tests and writes the record stream.

Records go to a private copy of the process's original stdout, one line each:
`PREP-RESULT <nonce> <json>`. Everything else the judge's pytest would print
goes to /dev/null, so hidden-test source never reaches a stream the host shows.
Under Docker only the judge's container writes that stream; the host reads it
after the containers are gone.
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import struct
import sys

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PR_SET_DUMPABLE = 4


def main() -> None:
    raw = os.environ.pop("PREP_JUDGE", None)
    if raw is None:
        raw = sys.stdin.readline()
    config = json.loads(raw)
    if config.get("mode") == "local":  # same uid as the submission: hide our fds and memory from it
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

    result_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    stream = os.fdopen(result_fd, "w", buffering=1, encoding="utf-8", errors="surrogateescape")
    nonce = config["nonce"]

    def emit(record: dict) -> None:
        stream.write(f"PREP-RESULT {nonce} {json.dumps(record, ensure_ascii=True)}\n")
        stream.flush()

    listener = None
    where = config["connect"]
    if "abstract" in where:  # listen before anything slow, so the driver never waits for pytest to import
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind("\0" + where["abstract"])
        listener.listen(4)
    wait_seconds = float(where.get("wait_seconds", 20))

    def session_factory():
        from .client import HarnessError, Session

        if listener is None:
            conn = socket.socket(fileno=int(where["fd"]))
        else:
            listener.settimeout(wait_seconds)
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                raise HarnessError(f"the learner's driver did not connect within {wait_seconds:g} s") from None
            finally:
                listener.close()
            conn.settimeout(None)
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", creds)
            if uid != int(config.get("learner_uid", 1001)):
                conn.close()
                raise HarnessError(f"a process of uid {uid} connected instead of the learner's driver")
        session = Session(conn, config)
        session.handshake(wait_seconds)
        return session

    try:
        import pytest

        from .plugin import JudgePlugin

        plugin = JudgePlugin(emit, session_factory, config)
        args = [
            config["tests_dir"],
            "-c", os.path.join(RUNTIME_DIR, "judge.ini"),
            "--rootdir", config["tests_dir"],
            "-p", "no:cacheprovider",
            # pytest 7 (the image's 7.2) would call a module-level setup/teardown as nose fixtures;
            # pytest 8 has no nose plugin, and `no:` of an unknown plugin is accepted
            "-p", "no:nose",
            "--noconftest",
            "--assert=plain",
            "-q",
            "-o", "console_output_style=classic",
        ]
        if config.get("fail_fast"):
            args.append("-x")
        code = pytest.main(args, plugins=[plugin])
        emit({"kind": "done", "exit": int(code)})
    except BaseException as exc:  # the judge itself failed: an internal error, said without the traceback
        emit({"kind": "error", "message": f"the judge failed: {type(exc).__name__}: {str(exc)[:300]}"})
        import traceback

        traceback.print_exc()
    finally:
        stream.flush()
        os._exit(0)
