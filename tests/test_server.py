"""`prep server`: a real uvicorn server in a subprocess, real HTTP, a real SQLite file (docs/server.md).

One server that grades nothing (`--workers 0`) answers the refusals; it is then killed with
submissions queued, and one that grades in the Docker sandbox takes them up. The learner's
`prep submit --server` runs against it last.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("uvicorn")

from typer.testing import CliRunner  # noqa: E402

from prep import exercises, grading  # noqa: E402
from prep.cli import app  # noqa: E402
from prep.errors import InputError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SLUG = "red-envelope"
REFERENCE = (REPO / "grader" / "solutions" / SLUG / "reference" / "envelope.py").read_text()
WHITELIST = "(a submission may contain: envelope.py)"
RESULT_KEYS = {"version", "exercise", "verdict", "score", "message", "duration_ms", "backend", "counts_as_attempt",
               "performance", "build", "tests"}


def prep(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "prep", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)
    if check:
        assert done.returncode == 0, f"prep {' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, log: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "prep", "server", "--db", db_url, "--port", str(self.port), *args],
                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PREP_SERVER_LOG": "warning"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server stopped: {log.read_text()}"
            try:
                status, _, body = self.call("GET", "/api/v1/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the server did not answer within 30 s: {log.read_text()}")

    def call(self, method: str, path: str, token: str | None = None, body=None, raw: bytes | None = None,
             timeout: float = 90):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                text = response.read().decode()
                kind = response.headers.get("content-type", "")
                return response.status, response.headers, json.loads(text) if "json" in kind else text
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, json.loads(exc.read().decode())

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


def cli(*args: str) -> str:
    """A `prep` command in this process (the server's own commands); its stdout."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, f"prep {' '.join(args)}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server database with a class: learners alice, bob, carol and dave, instructor ian."""
    folder = tmp_path_factory.mktemp("server")
    db_file = folder / "server.db"
    url = f"sqlite:///{db_file}"
    cli("server", "--db", url, "--init")
    cli("server", "--db", url, "class", "create", "os-2027")
    tokens = {}
    for name in ("alice", "bob", "carol", "dave"):
        tokens[name] = cli("server", "--db", url, "learner", "add", "os-2027", name).strip()
    tokens["ian"] = cli("server", "--db", url, "instructor", "add", "os-2027", "ian").strip()
    world = {"url": url, "file": db_file, "folder": folder, "tokens": tokens, "servers": []}
    yield world
    for server in world["servers"]:  # whatever a failing test left running
        server.kill()


@pytest.fixture(scope="module")
def taker(world):
    """A server that takes submissions and grades none (two in flight at most)."""
    server = Server(world["url"], world["folder"] / "taker.log", "--workers", "0", "--queue-size", "2")
    world["servers"].append(server)
    yield server
    server.kill()


def submit(server: Server, token: str, files: dict[str, str], exercise: str = SLUG):
    return server.call("POST", "/api/v1/submissions", token, {"exercise": exercise, "files": files})


def local_message(tmp_path: Path, name: str, data: bytes) -> str:
    """What `prep submit` says of a single file NAME: the server must say the same."""
    ex = exercises.load_catalog(REPO / "exercises").get(SLUG)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        grading.collect(ex, path)
    return str(caught.value)


def test_tokens_are_stored_hashed_and_shown_once(world):
    with sqlite3.connect(world["file"]) as conn:
        stored = [row[0] for row in conn.execute("SELECT token_hash FROM users")]
    assert len(stored) == 5 and all(len(h) == 64 for h in stored)
    assert not set(world["tokens"].values()) & set(stored)


def test_a_token_is_needed_and_must_be_good(taker, world):
    status, headers, body = taker.call("GET", "/api/v1/exercises")
    assert (status, body["detail"]) == (401, "no token: send the header Authorization: Bearer TOKEN")
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _, body = taker.call("GET", "/api/v1/exercises", "not-a-token")
    assert (status, body["detail"]) == (401, "unknown token")
    status, _, body = taker.call("GET", "/api/v1/me", world["tokens"]["dave"])
    assert (status, body) == (200, {"name": "dave", "role": "learner", "class": "os-2027"})
    cli("server", "--db", world["url"], "learner", "revoke", "os-2027", "dave")
    status, _, body = taker.call("GET", "/api/v1/me", world["tokens"]["dave"])
    assert status == 401 and body["detail"].startswith("this token was revoked on "), body


def test_exercises_show_what_a_learner_may_see(taker, world):
    status, _, listed = taker.call("GET", "/api/v1/exercises", world["tokens"]["alice"])
    assert status == 200 and SLUG in {e["slug"] for e in listed}
    status, _, one = taker.call("GET", f"/api/v1/exercises/{SLUG}", world["tokens"]["alice"])
    assert status == 200
    assert one["statement"] == (REPO / "exercises" / SLUG / "README.md").read_text()
    assert set(one["starter"]) == {"envelope.py"}
    assert one["visible_tests"] and all(name.startswith("test_") for name in one["visible_tests"])
    assert set(one) == set(listed[0]) | {"statement", "starter", "visible_tests"}  # no hidden test, no solution
    status, _, body = taker.call("GET", "/api/v1/exercises/no-such", world["tokens"]["alice"])
    assert status == 404 and body["detail"].startswith("no exercise 'no-such'")
    status, _, spec = taker.call("GET", "/api/v1/openapi.json")
    assert status == 200 and "/api/v1/submissions/{submission_id}" in spec["paths"]


def test_the_api_page_is_our_own_and_loads_nothing_from_elsewhere(taker):
    status, headers, page = taker.call("GET", "/api/v1/docs")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert '<a href="/api/v1/openapi.json">' in page and "<code>/api/v1/submissions/{submission_id}</code>" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page  # no CDN: works offline
    assert taker.call("GET", "/favicon.ico")[0] == 204  # a browser's question, answered without an error


@pytest.mark.parametrize("name", ["x.py", "../envelope.py", "/etc/passwd", "sub/envelope.py", "conftest.py"])
def test_names_outside_the_whitelist_are_refused_as_locally(taker, world, name):
    status, _, body = submit(taker, world["tokens"]["alice"], {"envelope.py": REFERENCE, name: "x = 1\n"})
    assert (status, body["detail"]) == (422, f"{name} is not a file of {SLUG} {WHITELIST}")


def test_a_name_that_would_break_the_line_is_shown_quoted(taker, world):
    status, _, body = submit(taker, world["tokens"]["alice"], {"envelope.py": REFERENCE, "a\nb.py": ""})
    assert (status, body["detail"]) == (422, f"'a\\nb.py' is not a file of {SLUG} {WHITELIST}")
    status, _, body = submit(taker, world["tokens"]["alice"], {"envelope.py": REFERENCE, "y" * 5000: ""})
    assert (status, body["detail"]) == (422, f"'{'y' * 100}'... is not a file of {SLUG} {WHITELIST}")


def test_a_server_without_its_tables_says_what_to_run(tmp_path):
    result = CliRunner().invoke(app, ["server", "--db", f"sqlite:///{tmp_path / 'new.db'}", "--workers", "0"])
    assert result.exit_code == 3
    assert result.stderr == f"Error: sqlite:///{tmp_path / 'new.db'} has no prep server tables: run `prep server --init` first\n"


def test_the_same_line_as_local_grading(taker, world, tmp_path):
    status, _, body = submit(taker, world["tokens"]["alice"], {"x.py": "x = 1\n"})
    assert (status, body["detail"]) == (422, local_message(tmp_path, "x.py", b"x = 1\n"))


def test_missing_entry_and_oversized_files(taker, world):
    alice = world["tokens"]["alice"]
    status, _, body = submit(taker, alice, {})
    assert (status, body["detail"]) == (
        422, f"envelope.py is missing: the submission's entry file (start from `prep exercise start {SLUG}`)")
    status, _, body = submit(taker, alice, {"envelope.py": "#" * (600 * 1024)})
    assert (status, body["detail"]) == (413, "envelope.py is 600 KB: at most 512 KB per file")
    # refused on its Content-Length, before the body is read (as a client that waits for 100-continue sees it)
    conn = http.client.HTTPConnection("127.0.0.1", taker.port, timeout=30)
    conn.putrequest("POST", "/api/v1/submissions")
    for key, value in (("Authorization", f"Bearer {alice}"), ("Content-Type", "application/json"),
                       ("Content-Length", str(5 * 1024 * 1024))):
        conn.putheader(key, value)
    conn.endheaders()
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())["detail"]) == (413, "the request is 5120 KB: at most 4096 KB")
    conn.close()
    status, _, body = taker.call("POST", "/api/v1/submissions", alice, raw=b"not json")
    assert status == 400 and body["detail"].startswith("the body is not JSON")
    status, _, body = taker.call("POST", "/api/v1/submissions", alice, raw=b"[" * 100_000)
    assert (status, body["detail"]) == (400, "the body is not JSON this server reads: nested too deep")


def test_one_at_a_time_then_a_full_queue_then_not_yours(taker, world):
    tokens = world["tokens"]
    status, _, first = submit(taker, tokens["alice"], {"envelope.py": REFERENCE})
    assert status == 202 and first["state"] == "queued" and first["result"] is None, first
    status, headers, body = submit(taker, tokens["alice"], {"envelope.py": REFERENCE})
    assert (status, body["detail"]) == (
        429, f"submission {first['id']} is still being graded: one submission at a time per learner")
    assert headers["Retry-After"] == "5"
    status, _, second = submit(taker, tokens["bob"], {"envelope.py": REFERENCE})
    assert status == 202 and second["queued_ahead"] == 1, second
    status, headers, body = submit(taker, tokens["carol"], {"envelope.py": REFERENCE})
    assert (status, body["detail"]) == (503, "the grading queue is full (2 submissions): try again later")
    assert headers["Retry-After"] == "30"
    status, _, body = taker.call("GET", f"/api/v1/submissions/{first['id']}", tokens["bob"])
    assert (status, body["detail"]) == (403, f"submission {first['id']} is not yours")
    status, _, body = taker.call("GET", "/api/v1/submissions/9999", tokens["bob"])
    assert (status, body["detail"]) == (404, "no submission 9999")
    status, _, mine = taker.call("GET", "/api/v1/submissions", tokens["bob"])
    assert [s["id"] for s in mine] == [second["id"]]
    status, _, theirs = taker.call("GET", "/api/v1/submissions", tokens["ian"])
    assert {s["id"] for s in theirs} == {first["id"], second["id"]}
    # a long poll with nothing happening answers after its wait, unchanged
    started = time.monotonic()
    status, _, same = taker.call("GET", f"/api/v1/submissions/{first['id']}?wait=1", tokens["alice"])
    assert status == 200 and same["state"] == "queued" and 0.9 <= time.monotonic() - started < 5
    # one that last saw another state is answered at once
    started = time.monotonic()
    status, _, same = taker.call("GET", f"/api/v1/submissions/{first['id']}?wait=30&seen=running", tokens["alice"])
    assert status == 200 and same["state"] == "queued" and time.monotonic() - started < 5
    world["queued"] = [first["id"], second["id"]]


def test_the_instructor_pages(taker, world):
    status, _, body = taker.call("GET", "/class", world["tokens"]["alice"])
    assert (status, body["detail"]) == (403, "only an instructor of the class may see this")
    status, _, page = taker.call("GET", "/class", world["tokens"]["ian"])
    assert status == 200 and "<th>alice</th>" in page and f"<span>{SLUG}</span></th>" in page
    # a browser: the form keeps the token in a cookie, then /class opens without a header
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(taker.url + "/class", timeout=30) as response:  # not logged in yet: sent to the form
        assert response.url.endswith("/login") and "Instructor token" in response.read().decode()
    form = urllib.parse.urlencode({"token": world["tokens"]["ian"]}).encode()
    with opener.open(taker.url + "/login", data=form, timeout=30) as response:
        assert response.status == 200 and response.url.endswith("/class")
        assert "<th>alice</th>" in response.read().decode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(taker.url + "/login", data=urllib.parse.urlencode({"token": world["tokens"]["bob"]}).encode())
    assert refused.value.code == 403
    status, _, text = taker.call("GET", "/api/v1/class/submissions.csv", world["tokens"]["ian"])
    lines = text.strip().splitlines()
    assert status == 200 and lines[0].startswith("id,learner,exercise,state,verdict")
    assert len(lines) == 3 and ",alice,red-envelope,queued," in lines[1]


@pytest.mark.docker
def test_a_restarted_server_grades_what_was_left_once(taker, world):
    """Killed with two submissions in flight (one as if mid-grading): the next server grades each once."""
    from tests.redteam.harness import require_docker

    require_docker()
    if "queued" not in world:
        pytest.skip("needs the submissions test_one_at_a_time_then_a_full_queue_then_not_yours queues")
    queued = world["queued"]
    taker.kill()
    with sqlite3.connect(world["file"]) as conn:  # as a server killed while grading it leaves it
        conn.execute("UPDATE submissions SET state = 'running', attempts = 1 WHERE id = ?", (queued[1],))
    grader = Server(world["url"], world["folder"] / "grader.log", "--workers", "2")
    world["servers"].append(grader)
    world["grader"] = grader
    tokens = world["tokens"]
    for submission_id, who, attempts in ((queued[0], "alice", 1), (queued[1], "bob", 2)):
        row = {"state": "queued"}
        deadline = time.monotonic() + 240
        while row["state"] != "done" and time.monotonic() < deadline:
            status, _, row = grader.call("GET", f"/api/v1/submissions/{submission_id}?wait=30", tokens[who])
            assert status == 200, row
        assert row["state"] == "done", f"not graded within 240 s: {row}"
        assert row["attempts"] == attempts, row
        result = row["result"]
        assert set(result) == RESULT_KEYS and result["backend"] == "docker", result
        assert (result["verdict"], result["score"]) == ("passed", 1.0), result["message"]
    # graded again by hand (a re-delivered task): nothing is recorded twice
    from prep.server import db
    from prep.server.grading import grade_submission

    engine = db.engine(world["url"])
    before = db.submission_row(engine, queued[0])
    assert grade_submission(engine, queued[0], backend=None) is False
    assert db.submission_row(engine, queued[0]) == before


def test_prep_submit_needs_the_token_in_the_settings(tmp_path):
    settings = tmp_path / "settings.toml"
    settings.write_text('[server]\nurl = "http://127.0.0.1:9"\n')
    work = tmp_path / "ws"
    work.mkdir()
    (work / "envelope.py").write_text(REFERENCE)
    done = prep("submit", SLUG, str(work), env={"PREP_CONFIG": str(settings)}, check=False)
    assert (done.returncode, done.stderr) == (
        1, f'Error: no token for the grading server: put token = "..." under [server] in {settings}\n')


@pytest.mark.docker
def test_prep_submit_on_the_server_records_as_locally(world, tmp_path):
    """Interrupted (its files already sent), then again: it waits for that grading; then a fresh one."""
    grader = world.get("grader")
    if grader is None:
        pytest.skip("needs the grading server of the test before")
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[server]\nurl = "{grader.url}"\ntoken = "{world["tokens"]["carol"]}"\n')
    work, other = tmp_path / "ws", tmp_path / "other"
    work.mkdir()
    other.mkdir()
    (work / "envelope.py").write_text(REFERENCE)
    (other / "envelope.py").write_text(REFERENCE + "\n# changed\n")
    env = {"PREP_CONFIG": str(settings), "PREP_DB": str(tmp_path / "progress.db")}
    status, _, sent = submit(grader, world["tokens"]["carol"], {"envelope.py": REFERENCE})
    assert status == 202, sent

    refused = prep("submit", SLUG, str(other), env=env, check=False)  # other files: one at a time
    assert (refused.returncode, refused.stderr) == (1, f"Error: the server: submission {sent['id']} is still being "
                                                       "graded: one submission at a time per learner (try again in 5 s)\n")
    done = prep("submit", SLUG, str(work), "--json", env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (f"{SLUG}: these files are on {grader.url} already, as submission "
                                           f"{sent['id']} (sent by a `prep submit` that was interrupted): waiting "
                                           "for its result"), done.stderr
    result = json.loads(done.stdout)
    assert set(result) == RESULT_KEYS | {"recorded"} and result["verdict"] == "passed"
    assert result["backend"] == "docker" and result["recorded"]["submission_id"] == 1, result["recorded"]

    again = prep("submit", SLUG, str(other), "--json", env=env, check=False)
    assert again.returncode == 0, again.stderr
    said = again.stderr.splitlines()
    assert said[0].startswith(f"{SLUG}: queued on {grader.url} as submission "), said
    assert said[1] == f"{SLUG}: running on {grader.url}", said
    assert said[2].startswith(f"graded on {grader.url} as submission "), said
    history = json.loads(prep("history", SLUG, "--json", env=env).stdout)
    assert [h["verdict"] for h in history] == ["passed", "passed"], history
    grader.kill()

def test_without_the_extra_it_says_which_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a))
    result = CliRunner().invoke(app, ["server", "--db", "sqlite:///:memory:", "--init"])
    assert result.exit_code == 3
    assert result.stderr == "Error: prep server needs fastapi: install the server extra, pip install 'prep[server]'\n"


def test_init_hides_the_password_and_says_to_name_the_database_again(monkeypatch):
    from prep.server import db

    monkeypatch.setattr(db, "init", lambda engine: None)
    result = CliRunner().invoke(app, ["server", "--db", "postgresql://prep:secret@db.invalid/prep", "--init"])
    assert result.exit_code == 0, result.output
    assert "secret" not in result.stderr
    assert "ready: postgresql://prep:***@db.invalid/prep\n" in result.stderr
    assert "(each with the same --db, or PREP_SERVER_DB set)" in result.stderr


def test_the_openapi_description_in_docs_is_the_one_served():
    from prep.server.api import openapi

    stored = json.loads((REPO / "docs" / "server-openapi.json").read_text())
    assert stored == openapi(), "docs/server-openapi.json is stale: run `prep server openapi --write`"


def test_two_gradings_of_one_submission_record_one_result(tmp_path):
    """grade_submission called twice at once (a re-delivered task beside the first): one result is stored."""
    import threading

    from prep import sandbox
    from prep.server import db
    from prep.server.grading import grade_submission

    engine = db.engine(f"sqlite:///{tmp_path / 'server.db'}")
    db.init(engine)
    db.create_class(engine, "c")
    user = db.add_user(engine, "c", "alice", "learner", "token")
    submission_id = db.add_submission(engine, user["id"], SLUG, {"envelope.py": REFERENCE}, "hash", 10)
    both_running = threading.Barrier(2, timeout=30)

    class Fake:
        """Both gradings are inside the backend at once; each says a different verdict."""

        name = "fake"
        verdicts = iter(["passed", "failed"])

        def run(self, job):
            status = next(self.verdicts)
            both_running.wait()
            return sandbox.RawRun(backend="fake", records=[
                {"kind": "plan", "tests": [{"name": "test_one"}]},
                {"kind": "test", "name": "test_one", "status": status, "message": None}])

    fake = Fake()
    recorded = []
    threads = [threading.Thread(target=lambda: recorded.append(grade_submission(engine, submission_id, fake)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(recorded) == [False, True]
    row = db.submission_row(engine, submission_id)
    assert row["state"] == "done" and row["attempts"] == 1, row
    assert json.loads(row["result"])["verdict"] in ("passed", "failed")
