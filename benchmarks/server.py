"""How `prep server` holds a class: many learners submitting at once, one then two grading workers.

    python benchmarks/server.py [--submissions 200] [--clients 20] [--workers 1,2] [--concurrency 1]

The distributed mode, all real and all on 127.0.0.1: a PostgreSQL cluster and a
redis-server of the run's own (started as tests/services.py starts them), the API
server (`prep server --queue celery`) and `prep server worker` processes grading in
the Docker sandbox. `--clients` learners each submit the reference of `--exercise`
one after another (a learner has one submission in flight at a time: the server's
rule), following each with the long poll until its verdict, until `--submissions`
verdicts came back. That is done once for each number of workers in `--workers`
(each worker grades `--concurrency` at once), the workers started afresh.

Prints, for each number of workers, the throughput (verdicts per minute) and the
median and p95 time to verdict (from the POST to the client seeing `done`). The
baseline, measured in the same run: a bare local `prep submit SLUG DIR --sandbox
docker --no-record` of the same solution (a fresh process, as a learner runs it),
`--baseline-runs` times. The ratios: time to verdict over the baseline, and the
throughput over the baseline's (one local submit after another).

Needs the `server` extra, Debian's postgresql and redis-server, a running Docker
engine and the sandbox image (`prep sandbox build`). Nothing is written outside a
temporary folder; every process it started is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.services import Postgres, Redis, free_port  # noqa: E402

WAIT = 30  # seconds of one long poll


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def reference(slug: str) -> dict[str, str]:
    folder = REPO / "grader" / "solutions" / slug / "reference"
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()) if p.is_file()}


class Env:
    """The environment of every process the run starts: its own settings, data and cache folders."""

    def __init__(self, folder: Path) -> None:
        (folder / "data").mkdir()
        (folder / "cache").mkdir()
        self.vars = {**os.environ, "PREP_CONFIG": str(folder / "settings.toml"), "XDG_DATA_HOME": str(folder / "data"),
                     "PREP_CACHE_DIR": str(folder / "cache"), "PREP_SERVER_LOG": "warning"}
        for name in ("PREP_SERVER_DB", "PREP_SERVER_BROKER", "PREP_DB", "PREP_BANK"):
            self.vars.pop(name, None)

    def prep(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        done = subprocess.run([sys.executable, "-m", "prep", *args], capture_output=True, text=True,
                              env=self.vars, timeout=600)
        if done.returncode not in ok:
            raise SystemExit(f"prep {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, log: Path, *args: str) -> subprocess.Popen:
        with open(log, "ab") as out:
            return subprocess.Popen([sys.executable, "-m", "prep", *args], stdout=out, stderr=subprocess.STDOUT,
                                    env=self.vars)


def call(url: str, method: str, path: str, token: str, body=None, timeout: float = WAIT + 30):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read().decode() or "{}")


def wait_until(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"waited {seconds} s for {what}")


def submit_and_wait(url: str, token: str, slug: str, files: dict[str, str]) -> tuple[float, str]:
    """One submission from POST to its verdict as the client sees it: seconds and verdict."""
    start = time.perf_counter()
    while True:
        status, body = call(url, "POST", "/api/v1/submissions", token, {"exercise": slug, "files": files})
        if status == 202:
            break
        if status not in (429, 503):
            raise RuntimeError(f"POST refused: {status} {body}")
        time.sleep(0.5)
    state, submission_id = body["state"], body["id"]
    while state != "done":
        status, body = call(url, "GET", f"/api/v1/submissions/{submission_id}?wait={WAIT}&seen={state}", token)
        if status != 200:
            raise RuntimeError(f"GET refused: {status} {body}")
        state = body["state"]
    return time.perf_counter() - start, body["result"]["verdict"]


def load(url: str, tokens: list[str], slug: str, files: dict[str, str], total: int) -> tuple[float, list, list]:
    """`total` submissions from len(tokens) clients at once; wall seconds, times to verdict, verdicts."""
    lock = threading.Lock()
    left = [total]
    times: list[float] = []
    verdicts: list[str] = []
    failures: list[str] = []

    def client(token: str) -> None:
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            try:
                seconds, verdict = submit_and_wait(url, token, slug, files)
            except Exception as exc:  # noqa: BLE001 - counted and shown, not hidden
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                times.append(seconds)
                verdicts.append(verdict)
                print(f"\r  {len(times)}/{total} verdicts", end="", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    print(file=sys.stderr)
    if failures:
        print(f"  {len(failures)} submissions failed, the first: {failures[0]}", file=sys.stderr)
    return wall, times, verdicts


def baseline(env: Env, slug: str, files: dict[str, str], folder: Path, runs: int) -> tuple[list[float], list[str]]:
    """A bare local `prep submit` of the same files, `runs` times (plus one to warm up): seconds and verdicts."""
    work = folder / "submission"
    work.mkdir()
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    times, verdicts = [], []
    for i in range(runs + 1):
        start = time.perf_counter()  # exit 1: not passed (a machine so loaded that a test timed out)
        out = env.prep("submit", slug, str(work), "--sandbox", "docker", "--no-record", "--json", ok=(0, 1))
        seconds = time.perf_counter() - start
        if i:
            times.append(seconds)
            verdicts.append(json.loads(out)["verdict"])
    return times, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", default="1,2", help="numbers of worker processes, one round each")
    parser.add_argument("--concurrency", type=int, default=1, help="gradings at once in each worker")
    parser.add_argument("--exercise", default="red-envelope")
    parser.add_argument("--baseline-runs", type=int, default=5)
    args = parser.parse_args()
    rounds = [int(n) for n in args.workers.split(",")]
    files = reference(args.exercise)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop what it started, as on Ctrl-C

    folder = Path(tempfile.mkdtemp(prefix="prep-bench-server-"))
    env = Env(folder)
    procs: list[subprocess.Popen] = []
    postgres = redis = None
    try:
        postgres, redis = Postgres(folder), Redis(folder)
        db_args = ("server", "--db", postgres.url)
        env.prep(*db_args, "--init")
        env.prep(*db_args, "class", "create", "bench")
        tokens = [env.prep(*db_args, "learner", "add", "bench", f"learner-{i:02d}").strip()
                  for i in range(args.clients)]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs.append(env.start(folder / "api.log", *db_args, "--port", str(port), "--queue", "celery",
                               "--broker", redis.url))
        wait_until(lambda: answers(url), 60, f"the server to answer (log: {folder / 'api.log'})")

        print(f"baseline: {args.baseline_runs} bare local `prep submit {args.exercise}` ...", file=sys.stderr)
        local, local_verdicts = baseline(env, args.exercise, files, folder, args.baseline_runs)
        base = statistics.median(local)

        print(f"prep server benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
              f"{os.cpu_count()} CPUs ({platform.machine()}, {platform.python_implementation()} "
              f"{platform.python_version()}); exercise {args.exercise} (its reference), Docker sandbox")
        print(f"distributed mode: PostgreSQL + Redis on 127.0.0.1, {args.concurrency} grading(s) at once per worker; "
              f"{args.clients} clients, {args.submissions} submissions per round")
        print(f"baseline, a bare local `prep submit --sandbox docker` ({len(local)} runs): "
              f"median {base:.2f} s (min {min(local):.2f}, max {max(local):.2f}); "
              f"verdicts {({v: local_verdicts.count(v) for v in sorted(set(local_verdicts))})}")
        print(f"{'workers':>7} {'wall':>8} {'verdicts/min':>12} {'p50':>7} {'p95':>7} "
              f"{'p50/base':>8} {'p95/base':>8} {'thr x base':>10}  verdicts", flush=True)
        ok = True
        for n in rounds:
            workers = []
            for k in range(n):
                log = folder / f"worker-{n}-{k}.log"
                proc = env.start(log, *db_args, "worker", "--broker", redis.url, "--concurrency", str(args.concurrency))
                procs.append(proc)
                workers.append(proc)
                name = f"{socket.gethostname()}:{proc.pid}"
                wait_until(lambda: worker_seen(postgres.url, name), 90, f"worker {name} to start (log: {log})")
            print(f"{n} worker(s): {args.submissions} submissions from {args.clients} clients ...", file=sys.stderr)
            submit_and_wait(url, tokens[0], args.exercise, files)  # warm up: the workers' first grading
            wall, times, verdicts = load(url, tokens, args.exercise, files, args.submissions)
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            per_second = len(times) / wall
            counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
            ok = ok and len(times) == args.submissions and set(verdicts) == {"passed"}
            p50, p95 = statistics.median(times), percentile(times, 0.95)
            print(f"{n:>7} {wall:7.1f}s {per_second * 60:12.1f} {p50:6.2f}s {p95:6.2f}s "
                  f"{p50 / base:8.1f} {p95 / base:8.1f} {per_second * base:10.2f}  {counts}", flush=True)
        print("thr x base: verdicts per second times the baseline's seconds, i.e. the throughput over that of "
              "local submits run one after another")
        return 0 if ok else 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if redis:
            redis.stop()
        if postgres:
            postgres.remove()
        shutil.rmtree(folder, ignore_errors=True)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def worker_seen(db_url: str, name: str) -> bool:
    import sqlalchemy as sa

    from prep.server import db

    engine = db.engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(db.workers.c.name).where(db.workers.c.name == name)).first() is not None
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
