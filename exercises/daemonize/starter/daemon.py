"""Turn the calling process into a daemon: fork, setsid, fork, chdir, umask,
descriptors, pidfile, SIGTERM.

Read README.md (`prep exercise show daemonize`) for exactly what to do.
Check your work with `prep test daemonize .`, then `prep submit daemonize .`.
Use os and signal; python-daemon and subprocess are not the point.
"""

from __future__ import annotations

import os  # noqa: F401 - os.fork, os.setsid, os.chdir, os.umask, os.dup2, os.closerange, os.pipe, os.rename
import signal  # noqa: F401 - the SIGTERM handler
import sys  # noqa: F401 - flush sys.stdout and sys.stderr before forking


class AlreadyRunning(RuntimeError):
    """The pidfile names a process that is still running."""


def daemonize(pidfile: str, workdir: str = "/", umask: int = 0o022, stdout_path: str | None = None) -> int:
    """Returns twice, like fork: the daemon's pid in the caller (once the daemon is ready), 0 in the daemon."""
    raise NotImplementedError("daemonize: not implemented")
