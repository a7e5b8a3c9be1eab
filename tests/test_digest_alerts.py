"""Alerts on real parts: SqliteIndex + State in tmp_path, aiosmtpd on 127.0.0.1, a local HTTP server for webhooks."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from presswatch.digest.alerts import Alerter, in_quiet_hours
from presswatch.digest.mail import DeliveryError, build_message, send
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import AlertRule, Alerts, Channel, QuietHours, Smtp
from presswatch.state import State
from tests.test_digest_support import (
    IN_WINDOW,
    MUNI,
    audit_story,
    budget_claim,
    clip,
    critical,
    demo_profile,
    free_port,
    html_part,
    misleading,
    park_xss,
    text_part,
)

DAYTIME = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # 10:30 in Bratislava
PRESS = "tlacove@stara-horka.example"


def _alerter(store: tuple[State, SqliteIndex], port: int, **changes: Any) -> Alerter:
    state, index = store
    return Alerter.from_profile(demo_profile(port, **changes), state, index)


def _indexed(store: tuple[State, SqliteIndex], clippings: list[Any]) -> list[Any]:
    store[1].upsert(clippings)
    return clippings


def test_one_alert_per_story_cluster_and_never_twice(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    story = _indexed(store, audit_story() + [budget_claim(), park_xss()])
    alerter = _alerter(store, smtp.port)
    claimed = alerter.route(story)
    assert sorted(claimed) == sorted([f"{MUNI}/critical-any/{story[0].id}", f"{MUNI}/misleading-any/{story[3].id}"])
    assert alerter.route(story) == []  # the same batch again claims nothing

    report = alerter.deliver_pending(DAYTIME)
    assert (report.sent, report.pending, report.errors) == (2, 0, ())
    assert len(smtp.messages) == 2
    assert all(rcpts == (PRESS,) for _, rcpts in smtp.envelopes)

    late_copy = clip("audit-late", "Aj my píšeme o audite", outlet="herald", published=IN_WINDOW + timedelta(hours=6),
                     flags=[critical(0.9, "zatajil", "Zatajil audit.")], officials=["mayor"],
                     sentiment="negative", cluster=story[0].id)
    _indexed(store, [late_copy])
    assert alerter.route([late_copy]) == []  # a syndicated copy of an alerted story
    assert alerter.deliver_pending(DAYTIME + timedelta(minutes=1)).sent == 0
    assert len(smtp.messages) == 2


def test_alert_says_why_in_the_digest_language(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    story = _indexed(store, audit_story() + [budget_claim()])
    alerter = _alerter(store, smtp.port)
    alerter.route(story)
    alerter.deliver_pending(DAYTIME)
    by_subject = {m["Subject"]: m for m in smtp.messages}
    crit = by_subject["Kritický článok: Primátor Hrušovský zatajil výsledky auditu (Správy24)"]
    mis = by_subject["Zavádzajúci článok: Mesto má na budúci rok rozpočet 30 miliónov (Hronské noviny)"]
    assert crit.get_content_type() == "multipart/alternative" and crit["X-Presswatch-Kind"] == "alert"

    text = text_part(crit)
    for expected in ("Kritický článok · Závažnosť 80\u00a0%", "Médium: Správy24 · významné médium",
                     "Titulok: Primátor Hrušovský zatajil výsledky auditu",
                     "Odkaz: http://127.0.0.1:8765/spravy24/2026/11/audit.html",
                     "Predstavitelia: Marián Hrušovský", "Orgány: Technické služby Stará Hôrka",
                     "Kľúčový výraz: zatajil", "„Primátor zatajil poslancom výsledky auditu technických služieb.“",
                     "Uverejnené: 21. 11. 2026 19:00", "Pravidlo upozornenia: critical-any"):
        assert expected in text, expected
    mis_text = text_part(mis)
    assert "V rozpore s oficiálnym údajom: Schválený rozpočet mesta Stará Hôrka na rok 2026 je 24,8 mil. EUR." \
        in mis_text
    assert "Orgány: Mestské zastupiteľstvo Stará Hôrka" in mis_text


def test_alert_html_is_escaped(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    nasty = clip("xss", "<script>alert(1)</script> Primátor klame", outlet="spravy24",
                 flags=[critical(0.9, "<b>klame</b>", "On <i>klame</i> & zavádza.")], officials=["mayor"])
    _indexed(store, [nasty])
    alerter = _alerter(store, smtp.port)
    alerter.route([nasty])
    alerter.deliver_pending(DAYTIME)
    html = html_part(smtp.messages[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Primátor klame" in html and "<script" not in html
    assert "&lt;b&gt;klame&lt;/b&gt;" in html and "On &lt;i&gt;klame&lt;/i&gt; &amp; zavádza." in html
    assert smtp.messages[0]["Subject"] == "Kritický článok: <script>alert(1)</script> Primátor klame (Správy24)"


def test_smtp_down_keeps_alerts_pending_then_delivers_once(store: tuple[State, SqliteIndex]) -> None:
    state, _ = store
    port = free_port()
    story = _indexed(store, audit_story() + [budget_claim()])
    alerter = _alerter(store, port)
    alerter.route(story)

    down = alerter.deliver_pending(DAYTIME)
    assert (down.sent, down.pending) == (0, 2)
    assert down.errors and f"127.0.0.1:{port}" in down.errors[0] and "refused" in down.errors[0]
    rows = state.alerts_pending(MUNI)
    assert len(rows) == 2 and all(f"127.0.0.1:{port}" in r["error"] for r in rows)
    assert all(r["attempts"] == 0 for r in rows)  # an outage does not use up an alert's attempts
    for _ in range(3):
        alerter.deliver_pending(DAYTIME)
    assert len(state.alerts_pending(MUNI)) == 2

    with LoopbackSmtp(port=port) as smtp:
        up = alerter.deliver_pending(DAYTIME + timedelta(minutes=5))
        again = alerter.deliver_pending(DAYTIME + timedelta(minutes=6))
        assert (up.sent, up.pending, again.sent) == (2, 0, 0)
        assert len(smtp.messages) == 2
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 2, "failed": 0}


def test_refused_recipient_counts_an_attempt_and_stays_pending(store: tuple[State, SqliteIndex]) -> None:
    state, _ = store
    story = _indexed(store, audit_story())
    with LoopbackSmtp(refuse=[PRESS]) as smtp:
        alerter = _alerter(store, smtp.port)
        alerter.route(story)
        report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 0 and "550" in report.errors[0] and PRESS in report.errors[0]
    (row,) = state.alerts_pending(MUNI)
    assert row["attempts"] == 1 and "550" in row["error"]


def test_quiet_hours_hold_alerts(store: tuple[State, SqliteIndex], smtp: LoopbackSmtp) -> None:
    story = _indexed(store, audit_story())
    alerter = _alerter(store, smtp.port)  # demo profile: quiet 22:00–06:00 Europe/Bratislava
    alerter.route(story)
    night = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23:30 local
    early = datetime(2026, 11, 23, 4, 59, tzinfo=UTC)  # 05:59 local
    for moment in (night, early):
        held = alerter.deliver_pending(moment)
        assert held.quiet and (held.held, held.sent, held.pending) == (1, 0, 1)
    assert smtp.messages == []
    morning = alerter.deliver_pending(datetime(2026, 11, 23, 5, 0, tzinfo=UTC))  # 06:00 local
    assert morning.sent == 1 and len(smtp.messages) == 1


def test_quiet_hours_windows() -> None:
    overnight, daytime = QuietHours(start="22:00", end="06:00"), QuietHours(start="12:00", end="13:30")
    at = lambda h, m: datetime(2026, 11, 22, h, m)  # noqa: E731
    assert in_quiet_hours(overnight, at(22, 0)) and in_quiet_hours(overnight, at(3, 0))
    assert not in_quiet_hours(overnight, at(6, 0)) and not in_quiet_hours(overnight, at(21, 59))
    assert in_quiet_hours(daytime, at(13, 0)) and not in_quiet_hours(daytime, at(13, 30))
    assert not in_quiet_hours(None, at(3, 0))
    assert not in_quiet_hours(QuietHours(start="08:00", end="08:00"), at(8, 0))


def test_rules_filter_by_flag_severity_people_and_outlet_tier(store: tuple[State, SqliteIndex]) -> None:
    rules = [
        AlertRule(id="mayor-critical", flag="critical", min_severity=0.5, officials=["mayor"]),
        AlertRule(id="council-any", flag="any", bodies=["council"], max_outlet_tier=2),
        AlertRule(id="major-misleading", flag="misleading", max_outlet_tier=1),
    ]
    alerter = _alerter(store, 25, alerts=Alerts(rules=rules, channels=[Channel(type="email", to=[PRESS])]))
    mayor_weak = clip("weak", "Slabá kritika", flags=[critical(0.4, "x", "x")], officials=["mayor"])
    deputy = clip("deputy", "Kritika viceprimátorky", flags=[critical(0.9, "x", "x")], officials=["deputy_mayor"])
    council_blog = clip("blog", "Blog o zastupiteľstve", outlet="horcan", flags=[critical(0.9, "x", "x")],
                        bodies=["council"])
    council_paper = clip("paper", "Noviny o zastupiteľstve", outlet="hronske", flags=[misleading(0.2, "x", "x")],
                         bodies=["council"])
    unflagged = clip("calm", "Pokojná správa o zastupiteľstve", bodies=["council"])
    irrelevant = clip("irr", "Primátor inde", flags=[critical(0.9, "x", "x")], officials=["mayor"], relevant=False)
    strong = clip("strong", "Primátor pod paľbou", flags=[critical(0.6, "x", "x")], officials=["mayor"])
    claimed = alerter.route([mayor_weak, deputy, council_blog, council_paper, unflagged, irrelevant, strong])
    assert sorted(claimed) == sorted([f"{MUNI}/council-any/{council_paper.id}", f"{MUNI}/mayor-critical/{strong.id}"])


def test_smtp_login_uses_the_environment_variables_the_profile_names(store: tuple[State, SqliteIndex],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackSmtp(credentials=("press", "s3cret")) as smtp:
        profile = demo_profile(smtp.port).model_copy(update={"smtp": Smtp(
            host="127.0.0.1", port=smtp.port, sender="presswatch@stara-horka.example",
            username_env="PW_TEST_SMTP_USER", password_env="PW_TEST_SMTP_PASSWORD")})
        msg = build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="Skúška", text="Ahoj")
        monkeypatch.delenv("PW_TEST_SMTP_USER", raising=False)
        monkeypatch.delenv("PW_TEST_SMTP_PASSWORD", raising=False)
        with pytest.raises(DeliveryError, match="PW_TEST_SMTP_USER"):
            send(profile, msg)
        monkeypatch.setenv("PW_TEST_SMTP_USER", "press")
        monkeypatch.setenv("PW_TEST_SMTP_PASSWORD", "wrong")
        with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{smtp.port}: login refused: 535") as bad:
            send(profile, msg)
        assert not bad.value.transient
        monkeypatch.setenv("PW_TEST_SMTP_PASSWORD", "s3cret")
        assert send(profile, msg) == msg["Message-ID"]
        assert smtp.logins == ["press"] and len(smtp.messages) == 1


def test_starttls_required_but_not_offered_is_a_clear_error(smtp: LoopbackSmtp) -> None:
    profile = demo_profile(smtp.port).model_copy(update={"smtp": Smtp(host="127.0.0.1", port=smtp.port,
                                                                      starttls=True)})
    msg = build_message(sender="presswatch@localhost", to=[PRESS], subject="x", text="x")
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        send(profile, msg)
    assert smtp.messages == []


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, type[_Hook]]]:
    hook = type("Hook", (_Hook,), {"received": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/press", hook
    server.shutdown()
    server.server_close()


def test_webhook_and_email_each_get_it_once_even_when_one_fails(store: tuple[State, SqliteIndex],
                                                                webhook: tuple[str, type[_Hook]]) -> None:
    url, hook = webhook
    port = free_port()
    channels = [Channel(type="webhook", url=url, language="en"), Channel(type="email", to=[PRESS])]
    alerter = _alerter(store, port, alerts=Alerts(rules=[AlertRule(id="critical", flag="critical")],
                                                  channels=channels))
    story = _indexed(store, audit_story())
    alerter.route(story)
    first = alerter.deliver_pending(DAYTIME)  # webhook up, SMTP down
    assert first.sent == 0 and first.pending == 1 and len(hook.received) == 1
    payload = hook.received[0]
    assert payload["type"] == "presswatch.alert" and payload["rules"] == ["critical"]
    assert payload["clipping"]["title"] == "Primátor Hrušovský zatajil výsledky auditu"
    assert payload["flags"][0]["reasons"][0]["cue"] == "zatajil"
    assert payload["subject"].startswith("Critical coverage: ") and "Why:" in payload["text"]

    with LoopbackSmtp(port=port) as smtp:
        second = alerter.deliver_pending(DAYTIME + timedelta(minutes=5))
        assert second.sent == 1 and len(smtp.messages) == 1
    assert len(hook.received) == 1  # the webhook that already had it was not called again


def test_webhook_server_error_is_retried(store: tuple[State, SqliteIndex], webhook: tuple[str, type[_Hook]]) -> None:
    url, hook = webhook
    hook.status = 503
    alerter = _alerter(store, 25, alerts=Alerts(rules=[AlertRule(id="critical", flag="critical")],
                                                channels=[Channel(type="webhook", url=url)]))
    alerter.route(_indexed(store, audit_story()))
    failed = alerter.deliver_pending(DAYTIME)
    assert failed.sent == 0 and "HTTP 503" in failed.errors[0]
    # the host, never the path (where a Slack/Teams URL keeps its secret; docs/security.md)
    assert url.rsplit("/hooks", 1)[0] in failed.errors[0] and "/hooks/press" not in failed.errors[0]
    hook.status = 200
    waiting = alerter.deliver_pending(DAYTIME)  # the channel backs off: not called again at once
    assert waiting.sent == 0 and "next attempt" in waiting.errors[0] and len(hook.received) == 1
    assert alerter.deliver_pending(DAYTIME + timedelta(minutes=1)).sent == 1
    assert len(hook.received) == 2


def test_loopback_writes_eml_files(tmp_path: Path) -> None:
    with LoopbackSmtp(maildir=tmp_path / "mail") as smtp:
        profile = demo_profile(smtp.port)
        send(profile, build_message(sender="presswatch@stara-horka.example", to=[PRESS], subject="Ranný pozdrav",
                                    text="Dobré ráno", html="<p>Dobré ráno</p>"))
    (eml,) = (tmp_path / "mail").iterdir()
    assert eml.suffix == ".eml" and b"Dobr=C3=A9 r=C3=A1no" in eml.read_bytes()
