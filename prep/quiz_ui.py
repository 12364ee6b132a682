"""The quiz in a terminal: rich rendering and single keys (cbreak mode), Anki's keys.

Keys
  Space/Enter  reveal the answer (free recall); after it, Enter takes Good
  1-4          rate Again / Hard / Good / Easy (each shows its interval); after an
               automatic rating, change it
  1-9          pick a choice (multiple choice: toggle, then Enter)
  u            undo the last rating, bury or suspend; the card comes back
  b            bury the card until tomorrow
  !            suspend the card (again on a suspended card: unsuspend it)
  e            edit the card: in $VISUAL or $EDITOR at its line, then shown as edited
               (without either, its file and line are printed)
  l            show the card in the other language (English / 中文); later cards follow
  ?            these keys
  q            quit; Ctrl-C works at any moment, and every rating given is kept

Typed answers (short, order) go to a line editor: Enter checks, Enter alone shows
the answer, Esc gives the command keys above. An answer that is exactly a command
key ("q") is asked about (quit, or answer "q"?), never graded as it stands.

This module is the only one that reads keys or draws; the session's logic is
prep.quiz, which commits every rating before the next key is read.
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from . import content
from .errors import PrepError
from .labels import EN, labels, split_lead
from .linebreak import break_offsets, has_wide
from .quiz import Rated, Session, Summary
from .scheduling import AGAIN, EASY, GOOD, format_interval, format_span, local_day

if TYPE_CHECKING:
    from .bank_cache import CardIndex
    from .cards import Card
    from .errors import Problem

RATING_STYLES = {1: "red", 2: "yellow", 3: "green", 4: "cyan"}
LANG_KEY = "l"
LANG_LABELS = EN["lang_names"]
HELP_KEY = "?"
COMMAND_KEYS = ("q", "u", "b", "!", "e", LANG_KEY, HELP_KEY)  # what a typed answer must not be taken for silently
ACCEPTED_SHOWN = 3  # "Also accepted:" names this many, then "+N more"
KEYS_HELP = EN["keys_help"]


class LineCounter:
    """The console's output, counting the lines written: how far the question has scrolled."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self.lines = 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return self._file.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding...
        return getattr(self._file, name)


class Quit(Exception):
    """The learner pressed q (or closed the input)."""


class Edited(Exception):
    """The card was opened in the editor: draw it again, as reloaded (or as it was, with the reason why)."""

    def __init__(self, card: "Card") -> None:
        super().__init__(card.id)
        self.card = card


# --- keys -----------------------------------------------------------------------------


class Keys:
    """Keys one at a time: a terminal in cbreak mode (signals still work), or a pipe as it comes."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.tty = os.isatty(self.fd)
        self._saved: Any = None

    @contextmanager
    def active(self) -> Iterator["Keys"]:
        if not self.tty:
            yield self
            return
        import termios

        self._saved = termios.tcgetattr(self.fd)
        self._cbreak()
        previous = signal.signal(signal.SIGCONT, self._cbreak)  # back from Ctrl-Z: cbreak again
        try:
            yield self
        finally:
            signal.signal(signal.SIGCONT, previous)
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _cbreak(self, *_: Any) -> None:
        import termios
        import tty

        tty.setcbreak(self.fd, termios.TCSANOW)

    @contextmanager
    def cooked(self) -> Iterator[None]:
        """The terminal as it was before the quiz (line editing, echo), for another program such as an editor.

        Single keys again afterwards. SIGCONT goes back to its default meanwhile, so a
        Ctrl-Z in the editor does not put the editor's terminal into cbreak mode.
        """
        if not self.tty or self._saved is None:
            yield
            return
        import termios

        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        previous = signal.signal(signal.SIGCONT, signal.SIG_DFL)
        try:
            yield
        finally:
            signal.signal(signal.SIGCONT, previous)
            self._cbreak()

    def _byte(self) -> bytes:
        data = os.read(self.fd, 1)
        if not data:
            raise Quit()
        return data

    def key(self) -> str:
        """One key: a character, "enter", "space", "backspace", "esc", or "" for keys we ignore."""
        first = self._byte()
        if first == b"\x1b":
            seq = b""
            while self._pending(0.03):  # an arrow or function key sends a sequence
                seq += self._byte()
                if seq[-1:].isalpha() or seq[-1:] == b"~":
                    break
            return "esc" if not seq else ""
        if first in (b"\r", b"\n"):
            return "enter"
        if first == b" ":
            return "space"
        if first in (b"\x7f", b"\x08"):
            return "backspace"
        if first == b"\x04":  # Ctrl-D
            raise Quit()
        if first == b"\x15":  # Ctrl-U
            return "kill"
        lead = first[0]
        more = 1 if lead >= 0xC0 else 0
        more += 1 if lead >= 0xE0 else 0
        more += 1 if lead >= 0xF0 else 0
        raw = first + b"".join(self._byte() for _ in range(more))
        text = raw.decode("utf-8", "replace")
        return text if text.isprintable() else ""

    def _pending(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return bool(ready)


def problems_of(card: "Card", problems: "list[Problem]") -> "list[Problem]":
    """The problems that keep `card` out of the bank: its own, and those of its whole file."""
    return [p for p in problems if str(p.file) == str(card.file) and p.card_id in (card.id, "-")]


WARM_UP_AFTER = 0.3  # seconds on the first card before the warm-up starts


def _warm_up(ended: threading.Event, index: "CardIndex | None" = None) -> None:
    """While the learner reads the first card, write the bank cache the load left for later
    (`index.save`) and import what answering needs (fsrs, the card model).

    Not a daemon thread: the interpreter waits for it at exit rather than stopping it mid-import.
    It starts WARM_UP_AFTER the first card is drawn, unless the session `ended` by then: a
    learner who looks and quits at once does not wait for (or pay ~150 ms of CPU for) imports
    nothing will use. An answer given sooner imports what it needs itself, as before.
    SIGINT is blocked here so the kernel delivers Ctrl-C to the main thread, which holds it back
    while a rating is being written.
    """
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        if ended.wait(WARM_UP_AFTER):
            return  # the caller saves the index at the end
        if index is not None:
            index.save()
        import fsrs  # noqa: F401

        from . import cards  # noqa: F401
    except Exception:  # pragma: no cover - the main thread will meet and report the same problem
        pass


# --- the editor -----------------------------------------------------------------------

EDITOR_VARIABLES = ("VISUAL", "EDITOR")  # git's order: $VISUAL first


def editor_command(t: dict[str, Any] = EN) -> tuple[list[str], str] | None:
    """The learner's editor, split as a shell would ("code --wait" is two words), and the variable it came from.

    EditorProblem, in the words of `t` (labels), when the variable cannot be split."""
    import shlex  # here, not at the top: the first card must not wait for what only `e` needs

    for name in EDITOR_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise EditorProblem(t["editor_unsplittable"].format(name=name, value=repr(value), error=exc)) from None
            if words:
                return words, name
    return None


class EditorProblem(Exception):
    """The editor cannot be run."""


def run_editor(command: list[str], path: Path, line: int, t: dict[str, Any] = EN) -> str | None:
    """Open the file at the line (`EDITOR +LINE FILE`, as vi, nano, emacs and micro take it) and wait.

    Returns how the editor failed (its exit status, a sentence in the words of `t`), or None. Ctrl-C while the
    editor runs belongs to the editor, as under git: the quiz ignores it until
    the editor exits.
    """
    import shlex
    import subprocess

    try:
        child = subprocess.Popen([*command, f"+{line}", str(path)])
    except OSError as exc:
        raise EditorProblem(t["editor_cannot_run"].format(command=shlex.join(command), error=exc.strerror or exc)) from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # set after the spawn: the editor keeps Ctrl-C
    try:
        status = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if not status:
        return None
    if status < 0:
        return t["editor_signal"].format(command=shlex.join(command), signal=-status)
    return t["editor_status"].format(command=shlex.join(command), status=status)


# --- typed numbers --------------------------------------------------------------------

ASCII_DIGITS = frozenset("0123456789")


def typed_numbers(text: str, single_digits: bool = True) -> list[int]:
    """The numbers a learner typed: "3 1 2", "3,1,2", or "312" read digit by digit (single_digits).

    ASCII digits only, as the browser reads them: other Unicode digits (², ٣) are
    not numbers a learner meant, and int() refuses some of them.
    """
    text = text.strip()
    if single_digits and text and set(text) <= ASCII_DIGITS:
        return [int(c) for c in text]
    return [int(n) for n in re.findall(r"[0-9]+", text)]


# --- drawing --------------------------------------------------------------------------

_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")


_HANGING = re.compile(r"^\s*(?:[✓✗]\s+)?(?:\d+\.|[-*•])\s+|^\s+")  # where a numbered or bulleted line's text starts


def inline(text: str) -> str:
    """Markdown's `code` and **bold** as rich markup; everything else literal."""
    text = escape(text.strip())
    text = _CODE.sub(lambda m: f"[cyan]`{m.group(1)}`[/]", text)
    return _BOLD.sub(lambda m: f"[bold]{m.group(1)}[/]", text)


def when(moment: datetime | None, now: datetime, day_starts_at: int = 4, t: dict[str, Any] = EN) -> str:
    """Later today by the clock; other days by the learner's calendar (reviews fall due by the day)."""
    if moment is None:
        return t["nothing_scheduled"]
    delta = moment - now
    if delta <= timedelta(0):
        return t["now"]
    days = (local_day(moment, day_starts_at) - local_day(now, day_starts_at)).days
    if days == 0:
        return t["in_today"].format(interval=format_interval(delta), time=f"{moment.astimezone():%H:%M}")
    if days == 1:
        return t["tomorrow"]
    return t["in_days"].format(n=days, date=moment.astimezone().strftime(t["date_format"]))


def clock_time(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


@dataclass
class Outcome:
    correct: bool
    answer: str
    seconds: float
    picked: frozenset[int] | None = None  # a choice card: the choices picked (indices in the card)


def pick_note(correct: bool, picked: frozenset[int] | None, index: int, t: dict[str, Any] = EN) -> str:
    """After a choice card is checked: what the learner did with this choice."""
    if picked is None:
        return ""
    if index in picked:
        return f"  [bold green]{t['your_pick_right']}[/]" if correct else f"  [bold red]{t['your_pick_wrong']}[/]"
    return f"  [bold yellow]{t['missed']}[/]" if correct else ""


def accepted_list(accept: list[str], shown: int = ACCEPTED_SHOWN, t: dict[str, Any] = EN) -> str:
    """The other accepted answers, the first few of them: "a, b, c +4 more"."""
    text = ", ".join(escape(a) for a in accept[:shown])
    return text + (f" [dim]{t['more'].format(n=len(accept) - shown)}[/]" if len(accept) > shown else "")


def example_order(count: int) -> str:
    """An example ordering answer for `count` items: 312, or 3 1 2 4 ... when there are more than nine."""
    numbers = [3, 1, 2, *range(4, count + 1)] if count >= 3 else list(range(count, 0, -1))
    return "".join(map(str, numbers)) if count <= 9 else " ".join(map(str, numbers[:4])) + " ..."


def _numbers_text(numbers: list[int], t: dict[str, Any] = EN) -> str:
    if len(numbers) == 1:
        return str(numbers[0])
    return t["numbers_sep"].join(map(str, numbers[:-1])) + t["numbers_and"] + str(numbers[-1])


def order_problem(text: str, numbers: list[int], count: int, t: dict[str, Any] = EN) -> str | None:
    """Why a typed ordering is not an ordering of the `count` items (to ask again, not grade), or None."""
    typed = text.strip()
    if not numbers:
        return t["order_no_numbers"].format(typed=typed, count=count, example=example_order(count))
    problems = []
    outside = sorted({n for n in numbers if not 1 <= n <= count})
    if outside:
        key = "order_not_item" if len(outside) == 1 else "order_not_items"
        problems.append(t[key].format(numbers=_numbers_text(outside, t), count=count))
    twice = sorted({n for n in numbers if 1 <= n <= count and numbers.count(n) > 1})
    if twice:
        problems.append(t["order_twice_one" if len(twice) == 1 else "order_twice_many"].format(numbers=_numbers_text(twice, t)))
    missing = [n for n in range(1, count + 1) if n not in numbers]
    if missing:
        problems.append(t["order_missing_one" if len(missing) == 1 else "order_missing_many"].format(
            numbers=_numbers_text(missing, t)))
    if not problems:
        return None
    return t["order_problem"].format(typed=typed, problems=t["problems_sep"].join(problems), count=count)


def choice_problem(text: str, numbers: list[int], count: int, multi: bool, t: dict[str, Any] = EN) -> str | None:
    """Why typed choice numbers cannot be checked (to ask again), or None. Empty text is no answer, checked."""
    typed = text.strip()
    if not typed:
        return None
    if not numbers:
        return t["choice_no_numbers"].format(typed=typed, count=count)
    outside = sorted({n for n in numbers if not 1 <= n <= count})
    if outside:
        key = "choice_not_one" if len(outside) == 1 else "choice_not_many"
        return t[key].format(typed=typed, numbers=_numbers_text(outside, t), count=count)
    if not multi and len(set(numbers)) > 1:
        return t["choice_one_only"].format(typed=typed)
    return None


class QuizUI:
    """Runs a Session in the terminal until the learner is done or quits."""

    def __init__(
        self,
        session: Session,
        console: Console | None = None,
        keys: Keys | None = None,
        rng: random.Random | None = None,
        reload_bank: Callable[[], "CardIndex"] | None = None,
    ) -> None:
        self.session = session
        self.console = console or Console(highlight=False)
        self.keys = keys or Keys()
        self.rng = rng or random.Random()
        self.reload_bank = reload_bank  # reads the bank again after `e`; None: `e` only prints file:line
        self.notice = ""
        self._warmed = False
        self._ended = threading.Event()  # set when the session loop ends: the warm-up is not needed then
        self._order: list[int] = []
        self._keep_order = False  # the same card again in the other language: the same order of choices
        self.lang = getattr(session.index, "lang", "en")
        self.t = labels(self.lang)  # the quiz's own words: in the session's language (l switches the cards only)
        self.out = LineCounter(self.console.file)
        self.console.file = self.out  # type: ignore[assignment]
        self._prompt_at = 0  # self.out.lines when the prompt was drawn

    # -- plumbing

    def say(self, text: str = "", **kwargs: Any) -> None:
        indented_and_long = text.startswith(" ") and len(text) > self.console.width
        if not text or kwargs or not (has_wide(text) or indented_and_long):
            self.console.print(text, **kwargs)
            return
        # rich breaks lines only at spaces: Chinese text is broken where Chinese allows (prep.linebreak),
        # and a numbered or indented line (a choice, code) keeps its continuation lines under its text
        rendered = Text.from_markup(text)
        plain = rendered.plain
        lead = _HANGING.match(plain)
        indent = cell_len(lead.group(0)) if lead else 0
        if indent > self.console.width // 2:
            indent = 0
        for n, line in enumerate(rendered.divide(break_offsets(plain, self.console.width, indent))):
            line.rstrip()
            if n and indent:
                line = Text(" " * indent) + line
            self.console.print(line, no_wrap=True, overflow="ignore", crop=False)

    def hint(self, text: str) -> None:
        self.console.print(f"[dim]{text}[/]")

    def notice_text(self, key: str, style: str = "yellow", **values: Any) -> str:
        """A notice from the labels: its lead word styled, then the rest ("[yellow]Buried[/] x until ...")."""
        lead, rest = split_lead(self.t[key])
        return f"[{style}]{lead}[/] {rest.format(**values)}"

    def run(self) -> Summary:
        """The session loop. q and Ctrl-C both end it with every rating kept; the caller prints the summary."""
        with self.keys.active():
            try:
                while True:
                    item = self.session.next_item()
                    if item is None:
                        break
                    self.show(item.card_id, item.queue)
                    self.settle()  # not before the first card: a cold start shows it before checking the bank
            except Quit:
                pass
            finally:
                self._ended.set()
        return self.session.close()

    # -- a bank checked after its first card

    def settle(self) -> list["Problem"]:
        """Go on with the checked bank when a cold start showed cards before checking it (bank_cache's
        `settle`): the cards with a problem leave the session, and the next card's notice says which."""
        index = self.session.index
        problems = index.settle()
        if problems is None:
            return []
        self.session.use_index(index)
        from .bank_cache import SHOWN_PROBLEMS

        left_out = [p for p in problems if not p.language]  # a missing side shows the other one
        if left_out:
            many = "left_out_bank_one" if len(left_out) == 1 else "left_out_bank_many"
            lines = [f"[yellow]{self.t[many].format(n=len(left_out))}[/]"]
            lines += [f"  {escape(str(p))}" for p in left_out[:SHOWN_PROBLEMS]]
            if len(left_out) > SHOWN_PROBLEMS:
                lines.append(self.t["left_out_more"].format(n=len(left_out) - SHOWN_PROBLEMS))
            self.notice = "\n".join(filter(None, [self.notice, *lines]))
        return problems

    def left_out(self, card: "Card") -> bool:
        """Whether the card on screen, answered, turned out to have a problem when the bank was checked:
        then it is said, nothing is rated, and Enter goes on (e edits the card, as everywhere)."""
        notice = self.notice
        problems = self.settle()
        if card.id in self.session.index:
            return False
        mine = problems_of(card, problems)
        if all(p in mine or p.language for p in problems):
            self.notice = notice  # said here: the next card need not say it again
        self.say(self.notice_text("left_out_card", "bold yellow", id=escape(card.id)))
        for problem in mine:
            self.say(f"  {escape(str(problem))}")
        self.hint(f"{self.t['left_out_footer']} · {self.t['key_quit']}")
        while True:
            key = self.keys.key()
            if key in ("enter", "space"):
                return True
            if key in ("e", "q"):
                self.command(key, card)

    # -- one card

    def show(self, card_id: str, queue: str) -> None:
        self._keep_order = False
        card = self.session.index.card(card_id, self.lang)
        while True:
            try:
                self.ask(card, queue)
                return
            except Edited as edited:  # edited before it was answered: asked again, as it now reads
                card = edited.card

    def ask(self, card: "Card", queue: str) -> None:
        self.draw_question(card, queue)
        if not self._warmed:
            self._warmed = True
            threading.Thread(target=_warm_up, args=(self._ended, self.session.index), name="prep-warm-up").start()
        started = time.monotonic()
        if card.type == "recall":
            if self.wait_reveal(card):
                self.after_answer(card, queue, None, started)
            return
        ask = self.ask_choice if card.type in ("single", "multi") else self.ask_typed
        outcome = ask(card, started)
        if outcome is not None:  # None: the card left the screen (undo, bury, suspend)
            self.after_answer(card, queue, outcome, started)

    def header(self, card: "Card", queue: str) -> None:
        counts = self.session.counts()
        t = self.t
        if self.session.cram:
            left = t["header_cram"].format(n=counts["cram"])
        else:
            left = (f"[cyan]{t['header_new'].format(n=counts['new'])}[/] · [red]{t['header_learning'].format(n=counts['learning'])}[/] · "
                    f"[green]{t['header_review'].format(n=counts['review'])}[/]")
        kind = f"{t['queues'].get(queue, queue)} · {t['types'].get(card.type, card.type)}"
        self.say(f"[dim]{escape(card.topic)} · {kind}[/]   {left}   [dim]{t['header_done'].format(n=self.session.reviewed)}[/]")

    def draw_question(self, card: "Card", queue: str) -> None:
        if self.console.is_terminal:
            self.console.clear()
        if self.notice:
            for line in self.notice.split("\n"):  # line by line: an indented one (a problem) wraps under its text
                self.say(line)
            self.notice = ""
        self.header(card, queue)
        if self.session.is_suspended(card.id):
            self.say(f"[yellow]{self.t['suspended_banner']}[/]")
        self.say()
        self._prompt_at = self.out.lines
        self.say(inline(card.prompt))
        self.say()

    def can_redraw(self) -> bool:
        """Whether the screen can be cleared and drawn again (a terminal that is not dumb)."""
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def under_the_question(self, card: "Card", draw: Callable[[], None]) -> None:
        """Print what `draw` prints (the rating lines), with the question again above it when the question
        would otherwise have scrolled off the top of the screen (a small terminal, 80x24, a long answer)."""
        with self.console.capture() as captured:
            draw()
        text = captured.get()
        if self.out.lines - self._prompt_at + text.count("\n") >= self.console.height:
            self.say(f"[dim]{self.t['question']}[/] {inline(card.prompt)}")
        self.console.file.write(text)
        self.console.file.flush()

    def command(self, key: str, card: "Card") -> bool:
        """The keys every screen shares. True when the card leaves the screen."""
        session = self.session
        if key == "q":
            raise Quit()
        if key == "e":
            self.edit(card)  # raises Edited when the editor ran
            return False
        if key == LANG_KEY:
            self.switch_lang(card)  # raises Edited: the card again, in the other language
            return False
        if key == "u":
            undone = session.undo()
            if undone is None:
                self.say(f"[dim]{self.t['nothing_to_undo']}[/]")
                return False
            self.notice = self.notice_text("undone", id=escape(undone))
            return True
        if key == "b":
            until = session.bury(card.id)
            self.notice = self.notice_text("buried", id=escape(card.id), until=until.astimezone().strftime(self.t["weekday_time"]))
            return True
        if key == HELP_KEY:
            self.hint(self.t["keys_help"])
            return False
        if key == "!":
            if session.is_suspended(card.id):
                session.unsuspend(card.id)
                self.notice = self.notice_text("unsuspended", id=escape(card.id))
                raise Edited(card)  # it stays on screen, to be answered, and ! now suspends
            else:
                session.suspend(card.id)
                self.notice = self.notice_text("suspended", id=escape(card.id))
            return True
        return False

    # -- languages

    def other_lang(self) -> str:
        return "zh" if self.lang == "en" else "en"

    def switch_lang(self, card: "Card") -> None:
        """Show the card (and the cards after it) in the other language."""
        self.lang = self.other_lang()
        index = self.session.index
        index.lang = self.lang
        self._keep_order = True
        self.notice = f"[dim]{self.t['switched'].format(lang=LANG_LABELS[self.lang], key=LANG_KEY)}[/]"
        raise Edited(index.card(card.id, self.lang))

    # -- editing

    def location(self, card: "Card") -> tuple[Path, int]:
        return self.session.index.root / card.file, int(card.line)

    def edit(self, card: "Card") -> None:
        """Open the card in the learner's editor, then read the bank again and raise Edited with the card to show.

        Without $VISUAL or $EDITOR (or without a terminal), print where the card is instead.
        """
        path, line = self.location(card)
        where = content.card_location(path.parent, path.name, line)  # says so when it is the installed copy
        try:
            editor = editor_command(self.t)
        except EditorProblem as exc:
            self.say(f"[dim]{self.t['edit_where']}[/] {escape(where)}")
            self.say(f"[yellow]{escape(str(exc))}[/]")
            return
        if editor is None or not self.keys.tty or self.reload_bank is None:
            self.say(f"[dim]{self.t['edit_where']}[/] {escape(where)}")
            if editor is None:
                self.hint(self.t["editor_unset"])
            return
        if content.is_installed_copy(path):  # shown again when the editor closes: the edit will not last
            self.notice = f"[yellow]{self.t['edited_where'].format(where=escape(where))}[/]\n"
        self.console.file.flush()
        try:
            with self.keys.cooked():
                failed = run_editor(editor[0], path, line, self.t)
        except EditorProblem as exc:
            self.say(f"[dim]{self.t['edit_where']}[/] {escape(where)}")
            self.say(f"[yellow]{escape(str(exc))} (${editor[1]})[/]")
            return
        fresh, message = self.reload(card)  # even after a failure: the file may have been saved first
        self.notice = (self.notice or "") + (f"[yellow]{escape(failed)}[/]\n" if failed else "") + message
        raise Edited(fresh)

    def reload(self, card: "Card") -> tuple["Card", str]:
        """The card as the bank now has it, or the card as it was and what keeps the bank from loading it."""
        assert self.reload_bank is not None
        where = "{}:{}".format(*self.location(card))
        try:
            index = self.reload_bank()
        except PrepError as exc:
            return card, self.not_reloaded(card, [str(p) for p in getattr(exc, "problems", [])] or [str(exc)])
        if card.id not in index:
            problems = [str(p) for p in problems_of(card, index.problems)]
            return card, self.not_reloaded(card, problems or [self.t["no_card_any_more"].format(file=card.file, id=card.id)])
        index.lang = self.lang
        self.session.use_index(index)
        fresh = index.card(card.id)
        message = self.notice_text("reloaded", "green", id=escape(card.id), where=escape(where))
        others = [str(p) for p in index.problems if str(p.file) == str(card.file)]
        if others:  # the edit broke a neighbour: it is left out until fixed
            message += f"\n[yellow]{self.t['reloaded_others']}[/]"
            message += "".join(f"\n  {escape(p)}" for p in others)
        return fresh, message

    def not_reloaded(self, card: "Card", problems: list[str]) -> str:
        lines = [self.notice_text("not_reloaded", "bold yellow", id=escape(card.id))]
        lines += [f"  {escape(p)}" for p in problems]
        lines.append(self.t["not_reloaded_end"])
        return "\n".join(lines)

    def keys_line(self, first: str, card: "Card") -> None:
        """The footer: the keys that work on this screen, and what ! does to this card."""
        t = self.t
        bang = t["key_unsuspend"] if self.session.is_suspended(card.id) else t["key_suspend"]
        undo = f"{t['key_undo']} · " if self.session.can_undo else ""  # nothing rated yet: nothing to undo
        self.hint(f"{first} · {undo}{t['key_bury']} · {bang} · {t['key_edit']} · "
                  f"{LANG_KEY} {LANG_LABELS[self.other_lang()]} · {t['key_help']} · {t['key_quit']}")

    def typing_line(self, first: str) -> None:
        """The footer of a text prompt: letters are typed there, so it names no letter key."""
        undo = self.t["undo_word"] if self.session.can_undo else ""
        self.hint(f"{first} · {self.t['typing_footer'].format(undo=undo)}")

    def same_order(self, count: int) -> bool:
        """After a language switch, keep the order the card was shown in (once)."""
        keep, self._keep_order = self._keep_order, False
        return keep and sorted(self._order) == list(range(count))

    # -- free recall

    def wait_reveal(self, card: "Card") -> bool:
        self.keys_line(self.t["show_answer"], card)
        while True:
            key = self.keys.key()
            if key in ("space", "enter"):
                return True
            if self.command(key, card):
                return False

    # -- choices

    def choice_lines(self, card: "Card", order: list[int], picked: list[int] | None) -> None:
        """The choices, numbered as shown; on a multiple-choice card each with its box, ticked when picked."""
        for n, i in enumerate(order, 1):
            box = "" if picked is None else ("[bold]\\[x][/] " if n in picked else "\\[ ] ")
            self.say(f"  [bold]{n}.[/] {box}{inline(card.choices[i].text)}")  # type: ignore[index]

    def choice_footer(self, card: "Card", count: int, multi: bool, many: bool) -> None:
        t = self.t
        if multi:
            self.keys_line(t["pick_multi"].format(n=count) if not many else t["type_numbers_check"], card)
        elif many:
            self.typing_line(t["type_number"].format(n=count))
        else:
            self.keys_line(t["pick_single"].format(n=count), card)

    def ask_choice(self, card: "Card", started: float) -> Outcome | None:
        assert card.choices
        if self.same_order(len(card.choices)):
            order = self._order
        else:
            order = list(range(len(card.choices)))
            self.rng.shuffle(order)
        self._order = order
        multi = card.type == "multi"
        many = len(order) > 9
        boxes = multi and not many and self.can_redraw()  # ticked in place; elsewhere the "chosen:" line says it
        self.choice_lines(card, order, [] if boxes else None)
        self.say()
        self.choice_footer(card, len(order), multi, many)
        picked: list[int] = []
        if many:
            while True:
                text = self.read_line(card)
                if text is None:
                    return None
                numbers = typed_numbers(text, single_digits=False)
                problem = choice_problem(text, numbers, len(order), multi, self.t)
                if problem is None:
                    picked = numbers
                    break
                self.say(f"[yellow]{escape(problem)}[/]")
        else:
            while True:
                key = self.keys.key()
                if key in ASCII_DIGITS and 1 <= int(key) <= len(order):
                    n = int(key)
                    if not multi:
                        picked = [n]
                        break
                    picked = [p for p in picked if p != n] if n in picked else sorted([*picked, n])
                    self.show_picks(card, order, picked)
                    continue
                if key == "enter" and multi and picked:
                    self.say()
                    break
                if key == "enter" and multi:
                    self.console.print(f"\r[yellow]{self.t['pick_first']}[/]   ", end="")
                    continue
                if self.command(key, card):
                    return None
        seconds = time.monotonic() - started
        chosen = {order[n - 1] for n in picked}
        right = {i for i, c in enumerate(card.choices) if c.correct}
        # in the order the options are shown, whatever order they were pressed or typed in
        answer = " | ".join(card.choices[order[n - 1]].text for n in sorted(set(picked)))
        return Outcome(chosen == right, answer, seconds, frozenset(chosen))

    def show_picks(self, card: "Card", order: list[int], picked: list[int]) -> None:
        """The selection so far, in place: the question drawn again with its boxes ticked, or (without a
        screen to draw on) one status line written over itself."""
        if self.can_redraw():
            item = self.session.current
            self.draw_question(card, item.queue if item else "")
            self.choice_lines(card, order, picked)
            self.say()
            self.choice_footer(card, len(order), True, False)
        chosen = " ".join(map(str, picked)) or "-"
        self.console.print(f"\r[dim]{self.t['chosen']}[/] {chosen}   ", end="")
        self.console.file.flush()

    # -- typed answers

    def read_line(self, card: "Card") -> str | None:
        """A line typed by the learner, or None when a command key took the card off the screen.

        Backspace and Ctrl-U erase as many columns as the characters took (two for 中文).
        An answer that is exactly a command key is asked about before it is returned.
        """
        buffer: list[str] = []

        def prompt() -> None:
            self.console.print("[bold]>[/] " + escape("".join(buffer)), end="")
            self.console.file.flush()

        def erase(chars: list[str]) -> None:
            width = sum(cell_len(c) for c in chars)
            self.console.file.write("\b" * width + " " * width + "\b" * width)
            self.console.file.flush()

        prompt()
        while True:
            key = self.keys.key()
            if key == "enter":
                self.say()
                text = "".join(buffer)
                word = text.strip().casefold()
                if word not in COMMAND_KEYS:
                    return text
                choice = self.ask_command_or_answer(word, card)
                if choice == "answer":
                    return text
                if choice == "left":
                    return None
                prompt()  # back to typing, the text kept
                continue
            if key == "backspace":
                if buffer:
                    erase([buffer.pop()])
                continue
            if key == "kill":
                erase(buffer)
                buffer.clear()
                continue
            if key == "esc":
                self.say()
                bang = self.t["key_unsuspend"] if self.session.is_suspended(card.id) else self.t["key_suspend"]
                undo = f"{self.t['key_undo']} · " if self.session.can_undo else ""
                self.hint(self.t["command_line"].format(bang=bang, undo=undo,
                                                        lang_key=f"{LANG_KEY} {LANG_LABELS[self.other_lang()]}"))
                command = self.keys.key()
                if self.command(command, card):
                    return None
                prompt()
                if len(command) != 1 or command in COMMAND_KEYS:
                    continue
                key = command  # not a command: it is typed
            if key == "space":
                key = " "
            if len(key) == 1:  # a character (the named keys are longer)
                buffer.append(key)
                self.console.file.write(key)
                self.console.file.flush()

    def ask_command_or_answer(self, word: str, card: "Card") -> str:
        """The typed answer is a command key: do the command, take it as the answer, or go back to typing.

        Returns "answer", "left" (the card left the screen) or "typing".
        """
        actions = self.t["command_actions"]
        if word == "!" and self.session.is_suspended(card.id):
            action = actions["!!"]
        else:
            action = actions[word].format(lang=LANG_LABELS[self.other_lang()])
        quoted = escape(repr(word))
        asked = self.t["command_or_answer"].format(Action=action[0].upper() + action[1:], word=quoted)
        self.say(f"[yellow]{asked}[/] [dim]{self.t['command_or_answer_keys'].format(key=escape(word), action=action, word=quoted)}[/]")
        key = self.keys.key()
        if key == "enter":
            return "answer"
        if key.casefold() == word:
            return "left" if self.command(word, card) else "typing"
        return "typing"

    def ask_typed(self, card: "Card", started: float) -> Outcome | None:
        if card.type == "order":
            assert card.items
            if self.same_order(len(card.items)):
                order = self._order
            else:
                order = list(range(len(card.items)))
                while len(order) > 1 and order == sorted(order):
                    self.rng.shuffle(order)
            self._order = order
            for n, i in enumerate(order, 1):
                self.say(f"  [bold]{n}.[/] {inline(card.items[i])}")
            self.say()
            self.typing_line(self.t["type_order"].format(example=example_order(len(order))))
        else:
            self.typing_line(self.t["type_answer"])
        while True:
            text = self.read_line(card)
            if text is None:
                return None
            if card.type != "order" or not text.strip():
                break
            problem = order_problem(text, typed_numbers(text), len(self._order), self.t)
            if problem is None:
                break
            self.say(f"[yellow]{escape(problem)}[/]")  # asked again, not graded
        seconds = time.monotonic() - started
        if card.type == "short":
            return Outcome(bool(text.strip()) and card.accepts(text), text, seconds)
        numbers = typed_numbers(text)
        given = [self._order[n - 1] for n in numbers if 1 <= n <= len(self._order)]
        correct = len(numbers) == len(self._order) and given == list(range(len(card.items or [])))
        answer = " > ".join(card.items[i] for i in given) if card.items else text  # type: ignore[index]
        return Outcome(correct, answer if given else text, seconds)

    # -- after the answer

    def explain(self, card: "Card", outcome: Outcome | None) -> None:
        t = self.t
        if outcome is not None:
            if outcome.correct:
                self.say(f"[bold green]{t['right']}[/]")
            elif outcome.answer.strip():
                self.say(f"[bold red]{t['not_quite']}[/] [dim]{t['you_answered']}[/] {escape(outcome.answer)}")
            else:
                self.say(f"[bold red]{t['no_answer']}[/]")
        if card.choices:
            if sorted(self._order) != list(range(len(card.choices))):  # the choices changed in an edit
                self._order = list(range(len(card.choices)))
            picked = outcome.picked if outcome is not None else None
            for n, i in enumerate(self._order, 1):
                choice = card.choices[i]
                mark = "[green]✓[/]" if choice.correct else "[red]✗[/]"
                why = f" [dim]— {inline(choice.why)}[/]" if choice.why else ""
                self.say(f"  {mark} {n}. {inline(choice.text)}{pick_note(choice.correct, picked, i, t)}{why}")
        if card.type == "order" and card.items:
            self.say(f"[dim]{t['the_order']}[/] " + " → ".join(inline(i) for i in card.items))
        self.say()
        self.say(f"[bold]{t['answer']}[/] {inline(card.answer)}")
        others = card.other_accepted() if card.type == "short" else []
        if others:
            self.say(f"[dim]{t['also_accepted']}[/] " + accepted_list(others, t=t))
        if card.explanation:
            self.say(inline(card.explanation))
        if card.corrects:
            self.say(f"[yellow]{t['notes_said']}[/] {inline(card.corrects)}")
        refs = "; ".join(r.title for r in card.ref_list)
        if refs:
            self.say(f"[dim]{t['refs']} {escape(refs)}[/]")
        if card.zh:
            self.say(f"[dim]中文:[/] {escape('、'.join(card.zh))}")
        self.say()

    def buttons(self, card_id: str, chosen: int | None = None) -> tuple[str, str | None]:
        """The rating buttons, each with the interval it gives (the span fuzz draws it from), and one such span."""
        spans = self.session.preview_spans(card_id)
        parts = []
        fuzzed = None
        for rating, name in self.t["ratings"].items():
            shown = format_span(*spans[rating])
            if spans[rating][0] != spans[rating][1]:
                fuzzed = fuzzed or shown
            label = f"{rating} {name} {shown}"
            style = RATING_STYLES[rating]
            parts.append(f"[bold reverse {style}]{label}[/]" if rating == chosen else f"[{style}]{label}[/]")
        return "  ".join(parts), fuzzed

    def rating_footer(self, first: str, fuzzed: str | None, card: "Card") -> None:
        """The footer under the buttons; when a button shows a span, what the span means."""
        self.keys_line(first + (" · " + self.t["fuzz_note"].format(span=fuzzed) if fuzzed else ""), card)

    def after_answer(self, card: "Card", queue: str, outcome: Outcome | None, started: float) -> None:
        if self.left_out(card):
            return
        session = self.session
        self.explain(card, outcome)
        if outcome is None:  # free recall: the learner rates
            def recall_lines() -> None:
                line, fuzzed = self.buttons(card.id)
                self.say(line)
                self.rating_footer(self.t["rate_footer"], fuzzed, card)

            self.under_the_question(card, recall_lines)
            while True:
                key = self.keys.key()
                rating = {"enter": GOOD, "space": GOOD}.get(key) or (int(key) if key in ("1", "2", "3", "4") else None)
                if rating is not None:
                    rated = session.rate(card.id, rating, duration_ms=int((time.monotonic() - started) * 1000), queue=queue)
                    self.after_rating(rated)
                    return
                try:
                    if self.command(key, card):
                        return
                except Edited as edited:  # the answer stays on screen, as edited; nothing is rated yet
                    card = edited.card
                    self.draw_question(card, queue)
                    self.explain(card, None)
                    self.under_the_question(card, recall_lines)
        rating = AGAIN if not outcome.correct else (EASY if outcome.seconds <= session.settings.easy_seconds else GOOD)
        preview_line, fuzzed = self.buttons(card.id, rating)  # before rating: the intervals as of now
        rated = session.rate(
            card.id, rating, duration_ms=int(outcome.seconds * 1000), answer=outcome.answer, correct=outcome.correct, queue=queue
        )

        def rated_lines() -> None:
            self.say(preview_line)
            self.say(f"[dim]{self.t['rated']}[/] [{RATING_STYLES[rating]}]{self.t['ratings'][rating]}[/]"
                     f"{self.interval_text(rated)}{self.t['rated_end']}")
            self.rating_footer(self.t["rated_footer"], fuzzed, card)

        self.under_the_question(card, rated_lines)
        while True:
            key = self.keys.key()
            if key in ("enter", "space"):
                self.after_rating(rated)
                return
            if key in ("1", "2", "3", "4"):
                if int(key) != rated.rating:
                    rated = session.rerate(rated, int(key))
                self.after_rating(rated)
                return
            if key == "u":
                session.undo()
                self.notice = self.notice_text("undone_rating", id=escape(card.id))
                return
            try:
                if self.command(key, card):
                    return
            except Edited as edited:  # rated already: the answer screen again, as edited, never a second rating
                card = edited.card
                self.draw_question(card, queue)
                self.explain(card, outcome)
                self.under_the_question(card, rated_lines)

    def interval_text(self, rated: Rated) -> str:
        if rated.interval is None:
            return self.t["cram_unchanged"]
        if rated.suspended:
            return self.t["leech_suspended_interval"].format(n=rated.lapses)
        return self.t["next_in"].format(interval=format_interval(rated.interval))

    def after_rating(self, rated: Rated) -> None:
        card_id = escape(rated.card_id)
        if rated.suspended:
            self.notice = self.notice_text("leech_now_suspended", "bold yellow", id=card_id, n=rated.lapses)
        elif rated.leech and self.session.is_suspended(rated.card_id):  # rated through --card while suspended
            self.notice = self.notice_text("leech_stays_suspended", "bold yellow", id=card_id, n=rated.lapses)
        elif rated.leech:
            self.notice = self.notice_text("leech", "bold yellow", id=card_id, n=rated.lapses)


def render_summary(console: Console, summary: Summary, now: datetime, interrupted: bool = False, day_starts_at: int = 4,
                   lang: str | None = None) -> None:
    t = labels(lang)

    def at(moment: datetime | None) -> str:
        return when(moment, now, day_starts_at, t)

    def lead(key: str, **values: Any) -> str:
        first, rest = split_lead(t[key])
        return f"[yellow]{first}[/] {rest.format(**values)}"

    if summary.reviewed:
        share = summary.correct_share or 0.0
        console.print(t["reviewed"].format(n=summary.reviewed, cards=t["card_one"] if summary.reviewed == 1 else t["card_many"],
                                           share=f"{share:.0%}", correct=summary.correct, time=clock_time(summary.seconds)))
    else:
        console.print(t["reviewed_nothing"])
    if interrupted:
        console.print(f"[dim]{t['interrupted']}[/]")
    if summary.card is not None:
        card_id = escape(summary.card)
        if summary.card_suspended:
            console.print(t["card_stays_suspended"].format(id=card_id))
        elif summary.card_due is None:
            console.print(t["card_still_new"].format(id=card_id))
        else:
            console.print(t["card_next_due"].format(id=card_id, when=at(summary.card_due)))
    left = {k: v for k, v in summary.left.items() if v and k != "cram"}
    if left:  # counted as `prep due` counts
        parts = t["list_sep"].join(t["still_part"].format(n=n, name=t["queues"].get(name, name)) for name, n in left.items())
        console.print(t["still_to_do"].format(parts=parts))
    if summary.learning_later:
        later = t["later_today_one"] if summary.learning_later == 1 else t["later_today_many"]
        console.print(later.format(n=summary.learning_later, when=at(summary.next_learning)))
    if not left:
        console.print(t["next_card_due"].format(when=at(summary.next_due)))
    suspended = set(summary.suspended_leeches)
    for card_id in summary.leeches:
        if card_id in suspended:
            console.print(lead("leech_summary_suspended", id=escape(card_id)))
        else:
            console.print(lead("leech_summary", id=escape(card_id)))


def nothing_due(console: Console, session: Session, now: datetime, lang: str | None = None) -> None:
    t = labels(lang)
    plan = session.plan
    console.print(t["nothing_to_review"])
    if plan.reviews_over_limit:
        console.print(f"[dim]{t['over_limit'].format(n=plan.reviews_over_limit, limit=session.settings.reviews_per_day)}[/]")
    console.print(t["next_card_due"].format(when=when(session.next_due(), now, session.settings.day_starts_at, t)))
    console.print(f"[dim]{t['cram_hint']}[/]")


__all__ = ["QuizUI", "Keys", "Quit", "render_summary", "nothing_due"]
