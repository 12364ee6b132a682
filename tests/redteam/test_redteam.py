"""The red team: hostile submissions in the real Docker sandbox.

Each file of hostile/ is a submission to the red-team target (target/: `add(a, b)`
and a program, with hidden tests that carry a canary). Every one must get a
verdict other than passed, for its own reason; no hidden-test text may appear in
anything shown to the learner; and the host must be left as it was: no
container, no process, no file of the run left behind.

They run concurrently (a few at a time) once per session; each test then
checks one result. Docker tests skip outside CI without an engine and fail under
CI=true.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prep import grading, sandbox
from prep.errors import InputError

from .harness import CANARIES, HERE, grade_files, grade_hostile_in_own_pid_namespace, require_docker, target_exercise

HOSTILE = HERE / "hostile"
HOST_SECRET = "prep-host-secret-5b1f9e"  # put in this process's environment: must never reach the sandbox

# hostile file -> the verdicts it may get (never "passed"), and why
EXPECTED: dict[str, set[str]] = {
    "fork_bomb": {"error"},  # the pids limit holds; each test says the process limit was reached
    "memory_bomb": {"memory-limit"},  # the cgroup's OOM kill, reported as such
    "infinite_loop": {"timeout"},
    "sleep_forever": {"timeout"},
    "output_flood": {"output-limit"},
    "disk_fill": {"failed"},  # ENOSPC on the size-limited tmpfs; the read-only rest refuses
    "network_probe": {"failed"},  # and its survey shows only loopback (checked below)
    "sys_exit_at_import": {"error"},
    "os_exit_at_import": {"error"},
    "sys_exit_mid_test": {"error"},
    "os_exit_mid_test": {"error"},
    "fake_result_files": {"failed"},
    "print_fake_results": {"failed"},
    "eq_always_true": {"failed"},
    "inspect_gc": {"failed"},
    "read_hidden_tests": {"failed", "timeout"},  # its scan of every file may outlast the 3 s on a busy machine
    "monkeypatch_framework": {"error"},
    "probe_env": {"failed"},
    "plant_conftest_at_runtime": {"failed"},
    "signal_everything": {"failed"},  # neither its driver (another real uid) nor the judge is in reach
    "ptrace_driver": {"failed"},
    "stop_driver": {"error"},  # PermissionError: the driver cannot be stopped (checked below)
    "stop_self": {"timeout"},  # that test only, at its own limit; the others run (checked below)
    "stop_worker_from_child": {"timeout"},
    "tstp_self": {"timeout"},
    "block_signals_sleep": {"timeout"},
    "fd_exhaustion": {"error"},  # its threads reach the process limit
    "kill_parent": {"failed"},  # cannot kill its driver; kill(-1) spares the caller, so add() still answers
    "setsid_daemon": {"failed"},
    # kills later learners, never the driver; the learner that called add() too: after its answer went out
    # (failed: the answer is wrong) or, when the daemon is quicker, before (crashed: killed during add())
    "daemon_killer": {"failed", "crashed"},
    "symlink_runtime": {"failed"},
}
# where --sandbox local differs: there the driver runs as the submission's user, which can kill it
# (or stop it: test_local_backend_continues_a_stopped_driver)
LOCAL_EXPECTED: dict[str, set[str]] = {
    "kill_parent": {"error"},
}
# kill(-1, SIGKILL): under --sandbox local it reaches every process of the user the submission runs as
# (you, or nobody when you are root), this pytest included; graded in a pid namespace of its own
IN_OWN_PID_NAMESPACE = {"kill_parent"}


def test_every_hostile_file_has_an_expectation():
    files = {p.stem for p in HOSTILE.glob("*.py")}
    assert files == set(EXPECTED), f"hostile files without an expectation, or the reverse: {files ^ set(EXPECTED)}"
    assert len(files) >= 20


@pytest.fixture(scope="module")
def docker_backend():
    return require_docker()


@pytest.fixture(scope="module")
def results(docker_backend):
    """Grade every hostile submission once, four at a time, with a secret in our environment."""
    os.environ["PREP_HOST_SECRET"] = HOST_SECRET
    sentinel = Path("/tmp/prep-redteam-sentinel")
    sentinel.write_text("untouched\n")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {name: pool.submit(grade_files, {"target.py": (HOSTILE / f"{name}.py").read_bytes()}, docker_backend)
                       for name in EXPECTED}
            done = {name: f.result() for name, f in futures.items()}
    finally:
        os.environ.pop("PREP_HOST_SECRET", None)
    assert sentinel.read_text() == "untouched\n"
    sentinel.unlink()
    return done


def shown(result: dict) -> str:
    """Everything the learner may see of a result: the JSON and the rich rendering both come from this."""
    return json.dumps(result, ensure_ascii=False)


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_submission_is_not_passed(name, results):
    result = results[name]
    assert result["verdict"] != "passed"
    assert result["verdict"] in EXPECTED[name], (
        f"{name}: verdict {result['verdict']}, expected {EXPECTED[name]}: "
        + json.dumps([(t["name"], t["status"], t["message"]) for t in result["tests"]])
    )
    assert result["counts_as_attempt"] is True
    text = shown(result)
    for canary in CANARIES:
        assert canary not in text, f"{name}: hidden-test text {canary!r} reached the learner"
    assert HOST_SECRET not in text
    assert "PREP_DRIVER={" not in text and '"token"' not in text


@pytest.mark.docker
def test_cleanup_between_tests_held(results):
    """The target's third test first checks that no process of an earlier test is left."""
    for name in ("setsid_daemon", "fork_bomb", "sleep_forever", "infinite_loop", "disk_fill", "fake_result_files"):
        third = results[name]["tests"][2]
        assert "still running" not in (third["message"] or ""), f"{name}: {third}"


@pytest.mark.docker
def test_only_loopback_inside(results):
    outputs = [t["output"] for t in results["network_probe"]["tests"] if "NETWORK-SURVEY" in t["output"]]
    assert outputs
    survey = json.loads(outputs[0].split("NETWORK-SURVEY ", 1)[1].splitlines()[0])
    assert survey["interfaces"] == ["lo"]
    assert survey["default_routes"] == 0 and survey["routes"] == 0


@pytest.mark.docker
def test_limits_are_named(results):
    assert "more than 128 MB" in results["memory_bomb"]["tests"][0]["message"]
    assert "more than 16 KB" in results["output_flood"]["tests"][0]["message"]
    for test in results["fork_bomb"]["tests"]:
        assert test["status"] == "error", test
        assert test["message"].startswith("the process limit (32 processes and threads) was reached: "), test
    assert results["fork_bomb"]["tests"][0]["message"].endswith("starting the submission did not return within the test's 3 s")
    assert "No space left on device" in results["disk_fill"]["tests"][0]["output"]
    assert len(results["output_flood"]["tests"][0]["output"]) < 1000


@pytest.mark.docker
@pytest.mark.parametrize("name, signal_name", [("stop_self", "SIGSTOP"), ("stop_worker_from_child", "SIGSTOP"),
                                               ("tstp_self", "SIGTSTP")])
def test_a_stopped_process_fails_its_test_and_the_run_goes_on(name, signal_name, results):
    first, *others = results[name]["tests"]
    assert first["status"] == "timeout", first
    assert first["message"].startswith("add() did not return within the test's 3 s: the submission's process "), first
    assert first["message"].endswith(f" was stopped by {signal_name}, and nothing sent it SIGCONT"), first
    assert [t["status"] for t in others] == ["passed", "passed"], f"{name}: the tests after the stopped one must run: {others}"


@pytest.mark.docker
def test_blocking_every_signal_ends_with_its_test(results):
    first, *others = results["block_signals_sleep"]["tests"]
    assert first["status"] == "timeout" and first["message"] == "add() did not return within the test's 3 s", first
    assert [t["status"] for t in others] == ["passed", "passed"], others


@pytest.mark.docker
def test_the_driver_cannot_be_stopped(results):
    """Its real and saved uid are not the submission's: SIGSTOP and SIGTSTP to it are refused, the run goes on."""
    first, *others = results["stop_driver"]["tests"]
    assert first["status"] == "error", first
    assert first["message"] == "add() raised PermissionError: [Errno 1] Operation not permitted", first
    output = first["output"]
    assert "DRIVER-SIGTSTP Operation not permitted" in output
    assert f"SELF uid={sandbox.LEARNER_UID},{sandbox.LEARNER_UID},{sandbox.LEARNER_UID} caps=0 nnp=1" in output
    assert f"DRIVER uid={sandbox.DRIVER_UID},{sandbox.LEARNER_UID},{sandbox.DRIVER_UID} caps=0 nnp=1" in output
    assert [t["status"] for t in others] == ["passed", "passed"], others


@pytest.mark.docker
def test_the_judge_is_out_of_reach(results):
    probe = results["ptrace_driver"]["tests"][0]["output"]
    assert "/proc/1/root: Permission denied" in probe and "/proc/1/environ: Permission denied" in probe
    env = results["probe_env"]["tests"][0]["output"]
    assert "PROC-ENV 1 denied" in env
    hidden = results["read_hidden_tests"]["tests"][0]["output"]
    assert "/opt/prep/hidden" not in hidden.replace('"/opt/prep/hidden"', "")


@pytest.mark.docker
def test_host_left_unharmed(results, docker_backend):
    client = docker_backend.client
    assert client.ping()
    assert docker_backend.created, "no container was created?"
    for cid in docker_backend.created:
        assert not client.containers.list(all=True, filters={"id": cid}), f"container {cid[:12]} left behind"
    ids = {cid[:12] for cid in docker_backend.created}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cgroup = Path(f"/proc/{entry}/cgroup").read_text()
            except OSError:
                continue
            assert not any(i in cgroup for i in ids), f"process {entry} of a red-team container outlived its run"
    leftovers = [p for p in docker_backend.staged if Path(p).exists()]
    assert not leftovers, f"staging folders left: {leftovers}"


# ------------------------------------------------------------------ what never reaches the sandbox


def test_planted_files_in_the_folder_are_left_out(tmp_path):
    (tmp_path / "target.py").write_text("def add(a, b):\n    return -1\n")
    for name, text in (("conftest.py", "raise SystemExit"), ("sitecustomize.py", "import os"), ("evil.pth", "import os"),
                       ("pytest.ini", "[pytest]\naddopts = -p no:prep_judge\n")):
        (tmp_path / name).write_text(text)
    submission = grading.collect(target_exercise(), tmp_path)
    assert list(submission.files) == ["target.py"]
    assert sorted(submission.ignored) == ["conftest.py", "evil.pth", "pytest.ini", "sitecustomize.py"]


def test_symlink_to_a_host_path_is_refused(tmp_path):
    (tmp_path / "target.py").symlink_to("/etc/shadow")
    with pytest.raises(InputError, match="symbolic link"):
        grading.collect(target_exercise(), tmp_path)


def test_hard_link_to_a_host_file_is_refused(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    (tmp_path / "sub").mkdir()
    os.link(outside, tmp_path / "sub" / "target.py")
    with pytest.raises(InputError, match="hard link"):
        grading.collect(target_exercise(), tmp_path / "sub")


# ------------------------------------------------------------------ the local backend, on the harmless ones


@pytest.mark.parametrize("name", ["sys_exit_at_import", "os_exit_mid_test", "eq_always_true", "print_fake_results",
                                  "monkeypatch_framework", "inspect_gc", "kill_parent", "output_flood", "probe_env",
                                  "stop_self"])
def test_local_backend_also_refuses(name, monkeypatch):
    monkeypatch.setenv("PREP_HOST_SECRET", HOST_SECRET)
    if name in IN_OWN_PID_NAMESPACE:
        result = grade_hostile_in_own_pid_namespace(HOSTILE / f"{name}.py")
    else:
        result = grade_files({"target.py": (HOSTILE / f"{name}.py").read_bytes()}, sandbox.LocalBackend())
    assert result["verdict"] != "passed"
    assert result["verdict"] in LOCAL_EXPECTED.get(name, EXPECTED[name])
    text = shown(result)
    assert HOST_SECRET not in text
    for canary in CANARIES:
        assert canary not in text


def test_kill_everything_under_local_stays_in_its_pid_namespace():
    """A process of the user the local submission runs as (nobody when we are root), outside the
    namespace, outlives kill_parent's kill(-1, SIGKILL)."""
    import pwd
    import subprocess

    as_the_learner = {}
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        as_the_learner = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    bystander = subprocess.Popen(["sleep", "300"], **as_the_learner)
    try:
        result = grade_hostile_in_own_pid_namespace(HOSTILE / "kill_parent.py")
        assert result["verdict"] in LOCAL_EXPECTED["kill_parent"], result
        assert bystander.poll() is None, f"kill(-1) escaped the namespace: the bystander died ({bystander.returncode})"
    finally:
        bystander.kill()
        bystander.wait()


def test_local_backend_continues_a_stopped_driver():
    """Locally the submission can stop its driver; the judge continues it, so only that test is lost."""
    result = grade_files({"target.py": (HOSTILE / "stop_driver.py").read_bytes()}, sandbox.LocalBackend())
    first, *others = result["tests"]
    assert first["status"] == "timeout", first
    assert first["message"] == ("add() did not return within the test's 3 s: the submission stopped the sandbox's "
                                "driver, which answers for it (possible only under --sandbox local)"), first
    assert [t["status"] for t in others] == ["passed", "passed"], others
