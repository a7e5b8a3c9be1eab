"""Issue #7, fault 1: the SMTP relay is down for an hour. A real aiosmtpd server is stopped, and started again on
the same port an hour later; the hour passes through the `now` the delivery functions take, not by sleeping.
Alerts and the briefing stay pending with the relay named, nothing is lost, no attempt is used up, and once the
relay is back each is delivered exactly once."""

from __future__ import annotations

from datetime import timedelta

from presswatch.digest import defaults
from presswatch.digest.alerts import Alerter
from presswatch.digest.briefing import briefing_languages, send_briefing
from presswatch.digest.smtpd import LoopbackSmtp
from presswatch.index.sqlite import SqliteIndex
from presswatch.state import State
from tests.test_digest_support import DAY, MUNI, NOW, audit_story, budget_claim, demo_profile

STEP = timedelta(minutes=5)
HOUR = timedelta(hours=1)


def test_smtp_down_for_an_hour_then_everything_goes_out_once(store: tuple[State, SqliteIndex]) -> None:
    state, index = store
    smtp = LoopbackSmtp().start()
    port = smtp.port
    profile = demo_profile(port)
    langs = tuple(briefing_languages(profile))
    try:
        # the relay works: yesterday's briefing goes out
        assert send_briefing(profile, index, state, DAY - timedelta(days=1), NOW - timedelta(days=1)).sent
        assert len(smtp.messages) == len(langs)
    finally:
        smtp.stop()

    story = audit_story() + [budget_claim()]
    index.upsert(story)
    alerter = Alerter.from_profile(profile, state, index)
    keys = alerter.route(story)
    assert len(keys) == 2

    now = NOW + timedelta(hours=3)  # 10:00 in Bratislava: no quiet hours
    start = now
    tries = 0
    while now < start + HOUR:
        down = alerter.deliver_pending(now)
        assert down.sent == 0 and down.pending == 2
        brief = send_briefing(profile, index, state, DAY, now)
        assert brief.sent == () and brief.failed
        assert all(f"127.0.0.1:{port}" in error for _, error in brief.failed)
        tries += 1
        now += STEP
    assert tries == 12
    rows = state.alerts_pending(MUNI)
    assert len(rows) == 2 and all(r["attempts"] == 0 for r in rows)  # an outage uses up no attempt
    assert all(f"127.0.0.1:{port}" in r["error"] for r in rows)
    for lang in langs:
        pending = state.briefing(MUNI, DAY.isoformat(), lang)
        assert pending is not None and pending["state"] == "pending" and f"127.0.0.1:{port}" in pending["error"]
    # the channel backs off rather than hammering the relay, never longer than the configured maximum
    backoff = state.channel_backoff(MUNI, next(iter({r["key"] for r in state.execute(
        "SELECT channel AS key FROM alert_channels")})))
    assert backoff is not None and backoff[0] <= now + timedelta(seconds=defaults.ALERT_BACKOFF_MAX_S)

    with LoopbackSmtp(port=port) as smtp:  # back, on the same port
        brief = send_briefing(profile, index, state, DAY, now)
        assert brief.sent == langs and not brief.failed
        delivered = 0
        for _ in range(10):  # every 5 minutes until the back-off lets the alerts through
            delivered += alerter.deliver_pending(now).sent
            now += STEP
        assert now - start <= HOUR + timedelta(seconds=defaults.ALERT_BACKOFF_MAX_S) + 10 * STEP
        assert delivered == 2
        # later runs send nothing again
        assert alerter.deliver_pending(now + HOUR).sent == 0
        assert send_briefing(profile, index, state, DAY, now + HOUR).already_sent == langs
        kinds = sorted(str(m["X-Presswatch-Kind"]) for m in smtp.messages)
        subjects = [str(m["Subject"]) for m in smtp.messages]
    assert len(subjects) == len(set(subjects)) == 2 + len(langs) and kinds.count("alert") == 2
    assert state.alert_counts(MUNI) == {"pending": 0, "sent": 2, "failed": 0}
    assert state.briefing_counts(MUNI) == {"pending": 0, "sent": 2 * len(langs)}
