"""Fetching discovered article pages into the durable queue.

Each discovery that has no page yet is fetched once per call (a bounded thread pool, at most
settings.SITE_CONCURRENCY requests to one host at a time), after asking the host's robots.txt, and stored with
`State.enqueue` exactly as it came off the wire (decoded from gzip, otherwise untouched): parsing is the next
stage's business. A failure is recorded with its error; one that retrying cannot fix (robots.txt, 404/410, too
large) is parked for good with `State.fetch_abandoned`.

robots.txt is read with Protego, the RFC 9309 parser Scrapy uses (ROBOTSTXT_PARSER), so that the page fetcher and
the crawl subprocess judge a URL the same way. (urllib.robotparser applies the first matching rule, not the
longest, and so allows `/private/` under "Allow: /" followed by "Disallow: /private/".)
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from protego import Protego

from presswatch import settings
from presswatch.crawlers.canonical import page_aliases
from presswatch.crawlers.http import FetchResult, HttpClient, is_fetchable
from presswatch.profile import Profile
from presswatch.records import Discovery, RawPage
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)

PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
PERMANENT_STATUSES = frozenset({404, 410, 451})  # gone; a 403 may be a rate limit and is retried


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: Protego | None  # None: the verdict below applies to every path
    allow_all: bool
    note: str | None = None  # why the host is treated as allow-all/disallow-all


class RobotsCache:
    """robots.txt per origin (scheme, host, port), fetched once through the shared HttpClient and kept for the
    life of this object (one run). RFC 9309 2.3.1: a 4xx means no rules; a 5xx or no answer means everything is
    disallowed until the next run."""

    def __init__(self, http: HttpClient, token: str = settings.ROBOTS_TOKEN) -> None:
        self.http = http
        self.token = token
        self._rules: dict[str, _Rules] = {}
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    @staticmethod
    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme.lower()}://{parts.netloc.lower()}"

    def disallowed(self, url: str) -> str | None:
        """Why robots.txt forbids `url`, or None when it may be fetched."""
        if not is_fetchable(url):
            return None  # the HttpClient refuses it with its own message
        origin = self.origin(url)
        rules = self._load(origin)
        if rules.parser is None:
            return None if rules.allow_all else (rules.note or f"{origin}/robots.txt disallows everything")
        if rules.parser.can_fetch(url, self.token):
            return None
        return f"disallowed by {origin}/robots.txt"

    def unreachable(self, url: str) -> bool:
        """True when the host's robots.txt could not be read this run (a refusal that may lift next run)."""
        rules = self._rules.get(self.origin(url))
        return rules is not None and rules.parser is None and not rules.allow_all

    def _load(self, origin: str) -> _Rules:
        with self._guard:
            lock = self._locks[origin]
        with lock:  # one fetch per host even when several workers ask at once
            cached = self._rules.get(origin)
            if cached is None:
                cached = self._rules[origin] = self._fetch(origin)
            return cached

    def _fetch(self, origin: str) -> _Rules:
        robots_url = f"{origin}/robots.txt"
        result = self.http.fetch(robots_url, max_bytes=settings.ROBOTS_MAX_BYTES, accept="text/plain")
        if result.status is not None and 200 <= result.status < 300:
            # Past the size cap the first ROBOTS_MAX_BYTES are parsed (RFC 9309 2.5), so `truncated` is fine.
            text = result.body.decode("utf-8", errors="replace")
            return _Rules(Protego.parse(text), allow_all=True)
        if result.status is not None and 400 <= result.status < 500:
            return _Rules(None, allow_all=True, note=f"{robots_url}: HTTP {result.status}, no rules")
        log.warning("robots.txt unreachable, treating %s as disallowed for this run: %s", origin, result.error)
        return _Rules(None, allow_all=False,
                      note=f"robots.txt unreachable, everything disallowed for now ({result.error})")


@dataclass(frozen=True, slots=True)
class FetchReport:
    attempted: int = 0
    fetched: int = 0  # pages stored in the queue
    failed: int = 0  # includes `disallowed`
    disallowed: int = 0  # not requested: robots.txt
    errors: list[str] = field(default_factory=list)  # one line per failure, naming the URL
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class _Outcome:
    discovery: Discovery
    stored: bool = False
    error: str | None = None
    permanent: bool = False
    disallowed: bool = False


class PageFetcher:
    """Fetches `state.unfetched()` discoveries into the queue; one entry method, `fetch_pending`."""

    def __init__(self, profile: Profile, state: State, http: HttpClient, robots: RobotsCache | None = None,
                 concurrency: int = settings.FETCH_CONCURRENCY, per_site: int = settings.SITE_CONCURRENCY) -> None:
        self.profile = profile
        self.state = state
        self.http = http
        self.robots = robots  # None: a fresh cache per run, so a changed robots.txt is honoured next run
        self.concurrency = max(1, concurrency)
        self.per_site = max(1, per_site)

    @classmethod
    def from_profile(cls, profile: Profile, state: State, http: HttpClient | None = None) -> PageFetcher:
        return cls(profile, state, http or HttpClient.from_profile(profile))

    def fetch_pending(self, limit: int = settings.FETCH_BATCH) -> FetchReport:
        start = time.monotonic()
        pending = self.state.unfetched(limit=limit, max_attempts=settings.QUEUE_MAX_ATTEMPTS)
        if not pending:
            return FetchReport(elapsed_s=time.monotonic() - start)
        robots = self.robots or RobotsCache(self.http)
        slots: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
            lambda: threading.BoundedSemaphore(self.per_site))
        slots_guard = threading.Lock()

        def one(d: Discovery) -> _Outcome:
            with slots_guard:
                slot = slots[RobotsCache.origin(d.url)]
            with slot:
                return self._fetch_one(d, robots)

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(pending)),
                                thread_name_prefix="page-fetch") as pool:
            outcomes = list(pool.map(one, pending))
        errors = [o.error for o in outcomes if o.error]
        return FetchReport(
            attempted=len(outcomes), fetched=sum(o.stored for o in outcomes), failed=len(errors),
            disallowed=sum(o.disallowed for o in outcomes), errors=[e for e in errors if e],
            elapsed_s=time.monotonic() - start,
        )

    def _fetch_one(self, d: Discovery, robots: RobotsCache) -> _Outcome:
        try:
            outcome = self._attempt(d, robots)
            if outcome.stored:
                return outcome
            if outcome.permanent:
                self.state.fetch_abandoned(d.url, outcome.error or "")
            else:
                self.state.fetch_failed(d.url, outcome.error or "")
            return outcome
        except Exception as exc:  # noqa: BLE001 - one page must not stop the batch
            log.exception("fetching %s failed", d.url)
            error = f"{d.url}: internal error while fetching: {type(exc).__name__}: {exc}"
            try:
                self.state.fetch_failed(d.url, error)
            except Exception:  # noqa: BLE001
                log.exception("could not record the failure of %s", d.url)
            return _Outcome(d, error=error)

    def _attempt(self, d: Discovery, robots: RobotsCache) -> _Outcome:
        blocked: list[str] = []

        def guard(url: str) -> str | None:  # asked before the first request and before every redirect
            reason = robots.disallowed(url)
            if reason is not None:
                blocked.append(url)
            return reason

        result = self.http.fetch(d.url, max_bytes=settings.PAGE_MAX_BYTES, accept=PAGE_ACCEPT, guard=guard)
        if result.ok:
            self.state.enqueue(_raw_page(d, result))
            # `/a` redirected to `/a/`, or the page names its canonical/AMP twin: those URLs are this article
            self.state.mark_aliases(page_aliases(d.url, result.final_url, result.body), d.url, d.outlet, d.source)
            return _Outcome(d, stored=True)
        error = result.error or f"{d.url}: HTTP {result.status} without a body"
        permanent = result.refused or result.truncated or result.status in PERMANENT_STATUSES
        if blocked and robots.unreachable(blocked[-1]):
            permanent = False  # robots.txt was down, not a rule: try again next run
        return _Outcome(d, error=error, permanent=permanent, disallowed=bool(blocked))


def _raw_page(d: Discovery, result: FetchResult) -> RawPage:
    return RawPage(url=d.url, final_url=result.final_url, outlet=d.outlet, source=d.source, fetched_at=utcnow(),
                   status=result.status or 200, headers=dict(result.headers), body=result.body,
                   feed_title=d.feed_title, feed_published=d.feed_published)


__all__ = ["PageFetcher", "FetchReport", "RobotsCache"]
