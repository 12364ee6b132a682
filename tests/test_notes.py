"""`prep notes`: flagged lines, corrections and drafts, on a small notes file of the tests."""

from __future__ import annotations

import json

from prep import cards

from .conftest import REPO, run_cli


def test_coverage_lists_each_flagged_line_and_fails_while_one_is_open(runner, tiny_bank, notes_file):
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(notes_file), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    by_line = {row["line"]: row for row in data["lines"]}
    assert sorted(by_line) == [2, 5, 6, 7, 8, 9]
    assert by_line[6]["cards"] == ["close-shared-socket", "shutdown-write-constant"]
    assert by_line[9]["skipped"] == "a reminder to download a tool, not a question"
    assert by_line[8]["cards"] == [] and by_line[8]["skipped"] is None
    assert data["totals"] == {"flagged": 6, "answered": 4, "skipped": 1, "open": 1, "coverage": 0.8333}
    assert "answer the open lines" in result.stderr


def test_coverage_passes_once_the_open_line_is_skipped(runner, tiny_bank, notes_file):
    skips = tiny_bank / "skips.yaml"
    skips.write_text(skips.read_text() + "  - line: 8\n    reason: not interview material\n")
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(notes_file))
    assert result.exit_code == 0
    assert "6 flagged lines: 4 answered, 2 skipped, 0 open (100% covered)" in result.stderr


def test_check_lists_corrections(runner, tiny_bank, notes_file):
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "check", str(notes_file), "--json")
    assert json.loads(result.stdout) == [{
        "line": 5, "section": "3/19", "text": "TIME_WAIT多久??", "card": "time-wait-duration",
        "notes_claim": "TIME_WAIT lasts tcp_fin_timeout", "correction": "60 seconds, fixed by TCP_TIMEWAIT_LEN.",
        "prompt": "How long does a socket stay in TIME_WAIT on Linux?",
    }]


def test_extract_writes_valid_drafts_kept_out_of_the_quiz(runner, tiny_bank, notes_file):
    target = tiny_bank / "inbox.yaml"
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "extract", str(notes_file), "--out", str(target))
    assert result.exit_code == 0
    assert result.stdout.split("\t")[:2] == ["draft-notes-line-8", "line 8"]
    bank, problems = cards.lint_bank(tiny_bank, set())
    assert problems == []
    draft = bank.card("draft-notes-line-8")
    assert draft.draft and draft.topic == "inbox" and draft.source.lines == [8] and draft.source.section == "3/19"
    assert "draft-notes-line-8" not in [c.id for c in bank.select()]
    again = run_cli(runner, "--bank", str(tiny_bank), "notes", "extract", str(notes_file), "--out", str(target))
    assert again.stdout == "" and "already answered, skipped or drafted" in again.stderr
    coverage = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(notes_file))
    assert coverage.exit_code == 1, "a draft does not answer a flagged line until it is completed"


def test_notes_file_errors(runner, tiny_bank, tmp_path):
    missing = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(tmp_path / "none.txt"))
    assert missing.exit_code == 1 and f"Error: {tmp_path / 'none.txt'}: no such notes file" in missing.stderr
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\xe9 ??\n".encode("latin-1"))
    bad = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(latin))
    assert bad.exit_code == 1 and "not UTF-8 text (byte 3); save the notes as UTF-8" in bad.stderr


def test_check_follows_the_language(runner, tiny_bank, notes_file):
    path = tiny_bank / "tcp.yaml"
    text = path.read_text()
    text = text.replace("    corrects: TIME_WAIT lasts tcp_fin_timeout\n",
                        "    corrects: {en: TIME_WAIT lasts tcp_fin_timeout, zh: TIME_WAIT 持续 tcp_fin_timeout 秒}\n")
    text = text.replace("    answer: 60 seconds, fixed by TCP_TIMEWAIT_LEN.\n",
                        "    answer: {en: \"60 seconds, fixed by TCP_TIMEWAIT_LEN.\", zh: 60 秒，由 TCP_TIMEWAIT_LEN 写死。}\n")
    path.write_text(text)
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "check", str(notes_file), "--json", "--lang", "zh")
    [row] = json.loads(result.stdout)
    assert (row["notes_claim"], row["correction"]) == ("TIME_WAIT 持续 tcp_fin_timeout 秒", "60 秒，由 TCP_TIMEWAIT_LEN 写死。")
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "check", str(notes_file), "--json")
    assert json.loads(result.stdout)[0]["notes_claim"] == "TIME_WAIT lasts tcp_fin_timeout"


def test_your_own_notes_are_matched_by_what_their_lines_say(runner, tiny_bank, tmp_path):
    """Not by line number: line 5 here is not line 5 of the notes the bank was written from."""
    mine = tmp_path / "mine.txt"
    mine.write_text("12/1日\nwhat is io_uring??\n僵尸进程到底是什么？？\nhow long does TIME_WAIT last??\n"
                    "TCP 的三次握手顺序??\nmy cat's name??\n", encoding="utf-8")
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(mine), "--json")
    assert result.exit_code == 1
    rows = {row["line"]: row for row in json.loads(result.stdout)["lines"]}
    assert rows[2]["cards"] == [] and rows[2]["matched"] is None, "io_uring: no card of this bank says it"
    assert rows[3]["cards"] == ["zombie-definition"] and rows[3]["terms"] == ["僵尸进程"]
    assert rows[4]["cards"][0] == "time-wait-duration" and "time_wait" in rows[4]["terms"]
    assert rows[5]["cards"] == ["handshake-order"] and rows[5]["matched"] == "words"
    assert rows[6]["cards"] == [], "a line that shares no term of the trade matches nothing"
    shown = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(mine))
    assert "matches no card" in shown.stdout and "(by: 僵尸进程)" in shown.stdout


def test_the_banks_own_notes_are_recognised_by_content_not_name(runner, tiny_bank, notes_file, tmp_path):
    renamed = tmp_path / "whatever-name.txt"
    renamed.write_text(notes_file.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    result = run_cli(runner, "--bank", str(tiny_bank), "notes", "coverage", str(renamed), "--json")
    rows = {row["line"]: row for row in json.loads(result.stdout)["lines"]}
    assert rows[6]["cards"] == ["close-shared-socket", "shutdown-write-constant"] and rows[6]["matched"] == "line"
    changed = tmp_path / "changed.txt"
    changed.write_text("3/1日\n" + notes_file.read_text(encoding="utf-8"), encoding="utf-8")  # every line moves down
    moved = {row["line"]: row for row in json.loads(run_cli(
        runner, "--bank", str(tiny_bank), "notes", "coverage", str(changed), "--json").stdout)["lines"]}
    assert moved[6]["matched"] == "words" and "time-wait-duration" in moved[6]["cards"], moved[6]


def test_check_on_your_own_notes_finds_the_claims_a_card_corrects(runner, tiny_bank, tmp_path):
    mine = tmp_path / "mine.txt"
    mine.write_text("12/1日\nTIME_WAIT 持续 tcp_fin_timeout 秒\nTIME_WAIT 要多久??\n", encoding="utf-8")
    rows = json.loads(run_cli(runner, "--bank", str(tiny_bank), "notes", "check", str(mine), "--json").stdout)
    assert [(r["line"], r["card"]) for r in rows] == [(2, "time-wait-duration")], "a flagged question is not a claim"


def test_your_own_notes_against_the_shipped_bank_match_by_content_words_with_a_floor(runner, tmp_path):
    """A line must match an identifier or key term and a share of its content: two common words
    (hot, many) are not enough, and an API name (`select`) outweighs common Chinese terms (文件, 描述符)."""
    mine = tmp_path / "mine.txt"
    mine.write_text("12/1日\n"
                    "How many hot-air balloons fit in a Tuesday afternoon??\n"  # 2: nothing
                    "select 最多能监听多少个文件描述符??\n"  # 3: the FD_SETSIZE card, by `select`
                    "fork 之后父子进程共享文件偏移吗??\n"  # 4: by wording, Chinese and an API name
                    "what does SO_REUSEADDR let a restarted server do??\n"  # 5: an identifier
                    "僵尸进程到底是什么？？\n"  # 6: a Chinese key term alone
                    "为什么周二下午总是犯困？？\n"  # 7: Chinese that says nothing of the trade
                    "my cat's name??\n"  # 8: one rare word of a card id is not enough
                    "epoll 的 ET 和 LT 有什么区别??\n"  # 9: two-letter terms in capitals
                    "how long does a socket stay in TIME_WAIT??\n", encoding="utf-8")  # 10
    bank = str(REPO / "bank")
    result = run_cli(runner, "--bank", bank, "notes", "coverage", str(mine), "--json")
    assert result.exit_code == 1
    rows = {row["line"]: row for row in json.loads(result.stdout)["lines"]}
    for line in (2, 7, 8):
        assert rows[line]["cards"] == [] and rows[line]["matched"] is None, rows[line]
    assert rows[3]["cards"][0] == "select-fd-setsize-hard-limit" and "select" in rows[3]["terms"]
    assert "fork-shared-file-offset" not in rows[3]["cards"], "文件 and 描述符 do not outweigh select"
    assert rows[4]["cards"][0] == "fork-shared-file-offset" and "fork" in rows[4]["terms"]
    assert rows[5]["cards"][0] == "so-reuseport-vs-so-reuseaddr" and "so_reuseaddr" in rows[5]["terms"]
    assert rows[6]["cards"][0] == "zombie-process-what-remains" and rows[6]["terms"] == ["僵尸进程"]
    assert rows[9]["cards"][0] == "lt-vs-et-when-to-use"
    assert rows[10]["cards"][0] == "time-wait-duration-linux"
    assert all(row["matched"] == "words" for row in rows.values() if row["cards"])
    drafts = tmp_path / "inbox.yaml"
    extract = run_cli(runner, "--bank", bank, "notes", "extract", str(mine), "--out", str(drafts))
    assert [line.split("\t")[1] for line in extract.stdout.splitlines()] == ["line 2", "line 7", "line 8"]
    check = run_cli(runner, "--bank", bank, "notes", "check", str(mine), "--json")
    assert check.exit_code == 0 and json.loads(check.stdout) == [], "a flagged question is not a claim"
