"""Feed polling against a loopback server and a real SQLite store: discoveries, conditional GET, source health."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from presswatch.crawlers.feeds import FeedPoller, parse_feed
from presswatch.crawlers.http import HttpClient
from presswatch.profile import parse_profile
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, free_port, gz, profile_yaml

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hôrčan</title><link>{base}/</link><description>d</description>
<item><title>Primátor otvoril most</title><link>{base}/2026/11/most/?utm_source=rss&amp;utm_medium=feed</link>
  <guid isPermaLink="false">horcan-most</guid><pubDate>Sat, 21 Nov 2026 09:30:00 +0100</pubDate>
  <description>&lt;p&gt;Most na &lt;b&gt;Mlynskej&lt;/b&gt; ulici&lt;/p&gt;</description></item>
<item><title>Relatívny odkaz</title><link>/2026/11/relativny/</link><pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Len guid</title><guid isPermaLink="true">{base}/2026/11/guid/</guid></item>
<item><title>Bez odkazu</title><guid isPermaLink="false">opaque-123</guid></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Správy24</title><id>tag:x,2026:feed</id>
<updated>2026-11-21T10:00:00Z</updated>
<entry><title>Atom článok</title><id>tag:x,2026:1</id><link rel="alternate" href="{base}/atom/1/"/>
<updated>2026-11-21T10:00:00+02:00</updated><summary>Zhrnutie</summary></entry>
</feed>
"""

# An unescaped ampersand and an unclosed element, as the newsroom's sport feed has: the first items survive.
BROKEN = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Šport</title>
<item><title>Futbal</title><link>{base}/sport/1/</link></item>
<item><title>Hokej</title><link>{base}/sport/2/</link></item>
<item><title>Tenis & golf</title><link>{base}/sport/3/</link><description>neuzavretý
</channel></rss>
"""

CP1250_TITLE = "Ľudia v Štiavnici: ťažká zima, žiadne šťastie"  # Ľ Š ť ž š: where cp1250 and latin-2 differ
CP1250 = f"""<?xml version="1.0" encoding="windows-1250"?>
<rss version="2.0"><channel><title>Pohronie dnes</title>
<item><title>{CP1250_TITLE}</title><link>{{base}}/pohronie/1/</link></item>
</channel></rss>
"""

HTML = b"<!DOCTYPE html><html><head><title>Hronske</title></head><body><h1>Vitajte</h1></body></html>"


def _poller(srv: Server, tmp_path: Path, feeds: dict[str, str], releases: dict[str, str] | None = None,
            timeout_s: float = 2.0) -> tuple[FeedPoller, State]:
    profile = parse_profile(profile_yaml(feeds, releases))
    state = State(tmp_path / "store.db")
    http = HttpClient.from_profile(profile, timeout_s=timeout_s, total_timeout_s=timeout_s)
    return FeedPoller.from_profile(profile, state, http), state


def test_poll_records_discoveries_and_health(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/rss.xml"] = Reply(body=RSS.format(base=srv.base_url).encode(), etag='"a1"',
                                       content_type="application/rss+xml; charset=utf-8")
        poller, state = _poller(srv, tmp_path, {"horcan-rss": srv.url("/rss.xml")})
        [report] = poller.poll_all()
    assert report.ok and report.entries == 3 and report.new == 3
    assert report.warning == "1 entries without a usable http(s) link skipped"
    pending = {d.url: d for d in state.unfetched()}
    assert set(pending) == {srv.url("/2026/11/most/"), srv.url("/2026/11/relativny/"), srv.url("/2026/11/guid/")}
    most = pending[srv.url("/2026/11/most/")]
    assert most.outlet == "o" and most.source == "horcan-rss" and most.feed_title == "Primátor otvoril most"
    assert most.feed_published == datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
    assert most.feed_summary == "Most na Mlynskej ulici"
    health = state.source("horcan-rss")
    assert health is not None and health.kind == "feed" and health.consecutive_failures == 0
    assert health.etag == '"a1"' and health.items_total == 3 and health.last_error == report.warning
    ua = srv.requests[0].headers["user-agent"]
    assert "Mesto Stara Horka - tlacove oddelenie" in ua and "tlacove@stara-horka.example" in ua


def test_second_poll_is_conditional_and_finds_nothing_new(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/rss.xml"] = Reply(body=RSS.format(base=srv.base_url).encode(), etag='"a1"')
        poller, state = _poller(srv, tmp_path, {"horcan-rss": srv.url("/rss.xml")})
        first = poller.poll(poller.profile.sources.feeds[0])
        second = poller.poll(poller.profile.sources.feeds[0])
        srv.routes["/rss.xml"] = Reply(body=RSS.format(base=srv.base_url).encode(), etag='"a2"')  # changed
        third = poller.poll(poller.profile.sources.feeds[0])
    assert first.new == 3
    assert second.ok and second.not_modified and second.status == 304 and second.new == 0
    assert srv.requests[1].headers.get("if-none-match") == '"a1"'
    assert third.ok and not third.not_modified and third.entries == 3 and third.new == 0  # same articles
    health = state.source("horcan-rss")
    assert health is not None and health.items_total == 3 and health.etag == '"a2"'


def test_atom_and_release_feeds(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/atom.xml"] = Reply(body=ATOM.format(base=srv.base_url).encode(),
                                        content_type="application/atom+xml")
        srv.routes["/releases.xml"] = Reply(body=gz(ATOM.replace("/atom/1/", "/tlacove/1/")
                                                    .format(base=srv.base_url).encode()), content_type=None)
        poller, state = _poller(srv, tmp_path, {"s24": srv.url("/atom.xml")}, {"mesto": srv.url("/releases.xml")})
        reports = poller.poll_all()
    assert [(r.source, r.kind, r.ok, r.new) for r in reports] == [("s24", "feed", True, 1), ("mesto", "release", True, 1)]
    [atom] = [d for d in state.unfetched() if d.source == "s24"]
    assert atom.url == srv.url("/atom/1/") and atom.feed_published == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    health = state.source("mesto")
    assert health is not None and health.kind == "release"


def test_html_at_the_feed_url_is_an_error_in_health(tmp_path: Path) -> None:
    with Server({"/feed/": Reply(body=HTML)}) as srv:
        poller, state = _poller(srv, tmp_path, {"hronske-rss": srv.url("/feed/")})
        [report] = poller.poll_all()
    assert not report.ok and report.error == f"not a feed: {srv.url('/feed/')} serves an HTML page" \
                                             " (text/html; charset=utf-8)"
    health = state.source("hronske-rss")
    assert health is not None and health.last_error == report.error and health.consecutive_failures == 1
    assert health.last_success is None and state.unfetched() == []


def test_ill_formed_feed_keeps_recoverable_entries_with_a_warning(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/sport.xml"] = Reply(body=BROKEN.format(base=srv.base_url).encode(), etag='"s1"',
                                         content_type="application/rss+xml")
        poller, state = _poller(srv, tmp_path, {"sport": srv.url("/sport.xml")})
        [report] = poller.poll_all()
        [unchanged] = poller.poll_all()
    assert report.ok and report.new >= 2
    assert report.warning and report.warning.startswith("ill-formed feed (SAXParseException")
    assert {srv.url("/sport/1/"), srv.url("/sport/2/")} <= {d.url for d in state.unfetched()}
    health = state.source("sport")
    assert health is not None and health.consecutive_failures == 0 and health.last_error == report.warning
    assert unchanged.not_modified and unchanged.warning == report.warning  # a 304 does not mend the feed


def test_windows_1250_feed(tmp_path: Path) -> None:
    with Server() as srv:
        body = CP1250.format(base=srv.base_url).encode("cp1250")
        srv.routes["/rss.xml"] = Reply(body=body, content_type="application/rss+xml; charset=windows-1250")
        srv.routes["/mislabelled.xml"] = Reply(body=body, content_type="text/xml")  # declaration only
        poller, state = _poller(srv, tmp_path, {"a": srv.url("/rss.xml"), "b": srv.url("/mislabelled.xml")})
        reports = poller.poll_all()
    assert all(r.ok for r in reports), reports
    assert [d.feed_title for d in state.unfetched()] == [CP1250_TITLE]


def test_a_broken_feed_never_stops_the_others(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/good.xml"] = Reply(body=RSS.format(base=srv.base_url).encode())
        srv.routes["/slow.xml"] = Reply(body=b"<rss/>", delay_s=3)
        srv.routes["/garbage.xml"] = Reply(body=b"\x00\x01\x02 not xml at all", content_type="application/xml")
        srv.routes["/empty.xml"] = Reply(body=b"", content_type="application/rss+xml")
        srv.routes["/ftp.xml"] = Reply(301, headers=[("Location", "ftp://127.0.0.1/feed.xml")])
        feeds = {"missing": srv.url("/missing.xml"), "down": f"http://127.0.0.1:{free_port()}/rss.xml",
                 "slow": srv.url("/slow.xml"), "garbage": srv.url("/garbage.xml"), "empty": srv.url("/empty.xml"),
                 "ftp": srv.url("/ftp.xml"), "good": srv.url("/good.xml")}
        poller, state = _poller(srv, tmp_path, feeds, timeout_s=0.5)
        reports = {r.source: r for r in poller.poll_all()}
    assert reports["good"].ok and reports["good"].new == 3
    for name in ("missing", "down", "slow", "garbage", "empty", "ftp"):
        report = reports[name]
        assert not report.ok and report.error and feeds[name] in report.error, (name, report.error)
        health = state.source(name)
        assert health is not None and health.consecutive_failures == 1 and health.last_error == report.error
    assert "HTTP 404" in (reports["missing"].error or "")
    assert "timed out" in (reports["slow"].error or "")
    assert "'ftp'" in (reports["ftp"].error or "")


def test_feeds_are_parsed_from_bytes_never_from_a_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[object] = []
    real = feedparser.parse

    def spy(source: object, **kwargs: object) -> object:
        seen.append(source)
        return real(source, **kwargs)

    monkeypatch.setattr(feedparser, "parse", spy)
    with Server() as srv:
        srv.routes["/rss.xml"] = Reply(body=RSS.format(base=srv.base_url).encode())
        poller, _ = _poller(srv, tmp_path, {"horcan-rss": srv.url("/rss.xml")})
        poller.poll_all()
    assert seen and all(isinstance(s, bytes) for s in seen)


def test_parse_feed_never_raises_on_odd_input() -> None:
    for body in (b"", b"   ", b"<rss", b"<?xml version='1.0'?><html/>", "<rss>ž</rss>".encode("utf-16"),
                 b"\xef\xbb\xbf<rss version='2.0'><channel><item><link>mailto:x@y</link></item></channel></rss>"):
        parsed = parse_feed(body, {"content-type": "application/xml"}, "http://example.com/feed")
        assert parsed.error or parsed.warning or parsed.entries == (), body
