"""The daemon: scheduled jobs in the profile's time zone, a real run against the newsroom, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presswatch.cycle import Pipeline
from presswatch.daemon import build_scheduler
from presswatch.demo import effective_profile_text
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.newsroom.server import Newsroom
from presswatch.profile import parse_profile, resolve_profile_path
from tests.test_digest_support import free_port

REPO = Path(__file__).resolve().parents[1]


def test_briefing_is_scheduled_at_local_time(tmp_path: Path) -> None:
    text = resolve_profile_path("demo").read_text(encoding="utf-8")
    path = tmp_path / "profile.yaml"
    path.write_text(effective_profile_text(text, "http://127.0.0.1:9", 9), encoding="utf-8")
    profile = parse_profile(path.read_text(encoding="utf-8"), str(path))
    pipeline = Pipeline(profile, path, tmp_path / "store.db")
    try:
        # 2026-03-28 is the Saturday before Central Europe moves to summer time: 07:00 local is 06:00 UTC, and
        # the next day (after the change) 07:00 local is 05:00 UTC.
        now = datetime(2026, 3, 28, 7, 30, tzinfo=UTC)
        scheduler = build_scheduler(pipeline, now)
        scheduler.start(paused=True)
        try:
            job = scheduler.get_job("stara-horka:briefing")
            fire = job.trigger.get_next_fire_time(None, now)
            assert fire.astimezone(UTC) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
            assert fire.strftime("%H:%M") == "07:00"
            # job ids carry the municipality: one daemon can run several profiles (pipeline/daemon.py)
            assert {j.id for j in scheduler.get_jobs()} >= {f"stara-horka:{name}" for name in
                                                           ("poll_feeds", "crawl_sites", "collect", "briefing")}
            assert all(j.max_instances == 1 and j.coalesce for j in scheduler.get_jobs())
        finally:
            scheduler.shutdown(wait=False)
    finally:
        pipeline.close()


@pytest.mark.slow
def test_run_collects_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    text = resolve_profile_path("demo").read_text(encoding="utf-8")
    with Newsroom() as newsroom, LoopbackSmtp() as smtp:
        path = tmp_path / "profile.yaml"
        path.write_text(effective_profile_text(text, newsroom.base_url, smtp.port), encoding="utf-8")
        env = {**os.environ, "PRESSWATCH_DB": str(tmp_path / "store.db"), "PRESSWATCH_LANG": "en"}
        ops_port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "presswatch.cli", "run", "--profile", str(path),
                                 "--ops-port", str(ops_port)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 120
            total = 0
            while time.monotonic() < deadline:
                time.sleep(2)
                status = subprocess.run([sys.executable, "-m", "presswatch.cli", "status", "--json", "--profile",
                                         str(path)], env=env, capture_output=True, text=True, cwd=tmp_path)
                if status.returncode == 0:
                    total = json.loads(status.stdout)["clippings"]["total"]
                    if total >= 40 and smtp.messages:  # alerts go out right after the batch is indexed
                        break
            assert total >= 40, "the daemon should have polled, fetched and indexed the newsroom's articles"
            assert smtp.messages, "critical stories should have been alerted by email"
            # The operator's view of the same daemon: healthy, and the metrics count what it did.
            with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/healthz", timeout=10) as r:
                assert r.status == 200
            with urllib.request.urlopen(f"http://127.0.0.1:{ops_port}/metrics", timeout=10) as r:
                metrics = r.read().decode("utf-8")
            assert "# TYPE " in metrics and "stara-horka" in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "Stopped cleanly." in out
