"""The ops endpoint (pipeline/ops.py) against a real store file and a real server on 127.0.0.1."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import ops
from presswatch.index.sqlite import SqliteIndex
from presswatch.records import RawPage
from presswatch.state import State
from tests.test_index_sqlite import make

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Text format 0.0.4, strictly: every sample line `name{labels} value`, each name with HELP and TYPE first."""
    helped: set[str] = set()
    typed: dict[str, str] = {}
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge"), line
            typed[name] = kind
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            name = m.group(1)
            assert name in helped and name in typed, f"{name} has no HELP/TYPE before it"
            labels = dict(LABEL.findall(m.group(2) or ""))
            samples.setdefault(name, []).append((labels, float(m.group(3))))
    return samples


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    hits = [v for lab, v in samples[name] if all(lab.get(k) == want for k, want in labels.items())]
    assert len(hits) == 1, (name, labels, samples.get(name))
    return hits[0]


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8")


def _page(n: int) -> RawPage:
    url = f"https://o.example/2026/12/{n}/"
    return RawPage(url=url, final_url=url, outlet="o", source="feed-o", fetched_at=datetime.now(UTC), status=200,
                   headers={"content-type": "text/html"}, body=b"<html></html>")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A store with 3 queued pages (1 done, 1 failed), 3 clippings of two towns (one indexed two days ago), alerts
    pending and sent, a sent briefing, a healthy and a failing source, and fresh heartbeats."""
    path = tmp_path / "presswatch.db"
    state, index = State(path), SqliteIndex(path)
    for n in range(5):
        state.enqueue(_page(n))
    state.execute("UPDATE queue SET state='done' WHERE url LIKE '%/0/'")
    state.execute("UPDATE queue SET state='failed' WHERE url LIKE '%/1/'")
    old = datetime.now(UTC) - timedelta(days=2)
    index.upsert([make("c1", "Primátor", "Text o meste.", municipality="town-a"),
                  replace(make("c2", "Rada", "Iný text.", municipality="town-a"), indexed_at=old),
                  make("c3", "Starosta", "Text.", municipality='town "b"')])
    for key, state_name in (("k1", "pending"), ("k2", "pending"), ("k3", "sent")):
        state.alert_claim(key, "town-a", "critical", "c1", "c1")
        if state_name == "sent":
            state.alert_sent(key, "<m@x>")
    state.briefing_store("town-a", "2026-12-03", "sk", "Prehľad", "<p/>", "text")
    state.briefing_sent("town-a", "2026-12-03", "sk")
    state.register_source("feed-o", "town-a", "feed", "https://o.example/rss")
    state.poll_succeeded("feed-o", new_items=4)
    state.register_source("site-p", "town-a", "site", "https://p.example/")
    for _ in range(3):
        state.poll_failed("site-p", "GET https://p.example/: HTTP 503")
    ops.heartbeat(state)
    ops.heartbeat(state, ops.CYCLE)
    index.close()
    state.close()
    return path


def test_metrics_and_healthz_from_a_real_store(db: Path) -> None:
    from zoneinfo import ZoneInfo

    with ops.start(db, port=0, tz={"town-a": ZoneInfo("Europe/Bratislava")}) as server:
        assert server.address[0] == "127.0.0.1"
        status, ctype, text = get(server.url + "/metrics")
        health = get(server.url + "/healthz")
        missing = get(server.url + "/nope")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    s = parse_prometheus(text)
    assert value(s, "presswatch_queue_items", state="queued", store=str(db.resolve())) == 3
    assert value(s, "presswatch_queue_items", state="done") == 1
    assert value(s, "presswatch_queue_items", state="failed") == 1
    assert value(s, "presswatch_clippings_total", municipality="town-a") == 2
    assert value(s, "presswatch_clippings_today", municipality="town-a") == 1
    assert value(s, "presswatch_clippings_total", municipality='town \\"b\\"') == 1  # label escaped
    assert value(s, "presswatch_alerts", municipality="town-a", state="pending") == 2
    assert value(s, "presswatch_alerts", municipality="town-a", state="sent") == 1
    assert value(s, "presswatch_briefings_sent_total", municipality="town-a") == 1
    assert value(s, "presswatch_source_consecutive_failures", source="site-p", municipality="town-a") == 3
    assert value(s, "presswatch_source_consecutive_failures", source="feed-o") == 0
    assert value(s, "presswatch_source_last_success_timestamp_seconds", source="site-p") == 0
    now = datetime.now(UTC).timestamp()
    assert now - 60 < value(s, "presswatch_source_last_success_timestamp_seconds", source="feed-o") <= now
    assert now - 60 < value(s, "presswatch_last_cycle_timestamp_seconds") <= now
    assert health == (200, "text/plain; charset=utf-8", "ok\n")
    assert missing[0] == 404


def test_healthz_is_503_when_the_heartbeat_is_stale(db: Path) -> None:
    state = State(db)
    ops.heartbeat(state, at=datetime.now(UTC) - timedelta(seconds=ops.HEARTBEAT_MAX_AGE_S + 30))
    state.close()
    with ops.start(db) as server:
        status, _, text = get(server.url + "/healthz")
        metrics = get(server.url + "/metrics")
    assert status == 503 and text.startswith("scheduler heartbeat stale: last at ") and "limit" in text
    assert metrics[0] == 200  # the numbers are still served: they say what went stale


def test_healthz_without_heartbeat_or_store(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    State(fresh).close()  # the daemon never ran here
    with ops.start(fresh) as server:
        assert get(server.url + "/healthz")[:3:2] == (503, "no scheduler heartbeat in the store yet (is presswatch"
                                                           " run running?)\n")
        assert parse_prometheus(get(server.url + "/metrics")[2])["presswatch_queue_items"]
    missing = tmp_path / "missing.db"
    with ops.start(missing) as server:
        status, _, text = get(server.url + "/healthz")
    assert status == 503 and text.startswith("store not readable: ") and str(missing) in text
    assert not missing.exists()  # read-only: the endpoint never creates a store


def test_next_briefing_is_the_next_send_time_in_the_profile_zone() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Bratislava")
    assert ops.next_briefing("07:00", tz, datetime(2026, 12, 4, 5, 0, tzinfo=UTC)) == datetime(2026, 12, 4, 6, 0,
                                                                                               tzinfo=UTC)
    assert ops.next_briefing("07:00", tz, datetime(2026, 12, 4, 6, 0, tzinfo=UTC)) == datetime(2026, 12, 5, 6, 0,
                                                                                               tzinfo=UTC)


def test_several_stores_one_family_each_and_health_names_the_bad_store(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other" / "presswatch.db"
    state = State(other)
    state.enqueue(_page(9))
    ops.heartbeat(state, at=datetime.now(UTC) - timedelta(hours=1))
    state.close()
    with ops.start([db, other, db.parent / "." / db.name]) as server:  # the same file twice counts once
        assert len(server.stores) == 2
        text = get(server.url + "/metrics")[2]
        status, _, reason = get(server.url + "/healthz")
    assert text.count("# TYPE presswatch_queue_items gauge") == 1
    s = parse_prometheus(text)
    assert value(s, "presswatch_queue_items", state="queued", store=str(other.resolve())) == 1
    assert value(s, "presswatch_queue_items", state="queued", store=str(db.resolve())) == 3
    assert status == 503 and reason.startswith(f"{other.resolve()}: scheduler heartbeat stale")
    assert str(db.resolve()) not in reason
