"""Saved searches feed alerts, and the response status stops them: a real SQLite store, the loopback SMTP server,
the Alerter and the Pipeline as the cycle and the daemon build them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from presswatch.cycle import Pipeline
from presswatch.digest.alerts import Alerter
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.base import SavedSearch
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import load_profile
from presswatch.records import Clipping
from presswatch.state import State
from tests.test_digest_support import (
    IN_WINDOW,
    MUNI,
    audit_story,
    clip,
    demo_profile,
    html_part,
    text_part,
)

DAYTIME = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # 10:30 in Bratislava
NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23:30: the demo profile's quiet hours (22:00–06:00)
Store = tuple[State, SqliteIndex]


def _alerter(store: Store, port: int, **changes: Any) -> Alerter:
    state, index = store
    return Alerter.from_profile(demo_profile(port, **changes), state, index)


def _save(index: SqliteIndex, sid: str, name: str, query: str, alert: bool = True) -> None:
    index.save_search(SavedSearch(id=sid, municipality=MUNI, name=name, query=query, alert=alert))


def bridge(slug: str = "most", outlet: str = "pohronie", cluster: str | None = None) -> Clipping:
    return clip(slug, "Nový most cez Hron otvoria v decembri", outlet=outlet, cluster=cluster,
                text="Mesto otvorí nový most cez Hron v decembri, povedala hovorkyňa. " * 3)


def test_a_saved_search_match_alerts_once(store: Store, smtp: LoopbackSmtp) -> None:
    state, index = store
    _save(index, "most", "Nový most", "most -outlet:herald")
    _save(index, "park", "Park", "park", alert=False)  # for searching only
    clipping = bridge()
    index.upsert([clipping, clip("park", "Park pri Hrone bude väčší")])
    alerter = _alerter(store, smtp.port)

    claimed = alerter.route([clipping])
    assert claimed == [f"{MUNI}/saved:most/{clipping.id}"]
    report = alerter.deliver_pending(DAYTIME)
    assert (report.sent, report.pending, report.errors) == (1, 0, ())
    (msg,) = smtp.messages
    assert "Uložené vyhľadávanie „Nový most“" in str(msg["Subject"])  # the digest language: Slovak
    text = text_part(msg)
    assert "Zodpovedá uloženému vyhľadávaniu „Nový most“" in text and "saved:most" in text
    assert "Nový most" in html_part(msg)

    # the same clipping matched again (re-processed), and a syndicated copy of the story: no second alert
    index.upsert([clipping])
    copy = bridge("most-kopia", outlet="horcan", cluster=clipping.id)
    index.upsert([copy])
    assert alerter.route([clipping]) == [] and alerter.route([copy]) == []
    assert alerter.deliver_pending(DAYTIME + timedelta(minutes=5)).sent == 0
    assert len(smtp.messages) == 1
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 1, "failed": 0}


def test_a_story_flagged_and_saved_gets_one_message_naming_both(store: Store, smtp: LoopbackSmtp) -> None:
    _, index = store
    _save(index, "audit", "Audit služieb", "audit")
    story = audit_story()
    index.upsert(story)
    alerter = _alerter(store, smtp.port)
    assert sorted(alerter.route(story)) == sorted([f"{MUNI}/critical-any/{story[0].id}",
                                                  f"{MUNI}/saved:audit/{story[0].id}"])
    assert alerter.deliver_pending(DAYTIME).sent == 2
    (msg,) = smtp.messages  # one message per story
    text = text_part(msg)
    assert text.startswith("Kritický článok")  # the flag leads
    assert "„Audit služieb“" in text and "critical-any, saved:audit" in text


def test_dismissed_or_published_clippings_do_not_alert(store: Store, smtp: LoopbackSmtp) -> None:
    state, index = store
    _save(index, "most", "Nový most", "most")
    dismissed = bridge()
    answered = bridge("most-2", outlet="hronske")
    index.upsert([dismissed, answered])
    index.set_status(dismissed.id, "dismissed", "jana", "nie je to o nás")
    index.set_status(answered.id, "published", "jana")
    alerter = _alerter(store, smtp.port)
    stored = [c for c in (index.get(dismissed.id), index.get(answered.id)) if c is not None]
    assert [c.status for c in stored] == ["dismissed", "published"]
    assert alerter.route(stored) == []
    assert alerter.deliver_pending(DAYTIME).sent == 0 and smtp.messages == []


def test_an_alert_held_overnight_is_dropped_when_the_story_is_dismissed_meanwhile(store: Store,
                                                                                   smtp: LoopbackSmtp) -> None:
    state, index = store
    story = audit_story()
    index.upsert(story)
    alerter = _alerter(store, smtp.port)
    assert alerter.route(story)
    assert alerter.deliver_pending(NIGHT).held == 1
    index.set_status(story[2].id, "dismissed", "jana", "vyriešené telefonicky")  # a copy of the story

    morning = alerter.deliver_pending(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert (morning.sent, morning.dropped, morning.pending) == (0, 1, 0)
    assert smtp.messages == []
    (row,) = state.execute("SELECT state, error FROM alerts WHERE municipality=?", (MUNI,))
    assert row["state"] == "dropped" and story[2].id in row["error"] and "dismissed" in row["error"]
    assert alerter.deliver_pending(datetime(2026, 11, 23, 7, 0, tzinfo=UTC)).sent == 0
    assert smtp.messages == []


def test_the_pipeline_syncs_profile_searches_and_alerts_on_them(tmp_path: Path, smtp: LoopbackSmtp) -> None:
    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "config/demo.yaml").read_text(encoding="utf-8"))
    data["saved_searches"] = [{"id": "most", "name": "Nový most", "query": "most"},
                              {"id": "rozpocet", "name": "Rozpočet", "query": "rozpočet", "alert": False}]
    data["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "sender": "presswatch@stara-horka.example"}
    path = tmp_path / "town.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = tmp_path / "presswatch.db"

    pipeline = Pipeline(load_profile(path), path, db)
    try:
        searches = {s.id: s for s in pipeline.index.saved_searches(MUNI)}
        assert set(searches) == {"most", "rozpocet"}
        assert searches["most"].origin == "profile" and not searches["rozpocet"].alert
        clipping = bridge()
        pipeline.index.upsert([clipping])
        assert pipeline.alerter.route([clipping]) == [f"{MUNI}/saved:most/{clipping.id}"]
        pipeline.alerter.deliver_pending(DAYTIME)
        assert len(smtp.messages) == 1
    finally:
        pipeline.close()

    data["saved_searches"] = data["saved_searches"][1:]  # removed from the profile: removed from the index
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pipeline = Pipeline(load_profile(path), path, db)
    try:
        assert [s.id for s in pipeline.index.saved_searches(MUNI)] == ["rozpocet"]
    finally:
        pipeline.close()


def test_unflagged_clipping_without_saved_searches_still_never_alerts(store: Store, smtp: LoopbackSmtp) -> None:
    _, index = store
    clipping = clip("nuda", "Obyčajná správa", published=IN_WINDOW)
    index.upsert([clipping])
    assert _alerter(store, smtp.port).route([clipping]) == []
