"""The command line as a user meets it: help, exit codes, JSON, errors, colour."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pexpect
import pytest
import typer.main

from prep.cli import app

from .conftest import REPO, run_cli


def all_commands():
    root = typer.main.get_command(app)

    def walk(command: click.Command, path: tuple[str, ...]):
        yield path, command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))

    return list(walk(root, ("prep",)))


def test_every_command_has_help_text_and_an_example():
    for path, command in all_commands():
        assert (command.help or "").strip(), f"`{' '.join(path)}` has no help text"
        if not isinstance(command, click.Group):
            assert "Example:" in command.help, f"`{' '.join(path)}` has no example in its help"


def test_version(runner):
    result = run_cli(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("prep ")


def test_list_json_shape(runner, tiny_bank):
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "list", "--json", "--topic", "tcp")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ["time-wait-duration", "close-shared-socket", "shutdown-write-constant", "handshake-order"]
    assert set(rows[0]) == {"id", "topic", "type", "difficulty", "tags", "exercise", "prompt", "file", "line"}


def test_list_by_tag(runner, tiny_bank):
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "list", "--json", "--tag", "fork")
    assert [r["id"] for r in json.loads(result.stdout)] == ["fork-return-values", "close-shared-socket"]


def test_unknown_topic_is_a_clear_error(runner, tiny_bank):
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "list", "--topic", "tcpp")
    assert result.exit_code == 2  # a bad option value
    assert result.stderr.strip() == "Error: unknown topic 'tcpp' (did you mean 'tcp'?); the topics are: inbox, processes, tcp"


def test_show_json_and_unknown_id(runner, tiny_bank):
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "shutdown-write-constant", "--json")
    card = json.loads(result.stdout)
    assert card["answer"] == "SHUT_WR" and card["topic"] == "tcp" and card["line"] == 34
    assert card["refs"] == [{"title": "shutdown(2)"}]
    missing = run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "nope")
    assert missing.exit_code == 1
    assert f"Error: no card with id 'nope' in {tiny_bank} (try `prep bank list`)" in missing.stderr
    typo = run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-defintion")
    assert (typo.exit_code, typo.stderr) == (
        1, f"Error: no card with id 'zombie-defintion' in {tiny_bank} (did you mean 'zombie-definition'? `prep bank list` lists them)\n")


def test_lint_exit_codes_and_messages(runner, tiny_bank):
    assert run_cli(runner, "--bank", str(tiny_bank), "bank", "lint").exit_code == 0
    path = tiny_bank / "processes.yaml"
    path.write_text(path.read_text().replace("topic: processes", "topic: procs"))
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "lint")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["processes.yaml:2: -: unknown topic 'procs': declare it in topics.yaml"]
    assert "1 problem in" in result.stderr


def test_a_broken_bank_stops_other_commands_with_its_problems(runner, tiny_bank):
    path = tiny_bank / "tcp.yaml"
    path.write_text(path.read_text().replace("type: recall", "type: essay"))
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "list")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "Error: the bank has 1 problem",
        "  tcp.yaml:25: close-shared-socket: `type` must be 'recall', 'single', 'multi', 'short' or 'order', not 'essay'",
    ]


def test_usage_error_exits_2(runner):
    result = runner.invoke(app, ["bank", "list", "--no-such-option"])
    assert result.exit_code == 2


@pytest.mark.parametrize("args, line", [
    (["--bogus"], "prep: no such option --bogus; see prep --help"),
    (["--ban", "x", "due"], "prep: no such option --ban (did you mean --bank, --db?); see prep --help"),
    (["frobnicate"], "prep: no such command 'frobnicate'; see prep --help"),
    (["histroy"], "prep: no such command 'histroy' (did you mean 'history'?); see prep --help"),
    (["history", "SLUG", "abc"], "prep history: N must be a whole number, not 'abc'; see prep history --help"),
    (["quiz", "--limit", "many"], "prep quiz: --limit must be a whole number, not 'many'; see prep quiz --help"),
    (["quiz", "--limit"], "prep quiz: option '--limit' requires an argument; see prep quiz --help"),
    (["bank", "frob"], "prep bank: no such command 'frob'; see prep bank --help"),
    (["bank", "show"], "prep bank show: missing argument 'ID'; see prep bank show --help"),
])
def test_errors_of_the_option_parser_are_one_line_naming_the_value_exit_2(tmp_path, args, line):
    """The real program, as a learner runs it: no box, no usage block, one line and exit 2."""
    program = Path(sys.executable).parent / "prep"  # the console script pip installs
    if not program.exists():
        pytest.skip("no prep console script beside this python")
    env = {**os.environ, "PREP_DB": str(tmp_path / "p.db"), "COLUMNS": "80"}
    result = subprocess.run([str(program), *args], capture_output=True, text=True, env=env, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (2, line + "\n", "")


def test_stats_counts(runner, tiny_bank, notes_file):
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "stats", "--json", "--notes", str(notes_file))
    data = json.loads(result.stdout)
    assert data["cards"] == 6
    assert data["by_type"] == {"multi": 1, "order": 1, "recall": 2, "short": 1, "single": 1}
    assert data["recall_share"] == pytest.approx(2 / 6, abs=0.001)
    assert data["notes"]["flagged"] == 6 and data["notes"]["open"] == 1


def _spawn(args: list[str], env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(env_extra, TERM="xterm-256color")
    child = pexpect.spawn(sys.executable, ["-m", "prep", *args], env=env, encoding="utf-8", timeout=20,
                          dimensions=(40, 120))
    child.expect(pexpect.EOF)
    return child.before


def colour_codes(text: str) -> list[str]:
    """SGR parameters that set a foreground or background colour."""
    found = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        for p in params.split(";"):
            if p.isdigit() and (30 <= int(p) <= 49 or 90 <= int(p) <= 107):
                found.append(p)
    return found


def test_colour_in_a_terminal_and_none_with_no_color(tiny_bank):
    args = ["--bank", str(tiny_bank), "bank", "show", "time-wait-duration"]
    assert colour_codes(_spawn(args, {}))
    plain = _spawn(args, {"NO_COLOR": "1"})
    assert colour_codes(plain) == [] and "time-wait-duration" in plain


def test_installed_outside_the_clone_lists_the_shipped_cards(tmp_path):
    """`pip install .` ships the content as package data: no clone needed to find the bank."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(REPO)],
                   check=True, capture_output=True)
    wheel = next(wheel_dir.glob("prep-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = "import prep, sys; from prep.cli import main; sys.argv = ['prep', 'bank', 'list', '--json']; print(prep.__file__, file=sys.stderr); main()"
    result = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0].startswith(str(target)), "the installed copy was not the one imported"
    listed = {row["id"] for row in json.loads(result.stdout)}
    shipped = subprocess.run([sys.executable, "-m", "prep", "bank", "list", "--json"], cwd=REPO, capture_output=True, text=True)
    assert listed == {row["id"] for row in json.loads(shipped.stdout)}
    assert len(listed) > 0


def test_the_installed_package_keeps_no_solutions(tmp_path):
    """The wheel a learner installs grades locally (hidden tests, runtime, Dockerfile) but holds no
    reference, wrong or alternative solution; the commands that need them say where they are."""
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(REPO)],
                   check=True, capture_output=True)
    wheel = next(wheel_dir.glob("prep-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    grader = "prep/_content/grader/"
    assert [n for n in names if n.startswith(grader + "solutions")] == []
    assert any(n.startswith(grader + "hidden/run-command/test_") for n in names)
    assert grader + "runtime/judge_main.py" in names and grader + "Dockerfile" in names
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}

    def installed(*args: str) -> subprocess.CompletedProcess:
        code = f"import sys; from prep.cli import main; sys.argv = ['prep', *{list(args)!r}]; main()"
        return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)

    wrong = installed("exercise", "wrong", "run-command")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr
    assert "kept in the repository, not in the installed package" in wrong.stderr
    assert "from a clone" in wrong.stderr
    lint = installed("exercise", "lint")
    assert lint.returncode == 0, lint.stderr
    assert "solutions are not in the installed package" in lint.stderr


def test_quiz_with_a_broken_card_warns_and_reviews_the_rest(tiny_bank, tmp_path):
    """A typo in one card costs that card, not the day's review."""
    path = tiny_bank / "processes.yaml"
    path.write_text(path.read_text().replace("    difficulty: easy\n    refs: [\"wait(2)\"]", "    difficulty: trivial\n    refs: [\"wait(2)\"]", 1))
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(PREP_BANK=str(tiny_bank), PREP_DB=str(tmp_path / "p.db"), PREP_NOW="2026-03-01T09:00:00+00:00",
               NO_COLOR="1", TERM="dumb")
    env.update(PREP_CACHE_DIR=str(tmp_path / "cache"))

    def quiz() -> pexpect.spawn:
        return pexpect.spawn(sys.executable, ["-m", "prep", "quiz", "--topic", "processes"], env=env,
                             encoding="utf-8", timeout=20, dimensions=(40, 160))

    child = quiz()  # a cold start: the first card comes before the check, the warning by the end at the latest
    child.expect(r"fork's return value")
    child.send("q")
    child.expect(r"Warning: 1 problem in the bank")
    child.expect(r"processes.yaml:31: zombie-definition: `difficulty`")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    child = quiz()  # the cache keeps the problem: the warning comes first
    child.expect(r"Warning: 1 problem in the bank")
    child.expect(r"processes.yaml:31: zombie-definition: `difficulty`")
    child.expect(r"fork's return value")  # the other card of the topic is shown
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "zombie" not in child.before.lower()


# --- languages ------------------------------------------------------------------------------


def test_show_list_and_topics_follow_lang_and_the_setting(runner, tiny_bank, tmp_path):
    shown = run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-definition", "--lang", "zh")
    assert "什么是僵尸进程？" in shown.stdout and "已经退出" in shown.stdout and "What is a zombie" not in shown.stdout
    english = run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-definition")
    assert "What is a zombie process?" in english.stdout and "什么是僵尸进程" not in english.stdout
    as_written = json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-definition", "--json").stdout)
    assert as_written["prompt"] == {"en": "What is a zombie process?", "zh": "什么是僵尸进程？"}
    in_zh = json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-definition", "--json", "--lang", "zh").stdout)
    assert in_zh["prompt"] == "什么是僵尸进程？" and in_zh["lang"] == "zh" and in_zh["languages"] == ["en", "zh"]
    settings = tmp_path / "settings.toml"
    settings.write_text('[quiz]\nlang = "zh"\n')
    env = {"PREP_CONFIG": str(settings)}
    rows = json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "list", "--json", "--topic", "processes", env=env).stdout)
    assert [r["prompt"] for r in rows] == ["Which are true of fork's return value?", "什么是僵尸进程？"]  # English only: English
    topics = json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "topics", "--json", env=env).stdout)
    assert [t["title"] for t in topics] == ["TCP", "进程", "Inbox"]
    assert run_cli(runner, "--bank", str(tiny_bank), "bank", "show", "zombie-definition", "--lang", "fr").exit_code == 2
    settings.write_text('[quiz]\nlang = "fr"\n')
    bad = run_cli(runner, "--bank", str(tiny_bank), "bank", "list", env=env)
    assert bad.exit_code == 1 and "`lang` must be 'en' or 'zh', not 'fr'" in bad.stderr


def test_stats_counts_the_cards_in_each_language(runner, tiny_bank):
    data = json.loads(run_cli(runner, "--bank", str(tiny_bank), "bank", "stats", "--json").stdout)
    assert data["languages"] == {"en": 6, "zh": 1} and data["declared_languages"] == []
    text = run_cli(runner, "--bank", str(tiny_bank), "bank", "stats").stdout
    assert "in en: 6/6, zh: 1/6" in text


def test_lint_of_a_bank_in_two_languages_names_each_missing_side(runner, tiny_bank):
    topics = tiny_bank / "topics.yaml"
    topics.write_text("languages: [en, zh]\n" + topics.read_text())
    result = run_cli(runner, "--bank", str(tiny_bank), "bank", "lint")
    assert result.exit_code == 0  # a bank of one's own: a missing side is a warning (the shipped bank: an error)
    lines = result.stdout.splitlines()
    assert "processes.yaml:6: fork-return-values: warning: `prompt` has no Chinese side (`zh:`)" in lines
    assert "tcp.yaml:6: time-wait-duration: warning: `prompt` has no Chinese side (`zh:`)" in lines
    assert not [line for line in lines if "zombie-definition" in line]


HEAVY_MODULES = ("yaml", "jinja2", "sqlite_utils", "fsrs", "docker", "pydantic", "prep.cards", "prep.exercises", "prep.site",
                 "prep.store")
_IMPORTED_BY_HELP = """
import sys
sys.argv = ["prep", *sys.argv[1:]]
import prep.cli
try:
    prep.cli.main()
except SystemExit:
    pass
loaded = [m for m in {heavy!r} if m in sys.modules and type(sys.modules[m]).__name__ != "_LazyModule"]
print(",".join(loaded), file=sys.stderr)
"""


@pytest.mark.parametrize("words", [[], ["quiz"], ["stats"], ["bank", "list"], ["notes", "extract"], ["exercise", "show"],
                                   ["submit"], ["site", "build"], ["sandbox", "build"], ["card", "info"], ["progress", "export"]])
def test_help_imports_only_what_it_shows(words):
    """`--help` must feel instant: the bank's models, YAML, jinja2, SQLite and fsrs load only when a command runs."""
    script = _IMPORTED_BY_HELP.format(heavy=HEAVY_MODULES)
    result = subprocess.run([sys.executable, "-c", script, *words, "--help"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0 and "Usage" in result.stdout, result.stderr
    assert result.stderr.strip() == ""


def test_help_defaults_match_the_library():
    """Defaults spelt in the CLI (so that --help does not import the library) are the library's own."""
    from prep import notes, site
    from prep.cli import notes as notes_cli
    from prep.cli import site as site_cli

    assert (site_cli.DEFAULT_OUT, site_cli.DEFAULT_PORT) == (site.DEFAULT_OUT, site.DEFAULT_PORT)
    assert notes_cli.INBOX_TOPIC == notes.INBOX_TOPIC


@pytest.mark.parametrize("annotation, limits, value", [
    (str, {}, "tcp"), (str, {}, ""), (str, {}, " 僵尸 "),
    (int, {}, "5"), (int, {}, "-1"), (int, {}, "0"), (int, {}, "007"), (int, {}, "+5"), (int, {}, "1_000"), (int, {}, " 5"),
    (int, {}, "99999999999999999999"), (int, {}, "abc"), (int, {"min": 1, "max": 24}, 6), (int, {"min": 1, "max": 24}, "24"),
    (int, {"min": 1, "max": 24}, "25"), (int, {"min": 0, "max": 65535}, 8000),
    (Path, {}, "/tmp/x.db"), (Path, {}, "."), (Path, {}, "~/notes.txt"), (Path, {}, ""), (Path, {}, Path("_site")),
])
def test_option_values_typer_settles_without_pydantic_are_typers_own(annotation, limits, value):
    """prep.cli settles a plainly valid str, int or Path without building typer's pydantic adapter (~100 ms of
    imports); whatever it settles must equal the adapter's result, and the rest (errors too) is the adapter's."""
    import typer as typer_
    from typer._coercion import build_runtime_param, resolve_type_descriptor

    from prep.cli import _NOT_SIMPLE, _simple_value

    descriptor = resolve_type_descriptor(annotation, typer_.Option(None, **limits))
    light = _simple_value(descriptor, value, None, None)
    try:
        real = build_runtime_param(descriptor)._coerce_value(value, param=None, ctx=None)
    except Exception:  # the adapter refuses it: so must the light path (it leaves it to the adapter)
        assert light is _NOT_SIMPLE
        return
    if light is not _NOT_SIMPLE:
        assert (light, type(light)) == (real, type(real))


def _help(tmp_path: Path, *words: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PREP_CACHE_DIR": str(tmp_path / "cache"), **env}
    return subprocess.run([sys.executable, "-m", "prep", *words], capture_output=True, text=True, cwd=REPO, env=environment)


@pytest.mark.parametrize("words", [["--help"], ["quiz", "--help"], ["bank", "list", "-h"], ["stats", "--help"]])
def test_help_from_the_cache_is_the_help_itself(tmp_path, words):
    """The first `--help` runs the CLI and keeps its text; the next prints the kept text, the same bytes."""
    first = _help(tmp_path, *words)
    kept = list((tmp_path / "cache" / "help").iterdir())
    again = _help(tmp_path, *words)
    assert first.returncode == again.returncode == 0 and "Usage" in first.stdout
    assert again.stdout == first.stdout and again.stderr == first.stderr == ""
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8").partition("\n")[2] == first.stdout


def test_help_cache_is_used_and_keyed_on_what_changes_the_text(tmp_path):
    _help(tmp_path, "quiz", "--help")
    (kept,) = (tmp_path / "cache" / "help").iterdir()
    key, _, text = kept.read_text(encoding="utf-8").partition("\n")
    kept.write_text(f"{key}\nfrom the cache\n", encoding="utf-8")
    assert _help(tmp_path, "quiz", "--help").stdout == "from the cache\n"
    narrow = _help(tmp_path, "quiz", "--help", COLUMNS="60")  # another width: another text
    assert narrow.stdout != text and "Usage" in narrow.stdout and max(map(len, narrow.stdout.splitlines())) <= 60
    assert _help(tmp_path, "due", "--help").stdout != "from the cache\n"
    kept.write_text(f"{key[:-2]}]\nfrom the cache\n", encoding="utf-8")  # a key that differs is not this help
    assert _help(tmp_path, "quiz", "--help").stdout == text


def test_only_a_plain_help_request_is_served_from_the_cache():
    from prep.helpcache import help_request

    assert help_request(["--help"]) and help_request(["quiz", "--help"]) and help_request(["bank", "list", "-h"])
    assert not help_request([]) and not help_request(["quiz"]) and not help_request(["--help", "quiz"])
    assert not help_request(["--bank", "x", "quiz", "--help"]) and not help_request(["quiz", "--topic=x", "--help"])
    assert not help_request(["--version"])


def test_an_unknown_command_with_help_is_an_error_and_not_kept(tmp_path):
    result = _help(tmp_path, "nonsense", "--help")
    assert result.returncode == 2 and "nonsense" in result.stderr
    assert not list((tmp_path / "cache" / "help").glob("*.txt")) if (tmp_path / "cache" / "help").exists() else True
