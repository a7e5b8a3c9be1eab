"""Collection against the local newsroom: every demo feed polled, pending pages fetched, the hronske site crawled
by the Scrapy subprocess; then a second cycle that must find nothing new. The newsroom logs every request, so
what must never be fetched (robots-disallowed pages, a page twice) is checked on the server's side."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from presswatch.crawlers.canonical import canonical_url
from presswatch.crawlers.crawl import CrawlReport, load_profile_rebased, run_crawl
from presswatch.crawlers.feeds import FeedPoller, PollReport
from presswatch.crawlers.fetch import FetchReport, PageFetcher
from presswatch.profile import Profile
from presswatch.state import State

server = pytest.importorskip("presswatch.newsroom.server", reason="the local newsroom is not built yet")
from presswatch.newsroom import feeds as newsroom_feeds  # noqa: E402

if TYPE_CHECKING:
    from presswatch.newsroom.server import Newsroom

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
DEMO_BASE = "http://127.0.0.1:8765"
NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@dataclass
class Cycle:
    polls: dict[str, PollReport]
    fetch: FetchReport
    crawl: CrawlReport


@dataclass
class World:
    newsroom: Newsroom
    profile: Profile
    state: State
    first: Cycle
    second: Cycle
    requests_after_first: int


def _cycle(profile: Profile, state: State, db: Path, base: str) -> Cycle:
    polls = {r.source: r for r in FeedPoller.from_profile(profile, state).poll_all()}
    crawl = run_crawl(DEMO, "hronske-site", db, base_url_override=base, timeout_s=120)
    fetch = PageFetcher.from_profile(profile, state).fetch_pending()
    return Cycle(polls, fetch, crawl)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    mp.setenv("PRESSWATCH_CRAWL_START_DELAY", "0.1")  # loopback: no 1 s politeness delay to start with
    db = tmp_path_factory.mktemp("newsroom") / "store.db"
    with server.Newsroom(now=NOW) as nr:
        profile = load_profile_rebased(DEMO, [(DEMO_BASE, nr.base_url)])
        state = State(db)
        first = _cycle(profile, state, db, nr.base_url)
        n = len(nr.requests)
        second = _cycle(profile, state, db, nr.base_url)
        yield World(nr, profile, state, first, second, n)
        state.close()
    mp.undo()


def _feed_articles(world: World) -> dict[str, str]:
    """canonical URL -> feed source id, for every article a demo feed carries."""
    expected: dict[str, str] = {}
    outlets = world.newsroom.outlets
    for source in [*world.profile.sources.feeds, *world.profile.sources.releases]:
        outlet = outlets[source.outlet]
        feed = next(f for f in outlet.feeds if source.url.endswith(f"/{outlet.id}/{f.path}"))
        own = [a for a in world.newsroom.articles if a.outlet == outlet.id]
        for article in newsroom_feeds.feed_articles(outlet, feed, own):
            expected[canonical_url(article.url)] = source.id
    return expected


def _queued(world: World) -> dict[str, str]:
    return {r["url"]: r["source"] for r in world.state.execute("SELECT url, source FROM queue")}


def test_every_feed_article_is_queued_exactly_once(world: World) -> None:
    expected = _feed_articles(world)
    queued = _queued(world)
    assert len(expected) > 40
    missing = set(expected) - set(queued)
    assert not missing, sorted(missing)
    assert {u: queued[u] for u in expected} == expected  # stored under the feed that found it
    assert world.first.fetch.failed == 0, world.first.fetch.errors
    base = world.newsroom.base_url
    fetched = Counter(r.path for r in world.newsroom.requests if r.method == "GET" and r.status == 200)
    for url in expected:
        assert fetched[url.removeprefix(base)] == 1, url  # once, over both cycles and the crawl


def test_feed_health_and_the_broken_feed(world: World) -> None:
    polls = world.first.polls
    assert set(polls) == {"horcan-rss", "pohronie-rss", "pohronie-sport", "spravy24-atom", "herald-rss",
                          "mesto-releases"}
    assert all(p.ok for p in polls.values()), {k: p.error for k, p in polls.items() if not p.ok}
    sport = polls["pohronie-sport"]
    assert sport.new > 0 and sport.warning and sport.warning.startswith("ill-formed feed")
    for source_id in polls:
        health = world.state.source(source_id)
        assert health is not None and health.consecutive_failures == 0 and health.last_success is not None
        assert (health.last_error is not None) == (source_id == "pohronie-sport"), (source_id, health.last_error)
    releases = world.state.source("mesto-releases")
    assert releases is not None and releases.kind == "release"


def test_windows_1250_outlet_reads_correctly(world: World) -> None:
    titles = {r["url"]: r["feed_title"] for r in world.state.execute("SELECT url, feed_title FROM discoveries")}
    pohronie = [a for a in world.newsroom.articles if a.outlet == "pohronie" and a.crawlable]
    assert pohronie
    for article in pohronie:
        url = canonical_url(article.url)
        if url in titles and titles[url] is not None:
            assert titles[url] == article.title


def test_the_crawl_finds_the_sitemap_only_article_and_obeys_robots(world: World) -> None:
    crawl = world.first.crawl
    assert crawl.ok and crawl.pages_stored > 0, (crawl.error, crawl.stderr_tail[-2000:])
    queued = _queued(world)
    hronske = [a for a in world.newsroom.articles if a.outlet == "hronske"]
    sitemap_only = [a for a in hronske if a.expect.trap == "sitemap_only"]
    assert sitemap_only
    for article in sitemap_only:
        assert queued.get(canonical_url(article.url)) == "hronske-site"
    for article in hronske:
        if article.crawlable:
            assert canonical_url(article.url) in queued, article.url
    interne = [r for r in world.newsroom.requests if "/hronske/interne/" in r.path]
    assert not interne
    health = world.state.source("hronske-site")
    assert health is not None and health.kind == "site" and health.consecutive_failures == 0
    assert health.items_total == crawl.pages_stored


def test_a_second_cycle_finds_nothing_new(world: World) -> None:
    second = world.second
    assert all(p.ok and p.not_modified and p.new == 0 for p in second.polls.values()), second.polls
    assert second.fetch.attempted == 0
    assert second.crawl.ok and second.crawl.pages_stored == 0
    assert second.crawl.known_skipped >= world.first.crawl.pages_stored
    later = world.newsroom.requests[world.requests_after_first:]
    article_paths = {a.path for a in world.newsroom.articles}
    assert not [r.path for r in later if r.path.partition("?")[0] in article_paths]
    assert {r.status for r in later if r.path.endswith((".xml",)) and "sitemap" not in r.path} == {304}
