"""Visible tests of c-strings-and-pointers: `prep test c-strings-and-pointers DIR` runs them on your puzzles.c.

They compile it with gcc (the grader's flags) and run a few commands of the
protocol. The hidden tests check much more (truncation, empty fields, overlaps
both ways, NULL, no rows, very long input, every byte past a buffer); see
README.md for the whole contract.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "puzzles.c"
FLAGS = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra"]


@pytest.fixture(scope="module")
def puzzles(tmp_path_factory):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed: the visible tests compile puzzles.c with it (apt install gcc)")
    binary = tmp_path_factory.mktemp("build") / "puzzles"
    done = subprocess.run([gcc, *FLAGS, "-o", str(binary), str(SOURCE)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"puzzles.c did not compile:\n{done.stderr}")

    def run(args, stdin=b""):
        done = subprocess.run([str(binary), *args], input=stdin, capture_output=True, timeout=10)
        assert done.returncode == 0, f"puzzles {' '.join(args)} exited with {done.returncode}: {done.stderr.decode()}"
        return done.stdout.decode()

    return run


def test_strlcpy_truncates(puzzles):
    assert puzzles(["strlcpy", "5"], b"hello") == 'return 5\ndst "hell"\n'


def test_split_keeps_empty_fields(puzzles):
    assert puzzles(["split", ",", "8"], b"a,,b") == 'count 3\nfield 0 "a"\nfield 1 ""\nfield 2 "b"\n'


def test_apply_and_rows(puzzles):
    assert puzzles(["apply", "double"], b"1 -2 30") == "values 2 -4 60\n"
    assert puzzles(["rows"], b"1 2 3 4\n5 6 7 8\n") == "sums 10 26\nlast 8 at index 7\n"
