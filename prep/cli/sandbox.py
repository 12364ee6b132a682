"""`prep sandbox ...`: build and check the Docker sandbox of the grader."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Optional

import typer
from rich.text import Text

from .app import emit, err, errors, lazy, out

sandbox = lazy("prep.sandbox")

sandbox_app = typer.Typer(help="Build and check the Docker sandbox that runs hidden tests.", no_args_is_help=True)


@sandbox_app.command("build")
def build(
    from_debian: bool = typer.Option(
        False, "--from-debian",
        help="Make the base image from Debian packages (debootstrap, needs root) instead of pulling it from a registry.",
    ),
    registry_only: bool = typer.Option(False, "--registry-only", help="Fail instead of falling back to debootstrap."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print every line of the build."),
) -> None:
    """Build the sandbox image from grader/Dockerfile (Python 3.11, pytest, gcc).

    Without a reachable registry the base image is made with debootstrap
    automatically (or at once with --from-debian).

    Example: prep sandbox build --from-debian
    """
    choice: Optional[bool] = True if from_debian else (False if registry_only else None)
    with errors.status("building the sandbox image...", spinner="dots") as status:

        def progress(line: str) -> None:
            if verbose:
                err(line)
            status.update(f"building the sandbox image: {line[:70]}")

        image_id = sandbox.build_image(from_debian=choice, progress=progress)
    err(f"built {sandbox.IMAGE} ({image_id[7:19]}): check it with `prep sandbox check`")


@sandbox_app.command("check")
def check(as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """Say whether the Docker engine and the sandbox image are ready, and what to do if not.

    Exit 0 when ready, 3 when something is missing.

    Example: prep sandbox check
    """
    checks = sandbox.check()
    rows = [asdict(c) for c in checks]

    def render(data: list[dict[str, Any]]) -> None:
        for row in data:
            line = Text()
            if row["ok"]:
                line.append(" ✓ ", style="green")
            else:
                line.append(" ✗ " if row["blocking"] else " ! ", style="red" if row["blocking"] else "yellow")
            line.append(f"{row['name']}: ", style="bold")
            line.append(row["detail"])
            out.print(line)
            if not row["ok"] and row["fix"]:
                out.print(Text(f"     do: {row['fix']}", style="yellow"))

    emit(rows, as_json, render)
    ready = all(c.ok or not c.blocking for c in checks) and any(c.name == "container" for c in checks)
    if not ready:
        err("The Docker sandbox is not ready; meanwhile `prep submit SLUG PATH --sandbox local` grades with weaker isolation.")
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")
