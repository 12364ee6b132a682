"""A mini shell: `;`, `&&`, `||` and `|`, with os.fork, os.execv, os.pipe, os.dup2 and os.wait4.

This version scans with one regular expression, parses by recursive descent into a small tree
(List of AndOr of Pipeline of Command), evaluates the tree, and searches PATH itself with
os.execv instead of calling execvp.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
from dataclasses import dataclass


class ParseError(Exception):
    pass


# ---------------------------------------------------------------- scanning

_PIECE = re.compile(
    r"""
    (?P<blank>[ \t]+)
  | (?P<op>&&|\|\||\||;)
  | (?P<bad>[&<>()])
  | '(?P<single>[^']*)'
  | "(?P<double>(?:\\.|[^"\\])*)"
  | \\(?P<escaped>.)
  | (?P<plain>[^ \t'"\\&|;<>()]+)
  | (?P<unclosed>['"\\])
    """,
    re.VERBOSE | re.DOTALL,
)
_DQ_ESCAPE = re.compile(r'\\([\\"$`])')


@dataclass(frozen=True)
class Op:
    text: str


def tokens(line: str) -> list[str | Op]:
    """Words (str, quotes removed) and operators (Op)."""
    out: list[str | Op] = []
    word: str | None = None  # None: no word has started
    for m in _PIECE.finditer(line):
        kind = m.lastgroup
        if kind in ("blank", "op"):
            if word is not None:
                out.append(word)
                word = None
            if kind == "op":
                out.append(Op(m.group("op")))
            continue
        if kind == "bad":
            raise ParseError(f"near `{m.group()}': not supported by this shell")
        if kind == "unclosed":
            if m.group() == "\\":  # a backslash ending the line stays as it is
                piece = "\\"
            else:
                raise ParseError(f"unexpected end of line looking for the matching {m.group()}")
        elif kind == "double":
            piece = _DQ_ESCAPE.sub(r"\1", m.group("double"))
        else:
            piece = m.group(kind)
        word = (word or "") + piece
    if word is not None:
        out.append(word)
    return out


# ---------------------------------------------------------------- the tree and the parser


@dataclass
class Command:
    argv: list[str]


@dataclass
class Pipeline:
    stages: list[Command]


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]]  # ("&&" | "||", pipeline)


@dataclass
class Script:
    lists: list[AndOr]


class Parser:
    """line := and_or (';' and_or)* [';'];  and_or := pipeline (('&&'|'||') pipeline)*;
    pipeline := command ('|' command)*;  command := word+"""

    def __init__(self, items: list[str | Op]) -> None:
        self.items = items
        self.pos = 0

    def peek(self) -> str | Op | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def peek_op(self, *texts: str) -> str | None:
        item = self.peek()
        return item.text if isinstance(item, Op) and item.text in texts else None

    def fail(self) -> ParseError:
        item = self.peek()
        near = "end of line" if item is None else (item.text if isinstance(item, Op) else item)
        return ParseError(f"near unexpected token `{near}'")

    def script(self) -> Script:
        lists: list[AndOr] = []
        if self.peek() is None:
            return Script(lists)
        lists.append(self.and_or())
        while self.peek_op(";"):
            self.pos += 1
            if self.peek() is None:
                break  # a last `;`
            lists.append(self.and_or())
        if self.peek() is not None:
            raise self.fail()
        return Script(lists)

    def and_or(self) -> AndOr:
        node = AndOr(self.pipeline(), [])
        while (op := self.peek_op("&&", "||")) is not None:
            self.pos += 1
            node.rest.append((op, self.pipeline()))
        return node

    def pipeline(self) -> Pipeline:
        node = Pipeline([self.command()])
        while self.peek_op("|"):
            self.pos += 1
            node.stages.append(self.command())
        return node

    def command(self) -> Command:
        argv: list[str] = []
        while isinstance(self.peek(), str):
            argv.append(self.items[self.pos])  # type: ignore[arg-type]
            self.pos += 1
        if not argv:
            raise self.fail()
        return Command(argv)


# ---------------------------------------------------------------- running


def _say(text: str) -> None:
    os.write(2, text.encode("utf-8", "replace"))


def change_directory(argv: list[str]) -> int:
    if len(argv) > 2:
        _say("minishell: cd: too many arguments\n")
        return 1
    target = argv[1] if len(argv) == 2 else os.environ.get("HOME", "/")
    try:
        os.chdir(target)
        return 0
    except OSError as exc:
        _say(f"minishell: cd: {target}: {exc.strerror}\n")
        return 1


def _exec_path(argv: list[str]) -> int:
    """execv the program as execvp would find it; on failure the status to end with."""
    name = argv[0]
    if not name:
        _say("minishell: : command not found\n")
        return 127
    if "/" in name:
        candidates = [name]
    else:
        candidates = [os.path.join(d or ".", name) for d in os.environ.get("PATH", os.defpath).split(os.pathsep)]
    denied: OSError | None = None
    for path in candidates:
        try:
            os.execv(path, argv)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                continue
            if exc.errno == errno.EACCES:
                denied = denied or exc
                continue
            _say(f"minishell: {name}: {exc.strerror}\n")  # ENOEXEC and the like: found, not runnable
            return 126
    if denied is not None:
        _say(f"minishell: {name}: {denied.strerror}\n")
        return 126
    _say(f"minishell: {name}: command not found\n")
    return 127


def _child(cmd: Command, wiring: tuple[int, int], pipe_ends: list[int]) -> None:
    status = 126
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # ignored by Python; an ignored signal survives exec
        for fd, target in zip(wiring, (0, 1)):
            if fd != target:
                os.dup2(fd, target)
        for fd in pipe_ends:
            os.close(fd)
        status = change_directory(cmd.argv) if cmd.argv[0] == "cd" else _exec_path(cmd.argv)
    except BaseException:  # noqa: BLE001 - whatever happens, the child ends here
        pass
    finally:
        os._exit(status)


def exit_status(raw: int) -> int:
    if os.WIFEXITED(raw):
        return os.WEXITSTATUS(raw)
    return 128 + os.WTERMSIG(raw)


def run_pipeline(node: Pipeline) -> int:
    stages = node.stages
    if len(stages) == 1 and stages[0].argv[0] == "cd":
        return change_directory(stages[0].argv)
    links: list[tuple[int, int]] = []
    children: list[int] = []
    try:
        for _ in stages[1:]:
            links.append(os.pipe())
        ends = [fd for link in links for fd in link]
        # stage i reads links[i-1] (or the shell's fd 0) and writes links[i] (or the shell's fd 1)
        ins = [0] + [r for r, _ in links]
        outs = [w for _, w in links] + [1]
        for cmd, wiring in zip(stages, zip(ins, outs)):
            pid = os.fork()
            if pid == 0:
                _child(cmd, wiring, ends)
            children.append(pid)
    finally:
        for link in links:
            for fd in link:
                os.close(fd)
        last = 0
        for pid in children:  # every stage, in order; the pipeline's status is the last one's
            _, last, _ = os.wait4(pid, 0)
    return exit_status(last)


def evaluate(script: Script) -> int:
    status = 0
    for chain in script.lists:
        status = run_pipeline(chain.first)
        for op, pipe in chain.rest:
            if op == "&&" and status == 0 or op == "||" and status != 0:
                status = run_pipeline(pipe)
    return status


def run(line: str) -> int:
    """Run one command line; return its exit status as bash's $? would be after it.

    The commands' output goes to the real standard output (fd 1), errors to fd 2."""
    try:
        script = Parser(tokens(line)).script()
    except ParseError as exc:
        _say(f"minishell: syntax error {exc}\n")
        return 2
    return evaluate(script)


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
