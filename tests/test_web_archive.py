"""The read-only pages on a copy of the real demo store: the briefing archive (and the sent HTML served byte for
byte in a sandbox), source health with the failing sources first, the audit trail and the account list."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from presswatch.state import State
from presswatch.web.i18n import WebText, text
from presswatch.web.routes_archive import RAW_CSP
from tests.web_support import (  # noqa: F401
    ROLES_USERS,
    StoreCopy,
    app_client,
    demo_store,
    fast_kdf,
    login,
    workspace_store,
)

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture()
def state(workspace_store: StoreCopy) -> Iterator[State]:  # noqa: F811
    st = State(workspace_store.db_path)
    try:
        yield st
    finally:
        st.close()


def words(store: StoreCopy) -> WebText:
    """The catalogue the pages speak: the test accounts choose no language, so the profile's."""
    return text(store.profile.digest_language)


def sent_briefings(state: State, town: str) -> list[tuple[str, str]]:
    rows = state.execute("SELECT day, language FROM briefings WHERE municipality = ? AND state = 'sent'", (town,))
    return [(r["day"], r["language"]) for r in rows]


# --- briefings ---------------------------------------------------------------------------------------------
def test_archive_lists_the_demo_briefings(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                          state: State) -> None:
    town = workspace_store.profile.id
    sent = sent_briefings(state, town)
    assert {lang for _, lang in sent} == {"sk", "en"}  # the demo sends both
    login(app_client, "viewer")
    page = app_client.get("/briefings")
    assert page.status_code == 200 and 'data-testid="briefings"' in page.text
    for day, lang in sent:
        row = state.briefing(town, day, lang)
        assert row is not None
        assert f'href="/briefings/{day}/{lang}"' in page.text
        assert html.escape(row["subject"], quote=False) in page.text
    assert page.text.count(words(workspace_store).t("briefings_state_sent")) >= len(sent)


def test_briefing_page_frames_the_sent_html(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                            state: State) -> None:
    town = workspace_store.profile.id
    day, lang = sent_briefings(state, town)[0]
    row = state.briefing(town, day, lang)
    assert row is not None
    login(app_client, "viewer")
    page = app_client.get(f"/briefings/{day}/{lang}")
    assert page.status_code == 200 and 'data-testid="briefing"' in page.text
    assert html.escape(row["subject"], quote=False) in page.text
    frame = re.search(r"<iframe[^>]*>", page.text)
    assert frame and " sandbox " in frame.group(0) and f'src="/briefings/{day}/{lang}/raw"' in frame.group(0)
    assert row["html"] not in page.text  # the briefing itself is only in the frame
    if row["text"]:
        assert html.escape(row["text"].splitlines()[0], quote=False) in page.text

    raw = app_client.get(f"/briefings/{day}/{lang}/raw")
    assert raw.status_code == 200
    assert raw.content == row["html"].encode("utf-8")  # exactly as sent
    assert raw.headers["content-security-policy"] == RAW_CSP
    assert raw.headers["x-frame-options"] == "SAMEORIGIN"
    assert raw.headers["content-type"].startswith("text/html")
    # the app's own pages stay unframable
    assert page.headers["x-frame-options"] == "DENY"


def test_unknown_briefings_are_404(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "viewer")
    for path in ("/briefings/1999-01-01/sk", "/briefings/1999-01-01/sk/raw", "/briefings/not-a-day/sk",
                 "/briefings/2026-13-45/en/raw", "/briefings/1999-01-01/xx"):
        assert app_client.get(path).status_code == 404, path


def test_briefings_need_a_session(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                  state: State) -> None:
    day, lang = sent_briefings(state, workspace_store.profile.id)[0]
    app_client.cookies.clear()
    for path in ("/briefings", f"/briefings/{day}/{lang}", f"/briefings/{day}/{lang}/raw", "/sources"):
        r = app_client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), path


def test_failed_briefing_is_shown_as_failed_and_escaped(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                                        state: State) -> None:
    town = workspace_store.profile.id
    state.briefing_store(town, "2020-02-02", "en", f"Subject {SCRIPT}", "<p>hello</p>", "hello")
    state.briefing_failed(town, "2020-02-02", "en", f"SMTP said {SCRIPT}")
    login(app_client, "viewer")
    listing = app_client.get("/briefings").text
    assert SCRIPT not in listing and html.escape(f"Subject {SCRIPT}", quote=False) in listing
    assert words(workspace_store).t("briefings_state_failed") in listing
    page = app_client.get("/briefings/2020-02-02/en").text
    assert SCRIPT not in page and 'data-testid="briefing-error"' in page
    assert app_client.get("/briefings/2020-02-02/en/raw").content == b"<p>hello</p>"


# --- sources -----------------------------------------------------------------------------------------------
def source_rows(page: str) -> list[tuple[str, str]]:
    return re.findall(r'data-testid="source" data-id="([^"]+)" data-health="([^"]+)"', page)


def profile_source_ids(store: StoreCopy) -> set[str]:
    s = store.profile.sources
    return {x.id for x in (*s.feeds, *s.sites, *s.releases)}


def test_sources_lists_every_source_with_health(app_client: TestClient, workspace_store: StoreCopy) -> None:  # noqa: F811
    login(app_client, "viewer")
    page = app_client.get("/sources")
    assert page.status_code == 200 and 'data-testid="sources"' in page.text
    rows = source_rows(page.text)
    assert profile_source_ids(workspace_store) <= {sid for sid, _ in rows}
    assert all(health in ("ok", "warning", "failing", "silent") for _, health in rows)
    say = words(workspace_store)
    assert say.t("sources_is_ok") in page.text
    # outlet names from the profile, not ids
    herald = workspace_store.profile.outlet("herald").name
    assert herald in page.text
    # the demo's ill-formed sport feed carries a warning, in words
    assert "ill-formed feed" in page.text


def test_failing_source_comes_first_and_is_escaped(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                                   state: State) -> None:
    state.poll_failed("herald-rss", "connection refused")
    state.poll_failed("herald-rss", f"HTTP 500 {SCRIPT}")
    login(app_client, "viewer")
    page = app_client.get("/sources").text
    rows = source_rows(page)
    assert rows[0] == ("herald-rss", "failing")
    order = [health for _, health in rows]
    assert order == sorted(order, key=["failing", "silent", "warning", "ok"].index)
    assert SCRIPT not in page and html.escape(SCRIPT, quote=False) in page
    expected = words(workspace_store).plural("sources_health_failed", 2, error=f"HTTP 500 {SCRIPT}")
    assert html.escape(expected, quote=False) in page


# --- audit and users ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "analyst", "press"])
def test_audit_and_users_are_admin_only(app_client: TestClient, role: str) -> None:  # noqa: F811
    login(app_client, role)
    assert app_client.get("/audit").status_code == 403
    assert app_client.get("/users").status_code == 403
    assert 'href="/audit"' not in app_client.get("/sources").text


def test_admin_reads_the_audit_trail(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "analyst")
    login(app_client, "admin")
    page = app_client.get("/audit")
    assert page.status_code == 200 and 'data-testid="audit"' in page.text
    assert 'data-action="login"' in page.text and ">anton<" in page.text

    only = app_client.get("/audit", params={"user": "anton", "action": "login"}).text
    entries = re.findall(r'<tr data-testid="audit-entry" data-action="([^"]+)">\s*<td>[^<]*</td>\s*<td><a[^>]*>([^<]+)',
                         only)
    assert entries and all(e == ("login", "anton") for e in entries)
    assert app_client.get("/audit", params={"user": "nobody-at-all"}).text.count('data-testid="audit-entry"') == 0
    assert app_client.get("/audit", params={"page": "9999"}).status_code == 200
    assert app_client.get("/audit", params={"page": "x"}).status_code == 200


def test_audit_pages(app_client: TestClient, workspace_store: StoreCopy) -> None:  # noqa: F811
    for _ in range(55):  # more than one page of logins
        login(app_client, "press")
    login(app_client, "admin")
    first = app_client.get("/audit", params={"user": "petra"}).text
    assert first.count('data-testid="audit-entry"') == 50
    assert 'href="/audit?user=petra&amp;page=2"' in first
    second = app_client.get("/audit", params={"user": "petra", "page": "2"}).text
    assert 0 < second.count('data-testid="audit-entry"') and 'href="/audit?user=petra&amp;page=1"' in second


def test_admin_sees_the_accounts(app_client: TestClient, workspace_store: StoreCopy) -> None:  # noqa: F811
    login(app_client, "admin")
    page = app_client.get("/users")
    assert page.status_code == 200 and 'data-testid="users"' in page.text
    names = re.findall(r'data-testid="user-row" data-name="([^"]+)"', page.text)
    assert set(ROLES_USERS.values()) <= set(names)
    say = words(workspace_store)
    for role in ROLES_USERS:
        assert say.t(f"role_{role}") in page.text
    assert "presswatch user add|role|disable" in page.text
    assert "<form" not in page.text.split('data-testid="users"')[1]  # read-only: no form on the list
