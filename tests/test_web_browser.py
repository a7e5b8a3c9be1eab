"""The workspace in a real browser: Debian's headless Chromium driven by Playwright (no browser download:
`executable_path=/usr/bin/chromium`) against `presswatch web` started as a subprocess on loopback, over a copy of
the store the real demo pipeline filled.

The journeys of issue 8: log in, search, open a clipping, judge a flag, change a status, log out; and the
forbidden paths: a viewer cannot change a status, a logged-out user is redirected, a forged form without the CSRF
token is refused (posted by a page of another origin, as an attacker's page would), a headline containing
`<script>` renders as text. Screenshots of the search and clipping pages (desktop and phone width) are kept in
test-artifacts/. `make test` installs chromium when it is missing (Makefile `browser`).
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from presswatch.index.base import SearchQuery
from presswatch.index.sqlite import SqliteIndex
from presswatch.state import State
from tests.web_support import PASSWORD, ROLES_USERS, StoreCopy, demo_store, workspace_store  # noqa: F401

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency (pip install -e '.[test]')")

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCRIPT_TITLE = '<script>alert("pw")</script> Mayor\'s <b>bold</b> plan'
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Site:
    base: str
    store: StoreCopy
    critical_id: str  # a clipping with a critical flag: judged and given a status by the journeys
    script_id: str  # the clipping whose headline contains <script>
    word: str  # a word that finds the critical clipping


@pytest.fixture(scope="module")
def site(workspace_store: StoreCopy) -> Iterator[Site]:  # noqa: F811
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: run `make browser` (apt-get install chromium) — the "
                    "workspace's browser tests need it")
    store = workspace_store
    index = SqliteIndex(store.db_path)
    try:
        found = index.search(SearchQuery(municipality=store.profile.id, critical=True, limit=50))
        critical = next(h.clipping for h in found.hits if h.clipping.enrichment.officials)
        source = critical.article
        copy = dataclasses.replace(source, id="f" * 16 + "0000000000000000", url=source.url + "?copy=script",
                                   title=SCRIPT_TITLE)
        index.upsert([dataclasses.replace(critical, article=copy, cluster_id=None)])
    finally:
        index.close()
    word = next(w for w in critical.article.title.split() if len(w) > 5 and w.isalpha())
    port = free_port()
    env = {**os.environ, "PRESSWATCH_DB": str(store.db_path), "PRESSWATCH_LANG": "en"}
    proc = subprocess.Popen([sys.executable, "-m", "presswatch.cli", "web", "--profile", str(store.profile_path),
                             "--port", str(port)], env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/login", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                proc.kill()
                pytest.fail(f"`presswatch web` did not start: {out}")
            time.sleep(0.2)
    try:
        yield Site(base=base, store=store, critical_id=critical.id, script_id=copy.id, word=word)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, "the server did not stop cleanly on SIGTERM"


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    pg = context.new_page()
    foreign: list[str] = []
    dialogs: list[str] = []
    pg.on("request", lambda req: foreign.append(req.url) if not req.url.startswith((site.base, "data:", "about:"))
          else None)
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()
    assert not foreign, f"the workspace loaded something from elsewhere: {foreign}"
    assert not dialogs, f"a script ran and opened a dialog: {dialogs}"


def log_in(pg: object, site: Site, role: str, next_path: str = "/search") -> None:
    pg.goto(site.base + next_path)  # type: ignore[attr-defined]
    assert "/login" in pg.url  # type: ignore[attr-defined]
    pg.fill("#name", ROLES_USERS[role])  # type: ignore[attr-defined]
    pg.fill("#password", PASSWORD)  # type: ignore[attr-defined]
    pg.click("[data-testid=login-submit]")  # type: ignore[attr-defined]
    pg.wait_for_selector("[data-testid=user]")  # type: ignore[attr-defined]


def status_of(site: Site, clipping_id: str) -> str:
    index = SqliteIndex(site.store.db_path)
    try:
        c = index.get(clipping_id)
        assert c is not None
        return c.status
    finally:
        index.close()


def no_horizontal_scroll(pg: object) -> bool:
    # clientWidth, not innerWidth: a mobile browser widens its layout viewport to content that overflows, and
    # innerWidth grows with it (a hidden 600 px table once passed a check against innerWidth)
    return bool(pg.evaluate(  # type: ignore[attr-defined]
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        " && document.documentElement.clientWidth <= 390"))


def test_logged_out_user_is_sent_to_the_login_page(page: object, site: Site) -> None:
    for path in ("/search", f"/clipping/{site.critical_id}", "/saved", "/briefings", "/sources"):
        page.goto(site.base + path)  # type: ignore[attr-defined]
        assert page.url.startswith(site.base + "/login?next="), path  # type: ignore[attr-defined]
        assert page.locator("#password").count() == 1  # type: ignore[attr-defined]


def test_wrong_password_is_refused(page: object, site: Site) -> None:
    page.goto(site.base + "/login")  # type: ignore[attr-defined]
    page.fill("#name", ROLES_USERS["analyst"])  # type: ignore[attr-defined]
    page.fill("#password", "not the password")  # type: ignore[attr-defined]
    page.click("[data-testid=login-submit]")  # type: ignore[attr-defined]
    assert page.locator("[data-testid=login-error]").is_visible()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=user]").count() == 0  # type: ignore[attr-defined]


def test_press_office_journey(page: object, site: Site) -> None:
    """Log in, search, open a clipping, judge its flag, change its status, log out."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(page, site, "press")
    page.fill("#q", site.word)  # type: ignore[attr-defined]
    page.click("[data-testid=search-submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=hits]")  # type: ignore[attr-defined]
    assert int("".join(ch for ch in page.inner_text("[data-testid=total]") if ch.isdigit()) or 0) >= 1  # type: ignore[attr-defined]
    assert page.locator("[data-testid=facets]").is_visible()  # type: ignore[attr-defined]
    assert page.locator("[data-testid=volume-chart]").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "web-search.png"), full_page=True)  # type: ignore[attr-defined]
    link = page.locator(f"[data-testid=hit-link][href='/clipping/{site.critical_id}']")  # type: ignore[attr-defined]
    assert link.count() >= 1, "the critical clipping is among the hits of a word of its title"
    link.first.click()
    page.wait_for_selector("[data-testid=clipping-title]")  # type: ignore[attr-defined]
    assert page.url.endswith(f"/clipping/{site.critical_id}")  # type: ignore[attr-defined]
    assert page.locator("[data-testid=clipping-text] mark.official").count() >= 1  # type: ignore[attr-defined]
    assert page.locator("[data-testid=flag-reasons]").is_visible()  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "web-clipping.png"), full_page=True)  # type: ignore[attr-defined]

    page.click("[data-testid=judge-critical-no]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=notice]")  # type: ignore[attr-defined]
    assert ROLES_USERS["press"] in page.inner_text("[data-testid=judgements]")  # type: ignore[attr-defined]
    state = State(site.store.db_path)
    try:
        rows = [r for r in state.feedback_history(site.store.profile.id, 20) if r["clipping_id"] == site.critical_id]
    finally:
        state.close()
    assert any(r["field"] == "critical" and not r["value"] and r["judged_by"] == ROLES_USERS["press"] for r in rows)

    page.select_option("[data-testid=status-form] select[name=status]", "drafted")  # type: ignore[attr-defined]
    page.fill("[data-testid=status-form] textarea[name=note]", "Reply sent to the editor for review")  # type: ignore[attr-defined]
    page.click("[data-testid=status-submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=notice]")  # type: ignore[attr-defined]
    history = page.inner_text("[data-testid=status-history]")  # type: ignore[attr-defined]
    assert ROLES_USERS["press"] in history and "Reply sent to the editor" in history
    assert status_of(site, site.critical_id) == "drafted"

    page.click("[data-testid=logout]")  # type: ignore[attr-defined]
    page.wait_for_url(site.base + "/login*")  # type: ignore[attr-defined]
    page.goto(site.base + f"/clipping/{site.critical_id}")  # type: ignore[attr-defined]
    assert page.url.startswith(site.base + "/login?next=")  # type: ignore[attr-defined]


def test_viewer_cannot_change_a_status(page: object, site: Site) -> None:
    log_in(page, site, "viewer", f"/clipping/{site.critical_id}")
    page.wait_for_selector("[data-testid=clipping-title]")  # type: ignore[attr-defined]
    assert page.locator("[data-testid=status-form]").count() == 0  # type: ignore[attr-defined]
    assert page.locator("[data-testid=judge-critical-no]").count() == 0  # type: ignore[attr-defined]
    before = status_of(site, site.critical_id)
    # the form is not offered; posting it anyway, with the viewer's own valid session and CSRF token, is refused
    csrf = page.get_attribute("[data-testid=logout] >> xpath=.. >> input[name=csrf]", "value")  # type: ignore[attr-defined]
    response = page.request.post(site.base + f"/clipping/{site.critical_id}/status",  # type: ignore[attr-defined]
                                 form={"csrf": csrf or "", "status": "dismissed", "note": "viewer"})
    assert response.status == 403
    assert status_of(site, site.critical_id) == before


def test_forged_form_from_another_origin_is_refused(browser: object, site: Site, tmp_path: Path) -> None:
    """A page on another port of 127.0.0.1 (same site for cookies, so only the CSRF token protects) submits a
    status change without the token while the press office is logged in."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    log_in(page, site, "press")
    before = status_of(site, site.critical_id)
    (tmp_path / "attack.html").write_text(
        f'<form id="f" method="post" action="{site.base}/clipping/{site.critical_id}/status">'
        '<input name="status" value="dismissed"><input name="note" value="forged"></form>'
        '<script>document.getElementById("f").submit()</script>', encoding="utf-8")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        with page.expect_response(lambda r: r.url.endswith("/status")) as answer:  # type: ignore[attr-defined]
            page.goto(f"http://127.0.0.1:{attacker.server_address[1]}/attack.html")  # type: ignore[attr-defined]
        assert answer.value.status == 403
    finally:
        attacker.shutdown()
        attacker.server_close()
        context.close()
    assert status_of(site, site.critical_id) == before


def test_script_in_a_headline_renders_as_text(page: object, site: Site) -> None:
    log_in(page, site, "analyst")
    page.goto(site.base + f"/clipping/{site.script_id}")  # type: ignore[attr-defined]
    title = page.inner_text("[data-testid=clipping-title]")  # type: ignore[attr-defined]
    assert '<script>alert("pw")</script>' in title and "<b>bold</b>" in title
    assert page.locator("[data-testid=clipping-title] b").count() == 0  # type: ignore[attr-defined]
    page.goto(site.base + "/search?flat=1&q=script")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=hits]")  # type: ignore[attr-defined]
    assert '<script>alert("pw")</script>' in page.inner_text("[data-testid=hits]")  # type: ignore[attr-defined]
    # the page fixture asserts that no dialog opened


def test_phone_width_has_no_horizontal_scroll(browser: object, site: Site) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    try:
        log_in(pg, site, "admin")
        pg.goto(site.base + "/search?q=" + site.word)  # type: ignore[attr-defined]
        pg.wait_for_selector("[data-testid=hits]")  # type: ignore[attr-defined]
        assert no_horizontal_scroll(pg), "the search page scrolls sideways at 390 px"
        pg.screenshot(path=str(ARTIFACTS / "web-search-390px.png"), full_page=True)  # type: ignore[attr-defined]
        pg.goto(site.base + f"/clipping/{site.critical_id}")  # type: ignore[attr-defined]
        pg.wait_for_selector("[data-testid=clipping-title]")  # type: ignore[attr-defined]
        assert no_horizontal_scroll(pg), "the clipping page scrolls sideways at 390 px"
        pg.screenshot(path=str(ARTIFACTS / "web-clipping-390px.png"), full_page=True)  # type: ignore[attr-defined]
        for path in ("/search", "/search?flat=1&all=1", "/saved", "/briefings", "/sources", "/audit", "/users"):
            pg.goto(site.base + path)  # type: ignore[attr-defined]
            assert no_horizontal_scroll(pg), f"{path} scrolls sideways at 390 px"
        pg.goto(site.base + "/briefings")  # type: ignore[attr-defined]
        pg.locator("a[href^='/briefings/']").first.click()  # type: ignore[attr-defined]
        pg.wait_for_selector("[data-testid=briefing] iframe")  # type: ignore[attr-defined]
        assert no_horizontal_scroll(pg), "a briefing of the archive scrolls sideways at 390 px"
    finally:
        context.close()
