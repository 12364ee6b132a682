"""The study site without a browser: pages, links, data, progress, the output folder, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.request
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from prep import cards, notes, site, store
from prep.errors import EnvironmentProblem, InputError, NotFoundError
from prep.labels import EN

from .conftest import FIXTURES, REPO, run_cli

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


# --- fixtures shared with test_site_browser.py -------------------------------------------


def make_exercises(root: Path) -> Path:
    """One small exercise that names the zombie card (docs/grading.md layout)."""
    folder = root / "exercises" / "reap-children"
    (folder / "starter").mkdir(parents=True)
    (folder / "exercise.yaml").write_text(
        "title: Reap every child\n"
        "topics: [processes]\n"
        "cards: [zombie-definition]\n"
        "difficulty: easy\n"
        "language: python\n"
        "entry: reap.py\n"
        "files: [reap.py]\n",
        encoding="utf-8",
    )
    (folder / "README.md").write_text(
        "# Reap every child\n\n"
        "A child that has exited stays a zombie (僵尸进程) until its parent waits for it.\n\n"
        "## What to implement\n\n"
        "```python\ndef reap_all() -> list[int]:\n    ...\n```\n\n"
        "Loop on `waitpid(-1, WNOHANG)` until it returns 0.\n",
        encoding="utf-8",
    )
    (folder / "starter" / "reap.py").write_text(
        '"""Reap every exited child."""\n\nimport os\n\n\ndef reap_all() -> list[int]:\n'
        '    raise NotImplementedError("not implemented: reap_all()")\n',
        encoding="utf-8",
    )
    return root / "exercises"


def seed_progress(db_path: Path) -> None:
    """A learner who has reviewed three cards, suspended one and submitted the exercise twice."""
    db = store.open_db(db_path)

    def review(card_id: str, rating: int, when: datetime, state_after: int, interval: float, row: dict | None):
        store.record_review(
            db,
            {"card_id": card_id, "rating": rating, "reviewed_at": when, "duration_ms": 4000, "answer": None,
             "correct": None, "session_id": None, "kind": "quiz", "state_after": state_after, "interval_days": interval},
            row,
        )

    def state(card_id: str, st: int, due: datetime, last: datetime, step=None, suspended=0) -> dict:
        return {"card_id": card_id, "state": st, "step": step, "stability": 12.0, "difficulty": 5.0,
                "due": store.iso(due), "last_review": store.iso(last), "buried_until": None, "suspended": suspended}

    d = lambda days: NOW - timedelta(days=days)  # noqa: E731
    review("time-wait-duration", 3, d(40), 2, 30, state("time-wait-duration", 2, d(10), d(40)))
    review("time-wait-duration", 3, d(10), 2, 20, state("time-wait-duration", 2, NOW + timedelta(days=20), d(10)))
    review("close-shared-socket", 3, d(3), 1, 0.007, state("close-shared-socket", 1, d(3) + timedelta(minutes=10), d(3), step=1))
    review("zombie-definition", 3, d(1), 2, 2, state("zombie-definition", 2, NOW + timedelta(days=2), d(1)))
    store.put_card_state(db, state("fork-return-values", 2, NOW + timedelta(days=5), d(30), suspended=1))
    for when, verdict, score in ((d(2), "failed", 0.5), (d(1), "passed", 1.0)):
        store.record_submission(
            db,
            {"verdict": verdict, "score": score, "duration_ms": 1500, "backend": "docker", "message": None,
             "tests": [{"name": "test_no_zombies", "status": verdict, "message": None if verdict == "passed" else
                        "2 children left in state Z", "output": "", "duration_ms": 20, "weight": 1}]},
            {"reap.py": "..."}, "reap-children", "hash", submitted_at=when,
        )
    db.conn.close()


def build_fixture_site(tmp: Path, *, search: bool = False, with_progress: bool = True, out: Path | None = None):
    bank = cards.load_bank(FIXTURES / "bank", set())
    exercises, problems = site.load_exercises(make_exercises(tmp))
    assert problems == []
    progress = None
    if with_progress:
        db_path = tmp / "progress.db"
        seed_progress(db_path)
        db = store.open_db(db_path)
        progress = site.read_progress(db, bank, NOW)
        db.conn.close()
    return site.build(
        bank, out or tmp / "site", exercises=exercises, progress=progress,
        notes=notes.read_notes(FIXTURES / "notes.txt"), search=search, now=NOW,
    )


class Links(HTMLParser):
    """Every href and src of a page, and the ids it defines."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value))


def broken_links(root: Path) -> list[str]:
    """Internal links of every page that lead nowhere, as `page: link`."""
    pages = {p: Links() for p in root.rglob("*.html") if "pagefind" not in p.parts}
    for path, parser in pages.items():
        parser.feed(path.read_text(encoding="utf-8"))
    broken = []
    for path, parser in pages.items():
        for tag, _, value in parser.links:
            parts = urlsplit(value)
            if parts.scheme in ("http", "https"):
                assert tag == "a", f"{path.relative_to(root)}: <{tag}> loads {value} from the network"
                continue
            if parts.scheme or value.startswith("//"):
                assert parts.scheme in ("mailto",), f"{path.relative_to(root)}: unexpected link {value}"
                continue
            assert not value.startswith("/"), f"{path.relative_to(root)}: absolute link {value} breaks file://"
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file():
                broken.append(f"{path.relative_to(root)}: {value}")
            elif parts.fragment and target.suffix == ".html" and not parts.fragment.startswith("topics="):
                if parts.fragment not in pages[target].ids:
                    broken.append(f"{path.relative_to(root)}: {value} (no such anchor)")
    return broken


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site")
    result = build_fixture_site(tmp)
    return result.out, result


WHY = '<h2><span class="l-en" lang="en">Why</span><span class="l-sep"> </span><span class="l-zh" lang="zh">解析</span></h2>'


def read(out: Path, page: str) -> str:
    return (out / page).read_text(encoding="utf-8")


# --- pages ---------------------------------------------------------------------------


def test_every_page_is_written(built):
    out, result = built
    expected = {
        "index.html", "search.html", "flashcards.html", "corrections.html", "about.html", "dashboard.html",
        "topics/tcp.html", "topics/processes.html", "exercises/index.html", "exercises/reap-children.html",
        "tags/index.html", "tags/time-wait.html", "tags/fork.html",
        *(f"cards/{c}.html" for c in ("time-wait-duration", "close-shared-socket", "shutdown-write-constant",
                                      "handshake-order", "fork-return-values", "zombie-definition")),
    }
    written = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}
    assert expected <= written
    assert "topics/inbox.html" not in written  # a topic without cards gets no page
    assert result.pages == len(written)
    assert (result.cards, result.topics, result.exercises, result.with_progress) == (6, 2, 1, True)
    assert (out / site.MARKER).is_file()
    assert (out / "static" / "vendor" / "ts-fsrs" / "index.umd.js").is_file()
    assert (out / "static" / "vendor" / "ts-fsrs" / "LICENSE.txt").read_text().startswith("MIT License")


def test_home_lists_topics_with_counts_and_due(built):
    out, _ = built
    page = read(out, "index.html")
    assert re.search(r'href="topics/tcp.html"><span class="topic-title">TCP</span>\s*<span class="count" title="cards">4</span>', page)
    assert "Processes" in page and "Inbox" not in page
    # as of NOW: close-shared-socket is due (learning, 10 minutes after its review three days ago)
    assert re.search(r"<strong>1</strong> card due as of 2026-11-26 12:00 UTC", page)


def test_review_them_on_the_home_page_leads_to_exactly_the_cards_it_counts(built, tmp_path):
    """The home page's due count and its "Review them" link: the list behind it holds those cards, no other."""

    def followed(out: Path) -> tuple[int, list[str]]:
        home = read(out, "index.html")
        count = int(re.search(r"<strong>(\d+)</strong> cards? due as of", home).group(1))
        href = re.search(r'<a href="([^"]+)">Review them</a>', home).group(1)
        listed = read(out, href)
        cards_listed = re.findall(r'<a class="card-link" href="\.\./cards/([^"]+)\.html"|<a class="card-link" href="cards/([^"]+)\.html"', listed)
        ids = [a or b for a, b in cards_listed]
        assert re.search(rf"<strong>{len(ids)}</strong> cards? due as of 2026-11-26 12:00 UTC", listed)
        return count, ids

    out, _ = built
    # as of NOW only close-shared-socket is due; time-wait-duration and zombie-definition come later, fork is suspended
    assert followed(out) == (1, ["close-shared-socket"])

    # three due (one overdue by days, one buried until yesterday, the learning card), one buried until tomorrow
    db_path = tmp_path / "more.db"
    seed_progress(db_path)
    db = store.open_db(db_path)
    for card_id, due, buried in (("zombie-definition", NOW - timedelta(days=4), None),
                                 ("handshake-order", NOW - timedelta(days=1), NOW - timedelta(hours=1)),
                                 ("time-wait-duration", NOW - timedelta(days=2), NOW + timedelta(hours=20))):
        store.put_card_state(db, {"card_id": card_id, "state": 2, "step": None, "stability": 5.0, "difficulty": 5.0,
                                  "due": store.iso(due), "last_review": store.iso(due - timedelta(days=5)),
                                  "buried_until": store.iso(buried) if buried else None, "suspended": 0})
    bank = cards.load_bank(FIXTURES / "bank", set())
    progress = site.read_progress(db, bank, NOW)
    db.conn.close()
    result = site.build(bank, tmp_path / "site", progress=progress, search=False, now=NOW)
    count, ids = followed(result.out)
    assert count == 3 and sorted(ids) == ["close-shared-socket", "handshake-order", "zombie-definition"]
    assert ids[0] == "zombie-definition"  # the most overdue first


def test_card_page_prompt_first_answer_behind_reveal(built):
    out, _ = built
    page = read(out, "cards/time-wait-duration.html")
    prompt = page.index("How long does a socket stay in TIME_WAIT on Linux?")
    reveal = page.index('class="reveal"')
    answer = page.index("60 seconds, fixed by TCP_TIMEWAIT_LEN.")
    assert prompt < reveal < answer
    assert '<section id="answer" class="answer" data-answer hidden>' in page
    assert WHY in page and "hard-codes the 2MSL wait" in page
    # the ref with a URL is a link; the notes line is quoted (section and line); the correction is shown
    assert '<a href="https://github.com/torvalds/linux/blob/master/include/net/tcp.h" rel="noopener noreferrer">' in page
    assert "section 3/19, line 5" in page and "TIME_WAIT多久??" in page
    assert "The notes said:</span> TIME_WAIT lasts tcp_fin_timeout" in page
    assert 'Permalink: <a href="time-wait-duration.html" rel="bookmark">' in page
    # a wrong choice carries its misconception, revealed with the answer
    assert re.search(r'data-correct="false">.*?<div class="why" data-answer hidden>tcp_fin_timeout governs', page, re.S)


def test_card_page_refs_without_url_and_exercise_link(built):
    out, _ = built
    page = read(out, "cards/zombie-definition.html")
    assert "<cite>wait(2)</cite>" in page
    assert '<a href="../exercises/reap-children.html">Reap every child</a>' in page
    assert '<dd class="zh" lang="zh">僵尸进程</dd>' in page
    assert "僵尸进程是什么??" in page  # the note line, from --notes


def test_short_and_order_cards(built):
    out, _ = built
    short = read(out, "cards/shutdown-write-constant.html")
    accept = re.search(r'data-accept="([^"]*)"', short).group(1)
    assert json.loads(accept.replace("&#34;", '"').replace("&quot;", '"')) == ["SHUT_WR", "shutdown(fd, SHUT_WR)", "1"]
    order = read(out, "cards/handshake-order.html")
    shown = re.search(r'<ul class="order-items">(.*?)</ul>', order, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", shown) != ["CLOSED", "SYN_SENT", "ESTABLISHED"]  # never shown in order
    right = re.search(r'<ol class="order-right">(.*?)</ol>', order, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", right) == ["CLOSED", "SYN_SENT", "ESTABLISHED"]


def test_corrections_page(built):
    out, _ = built
    page = read(out, "corrections.html")
    assert "What the notes got wrong" in page
    assert "TIME_WAIT lasts tcp_fin_timeout" in page and "60 seconds, fixed by TCP_TIMEWAIT_LEN." in page
    assert 'href="cards/time-wait-duration.html"' in page
    assert "zombie-definition" not in page  # corrects nothing


def test_tag_pages(built):
    out, _ = built
    assert 'href="fork.html">#fork</a> <span class="count">2</span>' in read(out, "tags/index.html")
    page = read(out, "tags/fork.html")
    assert 'href="../cards/fork-return-values.html"' in page and 'href="../cards/close-shared-socket.html"' in page


def test_exercise_page(built):
    out, _ = built
    page = read(out, "exercises/reap-children.html")
    assert "<h1>Reap every child</h1>" in page
    assert '<pre class="highlight"><code class="language-python">' in page  # the statement's code, highlighted
    assert '<figcaption>reap.py</figcaption>' in page and '<table class="highlighttable">' in page
    assert 'href="../cards/zombie-definition.html"' in page
    # the submissions, newest first, with their tests
    assert page.index("v-passed") < page.index("v-failed")
    assert "2 children left in state Z" in page
    assert (out / "static" / "pygments.css").read_text().count(".highlight .k") >= 2  # light and dark


def test_dashboard_svgs(built):
    out, _ = built
    page = read(out, "dashboard.html")
    for cls in ("heatmap", "bars", "mastery", "verdicts"):
        assert f'<svg class="chart {cls}"' in page, cls
    assert page.count('<svg class="chart bars"') == 2  # forecast and retention
    assert "<title>reap-children 2026-11-25T12:00: passed (100%)</title>" in page
    assert re.search(r"<strong>4</strong> reviews in all", page)


def test_dashboard_figures(tmp_path):
    bank = cards.load_bank(FIXTURES / "bank", set())
    seed_progress(tmp_path / "p.db")
    db = store.open_db(tmp_path / "p.db")
    progress = site.read_progress(db, bank, NOW)
    figures = site.dashboard(bank.select(), progress, NOW)
    assert figures["reviews_total"] == 4
    assert sum(figures["heatmap"]["days"].values()) == 4
    assert figures["forecast"][0] == 1  # close-shared-socket, overdue: today
    assert figures["forecast"][2] == 1 and figures["forecast"][20] == 1
    assert sum(figures["forecast"]) == 3  # the suspended card is left out
    assert figures["retention"]["all_time"] == {"passed": 1, "failed": 0, "rate": 1.0}
    weekly = figures["weekly_retention"]
    assert len(weekly) == 12 and sum(w["passed"] for w in weekly) == 1
    tcp = next(t for t in figures["topics"] if t["id"] == "tcp")
    assert (tcp["cards"], tcp["new"], tcp["learning"], tcp["young"], tcp["mature"]) == (4, 2, 1, 0, 1)  # time-wait-duration: a 30-day interval is mature
    assert [s["verdict"] for s in figures["exercises"]["reap-children"]] == ["failed", "passed"]


def test_flashcard_data_and_terminal_progress_document(built):
    out, _ = built
    text = read(out, "data/cards.js")
    assert text.startswith("window.PREP_SITE = ")
    data = json.loads(text[len("window.PREP_SITE = "):].rstrip().rstrip(";"))
    assert [c["id"] for c in data["cards"]] == [
        "fork-return-values", "zombie-definition", "time-wait-duration", "close-shared-socket",
        "shutdown-write-constant", "handshake-order",
    ]
    assert {t["id"]: t["count"] for t in data["topics"]} == {"tcp": 4, "processes": 2}
    assert data["scheduler"] == {"desired_retention": 0.9, "maximum_interval": 36500, "fuzz": True,
                                 "learning_steps": ["1m", "10m"], "relearning_steps": ["10m"], "new_per_day": 20,
                                 "easy_seconds": 8.0, "day_starts_at": 4}
    by_id = {c["id"]: c for c in data["cards"]}
    # what the review log records as the answer, as the terminal does: the choices' and items' own text
    assert sorted(c["text"] for c in by_id["time-wait-duration"]["choices"]) == [
        "4 minutes (2 x MSL of 2 minutes)", "60 s, fixed", "tcp_fin_timeout seconds"]
    assert by_id["handshake-order"]["items_text"] == ["CLOSED", "SYN_SENT", "ESTABLISHED"]
    assert by_id["shutdown-write-constant"]["accept"] == ["SHUT_WR", "shutdown(fd, SHUT_WR)", "1"]
    doc = data["terminal"]
    assert (doc["format"], doc["version"], doc["source"]) == ("prep-progress", 1, "terminal")
    assert set(doc["cards"]) == {"time-wait-duration", "close-shared-socket", "zombie-definition", "fork-return-values"}
    assert set(doc["cards"]["time-wait-duration"]) == {
        "state", "step", "stability", "difficulty", "due", "last_review", "suspended", "buried_until"}
    assert doc["cards"]["fork-return-values"]["suspended"] is True
    assert set(doc["reviews"][0]) == {"card_id", "rating", "reviewed_at", "duration_ms", "kind", "answer", "correct"}
    assert len(doc["reviews"]) == 4


def test_embedded_progress_keeps_new_cards_set_aside_in_the_terminal(tmp_path):
    """A card suspended before its first review (state 0) reaches the flashcards' "Merge the terminal's progress"."""
    db_path = tmp_path / "progress.db"
    seed_progress(db_path)
    db = store.open_db(db_path)
    store.put_card_state(db, {"card_id": "handshake-order", "state": 0, "step": None, "stability": None,
                              "difficulty": None, "due": store.iso(NOW), "last_review": None,
                              "buried_until": None, "suspended": 1})
    document = site.read_progress(db, cards.load_bank(FIXTURES / "bank", set()), NOW).document
    db.conn.close()
    assert document["cards"]["handshake-order"]["state"] == 0
    assert document["cards"]["handshake-order"]["suspended"] is True


def expand_folds(rules: dict) -> dict[int, str]:
    folds = {first + k * step: chr(first + k * step + delta)
             for first, count, step, delta in rules["runs"] for k in range(count)}
    folds.update({int(code): text for code, text in rules["multi"].items()})
    return folds


def test_text_rules_are_this_pythons_white_space_and_case_folding(built):
    """The tables the browser's answer checker reads (static/text-rules.js) hold every fold and space of str."""
    out, _ = built
    text = read(out, "static/text-rules.js")
    prefix = text.splitlines()[1]
    assert prefix.startswith("window.PREP_TEXT_RULES = ")
    rules = json.loads(prefix[len("window.PREP_TEXT_RULES = "):].rstrip(";"))
    everything = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    assert expand_folds(rules) == {ord(c): c.casefold() for c in everything if c.casefold() != c}
    assert rules["space"] == [ord(c) for c in everything if c.isspace()]
    assert expand_folds(rules)[ord("ß")] == "ss" and 0x85 in rules["space"]
    # the build reads planes 0 and 1 only: Unicode gives case and white space to nothing beyond
    beyond = [c for c in everything if ord(c) >= site.CASED_PLANES_END and (c.casefold() != c or c.isspace())]
    assert beyond == []


def test_no_broken_internal_link_and_nothing_from_the_network(built):
    out, _ = built
    assert broken_links(out) == []
    for path in out.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", text), path
        assert "@import" not in text and "fonts.googleapis" not in text
    css = (out / "static" / "site.css").read_text()
    assert "url(" not in css and "@font-face" not in css


def test_markup_in_cards_is_escaped(tmp_path):
    bank_dir = tmp_path / "bank"
    shutil.copytree(FIXTURES / "bank", bank_dir)
    path = bank_dir / "tcp.yaml"
    path.write_text(path.read_text().replace(
        "prompt: After fork, the child closes the connected socket. Does the peer see EOF?",
        "prompt: 'Is <script>alert(1)</script> run? And `<b>`?'"))
    bank = cards.load_bank(bank_dir, set())
    out = site.build(bank, tmp_path / "site", search=False, now=NOW).out
    page = read(out, "cards/close-shared-socket.html")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<code>&lt;b&gt;</code>" in page
    assert "<script>alert" not in read(out, "data/cards.js")


def test_drafts_stay_out(tmp_path):
    bank_dir = tmp_path / "bank"
    shutil.copytree(FIXTURES / "bank", bank_dir)
    (bank_dir / "inbox.yaml").write_text(
        "topic: inbox\ncards:\n  - id: draft-notes-line-8\n    draft: true\n    type: recall\n"
        "    prompt: TODO\n    source: {section: \"3/19\", lines: [8]}\n", encoding="utf-8")
    bank = cards.load_bank(bank_dir, set())
    out = site.build(bank, tmp_path / "site", search=False, now=NOW).out
    assert not (out / "cards" / "draft-notes-line-8.html").exists()
    assert not (out / "topics" / "inbox.html").exists()
    assert "draft-notes-line-8" not in read(out, "data/cards.js")


def test_without_progress_there_is_no_dashboard(tmp_path):
    out = build_fixture_site(tmp_path, with_progress=False).out
    assert not (out / "dashboard.html").exists()
    assert "dashboard.html" not in read(out, "index.html")
    assert "Your submissions" not in read(out, "exercises/reap-children.html")
    assert "window.PREP_SITE" in read(out, "data/cards.js") and '"terminal":null' in read(out, "data/cards.js")


# --- search --------------------------------------------------------------------------


def test_search_bundles_are_built_offline_one_language_each(tmp_path):
    result = build_fixture_site(tmp_path, search=True, with_progress=False)
    assert result.search is not None
    assert result.search.languages == ["zh", "en"]
    assert result.search.pages == 7  # six cards and the exercise: only pages marked data-pagefind-body
    for language, folder in site.SEARCH_BUNDLES:
        bundle = result.out / folder
        assert (bundle / "pagefind.js").is_file()
        metas = [p.name for p in bundle.glob("pagefind.*.pf_meta")]
        assert len(metas) == 1 and metas[0].startswith(f"pagefind.{language}_"), metas


def test_search_page_can_search_the_cards_data_where_pagefind_cannot_load(built):
    """From file:// the search page searches data/cards.js: every card's tags and Chinese terms are in it."""
    out, _ = built
    text = read(out, "data/cards.js")
    data = json.loads(text[len("window.PREP_SITE = "):].rstrip().rstrip(";"))
    by_id = {c["id"]: c for c in data["cards"]}
    assert (by_id["time-wait-duration"]["zh"], by_id["time-wait-duration"]["tags"]) == (["TIME_WAIT", "四次挥手"], ["time-wait"])
    assert (by_id["close-shared-socket"]["zh"], by_id["close-shared-socket"]["tags"]) == (["引用计数"], ["close", "fork"])
    page = read(out, "search.html")
    assert (out / "static" / "offline-search.js").is_file()
    assert page.index('<script src="static/offline-search.js">') < page.index('<script src="static/search.js"')
    assert '<p id="search-mode" class="meta" hidden></p>' in page  # the line saying the offline search answers
    assert "Search needs the site to be served" not in page


def test_missing_pagefind_is_an_environment_problem(tmp_path, monkeypatch):
    import pagefind.service

    monkeypatch.setattr(pagefind.service, "get_executable", lambda: None)
    bank = cards.load_bank(FIXTURES / "bank", set())
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / site.MARKER).write_text("old\n")
    (tmp_path / "site" / "index.html").write_text("the old site\n")
    with pytest.raises(EnvironmentProblem, match=r"the Pagefind binary is missing: `pip install 'pagefind\[extended\]'`"):
        site.build(bank, tmp_path / "site", search=True, now=NOW)
    assert (tmp_path / "site" / "index.html").read_text() == "the old site\n"  # kept when a build fails
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no half-built folder left behind


# --- the output folder -----------------------------------------------------------------


def test_refuses_to_overwrite_a_folder_it_did_not_make(tmp_path):
    bank = cards.load_bank(FIXTURES / "bank", set())
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(InputError) as caught:
        site.build(bank, tmp_path / "mine", search=False, now=NOW)
    assert str(caught.value) == (
        f"{tmp_path / 'mine'}: the folder is not empty and was not made by `prep site build` (no .prep-site); "
        "choose another --dir or empty it"
    )
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_rebuild_replaces_the_previous_site(tmp_path):
    bank = cards.load_bank(FIXTURES / "bank", set())
    out = site.build(bank, tmp_path / "site", search=False, now=NOW).out
    (out / "cards" / "stale.html").write_text("from an older bank")
    site.build(bank, out, search=False, now=NOW)
    assert not (out / "cards" / "stale.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_progress_callback_reports_pages(tmp_path):
    bank = cards.load_bank(FIXTURES / "bank", set())
    calls = []
    result = site.build(bank, tmp_path / "site", search=False, now=NOW, on_progress=lambda *a: calls.append(a))
    assert calls[-1] == ("pages", result.pages, result.pages)


def test_a_broken_exercise_is_left_out_and_reported(tmp_path):
    root = make_exercises(tmp_path)
    shutil.copytree(root / "reap-children", root / "broken")
    (root / "broken" / "exercise.yaml").write_text("title: [unclosed\n")
    pages, problems = site.load_exercises(root)
    assert [p.slug for p in pages] == ["reap-children"]
    assert len(problems) == 1 and problems[0].startswith("exercises/broken/exercise.yaml:1: ")


# --- serving ---------------------------------------------------------------------------


def test_server_binds_loopback_and_serves_the_site(built):
    out, _ = built
    server = site.make_server(out, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/cards/time-wait-duration.html") as reply:
            assert reply.status == 200 and "TIME_WAIT" in reply.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/vendor/ts-fsrs/index.umd.js") as reply:
            assert reply.headers["Content-Type"].startswith("text/javascript")
    finally:
        server.shutdown()
        server.server_close()


def test_serving_a_folder_without_a_site_says_what_to_do(tmp_path):
    with pytest.raises(NotFoundError) as caught:
        site.make_server(tmp_path / "nothing", 0)
    assert str(caught.value) == (
        f"{tmp_path / 'nothing'}: no built site here; run `prep site build --dir {tmp_path / 'nothing'}` first")


# --- the command line ----------------------------------------------------------------------


def test_cli_build_json(runner, tmp_path):
    exercises = make_exercises(tmp_path)
    db = tmp_path / "p.db"
    seed_progress(db)
    result = run_cli(
        runner, "--bank", str(FIXTURES / "bank"), "--db", str(db), "site", "build", "--out", str(tmp_path / "out"),
        "--exercises", str(exercises), "--with-progress", "--no-search", "--json",
        env={"PREP_NOW": "2026-11-26T12:00:00+00:00"},
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["index"] == str(tmp_path / "out" / "index.html")
    assert (data["cards"], data["exercises"], data["with_progress"], data["search"]) == (6, 1, True, None)
    assert (tmp_path / "out" / "dashboard.html").is_file()


def test_cli_build_for_people(runner, tmp_path):
    result = run_cli(runner, "--bank", str(FIXTURES / "bank"), "site", "build", "--out", str(tmp_path / "out"),
                     "--exercises", str(tmp_path), "--no-search")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "out" / "index.html")
    assert re.search(r"^\d+ pages \(6 cards, 0 exercises, 6 tags\) in \d+\.\d s; no search index \(--no-search\)$",
                     result.stderr, re.M)


def test_cli_errors(runner, tmp_path):
    result = run_cli(runner, "--bank", str(FIXTURES / "bank"), "site", "build", "--out", str(tmp_path / "o"),
                     "--exercises", str(tmp_path / "nope"))
    assert result.exit_code == 2  # a bad option value
    assert result.stderr.strip() == (f"Error: --exercises: {tmp_path / 'nope'} is not a folder; "
                                     "give a folder of exercises (each in its own folder, with an exercise.yaml)")
    served = run_cli(runner, "site", "serve", "--dir", str(tmp_path / "nothing"))
    assert served.exit_code == 1
    assert served.stderr.strip() == (
        f"Error: {tmp_path / 'nothing'}: no built site here; run `prep site build --dir {tmp_path / 'nothing'}` first")


def test_cli_one_name_for_the_site_folder(runner, tmp_path):
    """`--dir` on both commands; `--out` (and -o, -d) kept on both as the same option."""
    for flag in ("--dir", "--out", "-d", "-o"):
        folder = tmp_path / flag.strip("-")
        result = run_cli(runner, "--bank", str(FIXTURES / "bank"), "site", "build", flag, str(folder), "--no-search")
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == str(folder / "index.html")
        assert f"`prep site serve --dir {folder}`" in result.stderr
        served = run_cli(runner, "site", "serve", flag, str(tmp_path / "nothing"))
        assert served.exit_code == 1
        assert served.stderr.strip() == (
            f"Error: {tmp_path / 'nothing'}: no built site here; run `prep site build --dir {tmp_path / 'nothing'}` first")
    for command in ("build", "serve"):
        text = run_cli(runner, "site", command, "--help", env={"COLUMNS": "200"}).stdout
        assert "--dir" in text and "--out" in text, text


def test_cli_help(runner):
    for args in (("site", "--help"), ("site", "build", "--help"), ("site", "serve", "--help")):
        result = run_cli(runner, *args)
        assert result.exit_code == 0
    assert "--with-progress" in run_cli(runner, "site", "build", "--help").stdout
    assert "127.0.0.1" in run_cli(runner, "site", "serve", "--help").stdout


# --- the shipped bank ----------------------------------------------------------------------


def shipped_bank() -> cards.Bank:
    from prep import content

    bank = cards.load_bank(content.bank_dir(), content.exercise_slugs())
    assert bank.select(), "the shipped bank has no cards"
    return bank


def test_shipped_bank_builds_with_no_broken_link(tmp_path):
    from prep import content

    bank = shipped_bank()
    exercises, _ = site.load_exercises(content.exercises_dir())
    result = site.build(bank, tmp_path / "site", exercises=exercises, search=False, now=NOW)
    assert result.cards == len(bank.select())
    assert broken_links(result.out) == []


def test_card_pages_do_not_always_put_the_right_choice_first(tmp_path):
    """The bank lists the right choice first; a page keeping that order would teach "pick the first"."""
    bank = shipped_bank()
    out = site.build(bank, tmp_path / "site", search=False, now=NOW).out
    singles = [c for c in bank.cards if c.type == "single"]
    first_right = 0
    for card in singles:
        page = (out / "cards" / f"{card.id}.html").read_text(encoding="utf-8")
        marks = re.findall(r'<li class="choice" data-correct="(true|false)"', page)
        assert marks.count("true") == 1, card.id
        first_right += marks[0] == "true"
    assert len(singles) > 100
    assert first_right < len(singles) * 0.5, f"the right choice comes first on {first_right} of {len(singles)} pages"


# --- two languages ---------------------------------------------------------------------------


def test_a_card_in_two_languages_has_both_on_its_one_page(built):
    out, _ = built
    page = read(out, "cards/zombie-definition.html")
    assert '<span class="l-en" lang="en">What is a zombie process?</span><span class="l-sep"> </span><span class="l-zh" lang="zh">什么是僵尸进程？</span>' in page
    assert '<div class="l-zh" lang="zh"><p>已经退出、但父进程还没有 wait 它的子进程。</p>\n</div>' in page
    assert 'id="lang-switch"' in page and 'localStorage.getItem("prep-lang")' in page
    english_only = read(out, "cards/time-wait-duration.html")
    main = english_only.split("</header>")[1].split("</main>")[0]
    for key, value in EN.items():  # the site's own words are in both languages; the card's text is not
        if isinstance(value, str) and key.startswith(("site_", "js_")) and "{" not in value:
            main = main.replace(str(site._label_both(key)), "")
    assert 'class="l-zh"' not in main  # one side: written once, shown in both languages
    assert 'id="lang-switch"' in english_only
    assert not (out / "zh").exists()  # one URL a card
    assert '<span class="l-en" lang="en">Processes</span><span class="l-sep"> </span><span class="l-zh" lang="zh">进程</span>' in read(out, "index.html")
    text = read(out, "data/cards.js")
    data = json.loads(text[len("window.PREP_SITE = "):].rstrip().rstrip(";"))
    zombie = next(c for c in data["cards"] if c["id"] == "zombie-definition")
    assert "什么是僵尸进程？" in zombie["title"] and "内核保留它的退出状态" in zombie["explanation"]
    assert next(t for t in data["topics"] if t["id"] == "processes")["titles"] == {"en": "Processes", "zh": "进程"}


def test_a_canon_card_has_no_notes_section(tmp_path):
    bank_dir = tmp_path / "bank"
    shutil.copytree(FIXTURES / "bank", bank_dir)
    topics = bank_dir / "topics.yaml"
    topics.write_text(topics.read_text() + "  - id: canon\n    title: Canon\n    description: Beyond the notes.\n    canon: true\n")
    (bank_dir / "canon.yaml").write_text(
        "topic: canon\ncards:\n  - id: canon-card\n    type: recall\n    prompt: {en: Why?, zh: 为什么？}\n"
        "    answer: Because.\n    explanation: It is so.\n    tags: [why]\n    refs: [\"man(1)\"]\n    zh: [为什么]\n"
        "    corrects: a claim\n")
    result = site.build(cards.load_bank(bank_dir, set()), tmp_path / "site", notes=notes.read_notes(FIXTURES / "notes.txt"),
                        search=False, now=NOW)
    page = read(result.out, "cards/canon-card.html")
    assert "From the notes" not in page and "为什么？" in page
    assert "canon-card" not in read(result.out, "corrections.html")  # what the notes got wrong: not a canon card's claim


@pytest.mark.parametrize("share", [True, False])
def test_cli_serve_shares_the_progress_database_unless_told_not_to(tmp_path, share):
    import os
    import subprocess
    import sys

    out = build_fixture_site(tmp_path, with_progress=False).out
    db_path = tmp_path / "p.db"
    seed_progress(db_path)
    args = [sys.executable, "-m", "prep", "--db", str(db_path), "site", "serve", "--dir", str(out), "--port", "0"]
    env = {**os.environ, "NO_COLOR": "1"}
    child = subprocess.Popen(args + ([] if share else ["--no-progress"]), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = child.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), url
        with urllib.request.urlopen(url + "api/progress", timeout=10) as response:
            data = json.loads(response.read())
    finally:
        child.terminate()
        _, err = child.communicate(timeout=10)
    if share:
        assert data["format"] == "prep-progress" and len(data["reviews"]) == 4
        assert f"serving {out} (Ctrl-C stops); the flashcards use the progress in {db_path}" in err
    else:
        assert data["shared"] is False
        assert f"serving {out} (Ctrl-C stops)\n" in err


# --- the site's own words in the learner's language -----------------------------------------


def nav_labels(page: str, lang: str) -> list[str]:
    nav = page.split('<nav class="site-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(rf'<span class="l-{lang}" lang="{lang}">([^<]*)</span>', nav)


@pytest.mark.parametrize("how", ["--lang", "setting"])
def test_a_site_built_in_chinese_opens_in_chinese_with_chinese_labels(runner, tmp_path, how):
    """Built in zh (--lang zh, or `lang` of the settings) the pages open in Chinese: the cards' Chinese side and the
    site's own words (navigation, headings, buttons); the header's switch still shows English, labels too."""
    env = {"PREP_DB": str(tmp_path / "p.db"), "PREP_NOW": NOW.isoformat()}
    args = ["--bank", str(FIXTURES / "bank"), "site", "build", "--no-search", "--dir", str(tmp_path / "zh")]
    if how == "--lang":
        args += ["--lang", "zh"]
    else:
        (tmp_path / "settings.toml").write_text('[quiz]\nlang = "zh"\n')
        env["PREP_CONFIG"] = str(tmp_path / "settings.toml")
    result = run_cli(runner, *args, env=env)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "zh"
    index = read(out, "index.html")
    assert '<html lang="zh" data-lang="zh">' in index
    assert "<title" in index and ">学习站点 · prep</title>" in index
    assert nav_labels(index, "zh") == ["主题", "闪卡", "练习", "标签", "笔记勘误"]
    assert nav_labels(index, "en") == ["Topics", "Flashcards", "Exercises", "Tags", "Notes got wrong"]
    assert '<h1><span class="l-en" lang="en">Linux systems programming: interview prep</span><span class="l-sep"> </span>' \
           '<span class="l-zh" lang="zh">Linux 系统编程：面试准备</span></h1>' in index
    assert 'placeholder="搜索：TIME_WAIT、僵尸进程…"' in index and 'aria-label="语言：中文；切换到英文"' in index
    flashcards = read(out, "flashcards.html")
    for zh in ("重来", "困难", "良好", "简单", "显示答案", "下一张", "开始学习", "撤销", "搁置", "暂停"):
        assert f'<span class="l-zh" lang="zh">{zh}</span>' in flashcards, zh
    failed = flashcards.split('<template id="fc-failed">', 1)[1].split("</template>", 1)[0]  # shown when the data did not load
    assert '<span class="l-zh" lang="zh">闪卡数据、调度器或答案检查器没有载入；请用 `prep site build` 重新生成网站。</span>' in failed
    assert '<span class="l-en" lang="en">The flashcard data, the scheduler or the answer checker did not load;' in failed
    text = read(out, "data/cards.js")
    data = json.loads(text[len("window.PREP_SITE = "):].rstrip().rstrip(";"))
    assert data["labels"]["zh"]["js_right"] == "✓ 正确。" and data["labels"]["zh"]["ratings"]["1"] == "重来"
    card = read(out, "cards/zombie-definition.html")
    assert '<span class="l-zh" lang="zh">答案</span>' in card and '<span class="l-zh" lang="zh">显示答案</span>' in card
    assert data["labels"]["zh"]["js_also_accepted"] == "也接受："  # the flashcards' line under a short answer
    short = next(c for c in data["cards"] if c["id"] == "shutdown-write-constant")
    assert short["also_accepted"] == ["shutdown(fd, SHUT_WR)", "1"]
    page = read(out, "cards/shutdown-write-constant.html")
    assert '<span class="l-zh" lang="zh">也接受：</span>' in page and "<code>shutdown(fd, SHUT_WR)</code>, <code>1</code>" in page


def test_a_site_built_in_english_opens_in_english(built):
    out, _ = built
    index = read(out, "index.html")
    assert '<html lang="en">' in index and "data-lang" not in index.split("<head>")[0]
    assert ">Study site · prep</title>" in index and 'placeholder="Search: TIME_WAIT, 僵尸进程…"' in index


def test_every_label_has_its_chinese():
    from prep.labels import ZH

    assert set(EN) - set(ZH) == {"lang_names"}  # shared: each language named in its own words
    assert ZH["ratings"] == {1: "重来", 2: "困难", 3: "良好", 4: "简单"}
