"""A mini shell: `;`, `&&`, `||` and `|`, with os.fork, os.execvp, os.pipe, os.dup2 and os.waitpid.

Read README.md (`prep exercise show mini-shell`) for the exact rules.
Check your work with `prep test mini-shell .`, then `prep submit mini-shell .`.
The subprocess module, os.system, os.popen and os.posix_spawn are not allowed.

Try it by hand:  python3 minishell.py            (reads lines, like a shell)
                 python3 minishell.py -c 'false || echo yes'; echo $?
"""

from __future__ import annotations

import os  # noqa: F401 - you need fork, execvp, pipe, dup2, close, waitpid, chdir, _exit
import signal  # noqa: F401 - the child restores SIGPIPE before exec
import sys


def run(line: str) -> int:
    """Run one command line; return its exit status as bash's $? would be after it.

    The commands' output goes to the real standard output (fd 1), errors to fd 2."""
    raise NotImplementedError("run: not implemented (split into words and operators, then fork and exec)")


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "-c":
        return run(argv[2])
    status = 0
    while True:
        try:
            line = input("minishell$ " if sys.stdin.isatty() else "")
        except EOFError:
            return status
        status = run(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
