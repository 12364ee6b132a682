"""The grader's contract: collecting a submission, the result document, golden cases.

Golden cases (tests/fixtures/grading/cases/<case>/ with expected.json beside the
submission) run the real judge with the local backend, and with Docker when an
engine is there; the expected document is the same for both. Regenerate after a
deliberate change with `PREP_UPDATE_GOLDEN=1 pytest tests/test_grading.py -k golden`
and read the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from prep import exercises, grading, sandbox
from prep.errors import InputError

from tests.redteam.harness import require_docker

FIXTURES = Path(__file__).parent / "fixtures" / "grading"
CASES = sorted(p.name for p in (FIXTURES / "cases").iterdir() if p.is_dir())


def golden_exercise() -> exercises.Exercise:
    problems: list = []
    exercise = exercises.load_exercise(FIXTURES / "exercise", problems)
    assert exercise is not None, problems
    return exercise


def normalise(result: dict) -> dict:
    """What a golden file pins: everything but durations, the backend and machine paths."""

    def text(value):
        if value is None:
            return None
        value = re.sub(r'File "[^"]*/submission/', 'File "<submission>/', value)
        return re.sub(r"(program|process) \d+", r"\1 <pid>", value)

    return {
        "version": result["version"],
        "verdict": result["verdict"],
        "score": result["score"],
        "message": text(result["message"]),
        "counts_as_attempt": result["counts_as_attempt"],
        "tests": [
            {"name": t["name"], "status": t["status"], "message": text(t["message"]), "output": text(t["output"]), "weight": t["weight"]}
            for t in result["tests"]
        ],
    }


def run_case(case: str, backend) -> dict:
    folder = FIXTURES / "cases" / case
    exercise = golden_exercise()
    submission = grading.collect(exercise, folder)
    return grading.grade(exercise, submission, backend, hidden_dir=FIXTURES / "hidden")


# ------------------------------------------------------------------ golden cases


@pytest.fixture(scope="session")
def docker_backend():
    return require_docker()


@pytest.mark.parametrize("case", CASES)
def test_golden_local(case):
    result = run_case(case, sandbox.LocalBackend())
    assert result["backend"] == "local"
    expected_file = FIXTURES / "cases" / case / "expected.json"
    got = normalise(result)
    if os.environ.get("PREP_UPDATE_GOLDEN"):
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_file.read_text())


@pytest.mark.docker
@pytest.mark.parametrize("case", CASES)
def test_golden_docker(case, docker_backend):
    result = run_case(case, docker_backend)
    assert result["backend"] == "docker"
    expected = json.loads((FIXTURES / "cases" / case / "expected.json").read_text())
    assert normalise(result) == expected


def test_golden_cases_cover_every_learner_status():
    seen = set()
    for case in CASES:
        expected = json.loads((FIXTURES / "cases" / case / "expected.json").read_text())
        seen |= {t["status"] for t in expected["tests"]}
    assert {"passed", "failed", "error", "timeout", "crashed"} <= seen


def test_no_canary_in_golden_results():
    for case in CASES:
        assert "PREP-CANARY" not in (FIXTURES / "cases" / case / "expected.json").read_text()


# ------------------------------------------------------------------ the verdict from records


def raw(records, **kw) -> sandbox.RawRun:
    return sandbox.RawRun(backend="docker", records=records, duration_ms=1200, **kw)


PLAN = {"kind": "plan", "tests": [{"name": "test_a", "weight": 1}, {"name": "test_b", "weight": 3}, {"name": "test_c", "weight": 1}]}


def rec(name, status, message=None, output=""):
    return {"kind": "test", "name": name, "status": status, "message": message, "output": output, "duration_ms": 5, "weight": 1}


def test_all_passed():
    result = grading.assemble(raw([PLAN, rec("test_a", "passed"), rec("test_b", "passed"), rec("test_c", "passed"), {"kind": "done"}]), golden_exercise())
    assert result["verdict"] == "passed"
    assert result["score"] == 1.0
    assert result["message"] is None
    assert [t["weight"] for t in result["tests"]] == [1.0, 3.0, 1.0]


def test_worst_status_wins_and_score_is_weighted():
    records = [PLAN, rec("test_a", "passed"), rec("test_b", "failed", "b is wrong"), rec("test_c", "timeout", "slow")]
    result = grading.assemble(raw(records), golden_exercise())
    assert result["verdict"] == "timeout"
    assert result["score"] == 0.2  # 1 of 5 weight units
    assert result["message"] == "2 of 3 tests did not pass; timeout in test_c"
    assert result["tests"][1]["message"] == "b is wrong"


@pytest.mark.parametrize(
    "statuses, verdict",
    [
        (["failed", "error"], "error"),
        (["error", "timeout"], "timeout"),
        (["timeout", "memory-limit"], "memory-limit"),
        (["memory-limit", "crashed"], "crashed"),
        (["crashed", "output-limit"], "output-limit"),
        (["output-limit", "internal-error"], "internal-error"),
        (["passed", "failed"], "failed"),
    ],
)
def test_status_order(statuses, verdict):
    plan = {"kind": "plan", "tests": [{"name": f"t{i}", "weight": 1} for i in range(len(statuses))]}
    records = [plan] + [rec(f"t{i}", s) for i, s in enumerate(statuses)]
    assert grading.assemble(raw(records), golden_exercise())["verdict"] == verdict


def test_a_test_without_record_is_an_error_never_a_pass():
    result = grading.assemble(raw([PLAN, rec("test_a", "passed"), rec("test_c", "passed")]), golden_exercise())
    assert result["verdict"] == "error"
    assert result["tests"][1] == {
        "name": "test_b", "status": "error", "message": "no result was recorded for this test",
        "output": "", "duration_ms": 0, "weight": 3.0, "cards": [],
    }


def test_killed_by_the_wall_clock():
    result = grading.assemble(raw([PLAN, rec("test_a", "passed")], killed_after=50.0), golden_exercise())
    assert [t["status"] for t in result["tests"]] == ["passed", "timeout", "error"]
    assert result["tests"][1]["message"] == "the submission's 30 s limit was reached during this test"
    assert result["tests"][2]["message"] == "not run: the submission's time limit was reached before this test"
    assert result["verdict"] == "timeout"


def test_engine_failure_is_an_internal_error_not_an_attempt():
    result = grading.assemble(raw([], internal_error="the Docker engine failed: boom"), golden_exercise())
    assert result["verdict"] == "internal-error"
    assert result["message"] == "the Docker engine failed: boom"
    assert result["counts_as_attempt"] is False
    assert result["score"] == 0.0


def test_judge_error_is_an_internal_error():
    records = [{"kind": "error", "message": "the hidden tests could not be collected: test_x.py"}]
    result = grading.assemble(raw(records), golden_exercise())
    assert (result["verdict"], result["message"]) == ("internal-error", "the hidden tests could not be collected: test_x.py")


def test_no_plan_is_an_internal_error():
    result = grading.assemble(raw([rec("test_a", "passed")]), golden_exercise())
    assert result["verdict"] == "internal-error"
    assert result["tests"] == []


def test_forged_records_cannot_add_tests_or_unknown_statuses():
    records = [PLAN, rec("test_a", "passed"), rec("test_b", "super-passed"), rec("test_zzz", "passed"), rec("test_c", "passed")]
    result = grading.assemble(raw(records), golden_exercise())
    assert [t["name"] for t in result["tests"]] == ["test_a", "test_b", "test_c"]
    assert result["tests"][1]["status"] == "error"


def test_first_record_of_a_name_wins():
    records = [PLAN, rec("test_a", "failed", "no"), rec("test_a", "passed"), rec("test_b", "passed"), rec("test_c", "passed")]
    assert grading.assemble(raw(records), golden_exercise())["verdict"] == "failed"


def test_parse_records_needs_the_nonce():
    nonce = "a" * 32
    stream = (
        f'PREP-RESULT {nonce} {{"kind": "plan", "tests": []}}\n'
        'PREP-RESULT bbbb {"kind": "test", "name": "x", "status": "passed"}\n'
        f"PREP-RESULT {nonce} not json\n"
        'noise\n'
    ).encode()
    assert sandbox.parse_records(stream, nonce) == [{"kind": "plan", "tests": []}]


def test_performance_is_reported_with_its_name():
    exercise = golden_exercise().model_copy(update={"performance": exercises.Performance(name="ops per second")})
    exercise._slug = "golden"
    records = [PLAN, rec("test_a", "passed"), rec("test_b", "passed"), rec("test_c", "passed"),
               {"kind": "performance", "value": 812.5, "baseline": 400}]
    perf = grading.assemble(raw(records), exercise)["performance"]
    assert perf == {"name": "ops per second", "higher_is_better": True, "value": 812.5, "baseline": 400.0}


def test_gcc_warnings_are_carried_into_the_result():
    warning = "prog.c:3:5: warning: unused variable ‘x’ [-Wunused-variable]\n"
    records = [PLAN, {"kind": "build", "status": "passed", "output": warning, "duration_ms": 812, "limit_seconds": 60},
               rec("test_a", "passed"), rec("test_b", "passed"), rec("test_c", "passed")]
    result = grading.assemble(raw(records), golden_exercise())
    assert result["verdict"] == "passed" and result["message"] is None
    assert result["build"] == {"status": "passed", "output": warning, "duration_ms": 812}


def test_without_a_compile_there_is_no_build():
    result = grading.assemble(raw([PLAN, rec("test_a", "passed"), rec("test_b", "passed"), rec("test_c", "passed")]), golden_exercise())
    assert result["build"] is None


def test_a_compile_error_is_the_runs_message():
    gcc = "prog.c:1:26: error: expected ‘;’ before ‘}’ token\n"
    pointer = "the C sources did not compile: gcc's output is given once, before the tests"
    records = [PLAN, {"kind": "build", "status": "failed", "output": gcc, "duration_ms": 20, "limit_seconds": 60}]
    records += [rec(name, "error", pointer) for name in ("test_a", "test_b", "test_c")]
    result = grading.assemble(raw(records), golden_exercise())
    assert result["verdict"] == "error"
    assert result["message"] == "the C sources did not compile:\n" + gcc.rstrip()
    assert result["build"]["status"] == "failed"
    assert {t["message"] for t in result["tests"]} == {pointer}


def test_a_compile_stopped_at_its_budget_says_so():
    records = [PLAN, {"kind": "build", "status": "timeout", "output": "", "duration_ms": 60000, "limit_seconds": 60}]
    result = grading.assemble(raw(records), golden_exercise())
    assert result["message"] == "the C sources did not compile: gcc did not finish within 60 s and was stopped"
    assert result["build"] == {"status": "timeout", "output": "", "duration_ms": 60000}


def test_a_build_record_with_an_unknown_status_is_ignored():
    records = [PLAN, {"kind": "build", "status": "super", "output": "x"}, rec("test_a", "passed"), rec("test_b", "passed"),
               rec("test_c", "passed")]
    result = grading.assemble(raw(records), golden_exercise())
    assert result["build"] is None and result["verdict"] == "passed"


# ------------------------------------------------------------------ collecting a submission


@pytest.fixture
def ex():
    return golden_exercise()


def write(folder: Path, name: str, text: str = "def add(a, b):\n    return a + b\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_collect_takes_only_whitelisted_files(tmp_path, ex):
    write(tmp_path, "calc.py")
    write(tmp_path, "helper.py", "X = 1\n")
    for planted in ("conftest.py", "sitecustomize.py", "evil.pth", "pytest.ini", "notes.txt"):
        write(tmp_path, planted, "import os\n")
    (tmp_path / "tests").mkdir()
    submission = grading.collect(ex, tmp_path)
    assert sorted(submission.files) == ["calc.py", "helper.py"]
    assert sorted(submission.ignored) == ["conftest.py", "evil.pth", "notes.txt", "pytest.ini", "sitecustomize.py", "tests"]


def test_collect_a_single_file(tmp_path, ex):
    path = write(tmp_path, "calc.py")
    write(tmp_path, "conftest.py")
    assert list(grading.collect(ex, path).files) == ["calc.py"]


def test_collect_refuses_a_file_that_is_not_whitelisted(tmp_path, ex):
    path = write(tmp_path, "solution.py")
    with pytest.raises(InputError, match=r"solution.py is not a file of .* \(a submission may contain: calc.py, helper.py\)"):
        grading.collect(ex, path)


def test_collect_refuses_a_symlink_to_a_host_path(tmp_path, ex):
    (tmp_path / "calc.py").symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="is a symbolic link: submit the file itself"):
        grading.collect(ex, tmp_path)


def test_collect_refuses_a_symlinked_folder(tmp_path, ex):
    real = tmp_path / "real"
    write(real, "calc.py")
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(InputError, match="is a symbolic link: submit the file or folder itself"):
        grading.collect(ex, tmp_path / "link")


def test_collect_refuses_a_hard_link(tmp_path, ex):
    outside = write(tmp_path / "elsewhere", "secret.py", "SECRET = 1\n")
    (tmp_path / "sub").mkdir()
    os.link(outside, tmp_path / "sub" / "calc.py")
    with pytest.raises(InputError, match=r"is a hard link \(2 names\)"):
        grading.collect(ex, tmp_path / "sub")


def test_collect_needs_the_entry_file(tmp_path, ex):
    write(tmp_path, "helper.py")
    with pytest.raises(InputError, match="calc.py is missing: the submission's entry file"):
        grading.collect(ex, tmp_path)


def test_collect_refuses_what_is_not_utf8_or_too_big(tmp_path, ex):
    (tmp_path / "calc.py").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match=r"is not UTF-8 text \(byte 0\)"):
        grading.collect(ex, tmp_path)
    (tmp_path / "calc.py").write_bytes(b"#" * (grading.MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="KB per file"):
        grading.collect(ex, tmp_path)


def test_collect_refuses_a_fifo(tmp_path, ex):
    os.mkfifo(tmp_path / "calc.py")
    with pytest.raises(InputError, match="is not a regular file"):
        grading.collect(ex, tmp_path)


def test_collect_missing_path(tmp_path, ex):
    with pytest.raises(InputError, match="does not exist"):
        grading.collect(ex, tmp_path / "nope")


def test_code_hash_is_stable_and_covers_names(ex):
    a = grading.Submission(files={"calc.py": b"x", "helper.py": b"y"})
    b = grading.Submission(files={"helper.py": b"y", "calc.py": b"x"})
    c = grading.Submission(files={"calc.py": b"y", "helper.py": b"x"})
    assert a.code_hash == b.code_hash != c.code_hash


# ------------------------------------------------------------------ the hidden-test API itself

API = FIXTURES / "api"
API_EXPECTED = {
    "test_timeout_names_the_call": ("timeout", "sleep() did not return within the test's 5 s"),
    "test_death_is_reported": ("crashed", "the submission's process was killed by SIGKILL (during values())"),
}


def api_result(backend) -> dict:
    problems: list = []
    exercise = exercises.load_exercise(API / "exercise", problems)
    assert exercise is not None, problems
    submission = grading.collect(exercise, API / "exercise" / "starter")
    return grading.grade(exercise, submission, backend, hidden_dir=API / "hidden")


def check_api(result: dict) -> None:
    for test in result["tests"]:
        expected = API_EXPECTED.get(test["name"], ("passed", None))
        assert (test["status"], test["message"]) == expected, test


def test_api_local():
    check_api(api_result(sandbox.LocalBackend()))


@pytest.mark.docker
def test_api_docker(docker_backend):
    check_api(api_result(docker_backend))


# ------------------------------------------------------------------ the learner's interpreter

NESTED_IMPORT_TEST = r'''
"""A SIGCHLD handled inside the handler's own first os.wait3(), while that call imports `resource`."""

HELPER = r"""
import os, signal, sys, time

def run(reaper):
    bootstrap = sys.modules["_frozen_importlib"]
    fired = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name != "acquire" or "_bootstrap" not in frame.f_code.co_filename:
            return None

        def inside(frame, event, arg):
            # Once this thread is registered as blocking on a module lock: a signal now runs a
            # nested handler in the middle of the import machinery.
            if event == "line" and not fired and frame.f_locals.get("tid") in bootstrap._blocking_on:
                fired.append(True)
                os.kill(os.getpid(), signal.SIGCHLD)
            return inside
        return inside

    pids = [reaper.spawn(["sleep", "0.2"]), reaper.spawn(["sleep", "0.6"])]
    sys.settrace(tracer)
    try:
        end = time.monotonic() + 5
        while time.monotonic() < end and not all(p in reaper.statuses() for p in pids):
            time.sleep(0.01)
        return {"error": None, "reaped": sum(p in reaper.statuses() for p in pids)}
    except BaseException as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "reaped": None}
    finally:
        sys.settrace(None)
"""


def test_nested_sigchld_during_the_first_wait3(learner):
    ns = learner.exec(HELPER)
    reaper = learner.call("Reaper")
    report = ns.start_main("run", reaper).result(timeout=10)
    assert report == {"error": None, "reaped": 2}, report
'''


def test_a_signal_nested_in_the_first_wait3_does_not_fail_correct_code(tmp_path):
    """os.wait3 imports `resource` on its first call. A SIGCHLD handled during that import, in
    a handler that calls wait3 again, made Python 3.11's import bookkeeping raise KeyError(thread
    id) out of a correct submission (seen once in a whole run). The learner's interpreter loads
    `resource` before the submission, so the import never happens in a handler."""
    catalog = exercises.load_catalog(Path(__file__).parent.parent / "exercises")
    exercise = catalog.get("sigchld-reaper")
    solution = Path(__file__).parent.parent / "grader" / "solutions" / "sigchld-reaper" / "correct" / "sleep-steps-wait3"
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_nested_import.py").write_text(NESTED_IMPORT_TEST)
    result = grading.grade(exercise, grading.collect(exercise, solution), sandbox.LocalBackend(), hidden_dir=hidden)
    statuses = {t["name"]: (t["status"], t["message"]) for t in result["tests"]}
    assert statuses["test_nested_sigchld_during_the_first_wait3"] == ("passed", None), statuses
