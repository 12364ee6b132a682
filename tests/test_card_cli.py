"""`prep card`: one card's progress, and suspending cards outside a session, checked against the quiz's own plan."""

from __future__ import annotations

import json
from datetime import timedelta

from prep import store
from prep.scheduling import RELEARNING, REVIEW

from .conftest import run_cli
from .quizkit import T0, log_review, put_state


def env_for(tiny_bank, db_path, now=T0):
    return {"PREP_BANK": str(tiny_bank), "PREP_DB": str(db_path), "PREP_NOW": now.isoformat()}


def due_ids(runner, env) -> set[str]:
    result = run_cli(runner, "due", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    return {c["id"] for c in json.loads(result.stdout)["cards"]}


def test_suspend_keeps_cards_out_of_the_quiz_until_unsuspended(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    assert {"zombie-definition", "handshake-order"} <= due_ids(runner, env)
    result = run_cli(runner, "card", "suspend", "zombie-definition", "handshake-order", env=env)
    assert result.exit_code == 0, result.stderr
    assert "zombie-definition: suspended" in result.stderr
    assert not {"zombie-definition", "handshake-order"} & due_ids(runner, env)
    held = json.loads(run_cli(runner, "card", "held", "--json", env=env).stdout)
    assert [(r["id"], r["held"]) for r in held] == [("handshake-order", "suspended"), ("zombie-definition", "suspended")]
    again = run_cli(runner, "card", "suspend", "zombie-definition", env=env)
    assert "zombie-definition: already suspended" in again.stderr
    back = run_cli(runner, "card", "unsuspend", "zombie-definition", env=env)
    assert back.exit_code == 0 and "zombie-definition: back in the quiz" in back.stderr
    assert "zombie-definition" in due_ids(runner, env) and "handshake-order" not in due_ids(runner, env)


def test_an_unknown_id_changes_nothing(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    result = run_cli(runner, "card", "suspend", "zombie-definition", "zombie-defintion", env=env)
    assert result.exit_code == 1
    assert "no card with id 'zombie-defintion'" in result.stderr and "nothing changed" in result.stderr
    assert json.loads(run_cli(runner, "card", "held", "--json", env=env).stdout) == []


def test_unsuspend_also_ends_a_bury_and_keeps_the_schedule(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    put_state(db, "zombie-definition", REVIEW, T0 - timedelta(days=1), buried_until=T0 + timedelta(hours=12))
    env = env_for(tiny_bank, db_path)
    held = json.loads(run_cli(runner, "card", "held", "--json", env=env).stdout)
    assert [(r["id"], r["held"]) for r in held] == [("zombie-definition", "buried")]
    assert "zombie-definition" not in due_ids(runner, env)
    run_cli(runner, "card", "unsuspend", "zombie-definition", env=env)
    assert "zombie-definition" in due_ids(runner, env)
    row = store.card_state_row(store.open_db(db_path), "zombie-definition")
    assert (row["state"], row["due"], row["buried_until"]) == (REVIEW, store.iso(T0 - timedelta(days=1)), None)


def test_info_shows_the_schedule_lapses_and_log(runner, tiny_bank, db_path):
    db = store.open_db(db_path)
    day = timedelta(days=1)
    log_review(db, "zombie-definition", 3, T0 - 30 * day, interval_days=20)
    log_review(db, "zombie-definition", 1, T0 - 10 * day, state_after=RELEARNING, interval_days=0.01)
    log_review(db, "zombie-definition", 3, T0 - 10 * day + timedelta(minutes=10), interval_days=9)
    log_review(db, "zombie-definition", 1, T0 - day, kind="cram", interval_days=None)
    put_state(db, "zombie-definition", REVIEW, T0 - day, T0 - 10 * day, stability=9.0, difficulty=6.5)
    result = run_cli(runner, "card", "info", "zombie-definition", "--json", env=env_for(tiny_bank, db_path))
    assert result.exit_code == 0, result.stderr
    d = json.loads(result.stdout)
    assert (d["state"], d["lapses"], d["reviews"], len(d["log"])) == ("review", 1, 3, 4)  # cramming is logged, not counted
    assert d["location"].endswith("processes.yaml:21") and d["in_bank"]
    assert (d["stability"], d["difficulty"], d["interval_days"]) == (9.0, 6.5, 9.0)
    assert 0.5 < d["recall_now"] < 1.0
    human = run_cli(runner, "card", "info", "zombie-definition", env=env_for(tiny_bank, db_path))
    assert "lapses      1" in human.stdout and "cram" in human.stdout and "Again" in human.stdout


def test_info_of_a_card_gone_from_the_bank_keeps_its_history(runner, tiny_bank, db_path):
    log_review(store.open_db(db_path), "old-card", 3, T0 - timedelta(days=3))
    d = json.loads(run_cli(runner, "card", "info", "old-card", "--json", env=env_for(tiny_bank, db_path)).stdout)
    assert (d["in_bank"], d["location"], len(d["log"])) == (False, None, 1)
    missing = run_cli(runner, "card", "info", "never-was", env=env_for(tiny_bank, db_path))
    assert missing.exit_code == 1 and "no card with id 'never-was'" in missing.stderr


def test_info_and_due_show_the_prompt_in_the_chosen_language(runner, tiny_bank, db_path):
    env = env_for(tiny_bank, db_path)
    d = json.loads(run_cli(runner, "card", "info", "zombie-definition", "--json", "--lang", "zh", env=env).stdout)
    assert (d["prompt"], d["lang"]) == ("什么是僵尸进程？", "zh")
    assert "What is a zombie process?" in run_cli(runner, "card", "info", "zombie-definition", env=env).stdout
    rows = json.loads(run_cli(runner, "due", "--json", "--lang", "zh", env=env).stdout)["cards"]
    assert {r["id"]: r["prompt"] for r in rows}["zombie-definition"] == "什么是僵尸进程？"
