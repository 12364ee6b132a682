"""Hidden tests of mini-shell: run(line) with ;, &&, || and | compared with bash.

Each line runs twice in a fresh folder set up the same way: through the
learner's run() (its fd 1 and fd 2 dup2'ed onto sockets the judge reads), and
through bash in the judge (`bash -c 'eval "$1"; exit $?'`, so that bash, too,
reports a death by signal N as 128+N). Status and stdout must match, with the
folder's path replaced by <dir>. Without bash in the image the fixed
expectations below are used (they are what bash 5 gives).
"""
# canary: hidden-test-mini-shell

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from prep_judge import LearnerError, LearnerTimeout

CALL_SECONDS = 3.0
BASH = shutil.which("bash")
ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}

# Helper code run in the learner's process: it sets up a folder, and runs one
# line with the shell's stdout and stderr on sockets the judge reads. It holds
# no expected value.
HELPER = """
import os, sys

_count = [0]

def setup(dirs, files):
    _count[0] += 1
    base = os.path.realpath(os.path.join(os.getcwd(), "case%d" % _count[0]))
    os.makedirs(base)
    for d in dirs:
        os.makedirs(os.path.join(base, d))
    for path, (data, mode) in files.items():
        with open(os.path.join(base, path), "w") as f:
            f.write(data)
        os.chmod(os.path.join(base, path), mode)
    return base

def listing(path):
    return sorted(os.listdir(path))

def capture(line, base, out_sock, err_sock, in_sock=None):
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_in, saved_out, saved_err = os.dup(0), os.dup(1), os.dup(2)
    saved_cwd = os.getcwd()
    saved_home = os.environ.get("HOME")
    try:
        os.chdir(base)
        os.environ["HOME"] = base  # as for bash: `cd` alone goes to the test's folder
        if in_sock is not None:
            os.dup2(in_sock.fileno(), 0)
            in_sock.close()
        os.dup2(out_sock.fileno(), 1)
        os.dup2(err_sock.fileno(), 2)
        out_sock.close()
        err_sock.close()
        return sys.modules["minishell"].run(line)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os.dup2(saved_in, 0)
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_in)
        os.close(saved_out)
        os.close(saved_err)
        os.chdir(saved_cwd)
        if saved_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = saved_home

def handlers():
    import signal
    out = {}
    for signum in sorted(signal.valid_signals()):
        try:
            handler = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
        out[int(signum)] = getattr(handler, "__qualname__", None) or repr(handler)
    return out
"""

FORBID_SHORTCUTS = """
import os
def _forbidden(*args, **kwargs):
    raise RuntimeError("this exercise must not use subprocess, os.system, os.popen or os.posix_spawn")
os.system = os.popen = os.posix_spawn = os.posix_spawnp = _forbidden
"""

# line -> (status, stdout with the folder as <dir>), in the default scene (an empty folder
# holding d1/ and a non-executable script.txt); used when the judge has no bash.
FIXED = {
    "echo hello world": (0, b"hello world\n"),
    "echo   spaced    out  ": (0, b"spaced out\n"),
    "echo 'a  b' \"c  d\" e'f g'h": (0, b"a  b c  d ef gh\n"),
    "echo \"it's\" 'say \"hi\"'": (0, b"it's say \"hi\"\n"),
    "echo '' x \"\"": (0, b" x \n"),
    "echo a\\ b \"c\\\"d\" 'e\\f' \"g\\h\"": (0, b"a b c\"d e\\f g\\h\n"),
    "printf '%s|' one \"two three\" four": (0, b"one|two three|four|"),
    "true || echo A && echo B": (0, b"B\n"),
    "false && echo A || echo B": (0, b"B\n"),
    "false && echo A || echo B && echo C": (0, b"B\nC\n"),
    "true && false || false && echo x": (1, b""),
    "false || false || echo third": (0, b"third\n"),
    "false && echo no": (1, b""),
    "true || false": (0, b""),
    "echo a; echo b ; echo c;": (0, b"a\nb\nc\n"),
    "false; true": (0, b""),
    "true; false": (1, b""),
    "echo x;false": (1, b"x\n"),
    "true&&echo y||echo z": (0, b"y\n"),
    "false | true": (0, b""),
    "true | false": (1, b""),
    "sh -c 'exit 3' | sh -c 'exit 5'": (5, b""),
    "sh -c 'exit 3' | cat": (0, b""),
    "printf 'b\\na\\nc\\n' | sort | head -n 2": (0, b"a\nb\n"),
    "echo hi | tr a-z A-Z | cat": (0, b"HI\n"),
    "echo hi|cat": (0, b"hi\n"),
    "nosuchcmd_prep_xyz | echo after": (0, b"after\n"),
    "echo one | nosuchcmd_prep_xyz": (127, b""),
    "nosuchcmd_prep_xyz": (127, b""),
    "nosuchcmd_prep_xyz || echo fallback": (0, b"fallback\n"),
    "''": (127, b""),
    "'' x || echo fallback": (0, b"fallback\n"),
    "./script.txt": (126, b""),
    "sh -c 'kill -TERM $$'": (143, b""),
    "sh -c 'kill -KILL $$' || echo killed": (0, b"killed\n"),
    "sh -c 'exit 255'": (255, b""),
    "cat no_such_file": (1, b""),
    "| echo x": (2, b""),
    "echo x &&": (2, b""),
    "echo x || || echo y": (2, b""),
    "echo 'open": (2, b""),
    ";": (2, b""),
    "echo x | | cat": (2, b""),
    "echo before; | echo x": (2, b""),
    "echo before && echo x |": (2, b""),
    "cd d1 | cat; pwd": (0, b"<dir>\n"),
    "cd nosuchdir; pwd": (0, b"<dir>\n"),
    "cd d1; pwd; cd ..; pwd": (0, b"<dir>/d1\n<dir>\n"),
    "cd d1; cd; pwd": (0, b"<dir>\n"),
    "cd d1 d1": (1, b""),
    "cd d1 d1 || pwd": (0, b"<dir>\n"),
    "yes | head -n 1": (0, b"y\n"),
    "seq 1 100000 | head -n 2": (0, b"1\n2\n"),
    "echo hi | cat | cat": (0, b"hi\n"),
    "seq 1 200000 | wc -l": (0, b"200000\n"),
    "sh -c 'kill -PIPE $$'": (141, b""),
    "echo by hand | cat && true; echo done": (0, b"by hand\ndone\n"),
}

DEFAULT_SCENE = (("d1",), (("script.txt", "echo hi\n", 0o644),))
CD_LINE = "cd d1 && pwd || touch r1 && ls"
D1_EMPTY = (("d1",), ())
D1_WITH_FILE = (("d1",), (("d1/inside.txt", "x\n", 0o644),))
NO_D1 = ((), (("notes.txt", "n\n", 0o644),))
FIXED_IN_SCENE = {
    (CD_LINE, D1_EMPTY): (0, b"<dir>/d1\n"),
    (CD_LINE, D1_WITH_FILE): (0, b"<dir>/d1\ninside.txt\n"),
    (CD_LINE, NO_D1): (0, b"notes.txt\nr1\n"),
}


# ---------------------------------------------------------------- the two shells


def scene_files(scene):
    dirs, files = scene
    return list(dirs), {path: (data, mode) for path, data, mode in files}


def bash_result(line, scene):
    """(status, stdout normalised, stderr, listing of the folder after) from bash, or the fixed table."""
    if BASH is None:
        status, out = FIXED_IN_SCENE[line, scene] if (line, scene) in FIXED_IN_SCENE else FIXED[line]
        return status, out, None, None
    base = os.path.realpath(tempfile.mkdtemp(prefix="minishell-bash-"))
    try:
        dirs, files = scene_files(scene)
        for d in dirs:
            os.makedirs(os.path.join(base, d))
        for path, (data, mode) in files.items():
            with open(os.path.join(base, path), "w") as f:
                f.write(data)
            os.chmod(os.path.join(base, path), mode)
        done = subprocess.run([BASH, "-c", 'eval "$1"; exit $?', "bash", line], cwd=base, env={**ENV, "HOME": base},
                              capture_output=True, timeout=10, stdin=subprocess.DEVNULL)
        return done.returncode, done.stdout.replace(base.encode(), b"<dir>"), done.stderr, sorted(os.listdir(base))
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Shell:
    """The learner's run(), with its fd 1 and fd 2 on sockets the judge reads."""

    def __init__(self, learner):
        self.learner = learner
        self.ns = learner.exec(HELPER)

    def setup(self, scene=DEFAULT_SCENE):
        dirs, files = scene_files(scene)
        return self.ns.call("setup", dirs, files)

    def listing(self, path):
        return self.ns.call("listing", path)

    def run(self, line, base, timeout=CALL_SECONDS, stdin=None, main=False, watch=None):
        """(status, stdout normalised, stderr) of run(line) in the folder base. `stdin`: bytes for the
        shell's fd 0 (else it keeps the learner process's own); `main`: in the learner's main thread;
        `watch`: called over and over while run() has not returned."""
        out_judge, out_learner = socket.socketpair()
        err_judge, err_learner = socket.socketpair()
        in_learner = None
        if stdin is not None:
            in_judge, in_learner = socket.socketpair()
            in_judge.sendall(stdin)  # small: fits in the socket's buffer
            in_judge.close()  # then EOF
        chunks = {"out": bytearray(), "err": bytearray()}
        readers = [
            threading.Thread(target=_drain, args=(out_judge, chunks["out"]), daemon=True),
            threading.Thread(target=_drain, args=(err_judge, chunks["err"]), daemon=True),
        ]
        for t in readers:
            t.start()
        start = self.ns.start_main if main else self.ns.start
        try:
            if in_learner is None:
                pending = start("capture", line, base, out_learner, err_learner)
            else:
                pending = start("capture", line, base, out_learner, err_learner, in_learner)
        finally:
            out_learner.close()
            err_learner.close()
            if in_learner is not None:
                in_learner.close()
        try:
            if watch is not None:
                end = time.monotonic() + timeout
                while not pending.done() and time.monotonic() < end:
                    watch()
                    time.sleep(0.01)
            status = pending.result(timeout=timeout)
        except LearnerTimeout:
            for s in (out_judge, err_judge):
                s.shutdown(socket.SHUT_RDWR)
            raise AssertionError(
                f"run({line!r}) did not return within {timeout:g} s. A pipeline hangs when a process (often the "
                "shell itself) still holds a write end of a pipe, so the reader never sees EOF, or a read end, so "
                "the writer never gets SIGPIPE; or the stages were run one after the other and one filled its pipe."
            ) from None
        except LearnerError as exc:
            raise AssertionError(f"run({line!r}) raised {exc.type}: {exc.message}") from None
        deadline = time.monotonic() + 2.0
        for t in readers:
            t.join(max(0.0, deadline - time.monotonic()))
        still_open = any(t.is_alive() for t in readers)
        for s in (out_judge, err_judge):
            s.close()
        assert not still_open, (
            f"run({line!r}) returned, but its standard output was still held open 2 s later: "
            "some process it started is still running (was every stage of every pipeline waited for?)"
        )
        assert isinstance(status, int) and not isinstance(status, bool), (
            f"run({line!r}) must return the exit status as an int, got {type(status).__name__}"
        )
        return status, bytes(chunks["out"]).replace(base.encode(), b"<dir>"), bytes(chunks["err"])


def _drain(sock, into):
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return
            into += data
    except OSError:
        return


def check_like_bash(shell, line, scene=DEFAULT_SCENE, base=None):
    base = base or shell.setup(scene)
    status, out, err = shell.run(line, base)
    want_status, want_out, _, want_listing = bash_result(line, scene)
    assert out == want_out, f"run({line!r}) printed {out!r} on stdout; bash prints {want_out!r}"
    assert status == want_status, f"run({line!r}) returned {status}; bash's $? is {want_status}"
    if want_listing is not None:
        got_listing = shell.listing(base)
        assert got_listing == want_listing, (
            f"after run({line!r}) the folder holds {got_listing}; after bash it holds {want_listing}"
        )
    return status, out, err


# ---------------------------------------------------------------- the tests


def test_words_and_quotes(learner):
    shell = Shell(learner)
    for line in [
        "echo hello world",
        "echo   spaced    out  ",
        "echo 'a  b' \"c  d\" e'f g'h",
        "echo \"it's\" 'say \"hi\"'",
        "echo '' x \"\"",
        "echo a\\ b \"c\\\"d\" 'e\\f' \"g\\h\"",
        "printf '%s|' one \"two three\" four",
    ]:
        check_like_bash(shell, line)
    for line in ("", "   "):
        status, out, _ = shell.run(line, shell.setup())
        assert (status, out) == (0, b""), f"run({line!r}) (nothing to run) must return 0 and print nothing, got {status} and {out!r}"


@pytest.mark.cards("bash-and-or-equal-precedence")
def test_and_or_have_equal_precedence_left_to_right(learner):
    shell = Shell(learner)
    for line in [
        "true || echo A && echo B",
        "false && echo A || echo B",
        "false && echo A || echo B && echo C",
        "true && false || false && echo x",
        "false || false || echo third",
        "false && echo no",
        "true || false",
        "true&&echo y||echo z",
    ]:
        check_like_bash(shell, line)


def test_semicolons_run_everything_in_order(learner):
    shell = Shell(learner)
    for line in ["echo a; echo b ; echo c;", "false; true", "true; false", "echo x;false"]:
        check_like_bash(shell, line)


@pytest.mark.cards("bash-pipeline-exit-status")
def test_pipeline_status_is_the_last_stage(learner):
    shell = Shell(learner)
    for line in [
        "false | true",
        "true | false",
        "sh -c 'exit 3' | sh -c 'exit 5'",
        "sh -c 'exit 3' | cat",
        "printf 'b\\na\\nc\\n' | sort | head -n 2",
        "echo hi | tr a-z A-Z | cat",
        "echo hi|cat",
        "nosuchcmd_prep_xyz | echo after",
        "echo one | nosuchcmd_prep_xyz",
    ]:
        check_like_bash(shell, line)


def test_exit_statuses_127_126_and_signals(learner):
    shell = Shell(learner)
    for line, why in [
        ("nosuchcmd_prep_xyz", "command not found"),
        ("nosuchcmd_prep_xyz || echo fallback", "command not found, then ||"),
        ("''", "an empty command name: not found, and os.execvp('') raises ValueError, not OSError"),
        ("'' x || echo fallback", "an empty command name, then ||"),
        ("./script.txt", "a file that exists but is not executable"),
        ("sh -c 'kill -TERM $$'", "killed by SIGTERM (15)"),
        ("sh -c 'kill -KILL $$' || echo killed", "killed by SIGKILL (9), then ||"),
        ("sh -c 'exit 255'", "exit 255"),
        ("cat no_such_file", "a command that fails"),
    ]:
        status, out, err = check_like_bash(shell, line)
        if line in ("nosuchcmd_prep_xyz", "./script.txt", "''"):
            assert err.strip(), f"run({line!r}) ({why}) must say why on stderr (fd 2), like bash; it wrote nothing there"


def test_a_child_ends_whatever_exec_raised(learner):
    """Rule 4: a child whose exec fails ends with os._exit(127) (or 126), whatever exec raised. The empty
    name is one way to get something other than OSError; an argument holding a NUL byte is another:
    os.execvp raises ValueError ("embedded null byte") before any system call."""
    shell = Shell(learner)
    for line, want_out, why in [
        ("echo 'a\x00b'", None, "an argument with a NUL byte: exec raises ValueError"),
        ("echo 'a\x00b' || echo fallback", b"fallback\n", "the same, then ||"),
        ("echo 'a\x00b' | echo second", b"second\n", "the same, as the first stage of a pipeline"),
    ]:
        status, out, _ = shell.run(line, shell.setup())
        if want_out is None:
            assert status in (126, 127) and out == b"", (
                f"run({line!r}) ({why}) returned {status} and printed {out!r}: a child whose exec fails, whatever "
                "exec raised, ends with os._exit(127) (or 126) and never returns into the shell's code")
        else:
            assert (status, out) == (0, want_out), (
                f"run({line!r}) ({why}) returned {status} and printed {out!r}, where bash's rules give 0 and "
                f"{want_out!r}: the failing child must end with os._exit(127) (or 126), whatever exec raised")
    status, out, _ = shell.run("echo after", shell.setup())
    assert (status, out) == (0, b"after\n"), (
        f"after a child's exec raised ValueError, run('echo after') returned {status} and printed {out!r}")


def test_syntax_errors_run_nothing_and_return_2(learner):
    shell = Shell(learner)
    for line in [
        "| echo x",
        "echo x &&",
        "echo x || || echo y",
        "echo 'open",
        ";",
        "echo x | | cat",
        "echo before; | echo x",
        "echo before && echo x |",
    ]:
        status, out, err = check_like_bash(shell, line)
        assert err.strip(), f"run({line!r}) is a syntax error: say so on stderr (fd 2), like bash; nothing was written there"


@pytest.mark.cards("bash-and-or-chain-dir-exists")
def test_cd_chain_when_the_directory_exists(learner):
    shell = Shell(learner)
    line = CD_LINE
    for scene, content in [(D1_EMPTY, "an empty d1"), (D1_WITH_FILE, "d1 holding inside.txt")]:
        base = shell.setup(scene)
        status, out, err = check_like_bash(shell, line, scene, base)
        assert shell.listing(base) == ["d1"], (
            f"with {content}, {line!r} must not run touch (cd and pwd succeeded): the folder holds {shell.listing(base)}"
        )


@pytest.mark.cards("bash-and-or-chain-dir-missing")
def test_cd_chain_when_the_directory_is_missing(learner):
    shell = Shell(learner)
    line = CD_LINE
    scene = NO_D1
    base = shell.setup(scene)
    status, out, err = check_like_bash(shell, line, scene, base)
    assert shell.listing(base) == ["notes.txt", "r1"], (
        f"without d1, cd fails, pwd is skipped, touch r1 runs in the current folder: it must hold notes.txt and r1, "
        f"got {shell.listing(base)}"
    )
    assert err.strip(), "cd d1 with no d1 must print an error on stderr (fd 2)"


def test_cd_changes_the_shell_itself_but_not_inside_a_pipeline(learner):
    shell = Shell(learner)
    for line in ["cd d1; pwd; cd ..; pwd", "cd d1 | cat; pwd", "cd nosuchdir; pwd"]:
        check_like_bash(shell, line)


def test_cd_without_an_argument_and_with_two(learner):
    shell = Shell(learner)
    check_like_bash(shell, "cd d1; cd; pwd")  # HOME is the test's folder, for bash and for run()
    for line in ["cd d1 d1", "cd d1 d1 || pwd"]:
        status, out, err = check_like_bash(shell, line)
        assert err.strip(), f"run({line!r}): cd with two arguments fails (too many arguments): say so on stderr (fd 2), like bash"


def test_pipelines_finish_when_a_stage_exits_early(learner):
    shell = Shell(learner)
    for line in ["echo hi | cat | cat", "yes | head -n 1", "seq 1 100000 | head -n 2"]:
        check_like_bash(shell, line)


def test_stages_run_at_the_same_time(learner):
    shell = Shell(learner)
    check_like_bash(shell, "seq 1 200000 | wc -l")


@pytest.mark.cards("bash-pipeline-exit-status")
def test_every_stage_is_waited_for(learner):
    shell = Shell(learner)
    scene = ((), ())
    base = shell.setup(scene)
    line = "sh -c 'sleep 0.3; touch late' | true; ls"
    status, out, _ = shell.run(line, base)
    assert out == b"late\n", (
        f"run({line!r}) printed {out!r}; bash prints b'late\\n': the pipeline ends only when every stage has "
        "exited, so `ls` runs after the first stage created the file. Wait for every pid, not only the last one."
    )
    assert status == 0, f"run({line!r}) returned {status}; bash's $? is 0"


def test_no_zombie_and_no_descriptor_left(learner):
    shell = Shell(learner)
    base = shell.setup()
    worker = learner.pid
    before = learner.fds(worker)
    for line in [
        "yes | head -n 1",
        "false | true | true",
        "nosuchcmd_prep_xyz | cat",
        "sh -c 'exit 3'",
        "echo a && echo b || echo c; true | true",
        "| broken",
    ]:
        shell.run(line, base)
        others = [p for p in learner.processes() if p.pid != worker]
        assert not others, (
            f"after run({line!r}) returned, {len(others)} process(es) it started still exist ("
            + ", ".join(f"{p.name} in state {p.state}" for p in others[:5])
            + "): every child must be reaped with waitpid (state Z is a zombie)"
        )
    after = learner.fds(worker)
    leaked = sorted(set(after) - set(before))
    assert not leaked, (
        f"run() must close every descriptor it opens: {len(leaked)} more are open in the shell's process after "
        f"these lines ({', '.join(after[fd] for fd in leaked[:5])})"
    )


def test_children_get_sigpipe_back(learner):
    shell = Shell(learner)
    base = shell.setup()
    check_like_bash(shell, "sh -c 'kill -PIPE $$'", base=base)
    status, out, err = shell.run("yes | head -n 1", base)
    assert b"Broken pipe" not in err and not err.strip(), (
        f"in `yes | head -n 1`, yes must die of SIGPIPE silently when head exits; it printed {err[:200]!r} on stderr "
        "instead: SIGPIPE is still ignored in the child (Python ignores it, and an ignored signal stays ignored "
        "across exec). Restore it with signal.signal(signal.SIGPIPE, signal.SIG_DFL) in the child before exec."
    )


NOT_SUPPORTED = [
    "echo a > out.txt",
    "cat < script.txt",
    "echo one & echo two",
    "echo background &",
    "(echo sub)",
    "echo x)",
    "touch made; echo a >> out.txt",
    "touch made && echo a>out.txt",
    "touch made | cat <script.txt",
    "touch made; (echo sub)",
]


def test_unquoted_redirections_background_and_subshells_are_syntax_errors(learner):
    shell = Shell(learner)
    for line in NOT_SUPPORTED:
        base = shell.setup()
        status, out, err = shell.run(line, base)
        listing = shell.listing(base)
        assert (status, out) == (2, b""), (
            f"run({line!r}) must be a syntax error (an unquoted &, <, >, ( or ) is not supported here): status 2 and "
            f"nothing run; it returned {status} and printed {out!r}"
        )
        assert listing == ["d1", "script.txt"], (
            f"run({line!r}) is a syntax error and must run nothing, not even the commands before the error: the "
            f"folder now holds {listing}"
        )
        assert err.strip(), f"run({line!r}) is a syntax error: say so on stderr (fd 2); nothing was written there"
    # quoted or escaped, they are ordinary characters
    check_like_bash(shell, "echo '&' \"<\" '>' '(' \")\" a\\&b c\\>d")


def test_double_semicolon_is_a_syntax_error(learner):
    shell = Shell(learner)
    for line in ["echo a ;; echo b", "echo a;;echo b", "touch made ;;", "touch made ; ; echo b", ";; echo x"]:
        base = shell.setup()
        status, out, err = check_like_bash(shell, line, base=base)
        assert status == 2 and shell.listing(base) == ["d1", "script.txt"], (
            f"run({line!r}) is a syntax error (an empty command between two `;`): status 2 and nothing run; it "
            f"returned {status} and the folder holds {shell.listing(base)}"
        )
        assert err.strip(), f"run({line!r}) is a syntax error: say so on stderr (fd 2); nothing was written there"


def test_first_stage_reads_the_shells_stdin(learner):
    shell = Shell(learner)
    base = shell.setup()
    text = b"pear\napple\nfig\n"
    for line, want in [
        ("cat", text),
        ("cat | tr a-z A-Z", b"PEAR\nAPPLE\nFIG\n"),
        ("sort | head -n 2 | cat", b"apple\nfig\n"),
        ("tr a-z A-Z|cat|cat|cat", b"PEAR\nAPPLE\nFIG\n"),
        ("echo first | cat; cat", b"first\n" + text),
    ]:
        status, out, _ = shell.run(line, base, stdin=text)
        assert (status, out) == (0, want), (
            f"run({line!r}) with {text!r} on the shell's stdin (fd 0) must print {want!r} and return 0: the first "
            f"stage reads the shell's own stdin, the last writes to fd 1; got {status} and {out!r}"
        )


def _dispositions(pid):
    """(caught, ignored): the signal numbers with a handler, and those ignored, from /proc/PID/status."""
    masks = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for row in f:
                key, _, value = row.partition(":")
                if key in ("SigCgt", "SigIgn"):
                    masks[key] = int(value.strip(), 16)
    except OSError:
        return None
    if len(masks) != 2:
        return None
    bits = lambda mask: frozenset(n + 1 for n in range(64) if mask >> n & 1)  # noqa: E731
    return bits(masks["SigCgt"]), bits(masks["SigIgn"])


def _said(state):
    caught, ignored = state
    return f"handlers for {sorted(caught)}, ignored {sorted(ignored)}"


def test_run_installs_no_signal_handler(learner):
    shell = Shell(learner)
    base = shell.setup()
    pid = learner.pid
    python_before = shell.ns.call("handlers")
    kernel_before = _dispositions(pid)
    assert kernel_before is not None, f"the judge could not read /proc/{pid}/status"
    seen = []

    def watch():
        now = _dispositions(pid)
        if now is not None and now != kernel_before and now not in seen:
            seen.append(now)

    for line, main in [("sleep 0.4 | cat", True), ("sleep 0.4", True), ("sh -c 'exit 3' | sleep 0.3", False)]:
        where = "the main thread" if main else "another thread"
        shell.run(line, base, main=main, watch=watch)
        assert not seen, (
            f"while run({line!r}) ran in {where}, the process's signal dispositions changed (read from "
            f"/proc/{pid}/status): before, {_said(kernel_before)}; during, {_said(seen[0])}. run() must not install "
            "signal handlers (nor ignore signals) in the calling process: it may be called from any thread. "
            "Change dispositions in the child, after fork"
        )
        kernel_after = _dispositions(pid)
        assert kernel_after == kernel_before, (
            f"after run({line!r}) in {where}, the process's signal dispositions changed (read from /proc/{pid}/status): "
            f"before, {_said(kernel_before)}; after, {_said(kernel_after)}"
        )
        python_after = shell.ns.call("handlers")
        changed = sorted(n for n in python_before if python_after.get(n) != python_before[n])
        assert not changed, (
            f"after run({line!r}) in {where}, signal.getsignal() gives other handlers for signals {changed} (e.g. "
            f"{python_before[changed[0]]} became {python_after.get(changed[0])}): run() must not install signal handlers"
        )


def test_does_not_use_subprocess(learner):
    learner.exec(FORBID_SHORTCUTS)
    shell = Shell(learner)
    check_like_bash(shell, "echo by hand | cat && true; echo done")



# ---------------------------------------------------------------- the caller's own children and signal mask

# Helper code run in the learner's process: children of the calling program itself (run() is a
# function of a bigger program, which may have children of its own), and its signal mask.
CALLER = """
import os, signal, time

def start_own_child(argv, until_exited):
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    end = time.monotonic() + 3
    while until_exited and time.monotonic() < end:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.005)
    return pid

def block(signums):
    signal.pthread_sigmask(signal.SIG_BLOCK, signums)
"""


def _own_child(learner, pid):
    """The learner process's child `pid` as the judge reads it from /proc (None once it is reaped)."""
    return next((p for p in learner.processes() if p.pid == pid and p.ppid == learner.pid), None)


@pytest.mark.cards("bash-pipeline-exit-status")
def test_a_child_the_caller_started_is_left_to_the_caller(learner):
    shell = Shell(learner)
    base = shell.setup()
    own = learner.exec(CALLER).call("start_own_child", ["sh", "-c", "exit 42"], True)
    before = _own_child(learner, own)
    assert before is not None and before.state == "Z", (
        f"the test's own child (started by the calling program, not by run()) should be a zombie, it is {before}"
    )
    line = "sh -c 'exit 3' | sh -c 'exit 4'"
    status, _, _ = shell.run(line, base, main=True)  # the thread that forked it: its oldest child comes first
    after = _own_child(learner, own)
    assert after is not None, (
        f"run({line!r}) reaped a child that the calling program had started (and not yet waited for) before "
        "calling run(): os.wait() or waitpid(-1, ...) takes whichever child ended first. The caller's own "
        "waitpid() for it then fails with ECHILD. Wait for the pids of the stages: os.waitpid(pid, 0)"
    )
    assert status == 4, f"run({line!r}) returned {status}; bash's $? is 4 (the last stage's status)"


@pytest.mark.cards("bash-pipeline-exit-status")
def test_run_does_not_wait_for_the_callers_other_children(learner):
    shell = Shell(learner)
    base = shell.setup()
    own = learner.exec(CALLER).call("start_own_child", ["sleep", "30"], False)
    line = "echo hi | cat"
    try:
        status, out, _ = shell.run(line, base)
    except AssertionError as exc:
        if "did not return" not in str(exc):
            raise
        raise AssertionError(
            f"run({line!r}) did not return within {CALL_SECONDS:g} s while the calling program had a child of its own "
            "running (`sleep 30`, started before run()): waiting until os.wait() raises ECHILD waits for every "
            "child of the process, not only for the stages. Wait for the pids of the stages: os.waitpid(pid, 0)"
        ) from None
    assert (status, out) == (0, b"hi\n"), f"run({line!r}) must print b'hi\\n' and return 0, got {status} and {out!r}"
    still = _own_child(learner, own)
    assert still is not None and still.state != "Z", (
        f"the calling program's own child (`sleep 30`) must be left running and unreaped by run(), it is {still}"
    )


def _blocked(pid):
    """The signals blocked in the thread `pid` (the main thread), from /proc/PID/task/PID/status."""
    with open(f"/proc/{pid}/task/{pid}/status") as f:
        for row in f:
            key, _, value = row.partition(":")
            if key == "SigBlk":
                mask = int(value.strip(), 16)
                return sorted(n + 1 for n in range(64) if mask >> n & 1)
    return None


@pytest.mark.cards("bash-pipeline-exit-status")
def test_run_leaves_the_callers_signal_mask_as_it_was(learner):
    shell = Shell(learner)
    base = shell.setup()
    pid = learner.pid
    learner.exec(CALLER).call("block", [int(signal.SIGINT), int(signal.SIGQUIT), int(signal.SIGTERM)])
    before = _blocked(pid)
    assert before is not None and int(signal.SIGINT) in before, (
        f"the test could not block SIGINT in the learner's main thread first (blocked: {before})"
    )
    for line in ["true", "sh -c 'exit 3' | cat"]:
        shell.run(line, base, main=True)
        after = _blocked(pid)
        assert after == before, (
            f"run({line!r}) in the main thread changed the signals blocked there (read from /proc/{pid}/task/{pid}/"
            f"status): before, {before}; after, {after}. run() must leave the calling process as it found it: if you "
            "block signals while waiting, put back the mask pthread_sigmask returned (SIG_SETMASK), do not unblock"
        )


def test_reading_lines_until_eof(learner):
    """`python3 minishell.py` reads lines from stdin and, at the end of its input, exits with the status
    of the last line, quietly."""
    done = learner.run_program([], stdin=b"false\ntrue\n", timeout=10)
    stderr = done.stderr.decode("utf-8", "replace") if isinstance(done.stderr, bytes) else str(done.stderr)
    assert "Traceback" not in stderr, f"`python3 minishell.py` ended its input with a traceback: {stderr[-300:]!r}"
    assert done.returncode == 0, (
        f"`python3 minishell.py` given the lines `false` and `true`, then the end of input, must exit 0 (the last "
        f"line's status); it exited {done.returncode}"
    )
