"""Feed polling: RSS/Atom feeds and the municipality's own press releases become Discoveries.

A feed is fetched with crawlers.http (timeouts, byte cap, conditional GET with the ETag/Last-Modified kept in the
store) and parsed from bytes: `feedparser.parse(url)` has no timeout (feedparser#76) and is never used. The
outcome of every poll lands in the source's health row: an error for a feed that is down, an HTML page where a
feed should be, or ill-formed XML with nothing recoverable; a warning (on a successful poll) for an ill-formed
feed whose entries could still be read. One broken feed never stops the others.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
from lxml import etree, html

from presswatch import settings
from presswatch.crawlers.canonical import canonical_url
from presswatch.crawlers.charset import better_encoding
from presswatch.crawlers.health import next_interval
from presswatch.crawlers.http import FetchResult, HttpClient
from presswatch.profile import FeedSource, Profile
from presswatch.records import Discovery
from presswatch.state import SourceHealth, State, utcnow

log = logging.getLogger(__name__)

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8,"
               " text/xml;q=0.8, */*;q=0.5")
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed entry with a usable link: what becomes a Discovery."""

    url: str  # canonical
    title: str | None
    published: datetime | None  # aware UTC
    summary: str | None  # plain text
    updated: datetime | None = None  # the entry's `updated` (Atom) / modification date: a newer one means refetch


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: tuple[FeedEntry, ...]
    title: str | None = None
    version: str | None = None  # feedparser's name for the format: rss20, atom10, ...
    warning: str | None = None  # ill-formed but readable, or entries skipped
    error: str | None = None  # nothing usable: not a feed, or unreadable


@dataclass(frozen=True, slots=True)
class PollReport:
    source: str
    url: str
    kind: str  # feed | release
    ok: bool
    status: int | None = None
    not_modified: bool = False
    entries: int = 0  # entries with a usable link in the feed
    new: int = 0  # of those, never discovered before
    warning: str | None = None
    error: str | None = None
    elapsed_s: float = 0.0


def _plain(fragment: str | None, limit: int = settings.FEED_SUMMARY_MAX_CHARS) -> str | None:
    """Feed summaries are (sanitised) HTML; the pipeline wants text."""
    if not fragment or not fragment.strip():
        return None
    text = fragment
    if "<" in fragment or "&" in fragment:
        try:
            text = html.fragment_fromstring(fragment, create_parent="div").text_content()
        except (etree.ParserError, ValueError):
            text = fragment
    text = _WS.sub(" ", text).strip()
    return text[:limit] or None


def _utc(struct: Any) -> datetime | None:
    """feedparser's *_parsed values are UTC time.struct_time (or None)."""
    if not struct:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in struct[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)  # 60/61: leap seconds
    except (TypeError, ValueError, IndexError):
        return None


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link)
    for candidate in entry.get("links") or ():
        if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
            return str(candidate["href"])
    guid = entry.get("id") or ""
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        return guid  # an RSS guid that is a permalink
    return None


def _describe_bozo(exc: BaseException | None) -> str:
    if exc is None:
        return "ill-formed"
    text = _WS.sub(" ", str(exc)).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse feed bytes (never a URL) into entries with canonical links. `headers` are the response headers
    (lower-case names; Content-Type carries the charset); `url` is the URL the bytes came from, the base for
    relative links. Never raises for anything in the bytes."""
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    try:
        parsed = feedparser.parse(body, response_headers=response_headers)
    except Exception as exc:  # noqa: BLE001 - feedparser is meant not to raise; if it does, it is this feed's error
        return ParsedFeed((), error=f"{url}: feed parser crashed: {type(exc).__name__}: {exc}")
    recoded = _recode(body, response_headers, parsed)
    if recoded is not None:
        parsed = recoded
    version = parsed.get("version") or None
    raw_entries = parsed.get("entries") or []
    ctype = response_headers.get("content-type", "no Content-Type")
    if not version and not raw_entries:
        if _HTML_START.match(body[:2048]) or "html" in ctype.lower():
            return ParsedFeed((), error=f"not a feed: {url} serves an HTML page ({ctype})")
        if not body.strip():
            return ParsedFeed((), error=f"not a feed: {url} answered with an empty body")
        bozo = parsed.get("bozo_exception") if parsed.get("bozo") else None
        real_error = bozo is not None and not isinstance(bozo, feedparser.ThingsNobodyCaresAboutButMe)
        reason = _describe_bozo(bozo) if real_error else "no RSS/Atom/RDF root element"
        return ParsedFeed((), error=f"not a feed: {url} ({ctype}) could not be read as RSS or Atom ({reason})")
    entries: list[FeedEntry] = []
    skipped = 0
    for raw in raw_entries:
        link = _entry_link(raw)
        try:
            canonical = canonical_url(link, base=url) if link else None
        except ValueError:
            canonical = None
        if canonical is None:
            skipped += 1
            continue
        entries.append(FeedEntry(
            url=canonical,
            title=_WS.sub(" ", raw.get("title") or "").strip() or None,
            # dict.get: FeedParserDict's own lookup maps a missing published_parsed to updated_parsed with a
            # DeprecationWarning; the fallback is spelled out here instead.
            published=_utc(dict.get(raw, "published_parsed")) or _utc(dict.get(raw, "updated_parsed")),
            summary=_plain(raw.get("summary")),
            updated=_utc(dict.get(raw, "updated_parsed")),
        ))
    notes: list[str] = []
    if recoded is not None:
        notes.append(f"declared encoding is wrong, read as {recoded.get('encoding')}")
    if parsed.get("bozo"):
        bozo = parsed.get("bozo_exception")
        # feedparser's "things nobody cares about" (a wrong declared charset, a text/plain Content-Type) leave a
        # well-formed feed: an empty one is simply empty. Real XML errors with nothing recovered are an error.
        benign = isinstance(bozo, feedparser.ThingsNobodyCaresAboutButMe)
        if not entries and not benign:
            # Nothing usable recovered (no entry, or none with a link): an error for the source's health, but
            # what was recovered (the feed's title) is still given.
            return ParsedFeed((), title=_feed_title(parsed), version=version,
                              error=f"ill-formed feed at {url}, no entries recoverable ({_describe_bozo(bozo)})")
        if isinstance(bozo, feedparser.CharacterEncodingOverride):
            if recoded is None:
                notes.append(f"declared encoding is wrong, read as {parsed.get('encoding')}")
        elif isinstance(bozo, feedparser.NonXMLContentType):
            notes.append(f"served as {ctype}, not an XML type" if "content-type" in response_headers
                         else "served without a Content-Type")
        else:
            notes.append(f"ill-formed feed ({_describe_bozo(bozo)}); {len(entries)} entries recovered")
    if skipped:
        notes.append(f"{skipped} entries without a usable http(s) link skipped")
    return ParsedFeed(tuple(entries), title=_feed_title(parsed), version=version, warning="; ".join(notes) or None)


def _feed_title(parsed: Any) -> str | None:
    return _WS.sub(" ", (parsed.get("feed") or {}).get("title") or "").strip() or None


def _recode(body: bytes, response_headers: dict[str, str], parsed: Any) -> Any | None:
    """feedparser again with the encoding crawlers/charset.py finds clearly better than the one feedparser used
    (a wrong declaration it believed, or the windows-1252 it fell back to), or None to keep the first parse."""
    encoding = better_encoding(body, parsed.get("encoding"))
    if encoding is None:
        return None
    # An XML media type with a charset parameter outranks the XML declaration (RFC 3023, as feedparser does).
    headers = {**response_headers, "content-type": f"application/xml; charset={encoding}"}
    try:
        again = feedparser.parse(body, response_headers=headers)
    except Exception:  # noqa: BLE001 - keep the first reading
        return None
    if len(again.get("entries") or []) < len(parsed.get("entries") or []):
        return None  # the new reading lost entries: not better
    return again


class FeedPoller:
    """Polls a profile's feeds and release feeds; one entry method per source, `poll`."""

    def __init__(self, profile: Profile, state: State, http: HttpClient,
                 concurrency: int = settings.FETCH_CONCURRENCY) -> None:
        self.profile = profile
        self.state = state
        self.http = http
        self.concurrency = max(1, concurrency)
        self._releases = {s.id for s in profile.sources.releases}

    @classmethod
    def from_profile(cls, profile: Profile, state: State, http: HttpClient | None = None) -> FeedPoller:
        return cls(profile, state, http or HttpClient.from_profile(profile))

    def poll_all(self) -> list[PollReport]:
        """Every feed and release feed of the profile, a few at a time; reports in profile order."""
        return self._poll_many([*self.profile.sources.feeds, *self.profile.sources.releases])

    def poll_due(self, now: datetime | None = None) -> list[PollReport]:
        """Only the feeds whose adaptive `next_poll_at` has come (never-polled feeds, and feeds whose URL changed
        in the profile, are due at once). The daemon calls this every minute."""
        now = now or utcnow()
        horizon = now + timedelta(seconds=settings.FEED_DUE_EARLY_S)
        known = {h.id: h for h in self.state.sources(self.profile.id)}
        due = []
        for source in [*self.profile.sources.feeds, *self.profile.sources.releases]:
            health = known.get(source.id)
            if health is None or health.next_poll_at is None or health.url != source.url \
                    or health.next_poll_at <= horizon:
                due.append(source)
        return self._poll_many(due)

    def _poll_many(self, sources: list[FeedSource]) -> list[PollReport]:
        if not sources:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(sources)),
                                thread_name_prefix="feed-poll") as pool:
            return list(pool.map(self.poll, sources))

    def poll(self, source: FeedSource) -> PollReport:
        """Fetch and parse one feed, record its discoveries and its health. Never raises."""
        start = time.monotonic()
        kind = "release" if source.id in self._releases else "feed"
        try:
            before = self.state.source(source.id)
            report = self._poll(source, kind, start)
            self._schedule(source, report, before)
            return report
        except Exception as exc:  # noqa: BLE001 - one broken feed (or a bug it triggers) must not stop the rest
            log.exception("polling %s failed", source.id)
            error = f"{source.url}: internal error while polling: {type(exc).__name__}: {exc}"
            failed = PollReport(source.id, source.url, kind, ok=False, error=error, elapsed_s=time.monotonic() - start)
            try:
                self.state.poll_failed(source.id, error)
                self._schedule(source, failed, None)
            except Exception:  # noqa: BLE001 - the store itself is down; the report still says what happened
                log.exception("could not record the failure of %s", source.id)
            return failed

    def _poll(self, source: FeedSource, kind: str, start: float) -> PollReport:
        self.state.register_source(source.id, self.profile.id, kind, source.url)
        health = self.state.source(source.id)
        etag = last_modified = None
        if health is not None and health.url == source.url:  # validators belong to the URL they came from
            etag, last_modified = health.etag, health.last_modified
        result = self.http.fetch(source.url, max_bytes=settings.FEED_MAX_BYTES, etag=etag,
                                 last_modified=last_modified, accept=FEED_ACCEPT)

        def report(**kw: Any) -> PollReport:
            return PollReport(source=source.id, url=source.url, kind=kind, status=result.status,
                              elapsed_s=time.monotonic() - start, **kw)

        if result.not_modified:
            # Unchanged since the last successful poll, so that poll's warning (if any) still holds.
            warning = health.last_error if health is not None and health.consecutive_failures == 0 else None
            self.state.poll_succeeded(source.id, new_items=0, warning=warning)
            return report(ok=True, not_modified=True, warning=warning)
        if result.error is not None:
            self.state.poll_failed(source.id, result.error)
            return report(ok=False, error=result.error)
        parsed = parse_feed(result.body, result.headers, result.final_url)
        if parsed.error is not None:
            self.state.poll_failed(source.id, parsed.error)
            return report(ok=False, error=parsed.error)
        discoveries = self._discoveries(source, parsed)
        new = self.state.discover(discoveries)
        self.state.revise(discoveries)  # an entry updated since its page was fetched is fetched again
        warning = _with_redirect_note(parsed.warning, result)
        self.state.poll_succeeded(source.id, new_items=len(new), etag=result.headers.get("etag"),
                                  last_modified=result.headers.get("last-modified"), warning=warning)
        return report(ok=True, entries=len(parsed.entries), new=len(new), warning=warning)

    def _schedule(self, source: FeedSource, report: PollReport, before: SourceHealth | None) -> None:
        """Set the source's next poll from this poll's outcome and its rate (crawlers/health.py)."""
        after = self.state.source(source.id)
        if after is None:
            return
        # After a failure streak the stored interval is a back-off, not a measure of how quiet the feed is.
        previous = before.poll_interval_s if before is not None and before.consecutive_failures == 0 else None
        interval = next_interval(source.interval_minutes, ok=report.ok, new_items=report.new,
                                 failures=after.consecutive_failures, items_per_day=after.items_per_day,
                                 previous_s=previous)
        # The jitter moves the next poll, not the stored interval, from which the next one grows.
        delay = interval * (1 + random.uniform(-settings.FEED_JITTER, settings.FEED_JITTER))
        self.state.schedule(source.id, utcnow() + timedelta(seconds=delay), interval)

    def _discoveries(self, source: FeedSource, parsed: ParsedFeed) -> list[Discovery]:
        now = utcnow()
        return [Discovery(url=e.url, outlet=source.outlet, source=source.id, seen_at=now, feed_title=e.title,
                          feed_published=e.published, feed_summary=e.summary, feed_updated=e.updated)
                for e in parsed.entries]


def _with_redirect_note(warning: str | None, result: FetchResult) -> str | None:
    """A feed that moved should be updated in the profile; say so in its health."""
    if not result.redirects:
        return warning
    note = f"feed redirects to {result.final_url} (update the profile if the move is permanent)"
    return f"{warning}; {note}" if warning else note


__all__ = ["FeedPoller", "PollReport", "ParsedFeed", "FeedEntry", "parse_feed"]
