"""The daemon's durable schedule: the job store in the store file, and the briefing's trigger across DST changes."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from presswatch.cycle import Pipeline
from presswatch.daemon import DailyTrigger, build_scheduler, collect_job
from presswatch.demo import effective_profile_text
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.jobstore import SqliteJobStore
from presswatch.profile import parse_profile, resolve_profile_path
from presswatch.state import State

BRATISLAVA = ZoneInfo("Europe/Bratislava")


def test_job_store_keeps_jobs_in_the_store_file_scoped_by_prefix(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    scheduler = BackgroundScheduler(timezone=UTC)
    a, b = SqliteJobStore(db, prefix="a:"), SqliteJobStore(db, prefix="b:")
    scheduler.add_jobstore(a, alias="a")
    scheduler.add_jobstore(b, alias="b")
    scheduler.start(paused=True)
    try:
        soon = datetime.now(UTC) + timedelta(hours=1)
        scheduler.add_job(collect_job, "interval", minutes=5, args=["a"], id="a:collect", jobstore="a",
                          next_run_time=soon)
        scheduler.add_job(collect_job, "interval", minutes=5, args=["b"], id="b:collect", jobstore="b",
                          next_run_time=soon + timedelta(minutes=1))
        job = a.lookup_job("a:collect")
        assert job is not None and job.args == ("a",) and job.next_run_time == soon
        assert a.lookup_job("b:collect") is None, "a store sees only its own prefix"
        assert [j.id for j in a.get_all_jobs()] == ["a:collect"] and a.get_next_run_time() == soon
        assert a.get_due_jobs(soon - timedelta(seconds=1)) == []
        assert [j.id for j in a.get_due_jobs(soon)] == ["a:collect"]
        with pytest.raises(ConflictingIdError):
            a.add_job(job)
        job._modify(next_run_time=soon + timedelta(days=1))
        a.update_job(job)
        assert a.lookup_job("a:collect").next_run_time == soon + timedelta(days=1)  # type: ignore[union-attr]
        a.remove_all_jobs()
        with pytest.raises(JobLookupError):
            a.remove_job("a:collect")
        assert b.job_ids() == ["b:collect"], "removing a's jobs leaves b's alone"
    finally:
        scheduler.shutdown(wait=False)
    with sqlite3.connect(db) as conn:  # the same file as the queue: one table, pickled job state
        assert [r[0] for r in conn.execute("SELECT id FROM scheduler_jobs")] == ["b:collect"]


def _fires(trigger: DailyTrigger | CronTrigger, start: datetime, end: datetime) -> list[datetime]:
    fires: list[datetime] = []
    previous = None
    now = start
    for _ in range(20):  # bounded: CronTrigger can return the same time again after the fall-back hour
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire >= end:
            return fires
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)  # the scheduler asks again after running it
    return fires


@pytest.mark.parametrize(("day", "hhmm", "utc"), [
    # spring forward (02:00 CET -> 03:00 CEST) and fall back (03:00 CEST -> 02:00 CET) in 2027
    (date(2027, 3, 28), "07:00", datetime(2027, 3, 28, 5, 0, tzinfo=UTC)),
    (date(2027, 10, 31), "07:00", datetime(2027, 10, 31, 6, 0, tzinfo=UTC)),
    # 02:30 does not exist on 28 March: the same minutes after the change, 03:30 summer time
    (date(2027, 3, 28), "02:30", datetime(2027, 3, 28, 1, 30, tzinfo=UTC)),
    # 02:30 happens twice on 31 October: the first one only (CronTrigger fires at both)
    (date(2027, 10, 31), "02:30", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
])
def test_briefing_fires_once_a_day_at_local_time_across_dst(day: date, hhmm: str, utc: datetime) -> None:
    hour, minute = (int(x) for x in hhmm.split(":"))
    trigger = DailyTrigger(hour, minute, BRATISLAVA)
    start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=BRATISLAVA)
    fires = _fires(trigger, start, start + timedelta(days=5))
    by_day = [f.astimezone(BRATISLAVA).date() for f in fires]
    assert by_day == [day + timedelta(days=n) for n in range(-2, 3)], "exactly one fire per local day"
    assert utc in [f.astimezone(UTC) for f in fires]
    for fire in fires:
        if fire.astimezone(UTC) != utc or hhmm == "07:00":
            assert fire.astimezone(BRATISLAVA).strftime("%H:%M") == hhmm
    if (day, hhmm) == (date(2027, 10, 31), "02:30"):  # why DailyTrigger and not CronTrigger
        cron = _fires(CronTrigger(hour=2, minute=30, timezone=BRATISLAVA), start, start + timedelta(days=5))
        assert len([f for f in cron if f.astimezone(BRATISLAVA).date() == day]) >= 2 and len(fires) == 5
    # a late run of the day's briefing is still that day's: last_before is what the briefing job sends
    assert trigger.last_before(utc + timedelta(minutes=59)) == day
    assert trigger.last_before(utc - timedelta(minutes=1)) == day - timedelta(days=1)


def test_briefing_ledger_sends_the_dst_day_once(tmp_path: Path, smtp: LoopbackSmtp) -> None:
    text = resolve_profile_path("demo").read_text(encoding="utf-8")
    path = tmp_path / "profile.yaml"
    path.write_text(effective_profile_text(text, "http://127.0.0.1:9", smtp.port), encoding="utf-8")
    profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
    pipeline = Pipeline(profile, path, tmp_path / "store.db")
    try:
        scheduler = build_scheduler(pipeline, datetime(2027, 10, 30, 12, tzinfo=UTC))
        scheduler.start(paused=True)
        try:
            trigger = scheduler.get_job("stara-horka:briefing").trigger
            fire = trigger.get_next_fire_time(None, datetime(2027, 10, 30, 12, tzinfo=UTC))
            assert fire.astimezone(UTC) == datetime(2027, 10, 31, 6, 0, tzinfo=UTC)  # 07:00 CET, after fall-back
        finally:
            scheduler.shutdown(wait=False)
        day = trigger.last_before(fire)
        first = pipeline.send_briefing(day=day, now=fire)
        again = pipeline.send_briefing(day=trigger.last_before(fire + timedelta(hours=1)), now=fire + timedelta(hours=1))
        assert len(first.sent) == 2 and not again.sent and len(again.already_sent) == 2
        assert len([m for m in smtp.messages if m["X-Presswatch-Kind"] == "briefing"]) == 2  # sk + the English copy
    finally:
        pipeline.close()


def test_queue_is_processed_in_recycled_worker_processes(tmp_path: Path, smtp: LoopbackSmtp,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from presswatch import settings
    from presswatch.cycle import CycleReport
    from presswatch.daemon import ProfileRun, process_in_worker
    from presswatch.messages import Messages
    from presswatch.newsroom.server import Newsroom

    monkeypatch.setattr(settings, "WORKER_MAX_BATCHES", 1)  # a fresh worker process for every batch
    text = resolve_profile_path("demo").read_text(encoding="utf-8")
    with Newsroom() as newsroom:
        path = tmp_path / "profile.yaml"
        path.write_text(effective_profile_text(text, newsroom.base_url, smtp.port), encoding="utf-8")
        profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
        pipeline = Pipeline(profile, path, tmp_path / "store.db")
        run = ProfileRun(path=path, pipeline=pipeline, say=Messages("en"), signature=None)
        try:
            report = CycleReport()
            pipeline.poll_feeds(report)
            pipeline.fetch_pages(report)
            queued = pipeline.state.queue_counts()["queued"]
            assert queued >= 40
            first, pids = process_in_worker(run, limit=queued // 3 + 1, max_batches=1)
            # The batch used up the worker: a standby warms up; until it is ready the old worker still serves,
            # so no article waits for a cold process.
            assert run.standby is not None
            run.standby[1].result(timeout=120)
            second, more = process_in_worker(run, limit=queued // 3 + 1)
        finally:
            run.close()
    assert os.getpid() not in pids | more and len(pids) == 1 and pids.isdisjoint(more), (pids, more)
    processed = first
    processed.add(second)
    assert processed.indexed + processed.duplicates + processed.failed == queued
    state = State(tmp_path / "store.db")
    try:
        counts = state.queue_counts()
        assert counts["queued"] == 0
        alerts = state.alert_counts("stara-horka")
        assert alerts["pending"] + alerts["sent"] > 0, "the parent routed the workers' clippings to alerts"
    finally:
        state.close()
