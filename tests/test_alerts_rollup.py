"""Holding and rolling up, cooldowns and back-off on real parts: aiosmtpd on 127.0.0.1, a real SQLite store, the
Alerter. Messages are parsed back with the `email` package and checked for content, language, escaping and the
once-only rule; "a restart" is a new State and Alerter on the same store file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from presswatch.digest.alerts import Alerter, channel_id, short_id
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import AlertRule, Alerts, Channel, QuietHours
from presswatch.records import Clipping
from presswatch.state import State
from tests.test_alerts_webhooks import Receiver, receiver  # noqa: F401 - the webhook receiver fixture
from tests.test_digest_support import (
    MUNI,
    audit_story,
    budget_claim,
    clip,
    critical,
    demo_profile,
    free_port,
    html_part,
    park_xss,
    text_part,
)

NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23:30 in Bratislava: quiet hours 22:00–06:00
MORNING = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00 local
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 local, daytime
PRESS = "tlacove@stara-horka.example"
Store = tuple[State, SqliteIndex]


def _alerter(store: Store, port: int, **alerts: Any) -> Alerter:
    state, index = store
    settings: dict[str, Any] = {"rules": [AlertRule(id="critical-any", flag="critical"),
                                          AlertRule(id="misleading-any", flag="misleading")],
                                "channels": [Channel(type="email", to=[PRESS])],
                                "quiet_hours": QuietHours(start="22:00", end="06:00")}
    settings.update(alerts)
    return Alerter.from_profile(demo_profile(port, alerts=Alerts(**settings)), state, index)


def _critical(slug: str, title: str, severity: float = 0.8) -> Clipping:
    return clip(slug, title, outlet="hronske", flags=[critical(severity, "kritizuje", f"{title}.")],
                officials=["mayor"], sentiment="negative")


def _deliveries(state: State, key: str) -> int:
    return int(state.execute("SELECT count(*) AS n FROM alert_deliveries WHERE key=?", (key,))[0]["n"])


def test_alerts_held_overnight_arrive_as_one_message_per_channel(store: Store, smtp: LoopbackSmtp,
                                                                 receiver: Receiver) -> None:  # noqa: F811
    state, index = store
    story, claim, xss = audit_story(), budget_claim(), park_xss()
    xss = clip("park", xss.article.title, flags=[critical(0.5, "<b>klame</b>", "On <i>klame</i> & zavádza.")],
               bodies=["tech_services"])
    index.upsert([*story, claim, xss])
    alerter = _alerter(store, smtp.port, channels=[Channel(type="email", to=[PRESS]),
                                                   Channel(type="webhook", url=receiver.url)])
    claimed = alerter.route([*story, claim, xss])
    assert len(claimed) == 3
    night = alerter.deliver_pending(NIGHT)
    assert night.quiet and (night.held, night.sent, night.pending) == (3, 0, 3)
    assert alerter.deliver_pending(NIGHT + timedelta(hours=4)).held == 3
    assert smtp.messages == [] and receiver.bodies == []

    morning = alerter.deliver_pending(MORNING)
    assert (morning.sent, morning.pending, morning.messages) == (3, 0, 2)
    (msg,) = smtp.messages  # ONE email, not one per story
    assert len(receiver.bodies) == 1 and receiver.bodies[0]["type"] == "presswatch.alert_rollup"
    assert msg["Subject"] == "Upozornenia zadržané počas tichých hodín: 3"
    assert msg["Content-Language"] == "sk" and msg["X-Presswatch-Kind"] == "alert-rollup"
    assert msg["X-Presswatch-Alert"] == " ".join(sorted(claimed))
    text, html = text_part(msg), html_part(msg)
    assert "Stará Hôrka: tieto články sa objavili počas tichých hodín (22:00 – 06:00)." in text
    for c in (story[0], claim, xss):
        assert f"Odkaz: {c.article.url}" in text and f"Výstrižok: {c.id}" in text
        assert f"Potvrdiť prevzatie: presswatch ack {short_id(c.id)}" in text
        assert f'href="{c.article.url}"' in html
    assert "Kľúčový výraz: zatajil" in text  # why: the cue and the quote
    assert "V rozpore s oficiálnym údajom: Schválený rozpočet mesta Stará Hôrka na rok 2026 je 24,8 mil. EUR." in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Nový park pri Hrone" in html and "<script" not in html
    assert "&lt;b&gt;klame&lt;/b&gt;" in html and "<b>klame" not in html and "<i>klame" not in html
    assert "<script>alert(1)</script> Nový park pri Hrone" in text  # text/plain has nothing to escape

    assert alerter.deliver_pending(MORNING + timedelta(minutes=1)).sent == 0
    assert len(smtp.messages) == 1 and len(receiver.bodies) == 1
    assert all(_deliveries(state, k) == 2 for k in claimed)  # each alert once per channel, never more
    assert state.execute("SELECT count(*) AS n FROM alert_holds")[0]["n"] == 0
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 3, "failed": 0}


def test_a_roll_up_of_one_story_is_an_ordinary_alert(store: Store, smtp: LoopbackSmtp) -> None:
    story = audit_story()
    store[1].upsert(story)
    alerter = _alerter(store, smtp.port)
    alerter.route(story)
    alerter.deliver_pending(NIGHT)
    assert alerter.deliver_pending(MORNING).sent == 1
    (msg,) = smtp.messages
    assert msg["Subject"] == "Kritický článok: Primátor Hrušovský zatajil výsledky auditu (Správy24)"


def test_a_rules_cooldown_holds_further_stories_and_rolls_them_up(tmp_path: Path, smtp: LoopbackSmtp) -> None:
    path = tmp_path / "presswatch.db"
    rules = [AlertRule(id="mayor", flag="critical", cooldown_minutes=30),
             AlertRule(id="misleading-any", flag="misleading")]

    def start() -> tuple[State, SqliteIndex, Alerter]:
        state, index = State(path), SqliteIndex(path)
        return state, index, _alerter((state, index), smtp.port, rules=rules)

    state, index, alerter = start()
    first, second, third = (_critical(s, t) for s, t in (("c1", "Primátor čelí kritike"),
                                                         ("c2", "Poslanci kritizujú primátora"),
                                                         ("c3", "Primátor opäť pod paľbou")))
    index.upsert([first, second, third, budget_claim()])
    alerter.route([first])
    assert alerter.deliver_pending(T0).sent == 1  # the first story goes at once and starts the cooldown
    alerter.route([second])
    held = alerter.deliver_pending(T0 + timedelta(minutes=5))
    assert (held.sent, held.held, held.pending) == (0, 1, 1)
    alerter.route([third, budget_claim()])
    mixed = alerter.deliver_pending(T0 + timedelta(minutes=10))
    assert (mixed.sent, mixed.held) == (1, 2)  # another rule is not cooling down: its story goes now
    assert len(smtp.messages) == 2

    index.close()
    state.close()  # a restart: the holds are in the ledger, not in memory
    state, index, alerter = start()
    assert alerter.deliver_pending(T0 + timedelta(minutes=29)).sent == 0
    assert len(smtp.messages) == 2
    ended = alerter.deliver_pending(T0 + timedelta(minutes=30))
    assert (ended.sent, ended.pending, ended.messages) == (2, 0, 1)
    rollup = smtp.messages[2]
    assert rollup["Subject"] == "Ďalšie upozornenia podľa pravidla mayor: 2"
    text = text_part(rollup)
    assert "do 30 minút od predchádzajúceho upozornenia podľa toho istého pravidla" in text
    assert "Poslanci kritizujú primátora" in text and "Primátor opäť pod paľbou" in text
    assert "Primátor čelí kritike" not in text  # already sent on its own

    fourth = _critical("c4", "Primátor a audit: ďalšie otázky")
    index.upsert([fourth])
    alerter.route([fourth])
    again = alerter.deliver_pending(T0 + timedelta(minutes=40))  # the roll-up started a new cooldown
    assert (again.sent, again.held) == (0, 1)
    assert alerter.deliver_pending(T0 + timedelta(minutes=60)).sent == 1
    assert smtp.messages[3]["Subject"].startswith("Kritický článok: Primátor a audit")  # one story: an ordinary alert
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 5, "failed": 0}
    index.close()
    state.close()


def test_no_cooldown_by_default(store: Store, smtp: LoopbackSmtp) -> None:
    stories = [_critical("d1", "Prvá kritika"), _critical("d2", "Druhá kritika")]
    store[1].upsert(stories)
    alerter = _alerter(store, smtp.port)
    alerter.route(stories)
    assert alerter.deliver_pending(T0).sent == 2 and len(smtp.messages) == 2


def test_a_channel_down_backs_off_exponentially_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "presswatch.db"
    port = free_port()
    state, index = State(path), SqliteIndex(path)
    alerter = _alerter((state, index), port)
    cid = channel_id(Channel(type="email", to=[PRESS]))
    story = audit_story()
    index.upsert(story)
    alerter.route(story)

    def channel() -> Any:
        return state.execute("SELECT failures, next_attempt_at FROM alert_channels WHERE channel=?", (cid,))[0]

    first = alerter.deliver_pending(T0)
    assert first.sent == 0 and f"127.0.0.1:{port}" in first.errors[0]
    assert channel()["failures"] == 1 and channel()["next_attempt_at"] == (T0 + timedelta(seconds=60)).isoformat()
    (row,) = state.alerts_pending(MUNI)
    assert row["attempts"] == 0 and row["next_attempt_at"] == (T0 + timedelta(seconds=60)).isoformat()

    skipped = alerter.deliver_pending(T0 + timedelta(seconds=30))  # not due: no connection attempt at all
    assert skipped.sent == 0 and "next attempt 2026-11-23 09:01 UTC" in skipped.errors[0]
    assert channel()["failures"] == 1
    alerter.deliver_pending(T0 + timedelta(seconds=60))
    assert channel()["failures"] == 2 and channel()["next_attempt_at"] == (T0 + timedelta(seconds=180)).isoformat()
    alerter.deliver_pending(T0 + timedelta(seconds=180))
    assert channel()["failures"] == 3 and channel()["next_attempt_at"] == (T0 + timedelta(seconds=420)).isoformat()

    late = _critical("late", "Nová kritika počas výpadku")  # claimed while the server is down
    index.upsert([late])
    alerter.route([late])
    assert alerter.deliver_pending(T0 + timedelta(seconds=300)).sent == 0  # the channel still backs off
    assert all(r["attempts"] == 0 for r in state.alerts_pending(MUNI))  # an outage uses up no attempts

    index.close()
    state.close()  # a restart keeps the back-off
    state, index = State(path), SqliteIndex(path)
    alerter = _alerter((state, index), port)
    with LoopbackSmtp(port=port) as smtp:
        assert alerter.deliver_pending(T0 + timedelta(seconds=400)).sent == 0 and smtp.messages == []
        up = alerter.deliver_pending(T0 + timedelta(seconds=420))
        assert (up.sent, up.pending) == (2, 0) and len(smtp.messages) == 2
        assert alerter.deliver_pending(T0 + timedelta(minutes=30)).sent == 0 and len(smtp.messages) == 2
    assert state.execute("SELECT count(*) AS n FROM alert_channels")[0]["n"] == 0  # healthy again: reset
    index.close()
    state.close()


def test_a_roll_up_retried_after_one_channel_failed_is_not_repeated_on_the_other(
        store: Store, receiver: Receiver) -> None:  # noqa: F811
    state, index = store
    port = free_port()
    stories = [_critical("n1", "Nočná kritika"), _critical("n2", "Ďalšia nočná kritika")]
    index.upsert(stories)
    alerter = _alerter(store, port, channels=[Channel(type="webhook", url=receiver.url, format="slack"),
                                              Channel(type="email", to=[PRESS])])
    alerter.route(stories)
    alerter.deliver_pending(NIGHT)
    morning = alerter.deliver_pending(MORNING)  # webhook up, SMTP down
    assert morning.sent == 0 and morning.pending == 2 and len(receiver.bodies) == 1
    with LoopbackSmtp(port=port) as smtp:
        later = alerter.deliver_pending(MORNING + timedelta(minutes=5))
        assert later.sent == 2 and len(smtp.messages) == 1
        assert smtp.messages[0]["Subject"] == "Upozornenia zadržané počas tichých hodín: 2"
    assert len(receiver.bodies) == 1  # the webhook that had the roll-up was not called again
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 2, "failed": 0}


def test_a_refused_alert_waits_its_back_off_and_counts_attempts(store: Store) -> None:
    state, index = store
    story = audit_story()
    index.upsert(story)
    with LoopbackSmtp(refuse=[PRESS]) as smtp:
        alerter = _alerter(store, smtp.port)
        alerter.route(story)
        assert "550" in alerter.deliver_pending(T0).errors[0]
        assert alerter.deliver_pending(T0 + timedelta(seconds=30)).errors == ()  # not due yet: not tried
        alerter.deliver_pending(T0 + timedelta(seconds=60))
        (row,) = state.alerts_pending(MUNI)
        assert row["attempts"] == 2 and row["next_attempt_at"] == (T0 + timedelta(seconds=180)).isoformat()
        assert smtp.messages == []


def test_a_copy_that_arrives_while_the_alert_is_held_updates_it_instead_of_alerting(store: Store,
                                                                                    smtp: LoopbackSmtp) -> None:
    state, index = store
    original, copy1, copy2 = audit_story()
    index.upsert([original])
    alerter = _alerter(store, smtp.port)
    assert alerter.route([original])
    assert alerter.deliver_pending(NIGHT).held == 1
    index.upsert([copy1, copy2])  # the story is picked up by two more outlets during the night
    assert alerter.route([copy1, copy2]) == []  # no second alert for the story
    assert alerter.deliver_pending(MORNING).sent == 1
    (msg,) = smtp.messages
    assert "Píšu o tom aj: Pohronie dnes, Hôrčan" in text_part(msg)  # major outlets first
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 1, "failed": 0}
