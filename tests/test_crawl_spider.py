"""The news-site spider: sitemap parsing and article heuristics in-process, the crawl itself as the subprocess the
daemon runs (a real Scrapy process against a loopback site, a real SQLite store)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse, Request, TextResponse

from presswatch.crawlers.canonical import canonical_url
from presswatch.crawlers.crawl import CrawlReport, run_crawl
from presswatch.crawlers.spiders.news import NewsSpider, page_kind, parse_sitemap
from presswatch.profile import SiteSource
from presswatch.records import Discovery, RawPage, clipping_id
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, free_port, gz, profile_yaml

# --- in-process: sitemaps and heuristics -------------------------------------------------------------------------

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>{base}/site/2026/11/sitemap-only/</loc>
    <news:news><news:publication><news:name>Site</news:name><news:language>sk</news:language></news:publication>
      <news:publication_date>2026-11-21T09:15:00+01:00</news:publication_date>
      <news:title>Len v sitemape</news:title></news:news></url>
  <url><loc>{base}/site/2026/11/one/</loc><lastmod>2026-11-21</lastmod></url>
</urlset>
"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{base}/site/news-sitemap.xml.gz</loc></sitemap>
</sitemapindex>
"""


def test_parse_news_sitemap_and_index() -> None:
    sm = parse_sitemap(NEWS_SITEMAP.format(base="http://h").encode())
    assert sm.kind == "urlset" and [e.loc for e in sm.entries] == ["http://h/site/2026/11/sitemap-only/",
                                                                   "http://h/site/2026/11/one/"]
    first, second = sm.entries
    assert first.news_title == "Len v sitemape"
    assert first.news_published == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)
    assert second.lastmod == datetime(2026, 11, 21, tzinfo=UTC) and second.news_title is None
    index = parse_sitemap(INDEX.format(base="http://h").encode())
    assert index.kind == "sitemapindex" and index.entries[0].loc == "http://h/site/news-sitemap.xml.gz"
    for junk in (b"", b"<html><body>nope</body></html>", b"\x00\xff", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><urlset><url><loc>&e;</loc></url></urlset>"):
        parsed = parse_sitemap(junk)
        assert parsed.kind is None or all("root:" not in e.loc for e in parsed.entries)


def _page(head: str, body: str = "") -> Selector:
    return Selector(text=f"<html><head>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize(("head", "url_shaped", "expected", "why"), [
    ('<meta property="og:type" content="article">', False, True, "og:type=article"),
    ('<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle"}</script>',
     False, True, "JSON-LD NewsArticle"),
    ('<script type="application/ld+json">{"@graph":[{"@type":"WebPage"},{"@type":["ReportageNewsArticle"]}]}'
     '</script>', False, True, "JSON-LD ReportageNewsArticle"),
    ('<meta property="og:type" content="website">', True, False, "declared a listing"),
    ('<script type="application/ld+json">{"@type":"CollectionPage"}</script>', True, False, "declared a listing"),
    ('<script type="application/ld+json">{broken json</script>', True, True, "URL shape"),
    ("", True, True, "URL shape"),
    ("", False, False, "no article signal"),
])
def test_page_kind(head: str, url_shaped: bool, expected: bool, why: str) -> None:
    is_article, reason = page_kind(_page(head), "http://h/x", lambda _url: url_shaped)
    assert is_article is expected and reason.startswith(why)


def test_article_url_shapes_without_allow_patterns() -> None:
    spider = NewsSpider(SiteSource(id="s", outlet="o", start_urls=["http://h/"]))
    for url in ("http://h/2026/11/primator-otvoril-most/", "http://h/spravy/most-123456.html",
                "http://h/region/primator-otvoril-novy-most"):
        assert spider.article_url(url), url
    for url in ("http://h/", "http://h/sekcia/region/", "http://h/kontakt/", "http://h/tag/most/"):
        assert not spider.article_url(url), url


def test_spider_callbacks_in_process() -> None:
    """Sitemaps from robots.txt (when the profile names none), scope, and a page whose rel=canonical names an
    article already had."""
    known = {"http://h/site/2026/11/original/"}
    spider = NewsSpider(SiteSource(id="s", outlet="o", start_urls=["http://h/site/"], allow=[r"/site/\d{4}/"]),
                        known=known.__contains__)
    robots = TextResponse("http://h/robots.txt", body=b"User-agent: *\nSitemap: http://h/site/sitemap.xml\n"
                                                      b"Sitemap: http://h/other/sitemap.xml\n", encoding="utf-8")
    assert [r.url for r in spider.parse_robots(robots)] == ["http://h/site/sitemap.xml"]  # in scope only

    def page(url: str, head: str) -> HtmlResponse:
        request = Request(url, meta={"page_url": url})
        return HtmlResponse(url, body=_html(head, ["/site/2026/11/original/?utm_source=x", "/other/2026/11/x/"]),
                            encoding="utf-8", request=request,
                            headers={"Content-Type": "text/html; charset=utf-8", "Content-Length": "9"})

    copy = page("http://h/site/2026/11/copy/", ARTICLE + '<link rel="canonical" href="/site/2026/11/original/">')
    assert list(spider.parse_page(copy)) == []  # a known article under another URL; its links are known too
    fresh = page("http://h/site/2026/11/fresh/", ARTICLE)
    [item] = [o for o in spider.parse_page(fresh) if isinstance(o, RawPage)]
    assert item.url == "http://h/site/2026/11/fresh/" and item.outlet == "o" and item.source == "s"
    assert item.headers == {"content-type": "text/html; charset=utf-8"}  # wire-only headers dropped


# --- the crawl subprocess --------------------------------------------------------------------------------------

OLD_BASE = "http://127.0.0.1:8765"  # what the profile file says; run_crawl rebases it onto the test server
SITE_YAML = r"""    - id: site
      outlet: o
      start_urls: ['http://127.0.0.1:8765/site/']
      sitemaps: ['http://127.0.0.1:8765/site/sitemap-index.xml']
      allow: ['/site/(\d{4}/\d{2}|interne/\d{4})/']
      depth: 2
"""


def _html(head: str, links: tuple[str, ...] | list[str] = (), text: str = "Text") -> bytes:
    anchors = "".join(f'<a href="{href}">{href}</a>' for href in links)
    return f"<html><head><meta charset='utf-8'>{head}</head><body><p>{text}</p>{anchors}</body></html>".encode()


ARTICLE = '<meta property="og:type" content="article">'


def _site(srv: Server) -> None:
    b = srv.base_url
    srv.routes.update({
        "/robots.txt": Reply(body=b"User-agent: *\nDisallow: /site/interne/\n", content_type="text/plain"),
        "/site/": Reply(body=_html('<meta property="og:type" content="website">', [
            "/site/2026/11/one/?utm_source=homepage&utm_medium=web", "2026/11/two/", "/site/sekcia/kultura/",
            "/site/interne/2026/secret/", "http://other.example/2026/11/elsewhere/", "mailto:redakcia@site.example",
            "/site/kontakt/"])),
        "/site/sekcia/kultura/": Reply(body=_html('<meta property="og:type" content="website">', [
            "/site/2026/11/three/", "/site/2026/11/known/", "/site/2026/11/gallery/", "/site/2026/11/one/#comments"])),
        "/site/2026/11/one/": Reply(body=_html(ARTICLE + f'<link rel="canonical" href="{b}/site/2026/11/one/">')),
        "/site/2026/11/two/": Reply(body=_html('<script type="application/ld+json">{"@type": "NewsArticle"}</script>')),
        "/site/2026/11/three/": Reply(body=_html("")),  # no metadata: the URL's shape decides
        "/site/2026/11/known/": Reply(body=_html(ARTICLE)),
        "/site/2026/11/gallery/": Reply(body=_html('<meta property="og:type" content="website">')),
        "/site/2026/11/sitemap-only/": Reply(body=_html(ARTICLE, text="Len zo sitemapy")),
        "/site/interne/2026/secret/": Reply(body=_html(ARTICLE)),
        "/site/sitemap-index.xml": Reply(body=INDEX.format(base=b).encode(), content_type="application/xml"),
        "/site/news-sitemap.xml.gz": Reply(body=gz(NEWS_SITEMAP.format(base=b).encode()),
                                           content_type="application/x-gzip"),
    })


@pytest.fixture(autouse=True)
def _quick_autothrottle(monkeypatch: pytest.MonkeyPatch) -> None:
    # The crawl subprocess inherits the environment: loopback needs no 1 s politeness delay to start with.
    monkeypatch.setenv("PRESSWATCH_CRAWL_START_DELAY", "0.1")


def _profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(profile_yaml(sites=SITE_YAML), encoding="utf-8")
    return path


@pytest.mark.slow
def test_crawl_subprocess_stores_articles_once_and_obeys_robots(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with Server() as srv:
        _site(srv)
        b = srv.base_url
        state = State(db)
        state.discover([Discovery(url=f"{b}/site/2026/11/known/", outlet="o", source="feed",
                                  seen_at=datetime.now(UTC))])  # found by a feed: the spider must leave it
        first = run_crawl(_profile(tmp_path), "site", db, base_url_override=b, timeout_s=60)
        requested_after_first = srv.paths()
        second = run_crawl(_profile(tmp_path), "site", db, base_url_override=b, timeout_s=60)

    assert first.ok, (first.error, first.stderr_tail[-2000:])
    assert first.pages_stored == 4 and first.known_skipped == 1 and first.robots_forbidden == 1
    assert first.errors == (), first.errors  # the dead /site/kontakt/ link is not a site error
    stored = {f"{b}/site/2026/11/{slug}/" for slug in ("one", "two", "three", "sitemap-only")}
    for url in stored:
        page = state.raw_page(clipping_id(url))
        assert page is not None and page.source == "site" and page.outlet == "o" and page.status == 200, url
    only = state.raw_page(clipping_id(f"{b}/site/2026/11/sitemap-only/"))
    assert only is not None and only.feed_title == "Len v sitemape" and b"Len zo sitemapy" in only.body
    assert only.feed_published == datetime(2026, 11, 21, 8, 15, tzinfo=UTC)
    assert "text/html" in only.headers["content-type"]
    assert state.queue_counts()["queued"] == 4
    assert "/site/interne/2026/secret/" not in requested_after_first  # robots.txt
    assert "/site/2026/11/known/" not in requested_after_first  # already discovered through a feed
    assert requested_after_first.count("/site/2026/11/one/") == 1  # tracking params and #fragment: one URL
    assert "/site/2026/11/gallery/" in requested_after_first  # fetched, judged not an article, not stored
    assert state.raw_page(clipping_id(f"{b}/site/2026/11/gallery/")) is None
    ua = next(r.headers["user-agent"] for r in srv.requests if r.path == "/site/")
    assert "Mesto Stara Horka - tlacove oddelenie" in ua
    health = state.source("site")
    assert health is not None and health.kind == "site" and health.url == f"{b}/site/"
    assert health.consecutive_failures == 0 and health.last_error is None and health.items_total == 4

    assert second.ok and second.pages_stored == 0 and second.known_skipped == 5
    again = srv.paths()[len(requested_after_first):]
    assert not [p for p in again if p.startswith("/site/2026/") and f"{b}{p}" in stored], again  # none twice
    # (A page judged "not an article" is not remembered, so it is looked at again: see the report.)


@pytest.mark.slow
def test_crawl_of_a_site_that_is_down_is_a_failure_in_health(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    report = run_crawl(_profile(tmp_path), "site", db, base_url_override=f"http://127.0.0.1:{free_port()}",
                       timeout_s=60)
    assert not report.ok and report.error and report.error.startswith("no start page or sitemap of site answered")
    state = State(db)
    health = state.source("site")
    assert health is not None and health.consecutive_failures == 1 and health.last_error == report.error


@pytest.mark.slow
def test_crawl_time_limit(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with Server() as srv:
        srv.routes["/robots.txt"] = Reply(404)
        srv.routes["/site/"] = Reply(body=b"<html></html>", delay_s=30)
        srv.routes["/site/sitemap-index.xml"] = Reply(body=b"<x/>", delay_s=30)
        start = time.monotonic()
        report = run_crawl(_profile(tmp_path), "site", db, base_url_override=srv.base_url, timeout_s=5)
        took = time.monotonic() - start
    # The child closes itself before the parent's limit, although both its downloads still hang.
    assert took < 5 and not report.timed_out
    assert report.error == "no start page or sitemap of site answered (crawl stopped: time limit, downloads" \
                           " still in flight)"
    health = State(db).source("site")
    assert health is not None and health.consecutive_failures == 1


def test_unknown_source_is_reported_without_a_subprocess(tmp_path: Path) -> None:
    report = run_crawl(_profile(tmp_path), "nope", tmp_path / "store.db")
    assert report == CrawlReport(source="nope", error="no site source 'nope' in the profile (sites: site)")


def test_report_json_round_trip() -> None:
    report = CrawlReport(source="s", pages_stored=3, errors=("a", "b"), finish_reason="finished")
    assert CrawlReport.from_json(json.loads(json.dumps(report.to_json()))) == report
    assert canonical_url(OLD_BASE) == OLD_BASE + "/"
