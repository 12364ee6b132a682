"""Mutation testing of an exercise's reference through the real grading path (a maintainer's tool).

    .venv/bin/pip install -e '.[mutation]'
    .venv/bin/python scripts/mutation.py SLUG [--sandbox local|docker] [--sample N] [--limit N]

A mutation tool changes a copy of grader/solutions/SLUG/reference one change at a time (cosmic-ray for
Python, universalmutator for C) and each mutant is graded with the hidden tests (`prep.grading.grade`,
as `prep submit` does, stopping at the first failing test): a mutant the hidden tests pass has survived.
The script prints the score (killed / mutants that are not equivalent) and every survivor with its diff.
Equivalent mutants, those no test could tell apart from the reference, are listed with a reason in
grader/solutions/SLUG/EQUIVALENT.md, one per line:

    - `runcmd.py:42 core/NumberReplacer #1`: the buffer size is a performance choice, not behaviour

`--sample N` grades N mutants drawn at random with the exercise's name as the seed: the same N
mutants on every run, so a survivor fixed by a new test shows as killed next time. `--sandbox
local` (the default) is fast; confirm with `--sandbox docker`.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EQUIVALENT = "EQUIVALENT.md"


@dataclass
class Outcome:
    """What the grading of the mutants found."""

    total: int  # mutants the tool generated
    graded: int = 0
    killed: list[str] = field(default_factory=list)
    survived: list[tuple[str, str]] = field(default_factory=list)  # (key, diff)
    equivalent: list[tuple[str, str]] = field(default_factory=list)
    incompetent: list[str] = field(default_factory=list)  # did not build or the tool failed
    same_code: list[str] = field(default_factory=list)  # C: compiles to the reference's object code
    left_out: int = 0  # Python: mutants inside type annotations, never graded


def judge(slug: str, folder: Path, sandbox_name: str) -> int:
    """The test command of one mutant: 0 when the hidden tests pass it (it survived), 1 when they do not."""
    sys.path.insert(0, str(REPO))
    from prep import exercises, grading, sandbox

    exercise = exercises.load_catalog(REPO / "exercises").get(slug)
    result = grading.grade(exercise, grading.collect(exercise, folder), sandbox.backend(sandbox_name), fail_fast=True)
    if result["verdict"] == "internal-error":
        print(f"internal error: {result['message']}", file=sys.stderr)
    return 0 if result["verdict"] == "passed" else 1


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


def sample_of(items: list, size: int | None, slug: str) -> list:
    """`size` items drawn with the exercise as the seed (all of them when size is None)."""
    if size is None or size >= len(items):
        return list(items)
    return sorted(random.Random(slug).sample(items, size), key=items.index)


# ---------------------------------------------------------------- Python: cosmic-ray


def cosmic_key(item: dict) -> str:
    """How a cosmic-ray mutant is named in EQUIVALENT.md: file:line operator #occurrence."""
    mutation = item["mutations"][0]
    path = Path(mutation["module_path"]).name
    return f"{path}:{mutation['start_pos'][0]} {mutation['operator_name']} #{mutation['occurrence']}"


def run_python(slug: str, exercise, work: Path, solution: Path, sandbox_name: str, size: int | None) -> Outcome:
    cosmic = shutil.which("cosmic-ray", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if cosmic is None:
        sys.exit("cosmic-ray is missing: .venv/bin/pip install -e '.[mutation]'")
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
    subprocess.run([cosmic, "init", str(config), str(session)], check=True, stdout=subprocess.DEVNULL)
    total, annotated = _keep_only(session, size, slug, solution / exercise.entry)
    subprocess.run([cosmic, "exec", str(config), str(session)], check=True)
    dump = subprocess.run([cosmic, "dump", str(session)], capture_output=True, text=True, check=True).stdout
    known = equivalents(slug)
    outcome = Outcome(total=total, left_out=annotated)
    for line in dump.splitlines():
        item, result = json.loads(line)
        key = cosmic_key(item)
        outcome.graded += 1
        if result is None or result.get("test_outcome") not in ("killed", "survived"):
            outcome.incompetent.append(key)
        elif result["test_outcome"] == "killed":
            outcome.killed.append(key)
        else:
            (outcome.equivalent if key in known else outcome.survived).append((key, result.get("diff") or ""))
    return outcome


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the type annotations of a Python file are: ((line, col), (end line, end col)) each."""
    import ast

    spans = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        found = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node.returns)
        elif isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        spans += [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in found if a is not None]
    return spans


def in_any(position: list[int], spans: list[tuple[tuple[int, int], tuple[int, int]]]) -> bool:
    where = tuple(position)
    return any(start <= where < end for start, end in spans)


def _keep_only(session: Path, size: int | None, slug: str, module: Path) -> tuple[int, int]:
    """Drop the mutants inside type annotations (the functions never read them) and every other one
    but the sample. The mutants are ordered by where they are, not by cosmic-ray's random job ids,
    so the same sample comes back on every run. (Mutants generated, mutants in annotations.)"""
    spans = annotation_spans(module)
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs ORDER BY "
                          "start_pos_row, start_pos_col, operator_name, occurrence").fetchall()
        in_annotations = {job for job, row, col in rows if in_any([row, col], spans)}
        candidates = [job for job, _, _ in rows if job not in in_annotations]
        keep = set(sample_of(candidates, size, slug))
        for job_id, _, _ in rows:
            if job_id not in keep:
                db.execute("DELETE FROM mutation_specs WHERE job_id = ?", (job_id,))
                db.execute("DELETE FROM work_items WHERE job_id = ?", (job_id,))
    return len(rows), len(in_annotations)


# ---------------------------------------------------------------- C: universalmutator


def run_c(slug: str, exercise, work: Path, solution: Path, sandbox_name: str, size: int | None) -> Outcome:
    mutate = shutil.which("mutate", path=os.path.dirname(sys.executable))
    if mutate is None:
        sys.exit("universalmutator is missing: .venv/bin/pip install -e '.[mutation]'")
    source = solution / exercise.entry
    original = source.read_text(encoding="utf-8")
    mutants_dir = work / "mutants"
    mutants_dir.mkdir()
    subprocess.run([mutate, str(source), "c", "--noCheck", "--mutantDir", str(mutants_dir)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    mutants = sorted(mutants_dir.iterdir(), key=lambda p: int(p.name.split(".")[-2]))
    outcome = Outcome(total=len(mutants))
    known = equivalents(slug)
    reference_code = object_code(source)
    # Mutants that do not compile say nothing about the tests, and those that compile to the
    # reference's own object code (a prototype, a comment: trivial compiler equivalence) cannot be
    # told apart by any test: both are drawn past, not counted.
    for mutant in sample_of(mutants, len(mutants), slug):
        if size is not None and len(outcome.killed) + len(outcome.survived) + len(outcome.equivalent) >= size:
            break
        text = mutant.read_text(encoding="utf-8")
        key, diff = c_key(exercise.entry, original, text)
        source.write_text(text, encoding="utf-8")
        try:
            code = object_code(source)
            if code is None:
                outcome.incompetent.append(key)
                continue
            if code == reference_code:
                outcome.same_code.append(key)
                continue
            survived = judge(slug, solution, sandbox_name) == 0
        finally:
            source.write_text(original, encoding="utf-8")
        outcome.graded += 1
        if not survived:
            outcome.killed.append(key)
        else:
            (outcome.equivalent if key in known else outcome.survived).append((key, diff))
        print(f"  {len(outcome.killed)} killed, {len(outcome.survived)} survived: {key}", file=sys.stderr)
    return outcome


def c_key(name: str, original: str, mutant: str) -> tuple[str, str]:
    """`file.c:LINE -> the mutated line`, and the diff."""
    old, new = original.splitlines(), mutant.splitlines()
    line = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
    changed = new[line].strip() if line < len(new) else "(line removed)"
    diff = "\n".join(difflib.unified_diff(old, new, name, name + " (mutant)", n=1, lineterm=""))
    return f"{name}:{line + 1} -> {changed.replace('`', chr(39))}", diff


def object_code(path: Path) -> bytes | None:
    """The object file gcc makes of a C file (the grader's flags, without -g), or None if it does not build."""
    target = path.with_suffix(".o")
    run = subprocess.run(["gcc", "-std=gnu11", "-O1", "-w", "-c", path.name, "-o", target.name],
                         cwd=path.parent, capture_output=True)
    try:
        return target.read_bytes() if run.returncode == 0 else None
    finally:
        target.unlink(missing_ok=True)


# ---------------------------------------------------------------- the run and its report


def run(slug: str, sandbox_name: str, size: int | None) -> int:
    from prep import exercises

    exercise = exercises.load_catalog(REPO / "exercises").get(slug)
    work = Path(tempfile.mkdtemp(prefix=f"prep-mutation-{slug}-"))
    solution = work / "solution"
    shutil.copytree(REPO / "grader" / "solutions" / slug / "reference", solution)
    print(f"{slug}: grading the unmutated reference first ({sandbox_name} sandbox)", file=sys.stderr)
    if judge(slug, solution, sandbox_name) != 0:
        sys.exit("the reference does not pass its hidden tests: fix that first")
    started = time.monotonic()
    runner = run_c if exercise.language == "c" else run_python
    outcome = runner(slug, exercise, work, solution, sandbox_name, size)
    shutil.rmtree(work, ignore_errors=True)
    return report(slug, outcome, time.monotonic() - started, sandbox_name, size)


def report(slug: str, outcome: Outcome, seconds: float, sandbox_name: str, size: int | None) -> int:
    counted = len(outcome.killed) + len(outcome.survived)
    score = len(outcome.killed) / counted if counted else 1.0
    pool = outcome.total - outcome.left_out
    drawn = f"a sample of {size} of {pool} mutants" if size is not None and size < pool else f"all {pool} mutants"
    if outcome.left_out:
        drawn += f" ({outcome.left_out} more in type annotations left out)"
    print(f"{slug}: {len(outcome.killed)} of {counted} non-equivalent mutants killed ({score:.1%}), {drawn}; "
          f"{len(outcome.equivalent)} equivalent (grader/solutions/{slug}/{EQUIVALENT}); "
          f"{len(outcome.incompetent)} incompetent; "
          f"{f'{len(outcome.same_code)} with the reference object code; ' if outcome.same_code else ''}{seconds / 60:.1f} min in the {sandbox_name} sandbox, "
          f"{seconds / max(outcome.graded, 1):.1f} s a mutant")
    print(f"| {slug} | {time.strftime('%Y-%m-%d')} | `scripts/mutation.py {slug}"
          f"{f' --sample {size}' if size is not None else ''}` | {len(outcome.killed)} of {counted} "
          f"({score:.0%}) | {len(outcome.equivalent)} |")
    stale = set(equivalents(slug)) - {key for key, _ in outcome.equivalent}
    if size is None:
        for key in sorted(stale):
            print(f"  listed as equivalent but not a surviving mutant now: {key}")
    for key, diff in outcome.survived:
        print(f"\nSURVIVED {key}\n{diff.rstrip()}")
    return 0 if score >= 0.9 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slug")
    parser.add_argument("folder", nargs="?", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", choices=("local", "docker"), default="local")
    parser.add_argument("--sample", type=int, help="grade N mutants drawn with the exercise as the seed")
    parser.add_argument("--judge", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.judge:
        sys.exit(judge(args.slug, args.folder, args.sandbox))
    if args.sample is not None and args.sample < 1:
        parser.error(f"--sample {args.sample}: give a number of mutants, 1 or more")
    sys.path.insert(0, str(REPO))
    sys.exit(run(args.slug, args.sandbox, args.sample))


if __name__ == "__main__":
    main()
