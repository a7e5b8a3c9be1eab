"""`presswatch run`: the always-on service for one profile.

APScheduler (3.x) runs the pipeline's steps as jobs. Jobs that touch the store share one single-thread executor,
so the store sees one writer at a time from this process; site crawls run in their own executor because each is
a subprocess that can take minutes (Twisted's reactor cannot be restarted in-process, scrapy#2941). Every job
has `max_instances=1` and `coalesce=True`: a slow run is never stacked, and runs missed while busy collapse into
one. SIGTERM and SIGINT shut the scheduler down after the running jobs finish; anything not processed stays in
the durable queue for the next start.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from presswatch import settings
from presswatch.cycle import CycleReport, Pipeline
from presswatch.messages import Messages
from presswatch.profile import Profile, load_profile
from presswatch.state import utcnow

log = logging.getLogger(__name__)


def build_scheduler(pipeline: Pipeline, now: datetime | None = None) -> BackgroundScheduler:
    profile: Profile = pipeline.profile
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(1), "crawl": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=profile.tz,
    )
    start = now or utcnow()

    def job(step: str) -> CycleReport:
        report = CycleReport()
        try:
            getattr(pipeline, step)(report)
        except Exception:  # noqa: BLE001 - log and keep the daemon alive; the next run retries
            log.exception("job %s failed", step)
            return report
        for error in report.errors:
            log.warning("%s: %s", step, error)
        return report

    collecting = threading.Lock()

    def collect() -> None:
        # Fetch what the feeds and crawls found, enrich it, and alert right after the batch. Polls and crawls
        # call this as soon as they finish (alerts within minutes, not at the next interval); the lock keeps two
        # threads from processing at once.
        with collecting:
            for step in ("fetch_pages", "process_queue", "deliver_alerts"):
                job(step)

    def poll() -> None:
        # Every minute, only the feeds that are due: each feed has its own adaptive schedule in the store.
        if job("poll_due_feeds").discovered:
            collect()

    def crawl() -> None:
        job("crawl_sites")
        collect()

    scheduler.add_job(collect, IntervalTrigger(seconds=settings.PROCESS_INTERVAL_S), id="collect",
                      next_run_time=start)
    scheduler.add_job(poll, IntervalTrigger(seconds=settings.FEED_DUE_CHECK_S), id="poll_feeds",
                      next_run_time=start)
    if profile.sources.sites:
        crawl_minutes = min(s.interval_minutes for s in profile.sources.sites)
        scheduler.add_job(crawl, IntervalTrigger(minutes=crawl_minutes), id="crawl_sites", executor="crawl",
                          next_run_time=start)
    hour, minute = (int(x) for x in profile.digest.send_at.split(":"))
    scheduler.add_job(pipeline.send_briefing, CronTrigger(hour=hour, minute=minute, timezone=profile.tz),
                      id="briefing")
    return scheduler


def run_daemon(profile_path: Path, say: Messages, stop: threading.Event | None = None) -> int:
    profile = load_profile(profile_path)
    pipeline = Pipeline(profile, profile_path)
    scheduler = build_scheduler(pipeline)
    stop = stop or threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    scheduler.start()
    print(say("run_started", name=profile.municipality.name, tz=profile.municipality.timezone,
              at=profile.digest.send_at), flush=True)
    try:
        while not stop.wait(1.0):  # short waits keep the main thread responsive to signals
            pass
    finally:
        print(say("run_stopping"), flush=True)
        scheduler.shutdown(wait=True)  # running jobs finish; queued pages stay queued
        pipeline.close()
        print(say("run_stopped"), flush=True)
    return 0
