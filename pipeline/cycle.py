"""One municipality's pipeline, stage by stage: the daemon schedules each step as its own job, the demo and
`presswatch cycle` run them once in order.

The order is data (STYLE.md, 3): STEPS lists the steps with their priorities; `run_once` walks it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from presswatch.crawlers.crawl import CrawlReport, run_crawl
from presswatch.crawlers.feeds import FeedPoller, PollReport
from presswatch.crawlers.fetch import PageFetcher
from presswatch.digest.alerts import Alerter
from presswatch.digest.briefing import BriefingReport, send_briefing
from presswatch.index import open_index
from presswatch.index.base import ClippingIndex, SavedSearch
from presswatch.index.sqlite_workflow import ProfileSync, sync_profile_searches
from presswatch.process import Processor, ProcessReport
from presswatch.profile import Profile
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)

# Errors of opening the index that say it is unreachable now, not misconfigured (ElasticUnavailable is a
# ConnectionError; a full or unreadable store file an OSError or sqlite3.OperationalError).
INDEX_OUTAGES: tuple[type[Exception], ...] = (ConnectionError, OSError, sqlite3.OperationalError)


@dataclass(slots=True)
class CycleReport:
    feeds_ok: int = 0
    feeds_failed: int = 0
    discovered: int = 0
    warnings: list[str] = field(default_factory=list)
    crawls: list[CrawlReport] = field(default_factory=list)
    fetched: int = 0
    fetch_failed: int = 0
    process: ProcessReport = field(default_factory=ProcessReport)
    alerts_raised: int = 0
    alerts_sent: int = 0
    alerts_pending: int = 0
    errors: list[str] = field(default_factory=list)


class Pipeline:
    """Everything one profile needs, built once: state, index and the stage objects."""

    def __init__(self, profile: Profile, profile_path: Path, db_path: Path | None = None) -> None:
        self.profile = profile
        self.profile_path = profile_path
        self.db_path = db_path or profile.db_path()
        self.state = State(self.db_path)
        self.poller = FeedPoller.from_profile(profile, self.state)
        self.fetcher = PageFetcher.from_profile(profile, self.state)
        self._index: ClippingIndex | None = None
        self._processor: Processor | None = None
        self._alerter: Alerter | None = None
        # An index backend that cannot be reached now (Elasticsearch down) must not stop collection: polling and
        # fetching go on into the durable queue, and the steps that need the index open it when it is back.
        try:
            self._open_index()
        except INDEX_OUTAGES as exc:
            log.error("index not available, collecting into the queue until it is: %s", exc)

    def _open_index(self) -> ClippingIndex:
        if self._index is None:
            index = open_index(self.profile, self.db_path)
            self._index = index
            self.sync_saved_searches()
        return self._index

    @property
    def index(self) -> ClippingIndex:
        """The clipping index, opened on first use (again after a failed open); raises when it is unreachable."""
        return self._open_index()

    @property
    def processor(self) -> Processor:
        if self._processor is None:
            self._processor = Processor.from_profile(self.profile, self.state, self.index)
        return self._processor

    @property
    def alerter(self) -> Alerter:
        if self._alerter is None:
            self._alerter = Alerter.from_profile(self.profile, self.state, self.index)
        return self._alerter

    def sync_saved_searches(self) -> ProfileSync:
        """Make the index's profile-origin saved searches equal the profile's `saved_searches` (on every start:
        cycle, daemon, demo). The press office's own searches are left alone. Alerting ones feed `Alerter.route`."""
        entries = [SavedSearch(id=e.id, municipality=self.profile.id, name=e.name, query=e.query, alert=e.alert,
                               origin="profile", created_by="profile") for e in self.profile.saved_searches]
        sync = sync_profile_searches(self.index, self.profile.id, entries)
        if sync.added or sync.updated or sync.removed:
            log.info("saved searches from the profile: added %s, updated %s, removed %s", list(sync.added),
                     list(sync.updated), list(sync.removed))
        return sync

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        self.state.close()

    # --- the steps, each usable as a scheduler job ---------------------------------------------------------
    def poll_feeds(self, report: CycleReport) -> None:
        self._count_polls(self.poller.poll_all(), report)

    def poll_due_feeds(self, report: CycleReport) -> None:
        """The daemon's every-minute job: only feeds whose adaptive next poll has come (crawlers/health.py)."""
        self._count_polls(self.poller.poll_due(), report)

    @staticmethod
    def _count_polls(polls: list[PollReport], report: CycleReport) -> None:
        for poll in polls:
            if poll.ok:
                report.feeds_ok += 1
            else:
                report.feeds_failed += 1
                report.errors.append(f"{poll.source}: {poll.error}")
            report.discovered += poll.new
            if poll.warning:
                report.warnings.append(f"{poll.source}: {poll.warning}")

    def crawl_sites(self, report: CycleReport) -> None:
        for site in self.profile.sources.sites:
            crawl = run_crawl(self.profile_path, site.id, self.db_path)
            report.crawls.append(crawl)
            if crawl.error:
                report.errors.append(f"{site.id}: {crawl.error}")

    def fetch_pages(self, report: CycleReport) -> None:
        fetched = self.fetcher.fetch_pending()
        report.fetched += fetched.fetched
        report.fetch_failed += fetched.failed
        report.errors += fetched.errors

    def process_queue(self, report: CycleReport) -> None:
        processed = self.processor.run_all()
        report.process = processed
        report.errors += processed.errors
        if processed.clippings:
            report.alerts_raised += len(self.alerter.route(processed.clippings))

    def deliver_alerts(self, report: CycleReport, now: datetime | None = None) -> None:
        delivered = self.alerter.deliver_pending(now or utcnow())
        report.alerts_sent += delivered.sent
        report.alerts_pending = delivered.pending
        report.errors += delivered.errors

    def send_briefing(self, day: date | None = None, now: datetime | None = None,
                      out_dir: Path | None = None) -> BriefingReport:
        now = now or utcnow()
        day = day or now.astimezone(self.profile.tz).date()
        return send_briefing(self.profile, self.index, self.state, day, now, out_dir)

    STEPS: tuple[tuple[int, str], ...] = (
        (100, "poll_feeds"),
        (200, "crawl_sites"),
        (300, "fetch_pages"),
        (400, "process_queue"),
        (500, "deliver_alerts"),
    )

    def run_once(self, on_step: Callable[[str, CycleReport], None] | None = None) -> CycleReport:
        """One full collection cycle. A failing step is reported and the next one still runs."""
        report = CycleReport()
        for _, name in sorted(self.STEPS):
            try:
                getattr(self, name)(report)
            except Exception as exc:  # noqa: BLE001 - a broken step must not stop the others
                log.exception("step %s failed", name)
                report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            if on_step:
                on_step(name, report)
        return report

