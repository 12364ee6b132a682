"""How fast the grader answers: verdict latency next to a bare container, and parallel throughput.

    python benchmarks/grading.py [--runs 20] [--parallel 20]

1. Latency: a trivial submission (one hidden test, one call) graded end to end
   in the Docker sandbox (stage, two containers, pytest, verdict), `--runs`
   times, interleaved with a bare `docker run --rm IMAGE python3 -c pass` so both
   see the same machine. Prints median and p95 of each and the difference
   (target: under 1 s above the bare run).
2. Throughput: `--parallel` submissions of the same code graded at once; the
   wall time for all of them and verdicts per second.

Needs a running engine and the sandbox image (`prep sandbox build`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prep import exercises, grading, sandbox  # noqa: E402

EXERCISE = """\
title: Benchmark
topics: [processes]
language: python
entry: calc.py
files: [calc.py]
"""
HIDDEN = '''\
def test_add(learner):
    value = learner.call("add", 2, 3)
    assert value == 5, f"add(2, 3) should be 5, got {value!r}"
'''
SUBMISSION = b"def add(a, b):\n    return a + b\n"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def setup(folder: Path) -> tuple[exercises.Exercise, Path]:
    ex_dir = folder / "bench"
    (ex_dir / "starter").mkdir(parents=True)
    (ex_dir / "exercise.yaml").write_text(EXERCISE)
    (ex_dir / "starter" / "calc.py").write_bytes(SUBMISSION)
    hidden = folder / "hidden"
    hidden.mkdir()
    (hidden / "test_calc.py").write_text(HIDDEN)
    problems: list = []
    exercise = exercises.load_exercise(ex_dir, problems)
    assert exercise is not None, problems
    return exercise, hidden


def grade_once(exercise, hidden, backend) -> tuple[float, str]:
    start = time.perf_counter()
    result = grading.grade(exercise, grading.Submission(files={"calc.py": SUBMISSION}), backend, hidden_dir=hidden)
    return time.perf_counter() - start, result["verdict"]


def bare_once(image: str) -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", image, "python3", "-c", "pass"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--image", default=sandbox.IMAGE)
    args = parser.parse_args()

    backend = sandbox.DockerBackend(image=args.image)
    backend.ensure_ready()
    with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
        exercise, hidden = setup(Path(tmp))
        grade_once(exercise, hidden, backend)  # warm the page cache and the engine
        bare_once(args.image)
        graded, bare, verdicts = [], [], set()
        for i in range(args.runs):
            bare.append(bare_once(args.image))
            seconds, verdict = grade_once(exercise, hidden, backend)
            graded.append(seconds)
            verdicts.add(verdict)
            print(f"\rlatency run {i + 1}/{args.runs}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        if verdicts != {"passed"}:
            print(f"unexpected verdicts: {verdicts}", file=sys.stderr)
            return 1

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            outcomes = list(pool.map(lambda _: grade_once(exercise, hidden, backend), range(args.parallel)))
        wall = time.perf_counter() - start
    parallel_verdicts = {v for _, v in outcomes}
    per_submission = [s for s, _ in outcomes]

    cpus = os.cpu_count()
    print(f"machine: {cpus} CPUs; image {args.image}; {args.runs} runs each, interleaved")
    print(f"{'':34} {'median':>8} {'p95':>8}")
    print(f"{'bare docker run --rm python3 -c pass':34} {statistics.median(bare):7.3f}s {percentile(bare, 0.95):7.3f}s")
    print(f"{'verdict of a trivial submission':34} {statistics.median(graded):7.3f}s {percentile(graded, 0.95):7.3f}s")
    over = statistics.median(graded) - statistics.median(bare)
    print(f"{'difference':34} {over:7.3f}s {percentile(graded, 0.95) - percentile(bare, 0.95):7.3f}s"
          f"   (target: under 1 s above the bare run: {'met' if over < 1 else 'NOT met'})")
    print(f"throughput: {args.parallel} submissions in parallel graded in {wall:.2f} s = {args.parallel / wall:.2f} verdicts/s; "
          f"each took median {statistics.median(per_submission):.2f} s, max {max(per_submission):.2f} s; verdicts {sorted(parallel_verdicts)}")
    return 0 if parallel_verdicts == {"passed"} else 1


if __name__ == "__main__":
    sys.exit(main())
