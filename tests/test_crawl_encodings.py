"""Legacy and wrongly declared encodings, feeds and article pages, served by a real loopback server: titles and
texts must come out as the right Unicode through the poller (crawlers/feeds.py) and through page extraction
(enrich/extract.py). The sentences are our own, written with the letters where the code pages differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presswatch.crawlers.charset import better_encoding
from presswatch.crawlers.feeds import FeedPoller, parse_feed
from presswatch.crawlers.http import HttpClient
from presswatch.enrich.extract import extract
from presswatch.profile import parse_profile
from presswatch.records import RawPage
from presswatch.state import State
from tests.test_crawl_server import Reply, Server, profile_yaml


@dataclass(frozen=True)
class Case:
    name: str
    encoding: str  # the bytes
    text: str
    content_type: str  # the HTTP header
    declared: str | None  # XML declaration of the feed, <meta charset> of the page (None: none)


CS = "Žluťoučký kůň úpěl ďábelské ódy – Řeřicha v Ústí nad Labem"
SK = "Ľudia v Šťávnici: ťažká zima, že áno – Ďumbier a Štúrovo"
LT = "Vilniaus savivaldybė: ąžuolų gatvėje – šiukšlių čempionatas „Ūkis“"
TR = "Belediye Başkanı İstanbul'da ağaç dikti: şöyle güzel, ılık öğle, Çağlayan"
MK = "Градоначалникот на Скопје ја отвори новата ѕвезда — Ќерка, Љубов, Њива, Џамија"
CASES = [
    Case("cs-windows-1250", "windows-1250", CS, "application/rss+xml; charset=windows-1250", "windows-1250"),
    Case("sk-windows-1250-declared-only", "windows-1250", SK, "application/rss+xml", "windows-1250"),
    Case("lt-windows-1257", "windows-1257", LT, "application/rss+xml; charset=windows-1257", "windows-1257"),
    Case("tr-windows-1254", "windows-1254", TR, "text/xml; charset=windows-1254", "windows-1254"),
    Case("mk-windows-1251", "windows-1251", MK, "application/rss+xml; charset=windows-1251", "windows-1251"),
    Case("sk-iso-8859-2", "iso-8859-2", SK.replace("–", "-"), "application/rss+xml; charset=iso-8859-2",
         "iso-8859-2"),
    Case("utf8-header-says-latin1", "utf-8", SK, "application/rss+xml; charset=iso-8859-1", None),
    Case("utf8-declared-windows-1250", "utf-8", CS, "application/rss+xml", "windows-1250"),
    Case("windows-1250-undeclared", "windows-1250", CS, "application/rss+xml", None),
    Case("windows-1251-declared-utf8", "windows-1251", MK, "application/rss+xml", "utf-8"),
    Case("windows-1250-header-says-latin1", "windows-1250", SK, "text/xml; charset=iso-8859-1", None),
]


def _feed(case: Case, base: str) -> bytes:
    decl = f'<?xml version="1.0" encoding="{case.declared}"?>' if case.declared else '<?xml version="1.0"?>'
    return (f"{decl}\n<rss version=\"2.0\"><channel><title>{case.text}</title><link>{base}/</link>"
            f"<description>x</description><item><title>{case.text}</title><link>{base}/{case.name}/</link>"
            f"<description>{case.text}</description></item></channel></rss>").encode(case.encoding)


def _page(case: Case) -> bytes:
    meta = f'<meta charset="{case.declared}">' if case.declared else ""
    para = " ".join([case.text + "."] * 5)
    return (f"<!DOCTYPE html><html><head>{meta}<title>{case.text}</title></head><body><article><h1>{case.text}</h1>"
            f"<p>{para}</p><p>{para}</p></article></body></html>").encode(case.encoding)


def test_feeds_and_pages_in_legacy_and_mislabelled_encodings(tmp_path: Path) -> None:
    with Server() as srv:
        for case in CASES:
            srv.routes[f"/{case.name}.xml"] = Reply(body=_feed(case, srv.base_url), content_type=case.content_type)
            srv.routes[f"/{case.name}/"] = Reply(body=_page(case),
                                                 content_type=case.content_type.replace("application/rss+xml",
                                                                                        "text/html")
                                                 .replace("text/xml", "text/html"))
        profile = parse_profile(profile_yaml({c.name: srv.url(f"/{c.name}.xml") for c in CASES}))
        state = State(tmp_path / "store.db")
        http = HttpClient.from_profile(profile, timeout_s=2)
        reports = {r.source: r for r in FeedPoller.from_profile(profile, state, http).poll_all()}
        found = {d.source: d for d in state.unfetched()}
        pages = {c.name: http.fetch(srv.url(f"/{c.name}/")) for c in CASES}
    state.close()
    wrong_feed, wrong_page = [], []
    for case in CASES:
        report, discovery = reports[case.name], found.get(case.name)
        assert report.ok and report.new == 1, (case.name, report)
        if discovery is None or discovery.feed_title != case.text or discovery.feed_summary != case.text:
            wrong_feed.append((case.name, discovery and discovery.feed_title))
        fetched = pages[case.name]
        raw = RawPage(url=fetched.url, final_url=fetched.final_url, outlet="o", source=case.name,
                      fetched_at=datetime.now(UTC), status=fetched.status or 0, headers=fetched.headers,
                      body=fetched.body)
        article = extract(raw)
        if article.title != case.text or case.text not in article.text:
            wrong_page.append((case.name, article.title))
    assert not wrong_feed, wrong_feed
    assert not wrong_page, wrong_page
    # A declaration that was wrong, and corrected, is said in the source's health.
    assert "declared encoding is wrong, read as windows-1251" in (reports["windows-1251-declared-utf8"].warning or "")
    assert "read as utf-8" in (reports["utf8-declared-windows-1250"].warning or "")
    assert reports["cs-windows-1250"].warning is None and reports["mk-windows-1251"].warning is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_parse_feed_alone_reads_every_case(case: Case) -> None:
    parsed = parse_feed(_feed(case, "http://x.example"), {"content-type": case.content_type}, "http://x.example/f")
    assert parsed.title == case.text and [e.title for e in parsed.entries] == [case.text]


def test_the_second_opinion_keeps_correct_declarations() -> None:
    for case in CASES:
        body = case.text.encode(case.encoding)
        assert better_encoding(body, case.encoding) is None, case.name
    assert better_encoding(b"plain ascii", "windows-1250") is None
    assert better_encoding(CS.encode("utf-16"), "utf-16") is None
    assert better_encoding(MK.encode("koi8-r", errors="replace"), "koi8-r") is None  # not ours to judge
