"""`presswatch status`: what the store holds, as a dict (for --json) and as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from presswatch import settings
from presswatch.index import open_index
from presswatch.messages import Messages
from presswatch.ops import CYCLE, SCHEDULER, clipping_counts, day_start, last_heartbeat, next_briefing
from presswatch.profile import Profile
from presswatch.state import State, utcnow


def collect_status(profile: Profile) -> dict[str, Any]:
    path = profile.db_path()
    state = State(path)
    index = open_index(profile, path)
    try:
        stats = index.stats(profile.id)
        now = utcnow()
        # Clippings indexed since midnight in the profile's time zone; None with the Elasticsearch backend (the
        # index is not in the store file; its count per day is a search away: presswatch search --since).
        today = clipping_counts(state, day_start(now, profile.tz)).get(profile.id, (0, 0))[1] \
            if profile.store.backend == "sqlite" else None
        sources = [
            {"id": s.id, "kind": s.kind, "url": s.url,
             "last_poll": s.last_poll.isoformat() if s.last_poll else None,
             # a site's "poll" is its crawl (crawlers/crawl.py records it on the same row)
             "last_crawl": s.last_poll.isoformat() if s.last_poll and s.kind == "site" else None,
             "last_success": s.last_success.isoformat() if s.last_success else None,
             "last_error": s.last_error, "consecutive_failures": s.consecutive_failures,
             "failing": s.consecutive_failures >= settings.SOURCE_FAILING_AFTER,
             "items_total": s.items_total}
            for s in state.sources(profile.id)
        ]
        # a source of the profile the daemon has not polled yet is listed too ("never polled"), not left out
        known = {s["id"] for s in sources}
        configured = [(f.id, "feed", f.url) for f in profile.sources.feeds] \
            + [(r.id, "release", r.url) for r in profile.sources.releases] \
            + [(x.id, "site", (x.start_urls or x.sitemaps or [""])[0]) for x in profile.sources.sites]
        sources += [{"id": sid, "kind": kind, "url": url, "last_poll": None, "last_crawl": None, "last_success": None,
                     "last_error": None, "consecutive_failures": 0, "failing": False, "items_total": 0}
                    for sid, kind, url in configured if sid not in known]
        queue = state.queue_counts()
        beat, cycle = last_heartbeat(state, SCHEDULER), last_heartbeat(state, CYCLE)
        return {
            "municipality": profile.id,
            "name": profile.municipality.name,
            "store": str(path),
            "clippings": {"total": stats.clippings, "today": today, "relevant": stats.relevant,
                          "critical": stats.critical,
                          "misleading": stats.misleading, "by_lang": stats.by_lang,
                          "newest": stats.newest.isoformat() if stats.newest else None},
            "clusters": stats.clusters,
            "duplicates": state.duplicate_count(),  # exact copies recorded, not indexed (process.py)
            "alerts": state.alert_counts(profile.id),
            "briefings": state.briefing_counts(profile.id),
            "queue": {**queue, "depth": queue["queued"]},
            "model": model_status(path, profile.id, state.feedback_count(profile.id)),
            "sources": sources,
            "failing_sources": [s["id"] for s in sources if s["failing"]],
            "next_briefing": next_briefing(profile.digest.send_at, profile.tz, now).astimezone(profile.tz).isoformat(),
            "scheduler_heartbeat": beat.isoformat() if beat else None,
            "last_cycle": cycle.isoformat() if cycle else None,
        }
    finally:
        index.close()
        state.close()


def model_status(store: Path, municipality: str, judgements_now: int) -> dict[str, Any]:
    """The press office's learned model (enrich/learn.py): whether there is one, when it was trained, the judgements
    per field, which fields it adjusts and their accuracy measured at training time."""
    from presswatch.enrich import learn  # scikit-learn is imported only when status is asked for

    out: dict[str, Any] = {"exists": False, "path": str(learn.model_path(store, municipality)), "error": None,
                           "trained_at": None, "judgements_at_training": 0, "judgements_now": judgements_now,
                           "min_per_class": settings.LEARN_MIN_PER_CLASS, "fields": {}}
    try:
        model = learn.load(store, municipality)
    except (ValueError, KeyError, OSError) as exc:  # written by another version, or damaged
        out["error"] = str(exc)
        return out
    if model is None:
        return out
    out.update(exists=True, trained_at=model.trained_at.isoformat(), judgements_at_training=model.judgements)
    for name in learn.FIELDS:
        yes, no = model.counts.get(name, (0, 0))
        fm = model.fields.get(name)
        out["fields"][name] = {"yes": yes, "no": no, "active": fm is not None,
                               "cv_accuracy": fm.cv_accuracy if fm else None,
                               "rules_accuracy": fm.rules_accuracy if fm else None}
    return out


def format_status(status: dict[str, Any], say: Messages) -> str:
    c = status["clippings"]
    lines = [
        say("status_title", name=status["name"]),
        say("store_at", path=status["store"]),
        say("status_clippings", total=c["total"], relevant=c["relevant"], critical=c["critical"],
            misleading=c["misleading"]),
        say("status_today", n="-" if c.get("today") is None else c["today"]),
        say("status_clusters", n=status["clusters"]),
        say("status_duplicates", n=status["duplicates"]),
        say("status_alerts", sent=status["alerts"]["sent"], pending=status["alerts"]["pending"]),
        say("status_briefings", n=status["briefings"]["sent"]),
        say("status_queue", **status["queue"]),
        say("status_next_briefing", at=status["next_briefing"][:16].replace("T", " ")),
        say("status_heartbeat", at=_short(status["scheduler_heartbeat"]), cycle=_short(status["last_cycle"]))
        if status["scheduler_heartbeat"] or status["last_cycle"] else say("status_heartbeat_never"),
        *_format_model(status["model"], say),
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
        key = "status_source_line_site" if s["kind"] == "site" else "status_source_line"
        lines.append(say(key, id=s["id"], kind=s["kind"], poll=poll, health=health))
    if status["failing_sources"]:
        lines.append(say("status_failing_sources", n=len(status["failing_sources"]),
                         ids=", ".join(status["failing_sources"])))
    return "\n".join(lines)


def _short(iso: str | None) -> str:
    return (iso or "-")[:19].replace("T", " ")


def _format_model(model: dict[str, Any], say: Messages) -> list[str]:
    if model["error"]:
        return [say("status_model_unreadable", error=model["error"])]
    if not model["exists"]:
        return [say("status_model_none", n=model["judgements_now"])]
    lines = [say("status_model", at=model["trained_at"][:16].replace("T", " "), n=model["judgements_at_training"],
                 new=model["judgements_now"] - model["judgements_at_training"])]
    for name, f in model["fields"].items():
        if f["active"]:
            cv = "-" if f["cv_accuracy"] is None else f"{f['cv_accuracy']:.2f}"
            rules = "-" if f["rules_accuracy"] is None else f"{f['rules_accuracy']:.2f}"
            lines.append(say("status_model_field_active", field=name, yes=f["yes"], no=f["no"], cv=cv, rules=rules))
        else:
            lines.append(say("status_model_field_rules", field=name, yes=f["yes"], no=f["no"],
                             min=model["min_per_class"]))
    return lines
