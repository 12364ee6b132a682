"""Grading: take a submission by whitelist, run the hidden tests in a sandbox, decide the verdict.

The result document (docs/grading.md, "The result document") is built here from
the judge's records; the backend only runs things. Per test and per submission
the statuses are, best to worst: passed, failed, error, timeout, memory-limit,
crashed, output-limit, internal-error. The worst wins; the score is the
weighted share of passed tests; an internal error is not counted as an attempt.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import rules, sandbox
from .errors import InputError, SubmissionTooLarge
from .exercises import Exercise

RESULT_VERSION = 1
STATUSES = ["passed", "failed", "error", "timeout", "memory-limit", "crashed", "output-limit", "internal-error"]
BUILD_STATUSES = ("passed", "failed", "timeout")  # of a C submission's compile, before the tests
NOT_COMPILED = "the C sources did not compile"  # how the run's message starts when the compile failed
MAX_FILE_BYTES = 512 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024


def worst(statuses) -> str:
    ranked = [STATUSES.index(s) for s in statuses if s in STATUSES]
    return STATUSES[max(ranked)] if ranked else "internal-error"


# ---------------------------------------------------------------- the submission


@dataclass
class Submission:
    """The whitelisted files of a submission, read once (what is graded is what is stored)."""

    files: dict[str, bytes]
    ignored: list[str] = field(default_factory=list)  # names in the folder that were not taken

    @property
    def code_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + self.files[name] + b"\0")
        return digest.hexdigest()

    def texts(self) -> dict[str, str]:
        return {name: data.decode("utf-8", "replace") for name, data in self.files.items()}

    def write(self, folder: Path) -> None:
        for name, data in self.files.items():
            (folder / name).write_bytes(data)


def collect(exercise: Exercise, path: Path) -> Submission:
    """Read a submission from PATH (a file or a folder), taking only the files of `files:`.

    Refused: a whitelisted name that is a symbolic link, a hard link, not a
    regular file, too large, or not UTF-8; a folder without the entry file.
    Anything else in the folder is left out (and listed in `ignored`).
    """
    path = Path(path).expanduser()
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{path} is a symbolic link: submit the file or folder itself")
    if stat.S_ISREG(st.st_mode):
        if path.name not in exercise.files:
            raise InputError(_not_a_file(exercise, path.name))
        folder, names, ignored = path.parent, [path.name], []
    elif stat.S_ISDIR(st.st_mode):
        folder = path
        present = sorted(os.listdir(folder))
        names = [n for n in present if n in exercise.files]
        ignored = [n for n in present if n not in exercise.files and n not in ("__pycache__", ".pytest_cache")]
    else:
        raise InputError(f"{path} is neither a file nor a folder")
    if exercise.entry not in names:
        raise InputError(_entry_missing(exercise, folder / exercise.entry))
    files: dict[str, bytes] = {}
    for name in names:
        files[name] = _read_plain_file(folder / name)
    _check_total(files)
    return Submission(files=files, ignored=ignored)


def collect_files(exercise: Exercise, files: dict[str, bytes]) -> Submission:
    """A submission that arrives as names and contents (the grading server), refused as `collect` refuses.

    Every name must be one of `files:` (so no folder, no `..`, no absolute path); the
    entry must be there; each file and the whole are size-limited (SubmissionTooLarge)
    and UTF-8. The messages are collect's, with the name where collect names a path.
    """
    for name in files:
        if name not in exercise.files:
            raise InputError(_not_a_file(exercise, name))
    if exercise.entry not in files:
        raise InputError(_entry_missing(exercise, exercise.entry))
    for name, data in files.items():
        if len(data) > MAX_FILE_BYTES:
            raise SubmissionTooLarge(f"{name} is {len(data) // 1024} KB: at most {MAX_FILE_BYTES // 1024} KB per file")
    _check_total(files)
    for name, data in files.items():
        _check_utf8(name, data)
    return Submission(files=dict(files))


def _not_a_file(exercise: Exercise, name: str) -> str:
    if not name.isprintable() or len(name) > 100:  # still one line, and not an echo of anything sent
        name = repr(name[:100]) + ("..." if len(name) > 100 else "")
    return f"{name} is not a file of {exercise.slug} (a submission may contain: {', '.join(exercise.files)})"


def _entry_missing(exercise: Exercise, where) -> str:
    return f"{where} is missing: the submission's entry file (start from `prep exercise start {exercise.slug}`)"


def _check_total(files: dict[str, bytes]) -> None:
    total = sum(len(d) for d in files.values())
    if total > MAX_TOTAL_BYTES:
        raise SubmissionTooLarge(f"the submission is {total // 1024} KB: at most {MAX_TOTAL_BYTES // 1024} KB")


def _check_utf8(name, data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text (byte {exc.start})") from None


def _read_plain_file(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise InputError(f"{path} is a symbolic link: submit the file itself") from None
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path} is not a regular file")
        if st.st_nlink != 1:
            raise InputError(f"{path} is a hard link ({st.st_nlink} names): submit a plain copy")
        if st.st_size > MAX_FILE_BYTES:
            raise SubmissionTooLarge(f"{path} is {st.st_size // 1024} KB: at most {MAX_FILE_BYTES // 1024} KB per file")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise SubmissionTooLarge(f"{path} grew past {MAX_FILE_BYTES // 1024} KB while being read")
            chunks.append(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    _check_utf8(path, data)
    return data


# ---------------------------------------------------------------- the verdict


def assemble(raw: sandbox.RawRun, exercise: Exercise) -> dict[str, Any]:
    """The result document, from what the backend brought back."""
    plan: list[dict] | None = None
    by_name: dict[str, dict] = {}
    judge_error: str | None = None
    performance: dict | None = None
    build: dict | None = None
    for record in raw.records:
        kind = record.get("kind")
        if kind == "plan" and plan is None and isinstance(record.get("tests"), list):
            plan = [t for t in record["tests"] if isinstance(t, dict) and isinstance(t.get("name"), str)]
        elif kind == "test" and isinstance(record.get("name"), str):
            by_name.setdefault(record["name"], record)
        elif kind == "error":
            judge_error = str(record.get("message", "the judge failed"))[:500]
        elif kind == "performance" and isinstance(record.get("value"), (int, float)):
            performance = record
        elif kind == "build" and build is None and record.get("status") in BUILD_STATUSES:
            build = record

    tests: list[dict[str, Any]] = []
    running_found = False
    for entry in plan or []:
        name = entry["name"]
        weight = _weight(entry.get("weight"))
        record = by_name.get(name)
        cards = [str(c)[:100] for c in entry.get("cards") or [] if isinstance(c, str)][:20]
        if record is not None and record.get("status") in STATUSES:
            tests.append(
                {
                    "name": name,
                    "status": record["status"],
                    "message": _text(record.get("message")),
                    "output": _text(record.get("output")) or "",
                    "duration_ms": int(record.get("duration_ms") or 0),
                    "weight": weight,
                    "cards": cards,
                }
            )
            continue
        if raw.internal_error or judge_error:
            status, message = "internal-error", "not run: the sandbox failed"
        elif raw.killed_after is not None and not running_found:
            running_found = True
            status = "timeout"
            message = f"the submission's {int(exercise.limits.run_seconds)} s limit was reached during this test"
        elif raw.killed_after is not None:
            status, message = "error", "not run: the submission's time limit was reached before this test"
        else:
            status, message = "error", "no result was recorded for this test"
        tests.append({"name": name, "status": status, "message": message, "output": "", "duration_ms": 0, "weight": weight,
                      "cards": cards})

    message: str | None = None
    if raw.internal_error:
        verdict, message = "internal-error", raw.internal_error
    elif judge_error:
        verdict, message = "internal-error", judge_error
    elif plan is None:
        verdict = "internal-error"
        message = "the judge produced no test plan" + (f" before the {raw.killed_after:g} s limit" if raw.killed_after else "")
    elif not tests:
        verdict, message = "internal-error", "the exercise has no hidden tests"
    else:
        verdict, message = _verdict(tests)
        if build is not None and build["status"] != "passed":
            message = _not_compiled(build)  # said once here; each test points to it
    score = 0.0 if verdict == "internal-error" else _score(tests)
    result: dict[str, Any] = {
        "version": RESULT_VERSION,
        "exercise": exercise.slug,
        "verdict": verdict,
        "score": score,
        "message": message,
        "duration_ms": raw.duration_ms,
        "backend": raw.backend,
        "counts_as_attempt": verdict != "internal-error",
        "performance": None,
        "build": _build_summary(build),
        "tests": tests,
    }
    if performance is not None and exercise.performance is not None:
        result["performance"] = {
            "name": exercise.performance.name,
            "higher_is_better": exercise.performance.higher_is_better,
            "value": float(performance["value"]),
            "baseline": float(performance["baseline"]) if isinstance(performance.get("baseline"), (int, float)) else None,
        }
    return result


def _verdict(tests: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The worst status, and a message saying how many tests did not pass and where the worst was."""
    verdict = worst(t["status"] for t in tests)
    if verdict == "passed":
        return verdict, None
    bad = [t for t in tests if t["status"] != "passed"]
    first = next(t for t in tests if t["status"] == verdict)
    return verdict, f"{len(bad)} of {len(tests)} tests did not pass; {verdict} in {first['name']}"


def _score(tests: list[dict[str, Any]]) -> float:
    total = sum(t["weight"] for t in tests)
    return round(sum(t["weight"] for t in tests if t["status"] == "passed") / total, 4) if total else 0.0


def apply_rules(result: dict[str, Any], exercise: Exercise, submission: Submission) -> dict[str, Any]:
    """Add the statement's rule as a last test, checked here on the stored source (prep.rules).

    A submission that breaks it fails, and scores 0: a mechanism built on what the statement
    forbids is not the mechanism, however many tests it passes."""
    if exercise.rules is None or exercise.language != "python":
        return result
    forbidden = exercise.rules.forbid
    findings = rules.check(submission.texts(), forbidden)
    test = {"name": rules.RULE_TEST, "status": "failed" if findings else "passed",
            "message": rules.describe(findings, forbidden) if findings else None,
            "output": "", "duration_ms": 0, "weight": 1.0, "cards": []}
    tests = [*result["tests"], test]
    result = {**result, "tests": tests}
    if result["verdict"] == "internal-error":
        return result  # the sandbox failed: still no attempt, whatever the source says
    verdict, message = _verdict(tests)
    result["verdict"] = verdict
    if findings:
        result["score"] = 0.0
        result["message"] = f"the submission breaks a rule of the statement ({message})"
    else:
        result["score"] = _score(tests)
        result["message"] = message
    return result


def _build_summary(record: dict | None) -> dict[str, Any] | None:
    """The result's `build`: how gcc went and what it said (its warnings, when it passed)."""
    if record is None:
        return None
    duration = record.get("duration_ms")
    return {
        "status": record["status"],
        "output": _text(record.get("output")) or "",
        "duration_ms": int(duration) if isinstance(duration, (int, float)) else 0,
    }


def _not_compiled(record: dict) -> str:
    output = (_text(record.get("output")) or "").rstrip()
    if record["status"] == "timeout":
        limit = record.get("limit_seconds")
        within = f" within {float(limit):g} s" if isinstance(limit, (int, float)) else " in time"
        said = f"\n{output}" if output else ""
        return f"{NOT_COMPILED}: gcc did not finish{within} and was stopped{said}"
    return f"{NOT_COMPILED}:\n" + (output or "gcc failed and said nothing")


def _weight(value) -> float:
    try:
        weight = float(value)
    except (TypeError, ValueError):
        return 1.0
    return weight if weight > 0 else 1.0


def _text(value) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------- the whole run


def job_for(exercise: Exercise, submission_dir: Path, hidden_dir: Path | None = None,
            fail_fast: bool = False) -> sandbox.Job:
    """The backend's job: the exercise's limits, the hidden tests (shipped ones unless given)."""
    from . import content

    grader = content.grader_dir()
    hidden = hidden_dir if hidden_dir is not None else grader / "hidden" / exercise.slug
    if not hidden.is_dir():
        raise InputError(f"{exercise.slug} has no hidden tests (expected {hidden})")
    return sandbox.Job(
        slug=exercise.slug,
        entry=exercise.entry,
        language=exercise.language,
        limits=exercise.limits.model_dump(),
        submission_dir=submission_dir,
        hidden_dir=hidden,
        runtime_dir=grader / "runtime",
        forbid=list(exercise.rules.forbid) if exercise.rules is not None else [],
        fail_fast=fail_fast,
    )


def grade(exercise: Exercise, submission: Submission, backend, hidden_dir: Path | None = None,
          fail_fast: bool = False) -> dict[str, Any]:
    """Run the hidden tests on a collected submission with a backend; the result document.

    `fail_fast` stops at the first failing test: for tools that need only whether it passed."""
    with tempfile.TemporaryDirectory(prefix="prep-submission-") as tmp:
        folder = Path(tmp) / "submission"
        folder.mkdir()
        submission.write(folder)
        raw = backend.run(job_for(exercise, folder, hidden_dir, fail_fast))
    return apply_rules(assemble(raw, exercise), exercise, submission)


def cards_to_rate(db, exercise: Exercise, result: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Which linked cards a submission reviews, and why; and which it leaves alone, and why.

    A card never studied (no review yet) or suspended is left alone: a submission does not
    introduce cards. A pass reviews every other linked card. A failure reviews only the cards
    whose mechanism a failing test checks (its `cards` marker): a card whose tests all passed,
    or that no failing test names, keeps its schedule."""
    from . import store

    passed = result["verdict"] == "passed"
    failing_for: dict[str, str] = {}
    for test in result["tests"]:
        if test["status"] != "passed":
            for card in test.get("cards") or []:
                failing_for.setdefault(card, f"{test['name']} {test['status']}")
    rate, skip = {}, {}
    for card in exercise.cards:
        row = store.card_state_row(db, card)
        if row is None or not row.get("last_review"):
            skip[card] = "not studied yet"
        elif row.get("suspended"):
            skip[card] = "suspended"
        elif passed:
            rate[card] = "the submission passed"
        elif card in failing_for:
            rate[card] = failing_for[card]
        else:
            skip[card] = "no failing test checks it"
    return rate, skip


def record(db, exercise: Exercise, submission: Submission, result: dict[str, Any], at=None,
           rate: bool = True) -> dict[str, Any]:
    """Store a graded submission, and count it as a review of the cards it tells about.

    Ratings: passed at the first attempt since the last pass, Good; passed after
    failed attempts, Hard; failed, Again (once per run of failures: retrying
    does not pile up Agains). Which cards: cards_to_rate. The exercise gets its
    own schedule (a due date for re-implementing it) from the same rating, and
    keeps the best performance. An internal error is stored but counts for
    nothing; with `rate=False` (a work in progress) the submission is stored and
    no schedule moves.
    """
    from . import scheduling, store

    at = at or scheduling.clock_from_env()()
    submission_id = store.record_submission(
        db, result, submission.texts(), exercise.slug, submission.code_hash, submitted_at=at
    )
    recorded: dict[str, Any] = {"submission_id": submission_id, "rating": None, "cards": [], "exercise_due": None,
                                "why": {}, "not_rated": {}}
    if not result.get("counts_as_attempt", True):
        return recorded
    if not rate:
        recorded["not_rated"] = {card: "--no-rate" for card in exercise.cards}
        return recorded
    passed = result["verdict"] == "passed"
    failures_since_pass = 0
    for row in store.submissions(db, exercise.slug):  # newest first
        if row["id"] == submission_id or not row.get("counts_as_attempt"):
            continue
        if row["verdict"] == "passed":
            break
        failures_since_pass += 1
    if passed:
        rating = scheduling.GOOD if failures_since_pass == 0 else scheduling.HARD
    elif failures_since_pass == 0:
        rating = scheduling.AGAIN
    else:
        _keep_best_performance(db, exercise, result)
        recorded["not_rated"] = {card: "this run of failures was already rated" for card in exercise.cards}
        return recorded  # this run of failures was already rated
    from .settings import quiz_settings

    to_rate, recorded["not_rated"] = cards_to_rate(db, exercise, result)
    recorded["why"] = to_rate
    scheduler = scheduling.Scheduler(quiz_settings())  # the learner's retention and steps, as in the quiz
    for card_id in to_rate:
        before = store.card_state_row(db, card_id)
        state = scheduling.CardState.from_row(before) if before else None
        after = scheduler.review(state, card_id, rating, at)
        store.record_review(
            db,
            {
                "card_id": card_id,
                "rating": rating,
                "reviewed_at": at,
                "duration_ms": int(result.get("duration_ms") or 0),
                "answer": f"submission #{submission_id} of {exercise.slug}: {result['verdict']}",
                "correct": int(passed),
                "session_id": None,
                "kind": "submission",
                "state_after": after.state,
                "interval_days": after.interval_days,
            },
            after.to_row(),
        )
        recorded["cards"].append(card_id)
    key = f"exercise:{exercise.slug}"
    rows = list(db["exercise_state"].rows_where("exercise = ?", [exercise.slug], limit=1))
    row = rows[0] if rows else None
    state = None
    if row and row.get("due"):
        state = scheduling.CardState.from_row({**row, "card_id": key})
    # An exercise is not flashcard material: no minute-long learning steps, days from the start.
    exercise_scheduler = scheduling.Scheduler(
        dataclasses.replace(scheduler.settings, learning_steps=(), relearning_steps=())
    )
    after = exercise_scheduler.review(state, key, rating, at)
    new_row = {k: v for k, v in after.to_row().items() if k in ("state", "step", "stability", "difficulty", "due", "last_review")}
    with store.writing(db):
        db["exercise_state"].upsert({"exercise": exercise.slug, **new_row}, pk="exercise")
    _keep_best_performance(db, exercise, result)
    recorded["rating"] = scheduling.RATING_NAMES[rating]
    recorded["exercise_due"] = new_row["due"]
    return recorded


def _keep_best_performance(db, exercise: Exercise, result: dict[str, Any]) -> None:
    from . import store

    perf = result.get("performance")
    if not perf or result["verdict"] != "passed" or exercise.performance is None:
        return
    rows = list(db["exercise_state"].rows_where("exercise = ?", [exercise.slug], limit=1))
    best = rows[0].get("best_performance") if rows else None
    value = float(perf["value"])
    better = best is None or (value > best if exercise.performance.higher_is_better else value < best)
    if better:
        with store.writing(db):
            db["exercise_state"].upsert({"exercise": exercise.slug, "best_performance": value}, pk="exercise")
