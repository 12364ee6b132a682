"""prep: an interview-prep question bank, spaced-repetition quiz and auto-grader."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("prep")
except PackageNotFoundError:  # running from a clone without an install
    __version__ = "0.0.0+local"
