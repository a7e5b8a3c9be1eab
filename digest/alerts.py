"""Alerts: tell the press office within minutes when a critical or misleading story about the municipality appears.

Two steps, so that a crash or an SMTP outage between them loses nothing:

1. `route(clippings)` applies the profile's alert rules, in the order the profile lists them, and claims one alert
   per (rule, story cluster) in the State ledger, keyed `"{municipality}/{rule}/{cluster}"`. A syndicated copy of
   a story that already has an alert shares its cluster, so it claims nothing; routing the same batch again claims
   nothing either.
2. `deliver_pending(now)` sends what is claimed and not yet sent, channel by channel (email; webhook with a
   generic, Slack or Teams body), in the channel's language (else the digest language): one message per story,
   whatever number of rules it matched. An alert is marked sent only after every channel's server accepted it;
   which channels already have it is kept in `alert_deliveries`, so a channel that failed is retried without
   repeating the ones that succeeded.

Holding and rolling up (all of it in the ledger, `alert_holds`, so a restart neither loses nor repeats a hold):
during the profile's quiet hours (its time zone) every owed alert is held per channel; when they end, the channel
gets ONE roll-up listing every held story. A rule with `cooldown_minutes` holds its further stories on a channel
for that long after its last alert went out there; when the cooldown ends they go out as one roll-up too (a story
that matched another rule not cooling down goes out at once). A roll-up of one story is an ordinary alert.

Retries: a channel that cannot be reached (or a webhook answering 5xx/429) is tried again after an exponential
back-off kept in `alert_channels` (ALERT_BACKOFF_*); until then it is skipped, and its alerts carry the time in
`alerts.next_attempt_at`, which the loop honours. An outage never counts against an alert's attempts; a refusal
(5xx for the recipients or content) does, and also waits its back-off.

Every alert says why (cue, quote, the official record it contradicts), links the article (and the clipping in the
press office's workspace when `alerts.clipping_url` is set), shows the clipping id and how to acknowledge it
(`presswatch ack <short id>`, a prefix of the clipping id; pipeline/cli.py).

Rule semantics (profile `alerts.rules`): `flag` critical | misleading | any (any flag; an unflagged clipping never
alerts); `min_severity` against the most severe flag of that type; `officials` / `bodies` empty = any, otherwise
the clipping must name at least one of the listed officials or bodies; `max_outlet_tier` 1..3 (1 = major).

Saved searches: every alerting saved search of the municipality (`ClippingIndex.match_saved`, run on the batch
just indexed) is a rule of its own, `saved:<id>`, keyed like the others (`{municipality}/saved:<id>/{cluster}`), so
the same story matched by the same search again, or a copy of it, alerts once. It goes to the profile's channels,
held by quiet hours like any alert; the message names the search.

Response status (`ClippingIndex.set_status`): a clipping already dismissed, or whose response is published, claims
no alert; an alert still owed (e.g. held by quiet hours) for a story that meanwhile got one of those statuses is
not sent: it is marked `dropped` in the ledger with the reason, and logged. `acknowledged` (or drafted) does not
drop it: the press office knows of the story, but the other recipients still need to hear of it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

from presswatch.digest import defaults
from presswatch.digest.i18n import Locale, locale
from presswatch.digest.mail import DeliveryError, build_message, message_id, send
from presswatch.digest.render import one_line, render_html, render_text, safe_url
from presswatch.digest.views import FlagView, body_names, flag_views, official_names, story_view, when
from presswatch.digest.webhooks import ChatReason, ChatStory, post_json, slack_body, teams_body
from presswatch.index.base import ClippingIndex, SavedSearch
from presswatch.profile import AlertRule, Channel, Profile, QuietHours
from presswatch.records import Clipping, Flag
from presswatch.state import State, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0  # alerts delivered on every channel by this call
    pending: int = 0  # alerts still owed after this call (held, failed, or not yet tried)
    held: int = 0  # held because of quiet hours or a rule's cooldown
    errors: tuple[str, ...] = ()
    sent_keys: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()  # (alert key, error); stays pending, retried next time
    quiet: bool = False
    dropped: int = 0  # alerts not sent because the story was dismissed or answered meanwhile
    messages: int = 0  # messages and webhook calls servers accepted in this call (a roll-up is one)


@dataclass(frozen=True, slots=True)
class StoryAlert:
    """One story's owed alert: its ledger keys (one per rule it matched) and what its message needs."""

    cluster: str
    keys: tuple[str, ...]
    clipping: Clipping
    rules: tuple[AlertRule, ...]
    saved: tuple[tuple[str, str], ...]  # (id, name) of the saved searches it matched
    rule_ids: tuple[str, ...]


@dataclass(slots=True)
class _Run:
    """What one `deliver_pending` call did so far (internal bookkeeping, not stored)."""

    now: datetime
    held: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    retry_at: dict[str, datetime] = field(default_factory=dict)
    down: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # channel -> (error, next attempt)
    waiting: list[str] = field(default_factory=list)  # channels backing off, with their last error
    messages: int = 0


# A clipping in one of these statuses needs no alert: the press office has decided, or has already responded.
SETTLED = ("dismissed", "published")
SAVED_PREFIX = "saved:"


def channel_id(channel: Channel) -> str:
    if channel.type == "email":
        return "email:" + ",".join(sorted(a.lower() for a in channel.to))
    # A webhook URL often embeds its secret: keep only a fingerprint in the store. A channel whose URL is in the
    # environment is known by the variable's name, so its id does not depend on (or reveal) the value.
    ident = f"env:{channel.url_env}" if channel.url_env else (channel.url or "")
    return "webhook:" + hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]


def webhook_url(channel: Channel, cid: str, env: Mapping[str, str] | None = None) -> str:
    """The channel's webhook URL: from the environment variable `url_env` names (read at each delivery, like the
    SMTP password), else the profile's `url`. A missing or malformed variable is a DeliveryError naming the
    variable, never its value; transient, so the channel backs off and its alerts stay pending (no attempt is
    counted) until the operator sets it."""
    if not channel.url_env:
        return channel.url or ""
    value = (os.environ if env is None else env).get(channel.url_env, "").strip()
    if not value:
        raise DeliveryError(cid, f"the webhook URL is not set: environment variable {channel.url_env} (named by "
                                 "alerts.channels[].url_env) is missing or empty; set it where presswatch runs")
    if safe_url(value) is None:
        raise DeliveryError(cid, f"environment variable {channel.url_env} (alerts.channels[].url_env) does not hold "
                                 "an http:// or https:// URL")
    return value


def short_id(clipping_id: str) -> str:
    """What an alert shows for `presswatch ack`: a prefix of the clipping id, short enough to type."""
    return clipping_id[: defaults.ACK_ID_CHARS]


def _hhmm(value: str) -> time:
    hour, minute = (int(x) for x in value.split(":"))
    return time(hour, minute)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


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
        rows = self.state.alerts_due(self.profile.id, now, self.max_attempts)
        if not rows:  # nothing due: say why what is pending waits, if a channel is backing off
            pending = len(self._pending())
            notes = [self._waiting_note(b) for c in self.channels
                     if (b := self.state.channel_backoff(self.profile.id, channel_id(c))) and b[0] > now]
            return DeliveryReport(pending=pending, errors=tuple(notes) if pending else ())
        quiet = self.in_quiet_hours(now)
        if not self.channels:
            msg = "alerts are pending but the profile has no alerts.channels"
            return DeliveryReport(pending=len(self._pending()), held=len(rows) if quiet else 0, quiet=quiet,
                                  errors=() if quiet else (msg,))

        groups: dict[str, list[Any]] = {}
        for row in rows:  # one message per story, whatever number of rules it matched
            groups.setdefault(row["cluster_id"], []).append(row)
        run = _Run(now)
        dropped = 0
        stories: list[StoryAlert] = []
        for group in groups.values():
            keys = [r["key"] for r in group]
            if self._drop_if_settled(group, keys):
                dropped += len(keys)
                continue
            story = self._story(group, run)
            if story is not None:
                stories.append(story)
        if quiet:
            log.info("%d alert(s) held: quiet hours %s–%s", sum(len(s.keys) for s in stories),
                     self.quiet_hours.start if self.quiet_hours else "",
                     self.quiet_hours.end if self.quiet_hours else "")
        for channel in self.channels:
            self._deliver_channel(channel, stories, quiet, run)

        sent: list[str] = []
        cids = [channel_id(c) for c in self.channels]
        for story in stories:
            keys = list(story.keys)
            if any(k in run.failed for k in keys) or not all(self._delivered(keys, cid) for cid in cids):
                continue
            msg_id = self._message_id_of(keys[0], cids[-1])
            for k in keys:
                self.state.alert_sent(k, msg_id)
            sent += keys
        for k, when_next in run.retry_at.items():
            if k not in sent:
                self.state.alert_retry_at(k, when_next)
        pending = len(self._pending())
        failed = tuple(run.failed.items())
        errors = tuple(dict.fromkeys([*run.failed.values(), *run.waiting]))
        held = len(run.held - set(sent))
        return DeliveryReport(sent=len(sent), pending=pending, held=held, errors=errors, sent_keys=tuple(sent),
                              failed=failed, quiet=quiet, dropped=dropped, messages=run.messages)

    def _story(self, group: list[Any], run: _Run) -> StoryAlert | None:
        keys = tuple(r["key"] for r in group)
        clipping = self.index.get(group[0]["clipping_id"])
        if clipping is None:
            error = f"clipping {group[0]['clipping_id']} is no longer in the index"
            for k in keys:
                self.state.alert_failed(k, error)
                run.failed[k] = error
            return None
        rule_ids = tuple(row["rule"] for row in group)
        rules = tuple(r for r in self.rules if r.id in rule_ids)
        saved = self._saved_names(sorted(r[len(SAVED_PREFIX):] for r in rule_ids if r.startswith(SAVED_PREFIX)))
        return StoryAlert(cluster=group[0]["cluster_id"], keys=keys, clipping=clipping, rules=rules,
                          saved=tuple(saved), rule_ids=rule_ids)

    def _deliver_channel(self, channel: Channel, stories: Sequence[StoryAlert], quiet: bool, run: _Run) -> None:
        """Everything one channel is owed: held during quiet hours; otherwise the due holds (and what is fresh
        and not cooling down) as one roll-up, else each fresh story on its own, cooldowns applied in turn."""
        cid = channel_id(channel)
        owed = [s for s in stories if not self._delivered(s.keys, cid)]
        if not owed:
            return
        if quiet:
            for s in owed:
                self._hold(s, cid, "quiet", run)
            return
        backoff = self.state.channel_backoff(self.profile.id, cid)
        if backoff is not None and backoff[0] > run.now:  # backing off: not tried, nothing counted
            retry_at = backoff[0]
            run.waiting.append(self._waiting_note(backoff))
            for s in owed:
                for k in s.keys:
                    run.retry_at[k] = min(run.retry_at.get(k, retry_at), retry_at)
            return
        due: list[StoryAlert] = []
        fresh: list[StoryAlert] = []
        reasons: set[str] = set()
        for s in owed:
            holds = self.state.alert_holds(cid, list(s.keys))
            if not holds:
                fresh.append(s)
            elif any(h["reason"] == "quiet" or h["until"] is None or _dt(h["until"]) <= run.now for h in holds):
                due.append(s)
                reasons |= {h["reason"] for h in holds}
            else:
                run.held |= set(s.keys)
        if due:  # a roll-up goes out now: fresh stories not cooling down join it rather than follow it
            batch = list(due)
            for s in fresh:
                if not self._cooling(s, cid, run):
                    batch.append(s)
            self._send(channel, cid, batch, "quiet" if "quiet" in reasons else "cooldown", run)
            return
        for i, s in enumerate(fresh):
            if self._cooling(s, cid, run):
                continue
            if not self._send(channel, cid, [s], "", run):
                self._defer(fresh[i + 1:], cid, run)  # the channel is down: the rest wait for its back-off
                return

    def _defer(self, stories: Sequence[StoryAlert], cid: str, run: _Run) -> None:
        error, when_next = run.down[cid]
        for s in stories:
            for k in s.keys:
                self.state.alert_deferred(k, f"not tried: {error}")
                run.retry_at[k] = min(run.retry_at.get(k, when_next), when_next)
                run.failed[k] = error

    @staticmethod
    def _waiting_note(backoff: tuple[datetime, str]) -> str:
        return f"{backoff[1]} (next attempt {backoff[0].astimezone(UTC):%Y-%m-%d %H:%M} UTC)"

    def _hold(self, story: StoryAlert, cid: str, reason: str, run: _Run, rule: str | None = None,
              until: datetime | None = None) -> None:
        for k in story.keys:
            self.state.alert_hold(k, cid, reason, run.now, rule=rule, until=until)
        run.held |= set(story.keys)

    def _cooldown(self, rule_id: str) -> int:
        rule = next((r for r in self.rules if r.id == rule_id), None)
        return rule.cooldown_minutes if rule is not None else defaults.ALERT_COOLDOWN_MINUTES

    def _cooling(self, story: StoryAlert, cid: str, run: _Run) -> bool:
        """Hold the story when every rule it matched is within its cooldown on this channel (True when held)."""
        ends: list[tuple[datetime, str]] = []
        for rule_id in dict.fromkeys(story.rule_ids):
            minutes = self._cooldown(rule_id)
            last = self.state.alert_last_sent(self.profile.id, rule_id, cid) if minutes else None
            if last is None or last + timedelta(minutes=minutes) <= run.now:
                return False  # a rule free to alert: the story goes now
            ends.append((last + timedelta(minutes=minutes), rule_id))
        until, rule_id = min(ends)
        self._hold(story, cid, "cooldown", run, rule=rule_id, until=until)
        return True

    def _send(self, channel: Channel, cid: str, batch: Sequence[StoryAlert], reason: str, run: _Run) -> bool:
        """One message (an alert, or a roll-up of several) on one channel. False when the channel is down."""
        keys = [k for s in batch for k in s.keys]
        try:
            msg_id = self._deliver(channel, cid, batch, reason, run.now)
        except DeliveryError as exc:
            log.warning("alert %s not delivered on %s: %s", keys[0], cid, exc)
            if exc.transient:  # the channel, not the alert: back off, count nothing
                when_next = self.state.channel_failed(self.profile.id, cid, str(exc), run.now,
                                                      defaults.ALERT_BACKOFF_BASE_S, defaults.ALERT_BACKOFF_MAX_S)
                run.down[cid] = (str(exc), when_next)
                for k in keys:
                    self.state.alert_deferred(k, str(exc))
                    run.retry_at[k] = min(run.retry_at.get(k, when_next), when_next)
                    run.failed[k] = str(exc)
                return False
            self._refused(keys, str(exc), run)
            return True
        except Exception as exc:  # noqa: BLE001 - one broken alert must not block the others
            log.exception("alert %s could not be built", keys[0])
            self._refused(keys, f"{type(exc).__name__}: {exc}", run)
            return True
        self.state.channel_ok(self.profile.id, cid)
        self._record(keys, cid, msg_id, run.now)
        self.state.alert_release(cid, keys)
        run.messages += 1
        return True

    def _refused(self, keys: Sequence[str], error: str, run: _Run) -> None:
        """The server refused this alert (or it could not be built): an attempt counts, and it waits its back-off."""
        for k in keys:
            self.state.alert_failed(k, error)
            attempts = int(self.state.execute("SELECT attempts FROM alerts WHERE key=?", (k,))[0]["attempts"])
            delay = min(defaults.ALERT_BACKOFF_MAX_S, defaults.ALERT_BACKOFF_BASE_S * 2 ** min(attempts - 1, 30))
            run.retry_at[k] = run.now + timedelta(seconds=delay)
            run.failed[k] = error

    def _drop_if_settled(self, group: list[Any], keys: list[str]) -> bool:
        """Mark a story's owed alerts `dropped` when the press office dismissed it or published its response since
        they were claimed (the claimed clipping or any copy of the story). True when dropped."""
        first = group[0]
        clipping = self.index.get(first["clipping_id"])
        if clipping is None:
            return False  # _story records that error
        copies = self.index.cluster(first["cluster_id"])
        settled = next((c for c in [clipping, *copies] if c.status in SETTLED), None)
        if settled is None:
            return False
        reason = f"dropped: clipping {settled.id} is {settled.status} (status set before the alert went out)"
        log.info("alert %s not sent: %s", ", ".join(keys), reason)
        for k in keys:
            self.state.execute("UPDATE alerts SET state='dropped', error=? WHERE key=? AND state='pending'",
                               (reason, k))
            self.state.execute("DELETE FROM alert_holds WHERE key=?", (k,))  # nothing left to roll up
        return True

    def _delivered(self, keys: Iterable[str], cid: str) -> bool:
        keys = list(keys)
        marks = ",".join("?" * len(keys))
        rows = self.state.execute(f"SELECT count(*) AS n FROM alert_deliveries WHERE channel=? AND key IN ({marks})",
                                  (cid, *keys))
        return bool(rows) and rows[0]["n"] == len(keys)

    def _message_id_of(self, key: str, cid: str) -> str | None:
        rows = self.state.execute("SELECT message_id FROM alert_deliveries WHERE key=? AND channel=?", (key, cid))
        return rows[0]["message_id"] if rows else None

    def _record(self, keys: Iterable[str], cid: str, msg_id: str | None, now: datetime) -> None:
        # sent_at is the delivery loop's `now`: it starts the rule's cooldown on this channel
        for k in keys:
            self.state.execute("INSERT OR IGNORE INTO alert_deliveries(key, channel, sent_at, message_id)"
                               " VALUES (?,?,?,?)", (k, cid, _iso(now), msg_id))

    def _saved_names(self, ids: Sequence[str]) -> list[tuple[str, str]]:
        """(id, name) of saved searches; a search deleted since it matched keeps its id as its name."""
        if not ids:
            return []
        known: dict[str, SavedSearch] = {s.id: s for s in self.index.saved_searches(self.profile.id)}
        return [(sid, known[sid].name if sid in known else sid) for sid in ids]

    def _deliver(self, channel: Channel, cid: str, batch: Sequence[StoryAlert], reason: str, now: datetime) -> str:
        language = channel.language or self.profile.digest_language
        keys = sorted(k for s in batch for k in s.keys)
        if channel.type == "email":
            if not channel.to:
                raise DeliveryError(cid, "the email channel has no recipients (alerts.channels[].to)",
                                    transient=False)
            if len(batch) == 1:
                s = batch[0]
                msg = self.message(s.clipping, s.rules, s.keys, language, channel.to, now, cid, s.saved)
            else:
                msg = self.rollup_message(batch, reason, language, channel.to, now, cid)
            return send(self.profile, msg)
        if channel.type == "webhook":
            url = webhook_url(channel, cid)
            try:
                post_json(url, self.webhook_body(channel.format, batch, reason, language))
            except DeliveryError as exc:  # name the channel too: two Slack channels share hooks.slack.com
                raise DeliveryError(f"{exc.target} ({cid})", exc.reason, transient=exc.transient) from None
            return f"webhook:{message_id(self.profile.smtp.sender, 'alert', *keys, cid)}"
        raise DeliveryError(cid, f"unknown channel type {channel.type!r}", transient=False)

    # --- content -------------------------------------------------------------------------------------------------
    def workspace_url(self, clipping: Clipping) -> str | None:
        template = self.profile.alerts.clipping_url
        return safe_url(template.replace("{id}", clipping.id)) if template else None

    def _context(self, clipping: Clipping, rules: Sequence[AlertRule], language: str,
                 saved: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        L: Locale = locale(language)
        flags = [f for f in clipping.enrichment.flags if any(r.flag in ("any", f.type) for r in rules)] \
            or list(clipping.enrichment.flags)
        main = max(flags, key=lambda f: (f.severity, f.type == "critical")) if flags else None
        views: tuple[FlagView, ...] = flag_views(self.profile, L, flags, max_reasons=5)
        # the story's copies as the index knows them when the alert goes out: an alert held (quiet hours, cooldown,
        # an outage) names the outlets that picked the story up meanwhile, instead of a copy alerting again
        copies = self.index.cluster(clipping.cluster_id or clipping.id)
        story = story_view(self.profile, L, clipping, copies=copies, with_flags=False)
        names = L.join(L.quote(name) for _, name in saved)
        if main is not None and rules:  # a flag rule matched: the flag leads, the saved searches are named below
            heading = L.t(f"alert_title_{main.type}")
        else:  # only saved searches matched; the clipping's flags (if any) are still shown as the reasons
            heading = L.t("alert_title_saved", searches=names)
        subject = L.t("alert_subject", flag=heading, title=one_line(clipping.article.title, 140) or story.title,
                      outlet=story.outlet)
        moment = when(clipping)
        workspace = self.workspace_url(clipping)
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
            clipping_id=clipping.id, short_id=short_id(clipping.id), workspace_url=workspace,
            ack=L.t("alert_ack", command=f"presswatch ack {short_id(clipping.id)}"),
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

    def _rollup_context(self, batch: Sequence[StoryAlert], reason: str, language: str) -> dict[str, Any]:
        L = locale(language)
        items = [self._context(s.clipping, s.rules, language, s.saved) for s in batch]
        name = self.profile.municipality.name
        if reason == "quiet":
            subject = L.t("alert_rollup_subject_quiet", n=len(batch))
            quiet = self.quiet_hours
            intro = L.t("alert_rollup_intro_quiet", municipality=name, start=quiet.start if quiet else "",
                        end=quiet.end if quiet else "")
        else:
            rule_ids = list(dict.fromkeys(r for s in batch for r in s.rule_ids))
            minutes = max(self._cooldown(r) for r in rule_ids)
            subject = L.t("alert_rollup_subject_cooldown", n=len(batch), rules=L.join(rule_ids))
            intro = L.t("alert_rollup_intro_cooldown", municipality=name, minutes=minutes)
        return dict(t=L.t, lang=language, subject=subject, intro=intro, items=items,
                    footer=L.t("alert_footer", operator=self.profile.operator.name))

    def rollup_message(self, batch: Sequence[StoryAlert], reason: str, language: str, to: Sequence[str],
                       now: datetime, cid: str = "email") -> EmailMessage:
        """One message listing every held story (quiet hours ended, or a rule's cooldown ended)."""
        ctx = self._rollup_context(batch, reason, language)
        keys = sorted(k for s in batch for k in s.keys)
        return build_message(
            sender=self.profile.smtp.sender, sender_name=self.profile.operator.name, to=to, subject=ctx["subject"],
            text=render_text("alert_rollup.txt.j2", **ctx), html=render_html("alert_rollup.html.j2", **ctx),
            date=now.astimezone(self.profile.tz), language=language,
            msg_id=message_id(self.profile.smtp.sender, "alert", *keys, cid),
            headers={"X-Presswatch-Kind": "alert-rollup", "X-Presswatch-Alert": " ".join(keys)},
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
            "alert_id": ctx["short_id"],
            "ack": f"presswatch ack {ctx['short_id']}",
            "clipping": {
                "id": clipping.id,
                "cluster_id": clipping.cluster_id or clipping.id,
                "url": safe_url(clipping.article.url),
                "workspace_url": ctx["workspace_url"],
                "title": clipping.article.title,
                "outlet": clipping.article.outlet,
                "outlet_name": ctx["story"].outlet,
                "published": moment.isoformat() if moment else None,
                "officials": list(clipping.enrichment.officials),
                "bodies": list(clipping.enrichment.bodies),
            },
            "flags": clipping.enrichment.to_json()["flags"],
        }

    def webhook_body(self, fmt: str, batch: Sequence[StoryAlert], reason: str, language: str) -> dict[str, Any]:
        """The body for a webhook channel's `format`: one story, or a roll-up of several."""
        if fmt == "generic":
            if len(batch) == 1:
                s = batch[0]
                return self.payload(s.clipping, s.rules, s.keys, language, s.saved)
            ctx = self._rollup_context(batch, reason, language)
            return {"type": "presswatch.alert_rollup", "municipality": self.profile.id, "reason": reason,
                    "language": language, "subject": ctx["subject"],
                    "text": render_text("alert_rollup.txt.j2", **ctx),
                    "keys": sorted(k for s in batch for k in s.keys),
                    "alerts": [self.payload(s.clipping, s.rules, s.keys, language, s.saved) for s in batch]}
        if len(batch) == 1:
            s = batch[0]
            ctx = self._context(s.clipping, s.rules, language, s.saved)
            subject, intro, items = ctx["subject"], ctx["intro"], [ctx]
            text = render_text("alert.txt.j2", **ctx)
        else:
            roll = self._rollup_context(batch, reason, language)
            subject, intro, items = roll["subject"], roll["intro"], roll["items"]
            text = render_text("alert_rollup.txt.j2", **roll)
        stories = [self._chat_story(ctx) for ctx in items]
        if fmt == "slack":
            return slack_body(subject, intro, stories, text)
        if fmt == "teams":
            return teams_body(subject, intro, stories, text)
        raise DeliveryError(fmt, f"unknown webhook format {fmt!r}", transient=False)

    @staticmethod
    def _chat_story(ctx: dict[str, Any]) -> ChatStory:
        t, story = ctx["t"], ctx["story"]
        facts = [f"{t('alert_outlet')}: {story.outlet}" + (f" · {t('major_outlet')}" if story.major else "")]
        if story.also_in:
            facts.append(story.also_in)
        if ctx["published"]:
            facts.append(f"{t('published')}: {ctx['published']}")
        if ctx["officials"]:
            facts.append(f"{t('alert_officials')}: {ctx['officials']}")
        if ctx["bodies"]:
            facts.append(f"{t('alert_bodies')}: {ctx['bodies']}")
        reasons = tuple(
            ChatReason(cue=r.cue, quote=r.quote, record=f"{t('contradicts')}: {r.record}"
                       + (f" ({r.record_url})" if r.record_url else "") if r.record else None)
            for f in ctx["flags"] for r in f.reasons)
        heading = ctx["heading"] + (f" · {ctx['severity']}" if ctx["severity"] else "")
        return ChatStory(title=story.title, url=story.url, heading=heading, facts=tuple(facts),
                         why_label=t("alert_why"), reasons=reasons, saved=ctx["saved"], ack=ctx["ack"],
                         clipping=f"{t('alert_clipping')}: {ctx['workspace_url'] or ctx['clipping_id']}",
                         workspace_url=ctx["workspace_url"], open_label=t("read_article"),
                         workspace_label=t("alert_open_clipping"))


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


__all__ = ["SAVED_PREFIX", "SETTLED", "Alerter", "DeliveryReport", "StoryAlert", "channel_id", "in_quiet_hours",
           "matching_flags", "post_json", "short_id", "webhook_url"]
