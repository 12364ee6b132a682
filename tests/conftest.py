"""Shared fixtures: a tiny bank, a fresh database, the CLI runner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the developer's own progress or bank settings."""
    for name in ("PREP_BANK", "PREP_DB", "NO_COLOR", "PREP_NOW"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.setenv("PREP_CONFIG", str(tmp_path_factory.mktemp("config") / "config.toml"))
    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def tiny_bank(tmp_path) -> Path:
    """A copy of the six-card test bank that a test may break."""
    target = tmp_path / "bank"
    shutil.copytree(FIXTURES / "bank", target)
    return target


@pytest.fixture
def notes_file() -> Path:
    return FIXTURES / "notes.txt"


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "progress.db"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str, env: dict[str, str] | None = None):
    from prep.cli import app

    return runner.invoke(app, list(args), env=env, catch_exceptions=False)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
