"""Visible tests of run-command: `prep test run-command DIR` runs them on your runcmd.py.

The hidden tests check much more (signals, exec failure, large data, pipelines,
zombies, leaked descriptors); see README.md for the whole contract.
"""

from runcmd import pipeline, run


def test_captures_stdout():
    result = run(["echo", "hello"])
    assert result.stdout == b"hello\n"
    assert result.returncode == 0


def test_exit_status():
    assert run(["sh", "-c", "exit 3"]).returncode == 3


def test_two_stage_pipeline():
    result = pipeline([["printf", "b\\na\\n"], ["sort"]])
    assert result.stdout == b"a\nb\n"
    assert list(result.returncodes) == [0, 0]
