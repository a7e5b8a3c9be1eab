"""`presswatch run` as a real process: a restart after a missed briefing, several profiles, `kill -9` at several
moments, SIGTERM, and a profile edited while it runs. Real subprocesses, store files, signals, the local newsroom
and a loopback SMTP server."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from presswatch.cycle import Pipeline
from presswatch.daemon import build_scheduler
from presswatch.demo import effective_profile_text
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.jobstore import SqliteJobStore
from presswatch.newsroom.server import Newsroom
from presswatch.profile import parse_profile, resolve_profile_path

DEAD = "http://127.0.0.1:9"  # nothing listens there: polls fail at once


def write_profile(path: Path, base_url: str, smtp_port: int, sites: bool = True, **replace: str) -> Path:
    text = effective_profile_text(resolve_profile_path("demo").read_text(encoding="utf-8"), base_url, smtp_port)
    if not sites:  # no newsroom: a crawl of nothing would only retry (and a clean stop waits for a running crawl)
        text = text[:text.index("  sites:\n")] + text[text.index("  releases:\n"):]
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


class Daemon:
    """`presswatch run` in a subprocess; stdout and stderr go to files so the test can read them while it runs."""

    def __init__(self, tmp: Path, profiles: list[Path], env: dict[str, str]) -> None:
        args = [sys.executable, "-m", "presswatch.cli", "run"]
        for p in profiles:
            args += ["--profile", str(p)]
        self.out_path, self.err_path = tmp / f"out.{time.monotonic_ns()}", tmp / f"err.{time.monotonic_ns()}"
        self._out: IO[str] = self.out_path.open("w")
        self._err: IO[str] = self.err_path.open("w")
        self.proc = subprocess.Popen(args, env={**os.environ, "PRESSWATCH_LANG": "en", **env}, stdout=self._out,
                                     stderr=self._err, text=True, cwd=tmp)

    @property
    def out(self) -> str:
        return self.out_path.read_text(encoding="utf-8")

    @property
    def err(self) -> str:
        return self.err_path.read_text(encoding="utf-8")

    def wait_for(self, what: Callable[[], Any], timeout: float = 30, step: float = 0.2) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            assert self.proc.poll() is None, f"the daemon exited early:\n{self.out}\n{self.err}"
            time.sleep(step)
        raise AssertionError(f"timed out waiting\nstdout:\n{self.out}\nstderr:\n{self.err[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._out.close()
        self._err.close()
        return code


def query(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # a table not created yet
        return []
    finally:
        conn.close()


def counts(db: Path) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    out.update({f"queue_{s}": n for s, n in query(db, "SELECT state, count(*) FROM queue GROUP BY state")})
    out.update({f"alerts_{s}": n for s, n in query(db, "SELECT state, count(*) FROM alerts GROUP BY state")})
    out["discovered"] = sum(n for (n,) in query(db, "SELECT count(*) FROM discoveries"))
    out["unfetched"] = sum(n for (n,) in query(db, "SELECT count(*) FROM discoveries WHERE fetched_at IS NULL"
                                                   " AND fetch_attempts < 3"))
    out["clippings"] = sum(n for (n,) in query(db, "SELECT count(*) FROM clip_clippings"))
    return out


def briefings(smtp: LoopbackSmtp) -> list[Any]:
    return [m for m in smtp.messages if m["X-Presswatch-Kind"] == "briefing"]


def test_missed_briefing_runs_once_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    now = datetime.now(UTC)
    with LoopbackSmtp() as smtp:
        # The briefing was due 10 minutes ago; the daemon last ran before that (20 minutes ago) and was stopped.
        send_at = (now - timedelta(minutes=10)).astimezone(parse_profile(
            resolve_profile_path("demo").read_text(encoding="utf-8")).tz).strftime("%H:%M")
        path = write_profile(tmp_path / "profile.yaml", DEAD, smtp.port, sites=False,
                             **{"send_at: '07:00'": f"send_at: '{send_at}'"})
        profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
        pipeline = Pipeline(profile, path, db)
        scheduler = build_scheduler(pipeline, now - timedelta(minutes=20))
        scheduler.start(paused=True)  # writes the jobs to the store, with the briefing's next run time
        scheduler.shutdown(wait=False)
        pipeline.close()
        due = SqliteJobStore(db, prefix="stara-horka:").lookup_job("stara-horka:briefing")
        assert due is not None and due.next_run_time < now, "the briefing's run was missed"

        daemon = Daemon(tmp_path, [path], {"PRESSWATCH_DB": str(db)})
        sent = daemon.wait_for(lambda: len(briefings(smtp)) >= 2)  # the missed run, once: sk and the English copy
        assert daemon.stop() == 0, daemon.err
        assert "Stopped cleanly." in daemon.out
        after = SqliteJobStore(db, prefix="stara-horka:").lookup_job("stara-horka:briefing")
        assert after is not None and after.next_run_time > now + timedelta(hours=20), "next: tomorrow"

        again = Daemon(tmp_path, [path], {"PRESSWATCH_DB": str(db)})  # a second restart sends nothing more
        again.wait_for(lambda: "running for" in again.out)
        time.sleep(2)
        assert again.stop() == 0, again.err
        assert sent and len(briefings(smtp)) == 2
        assert query(db, "SELECT state, count(*) FROM briefings GROUP BY state") == [("sent", 2)]


def test_two_profiles_in_one_daemon(tmp_path: Path) -> None:
    with Newsroom() as newsroom, LoopbackSmtp() as smtp:
        a, b = tmp_path / "a.db", tmp_path / "b.db"
        store = "store: {path: presswatch.db, backend: sqlite}"
        pa = write_profile(tmp_path / "a.yaml", newsroom.base_url, smtp.port, **{store: f"store: {{path: {a}}}"})
        pb = write_profile(tmp_path / "b.yaml", newsroom.base_url, smtp.port, **{
            store: f"store: {{path: {b}}}", "\n  id: stara-horka\n": "\n  id: horka-b\n", "send_at: '07:00'":
            "send_at: '06:30'"})
        daemon = Daemon(tmp_path, [pa, pb], {})
        try:
            daemon.wait_for(lambda: counts(a)["clippings"] >= 40 and counts(b)["clippings"] >= 40, timeout=90)
        finally:
            code = daemon.stop()
        assert code == 0, daemon.err
        assert daemon.out.count("running for") == 2 and "Stopped cleanly." in daemon.out
        assert query(a, "SELECT DISTINCT municipality FROM clip_clippings") == [("stara-horka",)]
        assert query(b, "SELECT DISTINCT municipality FROM clip_clippings") == [("horka-b",)]
        for db, mid, at in ((a, "stara-horka", "07:00"), (b, "horka-b", "06:30")):
            ids = [r[0] for r in query(db, "SELECT id FROM scheduler_jobs ORDER BY id")]
            assert ids and all(i.startswith(f"{mid}:") for i in ids), ids
            job = SqliteJobStore(db, prefix=f"{mid}:").lookup_job(f"{mid}:briefing")
            assert job is not None and at in repr(job.trigger)  # each profile its own settings


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _kill_when(daemon: Daemon, ready: Callable[[], bool], timeout: float = 45) -> list[int]:
    daemon.wait_for(ready, timeout=timeout, step=0.05)
    children = _children(daemon.proc.pid)  # the queue worker and its resource tracker, the crawl subprocess
    assert daemon.stop(signal.SIGKILL) == -signal.SIGKILL
    return children


@pytest.mark.slow
def test_kill_9_at_any_moment_loses_and_repeats_nothing(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    env = {"PRESSWATCH_DB": str(db)}
    with Newsroom() as newsroom, LoopbackSmtp() as smtp:
        path = write_profile(tmp_path / "profile.yaml", newsroom.base_url, smtp.port)
        # 1: right after the first discoveries (polling and fetching); 2: while the queue is being processed;
        # 3: while alerts go out (or, if they all went already, at once)
        moments: list[Callable[[], bool]] = [
            lambda: counts(db)["discovered"] > 0,
            lambda: counts(db)["queue_done"] > 0 and counts(db)["queue_queued"] > 0,
            lambda: counts(db)["alerts_sent"] > 0 or counts(db)["unfetched"] + counts(db)["queue_queued"] == 0,
        ]
        kills, orphans = [], []
        for ready in moments:
            daemon = Daemon(tmp_path, [path], env)
            orphans += _kill_when(daemon, ready)
            kills.append(dict(counts(db)))
        daemon = Daemon(tmp_path, [path], env)
        try:
            daemon.wait_for(lambda: "running for" in daemon.out)  # signal handlers are in place from here on
            daemon.wait_for(lambda: (c := counts(db))["discovered"] > 0 and c["unfetched"] == 0
                            and c["queue_queued"] == 0 and c["clippings"] >= 40, timeout=60)
            time.sleep(1.5)  # the batch's alerts go out right after it is indexed
        finally:
            code = daemon.stop()  # SIGTERM: finishes what runs, exit 0
        assert code == 0, daemon.err
        assert "Stopping" in daemon.out and "Stopped cleanly." in daemon.out

    # what a killed daemon started does not outlive it for long (the worker watches its parent)
    deadline = time.monotonic() + 15
    while (alive := [p for p in orphans if Path(f"/proc/{p}").exists()]) and time.monotonic() < deadline:
        time.sleep(0.2)
    zombie = [p for p in alive if "multiprocessing.spawn" in Path(f"/proc/{p}/cmdline").read_bytes().decode()]
    assert not zombie, f"queue workers left running after kill -9: {zombie}"

    final = counts(db)
    assert final["queue_queued"] == 0 and final["unfetched"] == 0, (kills, final)
    # every page fetched became exactly one clipping: ids are unique and match the processed pages
    assert query(db, "SELECT count(*), count(DISTINCT id) FROM clip_clippings")[0] == (final["clippings"],) * 2
    assert final["clippings"] == final["queue_done"], (kills, final)
    assert not query(db, "SELECT id FROM clip_clippings EXCEPT SELECT id FROM queue WHERE state='done'")
    # no alert twice: one Message-ID per alert key and recipient list (a crash between the server's acceptance and
    # the ledger can only resend the same message, which mail clients collapse), and what the ledger says was sent
    # reached the server
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for m in smtp.messages:
        for key in (m["X-Presswatch-Alert"] or "").split():
            seen[(key, str(m["To"]))].add(str(m["Message-ID"]))
    assert seen and all(len(ids) == 1 for ids in seen.values()), seen
    sent_keys = {k for (k,) in query(db, "SELECT key FROM alerts WHERE state='sent'")}
    assert sent_keys and sent_keys <= {k for k, _ in seen}
    assert len(briefings(smtp)) <= 2  # at most once (sk + English copy), if 07:00 local fell into the test


def test_profile_edited_while_running(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    path = write_profile(tmp_path / "profile.yaml", DEAD, 9, sites=False)
    good = path.read_text(encoding="utf-8")
    line = good[:good.index("send_at:")].count("\n") + 1
    daemon = Daemon(tmp_path, [path], {"PRESSWATCH_DB": str(db)})
    try:
        daemon.wait_for(lambda: "running for" in daemon.out)
        path.write_text(good.replace("send_at: '07:00'", "send_at: '7 am'"), encoding="utf-8")
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(lambda: "digest.send_at" in daemon.err)
        assert f"{path}:{line}: digest.send_at: expected a time as HH:MM" in daemon.err
        assert "last good version" in daemon.err and daemon.proc.poll() is None

        path.write_text(good.replace("send_at: '07:00'", "send_at: '06:15'"), encoding="utf-8")
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait_for(lambda: "profile reloaded" in daemon.err)
        job = SqliteJobStore(db, prefix="stara-horka:").lookup_job("stara-horka:briefing")
        assert job is not None and "06:15" in repr(job.trigger)
        assert job.next_run_time.astimezone(job.trigger.timezone).strftime("%H:%M") == "06:15"
    finally:
        code = daemon.stop()
    assert code == 0, daemon.err
    assert "Stopped cleanly." in daemon.out
