"""`presswatch status`: what the store holds, as a dict (for --json) and as text."""

from __future__ import annotations

from typing import Any

from presswatch.index import open_index
from presswatch.messages import Messages
from presswatch.profile import Profile
from presswatch.state import State


def collect_status(profile: Profile) -> dict[str, Any]:
    path = profile.db_path()
    state = State(path)
    index = open_index(profile, path)
    try:
        stats = index.stats(profile.id)
        return {
            "municipality": profile.id,
            "name": profile.municipality.name,
            "store": str(path),
            "clippings": {"total": stats.clippings, "relevant": stats.relevant, "critical": stats.critical,
                          "misleading": stats.misleading, "by_lang": stats.by_lang,
                          "newest": stats.newest.isoformat() if stats.newest else None},
            "clusters": stats.clusters,
            "duplicates": state.duplicate_count(),  # exact copies recorded, not indexed (process.py)
            "alerts": state.alert_counts(profile.id),
            "briefings": state.briefing_counts(profile.id),
            "queue": state.queue_counts(),
            "sources": [
                {"id": s.id, "kind": s.kind, "url": s.url,
                 "last_poll": s.last_poll.isoformat() if s.last_poll else None,
                 "last_success": s.last_success.isoformat() if s.last_success else None,
                 "last_error": s.last_error, "consecutive_failures": s.consecutive_failures,
                 "items_total": s.items_total}
                for s in state.sources(profile.id)
            ],
        }
    finally:
        index.close()
        state.close()


def format_status(status: dict[str, Any], say: Messages) -> str:
    c = status["clippings"]
    lines = [
        say("status_title", name=status["name"]),
        say("store_at", path=status["store"]),
        say("status_clippings", total=c["total"], relevant=c["relevant"], critical=c["critical"],
            misleading=c["misleading"]),
        say("status_clusters", n=status["clusters"]),
        say("status_duplicates", n=status["duplicates"]),
        say("status_alerts", sent=status["alerts"]["sent"], pending=status["alerts"]["pending"]),
        say("status_briefings", n=status["briefings"]["sent"]),
        say("status_queue", **status["queue"]),
        say("status_sources"),
    ]
    for s in status["sources"]:
        if s["last_poll"] is None:
            health = say("source_never")
        elif s["consecutive_failures"]:
            health = say("source_failing", n=s["consecutive_failures"], error=(s["last_error"] or "")[:80])
        else:
            health = say("source_ok") + (f" — {s['last_error'][:100]}" if s["last_error"] else "")
        poll = (s["last_poll"] or "-")[:19].replace("T", " ")
        lines.append(say("status_source_line", id=s["id"], kind=s["kind"], poll=poll, health=health))
    return "\n".join(lines)
