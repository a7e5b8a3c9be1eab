"""Webhook formats on real parts: an HTTP receiver on 127.0.0.1 (http.server in a thread), SQLite store, the
Alerter. Generic, Slack and Teams bodies are parsed back as JSON and checked for shape, language, links, how to
acknowledge, and that article text cannot inject markup, links or mentions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from presswatch.digest.alerts import Alerter, short_id
from presswatch.digest.webhooks import slack_escape
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import AlertRule, Alerts, Channel, QuietHours
from presswatch.records import Clipping
from presswatch.state import State
from tests.test_digest_support import MUNI, audit_story, budget_claim, clip, critical, demo_profile, misleading

DAYTIME = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)  # 10:30 in Bratislava
NIGHT = datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 23:30, inside the quiet hours 22:00–06:00
MORNING = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 06:00: the quiet hours are over
Store = tuple[State, SqliteIndex]
NASTY = "<!channel> *Primátor* [klikni](http://evil.example) <script>alert(1)</script> & <@U123>"


class Receiver:
    """A webhook endpoint on loopback that keeps every JSON body it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                owner.bodies.append(json.loads(raw.decode("utf-8")))
                owner.content_types.append(self.headers["Content-Type"])
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def _alerter(store: Store, url: str, fmt: str, language: str | None = "en", **alerts: Any) -> Alerter:
    state, index = store
    settings: dict[str, Any] = {"rules": [AlertRule(id="critical", flag="critical"),
                                          AlertRule(id="misleading", flag="misleading")],
                                "channels": [Channel(type="webhook", url=url, format=fmt, language=language)]}
    settings.update(alerts)
    return Alerter.from_profile(demo_profile(25, alerts=Alerts(**settings)), state, index)


def _nasty() -> Clipping:
    return clip("nasty", NASTY, outlet="spravy24",
                flags=[critical(0.9, "<b>klame</b>", "On <i>klame</i> & zavádza <!here>.")], officials=["mayor"])


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_slack_body_has_text_and_blocks_and_escapes_article_text(store: Store, receiver: Receiver) -> None:
    story = _nasty()
    store[1].upsert([story])
    alerter = _alerter(store, receiver.url, "slack")
    alerter.route([story])
    report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 1 and len(receiver.bodies) == 1
    body = receiver.bodies[0]
    assert receiver.content_types[0].startswith("application/json")
    assert set(body) >= {"text", "blocks"} and isinstance(body["text"], str)
    types = [b["type"] for b in body["blocks"]]
    assert types[0] == "header" and "section" in types and "context" in types

    # where Slack parses markup (mrkdwn, and the top-level `text`), no control sequence from the article survives:
    # no mention, no link, no HTML; plain_text objects are shown verbatim by Slack, so they carry the raw text
    mrkdwn = [b["text"]["text"] for b in body["blocks"] if b.get("text", {}).get("type") == "mrkdwn"]
    mrkdwn += [e["text"] for b in body["blocks"] for e in b.get("elements", []) if e.get("type") == "mrkdwn"]
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<script", "<b>", "<http://evil"):
        assert all(forbidden not in t for t in [*mrkdwn, body["text"]]), forbidden
    assert body["blocks"][0]["text"]["type"] == "plain_text"  # the header: the subject as it is
    title_block = next(t for t in mrkdwn if "spravy24/2026/11/nasty.html" in t)
    assert f"*<{story.article.url}|{slack_escape(NASTY)}>*" in title_block
    assert "&lt;!channel&gt;" in title_block and "&amp; &lt;@U123&gt;" in title_block
    assert "Critical coverage" in title_block and "Outlet: Správy24" in title_block  # the channel's language
    why = next(b["text"] for b in body["blocks"] if b.get("text", {}).get("type") == "plain_text"
               and "Why:" in b["text"]["text"])
    assert "<b>klame</b>: “On <i>klame</i> & zavádza <!here>.”" in why["text"]  # plain_text: nothing is markup
    context = next(b for b in body["blocks"] if b["type"] == "context")["elements"][0]["text"]
    assert f"presswatch ack {short_id(story.id)}" in context and story.id in context
    assert "&lt;script&gt;" in body["text"] and "<script" not in body["text"]


def test_slack_record_and_workspace_link(store: Store, receiver: Receiver) -> None:
    claim = budget_claim()
    store[1].upsert([claim])
    alerter = _alerter(store, receiver.url, "slack", language="sk")
    profile = alerter.profile.model_copy(update={"alerts": alerter.profile.alerts.model_copy(
        update={"clipping_url": "https://intranet.example/clippings/{id}?view=full"})})
    alerter = Alerter.from_profile(profile, *store)
    alerter.route([claim])
    assert alerter.deliver_pending(DAYTIME).sent == 1
    raw = json.dumps(receiver.bodies[0], ensure_ascii=False)
    assert "V rozpore s oficiálnym údajom: Schválený rozpočet mesta Stará Hôrka na rok 2026 je 24,8 mil. EUR." in raw
    assert f"<https://intranet.example/clippings/{claim.id}?view=full|Otvoriť výstrižok>" in raw
    assert "Zavádzajúci článok" in raw and "Potvrdiť prevzatie: presswatch ack" in raw


def test_teams_body_is_an_adaptive_card_with_no_markdown_for_article_text(store: Store, receiver: Receiver) -> None:
    story = _nasty()
    store[1].upsert([story])
    alerter = _alerter(store, receiver.url, "teams", language="mk")
    alerter.route([story])
    assert alerter.deliver_pending(DAYTIME).sent == 1
    body = receiver.bodies[0]
    assert body["type"] == "message" and len(body["attachments"]) == 1
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["body"]
    nodes = list(_walk(card))
    # TextBlock and FactSet render Markdown in Teams: article text must only ever be in TextRuns
    assert not [n for n in nodes if n.get("type") in ("TextBlock", "FactSet")]
    runs = [n["text"] for n in nodes if n.get("type") == "TextRun"]
    assert NASTY in runs  # verbatim: a TextRun shows it as text, so nothing needs (or may get) escaping
    assert any(r.startswith("Критичка статија · ") and r.endswith("Сериозност 90%") for r in runs)  # Macedonian
    assert any(r == f"Потврди прием: presswatch ack {short_id(story.id)}" for r in runs)
    urls = [n["url"] for n in nodes if n.get("type") == "Action.OpenUrl"]
    assert urls == [story.article.url]  # only the article: the quote's http://evil.example is no link


def test_generic_body_names_the_alert_id_and_ack_command(store: Store, receiver: Receiver) -> None:
    story = audit_story()
    store[1].upsert(story)
    alerter = _alerter(store, receiver.url, "generic")
    alerter.route(story)
    alerter.deliver_pending(DAYTIME)
    (body,) = receiver.bodies
    assert body["type"] == "presswatch.alert" and body["alert_id"] == short_id(story[0].id)
    assert body["ack"] == f"presswatch ack {short_id(story[0].id)}"
    assert body["clipping"]["url"] == story[0].article.url and body["clipping"]["workspace_url"] is None
    assert f"Acknowledge: presswatch ack {short_id(story[0].id)}" in body["text"]
    assert f"Clipping: {story[0].id}" in body["text"]


@pytest.mark.parametrize("fmt", ["generic", "slack", "teams"])
def test_quiet_hours_roll_up_into_one_call_per_webhook(store: Store, receiver: Receiver, fmt: str) -> None:
    story, claim = audit_story(), budget_claim()
    late = clip("noc", "Nočná kritika primátora", outlet="hronske", flags=[critical(0.7, "kritika", "Kritika.")],
                officials=["mayor"])
    store[1].upsert([*story, claim, late])
    alerter = _alerter(store, receiver.url, fmt, quiet_hours=QuietHours(start="22:00", end="06:00"))
    alerter.route(story)
    held = alerter.deliver_pending(NIGHT)
    assert held.quiet and held.held == 1 and receiver.bodies == []
    alerter.route([claim, late])
    assert alerter.deliver_pending(NIGHT + timedelta(hours=3)).held == 3
    assert receiver.bodies == []

    morning = alerter.deliver_pending(MORNING)
    assert (morning.sent, morning.pending, morning.messages) == (3, 0, 1)
    (body,) = receiver.bodies
    raw = json.dumps(body, ensure_ascii=False)
    for c in (story[0], claim, late):
        assert c.article.url in raw and f"presswatch ack {short_id(c.id)}" in raw
    assert "Alerts held during quiet hours: 3" in raw
    if fmt == "generic":
        assert body["type"] == "presswatch.alert_rollup" and body["reason"] == "quiet"
        ids = [a["clipping"]["id"] for a in body["alerts"]]
        assert ids[0] == story[0].id and sorted(ids[1:]) == sorted([claim.id, late.id])  # in the order claimed
    assert alerter.deliver_pending(MORNING + timedelta(minutes=5)).sent == 0
    assert len(receiver.bodies) == 1


def test_a_roll_up_too_long_for_slack_blocks_lists_the_rest_as_links(store: Store, receiver: Receiver) -> None:
    many = [clip(f"s{i}", f"Kritika č. {i}", flags=[misleading(0.5, "x", "x")]) for i in range(20)]
    store[1].upsert(many)
    alerter = _alerter(store, receiver.url, "slack", quiet_hours=QuietHours(start="22:00", end="06:00"))
    alerter.route(many)
    alerter.deliver_pending(NIGHT)
    assert alerter.deliver_pending(MORNING).sent == 20
    (body,) = receiver.bodies
    assert len(body["blocks"]) <= 50
    raw = json.dumps(body, ensure_ascii=False)
    assert all(c.article.url in raw for c in many)  # nothing lost: every story is at least a link
    assert store[0].alert_counts(MUNI)["sent"] == 20
