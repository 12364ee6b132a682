"""The sandbox: the pilot exercise end to end, the containers' settings, engine problems said plainly.

Docker tests skip outside CI when the engine or the image is missing (the reason
says which), and fail under CI=true.
"""

from __future__ import annotations

import os
import re
import socket
import time
from pathlib import Path

import pytest

from prep import content, exercises, grading, sandbox

from tests.redteam.harness import require_docker, target_exercise, TARGET

REPO = Path(__file__).resolve().parent.parent
GRADER = REPO / "grader"
SOLUTIONS = GRADER / "solutions" / "run-command"
WRONG = exercises.wrong_solutions(GRADER, "run-command")


@pytest.fixture(scope="module")
def docker_backend():
    return require_docker()


def run_command():
    catalog = exercises.load_catalog(content.exercises_dir())
    return catalog.get("run-command")


def grade(path: Path, backend) -> dict:
    ex = run_command()
    return grading.grade(ex, grading.collect(ex, path), backend)


def must_fail(why_md: Path) -> set[str]:
    """The hidden tests a wrong solution's WHY.md names after "Must fail"."""
    text = why_md.read_text()
    section = text.split("Must fail", 1)[1]
    return set(re.findall(r"`(test_\w+(?:\[[^\]]+\])?)`", section))


# ------------------------------------------------------------------ the pilot exercise, in the real sandbox


@pytest.mark.docker
def test_reference_passes_in_docker(docker_backend):
    result = grade(SOLUTIONS / "reference", docker_backend)
    assert result["verdict"] == "passed", [(t["name"], t["status"], t["message"]) for t in result["tests"] if t["status"] != "passed"]
    assert result["score"] == 1.0
    assert len(result["tests"]) >= 8


@pytest.mark.docker
@pytest.mark.parametrize("name", WRONG)
def test_wrong_solution_fails_for_its_reason(name, docker_backend, tmp_path):
    exercises.materialise_wrong(GRADER, "run-command", name, tmp_path)
    result = grade(tmp_path, docker_backend)
    assert result["verdict"] != "passed"
    failing = {t["name"] for t in result["tests"] if t["status"] != "passed"}
    named = must_fail(SOLUTIONS / "wrong" / name / "WHY.md")
    assert named, f"{name}/WHY.md names no test after 'Must fail'"
    assert named <= failing, f"{name}: WHY.md says {sorted(named - failing)} must fail, but they passed"


def test_reference_passes_locally():
    result = grade(SOLUTIONS / "reference", sandbox.LocalBackend())
    assert result["verdict"] == "passed", [(t["name"], t["message"]) for t in result["tests"] if t["status"] != "passed"]
    assert result["backend"] == "local"


def test_starter_fails_clearly_locally():
    result = grade(REPO / "exercises" / "run-command" / "starter", sandbox.LocalBackend())
    assert result["verdict"] == "error"
    assert result["tests"][0]["message"].startswith("run() raised NotImplementedError: not implemented: run: fork")


def test_wrong_solution_deadlock_is_a_timeout_locally(tmp_path):
    exercises.materialise_wrong(GRADER, "run-command", "write-then-read", tmp_path)
    result = grade(tmp_path, sandbox.LocalBackend())
    timed_out = [t for t in result["tests"] if t["status"] == "timeout"]
    assert [t["name"] for t in timed_out] == ["test_large_input_and_output_do_not_deadlock",
                                              "test_command_that_writes_before_it_reads_does_not_deadlock"]
    assert {t["message"] for t in timed_out} == {"run() did not return within the test's 3 s"}


# ------------------------------------------------------------------ the containers, literally


@pytest.mark.docker
def test_containers_are_locked_down(docker_backend):
    seen = {}

    def inspect(judge, learner):
        judge.reload()
        learner.reload()
        seen["judge"], seen["learner"] = judge.attrs, learner.attrs

    docker_backend.on_started = inspect
    try:
        ex = target_exercise()
        grading.grade(ex, grading.Submission(files={"target.py": b"def add(a, b):\n    return a + b\n"}), docker_backend,
                      hidden_dir=TARGET / "hidden")
    finally:
        docker_backend.on_started = None
    judge, learner = seen["judge"], seen["learner"]
    # the learner's container starts its driver as root with two capabilities, which it gives up at once
    # for real uid DRIVER_UID, effective LEARNER_UID (tests/redteam: test_the_driver_cannot_be_stopped)
    assert judge["Config"]["User"] == f"{sandbox.JUDGE_UID}:{sandbox.JUDGE_UID}" and not judge["HostConfig"].get("CapAdd")
    assert learner["Config"]["User"] == "0:0"
    assert sorted(c.removeprefix("CAP_") for c in learner["HostConfig"]["CapAdd"]) == ["SETGID", "SETUID"]
    for attrs in (judge, learner):
        host = attrs["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Privileged"] is False
        assert host["Memory"] > 0 and host["MemorySwap"] == host["Memory"]
        assert host["PidsLimit"] > 0
        assert host["NanoCpus"] > 0
        assert host["LogConfig"]["Config"]["max-size"]
        assert all("size=" in opts for opts in host["Tmpfs"].values())
        assert not any(m["RW"] for m in attrs["Mounts"] if m["Type"] == "bind"), "every bind mount is read-only"
    assert judge["HostConfig"]["NetworkMode"] == "none"
    assert learner["HostConfig"]["NetworkMode"] == f"container:{judge['Id']}"
    assert learner["HostConfig"]["PidMode"] == f"container:{judge['Id']}"
    assert learner["HostConfig"]["Memory"] == 128 * 2**20 and learner["HostConfig"]["PidsLimit"] == 32
    judge_mounts = {m["Destination"] for m in judge["Mounts"]}
    learner_mounts = {m["Destination"] for m in learner["Mounts"]}
    assert "/opt/prep/hidden" in judge_mounts and "/opt/prep/hidden" not in learner_mounts
    assert "/opt/prep/submission" in learner_mounts and "/opt/prep/submission" not in judge_mounts


@pytest.mark.docker
def test_check_says_ready(docker_backend):
    checks = {c.name: c for c in sandbox.check()}
    assert all(c.ok or not c.blocking for c in checks.values()), checks  # leftovers are said, and do not block
    assert "Python 3.11" in checks["container"].detail


# ------------------------------------------------------------------ without an engine


def test_no_engine_is_an_environment_problem(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    from prep.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem, match=r"no Docker engine answers .*: start the Docker engine .*--sandbox local") as info:
        sandbox.DockerBackend().ensure_ready()
    assert info.value.exit_code == 3


def test_check_without_engine_says_what_to_do(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    checks = sandbox.check()
    assert [c.name for c in checks] == ["docker SDK", "engine"]
    assert checks[1].ok is False
    assert "dockerd" in checks[1].fix and "--sandbox local" in checks[1].fix


def test_missing_image_says_build_it(monkeypatch, docker_backend):
    backend = sandbox.DockerBackend(image="prep-sandbox:no-such-tag")
    from prep.errors import EnvironmentProblem

    with pytest.raises(EnvironmentProblem, match=r"the sandbox image prep-sandbox:no-such-tag is not built: run `prep sandbox build`"):
        backend.ensure_ready()


# ------------------------------------------------------------------ the image


def test_apt_mirror_from_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert sandbox.apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_apt_mirror_from_a_one_line_list(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64 signed-by=/x.gpg] http://mirror.example/debian bookworm main\n"
        "deb http://mirror.example/debian-security bookworm-security main\n"
    )
    assert sandbox.apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_apt_mirror_none(tmp_path):
    assert sandbox.apt_mirror(tmp_path) is None


def test_no_mirror_host_is_written_in_the_code():
    code = (REPO / "prep" / "sandbox.py").read_text() + (REPO / "grader" / "Dockerfile").read_text()
    assert not re.search(r"https?://[a-z0-9.-]+\.(org|net|com)", code), "take the mirror from debootstrap or apt sources"


def test_dockerfile_digest_is_stable():
    assert sandbox.dockerfile_digest() == sandbox.dockerfile_digest()
    assert len(sandbox.dockerfile_digest()) == 16


# ------------------------------------------------------------------ C exercises

C_FIXTURE = REPO / "tests" / "fixtures" / "grading" / "c-exercise"
NOT_COMPILED = "the C sources did not compile: gcc's output is given once, before the tests"


def c_exercise(**limits) -> exercises.Exercise:
    problems: list = []
    ex = exercises.load_exercise(C_FIXTURE / "exercise", problems)
    assert ex is not None, problems
    if limits:
        ex = ex.model_copy(update={"limits": ex.limits.model_copy(update=limits)})
        ex._slug = "exercise"
    return ex


def c_grade(folder: Path, backend, ex: exercises.Exercise | None = None) -> dict:
    ex = ex or c_exercise()
    return grading.grade(ex, grading.collect(ex, folder), backend, hidden_dir=C_FIXTURE / "hidden")


def c_backends():
    return [pytest.param("local"), pytest.param("docker", marks=pytest.mark.docker)]


def backend_named(which: str):
    return require_docker() if which == "docker" else sandbox.LocalBackend()


def slow_to_compile(folder: Path, functions: int = 2000) -> Path:
    """prog.c for the fixture's hidden tests, with enough generated functions that gcc -O1 takes
    seconds (about 5 s on one CPU), far more than a test's 1 s."""
    lines = ["#include <stdio.h>", "#include <stdlib.h>"]
    lines += [f"int f{i}(int x) {{ int a[16]; for (int j = 0; j < 16; j++) a[j] = x * {i} + j; int s = 0; "
              f"for (int j = 0; j < 16; j++) s += a[j] ^ (s << 1); return s; }}" for i in range(functions)]
    lines += ["int main(int argc, char **argv) {", "    if (argc < 2) return 2;",
              "    if (argv[1][0] == 's') { int *p = NULL; return *p; }",
              '    printf("%d\\n", 2 * atoi(argv[1]));', "    return 0;", "}"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prog.c").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("which", c_backends())
def test_c_program_is_compiled_and_run(which):
    result = c_grade(C_FIXTURE / "exercise" / "starter", backend_named(which))
    assert result["verdict"] == "passed", result["tests"]
    assert result["build"]["status"] == "passed" and result["build"]["output"] == ""


@pytest.mark.parametrize("which", c_backends())
def test_c_compile_error_is_said_once_and_every_test_points_to_it(which):
    result = c_grade(C_FIXTURE / "broken", backend_named(which))
    assert result["verdict"] == "error"
    gcc_said = "prog.c: In function ‘main’:\nprog.c:1:26: error: expected ‘;’ before ‘}’ token"
    assert result["message"].startswith("the C sources did not compile:\n" + gcc_said), result["message"]
    assert result["build"]["status"] == "failed" and result["build"]["output"].startswith(gcc_said)
    assert [(t["status"], t["message"], t["output"]) for t in result["tests"]] == [("error", NOT_COMPILED, "")] * 3


@pytest.mark.parametrize("which", c_backends())
def test_c_warnings_reach_the_result(which):
    result = c_grade(C_FIXTURE / "warning", backend_named(which))
    assert result["verdict"] == "passed", result["tests"]
    build = result["build"]
    assert build["status"] == "passed"
    assert "prog.c:6:49: warning: ‘sizeof’ on array function parameter ‘buf’ will return size of ‘char *’ [-Wsizeof-array-argument]" in build["output"]
    assert "prog.c:11:18: warning: initialization of ‘int *’ from incompatible pointer type ‘long int *’ [-Wincompatible-pointer-types]" in build["output"]
    assert all("warning" not in t["output"] for t in result["tests"]), "the warnings are said once, not per test"


@pytest.mark.parametrize("which", c_backends())
def test_a_slow_compile_costs_no_test_its_time(which, tmp_path):
    """gcc takes seconds on this source and a test may last 1 s: the compile has its own budget."""
    result = c_grade(slow_to_compile(tmp_path / "slow"), backend_named(which), c_exercise(test_seconds=1, run_seconds=120))
    assert result["build"]["duration_ms"] > 1000, "the generated source compiled within a test's 1 s: make it bigger"
    assert result["verdict"] == "passed", [(t["name"], t["status"], t["message"]) for t in result["tests"]]


@pytest.mark.parametrize("which", c_backends())
def test_a_compile_past_its_budget_is_stopped(which, tmp_path):
    """The compile's budget is 60 s, never past run_seconds: here 2 s, for a source that needs about 5."""
    result = c_grade(slow_to_compile(tmp_path / "slow"), backend_named(which), c_exercise(test_seconds=1, run_seconds=2))
    assert result["build"]["status"] == "timeout"
    assert result["message"].startswith("the C sources did not compile: gcc did not finish within 2 s and was stopped")
    assert [(t["status"], t["message"]) for t in result["tests"]] == [("error", NOT_COMPILED)] * 3


@pytest.mark.docker
def test_the_compiled_program_cannot_be_replaced_for_later_tests(docker_backend):
    """tamper/prog.c, run by the first test, tries to swap the program for a script that exits 0."""
    result = c_grade(C_FIXTURE / "tamper", docker_backend)
    assert result["verdict"] == "passed", [(t["name"], t["status"], t["message"]) for t in result["tests"]]
    attempts = result["tests"][0]["output"]
    assert f"program: {sandbox.BUILD_DIR}/prog\n" in attempts
    assert "chmod of its folder: Operation not permitted\n" in attempts
    assert "unlink: Permission denied\n" in attempts
    assert "rename of its folder: done" not in attempts and "replace" not in attempts


def test_under_local_the_program_is_not_protected():
    """What docs/grading.md says of --sandbox local (the submission runs as the driver's user), and
    proof that tamper/prog.c does what the Docker test above says it cannot."""
    result = c_grade(C_FIXTURE / "tamper", sandbox.LocalBackend())
    assert "unlink: done\nreplace: done\n" in result["tests"][0]["output"]
    segv = result["tests"][1]
    assert (segv["status"], segv["message"]) == ("failed", "a NULL dereference should die of SIGSEGV, got returncode 0")


# ------------------------------------------------------------------ building, with a fake engine


class FakeImages:
    def __init__(self, pull_fails: bool, have: set[str]):
        self.pull_fails, self.have, self.built = pull_fails, have, []

    def pull(self, name):
        import docker

        if self.pull_fails:
            raise docker.errors.APIError("registry unreachable")
        self.have.add(name)

    def get(self, name):
        import docker

        if name not in self.have:
            raise docker.errors.ImageNotFound(name)
        return name

    def build(self, **kwargs):
        self.built.append(kwargs)

        class Image:
            id = "sha256:" + "0" * 64

        return Image(), [{"stream": "Step 1/5"}]


class FakeClient:
    def __init__(self, images):
        self.images = images

    def ping(self):
        return True


@pytest.mark.parametrize("pull_fails, from_debian, base", [
    (False, None, sandbox.BASE_IMAGE),
    (True, None, sandbox.LOCAL_BASE_TAG),
    (False, True, sandbox.LOCAL_BASE_TAG),
])
def test_build_falls_back_to_debian_packages(monkeypatch, pull_fails, from_debian, base):
    images = FakeImages(pull_fails, have={sandbox.LOCAL_BASE_TAG})  # an earlier debootstrap is reused
    monkeypatch.setattr(sandbox, "connect", lambda timeout=0: FakeClient(images))
    lines: list[str] = []
    sandbox.build_image(from_debian=from_debian, progress=lines.append)
    (build,) = images.built
    assert build["buildargs"] == {"BASE": base}
    assert build["network_mode"] == "host"
    assert build["labels"][f"{sandbox.LABEL}.dockerfile"] == sandbox.dockerfile_digest()
    if pull_fails:
        assert any(line.startswith("no registry answers") for line in lines)


def test_build_registry_only_says_so(monkeypatch):
    from prep.errors import EnvironmentProblem

    monkeypatch.setattr(sandbox, "connect", lambda timeout=0: FakeClient(FakeImages(True, set())))
    with pytest.raises(EnvironmentProblem, match="cannot pull debian:bookworm-slim"):
        sandbox.build_image(from_debian=False)


@pytest.mark.docker
def test_import_rootfs_through_the_api(tmp_path, docker_backend):
    (tmp_path / "hello").write_text("hi\n")
    tag = "prep-import-test:pytest"
    sandbox.import_rootfs(docker_backend.client, tmp_path, tag)
    try:
        assert docker_backend.client.images.get(tag).id.startswith("sha256:")
    finally:
        docker_backend.client.images.remove(tag, force=True)


# ------------------------------------------------------------------ the wire protocol


def test_frames_survive_any_split_and_carry_descriptors():
    import importlib.util
    import os as _os

    spec = importlib.util.spec_from_file_location("prep_judge_protocol", REPO / "grader" / "runtime" / "prep_judge" / "protocol.py")
    protocol = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(protocol)

    r, w = _os.pipe()
    data = protocol.encode_frame({"a": 1}, nfds=1) + protocol.encode_frame({"b": [1, 2]})
    reader = protocol.FrameReader()
    got = []
    for i, byte in enumerate(data):
        reader.feed(bytes([byte]), [r] if i == 0 else [])
        got.extend(reader.frames())
    assert got == [({"a": 1}, [r]), ({"b": [1, 2]}, [])]
    _os.close(r)
    _os.close(w)
    with pytest.raises(protocol.ProtocolError, match="out of bounds"):
        reader.feed(protocol.HEADER.pack(protocol.MAX_FRAME + 1, 0))
        list(reader.frames())
    with pytest.raises(protocol.ProtocolError, match="unknown or malformed tag"):
        protocol.decode_learner_value({"$eval": "1"}, None, None)


@pytest.mark.docker
def test_check_tells_a_grading_in_progress_from_a_leftover(docker_backend, tmp_path):
    """While a submission is being graded its containers are not leftovers, and nothing suggests
    removing them; a container whose run's process is gone is, and the fix names only it."""
    import threading

    started = threading.Event()
    backend = sandbox.DockerBackend()
    backend.on_started = lambda judge, learner: started.set()
    (tmp_path / "runcmd.py").write_text("import time\ndef run(argv, stdin=b''):\n    time.sleep(30)\n")
    exercise = exercises.load_catalog(REPO / "exercises").get("run-command")
    grading_thread = threading.Thread(
        target=grading.grade, args=(exercise, grading.collect(exercise, tmp_path), backend), daemon=True)
    grading_thread.start()
    assert started.wait(60), "the grading never started its containers"
    client = docker_backend.client
    orphan = client.containers.create(sandbox.IMAGE, ["true"], labels={
        sandbox.LABEL: "1", f"{sandbox.LABEL}.host": socket.gethostname(), f"{sandbox.LABEL}.pid": "999999999",
        f"{sandbox.LABEL}.until": str(int(time.time()) + 600)})
    try:
        checks = {c.name: c for c in sandbox.check()}
        assert checks["gradings"].ok and re.fullmatch(r"\d+ sandbox container\(s\) of gradings in progress",
                                                      checks["gradings"].detail), checks["gradings"]
        fix = checks["leftovers"].fix.split()
        assert fix[:3] == ["docker", "rm", "-f"] and orphan.id[:12] in fix, checks["leftovers"]
        mine = client.containers.list(all=True, filters={"label": f"{sandbox.LABEL}.pid={os.getpid()}"})
        assert mine and not {c.id[:12] for c in mine} & set(fix), "a grading in progress is named as a leftover"
        assert not checks["leftovers"].blocking
    finally:
        orphan.remove(force=True)
        for container in client.containers.list(all=True, filters={"label": f"{sandbox.LABEL}.pid={os.getpid()}"}):
            container.kill()
        grading_thread.join(60)
