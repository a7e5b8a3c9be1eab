"""Saved searches in the workspace, on a copy of the real demo store: who may create, edit and delete them, what a
malformed query does, profile-owned searches being read-only, the recent-match count, and that an alerting search
made here is what the pipeline routes to alerts."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.testclient import httpx as client_http  # httpx or httpx2, whichever Starlette uses

from presswatch.index import open_index
from presswatch.index.base import ClippingIndex, SavedSearch, SearchQuery
from presswatch.state import utcnow
from presswatch.web.accounts import Accounts
from presswatch.web.i18n import WebText, text
from tests.web_support import StoreCopy, app_client, demo_store, fast_kdf, login, workspace_store  # noqa: F401


@pytest.fixture()
def index(workspace_store: StoreCopy) -> Iterator[ClippingIndex]:  # noqa: F811
    """A second connection to the module's store: what the app wrote, as the pipeline would read it."""
    idx = open_index(workspace_store.profile, workspace_store.db_path)
    try:
        yield idx
    finally:
        idx.close()


def words(store: StoreCopy) -> WebText:
    """The catalogue the pages speak: the test accounts choose no language, so the profile's."""
    return text(store.profile.digest_language)


def saved(index: ClippingIndex, municipality: str) -> dict[str, SavedSearch]:
    return {s.id: s for s in index.saved_searches(municipality)}


def audit_actions(db: Path, action: str) -> list[tuple[str, str, str | None]]:
    accounts = Accounts(db)
    try:
        return [(e.user, e.target, e.detail) for e in accounts.audit_log(limit=500, action=action)]
    finally:
        accounts.close()


def create(client: TestClient, csrf: str, search_id: str, query: str, name: str = "A search",
           alert: bool = True) -> client_http.Response:
    data = {"csrf": csrf, "id": search_id, "name": name, "query": query}
    if alert:
        data["alert"] = "on"
    return client.post("/saved", data=data)


def test_analyst_creates_edits_and_deletes(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                           index: ClippingIndex) -> None:
    town = workspace_store.profile.id
    csrf = login(app_client, "analyst")
    page = app_client.get("/saved")
    assert page.status_code == 200 and 'data-testid="saved-form"' in page.text

    r = create(app_client, csrf, "mayor-news", "primátor", name="Mayor in the news")
    assert r.status_code == 303 and r.headers["location"] == "/saved?done=added"
    stored = saved(index, town)["mayor-news"]
    assert (stored.name, stored.query, stored.alert, stored.origin, stored.created_by) == \
        ("Mayor in the news", "primátor", True, "store", "anton")
    listing = app_client.get("/saved?done=added").text
    assert 'data-testid="notice"' in listing and "Mayor in the news" in listing
    assert "/search?q=prim%C3%A1tor" in listing
    assert 'href="/saved/mayor-news/edit"' in listing and "data-confirm=" in listing

    form = app_client.get("/saved/mayor-news/edit")
    assert form.status_code == 200 and 'value="primátor"' in form.text
    r = app_client.post("/saved/mayor-news", data={"csrf": csrf, "name": "Mayor, quietly", "query": "primátor most"})
    assert r.status_code == 303 and r.headers["location"] == "/saved?done=edited"
    edited = saved(index, town)["mayor-news"]
    assert (edited.name, edited.query, edited.alert) == ("Mayor, quietly", "primátor most", False)
    assert edited.created_at == stored.created_at and edited.created_by == "anton"  # an edit is not a new search

    r = app_client.post("/saved/mayor-news/delete", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/saved?done=deleted"
    assert "mayor-news" not in saved(index, town)

    trail = {a: audit_actions(workspace_store.db_path, a) for a in ("saved_add", "saved_edit", "saved_delete")}
    assert ("anton", "mayor-news", "primátor") in trail["saved_add"]
    assert ("anton", "mayor-news", "primátor most") in trail["saved_edit"]
    assert ("anton", "mayor-news", "primátor most") in trail["saved_delete"]


def test_viewer_reads_but_cannot_change(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                        index: ClippingIndex) -> None:
    town = workspace_store.profile.id
    index.save_search(SavedSearch(id="viewer-sees", municipality=town, name="Budget", query="rozpočet",
                                  origin="store", created_by="someone"))
    csrf = login(app_client, "viewer")
    page = app_client.get("/saved")
    assert page.status_code == 200 and "Budget" in page.text
    assert 'data-testid="saved-form"' not in page.text and 'data-testid="saved-delete"' not in page.text
    assert create(app_client, csrf, "by-viewer", "most").status_code == 403
    assert app_client.get("/saved/viewer-sees/edit").status_code == 403
    assert app_client.post("/saved/viewer-sees", data={"csrf": csrf, "name": "x", "query": "x"}).status_code == 403
    assert app_client.post("/saved/viewer-sees/delete", data={"csrf": csrf}).status_code == 403
    current = saved(index, town)
    assert "by-viewer" not in current and current["viewer-sees"].query == "rozpočet"


@pytest.mark.parametrize("role", ["press", "admin"])
def test_press_and_admin_may_save(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                  index: ClippingIndex, role: str) -> None:
    csrf = login(app_client, role)
    assert create(app_client, csrf, f"by-{role}", "most").status_code == 303
    assert f"by-{role}" in saved(index, workspace_store.profile.id)


def test_malformed_query_is_refused_with_reason_and_position(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                                              index: ClippingIndex) -> None:
    csrf = login(app_client, "analyst")
    r = create(app_client, csrf, "broken", "most AND", name="Broken <b>")
    assert r.status_code == 400
    body = r.text
    assert "AND needs a word, phrase or group on both sides" in body
    assert words(workspace_store).t("saved_error_at", pos=6) in body and 'data-testid="saved-problem"' in body
    assert 'value="most AND"' in body and "Broken &lt;b&gt;" in body  # the form comes back as typed, escaped
    assert "broken" not in saved(index, workspace_store.profile.id)

    for bad_id in ("Has Spaces", "ÚPRAVA", ""):
        r = create(app_client, csrf, bad_id, "most")
        assert r.status_code == 400, bad_id
        assert html.escape(words(workspace_store).t("saved_error_id"), quote=False) in r.text
    assert create(app_client, csrf, "blank", "   ").status_code == 400
    assert {"has spaces", "blank"}.isdisjoint(saved(index, workspace_store.profile.id))

    # an edit with a malformed query keeps the stored one
    assert create(app_client, csrf, "keep-me", "most").status_code == 303
    r2 = app_client.post("/saved/keep-me", data={"csrf": csrf, "name": "Keep", "query": "(most", "alert": "on"})
    assert r2.status_code == 400 and "this parenthesis is never closed" in r2.text
    assert saved(index, workspace_store.profile.id)["keep-me"].query == "most"


def test_creating_an_existing_id_does_not_replace_it(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                                      index: ClippingIndex) -> None:
    csrf = login(app_client, "analyst")
    assert create(app_client, csrf, "twice", "most").status_code == 303
    r = create(app_client, csrf, "twice", "rozpočet")
    assert r.status_code == 400
    assert html.escape(words(workspace_store).t("saved_error_taken", id="twice"), quote=False) in r.text
    assert saved(index, workspace_store.profile.id)["twice"].query == "most"


def test_profile_owned_search_is_read_only(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                           index: ClippingIndex) -> None:
    town = workspace_store.profile.id
    index.save_search(SavedSearch(id="from-profile", municipality=town, name="Bridge works", query="most",
                                  origin="profile"))
    csrf = login(app_client, "analyst")
    page = app_client.get("/saved").text
    owned = words(workspace_store).t("saved_origin_profile")
    assert "Bridge works" in page and owned in page
    assert 'href="/saved/from-profile/edit"' not in page and 'action="/saved/from-profile/delete"' not in page
    for r in (app_client.get("/saved/from-profile/edit"),
              app_client.post("/saved/from-profile", data={"csrf": csrf, "name": "x", "query": "x"}),
              app_client.post("/saved/from-profile/delete", data={"csrf": csrf})):
        assert r.status_code == 400
        assert html.escape(words(workspace_store).t("saved_error_profile", name="Bridge works"), quote=False) in r.text
    assert saved(index, town)["from-profile"].query == "most"
    assert app_client.get("/saved/no-such-search/edit").status_code == 404


def test_recent_match_count(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                            index: ClippingIndex) -> None:
    town = workspace_store.profile
    index.save_search(SavedSearch(id="count-mayor", municipality=town.id, name="Counted", query="primátor"))
    expected = index.search(SearchQuery(text="primátor", municipality=town.id, limit=1,
                                        since=utcnow() - timedelta(days=7))).total
    assert expected > 0
    login(app_client, "viewer")
    page = app_client.get("/saved").text
    row = page[page.index('data-id="count-mayor"'):]
    row = row[:row.index("</tr>")]
    recent = row[row.index('data-testid="saved-recent"'):]
    assert f">{expected}<" in recent


def test_alerting_search_routes_matches_to_alerts(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                                  index: ClippingIndex) -> None:
    town = workspace_store.profile.id
    hit = index.search(SearchQuery(text="primátor", municipality=town, limit=1)).hits[0].clipping
    csrf = login(app_client, "analyst")
    assert create(app_client, csrf, "route-mayor", "primátor").status_code == 303
    assert create(app_client, csrf, "quiet-mayor", "primátor", alert=False).status_code == 303
    matched = index.match_saved([hit]).get(hit.id, ())
    assert "route-mayor" in matched and "quiet-mayor" not in matched

    # switching alerts off on the edit form takes it out of routing
    app_client.post("/saved/route-mayor", data={"csrf": csrf, "name": "Mayor", "query": "primátor"})
    assert "route-mayor" not in index.match_saved([hit]).get(hit.id, ())


def test_search_text_is_escaped(app_client: TestClient, workspace_store: StoreCopy,  # noqa: F811
                                index: ClippingIndex) -> None:
    index.save_search(SavedSearch(id="xss", municipality=workspace_store.profile.id,
                                  name="<script>alert(1)</script>", query='"<script>alert(1)</script>"',
                                  created_by="<img src=x>"))
    login(app_client, "viewer")
    page = app_client.get("/saved").text
    assert "<script>alert(1)</script>" not in page and "<img src=x>" not in page
    assert html.escape("<script>alert(1)</script>", quote=False) in page


def test_save_this_search_prefills_the_form(app_client: TestClient) -> None:  # noqa: F811
    """The search page links analysts to the saved-search form with the query filled in; viewers get no link."""
    login(app_client, "analyst")
    page = app_client.get("/search", params={"q": 'rozpočet -"futbal"'})
    assert 'data-testid="save-search"' in page.text
    form = app_client.get("/saved", params={"q": 'rozpočet -"futbal"'})
    assert 'value="rozpočet -&#34;futbal&#34;"' in form.text or "value=\"rozpočet -&quot;futbal&quot;\"" in form.text
    login(app_client, "viewer")
    assert 'data-testid="save-search"' not in app_client.get("/search", params={"q": "rozpočet"}).text
