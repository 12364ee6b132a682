"""`prep site ...`: build the static study site and serve it on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from ..errors import UsageError
from .app import State, emit, err, errors, lazy, out

content = lazy("prep.content")
site_lib = lazy("prep.site")

site_app = typer.Typer(help="Build the static study site (search, flashcards) and serve it.", no_args_is_help=True)

# prep.site.DEFAULT_OUT and DEFAULT_PORT, spelt here so that `--help` does not load jinja2 (tests/test_cli.py checks)
DEFAULT_OUT = Path("_site")
DEFAULT_PORT = 8000
STAGES = {"pages": "rendering pages", "search": "indexing for search (Pagefind)"}


@site_app.command("build")
def build(
    ctx: typer.Context,
    out_dir: Path = typer.Option(
        DEFAULT_OUT, "--dir", "-d", "--out", "-o",
        help="The site's folder, written (replaced) here; `prep site serve --dir` serves it. --out is the same.",
    ),
    with_progress: bool = typer.Option(
        False, "--with-progress", help="Include your progress: due counts, submissions and a dashboard."
    ),
    notes: Optional[Path] = typer.Option(None, "--notes", help="A notes file: card pages quote the lines they come from."),
    search: bool = typer.Option(True, "--search/--no-search", help="Index the pages with Pagefind (search)."),
    exercises_dir: Optional[Path] = typer.Option(
        None, "--exercises", help="A folder of exercises to use instead of the shipped ones."
    ),
    lang: Optional[str] = typer.Option(
        None, "--lang", metavar="en|zh",
        help="The language pages open in, the site's own words too (default: `lang` of the \\[quiz] settings, else en).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what was built as JSON."),
) -> None:
    """Render the bank and the exercises into a static site that works offline.

    Open OUT/index.html from the file system (everything but search works), or run
    `prep site serve` for search too.

    Example: prep site build --dir _site --with-progress
    """
    from .. import notes as notes_lib
    from ..settings import chosen_lang, quiz_settings
    from ..scheduling import clock_from_env

    state: State = ctx.obj
    site_lang = chosen_lang(lang)
    now = clock_from_env()()  # $PREP_NOW pins it, as for the quiz
    bank = state.load_bank()
    if exercises_dir is not None and not exercises_dir.is_dir():
        raise UsageError(f"--exercises: {exercises_dir} is not a folder; give a folder of exercises (each in its own folder, with an exercise.yaml)")
    exercises, problems = site_lib.load_exercises(exercises_dir or content.exercises_dir())
    for problem in problems:
        err(f"warning: {problem} (that exercise is left out of the site; `prep exercise lint` for more)")
    settings = quiz_settings()
    progress = site_lib.read_progress(state.db(), bank, now, settings) if with_progress else None
    notes_doc = notes_lib.read_notes(notes) if notes is not None else None

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=errors, transient=True, disable=as_json and not errors.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = site_lib.build(
            bank, out_dir, exercises=exercises, progress=progress, notes=notes_doc,
            search=search, now=now, on_progress=on_progress, settings=settings, lang=site_lang,
        )

    def render(data: dict[str, Any]) -> None:
        searched = data["search"]
        line = (f"{data['pages']} pages ({data['cards']} cards, {data['exercises']} exercises, {data['tags']} tags) "
                f"in {data['render_seconds']:.1f} s")
        if searched:
            line += (f"; search: {searched['pages']} pages indexed in {searched['seconds']:.1f} s "
                     f"(languages {', '.join(searched['languages'])})")
        else:
            line += "; no search index (--no-search)"
        err(line)
        out.print(data["index"], markup=False)
        err(f"open it from the file system (search needs `prep site serve --dir {data['out']}`)")

    emit(result.to_dict(), as_json, render)


@site_app.command("serve")
def serve(
    ctx: typer.Context,
    directory: Path = typer.Option(
        DEFAULT_OUT, "--dir", "-d", "--out", "-o",
        help="The built site's folder, as given to `prep site build --dir`. --out is the same.",
    ),
    port: int = typer.Option(DEFAULT_PORT, "--port", "-p", min=0, max=65535, help="The port (0: any free one)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request on stderr."),
    share: bool = typer.Option(
        True, "--progress/--no-progress",
        help="The flashcards read and write your progress database (the terminal's), not only the browser's.",
    ),
) -> None:
    """Serve a built site on 127.0.0.1 (search works there); Ctrl-C stops.

    The flashcards there share your progress with `prep quiz` (one progress database)
    unless --no-progress.

    Example: prep site serve --port 8000
    """
    from .. import store
    from ..settings import quiz_settings

    state: State = ctx.obj
    db_path = (Path(state.db_path) if state.db_path else store.default_path()) if share else None
    server = site_lib.make_server(directory, port, log=err if verbose else None, progress_db=db_path,
                                  settings=quiz_settings() if share else None)
    if share:
        try:
            state.db()  # opens (and creates) it now, so a problem is one line before serving
        except BaseException:
            server.server_close()
            raise
    host, bound = server.server_address[:2]
    err(f"serving {directory} (Ctrl-C stops)" + (f"; the flashcards use the progress in {db_path}" if db_path else ""))
    out.print(f"http://{host}:{bound}/", markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        err("stopped")
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.add_typer(site_app, name="site")
