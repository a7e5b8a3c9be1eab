"""crawlers.http against a real loopback server: every failure comes back as a value naming the URL."""

from __future__ import annotations

import time
import zlib

import pytest

from presswatch.crawlers.http import HttpClient, decode_body, user_agent
from presswatch.profile import Operator
from tests.test_crawl_server import Reply, Server, free_port, gz

UA = "presswatch-test/1"


@pytest.fixture()
def client() -> HttpClient:
    return HttpClient(UA, timeout_s=2.0, total_timeout_s=4.0)


def test_user_agent_names_the_operator_in_ascii() -> None:
    ua = user_agent(Operator(name="Mesto Stará Hôrka – tlačové oddelenie", contact="tlacove@stara-horka.example"))
    assert ua == ("presswatch/0.1 (+media monitoring for Mesto Stara Horka - tlacove oddelenie;"
                  " tlacove@stara-horka.example)")
    ua.encode("ascii")
    assert user_agent(Operator(name="X\r\nInjected: yes", contact="")) == "presswatch/0.1 (+media monitoring for XInjected: yes)"


def test_get_returns_body_headers_and_sends_user_agent(client: HttpClient) -> None:
    with Server({"/page": Reply(body="Hôrka".encode(), headers=[("X-Thing", "1")])}) as srv:
        r = client.fetch(srv.url("/page"))
    assert r.ok and r.status == 200 and r.error is None
    assert r.body == "Hôrka".encode()
    assert r.headers["content-type"] == "text/html; charset=utf-8" and r.headers["x-thing"] == "1"
    assert srv.requests[0].headers["user-agent"] == UA
    assert "gzip" in srv.requests[0].headers["accept-encoding"]


@pytest.mark.parametrize("reply", [
    Reply(body=gz(b"<rss>ok</rss>"), content_type="application/rss+xml"),  # gzip, Content-Encoding forgotten
    Reply(body=gz(b"<rss>ok</rss>"), headers=[("Content-Encoding", "gzip")]),
    Reply(body=gz(gz(b"<rss>ok</rss>")), headers=[("Content-Encoding", "gzip")]),  # gzipped twice
    Reply(body=zlib.compress(b"<rss>ok</rss>"), headers=[("Content-Encoding", "deflate")]),
    Reply(body=zlib.compress(b"<rss>ok</rss>")[2:-4], headers=[("Content-Encoding", "deflate")]),  # raw deflate
    Reply(body=b"<rss>ok</rss>", headers=[("Content-Encoding", "gzip")]),  # says gzip, is not
], ids=["gzip-no-header", "gzip", "gzip-twice", "deflate-zlib", "deflate-raw", "mislabelled"])
def test_compressed_bodies_are_decoded(client: HttpClient, reply: Reply) -> None:
    with Server({"/feed": reply}) as srv:
        r = client.fetch(srv.url("/feed"))
    assert r.ok, r.error
    assert r.body == b"<rss>ok</rss>"
    assert "content-encoding" not in r.headers  # the body no longer matches it


def test_redirect_chain_is_followed_and_recorded(client: HttpClient) -> None:
    with Server() as srv:
        srv.routes.update({
            "/old": Reply(301, headers=[("Location", srv.url("/moved"))]),
            "/moved": Reply(302, headers=[("Location", "final?x=1")]),  # relative
            "/final": Reply(body=b"here"),
        })
        r = client.fetch(srv.url("/old"))
    assert r.ok and r.body == b"here"
    assert r.redirects == (srv.url("/old"), srv.url("/moved"))
    assert r.final_url == srv.url("/final?x=1")


def test_redirect_to_ftp_is_refused(client: HttpClient) -> None:
    with Server({"/feed": Reply(302, headers=[("Location", "ftp://127.0.0.1/feed.xml")])}) as srv:
        r = client.fetch(srv.url("/feed"))
    assert not r.ok and r.refused
    assert r.error is not None and srv.url("/feed") in r.error and "ftp://127.0.0.1/feed.xml" in r.error
    assert "'ftp'" in r.error


def test_other_schemes_are_refused_without_a_request(client: HttpClient) -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)"):
        r = client.fetch(url)
        assert r.status is None and r.refused and r.error and url in r.error


def test_redirect_loop_stops(client: HttpClient) -> None:
    with Server() as srv:
        srv.routes["/loop"] = Reply(302, headers=[("Location", srv.url("/loop"))])
        r = client.fetch(srv.url("/loop"))
    assert not r.ok and r.error and "redirects" in r.error
    assert srv.count("/loop") == client.max_redirects + 1


def test_conditional_get_gives_not_modified(client: HttpClient) -> None:
    with Server({"/feed": Reply(body=b"<rss/>", etag='"v1"', headers=[("Last-Modified",
                                                                      "Sat, 21 Nov 2026 10:00:00 GMT")])}) as srv:
        first = client.fetch(srv.url("/feed"))
        second = client.fetch(srv.url("/feed"), etag=first.headers["etag"],
                              last_modified=first.headers["last-modified"])
    assert first.ok and first.headers["etag"] == '"v1"'
    assert second.not_modified and second.status == 304 and second.error is None and second.body == b""
    assert not second.ok
    assert srv.requests[1].headers["if-none-match"] == '"v1"'
    assert srv.requests[1].headers["if-modified-since"] == "Sat, 21 Nov 2026 10:00:00 GMT"


def test_declared_oversized_body_is_refused_unread(client: HttpClient) -> None:
    with Server({"/big": Reply(body=b"x" * 5000)}) as srv:
        r = client.fetch(srv.url("/big"), max_bytes=1000)
    assert not r.ok and r.error and "too large" in r.error and srv.url("/big") in r.error


def test_oversized_body_without_length_is_cut_off(client: HttpClient) -> None:
    with Server({"/big": Reply(body=b"x" * 200_000, content_length=False, chunk_size=8192)}) as srv:
        r = client.fetch(srv.url("/big"), max_bytes=10_000)
    assert not r.ok and r.truncated and r.error and "too large" in r.error
    assert len(r.body) == 10_000


def test_gzip_bomb_is_too_large_once_decompressed(client: HttpClient) -> None:
    bomb = gz(b"\0" * 5_000_000)  # ~5 KB on the wire
    with Server({"/bomb": Reply(body=bomb, headers=[("Content-Encoding", "gzip")])}) as srv:
        r = client.fetch(srv.url("/bomb"), max_bytes=100_000)
    assert len(bomb) < 100_000
    assert not r.ok and r.error and "decompressed" in r.error


def test_slow_server_times_out_as_a_value() -> None:
    client = HttpClient(UA, timeout_s=0.3, total_timeout_s=0.3)
    with Server({"/slow": Reply(body=b"late", delay_s=3)}) as srv:
        start = time.monotonic()
        r = client.fetch(srv.url("/slow"))
        took = time.monotonic() - start
    assert not r.ok and r.status is None and r.error and "timed out" in r.error and srv.url("/slow") in r.error
    assert took < 2


def test_trickling_server_hits_the_total_deadline() -> None:
    client = HttpClient(UA, timeout_s=0.5, total_timeout_s=0.8)  # each chunk is in time; the whole is not
    with Server({"/drip": Reply(body=b"x" * 40, chunk_size=1, chunk_delay_s=0.05)}) as srv:
        start = time.monotonic()
        r = client.fetch(srv.url("/drip"))
        took = time.monotonic() - start
    assert r.error and "too slow" in r.error
    assert took < 1.5


def test_connection_refused_names_the_url(client: HttpClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/rss.xml"
    r = client.fetch(url)
    assert not r.ok and r.status is None and r.error and url in r.error and "connection failed" in r.error


def test_http_error_status_is_an_error_value(client: HttpClient) -> None:
    with Server() as srv:
        r = client.fetch(srv.url("/missing"))
    assert r.status == 404 and r.error == f"GET {srv.url('/missing')}: HTTP 404 Not Found"
    assert r.body == b"not found\n"


def test_guard_is_asked_before_every_hop(client: HttpClient) -> None:
    with Server() as srv:
        srv.routes["/a"] = Reply(301, headers=[("Location", srv.url("/private/b"))])
        srv.routes["/private/b"] = Reply(body=b"secret")
        r = client.fetch(srv.url("/a"), guard=lambda u: "disallowed by robots.txt" if "/private/" in u else None)
    assert r.refused and r.error and "robots.txt" in r.error and "redirected from" in r.error
    assert srv.count("/private/b") == 0


def test_decode_body_caps_output() -> None:
    from presswatch.crawlers.http import TooLarge

    with pytest.raises(TooLarge):
        decode_body(gz(b"a" * 10_000), None, 1000)
    assert decode_body(gz(b"a") + gz(b"b"), "gzip", 10) == b"ab"  # concatenated members
