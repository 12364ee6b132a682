"""The study site in headless Chromium: search, reveal, flashcards, console errors, links, screenshots.

Uses Debian's chromium through the playwright package (no browser download). The
tests skip with the reason when chromium or playwright is missing, and fail instead
under CI=true. Screenshots go to test-artifacts/ for a reviewer to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urldefrag, urlsplit

import pytest

from prep import cards, content, site

from .conftest import FIXTURES, REPO, in_ci
from .test_site import NOW, build_fixture_site, seed_progress

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
ARTIFACTS = REPO / "test-artifacts"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"Debian's chromium is not at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if in_ci():
            pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Served:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.server = site.make_server(out, 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser-site")
    result = build_fixture_site(tmp, search=True, with_progress=True)
    s = Served(result.out)
    yield s
    s.close()


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped bank's site with search (the bank must load: test_cards reports its problems)."""
    bank = cards.load_bank(content.bank_dir(), content.exercise_slugs())
    assert bank.select(), "the shipped bank has no cards"
    exercises, _ = site.load_exercises(content.exercises_dir())
    result = site.build(bank, tmp_path_factory.mktemp("shipped") / "site", exercises=exercises, search=True, now=NOW)
    s = Served(result.out)
    s.bank = bank  # type: ignore[attr-defined]
    yield s
    s.close()


class Console:
    """Console errors and uncaught exceptions of every page of a context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: uncaught: {e}"))


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    console = Console()
    ctx.on("page", console.watch)
    ctx.console = console  # type: ignore[attr-defined]
    yield ctx
    ctx.close()
    assert console.errors == [], "\n".join(console.errors)


@pytest.fixture
def page(context):
    return context.new_page()


def sides(text) -> str:
    """Both languages of a text of a card (the pages carry both), or the one it has."""
    return " ".join(cards.text_sides(text).values())


def card_text(c) -> str:
    """Every text of a card, in every language it has, with its Chinese terms."""
    return " ".join([sides(c.prompt), sides(c.answer), sides(c.explanation), *c.zh, *map(sides, c.items or []),
                     *(sides(x.text) for x in c.choices or []), *(sides(x.why) for x in c.choices or [])])


def result_links(page, base: str, query: str) -> list[str]:
    page.goto(f"{base}search.html?q={quote(query)}")
    page.wait_for_function("document.getElementById('search-status').textContent.match(/result|No card/)")
    return page.eval_on_selector_all("#search-results a", "links => links.map(a => a.getAttribute('href'))")


# --- search --------------------------------------------------------------------------


def test_search_finds_time_wait_and_the_zombie_card(served, page):
    assert result_links(page, served.base, "TIME_WAIT")[0] == "cards/time-wait-duration.html"
    zombie = result_links(page, served.base, "僵尸进程")
    # the card whose Chinese terms hold it, and the exercise whose statement says it; nothing else
    assert zombie[0] == "cards/zombie-definition.html"
    assert set(zombie) <= {"cards/zombie-definition.html", "exercises/reap-children.html"}
    page.click("#search-results a >> nth=0")
    page.wait_for_url("**/cards/zombie-definition.html")


def test_search_from_the_header_box(served, page):
    page.goto(served.base + "index.html")
    page.fill("#site-search", "TIME_WAIT")
    page.press("#site-search", "Enter")
    page.wait_for_url("**/search.html?q=TIME_WAIT")
    page.wait_for_selector("#search-results a")
    assert page.inner_text("#search-status") == "1 result for “TIME_WAIT”."


def test_search_on_the_shipped_bank(shipped, page):
    """TIME_WAIT: every card that says it. 僵尸进程: every card whose prompt or key terms say it (in running
    Chinese text Pagefind's segmenter may cut the word elsewhere, and it also finds 僵尸 alone)."""
    for term in ("TIME_WAIT", "僵尸进程"):
        holders = {f"cards/{c.id}.html" for c in shipped.bank.select() if term in card_text(c)}
        assert holders, f"no card of the shipped bank says {term}"
        found = result_links(page, shipped.base, term)
        assert found and found[0] in holders, (term, found[:5])
        if term.isascii():
            must = holders
        else:
            must = {f"cards/{c.id}.html" for c in shipped.bank.select() if term in sides(c.prompt) or term in c.zh}
            assert must
        assert must <= set(found), (term, sorted(must - set(found)))


def test_shipped_site_pages_have_no_console_errors(shipped, page, context):
    sample = ["index.html", "flashcards.html", "corrections.html", "tags/index.html", "exercises/index.html", "about.html"]
    for topic in sorted((shipped.out / "topics").glob("*.html")):
        sample.append(f"topics/{topic.name}")
    first_of_topic = {}
    for card in shipped.bank.select():
        first_of_topic.setdefault(card.topic, card.id)
    sample += [f"cards/{cid}.html" for cid in first_of_topic.values()]
    sample += [f"exercises/{p.name}" for p in sorted((shipped.out / "exercises").glob("*.html"))]
    for name in sample:
        response = page.goto(shipped.base + name)
        assert response is not None and response.status == 200, name
    page.goto(shipped.base + "flashcards.html")
    page.click("#fc-start")
    page.click("#fc-reveal")  # Space would be typed into a short or order card's box
    assert page.is_visible("#fc-rate")
    # the console fixture asserts that none of these pages logged an error


def test_a_query_mixing_latin_and_chinese_searches_both_indexes(shipped, served, page):
    """TIME_WAIT状态: the zh index alone found 4 of the cards saying TIME_WAIT; both, merged, find them all."""
    holders = {f"cards/{c.id}.html" for c in shipped.bank.select()
               if "TIME_WAIT" in card_text(c)}
    assert len(holders) > 4
    found = result_links(page, shipped.base, "TIME_WAIT状态")
    assert holders <= set(found), sorted(holders - set(found))
    assert len(found) == len(set(found))  # each page once, though both indexes hold it
    assert page.inner_text("#search-status").startswith(f"{len(found)} results for “TIME_WAIT状态”")
    # the pages both indexes found come first: on the fixture site, the one card saying TIME_WAIT and 四次挥手
    found = result_links(page, served.base, "TIME_WAIT 四次挥手")
    assert found[0] == "cards/time-wait-duration.html" and len(found) == len(set(found))


def offline_links(page, out: Path, query: str) -> list[str]:
    """The results of the search page opened from the file system, where Pagefind cannot load."""
    return result_links(page, (out / "search.html").as_uri().removesuffix("search.html"), query)


def holds(text: str, word: str) -> bool:
    """The offline search's rule: Chinese anywhere, any other word at the start of a word, any case."""
    if re.match(r"[\u3400-\u9fff]", word):
        return word in text
    return re.search(r"(?<![a-z0-9])" + re.escape(word.lower()), text.lower()) is not None


def card_parts(bank, card) -> tuple[str, str, str]:
    """What the offline search reads of a card: title and prompt with the Chinese terms; tags and topic; the rest."""
    body = [sides(card.answer), sides(card.explanation), *map(sides, card.items or []),
            *(sides(c.text) for c in card.choices or []), *(sides(c.why) for c in card.choices or [])]
    return (" ".join([sides(card.prompt), *card.zh]), " ".join([*card.tags, card.topic, sides(bank.topics[card.topic].title)]),
            " ".join(body))


def test_search_from_the_file_system_searches_the_cards_data(served, page):
    """Opened as a file, where Pagefind cannot load: an English word, a Chinese term, a mixed query, a link."""
    assert offline_links(page, served.out, "TIME_WAIT") == ["cards/time-wait-duration.html"]
    assert page.inner_text("#search-status") == "1 result for “TIME_WAIT”."
    assert page.inner_text("#search-mode") == ("Offline search: card titles, prompts, answers, tags, Chinese terms. "
                                               "prep site serve for full-text search.")
    assert page.inner_text("#search-results .excerpt mark") == "TIME_WAIT"
    # every query word must be there: fork is in two cards' prompts, and one of them says "peer" too
    assert offline_links(page, served.out, "fork") == ["cards/fork-return-values.html", "cards/close-shared-socket.html"]
    assert offline_links(page, served.out, "FORK peer") == ["cards/close-shared-socket.html"]
    assert offline_links(page, served.out, "TIME_WAIT四次挥手") == ["cards/time-wait-duration.html"]
    assert offline_links(page, served.out, "挥手") == ["cards/time-wait-duration.html"]  # inside 四次挥手
    assert offline_links(page, served.out, "僵尸进程") == ["cards/zombie-definition.html"]  # the card's zh term
    page.click("#search-results a >> nth=0")
    page.wait_for_url((served.out / "cards" / "zombie-definition.html").as_uri())
    assert page.inner_text("h1") == "What is a zombie process?"


def test_offline_search_ranks_title_and_chinese_terms_above_the_answer(served, page):
    # "waited" is in the zombie card's answer, TIME_WAIT in the other card's title and zh terms
    assert offline_links(page, served.out, "wait") == ["cards/time-wait-duration.html", "cards/zombie-definition.html"]
    # "child" is in fork-return-values's choices and close-shared-socket's prompt, which comes first
    assert offline_links(page, served.out, "child") == [
        "cards/close-shared-socket.html", "cards/fork-return-values.html", "cards/zombie-definition.html"]


def test_offline_search_on_the_shipped_bank(shipped, page):
    """English, a Chinese term of the notes and TIME_WAIT状态, from the file system: every card holding them, ranked."""
    bank = shipped.bank
    chinese = next(t for t in ("四次挥手", "僵尸进程", "半关闭") if sum(t in c.zh for c in bank.select()) >= 2)

    def weights(word: str) -> dict[str, int]:
        """Each card holding `word`, and where: 3 title, prompt or zh terms, 2 tags or topic, 1 the rest."""
        found = {}
        for card in bank.select():
            where = [3 - i for i, part in enumerate(card_parts(bank, card)) if holds(part, word)]
            if where:
                found[f"cards/{card.id}.html"] = max(where)
        return found

    for word in ("epoll", chinese):
        expected = weights(word)
        assert len(expected) >= 2, word
        found = offline_links(page, shipped.out, word)
        assert set(found) == set(expected) or (len(expected) > 40 and len(found) == 40), (word, set(found) ^ set(expected))
        ranks = [expected[url] for url in found]
        assert ranks == sorted(ranks, reverse=True), (word, list(zip(found, ranks)))  # title and zh hits first
    # a query of two words: the cards holding both (in the bilingual bank, "TIME_WAIT 状态" is said in Chinese)
    time_wait, state = weights("TIME_WAIT"), weights("状态")
    both = set(time_wait) & set(state)
    assert both and len(both) <= 40, len(both)
    found = offline_links(page, shipped.out, "TIME_WAIT状态")
    assert set(found) == both, set(found) ^ both
    assert page.inner_text("#search-status") == f"{len(found)} result{'s' if len(found) != 1 else ''} for “TIME_WAIT状态”."
    # and where no card holds both words, those holding the rarer one first, said as such
    rare, common = weights("SO_LINGER"), weights("epoll")
    assert rare and not set(rare) & set(common) and len(rare) + len(common) > len(rare)
    found = offline_links(page, shipped.out, "SO_LINGER epoll")
    assert set(found[:len(rare)]) == set(rare), found[:len(rare)]
    assert page.inner_text("#search-status").startswith("No card holds every word of “SO_LINGER epoll”: ")
    page.click("#search-results a >> nth=0")
    page.wait_for_url("file://**/cards/*.html")
    assert "SO_LINGER" in page.inner_text("article.card")


def test_served_pagefind_answers_and_the_cards_data_only_when_it_fails(served, browser, tmp_path):
    requested: list[str] = []
    ctx = browser.new_context()
    ctx.on("request", lambda r: requested.append(urlsplit(r.url).path))
    page = ctx.new_page()
    assert result_links(page, served.base, "僵尸进程")[0] == "cards/zombie-definition.html"
    assert page.locator("#search-mode").count() == 1 and page.is_hidden("#search-mode")
    assert "/pagefind/pagefind.js" in requested and "/data/cards.js" not in requested
    # the same site whose indexes are gone: the search page says so in a line and searches the cards' data
    broken = tmp_path / "broken"
    shutil.copytree(served.out, broken, ignore=shutil.ignore_patterns("pagefind", "pagefind-en"))
    other = Served(broken)
    try:
        assert result_links(page, other.base, "僵尸进程") == ["cards/zombie-definition.html"]
        assert page.inner_text("#search-mode").startswith("Offline search: card titles, prompts, answers, tags, Chinese terms. "
                                                          "The full-text index did not load (")
        assert "/data/cards.js" in requested
    finally:
        other.close()
        ctx.close()


def test_flashcards_without_their_data_say_so_in_the_page_s_languages(served, browser, tmp_path):
    """The failure line comes from the page (prep/labels.py), both languages, since the data with the labels is what failed."""
    broken = tmp_path / "no-data"
    shutil.copytree(served.out, broken)
    (broken / "data" / "cards.js").unlink()
    other = Served(broken)
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(other.base + "flashcards.html")
        summary = page.locator("#fc-summary")
        assert summary.locator("span.l-en").text_content() == (
            "The flashcard data, the scheduler or the answer checker did not load; rebuild the site with `prep site build`.")
        assert summary.locator("span.l-zh").text_content() == "闪卡数据、调度器或答案检查器没有载入；请用 `prep site build` 重新生成网站。"
        assert page.is_disabled("#fc-start")
    finally:
        other.close()
        ctx.close()


# --- a card page -------------------------------------------------------------------------


def test_reveal_button_and_space(served, page):
    page.goto(served.base + "cards/time-wait-duration.html")
    assert page.is_hidden("#answer")
    page.check("li.choice:nth-child(2) input")  # the misconception: tcp_fin_timeout
    page.click("button.reveal")
    assert page.is_visible("#answer")
    assert "60 seconds, fixed by TCP_TIMEWAIT_LEN." in page.inner_text("#answer")
    assert page.get_attribute("li.choice:nth-child(2)", "class") == "choice picked"
    assert page.is_visible("li.choice:nth-child(2) .why")
    page.goto(served.base + "cards/zombie-definition.html")
    assert page.is_hidden("#answer")
    page.keyboard.press("Space")
    assert page.is_visible("#answer")


def test_short_answer_check(served, page):
    page.goto(served.base + "cards/shutdown-write-constant.html")
    page.fill("#typed", " `shut_wr`. ")
    page.click("form.short-answer button")
    assert page.inner_text("output.verdict-line") == "Right."
    assert page.is_visible("#answer")


def test_card_page_prints_with_its_answer(served, page):
    page.goto(served.base + "cards/time-wait-duration.html")
    page.emulate_media(media="print", color_scheme="dark")
    assert page.is_visible("#answer") and page.is_visible("li.choice:nth-child(2) .why")
    assert page.is_hidden("header.site-header") and page.is_hidden("button.reveal")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"  # never dark on paper


# --- flashcards ------------------------------------------------------------------------


def stored(page) -> dict:
    return json.loads(page.evaluate("localStorage.getItem('prep-progress:v1')") or "null")


def rate_three(page) -> list[str]:
    page.click("#fc-start")
    rated = []
    for _ in range(3):
        page.wait_for_selector("#fc-reveal", state="visible")
        rated.append(page.get_attribute("#fc-open", "href"))
        page.keyboard.press("Space")
        assert page.is_visible("#fc-answer") and page.is_visible("#fc-rate")
        page.keyboard.press("3")
    return rated


def test_flashcards_rate_three_and_survive_a_reload(served, page, tmp_path):
    page.goto(served.base + "flashcards.html")
    rated = rate_three(page)
    assert len(set(rated)) == 3
    page.reload()
    doc = stored(page)
    assert (doc["format"], doc["version"], doc["source"]) == ("prep-progress", 1, "browser")
    assert [r["rating"] for r in doc["reviews"]] == [3, 3, 3]
    assert {f"cards/{r['card_id']}.html" for r in doc["reviews"]} == set(rated)
    assert all(r["kind"] == "browser" for r in doc["reviews"])
    for card_id in (r["card_id"] for r in doc["reviews"]):
        entry = doc["cards"][card_id]
        assert (entry["state"], entry["step"]) == (1, 1)  # Good on a new card: learning, second step (as py-fsrs)
        assert entry["due"].endswith("+00:00") and entry["last_review"].endswith("+00:00")
    assert page.inner_text("#fc-summary") == (
        "0 due · 3 new for today (of 3 unseen; 20 a day) · 3 reviewed today in this browser, 3 reviews in all.")
    page.click("#fc-start")  # the rated cards wait 10 minutes: the next one is another
    assert page.get_attribute("#fc-open", "href") not in rated
    page.keyboard.press("Escape")  # back to the topics, where export and import are

    # Export: the document of docs/progress.md
    page.click(".fc-data summary")
    with page.expect_download() as download:
        page.click("#fc-export")
    exported = json.loads(Path(download.value.path()).read_text())
    assert list(exported) == ["format", "version", "exported_at", "source", "cards", "reviews"]
    assert len(exported["reviews"]) == 3 and set(exported["reviews"][0]) == {
        "card_id", "rating", "reviewed_at", "duration_ms", "kind", "answer", "correct"}
    target = tmp_path / "browser.json"
    target.write_text(json.dumps(exported))
    # ... which the terminal's importer reads and merges (browser -> terminal)
    from prep import progress as progress_lib
    from prep import store

    db = store.open_db(tmp_path / "terminal.db")
    report = progress_lib.import_progress(db, progress_lib.read_file(target))
    assert (report.reviews_added, report.cards_updated) == (3, 3)
    assert db.execute("select count(*) from reviews where kind = 'browser'").fetchone()[0] == 3
    again = progress_lib.import_progress(db, progress_lib.read_file(target))
    assert (again.reviews_added, again.reviews_known) == (0, 3)
    db.conn.close()

    # Merging the terminal's progress (built into this site) adds its 4 reviews once, then nothing.
    # The latest last_review wins: the three cards just rated keep the browser's state, and only
    # close-shared-socket (reviewed in the terminal alone) takes the terminal's.
    assert {r["card_id"] for r in doc["reviews"]} == {"fork-return-values", "zombie-definition", "time-wait-duration"}
    page.click("#fc-terminal")
    assert page.inner_text("#fc-data-status") == "Merged the terminal's progress: 4 new reviews and 1 card states."
    assert stored(page)["cards"]["close-shared-socket"]["state"] == 1
    page.click("#fc-terminal")
    assert page.inner_text("#fc-data-status") == "Merged the terminal's progress: 0 new reviews and 0 card states."
    assert len(stored(page)["reviews"]) == 7

    # Importing the exported file into a fresh browser gives the same three reviews; twice changes nothing
    fresh = page.context.browser.new_context()
    other = fresh.new_page()
    other.goto(served.base + "flashcards.html")
    other.click(".fc-data summary")
    other.set_input_files("#fc-import", str(target))
    other.wait_for_function("document.getElementById('fc-data-status').textContent.includes('merged')")
    assert other.inner_text("#fc-data-status") == "browser.json: merged 3 new reviews and 3 card states."
    other.set_input_files("#fc-import", str(target))
    other.wait_for_function("document.getElementById('fc-data-status').textContent.includes('0 new')")
    assert stored(other)["reviews"] == exported["reviews"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "anki"}))
    other.set_input_files("#fc-import", str(bad))
    other.wait_for_function("document.getElementById('fc-data-status').textContent.includes('nothing imported')")
    assert "not a prep progress file" in other.inner_text("#fc-data-status")
    fresh.close()


def test_flashcards_undo_and_topic_choice(served, page):
    page.goto(served.base + "flashcards.html#topics=processes")
    assert page.is_checked("input[value=processes]") and not page.is_checked("input[value=tcp]")
    page.click("#fc-start")
    first = page.get_attribute("#fc-open", "href")
    assert first in ("cards/fork-return-values.html", "cards/zombie-definition.html")
    page.keyboard.press("Space")
    page.keyboard.press("1")
    assert len(stored(page)["reviews"]) == 1
    page.keyboard.press("u")
    assert stored(page)["reviews"] == [] and stored(page)["cards"] == {}
    assert page.get_attribute("#fc-open", "href") == first


def test_flashcards_from_the_file_system(served, page):
    page.goto((served.out / "flashcards.html").as_uri())
    page.evaluate("localStorage.clear()")
    page.reload()
    page.click("#fc-start")
    page.keyboard.press("Space")
    page.keyboard.press("4")
    page.reload()
    assert len(stored(page)["reviews"]) == 1 and stored(page)["reviews"][0]["rating"] == 4


def start(page, base: str, topics: str) -> None:
    """Flashcards on the chosen topics, with the clock stopped: an answer takes no time unless a test says so."""
    page.clock.set_fixed_time(CLOCK)
    page.goto("about:blank")  # from flashcards.html#topics=a, going to #topics=b would only change the hash
    page.goto(f"{base}flashcards.html#topics={topics}")
    page.click("#fc-start")


def shown_card(page) -> str:
    return page.get_attribute("#fc-open", "href").removeprefix("cards/").removesuffix(".html")


def number_of(page, text: str) -> str:
    """The number a choice or an item is shown with (they are shuffled at every showing)."""
    texts = page.eval_on_selector_all("#fc-choices .choice label, #fc-items li", "els => els.map(e => e.textContent.trim())")
    return str(texts.index(text) + 1)


CLOCK = "2026-11-26T12:00:00Z"


def test_flashcards_check_choice_short_and_order_answers_as_the_terminal(served, page):
    """Wrong is Again, right is Easy within easy_seconds (8) and Good after; 1-4 replace the rating."""
    start(page, served.base, "tcp")
    assert shown_card(page) == "time-wait-duration"
    assert page.is_hidden("#fc-rate")
    page.keyboard.press(number_of(page, "tcp_fin_timeout seconds"))  # the misconception
    assert page.inner_text("#fc-verdict") == "✗ Not quite. You answered: tcp_fin_timeout seconds"
    # why each wrong choice is wrong, and which is right
    whys = page.eval_on_selector_all("#fc-choices .why", "els => els.filter(e => !e.hidden).map(e => e.textContent)")
    assert sorted(whys) == ["tcp_fin_timeout governs orphaned FIN_WAIT2 sockets.", "that is the RFC's suggestion; Linux uses 60 s."]
    assert page.get_attribute(".choice[data-correct=true]", "class") == "choice"  # shown right, not picked
    assert page.get_attribute(".choice.picked", "data-correct") == "false"
    assert page.get_attribute("#fc-rate .chosen", "data-rating") == "1"
    assert page.inner_text("#fc-rated-text").startswith("Rated Again, next in 1m.")
    first = stored(page)["reviews"]
    assert [(r["rating"], r["correct"], r["answer"]) for r in first] == [(1, False, "tcp_fin_timeout seconds")]
    page.keyboard.press("3")  # the learner overrides: Good, as of the same moment, in place of Again
    reviews = stored(page)["reviews"]
    assert [(r["rating"], r["correct"], r["reviewed_at"]) for r in reviews] == [(3, False, first[0]["reviewed_at"])]
    assert stored(page)["cards"]["time-wait-duration"]["step"] == 1  # Good's schedule, not Again's

    assert shown_card(page) == "close-shared-socket"  # free recall: Space, then the learner rates
    page.keyboard.press("Space")
    page.keyboard.press("2")

    assert shown_card(page) == "shutdown-write-constant"
    page.fill("#fc-typed-input", " `shut_wr`. ")  # answered at once: Easy
    page.press("#fc-typed-input", "Enter")
    assert page.inner_text("#fc-verdict") == "✓ Right."
    assert "Also accepted: shutdown(fd, SHUT_WR), 1" in page.inner_text("#fc-answer-text")
    assert page.get_attribute("#fc-rate .chosen", "data-rating") == "4"
    page.keyboard.press("Enter")

    assert shown_card(page) == "handshake-order"
    order = " ".join(number_of(page, item) for item in ("CLOSED", "SYN_SENT", "ESTABLISHED"))
    page.clock.set_fixed_time("2026-11-26T12:00:09Z")  # nine seconds to answer: right, but Good
    page.fill("#fc-typed-input", order)
    page.press("#fc-typed-input", "Enter")
    assert page.inner_text("#fc-verdict") == "✓ Right."
    assert page.get_attribute("#fc-rate .chosen", "data-rating") == "3"
    assert page.is_visible("#fc-order-right")
    page.click("#fc-next")

    reviews = stored(page)["reviews"]
    assert [(r["card_id"], r["rating"], r["correct"], r["answer"]) for r in reviews] == [
        ("time-wait-duration", 3, False, "tcp_fin_timeout seconds"),
        ("close-shared-socket", 2, None, None),
        ("shutdown-write-constant", 4, True, " `shut_wr`. "),
        ("handshake-order", 3, True, "CLOSED > SYN_SENT > ESTABLISHED"),
    ]
    assert reviews[3]["duration_ms"] == 9000


def test_flashcards_multi_choice_wrong_order_and_no_answer(served, page):
    start(page, served.base, "processes")
    assert shown_card(page) == "fork-return-values"
    page.keyboard.press(number_of(page, "The child sees 0"))
    page.keyboard.press(number_of(page, "The parent sees the child's pid"))
    page.keyboard.press("Enter")  # a multi card is checked with Enter, every right choice picked
    assert page.inner_text("#fc-verdict") == "✓ Right."
    assert set(stored(page)["reviews"][0]["answer"].split(" | ")) == {"The child sees 0", "The parent sees the child's pid"}
    assert stored(page)["reviews"][0]["rating"] == 4
    page.keyboard.press("Enter")
    start(page, served.base, "tcp")
    page.click("#fc-reveal")  # "don't know" on a choice card: no answer, Again
    assert page.inner_text("#fc-verdict") == "✗ No answer."
    assert stored(page)["reviews"][-1]["rating"] == 1
    page.keyboard.press("Enter")
    page.keyboard.press("Space")
    page.keyboard.press("3")
    assert shown_card(page) == "shutdown-write-constant"
    page.fill("#fc-typed-input", "SHUT_RD")
    page.press("#fc-typed-input", "Escape")  # out of the box, the command keys work: b is not typed
    page.keyboard.press("b")
    assert shown_card(page) == "handshake-order" and page.inner_text("#fc-notice").startswith("Buried ")
    assert page.evaluate("document.activeElement.id") == "fc-typed-input"  # an ordering card: ready for typing
    page.keyboard.press("Escape")
    page.keyboard.press("u")
    assert shown_card(page) == "shutdown-write-constant" and page.input_value("#fc-typed-input") == ""
    page.fill("#fc-typed-input", "SHUT_RD")
    page.press("#fc-typed-input", "Enter")
    assert page.inner_text("#fc-verdict") == "✗ Not quite. You answered: SHUT_RD"
    page.keyboard.press("Enter")
    assert shown_card(page) == "handshake-order"
    page.click("#fc-items li >> nth=0")  # clicking the items types their numbers, in the order clicked
    page.click("#fc-items li >> nth=1")
    page.click("#fc-items li >> nth=2")
    assert page.input_value("#fc-typed-input") == "1 2 3"
    page.press("#fc-typed-input", "Enter")
    assert page.inner_text("#fc-verdict").startswith("✗ Not quite.")  # shown never in the right order
    assert [(r["rating"], r["correct"]) for r in stored(page)["reviews"][1:]] == [(1, False), (3, None), (1, False), (1, False)]


TRICKY = [
    "SHUT_WR", "  `shut_wr`.  ", "\"'`x`'\"..", "x.`.", "shutdown(fd,\u00a0SHUT_WR)", "a \t\n b", "a\u3000\u3000b",
    "Straße", "STRASSE", "ﬁle", "ΣΊΣΥΦΟΣ", "İstanbul", "ǅ", "ᏸ", "\U00010400", "\u0085SHUT_WR\u001c", "\ufeffSHUT_WR",
    "ＳＨＵＴ＿ＷＲ", "1.", "...", "", "   ", "`", "shut_wr .", "僵尸进程。", "\u200bx",
    "shutdown( fd,SHUT_WR );", "a , , b", "a | b", "unsigned  int", "“SHUT_WR”。", "「写半关闭」", "１４７２；", "x ;",
]


def test_short_answers_normalise_as_the_python_checker_on_every_code_point(served, shipped, page):
    """The browser's checker and cards.normalise_answer agree: alone, inside a word, and on every short card."""
    page.goto(served.base + "flashcards.html")
    in_browser = page.evaluate("""() => {
      const n = window.PrepAnswers.normalise, out = {};
      for (let c = 0; c < 0x110000; c++) {
        if (c >= 0xD800 && c < 0xE000) continue;
        const ch = String.fromCodePoint(c), alone = n(ch), inside = n("a" + ch + "b");
        if (alone !== ch || inside !== "a" + ch + "b") out[c] = [alone, inside];
      }
      return out;
    }""")
    in_python = {}
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        ch = chr(code)
        alone, inside = cards.normalise_answer(ch), cards.normalise_answer(f"a{ch}b")
        if alone != ch or inside != f"a{ch}b":
            in_python[str(code)] = [alone, inside]
    assert in_browser == in_python
    assert in_python[str(ord("ß"))] == ["ss", "assb"] and in_python[str(0x85)] == ["", "a b"]  # not JS's rules
    assert page.evaluate("t => t.map(window.PrepAnswers.normalise)", TRICKY) == [cards.normalise_answer(t) for t in TRICKY]

    # every short card of the shipped bank: its answers, their variants and a wrong one, checked both ways
    page.goto(shipped.base + "flashcards.html")
    cases = []
    for card in shipped.bank.select():
        if card.type != "short":
            continue
        accepted = list(dict.fromkeys([*cards.text_sides(card.answer).values(), *card.accept]))  # as the site writes it
        for text in accepted:
            for typed in (text, f" `{text.upper()}`. ", text.lower() + "..", f'"{text}"', text.replace(" ", "  "), text + "x", " "):
                cases.append([card.id, accepted, typed, bool(typed.strip()) and card.accepts(typed)])
    assert len(cases) > 50
    browser = page.evaluate("cs => cs.map(c => window.PrepAnswers.checkShort(c[1], c[2]))", cases)
    assert [(c[0], c[2], b) for c, b in zip(cases, browser)] == [(c[0], c[2], c[3]) for c in cases]


def test_card_page_checks_short_answers_with_pythons_rules(served, page):
    page.goto(served.base + "cards/shutdown-write-constant.html")
    page.fill("#typed", "\u0085SHUT_WR\u001c")  # white space to Python (and so to the terminal), not to JavaScript's trim
    page.click("form.short-answer button")
    assert page.inner_text("output.verdict-line") == "Right."


def test_flashcards_bury_and_suspend(served, page):
    start(page, served.base, "processes")
    assert shown_card(page) == "fork-return-values"
    assert page.is_visible("#fc-bury") and page.is_visible("#fc-suspend")
    page.keyboard.press("b")
    assert page.inner_text("#fc-notice").startswith("Buried “Which are true of fork's return value?” until ")
    assert shown_card(page) == "zombie-definition"
    flags = json.loads(page.evaluate("localStorage.getItem('prep-flashcards-flags:v1')"))
    # until the next day start (4 o'clock, local time), in UTC
    until = page.evaluate("() => { const d = new Date(); d.setHours(4, 0, 0, 0); if (d <= new Date()) d.setDate(d.getDate() + 1); return d.getTime(); }")
    assert flags["fork-return-values"]["suspended"] is False
    assert page.evaluate(f"Date.parse({json.dumps(flags['fork-return-values']['buried_until'])})") == until
    page.click("#fc-suspend")  # the button, as `!`
    assert page.inner_text("#fc-notice").startswith("Suspended “What is a zombie process?”")
    assert page.is_visible("#fc-done")  # both cards of the topic are set aside
    page.click("#fc-back")
    assert page.inner_text("#fc-summary").endswith("Set aside: 1 buried, 1 suspended.")
    assert page.is_disabled("#fc-start")
    page.click("#fc-suspended-box summary")
    assert page.inner_text("#fc-suspended-count") == "1"
    assert page.inner_text("#fc-suspended li a") == "What is a zombie process?"
    page.reload()  # both survive a reload
    assert page.inner_text("#fc-summary").endswith("Set aside: 1 buried, 1 suspended.")
    page.click("#fc-suspended-box summary")
    page.click("#fc-suspended li button.unsuspend")
    assert page.is_hidden("#fc-suspended-box")
    assert page.inner_text("#fc-summary").startswith("0 due · 1 new for today")
    page.click("#fc-start")
    assert shown_card(page) == "zombie-definition"

    # a card that has a schedule keeps the flag on it, so the exported progress carries it
    start(page, served.base, "tcp")
    page.keyboard.press(number_of(page, "60 s, fixed"))
    page.keyboard.press("!")  # after the automatic rating, as in the terminal
    entry = stored(page)["cards"]["time-wait-duration"]
    assert entry["suspended"] is True and entry["state"] == 2  # rated Easy: in review
    assert shown_card(page) == "close-shared-socket"
    page.keyboard.press("u")  # the suspension is taken back; the rating stays
    assert shown_card(page) == "time-wait-duration"
    assert stored(page)["cards"]["time-wait-duration"]["suspended"] is False
    assert len(stored(page)["reviews"]) == 1


def test_flashcards_carry_the_suspension_of_a_card_never_reviewed(served, page, tmp_path):
    """State 0 entries (docs/progress.md): a browser export holds them, the terminal reads them, and back."""
    from prep import progress as progress_lib
    from prep import store

    start(page, served.base, "processes")
    page.keyboard.press("!")  # fork-return-values, never reviewed
    page.keyboard.press("Escape")
    page.click(".fc-data summary")
    with page.expect_download() as download:
        page.click("#fc-export")
    exported = json.loads(Path(download.value.path()).read_text())
    entry = exported["cards"]["fork-return-values"]
    assert (entry["state"], entry["suspended"], entry["last_review"]) == (0, True, None)
    target = tmp_path / "browser.json"
    target.write_text(json.dumps(exported))
    db = store.open_db(tmp_path / "terminal.db")
    progress_lib.import_progress(db, progress_lib.read_file(target))
    row = db["card_state"].get("fork-return-values")
    assert (row["state"], row["suspended"]) == (0, 1)  # out of the terminal's quiz too
    store.put_card_state(db, {**row, "card_id": "zombie-definition", "suspended": 0,
                              "buried_until": "2099-01-01T04:00:00+00:00"})
    terminal = tmp_path / "terminal.json"
    progress_lib.write_file(terminal, progress_lib.export_progress(db, datetime.now(timezone.utc), unreviewed=True))
    db.conn.close()

    fresh = page.context.browser.new_context()
    other = fresh.new_page()
    other.goto(served.base + "flashcards.html#topics=processes")
    other.click(".fc-data summary")
    other.set_input_files("#fc-import", str(terminal))
    other.wait_for_function("document.getElementById('fc-data-status').textContent.includes('merged')")
    assert other.inner_text("#fc-data-status") == "terminal.json: merged 0 new reviews and 2 card states."
    assert other.inner_text("#fc-summary").endswith("Set aside: 1 buried, 1 suspended.")
    assert other.text_content("#fc-suspended li a") == "Which are true of fork's return value?"
    assert other.is_disabled("#fc-start")
    fresh.close()


def test_flashcards_undo_survives_a_reload(served, page):
    start(page, served.base, "tcp")
    page.keyboard.press(number_of(page, "tcp_fin_timeout seconds"))  # Again, saved at once
    page.keyboard.press("Enter")
    assert shown_card(page) == "close-shared-socket"
    page.keyboard.press("Space")
    page.keyboard.press("3")
    assert len(stored(page)["reviews"]) == 2
    page.reload()
    assert page.inner_text("#fc-undo-last") == "Undo Good on “After fork, the child closes the connected socket. Does the peer see EOF?”"
    page.click("#fc-undo-last")
    assert shown_card(page) == "close-shared-socket"
    assert [r["card_id"] for r in stored(page)["reviews"]] == ["time-wait-duration"]
    assert "close-shared-socket" not in stored(page)["cards"]
    page.reload()
    page.click("#fc-start")
    page.keyboard.press("u")  # the one before, from the session before the reload
    assert shown_card(page) == "time-wait-duration"
    assert stored(page) == {**stored(page), "cards": {}, "reviews": []}
    assert page.inner_text("#fc-notice") == "Undone: Again on “How long does a socket stay in TIME_WAIT on Linux?”."
    page.keyboard.press("u")
    assert page.inner_text("#fc-notice") == "Nothing to undo."


def test_flashcards_undo_refuses_a_card_changed_since(served, page):
    """An import that changed the card since the rating wins: undo says so instead of overwriting it."""
    start(page, served.base, "tcp")
    page.keyboard.press("Escape")
    page.click(".fc-data summary")
    page.click("#fc-terminal")  # close-shared-socket: the terminal's learning card, due long ago
    page.click("#fc-start")
    assert shown_card(page) == "close-shared-socket"
    page.keyboard.press("Space")
    page.keyboard.press("3")
    newer = stored(page)
    newer["cards"]["close-shared-socket"]["last_review"] = "2026-11-27T00:00:00+00:00"
    newer["cards"]["close-shared-socket"]["stability"] = 99.0
    page.evaluate("d => localStorage.setItem('prep-progress:v1', JSON.stringify(d))", newer)
    page.reload()
    page.click("#fc-undo-last")
    assert page.inner_text("#fc-notice").startswith("Not undone: “After fork, the child closes")
    assert stored(page)["cards"]["close-shared-socket"]["stability"] == 99.0


# --- every page ------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "file"])
def test_every_page_loads_without_console_errors_and_links_resolve(served, context, scheme):
    """A crawler from the home page: every page it reaches, every href and src on them."""
    start = served.base + "index.html" if scheme == "http" else (served.out / "index.html").as_uri()
    root = served.base if scheme == "http" else served.out.as_uri() + "/"
    page = context.new_page()
    seen_pages: set[str] = set()
    checked: dict[str, bool] = {}
    broken: list[str] = []
    queue = deque([start, start.replace("index.html", "search.html")])  # search.html: reached by the header's form
    while queue:
        url = queue.popleft()
        if url in seen_pages:
            continue
        seen_pages.add(url)
        response = page.goto(url)
        if scheme == "http":
            assert response is not None and response.status == 200, url
        page.wait_for_load_state("load")
        targets = page.eval_on_selector_all(
            "a[href], link[href], script[src], img[src]", "els => els.map(e => e.href || e.src)")
        for target in targets:
            target, _ = urldefrag(target)
            if not target.startswith(root):
                assert urlsplit(target).scheme in ("http", "https") and target.split(":")[0] != "file", target
                continue  # a reference to the outside world (man pages, RFCs, kernel sources)
            if target not in checked:
                if scheme == "http":
                    checked[target] = page.request.get(target).status == 200
                else:
                    checked[target] = Path(urlsplit(target).path).is_file()
                if not checked[target]:
                    broken.append(f"{url} -> {target}")
            path = urlsplit(target).path
            if checked[target] and path.endswith(".html") and "/pagefind/" not in path:
                queue.append(target.split("?")[0])
    assert broken == []
    on_disk = {p.relative_to(served.out).as_posix() for p in served.out.rglob("*.html") if "pagefind" not in p.parts}
    assert {u[len(root):] for u in seen_pages} == on_disk  # the crawler reached every page
    page.close()


def test_screenshots(served, shipped, browser):
    """Home, a card page (revealed) and flashcard mode, in light and dark, wide and narrow."""
    ARTIFACTS.mkdir(exist_ok=True)
    shots = []
    for scheme, width in (("light", 1100), ("dark", 390)):
        ctx = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
        page = ctx.new_page()
        suffix = "" if scheme == "light" else "-dark-narrow"
        page.goto(served.base + "index.html")
        shots.append(ARTIFACTS / f"site-home{suffix}.png")
        page.screenshot(path=shots[-1], full_page=True)
        page.goto(served.base + "cards/time-wait-duration.html")
        page.check("li.choice:nth-child(2) input")
        page.click("button.reveal")
        shots.append(ARTIFACTS / f"site-card{suffix}.png")
        page.screenshot(path=shots[-1], full_page=True)
        page.goto(served.base + "flashcards.html")
        page.click("#fc-start")
        page.keyboard.press("Space")
        shots.append(ARTIFACTS / f"site-flashcards{suffix}.png")
        page.screenshot(path=shots[-1], full_page=True)
        if scheme == "light":
            page.goto(served.base + "dashboard.html")
            shots.append(ARTIFACTS / "site-dashboard.png")
            page.screenshot(path=shots[-1], full_page=True)
            page.goto(served.base + "search.html?q=" + quote("僵尸进程"))
            page.wait_for_selector("#search-results a")
            shots.append(ARTIFACTS / "site-search.png")
            page.screenshot(path=shots[-1], full_page=True)
            page.goto((served.out / "search.html").as_uri() + "?q=" + quote("TIME_WAIT四次挥手"))
            page.wait_for_selector("#search-results a")
            shots.append(ARTIFACTS / "site-search-offline.png")
            page.screenshot(path=shots[-1], full_page=True)
        ctx.close()
    if shipped is not None:  # the real bank, for a reviewer to judge the content as well
        ctx = browser.new_context(viewport={"width": 1100, "height": 900})
        page = ctx.new_page()
        page.goto(shipped.base + "index.html")
        shots.append(ARTIFACTS / "site-shipped-home.png")
        page.screenshot(path=shots[-1], full_page=True)
        holder = next((c for c in shipped.bank.select() if c.corrects and c.choices), shipped.bank.select()[0])
        page.goto(shipped.base + f"cards/{holder.id}.html")
        page.click("button.reveal")
        shots.append(ARTIFACTS / "site-shipped-card.png")
        page.screenshot(path=shots[-1], full_page=True)
        page.goto(shipped.base + "corrections.html")
        shots.append(ARTIFACTS / "site-shipped-corrections.png")
        page.screenshot(path=shots[-1])
        ctx.close()
    for shot in shots:
        assert shot.stat().st_size > 10_000, shot


# --- two languages ---------------------------------------------------------------------------


def test_the_language_switch_keeps_the_card_and_is_remembered(served, page):
    page.goto(served.base + "cards/zombie-definition.html")
    assert page.inner_text("h1") == "What is a zombie process?"
    assert page.inner_text("#lang-switch") == "中文"
    assert page.title() == "What is a zombie process? · prep"
    page.click("#lang-switch")
    assert page.inner_text("h1") == "什么是僵尸进程？"  # the same card, the same URL
    assert page.title() == "什么是僵尸进程？ · prep", "the tab and bookmarks follow the switch"
    assert page.url == served.base + "cards/zombie-definition.html"
    assert page.evaluate("document.documentElement.lang") == "zh" and page.inner_text("#lang-switch") == "English"
    page.click("button.reveal")
    answer = page.inner_text("#answer")
    assert "已经退出、但父进程还没有 wait 它的子进程。" in answer and "A child that" not in answer
    page.goto(served.base + "cards/time-wait-duration.html")  # English only: shown in English whatever the choice
    assert page.inner_text("h1") == "How long does a socket stay in TIME_WAIT on Linux?"
    page.goto(served.base + "index.html")
    assert "进程" in page.inner_text(".topic-grid") and "Processes" not in page.inner_text(".topic-grid")
    assert page.title() == "学习站点 · prep"
    page.goto(served.base + "cards/zombie-definition.html")  # remembered
    assert page.inner_text("h1") == "什么是僵尸进程？" and page.title() == "什么是僵尸进程？ · prep"
    page.click("#lang-switch")
    assert page.inner_text("h1") == "What is a zombie process?"


def test_flashcards_show_the_chosen_language(served, page):
    page.goto(served.base + "index.html")
    page.click("#lang-switch")
    start(page, served.base, "processes")
    for _ in range(2):
        if shown_card(page) == "zombie-definition":
            break
        page.keyboard.press("b")  # bury the other card
    assert shown_card(page) == "zombie-definition"
    assert page.inner_text("#fc-prompt") == "什么是僵尸进程？" and page.inner_text("#fc-topic") == "进程"
    page.click("#lang-switch")
    assert page.inner_text("#fc-prompt") == "What is a zombie process?" and page.inner_text("#fc-topic") == "Processes"



@pytest.fixture(scope="module")
def served_zh(tmp_path_factory):
    """The fixture site built in Chinese (`prep site build --lang zh`)."""
    tmp = tmp_path_factory.mktemp("browser-site-zh")
    bank = cards.load_bank(FIXTURES / "bank", set())
    result = site.build(bank, tmp / "site", search=False, now=NOW, lang="zh")
    s = Served(result.out)
    yield s
    s.close()


def test_a_site_built_in_chinese_speaks_chinese_and_the_switch_turns_its_words_too(served_zh, page):
    page.goto(served_zh.base + "index.html")
    assert page.inner_text("nav.site-nav").split() == ["主题", "闪卡", "标签", "笔记勘误"]
    assert page.inner_text("h1") == "Linux 系统编程：面试准备" and page.title() == "学习站点 · prep"
    start(page, served_zh.base, "processes")
    assert page.inner_text("#fc-reveal") == "显示答案 Space" or page.inner_text("#fc-reveal").startswith("不会：显示答案")
    for _ in range(2):
        if shown_card(page) == "zombie-definition":
            break
        page.keyboard.press("b")
    assert shown_card(page) == "zombie-definition" and page.inner_text("#fc-prompt") == "什么是僵尸进程？"
    assert page.inner_text("#fc-reveal") == "显示答案 Space"
    page.keyboard.press(" ")
    buttons = page.eval_on_selector_all("#fc-rate button", "bs => bs.map(b => b.innerText.split(/\\s/)[0])")
    assert buttons == ["重来", "困难", "良好", "简单"]
    page.keyboard.press("3")
    page.keyboard.press("u")  # back to the card, rated nothing
    assert page.inner_text("#fc-notice") == "已撤销：“什么是僵尸进程？”的评分「良好」。"  # the undo speaks Chinese too
    page.keyboard.press("b")
    assert page.inner_text("#fc-notice").startswith("已搁置“什么是僵尸进程？”，直到 ")
    page.keyboard.press("u")
    page.keyboard.press("Escape")  # the topics: export, in Chinese
    assert page.inner_text("#fc-undo-last") == "" or "Undo" not in page.inner_text("#fc-undo-last")
    page.click(".fc-data summary")
    with page.expect_download():
        page.click("#fc-export")
    assert page.inner_text("#fc-data-status").startswith("已导出 ")
    page.click("#lang-switch")  # English: the site's words, those already said included
    assert page.inner_text("#fc-data-status").startswith("Exported ")
    page.click("#lang-switch")
    start(page, served_zh.base, "processes")
    for _ in range(2):
        if shown_card(page) == "zombie-definition":
            break
        page.keyboard.press("b")
    page.click("#lang-switch")  # English: the card and the site's words
    assert page.inner_text("nav.site-nav").split()[:2] == ["Topics", "Flashcards"]
    assert page.inner_text("#fc-reveal") == "Show the answer Space"
    page.keyboard.press(" ")
    buttons = page.eval_on_selector_all("#fc-rate button", "bs => bs.map(b => b.innerText.split(/\\s/)[0])")
    assert buttons == ["Again", "Hard", "Good", "Easy"]

def test_search_finds_a_card_by_its_chinese_text(served, page):
    # 回收 and 父进程 are only in the Chinese explanation and answer (not in the card's zh terms)
    assert "cards/zombie-definition.html" in result_links(page, served.base, "回收")
    assert offline_links(page, served.out, "回收") == ["cards/zombie-definition.html"]


LINES_OF_WORDS = """el => {
  const words = [];
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const r = document.createRange();
      r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
      const box = r.getClientRects()[0];
      if (box) words.push([Math.round(box.top + box.height / 2), m[0]]);
    }
  }
  const lines = [];
  for (const [mid, word] of words) {
    const line = lines.find(l => Math.abs(l.mid - mid) < 4);
    if (line) line.words.push(word); else lines.push({mid, words: [word]});
  }
  return lines.map(l => l.words.join(' '));
}"""


@pytest.mark.parametrize("width", [1280, 360])
def test_a_topic_pages_meta_line_stays_on_one_line_or_wraps_cleanly(served, browser, width):
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = ctx.new_page()
        topics = sorted((served.out / "topics").glob("*.html"))
        assert topics
        for topic in topics:
            page.goto(served.base + f"topics/{topic.name}")
            meta = page.locator("main p.meta").first
            assert "due" in meta.inner_text(), "the fixture site is built with progress"
            lines = meta.evaluate(LINES_OF_WORDS)
            if width >= 1280:
                assert len(lines) == 1, (topic.name, lines)
            else:
                assert len(lines) <= 3, (topic.name, lines)
                for line in lines:  # wraps between its parts, never a word alone on a line
                    assert len(line.split()) >= 2, (topic.name, lines)
    finally:
        ctx.close()


def test_served_flashcards_share_the_terminals_progress_database(browser, tmp_path):
    """`prep site serve`: the flashcards read and write the terminal's database through /api/progress."""
    import time
    import urllib.error
    import urllib.request

    from prep import store

    out = build_fixture_site(tmp_path, with_progress=False).out
    db_path = tmp_path / "terminal.db"
    seed_progress(db_path)  # close-shared-socket is due, 4 reviews
    server = site.make_server(out, 0, progress_db=db_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        first = browser.new_context()
        page = first.new_page()
        console = Console()
        console.watch(page)
        page.goto(base + "flashcards.html")
        page.wait_for_selector("#fc-shared", state="visible")
        assert stored(page)["cards"]["close-shared-socket"]["state"] == 1  # a fresh browser knows the terminal's
        assert page.inner_text("#fc-summary").startswith("2 due · ")  # and zombie-definition, due since 2026-11-28
        page.click("#fc-start")
        page.wait_for_selector("#fc-reveal", state="visible")
        assert page.get_attribute("#fc-open", "href") == "cards/close-shared-socket.html"  # the most overdue first
        page.keyboard.press("Space")
        page.keyboard.press("3")
        deadline = time.monotonic() + 10
        while True:
            db = store.open_db(db_path)
            n = db.execute("select count(*) from reviews where kind = 'browser'").fetchone()[0]
            row = db.execute("select state, last_review from card_state where card_id = 'close-shared-socket'").fetchone()
            db.conn.close()
            if n == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert n == 1, "the rating reached the terminal's database"
        assert row[1] > "2026-11-26"  # rated now, not the seeded review

        # u in the browser undoes it in the database too: the review leaves the log, the schedule is as before
        page.keyboard.press("u")
        assert page.get_attribute("#fc-open", "href") == "cards/close-shared-socket.html"
        deadline = time.monotonic() + 10
        while True:
            db = store.open_db(db_path)
            n = db.execute("select count(*) from reviews where kind = 'browser'").fetchone()[0]
            back = db.execute("select state, last_review from card_state where card_id = 'close-shared-socket'").fetchone()
            db.conn.close()
            if n == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert n == 0 and back[0] == 1 and back[1] < "2026-11-26", back
        page.keyboard.press("Space")
        page.keyboard.press("3")  # rated again, for the second browser below
        deadline = time.monotonic() + 10
        while True:
            db = store.open_db(db_path)
            n = db.execute("select count(*) from reviews where kind = 'browser'").fetchone()[0]
            row = db.execute("select state, last_review from card_state where card_id = 'close-shared-socket'").fetchone()
            db.conn.close()
            if n == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert n == 1 and row[1] > "2026-11-26"
        assert console.errors == []
        first.close()

        # another browser (or the terminal) sees the same progress
        second = browser.new_context()
        page = second.new_page()
        page.goto(base + "flashcards.html")
        page.wait_for_selector("#fc-shared", state="visible")
        assert len(stored(page)["reviews"]) == 5
        assert stored(page)["cards"]["close-shared-socket"]["last_review"] == row[1]
        second.close()

        # only this site's pages: another Host (a rebound DNS name) or Origin is refused
        for headers in ({"Host": "evil.example:80"}, {"Origin": "http://evil.example"}):
            request = urllib.request.Request(base + "api/progress", headers=headers)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 403
        request = urllib.request.Request(base + "api/progress", data=b"{}", headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as bad:
            urllib.request.urlopen(request, timeout=5)
        assert bad.value.code == 400
        assert "not a prep progress file" in json.loads(bad.value.read())["error"]
    finally:
        server.shutdown()
        server.server_close()


def test_served_flashcards_replace_an_automatic_rating_in_the_database_too(browser, tmp_path):
    """1-4 after a checked answer replace its rating in the terminal's database, not add a second one."""
    import time

    from prep import store

    out = build_fixture_site(tmp_path, with_progress=False).out
    db_path = tmp_path / "terminal.db"
    store.open_db(db_path).conn.close()
    server = site.make_server(out, 0, progress_db=db_path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"

    def logged(expect: list) -> list:
        deadline = time.monotonic() + 10
        while True:
            db = store.open_db(db_path)
            got = [tuple(r) for r in db.execute("select card_id, rating from reviews order by id").fetchall()]
            step = db.execute("select step from card_state where card_id = 'time-wait-duration'").fetchone()
            db.conn.close()
            if got == expect or time.monotonic() > deadline:
                return [got, step and step[0]]
            time.sleep(0.1)

    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(base + "flashcards.html")
        page.wait_for_selector("#fc-shared", state="visible")
        start(page, base, "tcp")
        page.wait_for_selector("#fc-shared", state="visible")
        assert shown_card(page) == "time-wait-duration"
        page.keyboard.press(number_of(page, "tcp_fin_timeout seconds"))  # wrong: Again
        assert logged([("time-wait-duration", 1)])[0] == [("time-wait-duration", 1)]
        page.keyboard.press("3")  # the learner overrides: Good
        assert logged([("time-wait-duration", 3)]) == [[("time-wait-duration", 3)], 1]  # Good's schedule, not Again's
    finally:
        ctx.close()
        server.shutdown()
        server.server_close()
