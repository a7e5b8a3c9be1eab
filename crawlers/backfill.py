"""Backfill: the articles a site published since a date, from its sitemaps and its archive pages.

`presswatch backfill --since DATE` is a one-off run a user watches, not the hourly crawl, so it runs in-process
with the plain HTTP client (timeouts, size caps, robots.txt through `RobotsCache`, at most
settings.SITE_CONCURRENCY requests to one host) instead of a Scrapy subprocess: no reactor to restart, and the
progress bar and the date filter live in the same process as the store.

Where it looks, per site source:
- sitemaps: the source's `sitemaps`, else the `Sitemap:` lines of the site's robots.txt; sitemap indexes are
  followed (a child sitemap whose `lastmod` is before DATE is skipped, it cannot list anything newer), and an entry
  is kept when its `news:publication_date`, else its `lastmod`, is on or after DATE (or it has no date at all);
- archives: the source's start URLs (section pages) and their next pages (`rel=next`, or links shaped like
  `?page=2` / `/page/2/`), up to settings.BACKFILL_MAX_ARCHIVE_PAGES per start URL.

What it found goes through `State.discover` (deduplicated by canonical URL, so an article a feed already brought
is not fetched again) and `State.revise` (a sitemap `lastmod` newer than what was recorded for a page already
fetched fetches it again: an updated article). Then the page fetcher and the processor drain the queue.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO
from urllib.parse import urlsplit

from lxml import etree, html
from protego import Protego

from presswatch import settings
from presswatch.crawlers.canonical import canonical_url
from presswatch.crawlers.fetch import PageFetcher, RobotsCache
from presswatch.crawlers.http import HttpClient, TooLarge, decode_body
from presswatch.crawlers.sitemaps import ARTICLE_URL, parse_sitemap
from presswatch.profile import Profile, SiteSource
from presswatch.records import Discovery
from presswatch.state import State, utcnow

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"
MAX_SITEMAP_NESTING = 3
# Pagination of archive and section pages: ?page=2, ?strana=2 (sk/cs), ?puslapis=2 (lt), ?sayfa=2 (tr),
# ?stranica=2 (mk), ?p=2, and the same as a path: /page/2/, /strana/2/, ...
PAGINATION = re.compile(
    r"[?&](?:page|paged|p|pg|strana|stran|stranka|puslapis|psl|sayfa|stranica)=\d+"
    r"|/(?:page|strana|stran|stranka|puslapis|psl|sayfa|stranica)/\d+/?(?:$|\?)", re.I)


@dataclass(slots=True)
class SiteBackfill:
    """What the walk of one site source found."""

    source: str
    sitemaps: int = 0  # sitemap documents read (indexes included)
    archive_pages: int = 0
    found: int = 0  # article URLs on or after the date (after canonicalisation, deduplicated)
    new: int = 0  # of those, never discovered before
    updated: int = 0  # already fetched, but modified since: fetched again
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BackfillReport:
    sites: list[SiteBackfill] = field(default_factory=list)
    fetched: int = 0
    fetch_failed: int = 0
    indexed: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class Progress:
    """A small progress bar on a stream (stderr): redrawn in place on a terminal, a line per tenth otherwise."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.total = max(total, 0)
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + n, max(self.total, self.done + n))
        self._draw()

    def _draw(self) -> None:
        total = max(self.total, self.done, 1)
        share = self.done / total
        bar = "#" * int(share * self.width)
        line = f"{self.label} [{bar:<{self.width}}] {self.done}/{max(self.total, self.done)}"
        if self._tty:
            self.stream.write("\r" + line)
        elif int(share * 10) != self._last_tenth:
            self._last_tenth = int(share * 10)
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._draw()
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()


class Backfill:
    """Finds a profile's site articles since a date; `discover` walks one source, `run` does everything."""

    def __init__(self, profile: Profile, state: State, http: HttpClient, since: datetime,
                 robots: RobotsCache | None = None,
                 max_archive_pages: int = settings.BACKFILL_MAX_ARCHIVE_PAGES) -> None:
        self.profile = profile
        self.state = state
        self.http = http
        self.since = since
        self.robots = robots or RobotsCache(http)
        self.max_archive_pages = max_archive_pages

    @classmethod
    def from_profile(cls, profile: Profile, state: State, since: datetime,
                     http: HttpClient | None = None) -> Backfill:
        return cls(profile, state, http or HttpClient.from_profile(profile), since)

    # --- fetching one document ---------------------------------------------------------------------------
    def _get(self, url: str, report: SiteBackfill, accept: str) -> tuple[str, bytes] | None:
        result = self.http.fetch(url, max_bytes=settings.PAGE_MAX_BYTES, accept=accept,
                                 guard=self.robots.disallowed)
        if not result.ok:
            report.errors.append(result.error or f"{url}: HTTP {result.status}")
            return None
        return result.final_url, result.body

    # --- what counts --------------------------------------------------------------------------------------
    def _rules(self, site: SiteSource) -> Callable[[str], bool]:
        allow = [re.compile(p) for p in site.allow]
        deny = [re.compile(p) for p in site.deny]
        hosts = {urlsplit(u).hostname for u in [*site.sitemaps, *site.start_urls]}

        def is_article(url: str) -> bool:
            if urlsplit(url).hostname not in hosts or any(p.search(url) for p in deny):
                return False
            if allow:
                return any(p.search(url) for p in allow)
            return bool(ARTICLE_URL.search(urlsplit(url).path))
        return is_article

    # --- the walk ------------------------------------------------------------------------------------------
    def discover(self, site: SiteSource) -> SiteBackfill:
        report = SiteBackfill(source=site.id)
        self.state.register_source(site.id, self.profile.id, "site", (site.start_urls or site.sitemaps)[0])
        is_article = self._rules(site)
        found: dict[str, Discovery] = {}
        now = utcnow()

        def add(url: str, title: str | None = None, published: datetime | None = None,
                modified: datetime | None = None) -> None:
            if url not in found:
                found[url] = Discovery(url=url, outlet=site.outlet, source=site.id, seen_at=now, feed_title=title,
                                       feed_published=published, feed_updated=modified)

        for entry in self._sitemap_entries(site, report):
            add(*entry)
        for start in site.start_urls:
            for link in self._archive(start, report):
                add(link)
        items = [d for d in found.values() if is_article(d.url)]
        report.found = len(items)
        report.new = len(self.state.discover(items))
        report.updated = len(self.state.revise(items))
        return report

    def _sitemap_entries(self, site: SiteSource, report: SiteBackfill) \
            -> Iterable[tuple[str, str | None, datetime | None, datetime | None]]:
        pending = [(url, 0) for url in site.sitemaps] or [(url, 0) for url in self._robots_sitemaps(site, report)]
        seen: set[str] = set()
        while pending:
            url, nesting = pending.pop(0)
            if url in seen:
                continue
            seen.add(url)
            got = self._get(url, report, SITEMAP_ACCEPT)
            if got is None:
                continue
            final_url, raw = got
            try:
                body = decode_body(raw, None, settings.PAGE_MAX_BYTES)  # a .xml.gz served as a file
            except (TooLarge, ValueError) as exc:
                report.errors.append(f"{final_url}: unreadable sitemap ({type(exc).__name__})")
                continue
            sitemap = parse_sitemap(body)
            if sitemap.kind is None:
                report.errors.append(f"{final_url}: not a sitemap")
                continue
            report.sitemaps += 1
            for entry in sitemap.entries:
                try:
                    loc = canonical_url(entry.loc, base=final_url)
                except ValueError:
                    continue
                if sitemap.kind == "sitemapindex":
                    if nesting < MAX_SITEMAP_NESTING and (entry.lastmod is None or entry.lastmod >= self.since):
                        pending.append((loc, nesting + 1))
                    continue
                dated = entry.news_published or entry.lastmod
                if dated is None or dated >= self.since:
                    yield loc, entry.news_title, entry.news_published, entry.lastmod

    def _robots_sitemaps(self, site: SiteSource, report: SiteBackfill) -> list[str]:
        out: list[str] = []
        for origin in sorted({RobotsCache.origin(u) for u in site.start_urls}):
            result = self.http.fetch(f"{origin}/robots.txt", max_bytes=settings.ROBOTS_MAX_BYTES,
                                     accept="text/plain")
            if not result.ok:
                continue
            for found in Protego.parse(result.body.decode("utf-8", errors="replace")).sitemaps:
                try:
                    out.append(canonical_url(found, base=result.final_url))  # relative lines exist in the wild
                except ValueError:
                    report.errors.append(f"{origin}/robots.txt: unusable Sitemap line {found!r}")
        return out

    def _archive(self, start: str, report: SiteBackfill) -> Iterable[str]:
        """Links on a section page and on its next pages, in order."""
        try:
            first = canonical_url(start)
        except ValueError:
            return
        pending, seen = [first], {first}
        pages = 0
        while pending and pages < self.max_archive_pages:
            url = pending.pop(0)
            got = self._get(url, report, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
            pages += 1
            if got is None:
                continue
            report.archive_pages += 1
            final_url, body = got
            try:
                root = html.fromstring(body)
            except (etree.ParserError, ValueError):
                continue
            for el in root.iter("a", "link"):
                href = el.get("href")
                if not href:
                    continue
                try:
                    link = canonical_url(href, base=final_url)
                except ValueError:
                    continue
                rels = (el.get("rel") or "").lower().split()
                next_page = "next" in rels or bool(PAGINATION.search(link))
                if next_page and urlsplit(link).hostname == urlsplit(first).hostname:
                    if link not in seen:
                        seen.add(link)
                        pending.append(link)
                elif el.tag == "a":
                    yield link

    # --- everything ----------------------------------------------------------------------------------------
    def run(self, sites: list[SiteSource], process: Callable[[], tuple[int, int, int, int]] | None = None,
            stream: TextIO | None = None, label: str = "fetch") -> BackfillReport:
        """Walk every site, fetch what was found (with a progress bar), then process the queue with `process`,
        which returns (indexed, new, duplicates, failed)."""
        out = BackfillReport()
        for site in sites:
            walked = self.discover(site)
            out.sites.append(walked)
            out.errors += walked.errors
        fetcher = PageFetcher(self.profile, self.state, self.http, robots=self.robots)
        total = len(self.state.unfetched(limit=1 << 30, max_attempts=settings.QUEUE_MAX_ATTEMPTS))
        bar = Progress(label, total, stream)
        while True:
            batch = fetcher.fetch_pending(limit=settings.BACKFILL_FETCH_BATCH)
            out.fetched += batch.fetched
            out.fetch_failed += batch.failed
            out.errors += batch.errors
            bar.update(batch.attempted)
            if batch.fetched == 0:  # nothing left, or only pages that keep failing
                break
        bar.close()
        if process is not None:
            indexed, new, duplicates, failed = process()
            out.indexed, out.new, out.duplicates, out.failed = indexed, new, duplicates, failed
        return out


def run_backfill(profile: Profile, since: datetime, source_ids: list[str] | None = None,
                 stream: TextIO | None = None, labels: dict[str, str] | None = None,
                 http: HttpClient | None = None) -> BackfillReport:
    """The `presswatch backfill` command's body: walk, fetch and process into the profile's store."""
    from presswatch.index import open_index
    from presswatch.process import Processor

    sites = [s for s in profile.sources.sites if not source_ids or s.id in source_ids]
    unknown = sorted(set(source_ids or ()) - {s.id for s in profile.sources.sites})
    if unknown:
        known = ", ".join(s.id for s in profile.sources.sites) or "none"
        raise KeyError(f"no site source {', '.join(unknown)} in the profile (sites: {known})")
    labels = {"fetch": "fetch", "process": "process", **(labels or {})}
    path = profile.db_path()
    state = State(path)
    index = open_index(profile, path)
    client = http or HttpClient.from_profile(profile)
    try:
        processor = Processor.from_profile(profile, state, index)

        def process() -> tuple[int, int, int, int]:
            total = state.queue_counts()["queued"]
            bar = Progress(labels["process"], total, stream)
            indexed = new = duplicates = failed = 0
            while True:
                batch = processor.run()
                indexed, new = indexed + batch.indexed, new + batch.new
                duplicates, failed = duplicates + batch.duplicates, failed + batch.failed
                bar.update(batch.indexed + batch.duplicates + batch.failed)
                if batch.indexed + batch.failed + batch.duplicates == 0:
                    break
            bar.close()
            return indexed, new, duplicates, failed

        return Backfill.from_profile(profile, state, since, client).run(sites, process, stream, labels["fetch"])
    finally:
        if http is None:
            client.close()
        index.close()
        state.close()


__all__ = ["Backfill", "BackfillReport", "SiteBackfill", "Progress", "run_backfill", "PAGINATION"]
