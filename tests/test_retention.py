"""Retention (pipeline/retention.py) on a real store file: exactly the old processed rows go; queued, failed and
pending work, recent rows, clippings and the once-only ledgers stay; a second run deletes nothing."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.cycle import Pipeline
from presswatch.daemon import DailyTrigger, build_scheduler, job_specs, retention_job
from presswatch.demo import effective_profile_text
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import Profile, ProfileError, parse_profile, resolve_profile_path
from presswatch.records import Discovery, RawPage, clipping_id
from presswatch.retention import run_retention
from presswatch.state import State
from tests.test_index_sqlite import T0, make

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)  # 396 days after T0 (the clippings' day 0)
MUNI = "bratislava"
PROFILE = f"""
municipality: {{id: {MUNI}, name: Bratislava, country: SK, languages: [sk], timezone: Europe/Bratislava}}
"""


def profile(extra: str = "") -> Profile:
    return parse_profile(PROFILE + extra, "town.yaml")


@dataclass
class Store:
    state: State
    index: SqliteIndex

    def page(self, name: str, state: str, processed_days_ago: float, *, indexed: bool = True,
             summary: str | None = None) -> str:
        """A fetched page in the queue, in `state`, last processed that long before NOW; its clipping indexed."""
        url = f"https://news.example/{name}"
        when = NOW - timedelta(days=processed_days_ago)
        self.state.discover([Discovery(url=url, outlet="sme", source="sme-feed", seen_at=when, feed_summary=summary)])
        self.state.enqueue(RawPage(url=url, final_url=url, outlet="sme", source="sme-feed", fetched_at=when,
                                   status=200, headers={"content-type": "text/html"}, body=b"<html>" + b"x" * 500))
        pid = clipping_id(url)
        self.state.execute("UPDATE queue SET state=?, updated_at=? WHERE id=?", (state, when.isoformat(), pid))
        if indexed:
            self.index.upsert([make(pid, f"Článok {name}", "Primátor otvoril nový most cez Dunaj.",
                                    municipality=MUNI, day=(when - T0).days)])
        return pid

    def alert(self, key: str, state: str, days_ago: float, cluster: str = "", municipality: str = MUNI) -> None:
        self.state.alert_claim(key, municipality, "critical", cluster or key, cluster or key)
        when = (NOW - timedelta(days=days_ago)).isoformat()
        self.state.execute("UPDATE alerts SET state=?, created_at=?, sent_at=? WHERE key=?",
                           (state, when, when if state == "sent" else None, key))
        if state == "sent":
            self.state.execute("INSERT INTO alert_deliveries(key, channel, sent_at) VALUES (?, 'email:a', ?)",
                               (key, when))
            self.state.execute("INSERT INTO alert_holds(key, channel, reason, held_at) VALUES (?, 'webhook:b',"
                               " 'quiet', ?)", (key, when))

    def rows(self, sql: str) -> list[str]:
        return sorted(str(r[0]) for r in self.state.execute(sql))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    state, index = State(tmp_path / "presswatch.db"), SqliteIndex(tmp_path / "presswatch.db")
    yield Store(state, index)
    index.close()
    state.close()


def fill(s: Store) -> dict[str, str]:
    ids = {
        "old_done": s.page("old-done", "done", 120, summary="Zhrnutie z feedu"),
        "mid_done": s.page("mid-done", "done", 45, summary="Zhrnutie"),
        "recent_done": s.page("recent-done", "done", 2, summary="Zhrnutie"),
        "old_queued": s.page("old-queued", "queued", 120, indexed=False),
        "old_failed": s.page("old-failed", "failed", 120, indexed=False),
        "old_unindexed": s.page("old-unindexed", "done", 120, indexed=False),
        "old_duplicate": s.page("old-duplicate", "duplicate", 120, indexed=False),
    }
    s.state.execute("INSERT INTO duplicates(page_id, url, duplicate_of, hash, recorded_at) VALUES (?,?,?,?,?)",
                    (ids["old_duplicate"], "https://news.example/old-duplicate", ids["old_done"], "h", "x"))
    s.state.discover([Discovery(url="https://news.example/never-fetched", outlet="sme", source="sme-feed",
                                seen_at=NOW - timedelta(days=200), feed_summary="still owed")])
    s.alert("old-sent", "sent", 400)
    s.alert("old-dropped", "dropped", 400)
    s.alert("old-pending", "pending", 400)
    s.alert("recent-sent", "sent", 100)
    s.alert("other-town", "sent", 400, municipality="kosice")
    # a story still alive: a copy joined its cluster 6 days ago, so its key must stay
    s.index.upsert([make("live-copy", "Most", "Primátor a most.", municipality=MUNI, cluster_id="live-story",
                         day=(NOW - timedelta(days=6) - T0).days)])
    s.alert("live-story-alert", "sent", 400, cluster="live-story")
    for day, state in (("2024-01-01", "sent"), ("2024-01-02", "pending")):
        s.state.briefing_store(MUNI, day, "sk", "Ranný prehľad", "<p>html</p>", "text")
        s.state.execute("UPDATE briefings SET state=?, sent_at=? WHERE day=?",
                        (state, "2024-01-01T06:00:00+00:00" if state == "sent" else None, day))
    return ids


@pytest.mark.parametrize("batch", [settings.RETENTION_BATCH, 2])
def test_retention_deletes_exactly_the_old_processed_rows(store: Store, batch: int) -> None:
    ids = fill(store)
    clippings = store.index.stats().clippings
    report = run_retention(store.state, profile(), NOW, batch=batch)
    assert (report.queue_rows, report.raw_pages, report.summaries, report.alerts, report.briefings) == (2, 1, 2, 2, 0)
    # queue: the done row and the duplicate past 90 days went (with its duplicate record); queued, failed and a done
    # page whose clipping is not in the index stayed; the 45-day-old page lost its body only
    left = store.rows("SELECT id FROM queue")
    assert left == sorted(ids[k] for k in ("mid_done", "recent_done", "old_queued", "old_failed", "old_unindexed"))
    assert store.rows("SELECT page_id FROM duplicates") == []
    bodies = {r["id"]: len(r["body"]) for r in store.state.execute("SELECT id, body FROM queue")}
    assert bodies[ids["mid_done"]] == 0
    assert all(bodies[ids[k]] > 0 for k in ("recent_done", "old_queued", "old_failed", "old_unindexed"))
    # discoveries: every URL stays (nothing is fetched twice); old fetched ones lost their feed summary only
    assert len(store.rows("SELECT url FROM discoveries")) == 8
    summaries = {r["url"].rsplit("/", 1)[1]: r["feed_summary"] for r in
                 store.state.execute("SELECT url, feed_summary FROM discoveries")}
    assert summaries["old-done"] is None and summaries["mid-done"] is None
    assert summaries["recent-done"] == "Zhrnutie" and summaries["never-fetched"] == "still owed"
    # alerts: settled and old went with their deliveries and holds; pending, recent, another town's and a story
    # still getting copies stayed
    assert store.rows("SELECT key FROM alerts") == ["live-story-alert", "old-pending", "other-town", "recent-sent"]
    assert store.rows("SELECT key FROM alert_deliveries") == ["live-story-alert", "other-town", "recent-sent"]
    assert store.rows("SELECT key FROM alert_holds") == ["live-story-alert", "other-town", "recent-sent"]
    # the archive: clippings and briefings untouched by default
    assert store.index.stats().clippings == clippings
    assert store.rows("SELECT day FROM briefings") == ["2024-01-01", "2024-01-02"]
    # idempotent
    again = run_retention(store.state, profile(), NOW, batch=batch)
    assert again.total == 0


def test_briefings_go_only_when_the_profile_says_so(store: Store) -> None:
    fill(store)
    report = run_retention(store.state, profile("retention: {briefings_days: 365}\n"), NOW)
    assert report.briefings == 1
    assert store.rows("SELECT day FROM briefings") == ["2024-01-02"], "a pending briefing is still owed"


def test_alert_keys_outlive_the_clustering_window_whatever_the_profile_says() -> None:
    with pytest.raises(ProfileError, match="alerts_days"):
        profile("retention: {alerts_days: 3}\n")
    with pytest.raises(ProfileError, match="queue_done_days must be at least raw_pages_days"):
        profile("retention: {raw_pages_days: 60, queue_done_days: 30}\n")
    keep = profile("retention: {raw_pages_days: 7, queue_done_days: 14, alerts_days: 30}\n").retention
    assert (keep.raw_pages_days, keep.queue_done_days, keep.alerts_days, keep.briefings_days) == (7, 14, 30, None)
    assert settings.RETENTION_ALERTS_MIN_DAYS * 86400 > 7 * 86400  # process.CLUSTER_WINDOW is 7 days


def test_daemon_runs_retention_daily_under_the_profile(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = resolve_profile_path("demo").read_text(encoding="utf-8")
    path = tmp_path / "profile.yaml"
    path.write_text(effective_profile_text(text, "http://127.0.0.1:9", 2525), encoding="utf-8")
    demo = parse_profile(path.read_text(encoding="utf-8"), str(path))
    spec = next(s for s in job_specs(demo) if s.name == "retention")
    assert spec.func is retention_job and isinstance(spec.trigger, DailyTrigger)
    fire = spec.trigger.get_next_fire_time(None, datetime(2026, 12, 4, 12, tzinfo=UTC))
    assert fire is not None and fire.astimezone(demo.tz).strftime("%H:%M") == "03:30"
    pipeline = Pipeline(demo, path, tmp_path / "store.db")
    try:
        scheduler = build_scheduler(pipeline, datetime(2026, 12, 4, 12, tzinfo=UTC))
        assert scheduler.get_job(f"{demo.id}:retention") is not None
        old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
        pipeline.state.alert_claim("k", demo.id, "critical", "c", "c")
        pipeline.state.execute("UPDATE alerts SET state='sent', sent_at=?, created_at=?", (old, old))
        with caplog.at_level(logging.INFO, logger="presswatch.daemon"):
            retention_job(demo.id)
        assert pipeline.state.execute("SELECT count(*) AS n FROM alerts")[0]["n"] == 0
        assert any("retention: " in r.getMessage() and "alerts 1" in r.getMessage() for r in caplog.records)
    finally:
        pipeline.close()
