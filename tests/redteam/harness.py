"""Grade a hostile submission against the red-team target (used by test_redteam.py and by hand).

    python3 tests/redteam/harness.py tests/redteam/hostile/fork_bomb.py [docker|local]
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "target"
CANARIES = ("PREP-CANARY-4d1b7e20-redteam", "PREP-CANARY-7f3a9c1e-run-command", "1000003", "SECRET_EXPECTED")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_docker():
    """A DockerBackend ready to run, or skip (outside CI) / fail (CI=true) saying what is missing."""
    import pytest

    from prep import sandbox
    from prep.errors import EnvironmentProblem

    backend = sandbox.DockerBackend()
    try:
        backend.ensure_ready()
    except EnvironmentProblem as exc:
        if in_ci():
            pytest.fail(f"CI=true and the Docker sandbox is not ready: {exc}")
        pytest.skip(f"the Docker sandbox is not ready: {exc}")
    return backend


def target_exercise():
    from prep import exercises

    problems: list = []
    exercise = exercises.load_exercise(TARGET / "exercise", problems)
    assert exercise is not None, problems
    exercise._slug = "redteam-target"
    return exercise


def grade_files(files: dict[str, bytes], backend) -> dict:
    from prep import grading

    submission = grading.Submission(files=files)
    return grading.grade(target_exercise(), submission, backend, hidden_dir=TARGET / "hidden")


def grade_hostile(path: Path, backend) -> dict:
    return grade_files({"target.py": Path(path).read_bytes()}, backend)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    from prep import sandbox

    which = sys.argv[2] if len(sys.argv) > 2 else "docker"
    result = grade_hostile(Path(sys.argv[1]), sandbox.backend(which))
    print(json.dumps(result, indent=1)[:6000])
