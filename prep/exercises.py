"""Exercises: the model of `exercises/<slug>/exercise.yaml` and the loader that lints them all.

Every problem of every exercise is reported in one run as
`file:line: slug: what is wrong`, like the card loader, with paths as they are
in the repository (`exercises/<slug>/README.md`, `grader/hidden/<slug>/...`). Besides the YAML, lint
checks what the grader relies on: the entry file is whitelisted, the starter
and the reference solution have the whitelisted files, there are at most 3
visible tests and at least 8 hidden ones, every `assert` in a hidden test has
a message and none defines a module-level `setup`/`teardown`, the wrong
solutions say why they are wrong and their `mistake.patch` applies to the
reference and changes it, and the linked cards
exist (and link back, when the caller passes the cards' links).

A wrong solution is stored as its mistake only: `WHY.md` and `mistake.patch`, a
unified diff against the reference. `materialise_wrong` rebuilds its files by
copying the reference and applying the patch with `git apply`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from .cards import SLUG, Problem, compose_yaml, describe_error, line_at
from .errors import EnvironmentProblem, InputError, NotFoundError

EXERCISE_FILE = "exercise.yaml"
STATEMENT_FILE = "README.md"
SHOWN_ROOT = "exercises"  # how problems name the exercises' folder, as `grader/` names the grader's
SCHEMA_FILE = "exercise.schema.json"
MAX_VISIBLE_TESTS = 3
MIN_HIDDEN_TESTS = 8
MIN_WRONG_SOLUTIONS = 3
MIN_CARDS = 2
WHY_FILE = "WHY.md"
MISTAKE_PATCH = "mistake.patch"  # a wrong solution's change, a unified diff against the reference
CORRECT_DIR = "correct"  # alternative correct solutions, kept whole: grader/solutions/<slug>/correct/<name>/
HOW_FILE = "HOW.md"  # beside an alternative: how it differs from the reference
PROMISES_FILE = "PROMISES.md"  # the statement's promises, each with the hidden tests that check it
FORBIDDEN_NAMES = {"conftest.py", "sitecustomize.py", "usercustomize.py", "__init__.py", "pytest.ini", "setup.cfg", "tox.ini", "pyproject.toml"}
FILE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"

Slug = Annotated[str, Field(pattern=SLUG)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """What the sandbox allows one submission. Every field is optional."""

    test_seconds: float = Field(10, gt=0, le=60, description="Wall time of one hidden test, in seconds.")
    run_seconds: float = Field(60, gt=0, le=600, description="Wall time of the whole submission, in seconds.")
    memory_mb: int = Field(256, ge=32, le=4096, description="Memory of the learner's processes; swap is the same, so no swap.")
    pids: int = Field(64, ge=8, le=1024, description="Processes and threads the learner's side may have at once.")
    output_kb: int = Field(64, ge=1, le=1024, description="stdout+stderr kept per test; more is an output-limit.")
    cpus: float = Field(1.0, gt=0, le=4, description="CPUs of the learner's side.")
    scratch_mb: int = Field(64, ge=1, le=1024, description="Size of the learner's writable scratch folder (tmpfs).")

    @model_validator(mode="after")
    def _test_within_run(self) -> "Limits":
        if self.test_seconds > self.run_seconds:
            raise ValueError("test_seconds is longer than run_seconds")
        return self


class Performance(_Strict):
    """A figure the hidden tests report beside the verdict (report_performance)."""

    name: str = Field(min_length=1, description="What is measured, e.g. `requests per second`.")
    higher_is_better: bool = Field(True, description="False for times and sizes.")


class Rules(_Strict):
    """What the statement forbids, checked on the host from the source (prep.rules) and refused in
    the worker at run time."""

    forbid: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")]] = Field(
        min_length=1,
        description="Modules (`subprocess`) and module functions (`os.system`) a submission may not use.",
    )


class Exercise(_Strict):
    """One exercise. `slug` is its folder name and the key of the learner's submissions."""

    title: str = Field(min_length=1, description="What the learner builds, in a few words.")
    topics: list[Slug] = Field(min_length=1, description="Topics of bank/topics.yaml.")
    cards: list[Slug] = Field(
        default_factory=list, description="Ids of the cards it practises (lint wants at least 2); each card links back with `exercise:`."
    )
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    language: Literal["python", "c"] = "python"
    entry: str = Field(pattern=FILE_NAME, description="The file the learner edits; the driver imports (or compiles) it.")
    files: list[Annotated[str, Field(pattern=FILE_NAME)]] = Field(
        min_length=1, description="Every file a submission may contain (the whitelist); includes `entry`."
    )
    limits: Limits = Field(default_factory=Limits)
    performance: Performance | None = None
    rules: Rules | None = Field(None, description="What the statement forbids (Python exercises).")

    _slug: str = PrivateAttr("")
    _folder: Path = PrivateAttr(Path("."))
    _line: int = PrivateAttr(1)

    @property
    def slug(self) -> str:
        return self._slug

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def file(self) -> str:
        return f"{SHOWN_ROOT}/{self._slug}/{EXERCISE_FILE}"

    @property
    def readme(self) -> Path:
        return self._folder / STATEMENT_FILE

    @property
    def starter(self) -> Path:
        return self._folder / "starter"

    @property
    def visible_tests(self) -> Path:
        return self._folder / "tests"

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-field problems, each with the YAML location it is about."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if self.entry not in self.files:
            found.append((("entry",), f"the entry file {self.entry} is not in `files`"))
        suffix = ".py" if self.language == "python" else ".c"
        if not self.entry.endswith(suffix):
            found.append((("entry",), f"a {self.language} exercise's entry file ends with {suffix}"))
        for i, name in enumerate(self.files):
            if name in FORBIDDEN_NAMES or name.endswith(".pth"):
                found.append((("files", i), f"{name} may not be submitted (it would change how the tests run)"))
        if len(set(self.files)) != len(self.files):
            found.append((("files",), "a file is listed twice"))
        return found


@dataclass
class Catalog:
    root: Path
    exercises: list[Exercise]
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_slug = {e.slug: e for e in self.exercises}

    def get(self, slug: str) -> Exercise:
        try:
            return self.by_slug[slug]
        except KeyError:
            mine = [p for p in self.problems if p.card_id == slug]
            if mine:
                raise ExerciseError(mine, slug) from None
            known = ", ".join(sorted(self.by_slug)) or "none"
            raise NotFoundError(f"no exercise {slug!r} (the exercises are: {known}; see `prep exercise list`)") from None


class ExerciseError(InputError):
    """Exercises have problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem], slug: str | None = None) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        whose = f"exercise {slug!r} has" if slug else "the exercises have"
        super().__init__(f"{whose} {len(problems)} {noun} (see `prep exercise lint`)")


def exercise_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / EXERCISE_FILE).is_file())


def load_exercise(folder: Path, problems: list[Problem]) -> Exercise | None:
    """Validate one exercise.yaml and its statement; None (and problems) when the YAML is invalid.

    A missing or empty README.md is a problem too, but the exercise is returned
    so that lint goes on checking the rest of it.
    """
    slug = folder.name
    shown = f"{SHOWN_ROOT}/{slug}/{EXERCISE_FILE}"
    if not re.match(SLUG, slug):
        problems.append(Problem(shown, 1, slug, "the folder name is not a slug (lower-case words joined by -)"))
    node, data = compose_yaml(folder / EXERCISE_FILE, shown, problems)
    if node is None and data is None:
        if not any(p.file == shown for p in problems):
            problems.append(Problem(shown, 1, slug, "the file is empty"))
        return None
    if not isinstance(data, dict):
        problems.append(Problem(shown, 1, slug, "expected a mapping of fields (title, topics, cards, ...)"))
        return None
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(Problem(shown, line_at(node, err["loc"]), slug, describe_error(err, docs="docs/grading.md")))
        return None
    exercise._slug = slug
    exercise._folder = folder
    exercise._line = 1
    for loc, message in exercise.problems():
        problems.append(Problem(shown, line_at(node, loc), slug, message))
    statement = f"{SHOWN_ROOT}/{slug}/{STATEMENT_FILE}"
    try:
        text = exercise.readme.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(Problem(statement, 1, slug, f"the statement is missing: write {STATEMENT_FILE} beside {EXERCISE_FILE}"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(statement, 1, slug, f"cannot read the statement: {exc}"))
    else:
        if not text.strip():
            problems.append(Problem(statement, 1, slug, "the statement is empty: say what to implement"))
    return exercise


def lint_exercises(
    root: Path,
    grader: Path | None = None,
    card_ids: set[str] | None = None,
    card_links: Mapping[str, str | None] | None = None,
    topic_ids: set[str] | None = None,
) -> tuple[Catalog, list[Problem]]:
    """Load every exercise under `root` and return the catalog with every problem found.

    grader: the grader folder (hidden tests and solutions are checked when given);
    card_ids: the bank's card ids (linked cards must exist);
    card_links: card id -> the card's `exercise:` (each linked card must link back);
    topic_ids: the bank's topics.
    """
    problems: list[Problem] = []
    exercises: list[Exercise] = []
    for folder in exercise_folders(root):
        exercise = load_exercise(folder, problems)
        if exercise is None:
            continue
        exercises.append(exercise)
        _lint_folder(exercise, grader, card_ids, card_links, topic_ids, problems)
    problems.sort(key=lambda p: (p.file, p.line))
    return Catalog(root=root, exercises=exercises), problems


def load_catalog(root: Path) -> Catalog:
    """The exercises whose exercise.yaml and statement are valid; the others are kept as problems.

    `catalog.get(slug)` raises ExerciseError for an exercise that has problems,
    so one broken exercise never stops work on the others.
    """
    problems: list[Problem] = []
    exercises: list[Exercise] = []
    for folder in exercise_folders(root):
        mine: list[Problem] = []
        exercise = load_exercise(folder, mine)
        problems.extend(mine)
        if exercise is not None and not mine:
            exercises.append(exercise)
    return Catalog(root=root, exercises=exercises, problems=problems)


def _lint_folder(ex: Exercise, grader, card_ids, card_links, topic_ids, problems: list[Problem]) -> None:
    slug = ex.slug
    shown = ex.file
    lines = _field_lines(ex.folder / EXERCISE_FILE)

    def add(where: str, message: str, line: int = 1) -> None:
        problems.append(Problem(where, line, slug, message))

    if len(ex.cards) < MIN_CARDS:
        add(shown, f"link at least {MIN_CARDS} cards (it links {len(ex.cards)})", lines.get("cards", 1))
    for card in ex.cards:
        if card_ids is not None and card not in card_ids:
            add(shown, f"linked card {card!r} is not in the bank", lines.get("cards", 1))
        elif card_links is not None and card_links.get(card) != slug:
            add(shown, f"card {card!r} does not link back (give it `exercise: {slug}`)", lines.get("cards", 1))
    for topic in ex.topics:
        if topic_ids is not None and topic not in topic_ids:
            add(shown, f"unknown topic {topic!r}: declare it in bank/topics.yaml", lines.get("topics", 1))
    _check_files(ex, ex.starter, f"{SHOWN_ROOT}/{slug}/starter", add)
    visible = len(_test_names(_python_tree(path) for path in sorted(ex.visible_tests.glob("test_*.py"))))
    if visible > MAX_VISIBLE_TESTS:
        add(f"{SHOWN_ROOT}/{slug}/tests", f"{visible} visible tests: at most {MAX_VISIBLE_TESTS} (the rest belong in the hidden tests)")
    if grader is None:
        return
    hidden_dir = grader / "hidden" / slug
    hidden_trees = {path: _python_tree(path) for path in sorted(hidden_dir.glob("test_*.py"))}
    hidden_names = _test_names(hidden_trees.values())
    hidden = len(hidden_names)
    if hidden < MIN_HIDDEN_TESTS:
        add(f"grader/hidden/{slug}", f"{hidden} hidden tests: write at least {MIN_HIDDEN_TESTS}")
    for path, tree in hidden_trees.items():
        shown_file = f"grader/hidden/{slug}/{path.name}"
        if isinstance(tree, SyntaxError):
            add(shown_file, f"not valid Python: {tree.msg}", tree.lineno or 1)
            continue
        if isinstance(tree, OSError):
            add(shown_file, f"cannot be read: {tree.strerror or tree}")
            continue
        for line in _asserts_without_message(tree):
            add(shown_file, "this assert has no message: the learner would see only 'failed'", line)
        for card, line in _marked_cards(tree):
            if card not in ex.cards:
                add(
                    shown_file,
                    f"`cards` marks {card!r}, which the exercise does not link: a failure here would rate"
                    f" nothing (link it in exercise.yaml's `cards`, or mark one that is)",
                    line,
                )
        for name, line in _nose_fixtures(tree):
            add(
                shown_file,
                f"a module-level `{name}`: pytest 7 takes it for a nose module fixture, and the judge"
                f" (-p no:nose) never calls it: rename it, or write a pytest fixture",
                line,
            )
    if (hidden_dir / "conftest.py").exists():
        add(f"grader/hidden/{slug}/conftest.py", "the judge runs with --noconftest: put helpers in a module and import it")
    if not has_solutions(grader):
        return  # an installed copy: the solutions stay in the repository
    solutions = grader / "solutions" / slug
    _check_files(ex, solutions / "reference", f"grader/solutions/{slug}/reference", add)
    wrong = sorted(p for p in (solutions / "wrong").glob("*") if p.is_dir())
    if len(wrong) < MIN_WRONG_SOLUTIONS:
        add(f"grader/solutions/{slug}/wrong", f"{len(wrong)} wrong solutions: write at least {MIN_WRONG_SOLUTIONS}")
    for folder in wrong:
        _lint_wrong(ex, solutions / "reference", folder, f"grader/solutions/{slug}/wrong/{folder.name}", add)
    for name in correct_solutions(grader, slug):
        where = f"grader/solutions/{slug}/{CORRECT_DIR}/{name}"
        folder = solutions / CORRECT_DIR / name
        if not (folder / HOW_FILE).is_file():
            add(where, f"{HOW_FILE} is missing: say in a paragraph how this correct solution differs from the reference")
        _check_files(ex, folder, where, add, also=(HOW_FILE,))
    promises = solutions / PROMISES_FILE
    if promises.is_file():
        known = set(hidden_names) | ({"test_rule_no_forbidden_modules"} if ex.rules else set())
        for line, promise, tests in promise_table(promises):
            where = f"grader/solutions/{slug}/{PROMISES_FILE}"
            if not tests and tests is not UNTESTED:
                add(where, f"the promise {promise[:60]!r} names no hidden test: write one, take it out of the statement,"
                           f" or say {UNTESTED_MARK} to leave the gap in sight", line)
            for test in tests:
                if test.split("[")[0] not in known:
                    add(where, f"{test} is not a hidden test of {slug}", line)


def _lint_wrong(ex: Exercise, reference: Path, folder: Path, where: str, add) -> None:
    """A wrong solution: WHY.md naming a hidden test, and a patch that turns the reference into a whitelisted mistake."""
    why = folder / WHY_FILE
    if not why.is_file():
        add(where, f"{WHY_FILE} is missing: name the mistake and the hidden test that must fail")
    elif not re.search(r"\btest_\w+", why.read_text(encoding="utf-8")):
        add(f"{where}/{WHY_FILE}", "name the hidden test that must fail (test_...)")
    for path in sorted(folder.iterdir()):
        if path.name not in (WHY_FILE, MISTAKE_PATCH, "__pycache__"):
            add(f"{where}/{path.name}", f"a wrong solution holds only {WHY_FILE} and {MISTAKE_PATCH}: put this change in the patch")
    patch = folder / MISTAKE_PATCH
    if not patch.is_file():
        add(where, f"{MISTAKE_PATCH} is missing: write the mistake as a diff against the reference (see docs/grading.md)")
        return
    if not reference.is_dir():
        return  # the reference's own problem is reported once, for the reference
    with tempfile.TemporaryDirectory(prefix="prep-lint-wrong-") as tmp:
        work = Path(tmp)
        _copy_solution(reference, work)
        try:
            apply_patch(patch, work)
        except PatchError as exc:
            add(f"{where}/{MISTAKE_PATCH}", f"does not apply to the reference: {exc.reason}", exc.line)
            return
        if _solution_files(work) == _solution_files(reference):
            add(f"{where}/{MISTAKE_PATCH}", "changes nothing in the reference: the mistake is missing")
        _check_files(ex, work, where, add)


def _check_files(ex: Exercise, folder: Path, shown: str, add, also: tuple[str, ...] = ()) -> None:
    if not folder.is_dir():
        add(shown, "the folder is missing")
        return
    if not (folder / ex.entry).is_file():
        add(shown, f"the entry file {ex.entry} is missing")
    for path in sorted(folder.iterdir()):
        if path.name == "__pycache__" or path.name in also:
            continue
        if path.name not in ex.files:
            add(f"{shown}/{path.name}", "not in `files` of exercise.yaml: a submission could not contain it")


def _field_lines(path: Path) -> dict[str, int]:
    lines: dict[str, int] = {}
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = re.match(r"^([a-z_]+):", line)
            if m:
                lines.setdefault(m.group(1), number)
    except OSError:
        pass
    return lines


def _python_tree(path: Path) -> ast.Module | SyntaxError | OSError:
    """A Python file's syntax tree, parsed once for every check of it; else why there is none."""
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, OSError) as exc:
        return exc


def _test_names(trees: Iterable[ast.Module | SyntaxError | OSError]) -> list[str]:
    """The test functions of these files, one name each (a file that does not parse has none)."""
    return [node.name for tree in trees if isinstance(tree, ast.Module) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")]


def _asserts_without_message(tree: ast.Module) -> list[int]:
    return [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and node.msg is None]


def _marked_cards(tree: ast.Module) -> list[tuple[str, int]]:
    """The card ids given to `pytest.mark.cards(...)` in a hidden test file, with their lines."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "cards"
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
            found += [(arg.value, node.lineno) for arg in node.args
                      if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    return found


NOSE_FIXTURE_NAMES = ("setup", "teardown")


def _nose_fixtures(tree: ast.Module) -> list[tuple[str, int]]:
    """Module-level names `setup`/`teardown`: pytest 7's nose plugin takes them for module fixtures."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.asname or alias.name for alias in node.names]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        else:
            continue
        found += [(name, node.lineno) for name in names if name in NOSE_FIXTURE_NAMES]
    return found


def exercise_schema() -> dict[str, Any]:
    """The JSON Schema of exercise.yaml, from the model the loader validates with."""
    schema = Exercise.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "prep exercise",
        "description": "exercises/<slug>/exercise.yaml: see docs/grading.md",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def write_schema(root: Path) -> Path:
    path = root / SCHEMA_FILE
    path.write_text(json.dumps(exercise_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def start(exercise: Exercise, target: Path) -> list[Path]:
    """Copy the starter and the statement (README.md) into `target` (created if needed). The files written.

    Never overwrites: a starter file already there refuses the whole start; a
    README.md already there is kept (it is the learner's) and the statement not copied.
    """
    target = target.expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} exists and is not a folder")
    existing = [target / p.name for p in sorted(exercise.starter.iterdir()) if (target / p.name).exists()]
    if existing:
        raise InputError(
            f"{existing[0]} already exists: pick another folder (prep exercise start {exercise.slug} DIR) or move it away"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(exercise.starter.iterdir()):
        if path.is_file() and path.name in exercise.files:
            dest = target / path.name
            dest.write_bytes(path.read_bytes())
            written.append(dest)
    statement = target / STATEMENT_FILE
    if exercise.readme.is_file() and statement.name not in exercise.files:
        try:
            with statement.open("xb") as f:  # exclusive: never replaces a README.md of the learner's
                f.write(exercise.readme.read_bytes())
        except FileExistsError:
            pass
        else:
            written.append(statement)
    return written


# ---------------------------------------------------------------- wrong solutions, from their patch


class PatchError(InputError):
    """A wrong solution's mistake.patch does not apply to the reference; `line` is where in the patch."""

    def __init__(self, patch: Path, reason: str, line: int = 1) -> None:
        self.patch, self.reason, self.line = patch, reason, line
        super().__init__(f"{patch}:{line}: does not apply to the reference: {reason}")


def has_solutions(grader: Path) -> bool:
    """Whether this grader folder holds the solutions: a clone does, the installed package does not."""
    return (grader / "solutions").is_dir()


def require_solutions(grader: Path) -> None:
    if not has_solutions(grader):
        raise NotFoundError(
            "the reference, wrong and alternative solutions are kept in the repository, not in the installed "
            "package (so a learner cannot read the answers): run this from a clone, installed with `pip install -e .`"
        )


def correct_solutions(grader: Path, slug: str) -> list[str]:
    """The names of an exercise's alternative correct solutions (grader/solutions/<slug>/correct/<name>),
    written from the statement in another style than the reference: they guard against hidden tests
    that check the reference instead of the statement."""
    folder = grader / "solutions" / slug / CORRECT_DIR
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def promise_table(path: Path) -> list[tuple[int, str, list[str]]]:
    """The rows of a PROMISES.md table: (line, the statement's promise, the hidden tests named for it)."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        if cells[0].lower().startswith("promise"):
            continue  # the header
        tests = re.findall(r"`(test_\w+(?:\[[^\]]*\])?)`", " ".join(cells[1:]))
        rows.append((number, cells[0], tests or (UNTESTED if UNTESTED_MARK in " ".join(cells[1:]) else [])))
    return rows


UNTESTED_MARK = "(none yet)"  # a promise no hidden test checks yet, said so on purpose
UNTESTED: list[str] = []  # the tests of such a row: empty, and told apart by identity


def wrong_solutions(grader: Path, slug: str) -> list[str]:
    """The names of an exercise's wrong solutions (folders of grader/solutions/<slug>/wrong), sorted."""
    folder = grader / "solutions" / slug / "wrong"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def materialise_wrong(grader: Path, slug: str, name: str, target: Path) -> list[Path]:
    """Write wrong solution `name` of `slug` into `target` (created if needed): the reference, patched. The files written.

    Never overwrites: a file of the solution already in `target` refuses the whole thing.
    """
    names = wrong_solutions(grader, slug)
    if name not in names:
        known = ", ".join(names) or "none"
        raise NotFoundError(f"no wrong solution {name!r} of {slug} (they are: {known})")
    solutions = grader / "solutions" / slug
    target = target.expanduser()
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} exists and is not a folder")
    with tempfile.TemporaryDirectory(prefix="prep-wrong-") as tmp:
        work = Path(tmp)
        _copy_solution(solutions / "reference", work)
        apply_patch(solutions / "wrong" / name / MISTAKE_PATCH, work)
        made = sorted(_solution_files(work))
        existing = [target / n for n in made if (target / n).exists()]
        if existing:
            raise InputError(f"{existing[0]} already exists: pick another folder or move it away")
        target.mkdir(parents=True, exist_ok=True)
        for n in made:
            shutil.copyfile(work / n, target / n)
    return [target / n for n in made]


def apply_patch(patch: Path, folder: Path) -> None:
    """Apply a unified diff (paths a/<file>, b/<file>) to the files in `folder` with `git apply`, or raise PatchError.

    git runs outside any repository and without the user's configuration, so a
    setting (apply.whitespace=fix) or a repository above `folder` cannot change
    what is written; it refuses paths that leave `folder`.
    """
    if not patch.is_file():
        raise PatchError(patch, f"{patch.name} is missing")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CEILING_DIRECTORIES=str(folder.resolve().parent), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    command = ["git", "apply", "--whitespace=nowarn", str(patch.resolve())]
    try:
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, errors="replace")
    except FileNotFoundError:
        raise EnvironmentProblem("git is needed to apply a wrong solution's mistake.patch: install git") from None
    if done.returncode != 0:
        said = [line.removeprefix("error: ").strip() for line in done.stderr.splitlines() if line.strip()]
        reason = "; ".join(said) or f"git apply exited with {done.returncode}"
        raise PatchError(patch, reason, _failed_line(patch, done.stderr))


def _failed_line(patch: Path, stderr: str) -> int:
    """The line of the patch git complains about: a corrupt line, or the header of the hunk that failed."""
    corrupt = re.search(r"corrupt patch at line (\d+)", stderr)
    if corrupt:
        return int(corrupt.group(1))
    failed = re.search(r"patch failed: (.+):(\d+)$", stderr, re.M)
    if not failed:
        return 1
    name, start = failed.group(1), failed.group(2)
    current = None
    for number, line in enumerate(patch.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if line.startswith("--- "):
            current = line[4:].strip().removeprefix("a/")
        elif current == name and re.match(rf"@@ -{start}(,\d+)? ", line):
            return number
    return 1


def _copy_solution(source: Path, target: Path) -> None:
    for path in sorted(source.iterdir()):
        if path.is_file():
            shutil.copyfile(path, target / path.name)


def _solution_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
