"""PostgreSQL and Redis for the tests, from Debian's packages, on 127.0.0.1 and free ports.

Each is a throwaway instance in a temporary folder that the test owns (it stops and starts
them: the fault tests). PostgreSQL refuses to run as root, so as root the cluster belongs
to the `postgres` user the Debian package creates. A missing program skips the test, and
fails it under CI=true (scripts/test.sh installs them), as the Docker tests do.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str) -> None:
    message = f"{what} is not installed (Debian: apt-get install postgresql redis-server; scripts/test.sh does)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on 127.0.0.1:{port} after {seconds} s")


def pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class Postgres:
    """A PostgreSQL cluster of its own: database `prep`, user `prep` (trust on 127.0.0.1)."""

    def __init__(self, folder: Path) -> None:
        self.initdb, self.pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            missing("PostgreSQL (initdb, pg_ctl)")
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                missing("the postgres user (PostgreSQL's Debian package makes it)")
        # the postgres user cannot reach into pytest's folders (mode 700, root's): a folder of its own
        self.home = Path(tempfile.mkdtemp(prefix="prep-test-pg-")) if self.user else folder
        self.home.chmod(0o755)
        self.data = self.home / "pgdata"
        self.log = self.home / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql://prep@127.0.0.1:{self.port}/prep"
        self.run(self.initdb, "-D", str(self.data), "-U", "prep", "-A", "trust", "--no-sync", "-E", "UTF8")
        self.start()
        self.run(pg_bin("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "prep", "prep")

    def run(self, *args: str) -> None:
        kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "cwd": "/"} if self.user else {}
        if self.user:
            for path in (self.data.parent, self.log):
                if path.exists():
                    os.chown(path, self.user.pw_uid, self.user.pw_gid)
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, **kwargs)
        assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"

    def start(self) -> None:
        self.log.touch()
        self.run(self.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start",
                 "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off")

    def stop(self) -> None:
        self.run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        """Stop it if it runs, and delete its folder."""
        done = subprocess.run([self.pg_ctl, "-D", str(self.data), "status"], capture_output=True)
        if done.returncode == 0:
            self.stop()
        shutil.rmtree(self.home, ignore_errors=True)


class Redis:
    """A redis-server of its own, nothing saved to disk: a restart loses every message it held."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        if not self.binary:
            missing("redis-server")
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None
        self.start()

    def start(self) -> None:
        with open(self.folder / "redis.log", "ab") as log:
            self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
