"""Retention: the working data of a store stops growing; the archive stays (issue #7).

What is deleted, and after how long (the profile's `retention`, defaults in settings.py):
- a processed page's HTML body and headers (queue rows `done` or `duplicate`) after `raw_pages_days`; the row stays
  until `queue_done_days`, then goes with its `duplicates` record. Queued and failed rows are never touched (they
  are still owed work, or the evidence of why it failed), nor is a page whose clipping is not in the index;
- a settled alert (sent, dropped, failed; never pending) with its deliveries and holds after `alerts_days` (at least
  settings.RETENTION_ALERTS_MIN_DAYS: the key is the story's once-only guarantee, and copies join a story within
  the clustering window), and never while its story still got a copy in that time;
- a fetched URL's feed summary after `raw_pages_days` (the discovery row itself is kept: it is what keeps the URL
  from being fetched again, and sitemaps list old articles for years);
- sent briefings only if `briefings_days` is set (default: kept, they are the archive of what leadership read).

Kept: clippings (the archive; the index interface has no delete, so there is no clipping horizon), the status
history, feedback, the official record, source health, revisions and content hashes (small, keyed ledgers the
once-only guarantees depend on), job and heartbeat rows (one per job or component).

Every delete is a transaction of at most settings.RETENTION_BATCH rows, so the daemon's other jobs wait at most one
batch. The space is reused by SQLite for new rows; `PRAGMA incremental_vacuum` returns it to the file system only
for a store created with auto_vacuum=INCREMENTAL. VACUUM is never run here (it locks and rewrites the live store).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from presswatch import settings
from presswatch.profile import Profile
from presswatch.state import State

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RetentionReport:
    raw_pages: int = 0  # bodies dropped from processed queue rows
    queue_rows: int = 0  # processed queue rows deleted
    summaries: int = 0  # feed summaries forgotten on fetched discoveries
    alerts: int = 0  # settled alerts deleted (with their deliveries and holds)
    briefings: int = 0  # sent briefings deleted (only with retention.briefings_days)
    pages_freed: int = 0  # pages given back to the file system (auto_vacuum=INCREMENTAL stores only)

    @property
    def total(self) -> int:
        return self.raw_pages + self.queue_rows + self.summaries + self.alerts + self.briefings

    def __str__(self) -> str:
        return (f"raw pages {self.raw_pages}, queue rows {self.queue_rows}, feed summaries {self.summaries},"
                f" alerts {self.alerts}, briefings {self.briefings}, pages freed {self.pages_freed}")


def _drain(step: Callable[[int], int], batch: int) -> int:
    """Run one batched step until a batch comes back short; each batch is its own transaction."""
    total = 0
    while True:
        n = step(batch)
        total += n
        if n < batch:
            return total


def run_retention(state: State, profile: Profile, now: datetime, batch: int = settings.RETENTION_BATCH
                  ) -> RetentionReport:
    """Delete what the profile's retention says is old at `now` (idempotent: a second run finds nothing)."""
    keep = profile.retention
    report = RetentionReport()
    raw_before = now - timedelta(days=keep.raw_pages_days)
    queue_before = now - timedelta(days=keep.queue_done_days)
    alerts_before = now - timedelta(days=max(keep.alerts_days, settings.RETENTION_ALERTS_MIN_DAYS))
    # the queue row goes first: stripping a body that is deleted in the same run would be wasted writes
    report.queue_rows = _drain(lambda n: state.delete_processed(queue_before, n), batch)
    report.raw_pages = _drain(lambda n: state.strip_raw_pages(raw_before, n), batch)
    report.summaries = _drain(lambda n: state.slim_discoveries(raw_before, n), batch)
    quiet_since = now - timedelta(days=settings.RETENTION_ALERTS_MIN_DAYS)
    report.alerts = _drain(lambda n: state.delete_alerts(profile.id, alerts_before, n, quiet_since), batch)
    if keep.briefings_days is not None:
        briefings_before = now - timedelta(days=keep.briefings_days)
        report.briefings = _drain(lambda n: state.delete_briefings(profile.id, briefings_before, n), batch)
    if report.total:
        report.pages_freed = state.reclaim_space()
    return report


__all__ = ["RetentionReport", "run_retention"]
