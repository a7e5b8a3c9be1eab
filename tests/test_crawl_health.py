"""Per-source state, the adaptive poll schedule, source health and `presswatch sources`: real loopback servers and
real SQLite files."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from presswatch import settings
from presswatch.cli import main
from presswatch.crawlers.feeds import FeedPoller
from presswatch.crawlers.health import assess, expected_gap_h, interval_bounds, next_interval
from presswatch.crawlers.http import HttpClient
from presswatch.digest.briefing import is_silent
from presswatch.profile import parse_profile
from presswatch.state import SourceHealth, State, utcnow
from tests.test_crawl_server import Reply, Server, profile_yaml

NOW = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title>{items}</channel></rss>"""


def _rss(base: str, n: int, prefix: str = "a") -> bytes:
    items = "".join(f"<item><title>Článok {i}</title><link>{base}/{prefix}/{i}/</link></item>" for i in range(n))
    return RSS.format(items=items).encode()


def _health(**kw: object) -> SourceHealth:
    values: dict[str, object] = dict(id="s", kind="feed", url="http://x/", last_poll=NOW, last_success=NOW,
                                     last_error=None, consecutive_failures=0, items_total=5,
                                     last_new_item=NOW - timedelta(hours=1))
    values.update(kw)
    return SourceHealth(**values)  # type: ignore[arg-type]


# --- the schedule ------------------------------------------------------------------------------------------------
def test_interval_adapts_to_rate_quiet_polls_and_failures() -> None:
    low, high = interval_bounds(15)
    assert (low, high) == (15 * 60 * settings.FEED_INTERVAL_MIN_FACTOR, 15 * 60 * settings.FEED_INTERVAL_MAX_FACTOR)
    # Unknown rate: the profile's interval. A busy feed (200 items/day) is polled at the minimum.
    assert next_interval(15, ok=True, new_items=3, failures=0, items_per_day=None, previous_s=None) == 900
    assert next_interval(15, ok=True, new_items=3, failures=0, items_per_day=200, previous_s=900) == low
    # A feed with ~1 item an hour is polled about hourly, within the bounds.
    assert next_interval(15, ok=True, new_items=1, failures=0, items_per_day=24, previous_s=900) == 3600
    # Quiet polls (a 304 or nothing new) stretch the interval step by step up to the maximum...
    interval = 900.0
    steps = []
    for _ in range(6):
        interval = next_interval(15, ok=True, new_items=0, failures=0, items_per_day=None, previous_s=interval)
        steps.append(interval)
    assert steps == sorted(steps) and steps[0] == 900 * settings.FEED_QUIET_GROWTH and steps[-1] == high
    # ...and news brings it back to the rate's interval.
    assert next_interval(15, ok=True, new_items=2, failures=0, items_per_day=None, previous_s=high) == 900
    # Failures back off exponentially, capped.
    backoff = [next_interval(15, ok=False, new_items=0, failures=n, items_per_day=None, previous_s=None)
               for n in range(1, 12)]
    assert backoff[:3] == [1800, 3600, 7200]
    assert max(backoff) == backoff[-1] == settings.FEED_BACKOFF_MAX_MINUTES * 60


def test_poll_due_polls_only_due_feeds_and_backs_off_failures(tmp_path: Path) -> None:
    with Server() as srv:
        srv.routes["/a.xml"] = Reply(body=_rss(srv.base_url, 3), etag='"a"', content_type="application/rss+xml")
        srv.routes["/down.xml"] = Reply(503, b"down", "text/plain")
        profile = parse_profile(profile_yaml({"a": srv.url("/a.xml"), "down": srv.url("/down.xml")}))
        state = State(tmp_path / "store.db")
        poller = FeedPoller.from_profile(profile, state, HttpClient.from_profile(profile, timeout_s=2))
        first = poller.poll_due(utcnow())
        assert {r.source for r in first} == {"a", "down"}
        a, down = state.source("a"), state.source("down")
        assert a is not None and down is not None
        assert a.first_success is not None and a.next_poll_at is not None and a.poll_interval_s == 900
        assert down.consecutive_failures == 1 and down.poll_interval_s == 1800 and down.first_success is None
        assert poller.poll_due(utcnow()) == []  # nothing due yet: no request made
        assert srv.count("/a.xml") == 1
        # Twenty minutes later only the working feed is due; the failing one waits out its back-off.
        later = poller.poll_due(utcnow() + timedelta(minutes=20))
        assert [(r.source, r.not_modified) for r in later] == [("a", True)]
        a = state.source("a")
        assert a is not None and a.poll_interval_s == 900 * settings.FEED_QUIET_GROWTH  # a 304 is quiet
        poller.poll_due(utcnow() + timedelta(hours=1))
        down = state.source("down")
        assert down is not None and down.consecutive_failures == 2 and down.poll_interval_s == 3600
        assert assess(down, utcnow()).status == "failing"
    state.close()


def test_a_feed_due_before_the_next_check_is_polled_now_and_polls_are_spread(tmp_path: Path) -> None:
    feeds = {f"f{i}": f"/f{i}.xml" for i in range(12)}
    with Server() as srv:
        for path in feeds.values():
            srv.routes[path] = Reply(body=_rss(srv.base_url, 2), content_type="application/rss+xml")
        profile = parse_profile(profile_yaml({k: srv.url(v) for k, v in feeds.items()}))
        state = State(tmp_path / "store.db")
        poller = FeedPoller.from_profile(profile, state, HttpClient.from_profile(profile, timeout_s=2))
        start = utcnow()
        poller.poll_due(start)
        due = {fid: state.source(fid).next_poll_at for fid in feeds}  # type: ignore[union-attr]
        interval = state.source("f0").poll_interval_s  # type: ignore[union-attr]
        assert interval is not None
        # Spread: every next poll within ± FEED_JITTER of the interval, and not all in the same second.
        offsets = [(at - start).total_seconds() for at in due.values() if at is not None]
        assert all((1 - settings.FEED_JITTER) * interval - 5 <= o <= (1 + settings.FEED_JITTER) * interval + 5
                   for o in offsets)
        assert len({round(o) for o in offsets}) > 1
        # A check that comes a little before a feed's time polls it now, not a whole check later.
        first = min(at for at in due.values() if at is not None)
        early = first - timedelta(seconds=settings.FEED_DUE_EARLY_S - 1)
        polled = {r.source for r in poller.poll_due(early)}
        assert polled and polled <= set(feeds)
        assert all(due[f] is not None and due[f] <= early + timedelta(seconds=settings.FEED_DUE_EARLY_S)  # type: ignore[operator]
                   for f in polled)
        too_early = {r.source for r in poller.poll_due(early - timedelta(seconds=settings.FEED_DUE_CHECK_S * 5))}
        assert too_early == set()
    state.close()


def test_items_per_day_leaves_out_the_first_polls_backlog(tmp_path: Path) -> None:
    state = State(tmp_path / "store.db")
    state.register_source("s", "m", "feed", "http://x/")
    state.poll_succeeded("s", new_items=30)
    began = NOW - timedelta(days=3)
    state.execute("UPDATE sources SET first_success=?", (began.isoformat(),))

    def seen(i: int, at: datetime) -> None:
        state.execute("INSERT INTO discoveries(url, outlet, source, first_seen) VALUES (?,?,?,?)",
                      (f"http://x/{i}", "o", "s", at.isoformat()))

    for i in range(30):  # the first poll's backlog: found at first_success
        seen(i, began - timedelta(seconds=1))
    for i in range(30, 36):  # six new items over the three days since
        seen(i, began + timedelta(hours=10 * (i - 29)))
    seen(99, NOW + timedelta(hours=1))  # not yet (a clock skew) is not counted either
    assert state.items_per_day("s", began, NOW) == pytest.approx(2.0)
    assert state.items_per_day("s", began, NOW, window_days=1) == pytest.approx(2.0)  # 22 h and 12 h ago
    assert state.items_per_day("s", NOW - timedelta(hours=5), NOW) is None  # watched too briefly
    state.close()


def test_an_old_store_gets_the_new_source_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sources (id TEXT PRIMARY KEY, municipality TEXT NOT NULL, kind TEXT NOT NULL,"
                 " url TEXT NOT NULL, etag TEXT, last_modified TEXT, last_poll TEXT, last_success TEXT,"
                 " last_error TEXT, consecutive_failures INTEGER NOT NULL DEFAULT 0,"
                 " items_total INTEGER NOT NULL DEFAULT 0, last_new_item TEXT)")
    conn.execute("INSERT INTO sources(id, municipality, kind, url) VALUES ('s', 'm', 'feed', 'http://x/')")
    conn.commit()
    conn.close()
    state = State(path)
    state.schedule("s", NOW, 900)
    s = state.source("s")
    assert s is not None and s.next_poll_at == NOW and s.poll_interval_s == 900
    state.close()


# --- health ------------------------------------------------------------------------------------------------------
def test_assess_names_failing_silent_and_warning_sources() -> None:
    assert assess(_health(), NOW).status == "ok"
    assert assess(_health(last_poll=None, last_success=None, last_new_item=None), NOW).reason == "never_polled"
    assert assess(_health(last_new_item=None), NOW).status == "silent"
    one = assess(_health(consecutive_failures=1, last_error="HTTP 503"), NOW)
    assert (one.status, one.reason, one.error) == ("warning", "failed", "HTTP 503")  # one failure is a blip
    two = assess(_health(consecutive_failures=2, last_error="HTTP 503"), NOW)
    assert (two.status, two.failures) == ("failing", 2)
    warned = assess(_health(last_error="declared encoding is wrong, read as utf-8"), NOW)
    assert (warned.status, warned.reason) == ("warning", "warning")
    # Silence is judged against the source's own rate, never sooner than 48 hours.
    busy = _health(last_new_item=NOW - timedelta(hours=50), items_per_day=40.0)
    assert assess(busy, NOW).status == "silent" and assess(busy, NOW).expected_h == 48
    weekly = _health(last_new_item=NOW - timedelta(days=4), items_per_day=1 / 7)
    assert assess(weekly, NOW).status == "ok"  # a weekly source is not silent after 4 days
    assert assess(_health(last_new_item=NOW - timedelta(days=22), items_per_day=1 / 7), NOW).status == "silent"
    assert expected_gap_h(1.0) == 72 and expected_gap_h(None) == settings.SOURCE_SILENT_MIN_H
    # The briefing lists exactly what `presswatch sources` calls silent or failing (plus never-polled sources).
    assert not is_silent(_health(consecutive_failures=1), NOW) and is_silent(busy, NOW)
    assert not is_silent(weekly, NOW)


# --- presswatch sources -------------------------------------------------------------------------------------------
def test_sources_command_lists_every_source_with_its_health(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    with Server() as srv:
        srv.routes["/a.xml"] = Reply(body=_rss(srv.base_url, 2), content_type="application/rss+xml")
        srv.routes["/html"] = Reply(body=b"<!DOCTYPE html><html><body>hi</body></html>")
        feeds = {"good": srv.url("/a.xml"), "html": srv.url("/html"), "later": srv.url("/later.xml")}
        path = tmp_path / "p.yaml"
        path.write_text(profile_yaml(feeds), encoding="utf-8")
        db = tmp_path / "store.db"
        monkeypatch.setenv("PRESSWATCH_DB", str(db))
        profile = parse_profile(path.read_text(encoding="utf-8"))
        state = State(db)
        poller = FeedPoller.from_profile(profile, state, HttpClient.from_profile(profile, timeout_s=2))
        poller.poll(profile.sources.feeds[0])
        poller.poll(profile.sources.feeds[1])
        poller.poll(profile.sources.feeds[1])
        state.close()
    assert main(["sources", "--profile", str(path), "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"good", "html", "later"}
    assert rows["good"]["health"]["status"] == "ok" and rows["good"]["items_total"] == 2
    assert rows["good"]["next_poll_at"] and rows["good"]["last_success"]
    assert rows["html"]["health"]["status"] == "failing" and rows["html"]["consecutive_failures"] == 2
    assert "not a feed" in rows["html"]["last_error"]
    assert rows["later"]["health"]["reason"] == "never_polled" and rows["later"]["last_poll"] is None
    for lang, word in (("sk", "nefunguje"), ("cs", "nefunguje"), ("lt", "neveikia"), ("tr", "çalışmıyor"),
                       ("mk", "не работи"), ("en", "failing")):
        assert main(["--ui-lang", lang, "sources", "--profile", str(path)]) == 0
        out = capsys.readouterr().out
        assert f"html [{word}] feed" in out and "not a feed" in out, (lang, out)


def test_ill_formed_and_not_a_feed_are_named_in_health_and_recovered_entries_kept(tmp_path: Path) -> None:
    broken = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>S</title>'
              b"<item><title>Futbal</title><link>{base}/s/1/</link></item>"
              b"<item><title>Tenis & golf</title><link>{base}/s/2/</link><description>neuzavret\xc3\xbd</channel>")
    hopeless = b'<?xml version="1.0"?><rss version="2.0"><channel><title>X</title><item><title>&nbsp;<'
    with Server() as srv:
        srv.routes["/broken.xml"] = Reply(body=broken.replace(b"{base}", srv.base_url.encode()),
                                          content_type="application/rss+xml")
        srv.routes["/hopeless.xml"] = Reply(body=hopeless, content_type="application/rss+xml")
        srv.routes["/page"] = Reply(body=b"<html><head><title>Home</title></head><body>x</body></html>")
        feeds = {"broken": srv.url("/broken.xml"), "hopeless": srv.url("/hopeless.xml"), "page": srv.url("/page")}
        profile = parse_profile(profile_yaml(feeds))
        state = State(tmp_path / "store.db")
        poller = FeedPoller.from_profile(profile, state, HttpClient.from_profile(profile, timeout_s=2))
        reports = {r.source: r for r in poller.poll_all()}
    assert reports["broken"].ok and reports["broken"].new == 2  # feedparser's loose parser recovers both items
    assert sorted(d.feed_title or "" for d in state.unfetched()) == ["Futbal", "Tenis & golf"]
    assert "2 entries recovered" in (reports["broken"].warning or "")
    for source_id, phrase in (("hopeless", "ill-formed feed"), ("page", "not a feed")):
        assert not reports[source_id].ok and phrase in (reports[source_id].error or "")
        record = state.source(source_id)
        assert record is not None and phrase in (record.last_error or "") and record.consecutive_failures == 1
        assert assess(record, utcnow()).reason == "failed"
    broken_health = state.source("broken")
    assert broken_health is not None and "ill-formed feed" in (broken_health.last_error or "")
    assert (assess(broken_health, utcnow()).status, assess(broken_health, utcnow()).reason) == ("warning", "warning")
    state.close()
