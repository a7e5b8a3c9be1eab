"""Page fetching into the durable queue: raw bytes and headers stored, robots.txt obeyed, failures recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from presswatch.crawlers.fetch import PageFetcher
from presswatch.crawlers.http import HttpClient
from presswatch.profile import parse_profile
from presswatch.records import Discovery, clipping_id
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, gz, profile_yaml

ROBOTS = b"User-agent: *\nDisallow: /private/\nAllow: /private/open/\n\nUser-agent: otherbot\nDisallow: /\n"
PAGE = "<html><head><meta charset='windows-1250'><title>Ľudia</title></head><body>Šťastie</body></html>"


def _fetcher(tmp_path: Path, per_site: int = 2) -> tuple[PageFetcher, State]:
    profile = parse_profile(profile_yaml())
    state = State(tmp_path / "store.db")
    http = HttpClient.from_profile(profile, timeout_s=2.0, total_timeout_s=2.0)
    return PageFetcher(profile, state, http, per_site=per_site), state


def _discover(state: State, *urls: str) -> None:
    now = datetime.now(UTC)
    state.discover([Discovery(url=u, outlet="o", source="feed", seen_at=now, feed_title=f"title {u[-3:]}",
                              feed_published=datetime(2026, 11, 21, 8, 0, tzinfo=UTC)) for u in urls])


def test_fetch_pending_stores_raw_pages_and_obeys_robots(tmp_path: Path) -> None:
    body = PAGE.encode("cp1250")
    with Server() as srv:
        srv.routes.update({
            "/robots.txt": Reply(body=ROBOTS, content_type="text/plain"),
            "/a/": Reply(body=body, content_type="text/html; charset=windows-1250", headers=[("X-Cms", "old")]),
            "/b/": Reply(body=gz(b"<html>gzipped</html>"), content_type="text/html"),  # no Content-Encoding
            "/moved/": Reply(301, headers=[("Location", "/c/")]),
            "/c/": Reply(body=b"<html>c</html>"),
            "/private/secret/": Reply(body=b"<html>secret</html>"),
            "/private/open/x/": Reply(body=b"<html>open</html>"),
            "/to-private/": Reply(302, headers=[("Location", "/private/secret/")]),
            "/gone/": Reply(410, b"gone"),
            "/error/": Reply(503, b"busy"),
        })
        fetcher, state = _fetcher(tmp_path)
        urls = {name: srv.url(f"/{name}/") for name in ("a", "b", "moved", "private/secret", "private/open/x",
                                                        "to-private", "gone", "error")}
        _discover(state, *urls.values())
        report = fetcher.fetch_pending()
        again = fetcher.fetch_pending()

    assert (report.attempted, report.fetched, report.failed, report.disallowed) == (8, 4, 4, 2)
    assert srv.count("/private/secret/") == 0  # not even through the redirect
    assert srv.count("/robots.txt") == 2  # once per run (two runs), not once per page
    a = state.raw_page(clipping_id(urls["a"]))
    assert a is not None and a.body == body and a.status == 200  # bytes exactly as served: no decoding here
    assert a.headers["content-type"] == "text/html; charset=windows-1250" and a.headers["x-cms"] == "old"
    assert a.feed_title == "title /a/" and a.feed_published == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert a.outlet == "o" and a.source == "feed" and a.url == urls["a"]
    b = state.raw_page(clipping_id(urls["b"]))
    assert b is not None and b.body == b"<html>gzipped</html>"
    moved = state.raw_page(clipping_id(urls["moved"]))
    assert moved is not None and moved.url == urls["moved"] and moved.final_url == srv.url("/c/")
    assert any("robots.txt" in e and urls["private/secret"] in e for e in report.errors)
    assert any("HTTP 410" in e for e in report.errors) and any("HTTP 503" in e for e in report.errors)
    # Only the 503 is tried again: robots and 410 are final, the stored pages are done.
    assert (again.attempted, again.fetched, again.failed) == (1, 0, 1)
    assert [d.url for d in state.unfetched()] == [urls["error"]]
    assert state.queue_counts()["queued"] == 4


def test_robots_unreachable_means_not_now(tmp_path: Path) -> None:
    with Server({"/robots.txt": Reply(500, b"oops"), "/a/": Reply(body=b"<html>a</html>")}) as srv:
        fetcher, state = _fetcher(tmp_path)
        _discover(state, srv.url("/a/"))
        report = fetcher.fetch_pending()
        assert srv.count("/a/") == 0
        assert report.failed == 1 and "robots.txt unreachable" in report.errors[0]
        srv.routes["/robots.txt"] = Reply(404, b"none")  # no robots.txt: everything allowed
        later = fetcher.fetch_pending()
    assert later.fetched == 1 and srv.count("/a/") == 1


def test_requests_to_one_site_are_bounded(tmp_path: Path) -> None:
    with Server({"/robots.txt": Reply(404)}) as srv:
        for i in range(6):
            srv.routes[f"/p{i}/"] = Reply(body=b"<html>x</html>", delay_s=0.15)
        fetcher, state = _fetcher(tmp_path, per_site=2)
        _discover(state, *(srv.url(f"/p{i}/") for i in range(6)))
        report = fetcher.fetch_pending()
    assert report.fetched == 6
    assert srv.max_in_flight == 2


def test_nothing_pending_is_a_cheap_no_op(tmp_path: Path) -> None:
    fetcher, _ = _fetcher(tmp_path)
    report = fetcher.fetch_pending()
    assert (report.attempted, report.fetched, report.failed, report.errors) == (0, 0, 0, [])
