"""A learner's first week: a bank of their own, writing cards, finding tags, piping lists, read-only progress.

Each test drives the real command (typer's runner, or a subprocess where stdout must not be a terminal)
and asserts what the learner sees: the exact message and the exit code.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from prep import content, store

from .conftest import FIXTURES, REPO, in_ci, run_cli
from .quizkit import T0

NOTE = "(the installed copy: edits are lost on upgrade; `prep bank init DIR` makes one of your own)"
LIBRARY_WORDS = ("Input should be", "Field required", "type=", "Value error", "String should")


def env_for(bank: Path, db_path: Path) -> dict[str, str]:
    return {"PREP_BANK": str(bank), "PREP_DB": str(db_path), "PREP_NOW": T0.isoformat()}


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture drifted: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def installed(tmp_path, monkeypatch) -> Path:
    """prep as `pip install .` lays it out: the content under the package's _content (here a copy of the tiny bank)."""
    package = tmp_path / "site-packages" / "prep"
    shutil.copytree(FIXTURES / "bank", package / "_content" / "bank")
    monkeypatch.setattr(content, "_PACKAGE", package)
    return package / "_content" / "bank"


# --- 1. a bank of one's own ------------------------------------------------------------------


def test_messages_naming_a_card_file_say_when_it_is_the_installed_copy(runner, installed, tmp_path):
    env = {"PREP_DB": str(tmp_path / "p.db"), "PREP_NOW": T0.isoformat()}
    show = run_cli(runner, "bank", "show", "close-shared-socket", env=env)
    assert show.exit_code == 0, show.stderr
    assert f"{installed / 'tcp.yaml'}:24 {NOTE}" in " ".join(show.stdout.split())
    info = run_cli(runner, "card", "info", "close-shared-socket", "--json", env=env)
    assert json.loads(info.stdout)["location"] == f"{installed / 'tcp.yaml'}:24 {NOTE}"
    lint = run_cli(runner, "bank", "lint", env=env)
    assert f"{installed} is the installed copy: edits are lost on upgrade" in lint.stderr
    assert content.card_location(installed, "tcp.yaml", 24) == f"{installed / 'tcp.yaml'}:24 {NOTE}"
    assert content.card_location(tmp_path, "tcp.yaml", 24) == f"{tmp_path / 'tcp.yaml'}:24"


def test_bank_init_makes_a_bank_of_ones_own_used_through_the_env_or_the_settings(runner, installed, tmp_path, monkeypatch):
    mine = tmp_path / "my-bank"
    result = run_cli(runner, "bank", "init", str(mine))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in mine.iterdir()) == ["processes.yaml", "skips.yaml", "tcp.yaml", "topics.yaml"]
    lines = result.stderr.splitlines()
    assert lines[0] == f"copied 2 card files (and topics.yaml, skips.yaml) from {installed} to {mine}"
    assert f"export PREP_BANK={mine}" in lines[1] and f'bank = "{mine}"' in lines[1]
    again = run_cli(runner, "bank", "init", str(mine))
    assert (again.exit_code, again.stderr) == (
        1, f"Error: {mine}: the folder is not empty; give a new or empty folder (nothing was copied)\n")

    env = {"PREP_DB": str(tmp_path / "p.db")}
    by_env = run_cli(runner, "bank", "show", "close-shared-socket", env={**env, "PREP_BANK": str(mine)})
    assert f"{mine / 'tcp.yaml'}:24" in by_env.stdout and "installed copy" not in by_env.stdout

    settings = Path(os.environ["PREP_CONFIG"])
    settings.write_text(f'bank = "{mine}"\n\n[quiz]\nnew_per_day = 5\n')
    replace(mine / "tcp.yaml", "Does the peer see EOF?", "Does the peer read EOF?")
    by_setting = run_cli(runner, "bank", "show", "close-shared-socket", env=env)
    assert "Does the peer read EOF?" in by_setting.stdout and f"{mine / 'tcp.yaml'}:24" in by_setting.stdout
    settings.write_text('bank = "nowhere"\n')
    missing = run_cli(runner, "bank", "list", env=env)
    assert (missing.exit_code, missing.stderr) == (
        1, f"Error: {settings}: bank = '{settings.parent / 'nowhere'}' is not a folder of card files "
           f"(`prep bank init {settings.parent / 'nowhere'}` makes one)\n")


# --- 2. writing one's own cards ----------------------------------------------------------------


MINIMAL = """topic: tcp
cards:
  - id: my-syn-backlog
    prompt: What does tcp_max_syn_backlog limit?
    answer: The SYN queue of half-open connections.
  - id: my-rst-choice
    prompt: Which segment aborts a connection?
    answer: RST
    choices:
      - text: RST
        correct: true
      - text: FIN
        why: FIN closes one direction in order.
  - id: my-close-order
    prompt: Put the active closer's states in order.
    answer: FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT.
    items: [FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT]
"""


def test_a_personal_bank_needs_only_id_prompt_and_answer(runner, tiny_bank, db_path):
    (tiny_bank / "mine.yaml").write_text(MINIMAL)
    lint = run_cli(runner, "--bank", str(tiny_bank), "bank", "lint")
    assert (lint.exit_code, lint.stdout) == (0, ""), lint.stdout
    assert lint.stderr == "9 cards in 3 files: no problems\n"
    listed = {r["id"]: r for r in json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "list", "--json").stdout)}
    assert (listed["my-rst-choice"]["type"], listed["my-close-order"]["type"], listed["my-syn-backlog"]["type"]) == (
        "single", "order", "recall")
    due = run_cli(runner, "due", "--json", env=env_for(tiny_bank, db_path))
    assert "my-syn-backlog" in {c["id"] for c in json.loads(due.stdout)["cards"]}


def test_the_shipped_bank_still_needs_every_field(runner, installed, tmp_path):
    (installed / "mine.yaml").write_text(MINIMAL)
    (installed / "topics.yaml").write_text("languages: [en, zh]\n" + (installed / "topics.yaml").read_text())
    lint = run_cli(runner, "bank", "lint", env={"PREP_DB": str(tmp_path / "p.db")})
    assert lint.exit_code == 1
    assert "mine.yaml:3: my-syn-backlog: `type` is missing" in lint.stdout.splitlines()
    for field in ("explanation", "tags", "refs", "zh"):
        assert f"mine.yaml:6: my-rst-choice: `{field}` is required (only drafts may leave it empty)" in lint.stdout.splitlines()
    assert "mine.yaml:6: my-rst-choice: `difficulty` is required (easy, medium or hard)" in lint.stdout.splitlines()
    assert "mine.yaml:6: my-rst-choice: `source` is missing (only cards of a `canon: true` topic have none)" in lint.stdout.splitlines()


def test_lint_reports_every_problem_of_a_file_in_one_pass_in_its_own_words(runner, tiny_bank):
    (tiny_bank / "mine.yaml").write_text("""topic: tcp
cards:
  - id: My Card
    prompt: What is wrong here?
    difficulty: trivial
    tags: time-wait
    hint: not a field
    choices:
      - text: a
        correct: yes please
      - text: b
  - id: second-card
    type: single
    prompt: {fr: Quoi ?}
    answer: 3
    refs: [{url: ftp://x}]
    source: {section: March, lines: [0]}
    draft: maybe
    choices:
      - text: only
        correct: true
""")
    lint = run_cli(runner, "--bank", str(tiny_bank), "bank", "lint")
    assert lint.exit_code == 1
    assert lint.stdout.splitlines() == [
        "mine.yaml:3: My Card: `id` must be a slug (lower-case letters, digits and single hyphens, e.g. `time-wait`), not 'My Card'",
        "mine.yaml:3: My Card: `answer` is required (only drafts may leave it empty)",
        "mine.yaml:5: My Card: `difficulty` must be 'easy', 'medium' or 'hard', not 'trivial'",
        "mine.yaml:6: My Card: `tags` must be a list (`[a, b]` or one `- item` a line), not 'time-wait'",
        "mine.yaml:7: My Card: unknown field `hint` (see docs/cards.md for the fields)",
        "mine.yaml:10: My Card: `choices.0.correct` must be true or false, not 'yes please'",
        "mine.yaml:14: second-card: unknown field `prompt.fr` (see docs/cards.md for the fields)",
        "mine.yaml:15: second-card: `answer` must be a string or {en: ..., zh: ...}, not 3",
        "mine.yaml:16: second-card: `refs.0.title` is missing",
        "mine.yaml:16: second-card: `refs.0.url` must start with http:// or https://, not 'ftp://x'",
        "mine.yaml:17: second-card: `source.section` must be a dated section such as \"3/19\", not 'March'",
        "mine.yaml:17: second-card: `source.lines.0` must be 1 or more, not 0",
        "mine.yaml:18: second-card: `draft` must be true or false, not 'maybe'",
        "mine.yaml:19: second-card: every choice is correct: add a wrong one",
    ]
    assert not [w for w in LIBRARY_WORDS if w in lint.stdout + lint.stderr]
    assert lint.stderr == f"14 problems in {tiny_bank}\n"


# --- 3. a right choice given away by its length -----------------------------------------------


def test_lint_warns_of_a_right_choice_much_longer_than_the_wrong_ones(runner, tiny_bank):
    replace(tiny_bank / "tcp.yaml", "      - text: 60 s, fixed\n",
            "      - text: 60 s, fixed by TCP_TIMEWAIT_LEN in the kernel, whatever the sysctls say\n")
    lint = run_cli(runner, "--bank", str(tiny_bank), "bank", "lint")
    assert lint.exit_code == 0
    assert lint.stdout.splitlines() == [
        "tcp.yaml:18: time-wait-duration: warning: the right choice is much longer than every wrong one (71 characters, "
        "the longest wrong one 32): it gives itself away; shorten it or make the wrong ones as specific"]
    assert lint.stderr == "6 cards in 2 files: no problems; 1 warning (worth a look, not errors)\n"


# --- 4. unknown tags, topics and ids: close matches ---------------------------------------------


def test_an_unknown_tag_is_a_usage_error_with_close_matches(runner, tiny_bank, db_path):
    for command in (["bank", "list"], ["due"], ["bank", "export-anki", str(db_path.with_suffix(".apkg"))]):
        result = run_cli(runner, *command, "--tag", "tme-wait", env=env_for(tiny_bank, db_path))
        assert (result.exit_code, result.stderr) == (
            2, "Error: unknown tag 'tme-wait' (did you mean 'time-wait'?); `prep bank tags` lists the tags\n"), command
    tags = run_cli(runner, "--bank", str(tiny_bank), "bank", "tags")
    assert tags.stdout.splitlines()[:2] == ["2  fork", "1  close"]
    assert tags.stderr == "6 tags\n"
    assert json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "tags", "--json").stdout)[0] == {"tag": "fork", "cards": 2}


def test_unknown_topics_and_card_ids_suggest_close_matches(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    topic = run_cli(runner, "due", "--topic", "proceses", env=env)
    assert (topic.exit_code, topic.stderr) == (
        2, "Error: unknown topic 'proceses' (did you mean 'processes'?); the topics are: inbox, processes, tcp\n")
    suspend = run_cli(runner, "card", "suspend", "zombie-defintion", env=env)
    assert (suspend.exit_code, suspend.stderr) == (
        1, "Error: no card with id 'zombie-defintion' in the bank ('zombie-defintion': did you mean 'zombie-definition'?); "
           "nothing changed\n")
    info = run_cli(runner, "card", "info", "zombie-defintion", env=env)
    assert (info.exit_code, info.stderr) == (
        1, f"Error: no card with id 'zombie-defintion' in {tiny_bank} (did you mean 'zombie-definition'? `prep bank list` lists them)\n")


# --- 5. lists piped: one row a line -------------------------------------------------------------


def run_piped(*args: str, env: dict[str, str], columns: int = 70) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prep", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "COLUMNS": str(columns), **env})


def test_lists_piped_are_one_row_a_line_never_splitting_an_id(tiny_bank, notes_file, tmp_path):
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "p.db")}
    listed = run_piped("bank", "list", env=env)
    lines = listed.stdout.splitlines()
    assert len(lines) == 1 + 6 and all(len(line) <= 70 for line in lines)
    assert lines[1].split()[:5] == ["fork-return-values", "processes", "multi", "Which", "are"]
    assert lines[3].split()[:4] == ["time-wait-duration", "tcp", "single", "How"] and lines[3].endswith("…")
    assert listed.stderr == "6 cards\n"

    # the notes coverage piped: one row a line with the whole note, however narrow the columns
    coverage = run_piped("notes", "coverage", str(notes_file), env=env, columns=75)
    lines = coverage.stdout.splitlines()
    assert len(lines) == 1 + 6 and "…" not in coverage.stdout
    assert lines[6].split()[:3] == ["9", "skipped", "ipdb??"]
    assert lines[6].rstrip().endswith("(a reminder to download a tool, not a question)")
    assert lines[2].split() == ["5", "time-wait-duration", "TIME_WAIT多久??"]
    narrow = run_piped("notes", "coverage", str(notes_file), env=env, columns=40).stdout.splitlines()
    assert len(narrow) == 7 and narrow[3].split()[:3] == ["6", "close-shared-socket,", "shutdown-write-constant"]
    mine = tmp_path / "mine.txt"
    mine.write_text("12/1日\nhow long does TIME_WAIT last on Linux, and why that long??\n", encoding="utf-8")
    [_, row] = run_piped("notes", "coverage", str(mine), env=env, columns=40).stdout.splitlines()
    assert row.split()[:2] == ["2", "time-wait-duration"] and "(by: " in row and "time_wait" in row, row

    exercises = run_piped("exercise", "list", env={})
    rows = exercises.stdout.splitlines()[1:]
    from prep import exercises as exercises_lib

    slugs = [e.slug for e in exercises_lib.load_catalog(content.exercises_dir()).exercises]
    assert len(rows) == len(slugs) and [row.split()[0] for row in rows] == slugs


def test_notes_coverage_in_an_80_column_terminal_fits_folding_the_note_and_listing_ids_one_a_line(tmp_path):
    import pexpect
    from rich.cells import cell_len

    mine = tmp_path / "mine.txt"
    mine.write_text("12/1日\nselect 最多能监听多少个文件描述符??\nhow long does a socket stay in TIME_WAIT on Linux??\n"
                    "How many hot-air balloons fit in a Tuesday afternoon??\n", encoding="utf-8")
    env = {**os.environ, "PREP_BANK": str(REPO / "bank"), "PREP_DB": str(tmp_path / "p.db"), "TERM": "dumb",
           "NO_COLOR": "1", "COLUMNS": "80", "LINES": "24"}
    child = pexpect.spawn(sys.executable, ["-m", "prep", "notes", "coverage", str(mine)], env=env, dimensions=(24, 80),
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    lines = child.before.replace("\r", "").splitlines()
    table = lines[:next(i for i, line in enumerate(lines) if "flagged lines:" in line)]  # stderr's summary after
    assert table and all(cell_len(line.rstrip()) <= 80 for line in table), [ln for ln in table if cell_len(ln.rstrip()) > 80]
    text = "\n".join(lines)
    for card_id in ("select-fd-setsize-hard-limit", "time-wait-duration-linux"):
        assert any(card_id in line.split() for line in lines), card_id  # whole, never split
    assert "(by:" in text and "matches no card" in text


# --- 6. read-only commands on a read-only database ----------------------------------------------


@contextlib.contextmanager
def read_only(folder: Path):
    """The folder and its files made read-only for real: a read-only mount for root (who ignores file modes)."""
    if os.geteuid() == 0:
        gc.collect()  # the connections of the commands run before: a file open for writing keeps the mount writable
        if subprocess.run(["mount", "-o", "remount,ro", str(folder)], capture_output=True).returncode:
            if in_ci():
                pytest.fail("CI=true and a tmpfs cannot be remounted read-only to make the database read-only")
            pytest.skip("cannot remount a tmpfs read-only here")
        yield
        return
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o755)


@pytest.fixture
def ro_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True).returncode:
            if in_ci():
                pytest.fail("CI=true and a tmpfs cannot be mounted to make the database read-only")
            pytest.skip("cannot mount a tmpfs here (needs root in a namespace that allows mounts)")
        yield folder
        subprocess.run(["umount", "-l", str(folder)])
    else:
        yield folder


def test_read_only_commands_work_on_a_read_only_database(runner, tiny_bank, ro_folder):
    db_path = ro_folder / "progress.db"
    env = env_for(tiny_bank, db_path)
    assert run_cli(runner, "card", "suspend", "handshake-order", env=env).exit_code == 0
    with read_only(ro_folder):
        before = hashlib.sha256(db_path.read_bytes()).hexdigest()
        for command in (["stats", "--json"], ["due", "--json"], ["card", "info", "handshake-order", "--json"],
                        ["card", "held", "--json"], ["progress", "export", "-"]):
            result = run_cli(runner, *command, env=env)
            assert result.exit_code == 0, (command, result.stderr)
            json.loads(result.stdout)
        held = json.loads(run_cli(runner, "card", "held", "--json", env=env).stdout)
        assert [r["id"] for r in held] == ["handshake-order"]
        writing = run_cli(runner, "card", "unsuspend", "handshake-order", env=env)
        assert writing.exit_code == 4 and "cannot write the progress database" in writing.stderr
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_a_read_only_database_that_needs_a_migration_is_one_line_and_exit_4(runner, tiny_bank, db_path, monkeypatch):
    store.open_db(db_path).conn.close()
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM migrations WHERE name = '002_submission_build'")
    conn.commit()
    conn.close()
    monkeypatch.setattr(store, "_writable", lambda path: False)  # as a file the learner cannot write (tests run as root)
    result = run_cli(runner, "stats", env=env_for(tiny_bank, db_path))
    assert (result.exit_code, result.stderr) == (
        4, f"Error: {db_path}: the progress database needs an upgrade (002_submission_build) and the file is read-only: "
           "make it writable (or copy it and use --db) and run this again\n")
    conn = sqlite3.connect(db_path)
    recorded = [r for (r,) in conn.execute("SELECT name FROM migrations")]
    assert recorded == [name for name, _ in store.MIGRATIONS if name != "002_submission_build"]  # nothing written
    conn.close()


# --- 7. stats: a suspended card counted once ----------------------------------------------------


def test_stats_counts_a_suspended_card_once(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    run_cli(runner, "card", "suspend", "zombie-definition", env=env)
    topics = {t["id"]: t for t in json.loads(run_cli(runner, "stats", "--json", env=env).stdout)["topics"]}
    processes = topics["processes"]
    assert (processes["cards"], processes["new"], processes["suspended"]) == (2, 1, 1)
    assert sum(processes[k] for k in ("new", "learning", "young", "mature", "suspended")) == processes["cards"]


# --- 8. the Anki export keeps code blocks ------------------------------------------------------


def test_the_anki_export_keeps_code_blocks(runner, tiny_bank, tmp_path):
    from .test_progress import anki_notes

    replace(tiny_bank / "tcp.yaml",
            "    prompt: After fork, the child closes the connected socket. Does the peer see EOF?\n",
            "    prompt: |-\n      After these lines, does the peer see EOF?\n\n          if (fork() == 0)\n              close(fd);\n")
    replace(tiny_bank / "tcp.yaml",
            "    explanation: close drops one reference to the open file description.\n",
            "    explanation: |-\n      close drops one reference:\n\n      ```c\n      close(fd);   /* refcount 2 -> 1 */\n      shutdown(fd, SHUT_WR);\n      ```\n")
    deck = tmp_path / "deck.apkg"
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "export-anki", str(deck))
    assert result.exit_code == 0, result.stderr
    fields = {flds.split("\x1f")[2]: flds.split("\x1f") for _, flds, _ in anki_notes(deck)}
    front, back = fields["close-shared-socket"][:2]
    assert front == ("After these lines, does the peer see EOF?"
                     "<pre><code>if (fork() == 0)<br>    close(fd);</code></pre>")
    assert "<pre><code>close(fd);   /* refcount 2 -&gt; 1 */<br>shutdown(fd, SHUT_WR);</code></pre>" in back


# --- 9. notes check: by card, each line once -----------------------------------------------------


def test_notes_check_groups_by_card_quotes_each_line_once_with_the_question(runner, tiny_bank, notes_file):
    replace(tiny_bank / "tcp.yaml", '    source: {section: "3/19", lines: [6]}\n    zh: [引用计数]',
            '    source: {section: "3/19", lines: [5, 6]}\n    zh: [引用计数]\n    corrects: close always sends FIN')
    replace(tiny_bank / "tcp.yaml", '    source: {section: "3/19", lines: [6]}\n    zh: [半关闭]',
            '    source: {section: "3/19", lines: [6]}\n    zh: [半关闭]\n    corrects: shutdown closes the descriptor')
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "check", str(notes_file))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "close-shared-socket  lines 5, 6 (3/19)",
        "  notes 5: TIME_WAIT多久??",
        "  notes 6: close和shutdown区别？？",
        "  claim: close always sends FIN",
        "  question: After fork, the child closes the connected socket. Does the peer see EOF?",
        "  truth: No. FIN goes out only when the last descriptor for the socket is closed.",
        "time-wait-duration  line 5 (3/19)",
        "  notes 5: quoted above",
        "  claim: TIME_WAIT lasts tcp_fin_timeout",
        "  question: How long does a socket stay in TIME_WAIT on Linux?",
        "  truth: 60 seconds, fixed by TCP_TIMEWAIT_LEN.",
        "shutdown-write-constant  line 6 (3/19)",
        "  notes 6: quoted above",
        "  claim: shutdown closes the descriptor",
        "  question: Which `how` argument of shutdown sends FIN but keeps reading?",
        "  truth: SHUT_WR",
    ]
    assert result.stderr == f"3 cards correct 2 lines of {notes_file}\n"


# --- 10. exit codes, help, plurals -------------------------------------------------------------


def test_a_bad_option_value_exits_2(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    for command in (["bank", "show", "zombie-definition"], ["bank", "list"], ["card", "info", "zombie-definition"],
                    ["due"], ["notes", "check", str(FIXTURES / "notes.txt")]):
        result = run_cli(runner, *command, "--lang", "fr", env=env)
        assert (result.exit_code, result.stderr) == (2, "Error: --lang must be en or zh, not 'fr'\n"), command



@pytest.mark.parametrize("args, message", [
    (["quiz", "--limit", "0"], "Error: --limit must be 1 or more, not 0\n"),
    (["quiz", "--new", "-1"], "Error: --new must be 0 or more, not -1\n"),
    (["quiz", "--limit", "0", "--new", "-1"], "Error: --limit must be 1 or more, not 0; --new must be 0 or more, not -1\n"),
    (["quiz", "--card", "zombie-defintion"], "Error: --card: no card with id 'zombie-defintion' in {bank} "
                                             "(did you mean 'zombie-definition'? `prep bank list` lists them)\n"),
    (["history", "--id", "7"], "Error: --id 7: no such submission; `prep history` lists them with their ids\n"),
    (["history", "--id", "-1"], "Error: --id -1: no such submission; `prep history` lists them with their ids\n"),
    (["history", "run-command", "3"], "Error: run-command has no submission yet: submit one with `prep submit run-command PATH`\n"),
    (["site", "build", "--no-search", "--exercises", "{tmp}/nowhere"],
     "Error: --exercises: {tmp}/nowhere is not a folder; give a folder of exercises (each in its own folder, with an exercise.yaml)\n"),
    (["site", "build", "--no-search", "--dir", "{tmp}/a-file"], "Error: {tmp}/a-file: exists and is not a folder; choose another --dir\n"),
])
def test_an_option_value_checked_by_hand_is_a_usage_error_exit_2(runner, tiny_bank, db_path, tmp_path, args, message):
    """Values typer cannot check itself (a range, an id, a folder): one line naming the value, exit 2 as click's own."""
    (tmp_path / "a-file").write_text("")
    args = [a.format(tmp=tmp_path) for a in args]
    result = run_cli(runner, *args, env=env_for(tiny_bank, db_path))
    assert (result.exit_code, result.stderr.lstrip("\n")) == (2, message.format(bank=tiny_bank, tmp=tmp_path))
    assert not (tmp_path / "nowhere").exists()

def every_command(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from every_command(command, (*path, name))
        else:
            yield (*path, name)


def test_help_shows_no_bool_after_flags(runner):
    import typer

    from prep.cli import app

    commands = list(every_command(typer.main.get_command(app)))
    assert ("bank", "init") in commands and ("bank", "tags") in commands
    for command in [(), *commands]:
        result = run_cli(runner, *command, "--help")
        assert result.exit_code == 0 and "<bool>" not in result.stdout, command


def test_counts_in_messages_are_singular_for_one(runner, tiny_bank, tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(tiny_bank / "topics.yaml", one)
    (one / "tcp.yaml").write_text("topic: tcp\ncards:\n  - id: only\n    prompt: Q?\n    answer: A.\n")
    assert run_cli(runner, "--bank", str(one), "bank", "list").stderr == "1 card\n"
    assert run_cli(runner, "--bank", str(one), "bank", "tags").stderr == "0 tags\n"
    assert run_cli(runner, "--bank", str(one), "bank", "lint").stderr == "1 card in 1 file: no problems\n"
    (one / "tcp.yaml").write_text("topic: tcp\ncards:\n  - id: only\n    prompt: Q?\n")
    assert run_cli(runner, "--bank", str(one), "bank", "lint").stderr == f"1 problem in {one}\n"


def test_after_a_real_install_messages_name_the_installed_copy_and_bank_init_copies_it(tmp_path):
    """`pip install` (a wheel into a folder): the card files are in site-packages; the learner is told, and gets a copy."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(REPO)],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                    str(next(wheel_dir.glob("prep-*.whl")))], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "PREP_DB": str(tmp_path / "p.db"), "COLUMNS": "300"}
    env.pop("PREP_BANK", None)

    def prep(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "prep", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=120)

    installed = target / "prep" / "_content" / "bank"
    info = prep("card", "info", "time-wait-duration-linux", "--json")
    assert info.returncode == 0, info.stderr
    location = json.loads(info.stdout)["location"]
    assert location.startswith(str(installed / "tcp.yaml") + ":") and location.endswith(NOTE)
    mine = tmp_path / "mine"
    init = prep("bank", "init", str(mine))
    assert init.returncode == 0, init.stderr
    assert init.stderr.startswith(f"copied 29 card files (and topics.yaml, skips.yaml) from {installed} to {mine}")
    env["PREP_BANK"] = str(mine)
    info = prep("card", "info", "time-wait-duration-linux", "--json")
    assert json.loads(info.stdout)["location"].startswith(str(mine / "tcp.yaml") + ":")
    assert "installed copy" not in info.stdout
