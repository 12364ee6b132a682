"""`prep server`'s pages in headless Chromium: the instructor's class page and its CSV, the API page.

Debian's chromium through playwright, as tests/test_site_browser.py (its `browser` fixture:
skipped with the reason when chromium or playwright is missing, a failure under CI=true).
A real server in a subprocess grades two learners' submissions with `--sandbox local` (the
reference and the starter: what the page shows, not the sandbox, is under test here), and
every request the browser makes must stay on that server: nothing from a CDN.
"""

from __future__ import annotations

import csv
import io

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")
pytest.importorskip("uvicorn")

from prep.server.api import COOKIE  # noqa: E402

from .test_server import REPO, SLUG, Server, cli  # noqa: E402
from .test_site_browser import Console, browser  # noqa: E402,F401 - `browser` is the shared fixture

pytestmark = pytest.mark.browser

STARTER = (REPO / "exercises" / SLUG / "starter" / "envelope.py").read_text()
REFERENCE = (REPO / "grader" / "solutions" / SLUG / "reference" / "envelope.py").read_text()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A server whose class has alice (the reference: passed) and bob (the starter: not passed) graded."""
    folder = tmp_path_factory.mktemp("server-browser")
    url = f"sqlite:///{folder / 'server.db'}"
    cli("server", "--db", url, "--init")
    cli("server", "--db", url, "class", "create", "os-2027")
    tokens = {name: cli("server", "--db", url, "learner", "add", "os-2027", name).strip() for name in ("alice", "bob")}
    tokens["ian"] = cli("server", "--db", url, "instructor", "add", "os-2027", "ian").strip()
    server = Server(url, folder / "server.log", "--sandbox", "local", "--workers", "2")
    try:
        ids = {}
        for name, text in (("alice", REFERENCE), ("bob", STARTER)):
            status, _, body = server.call("POST", "/api/v1/submissions", tokens[name],
                                          {"exercise": SLUG, "files": {"envelope.py": text}})
            assert status == 202, body
            ids[name] = body["id"]
        verdicts = {}
        for name, submission_id in ids.items():
            body = {"state": "queued"}
            for _ in range(10):
                status, _, body = server.call("GET", f"/api/v1/submissions/{submission_id}?wait=30", tokens[name])
                if body["state"] == "done":
                    break
            assert body["state"] == "done", body
            verdicts[name] = body["result"]
        assert verdicts["alice"]["verdict"] == "passed" and verdicts["alice"]["score"] == 1.0, verdicts["alice"]
        assert verdicts["bob"]["verdict"] != "passed" and verdicts["bob"]["counts_as_attempt"], verdicts["bob"]
        yield {"server": server, "tokens": tokens, "results": verdicts}
    finally:
        server.kill()


@pytest.fixture
def context(browser):  # noqa: F811 - the shared fixture
    ctx = browser.new_context(viewport={"width": 1100, "height": 700}, accept_downloads=True)
    console = Console()
    ctx.on("page", console.watch)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    ctx.requests = requests  # type: ignore[attr-defined]
    yield ctx
    ctx.close()
    assert console.errors == [], "\n".join(console.errors)


def only_loopback(requests: list[str], base: str) -> None:
    elsewhere = [u for u in requests if not u.startswith(base + "/")]
    assert requests and not elsewhere, f"requests that left the server: {elsewhere}"


def test_the_class_page_shows_each_learners_results_and_its_csv_link_works(graded, context):
    server, results = graded["server"], graded["results"]
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=token]", graded["tokens"]["ian"])
    page.click("button")
    page.wait_for_url(server.url + "/class")
    assert page.title() == "os-2027"
    headers = page.locator("table tr").first.locator("th").all_inner_texts()
    column = headers.index(SLUG)
    rows = {}
    for row in page.locator("table tr").all()[1:]:
        learner = row.locator("th").inner_text()
        rows[learner] = row.locator("td").nth(column - 1)
    assert sorted(rows) == ["alice", "bob"]
    assert rows["alice"].inner_text() == "1.00" and rows["alice"].get_attribute("class") == "passed"
    assert rows["bob"].inner_text() == f"{results['bob']['score']:.2f}"
    assert rows["bob"].get_attribute("class") == results["bob"]["verdict"]
    assert rows["alice"].evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(204, 255, 204)"  # green
    assert rows["bob"].evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 221, 221)"  # red
    assert len(headers) == 1 + len(list((REPO / "exercises").glob("*/exercise.yaml"))), headers
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1100, f"every exercise's column fits a 1100-pixel window: the page is {width} pixels wide"

    link = page.get_by_role("link", name="every submission as CSV")
    with page.expect_download() as caught:
        link.click()
    text = open(caught.value.path(), encoding="utf-8").read()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["learner"], r["exercise"], r["state"]) for r in table] == [("alice", SLUG, "done"), ("bob", SLUG, "done")]
    assert [r["verdict"] for r in table] == ["passed", results["bob"]["verdict"]]
    only_loopback(context.requests, server.url)


def test_the_class_page_sends_a_browser_without_the_instructors_cookie_to_the_form(graded, browser):  # noqa: F811
    ctx = browser.new_context()  # not the `context` fixture: the 401 below is a console error there
    try:
        page = ctx.new_page()
        response = page.goto(graded["server"].url + "/class")
        assert response.status == 200 and page.url.endswith("/login")
        assert page.locator("input[name=token]").count() == 1 and "alice" not in page.content()
        # a cookie with a token that is no one's opens nothing
        ctx.add_cookies([{"name": COOKIE, "value": "not-a-token", "url": graded["server"].url}])
        response = page.goto(graded["server"].url + "/class")
        assert response.status == 401 and "alice" not in response.text()
    finally:
        ctx.close()


def test_the_api_page_loads_nothing_from_elsewhere_and_links_the_openapi_description(graded, context):
    server = graded["server"]
    page = context.new_page()
    response = page.goto(server.url + "/api/v1/docs")
    assert response.status == 200
    paths = page.locator("table td:nth-child(2)").all_inner_texts()
    assert "/api/v1/submissions/{submission_id}" in paths and "/api/v1/class/submissions.csv" in paths
    assert "docs/server.md" in page.inner_text("body")
    page.get_by_role("link", name="/api/v1/openapi.json").click()
    page.wait_for_url(server.url + "/api/v1/openapi.json")
    assert '"openapi"' in page.inner_text("body")
    only_loopback(context.requests, server.url)
