"""A mini shell: `;`, `&&`, `||` and `|` with fork, execvp, pipe, dup2 and waitpid.

Reference solution of the mini-shell exercise.
"""

from __future__ import annotations

import os
import signal
import sys

OPERATORS = ("&&", "||", "|", ";")
UNSUPPORTED = "&<>()"


class ShellSyntaxError(Exception):
    pass


# ---------------------------------------------------------------- words and operators


def tokenize(line: str) -> list[tuple[str, str]]:
    """[("word", text) | ("op", operator)]; quotes and backslashes are removed from words."""
    tokens: list[tuple[str, str]] = []
    word: list[str] = []
    in_word = False  # a word has started (even if empty, like '')
    i, n = 0, len(line)

    def end_word() -> None:
        nonlocal word, in_word
        if in_word:
            tokens.append(("word", "".join(word)))
        word, in_word = [], False

    while i < n:
        c = line[i]
        if c in " \t\n":
            end_word()
            i += 1
        elif c == "'":
            j = line.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unexpected end of line while looking for the matching '")
            word.append(line[i + 1 : j])
            in_word = True
            i = j + 1
        elif c == '"':
            i += 1
            while True:
                if i >= n:
                    raise ShellSyntaxError('unexpected end of line while looking for the matching "')
                c = line[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                    word.append(line[i + 1])
                    i += 2
                else:
                    word.append(c)
                    i += 1
            in_word = True
        elif c == "\\":
            if i + 1 < n:
                word.append(line[i + 1])
            in_word = True
            i += 2
        elif line.startswith("&&", i) or line.startswith("||", i):
            end_word()
            tokens.append(("op", line[i : i + 2]))
            i += 2
        elif c in "|;":
            end_word()
            tokens.append(("op", c))
            i += 1
        elif c in UNSUPPORTED:
            raise ShellSyntaxError(f"near {c!r}: this shell does not support it")
        else:
            word.append(c)
            in_word = True
            i += 1
    end_word()
    return tokens


def parse(line: str) -> list[list]:
    """The line as a list of and-or lists: [[pipeline, (op, pipeline), ...], ...]; a pipeline is a list of argv."""
    tokens = tokenize(line)
    lists: list[list] = []
    current: list = []  # the and-or list being built
    pipeline: list[list[str]] = []
    argv: list[str] = []
    pending_op = None
    for kind, text in tokens + [("end", "")]:
        if kind == "word":
            argv.append(text)
            continue
        if kind == "op" and text == "|":
            if not argv:
                raise ShellSyntaxError("near unexpected token `|'")
            pipeline.append(argv)
            argv = []
            continue
        # && || ; or the end: the pipeline is complete
        if argv:
            pipeline.append(argv)
            argv = []
        elif pipeline:  # `a |` followed by an operator or the end
            raise ShellSyntaxError(f"near unexpected token `{text or 'end of line'}'")
        if not pipeline:
            if kind == "end" and pending_op is None:
                break  # empty line, or a trailing `;`
            raise ShellSyntaxError(f"near unexpected token `{text or 'end of line'}'")
        if pending_op is None:
            current.append(pipeline)
        else:
            current.append((pending_op, pipeline))
        pipeline = []
        if kind == "op" and text in ("&&", "||"):
            pending_op = text
        else:
            lists.append(current)
            current, pending_op = [], None
            if kind == "end":
                break
    return lists


# ---------------------------------------------------------------- running


def decode_status(status: int) -> int:
    """A waitpid() status as $?: the exit code, or 128 + N for a death by signal N."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def builtin_cd(argv: list[str]) -> int:
    if len(argv) > 2:
        os.write(2, b"minishell: cd: too many arguments\n")
        return 1
    target = argv[1] if len(argv) > 1 else os.environ.get("HOME", "/")
    try:
        os.chdir(target)
    except OSError as exc:
        os.write(2, f"minishell: cd: {target}: {exc.strerror}\n".encode())
        return 1
    return 0


def child(argv: list[str], stdin_fd: int, stdout_fd: int, all_fds: list[int]) -> None:
    """In the forked child: wire stdin/stdout, close every pipe end, exec."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # Python ignores it; an ignored signal survives exec
    if stdin_fd != 0:
        os.dup2(stdin_fd, 0)
    if stdout_fd != 1:
        os.dup2(stdout_fd, 1)
    for fd in all_fds:
        os.close(fd)
    if argv[0] == "cd":  # a builtin in a pipeline runs in its own process, like bash
        os._exit(builtin_cd(argv))
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        os.write(2, f"minishell: {argv[0]}: command not found\n".encode())
        os._exit(127)
    except OSError as exc:  # every way exec can fail (it only raises OSError... or so it seems)
        os.write(2, f"minishell: {argv[0]}: {exc.strerror}\n".encode())
        os._exit(126)


def run_pipeline(commands: list[list[str]]) -> int:
    if len(commands) == 1 and commands[0][0] == "cd":
        return builtin_cd(commands[0])
    pipes = [os.pipe() for _ in range(len(commands) - 1)]
    all_fds = [fd for pair in pipes for fd in pair]
    pids = []
    try:
        for i, argv in enumerate(commands):
            stdin_fd = pipes[i - 1][0] if i > 0 else 0
            stdout_fd = pipes[i][1] if i < len(pipes) else 1
            pid = os.fork()
            if pid == 0:
                child(argv, stdin_fd, stdout_fd, all_fds)
            pids.append(pid)
    finally:
        for fd in all_fds:  # the parent keeps no pipe end: readers see EOF, writers SIGPIPE
            os.close(fd)
        statuses = [os.waitpid(pid, 0)[1] for pid in pids]  # every stage, so no zombie is left
    return decode_status(statuses[-1])


def run(line: str) -> int:
    """Run a command line; its exit status as bash's $? would be."""
    try:
        lists = parse(line)
    except ShellSyntaxError as exc:
        os.write(2, f"minishell: syntax error {exc}\n".encode())
        return 2
    status = 0
    for and_or in lists:
        status = run_pipeline(and_or[0])
        for op, pipeline in and_or[1:]:
            if (op == "&&") == (status == 0):
                status = run_pipeline(pipeline)
    return status


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "-c":
        return run(argv[2])
    status = 0
    while True:
        try:
            line = input("minishell$ " if sys.stdin.isatty() else "")
        except EOFError:
            return status
        sys.stdout.flush()
        status = run(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
