"""Hidden tests of run-command: run() and pipeline() with fork, exec, pipe, dup2 and waitpid.

Canary (the red-team tests check this text never reaches the learner): PREP-CANARY-7f3a9c1e-run-command
"""

import signal

import pytest
from prep_judge import LearnerError, LearnerTimeout

# Helper code run inside the learner's process before a call: it removes the os shortcuts the
# statement forbids (subprocess itself is refused in that process by the exercise's rule, and the
# rule test checks the source). The learner can read it; it holds no expected value.
FORBID_SHORTCUTS = """
import os
def _forbidden(*args, **kwargs):
    raise RuntimeError("this exercise must not use subprocess, os.system, os.popen or os.posix_spawn")
os.system = os.popen = os.posix_spawn = os.posix_spawnp = _forbidden
"""

PY_OPEN_FDS = "import os\nfor fd in range(3, 256):\n    try:\n        os.fstat(fd)\n        print(fd)\n    except OSError:\n        pass\n"


@pytest.mark.cards("run-command-child-side-order")
def test_captures_stdout(learner):
    result = learner.call("run", ["echo", "hello", "world"])
    assert result.stdout == b"hello world\n", f"run(['echo', 'hello', 'world']).stdout should be b'hello world\\n', got {result.stdout!r}"
    assert result.returncode == 0, f"echo exits with 0, got returncode {result.returncode}"


@pytest.mark.cards("wait-status-killed-by-sigkill")
def test_exit_code(learner):
    result = learner.call("run", ["sh", "-c", "exit 3"])
    assert result.returncode == 3, f"a command that exits with 3 must give returncode 3, got {result.returncode}"


@pytest.mark.cards("wait-status-killed-by-sigkill")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_killed_by_signal_is_negative(learner, signum):
    result = learner.call("run", ["sh", "-c", f"kill -{int(signum)} $$"])
    assert result.returncode == -signum, (
        f"a command killed by signal {int(signum)} ({signum.name}) must give returncode {-signum}, "
        f"like subprocess; got {result.returncode}"
    )


@pytest.mark.cards("exec-failure-exit-127")
def test_exec_failure_is_127(learner):
    result = learner.call("run", ["/no/such/program", "arg"])
    assert result.returncode == 127, f"when exec fails the child must exit with 127, got {result.returncode}"
    assert result.stdout == b"", f"a command that could not start prints nothing on stdout, got {result.stdout!r}"
    again = learner.call("run", ["echo", "still here"])
    assert again.stdout == b"still here\n", "after a failed exec, run() must still work in the same process"


def test_empty_command_raises_value_error(learner):
    try:
        result = learner.call("run", [])
    except LearnerError as exc:
        assert exc.is_a("ValueError"), f"run([]) must raise ValueError (there is no program to run), raised {exc.type}"
    else:
        raise AssertionError(f"run([]) must raise ValueError (there is no program to run), returned {result!r}")


@pytest.mark.cards("exec-failure-exit-127")
def test_empty_program_name_is_127(learner):
    try:
        result = learner.call("run", [""])
    except LearnerError as exc:
        raise AssertionError(
            f"run(['']) must give returncode 127, like bash's `\"\"`, but it raised {exc.type}: {exc.message}. "
            "execvp raises ValueError (not OSError) for an empty name: the child must catch every exception "
            "and end with os._exit(127), never return into your code"
        ) from None
    assert result.returncode == 127, f"run(['']) must give returncode 127 (the child cannot exec an empty name), got {result.returncode}"
    assert result.stdout == b"", f"a command that could not start prints nothing on stdout, got {result.stdout!r}"
    again = learner.call("run", ["echo", "still here"])
    assert again.stdout == b"still here\n", "after run(['']), run() must still work in the same process"


@pytest.mark.cards("run-command-child-side-order")
def test_feeds_stdin(learner):
    result = learner.call("run", ["tr", "a-z", "A-Z"], b"shout\n")
    assert result.stdout == b"SHOUT\n", f"stdin must reach the command: tr a-z A-Z on b'shout\\n' gave {result.stdout!r}"


@pytest.mark.cards("run-command-child-side-order")
def test_large_input_and_output_do_not_deadlock(learner):
    data = bytes(range(256)) * 4096  # 1 MiB, far more than a pipe holds
    result = learner.call("run", ["cat"], data)
    assert len(result.stdout) == len(data), (
        f"cat must echo all {len(data)} bytes, got {len(result.stdout)}: "
        "write stdin and read stdout at the same time, or a full pipe blocks both sides"
    )
    assert result.stdout == data, "cat returned different bytes than it was given"


@pytest.mark.cards("run-command-child-side-order")
def test_does_not_use_subprocess(learner):
    learner.exec(FORBID_SHORTCUTS)
    result = learner.call("run", ["echo", "by hand"])
    assert result.stdout == b"by hand\n", f"run() must work with fork and exec alone, got {result.stdout!r}"


@pytest.mark.cards("run-command-child-side-order", "wait-status-killed-by-sigkill")
def test_no_zombie_and_no_descriptor_left(learner):
    before = learner.fds(learner.pid)
    for argv in (["true"], ["false"], ["sh", "-c", "exit 7"], ["/no/such/program"]):
        learner.call("run", argv)
    learner.call("pipeline", [["echo", "x"], ["cat"], ["cat"]])
    zombies = learner.zombies()
    assert not zombies, f"every child must be reaped with waitpid: {len(zombies)} zombie(s) left"
    after = learner.fds(learner.pid)
    leaked = sorted(set(after) - set(before))
    assert not leaked, f"run() and pipeline() must close every descriptor they open: {len(leaked)} left open"


@pytest.mark.cards("run-command-child-side-order")
def test_child_gets_only_stdin_stdout_stderr(learner):
    result = learner.call("run", ["python3", "-c", PY_OPEN_FDS])
    extra = result.stdout.split()
    assert extra == [], f"the command must start with only descriptors 0, 1 and 2 open; it also had {len(extra)} more"


@pytest.mark.cards("run-command-child-side-order", "wait-status-killed-by-sigkill")
def test_pipeline_output_and_statuses(learner):
    result = learner.call("pipeline", [["printf", "b\\na\\nc\\n"], ["sort"], ["head", "-n", "1"]])
    assert result.stdout == b"a\n", f"printf | sort | head -n 1 should print b'a\\n', got {result.stdout!r}"
    assert list(result.returncodes) == [0, 0, 0], f"every stage exits with 0, got {list(result.returncodes)}"


@pytest.mark.cards("wait-status-killed-by-sigkill")
def test_pipeline_status_of_every_stage_in_order(learner):
    result = learner.call("pipeline", [["sh", "-c", "sleep 0.3; exit 2"], ["sh", "-c", "exit 5"]])
    assert list(result.returncodes) == [2, 5], (
        f"returncodes must follow the order of the stages, not the order they exit in: expected [2, 5], "
        f"got {list(result.returncodes)}"
    )


@pytest.mark.cards("run-command-child-side-order", "wait-status-killed-by-sigkill")
def test_pipeline_early_exit_ends_writer_with_sigpipe(learner):
    pending = learner.start("pipeline", [["yes"], ["head", "-n", "1"]])
    result = pending.result(timeout=5)
    assert result.stdout == b"y\n", f"yes | head -n 1 prints b'y\\n', got {result.stdout!r}"
    assert list(result.returncodes) == [-signal.SIGPIPE, 0], (
        f"when head exits, yes must die of SIGPIPE ({-signal.SIGPIPE}): got {list(result.returncodes)}. "
        "Is SIGPIPE restored to its default in the child?"
    )


@pytest.mark.cards("exec-failure-exit-127")
def test_pipeline_stage_that_cannot_start(learner):
    result = learner.call("pipeline", [["/no/such/program"], ["cat"]], b"ignored")
    assert list(result.returncodes) == [127, 0], f"a stage whose exec fails exits 127, cat then sees EOF: got {list(result.returncodes)}"
    assert result.stdout == b"", f"nothing reaches cat, got {result.stdout!r}"


@pytest.mark.cards("run-command-child-side-order")
def test_pipeline_feeds_the_first_stage(learner):
    result = learner.call("pipeline", [["cat"], ["wc", "-c"]], b"12345")
    assert result.stdout.strip() == b"5", f"stdin goes to the first stage: cat | wc -c on 5 bytes printed {result.stdout!r}"


@pytest.mark.parametrize("commands", [[], [["echo", "a"], []]], ids=["no-commands", "a-stage-without-a-program"])
def test_pipeline_refuses_an_empty_pipeline_or_stage(learner, commands):
    try:
        result = learner.call("pipeline", commands)
    except LearnerError as exc:
        assert exc.is_a("ValueError"), f"pipeline({commands!r}) must raise ValueError, raised {exc.type}"
    else:
        raise AssertionError(f"pipeline({commands!r}) must raise ValueError (nothing to run), returned {result!r}")
    assert not learner.zombies() and len(learner.processes()) == 1, "a refused pipeline must start no process"


@pytest.mark.cards("run-command-child-side-order")
def test_command_that_writes_before_it_reads_does_not_deadlock(learner):
    """The command fills its stdout pipe while stdin has room for a little only: a blocking write of a
    big block then waits for a reader that waits for you."""
    data = b"y" * (1 << 20)
    script = "dd bs=16384 count=1 of=/dev/null 2>/dev/null; head -c 300000 /dev/zero; cat > /dev/null"
    result = learner.call("run", ["sh", "-c", script], data)
    assert result.returncode == 0 and result.stdout == bytes(300000), (
        f"a command that reads 16 KiB, writes 300000 bytes, then reads the rest of its 1 MiB of stdin gave status "
        f"{result.returncode} and "
        f"{len(result.stdout)} bytes: never block in a write while its output waits to be read "
        "(non-blocking writes of what select() says fits, or a thread that writes)"
    )


@pytest.mark.cards("run-command-child-side-order")
@pytest.mark.parametrize("argv", [["true"], ["head", "-c", "1"]], ids=["reads-nothing", "reads-one-byte"])
def test_command_that_stops_reading_its_input(learner, argv):
    """The command ends without reading all of stdin: the rest is dropped (EPIPE), not an exception."""
    data = b"x" * (1 << 20)
    try:
        result = learner.call("run", argv, data)
    except LearnerError as exc:
        raise AssertionError(
            f"run({argv!r}) with 1 MiB of stdin raised {exc.type}: the command ended without reading it all, so "
            "writing the rest fails with EPIPE (BrokenPipeError); drop the rest and collect the command"
        ) from None
    expected = b"" if argv == ["true"] else b"x"
    assert result.returncode == 0 and result.stdout == expected, (
        f"run({argv!r}) with 1 MiB of stdin must give status 0 and {expected!r}, got {result.returncode} and "
        f"{result.stdout[:20]!r}"
    )


# ---------------------------------------------------------------- stderr, and races forced from the judge's side

# Points the learner process's own stderr at a file of its scratch folder for one run(), then back.
STDERR_TO_FILE = """
import os, sys

def run_with_stderr_in(path, argv):
    runcmd = sys.modules["runcmd"]
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 2)
    os.close(fd)
    try:
        return runcmd.run(argv)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
"""

STDERR_FIRST = 102400  # more than a pipe holds (64 KiB), written to stderr before any stdout


@pytest.mark.cards("exec-failure-exit-127")
def test_exec_failure_message_on_stderr(learner):
    helper = learner.exec(STDERR_TO_FILE)  # starts the learner process: its working folder is known from here
    path = learner.workdir + "/exec-stderr.txt"
    result = helper.call("run_with_stderr_in", path, ["no-such-program-xyz", "its-argument"])
    err = learner.read_file(path)
    assert result.returncode == 127, f"a program that cannot be run gives 127, got {result.returncode}"
    assert b"no-such-program-xyz" in err, (
        f"when exec fails the child writes a short message naming the program to its stderr (fd 2); fd 2 got {err[:200]!r}"
    )


@pytest.mark.cards("run-command-child-side-order")
def test_stderr_goes_where_the_callers_goes(learner):
    helper = learner.exec(STDERR_TO_FILE)
    argv = ["sh", "-c", f"yes e | head -c {STDERR_FIRST} >&2; echo out"]
    pending = helper.start("run_with_stderr_in", learner.workdir + "/stderr.txt", argv)
    try:
        result = pending.result(timeout=2.0)
    except LearnerTimeout:
        raise AssertionError(
            f"a program that writes {STDERR_FIRST} bytes to stderr before its stdout: run() did not return within "
            "2 s. Its stderr must be left alone (it goes where the caller's goes); if it is a pipe that nobody reads "
            "until stdout ends, the program blocks once that pipe holds 64 KiB and never closes its stdout"
        ) from None
    assert result.returncode == 0, f"the program must exit 0, got {result.returncode}"
    assert result.stdout == b"out\n", (
        f"the captured stdout must be the program's stdout alone, b'out\\n'; got {len(result.stdout)} bytes "
        f"starting {result.stdout[:20]!r}: stderr must not be merged into it (no dup2 onto 2)"
    )
    written = learner.read_file("stderr.txt")
    assert written == b"e\n" * (STDERR_FIRST // 2), (
        f"the program wrote {STDERR_FIRST} bytes to its stderr, which must go where the caller's stderr goes; the "
        f"caller's stderr got {len(written)} bytes. Leave descriptor 2 alone in the child"
    )



@pytest.mark.cards("run-command-child-side-order")
def test_stdin_for_a_command_that_exited_first(learner):
    learner.fork_returns_after_exit(seconds=2)  # the command is gone before the parent writes a byte of its stdin
    data = b"nobody will read this\n" * 2
    try:
        result = learner.call("run", ["sh", "-c", "exit 3"], data)
    except LearnerError as exc:
        raise AssertionError(
            f"run(['sh', '-c', 'exit 3'], stdin={len(data)} bytes), the command having exited before the parent wrote "
            f"its stdin, raised {exc.type}: {exc.message[:120]}. Python ignores SIGPIPE, so writing to a pipe whose "
            "reader is gone raises BrokenPipeError: the command stopped reading, drop the rest of stdin and go on "
            "(with a small stdin this is a race the command usually loses)"
        ) from None
    assert result.returncode == 3, f"the command ran `exit 3`: returncode must be 3, got {result.returncode}"
    assert result.stdout == b"", f"the command wrote nothing, got stdout {result.stdout[:40]!r}"
    assert not learner.zombies(), "every child must be reaped with waitpid"
