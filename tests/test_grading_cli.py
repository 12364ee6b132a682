"""The learner's commands for exercises: list, show, start, lint, test, submit, history; and exercise lint."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from prep import content, exercises, store

from tests.conftest import run_cli

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "grader" / "solutions" / "run-command" / "reference"
STARTER = REPO / "exercises" / "run-command" / "starter"
GRADER = REPO / "grader"


@pytest.fixture(scope="module")
def exit_status_only(tmp_path_factory) -> Path:
    """The wrong solution exit-status-only, materialised: the reference with its mistake.patch applied."""
    folder = tmp_path_factory.mktemp("exit-status-only")
    exercises.materialise_wrong(GRADER, "run-command", "exit-status-only", folder)
    return folder


def test_exercise_list_json(runner):
    result = run_cli(runner, "exercise", "list", "--json")
    assert result.exit_code == 0
    rows = {r["slug"]: r for r in json.loads(result.stdout)}
    assert rows["run-command"]["entry"] == "runcmd.py"
    assert rows["run-command"]["language"] == "python"


def test_exercise_show(runner):
    result = run_cli(runner, "exercise", "show", "run-command", "--json")
    data = json.loads(result.stdout)
    assert data["limits"]["test_seconds"] == 3
    assert data["statement"].startswith("# Run a command")
    human = run_cli(runner, "exercise", "show", "run-command")
    assert "Limits: 3 s per test" in human.stdout


def test_exercise_show_unknown(runner):
    result = run_cli(runner, "exercise", "show", "no-such-thing")
    assert result.exit_code == 1
    assert "Error: no exercise 'no-such-thing'" in result.stderr


def test_exercise_start_copies_the_starter_and_never_overwrites(runner, tmp_path):
    target = tmp_path / "ws"
    first = run_cli(runner, "exercise", "start", "run-command", str(target))
    assert first.exit_code == 0
    assert (target / "runcmd.py").read_text() == (STARTER / "runcmd.py").read_text()
    assert f"prep test run-command {target}" in first.stderr
    (target / "runcmd.py").write_text("# my work\n")
    again = run_cli(runner, "exercise", "start", "run-command", str(target))
    assert again.exit_code == 1
    assert "already exists: pick another folder" in again.stderr
    assert (target / "runcmd.py").read_text() == "# my work\n"


def test_exercise_wrong_writes_the_reference_with_its_mistake(runner, tmp_path):
    listed = run_cli(runner, "exercise", "wrong", "run-command", "--json")
    assert listed.exit_code == 0
    assert "exit-status-only" in json.loads(listed.stdout)
    target = tmp_path / "wrong"
    made = run_cli(runner, "exercise", "wrong", "run-command", "exit-status-only", str(target))
    assert made.exit_code == 0
    assert made.stdout.split() == [str(target / "runcmd.py")]
    assert f"prep submit run-command {target}" in made.stderr
    code = (target / "runcmd.py").read_text()
    assert "return os.WEXITSTATUS(status)  # WRONG" in code and "WIFSIGNALED" not in code
    reference = (REFERENCE / "runcmd.py").read_text()
    assert code != reference and code.splitlines()[-5:] == reference.splitlines()[-5:]  # the rest is the reference's
    (target / "runcmd.py").write_text("# my notes\n")
    again = run_cli(runner, "exercise", "wrong", "run-command", "exit-status-only", str(target))
    assert again.exit_code == 1
    assert f"Error: {target / 'runcmd.py'} already exists: pick another folder or move it away" in again.stderr
    assert (target / "runcmd.py").read_text() == "# my notes\n"
    unknown = run_cli(runner, "exercise", "wrong", "run-command", "no-such-mistake", str(tmp_path / "other"))
    assert unknown.exit_code == 1
    names = ", ".join(exercises.wrong_solutions(GRADER, "run-command"))
    assert f"Error: no wrong solution 'no-such-mistake' of run-command (they are: {names})" in unknown.stderr
    assert not (tmp_path / "other").exists()


def test_visible_tests(runner, capfd):
    ok = run_cli(runner, "test", "run-command", str(REFERENCE))
    assert ok.exit_code == 0
    assert "3 passed" in capfd.readouterr().out
    bad = run_cli(runner, "test", "run-command", str(STARTER))
    assert bad.exit_code == 1
    assert "NotImplementedError" in capfd.readouterr().out


def test_submit_local_json_and_history(runner, tmp_path):
    result = run_cli(runner, "submit", "run-command", str(REFERENCE), "--sandbox", "local", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "passed" and doc["score"] == 1.0 and doc["backend"] == "local"
    assert all({"name", "status", "message"} <= set(t) for t in doc["tests"])
    assert doc["recorded"]["rating"] == "Good"
    assert "Warning: --sandbox local" in result.stderr

    assert run_cli(runner, "exercise", "wrong", "run-command", "exit-status-only", str(tmp_path / "wrong")).exit_code == 0
    wrong = run_cli(runner, "submit", "run-command", str(tmp_path / "wrong"), "--sandbox", "local")
    assert wrong.exit_code == 1
    assert "Verdict: failed" in wrong.stdout
    assert "must give returncode -15, like subprocess; got 0" in wrong.stdout

    history = json.loads(run_cli(runner, "history", "run-command", "--json").stdout)
    assert [h["verdict"] for h in history] == ["failed", "passed"]
    one = json.loads(run_cli(runner, "history", "--id", str(history[0]["id"]), "--json").stdout)
    assert any(t["status"] == "failed" for t in one["tests"])
    missing = run_cli(runner, "history", "--id", "999")
    assert missing.exit_code == 2 and missing.stderr == "Error: --id 999: no such submission; `prep history` lists them with their ids\n"


def test_submit_without_engine_says_what_to_do(runner, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = run_cli(runner, "submit", "run-command", str(REFERENCE))
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: no Docker engine answers")
    assert "--sandbox local" in result.stderr
    assert "Traceback" not in result.stderr


def test_sandbox_check_without_engine(runner, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = run_cli(runner, "sandbox", "check")
    assert result.exit_code == 3
    assert "✗ engine: no Docker engine answers" in result.stdout
    assert "do: start the Docker engine" in result.stdout


def test_submit_refuses_bad_paths(runner, tmp_path):
    result = run_cli(runner, "submit", "run-command", str(tmp_path / "nope"), "--sandbox", "local")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope'} does not exist"
    (tmp_path / "runcmd.py").symlink_to("/etc/passwd")
    linked = run_cli(runner, "submit", "run-command", str(tmp_path), "--sandbox", "local")
    assert linked.exit_code == 1
    assert "is a symbolic link" in linked.stderr


def test_bad_sandbox_name_is_a_usage_error(runner):
    result = run_cli(runner, "submit", "run-command", str(REFERENCE), "--sandbox", "chroot")
    assert result.exit_code == 2


# ------------------------------------------------------------------ ratings from submissions


def fake_result(verdict: str) -> dict:
    return {"version": 1, "verdict": verdict, "score": 1.0 if verdict == "passed" else 0.0, "message": None,
            "duration_ms": 900, "backend": "local", "counts_as_attempt": verdict != "internal-error",
            "performance": None, "tests": [{"name": "t", "status": verdict, "message": None, "output": "", "duration_ms": 1,
                                            "weight": 1.0, "cards": ["exec-failure-exit-127"]}]}


def test_submissions_rate_the_linked_cards(db_path):
    from datetime import datetime, timedelta, timezone

    from prep import grading

    study(db_path, ["exec-failure-exit-127"], at="2026-02-20T12:00:00+00:00")
    db = store.open_db(db_path)
    ex = exercises.load_catalog(content.exercises_dir()).get("run-command")
    sub = grading.Submission(files={"runcmd.py": b"x = 1\n"})
    t0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    ratings = []
    for i, verdict in enumerate(["internal-error", "failed", "timeout", "passed", "passed"]):
        ratings.append(grading.record(db, ex, sub, fake_result(verdict), at=t0 + timedelta(minutes=i))["rating"])
    assert ratings == [None, "Again", None, "Hard", "Good"]
    reviews = store.reviews_of(db, "exec-failure-exit-127")
    assert [r["rating"] for r in reviews] == [3, 1, 2, 3]  # studied once in the quiz, then the submissions
    assert [r["kind"] for r in reviews] == ["quiz", "submission", "submission", "submission"]
    state = db["exercise_state"].get("run-command")
    assert state["due"] > (t0 + timedelta(minutes=4)).isoformat()
    rows = store.submissions(db, "run-command")
    assert [r["counts_as_attempt"] for r in rows][::-1] == [0, 1, 1, 1, 1]


# ------------------------------------------------------------------ lint


def test_the_pilot_exercise_is_clean(runner):
    from prep import cards

    bank = cards.load_bank(content.bank_dir(), content.exercise_slugs())
    links = {c.id: c.exercise for c in bank.cards}
    _, problems = exercises.lint_exercises(content.exercises_dir(), content.grader_dir(), set(links), links, set(bank.topics))
    mine = [str(p) for p in problems if p.card_id == "run-command"]
    assert mine == []


def broken_copy(tmp_path: Path) -> tuple[Path, Path]:
    root, grader = tmp_path / "exercises", tmp_path / "grader"
    shutil.copytree(REPO / "exercises" / "run-command", root / "run-command")
    shutil.copytree(REPO / "grader" / "hidden" / "run-command", grader / "hidden" / "run-command")
    shutil.copytree(REPO / "grader" / "solutions" / "run-command", grader / "solutions" / "run-command")
    return root, grader


def test_lint_reports_every_problem_with_file_and_line(tmp_path):
    root, grader = broken_copy(tmp_path)
    yaml_file = root / "run-command" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("entry: runcmd.py", "entry: main.py").replace("difficulty: medium", "difficulty: brutal"))
    hidden = grader / "hidden" / "run-command" / "test_run_command.py"
    hidden.write_text(hidden.read_text() + "\n\ndef test_bare(learner):\n    assert learner.call('run', ['true'])\n")
    shutil.rmtree(grader / "solutions" / "run-command" / "wrong" / "write-then-read")
    (grader / "solutions" / "run-command" / "wrong" / "exit-status-only" / "WHY.md").unlink()
    _, problems = exercises.lint_exercises(root, grader, card_ids={"exec-failure-exit-127"})
    text = [str(p) for p in problems]
    assert any(t.startswith("exercises/run-command/exercise.yaml:5: run-command: `difficulty`") for t in text), text
    yaml_file.write_text(yaml_file.read_text().replace("difficulty: brutal", "difficulty: hard"))
    _, problems = exercises.lint_exercises(root, grader, card_ids={"exec-failure-exit-127"},
                                           card_links={"exec-failure-exit-127": None})
    text = [str(p) for p in problems]
    assert "exercises/run-command/exercise.yaml:7: run-command: the entry file main.py is not in `files`" in text
    assert "exercises/run-command/exercise.yaml:4: run-command: linked card 'run-command-child-side-order' is not in the bank" in text
    assert "exercises/run-command/exercise.yaml:4: run-command: card 'exec-failure-exit-127' does not link back (give it `exercise: run-command`)" in text
    assert any(t.startswith("grader/hidden/run-command/test_run_command.py:") and "this assert has no message" in t for t in text)
    assert "grader/solutions/run-command/wrong:1: run-command: 3 wrong solutions: write at least 3" not in text
    assert any("WHY.md is missing" in t for t in text)
    assert any(t.startswith("exercises/run-command/starter:1: run-command: the entry file main.py is missing") for t in text)


def lint_texts(root: Path, grader: Path) -> list[str]:
    return [str(p) for p in exercises.lint_exercises(root, grader)[1]]


def test_lint_reports_a_card_mark_the_exercise_does_not_link(tmp_path):
    """A failing test rates only the cards the exercise links: a mark of any other would rate nothing."""
    root, grader = broken_copy(tmp_path)
    hidden = grader / "hidden" / "run-command" / "test_run_command.py"
    text = hidden.read_text()
    assert "import pytest\n" in text
    hidden.write_text(text + '\n\n@pytest.mark.cards("exec-failure-exit-127", "zombie-definition")\n'
                      'def test_marked(learner):\n    assert learner.call("run", ["true"]), "ran"\n')
    line = len(text.splitlines()) + 3
    assert lint_texts(root, grader) == [
        f"grader/hidden/run-command/test_run_command.py:{line}: run-command: `cards` marks 'zombie-definition', which "
        "the exercise does not link: a failure here would rate nothing (link it in exercise.yaml's `cards`, or mark "
        "one that is)"
    ]


def test_lint_reports_a_hidden_test_file_that_is_not_python_at_its_line(tmp_path):
    """Not as an assert without a message (what a file that would not parse used to be reported as)."""
    root, grader = broken_copy(tmp_path)
    hidden = grader / "hidden" / "run-command" / "test_run_command.py"
    text = hidden.read_text()
    hidden.write_text(text + "\n\ndef test_broken(learner):\n    assert learner.call('run', ['true']), 'ran'\n    x = (\n")
    texts = lint_texts(root, grader)
    where = f"grader/hidden/run-command/test_run_command.py:{len(text.splitlines()) + 5}: run-command: not valid Python: "
    assert any(t.startswith(where) for t in texts), texts
    assert not any("assert has no message" in t for t in texts), texts


def test_lint_reports_a_patch_that_does_not_apply_with_its_hunk_and_git_s_reason(tmp_path):
    root, grader = broken_copy(tmp_path)
    wrong = grader / "solutions" / "run-command" / "wrong"
    assert lint_texts(root, grader) == []
    patch = wrong / "exit-status-only" / "mistake.patch"
    lines = patch.read_text().splitlines(keepends=True)
    hunk = next(i for i, line in enumerate(lines, 1) if line.startswith("@@ -20,"))
    patch.write_text("".join(lines).replace("-    if os.WIFSIGNALED(status):", "-    if os.WIFEXITED(status):"))
    assert lint_texts(root, grader) == [
        f"grader/solutions/run-command/wrong/exit-status-only/mistake.patch:{hunk}: run-command: does not apply to the reference:"
        " patch failed: runcmd.py:20; runcmd.py: patch does not apply"
    ]


def test_lint_wants_a_patch_that_changes_something_and_no_copied_files(tmp_path):
    root, grader = broken_copy(tmp_path)
    wrong = grader / "solutions" / "run-command" / "wrong"
    (wrong / "exit-status-only" / "mistake.patch").unlink()
    shutil.copy(REFERENCE / "runcmd.py", wrong / "write-then-read" / "runcmd.py")
    first, *context = (REFERENCE / "runcmd.py").read_text().splitlines()[:4]
    noop = f"--- a/runcmd.py\n+++ b/runcmd.py\n@@ -1,4 +1,4 @@\n-{first}\n+{first}\n" + "".join(f" {line}\n" for line in context)
    (wrong / "statuses-in-exit-order" / "mistake.patch").write_text(noop)
    assert lint_texts(root, grader) == [
        "grader/solutions/run-command/wrong/exit-status-only:1: run-command: mistake.patch is missing:"
        " write the mistake as a diff against the reference (see docs/grading.md)",
        "grader/solutions/run-command/wrong/statuses-in-exit-order/mistake.patch:1: run-command:"
        " changes nothing in the reference: the mistake is missing",
        "grader/solutions/run-command/wrong/write-then-read/runcmd.py:1: run-command:"
        " a wrong solution holds only WHY.md and mistake.patch: put this change in the patch",
    ]


def test_a_patch_may_add_or_remove_a_file(tmp_path):
    root, grader = broken_copy(tmp_path)
    yaml_file = root / "run-command" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("files: [runcmd.py]", "files: [runcmd.py, helper.py]"))
    wrong = grader / "solutions" / "run-command" / "wrong"
    adds = "diff --git a/helper.py b/helper.py\nnew file mode 100644\n--- /dev/null\n+++ b/helper.py\n@@ -0,0 +1 @@\n+RETRIES = 0\n"
    (wrong / "exit-status-only" / "mistake.patch").write_text(adds)
    reference = (REFERENCE / "runcmd.py").read_text().splitlines()
    removes = (
        "diff --git a/runcmd.py b/runcmd.py\ndeleted file mode 100644\n--- a/runcmd.py\n+++ /dev/null\n"
        f"@@ -1,{len(reference)} +0,0 @@\n" + "".join(f"-{line}\n" for line in reference)
    )
    (wrong / "write-then-read" / "mistake.patch").write_text(removes)
    assert lint_texts(root, grader) == [
        "grader/solutions/run-command/wrong/write-then-read:1: run-command: the entry file runcmd.py is missing"
    ]
    written = exercises.materialise_wrong(grader, "run-command", "exit-status-only", tmp_path / "ws")
    assert sorted(p.name for p in written) == ["helper.py", "runcmd.py"]
    assert (tmp_path / "ws" / "helper.py").read_text() == "RETRIES = 0\n"
    assert (tmp_path / "ws" / "runcmd.py").read_text() == (REFERENCE / "runcmd.py").read_text()


def test_lint_counts_tests(tmp_path):
    root, grader = broken_copy(tmp_path)
    (root / "run-command" / "tests" / "test_more.py").write_text("def test_a():\n    pass\n")
    hidden = grader / "hidden" / "run-command"
    for extra in hidden.glob("*.py"):
        extra.write_text('def test_one(learner):\n    assert True, "ok"\n')
    _, problems = exercises.lint_exercises(root, grader)
    text = [str(p) for p in problems]
    assert "exercises/run-command/tests:1: run-command: 4 visible tests: at most 3 (the rest belong in the hidden tests)" in text
    assert "grader/hidden/run-command:1: run-command: 1 hidden tests: write at least 8" in text


def test_lint_refuses_dangerous_whitelists(tmp_path):
    root, grader = broken_copy(tmp_path)
    yaml_file = root / "run-command" / "exercise.yaml"
    yaml_file.write_text(yaml_file.read_text().replace("files: [runcmd.py]", "files: [runcmd.py, conftest.py, x.pth, ../up.py]"))
    _, problems = exercises.lint_exercises(root, None)
    text = "\n".join(map(str, problems))
    assert "`files.3` has the wrong form: '../up.py' (see docs/grading.md)" in text
    yaml_file.write_text(yaml_file.read_text().replace(", ../up.py", ""))
    _, problems = exercises.lint_exercises(root, None)
    text = "\n".join(map(str, problems))
    assert "conftest.py may not be submitted" in text and "x.pth may not be submitted" in text


def test_schema_file_is_current():
    on_disk = json.loads((REPO / "exercises" / "exercise.schema.json").read_text())
    assert on_disk == exercises.exercise_schema(), "run `prep exercise schema --write`"


def test_every_command_has_help_with_an_example(runner):
    for args in (["exercise", "list"], ["exercise", "show"], ["exercise", "start"], ["exercise", "wrong"], ["exercise", "lint"],
                 ["exercise", "schema"],
                 ["test"], ["submit"], ["history"], ["sandbox", "build"], ["sandbox", "check"]):
        result = run_cli(runner, *args, "--help")
        assert result.exit_code == 0
        assert "Example: prep" in result.stdout, args


# ------------------------------------------------------------------ what testers found


def one_exercise(tmp_path: Path, monkeypatch) -> Path:
    """A copy of run-command as the only exercise the CLI sees; a test may break it."""
    root = tmp_path / "exercises"
    shutil.copytree(REPO / "exercises" / "run-command", root / "run-command")
    monkeypatch.setattr(content, "exercises_dir", lambda: root)
    return root / "run-command"


def test_show_without_a_statement_fails_and_names_the_file(runner, tmp_path, monkeypatch):
    folder = one_exercise(tmp_path, monkeypatch)
    (folder / "README.md").unlink()
    result = run_cli(runner, "exercise", "show", "run-command")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: exercise 'run-command' has 1 problem (see `prep exercise lint`)\n"
        "  exercises/run-command/README.md:1: run-command: the statement is missing: write README.md beside exercise.yaml\n"
    )
    _, problems = exercises.lint_exercises(folder.parent)
    assert "exercises/run-command/README.md:1: run-command: the statement is missing: write README.md beside exercise.yaml" in map(str, problems)
    (folder / "README.md").write_text("  \n")
    _, problems = exercises.lint_exercises(folder.parent)
    assert "exercises/run-command/README.md:1: run-command: the statement is empty: say what to implement" in map(str, problems)
    listed = run_cli(runner, "exercise", "list")
    assert "left out, with problems: run-command (see `prep exercise lint`)" in listed.stderr


def test_show_wraps_code_instead_of_cropping_it():
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    shown = subprocess.run([sys.executable, "-m", "prep", "exercise", "show", "snowflake-ids"],
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert shown.returncode == 0, shown.stderr
    statement = shown.stdout.split("\nLimits: ")[0]
    assert max(len(line) for line in statement.splitlines()) <= 80
    signature = "def __init__(self, worker_id: int, clock=time.time_ns, epoch_ms: int = DEFAULT_EPOCH_MS) -> None"
    assert signature in (REPO / "exercises" / "snowflake-ids" / "README.md").read_text()
    assert signature in " ".join(statement.split()), "the signature was cut at 80 columns"


def test_a_failing_tests_message_wraps_at_words_under_its_name(monkeypatch):
    import io

    from rich.console import Console

    from prep.cli import exercises as exercise_cli

    screen = io.StringIO()
    monkeypatch.setattr(exercise_cli, "out", Console(file=screen, width=80, highlight=False, soft_wrap=True, no_color=True))
    message = ("split('0.03', 2, seed) over 60 seeds gave the first person ['0.01', '0.02', '0.03']: each position "
               "expects 1.5 fen, so both 0.01 and 0.02 must come up. With the double-average method the first draw "
               "is uniform in [1, min(2r // k, r - (k - 1))] fen")
    exercise_cli.render_result({
        "tests": [{"name": "test_first_draw", "status": "failed", "duration_ms": 145, "message": message,
                   "output": "printed by the learner"}],
        "verdict": "failed", "score": 0.0, "duration_ms": 3200, "backend": "docker",
    })
    lines = screen.getvalue().splitlines()
    under = lines[1:lines.index(next(line for line in lines if line.startswith("Verdict")))]
    assert len(under) > 3 and all(len(line) <= 80 and line.startswith("     ") for line in under), lines
    assert " ".join(" ".join(under).split()) == " ".join(f"{message} output: printed by the learner".split())


RUN_COMMAND_CARDS = ["run-command-child-side-order", "exec-failure-exit-127", "wait-status-killed-by-sigkill"]


def study(db_path: Path, cards_: list[str], at: str = "2026-11-20T12:00:00+00:00") -> None:
    """Review cards once in the quiz's way (Good), so a submission may rate them."""
    from datetime import datetime

    from prep import scheduling

    from prep.settings import quiz_settings

    db = store.open_db(db_path)
    when = datetime.fromisoformat(at)

    scheduler = scheduling.Scheduler(quiz_settings())
    for card in cards_:
        after = scheduler.review(None, card, scheduling.GOOD, when)
        store.record_review(db, {"card_id": card, "rating": scheduling.GOOD, "reviewed_at": when, "duration_ms": 1000,
                                 "answer": "", "correct": 1, "session_id": None, "kind": "quiz",
                                 "state_after": after.state, "interval_days": after.interval_days}, after.to_row())


def test_first_pass_schedules_the_exercise_days_ahead_and_says_so(runner, monkeypatch, db_path):
    monkeypatch.setenv("PREP_DB", str(db_path))
    monkeypatch.setenv("PREP_NOW", "2026-11-26T12:00:00+00:00")
    study(db_path, RUN_COMMAND_CARDS[:2])
    result = run_cli(runner, "submit", "run-command", str(REFERENCE), "--sandbox", "local")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-4:] == [
        "Recorded as submission #1. Next re-implementation due: 2026-11-28.",
        "  rated Good: run-command-child-side-order (the submission passed)",
        "  rated Good: exec-failure-exit-127 (the submission passed)",
        "  not rated: wait-status-killed-by-sigkill (not studied yet)",
    ]


def test_a_failure_rates_only_the_studied_cards_its_failing_tests_check(runner, monkeypatch, db_path, exit_status_only):
    """fail: Again for the cards the failing tests name (once per run of failures); pass after
    failures: Hard; first-try pass: Good; a card never studied is never rated."""
    monkeypatch.setenv("PREP_DB", str(db_path))
    study(db_path, RUN_COMMAND_CARDS)
    lines = []
    for minute, (folder, code) in enumerate(((exit_status_only, 1), (exit_status_only, 1), (REFERENCE, 0), (REFERENCE, 0))):
        monkeypatch.setenv("PREP_NOW", f"2026-11-26T12:{10 * minute:02d}:00+00:00")  # each run starts the clock anew
        result = run_cli(runner, "submit", "run-command", str(folder), "--sandbox", "local", "--json")
        assert result.exit_code == code
        lines.append(json.loads(result.stdout)["recorded"])
    # exit-status-only decodes no signal: the signal tests fail, and the SIGPIPE pipeline test
    # (which checks the pipe ends are closed too); nothing fails that checks exec's 127
    assert lines[0]["rating"] == "Again"
    assert lines[0]["cards"] == ["run-command-child-side-order", "wait-status-killed-by-sigkill"]
    assert lines[0]["why"]["wait-status-killed-by-sigkill"].startswith("test_killed_by_signal_is_negative[")
    assert lines[0]["why"]["run-command-child-side-order"] == "test_pipeline_early_exit_ends_writer_with_sigpipe failed"
    assert lines[0]["not_rated"] == {"exec-failure-exit-127": "no failing test checks it"}
    assert lines[1]["rating"] is None and lines[1]["cards"] == []
    assert [(r["rating"], r["cards"]) for r in lines[2:]] == [("Hard", RUN_COMMAND_CARDS), ("Good", RUN_COMMAND_CARDS)]
    db = store.open_db(db_path)
    rows = list(db.query("SELECT card_id, rating FROM reviews WHERE kind = 'submission' ORDER BY id"))
    assert rows == [{"card_id": "run-command-child-side-order", "rating": 1},
                    {"card_id": "wait-status-killed-by-sigkill", "rating": 1}] + [
        {"card_id": c, "rating": r} for r in (2, 3) for c in RUN_COMMAND_CARDS]


def test_no_rate_stores_the_submission_and_moves_no_schedule(runner, monkeypatch, db_path, exit_status_only):
    monkeypatch.setenv("PREP_DB", str(db_path))
    monkeypatch.setenv("PREP_NOW", "2026-11-26T12:00:00+00:00")
    study(db_path, RUN_COMMAND_CARDS)
    result = run_cli(runner, "submit", "run-command", str(exit_status_only), "--sandbox", "local", "--no-rate")
    assert result.exit_code == 1
    assert "  not rated: wait-status-killed-by-sigkill (--no-rate)" in result.stdout.splitlines()
    db = store.open_db(db_path)
    assert list(db.query("SELECT count(*) AS n FROM reviews WHERE kind = 'submission'")) == [{"n": 0}]
    assert list(db.query("SELECT count(*) AS n FROM submissions")) == [{"n": 1}]
    assert list(db.query("SELECT count(*) AS n FROM exercise_state")) == [{"n": 0}]


def test_history_of_an_unknown_exercise_is_an_error(runner):
    listing = ", ".join(sorted(p.parent.name for p in (REPO / "exercises").glob("*/exercise.yaml")))
    result = run_cli(runner, "history", "no-such")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no exercise 'no-such' (the exercises are: {listing}; see `prep exercise list`)\n"
    number = run_cli(runner, "history", "1")
    assert number.exit_code == 1
    assert number.stderr == (
        f"Error: no exercise '1' (the exercises are: {listing}; see `prep exercise list`); "
        "to show submission #1: prep history --id 1\n"
    )
    assert run_cli(runner, "history", "run-command").exit_code == 0  # known, no submissions yet


def test_start_copies_the_statement_but_keeps_the_learners(runner, tmp_path):
    target = tmp_path / "ws"
    first = run_cli(runner, "exercise", "start", "run-command", str(target))
    assert first.exit_code == 0
    assert first.stdout.splitlines() == [str(target / "runcmd.py"), str(target / "README.md")]
    assert (target / "README.md").read_text() == (REPO / "exercises" / "run-command" / "README.md").read_text()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("my notes\n")
    second = run_cli(runner, "exercise", "start", "run-command", str(mine))
    assert second.exit_code == 0
    assert second.stdout.splitlines() == [str(mine / "runcmd.py")]
    assert (mine / "README.md").read_text() == "my notes\n"
    assert f"kept your {mine / 'README.md'}: the statement is also `prep exercise show run-command`" in second.stderr


def test_lint_reports_module_level_setup_in_hidden_tests(tmp_path):
    root, grader = broken_copy(tmp_path)
    hidden = grader / "hidden" / "run-command" / "test_run_command.py"
    text = hidden.read_text()
    hidden.write_text(text + "\n\ndef setup():\n    pass\n")
    line = len((text + "\n\ndef setup():").splitlines())
    _, problems = exercises.lint_exercises(root, grader)
    assert (
        f"grader/hidden/run-command/test_run_command.py:{line}: run-command: a module-level `setup`: pytest 7 takes it for a "
        "nose module fixture, and the judge (-p no:nose) never calls it: rename it, or write a pytest fixture"
    ) in map(str, problems)


# ------------------------------------------------------------------ C: gcc's output

C_FIXTURE = REPO / "tests" / "fixtures" / "grading" / "c-exercise"


def c_exercise_only(tmp_path: Path, monkeypatch) -> str:
    """The C fixture exercise as the only one the CLI sees, with its hidden tests and the real harness."""
    slug = "c-fixture"
    root, grader = tmp_path / "exercises", tmp_path / "grader"
    shutil.copytree(C_FIXTURE / "exercise", root / slug)
    shutil.copytree(C_FIXTURE / "hidden", grader / "hidden" / slug)
    shutil.copytree(REPO / "grader" / "runtime", grader / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(content, "exercises_dir", lambda: root)
    monkeypatch.setattr(content, "grader_dir", lambda: grader)
    return slug


def test_submit_shows_gcc_warnings_once_before_the_tests(runner, tmp_path, monkeypatch):
    from tests.redteam.harness import require_docker

    require_docker()
    slug = c_exercise_only(tmp_path, monkeypatch)
    result = run_cli(runner, "submit", slug, str(C_FIXTURE / "warning"), "--no-record")
    assert result.exit_code == 0, result.stdout + result.stderr
    shown = result.stdout
    assert "gcc: 2 warnings" in shown
    for flag in ("[-Wsizeof-array-argument]", "[-Wincompatible-pointer-types]"):
        assert shown.count(flag) == 1, shown
    assert shown.index("[-Wincompatible-pointer-types]") < shown.index(" ✓ test_twice"), "the warnings come before the tests"
    assert "Verdict: passed" in shown

    doc = json.loads(run_cli(runner, "submit", slug, str(C_FIXTURE / "warning"), "--no-record", "--json").stdout)
    assert doc["build"]["status"] == "passed"
    assert "[-Wsizeof-array-argument]" in doc["build"]["output"] and "[-Wincompatible-pointer-types]" in doc["build"]["output"]


def test_submit_says_a_compile_error_once(runner, tmp_path, monkeypatch):
    slug = c_exercise_only(tmp_path, monkeypatch)
    result = run_cli(runner, "submit", slug, str(C_FIXTURE / "broken"), "--sandbox", "local")
    assert result.exit_code == 1
    shown = result.stdout
    assert shown.count("error: expected ‘;’ before ‘}’ token") == 1, shown
    assert shown.index("the C sources did not compile") < shown.index(" ! test_twice")
    assert shown.count("the C sources did not compile: gcc's output is given once, before the tests") == 3
    assert "Verdict: error" in shown
    again = run_cli(runner, "history", "--id", "1").stdout  # the stored run's message keeps gcc's errors
    assert again.count("error: expected ‘;’ before ‘}’ token") == 1, again
    assert again.index("error: expected ‘;’") < again.index(" ! test_twice")


def test_submit_caps_a_flood_of_warnings(runner, tmp_path, monkeypatch):
    slug = c_exercise_only(tmp_path, monkeypatch)
    folder = tmp_path / "noisy"
    shutil.copytree(C_FIXTURE / "exercise" / "starter", folder)
    unused = "".join(f"    int unused{i};\n" for i in range(40))  # 40 warnings, 3 lines each
    (folder / "util.c").write_text(f"int twice(int x) {{\n{unused}    return 2 * x;\n}}\n")
    result = run_cli(runner, "submit", slug, str(folder), "--sandbox", "local", "--no-record")
    assert result.exit_code == 0
    shown = result.stdout
    assert "gcc: 40 warnings" in shown
    assert 5 <= shown.count("warning: unused variable") <= 10, shown  # 30 lines: the first 9 or so of 40
    assert re.search(r"\.\.\. \(\d+ more lines: `prep submit --json` has them\)", shown), shown
    doc = json.loads(run_cli(runner, "submit", slug, str(folder), "--sandbox", "local", "--no-record", "--json").stdout)
    assert doc["build"]["output"].count("warning: unused variable") == 40


def test_history_keeps_a_passing_builds_warnings(runner, tmp_path, monkeypatch):
    slug = c_exercise_only(tmp_path, monkeypatch)
    result = run_cli(runner, "submit", slug, str(C_FIXTURE / "warning"), "--sandbox", "local")
    assert result.exit_code == 0, result.stdout + result.stderr
    again = run_cli(runner, "history", "--id", "1")
    assert "gcc: 2 warnings" in again.stdout and again.stdout.count("[-Wsizeof-array-argument]") == 1, again.stdout
    doc = json.loads(run_cli(runner, "history", "--id", "1", "--json").stdout)
    assert doc["build"]["status"] == "passed" and "[-Wincompatible-pointer-types]" in doc["build"]["output"]


def test_lint_checks_the_promise_table_and_the_alternative_solutions(tmp_path):
    root, grader = broken_copy(tmp_path)
    solutions = grader / "solutions" / "run-command"
    (solutions / "PROMISES.md").write_text(
        "| promise of the statement | hidden tests |\n|---|---|\n"
        "| run() gives the exit status | `test_exit_code` |\n"
        "| a signal gives -N | `test_killed_by_signal_is_negative[9]`, `test_signal_is_reported` |\n"
        "| no subprocess | `test_rule_no_forbidden_modules` |\n"
        "| the child keeps the umask | |\n"
        "| the child keeps the cwd | (none yet) |\n"
    )
    (solutions / "correct" / "with-posix-spawn-style").mkdir(parents=True)
    shutil.copy(REFERENCE / "runcmd.py", solutions / "correct" / "with-posix-spawn-style" / "runcmd.py")
    (solutions / "correct" / "with-posix-spawn-style" / "notes.txt").write_text("scratch")
    assert lint_texts(root, grader) == [
        "grader/solutions/run-command/PROMISES.md:4: run-command: test_signal_is_reported is not a hidden test of run-command",
        "grader/solutions/run-command/PROMISES.md:6: run-command: the promise 'the child keeps the umask' names no hidden"
        " test: write one, take it out of the statement, or say (none yet) to leave the gap in sight",
        "grader/solutions/run-command/correct/with-posix-spawn-style:1: run-command: HOW.md is missing: say in a paragraph"
        " how this correct solution differs from the reference",
        "grader/solutions/run-command/correct/with-posix-spawn-style/notes.txt:1: run-command: not in `files` of"
        " exercise.yaml: a submission could not contain it",
    ]


def test_history_slug_n_shows_that_submission_with_a_header(runner, monkeypatch, db_path, tmp_path, exit_status_only):
    monkeypatch.setenv("PREP_DB", str(db_path))
    monkeypatch.setenv("TZ", "UTC")
    for minute, folder in enumerate((exit_status_only, REFERENCE)):
        monkeypatch.setenv("PREP_NOW", f"2026-11-26T12:0{minute}:00+00:00")
        run_cli(runner, "submit", "run-command", str(folder), "--sandbox", "local")
    second = run_cli(runner, "history", "run-command", "2")
    assert second.exit_code == 0
    assert second.stdout.splitlines()[0].split() == [
        "Submission", "#2", "of", "run-command", "2026-11-26", "12:01", "passed", "score", "1.00"]
    first = run_cli(runner, "history", "run-command", "1", "--json")
    assert json.loads(first.stdout)["verdict"] == "failed"
    beyond = run_cli(runner, "history", "run-command", "3")
    assert beyond.exit_code == 2  # N out of range: a bad argument value
    assert beyond.stderr == "Error: run-command has 2 submissions: N is 1 to 2 (see `prep history run-command`)\n"


def test_submit_does_not_warn_about_the_statement_exercise_start_put_there(runner, tmp_path):
    workspace = tmp_path / "ws"
    assert run_cli(runner, "exercise", "start", "run-command", str(workspace)).exit_code == 0
    shutil.copy(REFERENCE / "runcmd.py", workspace / "runcmd.py")
    (workspace / "notes.txt").write_text("mine\n")
    result = run_cli(runner, "submit", "run-command", str(workspace), "--sandbox", "local", "--no-record")
    assert result.exit_code == 0
    assert "not submitted (not in the exercise's files): notes.txt" in result.stderr
    assert "README.md" not in result.stderr
