"""The morning briefing: what was written about the municipality in the 24 hours before `digest.send_at`.

`build_briefing` reads the clipping index and the source health in State and renders an HTML and a plain-text
email in one language. `send_briefing` does it for the digest language (and English when `digest.english_copy`),
archives each in the State ledger *before* sending, sends it to `digest.recipients` and marks it sent, so a
briefing goes out once per day and language, also across restarts. `preview` only writes the files.

Contents, in this order: headline numbers with the daily average of the 7 days before; what needs a response
(critical and misleading stories, with the cue, the quoted sentence and the official record contradicted); top
stories, one per story cluster ("also in: ..."); coverage per official and body; the tone split with the tone of
each of the last 7 days (a pure-HTML bar per day) and the negative share against the 7 days before; sources that
went silent; an empty day says so in one sentence. The window is computed in the profile's time zone and queried
in UTC, as the store keeps it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

from presswatch.crawlers.health import assess
from presswatch.digest import defaults
from presswatch.digest.i18n import Locale, locale
from presswatch.digest.mail import DeliveryError, build_message, message_id, send, write_eml
from presswatch.digest.render import render_html, render_text
from presswatch.digest.views import StoryView, outlet_name, status_text, story_view, when
from presswatch.index.base import STATUSES, ClippingIndex, SearchQuery
from presswatch.profile import Profile
from presswatch.records import Clipping
from presswatch.state import SourceHealth, State

log = logging.getLogger(__name__)


# --- records ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BriefingCounts:
    clippings: int
    stories: int  # story clusters
    critical: int
    misleading: int
    negative: int
    neutral: int
    positive: int
    needs_response: int  # story clusters with a critical or misleading flag, not dismissed by the press office
    silent_sources: int
    avg_clippings: float  # daily averages over the AVERAGE_DAYS before the window
    avg_critical: float
    avg_misleading: float
    avg_negative: float
    dismissed: int = 0  # flagged story clusters the press office dismissed: counted above, not listed


@dataclass(frozen=True, slots=True)
class Briefing:
    municipality: str
    day: date  # the local date of the morning it is sent
    language: str
    period_start: datetime  # UTC, inclusive
    period_end: datetime  # UTC, exclusive
    subject: str
    html: str
    text: str
    counts: BriefingCounts

    @property
    def empty(self) -> bool:
        return self.counts.clippings == 0


@dataclass(frozen=True, slots=True)
class BriefingFiles:
    language: str
    html: Path
    text: Path
    eml: Path


@dataclass(frozen=True, slots=True)
class BriefingReport:
    municipality: str
    day: date
    sent: tuple[str, ...] = ()  # languages delivered by this call
    already_sent: tuple[str, ...] = ()  # languages delivered earlier (never twice)
    failed: tuple[tuple[str, str], ...] = ()  # (language, error): archived, not sent; the next call retries
    files: tuple[BriefingFiles, ...] = ()
    briefings: tuple[Briefing, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def errors(self) -> list[str]:
        return [f"briefing {self.day} ({lang}): {err}" for lang, err in self.failed]


# --- the window and the data -----------------------------------------------------------------------------------
def briefing_window(profile: Profile, day: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC: the WINDOW_HOURS before `send_at` on `day` in the profile's zone."""
    hour, minute = (int(x) for x in profile.digest.send_at.split(":"))
    end = datetime.combine(day, time(hour, minute), tzinfo=profile.tz).astimezone(UTC)
    return end - timedelta(hours=defaults.WINDOW_HOURS), end


def briefing_languages(profile: Profile) -> list[str]:
    first = profile.digest_language
    return [first, "en"] if profile.digest.english_copy and first != "en" else [first]


def fetch_clippings(index: ClippingIndex, municipality: str, since: datetime, until: datetime) -> list[Clipping]:
    """Every relevant clipping of the municipality in [since, until), page by page."""
    out: dict[str, Clipping] = {}
    offset = 0
    while True:
        result = index.search(SearchQuery(municipality=municipality, since=since, until=until, relevant=True,
                                          limit=defaults.PAGE_SIZE, offset=offset))
        for hit in result.hits:
            out.setdefault(hit.clipping.id, hit.clipping)
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            return list(out.values())


def _story_key(c: Clipping) -> str:
    return c.cluster_id or c.id


def group_stories(clippings: Sequence[Clipping]) -> list[list[Clipping]]:
    groups: dict[str, list[Clipping]] = {}
    for c in clippings:
        groups.setdefault(_story_key(c), []).append(c)
    return list(groups.values())


def prominence(c: Clipping) -> int:
    """2: an official or body is named in the title; 1: in the lead; 0: further down."""
    best = 0
    for m in c.enrichment.mentions:
        if m.field == "title":
            return 2
        if m.start < defaults.LEAD_CHARS:
            best = 1
    return best


def _ts(c: Clipping) -> float:
    moment = when(c)
    return moment.timestamp() if moment else 0.0


def rank_stories(profile: Profile, stories: list[list[Clipping]]) -> list[list[Clipping]]:
    """Most important first: max severity (in tenths, so that 0.71 vs 0.70 does not outrank everything else),
    then prominence of the municipality's people in title/lead, then the best outlet tier (1 = major), then
    how many outlets ran it, then the newest."""
    def key(copies: list[Clipping]) -> tuple[float, int, int, int, float]:
        return (-round(max(c.max_severity for c in copies), 1), -max(prominence(c) for c in copies),
                min(profile.outlet(c.article.outlet).tier for c in copies), -len(copies),
                -max(_ts(c) for c in copies))
    return sorted(stories, key=key)


def _lead_copy(profile: Profile, copies: list[Clipping]) -> Clipping:
    """The copy shown for a story: its first publisher (the earliest copy, as `ClippingIndex.cluster` orders
    them); the others are listed as "also in". Copies published at the same moment: the major outlet's, then the
    more severe."""
    return min(copies, key=lambda c: (_ts(c), profile.outlet(c.article.outlet).tier, -c.max_severity))


def _flagged_copy(profile: Profile, copies: list[Clipping]) -> Clipping | None:
    flagged = [c for c in copies if c.enrichment.flags]
    if not flagged:
        return None
    return min(flagged, key=lambda c: (-c.max_severity, profile.outlet(c.article.outlet).tier, _ts(c)))


def story_status(copies: Sequence[Clipping]) -> str:
    """A story's response status: the furthest along the workflow (index.base.STATUSES order) of its copies, so
    answering or dismissing any copy settles the story."""
    return max((c.status for c in copies), key=lambda s: STATUSES.index(s) if s in STATUSES else 0, default="new")


def _status_line(profile: Profile, L: Locale, index: ClippingIndex, copies: Sequence[Clipping]) -> str:
    """The status and, when it was changed, who changed it and when (the newest change of the copy that has it)."""
    status = story_status(copies)
    if status == "new":
        return status_text(profile, L, status)
    holder = next(c for c in copies if c.status == status)
    history = [h for h in index.status_history(holder.id) if h.status == status]
    last = history[-1] if history else None
    return status_text(profile, L, status, last.by if last else None, last.at if last else None)


def is_silent(source: SourceHealth, now: datetime) -> bool:
    """Listed in the briefing: silent or failing by the same judgement `presswatch sources` uses."""
    health = assess(source, now, silent_min_h=defaults.SILENT_AFTER_H)
    return health.status in ("silent", "failing") or health.reason == "never_polled"


# --- view pieces -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NumberView:
    key: str
    label: str
    value: str
    average: str
    color: str


@dataclass(frozen=True, slots=True)
class CoverageRow:
    name: str
    note: str
    count: str
    negative: str


@dataclass(frozen=True, slots=True)
class SentimentView:
    label: str
    count: str
    share: str
    percent: float  # 0..100, for the bar
    color: str


@dataclass(frozen=True, slots=True)
class TrendSegment:
    percent: float  # 0..100 of the day's clippings
    color: str


@dataclass(frozen=True, slots=True)
class TrendRow:
    """One day of the 7-day tone trend: the 24-hour window ending at `send_at` on that morning."""
    label: str  # the morning's local date, as the briefing of that day is dated
    total: str
    counts: str  # "Negative 3, Neutral 2, Positive 0" (the text part and screen readers)
    segments: tuple[TrendSegment, ...]  # empty: no clipping that day
    today: bool


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    detail: str


SENTIMENTS = ("negative", "neutral", "positive")
_COLORS = {"clippings": "#111827", "critical": "#b91c1c", "misleading": "#b45309", "negative": "#4b5563",
           "neutral": "#9ca3af", "positive": "#15803d"}


def _source_name(profile: Profile, source_id: str) -> str:
    for group in (profile.sources.feeds, profile.sources.sites, profile.sources.releases):
        for src in group:
            if src.id == source_id:
                return f"{outlet_name(profile, src.outlet)} ({source_id})"
    return source_id


def _source_rows(profile: Profile, L: Locale, sources: list[SourceHealth], now: datetime) -> list[SourceRow]:
    rows = []
    for s in sources:
        if not is_silent(s, now):
            continue
        parts = []
        health = assess(s, now, silent_min_h=defaults.SILENT_AFTER_H)
        if s.last_new_item is None:
            parts.append(L.t("source_never"))
        elif health.reason == "quiet":
            days = int((now - s.last_new_item).total_seconds() // 86400)
            parts.append(f"{L.plural('days_silent', days)} "
                         f"({L.t('source_no_items_since', when=L.datetime(s.last_new_item, profile.tz))})")
        if s.consecutive_failures > 0:
            parts.append(L.plural("failures", s.consecutive_failures))
            if s.last_error:
                parts.append(L.t("source_last_error", error=" ".join(s.last_error.split())[:200]))
        rows.append(SourceRow(name=_source_name(profile, s.id), detail="; ".join(parts)))
    return rows


def _coverage(profile: Profile, L: Locale, clippings: list[Clipping], kind: str) -> list[CoverageRow]:
    total: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    for c in clippings:
        refs = c.enrichment.officials if kind == "official" else c.enrichment.bodies
        for ref in dict.fromkeys(refs):
            total[ref] += 1
            if c.enrichment.sentiment.label == "negative":
                negative[ref] += 1
    if kind == "official":
        meta = {o.id: (o.name, o.title) for o in profile.officials}
    else:
        meta = {b.id: (b.name, "") for b in profile.bodies}
    order = sorted(total, key=lambda r: (-total[r], meta.get(r, (r, ""))[0]))
    return [CoverageRow(name=meta.get(r, (r, ""))[0], note=meta.get(r, (r, ""))[1], count=L.number(total[r]),
                        negative=L.number(negative[r])) for r in order]


def _tone_trend(L: Locale, day: date, end: datetime, clippings: Sequence[Clipping]) -> list[TrendRow]:
    """The tone split per day for the TREND_DAYS mornings up to `day`, oldest first. Day k covers the 24 hours
    before send_at on `day - k`, so that today's row is exactly this briefing's window."""
    per_day: list[Counter[str]] = [Counter() for _ in range(defaults.TREND_DAYS)]
    for c in clippings:
        moment = when(c)
        if moment is None or moment >= end:
            continue
        k = int((end - moment) // timedelta(hours=defaults.WINDOW_HOURS))
        if k < defaults.TREND_DAYS:
            per_day[k][c.enrichment.sentiment.label] += 1
    rows = []
    for k in reversed(range(defaults.TREND_DAYS)):
        tally = per_day[k]
        total = sum(tally[label] for label in SENTIMENTS)
        segments = tuple(TrendSegment(100.0 * tally[label] / total, _COLORS[label])
                         for label in SENTIMENTS if total and tally[label])
        rows.append(TrendRow(label=L.date(day - timedelta(days=k)), total=L.number(total),
                             counts=", ".join(f"{L.t(f'sentiment_{label}')} {L.number(tally[label])}"
                                              for label in SENTIMENTS),
                             segments=segments, today=k == 0))
    return rows


# --- building ----------------------------------------------------------------------------------------------------
def build_briefing(profile: Profile, index: ClippingIndex, state: State, day: date, language: str,
                   now: datetime) -> Briefing:
    L = locale(language)
    tz = profile.tz
    start, end = briefing_window(profile, day)
    clippings = fetch_clippings(index, profile.id, start, end)
    before = fetch_clippings(index, profile.id, start - timedelta(days=defaults.AVERAGE_DAYS), start)
    days = float(defaults.AVERAGE_DAYS)

    stories = rank_stories(profile, group_stories(clippings))
    sentiment = Counter(c.enrichment.sentiment.label for c in clippings)
    flagged = [s for s in stories if any(c.enrichment.flags for c in s)]
    flagged.sort(key=lambda s: -max(c.max_severity for c in s))
    # Dismissed by the press office: still in the numbers (critical, misleading), no longer "needs a response".
    dismissed = [s for s in flagged if story_status(s) == "dismissed"]
    flagged = [s for s in flagged if story_status(s) != "dismissed"]
    sources = _source_rows(profile, L, state.sources(profile.id), now)

    counts = BriefingCounts(
        clippings=len(clippings), stories=len(stories),
        critical=sum(c.enrichment.critical for c in clippings),
        misleading=sum(c.enrichment.misleading for c in clippings),
        negative=sentiment["negative"], neutral=sentiment["neutral"], positive=sentiment["positive"],
        needs_response=len(flagged), silent_sources=len(sources), dismissed=len(dismissed),
        avg_clippings=len(before) / days,
        avg_critical=sum(c.enrichment.critical for c in before) / days,
        avg_misleading=sum(c.enrichment.misleading for c in before) / days,
        avg_negative=sum(c.enrichment.sentiment.label == "negative" for c in before) / days,
    )

    numbers = [
        NumberView(key, L.t(f"num_{key}"), L.number(value), L.t("avg_short", value=L.number(avg, 1)),
                   _COLORS[key] if value else "#111827")
        for key, value, avg in (
            ("clippings", counts.clippings, counts.avg_clippings),
            ("critical", counts.critical, counts.avg_critical),
            ("misleading", counts.misleading, counts.avg_misleading),
            ("negative", counts.negative, counts.avg_negative),
        )
    ]
    needs_response: list[StoryView] = []
    for copies in flagged[: defaults.NEEDS_RESPONSE_MAX]:
        lead = _flagged_copy(profile, copies) or _lead_copy(profile, copies)
        needs_response.append(story_view(profile, L, lead, copies,
                                         status=_status_line(profile, L, index, copies)))
    top = [story_view(profile, L, _lead_copy(profile, copies), copies)
           for copies in stories[: defaults.TOP_STORIES]]
    total = max(len(clippings), 1)
    tone = [SentimentView(L.t(f"sentiment_{label}"), L.number(sentiment[label]),
                          L.percent(sentiment[label] / total), 100.0 * sentiment[label] / total, _COLORS[label])
            for label in SENTIMENTS]
    # The trend's reference is the same as the headline numbers': the AVERAGE_DAYS before the window.
    trend = _tone_trend(L, day, end, clippings + before)
    trend_note = L.t("sentiment_trend_note", today=L.percent(counts.negative / total),
                     average=L.percent(counts.avg_negative * days / len(before)) if before else "–")

    name = profile.municipality.name
    subject = L.t("briefing_subject", municipality=name, date=L.date(day))
    if counts.needs_response:
        subject = f"{subject} ({L.t('subject_needs_response', n=L.number(counts.needs_response))})"
    preheader = L.plural("clippings", counts.clippings)
    preheader += ", " + (L.t("subject_needs_response", n=L.number(counts.needs_response))
                         if counts.needs_response else L.t("response_none"))
    context = dict(
        t=L.t, lang=language, subject=subject, preheader=preheader, municipality=name,
        title=L.t("briefing_title"), date_long=L.date_long(day),
        period=L.t("period", start=L.datetime(start, tz), end=L.datetime(end, tz),
                   timezone=profile.municipality.timezone),
        numbers=numbers, empty=not clippings,
        empty_text=L.t("empty_day", municipality=name, time=L.datetime(end, tz)),
        needs_response=needs_response, top=top,
        dismissed=L.t("response_dismissed", n=L.number(counts.dismissed)) if counts.dismissed else "",
        officials=_coverage(profile, L, clippings, "official"), bodies=_coverage(profile, L, clippings, "body"),
        tone=tone, trend=trend, trend_note=trend_note, sources=sources,
        footer=L.t("footer", operator=profile.operator.name, timezone=profile.municipality.timezone),
    )
    return Briefing(municipality=profile.id, day=day, language=language, period_start=start, period_end=end,
                    subject=subject, html=render_html("briefing.html.j2", **context),
                    text=render_text("briefing.txt.j2", **context), counts=counts)


# --- delivery ------------------------------------------------------------------------------------------------
def briefing_message(profile: Profile, day: date, language: str, subject: str, html: str, text: str,
                     now: datetime) -> EmailMessage:
    """The briefing as an email. Its Message-ID is derived from municipality, day and language, so that a resend
    after a crash (server accepted, ledger not yet written) is recognisably the same message."""
    return build_message(
        sender=profile.smtp.sender, sender_name=profile.operator.name, to=profile.digest.recipients,
        subject=subject, text=text, html=html, date=now.astimezone(profile.tz), language=language,
        msg_id=message_id(profile.smtp.sender, "briefing", profile.id, day.isoformat(), language),
        headers={"X-Presswatch-Kind": "briefing"},
    )


def _write_files(out_dir: Path, day: date, language: str, html: str, text: str, msg: EmailMessage) -> BriefingFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"briefing-{day.isoformat()}-{language}"
    html_path, text_path = stem.with_suffix(".html"), stem.with_suffix(".txt")
    html_path.write_text(html, encoding="utf-8")
    text_path.write_text(text, encoding="utf-8")
    return BriefingFiles(language, html_path, text_path, write_eml(msg, stem.with_suffix(".eml")))


def send_briefing(profile: Profile, index: ClippingIndex, state: State, day: date, now: datetime,
                  out_dir: Path | None = None) -> BriefingReport:
    """Build, archive, send and mark each language's briefing for `day`; never twice for the same day+language.

    Order matters: the briefing is archived (`state.briefing_store`) before the SMTP conversation and marked
    sent only after the server accepted it. A delivery failure leaves it archived and unsent, with its error,
    and the next call builds and sends it again. When `out_dir` is given, the html, txt and eml of each briefing
    built by this call (or, for one already sent, its archived copy) are written there."""
    sent: list[str] = []
    already: list[str] = []
    failed: list[tuple[str, str]] = []
    files: list[BriefingFiles] = []
    built: list[Briefing] = []
    key_day = day.isoformat()
    for language in briefing_languages(profile):
        row = state.briefing(profile.id, key_day, language)
        if row is not None and row["state"] == "sent":
            already.append(language)
            log.info("briefing %s %s (%s) already sent at %s", profile.id, key_day, language, row["sent_at"])
            if out_dir is not None:  # the files show what was sent: the archived copy, not a rebuild
                msg = briefing_message(profile, day, language, row["subject"], row["html"], row["text"],
                                       datetime.fromisoformat(row["sent_at"]) if row["sent_at"] else now)
                files.append(_write_files(out_dir, day, language, row["html"], row["text"], msg))
            continue
        briefing = build_briefing(profile, index, state, day, language, now)
        built.append(briefing)
        state.briefing_store(profile.id, key_day, language, briefing.subject, briefing.html, briefing.text)
        msg = briefing_message(profile, day, language, briefing.subject, briefing.html, briefing.text, now)
        if out_dir is not None:
            files.append(_write_files(out_dir, day, language, briefing.html, briefing.text, msg))
        try:
            if not profile.digest.recipients:
                raise DeliveryError(f"{profile.smtp.host}:{profile.smtp.port}",
                                    "digest.recipients is empty: nobody to send the briefing to", transient=False)
            send(profile, msg)
        except DeliveryError as exc:
            log.warning("briefing %s %s (%s) not sent: %s", profile.id, key_day, language, exc)
            state.briefing_failed(profile.id, key_day, language, str(exc))
            failed.append((language, str(exc)))
            continue
        state.briefing_sent(profile.id, key_day, language)
        sent.append(language)
    return BriefingReport(municipality=profile.id, day=day, sent=tuple(sent), already_sent=tuple(already),
                          failed=tuple(failed), files=tuple(files), briefings=tuple(built))


def preview(profile: Profile, index: ClippingIndex, state: State, day: date, now: datetime,
            out_dir: Path) -> BriefingReport:
    """Build every language's briefing for `day` and write the files; nothing is archived or sent."""
    files: list[BriefingFiles] = []
    built: list[Briefing] = []
    for language in briefing_languages(profile):
        briefing = build_briefing(profile, index, state, day, language, now)
        built.append(briefing)
        msg = briefing_message(profile, day, language, briefing.subject, briefing.html, briefing.text, now)
        files.append(_write_files(out_dir, day, language, briefing.html, briefing.text, msg))
    return BriefingReport(municipality=profile.id, day=day, files=tuple(files), briefings=tuple(built))


__all__ = ["Briefing", "BriefingCounts", "BriefingFiles", "BriefingReport", "briefing_languages",
           "briefing_window", "build_briefing", "preview", "send_briefing"]
