"""Duplicates and syndication: one article under several URLs is fetched and indexed once, a wire story on several
outlets is one story credited to its first publisher, an updated article keeps its original times."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch.crawlers.feeds import FeedPoller
from presswatch.crawlers.fetch import PageFetcher
from presswatch.crawlers.http import HttpClient
from presswatch.index.base import first_publisher
from presswatch.index.sqlite import SqliteIndex
from presswatch.process import Processor
from presswatch.profile import Profile, parse_profile
from presswatch.records import Discovery, clipping_id
from presswatch.state import State
from presswatch.status import collect_status
from tests.test_crawl_server import Reply, Server, profile_yaml

STORY = ("Mestské zastupiteľstvo v utorok schválilo opravu cesty na Hlavnej ulici za dva milióny eur. "
         "Práce sa začnú na jar a potrvajú do konca leta, obchádzka povedie cez Školskú ulicu. "
         "Poslanci opozície žiadali, aby mesto najprv zverejnilo výsledky verejného obstarávania. "
         "Podľa vedúceho stavebného odboru je vozovka v zlom stave už desať rokov a opravy sa odkladali. "
         "Mesto na opravu použije peniaze z eurofondov aj z vlastného rozpočtu, úver si brať nebude. "
         "Obyvatelia Hlavnej ulice sa na zasadnutí sťažovali na hluk a prach počas prác. "
         "Zhotoviteľ sľúbil, že chodníky zostanú počas celej opravy prístupné pre chodcov.")


def article(title: str, text: str, published: str, modified: str | None = None, extra_head: str = "") -> bytes:
    meta = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": published}
    if modified:
        meta["dateModified"] = modified
    paragraphs = "".join(f"<p>{p}.</p>" for p in text.split(". ") if p)
    return (f"<!doctype html><html lang='sk'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:type' content='article'>{extra_head}"
            f"<script type='application/ld+json'>{json.dumps(meta, ensure_ascii=False)}</script></head>"
            f"<body><header><nav><a href='/'>Domov</a></nav></header><article><h1>{title}</h1>{paragraphs}"
            f"</article><footer>© Vydavateľ</footer></body></html>").encode()


def _world(tmp_path: Path, feeds: dict[str, str] | None = None) -> tuple[Profile, State, SqliteIndex, HttpClient]:
    profile = parse_profile(profile_yaml(feeds=feeds))
    db = tmp_path / "store.db"
    return (profile, State(db), SqliteIndex(db),
            HttpClient.from_profile(profile, timeout_s=2.0, total_timeout_s=2.0))


def _discover(state: State, urls: dict[str, str]) -> None:
    now = datetime.now(UTC)
    state.discover([Discovery(url=u, outlet=outlet, source="feed", seen_at=now) for u, outlet in urls.items()])


def test_redirect_and_canonical_twins_are_fetched_once(tmp_path: Path) -> None:
    page = article("Oprava cesty", STORY, "2026-11-20T08:00:00Z",
                   extra_head="<link rel='canonical' href='/2026/11/oprava-cesty/'>"
                              "<link rel='amphtml' href='/amp-verzia/oprava-cesty'>")
    with Server() as srv:
        srv.routes.update({
            "/2026/11/oprava-cesty": Reply(301, headers=[("Location", "/2026/11/oprava-cesty/")]),
            "/2026/11/oprava-cesty/": Reply(body=page),
        })
        profile, state, index, http = _world(tmp_path)
        fetcher = PageFetcher(profile, state, http)
        _discover(state, {srv.url("/2026/11/oprava-cesty"): "o"})
        first = fetcher.fetch_pending()
        # later a feed links the slash form, the AMP page and a mobile host's AMP URL of the same article
        _discover(state, {srv.url("/2026/11/oprava-cesty/"): "o", srv.url("/amp-verzia/oprava-cesty"): "o"})
        second = fetcher.fetch_pending()
    assert (first.fetched, second.attempted) == (1, 0)
    assert srv.count("/2026/11/oprava-cesty/") == 1
    assert state.unfetched() == []
    index.close()
    state.close()


def test_exact_copy_is_recorded_as_a_duplicate_and_syndication_credits_the_first_publisher(tmp_path: Path) -> None:
    profile, state, index, http = _world(tmp_path)
    original = article("Oprava cesty za dva milióny", STORY, "2026-11-20T08:00:00Z")
    # the print version: other markup, other spacing and quotes, the same words
    printed = (b"<html><head><title>Oprava cesty za dva miliony</title></head><body><div class='print'>"
               b"<h1>Oprava cesty za dva mili\xc3\xb3ny</h1><p>" + STORY.replace(" ", "  ").encode() +
               b"</p></div></body></html>")
    wire = article("Oprava cesty: zastupitelstvo schvalilo dva milióny", STORY.replace("v utorok ", ""),
                   "2026-11-20T06:30:00Z")  # the agency's copy on another outlet, earlier, lightly edited
    with Server() as srv:
        srv.routes.update({"/2026/11/oprava-cesty/": Reply(body=original),
                           "/2026/11/oprava-cesty/print/": Reply(body=printed),
                           "/wire/2026/11/oprava-cesty-zastupitelstvo/": Reply(body=wire)})
        urls = {srv.url("/2026/11/oprava-cesty/"): "o", srv.url("/2026/11/oprava-cesty/print/"): "o"}
        for url, outlet in urls.items():  # the first page fetched is the one kept
            _discover(state, {url: outlet})
            assert PageFetcher(profile, state, http).fetch_pending().fetched == 1
        processor = Processor.from_profile(profile, state, index)
        report = processor.run_all()
        # the wire copy arrives later (a backfill), though it was published first
        wire_url = srv.url("/wire/2026/11/oprava-cesty-zastupitelstvo/")
        _discover(state, {wire_url: "agency"})
        assert PageFetcher(profile, state, http).fetch_pending().fetched == 1
        later = processor.run_all()

    assert (report.indexed, report.duplicates) == (1, 1)
    assert (later.indexed, later.duplicates, later.joined) == (1, 0, 1)
    first_url, print_url = list(urls)
    assert index.get(clipping_id(print_url)) is None  # not a second clipping
    assert state.duplicate_of(clipping_id(print_url)) == clipping_id(first_url)
    assert state.raw_page(clipping_id(print_url)) is not None  # the raw page is kept
    assert state.queue_counts()["duplicate"] == 1 and state.duplicate_count() == 1

    story = index.get(clipping_id(first_url))
    assert story is not None and story.cluster_id == clipping_id(first_url)
    copies = index.cluster(story.cluster_id)
    assert [c.article.url for c in copies] == [wire_url, first_url]  # by publication, not by indexing
    lead = first_publisher(copies)
    assert lead is not None and lead.article.outlet == "agency"
    assert index.cluster("no-such-cluster") == []
    assert index.stats().clippings == 2 and index.stats().clusters == 1
    # processing the same pages again changes nothing
    for page_id in (clipping_id(first_url), clipping_id(print_url)):
        state.requeue(page_id)
    again = processor.run_all()
    assert (again.indexed, again.new, again.duplicates) == (1, 0, 1)
    index.close()
    state.close()


def test_status_counts_duplicates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSWATCH_DB", str(tmp_path / "store.db"))
    state = State(tmp_path / "store.db")
    state.execute("INSERT INTO duplicates(page_id, url, duplicate_of, hash, recorded_at) VALUES"
                  " ('b', 'http://x/b', 'a', 'h', '2026-11-20T00:00:00+00:00')")
    state.close()
    assert collect_status(parse_profile(profile_yaml()))["duplicates"] == 1


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Outlet</title><id>urn:o</id><updated>{updated}</updated>
<entry><title>{title}</title><link href="/2026/11/oprava-cesty/"/><id>urn:o:1</id>
<published>2026-11-20T08:00:00Z</published><updated>{updated}</updated><summary>Oprava cesty.</summary></entry>
</feed>"""


def test_an_updated_article_is_fetched_again_and_keeps_its_first_times(tmp_path: Path) -> None:
    v1 = article("Oprava cesty za dva milióny", STORY, "2026-11-20T08:00:00Z")
    v2_text = STORY + " Primátor po zasadnutí doplnil, že mesto zmluvu so zhotoviteľom zverejní ešte tento týždeň."
    v2 = article("Oprava cesty za dva milióny (aktualizované)", v2_text, "2026-11-20T08:00:00Z",
                 modified="2026-11-20T15:00:00Z")
    with Server() as srv:
        page = {"body": v1}
        feed = {"updated": "2026-11-20T08:00:00Z", "title": "Oprava cesty"}
        srv.routes["/2026/11/oprava-cesty/"] = lambda _r: Reply(body=page["body"])
        srv.routes["/atom.xml"] = lambda _r: Reply(body=ATOM.format(**feed).encode(),
                                                   content_type="application/atom+xml")
        profile, state, index, http = _world(tmp_path, feeds={"f": srv.url("/atom.xml")})
        poller, fetcher = FeedPoller(profile, state, http), PageFetcher(profile, state, http)
        processor = Processor.from_profile(profile, state, index)

        def cycle() -> tuple[int, int, int]:
            poller.poll(profile.sources.feeds[0])
            fetched = fetcher.fetch_pending().fetched
            done = processor.run_all()
            return fetched, done.new, done.updated

        assert cycle() == (1, 1, 0)
        url = srv.url("/2026/11/oprava-cesty/")
        first = index.get(clipping_id(url))
        assert first is not None and first.article.published == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
        assert cycle() == (0, 0, 0)  # nothing changed: nothing fetched again
        feed.update(updated="2026-11-20T09:00:00Z")  # modified, but before we fetched it: we have that version
        assert cycle() == (0, 0, 0)
        page["body"] = v2
        changed = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)  # after our fetch
        feed.update(updated=changed.strftime("%Y-%m-%dT%H:%M:%SZ"), title="Oprava cesty (aktualizované)")
        assert cycle() == (1, 0, 1)
        assert cycle() == (0, 0, 0)
    assert srv.count("/2026/11/oprava-cesty/") == 2
    now = index.get(clipping_id(url))
    assert now is not None
    assert "zverejní ešte tento týždeň" in now.article.text and "aktualizované" in now.article.title
    assert now.article.published == first.article.published
    assert now.article.fetched_at == first.article.fetched_at  # first seen stays
    assert now.cluster_id == first.cluster_id
    assert now.extra["updated"] == changed.isoformat() and now.extra["versions"] == 2
    assert index.stats().clippings == 1
    index.close()
    state.close()
