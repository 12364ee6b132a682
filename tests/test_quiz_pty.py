"""A real `prep quiz` in a pseudo-terminal, driven key by key as a learner would, checked in SQLite.

The clock starts at $PREP_NOW and ticks in real time; fuzz is off in the
settings file, so every stored schedule can be compared with fsrs run directly
on the stored review times.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pexpect
from rich.cells import cell_len
import pytest
import yaml

from prep import store
from prep.scheduling import LEARNING, RELEARNING, REVIEW

from .quizkit import T0, fsrs_replay, log_review, put_state

KEYS_LINE = r"(?:q quit|Esc for commands|q 退出|Esc 进入命令)"  # the footer of a card: command keys, or a text prompt's


def in_lang(value, lang: str):
    """A text field of a card file as the learner sees it in `lang` (a plain string is English)."""
    if isinstance(value, dict) and set(value) <= {"en", "zh"}:
        return value.get(lang) or value.get("en") or value.get("zh")
    return value


def bank_cards(bank: Path, lang: str = "en") -> dict[str, dict]:
    """The raw cards of the bank, their texts in `lang`."""
    cards = {}
    for path in sorted(bank.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for card in (data or {}).get("cards", []) if isinstance(data, dict) else []:
            card = {k: in_lang(v, lang) for k, v in card.items()}
            if card.get("choices"):
                card["choices"] = [{k: in_lang(v, lang) for k, v in c.items()} for c in card["choices"]]
            if card.get("items"):
                card["items"] = [in_lang(i, lang) for i in card["items"]]
            cards[card["id"]] = card
    return cards


class Learner:
    """Spawns `python -m prep quiz ...` and plays the learner's part."""

    def __init__(self, bank: Path, db: Path, tmp: Path, *args: str, settings: str = "fuzz = false\neasy_seconds = 600\n", now=T0,
                 env: dict[str, str] | None = None, lang: str = "en", size: tuple[int, int] = (60, 220)) -> None:
        config = tmp / "settings.toml"
        config.write_text("[quiz]\n" + settings)
        env = {
            "PATH": "/usr/bin:/bin", "HOME": str(tmp), "TZ": "UTC", "LANG": "C.UTF-8",
            "PREP_BANK": str(bank), "PREP_DB": str(db), "PREP_CONFIG": str(config), "PREP_CACHE_DIR": str(tmp / "cache"),
            "PREP_NOW": now.isoformat(), "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": str(size[1]), "LINES": str(size[0]),
            **(env or {}),
        }
        self.cards = bank_cards(bank, lang)
        self.by_prompt = {c["prompt"].strip(): card_id for card_id, c in self.cards.items()}
        self.child = pexpect.spawn(sys.executable, ["-m", "prep", "quiz", *args], env=env, dimensions=size,
                                   encoding="utf-8", timeout=20, cwd=str(tmp), preexec_fn=_as_from_a_shell)
        self.transcript: list[str] = []
        self.screen = ""

    def expect(self, pattern: str) -> str:
        """Wait for the pattern and the rest of its line."""
        self.child.expect(pattern + r"[^\n]*\n")
        text = self.child.before + self.child.after
        self.transcript.append(text)
        return text

    def next_card(self) -> str:
        """Wait for the next card's key line; return the card's id (found from its prompt)."""
        self.screen = self.expect(KEYS_LINE)
        for prompt, card_id in self.by_prompt.items():
            if prompt.replace("`", "") in self.screen.replace("`", ""):
                return card_id
        raise AssertionError(f"no known prompt on screen:\n{self.screen}")

    def numbers(self, texts: list[str]) -> dict[str, int]:
        """The number each choice or item got on screen (they are shuffled)."""
        found = dict((text.strip(), int(n)) for n, text in re.findall(r"^  (\d)\. (?:\[[ x]\] )?(.+?)\r?$", self.screen, re.M))
        return {t: found[t] for t in texts}

    def choose(self, card_id: str, right: bool) -> None:
        choices = self.cards[card_id]["choices"]
        numbers = self.numbers([c["text"] for c in choices])
        picks = [numbers[c["text"]] for c in choices if bool(c.get("correct")) == right]
        for n in sorted(picks if right else picks[:1]):
            self.child.send(str(n))
        if self.cards[card_id]["type"] == "multi":
            self.child.send("\r")

    def order(self, card_id: str, right: bool) -> None:
        items = self.cards[card_id]["items"]
        numbers = self.numbers(items)
        sequence = [numbers[i] for i in items]
        if not right:
            sequence.reverse()
        self.child.send("".join(map(str, sequence)) + "\r")

    def send(self, keys: str) -> None:
        self.child.send(keys)

    def finish(self) -> str:
        self.child.expect(pexpect.EOF)
        self.transcript.append(self.child.before)
        self.child.close()
        return self.child.before


def rows(db: Path, sql: str, *args) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def ratings(db: Path) -> list[tuple[str, int]]:
    return [(r["card_id"], r["rating"]) for r in rows(db, "SELECT card_id, rating FROM reviews ORDER BY id")]


def assert_schedules_match_fsrs(db: Path) -> None:
    for state in rows(db, "SELECT * FROM card_state WHERE state > 0"):
        reviews = [dict(r) for r in rows(db, "SELECT * FROM reviews WHERE card_id = ? AND kind != 'cram'", state["card_id"])]
        expected = fsrs_replay(reviews)
        assert (state["state"], state["step"]) == (int(expected.state), expected.step), state["card_id"]
        assert state["due"] == expected.due.isoformat(), state["card_id"]
        assert state["stability"] == pytest.approx(expected.stability)


def _as_from_a_shell() -> None:
    """A quiz started in a terminal has SIGHUP, SIGINT and SIGQUIT at their defaults. The test run
    itself may not: `nohup` ignores SIGHUP, and a shell without job control starts a command run
    with `&` with SIGINT and SIGQUIT ignored, which the quiz would inherit (and never see Ctrl-C)."""
    for signum in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


@pytest.fixture
def learner(tiny_bank, db_path, tmp_path):
    started: list[Learner] = []

    def start(*args: str, **kwargs) -> Learner:
        one = Learner(tiny_bank, db_path, tmp_path, *args, **kwargs)
        started.append(one)
        return one

    yield start
    for one in started:
        if one.child.isalive():
            one.child.terminate(force=True)


def test_a_session_through_every_card_type(learner, db_path):
    me = learner()
    assert me.next_card() == "fork-return-values"  # multi: several numbers, then Enter
    me.choose("fork-return-values", right=True)
    screen = me.expect(r"Enter next")
    assert "✓ Right." in screen and "Rated Easy, next in 8d" in screen  # right and quick: Easy
    me.send("\r")

    assert me.next_card() == "zombie-definition"  # free recall
    me.send(" ")
    screen = me.expect(r"1-4 rate")
    assert "A child that has exited but has not been waited for." in screen
    assert "1 Again 1m  2 Hard 6m  3 Good 10m  4 Easy 8d" in screen  # each rating with the interval it gives
    me.send("3")

    assert me.next_card() == "time-wait-duration"  # single choice, answered wrong
    me.choose("time-wait-duration", right=False)
    screen = me.expect(r"Enter next")
    assert "✗ Not quite." in screen and "Rated Again, next in 1m" in screen
    assert "tcp_fin_timeout governs orphaned FIN_WAIT2 sockets." in screen  # why the wrong choice is wrong
    assert "The notes said: TIME_WAIT lasts tcp_fin_timeout" in screen
    me.send("\r")

    assert me.next_card() == "close-shared-socket"
    me.send("\r")  # Enter reveals too
    me.expect(r"1-4 rate")
    me.send("2")

    assert me.next_card() == "shutdown-write-constant"  # short answer, typed
    me.send("shutdown(fd, SHUT_WR)\r")
    screen = me.expect(r"Enter next")
    assert "✓ Right." in screen and "Also accepted:" in screen
    me.send("3")  # the learner overrides Easy with Good

    assert me.next_card() == "handshake-order"  # ordering, typed as numbers
    me.order("handshake-order", right=True)
    screen = me.expect(r"Enter next")
    assert "The order: CLOSED → SYN_SENT → ESTABLISHED" in screen
    me.send("\r")

    # the single-choice card failed a minute ago comes back in the same session
    assert me.next_card() == "time-wait-duration"
    assert "tcp · learning · single" in me.screen
    me.send("q")
    out = me.finish()
    assert "Reviewed 6 cards, 83% correct (5/6)" in out
    assert me.child.exitstatus == 0

    assert ratings(db_path) == [("fork-return-values", 4), ("zombie-definition", 3), ("time-wait-duration", 1),
                                ("close-shared-socket", 2), ("shutdown-write-constant", 3), ("handshake-order", 4)]
    answers = {r["card_id"]: (r["answer"], r["correct"]) for r in rows(db_path, "SELECT * FROM reviews")}
    assert answers["shutdown-write-constant"] == ("shutdown(fd, SHUT_WR)", 1)
    assert answers["time-wait-duration"][1] == 0
    assert answers["handshake-order"] == ("CLOSED > SYN_SENT > ESTABLISHED", 1)
    assert answers["zombie-definition"] == (None, None)
    assert_schedules_match_fsrs(db_path)
    state = {r["card_id"]: r["state"] for r in rows(db_path, "SELECT * FROM card_state")}
    assert state["fork-return-values"] == REVIEW and state["time-wait-duration"] == LEARNING
    session = rows(db_path, "SELECT * FROM sessions")
    assert len(session) == 1 and (session[0]["reviewed"], session[0]["correct"], session[0]["kind"]) == (6, 5, "quiz")


def test_footers_offer_undo_only_once_there_is_something_to_undo(learner, db_path):
    me = learner()
    assert me.next_card() == "fork-return-values"
    footer = me.screen.strip().splitlines()[-1]
    assert "u undo" not in footer and "b bury" in footer and "q quit" in footer, footer
    me.send("b")  # bury: now there is something to undo
    assert me.next_card() == "zombie-definition"
    assert "u undo" in me.screen.strip().splitlines()[-1]
    me.send("u")
    assert me.next_card() == "fork-return-values"
    assert "u undo" not in me.screen.strip().splitlines()[-1], "the undo stack is empty again"
    me.send("q")
    me.finish()

    me = learner("--card", "shutdown-write-constant")  # a typed answer: the footer and the Esc line
    assert me.next_card() == "shutdown-write-constant"
    me.send("\x1b")
    command = me.expect("back to typing")
    assert "command: b bury" in command and "u undo" not in command
    me.send("x\x15SHUT_WR\r")
    me.expect("Enter next")
    me.send("\r")
    me.send("q")
    me.finish()


def test_undo_bury_suspend_and_edit(learner, db_path, tiny_bank):
    me = learner()
    assert me.next_card() == "fork-return-values"
    me.send("e")  # where to edit the card (no $EDITOR here)
    assert f"edit: {tiny_bank / 'processes.yaml'}:4" in me.expect(r"processes\.yaml:\d+")
    assert "Set $EDITOR (or $VISUAL) and e opens the card there" in me.expect("shows it as edited")
    me.send("b")  # bury
    assert me.next_card() == "zombie-definition"
    assert "Buried fork-return-values until Mon 04:00" in me.screen
    me.send(" ")
    me.expect("1-4 rate")
    me.send("4")
    assert me.next_card() == "time-wait-duration"
    me.send("u")  # undo the rating of zombie-definition: it comes back
    assert me.next_card() == "zombie-definition"
    assert "Undone: zombie-definition is back." in me.screen
    assert ratings(db_path) == []
    me.send(" ")
    me.expect("1-4 rate")
    me.send("1")
    assert me.next_card() == "time-wait-duration"  # the card that was on screen is not lost
    me.send("!")  # suspend
    assert me.next_card() == "close-shared-socket"
    assert "Suspended time-wait-duration" in me.screen
    me.send("u")  # undo the suspension
    assert me.next_card() == "time-wait-duration"
    me.send("!")
    assert me.next_card() == "close-shared-socket"
    me.send("q")
    out = me.finish()
    assert "Reviewed 1 card, 0% correct (0/1)" in out

    assert ratings(db_path) == [("zombie-definition", 1)]
    flags = {r["card_id"]: (r["state"], r["buried_until"], r["suspended"]) for r in rows(db_path, "SELECT * FROM card_state")}
    assert flags["fork-return-values"] == (0, (T0.replace(hour=4) + timedelta(days=1)).isoformat(), 0)
    assert flags["time-wait-duration"] == (0, None, 1)
    assert_schedules_match_fsrs(db_path)


def test_ctrl_c_in_the_middle_keeps_every_rating_given(learner, db_path):
    me = learner()
    assert me.next_card() == "fork-return-values"
    me.choose("fork-return-values", right=False)
    me.expect("Enter next")
    me.send("\r")
    assert me.next_card() == "zombie-definition"
    me.send(" ")
    me.expect("1-4 rate")
    me.send("3")
    assert me.next_card() == "time-wait-duration"
    me.send("\x03")  # Ctrl-C while a card is on screen
    out = me.finish()
    assert me.child.exitstatus == 130
    assert "Reviewed 2 cards, 50% correct (1/2)" in out and "Interrupted: every rating given is saved." in out
    assert "Traceback" not in "".join(me.transcript)
    assert ratings(db_path) == [("fork-return-values", 1), ("zombie-definition", 3)]
    assert_schedules_match_fsrs(db_path)
    session = rows(db_path, "SELECT * FROM sessions")[0]
    assert session["reviewed"] == 2 and session["ended_at"] > session["started_at"]


def test_ctrl_c_while_typing_an_answer(learner, db_path):
    me = learner("--topic", "tcp", "--limit", "3")
    assert me.next_card() == "time-wait-duration"
    me.choose("time-wait-duration", right=True)
    me.expect("Enter next")
    me.send("\r")
    assert me.next_card() == "close-shared-socket"
    me.send(" ")
    me.expect("1-4 rate")
    me.send("3")
    assert me.next_card() == "shutdown-write-constant"
    me.send("SHUT_")
    me.send("\x03")
    out = me.finish()
    assert me.child.exitstatus == 130 and "Reviewed 2 cards" in out
    assert ratings(db_path) == [("time-wait-duration", 4), ("close-shared-socket", 3)]


def test_wrong_and_empty_typed_answers(learner, db_path):
    me = learner("--topic", "tcp")
    assert me.next_card() == "time-wait-duration"
    me.send("b")
    assert me.next_card() == "close-shared-socket"
    me.send("b")
    assert me.next_card() == "shutdown-write-constant"
    me.send("SHUT_RD\r")
    screen = me.expect("Enter next")
    assert "You answered: SHUT_RD" in screen and "Answer. SHUT_WR" in screen and "Rated Again" in screen
    me.send("\r")
    assert me.next_card() == "handshake-order"
    me.send("\r")  # Enter alone: show the answer, rated Again
    screen = me.expect("Enter next")
    assert "No answer." in screen and "Rated Again" in screen
    me.send("q")
    me.finish()
    assert ratings(db_path) == [("shutdown-write-constant", 1), ("handshake-order", 1)]
    assert [r["correct"] for r in rows(db_path, "SELECT correct FROM reviews ORDER BY id")] == [0, 0]


def test_esc_gives_the_command_keys_while_typing(learner, db_path):
    me = learner("--card", "shutdown-write-constant")
    assert me.next_card() == "shutdown-write-constant"
    me.send("shut")
    me.send("\x1b")
    me.expect("any other key: back to typing")
    me.send("_")  # not a command key: back to typing, with the text so far and this key
    me.send("wx\x7fr\r")  # backspace
    screen = me.expect("Enter next")
    assert "✓ Right." in screen
    me.send("\r")
    me.finish()
    assert ratings(db_path) == [("shutdown-write-constant", 4)]


def test_nothing_due_and_cram(learner, db_path):
    me = learner("--topic", "processes")
    for _ in range(2):
        card_id = me.next_card()
        if card_id == "zombie-definition":
            me.send(" ")
            me.expect("1-4 rate")
            me.send("4")
        else:
            me.choose(card_id, right=True)
            me.expect("Enter next")
            me.send("\r")
    out = me.finish()
    assert "Reviewed 2 cards, 100% correct" in out
    before = rows(db_path, "SELECT * FROM card_state ORDER BY card_id")

    again = learner("--topic", "processes")
    out = again.finish()
    assert "Nothing to review now." in out and "--cram" in out

    cram = learner("--topic", "processes", "--cram")
    assert "cram: schedules untouched" in cram.expect(KEYS_LINE)
    cram.send("q")
    cram.finish()
    cram = learner("--topic", "processes", "--cram", "--limit", "1")
    card_id = cram.next_card()
    if card_id == "zombie-definition":
        cram.send(" ")
        cram.expect("1-4 rate")
        cram.send("2")
    else:
        cram.choose(card_id, right=True)
        assert "cram: schedule unchanged" in cram.expect("Enter next")
        cram.send("\r")
    cram.finish()
    assert rows(db_path, "SELECT * FROM card_state ORDER BY card_id") == before
    assert [r["kind"] for r in rows(db_path, "SELECT kind FROM reviews ORDER BY id")] == ["quiz", "quiz", "cram"]


def test_a_transcript_for_the_record(learner, db_path, tmp_path):
    """Keep one session's screen in the test artifacts, for people reading the report."""
    me = learner("--limit", "2")
    me.next_card()
    me.choose("fork-return-values", right=True)
    me.expect("Enter next")
    me.send("\r")
    me.next_card()
    me.send(" ")
    me.expect("1-4 rate")
    me.send("3")
    assert me.next_card() == "zombie-definition"  # in learning: back within the learn-ahead window
    me.send("q")
    me.finish()
    text = "".join(me.transcript).replace("\r\n", "\n")
    assert "Reviewed 2 cards, 100% correct (2/2)" in text
    (tmp_path / "transcript.txt").write_text(text)


def test_a_right_answer_that_took_long_is_good_not_easy(learner, db_path):
    me = learner("--card", "time-wait-duration", settings="fuzz = false\neasy_seconds = 0\n")
    assert me.next_card() == "time-wait-duration"
    me.choose("time-wait-duration", right=True)
    assert "Rated Good, next in 10m" in me.expect("Enter next")
    me.send("\r")
    me.send("q")
    me.finish()
    assert ratings(db_path) == [("time-wait-duration", 3)]
    assert_schedules_match_fsrs(db_path)


# --- leeches -------------------------------------------------------------------------------


def seven_lapses(db_path: Path, card_id: str) -> None:
    """A card in review, due, with seven lapses in its log: the next Again makes it a leech."""
    db = store.open_db(db_path)
    at = T0 - timedelta(days=300)
    for _ in range(7):
        log_review(db, card_id, 3, at, state_after=REVIEW)
        at += timedelta(days=10)
        log_review(db, card_id, 1, at, state_after=RELEARNING)
        at += timedelta(minutes=10)
    log_review(db, card_id, 4, T0 - timedelta(days=5), state_after=REVIEW)
    put_state(db, card_id, REVIEW, T0 - timedelta(hours=1), T0 - timedelta(days=5), stability=4.0, difficulty=8.0)
    db.conn.close()


def test_a_leech_is_suspended_at_once_and_u_takes_it_back(learner, db_path):
    seven_lapses(db_path, "zombie-definition")
    logged = len(ratings(db_path))
    me = learner("--topic", "processes")
    assert me.next_card() == "zombie-definition"
    me.send(" ")
    me.expect("1-4 rate")
    me.send("1")
    assert me.next_card() == "fork-return-values"
    assert "Leech: zombie-definition has lapsed 8 times and is now suspended: it stays out of every session (u undoes it)." in me.screen
    assert "bring it back with `prep card unsuspend zombie-definition`." in me.screen
    assert rows(db_path, "SELECT suspended FROM card_state WHERE card_id = 'zombie-definition'")[0][0] == 1

    me.send("u")  # the rating and the suspension go together
    assert me.next_card() == "zombie-definition"
    assert "Undone: zombie-definition is back." in me.screen
    assert rows(db_path, "SELECT suspended FROM card_state WHERE card_id = 'zombie-definition'")[0][0] == 0
    assert len(ratings(db_path)) == logged
    me.send(" ")
    me.expect("1-4 rate")
    me.send("1")

    assert me.next_card() == "fork-return-values"  # the card that was on screen is not lost
    assert "is now suspended" in me.screen
    me.choose("fork-return-values", right=True)
    me.expect("Enter next")
    me.send("\r")
    # the session ends: the leech's relearning step (10 minutes) is within the learn-ahead window, yet it is not offered
    out = me.finish()
    assert ("Leech, suspended: zombie-definition (prep bank show zombie-definition; "
            "bring it back with `prep card unsuspend zombie-definition`)") in out
    assert ratings(db_path)[logged:] == [("zombie-definition", 1), ("fork-return-values", 4)]
    assert rows(db_path, "SELECT suspended FROM card_state WHERE card_id = 'zombie-definition'")[0][0] == 1


# --- e: the card in the learner's editor -----------------------------------------------------

EDITOR_STAND_IN = """\
import json, sys, termios
from pathlib import Path

# Called as: EDITOR... +LINE FILE. Records how it was called and whether the terminal was
# back in normal (canonical, echoing) mode, then does the next edit of the plan.
plan_file, calls_file = Path(sys.argv[1]), Path(sys.argv[2])
line, path = int(sys.argv[-2].lstrip("+")), Path(sys.argv[-1])
lflag = termios.tcgetattr(0)[3]
with calls_file.open("a") as calls:
    calls.write(json.dumps({"args": sys.argv[3:], "canonical": bool(lflag & termios.ICANON),
                            "echo": bool(lflag & termios.ECHO)}) + "\\n")
steps = plan_file.read_text().splitlines()
plan_file.write_text("".join(step + "\\n" for step in steps[1:]))
action, _, text = steps[0].partition(" ")
lines = path.read_text().splitlines(keepends=True)
key = {"prompt": "prompt:", "break": "type:"}[action]
at = next(i for i in range(line - 1, len(lines)) if lines[i].strip().startswith(key))
indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
lines[at] = indent + (f"prompt: {text}\\n" if action == "prompt" else "type: essay\\n")
path.write_text("".join(lines))
"""


@pytest.fixture
def editor(tmp_path):
    """An executable stand-in for the learner's editor, and the plan of what it writes on each call."""
    script = tmp_path / "fake-editor"
    script.write_text(f"#!{sys.executable}\n" + EDITOR_STAND_IN)
    script.chmod(0o755)
    plan, calls = tmp_path / "edits.txt", tmp_path / "editor-calls.jsonl"

    def command(*steps: str) -> str:
        plan.write_text("".join(step + "\n" for step in steps))
        # two more words after the program, as in "code --wait": the variable is split like a shell would
        return f"{shlex.quote(str(script))} {shlex.quote(str(plan))} {shlex.quote(str(calls))}"

    command.calls = lambda: [json.loads(line) for line in calls.read_text().splitlines()]  # type: ignore[attr-defined]
    return command


def test_e_opens_the_editor_at_the_card_and_shows_it_as_edited(learner, db_path, tiny_bank, editor):
    cards = tiny_bank / "processes.yaml"
    me = learner(env={"EDITOR": editor("prompt What does fork return, and to whom?", "prompt What does fork return?", "break")})
    assert me.next_card() == "fork-return-values"
    me.send("e")
    me.screen = me.expect(KEYS_LINE)
    assert "What does fork return, and to whom?" in me.screen
    assert f"Reloaded fork-return-values from {cards}:4." in me.screen
    me.choose("fork-return-values", right=True)  # the edited card is answered like any other
    assert "✓ Right." in me.expect("Enter next")
    me.send("e")  # rated already: the answer screen comes back as edited, and the rating stays the one given
    screen = me.expect("Enter next")
    assert "What does fork return?" in screen and "Rated Easy, next in 8d." in screen and "✓ Right." in screen
    me.send("\r")

    assert me.next_card() == "zombie-definition"
    me.send(" ")  # one key, no Enter: the quiz reads single keys again after the editor
    me.expect("1-4 rate")
    me.send("e")  # on the answer screen, and this edit breaks the card
    screen = me.expect("1-4 rate")
    assert "Not reloaded: the bank does not load zombie-definition after the edit:" in screen
    assert "processes.yaml:22: zombie-definition: `type` must be 'recall'" in screen
    assert "The card is shown as it was; fix the file and press e again." in screen
    assert "What is a zombie process?" in screen and "A child that has exited but has not been waited for." in screen
    me.send("3")
    me.next_card()
    me.send("q")
    out = me.finish()
    assert "Reviewed 2 cards, 100% correct (2/2)" in out and "Traceback" not in "".join(me.transcript)
    assert ratings(db_path) == [("fork-return-values", 4), ("zombie-definition", 3)]
    calls = editor.calls()
    assert [c["args"] for c in calls] == [["+4", str(cards)], ["+4", str(cards)], ["+21", str(cards)]]
    assert all(c["canonical"] and c["echo"] for c in calls), "the editor got the terminal in cbreak mode"


def test_an_editor_that_cannot_run_is_named_and_the_session_goes_on(learner, db_path, tiny_bank, tmp_path):
    missing = tmp_path / "no-such-editor"
    me = learner("--card", "zombie-definition", env={"VISUAL": f"{missing} -f", "EDITOR": "never-used"})
    assert me.next_card() == "zombie-definition"
    me.send("e")
    lines = me.expect("VISUAL")
    assert f"edit: {tiny_bank / 'processes.yaml'}:21\r\n" in lines
    assert f"cannot run the editor {missing} -f: No such file or directory ($VISUAL)" in lines
    me.send(" ")
    me.expect("1-4 rate")
    me.send("4")
    me.finish()
    assert ratings(db_path) == [("zombie-definition", 4)]


# --- languages -------------------------------------------------------------------------------


def test_quiz_in_chinese_and_l_shows_the_card_in_the_other_language(learner, db_path):
    """In Chinese the quiz's own words are Chinese too (Anki's: 重来 困难 良好 简单); `l` switches the card's text only."""
    me = learner("--card", "zombie-definition", "--lang", "zh", lang="zh")
    assert me.next_card() == "zombie-definition"
    assert "什么是僵尸进程？" in me.screen
    assert "复习 · 回忆" in me.screen or "新卡 · 回忆" in me.screen
    assert "空格/Enter 显示答案 · b 搁置 · ! 暂停 · e 编辑 · l English · ? 按键 · q 退出" in me.screen  # nothing to undo yet
    assert "quit" not in me.screen and "show the answer" not in me.screen
    me.send("l")  # before the answer: the same card, in English; the keys stay in Chinese
    screen = me.expect(KEYS_LINE)
    assert "What is a zombie process?" in screen and "什么是僵尸进程" not in screen and "l 中文 · ? 按键 · q 退出" in screen
    me.send("l")
    assert "什么是僵尸进程？" in me.expect(KEYS_LINE)
    me.send(" ")
    screen = me.expect("1-4 评分")
    assert "已经退出、但父进程还没有 wait 它的子进程。" in screen and "中文: 僵尸进程" in screen and "答案：" in screen
    assert re.search(r"1 重来 \S+  2 困难 \S+  3 良好 \S+  4 简单 \S+", screen), screen
    assert "1-4 评分 · Enter 良好 · b 搁置" in screen
    me.send("l")  # on the answer screen: the answer again, in English, nothing rated
    screen = me.expect("1-4 评分")
    assert "A child that has exited but has not been waited for." in screen
    me.send("4")
    out = me.finish()
    assert "复习了 1 张卡，正确率 100%（1/1），用时" in out and "Reviewed" not in out
    assert "zombie-definition：下次到期" in out
    assert "Traceback" not in "".join(me.transcript)
    assert ratings(db_path) == [("zombie-definition", 4)]


def test_in_chinese_typed_wrong_feedback_and_edit_messages_are_chinese(learner, db_path, tiny_bank):
    me = learner("--card", "handshake-order", "--lang", "zh", lang="zh")
    assert me.next_card() == "handshake-order"
    me.send("159\r")
    assert "159：5 和 9 不是条目（1-3）；缺少 2 和 3。请按顺序把 1-3 各输入一次。" in me.expect("各输入一次")
    me.send("\x15\x1b")  # Ctrl-U, then Esc e: where to edit the card, no $EDITOR here
    assert "命令：b 搁置" in me.expect("继续输入")
    me.send("e")
    screen = me.expect("编辑后的样子")
    assert f"编辑： {tiny_bank / 'tcp.yaml'}:" in screen
    assert "设置 $EDITOR（或 $VISUAL）后，按 e 会在编辑器里打开这张卡" in screen
    assert "edit:" not in screen and "Set $EDITOR" not in screen
    me.send("\x1b")
    me.expect("继续输入")
    me.send("q")
    me.finish()
    assert ratings(db_path) == []


def test_the_lang_setting_and_a_card_without_its_chinese_side(learner, db_path):
    me = learner("--topic", "processes", settings='fuzz = false\neasy_seconds = 600\nlang = "zh"\n', lang="zh")
    seen = []
    for _ in range(2):
        card_id = me.next_card()  # fork-return-values is in English only: shown in English
        seen.append(card_id)
        if card_id == "zombie-definition":
            assert "什么是僵尸进程？" in me.screen
            me.send(" ")
            me.expect("1-4 评分")
            me.send("4")
        else:
            assert "Which are true of fork's return value?" in me.screen
            me.choose(card_id, right=True)
            screen = me.expect("Enter 下一张")
            assert "✓ 正确。" in screen and "评分 简单" in screen and "← 你的选择，正确" in screen
            me.send("\r")
    out = me.finish()
    assert "复习了 2 张卡，正确率 100%（2/2），用时" in out
    assert sorted(seen) == ["fork-return-values", "zombie-definition"]


def test_a_bad_lang_is_an_input_error(learner):
    me = learner("--lang", "fr")
    out = me.finish()
    assert "Error: --lang must be en or zh, not 'fr'" in out


# --- a learner's first week: no surprises --------------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text: str) -> str:
    """The text a learner reads: without the terminal's escape sequences and carriage returns."""
    return ANSI.sub("", text).replace("\r", "")


def visible(transcript: str, height: int, width: int) -> list[str]:
    """The lines on a height x width screen after a dumb terminal printed the transcript (no clearing)."""
    lines = []
    for line in plain(transcript).split("\n"):
        lines += [line[i:i + width] for i in range(0, max(len(line), 1), width)]
    return lines[-height:]


def test_a_typed_command_key_is_asked_about_not_graded(learner, db_path):
    me = learner("--card", "shutdown-write-constant")
    assert me.next_card() == "shutdown-write-constant"
    footer = me.screen.strip().splitlines()[-1]
    assert footer == "type the answer · Enter check (alone: show the answer) · Esc for commands (bury, quit...)"
    assert "q quit" not in me.screen  # no letter key: letters are typed here
    me.send("q\r")
    assert "Quit, or answer 'q'? q quit · Enter answer 'q' · any other key: back to typing" in me.expect("back to typing")
    me.send("q")  # q again: quit, nothing graded
    out = me.finish()
    assert "Reviewed nothing." in out and ratings(db_path) == []

    me = learner("--card", "shutdown-write-constant")
    me.next_card()
    me.send(" u\r")  # the white space around it does not matter
    assert "Undo, or answer 'u'?" in me.expect("back to typing")
    me.send("x")  # another key: back to typing, with the text kept
    me.child.expect(">  u")
    me.send("\x15SHUT_WR\r")  # Ctrl-U, then the answer
    assert "✓ Right." in me.expect("Enter next")
    me.send("\r")
    me.finish()
    assert ratings(db_path) == [("shutdown-write-constant", 4)]

    me = learner("--card", "shutdown-write-constant")
    me.next_card()
    me.send("!\r")
    assert "Suspend this card, or answer '!'?" in me.expect("back to typing")
    me.send("\r")  # Enter: it was the answer after all, and it is graded
    screen = me.expect("Enter next")
    assert "You answered: !" in screen and "Rated Again" in screen
    me.send("\r")
    assert me.next_card() == "shutdown-write-constant"  # in learning: back within the learn-ahead window
    me.send("\x1b")  # Esc, then q: quit from a text prompt
    me.expect("any other key: back to typing")
    me.send("q")
    me.finish()
    assert ratings(db_path)[-1] == ("shutdown-write-constant", 1)


def test_code_answers_ignore_spacing_and_a_trailing_semicolon(learner, db_path, tiny_bank):
    tcp = tiny_bank / "tcp.yaml"
    tcp.write_text(tcp.read_text().replace('accept: ["shutdown(fd, SHUT_WR)", "1"]',
                                           'accept: ["shutdown(fd, SHUT_WR)", "1", "shut_wr", "SHUT_WR (1)", "how = SHUT_WR"]'))
    me = learner("--card", "shutdown-write-constant")
    assert me.next_card() == "shutdown-write-constant"
    me.send("shutdown( fd,SHUT_WR );\r")
    screen = me.expect("Enter next")
    assert "✓ Right." in screen
    # the first few, not all, and none the matching rule reads as the answer (shut_wr is SHUT_WR)
    assert "Also accepted: shutdown(fd, SHUT_WR), 1, SHUT_WR (1) +1 more" in screen
    me.send("\r")
    me.finish()
    assert ratings(db_path) == [("shutdown-write-constant", 4)]


def test_an_ordering_that_is_not_one_is_asked_again_with_the_reason(learner, db_path):
    me = learner("--card", "handshake-order")
    assert me.next_card() == "handshake-order"
    me.send("159\r")
    assert "159: 5 and 9 are not items (1-3); 2 and 3 are missing. Type each of 1-3 once, in order." in me.expect("in order")
    me.send("1 1 3\r")
    assert "1 1 3: 1 comes more than once; 2 is missing." in me.expect("in order")
    me.send("12\r")
    assert "12: 3 is missing." in me.expect("in order")
    assert ratings(db_path) == []  # nothing graded yet
    me.order("handshake-order", right=True)
    assert "✓ Right." in me.expect("Enter next")
    me.send("\r")
    me.finish()
    assert ratings(db_path) == [("handshake-order", 4)]


def test_multiple_choice_shows_the_picks_in_place_then_marks_them(learner, db_path):
    me = learner("--card", "fork-return-values", env={"TERM": "xterm"})  # a screen that can be drawn again
    me.child.expect("q quit")
    me.screen = plain(me.child.before)
    numbers = me.numbers(["The child sees 0", "The parent sees the child's pid", "The child sees its parent's pid"])
    assert f"  {numbers['The child sees 0']}. [ ] The child sees 0" in me.screen
    me.send(str(numbers["The child sees 0"]))
    me.child.expect(r"chosen:\S*? \d")
    screen = plain(me.child.before)
    screen = screen[screen.rindex("Which are true"):]  # the question drawn again, its box ticked
    assert f"  {numbers['The child sees 0']}. [x] The child sees 0" in screen
    assert f"  {numbers['The parent sees the child' + chr(39) + 's pid']}. [ ] The parent sees" in screen
    me.send(str(numbers["The child sees its parent's pid"]))
    me.child.expect(r"chosen:\S*? \d \d")
    me.send("\r")
    me.child.expect("Enter next")
    screen = plain(me.child.before)
    assert "✓ {}. The child sees 0  ← your pick, right".format(numbers["The child sees 0"]) in screen
    assert "✗ {}. The child sees its parent's pid  ← your pick, wrong — getppid".format(
        numbers["The child sees its parent's pid"]) in screen
    assert "✓ {}. The parent sees the child's pid  ← missed".format(numbers["The parent sees the child's pid"]) in screen
    me.send("\r")
    me.child.expect("q quit")  # failed: back within the learn-ahead window
    me.send("q")
    me.finish()
    assert ratings(db_path) == [("fork-return-values", 1)]


def test_you_answered_lists_picks_in_the_order_shown_and_the_summary_counts_what_was_right(learner, db_path):
    me = learner("--card", "fork-return-values")
    assert me.next_card() == "fork-return-values"
    texts = ["The child sees 0", "The parent sees the child's pid", "The child sees its parent's pid"]
    numbers = me.numbers(texts)
    picks = sorted(texts[1:], key=lambda text: -numbers[text])  # one right, one wrong: pressed last shown first
    for text in picks:
        me.send(str(numbers[text]))
    me.send("\r")
    screen = me.expect("Enter next")
    [line] = [ln for ln in plain(screen).splitlines() if "You answered:" in ln]
    assert line.split("You answered: ", 1)[1].strip() == " | ".join(reversed(picks)), line
    me.send("4")  # wrong, then rated Easy by hand: the rating stands, but it was not answered right
    out = me.finish()
    assert "Reviewed 1 card, 0% correct (0/1)" in plain(out)
    assert ratings(db_path) == [("fork-return-values", 4)]

    me = learner("--card", "handshake-order")
    assert me.next_card() == "handshake-order"
    me.order("handshake-order", right=False)
    assert "Not quite." in me.expect("Enter next")
    me.send("4")
    out = me.finish()
    assert "Reviewed 1 card, 0% correct (0/1)" in plain(out), "a wrong order re-rated Easy is not correct"


def test_backspace_erases_both_columns_of_a_chinese_character(learner, db_path):
    me = learner("--card", "shutdown-write-constant")
    me.next_card()
    me.send("SHUT_WR关")
    me.child.expect("关")
    me.send("\x7f")
    me.child.expect("\b\b  \b\b")  # two columns back, two blanks, two back
    me.send("闭x\x15")  # Ctrl-U: 闭 takes two columns and x one
    me.child.expect("x" + "\b" * 10 + " " * 10 + "\b" * 10)  # SHUT_WR is 7 columns, 闭 2, x 1
    me.send("SHUT_WR\r")
    assert "✓ Right." in me.expect("Enter next")
    me.send("\r")
    me.finish()
    assert ratings(db_path) == [("shutdown-write-constant", 4)]


def test_at_80x24_the_question_stays_on_screen_after_a_choice_card_is_checked(learner, db_path, tiny_bank):
    tcp = tiny_bank / "tcp.yaml"  # as long as the shipped bank's choice cards: five choices, each wrong one with its why
    tcp.write_text(tcp.read_text().replace(
        """        why: that is the RFC's suggestion; Linux uses 60 s.\n""",
        """        why: that is the RFC's suggestion; Linux uses 60 s.\n"""
        """      - text: until the application calls close\n"""
        """        why: the socket is already closed when TIME_WAIT starts; it is the kernel's, not the process's.\n"""
        """      - text: net.ipv4.tcp_tw_timeout seconds\n"""
        """        why: there is no such sysctl; the length is compiled in as TCP_TIMEWAIT_LEN.\n"""))
    me = learner("--card", "time-wait-duration", size=(24, 80))
    assert me.next_card() == "time-wait-duration"
    me.choose("time-wait-duration", right=False)
    me.expect("Enter next")
    screen = visible("".join(me.transcript), 24, 80)
    assert any("How long does a socket stay in TIME_WAIT on Linux?" in line for line in screen), "\n".join(screen)
    assert any(line.startswith("1 Again") for line in screen) and "Rated Again" in "\n".join(screen)
    me.send("\r")
    me.send("q")
    me.finish()


def test_a_choice_too_long_for_the_line_goes_on_under_its_own_text(learner, db_path, tiny_bank):
    tcp = tiny_bank / "tcp.yaml"
    long = ("tcp_fin_timeout seconds, the sysctl that also bounds how long an orphaned socket may stay in "
            "FIN_WAIT2 before the kernel frees it")
    tcp.write_text(tcp.read_text().replace("      - text: tcp_fin_timeout seconds\n", f"      - text: {long}\n"))
    me = learner("--card", "time-wait-duration", size=(24, 80))
    assert me.next_card() == "time-wait-duration"
    screen = visible("".join(me.transcript), 24, 80)
    first = next(i for i, line in enumerate(screen) if "tcp_fin_timeout seconds, the sysctl" in line)
    number = re.match(r"  (\d)\. ", screen[first])
    assert number, screen[first]
    rest = []
    for line in screen[first + 1:]:
        if not line.startswith("     ") or re.match(r"  \d\. ", line):
            break
        rest.append(line.strip())
    assert rest and " ".join([screen[first][5:].strip(), *rest]) == long, "\n".join(screen)
    me.send("q")
    me.finish()


def test_the_rating_buttons_say_the_span_fuzz_picks_the_interval_from(learner, db_path):
    db = store.open_db(db_path)
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(hours=1), T0 - timedelta(days=4), stability=4.0)
    db.conn.close()
    me = learner("--card", "zombie-definition", settings="fuzz = true\n")
    me.next_card()
    me.send(" ")
    screen = me.expect("1-4 rate")
    found = re.search(r"3 Good (\d+)-(\d+)d", screen)
    assert found, screen
    low, high = map(int, found.groups())
    assert re.search(r"· \S+-\S+: fuzz picks the day in the span ·", screen)
    me.send("3")
    me.finish()
    row = rows(db_path, "SELECT interval_days FROM reviews")[0]
    assert low <= row["interval_days"] <= high  # what was given is within what the button said


def test_the_summary_counts_what_is_left_as_prep_due_does(learner, db_path, tiny_bank, tmp_path):
    me = learner("--limit", "2")
    assert me.next_card() == "fork-return-values"
    me.choose("fork-return-values", right=False)
    me.expect("Enter next")
    me.send("\r")
    assert me.next_card() == "zombie-definition"
    me.send(" ")
    me.expect("1-4 rate")
    me.send("3")
    me.next_card()  # back within the learn-ahead window: the learner stops here
    me.send("q")
    out = plain(me.finish())
    assert "Still to do today: 4 new (`prep quiz` goes on where you stopped).\nLater today: 2 learning cards come back, the first in 1m (09:01)." in out

    from typer.testing import CliRunner

    from .conftest import run_cli
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(db_path), "PREP_NOW": (T0 + timedelta(seconds=20)).isoformat(),
           "PREP_CONFIG": str(tmp_path / "settings.toml"), "TZ": "UTC"}
    result = run_cli(CliRunner(), "due", env=env)
    assert result.stderr.strip() == "0 learning · 0 review · 4 new due now (2 more learning later today): prep quiz"


def test_card_on_a_suspended_card_says_what_bang_does_and_when_it_is_due(learner, db_path):
    db = store.open_db(db_path)
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(hours=1), T0 - timedelta(days=20), stability=20.0, suspended=True)
    db.conn.close()
    me = learner("--card", "zombie-definition")
    assert me.next_card() == "zombie-definition"
    assert "This card is suspended: ! unsuspends it." in me.screen and "· ! unsuspend ·" in me.screen
    me.send(" ")
    assert "· ! unsuspend ·" in me.expect("1-4 rate")
    me.send("3")  # rated, and still suspended
    out = plain(me.finish())
    assert "zombie-definition stays suspended: `prep card unsuspend zombie-definition` brings it back." in out
    assert "Still to do today: 5 new" in out  # the other cards: not "nothing scheduled"
    assert rows(db_path, "SELECT suspended FROM card_state WHERE card_id = 'zombie-definition'")[0][0] == 1

    me = learner("--card", "zombie-definition", "--topic", "processes")
    me.next_card()
    me.send("!")  # unsuspended: the card stays to be answered, and ! now suspends
    screen = me.expect(KEYS_LINE)
    assert "Unsuspended zombie-definition: it is back in your sessions" in screen and "· ! suspend ·" in screen
    me.send(" ")
    me.expect("1-4 rate")
    me.send("3")
    out = plain(me.finish())
    due = datetime.fromisoformat(rows(db_path, "SELECT due FROM card_state WHERE card_id = 'zombie-definition'")[0][0])
    assert f"zombie-definition: next due in {(due.date() - T0.date()).days} days ({due:%a %d %b})." in out


def test_the_first_quiz_says_where_progress_is_kept(learner, db_path):
    assert not db_path.exists()
    me = learner("--card", "zombie-definition")
    me.next_card()
    me.send("q")
    out = plain(me.finish())  # after the summary: a screen cleared for the first card would take a line said before it
    assert out.endswith("zombie-definition: still new, not rated yet.\n"
                        "Still to do today: 6 new (`prep quiz` goes on where you stopped).\n"
                        f"Your progress is kept in {db_path} (a new database; "
                        "`prep progress export` makes a backup).\n"), out
    me = learner("--card", "zombie-definition")
    me.next_card()
    me.send("q")
    me.finish()
    assert "progress is kept" not in "".join(me.transcript)


def test_where_progress_is_kept_wraps_at_words_in_a_narrow_terminal(learner, db_path):
    me = learner("--card", "zombie-definition", size=(24, 80))
    me.expect(r"q\s+quit")  # the keys line wraps at 80 columns
    me.send("q")
    out = plain(me.finish())
    tail = out.split("(`prep quiz` goes on where you stopped).\n", 1)[1]
    said = f"Your progress is kept in {db_path} (a new database; `prep progress export` makes a backup)."
    assert len(said) > 80 and " ".join(tail.split()) == said, tail
    assert all(len(line) <= 80 for line in tail.splitlines()), tail


def test_the_first_quiz_says_where_progress_is_kept_before_the_first_card(learner, db_path):
    """A first session ended by closing the terminal (SIGHUP) shows no summary: the place is said at the start."""
    import signal

    me = learner()
    me.next_card()
    said = f"Your progress is kept in {db_path} (a new database; `prep progress export` makes a backup)."
    assert said in " ".join(plain(me.screen).split()), me.screen
    me.child.kill(signal.SIGHUP)
    me.finish()

    db_path.unlink()
    me = learner(lang="zh", settings="fuzz = false\nlang = \"zh\"\n")
    me.next_card()
    assert f"你的进度保存在 {db_path}（新建的数据库；`prep progress export` 可以备份）。" in "".join(plain(me.screen).split("\n"))
    me.send("q")
    me.finish()


def test_chinese_text_breaks_where_chinese_may_and_keeps_identifiers_whole(learner, tiny_bank):
    """rich breaks lines only at spaces: a Chinese sentence used to be cut at the terminal's edge, inside
    `shared_ptr` or before a 。. Now a line breaks between Chinese characters, never before closing
    punctuation, and an English word or identifier stays whole."""
    long = ("内核保留它的退出状态和 task_struct，直到父进程调用 waitpid() 回收它；如果父进程一直不回收，"
            "僵尸进程就一直占着一个 PID，而 shared_ptr 之类的对象早已随进程的地址空间一起释放。")
    processes = tiny_bank / "processes.yaml"
    text = processes.read_text(encoding="utf-8")
    assert "zh: 内核保留它的退出状态，直到父进程回收它。}" in text
    processes.write_text(text.replace("zh: 内核保留它的退出状态，直到父进程回收它。}", f'zh: "{long}"}}'), encoding="utf-8")
    me = learner("--card", "zombie-definition", "--lang", "zh", lang="zh", size=(40, 50))
    assert me.next_card() == "zombie-definition"
    me.send(" ")
    screen = me.expect("1-4 评分")
    lines = [line.rstrip() for line in screen.replace("\r", "").split("\n")]
    body = [line for line in lines if any("\u4e00" <= ch <= "\u9fff" for ch in line)]
    assert any("shared_ptr" in line for line in body), "an identifier was cut at the edge:\n" + "\n".join(body)
    assert any("waitpid()" in line for line in body), "\n".join(body)
    for line in body:
        assert not line.lstrip()[:1] in set("。，、；：）"), f"a line starts with closing punctuation: {line!r}"
        assert cell_len(line) <= 50, f"wider than the terminal: {line!r}"
    me.send("4")
    me.finish()


def break_difficulty(bank: Path, card_id: str) -> None:
    """Give the card a difficulty the model refuses: shaped like a card, so a cold start shows it before the check."""
    for path in bank.glob("*.yaml"):
        text = path.read_text()
        if f"  - id: {card_id}\n" in text:
            head, tail = text.split(f"  - id: {card_id}\n")
            path.write_text(head + f"  - id: {card_id}\n" + re.sub(r"difficulty: \w+", "difficulty: impossible", tail, count=1))
            return
    raise AssertionError(card_id)


def test_a_first_card_found_wrong_after_a_cold_start_is_not_rated_and_then_left_out(learner, tiny_bank, db_path):
    """A cold start shows the first card before the bank is checked; when the check finds that card wrong, the
    answer is not rated, the learner reads why and goes on, and the next run leaves the card out before it starts."""
    break_difficulty(tiny_bank, "fork-return-values")
    me = learner()
    assert me.next_card() == "fork-return-values"
    assert "problem" not in me.screen
    me.choose("fork-return-values", right=True)
    me.expect(r"Not rated: fork-return-values has a problem, and is left out until it is fixed:")
    me.expect(r"processes\.yaml:10: fork-return-values: `difficulty` must be 'easy', 'medium' or 'hard', not 'impossible'")
    me.expect(r"Enter next · e edit · q quit")
    me.send("\r")
    assert me.next_card() == "zombie-definition"
    assert "problem" not in me.screen  # said once, above
    me.send("q")
    me.finish()
    assert ratings(db_path) == [] and rows(db_path, "SELECT * FROM card_state") == []

    me = learner()  # the cache keeps the problem: said before the first card, the card left out
    assert me.next_card() == "zombie-definition"
    assert "Warning: 1 problem in the bank" in me.screen and "processes.yaml:10: fork-return-values:" in me.screen
    me.send("q")
    me.finish()


def test_a_later_card_found_wrong_after_a_cold_start_is_never_shown(learner, tiny_bank, db_path, tmp_path):
    """The check that a cold start leaves for later keeps a wrong card out of the rest of the session, and a session
    that ends on its first card still says what the check found."""
    break_difficulty(tiny_bank, "zombie-definition")
    me = learner()
    assert me.next_card() == "fork-return-values"
    me.choose("fork-return-values", right=True)
    me.expect(r"Enter next")
    me.send("\r")
    second = me.next_card()
    assert second != "zombie-definition"
    assert "1 problem in the bank" in me.screen and "processes.yaml:" in me.screen
    me.send("\x1b" if me.cards[second]["type"] in ("short", "order") else "")
    me.send("q")
    me.finish()
    assert ratings(db_path) == [("fork-return-values", 4)]

    for f in (tmp_path / "cache").glob("bank-*"):
        f.unlink()  # cold again
    me = learner()
    me.next_card()
    me.send("q")  # at once: the check runs at the end
    out = me.finish()
    assert "Warning: 1 problem in the bank" in out and "zombie-definition: `difficulty` must be" in out


def test_a_changed_bank_is_cached_while_the_first_card_is_read_or_when_the_learner_quits(learner, tmp_path):
    """The first card does not wait for the bank cache: it is written while the learner reads, or at the end."""
    import time

    cache = tmp_path / "cache"

    def cached() -> list[str]:
        return sorted(f.name for f in cache.glob("*") if f.name.startswith("bank-"))

    me = learner()
    me.next_card()
    deadline = time.monotonic() + 15
    while len(cached()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cached()) == 2, "not written while the first card waited for its answer"
    assert me.child.isalive()
    me.send("q")
    me.finish()

    for f in cache.glob("bank-*"):
        f.unlink()
    me = learner()
    me.next_card()
    me.send("q")  # at once: before the quiz's warm-up would write it
    me.finish()
    assert len(cached()) == 2 and not list(cache.glob(".*.tmp")), list(cache.iterdir())
    written = {f.name: f.stat().st_mtime_ns for f in cache.glob("bank-*")}
    me = learner()
    me.next_card()
    me.send("q")
    me.finish()
    assert {f.name: f.stat().st_mtime_ns for f in cache.glob("bank-*")} == written, "the cache was not used"
