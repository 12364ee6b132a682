"""`prep server ...`: the grading server for a class (docs/server.md).

FastAPI, uvicorn and SQLAlchemy are imported only when a command runs: the base
install has no `server` extra, and says so in one line (exit 3).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from .app import emit, err, out

server_app = typer.Typer(
    help="The grading server for a class: `prep server --init`, then `prep server` (docs/server.md).",
    invoke_without_command=True,
)
class_app = typer.Typer(help="Classes of the server.", no_args_is_help=True)
learner_app = typer.Typer(help="Learners of a class: each gets a token, shown once.", no_args_is_help=True)
instructor_app = typer.Typer(help="Instructors of a class: they see the class's submissions.", no_args_is_help=True)
server_app.add_typer(class_app, name="class")
server_app.add_typer(learner_app, name="learner")
server_app.add_typer(instructor_app, name="instructor")

DB_ENV = "PREP_SERVER_DB"
BROKER_ENV = "PREP_SERVER_BROKER"


def default_db_url() -> str:
    import platformdirs

    return f"sqlite:///{Path(platformdirs.user_data_dir('prep', appauthor=False)) / 'server.db'}"


def _engine(ctx: typer.Context):
    from .. import server

    server.require()
    from ..server import db

    url = ctx.find_root().meta.get("server_db") or default_db_url()
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url, db.engine(url)


def _initialised(ctx: typer.Context):
    from ..errors import EnvironmentProblem
    from ..server import db

    url, engine = _engine(ctx)
    if not db.is_initialised(engine):
        raise EnvironmentProblem(f"{url} has no prep server tables: run `prep server --init` first")
    return engine


@server_app.callback()
def serve(
    ctx: typer.Context,
    db_url: Optional[str] = typer.Option(None, "--db", "--database", envvar=DB_ENV, show_envvar=True,
                                         help="The server's database: sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/NAME (default: `database` of [server] in the settings file, else server.db in your user data folder)."),
    init: bool = typer.Option(False, "--init", help="Create the database's tables, then stop."),
    host: str = typer.Option("127.0.0.1", "--host", help="The address to listen on."),
    port: int = typer.Option(8765, "--port", help="The port to listen on."),
    workers: int = typer.Option(2, "--workers", min=0, help="Gradings at once (0: take submissions, grade none)."),
    queue_size: int = typer.Option(100, "--queue-size", min=1, help="Submissions queued or running at most; more are refused (503)."),
    sandbox_name: str = typer.Option("docker", "--sandbox", help="docker, or local for development only (not a sandbox)."),
    queue: str = typer.Option("embedded", "--queue", help="embedded (threads of this process grade) or celery (`prep server worker` processes grade)."),
    broker: Optional[str] = typer.Option(None, "--broker", envvar=BROKER_ENV, show_envvar=True,
                                         help="With --queue celery: the task queue, redis://HOST:PORT/N (default: `broker` of [server] in the settings file)."),
) -> None:
    """Run the grading server (HTTP API under /api/v1, on 127.0.0.1:8765 by default).

    Example: prep server --init && prep server class create os-2027 && prep server
    """
    if db_url is None or broker is None:  # the settings file's [server] database and broker come after the options
        from ..settings import server_settings

        settings = server_settings()
        db_url, broker = db_url or settings.database, broker or settings.broker
    ctx.find_root().meta["server_db"] = db_url
    ctx.find_root().meta["server_broker"] = broker
    if ctx.invoked_subcommand is not None:
        return
    from .. import sandbox, server

    server.require()
    from ..server import db

    url, engine = _engine(ctx)
    if init:
        db.init(engine)
        err(f"the server's database is ready: {db.safe_url(url)}")
        # the password stays off the screen; a database named by --db must be named again in each command
        same = "" if url == default_db_url() else " (each with the same --db, or PREP_SERVER_DB set)"
        err(f"Next: prep server class create NAME, prep server learner add NAME LEARNER, then prep server{same}")
        return
    if sandbox_name not in ("docker", "local"):
        raise typer.BadParameter("use docker or local", param_hint="--sandbox")
    if queue not in ("embedded", "celery"):
        raise typer.BadParameter("use embedded or celery", param_hint="--queue")
    if queue == "celery" and not broker:
        raise typer.BadParameter("--queue celery needs --broker redis://HOST:PORT/N", param_hint="--broker")
    if queue == "celery":
        server.require_distributed()
        what = f"grading by `prep server worker` through {broker}"
    else:
        if sandbox_name == "local":
            err("Warning: --sandbox local is for development: " + sandbox.LocalBackend.WARNING)
        elif workers:
            sandbox.backend("docker").ensure_ready()
        what = f"{workers} workers, {sandbox_name} sandbox"
    import uvicorn

    from ..server.api import Config, create_app

    app = create_app(Config(db_url=url, sandbox=sandbox_name, workers=workers, queue_size=queue_size,
                            queue=queue, broker=broker))
    err(f"prep server on http://{host}:{port} ({what}, {db.safe_url(url)})")
    # a stop does not wait out the long polls (a client asks again); gradings under way are graded again at the next start
    uvicorn.run(app, host=host, port=port, log_level=os.environ.get("PREP_SERVER_LOG", "info"),
                timeout_graceful_shutdown=5)


@class_app.command("create")
def class_create(ctx: typer.Context, name: str = typer.Argument(..., help="The class's name.")) -> None:
    """Create a class.

    Example: prep server class create os-2027
    """
    from ..server import db

    made = db.create_class(_initialised(ctx), name)
    url = ctx.find_root().meta.get("server_db") or default_db_url()
    err(f"class {made['name']} created in {db.safe_url(url)}: "
        f"`prep server learner add {made['name']} NAME` adds a learner")


def _add(ctx: typer.Context, class_name: str, name: str, role: str, as_json: bool) -> None:
    from ..server import auth, db

    token = auth.new_token()
    added = db.add_user(_initialised(ctx), class_name, name, role, token)

    def render(data: dict) -> None:
        out.print(data["token"], markup=False)
        where = ("they give it at the server's /login page to see the class's results" if role == "instructor"
                 else "it goes in their settings file: [server] token = \"...\"")
        err(f"the token of {role} {name} of {class_name}, shown this once (the server keeps only its hash); {where}")

    emit({**added, "token": token}, as_json, render)


@learner_app.command("add")
def learner_add(ctx: typer.Context, class_name: str = typer.Argument(..., metavar="CLASS", help="The class."),
                name: str = typer.Argument(..., help="The learner's name, unique in the class."),
                as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Add a learner to a class and print their token, once.

    Example: prep server learner add os-2027 alice
    """
    _add(ctx, class_name, name, "learner", as_json)


@learner_app.command("revoke")
def learner_revoke(ctx: typer.Context, class_name: str = typer.Argument(..., metavar="CLASS", help="The class."),
                   name: str = typer.Argument(..., help="The learner.")) -> None:
    """Revoke a learner's token (their submissions stay).

    Example: prep server learner revoke os-2027 alice
    """
    from ..server import db

    db.revoke_user(_initialised(ctx), class_name, name)
    err(f"{name} of {class_name}: token revoked")


@instructor_app.command("add")
def instructor_add(ctx: typer.Context, class_name: str = typer.Argument(..., metavar="CLASS", help="The class."),
                   name: str = typer.Argument(..., help="The instructor's name, unique in the class."),
                   as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Add an instructor to a class and print their token, once.

    Example: prep server instructor add os-2027 bob
    """
    _add(ctx, class_name, name, "instructor", as_json)


@server_app.command("worker")
def worker(
    ctx: typer.Context,
    broker: Optional[str] = typer.Option(None, "--broker", envvar=BROKER_ENV, show_envvar=True,
                                         help="The task queue the server sends to, redis://HOST:PORT/N."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Gradings at once on this machine."),
    sandbox_name: str = typer.Option("docker", "--sandbox", help="docker, or local for development only (not a sandbox)."),
    resend_after: float = typer.Option(120.0, "--resend-after", min=1,
                                       help="Seconds after which a queued submission's task is sent again (a broker that lost it)."),
) -> None:
    """Grade the server's submissions on this machine's Docker engine (distributed mode; one per machine).

    It reads the server's database (`--db`, the same URL as the server's) and takes tasks from the broker the server sends to (`prep server --queue celery --broker URL`).

    It needs the Docker socket, not root: run it as a user in the `docker` group (docs/server.md says why there is no --uid).

    Example: prep server --db postgresql://prep@db.example.org/prep worker --broker redis://queue.example.org:6379/0 --concurrency 2
    """
    from .. import sandbox, server

    server.require()
    server.require_distributed()
    broker = broker or ctx.find_root().meta.get("server_broker")
    if not broker:
        raise typer.BadParameter("name the task queue: --broker redis://HOST:PORT/N", param_hint="--broker")
    if sandbox_name not in ("docker", "local"):
        raise typer.BadParameter("use docker or local", param_hint="--sandbox")
    if sandbox_name == "local":
        err("Warning: --sandbox local is for development: " + sandbox.LocalBackend.WARNING)
    else:
        sandbox.backend("docker").ensure_ready()
    from .. import content, exercises
    from ..server import db
    from ..server.distributed import Worker

    url = ctx.find_root().meta.get("server_db") or default_db_url()
    engine = _initialised(ctx)
    catalog = exercises.load_catalog(content.exercises_dir())
    grader = Worker(engine, broker, lambda: sandbox.backend(sandbox_name), concurrency, catalog,
                    resend_after=resend_after)
    err(f"prep server worker {grader.name}: {concurrency} at once, {sandbox_name} sandbox, "
        f"tasks from {db.safe_url(broker)}, database {db.safe_url(url)}")
    grader.run()


OPENAPI_FILE = "server-openapi.json"


@server_app.command("openapi")
def openapi(write: bool = typer.Option(False, "--write", help="Write docs/server-openapi.json instead of printing.")) -> None:
    """Print the OpenAPI description of the HTTP API (what the server serves at /api/v1/openapi.json).

    Example: prep server openapi --write
    """
    import json
    import sys

    from .. import server

    server.require()
    from ..server.api import openapi as describe

    text = json.dumps(describe(), indent=2, ensure_ascii=False) + "\n"
    if write:
        docs = Path(__file__).resolve().parents[2] / "docs"
        if not docs.is_dir():
            from ..errors import InputError

            raise InputError(f"{docs} does not exist: --write is for a clone of prep's repository")
        path = docs / OPENAPI_FILE
        path.write_text(text, encoding="utf-8")
        err(f"wrote {path}")
    else:
        sys.stdout.write(text)


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
