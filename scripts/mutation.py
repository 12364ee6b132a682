"""Mutation testing of an exercise's reference through the real grading path (a maintainer's tool).

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python scripts/mutation.py SLUG [--sandbox local|docker] [--limit N]

cosmic-ray mutates a copy of grader/solutions/SLUG/reference one change at a time and, for each
mutant, grades the copy with the hidden tests (`prep.grading.grade`, as `prep submit` does): a mutant
the hidden tests pass has survived. The script prints the score (killed / mutants that are not
equivalent) and every survivor with its diff. Equivalent mutants, those no test could tell apart
from the reference, are listed with a reason in grader/solutions/SLUG/EQUIVALENT.md, one per line:

    - `runcmd.py:42 core/NumberReplacer #1`: the buffer size is a performance choice, not behaviour

`--sandbox local` (the default) is fast; confirm with `--sandbox docker`. Budget about 1.5 s
(local) to 3 s (docker) a mutant, and run one exercise at a time on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT = "EQUIVALENT.md"


def judge(slug: str, folder: Path, sandbox_name: str) -> int:
    """The test command of one mutant: 0 when the hidden tests pass it (it survived), 1 when they do not."""
    sys.path.insert(0, str(REPO))
    from prep import exercises, grading, sandbox

    exercise = exercises.load_catalog(REPO / "exercises").get(slug)
    result = grading.grade(exercise, grading.collect(exercise, folder), sandbox.backend(sandbox_name))
    if result["verdict"] == "internal-error":
        print(f"internal error: {result['message']}", file=sys.stderr)
    return 0 if result["verdict"] == "passed" else 1


def mutant_key(item: dict) -> str:
    """How a mutant is named in EQUIVALENT.md: file:line operator #occurrence."""
    mutation = item["mutations"][0]
    path = Path(mutation["module_path"]).name
    return f"{path}:{mutation['start_pos'][0]} {mutation['operator_name']} #{mutation['occurrence']}"


def equivalents(slug: str) -> dict[str, str]:
    path = REPO / "grader" / "solutions" / slug / EQUIVALENT
    if not path.is_file():
        return {}
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^- `([^`]+)`:\s*(.+)$", line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


def run(slug: str, sandbox_name: str, limit: int | None) -> int:
    from prep import exercises

    exercise = exercises.load_catalog(REPO / "exercises").get(slug)
    if exercise.language != "python":
        sys.exit(f"{slug} is a {exercise.language} exercise: cosmic-ray mutates Python only")
    cosmic = shutil.which("cosmic-ray", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if cosmic is None:
        sys.exit("cosmic-ray is missing: .venv/bin/pip install -e '.[mutation]'")
    work = Path(tempfile.mkdtemp(prefix=f"prep-mutation-{slug}-"))
    solution = work / "solution"
    shutil.copytree(REPO / "grader" / "solutions" / slug / "reference", solution)
    test_command = f"{sys.executable} {Path(__file__).resolve()} --judge {slug} {solution} --sandbox {sandbox_name}"
    config = work / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{solution / exercise.entry}"\n'
        f"timeout = {float(exercise.limits.run_seconds) + 60}\n"
        "excluded-modules = []\n"
        f'test-command = "{test_command}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    session = work / "session.sqlite"
    subprocess.run([cosmic, "init", str(config), str(session)], check=True)
    if limit is not None:
        _keep_first(session, limit)
    print(f"{slug}: grading the unmutated reference first ({sandbox_name} sandbox)", file=sys.stderr)
    if judge(slug, solution, sandbox_name) != 0:
        sys.exit("the reference does not pass its hidden tests: fix that first")
    started = time.monotonic()
    subprocess.run([cosmic, "exec", str(config), str(session)], check=True)
    seconds = time.monotonic() - started
    dump = subprocess.run([cosmic, "dump", str(session)], capture_output=True, text=True, check=True).stdout
    return report(slug, dump, seconds, sandbox_name)


def _keep_first(session: Path, limit: int) -> None:
    """A smoke run: only the first `limit` mutants (cosmic-ray's work items)."""
    import sqlite3

    with sqlite3.connect(session) as db:
        ids = [row[0] for row in db.execute("SELECT job_id FROM work_items ORDER BY job_id")]
        for job_id in ids[limit:]:
            db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM work_items WHERE job_id = ?", (job_id,))


def report(slug: str, dump: str, seconds: float, sandbox_name: str) -> int:
    known = equivalents(slug)
    killed, survived, equivalent, other = [], [], [], []
    for line in dump.splitlines():
        item, result = json.loads(line)
        if result is None:
            other.append((item, "not run"))
            continue
        key = mutant_key(item)
        if result.get("test_outcome") == "killed":
            killed.append(key)
        elif result.get("test_outcome") == "survived":
            (equivalent if key in known else survived).append((key, result.get("diff") or ""))
        else:
            other.append((item, result.get("worker_outcome")))
    counted = len(killed) + len(survived)
    score = len(killed) / counted if counted else 1.0
    print(f"{slug}: {len(killed)} of {counted} non-equivalent mutants killed ({score:.1%}); "
          f"{len(equivalent)} equivalent (grader/solutions/{slug}/{EQUIVALENT}); {len(other)} incompetent or not run; "
          f"{seconds / 60:.1f} min in the {sandbox_name} sandbox, {seconds / max(counted + len(equivalent), 1):.1f} s a mutant")
    stale = set(known) - {k for k, _ in equivalent}
    for key in sorted(stale):
        print(f"  listed as equivalent but not a surviving mutant now: {key}")
    for key, diff in survived:
        print(f"\nSURVIVED {key}\n{diff.rstrip()}")
    return 0 if score >= 0.9 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slug")
    parser.add_argument("folder", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", choices=("local", "docker"), default="local")
    parser.add_argument("--limit", type=int, help="only the first N mutants (a smoke run)")
    parser.add_argument("--judge", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge:
        sys.exit(judge(args.slug, args.folder, args.sandbox))
    sys.exit(run(args.slug, args.sandbox, args.limit))


if __name__ == "__main__":
    main()
