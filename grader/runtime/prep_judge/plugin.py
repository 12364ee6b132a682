"""The judge's pytest plugin: the `learner` fixture, per-test statuses, the record stream.

Loaded with `-p` by judge.py only. For each hidden test it decides one status
(see docs/grading.md) from the outcome of setup, call and teardown, and writes
one record line to the judge's private result stream. A test that gets no
record is an error on the host side, never a pass.
"""

from __future__ import annotations

import signal
import time

import pytest

from . import client
from .client import HarnessError, LearnerDied, LearnerError, LearnerImportError, LearnerTimeout

MESSAGE_CAP = 2000
OUTPUT_SHOWN = 500
BUILD_OUTPUT_SHOWN = 16000  # characters of gcc's output in the build record
BUILD_ANSWER_MARGIN = 15.0  # the driver stops gcc at its budget; past this margin it is not answering
NOT_COMPILED = "the C sources did not compile: gcc's output is given once, before the tests"


class TestTimeout(BaseException):
    """Raised by SIGALRM when a test passes its wall-time limit (BaseException: tests cannot swallow it)."""

    def __init__(self, waiting_on: str | None = None) -> None:
        self.waiting_on = waiting_on
        super().__init__(waiting_on or "")


_active: "JudgePlugin | None" = None


def report_performance(value: float, baseline: float | None = None) -> None:
    """Report the submission's performance figure (and the baseline measured in the same run).

    The name and direction come from `performance:` in exercise.yaml; the last report wins."""
    if _active is None:
        raise HarnessError("report_performance() works only inside the judge")
    record = {"kind": "performance", "value": float(value)}
    if baseline is not None:
        record["baseline"] = float(baseline)
    _active.emit(record)


class JudgePlugin:
    def __init__(self, emit, session_factory, config: dict) -> None:
        global _active
        _active = self
        self.emit = emit
        self.config = config
        self.session_factory = session_factory
        self.session: client.Session | None = None
        self.session_error: str | None = None
        self.test_seconds = float(config.get("limits", {}).get("test_seconds", 10))
        self.reports: dict[str, dict] = {}
        self.learners: dict[str, client.Learner] = {}
        self.cleanups: dict[str, dict] = {}
        self.started: dict[str, float] = {}
        self.names: dict[str, str] = {}
        self.collect_errors: list[str] = []
        self.build_failed = False

    # -------------------------------------------------------------- collection

    def pytest_configure(self, config) -> None:
        config.addinivalue_line("markers", "weight(n): this test counts n times in the score (default 1)")
        config.addinivalue_line("markers", "cards(*ids): the bank's cards whose mechanism this test checks "
                                           "(a failure rates only those)")

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            self.collect_errors.append(report.nodeid or "the hidden tests")

    def pytest_collection_finish(self, session) -> None:
        if self.collect_errors:
            self.emit({"kind": "error", "message": "the hidden tests could not be collected: "
                                                   + ", ".join(self.collect_errors)[:500]})
            return
        counts: dict[str, int] = {}
        for item in session.items:
            counts[item.name] = counts.get(item.name, 0) + 1
        plan = []
        for item in session.items:
            name = item.name if counts[item.name] == 1 else item.nodeid.split("/")[-1]
            self.names[item.nodeid] = name
            plan.append({"name": name, "weight": _weight(item), "cards": _cards(item)})
        self.emit({"kind": "plan", "tests": plan})
        if self.config.get("language") == "c" and session.items:
            self._build()

    def _build(self) -> None:
        """Have the driver compile the C sources once, before the first test, with their own budget
        (`build_seconds`, not a test's): no test pays for gcc. One record says how it went."""
        try:
            session = self._session()
        except (_Internal, LearnerDied):
            return  # each test says the sandbox failed
        budget = float(self.config.get("build_seconds", 60))
        started = time.monotonic()
        try:
            reply = session.ask("build", "compiling the submission", timeout=budget + BUILD_ANSWER_MARGIN) or {}
        except LearnerTimeout:
            reply = {"status": "timeout", "output": ""}
        except (LearnerDied, HarnessError) as exc:
            self.emit({"kind": "error", "message": f"the learner side of the sandbox failed while compiling: {_cap(str(exc), 300)}"})
            self.build_failed = True
            return
        status = reply.get("status") if reply.get("status") in ("passed", "failed", "timeout") else "failed"
        self.build_failed = status != "passed"
        self.emit({
            "kind": "build",
            "status": status,
            "output": _cap(str(reply.get("output") or ""), BUILD_OUTPUT_SHOWN),
            "duration_ms": int(reply.get("duration_ms") or (time.monotonic() - started) * 1000),
            "limit_seconds": budget,
        })

    # -------------------------------------------------------------- the fixture

    @pytest.fixture
    def learner(self, request):
        if self.build_failed:  # nothing to run: said once as the run's message, pointed to here
            raise client.LearnerBuildError("CompileError", NOT_COMPILED, what="compiling the submission")
        session = self._session()
        deadline = self.started.get(request.node.nodeid, time.monotonic()) + self.test_seconds
        handle = client.Learner(session, deadline)
        self.learners[request.node.nodeid] = handle
        yield handle
        # teardown runs outside the test's alarm: cleanup has its own bound
        self.cleanups[request.node.nodeid] = handle._cleanup()

    def _session(self) -> client.Session:
        if self.session is None and self.session_error is None:
            try:
                self.session = self.session_factory()
            except Exception as exc:
                self.session_error = f"the learner side of the sandbox did not start: {exc}"
        if self.session is None:
            raise _Internal(self.session_error or "no session")
        if self.session.broken:
            raise LearnerDied("gone", self.session.broken)
        return self.session

    # -------------------------------------------------------------- running

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        self.started[item.nodeid] = time.monotonic()
        self.reports[item.nodeid] = {}
        yield
        self._record(item)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item):
        _arm(self.test_seconds)
        try:
            yield
        finally:
            _disarm()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        remaining = self.started[item.nodeid] + self.test_seconds - time.monotonic()
        _arm(max(remaining, 0.01))
        try:
            yield
        finally:
            _disarm()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        self.reports[item.nodeid][call.when] = (report, call.excinfo)

    # -------------------------------------------------------------- the record

    def _record(self, item) -> None:
        phases = self.reports.pop(item.nodeid, {})
        status, message, extra = "passed", None, ""
        for when in ("setup", "call", "teardown"):
            if when not in phases:
                continue
            report, excinfo = phases[when]
            if report.passed:
                continue
            if report.skipped:
                found = ("error", "the hidden test was skipped: " + _skip_reason(report))
                extra_here = ""
            else:
                found, extra_here = _classify(excinfo, self.test_seconds)
            if _rank(found[0]) > _rank(status):
                status, message, extra = found[0], found[1], extra_here
        if "call" not in phases and status == "passed":
            status, message = "error", "the hidden test did not run"
        cleanup = self.cleanups.pop(item.nodeid, {}) or {}
        learner = self.learners.pop(item.nodeid, None)
        if cleanup.get("oom") and status in ("failed", "error", "crashed"):
            limit = self.config.get("limits", {}).get("memory_mb", 256)
            status, message = "memory-limit", f"a learner process was killed for using more than {limit} MB"
        if status == "timeout" and cleanup.get("stopped"):
            message = f"{message}: {_stopped_note(cleanup['stopped'])}"
        if status == "timeout" and cleanup.get("driver_stopped"):
            message = (f"{message}: the submission stopped the sandbox's driver, which answers for it "
                       "(possible only under --sandbox local)")
        if cleanup.get("pids_limit_hit") and status in PIDS_LIMIT_EXPLAINS:
            # the limit is the cause, whatever it looked like (a fork that never returned, a call that
            # timed out, an assert on what came back): said first, and an error rather than a timeout
            pids = self.config.get("limits", {}).get("pids", 64)
            message = f"the process limit ({pids} processes and threads) was reached: {message}"
            status = "crashed" if status == "crashed" else "error"
        if cleanup.get("truncated") and status == "passed":
            status, message = "output-limit", "the submission printed more than the output cap"
        output = str(cleanup.get("output", ""))
        if extra:
            output = (output + ("\n" if output and not output.endswith("\n") else "") + extra) if output else extra
        record = {
            "kind": "test",
            "name": self.names.get(item.nodeid, item.name),
            "status": status,
            "message": _cap(message, MESSAGE_CAP),
            "output": _cap_output(output),
            "duration_ms": int((time.monotonic() - self.started.get(item.nodeid, time.monotonic())) * 1000),
            "weight": _weight(item),
        }
        if learner is not None and cleanup.get("leftovers"):
            record["leftovers"] = [str(x)[:100] for x in cleanup["leftovers"][:20]]
        self.emit(record)


class _Internal(Exception):
    """The sandbox failed: not the learner's fault."""


PIDS_LIMIT_EXPLAINS = ("failed", "error", "timeout", "crashed")  # memory and output limits say their own cause


def _stopped_note(stopped: list) -> str:
    """Why a call never returned when the submission stopped a process (SIGSTOP, SIGTSTP...)."""
    said = "; ".join(str(s)[:120] for s in stopped[:5])
    return f"{said}, and nothing sent it SIGCONT"


STATUS_ORDER = ["passed", "failed", "error", "timeout", "memory-limit", "crashed", "output-limit", "internal-error"]


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status)


def _classify(excinfo, test_seconds: float) -> tuple[tuple[str, str], str]:
    """(status, message) and extra output for the exception that ended a phase."""
    if excinfo is None:
        return ("error", "the hidden test failed without an exception"), ""
    exc = excinfo.value
    if isinstance(exc, TestTimeout):
        if exc.waiting_on:
            return ("timeout", f"{exc.waiting_on} did not return within the test's {test_seconds:g} s"), ""
        return ("timeout", f"the test did not finish within {test_seconds:g} s"), ""
    if isinstance(exc, LearnerTimeout):
        return ("timeout", str(exc)), ""
    if isinstance(exc, LearnerDied):
        if exc.reason == "oom":
            return ("memory-limit", str(exc)), ""
        if exc.reason == "output-limit":
            return ("output-limit", str(exc)), ""
        if exc.reason == "signal":
            return ("crashed", str(exc)), ""
        return ("error", str(exc)), ""
    if isinstance(exc, LearnerImportError):
        return ("error", f"importing the submission failed: {exc.type}: {exc.message}"), exc.traceback
    if isinstance(exc, client.LearnerBuildError):
        return ("error", NOT_COMPILED), ""
    if isinstance(exc, LearnerError):
        if exc.is_a("MemoryError"):
            return ("memory-limit", f"{exc.what} ran out of memory (MemoryError)"), exc.traceback
        return ("error", str(exc)), exc.traceback
    if isinstance(exc, (_Internal, HarnessError)):
        return ("internal-error", str(exc)), ""
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return ("failed", text or "a check of the hidden test failed (it gave no message)"), ""
    return ("error", f"the hidden test stopped on {type(exc).__name__}: {_cap(str(exc), 300)}"), ""


def _skip_reason(report) -> str:
    try:
        return str(report.longrepr[2])[:300]
    except (TypeError, IndexError):
        return ""


def _cards(item) -> list[str]:
    """The card ids of the test's `cards` markers (on the test, its class or its module)."""
    found: list[str] = []
    for marker in item.iter_markers("cards"):
        found += [str(card) for card in marker.args if str(card) not in found]
    return found


def _weight(item) -> float:
    marker = item.get_closest_marker("weight")
    if marker and marker.args:
        try:
            return float(marker.args[0])
        except (TypeError, ValueError):
            return 1.0
    return 1.0


def _cap(text, limit: int):
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


def _cap_output(text: str) -> str:
    if len(text) <= OUTPUT_SHOWN:
        return text
    return text[:OUTPUT_SHOWN] + f"\n... ({len(text) - OUTPUT_SHOWN} more characters)"


def _on_alarm(signum, frame):
    raise TestTimeout(client.waiting_on)


def _arm(seconds: float) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))


def _disarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
