"""Every exercise, graded in the real sandbox: the reference passes, each wrong
solution (the reference with its mistake.patch applied) fails the hidden tests
its WHY.md names, the starter fails clearly.

These are the slowest tests of the suite (a few minutes in all): they are what
proves the hidden tests catch the mistakes they were written for.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from prep import cards, content, exercises, grading

from tests.redteam.harness import require_docker

REPO = Path(__file__).resolve().parent.parent
GRADER = REPO / "grader"
SOLUTIONS = GRADER / "solutions"
SLUGS = sorted(p.parent.name for p in (REPO / "exercises").glob("*/exercise.yaml"))
WRONG = [(slug, name) for slug in SLUGS for name in exercises.wrong_solutions(GRADER, slug)]
CORRECT = [(slug, name) for slug in SLUGS for name in exercises.correct_solutions(GRADER, slug)]


@pytest.fixture(scope="module")
def docker_backend():
    return require_docker()


@pytest.fixture(scope="module")
def catalog():
    return exercises.load_catalog(content.exercises_dir())


def grade(catalog, slug: str, folder: Path, backend) -> dict:
    exercise = catalog.get(slug)
    return grading.grade(exercise, grading.collect(exercise, folder), backend)


# Every grading of this module, run a few at a time on first use: most of a grading is waiting (a
# container starting, a wrong solution's test running out its time limit), so they overlap well.
# Each test then checks its own result. PREP_TEST_GRADERS sets how many run at once.
GRADERS = int(os.environ.get("PREP_TEST_GRADERS", "3"))
JOBS = ([("reference", slug, "") for slug in SLUGS] + [("starter", slug, "") for slug in SLUGS]
        + [("correct", slug, name) for slug, name in CORRECT] + [("wrong", slug, name) for slug, name in WRONG])


KIND_OF_TEST = {"test_reference_passes": "reference", "test_starter_fails_clearly": "starter",
                "test_alternative_correct_solution_passes": "correct", "test_wrong_solution_fails_for_its_reason": "wrong"}


def selected_jobs(items) -> list[tuple[str, str, str]]:
    """The gradings the selected tests need (all of them unless `-k` or node ids chose fewer)."""
    wanted = set()
    for item in items:
        kind = KIND_OF_TEST.get(getattr(item, "originalname", ""))
        if kind is not None and item.module.__name__ == __name__:
            params = item.callspec.params
            wanted.add((kind, params["slug"], params.get("name", "")))
    return [job for job in JOBS if job in wanted]


@pytest.fixture(scope="module")
def graded(request, catalog, docker_backend, tmp_path_factory):
    def run(job):
        kind, slug, name = job
        if kind == "reference":
            folder = SOLUTIONS / slug / "reference"
        elif kind == "starter":
            folder = content.exercises_dir() / slug / "starter"
        elif kind == "correct":
            folder = SOLUTIONS / slug / "correct" / name
        else:
            folder = tmp_path_factory.mktemp(f"{slug}-{name}")
            exercises.materialise_wrong(GRADER, slug, name, folder)
        return grade(catalog, slug, folder, docker_backend)

    with ThreadPoolExecutor(max_workers=GRADERS) as pool:
        futures = {job: pool.submit(run, job) for job in selected_jobs(request.session.items)}
    results = {}
    for job, future in futures.items():
        try:
            results[job] = future.result()
        except Exception as exc:  # noqa: BLE001 - reported by the test of that job, not by all of them
            results[job] = exc
    return results


def result_of(graded, *job) -> dict:
    result = graded[job]
    if isinstance(result, Exception):
        raise result
    return result


def must_fail(why_md: Path) -> set[str]:
    """The hidden tests a wrong solution's WHY.md names after "Must fail"."""
    text = why_md.read_text(encoding="utf-8")
    parts = re.split(r"Must\s+fail", text, maxsplit=1)
    assert len(parts) == 2, f"{why_md.relative_to(REPO)} does not say which hidden tests must fail (`Must fail: ...`)"
    return set(re.findall(r"`(test_\w+(?:\[[^\]]+\])?)`", parts[1]))


def unmet(named: set[str], failing: set[str]) -> list[str]:
    """Named tests that did not fail; a name without parameters stands for any of its cases."""
    return sorted(n for n in named if n not in failing and not any(f.startswith(n + "[") for f in failing))


def not_passed(result: dict) -> list[tuple[str, str, str]]:
    return [(t["name"], t["status"], (t.get("message") or "")[:200]) for t in result["tests"] if t["status"] != "passed"]


def test_there_are_at_least_fourteen_exercises_each_with_three_wrong_solutions():
    assert len(SLUGS) >= 14, SLUGS
    for slug in SLUGS:
        wrong = [name for s, name in WRONG if s == slug]
        assert len(wrong) >= 3, f"{slug} has {len(wrong)} wrong solutions"
        assert (SOLUTIONS / slug / "reference").is_dir(), f"{slug} has no reference solution"


def test_every_exercise_links_two_cards_that_link_back(catalog):
    bank = cards.load_bank(content.bank_dir(), content.exercise_slugs())
    for slug in SLUGS:
        linked = list(catalog.get(slug).cards)
        assert len(linked) >= 2, f"{slug} links {len(linked)} cards"
        for card_id in linked:
            assert bank.card(card_id).exercise == slug, f"{slug} names {card_id}, whose `exercise` is {bank.card(card_id).exercise!r}"


@pytest.mark.docker
@pytest.mark.parametrize("slug", SLUGS)
def test_reference_passes(slug, graded):
    result = result_of(graded, "reference", slug, "")
    assert result["verdict"] == "passed", not_passed(result)
    assert len(result["tests"]) >= 8, f"{slug} has {len(result['tests'])} hidden tests"


@pytest.mark.docker
@pytest.mark.parametrize("slug,name", CORRECT, ids=[f"{s}/{n}" for s, n in CORRECT])
def test_alternative_correct_solution_passes(slug, name, graded):
    """Written from the statement in another style than the reference: a hidden test that rejects it
    checks the reference, not the statement."""
    result = result_of(graded, "correct", slug, name)
    assert result["verdict"] == "passed", f"{slug}/{name}: {not_passed(result)}"


@pytest.mark.docker
@pytest.mark.parametrize("slug,name", WRONG, ids=[f"{s}/{n}" for s, n in WRONG])
def test_wrong_solution_fails_for_its_reason(slug, name, graded):
    named = must_fail(SOLUTIONS / slug / "wrong" / name / "WHY.md")
    assert named, f"{slug}/{name}/WHY.md names no hidden test after 'Must fail'"
    result = result_of(graded, "wrong", slug, name)
    assert result["verdict"] != "passed", f"{slug}/{name} passed every hidden test"
    failing = {t["name"] for t in result["tests"] if t["status"] != "passed"}
    missing = unmet(named, failing)
    assert not missing, f"{slug}/{name}: WHY.md says {missing} must fail, but they passed (failing: {sorted(failing)})"


@pytest.mark.docker
@pytest.mark.parametrize("slug", SLUGS)
def test_starter_fails_clearly(slug, graded):
    result = result_of(graded, "starter", slug, "")
    assert result["verdict"] != "passed" and result["score"] < 0.5, f"{slug}'s starter scores {result['score']}"
    messages = " ".join((t.get("message") or "") for t in result["tests"])
    assert re.search(r"not ?implemented", messages, re.I), f"{slug}'s starter does not fail with 'not implemented': {messages[:300]}"


@pytest.mark.docker
def test_a_model_test_draws_the_same_cases_locally_and_in_docker(catalog, docker_backend, tmp_path):
    """`--sandbox local` runs the image's Hypothesis, so a seed draws the same cases in both: the same verdict and
    messages. tcp-state-machine's `fin-ack-in-fin-wait-1-to-closing` is found by the model test only at its 198th
    case of 200; with another Hypothesis locally, it passed that test there and failed it in Docker."""
    from prep import sandbox

    folder = tmp_path / "fin-ack"
    exercises.materialise_wrong(GRADER, "tcp-state-machine", "fin-ack-in-fin-wait-1-to-closing", folder)
    local, docker = (grade(catalog, "tcp-state-machine", folder, backend) for backend in (sandbox.LocalBackend(), docker_backend))
    assert (local["backend"], docker["backend"]) == ("local", "docker")
    statuses = {t["name"]: t["status"] for t in docker["tests"]}
    assert statuses["test_hypothesis_conversations_against_the_model"] == "failed"
    assert [(t["name"], t["status"], t["message"]) for t in local["tests"]] == [
        (t["name"], t["status"], t["message"]) for t in docker["tests"]]
