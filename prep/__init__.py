"""prep: an interview-prep question bank, spaced-repetition quiz and auto-grader."""


def __getattr__(name: str) -> str:
    """`prep.__version__`, read on first use: importlib.metadata costs ~30 ms at every start."""
    if name != "__version__":
        raise AttributeError(f"module 'prep' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("prep")
    except PackageNotFoundError:  # running from a clone without an install
        value = "0.0.0+local"
    globals()["__version__"] = value
    return value
