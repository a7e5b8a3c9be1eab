"""What the templates show, already localised: small frozen records built from clippings and the profile.

Templates stay layout only; every word, date and number is prepared here in the reader's language. Values
taken from articles are left as plain strings; the HTML environment escapes them (digest/render.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from presswatch.digest import defaults
from presswatch.digest.i18n import Locale
from presswatch.digest.render import one_line, safe_url
from presswatch.profile import Profile
from presswatch.records import Clipping, Flag, Reason

FLAG_ORDER = {"critical": 0, "misleading": 1}


@dataclass(frozen=True, slots=True)
class ReasonView:
    cue: str
    quote: str  # already in the language's quotation marks
    record: str | None  # for misleading: the official record contradicted
    record_url: str | None = None  # the municipality's release that states it (links only http/https)


@dataclass(frozen=True, slots=True)
class FlagView:
    type: str  # critical | misleading
    label: str
    severity: str  # localised percentage
    reasons: tuple[ReasonView, ...]


@dataclass(frozen=True, slots=True)
class StoryView:
    id: str
    title: str
    url: str | None  # http(s) only; None: shown without a link
    outlet: str
    major: bool  # outlet tier 1
    published: str
    flags: tuple[FlagView, ...]
    flag_summary: str  # "Critical · Severity 85 %"
    also_in: str | None
    officials: str | None  # "Named: A, B"
    lead: str  # the first sentence or so of the text
    status: str | None = None  # "Response: drafted (Jana, 21 November 2026, 18:00)"; None: not shown


# The press office's response status, localised (index.base.STATUSES). Written out key by key so that
# tests/test_digest_i18n.py sees every label used.
STATUS_LABELS: dict[str, Callable[[Locale], str]] = {
    "new": lambda L: L.t("status_new"),
    "acknowledged": lambda L: L.t("status_acknowledged"),
    "drafted": lambda L: L.t("status_drafted"),
    "published": lambda L: L.t("status_published"),
    "dismissed": lambda L: L.t("status_dismissed"),
}


def status_text(profile: Profile, L: Locale, status: str, by: str | None = None,
                at: datetime | None = None) -> str:
    """"Response: drafted (Jana, 21 November 2026, 18:00)", or without who/when when unknown."""
    label = STATUS_LABELS[status](L) if status in STATUS_LABELS else status
    if by and at is not None:
        return L.t("response_status_by", status=label, by=by, when=L.datetime(at, profile.tz))
    return L.t("response_status", status=label)


def when(c: Clipping) -> datetime | None:
    """The moment a clipping counts for: its publication, else when it was fetched (as the index filters)."""
    return c.article.published or c.article.fetched_at or c.indexed_at


def outlet_name(profile: Profile, outlet_id: str) -> str:
    return profile.outlet(outlet_id).name


def official_names(profile: Profile, ids: Iterable[str]) -> list[str]:
    names = {o.id: o.name for o in profile.officials}
    return [names.get(i, i) for i in ids]


def body_names(profile: Profile, ids: Iterable[str]) -> list[str]:
    names = {b.id: b.name for b in profile.bodies}
    return [names.get(i, i) for i in ids]


def _record(profile: Profile, reason: Reason) -> str | None:
    if reason.record:
        return one_line(reason.record)
    if reason.fact_id:
        for fact in profile.facts:
            if fact.id == reason.fact_id:
                return one_line(fact.statement)
    return None


def flag_views(profile: Profile, L: Locale, flags: Sequence[Flag],
               max_reasons: int = defaults.REASONS_PER_FLAG) -> tuple[FlagView, ...]:
    out = []
    for flag in sorted(flags, key=lambda f: (FLAG_ORDER.get(f.type, 9), -f.severity)):
        reasons = tuple(
            ReasonView(cue=one_line(r.cue), quote=L.quote(one_line(r.quote, defaults.QUOTE_MAX_CHARS)),
                       record=_record(profile, r), record_url=safe_url(r.record_url))
            for r in flag.reasons[:max_reasons]
        )
        out.append(FlagView(type=flag.type, label=L.t(f"flag_{flag.type}"), severity=L.percent(flag.severity),
                            reasons=reasons))
    return tuple(out)


def flag_summary(L: Locale, flags: Sequence[FlagView], severity: float) -> str:
    if not flags:
        return ""
    labels = " + ".join(dict.fromkeys(f.label for f in flags))
    return f"{labels} · {L.t('severity')} {L.percent(severity)}"


def also_in(profile: Profile, L: Locale, lead: Clipping, copies: Sequence[Clipping]) -> str | None:
    """The other outlets that ran the story, major outlets first: "Also in: A, B and 3 more"."""
    others = sorted((c for c in copies if c.id != lead.id), key=lambda c: profile.outlet(c.article.outlet).tier)
    names = [n for n in dict.fromkeys(outlet_name(profile, c.article.outlet) for c in others)
             if n != outlet_name(profile, lead.article.outlet)]
    if not names:
        return None
    shown = names[: defaults.ALSO_IN_MAX]
    listed = L.join(shown)
    if len(names) > len(shown):
        listed = f"{listed} {L.plural('more', len(names) - len(shown))}"
    return L.t("also_in", outlets=listed)


def _lead_text(text: str) -> str:
    return one_line(text, 220)


def story_view(profile: Profile, L: Locale, lead: Clipping, copies: Sequence[Clipping] = (),
               with_flags: bool = True, status: str | None = None) -> StoryView:
    moment = when(lead)
    flags = flag_views(profile, L, lead.enrichment.flags) if with_flags else ()
    named = official_names(profile, lead.enrichment.officials)
    return StoryView(
        id=lead.id,
        title=one_line(lead.article.title) or lead.article.url,
        url=safe_url(lead.article.url),
        outlet=outlet_name(profile, lead.article.outlet),
        major=profile.outlet(lead.article.outlet).tier == 1,
        published=L.datetime(moment, profile.tz) if moment else "",
        flags=flags,
        flag_summary=flag_summary(L, flags, lead.max_severity),
        also_in=also_in(profile, L, lead, copies),
        officials=L.t("officials_named", names=L.join(named)) if named else None,
        lead=_lead_text(lead.article.text),
        status=status,
    )
