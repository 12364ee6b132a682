"""Shortcuts around the transfer exercises, graded in the real Docker sandbox.

reliable-udp once passed with no protocol at all (its own send() and receive() in one
process, the bytes passed in memory), and epoll-echo's baseline ran in the learner's
process. Now the judge is one end of every transfer and runs every baseline itself:
each shortcut here must be refused, count as an attempt, crash no test of the
harness, and leave no performance figure behind.

Docker tests skip outside CI without an engine and fail under CI=true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from prep import content, exercises, grading

from .harness import require_docker

HOSTILE = Path(__file__).resolve().parent / "hostile_transfer"

# hostile file -> (exercise, the file it is submitted as, hidden tests that must not pass)
SHORTCUTS = {
    "rudp_in_memory": ("reliable-udp", "rudp.py", {"test_send_perfect_link", "test_goodput_under_loss",
                                                     "test_receive_perfect_link"}),
    "rudp_fire_and_forget": ("reliable-udp", "rudp.py", {"test_send_lossy_link", "test_goodput_under_loss",
                                                           "test_receive_lossy_link"}),
    "epoll_offload_to_child": ("epoll-echo", "epollecho.py", {"test_performance_echoes_per_second"}),
}


def test_every_hostile_transfer_file_has_an_expectation():
    files = {p.stem for p in HOSTILE.glob("*.py")}
    assert files == set(SHORTCUTS), f"hostile files without an expectation, or the reverse: {files ^ set(SHORTCUTS)}"


@pytest.fixture(scope="module")
def docker_backend():
    return require_docker()


@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(SHORTCUTS))
def test_shortcut_is_refused(name, docker_backend):
    slug, filename, must_not_pass = SHORTCUTS[name]
    exercise = exercises.load_catalog(content.exercises_dir()).get(slug)
    submission = grading.Submission(files={filename: (HOSTILE / f"{name}.py").read_bytes()})
    result = grading.grade(exercise, submission, docker_backend)
    statuses = {t["name"]: t["status"] for t in result["tests"]}
    assert result["verdict"] != "passed", f"{name} passed {slug}: {statuses}"
    assert result["counts_as_attempt"] is True, f"{name}: not counted as an attempt ({result['verdict']}: {result['message']})"
    broken = [t for t, s in statuses.items() if s == "internal-error"]
    assert not broken, f"{name}: the harness failed in {broken}: {result['message']}"
    passed = sorted(t for t in must_not_pass if statuses.get(t) == "passed")
    assert not passed, f"{name} passed {passed} of {slug}"
    missing = sorted(t for t in must_not_pass if t not in statuses)
    assert not missing, f"{name}: {missing} are not hidden tests of {slug} any more: {sorted(statuses)}"
    assert result["performance"] is None, f"{name} left a performance figure: {result['performance']}"
