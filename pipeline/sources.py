"""`presswatch sources`: every source of a profile with its poll record, rate, schedule and health.

The health comes from crawlers/health.py `assess`, the same judgement the morning briefing uses to list silent
and broken sources. Sources named in the profile but not yet in the store are listed as never polled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from presswatch.crawlers.crawl import source_url
from presswatch.crawlers.health import Health, assess
from presswatch.messages import Messages
from presswatch.profile import Profile
from presswatch.state import SourceHealth, State, utcnow


@dataclass(frozen=True, slots=True)
class SourceView:
    id: str
    kind: str  # feed | site | release
    outlet: str
    url: str
    record: SourceHealth
    health: Health


def _profile_sources(profile: Profile) -> list[tuple[str, str, str, str]]:
    """(id, kind, outlet, url) in profile order: feeds, sites, releases."""
    return ([(f.id, "feed", f.outlet, f.url) for f in profile.sources.feeds]
            + [(s.id, "site", s.outlet, source_url(s)) for s in profile.sources.sites]
            + [(r.id, "release", r.outlet, r.url) for r in profile.sources.releases])


def source_views(profile: Profile, state: State, now: datetime | None = None) -> list[SourceView]:
    now = now or utcnow()
    stored = {h.id: h for h in state.sources(profile.id)}
    views = []
    for source_id, kind, outlet, url in _profile_sources(profile):
        record = stored.pop(source_id, None) or SourceHealth(
            id=source_id, kind=kind, url=url, last_poll=None, last_success=None, last_error=None,
            consecutive_failures=0, items_total=0, last_new_item=None)
        views.append(SourceView(source_id, kind, outlet, url, record, assess(record, now)))
    # Sources still in the store but no longer in the profile: shown, so a removed feed's history is not hidden.
    for record in stored.values():
        views.append(SourceView(record.id, record.kind, "", record.url, record, assess(record, now)))
    return views


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def to_json(views: list[SourceView]) -> list[dict[str, Any]]:
    return [{
        "id": v.id, "kind": v.kind, "outlet": v.outlet, "url": v.url,
        "last_poll": _iso(v.record.last_poll), "last_success": _iso(v.record.last_success),
        "last_new_item": _iso(v.record.last_new_item), "last_error": v.record.last_error,
        "consecutive_failures": v.record.consecutive_failures, "items_total": v.record.items_total,
        "items_per_day": None if v.record.items_per_day is None else round(v.record.items_per_day, 2),
        "next_poll_at": _iso(v.record.next_poll_at), "poll_interval_s": v.record.poll_interval_s,
        "health": {"status": v.health.status, "reason": v.health.reason, "text": v.health.describe()},
    } for v in views]


def health_text(health: Health, say: Messages, profile: Profile) -> str:
    error = " ".join((health.error or "").split())[:160]
    if health.reason == "quiet":
        since = health.since.astimezone(profile.tz).strftime("%Y-%m-%d %H:%M") if health.since else "-"
        return say("health_quiet", since=since, hours=round(health.expected_h or 0))
    if health.reason == "failed":
        return say("health_failed", n=health.failures, error=error)
    if health.reason == "warning":
        return say("health_warning", error=error)
    return say(f"health_{health.reason}")


def format_sources(profile: Profile, views: list[SourceView], say: Messages) -> str:
    tz = profile.tz

    def when(dt: datetime | None) -> str:
        return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else "-"

    lines = [say("sources_title", name=profile.municipality.name, n=len(views))]
    if not views:
        lines.append(say("sources_none"))
    for v in views:
        r = v.record
        rate = "-" if r.items_per_day is None else f"{r.items_per_day:.1f}"
        lines.append(say("sources_line", id=v.id, kind=v.kind, status=say(f"health_is_{v.health.status}"),
                         url=v.url))
        lines.append(say("sources_detail", poll=when(r.last_poll), success=when(r.last_success), rate=rate,
                         failures=r.consecutive_failures, next=when(r.next_poll_at) if v.kind != "site" else "-"))
        lines.append("    " + health_text(v.health, say, profile))
    return "\n".join(lines)


__all__ = ["SourceView", "source_views", "to_json", "format_sources", "health_text"]
