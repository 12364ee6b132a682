"""Grade a hostile submission against the red-team target (used by test_redteam.py and by hand).

    python3 tests/redteam/harness.py [--json] tests/redteam/hostile/fork_bomb.py [docker|local]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
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


def pid_namespace_command() -> list[str]:
    """unshare(1) that runs a command as pid 1 of a fresh pid namespace with its own /proc.

    There kill(-1, SIGKILL) reaches only the namespace's processes: under --sandbox local, where
    the submission runs as you (or as nobody when you are root), it would otherwise kill every
    process of that user, this pytest included. A normal user needs a user namespace to make one:
    it maps only you (uid and gid unchanged), so the local backend still runs as you."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise RuntimeError("unshare(1) is missing: install util-linux")
    command = [unshare]
    if os.geteuid() != 0:
        command += ["--user", "--map-current-user"]  # util-linux 2.38 or later
    return command + ["--pid", "--fork", "--mount-proc"]


def grade_hostile_in_own_pid_namespace(path: Path) -> dict:
    """grade_hostile with the local backend, in a pid namespace of its own (see pid_namespace_command)."""
    command = pid_namespace_command() + [sys.executable, str(HERE / "harness.py"), "--json", str(path), "local"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(
            f"grading {Path(path).name} in a pid namespace of its own failed (exit {done.returncode}): "
            f"{done.stderr.strip()[-1500:]}\nThis needs util-linux >= 2.38 and, for a normal user, unprivileged "
            "user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu, "
            "kernel.apparmor_restrict_unprivileged_userns=0)"
        )
    return json.loads(done.stdout)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    from prep import sandbox

    args = sys.argv[1:]
    whole = "--json" in args
    args = [a for a in args if a != "--json"]
    which = args[1] if len(args) > 1 else "docker"
    result = grade_hostile(Path(args[0]), sandbox.backend(which))
    print(json.dumps(result) if whole else json.dumps(result, indent=1)[:6000])
