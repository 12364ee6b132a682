"""The card loader: every class of mistake reported with its file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prep import cards
from prep.errors import BankError

from .conftest import REPO


def lint(folder: Path, exercises: set[str] | None = None) -> list[str]:
    _, problems = cards.lint_bank(folder, exercises if exercises is not None else set())
    return [str(p) for p in problems]


def test_tiny_bank_is_clean(tiny_bank):
    bank = cards.load_bank(tiny_bank, set())
    assert [c.id for c in bank.cards][:2] == ["fork-return-values", "zombie-definition"]
    card = bank.card("time-wait-duration")
    assert (card.topic, card.file, card.line) == ("tcp", "tcp.yaml", 4)
    assert card.ref_list[0].url.startswith("https://")


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture drifted: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_bad_yaml_is_reported_with_its_line(tiny_bank):
    replace(tiny_bank / "tcp.yaml", "    tags: [time-wait]", "    tags: [time-wait")
    problems = lint(tiny_bank)
    assert len(problems) == 1
    assert problems[0].startswith("tcp.yaml:9: -: bad YAML: while parsing a flow sequence")


def test_missing_field(tiny_bank):
    replace(tiny_bank / "processes.yaml", "    prompt:\n      en: What is a zombie process?\n      zh: 什么是僵尸进程？\n", "")
    assert lint(tiny_bank) == ["processes.yaml:21: zombie-definition: `prompt` is missing"]


def test_mistyped_field(tiny_bank):
    replace(tiny_bank / "processes.yaml", "    difficulty: easy\n    refs: [\"wait(2)\"]", "    difficulty: trivial\n    refs: [\"wait(2)\"]")
    assert lint(tiny_bank) == [
        "processes.yaml:31: zombie-definition: `difficulty`: input should be 'easy', 'medium' or 'hard', not 'trivial'"
    ]


def test_unknown_field(tiny_bank):
    replace(tiny_bank / "processes.yaml", "    zh: [僵尸进程]", "    zh: [僵尸进程]\n    hint: think of ghosts")
    assert lint(tiny_bank) == [
        "processes.yaml:35: zombie-definition: unknown field `hint` (see docs/cards.md for the fields)"
    ]


def test_duplicate_id_across_files(tiny_bank):
    replace(tiny_bank / "processes.yaml", "id: zombie-definition", "id: time-wait-duration")
    assert lint(tiny_bank) == ["tcp.yaml:4: time-wait-duration: duplicate id: also at processes.yaml:21"]


def test_choice_card_without_a_correct_choice(tiny_bank):
    replace(tiny_bank / "tcp.yaml", "      - text: 60 s, fixed\n        correct: true", "      - text: 60 s, fixed\n        why: it is right")
    assert lint(tiny_bank) == ["tcp.yaml:17: time-wait-duration: no choice is marked `correct: true`"]


def test_wrong_choice_without_why(tiny_bank):
    replace(tiny_bank / "tcp.yaml", "        why: tcp_fin_timeout governs orphaned FIN_WAIT2 sockets.\n", "")
    assert lint(tiny_bank) == ["tcp.yaml:20: time-wait-duration: a wrong choice needs `why` (the misconception)"]


def test_unknown_topic(tiny_bank):
    replace(tiny_bank / "processes.yaml", "topic: processes", "topic: procs")
    assert lint(tiny_bank) == ["processes.yaml:2: -: unknown topic 'procs': declare it in topics.yaml"]


def test_dangling_exercise_link(tiny_bank):
    replace(tiny_bank / "processes.yaml", "    zh: [返回值]", "    zh: [返回值]\n    exercise: run-command")
    assert lint(tiny_bank, exercises={"half-close"}) == [
        "processes.yaml:4: fork-return-values: `exercise: run-command` names no exercise in exercises/"
    ]
    assert lint(tiny_bank, exercises={"run-command"}) == []


def test_every_problem_reported_in_one_run_and_nothing_loaded(tiny_bank):
    replace(tiny_bank / "processes.yaml", "topic: processes", "topic: procs")
    replace(tiny_bank / "tcp.yaml", "    type: recall", "    type: essay")
    assert lint(tiny_bank) == [
        "processes.yaml:2: -: unknown topic 'procs': declare it in topics.yaml",
        "tcp.yaml:25: close-shared-socket: `type`: input should be 'recall', 'single', 'multi', 'short' or 'order', not 'essay'",
    ]
    with pytest.raises(BankError) as caught:
        cards.load_bank(tiny_bank, set())
    assert len(caught.value.problems) == 2


def test_short_answer_matching_is_forgiving_but_not_wrong(tiny_bank):
    card = cards.load_bank(tiny_bank, set()).card("shutdown-write-constant")
    for typed in ("SHUT_WR", "shut_wr", " `SHUT_WR`. ", "shutdown(fd,  SHUT_WR)"):
        assert card.accepts(typed), typed
    for typed in ("SHUT_RD", "SHUT_RDWR", "", "close"):
        assert not card.accepts(typed), typed


def test_committed_schema_is_current():
    committed = (REPO / "bank" / cards.SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == cards.schema_text(), "bank/cards.schema.json is stale: run `prep bank schema --write`"


def test_every_card_file_references_the_schema():
    for path in cards.card_files(REPO / "bank"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={cards.SCHEMA_FILE}", path.name


def test_schema_validates_the_tiny_bank_and_rejects_a_bad_card(tiny_bank):
    import jsonschema
    import yaml

    schema = cards.card_file_schema()
    data = yaml.safe_load((tiny_bank / "tcp.yaml").read_text())
    jsonschema.validate(data, schema)
    data["cards"][0]["type"] = "essay"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_shipped_bank_is_clean():
    from prep import content

    _, problems = cards.lint_bank(REPO / "bank", content.exercise_slugs())
    assert [str(p) for p in problems] == []
