"""The red team against the verdict: what the submission's process says or does must never decide it.

Each attack is a submission to the red-team target (target/: `add(a, b)`, a program,
and a third test that first checks no process of an earlier test is left). The
attacks reach into the worker, which is the submission's own process: they forge
the kind of their errors, smuggle descriptors to the driver, send frames nested
deeper than any parser's limit, escape a statement's ban by importing before it
could apply, and try to carry state from one test to the next. Whatever they do,
the cheater's verdict is theirs: not passed, counted as an attempt, never an
internal error, and the next test runs in a fresh process.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from prep import grading
from prep.exercises import Rules

from .harness import HERE, grade_files, require_docker, target_exercise

# Raise from add(), labelling the error as somebody else's: the driver's, a build's, an import's, a death.
FORGED_KIND = '''
import sys
if __name__ == "__main__":  # the target's program test: behave, so only the attack is judged
    print(sys.argv[1])
    raise SystemExit(0)
import sys
worker = sys.modules["prep_judge.worker"]
real = worker._exception_info
worker._exception_info = lambda exc, kind="learner": {{**real(exc, kind), "kind": {kind!r}, "reason": "gone"}}
import os
print("PID", os.getpid(), file=sys.stderr)

def add(a, b):
    raise RuntimeError("the sandbox failed, honest")
'''

# Before each reply, frames that announce no descriptor but carry 16 each: enough to fill a table of 1024.
SMUGGLE_FDS = '''
import sys
if __name__ == "__main__":  # the target's program test: behave, so only the attack is judged
    print(sys.argv[1])
    raise SystemExit(0)
import os, socket, struct, sys
protocol = sys.modules["prep_judge.protocol"]
real_send = protocol.send_frame
print("PID", os.getpid(), file=sys.stderr)

def send_frame(sock, message, fds=()):
    noise = struct.pack(">IH", 2, 0) + b"{}"
    spare = [os.open("/dev/null", os.O_RDONLY) for _ in range(16)]
    try:
        for _ in range(80):
            socket.send_fds(sock, [noise], spare)
    except OSError as exc:  # ETOOMANYREFS: the kernel caps descriptors in flight; send what it takes
        print("SMUGGLING-STOPPED", exc.strerror, file=sys.stderr)
    for fd in spare:
        os.close(fd)
    real_send(sock, message, fds)

protocol.send_frame = send_frame

def add(a, b):
    return a + b + 1
'''

# The reply to add() is a list nested {depth} deep, written by hand: no encoder would make it.
DEEP_FRAME = '''
import sys
if __name__ == "__main__":  # the target's program test: behave, so only the attack is judged
    print(sys.argv[1])
    raise SystemExit(0)
import os, struct, sys
protocol = sys.modules["prep_judge.protocol"]
real_send = protocol.send_frame
print("PID", os.getpid(), file=sys.stderr)

def send_frame(sock, message, fds=()):
    if "ok" in message:
        payload = b'{{"id":%d,"ok":' % message["id"] + b"[" * {depth} + b"]" * {depth} + b"}}"
        sock.sendall(struct.pack(">IH", len(payload), 0) + payload)
        return
    real_send(sock, message, fds)

protocol.send_frame = send_frame

def add(a, b):
    return a + b
'''

# Ways to keep a forbidden module from import time, or to reach it without `import subprocess`.
BAN_ESCAPES = {
    "imported-at-load": "import subprocess as _sp\n",
    "computed-import": "_sp = __import__('sub' + 'process')\n",
    "importlib": "import importlib\n_sp = importlib.import_module('subprocess')\n",
    "posixsubprocess": "import _posixsubprocess as _sp\n",
    "sys-modules": "import sys\n_sp = sys.modules.get('subprocess')\n",
}
BAN_ESCAPE_ADD = '''
def add(a, b):
    return int(_sp.run(["expr", str(a), "+", str(b)], stdout=_sp.PIPE).stdout)
'''

# Leave something behind in every writable place, and look for what an earlier test left.
CARRY_STATE = r'''
import sys
if __name__ == "__main__":  # the target's program test: behave, so only the attack is judged
    print(sys.argv[1])
    raise SystemExit(0)
import ctypes, os
PLACES = sorted({"/tmp/.carried", "/dev/shm/.carried", os.path.expanduser("~/.carried"),
                 os.path.join(os.path.dirname(os.getcwd()), ".carried")})
found = [place for place in PLACES if os.path.exists(place)]
for place in PLACES:
    try:
        with open(place, "w") as f:
            f.write("x")
    except OSError:
        pass
try:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(0x5EED, 0, 0) >= 0:
        found.append("sysv-shm")
    libc.shmget(0x5EED, 4096, 0o1600)
except OSError:
    pass
print("CWD", os.path.basename(os.getcwd()))
print("CARRIED" if found else "FRESH", " ".join(found))

def add(a, b):
    return a + b if found else a + b + 1  # only right with state carried over
'''

ATTACKS = {
    **{f"forged-kind-{kind}": FORGED_KIND.format(kind=kind) for kind in ("driver", "build", "import", "died")},
    "smuggled-descriptors": SMUGGLE_FDS,
    **{f"deep-frame-{depth}": DEEP_FRAME.format(depth=depth) for depth in (150, 250, 300, 100_000)},
    "carry-state": CARRY_STATE,
}


@pytest.fixture(scope="module")
def docker_backend():
    return require_docker()


def rule_target():
    """The target with a statement's rule: subprocess and its kin are forbidden."""
    exercise = target_exercise()
    ruled = exercise.model_copy(update={"rules": Rules(forbid=["subprocess", "multiprocessing", "os.system", "os.posix_spawn"])})
    ruled._slug = exercise.slug
    ruled._folder = exercise.folder
    return ruled


def grade_with_rule(source: str, backend) -> dict:
    submission = grading.Submission(files={"target.py": source.encode()})
    return grading.grade(rule_target(), submission, backend, hidden_dir=HERE / "target" / "hidden")


@pytest.fixture(scope="module")
def results(docker_backend):
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(grade_files, {"target.py": source.encode()}, docker_backend)
                   for name, source in ATTACKS.items()}
        futures.update({f"ban-{name}": pool.submit(grade_with_rule, head + BAN_ESCAPE_ADD, docker_backend)
                        for name, head in BAN_ESCAPES.items()})
        return {name: f.result() for name, f in futures.items()}


def summary(result: dict) -> str:
    return json.dumps([(t["name"], t["status"], (t["message"] or "")[:160]) for t in result["tests"]])


def pids_per_test(result: dict) -> list[str]:
    return [line.split()[1] for t in result["tests"] for line in t["output"].splitlines() if line.startswith("PID ")]


def assert_the_cheaters_own(name: str, result: dict) -> None:
    assert result["verdict"] != "passed", f"{name} passed: {summary(result)}"
    assert result["verdict"] != "internal-error", f"{name} made the run an internal error: {summary(result)}"
    assert result["counts_as_attempt"] is True, f"{name} is not counted as an attempt"
    internal = [t["name"] for t in result["tests"] if t["status"] == "internal-error"]
    assert not internal, f"{name}: tests {internal} are internal errors: {summary(result)}"


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(ATTACKS) + [f"ban-{n}" for n in sorted(BAN_ESCAPES)])
def test_an_attack_gets_the_cheaters_verdict(name, results):
    assert_the_cheaters_own(name, results[name])


@pytest.mark.docker
@pytest.mark.parametrize("kind", ["driver", "build", "import", "died"])
def test_a_forged_error_kind_is_the_submissions_error(kind, results):
    result = results[f"forged-kind-{kind}"]
    add_tests = [t for t in result["tests"] if t["name"] != "test_program"]
    assert [t["status"] for t in add_tests] == ["error", "error"], summary(result)
    for test in add_tests:
        assert "add() raised RuntimeError: the sandbox failed, honest" in test["message"], summary(result)
    assert result["tests"][2]["message"] != "a process of an earlier test is still running", summary(result)


@pytest.mark.docker
def test_smuggled_descriptors_are_closed_and_each_test_has_a_fresh_process(results):
    result = results["smuggled-descriptors"]
    first, _program, third = result["tests"]
    assert first["status"] == "failed" and "add(1000000, 3) returned a wrong value" in first["message"], summary(result)
    assert third["status"] == "failed" and "add(-5, 5) returned a wrong value" in third["message"], summary(result)
    pids = pids_per_test(result)
    assert len(pids) >= 2 and len(set(pids)) == len(pids), f"a worker served two tests: pids {pids}"


@pytest.mark.docker
@pytest.mark.parametrize("depth", [150, 250, 300, 100_000])
def test_a_deep_frame_is_the_submissions_error_and_the_run_goes_on(depth, results):
    result = results[f"deep-frame-{depth}"]
    first, program, third = result["tests"]
    for test in (first, third):
        assert test["status"] == "error", summary(result)
        assert "nested" in test["message"] or "protocol" in test["message"], summary(result)
    assert program["status"] == "passed", f"the test after a deep frame must run normally: {summary(result)}"
    assert result["duration_ms"] < 15_000, f"the run waited for a dead reader: {result['duration_ms']} ms"
    pids = pids_per_test(result)
    assert len(set(pids)) == len(pids), f"a worker served two tests: pids {pids}"


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(BAN_ESCAPES))
def test_a_ban_escaped_at_import_time_fails_the_rule(name, results):
    result = results[f"ban-{name}"]
    rule = result["tests"][-1]
    assert rule["name"] == "test_rule_no_forbidden_modules" and rule["status"] == "failed", summary(result)
    assert "target.py:" in rule["message"], rule["message"]
    assert result["score"] == 0.0, f"a submission that breaks the rule scores 0, not {result['score']}"


@pytest.mark.docker
def test_nothing_is_carried_from_one_test_to_the_next(results):
    result = results["carry-state"]
    outputs = [t["output"] for t in result["tests"]]
    assert not any("CARRIED" in out for out in outputs), f"state reached a later test: {outputs}"
    assert sum("FRESH" in out for out in outputs) >= 2, outputs
    folders = [line.split()[1] for out in outputs for line in out.splitlines() if line.startswith("CWD ")]
    assert len(folders) >= 2 and len(set(folders)) == len(folders), f"working folders repeat: {folders}"
    assert not any(name.lstrip("t").isdigit() for name in folders), f"a working folder names the test: {folders}"
    assert result["verdict"] == "failed", summary(result)
