"""Webhook URLs are secrets (docs/security.md): on real parts (HTTP receivers on 127.0.0.1, a SQLite store in
tmp_path, the Alerter), a channel's URL comes from the environment (`url_env`), a redirect from the receiver is
refused and never followed, and the secret part of a URL never reaches the store, the report or the logs."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from presswatch.digest.alerts import Alerter, DeliveryReport, channel_id
from presswatch.digest.webhooks import webhook_target
from presswatch.index.sqlite import SqliteIndex
from presswatch.profile import AlertRule, Alerts, Channel, ProfileError, parse_profile
from presswatch.state import State
from tests.test_crawl_server import profile_yaml
from tests.test_digest_support import audit_story, demo_profile, free_port

DAYTIME = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
Store = tuple[State, SqliteIndex]
SECRET = "T0SECRET/B0SECRET/xoxSecretToken123"
VAR = "PRESSWATCH_TEST_SLACK_URL"


class Hook:
    """A loopback receiver that keeps what it is sent; answers `status`, with `location` when set."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.status = 200
        self.location: str | None = None
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                owner.paths.append(self.path)
                if raw:
                    owner.bodies.append(json.loads(raw.decode("utf-8")))
                self.send_response(owner.status)
                if owner.location:
                    self.send_header("Location", owner.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = _answer  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.origin}/services/{SECRET}?token=qsecret42"


@pytest.fixture
def hooks() -> Iterator[tuple[Hook, Hook]]:
    pair = (Hook(), Hook())
    for hook in pair:
        threading.Thread(target=hook.server.serve_forever, daemon=True).start()
    yield pair
    for hook in pair:
        hook.server.shutdown()
        hook.server.server_close()


def _alerter(store: Store, channel: Channel) -> Alerter:
    alerts = Alerts(rules=[AlertRule(id="critical", flag="critical")], channels=[channel])
    return Alerter.from_profile(demo_profile(25, alerts=alerts), store[0], store[1])


def _route(store: Store, alerter: Alerter) -> None:
    story = audit_story()
    store[1].upsert(story)
    assert alerter.route(story)


def _stored(store: Store) -> str:
    """Every row of the alert ledgers, as text: what `presswatch status` and an operator's sqlite3 can see."""
    state = store[0]
    rows = [dict(r) for t in ("alerts", "alert_channels", "alert_deliveries", "alert_holds")
            for r in state.execute(f"SELECT * FROM {t}")]  # noqa: S608 - fixed table names
    return json.dumps(rows, default=str)


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ("SECRET", "xoxSecretToken123", "qsecret42", "/services/", "hunter2"):
            assert secret not in text, f"{secret!r} leaked into: {text}"


def _report_text(report: DeliveryReport) -> str:
    return json.dumps([report.errors, report.failed])


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_the_second_receiver_never_called(store: Store, hooks: tuple[Hook, Hook],
                                                                     code: int, caplog: pytest.LogCaptureFixture
                                                                     ) -> None:
    first, second = hooks
    first.status, first.location = code, f"{second.origin}/services/elsewhere?sig=other"
    alerter = _alerter(store, Channel(type="webhook", url=first.url, format="slack"))
    _route(store, alerter)
    with caplog.at_level(logging.DEBUG):
        report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 0 and report.pending == 1
    assert len(first.paths) == 1 and second.paths == []  # asked once, never followed
    (row,) = store[0].execute("SELECT * FROM alerts")
    assert row["state"] == "pending" and row["attempts"] == 0  # the channel's fault: no attempt used up
    error = row["error"]
    assert f"HTTP {code}" in error and first.origin in error and "redirect" in error
    assert second.origin in error  # where it pointed: the host only
    assert "elsewhere" not in error and "sig=" not in error
    _assert_no_secret(error, _stored(store), caplog.text, _report_text(report))


def test_url_env_is_read_at_delivery_and_a_missing_variable_keeps_the_alert_pending(
        store: Store, hooks: tuple[Hook, Hook], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    hook, _ = hooks
    monkeypatch.delenv(VAR, raising=False)
    alerter = _alerter(store, Channel(type="webhook", url_env=VAR, format="generic"))
    _route(store, alerter)
    with caplog.at_level(logging.DEBUG):
        missing = alerter.deliver_pending(DAYTIME)
    assert missing.sent == 0 and missing.pending == 1 and hook.paths == []
    (row,) = store[0].execute("SELECT * FROM alerts")
    assert row["state"] == "pending" and row["attempts"] == 0
    assert VAR in row["error"] and "not set" in row["error"]
    assert any(VAR in e for e in missing.errors)
    (channel,) = store[0].execute("SELECT * FROM alert_channels")
    assert channel["channel"] == channel_id(Channel(type="webhook", url_env=VAR)) and VAR in channel["last_error"]

    monkeypatch.setenv(VAR, hook.url)
    with caplog.at_level(logging.DEBUG):
        delivered = alerter.deliver_pending(DAYTIME + timedelta(hours=1))  # after the channel's back-off
    assert delivered.sent == 1 and len(hook.bodies) == 1
    assert hook.paths == [f"/services/{SECRET}?token=qsecret42"]
    assert hook.bodies[0]["type"] == "presswatch.alert"
    _assert_no_secret(_stored(store), caplog.text, _report_text(missing), _report_text(delivered))


def test_a_variable_that_is_not_an_http_url_is_an_error_naming_the_variable(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VAR, "file:///etc/hunter2")
    alerter = _alerter(store, Channel(type="webhook", url_env=VAR))
    _route(store, alerter)
    report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 0 and report.pending == 1
    (row,) = store[0].execute("SELECT * FROM alerts")
    assert VAR in row["error"] and "http" in row["error"]
    _assert_no_secret(_stored(store), _report_text(report))


@pytest.mark.parametrize("status", [404, 503])
def test_errors_from_the_receiver_name_only_scheme_host_and_port(store: Store, hooks: tuple[Hook, Hook],
                                                                 status: int, monkeypatch: pytest.MonkeyPatch,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    hook, _ = hooks
    hook.status = status
    monkeypatch.setenv(VAR, hook.url.replace("http://", "http://user:hunter2@"))
    channel = Channel(type="webhook", url_env=VAR, format="teams")
    alerter = _alerter(store, channel)
    _route(store, alerter)
    with caplog.at_level(logging.DEBUG):
        report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 0 and len(hook.paths) == 1
    (row,) = store[0].execute("SELECT * FROM alerts")
    assert f"HTTP {status}" in row["error"] and hook.origin in row["error"]
    assert channel_id(channel) in row["error"]  # the channel's fingerprint tells two channels on one host apart
    _assert_no_secret(_stored(store), caplog.text, _report_text(report))


def test_an_unreachable_receiver_names_only_the_host(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/services/{SECRET}?key=qsecret42"
    alerter = _alerter(store, Channel(type="webhook", url=url))
    _route(store, alerter)
    with caplog.at_level(logging.DEBUG):
        report = alerter.deliver_pending(DAYTIME)
    assert report.sent == 0 and report.pending == 1
    (row,) = store[0].execute("SELECT * FROM alerts")
    assert row["error"].startswith("cannot deliver via http://127.0.0.1:")
    _assert_no_secret(_stored(store), caplog.text, _report_text(report))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://hooks.slack.com/services/T0/B0/xyz", "https://hooks.slack.com"),
    ("https://user:pw@relay.example:8443/hook?token=x", "https://relay.example:8443"),
    ("http://[::1]:9000/a/b", "http://[::1]:9000"),
    ("not a url", "webhook"),
])
def test_webhook_target_keeps_only_scheme_host_and_port(url: str, expected: str) -> None:
    assert webhook_target(url) == expected


# --- the profile -------------------------------------------------------------------------------------------------
def _profile(channel: str) -> str:
    return profile_yaml() + f"alerts:\n  channels:\n    - {channel}\n"


@pytest.mark.parametrize("channel", [
    "{type: webhook, url: 'https://relay.example/hook', url_env: HOOK_URL}",  # both
    "{type: webhook, format: slack}",  # neither
    "{type: webhook, url_env: 'not a name'}",
    "{type: email, to: [a@example.org], url_env: HOOK_URL}",
])
def test_a_webhook_channel_has_exactly_one_of_url_and_url_env(channel: str) -> None:
    with pytest.raises(ProfileError, match=r"alerts\.channels\[0\]"):
        parse_profile(_profile(channel), "town.yaml")


@pytest.mark.parametrize(("url", "why"), [
    ("https://hooks.slack.com/services/T0/B0/xyzsecret", "Slack"),
    ("https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456", "Teams"),
    ("https://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=abc",
     "'sig'"),
    ("https://relay.example/hook?Token=abc", "'Token'"),
    ("https://relay.example/hook?key=abc", "'key'"),
    ("https://relay.example/hook?secret=abc", "'secret'"),
    ("https://ops:pw@relay.example/hook", "user:password@"),
])
def test_a_url_that_looks_secret_is_warned_about_with_file_line_and_key(url: str, why: str,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    text = _profile(f"{{type: webhook, url: '{url}', format: generic}}")
    line = text.splitlines().index(f"    - {{type: webhook, url: '{url}', format: generic}}") + 1
    with caplog.at_level(logging.WARNING, logger="presswatch.profile"):
        profile = parse_profile(text, "config/town.yaml")
    assert profile.alerts.channels[0].url == url  # allowed: a warning, not a refusal
    (record,) = [r for r in caplog.records if "secret" in r.getMessage()]
    message = record.getMessage()
    assert f"config/town.yaml:{line}" in message and "alerts.channels[0].url" in message and why in message
    assert "url_env" in message
    _assert_no_secret(message)
    assert url not in message and "abc" not in message


def test_a_url_without_a_secret_loads_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="presswatch.profile"):
        profile = parse_profile(_profile("{type: webhook, url: 'http://relay.intranet:8080/presswatch?lang=sk'}"))
        parse_profile(_profile("{type: webhook, url_env: PRESSWATCH_SLACK_URL, format: slack}"))
    assert profile.alerts.channels[0].url_env is None
    assert caplog.records == []
