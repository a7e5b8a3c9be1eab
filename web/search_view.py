"""View models of the search page: the form's parameters, hit rows, facet groups, the volume chart.

Everything here is plain data for web/templates/search.html; article text never becomes markup. Highlights reach
the template as (text, marked) segments and the template escapes each one, so a `<script>` in a title or a
snippet is shown, not run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from presswatch import settings
from presswatch.digest.i18n import LANGUAGES, locale
from presswatch.index.base import Bucket, Facets, SearchHit, SearchQuery
from presswatch.index.query import FILTER_FIELDS, QueryError
from presswatch.profile import Profile
from presswatch.records import Clipping
from presswatch.web.i18n import WebText

# What the page counts, in the order of the sidebar; `day` is drawn as the volume chart, `week` replaces it when
# the result spans more than WEEKS_AFTER_DAYS days (a bar per day would be too thin to see or to point at).
PAGE_FACETS: tuple[str, ...] = ("outlet", "official", "body", "lang", "sentiment", "flag", "status", "day", "week")
LIST_FACETS: tuple[str, ...] = ("outlet", "official", "body", "lang", "sentiment", "flag", "status")
WEEKS_AFTER_DAYS = 90
MAX_PAGE = 10_000  # a page number past this is a typo or a probe, not a reader

# A field filter as written in a query: `outlet:horcan`, `-flag:critical`, `official:"a b"`, `date:2026-11`
# (index/query.py's syntax).
_FILTER_IN_QUERY = re.compile(r'(?<!\S)(-?)(' + "|".join((*FILTER_FIELDS, "date")) + r'):("[^"]*"|[^\s()"]+)',
                              re.IGNORECASE)
_NEEDS_QUOTES = re.compile(r'[\s()"„“”«»]')


@dataclass(frozen=True, slots=True)
class SearchForm:
    """The search's parameters as the URL carries them (the page, its pagination and the export share them)."""

    q: str = ""
    all: bool = False  # include clippings not about the municipality (relevant=None)
    flat: bool = False  # one row per clipping instead of one per story
    page: int = 1

    @classmethod
    def from_args(cls, args: dict[str, str]) -> SearchForm:
        try:
            number = int(args.get("page", "1"))
        except ValueError:
            number = 1
        return cls(q=args.get("q", "").strip(), all=args.get("all") == "1", flat=args.get("flat") == "1",
                   page=min(max(number, 1), MAX_PAGE))

    def query(self, profile: Profile, limit: int | None = None, page: int | None = None) -> SearchQuery:
        """The same query `presswatch search` builds (pipeline/cli.py: _search_query), for one page."""
        size = limit or settings.WEB_PAGE_SIZE
        return SearchQuery(text=self.q, municipality=profile.id, relevant=None if self.all else True,
                           collapse=not self.flat, limit=size, offset=((page or self.page) - 1) * size,
                           tz=profile.municipality.timezone)

    def params(self, **changes: object) -> str:
        """The URL query string of this search with `changes` applied (page 1 unless given: a new filter starts
        over); empty parameters are left out."""
        form = replace(self, page=1)
        form = replace(form, **changes)  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = []
        if form.q:
            pairs.append(("q", form.q))
        if form.all:
            pairs.append(("all", "1"))
        if form.flat:
            pairs.append(("flat", "1"))
        if form.page > 1:
            pairs.append(("page", str(form.page)))
        return urlencode(pairs)

    def url(self, **changes: object) -> str:
        params = self.params(**changes)
        return "/search" + ("?" + params if params else "")

    def export_url(self, fmt: str) -> str:
        """The whole result (every page) as a download; the page number does not matter."""
        params = self.params()
        return f"/search/export?format={fmt}" + ("&" + params if params else "")


# --- highlights ----------------------------------------------------------------------------------------------
def snippet_segments(snippet: str) -> list[tuple[str, bool]]:
    """The index's snippet ("… [match] …") as (text, is_match) segments. A bracket without its partner is text."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in re.finditer(r"\[([^\[\]]+)\]", snippet):
        if m.start() > pos:
            out.append((snippet[pos:m.start()], False))
        out.append((m.group(1), True))
        pos = m.end()
    if pos < len(snippet):
        out.append((snippet[pos:], False))
    return out


@dataclass(frozen=True, slots=True)
class QueryProblem:
    """A query the user must fix (search box, saved-search form): the reason, and the query cut around the
    position it points at as (before, at, after), so a template can mark the spot with everything escaped."""

    reason: str
    position: int | None
    before: str
    at: str
    after: str

    @property
    def has_position(self) -> bool:
        return self.position is not None

    @classmethod
    def of(cls, exc: QueryError, q: str) -> QueryProblem:
        shown = exc.query or q
        pos = exc.position
        if pos is None or not 0 <= pos <= len(shown):
            return cls(exc.reason, None, shown, "", "")
        # at the end of the query the problem is what is missing: point at a blank after it
        return cls(exc.reason, pos, shown[:pos], shown[pos:pos + 1] or " ", shown[pos + 1:])


# --- hit rows ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Copy:
    id: str
    outlet: str


@dataclass(frozen=True, slots=True)
class HitRow:
    id: str
    title: str
    outlet: str
    when: str
    iso: str  # the same moment for <time datetime>
    lang: str
    flags: tuple[tuple[str, str], ...]  # (css class, label)
    sentiment: tuple[str, str] | None  # only negative and positive get a badge; neutral is the quiet default
    status: str
    status_key: str
    segments: list[tuple[str, bool]]
    officials: tuple[str, ...]
    copies: tuple[Copy, ...]


def language_name(code: str) -> str:
    """A language by its own name (slovenčina, English); an unknown code as itself."""
    if code in LANGUAGES:
        name = locale(code).name
        return name[:1].upper() + name[1:]
    return code


def official_name(profile: Profile, key: str) -> str:
    return next((o.name for o in profile.officials if o.id == key), key)


def body_name(profile: Profile, key: str) -> str:
    return next((b.name for b in profile.bodies if b.id == key), key)


def _moment(c: Clipping) -> datetime | None:
    return c.article.published or c.article.fetched_at or c.indexed_at


def hit_row(hit: SearchHit, profile: Profile, text: WebText) -> HitRow:
    c, e = hit.clipping, hit.clipping.enrichment
    moment = _moment(c)
    flags = tuple((kind, text.t(f"flag_{kind}")) for kind, on in (("critical", e.critical),
                                                                  ("misleading", e.misleading)) if on)
    label = e.sentiment.label
    sentiment = (label, text.t(f"sentiment_{label}")) if label in ("negative", "positive") else None
    return HitRow(
        id=c.id, title=c.article.title or c.article.url, outlet=profile.outlet(c.article.outlet).name,
        when=text.datetime(moment, profile.tz) if moment else "",
        iso=moment.astimezone(profile.tz).isoformat(timespec="minutes") if moment else "", lang=language_name(e.lang or c.article.lang or ""),
        flags=flags, sentiment=sentiment, status=text.status(c.status), status_key=c.status,
        segments=snippet_segments(hit.snippet), officials=tuple(official_name(profile, o) for o in e.officials),
        copies=tuple(Copy(x.id, profile.outlet(x.article.outlet).name) for x in hit.copies))


# --- facets --------------------------------------------------------------------------------------------------
def filter_token(field: str, value: str) -> str:
    """`field:value` as the query language reads it, quoted when the value would otherwise end early."""
    return f'{field}:"{value}"' if _NEEDS_QUOTES.search(value) else f"{field}:{value}"


def selected_filters(q: str) -> dict[tuple[str, str], tuple[int, int]]:
    """{(field, value): span in q} of the positive field filters written in `q` (values unquoted, lower case)."""
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for m in _FILTER_IN_QUERY.finditer(q):
        if not m.group(1):
            out.setdefault((m.group(2).lower(), m.group(3).strip('"').lower()), m.span())
    return out


def without(q: str, span: tuple[int, int]) -> str:
    return " ".join((q[:span[0]] + " " + q[span[1]:]).split())


@dataclass(frozen=True, slots=True)
class FacetBucket:
    label: str
    count: str
    href: str
    selected: bool


@dataclass(frozen=True, slots=True)
class FacetGroup:
    name: str
    label: str
    buckets: tuple[FacetBucket, ...]


def bucket_label(profile: Profile, text: WebText, facet: str, key: str) -> str:
    if facet == "outlet":
        return profile.outlet(key).name
    if facet == "official":
        return official_name(profile, key)
    if facet == "body":
        return body_name(profile, key)
    if facet == "lang":
        return language_name(key)
    if facet in ("sentiment", "flag", "status") and f"{facet}_{key}" in text.labels:
        return text.t(f"{facet}_{key}")
    return key


def facet_groups(facets: Facets, form: SearchForm, profile: Profile, text: WebText) -> list[FacetGroup]:
    """The sidebar: each bucket links to the search narrowed by it, or, when its filter is already in the
    query, to the search without it."""
    chosen = selected_filters(form.q)
    groups: list[FacetGroup] = []
    for name in LIST_FACETS:
        buckets: list[FacetBucket] = []
        for b in facets.counts.get(name, ()):
            span = chosen.get((name, b.key.lower()))
            q = without(form.q, span) if span else f"{form.q} {filter_token(name, b.key)}".strip()
            buckets.append(FacetBucket(bucket_label(profile, text, name, b.key), text.number(b.count),
                                       form.url(q=q), span is not None))
        groups.append(FacetGroup(name, text.t(f"search_facet_{name}"), tuple(buckets)))
    return groups


def active_filters(form: SearchForm, profile: Profile, text: WebText) -> list[tuple[str, str]]:
    """(label, URL without it) for every field filter in the query, so each can be removed with one click."""
    out = []
    for (name, value), span in selected_filters(form.q).items():
        out.append((f"{text.t(f'search_facet_{name}')}: {bucket_label(profile, text, name, value)}",
                    form.url(q=without(form.q, span))))
    return out


# --- volume over time ----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # the day or week as the reader writes it
    count: int
    count_text: str


@dataclass(frozen=True, slots=True)
class Chart:
    weekly: bool
    bars: tuple[Bar, ...]
    width: int
    height: int
    peak: int
    first: str
    last: str


CHART_WIDTH, CHART_HEIGHT = 600, 100


def _week_days(key: str) -> tuple[date, date]:
    year, week = key.split("-W")
    first = date.fromisocalendar(int(year), int(week), 1)
    return first, first + timedelta(days=6)


def volume_chart(facets: Facets, text: WebText) -> Chart | None:
    """The day facet as bars (week bars past WEEKS_AFTER_DAYS days). Coordinates are in a fixed viewBox that the
    SVG stretches to the page's width; the bars are not links (the chart is one image to assistive technology,
    which reads the table beside it instead)."""
    days: Sequence[Bucket] = facets.counts.get("day", ())
    if not days:
        return None
    weekly = len(days) > WEEKS_AFTER_DAYS and bool(facets.counts.get("week"))
    buckets = facets.counts["week"] if weekly else days
    peak = max(b.count for b in buckets) or 1
    slot = CHART_WIDTH / len(buckets)
    gap = min(2.0, slot * 0.2)
    bars = []
    for i, b in enumerate(buckets):
        if weekly:
            first, last = _week_days(b.key)
            label = f"{text.date(first)} – {text.date(last)}"
        else:
            label = text.date(date.fromisoformat(b.key))
        height = 0.0 if b.count == 0 else max(1.0, CHART_HEIGHT * b.count / peak)
        bars.append(Bar(x=round(i * slot + gap / 2, 2), y=round(CHART_HEIGHT - height, 2),
                        width=round(max(slot - gap, 0.5), 2), height=round(height, 2), label=label, count=b.count,
                        count_text=text.number(b.count)))
    return Chart(weekly=weekly, bars=tuple(bars), width=CHART_WIDTH, height=CHART_HEIGHT, peak=peak,
                 first=text.date(date.fromisoformat(days[0].key)), last=text.date(date.fromisoformat(days[-1].key)))


# --- pagination ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Pager:
    page: int
    pages: int
    prev: str | None
    next: str | None


def pager(form: SearchForm, total: int, size: int) -> Pager:
    pages = max(1, math.ceil(total / size))
    return Pager(page=form.page, pages=pages,
                 prev=form.url(page=form.page - 1) if form.page > 1 else None,
                 next=form.url(page=form.page + 1) if form.page < pages else None)


__all__ = ["Chart", "FacetGroup", "HitRow", "PAGE_FACETS", "Pager", "QueryProblem", "SearchForm", "active_filters",
           "facet_groups", "filter_token", "hit_row", "pager", "snippet_segments", "volume_chart"]
