"""A mini shell: `;`, `&&`, `||` and `|`, with os.fork, os.execvp, os.pipe, os.dup2 and os.waitpid.

This version scans the line with a table of (state, character class) -> (action, next state),
flattens the line into a list of (connector, pipeline) steps, and starts a pipeline's stages
left to right with one pipe made per stage.
"""

from __future__ import annotations

import errno
import os
import signal
import sys


class SyntaxProblem(Exception):
    pass


# ---------------------------------------------------------------- scanning: a state table

BLANK, WORD, SQ, DQ, DQ_ESC, ESC = "blank", "word", "single", "double", "double-escape", "escape"


def _cls(c: str) -> str:
    if c in " \t":
        return "blank"
    if c in "|;&":
        return "op"
    if c in "<>()":
        return "bad"
    if c in "'\"\\":
        return c
    return "char"


# (state, class) -> (action, next state). Actions: keep (the char joins the word), open (a quote
# starts or ends: the word exists even if empty), drop (nothing), end (the word, if any, ends),
# op (the word ends, an operator starts here), bad (unsupported: a syntax error), dq-esc (what a
# backslash in double quotes gives).
TABLE: dict[tuple[str, str], tuple[str, str]] = {}
for _state in (BLANK, WORD):
    TABLE[_state, "blank"] = ("end", BLANK)
    TABLE[_state, "op"] = ("op", BLANK)
    TABLE[_state, "bad"] = ("bad", BLANK)
    TABLE[_state, "'"] = ("open", SQ)
    TABLE[_state, '"'] = ("open", DQ)
    TABLE[_state, "\\"] = ("open", ESC)
    TABLE[_state, "char"] = ("keep", WORD)
for _cl in ("blank", "op", "bad", '"', "\\", "char"):
    TABLE[SQ, _cl] = ("keep", SQ)
TABLE[SQ, "'"] = ("drop", WORD)
for _cl in ("blank", "op", "bad", "'", "char"):
    TABLE[DQ, _cl] = ("keep", DQ)
TABLE[DQ, '"'] = ("drop", WORD)
TABLE[DQ, "\\"] = ("drop", DQ_ESC)
for _cl in ("blank", "op", "bad", "'", '"', "\\", "char"):
    TABLE[DQ_ESC, _cl] = ("dq-esc", DQ)
    TABLE[ESC, _cl] = ("keep", WORD)
del _state, _cl

OPERATORS = ("&&", "||", "|", ";")  # longest first


def scan(line: str) -> list[tuple[str, str]]:
    """[("w", word) or ("o", operator)], quotes removed."""
    out: list[tuple[str, str]] = []
    buf: list[str] = []
    state = BLANK
    i = 0
    while i < len(line):
        c = line[i]
        action, nxt = TABLE[state, _cls(c)]
        step = 1
        if action == "keep":
            buf.append(c)
        elif action == "dq-esc":
            buf.append(c if c in '"\\$`' else "\\" + c)
        elif action in ("end", "op"):
            if state == WORD:
                out.append(("w", "".join(buf)))
                buf.clear()
            if action == "op":
                op = next((o for o in OPERATORS if line.startswith(o, i)), None)
                if op is None:  # a lone `&`: background jobs are not supported
                    raise SyntaxProblem(f"unexpected `{c}'")
                out.append(("o", op))
                step = len(op)
        elif action == "bad":
            raise SyntaxProblem(f"unexpected `{c}' (not supported)")
        state = nxt
        i += step
    if state in (SQ, DQ, DQ_ESC):
        raise SyntaxProblem("unexpected end of line while looking for the closing quote")
    if state == ESC:  # a backslash at the very end stays
        buf.append("\\")
        state = WORD
    if state == WORD:
        out.append(("w", "".join(buf)))
    return out


# ---------------------------------------------------------------- parsing: a flat list of steps


def parse(line: str) -> list[tuple[str, list[list[str]]]]:
    """[(connector, pipeline)]: connector is ';' (run it), '&&' (if 0) or '||' (if not 0)."""
    steps: list[tuple[str, list[list[str]]]] = []
    connector = ";"
    stages: list[list[str]] = []
    words: list[str] = []
    tokens = scan(line)
    for kind, text in tokens + [("o", "")]:  # "" marks the end of the line
        if kind == "w":
            words.append(text)
            continue
        if text == "|":
            if not words:
                raise SyntaxProblem("unexpected `|'")
            stages.append(words)
            words = []
            continue
        if words:
            stages.append(words)
            words = []
        elif stages:  # `a |` then an operator or the end
            raise SyntaxProblem(f"unexpected `{text or 'end of line'}'")
        if not stages:
            # an empty pipeline is only the empty line, or what follows a last `;`
            if text == "" and connector == ";" and (steps or not tokens):
                break
            raise SyntaxProblem(f"unexpected `{text or 'end of line'}'")
        steps.append((connector, stages))
        stages = []
        connector = text or ";"
    return steps


# ---------------------------------------------------------------- running


def _cd(argv: list[str]) -> int:
    if len(argv) > 2:
        os.write(2, b"minishell: cd: too many arguments\n")
        return 1
    where = argv[1] if len(argv) == 2 else os.environ.get("HOME", "/")
    try:
        os.chdir(where)
    except OSError as exc:
        os.write(2, f"minishell: cd: {where}: {os.strerror(exc.errno or 0)}\n".encode("utf-8", "replace"))
        return 1
    return 0


def _exec_child(argv: list[str], fd_in: int, fd_out: int) -> None:
    """The forked child. Never returns."""
    code = 126
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if fd_in != 0:
            os.dup2(fd_in, 0)
        if fd_out != 1:
            os.dup2(fd_out, 1)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # every pipe end, and anything else
        name = argv[0]
        if name == "cd":
            code = _cd(argv)
        elif name == "":
            os.write(2, b"minishell: : command not found\n")
            code = 127
        else:
            try:
                os.execvp(name, argv)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    os.write(2, f"minishell: {name}: command not found\n".encode("utf-8", "replace"))
                    code = 127
                else:
                    os.write(2, f"minishell: {name}: {os.strerror(exc.errno or 0)}\n".encode("utf-8", "replace"))
                    code = 126
    except BaseException:  # noqa: BLE001 - the child never returns into the caller's code
        pass
    os._exit(code)


def _status(raw: int) -> int:
    code = os.waitstatus_to_exitcode(raw)  # -N for a death by signal N
    return 128 - code if code < 0 else code


def run_pipeline(stages: list[list[str]]) -> int:
    if len(stages) == 1 and stages[0][0] == "cd":
        return _cd(stages[0])  # alone, cd changes this process
    pids: list[int] = []
    upstream = 0  # what the next stage reads: the shell's stdin for the first one
    try:
        for n, argv in enumerate(stages):
            last = n == len(stages) - 1
            down_r, down_w = (-1, 1) if last else os.pipe()
            try:
                pid = os.fork()
                if pid == 0:
                    _exec_child(argv, upstream, down_w)
                pids.append(pid)
            finally:
                if upstream != 0:
                    os.close(upstream)
                if not last:
                    os.close(down_w)
                upstream = down_r if not last else 0  # the only end the shell still holds
    finally:
        if upstream != 0:
            os.close(upstream)
        raw = [os.waitpid(pid, 0)[1] for pid in pids]
    return _status(raw[-1])


def run(line: str) -> int:
    """Run one command line; return its exit status as bash's $? would be after it.

    The commands' output goes to the real standard output (fd 1), errors to fd 2."""
    try:
        steps = parse(line)
    except SyntaxProblem as exc:
        os.write(2, f"minishell: syntax error: {exc}\n".encode("utf-8", "replace"))
        return 2
    status = 0
    for connector, stages in steps:
        if connector == ";" or (connector == "&&") == (status == 0):
            status = run_pipeline(stages)
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
