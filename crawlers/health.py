"""Source health and the adaptive poll schedule: one place that says whether a source is fine, and when a feed
is polled next.

`assess` is the single judgement `presswatch sources` and the morning briefing both use, so the two never
disagree about which source is silent or broken. It returns a status and a reason *code* with its values, not a
sentence: the terminal (pipeline/locales) and the briefing (digest/locales) word it in their own languages.

`next_interval` is the schedule. A feed's interval moves between its profile `interval_minutes` times
FEED_INTERVAL_MIN_FACTOR and times FEED_INTERVAL_MAX_FACTOR: a busy feed (many new items a day) is polled about
once per new item, down to the minimum; each quiet poll (a 304, or nothing new) stretches the interval by
FEED_QUIET_GROWTH up to the maximum; a poll that brings news goes back to the rate's interval. Failures back
off exponentially (base, 2x, 4x, ...) up to FEED_BACKOFF_MAX_MINUTES, so a dead feed costs a request every few
hours, not every few minutes, and is tried again soon enough to notice it is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from presswatch import settings
from presswatch.state import SourceHealth

Status = Literal["ok", "warning", "failing", "silent"]
# Reason codes (each has a message key `health_<code>` in pipeline/locales):
#   ok: nothing to report         never_polled: not polled yet        no_items_yet: polled, no item ever
#   quiet: no new item for longer than its rate leads to expect       failed: failures in a row (+ last error)
#   warning: the last successful poll left a warning (ill-formed feed, wrong charset, redirect)
Reason = Literal["ok", "never_polled", "no_items_yet", "quiet", "failed", "warning"]


@dataclass(frozen=True, slots=True)
class Health:
    status: Status
    reason: Reason
    failures: int = 0
    error: str | None = None  # the last error or warning, as recorded
    since: datetime | None = None  # quiet: the last new item
    expected_h: float | None = None  # quiet: how long a gap would still have been normal

    def describe(self) -> str:
        """An English one-liner for logs and --json; users read the localised message instead."""
        if self.reason == "quiet" and self.since is not None:
            return f"no new item since {self.since.isoformat()} (expected within {self.expected_h or 0:.0f} h)"
        if self.reason == "failed":
            return f"{self.failures} failure(s) in a row: {self.error or ''}".strip()
        if self.reason == "warning":
            return self.error or "warning"
        return self.reason.replace("_", " ")


def expected_gap_h(items_per_day: float | None, min_h: float = settings.SOURCE_SILENT_MIN_H,
                   factor: float = settings.SOURCE_SILENT_GAP_FACTOR) -> float:
    """How long a source may go without a new item before it counts as silent: `factor` times its usual gap
    between items, never less than `min_h` (a source that publishes daily is not silent after a quiet Sunday)."""
    if not items_per_day:
        return min_h
    return max(min_h, factor * 24.0 / items_per_day)


def assess(source: SourceHealth, now: datetime, *, silent_min_h: float = settings.SOURCE_SILENT_MIN_H,
           failing_after: int = settings.SOURCE_FAILING_AFTER) -> Health:
    """ok | warning | failing | silent, with the reason. Failing outranks silent outranks warning."""
    if source.consecutive_failures >= failing_after:
        return Health("failing", "failed", failures=source.consecutive_failures, error=source.last_error)
    if source.last_poll is None and source.last_new_item is None:
        return Health("warning", "never_polled")
    if source.last_new_item is None:
        if source.consecutive_failures:
            return Health("warning", "failed", failures=source.consecutive_failures, error=source.last_error)
        return Health("silent", "no_items_yet")
    allowed = expected_gap_h(source.items_per_day, silent_min_h)
    if now - source.last_new_item > timedelta(hours=allowed):
        return Health("silent", "quiet", failures=source.consecutive_failures, error=source.last_error,
                      since=source.last_new_item, expected_h=allowed)
    if source.consecutive_failures:
        return Health("warning", "failed", failures=source.consecutive_failures, error=source.last_error)
    if source.last_error:
        return Health("warning", "warning", error=source.last_error)
    return Health("ok", "ok")


def interval_bounds(base_minutes: float) -> tuple[float, float]:
    """(min, max) poll interval in seconds for a feed whose profile asks for `base_minutes`."""
    base = base_minutes * 60.0
    return base * settings.FEED_INTERVAL_MIN_FACTOR, base * settings.FEED_INTERVAL_MAX_FACTOR


def next_interval(base_minutes: float, *, ok: bool, new_items: int, failures: int,
                  items_per_day: float | None, previous_s: float | None) -> float:
    """Seconds until the next poll of a feed after a poll with this outcome (see the module docstring).

    `failures` is the count of failures in a row *after* this poll; `previous_s` the interval that led to it."""
    low, high = interval_bounds(base_minutes)
    base = base_minutes * 60.0
    if not ok:
        cap = max(high, settings.FEED_BACKOFF_MAX_MINUTES * 60.0)
        return min(cap, base * 2.0 ** max(0, failures))
    by_rate = base if items_per_day is None else (86400.0 / items_per_day if items_per_day > 0 else high)
    by_rate = min(high, max(low, by_rate))
    if new_items > 0 or previous_s is None:
        return by_rate
    # Quiet (304 or nothing new): stretch from where we were, never below the rate's interval.
    return min(high, max(by_rate, min(high, max(low, previous_s)) * settings.FEED_QUIET_GROWTH))


__all__ = ["Health", "assess", "expected_gap_h", "interval_bounds", "next_interval"]
