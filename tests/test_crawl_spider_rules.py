"""The spider's politeness and bounds, checked where they act: the settings Scrapy gets, and a real crawl
subprocess against a loopback site (deny patterns, depth limit, sitemaps as entry points, retries, at most
SITE_CONCURRENCY requests in flight, the operator's User-Agent)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.crawlers.crawl import run_crawl
from presswatch.crawlers.scrapy_settings import build_settings
from presswatch.crawlers.spiders.news import NewsSpider
from presswatch.profile import SiteSource, parse_profile
from presswatch.records import clipping_id
from presswatch.state import State
from tests.test_crawl_server import Reply, Request, Server, profile_yaml
from tests.test_crawl_spider import ARTICLE, _html

SITE = r"""    - id: site
      outlet: o
      start_urls: ['http://127.0.0.1:8765/site/']
      sitemaps: ['http://127.0.0.1:8765/site/index-of-indexes.xml']
      deny: ['/sponzorovane-']
      depth: 1
"""


def test_scrapy_settings_are_polite_and_bounded(tmp_path: Path) -> None:
    profile = parse_profile(profile_yaml(sites=SITE))
    site = profile.sources.sites[0]
    s = build_settings(profile, site, tmp_path / "store.db", max_seconds=30)
    assert s["ROBOTSTXT_OBEY"] is True and s["ROBOTSTXT_USER_AGENT"] == settings.ROBOTS_TOKEN
    assert s["AUTOTHROTTLE_ENABLED"] is True and s["AUTOTHROTTLE_MAX_DELAY"] == settings.CRAWL_MAX_DELAY_S
    assert s["CONCURRENT_REQUESTS_PER_DOMAIN"] == settings.SITE_CONCURRENCY
    assert s["RETRY_ENABLED"] is True and s["RETRY_TIMES"] == settings.CRAWL_RETRY_TIMES
    assert s["DEPTH_LIMIT"] == 1 and s["CLOSESPIDER_TIMEOUT"] == 30
    assert "Mesto Stara Horka" in s["USER_AGENT"] and s["USER_AGENT"].startswith("presswatch/")


def test_deny_patterns_win_over_the_article_shape() -> None:
    spider = NewsSpider(SiteSource(id="s", outlet="o", start_urls=["http://h/"], deny=["/sponzorovane-"]))
    assert spider.article_url("http://h/2026/11/sponzorovane-clanok-o-meste/")
    assert spider.denied("http://h/2026/11/sponzorovane-clanok-o-meste/")
    assert not spider.denied("http://h/2026/11/clanok-o-meste/")


@pytest.fixture(autouse=True)
def _quick_autothrottle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSWATCH_CRAWL_START_DELAY", "0.05")


def _flaky() -> object:
    calls = {"n": 0}
    lock = threading.Lock()

    def reply(_request: Request) -> Reply:
        with lock:
            calls["n"] += 1
            first = calls["n"] == 1
        return Reply(503, b"busy") if first else Reply(body=_html(ARTICLE, text="Na druhý pokus"))
    return reply


@pytest.mark.slow
def test_crawl_obeys_deny_depth_and_retries(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    path = tmp_path / "profile.yaml"
    path.write_text(profile_yaml(sites=SITE), encoding="utf-8")
    with Server() as srv:
        b = srv.base_url
        urlset = (f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                  f"<url><loc>{b}/site/2026/11/zo-sitemapy/</loc><lastmod>2026-11-01</lastmod></url></urlset>")
        index = ("<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                 "<sitemap><loc>{loc}</loc></sitemap></sitemapindex>")
        srv.routes.update({
            "/robots.txt": Reply(body=b"User-agent: *\nAllow: /\n", content_type="text/plain"),
            "/site/": Reply(body=_html('<meta property="og:type" content="website">', [
                "/site/sekcia/", "/site/2026/11/sponzorovane-clanok-o-meste/", "/site/2026/11/flaky-clanok/"])),
            "/site/sekcia/": Reply(body=_html('<meta property="og:type" content="website">', [
                "/site/sekcia/archiv/", "/site/2026/11/hlboko-v-archive/"])),
            "/site/sekcia/archiv/": Reply(body=_html("")),
            "/site/2026/11/hlboko-v-archive/": Reply(body=_html(ARTICLE)),
            "/site/2026/11/sponzorovane-clanok-o-meste/": Reply(body=_html(ARTICLE)),
            "/site/2026/11/flaky-clanok/": _flaky(),  # type: ignore[dict-item]
            "/site/2026/11/zo-sitemapy/": Reply(body=_html(ARTICLE, text="Zo sitemapy")),
            "/site/index-of-indexes.xml": Reply(body=index.format(loc=f"{b}/site/index.xml").encode(),
                                                content_type="application/xml"),
            "/site/index.xml": Reply(body=index.format(loc=f"{b}/site/urls.xml").encode(),
                                     content_type="application/xml"),
            "/site/urls.xml": Reply(body=urlset.encode(), content_type="application/xml"),
        })
        report = run_crawl(path, "site", db, base_url_override=b, timeout_s=60)
        paths = srv.paths()
        in_flight = srv.max_in_flight
        # the sitemap now says the article changed after we fetched it: the next crawl queues a refetch
        changed = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        srv.routes["/site/urls.xml"] = Reply(body=urlset.replace("2026-11-01", changed).encode(),
                                             content_type="application/xml")
        later = run_crawl(path, "site", db, base_url_override=b, timeout_s=60)
    assert report.ok, (report.error, report.stderr_tail[-2000:])
    assert "/site/2026/11/sponzorovane-clanok-o-meste/" not in paths  # deny
    assert "/site/sekcia/" in paths and "/site/sekcia/archiv/" not in paths  # depth 1
    assert "/site/2026/11/hlboko-v-archive/" not in paths
    assert paths.count("/site/2026/11/flaky-clanok/") == 2  # a 503, then a retry
    assert "/site/2026/11/zo-sitemapy/" in paths  # three sitemap levels deep, still an entry point
    assert in_flight <= settings.SITE_CONCURRENCY
    ua = next(r.headers["user-agent"] for r in srv.requests if r.path == "/site/")
    assert "Mesto Stara Horka" in ua
    state = State(db)
    try:
        for slug in ("flaky-clanok", "zo-sitemapy"):
            assert state.raw_page(clipping_id(f"{b}/site/2026/11/{slug}/")) is not None, slug
        assert report.pages_stored == 2
        assert (report.updated, later.updated) == (0, 1)  # the first lastmod is only remembered
        assert [d.url for d in state.unfetched()] == [f"{b}/site/2026/11/zo-sitemapy/"]
    finally:
        state.close()
