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


def lint(folder: Path, exercises: set[str] | None = None, strict: bool | None = None) -> list[str]:
    _, problems = cards.lint_bank(folder, exercises if exercises is not None else set(), strict)
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
        "processes.yaml:31: zombie-definition: `difficulty` must be 'easy', 'medium' or 'hard', not 'trivial'"
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
        "tcp.yaml:25: close-shared-socket: `type` must be 'recall', 'single', 'multi', 'short' or 'order', not 'essay'",
    ]
    with pytest.raises(BankError) as caught:
        cards.load_bank(tiny_bank, set())
    assert len(caught.value.problems) == 2


def test_short_answer_matching_is_forgiving_but_not_wrong(tiny_bank):
    card = cards.load_bank(tiny_bank, set()).card("shutdown-write-constant")
    for typed in ("SHUT_WR", "shut_wr", " `SHUT_WR`. ", "shutdown(fd,  SHUT_WR)", "shutdown(fd,SHUT_WR)",
                  "shutdown( fd , SHUT_WR );", "`shutdown(fd, SHUT_WR);`", "SHUT_WR;"):
        assert card.accepts(typed), typed
    for typed in ("SHUT_RD", "SHUT_RDWR", "", "close", "shutdown(fd, SHUT_RD)", "shutdownfd,SHUT_WR"):
        assert not card.accepts(typed), typed


def test_white_space_beside_code_punctuation_does_not_count_between_words_it_does():
    n = cards.normalise_answer
    assert n("waitpid(-1, &status, WNOHANG);") == n("waitpid(-1,&status,WNOHANG)") == "waitpid(-1,&status,wnohang)"
    assert n("O_RDWR | O_CREAT") == n("o_rdwr|o_creat")
    assert n("unsigned  int") == "unsigned int" != n("unsignedint")
    assert n("a _ b") == "a _ b"  # `_` is part of a name, not punctuation


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


def test_shipped_bank_declares_both_languages():
    bank, _ = cards.lint_bank(REPO / "bank", set())
    assert bank.languages == ("en", "zh")


def test_shipped_bank_is_clean():
    from prep import content

    _, problems = cards.lint_bank(REPO / "bank", content.exercise_slugs())
    assert [str(p) for p in problems if not p.warning] == []


# --- two languages ------------------------------------------------------------------------


def declare_languages(bank: Path, languages: str = "[en, zh]") -> None:
    topics = bank / "topics.yaml"
    topics.write_text(f"languages: {languages}\n" + topics.read_text())


def test_in_lang_gives_plain_strings_and_falls_back_to_the_other_side(tiny_bank):
    bank = cards.load_bank(tiny_bank, set())
    zombie = bank.card("zombie-definition")
    assert isinstance(zombie.prompt, cards.Text)
    zh = zombie.in_lang("zh")
    assert (zh.prompt, zh.answer) == ("什么是僵尸进程？", "已经退出、但父进程还没有 wait 它的子进程。")
    assert zh.in_lang("zh").model_dump() == zh.model_dump() and zh.id == zombie.id and (zh.file, zh.line, zh.topic) == (zombie.file, zombie.line, zombie.topic)
    assert zombie.in_lang("en").prompt == "What is a zombie process?"
    fork = bank.card("fork-return-values").in_lang("zh")  # English only: English it is
    assert fork.prompt == "Which are true of fork's return value?"
    assert [c.text for c in fork.choices][0] == "The child sees 0"
    one_side = cards.Card.model_validate({**zombie.model_dump(), "answer": {"zh": "只有中文"}})
    assert one_side.in_lang("en").answer == "只有中文"
    assert bank.topic_title("processes", "zh") == "进程" and bank.topic_title("tcp", "zh") == "TCP"
    assert zombie.languages() == {"en", "zh"} and bank.card("time-wait-duration").languages() == {"en"}


def test_a_text_needs_a_side(tiny_bank):
    replace(tiny_bank / "processes.yaml", "      en: What is a zombie process?\n      zh: 什么是僵尸进程？\n", "      {}\n")
    assert lint(tiny_bank) == ["processes.yaml:23: zombie-definition: `prompt`: a text needs `en` or `zh` (or both)"]


def test_a_text_field_reports_the_form_that_was_written(tiny_bank):
    replace(tiny_bank / "processes.yaml", "      en: What is a zombie process?\n", "      en: \"\"\n      fr: x\n")
    replace(tiny_bank / "processes.yaml", "    tags: [zombie]", "    tags: [zombie]\n    corrects: 3")
    assert lint(tiny_bank) == [
        "processes.yaml:24: zombie-definition: `prompt.en` is empty",
        "processes.yaml:25: zombie-definition: unknown field `prompt.fr` (see docs/cards.md for the fields)",
        "processes.yaml:32: zombie-definition: `corrects` must be a string or {en: ..., zh: ...}, not 3",
    ]


def test_a_bank_declaring_both_languages_reports_every_missing_side_with_its_line(tiny_bank):
    declare_languages(tiny_bank)
    problems = lint(tiny_bank, strict=True)
    assert "processes.yaml:6: fork-return-values: `prompt` has no Chinese side (`zh:`)" in problems
    assert "processes.yaml:19: fork-return-values: `choices.2.text` has no Chinese side (`zh:`)" in problems
    assert "processes.yaml:20: fork-return-values: `choices.2.why` has no Chinese side (`zh:`)" in problems
    assert "tcp.yaml:16: time-wait-duration: `corrects` has no Chinese side (`zh:`)" in problems
    assert "tcp.yaml:50: handshake-order: `items.0` has no Chinese side (`zh:`)" in problems
    assert not [p for p in problems if "zombie-definition" in p]  # in both languages
    replace(tiny_bank / "processes.yaml", "      zh: 什么是僵尸进程？\n", "")
    assert "processes.yaml:23: zombie-definition: `prompt` has no Chinese side (`zh:`)" in lint(tiny_bank, strict=True)
    with pytest.raises(BankError):
        cards.load_bank(tiny_bank, set(), strict=True)
    usable, _ = cards.load_usable_cards(tiny_bank, set())  # the quiz shows them, in the side they have
    assert len(usable.cards) == 6 and usable.languages == ("en", "zh")


def test_a_missing_english_side_is_reported_too(tiny_bank):
    declare_languages(tiny_bank, "[zh, en]")
    replace(tiny_bank / "processes.yaml", "      en: What is a zombie process?\n", "")
    assert "processes.yaml:23: zombie-definition: `prompt` has no English side (`en:`)" in lint(tiny_bank, strict=True)


def test_bad_languages_declaration(tiny_bank):
    declare_languages(tiny_bank, "[en, fr]")
    assert lint(tiny_bank, strict=True) == ["topics.yaml:1: -: `languages` must be a list of en and zh, e.g. [en, zh]"]


def test_a_canon_topic_needs_no_source_and_others_do(tiny_bank):
    (tiny_bank / "topics.yaml").write_text((tiny_bank / "topics.yaml").read_text() + (
        "  - id: cpp-canon\n    title: {en: C++ beyond the notes, zh: 笔记之外的 C++}\n"
        "    description: Virtual tables and smart pointers.\n    canon: true\n"))
    (tiny_bank / "cpp-canon.yaml").write_text("""topic: cpp-canon
cards:
  - id: vtable-per-class
    type: recall
    prompt: {en: How many vtables does a polymorphic class have?, zh: 一个多态类有几张虚函数表？}
    answer: {en: One per class (per subobject with multiple bases)., zh: 每个类一张（多重继承时每个子对象一张）。}
    explanation: {en: Objects share it through their vptr., zh: 对象通过 vptr 共享它。}
    tags: [vtable]
    difficulty: hard
    refs: ["Itanium C++ ABI §2.5"]
    zh: [虚函数表]
""")
    assert lint(tiny_bank, strict=True) == []
    bank = cards.load_bank(tiny_bank, set(), strict=True)
    assert bank.card("vtable-per-class").source is None and bank.topics["cpp-canon"].canon
    replace(tiny_bank / "processes.yaml", '    source: {section: "3/19", lines: [7]}\n', "")
    assert lint(tiny_bank, strict=True) == ["processes.yaml:21: zombie-definition: `source` is missing (only cards of a `canon: true` topic have none)"]


def test_accepts_a_short_answer_in_either_language(tiny_bank):
    card = cards.Card.model_validate({
        "id": "shut-wr", "type": "short", "prompt": {"en": "Which how?", "zh": "哪个 how？"},
        "answer": {"en": "SHUT_WR", "zh": "写半关闭"}, "accept": ["关闭写端", "1"], "explanation": "x", "tags": ["t"],
        "refs": ["shutdown(2)"], "source": {"section": "3/19", "lines": [6]}, "zh": ["半关闭"],
    })
    for shown in (card, card.in_lang("en"), card.in_lang("zh")):
        for typed in ("SHUT_WR", " `shut_wr`. ", "写半关闭", "写半关闭.", "“写半关闭”" [1:-1], " 关闭写端 ", "1"):
            assert shown.accepts(typed), (typed, shown.answer)
        assert not shown.accepts("半关闭") and not shown.accepts("")
    assert card.in_lang("zh").answer == "写半关闭" and card.in_lang("en").answer == "SHUT_WR"


def test_also_accepted_lists_each_spelling_the_checker_tells_apart_once(tmp_path):
    """Shown after a short answer, on the site and in the Anki deck: not the answer again in
    another spacing, case or with a `;`, and each other spelling once."""
    from prep import anki

    card = cards.Card.model_validate({
        "id": "fp-decl", "type": "short", "prompt": {"en": "Declare fp.", "zh": "声明 fp。"},
        "answer": {"en": "int (*fp)(void *);", "zh": "int (*fp)(void *);"},
        "accept": ["int (*fp)(void*)", "INT (*FP)(VOID *)", "int (* fp)(void *p)", "int (*fp)(void *p);", "auto fp = &func"],
        "explanation": "x", "tags": ["t"], "refs": ["C11 6.7.6.3"], "zh": ["函数指针"],
    })
    assert card.other_accepted() == ["int (* fp)(void *p)", "auto fp = &func"]
    assert card.in_lang("zh").other_accepted() == ["int (* fp)(void *p)", "auto fp = &func"]
    assert "Also accepted: int (* fp)(void *p), auto fp = &amp;func</p>" in anki.back(card)


def test_the_cache_gives_cards_in_either_language(tiny_bank):
    from prep import bank_cache

    bank_cache.load_index(tiny_bank)
    cached = bank_cache.load_index(tiny_bank)  # from the cache: read-only views
    zh = cached.card("zombie-definition", "zh")
    assert type(zh).__name__ == "CardView" and zh.prompt == "什么是僵尸进程？"
    assert cached.card("zombie-definition").prompt == "What is a zombie process?"
    cached.lang = "zh"
    assert cached.card("zombie-definition").answer.startswith("已经退出")
    assert cached.card("fork-return-values").choices[0].text == "The child sees 0"
    assert cached.topic_title("processes") == "进程"


def test_an_answer_typed_with_a_chinese_input_method_matches():
    """Full-width letters and digits, Chinese quotes and a trailing 。 or ； count as their ASCII forms."""
    assert cards.normalise_answer("“SHUT_WR”。") == cards.normalise_answer("SHUT_WR")
    assert cards.normalise_answer("１４７２；") == "1472"
    assert cards.normalise_answer("「连接被对方重置」") == "连接被对方重置"
    assert cards.normalise_answer("『a』 ， b") != cards.normalise_answer("a b"), "a full-width comma is a comma"


def test_the_bank_loader_reads_yaml_as_the_safe_loader_does(tmp_path):
    """compose_yaml resolves most plain scalars as strings without trying patterns: the data stays safe_load's."""
    import gc

    import yaml

    from prep.cards import compose_yaml

    text = """\
a: [yes, no, on, off, y, n, true, False, null, ~, Null, '', 0, -1, +2, 0x1f, 0o17, 1_000, 3.5, .5, -.inf, .NaN, 1e3]
b: [2026-03-01, 2026-03-01 09:00:00, '2026-03-01', "yes", Yes please, nothing, Offer, the end, 12 monkeys, <<not a merge]
base: &base {x: 1, y: plain}
c: {<<: *base, y: other, z: =x}
d: [*base, !!str 5, !!int "7", é, 中文, "quoted: text", 'it''s']
e: |
  a block
  of text
f: >
  folded
  text
g:
  - id: x
    prompt: After fork(), what?
    2: two
    null: key
"""
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    expected = yaml.safe_load(text)
    node, data = compose_yaml(path, "t.yaml", [])
    assert node is not None and repr(data) == repr(expected)  # repr: types too (True, not 'yes'), and NaN
    gc.disable()
    try:
        cards.load_usable_cards(REPO / "bank")
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
    cards.load_usable_cards(REPO / "bank")
    assert gc.isenabled()


@pytest.mark.parametrize("text", [
    "topic: t\ncards:\n  - id: a\n    prompt: p\n  -   id: b\n      tags: [x, 'y']\n  - plain\n  - [1, 2]\n",
    "cards: []\ntopic: t\nextra: {a: 1, b: [yes, ~, 2026-03-01, 1.5, !!str 3, '']}\n",
    "topic: t\ncards:\n  - &one {id: a}\n  - *one\n",  # anchors and aliases: the node tree
    "base: &b {x: 1}\ntopic: t\ncards:\n  - {<<: *b, id: a}\n",
    "topic: t\ncards: [a]\ncards: [b]\n",  # `cards` twice
    "topic: t\ncards: !!seq [a]\nx: !!set {a}\ny: !!binary aGk=\n",
    "- a\n- b\n", "~\n", "", "topic: t\n---\ntopic: u\n", "topic: [unclosed\n", "{[a]: 1}\n", "a: !!map b\n",
    "topic: t\ncards:\n- id: 中文\n  prompt: |\n    block\n  answer: >-\n    folded\n",
    # the same text again, plain, quoted and tagged: each resolved and made as it is written, not as last time
    "topic: t\ncards:\n  - {id: a, n: 3, m: '3', t: true, u: 'true', d: 2026-03-01, x: 1.5, y: ~}\n"
    "  - {id: b, n: 3, m: \"3\", t: true, u: true, d: '2026-03-01', x: !!str 1.5, y: null, z: !!int '3', w: !!str true}\n",
])
def test_card_files_read_from_events_are_what_the_node_tree_gives(tmp_path, text):
    """A plain card file skips the node tree (read_card_file); its data and card lines are compose_yaml's."""
    from prep.bank_yaml import read_card_file
    from prep.cards import compose_yaml, line_at

    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    read = read_card_file(path)
    problems: list = []
    node, data = compose_yaml(path, "f.yaml", problems)
    if read is None:
        return  # read the old way
    assert not problems and repr(read[0]) == repr(data)
    assert read[1] == [line_at(node, ("cards", i)) for i in range(len(data.get("cards") or []))]


def test_which_card_files_are_read_from_events(tmp_path):
    from prep.bank_yaml import read_card_file

    def read(text):
        path = tmp_path / "f.yaml"
        path.write_text(text, encoding="utf-8")
        return read_card_file(path)

    assert read("topic: t\ncards:\n  - id: a\n\n  - id: b\n") == ({"topic": "t", "cards": [{"id": "a"}, {"id": "b"}]}, [3, 5])
    for text in ("topic: t\ncards:\n  - &one {id: a}\n  - *one\n", "topic: t\ncards: [a]\ncards: [b]\n", "- a\n", "~\n", "",
                 "topic: [unclosed\n", "a: !!map b\n", "topic: t\n---\ntopic: u\n", "x: !!set {a}\n"):
        assert read(text) is None, text
    assert len(list(cards.card_files(REPO / "bank"))) and all(read(p.read_text(encoding="utf-8")) for p in cards.card_files(REPO / "bank"))
