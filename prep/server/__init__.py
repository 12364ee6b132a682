"""`prep server`: grading for a class, the hidden tests kept on the server (docs/server.md).

Needs the `server` extra (FastAPI, uvicorn, SQLAlchemy); `require()` says so in one line.
"""

from __future__ import annotations

from ..errors import EnvironmentProblem

EXTRA_MODULES = ("fastapi", "uvicorn", "sqlalchemy")
DISTRIBUTED_MODULES = ("celery", "redis", "psycopg")


def require() -> None:
    """Raise EnvironmentProblem naming the extra when one of its packages is missing."""
    import importlib.util

    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise EnvironmentProblem(
            f"prep server needs {', '.join(missing)}: install the server extra, pip install 'prep[server]'"
        )


def require_distributed() -> None:
    """The distributed mode's packages (Celery, the Redis client, psycopg 3), from the same extra."""
    import importlib.util

    missing = [name for name in DISTRIBUTED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise EnvironmentProblem(
            f"the distributed mode needs {', '.join(missing)}: install the server extra, pip install 'prep[server]'"
        )
