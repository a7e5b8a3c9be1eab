"""`presswatch status` (the issue #7 list) and `--log-json` (pipeline/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from presswatch import ops
from presswatch.cli import main
from presswatch.index.sqlite import SqliteIndex
from presswatch.logs import JsonFormatter, configure
from presswatch.messages import Messages
from presswatch.state import State
from presswatch.status import format_status
from tests.test_crawl_server import profile_yaml
from tests.test_index_sqlite import make

REPO = Path(__file__).resolve().parents[1]
SITES = "    - {id: site, outlet: o, start_urls: ['https://o.example/']}\n"


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "town.yaml"
    path.write_text(profile_yaml(feeds={"feed": "https://o.example/rss", "new": "https://n.example/rss"},
                                 sites=SITES), encoding="utf-8")
    db = tmp_path / "presswatch.db"
    monkeypatch.setenv("PRESSWATCH_DB", str(db))
    state, index = State(db), SqliteIndex(db)
    index.upsert([make("c1", "Primátor", "Text o meste.", municipality="test-town")])
    state.alert_claim("k1", "test-town", "critical", "c1", "c1")
    state.register_source("feed", "test-town", "feed", "https://o.example/rss")
    state.poll_succeeded("feed", new_items=2)
    state.register_source("site", "test-town", "site", "https://o.example/")
    state.poll_failed("site", "GET https://o.example/: HTTP 503")
    state.poll_failed("site", "GET https://o.example/: HTTP 503")
    ops.heartbeat(state)
    index.close()
    state.close()
    return path


def test_status_json_answers_the_issue_list(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--profile", str(profile), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["queue"]["depth"] == 0 and status["clippings"]["today"] == 1
    assert status["alerts"]["pending"] == 1
    by_id = {s["id"]: s for s in status["sources"]}
    assert by_id["feed"]["last_poll"] and by_id["feed"]["last_crawl"] is None and not by_id["feed"]["failing"]
    assert by_id["site"]["last_crawl"] == by_id["site"]["last_poll"] and by_id["site"]["failing"]
    assert status["failing_sources"] == ["site"]
    assert by_id["new"]["last_poll"] is None and by_id["new"]["kind"] == "feed"  # in the profile, never polled
    assert datetime.fromisoformat(status["next_briefing"]) > datetime.now(UTC)
    assert status["scheduler_heartbeat"] and status["last_cycle"] is None


@pytest.mark.parametrize("lang", ["sk", "cs", "lt", "tr", "mk", "en"])
def test_status_text_is_localised(profile: Path, lang: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--ui-lang", lang, "status", "--profile", str(profile), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    text = format_status(status, Messages(lang))
    say = Messages(lang)
    assert say("status_failing_sources", n=1, ids="site") in text
    assert say("status_today", n=1) in text
    if lang != "en":
        assert say("status_today", n=1) != Messages("en")("status_today", n=1)


def test_log_json_lines_from_the_cli(profile: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "presswatch.cli", "--log-json", "-v", "status", "--profile",
                           str(profile)], capture_output=True, text=True, timeout=60, env=dict(os.environ), cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.strip()]
    assert lines, proc.stderr
    for obj in lines:
        assert {"time", "level", "logger", "message"} <= set(obj)
        assert obj["time"].endswith("+00:00") and datetime.fromisoformat(obj["time"]).tzinfo is not None
    first = next(o for o in lines if o["logger"] == "presswatch.cli")
    assert first["level"] == "INFO" and first["command"] == "status"  # an extra field


def test_json_formatter_exception_and_one_line() -> None:
    stream = io.StringIO()
    configure(json_lines=True, level=logging.INFO, stream=stream)
    try:
        log = logging.getLogger("presswatch.test")
        try:
            raise ValueError("bad\nfeed")
        except ValueError:
            log.exception("title %s", "Forged\n{\"level\": \"INFO\"}", extra={"source": "feed", "n": 3,
                                                                             "at": datetime(2026, 1, 1)})
    finally:
        configure()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["level"] == "ERROR" and obj["message"].startswith("title Forged\n")
    assert obj["source"] == "feed" and obj["n"] == 3 and obj["at"] == "2026-01-01 00:00:00"
    assert "ValueError: bad" in obj["exception"] and "Traceback" in obj["exception"]
    assert isinstance(JsonFormatter().format(logging.makeLogRecord({"msg": "x"})), str)
