"""Visible tests of mini-shell: `prep test mini-shell DIR` runs them on your minishell.py.

They run your file as a program (`python3 minishell.py -c LINE`) and read its
stdout. The hidden tests compare many more lines with bash itself, and check
that no zombie and no descriptor is left and that pipelines never hang.
"""

import subprocess
import sys

import minishell

SHELL = minishell.__file__


def sh(line):
    done = subprocess.run([sys.executable, SHELL, "-c", line], capture_output=True, timeout=10)
    return done.returncode, done.stdout, done.stderr.decode(errors="replace")[-600:]


def test_and_or_are_left_associative():
    status, out, err = sh("true || echo A && echo B")
    assert (status, out) == (0, b"B\n"), f"got status {status} and stdout {out!r}; stderr: {err}"


def test_pipeline_status_is_the_last_stage():
    status, out, err = sh("printf 'b\\na\\n' | sort | head -n 1")
    assert (status, out) == (0, b"a\n"), f"got status {status} and stdout {out!r}; stderr: {err}"
    status, out, err = sh("true | false")
    assert (status, out) == (1, b""), f"got status {status} and stdout {out!r}; stderr: {err}"


def test_command_not_found_is_127():
    status, out, err = sh("no-such-command-here")
    assert status == 127, f"got status {status}; stderr: {err}"
