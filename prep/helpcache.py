"""`prep --help` and `prep COMMAND --help` from a cache: the same text without importing typer and rich.

Building the help costs typer, rich and its markdown (~200 ms of CPU); reading a file costs a
few. The first `--help` of a command runs the CLI as always and keeps what it printed to
stdout; later ones print that text again, as long as nothing it could depend on changed. The
key holds the words typed, the program's name, prep's own modules and typer's, rich's and
click's (name, size, mtime: an upgrade or an edit rewrites them), Python's version, whether
stdout is a terminal and its size, and the environment variables that steer typer and rich
(colour, width) or prep ($PREP_*). Only a plain request is served: command words followed by
`--help` or `-h`, nothing else; anything else, and every miss, goes to `prep.cli.main`, except
`prep quiz` and `prep stats` in plain forms, which `prep.review_cli` runs without typer.
"""

import os
import sys

# Only os and sys (loaded with the interpreter) at the top: typing, re, pathlib, json, hashlib and
# importlib.util cost 5-25 ms each, and a cached help takes under 10.

HELP_WORDS = ("--help", "-h")
MAX_WORDS = 3  # `prep bank list --help`: a group, a command, --help
# what typer, rich and click read to decide colour, width and layout
ENVIRONMENT = (
    "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "TTY_COMPATIBLE", "TTY_INTERACTIVE",
    "PY_COLORS", "GITHUB_ACTIONS", "JUPYTER_COLUMNS", "JUPYTER_LINES", "LANG", "LC_ALL", "LC_CTYPE",
    "PYTHONIOENCODING", "PYTHONUTF8",
)
ENVIRONMENT_PREFIXES = ("PREP_", "TYPER_", "_TYPER_", "RICH_", "_PREP_COMPLETE")
LIBRARIES = ("typer", "rich", "click")
DIRECT = {"quiz", "stats"}  # run by prep.review_cli without building the typer app, when it can
KEPT = 200  # help texts kept (one a command, terminal size and environment); a miss beyond it drops the oldest half


def help_request(args):
    """Whether `args` ask for help and nothing else: command words, then --help (or -h)."""
    if not args or args[-1] not in HELP_WORDS or len(args) > MAX_WORDS:
        return False
    return all(word and not word.startswith("-") and "=" not in word for word in args[:-1])


def _stat(path):
    st = os.stat(path)
    return (path, st.st_size, st.st_mtime_ns)


def _library_file(name):
    """The library's __init__.py as the import system would find it on sys.path (None when not found)."""
    for entry in sys.path:
        candidate = os.path.join(entry or os.curdir, name, "__init__.py")
        if os.path.isfile(candidate):
            return candidate
    return None


def _terminal_size():
    """The size of each standard stream's terminal (None where it is not one): rich asks them in its own order."""
    sizes = []
    for stream in (sys.__stdin__, sys.__stdout__, sys.__stderr__):
        try:
            size = os.get_terminal_size(stream.fileno())  # type: ignore[union-attr]
            sizes.append((size.columns, size.lines))
        except (AttributeError, ValueError, OSError):
            sizes.append(None)
    return sizes


def help_key(args):
    """What the help printed for `args` may depend on, as one line; OSError when a file cannot be read."""
    here = os.path.dirname(os.path.abspath(__file__))
    parts = [args, os.path.basename(sys.argv[0]), sys.version, sys.executable]
    for folder in (here, os.path.join(here, "cli")):
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                parts.append(_stat(os.path.join(folder, name)))
    for library in LIBRARIES:
        found = _library_file(library)
        parts.append(_stat(found) if found else (library, None))
    stdout = sys.stdout
    parts.append([stdout.isatty(), getattr(stdout, "encoding", None), _terminal_size()])
    parts.append(sorted((k, v) for k, v in os.environ.items() if k in ENVIRONMENT or k.startswith(ENVIRONMENT_PREFIXES)))
    return repr(parts).replace("\n", "\\n")


def _cache_file(key):
    """A file of the help cache, named by a checksum of the key (the file starts with the key itself)."""
    import zlib

    folder = os.environ.get("PREP_CACHE_DIR")  # bank_cache.CACHE_ENV; bank_cache imports pathlib and typing
    if folder:
        folder = os.path.expanduser(folder)
    else:
        import platformdirs

        folder = platformdirs.user_cache_dir("prep", appauthor=False)
    data = key.encode("utf-8", "surrogateescape")
    return os.path.join(folder, "help", f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.txt")


class _Tee:
    """sys.stdout that also keeps what is written; everything else (isatty, encoding, fileno) is stdout's."""

    def __init__(self, stream):
        self._stream = stream
        self.kept = []

    def write(self, text):
        if isinstance(text, (bytes, bytearray)):  # click's echo sends bytes to the binary stream beneath
            self.kept.append(bytes(text).decode(self._stream.encoding or "utf-8"))
            self._stream.flush()
            written = self._stream.buffer.write(text)
            self._stream.buffer.flush()
            return written
        self.kept.append(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _run_cli():
    from .cli import main

    main()


def main():
    """The console entry point: cached help when there is some, else the CLI (keeping the help it prints)."""
    args = sys.argv[1:]
    if not help_request(args):
        if DIRECT.intersection(args):
            from .review_cli import main as direct

            direct(args)  # exits, unless the words are not plainly for it
        return _run_cli()
    try:
        key = help_key(args)
        path = _cache_file(key)
    except (OSError, ValueError, AttributeError, ImportError):
        return _run_cli()
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            kept_key, _, text = f.read().partition("\n")
    except (OSError, ValueError):
        pass
    else:
        if kept_key == key and text:
            sys.stdout.write(text)
            sys.stdout.flush()
            return None
    real, tee = sys.stdout, _Tee(sys.stdout)
    sys.stdout = tee
    try:
        _run_cli()
    except SystemExit as exc:
        if exc.code in (0, None):
            _keep(path, key, "".join(tee.kept))
        raise
    else:
        _keep(path, key, "".join(tee.kept))
    finally:
        sys.stdout = real
    return None


def _keep(path, key, text):
    """Best effort, written whole or not at all: a cache that cannot be written only costs time."""
    if not text:
        return
    try:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        _prune(folder)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(f"{key}\n{text}")
        os.replace(tmp, path)
    except OSError:
        pass


def _prune(folder):
    names = [os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".txt")]
    if len(names) < KEPT:
        return
    names.sort(key=lambda name: os.stat(name).st_mtime_ns)
    for name in names[: len(names) // 2]:
        try:
            os.remove(name)
        except OSError:
            pass
