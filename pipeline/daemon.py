"""`presswatch run`: the always-on service for one or more profiles (municipalities).

APScheduler (3.x) runs the pipeline's steps as jobs, each job id prefixed by its municipality (`stara-horka:collect`).
The schedule is durable: each profile's jobs live in a table of that profile's own store file (pipeline/jobstore.py),
so after a stop or a `kill -9` the next start finds what was due while it was down and runs it once (jobs coalesce,
within `settings.MISFIRE_GRACE_S`). Because stored jobs are pickled, a job is a module-level function whose only
argument is the municipality id; the running profiles (their `Pipeline`s) are looked up in this process's registry.

Jobs that touch a profile's store hold that profile's lock, so the store sees one writer at a time from this
process and a reload never swaps the pipeline under a running step; site crawls run in their own executor because
each is a subprocess that can take minutes (Twisted's reactor cannot be restarted in-process, scrapy#2941). The
queue is enriched in a worker process per profile that is replaced after WORKER_MAX_BATCHES batches, which bounds
the memory enrichment accumulates on a stream (spaCy#5083); alerts are routed here, by the parent. Every
job has `max_instances=1` and `coalesce=True`. SIGTERM and SIGINT shut the scheduler down after the running jobs
finish; a page being processed stays `queued` in the durable queue until it is done, so it is processed at the next
start. SIGHUP (or, every PROFILE_CHECK_S, a changed mtime) re-reads the profile files: an invalid edit is reported
with its file, line and key and the last good profile keeps running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import obj_to_ref

from presswatch import ops, settings
from presswatch.cycle import CycleReport, Pipeline
from presswatch.enrich.lemmas import preload as preload_lemmas
from presswatch.index import open_index
from presswatch.jobstore import SqliteJobStore
from presswatch.messages import Messages
from presswatch.process import Processor, ProcessReport
from presswatch.profile import Profile, ProfileError, load_profile
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)


class DailyTrigger(BaseTrigger):
    """Once per local day at HH:MM in a time zone, whatever the clocks do.

    CronTrigger fires twice for a time in the hour that repeats when summer time ends (02:30 on the last Sunday of
    October in Central Europe), and for a time in the hour skipped in spring it fires at a time that does not
    exist. This one takes the first occurrence of a repeated time and, for a skipped time, the moment the same
    number of minutes after the change (02:30 becomes 03:30 summer time): every local day, exactly one fire time."""

    def __init__(self, hour: int, minute: int, timezone: ZoneInfo) -> None:
        self.hour, self.minute, self.timezone = hour, minute, timezone

    def at(self, day: date) -> datetime:
        """The fire time on `day` (fold=0: the offset before a change, which resolves both cases above)."""
        naive = datetime.combine(day, time(self.hour, self.minute), tzinfo=self.timezone)
        return naive.astimezone(UTC).astimezone(self.timezone)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # APScheduler's contract (as CronTrigger): with a previous fire time, the next one after it, even if that is
        # before `now` (the scheduler counts missed runs that way and coalesces them); else the first from `now`.
        start = min(now, previous_fire_time + timedelta(microseconds=1)) if previous_fire_time else now
        first = start.astimezone(self.timezone).date() - timedelta(days=1)
        for offset in range(4):
            fire = self.at(first + timedelta(days=offset))
            if fire >= start:
                return fire
        return None  # unreachable: one of four consecutive days has a time after `start`

    def last_before(self, now: datetime) -> date:
        """The local day of the latest fire time at or before `now` (the briefing a late run is for)."""
        today = now.astimezone(self.timezone).date()
        return today if self.at(today) <= now else today - timedelta(days=1)

    def __str__(self) -> str:
        return f"daily[{self.hour:02d}:{self.minute:02d} {self.timezone.key}]"

    def __repr__(self) -> str:
        return f"<DailyTrigger ({self.hour:02d}:{self.minute:02d}, timezone='{self.timezone.key}')>"


def briefing_trigger(profile: Profile) -> DailyTrigger:
    hour, minute = (int(x) for x in profile.digest.send_at.split(":"))
    return DailyTrigger(hour, minute, profile.tz)


@dataclass
class ProfileRun:
    """One profile in the daemon: its file, its current (last good) pipeline, and the lock its jobs hold."""

    path: Path
    pipeline: Pipeline
    say: Messages
    signature: tuple[int, int] | None
    scheduler: BackgroundScheduler | None = None
    busy: threading.RLock = field(default_factory=threading.RLock)
    workers: ProcessPoolExecutor | None = None
    batches: int = 0  # batches the current worker has done (it is replaced after WORKER_MAX_BATCHES)
    standby: tuple[ProcessPoolExecutor, Future[int]] | None = None  # its replacement, warming up
    rerouted: bool = False  # reroute_recent has run since this daemon started

    @property
    def id(self) -> str:
        return self.pipeline.profile.id

    def pool(self) -> ProcessPoolExecutor:
        """The queue worker. It is replaced after WORKER_MAX_BATCHES batches (which bounds its memory) by a standby
        that warmed up in the background (spawn, imports, models and lexicons: ~3 s), and takes over only once it
        is ready, so no article waits for a cold worker; a new worker is cold only at start or after a crash."""
        if self.standby is not None and self.standby[1].done():
            old, self.workers = self.workers, self.standby[0]
            self.standby, self.batches = None, 0
            if old is not None:
                old.shutdown(wait=False)  # idle: it exits now
        if self.workers is None:
            self.workers, _ = self._spawn()
            self.batches = 0
        return self.workers

    def done_batch(self) -> None:
        self.batches += 1
        if self.batches >= max(1, settings.WORKER_MAX_BATCHES) and self.standby is None:
            self.standby = self._spawn()

    def _spawn(self) -> tuple[ProcessPoolExecutor, Future[int]]:
        # spawn, not fork: the daemon has threads and open SQLite connections a forked child must not inherit
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init,
                                   initargs=(os.getpid(),))
        warm = pool.submit(worker_warm, self.pipeline.profile, self.pipeline.db_path)

        def report(future: Future[int]) -> None:  # the first batch will say it again, with its page
            if not future.cancelled() and future.exception() is not None:
                log.error("%s: warming the queue worker failed: %s", self.id, future.exception())

        warm.add_done_callback(report)
        return pool, warm

    def close(self) -> None:
        if self.standby is not None:
            self.standby[0].shutdown(wait=True, cancel_futures=True)
            self.standby = None
        if self.workers is not None:
            self.workers.shutdown(wait=True)  # the batch in progress finishes
            self.workers = None
        self.pipeline.close()


# --- queue processing in a worker process ------------------------------------------------------------------------
# The worker keeps one Processor per profile between batches (models and lexicons load once) and is replaced by a
# fresh process after WORKER_MAX_BATCHES batches, which bounds its memory. The parent routes alerts: the ledger of
# alerts is written by one process only.
_WORKER: dict[str, tuple[str, State, Processor]] = {}


def _worker_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the daemon stops cleanly and lets the batch in progress finish.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        # A daemon killed with `kill -9` cannot stop its worker: the worker leaves by itself. Whatever batch it was
        # in stays queued (every write is one transaction), as after a crash.
        while os.getppid() == parent:
            threading.Event().wait(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def worker_warm(profile: Profile, db_path: Path) -> int:
    """Load what a batch needs (the Processor: models, lexicons, the index; the dictionaries of the profile's
    languages) before the first batch; the pid."""
    _processor(profile, db_path)
    preload_lemmas(profile.municipality.languages)
    return os.getpid()


def worker_batch(profile: Profile, db_path: Path, limit: int) -> tuple[int, ProcessReport]:
    """One batch of the queue, in the worker process: (the worker's pid, the batch's report). `profile` is the
    daemon's last good profile (the file may hold an invalid edit)."""
    return os.getpid(), _processor(profile, db_path).run(limit)


def _processor(profile: Profile, db_path: Path) -> Processor:
    fingerprint = profile.model_dump_json()
    cached = _WORKER.get(profile.id)
    if cached is None or cached[0] != fingerprint:
        if cached is not None:
            cached[2].index.close()
            cached[1].close()
        state = State(db_path)
        processor = Processor.from_profile(profile, state, open_index(profile, db_path))
        cached = _WORKER[profile.id] = (fingerprint, state, processor)
    return cached[2]


def reroute_recent(run: ProfileRun, now: datetime | None = None) -> int:
    """Claim the alerts of the clippings processed in the last ALERT_REROUTE_HOURS. A crash (`kill -9`) after a
    batch was indexed and before its alerts were claimed would otherwise lose them; claiming twice is a no-op
    (the ledger's key is the story and the rule). Returns how many alerts this claimed."""
    since = (now or utcnow()) - timedelta(hours=settings.ALERT_REROUTE_HOURS)
    pipeline = run.pipeline
    rows = pipeline.state.execute("SELECT id FROM queue WHERE state = 'done' AND updated_at >= ? ORDER BY updated_at",
                                  (since.isoformat(),))
    claimed = 0
    for start in range(0, len(rows), settings.QUEUE_BATCH):
        clippings = [c for r in rows[start:start + settings.QUEUE_BATCH] if (c := pipeline.index.get(r["id"]))]
        claimed += len(pipeline.alerter.route(clippings))
    if claimed:
        log.warning("%s: %d alert(s) of clippings processed before a crash were claimed now", run.id, claimed)
    return claimed


def process_in_worker(run: ProfileRun, limit: int = settings.QUEUE_BATCH,
                      max_batches: int | None = None) -> tuple[ProcessReport, set[int]]:
    """Drain the queue (or `max_batches` batches of it) batch by batch in the worker process and alert on each
    batch's clippings; returns the combined report and the pids of the workers that did it."""
    total, pids = ProcessReport(), set[int]()
    pipeline = run.pipeline
    batches = 0
    while pipeline.state.execute("SELECT 1 FROM queue WHERE state = 'queued' LIMIT 1"):  # no worker for nothing
        if max_batches is not None and batches >= max_batches:
            break
        batches += 1
        try:
            pid, batch = run.pool().submit(worker_batch, pipeline.profile, pipeline.db_path, limit).result()
        except BrokenProcessPool as exc:  # the worker died (a page that crashes it is parked after a few claims)
            log.error("%s: the queue worker died (%s); a new one takes over at the next run", run.id, exc)
            run.workers = None
            total.errors.append(f"queue worker died: {exc}")
            return total, pids
        pids.add(pid)
        run.done_batch()
        total.add(batch)
        for error in batch.errors:
            log.warning("%s: process_queue: %s", run.id, error)
        raised = pipeline.alerter.route(batch.clippings)
        if raised:
            log.info("%s: %d alert(s) raised", run.id, len(raised))
        if batch.outage or batch.indexed + batch.failed + batch.duplicates == 0:
            break
    return total, pids


# The profiles this process runs, by municipality id. Jobs carry only the id (they are pickled into the store).
_RUNS: dict[str, ProfileRun] = {}


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _run(municipality: str) -> ProfileRun | None:
    run = _RUNS.get(municipality)
    if run is None:
        log.warning("a job for %s, which this daemon does not run: skipped", municipality)
    return run


def _step(pipeline: Pipeline, step: str) -> CycleReport:
    report = CycleReport()
    try:
        getattr(pipeline, step)(report)
    except Exception:  # noqa: BLE001 - log and keep the daemon alive; the next run retries
        log.exception("%s: job %s failed", pipeline.profile.id, step)
        return report
    for error in report.errors:
        log.warning("%s: %s: %s", pipeline.profile.id, step, error)
    return report


# --- the jobs: module-level, one argument (the municipality id), so that the job store can keep them ------------
def collect_job(municipality: str) -> None:
    """Fetch what the feeds and crawls found, enrich it, and alert right after the batch. Polls and crawls call
    this as soon as they finish (alerts within minutes, not at the next interval)."""
    run = _run(municipality)
    if run is None:
        return
    with run.busy:
        if not run.rerouted:
            try:
                reroute_recent(run)
                run.rerouted = True
            except Exception:  # noqa: BLE001 - tried again at the next run
                log.exception("%s: re-routing recent clippings to alerts failed", municipality)
        _step(run.pipeline, "fetch_pages")
        try:
            process_in_worker(run)
        except Exception:  # noqa: BLE001 - log and keep the daemon alive; the pages stay queued
            log.exception("%s: processing the queue failed", municipality)
        _step(run.pipeline, "deliver_alerts")
        _beat(run, ops.CYCLE)


def _beat(run: ProfileRun, component: str) -> None:
    try:
        ops.heartbeat(run.pipeline.state, component)
    except Exception:  # noqa: BLE001 - a heartbeat that cannot be written shows as a stale /healthz, which is right
        log.exception("%s: writing the %s heartbeat failed", run.id, component)


def heartbeat_job(municipality: str) -> None:
    """The daemon is alive and scheduling (/healthz). Not under the profile's lock: a long batch must not make a
    healthy daemon look dead."""
    run = _run(municipality)
    if run is not None:
        _beat(run, ops.SCHEDULER)


def poll_job(municipality: str) -> None:
    """Every minute, only the feeds that are due: each feed has its own adaptive schedule in the store."""
    run = _run(municipality)
    if run is None:
        return
    with run.busy:
        found = _step(run.pipeline, "poll_due_feeds").discovered
    if found:
        collect_job(municipality)


def crawl_job(municipality: str) -> None:
    # The crawl is a subprocess that writes to the store itself; holding the lock for minutes would stall polls.
    run = _run(municipality)
    if run is None:
        return
    _step(run.pipeline, "crawl_sites")
    collect_job(municipality)


def briefing_job(municipality: str) -> None:
    """The morning briefing. A run missed while the daemon was down comes late (misfire grace): it is still the
    briefing of the day it was due, and the ledger in the store keeps it to one per day and language."""
    run = _run(municipality)
    if run is None:
        return
    with run.busy:
        pipeline = run.pipeline
        now = utcnow()
        day = briefing_trigger(pipeline.profile).last_before(now)
        try:
            report = pipeline.send_briefing(day=day, now=now)
        except Exception:  # noqa: BLE001 - the next start (or tomorrow) retries; the daemon stays up
            log.exception("%s: briefing for %s failed", municipality, day)
            return
    log.info("%s: briefing %s: sent %s, already sent %s, failed %s", municipality, day, report.sent,
             report.already_sent, report.failed)


def retention_job(municipality: str) -> None:
    """Once a day: delete the working data the profile's retention says is old (pipeline/retention.py). Under the
    profile's lock, like every job that writes the store (a reload cannot swap the pipeline under it, and no batch
    is being processed meanwhile); its deletes are transactions of settings.RETENTION_BATCH rows, so writers
    outside this process (a crawl subprocess) wait at most for one batch."""
    run = _run(municipality)
    if run is None:
        return
    from presswatch.retention import run_retention

    with run.busy:
        try:
            report = run_retention(run.pipeline.state, run.pipeline.profile, utcnow())
        except Exception:  # noqa: BLE001 - tomorrow's run retries; the daemon stays up
            log.exception("%s: retention failed", municipality)
            return
    log.info("%s: retention: %s", municipality, report)


def profile_job(municipality: str) -> None:
    """Re-read the profile file if it changed. An invalid edit is reported (file:line:key) and the last good
    profile keeps running; a valid one replaces the pipeline and the schedule follows it."""
    run = _run(municipality)
    if run is None:
        return
    signature = _signature(run.path)
    if signature == run.signature:
        return
    run.signature = signature  # an invalid file is reported once, not every minute; the next edit is read again
    try:
        profile = load_profile(run.path)
    except ProfileError as exc:
        log.error("%s", exc)
        print(run.say("run_profile_invalid", path=run.path), file=sys.stderr, flush=True)
        print(str(exc), file=sys.stderr, flush=True)
        return
    old = run.pipeline.profile
    for key, before, after in (("municipality.id", old.id, profile.id),
                               ("store", run.pipeline.db_path, profile.db_path())):
        if before != after:  # the schedule and the queue live in the store: moving them needs a restart
            log.error("%s: %s changed from %s to %s: restart to apply", run.path, key, before, after)
            print(run.say("run_profile_restart", path=run.path, key=key), file=sys.stderr, flush=True)
            return
    with run.busy:  # the next batch's worker gets the new profile (worker_batch rebuilds its Processor)
        fresh = Pipeline(profile, run.path, run.pipeline.db_path)
        stale, run.pipeline = run.pipeline, fresh
        stale.close()
    if run.scheduler is not None:
        schedule_jobs(run.scheduler, run, utcnow(), run_now=False)
    print(run.say("run_profile_reloaded", path=run.path), file=sys.stderr, flush=True)


# --- the schedule ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JobSpec:
    name: str
    func: Callable[[str], None]
    trigger: BaseTrigger
    executor: str = "default"
    run_at_start: bool = False  # run as soon as the daemon starts, not only at the next interval

    def key(self) -> tuple[Any, ...]:
        return _job_key(self.func, self.executor, self.trigger, settings.MISFIRE_GRACE_S)


def _job_key(func: Any, executor: str, trigger: BaseTrigger, grace: int | None) -> tuple[Any, ...]:
    """What makes a stored job the same as the profile's. An interval trigger's start date moves with every start,
    so only its length counts; a daily trigger's repr names its time and zone."""
    trig = trigger.interval_length if isinstance(trigger, IntervalTrigger) else repr(trigger)
    return (obj_to_ref(func), executor, type(trigger).__name__, trig, grace)


def job_specs(profile: Profile) -> list[JobSpec]:
    """The jobs of one profile (ids are `<municipality>:<name>`)."""
    specs = [
        JobSpec("poll_feeds", poll_job, IntervalTrigger(seconds=settings.FEED_DUE_CHECK_S), run_at_start=True),
        JobSpec("collect", collect_job, IntervalTrigger(seconds=settings.PROCESS_INTERVAL_S), run_at_start=True),
        JobSpec("briefing", briefing_job, briefing_trigger(profile)),
        JobSpec("profile", profile_job, IntervalTrigger(seconds=settings.PROFILE_CHECK_S)),
        JobSpec("heartbeat", heartbeat_job, IntervalTrigger(seconds=settings.HEARTBEAT_S), run_at_start=True),
        JobSpec("retention", retention_job, DailyTrigger(settings.RETENTION_AT[0], settings.RETENTION_AT[1],
                                                         profile.tz)),
    ]
    if profile.sources.sites:
        crawl_minutes = min(s.interval_minutes for s in profile.sources.sites)
        # Not run at every start (only at the first): a daemon restarted often must not crawl the sites each
        # time; a crawl missed while it was down runs once (misfire grace).
        specs.append(JobSpec("crawl_sites", crawl_job, IntervalTrigger(minutes=crawl_minutes), executor="crawl"))
    return specs


def schedule_jobs(scheduler: BackgroundScheduler, run: ProfileRun, now: datetime, run_now: bool = True) -> None:
    """Make the profile's stored jobs match its profile. A stored job that is unchanged keeps its next run time,
    which is how a run missed while the daemon was down is found (and run once) at the next start; a new or
    changed one is (re)added with its next run time computed from `now`; a job the profile no longer has goes.
    `run_now` (at start): interval jobs new to the store, and unchanged ones marked `run_at_start`, run at once."""
    store = _STORES[run.id]
    specs = job_specs(run.pipeline.profile)
    wanted = {f"{run.id}:{s.name}" for s in specs}
    for job_id in store.job_ids():
        if job_id not in wanted:
            log.info("removing job %s: the profile no longer has it", job_id)
            store.remove_job(job_id)
    for spec in specs:
        job_id = f"{run.id}:{spec.name}"
        try:
            stored = store.lookup_job(job_id)
        except Exception:  # noqa: BLE001 - e.g. stored by a version whose job function is gone: replace it
            log.warning("stored job %s cannot be restored: it is replaced", job_id, exc_info=True)
            stored = None
        same = stored is not None and spec.key() == _job_key(stored.func, stored.executor, stored.trigger,
                                                             stored.misfire_grace_time)
        if stored is not None and same:
            if run_now and spec.run_at_start and stored.next_run_time is not None and stored.next_run_time > now:
                stored.next_run_time = now  # (Job._modify needs a running scheduler)
                store.update_job(stored)
            continue
        if isinstance(spec.trigger, IntervalTrigger):
            first = now if run_now else now + spec.trigger.interval
        else:
            first = spec.trigger.get_next_fire_time(None, now)
        scheduler.add_job(spec.func, spec.trigger, args=[run.id], id=job_id, name=job_id, jobstore=run.id,
                          executor=spec.executor, next_run_time=first, replace_existing=True)
    if scheduler.running:
        scheduler.wakeup()


# Job stores by municipality, for schedule_jobs before the scheduler starts (APScheduler only looks stores up once
# it runs).
_STORES: dict[str, SqliteJobStore] = {}


def build_scheduler(pipelines: Pipeline | Sequence[Pipeline], now: datetime | None = None,
                    say: Messages | None = None) -> BackgroundScheduler:
    """One scheduler for every profile given; each profile's jobs in its own store file (alias: its id)."""
    pipelines = [pipelines] if isinstance(pipelines, Pipeline) else list(pipelines)
    ids = [p.profile.id for p in pipelines]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two profiles with the same municipality.id: {sorted(ids)}")
    _RUNS.clear()
    _STORES.clear()
    timezone: tzinfo = pipelines[0].profile.tz if len(pipelines) == 1 else UTC
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(len(pipelines)), "crawl": ThreadPoolExecutor(len(pipelines))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": settings.MISFIRE_GRACE_S},
        timezone=timezone,
    )
    start = now or utcnow()
    for pipeline in pipelines:
        run = ProfileRun(path=pipeline.profile_path, pipeline=pipeline, say=say or Messages("en"),
                         signature=_signature(pipeline.profile_path), scheduler=scheduler)
        _RUNS[run.id] = run
        store = SqliteJobStore(pipeline.db_path, prefix=f"{run.id}:")
        _STORES[run.id] = store
        scheduler.add_jobstore(store, alias=run.id)
        schedule_jobs(scheduler, run, start)
    return scheduler


def run_daemon(profile_paths: Path | Sequence[Path], say: Messages, stop: threading.Event | None = None,
               ops_port: int | None = None) -> int:
    """Run every profile's jobs until SIGTERM/SIGINT (or `stop`), with /healthz and /metrics on `ops_port`
    (default settings.OPS_PORT; 0: none)."""
    paths = [profile_paths] if isinstance(profile_paths, Path) else list(profile_paths)
    profiles = [load_profile(p) for p in paths]  # all refused before anything starts: the error names the file
    pipelines: list[Pipeline] = []
    try:
        for profile, path in zip(profiles, paths, strict=True):
            pipelines.append(Pipeline(profile, path))
        scheduler = build_scheduler(pipelines, say=say)
    except BaseException:
        for pipeline in pipelines:
            pipeline.close()
        raise
    stop = stop or threading.Event()
    reread = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        reread.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, on_hup)
    scheduler.start()
    for pipeline in pipelines:
        profile = pipeline.profile
        print(say("run_started", name=profile.municipality.name, tz=profile.municipality.timezone,
                  at=profile.digest.send_at), flush=True)
    server = _start_ops(pipelines, settings.OPS_PORT if ops_port is None else ops_port, say)
    warm_workers()
    log.info("daemon pid %s: jobs %s", os.getpid(), sorted(j.id for j in scheduler.get_jobs()))
    try:
        while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
            if reread.is_set():
                reread.clear()
                for municipality in list(_RUNS):  # the check runs as the job, under the profile's lock
                    scheduler.modify_job(f"{municipality}:profile", jobstore=municipality, next_run_time=utcnow())
    finally:
        print(say("run_stopping"), flush=True)
        if server is not None:
            server.stop()
        scheduler.shutdown(wait=True)  # running jobs finish; queued pages stay queued
        for run in _RUNS.values():
            run.close()
        print(say("run_stopped"), flush=True)
    return 0


def warm_workers(wait: bool = False) -> None:
    """Start every profile's queue worker and let it load models and lexicons now, not when the first article is
    waiting (`wait`: until it is ready)."""
    for run in _RUNS.values():
        run.pool()
        if wait and run.workers is not None:
            run.workers.submit(os.getpid).result()  # runs after the warm-up in the one-process pool


def _start_ops(pipelines: Sequence[Pipeline], port: int, say: Messages) -> ops.OpsServer | None:
    """The ops endpoint, or None: off (port 0), or the port is taken, which is reported and does not stop the
    collection (the press office's alerts matter more than the metrics)."""
    if not port:
        return None
    try:
        server = ops.start([p.db_path for p in pipelines], host=settings.OPS_HOST, port=port,
                           tz={p.profile.id: p.profile.tz for p in pipelines})
    except OSError as exc:
        print(say("run_ops_failed", host=settings.OPS_HOST, port=port, error=exc), flush=True)
        log.warning("ops endpoint not started on %s:%s: %s", settings.OPS_HOST, port, exc)
        return None
    print(say("run_ops", url=server.url), flush=True)
    return server


__all__ = ["DailyTrigger", "JobSpec", "ProfileRun", "briefing_trigger", "build_scheduler", "job_specs",
           "process_in_worker", "reroute_recent", "run_daemon", "schedule_jobs", "warm_workers", "worker_batch"]
