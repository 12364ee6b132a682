"""How quickly `prep quiz` shows its first card, and how long one rating takes to write.

    python benchmarks/quiz.py [--cards 2000] [--reviews 200000] [--runs 7]

Builds a bank of N cards and a progress database with M review-log rows in a
temporary folder, then measures, in the same run:

- `python -c pass`: the interpreter's own start, the floor;
- `python -m prep --help` and each command's `--help` (served from the help cache after the
  first), and `prep quiz --help` with an empty cache (the first help after an install);
- `prep stats` over the whole log (true retention, heatmap, streak);
- `prep quiz` in a pseudo-terminal, from spawn to the first card's key line,
  once cold (no bank cache: YAML is parsed and validated) and warm (cached);
- one rating written (`Session.rate`: fsrs plus one SQLite transaction).

Not a test: it prints figures. Targets, above the bare interpreter: first card
150 ms warm and 400 ms cold, every `--help` 150 ms; `prep stats` 300 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
# every command and group whose --help is timed
COMMANDS = [
    "quiz", "due", "stats", "test", "submit", "history", "bank", "bank list", "bank lint", "notes", "card",
    "progress", "exercise", "sandbox", "site",
]
TYPES = ["recall", "single", "multi", "short", "order"]


def make_bank(folder: Path, cards: int, topics: int = 10) -> list[str]:
    folder.mkdir(parents=True)
    names = [f"topic-{i}" for i in range(topics)]
    (folder / "topics.yaml").write_text(
        yaml.safe_dump({"topics": [{"id": t, "title": t.title(), "description": f"Cards of {t}."} for t in names]})
    )
    ids = []
    per = cards // topics
    for t in names:
        items = []
        for _ in range(per):
            n = len(ids) + 1
            kind = TYPES[n % len(TYPES)]
            card = {
                "id": f"card-{n}",
                "type": kind,
                "prompt": f"After fork(), the child closes the connected socket number {n}. Does the peer see EOF, and why?",
                "answer": "SHUT_WR" if kind == "short" else "No. FIN goes out only when the last descriptor for the socket is closed.",
                "explanation": "close drops one reference to the open file description; shutdown acts on the socket itself.",
                "tags": ["close", "fork"],
                "difficulty": "medium",
                "refs": ["close(2)", {"title": "shutdown(2)", "url": "https://man7.org/linux/man-pages/man2/shutdown.2.html"}],
                "source": {"section": "3/19", "lines": [5, 6]},
                "zh": ["引用计数", "半关闭"],
            }
            if kind in ("single", "multi"):
                card["choices"] = [
                    {"text": "No: the parent's copy keeps it open", "correct": True},
                    {"text": "Yes: close always sends FIN", "why": "only the last close does"},
                    {"text": "Yes, with RST", "why": "RST comes from unread data, not from close", "correct": kind == "multi"},
                ]
            if kind == "short":
                card["accept"] = ["shut_wr", "1"]
            if kind == "order":
                card["items"] = ["CLOSED", "SYN_SENT", "ESTABLISHED"]
            items.append(card)
            ids.append(card["id"])
        (folder / f"{t}.yaml").write_text(yaml.safe_dump({"topic": t, "cards": items}, allow_unicode=True, sort_keys=False))
    return ids


def make_db(path: Path, ids: list[str], reviews: int, seed: int = 7) -> None:
    """A log of `reviews` rows over two years, and each card's state after its last review."""
    from prep import store

    rng = random.Random(seed)
    db = store.open_db(path)
    per_card = reviews // len(ids)
    start = NOW - timedelta(days=730)
    rows, states = [], []
    for card_id in ids[: int(len(ids) * 0.9)]:  # a tenth stays new
        moments = sorted(start + timedelta(seconds=rng.uniform(0, 729 * 86400)) for _ in range(per_card))
        for at in moments:
            rows.append({
                "card_id": card_id, "rating": rng.choice([1, 3, 3, 3, 3, 4]), "reviewed_at": store.iso(at),
                "duration_ms": rng.randint(2000, 20000), "answer": None, "correct": None, "session_id": None,
                "kind": "quiz", "state_before": None, "state_after": 2, "interval_days": rng.uniform(1, 60),
            })
        last = moments[-1]
        due = NOW + timedelta(days=rng.uniform(-3, 40))
        states.append({
            "card_id": card_id, "state": 2, "step": None, "stability": rng.uniform(2, 80), "difficulty": rng.uniform(3, 8),
            "due": store.iso(due), "last_review": store.iso(last), "buried_until": None, "suspended": 0,
        })
    missing = reviews - len(rows)
    for i in range(missing):
        rows.append({**rows[i], "reviewed_at": store.iso(start + timedelta(seconds=i))})
    with store.writing(db):
        db["reviews"].insert_all(rows, batch_size=5000)
        db["card_state"].insert_all(states, batch_size=2000)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms  (min {min(samples) * 1000:6.1f}, max {max(samples) * 1000:6.1f})"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_command(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU time (user + system) of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        c, t = children_cpu(), time.perf_counter()
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - t)
        cpu.append(children_cpu() - c)
    return wall, cpu


def first_card(env: dict[str, str], marker: str = r"q\s+quit") -> tuple[float, float]:
    """Wall time from spawn to the first card's key line (it may wrap before `quit`); CPU time of the whole run (it quits at once)."""
    import pexpect

    c, t = children_cpu(), time.perf_counter()
    child = pexpect.spawn(sys.executable, ["-m", "prep", "quiz"], env=env, dimensions=(50, 160), encoding="utf-8", timeout=30)
    child.expect(marker)
    elapsed = time.perf_counter() - t
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    return elapsed, children_cpu() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--reviews", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="prep-bench-"))
    try:
        t = time.perf_counter()
        ids = make_bank(work / "bank", args.cards)
        make_db(work / "progress.db", ids, args.reviews)
        print(f"setup: {args.cards} cards, {args.reviews} review rows in {time.perf_counter() - t:.1f} s ({work})")
        env = dict(
            os.environ,
            PREP_BANK=str(work / "bank"), PREP_DB=str(work / "progress.db"), PREP_CACHE_DIR=str(work / "cache"),
            PREP_NOW=NOW.isoformat(), PREP_CONFIG=str(work / "settings.toml"), NO_COLOR="1", TERM="dumb",
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        first_card(env)  # warm the OS cache and the .pyc files before measuring anything

        baseline, baseline_cpu = time_command([sys.executable, "-c", "pass"], env, args.runs)
        help_run, help_cpu = time_command([sys.executable, "-m", "prep", "--help"], env, args.runs)
        # the first --help after an install or an upgrade builds the help (the cache is empty)
        fresh_run, fresh_cpu = [], []
        for i in range(max(3, args.runs // 2)):
            wall, cpu = time_command([sys.executable, "-m", "prep", "quiz", "--help"],
                                     {**env, "PREP_CACHE_DIR": str(work / f"fresh-cache-{i}")}, 1)
            fresh_run += wall
            fresh_cpu += cpu
        helps = {
            words: time_command([sys.executable, "-m", "prep", *words.split(), "--help"], env, max(3, args.runs // 2))
            for words in COMMANDS
        }
        stats_run, stats_cpu = time_command([sys.executable, "-m", "prep", "stats"], env, args.runs)
        cold, cold_cpu = [], []
        for _ in range(max(3, args.runs // 2)):
            shutil.rmtree(work / "cache", ignore_errors=True)
            wall, cpu = first_card(env)
            cold.append(wall)
            cold_cpu.append(cpu)
        warm_runs = [first_card(env) for _ in range(args.runs)]
        warm, warm_cpu = [w for w, _ in warm_runs], [c for _, c in warm_runs]

        from prep import bank_cache, store
        from prep.quiz import Options, Session

        db = store.open_db(work / "progress.db")
        index = bank_cache.load_index(work / "bank")
        clock_start = NOW
        ticks = iter(range(10**9))
        session = Session(db, index, options=Options(cram=False), clock=lambda: clock_start + timedelta(seconds=next(ticks)))
        session.ensure_session()
        writes = []
        for _ in range(50):
            item = session.next_item()
            if item is None:
                break
            t = time.perf_counter()
            session.rate(item.card_id, 3, duration_ms=4000, queue=item.queue)
            writes.append(time.perf_counter() - t)

        load = os.getloadavg()[0]
        print(f"\nmedian of {args.runs} runs; load average {load:.1f} on {os.cpu_count()} CPUs "
              "(CPU time is steadier than wall time on a busy machine)")
        print(f"{'':31}{'wall':>10}{'':25}{'CPU':>10}")
        print(f"python -c pass                 {median_ms(baseline)}   {median_ms(baseline_cpu)}")
        print(f"prep --help                    {median_ms(help_run)}   {median_ms(help_cpu)}")
        for words, (wall, cpu) in helps.items():
            print(f"{'prep ' + words + ' --help':31}{median_ms(wall)}   {median_ms(cpu)}")
        print(f"prep quiz --help, no cache     {median_ms(fresh_run)}   {median_ms(fresh_cpu)}")
        print(f"prep stats                     {median_ms(stats_run)}   {median_ms(stats_cpu)}")
        print(f"first card, cold bank cache    {median_ms(cold)}   {median_ms(cold_cpu)}")
        print(f"first card, warm bank cache    {median_ms(warm)}   {median_ms(warm_cpu)}")
        print(f"one rating written             {median_ms(writes)}   ({len(writes)} ratings, in process)")
        floor = statistics.median(baseline)
        print("\nabove the bare interpreter (median wall time), against the target:")
        above = [("first card, warm", warm, 150), ("first card, cold", cold, 400), ("prep --help", help_run, 150)]
        above += [(f"prep {words} --help", wall, 150) for words, (wall, _) in helps.items()]
        above += [("prep stats", stats_run, 300)]
        for name, samples, target in above:
            over = (statistics.median(samples) - floor) * 1000
            print(f"  {name:29}{over:6.0f} ms  (target {target} ms){'' if over <= target else '  OVER'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
