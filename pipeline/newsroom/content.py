"""The newsroom's content: outlets and articles, loaded from the YAML files under content/.

Articles are data, not code, so that whoever writes a new test case edits one YAML file and never a template.
Publication times are stored as ages ("published this many hours before the server started") so that the demo
always shows fresh news; `load_articles` turns them into aware UTC datetimes against a fixed `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

CONTENT_DIR = Path(__file__).resolve().parent / "content"
ARTICLES_DIR = CONTENT_DIR / "articles"

Sentiment = Literal["negative", "neutral", "positive"]
FeedKind = Literal["rss", "rss_dc", "atom", "rss_broken"]
_SENTIMENTS = ("negative", "neutral", "positive")
_FEED_KINDS = ("rss", "rss_dc", "atom", "rss_broken")
_EXPECT_KEYS = {"relevant", "officials", "bodies", "critical", "misleading", "sentiment", "trap", "note"}
_ARTICLE_KEYS = {
    "title", "lead", "body", "author", "section", "lang", "age_hours", "paywalled", "updated_age_hours",
    "syndicated_from", "expect", "listed", "location", "http_charset",
}


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Section:
    slug: str  # URL segment
    name: str  # what the navigation shows


@dataclass(frozen=True, slots=True)
class Feed:
    path: str  # relative to the outlet, e.g. "rss.xml"
    kind: FeedKind
    title: str
    sections: tuple[str, ...] = ()  # empty: every section not claimed by another feed of the outlet
    link_params: str = ""  # tracking parameters appended to item links (rel=canonical stays clean)


@dataclass(frozen=True, slots=True)
class Outlet:
    id: str
    name: str
    lang: str
    encoding: str  # what the pages and feeds are encoded in, and declare
    tier: int
    timezone: str  # local times on pages and in feeds are shown in this zone
    tagline: str
    section_path: str  # "sekcia" or "section": the URL segment before a section slug
    sections: tuple[Section, ...]
    feeds: tuple[Feed, ...] = ()
    sitemaps: bool = False  # serves sitemap.xml and news-sitemap.xml
    related_params: str = ""  # tracking parameters on "related articles" links

    def section(self, slug: str) -> Section:
        for s in self.sections:
            if s.slug == slug:
                return s
        raise KeyError(slug)


@dataclass(frozen=True, slots=True)
class Expect:
    """The ground truth a test can check against what the pipeline made of the article."""

    relevant: bool = False
    officials: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    critical: bool = False
    misleading: bool = False
    sentiment: Sentiment = "neutral"
    trap: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class NewsArticle:
    """One article as the newsroom serves it. `url` is absolute on the running server."""

    outlet: str
    slug: str
    title: str
    body: tuple[str, ...]
    author: str
    section: str
    lang: str
    published: datetime  # aware UTC
    expect: Expect
    lead: str | None = None
    updated: datetime | None = None  # aware UTC
    paywalled: bool = False
    syndicated_from: str | None = None  # "<outlet>/<slug>"
    listed: bool = True  # linked from home and section pages (False: reachable only via the news sitemap)
    location: Literal["dated", "interne"] = "dated"  # "interne": /hronske/interne/<slug>/, robots-disallowed
    http_charset: str | None = None  # overrides the charset in the Content-Type header (the mismatch trap)
    path: str = ""
    url: str = ""

    @property
    def key(self) -> str:
        return f"{self.outlet}/{self.slug}"

    @property
    def modified(self) -> datetime:
        return self.updated or self.published

    @property
    def crawlable(self) -> bool:
        """False for pages that robots.txt disallows: a polite crawler never fetches them."""
        return self.location == "dated"

    @property
    def text(self) -> str:
        """The full text (lead and body) as the author wrote it; a paywalled page serves only the lead."""
        return "\n\n".join(([self.lead] if self.lead else []) + list(self.body))

    @property
    def visible_text(self) -> str:
        """What the page shows a reader without a subscription; the expect block describes this text."""
        return (self.lead or "") if self.paywalled else self.text

    def to_eval_item(self) -> dict[str, Any]:
        """The article as an enrichment-contract input line with its ground truth under `gold`."""
        e = self.expect
        return {
            "id": self.key, "url": self.url, "outlet": self.outlet, "published": self.published.isoformat(),
            "lang": self.lang, "title": self.title, "text": self.visible_text,
            "gold": {"lang": self.lang, "relevant": e.relevant, "officials": list(e.officials),
                     "bodies": list(e.bodies), "sentiment": e.sentiment, "critical": e.critical,
                     "misleading": e.misleading, "trap": e.trap, "note": e.note},
        }


def article_path(outlet: str, slug: str, published: datetime, location: str = "dated") -> str:
    if location == "interne":
        return f"/{outlet}/interne/{slug}/"
    return f"/{outlet}/{published:%Y}/{published:%m}/{slug}/"


def _require(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        raise ContentError(f"{where}: missing key {key!r}")
    return data[key]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: {exc}") from None


def load_outlets(content_dir: Path = CONTENT_DIR) -> dict[str, Outlet]:
    path = content_dir / "outlets.yaml"
    data = _read_yaml(path)
    outlets: dict[str, Outlet] = {}
    for i, raw in enumerate(_require(data, "outlets", str(path))):
        where = f"{path}: outlets[{i}]"
        feeds = []
        for j, f in enumerate(raw.get("feeds", [])):
            if f.get("kind") not in _FEED_KINDS:
                raise ContentError(f"{where}.feeds[{j}]: kind must be one of {_FEED_KINDS}")
            feeds.append(Feed(path=f["path"], kind=f["kind"], title=f["title"],
                              sections=tuple(f.get("sections", ())), link_params=f.get("link_params", "")))
        outlet = Outlet(
            id=_require(raw, "id", where), name=_require(raw, "name", where), lang=_require(raw, "lang", where),
            encoding=raw.get("encoding", "utf-8"), tier=int(raw.get("tier", 2)),
            timezone=raw.get("timezone", "Europe/Bratislava"), tagline=raw.get("tagline", ""),
            section_path=raw.get("section_path", "sekcia"),
            sections=tuple(Section(s["slug"], s["name"]) for s in _require(raw, "sections", where)),
            feeds=tuple(feeds), sitemaps=bool(raw.get("sitemaps", False)),
            related_params=raw.get("related_params", ""),
        )
        "x".encode(outlet.encoding)  # an unknown codec fails here, at load, not on the first request
        outlets[outlet.id] = outlet
    return outlets


def parse_expect(raw: dict[str, Any], where: str) -> Expect:
    unknown = set(raw) - _EXPECT_KEYS
    if unknown:
        raise ContentError(f"{where}: unknown expect key(s) {sorted(unknown)}")
    sentiment = raw.get("sentiment", "neutral")
    if sentiment not in _SENTIMENTS:
        raise ContentError(f"{where}: expect.sentiment must be one of {_SENTIMENTS}")
    return Expect(
        relevant=bool(raw.get("relevant", False)), officials=tuple(raw.get("officials") or ()),
        bodies=tuple(raw.get("bodies") or ()), critical=bool(raw.get("critical", False)),
        misleading=bool(raw.get("misleading", False)), sentiment=sentiment, trap=raw.get("trap"),
        note=str(raw.get("note") or ""),
    )


def _hours(value: Any, where: str, key: str) -> timedelta:
    if not isinstance(value, int | float) or value < 0:
        raise ContentError(f"{where}: {key} must be a non-negative number of hours")
    return timedelta(hours=value)


def parse_article(outlet: Outlet, slug: str, raw: dict[str, Any], now: datetime, where: str) -> NewsArticle:
    unknown = set(raw) - _ARTICLE_KEYS
    if unknown:
        raise ContentError(f"{where}: unknown key(s) {sorted(unknown)}")
    body = _require(raw, "body", where)
    if isinstance(body, str):
        body = [body]
    section = raw.get("section", outlet.sections[0].slug)
    if section not in {s.slug for s in outlet.sections}:
        raise ContentError(f"{where}: section {section!r} is not one of outlet {outlet.id!r}'s sections")
    # Whole seconds: HTTP dates and RFC 822 have no finer resolution, and a page and its feed must agree.
    published = (now - _hours(_require(raw, "age_hours", where), where, "age_hours")).replace(microsecond=0)
    updated = None
    if raw.get("updated_age_hours") is not None:
        updated = (now - _hours(raw["updated_age_hours"], where, "updated_age_hours")).replace(microsecond=0)
        if updated < published:
            raise ContentError(f"{where}: updated_age_hours must be smaller than age_hours")
    location = raw.get("location", "dated")
    if location not in ("dated", "interne"):
        raise ContentError(f"{where}: location must be 'dated' or 'interne'")
    return NewsArticle(
        outlet=outlet.id, slug=slug, title=str(_require(raw, "title", where)),
        body=tuple(str(p).strip() for p in body), author=str(raw.get("author") or outlet.name),
        section=section, lang=str(raw.get("lang") or outlet.lang), published=published,
        expect=parse_expect(raw.get("expect") or {}, where), lead=raw.get("lead"), updated=updated,
        paywalled=bool(raw.get("paywalled", False)), syndicated_from=raw.get("syndicated_from"),
        listed=bool(raw.get("listed", True)), location=location, http_charset=raw.get("http_charset"),
        path=article_path(outlet.id, slug, published, location),
    )


def load_articles(outlets: dict[str, Outlet], now: datetime,
                  content_dir: Path = CONTENT_DIR) -> list[NewsArticle]:
    """Every article under content/articles/<outlet>/<slug>.yaml, newest first."""
    articles: list[NewsArticle] = []
    for path in sorted((content_dir / "articles").glob("*/*.yaml")):
        outlet_id = path.parent.name
        if outlet_id not in outlets:
            raise ContentError(f"{path}: no outlet {outlet_id!r} in outlets.yaml")
        raw = _read_yaml(path)
        if not isinstance(raw, dict):
            raise ContentError(f"{path}: expected a mapping")
        articles.append(parse_article(outlets[outlet_id], path.stem, raw, now, str(path)))
    keys = {a.key for a in articles}
    for a in articles:
        if a.syndicated_from and a.syndicated_from not in keys:
            raise ContentError(f"{a.key}: syndicated_from {a.syndicated_from!r} names no article")
    articles.sort(key=lambda a: (a.published, a.key), reverse=True)
    return articles


@dataclass(slots=True)
class Catalogue:
    """The outlets and the articles of a running newsroom; mutable only through `add` (under the server's lock)."""

    outlets: dict[str, Outlet]
    articles: list[NewsArticle] = field(default_factory=list)

    def of(self, outlet: str) -> list[NewsArticle]:
        return [a for a in self.articles if a.outlet == outlet]

    def find(self, outlet: str, slug: str) -> NewsArticle | None:
        for a in self.articles:
            if a.outlet == outlet and a.slug == slug:
                return a
        return None

    def add(self, article: NewsArticle) -> None:
        if self.find(article.outlet, article.slug) is not None:
            raise ValueError(f"article {article.key} exists already")
        self.articles.append(article)
        self.articles.sort(key=lambda a: (a.published, a.key), reverse=True)
