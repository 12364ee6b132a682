"""`prep server` distributed: PostgreSQL, Celery with Redis, two `prep server worker` processes.

All real: a PostgreSQL cluster and a redis-server of the test's own on 127.0.0.1 (tests/services.py),
the API server in a uvicorn subprocess, two worker processes grading in the Docker sandbox.
The faults: a worker killed with SIGKILL while it grades, the API server and Redis restarted
with submissions queued, PostgreSQL stopped for a few seconds, and stopped at the moment a
worker has taken a submission (the workers' pause points, distributed.pause_for_tests, hold
the gradings where the test needs them: no sleeping and hoping).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

for _module in ("fastapi", "uvicorn", "sqlalchemy", "celery", "redis", "psycopg"):
    pytest.importorskip(_module)

import sqlalchemy as sa  # noqa: E402

from prep.server import db  # noqa: E402
from prep.server.distributed import TASK, TEST_PAUSE_ENV, WORKER_DEAD_SECONDS, celery_app  # noqa: E402

from .services import Postgres, Redis, free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SLUG = "red-envelope"
REFERENCE = (REPO / "grader" / "solutions" / SLUG / "reference" / "envelope.py").read_text()
LEARNERS = ("alice", "bob", "carol", "dave", "erin")


def prep(*args: str) -> str:
    """A `prep` command in this process (the server's own commands); its stdout."""
    from typer.testing import CliRunner

    from prep.cli import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"prep {' '.join(args)}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Process:
    """A `prep server ...` subprocess, its output in a log file."""

    def __init__(self, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "prep", *args], stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PREP_SERVER_LOG": "info", **(env or {})})

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)


class Api(Process):
    def __init__(self, log: Path, db_url: str, broker: str, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(log, "server", "--db", db_url, "--port", str(port), "--queue", "celery", "--broker", broker)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.alive(), f"the server stopped: {log.read_text()}"
            try:
                if self.call("GET", "/api/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within 30 s: {log.read_text()}")

    def call(self, method: str, path: str, token: str | None = None, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, json.loads(exc.read().decode())

    def submit(self, token: str, text: str = REFERENCE):
        return self.call("POST", "/api/v1/submissions", token, {"exercise": SLUG, "files": {"envelope.py": text}})


class Worker(Process):
    def __init__(self, log: Path, db_url: str, broker: str, pauses: Path) -> None:
        super().__init__(log, "server", "--db", db_url, "worker", "--broker", broker, "--concurrency", "2",
                         "--resend-after", "5", env={TEST_PAUSE_ENV: str(pauses)})
        self.name = f"{socket.gethostname()}:{self.proc.pid}"


class Pauses:
    """The workers' pause points (distributed.pause_for_tests): ask for one, see who waits there, let it go."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir()

    def ask(self, point: str, submission_id: int) -> None:
        """From now on, every delivery of the task for `submission_id` waits at `point`."""
        (self.folder / f"{point}-{submission_id}").mkdir()

    def waiting(self, point: str, submission_id: int, seconds: float = 60) -> tuple[Path, str]:
        """The first delivery waiting there (wait for one): its mark, and the name of its worker."""
        where = self.folder / f"{point}-{submission_id}"
        mark = wait_for(lambda: next(iter(sorted(where.iterdir())), None), seconds,
                        f"a delivery of submission {submission_id}'s task to wait at {point!r}")
        return mark, mark.name.rsplit(".", 1)[0]

    def end(self, point: str, submission_id: int) -> None:
        """Let go every delivery waiting there, and ask no more (the marks' folder moves: each mark is gone)."""
        where = self.folder / f"{point}-{submission_id}"
        if where.exists():
            gone = where.with_name(f"ended-{where.name}-{time.monotonic_ns()}")
            where.rename(gone)
            shutil.rmtree(gone, ignore_errors=True)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """PostgreSQL, Redis, the API server and two workers; learners alice, bob, carol, dave and erin."""
    from tests.redteam.harness import require_docker

    require_docker()
    folder = tmp_path_factory.mktemp("distributed")
    postgres = Postgres(folder)
    redis = Redis(folder)
    grid = {"folder": folder, "postgres": postgres, "redis": redis, "procs": [], "tokens": {},
            "pauses": Pauses(folder / "pauses")}
    try:
        url = postgres.url
        prep("server", "--db", url, "--init")
        prep("server", "--db", url, "class", "create", "os-2027")
        for name in LEARNERS:
            grid["tokens"][name] = prep("server", "--db", url, "learner", "add", "os-2027", name).strip()
        grid["engine"] = db.engine(url)
        grid["port"] = free_port()
        grid["api"] = Api(folder / "api.log", url, redis.url, grid["port"])
        grid["procs"].append(grid["api"])
        grid["workers"] = [start_worker(grid, n) for n in (1, 2)]
        yield grid
    finally:
        for proc in grid["procs"]:
            proc.signal(signal.SIGCONT)
            proc.kill()
        if "engine" in grid:
            grid["engine"].dispose()
        redis.stop()
        postgres.remove()


def start_worker(grid, n: int) -> Worker:
    worker = Worker(grid["folder"] / f"worker-{n}.log", grid["postgres"].url, grid["redis"].url,
                    grid["pauses"].folder)
    grid["procs"].append(worker)
    wait_for(lambda: seen(grid, worker.name), 60, f"worker {n} to say it is alive: {worker.log}")
    return worker


def remove_containers_of(pid: int) -> None:
    """The sandbox containers a killed worker left (they would stop at their time limit anyway)."""
    from prep import sandbox

    client = sandbox.connect()
    for container in client.containers.list(all=True, filters={"label": f"org.prep.sandbox.pid={pid}"}):
        container.remove(force=True)


def seen(grid, name: str) -> bool:
    with grid["engine"].connect() as conn:
        return conn.execute(sa.select(db.workers.c.name).where(db.workers.c.name == name)).first() is not None


def row(grid, submission_id: int) -> dict:
    with grid["engine"].connect() as conn:
        return dict(conn.execute(sa.select(db.submissions).where(db.submissions.c.id == submission_id))
                    .mappings().one())


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def graded(grid, submission_id: int, seconds: float = 90) -> dict:
    logs = " ".join(str(p.log) for p in grid["procs"])
    done = wait_for(lambda: (r := row(grid, submission_id))["state"] == "done" and r, seconds,
                    f"submission {submission_id} to be graded (logs: {logs})")
    return {**done, "result": json.loads(done["result"])}


def test_postgresql_urls_use_psycopg_3_and_hide_their_password():
    assert db.sqlalchemy_url("postgresql://prep@db:5432/prep") == "postgresql+psycopg://prep@db:5432/prep"
    assert db.sqlalchemy_url("postgres://prep@db/prep") == "postgresql+psycopg://prep@db/prep"
    assert db.sqlalchemy_url("sqlite:///x.db") == "sqlite:///x.db"
    assert db.safe_url("postgresql://prep:secret@db/prep") == "postgresql://prep:***@db/prep"


def test_init_adds_the_new_columns_to_a_database_of_the_first_slice(tmp_path):
    engine = db.engine(f"sqlite:///{tmp_path / 'old.db'}")
    old = sa.MetaData()
    for table in db.metadata.sorted_tables:
        if table.name != "workers":
            columns = [sa.Column(c.name, c.type, primary_key=c.primary_key) for c in table.columns if c.name not in db.ADDED_COLUMNS.get(table.name, ())]
            sa.Table(table.name, old, *columns)
    old.create_all(engine)
    db.init(engine)
    names = {c["name"] for c in sa.inspect(engine).get_columns("submissions")}
    assert {"worker", "sent_at"} <= names and sa.inspect(engine).has_table("workers")
    db.init(engine)  # a second time changes nothing


def test_the_settings_file_names_the_database_and_the_broker(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from prep.cli import app

    monkeypatch.delenv("PREP_SERVER_DB", raising=False)
    target = tmp_path / "from-settings.db"
    config = Path(os.environ["PREP_CONFIG"])
    config.write_text(f'[server]\ndatabase = "sqlite:///{target}"\nbroker = "redis://127.0.0.1:1/0"\n')
    result = CliRunner().invoke(app, ["server", "--init"])
    assert result.exit_code == 0 and target.exists(), result.output
    config.write_text('[server]\ndatabase = ""\n')
    result = CliRunner().invoke(app, ["server", "--init"])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("[server]: `database` must be a non-empty string, not ''")


@pytest.mark.docker
def test_two_learners_are_graded_by_the_workers(grid):
    ids = []
    for name in ("alice", "bob"):
        status, _, body = grid["api"].submit(grid["tokens"][name])
        assert status == 202 and body["state"] == "queued", body
        ids.append(body["id"])
    names = {w.name for w in grid["workers"]}
    for submission_id in ids:
        done = graded(grid, submission_id)
        assert (done["result"]["verdict"], done["attempts"]) == ("passed", 1), done["result"]
        assert done["worker"] in names
    status, _, body = grid["api"].call("GET", f"/api/v1/submissions/{ids[0]}", grid["tokens"]["alice"])
    assert status == 200 and body["state"] == "done" and body["result"]["verdict"] == "passed"


@pytest.mark.docker
def test_a_worker_killed_while_it_grades_loses_nothing(grid):
    status, _, body = grid["api"].submit(grid["tokens"]["carol"])
    assert status == 202, body
    submission_id = body["id"]
    holder = wait_for(lambda: (r := row(grid, submission_id))["state"] == "running" and r["worker"], 60,
                      "a worker to take the submission")
    killed = next(w for w in grid["workers"] if w.name == holder)
    killed.proc.send_signal(signal.SIGKILL)
    killed.proc.wait(10)
    remove_containers_of(killed.proc.pid)
    done = graded(grid, submission_id)
    other = next(w for w in grid["workers"] if w is not killed)
    assert done["worker"] == other.name  # graded again by the other worker
    assert (done["result"]["verdict"], done["attempts"]) == ("passed", 2), done["result"]
    assert "already recorded" not in other.log.read_text()  # recorded once: nobody else stored a result
    grid["workers"] = [other, start_worker(grid, 3)]


@pytest.mark.docker
def test_restarting_the_server_and_the_broker_loses_no_queued_submission(grid):
    for worker in grid["workers"]:
        worker.signal(signal.SIGSTOP)  # nothing grades: the submissions stay queued
    try:
        ids = []
        for name in ("alice", "bob", "dave"):
            status, _, body = grid["api"].submit(grid["tokens"][name])
            assert status == 202 and body["state"] == "queued", body
            ids.append(body["id"])
        grid["api"].kill()
        grid["redis"].stop()  # it saves nothing: the three messages are gone
        grid["redis"].start()
        grid["api"] = Api(grid["folder"] / "api-2.log", grid["postgres"].url, grid["redis"].url, grid["port"])
        grid["procs"].append(grid["api"])
        assert all(row(grid, i)["state"] == "queued" for i in ids)
    finally:
        for worker in grid["workers"]:
            worker.signal(signal.SIGCONT)
    for submission_id in ids:
        done = graded(grid, submission_id)
        assert (done["result"]["verdict"], done["attempts"]) == ("passed", 1), done["result"]
    status, _, mine = grid["api"].call("GET", "/api/v1/submissions", grid["tokens"]["dave"])
    assert status == 200 and [s["state"] for s in mine] == ["done"]


@pytest.mark.docker
def test_the_database_away_for_a_moment_is_a_clear_503_and_loses_nothing(grid):
    api, tokens = grid["api"], grid["tokens"]
    status, _, body = api.submit(tokens["erin"])
    assert status == 202, body
    grading = body["id"]
    wait_for(lambda: row(grid, grading)["state"] == "running", 60, "a worker to take erin's submission")
    grid["postgres"].stop()
    try:
        status, headers, body = api.submit(tokens["alice"])
        assert (status, body) == (503, {"detail": "the server's database is not answering: try again in 5 s"})
        assert headers["Retry-After"] == "5"
        assert api.call("GET", "/api/v1/health")[0] == 200  # the server itself answers
        time.sleep(3)  # erin's grading may end while the database is away: its result waits
    finally:
        grid["postgres"].start()
    status, _, body = api.submit(tokens["alice"])
    assert status == 202, body
    assert graded(grid, body["id"])["result"]["verdict"] == "passed"
    done = graded(grid, grading)
    assert done["result"]["verdict"] == "passed"


@pytest.mark.docker
def test_a_grading_whose_database_goes_away_after_take_is_retried_elsewhere_and_recorded_once(grid):
    """PostgreSQL stops after worker W took a submission and before it read or stored anything.

    W's task fails on the database and is retried through Celery (not dropped: the task is declared
    with typing=False); the retry reaches the other worker, V, which will not take a row running on
    W, alive; W's sweep gives the row back (db.requeue_abandoned) and it is graded once. Each step is
    held by a pause point until the test lets it go; the tasks of ids with no submission ("fillers",
    refused by take() at once) occupy the workers' slots so that the broker has one place to deliver to.
    """
    api, pauses, engine = grid["api"], grid["pauses"], grid["engine"]
    by_name = {w.name: w for w in grid["workers"]}
    sender = celery_app(grid["redis"].url)
    fillers: dict[int, str] = {}  # filler id: the worker it waits on

    def fill(how_many: int) -> None:
        ids = range(900_000 + len(fillers), 900_000 + len(fillers) + how_many)
        for filler in ids:
            pauses.ask("delivered", filler)
            sender.send_task(TASK, args=[filler])
        for filler in ids:
            fillers[filler] = pauses.waiting("delivered", filler)[1]

    def free_one_slot_of(worker: str) -> None:
        """Let one of `worker`'s fillers go, and wait until its task ended (take() refused it)."""
        filler = next(f for f, w in fillers.items() if w == worker)
        pauses.end("delivered", filler)
        del fillers[filler]
        wait_for(lambda: f"submission {filler}: done, or graded by another worker" in by_name[worker].log.read_text(),
                 30, f"filler {filler} to end on {worker}")

    submission_id = None
    try:
        fill(4)  # two grading threads a worker, prefetch 1: every slot holds a filler, nothing else is taken
        assert sorted(fillers.values()) == sorted(2 * list(by_name)), fillers
        status, _, body = api.submit(grid["tokens"]["bob"])
        assert status == 202, body
        submission_id = body["id"]
        pauses.ask("taken", submission_id)
        first = next(iter(by_name))
        free_one_slot_of(first)  # that worker, W, takes the submission and waits, running
        _, holder = pauses.waiting("taken", submission_id)
        assert holder == first and row(grid, submission_id)["state"] == "running", row(grid, submission_id)
        other = next(name for name in by_name if name != holder)
        free_one_slot_of(other)  # V has a free slot, W none: a task sent now goes to V
        pauses.ask("delivered", submission_id)  # and waits there, before its take()
        db.heartbeat(engine, holder)  # fresh as the database stops: W still counts as alive when it is back
        grid["postgres"].stop()
        stopped = time.monotonic()
        try:
            pauses.end("taken", submission_id)  # W goes on: its first query fails, Celery retries the task
            _, receiver = pauses.waiting("delivered", submission_id)
            assert receiver == other, f"the retry reached {receiver}, not {other}"
        finally:
            grid["postgres"].start()
        assert time.monotonic() - stopped < WORKER_DEAD_SECONDS, "the database was away too long: W counts as dead"
        assert row(grid, submission_id)["worker"] == holder
        pauses.end("delivered", submission_id)  # V reads the row, running on W (alive), and does not take it
        done = graded(grid, submission_id, 180)
    finally:
        for filler in fillers:
            pauses.end("delivered", filler)
        if submission_id is not None:
            pauses.end("taken", submission_id)
            pauses.end("delivered", submission_id)
    assert (done["result"]["verdict"], done["attempts"]) == ("passed", 2), done["result"]
    assert f"graded again (a retry went elsewhere): {submission_id}" in by_name[holder].log.read_text()
    finished = [line for w in grid["workers"] for line in w.log.read_text().splitlines()
                if f"submission {submission_id} of {SLUG}:" in line]
    assert len(finished) == 1 and "already recorded" not in finished[0], finished  # graded and stored once
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.submissions.c.id).where(db.submissions.c.state == "running")).all() == []
