"""Where hidden tests run: the Docker sandbox, or local subprocesses.

A backend takes a `Job` (a validated copy of the submission, the hidden tests,
the limits) and returns a `RawRun`: the judge's records as it wrote them, plus
what the host saw (a wall-clock kill, an OOM kill, an engine failure). It never
decides a verdict: prep.grading does, from the RawRun.

See docs/grading.md for the trust model this implements.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EnvironmentProblem, PrepError

IMAGE = "prep-sandbox:1"
BASE_IMAGE = "debian:bookworm-slim"
LOCAL_BASE_TAG = "prep-sandbox-base:bookworm"
JUDGE_UID = 1000
LEARNER_UID = 1001
# The driver's real and saved uid under Docker (its effective uid is LEARNER_UID): the submission may
# not signal a process whose real or saved uid is not its own, so it can neither stop nor kill the driver.
DRIVER_UID = 1002
LABEL = "org.prep.sandbox"
RECORD_PREFIX = "PREP-RESULT"
STARTUP_SECONDS = 20.0  # added to run_seconds: containers starting, pytest importing
# A C submission is compiled once before the first test, within this budget (and within run_seconds):
# no test's time limit pays for gcc.
BUILD_SECONDS = 60.0
BUILD_DIR = "/opt/prep/build"  # under Docker: a tmpfs of DRIVER_UID that the submission may run from, not write
BUILD_MB = 64
STREAM_CAP = 8 * 1024 * 1024
DEFAULT_LIMITS = {
    "test_seconds": 10,
    "run_seconds": 60,
    "memory_mb": 256,
    "pids": 64,
    "output_kb": 64,
    "cpus": 1.0,
    "scratch_mb": 64,
}


@dataclass
class Job:
    """What a backend runs: everything already validated and copied."""

    slug: str
    entry: str
    language: str
    limits: dict
    submission_dir: Path
    hidden_dir: Path
    runtime_dir: Path
    forbid: list[str] = field(default_factory=list)  # what the statement forbids: refused in the worker too
    fail_fast: bool = False  # stop at the first failing test (mutation testing needs only pass or fail)


@dataclass
class RawRun:
    """What came back from a run, before any verdict."""

    backend: str
    records: list[dict] = field(default_factory=list)  # the judge's records, in order
    killed_after: float | None = None  # the host killed the run after this many seconds
    oom_killed: bool = False  # the engine saw an OOM kill in the learner's container
    internal_error: str | None = None  # the sandbox itself failed
    duration_ms: int = 0
    debug: str = ""  # the judge's and driver's stderr: for `--debug`, never shown to learners


def parse_records(stream: bytes, nonce: str) -> list[dict]:
    """The judge's records from its result stream; any other line is ignored."""
    records = []
    prefix = f"{RECORD_PREFIX} {nonce} "
    for line in stream.decode("utf-8", "replace").splitlines():
        if line.startswith(prefix):
            try:
                record = json.loads(line[len(prefix) :])
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
    return records


def _limits(job: Job) -> dict:
    return {**DEFAULT_LIMITS, **{k: v for k, v in job.limits.items() if v is not None}}


def _judge_config(job: Job, mode: str, nonce: str, token: str, connect: dict, tests_dir: str) -> dict:
    return {
        "mode": mode,
        "nonce": nonce,
        "token": token,
        "connect": connect,
        "tests_dir": tests_dir,
        "limits": _limits(job),
        "learner_uid": LEARNER_UID,
        "exercise": job.slug,
        "language": job.language,
        "build_seconds": build_seconds(job),
        "fail_fast": job.fail_fast,
    }


def build_seconds(job: Job) -> float:
    """The C compile's own budget: BUILD_SECONDS, but never past the run's wall clock."""
    return min(BUILD_SECONDS, float(_limits(job)["run_seconds"]))


def _driver_config(job: Job, mode: str, token: str, connect: dict, submission_dir: str, scratch: str, tmp: str,
                   build: str) -> dict:
    return {
        "mode": mode,
        "token": token,
        "connect": connect,
        "entry": job.entry,
        "language": job.language,
        "submission_dir": submission_dir,
        "scratch_dir": scratch,
        "tmp_dir": tmp,
        "build_dir": build,
        "build_seconds": build_seconds(job),
        "limits": _limits(job),
        "forbid": list(job.forbid),
    }


def stage(job: Job, into: Path) -> tuple[Path, Path, Path]:
    """Copy runtime, hidden tests and submission into `into`, readable by the sandbox's users."""
    runtime = into / "runtime"
    hidden = into / "hidden"
    submission = into / "submission"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(job.runtime_dir, runtime, ignore=ignore)
    shutil.copytree(job.hidden_dir, hidden, ignore=ignore)
    shutil.copytree(job.submission_dir, submission, symlinks=True)
    for top in (into, runtime, hidden, submission):
        _world_readable(top)
    return runtime, hidden, submission


def _world_readable(top: Path) -> None:
    os.chmod(top, 0o755)
    for root, dirs, files in os.walk(top):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


# ====================================================================== local


class LocalBackend:
    """The hidden tests in local subprocesses: rlimits and a temporary folder, no isolation of users.

    The submission runs as you, can read your files and the hidden tests, and
    reach the network. Use it when Docker is not available, on your own code.
    """

    name = "local"
    WARNING = (
        "--sandbox local: the submission runs as you, with resource limits only; "
        "it can read your files and reach the network. Use Docker for code you do not trust."
    )

    def run(self, job: Job) -> RawRun:
        start = time.monotonic()
        limits = _limits(job)
        raw = RawRun(backend=self.name)
        with tempfile.TemporaryDirectory(prefix="prep-local-") as tmp:
            base = Path(tmp)
            runtime, hidden, submission = stage(job, base)
            scratch = base / "scratch"
            tmpdir = base / "tmp"
            build = base / "build"  # the compiled C program; the submission's user could replace it here
            scratch.mkdir(mode=0o700)
            tmpdir.mkdir(mode=0o700)
            build.mkdir(mode=0o755)
            judge_end, driver_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            nonce, token = secrets.token_hex(16), secrets.token_hex(16)
            judge_cfg = _judge_config(job, "local", nonce, token, {"fd": judge_end.fileno(), "wait_seconds": 20}, str(hidden))
            driver_cfg = _driver_config(
                job, "local", token, {"fd": driver_end.fileno()}, str(submission), str(scratch), str(tmpdir), str(build)
            )
            run_as: dict = {}
            learner_python = sys.executable
            if os.geteuid() == 0:  # never run a submission as root: the learner's side runs as nobody
                uid, gid = _nobody()
                for folder in (scratch, tmpdir, build):
                    os.chown(folder, uid, gid)
                os.chmod(hidden, 0o700)  # the judge (root) reads the hidden tests; nobody may not
                run_as = {"user": uid, "group": gid, "extra_groups": []}
                learner_python = _python_for_others()
                driver_cfg["local_nproc"] = _count_processes(uid) + int(limits["pids"])
            else:  # RLIMIT_NPROC counts all your processes: allow what runs now plus the limit
                driver_cfg["local_nproc"] = _count_processes(os.getuid()) + int(limits["pids"])
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LANG": "C.UTF-8",
                "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
                "HOME": str(scratch),
                "TMPDIR": str(tmpdir),
            }
            judge = subprocess.Popen(
                [sys.executable, "-I", str(runtime / "judge_main.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=[judge_end.fileno()], env=env, cwd=str(tmpdir), start_new_session=True,
            )
            driver = subprocess.Popen(
                [learner_python, "-I", str(runtime / "driver_main.py")],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=[driver_end.fileno()], env=env, cwd=str(scratch), start_new_session=True, **run_as,
            )
            judge_end.close()
            driver_end.close()
            for proc, cfg in ((judge, judge_cfg), (driver, driver_cfg)):
                try:
                    proc.stdin.write((json.dumps(cfg) + "\n").encode())
                    proc.stdin.close()
                except BrokenPipeError:
                    pass
            out = _Collector(judge.stdout, STREAM_CAP)
            errs = [_Collector(judge.stderr, 256 * 1024), _Collector(driver.stderr, 256 * 1024)]
            wall = float(limits["run_seconds"]) + STARTUP_SECONDS
            try:
                judge.wait(timeout=wall)
            except subprocess.TimeoutExpired:
                raw.killed_after = wall
                _kill_group(judge)
            except BaseException:  # Ctrl-C: leave nothing running
                _kill_group(judge)
                _kill_group(driver)
                raise
            try:
                driver.wait(timeout=5)  # it kills the submission's processes when the judge goes
            except subprocess.TimeoutExpired:
                _kill_group(driver)
            _kill_group(driver)
            out.join()
            for e in errs:
                e.join()
            raw.records = parse_records(out.data, nonce)
            raw.debug = b"\n".join(e.data for e in errs).decode("utf-8", "replace")
        raw.duration_ms = int((time.monotonic() - start) * 1000)
        return raw


def _python_for_others() -> str:
    """A Python 3 that a user other than root may run (this one may live under /root)."""
    for candidate in (sys.executable, shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")):
        if not candidate:
            continue
        real = os.path.realpath(candidate)
        parts = Path(real).parents
        if all(os.stat(p).st_mode & stat.S_IXOTH for p in parts) and os.stat(real).st_mode & stat.S_IXOTH:
            return real
    raise EnvironmentProblem(
        "--sandbox local as root runs the submission as `nobody`, and no Python 3 is executable by other users "
        "(install Debian's python3, or run prep as a normal user)"
    )


def _nobody() -> tuple[int, int]:
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _count_processes(uid: int) -> int:
    """Tasks (threads) of a uid: what RLIMIT_NPROC is checked against."""
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return n


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class _Collector:
    """Reads a pipe to EOF in a thread, keeping at most `cap` bytes."""

    def __init__(self, stream, cap: int) -> None:
        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(stream, cap), daemon=True)
        self._thread.start()

    def _read(self, stream, cap: int) -> None:
        chunks, kept = [], 0
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            if kept < cap:
                chunks.append(chunk[: cap - kept])
                kept += len(chunks[-1])
        self.data = b"".join(chunks)

    def join(self) -> None:
        self._thread.join(timeout=10)


# ====================================================================== docker


def _docker_module():
    try:
        import docker  # noqa: F401
    except ImportError:
        raise EnvironmentProblem("the `docker` Python package is missing: pip install docker") from None
    return docker


def engine_hint() -> str:
    return (
        "start the Docker engine (Debian: `sudo apt-get install -y docker.io` then `sudo systemctl start docker`, "
        "or `sudo dockerd &`), make sure you may use it (`docker info` works), or grade with `--sandbox local`"
    )


def connect(timeout: float = 120):
    """A docker client that answered a ping, or EnvironmentProblem saying what to do."""
    docker = _docker_module()
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except docker.errors.DockerException as exc:
        reason = str(exc).split("\n")[0][:200]
        raise EnvironmentProblem(f"no Docker engine answers ({reason}): {engine_hint()}") from None


class DockerBackend:
    """Two fresh containers per submission: the judge and the learner (docs/grading.md, "Trust model")."""

    name = "docker"

    def __init__(self, image: str = IMAGE, client=None) -> None:
        self.image = image
        self._client = client
        self.created: list[str] = []  # ids of every container this backend created (tests check they are gone)
        self.staged: list[str] = []  # the staging folders it made (likewise)
        self.on_started: Callable | None = None  # called with (judge, learner) once both run: tests inspect them

    @property
    def client(self):
        if self._client is None:
            self._client = connect()
        return self._client

    def ensure_ready(self) -> None:
        """Raise EnvironmentProblem unless the engine answers and the image exists."""
        docker = _docker_module()
        client = self.client
        try:
            client.images.get(self.image)
        except docker.errors.ImageNotFound:
            raise EnvironmentProblem(f"the sandbox image {self.image} is not built: run `prep sandbox build`") from None
        except docker.errors.DockerException as exc:
            raise EnvironmentProblem(f"the Docker engine failed: {str(exc)[:200]}: {engine_hint()}") from None

    def run(self, job: Job) -> RawRun:
        docker = _docker_module()
        from docker.types import LogConfig, Ulimit

        start = time.monotonic()
        limits = _limits(job)
        raw = RawRun(backend=self.name)
        client = self.client
        run_id = secrets.token_hex(6)
        nonce, token, sock_name = secrets.token_hex(16), secrets.token_hex(16), f"prep-{secrets.token_hex(12)}"
        mem = f"{int(limits['memory_mb'])}m"
        common = dict(
            image=self.image,
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            nano_cpus=int(float(limits["cpus"]) * 1e9),
            ulimits=[Ulimit(name="core", soft=0, hard=0), Ulimit(name="nofile", soft=1024, hard=1024)],
            shm_size="16m",
            detach=True,
            labels={LABEL: "1", f"{LABEL}.run": run_id, f"{LABEL}.exercise": job.slug, **_owner_labels(limits)},
            environment={"LANG": "C.UTF-8"},
        )
        containers = []
        with tempfile.TemporaryDirectory(prefix="prep-docker-") as tmp:
            self.staged.append(tmp)
            runtime, hidden, submission = stage(job, Path(tmp))
            judge_cfg = _judge_config(job, "docker", nonce, token, {"abstract": sock_name, "wait_seconds": 20}, "/opt/prep/hidden")
            driver_cfg = _driver_config(
                job, "docker", token, {"abstract": sock_name, "wait_seconds": 20},
                "/opt/prep/submission", "/scratch", "/tmp", BUILD_DIR,
            )
            driver_cfg["identity"] = {"driver_uid": DRIVER_UID, "uid": LEARNER_UID, "gid": LEARNER_UID}
            try:
                judge = client.containers.create(
                    command=["python3", "-I", "/opt/prep/runtime/judge_main.py"],
                    name=f"prep-{run_id}-judge",
                    user=f"{JUDGE_UID}:{JUDGE_UID}",
                    network_mode="none",
                    init=True,
                    working_dir="/tmp",
                    tmpfs={"/tmp": f"size=16m,uid={JUDGE_UID},gid={JUDGE_UID},mode=0700"},
                    volumes={
                        str(runtime): {"bind": "/opt/prep/runtime", "mode": "ro"},
                        str(hidden): {"bind": "/opt/prep/hidden", "mode": "ro"},
                    },
                    mem_limit="512m",
                    memswap_limit="512m",
                    pids_limit=64,
                    log_config=LogConfig(type="json-file", config={"max-size": "16m", "max-file": "1"}),
                    **{**common, "environment": {**common["environment"], "PREP_JUDGE": json.dumps(judge_cfg),
                                                 "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}},
                )
                containers.append(judge)
                self.created.append(judge.id)
                learner = client.containers.create(
                    command=["python3", "-I", "/opt/prep/runtime/driver_main.py"],
                    name=f"prep-{run_id}-learner",
                    # root with only these two capabilities, for the driver's first act: taking real uid
                    # DRIVER_UID and effective uid LEARNER_UID, which clears them (prep_judge/driver.py)
                    user="0:0",
                    cap_add=["SETUID", "SETGID"],
                    network_mode=f"container:{judge.id}",
                    pid_mode=f"container:{judge.id}",
                    working_dir="/scratch",
                    tmpfs=_learner_tmpfs(job, limits),
                    volumes={
                        str(runtime): {"bind": "/opt/prep/runtime", "mode": "ro"},
                        str(submission): {"bind": "/opt/prep/submission", "mode": "ro"},
                    },
                    mem_limit=mem,
                    memswap_limit=mem,
                    pids_limit=int(limits["pids"]),
                    log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
                    **{**common, "environment": {**common["environment"], "PREP_DRIVER": json.dumps(driver_cfg)}},
                )
                containers.append(learner)
                self.created.append(learner.id)
                judge.start()
                learner.start()
                if self.on_started is not None:
                    self.on_started(judge, learner)
                wall = float(limits["run_seconds"]) + STARTUP_SECONDS
                if not _wait_exit(judge, wall):
                    raw.killed_after = wall
                    _kill(judge)
                if not _wait_exit(learner, 5.0):
                    _kill(learner)
                judge_out = judge.logs(stdout=True, stderr=False)
                raw.records = parse_records(judge_out[:STREAM_CAP], nonce)
                raw.debug = (
                    judge.logs(stdout=False, stderr=True)[-65536:] + b"\n" + learner.logs(stdout=True, stderr=True)[-65536:]
                ).decode("utf-8", "replace")
                learner.reload()
                raw.oom_killed = bool(learner.attrs.get("State", {}).get("OOMKilled"))
                judge.reload()
                if judge.attrs.get("State", {}).get("OOMKilled"):
                    raw.internal_error = "the judge ran out of memory"
            except docker.errors.ImageNotFound:
                raise EnvironmentProblem(f"the sandbox image {self.image} is not built: run `prep sandbox build`") from None
            except docker.errors.DockerException as exc:
                raw.internal_error = f"the Docker engine failed: {str(exc).splitlines()[0][:300]}"
            finally:
                for container in containers:
                    try:
                        container.remove(force=True)
                    except docker.errors.DockerException:
                        pass
        raw.duration_ms = int((time.monotonic() - start) * 1000)
        return raw


def _learner_tmpfs(job: Job, limits: dict) -> dict[str, str]:
    """The learner container's writable folders: scratch and /tmp are the submission's; a C program
    is installed in BUILD_DIR, the driver's (real uid DRIVER_UID, 0755): the submission may run it,
    never replace it for a later test."""
    folders = {
        # exec: a program written into the scratch folder may run (docker's tmpfs default is noexec)
        "/scratch": f"size={int(limits['scratch_mb'])}m,uid={LEARNER_UID},gid={LEARNER_UID},mode=0700,exec,nosuid,nodev",
        "/tmp": f"size=16m,uid={LEARNER_UID},gid={LEARNER_UID},mode=0700",
    }
    if job.language == "c":
        folders[BUILD_DIR] = f"size={BUILD_MB}m,uid={DRIVER_UID},gid={DRIVER_UID},mode=0755,exec,nosuid,nodev"
    return folders


def _wait_exit(container, seconds: float) -> bool:
    """Wait until the container exits; False after `seconds` (the SDK's wait timeout is only an HTTP one)."""
    import requests

    docker = _docker_module()
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            container.wait(timeout=max(1, min(left, 30)))
            return True
        except (requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout):
            continue
        except docker.errors.NotFound:
            return True


def _owner_labels(limits: dict) -> dict[str, str]:
    """Who waits for a run's containers, and until when: `prep sandbox check` tells a grading in
    progress from a container an interrupted run left behind."""
    deadline = time.time() + float(limits["run_seconds"]) + STARTUP_SECONDS + 60
    return {f"{LABEL}.host": socket.gethostname(), f"{LABEL}.pid": str(os.getpid()), f"{LABEL}.until": str(int(deadline))}


def _kill(container) -> None:
    docker = _docker_module()
    try:
        container.kill()
    except docker.errors.DockerException:
        pass


# ====================================================================== image


@dataclass
class Check:
    """One line of `prep sandbox check`: what, whether it is fine, what to do if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    blocking: bool = True  # False: worth saying, but grading works all the same


def check(image: str = IMAGE) -> list[Check]:
    """What the Docker sandbox needs, each said plainly."""
    checks: list[Check] = []
    try:
        docker = _docker_module()
        checks.append(Check("docker SDK", True, f"docker {docker.__version__}"))
    except EnvironmentProblem as exc:
        checks.append(Check("docker SDK", False, str(exc), "pip install docker"))
        return checks
    try:
        client = connect(timeout=10)
        version = client.version()
        checks.append(Check("engine", True, f"Docker {version.get('Version', '?')} answers"))
    except EnvironmentProblem:
        checks.append(Check("engine", False, "no Docker engine answers", engine_hint()))
        return checks
    try:
        img = client.images.get(image)
        built = img.attrs.get("Created", "")[:19].replace("T", " ")
        stale = img.labels.get(f"{LABEL}.dockerfile") not in (None, dockerfile_digest())
        if stale:
            checks.append(Check("image", False, f"{image} was built from an older grader/Dockerfile", "prep sandbox build"))
        else:
            checks.append(Check("image", True, f"{image} (built {built} UTC)"))
    except docker.errors.ImageNotFound:
        checks.append(Check("image", False, f"{image} is not built", "prep sandbox build (add --from-debian when no registry is reachable)"))
        return checks
    try:
        out = client.containers.run(
            image, ["python3", "-c", "import sys, pytest, hypothesis; "
                    "print(sys.version.split()[0], pytest.__version__, hypothesis.__version__)"],
            remove=True, network_mode="none", user=f"{LEARNER_UID}:{LEARNER_UID}", read_only=True, cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
        )
        py, pt, hy = out.decode().split()
        checks.append(Check("container", True, f"runs as uid {LEARNER_UID}: Python {py}, pytest {pt}, Hypothesis {hy}"))
    except Exception as exc:  # anything here means the sandbox cannot run
        checks.append(Check("container", False, f"a test container failed: {str(exc)[:200]}", "prep sandbox build"))
    containers = client.containers.list(all=True, filters={"label": LABEL})
    stale = [c for c in containers if _abandoned(c)]
    running = len(containers) - len(stale)
    if running:
        checks.append(Check("gradings", True, f"{running} sandbox container(s) of gradings in progress", blocking=False))
    if stale:
        ids = " ".join(c.id[:12] for c in stale)
        checks.append(Check("leftovers", False, f"{len(stale)} sandbox container(s) left by interrupted runs (grading still works)",
                            f"docker rm -f {ids}", blocking=False))
    return checks


def _abandoned(container) -> bool:
    """A sandbox container no run is waiting for: its run's process is gone, or its run's time is long past.

    A run labels its containers with the host, the pid of the process that waits for them and a
    deadline (_owner_labels); containers of older versions have none, and count as left when
    stopped or running for more than 15 minutes."""
    from datetime import datetime, timezone

    labels = container.labels or {}
    try:
        until = float(labels[f"{LABEL}.until"])
        pid = int(labels[f"{LABEL}.pid"])
    except (KeyError, ValueError):
        until, pid = None, None
    if until is not None:
        if time.time() > until:
            return True
        if labels.get(f"{LABEL}.host") == socket.gethostname():
            return not _process_alive(pid)
        return False  # another machine's run, still within its time
    state = container.attrs.get("State", {})
    if not state.get("Running"):
        return True
    try:
        started = datetime.fromisoformat(state.get("StartedAt", "")[:26].rstrip("Z") + "+00:00")
    except ValueError:
        return False
    return (datetime.now(timezone.utc) - started).total_seconds() > 900


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dockerfile_path() -> Path:
    from . import content

    return content.grader_dir() / "Dockerfile"


def dockerfile_digest() -> str:
    import hashlib

    return hashlib.sha256(dockerfile_path().read_bytes()).hexdigest()[:16]


def build_image(
    from_debian: bool | None = None,
    image: str = IMAGE,
    progress: Callable[[str], None] = lambda line: None,
) -> str:
    """Build the sandbox image from grader/Dockerfile; the image id.

    from_debian: True makes the base image with debootstrap; None tries the
    registry first and falls back to debootstrap when it does not answer.
    """
    docker = _docker_module()
    client = connect(timeout=600)
    base = BASE_IMAGE
    if from_debian is not True:
        try:
            progress(f"pulling {BASE_IMAGE}")
            client.images.pull(BASE_IMAGE)
        except docker.errors.DockerException as exc:
            if from_debian is False:
                raise EnvironmentProblem(f"cannot pull {BASE_IMAGE}: {str(exc)[:200]}") from None
            progress(f"no registry answers ({str(exc).splitlines()[0][:120]}): making the base from Debian packages")
            from_debian = True
    if from_debian:
        base = debian_base(client, progress)
    progress(f"building {image} on {base}")
    try:
        built, logs = client.images.build(
            path=str(dockerfile_path().parent),
            dockerfile="Dockerfile",
            tag=image,
            buildargs={"BASE": base},
            network_mode="host",
            labels={LABEL: "1", f"{LABEL}.dockerfile": dockerfile_digest()},
            rm=True,
            forcerm=True,
        )
        for chunk in logs:
            line = str(chunk.get("stream", "")).strip()
            if line:
                progress(line)
    except docker.errors.BuildError as exc:
        tail = "\n".join(str(c.get("stream", c.get("error", ""))).strip() for c in list(exc.build_log)[-15:])
        raise EnvironmentProblem(f"building {image} failed:\n{tail}") from None
    except docker.errors.APIError as exc:
        raise EnvironmentProblem(f"building {image} failed: {str(exc)[:300]}") from None
    return built.id


def apt_mirror(etc_apt: Path = Path("/etc/apt")) -> str | None:
    """The Debian mirror of this machine's apt sources, if it has one (never a name written here)."""
    candidates: list[Path] = [etc_apt / "sources.list"]
    folder = etc_apt / "sources.list.d"
    if folder.is_dir():
        candidates += sorted(folder.glob("*.list")) + sorted(folder.glob("*.sources"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":
            for block in re.split(r"\n\s*\n", text):
                if re.search(r"^Suites:.*\bbookworm\b", block, re.M) and re.search(r"^Types:.*\bdeb\b", block, re.M):
                    uri = re.search(r"^URIs:\s*(\S+)", block, re.M)
                    if uri and "security" not in uri.group(1):
                        return uri.group(1)
        else:
            for line in text.splitlines():
                line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0])  # drop [arch=...] options
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[2] == "bookworm" and "security" not in parts[1]:
                    return parts[1]
    return None


def debian_base(client, progress: Callable[[str], None]) -> str:
    """Make the base image with debootstrap + `docker import`; its tag."""
    docker = _docker_module()
    try:
        client.images.get(LOCAL_BASE_TAG)
        progress(f"reusing {LOCAL_BASE_TAG}")
        return LOCAL_BASE_TAG
    except docker.errors.ImageNotFound:
        pass
    if shutil.which("debootstrap") is None:
        raise EnvironmentProblem(
            "no registry answers and debootstrap is missing: `sudo apt-get install -y debootstrap`, then `prep sandbox build --from-debian`"
        )
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            "making the base image from Debian packages needs root (debootstrap): run `sudo prep sandbox build --from-debian`"
        )
    mirror = apt_mirror()
    with tempfile.TemporaryDirectory(prefix="prep-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        cmd = ["debootstrap", "--variant=minbase", "bookworm", str(rootfs)] + ([mirror] if mirror else [])
        progress("$ " + " ".join(cmd))
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        tail: list[str] = []
        for line in proc.stdout:
            progress(line.rstrip())
            tail = (tail + [line.rstrip()])[-10:]
        if proc.wait() != 0:
            raise EnvironmentProblem("debootstrap failed:\n" + "\n".join(tail))
        progress(f"importing the root filesystem as {LOCAL_BASE_TAG}")
        import_rootfs(client, rootfs, LOCAL_BASE_TAG)
    return LOCAL_BASE_TAG


def import_rootfs(client, rootfs: Path, tag: str) -> None:
    """`tar -C rootfs -c . | docker import - tag`, through the engine's API."""
    repository, _, version = tag.partition(":")
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    try:
        client.api.import_image_from_stream(tar.stdout, repository=repository, tag=version or "latest")
    finally:
        tar.stdout.close()
        if tar.wait() != 0:
            raise EnvironmentProblem(f"tar of {rootfs} failed")
    client.images.get(tag)  # raises if the import did not produce it


def runtime_dir() -> Path:
    from . import content

    return content.grader_dir() / "runtime"


def hidden_dir(slug: str) -> Path:
    from . import content

    return content.grader_dir() / "hidden" / slug


def backend(name: str):
    if name == "docker":
        return DockerBackend()
    if name == "local":
        return LocalBackend()
    raise PrepError(f"unknown sandbox {name!r}: use docker or local")
