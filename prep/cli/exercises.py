"""`prep exercise ...`, `prep test`, `prep submit`, `prep history`: exercises and the grader."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import typer
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..errors import InputError, NotFoundError, UsageError
from ..settings import server_settings
from .app import State, emit, err, errors, lazy, line_table, out, plural, report_lint

content = lazy("prep.content")
exercises = lazy("prep.exercises")
grading = lazy("prep.grading")
sandbox = lazy("prep.sandbox")

exercise_app = typer.Typer(help="List, read, start and check the exercises.", no_args_is_help=True)

STATUS_STYLE = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "error": ("!", "red"),
    "timeout": ("⏱", "yellow"),
    "memory-limit": ("M", "magenta"),
    "crashed": ("☠", "red"),
    "output-limit": ("O", "magenta"),
    "internal-error": ("?", "cyan"),
}
BUILD_LINES_SHOWN = 30  # of gcc's output, above the tests; `--json` has it all (up to its own cap)
BUILD_LINE_WIDTH = 300


def catalog() -> exercises.Catalog:
    return exercises.load_catalog(content.exercises_dir())


def summary(ex: exercises.Exercise) -> dict[str, Any]:
    return {
        "slug": ex.slug,
        "title": ex.title,
        "topics": list(ex.topics),
        "difficulty": ex.difficulty,
        "language": ex.language,
        "cards": list(ex.cards),
        "entry": ex.entry,
        "files": list(ex.files),
    }


@exercise_app.command("list")
def list_exercises(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """List the exercises, one a line.

    Example: prep exercise list
    """
    found = catalog()
    rows = [summary(e) for e in found.exercises]
    broken = sorted({p.card_id for p in found.problems})
    if broken:
        err(f"left out, with problems: {', '.join(broken)} (see `prep exercise lint`)")

    def render(data: list[dict[str, Any]]) -> None:
        line_table(["slug", "difficulty", "language", "title"],
                   [[row["slug"], row["difficulty"], row["language"], row["title"]] for row in data])
        err(f"{plural(len(data), 'exercise')}: `prep exercise show SLUG` for one")

    emit(rows, as_json, render)


@exercise_app.command("show")
def show(
    slug: str = typer.Argument(..., help="The exercise (see `prep exercise list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Show an exercise's statement, limits and linked cards.

    Example: prep exercise show run-command
    """
    ex = catalog().get(slug)
    statement = ex.readme.read_text(encoding="utf-8") if ex.readme.is_file() else ""
    data = {**summary(ex), "limits": ex.limits.model_dump(), "statement": statement}

    def render(_: Any) -> None:
        from rich.markdown import Markdown

        # Wrapped, not soft-wrapped: a soft-wrapping console crops code blocks at the terminal's width.
        out.print(Markdown(statement), soft_wrap=False)
        limits = ex.limits
        out.print(
            f"[dim]Limits: {limits.test_seconds:g} s per test, {limits.run_seconds:g} s per submission, "
            f"{limits.memory_mb} MB, {limits.pids} processes, {limits.output_kb} KB of output.[/]"
        )
        out.print(f"[dim]Cards: {', '.join(ex.cards)}   Start: prep exercise start {ex.slug}[/]")

    emit(data, as_json, render)


@exercise_app.command("start")
def start(
    slug: str = typer.Argument(..., help="The exercise (see `prep exercise list`)."),
    folder: Optional[Path] = typer.Argument(None, metavar="[DIR]", help="Where to put the starter (default: ./SLUG)."),
) -> None:
    """Copy an exercise's starter files and statement (README.md) into a folder of yours (never overwrites).

    Example: prep exercise start run-command ~/prep/run-command
    """
    ex = catalog().get(slug)
    target = folder if folder is not None else Path(slug)
    written = exercises.start(ex, target)
    for path in written:
        out.print(str(path), markup=False)
    statement = target / exercises.STATEMENT_FILE
    if statement not in written:
        err(f"kept your {statement}: the statement is also `prep exercise show {slug}`")
    err(f"Next: edit {target / ex.entry}, then `prep test {slug} {target}` and `prep submit {slug} {target}`")


@exercise_app.command("wrong")
def wrong(
    slug: str = typer.Argument(..., help="The exercise (see `prep exercise list`)."),
    name: Optional[str] = typer.Argument(
        None, metavar="[NAME]", help="The wrong solution (a folder of grader/solutions/SLUG/wrong); without it, the list."
    ),
    folder: Optional[Path] = typer.Argument(None, metavar="[DIR]", help="Where to write it (default: ./SLUG-NAME)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts (the names, or the files written)."),
) -> None:
    """Write one of an exercise's wrong solutions (the reference with its mistake.patch applied) into a folder, for `prep submit`.

    Without NAME, lists the wrong solutions. Never overwrites.

    Example: prep exercise wrong run-command exit-status-only ws && prep submit run-command ws --no-record
    """
    ex = catalog().get(slug)
    grader = content.grader_dir()
    exercises.require_solutions(grader)
    if name is None:
        def listed(names: list[str]) -> None:
            for known in names:
                out.print(known, markup=False)
            err(f"`prep exercise wrong {ex.slug} NAME DIR` writes one; its WHY.md says which hidden tests it fails")

        emit(exercises.wrong_solutions(grader, ex.slug), as_json, listed)
        return
    target = folder if folder is not None else Path(f"{ex.slug}-{name}")
    written = [str(path) for path in exercises.materialise_wrong(grader, ex.slug, name, target)]

    def render(paths: list[str]) -> None:
        for path in paths:
            out.print(path, markup=False)
        err(f"Next: prep submit {ex.slug} {target} --no-record")

    emit(written, as_json, render)


@exercise_app.command("lint")
def lint(ctx: typer.Context) -> None:
    """Check every exercise: exercise.yaml, statement, starter, tests, hidden tests, solutions, linked cards.

    Lists each problem as file:line: slug: message; exit 0 when clean, 1 otherwise.

    Example: prep exercise lint
    """
    state: State = ctx.obj
    bank = state.load_bank()
    links = {c.id: c.exercise for c in bank.cards}
    grader = content.grader_dir()
    catalog_, problems = exercises.lint_exercises(content.exercises_dir(), grader, set(links), links, set(bank.topics))
    if not exercises.has_solutions(grader):
        err("The solutions are not in the installed package: lint them from a clone of the repository.")
    report_lint(problems, f"{len(catalog_.exercises)} exercises", f"{len(catalog_.exercises)} exercises: no problems")


@exercise_app.command("schema")
def schema(write: bool = typer.Option(False, "--write", help="Write exercises/exercise.schema.json instead of printing.")) -> None:
    """Print the JSON Schema of exercise.yaml (generated from the model lint uses).

    Example: prep exercise schema --write
    """
    if write:
        path = exercises.write_schema(content.exercises_dir())
        err(f"wrote {path}")
    else:
        sys.stdout.write(json.dumps(exercises.exercise_schema(), indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------ test / submit / history


def _submission_path(path: Optional[Path]) -> Path:
    return path if path is not None else Path(".")


def visible_tests(slug: str = typer.Argument(..., help="The exercise."),
                  path: Optional[Path] = typer.Argument(None, metavar="[PATH]", help="Your file or folder (default: .)."),
                  ) -> None:
    """Run an exercise's visible tests on your code, locally with pytest.

    Exit status is pytest's: 0 when they pass.

    Example: prep test run-command ~/prep/run-command
    """
    ex = catalog().get(slug)
    submission = grading.collect(ex, _submission_path(path))
    if not ex.visible_tests.is_dir():
        raise InputError(f"{slug} has no visible tests")
    with tempfile.TemporaryDirectory(prefix="prep-test-") as tmp:
        work = Path(tmp)
        submission.write(work)
        tests = work / "tests"
        tests.mkdir()
        for test in sorted(ex.visible_tests.glob("*.py")):
            (tests / test.name).write_bytes(test.read_bytes())
        env = {**os.environ, "PYTHONPATH": str(work), "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(work), str(tests)]
        err(f"visible tests of {slug} on {', '.join(sorted(submission.files))}")
        code = subprocess.call(cmd, cwd=work, env=env)
    if code == 0:
        err(f"Visible tests pass. The hidden tests check much more: prep submit {slug} {path or '.'}")
    raise typer.Exit(code)


def submit(
    ctx: typer.Context,
    slug: str = typer.Argument(..., help="The exercise."),
    path: Optional[Path] = typer.Argument(None, metavar="[PATH]", help="Your file or folder (default: .)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result document as JSON."),
    sandbox_name: Optional[str] = typer.Option(
        None, "--sandbox", help="docker (isolated) or local (weaker: runs as you); grades here even when a server is set."),
    server: Optional[str] = typer.Option(
        None, "--server", metavar="URL",
        help="Grade on this grading server (default: `url` of [server] in the settings file; the token is read there too)."),
    no_record: bool = typer.Option(False, "--no-record", help="Do not store this submission in your progress."),
    no_rate: bool = typer.Option(False, "--no-rate", help="Store it, but review no card and leave the exercise's due date."),
) -> None:
    """Grade your code with the hidden tests in the sandbox, or on your class's grading server, and record the verdict.

    Exit status: 0 passed, 1 not passed, 3 the sandbox (or the server) is missing or failed.

    Example: prep submit run-command ~/prep/run-command
    """
    state: State = ctx.obj
    if sandbox_name not in (None, "docker", "local"):
        raise typer.BadParameter("use docker or local", param_hint="--sandbox")
    if server is not None and sandbox_name is not None:
        raise typer.BadParameter("grade either on a server or in a local sandbox", param_hint="--server")
    ex = catalog().get(slug)
    submission = grading.collect(ex, _submission_path(path))
    ignored = [name for name in submission.ignored if name != "README.md"]  # the statement `exercise start` put there
    if ignored and not as_json:
        err(f"not submitted (not in the exercise's files): {', '.join(ignored)}")
    settings = server_settings() if sandbox_name is None else None
    if settings is not None and (server or settings.url):
        result = _grade_on_server(server or settings.url, settings, ex, submission)
    else:
        sandbox_name = sandbox_name or "docker"
        backend = sandbox.backend(sandbox_name)
        if sandbox_name == "docker":
            backend.ensure_ready()
        else:
            err("Warning: " + sandbox.LocalBackend.WARNING)
        try:
            with errors.status(f"grading {slug} in the {sandbox_name} sandbox...", spinner="dots"):
                result = grading.grade(ex, submission, backend)
        except KeyboardInterrupt:
            err("Interrupted: the sandbox was stopped and removed; nothing was recorded.")
            raise typer.Exit(130) from None
    if not no_record:
        result["recorded"] = grading.record(state.db(), ex, submission, result, rate=not no_rate)
    emit(result, as_json, render_result)
    if result["verdict"] == "internal-error":
        raise typer.Exit(3)
    raise typer.Exit(0 if result["verdict"] == "passed" else 1)


def _grade_on_server(url: str, settings, ex: exercises.Exercise, submission: grading.Submission) -> dict[str, Any]:
    """Send the submission to the grading server, show where it is, and give back its result document."""
    from .. import remote

    if not settings.token:
        raise InputError(f'no token for the grading server: put token = "..." under [server] in {settings.where}')
    said: list[str] = []
    with errors.status(f"sending {ex.slug} to {url}...", spinner="dots") as status:

        def progress(row: dict[str, Any]) -> None:
            state = row.get("state")
            if row.pop("picked_up", False):
                err(f"{ex.slug}: these files are on {url} already, as submission {row['id']} "
                    "(sent by a `prep submit` that was interrupted): waiting for its result")
            if state == "queued":
                ahead = row.get("queued_ahead") or 0
                line = f"{ex.slug}: queued on {url} as submission {row['id']}" + (f" ({ahead} ahead)" if ahead else "")
            elif state == "running":
                line = f"{ex.slug}: running on {url}"
            else:
                return
            status.update(line + "...")
            if not errors.is_terminal and line not in said:  # a log, not a spinner: each state once
                err(line)
            said.append(line)

        try:
            row = remote.submit(url, settings.token, ex.slug, submission.texts(), submission.code_hash, progress)
        except KeyboardInterrupt:
            err("Interrupted: nothing was recorded here; the server goes on grading it, and `prep submit` "
                "again with the same files waits for that grading and records it.")
            raise typer.Exit(130) from None
    err(f"graded on {url} as submission {row['id']}")
    return row["result"]


def render_result(result: dict[str, Any]) -> None:
    tests = result["tests"]
    passed = sum(t["status"] == "passed" for t in tests)
    render_build(result)
    for t in tests:
        mark, colour = STATUS_STYLE.get(t["status"], ("?", "white"))
        line = Text()
        line.append(f" {mark} ", style=colour)
        line.append(t["name"])
        if t["status"] != "passed":
            line.append(f"  {t['status']}", style=colour)
        line.append(f"  {t['duration_ms']} ms", style="dim")
        out.print(line)
        if t["status"] != "passed" and t.get("message"):
            print_under_test(t["message"])
        if t["status"] != "passed" and t.get("output"):
            print_under_test("output: " + t["output"].rstrip(), style="dim")
    verdict = result["verdict"]
    mark, colour = STATUS_STYLE.get(verdict, ("?", "white"))
    line = Text()
    line.append("Verdict: ")
    line.append(verdict, style=f"bold {colour}")
    line.append(f"   score {result['score']:.2f} ({passed}/{len(tests)} tests)   {result['duration_ms'] / 1000:.1f} s, {result['backend']}")
    out.print(line)
    if result.get("message") and verdict in ("internal-error",):
        out.print(Text(result["message"]))
    perf = result.get("performance")
    if perf:
        base = f" (baseline {perf['baseline']:g})" if perf.get("baseline") is not None else ""
        out.print(f"{perf['name']}: {perf['value']:g}{base}", markup=False)
    if verdict == "internal-error":
        out.print("The sandbox failed, not your code: this submission does not count. Try again, or `prep sandbox check`.")
    recorded = result.get("recorded")
    if recorded:
        line = f"Recorded as submission #{recorded['submission_id']}."
        if recorded.get("exercise_due"):
            due = datetime.fromisoformat(recorded["exercise_due"]).astimezone().date()  # the learner's local date
            line += f" Next re-implementation due: {due.isoformat()}."
        out.print(Text(line, style="dim"))
        for card, why in (recorded.get("why") or {}).items():
            out.print(Text(f"  rated {recorded['rating']}: {card} ({why})", style="dim"))
        for card, why in (recorded.get("not_rated") or {}).items():
            out.print(Text(f"  not rated: {card} ({why})", style="dim"))


def print_under_test(text: str, style: str = "") -> None:
    """A test's message or output under its name: indented, and wrapped at words to the width
    (the terminal's, or $COLUMNS), where the terminal alone would cut words at its edge."""
    from rich.padding import Padding

    out.print(Padding(Text(text, style=style), (0, 0, 0, 5), expand=False), soft_wrap=False)


def render_build(result: dict[str, Any]) -> None:
    """gcc's warnings (dim) or errors (red), once, in a panel above the tests; nothing when it was silent."""
    build = result.get("build")
    if not build:
        return
    output = (build.get("output") or "").rstrip()
    if build.get("status") == "passed":
        if not output:
            return
        warnings = sum(": warning:" in line for line in output.splitlines())
        title = f"gcc: {warnings} warning{'' if warnings == 1 else 's'}" if warnings else "gcc said"
        out.print(Panel(Text(_first_lines(output), style="dim"), title=title, title_align="left",
                        border_style="dim", expand=False), soft_wrap=False)  # wrapped in the panel, not cropped
        return
    title = (result.get("message") or grading.NOT_COMPILED).splitlines()[0].rstrip(":")
    out.print(Panel(Text(_first_lines(output or "gcc said nothing")), title=title, title_align="left",
                    border_style="red", expand=False), soft_wrap=False)


def _first_lines(text: str) -> str:
    """At most BUILD_LINES_SHOWN lines of at most BUILD_LINE_WIDTH characters, saying what is left out."""
    lines = text.splitlines()
    kept = [line if len(line) <= BUILD_LINE_WIDTH else line[:BUILD_LINE_WIDTH] + "..." for line in lines[:BUILD_LINES_SHOWN]]
    left = len(lines) - len(kept)
    if left:
        kept.append(f"... ({left} more line{'' if left == 1 else 's'}: `prep submit --json` has them)")
    return "\n".join(kept)


def history(
    ctx: typer.Context,
    slug: Optional[str] = typer.Argument(None, help="Only this exercise."),
    number: Optional[int] = typer.Argument(None, metavar="[N]", help="Show that submission of the exercise (1 is its first)."),
    submission_id: Optional[int] = typer.Option(None, "--id", help="Show one submission's tests, by its id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """List your submissions, newest first, or one submission's per-test results.

    Example: prep history run-command 2
    """
    from .. import store

    db = ctx.obj.db()
    if number is not None:
        if slug is None:
            raise typer.BadParameter("give the exercise too: prep history SLUG N")
        mine = list(reversed(store.submissions(db, slug)))  # oldest first: N counts from the first
        if not mine:
            _check_known(slug)
        if not 1 <= number <= len(mine):
            raise UsageError(f"{slug} has {len(mine)} submission{'s' if len(mine) != 1 else ''}: "
                             f"N is 1 to {len(mine)} (see `prep history {slug}`)" if mine else
                             f"{slug} has no submission yet: submit one with `prep submit {slug} PATH`")
        submission_id = mine[number - 1]["id"]
    if submission_id is not None:
        rows = [r for r in store.submissions(db) if r["id"] == submission_id]
        if not rows:
            raise UsageError(f"--id {submission_id}: no such submission; `prep history` lists them with their ids")
        row = dict(rows[0])
        row.pop("code", None)
        row["tests"] = store.submission_tests(db, submission_id)
        row["performance"] = json.loads(row["performance"]) if row.get("performance") else None
        row["build"] = json.loads(row["build"]) if row.get("build") else None
        emit(row, as_json, render_result_header_and_row)
        return
    found = store.submissions(db, slug)
    if slug is not None and not found:
        _check_known(slug)
    rows = []
    for row in found:
        row = dict(row)
        row.pop("code", None)
        row["performance"] = json.loads(row["performance"]) if row.get("performance") else None
        row["build"] = json.loads(row["build"]) if row.get("build") else None
        rows.append(row)

    def render(data: list[dict[str, Any]]) -> None:
        table = Table(box=None, pad_edge=False)
        for column in ("id", "when (UTC)", "exercise", "verdict", "score", "backend"):
            table.add_column(column, no_wrap=True)
        for r in data:
            _, colour = STATUS_STYLE.get(r["verdict"], ("?", "white"))
            table.add_row(str(r["id"]), r["submitted_at"][:16].replace("T", " "), r["exercise"],
                          Text(r["verdict"], style=colour), f"{r['score']:.2f}", r["backend"])
        out.print(table)
        err(f"{len(data)} submissions" + ("" if data else ": submit one with `prep submit SLUG PATH`"))

    emit(rows, as_json, render)


def _check_known(slug: str) -> None:
    """An exercise that exists (even one with problems) may have no submissions; any other slug is an error."""
    known = catalog()
    if slug in known.by_slug or any(p.card_id == slug for p in known.problems):
        return
    try:
        known.get(slug)
    except NotFoundError as exc:
        if slug.isdigit():
            raise NotFoundError(f"{exc}; to show submission #{slug}: prep history --id {slug}") from None
        raise


def render_result_header_and_row(row: dict[str, Any]) -> None:
    """One stored submission: a header line (which, when, verdict, score), then its tests."""
    when = datetime.fromisoformat(row["submitted_at"]).astimezone().strftime("%Y-%m-%d %H:%M")
    _, colour = STATUS_STYLE.get(row["verdict"], ("?", "white"))
    header = Text()
    header.append(f"Submission #{row['id']} of {row['exercise']}", style="bold")
    header.append(f"   {when}   ")
    header.append(row["verdict"], style=f"bold {colour}")
    header.append(f"   score {row['score'] or 0.0:.2f}")
    out.print(header)
    render_result_row(row)


def render_result_row(row: dict[str, Any]) -> None:
    message = row.get("message") or ""
    build = row.get("build")
    if build is None and message.startswith(grading.NOT_COMPILED):
        # stored before builds were kept: the run's message holds gcc's errors
        build = {"status": "failed", "output": message.partition("\n")[2]}
    render_result({
        "tests": [{**t, "duration_ms": t.get("duration_ms") or 0} for t in row["tests"]],
        "verdict": row["verdict"], "score": row["score"] or 0.0, "duration_ms": row["duration_ms"] or 0,
        "backend": row["backend"], "message": row.get("message"), "performance": row.get("performance"),
        "build": build,
    })


def register(app: typer.Typer) -> None:
    app.add_typer(exercise_app, name="exercise")
    app.command("test")(visible_tests)
    app.command("submit")(submit)
    app.command("history")(history)
