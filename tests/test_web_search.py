"""The search page and its export (web/routes_search.py) on a copy of the real demo store: what each role sees,
that the page shows what the index finds for the same query, facets, story copies, malformed queries, paging,
CSV/JSON exports of the whole result, escaping of article text and the six languages."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from presswatch import settings
from presswatch.index import open_index
from presswatch.index.base import Bucket, ClippingIndex, Facets, SearchQuery
from presswatch.web.i18n import LANGUAGES, text
from presswatch.web.search_view import SearchForm, filter_token, selected_filters, snippet_segments, volume_chart
from tests.web_support import (
    ROLES_USERS,
    StoreCopy,
    app_client,  # noqa: F401
    demo_store,  # noqa: F401
    fast_kdf,  # noqa: F401
    login,
    workspace_store,  # noqa: F401
)

WORD = "primátor"  # the demo's Slovak stories talk about the mayor a lot


@pytest.fixture(scope="module")
def copy(workspace_store: StoreCopy) -> StoreCopy:  # noqa: F811
    """The module's store (the app's), under a name the tests can take without shadowing the import."""
    return workspace_store


@pytest.fixture(scope="module")
def index(copy: StoreCopy) -> Iterator[ClippingIndex]:
    """The index the app reads, opened directly: the page must agree with it."""
    idx = open_index(copy.profile, copy.db_path)
    yield idx
    idx.close()


def page_query(store: StoreCopy, q: str = "", *, collapse: bool = True, page: int = 1,
               relevant: bool | None = True) -> SearchQuery:
    size = settings.WEB_PAGE_SIZE
    return SearchQuery(text=q, municipality=store.profile.id, collapse=collapse, limit=size,
                       offset=(page - 1) * size, relevant=relevant, tz=store.profile.municipality.timezone)


def hit_titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'data-testid="hit-link">(.*?)</a>', page)]


def hit_ids(page: str) -> list[str]:
    return re.findall(r'data-testid="hit" data-id="([^"]+)"', page)


def total_of(page: str) -> int:
    m = re.search(r'data-testid="total" data-count="(\d+)"', page)
    assert m, "no total on the page"
    return int(m.group(1))


def block_of(page: str, testid: str, tag: str) -> str:
    m = re.search(rf'<{tag}[^>]*data-testid="{testid}".*?</{tag}>', page, re.S)
    assert m, f"no {testid}"
    return m.group(0)


# --- access ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/search?q=most", "/search/export?format=csv"])
def test_logged_out_is_sent_to_login_with_the_way_back(app_client: TestClient, path: str) -> None:  # noqa: F811
    app_client.cookies.clear()
    r = app_client.get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=%2Fsearch")


@pytest.mark.parametrize("role", list(ROLES_USERS))
def test_every_role_can_search_and_export(app_client: TestClient, role: str) -> None:  # noqa: F811
    login(app_client, role)
    r = app_client.get("/search", params={"q": WORD})
    assert r.status_code == 200
    assert total_of(r.text) > 0 and hit_ids(r.text)
    assert app_client.get("/search/export", params={"format": "json", "q": WORD}).status_code == 200


# --- results -----------------------------------------------------------------------------------------------
def test_a_word_finds_what_the_index_finds(app_client: TestClient, copy: StoreCopy,  # noqa: F811
                                           index: ClippingIndex) -> None:
    login(app_client, "viewer")
    r = app_client.get("/search", params={"q": WORD})
    direct = index.search(page_query(copy, WORD))
    assert direct.total > 0
    assert total_of(r.text) == direct.total
    assert hit_titles(r.text) == [h.clipping.article.title for h in direct.hits]
    assert 'value="primátor"' in r.text  # the form keeps the query
    # a row names its outlet by name (not id), its local time and its response status in the page's language
    first = direct.hits[0].clipping
    assert copy.profile.outlet(first.article.outlet).name in r.text
    assert text("sk").t("status_new") in r.text


def test_no_query_lists_newest_first(app_client: TestClient, copy: StoreCopy,  # noqa: F811
                                     index: ClippingIndex) -> None:
    login(app_client, "analyst")
    r = app_client.get("/search")
    direct = index.search(page_query(copy))
    assert total_of(r.text) == direct.total
    assert hit_ids(r.text) == [h.clipping.id for h in direct.hits]


def test_all_includes_clippings_not_about_the_municipality(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "viewer")
    relevant = total_of(app_client.get("/search", params={"flat": "1"}).text)
    everything = total_of(app_client.get("/search", params={"flat": "1", "all": "1"}).text)
    assert everything > relevant


def test_clicking_a_facet_narrows_and_its_remove_link_widens_again(app_client: TestClient,  # noqa: F811
                                                                   copy: StoreCopy) -> None:
    login(app_client, "viewer")
    r = app_client.get("/search", params={"q": WORD})
    before = total_of(r.text)
    group = block_of(r.text, "facet-outlet", "section")
    links = re.findall(r'<a href="([^"]+)" data-testid="facet-link">([^<]+)</a>', group)
    assert len(links) > 1, "the demo's mayor stories come from several outlets"
    href, name = html.unescape(links[0][0]), html.unescape(links[0][1])
    q = parse_qs(urlsplit(href).query)["q"][0]
    assert q.startswith(WORD + " outlet:")
    narrowed = app_client.get(href)
    assert narrowed.status_code == 200
    assert 0 < total_of(narrowed.text) < before
    outlets = re.findall(r'data-testid="hit-outlet">([^<]+)<', narrowed.text)
    assert outlets and {html.unescape(o) for o in outlets} == {name}
    remove = re.search(r'<a href="([^"]+)"[^>]*data-testid="remove-filter"', narrowed.text)
    assert remove
    widened = app_client.get(html.unescape(remove.group(1)))
    assert total_of(widened.text) == before


def test_facets_are_named_and_counted(app_client: TestClient, copy: StoreCopy) -> None:  # noqa: F811
    login(app_client, "viewer")
    r = app_client.get("/search")
    facets = block_of(r.text, "facets", "aside")
    for name in ("outlet", "official", "body", "lang", "sentiment", "flag", "status"):
        assert f'data-testid="facet-{name}"' in facets
    mayor = next(o for o in copy.profile.officials if o.id == "mayor")
    assert html.escape(mayor.name) in facets
    assert "Slovenčina" in facets  # a language by its own name
    assert text("sk").t("flag_critical") in facets
    assert "official:mayor" not in re.sub(r'href="[^"]*"', "", facets)  # ids only in links, never shown


def test_collapse_groups_copies_of_a_story(app_client: TestClient, index: ClippingIndex,  # noqa: F811
                                           copy: StoreCopy) -> None:
    login(app_client, "viewer")
    stories = index.search(replace(page_query(copy), limit=1000)).hits
    position, hit = next((i, h) for i, h in enumerate(stories) if h.copies)  # the demo has a syndicated story
    r = app_client.get("/search", params={"page": str(position // settings.WEB_PAGE_SIZE + 1)})
    row = re.search(rf'data-testid="hit" data-id="{hit.clipping.id}".*?</li>', r.text, re.S)
    assert row and 'data-testid="copies"' in row.group(0)
    twin = hit.copies[0]
    assert f'href="/clipping/{twin.id}" data-testid="copy-link"' in row.group(0)
    assert html.escape(copy.profile.outlet(twin.article.outlet).name) in row.group(0)
    flat = app_client.get("/search", params={"flat": "1"})
    assert total_of(flat.text) == total_of(r.text) + sum(len(h.copies) for h in stories)
    assert 'data-testid="copies"' not in flat.text


def test_a_malformed_query_says_what_and_where(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "viewer")
    r = app_client.get("/search", params={"q": "primátor (most"})
    assert r.status_code == 400
    error = block_of(r.text, "query-error", "section")
    assert "parenthesis" in error
    assert '<mark class="query-at">(</mark>' in error
    assert 'value="primátor (most"' in r.text  # still in the form, to be corrected
    assert 'data-testid="hits"' not in r.text
    unknown = app_client.get("/search", params={"q": "outet:horcan"})
    assert unknown.status_code == 400 and "unknown field" in unknown.text


def test_pages_cover_the_result_once_and_keep_the_parameters(app_client: TestClient,  # noqa: F811
                                                             index: ClippingIndex,
                                                             copy: StoreCopy) -> None:
    login(app_client, "viewer")
    first = app_client.get("/search", params={"flat": "1", "all": "1"})
    total = total_of(first.text)
    assert total > settings.WEB_PAGE_SIZE, "the demo fills more than one page"
    nxt = re.search(r'<a href="([^"]+)" rel="next"', first.text)
    assert nxt
    href = html.unescape(nxt.group(1))
    assert parse_qs(urlsplit(href).query) == {"all": ["1"], "flat": ["1"], "page": ["2"]}
    seen: list[str] = hit_ids(first.text)
    while nxt:
        page = app_client.get(html.unescape(nxt.group(1)))
        assert 'rel="prev"' in page.text
        seen += hit_ids(page.text)
        nxt = re.search(r'<a href="([^"]+)" rel="next"', page.text)
    assert len(seen) == len(set(seen)) == total
    direct = index.search(replace(page_query(copy, collapse=False, relevant=None), limit=1000))
    assert seen == [h.clipping.id for h in direct.hits]
    assert app_client.get("/search", params={"page": "zwei"}).status_code == 200  # a bad number is page 1


def test_volume_chart_is_an_svg_with_a_text_alternative(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "viewer")
    r = app_client.get("/search")
    chart = block_of(r.text, "volume-chart", "figure")
    assert "<svg" in chart and 'role="img"' in chart and "aria-label=" in chart
    assert "style=" not in chart
    bars = re.findall(r'<rect class="bar" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+">', chart)
    rows = re.findall(r"<tr><td>", chart)
    assert bars and len(bars) == len(rows) == chart.count("<title>")


def test_long_spans_are_drawn_per_week() -> None:
    start = date(2026, 1, 1)
    days = tuple(Bucket((start + timedelta(days=i)).isoformat(), i % 3) for i in range(120))
    weeks = tuple(Bucket(f"2026-W{w:02d}", 5) for w in range(1, 19))
    chart = volume_chart(Facets(total=120, counts={"day": days, "week": weeks}), text("en"))
    assert chart is not None and chart.weekly and len(chart.bars) == len(weeks)
    short = volume_chart(Facets(total=9, counts={"day": days[:30], "week": weeks[:5]}), text("en"))
    assert short is not None and not short.weekly and len(short.bars) == 30


# --- export ------------------------------------------------------------------------------------------------
def test_csv_export_has_every_clipping_of_the_search(app_client: TestClient,  # noqa: F811
                                                     copy: StoreCopy) -> None:
    login(app_client, "viewer")
    total = total_of(app_client.get("/search", params={"flat": "1", "all": "1"}).text)
    r = app_client.get("/search/export", params={"format": "csv", "flat": "1", "all": "1"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    disposition = r.headers["content-disposition"]
    assert re.fullmatch(rf'attachment; filename="presswatch-{copy.profile.id}-\d{{4}}-\d\d-\d\d\.csv"',
                        disposition)
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert total > settings.WEB_PAGE_SIZE and len(rows) == total  # the whole result, not one page
    assert len({row["id"] for row in rows}) == total
    assert any("ô" in row["title"] for row in rows)  # UTF-8 survives
    trail = app_client.app.state.workspace.accounts.audit_log(action="export")  # type: ignore[attr-defined]
    assert trail and trail[0].user == "vera" and trail[0].target == "csv"  # data leaving is on the record


def test_json_export_parses_and_follows_the_query(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "analyst")
    page = app_client.get("/search", params={"q": WORD})
    r = app_client.get("/search/export", params={"format": "json", "q": WORD})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["content-disposition"].endswith('.json"')
    data = json.loads(r.content.decode("utf-8"))
    assert data["query"] == WORD
    assert data["count"] == len(data["clippings"]) == total_of(page.text)
    assert [c["title"] for c in data["clippings"]][:3] == hit_titles(page.text)[:3]


def test_export_refuses_a_bad_format_or_query(app_client: TestClient) -> None:  # noqa: F811
    login(app_client, "viewer")
    bad = app_client.get("/search/export", params={"format": "xlsx"})
    assert bad.status_code == 400 and "xlsx" in bad.text
    broken = app_client.get("/search/export", params={"format": "csv", "q": '"never closed'})
    assert broken.status_code == 400
    assert "quote is never closed" in html.unescape(broken.text)


# --- escaping ----------------------------------------------------------------------------------------------
def test_article_text_is_escaped_and_only_highlights_are_marked(app_client: TestClient,  # noqa: F811
                                                                index: ClippingIndex,
                                                                copy: StoreCopy) -> None:
    source = index.search(page_query(copy, collapse=False)).hits[0].clipping
    evil = "<script>alert(1)</script>"
    article = replace(source.article, id="ffffeeeeddddccccbbbbaaaa", url=source.article.url + "?evil",
                      title=f"Quxzebra {evil} <b>bold</b>", text=f"Quxzebra {evil} and <img src=x onerror=alert(2)>."
                      f" {source.article.text}")
    index.upsert([replace(source, article=article, cluster_id=article.id)])
    login(app_client, "viewer")
    r = app_client.get("/search", params={"q": "quxzebra"})
    assert r.status_code == 200
    assert total_of(r.text) == 1
    assert "<script>alert" not in r.text and "<b>bold" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    snippet = block_of(r.text, "snippet", "p")
    inner = re.sub(r"^<p[^>]*>|</p>$", "", snippet)
    assert "<mark>Quxzebra</mark>" in inner
    assert "<" not in inner.replace("<mark>", "").replace("</mark>", "")


def test_snippet_segments_mark_only_bracketed_matches() -> None:
    assert snippet_segments("…the [mayor] said [no]") == [("…the ", False), ("mayor", True), (" said ", False),
                                                          ("no", True)]
    assert snippet_segments("a [ b") == [("a [ b", False)]
    assert snippet_segments("") == []


def test_filter_tokens_round_trip() -> None:
    assert filter_token("outlet", "horcan") == "outlet:horcan"
    assert filter_token("body", "city office") == 'body:"city office"'
    q = 'most outlet:horcan -flag:critical body:"City Office"'
    assert set(selected_filters(q)) == {("outlet", "horcan"), ("body", "city office")}
    assert SearchForm(q=q, flat=True, page=3).url(page=4).startswith("/search?q=most+outlet")


# --- languages ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_speaks_every_language(app_client: TestClient, lang: str) -> None:  # noqa: F811
    csrf = login(app_client, "press")
    r = app_client.post("/lang", data={"csrf": csrf, "lang": lang, "back": "/search?q=most"})
    assert r.status_code == 303
    try:
        page = app_client.get("/search", params={"q": "most"})
        assert page.status_code == 200
        words = text(lang)
        assert f'<html lang="{lang}">' in page.text
        for key in ("search_facets_title", "search_volume_title", "search_submit"):
            assert html.escape(words.t(key), quote=False) in page.text
        assert html.escape(words.plural("search_total_stories", total_of(page.text)), quote=False) in page.text
        error = app_client.get("/search", params={"q": "most ("})
        assert html.escape(words.t("search_error_title"), quote=False) in error.text
    finally:
        app_client.post("/lang", data={"csrf": csrf, "lang": "", "back": "/search"})
