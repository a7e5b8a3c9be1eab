"""APScheduler's job store in the presswatch store file (SQLite), without SQLAlchemy.

APScheduler 3 ships a job store for SQLAlchemy only; this one keeps the same contract (`BaseJobStore`) and the
same layout as `SQLAlchemyJobStore` (id, next run time as a UTC timestamp, the pickled job state) in a table of
the store file the queue and ledgers live in. The schedule therefore survives a restart or a `kill -9` exactly
as the queue does: a job's next run time is written before the scheduler waits for it, so a run missed while the
daemon was down is found due at the next start (and run once: the daemon's jobs coalesce).
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore, ConflictingIdError, JobLookupError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime

from presswatch.state import connect

TABLE = "scheduler_jobs"


class SqliteJobStore(BaseJobStore):
    """Jobs in table `scheduler_jobs` of the store file at `path`. Thread-safe: one connection, one lock.

    With `prefix`, the store sees only the jobs whose id starts with it (the daemon's `<municipality>:`): several
    profiles can share one store file, and a daemon never runs, moves or removes the jobs of a profile it does not
    run."""

    def __init__(self, path: Path, prefix: str = "", pickle_protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        super().__init__()
        self.path = path
        self.prefix = prefix
        self.pickle_protocol = pickle_protocol
        self._lock = threading.RLock()
        # Opened here, not in start(): the daemon compares the stored jobs with the profile before starting.
        self._conn: sqlite3.Connection | None = connect(path)
        self._conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (id TEXT PRIMARY KEY, next_run_time REAL,"
                           " job_state BLOB NOT NULL)")
        self._conn.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_next ON {TABLE}(next_run_time)")

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            # Shut down: nothing may be written any more (a scheduler thread that looks once more after `shutdown()`
            # finds nothing due); start() opens the store again.
            raise RuntimeError(f"job store {self.path} is shut down")
        return self._conn

    # Every statement below is scoped to the prefix by `_MINE` (ids are compared by their first characters).
    _MINE = "substr(id, 1, length(:prefix)) = :prefix"

    def _rows(self, sql: str, args: dict[str, Any] | None = None) -> list[sqlite3.Row]:
        with self._lock:
            return self._db().execute(sql, {"prefix": self.prefix, **(args or {})}).fetchall()

    def _write(self, sql: str, args: dict[str, Any] | None = None) -> int:
        with self._lock:
            return self._db().execute(sql, {"prefix": self.prefix, **(args or {})}).rowcount

    # --- the BaseJobStore contract ------------------------------------------------------------------------------
    def start(self, scheduler: BaseScheduler, alias: str) -> None:
        super().start(scheduler, alias)
        with self._lock:
            if self._conn is None:
                self._conn = connect(self.path)

    def shutdown(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def lookup_job(self, job_id: str) -> Job | None:
        rows = self._rows(f"SELECT job_state FROM {TABLE} WHERE id = :id AND {self._MINE}", {"id": job_id})
        return self._reconstitute(rows[0]["job_state"]) if rows else None

    def get_due_jobs(self, now: datetime) -> list[Job]:
        if self._conn is None:  # shut down: nothing is due any more (APScheduler's thread may look once more)
            return []
        return self._jobs("AND next_run_time <= :now", {"now": datetime_to_utc_timestamp(now)})

    def get_next_run_time(self) -> datetime | None:
        if self._conn is None:
            return None
        rows = self._rows(f"SELECT min(next_run_time) AS t FROM {TABLE} WHERE next_run_time IS NOT NULL AND {self._MINE}")
        return utc_timestamp_to_datetime(rows[0]["t"]) if rows and rows[0]["t"] is not None else None

    def get_all_jobs(self) -> list[Job]:
        jobs = self._jobs()
        self._fix_paused_jobs_sorting(jobs)
        return jobs

    def add_job(self, job: Job) -> None:
        try:
            self._write(f"INSERT INTO {TABLE}(id, next_run_time, job_state) VALUES (:id, :next, :state)",
                        {"id": job.id, "next": datetime_to_utc_timestamp(job.next_run_time), "state": self._state(job)})
        except sqlite3.IntegrityError:
            raise ConflictingIdError(job.id) from None

    def update_job(self, job: Job) -> None:
        if not self._write(f"UPDATE {TABLE} SET next_run_time = :next, job_state = :state WHERE id = :id AND {self._MINE}",
                           {"id": job.id, "next": datetime_to_utc_timestamp(job.next_run_time), "state": self._state(job)}):
            raise JobLookupError(job.id)

    def remove_job(self, job_id: str) -> None:
        if not self._write(f"DELETE FROM {TABLE} WHERE id = :id AND {self._MINE}", {"id": job_id}):
            raise JobLookupError(job_id)

    def remove_all_jobs(self) -> None:
        self._write(f"DELETE FROM {TABLE} WHERE {self._MINE}")

    # --- helpers ------------------------------------------------------------------------------------------------
    def job_ids(self) -> list[str]:
        return [str(r["id"]) for r in self._rows(f"SELECT id FROM {TABLE} WHERE {self._MINE} ORDER BY id")]

    def _state(self, job: Job) -> bytes:
        return pickle.dumps(job.__getstate__(), self.pickle_protocol)

    def _reconstitute(self, blob: bytes) -> Job:
        state = pickle.loads(blob)  # noqa: S301 - our own table in our own store file
        state["jobstore"] = self
        job = Job.__new__(Job)
        job.__setstate__(state)
        job._scheduler = self._scheduler
        job._jobstore_alias = self._alias
        return job

    def _jobs(self, where: str = "", args: dict[str, Any] | None = None) -> list[Job]:
        jobs: list[Job] = []
        broken: list[str] = []
        for row in self._rows(f"SELECT id, job_state FROM {TABLE} WHERE {self._MINE} {where} ORDER BY next_run_time",
                              args):
            try:
                jobs.append(self._reconstitute(row["job_state"]))
            except Exception:  # noqa: BLE001 - e.g. a job whose function was renamed: drop it, the daemon re-adds
                self._logger.exception("unable to restore job %r: removing it", row["id"])
                broken.append(row["id"])
        for job_id in broken:
            self._write(f"DELETE FROM {TABLE} WHERE id = :id", {"id": job_id})
        return jobs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({self.path}, prefix={self.prefix!r})>"


__all__ = ["SqliteJobStore", "TABLE"]
