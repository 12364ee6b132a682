"""The HTTP API, version 1 (docs/server.md): `create_app(config)` gives the FastAPI application.

Endpoints parse and answer; the database is prep.server.db, grading is the queue's.
Every refusal is `{"detail": "one line"}` with its status (and Retry-After for 429 and 503).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import logging
import time
import urllib.parse
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from .. import content, exercises, grading
from ..errors import InputError, NotFoundError, PrepError, SubmissionTooLarge
from . import auth, db
from .errors import Busy, Conflict, Forbidden, Unauthorized
from .queue import Changes, EmbeddedQueue

API = "/api/v1"
MAX_BODY_BYTES = 4 * 1024 * 1024  # JSON of at most 2 MB of files, escaped
MAX_WAIT_SECONDS = 60
DB_RETRY_AFTER = 5  # seconds: a database that did not answer is asked again then
DB_RECHECK_SECONDS = 2.0  # a long poll re-reads the database this often (a worker in another process)
log = logging.getLogger("prep.server")
COOKIE = "prep_token"
LOGIN_PAGE = ("<!doctype html><meta charset=utf-8><title>prep server</title><h1>prep server</h1><p>{message}</p>"
              '<form method=post action=/login><label>Instructor token <input name=token type=password '
              "autocomplete=off></label> <button>See the class</button></form>")


@dataclass
class Config:
    db_url: str
    sandbox: str = "docker"
    workers: int = 2
    queue_size: int = 100
    queue: str = "embedded"  # or "celery": the distributed mode (prep.server.distributed)
    broker: str | None = None  # the Celery broker's URL, redis://HOST:PORT/N


class TooLarge(SubmissionTooLarge):
    pass


def status_of(exc: PrepError) -> int:
    if isinstance(exc, (Unauthorized, Forbidden, Busy, Conflict)):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, SubmissionTooLarge):
        return 413
    if isinstance(exc, InputError):
        return 422
    return 500


def create_app(config: Config, backend_factory=None, engine=None) -> FastAPI:
    """The application; its queue starts with it (lifespan). `engine` defaults to one for config.db_url."""
    engine = engine if engine is not None else db.engine(config.db_url)
    if not db.is_initialised(engine):
        from ..errors import EnvironmentProblem

        raise EnvironmentProblem(f"{config.db_url} has no prep server tables: run `prep server --init` first")
    catalog = exercises.load_catalog(content.exercises_dir())
    changes = Changes()
    if backend_factory is None:
        from .. import sandbox

        def backend_factory():
            return sandbox.backend(config.sandbox)

    if config.queue == "celery":
        from .distributed import CeleryQueue

        queue = CeleryQueue(engine, config.broker)
    else:
        queue = EmbeddedQueue(engine, backend_factory, config.workers, changes, catalog)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        queue.start()
        try:
            yield
        finally:
            queue.stop()

    app = FastAPI(title="prep server", version="1", description="Grading for a class: docs/server.md of prep.",
                  openapi_url=f"{API}/openapi.json", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.engine, app.state.queue, app.state.catalog = engine, queue, catalog

    @app.exception_handler(PrepError)
    async def _refusal(_request: Request, exc: PrepError) -> JSONResponse:
        status = status_of(exc)
        headers = {}
        if isinstance(exc, Unauthorized):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, Busy):
            headers["Retry-After"] = str(exc.retry_after)
        if status == 500:
            log.error("unexpected error: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.InterfaceError)
    async def _database_away(_request: Request, exc: Exception) -> JSONResponse:
        log.warning("the database did not answer: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return JSONResponse({"detail": f"the server's database is not answering: try again in {DB_RETRY_AFTER} s"},
                            status_code=503, headers={"Retry-After": str(DB_RETRY_AFTER)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return JSONResponse({"detail": f"{where}: {first.get('msg', 'invalid')}"}, status_code=422)

    def user(request: Request) -> dict[str, Any]:
        return db.user_by_token(engine, auth.bearer(request.headers.get("authorization")))

    def instructor(request: Request) -> dict[str, Any]:
        """An instructor, by Bearer header or by the cookie /login set (the pages a browser opens; GET only)."""
        token = auth.bearer(request.headers.get("authorization")) or request.cookies.get(COOKIE)
        me = db.user_by_token(engine, token)
        if me["role"] != "instructor":
            raise Forbidden("only an instructor of the class may see this")
        return me

    def visible(me: dict, row: dict) -> None:
        if row["user_id"] == me["id"]:
            return
        if me["role"] == "instructor" and row["class_id"] == me["class_id"]:
            return
        raise Forbidden(f"submission {row['id']} is not yours")

    @app.get(f"{API}/health")
    def health() -> dict:
        """Whether the server answers; no token needed."""
        return {"ok": True, "version": 1}

    @app.get(f"{API}/me")
    def me(me: dict = Depends(user)) -> dict:
        """Who the token is: name, role (learner or instructor), class."""
        return {"name": me["name"], "role": me["role"], "class": me["class_name"]}

    @app.get(f"{API}/exercises")
    def list_exercises(_me: dict = Depends(user)) -> list[dict]:
        """The exercises: slug, title, language, entry, files (the whitelist), limits, cards."""
        return [summary(ex) for ex in catalog.exercises]

    @app.get(f"{API}/exercises/{{slug}}")
    def show_exercise(slug: str, _me: dict = Depends(user)) -> dict:
        """One exercise with what a learner may see: statement, starter and visible_tests ({name: text})."""
        ex = catalog.get(slug)
        return {**summary(ex), "statement": ex.readme.read_text(encoding="utf-8"),
                "starter": texts(ex.starter), "visible_tests": texts(ex.visible_tests)}

    @app.post(f"{API}/submissions", status_code=202, openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["exercise", "files"], "properties": {
            "exercise": {"type": "string"},
            "files": {"type": "object", "additionalProperties": {"type": "string"},
                      "description": "file name: its text (UTF-8), names from the exercise's `files`"}}}}}}})
    async def submit(request: Request) -> dict:
        """Submit files for an exercise: 202 and the submission, queued. Refusals: 400, 401, 404, 413, 422, 429, 503."""
        me = await run_in_threadpool(user, request)
        body = await read_body(request)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return JSONResponse({"detail": f"the body is not JSON: {exc}"}, status_code=400)
        except RecursionError:
            return JSONResponse({"detail": "the body is not JSON this server reads: nested too deep"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"detail": "the body must be a JSON object: {\"exercise\": ..., \"files\": {...}}"},
                                status_code=400)
        slug, files = data.get("exercise"), data.get("files")
        if not isinstance(slug, str):
            raise InputError("exercise: the exercise's slug is missing (a string)")
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise InputError("files: an object of file name to its text is missing")
        ex = catalog.get(slug)
        submission = grading.collect_files(ex, {name: text.encode("utf-8") for name, text in files.items()})
        submission_id = await run_in_threadpool(
            db.add_submission, engine, me["id"], ex.slug, submission.texts(), submission.code_hash, config.queue_size)
        row = await run_in_threadpool(db.submission_row, engine, submission_id)  # as queued, before a worker wakes
        await run_in_threadpool(queue.enqueue, submission_id)
        return db.public(row)

    @app.get(f"{API}/submissions")
    def list_submissions(me: dict = Depends(user)) -> list[dict]:
        """Your submissions, newest first (an instructor: the class's)."""
        if me["role"] == "instructor":
            rows = db.submission_rows(engine, class_id=me["class_id"])
        else:
            rows = db.submission_rows(engine, user_id=me["id"])
        return [db.public(row) for row in rows]

    @app.get(f"{API}/submissions/{{submission_id}}")
    async def get_submission(request: Request, submission_id: int,
                             wait: float = Query(0, ge=0, le=MAX_WAIT_SECONDS,
                                                 description="seconds to wait for the state to change (a long poll)"),
                             seen: str | None = Query(None, pattern="^(queued|running|done)$",
                                                      description="the state the client last saw (default: the "
                                                                  "state when the request came in)"),
                             ) -> dict:
        """One submission; `result` (the result document, version 1) once `state` is done. With `wait`, a long poll."""
        me = await run_in_threadpool(user, request)
        row = await run_in_threadpool(db.submission_row, engine, submission_id)
        visible(me, row)
        seen = seen or row["state"]
        if wait <= 0 or row["state"] in ("done",) or row["state"] != seen:
            return db.public(row)
        deadline = time.monotonic() + wait
        event = changes.listen(submission_id)
        try:
            row = await run_in_threadpool(db.submission_row, engine, submission_id)  # it may have changed meanwhile
            while row["state"] == seen and (left := deadline - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(event.wait(), timeout=min(left, DB_RECHECK_SECONDS))
                except asyncio.TimeoutError:
                    pass
                event.clear()
                if await request.is_disconnected():
                    break
                row = await run_in_threadpool(db.submission_row, engine, submission_id)
        finally:
            changes.forget(submission_id, event)
        return db.public(row)

    @app.get(f"{API}/class/submissions.csv", response_class=Response)
    def class_csv(me: dict = Depends(instructor)) -> Response:
        """(instructor) Every submission of the class as CSV, oldest first."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", "learner", "exercise", "state", "verdict", "score", "submitted_at", "finished_at"])
        for row in reversed(db.submission_rows(engine, class_id=me["class_id"])):
            result = json.loads(row["result"]) if row["result"] else {}
            writer.writerow([row["id"], row["learner"], row["exercise"], row["state"], result.get("verdict", ""),
                             result.get("score", ""), row["submitted_at"], row["finished_at"] or ""])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        """A form that takes an instructor's token and keeps it in a cookie for /class."""
        return HTMLResponse(LOGIN_PAGE.format(message=""))

    @app.post("/login", response_class=HTMLResponse, include_in_schema=False)
    async def login(request: Request) -> Response:
        body = await read_body(request)
        token = (urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
        try:
            me = await run_in_threadpool(db.user_by_token, engine, token)
        except Unauthorized as exc:
            return HTMLResponse(LOGIN_PAGE.format(message=html.escape(str(exc))), status_code=401)
        if me["role"] != "instructor":
            return HTMLResponse(LOGIN_PAGE.format(message="only an instructor of the class may see this"),
                                status_code=403)
        response = RedirectResponse("/class", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    @app.get("/class", response_class=HTMLResponse)
    def class_page(request: Request) -> Response:
        """(instructor) The class as a web page: learners by exercises, best score."""
        if not request.headers.get("authorization") and not request.cookies.get(COOKIE):
            # a browser opened the page without logging in: the form, not a bare 401 in JSON
            return RedirectResponse("/login", status_code=303)
        me = instructor(request)
        learners = [u["name"] for u in db.class_users(engine, me["class_id"]) if u["role"] == "learner"]
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for row in db.submission_rows(engine, class_id=me["class_id"]):
            if not row["result"]:
                continue
            result = json.loads(row["result"])
            key = (row["learner"], row["exercise"])
            if result.get("counts_as_attempt") and (key not in best or result["score"] > best[key][0]):
                best[key] = (float(result["score"]), result["verdict"])
        slugs = [ex.slug for ex in catalog.exercises]
        head = "".join(f'<th class="exercise"><span>{html.escape(s)}</span></th>' for s in slugs)
        body = []
        for name in learners:
            cells = []
            for slug in slugs:
                score, verdict = best.get((name, slug), (None, ""))
                cells.append("<td></td>" if score is None else
                             f'<td class="{html.escape(verdict)}">{score:.2f}</td>')
            body.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
        page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(me['class_name'])}</title>"
                # Exercise names written upwards: a column per exercise stays as narrow as its score,
                # so a class of 18 exercises fits a laptop's screen without scrolling sideways.
                "<style>td,th{padding:2px 6px;border:1px solid #ccc}td{text-align:right}"
                "th.exercise{vertical-align:bottom}th.exercise span{writing-mode:vertical-rl;"
                "transform:rotate(180deg);white-space:nowrap}"
                "td.passed{background:#cfc}td:not(.passed):not(:empty){background:#fdd}</style>"
                f"<h1>{html.escape(me['class_name'])}</h1><p>Best score of each learner on each exercise; "
                f'<a href="{API}/class/submissions.csv">every submission as CSV</a>.</p>'
                f"<table><tr><th>learner</th>{head}</tr>{''.join(body)}</table>")
        return HTMLResponse(page)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        """No icon, said without an error: a browser asks for it on every page, the JSON ones included."""
        return Response(status_code=204)

    @app.get(f"{API}/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The API in brief, from its own OpenAPI description; nothing loaded from elsewhere."""
        return HTMLResponse(docs_page(app.openapi()))

    return app


def docs_page(spec: dict[str, Any]) -> str:
    """A page of the requests, each with its one-line summary, and a link to the OpenAPI description.

    It stands in for FastAPI's Swagger UI page, which loads its scripts from a CDN: a class's
    network may be offline, and the tests keep to loopback. Python packages that ship Swagger
    UI ship a 4.x, which does not read the OpenAPI 3.1 that FastAPI writes.
    """
    rows = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            summary = (op.get("description") or op.get("summary") or "").splitlines()[0] if op else ""
            rows.append(f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}"
                        f"</code></td><td>{html.escape(summary)}</td></tr>")
    return ("<!doctype html><meta charset=utf-8><title>prep server: HTTP API</title>"
            "<style>td,th{padding:2px 6px;text-align:left;vertical-align:top}</style>"
            f"<h1>prep server: HTTP API, version {html.escape(str(spec.get('info', {}).get('version', '')))}</h1>"
            f'<p>The full description: <a href="{API}/openapi.json">{API}/openapi.json</a> (OpenAPI '
            f"{html.escape(str(spec.get('openapi', '')))}); what each request answers and refuses: "
            "docs/server.md of prep. Every request but <code>GET /api/v1/health</code> carries "
            "<code>Authorization: Bearer TOKEN</code>.</p>"
            f"<table><tr><th>method</th><th>path</th><th>what</th></tr>{''.join(rows)}</table>")


async def read_body(request: Request) -> bytes:
    """The request's body, refused past MAX_BODY_BYTES before it is all read."""
    declared = request.headers.get("content-length")
    limit = MAX_BODY_BYTES // 1024
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise TooLarge(f"the request is {int(declared) // 1024} KB: at most {limit} KB")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge(f"the request is over {limit} KB: at most {limit} KB")
        chunks.append(chunk)
    return b"".join(chunks)


def summary(ex: exercises.Exercise) -> dict[str, Any]:
    return {"slug": ex.slug, "title": ex.title, "topics": list(ex.topics), "difficulty": ex.difficulty,
            "language": ex.language, "entry": ex.entry, "files": list(ex.files), "cards": list(ex.cards),
            "limits": ex.limits.model_dump()}


def texts(folder: Path) -> dict[str, str]:
    """The text files of a folder, by relative name (what a learner may see: starter, visible tests)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            try:
                found[str(path.relative_to(folder))] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return found


def openapi() -> dict[str, Any]:
    """The OpenAPI description the server serves at /api/v1/openapi.json (docs/server-openapi.json is a copy)."""
    engine = db.engine("sqlite://")
    db.init(engine)
    return create_app(Config(db_url="sqlite://", workers=0), engine=engine).openapi()
