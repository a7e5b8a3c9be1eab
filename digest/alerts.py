"""Alerts: tell the press office within minutes when a critical or misleading story about the municipality appears.

Two steps, so that a crash or an SMTP outage between them loses nothing:

1. `route(clippings)` applies the profile's alert rules, in the order the profile lists them, and claims one alert
   per (rule, story cluster) in the State ledger, keyed `"{municipality}/{rule}/{cluster}"`. A syndicated copy of
   a story that already has an alert shares its cluster, so it claims nothing; routing the same batch again claims
   nothing either.
2. `deliver_pending(now)` sends what is claimed and not yet sent: one message per story on each channel (email;
   webhook with a JSON body), in the channel's language (else the digest language). An alert is marked sent only
   after every channel's server accepted it; which channels already have it is kept in `alert_deliveries`, so a
   channel that failed is retried without repeating the ones that succeeded. During the profile's quiet hours
   (its time zone) alerts are held, not dropped.

Rule semantics (profile `alerts.rules`): `flag` critical | misleading | any (any flag; an unflagged clipping never
alerts); `min_severity` against the most severe flag of that type; `officials` / `bodies` empty = any, otherwise
the clipping must name at least one of the listed officials or bodies; `max_outlet_tier` 1..3 (1 = major).

Saved searches: every alerting saved search of the municipality (`ClippingIndex.match_saved`, run on the batch
just indexed) is a rule of its own, `saved:<id>`, keyed like the others (`{municipality}/saved:<id>/{cluster}`), so
the same story matched by the same search again, or a copy of it, alerts once. It goes to the profile's channels,
held by quiet hours like any alert; the message names the search.

Response status (`ClippingIndex.set_status`): a clipping already dismissed, or whose response is published, claims
no alert; an alert still owed (e.g. held by quiet hours) for a story that meanwhile got one of those statuses is
not sent: it is marked `dropped` in the ledger with the reason, and logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from email.message import EmailMessage
from typing import Any

from presswatch.digest import defaults
from presswatch.digest.i18n import Locale, locale
from presswatch.digest.mail import DeliveryError, build_message, message_id, send
from presswatch.digest.render import one_line, render_html, render_text, safe_url
from presswatch.digest.views import FlagView, body_names, flag_views, official_names, story_view, when
from presswatch.index.base import ClippingIndex, SavedSearch
from presswatch.profile import AlertRule, Channel, Profile, QuietHours
from presswatch.records import Clipping, Flag
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)

_DELIVERIES = """
CREATE TABLE IF NOT EXISTS alert_deliveries (
    key TEXT NOT NULL,               -- the alert (alerts.key)
    channel TEXT NOT NULL,           -- channel_id(): email:<recipients> | webhook:<hash of the URL>
    sent_at TEXT NOT NULL,
    message_id TEXT,
    PRIMARY KEY (key, channel)
)"""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0  # alerts delivered on every channel by this call
    pending: int = 0  # alerts still owed after this call (held, failed, or not yet tried)
    held: int = 0  # held because of quiet hours
    errors: tuple[str, ...] = ()
    sent_keys: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (alert key, error); stays pending, retried next time
    quiet: bool = False
    dropped: int = 0  # alerts not sent because the story was dismissed or answered meanwhile


# A clipping in one of these statuses needs no alert: the press office has decided, or has already responded.
SETTLED = ("dismissed", "published")
SAVED_PREFIX = "saved:"


def channel_id(channel: Channel) -> str:
    if channel.type == "email":
        return "email:" + ",".join(sorted(a.lower() for a in channel.to))
    # A webhook URL often embeds its secret: keep only a fingerprint in the store.
    return "webhook:" + hashlib.sha256((channel.url or "").encode("utf-8")).hexdigest()[:16]


def _hhmm(value: str) -> time:
    hour, minute = (int(x) for x in value.split(":"))
    return time(hour, minute)


def in_quiet_hours(quiet: QuietHours | None, local: datetime) -> bool:
    """[start, end) in local time; a window that passes midnight (22:00–06:00) wraps. start == end: never."""
    if quiet is None:
        return False
    start, end, now = _hhmm(quiet.start), _hhmm(quiet.end), local.time().replace(second=0, microsecond=0)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def matching_flags(rule: AlertRule, clipping: Clipping) -> list[Flag]:
    return [f for f in clipping.enrichment.flags if rule.flag == "any" or f.type == rule.flag]


class Alerter:
    """Routes clippings to alerts and delivers them. Build it with `Alerter.from_profile(profile, state, index)`."""

    def __init__(self, profile: Profile, state: State, index: ClippingIndex, rules: Sequence[AlertRule],
                 channels: Sequence[Channel], quiet_hours: QuietHours | None,
                 max_attempts: int = defaults.ALERT_MAX_ATTEMPTS) -> None:
        self.profile = profile
        self.state = state
        self.index = index
        self.rules = tuple(rules)
        self.channels = tuple(channels)
        self.quiet_hours = quiet_hours
        self.max_attempts = max_attempts
        state.execute(_DELIVERIES)

    @classmethod
    def from_profile(cls, profile: Profile, state: State, index: ClippingIndex) -> Alerter:
        return cls(profile, state, index, profile.alerts.rules, profile.alerts.channels, profile.alerts.quiet_hours)

    # --- routing -------------------------------------------------------------------------------------------------
    def matches(self, rule: AlertRule, clipping: Clipping) -> bool:
        flags = matching_flags(rule, clipping)
        if not flags or max(f.severity for f in flags) < rule.min_severity:
            return False
        if rule.officials or rule.bodies:
            named = set(rule.officials) & set(clipping.enrichment.officials)
            named |= set(rule.bodies) & set(clipping.enrichment.bodies)
            if not named:
                return False
        return self.profile.outlet(clipping.article.outlet).tier <= rule.max_outlet_tier

    def key(self, rule: AlertRule | str, clipping: Clipping) -> str:
        rule_id = rule if isinstance(rule, str) else rule.id
        return f"{self.profile.id}/{rule_id}/{clipping.cluster_id or clipping.id}"

    def route(self, clippings: list[Clipping]) -> list[str]:
        """Claim the alerts these clippings call for (flag rules, then alerting saved searches); returns the keys
        claimed now (already claimed: skipped). The clippings must already be in the index (saved searches run
        there)."""
        # Within one batch, let the most severe copy from the biggest outlet claim a story's alert.
        ordered = sorted(clippings, key=lambda c: (-c.max_severity, self.profile.outlet(c.article.outlet).tier))
        eligible = [c for c in ordered if c.municipality == self.profile.id and c.enrichment.relevant
                    and c.status not in SETTLED]
        saved = self.index.match_saved(eligible) if eligible else {}
        claimed: list[str] = []
        for clipping in eligible:
            rule_ids = [rule.id for rule in self.rules if self.matches(rule, clipping)]
            rule_ids += [SAVED_PREFIX + sid for sid in saved.get(clipping.id, ())]
            for rule_id in rule_ids:
                key = self.key(rule_id, clipping)
                cluster = clipping.cluster_id or clipping.id
                if self.state.alert_claim(key, self.profile.id, rule_id, clipping.id, cluster):
                    claimed.append(key)
        return claimed

    # --- delivery ------------------------------------------------------------------------------------------------
    def in_quiet_hours(self, now: datetime) -> bool:
        return in_quiet_hours(self.quiet_hours, now.astimezone(self.profile.tz))

    def _pending(self) -> list[Any]:
        return self.state.alerts_pending(self.profile.id, self.max_attempts)

    def deliver_pending(self, now: datetime | None = None) -> DeliveryReport:
        now = now or utcnow()
        rows = self._pending()
        if not rows:
            return DeliveryReport()
        if self.in_quiet_hours(now):
            log.info("%d alert(s) held: quiet hours %s–%s", len(rows), self.quiet_hours.start if self.quiet_hours
                     else "", self.quiet_hours.end if self.quiet_hours else "")
            return DeliveryReport(pending=len(rows), held=len(rows), quiet=True)
        if not self.channels:
            msg = "alerts are pending but the profile has no alerts.channels"
            return DeliveryReport(pending=len(rows), errors=(msg,))

        groups: dict[str, list[Any]] = {}
        for row in rows:  # one message per story, whatever number of rules it matched
            groups.setdefault(row["cluster_id"], []).append(row)
        sent: list[str] = []
        failed: list[tuple[str, str]] = []
        dropped = 0
        down: dict[str, DeliveryError] = {}  # a channel that is unreachable is not tried again in this call
        for group in groups.values():
            keys = [r["key"] for r in group]
            if self._drop_if_settled(group, keys):
                dropped += len(keys)
                continue
            error = self._deliver_group(group, keys, now, down)
            if error is None:
                sent += keys
            else:
                failed += [(k, error) for k in keys]
        pending = len(self._pending())
        errors = tuple(dict.fromkeys(err for _, err in failed))
        return DeliveryReport(sent=len(sent), pending=pending, errors=errors, sent_keys=tuple(sent),
                              failed=tuple(failed), dropped=dropped)

    def _drop_if_settled(self, group: list[Any], keys: list[str]) -> bool:
        """Mark a story's owed alerts `dropped` when the press office dismissed it or published its response since
        they were claimed (the claimed clipping or any copy of the story). True when dropped."""
        first = group[0]
        clipping = self.index.get(first["clipping_id"])
        if clipping is None:
            return False  # _deliver_group records that error
        copies = self.index.cluster(first["cluster_id"])
        settled = next((c for c in [clipping, *copies] if c.status in SETTLED), None)
        if settled is None:
            return False
        reason = f"dropped: clipping {settled.id} is {settled.status} (status set before the alert went out)"
        log.info("alert %s not sent: %s", ", ".join(keys), reason)
        for k in keys:
            self.state.execute("UPDATE alerts SET state='dropped', error=? WHERE key=? AND state='pending'",
                               (reason, k))
        return True

    def _deliver_group(self, group: list[Any], keys: list[str], now: datetime,
                       down: dict[str, DeliveryError]) -> str | None:
        """Deliver one story's alert on every channel that does not have it yet; None when all have it."""
        clipping = self.index.get(group[0]["clipping_id"])
        if clipping is None:
            error = f"clipping {group[0]['clipping_id']} is no longer in the index"
            for k in keys:
                self.state.alert_failed(k, error)
            return error
        rule_ids = {row["rule"] for row in group}
        rules = [r for r in self.rules if r.id in rule_ids]
        saved = self._saved_names(sorted(r[len(SAVED_PREFIX):] for r in rule_ids if r.startswith(SAVED_PREFIX)))
        last_id: str | None = None
        problem: str | None = None
        for channel in self.channels:
            cid = channel_id(channel)
            if self._delivered(keys, cid):
                continue
            if cid in down:
                err = down[cid]
                problem = problem or str(err)
                for k in keys:
                    self.state.alert_deferred(k, f"not tried: {err}")
                continue
            try:
                last_id = self._deliver(channel, cid, clipping, rules, keys, now, saved)
            except DeliveryError as exc:
                log.warning("alert %s not delivered on %s: %s", keys[0], cid, exc)
                problem = problem or str(exc)
                for k in keys:
                    (self.state.alert_deferred if exc.transient else self.state.alert_failed)(k, str(exc))
                if exc.transient:
                    down[cid] = exc
                continue
            except Exception as exc:  # noqa: BLE001 - one broken alert must not block the others
                log.exception("alert %s could not be built", keys[0])
                problem = problem or f"{type(exc).__name__}: {exc}"
                for k in keys:
                    self.state.alert_failed(k, problem)
                continue
            self._record(keys, cid, last_id)
        if problem is not None:
            return problem
        for k in keys:
            self.state.alert_sent(k, last_id)
        return None

    def _delivered(self, keys: Iterable[str], cid: str) -> bool:
        keys = list(keys)
        marks = ",".join("?" * len(keys))
        rows = self.state.execute(f"SELECT count(*) AS n FROM alert_deliveries WHERE channel=? AND key IN ({marks})",
                                  (cid, *keys))
        return bool(rows) and rows[0]["n"] == len(keys)

    def _record(self, keys: Iterable[str], cid: str, msg_id: str | None) -> None:
        for k in keys:
            self.state.execute("INSERT OR IGNORE INTO alert_deliveries(key, channel, sent_at, message_id)"
                               " VALUES (?,?,?,?)", (k, cid, utcnow().isoformat(), msg_id))

    def _saved_names(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """(id, name) of saved searches; a search deleted since it matched keeps its id as its name."""
        if not ids:
            return []
        known: dict[str, SavedSearch] = {s.id: s for s in self.index.saved_searches(self.profile.id)}
        return [(sid, known[sid].name if sid in known else sid) for sid in ids]

    def _deliver(self, channel: Channel, cid: str, clipping: Clipping, rules: Sequence[AlertRule],
                 keys: Sequence[str], now: datetime, saved: Sequence[tuple[str, str]] = ()) -> str:
        language = channel.language or self.profile.digest_language
        if channel.type == "email":
            if not channel.to:
                raise DeliveryError(cid, "the email channel has no recipients (alerts.channels[].to)",
                                    transient=False)
            msg = self.message(clipping, rules, keys, language, channel.to, now, cid, saved)
            return send(self.profile, msg)
        if channel.type == "webhook":
            post_json(channel.url or "", self.payload(clipping, rules, keys, language, saved))
            return f"webhook:{keys[0]}"
        raise DeliveryError(cid, f"unknown channel type {channel.type!r}", transient=False)

    # --- content -------------------------------------------------------------------------------------------------
    def _context(self, clipping: Clipping, rules: Sequence[AlertRule], language: str,
                 saved: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        L: Locale = locale(language)
        flags = [f for f in clipping.enrichment.flags if any(r.flag in ("any", f.type) for r in rules)] \
            or list(clipping.enrichment.flags)
        main = max(flags, key=lambda f: (f.severity, f.type == "critical")) if flags else None
        views: tuple[FlagView, ...] = flag_views(self.profile, L, flags, max_reasons=5)
        story = story_view(self.profile, L, clipping, with_flags=False)
        names = L.join(L.quote(name) for _, name in saved)
        if main is not None and rules:  # a flag rule matched: the flag leads, the saved searches are named below
            heading = L.t(f"alert_title_{main.type}")
        else:  # only saved searches matched; the clipping's flags (if any) are still shown as the reasons
            heading = L.t("alert_title_saved", searches=names)
        subject = L.t("alert_subject", flag=heading, title=one_line(clipping.article.title, 140) or story.title,
                      outlet=story.outlet)
        moment = when(clipping)
        return dict(
            t=L.t, lang=language, subject=subject, heading=heading,
            color="#1d4ed8" if main is None else "#b91c1c" if main.type == "critical" else "#b45309",
            severity=f"{L.t('severity')} {L.percent(main.severity)}" if main is not None else "",
            intro=L.t("alert_intro", municipality=self.profile.municipality.name),
            story=story, flags=views, published=L.datetime(moment, self.profile.tz) if moment else "",
            officials=L.join(official_names(self.profile, clipping.enrichment.officials)),
            bodies=L.join(body_names(self.profile, clipping.enrichment.bodies)),
            saved=L.t("alert_saved_matched", searches=names) if saved else "",
            rules=L.join([r.id for r in rules] + [SAVED_PREFIX + sid for sid, _ in saved]),
            footer=L.t("alert_footer", operator=self.profile.operator.name),
        )

    def message(self, clipping: Clipping, rules: Sequence[AlertRule], keys: Sequence[str], language: str,
                to: Sequence[str], now: datetime, cid: str = "email",
                saved: Sequence[tuple[str, str]] = ()) -> EmailMessage:
        ctx = self._context(clipping, rules, language, saved)
        return build_message(
            sender=self.profile.smtp.sender, sender_name=self.profile.operator.name, to=to, subject=ctx["subject"],
            text=render_text("alert.txt.j2", **ctx), html=render_html("alert.html.j2", **ctx),
            date=now.astimezone(self.profile.tz), language=language,
            msg_id=message_id(self.profile.smtp.sender, "alert", *sorted(keys), cid),
            headers={"X-Presswatch-Kind": "alert", "X-Presswatch-Alert": " ".join(sorted(keys))},
        )

    def payload(self, clipping: Clipping, rules: Sequence[AlertRule], keys: Sequence[str],
                language: str, saved: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        """The webhook body: the facts as data, plus `text` (the localised plain-text alert) for chat tools."""
        ctx = self._context(clipping, rules, language, saved)
        moment = when(clipping)
        return {
            "type": "presswatch.alert",
            "municipality": self.profile.id,
            "keys": list(keys),
            "rules": [r.id for r in rules] + [SAVED_PREFIX + sid for sid, _ in saved],
            "saved_searches": [{"id": sid, "name": name} for sid, name in saved],
            "language": language,
            "subject": ctx["subject"],
            "text": render_text("alert.txt.j2", **ctx),
            "clipping": {
                "id": clipping.id,
                "cluster_id": clipping.cluster_id or clipping.id,
                "url": safe_url(clipping.article.url),
                "title": clipping.article.title,
                "outlet": clipping.article.outlet,
                "outlet_name": ctx["story"].outlet,
                "published": moment.isoformat() if moment else None,
                "officials": list(clipping.enrichment.officials),
                "bodies": list(clipping.enrichment.bodies),
            },
            "flags": clipping.enrichment.to_json()["flags"],
        }


def post_json(url: str, body: dict[str, Any], timeout: float | None = None) -> None:
    """POST `body` as JSON; any 2xx is success. Raises DeliveryError naming the URL (without its query)."""
    target = url.split("?", 1)[0]
    if safe_url(url) is None:
        raise DeliveryError(target or "webhook", "the webhook URL must be http(s)", transient=False)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "presswatch/0.1 (alerts)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout or defaults.WEBHOOK_TIMEOUT_S) as response:
            response.read(65536)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(target, f"HTTP {exc.code} {exc.reason}",
                            transient=exc.code >= 500 or exc.code in (408, 429)) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(target, f"{reason}") from exc


__all__ = ["SAVED_PREFIX", "SETTLED", "Alerter", "DeliveryReport", "channel_id", "in_quiet_hours", "matching_flags", "post_json"]
