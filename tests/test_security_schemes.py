"""Only http and https are ever fetched: by the HTTP client, the page fetcher, the feed poller, the backfill walk,
the Scrapy crawl, and in the profile. A real server on 127.0.0.1 answers with redirects to other schemes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse

from presswatch.crawlers.backfill import Backfill
from presswatch.crawlers.crawl import run_crawl
from presswatch.crawlers.feeds import FeedPoller
from presswatch.crawlers.fetch import PageFetcher
from presswatch.crawlers.http import HttpClient
from presswatch.crawlers.middlewares import SchemeGuardMiddleware, SchemeRefused
from presswatch.crawlers.scrapy_settings import BASE
from presswatch.profile import ProfileError, parse_profile
from presswatch.records import Discovery, clipping_id
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, profile_yaml

HOSTILE = ["file:///etc/passwd", "ftp://127.0.0.1/feed.xml", "data:text/html,<h1>x</h1>", "gopher://127.0.0.1:70/",
           "javascript:alert(1)"]


def _client() -> HttpClient:
    return HttpClient("presswatch-test", timeout_s=2.0, total_timeout_s=2.0)


@pytest.mark.parametrize("target", HOSTILE)
def test_client_refuses_a_redirect_to_another_scheme(target: str) -> None:
    with Server({"/a/": Reply(302, b"moved", headers=[("Location", target)])}) as srv:
        r = _client().fetch(srv.url("/a/"))
    scheme = target.split(":", 1)[0]
    assert not r.ok and r.refused and r.body == b"" and r.status is None
    assert r.error == f"redirect from {srv.url('/a/')} to {target} refused: scheme {scheme!r} is not http or https"
    assert srv.paths() == ["/a/"]  # nothing else requested, nothing read from the target


def test_page_fetcher_records_the_refusal_and_queues_nothing(tmp_path: Path) -> None:
    profile = parse_profile(profile_yaml())
    state = State(tmp_path / "store.db")
    with Server({"/robots.txt": Reply(404), "/p/": Reply(301, headers=[("Location", "file:///etc/passwd")])}) as srv:
        state.discover([Discovery(url=srv.url("/p/"), outlet="o", source="feed", seen_at=datetime.now(UTC))])
        report = PageFetcher(profile, state, _client()).fetch_pending()
    assert report.fetched == 0 and report.failed == 1
    assert state.raw_page(clipping_id(srv.url("/p/"))) is None
    row = state.execute("SELECT fetch_error FROM discoveries")[0]
    assert "file:///etc/passwd" in row["fetch_error"] and "refused" in row["fetch_error"]
    assert state.unfetched() == []  # a policy refusal is not retried


def test_feed_poller_reports_a_redirect_to_file(tmp_path: Path) -> None:
    with Server({"/rss": Reply(302, headers=[("Location", "file:///etc/passwd")])}) as srv:
        profile = parse_profile(profile_yaml(feeds={"f": srv.url("/rss")}))
        state = State(tmp_path / "store.db")
        [report] = FeedPoller.from_profile(profile, state, _client()).poll_all()
    assert not report.ok and report.error and srv.url("/rss") in report.error and "'file'" in report.error
    health = state.source("f")
    assert health is not None and health.consecutive_failures == 1 and health.items_total == 0


def test_backfill_skips_other_schemes_in_sitemaps_and_redirects(tmp_path: Path) -> None:
    index = ("<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             "<sitemap><loc>file:///etc/passwd</loc></sitemap><sitemap><loc>ftp://127.0.0.1/s.xml</loc></sitemap>"
             "<sitemap><loc>{b}/moved.xml</loc></sitemap></sitemapindex>")
    with Server() as srv:
        srv.routes.update({"/robots.txt": Reply(404), "/index.xml": Reply(body=index.format(b=srv.base_url).encode(),
                                                                         content_type="application/xml"),
                           "/moved.xml": Reply(302, headers=[("Location", "file:///etc/passwd")])})
        sites = f"    - {{id: s, outlet: o, sitemaps: ['{srv.url('/index.xml')}']}}\n"
        profile = parse_profile(profile_yaml(sites=sites))
        state = State(tmp_path / "store.db")
        backfill = Backfill.from_profile(profile, state, datetime(2026, 1, 1, tzinfo=UTC), _client())
        report = backfill.discover(profile.sources.sites[0])
    assert report.found == 0 and set(srv.paths()) == {"/robots.txt", "/index.xml", "/moved.xml"}
    assert any("redirect from" in e and "file:///etc/passwd" in e and "refused" in e for e in report.errors)


# --- the Scrapy path -----------------------------------------------------------------------------------------
def test_scrapy_settings_have_no_local_handlers_and_the_guard() -> None:
    assert {BASE["DOWNLOAD_HANDLERS"][s] for s in ("file", "data", "ftp", "s3")} == {None}
    assert BASE["DOWNLOADER_MIDDLEWARES"]["presswatch.crawlers.middlewares.SchemeGuardMiddleware"] > 600


@pytest.mark.parametrize("target", HOSTILE)
def test_scheme_guard_middleware(target: str) -> None:
    guard = SchemeGuardMiddleware()
    if "://" in target or target.startswith("data:"):  # Scrapy cannot even build a request for javascript:
        with pytest.raises(SchemeRefused, match="is not http or https"):
            guard.process_request(Request(target))
    request = Request("https://site.example/a/")
    moved = HtmlResponse(request.url, status=302, headers={"Location": target}, request=request)
    with pytest.raises(SchemeRefused) as err:
        guard.process_response(request, moved)
    assert str(err.value).startswith(f"redirect from https://site.example/a/ to {target} refused: scheme")
    fine = HtmlResponse(request.url, status=301, headers={"Location": "/b/"}, request=request)
    assert guard.process_response(request, fine) is fine


@pytest.mark.slow
def test_crawl_refuses_redirects_and_sitemap_entries_to_other_schemes(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSWATCH_CRAWL_START_DELAY", "0.1")
    index = ("<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
             "<sitemap><loc>file:///etc/passwd</loc></sitemap>"  # no host: Scrapy's OffsiteMiddleware drops it
             # the site's own host: only the guard (and the removed file handler) stand between it and the disk
             "<sitemap><loc>file://127.0.0.1/etc/passwd</loc></sitemap></sitemapindex>")
    sites = ("    - {id: site, outlet: o, start_urls: ['http://127.0.0.1:8765/site/'],"
             " sitemaps: ['http://127.0.0.1:8765/site/sitemap.xml']}\n")
    path = tmp_path / "profile.yaml"
    path.write_text(profile_yaml(sites=sites), encoding="utf-8")
    with Server({"/robots.txt": Reply(404), "/site/": Reply(302, headers=[("Location", "ftp://127.0.0.1/x")]),
                 "/site/sitemap.xml": Reply(body=index.encode(), content_type="application/xml")}) as srv:
        report = run_crawl(path, "site", tmp_path / "store.db", base_url_override=srv.base_url, timeout_s=60)
    assert report.pages_stored == 0
    errors = "\n".join(report.errors) + (report.error or "")
    assert f"redirect from {srv.url('/site/')} to ftp://127.0.0.1/x refused: scheme 'ftp'" in errors, \
        report.stderr_tail[-2000:]
    assert "file://127.0.0.1/etc/passwd: refused: scheme 'file' is not http or https" in errors
    assert "root:" not in report.stderr_tail  # nothing of the file was read


# --- the profile ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("block", [
    {"feeds": {"f": "file:///etc/passwd"}},
    {"releases": {"r": "ftp://city.example/releases.xml"}},
    {"sites": "    - {id: s, outlet: o, start_urls: ['file:///var/www/']}\n"},
    {"sites": "    - {id: s, outlet: o, sitemaps: ['ftp://city.example/sitemap.xml']}\n"},
])
def test_profile_with_a_non_http_source_url_is_refused(block: dict[str, object]) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(profile_yaml(**block))  # type: ignore[arg-type]
    text = str(err.value)
    assert "sources" in text and ("file:" in text or "ftp:" in text or "https?" in text), text
