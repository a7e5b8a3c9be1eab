"""Issue #7, faults 3 and 4: sources that time out, answer 500 or serve 200 MB, and corrupt or truncated pages,
in one real cycle against a loopback server. Each fails with an error naming its URL and the reason, the source's
health counts it, and every other source and page of the cycle is processed normally."""

from __future__ import annotations

import gzip
import os
import tracemalloc
from pathlib import Path

from presswatch import settings
from presswatch.crawlers.http import HttpClient
from presswatch.state import State
from tests.test_faults_support import UA, Stream, StreamServer, article, body, fault_profile, pipeline, repeat, rss

HUGE = 200 * 1024 * 1024
# What may be in flight past the cap when the client hangs up: the loopback socket buffers of both ends.
SLACK = 16 * 1024 * 1024


def _huge() -> Stream:
    return Stream(repeat(b"<p>" + b"x" * 65533, HUGE))  # no Content-Length: only reading tells the size


def test_slow_500_and_huge_feeds_fail_clearly_while_the_good_one_flows(tmp_path: Path) -> None:
    with StreamServer() as srv:
        srv.routes.update({
            "/slow.xml": body(rss([srv.url("/never")]), delay_s=3, content_type="application/rss+xml"),
            "/broken.xml": body(b"oops", status=500, content_type="text/plain"),
            "/huge.xml": _huge(),
            "/good.xml": body(rss([srv.url("/a1"), srv.url("/a2")]), content_type="application/rss+xml"),
            "/a1": body(article("a1")),
            "/a2": body(article("a2")),
        })
        feeds = {name: srv.url(f"/{name}.xml") for name in ("slow", "broken", "huge", "good")}
        pipe = pipeline(fault_profile(feeds), tmp_path)
        try:
            report = pipe.run_once()
            again = pipe.run_once()
            # memory of polling the 200 MB feed alone (the cycle also loads the enrichment's word lists)
            tracemalloc.start()
            try:
                third = pipe.poller.poll(next(f for f in pipe.profile.sources.feeds if f.id == "huge"))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            health = {h.id: h for h in pipe.state.sources()}
        finally:
            pipe.close()
        huge_sent = srv.sent.get("/huge.xml", 0)

    assert (report.feeds_ok, report.feeds_failed) == (1, 3)
    errors = "\n".join(report.errors)
    assert f"slow: GET {feeds['slow']}: read timed out" in errors
    assert f"broken: GET {feeds['broken']}: HTTP 500" in errors
    assert f"huge: GET {feeds['huge']}: too large: more than {settings.FEED_MAX_BYTES} bytes" in errors
    # the good feed's articles went all the way through in the same cycle
    assert (report.discovered, report.fetched, report.process.indexed) == (2, 2, 2)
    assert report.fetch_failed == 0
    # the health of each failing source counts its failures in a row; the good one has none
    assert {k: h.consecutive_failures for k, h in health.items()} == {"slow": 2, "broken": 2, "huge": 3, "good": 0}
    assert health["broken"].last_error and "HTTP 500" in health["broken"].last_error
    assert (again.feeds_ok, again.feeds_failed, again.process.indexed) == (1, 3, 0)
    # 200 MB were on offer; what the server got to send stays near the cap (twice: two cycles), memory too
    assert not third.ok and third.error and "too large" in third.error
    assert huge_sent < 3 * (settings.FEED_MAX_BYTES + SLACK), huge_sent
    assert peak < 5 * settings.FEED_MAX_BYTES, peak


def test_huge_page_is_cut_at_the_cap_and_parked(tmp_path: Path) -> None:
    with StreamServer() as srv:
        srv.routes.update({
            "/feed.xml": body(rss([srv.url("/huge"), srv.url("/fine"), srv.url("/declared")]),
                              content_type="application/rss+xml"),
            "/huge": _huge(),
            # declares its 200 MB: refused from the header, not a byte of the body read
            "/declared": Stream(repeat(b"y" * 65536, HUGE), content_length=HUGE),
            "/fine": body(article("fine")),
        })
        pipe = pipeline(fault_profile({"f": srv.url("/feed.xml")}), tmp_path)
        try:
            report = pipe.run_once()
            again = pipe.run_once()
            rows = {r["url"]: r for r in pipe.state.execute("SELECT url, fetch_error, fetch_attempts FROM discoveries")}
        finally:
            pipe.close()
        sent = dict(srv.sent)
        hits = dict(srv.hits)

    assert (report.fetched, report.fetch_failed, report.process.indexed) == (1, 2, 1)
    errors = "\n".join(report.errors)
    assert f"GET {srv.url('/huge')}: too large: more than {settings.PAGE_MAX_BYTES} bytes" in errors
    assert f"GET {srv.url('/declared')}: too large: Content-Length {HUGE} exceeds the cap" in errors
    assert sent["/huge"] < settings.PAGE_MAX_BYTES + SLACK, sent["/huge"]
    assert sent.get("/declared", 0) < SLACK
    # too large will not change by asking again: parked, not fetched again next cycle
    assert rows[srv.url("/huge")]["fetch_attempts"] == State.ABANDONED_ATTEMPTS
    assert hits["/huge"] == 1 and again.fetch_failed == 0


def test_corrupt_and_truncated_pages_never_crash_the_cycle(tmp_path: Path) -> None:
    page = article("trunc", words=400)
    half_gzip = gzip.compress(page, mtime=0)[: len(gzip.compress(page, mtime=0)) * 2 // 3]
    with StreamServer() as srv:
        srv.routes.update({
            "/feed.xml": body(rss([srv.url(p) for p in ("/short", "/badgzip", "/halfgzip", "/garbage", "/ok")]),
                              content_type="application/rss+xml"),
            # Content-Length says 5000, 1200 bytes come, then the server hangs up
            "/short": body(article("short")[:1200], content_length=5000),
            "/badgzip": body(b"\x1f\x8b\x08\x00" + os.urandom(3000), headers=[("Content-Encoding", "gzip")]),
            "/halfgzip": body(half_gzip, headers=[("Content-Encoding", "gzip")]),  # best effort: what inflates
            "/garbage": body(os.urandom(40_000)),  # binary, served as text/html
            "/ok": body(article("ok")),
        })
        pipe = pipeline(fault_profile({"f": srv.url("/feed.xml")}), tmp_path)
        try:
            report = pipe.run_once()
            queue = {r["url"]: r for r in pipe.state.execute("SELECT url, state, error FROM queue")}
            titles = {c.article.title for c in report.process.clippings}
        finally:
            pipe.close()

    errors = "\n".join(report.errors)
    assert f"GET {srv.url('/short')}: connection broken" in errors and "IncompleteRead" in errors
    assert f"GET {srv.url('/badgzip')}: undecodable body" in errors
    assert f"{srv.url('/garbage')}: binary content" in errors and "text/html" in errors
    assert report.fetch_failed == 2 and report.fetched == 3
    # the good page and the readable part of the truncated gzip page are indexed; the garbage is kept, not indexed
    assert titles == {"Článok ok", "Článok trunc"}
    assert queue[srv.url("/garbage")]["state"] == "failed"
    assert {queue[srv.url(p)]["state"] for p in ("/ok", "/halfgzip")} == {"done"}


def test_short_body_is_an_error_value_not_a_crash() -> None:
    client = HttpClient(UA, timeout_s=1, total_timeout_s=2)
    with StreamServer({"/short": body(b"<html>" + b"x" * 100, content_length=10_000)}) as srv:
        result = client.fetch(srv.url("/short"))
    assert not result.ok and result.error and srv.url("/short") in result.error
