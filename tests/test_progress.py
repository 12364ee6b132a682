"""`prep progress export|import` (docs/progress.md) and `prep bank export-anki`."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from datetime import timedelta

import genanki
import pytest

from prep import store
from prep.cards import load_bank
from prep.progress import export_progress, import_progress, validate
from prep.quiz import Options, Session, make_plan
from prep.scheduling import RELEARNING, REVIEW
from prep.settings import QuizSettings

from .conftest import run_cli
from .quizkit import BANK_ORDER, T0, Clock, index_of

SETTINGS = QuizSettings(fuzz=False)


@pytest.fixture(autouse=True)
def _quiet_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PREP_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("PREP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TZ", "UTC")


def study(db, bank, clock: Clock, ratings: list[int], **options) -> None:
    s = Session(db, index_of(bank), SETTINGS, Options(**options), clock)
    for rating in ratings:
        item = s.next_item()
        if item is None:
            break
        s.rate(item.card_id, rating, duration_ms=2500, answer="typed" if rating == 1 else None, correct=rating > 1)
        clock.advance(minutes=2)
    s.close()


@pytest.fixture
def studied(tmp_path, tiny_bank):
    """A database with a few days of reviews, a suspended card and a buried one."""
    db = store.open_db(tmp_path / "a.db")
    clock = Clock()
    study(db, tiny_bank, clock, [3, 1, 4, 3, 3, 2, 3, 3, 3, 3])
    clock.now = T0 + timedelta(days=3)
    study(db, tiny_bank, clock, [3, 1, 3, 3, 4])
    s = Session(db, index_of(tiny_bank), SETTINGS, Options(), clock)
    s.suspend("handshake-order")
    s.bury("close-shared-socket")
    return db


def strip(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in ("exported_at",)}


def test_export_has_the_documented_shape(studied):
    doc = export_progress(studied, T0)
    assert set(doc) == {"format", "version", "exported_at", "source", "cards", "reviews"}
    assert (doc["format"], doc["version"], doc["source"]) == ("prep-progress", 1, "terminal")
    some = next(iter(doc["cards"].values()))
    assert set(some) == {"state", "step", "stability", "difficulty", "due", "last_review", "suspended", "buried_until"}
    assert all(c["state"] in (1, 2, 3) for c in doc["cards"].values())  # never-reviewed cards are absent
    assert set(doc["reviews"][0]) == {"card_id", "rating", "reviewed_at", "duration_ms", "kind", "answer", "correct"}
    assert [r["reviewed_at"] for r in doc["reviews"]] == sorted(r["reviewed_at"] for r in doc["reviews"])
    assert validate(json.loads(json.dumps(doc)))["reviews"] == [
        {**r, "correct": None if r["correct"] is None else int(r["correct"])} for r in doc["reviews"]
    ]


def test_round_trip_into_an_empty_database(studied, tmp_path):
    doc = export_progress(studied, T0)
    other = store.open_db(tmp_path / "b.db")
    report = import_progress(other, validate(json.loads(json.dumps(doc))), SETTINGS)
    assert report.reviews_added == len(doc["reviews"]) and report.cards_updated == len(doc["cards"])
    assert strip(export_progress(other, T0)) == strip(doc)
    # the imported log is as useful as the original: lapses and states are rebuilt from it
    assert store.lapse_counts(other) == store.lapse_counts(studied)
    mine = {r["id"]: (r["state_after"], r["interval_days"]) for r in studied["reviews"].rows}
    theirs = [(r["state_after"], r["interval_days"]) for r in other["reviews"].rows_where(order_by="reviewed_at, id")]
    assert [mine[r["id"]] for r in studied["reviews"].rows_where(order_by="reviewed_at, id")] == theirs


def test_importing_twice_changes_nothing(studied, tmp_path):
    doc = validate(json.loads(json.dumps(export_progress(studied, T0))))
    other = store.open_db(tmp_path / "b.db")
    import_progress(other, doc, SETTINGS)
    first = (list(other["reviews"].rows), list(other["card_state"].rows))
    report = import_progress(other, doc, SETTINGS)
    assert (report.reviews_added, report.cards_updated) == (0, 0)
    assert report.reviews_known == len(doc["reviews"]) and report.cards_kept == len(doc["cards"])
    assert (list(other["reviews"].rows), list(other["card_state"].rows)) == first
    # and into the database it came from: nothing changes either
    before = (list(studied["reviews"].rows), list(studied["card_state"].rows))
    import_progress(studied, doc, SETTINGS)
    assert (list(studied["reviews"].rows), list(studied["card_state"].rows)) == before


def test_merging_two_machines_unions_the_logs_and_the_latest_schedule_wins(tmp_path, tiny_bank):
    laptop, desktop = store.open_db(tmp_path / "laptop.db"), store.open_db(tmp_path / "desktop.db")
    study(laptop, tiny_bank, Clock(T0), [3, 3, 3])
    study(desktop, tiny_bank, Clock(T0 + timedelta(hours=5)), [4, 4])  # later: its schedules win for its cards
    a, b = (validate(json.loads(json.dumps(export_progress(db, T0)))) for db in (laptop, desktop))
    import_progress(laptop, b, SETTINGS)
    import_progress(desktop, a, SETTINGS)
    for db in (laptop, desktop):
        assert db["reviews"].count == 5
    assert strip(export_progress(laptop, T0))["cards"] == strip(export_progress(desktop, T0))["cards"]
    assert laptop["card_state"].get("fork-return-values")["last_review"] == store.iso(T0 + timedelta(hours=5))
    assert laptop["card_state"].get("time-wait-duration")["last_review"] == store.iso(T0 + timedelta(minutes=4))


def test_a_browser_file_merges(tmp_path, runner, tiny_bank):
    """What the study site's flashcard mode exports: `Z` times, kind browser, no state_after."""
    path = tmp_path / "browser.json"
    path.write_text(json.dumps({
        "format": "prep-progress", "version": 1, "exported_at": "2026-03-05T10:00:00.000000+00:00", "source": "browser",
        "cards": {"zombie-definition": {"state": 3, "step": 0, "stability": 1.2, "difficulty": 7.1,
                                        "due": "2026-03-05T10:10:00.000Z", "last_review": "2026-03-05T10:00:00.000Z",
                                        "suspended": False, "buried_until": None}},
        "reviews": [
            {"card_id": "zombie-definition", "rating": 3, "reviewed_at": "2026-03-01T09:00:00.000Z", "duration_ms": 900,
             "kind": "browser", "answer": None, "correct": None},
            {"card_id": "zombie-definition", "rating": 3, "reviewed_at": "2026-03-01T09:10:00.000Z", "duration_ms": 900,
             "kind": "browser", "answer": None, "correct": None},
            {"card_id": "zombie-definition", "rating": 1, "reviewed_at": "2026-03-05T10:00:00.000Z", "duration_ms": 900,
             "kind": "browser", "answer": None, "correct": None},
        ],
    }))
    db_path = tmp_path / "p.db"
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(db_path)}
    result = run_cli(runner, "progress", "import", str(path), "--json", env=env)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"reviews_added": 3, "reviews_known": 0, "cards_updated": 1, "cards_kept": 0}
    db = store.open_db(db_path)
    assert [r["state_after"] for r in db["reviews"].rows_where(order_by="reviewed_at")] == [1, REVIEW, RELEARNING]
    assert store.lapse_counts(db) == {"zombie-definition": 1}
    assert db["card_state"].get("zombie-definition")["last_review"] == "2026-03-05T10:00:00+00:00"
    again = run_cli(runner, "progress", "import", str(path), env=env)
    assert again.stderr.startswith(f"{path}: 0 reviews added (3 already here); 0 card schedules taken, 1 kept")


def test_export_command_writes_the_file(runner, tmp_path, tiny_bank, studied):
    target = tmp_path / "backup.json"
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "a.db")}
    result = run_cli(runner, "progress", "export", str(target), env=env)
    assert result.exit_code == 0
    doc = json.loads(target.read_text())
    assert result.stderr == f"wrote {len(doc['cards'])} card schedules and {len(doc['reviews'])} reviews to {target}\n"
    to_stdout = run_cli(runner, "progress", "export", "-", env=env)
    assert json.loads(to_stdout.stdout)["reviews"] == doc["reviews"]


def test_export_keeps_cards_suspended_or_buried_before_their_first_review(runner, tmp_path, tiny_bank):
    """A backup restored elsewhere keeps them out of the quiz, as they were."""
    db = store.open_db(tmp_path / "a.db")
    s = Session(db, index_of(tiny_bank), SETTINGS, Options(), Clock())
    s.suspend("handshake-order")
    until = s.bury("close-shared-socket")
    target = tmp_path / "backup.json"
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "a.db")}
    result = run_cli(runner, "progress", "export", str(target), env=env)
    assert result.exit_code == 0, result.stderr
    cards = json.loads(target.read_text())["cards"]
    assert cards == {
        "handshake-order": {"state": 0, "step": None, "stability": None, "difficulty": None, "due": store.iso(T0),
                            "last_review": None, "suspended": True, "buried_until": None},
        "close-shared-socket": {"state": 0, "step": None, "stability": None, "difficulty": None, "due": store.iso(T0),
                                "last_review": None, "suspended": False, "buried_until": store.iso(until)},
    }
    restored = tmp_path / "b.db"
    result = run_cli(runner, "progress", "import", str(target), env={**env, "PREP_DB": str(restored)})
    assert result.exit_code == 0, result.stderr
    plan = make_plan(store.open_db(restored), index_of(tiny_bank), SETTINGS, Options(), T0 + timedelta(hours=1))
    assert "handshake-order" not in plan.cards and "close-shared-socket" not in plan.cards
    assert "fork-return-values" in plan.new
    # the document the study site embeds keeps to states 1-3: its flashcards refuse state 0
    assert export_progress(db, T0)["cards"] == {}


@pytest.mark.parametrize("content, message", [
    ("not json", "{path}:1: not JSON (Expecting value); is it a file from `prep progress export`?"),
    ('{"format": "anki"}', '{path}: not a prep progress file (expected "format": "prep-progress")'),
    ('{"format": "prep-progress", "version": 2}', "{path}: version 2 of the progress format; this prep reads version 1: upgrade prep"),
    ('{"format": "prep-progress", "version": 1, "cards": {"a": {"state": 9, "due": "2026-03-01T09:00:00Z"}},'
     ' "reviews": [{"card_id": "a", "rating": 5, "reviewed_at": "2026-03-01T09:00:00Z"}, {"card_id": "a", "rating": 3, "reviewed_at": "soon"}]}',
     "{path}: 3 bad entries: cards.a: state must be 0-3, not 9; reviews[0]: rating must be 1-4, not 5; "
     "reviews[1]: Invalid isoformat string: 'soon'"),
])
def test_bad_progress_files(runner, tmp_path, tiny_bank, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = run_cli(runner, "progress", "import", str(path), env={"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "p.db")})
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message.format(path=path)}\n"
    assert store.open_db(tmp_path / "p.db")["reviews"].count == 0


def test_missing_progress_file(runner, tmp_path, tiny_bank):
    result = run_cli(runner, "progress", "import", str(tmp_path / "none.json"), env={"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "p.db")})
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path / 'none.json'}: no such file\n")


# --- Anki ---------------------------------------------------------------------------------


def anki_notes(apkg) -> list[tuple[str, str, str]]:
    with zipfile.ZipFile(apkg) as z:
        assert "collection.anki2" in z.namelist()
        data = z.read("collection.anki2")
    path = apkg.with_suffix(".anki2")
    path.write_bytes(data)
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT guid, flds, tags FROM notes").fetchall())
    finally:
        conn.close()


def test_anki_export_holds_every_card_with_stable_guids(runner, tmp_path, tiny_bank):
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "p.db")}
    first, second = tmp_path / "one.apkg", tmp_path / "two.apkg"
    result = run_cli(runner, "bank", "export-anki", str(first), env=env)
    assert result.exit_code == 0 and result.stderr == f"wrote 6 notes to {first}\n"
    (tiny_bank / "tcp.yaml").write_text((tiny_bank / "tcp.yaml").read_text().replace("Linux?", "Linux today?"))
    run_cli(runner, "bank", "export-anki", str(second), env=env)
    one, two = anki_notes(first), anki_notes(second)
    guids = {genanki.guid_for("prep", card_id): card_id for card_id in BANK_ORDER}
    assert {g for g, _, _ in one} == set(guids) == {g for g, _, _ in two}  # stable across exports and edits
    by_id = {guids[g]: (fields.split("\x1f"), tags) for g, fields, tags in two}
    front, back, card_id, topic, source = by_id["time-wait-duration"][0]
    assert "Linux today?" in front and "60 s, fixed" in front and card_id == "time-wait-duration" and topic == "tcp"
    assert "tcp_fin_timeout governs orphaned FIN_WAIT2 sockets." in back and "60 seconds, fixed by TCP_TIMEWAIT_LEN." in back
    assert "prep::tcp" in by_id["time-wait-duration"][1] and "time-wait" in by_id["time-wait-duration"][1]
    assert "<code>how</code>" in by_id["shutdown-write-constant"][0][0]


def test_anki_export_by_topic_and_bad_name(runner, tmp_path, tiny_bank):
    env = {"PREP_BANK": str(tiny_bank), "PREP_DB": str(tmp_path / "p.db")}
    target = tmp_path / "tcp.apkg"
    assert run_cli(runner, "bank", "export-anki", str(target), "--topic", "processes", env=env).exit_code == 0
    assert len(anki_notes(target)) == 2
    bad = run_cli(runner, "bank", "export-anki", str(tmp_path / "deck.zip"), env=env)
    assert (bad.exit_code, bad.stderr) == (1, f"Error: {tmp_path / 'deck.zip'}: give a file name ending in .apkg\n")
    unknown = run_cli(runner, "bank", "export-anki", str(target), "--tag", "nothing-has-this", env=env)
    assert (unknown.exit_code, unknown.stderr) == (2, "Error: unknown tag 'nothing-has-this'; `prep bank tags` lists the tags\n")
    none = run_cli(runner, "bank", "export-anki", str(target), "--topic", "processes", "--tag", "time-wait", env=env)
    assert (none.exit_code, none.stderr) == (1, "Error: no cards to export (check --topic and --tag)\n")


def test_every_model_of_the_bank_exports(tiny_bank):
    from prep.anki import back, front

    for card in load_bank(tiny_bank).cards:
        assert front(card) and back(card)
